/* SPDX-License-Identifier: MIT */
/*
 * NEIGH messages (docs/protocol.md §13): the shared neighbour cache rides on
 * the group like any other message (sealed, checked, in the view) but
 * changes nothing of the ownership protocol. This file queues them out and
 * keeps the delivered ones until the next drain hands them to sink.neigh.
 */
#include <stdlib.h>

#include "proto-internal.h"

/* Delivered but not yet drained: the daemon drains after every input, so this is a bound, not a buffer. */
#define NEIGH_INBOX_MAX 64

static size_t neigh_queued(const struct vip_cl_proto *p)
{
	size_t n = 0;

	for (size_t i = p->sq.head; i < p->sq.len; i++)
		n += ((const struct sact *)p->sq.items)[i].type == VIP_CL_MSG_NEIGH;
	return n;
}

int vip_cl_proto_send_neigh(struct vip_cl_proto *p, const struct vip_cl_msg *m)
{
	if (!m || m->type != VIP_CL_MSG_NEIGH)
		return -EINVAL;
	/* a corosync that refuses sends must not make them pile up: the caller keeps its changes */
	if (neigh_queued(p) >= VIP_CL_NEIGH_QUEUE_MAX)
		return -EAGAIN;
	return vip_cl_queue_send(p, m);
}

int vip_cl_neigh_deliver(struct vip_cl_proto *p, const struct pmember *m, struct vip_cl_msg *msg)
{
	/* a monitor learns nothing; an engine speaks only for its own node */
	if (m->monitor || (m->name && strcmp(m->name, msg->name)) || p->n_neigh_in >= NEIGH_INBOX_MAX) {
		p->st.n_stale++;
		return 0;
	}
	if (!p->neigh_in) {
		p->neigh_in = calloc(NEIGH_INBOX_MAX, sizeof(*p->neigh_in));
		if (!p->neigh_in)
			return -ENOMEM;
	}
	p->neigh_in[p->n_neigh_in++] = *msg;
	*msg = (struct vip_cl_msg){ 0 };
	p->st.n_neigh++;
	return 0;
}

size_t vip_cl_neigh_drain(struct vip_cl_proto *p, const struct vip_cl_sink *s)
{
	size_t n = p->n_neigh_in;

	for (size_t i = 0; i < n; i++) {
		if (s->neigh)
			s->neigh(s->data, &p->neigh_in[i]);
		vip_cl_msg_clear(&p->neigh_in[i]);
	}
	p->n_neigh_in = 0;
	return n;
}

void vip_cl_neigh_free(struct vip_cl_proto *p)
{
	for (size_t i = 0; i < p->n_neigh_in; i++)
		vip_cl_msg_clear(&p->neigh_in[i]);
	free(p->neigh_in);
	p->neigh_in = NULL;
	p->n_neigh_in = 0;
}

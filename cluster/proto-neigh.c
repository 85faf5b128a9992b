/* SPDX-License-Identifier: MIT */
/*
 * NEIGH messages (docs/protocol.md §13): the shared neighbour cache rides on
 * the group like any other message (sealed, checked, in the view) but
 * changes nothing of the ownership protocol. They go out through the
 * message queue (proto-queue.c); this file keeps the delivered ones until
 * the next drain hands them to sink.neigh.
 */
#include <stdlib.h>

#include "proto-internal.h"

/* Delivered but not yet drained: the daemon drains after every input, so this is a bound, not a buffer. */
#define NEIGH_INBOX_MAX 64

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

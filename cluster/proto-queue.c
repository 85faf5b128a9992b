/* SPDX-License-Identifier: MIT */
/*
 * The protocol's outputs: two queues and one drain (docs/protocol.md,
 * "Outputs").
 *
 *   - local actions (hold, release) for the engine. They are handed out in
 *     full at every drain: a release never waits for the network, so a
 *     corosync that refuses sends (flow control, a hung ring) cannot keep
 *     an address plumbed that this node was told to give up;
 *   - messages to multicast, in order. A send refused with -EAGAIN stays at
 *     the head; any other error drops the message (counted). At most one
 *     STATE waits: a newer STATE replaces the unsent one (and goes to the
 *     tail, so this node's messages keep their order). Releases
 *     reported one by one go into the RELEASED at the tail while it is
 *     unsent, so 10,000 releases are one message.
 */
#include <stdlib.h>

#include "proto-internal.h"

static void *fifo_at(const struct fifo *f, size_t i, size_t size)
{
	return (uint8_t *)f->items + i * size;
}

#define FIFO_FIRST_CAP 32

static void *fifo_push(struct fifo *f, size_t size)
{
	if (f->head > 0 && f->head == f->len)
		f->head = f->len = 0;
	if (f->len == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : FIFO_FIRST_CAP;
		void *n = realloc(f->items, cap * size);
		if (!n)
			return NULL;
		f->items = n;
		f->cap = cap;
	}
	void *e = fifo_at(f, f->len++, size);
	memset(e, 0, size);
	return e;
}

/*
 * An empty FIFO starts again at its head, and gives a grown buffer back:
 * start-up queues a HOLD per DuraVIP (240 kB at 10,000), once.
 */
static void fifo_settle(struct fifo *f)
{
	if (f->head < f->len)
		return;
	f->head = f->len = 0;
	if (f->cap > FIFO_FIRST_CAP) {
		free(f->items);
		f->items = NULL;
		f->cap = 0;
	}
}

int vip_cl_queue_local(struct vip_cl_proto *p, enum lact_type t, const struct vip_addr *a)
{
	struct lact *e = fifo_push(&p->lq, sizeof(*e));

	if (!e)
		return -ENOMEM;
	*e = (struct lact){ .type = t, .addr = *a };
	return 0;
}

static struct sact *find_state(const struct vip_cl_proto *p)
{
	for (size_t i = p->sq.head; i < p->sq.len; i++) {
		struct sact *e = fifo_at(&p->sq, i, sizeof(*e));
		if (e->type == VIP_CL_MSG_STATE)
			return e;
	}
	return NULL;
}

bool vip_cl_queue_has_state(const struct vip_cl_proto *p)
{
	return find_state(p) != NULL;
}

int vip_cl_queue_send(struct vip_cl_proto *p, const struct vip_cl_msg *m)
{
	uint8_t *data;
	size_t len;
	int r = vip_cl_msg_encode(m, &data, &len);

	if (r < 0)
		return r;
	struct sact *old = m->type == VIP_CL_MSG_STATE ? find_state(p) : NULL;
	if (old) {
		/* the newer STATE says all the older one did; it goes to the tail,
		 * so our messages keep their order (proto-local.c: rel_serial) */
		free(old->data);
		*old = (struct sact){ .type = SACT_NONE };
	}
	struct sact *e = fifo_push(&p->sq, sizeof(*e));
	if (!e) {
		free(data);
		return -ENOMEM;
	}
	*e = (struct sact){ .type = m->type, .data = data, .len = len, .serial = m->serial };
	return 0;
}

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

int vip_cl_queue_released(struct vip_cl_proto *p, const struct vip_addr *addr)
{
	struct sact *t = p->sq.len > p->sq.head ? fifo_at(&p->sq, p->sq.len - 1, sizeof(*t)) : NULL;

	if (!t || t->type != VIP_CL_MSG_RELEASED || t->data) {
		struct vip_addr *b = malloc(16 * sizeof(*b));
		if (!b || !(t = fifo_push(&p->sq, sizeof(*t)))) {
			free(b);
			return -ENOMEM;
		}
		*t = (struct sact){ .type = VIP_CL_MSG_RELEASED, .batch = b, .cap_batch = 16 };
	}
	if (t->n_batch == t->cap_batch) {
		struct vip_addr *nb = realloc(t->batch, t->cap_batch * 2 * sizeof(*nb));
		if (!nb)
			return -ENOMEM;
		t->batch = nb;
		t->cap_batch *= 2;
	}
	t->batch[t->n_batch++] = *addr;
	return 0;
}

static void sact_free(struct sact *e)
{
	free(e->data);
	free(e->batch);
}

/*
 * A dropped RELEASED: forget that it is pending and sweep again a round
 * timeout later (on_tick), so it is said again; until then the group keeps
 * counting this node as a holder, which is safe.
 */
static void released_dropped(struct vip_cl_proto *p, const struct sact *e)
{
	for (size_t i = 0; i < e->n_batch; i++) {
		struct pvip *t = vip_cl_table_find(p, &e->batch[i]);
		if (t)
			t->rel_pending = false;
	}
	if (!p->resweep) {
		p->resweep = true;
		p->resweep_due = p->last_now + p->round_timeout_ms;
	}
}

/*
 * Seal e at the moment it goes out (docs/protocol.md, "Authentication"):
 * this member as corosync delivers it, the view it is in now and the next
 * sequence number; a refused send is sealed again with a new one. With a
 * key and no view there is no identity to seal with: dropped, like a send
 * without a connection (the next view starts a new round).
 */
static int seal(struct vip_cl_proto *p, struct sact *e)
{
	static const struct vip_cl_member nobody = { 0 };
	bool in = p->self >= 0 && (size_t)p->self < p->n_m;

	if (p->key && !in)
		return -ENOTCONN;
	return vip_cl_auth_seal(p->key, in ? &p->m[p->self].id : &nobody, in ? p->view_digest : 0,
				++p->auth_seq, e->data, e->len);
}

/* Offer the head message to s->send: 0 sent or dropped, -EAGAIN kept, -ENOMEM (not offered). */
static int send_head(struct vip_cl_proto *p, const struct vip_cl_sink *s)
{
	struct sact *e = fifo_at(&p->sq, p->sq.head, sizeof(*e));

	if (e->type == SACT_NONE) { /* a STATE replaced by a newer one */
		p->sq.head++;
		return 1;
	}

	if (!e->data) {
		struct vip_cl_msg m = {
			.type = VIP_CL_MSG_RELEASED,
			.addrs = e->batch,
			.n_addrs = e->n_batch,
		};
		int r = vip_cl_msg_encode(&m, &e->data, &e->len);
		if (r < 0)
			return r;
	}
	int r = seal(p, e);
	if (r == 0)
		r = s->send(s->data, e->data, e->len);
	e = fifo_at(&p->sq, p->sq.head, sizeof(*e));
	if (r == -EAGAIN && e->batch) {
		/* still unsent: keep the batch open for more releases */
		free(e->data);
		e->data = NULL;
	}
	if (r == -EAGAIN)
		return r;
	if (r < 0) {
		p->st.n_send_dropped++;
		if (e->batch)
			released_dropped(p, e);
	}
	sact_free(e);
	p->sq.head++;
	return 0;
}

int vip_cl_proto_drain(struct vip_cl_proto *p, const struct vip_cl_sink *s, bool *ret_blocked)
{
	bool blocked = false;
	int n = (int)vip_cl_neigh_drain(p, s), r = 0;

	for (;;) {
		if (p->lq.head < p->lq.len) {
			/* copy and pop first: hold/release may queue more */
			struct lact a = *(struct lact *)fifo_at(&p->lq, p->lq.head++, sizeof(a));
			if (a.type == LACT_HOLD)
				s->hold(s->data, &a.addr);
			else
				s->release(s->data, &a.addr);
			n++;
			continue;
		}
		if (blocked || p->sq.head == p->sq.len)
			break;
		r = send_head(p, s);
		if (r == -EAGAIN) {
			blocked = true;
			r = 0;
		} else if (r < 0) {
			break;
		} else {
			n += r == 0;
			r = 0;
		}
	}
	fifo_settle(&p->lq);
	fifo_settle(&p->sq);
	if (ret_blocked)
		*ret_blocked = blocked;
	return r < 0 ? r : n;
}

void vip_cl_queue_free(struct vip_cl_proto *p)
{
	for (size_t i = p->sq.head; i < p->sq.len; i++)
		sact_free(fifo_at(&p->sq, i, sizeof(struct sact)));
	free(p->sq.items);
	free(p->lq.items);
	p->sq = p->lq = (struct fifo){ 0 };
}

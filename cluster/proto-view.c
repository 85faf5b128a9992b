/* SPDX-License-Identifier: MIT */
/*
 * A new view (docs/protocol.md, "Views"): the members, what is known of
 * them, and a new STATE round.
 *
 * What a member's last STATE said (and what the group told it to plumb
 * since) is kept while the same process (nodeid, pid) stays in the view, so
 * that if it falls silent the others still count it as holding it. It is
 * also remembered for a while after the member leaves: a stopped vipd cut
 * off from the group and back again (same process, still stopped) has kept
 * its addresses plumbed, and nobody may plumb them while it is silent.
 * An engine that left while a monitor of its node stays becomes a ghost
 * (proto-ghost.c).
 */
#include <stdlib.h>

#include "proto-internal.h"

void vip_cl_members_free(struct vip_cl_proto *p)
{
	for (size_t i = 0; i < p->n_m; i++) {
		free(p->m[i].name);
		vip_cl_recs_free(p, p->m[i].records, p->m[i].n_records);
	}
	free(p->m);
	p->m = NULL;
	p->n_m = 0;
	p->n_nodes = 0;
	p->self = -1;
}

void vip_cl_gone_free(struct vip_cl_proto *p)
{
	for (size_t i = 0; i < p->n_gone; i++) {
		free(p->gone[i].name);
		vip_cl_recs_free(p, p->gone[i].records, p->gone[i].n_records);
	}
	p->n_gone = 0;
}

static bool same_process(const struct vip_cl_member *a, const struct vip_cl_member *b)
{
	return a->nodeid == b->nodeid && a->pid == b->pid;
}

/* Move what is known of o into m (o keeps nothing). */
static void carry(struct pmember *m, struct pmember *o)
{
	m->name = steal_ptr(o->name);
	m->records = steal_ptr(o->records);
	m->n_records = o->n_records;
	o->n_records = 0;
	m->monitor = o->monitor;
	m->known = o->known;
	m->stale = o->stale;
	m->last_seq = o->last_seq; /* the same process: its sequence goes on */
}

static void gone_drop(struct vip_cl_proto *p, size_t i)
{
	free(p->gone[i].name);
	vip_cl_recs_free(p, p->gone[i].records, p->gone[i].n_records);
	memmove(&p->gone[i], &p->gone[i + 1], (p->n_gone - i - 1) * sizeof(p->gone[0]));
	p->n_gone--;
}

/* o left the view: remember what is known of it (the oldest is forgotten first). */
static void gone_add(struct vip_cl_proto *p, struct pmember *o)
{
	if (!o->known || !o->name || o->monitor || o->untrusted)
		return;
	if (p->n_gone == ARRAY_SIZE(p->gone))
		gone_drop(p, 0);
	struct pmember *g = &p->gone[p->n_gone++];
	*g = (struct pmember){ .id = o->id, .anode = -1 };
	carry(g, o);
}

/* What is known of v's member i: from the old view, or from the gone list. */
static void take_known(struct vip_cl_proto *p, struct pmember *m)
{
	for (size_t k = 0; k < p->n_m; k++)
		if (same_process(&p->m[k].id, &m->id)) {
			carry(m, &p->m[k]);
			return;
		}
	for (size_t k = 0; k < p->n_gone; k++)
		if (same_process(&p->gone[k].id, &m->id)) {
			carry(m, &p->gone[k]);
			m->stale = true; /* what it did out of our sight is not in it */
			gone_drop(p, k);
			return;
		}
}

/*
 * Once every member of v took what is known of it: a remembered process
 * of a node that is in v with other processes only ended (vipd restarted,
 * clean slate). Not before: a node's monitor may come before its engine in
 * the member list, and the engine cut off and back must find its records.
 */
static void gone_drop_replaced(struct vip_cl_proto *p, const struct vip_cl_view *v)
{
	for (size_t k = 0; k < p->n_gone; k++)
		for (size_t i = 0; i < v->n_members; i++)
			if (p->gone[k].id.nodeid == v->members[i].nodeid) {
				gone_drop(p, k--);
				break;
			}
}

static bool in_view(const struct vip_cl_view *v, const struct vip_cl_member *id)
{
	for (size_t i = 0; i < v->n_members; i++)
		if (same_process(&v->members[i], id))
			return true;
	return false;
}

/*
 * Does v bring members this node had not seen in its previous view, or lose one
 * whose records it never had as they are (it joined or came back, and left
 * before its STATE was delivered here)? Either may hold addresses this node
 * knows nothing of: what it plumbs in v is probed first (docs/protocol.md §6,
 * "Unconfirmed releases").
 */
static bool view_unknown_holders(const struct vip_cl_proto *p, const struct vip_cl_view *v)
{
	for (size_t i = 0; i < v->n_members; i++) {
		bool seen = (ssize_t)i == v->self;
		for (size_t k = 0; k < p->n_m && !seen; k++)
			seen = same_process(&p->m[k].id, &v->members[i]);
		if (!seen)
			return true;
	}
	for (size_t k = 0; k < p->n_m; k++) {
		const struct pmember *o = &p->m[k];
		if ((ssize_t)k != p->self && !o->monitor && (!o->known || o->stale) && !in_view(v, &o->id))
			return true;
	}
	return false;
}

int vip_cl_proto_on_view(struct vip_cl_proto *p, const struct vip_cl_view *v, uint64_t now)
{
	int r = vip_cl_round_fold_grants(p);
	struct pmember *m = r < 0 ? NULL : calloc(v->n_members + 1, sizeof(*m));

	p->last_now = now;
	if (!m)
		return -ENOMEM;
	p->view_joined = view_unknown_holders(p, v);
	for (size_t i = 0; i < v->n_members; i++) {
		m[i] = (struct pmember){ .id = v->members[i], .anode = -1 };
		m[i].id.reason = VIP_CL_REASON_JOIN;
		take_known(p, &m[i]);
	}
	gone_drop_replaced(p, v);
	struct pmember *old = p->m;
	size_t n_old = p->n_m;

	p->m = m;
	p->n_m = v->n_members;
	p->n_nodes = 0; /* their names go now */
	p->round_complete = false;
	/* what is left in the old list left the view: a ghost, and remembered */
	r = vip_cl_ghosts_on_view(p, old, n_old, v);
	for (size_t k = 0; k < n_old; k++) {
		gone_add(p, &old[k]);
		free(old[k].name);
		vip_cl_recs_free(p, old[k].records, old[k].n_records);
	}
	free(old);
	if (r < 0)
		return r;
	p->self = v->self >= 0 && (size_t)v->self < v->n_members ? v->self : -1;
	p->in_view = p->self >= 0;
	p->ring_seq = v->ring_seq;
	p->view_digest = vip_cl_view_digest(v->members, v->n_members);
	p->state_pending = false;
	p->view_since = now;
	p->mature_from = now;
	p->last_balance = now;
	p->close_next = 0;
	p->mature = false;
	p->st.n_views++;
	for (size_t i = 0; i < v->n_left && p->takeover_delay_ms; i++)
		if (v->left[i].reason == VIP_CL_REASON_NODEDOWN) {
			p->guarded = true;
			p->guard_until = now + p->takeover_delay_ms;
		}
	vip_cl_table_reset(p);
	r = vip_cl_table_rebuild(p);
	if (r == 0 && p->in_view)
		r = vip_cl_send_state(p, now);
	return r < 0 ? r : vip_cl_update_wants(p);
}

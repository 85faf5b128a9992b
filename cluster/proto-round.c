/* SPDX-License-Identifier: MIT */
/*
 * The STATE round and the delivered messages (docs/protocol.md).
 *
 * Round: on every view each member multicasts STATE. The round closes when
 * the STATE of every member of the view is delivered, or when the first
 * CLOSE of the view is delivered: duravip_round_timeout after the view, a
 * member that is still waiting multicasts CLOSE with what it knows of every
 * member it has not heard. Closing is an event in the agreed order, and
 * every member applies exactly what the delivered CLOSE says, so the tables
 * stay identical — a member that joined later and knows nothing included.
 * Members not heard by then are silent: they keep counting as holders of
 * what their last records say (nobody else plumbs those addresses) but get
 * nothing new; a silent member's STATE delivered later makes it live again.
 *
 * Later STATE, RELEASED, MOVE and BALANCE messages rerun the assignment at
 * the same point of the order everywhere. MONITOR makes its sender a
 * monitor (never assigned anything); FLUSHED clears a ghost (proto-ghost.c).
 */
#include <stdlib.h>

#include "proto-internal.h"

static struct pmember *find_member(struct vip_cl_proto *p, const struct vip_cl_member *s)
{
	for (size_t i = 0; i < p->n_m; i++)
		if (p->m[i].id.nodeid == s->nodeid && p->m[i].id.pid == s->pid)
			return &p->m[i];
	return NULL;
}

static struct prec *find_record(const struct vip_cl_proto *p, struct pmember *m, const struct vip_addr *a)
{
	return vip_cl_rec_find(p, m->records, m->n_records, a);
}

/* m was told it may plumb a: its records say it holds a (kept). 0 or -ENOMEM. */
static int record_hold(struct vip_cl_proto *p, struct pmember *m, const struct vip_addr *a)
{
	struct prec *rec = find_record(p, m, a);

	if (!rec) {
		uint32_t b;
		struct prec *n = realloc(m->records, (m->n_records + 1) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		m->records = n;
		int r = vip_cl_body_get(p, a, NULL, 0, 0, &b);
		if (r < 0)
			return r;
		size_t i = vip_cl_rec_lower_bound(p, n, m->n_records, a);
		memmove(&n[i + 1], &n[i], (m->n_records - i) * sizeof(*n));
		n[i] = (struct prec){ .body = b };
		m->n_records++;
		rec = &n[i];
	}
	rec->flags = (rec->flags | VIP_CL_R_HELD) & ~(uint32_t)VIP_CL_R_RELEASING;
	return 0;
}

int vip_cl_round_fold_grants(struct vip_cl_proto *p)
{
	for (size_t i = 0; i < p->n_t; i++) {
		const struct pvip *e = &p->t[i];
		for (size_t k = 0; e->granted && k < p->n_m; k++) {
			struct pmember *m = &p->m[k];
			if (m->anode < 0 || !(e->granted & vip_cl_bit(m->anode)))
				continue;
			struct vip_addr a = *vip_cl_table_addr(p, e); /* record_hold may move the bodies */
			int r = record_hold(p, m, &a);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int recompute(struct vip_cl_proto *p, uint64_t now, bool balance)
{
	int r = vip_cl_table_recompute(p, now, balance);
	return r < 0 ? r : vip_cl_update_wants(p);
}

static void close_round(struct vip_cl_proto *p, uint64_t now)
{
	p->round_complete = true;
	p->stable_since = now;
	vip_cl_ghosts_close(p);
	vip_cl_table_map_nodes(p);
}

/*
 * Close the round once every member has spoken: a STATE, a MONITOR, or a
 * message of another protocol version (such a member is left out rather
 * than waited for, so a rolling upgrade does not stall the group). Then
 * recompute.
 */
static int complete_round(struct vip_cl_proto *p, uint64_t now)
{
	if (!p->round_complete) {
		for (size_t i = 0; i < p->n_m; i++)
			if (!p->m[i].heard && !vip_cl_left_out(&p->m[i]))
				return vip_cl_table_rebuild(p);
		close_round(p, now);
	}
	return recompute(p, now, false);
}

/* A silent member spoke again (or a member spoke after the round closed). */
static void rejoin(struct vip_cl_proto *p, struct pmember *m)
{
	m->silent = false;
	if (m->anode >= 0)
		p->nodes[m->anode].silent = false;
	else
		vip_cl_table_add_node(p, m);
}

static int handle_state(struct vip_cl_proto *p, struct pmember *m, struct vip_cl_msg *msg, uint64_t now)
{
	bool from_self = p->self >= 0 && m == &p->m[p->self];

	if (from_self) /* what we released before it was delivered before it, or lost */
		for (size_t i = 0; i < p->n_t; i++)
			if (p->t[i].rel_pending && (int32_t)(msg->serial - p->t[i].rel_serial) > 0)
				p->t[i].rel_pending = false;
	/* sent in another view (before this one reached its sender): the sender
	 * sends again for this one; a process does not change its node name */
	if (m->monitor || msg->view != p->view_digest || (m->name && strcmp(m->name, msg->name) != 0)) {
		p->st.n_stale++;
		return 0;
	}
	if (!m->name && !(m->name = strdup(msg->name)))
		return -ENOMEM;
	int r = vip_cl_ghosts_from_state(p, m->id.nodeid, msg);
	if (r < 0)
		return r;
	if (from_self && msg->serial == p->state_serial)
		p->state_pending = false;
	struct prec *recs = NULL;
	r = vip_cl_recs_from_msg(p, msg->records, msg->n_records, &recs);
	if (r < 0)
		return r;
	vip_cl_recs_free(p, m->records, m->n_records);
	m->records = recs;
	m->n_records = msg->n_records;
	m->heard = m->known = true;
	m->stale = false;
	m->mature = msg->mature;
	m->out = msg->out;
	if (from_self)
		p->quorum_fence = false;
	if (p->round_complete && (m->silent || m->anode < 0))
		rejoin(p, m);
	return complete_round(p, now);
}

static int handle_released(struct vip_cl_proto *p, struct pmember *m, const struct vip_cl_msg *msg,
			   uint64_t now)
{
	bool from_self = p->self >= 0 && m == &p->m[p->self];

	for (size_t i = 0; i < msg->n_addrs; i++) {
		struct prec *rec = find_record(p, m, &msg->addrs[i]);
		if (rec)
			rec->flags &= ~(uint32_t)(VIP_CL_R_HELD | VIP_CL_R_RELEASING);
		struct pvip *e = vip_cl_table_find(p, &msg->addrs[i]);
		if (e && m->anode >= 0)
			e->granted &= ~vip_cl_bit(m->anode);
		if (e && from_self)
			e->rel_pending = false;
	}
	if (!p->round_complete)
		return vip_cl_update_wants(p);
	return recompute(p, now, false);
}

static int handle_move(struct vip_cl_proto *p, const struct vip_cl_msg *msg, uint64_t now)
{
	struct pvip *e = vip_cl_table_find(p, &msg->addr);
	int to = -1;

	for (size_t k = 0; k < p->n_nodes; k++)
		if (strcmp(p->nodes[k].name, msg->name) == 0)
			to = (int)k;
	if (!p->round_complete || !e || to < 0) {
		p->st.n_stale++;
		return 0;
	}
	p->st.n_moves++;
	e->move_to = to;
	return recompute(p, now, false);
}

/* ---- CLOSE ---- */

static const struct vip_cl_peer *find_peer(const struct vip_cl_msg *msg, const struct vip_cl_member *id)
{
	for (size_t i = 0; i < msg->n_peers; i++)
		if (msg->peers[i].nodeid == id->nodeid && msg->peers[i].pid == id->pid)
			return &msg->peers[i];
	return NULL;
}

/* What the delivered CLOSE says about x, exactly: a member it does not name holds nothing. */
static int apply_peer(struct vip_cl_proto *p, struct pmember *x, const struct vip_cl_peer *pe)
{
	struct prec *recs = NULL;

	if (pe) {
		int r = vip_cl_recs_from_msg(p, pe->records, pe->n_records, &recs);
		if (r < 0)
			return r;
	}
	vip_cl_recs_free(p, x->records, x->n_records);
	x->records = NULL;
	x->n_records = 0;
	x->monitor = false;
	if (!pe) {
		free(x->name);
		x->name = NULL;
	} else {
		if (!x->name || strcmp(x->name, pe->name) != 0) {
			char *n = strdup(pe->name);
			if (!n) {
				vip_cl_recs_free(p, recs, pe->n_records);
				return -ENOMEM;
			}
			free(x->name);
			x->name = n;
		}
		x->records = recs;
		x->n_records = pe->n_records;
		x->monitor = pe->monitor;
	}
	x->known = x->silent = true;
	x->stale = false; /* whatever it was, every member now holds the same */
	x->mature = false;
	x->out = 0;
	return 0;
}

static int handle_close(struct vip_cl_proto *p, const struct pmember *m, struct vip_cl_msg *msg, uint64_t now)
{
	/*
	 * The first CLOSE of this view wins; one sent in another view names
	 * another view. A member closes only once its STATE of the view is
	 * delivered and none of its own is on its way, so a CLOSE from a member
	 * not heard in this view was sealed before it (a view with the same
	 * member list: docs/protocol.md, "Authentication").
	 */
	if (msg->view != p->view_digest || p->round_complete || !m->heard) {
		p->st.n_stale++;
		return 0;
	}
	for (size_t i = 0; i < p->n_m; i++) {
		struct pmember *x = &p->m[i];
		if (x->heard || vip_cl_left_out(x))
			continue;
		int r = apply_peer(p, x, find_peer(msg, &x->id));
		if (r < 0)
			return r;
	}
	p->st.n_closes++;
	close_round(p, now);
	return recompute(p, now, false);
}

static int cmp_peer(const void *a, const void *b)
{
	const struct vip_cl_peer *x = a, *y = b;

	if (x->nodeid != y->nodeid)
		return x->nodeid < y->nodeid ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* The peers of a CLOSE: what this node knows of every member not heard, records expanded. */
static int close_peers(const struct vip_cl_proto *p, struct vip_cl_peer *pe, size_t *ret_n)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_m; i++) {
		const struct pmember *x = &p->m[i];
		if (x->heard || vip_cl_left_out(x) || !x->known || !x->name)
			continue; /* a member known without a name holds nothing: leaving it out says so */
		struct vip_cl_peer *e = &pe[n++];
		*e = (struct vip_cl_peer){
			.nodeid = x->id.nodeid,
			.pid = x->id.pid,
			.monitor = x->monitor,
			.n_records = x->n_records,
		};
		*ret_n = n;
		int r = vip_cl_recs_expand(p, x->records, x->n_records, &e->records);
		if (r < 0)
			return r;
		snprintf(e->name, sizeof(e->name), "%s", x->name);
	}
	qsort(pe, n, sizeof(*pe), cmp_peer);
	return 0;
}

int vip_cl_round_send_close(struct vip_cl_proto *p, uint64_t now)
{
	_cleanup_free_ struct vip_cl_peer *pe = calloc(p->n_m + 1, sizeof(*pe));
	struct vip_cl_msg msg = { .type = VIP_CL_MSG_CLOSE, .view = p->view_digest, .peers = pe };

	if (!pe)
		return -ENOMEM;
	int r = close_peers(p, pe, &msg.n_peers);
	if (r == 0) {
		p->close_next = now + p->round_timeout_ms; /* again if none is delivered by then */
		r = vip_cl_queue_send(p, &msg);
	}
	for (size_t i = 0; i < msg.n_peers; i++)
		free(pe[i].records);
	return r;
}

uint64_t vip_cl_round_close_time(const struct vip_cl_proto *p)
{
	bool all_known = true;

	/*
	 * Our own STATE first: until it is delivered we are among the waited-for
	 * (and while a later one is on its way, see handle_close).
	 * Knowing nothing of a waited-for member, or only what it was before it
	 * was out of our sight, let a member that knows it better close first.
	 */
	if (!p->in_view || p->round_complete || p->self < 0 || !p->m[p->self].heard || p->state_pending)
		return UINT64_MAX;
	if (p->close_next)
		return p->close_next;
	for (size_t i = 0; i < p->n_m; i++)
		if (!p->m[i].heard && !vip_cl_left_out(&p->m[i]) && (!p->m[i].known || p->m[i].stale))
			all_known = false;
	return p->view_since + (uint64_t)p->round_timeout_ms * (all_known ? 1 : 2);
}

bool vip_cl_round_is_leader(const struct vip_cl_proto *p)
{
	int me = vip_cl_table_self_anode(p);

	if (!p->round_complete || me < 0)
		return false;
	for (int k = 0; k < me; k++)
		if (!p->nodes[k].silent)
			return false;
	return !p->nodes[me].silent;
}

/* ---- monitors ---- */

static int handle_monitor(struct vip_cl_proto *p, struct pmember *m, const struct vip_cl_msg *msg,
			  uint64_t now)
{
	if (!m->name || strcmp(m->name, msg->name) != 0) {
		char *n = strdup(msg->name);
		if (!n)
			return -ENOMEM;
		if (m->anode < 0) {
			free(m->name);
			m->name = n;
		} else {
			free(n); /* an assignment node keeps its name (the table points to it) */
		}
	}
	vip_cl_recs_free(p, m->records, m->n_records);
	m->records = NULL;
	m->n_records = 0;
	m->monitor = m->heard = m->known = true;
	m->silent = m->stale = false;
	if (m->anode >= 0)
		p->nodes[m->anode].silent = true; /* it was an engine: now it holds nothing */
	return complete_round(p, now);
}

/*
 * A monitor removed a crashed engine's addresses. Any member of that node
 * may say so (only its monitor sends FLUSHED; its engine's STATE would
 * clear the ghost anyway), so every member decides alike whatever it knows
 * of the sender.
 */
static int handle_flushed(struct vip_cl_proto *p, const struct pmember *m, uint64_t now)
{
	vip_cl_ghosts_clear_node(p, m->id.nodeid);
	if (!p->round_complete)
		return vip_cl_table_rebuild(p);
	return recompute(p, now, false);
}

/* A member speaking another protocol version is left out of the round, not waited for. */
static int on_foreign(struct vip_cl_proto *p, const struct vip_cl_member *sender, uint64_t now)
{
	struct pmember *f = find_member(p, sender);

	p->st.n_bad_version++;
	if (f && !f->foreign && !f->heard) {
		f->foreign = true;
		int e = complete_round(p, now);
		if (e < 0)
			return e;
	}
	return -EPROTONOSUPPORT;
}

/*
 * A message that does not verify for its sender: not sealed with the key
 * by that process. The sender is left out for the rest of the view: not
 * waited for (it cannot stall the round), never an assignment node, and
 * what it says is ignored. Every member decides alike: the same message
 * fails the same check at the same point of the order.
 */
static int on_unauthenticated(struct vip_cl_proto *p, const struct vip_cl_member *sender, uint64_t now)
{
	struct pmember *f = find_member(p, sender);

	p->st.n_auth_failed++;
	if (f && !f->untrusted) {
		f->untrusted = true;
		if (f->anode >= 0)
			p->nodes[f->anode].silent = true; /* given nothing new */
		int e = complete_round(p, now);
		if (e < 0)
			return e;
	}
	return -EACCES;
}

/*
 * Authentication (docs/protocol.md, "Authentication"). 1: go on with m
 * (NULL: not a member of the view); 0: dropped as stale; or -errno.
 */
static int authenticate(struct vip_cl_proto *p, const struct vip_cl_member *sender, const void *data,
			size_t len, struct pmember **ret, uint64_t now)
{
	struct vip_cl_auth_info ai;
	int r = vip_cl_auth_verify(p->key, sender, data, len, &ai);

	if (r == -EPROTONOSUPPORT)
		return on_foreign(p, sender, now);
	if (r == -EACCES || (r == -EBADMSG && p->key))
		return on_unauthenticated(p, sender, now);
	if (r < 0) {
		p->st.n_malformed++;
		return r;
	}
	struct pmember *m = find_member(p, sender);
	*ret = m;
	if (!p->key)
		return 1;
	/* sealed in another view (or a copy of one): the sender says it again in this one */
	if (!m || m->untrusted || ai.view != p->view_digest) {
		p->st.n_stale++;
		return 0;
	}
	if (ai.seq <= m->last_seq) {
		p->st.n_auth_replayed++;
		return -EALREADY;
	}
	m->last_seq = ai.seq;
	return 1;
}

int vip_cl_proto_on_message(struct vip_cl_proto *p, const struct vip_cl_member *sender, const void *data,
			    size_t len, uint64_t now)
{
	struct pmember *m = NULL;
	struct vip_cl_msg msg;

	p->last_now = now;
	int r = authenticate(p, sender, data, len, &m, now);
	if (r <= 0)
		return r;
	r = vip_cl_msg_decode(data, len, &msg);
	if (r == -EPROTONOSUPPORT)
		return on_foreign(p, sender, now);
	if (r == -EBADMSG)
		p->st.n_malformed++;
	if (r < 0)
		return r;
	if (!m || m->untrusted) {
		p->st.n_stale++;
		vip_cl_msg_clear(&msg);
		return 0;
	}
	switch (msg.type) {
	case VIP_CL_MSG_STATE:
		r = handle_state(p, m, &msg, now);
		break;
	case VIP_CL_MSG_RELEASED:
		r = handle_released(p, m, &msg, now);
		break;
	case VIP_CL_MSG_MOVE:
		r = handle_move(p, &msg, now);
		break;
	case VIP_CL_MSG_BALANCE:
		if (!p->round_complete) {
			p->st.n_stale++;
			break;
		}
		p->st.n_balances++;
		r = recompute(p, now, true);
		break;
	case VIP_CL_MSG_CLOSE:
		r = handle_close(p, m, &msg, now);
		break;
	case VIP_CL_MSG_MONITOR:
		r = handle_monitor(p, m, &msg, now);
		break;
	case VIP_CL_MSG_FLUSHED:
		r = handle_flushed(p, m, now);
		break;
	case VIP_CL_MSG_NEIGH:
		r = vip_cl_neigh_deliver(p, m, &msg);
		break;
	default:
		break;
	}
	vip_cl_msg_clear(&msg);
	return r;
}

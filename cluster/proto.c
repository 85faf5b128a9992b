// SPDX-License-Identifier: MIT
/*
 * The ownership protocol (DESIGN.md §3): inputs in delivery order, outputs
 * through the action queue. No I/O, no clock, no logging.
 *
 * Round: on every view each member multicasts STATE. Once the STATE of every
 * member of the view is delivered the round is complete and every member
 * runs vip_cl_assign() on the same table. Later STATE, RELEASED, MOVE and
 * BALANCE messages rerun it at the same point of the order everywhere.
 *
 * Hand-off: the table counts as holders the members whose STATE says they
 * hold an address plus those it told to plumb it (granted), until their
 * RELEASED is delivered. The owner may plumb only when no other member is a
 * holder; a member that leaves the view stops counting at once, so failover
 * plumbs without waiting.
 *
 * Time (maturity, balancing) enters only through messages: a member whose
 * view has matured multicasts STATE again with the mature bit; the first
 * member of the view multicasts BALANCE every view_balance_interval while the
 * loads are uneven. So the assignment never depends on a local clock.
 */
#include <stdlib.h>

#include "proto-internal.h"

/* A hand-built configuration may leave the round timeout unset: 2 x corosync's default token. */
#define ROUND_TIMEOUT_DEFAULT_MS 6000u
#define STATE_BACKOFF_MAX 8u

uint64_t vip_cl_view_digest(const struct vip_cl_member *members, size_t n)
{
	uint64_t h = VIP_CL_HASH_INIT;

	for (size_t i = 0; i < n; i++) {
		uint8_t b[8];
		for (int k = 0; k < 4; k++) {
			b[k] = (uint8_t)(members[i].nodeid >> (24 - 8 * k));
			b[4 + k] = (uint8_t)(members[i].pid >> (24 - 8 * k));
		}
		h = vip_cl_hash_bytes(h, b, sizeof(b));
	}
	return vip_cl_mix64(h);
}

static void set_timing(struct vip_cl_proto *p, const struct vipd_config *cfg)
{
	uint32_t rt = cfg->cluster.duravip_round_timeout_ms;

	p->round_timeout_ms = rt && rt != VIP_CONF_AUTO ? rt : ROUND_TIMEOUT_DEFAULT_MS;
	p->mature_ms = cfg->cluster.view_mature_time_ms;
	p->balance_ms = cfg->cluster.view_balance_interval_ms;
	p->set_size = cfg->cluster.duravip_balance_set_size;
	p->qpolicy = cfg->cluster.quorum_policy;
	p->takeover_delay_ms = cfg->cluster.duravip_takeover_delay_ms;
}

int vip_cl_proto_new(const struct vipd_config *cfg, struct vip_cl_proto **ret)
{
	if (!cfg || !cfg->cluster.nodename || !cfg->cluster.nodename[0] ||
	    strlen(cfg->cluster.nodename) > VIP_CL_NAME_MAX)
		return -EINVAL;
	struct vip_cl_proto *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->self = -1;
	set_timing(p, cfg);
	p->nodename = strdup(cfg->cluster.nodename);
	int r = p->nodename ? vip_cl_local_load(p, cfg) : -ENOMEM;
	if (r == 0)
		r = vip_cl_table_rebuild(p);
	if (r < 0) {
		vip_cl_proto_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

static void members_free(struct vip_cl_proto *p)
{
	for (size_t i = 0; i < p->n_m; i++) {
		free(p->m[i].name);
		free(p->m[i].records);
	}
	free(p->m);
	p->m = NULL;
	p->n_m = 0;
	p->n_nodes = 0;
	p->self = -1;
}

void vip_cl_proto_free(struct vip_cl_proto *p)
{
	if (!p)
		return;
	members_free(p);
	vip_cl_local_free(p);
	vip_cl_queue_free(p);
	free(p->t);
	free(p->nodename);
	free(p);
}

int vip_cl_proto_on_view(struct vip_cl_proto *p, const struct vip_cl_view *v, uint64_t now)
{
	p->last_now = now;
	struct pmember *m = calloc(v->n_members + 1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	/* Names are kept for members that stay (for display); STATE is asked anew. */
	for (size_t i = 0; i < v->n_members; i++) {
		m[i] = (struct pmember){ .id = v->members[i], .anode = -1 };
		m[i].id.reason = VIP_CL_REASON_JOIN;
		for (size_t k = 0; k < p->n_m; k++)
			if (p->m[k].id.nodeid == m[i].id.nodeid && p->m[k].id.pid == m[i].id.pid)
				m[i].name = steal_ptr(p->m[k].name);
	}
	members_free(p);
	p->m = m;
	p->n_m = v->n_members;
	p->self = v->self >= 0 && (size_t)v->self < v->n_members ? v->self : -1;
	p->in_view = p->self >= 0;
	p->ring_seq = v->ring_seq;
	p->view_digest = vip_cl_view_digest(v->members, v->n_members);
	p->state_pending = false;
	p->view_since = now;
	p->last_balance = now;
	p->round_complete = false;
	p->mature = false;
	p->st.n_views++;
	for (size_t i = 0; i < v->n_left && p->takeover_delay_ms; i++)
		if (v->left[i].reason == VIP_CL_REASON_NODEDOWN) {
			p->guarded = true;
			p->guard_until = now + p->takeover_delay_ms;
		}
	vip_cl_table_reset(p);
	int r = vip_cl_table_rebuild(p);
	if (r == 0 && p->in_view)
		r = vip_cl_send_state(p, now);
	return r < 0 ? r : vip_cl_update_wants(p);
}

static struct pmember *find_member(struct vip_cl_proto *p, const struct vip_cl_member *s)
{
	for (size_t i = 0; i < p->n_m; i++)
		if (p->m[i].id.nodeid == s->nodeid && p->m[i].id.pid == s->pid)
			return &p->m[i];
	return NULL;
}

static int recompute(struct vip_cl_proto *p, uint64_t now, bool balance)
{
	int r = vip_cl_table_recompute(p, now, balance);
	return r < 0 ? r : vip_cl_update_wants(p);
}

/*
 * Complete the round once every member has spoken: a STATE, or a message of
 * another protocol version (such a member is left out rather than waited
 * for, so a rolling upgrade does not stall the group). Then recompute.
 */
static int complete_round(struct vip_cl_proto *p, uint64_t now)
{
	if (!p->round_complete) {
		for (size_t i = 0; i < p->n_m; i++)
			if (!p->m[i].have_state && !p->m[i].foreign)
				return vip_cl_table_rebuild(p);
		p->round_complete = true;
		p->stable_since = now;
		vip_cl_table_map_nodes(p);
	}
	return recompute(p, now, false);
}

static int handle_state(struct vip_cl_proto *p, struct pmember *m, struct vip_cl_msg *msg,
			uint64_t now)
{
	bool from_self = p->self >= 0 && m == &p->m[p->self];

	/* sent in another view (before this one reached its sender): the sender
	 * sends again for this one; a process does not change its node name */
	if (msg->view != p->view_digest || (m->name && strcmp(m->name, msg->name) != 0)) {
		p->st.n_stale++;
		return 0;
	}
	if (from_self && msg->serial == p->state_serial)
		p->state_pending = false;
	if (!m->name && !(m->name = strdup(msg->name)))
		return -ENOMEM;
	free(m->records);
	m->records = steal_ptr(msg->records);
	m->n_records = msg->n_records;
	m->have_state = true;
	m->mature = msg->mature;
	if (from_self)
		p->quorum_fence = false;
	return complete_round(p, now);
}

static struct vip_cl_record *find_record(struct pmember *m, const struct vip_addr *a)
{
	size_t lo = 0, hi = m->n_records;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = vip_addr_cmp(&m->records[mid].addr, a);
		if (c == 0)
			return &m->records[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int handle_released(struct vip_cl_proto *p, struct pmember *m, const struct vip_cl_msg *msg,
			   uint64_t now)
{
	bool from_self = p->self >= 0 && m == &p->m[p->self];

	for (size_t i = 0; i < msg->n_addrs; i++) {
		struct vip_cl_record *rec = find_record(m, &msg->addrs[i]);
		if (rec)
			rec->flags &= (uint8_t)~(VIP_CL_R_HELD | VIP_CL_R_RELEASING);
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

int vip_cl_proto_on_message(struct vip_cl_proto *p, const struct vip_cl_member *sender,
			    const void *data, size_t len, uint64_t now)
{
	p->last_now = now;
	struct vip_cl_msg msg;
	int r = vip_cl_msg_decode(data, len, &msg);

	if (r == -EPROTONOSUPPORT) {
		struct pmember *f = find_member(p, sender);
		p->st.n_bad_version++;
		if (f && !f->foreign && !f->have_state) {
			f->foreign = true;
			int e = complete_round(p, now);
			if (e < 0)
				return e;
		}
		return r;
	}
	if (r == -EBADMSG)
		p->st.n_malformed++;
	if (r < 0)
		return r;
	struct pmember *m = find_member(p, sender);
	if (!m) {
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
	default:
		break;
	}
	vip_cl_msg_clear(&msg);
	return r;
}

int vip_cl_proto_on_quorum(struct vip_cl_proto *p, bool quorate, uint64_t now)
{
	p->last_now = now;
	bool regained = quorate && !p->quorate;

	p->quorate = quorate;
	if (!quorate)
		p->quorum_fence = false;
	if (regained && p->in_view && p->qpolicy != VIP_QUORUM_KEEP) {
		/* Our STATE is ordered after any view change of the new ring. */
		p->quorum_fence = true;
		/* Whoever held what we may now be given was maybe cut off from us
		 * and may learn it later than we do: give it the takeover delay. */
		if (p->takeover_delay_ms) {
			p->guarded = true;
			p->guard_until = now + p->takeover_delay_ms;
		}
		int r = vip_cl_send_state(p, now);
		if (r < 0)
			return r;
	}
	return vip_cl_update_wants(p);
}

int vip_cl_proto_on_lost(struct vip_cl_proto *p, uint64_t now)
{
	p->last_now = now;
	members_free(p);
	p->in_view = false;
	p->round_complete = false;
	p->quorate = false;
	p->quorum_fence = false;
	p->mature = false;
	p->state_pending = false;
	vip_cl_table_reset(p);
	return vip_cl_update_wants(p);
}

static bool is_leader(const struct vip_cl_proto *p)
{
	return p->round_complete && p->self >= 0 && p->m[p->self].anode == 0;
}

static bool all_mature(const struct vip_cl_proto *p)
{
	for (size_t i = 0; i < p->n_m; i++)
		if (p->m[i].anode >= 0 && !p->m[i].mature)
			return false;
	return true;
}

/*
 * Our STATE of this view was not delivered in time (a send dropped or
 * refused, a message lost): queue it again, back off, and say again what
 * the group still counts us as holding.
 */
static int retry_state(struct vip_cl_proto *p, uint64_t now)
{
	if (!vip_cl_queue_has_state(p)) {
		int r = vip_cl_send_state(p, now);
		if (r < 0)
			return r;
		p->st.n_state_retries++;
	}
	if (p->state_backoff_ms < p->round_timeout_ms * STATE_BACKOFF_MAX)
		p->state_backoff_ms *= 2;
	p->state_due = now + p->state_backoff_ms;
	return vip_cl_update_wants(p);
}

int vip_cl_proto_on_tick(struct vip_cl_proto *p, uint64_t now)
{
	p->last_now = now;
	int r = 0;

	if (p->guarded && now >= p->guard_until) {
		p->guarded = false;
		r = vip_cl_update_wants(p);
		if (r < 0)
			return r;
	}
	if (p->in_view && !p->mature && now >= p->view_since + p->mature_ms) {
		p->mature = true;
		r = vip_cl_send_state(p, now);
		if (r < 0)
			return r;
	}
	if (p->in_view && p->state_pending && now >= p->state_due) {
		r = retry_state(p, now);
		if (r < 0)
			return r;
	}
	if (p->resweep && now >= p->resweep_due) {
		p->resweep = false;
		r = vip_cl_update_wants(p);
		if (r < 0)
			return r;
	}
	if (is_leader(p) && p->balance_ms && now >= p->last_balance + p->balance_ms) {
		p->last_balance = now;
		if (all_mature(p) && vip_cl_table_unbalanced(p)) {
			struct vip_cl_msg m = { .type = VIP_CL_MSG_BALANCE };
			r = vip_cl_queue_send(p, &m);
		}
	}
	return r;
}

uint64_t vip_cl_proto_next_timeout(const struct vip_cl_proto *p, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	if (p->in_view && !p->mature)
		next = p->view_since + p->mature_ms;
	if (is_leader(p) && p->balance_ms && p->last_balance + p->balance_ms < next)
		next = p->last_balance + p->balance_ms;
	if (p->guarded && p->guard_until < next)
		next = p->guard_until;
	if (p->in_view && p->state_pending && p->state_due < next)
		next = p->state_due;
	if (p->resweep && p->resweep_due < next)
		next = p->resweep_due;
	if (next == UINT64_MAX)
		return next;
	return next > now ? next - now : 0;
}

int vip_cl_proto_local_released(struct vip_cl_proto *p, const struct vip_addr *addr,
				uint64_t now)
{
	p->last_now = now;
	struct lvip *l = vip_cl_local_find(p, addr);

	if (!l || l->want || !l->may_hold)
		return 0;
	l->may_hold = false;
	/* Only this address changed: O(log n), as the engine reports them one by one. */
	struct pvip *e = vip_cl_table_find(p, addr);
	return e ? vip_cl_sweep_one(p, e) : 0;
}

static int cmp_addr(const void *a, const void *b)
{
	return vip_addr_cmp(a, b);
}

int vip_cl_proto_set_unavailable(struct vip_cl_proto *p, const struct vip_addr *addrs, size_t n,
				 uint64_t now)
{
	p->last_now = now;
	_cleanup_free_ struct vip_addr *sorted = malloc((n + 1) * sizeof(*sorted));
	bool changed = false;

	if (!sorted)
		return -ENOMEM;
	if (n)
		memcpy(sorted, addrs, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_addr);
	for (size_t i = 0; i < p->n_l; i++) {
		bool down = bsearch(&p->l[i].addr, sorted, n, sizeof(*sorted), cmp_addr) != NULL;
		changed |= down != p->l[i].down;
		p->l[i].down = down;
	}
	if (!changed)
		return 0;
	int r = vip_cl_update_wants(p);
	if (r == 0 && p->in_view)
		r = vip_cl_send_state(p, now);
	return r;
}

int vip_cl_proto_request_move(struct vip_cl_proto *p, const struct vip_addr *addr,
			      const char *node, uint64_t now)
{
	p->last_now = now;
	struct vip_cl_msg m = { .type = VIP_CL_MSG_MOVE, .addr = *addr };

	if (!vip_cl_table_find(p, addr))
		return -ENOENT;
	if (!node || !node[0] || strlen(node) > VIP_CL_NAME_MAX)
		return -EINVAL;
	snprintf(m.name, sizeof(m.name), "%s", node);
	return vip_cl_queue_send(p, &m);
}

int vip_cl_proto_request_balance(struct vip_cl_proto *p, uint64_t now)
{
	p->last_now = now;
	struct vip_cl_msg m = { .type = VIP_CL_MSG_BALANCE };
	return vip_cl_queue_send(p, &m);
}

int vip_cl_proto_reconfigure(struct vip_cl_proto *p, const struct vipd_config *cfg,
			     uint64_t now)
{
	p->last_now = now;
	set_timing(p, cfg);
	int r = vip_cl_local_load(p, cfg);
	if (r == 0)
		r = vip_cl_table_rebuild(p);
	if (r == 0)
		r = vip_cl_update_wants(p);
	if (r == 0 && p->in_view)
		r = vip_cl_send_state(p, now);
	return r;
}

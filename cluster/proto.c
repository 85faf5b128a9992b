/* SPDX-License-Identifier: MIT */
/*
 * The ownership protocol (docs/design.md §3, docs/protocol.md): inputs in
 * delivery order, outputs through the queues (proto-queue.c). No I/O, no
 * clock, no logging. The round and the messages are in proto-round.c, the
 * views in proto-view.c; this file has the local inputs and the timers.
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
#include <assert.h>
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
	p->guard_probe = cfg->cluster.takeover_guard == VIP_TAKEOVER_PROBE;
}

int vip_cl_proto_new(const struct vipd_config *cfg, struct vip_cl_proto **ret)
{
	assert(cfg);
	if (!cfg->cluster.nodename || !cfg->cluster.nodename[0] ||
	    strlen(cfg->cluster.nodename) > VIP_CL_NAME_MAX)
		return -EINVAL;
	struct vip_cl_proto *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->self = -1;
	p->live = true;
	vip_cl_bodies_init(p);
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

void vip_cl_proto_set_key(struct vip_cl_proto *p, const struct vip_cl_key *key)
{
	p->key = key;
}

void vip_cl_proto_free(struct vip_cl_proto *p)
{
	if (!p)
		return;
	vip_cl_members_free(p);
	vip_cl_gone_free(p);
	vip_cl_ghosts_free(p);
	vip_cl_local_free(p);
	vip_cl_queue_free(p);
	vip_cl_neigh_free(p);
	vip_cl_table_free(p);
	assert(p->bodies.live == 0); /* everything above gave its references back */
	vip_cl_bodies_free(p);
	free(p->nodename);
	free(p);
}

/*
 * This node may hold addresses while quorate and while its corosync answers
 * (docs/protocol.md, "Quorum and liveness"). When that comes back, plumb
 * nothing new until our own STATE, sent now, is delivered, and not before
 * the takeover delay either.
 */
static int standing_changed(struct vip_cl_proto *p, bool was, uint64_t now)
{
	bool is = p->quorate && p->live;

	if (!is)
		p->quorum_fence = false;
	if (is && !was && p->in_view && p->qpolicy != VIP_QUORUM_KEEP) {
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

int vip_cl_proto_on_quorum(struct vip_cl_proto *p, bool quorate, uint64_t now)
{
	bool was = p->quorate && p->live;

	p->last_now = now;
	p->quorate = quorate;
	return standing_changed(p, was, now);
}

int vip_cl_proto_on_liveness(struct vip_cl_proto *p, bool alive, uint64_t now)
{
	bool was = p->quorate && p->live;

	p->last_now = now;
	p->live = alive;
	return standing_changed(p, was, now);
}

int vip_cl_proto_on_lost(struct vip_cl_proto *p, uint64_t now)
{
	p->last_now = now;
	vip_cl_members_free(p);
	vip_cl_gone_free(p);
	vip_cl_ghosts_free(p);
	p->in_view = false;
	p->round_complete = false;
	p->quorate = false;
	/* The next connection's watchdog starts afresh and reports only a change:
	 * a "not answering" from the dead one would otherwise outlive it, and
	 * this node would stay in the group plumbing nothing it is given. */
	p->live = true;
	p->quorum_fence = false;
	p->mature = false;
	p->state_pending = false;
	vip_cl_table_reset(p);
	for (size_t i = 0; i < p->n_t; i++)
		p->t[i].rel_pending = false; /* nothing in flight survives the connection */
	return vip_cl_update_wants(p);
}

static bool all_mature(const struct vip_cl_proto *p)
{
	for (size_t i = 0; i < p->n_m; i++)
		if (p->m[i].anode >= 0 && !p->m[i].silent && !p->m[i].mature)
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
	int r = 0;

	p->last_now = now;
	if (p->guarded && now >= p->guard_until) {
		p->guarded = false;
		r = vip_cl_update_wants(p);
		if (r < 0)
			return r;
	}
	/* before a STATE of this tick: a CLOSE waits for every STATE of ours (proto-round.c) */
	if (now >= vip_cl_round_close_time(p)) {
		r = vip_cl_round_send_close(p, now);
		if (r < 0)
			return r;
	}
	if (p->in_view && !p->mature && now >= p->mature_from + p->mature_ms) {
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
	if (vip_cl_round_is_leader(p) && p->balance_ms && now >= p->last_balance + p->balance_ms) {
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
		next = p->mature_from + p->mature_ms;
	if (vip_cl_round_is_leader(p) && p->balance_ms && p->last_balance + p->balance_ms < next)
		next = p->last_balance + p->balance_ms;
	if (p->guarded && p->guard_until < next)
		next = p->guard_until;
	if (p->in_view && p->state_pending && p->state_due < next)
		next = p->state_due;
	if (p->resweep && p->resweep_due < next)
		next = p->resweep_due;
	if (vip_cl_round_close_time(p) < next)
		next = vip_cl_round_close_time(p);
	if (next == UINT64_MAX)
		return next;
	return next > now ? next - now : 0;
}

int vip_cl_proto_local_released(struct vip_cl_proto *p, const struct vip_addr *addr, uint64_t now)
{
	struct lvip *l = vip_cl_local_find(p, addr);

	p->last_now = now;
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

int vip_cl_proto_set_unavailable(struct vip_cl_proto *p, const struct vip_addr *addrs, size_t n, uint64_t now)
{
	_cleanup_free_ struct vip_addr *sorted = malloc((n + 1) * sizeof(*sorted));
	bool changed = false;

	p->last_now = now;
	if (!sorted)
		return -ENOMEM;
	if (n)
		memcpy(sorted, addrs, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_addr);
	for (size_t i = 0; i < p->n_l; i++) {
		bool down = bsearch(vip_cl_local_addr(p, &p->l[i]), sorted, n, sizeof(*sorted), cmp_addr) !=
			    NULL;
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

int vip_cl_proto_set_candidacy(struct vip_cl_proto *p, uint32_t out, uint64_t now)
{
	p->last_now = now;
	out &= VIP_CL_OUT_ALL;
	if (out == p->out)
		return 0;
	if (!out && p->out) {
		/* a candidate again: as a member that joins, mature after view_mature_time */
		p->mature = false;
		p->mature_from = now;
	}
	p->out = out;
	/* The group decides: our STATE saying so hands our addresses to others (a move). */
	int r = p->in_view ? vip_cl_send_state(p, now) : 0;
	return r < 0 ? r : vip_cl_update_wants(p);
}

uint32_t vip_cl_proto_candidacy(const struct vip_cl_proto *p)
{
	return p->out;
}

int vip_cl_proto_request_move(struct vip_cl_proto *p, const struct vip_addr *addr, const char *node,
			      uint64_t now)
{
	struct vip_cl_msg m = { .type = VIP_CL_MSG_MOVE, .addr = *addr };

	p->last_now = now;
	if (!vip_cl_table_find(p, addr))
		return -ENOENT;
	if (!node || !node[0] || strlen(node) > VIP_CL_NAME_MAX)
		return -EINVAL;
	snprintf(m.name, sizeof(m.name), "%s", node);
	return vip_cl_queue_send(p, &m);
}

int vip_cl_proto_request_balance(struct vip_cl_proto *p, uint64_t now)
{
	struct vip_cl_msg m = { .type = VIP_CL_MSG_BALANCE };

	p->last_now = now;
	return vip_cl_queue_send(p, &m);
}

int vip_cl_proto_reconfigure(struct vip_cl_proto *p, const struct vipd_config *cfg, uint64_t now)
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

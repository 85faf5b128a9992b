/* SPDX-License-Identifier: MIT */
/*
 * vip_cl_assign(): who owns which DuraVIP. Pure and deterministic: every
 * member runs it on the same inputs at the same point of the total order and
 * gets the same answer, so no election round is needed.
 *
 * Order independence: nodes are ranked by name, DuraVIPs are taken in
 * address order, and every tie is broken by the rendezvous score and then
 * the name rank, never by an input position.
 *
 * Cost: O(n_vips · n_nodes) bit operations at worst (every DuraVIP unowned),
 * O(n_vips) in the steady state, plus O(n_vips) per balancing move.
 */
#include <assert.h>
#include <stdlib.h>

#include "cluster-internal.h"

#define DEFERRED (-2)

struct actx {
	const struct vip_cl_assign_in *in;
	struct vip_cl_aout *out;
	size_t *order;       /* vip indices in address order */
	uint64_t *addr_hash; /* per vip */
	bool *pinned;        /* per vip */
	uint64_t name_hash[VIP_CL_MAX_MEMBERS];
	int rank[VIP_CL_MAX_MEMBERS]; /* 0 = smallest name */
	uint32_t load[VIP_CL_MAX_MEMBERS];
	uint64_t all;    /* mask of every node */
	uint64_t silent; /* silent nodes: keep what they keep, get nothing new */
	uint64_t outm;   /* no candidates (standby, unhealthy): get nothing, keep nothing */
	uint64_t live;   /* all & ~silent & ~outm */
};

static int cmp_rank(const void *a, const void *b, void *data)
{
	const struct vip_cl_anode *nodes = data;
	return strcmp(nodes[*(const int *)a].name, nodes[*(const int *)b].name);
}

static int cmp_vip(const void *a, const void *b, void *data)
{
	const struct vip_cl_avip *vips = data;
	return vip_addr_cmp(&vips[*(const size_t *)a].addr, &vips[*(const size_t *)b].addr);
}

static int setup_nodes(struct actx *c)
{
	const struct vip_cl_assign_in *in = c->in;
	int idx[VIP_CL_MAX_MEMBERS];

	if (in->n_nodes > VIP_CL_MAX_MEMBERS)
		return -EINVAL;
	for (size_t i = 0; i < in->n_nodes; i++) {
		if (!in->nodes[i].name)
			return -EINVAL;
		idx[i] = (int)i;
		c->name_hash[i] = vip_cl_hash_name(in->nodes[i].name);
		if (in->nodes[i].silent)
			c->silent |= vip_cl_bit((int)i);
		else if (in->nodes[i].out)
			c->outm |= vip_cl_bit((int)i);
	}
	qsort_r(idx, in->n_nodes, sizeof(idx[0]), cmp_rank, (void *)in->nodes);
	for (size_t r = 0; r < in->n_nodes; r++) {
		if (r > 0 && strcmp(in->nodes[idx[r]].name, in->nodes[idx[r - 1]].name) == 0)
			return -EINVAL; /* names must be distinct */
		c->rank[idx[r]] = (int)r;
	}
	c->all = in->n_nodes == 64 ? UINT64_MAX : vip_cl_bit((int)in->n_nodes) - 1;
	c->live = c->all & ~c->silent & ~c->outm;
	return 0;
}

static bool valid_node(const struct actx *c, int n, bool allow_none)
{
	if (n == -1)
		return allow_none;
	return n >= 0 && (size_t)n < c->in->n_nodes;
}

static int setup_vips(struct actx *c)
{
	const struct vip_cl_assign_in *in = c->in;
	bool sorted = true;

	for (size_t i = 0; i < in->n_vips; i++) {
		const struct vip_cl_avip *v = &in->vips[i];
		if (!valid_node(c, v->prev_owner, true) || !valid_node(c, v->move_to, true))
			return -EINVAL;
		if (v->follow < -1 || v->follow >= (ssize_t)in->n_vips)
			return -EINVAL;
		c->order[i] = i;
		c->addr_hash[i] = vip_cl_hash_addr(&v->addr);
		if (i > 0 && vip_addr_cmp(&in->vips[i - 1].addr, &v->addr) >= 0)
			sorted = false;
	}
	if (!sorted)
		qsort_r(c->order, in->n_vips, sizeof(c->order[0]), cmp_vip, (void *)in->vips);
	for (size_t i = 1; i < in->n_vips; i++)
		if (vip_addr_equal(&in->vips[c->order[i - 1]].addr, &in->vips[c->order[i]].addr))
			return -EINVAL;
	return 0;
}

/* Whether node n (score s for the vip) ranks before best (score best_s): see pick_node. */
static bool ranks_before(const struct actx *c, int n, uint64_t s, int best, uint64_t best_s, bool by_load)
{
	if (by_load && c->load[n] != c->load[best])
		return c->load[n] < c->load[best];
	if (s != best_s)
		return s > best_s;
	return c->rank[n] < c->rank[best];
}

/*
 * The node of mask that ranks first for vip v, -1 if mask is empty: with
 * by_load the least-loaded, then the highest rendezvous score, then the name.
 */
static int pick_node(const struct actx *c, size_t v, uint64_t mask, bool by_load)
{
	int best = -1;
	uint64_t best_s = 0;

	for (uint64_t m = mask; m; m &= m - 1) {
		int n = __builtin_ctzll(m);
		uint64_t s = vip_cl_score(c->name_hash[n], c->addr_hash[v]);
		if (best < 0 || ranks_before(c, n, s, best, best_s, by_load)) {
			best = n;
			best_s = s;
		}
	}
	return best;
}

/* The node of mask with the highest rendezvous score for vip v (-1 if mask is empty). */
static int best_score(const struct actx *c, size_t v, uint64_t mask)
{
	return pick_node(c, v, mask, false);
}

/* The least-loaded node of mask; ties by rendezvous score, then name. */
static int least_loaded(const struct actx *c, size_t v, uint64_t mask)
{
	return pick_node(c, v, mask, true);
}

/* The one preferred node of v, or -1 (none, or a conflict). Silent nodes prefer nothing. */
static int preferred(const struct actx *c, const struct vip_cl_avip *v)
{
	uint64_t pm = v->prefer & c->live;
	return pm && !(pm & (pm - 1)) ? __builtin_ctzll(pm) : -1;
}

/* Silent nodes that keep v: one of them owns it, whatever else holds. */
static uint64_t silent_keepers(const struct actx *c, const struct vip_cl_avip *v)
{
	return v->keepers & v->holders & c->silent;
}

/* Members v may be given: live candidates only. */
static uint64_t live_candidates(const struct actx *c, const struct vip_cl_avip *v)
{
	return v->candidates & c->live;
}

static bool is_follower(const struct actx *c, const struct vip_cl_avip *v)
{
	/* One level only: a leader that itself follows is taken as standalone. */
	return v->follow >= 0 && c->in->vips[v->follow].follow < 0 && &c->in->vips[v->follow] != v;
}

/* Rules 1-4 for a DuraVIP that needs no load information; DEFERRED if it does. */
static int decide_fixed(struct actx *c, size_t i)
{
	const struct vip_cl_avip *v = &c->in->vips[i];
	uint64_t cand = live_candidates(c, v), sk = silent_keepers(c, v);
	uint64_t keep = v->keepers & v->holders & cand;
	int p = preferred(c, v);
	int t;

	c->pinned[i] = false;
	if (v->flags & VIP_CL_F_BROKEN)
		return -1;
	if (sk) /* it may still be plumbed there: nobody takes it from a member that cannot answer */
		return sk & (sk - 1) ? best_score(c, i, sk) : __builtin_ctzll(sk);
	if (!cand)
		return -1;
	if (p >= 0 && !(cand & vip_cl_bit(p)))
		p = -1;
	if (v->move_to >= 0 && (cand & vip_cl_bit(v->move_to))) {
		t = v->move_to;
		c->pinned[i] = true;
	} else if (v->prev_owner >= 0 && (cand & vip_cl_bit(v->prev_owner))) {
		t = v->prev_owner;
		c->pinned[i] = v->prev_pinned;
	} else if (keep) {
		if (!(keep & (keep - 1)))
			t = __builtin_ctzll(keep);
		else if (p >= 0 && (keep & vip_cl_bit(p)))
			t = p;
		else
			t = best_score(c, i, keep);
	} else if (p >= 0) {
		t = p;
	} else {
		return DEFERRED;
	}
	if (!c->pinned[i] && p >= 0 && t != p && c->in->nodes[p].mature)
		t = p; /* rule 4: a mature preferred node gets it back */
	return t;
}

static void place_all(struct actx *c)
{
	const struct vip_cl_assign_in *in = c->in;

	for (size_t k = 0; k < in->n_vips; k++) {
		size_t i = c->order[k];
		c->pinned[i] = false;
		if (is_follower(c, &in->vips[i])) {
			c->out[i].owner = -1;
			continue;
		}
		c->out[i].owner = decide_fixed(c, i);
		if (c->out[i].owner >= 0)
			c->load[c->out[i].owner]++;
	}
	for (size_t k = 0; k < in->n_vips; k++) {
		size_t i = c->order[k];
		if (c->out[i].owner != DEFERRED)
			continue;
		c->out[i].owner = least_loaded(c, i, live_candidates(c, &in->vips[i]));
		c->load[c->out[i].owner]++;
	}
}

static bool movable(const struct actx *c, size_t i, int to)
{
	const struct vip_cl_avip *v = &c->in->vips[i];
	int from = c->out[i].owner;

	if (from < 0 || c->pinned[i] || is_follower(c, v) || (v->flags & VIP_CL_F_BROKEN) ||
	    (c->silent & vip_cl_bit(from)))
		return false;
	if (preferred(c, v) == from)
		return false; /* rule 4 would bring it straight back */
	if (!(v->candidates & vip_cl_bit(to)))
		return false;
	return (v->holders & c->all & ~vip_cl_bit(from)) == 0; /* no hand-off in flight */
}

/* Is vip i (score s for the target) a better pick than vip j (score sj)? */
static bool better_pick(const struct actx *c, size_t i, uint64_t s, size_t j, uint64_t sj)
{
	if (j == SIZE_MAX || s != sj)
		return j == SIZE_MAX || s > sj;
	return vip_addr_cmp(&c->in->vips[i].addr, &c->in->vips[j].addr) < 0;
}

/*
 * Balancing: each move takes the least-loaded member as target and the most
 * loaded member (ties by name) that has a movable DuraVIP for it as source;
 * among the source's DuraVIPs the one ranking highest for the target moves.
 * A DuraVIP moved in this round never moves again (the target's load stays
 * at or below every other's plus one), so the per-owner lists built once
 * stay valid with stale entries skipped.
 */
static size_t balance(struct actx *c, uint32_t set_size)
{
	const struct vip_cl_assign_in *in = c->in;
	size_t nn = in->n_nodes, moved = 0;
	size_t start[VIP_CL_MAX_MEMBERS + 1] = { 0 }, fill[VIP_CL_MAX_MEMBERS];
	_cleanup_free_ size_t *list = malloc((in->n_vips + 1) * sizeof(*list));

	if (!list || nn < 2)
		return 0;
	for (size_t i = 0; i < in->n_vips; i++)
		if (c->out[i].owner >= 0)
			start[c->out[i].owner + 1]++;
	for (size_t n = 0; n < nn; n++) {
		start[n + 1] += start[n];
		fill[n] = start[n];
	}
	for (size_t i = 0; i < in->n_vips; i++)
		if (c->out[i].owner >= 0)
			list[fill[c->out[i].owner]++] = i;
	while (moved < set_size && c->live) {
		int to = -1;
		for (size_t n = 0; n < nn; n++)
			if ((c->live & vip_cl_bit((int)n)) &&
			    (to < 0 || c->load[n] < c->load[to] ||
			     (c->load[n] == c->load[to] && c->rank[n] < c->rank[to])))
				to = (int)n;
		bool tried[VIP_CL_MAX_MEMBERS] = { false };
		for (size_t n = 0; n < nn; n++)
			tried[n] = ~c->live & vip_cl_bit((int)n); /* silent or out: never a source */
		size_t pick = SIZE_MAX;
		for (;;) {
			int from = -1;
			for (size_t n = 0; n < nn; n++)
				if (!tried[n] && c->load[n] > c->load[to] + 1 &&
				    (from < 0 || c->load[n] > c->load[from] ||
				     (c->load[n] == c->load[from] && c->rank[n] < c->rank[from])))
					from = (int)n;
			if (from < 0)
				break;
			tried[from] = true;
			uint64_t ps = 0;
			for (size_t k = start[from]; k < start[from + 1]; k++) {
				size_t i = list[k];
				if (c->out[i].owner != from || !movable(c, i, to))
					continue;
				uint64_t s = vip_cl_score(c->name_hash[to], c->addr_hash[i]);
				if (better_pick(c, i, s, pick, ps)) {
					pick = i;
					ps = s;
				}
			}
			if (pick != SIZE_MAX)
				break;
		}
		if (pick == SIZE_MAX)
			break;
		c->load[c->out[pick].owner]--;
		c->out[pick].owner = to;
		c->load[to]++;
		moved++;
	}
	return moved;
}

static void finish(struct actx *c, struct vip_cl_assign_stats *st)
{
	const struct vip_cl_assign_in *in = c->in;

	for (size_t i = 0; i < in->n_vips; i++) {
		const struct vip_cl_avip *v = &in->vips[i];
		struct vip_cl_aout *o = &c->out[i];
		if (is_follower(c, v)) {
			int lo = c->out[v->follow].owner;
			uint64_t cand = live_candidates(c, v), sk = silent_keepers(c, v);
			if (v->flags & VIP_CL_F_BROKEN)
				o->owner = -1;
			else if (sk)
				o->owner = best_score(c, i, sk);
			else if (!cand)
				o->owner = -1;
			else if (lo >= 0 && (cand & vip_cl_bit(lo)))
				o->owner = lo;
			else
				o->owner = best_score(c, i, cand);
		}
		o->flags = v->flags & (VIP_CL_F_UNSAFE | VIP_CL_F_BROKEN);
		if (!(o->flags & (VIP_CL_F_UNSAFE | VIP_CL_F_BROKEN)))
			o->flags |= VIP_CL_F_SAFE;
		uint64_t pm = v->prefer & c->live;
		if (pm & (pm - 1))
			o->flags |= VIP_CL_F_CONFLICT;
		o->plumb = o->owner >= 0 && (v->holders & c->all & ~vip_cl_bit(o->owner)) == 0;
		if (o->owner >= 0)
			o->flags |= o->plumb ? VIP_CL_F_OWNED : VIP_CL_F_MOVING;
		if (o->owner >= 0 && c->pinned[i])
			o->flags |= VIP_CL_F_PINNED;
		if (st && v->prev_owner >= 0 && o->owner != v->prev_owner)
			st->moved++;
		if (st && v->prev_owner < 0 && o->owner >= 0)
			st->placed++;
	}
}

int vip_cl_assign(const struct vip_cl_assign_in *in, struct vip_cl_aout *out, struct vip_cl_assign_stats *st)
{
	struct actx c = { .in = in, .out = out };
	int r;

	assert(in);
	assert(out || !in->n_vips);
	assert(in->nodes || !in->n_nodes);
	assert(in->vips || !in->n_vips);
	if (st)
		*st = (struct vip_cl_assign_stats){ 0 };
	r = setup_nodes(&c);
	if (r < 0)
		return r;
	_cleanup_free_ size_t *order = malloc((in->n_vips + 1) * sizeof(*order));
	_cleanup_free_ uint64_t *addr_hash = malloc((in->n_vips + 1) * sizeof(*addr_hash));
	_cleanup_free_ bool *pinned = calloc(in->n_vips + 1, sizeof(*pinned));
	if (!order || !addr_hash || !pinned)
		return -ENOMEM;
	c.order = order;
	c.addr_hash = addr_hash;
	c.pinned = pinned;
	r = setup_vips(&c);
	if (r < 0)
		return r;
	place_all(&c);
	if (in->balance) {
		size_t n = balance(&c, in->balance_set_size);
		if (st)
			st->balanced = n;
	}
	finish(&c, st);
	return 0;
}

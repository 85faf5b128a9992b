/* SPDX-License-Identifier: MIT */
/*
 * The replicated DuraVIP table: rebuilt from the members' delivered STATE
 * records, then handed to vip_cl_assign(). Only delivered data goes in, so
 * every member's table is the same at the same point of the order.
 */
#include <stdlib.h>

#include "proto-internal.h"

/* An anode fits pvip.owner and .move_to, a VIP_CL_F_* set fits pvip.flags. */
_Static_assert(VIP_CL_MAX_MEMBERS <= INT8_MAX, "anode index in int8_t");
_Static_assert(VIP_CL_F_PINNED < (1u << 12), "VIP_CL_F_* in pvip.flags");

struct pvip *vip_cl_table_find(const struct vip_cl_proto *p, const struct vip_addr *a)
{
	return vip_cl_body_find(p, p->t, p->n_t, sizeof(*p->t), a);
}

void vip_cl_table_reset(struct vip_cl_proto *p)
{
	for (size_t i = 0; i < p->n_t; i++) {
		struct pvip *e = &p->t[i];
		e->granted = 0;
		e->owner = -1;
		e->pinned = false;
		e->plumb = false;
		e->move_to = -1;
		e->flags = 0;
	}
}

void vip_cl_table_add_node(struct vip_cl_proto *p, struct pmember *m)
{
	bool dup = false;

	if (!m->name || m->monitor || vip_cl_left_out(m) || p->n_nodes == VIP_CL_MAX_MEMBERS)
		return;
	for (size_t k = 0; k < p->n_nodes && !dup; k++)
		dup = strcmp(p->nodes[k].name, m->name) == 0;
	if (dup)
		return; /* two processes with one node name: the first in view order wins */
	m->anode = (int)p->n_nodes;
	p->nodes[p->n_nodes++] = (struct vip_cl_anode){ .name = m->name, .silent = m->silent };
}

/*
 * The assignment nodes of a closed round, in view order: every member heard,
 * and every silent member with known records (it holds what they say).
 * Indices stay fixed until the next view; later speakers are appended.
 */
void vip_cl_table_map_nodes(struct vip_cl_proto *p)
{
	p->n_nodes = 0;
	for (size_t i = 0; i < p->n_m; i++) {
		struct pmember *m = &p->m[i];
		m->anode = -1;
		if (m->heard || (m->silent && m->known))
			vip_cl_table_add_node(p, m);
	}
	/* then the ghosts: silent nodes that hold (releasing) and take nothing */
	for (size_t i = 0; i < p->n_ghosts; i++) {
		struct pghost *g = &p->ghosts[i];
		bool dup = false;
		g->anode = -1;
		for (size_t k = 0; k < p->n_nodes && !dup; k++)
			dup = strcmp(p->nodes[k].name, g->label) == 0;
		if (dup || g->cleared || p->n_nodes == VIP_CL_MAX_MEMBERS)
			continue;
		g->anode = (int)p->n_nodes;
		p->nodes[p->n_nodes++] = (struct vip_cl_anode){ .name = g->label, .silent = true };
	}
}

int vip_cl_table_self_anode(const struct vip_cl_proto *p)
{
	return p->self >= 0 && (size_t)p->self < p->n_m ? p->m[p->self].anode : -1;
}

/* An address of the table being built, and a body of it (NO_BODY: only a ghost holds it). */
struct asrc {
	struct vip_addr addr;
	uint32_t body;
};
#define NO_BODY UINT32_MAX

/*
 * A sorted source of the table's addresses: this node's list (what it has
 * configured or may hold), a member's records (what it has configured or
 * holds) or a ghost's addresses; i is its cursor.
 */
struct asource {
	const struct lvip *l;
	const struct prec *r;
	const struct vip_addr *g;
	size_t i, n;
};

/* Move s's cursor past what does not go into the table. */
static void source_settle(struct asource *s)
{
	while (s->i < s->n && (s->l   ? !(s->l[s->i].configured || s->l[s->i].may_hold || s->l[s->i].want)
			       : s->r ? !(s->r[s->i].flags & (VIP_CL_R_CONFIGURED | VIP_CL_R_HELD))
				      : false))
		s->i++;
}

static const struct vip_addr *source_addr(const struct vip_cl_proto *p, const struct asource *s)
{
	if (s->l)
		return vip_cl_local_addr(p, &s->l[s->i]);
	return s->r ? vip_cl_rec_addr(p, &s->r[s->i]) : &s->g[s->i];
}

static uint32_t source_body(const struct asource *s)
{
	return s->l ? s->l[s->i].body : s->r ? s->r[s->i].body : NO_BODY;
}

/*
 * The sorted union of the sources' addresses into out (NULL: only count),
 * each with the body of the first source that has it. Returns the count.
 */
static size_t merge_sources(const struct vip_cl_proto *p, struct asource *src, size_t k, struct asrc *out)
{
	size_t n = 0;

	for (size_t i = 0; i < k; i++) {
		src[i].i = 0;
		source_settle(&src[i]);
	}
	for (;;) {
		const struct vip_addr *min = NULL;
		uint32_t body = NO_BODY;
		for (size_t i = 0; i < k; i++) {
			if (src[i].i == src[i].n)
				continue;
			/* one body, one address: the records of one configuration share it */
			uint32_t b = source_body(&src[i]);
			int c = !min                        ? -1
				: b != NO_BODY && b == body ? 0
							    : vip_addr_cmp(source_addr(p, &src[i]), min);
			if (c < 0 || (c == 0 && body == NO_BODY))
				body = b;
			if (c < 0)
				min = source_addr(p, &src[i]);
		}
		if (!min)
			return n;
		if (out)
			out[n] = (struct asrc){ .addr = *min, .body = body };
		n++;
		struct vip_addr cur = *min;
		for (size_t i = 0; i < k; i++) {
			if (src[i].i == src[i].n)
				continue;
			uint32_t b = source_body(&src[i]);
			if ((b != NO_BODY && b == body) || vip_addr_equal(source_addr(p, &src[i]), &cur)) {
				src[i].i++;
				source_settle(&src[i]);
			}
		}
	}
}

/* The sorted union of the local addresses, every member's record addresses and the ghosts'. */
static int collect_addrs(const struct vip_cl_proto *p, struct asrc **ret, size_t *ret_n)
{
	struct asource src[1 + VIP_CL_MAX_MEMBERS + ARRAY_SIZE(p->ghosts)];
	size_t k = 0;

	src[k++] = (struct asource){ .l = p->l, .n = p->n_l };
	for (size_t i = 0; i < p->n_m && k < ARRAY_SIZE(src); i++)
		if (p->m[i].anode >= 0 && p->m[i].n_records)
			src[k++] = (struct asource){ .r = p->m[i].records, .n = p->m[i].n_records };
	for (size_t i = 0; i < p->n_ghosts && k < ARRAY_SIZE(src); i++)
		if (p->ghosts[i].anode >= 0 && p->ghosts[i].n_addrs)
			src[k++] = (struct asource){ .g = p->ghosts[i].addrs, .n = p->ghosts[i].n_addrs };
	size_t n = merge_sources(p, src, k, NULL);
	struct asrc *a = malloc((n + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	merge_sources(p, src, k, a);
	*ret = a;
	*ret_n = n;
	return 0;
}

/* What the records say of one table entry, for the assignment of one rebuild (not kept). */
struct pcfg {
	uint64_t candidates, kept, prefer;
	uint64_t bind_d, svc_d;
	uint32_t follow;   /* pbody.follow of the first configured record */
	uint32_t in_flags; /* VIP_CL_F_UNSAFE / BROKEN */
	bool cfg_seen;
};

static void add_record(const struct vip_cl_proto *p, struct pvip *e, struct pcfg *c, const struct prec *rec,
		       int anode)
{
	const struct pbody *b = vip_cl_body(p, rec->body);
	uint64_t bit = vip_cl_bit(anode);

	if (rec->flags & VIP_CL_R_HELD) {
		e->held |= bit;
		if (!(rec->flags & VIP_CL_R_RELEASING))
			c->kept |= bit;
	}
	if (!(rec->flags & VIP_CL_R_CONFIGURED))
		return;
	if (!(rec->flags & VIP_CL_R_DOWN))
		c->candidates |= bit;
	if (rec->flags & VIP_CL_R_PREFER)
		c->prefer |= bit;
	bool follows = rec->flags & VIP_CL_R_FOLLOW;
	/* the follow target's bare body: one per address (proto-body.c) */
	uint32_t follow = follows ? b->follow : 0;
	if (!c->cfg_seen) {
		c->cfg_seen = true;
		c->bind_d = b->binding_digest;
		c->svc_d = b->services_digest;
		e->has_follow = follows;
		c->follow = follow;
		return;
	}
	if (c->bind_d != b->binding_digest)
		c->in_flags |= VIP_CL_F_BROKEN;
	if (c->svc_d != b->services_digest || e->has_follow != follows || (follows && c->follow != follow))
		c->in_flags |= VIP_CL_F_UNSAFE;
}

/* The table's addresses are a[0..n) (sorted): add m's records. */
static void add_member(const struct vip_cl_proto *p, struct pvip *t, struct pcfg *c, const struct asrc *a,
		       size_t n, const struct pmember *m)
{
	size_t j = 0;

	for (size_t i = 0; i < m->n_records; i++) {
		const struct vip_addr *ra = vip_cl_rec_addr(p, &m->records[i]);
		uint32_t b = m->records[i].body;
		while (j < n && a[j].body != b && vip_addr_cmp(&a[j].addr, ra) < 0)
			j++;
		if (j < n && (a[j].body == b || vip_addr_equal(&a[j].addr, ra)))
			add_record(p, &t[j], &c[j], &m->records[i], m->anode);
	}
}

/* A ghost holds its addresses, releasing: a holder, never a keeper or candidate. */
static void add_ghost(struct pvip *t, const struct asrc *a, size_t n, const struct pghost *g)
{
	size_t j = 0;

	for (size_t i = 0; i < g->n_addrs; i++) {
		while (j < n && vip_addr_cmp(&a[j].addr, &g->addrs[i]) < 0)
			j++;
		if (j < n && vip_addr_equal(&a[j].addr, &g->addrs[i]))
			t[j].held |= vip_cl_bit(g->anode);
	}
}

/*
 * Entries t[0..n) for the addresses a[0..n), with the persistent fields of
 * the current table's entry of each address, and a reference on a body of
 * it (one it has; the bare body of an address only a ghost holds). 0 or -ENOMEM.
 */
static int table_entries(struct vip_cl_proto *p, const struct asrc *a, size_t n, struct pvip *t)
{
	for (size_t i = 0, j = 0; i < n; i++) {
		while (j < p->n_t && vip_addr_cmp(vip_cl_table_addr(p, &p->t[j]), &a[i].addr) < 0)
			j++;
		if (j < p->n_t && vip_addr_equal(vip_cl_table_addr(p, &p->t[j]), &a[i].addr)) {
			t[i] = p->t[j]; /* keep the persistent fields */
		} else {
			t[i].owner = -1;
			t[i].move_to = -1;
		}
		t[i].held = 0;
		t[i].has_follow = false;
		int r = 0;
		if (a[i].body != NO_BODY) {
			t[i].body = a[i].body;
			vip_cl_body_ref(p, a[i].body);
		} else {
			r = vip_cl_body_get(p, &a[i].addr, NULL, 0, 0, &t[i].body);
		}
		if (r < 0) {
			while (i--)
				vip_cl_body_put(p, t[i].body);
			return r;
		}
	}
	return 0;
}

/* Rebuild the table; *ret_cfg (malloc'ed, one per entry) is what the assignment reads besides. */
static int table_rebuild(struct vip_cl_proto *p, struct pcfg **ret_cfg)
{
	_cleanup_free_ struct asrc *addrs = NULL;
	size_t n = 0;
	int r = collect_addrs(p, &addrs, &n);
	if (r < 0)
		return r;
	struct pvip *t = calloc(n + 1, sizeof(*t));
	struct pcfg *c = calloc(n + 1, sizeof(*c));
	r = t && c ? table_entries(p, addrs, n, t) : -ENOMEM;
	if (r < 0) {
		free(t);
		free(c);
		return r;
	}
	for (size_t k = 0; k < p->n_m; k++)
		if (p->m[k].anode >= 0)
			add_member(p, t, c, addrs, n, &p->m[k]);
	for (size_t k = 0; k < p->n_ghosts; k++)
		if (p->ghosts[k].anode >= 0)
			add_ghost(t, addrs, n, &p->ghosts[k]);
	vip_cl_table_free(p);
	p->t = t;
	p->n_t = n;
	*ret_cfg = c;
	return 0;
}

void vip_cl_table_free(struct vip_cl_proto *p)
{
	for (size_t i = 0; i < p->n_t; i++)
		vip_cl_body_put(p, p->t[i].body);
	free(p->t);
	p->t = NULL;
	p->n_t = 0;
}

int vip_cl_table_rebuild(struct vip_cl_proto *p)
{
	struct pcfg *c = NULL;
	int r = table_rebuild(p, &c);

	free(c);
	return r;
}

static void fill_input(const struct vip_cl_proto *p, const struct pcfg *c, struct vip_cl_avip *v)
{
	for (size_t i = 0; i < p->n_t; i++) {
		const struct pvip *e = &p->t[i];
		v[i] = (struct vip_cl_avip){
			.addr = *vip_cl_table_addr(p, e),
			.candidates = c[i].candidates,
			.holders = e->held | e->granted,
			.keepers = c[i].kept | e->granted,
			.prefer = c[i].prefer,
			.flags = c[i].in_flags,
			.prev_owner = e->owner,
			.prev_pinned = e->pinned,
			.move_to = e->move_to,
			.follow = -1,
		};
		const struct pvip *f = e->has_follow && c[i].follow
					       ? vip_cl_table_find(p, &vip_cl_body(p, c[i].follow - 1)->addr)
					       : NULL;
		if (f)
			v[i].follow = f - p->t;
	}
}

int vip_cl_table_recompute(struct vip_cl_proto *p, uint64_t now, bool balance)
{
	_cleanup_free_ struct pcfg *c = NULL;
	int r = table_rebuild(p, &c);
	if (r < 0 || !p->round_complete)
		return r;
	for (size_t i = 0; i < p->n_m; i++)
		if (p->m[i].anode >= 0) {
			struct vip_cl_anode *a = &p->nodes[p->m[i].anode];
			a->mature = p->m[i].mature && !p->m[i].silent;
			a->out = p->m[i].out && !p->m[i].silent;
		}
	_cleanup_free_ struct vip_cl_avip *in_v = calloc(p->n_t + 1, sizeof(*in_v));
	_cleanup_free_ struct vip_cl_aout *out = calloc(p->n_t + 1, sizeof(*out));
	if (!in_v || !out)
		return -ENOMEM;
	fill_input(p, c, in_v);
	free(c); /* the assignment's input holds it now */
	c = NULL;
	struct vip_cl_assign_in in = {
		.nodes = p->nodes,
		.n_nodes = p->n_nodes,
		.vips = in_v,
		.n_vips = p->n_t,
		.balance = balance,
		.balance_set_size = p->set_size,
	};
	r = vip_cl_assign(&in, out, NULL);
	if (r < 0)
		return r;
	p->st.n_assign++;
	for (size_t i = 0; i < p->n_t; i++) {
		struct pvip *e = &p->t[i];
		if (out[i].owner != e->owner || e->since == 0)
			e->since = now;
		e->owner = out[i].owner;
		e->pinned = out[i].flags & VIP_CL_F_PINNED;
		e->plumb = out[i].plumb;
		e->flags = out[i].flags;
		e->move_to = -1;
		if (e->plumb)
			e->granted |= vip_cl_bit(e->owner);
	}
	return 0;
}

bool vip_cl_table_unbalanced(const struct vip_cl_proto *p)
{
	uint32_t load[VIP_CL_MAX_MEMBERS] = { 0 };
	uint32_t lo = UINT32_MAX, hi = 0;

	if (p->n_nodes < 2)
		return false;
	for (size_t i = 0; i < p->n_t; i++)
		if (p->t[i].owner >= 0 && !p->t[i].has_follow)
			load[p->t[i].owner]++;
	for (size_t k = 0; k < p->n_nodes; k++) {
		if (p->nodes[k].silent || p->nodes[k].out)
			continue; /* takes nothing and gives nothing */
		lo = load[k] < lo ? load[k] : lo;
		hi = load[k] > hi ? load[k] : hi;
	}
	return lo != UINT32_MAX && hi > lo + 1;
}

/* ---- queries ---- */

size_t vip_cl_proto_n_vips(const struct vip_cl_proto *p)
{
	return p->n_t;
}

static const char *anode_name(const struct vip_cl_proto *p, int a)
{
	return a >= 0 && (size_t)a < p->n_nodes ? p->nodes[a].name : NULL;
}

int vip_cl_proto_vip(const struct vip_cl_proto *p, size_t i, struct vip_cl_vip_info *ret)
{
	if (i >= p->n_t)
		return -ERANGE;
	const struct pvip *e = &p->t[i];
	const struct lvip *l = vip_cl_local_find(p, vip_cl_table_addr(p, e));
	uint64_t others = e->owner >= 0 ? (e->held | e->granted) & ~vip_cl_bit(e->owner) : 0;
	*ret = (struct vip_cl_vip_info){
		.addr = *vip_cl_table_addr(p, e),
		.owner = p->round_complete ? anode_name(p, e->owner) : NULL,
		.holder = others ? anode_name(p, __builtin_ctzll(others)) : NULL,
		.preference = l ? vip_cl_local_pref(p, l) : NULL,
		.flags = p->round_complete ? e->flags : 0,
		.since = e->since,
		.local_hold = l && l->want,
	};
	return 0;
}

size_t vip_cl_proto_n_members(const struct vip_cl_proto *p)
{
	return p->n_m;
}

int vip_cl_proto_member(const struct vip_cl_proto *p, size_t i, struct vip_cl_member_info *ret)
{
	if (i >= p->n_m)
		return -ERANGE;
	const struct pmember *m = &p->m[i];
	uint32_t load = 0;
	for (size_t k = 0; m->anode >= 0 && k < p->n_t; k++)
		load += p->t[k].owner == m->anode;
	*ret = (struct vip_cl_member_info){
		.member = m->id,
		.name = m->name,
		.self = (ssize_t)i == p->self,
		.mature = m->mature,
		.monitor = m->monitor,
		.silent = p->round_complete && !m->heard && !vip_cl_left_out(m),
		.waiting = !p->round_complete && !m->heard && !vip_cl_left_out(m),
		.untrusted = m->untrusted,
		.out = m->out,
		.load = load,
	};
	return 0;
}

void vip_cl_proto_status(const struct vip_cl_proto *p, struct vip_cl_status *ret)
{
	*ret = p->st;
	ret->in_view = p->in_view;
	ret->round_complete = p->round_complete;
	ret->quorate = p->quorate;
	ret->live = p->live;
	ret->authenticated = p->key != NULL;
	ret->mature = p->mature;
	ret->ring_seq = p->ring_seq;
	ret->view_since = p->view_since;
	ret->stable_since = p->stable_since;
	ret->n_ghosts = vip_cl_ghosts_active(p);
	ret->n_waiting = ret->n_silent = 0;
	for (size_t i = 0; i < p->n_m; i++) {
		if (p->m[i].heard || vip_cl_left_out(&p->m[i]))
			continue;
		ret->n_waiting += !p->round_complete;
		ret->n_silent += p->round_complete;
	}
}

void vip_cl_proto_mem(const struct vip_cl_proto *p, struct vip_cl_mem *ret)
{
	*ret = (struct vip_cl_mem){
		.table = p->n_t * sizeof(*p->t),
		.local = vip_cl_local_mem(p),
	};
	ret->records = vip_cl_bodies_mem(p);
	for (size_t i = 0; i < p->n_m; i++)
		ret->records += p->m[i].n_records * sizeof(*p->m[i].records);
	for (size_t i = 0; i < p->n_gone; i++)
		ret->records += p->gone[i].n_records * sizeof(*p->gone[i].records);
	for (size_t i = 0; i < p->n_ghosts; i++)
		ret->records += p->ghosts[i].n_addrs * sizeof(*p->ghosts[i].addrs);
}

const char *vip_cl_proto_nodename(const struct vip_cl_proto *p)
{
	return p->nodename;
}

const char *vip_cl_out_format(uint32_t out, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	snprintf(buf, len, "%s%s%s", out & VIP_CL_OUT_STANDBY ? "standby" : "",
		 (out & VIP_CL_OUT_ALL) == VIP_CL_OUT_ALL ? " " : "",
		 out & VIP_CL_OUT_UNHEALTHY ? "unhealthy" : "");
	if (!buf[0])
		snprintf(buf, len, "-");
	return buf;
}

const char *vip_cl_flags_format(uint32_t flags, char *buf, size_t len)
{
	static const struct {
		uint32_t f;
		const char *s;
	} words[] = {
		{ VIP_CL_F_OWNED, "owned" },       { VIP_CL_F_SAFE, "safe" },
		{ VIP_CL_F_CONFLICT, "conflict" }, { VIP_CL_F_UNSAFE, "UNSAFE" },
		{ VIP_CL_F_BROKEN, "BROKEN" },     { VIP_CL_F_MOVING, "moving" },
		{ VIP_CL_F_PINNED, "pinned" },
	};
	size_t n = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		if (!(flags & words[i].f))
			continue;
		int w = snprintf(buf + n, len - n, "%s%s", n ? " " : "", words[i].s);
		if (w < 0 || (size_t)w >= len - n)
			break;
		n += (size_t)w;
	}
	if (n == 0)
		snprintf(buf, len, "-");
	return buf;
}

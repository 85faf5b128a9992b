/* SPDX-License-Identifier: MIT */
/*
 * This node's side of the protocol: its configuration as it goes into STATE,
 * and the wanted set (what the engine should plumb).
 */
#include <stdlib.h>

#include "proto-internal.h"

struct lvip *vip_cl_local_find(const struct vip_cl_proto *p, const struct vip_addr *a)
{
	return vip_cl_body_find(p, p->l, p->n_l, sizeof(*p->l), a);
}

static uint64_t services_digest(const struct vipd_duravip *d)
{
	uint64_t h = VIP_CL_HASH_INIT;
	for (size_t i = 0; i < d->n_services; i++)
		h = vip_cl_hash_bytes(h, d->services[i], strlen(d->services[i]) + 1);
	return vip_cl_mix64(h);
}

static uint64_t binding_digest(const struct vipd_duravip *d)
{
	if (!d->binding)
		return 0;
	return vip_cl_mix64(vip_cl_hash_bytes(VIP_CL_HASH_INIT, d->binding, strlen(d->binding)));
}

/* A follow target: a binding name, or an address (optionally "addr:port"). */
static bool resolve_follow(const struct vipd_config *cfg, const char *follow, struct vip_addr *ret)
{
	for (size_t i = 0; i < cfg->n_duravips; i++)
		if (streq_ptr(cfg->duravips[i].binding, follow)) {
			*ret = cfg->duravips[i].addr;
			return true;
		}
	char buf[VIP_ADDR_STRLEN + 8];
	snprintf(buf, sizeof(buf), "%s", follow);
	if (vip_addr_from_string(buf, ret) == 0)
		return true;
	char *colon = strrchr(buf, ':');
	if (buf[0] == '[') {
		char *end = strchr(buf, ']');
		if (!end)
			return false;
		*end = '\0';
		return vip_addr_from_string(buf + 1, ret) == 0;
	}
	if (colon)
		*colon = '\0';
	return vip_addr_from_string(buf, ret) == 0;
}

static void prefs_free(char **prefs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(prefs[i]);
	free(prefs);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The distinct preferences of cfg, sorted, each copied once. 0 or -ENOMEM. */
static int prefs_build(const struct vipd_config *cfg, char ***ret, size_t *ret_n)
{
	_cleanup_free_ const char **all = malloc((cfg->n_duravips + 1) * sizeof(*all));
	size_t n = 0, k = 0;

	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_duravips; i++)
		if (cfg->duravips[i].preference)
			all[n++] = cfg->duravips[i].preference;
	qsort(all, n, sizeof(*all), cmp_str);
	char **prefs = calloc(n + 1, sizeof(*prefs));
	if (!prefs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (k > 0 && strcmp(prefs[k - 1], all[i]) == 0)
			continue;
		if (!(prefs[k++] = strdup(all[i]))) {
			prefs_free(prefs, k);
			return -ENOMEM;
		}
	}
	*ret = prefs;
	*ret_n = k;
	return 0;
}

/* 1 + the index of s in prefs, 0 when s is NULL. */
static uint32_t pref_index(char **prefs, size_t n, const char *s)
{
	char **hit = s ? bsearch(&s, prefs, n, sizeof(*prefs), cmp_str) : NULL;
	return hit ? (uint32_t)(hit - prefs) + 1 : 0;
}

/* Give back the bodies of l[0..n) and free l. */
static void lvips_free(struct vip_cl_proto *p, struct lvip *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vip_cl_body_put(p, l[i].body);
	free(l);
}

/* Fill d's entry e (configured): its body and its preference. 0 or -ENOMEM. */
static int local_fill(struct vip_cl_proto *p, const struct vipd_config *cfg, const struct vipd_duravip *d,
		      struct lvip *e, char **prefs, size_t n_prefs)
{
	struct vip_addr follow;
	bool has_follow = d->follow && resolve_follow(cfg, d->follow, &follow) &&
			  !vip_addr_equal(&follow, &d->addr);

	e->prefer = streq_ptr(d->preference, p->nodename);
	e->pref = pref_index(prefs, n_prefs, d->preference);
	return vip_cl_body_get(p, &d->addr, has_follow ? &follow : NULL, binding_digest(d),
			       services_digest(d), &e->body);
}

/* The entry of a configured address: what the engine may hold of it is kept. 0 or -ENOMEM. */
static int local_configured(struct vip_cl_proto *p, const struct vipd_config *cfg,
			    const struct vipd_duravip *d, struct lvip *e, char **prefs, size_t n_prefs)
{
	const struct lvip *old = vip_cl_local_find(p, &d->addr);

	*e = (struct lvip){ .configured = true };
	if (old) {
		e->want = old->want;
		e->may_hold = old->may_hold;
		e->down = old->down;
		e->probe = old->probe;
		e->no_probe = old->no_probe;
		e->early = old->early;
	}
	return local_fill(p, cfg, d, e, prefs, n_prefs);
}

/* Carry o, unconfigured now but maybe held, into e (the address's bare body). 0 or -ENOMEM. */
static int local_carry(struct vip_cl_proto *p, const struct lvip *o, struct lvip *e)
{
	*e = (struct lvip){ .want = o->want, .may_hold = o->may_hold };
	return vip_cl_body_get(p, vip_cl_local_addr(p, o), NULL, 0, 0, &e->body);
}

/* Install the new list (the old one gives its bodies back). */
static void local_set(struct vip_cl_proto *p, struct lvip *l, size_t n, char **prefs, size_t n_prefs)
{
	vip_cl_local_free(p);
	p->l = l;
	p->n_l = n;
	p->prefs = prefs;
	p->n_prefs = n_prefs;
}

/*
 * The new local list from cfg, keeping want/may_hold/down of every address
 * already known, and keeping unconfigured ones this node may still hold.
 */
int vip_cl_local_load(struct vip_cl_proto *p, const struct vipd_config *cfg)
{
	size_t cap = cfg->n_duravips + p->n_l + 1, n = 0, n_prefs = 0, j = 0;
	char **prefs = NULL;
	int r = prefs_build(cfg, &prefs, &n_prefs);
	struct lvip *l = r < 0 ? NULL : calloc(cap, sizeof(*l));

	for (size_t i = 0; l && r == 0 && i <= cfg->n_duravips; i++) {
		const struct vipd_duravip *d = i < cfg->n_duravips ? &cfg->duravips[i] : NULL;
		/* carry unconfigured, possibly held addresses that sort before d */
		for (; r == 0 && j < p->n_l &&
		       (!d || vip_addr_cmp(vip_cl_local_addr(p, &p->l[j]), &d->addr) < 0);
		     j++)
			if (p->l[j].may_hold || p->l[j].want)
				r = local_carry(p, &p->l[j], &l[n++]);
		if (!d || r < 0)
			break;
		if (n > 0 && vip_addr_equal(vip_cl_local_addr(p, &l[n - 1]), &d->addr))
			continue; /* duplicate in config: first wins */
		r = local_configured(p, cfg, d, &l[n++], prefs, n_prefs);
		if (j < p->n_l && vip_addr_equal(vip_cl_local_addr(p, &p->l[j]), &d->addr))
			j++;
	}
	if (!l || r < 0) {
		if (l) /* the failed entry took no body */
			lvips_free(p, l, n - 1);
		prefs_free(prefs, n_prefs);
		return r < 0 ? r : -ENOMEM;
	}
	local_set(p, l, n, prefs, n_prefs);
	return 0;
}

void vip_cl_local_free(struct vip_cl_proto *p)
{
	lvips_free(p, p->l, p->n_l);
	prefs_free(p->prefs, p->n_prefs);
	p->l = NULL;
	p->n_l = 0;
	p->prefs = NULL;
	p->n_prefs = 0;
}

size_t vip_cl_local_mem(const struct vip_cl_proto *p)
{
	size_t n = p->n_l * sizeof(*p->l) + p->n_prefs * sizeof(*p->prefs);

	for (size_t i = 0; i < p->n_prefs; i++)
		n += strlen(p->prefs[i]) + 1;
	return n;
}

/* ---- STATE ---- */

int vip_cl_send_state(struct vip_cl_proto *p, uint64_t now)
{
	struct vip_cl_msg m = {
		.type = VIP_CL_MSG_STATE,
		.mature = p->mature,
		.out = (uint8_t)p->out,
		.view = p->view_digest,
		.serial = p->state_serial + 1,
	};
	_cleanup_free_ struct vip_cl_record *rec = calloc(p->n_l + 1, sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	snprintf(m.name, sizeof(m.name), "%s", p->nodename);
	for (size_t i = 0; i < p->n_l; i++) {
		const struct lvip *l = &p->l[i];
		const struct pbody *b = vip_cl_body(p, l->body);
		uint8_t f = 0;
		if (!l->configured && !l->may_hold)
			continue;
		f |= l->configured ? VIP_CL_R_CONFIGURED : 0;
		f |= l->may_hold ? VIP_CL_R_HELD : 0;
		f |= l->may_hold && !l->want ? VIP_CL_R_RELEASING : 0;
		f |= l->configured && l->prefer ? VIP_CL_R_PREFER : 0;
		f |= l->down ? VIP_CL_R_DOWN : 0;
		f |= l->configured && b->follow ? VIP_CL_R_FOLLOW : 0;
		rec[m.n_records++] = (struct vip_cl_record){
			.addr = b->addr,
			.flags = f,
			.binding_digest = b->binding_digest,
			.services_digest = b->services_digest,
			.follow = b->follow ? vip_cl_body(p, b->follow - 1)->addr : (struct vip_addr){ 0 },
		};
	}
	m.records = rec;
	ssize_t ng = vip_cl_ghosts_peers(p, &m.peers);
	if (ng < 0)
		return (int)ng;
	m.n_peers = (size_t)ng;
	int r = vip_cl_queue_send(p, &m);
	for (size_t i = 0; i < m.n_peers; i++)
		free(m.peers[i].records);
	free(m.peers);
	if (r < 0)
		return r;
	p->state_serial = m.serial;
	if (!p->state_pending) {
		p->state_pending = true;
		p->state_backoff_ms = p->round_timeout_ms;
		p->state_due = now + p->state_backoff_ms;
	}
	return 0;
}

/* ---- the wanted set ---- */

static bool probe_first(const struct vip_cl_proto *p, const struct lvip *l)
{
	return (l->probe || p->view_joined) && !l->no_probe;
}

/*
 * Does the takeover delay hold l back? Not with duravip_takeover_guard =
 * probe when the engine probes l before plumbing it: a holder still on the
 * link answers the probe, one that is not cannot be reached there either.
 */
static bool guard_holds(const struct vip_cl_proto *p, const struct lvip *l)
{
	return p->guarded && !(p->guard_probe && !p->probe_unable && probe_first(p, l));
}

/*
 * What this node wants of l (its table entry e, or NULL) now; with
 * past_guard, as if the takeover delay had ended.
 */
static bool decide_want(const struct vip_cl_proto *p, const struct lvip *l, const struct pvip *e, int me,
			bool past_guard)
{
	bool keep = p->qpolicy == VIP_QUORUM_KEEP;
	bool allowed = ((p->quorate && p->live) || keep) && (p->in_view || keep) && l->configured && !l->down;

	if (!p->round_complete || p->quorum_fence)
		return allowed && l->want; /* between views: hold what we hold, plumb nothing new */
	/* the same while the takeover delay runs, but for what was wanted early only
	 * for its probe, and can no longer be probed (probe_unable) */
	if (guard_holds(p, l) && !past_guard)
		return allowed && l->want && !l->early;
	/*
	 * Not while our RELEASED of it is on its way: delivered after we
	 * plumbed it again, it would tell the group we do not hold it. Its
	 * delivery brings the grant again. Nothing new either while a STATE
	 * of ours is on its way: it does not list what we would plumb now,
	 * and delivered after a view with the same member list it counts as
	 * our STATE of that view (docs/protocol.md, "Authentication").
	 */
	return allowed && me >= 0 && e && e->owner == me && e->plumb && !e->rel_pending &&
	       (l->want || !p->state_pending);
}

int vip_cl_sweep_one(struct vip_cl_proto *p, struct pvip *e)
{
	int me = vip_cl_table_self_anode(p);

	if (me < 0 || !p->in_view || e->rel_pending || !((e->held | e->granted) & vip_cl_bit(me)))
		return 0;
	/* The permitted owner counts as a holder anyway: saying RELEASED would
	 * only be answered by the same grant again. */
	if (p->round_complete && e->owner == me && e->plumb)
		return 0;
	const struct lvip *l = vip_cl_local_find(p, vip_cl_table_addr(p, e));
	if (l && (l->may_hold || l->want))
		return 0;
	e->rel_pending = true;
	e->rel_serial = p->state_serial;
	return vip_cl_queue_released(p, vip_cl_table_addr(p, e));
}

/*
 * Tell the group about every address the table still counts this node as a
 * holder of, though the engine no longer has it (released, or granted but
 * never plumbed) and this node is not its permitted owner.
 */
static int sweep_released(struct vip_cl_proto *p)
{
	for (size_t i = 0; i < p->n_t; i++) {
		int r = vip_cl_sweep_one(p, &p->t[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * The table entry of l, walking the table (sorted like the list) from *j,
 * which only moves forward; the entry usually refers to l's own body.
 */
static const struct pvip *table_walk(const struct vip_cl_proto *p, const struct lvip *l, size_t *j)
{
	const struct vip_addr *a = vip_cl_local_addr(p, l);

	while (*j < p->n_t && p->t[*j].body != l->body &&
	       vip_addr_cmp(vip_cl_table_addr(p, &p->t[*j]), a) < 0)
		(*j)++;
	if (*j < p->n_t && (p->t[*j].body == l->body || vip_addr_equal(vip_cl_table_addr(p, &p->t[*j]), a)))
		return &p->t[*j];
	return NULL;
}

int vip_cl_update_wants(struct vip_cl_proto *p)
{
	int me = vip_cl_table_self_anode(p);
	size_t j = 0;
	int r;

	for (size_t i = 0; i < p->n_l; i++) {
		struct lvip *l = &p->l[i];
		const struct pvip *e = table_walk(p, l, &j);

		if (l->probe && p->round_complete) {
			/* another member's records hold it again: its release will be ordered
			 * (our own hold may be one we are releasing, not a confirmation) */
			uint64_t others = e ? e->held & ~(me >= 0 ? vip_cl_bit(me) : 0) : 0;
			l->probe = others == 0;
		}
		bool w = decide_want(p, l, e, me, false);
		/* a want that comes while the delay runs comes for its probe (guard_holds) */
		l->early = w && p->guarded && (l->want ? l->early : true);
		if (w == l->want)
			continue;
		l->want = w;
		if (w)
			l->may_hold = true;
		r = vip_cl_queue_local(p, w ? LACT_HOLD : LACT_RELEASE, vip_cl_local_addr(p, l));
		if (r < 0)
			return r;
		p->generation++;
	}
	return sweep_released(p);
}

uint64_t vip_cl_proto_guard_until(const struct vip_cl_proto *p)
{
	return p->guarded ? p->guard_until : 0;
}

bool vip_cl_proto_wants_after_guard(const struct vip_cl_proto *p, const struct vip_addr *addr)
{
	const struct lvip *l = vip_cl_local_find(p, addr);
	return l && p->guarded &&
	       decide_want(p, l, vip_cl_table_find(p, addr), vip_cl_table_self_anode(p), true);
}

uint64_t vip_cl_proto_view_seq(const struct vip_cl_proto *p)
{
	return p->st.n_views;
}

bool vip_cl_proto_probe_first(const struct vip_cl_proto *p, const struct vip_addr *addr)
{
	const struct lvip *l = vip_cl_local_find(p, addr);
	return l && !p->probe_unable && probe_first(p, l);
}

int vip_cl_proto_probe_unable(struct vip_cl_proto *p, const struct vip_addr *addr)
{
	struct lvip *l = addr ? vip_cl_local_find(p, addr) : NULL;

	if (addr ? !l || l->no_probe : p->probe_unable)
		return 0;
	if (l)
		l->no_probe = true;
	else
		p->probe_unable = true;
	return vip_cl_update_wants(p);
}

bool vip_cl_proto_wants(const struct vip_cl_proto *p, const struct vip_addr *addr)
{
	const struct lvip *l = vip_cl_local_find(p, addr);
	return l && l->want;
}

ssize_t vip_cl_proto_desired(const struct vip_cl_proto *p, struct vip_addr **ret)
{
	struct vip_addr *a = calloc(p->n_l + 1, sizeof(*a));
	size_t n = 0;

	if (!a)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_l; i++)
		if (p->l[i].want)
			a[n++] = *vip_cl_local_addr(p, &p->l[i]);
	*ret = a;
	return (ssize_t)n;
}

uint64_t vip_cl_proto_generation(const struct vip_cl_proto *p)
{
	return p->generation;
}

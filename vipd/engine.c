/* SPDX-License-Identifier: MIT */
/*
 * vipd/engine: desired vs observed, level-triggered (see engine.h).
 *
 * The observed state of each DuraVIP is one field (the link it is on), kept
 * from port events and rebuilt from a dump on start and after a resync. A
 * reconcile walks the DuraVIPs once, builds one remove batch and one add
 * batch, and applies them; anything that failed stays different and is
 * retried by the next reconcile.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine-internal.h"
#include "log.h"

/* Batches larger than this are logged as one summary line (each address at debug):
 * ten thousand log lines would slow the failover they describe. */
#define LOG_EACH_MAX 16
/* The first slice of a large acquisition; each next slice is twice as large. */
#define ENGINE_ADD_SLICE 32
/* A failover mark older than this measures nothing (this node took nothing). */
#define FAILOVER_MARK_TTL_MS 10000u

static const char *const event_names[_VIPD_EV_MAX] = {
	[VIPD_EV_ACQUIRED] = "acquired",   [VIPD_EV_RELEASED] = "released",   [VIPD_EV_PUT_BACK] = "put-back",
	[VIPD_EV_STRAY] = "stray-removed", [VIPD_EV_LINK_DOWN] = "link-down", [VIPD_EV_LINK_UP] = "link-up",
	[VIPD_EV_RESYNC] = "resync",       [VIPD_EV_ERROR] = "error",
};

const char *vipd_engine_event_to_string(enum vipd_engine_event ev)
{
	return (unsigned)ev < _VIPD_EV_MAX ? event_names[ev] : NULL;
}

static int engine_cmp_vip(const void *a, const void *b)
{
	return vip_addr_cmp(&((const struct engine_vip *)a)->conf->addr,
			    &((const struct engine_vip *)b)->conf->addr);
}

struct engine_vip *engine_vips_find(const struct engine_vip *v, size_t n, const struct vip_addr *a)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = vip_addr_cmp(&v[mid].conf->addr, a);

		if (c == 0)
			return (struct engine_vip *)&v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct engine_vip *engine_vip_find(struct vipd_engine *e, const struct vip_addr *a)
{
	return engine_vips_find(e->vips, e->n_vips, a);
}

/* Entries for every DuraVIP of cfg, unresolved and unobserved. */
int engine_vips_from_config(const struct vipd_config *cfg, struct engine_vip **ret, size_t *ret_n)
{
	struct engine_vip *v = calloc(cfg->n_duravips ? cfg->n_duravips : 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_duravips; i++) {
		v[i].conf = &cfg->duravips[i];
		v[i].prefix = cfg->duravips[i].prefix;
		v[i].resolve_error = 1; /* not tried yet */
	}
	qsort(v, cfg->n_duravips, sizeof(*v), engine_cmp_vip);
	*ret = v;
	*ret_n = cfg->n_duravips;
	return 0;
}

int vipd_engine_new(const struct vipd_engine_deps *deps, const struct vipd_config *cfg,
		    struct vipd_engine **ret)
{
	struct vipd_engine *e = calloc(1, sizeof(*e));
	int r;

	if (!e)
		return -ENOMEM;
	e->deps = *deps;
	e->cfg = cfg;
	r = engine_vips_from_config(cfg, &e->vips, &e->n_vips);
	if (r < 0) {
		free(e);
		return r;
	}
	e->dirty = true;
	e->unavail_dirty = true;
	*ret = e;
	return 0;
}

void vipd_engine_free(struct vipd_engine *e)
{
	if (!e)
		return;
	engine_probe_free(e);
	free(e->vips);
	free(e->links);
	vip_port_table_clear(&e->strays);
	free(e);
}

void vipd_engine_set_proto(struct vipd_engine *e, struct vip_cl_proto *proto)
{
	e->deps.proto = proto;
	e->unavail_dirty = true;
	e->dirty = true;
}

bool engine_is_wanted(const struct vipd_engine *e, const struct engine_vip *v)
{
	return e->deps.proto && vip_cl_proto_wants(e->deps.proto, &v->conf->addr);
}

void engine_req_from(struct vip_port_req *q, const struct vip_addr *a, unsigned prefix, int ifindex,
		     const char *label)
{
	memset(q, 0, sizeof(*q));
	q->addr = *a;
	q->prefix = prefix;
	q->ifindex = ifindex;
	if (label)
		snprintf(q->label, sizeof(q->label), "%s", label);
}

/* Record that a is on link ifindex (dump or ADDR_NEW). */
static void observe_new(struct vipd_engine *e, const struct vip_port_addr *a)
{
	struct engine_vip *v = engine_vip_find(e, &a->addr);

	if (v) {
		/* Keep the target link when it is there too. */
		if (v->obs_ifindex != v->ifindex || v->ifindex == 0) {
			v->obs_ifindex = a->ifindex;
			v->obs_prefix = a->prefix;
		}
		e->dirty = true;
		return;
	}
	if (a->ours && !vip_port_table_find(&e->strays, &a->addr, a->ifindex)) {
		vip_port_table_add(&e->strays, a);
		e->dirty = true;
	}
}

/* Rebuild the observed set from a dump of every address. */
static void observe_all(struct vipd_engine *e, const struct vip_port_table *t)
{
	for (size_t i = 0; i < e->n_vips; i++) {
		e->vips[i].obs_ifindex = 0;
		e->vips[i].expect_del = 0;
	}
	vip_port_table_clear(&e->strays);
	for (size_t i = 0; i < t->n; i++)
		observe_new(e, &t->items[i]);
	e->dirty = true;
}

int vipd_engine_resync(struct vipd_engine *e, uint64_t now)
{
	struct vip_port_table t = { 0 };
	int r;

	r = e->deps.port_ops->dump(e->deps.port, 0, &t);
	if (r < 0) {
		e->m.netlink_errors++;
		return r;
	}
	observe_all(e, &t);
	vip_port_table_clear(&t);
	for (size_t i = 0; i < e->n_links; i++) {
		struct vip_port_link l;

		if (e->deps.port_ops->link_get(e->deps.port, e->links[i].ifindex, &l) == 0)
			e->links[i].up = l.up;
	}
	(void)now;
	return 0;
}

int vipd_engine_start(struct vipd_engine *e, uint64_t now)
{
	struct vipd_sysview sv = { 0 };
	int r;

	/* One view of the system places every DuraVIP, gives the links' states and
	 * the observed addresses: a constant number of dumps, whatever the count. */
	r = vipd_sysview_read(e->deps.port_ops, e->deps.port, &sv);
	if (r < 0) {
		e->m.netlink_errors++;
		return r;
	}
	(void)engine_place(e, false, &sv);
	r = engine_links_rebuild(e, &sv.links);
	if (r >= 0)
		observe_all(e, &sv.addrs);
	vipd_sysview_clear(&sv);
	if (r < 0)
		return r;
	e->unavail_dirty = true;
	return engine_push_unavailable(e, now);
}

void vipd_engine_on_hold(struct vipd_engine *e, const struct vip_addr *addr)
{
	struct engine_vip *v = engine_vip_find(e, addr);

	if (v)
		v->release_pending = false;
	else
		log_warning("The group gave this node %s, which is not in its configuration",
			    vip_addr_to_string(addr, (char[VIP_ADDR_STRLEN]){ 0 }, VIP_ADDR_STRLEN));
	e->dirty = true;
}

void vipd_engine_on_release(struct vipd_engine *e, const struct vip_addr *addr)
{
	struct engine_vip *v = engine_vip_find(e, addr);

	if (v)
		v->release_pending = true;
	else if (e->deps.proto)
		/* Never configured here, so never plumbed here: released already. */
		vip_cl_proto_local_released(e->deps.proto, addr, e->deps.clock ? e->deps.clock() : 0);
	e->dirty = true;
}

static void on_addr_del(struct vipd_engine *e, const struct vip_port_addr *a)
{
	struct engine_vip *v = engine_vip_find(e, &a->addr);
	char buf[VIP_ADDR_STRLEN];

	if (!v) {
		for (size_t i = 0; i < e->strays.n; i++)
			if (vip_addr_equal(&e->strays.items[i].addr, &a->addr) &&
			    e->strays.items[i].ifindex == a->ifindex) {
				e->strays.items[i] = e->strays.items[--e->strays.n];
				break;
			}
		return;
	}
	if (v->obs_ifindex != a->ifindex || v->obs_prefix != a->prefix) {
		/* Another copy (old prefix or link) went: most likely our own removal. */
		if (v->expect_del > 0)
			v->expect_del--;
		return;
	}
	v->obs_ifindex = 0;
	if (v->expect_del > 0) {
		v->expect_del--;
		return;
	}
	if (!engine_is_wanted(e, v) || !engine_vip_available(e, v))
		return;
	vip_addr_to_string(&v->conf->addr, buf, sizeof(buf));
	log_warning_ratelimit("DuraVIP %s was removed from %s by someone else; putting it back", buf,
			      engine_vip_ifname(e, v));
	e->m.put_back++;
	engine_emit(e, VIPD_EV_PUT_BACK, &v->conf->addr, engine_vip_ifname(e, v));
	e->dirty = true;
}

int vipd_engine_on_port_event(struct vipd_engine *e, const struct vip_port_event *ev, uint64_t now)
{
	switch (ev->type) {
	case VIP_PORT_EV_ADDR_NEW:
		observe_new(e, &ev->addr);
		return 0;
	case VIP_PORT_EV_ADDR_DEL:
		on_addr_del(e, &ev->addr);
		return 0;
	case VIP_PORT_EV_RESYNC_NEEDED:
		e->m.resyncs++;
		log_notice_ratelimit("Address events were lost; re-reading every address");
		engine_emit(e, VIPD_EV_RESYNC, NULL, NULL);
		return vipd_engine_resync(e, now);
	case VIP_PORT_EV_LINK_UP:
	case VIP_PORT_EV_LINK_DOWN:
	case VIP_PORT_EV_LINK_GONE:
	case VIP_PORT_EV_LINK_MAC:
		engine_on_link_event(e, ev, now);
		return 0;
	case VIP_PORT_EV_NEIGH_NEW:
	case VIP_PORT_EV_NEIGH_DEL:
		/* the shared neighbour cache learns from them (vipd/neigh.h); 1 (changed) is no error */
		if (e->deps.neigh && vipd_neigh_learn(e->deps.neigh, &ev->neigh,
						      ev->type == VIP_PORT_EV_NEIGH_DEL, now) == -ENOMEM)
			return -ENOMEM;
		return 0;
	default:
		return 0;
	}
}

int vipd_engine_drain_port(struct vipd_engine *e, uint64_t now)
{
	struct vip_port_event ev;
	int n = 0, r;

	/* Bounded: a flood is cut into slices; the fd stays readable for the rest. */
	for (int i = 0; i < 4096; i++) {
		r = e->deps.port_ops->next_event(e->deps.port, &ev);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		r = vipd_engine_on_port_event(e, &ev, now);
		if (r < 0)
			return r;
		n++;
	}
	return n;
}

bool vipd_engine_is_dirty(const struct vipd_engine *e)
{
	return e->dirty || e->unavail_dirty;
}

void engine_plan_free(struct plan *p)
{
	free(p->rm);
	free(p->rm_vip);
	free(p->add_vip);
}

static int plan_build(struct vipd_engine *e, struct plan *p, uint64_t now)
{
	size_t max = e->n_vips + e->strays.n + 1;

	p->rm = calloc(max, sizeof(*p->rm));
	p->rm_vip = calloc(max, sizeof(*p->rm_vip));
	p->add_vip = calloc(max, sizeof(*p->add_vip));
	if (!p->rm || !p->rm_vip || !p->add_vip)
		return -ENOMEM;
	for (size_t i = 0; i < e->strays.n; i++) {
		const struct vip_port_addr *s = &e->strays.items[i];

		engine_req_from(&p->rm[p->n_rm++], &s->addr, s->prefix, s->ifindex, NULL);
	}
	for (size_t i = 0; i < e->n_vips; i++) {
		struct engine_vip *v = &e->vips[i];
		bool want = engine_is_wanted(e, v) && engine_vip_available(e, v);

		bool right = v->obs_ifindex == v->ifindex && v->obs_prefix == v->prefix;

		if (v->obs_ifindex && (!want || !right)) {
			p->rm_vip[p->n_rm] = v;
			engine_req_from(&p->rm[p->n_rm++], &v->conf->addr, v->obs_prefix, v->obs_ifindex,
					NULL);
		}
		if (want && !right && engine_probe_gate(e, v, now))
			p->add_vip[p->n_add++] = v; /* its request is made with its slice (apply_adds) */
		else if (!want && !v->obs_ifindex)
			engine_probe_ahead(e, v, now);
	}
	return 0;
}

static void log_req_error(struct vipd_engine *e, const char *what, const struct vip_port_req *q)
{
	char buf[VIP_ADDR_STRLEN], detail[160];

	vip_addr_to_string(&q->addr, buf, sizeof(buf));
	snprintf(detail, sizeof(detail), "%s: %s%s%s", what, strerror(-q->result), q->errmsg[0] ? ": " : "",
		 q->errmsg);
	log_error_ratelimit("Failed to %s DuraVIP %s: %s%s%s%s", what, buf, strerror(-q->result),
			    q->errmsg[0] ? " (" : "", q->errmsg, q->errmsg[0] ? ")" : "");
	e->m.netlink_errors++;
	engine_emit(e, VIPD_EV_ERROR, &q->addr, detail);
}

int engine_apply_removes(struct vipd_engine *e, struct plan *p, uint64_t now)
{
	int r, failed = 0;
	char buf[VIP_ADDR_STRLEN];

	if (p->n_rm == 0)
		return 0;
	r = e->deps.port_ops->remove(e->deps.port, p->rm, p->n_rm);
	if (r < 0)
		e->m.netlink_errors++;
	for (size_t i = 0; i < p->n_rm; i++) {
		struct vip_port_req *q = &p->rm[i];
		struct engine_vip *v = p->rm_vip[i];

		if (q->result < 0) {
			log_req_error(e, "remove", q);
			failed++;
			continue;
		}
		vip_addr_to_string(&q->addr, buf, sizeof(buf));
		if (!v) {
			log_notice("Removed vipd address %s: not a DuraVIP of this configuration", buf);
			engine_emit(e, VIPD_EV_STRAY, &q->addr, NULL);
			continue;
		}
		v->obs_ifindex = 0;
		if (v->expect_del < UINT16_MAX)
			v->expect_del++;
		e->m.released++;
		if (e->deps.announce)
			vipd_announce_remove(e->deps.announce, &v->conf->addr);
		log_full(p->n_rm > LOG_EACH_MAX ? LOG_DEBUG : LOG_INFO, "Released DuraVIP %s/%u from %s", buf,
			 q->prefix, engine_vip_ifname(e, v)[0] ? engine_vip_ifname(e, v) : "?");
		engine_emit(e, VIPD_EV_RELEASED, &v->conf->addr, engine_vip_ifname(e, v));
	}
	if (p->n_rm > LOG_EACH_MAX)
		log_info("Released %zu DuraVIPs (%d failed)", p->n_rm, failed);
	/* Strays removed (or failed): rebuilt from events and dumps. */
	vip_port_table_clear(&e->strays);
	(void)now;
	return failed;
}

static uint64_t clock_now(const struct vipd_engine *e, uint64_t now)
{
	return e->deps.clock ? e->deps.clock() : now;
}

/* A stamp for the failover's breakdown: 0 when not measuring or without a µs clock. */
static uint64_t fo_stamp(const struct vipd_engine *e)
{
	return e->failover_armed && e->deps.clock_us ? e->deps.clock_us() : 0;
}

/* This thread's CPU time for the same breakdown, or 0. */
static uint64_t fo_cpu(const struct vipd_engine *e)
{
	return e->failover_armed && e->deps.cpu_us ? e->deps.cpu_us() : 0;
}

/*
 * Plumb one slice of the plan (its requests made in reqs, room for n) and
 * schedule its announcements. Returns the number that failed.
 */
static int apply_add_slice(struct vipd_engine *e, struct plan *p, struct vip_port_req *reqs, size_t from,
			   size_t n, uint64_t now)
{
	char buf[VIP_ADDR_STRLEN], label[VIP_PORT_NAME_MAX];
	int failed = 0;
	uint64_t t0 = fo_stamp(e), c0 = fo_cpu(e);

	for (size_t k = 0; k < n; k++) {
		const struct engine_vip *v = p->add_vip[from + k];

		(void)vip_port_label(engine_vip_ifname(e, v), v->conf->addr.family, label);
		engine_req_from(&reqs[k], &v->conf->addr, v->prefix, v->ifindex, label);
	}
	if (e->deps.port_ops->add(e->deps.port, reqs, n) < 0)
		e->m.netlink_errors++;
	if (t0) {
		e->fo.plumbed = fo_stamp(e);
		e->fo.add_us += e->fo.plumbed - t0;
		e->fo.add_cpu_us += fo_cpu(e) - c0;
		e->fo.added += n;
	}
	for (size_t i = from; i < from + n; i++) {
		struct vip_port_req *q = &reqs[i - from];
		struct engine_vip *v = p->add_vip[i];

		if (q->result < 0) {
			log_req_error(e, "add", q);
			failed++;
			continue;
		}
		v->obs_ifindex = v->ifindex;
		v->obs_prefix = v->prefix;
		v->since = now;
		e->m.acquired++;
		e->failover_acquired = true;
		if (e->deps.announce)
			vipd_announce_add(e->deps.announce, &v->conf->addr, v->ifindex, now);
		log_full(p->n_add > LOG_EACH_MAX ? LOG_DEBUG : LOG_INFO, "Acquired DuraVIP %s/%u on %s",
			 vip_addr_to_string(&v->conf->addr, buf, sizeof(buf)), v->prefix,
			 engine_vip_ifname(e, v));
		engine_emit(e, VIPD_EV_ACQUIRED, &v->conf->addr, engine_vip_ifname(e, v));
	}
	return failed;
}

/* Announce what is due now (the slice just plumbed), timed for the failover's breakdown. */
static void announce_slice(struct vipd_engine *e, uint64_t now)
{
	uint64_t t0 = fo_stamp(e), c0 = fo_cpu(e), t1;
	int sent;

	if (!e->deps.announce)
		return;
	sent = vipd_announce_tick(e->deps.announce, clock_now(e, now));
	if (!t0)
		return;
	t1 = fo_stamp(e);
	e->fo.announce_us += t1 - t0;
	e->fo.announce_cpu_us += fo_cpu(e) - c0;
	if (sent > 0 && !e->fo.first_sent)
		e->fo.first_sent = t1;
}

/*
 * Plumb in growing slices (32, 64, 128, ...) and announce each as soon as it
 * is plumbed: the LAN hears of the first addresses of a large failover while
 * the kernel is still adding the rest (its cost per add grows with the
 * interface's list), at the price of a few more netlink batches.
 */
static int apply_adds(struct vipd_engine *e, struct plan *p, uint64_t now)
{
	_cleanup_free_ struct vip_port_req *reqs = NULL;
	size_t slice = ENGINE_ADD_SLICE, largest = 0;
	int failed = 0;

	/* One request buffer for the largest slice, not one request per address (144 bytes each). */
	for (size_t from = 0; from < p->n_add; from += slice, slice *= 2) {
		size_t n = p->n_add - from < slice ? p->n_add - from : slice;
		largest = n > largest ? n : largest;
	}
	if (p->n_add && !(reqs = calloc(largest, sizeof(*reqs)))) {
		log_error("Out of memory for %zu address requests: plumbing later", largest);
		return (int)p->n_add;
	}
	slice = ENGINE_ADD_SLICE;
	if (p->n_add && !e->fo.first_add)
		e->fo.first_add = fo_stamp(e);
	for (size_t from = 0; from < p->n_add; from += slice, slice *= 2) {
		size_t n = p->n_add - from < slice ? p->n_add - from : slice;

		failed += apply_add_slice(e, p, reqs, from, n, now);
		announce_slice(e, now);
	}
	if (p->n_add > LOG_EACH_MAX)
		log_info("Acquired %zu DuraVIPs (%d failed)", p->n_add - (size_t)failed, failed);
	return failed;
}

/* After the removes: tell the protocol about finished releases. */
static void report_released(struct vipd_engine *e, uint64_t now)
{
	for (size_t i = 0; i < e->n_vips; i++) {
		struct engine_vip *v = &e->vips[i];

		if (!v->release_pending || v->obs_ifindex)
			continue;
		v->release_pending = false;
		if (e->deps.proto && !engine_is_wanted(e, v))
			vip_cl_proto_local_released(e->deps.proto, &v->conf->addr, now);
	}
}

static double since_ms(uint64_t from, uint64_t to)
{
	return from && to > from ? (double)(to - from) / 1000.0 : 0.0;
}

/* The parts name no "in N ms": tests/bench reads the total as the line's last one. */
static void log_failover(struct vipd_engine *e)
{
	const struct engine_failover_parts *f = &e->fo;
	uint64_t end = fo_stamp(e);

	if (!end || !f->mark) {
		log_info(
			"Failover complete: every DuraVIP this node now owns plumbed and announced in %llu ms",
			(unsigned long long)e->m.last_failover_ms);
		return;
	}
	log_info("Failover complete: every DuraVIP this node now owns plumbed and announced in %.1f ms "
		 "(view to first add %.1f ms; %zu added, netlink %.1f ms, %.1f on a CPU; announcing %.1f ms, "
		 "%.1f on a CPU; first announcement %.1f ms, all plumbed %.1f ms after the view)",
		 since_ms(f->mark, end), since_ms(f->mark, f->first_add), f->added,
		 (double)f->add_us / 1000.0, (double)f->add_cpu_us / 1000.0, (double)f->announce_us / 1000.0,
		 (double)f->announce_cpu_us / 1000.0, since_ms(f->mark, f->first_sent),
		 since_ms(f->mark, f->plumbed));
}

static void measure_failover(struct vipd_engine *e, uint64_t now)
{
	uint64_t end;

	if (!e->failover_armed || !e->failover_acquired)
		return;
	for (size_t i = 0; i < e->n_vips; i++)
		if (engine_is_wanted(e, &e->vips[i]) && engine_vip_available(e, &e->vips[i]) &&
		    e->vips[i].obs_ifindex != e->vips[i].ifindex)
			return; /* not complete yet */
	end = clock_now(e, now);
	e->m.last_failover_ms = end > e->failover_since ? end - e->failover_since : 0;
	e->m.failovers++;
	log_failover(e);
	e->failover_armed = false;
}

int vipd_engine_reconcile(struct vipd_engine *e, uint64_t now)
{
	struct plan p = { 0 };
	int r, failed;

	/* A mark this old led to nothing here: it must not time a later change. */
	if (e->failover_armed && now > e->failover_since + FAILOVER_MARK_TTL_MS)
		e->failover_armed = false;
	r = engine_push_unavailable(e, now);
	if (r < 0)
		return r;
	engine_probe_before_plan(e, now);
	r = plan_build(e, &p, now);
	if (r < 0) {
		engine_plan_free(&p);
		return r;
	}
	e->dirty = false;
	failed = engine_apply_removes(e, &p, now);
	report_released(e, now);
	/* First announcements at once, slice by slice, in the same turn as the plumbing. */
	failed += apply_adds(e, &p, now);
	engine_plan_free(&p);
	r = engine_probe_send(e, now);
	if (r < 0)
		failed++;
	measure_failover(e, now);
	if (failed)
		e->dirty = true;
	return failed;
}

void vipd_engine_mark_failover(struct vipd_engine *e, uint64_t now)
{
	e->failover_armed = true;
	e->failover_since = now;
	e->failover_acquired = false;
	e->fo = (struct engine_failover_parts){ 0 };
	e->fo.mark = fo_stamp(e);
}

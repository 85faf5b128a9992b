/* SPDX-License-Identifier: MIT */
/*
 * vipd/engine: the operations around the steady state: the clean slate at
 * start-up, the release of everything at a planned stop, a live
 * reconfiguration, and the console's queries.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine-internal.h"
#include "log.h"

int vipd_engine_clean_slate(struct vipd_engine *e)
{
	struct vip_port_table t = { 0 };
	_cleanup_free_ struct vip_port_req *reqs = NULL;
	size_t n = 0;
	int r;

	r = e->deps.port_ops->dump(e->deps.port, 0, &t);
	if (r < 0)
		return r;
	reqs = calloc(t.n ? t.n : 1, sizeof(*reqs));
	if (!reqs) {
		vip_port_table_clear(&t);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t.n; i++)
		if (t.items[i].ours || engine_vip_find(e, &t.items[i].addr))
			engine_req_from(&reqs[n++], &t.items[i].addr, t.items[i].prefix, t.items[i].ifindex,
					NULL);
	vip_port_table_clear(&t);
	if (n == 0)
		return 0;
	r = e->deps.port_ops->remove(e->deps.port, reqs, n);
	if (r < 0)
		return r;
	if (r > 0) {
		e->m.netlink_errors += (uint64_t)r;
		return -EIO;
	}
	return (int)n;
}

int vipd_engine_release_all(struct vipd_engine *e, uint64_t now)
{
	struct plan p = { 0 };
	int n = 0, r;

	/* Not available any more: the protocol stops wanting them and tells the group. */
	if (e->deps.proto) {
		_cleanup_free_ struct vip_addr *all = calloc(e->n_vips + 1, sizeof(*all));

		if (!all)
			return -ENOMEM;
		for (size_t i = 0; i < e->n_vips; i++)
			all[i] = e->vips[i].conf->addr;
		r = vip_cl_proto_set_unavailable(e->deps.proto, all, e->n_vips, now);
		if (r < 0)
			return r;
	}
	p.rm = calloc(e->n_vips + e->strays.n + 1, sizeof(*p.rm));
	p.rm_vip = calloc(e->n_vips + e->strays.n + 1, sizeof(*p.rm_vip));
	if (!p.rm || !p.rm_vip) {
		engine_plan_free(&p);
		return -ENOMEM;
	}
	for (size_t i = 0; i < e->strays.n; i++)
		engine_req_from(&p.rm[p.n_rm++], &e->strays.items[i].addr, e->strays.items[i].prefix,
				e->strays.items[i].ifindex, NULL);
	for (size_t i = 0; i < e->n_vips; i++) {
		struct engine_vip *v = &e->vips[i];

		v->release_pending = true;
		if (!v->obs_ifindex)
			continue;
		p.rm_vip[p.n_rm] = v;
		engine_req_from(&p.rm[p.n_rm++], &v->conf->addr, v->obs_prefix, v->obs_ifindex, NULL);
	}
	r = engine_apply_removes(e, &p, now);
	for (size_t i = 0; i < p.n_rm; i++)
		n += p.rm[i].result == 0;
	engine_plan_free(&p);
	for (size_t i = 0; i < e->n_vips; i++) {
		struct engine_vip *v = &e->vips[i];

		if (v->release_pending && !v->obs_ifindex && e->deps.proto)
			vip_cl_proto_local_released(e->deps.proto, &v->conf->addr, now);
		v->release_pending = false;
	}
	return r > 0 ? -EIO : n;
}

int vipd_engine_reconfigure(struct vipd_engine *e, const struct vipd_config *cfg, uint64_t now)
{
	struct engine_vip *nv;
	size_t n;
	int r;

	r = engine_vips_from_config(cfg, &nv, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct engine_vip *old = engine_vip_find(e, &nv[i].conf->addr);

		if (old) {
			nv[i].obs_ifindex = old->obs_ifindex;
			nv[i].obs_prefix = old->obs_prefix;
			nv[i].expect_del = old->expect_del;
			nv[i].since = old->since;
			nv[i].release_pending = old->release_pending;
		}
	}
	/* A DuraVIP no longer configured but still plumbed: remove it as a stray. */
	for (size_t i = 0; i < e->n_vips; i++) {
		struct engine_vip *o = &e->vips[i];

		if (!o->obs_ifindex || engine_vips_find(nv, n, &o->conf->addr))
			continue;
		struct vip_port_addr a = { .addr = o->conf->addr,
					   .prefix = o->obs_prefix,
					   .ifindex = o->obs_ifindex,
					   .ours = true };
		if (e->deps.announce)
			vipd_announce_remove(e->deps.announce, &o->conf->addr);
		vip_port_table_add(&e->strays, &a);
	}
	free(e->vips);
	e->vips = nv;
	e->n_vips = n;
	e->cfg = cfg;
	/* A failed view leaves the DuraVIPs unplaced (unavailable): retried at each link check. */
	(void)engine_place(e, false, NULL);
	r = engine_links_rebuild(e, NULL);
	if (r < 0)
		return r;
	e->unavail_dirty = true;
	e->dirty = true;
	return engine_push_unavailable(e, now);
}

static void vip_info(const struct vipd_engine *e, const struct engine_vip *v, struct vipd_engine_vip *ret)
{
	*ret = (struct vipd_engine_vip){
		.addr = v->conf->addr,
		.prefix = v->prefix,
		.ifindex = v->ifindex,
		.present = v->obs_ifindex != 0 && v->obs_ifindex == v->ifindex,
		.wanted = engine_is_wanted(e, v),
		.unavailable = !engine_vip_available(e, v),
		.resolve_error = v->resolve_error < 0 ? v->resolve_error : 0,
		.since = v->since,
	};
	snprintf(ret->ifname, sizeof(ret->ifname), "%s", engine_vip_ifname(e, v));
	engine_probe_info(e, &v->conf->addr, &ret->probing, &ret->probe_claims);
}

size_t vipd_engine_n_vips(const struct vipd_engine *e)
{
	return e->n_vips;
}

int vipd_engine_vip(const struct vipd_engine *e, size_t i, struct vipd_engine_vip *ret)
{
	if (i >= e->n_vips)
		return -ERANGE;
	vip_info(e, &e->vips[i], ret);
	return 0;
}

int vipd_engine_find(const struct vipd_engine *e, const struct vip_addr *addr, struct vipd_engine_vip *ret)
{
	const struct engine_vip *v = engine_vip_find((struct vipd_engine *)e, addr);

	if (!v)
		return -ENOENT;
	vip_info(e, v, ret);
	return 0;
}

size_t vipd_engine_bytes(const struct vipd_engine *e)
{
	return e->n_vips * sizeof(*e->vips) + e->n_links * sizeof(*e->links) +
	       e->strays.n * sizeof(*e->strays.items) + e->cap_probes * sizeof(*e->probes);
}

void vipd_engine_get_metrics(const struct vipd_engine *e, struct vipd_engine_metrics *ret)
{
	*ret = e->m;
	ret->owned = 0;
	for (size_t i = 0; i < e->n_vips; i++)
		ret->owned += e->vips[i].obs_ifindex != 0 && e->vips[i].obs_ifindex == e->vips[i].ifindex;
}

/* SPDX-License-Identifier: MIT */
/*
 * vipd/engine: where each DuraVIP goes and whether its link can carry it.
 *
 * A link that goes down is not given up at once (a flapping cable must not
 * move addresses around the cluster): it is checked every if_check_interval
 * and only after if_down_limit checks in a row found it down are its
 * DuraVIPs declared unavailable, released and left to another member. Link
 * up makes them eligible again at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine-internal.h"
#include "log.h"

static const char *addr_str(const struct vip_addr *a, char *buf)
{
	return vip_addr_to_string(a, buf, VIP_ADDR_STRLEN);
}

/* Take t (or the error r) as v's target; logs a change once. */
static void set_target(struct vipd_engine *e, struct engine_vip *v, int r, const struct vipd_target *t)
{
	char buf[VIP_ADDR_STRLEN];

	if (r < 0) {
		if (r != v->resolve_error)
			log_warning_errno(r, "Cannot place DuraVIP %s on any interface: %m",
					  addr_str(&v->conf->addr, buf));
		if (v->ifindex != 0 || r != v->resolve_error)
			e->unavail_dirty = e->dirty = true;
		v->resolve_error = r;
		v->ifindex = 0;
		return;
	}
	if (v->resolve_error != 0 || v->ifindex != t->ifindex) {
		if (v->resolve_error < 0)
			log_info("DuraVIP %s goes on %s", addr_str(&v->conf->addr, buf), t->ifname);
		e->unavail_dirty = e->dirty = true;
	}
	v->resolve_error = 0;
	v->ifindex = t->ifindex;
	v->prefix = t->prefix;
	/* a link renamed since the list was built: its new name */
	struct engine_link *l = engine_link_find(e, t->ifindex);
	if (l && strcmp(l->ifname, t->ifname) != 0)
		snprintf(l->ifname, sizeof(l->ifname), "%s", t->ifname);
}

int engine_place(struct vipd_engine *e, bool missing_only, const struct vipd_sysview *sv)
{
	struct vipd_sysview own = { 0 };
	bool any = false;
	int r = 0;

	for (size_t i = 0; i < e->n_vips && !any; i++)
		any = !missing_only || e->vips[i].ifindex <= 0;
	if (!any)
		return 0;
	if (!sv) {
		r = vipd_sysview_read(e->deps.port_ops, e->deps.port, &own);
		if (r < 0)
			e->m.netlink_errors++;
		sv = &own;
	}
	for (size_t i = 0; i < e->n_vips; i++) {
		struct engine_vip *v = &e->vips[i];
		struct vipd_target t;

		if (missing_only && v->ifindex > 0)
			continue;
		/* Without a view of the system a placed DuraVIP stays where it is. */
		if (r < 0 && v->ifindex > 0)
			continue;
		set_target(e, v, r < 0 ? r : vipd_topology_place(sv, e->cfg, v->conf, &t), &t);
	}
	vipd_sysview_clear(&own);
	return r;
}

struct engine_link *engine_link_find(const struct vipd_engine *e, int ifindex)
{
	for (size_t i = 0; i < e->n_links; i++)
		if (e->links[i].ifindex == ifindex)
			return &e->links[i];
	return NULL;
}

int engine_links_rebuild(struct vipd_engine *e, const struct vip_port_links *known)
{
	struct engine_link *nl = calloc(e->n_vips + 1, sizeof(*nl));
	size_t n = 0;

	if (!nl)
		return -ENOMEM;
	for (size_t i = 0; i < e->n_vips; i++) {
		const struct engine_vip *v = &e->vips[i];
		const struct engine_link *old;
		bool seen = false;

		if (v->ifindex <= 0)
			continue;
		for (size_t j = 0; j < n && !seen; j++)
			seen = nl[j].ifindex == v->ifindex;
		if (seen)
			continue;
		old = engine_link_find(e, v->ifindex);
		if (old) {
			nl[n++] = *old;
			continue;
		}
		struct vip_port_link l;
		const struct vip_port_link *k = known ? vip_port_links_find(known, v->ifindex) : NULL;
		nl[n] = (struct engine_link){ .ifindex = v->ifindex, .up = true };
		if (!k && e->deps.port_ops->link_get(e->deps.port, v->ifindex, &l) == 0)
			k = &l;
		if (k) {
			nl[n].up = k->up;
			snprintf(nl[n].ifname, sizeof(nl[n].ifname), "%s", k->ifname);
		}
		n++;
	}
	free(e->links);
	e->links = nl;
	e->n_links = n;
	return 0;
}

const char *engine_vip_ifname(const struct vipd_engine *e, const struct engine_vip *v)
{
	const struct engine_link *l = v->ifindex > 0 ? engine_link_find(e, v->ifindex) : NULL;

	return l ? l->ifname : "";
}

bool engine_vip_available(const struct vipd_engine *e, const struct engine_vip *v)
{
	const struct engine_link *l;

	if (v->ifindex <= 0)
		return false;
	l = engine_link_find(e, v->ifindex);
	return !l || !l->unavailable;
}

int engine_push_unavailable(struct vipd_engine *e, uint64_t now)
{
	_cleanup_free_ struct vip_addr *a = NULL;
	size_t n = 0;

	if (!e->unavail_dirty || !e->deps.proto)
		return 0;
	a = calloc(e->n_vips + 1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	for (size_t i = 0; i < e->n_vips; i++)
		if (!engine_vip_available(e, &e->vips[i]))
			a[n++] = e->vips[i].conf->addr;
	e->unavail_dirty = false;
	e->dirty = true;
	return vip_cl_proto_set_unavailable(e->deps.proto, a, n, now);
}

static void link_back(struct vipd_engine *e, struct engine_link *l)
{
	l->down_checks = 0;
	if (!l->unavailable)
		return;
	l->unavailable = false;
	log_notice("Link %s is up again: its DuraVIPs are eligible", l->ifname);
	engine_emit(e, VIPD_EV_LINK_UP, NULL, l->ifname);
	e->unavail_dirty = e->dirty = true;
}

/* The link is gone: its DuraVIPs have no target until it is resolved again. */
static void link_gone(struct vipd_engine *e, int ifindex)
{
	struct engine_link *l = engine_link_find(e, ifindex);

	if (!l)
		return;
	log_warning("Link %s is gone: its DuraVIPs are unavailable until it returns", l->ifname);
	engine_emit(e, VIPD_EV_LINK_DOWN, NULL, l->ifname);
	for (size_t i = 0; i < e->n_vips; i++) {
		struct engine_vip *v = &e->vips[i];

		if (v->obs_ifindex == ifindex) {
			v->obs_ifindex = 0;
			v->expect_del = 0;
		}
		if (v->ifindex == ifindex) {
			v->ifindex = 0;
			v->resolve_error = -ENODEV;
		}
	}
	*l = e->links[--e->n_links];
	e->unavail_dirty = e->dirty = true;
}

/* Retry the DuraVIPs without a target (one view of the system for all of them);
 * rebuild the link list when one got one. */
static void resolve_missing(struct vipd_engine *e)
{
	size_t before = 0, after = 0;

	for (size_t i = 0; i < e->n_vips; i++)
		before += e->vips[i].ifindex > 0;
	(void)engine_place(e, true, NULL);
	for (size_t i = 0; i < e->n_vips; i++)
		after += e->vips[i].ifindex > 0;
	if (after > before)
		engine_links_rebuild(e, NULL);
}

void engine_on_link_event(struct vipd_engine *e, const struct vip_port_event *ev, uint64_t now)
{
	struct engine_link *l = engine_link_find(e, ev->ifindex);

	switch (ev->type) {
	case VIP_PORT_EV_LINK_UP:
		if (l) {
			l->up = true;
			link_back(e, l);
		}
		resolve_missing(e);
		break;
	case VIP_PORT_EV_LINK_DOWN:
		if (l) {
			l->up = false;
			log_info("Link %s is down; its DuraVIPs are released after %u checks", l->ifname,
				 e->cfg->cluster.if_down_limit ? e->cfg->cluster.if_down_limit : 1);
		}
		break;
	case VIP_PORT_EV_LINK_GONE:
		link_gone(e, ev->ifindex);
		break;
	case VIP_PORT_EV_LINK_MAC:
		/* The LAN's caches point at the old MAC: announce again. */
		for (size_t i = 0; i < e->n_vips && e->deps.announce; i++)
			if (e->vips[i].obs_ifindex == ev->ifindex && e->vips[i].ifindex == ev->ifindex)
				vipd_announce_add(e->deps.announce, &e->vips[i].conf->addr, ev->ifindex, now);
		break;
	default:
		break;
	}
}

int vipd_engine_check_links(struct vipd_engine *e, uint64_t now)
{
	unsigned limit = e->cfg->cluster.if_down_limit ? e->cfg->cluster.if_down_limit : 1;

	for (size_t i = 0; i < e->n_links; i++) {
		struct engine_link *l = &e->links[i];
		struct vip_port_link pl;
		int r = e->deps.port_ops->link_get(e->deps.port, l->ifindex, &pl);

		if (r == -ENODEV) {
			link_gone(e, l->ifindex);
			i--; /* the last link moved into slot i */
			continue;
		}
		if (r == 0)
			l->up = pl.up;
		if (l->up) {
			link_back(e, l);
			continue;
		}
		l->down_checks++;
		if (l->down_checks < limit || l->unavailable)
			continue;
		l->unavailable = true;
		e->m.link_releases++;
		log_warning("Link %s has been down for %u checks: releasing its DuraVIPs to the group",
			    l->ifname, l->down_checks);
		engine_emit(e, VIPD_EV_LINK_DOWN, NULL, l->ifname);
		e->unavail_dirty = e->dirty = true;
	}
	resolve_missing(e);
	return engine_push_unavailable(e, now);
}

/* SPDX-License-Identifier: MIT */
/*
 * vipd/neigh: the lookups of the shared neighbour cache (neigh.h): the
 * announcer's (hosts on a DuraVIP's segment, freshest first, each address
 * once), the console's snapshot, the counters.
 */
#include <stdlib.h>
#include <string.h>

#include "neigh-internal.h"
#include "util.h"

size_t vipd_neigh_count(const struct vipd_neigh *nc)
{
	return nc ? nc->count : 0;
}

/* Freshest first; among equals by address, so the order does not depend on the slots. */
static int cmp_fresh(const void *a, const void *b)
{
	const struct vipd_neigh_entry *x = a, *y = b;

	if (x->seen_ms != y->seen_ms)
		return x->seen_ms > y->seen_ms ? -1 : 1;
	return vip_addr_cmp(&x->ip, &y->ip);
}

static int cmp_addr_fresh(const void *a, const void *b)
{
	const struct vipd_neigh_entry *x = a, *y = b;
	int c = vip_addr_cmp(&x->ip, &y->ip);

	if (c)
		return c;
	return x->seen_ms == y->seen_ms ? 0 : x->seen_ms > y->seen_ms ? -1 : 1;
}

static bool matches(const struct vipd_neigh *nc, const struct neigh_ent *x, const char *ifname,
		    const struct vip_addr *subnet, unsigned prefixlen)
{
	if (!x->used || x->ip.family != subnet->family)
		return false;
	if (prefixlen > 0)
		return vip_addr_in_prefix(&x->ip, subnet, prefixlen);
	return ifname && !strcmp(nc->groups[x->group].ifname, ifname);
}

/* Without memory for sorting: the first matches found, each address once, unordered. */
static size_t hosts_unsorted(const struct vipd_neigh *nc, const char *ifname, const struct vip_addr *subnet,
			     unsigned prefixlen, struct vipd_neigh_host *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < nc->n_e && n < max; i++) {
		const struct neigh_ent *x = &nc->e[i];
		bool dup = false;
		if (!matches(nc, x, ifname, subnet, prefixlen))
			continue;
		for (size_t k = 0; k < n && !dup; k++)
			dup = vip_addr_equal(&out[k].ip, &x->ip);
		if (dup)
			continue;
		out[n].ip = x->ip;
		memcpy(out[n++].mac, x->mac, VIPD_NEIGH_MAC_LEN);
	}
	return n;
}

size_t vipd_neigh_hosts(const struct vipd_neigh *nc, const char *ifname, const struct vip_addr *subnet,
			unsigned prefixlen, struct vipd_neigh_host *out, size_t max)
{
	size_t n = 0, k = 0;

	if (!nc || !subnet || !out || max == 0 || nc->count == 0)
		return 0;
	_cleanup_free_ struct vipd_neigh_entry *c = malloc(nc->count * sizeof(*c));
	if (!c)
		return hosts_unsorted(nc, ifname, subnet, prefixlen, out, max);
	for (size_t i = 0; i < nc->n_e; i++) {
		const struct neigh_ent *x = &nc->e[i];
		if (!matches(nc, x, ifname, subnet, prefixlen))
			continue;
		c[n] = (struct vipd_neigh_entry){ .ip = x->ip, .seen_ms = x->seen_ms };
		memcpy(c[n++].mac, x->mac, VIPD_NEIGH_MAC_LEN);
	}
	/* each address once, with its freshest MAC (nodes may disagree), then freshest first */
	qsort(c, n, sizeof(*c), cmp_addr_fresh);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || !vip_addr_equal(&c[k - 1].ip, &c[i].ip))
			c[k++] = c[i];
	qsort(c, k, sizeof(*c), cmp_fresh);
	n = k < max ? k : max;
	for (size_t i = 0; i < n; i++) {
		out[i].ip = c[i].ip;
		memcpy(out[i].mac, c[i].mac, VIPD_NEIGH_MAC_LEN);
	}
	return n;
}

static int cmp_show(const void *a, const void *b)
{
	const struct vipd_neigh_entry *x = a, *y = b;
	int c = vip_addr_cmp(&x->ip, &y->ip);

	if (c == 0)
		c = strcmp(x->node, y->node);
	return c ? c : strcmp(x->ifname, y->ifname);
}

ssize_t vipd_neigh_snapshot(const struct vipd_neigh *nc, struct vipd_neigh_entry **ret)
{
	size_t n = 0;
	struct vipd_neigh_entry *c = malloc((nc->count ? nc->count : 1) * sizeof(*c));

	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < nc->n_e; i++) {
		const struct neigh_ent *x = &nc->e[i];
		const struct neigh_group *g;
		if (!x->used)
			continue;
		g = &nc->groups[x->group];
		c[n] = (struct vipd_neigh_entry){ .ip = x->ip,
						  .node = nc->nodes[g->node],
						  .own = g->node == 0,
						  .seen_ms = x->seen_ms };
		memcpy(c[n].mac, x->mac, VIPD_NEIGH_MAC_LEN);
		snprintf(c[n++].ifname, sizeof(c->ifname), "%s", g->ifname);
	}
	qsort(c, n, sizeof(*c), cmp_show);
	*ret = c;
	return (ssize_t)n;
}

void vipd_neigh_get_stats(const struct vipd_neigh *nc, struct vipd_neigh_stats *ret)
{
	*ret = nc->st;
	ret->entries = nc->count;
}

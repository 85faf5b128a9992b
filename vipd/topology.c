/* SPDX-License-Identifier: MIT */
/*
 * vipd/topology: the Topology rules applied to what the port reports (see
 * topology.h and docs/port.md).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "topology.h"

static int cmp_port_addr(const void *a, const void *b)
{
	const struct vip_port_addr *x = a, *y = b;
	int c = vip_addr_cmp(&x->addr, &y->addr);

	if (c != 0)
		return c;
	return x->ifindex < y->ifindex ? -1 : x->ifindex > y->ifindex;
}

static int cmp_addr(const void *a, const void *b)
{
	return vip_addr_cmp(a, b);
}

static unsigned host_len(const struct vip_addr *a)
{
	return (unsigned)vip_addr_len(a) * 8;
}

void vipd_sysview_clear(struct vipd_sysview *s)
{
	if (!s)
		return;
	vip_port_links_clear(&s->links);
	vip_port_table_clear(&s->addrs);
	vip_port_routes_clear(&s->routes);
	free(s->local_hosts);
	free(s->others);
	memset(s, 0, sizeof(*s));
}

int vipd_sysview_index(struct vipd_sysview *s)
{
	free(s->local_hosts);
	free(s->others);
	s->local_hosts = NULL;
	s->others = NULL;
	s->n_local_hosts = s->n_others = 0;
	if (s->addrs.n > 0) /* qsort(NULL, 0, ...) is undefined */
		qsort(s->addrs.items, s->addrs.n, sizeof(*s->addrs.items), cmp_port_addr);
	s->local_hosts = calloc(s->routes.n + 1, sizeof(*s->local_hosts));
	s->others = calloc(s->routes.n + 1, sizeof(*s->others));
	if (!s->local_hosts || !s->others)
		return -ENOMEM;
	for (size_t i = 0; i < s->routes.n; i++) {
		const struct vip_port_route *r = &s->routes.items[i];

		/* One local host route per address of the node: kept sorted, not scanned. */
		if (r->local_table && r->type == VIP_PORT_ROUTE_LOCAL && r->dst_len == host_len(&r->dst))
			s->local_hosts[s->n_local_hosts++] = r->dst;
		else
			s->others[s->n_others++] = r;
	}
	qsort(s->local_hosts, s->n_local_hosts, sizeof(*s->local_hosts), cmp_addr);
	return 0;
}

int vipd_sysview_read(const struct vip_port_ops *ops, struct vip_port *port, struct vipd_sysview *s)
{
	int r;

	vipd_sysview_clear(s);
	r = ops->dump_links(port, &s->links);
	if (r >= 0)
		r = ops->dump(port, 0, &s->addrs);
	if (r >= 0)
		r = ops->dump_routes(port, &s->routes);
	if (r >= 0)
		r = vipd_sysview_index(s);
	if (r < 0) {
		vipd_sysview_clear(s);
		return r;
	}
	return 0;
}

/* Is a an address of the node that vipd did not plumb? Sets *ret_mine to vipd's own copy. */
static bool is_own_address(const struct vipd_sysview *s, const struct vip_addr *a,
			   const struct vip_port_addr **ret_mine)
{
	const struct vip_port_addr *items = s->addrs.items;
	size_t i = vip_addr_lower_bound(a, items, s->addrs.n, sizeof(*items),
					offsetof(struct vip_port_addr, addr));

	*ret_mine = NULL;
	for (; i < s->addrs.n && vip_addr_equal(&items[i].addr, a); i++) {
		if (!items[i].ours)
			return true;
		if (!*ret_mine)
			*ret_mine = &items[i];
	}
	if (*ret_mine)
		return false;
	if (vip_addr_bsearch(a, s->local_hosts, s->n_local_hosts, sizeof(*s->local_hosts), 0))
		return true;
	/* A local range (`ip route add local NET dev lo`): every address in it is the node's. */
	for (size_t k = 0; k < s->n_others; k++) {
		const struct vip_port_route *r = s->others[k];

		if (r->local_table && r->type == VIP_PORT_ROUTE_LOCAL &&
		    vip_addr_in_prefix(a, &r->dst, r->dst_len))
			return true;
	}
	return false;
}

/* The main table's best route to a: longest prefix, then lowest metric. NULL when none. */
static const struct vip_port_route *main_lookup(const struct vipd_sysview *s, const struct vip_addr *a)
{
	const struct vip_port_route *best = NULL;

	for (size_t k = 0; k < s->n_others; k++) {
		const struct vip_port_route *r = s->others[k];

		if (r->local_table || !vip_addr_in_prefix(a, &r->dst, r->dst_len))
			continue;
		if (!best || r->dst_len > best->dst_len ||
		    (r->dst_len == best->dst_len && r->metric < best->metric))
			best = r;
	}
	return best;
}

static const struct vip_port_link *link_by_name(const struct vipd_sysview *s, const char *name)
{
	for (size_t i = 0; i < s->links.n; i++)
		if (strcmp(s->links.items[i].ifname, name) == 0)
			return &s->links.items[i];
	return NULL;
}

int vipd_topology_place(const struct vipd_sysview *s, const struct vipd_config *cfg,
			const struct vipd_duravip *d, struct vipd_target *ret)
{
	const char *ifname = vip_config_duravip_interface(cfg, d);
	const struct vip_addr *a = &d->addr;
	const struct vip_port_addr *mine;
	const struct vip_port_link *l;

	if (a->family != AF_INET && a->family != AF_INET6)
		return -EAFNOSUPPORT;
	if (is_own_address(s, a, &mine))
		return -EADDRINUSE;
	if (ifname) {
		l = link_by_name(s, ifname);
		if (!l)
			return -ENODEV;
	} else if (mine) {
		l = vip_port_links_find(&s->links, mine->ifindex);
	} else {
		const struct vip_port_route *r = main_lookup(s, a);

		if (!r || r->type != VIP_PORT_ROUTE_UNICAST || r->gateway || r->ifindex <= 0)
			return -ENETUNREACH;
		l = vip_port_links_find(&s->links, r->ifindex);
	}
	/* A link that went between the dumps. */
	if (!l)
		return -ENODEV;
	memset(ret, 0, sizeof(*ret));
	ret->ifindex = l->ifindex;
	memcpy(ret->ifname, l->ifname, sizeof(ret->ifname));
	ret->prefix = d->prefix;
	ret->from_topology = ifname != NULL;
	(void)vip_port_label(l->ifname, a->family, ret->label);
	return 0;
}

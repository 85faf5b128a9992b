/* SPDX-License-Identifier: MIT */
/*
 * Portable helpers of the port layer: alias labels, the address, link and
 * route tables, event and route type names. No system calls.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "port-internal.h"

static const char *const event_names[_VIP_PORT_EV_MAX] = {
	[VIP_PORT_EV_ADDR_NEW] = "addr-new",
	[VIP_PORT_EV_ADDR_DEL] = "addr-del",
	[VIP_PORT_EV_LINK_UP] = "link-up",
	[VIP_PORT_EV_LINK_DOWN] = "link-down",
	[VIP_PORT_EV_LINK_GONE] = "link-gone",
	[VIP_PORT_EV_LINK_MAC] = "link-mac",
	[VIP_PORT_EV_RESYNC_NEEDED] = "resync-needed",
	[VIP_PORT_EV_NEIGH_NEW] = "neigh-new",
	[VIP_PORT_EV_NEIGH_DEL] = "neigh-del",
};

const char *vip_port_event_type_to_string(enum vip_port_event_type t)
{
	if ((unsigned)t >= _VIP_PORT_EV_MAX)
		return NULL;
	return event_names[t];
}

int vip_port_event_type_from_string(const char *s)
{
	if (!s)
		return -EINVAL;
	for (unsigned i = 0; i < _VIP_PORT_EV_MAX; i++)
		if (strcasecmp(s, event_names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

int vip_port_label(const char *ifname, int family, char ret[VIP_PORT_NAME_MAX])
{
	ret[0] = '\0';
	if (family != AF_INET)
		return -EAFNOSUPPORT;
	if (!ifname || !ifname[0])
		return -EINVAL;
	size_t len = strlen(ifname), suf = strlen(VIP_PORT_LABEL_SUFFIX);
	/* The kernel wants the label to start with the link's name and fit IFNAMSIZ. */
	if (len + suf >= VIP_PORT_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(ret, ifname, len);
	memcpy(ret + len, VIP_PORT_LABEL_SUFFIX, suf + 1);
	return 0;
}

/* Grow an items/n/cap table by one; 0 or -ENOMEM. */
static int table_grow(void **items, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 64;
	void *p = reallocarray(*items, c, size);
	if (!p)
		return -ENOMEM;
	*items = p;
	*cap = c;
	return 0;
}

int vip_port_table_add(struct vip_port_table *t, const struct vip_port_addr *a)
{
	if (table_grow((void **)&t->items, t->n, &t->cap, sizeof(*t->items)) < 0)
		return -ENOMEM;
	t->items[t->n++] = *a;
	return 0;
}

void vip_port_table_clear(struct vip_port_table *t)
{
	if (!t)
		return;
	free(t->items);
	memset(t, 0, sizeof(*t));
}

const struct vip_port_addr *vip_port_table_find(const struct vip_port_table *t, const struct vip_addr *a,
						int ifindex)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct vip_port_addr *e = &t->items[i];
		if ((ifindex == 0 || e->ifindex == ifindex) && vip_addr_equal(&e->addr, a))
			return e;
	}
	return NULL;
}

int vip_port_links_add(struct vip_port_links *t, const struct vip_port_link *l)
{
	if (table_grow((void **)&t->items, t->n, &t->cap, sizeof(*t->items)) < 0)
		return -ENOMEM;
	t->items[t->n++] = *l;
	return 0;
}

void vip_port_links_clear(struct vip_port_links *t)
{
	if (!t)
		return;
	free(t->items);
	memset(t, 0, sizeof(*t));
}

const struct vip_port_link *vip_port_links_find(const struct vip_port_links *t, int ifindex)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->items[i].ifindex == ifindex)
			return &t->items[i];
	return NULL;
}

int vip_port_routes_add(struct vip_port_routes *t, const struct vip_port_route *r)
{
	if (table_grow((void **)&t->items, t->n, &t->cap, sizeof(*t->items)) < 0)
		return -ENOMEM;
	t->items[t->n++] = *r;
	return 0;
}

void vip_port_routes_clear(struct vip_port_routes *t)
{
	if (!t)
		return;
	free(t->items);
	memset(t, 0, sizeof(*t));
}

int vip_port_neighs_add(struct vip_port_neighs *t, const struct vip_port_neigh *n)
{
	if (table_grow((void **)&t->items, t->n, &t->cap, sizeof(*t->items)) < 0)
		return -ENOMEM;
	t->items[t->n++] = *n;
	return 0;
}

void vip_port_neighs_clear(struct vip_port_neighs *t)
{
	if (!t)
		return;
	free(t->items);
	memset(t, 0, sizeof(*t));
}

static const char *const neigh_state_names[_VIP_PORT_NEIGH_STATE_MAX] = {
	[VIP_PORT_NEIGH_REACHABLE] = "reachable",   [VIP_PORT_NEIGH_STALE] = "stale",
	[VIP_PORT_NEIGH_DELAY] = "delay",           [VIP_PORT_NEIGH_PROBE] = "probe",
	[VIP_PORT_NEIGH_INCOMPLETE] = "incomplete", [VIP_PORT_NEIGH_FAILED] = "failed",
	[VIP_PORT_NEIGH_OTHER] = "other",
};

const char *vip_port_neigh_state_to_string(enum vip_port_neigh_state s)
{
	return (unsigned)s < _VIP_PORT_NEIGH_STATE_MAX ? neigh_state_names[s] : NULL;
}

static const char *const route_type_names[_VIP_PORT_ROUTE_TYPE_MAX] = {
	[VIP_PORT_ROUTE_UNICAST] = "unicast",
	[VIP_PORT_ROUTE_LOCAL] = "local",
	[VIP_PORT_ROUTE_OTHER] = "other",
};

const char *vip_port_route_type_to_string(enum vip_port_route_type t)
{
	return (unsigned)t < _VIP_PORT_ROUTE_TYPE_MAX ? route_type_names[t] : NULL;
}

int vip_port_routes_implied(const struct vip_port_addr *a, struct vip_port_routes *t)
{
	unsigned host = (unsigned)vip_addr_len(&a->addr) * 8;
	struct vip_port_route r = {
		.dst = a->addr,
		.dst_len = host,
		.type = VIP_PORT_ROUTE_LOCAL,
		.local_table = true,
		.ifindex = a->ifindex,
	};
	int err = vip_port_routes_add(t, &r);
	if (err < 0 || a->prefix >= host)
		return err;
	r = (struct vip_port_route){
		.dst = { .family = a->addr.family },
		.dst_len = a->prefix,
		.type = VIP_PORT_ROUTE_UNICAST,
		.ifindex = a->ifindex,
	};
	for (unsigned b = 0; b < a->prefix; b++)
		r.dst.bytes[b / 8] |= a->addr.bytes[b / 8] & (uint8_t)(0x80 >> (b % 8));
	return vip_port_routes_add(t, &r);
}

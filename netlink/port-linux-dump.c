/* SPDX-License-Identifier: MIT */
/*
 * Linux port: the dumps of links, routes and neighbours (the address dump is in
 * port-linux.c). One request per table and family, whatever the number of
 * DuraVIPs: vipd/ reads them once and places every DuraVIP in memory
 * (docs/port.md).
 */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include "port-linux-internal.h"

#define DUMP_TRIES 5

/* What one dump collects: the parser, the table it appends to, and the first error. */
struct collect {
	uint16_t type; /* RTM_NEWLINK, RTM_NEWROUTE or RTM_NEWNEIGH */
	void *table;   /* struct vip_port_links, vip_port_routes or vip_port_neighs */
	int err;
};

static int collect_cb(const struct nlmsghdr *nlh, void *data)
{
	struct collect *c = data;
	int r;

	if (nlh->nlmsg_type != c->type || c->err < 0)
		return MNL_CB_OK;
	if (c->type == RTM_NEWLINK) {
		struct vip_port_link l;
		r = vip_nl_parse_link(nlh, &l);
		if (r == 0)
			r = vip_port_links_add(c->table, &l);
	} else if (c->type == RTM_NEWROUTE) {
		struct vip_port_route rt;
		r = vip_nl_parse_route(nlh, &rt);
		if (r == 0)
			r = vip_port_routes_add(c->table, &rt);
	} else {
		struct vip_port_neigh ne;
		r = vip_nl_parse_neigh(nlh, &ne);
		if (r == 0)
			r = vip_port_neighs_add(c->table, &ne);
	}
	if (r == -EAFNOSUPPORT)
		return MNL_CB_OK;
	if (r == -EBADMSG)
		return MNL_CB_ERROR;
	c->err = r;
	return MNL_CB_OK;
}

/*
 * One dump of type/family into c->table, whose count *n is reset to keep
 * entries before it: retried from keep while the kernel says it was
 * interrupted. 0, -EAGAIN or -errno.
 */
static int dump_one(struct vip_port *p, uint16_t type, int family, struct collect *c, size_t *n)
{
	char buf[VIP_NL_REQ_MAX];
	size_t keep = *n;

	for (int tries = 0; tries < DUMP_TRIES; tries++) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
		bool intr = false;

		*n = keep;
		c->err = 0;
		vip_nl_put_dump(nlh, type, family, 0);
		nlh->nlmsg_flags |= NLM_F_ACK;
		int r = vip_nl_transact(p, nlh, collect_cb, c, &intr, NULL, 0);
		if (r == 0)
			r = c->err;
		if (r < 0)
			return r;
		if (!intr)
			return 0;
	}
	return -EAGAIN;
}

/* The IPv4 then the IPv6 dump of type into c->table. */
static int dump_both(struct vip_port *p, uint16_t type, struct collect *c, size_t *n)
{
	int r = dump_one(p, type, AF_INET, c, n);
	/* A kernel without IPv6 refuses the family: it simply has none of IPv6. */
	if (r == 0) {
		r = dump_one(p, type, AF_INET6, c, n);
		if (r == -EAFNOSUPPORT)
			r = 0;
	}
	return r;
}

int vip_nl_dump_links(struct vip_port *p, struct vip_port_links *t)
{
	struct collect c = { RTM_NEWLINK, t, 0 };

	t->n = 0;
	int r = dump_one(p, RTM_GETLINK, AF_UNSPEC, &c, &t->n);
	if (r < 0) {
		t->n = 0;
		return r;
	}
	return (int)t->n;
}

int vip_nl_dump_routes(struct vip_port *p, struct vip_port_routes *t)
{
	struct collect c = { RTM_NEWROUTE, t, 0 };

	t->n = 0;
	int r = dump_both(p, RTM_GETROUTE, &c, &t->n);
	if (r < 0) {
		t->n = 0;
		return r;
	}
	return (int)t->n;
}

int vip_nl_dump_neigh(struct vip_port *p, struct vip_port_neighs *t)
{
	struct collect c = { RTM_NEWNEIGH, t, 0 };

	t->n = 0;
	int r = dump_both(p, RTM_GETNEIGH, &c, &t->n);
	if (r < 0) {
		t->n = 0;
		return r;
	}
	return (int)t->n;
}

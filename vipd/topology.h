/* SPDX-License-Identifier: MIT */
/*
 * vipd/topology: where each DuraVIP goes. The port only reports what the
 * system has (links, addresses, routes: netlink/port.h); this module applies
 * the Topology rules to it (docs/port.md):
 *
 *   1. an address the node already has and vipd did not tag (or a local
 *      route of the node's own) is never a DuraVIP here: -EADDRINUSE;
 *   2. a DuraVIP under a Topology rule goes on the rule's interface with the
 *      rule's cidrmask (conf/ picked the rule: the longest matching block);
 *      -ENODEV when no link has that name;
 *   3. else, when vipd already plumbed it, it stays on that link;
 *   4. else it goes on the link of the connected route that covers it (the
 *      longest matching route of the main table, lowest metric first; one
 *      with a gateway, of another type or without a single link is not
 *      connected: -ENETUNREACH), with the configured prefix (/32, /128).
 *
 * vipd_sysview_read() makes one dump of each kind, so placing N DuraVIPs
 * costs three dumps (four requests on Linux), not N round trips. Pure
 * otherwise: no logging, no time.
 */
#ifndef VIPD_TOPOLOGY_H
#define VIPD_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "port.h"

/* The system as one round of dumps saw it, indexed for lookups. Zero-initialise;
 * free with vipd_sysview_clear(). */
struct vipd_sysview {
	struct vip_port_links links;
	struct vip_port_table addrs;   /* every address, sorted by address */
	struct vip_port_routes routes; /* as dumped */
	struct vip_addr *local_hosts;  /* LOCAL host routes of the local table, sorted */
	size_t n_local_hosts;
	const struct vip_port_route **others; /* the rest: local ranges and the main table */
	size_t n_others;
};

/* Dump links, addresses and routes through the port and index them. 0 or -errno
 * (the first dump that failed; s is then empty). */
int vipd_sysview_read(const struct vip_port_ops *ops, struct vip_port *port, struct vipd_sysview *s);
/* Index what s->links, s->addrs and s->routes hold (vipd_sysview_read does it). 0 or -ENOMEM. */
int vipd_sysview_index(struct vipd_sysview *s);
/* Accepts NULL; s is zeroed and can be reused. */
void vipd_sysview_clear(struct vipd_sysview *s);

/* Where a DuraVIP goes. */
struct vipd_target {
	int ifindex;
	char ifname[VIP_PORT_NAME_MAX];
	unsigned prefix;               /* the Topology cidrmask, else the host length */
	char label[VIP_PORT_NAME_MAX]; /* vip_port_label() of ifname, "" for IPv6 or too long */
	bool from_topology;            /* a Topology rule decided it */
};

/* Place d, an entry of cfg (rules above). 0 with *ret filled, or -EADDRINUSE, -ENODEV,
 * -ENETUNREACH, -EAFNOSUPPORT; *ret untouched on failure. */
int vipd_topology_place(const struct vipd_sysview *s, const struct vipd_config *cfg,
			const struct vipd_duravip *d, struct vipd_target *ret);

#endif

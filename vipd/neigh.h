/* SPDX-License-Identifier: MIT */
/*
 * vipd/neigh: the neighbour cache the cluster shares (issue 15, Momentum's
 * `arp_all_hosts = false`). Which hosts each node talks to on the segments
 * of its DuraVIPs, so that a new owner of a DuraVIP can tell exactly those
 * hosts (docs/protocol.md, "The neighbour cache").
 *
 *   - Learning: the node's own kernel neighbour table (the port's
 *     dump_neigh() and NEIGH_* events; no packet is sniffed). Only entries
 *     on a link a DuraVIP is placed on (vipd_neigh_set_links), in a state
 *     that says the host talked to us (REACHABLE, STALE, DELAY, PROBE), with
 *     a link-layer address. FAILED forgets the host; a deletion by the
 *     kernel does not (the host may still have our address cached).
 *   - Bounds: at most `arp_cache_size` entries per (node, interface); the
 *     least recently seen goes first. An entry not seen for
 *     `arp_cache_max_age` is aged out, on every node alike.
 *   - Sharing: what this node learns goes out in NEIGH messages
 *     (vipd_neigh_take_batch, at most one call per second, each message
 *     bounded), every node merges the others' (vipd_neigh_merge) and so
 *     holds the union, each entry tagged with the node that learnt it. A
 *     member that joins makes every node send its own entries again in
 *     full. Entries of a node that left are kept until they age out.
 *
 * A pure module with an injected clock (ms of CLOCK_MONOTONIC): it never
 * reads the time and does no I/O; vipd/daemon-neigh.c feeds it.
 */
#ifndef VIPD_NEIGH_H
#define VIPD_NEIGH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cluster.h"
#include "conf.h"
#include "port.h"

#define VIPD_NEIGH_MAC_LEN 6

/* One host known on a segment (learnt by this node or a peer). */
struct vipd_neigh_host {
	struct vip_addr ip;              /* the host's address (same family as the DuraVIP) */
	uint8_t mac[VIPD_NEIGH_MAC_LEN]; /* its link-layer address */
};

struct vipd_neigh; /* the shared cache, owned by the daemon (struct vipd_daemon.neigh) */

/*
 * Hosts known on the segment of a DuraVIP on interface `ifname` (same family
 * as `subnet`; the host's address inside the DuraVIP's connected subnet
 * `subnet`/`prefixlen` as the engine resolved it, or learnt on an interface
 * of the same name when prefixlen is 0), freshest first, each address once
 * (the freshest MAC when nodes disagree); fills at most `max` entries and
 * returns how many. Never fails; 0 means none known (nc NULL included).
 */
size_t vipd_neigh_hosts(const struct vipd_neigh *nc, const char *ifname, const struct vip_addr *subnet,
			unsigned prefixlen, struct vipd_neigh_host *out, size_t max);

struct vipd_neigh_opts {
	uint32_t size;       /* arp_cache_size: entries per (node, interface), >= 1 */
	uint32_t max_age_ms; /* arp_cache_max_age: an entry not seen for this long is dropped */
};

/* The options of a cluster scope (or its defaults). */
void vipd_neigh_opts_from_config(const struct vipd_cluster *c, struct vipd_neigh_opts *ret);

/* A new, empty cache for the node named self (copied). 0, -EINVAL (bad name) or -ENOMEM. */
int vipd_neigh_new(const struct vipd_neigh_opts *opts, const char *self, struct vipd_neigh **ret);
void vipd_neigh_free(struct vipd_neigh *nc); /* accepts NULL */
/* New options (config reload): a smaller size evicts at once, the least recently seen first. */
void vipd_neigh_set_opts(struct vipd_neigh *nc, const struct vipd_neigh_opts *opts, uint64_t now);

/* A link this node learns on (one a DuraVIP is placed on). */
struct vipd_neigh_link {
	int ifindex;
	char ifname[VIP_PORT_NAME_MAX];
};
/* Replace the links learnt on. Entries learnt before stay until aged. Returns 1 when a link was
 * not in the previous set (the caller reads the kernel's table again: its events were ignored), 0
 * when not, or -ENOMEM. */
int vipd_neigh_set_links(struct vipd_neigh *nc, const struct vipd_neigh_link *links, size_t n);

/*
 * One entry of the kernel's table (an event or a dump line): learn the host,
 * refresh it, or (FAILED) forget it; deleted: the kernel dropped the entry,
 * which changes nothing here. Returns 1 when the cache changed, 0 when not
 * (not a link learnt on, a state or address not learnt), -ENOMEM.
 */
int vipd_neigh_learn(struct vipd_neigh *nc, const struct vip_port_neigh *n, bool deleted, uint64_t now);

/* A NEIGH message from the group (m->type VIP_CL_MSG_NEIGH): apply what a peer learnt
 * (this node's own name in it is ignored). Returns the entries changed, or -ENOMEM. */
int vipd_neigh_merge(struct vipd_neigh *nc, const struct vip_cl_msg *m, uint64_t now);

/* A member joined the group: send every entry this node learnt again, in full. */
void vipd_neigh_peer_joined(struct vipd_neigh *nc);

/* Drop entries not seen for max_age. Returns how many were dropped. */
size_t vipd_neigh_expire(struct vipd_neigh *nc, uint64_t now);

/*
 * The next NEIGH message to multicast: what this node learnt, refreshed or
 * forgot since the last one (and its entries again after a join, and those
 * seen again half an age after they were last sent), at most
 * VIP_CL_NEIGH_MAX entries. 1 and *ret filled (free with
 * vip_cl_msg_clear), 0 when nothing is due, or -ENOMEM. The entries in it
 * count as sent.
 */
int vipd_neigh_take_batch(struct vipd_neigh *nc, uint64_t now, struct vip_cl_msg *ret);

/* A batch taken by vipd_neigh_take_batch could not be sent: its entries are due again. */
void vipd_neigh_unsend(struct vipd_neigh *nc, const struct vip_cl_msg *m);

/* One entry as `cluster arp show` prints it. */
struct vipd_neigh_entry {
	struct vip_addr ip;
	uint8_t mac[VIPD_NEIGH_MAC_LEN];
	char ifname[VIP_PORT_NAME_MAX];
	const char *node; /* the node that learnt it; valid until the next call that changes nc */
	bool own;         /* learnt by this node */
	uint64_t seen_ms; /* when the learning node last saw the host (this node's clock) */
};
/* Entries in the cache (every node's). */
size_t vipd_neigh_count(const struct vipd_neigh *nc);
/*
 * Every entry, in (address, node, interface) order, into *ret (malloc'ed;
 * the node names point into nc and stay valid until the next call that
 * changes nc). Returns the count, or -ENOMEM.
 */
ssize_t vipd_neigh_snapshot(const struct vipd_neigh *nc, struct vipd_neigh_entry **ret);

struct vipd_neigh_stats {
	size_t entries;    /* in the cache now (metrics: the cache size) */
	size_t own;        /* of which this node learnt */
	uint64_t learnt;   /* own entries added */
	uint64_t merged;   /* peers' entries added or changed */
	uint64_t evicted;  /* dropped for the size bound */
	uint64_t expired;  /* dropped for their age */
	uint64_t batches;  /* NEIGH messages made */
	uint64_t sent;     /* entries in them */
	uint64_t received; /* NEIGH messages merged */
};
void vipd_neigh_get_stats(const struct vipd_neigh *nc, struct vipd_neigh_stats *ret);

#endif

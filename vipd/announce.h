/* SPDX-License-Identifier: MIT */
/*
 * vipd/announce: when to announce which address (gratuitous ARP / unsolicited
 * NA). A pure scheduler with an injected clock: it never reads the time and
 * never touches a socket; the daemon feeds it loop_now_ms() and hands it a
 * send callback that maps to the port's announce call.
 *
 * Schedule of one address, from the moment it is acquired (t0):
 *   t0                       the first announcement, at once;
 *   t0 + k * interval        k = 1..arp_repeat, interval = max(arp_repeat_interval, 1 s)
 *                            (the kernel ignores a second gratuitous ARP for one
 *                            address within its 1 s locktime, so never faster);
 *   then every arp_refresh_interval (at least 1 s) when that is set, forever.
 * Pacing: at most arp_pace packets per second per interface (a token bucket
 * that holds a tenth of a second of packets, at least one); an IPv4
 * announcement in arp_mode "both" costs two packets. Addresses due at the same
 * time on one interface go out in one send call.
 *
 * arp_all_hosts = false (opts.unicast, with vipd_announce_set_hosts): each
 * announcement of an address goes to each host known on its segment instead,
 * one frame per host (the hosts callback names them, freshest first; at most
 * VIPD_ANNOUNCE_MAX_HOSTS), every frame paid from the same bucket, so one
 * announcement of an address may span several ticks and counts as sent when
 * its last host was sent. With arp_pace 0 the unicast bucket runs at
 * VIPD_ANNOUNCE_UNICAST_PACE. With no host known the announcement is broadcast
 * as usual, logged once per acquisition of the address.
 */
#ifndef VIPD_ANNOUNCE_H
#define VIPD_ANNOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "port.h"

#define VIPD_ANNOUNCE_MIN_INTERVAL_MS 1000u
/* arp_all_hosts = false: hosts told per address per announcement, at most. */
#define VIPD_ANNOUNCE_MAX_HOSTS 256u
/* arp_all_hosts = false and arp_pace 0: unicast frames per second per interface. */
#define VIPD_ANNOUNCE_UNICAST_PACE 10000u

struct vipd_announce_opts {
	uint32_t repeat;              /* repeats after the first announcement */
	uint32_t repeat_interval_ms;  /* raised to VIPD_ANNOUNCE_MIN_INTERVAL_MS */
	uint32_t refresh_interval_ms; /* 0: off; else raised to the minimum */
	uint32_t pace;                /* packets per second per interface, 0: unlimited */
	enum vip_arp_mode mode;
	bool unicast; /* arp_all_hosts = false: to each known host (vipd_announce_set_hosts) */
};

/* The options of a cluster scope (or its defaults). */
void vipd_announce_opts_from_config(const struct vipd_cluster *c, struct vipd_announce_opts *ret);

/*
 * Send one batch: every address is on interface ifindex. Returns the number of
 * addresses sent (0..n) or -errno; addresses not sent are retried at the next
 * tick that has a token (the scheduler treats them as still due).
 */
typedef int (*vipd_announce_send_fn)(void *data, int ifindex, const struct vip_addr *addrs, size_t n);

/* A host known on an address's segment, and one unicast announcement to it. */
struct vipd_announce_host {
	struct vip_addr ip;
	uint8_t mac[6];
};
struct vipd_announce_dst {
	struct vip_addr addr; /* announced */
	struct vipd_announce_host host;
};

/* The hosts to tell about addr (on ifindex): fill up to max into out, freshest first;
 * returns how many (0: none known). */
typedef size_t (*vipd_announce_hosts_fn)(void *data, const struct vip_addr *addr, int ifindex,
					 struct vipd_announce_host *out, size_t max);
/* Send one unicast batch on ifindex. Returns the number sent (0..n) or -errno. */
typedef int (*vipd_announce_send_to_fn)(void *data, int ifindex, const struct vipd_announce_dst *dsts,
					size_t n);

struct vipd_announce;

/* A new, empty schedule. 0 and *ret, or -ENOMEM. */
int vipd_announce_new(const struct vipd_announce_opts *opts, vipd_announce_send_fn send, void *data,
		      struct vipd_announce **ret);
/* Accepts NULL. */
void vipd_announce_free(struct vipd_announce *a);

/* The unicast path that opts.unicast uses; without it every announcement is broadcast. */
void vipd_announce_set_hosts(struct vipd_announce *a, vipd_announce_hosts_fn hosts,
			     vipd_announce_send_to_fn send_to, void *data);

/* Replace the options (config reload); the schedule of each address keeps its phase. */
void vipd_announce_set_opts(struct vipd_announce *a, const struct vipd_announce_opts *opts);

/*
 * An address was acquired (plumbed) on ifindex at now_ms: announce it at once
 * (or, when it was announced less than 1 s ago, as soon as the locktime allows)
 * and then on the schedule above. Adding an address already scheduled restarts
 * its schedule. 0 or -ENOMEM.
 */
int vipd_announce_add(struct vipd_announce *a, const struct vip_addr *addr, int ifindex, uint64_t now_ms);
/* The address was released: stop announcing it. 0 or -ENOENT. */
int vipd_announce_remove(struct vipd_announce *a, const struct vip_addr *addr);
/* Restart the schedule of every address (`cluster duravip announce view`). Returns the count. */
size_t vipd_announce_restart_all(struct vipd_announce *a, uint64_t now_ms);

/*
 * Send everything due at now_ms, batched per interface and paced. Returns the
 * number of addresses announced, or the first -errno from send (the others are
 * still attempted; failed addresses are retried on their next slot).
 */
int vipd_announce_tick(struct vipd_announce *a, uint64_t now_ms);
/* When tick should next run (absolute ms), or UINT64_MAX when nothing is scheduled. */
uint64_t vipd_announce_next_due(const struct vipd_announce *a, uint64_t now_ms);

/* One scheduled address, as `cluster arp show` prints it. */
struct vipd_announce_entry {
	struct vip_addr addr;
	int ifindex;
	uint32_t sent;         /* announcements sent since it was first scheduled */
	uint32_t repeats_left; /* repeats still to come (refresh not counted) */
	uint64_t last_ms;      /* UINT64_MAX: never */
	uint64_t next_ms;      /* UINT64_MAX: nothing more scheduled */
};
/* Addresses with an announcement still scheduled (the others rest). */
size_t vipd_announce_scheduled(const struct vipd_announce *a);
/* Every address known: scheduled or resting (all sent, nothing more due). */
size_t vipd_announce_count(const struct vipd_announce *a);
/* Copy entry i (0 <= i < count; the scheduled ones first, then the resting ones,
 * IPv4 before IPv6, so not in address order). 0 or -ENOENT. */
int vipd_announce_get(const struct vipd_announce *a, size_t i, struct vipd_announce_entry *ret);

struct vipd_announce_stats {
	uint64_t announced; /* addresses announced (one per address per send) */
	uint64_t packets;   /* packets that represents (two per IPv4 address in mode both) */
	uint64_t errors;    /* send calls that failed */
	uint64_t deferred;  /* times an address had to wait for the pace */
	uint64_t unicast;   /* unicast announcements sent (one per address per host) */
	uint64_t fallbacks; /* announcements broadcast because no host was known (unicast on) */
};
void vipd_announce_get_stats(const struct vipd_announce *a, struct vipd_announce_stats *ret);
const struct vipd_announce_opts *vipd_announce_get_opts(const struct vipd_announce *a);

/* ------------------------------------------------------------------ */
/* Sending through a port (vipd/announce-port.c)                       */
/* ------------------------------------------------------------------ */

/* What the two sends below take as data: the port, and the schedule whose arp_mode they use. */
struct vipd_announce_port {
	const struct vip_port_ops *ops;
	struct vip_port *port;
	const struct vipd_announce *announce;
};
/* A vipd_announce_send_fn: one port announce call, broadcast. */
int vipd_announce_port_send(void *data, int ifindex, const struct vip_addr *addrs, size_t n);
/* A vipd_announce_send_to_fn: one port announce call, each entry to its host. */
int vipd_announce_port_send_to(void *data, int ifindex, const struct vipd_announce_dst *dsts, size_t n);

/* Bytes its entries, its resting addresses and its kept scratch hold, as allocated (the metrics). */
size_t vipd_announce_bytes(const struct vipd_announce *a);

#endif

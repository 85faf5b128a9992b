/* SPDX-License-Identifier: MIT */
/*
 * vipd/engine: the level-triggered engine. It compares the desired set (the
 * addresses the cluster protocol wants this node to hold) with the observed
 * set (what the kernel has, from port events and dumps) and issues the
 * difference as one batched add and one batched remove.
 *
 *   - an address removed by someone else while wanted is put back (logged);
 *   - a configured DuraVIP (or any vipd-tagged address) present but not
 *     wanted is removed;
 *   - RESYNC_NEEDED from the port: full dump, then reconcile;
 *   - every if_check_interval the engine checks the links its DuraVIPs use:
 *     a link down for if_down_limit checks in a row makes its addresses
 *     unavailable (vip_cl_proto_set_unavailable: released here, the group
 *     told); link up makes them eligible again at once;
 *   - after a RELEASE action, once the address is gone from the kernel, the
 *     engine calls vip_cl_proto_local_released;
 *   - every acquisition starts the announcement schedule (vipd/announce).
 *
 * Time is passed in (now, ms of CLOCK_MONOTONIC) so tests drive it. The
 * engine borrows the port, proto and announce objects; it logs (vipd/ may)
 * and reports changes through an optional event callback for the console.
 */
#ifndef VIPD_ENGINE_H
#define VIPD_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "announce.h"
#include "cluster.h"
#include "conf.h"
#include "neigh.h"
#include "port.h"

struct vipd_engine;

enum vipd_engine_event {
	VIPD_EV_ACQUIRED,  /* plumbed (detail: interface) */
	VIPD_EV_RELEASED,  /* unplumbed because no longer wanted */
	VIPD_EV_PUT_BACK,  /* removed by someone else, plumbed again */
	VIPD_EV_STRAY,     /* present but not ours to hold: removed */
	VIPD_EV_LINK_DOWN, /* interface down past if_down_limit: its DuraVIPs released */
	VIPD_EV_LINK_UP,   /* interface back: its DuraVIPs eligible */
	VIPD_EV_RESYNC,    /* full dump after lost events */
	VIPD_EV_ERROR,     /* add/remove failed (detail: error text) */
	_VIPD_EV_MAX,
};
const char *vipd_engine_event_to_string(enum vipd_engine_event e);

/* Called for every change. addr may be NULL (RESYNC, LINK_*); detail may be NULL. */
typedef void (*vipd_engine_event_fn)(void *data, enum vipd_engine_event ev, const struct vip_addr *addr,
				     const char *detail);

struct vipd_engine_deps {
	const struct vip_port_ops *port_ops;
	struct vip_port *port;
	struct vip_cl_proto *proto;     /* may be NULL until the cluster connects: nothing is wanted */
	struct vipd_announce *announce; /* may be NULL: nothing is announced */
	struct vipd_neigh *neigh;       /* may be NULL: NEIGH_* port events are ignored */
	vipd_engine_event_fn event;     /* may be NULL */
	void *event_data;
	uint64_t (*clock)(void);    /* end of a failover measurement; NULL: the now passed in */
	uint64_t (*clock_us)(void); /* a monotonic µs clock for the failover's breakdown; NULL: none */
	uint64_t (*cpu_us)(void);   /* this thread's CPU time in µs, for the same; NULL: not shown */
};

/* A new engine for cfg (borrowed; must outlive the engine or be replaced by reconfigure). */
int vipd_engine_new(const struct vipd_engine_deps *deps, const struct vipd_config *cfg,
		    struct vipd_engine **ret);
void vipd_engine_free(struct vipd_engine *e); /* accepts NULL */

/* Replace the cluster protocol (reconnect); NULL: nothing is wanted. */
void vipd_engine_set_proto(struct vipd_engine *e, struct vip_cl_proto *proto);

/*
 * Momentum's clean slate: remove every configured DuraVIP present on the
 * system and every vipd-tagged address. Count removed or -errno.
 */
int vipd_engine_clean_slate(struct vipd_engine *e);

/*
 * Start: resolve where each DuraVIP goes, read link states, dump the
 * addresses. Call once after the drop, before the first reconcile. 0 or -errno
 * (a DuraVIP that cannot be resolved is not an error: it is unavailable and
 * retried at each check).
 */
int vipd_engine_start(struct vipd_engine *e, uint64_t now);

/* The protocol queued HOLD / RELEASE for addr (the engine reads the wanted set itself;
 * RELEASE additionally asks for vip_cl_proto_local_released once it is gone). */
void vipd_engine_on_hold(struct vipd_engine *e, const struct vip_addr *addr);
void vipd_engine_on_release(struct vipd_engine *e, const struct vip_addr *addr);

/* One port event. 0 or -errno (a resync's dump failing). */
int vipd_engine_on_port_event(struct vipd_engine *e, const struct vip_port_event *ev, uint64_t now);
/* Drain the port's events (next_event until 0). Count handled or -errno. */
int vipd_engine_drain_port(struct vipd_engine *e, uint64_t now);
/* Full dump and rebuild of the observed set. 0 or -errno. */
int vipd_engine_resync(struct vipd_engine *e, uint64_t now);

/*
 * Make the kernel match the wanted set: one batched remove, one batched add,
 * then local_released for finished releases. Returns the number of failed
 * requests (0: converged; > 0: call again later, e.g. in a second), or -errno.
 */
int vipd_engine_reconcile(struct vipd_engine *e, uint64_t now);
/* True when a reconcile has work (something changed since the last one). */
bool vipd_engine_is_dirty(const struct vipd_engine *e);

/* The periodic link check (every if_check_interval). 0 or -errno. */
int vipd_engine_check_links(struct vipd_engine *e, uint64_t now);

/* A reloaded configuration: new, removed and changed DuraVIPs, topology and link
 * limits apply at the next reconcile. cfg is borrowed like in new. 0 or -errno. */
int vipd_engine_reconfigure(struct vipd_engine *e, const struct vipd_config *cfg, uint64_t now);

/* Planned stop: mark every DuraVIP unavailable in the protocol (the group is
 * told), remove every DuraVIP this node holds and every vipd-tagged address,
 * and report each with local_released. Count removed or -errno. */
int vipd_engine_release_all(struct vipd_engine *e, uint64_t now);

/*
 * Probing before a takeover (engine-probe.c): answers are read from the port's
 * probe_fds; the next probe step is due at vipd_engine_next_probe (UINT64_MAX: none),
 * when vipd_engine_probe_due makes the engine dirty.
 */
void vipd_engine_drain_answers(struct vipd_engine *e, uint64_t now);
uint64_t vipd_engine_next_probe(const struct vipd_engine *e);
void vipd_engine_probe_due(struct vipd_engine *e, uint64_t now);

/* A view that lost a member was delivered at now: the next acquisition measures failover. */
void vipd_engine_mark_failover(struct vipd_engine *e, uint64_t now);

/* Per-DuraVIP facts for the console. */
struct vipd_engine_vip {
	struct vip_addr addr;
	unsigned prefix;
	int ifindex;                    /* target link, 0 when unresolved */
	char ifname[VIP_PORT_NAME_MAX]; /* "" when unresolved */
	bool present;                   /* plumbed on its target link now */
	bool wanted;                    /* the protocol wants it here */
	bool unavailable;               /* link down past the limit, or unresolved */
	int resolve_error;              /* last resolve error, 0 when resolved */
	uint64_t since;                 /* when it was plumbed here (valid when present) */
	bool probing;                   /* being probed before it is plumbed here (engine-probe.c) */
	unsigned probe_claims;          /* probes another host answered so far */
};
size_t vipd_engine_n_vips(const struct vipd_engine *e);
int vipd_engine_vip(const struct vipd_engine *e, size_t i, struct vipd_engine_vip *ret); /* 0 or -ERANGE */
/* The engine's view of addr, or -ENOENT when not configured. */
int vipd_engine_find(const struct vipd_engine *e, const struct vip_addr *addr, struct vipd_engine_vip *ret);

struct vipd_engine_metrics {
	size_t owned;              /* DuraVIPs plumbed here now */
	uint64_t acquired;         /* plumbs done */
	uint64_t released;         /* unplumbs done */
	uint64_t put_back;         /* removed by someone else, plumbed again */
	uint64_t netlink_errors;   /* failed add/remove entries and failed calls */
	uint64_t resyncs;          /* full dumps after lost events */
	uint64_t link_releases;    /* interfaces given up after if_down_limit */
	uint64_t failovers;        /* failover measurements taken */
	uint64_t last_failover_ms; /* view with a lost member -> last address plumbed and announced */
	uint64_t probes_sent;      /* address probes sent before a takeover */
	uint64_t probe_claims;     /* probes another host answered: the address waited */
	uint64_t probe_cleared;    /* addresses plumbed after a probe nobody answered */
};
void vipd_engine_get_metrics(const struct vipd_engine *e, struct vipd_engine_metrics *ret);
/* Bytes its per-DuraVIP and per-link entries hold (the metrics). */
size_t vipd_engine_bytes(const struct vipd_engine *e);

#endif

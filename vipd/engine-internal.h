/* SPDX-License-Identifier: MIT */
/*
 * vipd/engine internals shared by engine.c (addresses, reconcile) and
 * engine-links.c (targets, link checks). Not a public header.
 */
#ifndef VIPD_ENGINE_INTERNAL_H
#define VIPD_ENGINE_INTERNAL_H

#include "engine.h"
#include "topology.h"

/*
 * One configured DuraVIP. There is one per DuraVIP (10,000 and more), so it
 * holds no names: the target link's name is its engine_link's
 * (engine_vip_ifname), the alias label is made from it when a plan is built.
 */
struct engine_vip {
	const struct vipd_duravip
		*conf; /* its entry in the engine's configuration: conf->addr is its address */
	/* target: where it goes (vipd/topology) */
	int ifindex;           /* 0: unresolved */
	int obs_ifindex;       /* observed: the link it is plumbed on now, 0: absent */
	int16_t resolve_error; /* last resolve error (-errno), 0 when resolved, 1 before the first */
	uint16_t expect_del;   /* ADDR_DEL echoes still due for our own removals */
	uint8_t prefix;
	uint8_t obs_prefix;
	bool release_pending; /* protocol: RELEASE seen, tell local_released once gone */
	uint64_t since;       /* plumbed since */
};

/* An address being probed before it is plumbed (engine-probe.c). */
struct engine_probe {
	struct vip_addr addr;
	int ifindex;
	uint64_t sent;   /* when the last probe went out, 0: not yet */
	uint64_t view;   /* the protocol's view sequence then: silence counts only in it */
	uint64_t next;   /* claimed: when to probe again */
	unsigned claims; /* probes a host answered */
	bool claimed;    /* the last probe was answered (or could not be sent) */
	bool resent;     /* its second probe of this round went out (engine-probe.c) */
	bool seen;       /* the current plan still wants it */
	bool done;       /* cleared: plumbed by this plan, dropped after it */
};

/* One link a DuraVIP goes on. */
struct engine_link {
	int ifindex;
	char ifname[VIP_PORT_NAME_MAX];
	bool up;
	unsigned down_checks; /* consecutive checks that found it down */
	bool unavailable;     /* given up after if_down_limit checks */
};

struct vipd_engine {
	struct vipd_engine_deps deps;
	const struct vipd_config *cfg;
	struct engine_vip *vips; /* sorted by address */
	size_t n_vips;
	struct engine_link *links;
	size_t n_links;
	struct vip_port_table strays; /* vipd-tagged addresses not configured: to remove */
	bool dirty;
	bool unavail_dirty;          /* the unavailable set changed: tell the protocol */
	struct engine_probe *probes; /* addresses being probed (engine-probe.c) */
	size_t n_probes, n_probes_sorted, cap_probes;
	bool listening;         /* the port takes answers */
	bool probe_unsupported; /* the port cannot probe: plumb after the takeover delay alone */
	uint64_t ahead_for;     /* the takeover delay's end whose probes went out ahead of it */
	bool failover_armed;
	uint64_t failover_since;
	bool failover_acquired; /* something was plumbed since the mark */
	struct engine_failover_parts {
		uint64_t mark, first_add, first_sent, plumbed; /* deps.clock_us stamps, 0: not yet */
		uint64_t add_us, announce_us;         /* spent in the port's add, in announce ticks */
		uint64_t add_cpu_us, announce_cpu_us; /* of which on a CPU (deps.cpu_us) */
		size_t added;
	} fo; /* the breakdown of the failover being measured (only with deps.clock_us) */
	struct vipd_engine_metrics m;
};

/* Work lists of one reconcile (or of a release); the adds' requests are made slice by slice. */
struct plan {
	struct vip_port_req *rm;
	struct engine_vip **rm_vip, **add_vip; /* NULL for a stray */
	size_t n_rm, n_add;
};

/* engine.c */
struct engine_vip *engine_vip_find(struct vipd_engine *e, const struct vip_addr *a);
/* The entry of v[0..n) (sorted by address) with address a, or NULL. */
struct engine_vip *engine_vips_find(const struct engine_vip *v, size_t n, const struct vip_addr *a);
/* Entries for every DuraVIP of cfg, sorted, unresolved and unobserved. 0 or -ENOMEM. */
int engine_vips_from_config(const struct vipd_config *cfg, struct engine_vip **ret, size_t *ret_n);
/* Does the protocol want v here? */
bool engine_is_wanted(const struct vipd_engine *e, const struct engine_vip *v);
void engine_req_from(struct vip_port_req *q, const struct vip_addr *a, unsigned prefix, int ifindex,
		     const char *label);
void engine_plan_free(struct plan *p);
/* Apply p's removals and account for them. Returns the number that failed. */
int engine_apply_removes(struct vipd_engine *e, struct plan *p, uint64_t now);

/* Tell the daemon (deps.event). Inline: engine.c and engine-links.c both
 * emit, and neither should call into the other for it (tools/check-cycles). */
static inline void engine_emit(struct vipd_engine *e, enum vipd_engine_event ev, const struct vip_addr *addr,
			       const char *detail)
{
	if (e->deps.event)
		e->deps.event(e->deps.event_data, ev, addr, detail);
}

/* engine-links.c */
/*
 * Place every DuraVIP (or only those without a target) by vipd/topology on sv, or on a
 * view read now when sv is NULL; logs a change of error once per DuraVIP. 0, or the
 * -errno of the dump that failed (the unplaced then carry it; the placed stay).
 */
int engine_place(struct vipd_engine *e, bool missing_only, const struct vipd_sysview *sv);
/* Rebuild the link list from the targets, keeping known states; a new link's state comes
 * from known (may be NULL) or link_get. 0 or -ENOMEM. */
int engine_links_rebuild(struct vipd_engine *e, const struct vip_port_links *known);
struct engine_link *engine_link_find(const struct vipd_engine *e, int ifindex);
/* The name of v's target link, "" when it has none. */
const char *engine_vip_ifname(const struct vipd_engine *e, const struct engine_vip *v);
/* Can this node host v now (resolved and its link not given up)? */
bool engine_vip_available(const struct vipd_engine *e, const struct engine_vip *v);
/* Tell the protocol the unavailable set when it changed. 0 or -errno. */
int engine_push_unavailable(struct vipd_engine *e, uint64_t now);
/* A LINK_* port event. */
void engine_on_link_event(struct vipd_engine *e, const struct vip_port_event *ev, uint64_t now);

/* engine-probe.c */
/* May v (wanted) be plumbed now, or must it wait for a probe (starting one)? */
bool engine_probe_gate(struct vipd_engine *e, const struct engine_vip *v, uint64_t now);
/* v is not wanted yet: probe it ahead if the takeover delay ends within the probe wait
 * and this node will want it then. */
void engine_probe_ahead(struct vipd_engine *e, const struct engine_vip *v, uint64_t now);
/* Read the answers queued (before a plan, so a claim is never missed). */
void engine_probe_before_plan(struct vipd_engine *e, uint64_t now);
/* After a plan: forget what it no longer wants, send the probes due. 0 or -ENOMEM. */
int engine_probe_send(struct vipd_engine *e, uint64_t now);
void engine_probe_free(struct vipd_engine *e);
/* Is a being probed, and how many claims so far (the console)? */
void engine_probe_info(const struct vipd_engine *e, const struct vip_addr *a, bool *ret_probing,
		       unsigned *ret_claims);

#endif

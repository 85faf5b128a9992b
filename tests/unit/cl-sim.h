/* SPDX-License-Identifier: MIT */
/*
 * An in-process simulator of virtual synchrony driving the real protocol
 * code (struct vip_cl_proto) of N members:
 *
 *   - components (partitions): each has one FIFO that every member of it
 *     delivers in the same order (agreed order);
 *   - a view change first flushes the old component's queue the way
 *     extended virtual synchrony allows: members moving on together deliver
 *     the same prefix of it, the rest is lost (a crashed sender's messages,
 *     or the tail cut by a partition); then every new component gets its view;
 *   - a fake engine per member: HOLD plumbs at once, RELEASE unplumbs after
 *     a random delay and then calls vip_cl_proto_local_released();
 *   - quorum: a component is quorate when it has more than half the nodes;
 *   - a stopped member (SIGSTOP) runs nothing: what is delivered to it waits
 *     in its backlog, it sends nothing, its addresses stay plumbed; resumed,
 *     it works through the backlog in order;
 *   - views carry left lists: a node that dies or is cut off is NODEDOWN;
 *   - a member's corosync may hold its sends (sim_hold_sends) across views,
 *     sealed in the view they were sent in, and a ring may re-form with the
 *     same members (sim_reform): messages that cross into a view with the
 *     same member list (docs/protocol.md, "Authentication");
 *   - a node may run a monitor (another group member with the node's id):
 *     it multicasts MONITOR on every view; when the node's engine crashes
 *     (PROCDOWN) its addresses stay plumbed until sim_flush() (the monitor
 *     removes them and multicasts FLUSHED); without a monitor the reaper
 *     removes them at once.
 *
 * Invariants, checked after every step: a member never plumbs an address
 * another member of its component has plumbed. At quiescence: in every
 * quorate component each DuraVIP is plumbed by exactly one member and every
 * member shows the same owners, except that an address no running member
 * of the component is a candidate for (all standby or unhealthy) is
 * plumbed by none of them; a running member that is no candidate plumbs
 * nothing once its round is complete; an inquorate component (policy
 * release) plumbs nothing.
 */
#ifndef VIP_CL_SIM_H
#define VIP_CL_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cl-testutil.h"

#define NMAX 8
#define VMAX 64
#define STEP_MAX 200000

struct smsg {
	struct vip_cl_member from;
	uint8_t *data;
	size_t len;
};

struct squeue {
	struct smsg *m;
	size_t head, n, cap;
};

/* An event waiting for a stopped member. */
struct sevent {
	enum { SEV_VIEW, SEV_MSG, SEV_QUORUM } kind;
	struct vip_cl_member members[2 * NMAX], left[2 * NMAX];
	size_t n_members, n_left;
	ssize_t self;
	struct smsg msg;
	bool quorate;
};

struct snode {
	bool up;    /* the node (host, corosync): its addresses are on the wire */
	bool alive; /* its engine process */
	bool mon;   /* its monitor process */
	bool crash_next, mon_next, mon_stop_next; /* for the next view change */
	bool joining;                             /* started, not in a view yet */
	struct vip_cl_member mon_id;
	bool stopped;
	uint32_t out;      /* VIP_CL_OUT_*: not a candidate (standby, unhealthy) */
	struct sevent *bl; /* backlog while stopped */
	size_t n_bl, cap_bl;
	struct vip_cl_member view[2 * NMAX]; /* its last view, for left lists */
	size_t n_view;
	int comp;
	struct vip_cl_member id;
	struct vip_cl_proto *p;
	struct vipd_config *cfg;
	bool plumbed[VMAX];
	int rel[VMAX]; /* pending unplumbs (vip index) */
	size_t n_rel;
};

struct sim {
	struct snode n[NMAX];
	size_t nn, nv;
	uint64_t now;
	uint64_t rng;
	uint32_t next_pid;
	enum vip_quorum_policy policy;
	struct squeue q[NMAX];      /* per component */
	struct squeue staged[NMAX]; /* sent during a flush: delivered after the new view */
	bool flushing;
	enum vip_cl_reason why[NMAX]; /* why node i leaves at this view change */
	bool watch[VMAX];             /* must stay plumbed somewhere after every step */
	unsigned witness[NMAX];       /* stopped node i: the running processes that saw it stop */
	size_t holds, releases, views, delivered, lost;
	/* Authenticated (sim_use_key): every member seals; a message sealed in another view is ignored */
	struct vip_cl_key *key;
	uint64_t comp_view[NMAX]; /* the view digest of each component's current view */
	uint64_t mon_seq;         /* the monitors' sequence numbers (one counter: still increasing) */
	size_t resent;            /* FLUSHED sent again after crossing a view change */
	bool mon_first;           /* a node's monitor before its engine in the member list */
	bool hold[NMAX];          /* node i's sends wait in its corosync (sim_hold_sends) */
	struct squeue held[NMAX];
	/* plumbs while a node outside the component had the address on the wire, and of
	 * those the ones the protocol did not say to probe first (vip_cl_proto_probe_first) */
	size_t cross_plumbs, unprobed;
	size_t probed;          /* plumbs the engine would have probed first */
	unsigned overlap[VMAX]; /* nodes that plumbed it while a node out of their component had it */
};

/* Set up nn nodes (not started) sharing nv DuraVIPs; seed picks the interleaving. */
void sim_init(struct sim *s, size_t nn, size_t nv, uint64_t seed, enum vip_quorum_policy pol);
/* Every node's duravip_takeover_delay and duravip_takeover_guard (before the nodes start). */
void sim_use_guard(struct sim *s, uint32_t delay_ms, enum vip_takeover_guard guard);
void sim_free(struct sim *s);
/* Authenticate the cluster's messages with one key (docs/protocol.md); before any sim_start_node. */
void sim_use_key(struct sim *s);
uint64_t sim_rnd(struct sim *s);
const char *sim_node_name(size_t i);
/* A fresh engine (new pid, clean slate) for node i; it joins at the next sim_view_change. */
void sim_start_node(struct sim *s, size_t i);
/* Carry out node i's queued actions (sends, plumbs; unplumbs later). */
void sim_drain(struct sim *s, size_t i);
/* New components (-1: the node dies), with the flush described above. */
void sim_view_change(struct sim *s, const int *new_comp);
/* Start every node in component 0 and run to quiescence. */
void sim_all_join(struct sim *s);
/* Deliver and unplumb in random order: at most max steps / until quiescent (or fail). */
void sim_run_some(struct sim *s, size_t max);
void sim_run(struct sim *s);
/*
 * Node i's sends wait in its corosync, not yet multicast (on), as while a
 * ring forms; off: they go out now, after what its component has queued.
 * Each is sealed as vipd sent it: with the view node i was in then.
 */
void sim_hold_sends(struct sim *s, size_t i, bool on);
/* comp's ring re-forms with the same members: its queue is delivered, then the same view again. */
void sim_reform(struct sim *s, int comp);
/* Let ms pass in 100 ms ticks, running to quiescence after each. */
void sim_advance(struct sim *s, uint64_t ms);
/* Node i's engine crashes (its node stays up); its monitor starts / stops; the monitor flushes. */
void sim_crash(struct sim *s, size_t i);
void sim_monitor(struct sim *s, size_t i, bool on);
void sim_flush(struct sim *s, size_t i);
/* Node i's candidacy (VIP_CL_OUT_*, 0: a candidate): standby/active, a health check failing/passing. */
void sim_candidacy(struct sim *s, size_t i, uint32_t out);
/* Stop node i (SIGSTOP) / let it go on (SIGCONT: works through its backlog). */
void sim_stop(struct sim *s, size_t i);
void sim_resume(struct sim *s, size_t i);
/* The quiescent invariants (see above). Stopped members are not compared. */
void sim_check(struct sim *s);
/* Run to quiescence; with a member stopped, also let time close the rounds. */
void sim_settle(struct sim *s);
/* DuraVIP i < 3 * nn is at node i % nn when that node is in a quorate component (unless pinned). */
void sim_check_preferred(const struct sim *s);
size_t sim_count_plumbed(const struct sim *s, size_t i);
/* Nodes up in comp (what quorum counts). */
size_t sim_comp_size(const struct sim *s, int comp);

/* Helpers of the simulator tests (cl-sim-check.c). */
/* All nodes join; the views mature: the preferred addresses go home (checked). */
void sim_startup(struct sim *s);
/* nn nodes, 20 DuraVIPs, each node with a monitor, settled (checked). */
void sim_startup_monitors(struct sim *s, size_t nn, uint64_t seed);
/* Node a and node b show the same table: owners, holders, flags, members (or fail). */
void sim_assert_same_tables(const struct sim *s, size_t a, size_t b);
/* Advance in 100 ms ticks until every address of from[] is plumbed at to; the time taken. */
uint64_t sim_until_taken(struct sim *s, const bool *from, size_t to, uint64_t max_ms);
/* Ghosts node i counts now. */
size_t sim_n_ghosts(const struct sim *s, size_t i);

#endif

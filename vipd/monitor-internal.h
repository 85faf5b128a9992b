/* SPDX-License-Identifier: MIT */
/*
 * vipd/monitor internals shared by monitor.c (the engine's life) and
 * monitor-cluster.c (the monitor's own group membership). Not a public header.
 */
#ifndef VIPD_MONITOR_INTERNAL_H
#define VIPD_MONITOR_INTERNAL_H

#include "monitor.h"

struct monitor_cluster {
	const struct vip_cl_backend_ops *ops;
	struct vip_cl_backend *be; /* NULL while disconnected */
	bool lost;                 /* lost during dispatch: free after it */
	bool want_monitor;         /* MONITOR to multicast (a view with self came) */
	bool want_flushed;         /* FLUSHED to multicast (a flush happened) */
	bool flushed_unconfirmed;  /* a FLUSHED not yet seen delivered in the view it was sealed in */
	uint64_t flushed_since;    /* loop_now_ms() of that flush */
	/*
	 * FLUSHED held back until the crashed engine's leave is in our view (it
	 * would cross it otherwise and be sent twice), at most FLUSHED_HOLD_MS.
	 */
	bool flushed_held;
	bool engine_in_view;   /* the last view lists the last engine (last_pid) on our node */
	uint32_t reconnect_ms; /* next reconnect delay */
	/* Authentication (docs/protocol.md): the key, this member, the view it is in, the last sequence. */
	struct vip_cl_key *key; /* NULL: unauthenticated */
	struct vip_cl_member self;
	uint64_t view;
	bool in_view;
	uint64_t seq;
	struct loop_timer *t_reconnect, *t_send;
};

struct vipd_monitor {
	struct vipd_monitor_opts opts;
	struct loop *loop;
	const struct vip_port_ops *port_ops;
	struct vip_port *port;

	/* The engine now running (pid 0: none). */
	pid_t pid;
	pid_t last_pid; /* the last engine started, kept after it ended (monitor-cluster.c) */
	int fd;         /* our end of the socketpair, -1 when closed */
	uint64_t started_ms;
	bool ready, released_ok, release_failed;
	bool flushed; /* its addresses were removed already (it was exiting) */

	bool stopping;
	bool flush_ok;       /* no address left behind by the last engine */
	uint32_t backoff_ms; /* delay of the next restart */
	struct loop_timer *t_restart, *t_kill;

	struct monitor_cluster cl;
	struct vipd_monitor_stats st;
};

/* monitor-cluster.c */
/* Connect and join (as root); a failure is logged and retried with back-off. 0 or -errno (timers). */
int monitor_cluster_start(struct vipd_monitor *m);
/* Multicast FLUSHED{node} now or as soon as the group can take it. */
void monitor_cluster_flushed(struct vipd_monitor *m);
/*
 * True while the group has not taken this node's last FLUSHED and less than
 * max_wait_ms passed since the flush: the next engine waits, so that the
 * survivors take a crashed engine's addresses before it speaks again.
 */
bool monitor_cluster_flush_unconfirmed(const struct vipd_monitor *m, uint32_t max_wait_ms);
/* Leave the group (best effort, FLUSHED still pending is sent first) and disconnect. */
void monitor_cluster_stop(struct vipd_monitor *m);

#endif

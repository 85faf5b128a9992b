/* SPDX-License-Identifier: MIT */
/*
 * vipd/daemon: the node daemon's context and its start-up, run and stop.
 *
 * This is the ENGINE: the process vipd/monitor.h forks and restarts; it runs
 * everything but the crash clean-up, which is the monitor's.
 *
 * Start-up (vipd_daemon_setup), in Momentum's order:
 *   1. load and validate the configuration (errors: the messages, then -EINVAL);
 *   2. as root: open the port, the control socket and the cluster connection;
 *   3. clean slate: unplumb every configured DuraVIP and every vipd-tagged address;
 *   4. drop privileges; 5. join the group.
 * Then (vipd_daemon_run) the loop: what this node owns is plumbed and announced
 * once the protocol says so (solo: at once). SIGTERM/SIGINT release every
 * address, multicast that, leave the group and return 0 (1 when a release
 * failed); SIGHUP reloads the configuration.
 *
 * Under a monitor (opts.monitored) the engine tells it READY when the loop
 * starts, RELEASED-OK or RELEASE-FAILED at the planned stop, and watches its
 * end of the socketpair: end of file means the monitor died, and nothing could
 * clean up after a crash any more, so the engine makes the planned stop.
 *
 * Every piece hangs off struct vipd_daemon (no globals; opaque here, defined
 * in daemon-internal.h); tests build one with injected ports and backends and
 * drive it through the same functions.
 *
 * The files, by responsibility, each calling only the ones listed after it
 * (tools/check-cycles checks that no two files call each other):
 *   daemon.c          start-up, the loop's inputs, the planned stop
 *   daemon-query.c    what the console asks and requests (below)
 *   daemon-reload.c   `config reload` and SIGHUP
 *   daemon-node.c     this node's candidacy: standby and health
 *   daemon-cluster.c  the membership backend: callbacks, connect, reconnect
 *   daemon-pump.c     the protocol's actions to backend and engine; timers; STATUS
 *   daemon-owners.c   owner and state changes, logged and pushed as events
 *   daemon-events.c   events to `events` subscribers
 *   daemon-config.c   loading the configuration
 * The console's commands (commands*.c) use only this header; main.c hands
 * their table to the daemon (opts.console).
 */
#ifndef VIPD_DAEMON_H
#define VIPD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "announce.h"
#include "cluster.h"
#include "conf.h"
#include "neigh.h"
#include "control.h"
#include "engine.h"
#include "loop.h"
#include "port.h"

struct vipd_daemon_opts {
	const char *config_path;
	const char *nodename;     /* --nodename, or NULL */
	const char *control_path; /* --control, or NULL: the default */
	/* Injection points (tests); NULL: the native port / the backend the config asks for. */
	const struct vip_port_ops *port_ops;
	const struct vip_cl_backend_ops *backend_ops;
	bool no_drop;       /* skip the privilege drop (tests, not root) */
	bool no_control;    /* no control socket (tests adopt connections themselves) */
	bool chown_control; /* chown the socket root:group (the daemon: true) */
	bool monitored;     /* run under vipd/monitor.h, through monitor_fd */
	int monitor_fd;     /* the engine's end of the socketpair (not closed here) */
	/* The console: a handler per command id (vipd/commands.h), called with
	 * the daemon as userdata. NULL: every command but help is refused. */
	const vipd_control_fn *console;
};

/* Counters that are the daemon's own (the engine, announce and proto keep theirs). */
struct vipd_daemon_stats {
	uint64_t view_changes;
	uint64_t reloads, reload_failures;
	uint64_t backend_reconnects;
	uint64_t messages_bad;
	uint64_t corosync_stalls;     /* the backend said corosync stopped answering (liveness) */
	uint64_t corosync_recoveries; /* ... and that it answers again */
};

struct vipd_daemon;

/*
 * Load the configuration for opts; errors, and warnings when warnings is set,
 * are logged. 0, or -EINVAL (the messages were logged) / -errno. *ret owns
 * the config.
 */
int vipd_daemon_load_config(const struct vipd_daemon_opts *opts, bool warnings, struct vipd_config **ret);

/*
 * Allocate a daemon and run steps 1-5 above. 0 and *ret, or -errno (logged;
 * nothing is left behind and *ret is untouched).
 */
int vipd_daemon_new(const struct vipd_daemon_opts *opts, struct vipd_daemon **ret);
/*
 * Run the loop until a stop signal (or the monitor's death). Returns the exit
 * code: 0 for a clean stop, 1 when a release failed or the loop broke.
 */
int vipd_daemon_run(struct vipd_daemon *d);
/* Free what vipd_daemon_new made. Accepts NULL. */
void vipd_daemon_destroy(struct vipd_daemon *d);

/*
 * The planned stop: release, multicast, leave, tell the monitor (RELEASED-OK,
 * or RELEASE-FAILED), make run return 0 (1 after a failed release).
 */
void vipd_daemon_stop(struct vipd_daemon *d);

/* ---------------------------------------------------------------- reload */

enum vipd_reload_outcome {
	VIPD_RELOAD_APPLIED, /* applied (restart-needed parts left out and listed) */
	VIPD_RELOAD_REFUSED, /* valid, but nothing could be applied live (cluster scope changed) */
	VIPD_RELOAD_FAILED,  /* the new configuration has errors: the old one stays */
	_VIPD_RELOAD_OUTCOME_MAX,
};
/* "applied", "refused", "failed". */
const char *vipd_reload_outcome_to_string(enum vipd_reload_outcome o);

/* What a reload did; filled by vipd_daemon_reload, freed with vipd_reload_result_clear. */
struct vipd_reload_result {
	enum vipd_reload_outcome outcome;
	struct vip_conf_diag diag; /* the errors (failed) or the warnings */
	int load_error;            /* failed with no diagnostic (e.g. -ENOENT): -errno, else 0 */
	const char *config_path;   /* the daemon's, for load_error */
	struct vip_addr *added, *removed, *changed;
	size_t n_added, n_removed, n_changed;
	unsigned needs_restart;   /* VIP_CHANGE_* bits of VIP_CHANGE_NEEDS_RESTART */
	bool admin_group_changed; /* Control { admin_group } changed: applied live */
	const char *admin_group;  /* the one now in force (NULL: none, root alone); the daemon's */
};
void vipd_reload_result_clear(struct vipd_reload_result *r);

/*
 * Reload the configuration. ret (may be NULL) receives what happened. 0 when
 * applied (restart-needed changes are reported and left out) or refused,
 * -EINVAL when the new configuration has errors (the old one stays),
 * -errno otherwise.
 */
int vipd_daemon_reload(struct vipd_daemon *d, struct vipd_reload_result *ret);

/* ---------------------------------------------------------------- console queries */

/* The daemon's own facts (its parts answer through their own headers). */
struct vipd_daemon_info {
	const char *backend; /* the membership backend's name, "none" before one is chosen */
	bool connected;      /* to the membership engine */
	const char *nodename;
	const char *group;        /* cluster_group */
	uint64_t started_ms;      /* loop clock */
	uint64_t config_since_ms; /* configuration loaded or last changed */
	unsigned restart_needed;  /* VIP_CHANGE_* bits a reload could not apply */
	struct vipd_daemon_stats stats;
	size_t owner_watch_bytes; /* what the owner and state watch holds (the metrics) */
};
void vipd_daemon_get_info(const struct vipd_daemon *d, struct vipd_daemon_info *ret);
/* The running configuration, the ownership protocol, the engine, the
 * announcement schedule: read through their own query functions. Valid
 * until the daemon next runs its loop (a reload replaces the configuration). */
const struct vipd_config *vipd_daemon_config(const struct vipd_daemon *d);
const struct vip_cl_proto *vipd_daemon_proto(const struct vipd_daemon *d);
const struct vipd_engine *vipd_daemon_engine(const struct vipd_daemon *d);
const struct vipd_announce *vipd_daemon_announce(const struct vipd_daemon *d);
/* The shared neighbour cache (vipd/neigh.h: `cluster arp show`, metrics). */
const struct vipd_neigh *vipd_daemon_neigh(const struct vipd_daemon *d);
/* The control server (for subscriptions), NULL without one. */
struct vipd_control *vipd_daemon_control(const struct vipd_daemon *d);

/* ---------------------------------------------------------------- console requests */

/* Ask the group to move a DuraVIP to node (vip_cl_proto_request_move's errors). */
int vipd_daemon_request_move(struct vipd_daemon *d, const struct vip_addr *a, const char *node);
/* Ask the group for a balancing round. 0 or -errno. */
int vipd_daemon_request_balance(struct vipd_daemon *d);
/* Announce every DuraVIP held here again; returns how many. */
size_t vipd_daemon_announce_again(struct vipd_daemon *d);

/* ---------------------------------------------------------------- this node's candidacy */

/*
 * Whether this node takes DuraVIPs (docs/protocol.md, "Candidacy"): not
 * while in standby or unhealthy.
 */
struct vipd_node_state {
	bool standby;
	bool healthy;
	uint32_t out;     /* VIP_CL_OUT_* as the protocol has it (0: a candidate) */
	char reason[256]; /* unhealthy: "mta (connect 127.0.0.1:25: Connection refused, 3 of 3)", else "" */
	size_t n_checks, n_failing;          /* health checks configured, unhealthy now */
	uint64_t check_runs, check_failures; /* over every check since start (a removed one's are gone) */
	uint64_t hook_runs, hook_failures, hook_dropped; /* the notify hook (vipd/hooks.h) */
};
void vipd_daemon_get_node(const struct vipd_daemon *d, struct vipd_node_state *ret);
/*
 * Standby (on) or active: the node's DuraVIPs go to the others by the
 * normal hand-off (alone: unplumbed), or it takes part again. who names
 * the origin for the log ("Console", "Reconfigure"). 1 changed, 0 it was
 * so already.
 */
int vipd_daemon_set_standby(struct vipd_daemon *d, bool on, const char *who);

#endif

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
 * Every piece hangs off struct vipd_daemon (no globals); tests build one with
 * injected ports and backends and drive it through the same functions.
 */
#ifndef VIPD_DAEMON_H
#define VIPD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "announce.h"
#include "cluster.h"
#include "conf.h"
#include "control.h"
#include "engine.h"
#include "loop.h"
#include "port.h"

struct vipd_daemon_opts {
	const char *config_path;
	const char *nodename;           /* --nodename, or NULL */
	const char *control_path;       /* --control, or NULL: the default */
	/* Injection points (tests); NULL: the native port / the backend the config asks for. */
	const struct vip_port_ops *port_ops;
	const struct vip_cl_backend_ops *backend_ops;
	bool no_drop;                   /* skip the privilege drop (tests, not root) */
	bool no_control;                /* no control socket (tests use vipd_daemon_commands) */
	bool chown_control;             /* chown the socket root:group (the daemon: true) */
	bool monitored;                 /* run under vipd/monitor.h, through monitor_fd */
	int monitor_fd;                 /* the engine's end of the socketpair (not closed here) */
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

struct daemon_owner;

struct vipd_daemon {
	struct vipd_daemon_opts opts;
	struct vipd_config *cfg;
	struct loop *loop;

	const struct vip_port_ops *port_ops;
	struct vip_port *port;

	const struct vip_cl_backend_ops *be_ops;
	struct vip_cl_backend *be;       /* NULL while disconnected */
	bool be_lost;                    /* lost during dispatch: free after it */
	int quorate_seen;                /* last quorum value logged: -1 none, 0, 1 */
	struct vip_cl_proto *proto;

	struct vipd_engine *engine;
	struct vipd_announce *announce;
	struct vipd_control *control;

	struct loop_timer *t_proto, *t_announce, *t_check, *t_retry, *t_reconnect;
	uint32_t reconnect_delay_ms;

	uint64_t started_ms;             /* loop clock */
	uint64_t config_since_ms;        /* configuration loaded or last changed */
	unsigned restart_needed;         /* VIP_CHANGE_* bits refused by a reload */
	bool stopping;
	bool release_failed;             /* the planned stop could not release everything */
	bool monitor_watched;            /* opts.monitor_fd is in the loop */
	size_t last_owned;               /* for STATUS updates */
	struct daemon_owner *owners;     /* last owner and flags per DuraVIP (daemon-cluster.c) */
	size_t n_owners;
	struct vipd_daemon_stats stats;
};

/*
 * Load the configuration for opts; errors, and warnings when warnings is set,
 * are logged. 0, or -EINVAL (the messages were logged) / -errno. *ret owns
 * the config.
 */
int vipd_daemon_load_config(const struct vipd_daemon_opts *opts, bool warnings, struct vipd_config **ret);

/* Steps 1-5 above. On failure the error was logged; free the daemon. */
int vipd_daemon_setup(struct vipd_daemon *d, const struct vipd_daemon_opts *opts);
/*
 * Run the loop until a stop signal (or the monitor's death). Returns the exit
 * code: 0 for a clean stop, 1 when a release failed or the loop broke.
 */
int vipd_daemon_run(struct vipd_daemon *d);
/* Free everything set up (after run, or after a failed setup). Accepts a zeroed daemon. */
void vipd_daemon_free(struct vipd_daemon *d);

/*
 * The planned stop: release, multicast, leave, tell the monitor (RELEASED-OK,
 * or RELEASE-FAILED), make run return 0 (1 after a failed release).
 */
void vipd_daemon_stop(struct vipd_daemon *d);

/*
 * Reload the configuration. out (may be NULL) receives what a person reads,
 * or one JSON object when json. 0 when applied (restart-needed changes are
 * reported and left out), -EINVAL when the new configuration has errors (the
 * old one stays), -errno otherwise.
 */
int vipd_daemon_reload(struct vipd_daemon *d, struct vip_ctl_buf *out, bool json);

/*
 * Feed the protocol's queued actions to the backend and the engine, and
 * reconcile until nothing changes (bounded). Call after every input.
 */
void vipd_daemon_pump(struct vipd_daemon *d);

/* The console's command table (commands.c). */
const struct vipd_control_command *vipd_daemon_commands(size_t *ret_n);

/* Push one change to `events` subscribers (text line and JSON object). */
void vipd_daemon_event(struct vipd_daemon *d, const char *kind, const struct vip_addr *addr,
		       const char *detail);

/* sd_notify STATUS= line from the current state. */
void vipd_daemon_notify_status(struct vipd_daemon *d);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * vipd/monitor: the privileged parent, in the shape of OpenBSD's
 * privilege-separated daemons (docs/privileges.md).
 *
 * The vipd process the operator started becomes the monitor. It stays root
 * (uid 0: the Security user's signals cannot reach it) and forks the ENGINE,
 * which does everything else (vipd/daemon.h: set-up as root, privilege drop,
 * the loop). A socketpair links them; the engine writes small notes on it:
 *
 *   READY          set-up succeeded (the first one: sd_notify READY=1 and the
 *                  opts.ready callback)
 *   RELEASED-OK    just before a clean exit: every DuraVIP was released
 *   RELEASE-FAILED a release failed (the engine then exits non-zero)
 *
 * An engine that exits without RELEASED-OK (a crash, kill -9, an exit after
 * RELEASE-FAILED, a start-up failure after it had been ready once): the
 * monitor at once removes every vipd-tagged address (port flush_tagged on its
 * own rtnetlink socket), multicasts FLUSHED{node} in a cluster, then restarts
 * the engine after a back-off (first_ms doubling to max_ms, reset once an
 * engine stayed up stable_ms). An engine that exits cleanly without being
 * asked is restarted too (its addresses were handed off). A failure of the
 * very first start before READY ends the monitor with that status.
 *
 * In a cluster the monitor is a member of the group itself: on every view
 * that holds it, it multicasts MONITOR{node} so the others know it is a
 * monitor and no candidate; other messages are ignored; a lost corosync is
 * reconnected with back-off.
 *
 * Signals (through the loop): SIGTERM/SIGINT forward SIGTERM to the engine and
 * wait at most stop_timeout_ms (then SIGKILL); exit 0 after RELEASED-OK,
 * otherwise flush, FLUSHED and exit 1. SIGHUP is forwarded. SIGCHLD reaps.
 *
 * The engine sees the monitor's death as end of file on its end of the
 * socketpair (vipd/daemon.c): it then releases everything and exits.
 */
#ifndef VIPD_MONITOR_H
#define VIPD_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cluster.h"
#include "loop.h"
#include "port.h"

/* ------------------------------------------------------------------ */
/* Notes: engine -> monitor, one SOCK_SEQPACKET datagram each         */
/* ------------------------------------------------------------------ */

/*
 * Wire format, 4 bytes, checked exactly: version (1), type, length (u16
 * big-endian, always 4). Anything else is fatal for the engine that sent it.
 */
#define VIPD_NOTE_VERSION 1
#define VIPD_NOTE_LEN 4

enum vipd_note {
	VIPD_NOTE_READY = 1,
	VIPD_NOTE_RELEASED_OK = 2,
	VIPD_NOTE_RELEASE_FAILED = 3,
	_VIPD_NOTE_MAX,
};

/* "READY", "RELEASED-OK", "RELEASE-FAILED", or NULL. */
const char *vipd_note_to_string(enum vipd_note n);
/* Encode into buf. 0, or -EINVAL for an unknown note. */
int vipd_note_encode(enum vipd_note n, uint8_t buf[VIPD_NOTE_LEN]);
/* Decode one datagram. 0 and *ret, or -EBADMSG (any byte that does not check). */
int vipd_note_decode(const void *data, size_t len, enum vipd_note *ret);
/* Send one note on fd (never blocks, never raises SIGPIPE). 0 or -errno. */
int vipd_note_send(int fd, enum vipd_note n);

/* The engine's end of the socketpair in the exec'ed engine (see vipd_monitor_spawn_exec). */
#define VIPD_ENGINE_FD 3

/* ------------------------------------------------------------------ */
/* The monitor                                                        */
/* ------------------------------------------------------------------ */

struct vipd_monitor;

/* Times in milliseconds; 0 takes the default named in the comment. */
struct vipd_monitor_timing {
	uint32_t backoff_first_ms;   /* first restart delay (100) */
	uint32_t backoff_max_ms;     /* the delay doubles up to this (30000) */
	uint32_t stable_ms;          /* an engine up this long resets the delay (60000) */
	uint32_t stop_timeout_ms;    /* SIGTERM -> SIGKILL of the engine (10000) */
	uint32_t reconnect_first_ms; /* corosync reconnect back-off (200 doubling) */
	uint32_t reconnect_max_ms;   /* ... up to this (10000) */
};

struct vipd_monitor_opts {
	/*
	 * Start one engine on fd (the engine's end of the socketpair; the caller
	 * closes its copy after the call): fork, and in the child run the engine
	 * with fd as its monitor socket, closing every other descriptor.
	 * 0 and *ret_pid, or -errno. NULL: vipd_monitor_spawn_exec with exec_argv.
	 */
	int (*spawn)(void *data, int fd, pid_t *ret_pid);
	void *spawn_data;
	char *const *exec_argv; /* for the default spawn: vipd's own argv */
	/* Called once, when the first engine says READY (may be NULL). */
	void (*ready)(void *data);
	void *ready_data;

	const char *nodename; /* node name for MONITOR and FLUSHED */
	const char *group;    /* the cluster group, or NULL: solo (no corosync) */
	/* The configuration, for cluster { authkey } (the monitor reads the key itself); may be NULL. */
	const struct vipd_config *config;
	const struct vip_port_ops *port_ops;     /* NULL: the native port */
	const struct vip_cl_backend_ops *cl_ops; /* NULL: "cpg" (only with a group) */
	struct vipd_monitor_timing timing;
};

/* What tests and the log look at. */
struct vipd_monitor_stats {
	unsigned starts;        /* engines started */
	unsigned restarts;      /* restarts scheduled */
	unsigned flushes;       /* flush_tagged calls */
	int last_flush;         /* the last flush's count or -errno */
	uint32_t last_delay_ms; /* delay of the last restart scheduled */
	uint32_t next_delay_ms; /* delay the next restart would get */
	unsigned monitor_sent;  /* MONITOR messages multicast */
	unsigned flushed_sent;  /* FLUSHED messages multicast */
	unsigned cl_connects;   /* successful corosync connections */
	bool ever_ready;
	pid_t engine_pid; /* running engine or 0 */
};

/*
 * Set up as root: the loop and its signals, the port (no packet socket, no
 * events), the cluster connection (a failure is retried later), then start the
 * first engine. 0 and *ret, or -errno (logged). The caller has closed every
 * descriptor it does not need: the engine inherits none of them anyway.
 */
int vipd_monitor_new(const struct vipd_monitor_opts *opts, struct vipd_monitor **ret);
/* Run until the monitor is done. Returns the exit code (see the header comment). */
int vipd_monitor_run(struct vipd_monitor *m);
/* Free; accepts NULL. An engine still running is killed (SIGKILL) and reaped. */
void vipd_monitor_free(struct vipd_monitor *m);

/* What SIGTERM/SIGINT and SIGHUP do (also callable directly, for tests). */
void vipd_monitor_stop(struct vipd_monitor *m);
void vipd_monitor_hup(struct vipd_monitor *m);

void vipd_monitor_get_stats(const struct vipd_monitor *m, struct vipd_monitor_stats *ret);
/* The monitor's loop (tests drive it with loop_iterate). */
struct loop *vipd_monitor_loop(struct vipd_monitor *m);

/*
 * The default spawn: fork; the child moves fd to VIPD_ENGINE_FD, closes every
 * other descriptor above 2 and execs /proc/self/exe with argv (data) plus
 * "--engine-fd 3", so the engine is a fresh image holding nothing of the
 * monitor's memory (not even its corosync connection's shared memory).
 */
int vipd_monitor_spawn_exec(void *data, int fd, pid_t *ret_pid);

#endif

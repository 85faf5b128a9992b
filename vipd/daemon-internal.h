/* SPDX-License-Identifier: MIT */
/*
 * vipd/daemon internals: the daemon's context and the functions the
 * daemon*.c files share (see daemon.h for which file calls which). Not a
 * public header: the console's commands never include it; tests do, to
 * build a daemon in place and look inside.
 */
#ifndef VIPD_DAEMON_INTERNAL_H
#define VIPD_DAEMON_INTERNAL_H

#include "daemon.h"
#include "health.h"
#include "hooks.h"
#include "runner.h"

struct daemon_owner;

/*
 * A pump that plumbed or removed this many addresses gives the heap's free
 * pages back: the plans, dumps and messages of 10,000 DuraVIPs leave some
 * 250 kB of free heap behind (vipd/main.c tune_malloc, docs/port.md); so
 * does the announcement schedule when it falls idle after this many.
 */
#define TRIM_AFTER_CHANGES 1024u

struct vipd_daemon {
	struct vipd_daemon_opts opts;
	struct vipd_config *cfg;
	struct loop *loop;

	const struct vip_port_ops *port_ops;
	struct vip_port *port;

	const struct vip_cl_backend_ops *be_ops;
	struct vip_cl_backend *be; /* NULL while disconnected */
	bool be_lost;              /* lost during dispatch: free after it */
	int quorate_seen;          /* last quorum value logged: -1 none, 0, 1 */
	struct vip_cl_proto *proto;
	struct vip_cl_key *cl_key; /* cluster { authkey }, read as root; NULL: none */

	struct vipd_engine *engine;
	struct vipd_announce *announce;
	size_t announce_peak; /* most addresses scheduled since the schedule was last idle */
	struct vipd_announce_port announce_port; /* the announcements' port and arp_mode */
	struct daemon_hosts_memo *hosts_memo;    /* arp_all_hosts = false (daemon-announce.c) */
	struct vipd_neigh *neigh; /* the shared neighbour cache (daemon-neigh.c); the engine feeds it */
	struct loop_timer *t_neigh;
	uint64_t neigh_dump_ms; /* last dump of the kernel's table; UINT64_MAX: the port has none */
	uint64_t neigh_sent_ms; /* last NEIGH batches handed to the protocol */
	struct vipd_control *control;

	struct loop_timer *t_proto, *t_announce, *t_check, *t_retry, *t_reconnect, *t_probe;
	int probe_fds[VIP_PORT_PROBE_FDS]; /* the port's answer fds watched (docs/port.md §8) */
	int n_probe_fds;
	uint32_t reconnect_delay_ms;
	unsigned reconnect_failures; /* failed reconnects since the connection was lost */
	int reconnect_last_error;    /* the last one's -errno */

	uint64_t started_ms;      /* loop clock */
	uint64_t config_since_ms; /* configuration loaded or last changed */
	unsigned restart_needed;  /* VIP_CHANGE_* bits refused by a reload */
	bool stopping;
	bool release_failed;         /* the planned stop could not release everything */
	bool monitor_watched;        /* opts.monitor_fd is in the loop */
	bool chrooted;               /* the drop went into Security { chroot } */
	uint32_t corosync_token_ms;  /* corosync.conf's token at start-up, 0: unread */
	size_t last_owned;           /* for STATUS updates */
	struct daemon_owner *owners; /* last owner and flags per DuraVIP (daemon-owners.c) */
	size_t n_owners;
	uint8_t *owner_addrs; /* their addresses: owners_n4 of 4 bytes, then the others of 16 */
	size_t owners_n4;
	char **owner_names; /* the owners' names, each once: daemon_owner.owner - 1 indexes it */
	size_t n_owner_names;
	struct vipd_daemon_stats stats;
	/* candidacy (daemon-node.c) */
	struct vipd_runner *runner; /* check commands and hooks */
	struct vipd_health *health;
	struct vipd_hooks *hooks;   /* Notify { command } */
	bool standby;               /* cluster { Standby } at start, then the console's word */
	bool unhealthy;             /* a health check fails (or has not passed rise times yet) */
	char unhealthy_reason[256]; /* "mta (connect 127.0.0.1:25: Connection refused, 3 of 3)" */
};

/* daemon.c: steps 1-5 of daemon.h on caller memory, and its undoing
 * (accepts a zeroed daemon). Tests use these on a daemon in a fixture. */
int vipd_daemon_setup(struct vipd_daemon *d, const struct vipd_daemon_opts *opts);
void vipd_daemon_free(struct vipd_daemon *d);

/* daemon-announce.c: arp_all_hosts = false (vipd_announce_set_hosts with d as data) */
/* The hosts nc knows on the segment of DuraVIP v (as the engine placed it), at most max. */
size_t daemon_segment_hosts(const struct vipd_neigh *nc, const struct vipd_engine_vip *v,
			    struct vipd_announce_host *out, size_t max);
size_t daemon_announce_hosts(void *data, const struct vip_addr *addr, int ifindex,
			     struct vipd_announce_host *out, size_t max);
int daemon_announce_send_to(void *data, int ifindex, const struct vipd_announce_dst *dsts, size_t n);
void daemon_announce_free(struct vipd_daemon *d);

/* daemon-config.c */
/* What a reload knows that start-up does not. */
struct daemon_reload_ctx {
	const struct vipd_config *running; /* its resolved names keep their ids */
	const char *root;                  /* the chroot the engine is in, or NULL */
	uint32_t corosync_token_ms;        /* corosync.conf's token as read at start-up (0: none) */
};
/*
 * Load the configuration (rctx NULL at start-up); diagnostics are logged
 * and, when ret_diag is set, moved there. At start-up *ret_token (may be
 * NULL) gets the token read from corosync.conf.
 */
int daemon_load(const struct vipd_daemon_opts *opts, const struct daemon_reload_ctx *rctx,
		struct vipd_config **ret, struct vip_conf_diag *ret_diag, uint32_t *ret_token);

/* daemon-events.c */
/* Push one change to `events` subscribers (a text line and a JSON object). */
void daemon_event(struct vipd_daemon *d, const char *kind, const struct vip_addr *addr, const char *detail);

/* daemon-owners.c */
/* Log and push owner and state changes of the DuraVIPs since the last call. */
void daemon_watch_owners(struct vipd_daemon *d);
void daemon_owners_free(struct vipd_daemon *d);
/* Bytes the owner watch holds. */
size_t daemon_owners_bytes(const struct vipd_daemon *d);

/* daemon-neigh.c: the shared neighbour cache (vipd/neigh.h) */
/* Make the cache (before the engine, which feeds it port events). 0 or -errno (logged). */
int daemon_neigh_new(struct vipd_daemon *d);
/* After the engine started: the first dump and the once-a-second tick. 0 or -errno (logged). */
int daemon_neigh_start(struct vipd_daemon *d);
/* Links, age-out, a dump when due, NEIGH messages of what this node learnt. */
void daemon_neigh_tick(struct vipd_daemon *d, uint64_t now);
/* After port events: what this node learnt goes out now if the last batch went a second ago. */
void daemon_neigh_poke(struct vipd_daemon *d, uint64_t now);
void daemon_neigh_reconfigure(struct vipd_daemon *d, const struct vipd_config *next);
void daemon_neigh_free(struct vipd_daemon *d);

/* daemon-pump.c */
/*
 * Feed the protocol's queued actions to the backend and the engine, and
 * reconcile until nothing changes (bounded). Call after every input.
 */
void vipd_daemon_pump(struct vipd_daemon *d);
/* Hand the protocol's queue out once; *blocked: corosync's flow control said no. True when something was done. */
bool daemon_drain(struct vipd_daemon *d, bool *blocked);
void daemon_arm_timers(struct vipd_daemon *d);
int daemon_arm_check_timer(struct vipd_daemon *d);
/* sd_notify STATUS= line from the current state. */
void vipd_daemon_notify_status(struct vipd_daemon *d);

/* daemon-node.c */
/*
 * After the drop, before the join: the runner and the health checks, and
 * the candidacy the first view starts with (cluster { Standby }; unhealthy
 * until the checks pass rise times, unless initial = healthy). 0 or -errno (logged).
 */
int daemon_node_setup(struct vipd_daemon *d);
void daemon_node_free(struct vipd_daemon *d);
/* A reload changed the Health_Check scopes or Notify (diff: VIP_CHANGE_* bits). */
void daemon_node_reconfigure(struct vipd_daemon *d, const struct vipd_config *next, unsigned diff);
/* The engine plumbed (acquire) or unplumbed a DuraVIP: the notify hook, after the fact. */
void daemon_node_plumbed(struct vipd_daemon *d, bool acquire, const struct vip_addr *a, const char *ifname);
/*
 * Give the protocol this node's candidacy from standby and health, if it
 * changed: log, push a `node` event (detail, else what), pump.
 */
void daemon_node_apply(struct vipd_daemon *d, const char *what, const char *detail);

/* daemon-cluster.c */
/* Connect the backend (at start-up: as root; a cpg failure is retried later, not fatal). */
int daemon_cluster_connect(struct vipd_daemon *d, bool startup);
/* Join the group and watch the backend's fd. 0 or -errno (logged). */
int daemon_cluster_join(struct vipd_daemon *d);
/* Stop watching and free the backend. */
void daemon_cluster_disconnect(struct vipd_daemon *d);
void daemon_on_reconnect_timer(struct loop *l, struct loop_timer *t, void *data);
/*
 * The backend's liveness changed (cbs.liveness, after it was logged, pushed
 * and counted): not alive applies the quorum policy as a lost backend
 * would, while the backend is kept (it may come back).
 */
void daemon_on_liveness(struct vipd_daemon *d, bool alive);
/* Hand the backend the configured duravip_liveness_timeout (when it has a watchdog). */
void daemon_cluster_set_liveness(struct vipd_daemon *d);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * vipd/daemon internals shared by daemon.c, daemon-cluster.c,
 * daemon-reload.c and commands.c. Not a public header.
 */
#ifndef VIPD_DAEMON_INTERNAL_H
#define VIPD_DAEMON_INTERNAL_H

#include "daemon.h"

/* daemon.c */
/* Load the configuration; diagnostics are logged and, when out is set, appended to it. */
int daemon_load(const struct vipd_daemon_opts *opts, struct vipd_config **ret, struct vip_ctl_buf *out);
void daemon_log_diag(const struct vip_conf_diag *diag, struct vip_ctl_buf *out);
int daemon_arm_check_timer(struct vipd_daemon *d);

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
/* Log and push owner and state changes of the DuraVIPs since the last call. */
void daemon_watch_owners(struct vipd_daemon *d);
void daemon_owners_free(struct vipd_daemon *d);

#endif

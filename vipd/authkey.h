/* SPDX-License-Identifier: MIT */
/*
 * vipd/authkey: the cluster key (cluster { authkey }, docs/protocol.md
 * "Authentication") as the daemon's modes use it: --genkey writes one,
 * --check checks the file, and the monitor and the engine read it as root
 * before anything drops. The key itself: cluster/cluster.h (vip_cl_key_*).
 */
#ifndef VIPD_AUTHKEY_H
#define VIPD_AUTHKEY_H

#include <stdbool.h>

#include "cluster.h"
#include "conf.h"

/* What running without a key means, for the start-up log, --check and `cluster info`. */
#define VIPD_AUTHKEY_NONE_TEXT                                                                   \
	"cluster messages are not authenticated (no cluster { authkey }): any process corosync " \
	"lets into the group (the Security user's, for one) can take every DuraVIP"

/* vipd --genkey PATH: write a new key file (never over an existing one). Exit status; prints. */
int vipd_authkey_generate(const char *path);
/*
 * vipd --check: what can be said of the key file, into diag. With a cluster
 * and no authkey: a warning. As root: the file is read as at start-up and
 * any problem is an error. Not root: the key cannot be read; a warning
 * says it was not checked. 0, -EINVAL (an error was added) or -ENOMEM.
 */
int vipd_authkey_check(const struct vipd_config *cfg, struct vip_conf_diag *diag);
/*
 * Start-up, as root before the privilege drop: read cfg's authkey (owned
 * by the user vipd runs as, root, with no group or other bits). 0 and *ret
 * (NULL: no cluster, or no authkey, then warned when warn_none), or -errno
 * (logged, prefixed by who). *ret is wiped and freed by vip_cl_key_free.
 */
int vipd_authkey_load(const struct vipd_config *cfg, const char *who, bool warn_none,
		      struct vip_cl_key **ret);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * vipd/sdnotify: the systemd readiness protocol without libsystemd. One
 * datagram on the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or an
 * abstract name written with a leading '@'), holding newline-separated
 * assignments: "READY=1", "STOPPING=1", "RELOADING=1", "STATUS=text".
 */
#ifndef VIPD_SDNOTIFY_H
#define VIPD_SDNOTIFY_H

#include "util.h"

/*
 * Send state to $NOTIFY_SOCKET. Returns 1 when sent, 0 when NOTIFY_SOCKET is
 * unset or empty (not started by systemd: nothing to do), or -errno
 * (-EINVAL for a malformed socket name, -ENAMETOOLONG, send errors).
 */
int vipd_sd_notify(const char *state);
/* printf-style variant: vipd_sd_notifyf("STATUS=%zu DuraVIPs owned", n). */
int vipd_sd_notifyf(const char *fmt, ...) _printf_(1, 2);
/* Same as vipd_sd_notify with an explicit socket name (NULL or "": returns 0). */
int vipd_sd_notify_to(const char *socket_name, const char *state);

#endif

/* SPDX-License-Identifier: MIT */
/* vipd/control: helpers shared by control.c, control-dispatch.c and control-socket.c. */
#ifndef VIPD_CONTROL_INTERNAL_H
#define VIPD_CONTROL_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>
#include <sys/un.h>

#include "control.h"

/* Fill ret from an absolute path. 0, -EINVAL or -ENAMETOOLONG. */
int control_sockaddr(const char *path, struct sockaddr_un *ret);

/*
 * Create the listening socket at path (see vipd_control_new for the rules).
 * Returns the fd (non-blocking, close-on-exec) and the socket file's identity,
 * or -errno.
 */
int control_listen(const char *path, bool do_chown, gid_t gid, unsigned backlog, dev_t *ret_dev,
		   ino_t *ret_ino);

/* Remove path if it is still the socket file we created. */
void control_unlink(const char *path, dev_t dev, ino_t ino);

/* root, the daemon's user, or a member of its group (primary or supplementary). */
bool control_peer_allowed(const struct vipd_control_config *cfg, const struct vipd_control_peer *p);

/* The server's effective configuration (defaults filled in). */
const struct vipd_control_config *control_get_config(const struct vipd_control *ctl);

/* Replace b's content with an error message, as text or as {"error": ...}. */
void control_body_error(struct vip_ctl_buf *b, bool json, const char *msg);
/* How many leading argv words match the space-separated words; 0 unless all do. */
size_t control_match_words(const char *words, const char *const *argv, size_t argc);
/* The command whose words match most of req's leading words, or NULL; *ret_n: how many. */
const struct vipd_control_command *control_find_command(const struct vipd_control_config *cfg,
							const struct vip_ctl_request *req, size_t *ret_n);
/* `help`, used when the table has none: lists the table. */
extern const struct vipd_control_command control_help_command;
/*
 * The reply status for a handler's result r (see vipd_control_fn), writing
 * an error body when r < 0 and the handler wrote none.
 */
unsigned control_call_status(struct vipd_control_call *call, const struct vipd_control_command *cmd,
			     int r);

#endif

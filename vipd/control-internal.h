/* SPDX-License-Identifier: MIT */
/* vipd/control: what control.c, control-events.c, control-dispatch.c and control-socket.c share. */
#ifndef VIPD_CONTROL_INTERNAL_H
#define VIPD_CONTROL_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>
#include <sys/un.h>

#include "control.h"
#include "loop.h"

/* One connection (control.c owns its life; control-events.c streams to it). */
struct vipd_control_conn {
	struct vipd_control *ctl;
	struct vipd_control_conn *prev, *next;
	int fd;
	struct vip_ctl_buf in, out;
	struct loop_timer *idle;
	uint32_t events; /* current epoll mask */
	bool subscribed;
	bool json;    /* of the subscription */
	bool closing; /* close once out is flushed */
	bool in_call; /* a handler is running for it */
	struct vipd_control_peer peer;
};

/* The server. */
struct vipd_control {
	struct loop *loop;
	struct vipd_control_config cfg;
	char *path;
	char *group_name;
	char *admin_group;
	int fd;
	dev_t dev;
	ino_t ino;
	struct vipd_control_conn *conns;
	size_t n_conns, n_subscribers;
	struct vip_json jbody;    /* scratch for a handler's reply: JSON */
	struct vip_ctl_buf tbody; /* ... or text */
	struct loop_timer *accept_pause;
};

/* Close c and free it (unlinks it from its server). */
void control_conn_close(struct vipd_control_conn *c);
/* Send what is pending. Returns false when c was closed. */
bool control_conn_flush(struct vipd_control_conn *c);

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
/* May p run a command that changes state: uid 0, or a member of the admin group. */
bool control_peer_may_change(const struct vipd_control_config *cfg, const struct vipd_control_peer *p);

/* The server's effective configuration (defaults filled in). */
const struct vipd_control_config *control_get_config(const struct vipd_control *ctl);

/*
 * Run one decoded request: match it against the command table, check its
 * argument count, call the handler (or the built-in help). Returns the
 * status; the reply is in call->jw or call->text.
 */
unsigned control_run(const struct vipd_control_config *cfg, struct vipd_control_call *call,
		     const struct vip_ctl_request *req);
/*
 * The reply status for a handler's result r (see vipd_control_fn), writing
 * an error reply when r < 0 and the handler replied nothing.
 */
unsigned control_call_status(struct vipd_control_call *call, int r);
/*
 * Close the reply and check its sticky error: a reply cut short by the
 * bound becomes VIP_CTL_TOO_LARGE with an error body. Returns the final
 * status and the body to send (JSON when call->json).
 */
unsigned control_finish(struct vipd_control_call *call, unsigned status, bool stream, const void **ret_body,
			size_t *ret_len);

#endif

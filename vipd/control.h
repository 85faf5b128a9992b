/* SPDX-License-Identifier: MIT */
/*
 * vipd/control: the control socket's server side. A unix stream socket
 * (mode 0660, owner root, group = the Security group, born so in a checked
 * folder: vipd/rundir.h) on the daemon's loop; every connection's peer must
 * be root, the daemon's user, or a member of its group (primary or
 * supplementary), else it gets one VIP_CTL_DENIED reply and is closed.
 * Frames are vipd/ctlproto.h's. Connections, request size, output buffered
 * per connection and idle time are bounded, and all I/O is non-blocking, so
 * a slow or hostile client can never stall the loop: one whose pending
 * output passes max_output (an event subscriber: max_subscriber_output) is
 * dropped.
 *
 * Authority, enforced here in one place from the command table: a command
 * that changes state (VIP_CTL_AUTH_CHANGE) needs uid 0 or membership in the
 * admin group (Control { admin_group }; none: root alone), else it is
 * refused with VIP_CTL_DENIED and a message naming what is needed. Root
 * always gets in: the last root_reserved connection slots are root's, and
 * every other uid holds at most max_per_uid connections.
 *
 * Requests are matched against the one command table (ctlproto.h: words,
 * argument counts, authority, help) and dispatched to the handler the
 * daemon binds to the command's id; `help` is built in.
 *
 * Replies: a handler never writes text or JSON by hand. It collects what it
 * answers into a structure and hands it to vipd_control_reply with a view,
 * a pair of renderers of that same structure: one through the JSON writer
 * (conf.h), one as text. Errors go through vipd_control_fail, which
 * escapes whatever user text they carry. Both outputs carry a sticky error;
 * a reply cut short by the size bound (max_reply) is answered as
 * VIP_CTL_TOO_LARGE with an error body, never as a complete-looking reply.
 */
#ifndef VIPD_CONTROL_H
#define VIPD_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ctlproto.h"
#include "loop.h"

struct vipd_control;
struct vipd_control_conn;
struct vipd_control_peer;

/* What a handler gets for one request. */
struct vipd_control_call {
	const struct vip_ctl_command *cmd; /* the table entry matched */
	const char *const *args;           /* the arguments after the command words; args[n_args] == NULL */
	size_t n_args;
	bool json;      /* the client asked for JSON */
	void *userdata; /* vipd_control_config.userdata */
	struct vipd_control *control;
	struct vipd_control_conn *conn;       /* for vipd_control_subscribe() */
	const struct vipd_control_peer *peer; /* who asked (NULL: nobody checked, as in tests of dispatch) */
	/* The reply being built: use vipd_control_reply/_fail, not these. */
	struct vip_json *jw;      /* when json */
	struct vip_ctl_buf *text; /* when not */
};

/*
 * A command handler. Returns the reply status: 0 (VIP_CTL_OK), a positive
 * exit status < 256 (the reply says why), or -errno: then the status is
 * VIP_CTL_FAILED (VIP_CTL_USAGE for -EINVAL, VIP_CTL_TOO_LARGE for
 * -ENOBUFS) and, when the handler replied nothing, the server replies
 * "error: <strerror>" (the usage line for -EINVAL).
 */
typedef int (*vipd_control_fn)(struct vipd_control_call *call);

/* Two renderings of one reply structure (data): JSON, and what a person reads. */
struct vipd_control_view {
	void (*json)(struct vip_json *w, const void *data);
	void (*text)(struct vip_ctl_buf *out, const void *data);
};

/* Render data through the view the client asked for (replacing what was there). Returns 0. */
int vipd_control_reply(struct vipd_control_call *call, const struct vipd_control_view *view,
		       const void *data);

/*
 * Replace the reply with an error: {"error": MESSAGE, "status": STATUS} or
 * "error: MESSAGE\n" (the message printf-formatted, escaped for JSON).
 * Returns status, so a handler can `return vipd_control_fail(call, 1, ...)`.
 */
int vipd_control_fail(struct vipd_control_call *call, int status, const char *fmt, ...) _printf_(3, 4);

/* The identity of a peer, as the kernel reports it. */
#define VIPD_CONTROL_MAX_GROUPS 256
struct vipd_control_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	gid_t groups[VIPD_CONTROL_MAX_GROUPS]; /* supplementary groups */
	size_t n_groups;
};

/*
 * Read a peer's credentials from a connected socket: SO_PEERCRED, and the
 * supplementary groups from SO_PEERGROUPS or, where that is missing, the
 * Groups: line of /proc/<pid>/status. 0 or -errno.
 */
int vipd_control_peer_from_fd(int fd, struct vipd_control_peer *ret);

struct vipd_control_config {
	const char *path;             /* socket path; NULL: VIPD_DEFAULT_CONTROL */
	uid_t daemon_uid;             /* the user vipd runs as after the drop */
	gid_t gid;                    /* the Security group: socket group and allowed peers */
	const char *group_name;       /* for the denial text; NULL: the number */
	bool chown_socket;            /* socket group gid (needs root); false in tests */
	const char *admin_group;      /* Control { admin_group }: may change state; NULL: root alone */
	gid_t admin_gid;              /* its gid (when admin_group) */
	unsigned max_connections;     /* 0: 32 */
	unsigned root_reserved;       /* slots only root may take; 0: 4 (at most half of max_connections) */
	unsigned max_per_uid;         /* connections per non-root uid; 0: 8 */
	size_t max_subscriber_output; /* pending events per subscriber; 0: 1 MiB */
	size_t max_request;           /* REQUEST payload bound; 0: VIP_CTL_MAX_REQUEST */
	size_t max_output;            /* pending output per connection; 0: 2 * VIP_CTL_MAX_REPLY */
	unsigned idle_timeout_ms;     /* close a connection idle this long (not a subscriber); 0: 60 s */
	size_t max_reply;             /* reply body bound; 0 (or more): VIP_CTL_MAX_REPLY - 4 */
	/* The handler of each command of vip_ctl_commands, by id; NULL: not
	 * served here (a usage error). `help` is built in. */
	const vipd_control_fn *handlers;
	void *userdata; /* passed to handlers */
	/* Test hook: replaces vipd_control_peer_from_fd when set. */
	int (*get_peer)(int fd, struct vipd_control_peer *ret, void *userdata);
};

/*
 * Create the socket and start serving on loop. Must run before the
 * privilege drop: checks the parent folder and creates it (mode 0750,
 * root:gid when chown_socket) if missing (vipd/rundir.h), removes a stale
 * socket, and binds with umask and effective gid set so the socket is born
 * 0660 root:gid (never changed by path afterwards). The config is copied,
 * with path, group_name and admin_group; the handlers and userdata must
 * outlive the server. Returns 0 and *ret, or -errno (-ENAMETOOLONG for a
 * path that does not fit sun_path; -EADDRINUSE when a live server answers
 * on the path; -EPERM, -ELOOP, -ENOTDIR for an unsafe folder).
 */
int vipd_control_new(struct loop *loop, const struct vipd_control_config *cfg, struct vipd_control **ret);
/*
 * Same without a socket path (cfg->path ignored): serve only connections
 * handed over with vipd_control_adopt. For tests (socketpair).
 */
int vipd_control_new_detached(struct loop *loop, const struct vipd_control_config *cfg,
			      struct vipd_control **ret);
/* Serve an already connected stream socket (takes ownership of fd, made
 * non-blocking). Runs the peer check like accept does. 0 or -errno (fd closed). */
int vipd_control_adopt(struct vipd_control *c, int fd);
/* Close every connection and the listening socket, unlink the path (when
 * allowed). Accepts NULL. */
void vipd_control_free(struct vipd_control *c);

/*
 * Change the admin group live (config reload): NULL for none. Applies to
 * the next request of every connection. 0 or -ENOMEM (the old one kept).
 */
int vipd_control_set_admin_group(struct vipd_control *c, const char *name, gid_t gid);

/* The listening fd (-1 when detached). */
int vipd_control_fd(const struct vipd_control *c);
/* Open connections. */
size_t vipd_control_n_connections(const struct vipd_control *c);

/*
 * From a handler: turn this connection into an event stream. The reply is
 * sent with VIP_CTL_F_STREAM (its body, if any, first: e.g. a snapshot); the
 * connection then only receives events and is exempt from the idle timeout.
 * 0 or -EINVAL (not called from a handler).
 */
int vipd_control_subscribe(struct vipd_control_call *call);
size_t vipd_control_n_subscribers(const struct vipd_control *c);

/*
 * Push one change to every subscriber: text (one line) to those that asked
 * for text, json (one object) to those that asked for JSON; a missing final
 * newline is added. Either may be NULL (those subscribers get nothing). A
 * subscriber whose pending output passes max_output is dropped. Returns the
 * number of subscribers the event was queued for, or -errno (-EINVAL: NUL or
 * too long).
 */
int vipd_control_event(struct vipd_control *c, const char *text, const char *json);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The control server: accepts connections, checks who is calling, reads
 * framed requests, dispatches them through the caller's command table and
 * queues framed replies and events. Everything is non-blocking; output waits
 * in a bounded per-connection buffer and a connection with pending output is
 * not read from (one reply in flight per client), so memory per client is
 * bounded and nobody can make the loop wait.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control-internal.h"
#include "vipd-build.h"

#define DEFAULT_MAX_CONNECTIONS 32u
#define DEFAULT_ROOT_RESERVED 4u
#define DEFAULT_MAX_PER_UID 8u
#define DEFAULT_MAX_SUBSCRIBER_OUTPUT (1024u * 1024u)
#define DEFAULT_IDLE_TIMEOUT_MS 60000u
#define ACCEPT_BURST 16
#define READ_CHUNK 16384u
#define ACCEPT_PAUSE_MS 1000u

/* ---------------------------------------------------------------- connections */

void control_conn_close(struct vipd_control_conn *c)
{
	struct vipd_control *ctl = c->ctl;

	loop_remove_fd(ctl->loop, c->fd);
	close(c->fd);
	loop_timer_free(c->idle);
	vip_ctl_buf_free(&c->in);
	vip_ctl_buf_free(&c->out);
	if (c->subscribed)
		ctl->n_subscribers--;
	if (c->prev)
		c->prev->next = c->next;
	else
		ctl->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ctl->n_conns--;
	free(c);
}

static void conn_touch(struct vipd_control_conn *c)
{
	if (!c->subscribed)
		(void)loop_timer_arm(c->idle, c->ctl->cfg.idle_timeout_ms, 0);
}

static void on_idle(struct loop *l _unused_, struct loop_timer *t _unused_, void *data)
{
	control_conn_close(data);
}

/* Pending output: wait for room, do not read (one reply in flight per client). */
static void conn_update_events(struct vipd_control_conn *c)
{
	uint32_t ev = c->out.len ? EPOLLOUT : (c->closing ? 0 : EPOLLIN);

	if (ev != c->events && loop_mod_fd(c->ctl->loop, c->fd, ev) == 0)
		c->events = ev;
}

/* Queue a REPLY frame into c->out; a client over its output bound is dropped.
 * Returns 0, or -ENOBUFS when c was closed. */
static int conn_queue_reply(struct vipd_control_conn *c, unsigned status, unsigned flags, const void *body,
			    size_t len)
{
	int r = vip_ctl_reply_encode(&c->out, status, flags, body, len);

	if (r == -EMSGSIZE) {
		static const char msg[] = "error: reply too large\n";
		r = vip_ctl_reply_encode(&c->out, VIP_CTL_TOO_LARGE, 0, msg, sizeof(msg) - 1);
	}
	if (r < 0) {
		control_conn_close(c);
		return -ENOBUFS;
	}
	return 0;
}

/*
 * Answer one frame we cannot accept and close the connection once the answer
 * is out: a peer that breaks framing cannot be resynchronised.
 */
static void conn_fail(struct vipd_control_conn *c, unsigned status, const char *msg)
{
	c->in.len = 0;
	if (conn_queue_reply(c, status, 0, msg, strlen(msg)) < 0)
		return;
	c->closing = true;
	(void)control_conn_flush(c);
}

/* Returns false when c was closed. */
static bool run_request(struct vipd_control_conn *c, const struct vip_ctl_request *req)
{
	struct vipd_control *ctl = c->ctl;
	struct vipd_control_call call = {
		.json = req->json,
		.userdata = ctl->cfg.userdata,
		.control = ctl,
		.conn = c,
		.peer = &c->peer,
		.jw = &ctl->jbody,
		.text = &ctl->tbody,
	};
	const void *body;
	unsigned status;
	size_t len;

	c->in_call = true;
	status = control_run(&ctl->cfg, &call, req);
	c->in_call = false;
	status = control_finish(&call, status, c->subscribed, &body, &len);
	if (status != VIP_CTL_OK && c->subscribed) {
		c->subscribed = false;
		ctl->n_subscribers--;
	}
	if (conn_queue_reply(c, status,
			     (c->subscribed ? VIP_CTL_F_STREAM : 0) | (req->json ? VIP_CTL_F_BODY_JSON : 0),
			     body, len) < 0)
		return false;
	conn_touch(c);
	return true;
}

/*
 * Handle one complete frame from c->in. Returns true when the next one may
 * be looked at now: c is alive and its reply is already fully sent.
 */
static bool conn_process_one(struct vipd_control_conn *c)
{
	struct vip_ctl_header h;
	struct vip_ctl_request req;
	unsigned status = VIP_CTL_PROTOCOL;
	const char *err = NULL;
	bool alive;
	int k;

	if (c->closing || c->out.len > 0 || c->in.len == 0)
		return false;
	k = vip_ctl_frame_peek(c->in.data, c->in.len, c->ctl->cfg.max_request, &h);
	if (k == 0)
		return false;
	if (k == -EMSGSIZE)
		err = "error: request too large\n", status = VIP_CTL_TOO_LARGE;
	else if (k == -EPROTONOSUPPORT)
		err = "error: unsupported protocol version\n";
	else if (k < 0 || h.type != VIP_CTL_REQUEST || c->subscribed)
		err = "error: protocol error\n";
	else if (vip_ctl_request_decode(c->in.data, (size_t)k, &req) < 0)
		err = "error: malformed request\n";
	if (err) {
		conn_fail(c, status, err);
		return false;
	}
	vip_ctl_buf_consume(&c->in, (size_t)k);
	alive = run_request(c, &req);
	vip_ctl_request_clear(&req);
	return alive && control_conn_flush(c) && c->out.len == 0;
}

/*
 * Handle the frames waiting in c->in, in order, one reply in flight at a
 * time: when a reply cannot be sent at once, the rest waits for EPOLLOUT.
 * Bounded: every frame consumes at least a header from a bounded buffer.
 */
static void conn_process(struct vipd_control_conn *c)
{
	while (conn_process_one(c))
		;
}

/* ---------------------------------------------------------------- I/O */

/* Send what is pending. Returns false when c was closed. */
bool control_conn_flush(struct vipd_control_conn *c)
{
	while (c->out.len > 0) {
		ssize_t k = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (k <= 0) {
			control_conn_close(c);
			return false;
		}
		vip_ctl_buf_consume(&c->out, (size_t)k);
		conn_touch(c);
	}
	if (c->out.len == 0 && c->closing) {
		control_conn_close(c);
		return false;
	}
	conn_update_events(c);
	return true;
}

/* Read what the socket holds, up to one maximal frame. False when c was closed. */
static bool conn_read(struct vipd_control_conn *c)
{
	size_t room = VIP_CTL_HEADER_SIZE + c->ctl->cfg.max_request;
	uint8_t tmp[READ_CHUNK];

	/* Bounded in count too: at most room / READ_CHUNK + 1 reads. */
	while (c->in.len < room) {
		size_t want = room - c->in.len < sizeof(tmp) ? room - c->in.len : sizeof(tmp);
		ssize_t k = recv(c->fd, tmp, want, MSG_DONTWAIT);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (k <= 0 || vip_ctl_buf_append(&c->in, tmp, (size_t)k) < 0) {
			control_conn_close(c); /* EOF or error: the client is gone */
			return false;
		}
		conn_touch(c);
		if ((size_t)k < want)
			return true;
	}
	return true;
}

static void on_conn(struct loop *l _unused_, int fd _unused_, uint32_t revents, void *data)
{
	struct vipd_control_conn *c = data;

	if (revents & EPOLLOUT) {
		if (!control_conn_flush(c))
			return;
		/* Requests that waited behind the reply. */
		if (c->out.len == 0 && c->in.len > 0) {
			conn_process(c);
			return;
		}
	}
	if (revents & EPOLLIN) {
		if (conn_read(c))
			conn_process(c);
		return;
	}
	if (revents & (EPOLLHUP | EPOLLERR))
		control_conn_close(c);
}

/* ---------------------------------------------------------------- accepting */

/* Say why before closing; the socket is fresh, so a short reply fits. */
static void refuse(int fd, unsigned status, const char *msg)
{
	struct vip_ctl_buf b = { .max = 4096 };

	if (vip_ctl_reply_encode(&b, status, 0, msg, strlen(msg)) == 0)
		(void)!send(fd, b.data, b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	vip_ctl_buf_free(&b);
	close(fd);
}

static void refuse_denied(struct vipd_control *ctl, int fd)
{
	char msg[200], num[16];
	const char *group = ctl->cfg.group_name;

	if (!group) {
		snprintf(num, sizeof(num), "%u", (unsigned)ctl->cfg.gid);
		group = num;
	}
	snprintf(msg, sizeof(msg), "permission denied: you must be root, or in group %s\n", group);
	refuse(fd, VIP_CTL_DENIED, msg);
}

/*
 * Whether peer may open one more connection: root up to max_connections;
 * anyone else leaves root_reserved slots free and holds at most max_per_uid.
 * 0, -EBUSY or -EUSERS.
 */
static int conn_room(const struct vipd_control *ctl, const struct vipd_control_peer *peer)
{
	size_t same = 0;

	if (ctl->n_conns >= ctl->cfg.max_connections)
		return -EBUSY;
	if (peer->uid == 0)
		return 0;
	if (ctl->n_conns >= ctl->cfg.max_connections - ctl->cfg.root_reserved)
		return -EBUSY;
	for (const struct vipd_control_conn *c = ctl->conns; c; c = c->next)
		same += c->peer.uid == peer->uid;
	return same >= ctl->cfg.max_per_uid ? -EUSERS : 0;
}

int vipd_control_adopt(struct vipd_control *ctl, int fd)
{
	struct vipd_control_peer peer;
	struct vipd_control_conn *c;
	int r, fl;

	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		r = negerrno();
		close(fd);
		return r;
	}
	r = ctl->cfg.get_peer ? ctl->cfg.get_peer(fd, &peer, ctl->cfg.userdata)
			      : vipd_control_peer_from_fd(fd, &peer);
	if (r < 0 || !control_peer_allowed(&ctl->cfg, &peer)) {
		refuse_denied(ctl, fd);
		return r < 0 ? r : -EPERM;
	}
	r = conn_room(ctl, &peer);
	if (r < 0) {
		refuse(fd, VIP_CTL_BUSY,
		       r == -EUSERS ? "error: too many connections from your user\n"
				    : "error: too many connections (the last slots are kept for root)\n");
		return -EBUSY;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	*c = (struct vipd_control_conn){ .ctl = ctl, .fd = fd, .events = EPOLLIN, .peer = peer };
	c->in.max = VIP_CTL_HEADER_SIZE + ctl->cfg.max_request;
	c->out.max = ctl->cfg.max_output;
	r = loop_timer_new(ctl->loop, on_idle, c, &c->idle);
	if (r >= 0)
		r = loop_add_fd(ctl->loop, fd, EPOLLIN, on_conn, c);
	if (r < 0) {
		loop_timer_free(c->idle);
		free(c);
		close(fd);
		return r;
	}
	c->next = ctl->conns;
	if (c->next)
		c->next->prev = c;
	ctl->conns = c;
	ctl->n_conns++;
	conn_touch(c);
	return 0;
}

static void on_accept_pause(struct loop *l, struct loop_timer *t _unused_, void *data)
{
	struct vipd_control *ctl = data;

	(void)loop_mod_fd(l, ctl->fd, EPOLLIN);
}

static void on_listen(struct loop *l, int fd, uint32_t revents _unused_, void *data)
{
	struct vipd_control *ctl = data;

	for (int i = 0; i < ACCEPT_BURST; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd >= 0) {
			(void)vipd_control_adopt(ctl, cfd);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			/* Out of descriptors: stop listening a while instead of spinning. */
			if (loop_mod_fd(l, fd, 0) == 0)
				(void)loop_timer_arm(ctl->accept_pause, ACCEPT_PAUSE_MS, 0);
		}
		return;
	}
}

/* ---------------------------------------------------------------- lifetime */

static int control_alloc(struct loop *loop, const struct vipd_control_config *cfg, struct vipd_control **ret)
{
	struct vipd_control *ctl = calloc(1, sizeof(*ctl));
	int r;

	if (!ctl)
		return -ENOMEM;
	ctl->loop = loop;
	ctl->fd = -1;
	ctl->cfg = *cfg;
	ctl->cfg.path = NULL; /* ctl->path holds our copy */
	/* Our own copy: the daemon's configuration may be replaced by a reload. */
	if (cfg->group_name) {
		ctl->group_name = strdup(cfg->group_name);
		if (!ctl->group_name) {
			free(ctl);
			return -ENOMEM;
		}
		ctl->cfg.group_name = ctl->group_name;
	}
	ctl->cfg.admin_group = NULL;
	if (vipd_control_set_admin_group(ctl, cfg->admin_group, cfg->admin_gid) < 0) {
		free(ctl->group_name);
		free(ctl);
		return -ENOMEM;
	}
	if (!ctl->cfg.max_connections)
		ctl->cfg.max_connections = DEFAULT_MAX_CONNECTIONS;
	if (!ctl->cfg.root_reserved)
		ctl->cfg.root_reserved = DEFAULT_ROOT_RESERVED;
	if (ctl->cfg.root_reserved > ctl->cfg.max_connections / 2)
		ctl->cfg.root_reserved = ctl->cfg.max_connections / 2;
	if (!ctl->cfg.max_per_uid)
		ctl->cfg.max_per_uid = DEFAULT_MAX_PER_UID;
	if (!ctl->cfg.max_request || ctl->cfg.max_request > VIP_CTL_MAX_REQUEST)
		ctl->cfg.max_request = VIP_CTL_MAX_REQUEST;
	if (!ctl->cfg.max_output)
		ctl->cfg.max_output = 2 * (size_t)VIP_CTL_MAX_REPLY;
	if (!ctl->cfg.max_subscriber_output)
		ctl->cfg.max_subscriber_output = DEFAULT_MAX_SUBSCRIBER_OUTPUT;
	/* Room for the last word to a dropped subscriber. */
	if (ctl->cfg.max_subscriber_output > ctl->cfg.max_output / 2)
		ctl->cfg.max_subscriber_output = ctl->cfg.max_output / 2;
	if (!ctl->cfg.idle_timeout_ms)
		ctl->cfg.idle_timeout_ms = DEFAULT_IDLE_TIMEOUT_MS;
	if (!ctl->cfg.max_reply || ctl->cfg.max_reply > VIP_CTL_MAX_REPLY - 4)
		ctl->cfg.max_reply = VIP_CTL_MAX_REPLY - 4;
	vip_json_init(&ctl->jbody, ctl->cfg.max_reply, false);
	ctl->tbody.max = ctl->cfg.max_reply;
	r = loop_timer_new(loop, on_accept_pause, ctl, &ctl->accept_pause);
	if (r < 0) {
		free(ctl->group_name);
		free(ctl->admin_group);
		free(ctl);
		return r;
	}
	*ret = ctl;
	return 0;
}

int vipd_control_set_admin_group(struct vipd_control *ctl, const char *name, gid_t gid)
{
	char *copy = NULL;

	if (name && !(copy = strdup(name)))
		return -ENOMEM;
	free(ctl->admin_group);
	ctl->admin_group = copy;
	ctl->cfg.admin_group = copy;
	ctl->cfg.admin_gid = copy ? gid : 0;
	return 0;
}

int vipd_control_new_detached(struct loop *loop, const struct vipd_control_config *cfg,
			      struct vipd_control **ret)
{
	return control_alloc(loop, cfg, ret);
}

int vipd_control_new(struct loop *loop, const struct vipd_control_config *cfg, struct vipd_control **ret)
{
	struct vipd_control *ctl;
	int r = control_alloc(loop, cfg, &ctl);

	if (r < 0)
		return r;
	ctl->path = strdup(cfg->path ? cfg->path : VIPD_DEFAULT_CONTROL);
	if (!ctl->path) {
		vipd_control_free(ctl);
		return -ENOMEM;
	}
	r = control_listen(ctl->path, cfg->chown_socket, cfg->gid, ctl->cfg.max_connections, &ctl->dev,
			   &ctl->ino);
	if (r < 0) {
		free(steal_ptr(ctl->path)); /* nothing of ours to unlink */
		vipd_control_free(ctl);
		return r;
	}
	ctl->fd = r;
	r = loop_add_fd(loop, ctl->fd, EPOLLIN, on_listen, ctl);
	if (r < 0) {
		vipd_control_free(ctl);
		return r;
	}
	*ret = ctl;
	return 0;
}

void vipd_control_free(struct vipd_control *ctl)
{
	if (!ctl)
		return;
	while (ctl->conns)
		control_conn_close(ctl->conns);
	if (ctl->fd >= 0) {
		loop_remove_fd(ctl->loop, ctl->fd);
		close(ctl->fd);
		control_unlink(ctl->path, ctl->dev, ctl->ino);
	}
	loop_timer_free(ctl->accept_pause);
	vip_json_free(&ctl->jbody);
	vip_ctl_buf_free(&ctl->tbody);
	free(ctl->path);
	free(ctl->group_name);
	free(ctl->admin_group);
	free(ctl);
}

const struct vipd_control_config *control_get_config(const struct vipd_control *ctl)
{
	return &ctl->cfg;
}

int vipd_control_fd(const struct vipd_control *ctl)
{
	return ctl->fd;
}

size_t vipd_control_n_connections(const struct vipd_control *ctl)
{
	return ctl->n_conns;
}

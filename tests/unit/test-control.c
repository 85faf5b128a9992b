/* SPDX-License-Identifier: MIT */
/*
 * The control server on a real loop: dispatch, usage errors, framing errors,
 * bounds (request size, connections, output), a client that never reads,
 * peer credentials (injected through the get_peer hook), events, and the
 * socket file itself (mode, directory, stale and live sockets).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "control.h"
#include "json-check.h"

#define GID 4242
#define DAEMON_UID 4243

struct fixture {
	struct loop *loop;
	struct vipd_control *ctl;
	struct vipd_control_config cfg;
	char dir[64];
	char path[128];
	struct vipd_control_peer next_peer; /* what get_peer reports */
	int handler_calls;
};

/* ---------------------------------------------------------------- handlers */

/* Every handler renders through a view, as the daemon's do. */
struct pair {
	const char *a, *b;
};

static void pair_json(struct vip_json *w, const void *data)
{
	const struct pair *p = data;

	vip_json_object_begin(w, NULL);
	vip_json_string(w, "a", p->a);
	vip_json_string(w, "b", p->b);
	vip_json_object_end(w);
}

static void pair_text(struct vip_ctl_buf *o, const void *data)
{
	const struct pair *p = data;

	vip_ctl_buf_printf(o, "%s %s\n", p->a, p->b);
}

static const struct vipd_control_view pair_view = { pair_json, pair_text };

static int h_info(struct vipd_control_call *call)
{
	struct fixture *f = call->userdata;
	char n[32];
	struct pair p = { "backend:", n };

	f->handler_calls++;
	snprintf(n, sizeof(n), "solo (%zu args)", call->n_args);
	return vipd_control_reply(call, &pair_view, &p);
}

/* cluster duravip show [ip]: the argument count. */
static int h_show(struct vipd_control_call *call)
{
	char n[32];
	struct pair p = { "args", n };

	snprintf(n, sizeof(n), "%zu", call->n_args);
	return vipd_control_reply(call, &pair_view, &p);
}

/* Echoes user text: in a reply, or (node "fail...") in an error. */
static int h_move(struct vipd_control_call *call)
{
	struct pair p = { call->args[0], call->args[1] };

	if (strncmp(call->args[1], "fail", 4) == 0)
		return vipd_control_fail(call, 1, "cannot move %s to '%s'", call->args[0], call->args[1]);
	return vipd_control_reply(call, &pair_view, &p);
}

static int h_fail(struct vipd_control_call *call _unused_)
{
	return -EIO;
}

static int h_status3(struct vipd_control_call *call)
{
	return vipd_control_fail(call, 3, "no such node");
}

/* 256 KiB of reply, in many small appends: more than a socket buffer. */
static void big_json(struct vip_json *w, const void *data _unused_)
{
	vip_json_array_begin(w, NULL);
	for (int i = 0; i < 64 * 1024; i++)
		vip_json_string(w, NULL, "xx");
	vip_json_array_end(w);
}

static void big_text(struct vip_ctl_buf *o, const void *data _unused_)
{
	for (int i = 0; i < 64 * 1024; i++)
		vip_ctl_buf_puts(o, "xxxx");
}

static int h_big(struct vipd_control_call *call)
{
	static const struct vipd_control_view view = { big_json, big_text };

	return vipd_control_reply(call, &view, NULL);
}

/* A renderer that forgets to close its object. */
static void broken_json(struct vip_json *w, const void *data _unused_)
{
	vip_json_object_begin(w, NULL);
	vip_json_string(w, "a", "b");
}

static int h_broken(struct vipd_control_call *call)
{
	static const struct vipd_control_view view = { broken_json, pair_text };
	struct pair p = { "a", "b" };

	return vipd_control_reply(call, &view, &p);
}

static int h_events(struct vipd_control_call *call)
{
	struct pair p = { "subscribed", "yes" };
	int r = vipd_control_subscribe(call);

	if (r < 0)
		return r;
	return vipd_control_reply(call, &pair_view, &p);
}

/* Commands of the shared table bound to test handlers; the rest unserved. */
static const vipd_control_fn table[_VIP_CTL_CMD_MAX] = {
	[VIP_CTL_CMD_INFO] = h_info,         [VIP_CTL_CMD_DURAVIP_SHOW] = h_show,
	[VIP_CTL_CMD_DURAVIP_MOVE] = h_move, [VIP_CTL_CMD_CONFIG_RELOAD] = h_fail,
	[VIP_CTL_CMD_METRICS] = h_status3,   [VIP_CTL_CMD_MEMBERSHIP] = h_big,
	[VIP_CTL_CMD_ARP_SHOW] = h_broken,   [VIP_CTL_CMD_EVENTS] = h_events,
};

static int fake_peer(int fd _unused_, struct vipd_control_peer *ret, void *userdata)
{
	struct fixture *f = userdata;

	*ret = f->next_peer;
	return 0;
}

/* ---------------------------------------------------------------- fixture */

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-control-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/run/control", f->dir);
	f->cfg = (struct vipd_control_config){
		.path = f->path,
		.daemon_uid = DAEMON_UID,
		.gid = GID,
		.group_name = "vipgrp",
		.handlers = table,
		.userdata = f,
		.get_peer = fake_peer,
		.idle_timeout_ms = 5000,
	};
	f->next_peer = (struct vipd_control_peer){ .pid = 1, .uid = 0, .gid = 0 };
	if (loop_new(&f->loop) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char p[160];

	vipd_control_free(f->ctl);
	loop_free(f->loop);
	unlink(f->path);
	snprintf(p, sizeof(p), "%s/run", f->dir);
	rmdir(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void start(struct fixture *f)
{
	assert_int_equal(vipd_control_new(f->loop, &f->cfg, &f->ctl), 0);
}

static int client(struct fixture *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	strcpy(sa.sun_path, f->path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Spin the loop (bounded) until fd has a whole frame; returns its type (or -errno:
 * -ECONNRESET at EOF) and leaves the frame in b. */
static int read_frame(struct fixture *f, int fd, struct vip_ctl_buf *b)
{
	struct vip_ctl_header h;

	vip_ctl_buf_reset(b);
	for (int i = 0; i < 500; i++) {
		uint8_t tmp[65536];
		int k = vip_ctl_frame_peek(b->data, b->len, 0, &h);
		if (k > 0) {
			assert_int_equal((size_t)k, b->len);
			return h.type;
		}
		if (k < 0)
			return k;
		/* Never read past the current frame: the next one stays in the socket. */
		size_t want = b->len < VIP_CTL_HEADER_SIZE ? VIP_CTL_HEADER_SIZE - b->len
							   : VIP_CTL_HEADER_SIZE + h.length - b->len;
		ssize_t n = recv(fd, tmp, want < sizeof(tmp) ? want : sizeof(tmp), MSG_DONTWAIT);
		if (n > 0) {
			assert_int_equal(vip_ctl_buf_append(b, tmp, (size_t)n), 0);
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		loop_iterate(f->loop, 10);
	}
	return -ETIMEDOUT;
}

struct reply {
	unsigned status;
	unsigned flags;
	char body[300000];
	size_t len;
};

static void send_raw(int fd, const void *p, size_t n)
{
	assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static int call(struct fixture *f, int fd, bool json, struct reply *rep, int argc, ...)
{
	const char *argv[16];
	struct vip_ctl_buf b = { .max = VIP_CTL_HEADER_SIZE + VIP_CTL_MAX_REPLY };
	const char *body;
	va_list ap;
	int r;

	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, const char *);
	va_end(ap);
	assert_int_equal(vip_ctl_request_encode(&b, argv, (size_t)argc, json), 0);
	send_raw(fd, b.data, b.len);
	r = read_frame(f, fd, &b);
	if (r == VIP_CTL_REPLY) {
		assert_int_equal(vip_ctl_reply_decode(b.data, b.len, &rep->status, &rep->flags, &body,
						      &rep->len),
				 0);
		assert_true(rep->len < sizeof(rep->body));
		memcpy(rep->body, body, rep->len);
		rep->body[rep->len] = '\0';
	}
	vip_ctl_buf_free(&b);
	return r;
}

/* True when the server closed fd (EOF after any pending frames are read). */
static bool closed_by_server(struct fixture *f, int fd)
{
	struct vip_ctl_buf b = { 0 };
	int r;

	do
		r = read_frame(f, fd, &b);
	while (r > 0);
	vip_ctl_buf_free(&b);
	return r == -ECONNRESET;
}

/* ---------------------------------------------------------------- tests */

static struct reply rep; /* large: kept off the stack */

/* The reply body parsed as JSON (the test fails when it is not JSON). */
static struct jv *parsed(const struct reply *r)
{
	struct jv *v = json_parse(r->body);

	if (!v)
		fail_msg("not JSON: %s", r->body);
	assert_true(r->flags & VIP_CTL_F_BODY_JSON);
	return v;
}

static void test_dispatch(void **state)
{
	struct fixture *f = *state;
	struct jv *v;
	int fd;

	start(f);
	fd = client(f);
	assert_int_equal(call(f, fd, false, &rep, 2, "cluster", "info"), VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_OK);
	assert_int_equal(rep.flags, 0);
	assert_string_equal(rep.body, "backend: solo (0 args)\n");
	/* Same connection, next request, JSON: the same data. */
	assert_int_equal(call(f, fd, true, &rep, 2, "cluster", "info"), VIP_CTL_REPLY);
	v = parsed(&rep);
	assert_string_equal(json_str(v, "a"), "backend:");
	assert_string_equal(json_str(v, "b"), "solo (0 args)");
	json_free(v);
	/* Arguments after the words. */
	assert_int_equal(call(f, fd, false, &rep, 4, "cluster", "duravip", "show", "198.51.100.9"),
			 VIP_CTL_REPLY);
	assert_string_equal(rep.body, "args 1\n");
	assert_int_equal(call(f, fd, false, &rep, 5, "cluster", "duravip", "move", "198.51.100.9", "n2"),
			 VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_OK);
	assert_string_equal(rep.body, "198.51.100.9 n2\n");
	assert_int_equal(f->handler_calls, 2);
	assert_int_equal(vipd_control_n_connections(f->ctl), 1);

	/* Pipelined: two requests in one write get two replies, in order. */
	struct vip_ctl_buf b = { 0 };
	const char *a1[] = { "cluster", "info" }, *a2[] = { "cluster", "duravip", "move", "a", "b" };
	const char *body;
	assert_int_equal(vip_ctl_request_encode(&b, a1, 2, false), 0);
	assert_int_equal(vip_ctl_request_encode(&b, a2, 5, false), 0);
	send_raw(fd, b.data, b.len);
	assert_int_equal(read_frame(f, fd, &b), VIP_CTL_REPLY);
	assert_int_equal(vip_ctl_reply_decode(b.data, b.len, &rep.status, &rep.flags, &body, &rep.len), 0);
	assert_memory_equal(body, "backend: solo (0 args)\n", rep.len);
	assert_int_equal(read_frame(f, fd, &b), VIP_CTL_REPLY);
	assert_int_equal(vip_ctl_reply_decode(b.data, b.len, &rep.status, &rep.flags, &body, &rep.len), 0);
	assert_memory_equal(body, "a b\n", rep.len);
	vip_ctl_buf_free(&b);
	close(fd);
}

/* One JSON error reply: parses, says status, carries msg exactly. */
static void expect_json_error(struct reply *r, unsigned status, const char *msg)
{
	struct jv *v = parsed(r);

	assert_int_equal(r->status, status);
	assert_int_equal(json_num(v, "status"), status);
	if (msg)
		assert_string_equal(json_str(v, "error"), msg);
	else
		assert_true(strlen(json_str(v, "error")) > 0);
	json_free(v);
}

static void test_errors(void **state)
{
	struct fixture *f = *state;
	int fd;

	start(f);
	fd = client(f);
	assert_int_equal(call(f, fd, false, &rep, 2, "frobnicate", "now"), VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_USAGE);
	assert_string_equal(rep.body, "error: unknown command 'frobnicate'; try 'help'\n");
	assert_int_equal(call(f, fd, true, &rep, 1, "frobnicate"), VIP_CTL_REPLY);
	expect_json_error(&rep, VIP_CTL_USAGE, "unknown command 'frobnicate'; try 'help'");
	/* A command of the table this server does not serve. */
	assert_int_equal(call(f, fd, true, &rep, 3, "cluster", "duravip", "balance"), VIP_CTL_REPLY);
	expect_json_error(&rep, VIP_CTL_USAGE, "unknown command 'cluster duravip balance'; try 'help'");
	assert_int_equal(call(f, fd, false, &rep, 4, "cluster", "duravip", "move", "198.51.100.9"),
			 VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_USAGE);
	assert_string_equal(rep.body, "error: usage: cluster duravip move <ip> <node>\n");
	assert_int_equal(call(f, fd, true, &rep, 4, "cluster", "duravip", "move", "198.51.100.9"),
			 VIP_CTL_REPLY);
	expect_json_error(&rep, VIP_CTL_USAGE, "usage: cluster duravip move <ip> <node>");
	assert_int_equal(call(f, fd, false, &rep, 2, "config", "reload"), VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_FAILED);
	assert_string_equal(rep.body, "error: Input/output error\n");
	assert_int_equal(call(f, fd, true, &rep, 2, "config", "reload"), VIP_CTL_REPLY);
	expect_json_error(&rep, VIP_CTL_FAILED, "Input/output error");
	assert_int_equal(call(f, fd, false, &rep, 1, "metrics"), VIP_CTL_REPLY);
	assert_int_equal(rep.status, 3);
	assert_string_equal(rep.body, "error: no such node\n");
	assert_int_equal(call(f, fd, true, &rep, 1, "metrics"), VIP_CTL_REPLY);
	expect_json_error(&rep, 3, "no such node");
	/* User text with a quote, a backslash and a control character stays JSON. */
	assert_int_equal(call(f, fd, true, &rep, 5, "cluster", "duravip", "move", "203.0.113.51",
			      "fail\"a\\b\x01"),
			 VIP_CTL_REPLY);
	expect_json_error(&rep, 1, "cannot move 203.0.113.51 to 'fail\"a\\b\x01'");
	assert_int_equal(call(f, fd, true, &rep, 5, "cluster", "duravip", "move", "a\"b", "c\\d"),
			 VIP_CTL_REPLY);
	struct jv *v = parsed(&rep);
	assert_string_equal(json_str(v, "a"), "a\"b");
	assert_string_equal(json_str(v, "b"), "c\\d");
	json_free(v);
	/* help: the shared table, authority included. */
	assert_int_equal(call(f, fd, false, &rep, 1, "help"), VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_OK);
	assert_non_null(strstr(rep.body, "cluster duravip move <ip> <node>"));
	assert_non_null(strstr(rep.body, "changes state"));
	assert_int_equal(call(f, fd, true, &rep, 1, "help"), VIP_CTL_REPLY);
	v = parsed(&rep);
	assert_int_equal(json_len(v, "commands"), _VIP_CTL_CMD_MAX);
	assert_string_equal(json_str(v, "commands.1.command"), "cluster duravip move");
	assert_string_equal(json_str(v, "commands.1.authority"), "changes state");
	assert_string_equal(json_str(v, "commands.0.authority"), "read-only");
	json_free(v);
	/* Still usable after all those errors. */
	assert_int_equal(call(f, fd, false, &rep, 2, "cluster", "info"), VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_OK);
	close(fd);
}

/* A reply cut short by the size bound is an error, never a complete-looking reply. */
static void test_truncated_reply(void **state)
{
	struct fixture *f = *state;
	int fd;

	f->cfg.max_reply = 4096;
	start(f);
	fd = client(f);
	assert_int_equal(call(f, fd, true, &rep, 2, "cluster", "membership"), VIP_CTL_REPLY);
	expect_json_error(&rep, VIP_CTL_TOO_LARGE, "reply too large");
	assert_int_equal(call(f, fd, false, &rep, 2, "cluster", "membership"), VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_TOO_LARGE);
	assert_string_equal(rep.body, "error: reply too large\n");
	/* A malformed document (a renderer's bug) is an error too. */
	assert_int_equal(call(f, fd, true, &rep, 3, "cluster", "arp", "show"), VIP_CTL_REPLY);
	expect_json_error(&rep, VIP_CTL_FAILED, "internal error: malformed reply");
	/* The connection goes on. */
	assert_int_equal(call(f, fd, true, &rep, 2, "cluster", "info"), VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_OK);
	json_free(parsed(&rep));
	close(fd);
}

static void raw_header(uint8_t *p, uint32_t mv, uint16_t type, uint16_t flags, uint32_t len)
{
	p[0] = (uint8_t)(mv >> 24), p[1] = (uint8_t)(mv >> 16), p[2] = (uint8_t)(mv >> 8), p[3] = (uint8_t)mv;
	p[4] = (uint8_t)(type >> 8), p[5] = (uint8_t)type, p[6] = (uint8_t)(flags >> 8),
	p[7] = (uint8_t)flags;
	p[8] = (uint8_t)(len >> 24), p[9] = (uint8_t)(len >> 16), p[10] = (uint8_t)(len >> 8),
	p[11] = (uint8_t)len;
}

/* Send raw bytes; expect one REPLY with status, then the server closes. */
static void expect_refused(struct fixture *f, const void *p, size_t n, unsigned status, const char *text)
{
	struct vip_ctl_buf b = { 0 };
	const char *body;
	size_t len;
	unsigned st, flags;
	int fd = client(f);

	send_raw(fd, p, n);
	assert_int_equal(read_frame(f, fd, &b), VIP_CTL_REPLY);
	assert_int_equal(vip_ctl_reply_decode(b.data, b.len, &st, &flags, &body, &len), 0);
	assert_int_equal(st, status);
	assert_non_null(memmem(body, len, text, strlen(text)));
	assert_true(closed_by_server(f, fd));
	vip_ctl_buf_free(&b);
	close(fd);
}

static void test_malformed(void **state)
{
	struct fixture *f = *state;
	uint8_t fr[64];

	f->cfg.max_request = 1024;
	start(f);
	/* Oversized: refused on the header, before the payload is sent. */
	raw_header(fr, VIP_CTL_MAGIC << 16 | VIP_CTL_VERSION, VIP_CTL_REQUEST, 0, 1025);
	expect_refused(f, fr, VIP_CTL_HEADER_SIZE, VIP_CTL_TOO_LARGE, "request too large");
	raw_header(fr, VIP_CTL_MAGIC << 16 | 9, VIP_CTL_REQUEST, 0, 4);
	expect_refused(f, fr, VIP_CTL_HEADER_SIZE, VIP_CTL_PROTOCOL, "unsupported protocol version");
	expect_refused(f, "GET / HTTP/1.0\r\n\r\n", 18, VIP_CTL_PROTOCOL, "protocol error");
	/* A reply is not a request. */
	raw_header(fr, VIP_CTL_MAGIC << 16 | VIP_CTL_VERSION, VIP_CTL_REPLY, 0, 4);
	memset(fr + VIP_CTL_HEADER_SIZE, 0, 4);
	expect_refused(f, fr, VIP_CTL_HEADER_SIZE + 4, VIP_CTL_PROTOCOL, "protocol error");
	/* Framed but inconsistent: argc 2, one argument. */
	raw_header(fr, VIP_CTL_MAGIC << 16 | VIP_CTL_VERSION, VIP_CTL_REQUEST, 0, 6);
	memcpy(fr + VIP_CTL_HEADER_SIZE, "\0\2\0\2hi", 6);
	expect_refused(f, fr, VIP_CTL_HEADER_SIZE + 6, VIP_CTL_PROTOCOL, "malformed request");

	/* Truncated: half a frame, then the client goes away; the server just closes. */
	int fd = client(f);
	send_raw(fd, fr, 7);
	for (int i = 0; i < 5; i++)
		loop_iterate(f->loop, 5);
	assert_int_equal(vipd_control_n_connections(f->ctl), 1);
	close(fd);
	for (int i = 0; i < 50 && vipd_control_n_connections(f->ctl) > 0; i++)
		loop_iterate(f->loop, 10);
	assert_int_equal(vipd_control_n_connections(f->ctl), 0);
}

/* A periodic timer proves the loop keeps turning. */
static void on_tick(struct loop *l _unused_, struct loop_timer *t _unused_, void *data)
{
	(*(int *)data)++;
}

static void test_slow_client(void **state)
{
	struct fixture *f = *state;
	struct vip_ctl_buf b = { 0 };
	const char *argv[] = { "cluster", "membership" };
	struct loop_timer *tick;
	int ticks = 0, slow, fast;

	f->cfg.idle_timeout_ms = 300;
	start(f);
	assert_int_equal(loop_timer_new(f->loop, on_tick, &ticks, &tick), 0);
	assert_int_equal(loop_timer_arm(tick, 10, 10), 0);
	slow = client(f);
	/* Ask for 256 KiB replies ten times and never read. */
	for (int i = 0; i < 10; i++)
		assert_int_equal(vip_ctl_request_encode(&b, argv, 2, false), 0);
	send_raw(slow, b.data, b.len);
	vip_ctl_buf_free(&b);
	uint64_t t0 = loop_now_ms();
	for (int i = 0; i < 10; i++)
		loop_iterate(f->loop, 10);
	/* Meanwhile another client is served at once. */
	fast = client(f);
	assert_int_equal(call(f, fast, false, &rep, 2, "cluster", "info"), VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_OK);
	assert_true(loop_now_ms() - t0 < 250);
	assert_int_equal(vipd_control_n_connections(f->ctl), 2);
	/* The slow one is dropped after its idle timeout; the loop ticked all along. */
	for (int i = 0; i < 100 && vipd_control_n_connections(f->ctl) > 1; i++)
		loop_iterate(f->loop, 20);
	assert_int_equal(vipd_control_n_connections(f->ctl), 0 + 1);
	assert_true(ticks >= 10);
	/* The fast one, idle too, goes the same way. */
	for (int i = 0; i < 100 && vipd_control_n_connections(f->ctl) > 0; i++)
		loop_iterate(f->loop, 20);
	assert_int_equal(vipd_control_n_connections(f->ctl), 0);
	loop_timer_free(tick);
	close(slow);
	close(fast);
}

static void test_output_bound(void **state)
{
	struct fixture *f = *state;
	int fd;

	/* A reply bigger than the per-connection bound: the client is dropped. */
	f->cfg.max_output = 64 * 1024;
	start(f);
	fd = client(f);
	struct vip_ctl_buf b = { 0 };
	const char *argv[] = { "cluster", "membership" };
	assert_int_equal(vip_ctl_request_encode(&b, argv, 2, false), 0);
	send_raw(fd, b.data, b.len);
	vip_ctl_buf_free(&b);
	assert_true(closed_by_server(f, fd));
	assert_int_equal(vipd_control_n_connections(f->ctl), 0);
	close(fd);
}

static void test_connection_limit(void **state)
{
	struct fixture *f = *state;
	int fds[3];

	f->cfg.max_connections = 2;
	start(f);
	for (int i = 0; i < 3; i++) {
		fds[i] = client(f);
		for (int k = 0; k < 5; k++)
			loop_iterate(f->loop, 5);
	}
	assert_int_equal(vipd_control_n_connections(f->ctl), 2);
	struct vip_ctl_buf b = { 0 };
	const char *body;
	size_t len;
	unsigned st, flags;
	assert_int_equal(read_frame(f, fds[2], &b), VIP_CTL_REPLY);
	assert_int_equal(vip_ctl_reply_decode(b.data, b.len, &st, &flags, &body, &len), 0);
	assert_int_equal(st, VIP_CTL_BUSY);
	assert_true(closed_by_server(f, fds[2]));
	vip_ctl_buf_free(&b);
	/* One leaves: there is room again. */
	close(fds[0]);
	for (int i = 0; i < 50 && vipd_control_n_connections(f->ctl) > 1; i++)
		loop_iterate(f->loop, 10);
	close(fds[2]);
	fds[2] = client(f);
	assert_int_equal(call(f, fds[2], false, &rep, 2, "cluster", "info"), VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_OK);
	close(fds[1]);
	close(fds[2]);
}

static void test_peer_credentials(void **state)
{
	struct fixture *f = *state;
	struct vipd_control_peer allowed[] = {
		{ .uid = 0, .gid = 100 },
		{ .uid = DAEMON_UID, .gid = 100 },
		{ .uid = 1000, .gid = GID },
		{ .uid = 1000, .gid = 100, .groups = { 10, GID }, .n_groups = 2 },
	};
	int fd;

	start(f);
	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++) {
		f->next_peer = allowed[i];
		fd = client(f);
		assert_int_equal(call(f, fd, false, &rep, 2, "cluster", "info"), VIP_CTL_REPLY);
		assert_int_equal(rep.status, VIP_CTL_OK);
		close(fd);
	}
	/* A foreign user, even with other supplementary groups, is refused and closed. */
	f->next_peer = (struct vipd_control_peer){ .uid = 1000,
						   .gid = 100,
						   .groups = { 10, 27 },
						   .n_groups = 2 };
	int calls = f->handler_calls;
	fd = client(f);
	assert_int_equal(call(f, fd, false, &rep, 2, "cluster", "info"), VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_DENIED);
	assert_string_equal(rep.body, "permission denied: you must be root, or in group vipgrp\n");
	assert_true(closed_by_server(f, fd));
	assert_int_equal(f->handler_calls, calls);
	close(fd);
}

static void test_peer_from_fd(void **state _unused_)
{
	struct vipd_control_peer p;
	int sp[2];
	gid_t groups[VIPD_CONTROL_MAX_GROUPS];
	int n = getgroups(VIPD_CONTROL_MAX_GROUPS, groups);

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	assert_int_equal(vipd_control_peer_from_fd(sp[0], &p), 0);
	assert_int_equal(p.pid, getpid());
	assert_int_equal(p.uid, geteuid());
	assert_int_equal(p.gid, getegid());
	assert_true(n >= 0);
	assert_int_equal(p.n_groups, (size_t)n);
	for (int i = 0; i < n; i++)
		assert_int_equal(p.groups[i], groups[i]);
	close(sp[0]);
	close(sp[1]);
	assert_int_equal(vipd_control_peer_from_fd(-1, &p), -EBADF);
}

static void test_events(void **state)
{
	struct fixture *f = *state;
	struct vip_ctl_buf b = { 0 };
	const char *text;
	size_t len;
	int t, j, plain;

	f->cfg.idle_timeout_ms = 100;
	start(f);
	t = client(f);
	j = client(f);
	plain = client(f);
	assert_int_equal(call(f, t, false, &rep, 1, "events"), VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_OK);
	assert_true(rep.flags & VIP_CTL_F_STREAM);
	assert_string_equal(rep.body, "subscribed yes\n");
	assert_int_equal(call(f, j, true, &rep, 1, "events"), VIP_CTL_REPLY);
	assert_true(rep.flags & VIP_CTL_F_STREAM);
	json_free(parsed(&rep));
	assert_int_equal(call(f, plain, false, &rep, 2, "cluster", "info"), VIP_CTL_REPLY);
	assert_false(rep.flags & VIP_CTL_F_STREAM);
	assert_int_equal(vipd_control_n_subscribers(f->ctl), 2);
	/* Past the idle timeout: the plain client is gone, the subscribers stay. */
	for (int i = 0; i < 100 && vipd_control_n_connections(f->ctl) > 2; i++)
		loop_iterate(f->loop, 10);
	assert_int_equal(vipd_control_n_connections(f->ctl), 2);
	assert_true(closed_by_server(f, plain));
	for (int i = 0; i < 15; i++)
		loop_iterate(f->loop, 10);
	assert_int_equal(vipd_control_n_connections(f->ctl), 2);

	assert_int_equal(vipd_control_event(f->ctl, "acquired 198.51.100.1",
					    "{\"acquired\":\"198.51.100.1\"}"),
			 2);
	assert_int_equal(read_frame(f, t, &b), VIP_CTL_EVENT);
	assert_int_equal(vip_ctl_event_decode(b.data, b.len, &text, &len), 0);
	assert_int_equal(len, strlen("acquired 198.51.100.1\n"));
	assert_memory_equal(text, "acquired 198.51.100.1\n", len);
	assert_int_equal(read_frame(f, j, &b), VIP_CTL_EVENT);
	assert_int_equal(vip_ctl_event_decode(b.data, b.len, &text, &len), 0);
	assert_memory_equal(text, "{\"acquired\":\"198.51.100.1\"}\n", len);
	/* Text only: the JSON subscriber gets nothing. */
	assert_int_equal(vipd_control_event(f->ctl, "released 198.51.100.1\n", NULL), 1);
	assert_int_equal(read_frame(f, t, &b), VIP_CTL_EVENT);
	/* A request on a stream is a protocol error. */
	assert_int_equal(call(f, t, false, &rep, 2, "cluster", "info"), VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_PROTOCOL);
	assert_true(closed_by_server(f, t));
	assert_int_equal(vipd_control_n_subscribers(f->ctl), 1);
	vip_ctl_buf_free(&b);
	close(t);
	close(plain);
	close(j);
	for (int i = 0; i < 50 && vipd_control_n_subscribers(f->ctl) > 0; i++)
		loop_iterate(f->loop, 10);
	assert_int_equal(vipd_control_n_subscribers(f->ctl), 0);
}

/* Read frames from fd until EOF; the last EVENT's text goes into last. */
static bool read_until_closed(struct fixture *f, int fd, char *last, size_t len)
{
	struct vip_ctl_buf b = { .max = VIP_CTL_HEADER_SIZE + VIP_CTL_MAX_REPLY };
	const char *text;
	size_t n;
	int r;

	last[0] = '\0';
	for (int i = 0; i < 100000; i++) {
		r = read_frame(f, fd, &b);
		if (r == VIP_CTL_EVENT && vip_ctl_event_decode(b.data, b.len, &text, &n) == 0) {
			n = n < len - 1 ? n : len - 1;
			memcpy(last, text, n);
			last[n] = '\0';
		} else if (r < 0) {
			break;
		}
	}
	vip_ctl_buf_free(&b);
	return r == -ECONNRESET;
}

static void subscriber_never_reads(struct fixture *f, bool json)
{
	char line[1024], last[512];
	int fd, last_n = -1;

	f->cfg.max_output = 64 * 1024;
	start(f);
	fd = client(f);
	assert_int_equal(call(f, fd, json, &rep, 1, "events"), VIP_CTL_REPLY);
	memset(line, 'e', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	/* Socket buffers plus the subscriber's bound: a few thousand events at most. */
	for (int i = 0; i < 20000 && last_n != 0; i++)
		last_n = vipd_control_event(f->ctl, line, json ? "{\"e\": 1}" : NULL);
	assert_int_equal(last_n, 0);
	assert_int_equal(vipd_control_n_subscribers(f->ctl), 0);
	assert_int_equal(vipd_control_event(f->ctl, NULL, NULL), 0);
	/* Dropped with a last word (for a client that reads again within the grace period). */
	assert_true(read_until_closed(f, fd, last, sizeof(last)));
	assert_int_equal(vipd_control_n_connections(f->ctl), 0);
	if (json) {
		struct jv *v = json_parse(last);

		if (!v)
			fail_msg("not JSON: %s", last);
		assert_non_null(strstr(json_str(v, "error"),
				       "dropped: this subscriber did not read its events ("));
		assert_int_equal(json_num(v, "status"), VIP_CTL_BUSY);
		json_free(v);
	} else {
		assert_non_null(strstr(last, "error: dropped: this subscriber did not read its events"));
	}
	close(fd);
}

static void test_event_subscriber_never_reads(void **state)
{
	subscriber_never_reads(*state, false);
}

static void test_event_subscriber_never_reads_json(void **state)
{
	subscriber_never_reads(*state, true);
}

/* A subscriber's bound is its own: far below max_output. */
static void test_event_subscriber_bound(void **state)
{
	struct fixture *f = *state;
	char line[1024];
	int fd, n = 0;

	f->cfg.max_subscriber_output = 16 * 1024;
	start(f);
	fd = client(f);
	assert_int_equal(call(f, fd, false, &rep, 1, "events"), VIP_CTL_REPLY);
	memset(line, 'e', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	while (n < 20000 && vipd_control_event(f->ctl, line, NULL) == 1)
		n++;
	/* What the socket took plus at most 16 KiB queued here: not 32 MiB. */
	assert_true(n < 20000);
	assert_int_equal(vipd_control_n_subscribers(f->ctl), 0);
	/* Never read: closed after the grace period all the same. */
	for (int i = 0; i < 150 && vipd_control_n_connections(f->ctl) > 0; i++)
		loop_iterate(f->loop, 10);
	assert_int_equal(vipd_control_n_connections(f->ctl), 0);
	close(fd);
}

/* Commands that change state need root or the admin group; reading does not. */
static void test_authority(void **state)
{
	struct fixture *f = *state;
	struct vipd_control_peer member = { .uid = 1000, .gid = 100, .groups = { GID }, .n_groups = 1 };
	struct jv *v;
	int fd;

	start(f);
	f->next_peer = member;
	fd = client(f);
	assert_int_equal(call(f, fd, false, &rep, 2, "cluster", "info"), VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_OK);
	int calls = f->handler_calls;
	assert_int_equal(call(f, fd, false, &rep, 5, "cluster", "duravip", "move", "198.51.100.1", "n2"),
			 VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_DENIED);
	assert_string_equal(rep.body,
			    "error: permission denied: 'cluster duravip move' changes state: it needs root "
			    "(no Control { admin_group } is set)\n");
	/* config reload too (its handler would have failed with -EIO, status 1). */
	assert_int_equal(call(f, fd, true, &rep, 2, "config", "reload"), VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_DENIED);
	v = parsed(&rep);
	assert_int_equal(json_num(v, "status"), VIP_CTL_DENIED);
	json_free(v);
	assert_int_equal(f->handler_calls, calls);
	/* The connection stays usable for reading. */
	assert_int_equal(call(f, fd, false, &rep, 3, "cluster", "duravip", "show"), VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_OK);

	/* An admin group, set live: its members may; the message names it for others. */
	assert_int_equal(vipd_control_set_admin_group(f->ctl, "vipadm", 5151), 0);
	assert_int_equal(call(f, fd, false, &rep, 5, "cluster", "duravip", "move", "198.51.100.1", "n2"),
			 VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_DENIED);
	assert_non_null(strstr(rep.body, "it needs root or membership in group vipadm"));
	close(fd);
	f->next_peer = (struct vipd_control_peer){ .uid = 1001,
						   .gid = 100,
						   .groups = { GID, 5151 },
						   .n_groups = 2 };
	fd = client(f);
	assert_int_equal(call(f, fd, false, &rep, 5, "cluster", "duravip", "move", "198.51.100.1", "n2"),
			 VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_OK);
	close(fd);
	/* Primary group counts as well; then the group removed again. */
	f->next_peer = (struct vipd_control_peer){ .uid = 1002,
						   .gid = 5151,
						   .groups = { GID },
						   .n_groups = 1 };
	fd = client(f);
	assert_int_equal(call(f, fd, false, &rep, 5, "cluster", "duravip", "move", "198.51.100.1", "n2"),
			 VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_OK);
	assert_int_equal(vipd_control_set_admin_group(f->ctl, NULL, 0), 0);
	assert_int_equal(call(f, fd, false, &rep, 5, "cluster", "duravip", "move", "198.51.100.1", "n2"),
			 VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_DENIED);
	close(fd);
	/* Root always may; so does the daemon's user? No: only root and the group. */
	f->next_peer = (struct vipd_control_peer){ .uid = DAEMON_UID, .gid = GID };
	fd = client(f);
	assert_int_equal(call(f, fd, false, &rep, 5, "cluster", "duravip", "move", "198.51.100.1", "n2"),
			 VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_DENIED);
	close(fd);
	f->next_peer = (struct vipd_control_peer){ .uid = 0, .gid = 0 };
	fd = client(f);
	assert_int_equal(call(f, fd, false, &rep, 5, "cluster", "duravip", "move", "198.51.100.1", "n2"),
			 VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_OK);
	close(fd);
}

static int settle(struct fixture *f)
{
	for (int k = 0; k < 5; k++)
		loop_iterate(f->loop, 5);
	return (int)vipd_control_n_connections(f->ctl);
}

static unsigned first_status(struct fixture *f, int fd)
{
	struct vip_ctl_buf b = { 0 };
	const char *body;
	size_t len;
	unsigned st = 999, flags;

	if (read_frame(f, fd, &b) == VIP_CTL_REPLY)
		assert_int_equal(vip_ctl_reply_decode(b.data, b.len, &st, &flags, &body, &len), 0);
	vip_ctl_buf_free(&b);
	return st;
}

/* Group members (32 `vipctl events`, say) cannot lock root out. */
static void test_root_reserved(void **state)
{
	struct fixture *f = *state;
	int fds[12], n = 0;

	f->cfg.max_connections = 8; /* 4 kept for root */
	f->cfg.max_per_uid = 2;
	start(f);
	/* uid 1000: two, the third refused although there is room. */
	f->next_peer = (struct vipd_control_peer){ .uid = 1000, .gid = GID };
	for (int i = 0; i < 2; i++) {
		fds[n++] = client(f);
		assert_int_equal(call(f, fds[n - 1], false, &rep, 1, "events"), VIP_CTL_REPLY);
	}
	int extra = client(f);
	settle(f);
	assert_int_equal(first_status(f, extra), VIP_CTL_BUSY);
	close(extra);
	/* Two more users fill the non-root slots (4 of 8). */
	f->next_peer = (struct vipd_control_peer){ .uid = 1001, .gid = GID };
	fds[n++] = client(f);
	f->next_peer = (struct vipd_control_peer){ .uid = 1002, .gid = GID };
	fds[n++] = client(f);
	assert_int_equal(settle(f), 4);
	f->next_peer = (struct vipd_control_peer){ .uid = 1003, .gid = GID };
	extra = client(f);
	settle(f);
	assert_int_equal(first_status(f, extra), VIP_CTL_BUSY);
	close(extra);
	/* Root still gets in, up to the last slot. */
	f->next_peer = (struct vipd_control_peer){ .uid = 0, .gid = 0 };
	for (int i = 0; i < 4; i++) {
		fds[n++] = client(f);
		assert_int_equal(call(f, fds[n - 1], false, &rep, 2, "cluster", "info"), VIP_CTL_REPLY);
		assert_int_equal(rep.status, VIP_CTL_OK);
	}
	assert_int_equal(settle(f), 8);
	extra = client(f);
	settle(f);
	assert_int_equal(first_status(f, extra), VIP_CTL_BUSY);
	close(extra);
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

static void test_socket_file(void **state)
{
	struct fixture *f = *state;
	struct vipd_control *other = NULL;
	struct stat st;
	char dir[160];

	snprintf(dir, sizeof(dir), "%s/run", f->dir);
	/* A stale socket (nobody listening) is replaced. */
	assert_int_equal(mkdir(dir, 0700), 0);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, f->path);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	start(f);
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700); /* an existing directory is left alone */
	/* A live server on the path: a second one refuses. */
	assert_int_equal(vipd_control_new(f->loop, &f->cfg, &other), -EADDRINUSE);
	assert_null(other);
	/* Freed: the socket file goes with it. */
	vipd_control_free(f->ctl);
	f->ctl = NULL;
	assert_int_equal(stat(f->path, &st), -1);
	assert_int_equal(errno, ENOENT);
	/* A missing directory is made 0750. */
	assert_int_equal(rmdir(dir), 0);
	start(f);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	/* A regular file in the way is not deleted. */
	vipd_control_free(f->ctl);
	f->ctl = NULL;
	int rf = open(f->path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(rf >= 0);
	close(rf);
	assert_int_equal(vipd_control_new(f->loop, &f->cfg, &other), -EEXIST);
	assert_int_equal(unlink(f->path), 0);
	/* Paths that cannot be socket addresses. */
	char longp[200];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	f->cfg.path = longp;
	assert_int_equal(vipd_control_new(f->loop, &f->cfg, &other), -ENAMETOOLONG);
	f->cfg.path = "relative/control";
	assert_int_equal(vipd_control_new(f->loop, &f->cfg, &other), -EINVAL);
}

static void test_adopt_socketpair(void **state)
{
	struct fixture *f = *state;
	int sp[2];

	assert_int_equal(vipd_control_new_detached(f->loop, &f->cfg, &f->ctl), 0);
	assert_int_equal(vipd_control_fd(f->ctl), -1);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(vipd_control_adopt(f->ctl, sp[0]), 0);
	assert_int_equal(call(f, sp[1], false, &rep, 2, "cluster", "info"), VIP_CTL_REPLY);
	assert_int_equal(rep.status, VIP_CTL_OK);
	close(sp[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dispatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_credentials, setup, teardown),
		cmocka_unit_test(test_peer_from_fd),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_subscriber_never_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_subscriber_never_reads_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_subscriber_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_authority, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_reserved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adopt_socketpair, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

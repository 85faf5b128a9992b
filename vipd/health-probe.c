/* SPDX-License-Identifier: MIT */
/*
 * vipd/health: the three probes (health.h). None blocks the loop: connect
 * is a non-blocking socket watched by the loop with a deadline timer, a
 * command runs through vipd/runner, and pidfile reads a small local file
 * and sends signal 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "health-internal.h"
#include "log.h"

static void connect_close(struct hcheck *c)
{
	if (c->fd >= 0) {
		loop_remove_fd(c->h->loop, c->fd);
		close(c->fd);
		c->fd = -1;
	}
	loop_timer_disarm(c->t_deadline);
}

/* End a connect run: close, then report why (NULL: it passed). */
static void connect_end(struct hcheck *c, const char *why)
{
	char text[384];

	connect_close(c);
	snprintf(text, sizeof(text), "connect %s: %s", c->cfg.target, why ? why : "ok");
	health_result(c, !why, why ? text : NULL);
}

/* The banner so far, printable, for a failure text. */
static const char *banner_text(struct hcheck *c, char *buf, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < c->got && n + 1 < len; i++)
		buf[n++] = c->banner[i] >= 0x20 && c->banner[i] < 0x7f ? c->banner[i] : '?';
	buf[n] = '\0';
	return buf;
}

static void on_connect_fd(struct loop *l, int fd, uint32_t revents, void *data)
{
	struct hcheck *c = data;
	size_t want = c->cfg.expect ? strlen(c->cfg.expect) : 0;
	char buf[2 * HEALTH_EXPECT_MAX + 64];
	int err = 0;
	socklen_t el = sizeof(err);

	(void)l;
	if (!c->connected) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
		if (err)
			return connect_end(c, strerror(err));
		if (!(revents & EPOLLOUT))
			return; /* not yet */
		c->connected = true;
		if (!want)
			return connect_end(c, NULL);
		if (loop_mod_fd(c->h->loop, fd, EPOLLIN) < 0)
			return connect_end(c, "cannot watch the socket");
		return;
	}
	ssize_t n = recv(fd, c->banner + c->got, want - c->got, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0)
		return connect_end(c, strerror(errno));
	if (n == 0) {
		char got[HEALTH_EXPECT_MAX + 1];
		snprintf(buf, sizeof(buf), "closed after \"%s\", expected \"%s\"",
			 banner_text(c, got, sizeof(got)), c->cfg.expect);
		return connect_end(c, buf);
	}
	c->got += (size_t)n;
	if (memcmp(c->banner, c->cfg.expect, c->got) != 0) {
		char got[HEALTH_EXPECT_MAX + 1];
		snprintf(buf, sizeof(buf), "got \"%s\", expected \"%s\"", banner_text(c, got, sizeof(got)),
			 c->cfg.expect);
		return connect_end(c, buf);
	}
	if (c->got == want)
		connect_end(c, NULL);
}

static void on_deadline(struct loop *l, struct loop_timer *t, void *data)
{
	struct hcheck *c = data;
	char buf[64];

	(void)l;
	(void)t;
	snprintf(buf, sizeof(buf), "%s after %u ms", c->connected ? "no banner" : "timed out",
		 c->cfg.timeout_ms);
	connect_end(c, buf);
}

static socklen_t to_sockaddr(const struct vip_addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = a->v6;
		s6->sin6_port = htons(port);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_addr = a->v4;
	s4->sin_port = htons(port);
	return sizeof(*s4);
}

static void probe_connect(struct hcheck *c)
{
	struct sockaddr_storage ss;
	socklen_t sl = to_sockaddr(&c->cfg.addr, c->cfg.port, &ss);
	int r;

	c->connected = false;
	c->got = 0;
	c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return connect_end(c, strerror(errno));
	if (!c->t_deadline) {
		r = loop_timer_new(c->h->loop, on_deadline, c, &c->t_deadline);
		if (r < 0)
			return connect_end(c, strerror(-r));
	}
	if (connect(c->fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS)
		return connect_end(c, strerror(errno));
	r = loop_add_fd(c->h->loop, c->fd, EPOLLOUT, on_connect_fd, c);
	if (r < 0)
		return connect_end(c, strerror(-r));
	loop_timer_arm(c->t_deadline, c->cfg.timeout_ms, 0);
}

/* The process named in the pidfile is alive: kill(pid, 0) works, or says EPERM (it exists). */
static void probe_pidfile(struct hcheck *c)
{
	char buf[32], text[256], *end = NULL;
	int fd = open(c->cfg.target, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	ssize_t n;
	long pid;

	if (fd < 0) {
		snprintf(text, sizeof(text), "pidfile %s: %s", c->cfg.target, strerror(errno));
		return health_result(c, false, text);
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		snprintf(text, sizeof(text), "pidfile %s: %s", c->cfg.target, strerror(errno));
		return health_result(c, false, text);
	}
	buf[n] = '\0';
	errno = 0;
	pid = strtol(buf, &end, 10);
	while (end && (*end == '\n' || *end == ' ' || *end == '\t' || *end == '\r'))
		end++;
	/* never 0 or negative: kill() would address a process group or every process */
	if (errno || end == buf || *end || pid <= 0 || pid > 0x7fffffffL) {
		snprintf(text, sizeof(text), "pidfile %s: holds no process id", c->cfg.target);
		return health_result(c, false, text);
	}
	if (kill((pid_t)pid, 0) == 0 || errno == EPERM)
		return health_result(c, true, NULL);
	snprintf(text, sizeof(text), "pidfile %s: process %ld is not running", c->cfg.target, pid);
	health_result(c, false, text);
}

static void on_command_done(void *data, const struct vipd_runner_result *res)
{
	struct hcheck *c = data;
	char how[160], text[256];

	c->run_id = 0;
	if (vipd_runner_result_ok(res)) {
		if (res->output_len)
			log_debug("Health check %s: %s", c->cfg.name, res->output);
		return health_result(c, true, NULL);
	}
	vipd_runner_result_describe(res, how, sizeof(how));
	if (res->output_len)
		log_info("Health check %s: command %s; its output: %s%s", c->cfg.name, how, res->output,
			 res->output_dropped ? " [...]" : "");
	snprintf(text, sizeof(text), "command %s: %s", c->argv[0], how);
	health_result(c, false, text);
}

static void probe_command(struct hcheck *c)
{
	struct vipd_runner_cmd cmd = {
		.argv = (const char *const *)c->argv,
		.timeout_ms = c->cfg.timeout_ms,
		.output_max = HEALTH_OUTPUT_MAX,
	};
	char text[256];
	int r = c->h->runner && c->argv
			? vipd_runner_start(c->h->runner, &cmd, on_command_done, c, &c->run_id)
			: -EINVAL;

	if (r < 0) {
		snprintf(text, sizeof(text), "command %s: cannot start: %s", c->cfg.target, strerror(-r));
		health_result(c, false, text);
	}
}

void health_probe_start(struct hcheck *c)
{
	switch (c->cfg.kind) {
	case VIPD_CHECK_CONNECT:
		probe_connect(c);
		break;
	case VIPD_CHECK_PIDFILE:
		probe_pidfile(c);
		break;
	case VIPD_CHECK_COMMAND:
		probe_command(c);
		break;
	default:
		health_result(c, false, "unknown kind of check");
		break;
	}
}

void health_probe_stop(struct hcheck *c)
{
	connect_close(c);
	if (c->run_id && c->h->runner)
		vipd_runner_cancel(c->h->runner, c->run_id);
	c->run_id = 0;
	c->running = false;
}

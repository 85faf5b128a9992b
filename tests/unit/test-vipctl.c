/* SPDX-License-Identifier: MIT */
/*
 * vipctl end to end against an in-process control server: the real binary
 * (path from $VIPD_BUILDDIR) is run while this process turns the loop.
 * Checks output, exit statuses, local usage errors, denial and the event
 * stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "control.h"
#include "json-check.h"

struct fixture {
	struct loop *loop;
	struct vipd_control *ctl;
	char dir[64];
	char path[128];
	char vipctl[512];
	bool deny;
	int calls;
	const char *event_after_subscribe; /* pushed once a subscriber exists */
	uid_t run_as;                      /* run vipctl as this user (0: as we are) */
	struct vipd_control_config cfg;
};

struct run {
	int status; /* exit status, or 128 + signal */
	char out[8192];
	char err[8192];
};

struct info {
	const char *backend;
	int members;
};

static void info_json(struct vip_json *w, const void *data)
{
	const struct info *i = data;

	vip_json_object_begin(w, NULL);
	vip_json_string(w, "backend", i->backend);
	vip_json_int(w, "members", i->members);
	vip_json_object_end(w);
}

static void info_text(struct vip_ctl_buf *o, const void *data)
{
	const struct info *i = data;

	vip_ctl_buf_printf(o, "Backend: %s\nMembers: %d\n", i->backend, i->members);
}

static int h_info(struct vipd_control_call *call)
{
	static const struct vipd_control_view view = { info_json, info_text };
	struct fixture *f = call->userdata;
	struct info i = { "solo", 1 };

	f->calls++;
	return vipd_control_reply(call, &view, &i);
}

static void move_json(struct vip_json *w, const void *data)
{
	const char *const *a = data;

	vip_json_object_begin(w, NULL);
	vip_json_string(w, "address", a[0]);
	vip_json_string(w, "node", a[1]);
	vip_json_object_end(w);
}

static void move_text(struct vip_ctl_buf *o, const void *data)
{
	const char *const *a = data;

	vip_ctl_buf_printf(o, "moved %s to %s\n", a[0], a[1]);
}

static int h_move(struct vipd_control_call *call)
{
	static const struct vipd_control_view view = { move_json, move_text };

	if (strchr(call->args[1], '"'))
		return vipd_control_fail(call, 1, "cannot move to '%s': No such device", call->args[1]);
	return vipd_control_reply(call, &view, call->args);
}

static int h_reload(struct vipd_control_call *call)
{
	return vipd_control_fail(call, 1, "Reconfigure failed\nx.conf:3:1: error: bad");
}

static void sub_json(struct vip_json *w, const void *data _unused_)
{
	vip_json_object_begin(w, NULL);
	vip_json_string(w, "events", "subscribed");
	vip_json_object_end(w);
}

static void sub_text(struct vip_ctl_buf *o _unused_, const void *data _unused_)
{
}

static int h_events(struct vipd_control_call *call)
{
	static const struct vipd_control_view view = { sub_json, sub_text };
	int r = vipd_control_subscribe(call);

	return r < 0 ? r : vipd_control_reply(call, &view, NULL);
}

static const vipd_control_fn table[_VIP_CTL_CMD_MAX] = {
	[VIP_CTL_CMD_INFO] = h_info,
	[VIP_CTL_CMD_DURAVIP_MOVE] = h_move,
	[VIP_CTL_CMD_CONFIG_RELOAD] = h_reload,
	[VIP_CTL_CMD_EVENTS] = h_events,
};

static int peer_hook(int fd, struct vipd_control_peer *ret, void *userdata)
{
	struct fixture *f = userdata;
	int r = vipd_control_peer_from_fd(fd, ret);

	if (r >= 0 && f->deny)
		*ret = (struct vipd_control_peer){ .pid = ret->pid, .uid = 1000, .gid = 1000 };
	return r;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *bd = getenv("VIPD_BUILDDIR");

	if (!f || !bd)
		return -1;
	snprintf(f->vipctl, sizeof(f->vipctl), "%s/tools/vipctl", bd);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-vipctl-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/control", f->dir);
	f->cfg = (struct vipd_control_config){
		.path = f->path,
		.daemon_uid = 4243,
		.gid = 4242,
		.group_name = "vipgrp",
		.handlers = table,
		.userdata = f,
		.get_peer = peer_hook,
	};
	if (loop_new(&f->loop) < 0 || vipd_control_new(f->loop, &f->cfg, &f->ctl) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vipd_control_free(f->ctl);
	loop_free(f->loop);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void drain(int fd, char *buf, size_t cap, size_t *len)
{
	ssize_t n;

	while (*len + 1 < cap && (n = read(fd, buf + *len, cap - 1 - *len)) > 0)
		*len += (size_t)n;
	buf[*len] = '\0';
}

/* Run vipctl with args (NULL-terminated) while turning the loop; bounded to 10 s. */
static void run_vipctl(struct fixture *f, struct run *r, ...)
{
	const char *argv[16] = { f->vipctl };
	int out[2], err[2], st = 0, n = 1;
	size_t lo = 0, le = 0;
	va_list ap;
	pid_t pid;

	va_start(ap, r);
	while (n < 15 && (argv[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	assert_int_equal(pipe2(out, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(pipe2(err, O_CLOEXEC | O_NONBLOCK), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (f->run_as && (setgroups(0, NULL) < 0 || setresgid(f->run_as, f->run_as, f->run_as) < 0 ||
				  setresuid(f->run_as, f->run_as, f->run_as) < 0))
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	bool pushed = false;
	for (int i = 0; i < 1000; i++) {
		loop_iterate(f->loop, 10);
		drain(out[0], r->out, sizeof(r->out), &lo);
		drain(err[0], r->err, sizeof(r->err), &le);
		if (f->event_after_subscribe && !pushed && vipd_control_n_subscribers(f->ctl) > 0) {
			assert_int_equal(vipd_control_event(f->ctl, f->event_after_subscribe,
							    f->event_after_subscribe),
					 1);
			pushed = true;
		}
		/* The stream ends when "vipd" goes: drop every connection once the event is out. */
		if (pushed && f->ctl && strstr(r->out, f->event_after_subscribe)) {
			vipd_control_free(f->ctl);
			f->ctl = NULL;
		}
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
	}
	if (waitpid(pid, &st, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		fail_msg("vipctl did not finish");
	}
	drain(out[0], r->out, sizeof(r->out), &lo);
	drain(err[0], r->err, sizeof(r->err), &le);
	close(out[0]);
	close(err[0]);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static struct run r;

/* A new server on the same path (run_vipctl frees it to end an event stream). */
static void teardown_ctl_keep(struct fixture *f)
{
	vipd_control_free(f->ctl);
	assert_int_equal(vipd_control_new(f->loop, &f->cfg, &f->ctl), 0);
}

/* out is exactly one JSON document {"error": msg, "status": status}. */
static void expect_error(const char *out, unsigned status, const char *msg)
{
	struct jv *v = json_parse(out);

	if (!v)
		fail_msg("not JSON: %s", out);
	assert_string_equal(json_str(v, "error"), msg);
	assert_int_equal(json_num(v, "status"), status);
	json_free(v);
}

static void test_commands(void **state)
{
	struct fixture *f = *state;

	run_vipctl(f, &r, "-s", f->path, "cluster", "info", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "Backend: solo\nMembers: 1\n");
	run_vipctl(f, &r, "-s", f->path, "cluster", "info", "--json", NULL);
	assert_int_equal(r.status, 0);
	struct jv *v = json_parse(r.out);
	assert_non_null(v);
	assert_string_equal(json_str(v, "backend"), "solo");
	assert_int_equal(json_num(v, "members"), 1);
	json_free(v);
	run_vipctl(f, &r, "--socket", f->path, "cluster", "duravip", "move", "198.51.100.4", "node-2", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "moved 198.51.100.4 to node-2\n");
	/* A failing command: status and text come from the daemon. */
	run_vipctl(f, &r, "-s", f->path, "config", "reload", NULL);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "Reconfigure failed"));
	/* A command vipctl knows and this daemon does not: the daemon's usage error. */
	run_vipctl(f, &r, "-s", f->path, "metrics", NULL);
	assert_int_equal(r.status, VIP_CTL_USAGE);
	assert_non_null(strstr(r.err, "unknown command 'metrics'"));
	assert_int_equal(f->calls, 2);
	/* Under --json every failure is one JSON document on stdout. */
	run_vipctl(f, &r, "-s", f->path, "--json", "metrics", NULL);
	assert_int_equal(r.status, VIP_CTL_USAGE);
	expect_error(r.out, VIP_CTL_USAGE, "unknown command 'metrics'; try 'help'");
	run_vipctl(f, &r, "-s", f->path, "--json", "config", "reload", NULL);
	assert_int_equal(r.status, 1);
	expect_error(r.out, 1, "Reconfigure failed\nx.conf:3:1: error: bad");
	run_vipctl(f, &r, "-s", f->path, "--json", "cluster", "duravip", "move", "203.0.113.51", "a\"b\\c",
		   NULL);
	assert_int_equal(r.status, 1);
	expect_error(r.out, 1, "cannot move to 'a\"b\\c': No such device");
	run_vipctl(f, &r, "-s", f->path, "--json", "cluster", "duravip", "move", "a\"b", "c\\d", NULL);
	assert_int_equal(r.status, 0);
	v = json_parse(r.out);
	assert_non_null(v);
	assert_string_equal(json_str(v, "address"), "a\"b");
	assert_string_equal(json_str(v, "node"), "c\\d");
	json_free(v);
}

static void test_local_errors(void **state)
{
	struct fixture *f = *state;

	/* Caught before connecting: the daemon sees nothing. */
	run_vipctl(f, &r, "-s", f->path, "cluster", "duravip", "move", "198.51.100.4", NULL);
	assert_int_equal(r.status, VIP_CTL_USAGE);
	assert_non_null(strstr(r.err, "usage: vipctl cluster duravip move <ip> <node>"));
	run_vipctl(f, &r, "-s", f->path, "frobnicate", NULL);
	assert_int_equal(r.status, VIP_CTL_USAGE);
	assert_non_null(strstr(r.err, "unknown command 'frobnicate'"));
	run_vipctl(f, &r, "-s", f->path, "--json", "cluster", "duravip", "move", "198.51.100.4", NULL);
	assert_int_equal(r.status, VIP_CTL_USAGE);
	expect_error(r.out, VIP_CTL_USAGE, "usage: cluster duravip move <ip> <node>");
	run_vipctl(f, &r, "-s", f->path, "--json", "frobnicate", NULL);
	expect_error(r.out, VIP_CTL_USAGE, "unknown command 'frobnicate'; try 'vipctl help'");
	/* help is the shared table, with each command's authority. */
	run_vipctl(f, &r, "help", NULL);
	assert_int_equal(r.status, 0);
	for (size_t i = 0; i < _VIP_CTL_CMD_MAX; i++) {
		char line[200];
		const struct vip_ctl_command *c = &vip_ctl_commands[i];
		snprintf(line, sizeof(line), "%s%s%s", c->words, c->args ? " " : "", c->args ? c->args : "");
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "%*s%-14s %s\n",
			 (int)(37 - strlen(line)), "", vip_ctl_authority_to_string(c->authority), c->help);
		assert_non_null(strstr(r.out, line));
	}
	run_vipctl(f, &r, "--json", "help", NULL);
	assert_int_equal(r.status, 0);
	struct jv *v = json_parse(r.out);
	assert_non_null(v);
	assert_int_equal(json_len(v, "commands"), _VIP_CTL_CMD_MAX);
	assert_string_equal(json_str(v, "commands.3.command"), "cluster duravip announce view");
	assert_string_equal(json_str(v, "commands.3.authority"), "changes state");
	json_free(v);
	assert_int_equal(vipd_control_n_connections(f->ctl), 0);
	assert_int_equal(f->calls, 0);
	/* No daemon at that path. */
	char missing[200];
	snprintf(missing, sizeof(missing), "%s/nothing", f->dir);
	run_vipctl(f, &r, "-s", missing, "cluster", "info", NULL);
	assert_int_equal(r.status, 69);
	assert_non_null(strstr(r.err, "is vipd running?"));
	run_vipctl(f, &r, "-s", missing, "--json", "cluster", "info", NULL);
	assert_int_equal(r.status, 69);
	struct jv *e = json_parse(r.out);
	assert_non_null(e);
	assert_non_null(strstr(json_str(e, "error"), "is vipd running?"));
	json_free(e);
}

static void test_denied(void **state)
{
	struct fixture *f = *state;

	f->deny = true;
	run_vipctl(f, &r, "-s", f->path, "cluster", "info", NULL);
	assert_int_equal(r.status, VIP_CTL_DENIED);
	assert_non_null(strstr(r.err, "permission denied: you must be root, or in group vipgrp"));
	assert_int_equal(f->calls, 0);
	/* The refusal comes before vipd reads the request, as text: vipctl --json makes it JSON. */
	run_vipctl(f, &r, "-s", f->path, "--json", "cluster", "info", NULL);
	assert_int_equal(r.status, VIP_CTL_DENIED);
	expect_error(r.out, VIP_CTL_DENIED, "permission denied: you must be root, or in group vipgrp");
}

/*
 * The file system refuses before vipd is asked: a user outside the socket's
 * group cannot connect (mode 0660). Needs root to become that user.
 */
static void test_fs_denied(void **state)
{
	struct fixture *f = *state;
	struct group *g;

	if (geteuid() != 0)
		skip();
	assert_int_equal(chmod(f->dir, 0755), 0);
	f->run_as = 65534;
	run_vipctl(f, &r, "-s", f->path, "cluster", "info", NULL);
	assert_int_equal(r.status, 69);
	g = getgrgid(getegid());
	assert_non_null(g);
	char want[160];
	snprintf(want, sizeof(want), "permission denied: you must be root, or in group %s\n", g->gr_name);
	assert_non_null(strstr(r.err, want));
	assert_int_equal(f->calls, 0);
}

static void test_events(void **state)
{
	struct fixture *f = *state;

	f->event_after_subscribe = "acquired 198.51.100.4 on veth0";
	run_vipctl(f, &r, "-s", f->path, "events", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "acquired 198.51.100.4 on veth0\n");
	/* --json: the subscription's reply, then one JSON object per event. */
	f->event_after_subscribe = "{\"event\":\"acquired\",\"address\":\"198.51.100.4\"}";
	teardown_ctl_keep(f);
	run_vipctl(f, &r, "-s", f->path, "--json", "events", NULL);
	assert_int_equal(r.status, 0);
	char *nl = strchr(r.out, '\n');
	assert_non_null(nl);
	*nl = '\0';
	struct jv *v = json_parse(r.out);
	assert_non_null(v);
	assert_string_equal(json_str(v, "events"), "subscribed");
	json_free(v);
	v = json_parse(nl + 1);
	assert_non_null(v);
	assert_string_equal(json_str(v, "event"), "acquired");
	json_free(v);
	assert_non_null(strstr(r.err, "vipd ended the event stream"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_denied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fs_denied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

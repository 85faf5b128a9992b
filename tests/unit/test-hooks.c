/* SPDX-License-Identifier: MIT */
/*
 * vipd/hooks on the real loop and runner (/bin/sh hooks writing to a
 * file): nothing is started inside the call that raises an event; one run
 * at a time per address, in order, addresses side by side; a failing and a
 * hung hook are counted and the queue goes on; a full queue drops and
 * counts; a reload without Notify drops what waits.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hooks.h"
#include "log.h"

struct fx {
	struct loop *l;
	struct vipd_runner *r;
	struct vipd_hooks *h;
	char out[64];
	char cmd[512];
	struct vipd_notify_conf nc;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	log_set_level(LOG_CRIT);
	assert_int_equal(loop_new(&f->l), 0);
	assert_int_equal(vipd_runner_new(f->l, &f->r), 0);
	snprintf(f->out, sizeof(f->out), "/tmp/test-hooks-XXXXXX");
	int fd = mkstemp(f->out);
	assert_true(fd >= 0);
	close(fd);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vipd_hooks_free(f->h);
	vipd_runner_free(f->r);
	loop_free(f->l);
	unlink(f->out);
	free(f);
	return 0;
}

/* A hook: the shell script body gets the event as "$@". */
static void make(struct fx *f, const char *body, uint32_t timeout_ms)
{
	snprintf(f->cmd, sizeof(f->cmd), "/bin/sh -c '%s' hook", body);
	f->nc = (struct vipd_notify_conf){ .command = f->cmd, .timeout_ms = timeout_ms };
	assert_int_equal(vipd_hooks_new(f->l, f->r, &f->nc, &f->h), 0);
}

static struct vip_addr A(const char *s) {
	struct vip_addr a;

	assert_int_equal(vip_addr_from_string(s, &a), 0);
	return a;
}

/* Turn the loop until every event ran (bounded); returns the most runs seen at once. */
static uint64_t
drain(struct fx *f, uint64_t max_ms)
{
	uint64_t t0 = loop_now_ms(), most = 0;
	struct vipd_hooks_stats st;

	for (;;) {
		vipd_hooks_get_stats(f->h, &st);
		if (st.running > most)
			most = st.running;
		if (!st.queued && !st.running)
			return most;
		if (loop_now_ms() - t0 > max_ms)
			fail_msg("hooks still busy after %llu ms", (unsigned long long)max_ms);
		loop_iterate(f->l, 10);
	}
}

static char *slurp(const char *path)
{
	static char buf[8192];
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void test_order_one_at_a_time(void **state)
{
	struct fx *f = *state;
	char body[256];
	struct vip_addr a = A("198.51.100.7"), b = A("2001:db8::7");

	snprintf(body, sizeof(body), "echo start $* >> %s; sleep 0.1; echo end $* >> %s", f->out, f->out);
	make(f, body, 2000);
	vipd_hooks_address(f->h, true, &a, "eth0");
	vipd_hooks_address(f->h, false, &a, "eth0");
	vipd_hooks_address(f->h, true, &b, "eth1");
	vipd_hooks_node(f->h, "standby");
	vipd_hooks_address(f->h, true, &a, "eth0");
	/* nothing started inside those calls: the engine that raised them goes on at once */
	assert_int_equal(vipd_runner_count(f->r), 0);
	uint64_t most = drain(f, 5000);
	const char *out = slurp(f->out);
	/* a's three runs in order, never overlapping: its lines alone are start, end, start, end, ... */
	static const char seq[] = "start acquire 198.51.100.7 eth0\nend acquire 198.51.100.7 eth0\n"
				  "start release 198.51.100.7 eth0\nend release 198.51.100.7 eth0\n"
				  "start acquire 198.51.100.7 eth0\nend acquire 198.51.100.7 eth0\n";
	char mine[1024] = "";
	for (const char *line = out; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line + 1) : strlen(line);
		if (memmem(line, len, "198.51.100.7", 12))
			strncat(mine, line, len);
		line += len;
	}
	assert_string_equal(mine, seq);
	assert_non_null(strstr(out, "start acquire 2001:db8::7 eth1\n"));
	assert_non_null(strstr(out, "end node standby\n"));
	/* side by side: b and the node ran beside a's first run (no wall-clock bound: the
	 * machine may be loaded; a queue shared by all would never show more than one) */
	assert_int_equal(most, 3);
	struct vipd_hooks_stats st;
	vipd_hooks_get_stats(f->h, &st);
	assert_int_equal(st.runs, 5);
	assert_int_equal(st.failures, 0);
	assert_int_equal(st.dropped, 0);
}

static void test_failure_and_timeout(void **state)
{
	struct fx *f = *state;
	char body[256];
	struct vip_addr a = A("198.51.100.8");

	/* release fails (exit 1); a "node" run hangs past the timeout; acquire works */
	snprintf(body, sizeof(body),
		 "case $1 in release) exit 1;; node) exec sleep 5;; esac; echo ok $* >> %s", f->out);
	make(f, body, 200);
	vipd_hooks_address(f->h, false, &a, "eth0");
	vipd_hooks_address(f->h, true, &a, "eth0");
	vipd_hooks_node(f->h, "unhealthy");
	vipd_hooks_node(f->h, "healthy");
	uint64_t t0 = loop_now_ms();
	drain(f, 3000);
	/* the hung one was killed at its 0.2 s timeout: far less than its own 5 s (the margin
	 * is for a loaded machine) */
	assert_true(loop_now_ms() - t0 < 4500);
	struct vipd_hooks_stats st;
	vipd_hooks_get_stats(f->h, &st);
	assert_int_equal(st.runs, 4);
	assert_int_equal(st.failures, 3);
	const char *out = slurp(f->out);
	assert_string_equal(out, "ok acquire 198.51.100.8 eth0\n"); /* the queue went on after the failure */
	/* a program that does not exist: counted as a failure too */
	vipd_hooks_free(f->h);
	f->nc.command = (char *)"/nonexistent/hook";
	assert_int_equal(vipd_hooks_new(f->l, f->r, &f->nc, &f->h), 0);
	vipd_hooks_node(f->h, "active");
	drain(f, 2000);
	vipd_hooks_get_stats(f->h, &st);
	assert_int_equal(st.runs, 1);
	assert_int_equal(st.failures, 1);
}

static void test_queue_bound_and_reload(void **state)
{
	struct fx *f = *state;
	struct vip_addr a = A("198.51.100.9");
	struct vipd_hooks_stats st;

	make(f, "sleep 0.3", 2000);
	for (int i = 0; i < VIPD_HOOKS_QUEUE_MAX + 4; i++)
		vipd_hooks_address(f->h, i % 2 == 0, &a, "eth0");
	vipd_hooks_get_stats(f->h, &st);
	assert_int_equal(st.dropped, 4);
	assert_int_equal(st.queued, VIPD_HOOKS_QUEUE_MAX);
	loop_iterate(f->l, 50); /* the first starts */
	vipd_hooks_get_stats(f->h, &st);
	assert_int_equal(st.running, 1);
	assert_int_equal(st.queued, VIPD_HOOKS_QUEUE_MAX - 1);
	/* Notify removed: what waits is dropped, the run in progress finishes */
	struct vipd_notify_conf none = { 0 };
	assert_int_equal(vipd_hooks_reconfigure(f->h, &none), 0);
	vipd_hooks_get_stats(f->h, &st);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.dropped, 4 + VIPD_HOOKS_QUEUE_MAX - 1);
	drain(f, 2000);
	vipd_hooks_get_stats(f->h, &st);
	assert_int_equal(st.runs, 1);
	/* and nothing is queued without a command */
	vipd_hooks_node(f->h, "standby");
	vipd_hooks_get_stats(f->h, &st);
	assert_int_equal(st.queued, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_one_at_a_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_and_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_bound_and_reload, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

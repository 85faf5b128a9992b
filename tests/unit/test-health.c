/* SPDX-License-Identifier: MIT */
/*
 * vipd/health on the real loop and runner: fall and rise on a TCP listener
 * on 127.0.0.1 that goes away and comes back (with the time it takes), the
 * banner (expect), a connect timeout, pidfile (alive, EPERM, dead, junk),
 * commands (exit 0, exit 1, timeout, a missing program), initial =
 * healthy, and reload (add, change, remove).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "health.h"
#include "log.h"

struct fx {
	struct loop *l;
	struct vipd_runner *r;
	struct vipd_health *h;
	struct vipd_config cfg;
	struct vipd_health_check k[4];
	int lfd; /* the listener, -1 when closed */
	uint16_t port;
	const char *banner; /* what the listener writes to each connection, NULL: nothing */
	int changes;        /* callbacks */
	char reason[512];
	bool healthy;
	char pidfile[64];
};

static void on_change(void *data, const struct vipd_health_change *ch)
{
	struct fx *f = data;

	f->changes++;
	f->healthy = ch->node_healthy;
	snprintf(f->reason, sizeof(f->reason), "%s", ch->reason);
}

static void on_accept(struct loop *l, int fd, uint32_t revents, void *data)
{
	struct fx *f = data;
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

	(void)l;
	(void)revents;
	if (c < 0)
		return;
	if (f->banner)
		assert_true(write(c, f->banner, strlen(f->banner)) >= 0);
	close(c);
}

/* Listen on 127.0.0.1 (the port stays the same across restarts). accept: serve connections in the loop. */
static void listen_up(struct fx *f, bool accept_them)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(f->port) };
	socklen_t sl = sizeof(sa);
	int one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 16), 0);
	assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sa, &sl), 0);
	f->port = ntohs(sa.sin_port);
	if (accept_them)
		assert_int_equal(loop_add_fd(f->l, f->lfd, EPOLLIN, on_accept, f), 0);
}

static void listen_down(struct fx *f)
{
	loop_remove_fd(f->l, f->lfd);
	close(f->lfd);
	f->lfd = -1;
}

static void set_connect(struct fx *f, struct vipd_health_check *k, const char *name, const char *expect)
{
	static char target[4][32];
	size_t i = (size_t)(k - f->k);

	snprintf(target[i], sizeof(target[i]), "127.0.0.1:%u", f->port);
	*k = (struct vipd_health_check){ .name = (char *)name,
					 .kind = VIPD_CHECK_CONNECT,
					 .target = target[i],
					 .port = f->port,
					 .expect = (char *)expect,
					 .interval_ms = 100,
					 .timeout_ms = 200,
					 .fall = 3,
					 .rise = 2 };
	assert_int_equal(vip_addr_from_string("127.0.0.1", &k->addr), 0);
}

static void set_other(struct vipd_health_check *k, const char *name, enum vipd_check_kind kind,
		      const char *target)
{
	*k = (struct vipd_health_check){ .name = (char *)name,
					 .kind = kind,
					 .target = (char *)target,
					 .interval_ms = 100,
					 .timeout_ms = 300,
					 .fall = 2,
					 .rise = 1 };
}

static void start(struct fx *f, size_t n)
{
	f->cfg.checks = f->k;
	f->cfg.n_checks = n;
	assert_int_equal(vipd_health_new(f->l, f->r, &f->cfg, on_change, f, &f->h), 0);
	f->healthy = vipd_health_healthy(f->h);
}

/* Turn the loop until the node's health is want (or fail after max_ms); the time it took. */
static uint64_t until(struct fx *f, bool want, uint64_t max_ms)
{
	uint64_t t0 = loop_now_ms();

	while (vipd_health_healthy(f->h) != want) {
		if (loop_now_ms() - t0 > max_ms)
			fail_msg("still %s after %llu ms: %s", want ? "unhealthy" : "healthy",
				 (unsigned long long)max_ms, vipd_health_reason(f->h));
		loop_iterate(f->l, 20);
	}
	assert_int_equal(f->healthy, want); /* the callback said so */
	return loop_now_ms() - t0;
}

/* Turn the loop for ms. */
static void spin(struct fx *f, uint64_t ms)
{
	uint64_t t0 = loop_now_ms();

	while (loop_now_ms() - t0 < ms)
		loop_iterate(f->l, 10);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	log_set_level(LOG_ERR);
	f->lfd = -1;
	assert_int_equal(loop_new(&f->l), 0);
	assert_int_equal(vipd_runner_new(f->l, &f->r), 0);
	snprintf(f->pidfile, sizeof(f->pidfile), "/tmp/test-health-XXXXXX");
	int fd = mkstemp(f->pidfile);
	assert_true(fd >= 0);
	close(fd);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vipd_health_free(f->h);
	vipd_runner_free(f->r);
	if (f->lfd >= 0)
		listen_down(f);
	loop_free(f->l);
	unlink(f->pidfile);
	free(f);
	return 0;
}

static void test_connect_fall_rise(void **state)
{
	struct fx *f = *state;
	char want[128];

	listen_up(f, true);
	set_connect(f, &f->k[0], "mta", NULL);
	start(f, 1);
	/* starts unhealthy: not passed rise (2) times yet */
	assert_false(vipd_health_healthy(f->h));
	assert_string_equal(vipd_health_reason(f->h), "mta (starting: passed 0 of 2)");
	uint64_t t = until(f, true, 1000);
	assert_true(t >= 90 && t < 600); /* the first run at once, the second one interval later */
	assert_string_equal(vipd_health_reason(f->h), "");
	/* the listener goes: fall (3) failures, 2 intervals after the first */
	listen_down(f);
	t = until(f, false, 1500);
	printf("listener down -> unhealthy in %llu ms (fall 3 x interval 100 ms)\n", (unsigned long long)t);
	assert_true(t <= 3 * 100 + 100);
	snprintf(want, sizeof(want), "mta (connect 127.0.0.1:%u: Connection refused, 3 of 3)", f->port);
	assert_string_equal(vipd_health_reason(f->h), want);
	/* still failing: the count stays at fall */
	spin(f, 350);
	assert_string_equal(vipd_health_reason(f->h), want);
	/* back: rise (2) passes */
	listen_up(f, true);
	t = until(f, true, 1500);
	printf("listener up -> healthy in %llu ms (rise 2 x interval 100 ms)\n", (unsigned long long)t);
	assert_true(t <= 2 * 100 + 100);
	struct vipd_health_info hi;
	assert_int_equal(vipd_health_get(f->h, 0, &hi), 0);
	assert_true(hi.healthy);
	assert_true(hi.runs >= 7);
	assert_true(hi.failures >= 3);
	assert_int_equal(vipd_health_get(f->h, 1, &hi), -ERANGE);
}

static void test_connect_expect_and_timeout(void **state)
{
	struct fx *f = *state;
	char want[160];

	f->banner = "220 mx.example ESMTP\r\n";
	listen_up(f, true);
	set_connect(f, &f->k[0], "smtp", "220 ");
	start(f, 1);
	until(f, true, 1000);
	/* a server that answers otherwise */
	f->banner = "554 go away\r\n";
	until(f, false, 1500);
	snprintf(want, sizeof(want), "smtp (connect 127.0.0.1:%u: got \"554 \", expected \"220 \", 3 of 3)",
		 f->port);
	assert_string_equal(vipd_health_reason(f->h), want);
	/* one that accepts (the kernel does) but never says anything: the timeout */
	listen_down(f);
	listen_up(f, false);
	spin(f, 3 * 300 + 200);
	snprintf(want, sizeof(want), "smtp (connect 127.0.0.1:%u: no banner after 200 ms, 3 of 3)", f->port);
	assert_string_equal(vipd_health_reason(f->h), want);
	/* one that closes at once */
	listen_down(f);
	f->banner = NULL;
	listen_up(f, true);
	spin(f, 3 * 100 + 200);
	snprintf(want, sizeof(want),
		 "smtp (connect 127.0.0.1:%u: closed after \"\", expected \"220 \", 3 of 3)", f->port);
	assert_string_equal(vipd_health_reason(f->h), want);
}

static void write_pidfile(struct fx *f, const char *text)
{
	FILE *fp = fopen(f->pidfile, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void test_pidfile(void **state)
{
	struct fx *f = *state;
	char buf[64], want[160];

	snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	write_pidfile(f, buf);
	set_other(&f->k[0], "ec", VIPD_CHECK_PIDFILE, f->pidfile);
	start(f, 1);
	until(f, true, 1000);
	/* pid 1: alive, whether we may signal it (root) or not (EPERM) */
	write_pidfile(f, "1");
	spin(f, 300);
	assert_true(vipd_health_healthy(f->h));
	/* a process that is gone */
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	snprintf(buf, sizeof(buf), "%d", (int)child);
	write_pidfile(f, buf);
	until(f, false, 1000);
	snprintf(want, sizeof(want), "ec (pidfile %s: process %d is not running, 2 of 2)", f->pidfile,
		 (int)child);
	assert_string_equal(vipd_health_reason(f->h), want);
	/* never a process group or every process: 0 and -1 hold no pid; nor junk */
	static const char *const junk[] = { "0", "-1", "12abc", "", "99999999999" };
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		write_pidfile(f, junk[i]);
		spin(f, 250);
		snprintf(want, sizeof(want), "ec (pidfile %s: holds no process id, 2 of 2)", f->pidfile);
		assert_string_equal(vipd_health_reason(f->h), want);
	}
	unlink(f->pidfile);
	spin(f, 250);
	snprintf(want, sizeof(want), "ec (pidfile %s: No such file or directory, 2 of 2)", f->pidfile);
	assert_string_equal(vipd_health_reason(f->h), want);
}

static void test_command(void **state)
{
	struct fx *f = *state;

	set_other(&f->k[0], "t", VIPD_CHECK_COMMAND, "/bin/sh -c 'exit 0'");
	set_other(&f->k[1], "f", VIPD_CHECK_COMMAND, "/bin/sh -c 'echo queue too long; exit 3'");
	set_other(&f->k[2], "slow", VIPD_CHECK_COMMAND, "/bin/sleep 5");
	set_other(&f->k[3], "missing", VIPD_CHECK_COMMAND, "/nonexistent/check --x");
	f->k[0].initial_healthy = true;
	start(f, 4);
	assert_false(vipd_health_healthy(f->h)); /* three start unhealthy */
	spin(f, 1000);
	struct vipd_health_info hi;
	assert_int_equal(vipd_health_get(f->h, 0, &hi), 0);
	assert_true(hi.healthy);
	assert_int_equal(hi.failures, 0);
	assert_true(hi.runs >= 5);
	assert_int_equal(vipd_health_get(f->h, 1, &hi), 0);
	assert_false(hi.healthy);
	assert_string_equal(hi.last_failure, "command /bin/sh: exited with status 3");
	assert_int_equal(vipd_health_get(f->h, 2, &hi), 0);
	assert_false(hi.healthy);
	if (!strstr(hi.last_failure, "command /bin/sleep: timed out after 3"))
		fail_msg("%s", hi.last_failure);
	assert_true(hi.runs >= 2 && hi.runs <= 4); /* never overlapping: at most one per timeout */
	assert_int_equal(vipd_health_get(f->h, 3, &hi), 0);
	assert_non_null(strstr(hi.last_failure, "command /nonexistent/check: could not start"));
	assert_non_null(strstr(vipd_health_reason(f->h),
			       "f (command /bin/sh: exited with status 3, 2 of 2), slow ("));
}

static void test_reload(void **state)
{
	struct fx *f = *state;

	listen_up(f, true);
	set_connect(f, &f->k[0], "mta", NULL);
	set_other(&f->k[1], "bad", VIPD_CHECK_COMMAND, "/bin/false");
	start(f, 2);
	spin(f, 500);
	assert_false(vipd_health_healthy(f->h));
	assert_non_null(strstr(vipd_health_reason(f->h), "bad (command /bin/false: exited with status 1"));
	/* remove the failing one: healthy at once, by the reload alone */
	int before = f->changes;
	f->cfg.n_checks = 1;
	assert_int_equal(vipd_health_reconfigure(f->h, &f->cfg), 0);
	assert_true(vipd_health_healthy(f->h));
	assert_true(f->changes > before && f->healthy);
	/* change the kept one (fall 5): it keeps its state */
	f->k[0].fall = 5;
	assert_int_equal(vipd_health_reconfigure(f->h, &f->cfg), 0);
	assert_true(vipd_health_healthy(f->h));
	listen_down(f);
	uint64_t t = until(f, false, 2000);
	assert_true(t >= 4 * 100 - 50); /* five failures now */
	assert_non_null(strstr(vipd_health_reason(f->h), ", 5 of 5)"));
	/* add a new check: it starts in its initial state */
	listen_up(f, true);
	until(f, true, 1500);
	set_other(&f->k[1], "new", VIPD_CHECK_COMMAND, "/bin/true");
	f->cfg.n_checks = 2;
	assert_int_equal(vipd_health_reconfigure(f->h, &f->cfg), 0);
	assert_false(vipd_health_healthy(f->h));
	assert_string_equal(vipd_health_reason(f->h), "new (starting: passed 0 of 1)");
	until(f, true, 1000);
	assert_int_equal(vipd_health_n(f->h), 2);
	/* none at all: healthy */
	f->cfg.n_checks = 0;
	assert_int_equal(vipd_health_reconfigure(f->h, &f->cfg), 0);
	assert_true(vipd_health_healthy(f->h));
	assert_int_equal(vipd_health_n(f->h), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_connect_fall_rise, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect_expect_and_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pidfile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
/*
 * vipd/reaper with real processes: a clean stop never flushes; the parent's
 * death (here: an intermediate process that starts the reaper and exits
 * without a word) flushes at once; inherited descriptors are closed; when
 * run as root the child keeps only cap_net_admin. The flush is a callback
 * that reports through a pipe, so no address is touched.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "reaper.h"
#include "util.h"

struct ctx {
	int report; /* write end: 'P' from prepare, 'F' from flush */
};

static int prep(void *data)
{
	struct ctx *c = data;

	return write(c->report, "P", 1) == 1 ? 0 : -EIO;
}

static int flush(void *data)
{
	struct ctx *c = data;

	return write(c->report, "F", 1) == 1 ? 3 : -EIO;
}

static const struct vipd_reaper_ops ops = { .prepare = prep, .flush = flush };

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Read fd until EOF or timeout_ms; returns what was read (NUL-terminated). */
static size_t read_all(int fd, char *buf, size_t len, int timeout_ms)
{
	size_t n = 0;
	uint64_t end = now_ms() + (uint64_t)timeout_ms;

	while (n + 1 < len && now_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, (int)(end - now_ms())) <= 0)
			break;
		r = read(fd, buf + n, len - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	return n;
}

static void test_clean_stop_does_not_flush(void **state _unused_)
{
	struct vipd_reaper r = { .fd = -1 };
	int rep[2];
	char buf[16];

	assert_int_equal(pipe2(rep, O_CLOEXEC), 0);
	struct ctx c = { .report = rep[1] };
	assert_int_equal(vipd_reaper_start(&r, &ops, &c, &rep[1], 1), 0);
	assert_true(r.pid > 0);
	assert_true(r.fd >= 0);
	/* Wait for prepare, then stop cleanly. */
	close(rep[1]);
	struct pollfd p = { .fd = rep[0], .events = POLLIN };
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_int_equal(vipd_reaper_stop(&r, 2000), 0);
	assert_int_equal(r.pid, 0);
	assert_int_equal(r.fd, -1);
	read_all(rep[0], buf, sizeof(buf), 2000);
	assert_string_equal(buf, "P");
	close(rep[0]);
	/* Stopping again is harmless. */
	assert_int_equal(vipd_reaper_stop(&r, 10), 0);
}

static void test_parent_death_flushes(void **state _unused_)
{
	int rep[2], st;
	char buf[16];
	pid_t mid;
	uint64_t t0;

	assert_int_equal(pipe2(rep, O_CLOEXEC), 0);
	mid = fork();
	assert_true(mid >= 0);
	if (mid == 0) {
		struct vipd_reaper r = { .fd = -1 };
		struct ctx c = { .report = rep[1] };

		close(rep[0]);
		if (vipd_reaper_start(&r, &ops, &c, &rep[1], 1) < 0)
			_exit(2);
		close(rep[1]);
		/* Crash without telling the reaper. */
		_exit(0);
	}
	close(rep[1]);
	t0 = now_ms();
	assert_int_equal(waitpid(mid, &st, 0), mid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* EOF comes when the orphaned reaper has flushed and exited. */
	read_all(rep[0], buf, sizeof(buf), 3000);
	assert_string_equal(buf, "PF");
	print_message("flushed %llu ms after the parent died\n", (unsigned long long)(now_ms() - t0));
	assert_true(now_ms() - t0 < 2000);
	close(rep[0]);
}

static void test_inherited_fds_closed(void **state _unused_)
{
	struct vipd_reaper r = { .fd = -1 };
	int other[2], rep[2];
	char b;

	assert_int_equal(pipe(other), 0); /* not CLOEXEC, not in keep: the child must close it */
	assert_int_equal(pipe2(rep, O_CLOEXEC), 0);
	struct ctx c = { .report = rep[1] };
	assert_int_equal(vipd_reaper_start(&r, &ops, &c, &rep[1], 1), 0);
	assert_int_equal(read(rep[0], &b, 1), 1); /* prepare ran: the fds are closed by then */
	close(other[1]);
	struct pollfd p = { .fd = other[0], .events = POLLIN };
	assert_int_equal(poll(&p, 1, 1000), 1);
	assert_int_equal(read(other[0], &b, 1), 0); /* EOF: nobody else holds the write end */
	assert_int_equal(vipd_reaper_stop(&r, 2000), 0);
	close(other[0]);
	close(rep[0]);
	close(rep[1]);
}

static bool status_field(pid_t pid, const char *key, char *val, size_t len)
{
	char path[64], line[256];
	FILE *f;
	bool found = false;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':') {
			snprintf(val, len, "%s", line + strlen(key) + 1 + strspn(line + strlen(key) + 1, " \t"));
			val[strcspn(val, "\n")] = '\0';
			found = true;
		}
	fclose(f);
	return found;
}

static void test_child_keeps_only_net_admin(void **state _unused_)
{
	struct vipd_reaper r = { .fd = -1 };
	char eff[64] = "", bnd[64] = "", nnp[16] = "";

	if (geteuid() != 0) {
		print_message("not root: nothing to reduce\n");
		skip();
	}
	assert_int_equal(vipd_reaper_start(&r, &(struct vipd_reaper_ops){ .flush = flush }, &(struct ctx){ .report = -1 },
					   NULL, 0),
			 0);
	for (int i = 0; i < 200; i++) {
		if (status_field(r.pid, "CapEff", eff, sizeof(eff)) && strcmp(eff, "0000000000001000") == 0)
			break;
		usleep(5000);
	}
	status_field(r.pid, "CapBnd", bnd, sizeof(bnd));
	status_field(r.pid, "NoNewPrivs", nnp, sizeof(nnp));
	assert_string_equal(eff, "0000000000001000");
	assert_string_equal(bnd, "0000000000001000");
	assert_string_equal(nnp, "1");
	assert_int_equal(vipd_reaper_stop(&r, 2000), 0);
}

static void test_reaped_after_kill(void **state _unused_)
{
	struct vipd_reaper r = { .fd = -1 };
	int st = 0;
	bool reaped = false;

	assert_int_equal(vipd_reaper_start(&r, &(struct vipd_reaper_ops){ .flush = flush }, &(struct ctx){ .report = -1 },
					   NULL, 0),
			 0);
	assert_int_equal(kill(r.pid, SIGKILL), 0);
	for (int i = 0; i < 400 && !reaped; i++) {
		reaped = vipd_reaper_reaped(&r, &st);
		if (!reaped)
			usleep(5000);
	}
	assert_true(reaped);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(r.pid, 0);
	assert_int_equal(r.fd, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_stop_does_not_flush),
		cmocka_unit_test(test_parent_death_flushes),
		cmocka_unit_test(test_inherited_fds_closed),
		cmocka_unit_test(test_child_keeps_only_net_admin),
		cmocka_unit_test(test_reaped_after_kill),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

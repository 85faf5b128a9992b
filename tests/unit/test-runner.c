/* SPDX-License-Identifier: MIT */
/*
 * vipd/runner on the real loop: exit statuses, signals, timeouts (the whole
 * process group killed), a missing program, bounded output, the child's
 * environment, descriptors, signals and no_new_privs, many runs at once,
 * cancel, free with children running; conf/cmdline's splitter.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "loop.h"
#include "runner.h"
#include "util.h"

struct done_rec {
	int calls;
	struct vipd_runner_result res;
	char output[8192];
};

static void on_done(void *data, const struct vipd_runner_result *res)
{
	struct done_rec *d = data;

	d->calls++;
	d->res = *res;
	snprintf(d->output, sizeof(d->output), "%s", res->output);
	d->res.output = d->output;
}

struct fixture {
	struct loop *l;
	struct vipd_runner *r;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(loop_new(&f->l), 0);
	assert_int_equal(vipd_runner_new(f->l, &f->r), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vipd_runner_free(f->r);
	loop_free(f->l);
	free(f);
	return 0;
}

/* Iterate until *calls reaches want, at most ms milliseconds. */
static void run_until(struct loop *l, const int *calls, int want, uint64_t ms)
{
	uint64_t end = loop_now_ms() + ms;

	while (*calls < want && loop_now_ms() < end)
		assert_true(loop_iterate(l, 50) >= 0);
}

/* Run argv to completion with timeout_ms; d gets the result. */
static void run_cmd(struct fixture *f, const char *const *argv, uint32_t timeout_ms, struct done_rec *d)
{
	struct vipd_runner_cmd cmd = { .argv = argv, .timeout_ms = timeout_ms };
	uint64_t id = 0;

	memset(d, 0, sizeof(*d));
	assert_int_equal(vipd_runner_start(f->r, &cmd, on_done, d, &id), 0);
	assert_true(id != 0);
	assert_int_equal(d->calls, 0); /* never from inside start */
	run_until(f->l, &d->calls, 1, 10000);
	assert_int_equal(d->calls, 1);
	assert_true(d->res.id == id);
	assert_int_equal(vipd_runner_count(f->r), 0);
}

#define SH(...) ((const char *const[]){ "/bin/sh", "-c", __VA_ARGS__, NULL })

static void test_exit_zero(void **state)
{
	struct fixture *f = *state;
	struct done_rec d;
	char buf[128];

	run_cmd(f, SH("echo hello; echo to-stderr >&2"), 5000, &d);
	assert_int_equal(d.res.outcome, VIPD_RUNNER_EXITED);
	assert_int_equal(d.res.exit_status, 0);
	assert_true(vipd_runner_result_ok(&d.res));
	assert_string_equal(d.output, "hello\nto-stderr");
	assert_int_equal(d.res.output_dropped, 0);
	assert_string_equal(vipd_runner_result_describe(&d.res, buf, sizeof(buf)), "exited with status 0");
}

static void test_exit_three(void **state)
{
	struct fixture *f = *state;
	struct done_rec d;

	run_cmd(f, SH("exit 3"), 5000, &d);
	assert_int_equal(d.res.outcome, VIPD_RUNNER_EXITED);
	assert_int_equal(d.res.exit_status, 3);
	assert_false(vipd_runner_result_ok(&d.res));
	assert_string_equal(d.output, "");
	/* a real exit 127 is an exit, not an exec failure */
	run_cmd(f, SH("exit 127"), 5000, &d);
	assert_int_equal(d.res.outcome, VIPD_RUNNER_EXITED);
	assert_int_equal(d.res.exit_status, 127);
}

static void test_signal(void **state)
{
	struct fixture *f = *state;
	struct done_rec d;
	char buf[128];

	run_cmd(f, SH("kill -SEGV $$"), 5000, &d);
	assert_int_equal(d.res.outcome, VIPD_RUNNER_SIGNALED);
	assert_int_equal(d.res.signal, SIGSEGV);
	assert_false(vipd_runner_result_ok(&d.res));
	assert_non_null(strstr(vipd_runner_result_describe(&d.res, buf, sizeof(buf)), "killed by signal 11"));
}

/* Processes in group pgid that are not zombies, from /proc. */
static int live_in_group(pid_t pgid)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	int n = 0;

	assert_non_null(dir);
	while ((de = readdir(dir))) {
		char path[300], line[512];
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		FILE *fp = fopen(path, "re");
		if (!fp)
			continue;
		if (fgets(line, sizeof(line), fp)) {
			/* pid (comm) state ppid pgrp ...; comm may hold spaces: parse after the last ')' */
			char *p = strrchr(line, ')');
			char st = 0;
			int ppid = 0, pgrp = 0;
			if (p && sscanf(p + 1, " %c %d %d", &st, &ppid, &pgrp) == 3 && pgrp == pgid &&
			    st != 'Z')
				n++;
		}
		fclose(fp);
	}
	closedir(dir);
	return n;
}

static void test_timeout_kills_group(void **state)
{
	struct fixture *f = *state;
	struct done_rec d;
	char buf[128];

	uint64_t t0 = loop_now_ms();
	run_cmd(f, SH("sleep 30 & sleep 30"), 300, &d);
	uint64_t took = loop_now_ms() - t0;
	assert_int_equal(d.res.outcome, VIPD_RUNNER_TIMEOUT);
	assert_int_equal(d.res.signal, SIGKILL);
	assert_true(took >= 300 && took < 3000);
	assert_true(d.res.duration_ms >= 300);
	assert_non_null(strstr(vipd_runner_result_describe(&d.res, buf, sizeof(buf)), "timed out"));
	/* the background sleep went with the group (it may take a moment to be reaped by init) */
	int live = 1;
	for (int i = 0; i < 200 && (live = live_in_group(d.res.pid)) > 0; i++)
		usleep(10000);
	assert_int_equal(live, 0);
}

/* A command that exits leaves nothing behind in its group either. */
static void test_exit_kills_background(void **state)
{
	struct fixture *f = *state;
	struct done_rec d;

	run_cmd(f, SH("sleep 30 >/dev/null 2>&1 & exit 0"), 5000, &d);
	assert_int_equal(d.res.outcome, VIPD_RUNNER_EXITED);
	int live = 1;
	for (int i = 0; i < 200 && (live = live_in_group(d.res.pid)) > 0; i++)
		usleep(10000);
	assert_int_equal(live, 0);
}

static void test_missing_program(void **state)
{
	struct fixture *f = *state;
	struct done_rec d;
	char buf[256];

	run_cmd(f, (const char *const[]){ "/nonexistent/vipd-no-such-program", NULL }, 5000, &d);
	assert_int_equal(d.res.outcome, VIPD_RUNNER_EXEC_FAILED);
	assert_int_equal(d.res.error, -ENOENT);
	assert_string_equal(d.res.step, "execve");
	assert_string_equal(vipd_runner_result_describe(&d.res, buf, sizeof(buf)),
			    "could not start: execve: No such file or directory");
	/* not executable: EACCES */
	run_cmd(f, (const char *const[]){ "/etc/passwd", NULL }, 5000, &d);
	assert_int_equal(d.res.outcome, VIPD_RUNNER_EXEC_FAILED);
	assert_int_equal(d.res.error, -EACCES);
}

static void test_output_bounded(void **state)
{
	struct fixture *f = *state;
	struct done_rec d;

	run_cmd(f,
		SH("i=0; while [ $i -lt 1000 ]; do echo 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzABCDE; i=$((i+1)); done"),
		10000, &d);
	assert_int_equal(d.res.outcome, VIPD_RUNNER_EXITED);
	/* 1000 lines of 104 bytes: 4096 kept (no newline at 4096), the rest counted */
	assert_int_equal(d.res.output_len, VIPD_RUNNER_OUTPUT_DEFAULT);
	assert_int_equal(strlen(d.output), VIPD_RUNNER_OUTPUT_DEFAULT);
	assert_int_equal(d.res.output_dropped, 104000 - VIPD_RUNNER_OUTPUT_DEFAULT);

	/* a smaller cap, and control bytes made safe */
	struct vipd_runner_cmd cmd = { .argv = SH("printf 'a\\033b\\000c\\td\\n\\n\\n'; printf 'xxxxxxxxxx'"),
				       .timeout_ms = 5000,
				       .output_max = 12 };
	memset(&d, 0, sizeof(d));
	assert_int_equal(vipd_runner_start(f->r, &cmd, on_done, &d, NULL), 0);
	run_until(f->l, &d.calls, 1, 10000);
	assert_int_equal(d.calls, 1);
	assert_string_equal(d.output, "a?b?c\td\n\n\nxx");
	assert_int_equal(d.res.output_dropped, 8);
}

/* The child's world: environment, stdin, descriptors, signals, no_new_privs, session. */
static void test_child_setup(void **state)
{
	struct fixture *f = *state;
	struct done_rec d;
	const char *const env[] = { "VIPD_ADDRESS=198.51.100.7", "LANG=C.UTF-8", NULL };
	struct vipd_runner_cmd cmd = { .argv = (const char *const[]){ "/usr/bin/env", NULL },
				       .env = env,
				       .timeout_ms = 5000 };

	memset(&d, 0, sizeof(d));
	assert_int_equal(vipd_runner_start(f->r, &cmd, on_done, &d, NULL), 0);
	run_until(f->l, &d.calls, 1, 10000);
	assert_int_equal(d.res.outcome, VIPD_RUNNER_EXITED);
	assert_string_equal(d.output,
			    "VIPD_ADDRESS=198.51.100.7\nLANG=C.UTF-8\nPATH=/usr/sbin:/usr/bin:/sbin:/bin");

	/* a leaked non-close-on-exec descriptor, an ignored and a blocked signal in the parent */
	int leak = fcntl(0, F_DUPFD, 100);
	assert_true(leak >= 100);
	signal(SIGPIPE, SIG_IGN);
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	run_cmd(f,
		SH("pwd; cd /proc/self/fd && echo fds *; readlink /proc/self/fd/0; "
		   "grep -E '^(SigBlk|SigIgn|NoNewPrivs|CapPrm|CapEff|CapInh|CapAmb):' /proc/self/status; "
		   "[ \"$(cut -d' ' -f6 /proc/$$/stat)\" = \"$$\" ] || echo not-a-session-leader"),
		5000, &d);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGPIPE, SIG_DFL);
	close(leak);
	assert_int_equal(d.res.outcome, VIPD_RUNNER_EXITED);
	/* the shell itself: 0 1 2 and the descriptor of the folder it lists (the glob's opendir) */
	const char *want = "/\nfds 0 1 2 3\n/dev/null\n"
			   "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"
			   "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n"
			   "CapAmb:\t0000000000000000\nNoNewPrivs:\t1";
	if (strcmp(d.output, want) != 0)
		fail_msg("child setup:\n%s\nwanted:\n%s", d.output, want);
}

static void test_many(void **state)
{
	struct fixture *f = *state;
	enum { N = 40 };
	static struct done_rec d[N];
	char code[N][32];
	int total = 0;

	for (int i = 0; i < N; i++) {
		snprintf(code[i], sizeof(code[i]), "echo run%d; exit %d", i, i % 7);
		struct vipd_runner_cmd cmd = { .argv = SH(code[i]), .timeout_ms = 20000 };
		memset(&d[i], 0, sizeof(d[i]));
		assert_int_equal(vipd_runner_start(f->r, &cmd, on_done, &d[i], NULL), 0);
	}
	assert_int_equal(vipd_runner_count(f->r), N);
	uint64_t end = loop_now_ms() + 20000;
	while (total < N && loop_now_ms() < end) {
		assert_true(loop_iterate(f->l, 50) >= 0);
		total = 0;
		for (int i = 0; i < N; i++)
			total += d[i].calls;
	}
	for (int i = 0; i < N; i++) {
		char want[32];
		snprintf(want, sizeof(want), "run%d", i);
		assert_int_equal(d[i].calls, 1);
		assert_int_equal(d[i].res.outcome, VIPD_RUNNER_EXITED);
		assert_int_equal(d[i].res.exit_status, i % 7);
		assert_string_equal(d[i].output, want);
	}
	assert_int_equal(vipd_runner_count(f->r), 0);
}

static void test_cancel(void **state)
{
	struct fixture *f = *state;
	struct done_rec d1 = { 0 }, d2 = { 0 };
	struct vipd_runner_cmd slow = { .argv = SH("sleep 30 & sleep 30"), .timeout_ms = 60000 };
	struct vipd_runner_cmd fast = { .argv = SH("sleep 0.2; exit 5"), .timeout_ms = 60000 };
	uint64_t id1, id2;

	assert_int_equal(vipd_runner_start(f->r, &slow, on_done, &d1, &id1), 0);
	assert_int_equal(vipd_runner_start(f->r, &fast, on_done, &d2, &id2), 0);
	assert_true(id1 != id2);
	assert_int_equal(vipd_runner_cancel(f->r, id1), 0);
	assert_int_equal(vipd_runner_cancel(f->r, id1), -ENOENT);
	assert_int_equal(vipd_runner_cancel(f->r, 999999), -ENOENT);
	run_until(f->l, &d2.calls, 1, 10000);
	assert_int_equal(d2.calls, 1);
	assert_int_equal(d2.res.exit_status, 5);
	assert_int_equal(vipd_runner_cancel(f->r, id2), -ENOENT);
	/* the cancelled child is reaped by the loop; its done never runs */
	uint64_t end = loop_now_ms() + 5000;
	while (vipd_runner_count(f->r) > 0 && loop_now_ms() < end)
		assert_true(loop_iterate(f->l, 50) >= 0);
	assert_int_equal(vipd_runner_count(f->r), 0);
	assert_int_equal(d1.calls, 0);
}

static int count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(dir);
	while (readdir(dir))
		n++;
	closedir(dir);
	return n;
}

static void test_free_with_children(void **state _unused_)
{
	struct loop *l;
	struct vipd_runner *r;
	struct done_rec d[3] = { 0 };
	pid_t pids[3];

	int fds_before = count_fds();
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(vipd_runner_new(l, &r), 0);
	for (int i = 0; i < 3; i++) {
		struct vipd_runner_cmd cmd = { .argv = SH("echo $$; exec sleep 30"), .timeout_ms = 60000 };
		assert_int_equal(vipd_runner_start(r, &cmd, on_done, &d[i], NULL), 0);
	}
	/* let them start and say their pid */
	uint64_t end = loop_now_ms() + 300;
	while (loop_now_ms() < end)
		loop_iterate(l, 50);
	/* the pids, from /proc: children of ours running sleep */
	int n = 0;
	DIR *dir = opendir("/proc");
	struct dirent *de;
	while ((de = readdir(dir)) && n < 3) {
		char path[300], line[512];
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		FILE *fp = de->d_name[0] >= '0' && de->d_name[0] <= '9' ? fopen(path, "re") : NULL;
		if (!fp)
			continue;
		int ppid = 0;
		if (fgets(line, sizeof(line), fp) && strrchr(line, ')') &&
		    sscanf(strrchr(line, ')') + 1, " %*c %d", &ppid) == 1 && ppid == getpid())
			pids[n++] = atoi(de->d_name);
		fclose(fp);
	}
	closedir(dir);
	assert_int_equal(n, 3);
	vipd_runner_free(r);
	for (int i = 0; i < 3; i++) {
		errno = 0;
		assert_int_equal(kill(pids[i], 0), -1); /* reaped: no zombie left */
		assert_int_equal(errno, ESRCH);
		assert_int_equal(d[i].calls, 0);
	}
	loop_free(l);
	assert_int_equal(count_fds(), fds_before);
}

static void test_start_refused(void **state)
{
	struct fixture *f = *state;
	struct done_rec d = { 0 };
	struct vipd_runner_cmd cmd = { .argv = (const char *const[]){ "bin/true", NULL },
				       .timeout_ms = 1000 };

	assert_int_equal(vipd_runner_start(f->r, &cmd, on_done, &d, NULL), -EINVAL);
	cmd.argv = (const char *const[]){ "/bin/true", NULL };
	assert_int_equal(vipd_runner_start(f->r, &cmd, NULL, &d, NULL), -EINVAL);
	cmd.timeout_ms = 0;
	assert_int_equal(vipd_runner_start(f->r, &cmd, on_done, &d, NULL), -EINVAL);
	cmd.timeout_ms = 1000;
	cmd.env = (const char *const[]){ "NOEQUALS", NULL };
	assert_int_equal(vipd_runner_start(f->r, &cmd, on_done, &d, NULL), -EINVAL);
	cmd.env = (const char *const[]){ "=x", NULL };
	assert_int_equal(vipd_runner_start(f->r, &cmd, on_done, &d, NULL), -EINVAL);
	cmd.env = NULL;
	cmd.output_max = VIPD_RUNNER_OUTPUT_MAX + 1;
	assert_int_equal(vipd_runner_start(f->r, &cmd, on_done, &d, NULL), -EINVAL);
	assert_int_equal(vipd_runner_count(f->r), 0);
	assert_null(vipd_runner_outcome_to_string(_VIPD_RUNNER_OUTCOME_MAX));
	assert_string_equal(vipd_runner_outcome_to_string(VIPD_RUNNER_EXEC_FAILED), "exec-failed");
}

/* Split line: the words joined with '|', or "ERR <errno> <why>". */
static const char *split(const char *line)
{
	static char out[512];
	char why[256] = "", **argv = NULL;
	int n = vip_cmdline_split(line, &argv, why, sizeof(why));

	if (n < 0) {
		snprintf(out, sizeof(out), "ERR %d %s", -n, why);
		return out;
	}
	out[0] = '\0';
	for (int i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? "|" : "", argv[i]);
	assert_null(argv[n]);
	free(argv);
	return out;
}

static void test_cmdline_split(void **state _unused_)
{
	assert_string_equal(split("/usr/local/lib/vipd/check-queue --max 50000"),
			    "/usr/local/lib/vipd/check-queue|--max|50000");
	assert_string_equal(split("  /bin/x\t a\n"), "/bin/x|a");
	assert_string_equal(split("/bin/x 'a b' \"c d\" e\\ f"), "/bin/x|a b|c d|e f");
	assert_string_equal(split("/bin/x --name=\"a b\"'c'd"), "/bin/x|--name=a bcd");
	assert_string_equal(split("/bin/x '' \"\""), "/bin/x||");
	assert_string_equal(split("/bin/x \"q\\\"q\\\\ \\n\""), "/bin/x|q\"q\\ \\n");
	assert_string_equal(split("/bin/x 'it''s' '\\\"'"), "/bin/x|its|\\\"");
	assert_string_equal(split("/bin/x $HOME * ; | > &"), "/bin/x|$HOME|*|;|||>|&");
	assert_string_equal(split("'/opt/my dir/check' -v"), "/opt/my dir/check|-v");

	assert_string_equal(split(""), "ERR 22 an empty command");
	assert_string_equal(split("   \t "), "ERR 22 an empty command");
	assert_string_equal(split("check-queue --max 5"),
			    "ERR 22 the program \"check-queue\" is not an absolute path");
	assert_string_equal(split("./check"), "ERR 22 the program \"./check\" is not an absolute path");
	assert_string_equal(split("'' /bin/x"), "ERR 22 the program \"\" is not an absolute path");
	assert_string_equal(split("/bin/x 'abc"), "ERR 22 unterminated single quote");
	assert_string_equal(split("/bin/x \"abc\\\""), "ERR 22 unterminated double quote");
	assert_string_equal(split("/bin/x abc\\"), "ERR 22 a backslash at the end of the line");
	assert_string_equal(split(NULL), "ERR 22 no command");

	/* bounds */
	char *big = malloc(VIP_CMDLINE_MAX_LEN + 2);
	assert_non_null(big);
	memset(big, 'a', VIP_CMDLINE_MAX_LEN + 1);
	big[0] = '/';
	big[VIP_CMDLINE_MAX_LEN + 1] = '\0';
	assert_string_equal(split(big), "ERR 7 longer than 8192 characters");
	size_t k = 0;
	for (int i = 0; i < VIP_CMDLINE_MAX_ARGS + 1; i++)
		k += (size_t)sprintf(big + k, "%s ", i ? "a" : "/x");
	assert_string_equal(split(big), "ERR 7 more than 256 words");
	big[k - 2] = '\0'; /* 256 words */
	char **argv = NULL;
	assert_int_equal(vip_cmdline_split(big, &argv, NULL, 0), VIP_CMDLINE_MAX_ARGS);
	free(argv);
	free(big);
	/* why may be NULL; *ret untouched on failure */
	argv = (char **)0x1;
	assert_int_equal(vip_cmdline_split("x", &argv, NULL, 0), -EINVAL);
	assert_ptr_equal(argv, (char **)0x1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exit_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_three, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_kills_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_kills_background, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_program, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_setup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test(test_free_with_children),
		cmocka_unit_test_setup_teardown(test_start_refused, setup, teardown),
		cmocka_unit_test(test_cmdline_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

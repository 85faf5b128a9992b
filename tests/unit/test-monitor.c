/* SPDX-License-Identifier: MIT */
/*
 * vipd/monitor's state machine with real processes: the engine is a fake
 * function run in a forked child (the spawn op), the flush is the fake port
 * with a recording flush_tagged, and the cluster is a fake backend that
 * records what the monitor multicasts. Every event lands in one ordered log
 * ("S" spawn, "F" flush, "M" MONITOR, "X" FLUSHED, "L" leave), so a test can
 * check what happened and in which order. The last tests are the engine's
 * side (vipd/daemon.c under a monitor): its notes and the monitor's death.
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
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon-internal.h"
#include "log.h"
#include "monitor.h"

/* ---------------------------------------------------------------- the event log */

static char events[256];

static void ev(char c)
{
	size_t n = strlen(events);

	if (n + 1 < sizeof(events)) {
		events[n] = c;
		events[n + 1] = '\0';
	}
}

/* ---------------------------------------------------------------- fake engines */

enum engine_kind {
	ENG_SERVE,        /* READY; SIGTERM -> RELEASED-OK, exit 0; SIGHUP -> RELEASED-OK, exit 0 */
	ENG_FAIL_RELEASE, /* READY; SIGTERM -> RELEASE-FAILED, exit 1 */
	ENG_FAIL_START,   /* exit 3 without a word */
	ENG_CLEAN_EXIT,   /* READY, RELEASED-OK, exit 0 at once (nobody asked) */
	ENG_CRASH,        /* READY, exit 1 at once */
	ENG_CRASH_LATE,   /* READY, 350 ms up, exit 1 */
	ENG_IGNORE_TERM,  /* READY; never exits on its own (until killed or 5 s) */
	ENG_GARBAGE,      /* READY, RELEASED-OK, then a 5-byte note */
	ENG_CONTRADICT,   /* READY, RELEASED-OK, RELEASE-FAILED, exit 0 */
};

/* Read by the child at fork time: a test changes it for the next spawn. */
static enum engine_kind next_engine;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait up to ms for SIGTERM or SIGHUP (blocked: inherited from the monitor's loop). */
static int wait_signal(int ms)
{
	sigset_t set;
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	return sigtimedwait(&set, NULL, &ts);
}

static int fake_engine(enum engine_kind kind, int fd)
{
	int sig;

	if (kind == ENG_FAIL_START)
		return 3;
	vipd_note_send(fd, VIPD_NOTE_READY);
	switch (kind) {
	case ENG_CLEAN_EXIT:
		vipd_note_send(fd, VIPD_NOTE_RELEASED_OK);
		return 0;
	case ENG_CRASH:
		return 1;
	case ENG_CRASH_LATE:
		nanosleep(&(struct timespec){ .tv_nsec = 350000000L }, NULL);
		return 1;
	case ENG_CONTRADICT:
		vipd_note_send(fd, VIPD_NOTE_RELEASED_OK);
		vipd_note_send(fd, VIPD_NOTE_RELEASE_FAILED);
		return 0;
	case ENG_GARBAGE:
		vipd_note_send(fd, VIPD_NOTE_RELEASED_OK);
		(void)!send(fd, "\x01\x01\x00\x05\x00", 5, MSG_NOSIGNAL);
		wait_signal(5000);
		return 0;
	case ENG_IGNORE_TERM:
		for (int i = 0; i < 5; i++)
			wait_signal(1000);
		return 9;
	case ENG_FAIL_RELEASE:
		if (wait_signal(5000) != SIGTERM)
			return 9;
		vipd_note_send(fd, VIPD_NOTE_RELEASE_FAILED);
		return 1;
	default:
		sig = wait_signal(5000);
		if (sig != SIGTERM && sig != SIGHUP)
			return 9; /* not asked: no clean stop */
		vipd_note_send(fd, VIPD_NOTE_RELEASED_OK);
		return 0;
	}
}

/* Every engine forked, so a failed test's teardown can end them all. */
static pid_t spawned[64];
static size_t n_spawned;

static int fake_spawn(void *data _unused_, int fd, pid_t *ret_pid)
{
	enum engine_kind kind = next_engine;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* As the real spawn: nothing of the monitor's but our end. */
		if (fd > 3)
			close_range(3, (unsigned)fd - 1, 0);
		close_range((unsigned)fd + 1, ~0u, 0);
		_exit(fake_engine(kind, fd));
	}
	ev('S');
	if (n_spawned < ARRAY_SIZE(spawned))
		spawned[n_spawned++] = pid;
	*ret_pid = pid;
	return 0;
}

/* ---------------------------------------------------------------- fake port: a recording flush */

static int flush_result;

static int rec_flush(struct vip_port *p _unused_, int ifindex)
{
	assert_int_equal(ifindex, 0);
	ev('F');
	return flush_result;
}

static struct vip_port_ops port_ops;

/* ---------------------------------------------------------------- fake cluster backend */

struct vip_cl_backend {
	struct vip_cl_backend_cbs cbs;
	void *userdata;
	int pipe[2];
	bool joined;
};

static bool cl_left;
static bool echo_flushed;             /* deliver the monitor's FLUSHED back to it, as corosync does */
static uint32_t view_engine;          /* nonzero: views list this pid of node 1 beside the monitor */
static struct vip_cl_backend *cur_be; /* the monitor's connection, to push a view */

/* A new view (with view_engine as it is now) on the monitor's next dispatch. */
static void push_view(void)
{
	assert_non_null(cur_be);
	assert_int_equal(write(cur_be->pipe[1], "v", 1), 1);
}
static char last_name[VIP_CL_NAME_MAX + 1];

static int fb_connect(const struct vip_cl_backend_cbs *cbs, void *userdata, struct vip_cl_backend **ret)
{
	struct vip_cl_backend *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	b->cbs = *cbs;
	b->userdata = userdata;
	assert_int_equal(pipe2(b->pipe, O_NONBLOCK | O_CLOEXEC), 0);
	*ret = cur_be = b;
	return 0;
}

static void fb_free(struct vip_cl_backend *b)
{
	if (!b)
		return;
	if (b == cur_be)
		cur_be = NULL;
	close(b->pipe[0]);
	close(b->pipe[1]);
	free(b);
}

static int fb_join(struct vip_cl_backend *b, const char *group)
{
	assert_string_equal(group, "g-test");
	b->joined = true;
	assert_int_equal(write(b->pipe[1], "v", 1), 1);
	return 0;
}

static int fb_leave(struct vip_cl_backend *b _unused_)
{
	cl_left = true;
	ev('L');
	return 0;
}

static int fb_fd(struct vip_cl_backend *b)
{
	return b->pipe[0];
}

static int fb_dispatch(struct vip_cl_backend *b)
{
	char c;
	struct vip_cl_member mem[2] = { { .nodeid = 1, .pid = (uint32_t)getpid() },
					{ .nodeid = 1, .pid = view_engine } };
	struct vip_cl_view v = { .ring_seq = 1, .members = mem, .n_members = view_engine ? 2 : 1, .self = 0 };

	while (read(b->pipe[0], &c, 1) == 1)
		b->cbs.view(b->userdata, &v);
	return 0;
}

static int fb_send(struct vip_cl_backend *b, const void *data, size_t len)
{
	struct vip_cl_msg m;

	assert_true(b->joined);
	assert_int_equal(vip_cl_msg_decode(data, len, &m), 0);
	snprintf(last_name, sizeof(last_name), "%s", m.name);
	if (m.type == VIP_CL_MSG_MONITOR)
		ev('M');
	else if (m.type == VIP_CL_MSG_FLUSHED) {
		struct vip_cl_member self = { .nodeid = 1, .pid = (uint32_t)getpid() };

		ev('X');
		if (echo_flushed)
			b->cbs.message(b->userdata, &self, data, len);
	} else
		fail_msg("unexpected message type %d", m.type);
	vip_cl_msg_clear(&m);
	return 0;
}

static bool fb_quorate(struct vip_cl_backend *b _unused_)
{
	return true;
}

static int fb_local(struct vip_cl_backend *b _unused_, struct vip_cl_member *ret)
{
	*ret = (struct vip_cl_member){ .nodeid = 1, .pid = (uint32_t)getpid() };
	return 0;
}

static const struct vip_cl_backend_ops fake_cl = {
	.name = "fake",
	.connect = fb_connect,
	.free = fb_free,
	.join = fb_join,
	.leave = fb_leave,
	.fd = fb_fd,
	.dispatch = fb_dispatch,
	.send = fb_send,
	.is_quorate = fb_quorate,
	.local = fb_local,
};

/* ---------------------------------------------------------------- fixture */

static int ready_calls;

static void on_ready(void *data _unused_)
{
	ready_calls++;
}

/* The monitor under test, freed by teardown when a failed assertion left it. */
static struct vipd_monitor *cur;

static struct vipd_monitor *new_monitor(enum engine_kind kind, bool cluster)
{
	struct vipd_monitor_opts o = {
		.spawn = fake_spawn,
		.ready = on_ready,
		.nodename = "n1",
		.group = cluster ? "g-test" : NULL,
		.port_ops = &port_ops,
		.cl_ops = &fake_cl,
		.timing = { .backoff_first_ms = 20,
			    .backoff_max_ms = 80,
			    .stable_ms = 300,
			    .stop_timeout_ms = 2000 },
	};
	struct vipd_monitor *m = NULL;

	next_engine = kind;
	assert_int_equal(vipd_monitor_new(&o, &m), 0);
	cur = m;
	return m;
}

static struct vipd_monitor_stats stats(struct vipd_monitor *m)
{
	struct vipd_monitor_stats st;

	vipd_monitor_get_stats(m, &st);
	return st;
}

/* Iterate the monitor's loop until cond holds (bounded by ms). */
#define RUN_UNTIL(m, ms, cond)                                  \
	do {                                                    \
		uint64_t _end = now_ms() + (ms);                \
		while (!(cond) && now_ms() < _end)              \
			loop_iterate(vipd_monitor_loop(m), 20); \
		assert_true(cond);                              \
	} while (0)

static int setup(void **state _unused_)
{
	log_set_level(LOG_ERR);
	events[0] = '\0';
	flush_result = 2;
	cl_left = false;
	echo_flushed = true;
	view_engine = 0;
	last_name[0] = '\0';
	ready_calls = 0;
	port_ops = vip_port_fake_ops;
	port_ops.flush_tagged = rec_flush;
	cur = NULL;
	n_spawned = 0;
	return 0;
}

static int teardown(void **state _unused_)
{
	vipd_monitor_free(cur);
	cur = NULL;
	for (size_t i = 0; i < n_spawned; i++)
		if (kill(spawned[i], SIGKILL) == 0)
			waitpid(spawned[i], NULL, 0);
	n_spawned = 0;
	return 0;
}

/* ---------------------------------------------------------------- the monitor */

static void test_kill9_flushes_tells_and_restarts(void **state _unused_)
{
	struct vipd_monitor *m = new_monitor(ENG_SERVE, true);
	pid_t first;
	uint64_t t0;

	RUN_UNTIL(m, 3000, stats(m).ever_ready && stats(m).monitor_sent >= 1);
	assert_string_equal(last_name, "n1");
	assert_int_equal(ready_calls, 1);
	first = stats(m).engine_pid;
	assert_true(first > 0);
	assert_int_equal(kill(first, SIGKILL), 0);
	t0 = now_ms();
	RUN_UNTIL(m, 3000, stats(m).starts == 2);
	/* Flush, then FLUSHED, then (after the back-off) the new engine. */
	assert_string_equal(events, "SMFXS");
	assert_true(now_ms() - t0 >= 20);
	assert_int_equal(stats(m).flushes, 1);
	assert_int_equal(stats(m).flushed_sent, 1);
	assert_int_equal(stats(m).restarts, 1);
	assert_int_equal(stats(m).last_delay_ms, 20);
	assert_true(now_ms() - t0 < 900); /* the group took the FLUSHED: no wait for it */
	assert_true(stats(m).engine_pid != first);
	/* The new engine is ready; READY=1 and the start report came only once. */
	RUN_UNTIL(m, 3000, ready_calls == 1 && stats(m).engine_pid > 0);
	vipd_monitor_stop(m);
	assert_int_equal(vipd_monitor_run(m), 0);
	assert_true(cl_left);
}

/*
 * A FLUSHED the group has not taken (not delivered back yet, or sealed in an
 * older view) holds the next engine back, up to 1 s: an engine that spoke
 * first would end the ghost and take the crashed engine's addresses back.
 */
static void test_restart_waits_for_flushed(void **state _unused_)
{
	struct vipd_monitor *m;
	uint64_t t0;

	echo_flushed = false;
	m = new_monitor(ENG_SERVE, true);
	RUN_UNTIL(m, 3000, stats(m).ever_ready && stats(m).monitor_sent >= 1);
	assert_int_equal(kill(stats(m).engine_pid, SIGKILL), 0);
	t0 = now_ms();
	RUN_UNTIL(m, 3000, stats(m).starts == 2);
	assert_string_equal(events, "SMFXS");
	assert_true(now_ms() - t0 >= 1000);
	vipd_monitor_stop(m);
	assert_int_equal(vipd_monitor_run(m), 0);
}

/*
 * The crashed engine is in the monitor's view: its FLUSHED waits for the view
 * without it (else it would cross the engine's leave and go out twice), and
 * goes at once when that view comes.
 */
/* The engine joins the monitor's view, then crashes: returns when its addresses were flushed. */
static uint64_t crash_engine_in_view(struct vipd_monitor *m)
{
	RUN_UNTIL(m, 3000, stats(m).ever_ready && stats(m).monitor_sent >= 1);
	view_engine = (uint32_t)stats(m).engine_pid;
	push_view();
	RUN_UNTIL(m, 3000, stats(m).monitor_sent >= 2);
	assert_int_equal(kill(stats(m).engine_pid, SIGKILL), 0);
	RUN_UNTIL(m, 3000, stats(m).flushes == 1);
	return now_ms();
}

static void test_flushed_waits_for_engine_leave(void **state _unused_)
{
	struct vipd_monitor *m = new_monitor(ENG_SERVE, true);
	uint64_t t0 = crash_engine_in_view(m);

	for (int i = 0; i < 5; i++) /* ~50 ms: the monitor could have sent it */
		loop_iterate(vipd_monitor_loop(m), 10);
	assert_int_equal(stats(m).flushed_sent, 0);
	view_engine = 0; /* corosync delivers the engine's leave */
	push_view();
	RUN_UNTIL(m, 3000, stats(m).flushed_sent == 1);
	assert_true(now_ms() - t0 < 150); /* the view released it, not the 200 ms bound */
	RUN_UNTIL(m, 3000, stats(m).starts == 2);
	/* MONITOR on each view; the FLUSHED after the one without the engine */
	assert_string_equal(events, "SMMFMXS");
	vipd_monitor_stop(m);
	assert_int_equal(vipd_monitor_run(m), 0);
}

/* The engine's leave never comes: the FLUSHED goes after the bound (200 ms). */
static void test_flushed_hold_is_bounded(void **state _unused_)
{
	struct vipd_monitor *m = new_monitor(ENG_SERVE, true);
	uint64_t t0 = crash_engine_in_view(m);

	RUN_UNTIL(m, 3000, stats(m).flushed_sent == 1);
	assert_true(now_ms() - t0 >= 150);
	RUN_UNTIL(m, 3000, stats(m).starts == 2);
	vipd_monitor_stop(m);
	assert_int_equal(vipd_monitor_run(m), 0);
}

static void test_release_failed_flushes_exit_1(void **state _unused_)
{
	struct vipd_monitor *m = new_monitor(ENG_FAIL_RELEASE, true);

	RUN_UNTIL(m, 3000, stats(m).ever_ready);
	vipd_monitor_stop(m);
	assert_int_equal(vipd_monitor_run(m), 1);
	assert_int_equal(stats(m).flushes, 1);
	assert_int_equal(stats(m).flushed_sent, 1);
	assert_int_equal(stats(m).restarts, 0);
	assert_string_equal(events, "SMFXL");
}

static void test_released_ok_no_flush_restarted(void **state _unused_)
{
	struct vipd_monitor *m = new_monitor(ENG_CLEAN_EXIT, true);

	/* It stops cleanly without being asked: restarted, nothing flushed. */
	RUN_UNTIL(m, 3000, stats(m).starts >= 2);
	assert_int_equal(stats(m).flushes, 0);
	assert_int_equal(stats(m).flushed_sent, 0);
	assert_true(stats(m).restarts >= 1);
	next_engine = ENG_SERVE;
	RUN_UNTIL(m, 3000, stats(m).engine_pid > 0 && strchr(events, 'F') == NULL);
	vipd_monitor_stop(m);
	vipd_monitor_run(m);
}

static void test_sigterm_forwarded_clean_exit(void **state _unused_)
{
	struct vipd_monitor *m = new_monitor(ENG_SERVE, false);

	RUN_UNTIL(m, 3000, stats(m).ever_ready);
	/* A real SIGTERM to this process (the monitor): through the loop's signalfd. */
	assert_int_equal(kill(getpid(), SIGTERM), 0);
	assert_int_equal(vipd_monitor_run(m), 0);
	assert_int_equal(stats(m).flushes, 0);
	assert_int_equal(stats(m).engine_pid, 0);
	assert_int_equal(stats(m).restarts, 0);
	/* No child left. */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void test_stop_timeout_kills_then_flushes(void **state _unused_)
{
	struct vipd_monitor_opts o = {
		.spawn = fake_spawn,
		.port_ops = &port_ops,
		.nodename = "n1",
		.timing = { .backoff_first_ms = 20, .stop_timeout_ms = 200 },
	};
	struct vipd_monitor *m = NULL;
	uint64_t t0;

	next_engine = ENG_IGNORE_TERM;
	assert_int_equal(vipd_monitor_new(&o, &m), 0);
	cur = m;
	RUN_UNTIL(m, 3000, stats(m).ever_ready);
	t0 = now_ms();
	vipd_monitor_stop(m);
	assert_int_equal(vipd_monitor_run(m), 1);
	assert_true(now_ms() - t0 < 1500);
	assert_int_equal(stats(m).flushes, 1);
}

static void test_sighup_forwarded(void **state _unused_)
{
	struct vipd_monitor *m = new_monitor(ENG_SERVE, false);

	RUN_UNTIL(m, 3000, stats(m).ever_ready);
	/* The fake engine answers SIGHUP with a clean exit, so the restart proves it got it. */
	vipd_monitor_hup(m);
	RUN_UNTIL(m, 3000, stats(m).starts == 2);
	assert_int_equal(stats(m).flushes, 0);
	vipd_monitor_stop(m);
	assert_int_equal(vipd_monitor_run(m), 0);
}

static void test_backoff_grows_and_resets(void **state _unused_)
{
	static const uint32_t want[] = { 20, 40, 80, 80 };
	struct vipd_monitor *m = new_monitor(ENG_CRASH, false);
	uint64_t last = now_ms();

	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		RUN_UNTIL(m, 3000, stats(m).restarts == i + 1);
		assert_int_equal(stats(m).last_delay_ms, want[i]);
		RUN_UNTIL(m, 3000, stats(m).starts == i + 2);
		/* Never sooner than the delay. */
		assert_true(now_ms() - last >= want[i]);
		last = now_ms();
	}
	assert_true(stats(m).flushes >= ARRAY_SIZE(want));
	/* An engine that stayed up past stable_ms (300 ms) resets the delay. */
	next_engine = ENG_CRASH_LATE;
	RUN_UNTIL(m, 3000, stats(m).restarts == ARRAY_SIZE(want) + 1);
	assert_int_equal(stats(m).last_delay_ms, 80); /* this one still crashed young */
	RUN_UNTIL(m, 3000, stats(m).restarts == ARRAY_SIZE(want) + 2);
	assert_int_equal(stats(m).last_delay_ms, 20);
	assert_int_equal(stats(m).next_delay_ms, 40);
	next_engine = ENG_SERVE;
	RUN_UNTIL(m, 3000, stats(m).engine_pid > 0);
	vipd_monitor_stop(m);
	vipd_monitor_run(m);
}

static void test_first_start_failure_exits_with_status(void **state _unused_)
{
	struct vipd_monitor *m = new_monitor(ENG_FAIL_START, true);

	/* Bounded: a monitor that restarted it instead would never end. */
	RUN_UNTIL(m, 3000, loop_is_exiting(vipd_monitor_loop(m)));
	assert_int_equal(vipd_monitor_run(m), 3);
	assert_int_equal(stats(m).starts, 1);
	assert_int_equal(stats(m).restarts, 0);
	assert_false(stats(m).ever_ready);
	assert_int_equal(ready_calls, 0);
}

static void test_failure_after_ready_once_restarts(void **state _unused_)
{
	struct vipd_monitor *m = new_monitor(ENG_SERVE, false);

	RUN_UNTIL(m, 3000, stats(m).ever_ready);
	next_engine = ENG_FAIL_START;
	kill(stats(m).engine_pid, SIGKILL);
	/* A start-up failure once it had been ready: flush and retry, never exit. */
	RUN_UNTIL(m, 3000, stats(m).restarts >= 3);
	assert_true(stats(m).flushes >= 3);
	next_engine = ENG_SERVE;
	RUN_UNTIL(m, 3000, stats(m).engine_pid > 0);
	vipd_monitor_stop(m);
	vipd_monitor_run(m);
}

static void test_garbage_note_kills_engine(void **state _unused_)
{
	struct vipd_monitor *m = new_monitor(ENG_GARBAGE, false);

	RUN_UNTIL(m, 3000, stats(m).restarts == 1);
	assert_int_equal(stats(m).flushes, 1);
	next_engine = ENG_SERVE;
	RUN_UNTIL(m, 3000, stats(m).starts == 2 && stats(m).engine_pid > 0);
	vipd_monitor_stop(m);
	vipd_monitor_run(m);
}

/* RELEASE-FAILED outweighs a RELEASED-OK, in any order. */
static void test_contradiction_flushes(void **state _unused_)
{
	struct vipd_monitor *m = new_monitor(ENG_CONTRADICT, true);

	RUN_UNTIL(m, 3000, stats(m).restarts == 1);
	assert_int_equal(stats(m).flushes, 1);
	assert_int_equal(stats(m).flushed_sent, 1);
	next_engine = ENG_SERVE;
	RUN_UNTIL(m, 3000, stats(m).starts == 2 && stats(m).engine_pid > 0);
	vipd_monitor_stop(m);
	vipd_monitor_run(m);
}

static void test_note_codec(void **state _unused_)
{
	uint8_t b[VIPD_NOTE_LEN];
	enum vipd_note n;

	for (int t = 1; t < _VIPD_NOTE_MAX; t++) {
		assert_int_equal(vipd_note_encode((enum vipd_note)t, b), 0);
		assert_int_equal(vipd_note_decode(b, sizeof(b), &n), 0);
		assert_int_equal((int)n, t);
	}
	assert_int_equal(vipd_note_encode(_VIPD_NOTE_MAX, b), -EINVAL);
	assert_int_equal(vipd_note_decode(b, 3, &n), -EBADMSG);
	vipd_note_encode(VIPD_NOTE_READY, b);
	b[0] = 2;
	assert_int_equal(vipd_note_decode(b, sizeof(b), &n), -EBADMSG);
	vipd_note_encode(VIPD_NOTE_READY, b);
	b[3] = 5;
	assert_int_equal(vipd_note_decode(b, sizeof(b), &n), -EBADMSG);
	vipd_note_encode(VIPD_NOTE_READY, b);
	b[1] = 0;
	assert_int_equal(vipd_note_decode(b, sizeof(b), &n), -EBADMSG);
	assert_string_equal(vipd_note_to_string(VIPD_NOTE_RELEASE_FAILED), "RELEASE-FAILED");
}

/* ---------------------------------------------------------------- the engine's side */

struct efx {
	char path[64];
	int sp[2]; /* [0] the monitor's end, [1] the engine's */
	struct vipd_daemon d;
};

static struct vip_addr A(const char *s) {
	struct vip_addr a;

	assert_int_equal(vip_addr_from_string(s, &a), 0);
	return a;
}

static bool
has(struct efx *f, const char *s)
{
	struct vip_addr a = A(s);
	const struct vip_port_addr *p = vip_port_table_find(vip_port_fake_addrs(f->d.port), &a, 0);

	return p && p->ours;
}

static void settle(struct efx *f)
{
	int idle = 0;

	for (int i = 0; i < 500 && idle < 3; i++)
		idle = loop_iterate(f->d.loop, 0) > 0 ? 0 : idle + 1;
}

/* Read one note from the monitor's end (bounded). */
static int read_note(struct efx *f, enum vipd_note *ret)
{
	struct pollfd p = { .fd = f->sp[0], .events = POLLIN };
	uint8_t b[16];
	ssize_t n;

	if (poll(&p, 1, 1000) != 1)
		return -ETIMEDOUT;
	n = recv(f->sp[0], b, sizeof(b), MSG_DONTWAIT);
	if (n <= 0)
		return -EIO;
	return vipd_note_decode(b, (size_t)n, ret);
}

static int engine_setup(void **state)
{
	struct efx *f = calloc(1, sizeof(*f));
	FILE *fp;
	int fd;

	setup(state);
	snprintf(f->path, sizeof(f->path), "/tmp/test-monitor-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	fprintf(fp,
		"Security { user = root group = root capabilities = \"cap_net_admin+ep cap_net_raw+ep\" }\n"
		"Binding \"a\" { Bind_Address = 198.51.100.21 Enable_Duravip = true }\n");
	fclose(fp);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, f->sp), 0);
	struct vipd_daemon_opts o = {
		.config_path = f->path,
		.nodename = "n1",
		.port_ops = &vip_port_fake_ops,
		.backend_ops = &vip_cl_backend_solo,
		.no_drop = true,
		.no_control = true,
		.monitored = true,
		.monitor_fd = f->sp[1],
	};
	assert_int_equal(vipd_daemon_setup(&f->d, &o), 0);
	struct vip_port_link l = { .ifindex = 2, .ifname = "eth0", .up = true, .hwaddr_len = 6 };
	struct vip_port_addr own = { .addr = A("198.51.100.1"), .prefix = 24, .ifindex = 2 };
	assert_int_equal(vip_port_fake_put_addr(f->d.port, &own), 0);
	assert_int_equal(vip_port_fake_set_link(f->d.port, &l), 0);
	settle(f);
	assert_true(has(f, "198.51.100.21"));
	*state = f;
	return 0;
}

static int engine_teardown(void **state)
{
	struct efx *f = *state;

	vipd_daemon_free(&f->d);
	if (f->sp[0] >= 0)
		close(f->sp[0]);
	close(f->sp[1]);
	unlink(f->path);
	free(f);
	return 0;
}

/* vipd_daemon_run without blocking: what it does before loop_run. */
static void engine_ready(struct efx *f)
{
	enum vipd_note n;

	loop_exit(f->d.loop, 0); /* make run return after one iteration */
	assert_int_equal(vipd_daemon_run(&f->d), 0);
	assert_int_equal(read_note(f, &n), 0);
	assert_int_equal(n, VIPD_NOTE_READY);
}

static void test_engine_sees_monitor_death(void **state)
{
	struct efx *f = *state;

	engine_ready(f);
	assert_false(f->d.stopping);
	close(f->sp[0]);
	f->sp[0] = -1;
	settle(f);
	/* End of file: the planned stop, everything released, the loop ends cleanly. */
	assert_true(f->d.stopping);
	assert_true(loop_is_exiting(f->d.loop));
	assert_false(has(f, "198.51.100.21"));
}

static void test_engine_stop_says_released_ok(void **state)
{
	struct efx *f = *state;
	enum vipd_note n;

	engine_ready(f);
	vipd_daemon_stop(&f->d);
	assert_false(has(f, "198.51.100.21"));
	assert_int_equal(read_note(f, &n), 0);
	assert_int_equal(n, VIPD_NOTE_RELEASED_OK);
	assert_false(f->d.release_failed);
}

static void test_engine_failed_release_exits_nonzero(void **state)
{
	struct efx *f = *state;
	enum vipd_note n;

	engine_ready(f);
	vip_port_fake_fail_calls(f->d.port, -EPERM, 10);
	vipd_daemon_stop(&f->d);
	assert_int_equal(read_note(f, &n), 0);
	assert_int_equal(n, VIPD_NOTE_RELEASE_FAILED);
	/* No RELEASED-OK after it. */
	struct pollfd p = { .fd = f->sp[0], .events = POLLIN };
	assert_int_equal(poll(&p, 1, 50), 0);
	/* The loop ends with status 1: the exit code of a failed release. */
	assert_true(f->d.release_failed);
	assert_int_equal(loop_run(f->d.loop), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kill9_flushes_tells_and_restarts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_waits_for_flushed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flushed_waits_for_engine_leave, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flushed_hold_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_failed_flushes_exit_1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_released_ok_no_flush_restarted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigterm_forwarded_clean_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_timeout_kills_then_flushes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sighup_forwarded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backoff_grows_and_resets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_start_failure_exits_with_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_after_ready_once_restarts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_note_kills_engine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contradiction_flushes, setup, teardown),
		cmocka_unit_test(test_note_codec),
		cmocka_unit_test_setup_teardown(test_engine_sees_monitor_death, engine_setup,
						engine_teardown),
		cmocka_unit_test_setup_teardown(test_engine_stop_says_released_ok, engine_setup,
						engine_teardown),
		cmocka_unit_test_setup_teardown(test_engine_failed_release_exits_nonzero, engine_setup,
						engine_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

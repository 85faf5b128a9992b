/* SPDX-License-Identifier: MIT */
/*
 * cl-stall: the cpg backend against a real corosync that stops answering,
 * for tests/netns/test-cl-stall.sh. It plays vipd's event loop (poll the
 * backend's fd, dispatch, a send every SEND_EVERY_MS) and times every
 * backend call the loop makes (a call that slept longer than
 * MAX_LOOP_CALL_US fails; one only preempted is printed, see timed_end).
 * Phases:
 *
 *   ready   own view and own messages delivered
 *   watch   --watch-ms: the test changes the membership meanwhile (a node
 *           lost, a node joining); the backend must stay alive
 *   stop    SIGSTOP corosync (--corosync-pid): not alive within
 *           timeout + timeout/3 (the probe interval) + SLACK_MS,
 *           while no loop call takes long; it stays stopped --stopped-ms
 *   cont    SIGCONT: alive again, own messages delivered again
 *   free    SIGSTOP again: leave and free return within FREE_WAIT_MS + SLACK_MS
 *
 * One line per phase, then "RESULT ..." with the numbers; exit 0 when every
 * check held. corosync is always continued on the way out (signals, alarm).
 *
 *   cl-stall --corosync-pid PID [--timeout-ms MS] [--watch-ms MS] [--stopped-ms MS]
 */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"

#define SEND_EVERY_MS 20
#define SLACK_MS 100 /* scheduling on a loaded test machine */
#define MAX_LOOP_CALL_US 20000
#define FREE_WAIT_MS 1000 /* VIP_CL_CPG_FREE_WAIT_MS (cluster/backend-cpg.h) */

static volatile pid_t corosync_pid;

struct st {
	const struct vip_cl_backend_ops *ops;
	struct vip_cl_backend *b;
	struct vip_cl_member self;
	bool in_view, lost, alive;
	size_t own_delivered, live_false, live_true;
	uint64_t t_dead, t_alive;
	uint64_t max_call_us, max_any_us, refused, sent;
	uint64_t next_send, seq;
};

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t now_ms(void)
{
	return now_us() / 1000;
}

static void cont_and_exit(int sig)
{
	if (corosync_pid > 0)
		kill(corosync_pid, SIGCONT);
	_exit(sig == SIGALRM ? 3 : 2);
}

static void on_view(void *u, const struct vip_cl_view *v)
{
	struct st *s = u;
	s->in_view = v->self >= 0;
}

static void on_message(void *u, const struct vip_cl_member *from, const void *d, size_t len)
{
	struct st *s = u;
	(void)d;
	(void)len;
	if (from->nodeid == s->self.nodeid && from->pid == s->self.pid)
		s->own_delivered++;
}

static void on_quorum(void *u, bool q)
{
	(void)u;
	(void)q;
}

static void on_lost(void *u, int e)
{
	struct st *s = u;
	s->lost = true;
	printf("LOST %s\n", strerror(-e));
}

static void on_liveness(void *u, bool alive)
{
	struct st *s = u;
	s->alive = alive;
	if (alive) {
		s->live_true++;
		s->t_alive = now_ms();
	} else {
		s->live_false++;
		s->t_dead = now_ms();
	}
	printf("LIVENESS %d\n", alive);
	fflush(stdout);
}

static long voluntary_switches(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_nvcsw : 0;
}

/*
 * Time one loop-thread call. A call that waited for something (on corosync,
 * say) went to sleep: the thread's voluntary context switches grew. One that
 * was only preempted on a busy machine did not; its wall time goes to
 * max_any_us (printed) but not to max_call_us (checked).
 */
static void timed_end(struct st *s, uint64_t t0, long v0)
{
	uint64_t t = now_us() - t0;

	if (t > s->max_any_us)
		s->max_any_us = t;
	if (voluntary_switches() != v0 && t > s->max_call_us)
		s->max_call_us = t;
}

/* One turn of the loop: wait for the fd (10 ms at most), dispatch, maybe send. */
static void turn(struct st *s)
{
	struct pollfd p = { .fd = s->ops->fd(s->b), .events = POLLIN };
	char msg[32];
	uint64_t t;
	long v;

	poll(&p, 1, 10);
	v = voluntary_switches();
	t = now_us();
	s->ops->dispatch(s->b);
	timed_end(s, t, v);
	if (now_ms() < s->next_send || !s->in_view)
		return;
	s->next_send = now_ms() + SEND_EVERY_MS;
	int n = snprintf(msg, sizeof(msg), "VCstall %llu", (unsigned long long)++s->seq);
	v = voluntary_switches();
	t = now_us();
	int r = s->ops->send(s->b, msg, (size_t)n);
	timed_end(s, t, v);
	if (r == -EAGAIN)
		s->refused++;
	else if (r == 0)
		s->sent++;
}

/* Run the loop until done(s) or ms pass; true when done. */
static bool run(struct st *s, bool (*done)(const struct st *), unsigned ms)
{
	uint64_t end = now_ms() + ms;
	while (now_ms() < end && !s->lost) {
		turn(s);
		if (done && done(s))
			return true;
	}
	return false;
}

static size_t want_delivered;
static bool ready(const struct st *s)
{
	return s->in_view && s->own_delivered >= want_delivered;
}
static bool dead(const struct st *s)
{
	return s->live_false > 0;
}
static bool back(const struct st *s)
{
	return s->live_true > 0 && s->own_delivered >= want_delivered;
}

struct args {
	unsigned timeout, watch, stopped;
};

static int parse(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "corosync-pid", required_argument, NULL, 'p' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "watch-ms", required_argument, NULL, 'w' },
		{ "stopped-ms", required_argument, NULL, 's' },
		{ 0 },
	};
	int c;

	*a = (struct args){ .timeout = 150, .stopped = 1000 };
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			corosync_pid = (pid_t)atoi(optarg);
			break;
		case 't':
			a->timeout = (unsigned)atoi(optarg);
			break;
		case 'w':
			a->watch = (unsigned)atoi(optarg);
			break;
		case 's':
			a->stopped = (unsigned)atoi(optarg);
			break;
		default:
			return -1;
		}
	}
	if (corosync_pid <= 0 || a->timeout == 0) {
		fprintf(stderr, "usage: cl-stall --corosync-pid PID [--timeout-ms MS] [--watch-ms MS] "
				"[--stopped-ms MS]\n");
		return -1;
	}
	return 0;
}

/* Connect, join, arm the watchdog, wait for our own view and messages. 0, or 1 / 77. */
static int start(struct st *s, unsigned timeout)
{
	static const struct vip_cl_backend_cbs cbs = {
		.view = on_view,
		.message = on_message,
		.quorum = on_quorum,
		.lost = on_lost,
		.liveness = on_liveness,
	};
	int r;

	s->ops = vip_cl_backend_find("cpg");
	if (!s->ops)
		return 77;
	if (!s->ops->set_liveness_timeout)
		return printf("FAIL: the cpg backend has no liveness watchdog\n"), 1;
	r = s->ops->connect(&cbs, s, &s->b);
	if (r == 0)
		r = s->ops->join(s->b, "vipd_clstall");
	if (r < 0)
		return printf("FAIL: connect/join: %s\n", strerror(-r)), 1;
	s->ops->local(s->b, &s->self);
	s->ops->set_liveness_timeout(s->b, timeout);
	want_delivered = 5;
	if (!run(s, ready, 10000))
		return printf("FAIL: no view with self and own messages within 10 s\n"), 1;
	printf("READY\n");
	return 0;
}

/* SIGSTOP, stay stopped, SIGCONT; checks the watchdog and the loop's calls. Failures. */
static int stall(struct st *s, const struct args *a, uint64_t watch_max)
{
	unsigned bound = a->timeout + a->timeout / 3 + SLACK_MS;
	int fail = 0;

	s->max_call_us = 0;
	s->max_any_us = 0;
	s->refused = 0;
	uint64_t t_stop = now_ms();
	kill(corosync_pid, SIGSTOP);
	bool tripped = run(s, dead, bound + 2000);
	run(s, NULL, a->stopped); /* stopped a while longer: the queue fills, nothing blocks */
	printf("STOPPED %u ms\n", (unsigned)(now_ms() - t_stop));
	uint64_t stop_max = s->max_call_us, stop_any = s->max_any_us;
	uint64_t t_cont = now_ms();
	kill(corosync_pid, SIGCONT);
	want_delivered = s->own_delivered + 5;
	bool recovered = run(s, back, 10000);
	unsigned to_dead = tripped ? (unsigned)(s->t_dead - t_stop) : 0;
	unsigned to_alive = recovered ? (unsigned)(s->t_alive - t_cont) : 0;
	printf("RESULT timeout_ms=%u stop_to_not_alive_ms=%u bound_ms=%u max_loop_call_us_stopped=%llu "
	       "max_loop_call_us_watch=%llu sends_refused_while_stopped=%llu cont_to_alive_ms=%u "
	       "liveness_false=%zu liveness_true=%zu lost=%d max_loop_call_any_us_stopped=%llu\n",
	       a->timeout, to_dead, bound, (unsigned long long)stop_max, (unsigned long long)watch_max,
	       (unsigned long long)s->refused, to_alive, s->live_false, s->live_true, s->lost,
	       (unsigned long long)stop_any);
	if (!tripped || to_dead > bound)
		fail = printf("FAIL: not reported not alive within %u ms of SIGSTOP\n", bound);
	if (stop_max > MAX_LOOP_CALL_US || watch_max > MAX_LOOP_CALL_US)
		fail = printf("FAIL: a loop-thread call took longer than %u us\n", MAX_LOOP_CALL_US);
	if (!recovered)
		fail = printf("FAIL: not alive again (with own messages delivered) within 10 s of SIGCONT\n");
	if (s->live_false != 1 || s->lost)
		fail = printf("FAIL: liveness(false) %zu times, lost %d\n", s->live_false, s->lost);
	return fail;
}

/* Leave and free with corosync stopped: bounded, the worker is left behind. Failures. */
static int stopped_free(struct st *s)
{
	int fail = 0;

	kill(corosync_pid, SIGSTOP);
	uint64_t t = now_us();
	s->ops->leave(s->b);
	s->ops->free(s->b);
	t = now_us() - t;
	kill(corosync_pid, SIGCONT);
	printf("FREE with corosync stopped took %llu us\n", (unsigned long long)t);
	if (t > (FREE_WAIT_MS + SLACK_MS) * 1000ull)
		fail = printf("FAIL: free() took longer than %u ms\n", FREE_WAIT_MS + SLACK_MS);
	usleep(200000); /* the worker finalizes once corosync runs again */
	return fail;
}

int main(int argc, char **argv)
{
	struct st s = { .alive = true };
	struct args a;
	int fail = 0, r;

	if (parse(argc, argv, &a) < 0)
		return 2;
	signal(SIGTERM, cont_and_exit);
	signal(SIGINT, cont_and_exit);
	signal(SIGALRM, cont_and_exit);
	alarm(60 + a.watch / 1000 + a.stopped / 1000);
	setvbuf(stdout, NULL, _IOLBF, 0);
	r = start(&s, a.timeout);
	if (r)
		return r;
	if (a.watch) {
		run(&s, dead, a.watch);
		printf("WATCHED %u ms: liveness_false=%zu max_call_us=%llu (slept; any: %llu)\n", a.watch,
		       s.live_false, (unsigned long long)s.max_call_us, (unsigned long long)s.max_any_us);
		if (s.live_false || s.lost)
			fail = printf("FAIL: not alive (or lost) while the membership changed\n");
	}
	fail |= stall(&s, &a, s.max_call_us);
	fail |= stopped_free(&s);
	return fail ? 1 : 0;
}

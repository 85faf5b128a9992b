/* SPDX-License-Identifier: MIT */
/* The event loop: fds, timers (one-shot, periodic, ordering), signals, exit. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "loop.h"
#include "util.h"

struct fdctx {
	struct loop *l;
	int hits;
	uint32_t revents;
	int other_fd; /* removed by the callback when >= 0 */
};

static void on_fd(struct loop *l, int fd, uint32_t revents, void *data)
{
	struct fdctx *c = data;
	char buf[64];

	c->hits++;
	c->revents = revents;
	(void)!read(fd, buf, sizeof(buf));
	if (c->other_fd >= 0)
		loop_remove_fd(l, c->other_fd);
}

static void test_fd(void **state _unused_)
{
	struct loop *l;
	struct fdctx c = { .other_fd = -1 };
	int p[2];

	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(loop_add_fd(l, p[0], EPOLLIN, on_fd, &c), 0);
	assert_int_equal(loop_add_fd(l, p[0], EPOLLIN, on_fd, &c), -EEXIST);
	assert_int_equal(loop_add_fd(l, -1, EPOLLIN, on_fd, &c), -EINVAL);
	assert_int_equal(loop_iterate(l, 0), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(loop_iterate(l, 1000), 1);
	assert_int_equal(c.hits, 1);
	assert_true(c.revents & EPOLLIN);
	/* Masked out: nothing fires while data waits. */
	assert_int_equal(loop_mod_fd(l, p[0], 0), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(loop_iterate(l, 20), 0);
	assert_int_equal(loop_mod_fd(l, p[0], EPOLLIN), 0);
	assert_int_equal(loop_iterate(l, 1000), 1);
	assert_int_equal(c.hits, 2);
	assert_int_equal(loop_remove_fd(l, p[0]), 0);
	assert_int_equal(loop_remove_fd(l, p[0]), -ENOENT);
	assert_int_equal(loop_mod_fd(l, p[0], EPOLLIN), -ENOENT);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(loop_iterate(l, 20), 0);
	assert_int_equal(c.hits, 2);
	loop_free(l);
	close(p[0]);
	close(p[1]);
}

/* Two ready fds; whichever runs first removes the other: it must not fire. */
static void test_fd_remove_in_batch(void **state _unused_)
{
	struct loop *l;
	int a[2], b[2];
	struct fdctx ca = { 0 }, cb = { 0 };

	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	ca.other_fd = b[0];
	cb.other_fd = a[0];
	assert_int_equal(loop_add_fd(l, a[0], EPOLLIN, on_fd, &ca), 0);
	assert_int_equal(loop_add_fd(l, b[0], EPOLLIN, on_fd, &cb), 0);
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "x", 1), 1);
	assert_int_equal(loop_iterate(l, 1000), 1);
	assert_int_equal(ca.hits + cb.hits, 1);
	loop_free(l);
	close(a[0]), close(a[1]), close(b[0]), close(b[1]);
}

struct tctx {
	int hits;
	uint64_t fired_at[64];
	int order[64];
	int id;
	int *log; /* shared order log */
	int *n_log;
	bool rearm_zero;
	bool free_self;
	bool exit_loop;
};

static void on_timer(struct loop *l, struct loop_timer *t, void *data)
{
	struct tctx *c = data;

	if (c->hits < 64)
		c->fired_at[c->hits] = loop_now_ms();
	c->hits++;
	if (c->log)
		c->log[(*c->n_log)++] = c->id;
	if (c->rearm_zero)
		assert_int_equal(loop_timer_arm(t, 0, 0), 0);
	if (c->exit_loop)
		loop_exit(l, 7);
	if (c->free_self)
		loop_timer_free(t);
}

/* Run the loop for about ms milliseconds (bounded). */
static void run_for(struct loop *l, uint64_t ms)
{
	uint64_t end = loop_now_ms() + ms;

	for (int i = 0; i < 10000 && loop_now_ms() < end; i++)
		loop_iterate(l, (int)(end - loop_now_ms()) + 1);
}

static void test_timer_oneshot_periodic(void **state _unused_)
{
	struct loop *l;
	struct loop_timer *one, *per;
	struct tctx c1 = { 0 }, c2 = { 0 };

	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(loop_timer_new(l, on_timer, &c1, &one), 0);
	assert_int_equal(loop_timer_new(l, on_timer, &c2, &per), 0);
	assert_false(loop_timer_is_armed(one));
	uint64_t t0 = loop_now_ms();
	assert_int_equal(loop_timer_arm(one, 30, 0), 0);
	assert_int_equal(loop_timer_arm(per, 10, 10), 0);
	assert_true(loop_timer_is_armed(one));
	assert_true(loop_timer_deadline(one) >= t0 + 30);
	run_for(l, 75);
	assert_int_equal(c1.hits, 1);
	assert_true(c1.fired_at[0] >= t0 + 30);
	assert_false(loop_timer_is_armed(one));
	/* 10 ms period over 75 ms: 7 expected; allow scheduling noise on a busy box. */
	assert_in_range(c2.hits, 4, 8);
	for (int i = 1; i < c2.hits && i < 64; i++)
		assert_true(c2.fired_at[i] >= c2.fired_at[i - 1] + 9);
	loop_timer_disarm(per);
	int hits = c2.hits;
	run_for(l, 30);
	assert_int_equal(c2.hits, hits);
	loop_timer_free(one);
	loop_timer_free(per);
	loop_free(l);
}

static void test_timer_order(void **state _unused_)
{
	enum { N = 200 };
	struct loop *l;
	struct loop_timer *t[N];
	struct tctx c[N];
	int log[N], n_log = 0;
	uint64_t due[N];

	srand(7);
	assert_int_equal(loop_new(&l), 0);
	for (int i = 0; i < N; i++) {
		c[i] = (struct tctx){ .id = i, .log = log, .n_log = &n_log };
		assert_int_equal(loop_timer_new(l, on_timer, &c[i], &t[i]), 0);
		assert_int_equal(loop_timer_arm(t[i], (uint64_t)(rand() % 40), 0), 0);
	}
	/* Re-arm some and disarm a few to exercise heap removal in the middle. */
	for (int i = 0; i < N; i += 7)
		assert_int_equal(loop_timer_arm(t[i], (uint64_t)(rand() % 40), 0), 0);
	for (int i = 3; i < N; i += 50)
		loop_timer_disarm(t[i]);
	for (int i = 0; i < N; i++)
		due[i] = loop_timer_deadline(t[i]);
	run_for(l, 80);
	int expected = 0;
	for (int i = 0; i < N; i++)
		expected += due[i] ? 1 : 0;
	assert_int_equal(n_log, expected);
	for (int i = 1; i < n_log; i++)
		assert_true(due[log[i - 1]] <= due[log[i]]);
	for (int i = 0; i < N; i++)
		loop_timer_free(t[i]);
	loop_free(l);
}

static void test_timer_rearm_and_free_in_callback(void **state _unused_)
{
	struct loop *l;
	struct loop_timer *a, *b;
	struct tctx ca = { .rearm_zero = true }, cb = { .free_self = true };

	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(loop_timer_new(l, on_timer, &ca, &a), 0);
	assert_int_equal(loop_timer_new(l, on_timer, &cb, &b), 0);
	assert_int_equal(loop_timer_arm(a, 0, 0), 0);
	assert_int_equal(loop_timer_arm(b, 0, 5), 0);
	/* A 0 ms re-arm from its own callback runs once per round, not forever. */
	assert_int_equal(loop_iterate(l, 1000), 2);
	assert_int_equal(ca.hits, 1);
	assert_int_equal(cb.hits, 1);
	assert_int_equal(loop_iterate(l, 1000), 1);
	assert_int_equal(ca.hits, 2);
	assert_int_equal(cb.hits, 1); /* freed itself though periodic */
	loop_timer_free(a);
	loop_free(l);
}

static void test_run_exit(void **state _unused_)
{
	struct loop *l;
	struct loop_timer *t;
	struct tctx c = { .exit_loop = true };

	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(loop_timer_new(l, on_timer, &c, &t), 0);
	assert_int_equal(loop_timer_arm(t, 5, 0), 0);
	assert_false(loop_is_exiting(l));
	assert_int_equal(loop_run(l), 7);
	assert_int_equal(c.hits, 1);
	loop_timer_free(t);
	loop_free(l);
}

struct sctx {
	int hits;
	int signo;
};

static void on_signal(struct loop *l _unused_, const struct signalfd_siginfo *si, void *data)
{
	struct sctx *c = data;

	c->hits++;
	c->signo = (int)si->ssi_signo;
}

static void test_signals(void **state _unused_)
{
	struct loop *l;
	struct sctx hup = { 0 }, term = { 0 };
	sigset_t cur;

	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(loop_add_signal(l, SIGKILL, on_signal, &hup), -EINVAL);
	assert_int_equal(loop_add_signal(l, 0, on_signal, &hup), -EINVAL);
	assert_int_equal(loop_add_signal(l, SIGHUP, on_signal, &hup), 0);
	assert_int_equal(loop_add_signal(l, SIGTERM, on_signal, &term), 0);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	assert_true(sigismember(&cur, SIGHUP));
	assert_false(sigismember(loop_signal_mask_saved(l), SIGHUP));
	/* Delivered through the signalfd: the process survives SIGHUP/SIGTERM. */
	assert_int_equal(kill(getpid(), SIGHUP), 0);
	for (int i = 0; i < 10 && hup.hits == 0; i++)
		loop_iterate(l, 100);
	assert_int_equal(hup.hits, 1);
	assert_int_equal(hup.signo, SIGHUP);
	assert_int_equal(term.hits, 0);
	assert_int_equal(raise(SIGTERM), 0);
	for (int i = 0; i < 10 && term.hits == 0; i++)
		loop_iterate(l, 100);
	assert_int_equal(term.hits, 1);
	assert_int_equal(term.signo, SIGTERM);
	assert_int_equal(loop_remove_signal(l, SIGHUP), 0);
	assert_int_equal(loop_remove_signal(l, SIGHUP), -ENOENT);
	loop_free(l);
	/* The mask is restored: SIGHUP is deliverable again. */
	sigprocmask(SIG_BLOCK, NULL, &cur);
	assert_false(sigismember(&cur, SIGHUP));
	assert_false(sigismember(&cur, SIGTERM));
}

static void test_now(void **state _unused_)
{
	uint64_t a = loop_now_ms();

	usleep(20000);
	uint64_t b = loop_now_ms();
	assert_true(b >= a + 19);
	assert_true(b < a + 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd),
		cmocka_unit_test(test_fd_remove_in_batch),
		cmocka_unit_test(test_timer_oneshot_periodic),
		cmocka_unit_test(test_timer_order),
		cmocka_unit_test(test_timer_rearm_and_free_in_callback),
		cmocka_unit_test(test_run_exit),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_now),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

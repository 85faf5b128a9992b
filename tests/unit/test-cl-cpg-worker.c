/* SPDX-License-Identifier: MIT */
/*
 * The cpg backend's worker thread against the fake libcpg/libquorum
 * (-Wl,--wrap, fake-cpg.c): nothing waits for corosync on the caller's
 * thread (the test's, playing vipd's loop): sends go out in order from the
 * worker (TRY_AGAIN retried there), the queue is bounded, a
 * multicast that never returns blocks neither send nor dispatch, a hung
 * probe or a heartbeat that never comes back is reported through
 * cbs.liveness, heartbeats never reach cbs.message, and free() returns with
 * the worker stuck. The real thing: tests/netns/test-cl-corosync.sh and
 * tests/netns/test-cl-stall.sh.
 */
#include <corosync/cpg.h>
#include <corosync/quorum.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend-cpg.h"
#include "cluster.h"
#include "fake-cpg.h"

static void test_try_again_retried_in_order(void **state)
{
	(void)state;
	const struct vip_cl_backend_ops *ops = cpg();
	struct vip_cl_backend *b;
	struct seen s = { 0 };
	fk.n_script = 4;
	for (size_t i = 0; i < fk.n_script; i++)
		fk.script[i] = CS_ERR_TRY_AGAIN;
	connect_join(ops, &s, &b);
	uint64_t t0 = fake_now_ms();
	assert_int_equal(ops->send(b, "a", 1), 0);
	assert_int_equal(ops->send(b, "b", 1), 0);
	assert_int_equal(ops->send(b, "c", 1), 0);
	want = 3;
	assert_true(fake_wait(sent_enough, 2000));
	assert_true(fake_now_ms() - t0 >= 1 + 2 + 4 + 8); /* backed off */
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(fake_sent_get(i).data[0], 'a' + i);
	fake_lock();
	assert_int_equal(fk.mcast_calls, 3 + 4);
	fake_unlock();
	assert_false(pump(ops, b, &s, was_lost, 50, false));
	ops->free(b);
}

/* A multicast that never returns blocks neither send() nor dispatch(). */
static void test_stuck_mcast_blocks_nothing(void **state)
{
	(void)state;
	const struct vip_cl_backend_ops *ops = cpg();
	struct vip_cl_backend *b;
	struct seen s = { 0 };
	uint64_t longest = 0;
	uint8_t msg[8] = { 'V', 'C' };
	size_t n = 0;
	int r;

	fk.block_mcast = true;
	connect_join(ops, &s, &b);
	assert_int_equal(ops->send(b, msg, sizeof(msg)), 0);
	n++;
	assert_true(fake_wait(in_mcast, 2000));
	for (;;) {
		msg[4] = (uint8_t)(n >> 8);
		msg[5] = (uint8_t)n;
		uint64_t t = now_us();
		r = ops->send(b, msg, sizeof(msg));
		t = now_us() - t;
		longest = t > longest ? t : longest;
		if (r < 0)
			break;
		n++;
	}
	assert_int_equal(r, -EAGAIN);
	assert_int_equal(n, VIP_CL_CPG_QUEUE_MAX); /* bounded by count */
	kick(fk.cpg_fd);
	assert_false(pump(ops, b, &s, NULL, 100, false));
	assert_int_equal(s.views, 1); /* dispatch still delivers */
	longest = longest_us > longest ? longest_us : longest;
	print_message("longest send/dispatch with the multicast stuck: %llu us\n",
		      (unsigned long long)longest);
	assert_true(longest < 50000);
	fake_release(&fk.block_mcast);
	want = n;
	assert_true(fake_wait(sent_enough, 5000));
	for (size_t i = 1; i < n; i++) {
		struct fake_sent m = fake_sent_get(i);
		assert_int_equal(m.data[4] << 8 | m.data[5], i);
	}
	/* room again: the fd said so */
	struct pollfd p = { .fd = ops->fd(b), .events = POLLIN };
	assert_int_equal(poll(&p, 1, 1000), 1);
	assert_int_equal(ops->send(b, msg, sizeof(msg)), 0);
	ops->free(b);
}

/* The queue is bounded by bytes too. */
static void test_queue_bytes_bound(void **state)
{
	(void)state;
	const struct vip_cl_backend_ops *ops = cpg();
	struct vip_cl_backend *b;
	struct seen s = { 0 };
	size_t len = VIP_CL_CPG_QUEUE_BYTES / 4, n = 0;
	uint8_t *big = calloc(1, len);

	assert_non_null(big);
	fk.block_mcast = true;
	connect_join(ops, &s, &b);
	while (n < 10 && ops->send(b, big, len) == 0)
		n++;
	assert_int_equal(n, 4);
	assert_int_equal(ops->send(b, big, len), -EAGAIN);
	assert_int_equal(ops->send(b, "small", 5), -EAGAIN);
	fake_release(&fk.block_mcast);
	want = 4;
	assert_true(fake_wait(sent_enough, 5000));
	free(big);
	ops->free(b);
}

/* A probe that hangs: not alive after the timeout, alive once it returns. */
static void test_liveness_probe_hang(void **state)
{
	(void)state;
	const struct vip_cl_backend_ops *ops = cpg();
	struct vip_cl_backend *b;
	struct seen s = { 0 };
	const unsigned timeout = 100;

	connect_join(ops, &s, &b);
	assert_non_null(ops->set_liveness_timeout);
	ops->set_liveness_timeout(b, timeout);
	assert_false(pump(ops, b, &s, went_dead, 300, true)); /* healthy: nothing */
	fake_lock();
	assert_true(fk.local_calls >= 1 + 300 / (timeout / 3) - 2); /* probes every timeout/3 */
	fk.block_local = true;
	fake_unlock();
	assert_true(fake_wait(in_local, 1000));
	uint64_t t_hang = fake_now_ms();
	assert_true(pump(ops, b, &s, went_dead, 2000, true));
	uint64_t after = s.live_false_at - t_hang;
	print_message("not alive %llu ms after the probe hung (timeout %u ms)\n", (unsigned long long)after,
		      timeout);
	assert_true(after >= timeout - 5);
	assert_true(after <= timeout + timeout / 10 + 50);
	assert_false(s.alive);
	assert_true(longest_us < 50000); /* the loop never waited */
	assert_int_equal(ops->send(b, "x", 1), 0);
	assert_false(pump(ops, b, &s, came_back, 200, true));
	assert_int_equal(s.live_false, 1); /* once */
	uint64_t t_rel = fake_now_ms();
	fake_release(&fk.block_local);
	assert_true(pump(ops, b, &s, came_back, 1000, true));
	assert_true(s.live_true_at - t_rel <= 100);
	assert_true(s.alive);
	assert_int_equal(s.live_false, 1);
	ops->set_liveness_timeout(b, 0);
	ops->free(b);
}

static bool went_dead_twice(const struct seen *s)
{
	return s->live_false >= 2;
}

/* Heartbeats never reach cbs.message; one that does not come back trips liveness. */
static void test_heartbeat_filtered_and_ring_stall(void **state)
{
	(void)state;
	const struct vip_cl_backend_ops *ops = cpg();
	struct vip_cl_backend *b;
	struct seen s = { 0 };
	const unsigned timeout = 100, deadline = 2000; /* max(10 x timeout, 2 s) */

	connect_join(ops, &s, &b);
	ops->set_liveness_timeout(b, timeout);
	assert_false(pump(ops, b, &s, NULL, 30, false));
	want = 1;
	assert_true(fake_wait(sent_enough, 1000));
	uint64_t t_first = fake_now_ms();
	struct fake_sent hb = fake_sent_get(0);
	assert_true(is_hb(&hb));
	deliver(7, (uint32_t)getpid(), hb.data, hb.len); /* ours */
	deliver(8, 99, hb.data, hb.len);                 /* another member's */
	assert_int_equal(s.messages, 0);
	deliver(8, 99, "VC", 2);
	assert_int_equal(s.messages, 1);
	/* no second heartbeat before a quarter of the deadline (a cheap ring) */
	want = 2;
	assert_false(pump(ops, b, &s, NULL, (unsigned)(t_first + deadline / 4 - 50 - fake_now_ms()), false));
	assert_false(fake_wait(sent_enough, 30)); /* the worker had time to send one */
	/* the next heartbeat, a quarter of the deadline later, is held back by the ring */
	assert_false(pump(ops, b, &s, NULL, (unsigned)(t_first + deadline / 4 + 20 - fake_now_ms()), false));
	assert_true(fake_wait(sent_enough, 1000));
	uint64_t t_sent = fake_now_ms();
	hb = fake_sent_get(1);
	assert_true(is_hb(&hb));
	/* a membership change stalls delivery for ~2.2 x token: not a stall */
	assert_false(pump(ops, b, &s, went_dead, 5 * timeout, false));
	assert_true(pump(ops, b, &s, went_dead, deadline + 1000, false));
	uint64_t after = s.live_false_at - t_sent;
	print_message("not alive %llu ms after an undelivered heartbeat (deadline %u ms)\n",
		      (unsigned long long)after, deadline);
	assert_true(after >= deadline - timeout);
	assert_true(after <= deadline + timeout);
	assert_int_equal(fake_n_sent(), 2); /* one in flight at most */
	deliver(7, (uint32_t)getpid(), hb.data, hb.len);
	assert_true(pump(ops, b, &s, came_back, 200, false));
	assert_int_equal(s.live_false, 1);
	assert_int_equal(s.messages, 1);
	ops->free(b);
}

/*
 * A heartbeat pending across a stall of corosync gets a fresh deadline when
 * corosync answers again: the stall was reported already, and the ring
 * re-forms first. Only a ring that stays silent after that trips it again.
 */
static void test_stall_restarts_heartbeat_clock(void **state)
{
	(void)state;
	const struct vip_cl_backend_ops *ops = cpg();
	struct vip_cl_backend *b;
	struct seen s = { 0 };
	const unsigned timeout = 100, deadline = 2000; /* max(10 x timeout, 2 s) */

	connect_join(ops, &s, &b);
	ops->set_liveness_timeout(b, timeout);
	want = 1;
	assert_false(pump(ops, b, &s, NULL, 30, false));
	assert_true(fake_wait(sent_enough, 1000)); /* a heartbeat in flight, never delivered */
	fake_lock();
	fk.block_local = true;
	fake_unlock();
	assert_true(pump(ops, b, &s, went_dead, 1000, false)); /* (a): the probe hangs */
	/* stopped past the heartbeat's deadline */
	assert_false(pump(ops, b, &s, came_back, deadline + 500, false));
	uint64_t t_rel = fake_now_ms();
	fake_release(&fk.block_local);
	assert_true(pump(ops, b, &s, came_back, 500, false));
	assert_int_equal(s.live_false, 1);
	/* a fresh deadline from the stall's end: alive well past the old one */
	assert_false(pump(ops, b, &s, went_dead_twice, deadline - 300, false));
	/* the ring stays silent: not alive again about a deadline after the stall ended */
	assert_true(pump(ops, b, &s, went_dead_twice, 1000, false));
	uint64_t after = s.live_false_at - t_rel;
	print_message("not alive again %llu ms after the stall ended (deadline %u ms)\n",
		      (unsigned long long)after, deadline);
	assert_true(after >= deadline - timeout);
	assert_true(after <= deadline + timeout);
	ops->free(b);
}

/* free() returns while the worker is stuck in corosync; the worker cleans up later. */
static void test_free_with_worker_stuck(void **state)
{
	(void)state;
	const struct vip_cl_backend_ops *ops = cpg();
	struct vip_cl_backend *b;
	struct seen s = { 0 };

	fk.block_mcast = true;
	connect_join(ops, &s, &b);
	assert_int_equal(ops->send(b, "a", 1), 0);
	assert_int_equal(ops->send(b, "b", 1), 0);
	assert_true(fake_wait(in_mcast, 2000));
	uint64_t t0 = fake_now_ms();
	ops->free(b);
	uint64_t took = fake_now_ms() - t0;
	print_message("free() with the worker stuck took %llu ms\n", (unsigned long long)took);
	assert_true(took <= VIP_CL_CPG_FREE_WAIT_MS + 200);
	fake_lock();
	assert_int_equal(fk.finalized, 0);
	fake_unlock();
	fake_release(&fk.block_mcast);
	assert_true(fake_wait(finalized, 2000));
	assert_int_equal(fake_n_sent(), 1); /* what was left is dropped */
	usleep(20000);                      /* the worker frees itself */

	/* a hung cpg_finalize: the same */
	fake_reset();
	fk.block_finalize = true;
	connect_join(ops, &s, &b);
	t0 = fake_now_ms();
	ops->free(b);
	assert_true(fake_now_ms() - t0 <= VIP_CL_CPG_FREE_WAIT_MS + 200);
	fake_release(&fk.block_finalize);
	assert_true(fake_wait(finalized, 2000));
	usleep(20000);
}

/* A corosync that takes the connection but never answers: connect gives up. */
static void test_connect_times_out(void **state)
{
	(void)state;
	const struct vip_cl_backend_ops *ops = cpg();
	struct vip_cl_backend *b = NULL;
	struct seen s = { 0 };

	fk.block_init = true;
	uint64_t t0 = fake_now_ms();
	assert_int_equal(ops->connect(&cbs, &s, &b), -ETIMEDOUT);
	assert_null(b);
	assert_true(fake_now_ms() - t0 <= VIP_CL_CPG_CONNECT_WAIT_MS + 200);
	assert_true(fake_wait(in_init, 100));
	fake_release(&fk.block_init);
	assert_true(fake_wait(finalized, 2000)); /* the late connection is closed again */
	usleep(20000);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_try_again_retried_in_order),
		T(test_stuck_mcast_blocks_nothing),
		T(test_queue_bytes_bound),
		T(test_liveness_probe_hang),
		T(test_heartbeat_filtered_and_ring_stall),
		T(test_stall_restarts_heartbeat_clock),
		T(test_free_with_worker_stuck),
		T(test_connect_times_out),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
/*
 * The cpg backend against a fake libcpg/libquorum (-Wl,--wrap, fake-cpg.c):
 * views with reasons and self, the ring sequence, messages, quorum changes,
 * a lost corosync reported exactly once; and that nothing waits for
 * corosync on the caller's thread (the test's, playing vipd's loop): sends
 * queue and go out in order from the worker (TRY_AGAIN retried there), a
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

static size_t echoed; /* fk.sent[] entries looked at by echo_heartbeats() */

/* ---- the fake's dispatch (fake-cpg.c has the rest) ---- */

cs_error_t __wrap_cpg_dispatch(cpg_handle_t h, cs_dispatch_flags_t f);
cs_error_t __wrap_quorum_dispatch(quorum_handle_t h, cs_dispatch_flags_t f);

/* One dispatch delivers: the totem ring, a view (n8 joined, n9's node went down), a message. */
cs_error_t __wrap_cpg_dispatch(cpg_handle_t h, _unused_ cs_dispatch_flags_t f)
{
	uint64_t v;
	if (read(fk.cpg_fd, &v, sizeof(v)) < 0)
		return CS_ERR_TRY_AGAIN;
	if (fk.dispatch_err != CS_OK)
		return fk.dispatch_err;
	struct cpg_ring_id ring = { .nodeid = 7, .seq = 42 };
	uint32_t ids[2] = { 7, 8 };
	fk.model.cpg_totem_confchg_fn(h, ring, 2, ids);
	struct cpg_address members[2] = { { 7, (uint32_t)getpid(), CPG_REASON_JOIN },
					   { 8, 99, CPG_REASON_JOIN } };
	struct cpg_address left[1] = { { 9, 5, CPG_REASON_NODEDOWN } };
	struct cpg_address joined[1] = { { 8, 99, CPG_REASON_JOIN } };
	struct cpg_name g = { .length = 3, .value = "grp" };
	fk.model.cpg_confchg_fn(h, &g, members, 2, left, 1, joined, 1);
	char msg[] = "hello";
	fk.model.cpg_deliver_fn(h, &g, 8, 99, msg, sizeof(msg));
	return CS_OK;
}

cs_error_t __wrap_quorum_dispatch(quorum_handle_t h, _unused_ cs_dispatch_flags_t f)
{
	uint64_t v;
	if (read(fk.q_fd, &v, sizeof(v)) < 0)
		return CS_ERR_TRY_AGAIN;
	fk.qfn(h, (uint32_t)fk.quorate, 43, 0, NULL);
	return CS_OK;
}

static void kick(int fd)
{
	uint64_t one = 1;
	assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
}

/* ---- what the backend reports ---- */

struct seen {
	size_t views, messages, quorums, lost, live_false, live_true;
	bool quorate, alive;
	uint64_t live_false_at, live_true_at;
	int lost_err;
	struct vip_cl_view v;
	struct vip_cl_member members[4], left[4], joined[4], sender;
	char msg[16];
};

static void cb_view(void *u, const struct vip_cl_view *v)
{
	struct seen *s = u;
	s->views++;
	s->v = *v;
	memcpy(s->members, v->members, v->n_members * sizeof(*v->members));
	memcpy(s->left, v->left, v->n_left * sizeof(*v->left));
	memcpy(s->joined, v->joined, v->n_joined * sizeof(*v->joined));
}

static void cb_message(void *u, const struct vip_cl_member *from, const void *d, size_t len)
{
	struct seen *s = u;
	s->messages++;
	s->sender = *from;
	snprintf(s->msg, sizeof(s->msg), "%.*s", (int)len, (const char *)d);
}

static void cb_quorum(void *u, bool q)
{
	struct seen *s = u;
	s->quorums++;
	s->quorate = q;
}

static void cb_lost(void *u, int err)
{
	struct seen *s = u;
	s->lost++;
	s->lost_err = err;
}

static void cb_liveness(void *u, bool alive)
{
	struct seen *s = u;
	s->alive = alive;
	if (alive) {
		s->live_true++;
		s->live_true_at = fake_now_ms();
	} else {
		s->live_false++;
		s->live_false_at = fake_now_ms();
	}
}

static const struct vip_cl_backend_cbs cbs = {
	.view = cb_view, .message = cb_message, .quorum = cb_quorum, .lost = cb_lost,
	.liveness = cb_liveness,
};

static int setup(void **state)
{
	(void)state;
	fake_reset();
	echoed = 0;
	return 0;
}

/* Nothing that waits for corosync ran on the test's (the loop's) thread. */
static int teardown(void **state)
{
	(void)state;
	fake_lock();
	bool on_loop = fk.on_loop_thread, bad_iov = fk.bad_iov;
	fake_unlock();
	assert_false(on_loop);
	assert_false(bad_iov);
	return 0;
}

static const struct vip_cl_backend_ops *cpg(void)
{
	const struct vip_cl_backend_ops *ops = vip_cl_backend_find("cpg");
	assert_non_null(ops);
	return ops;
}

static void test_view_message_quorum(void **state)
{
	(void)state;
	const struct vip_cl_backend_ops *ops = cpg();
	struct vip_cl_backend *b;
	struct seen s = { 0 };
	assert_int_equal(ops->connect(&cbs, &s, &b), 0);
	assert_false(ops->is_quorate(b));
	struct vip_cl_member me;
	assert_int_equal(ops->local(b, &me), 0);
	assert_int_equal(me.nodeid, 7);
	assert_int_equal(me.pid, (uint32_t)getpid());
	assert_int_equal(ops->join(b, "ec_cluster"), 0);

	kick(fk.cpg_fd);
	assert_int_equal(ops->dispatch(b), 0);
	assert_int_equal(s.quorums, 1); /* the current value, once after join */
	assert_false(s.quorate);
	assert_int_equal(s.views, 1);
	assert_int_equal(s.v.n_members, 2);
	assert_int_equal(s.v.self, 0);
	assert_int_equal(s.v.ring_seq, 42);
	assert_int_equal(s.members[1].nodeid, 8);
	assert_int_equal(s.v.n_left, 1);
	assert_int_equal(s.left[0].reason, VIP_CL_REASON_NODEDOWN);
	assert_int_equal(s.joined[0].reason, VIP_CL_REASON_JOIN);
	assert_int_equal(s.messages, 1);
	assert_int_equal(s.sender.nodeid, 8);
	assert_int_equal(s.sender.pid, 99);
	assert_string_equal(s.msg, "hello");

	fk.quorate = 1;
	kick(fk.q_fd);
	assert_int_equal(ops->dispatch(b), 0);
	assert_int_equal(s.quorums, 2);
	assert_true(s.quorate);
	assert_true(ops->is_quorate(b));
	assert_int_equal(s.lost, 0);
	assert_int_equal(ops->leave(b), 0);
	assert_int_equal(ops->leave(b), -ENOTCONN);
	ops->free(b);
	assert_int_equal(fk.finalized, 1);
	assert_int_equal(fk.joins, 1);
	assert_int_equal(fk.leaves, 1); /* queued, run before the worker finalized */
}

/* ---- the loop side of the threaded backend ---- */

static uint64_t longest_us; /* the longest dispatch() of the last pump() */

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static bool is_hb(const struct fake_sent *m)
{
	return m->len == 16 && m->data[0] == 0 && m->data[1] == 'v' && m->data[2] == 'h' &&
	       m->data[3] == 'b';
}

static void deliver(uint32_t nodeid, uint32_t pid, const void *data, size_t len)
{
	struct cpg_name g = { .length = 3, .value = "grp" };
	fk.model.cpg_deliver_fn(1, &g, nodeid, pid, (void *)data, len);
}

/* Deliver our own heartbeats back, as a healthy ring would. */
static void echo_heartbeats(void)
{
	for (size_t n = fake_n_sent(); echoed < n; echoed++) {
		struct fake_sent m = fake_sent_get(echoed);
		if (is_hb(&m))
			deliver(7, (uint32_t)getpid(), m.data, m.len);
	}
}

/* The event loop: poll the backend's fd and dispatch until pred holds or ms pass. */
static bool pump(const struct vip_cl_backend_ops *ops, struct vip_cl_backend *b, struct seen *s,
		 bool (*pred)(const struct seen *), unsigned ms, bool echo)
{
	uint64_t end = fake_now_ms() + ms;

	longest_us = 0;
	while (!(pred && pred(s))) {
		uint64_t now = fake_now_ms();
		if (now >= end)
			return false;
		struct pollfd p = { .fd = ops->fd(b), .events = POLLIN };
		poll(&p, 1, (int)(end - now));
		uint64_t t = now_us();
		ops->dispatch(b);
		t = now_us() - t;
		if (t > longest_us)
			longest_us = t;
		if (echo)
			echo_heartbeats();
	}
	return true;
}

static bool was_lost(const struct seen *s) { return s->lost > 0; }
static bool went_dead(const struct seen *s) { return s->live_false > 0; }
static bool came_back(const struct seen *s) { return s->live_true > 0; }

static size_t want;
static bool sent_enough(void) { return fk.n_sent >= want; }
static bool in_mcast(void) { return fk.in_mcast; }
static bool in_local(void) { return fk.in_local; }
static bool in_init(void) { return fk.in_init; }
static bool finalized(void) { return fk.finalized >= 1 && fk.q_finalized >= 1; }

static void connect_join(const struct vip_cl_backend_ops *ops, struct seen *s,
			 struct vip_cl_backend **b)
{
	assert_int_equal(ops->connect(&cbs, s, b), 0);
	assert_int_equal(ops->join(*b, "ec_cluster"), 0);
}

/* Sends are queued and go out from the worker, in order; a refusal for good is lost(). */
static void test_send_queued_in_order(void **state)
{
	(void)state;
	const struct vip_cl_backend_ops *ops = cpg();
	struct vip_cl_backend *b;
	struct seen s = { 0 };
	assert_int_equal(ops->connect(&cbs, &s, &b), 0);
	assert_int_equal(ops->send(b, "x", 1), -ENOTCONN);
	assert_int_equal(ops->join(b, "ec_cluster"), 0);
	assert_int_equal(ops->send(b, "a", 1), 0);
	assert_int_equal(ops->send(b, "bb", 2), 0);
	assert_int_equal(ops->send(b, "ccc", 3), 0);
	want = 3;
	assert_true(fake_wait(sent_enough, 2000));
	for (size_t i = 0; i < 3; i++) {
		struct fake_sent m = fake_sent_get(i);
		assert_int_equal(m.len, i + 1);
		assert_int_equal(m.data[0], 'a' + i);
	}
	assert_int_equal(fk.guarantee, CPG_TYPE_AGREED);
	/* reserved for the backend's heartbeat; too big for the queue */
	static const uint8_t hb[16] = { 0, 'v', 'h', 'b' };
	assert_int_equal(ops->send(b, hb, sizeof(hb)), -EINVAL);
	uint8_t *big = calloc(1, VIP_CL_CPG_QUEUE_BYTES + 1);
	assert_non_null(big);
	assert_int_equal(ops->send(b, big, VIP_CL_CPG_QUEUE_BYTES + 1), -EMSGSIZE);
	free(big);
	char longname[200];
	memset(longname, 'g', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(ops->join(b, longname), -EINVAL);
	/* corosync refuses one for good: the next dispatch reports lost() */
	fake_lock();
	fk.mcast_err = CS_ERR_TOO_BIG;
	fake_unlock();
	assert_int_equal(ops->send(b, "d", 1), 0);
	assert_true(pump(ops, b, &s, was_lost, 2000, false));
	assert_int_equal(s.lost, 1);
	assert_int_equal(s.lost_err, -EMSGSIZE);
	assert_int_equal(ops->send(b, "e", 1), -ECONNRESET);
	ops->free(b);
}

/* CS_ERR_TRY_AGAIN is retried by the worker, with a back-off, in order. */
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
	print_message("not alive %llu ms after the probe hung (timeout %u ms)\n",
		      (unsigned long long)after, timeout);
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
	struct fake_sent hb = fake_sent_get(0);
	assert_true(is_hb(&hb));
	deliver(7, (uint32_t)getpid(), hb.data, hb.len); /* ours */
	deliver(8, 99, hb.data, hb.len);                 /* another member's */
	assert_int_equal(s.messages, 0);
	deliver(8, 99, "VC", 2);
	assert_int_equal(s.messages, 1);
	/* the next heartbeat, a quarter of the deadline later, is held back by the ring */
	want = 2;
	assert_false(pump(ops, b, &s, NULL, deadline / 4 + timeout, false));
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

static void test_lost_once(void **state)
{
	(void)state;
	const struct vip_cl_backend_ops *ops = cpg();
	struct vip_cl_backend *b;
	struct seen s = { 0 };
	assert_int_equal(ops->connect(&cbs, &s, &b), 0);
	assert_int_equal(ops->join(b, "ec_cluster"), 0);
	fk.dispatch_err = CS_ERR_LIBRARY; /* corosync went away */
	kick(fk.cpg_fd);
	assert_int_equal(ops->dispatch(b), -ECONNRESET);
	assert_int_equal(s.lost, 1);
	assert_int_equal(s.lost_err, -ECONNRESET);
	assert_int_equal(ops->dispatch(b), -ECONNRESET);
	assert_int_equal(s.lost, 1); /* once */
	assert_int_equal(ops->send(b, "x", 1), -ECONNRESET);
	assert_false(ops->is_quorate(b));
	ops->free(b);
}

static void test_connect_refused_and_no_provider(void **state)
{
	(void)state;
	const struct vip_cl_backend_ops *ops = cpg();
	struct vip_cl_backend *b = NULL;
	struct seen s = { 0 };
	fk.init_err = CS_ERR_LIBRARY; /* corosync not running */
	assert_int_equal(ops->connect(&cbs, &s, &b), -ECONNREFUSED);
	assert_null(b);
	fk.init_err = CS_OK;
	fk.qtype = QUORUM_FREE; /* no quorum provider: always quorate */
	assert_int_equal(ops->connect(&cbs, &s, &b), 0);
	assert_true(ops->is_quorate(b));
	ops->free(b);
	ops->free(NULL);
}

static void view_of(size_t n_members, size_t n_left, uint32_t reason)
{
	struct cpg_address members[3] = { { 7, (uint32_t)getpid(), CPG_REASON_JOIN },
					   { 8, 99, CPG_REASON_JOIN }, { 9, 98, CPG_REASON_JOIN } };
	struct cpg_address left[2] = { { 8, 99, reason }, { 9, 98, reason } };
	struct cpg_name g = { .length = 3, .value = "grp" };
	fk.model.cpg_confchg_fn(1, &g, members, n_members, left, n_left, NULL, 0);
}

static void totem(uint64_t seq, uint32_t n)
{
	uint32_t ids[3] = { 7, 8, 9 };
	fk.model.cpg_totem_confchg_fn(1, (struct cpg_ring_id){ .nodeid = 7, .seq = seq }, n, ids);
}

/*
 * Membership that lost half or more to node loss is inquorate at once, until
 * the quorum service speaks for that ring: a node cut off for a moment must
 * release before the majority takes its addresses, even when the quorum
 * service never gets to judge the short-lived ring.
 */
static void test_majority_loss_is_inquorate_until_judged(void **state)
{
	(void)state;
	const struct vip_cl_backend_ops *ops = cpg();
	struct vip_cl_backend *b;
	struct seen s = { 0 };

	fk.quorate = 1;
	assert_int_equal(ops->connect(&cbs, &s, &b), 0);
	assert_true(ops->is_quorate(b));
	totem(10, 3);
	fk.qfn(2, 1, 10, 0, NULL);
	assert_true(ops->is_quorate(b));
	totem(14, 2); /* two of three: a majority stays quorate */
	assert_true(ops->is_quorate(b));
	size_t before = s.quorums;
	totem(18, 1); /* one of two: suspect */
	assert_false(ops->is_quorate(b));
	assert_int_equal(s.quorums, before + 1);
	assert_false(s.quorate);
	fk.qfn(2, 1, 14, 0, NULL); /* a verdict on an older ring changes nothing */
	assert_false(ops->is_quorate(b));
	fk.qfn(2, 1, 18, 0, NULL);
	assert_true(ops->is_quorate(b));
	assert_true(s.quorate);

	/* The view before its ring: judged by the members lost to node loss. */
	totem(22, 3);
	fk.qfn(2, 1, 22, 0, NULL);
	view_of(3, 0, CPG_REASON_JOIN);
	view_of(1, 2, CPG_REASON_PROCDOWN); /* processes died, nodes are up: no suspicion */
	assert_true(ops->is_quorate(b));
	view_of(3, 0, CPG_REASON_JOIN);
	view_of(1, 2, CPG_REASON_NODEDOWN);
	assert_false(ops->is_quorate(b));
	totem(26, 1); /* its ring, late: still waiting for a verdict */
	assert_false(ops->is_quorate(b));
	fk.qfn(2, 0, 26, 0, NULL); /* the verdict: inquorate */
	assert_false(ops->is_quorate(b));
	fk.qfn(2, 1, 30, 0, NULL);
	assert_true(ops->is_quorate(b));

	/* The verdict came before the view and no other follows: trusted again later. */
	view_of(3, 0, CPG_REASON_JOIN);
	view_of(1, 2, CPG_REASON_NODEDOWN);
	assert_false(ops->is_quorate(b));
	struct pollfd pfd = { .fd = ops->fd(b), .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 2000), 1); /* bounded: the guard is 500 ms */
	assert_int_equal(ops->dispatch(b), 0);
	assert_true(ops->is_quorate(b));
	assert_true(s.quorate);
	ops->free(b);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_view_message_quorum),
		T(test_majority_loss_is_inquorate_until_judged),
		T(test_send_queued_in_order),
		T(test_try_again_retried_in_order),
		T(test_stuck_mcast_blocks_nothing),
		T(test_queue_bytes_bound),
		T(test_liveness_probe_hang),
		T(test_heartbeat_filtered_and_ring_stall),
		T(test_free_with_worker_stuck),
		T(test_connect_times_out),
		T(test_lost_once),
		T(test_connect_refused_and_no_provider),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * The cpg backend against a fake libcpg/libquorum (-Wl,--wrap, fake-cpg.c):
 * views with reasons and self, the ring sequence, messages, quorum changes,
 * sends queued and multicast in order, a refusal or a lost corosync
 * reported exactly once. Its worker thread: test-cl-cpg-worker.c. The real
 * thing: tests/netns/test-cl-corosync.sh and tests/netns/test-cl-stall.sh.
 */
#include <corosync/cpg.h>
#include <corosync/quorum.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend-cpg.h"
#include "cluster.h"
#include "fake-cpg.h"

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

/* A backend without a quorum callback (the monitor's) never opens the quorum service. */
static void test_no_quorum_callback(void **state)
{
	(void)state;
	const struct vip_cl_backend_ops *ops = cpg();
	struct vip_cl_backend_cbs no_q = cbs;
	struct vip_cl_backend *b;
	struct seen s = { 0 };
	no_q.quorum = NULL;
	assert_int_equal(ops->connect(&no_q, &s, &b), 0);
	assert_int_equal(fk.q_inits, 0);
	assert_true(ops->is_quorate(b));
	assert_int_equal(ops->join(b, "ec_cluster"), 0);
	kick(fk.cpg_fd);
	assert_int_equal(ops->dispatch(b), 0);
	assert_int_equal(s.views, 1);
	assert_int_equal(s.quorums, 0);
	ops->free(b);
	assert_int_equal(fk.q_finalized, 0);
	assert_int_equal(ops->connect(&cbs, &s, &b), 0); /* with one, it does */
	assert_int_equal(fk.q_inits, 1);
	ops->free(b);
}

/* Pages of the stack resident in [from, to), counted page by page (holes skipped). */
static size_t stack_resident(uintptr_t from, uintptr_t to)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n = 0;
	unsigned char vec;
	for (uintptr_t p = from & ~(uintptr_t)(page - 1); p < to; p += page)
		if (mincore((void *)p, page, &vec) == 0 && (vec & 1))
			n++;
	return n;
}

/*
 * A large delivery: libcpg's on-stack buffer leaves the pages it filled
 * resident; the backend gives them back once cpg_dispatch returned
 * (backend-cpg-stack.c). A small one releases nothing.
 */
static void test_big_delivery_gives_stack_back(void **state)
{
	(void)state;
	const struct vip_cl_backend_ops *ops = cpg();
	struct vip_cl_backend *b;
	struct seen s = { 0 };
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	assert_int_equal(ops->connect(&cbs, &s, &b), 0);
	assert_int_equal(ops->join(b, "ec_cluster"), 0);

	fk.big_len = 8u << 10; /* below VIP_CL_CPG_STACK_BIG: nothing given back */
	kick(fk.cpg_fd);
	assert_int_equal(ops->dispatch(b), 0);
	assert_int_equal(s.messages, 1);
	fk.big_len = 512u << 10;
	kick(fk.cpg_fd);
	assert_int_equal(ops->dispatch(b), 0);
	assert_int_equal(s.messages, 2);
	/* the buffer's filled part lies about 1 MiB below this frame */
	size_t left = stack_resident(here - (3u << 20) / 2, here - (64u << 10));
	assert_true(left < (64u << 10) / page);
	ops->free(b);
}

static void view_of(size_t n_members, size_t n_left, uint32_t reason)
{
	struct cpg_address members[3] = { { 7, (uint32_t)getpid(), CPG_REASON_JOIN },
					  { 8, 99, CPG_REASON_JOIN },
					  { 9, 98, CPG_REASON_JOIN } };
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
		T(test_lost_once),
		T(test_connect_refused_and_no_provider),
		T(test_no_quorum_callback),
		T(test_big_delivery_gives_stack_back),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}

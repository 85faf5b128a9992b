/* SPDX-License-Identifier: MIT */
/*
 * The protocol's outputs (docs/protocol.md, "Outputs"): a release is handed
 * out although corosync refuses every send; a newer STATE replaces the
 * waiting one; a STATE never delivered is queued again with back-off; a
 * dropped RELEASED is said again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cl-prototest.h"

/*
 * Corosync refuses every send (flow control, a hung ring): a release the
 * engine must do still goes out at once, behind the STATE stuck at the head.
 */
static void test_release_not_behind_blocked_send(void **state)
{
	(void)state;
	struct vipd_config *cfg = cltest_config("me", 3, NULL, NULL);
	struct vip_cl_member me = { .nodeid = 1, .pid = 1 };
	struct vip_cl_proto *p = solo_proto(cfg, &me);
	struct cltest_sink s = { .p = p, .send_result = -EAGAIN };
	bool blocked = false;
	struct vip_addr *d;

	assert_int_equal(vip_cl_proto_desired(p, &d), 3);
	free(d);
	/* maturity queues a STATE, which corosync refuses */
	assert_int_equal(vip_cl_proto_on_tick(p, 5001), 0);
	assert_int_equal(cltest_drain(p, &s, &blocked), 0);
	assert_true(blocked);
	assert_int_equal(s.n_offered, 1);
	/* now the interface of a0 goes down: a RELEASE, and a STATE and a RELEASED behind */
	struct vip_addr a0 = cltest_addr(0, 3);
	assert_int_equal(vip_cl_proto_set_unavailable(p, &a0, 1, 5002), 0);
	assert_int_equal(cltest_drain(p, &s, &blocked), 1);
	assert_true(blocked);
	assert_int_equal(s.n_releases, 1);
	assert_true(vip_addr_equal(&s.last_release, &a0));
	assert_int_equal(s.n_sent, 0);
	/* still blocked: nothing more to hand out, the sends wait */
	assert_int_equal(cltest_drain(p, &s, &blocked), 0);
	assert_true(blocked);
	/* corosync takes messages again: one STATE, the newest */
	s.send_result = 0;
	assert_int_equal(cltest_drain(p, &s, &blocked), 1);
	assert_false(blocked);
	struct vip_cl_msg m = { 0 };
	assert_int_equal(count_type(&s, VIP_CL_MSG_STATE, &m), 1);
	assert_int_equal(m.n_records, 3);
	assert_true(m.mature);
	assert_true(m.records[0].flags & VIP_CL_R_DOWN);
	vip_cl_msg_clear(&m);
	/* delivered: the group stops granting a0, the RELEASED follows */
	assert_int_equal(vip_cl_proto_on_message(p, &me, s.msg[0], s.len[0], 5003), 0);
	cltest_sink_free(&s);
	assert_int_equal(cltest_drain(p, &s, &blocked), 1);
	assert_int_equal(count_type(&s, VIP_CL_MSG_RELEASED, &m), 1);
	assert_int_equal(m.n_addrs, 1);
	vip_cl_msg_clear(&m);
	cltest_sink_free(&s);
	vip_cl_proto_free(p);
	cltest_config_free(cfg);
}

/* A STATE that is never delivered is queued again, backing off up to 8 x the round timeout. */
static void test_state_retry(void **state)
{
	(void)state;
	struct vipd_config *cfg = cltest_config("me", 3, NULL, NULL);
	struct vip_cl_member me = { .nodeid = 1, .pid = 1 };
	struct vip_cl_view v = { .members = &me, .n_members = 1, .self = 0 };
	struct vip_cl_proto *p;
	struct vip_cl_status st;
	struct cltest_sink s = { .send_result = -EIO };

	cfg->cluster.view_mature_time_ms = 600000;
	cfg->cluster.view_balance_interval_ms = 0;
	cfg->cluster.duravip_round_timeout_ms = 1000;
	assert_int_equal(vip_cl_proto_new(cfg, &p), 0);
	assert_int_equal(vip_cl_proto_on_quorum(p, true, 0), 0);
	assert_int_equal(vip_cl_proto_on_view(p, &v, 0), 0);
	assert_int_equal(cltest_drain(p, &s, NULL), 1);
	vip_cl_proto_status(p, &st);
	assert_int_equal(st.n_send_dropped, 1);
	assert_int_equal(st.n_state_retries, 0);
	/* retries at 1, 3, 7, 15, 23 s: back-off 1, 2, 4, 8, 8 s */
	const uint64_t at[] = { 1000, 3000, 7000, 15000, 23000 };
	uint64_t now = 0;
	for (size_t i = 0; i < ARRAY_SIZE(at); i++) {
		assert_int_equal(vip_cl_proto_next_timeout(p, now), at[i] - now);
		assert_int_equal(vip_cl_proto_on_tick(p, at[i] - 1), 0);
		vip_cl_proto_status(p, &st);
		assert_int_equal(st.n_state_retries, i);
		now = at[i];
		assert_int_equal(vip_cl_proto_on_tick(p, now), 0);
		vip_cl_proto_status(p, &st);
		assert_int_equal(st.n_state_retries, i + 1);
		assert_int_equal(cltest_drain(p, &s, NULL), 1);
	}
	/* delivered at last: no more retries, the round completes */
	s.send_result = 0;
	assert_int_equal(vip_cl_proto_on_tick(p, 31000), 0);
	assert_int_equal(cltest_drain(p, &s, NULL), 1);
	assert_int_equal(s.n_sent, 1);
	assert_int_equal(vip_cl_proto_on_message(p, &me, s.msg[0], s.len[0], 31001), 0);
	cltest_sink_free(&s);
	vip_cl_proto_status(p, &st);
	assert_true(st.round_complete);
	assert_int_equal(st.n_state_retries, 6);
	assert_int_equal(vip_cl_proto_next_timeout(p, 31001), 600000 - 31001);
	vip_cl_proto_free(p);
	cltest_config_free(cfg);
}

/* A RELEASED the send dropped is said again a round timeout later. */
static void test_released_dropped_is_resent(void **state)
{
	(void)state;
	struct vipd_config *cfg = cltest_config("me", 3, NULL, NULL);
	struct vip_cl_member me = { .nodeid = 1, .pid = 1 };
	cfg->cluster.view_balance_interval_ms = 0;
	struct vip_cl_proto *p = solo_proto(cfg, &me);
	struct cltest_sink s = { .p = p };
	struct vip_addr a0 = cltest_addr(0, 3);

	assert_int_equal(vip_cl_proto_set_unavailable(p, &a0, 1, 10), 0);
	assert_int_equal(cltest_drain(p, &s, NULL), 2); /* release, STATE */
	assert_int_equal(vip_cl_proto_on_message(p, &me, s.msg[0], s.len[0], 11), 0);
	cltest_sink_free(&s);
	s.send_result = -EIO;
	assert_int_equal(cltest_drain(p, &s, NULL), 1); /* the RELEASED, dropped */
	struct vip_cl_status st;
	vip_cl_proto_status(p, &st);
	assert_int_equal(st.n_send_dropped, 1);
	assert_int_equal(vip_cl_proto_next_timeout(p, 11), 2000);
	assert_int_equal(vip_cl_proto_on_tick(p, 2010), 0);
	assert_int_equal(cltest_drain(p, &s, NULL), 0);
	s.send_result = 0;
	assert_int_equal(vip_cl_proto_on_tick(p, 2011), 0);
	assert_int_equal(cltest_drain(p, &s, NULL), 1);
	assert_int_equal(count_type(&s, VIP_CL_MSG_RELEASED, NULL), 1);
	cltest_sink_free(&s);
	vip_cl_proto_free(p);
	cltest_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_release_not_behind_blocked_send),
		cmocka_unit_test(test_state_retry),
		cmocka_unit_test(test_released_dropped_is_resent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

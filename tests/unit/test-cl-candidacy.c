/* SPDX-License-Identifier: MIT */
/*
 * Candidacy (docs/protocol.md, "Candidacy"): a member in standby or
 * unhealthy is no candidate. In the simulator (cl-sim.h): it hands its
 * addresses off as in a move (the new owner plumbs only after its
 * RELEASED), it is given nothing while out, it comes back as a joining
 * member (its preferred addresses return after view_mature_time), alone
 * it unplumbs everything, and when nobody is a candidate nobody plumbs.
 * Also the wire format of the STATE flags and the assignment's rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cl-sim.h"

/* Run one delivery or unplumb at a time; no address is ever plumbed on two nodes (sim invariant). */
static size_t count_owned(const struct sim *s, size_t v)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nn; i++)
		n += s->n[i].plumbed[v];
	return n;
}

static void test_standby_hands_off(void **state)
{
	(void)state;
	struct sim s;
	sim_init(&s, 3, 20, 21, VIP_QUORUM_RELEASE);
	sim_startup(&s);
	size_t had = sim_count_plumbed(&s, 0);
	assert_true(had >= 3);
	sim_candidacy(&s, 0, VIP_CL_OUT_STANDBY);
	/* n0 keeps its addresses until the group has its STATE: nothing changes before delivery */
	assert_int_equal(sim_count_plumbed(&s, 0), had);
	/* step by step: never two holders; the new owner plumbs after n0 unplumbed */
	for (size_t k = 0; k < 10000; k++) {
		size_t before = s.delivered + s.releases;
		sim_run_some(&s, 1);
		for (size_t v = 0; v < s.nv; v++)
			assert_true(count_owned(&s, v) <= 1);
		if (s.delivered + s.releases == before)
			break;
	}
	sim_run(&s);
	sim_check(&s);
	assert_int_equal(sim_count_plumbed(&s, 0), 0);
	for (size_t v = 0; v < s.nv; v++)
		assert_int_equal(count_owned(&s, v), 1);
	/* what n0 says of itself is what the others show */
	struct vip_cl_member_info mi;
	assert_int_equal(vip_cl_proto_member(s.n[1].p, 0, &mi), 0);
	assert_string_equal(mi.name, "n0");
	assert_int_equal(mi.out, VIP_CL_OUT_STANDBY);
	assert_int_equal(mi.load, 0);
	/* out, it is given nothing: not by balancing, not by a move, not by a view */
	vip_cl_proto_request_balance(s.n[1].p, s.now);
	sim_drain(&s, 1);
	struct vip_addr a5 = cltest_addr(5, s.nv);
	assert_int_equal(vip_cl_proto_request_move(s.n[2].p, &a5, "n0", s.now), 0);
	sim_drain(&s, 2);
	sim_run(&s);
	sim_advance(&s, 30000);
	sim_check(&s);
	assert_int_equal(sim_count_plumbed(&s, 0), 0);
	sim_assert_same_tables(&s, 1, 2);
	sim_free(&s);
}

static void test_active_returns_after_maturity(void **state)
{
	(void)state;
	struct sim s;
	sim_init(&s, 3, 20, 22, VIP_QUORUM_RELEASE);
	sim_startup(&s);
	sim_candidacy(&s, 1, VIP_CL_OUT_UNHEALTHY);
	sim_run(&s);
	sim_check(&s);
	assert_int_equal(sim_count_plumbed(&s, 1), 0);
	sim_advance(&s, 10000);
	sim_candidacy(&s, 1, 0);
	sim_run(&s);
	sim_check(&s);
	/* a candidate again, but not mature: its preferred addresses (1, 4, 7) stay away */
	sim_advance(&s, 4800);
	sim_check(&s);
	assert_false(s.n[1].plumbed[1] || s.n[1].plumbed[4] || s.n[1].plumbed[7]);
	/* view_mature_time (5 s) after it became a candidate: they come home */
	sim_advance(&s, 400);
	sim_check(&s);
	sim_check_preferred(&s);
	sim_free(&s);
}

static void test_nobody_candidate(void **state)
{
	(void)state;
	struct sim s;
	sim_init(&s, 3, 12, 23, VIP_QUORUM_RELEASE);
	sim_startup(&s);
	for (size_t i = 0; i < s.nn; i++)
		sim_candidacy(&s, i,
			      i == 2 ? VIP_CL_OUT_STANDBY | VIP_CL_OUT_UNHEALTHY : VIP_CL_OUT_UNHEALTHY);
	sim_run(&s);
	sim_check(&s);
	for (size_t i = 0; i < s.nn; i++)
		assert_int_equal(sim_count_plumbed(&s, i), 0);
	struct vip_cl_vip_info vi;
	assert_int_equal(vip_cl_proto_vip(s.n[0].p, 0, &vi), 0);
	assert_null(vi.owner);
	/* the first healthy one takes everything at once (no maturity needed for unowned addresses) */
	sim_candidacy(&s, 0, 0);
	sim_run(&s);
	sim_check(&s);
	assert_int_equal(sim_count_plumbed(&s, 0), s.nv);
	/* a standby node that is healthy again stays out */
	sim_candidacy(&s, 2, VIP_CL_OUT_STANDBY);
	sim_candidacy(&s, 1, 0);
	sim_advance(&s, 20000);
	sim_check(&s);
	assert_int_equal(sim_count_plumbed(&s, 2), 0);
	assert_true(sim_count_plumbed(&s, 1) > 0);
	sim_free(&s);
}

static void test_alone(void **state)
{
	(void)state;
	struct sim s;
	sim_init(&s, 1, 8, 24, VIP_QUORUM_RELEASE);
	sim_all_join(&s);
	sim_check(&s);
	assert_int_equal(sim_count_plumbed(&s, 0), 8);
	sim_candidacy(&s, 0, VIP_CL_OUT_STANDBY);
	sim_run(&s);
	sim_check(&s);
	assert_int_equal(sim_count_plumbed(&s, 0), 0);
	sim_candidacy(&s, 0, 0);
	sim_run(&s);
	sim_check(&s);
	assert_int_equal(sim_count_plumbed(&s, 0), 8); /* alone: at once */
	sim_free(&s);
}

/* Standby during a view change and a crash of another member: nothing is lost or doubled. */
static void test_out_across_views(void **state)
{
	(void)state;
	struct sim s;
	sim_init(&s, 4, 16, 25, VIP_QUORUM_RELEASE);
	sim_startup(&s);
	sim_candidacy(&s, 2, VIP_CL_OUT_STANDBY);
	sim_run_some(&s, 2); /* the STATE in flight when n3 dies */
	int comp[NMAX] = { 0, 0, 0, -1 };
	sim_view_change(&s, comp);
	sim_run(&s);
	sim_check(&s);
	assert_int_equal(sim_count_plumbed(&s, 2), 0);
	assert_int_equal(sim_count_plumbed(&s, 0) + sim_count_plumbed(&s, 1), s.nv);
	sim_free(&s);
}

static void test_msg_flags(void **state)
{
	(void)state;
	struct vip_cl_msg m = { .type = VIP_CL_MSG_STATE,
				.mature = true,
				.out = VIP_CL_OUT_UNHEALTHY,
				.view = 7,
				.serial = 3 };
	snprintf(m.name, sizeof(m.name), "n1");
	uint8_t *d = NULL;
	size_t n = 0;
	assert_int_equal(vip_cl_msg_encode(&m, &d, &n), 0);
	assert_int_equal(d[2], 3); /* protocol version 3 */
	assert_int_equal(d[8], 1 | VIP_CL_OUT_UNHEALTHY << 1);
	struct vip_cl_msg back;
	assert_int_equal(vip_cl_msg_decode(d, n, &back), 0);
	assert_true(back.mature);
	assert_int_equal(back.out, VIP_CL_OUT_UNHEALTHY);
	vip_cl_msg_clear(&back);
	d[8] = 1u << 3; /* an unknown bit */
	assert_int_equal(vip_cl_msg_decode(d, n, &back), -EBADMSG);
	free(d);
	m.out = 8;
	assert_int_equal(vip_cl_msg_encode(&m, &d, &n), -EINVAL);
	char buf[32];
	assert_string_equal(vip_cl_out_format(0, buf, sizeof(buf)), "-");
	assert_string_equal(vip_cl_out_format(VIP_CL_OUT_ALL, buf, sizeof(buf)), "standby unhealthy");
	assert_string_equal(vip_cl_out_format(VIP_CL_OUT_UNHEALTHY, buf, sizeof(buf)), "unhealthy");
}

/* The assignment: an out node gets nothing, keeps nothing, its preference is ignored. */
static void test_assign_out(void **state)
{
	(void)state;
	struct vip_cl_anode nodes[2] = { { .name = "a", .mature = true, .out = true },
					 { .name = "b", .mature = true } };
	struct vip_cl_avip v[2] = {
		{ .addr = cltest_addr(0, 2),
		  .candidates = 3,
		  .holders = 1,
		  .keepers = 1,
		  .prefer = 1,
		  .prev_owner = 0,
		  .move_to = 0,
		  .follow = -1 },
		{ .addr = cltest_addr(1, 2), .candidates = 3, .prev_owner = -1, .move_to = -1, .follow = -1 },
	};
	struct vip_cl_aout out[2];
	struct vip_cl_assign_in in = { .nodes = nodes,
				       .n_nodes = 2,
				       .vips = v,
				       .n_vips = 2,
				       .balance = true,
				       .balance_set_size = 4 };
	assert_int_equal(vip_cl_assign(&in, out, NULL), 0);
	assert_int_equal(out[0].owner, 1);
	assert_false(out[0].plumb); /* a still holds it: b waits for its RELEASED */
	assert_true(out[0].flags & VIP_CL_F_MOVING);
	assert_false(out[0].flags & VIP_CL_F_CONFLICT);
	assert_int_equal(out[1].owner, 1);
	assert_true(out[1].plumb);
	v[0].holders = v[0].keepers = 0;
	assert_int_equal(vip_cl_assign(&in, out, NULL), 0);
	assert_true(out[0].plumb);
	nodes[1].out = true; /* nobody: unowned */
	assert_int_equal(vip_cl_assign(&in, out, NULL), 0);
	assert_int_equal(out[0].owner, -1);
	assert_int_equal(out[1].owner, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_standby_hands_off),
		cmocka_unit_test(test_active_returns_after_maturity),
		cmocka_unit_test(test_nobody_candidate),
		cmocka_unit_test(test_alone),
		cmocka_unit_test(test_out_across_views),
		cmocka_unit_test(test_msg_flags),
		cmocka_unit_test(test_assign_out),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

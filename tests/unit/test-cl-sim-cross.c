/* SPDX-License-Identifier: MIT */
/*
 * A message that crosses a view change into a view with the same member
 * list, so the same view digest (docs/protocol.md, "Authentication", "A
 * view with the same member list"): the sender's corosync holds it
 * (sim_hold_sends) until after the view. A STATE queued before a MOVE gave
 * its sender an address (the ring re-formed, or a member cut off and back);
 * a CLOSE of the old round; a STATE and then a CLOSE. Each would tell the
 * group a member holds nothing of an address it has plumbed: never two
 * holders (sim_hold fails at once), and the group converges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cl-sim.h"

#define V 1 /* at n1 once settled (cl-sim.h: sim_check_preferred) */

/* n0 seals a STATE (a reload says it again), held; then V moves from n1 to n0. */
static void stale_state_then_move(struct sim *s)
{
	struct vip_addr a = cltest_addr(V, s->nv);

	assert_true(s->n[1].plumbed[V]);
	sim_hold_sends(s, 0, true);
	assert_int_equal(vip_cl_proto_reconfigure(s->n[0].p, s->n[0].cfg, s->now), 0);
	sim_drain(s, 0);
	assert_true(s->held[0].n - s->held[0].head >= 1);
	assert_int_equal(vip_cl_proto_request_move(s->n[2].p, &a, sim_node_name(0), s->now), 0);
	sim_drain(s, 2);
	sim_run(s);
	/* given to n0 (which plumbs it at once unless it waits for its STATE) */
	struct vip_cl_vip_info vi;
	assert_int_equal(vip_cl_proto_vip(s->n[2].p, V, &vi), 0);
	assert_string_equal(vi.owner, sim_node_name(0));
	assert_false(s->n[1].plumbed[V]);
}

/* The rest of n0's messages go out; never two holders (sim_hold checks), then converged. */
static void deliver_stale_and_settle(struct sim *s)
{
	sim_run(s); /* n1's and n2's STATE of the new view first */
	sim_hold_sends(s, 0, false);
	sim_run(s);
	sim_advance(s, 12000);
	sim_check(s);
}

/* A keyed cluster of nn nodes and nv DuraVIPs, started and settled. */
static void keyed_start(struct sim *s, size_t nn, size_t nv, uint64_t seed)
{
	sim_init(s, nn, nv, seed, VIP_QUORUM_RELEASE);
	sim_use_key(s);
	sim_startup(s);
}

/* The stopped member i resumes: never two holders, then converged; s freed. */
static void resume_settle_free(struct sim *s, size_t i)
{
	sim_resume(s, i);
	sim_settle(s);
	sim_advance(s, 12000);
	sim_check(s);
	sim_free(s);
}

/*
 * n0's STATE waits in its corosync while it is given more; then again(s) brings
 * a view with the same member list (the same digest), where the stale STATE is
 * delivered: never two holders, then converged. Twenty seeds.
 */
static void stale_state_case(void (*again)(struct sim *))
{
	for (uint64_t seed = 1; seed <= 20; seed++) {
		struct sim s;
		keyed_start(&s, 3, 12, seed);
		uint64_t digest = s.comp_view[0];
		stale_state_then_move(&s);
		again(&s);
		assert_true(s.comp_view[0] == digest);
		deliver_stale_and_settle(&s);
		sim_free(&s);
	}
}

/* The ring re-forms with the same members (a spurious ring). */
static void reform(struct sim *s)
{
	sim_reform(s, 0);
}

static void test_stale_state_same_members(void **state)
{
	(void)state;
	stale_state_case(reform);
}

/*
 * The same digest again the way corosync gives it: n2 is cut off and comes
 * back (same process) while n0's STATE waits; n0's sends wait through both
 * views (its corosync never had the token in the short ring).
 */
static void cut_off_and_back(struct sim *s)
{
	int comp[NMAX] = { 0, 0, 1 };
	sim_view_change(s, comp);
	sim_run(s);
	comp[2] = 0;
	sim_view_change(s, comp);
}

static void test_stale_state_cut_off_and_back(void **state)
{
	(void)state;
	stale_state_case(cut_off_and_back);
}

/*
 * A CLOSE crosses instead: n2 is stopped, so the round of a view waits for
 * it and n0 and n1 each close it; n0's CLOSE waits in its corosync while
 * n1's closes the round. The ring re-forms with the same members and n0's
 * old CLOSE comes first: it does not name n0 (heard in its view), so applied
 * in the new round it would say n0 holds nothing.
 */
static void test_stale_close_same_members(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 20; seed++) {
		struct sim s;
		keyed_start(&s, 3, 12, seed);
		memcpy(s.watch, s.n[0].plumbed, sizeof(s.watch));
		sim_stop(&s, 2);
		sim_reform(&s, 0);
		sim_run(&s); /* the STATEs of n0 and n1 */
		sim_hold_sends(&s, 0, true);
		sim_advance(&s, 10000); /* both close; n1's CLOSE is delivered */
		assert_true(s.held[0].n - s.held[0].head >= 1);
		struct vip_cl_status st;
		vip_cl_proto_status(s.n[1].p, &st);
		assert_true(st.round_complete);
		sim_reform(&s, 0);
		sim_run(&s);
		sim_hold_sends(&s, 0, false);
		sim_run(&s);
		sim_advance(&s, 3000);
		memset(s.watch, 0, sizeof(s.watch));
		resume_settle_free(&s, 2);
	}
}

/*
 * Both: n3 is stopped, so the round waits for it. n0's reload STATE waits in
 * its corosync, and so would a CLOSE it sent after it; n1's CLOSE closes the
 * round, then a MOVE gives n1's V to n2. n2's corosync holds its sends, the
 * ring re-forms, and n0's old STATE makes n0 heard in the new round: an old
 * CLOSE of n0's after it, naming neither n0 nor n2 (heard in their view),
 * would close the round saying n2 holds nothing, while n2 has V plumbed.
 */
static void test_stale_state_and_close(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 20; seed++) {
		struct sim s;
		keyed_start(&s, 4, 16, seed);
		struct vip_addr a = cltest_addr(V, s.nv);
		sim_stop(&s, 3);
		sim_reform(&s, 0);
		sim_run(&s);
		sim_hold_sends(&s, 0, true);
		assert_int_equal(vip_cl_proto_reconfigure(s.n[0].p, s.n[0].cfg, s.now), 0);
		sim_drain(&s, 0);
		sim_advance(&s, 10000); /* the round times out: n1 or n2 closes it */
		struct vip_cl_status st;
		vip_cl_proto_status(s.n[1].p, &st);
		assert_true(st.round_complete);
		assert_int_equal(vip_cl_proto_request_move(s.n[1].p, &a, sim_node_name(2), s.now), 0);
		sim_drain(&s, 1);
		sim_run(&s);
		assert_true(s.n[2].plumbed[V]);
		sim_hold_sends(&s, 2, true);
		sim_reform(&s, 0);
		sim_run(&s); /* n1's STATE */
		sim_hold_sends(&s, 0, false);
		sim_run(&s);
		sim_hold_sends(&s, 2, false);
		sim_run(&s);
		resume_settle_free(&s, 3);
	}
}

/* A random history: components, and who saw all a held member holds. */
struct cross {
	int comp[NMAX];
	int held;     /* the member whose sends corosync holds, or -1 */
	unsigned wit; /* running members with it since: they know what it holds */
};

/*
 * Hold or let go node i's sends: one member at a time, and only while a
 * member that has been in its component since is there (docs/protocol.md,
 * "Limits": a silent member is judged on what the others saw of it).
 */
static void cross_hold(struct sim *s, struct cross *x, size_t i)
{
	if (x->held == (int)i) {
		sim_hold_sends(s, i, false);
		x->held = -1;
		return;
	}
	if (x->held >= 0)
		return;
	x->wit = 0;
	for (size_t j = 0; j < s->nn; j++)
		if (j != i && x->comp[j] == x->comp[i])
			x->wit |= 1u << j;
	if (x->wit) {
		sim_hold_sends(s, i, true);
		x->held = (int)i;
	}
}

/* Node i is cut off or comes back; not the held one, nor its last witness. */
static void cross_cut(struct sim *s, struct cross *x, size_t i)
{
	if (x->held == (int)i || (x->held >= 0 && x->wit == 1u << i))
		return;
	x->wit &= ~(1u << i);
	x->comp[i] = !x->comp[i];
	sim_view_change(s, x->comp);
}

static void cross_event(struct sim *s, struct cross *x)
{
	size_t i = sim_rnd(s) % s->nn;
	struct vip_addr a = cltest_addr(sim_rnd(s) % s->nv, s->nv);

	sim_run_some(s, sim_rnd(s) % 12); /* messages in flight */
	switch (sim_rnd(s) % 9) {
	case 0:
	case 1:
		cross_hold(s, x, i);
		break;
	case 2: /* a reload: a STATE */
		assert_int_equal(vip_cl_proto_reconfigure(s->n[i].p, s->n[i].cfg, s->now), 0);
		sim_drain(s, i);
		break;
	case 3:
		assert_int_equal(vip_cl_proto_request_move(s->n[i].p, &a, sim_node_name(sim_rnd(s) % s->nn),
							   s->now),
				 0);
		sim_drain(s, i);
		break;
	case 4: /* the same member lists come again */
		cross_cut(s, x, i);
		break;
	case 5:
		sim_reform(s, x->comp[i]);
		break;
	case 6:
		sim_candidacy(s, i, s->n[i].out ? 0 : VIP_CL_OUT_STANDBY);
		break;
	default:
		sim_advance(s, sim_rnd(s) % 7000);
		break;
	}
}

/*
 * Random histories: members cut off and back, rings re-formed with the same
 * members, reloads, moves and standby while a member's corosync holds its
 * sends for a while (VIPD_SIM_CROSS_SEEDS, 300 by default). Never two
 * holders in a component at any step; converged at the end.
 */
static void test_random_crossings(void **state)
{
	(void)state;
	const char *e = getenv("VIPD_SIM_CROSS_SEEDS");
	uint64_t n = e ? strtoull(e, NULL, 10) : 300;
	for (uint64_t seed = 1; seed <= n; seed++) {
		if (getenv("VIPD_SIM_DEBUG"))
			fprintf(stderr, "cross seed %llu\n", (unsigned long long)seed);
		struct sim s;
		sim_init(&s, 3 + seed % 2, 12, seed * 13 + 5, VIP_QUORUM_RELEASE);
		if (seed % 3)
			sim_use_key(&s);
		sim_all_join(&s);
		sim_advance(&s, 6000);
		struct cross x = { .held = -1 };
		for (int k = 0; k < 40; k++)
			cross_event(&s, &x);
		for (size_t i = 0; i < s.nn; i++) {
			sim_hold_sends(&s, i, false);
			sim_candidacy(&s, i, 0);
			x.comp[i] = 0;
		}
		sim_view_change(&s, x.comp);
		sim_run(&s);
		sim_advance(&s, 12000);
		sim_check(&s);
		sim_check_preferred(&s);
		sim_free(&s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stale_state_same_members),
		cmocka_unit_test(test_stale_state_cut_off_and_back),
		cmocka_unit_test(test_stale_close_same_members),
		cmocka_unit_test(test_stale_state_and_close),
		cmocka_unit_test(test_random_crossings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

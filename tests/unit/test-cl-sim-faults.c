/* SPDX-License-Identifier: MIT */
/*
 * Faults in the virtual-synchrony simulator (cl-sim.h), docs/protocol.md:
 * a member that stops speaking (SIGSTOP) while another node is lost, that
 * was given addresses after its last STATE, that is cut off and back while
 * stopped; a member joining while one is silent (tables compared); an
 * engine crash with and without its node's monitor, the monitor leaving, a
 * clean stop, a member joining while a ghost waits for FLUSHED; a ring
 * storm (every watchdog fires, one node cut off and back in a view with the
 * same member list), with monitors listed before their engines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cl-sim.h"

/*
 * n2 stops (SIGSTOP: it sends nothing, its addresses stay plumbed) and then
 * n1's node is lost. The round of the new view cannot hear n2: at the round
 * timeout n0 closes it, takes n1's addresses and leaves n2's alone (it may
 * still have them plumbed). n2 resumes: it converges, and none of its
 * addresses is ever plumbed nowhere or twice.
 */
static void test_silent_member_and_node_loss(void **state)
{
	(void)state;
	struct sim s;
	sim_init(&s, 3, 20, 7, VIP_QUORUM_RELEASE);
	sim_startup(&s);
	bool of1[VMAX], of2[VMAX];
	memcpy(of1, s.n[1].plumbed, sizeof(of1));
	memcpy(of2, s.n[2].plumbed, sizeof(of2));
	assert_true(sim_count_plumbed(&s, 1) >= 3 && sim_count_plumbed(&s, 2) >= 3);
	memcpy(s.watch, of2, sizeof(s.watch));

	sim_stop(&s, 2);
	int comp[NMAX] = { 0, -1, 0 };
	sim_view_change(&s, comp);
	sim_run(&s);
	struct vip_cl_status st;
	vip_cl_proto_status(s.n[0].p, &st);
	assert_false(st.round_complete);
	assert_int_equal(st.n_waiting, 1);
	uint64_t took = sim_until_taken(&s, of1, 0, 5000);
	printf("n1's addresses taken over by n0 %llu ms after the view (round timeout 2000 ms)\n",
	       (unsigned long long)took);
	assert_true(took >= 2000 && took <= 2100);
	for (size_t v = 0; v < s.nv; v++)
		assert_true(s.n[2].plumbed[v] == of2[v]);
	assert_int_equal(sim_count_plumbed(&s, 0) + sim_count_plumbed(&s, 2), s.nv);
	vip_cl_proto_status(s.n[0].p, &st);
	assert_true(st.round_complete);
	assert_int_equal(st.n_silent, 1);
	assert_int_equal(st.n_closes, 1);
	struct vip_cl_member_info mi;
	assert_int_equal(vip_cl_proto_member(s.n[0].p, 1, &mi), 0);
	assert_true(mi.silent);
	assert_string_equal(mi.name, "n2");
	assert_true(mi.load >= 3);
	/* a while later nothing has moved: n2 keeps its own, balancing leaves it alone */
	sim_advance(&s, 30000);
	for (size_t v = 0; v < s.nv; v++)
		assert_true(s.n[2].plumbed[v] == of2[v]);
	sim_check(&s);

	/* n2 resumes: it works through what it missed and speaks again */
	sim_resume(&s, 2);
	sim_run(&s);
	sim_advance(&s, 5000 + 2000); /* view_mature_time + 2 s */
	sim_check(&s);
	sim_check_preferred(&s);
	vip_cl_proto_status(s.n[0].p, &st);
	assert_int_equal(st.n_silent, 0);
	sim_assert_same_tables(&s, 0, 2);
	for (size_t v = 0; v < s.nv; v++)
		assert_true(!of2[v] || s.n[2].plumbed[v]);
	sim_free(&s);
}

/*
 * n2 is given some of a lost member's addresses after its last STATE, then
 * stops: it still counts as holding them (the group told it to plumb them).
 */
static void test_silent_after_grant(void **state)
{
	(void)state;
	struct sim s;
	sim_init(&s, 3, 20, 9, VIP_QUORUM_RELEASE);
	sim_startup(&s);
	size_t before2 = sim_count_plumbed(&s, 2);
	int comp[NMAX] = { 0, -1, 0 };
	sim_view_change(&s, comp);
	sim_run(&s);
	assert_true(sim_count_plumbed(&s, 2) > before2); /* granted after its STATE of this view */
	memcpy(s.watch, s.n[2].plumbed, sizeof(s.watch));
	sim_stop(&s, 2);
	sim_start_node(&s, 1);
	comp[1] = 0;
	sim_view_change(&s, comp);
	sim_run(&s);
	sim_advance(&s, 2500);
	struct vip_cl_status st;
	vip_cl_proto_status(s.n[1].p, &st);
	assert_true(st.round_complete);
	assert_int_equal(st.n_silent, 1);
	sim_assert_same_tables(&s, 0, 1);
	sim_advance(&s, 20000);
	sim_check(&s);
	/* resumed, n1's own go home to it by the ordered hand-off */
	memset(s.watch, 0, sizeof(s.watch));
	sim_resume(&s, 2);
	sim_run(&s);
	sim_advance(&s, 7000);
	sim_check(&s);
	sim_check_preferred(&s);
	sim_free(&s);
}

/*
 * n2 stops, is cut off alone and comes back, still stopped (same process):
 * the others took its addresses while it was away (it was NODEDOWN to
 * them); back in the view they remember what it held and give them back
 * to it rather than plumb them twice.
 */
static void stopped_member_cut_off_and_back(bool monitors_first)
{
	struct sim s;
	sim_init(&s, 3, 20, 10, VIP_QUORUM_RELEASE);
	s.mon_first = monitors_first;
	sim_startup(&s);
	for (size_t i = 0; monitors_first && i < 3; i++)
		sim_monitor(&s, i, true);
	sim_run(&s);
	bool of2[VMAX];
	memcpy(of2, s.n[2].plumbed, sizeof(of2));
	sim_stop(&s, 2);
	int comp[NMAX] = { 0, 0, 1 };
	sim_view_change(&s, comp);
	sim_settle(&s);
	for (size_t v = 0; v < s.nv; v++)
		assert_true(!of2[v] || s.n[0].plumbed[v] || s.n[1].plumbed[v]); /* taken over */
	comp[2] = 0;
	sim_view_change(&s, comp);
	sim_settle(&s); /* n0 and n1 give them back to the silent n2, which still has them */
	sim_check(&s);
	for (size_t v = 0; v < s.nv; v++)
		assert_true(!of2[v] || (!s.n[0].plumbed[v] && !s.n[1].plumbed[v]));
	struct vip_cl_status st;
	vip_cl_proto_status(s.n[0].p, &st);
	assert_int_equal(st.n_silent, 1);
	sim_resume(&s, 2);
	sim_settle(&s);
	sim_advance(&s, 7000);
	sim_check(&s);
	sim_check_preferred(&s);
	sim_free(&s);
}

static void test_stopped_member_cut_off_and_back(void **state)
{
	(void)state;
	stopped_member_cut_off_and_back(false);
}

/*
 * The same with a monitor on every node, listed before its engine: n2's
 * monitor coming back first must not make the others forget what n2's
 * engine held (docs/protocol.md, "Views").
 */
static void test_stopped_member_cut_off_and_back_monitor_first(void **state)
{
	(void)state;
	stopped_member_cut_off_and_back(true);
}

/* A member joins while another is silent: it learns the silent one's holds from the CLOSE. */
static void test_newcomer_while_silent(void **state)
{
	(void)state;
	struct sim s;
	sim_init(&s, 4, 24, 8, VIP_QUORUM_RELEASE);
	int comp[NMAX] = { 0, 0, 0, -1 };
	for (size_t i = 0; i < 3; i++)
		sim_start_node(&s, i);
	sim_view_change(&s, comp);
	sim_run(&s);
	sim_advance(&s, 6000);
	sim_check(&s);
	/* n2's addresses stay plumbed throughout, except those n3 prefers: they go
	 * home to n3 once it is mature, by the ordered hand-off (a planned gap) */
	for (size_t v = 0; v < s.nv; v++)
		s.watch[v] = s.n[2].plumbed[v] && !(v < 12 && v % 4 == 3);
	size_t held2 = sim_count_plumbed(&s, 2);
	assert_true(held2 >= 3);

	sim_stop(&s, 2);
	sim_start_node(&s, 3);
	comp[3] = 0;
	sim_view_change(&s, comp);
	sim_run(&s);
	sim_advance(&s, 2500);
	struct vip_cl_status st;
	vip_cl_proto_status(s.n[3].p, &st);
	assert_true(st.round_complete);
	assert_int_equal(st.n_silent, 1);
	sim_assert_same_tables(&s, 0, 3);
	sim_assert_same_tables(&s, 1, 3);
	assert_int_equal(sim_count_plumbed(&s, 2), held2);
	sim_advance(&s, 20000);
	sim_check(&s);
	sim_assert_same_tables(&s, 0, 3);
	assert_int_equal(sim_count_plumbed(&s, 2), held2);
	sim_resume(&s, 2);
	sim_run(&s);
	sim_advance(&s, 7000);
	sim_check(&s);
	sim_check_preferred(&s);
	sim_assert_same_tables(&s, 2, 3);
	sim_free(&s);
}

/*
 * n1's engine crashes with its monitor running: its addresses stay plumbed
 * until the monitor has removed them. The survivors compute new owners but
 * plumb nothing of n1's until the monitor's FLUSHED is delivered; then they
 * take them at once.
 */
static void test_crash_with_monitor(void **state)
{
	(void)state;
	struct sim s;
	sim_startup_monitors(&s, 3, 11);
	bool of1[VMAX];
	memcpy(of1, s.n[1].plumbed, sizeof(of1));
	size_t held1 = sim_count_plumbed(&s, 1);
	assert_true(held1 >= 3);
	sim_crash(&s, 1);
	sim_run(&s);
	sim_advance(&s, 10000);                            /* however long the monitor takes */
	assert_int_equal(sim_count_plumbed(&s, 1), held1); /* still on the wire */
	for (size_t v = 0; v < s.nv; v++)
		assert_false(of1[v] && (s.n[0].plumbed[v] || s.n[2].plumbed[v]));
	assert_int_equal(sim_n_ghosts(&s, 0), 1);
	assert_int_equal(sim_n_ghosts(&s, 2), 1);
	for (size_t v = 0; v < s.nv; v++) {
		struct vip_cl_vip_info vi;
		assert_int_equal(vip_cl_proto_vip(s.n[0].p, v, &vi), 0);
		if (of1[v]) {
			assert_non_null(vi.owner);
			assert_string_equal(vi.holder, "n1 (crashed)");
			assert_true(vi.flags & VIP_CL_F_MOVING);
		}
	}
	sim_check(&s);
	size_t probed = s.probed;
	sim_flush(&s, 1);
	sim_run(&s);
	assert_int_equal(sim_n_ghosts(&s, 0), 0);
	for (size_t v = 0; v < s.nv; v++)
		assert_true(!of1[v] || s.n[0].plumbed[v] || s.n[2].plumbed[v]);
	/* the monitor confirmed the removal: nothing is probed (docs/protocol.md §6) */
	assert_int_equal(s.probed, probed);
	sim_check(&s);
	/* n1's next engine (clean slate) gets its own back once mature */
	sim_start_node(&s, 1);
	int comp[NMAX] = { 0, 0, 0 };
	sim_view_change(&s, comp);
	sim_run(&s);
	sim_advance(&s, 6000);
	sim_check(&s);
	sim_check_preferred(&s);
	sim_free(&s);
}

static size_t count_true(const bool *b, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += b[i];
	return k;
}

/* Without a monitor of its node in the view, a crashed engine's addresses are taken over at once. */
static void test_crash_without_monitor(void **state)
{
	(void)state;
	struct sim s;
	sim_startup_monitors(&s, 3, 12);
	sim_monitor(&s, 1, false);
	sim_run(&s);
	bool of1[VMAX];
	memcpy(of1, s.n[1].plumbed, sizeof(of1));
	size_t probed = s.probed;
	sim_crash(&s, 1);
	sim_run(&s); /* no time passes */
	assert_int_equal(sim_n_ghosts(&s, 0), 0);
	for (size_t v = 0; v < s.nv; v++)
		assert_true(!of1[v] || s.n[0].plumbed[v] || s.n[2].plumbed[v]);
	/* nothing confirmed their removal: every one of n1's is probed first */
	assert_int_equal(s.probed - probed, count_true(of1, s.nv));
	sim_check(&s);
	sim_free(&s);
}

/* The monitor leaves before it flushed: the ghost goes with it, the survivors take over. */
static void test_monitor_leaving_clears_ghost(void **state)
{
	(void)state;
	struct sim s;
	sim_startup_monitors(&s, 3, 13);
	bool of1[VMAX];
	memcpy(of1, s.n[1].plumbed, sizeof(of1));
	sim_crash(&s, 1);
	sim_run(&s);
	assert_int_equal(sim_n_ghosts(&s, 2), 1);
	size_t probed = s.probed;
	sim_monitor(&s, 1, false);
	sim_run(&s);
	assert_int_equal(sim_n_ghosts(&s, 2), 0);
	for (size_t v = 0; v < s.nv; v++)
		assert_true(!of1[v] || s.n[0].plumbed[v] || s.n[2].plumbed[v]);
	/* the monitor left before its FLUSHED: the crashed engine's addresses are probed first */
	assert_int_equal(s.probed - probed, count_true(of1, s.nv));
	sim_check(&s);
	sim_free(&s);
}

/* A clean stop releases everything before it leaves: no ghost, no wait. */
static void test_clean_stop_no_ghost(void **state)
{
	(void)state;
	struct sim s;
	sim_startup_monitors(&s, 3, 14);
	bool of1[VMAX];
	memcpy(of1, s.n[1].plumbed, sizeof(of1));
	struct vip_addr all[VMAX];
	for (size_t v = 0; v < s.nv; v++)
		all[v] = cltest_addr(v, s.nv);
	assert_int_equal(vip_cl_proto_set_unavailable(s.n[1].p, all, s.nv, s.now), 0);
	sim_drain(&s, 1);
	sim_run(&s);
	assert_int_equal(sim_count_plumbed(&s, 1), 0);
	size_t probed = s.probed;
	sim_crash(&s, 1); /* (the leave) */
	sim_run(&s);
	assert_int_equal(sim_n_ghosts(&s, 0), 0);
	assert_int_equal(s.probed, probed); /* released in order: nothing to probe */
	for (size_t v = 0; v < s.nv; v++)
		assert_true(!of1[v] || s.n[0].plumbed[v] || s.n[2].plumbed[v]);
	sim_check(&s);
	sim_free(&s);
}

/* A member that joins while a ghost waits for its FLUSHED learns it from the STATEs. */
static void test_newcomer_learns_ghost(void **state)
{
	(void)state;
	struct sim s;
	sim_init(&s, 4, 24, 15, VIP_QUORUM_RELEASE);
	int comp[NMAX] = { 0, 0, 0, -1 };
	for (size_t i = 0; i < 3; i++)
		sim_start_node(&s, i);
	sim_view_change(&s, comp);
	sim_run(&s);
	sim_advance(&s, 6000);
	for (size_t i = 0; i < 3; i++)
		sim_monitor(&s, i, true);
	sim_run(&s);
	size_t held1 = sim_count_plumbed(&s, 1);
	sim_crash(&s, 1);
	sim_run(&s);
	sim_start_node(&s, 3);
	comp[3] = 0;
	sim_view_change(&s, comp);
	sim_run(&s);
	assert_int_equal(sim_n_ghosts(&s, 3), 1);
	sim_assert_same_tables(&s, 0, 3);
	assert_int_equal(sim_count_plumbed(&s, 1), held1);
	sim_advance(&s, 6000);
	assert_int_equal(sim_count_plumbed(&s, 1), held1);
	sim_assert_same_tables(&s, 2, 3);
	sim_flush(&s, 1);
	sim_run(&s);
	assert_int_equal(sim_n_ghosts(&s, 3), 0);
	sim_check(&s);
	sim_assert_same_tables(&s, 0, 3);
	sim_free(&s);
}

/* ---- a ring storm: every watchdog fires, one node is cut off and back ---- */

static void storm_live(struct sim *s, size_t i, bool alive)
{
	assert_int_equal(vip_cl_proto_on_liveness(s->n[i].p, alive, s->now), 0);
	sim_drain(s, i);
}

static void storm_steps(struct sim *s)
{
	sim_run_some(s, sim_rnd(s) % 4 ? sim_rnd(s) % 8 : 0);
}

static void storm_shuffle(struct sim *s, size_t *order)
{
	for (size_t k = 2; k > 0; k--) {
		size_t j = sim_rnd(s) % (k + 1), t = order[k];
		order[k] = order[j];
		order[j] = t;
	}
}

/* n1 cut off alone, then back in a view with the same member list; corosync answers again. */
static void storm_split_merge(struct sim *s, size_t *order)
{
	int split[NMAX] = { 0, 1, 0 }, merged[NMAX] = { 0, 0, 0 };
	sim_view_change(s, split);
	storm_steps(s);
	bool back[3] = { false, false, false };
	for (size_t i = 0; i < 3; i += 2)
		if (sim_rnd(s) % 3 == 0) {
			storm_live(s, i, true);
			back[i] = true;
			storm_steps(s);
		}
	uint64_t ms = (sim_rnd(s) % 5) * 100;
	s->now += ms;
	for (size_t i = 0; i < 3; i++) {
		if (vip_cl_proto_next_timeout(s->n[i].p, s->now) == 0) {
			assert_int_equal(vip_cl_proto_on_tick(s->n[i].p, s->now), 0);
			sim_drain(s, i);
		}
		storm_steps(s);
	}
	bool late = sim_rnd(s) % 2;
	if (late)
		sim_stop(s, 1);
	sim_view_change(s, merged);
	if (late) {
		sim_run(s);
		sim_advance(s, (sim_rnd(s) % 6) * 1000);
		sim_resume(s, 1);
	}
	if (sim_rnd(s) % 2) {
		/* n1's quorum comes later than the view */
		assert_int_equal(vip_cl_proto_on_quorum(s->n[1].p, false, s->now), 0);
		sim_drain(s, 1);
	}
	storm_steps(s);
	storm_shuffle(s, order);
	for (size_t k = 0; k < 3; k++) {
		size_t i = order[k];
		if (i == 1) {
			assert_int_equal(vip_cl_proto_on_quorum(s->n[1].p, true, s->now), 0);
			sim_drain(s, 1);
			storm_steps(s);
		}
		if (!back[i])
			storm_live(s, i, true);
		storm_steps(s);
		if (sim_rnd(s) % 3 == 0)
			s->now += 100;
	}
}

/*
 * Three nodes with monitors, authenticated, settled. Every vipd's liveness
 * verdict turns false (each releases everything); n1 (index 1) is cut off
 * alone, the other two go on quorate; then all merge back with the same
 * member list (the same view digest as before) and each one's corosync
 * answers again at its own moment, messages in flight. Never two holders.
 */
static void storm_once(uint64_t seed)
{
	struct sim s;
	if (getenv("VIPD_SIM_DEBUG"))
		fprintf(stderr, "storm seed %llu\n", (unsigned long long)seed);
	sim_init(&s, 3, 20, seed, VIP_QUORUM_RELEASE);
	s.mon_first = seed % 2;
	sim_use_key(&s);
	sim_startup(&s);
	for (size_t i = 0; i < 3; i++)
		sim_monitor(&s, i, true);
	sim_run(&s);
	sim_advance(&s, 6000);
	sim_check(&s);
	size_t order[3] = { 0, 1, 2 };
	storm_shuffle(&s, order);
	for (size_t k = 0; k < 3; k++) {
		storm_live(&s, order[k], false);
		storm_steps(&s);
	}
	storm_split_merge(&s, order);
	sim_advance(&s, 12000);
	sim_check(&s);
	sim_free(&s);
}

static void test_ring_storm_same_digest(void **state)
{
	(void)state;
	const char *e = getenv("VIPD_SIM_STORM_SEEDS");
	const char *one = getenv("VIPD_SIM_STORM_SEED");
	uint64_t n = e ? strtoull(e, NULL, 10) : 200, first = 1;
	if (one)
		first = n = strtoull(one, NULL, 10);
	for (uint64_t seed = first; seed <= n; seed++)
		storm_once(seed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_silent_member_and_node_loss),
		cmocka_unit_test(test_newcomer_while_silent),
		cmocka_unit_test(test_silent_after_grant),
		cmocka_unit_test(test_stopped_member_cut_off_and_back),
		cmocka_unit_test(test_stopped_member_cut_off_and_back_monitor_first),
		cmocka_unit_test(test_crash_with_monitor),
		cmocka_unit_test(test_crash_without_monitor),
		cmocka_unit_test(test_monitor_leaving_clears_ghost),
		cmocka_unit_test(test_clean_stop_no_ghost),
		cmocka_unit_test(test_newcomer_learns_ghost),
		cmocka_unit_test(test_ring_storm_same_digest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

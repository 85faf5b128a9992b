/* SPDX-License-Identifier: MIT */
/*
 * The protocol in the virtual-synchrony simulator (cl-sim.h): start, fail,
 * rejoin, partition and heal, quorum loss, operator move and balance, and
 * random histories (with stopped members, monitors and engine crashes too),
 * with the invariants checked after every step. Faults one by one:
 * test-cl-sim-faults.c.
 * VIPD_SIM_SEEDS=<n> sets the number of random histories, VIPD_SIM_SEED=<n>
 * runs only that one (with VIPD_SIM_DEBUG=1: every delivery on stderr).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cl-sim.h"

static void test_startup_fail_rejoin(void **state)
{
	(void)state;
	struct sim s;
	sim_init(&s, 3, 20, 1, VIP_QUORUM_RELEASE);
	sim_startup(&s);
	bool before[NMAX][VMAX];
	for (size_t i = 0; i < s.nn; i++)
		memcpy(before[i], s.n[i].plumbed, sizeof(before[i]));
	size_t held1 = sim_count_plumbed(&s, 1);
	assert_true(held1 >= 3);

	/* n1 fails: the survivors take its addresses at once, nothing else moves */
	int comp[NMAX] = { 0, -1, 0 };
	sim_view_change(&s, comp);
	sim_run(&s);
	sim_check(&s);
	for (size_t i = 0; i < s.nn; i += 2)
		for (size_t v = 0; v < s.nv; v++)
			if (before[i][v])
				assert_true(s.n[i].plumbed[v]);
	assert_int_equal(sim_count_plumbed(&s, 0) + sim_count_plumbed(&s, 2), s.nv);

	/* n1 comes back: nothing moves before maturity, its own come back after */
	sim_start_node(&s, 1);
	comp[1] = 0;
	sim_view_change(&s, comp);
	sim_run(&s);
	sim_check(&s);
	assert_int_equal(sim_count_plumbed(&s, 1), 0);
	sim_advance(&s, 6000);
	sim_check(&s);
	sim_check_preferred(&s);
	sim_free(&s);
}

static void test_partition_heal(void **state)
{
	(void)state;
	struct sim s;
	sim_init(&s, 3, 20, 2, VIP_QUORUM_RELEASE);
	sim_startup(&s);
	int comp[NMAX] = { 0, 0, 1 };
	sim_view_change(&s, comp);
	sim_run(&s);
	sim_check(&s); /* the minority plumbs nothing, the majority everything */
	assert_int_equal(sim_count_plumbed(&s, 2), 0);
	assert_int_equal(sim_count_plumbed(&s, 0) + sim_count_plumbed(&s, 1), s.nv);
	comp[2] = 0;
	sim_view_change(&s, comp);
	sim_run(&s);
	sim_check(&s);
	sim_advance(&s, 6000);
	sim_check(&s);
	sim_check_preferred(&s);
	sim_free(&s);
}

static void test_split_brain(void **state)
{
	(void)state;
	/* release: an even split leaves both halves inquorate, nothing plumbed */
	struct sim s;
	sim_init(&s, 4, 16, 3, VIP_QUORUM_RELEASE);
	sim_startup(&s);
	int comp[NMAX] = { 0, 0, 1, 1 };
	sim_view_change(&s, comp);
	sim_run(&s);
	sim_check(&s);
	for (size_t i = 0; i < s.nn; i++)
		assert_int_equal(sim_count_plumbed(&s, i), 0);
	int heal[NMAX] = { 0, 0, 0, 0 };
	sim_view_change(&s, heal);
	sim_run(&s);
	sim_check(&s);
	sim_free(&s);

	/* keep: both halves hold everything; the heal resolves the doubles */
	sim_init(&s, 4, 16, 4, VIP_QUORUM_KEEP);
	sim_startup(&s);
	sim_view_change(&s, comp);
	sim_run(&s);
	sim_check(&s);
	assert_int_equal(sim_count_plumbed(&s, 0) + sim_count_plumbed(&s, 1), s.nv);
	assert_int_equal(sim_count_plumbed(&s, 2) + sim_count_plumbed(&s, 3), s.nv);
	sim_view_change(&s, heal);
	sim_run(&s);
	sim_check(&s);
	sim_advance(&s, 6000);
	sim_check(&s);
	sim_check_preferred(&s);
	sim_free(&s);
}

static void test_move(void **state)
{
	(void)state;
	struct sim s;
	sim_init(&s, 3, 20, 5, VIP_QUORUM_RELEASE);
	sim_startup(&s);
	/* a free address, asked from n2, to n0; a preferred one (n0's) to n1 */
	struct vip_addr a15 = cltest_addr(15, s.nv), a0 = cltest_addr(0, s.nv);
	assert_int_equal(vip_cl_proto_request_move(s.n[2].p, &a15, "n0", s.now), 0);
	assert_int_equal(vip_cl_proto_request_move(s.n[2].p, &a0, "n1", s.now), 0);
	assert_int_equal(vip_cl_proto_request_move(s.n[2].p, &a0, "", s.now), -EINVAL);
	sim_drain(&s, 2);
	sim_run(&s);
	sim_check(&s);
	assert_true(s.n[0].plumbed[15]);
	assert_true(s.n[1].plumbed[0]);
	sim_advance(&s, 12000); /* pinned: rule 4 leaves it there */
	sim_check(&s);
	assert_true(s.n[1].plumbed[0]);
	struct vip_cl_status st;
	vip_cl_proto_status(s.n[1].p, &st);
	assert_int_equal(st.n_moves, 2);
	sim_free(&s);
}

static const char *no_pref(size_t i, void *data)
{
	(void)i;
	(void)data;
	return NULL;
}

static void test_balance(void **state)
{
	(void)state;
	struct sim s;
	sim_init(&s, 3, 30, 6, VIP_QUORUM_KEEP); /* n0 alone is inquorate */
	for (size_t i = 0; i < s.nn; i++) {
		cltest_config_free(s.n[i].cfg);
		s.n[i].cfg = cltest_config(sim_node_name(i), s.nv, no_pref, NULL);
		s.n[i].cfg->cluster.duravip_balance_set_size = 4;
	}
	/* n0 alone takes everything */
	sim_start_node(&s, 0);
	int comp[NMAX] = { 0, -1, -1 };
	sim_view_change(&s, comp);
	sim_run(&s);
	sim_check(&s);
	assert_int_equal(sim_count_plumbed(&s, 0), 30);
	/* the others join: nothing moves until the balancing rounds */
	sim_start_node(&s, 1);
	sim_start_node(&s, 2);
	comp[1] = comp[2] = 0;
	sim_view_change(&s, comp);
	sim_run(&s);
	sim_check(&s);
	assert_int_equal(sim_count_plumbed(&s, 0), 30);
	sim_advance(&s, 60000);
	sim_check(&s);
	size_t lo = SIZE_MAX, hi = 0;
	for (size_t i = 0; i < s.nn; i++) {
		size_t c = sim_count_plumbed(&s, i);
		lo = c < lo ? c : lo;
		hi = c > hi ? c : hi;
	}
	assert_true(hi <= lo + 1);
	sim_free(&s);
}

/* Engines crashed whose monitor has not flushed their addresses yet. */
static bool unflushed(const struct sim *s)
{
	for (size_t i = 0; i < s->nn; i++)
		if (s->n[i].up && !s->n[i].alive && sim_count_plumbed(s, i))
			return true;
	return false;
}

/*
 * While a crashed engine's addresses wait for its monitor, some running
 * engine that knows the ghost (its round closed) stays: a fresh engine with
 * only monitors around could not know it (docs/protocol.md, "Limits").
 */
static bool ghost_witness_stays(const struct sim *s, size_t i, bool crash)
{
	for (size_t u = 0; u < s->nn; u++) {
		bool ghost = s->n[u].up && !s->n[u].alive && sim_count_plumbed(s, u);
		bool becomes = crash && u == i && s->n[u].mon && sim_count_plumbed(s, u);
		if (!ghost && !becomes)
			continue;
		bool witness = false;
		for (size_t j = 0; j < s->nn && !witness; j++) {
			struct vip_cl_status st;
			if (j == i || !s->n[j].alive || s->n[j].stopped || s->n[j].comp != s->n[u].comp)
				continue;
			vip_cl_proto_status(s->n[j].p, &st);
			witness = st.round_complete;
		}
		if (!witness)
			return false;
	}
	return true;
}

/*
 * Monitors: start or stop one, crash an engine, flush. (A node is not cut
 * off while a crashed engine's addresses wait for its monitor: the others
 * could not know them after the heal; the monitor flushes in milliseconds.)
 */
static void monitor_event(struct sim *s, size_t i, size_t alive, bool last_witness)
{
	struct snode *n = &s->n[i];

	switch (sim_rnd(s) % 4) {
	case 0:
		if (n->up && !n->mon)
			sim_monitor(s, i, true);
		break;
	case 1:
		if (n->up && n->mon)
			sim_monitor(s, i, false);
		break;
	case 2:
		if (n->alive && alive > 1 && !last_witness && ghost_witness_stays(s, i, true))
			sim_crash(s, i);
		break;
	default:
		if (n->up && n->mon && !n->alive)
			sim_flush(s, i);
		break;
	}
}

static void random_event(struct sim *s, bool stops, bool mons, bool outs)
{
	int comp[NMAX];
	size_t alive = 0;
	for (size_t i = 0; i < s->nn; i++) {
		comp[i] = s->n[i].up ? s->n[i].comp : -1;
		alive += s->n[i].alive;
	}
	size_t i = sim_rnd(s) % s->nn;
	sim_run_some(s, sim_rnd(s) % 12); /* often the next event cuts in while messages are in flight */
	/*
	 * SIGSTOP / SIGCONT, within what the protocol can promise: a stopped
	 * member is judged on what the running members saw of it, so one stops
	 * only when everyone is in one component, nobody is cut off while it is
	 * stopped, and its last running witness does not die (what it did out
	 * of every running member's sight nobody knows: docs/protocol.md,
	 * "Limits").
	 */
	bool any_stopped = false, one_comp = true;
	for (size_t k = 0; k < s->nn; k++) {
		any_stopped |= s->n[k].alive && s->n[k].stopped;
		one_comp &= !s->n[k].alive || s->n[k].comp == 0;
	}
	bool last_witness = false;
	for (size_t k = 0; k < s->nn; k++)
		last_witness |= s->n[k].alive && s->n[k].stopped && s->witness[k] == 1u << i;
	if (stops && sim_rnd(s) % 6 == 0) {
		if (s->n[i].alive && !s->n[i].stopped && one_comp && !any_stopped && alive > 1)
			sim_stop(s, i);
		else if (s->n[i].alive && s->n[i].stopped)
			sim_resume(s, i);
	}
	if (mons && sim_rnd(s) % 5 == 0) {
		monitor_event(s, i, alive, last_witness);
		for (size_t k = 0; k < s->nn; k++)
			comp[k] = s->n[k].up ? s->n[k].comp : -1;
	}
	/* standby / active, a health check failing / passing (one history in five) */
	if (outs && sim_rnd(s) % 4 == 0 && s->n[i].alive && !s->n[i].stopped)
		sim_candidacy(s, i, s->n[i].out ? 0 : (uint32_t)(1 + sim_rnd(s) % 3));
	any_stopped = unflushed(s);
	for (size_t k = 0; k < s->nn; k++)
		any_stopped |= s->n[k].alive && s->n[k].stopped;
	switch (sim_rnd(s) % 7) {
	case 0: /* a node fails */
		if (s->n[i].alive && alive > 1 && !last_witness && ghost_witness_stays(s, i, false)) {
			comp[i] = -1;
			sim_view_change(s, comp);
		}
		break;
	case 1: /* a node (re)starts and joins a component */
		if (!s->n[i].alive) {
			bool up = s->n[i].up;
			sim_start_node(s, i);
			if (!up)
				comp[i] = any_stopped ? 0 : (int)(sim_rnd(s) % 2);
			sim_view_change(s, comp);
		}
		break;
	case 2: /* partition */
		for (size_t k = 0; k < s->nn && !any_stopped; k++)
			if (s->n[k].up)
				comp[k] = (int)(sim_rnd(s) % 3);
		sim_view_change(s, comp);
		break;
	case 3: /* heal */
		for (size_t k = 0; k < s->nn && !unflushed(s); k++)
			if (s->n[k].up)
				comp[k] = 0;
		sim_view_change(s, comp);
		break;
	case 4: /* operator move */
		if (s->n[i].alive) {
			struct vip_addr a = cltest_addr(sim_rnd(s) % s->nv, s->nv);
			vip_cl_proto_request_move(s->n[i].p, &a, sim_node_name(sim_rnd(s) % s->nn), s->now);
			sim_drain(s, i);
		}
		break;
	case 5: /* operator balance */
		if (s->n[i].alive) {
			vip_cl_proto_request_balance(s->n[i].p, s->now);
			sim_drain(s, i);
		}
		break;
	default:
		sim_run(s);
		sim_advance(s, sim_rnd(s) % 7000);
		break;
	}
	if (sim_rnd(s) % 2) {
		sim_settle(s);
		sim_check(s);
	}
}

/* VIPD_SIM_SEEDS=<n> runs more random histories (default 500). */
static uint64_t sim_seeds(void)
{
	const char *e = getenv("VIPD_SIM_SEEDS");
	return e ? strtoull(e, NULL, 10) : 500;
}

static void test_random(void **state)
{
	(void)state;
	size_t views = 0, delivered = 0, lost = 0, holds = 0, releases = 0, keyed = 0, resent = 0, outs = 0;
	size_t cross = 0, unprobed = 0, guarded = 0;
	const char *one = getenv("VIPD_SIM_SEED"); /* run just this one, for debugging */
	/* histories that once found a bug, past the default count: always run */
	static const uint64_t regressions[] = {
		14792, /* a RELEASED still in flight across a view change, the address plumbed again */
		3390,  /* a member back and gone again before its STATE: unknown holds, unprobed */
		3549,  /* the same */
		7053,  /* a grant delivered to a lost member but not here: its hold unprobed */
	};
	uint64_t first = one ? strtoull(one, NULL, 10) : 1, last = one ? first : sim_seeds();
	size_t extra = one ? 0 : ARRAY_SIZE(regressions);
	for (uint64_t k = first; k <= last + extra; k++) {
		uint64_t seed = k <= last ? k : regressions[k - last - 1];
		if (getenv("VIPD_SIM_DEBUG"))
			fprintf(stderr, "seed %llu\n", (unsigned long long)seed);
		struct sim s;
		sim_init(&s, 3 + seed % 3, 12, seed * 7 + 11,
			 seed % 4 == 0 ? VIP_QUORUM_KEEP : VIP_QUORUM_RELEASE);
		/* one history in three authenticated: what crosses a view change is ignored */
		if (seed % 3 == 2) {
			sim_use_key(&s);
			keyed++;
		}
		/* one in seven with a takeover delay of 300 ms, one in seven with it and the probe guard */
		if (seed % 7 == 3 || seed % 7 == 5) {
			sim_use_guard(&s, 300, seed % 7 == 3 ? VIP_TAKEOVER_PROBE : VIP_TAKEOVER_DELAY);
			guarded++;
		}
		sim_all_join(&s);
		sim_check(&s);
		for (int e = 0; e < 40; e++)
			random_event(&s, seed % 2 == 0, seed % 3 == 1, seed % 5 == 3);
		outs += seed % 5 == 3;
		/* resume, heal everything, start everyone, settle: the preferred come home */
		int comp[NMAX];
		for (size_t i = 0; i < s.nn; i++) {
			if (s.n[i].alive && s.n[i].stopped)
				sim_resume(&s, i);
			if (s.n[i].up && s.n[i].mon && !s.n[i].alive)
				sim_flush(&s, i);
			if (!s.n[i].alive)
				sim_start_node(&s, i);
			if (s.n[i].out)
				sim_candidacy(&s, i, 0);
			comp[i] = 0;
		}
		sim_view_change(&s, comp);
		sim_run(&s);
		sim_advance(&s, 6000);
		sim_check(&s);
		sim_check_preferred(&s);
		views += s.views;
		delivered += s.delivered;
		lost += s.lost;
		holds += s.holds;
		releases += s.releases;
		resent += s.resent;
		cross += s.cross_plumbs;
		unprobed += s.unprobed;
		sim_free(&s);
	}
	printf("%u random runs (%zu authenticated, %zu with standby/unhealthy toggles, %zu FLUSHED "
	       "sent again): %zu views installed, %zu messages delivered, %zu lost at view boundaries, "
	       "%zu plumbs, %zu unplumbs\n",
	       (unsigned)sim_seeds(), keyed, outs, resent, views, delivered, lost, holds, releases);
	printf("%zu plumbs while a node out of the component had the address, %zu of them not probed "
	       "(%zu histories with a takeover delay, half of them with the probe guard)\n",
	       cross, unprobed, guarded);
	assert_true(lost > 0 && releases > 0);
	/* every overlap the histories made began with a plumb the engine would have probed */
	assert_true(cross > 0);
	assert_int_equal(unprobed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_startup_fail_rejoin),
		cmocka_unit_test(test_partition_heal),
		cmocka_unit_test(test_split_brain),
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_balance),
		cmocka_unit_test(test_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

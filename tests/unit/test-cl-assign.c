/* SPDX-License-Identifier: MIT */
/*
 * vip_cl_assign(): a table test per rule of docs/design.md §3. The property tests
 * over random clusters are in test-cl-assign-prop.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cluster.h"

#define B(i) (UINT64_C(1) << (i))

static const struct vip_cl_anode abc[] = {
	{ .name = "alpha" },
	{ .name = "bravo" },
	{ .name = "charlie" },
};
static const struct vip_cl_anode abc_mature[] = {
	{ .name = "alpha", .mature = true },
	{ .name = "bravo", .mature = true },
	{ .name = "charlie", .mature = true },
};

static struct vip_cl_avip vip(const char *addr, uint64_t cand)
{
	struct vip_cl_avip v = { .candidates = cand, .prev_owner = -1, .move_to = -1, .follow = -1 };
	assert_int_equal(vip_addr_from_string(addr, &v.addr), 0);
	return v;
}

static int run(const struct vip_cl_anode *nodes, size_t nn, struct vip_cl_avip *v, size_t nv,
	       struct vip_cl_aout *out)
{
	struct vip_cl_assign_in in = { .nodes = nodes, .n_nodes = nn, .vips = v, .n_vips = nv };
	return vip_cl_assign(&in, out, NULL);
}

/* The node of mask with the highest rendezvous score, by the public function. */
static int top(const struct vip_cl_anode *nodes, uint64_t mask, const struct vip_addr *a)
{
	int best = -1;
	uint64_t bs = 0;
	for (int i = 0; i < 64; i++)
		if (mask & B(i)) {
			uint64_t s = vip_cl_rendezvous(nodes[i].name, a);
			if (best < 0 || s > bs) {
				best = i;
				bs = s;
			}
		}
	return best;
}

/* Rule 1: a live holder keeps its address even when another is less loaded. */
static void test_keep_holder(void **state)
{
	(void)state;
	struct vip_cl_avip v[2] = { vip("198.51.100.1", 7), vip("198.51.100.2", 7) };
	struct vip_cl_aout o[2];
	v[0].holders = v[0].keepers = B(1);
	v[1].holders = v[1].keepers = B(1);
	assert_int_equal(run(abc, 3, v, 2, o), 0);
	assert_int_equal(o[0].owner, 1);
	assert_int_equal(o[1].owner, 1);
	assert_true(o[0].plumb);
	assert_true(o[0].flags & VIP_CL_F_OWNED);
	assert_true(o[0].flags & VIP_CL_F_SAFE);
}

/* Rule 2: two holders, the preferred one holds it: it wins, the other releases. */
static void test_double_holder_preferred(void **state)
{
	(void)state;
	struct vip_cl_avip v = vip("198.51.100.1", 7);
	struct vip_cl_aout o;
	v.holders = v.keepers = B(0) | B(2);
	v.prefer = B(2);
	assert_int_equal(run(abc, 3, &v, 1, &o), 0);
	assert_int_equal(o.owner, 2);
	assert_false(o.plumb); /* alpha must release first */
	assert_true(o.flags & VIP_CL_F_MOVING);
}

/* Rule 2: two holders, no preference among them: the rendezvous hash decides. */
static void test_double_holder_hash(void **state)
{
	(void)state;
	for (int k = 1; k < 60; k++) {
		char a[32];
		snprintf(a, sizeof(a), "203.0.113.%d", k);
		struct vip_cl_avip v = vip(a, 7);
		struct vip_cl_aout o;
		v.holders = v.keepers = B(0) | B(1);
		v.prefer = B(2); /* preferred, not a holder, not mature: no effect */
		assert_int_equal(run(abc, 3, &v, 1, &o), 0);
		assert_int_equal(o.owner, top(abc, B(0) | B(1), &v.addr));
		/* the same when the preferred node is mature: rule 4 moves it there */
		assert_int_equal(run(abc_mature, 3, &v, 1, &o), 0);
		assert_int_equal(o.owner, 2);
	}
}

/* Rule 3: an unowned address goes to its preferred member. */
static void test_unowned_preferred(void **state)
{
	(void)state;
	struct vip_cl_avip v = vip("198.51.100.1", 7);
	struct vip_cl_aout o;
	v.prefer = B(1);
	assert_int_equal(run(abc, 3, &v, 1, &o), 0);
	assert_int_equal(o.owner, 1);
	assert_true(o.plumb);
}

/* Rule 3: no preferred member: the least loaded, ties by rendezvous hash. */
static void test_unowned_least_loaded(void **state)
{
	(void)state;
	struct vip_cl_avip v[4] = { vip("198.51.100.1", 7), vip("198.51.100.2", 7), vip("198.51.100.3", 7),
				    vip("198.51.100.9", 7) };
	struct vip_cl_aout o[4];
	v[0].holders = v[0].keepers = B(0);
	v[1].holders = v[1].keepers = B(0);
	v[2].holders = v[2].keepers = B(1);
	/* charlie has nothing: v[3] goes there */
	assert_int_equal(run(abc, 3, v, 4, o), 0);
	assert_int_equal(o[3].owner, 2);
	/* one each: the hash decides among all three */
	v[1].holders = v[1].keepers = B(1);
	v[2].holders = v[2].keepers = B(2);
	assert_int_equal(run(abc, 3, v, 4, o), 0);
	assert_int_equal(o[3].owner, top(abc, 7, &v[3].addr));
}

/* Rule 4: a mature preferred node gets it back by hand-off; immature, not yet. */
static void test_preferred_returns_when_mature(void **state)
{
	(void)state;
	struct vip_cl_avip v = vip("198.51.100.1", 7);
	struct vip_cl_aout o;
	v.holders = v.keepers = B(0);
	v.prev_owner = 0;
	v.prefer = B(1);
	assert_int_equal(run(abc, 3, &v, 1, &o), 0);
	assert_int_equal(o.owner, 0);
	assert_int_equal(run(abc_mature, 3, &v, 1, &o), 0);
	assert_int_equal(o.owner, 1);
	assert_false(o.plumb); /* alpha still holds it: hand-off */
	/* alpha's RELEASED delivered: bravo plumbs */
	v.holders = v.keepers = 0;
	v.prev_owner = 1;
	assert_int_equal(run(abc_mature, 3, &v, 1, &o), 0);
	assert_int_equal(o.owner, 1);
	assert_true(o.plumb);
}

/* Hand-off in flight: the old holder is releasing; the target stays, plumb waits. */
static void test_handoff_waits(void **state)
{
	(void)state;
	struct vip_cl_avip v = vip("198.51.100.1", 7);
	struct vip_cl_aout o;
	v.holders = B(0); /* alpha still holds, releasing (not a keeper) */
	v.prev_owner = 2;
	assert_int_equal(run(abc, 3, &v, 1, &o), 0);
	assert_int_equal(o.owner, 2);
	assert_false(o.plumb);
	/* alpha left the view: the holder bit is gone, charlie plumbs at once */
	struct vip_cl_anode two[] = { { .name = "bravo" }, { .name = "charlie" } };
	v.holders = 0;
	v.candidates = 3;
	v.prev_owner = 1;
	assert_int_equal(run(two, 2, &v, 1, &o), 0);
	assert_int_equal(o.owner, 1);
	assert_true(o.plumb);
}

/* Operator move: wins over holders and preference, pinned against rule 4. */
static void test_move_pinned(void **state)
{
	(void)state;
	struct vip_cl_avip v = vip("198.51.100.1", 7);
	struct vip_cl_aout o;
	v.holders = v.keepers = B(1);
	v.prefer = B(1);
	v.move_to = 2;
	assert_int_equal(run(abc_mature, 3, &v, 1, &o), 0);
	assert_int_equal(o.owner, 2);
	assert_true(o.flags & VIP_CL_F_PINNED);
	/* next run keeps it there */
	v.move_to = -1;
	v.prev_owner = 2;
	v.prev_pinned = true;
	assert_int_equal(run(abc_mature, 3, &v, 1, &o), 0);
	assert_int_equal(o.owner, 2);
	/* a move to a node that cannot host it is ignored */
	v.candidates = B(0) | B(1);
	v.prev_owner = 1;
	v.prev_pinned = false;
	v.move_to = 2;
	assert_int_equal(run(abc_mature, 3, &v, 1, &o), 0);
	assert_int_equal(o.owner, 1);
}

/* Rule 5: balancing moves set_size at a time, never preferred ones. */
static void test_balance(void **state)
{
	(void)state;
	struct vip_cl_avip v[6];
	struct vip_cl_aout o[6];
	struct vip_cl_assign_stats st;
	for (int i = 0; i < 6; i++) {
		char a[32];
		snprintf(a, sizeof(a), "198.51.100.%d", 10 + i);
		v[i] = vip(a, 3);
		v[i].holders = v[i].keepers = B(0);
		v[i].prev_owner = 0;
	}
	v[0].prefer = B(0);
	struct vip_cl_assign_in in = { .nodes = abc_mature,
				       .n_nodes = 2,
				       .vips = v,
				       .n_vips = 6,
				       .balance = true,
				       .balance_set_size = 2 };
	assert_int_equal(vip_cl_assign(&in, o, &st), 0);
	assert_int_equal(st.balanced, 2);
	assert_int_equal(st.moved, 2);
	assert_int_equal(o[0].owner, 0);
	int on_b = 0;
	for (int i = 0; i < 6; i++)
		on_b += o[i].owner == 1;
	assert_int_equal(on_b, 2);
	in.balance_set_size = 100;
	assert_int_equal(vip_cl_assign(&in, o, &st), 0);
	assert_int_equal(st.balanced, 3); /* 6 -> 3/3 */
	/* without the balance flag nothing moves */
	in.balance = false;
	assert_int_equal(vip_cl_assign(&in, o, &st), 0);
	assert_int_equal(st.moved, 0);
}

/* Rule 6: the state words. */
static void test_states(void **state)
{
	(void)state;
	struct vip_cl_avip v[3] = { vip("198.51.100.1", 7), vip("198.51.100.2", 7), vip("198.51.100.3", 7) };
	struct vip_cl_aout o[3];
	char buf[64];
	v[0].prefer = B(0) | B(1); /* conflict: no preference used */
	v[0].holders = v[0].keepers = B(2);
	v[1].flags = VIP_CL_F_UNSAFE;
	v[2].flags = VIP_CL_F_BROKEN;
	v[2].holders = v[2].keepers = B(0);
	assert_int_equal(run(abc_mature, 3, v, 3, o), 0);
	assert_int_equal(o[0].owner, 2);
	assert_true(o[0].flags & VIP_CL_F_CONFLICT);
	assert_string_equal(vip_cl_flags_format(o[0].flags, buf, sizeof(buf)), "owned safe conflict");
	assert_true(o[1].owner >= 0);
	assert_string_equal(vip_cl_flags_format(o[1].flags, buf, sizeof(buf)), "owned UNSAFE");
	assert_int_equal(o[2].owner, -1); /* BROKEN: not managed, the holder releases */
	assert_false(o[2].plumb);
	assert_string_equal(vip_cl_flags_format(o[2].flags, buf, sizeof(buf)), "BROKEN");
}

/* Candidates: a holder whose interface is down does not keep it. */
static void test_down_holder(void **state)
{
	(void)state;
	struct vip_cl_avip v = vip("198.51.100.1", B(1) | B(2));
	struct vip_cl_aout o;
	v.holders = v.keepers = B(0);
	v.prev_owner = 0;
	assert_int_equal(run(abc, 3, &v, 1, &o), 0);
	assert_true(o.owner == 1 || o.owner == 2);
	assert_false(o.plumb);
	v.candidates = 0;
	assert_int_equal(run(abc, 3, &v, 1, &o), 0);
	assert_int_equal(o.owner, -1);
}

/* A follower goes where its leader goes. */
static void test_follow(void **state)
{
	(void)state;
	struct vip_cl_avip v[2] = { vip("198.51.100.40", 7), vip("198.51.100.11", 7) };
	struct vip_cl_aout o[2];
	v[0].follow = 1;
	v[1].prefer = B(2);
	v[0].holders = v[0].keepers = B(0);
	assert_int_equal(run(abc, 3, v, 2, o), 0);
	assert_int_equal(o[1].owner, 2);
	assert_int_equal(o[0].owner, 2);
	assert_false(o[0].plumb); /* alpha holds it still */
}

static void test_invalid(void **state)
{
	(void)state;
	struct vip_cl_anode dup[] = { { .name = "x" }, { .name = "x" } };
	struct vip_cl_avip v[2] = { vip("198.51.100.1", 3), vip("198.51.100.1", 3) };
	struct vip_cl_aout o[2];
	assert_int_equal(run(dup, 2, v, 1, o), -EINVAL);
	assert_int_equal(run(abc, 3, v, 2, o), -EINVAL); /* duplicate address */
	v[0].prev_owner = 3;
	assert_int_equal(run(abc, 3, v, 1, o), -EINVAL);
	struct vip_cl_anode many[65];
	char names[65][8];
	for (int i = 0; i < 65; i++) {
		snprintf(names[i], sizeof(names[i]), "n%d", i);
		many[i] = (struct vip_cl_anode){ .name = names[i] };
	}
	v[0].prev_owner = -1;
	assert_int_equal(run(many, 65, v, 1, o), -EINVAL);
	assert_int_equal(run(many, 64, v, 1, o), 0);
	assert_int_equal(run(abc, 3, NULL, 0, NULL), 0); /* nothing to do */
}

/*
 * Silent members (docs/protocol.md): what one keeps stays its own, even
 * against a mature preferred member, a move or another keeper; what it
 * only holds (releasing) waits for it; it is given nothing new, its
 * preference counts for nothing, and balancing neither takes from it nor
 * gives to it.
 */
static void test_silent(void **state)
{
	(void)state;
	const struct vip_cl_anode nodes[] = {
		{ .name = "alpha", .mature = true },
		{ .name = "bravo", .mature = true, .silent = true },
		{ .name = "charlie", .mature = true },
	};
	struct vip_cl_avip v[6] = {
		vip("198.51.100.1", 7), vip("198.51.100.2", 7), vip("198.51.100.3", 7),
		vip("198.51.100.4", 7), vip("198.51.100.5", 7), vip("198.51.100.6", 7),
	};
	struct vip_cl_aout o[6];
	/* .1: kept by the silent bravo, preferred by a mature alpha, moved to charlie */
	v[0].holders = v[0].keepers = B(1);
	v[0].prefer = B(0);
	v[0].move_to = 2;
	/* .2: kept by bravo and by charlie (a healed partition): bravo keeps it */
	v[1].holders = v[1].keepers = B(1) | B(2);
	/* .3: bravo holds it, releasing: charlie gets it, may not plumb yet */
	v[2].holders = B(1);
	v[2].prev_owner = 2;
	/* .4: free, bravo alone prefers it: no preference, not bravo */
	v[3].prefer = B(1);
	/* .5: only bravo could host it: unowned */
	v[4].candidates = B(1);
	/* .6: free */
	assert_int_equal(run(nodes, 3, v, 6, o), 0);
	assert_int_equal(o[0].owner, 1);
	assert_true(o[0].plumb);
	assert_false(o[0].flags & VIP_CL_F_PINNED);
	assert_int_equal(o[1].owner, 1);
	assert_false(o[1].plumb); /* charlie must release first */
	assert_int_equal(o[2].owner, 2);
	assert_false(o[2].plumb);
	assert_true(o[2].flags & VIP_CL_F_MOVING);
	assert_true(o[3].owner == 0 || o[3].owner == 2);
	assert_false(o[3].flags & VIP_CL_F_CONFLICT);
	assert_int_equal(o[4].owner, -1);
	assert_true(o[5].owner == 0 || o[5].owner == 2);

	/* balancing: bravo keeps four, alpha none, charlie none: moves go charlie <-> alpha only */
	struct vip_cl_avip w[6];
	for (size_t i = 0; i < 6; i++) {
		w[i] = vip(i < 4 ? "198.51.100.10" : "198.51.100.20", 7);
		w[i].addr.bytes[3] = (uint8_t)(10 + i);
		w[i].holders = w[i].keepers = i < 4 ? B(1) : B(2);
		w[i].prev_owner = i < 4 ? 1 : 2;
	}
	struct vip_cl_assign_in in = { .nodes = nodes,
				       .n_nodes = 3,
				       .vips = w,
				       .n_vips = 6,
				       .balance = true,
				       .balance_set_size = 8 };
	struct vip_cl_assign_stats st;
	assert_int_equal(vip_cl_assign(&in, o, &st), 0);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(o[i].owner, 1); /* the most loaded, but silent: nothing taken */
	assert_int_equal(st.balanced, 1);        /* charlie 2, alpha 0: one moves */
	assert_true((o[4].owner == 0) != (o[5].owner == 0));
	/* a silent least-loaded member is no target either */
	for (size_t i = 0; i < 6; i++) {
		w[i].holders = w[i].keepers = i < 3 ? B(0) : B(2);
		w[i].prev_owner = i < 3 ? 0 : 2;
	}
	assert_int_equal(vip_cl_assign(&in, o, &st), 0);
	assert_int_equal(st.balanced, 0);
	for (size_t i = 0; i < 6; i++)
		assert_int_not_equal(o[i].owner, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keep_holder),
		cmocka_unit_test(test_double_holder_preferred),
		cmocka_unit_test(test_double_holder_hash),
		cmocka_unit_test(test_unowned_preferred),
		cmocka_unit_test(test_unowned_least_loaded),
		cmocka_unit_test(test_preferred_returns_when_mature),
		cmocka_unit_test(test_handoff_waits),
		cmocka_unit_test(test_move_pinned),
		cmocka_unit_test(test_balance),
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_down_holder),
		cmocka_unit_test(test_follow),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_silent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

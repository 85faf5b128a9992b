/* SPDX-License-Identifier: MIT */
/*
 * The round with several members, messages carried by hand
 * (docs/protocol.md, "Views and the round"): a CLOSE sent in one view and
 * delivered in the next is ignored, the first CLOSE of a view wins, a member
 * that knows nothing of a waited-for member waits twice the round timeout,
 * a known silent member keeps its addresses while a lost one's are taken.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cl-testutil.h"

struct grp {
	struct vipd_config *cfg[4];
	struct vip_cl_proto *p[4];
	struct vip_cl_member id[4];
	size_t n;
};

static void grp_init(struct grp *g, size_t n)
{
	static const char *const names[] = { "a", "b", "c", "d" };
	memset(g, 0, sizeof(*g));
	g->n = n;
	for (size_t i = 0; i < n; i++) {
		g->cfg[i] = cltest_config(names[i], 6, NULL, NULL);
		g->cfg[i]->cluster.view_balance_interval_ms = 0;
		assert_int_equal(vip_cl_proto_new(g->cfg[i], &g->p[i]), 0);
		assert_int_equal(vip_cl_proto_on_quorum(g->p[i], true, 0), 0);
		g->id[i] = (struct vip_cl_member){ .nodeid = (uint32_t)i + 1, .pid = 100 + (uint32_t)i };
	}
}

static void grp_free(struct grp *g)
{
	for (size_t i = 0; i < g->n; i++) {
		vip_cl_proto_free(g->p[i]);
		cltest_config_free(g->cfg[i]);
	}
}

/* The view ids[0..n) at every member in mask (self found by id). */
static void grp_view(struct grp *g, unsigned mask, const struct vip_cl_member *ids, size_t n, uint64_t now)
{
	for (size_t i = 0; i < g->n; i++) {
		if (!(mask & (1u << i)))
			continue;
		struct vip_cl_view v = { .members = ids, .n_members = n, .self = -1 };
		for (size_t k = 0; k < n; k++)
			if (ids[k].nodeid == g->id[i].nodeid && ids[k].pid == g->id[i].pid)
				v.self = (ssize_t)k;
		assert_int_equal(vip_cl_proto_on_view(g->p[i], &v, now), 0);
	}
}

/* Take what member i sends (releases done at once). */
static void grp_take(struct grp *g, size_t i, struct cltest_sink *s, uint64_t now)
{
	*s = (struct cltest_sink){ .p = g->p[i], .now = now };
	assert_true(cltest_drain(g->p[i], s, NULL) >= 0);
}

/* Deliver s's messages, sent by member i, to every member in mask. */
static void grp_deliver(struct grp *g, size_t i, const struct cltest_sink *s, unsigned mask, uint64_t now)
{
	for (size_t k = 0; k < s->n_sent; k++)
		for (size_t j = 0; j < g->n; j++)
			if (mask & (1u << j))
				assert_int_equal(vip_cl_proto_on_message(g->p[j], &g->id[i], s->msg[k],
									 s->len[k], now),
						 0);
}

/* Every member in mask sends what it has, delivered to mask, until quiet. */
static void grp_run(struct grp *g, unsigned mask, uint64_t now)
{
	for (int round = 0; round < 20; round++) {
		size_t sent = 0;
		for (size_t i = 0; i < g->n; i++) {
			if (!(mask & (1u << i)))
				continue;
			struct cltest_sink s;
			grp_take(g, i, &s, now);
			grp_deliver(g, i, &s, mask, now);
			sent += s.n_sent;
			cltest_sink_free(&s);
		}
		if (!sent)
			return;
	}
	fail_msg("group never went quiet");
}

static struct vip_cl_status grp_status(const struct grp *g, size_t i)
{
	struct vip_cl_status st;
	vip_cl_proto_status(g->p[i], &st);
	return st;
}

/*
 * A CLOSE names its view: one sent in a view and delivered after the next
 * view change is ignored (the new round has members the closer never
 * waited for); the first CLOSE of a view closes it, later ones are ignored.
 */
static void test_close_crossing_view_change(void **state)
{
	(void)state;
	struct grp g;
	grp_init(&g, 2);
	/* a, b and a third member s that never speaks (never spoke: nobody knows it) */
	const struct vip_cl_member s = { .nodeid = 9, .pid = 900 }, j = { .nodeid = 8, .pid = 800 };
	const struct vip_cl_member v1[] = { g.id[0], g.id[1], s };
	const struct vip_cl_member v2[] = { g.id[0], g.id[1], s, j };
	grp_view(&g, 3, v1, 3, 0);
	grp_run(&g, 3, 1);
	assert_false(grp_status(&g, 0).round_complete);
	assert_int_equal(grp_status(&g, 0).n_waiting, 1);
	/* nobody knows s: each waits twice the round timeout (2 s) */
	assert_int_equal(vip_cl_proto_next_timeout(g.p[0], 1), 4000 - 1);
	assert_int_equal(vip_cl_proto_on_tick(g.p[0], 4000), 0);
	struct cltest_sink close1;
	grp_take(&g, 0, &close1, 4000);
	assert_int_equal(close1.n_sent, 1);
	/* the view changes before a's CLOSE is delivered */
	grp_view(&g, 3, v2, 4, 4001);
	grp_deliver(&g, 0, &close1, 3, 4002);
	cltest_sink_free(&close1);
	for (size_t i = 0; i < 2; i++) {
		assert_false(grp_status(&g, i).round_complete);
		assert_int_equal(grp_status(&g, i).n_stale, 1);
	}
	grp_run(&g, 3, 4003);
	assert_false(grp_status(&g, 1).round_complete);
	assert_int_equal(grp_status(&g, 1).n_waiting, 2);
	/* both close this view; the first CLOSE delivered wins */
	assert_int_equal(vip_cl_proto_on_tick(g.p[0], 8001), 0);
	assert_int_equal(vip_cl_proto_on_tick(g.p[1], 8001), 0);
	struct cltest_sink ca, cb;
	grp_take(&g, 0, &ca, 8001);
	grp_take(&g, 1, &cb, 8001);
	grp_deliver(&g, 1, &cb, 3, 8002);
	grp_deliver(&g, 0, &ca, 3, 8003);
	cltest_sink_free(&ca);
	cltest_sink_free(&cb);
	for (size_t i = 0; i < 2; i++) {
		struct vip_cl_status st = grp_status(&g, i);
		assert_true(st.round_complete);
		assert_int_equal(st.n_closes, 1);
		assert_int_equal(st.n_silent, 2);
		assert_int_equal(st.n_stale, 2);
	}
	/* nobody knew s or j: they hold nothing, a and b share the six addresses */
	grp_run(&g, 3, 8004);
	struct vip_addr *d;
	ssize_t na = vip_cl_proto_desired(g.p[0], &d);
	free(d);
	ssize_t nb = vip_cl_proto_desired(g.p[1], &d);
	free(d);
	assert_int_equal(na + nb, 6);
	struct vip_cl_member_info mi;
	assert_int_equal(vip_cl_proto_member(g.p[0], 2, &mi), 0);
	assert_true(mi.silent);
	assert_null(mi.name);
	grp_free(&g);
}

/* A member known from before (it spoke, then fell silent) is closed at once after the round timeout. */
static void test_close_timing_known(void **state)
{
	(void)state;
	struct grp g;
	grp_init(&g, 3);
	const struct vip_cl_member v1[] = { g.id[0], g.id[1], g.id[2] };
	const struct vip_cl_member v2[] = { g.id[0], g.id[2] };
	grp_view(&g, 7, v1, 3, 0);
	grp_run(&g, 7, 1);
	assert_true(grp_status(&g, 0).round_complete);
	/* c stops speaking; b leaves */
	grp_view(&g, 1, v2, 2, 10);
	grp_run(&g, 1, 11);
	assert_int_equal(vip_cl_proto_next_timeout(g.p[0], 11), 2010 - 11);
	assert_int_equal(vip_cl_proto_on_tick(g.p[0], 2009), 0);
	assert_false(grp_status(&g, 0).round_complete);
	assert_int_equal(vip_cl_proto_on_tick(g.p[0], 2010), 0);
	grp_run(&g, 1, 2011);
	struct vip_cl_status st = grp_status(&g, 0);
	assert_true(st.round_complete);
	assert_int_equal(st.n_silent, 1);
	/* a took b's addresses and left c's: what c held is still c's */
	struct vip_addr *d;
	ssize_t na = vip_cl_proto_desired(g.p[0], &d);
	free(d);
	ssize_t nc = vip_cl_proto_desired(g.p[2], &d);
	free(d);
	assert_true(nc >= 1);
	assert_int_equal(na + nc, 6);
	for (size_t i = 0; i < vip_cl_proto_n_vips(g.p[0]); i++) {
		struct vip_cl_vip_info vi;
		assert_int_equal(vip_cl_proto_vip(g.p[0], i, &vi), 0);
		assert_non_null(vi.owner);
		assert_true(strcmp(vi.owner, vi.local_hold ? "a" : "c") == 0);
	}
	grp_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_crossing_view_change),
		cmocka_unit_test(test_close_timing_known),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * vipd/engine's probes before a takeover (vipd/engine-probe.c) against the
 * fake port and two real protocol members, a (with the engine) and b, whose
 * messages are delivered to both in one order: a view that brings b probes
 * everything a plumbs in it; b lost to node loss makes only b's addresses
 * probed; a claim holds an address back and it is probed again later; lost
 * answers count as claims; an address no longer wanted stops being probed.
 * With a takeover delay: duravip_takeover_guard = delay probes in the delay's
 * last 10 ms; = probe probes at once and plumbs on silence, and only what
 * cannot be probed waits for the delay.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cl-testutil.h"
#include "engine.h"

#define IF_ETH0 2
#define NV 6
#define NV_LARGE 3000

static size_t nv = NV;                                     /* DuraVIPs of the next setup */
static uint32_t delay_ms;                                  /* duravip_takeover_delay of the next setup */
static enum vip_takeover_guard guard = VIP_TAKEOVER_DELAY; /* duravip_takeover_guard of the next setup */
static bool port_cannot_probe;                             /* the next setup's port has no probe ops */
static struct vip_port_ops no_probe_ops;

struct h {
	struct vip_port *port;
	struct vipd_config *cfg_a, *cfg_b;
	struct vip_cl_proto *a, *b;
	struct vipd_engine *e;
	uint64_t now;
	struct vip_cl_member ids[2];
	/* messages of one step, in the order they are delivered to both */
	uint8_t *msg[64];
	size_t len[64];
	int from[64];
	size_t n_msg;
};

static int send_a(void *data, const uint8_t *m, size_t len)
{
	struct h *h = data;

	assert_true(h->n_msg < 64);
	h->msg[h->n_msg] = malloc(len);
	memcpy(h->msg[h->n_msg], m, len);
	h->len[h->n_msg] = len;
	h->from[h->n_msg++] = 0;
	return 0;
}

static void hold_a(void *data, const struct vip_addr *a)
{
	vipd_engine_on_hold(((struct h *)data)->e, a);
}

static void release_a(void *data, const struct vip_addr *a)
{
	vipd_engine_on_release(((struct h *)data)->e, a);
}

/* Deliver both members' messages to both, run the engine, until quiet. */
static void pump(struct h *h)
{
	for (int round = 0; round < 64; round++) {
		const struct vip_cl_sink sink = { .send = send_a,
						  .hold = hold_a,
						  .release = release_a,
						  .data = h };
		struct cltest_sink sb = { .p = h->b, .now = h->now };
		bool blocked = false, progress;

		h->n_msg = 0;
		assert_true(vip_cl_proto_drain(h->a, &sink, &blocked) >= 0);
		if (h->b)
			assert_true(cltest_drain(h->b, &sb, NULL) >= 0);
		for (size_t k = 0; k < sb.n_sent; k++) {
			h->msg[h->n_msg] = steal_ptr(sb.msg[k]);
			h->len[h->n_msg] = sb.len[k];
			h->from[h->n_msg++] = 1;
		}
		cltest_sink_free(&sb);
		progress = h->n_msg > 0;
		for (size_t k = 0; k < h->n_msg; k++) {
			assert_int_equal(vip_cl_proto_on_message(h->a, &h->ids[h->from[k]], h->msg[k],
								 h->len[k], h->now),
					 0);
			if (h->b)
				assert_int_equal(vip_cl_proto_on_message(h->b, &h->ids[h->from[k]], h->msg[k],
									 h->len[k], h->now),
						 0);
			free(h->msg[k]);
		}
		progress |= vipd_engine_drain_port(h->e, h->now) > 0;
		if (vipd_engine_next_probe(h->e) <= h->now) /* the daemon's probe timer, due now */
			vipd_engine_probe_due(h->e, h->now);
		if (vipd_engine_is_dirty(h->e)) {
			assert_true(vipd_engine_reconcile(h->e, h->now) >= 0);
			progress = true;
		}
		if (!progress)
			return;
	}
	fail_msg("pump did not settle");
}

/* Time passes: the protocol's and the probes' timers fire as the daemon's would. */
static void advance(struct h *h, uint64_t ms)
{
	h->now += ms;
	assert_int_equal(vip_cl_proto_on_tick(h->a, h->now), 0);
	if (h->b)
		assert_int_equal(vip_cl_proto_on_tick(h->b, h->now), 0);
	vipd_engine_probe_due(h->e, h->now);
	pump(h);
}

static size_t n_plumbed(struct h *h)
{
	const struct vip_port_table *t = vip_port_fake_addrs(h->port);
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++)
		n += t->items[i].ours;
	return n;
}

static bool plumbed(struct h *h, const struct vip_addr *a)
{
	const struct vip_port_addr *p = vip_port_table_find(vip_port_fake_addrs(h->port), a, 0);

	return p && p->ours;
}

static size_t n_wanted(struct h *h)
{
	size_t n = 0;

	for (size_t i = 0; i < nv; i++) {
		struct vip_addr x = cltest_addr(i, nv);
		n += vip_cl_proto_wants(h->a, &x);
	}
	return n;
}

static size_t n_probed(struct h *h)
{
	const struct vip_port_probe *p;

	return vip_port_fake_probed(h->port, &p);
}

/* a and b, both quorate, in one view delivered to both: a's first view brings b. */
static int setup(void **state)
{
	struct h *h = calloc(1, sizeof(*h));
	struct vip_port_link l = { .ifindex = IF_ETH0, .ifname = "eth0", .up = true, .hwaddr_len = 6 };
	struct vip_port_addr own = { .addr = cltest_addr(0, 1), .prefix = 24, .ifindex = IF_ETH0 };

	own.addr.bytes[3] = 1; /* 198.51.100.1/24: the DuraVIPs resolve to eth0 */
	if (nv > 200) {        /* 198.18.0.1/15 */
		own.addr.bytes[1] = 18;
		own.addr.bytes[2] = 0;
		own.prefix = 15;
	}
	h->now = 1000;
	h->ids[0] = (struct vip_cl_member){ .nodeid = 1, .pid = 11 };
	h->ids[1] = (struct vip_cl_member){ .nodeid = 2, .pid = 22 };
	assert_int_equal(vip_port_fake_ops.open(NULL, &h->port), 0);
	assert_int_equal(vip_port_fake_set_link(h->port, &l), 0);
	assert_int_equal(vip_port_fake_put_addr(h->port, &own), 0);
	h->cfg_a = cltest_config("a", nv, NULL, NULL);
	h->cfg_b = cltest_config("b", nv, NULL, NULL);
	h->cfg_a->cluster.view_mature_time_ms = h->cfg_b->cluster.view_mature_time_ms = 0;
	h->cfg_a->cluster.duravip_takeover_delay_ms = h->cfg_b->cluster.duravip_takeover_delay_ms = delay_ms;
	h->cfg_a->cluster.takeover_guard = h->cfg_b->cluster.takeover_guard = guard;
	assert_int_equal(vip_cl_proto_new(h->cfg_a, &h->a), 0);
	assert_int_equal(vip_cl_proto_new(h->cfg_b, &h->b), 0);
	no_probe_ops = vip_port_fake_ops;
	no_probe_ops.probe = NULL;
	no_probe_ops.probe_listen = NULL;
	struct vipd_engine_deps deps = { .port_ops = port_cannot_probe ? &no_probe_ops : &vip_port_fake_ops,
					 .port = h->port,
					 .proto = h->a };
	assert_int_equal(vipd_engine_new(&deps, h->cfg_a, &h->e), 0);
	assert_int_equal(vipd_engine_start(h->e, h->now), 0);
	assert_int_equal(vip_cl_proto_on_quorum(h->a, true, h->now), 0);
	assert_int_equal(vip_cl_proto_on_quorum(h->b, true, h->now), 0);
	struct vip_cl_view va = { .members = h->ids, .n_members = 2, .self = 0 };
	struct vip_cl_view vb = { .members = h->ids, .n_members = 2, .self = 1 };
	assert_int_equal(vip_cl_proto_on_view(h->a, &va, h->now), 0);
	assert_int_equal(vip_cl_proto_on_view(h->b, &vb, h->now), 0);
	pump(h);
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	struct h *h = *state;

	vipd_engine_free(h->e);
	vip_cl_proto_free(h->a);
	vip_cl_proto_free(h->b);
	vip_port_fake_ops.close(h->port);
	cltest_config_free(h->cfg_a);
	cltest_config_free(h->cfg_b);
	free(h);
	return 0;
}

/* The view brought b: what a takes in it is probed, and plumbed after the wait in silence. */
static void test_view_with_new_member_probes(void **state)
{
	struct h *h = *state;
	size_t want = n_wanted(h);
	struct vipd_engine_metrics m;

	assert_true(want > 0 && want < NV);
	assert_int_equal(n_probed(h), want);
	assert_int_equal(n_plumbed(h), 0);
	assert_true(vip_port_fake_listening(h->port));
	assert_int_equal(vipd_engine_next_probe(h->e), h->now + 10);
	advance(h, 9);
	assert_int_equal(n_plumbed(h), 0);
	advance(h, 1);
	assert_int_equal(n_plumbed(h), want);
	assert_false(vip_port_fake_listening(h->port));
	assert_int_equal(vipd_engine_next_probe(h->e), UINT64_MAX);
	vipd_engine_get_metrics(h->e, &m);
	assert_int_equal(m.probes_sent, want);
	assert_int_equal(m.probe_cleared, want);
	struct vip_port_fake_stats st;
	vip_port_fake_get_stats(h->port, &st);
	assert_int_equal(st.probe_calls, 1); /* one batch */
	assert_int_equal(m.probe_claims, 0);
}

/* A claimed address waits and is probed again (20 ms, then 40); the others go in. */
static void test_claim_holds_back(void **state)
{
	struct h *h = *state;
	const struct vip_port_probe *p;
	size_t want = n_wanted(h);

	assert_int_equal(vip_port_fake_probed(h->port, &p), want);
	struct vip_addr x = p[0].addr;
	struct vip_port_answer ans = { .addr = x,
				       .ifindex = IF_ETH0,
				       .mac = { 2, 0, 0, 0, 0, 9 },
				       .mac_len = 6 };
	assert_int_equal(vip_port_fake_answer(h->port, &ans), 0);
	advance(h, 10);
	assert_int_equal(n_plumbed(h), want - 1);
	assert_false(plumbed(h, &x));
	assert_true(vip_port_fake_listening(h->port));
	struct vipd_engine_vip ev; /* what the console shows */
	assert_int_equal(vipd_engine_find(h->e, &x, &ev), 0);
	assert_true(ev.probing);
	assert_int_equal(ev.probe_claims, 1);
	assert_false(ev.present);
	advance(h, 19);
	assert_int_equal(n_probed(h), want);
	advance(h, 1); /* 20 ms after the claim: probed again */
	assert_int_equal(n_probed(h), want + 1);
	assert_int_equal(vip_port_fake_answer(h->port, &ans), 0);
	advance(h, 10);
	assert_false(plumbed(h, &x));
	advance(h, 30);
	assert_int_equal(n_probed(h), want + 1);
	advance(h, 10); /* 40 ms after the second claim */
	assert_int_equal(n_probed(h), want + 2);
	advance(h, 10); /* silence */
	assert_true(plumbed(h, &x));
	assert_int_equal(n_plumbed(h), want);
	assert_false(vip_port_fake_listening(h->port));
	assert_int_equal(vipd_engine_find(h->e, &x, &ev), 0);
	assert_false(ev.probing);
	assert_int_equal(ev.probe_claims, 0);
	struct vipd_engine_metrics m;
	vipd_engine_get_metrics(h->e, &m);
	assert_int_equal(m.probe_claims, 2);
}

/* Answers lost (a receive queue overflowed): every probe in flight counts as claimed. */
static void test_lost_answers_count_as_claims(void **state)
{
	struct h *h = *state;
	size_t want = n_wanted(h);

	vip_port_fake_lose_answers(h->port);
	advance(h, 10);
	assert_int_equal(n_plumbed(h), 0);
	advance(h, 10);
	assert_int_equal(n_probed(h), 2 * want);
	advance(h, 10);
	assert_int_equal(n_plumbed(h), want);
}

/* A link or family that cannot be probed: plumbed after the takeover delay alone, never stuck. */
static void test_unprobeable_plumbs_after_wait(void **state)
{
	struct h *h = *state;
	size_t want = n_wanted(h);
	struct vipd_engine_metrics m;

	/* the probes of the first turn went out; make the next turn's fail as unprobeable */
	vip_port_fake_lose_answers(h->port);
	vip_port_fake_fail_probes(h->port, -ENOTCONN);
	advance(h, 10); /* lost answers: all claimed, probed again at +10 */
	assert_int_equal(n_plumbed(h), 0);
	advance(h, 10);
	assert_int_equal(n_plumbed(h), want);
	vipd_engine_get_metrics(h->e, &m);
	assert_int_equal(m.probes_sent, want);
	assert_false(vip_port_fake_listening(h->port));
}

/* An address no longer wanted stops being probed; with none left the port stops listening. */
static void test_unwanted_stops_probing(void **state)
{
	struct h *h = *state;

	assert_true(vip_port_fake_listening(h->port));
	/* every DuraVIP unavailable here: the protocol wants none of them */
	struct vip_addr all[NV];
	for (size_t i = 0; i < NV; i++)
		all[i] = cltest_addr(i, NV);
	assert_int_equal(vip_cl_proto_set_unavailable(h->a, all, NV, h->now), 0);
	pump(h);
	assert_int_equal(n_wanted(h), 0);
	assert_false(vip_port_fake_listening(h->port));
	assert_int_equal(vipd_engine_next_probe(h->e), UINT64_MAX);
	advance(h, 50);
	assert_int_equal(n_plumbed(h), 0);
}

/* 10 ms on (b plumbs its share: its STATE says so), then b lost to node loss; returns when. */
static uint64_t lose_b(struct h *h)
{
	advance(h, 10);
	vip_port_fake_reset_log(h->port);
	struct vip_cl_member gone = h->ids[1];
	gone.reason = VIP_CL_REASON_NODEDOWN;
	struct vip_cl_view v = { .members = h->ids, .n_members = 1, .self = 0, .left = &gone, .n_left = 1 };
	vip_cl_proto_free(h->b);
	h->b = NULL;
	assert_int_equal(vip_cl_proto_on_view(h->a, &v, h->now), 0);
	pump(h);
	return h->now;
}

/* b lost to node loss: a probes only what b held, not what it plumbed itself. */
static void test_node_loss_probes_what_it_held(void **state)
{
	struct h *h = *state;
	size_t mine = n_wanted(h);

	advance(h, 10);
	assert_int_equal(n_plumbed(h), mine);
	(void)lose_b(h);
	assert_int_equal(n_wanted(h), NV);
	assert_int_equal(n_probed(h), NV - mine);
	const struct vip_port_probe *p;
	size_t n = vip_port_fake_probed(h->port, &p);
	for (size_t i = 0; i < n; i++)
		assert_false(plumbed(h, &p[i].addr));
	advance(h, 10);
	assert_int_equal(n_plumbed(h), NV);
}

static int setup_large(void **state)
{
	nv = NV_LARGE;
	int r = setup(state);
	nv = NV;
	return r;
}

static int setup_delay(void **state)
{
	delay_ms = 100;
	int r = setup(state);
	delay_ms = 0;
	return r;
}

static int setup_delay_probe_guard(void **state)
{
	guard = VIP_TAKEOVER_PROBE;
	int r = setup_delay(state);
	guard = VIP_TAKEOVER_DELAY;
	return r;
}

static int setup_delay_no_probes(void **state)
{
	port_cannot_probe = true;
	int r = setup_delay_probe_guard(state);
	port_cannot_probe = false;
	return r;
}

/*
 * duravip_takeover_guard = probe: b's addresses are probed as soon as b is lost, a
 * second time 5 ms later (the probe alone guards them: one lost frame must not
 * decide), and plumbed 10 ms after the first in silence, not at the end of the
 * 100 ms delay; a claimed one is not probed twice and waits for the claims to stop.
 */
static void test_probe_guard_skips_delay(void **state)
{
	struct h *h = *state;
	size_t mine = n_wanted(h);
	const struct vip_port_probe *p;

	struct vipd_engine_metrics m0, m;
	advance(h, 10);
	assert_int_equal(n_plumbed(h), mine);
	vipd_engine_get_metrics(h->e, &m0);
	uint64_t t = lose_b(h);
	size_t lost = NV - mine;
	assert_int_equal(vip_cl_proto_guard_until(h->a), t + 100); /* the delay runs */
	assert_int_equal(vip_port_fake_probed(h->port, &p), lost);
	assert_int_equal(n_plumbed(h), mine);
	struct vip_port_answer ans = { .addr = p[0].addr, .ifindex = IF_ETH0 };
	assert_int_equal(vip_port_fake_answer(h->port, &ans), 0);
	assert_int_equal(vipd_engine_next_probe(h->e), t + 5);
	advance(h, 4);
	assert_int_equal(n_probed(h), lost);
	advance(h, 1); /* the second probes, but for the claimed one */
	assert_int_equal(n_probed(h), 2 * lost - 1);
	advance(h, 4);
	assert_int_equal(n_plumbed(h), mine);
	advance(h, 1);
	assert_int_equal(h->now, t + 10);
	assert_int_equal(n_plumbed(h), NV - 1);
	assert_false(plumbed(h, &ans.addr));
	advance(h, 15); /* 20 ms after the claim: probed again, then a second time, silence */
	assert_int_equal(n_probed(h), 2 * lost);
	advance(h, 5);
	assert_int_equal(n_probed(h), 2 * lost + 1);
	advance(h, 5);
	assert_int_equal(h->now, t + 35);
	assert_int_equal(n_plumbed(h), NV);
	vipd_engine_get_metrics(h->e, &m);
	assert_int_equal(m.probes_sent - m0.probes_sent, 2 * lost + 1);
}

/* ... but what cannot be probed (here: its link or family) waits for the delay's end. */
static void test_probe_guard_unprobeable_waits(void **state)
{
	struct h *h = *state;
	size_t mine = n_wanted(h);
	struct vipd_engine_metrics m;

	advance(h, 10);
	vip_port_fake_fail_probes(h->port, -EOPNOTSUPP);
	uint64_t t = lose_b(h);
	assert_int_equal(n_probed(h), 0);
	assert_int_equal(n_wanted(h), mine); /* held back again */
	advance(h, 99);
	assert_int_equal(n_plumbed(h), mine);
	advance(h, 1);
	assert_int_equal(h->now, t + 100);
	assert_int_equal(n_plumbed(h), NV);
	vipd_engine_get_metrics(h->e, &m);
	assert_int_equal(m.probes_sent, mine); /* those of a's first view only */
	assert_false(vip_port_fake_listening(h->port));
}

/* A port that cannot probe at all: the same, and nothing is probed after that. */
static void test_probe_guard_port_cannot_probe(void **state)
{
	struct h *h = *state;
	size_t mine = n_wanted(h);

	assert_int_equal(n_plumbed(h), mine); /* the first view: given up, plumbed at once */
	uint64_t t = lose_b(h);
	assert_false(vip_cl_proto_probe_first(h->a, &(struct vip_addr){ 0 }));
	advance(h, 99);
	assert_int_equal(n_plumbed(h), mine);
	advance(h, 1);
	assert_int_equal(h->now, t + 100);
	assert_int_equal(n_plumbed(h), NV);
	assert_int_equal(n_probed(h), 0);
}

/*
 * With a takeover delay the probes go out its last 10 ms, so silence is known when it
 * ends: the addresses are plumbed at its end, not 10 ms later; a claim still holds one back.
 */
static void test_probe_ahead_of_takeover_delay(void **state)
{
	struct h *h = *state;
	size_t mine = n_wanted(h);

	advance(h, 10);
	assert_int_equal(n_plumbed(h), mine);
	uint64_t t = lose_b(h);
	assert_int_equal(n_probed(h), 0);
	assert_int_equal(vipd_engine_next_probe(h->e), t + 90);
	advance(h, 89);
	assert_int_equal(n_probed(h), 0);
	assert_int_equal(n_plumbed(h), mine);
	advance(h, 1); /* 10 ms before the delay ends: probed ahead */
	assert_int_equal(n_probed(h), NV - mine);
	assert_int_equal(n_plumbed(h), mine);
	const struct vip_port_probe *p;
	vip_port_fake_probed(h->port, &p);
	struct vip_port_answer ans = { .addr = p[0].addr, .ifindex = IF_ETH0 };
	assert_int_equal(vip_port_fake_answer(h->port, &ans), 0);
	advance(h, 9);
	assert_int_equal(n_plumbed(h), mine);
	advance(h, 1); /* the delay ends: the silent ones at once, the claimed one waits */
	assert_int_equal(h->now, t + 100);
	assert_int_equal(n_plumbed(h), NV - 1);
	assert_false(plumbed(h, &ans.addr));
	advance(h, 20);
	advance(h, 10);
	assert_int_equal(n_plumbed(h), NV);
}

/*
 * A claim behind packets that were no answers (-EAGAIN) is still read before the
 * decision; more answers than one turn reads count as claims on every probe in flight.
 */
static void test_claims_behind_other_packets(void **state)
{
	struct h *h = *state;
	const struct vip_port_probe *p;
	size_t want = vip_port_fake_probed(h->port, &p);

	struct vip_port_answer ans = { .addr = p[0].addr, .ifindex = IF_ETH0 };
	struct vip_addr x = p[0].addr;
	vip_port_fake_skip_answers(h->port, 100);
	assert_int_equal(vip_port_fake_answer(h->port, &ans), 0);
	advance(h, 10);
	assert_false(plumbed(h, &x));
	assert_int_equal(n_plumbed(h), want - 1);
	/* the re-probe's answers: a flood of others' ARP before any claim */
	advance(h, 20);
	assert_int_equal(n_probed(h), want + 1);
	struct vip_port_answer other = { .addr = cltest_addr(100, 200), .ifindex = IF_ETH0 };
	for (int i = 0; i < 9000; i++)
		assert_int_equal(vip_port_fake_answer(h->port, &other), 0);
	advance(h, 10); /* 8,192 read, the rest unread: the probe counts as claimed */
	assert_false(plumbed(h, &x));
	advance(h, 10); /* probed again (the rest read now), silence */
	advance(h, 10);
	assert_true(plumbed(h, &x));
}

/*
 * A probe's silence counts only in the view it went out in: a view between the probe
 * ahead of the delay's end and that end makes it probe again.
 */
static void test_new_view_probes_again(void **state)
{
	struct h *h = *state;
	size_t mine = n_wanted(h);

	advance(h, 10);
	uint64_t t = lose_b(h);
	advance(h, 90); /* probed ahead */
	assert_int_equal(n_probed(h), NV - mine);
	advance(h, 5);
	struct vip_cl_view v = { .members = h->ids, .n_members = 1, .self = 0 };
	assert_int_equal(vip_cl_proto_on_view(h->a, &v, h->now), 0); /* the same member list again */
	pump(h);
	advance(h, 5);
	assert_int_equal(h->now, t + 100);
	assert_int_equal(n_plumbed(h), mine); /* the old silence does not count */
	assert_int_equal(n_probed(h), 2 * (NV - mine));
	advance(h, 10);
	assert_int_equal(n_plumbed(h), NV);
}

/* Thousands at once: probed in batches of 1,024 at once, one claimed among them waits. */
static void test_many(void **state)
{
	struct h *h = *state;
	const struct vip_port_probe *p;
	size_t want, n;

	nv = NV_LARGE;
	want = n_wanted(h);
	assert_true(want > 1024);
	n = vip_port_fake_probed(h->port, &p);
	assert_int_equal(n, want); /* the first batch and the next ones, each due at once */
	struct vip_port_answer ans = { .addr = p[want / 2].addr, .ifindex = IF_ETH0 };
	assert_int_equal(vip_port_fake_answer(h->port, &ans), 0);
	advance(h, 10);
	assert_int_equal(n_plumbed(h), want - 1);
	assert_false(plumbed(h, &ans.addr));
	advance(h, 20);
	advance(h, 10);
	assert_true(plumbed(h, &ans.addr));
	assert_false(vip_port_fake_listening(h->port));
	nv = NV;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_view_with_new_member_probes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_holds_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_answers_count_as_claims, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwanted_stops_probing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unprobeable_plumbs_after_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_loss_probes_what_it_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many, setup_large, teardown),
		cmocka_unit_test_setup_teardown(test_probe_ahead_of_takeover_delay, setup_delay, teardown),
		cmocka_unit_test_setup_teardown(test_claims_behind_other_packets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_view_probes_again, setup_delay, teardown),
		cmocka_unit_test_setup_teardown(test_probe_guard_skips_delay, setup_delay_probe_guard,
						teardown),
		cmocka_unit_test_setup_teardown(test_probe_guard_unprobeable_waits, setup_delay_probe_guard,
						teardown),
		cmocka_unit_test_setup_teardown(test_probe_guard_port_cannot_probe, setup_delay_no_probes,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

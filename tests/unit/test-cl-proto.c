/* SPDX-License-Identifier: MIT */
/*
 * The protocol on the solo backend, end to end through the backend's
 * eventfd: one member owns everything; quorum, liveness, unavailable
 * addresses, reconfiguration, bad messages and the console queries.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cl-prototest.h"

struct ctx {
	const struct vip_cl_backend_ops *ops;
	struct vip_cl_backend *b;
	struct vip_cl_proto *p;
	uint64_t now;
	bool held[16];
	size_t n_vips;
	size_t views, quorums;
};

static void cb_view(void *u, const struct vip_cl_view *v)
{
	struct ctx *c = u;
	c->views++;
	assert_int_equal(v->n_members, 1);
	assert_int_equal(v->self, 0);
	assert_int_equal(vip_cl_proto_on_view(c->p, v, c->now), 0);
}

static void cb_message(void *u, const struct vip_cl_member *s, const void *d, size_t len)
{
	struct ctx *c = u;
	assert_int_equal(vip_cl_proto_on_message(c->p, s, d, len, c->now), 0);
}

static void cb_quorum(void *u, bool q)
{
	struct ctx *c = u;
	c->quorums++;
	assert_int_equal(vip_cl_proto_on_quorum(c->p, q, c->now), 0);
}

static size_t index_of(const struct ctx *c, const struct vip_addr *a)
{
	for (size_t i = 0; i < c->n_vips; i++) {
		struct vip_addr b = cltest_addr(i, c->n_vips);
		if (vip_addr_equal(a, &b))
			return i;
	}
	fail();
	return 0;
}

static int act_send(void *data, const uint8_t *m, size_t len)
{
	struct ctx *c = data;
	return c->ops->send(c->b, m, len);
}

static void act_hold(void *data, const struct vip_addr *a)
{
	struct ctx *c = data;
	c->held[index_of(c, a)] = true;
}

static void act_release(void *data, const struct vip_addr *a)
{
	struct ctx *c = data;
	c->held[index_of(c, a)] = false;
	assert_int_equal(vip_cl_proto_local_released(c->p, a, c->now), 0);
}

/* Act on the queue like the engine: send, plumb, unplumb and report. */
static void act(struct ctx *c)
{
	const struct vip_cl_sink s = { .send = act_send,
				       .hold = act_hold,
				       .release = act_release,
				       .data = c };
	bool blocked = true;
	assert_true(vip_cl_proto_drain(c->p, &s, &blocked) >= 0);
	assert_false(blocked);
}

/* Poll the backend's fd and dispatch until it is quiet (bounded). */
static void pump(struct ctx *c)
{
	for (int i = 0; i < 100; i++) {
		act(c);
		struct pollfd pfd = { .fd = c->ops->fd(c->b), .events = POLLIN };
		if (poll(&pfd, 1, 0) <= 0)
			return;
		assert_int_equal(c->ops->dispatch(c->b), 0);
	}
	fail_msg("solo backend never went quiet");
}

static size_t n_held(const struct ctx *c)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_vips; i++)
		n += c->held[i];
	return n;
}

static const char *pref_other(size_t i, void *data)
{
	(void)data;
	return i == 0 ? "elsewhere" : NULL;
}

static void setup(struct ctx *c, struct vipd_config **cfg)
{
	memset(c, 0, sizeof(*c));
	c->n_vips = 5;
	c->now = 1000;
	*cfg = cltest_config("solo-node", c->n_vips, pref_other, NULL);
	c->ops = vip_cl_backend_find("solo");
	assert_non_null(c->ops);
	struct vip_cl_backend_cbs cbs = { .view = cb_view, .message = cb_message, .quorum = cb_quorum };
	assert_int_equal(c->ops->connect(&cbs, c, &c->b), 0);
	assert_int_equal(vip_cl_proto_new(*cfg, &c->p), 0);
	assert_int_equal(c->ops->join(c->b, "ec_cluster"), 0);
	assert_true(c->ops->is_quorate(c->b));
	pump(c);
}

static void teardown(struct ctx *c, struct vipd_config *cfg)
{
	vip_cl_proto_free(c->p);
	c->ops->free(c->b);
	cltest_config_free(cfg);
}

static void test_solo_owns_all(void **state)
{
	(void)state;
	struct ctx c;
	struct vipd_config *cfg;
	setup(&c, &cfg);
	assert_int_equal(c.views, 1);
	assert_int_equal(c.quorums, 1);
	assert_int_equal(n_held(&c), 5);

	struct vip_cl_status st;
	vip_cl_proto_status(c.p, &st);
	assert_true(st.in_view && st.round_complete && st.quorate);
	assert_false(st.mature);
	assert_int_equal(vip_cl_proto_next_timeout(c.p, c.now), 5000);
	struct vip_cl_vip_info vi;
	char buf[64];
	assert_int_equal(vip_cl_proto_n_vips(c.p), 5);
	assert_int_equal(vip_cl_proto_vip(c.p, 0, &vi), 0);
	assert_string_equal(vi.owner, "solo-node");
	assert_string_equal(vi.preference, "elsewhere");
	assert_true(vi.local_hold);
	assert_string_equal(vip_cl_flags_format(vi.flags, buf, sizeof(buf)), "owned safe");
	assert_int_equal(vip_cl_proto_vip(c.p, 5, &vi), -ERANGE);
	struct vip_cl_member_info mi;
	assert_int_equal(vip_cl_proto_n_members(c.p), 1);
	assert_int_equal(vip_cl_proto_member(c.p, 0, &mi), 0);
	assert_string_equal(mi.name, "solo-node");
	assert_true(mi.self);
	assert_int_equal(mi.load, 5);
	struct vip_addr *d;
	assert_int_equal(vip_cl_proto_desired(c.p, &d), 5);
	free(d);

	/* maturity: a STATE with the mature bit goes out and comes back */
	c.now += 5000;
	assert_int_equal(vip_cl_proto_next_timeout(c.p, c.now), 0);
	assert_int_equal(vip_cl_proto_on_tick(c.p, c.now), 0);
	pump(&c);
	assert_int_equal(vip_cl_proto_member(c.p, 0, &mi), 0);
	assert_true(mi.mature);
	teardown(&c, cfg);
}

static void test_quorum_policy(void **state)
{
	(void)state;
	struct ctx c;
	struct vipd_config *cfg;
	setup(&c, &cfg);
	uint64_t gen = vip_cl_proto_generation(c.p);
	assert_int_equal(vip_cl_proto_on_quorum(c.p, false, c.now), 0);
	pump(&c);
	assert_int_equal(n_held(&c), 0); /* release: plumb nothing */
	assert_true(vip_cl_proto_generation(c.p) > gen);
	assert_int_equal(vip_cl_proto_on_quorum(c.p, true, c.now), 0);
	pump(&c);
	assert_int_equal(n_held(&c), 5);
	teardown(&c, cfg);

	/* keep: inquorate changes nothing */
	cfg = cltest_config("solo-node", 5, NULL, NULL);
	cfg->cluster.quorum_policy = VIP_QUORUM_KEEP;
	struct vip_cl_proto *p;
	assert_int_equal(vip_cl_proto_new(cfg, &p), 0);
	c.p = p;
	struct vip_cl_member me = { .nodeid = 1, .pid = 1 };
	struct vip_cl_view v = { .members = &me, .n_members = 1, .self = 0 };
	assert_int_equal(vip_cl_proto_on_view(p, &v, 1), 0);
	struct cltest_sink ks = { 0 };
	assert_int_equal(cltest_drain(p, &ks, NULL), 1);
	assert_int_equal(ks.n_sent, 1);
	assert_int_equal(vip_cl_proto_on_message(p, &me, ks.msg[0], ks.len[0], 2), 0);
	cltest_sink_free(&ks);
	struct vip_addr *d;
	assert_int_equal(vip_cl_proto_desired(p, &d), 5);
	free(d);
	assert_int_equal(vip_cl_proto_on_quorum(p, false, 3), 0);
	assert_int_equal(vip_cl_proto_desired(p, &d), 5);
	free(d);
	/* lost with keep: still held (frozen) */
	assert_int_equal(vip_cl_proto_on_lost(p, 4), 0);
	assert_int_equal(vip_cl_proto_desired(p, &d), 5);
	free(d);
	vip_cl_proto_free(p);
	cltest_config_free(cfg);
}

/*
 * Quorum comes back while the view is stale (often just ourselves, as after
 * a cut link): the regained member plumbs nothing until its own STATE, sent
 * when quorum came back, is delivered — by then CPG has delivered the view
 * of the new ring, so the old view cannot hand it addresses others hold.
 */
static void test_quorum_regained_waits_for_own_state(void **state)
{
	(void)state;
	struct vipd_config *cfg = cltest_config("solo-node", 5, NULL, NULL);
	struct vip_cl_proto *p;
	struct vip_addr *d;
	size_t len = 0;
	assert_int_equal(vip_cl_proto_new(cfg, &p), 0);
	struct vip_cl_member me = { .nodeid = 1, .pid = 1 };
	struct vip_cl_view v = { .members = &me, .n_members = 1, .self = 0 };
	assert_int_equal(vip_cl_proto_on_quorum(p, true, 1), 0);
	assert_int_equal(vip_cl_proto_on_view(p, &v, 1), 0);
	uint8_t *msg = take_send(p, &len);
	assert_non_null(msg);
	assert_int_equal(vip_cl_proto_on_message(p, &me, msg, len, 2), 0);
	free(msg);
	assert_int_equal(vip_cl_proto_desired(p, &d), 5);
	free(d);

	assert_int_equal(vip_cl_proto_on_quorum(p, false, 3), 0);
	assert_int_equal(vip_cl_proto_desired(p, &d), 0);
	free(d);
	assert_int_equal(vip_cl_proto_on_quorum(p, true, 4), 0);
	msg = take_send(p, &len);
	assert_non_null(msg);                             /* a fresh STATE went out */
	assert_int_equal(vip_cl_proto_desired(p, &d), 0); /* and nothing is plumbed yet */
	free(d);
	assert_int_equal(vip_cl_proto_on_message(p, &me, msg, len, 5), 0);
	free(msg);
	assert_int_equal(vip_cl_proto_desired(p, &d), 5);
	free(d);
	vip_cl_proto_free(p);
	cltest_config_free(cfg);
}

/* Lose the only other member with reason; return how many we want, at once and after delay_ms. */
static void lose_other(uint32_t reason_code, uint32_t delay_ms, size_t *at_once, size_t *after)
{
	struct vipd_config *cfg = cltest_config("solo-node", 5, NULL, NULL);
	struct vip_cl_proto *p;
	struct vip_addr *d;
	size_t len = 0;

	cfg->cluster.duravip_takeover_delay_ms = delay_ms;
	assert_int_equal(vip_cl_proto_new(cfg, &p), 0);
	assert_int_equal(vip_cl_proto_on_quorum(p, true, 1), 0);
	struct vip_cl_member two[2] = { { .nodeid = 1, .pid = 1 }, { .nodeid = 2, .pid = 2 } };
	struct vip_cl_view v2 = { .members = two, .n_members = 2, .self = 0 };
	assert_int_equal(vip_cl_proto_on_view(p, &v2, 1), 0);
	free(take_send(p, &len));
	struct vip_cl_member gone = { .nodeid = 2, .pid = 2, .reason = (enum vip_cl_reason)reason_code };
	struct vip_cl_view v1 = { .members = two, .n_members = 1, .self = 0, .left = &gone, .n_left = 1 };
	assert_int_equal(vip_cl_proto_on_view(p, &v1, 100), 0);
	uint8_t *msg = take_send(p, &len);
	assert_non_null(msg);
	assert_int_equal(vip_cl_proto_on_message(p, &two[0], msg, len, 101), 0);
	free(msg);
	*at_once = (size_t)vip_cl_proto_desired(p, &d);
	free(d);
	if (delay_ms && reason_code == VIP_CL_REASON_NODEDOWN) {
		assert_int_equal(vip_cl_proto_next_timeout(p, 101), 100 + delay_ms - 101);
		assert_int_equal(vip_cl_proto_on_tick(p, 100 + delay_ms - 1), 0);
		assert_int_equal(vip_cl_proto_desired(p, &d), (ssize_t)*at_once);
		free(d);
	}
	assert_int_equal(vip_cl_proto_on_tick(p, 100 + delay_ms), 0);
	*after = (size_t)vip_cl_proto_desired(p, &d);
	free(d);
	vip_cl_proto_free(p);
	cltest_config_free(cfg);
}

/*
 * duravip_takeover_delay: after a member is lost to node loss (maybe only cut
 * off), take nothing new until the delay has passed; a process that died
 * (its reaper cleans up) or a planned leave needs no wait.
 */
static void test_takeover_delay_after_node_loss(void **state)
{
	(void)state;
	size_t now_n, later_n;

	lose_other(VIP_CL_REASON_NODEDOWN, 200, &now_n, &later_n);
	assert_int_equal(now_n, 0);
	assert_int_equal(later_n, 5);
	lose_other(VIP_CL_REASON_PROCDOWN, 200, &now_n, &later_n);
	assert_int_equal(now_n, 5);
	lose_other(VIP_CL_REASON_NODEDOWN, 0, &now_n, &later_n); /* the default: at once */
	assert_int_equal(now_n, 5);
	assert_int_equal(later_n, 5);
}

/* With duravip_takeover_delay, a member that regains quorum also waits it out. */
static void test_takeover_delay_after_quorum_regained(void **state)
{
	(void)state;
	struct vipd_config *cfg = cltest_config("solo-node", 5, NULL, NULL);
	struct vip_cl_proto *p;
	struct vip_addr *d;
	size_t len = 0;

	cfg->cluster.duravip_takeover_delay_ms = 100;
	assert_int_equal(vip_cl_proto_new(cfg, &p), 0);
	struct vip_cl_member me = { .nodeid = 1, .pid = 1 };
	struct vip_cl_view v = { .members = &me, .n_members = 1, .self = 0 };
	assert_int_equal(vip_cl_proto_on_view(p, &v, 1), 0);
	free(take_send(p, &len));
	assert_int_equal(vip_cl_proto_on_quorum(p, true, 10), 0);
	uint8_t *msg = take_send(p, &len);
	assert_non_null(msg);
	assert_int_equal(vip_cl_proto_on_message(p, &me, msg, len, 11), 0);
	free(msg);
	assert_int_equal(vip_cl_proto_desired(p, &d), 0);
	free(d);
	assert_int_equal(vip_cl_proto_on_tick(p, 110), 0);
	assert_int_equal(vip_cl_proto_desired(p, &d), 5);
	free(d);
	vip_cl_proto_free(p);
	cltest_config_free(cfg);
}

static void test_unavailable_and_reload(void **state)
{
	(void)state;
	struct ctx c;
	struct vipd_config *cfg;
	setup(&c, &cfg);
	struct vip_addr a2 = cltest_addr(2, 5);
	assert_int_equal(vip_cl_proto_set_unavailable(c.p, &a2, 1, c.now), 0);
	pump(&c);
	assert_false(c.held[2]);
	assert_int_equal(n_held(&c), 4);
	struct vip_cl_vip_info vi;
	assert_int_equal(vip_cl_proto_vip(c.p, 2, &vi), 0);
	assert_null(vi.owner); /* nobody can host it */
	assert_int_equal(vip_cl_proto_set_unavailable(c.p, NULL, 0, c.now), 0);
	pump(&c);
	assert_int_equal(n_held(&c), 5);

	/* reload with the last two addresses gone */
	struct vipd_config *smaller = cltest_config("solo-node", 3, NULL, NULL);
	assert_int_equal(vip_cl_proto_reconfigure(c.p, smaller, c.now), 0);
	pump(&c);
	assert_int_equal(n_held(&c), 3);
	assert_int_equal(vip_cl_proto_n_vips(c.p), 3);
	/* and back */
	assert_int_equal(vip_cl_proto_reconfigure(c.p, cfg, c.now), 0);
	pump(&c);
	assert_int_equal(n_held(&c), 5);
	cltest_config_free(smaller);
	teardown(&c, cfg);
}

static void test_bad_messages(void **state)
{
	(void)state;
	struct ctx c;
	struct vipd_config *cfg;
	setup(&c, &cfg);
	struct vip_cl_member me;
	assert_int_equal(c.ops->local(c.b, &me), 0);
	const uint8_t v9[] = { 'V', 'C', 9, 1, 0, 0, 0, 9, 0 };
	const uint8_t junk[] = { 'V', 'C', VIP_CL_PROTO_VERSION, 4, 0, 0, 0, 9, 7 };
	struct vip_cl_msg bm = { .type = VIP_CL_MSG_BALANCE };
	uint8_t *bal;
	size_t bal_len;
	assert_int_equal(vip_cl_msg_encode(&bm, &bal, &bal_len), 0);
	assert_int_equal(vip_cl_proto_on_message(c.p, &me, v9, sizeof(v9), c.now), -EPROTONOSUPPORT);
	assert_int_equal(vip_cl_proto_on_message(c.p, &me, junk, sizeof(junk), c.now), -EBADMSG);
	struct vip_cl_member stranger = { .nodeid = 77, .pid = 1 };
	assert_int_equal(vip_cl_proto_on_message(c.p, &stranger, bal, bal_len, c.now), 0);
	free(bal);
	struct vip_cl_status st;
	vip_cl_proto_status(c.p, &st);
	assert_int_equal(st.n_bad_version, 1);
	assert_int_equal(st.n_malformed, 1);
	assert_int_equal(st.n_stale, 1);
	assert_int_equal(n_held(&c), 5);
	struct vip_addr nowhere;
	assert_int_equal(vip_addr_from_string("203.0.113.99", &nowhere), 0);
	assert_int_equal(vip_cl_proto_request_move(c.p, &nowhere, "x", c.now), -ENOENT);
	assert_null(vip_cl_backend_find("nope"));
	assert_string_equal(vip_cl_reason_to_string(VIP_CL_REASON_PROCDOWN), "procdown");
	teardown(&c, cfg);
}

/* A member speaking another protocol version is left out, not waited for. */
static void test_foreign_member(void **state)
{
	(void)state;
	struct vipd_config *cfg = cltest_config("me", 3, NULL, NULL);
	struct vip_cl_proto *p;
	assert_int_equal(vip_cl_proto_new(cfg, &p), 0);
	struct vip_cl_member m[2] = { { .nodeid = 1, .pid = 1 }, { .nodeid = 2, .pid = 2 } };
	struct vip_cl_view v = { .members = m, .n_members = 2, .self = 0 };
	assert_int_equal(vip_cl_proto_on_quorum(p, true, 1), 0);
	assert_int_equal(vip_cl_proto_on_view(p, &v, 1), 0);
	size_t len = 0;
	uint8_t *mine = take_send(p, &len);
	assert_non_null(mine);
	assert_int_equal(vip_cl_proto_on_message(p, &m[0], mine, len, 2), 0);
	free(mine);
	struct vip_cl_status st;
	vip_cl_proto_status(p, &st);
	assert_false(st.round_complete);                        /* waiting for the peer */
	const uint8_t v1[] = { 'V', 'C', 1, 1, 0, 0, 0, 9, 0 }; /* version 1: no trailer */
	assert_int_equal(vip_cl_proto_on_message(p, &m[1], v1, sizeof(v1), 3), -EPROTONOSUPPORT);
	vip_cl_proto_status(p, &st);
	assert_true(st.round_complete);
	struct vip_addr *d;
	assert_int_equal(vip_cl_proto_desired(p, &d), 3);
	free(d);
	struct vip_cl_member_info mi;
	assert_int_equal(vip_cl_proto_member(p, 1, &mi), 0);
	assert_null(mi.name);
	assert_int_equal(mi.load, 0);
	vip_cl_proto_free(p);
	cltest_config_free(cfg);
}

/*
 * Liveness: this node's corosync stops answering: release everything (as
 * for lost quorum); it answers again: plumb nothing new until our own STATE,
 * sent then, is delivered, and not before the takeover delay.
 */
static void test_liveness(void **state)
{
	(void)state;
	struct vipd_config *cfg = cltest_config("me", 3, NULL, NULL);
	struct vip_cl_member me = { .nodeid = 1, .pid = 1 };
	struct vip_addr *d;
	size_t len = 0;
	struct vip_cl_status st;

	cfg->cluster.duravip_takeover_delay_ms = 500;
	cfg->cluster.view_balance_interval_ms = 0;
	struct vip_cl_proto *p = solo_proto(cfg, &me);
	assert_int_equal(vip_cl_proto_desired(p, &d), 3);
	free(d);
	vip_cl_proto_status(p, &st);
	assert_true(st.live);

	assert_int_equal(vip_cl_proto_on_liveness(p, false, 10), 0);
	struct cltest_sink s = { .p = p, .now = 10 };
	assert_int_equal(cltest_drain(p, &s, NULL), 3); /* three releases, nothing sent */
	assert_int_equal(s.n_releases, 3);
	cltest_sink_free(&s);
	assert_int_equal(vip_cl_proto_desired(p, &d), 0);
	free(d);
	vip_cl_proto_status(p, &st);
	assert_false(st.live);
	assert_true(st.quorate); /* corosync's quorum, as last heard */
	/* quorum said again while corosync is not answering: still nothing */
	assert_int_equal(vip_cl_proto_on_quorum(p, true, 11), 0);
	assert_int_equal(vip_cl_proto_desired(p, &d), 0);
	free(d);

	assert_int_equal(vip_cl_proto_on_liveness(p, true, 20), 0);
	uint8_t *msg = take_send(p, &len);
	assert_non_null(msg); /* a fresh STATE */
	assert_int_equal(vip_cl_proto_desired(p, &d), 0);
	free(d);
	assert_int_equal(vip_cl_proto_on_message(p, &me, msg, len, 21), 0);
	free(msg);
	assert_int_equal(vip_cl_proto_desired(p, &d), 0); /* the takeover delay */
	free(d);
	assert_int_equal(vip_cl_proto_next_timeout(p, 21), 500 - 1);
	assert_int_equal(vip_cl_proto_on_tick(p, 520), 0);
	assert_int_equal(vip_cl_proto_desired(p, &d), 3);
	free(d);
	vip_cl_proto_free(p);
	cltest_config_free(cfg);

	/* no takeover delay: only our own STATE, sent when corosync answers again, fences */
	cfg = cltest_config("me", 3, NULL, NULL);
	p = solo_proto(cfg, &me);
	assert_int_equal(vip_cl_proto_on_liveness(p, false, 10), 0);
	assert_int_equal(vip_cl_proto_desired(p, &d), 0);
	free(d);
	assert_int_equal(vip_cl_proto_on_liveness(p, true, 20), 0);
	msg = take_send(p, &len);
	assert_non_null(msg);
	assert_int_equal(vip_cl_proto_desired(p, &d), 0);
	free(d);
	assert_int_equal(vip_cl_proto_on_message(p, &me, msg, len, 21), 0);
	free(msg);
	assert_int_equal(vip_cl_proto_desired(p, &d), 3);
	free(d);
	vip_cl_proto_free(p);
	cltest_config_free(cfg);

	/* policy keep: corosync not answering changes nothing */
	cfg = cltest_config("me", 3, NULL, NULL);
	cfg->cluster.quorum_policy = VIP_QUORUM_KEEP;
	p = solo_proto(cfg, &me);
	assert_int_equal(vip_cl_proto_on_liveness(p, false, 10), 0);
	assert_int_equal(vip_cl_proto_desired(p, &d), 3);
	free(d);
	vip_cl_proto_free(p);
	cltest_config_free(cfg);
}

/*
 * Corosync stopped answering, then the connection broke (corosync killed and
 * restarted): the next connection starts live. The old backend's "not
 * answering" must not outlive it (a soak saw a node rejoin, be handed its
 * DuraVIPs back and plumb none of them until vipd was restarted).
 */
static void test_liveness_reset_on_lost(void **state)
{
	(void)state;
	struct vipd_config *cfg = cltest_config("me", 3, NULL, NULL);
	struct vip_cl_member me = { .nodeid = 1, .pid = 1 };
	struct vip_cl_view v = { .members = &me, .n_members = 1, .self = 0 };
	struct vip_cl_status st;
	struct vip_addr *d;

	struct vip_cl_proto *p = solo_proto(cfg, &me);
	assert_int_equal(vip_cl_proto_on_liveness(p, false, 10), 0);
	assert_int_equal(vip_cl_proto_desired(p, &d), 0);
	free(d);
	assert_int_equal(vip_cl_proto_on_lost(p, 20), 0);
	vip_cl_proto_status(p, &st);
	assert_true(st.live);
	assert_false(st.quorate);
	assert_int_equal(vip_cl_proto_desired(p, &d), 0);
	free(d);

	/* the new connection: quorum, a view, our STATE delivered */
	assert_int_equal(vip_cl_proto_on_quorum(p, true, 30), 0);
	assert_int_equal(vip_cl_proto_on_view(p, &v, 30), 0);
	solo_loop(p, &me, 31);
	assert_int_equal(vip_cl_proto_desired(p, &d), 3);
	free(d);
	vip_cl_proto_free(p);
	cltest_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_solo_owns_all),
		cmocka_unit_test(test_quorum_policy),
		cmocka_unit_test(test_quorum_regained_waits_for_own_state),
		cmocka_unit_test(test_takeover_delay_after_node_loss),
		cmocka_unit_test(test_takeover_delay_after_quorum_regained),
		cmocka_unit_test(test_unavailable_and_reload),
		cmocka_unit_test(test_bad_messages),
		cmocka_unit_test(test_foreign_member),
		cmocka_unit_test(test_liveness),
		cmocka_unit_test(test_liveness_reset_on_lost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * The probe rules of docs/protocol.md §6, "Unconfirmed releases", that the
 * random histories of test-cl-sim.c do not pin on their own: real protocol
 * members a, b and c (engines of nodes 1, 2, 3) and b's monitor m, each
 * message delivered to every member of the view in one order, by hand.
 *
 *  - a member lost to node loss may hold an address its records here do not
 *    show (a grant it delivered and we did not): every address is probed,
 *    not only its recorded holds; what another member holds is not;
 *  - an engine back from a partition whose STATE of the view was never
 *    delivered here crashes with its monitor in the view: its records here
 *    are stale, so its ghost may miss what it holds, and everything plumbed
 *    in that view is probed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cl-testutil.h"

#define NV 9
#define NP 3 /* engines a, b, c */

struct h {
	struct vipd_config *cfg[NP];
	struct vip_cl_proto *p[NP];
	struct vip_cl_member id[NP + 1]; /* a, b, c, then b's monitor m */
	bool in[NP + 1];                 /* in the current view */
	bool was[NP + 1];                /* in the view before */
	uint64_t now;
};

static const char *pref_of(size_t i, void *data)
{
	(void)data;
	static const char *const names[NP] = { "a", "b", "c" };
	return names[i % NP];
}

/* Install the view of the members marked in h->in on every engine in it; left: why the others went. */
static void view(struct h *h, enum vip_cl_reason why)
{
	struct vip_cl_member members[NP + 1], left[NP + 1];
	size_t n = 0, nl = 0;

	for (size_t i = 0; i <= NP; i++) {
		if (h->in[i])
			members[n++] = h->id[i];
		else if (h->was[i]) {
			left[nl] = h->id[i];
			left[nl++].reason = why;
		}
		h->was[i] = h->in[i];
	}
	for (size_t i = 0; i < NP; i++) {
		if (!h->in[i])
			continue;
		ssize_t self = -1;
		for (size_t k = 0; k < n; k++)
			if (members[k].nodeid == h->id[i].nodeid && members[k].pid == h->id[i].pid)
				self = (ssize_t)k;
		struct vip_cl_view v = { .members = members,
					 .n_members = n,
					 .self = self,
					 .left = left,
					 .n_left = nl };
		assert_int_equal(vip_cl_proto_on_view(h->p[i], &v, h->now), 0);
	}
}

static void deliver(struct h *h, const struct vip_cl_member *from, const uint8_t *msg, size_t len)
{
	for (size_t k = 0; k < NP; k++)
		if (h->in[k])
			assert_int_equal(vip_cl_proto_on_message(h->p[k], from, msg, len, h->now), 0);
}

/* b's monitor says MONITOR to the view. */
static void monitor_speaks(struct h *h)
{
	struct vip_cl_msg m = { .type = VIP_CL_MSG_MONITOR };
	uint8_t *buf = NULL;
	size_t len = 0;

	snprintf(m.name, sizeof(m.name), "b");
	assert_int_equal(vip_cl_msg_encode(&m, &buf, &len), 0);
	deliver(h, &h->id[NP], buf, len);
	free(buf);
}

/* Deliver what the engines in the view send (but mute's), until quiet. */
static void run(struct h *h, int mute)
{
	for (int round = 0; round < 32; round++) {
		bool any = false;
		for (size_t i = 0; i < NP; i++) {
			struct cltest_sink s = { .p = h->p[i], .now = h->now };
			if (!h->in[i])
				continue;
			assert_true(cltest_drain(h->p[i], &s, NULL) >= 0);
			for (size_t k = 0; k < s.n_sent; k++)
				if ((int)i != mute) {
					deliver(h, &h->id[i], s.msg[k], s.len[k]);
					any = true;
				}
			cltest_sink_free(&s);
		}
		if (!any)
			return;
	}
	fail_msg("messages never stopped");
}

static int setup(void **state)
{
	struct h *h = calloc(1, sizeof(*h));
	static const char *const names[NP] = { "a", "b", "c" };

	h->now = 1000;
	for (size_t i = 0; i < NP; i++) {
		h->cfg[i] = cltest_config(names[i], NV, pref_of, NULL);
		h->cfg[i]->cluster.view_mature_time_ms = 0;
		assert_int_equal(vip_cl_proto_new(h->cfg[i], &h->p[i]), 0);
		assert_int_equal(vip_cl_proto_on_quorum(h->p[i], true, h->now), 0);
		h->id[i] = (struct vip_cl_member){ .nodeid = (uint32_t)i + 1, .pid = 10 + (uint32_t)i };
	}
	h->id[NP] = (struct vip_cl_member){ .nodeid = 2, .pid = 99 }; /* b's monitor */
	for (size_t i = 0; i <= NP; i++)
		h->in[i] = true;
	view(h, VIP_CL_REASON_JOIN);
	monitor_speaks(h);
	run(h, -1);
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	struct h *h = *state;

	for (size_t i = 0; i < NP; i++) {
		vip_cl_proto_free(h->p[i]);
		cltest_config_free(h->cfg[i]);
	}
	free(h);
	return 0;
}

static bool probed(struct h *h, size_t who, size_t v)
{
	struct vip_addr x = cltest_addr(v, NV);
	return vip_cl_proto_probe_first(h->p[who], &x);
}

/* b lost to node loss: every address a may plumb is probed, but what c holds is not. */
static void test_node_loss_probes_every_address(void **state)
{
	struct h *h = *state;

	h->in[1] = false; /* b and its monitor: the whole node */
	h->in[NP] = false;
	view(h, VIP_CL_REASON_NODEDOWN);
	run(h, -1);
	for (size_t v = 0; v < NV; v++) {
		const char *pref = pref_of(v, NULL);
		if (strcmp(pref, "c") == 0)
			assert_false(probed(h, 0, v)); /* c's records hold it: a hand-off is ordered */
		else
			assert_true(probed(h, 0, v)); /* b's, and a's own */
	}
}

/*
 * b is cut off and comes back; before its STATE of that view is delivered, its engine
 * crashes while its monitor stays: what a plumbs in that view is probed.
 */
static void test_stale_member_crash_probes_all(void **state)
{
	struct h *h = *state;
	size_t cs = 0;

	h->in[1] = false;
	h->in[NP] = false;
	view(h, VIP_CL_REASON_NODEDOWN);
	run(h, -1);
	h->in[1] = true; /* back: its records here are from before (stale) */
	h->in[NP] = true;
	view(h, VIP_CL_REASON_JOIN);
	monitor_speaks(h);
	run(h, 1); /* b's STATE never arrives */
	h->in[1] = false;
	view(h, VIP_CL_REASON_PROCDOWN); /* b's engine crashed; its monitor stays */
	run(h, -1);
	for (size_t v = 0; v < NV; v++)
		if (strcmp(pref_of(v, NULL), "c") == 0) {
			assert_true(probed(h, 0, v)); /* held by c, yet probed: the view rule */
			cs++;
		}
	assert_true(cs > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_node_loss_probes_every_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_member_crash_probes_all, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

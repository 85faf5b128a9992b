/* SPDX-License-Identifier: MIT */
/*
 * vipd/announce: the announcement schedule with an injected clock. A fake
 * send callback records every batch (time, interface, addresses).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "announce.h"

#define MAX_CALLS 4096

struct call {
	uint64_t t;
	int ifindex;
	size_t n;
	struct vip_addr first;
};

struct rec {
	uint64_t now;
	struct call calls[MAX_CALLS];
	size_t n_calls;
	size_t n_addrs;
	int fail; /* return this (< 0) instead of sending */
};

static int rec_send(void *data, int ifindex, const struct vip_addr *addrs, size_t n)
{
	struct rec *r = data;

	assert_true(n > 0);
	if (r->fail)
		return r->fail;
	assert_true(r->n_calls < MAX_CALLS);
	r->calls[r->n_calls++] = (struct call){ .t = r->now, .ifindex = ifindex, .n = n, .first = addrs[0] };
	r->n_addrs += n;
	return (int)n;
}

static struct vip_addr v4(unsigned last)
{
	struct vip_addr a;
	char s[32];

	snprintf(s, sizeof(s), "198.51.100.%u", last);
	assert_int_equal(vip_addr_from_string(s, &a), 0);
	return a;
}

/* Run the schedule from `from` to `to` (inclusive), ticking exactly when due. */
static void run_until(struct vipd_announce *a, struct rec *r, uint64_t to)
{
	for (int guard = 0; guard < 100000; guard++) {
		uint64_t t = vipd_announce_next_due(a, r->now);

		if (t == UINT64_MAX || t > to)
			break;
		assert_true(t >= r->now);
		r->now = t;
		assert_true(vipd_announce_tick(a, r->now) >= 0);
	}
	r->now = to;
}

static struct vipd_announce *make(struct rec *r, uint32_t repeat, uint32_t interval, uint32_t refresh,
				  uint32_t pace, enum vip_arp_mode mode)
{
	struct vipd_announce_opts o = { .repeat = repeat,
					.repeat_interval_ms = interval,
					.refresh_interval_ms = refresh,
					.pace = pace,
					.mode = mode };
	struct vipd_announce *a = NULL;

	assert_int_equal(vipd_announce_new(&o, rec_send, r, &a), 0);
	return a;
}

static void test_first_at_once_then_repeats(void **state _unused_)
{
	static struct rec r = { .now = 5000 };
	struct vipd_announce *a = make(&r, 5, 1100, 0, 0, VIP_ARP_REQUEST);
	struct vip_addr x = v4(21);

	assert_int_equal(vipd_announce_add(a, &x, 2, r.now), 0);
	assert_int_equal(vipd_announce_next_due(a, r.now), 5000);
	assert_int_equal(vipd_announce_tick(a, r.now), 1);
	run_until(a, &r, 60000);
	/* First at 5000, then five repeats 1.1 s apart, then nothing. */
	assert_int_equal(r.n_calls, 6);
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(r.calls[i].t, 5000 + 1100 * i);
		assert_int_equal(r.calls[i].ifindex, 2);
		assert_true(vip_addr_equal(&r.calls[i].first, &x));
	}
	assert_int_equal(vipd_announce_next_due(a, r.now), UINT64_MAX);
	struct vipd_announce_entry e;
	assert_int_equal(vipd_announce_get(a, 0, &e), 0);
	assert_int_equal(e.sent, 6);
	assert_int_equal(e.repeats_left, 0);
	assert_int_equal(e.last_ms, 5000 + 5500);
	vipd_announce_free(a);
}

static void test_interval_never_below_one_second(void **state _unused_)
{
	static struct rec r = { .now = 0 };
	struct vipd_announce *a = make(&r, 3, 200, 300, 0, VIP_ARP_REQUEST);
	struct vip_addr x = v4(22);

	assert_int_equal(vipd_announce_get_opts(a)->repeat_interval_ms, 1000);
	assert_int_equal(vipd_announce_get_opts(a)->refresh_interval_ms, 1000);
	vipd_announce_add(a, &x, 1, 0);
	run_until(a, &r, 5500);
	assert_true(r.n_calls >= 5);
	for (size_t i = 1; i < r.n_calls; i++)
		assert_true(r.calls[i].t - r.calls[i - 1].t >= 1000);
	vipd_announce_free(a);
}

static void test_readd_respects_locktime(void **state _unused_)
{
	static struct rec r = { .now = 10000 };
	struct vipd_announce *a = make(&r, 0, 1100, 0, 0, VIP_ARP_REQUEST);
	struct vip_addr x = v4(23);

	vipd_announce_add(a, &x, 1, r.now);
	vipd_announce_tick(a, r.now);
	/* Re-acquired (or `announce view`) 300 ms later: waits for the 1 s locktime. */
	r.now += 300;
	vipd_announce_add(a, &x, 1, r.now);
	assert_int_equal(vipd_announce_next_due(a, r.now), 11000);
	assert_int_equal(vipd_announce_tick(a, r.now), 0);
	run_until(a, &r, 20000);
	assert_int_equal(r.n_calls, 2);
	assert_int_equal(r.calls[1].t, 11000);
	vipd_announce_free(a);
}

static void test_refresh(void **state _unused_)
{
	static struct rec r = { .now = 0 };
	struct vipd_announce *a = make(&r, 1, 1100, 30000, 0, VIP_ARP_REQUEST);
	struct vip_addr x = v4(24);

	vipd_announce_add(a, &x, 1, 0);
	run_until(a, &r, 100000);
	/* 0, 1100, then every 30 s: 31100, 61100, 91100. */
	assert_int_equal(r.n_calls, 5);
	assert_int_equal(r.calls[2].t, 31100);
	assert_int_equal(r.calls[4].t, 91100);
	/* Refresh switched off by a reload: nothing more. */
	struct vipd_announce_opts o = *vipd_announce_get_opts(a);
	o.refresh_interval_ms = 0;
	vipd_announce_set_opts(a, &o);
	assert_int_equal(vipd_announce_next_due(a, r.now), UINT64_MAX);
	vipd_announce_free(a);
}

static void test_batches_per_interface(void **state _unused_)
{
	static struct rec r = { .now = 100 };
	struct vipd_announce *a = make(&r, 0, 1100, 0, 0, VIP_ARP_REQUEST);

	for (unsigned i = 0; i < 5; i++) {
		struct vip_addr x = v4(30 + i);
		vipd_announce_add(a, &x, i < 3 ? 2 : 3, r.now);
	}
	assert_int_equal(vipd_announce_tick(a, r.now), 5);
	/* One send call per interface with everything due at that time. */
	assert_int_equal(r.n_calls, 2);
	assert_int_equal(r.calls[0].ifindex, 2);
	assert_int_equal(r.calls[0].n, 3);
	assert_int_equal(r.calls[1].ifindex, 3);
	assert_int_equal(r.calls[1].n, 2);
	vipd_announce_free(a);
}

static void test_pacing(void **state _unused_)
{
	static struct rec r = { .now = 0 };
	/* 100 packets/s, bucket of 10; 300 addresses acquired at once on one link. */
	struct vipd_announce *a = make(&r, 0, 1100, 0, 100, VIP_ARP_REQUEST);

	for (unsigned i = 0; i < 300; i++) {
		struct vip_addr x = { .family = AF_INET };
		x.v4.s_addr = htonl(0xC6336400u + i); /* 198.51.100.0 + i; never sent anywhere */
		vipd_announce_add(a, &x, 7, 0);
	}
	assert_int_equal(vipd_announce_tick(a, 0), 10);
	run_until(a, &r, 10000);
	assert_int_equal(r.n_addrs, 300);
	/* In every window of 1 s at most pace + bucket packets went out. */
	for (size_t i = 0; i < r.n_calls; i++) {
		size_t in_window = 0;
		for (size_t j = i; j < r.n_calls && r.calls[j].t < r.calls[i].t + 1000; j++)
			in_window += r.calls[j].n;
		assert_true(in_window <= 110);
	}
	/* All sent after about (300 - 10) / 100 = 2.9 s, not before. */
	assert_true(r.calls[r.n_calls - 1].t >= 2800);
	assert_true(r.calls[r.n_calls - 1].t <= 3000);
	struct vipd_announce_stats s;
	vipd_announce_get_stats(a, &s);
	assert_int_equal(s.announced, 300);
	assert_true(s.deferred > 0);
	vipd_announce_free(a);
}

static void test_mode_both_costs_two_packets(void **state _unused_)
{
	static struct rec r = { .now = 0 };
	struct vipd_announce *a = make(&r, 0, 1100, 0, 20, VIP_ARP_BOTH);

	for (unsigned i = 0; i < 4; i++) {
		struct vip_addr x = v4(40 + i);
		vipd_announce_add(a, &x, 1, 0);
	}
	/* Bucket of 2 packets (the minimum): one IPv4 address in mode both. */
	assert_int_equal(vipd_announce_tick(a, 0), 1);
	/* 2 packets at 20/s: the next one 100 ms later. */
	assert_int_equal(vipd_announce_next_due(a, 0), 100);
	run_until(a, &r, 1000);
	struct vipd_announce_stats s;
	vipd_announce_get_stats(a, &s);
	assert_int_equal(s.announced, 4);
	assert_int_equal(s.packets, 8);
	vipd_announce_free(a);
}

static void test_remove_and_failure(void **state _unused_)
{
	static struct rec r = { .now = 0 };
	struct vipd_announce *a = make(&r, 2, 1100, 0, 0, VIP_ARP_REQUEST);
	struct vip_addr x = v4(50), y = v4(51);

	vipd_announce_add(a, &x, 1, 0);
	vipd_announce_add(a, &y, 1, 0);
	assert_int_equal(vipd_announce_remove(a, &x), 0);
	assert_int_equal(vipd_announce_remove(a, &x), -ENOENT);
	r.fail = -ENETDOWN;
	assert_int_equal(vipd_announce_tick(a, 0), -ENETDOWN);
	/* A failed send still advances the schedule: no busy loop. */
	assert_int_equal(vipd_announce_next_due(a, 0), 1100);
	r.fail = 0;
	run_until(a, &r, 10000);
	assert_int_equal(r.n_calls, 2);
	struct vipd_announce_stats s;
	vipd_announce_get_stats(a, &s);
	assert_int_equal(s.errors, 1);
	assert_int_equal(s.announced, 2);
	assert_int_equal(vipd_announce_restart_all(a, 20000), 1);
	assert_int_equal(vipd_announce_tick(a, 20000), 1);
	vipd_announce_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_at_once_then_repeats),
		cmocka_unit_test(test_interval_never_below_one_second),
		cmocka_unit_test(test_readd_respects_locktime),
		cmocka_unit_test(test_refresh),
		cmocka_unit_test(test_batches_per_interface),
		cmocka_unit_test(test_pacing),
		cmocka_unit_test(test_mode_both_costs_two_packets),
		cmocka_unit_test(test_remove_and_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

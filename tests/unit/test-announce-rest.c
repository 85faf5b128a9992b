/* SPDX-License-Identifier: MIT */
/*
 * vipd/announce: addresses with nothing more scheduled rest in the compact
 * store (vipd/announce-internal.h) and keep what the schedule needs of them:
 * the count sent, the last time (the locktime of a re-acquisition), the
 * interface; `announce view`, a re-acquisition and refresh bring them back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "announce.h"

struct rec {
	uint64_t now;
	size_t n_addrs;
	size_t n_calls;
};

static int rec_send(void *data, int ifindex _unused_, const struct vip_addr *addrs _unused_, size_t n)
{
	struct rec *r = data;

	r->n_calls++;
	r->n_addrs += n;
	return (int)n;
}

static void run_until(struct vipd_announce *a, struct rec *r, uint64_t to)
{
	for (int guard = 0; guard < 100000; guard++) {
		uint64_t t = vipd_announce_next_due(a, r->now);

		if (t == UINT64_MAX || t > to)
			break;
		r->now = t;
		assert_true(vipd_announce_tick(a, r->now) >= 0);
	}
	r->now = to;
}

/* Address i: 1,000 IPv4 in 198.18.0.0/15 (odd i on ifindex 3), then IPv6 in 2001:db8::/32. */
static struct vip_addr addr_of(unsigned i)
{
	struct vip_addr x = { .family = i < 1000 ? AF_INET : AF_INET6 };

	if (i < 1000) {
		x.v4.s_addr = htonl(0xC6120000u + i * 7919u % 60000u); /* not in order */
	} else {
		x.bytes[0] = 0x20, x.bytes[1] = 0x01, x.bytes[2] = 0x0d, x.bytes[3] = 0xb8;
		x.bytes[15] = (uint8_t)(i - 1000);
	}
	return x;
}

#define N 1010u

static struct vipd_announce *make_all(struct rec *r)
{
	struct vipd_announce_opts o = { .repeat = 1, .repeat_interval_ms = 1100 };
	struct vipd_announce *a = NULL;

	assert_int_equal(vipd_announce_new(&o, rec_send, r, &a), 0);
	for (unsigned i = 0; i < N; i++) {
		struct vip_addr x = addr_of(i);
		assert_int_equal(vipd_announce_add(a, &x, 2 + (int)(i & 1), r->now), 0);
	}
	return a;
}

/* The entry of x, by a scan of every index. */
static bool find(const struct vipd_announce *a, const struct vip_addr *x, struct vipd_announce_entry *ret)
{
	for (size_t i = 0; i < vipd_announce_count(a); i++) {
		assert_int_equal(vipd_announce_get(a, i, ret), 0);
		if (vip_addr_equal(&ret->addr, x))
			return true;
	}
	return false;
}

static void test_rest_keeps_what_is_shown(void **state _unused_)
{
	struct rec r = { .now = 5000 };
	struct vipd_announce *a = make_all(&r);
	struct vipd_announce_entry e;
	size_t busy = vipd_announce_bytes(a);

	run_until(a, &r, 20000);
	assert_int_equal(r.n_addrs, 2 * N);
	assert_int_equal(vipd_announce_next_due(a, r.now), UINT64_MAX);
	assert_int_equal(vipd_announce_count(a), N);
	/* At rest: 16 bytes per IPv4 address, 28 per IPv6, two interface slots. */
	assert_int_equal(vipd_announce_bytes(a), 1000 * 16 + 10 * 28 + 2 * 8);
	assert_true(busy >= N * 48);
	for (unsigned i = 0; i < N; i++) {
		struct vip_addr x = addr_of(i);
		assert_true(find(a, &x, &e));
		assert_int_equal(e.sent, 2);
		assert_int_equal(e.repeats_left, 0);
		assert_int_equal(e.ifindex, 2 + (int)(i & 1));
		assert_int_equal(e.last_ms, 6100);
		assert_int_equal(e.next_ms, UINT64_MAX);
	}
	assert_int_equal(vipd_announce_get(a, N, &e), -ENOENT);
	vipd_announce_free(a);
}

static void test_rest_readd_remove_restart(void **state _unused_)
{
	struct rec r = { .now = 5000 };
	struct vipd_announce *a = make_all(&r);
	struct vip_addr x = addr_of(17), y = addr_of(1003);
	struct vipd_announce_entry e;

	run_until(a, &r, 6100);
	/* Re-acquired on another link 300 ms after its last: the locktime holds, sent goes on. */
	r.now = 6400;
	assert_int_equal(vipd_announce_add(a, &x, 9, r.now), 0);
	assert_int_equal(vipd_announce_next_due(a, r.now), 7100);
	run_until(a, &r, 20000);
	assert_true(find(a, &x, &e));
	assert_int_equal(e.sent, 4);
	assert_int_equal(e.ifindex, 9);
	assert_int_equal(e.last_ms, 7100 + 1100);
	/* Removed while resting, once. */
	assert_int_equal(vipd_announce_remove(a, &y), 0);
	assert_int_equal(vipd_announce_remove(a, &y), -ENOENT);
	assert_false(find(a, &y, &e));
	assert_int_equal(vipd_announce_count(a), N - 1);
	/* `announce view`: every one again, at once. */
	r.n_addrs = 0;
	assert_int_equal(vipd_announce_restart_all(a, 30000), N - 1);
	assert_int_equal(vipd_announce_tick(a, 30000), (int)(N - 1));
	r.now = 30000;
	run_until(a, &r, 40000);
	assert_int_equal(r.n_addrs, 2 * (N - 1));
	assert_true(find(a, &x, &e));
	assert_int_equal(e.sent, 6);
	vipd_announce_free(a);
}

static void test_rest_refresh_reload(void **state _unused_)
{
	struct rec r = { .now = 0 };
	struct vipd_announce *a = make_all(&r);
	struct vipd_announce_opts o;

	run_until(a, &r, 10000);
	assert_int_equal(vipd_announce_next_due(a, r.now), UINT64_MAX);
	/* Refresh switched on by a reload: the resting addresses are refreshed from their last. */
	o = *vipd_announce_get_opts(a);
	o.refresh_interval_ms = 30000;
	vipd_announce_set_opts(a, &o);
	assert_int_equal(vipd_announce_next_due(a, r.now), 1100 + 30000);
	r.n_addrs = 0;
	run_until(a, &r, 31100);
	assert_int_equal(r.n_addrs, N);
	/* And off again: they rest. */
	o.refresh_interval_ms = 0;
	vipd_announce_set_opts(a, &o);
	assert_int_equal(vipd_announce_next_due(a, r.now), UINT64_MAX);
	assert_int_equal(vipd_announce_count(a), N);
	assert_int_equal(vipd_announce_bytes(a), 1000 * 16 + 10 * 28 + 2 * 8);
	vipd_announce_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rest_keeps_what_is_shown),
		cmocka_unit_test(test_rest_readd_remove_restart),
		cmocka_unit_test(test_rest_refresh_reload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

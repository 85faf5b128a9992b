/* SPDX-License-Identifier: MIT */
/*
 * The one binary search over address-sorted arrays (conf/base, reached from cluster/ through VIP_CL_ADDR_FIND/LOWER_BOUND),
 * against a linear scan: every probe below, between and above the elements of
 * sorted arrays of every length up to 40, IPv4 and IPv6 mixed, with the
 * address first in the element and at an offset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cluster-internal.h"

struct tail_addr {
	uint64_t pad[3];
	struct vip_addr addr;
	int tag;
};

/* The k-th address in vip_addr_cmp order among 2 * MAXN + 2 probes: even k stand in the arrays. */
#define MAXN 40
static struct vip_addr nth(int k)
{
	struct vip_addr a = { 0 };
	char buf[64];

	if (k < MAXN + 1)
		snprintf(buf, sizeof(buf), "198.51.100.%d", 10 + k);
	else
		snprintf(buf, sizeof(buf), "2001:db8::%x", 0x10 + k);
	assert_int_equal(vip_addr_from_string(buf, &a), 0);
	return a;
}

static size_t linear_lower_bound(const struct vip_addr *sorted, size_t n, const struct vip_addr *a)
{
	size_t i = 0;

	while (i < n && vip_addr_cmp(&sorted[i], a) < 0)
		i++;
	return i;
}

static void test_probes_order(void **state)
{
	(void)state;
	for (int k = 1; k < 2 * MAXN + 2; k++) {
		struct vip_addr x = nth(k - 1), y = nth(k);
		assert_true(vip_addr_cmp(&x, &y) < 0); /* the test's own premise */
	}
}

static void test_against_linear(void **state)
{
	(void)state;
	struct vip_cl_record rec[MAXN];
	struct tail_addr tail[MAXN];
	struct vip_addr plain[MAXN];

	for (size_t n = 0; n <= MAXN; n++) {
		for (size_t i = 0; i < n; i++) {
			plain[i] = nth(2 * (int)i + 1);
			rec[i] = (struct vip_cl_record){ .addr = plain[i], .flags = (uint8_t)i };
			tail[i] = (struct tail_addr){ .addr = plain[i], .tag = (int)i };
		}
		for (int k = 0; k < 2 * (int)n + 2; k++) {
			struct vip_addr a = nth(k);
			size_t want = linear_lower_bound(plain, n, &a);
			bool present = k % 2 == 1 && k < 2 * (int)n;

			assert_int_equal(VIP_CL_ADDR_LOWER_BOUND(rec, n, &a), want);
			assert_int_equal(VIP_CL_ADDR_LOWER_BOUND(tail, n, &a), want);
			struct vip_cl_record *r = VIP_CL_ADDR_FIND(rec, n, &a);
			struct tail_addr *t = VIP_CL_ADDR_FIND(tail, n, &a);
			if (!present) {
				assert_null(r);
				assert_null(t);
				continue;
			}
			assert_ptr_equal(r, &rec[want]);
			assert_ptr_equal(t, &tail[want]);
			assert_int_equal(t->tag, (int)want);
			assert_true(vip_addr_equal(&t->addr, &a));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probes_order),
		cmocka_unit_test(test_against_linear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * conf/base alone (this test links nothing else): the address helpers, the
 * binary search over arrays sorted by address, the announcement mode names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/socket.h>

#include "base.h"

static struct vip_addr A(const char *s) {
	struct vip_addr a;

	assert_int_equal(vip_addr_from_string(s, &a), 0);
	return a;
}

struct rec {
	uint32_t tag;
	struct vip_addr addr; /* the key sits after another member */
};

static void test_bsearch_plain_array(void **state)
{
	(void)state;
	/* IPv4 sorts before IPv6 (family first), then by bytes. */
	const struct vip_addr v[] = { A("198.51.100.1"), A("198.51.100.9"), A("203.0.113.5"),
				      A("2001:db8::1"), A("2001:db8::2") };
	const size_t n = ARRAY_SIZE(v);

	for (size_t i = 1; i < n; i++)
		assert_true(vip_addr_cmp(&v[i - 1], &v[i]) < 0);
	for (size_t i = 0; i < n; i++) {
		assert_ptr_equal(vip_addr_bsearch(&v[i], v, n, sizeof(v[0]), 0), &v[i]);
		assert_int_equal(vip_addr_lower_bound(&v[i], v, n, sizeof(v[0]), 0), i);
	}
	struct vip_addr k = A("198.51.100.5");
	assert_null(vip_addr_bsearch(&k, v, n, sizeof(v[0]), 0));
	assert_int_equal(vip_addr_lower_bound(&k, v, n, sizeof(v[0]), 0), 1);
	k = A("198.51.100.0");
	assert_int_equal(vip_addr_lower_bound(&k, v, n, sizeof(v[0]), 0), 0);
	k = A("2001:db8::3");
	assert_null(vip_addr_bsearch(&k, v, n, sizeof(v[0]), 0));
	assert_int_equal(vip_addr_lower_bound(&k, v, n, sizeof(v[0]), 0), n);
	k = A("255.255.255.255"); /* every IPv4 sorts before any IPv6 */
	assert_int_equal(vip_addr_lower_bound(&k, v, n, sizeof(v[0]), 0), 3);
	/* empty and one-element arrays */
	assert_null(vip_addr_bsearch(&v[0], v, 0, sizeof(v[0]), 0));
	assert_null(vip_addr_bsearch(&v[0], NULL, 0, sizeof(v[0]), 0)); /* an empty table may have no array */
	assert_int_equal(vip_addr_lower_bound(&v[0], NULL, 0, sizeof(v[0]), 0), 0);
	assert_int_equal(vip_addr_lower_bound(&v[0], v, 0, sizeof(v[0]), 0), 0);
	assert_ptr_equal(vip_addr_bsearch(&v[0], v, 1, sizeof(v[0]), 0), &v[0]);
	assert_null(vip_addr_bsearch(&v[1], v, 1, sizeof(v[0]), 0));
}

static void test_bsearch_struct_member(void **state)
{
	(void)state;
	enum { N = 1000 };
	struct rec *r = calloc(N, sizeof(*r));
	char s[VIP_ADDR_STRLEN];

	assert_non_null(r);
	for (uint32_t i = 0; i < N; i++) {
		snprintf(s, sizeof(s), "198.18.%u.%u", i / 128, (i % 128) * 2);
		r[i].addr = A(s);
		r[i].tag = i;
	}
	/* 128 even host numbers per /24 (0, 2, ... 254): sorted, distinct. */
	for (size_t i = 1; i < N; i++)
		assert_true(vip_addr_cmp(&r[i - 1].addr, &r[i].addr) < 0);
	for (uint32_t i = 0; i < N; i++) {
		struct rec *hit = VIP_ADDR_BSEARCH(&r[i].addr, r, N, addr);
		assert_non_null(hit);
		assert_int_equal(hit->tag, i);
		/* The odd neighbour is absent and would be inserted right after. */
		struct vip_addr odd = r[i].addr;
		odd.bytes[3] |= 1;
		assert_null(VIP_ADDR_BSEARCH(&odd, r, N, addr));
		assert_int_equal(vip_addr_lower_bound(&odd, r, N, sizeof(*r), offsetof(struct rec, addr)),
				 i + 1);
	}
	/* The macro keeps the array's constness and type. */
	const struct rec *cr = r;
	const struct rec *c = VIP_ADDR_BSEARCH(&r[7].addr, cr, N, addr);
	assert_ptr_equal(c, &r[7]);
	free(r);
}

static void test_addr_helpers(void **state)
{
	(void)state;
	struct vip_addr a = A("198.51.100.77"), net = A("198.51.100.64");
	char buf[VIP_ADDR_STRLEN];
	unsigned len;

	assert_true(vip_addr_in_prefix(&a, &net, 28)); /* .77 = .64 + 13 */
	assert_false(vip_addr_in_prefix(&a, &net, 29));
	assert_true(vip_addr_in_prefix(&a, &net, 0));
	assert_int_equal(vip_prefix_from_string("2001:db8::/32", &net, &len), 0);
	assert_int_equal(len, 32);
	assert_int_equal(vip_prefix_from_string("198.51.100.0/33", &net, &len), -EINVAL);
	assert_string_equal(vip_addr_to_string(&a, buf, sizeof(buf)), "198.51.100.77");
	assert_int_equal(vip_addr_from_string("[2001:db8::1]", &a), -EINVAL);
}

static void test_arp_mode_names(void **state)
{
	(void)state;
	for (int m = 0; m < _VIP_ARP_MODE_MAX; m++)
		assert_int_equal(vip_arp_mode_from_string(vip_arp_mode_to_string(m)), m);
	assert_int_equal(vip_arp_mode_from_string("Both"), VIP_ARP_BOTH);
	assert_int_equal(vip_arp_mode_from_string("gratuitous"), -EINVAL);
	assert_int_equal(vip_arp_mode_from_string(NULL), -EINVAL);
	assert_null(vip_arp_mode_to_string(_VIP_ARP_MODE_MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bsearch_plain_array),
		cmocka_unit_test(test_bsearch_struct_member),
		cmocka_unit_test(test_addr_helpers),
		cmocka_unit_test(test_arp_mode_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

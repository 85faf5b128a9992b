/* SPDX-License-Identifier: MIT */
/* Unit: the announcement and probe frame builders, field by field, the ICMPv6 checksum, and the
 * parsers of answers to probes. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "port-internal.h"

static const uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void test_arp_request(void **state)
{
	(void)state;
	uint8_t f[VIP_FRAME_MAX];
	struct in_addr ip;
	inet_pton(AF_INET, "198.51.100.7", &ip);
	memset(f, 0xee, sizeof(f));
	assert_int_equal(vip_frame_arp(f, mac, &ip, false), VIP_ARP_FRAME_LEN);
	assert_memory_equal(f, "\xff\xff\xff\xff\xff\xff", 6);
	assert_memory_equal(f + 6, mac, 6);
	assert_int_equal(be16(f + 12), 0x0806);
	assert_int_equal(be16(f + 14), 1);
	assert_int_equal(be16(f + 16), 0x0800);
	assert_int_equal(f[18], 6);
	assert_int_equal(f[19], 4);
	assert_int_equal(be16(f + 20), 1);
	assert_memory_equal(f + 22, mac, 6);
	assert_memory_equal(f + 28, "\xc6\x33\x64\x07", 4);
	assert_memory_equal(f + 32, "\0\0\0\0\0\0", 6);
	assert_memory_equal(f + 38, "\xc6\x33\x64\x07", 4);
	assert_int_equal(f[42], 0xee); /* nothing written past the frame */
}

static void test_arp_reply(void **state)
{
	(void)state;
	uint8_t f[VIP_FRAME_MAX];
	struct in_addr ip;
	inet_pton(AF_INET, "203.0.113.200", &ip);
	assert_int_equal(vip_frame_arp(f, mac, &ip, true), VIP_ARP_FRAME_LEN);
	assert_memory_equal(f, "\xff\xff\xff\xff\xff\xff", 6);
	assert_int_equal(be16(f + 20), 2);
	assert_memory_equal(f + 22, mac, 6);
	assert_memory_equal(f + 28, "\xcb\x00\x71\xc8", 4);
	assert_memory_equal(f + 32, mac, 6); /* a gratuitous reply names the sender as target */
	assert_memory_equal(f + 38, "\xcb\x00\x71\xc8", 4);
}

/* A second, plain implementation: the sum over pseudo-header and message must be 0xffff. */
static bool csum_ok(const uint8_t *ip6)
{
	uint32_t sum = 0;
	unsigned plen = be16(ip6 + 4);
	for (int i = 8; i < 40; i += 2)
		sum += be16(ip6 + i);
	sum += plen + ip6[6];
	for (unsigned i = 0; i < plen; i += 2)
		sum += be16(ip6 + 40 + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static void check_na(bool router)
{
	uint8_t f[VIP_FRAME_MAX];
	struct in6_addr ip;
	inet_pton(AF_INET6, "2001:db8::42", &ip);
	memset(f, 0xee, sizeof(f));
	assert_int_equal(vip_frame_na(f, mac, &ip, router), VIP_NA_FRAME_LEN);
	assert_memory_equal(f, "\x33\x33\x00\x00\x00\x01", 6);
	assert_memory_equal(f + 6, mac, 6);
	assert_int_equal(be16(f + 12), 0x86dd);
	const uint8_t *h = f + 14;
	assert_memory_equal(h, "\x60\x00\x00\x00", 4);
	assert_int_equal(be16(h + 4), 32);
	assert_int_equal(h[6], 58);
	assert_int_equal(h[7], 255);
	assert_memory_equal(h + 8, &ip, 16);
	assert_memory_equal(h + 24, "\xff\x02\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	const uint8_t *m = h + 40;
	assert_int_equal(m[0], 136);
	assert_int_equal(m[1], 0);
	assert_int_equal(m[4], router ? 0xa0 : 0x20); /* R?, S clear, O set */
	assert_memory_equal(m + 5, "\0\0\0", 3);
	assert_memory_equal(m + 8, &ip, 16);
	assert_int_equal(m[24], 2);
	assert_int_equal(m[25], 1);
	assert_memory_equal(m + 26, mac, 6);
	assert_int_equal(f[86], 0xee);
	assert_true(csum_ok(h));
	/* The checksum covers the payload: corrupt one byte and it no longer adds up. */
	f[14 + 40 + 30] ^= 0x01;
	assert_false(csum_ok(h));
}

static void test_na(void **state)
{
	(void)state;
	check_na(false);
	check_na(true);
}

static const uint8_t host_mac[6] = { 0x02, 0x76, 0x6c, 0x00, 0x00, 0xc8 };

/* Unicast request: to the host's MAC, still gratuitous (target protocol = sender). */
static void test_arp_request_to(void **state)
{
	(void)state;
	uint8_t f[VIP_FRAME_MAX];
	struct in_addr ip, host;
	inet_pton(AF_INET, "198.51.100.7", &ip);
	inet_pton(AF_INET, "198.51.100.200", &host);
	memset(f, 0xee, sizeof(f));
	assert_int_equal(vip_frame_arp_to(f, mac, &ip, false, host_mac, &host), VIP_ARP_FRAME_LEN);
	assert_memory_equal(f, host_mac, 6);
	assert_memory_equal(f + 6, mac, 6);
	assert_int_equal(be16(f + 12), 0x0806);
	assert_int_equal(be16(f + 20), 1);
	assert_memory_equal(f + 22, mac, 6);
	assert_memory_equal(f + 28, "\xc6\x33\x64\x07", 4);
	assert_memory_equal(f + 32, "\0\0\0\0\0\0", 6);
	assert_memory_equal(f + 38, "\xc6\x33\x64\x07", 4);
	assert_int_equal(f[42], 0xee);
}

/* Unicast reply: to the host's MAC, target hardware and protocol address the host's. */
static void test_arp_reply_to(void **state)
{
	(void)state;
	uint8_t f[VIP_FRAME_MAX];
	struct in_addr ip, host;
	inet_pton(AF_INET, "198.51.100.7", &ip);
	inet_pton(AF_INET, "198.51.100.200", &host);
	assert_int_equal(vip_frame_arp_to(f, mac, &ip, true, host_mac, &host), VIP_ARP_FRAME_LEN);
	assert_memory_equal(f, host_mac, 6);
	assert_memory_equal(f + 6, mac, 6);
	assert_int_equal(be16(f + 20), 2);
	assert_memory_equal(f + 22, mac, 6);
	assert_memory_equal(f + 28, "\xc6\x33\x64\x07", 4);
	assert_memory_equal(f + 32, host_mac, 6);
	assert_memory_equal(f + 38, "\xc6\x33\x64\xc8", 4);
}

/* Unicast NA: Ethernet and IPv6 destination the host's, flags and checksum as the multicast one. */
static void test_na_to(void **state)
{
	(void)state;
	uint8_t f[VIP_FRAME_MAX];
	struct in6_addr ip, host;
	inet_pton(AF_INET6, "2001:db8::42", &ip);
	inet_pton(AF_INET6, "2001:db8::1:c8", &host);
	memset(f, 0xee, sizeof(f));
	assert_int_equal(vip_frame_na_to(f, mac, &ip, false, host_mac, &host), VIP_NA_FRAME_LEN);
	assert_memory_equal(f, host_mac, 6);
	assert_memory_equal(f + 6, mac, 6);
	assert_int_equal(be16(f + 12), 0x86dd);
	const uint8_t *h = f + 14;
	assert_int_equal(h[7], 255);
	assert_memory_equal(h + 8, &ip, 16);
	assert_memory_equal(h + 24, &host, 16);
	const uint8_t *m = h + 40;
	assert_int_equal(m[0], 136);
	assert_int_equal(m[4], 0x20); /* S clear (unsolicited), O set */
	assert_memory_equal(m + 8, &ip, 16);
	assert_memory_equal(m + 26, mac, 6);
	assert_int_equal(f[86], 0xee);
	assert_true(csum_ok(h));
}

/* vip_frame_announce picks the form from the entry. */
static void test_announce_dispatch(void **state)
{
	(void)state;
	uint8_t f[VIP_FRAME_MAX], g[VIP_FRAME_MAX];
	struct vip_port_announce a = { .ifindex = 1 };

	assert_int_equal(vip_addr_from_string("198.51.100.7", &a.addr), 0);
	assert_int_equal(vip_frame_announce(f, mac, &a, true, false), VIP_ARP_FRAME_LEN);
	vip_frame_arp(g, mac, &a.addr.v4, true);
	assert_memory_equal(f, g, VIP_ARP_FRAME_LEN);
	a.unicast = true;
	memcpy(a.dst_mac, host_mac, 6);
	assert_int_equal(vip_addr_from_string("198.51.100.200", &a.dst_ip), 0);
	assert_int_equal(vip_frame_announce(f, mac, &a, true, false), VIP_ARP_FRAME_LEN);
	vip_frame_arp_to(g, mac, &a.addr.v4, true, host_mac, &a.dst_ip.v4);
	assert_memory_equal(f, g, VIP_ARP_FRAME_LEN);

	assert_int_equal(vip_addr_from_string("2001:db8::42", &a.addr), 0);
	assert_int_equal(vip_addr_from_string("2001:db8::1:c8", &a.dst_ip), 0);
	assert_int_equal(vip_frame_announce(f, mac, &a, false, true), VIP_NA_FRAME_LEN);
	vip_frame_na_to(g, mac, &a.addr.v6, true, host_mac, &a.dst_ip.v6);
	assert_memory_equal(f, g, VIP_NA_FRAME_LEN);
	a.unicast = false;
	assert_int_equal(vip_frame_announce(f, mac, &a, false, true), VIP_NA_FRAME_LEN);
	vip_frame_na(g, mac, &a.addr.v6, true);
	assert_memory_equal(f, g, VIP_NA_FRAME_LEN);
}

static void test_csum_vector(void **state)
{
	(void)state;
	/* Worked by hand: src ::1, dst ::2, 8-byte message 80 00 00 00 00 01 00 01. */
	struct in6_addr s = IN6ADDR_LOOPBACK_INIT, d = IN6ADDR_LOOPBACK_INIT;
	d.s6_addr[15] = 2;
	uint8_t msg[8] = { 0x80, 0, 0, 0, 0, 1, 0, 1 };
	/* 1 + 2 + 8 (length) + 58 + 0x8000 + 1 + 1 = 0x8047, complemented: 0x7fb8 */
	assert_int_equal(vip_frame_icmp6_csum(&s, &d, msg, sizeof(msg)), 0x7fb8);
}

/* ARP probe (RFC 5227): broadcast request, sender ours at 0.0.0.0, target the address. */
static void test_arp_probe(void **state)
{
	(void)state;
	uint8_t f[VIP_FRAME_MAX];
	struct in_addr ip;
	inet_pton(AF_INET, "198.51.100.7", &ip);
	memset(f, 0xee, sizeof(f));
	assert_int_equal(vip_frame_arp_probe(f, mac, &ip), VIP_ARP_FRAME_LEN);
	static const uint8_t want[VIP_ARP_FRAME_LEN] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x11, 0x22, 0x33,
		0x44, 0x55, 0x08, 0x06,                                  /* Ethernet */
		0x00, 0x01, 0x08, 0x00, 6,    4,    0x00, 0x01,          /* request */
		0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0,    0,    0,    0, /* sender: our MAC, 0.0.0.0 */
		0,    0,    0,    0,    0,    0,    198,  51,   100,  7, /* target: zero, the address */
	};
	assert_memory_equal(f, want, sizeof(want));
	assert_int_equal(f[42], 0xee);
}

/* DAD NS (RFC 4862): from :: to the solicited-node group, target the address, no option. */
static void test_dad_ns(void **state)
{
	(void)state;
	uint8_t f[VIP_FRAME_MAX];
	struct in6_addr ip;
	inet_pton(AF_INET6, "2001:db8::12:3456", &ip);
	memset(f, 0xee, sizeof(f));
	assert_int_equal(vip_frame_dad_ns(f, mac, &ip), VIP_NS_FRAME_LEN);
	assert_memory_equal(f, "\x33\x33\xff\x12\x34\x56", 6);
	assert_memory_equal(f + 6, mac, 6);
	assert_int_equal(be16(f + 12), 0x86dd);
	const uint8_t *h = f + 14;
	assert_memory_equal(h, "\x60\x00\x00\x00", 4);
	assert_int_equal(be16(h + 4), 24); /* payload: the NS alone */
	assert_int_equal(h[6], 58);
	assert_int_equal(h[7], 255);
	assert_memory_equal(h + 8, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_memory_equal(h + 24, "\xff\x02\0\0\0\0\0\0\0\0\0\x01\xff\x12\x34\x56", 16);
	const uint8_t *m = h + 40;
	assert_int_equal(m[0], 135);
	assert_int_equal(m[1], 0);
	assert_memory_equal(m + 4, "\0\0\0\0", 4); /* reserved */
	assert_memory_equal(m + 8, &ip, 16);
	assert_int_equal(f[VIP_NS_FRAME_LEN], 0xee); /* no option follows */
	assert_true(csum_ok(h));
	/* Computed apart (a one's-complement sum over pseudo-header and message). */
	assert_int_equal(be16(m + 2), 0xe41e);
	f[14 + 40 + 20] ^= 0x01;
	assert_false(csum_ok(h));
}

/* An ARP packet of operation op from sender at host_mac to us (op 2 from the address:
 * the reply Linux answers a probe with). */
static void arp_pkt(uint8_t *b, uint16_t op, const char *sender)
{
	struct in_addr s;
	inet_pton(AF_INET, sender, &s);
	memcpy(b, "\x00\x01\x08\x00\x06\x04", 6);
	b[6] = (uint8_t)(op >> 8);
	b[7] = (uint8_t)op;
	memcpy(b + 8, host_mac, 6);
	memcpy(b + 14, &s, 4);
	memcpy(b + 18, mac, 6);
	memcpy(b + 24, "\0\0\0\0", 4);
}

static void test_parse_arp(void **state)
{
	(void)state;
	uint8_t b[64] = { 0 };
	struct vip_port_answer a;

	arp_pkt(b, 2, "198.51.100.9");
	memset(&a, 0x5a, sizeof(a));
	assert_int_equal(vip_frame_parse_arp_answer(b, VIP_ARP_PKT_LEN, mac, &a), 0);
	assert_int_equal(a.addr.family, AF_INET);
	assert_memory_equal(&a.addr.v4, "\xc6\x33\x64\x09", 4);
	assert_int_equal(a.mac_len, 6);
	assert_memory_equal(a.mac, host_mac, 6);
	assert_int_equal(a.ifindex, 0);
	/* A request from the address (gratuitous, or the host asking) claims it too; padding ignored. */
	arp_pkt(b, 1, "198.51.100.9");
	assert_int_equal(vip_frame_parse_arp_answer(b, 46, NULL, &a), 0);
	assert_memory_equal(&a.addr.v4, "\xc6\x33\x64\x09", 4);

	struct vip_port_answer keep;
	memset(&keep, 0x5a, sizeof(keep));
	memcpy(&a, &keep, sizeof(a));
	/* Short: every length below the ARP packet. */
	for (size_t len = 0; len < VIP_ARP_PKT_LEN; len++)
		assert_int_equal(vip_frame_parse_arp_answer(b, len, mac, &a), -EBADMSG);
	/* Another operation, hardware, protocol or address length. */
	arp_pkt(b, 3, "198.51.100.9");
	assert_int_equal(vip_frame_parse_arp_answer(b, VIP_ARP_PKT_LEN, mac, &a), -EBADMSG);
	arp_pkt(b, 0, "198.51.100.9");
	assert_int_equal(vip_frame_parse_arp_answer(b, VIP_ARP_PKT_LEN, mac, &a), -EBADMSG);
	for (int i = 0; i < 6; i++) {
		arp_pkt(b, 2, "198.51.100.9");
		b[i] ^= 0x40;
		assert_int_equal(vip_frame_parse_arp_answer(b, VIP_ARP_PKT_LEN, mac, &a), -EBADMSG);
	}
	/* A probe (sender 0.0.0.0) and a frame of ours are no answers. */
	arp_pkt(b, 1, "0.0.0.0");
	assert_int_equal(vip_frame_parse_arp_answer(b, VIP_ARP_PKT_LEN, NULL, &a), -ENOMSG);
	arp_pkt(b, 2, "198.51.100.9");
	memcpy(b + 8, mac, 6);
	assert_int_equal(vip_frame_parse_arp_answer(b, VIP_ARP_PKT_LEN, mac, &a), -ENOMSG);
	assert_memory_equal(&a, &keep, sizeof(a)); /* untouched on failure */
	/* Our own probe frame, as built, minus its Ethernet header. */
	uint8_t f[VIP_FRAME_MAX];
	vip_frame_arp_probe(f, mac, &(struct in_addr){ htonl(0xc6336409) });
	assert_int_equal(vip_frame_parse_arp_answer(f + 14, VIP_ARP_PKT_LEN, host_mac, &a), -ENOMSG);
}

/* An NA for 2001:db8::9 (ICMPv6 part), with a target link-layer option when opt. */
static size_t na_pkt(uint8_t *b, bool opt)
{
	struct in6_addr t;
	inet_pton(AF_INET6, "2001:db8::9", &t);
	memset(b, 0, 32);
	b[0] = 136;
	b[4] = 0x20;
	memcpy(b + 8, &t, 16);
	if (!opt)
		return 24;
	b[24] = 2;
	b[25] = 1;
	memcpy(b + 26, host_mac, 6);
	return 32;
}

static void test_parse_na(void **state)
{
	(void)state;
	uint8_t b[64];
	struct vip_port_answer a;

	size_t n = na_pkt(b, true);
	assert_int_equal(vip_frame_parse_na_answer(b, n, &a), 0);
	assert_int_equal(a.addr.family, AF_INET6);
	assert_memory_equal(&a.addr.v6, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x09", 16);
	assert_int_equal(a.mac_len, 6);
	assert_memory_equal(a.mac, host_mac, 6);
	assert_int_equal(a.ifindex, 0);
	n = na_pkt(b, false);
	assert_int_equal(vip_frame_parse_na_answer(b, n, &a), 0);
	assert_int_equal(a.mac_len, 0);
	/* Another option first (source link-layer, 8 bytes), then the target one. */
	n = na_pkt(b, true);
	memmove(b + 32, b + 24, 8);
	memcpy(b + 24, "\x01\x01\x02\0\0\0\0\x01", 8);
	assert_int_equal(vip_frame_parse_na_answer(b, 40, &a), 0);
	assert_int_equal(a.mac_len, 6);
	assert_memory_equal(a.mac, host_mac, 6);

	struct vip_port_answer keep;
	memset(&keep, 0x5a, sizeof(keep));
	memcpy(&a, &keep, sizeof(a));
	n = na_pkt(b, true);
	for (size_t len = 0; len < 24; len++)
		assert_int_equal(vip_frame_parse_na_answer(b, len, &a), -EBADMSG);
	/* Cut inside the option, an option of length 0, one running past the end. */
	for (size_t len = 25; len < 32; len++)
		assert_int_equal(vip_frame_parse_na_answer(b, len, &a), -EBADMSG);
	b[25] = 0;
	assert_int_equal(vip_frame_parse_na_answer(b, 32, &a), -EBADMSG);
	b[25] = 2;
	assert_int_equal(vip_frame_parse_na_answer(b, 32, &a), -EBADMSG);
	/* Wrong code, a multicast target, another type (an NS: our probe). */
	n = na_pkt(b, true);
	b[1] = 1;
	assert_int_equal(vip_frame_parse_na_answer(b, n, &a), -EBADMSG);
	n = na_pkt(b, true);
	b[8] = 0xff;
	assert_int_equal(vip_frame_parse_na_answer(b, n, &a), -EBADMSG);
	uint8_t f[VIP_FRAME_MAX];
	struct in6_addr t;
	inet_pton(AF_INET6, "2001:db8::9", &t);
	vip_frame_dad_ns(f, mac, &t);
	assert_int_equal(vip_frame_parse_na_answer(f + 54, 24, &a), -ENOMSG);
	assert_memory_equal(&a, &keep, sizeof(a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp_request),
		cmocka_unit_test(test_arp_reply),
		cmocka_unit_test(test_na),
		cmocka_unit_test(test_csum_vector),
		cmocka_unit_test(test_arp_request_to),
		cmocka_unit_test(test_arp_reply_to),
		cmocka_unit_test(test_na_to),
		cmocka_unit_test(test_announce_dispatch),
		cmocka_unit_test(test_arp_probe),
		cmocka_unit_test(test_dad_ns),
		cmocka_unit_test(test_parse_arp),
		cmocka_unit_test(test_parse_na),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * netns: announcements from the Linux port captured in the peer namespace
 * with a packet socket, every field checked (ARP request, ARP reply, both,
 * IPv6 NA with and without the Router flag), nothing on an IFF_NOARP link,
 * and the peer's stale neighbour entries moved from an old MAC to ours; the
 * same to one host (unicast: ARP request and reply forms, NA to the host's
 * address), which moves the host's entries too.
 * The link state comes from the port's cache (no RTM_GETLINK or
 * RTM_GETNETCONF once warm), and a change made just before an announcement
 * is always seen: forwarding sets the Router flag, arp off sends nothing, a
 * new MAC is the one sent; with notifications lost (a tiny
 * receive buffer overrun) the port asks the kernel instead.
 */
#include "port-linux-internal.h"
#include "test-port-lib.h"

static const struct vip_port_ops *ops;

static bool is_arp_for(const uint8_t *f, size_t n, const void *arg)
{
	const struct vip_addr *a = arg;
	return n >= 42 && be16(f + 12) == 0x0806 && memcmp(f + 28, &a->v4, 4) == 0;
}

static bool is_na_for(const uint8_t *f, size_t n, const void *arg)
{
	const struct vip_addr *a = arg;
	return n >= 86 && be16(f + 12) == 0x86dd && f[20] == 58 && f[54] == 136 &&
	       memcmp(f + 62, &a->v6, 16) == 0;
}

static void check_arp(const uint8_t *f, size_t n, const struct rig *rig, const struct vip_addr *a, bool reply)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	CHECK_EQ(n >= 42, 1);
	CHECK(memcmp(f, bcast, 6) == 0);
	CHECK(memcmp(f + 6, rig->mac_a, 6) == 0);
	CHECK_EQ(be16(f + 12), 0x0806);
	CHECK_EQ(be16(f + 14), 1);      /* Ethernet */
	CHECK_EQ(be16(f + 16), 0x0800); /* IPv4 */
	CHECK_EQ(f[18], 6);
	CHECK_EQ(f[19], 4);
	CHECK_EQ(be16(f + 20), reply ? 2 : 1);
	CHECK(memcmp(f + 22, rig->mac_a, 6) == 0); /* sender hardware */
	CHECK(memcmp(f + 28, &a->v4, 4) == 0);     /* sender protocol */
	if (reply)
		CHECK(memcmp(f + 32, rig->mac_a, 6) == 0);
	else
		CHECK(memcmp(f + 32, "\0\0\0\0\0\0", 6) == 0);
	CHECK(memcmp(f + 38, &a->v4, 4) == 0); /* target protocol */
}

static void check_na(const uint8_t *f, size_t n, const struct rig *rig, const struct vip_addr *a, bool router)
{
	static const uint8_t all_nodes[16] = { 0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	CHECK_EQ(n, 86);
	CHECK(memcmp(f, "\x33\x33\x00\x00\x00\x01", 6) == 0);
	CHECK(memcmp(f + 6, rig->mac_a, 6) == 0);
	CHECK_EQ(be16(f + 12), 0x86dd);
	const uint8_t *ip = f + 14;
	CHECK_EQ(ip[0] >> 4, 6);
	CHECK_EQ(be16(ip + 4), 32); /* payload length */
	CHECK_EQ(ip[6], 58);        /* ICMPv6 */
	CHECK_EQ(ip[7], 255);       /* hop limit */
	CHECK(memcmp(ip + 8, &a->v6, 16) == 0);
	CHECK(memcmp(ip + 24, all_nodes, 16) == 0);
	const uint8_t *icmp = ip + 40;
	CHECK_EQ(icmp[0], 136);
	CHECK_EQ(icmp[1], 0);
	CHECK(icmp6_sum_ok(ip));
	CHECK_EQ(!!(icmp[4] & 0x80), router); /* R */
	CHECK_EQ(icmp[4] & 0x40, 0);          /* S clear */
	CHECK_EQ(icmp[4] & 0x20, 0x20);       /* O set */
	CHECK(memcmp(icmp + 8, &a->v6, 16) == 0);
	CHECK_EQ(icmp[24], 2); /* target link-layer address option */
	CHECK_EQ(icmp[25], 1);
	CHECK(memcmp(icmp + 26, rig->mac_a, 6) == 0);
}

static void announce(struct vip_port *p, const struct rig *rig, const char *ip, enum vip_arp_mode mode,
		     int want)
{
	struct vip_port_announce an = { .addr = addr_of(ip), .ifindex = rig->ifindex_a };
	CHECK_EQ(ops->announce(p, &an, 1, mode), want);
	CHECK_EQ(an.result, want);
}

static void test_arp(struct vip_port *p, struct rig *rig, int cap)
{
	uint8_t f[2048];
	size_t n;
	const struct vip_addr *a = AP("198.51.100.60");

	drain(cap);
	announce(p, rig, "198.51.100.60", VIP_ARP_REQUEST, 1);
	CHECK((n = capture_next(cap, f, sizeof(f), 3, is_arp_for, a)) > 0);
	check_arp(f, n, rig, a, false);

	announce(p, rig, "198.51.100.60", VIP_ARP_REPLY, 1);
	CHECK((n = capture_next(cap, f, sizeof(f), 3, is_arp_for, a)) > 0);
	check_arp(f, n, rig, a, true);

	announce(p, rig, "198.51.100.60", VIP_ARP_BOTH, 2);
	CHECK((n = capture_next(cap, f, sizeof(f), 3, is_arp_for, a)) > 0);
	check_arp(f, n, rig, a, false);
	CHECK((n = capture_next(cap, f, sizeof(f), 3, is_arp_for, a)) > 0);
	check_arp(f, n, rig, a, true);
	fprintf(stderr, "arp: request, reply and both captured, every field checked\n");
}

static void test_na(struct vip_port *p, struct rig *rig, int cap)
{
	uint8_t f[2048];
	size_t n;
	const struct vip_addr *a = AP("2001:db8:1::60");

	drain(cap);
	announce(p, rig, "2001:db8:1::60", VIP_ARP_REQUEST, 1);
	CHECK((n = capture_next(cap, f, sizeof(f), 3, is_na_for, a)) > 0);
	check_na(f, n, rig, a, false);

	/* Forwarding turned on just before the next one: seen through the cache, not asked for. */
	unsigned long asked = p->netconf_requests;
	CHECK(nstest_sh("ip netns exec %s sysctl -qw net.ipv6.conf.va.forwarding=1", rig->a) == 0);
	announce(p, rig, "2001:db8:1::60", VIP_ARP_REQUEST, 1);
	CHECK((n = capture_next(cap, f, sizeof(f), 3, is_na_for, a)) > 0);
	check_na(f, n, rig, a, true);
	CHECK(nstest_sh("ip netns exec %s sysctl -qw net.ipv6.conf.va.forwarding=0", rig->a) == 0);
	announce(p, rig, "2001:db8:1::60", VIP_ARP_REQUEST, 1);
	CHECK((n = capture_next(cap, f, sizeof(f), 3, is_na_for, a)) > 0);
	check_na(f, n, rig, a, false);
	CHECK_EQ(p->netconf_requests, asked);
	fprintf(stderr, "na: unsolicited NA captured (Router clear and set), every field checked\n");
}

static void test_noarp(struct vip_port *p, struct rig *rig, int cap)
{
	uint8_t f[2048];
	struct vip_port_announce an[2] = {
		{ .addr = addr_of("198.51.100.62"), .ifindex = rig->ifindex_a },
		{ .addr = addr_of("2001:db8:1::62"), .ifindex = rig->ifindex_a },
	};
	/* The cache holds the link with ARP on; the change comes just before the call. */
	announce(p, rig, "198.51.100.62", VIP_ARP_REQUEST, 1);
	unsigned long gets = p->link_requests;
	CHECK(nstest_sh("ip -n %s link set va arp off", rig->a) == 0);
	drain(cap);
	CHECK_EQ(ops->announce(p, an, 2, VIP_ARP_BOTH), 0);
	CHECK_EQ(an[0].result, 0);
	CHECK_EQ(an[1].result, 0);
	CHECK_EQ(capture_next(cap, f, sizeof(f), 0.5, is_arp_for, &an[0].addr), 0);
	CHECK_EQ(p->link_requests, gets); /* seen through the cache, not asked for */
	CHECK(nstest_sh("ip -n %s link set va arp on", rig->a) == 0);
	announce(p, rig, "198.51.100.62", VIP_ARP_REQUEST, 1);
	CHECK((capture_next(cap, f, sizeof(f), 3, is_arp_for, &an[0].addr)) > 0);
	an[0].ifindex = 9999;
	CHECK_EQ(ops->announce(p, an, 1, VIP_ARP_REQUEST), 0);
	CHECK_EQ(an[0].result, -ENODEV);
	fprintf(stderr, "noarp: nothing sent on an IFF_NOARP link\n");
}

static bool neigh_has(struct rig *rig, const char *ip, const uint8_t mac[6])
{
	char want[32];
	snprintf(want, sizeof(want), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
	return nstest_sh("ip -n %s neigh show %s dev vb | grep -q %s", rig->b, ip, want) == 0;
}

static void test_neigh(struct vip_port *p, struct rig *rig)
{
	static const uint8_t old[6] = { 0x02, 0, 0, 0, 0, 0x99 };
	/* The peer knew each VIP at an old MAC (a previous owner), entries stale. */
	CHECK(nstest_sh("ip -n %s neigh replace 198.51.100.61 lladdr 02:00:00:00:00:99 nud stale dev vb",
			rig->b) == 0);
	CHECK(nstest_sh("ip -n %s -6 neigh replace 2001:db8:1::61 lladdr 02:00:00:00:00:99 nud stale dev vb",
			rig->b) == 0);
	CHECK(neigh_has(rig, "198.51.100.61", old));
	CHECK(neigh_has(rig, "2001:db8:1::61", old));
	struct vip_port_announce an[2] = {
		{ .addr = addr_of("198.51.100.61"), .ifindex = rig->ifindex_a },
		{ .addr = addr_of("2001:db8:1::61"), .ifindex = rig->ifindex_a },
	};
	CHECK_EQ(ops->announce(p, an, 2, VIP_ARP_REQUEST), 2);
	bool v4 = false, v6 = false;
	for (int i = 0; i < 50 && !(v4 && v6); i++) {
		v4 = neigh_has(rig, "198.51.100.61", rig->mac_a);
		v6 = neigh_has(rig, "2001:db8:1::61", rig->mac_a);
		if (!(v4 && v6))
			usleep(50000);
	}
	CHECK(v4);
	CHECK(v6);
	CHECK(nstest_sh("ip -n %s neigh flush dev vb", rig->b) == 0);
	fprintf(stderr, "neigh: peer entries moved from the old MAC to ours (IPv4 and IPv6)\n");
}

/* Once warm, announcements ask the kernel nothing about the link. */
static void test_cache_used(struct vip_port *p, struct rig *rig)
{
	announce(p, rig, "198.51.100.63", VIP_ARP_REQUEST, 1);
	unsigned long gets = p->link_requests;
	for (int i = 0; i < 5; i++)
		announce(p, rig, "198.51.100.63", VIP_ARP_REQUEST, 1);
	CHECK_EQ(p->link_requests, gets);
	fprintf(stderr, "cache: 5 announcements, no RTM_GETLINK\n");
}

static void check_src_mac(int cap, const struct vip_addr *a, const uint8_t mac[6])
{
	uint8_t f[2048];
	size_t n = capture_next(cap, f, sizeof(f), 3, is_arp_for, a);
	CHECK(n > 0);
	CHECK(memcmp(f + 6, mac, 6) == 0);  /* Ethernet source */
	CHECK(memcmp(f + 22, mac, 6) == 0); /* ARP sender hardware */
}

/* A new MAC made just before an announcement is the one announced. */
static void test_mac_change(struct vip_port *p, struct rig *rig, int cap)
{
	static const uint8_t mac2[6] = { 0x02, 0x76, 0x72, 0x63, 0x00, 0x02 };
	const struct vip_addr *a = AP("198.51.100.64");

	drain(cap);
	announce(p, rig, "198.51.100.64", VIP_ARP_REQUEST, 1);
	check_src_mac(cap, a, rig->mac_a);
	unsigned long gets = p->link_requests;
	CHECK(nstest_sh("ip -n %s link set va address 02:76:72:63:00:02", rig->a) == 0);
	drain(cap);
	announce(p, rig, "198.51.100.64", VIP_ARP_REQUEST, 1);
	check_src_mac(cap, a, mac2);
	CHECK_EQ(p->link_requests, gets);
	char old[32];
	snprintf(old, sizeof(old), "%02x:%02x:%02x:%02x:%02x:%02x", rig->mac_a[0], rig->mac_a[1],
		 rig->mac_a[2], rig->mac_a[3], rig->mac_a[4], rig->mac_a[5]);
	CHECK(nstest_sh("ip -n %s link set va address %s", rig->a, old) == 0);
	drain(cap);
	announce(p, rig, "198.51.100.64", VIP_ARP_REQUEST, 1);
	check_src_mac(cap, a, rig->mac_a);
	fprintf(stderr, "mac: a MAC changed just before an announcement is the one sent\n");
}

/*
 * A port whose link socket overruns (the smallest receive buffer, a burst of
 * link changes) lost the arp off among them: it must not announce from what
 * it held, and asks the kernel.
 */
static void test_overrun(struct rig *rig, int cap)
{
	uint8_t f[2048];
	struct vip_port_opts o = { .monitor_rcvbuf = 1 };
	struct vip_port *p;
	CHECK_EQ(ops->open(&o, &p), 0);
	announce(p, rig, "198.51.100.65", VIP_ARP_REQUEST, 1);
	unsigned long gets = p->link_requests, lost = p->lcache_lost;
	CHECK(nstest_sh("for m in 1400 1410 1420 1430 1440 1450 1460 1470 1480 1490 1500; do "
			"ip -n %s link set va mtu $m || exit 1; done; ip -n %s link set va arp off",
			rig->a, rig->a) == 0);
	drain(cap);
	struct vip_port_announce an = { .addr = addr_of("198.51.100.65"), .ifindex = rig->ifindex_a };
	CHECK_EQ(ops->announce(p, &an, 1, VIP_ARP_REQUEST), 0);
	CHECK_EQ(an.result, 0);
	CHECK_EQ(capture_next(cap, f, sizeof(f), 0.5, is_arp_for, &an.addr), 0);
	CHECK(p->lcache_lost > lost);
	CHECK(p->link_requests > gets);
	CHECK(nstest_sh("ip -n %s link set va arp on", rig->a) == 0);
	announce(p, rig, "198.51.100.65", VIP_ARP_REQUEST, 1); /* asked again, and kept */
	gets = p->link_requests;
	announce(p, rig, "198.51.100.65", VIP_ARP_REQUEST, 1);
	CHECK_EQ(p->link_requests, gets);
	ops->close(p);
	fprintf(stderr, "overrun: lost link notifications are not trusted; the kernel is asked\n");
}

/* A frame sent to the peer alone: Ethernet destination its MAC. */
static bool is_to_peer(const uint8_t *f, size_t n, const void *arg)
{
	return n >= 14 && memcmp(f, arg, 6) == 0;
}

static void set_stale(struct rig *rig, const char *ip)
{
	CHECK(nstest_sh("ip -n %s neigh replace %s lladdr 02:00:00:00:00:99 nud stale dev vb", rig->b, ip) ==
	      0);
}

static bool wait_neigh(struct rig *rig, const char *ip)
{
	for (int i = 0; i < 50; i++) {
		if (neigh_has(rig, ip, rig->mac_a))
			return true;
		usleep(50000);
	}
	return false;
}

static void announce_to(struct vip_port *p, const struct rig *rig, const uint8_t mac_b[6], const char *ip,
			const char *host, enum vip_arp_mode mode, int want)
{
	struct vip_port_announce an = { .addr = addr_of(ip),
					.ifindex = rig->ifindex_a,
					.unicast = true,
					.dst_ip = addr_of(host) };
	memcpy(an.dst_mac, mac_b, 6);
	CHECK_EQ(ops->announce(p, &an, 1, mode), want);
	CHECK_EQ(an.result, want);
}

static void test_unicast(struct vip_port *p, struct rig *rig, int cap)
{
	uint8_t f[2048], mac_b[6];
	size_t n;
	const struct vip_addr *b4 = AP("198.51.100.2"), *b6 = AP("2001:db8:1::2");

	read_mac(rig->b, "vb", mac_b);
	set_stale(rig, "198.51.100.63");
	set_stale(rig, "2001:db8:1::63");
	drain(cap);
	/* Request form: to the peer's MAC, still gratuitous (target = sender). */
	announce_to(p, rig, mac_b, "198.51.100.63", "198.51.100.2", VIP_ARP_REQUEST, 1);
	CHECK((n = capture_next(cap, f, sizeof(f), 3, is_to_peer, mac_b)) >= 42);
	CHECK_EQ(be16(f + 12), 0x0806);
	CHECK_EQ(be16(f + 20), 1);
	CHECK(memcmp(f + 22, rig->mac_a, 6) == 0);
	CHECK(memcmp(f + 28, &AP("198.51.100.63")->v4, 4) == 0);
	CHECK(memcmp(f + 32, "\0\0\0\0\0\0", 6) == 0);
	CHECK(memcmp(f + 38, &AP("198.51.100.63")->v4, 4) == 0);
	CHECK(wait_neigh(rig, "198.51.100.63"));

	/* NA to the peer's address: destination MAC and IP the peer's, checksum right. */
	announce_to(p, rig, mac_b, "2001:db8:1::63", "2001:db8:1::2", VIP_ARP_REQUEST, 1);
	CHECK((n = capture_next(cap, f, sizeof(f), 3, is_na_for, AP("2001:db8:1::63"))) == 86);
	CHECK(memcmp(f, mac_b, 6) == 0);
	CHECK(memcmp(f + 14 + 24, &b6->v6, 16) == 0);
	CHECK(icmp6_sum_ok(f + 14));
	CHECK_EQ(f[54 + 4], 0x20); /* S clear, O set */
	CHECK(wait_neigh(rig, "2001:db8:1::63"));

	/* Reply form: target hardware and protocol the peer's. Linux takes a reply that is
	 * not gratuitous only once the entry is older than its locktime (1 s). */
	set_stale(rig, "198.51.100.64");
	usleep(1200000);
	drain(cap);
	announce_to(p, rig, mac_b, "198.51.100.64", "198.51.100.2", VIP_ARP_REPLY, 1);
	CHECK((n = capture_next(cap, f, sizeof(f), 3, is_to_peer, mac_b)) >= 42);
	CHECK_EQ(be16(f + 20), 2);
	CHECK(memcmp(f + 28, &AP("198.51.100.64")->v4, 4) == 0);
	CHECK(memcmp(f + 32, mac_b, 6) == 0);
	CHECK(memcmp(f + 38, &b4->v4, 4) == 0);
	CHECK(wait_neigh(rig, "198.51.100.64"));

	/* A host of the other family is refused, nothing sent. */
	struct vip_port_announce bad = { .addr = addr_of("198.51.100.65"),
					 .ifindex = rig->ifindex_a,
					 .unicast = true,
					 .dst_ip = *b6 };
	CHECK_EQ(ops->announce(p, &bad, 1, VIP_ARP_REQUEST), 0);
	CHECK_EQ(bad.result, -EINVAL);
	CHECK(nstest_sh("ip -n %s neigh flush dev vb", rig->b) == 0);
	fprintf(stderr, "unicast: request, reply and NA to the peer's MAC, its entries moved\n");
}

int main(void)
{
	struct rig rig;
	struct vip_port *p;
	rig_up(&rig);
	ops = vip_port_native();
	CHECK_EQ(ops->open(NULL, &p), 0);
	int cap = capture_open(&rig);
	test_arp(p, &rig, cap);
	test_na(p, &rig, cap);
	test_noarp(p, &rig, cap);
	test_cache_used(p, &rig);
	test_mac_change(p, &rig, cap);
	test_overrun(&rig, cap);
	test_neigh(p, &rig);
	test_unicast(p, &rig, cap);
	close(cap);
	ops->close(p);
	nstest_cleanup();
	return 0;
}

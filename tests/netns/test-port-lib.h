/* SPDX-License-Identifier: MIT */
/*
 * Shared by the netlink netns tests: a two-namespace veth rig ("a" holds the
 * port, "b" is the peer on the wire), a capture socket in the peer, and
 * bounded waits. Each test binary includes it once.
 */
#ifndef VIP_TEST_PORT_LIB_H
#define VIP_TEST_PORT_LIB_H

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include "nstest.h"
#include "port.h"

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			exit(1);                                                                 \
		}                                                                                \
	} while (0)

#define CHECK_EQ(a, b)                                                                                      \
	do {                                                                                                \
		long long _a = (long long)(a), _b = (long long)(b);                                         \
		if (_a != _b) {                                                                             \
			fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, #a, \
				_a, #b, _b);                                                                \
			exit(1);                                                                            \
		}                                                                                           \
	} while (0)

struct rig {
	const char *a, *b; /* namespace names */
	int ifindex_a;     /* "va" in a, as the port sees it */
	int ifindex_b;     /* "vb" in b */
	uint8_t mac_a[6];
};

static inline double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void read_mac(const char *ns, const char *dev, uint8_t mac[6])
{
	char cmd[256], line[64] = "";
	snprintf(cmd, sizeof(cmd), "ip -n %s -br link show %s | awk '{print $3}'", ns, dev);
	FILE *f = popen(cmd, "r");
	CHECK(f);
	CHECK(fgets(line, sizeof(line), f));
	pclose(f);
	unsigned m[6];
	CHECK(sscanf(line, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)m[i];
}

/* Two namespaces joined by a veth, addresses 198.51.100.1-2/24 and 2001:db8:1::1-2/64;
 * the calling thread is left in namespace a. */
static inline void rig_up(struct rig *r)
{
	nstest_require_root();
	r->a = nstest_netns_add("a");
	r->b = nstest_netns_add("b");
	CHECK(r->a && r->b);
	CHECK(nstest_sh("ip -n %s link add va type veth peer name vb netns %s", r->a, r->b) == 0);
	CHECK(nstest_sh("ip netns exec %s sysctl -qw net.ipv4.conf.all.arp_accept=0 "
			"net.ipv4.conf.default.arp_accept=0 net.ipv4.conf.vb.arp_accept=0 "
			"net.ipv6.conf.vb.accept_dad=0",
			r->b) == 0);
	CHECK(nstest_sh("ip netns exec %s sysctl -qw net.ipv6.conf.va.accept_dad=0", r->a) == 0);
	CHECK(nstest_sh("ip -n %s addr add 198.51.100.1/24 dev va && "
			"ip -n %s addr add 2001:db8:1::1/64 dev va nodad && "
			"ip -n %s link set lo up && ip -n %s link set va up",
			r->a, r->a, r->a, r->a) == 0);
	CHECK(nstest_sh("ip -n %s addr add 198.51.100.2/24 dev vb && "
			"ip -n %s addr add 2001:db8:1::2/64 dev vb nodad && "
			"ip -n %s link set lo up && ip -n %s link set vb up",
			r->b, r->b, r->b, r->b) == 0);
	read_mac(r->a, "va", r->mac_a);
	/* Carrier reaches IPv6 through linkwatch, up to a second later: until both
	 * ends are operationally up the peer drops IPv6 (no route for ff02::1). */
	bool up = false;
	for (int i = 0; i < 50 && !up; i++) {
		up = nstest_sh("ip -n %s -br link show va | grep -q ' UP ' && "
			       "ip -n %s -br link show vb | grep -q ' UP '",
			       r->a, r->b) == 0;
		if (!up)
			usleep(100000);
	}
	CHECK(up);
	CHECK(nstest_enter(r->b) == 0);
	r->ifindex_b = (int)if_nametoindex("vb");
	CHECK(nstest_enter(r->a) == 0);
	r->ifindex_a = (int)if_nametoindex("va");
	CHECK(r->ifindex_a > 0 && r->ifindex_b > 0);
}

/* A packet socket on vb in namespace b (the calling thread returns to a). */
static inline int capture_open(struct rig *r)
{
	CHECK(nstest_enter(r->b) == 0);
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
	CHECK(fd >= 0);
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = r->ifindex_b };
	CHECK(bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == 0);
	CHECK(nstest_enter(r->a) == 0);
	return fd;
}

/* Next received frame for which match() is true, within timeout_s: its length, or 0. */
static inline size_t capture_next(int fd, uint8_t *buf, size_t len, double timeout_s,
				  bool (*match)(const uint8_t *f, size_t n, const void *arg), const void *arg)
{
	double end = now_s() + timeout_s;
	for (int i = 0; i < 100000 && now_s() < end; i++) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		int ms = (int)((end - now_s()) * 1000) + 1;
		if (poll(&pfd, 1, ms) <= 0)
			continue;
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, len, 0, (struct sockaddr *)&from, &fl);
		if (n <= 0 || from.sll_pkttype == PACKET_OUTGOING)
			continue;
		if (match(buf, (size_t)n, arg))
			return (size_t)n;
	}
	return 0;
}

static inline void drain(int fd)
{
	uint8_t buf[2048];
	for (int i = 0; i < 100000 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0; i++)
		;
}

/* A big-endian 16-bit field of a captured frame. */
static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Independent one's-complement sum over pseudo-header and ICMPv6 message. */
static inline bool icmp6_sum_ok(const uint8_t *ip6)
{
	uint32_t sum = 0;
	unsigned plen = be16(ip6 + 4);
	for (int i = 8; i < 40; i += 2)
		sum += be16(ip6 + i);
	sum += plen + 58;
	for (unsigned i = 0; i < plen; i += 2)
		sum += be16(ip6 + 40 + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static inline struct vip_addr addr_of(const char *s)
{
	struct vip_addr a;
	CHECK(vip_addr_from_string(s, &a) == 0);
	return a;
}

/* Pointer to a temporary address parsed from text. */
#define AP(s) ((const struct vip_addr *)(struct vip_addr[1]){ addr_of(s) })

/* Wait (bounded) for an event of this type about addr (or any address when addr is NULL). */
static inline bool wait_event(const struct vip_port_ops *ops, struct vip_port *p,
			      enum vip_port_event_type type, const struct vip_addr *addr, int ifindex,
			      double timeout_s, struct vip_port_event *ret)
{
	double end = now_s() + timeout_s;
	int fd = ops->event_fd(p);
	for (int i = 0; i < 1000000 && now_s() < end; i++) {
		struct vip_port_event ev;
		int r = ops->next_event(p, &ev);
		CHECK(r >= 0);
		if (r == 0) {
			struct pollfd pfd = { fd, POLLIN, 0 };
			(void)poll(&pfd, 1, 50);
			continue;
		}
		if (ev.type != type || (ifindex && ev.ifindex != ifindex))
			continue;
		if (addr && !vip_addr_equal(&ev.addr.addr, addr))
			continue;
		if (ret)
			*ret = ev;
		return true;
	}
	return false;
}

#endif

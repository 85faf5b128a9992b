/* SPDX-License-Identifier: MIT */
/*
 * netns: probes from the Linux port (docs/port.md §8). The ARP probe and the
 * DAD NS captured in the peer namespace, every field checked; nothing on an
 * IFF_NOARP link. The peer's kernel answers for the addresses it holds
 * (IPv4 and IPv6, with its MAC, within a bounded wait), not for others, not
 * once it removed them; nothing is queued while not listening; 2,000 probes
 * in one call get exactly 2,000 distinct answers; lost answers (a receive
 * queue shrunk from outside) are reported as -ENOBUFS, never dropped in
 * silence. Neither namespace learns neighbours from any of it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "port-linux-internal.h"
#include "test-port-lib.h"

#define MANY 2000
#define LOSSY6 200

static const struct vip_port_ops *ops;

static bool is_arp_probe_for(const uint8_t *f, size_t n, const void *arg)
{
	const struct vip_addr *a = arg;
	return n >= 42 && be16(f + 12) == 0x0806 && memcmp(f + 38, &a->v4, 4) == 0;
}

static bool is_ns_for(const uint8_t *f, size_t n, const void *arg)
{
	const struct vip_addr *a = arg;
	return n >= 78 && be16(f + 12) == 0x86dd && f[20] == 58 && f[54] == 135 &&
	       memcmp(f + 62, &a->v6, 16) == 0;
}

static int probe(struct vip_port *p, const struct rig *rig, const char **ips, size_t n, int want_each)
{
	struct vip_port_probe pr[8];
	CHECK(n <= 8);
	for (size_t i = 0; i < n; i++)
		pr[i] = (struct vip_port_probe){ .addr = addr_of(ips[i]), .ifindex = rig->ifindex_a };
	int r = ops->probe(p, pr, n);
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(pr[i].result, want_each);
	return r;
}

static void test_frames(struct vip_port *p, struct rig *rig, int cap)
{
	uint8_t f[2048];
	size_t n;
	const struct vip_addr *a4 = AP("198.51.100.70"), *a6 = AP("2001:db8:1::12:3470");
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t group[16] = { 0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0x12, 0x34, 0x70 };

	drain(cap);
	CHECK_EQ(probe(p, rig, (const char *[]){ "198.51.100.70", "2001:db8:1::12:3470" }, 2, 1), 2);
	CHECK((n = capture_next(cap, f, sizeof(f), 3, is_arp_probe_for, a4)) > 0);
	CHECK(memcmp(f, bcast, 6) == 0);
	CHECK(memcmp(f + 6, rig->mac_a, 6) == 0);
	CHECK_EQ(be16(f + 14), 1);      /* Ethernet */
	CHECK_EQ(be16(f + 16), 0x0800); /* IPv4 */
	CHECK_EQ(f[18], 6);
	CHECK_EQ(f[19], 4);
	CHECK_EQ(be16(f + 20), 1);                     /* request */
	CHECK(memcmp(f + 22, rig->mac_a, 6) == 0);     /* sender hardware: ours */
	CHECK(memcmp(f + 28, "\0\0\0\0", 4) == 0);     /* sender protocol: 0.0.0.0 */
	CHECK(memcmp(f + 32, "\0\0\0\0\0\0", 6) == 0); /* target hardware: zero */
	CHECK(memcmp(f + 38, &a4->v4, 4) == 0);        /* target protocol: the address */
	for (size_t i = 42; i < n; i++)                /* padding, if any, is zero */
		CHECK_EQ(f[i], 0);

	CHECK((n = capture_next(cap, f, sizeof(f), 3, is_ns_for, a6)) > 0);
	CHECK_EQ(n, 78);
	CHECK(memcmp(f, "\x33\x33\xff\x12\x34\x70", 6) == 0);
	CHECK(memcmp(f + 6, rig->mac_a, 6) == 0);
	const uint8_t *ip = f + 14;
	CHECK_EQ(ip[0], 0x60);
	CHECK_EQ(be16(ip + 4), 24); /* the NS alone: no option */
	CHECK_EQ(ip[6], 58);
	CHECK_EQ(ip[7], 255);
	CHECK(memcmp(ip + 8, &in6addr_any, 16) == 0);
	CHECK(memcmp(ip + 24, group, 16) == 0);
	const uint8_t *m = ip + 40;
	CHECK_EQ(m[0], 135);
	CHECK_EQ(m[1], 0);
	CHECK(memcmp(m + 4, "\0\0\0\0", 4) == 0);
	CHECK(memcmp(m + 8, &a6->v6, 16) == 0);
	CHECK(icmp6_sum_ok(ip));

	/* IFF_NOARP: nothing sent, 0 frames; an unknown link: -ENODEV. */
	CHECK(nstest_sh("ip -n %s link set va arp off", rig->a) == 0);
	drain(cap);
	CHECK_EQ(probe(p, rig, (const char *[]){ "198.51.100.70", "2001:db8:1::12:3470" }, 2, 0), 0);
	CHECK_EQ(capture_next(cap, f, sizeof(f), 0.3, is_arp_probe_for, a4), 0);
	CHECK(nstest_sh("ip -n %s link set va arp on", rig->a) == 0);
	struct vip_port_probe bad = { .addr = *a4, .ifindex = 9999 };
	CHECK_EQ(ops->probe(p, &bad, 1), 0);
	CHECK_EQ(bad.result, -ENODEV);
	fprintf(stderr, "frames: ARP probe and DAD NS captured, every field checked; none on IFF_NOARP\n");
}

struct want {
	const char *ip;
	struct vip_addr addr;
	bool got;
	struct vip_port_answer ans;
};

/*
 * Read answers for up to timeout_s (all of it when wait_all is false, else until each
 * wanted address has one). Answers for other addresses are counted in *others. Fails
 * on -ENOBUFS: nothing may be lost here. Returns how many wanted addresses answered.
 */
static size_t collect(struct vip_port *p, struct want *w, size_t n, double timeout_s, bool wait_all,
		      unsigned *others)
{
	int fds[VIP_PORT_PROBE_FDS];
	int nfds = ops->probe_fds(p, fds);
	CHECK_EQ(nfds, 2);
	size_t got = 0;
	double end = now_s() + timeout_s;
	for (int i = 0; i < 100000 && now_s() < end && !(wait_all && got == n); i++) {
		struct vip_port_answer a;
		int r = ops->next_answer(p, &a);
		CHECK(r >= 0);
		if (r == 0) {
			struct pollfd pfd[2] = { { fds[0], POLLIN, 0 }, { fds[1], POLLIN, 0 } };
			(void)poll(pfd, 2, 20);
			continue;
		}
		size_t k = 0;
		while (k < n && !vip_addr_equal(&w[k].addr, &a.addr))
			k++;
		if (k == n) {
			(*others)++;
			continue;
		}
		if (!w[k].got)
			got++;
		w[k].got = true;
		w[k].ans = a;
	}
	return got;
}

static void probe_wants(struct vip_port *p, const struct rig *rig, struct want *w, size_t n)
{
	struct vip_port_probe pr[8];
	CHECK(n <= 8);
	for (size_t i = 0; i < n; i++) {
		w[i].addr = addr_of(w[i].ip);
		w[i].got = false;
		pr[i] = (struct vip_port_probe){ .addr = w[i].addr, .ifindex = rig->ifindex_a };
	}
	CHECK_EQ(ops->probe(p, pr, n), (int)n);
}

/* (b) held by the peer: answered, with its MAC; (c) held by nobody: no answer; (d) removed: none. */
static void test_answers(struct vip_port *p, struct rig *rig, const uint8_t mac_b[6])
{
	unsigned others = 0;
	CHECK(nstest_sh("ip -n %s addr add 198.51.100.80/32 dev vb && "
			"ip -n %s addr add 2001:db8:1::80/128 dev vb nodad",
			rig->b, rig->b) == 0);
	CHECK_EQ(ops->probe_listen(p, true), 0);
	struct want w[2] = { { .ip = "198.51.100.80" }, { .ip = "2001:db8:1::80" } };
	double t0 = now_s();
	probe_wants(p, rig, w, 2);
	CHECK_EQ(collect(p, w, 2, 1.0, true, &others), 2);
	double took = now_s() - t0;
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(w[i].ans.ifindex, rig->ifindex_a);
		CHECK_EQ(w[i].ans.mac_len, 6);
		CHECK(memcmp(w[i].ans.mac, mac_b, 6) == 0);
	}
	/* Turned on again once the answers are queued: they stay (probes are in flight). */
	probe_wants(p, rig, w, 2);
	usleep(100000);
	CHECK_EQ(ops->probe_listen(p, true), 0);
	CHECK_EQ(collect(p, w, 2, 1.0, true, &others), 2);
	fprintf(stderr,
		"answers: 198.51.100.80 and 2001:db8:1::80 answered by the peer in %.1f ms, its MAC; "
		"kept across a second probe_listen(true)\n",
		took * 1000);

	struct want none[2] = { { .ip = "198.51.100.81" }, { .ip = "2001:db8:1::81" } };
	probe_wants(p, rig, none, 2);
	CHECK_EQ(collect(p, none, 2, 0.2, false, &others), 0);
	fprintf(stderr, "no answer: nothing for addresses nobody holds within 200 ms\n");

	CHECK(nstest_sh("ip -n %s addr del 198.51.100.80/32 dev vb && "
			"ip -n %s addr del 2001:db8:1::80/128 dev vb",
			rig->b, rig->b) == 0);
	probe_wants(p, rig, w, 2);
	CHECK_EQ(collect(p, w, 2, 0.2, false, &others), 0);
	CHECK_EQ(ops->probe_listen(p, false), 0);
	fprintf(stderr, "removed: nothing once the peer removed them (%u answers for other addresses)\n",
		others);
}

/* (e) Answers that come while not listening are not queued; the same probes while
 * listening are answered (so the first half could have failed). */
static void test_not_listening(struct vip_port *p, struct rig *rig)
{
	unsigned others = 0;
	struct want w[2] = { { .ip = "198.51.100.2" }, { .ip = "2001:db8:1::2" } };
	struct vip_port_answer a;
	CHECK_EQ(ops->probe_listen(p, false), 0);
	probe_wants(p, rig, w, 2);
	CHECK_EQ(ops->next_answer(p, &a), 0);
	usleep(300000);
	/* The peer answered (below: it does), yet nothing was queued: the filters dropped it. */
	int fds[VIP_PORT_PROBE_FDS];
	CHECK_EQ(ops->probe_fds(p, fds), 2);
	struct pollfd pfd[2] = { { fds[0], POLLIN, 0 }, { fds[1], POLLIN, 0 } };
	CHECK_EQ(poll(pfd, 2, 0), 0);
	CHECK_EQ(ops->probe_listen(p, true), 0);
	CHECK_EQ(collect(p, w, 2, 0.2, false, &others), 0);
	probe_wants(p, rig, w, 2);
	CHECK_EQ(collect(p, w, 2, 1.0, true, &others), 2);
	CHECK_EQ(ops->probe_listen(p, false), 0);
	fprintf(stderr, "not listening: nothing queued while off; the same probes answered while on\n");
}

static struct vip_addr many_addr(unsigned i)
{
	struct vip_addr a = { .family = AF_INET };
	a.v4.s_addr = htonl(0xc6120000u + (i / 250) * 256 + i % 250 + 1); /* 198.18.x.1-250 */
	return a;
}

/* The index of a 198.18.x.y address many_addr() made, or -1. */
static int many_index(const struct vip_addr *a)
{
	if (a->family != AF_INET)
		return -1;
	uint32_t v = ntohl(a->v4.s_addr);
	if ((v >> 16) != 0xc612 || (v & 0xff) == 0 || (v & 0xff) > 250)
		return -1;
	unsigned i = ((v >> 8) & 0xff) * 250 + (v & 0xff) - 1;
	return i < MANY ? (int)i : -1;
}

static void peer_add_many(struct rig *rig)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "ip -n %s -batch -", rig->b);
	FILE *f = popen(cmd, "w");
	CHECK(f);
	for (unsigned i = 0; i < MANY; i++) {
		char s[VIP_ADDR_STRLEN];
		struct vip_addr a = many_addr(i);
		fprintf(f, "addr add %s/32 dev vb\n", vip_addr_to_string(&a, s, sizeof(s)));
	}
	CHECK_EQ(pclose(f), 0);
}

/* Probe the MANY addresses in one call and read answers for up to timeout_s: the count of
 * distinct ones, duplicates in *dups, -ENOBUFS returns in *lost. */
static unsigned probe_many(struct vip_port *p, const struct rig *rig, double timeout_s, unsigned *dups,
			   unsigned *lost)
{
	struct vip_port_probe *pr = calloc(MANY, sizeof(*pr));
	static bool seen[MANY];
	CHECK(pr);
	memset(seen, 0, sizeof(seen));
	for (unsigned i = 0; i < MANY; i++)
		pr[i] = (struct vip_port_probe){ .addr = many_addr(i), .ifindex = rig->ifindex_a };
	CHECK_EQ(ops->probe(p, pr, MANY), MANY);
	for (unsigned i = 0; i < MANY; i++)
		CHECK_EQ(pr[i].result, 1);
	free(pr);

	int fds[VIP_PORT_PROBE_FDS];
	int nfds = ops->probe_fds(p, fds);
	unsigned got = 0;
	*dups = *lost = 0;
	double end = now_s() + timeout_s;
	for (int i = 0; i < 1000000 && now_s() < end && got < MANY; i++) {
		struct vip_port_answer a;
		int r = ops->next_answer(p, &a);
		if (r == -ENOBUFS) {
			(*lost)++;
			continue;
		}
		CHECK(r >= 0);
		if (r == 0) {
			struct pollfd pfd[2] = { { fds[0], POLLIN, 0 }, { fds[1], POLLIN, 0 } };
			(void)poll(pfd, (nfds_t)nfds, 20);
			continue;
		}
		int k = many_index(&a.addr);
		if (k < 0)
			continue;
		if (seen[k])
			(*dups)++;
		else
			got++;
		seen[k] = true;
	}
	return got;
}

/* (f) 2,000 probes in one call: 2,000 distinct answers, none lost. */
static void test_many(struct vip_port *p, struct rig *rig)
{
	unsigned dups, lost;
	peer_add_many(rig);
	CHECK_EQ(ops->probe_listen(p, true), 0);
	double t0 = now_s();
	unsigned got = probe_many(p, rig, 5.0, &dups, &lost);
	double took = now_s() - t0;
	CHECK_EQ(ops->probe_listen(p, false), 0);
	if (lost)
		fprintf(stderr, "many: answers were LOST (-ENOBUFS %u times) with the 4 MiB buffer\n", lost);
	CHECK_EQ(lost, 0);
	CHECK_EQ(got, MANY);
	CHECK_EQ(dups, 0);
	fprintf(stderr, "many: %d probes in one call, %u distinct answers in %.1f ms, none lost\n", MANY, got,
		took * 1000);
}

/* (g) A receive queue too small for the answers (shrunk from outside): the loss is reported. */
static void test_lost(struct rig *rig)
{
	struct vip_port *p2;
	int fds[VIP_PORT_PROBE_FDS], one = 1;
	unsigned dups, lost;
	CHECK_EQ(ops->open(NULL, &p2), 0);
	CHECK_EQ(ops->probe_fds(p2, fds), 2);
	for (int i = 0; i < 2; i++)
		CHECK(setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &one, sizeof(one)) == 0);
	CHECK_EQ(ops->probe_listen(p2, true), 0);
	unsigned got = probe_many(p2, rig, 1.0, &dups, &lost);
	fprintf(stderr, "lost v4: %u of %d answers kept, -ENOBUFS %u times\n", got, MANY, lost);
	CHECK(got < MANY);
	CHECK(lost >= 1);

	/* IPv6: LOSSY6 addresses on the peer, all probed at once. */
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "ip -n %s -batch -", rig->b);
	FILE *f = popen(cmd, "w");
	CHECK(f);
	for (int i = 1; i <= LOSSY6; i++)
		fprintf(f, "addr add 2001:db8:2::%x/128 dev vb nodad\n", i);
	CHECK_EQ(pclose(f), 0);
	struct vip_port_probe pr[LOSSY6];
	for (int i = 0; i < LOSSY6; i++) {
		char s[64];
		snprintf(s, sizeof(s), "2001:db8:2::%x", i + 1);
		pr[i] = (struct vip_port_probe){ .addr = addr_of(s), .ifindex = rig->ifindex_a };
	}
	CHECK_EQ(ops->probe_listen(p2, false), 0);
	CHECK_EQ(ops->probe_listen(p2, true), 0);
	CHECK_EQ(ops->probe(p2, pr, LOSSY6), LOSSY6);
	unsigned got6 = 0, lost6 = 0;
	double end = now_s() + 1.0;
	for (int i = 0; i < 100000 && now_s() < end; i++) {
		struct vip_port_answer a;
		int r = ops->next_answer(p2, &a);
		if (r == -ENOBUFS)
			lost6++;
		else if (r == 1 && a.addr.family == AF_INET6)
			got6++;
		else if (r == 0)
			usleep(10000);
		else
			CHECK(r >= 0);
	}
	fprintf(stderr, "lost v6: %u of %d answers kept, -ENOBUFS %u times\n", got6, LOSSY6, lost6);
	CHECK(got6 < LOSSY6);
	CHECK(lost6 >= 1);
	ops->close(p2);
	CHECK(nstest_sh("ip -n %s -6 addr flush dev vb scope global && "
			"ip -n %s addr add 2001:db8:1::2/64 dev vb nodad",
			rig->b, rig->b) == 0);
}

/* A port without the packet sockets cannot probe. */
static void test_no_packet(struct rig *rig)
{
	struct vip_port_opts o = { .flags = VIP_PORT_OPEN_NO_PACKET | VIP_PORT_OPEN_NO_MONITOR };
	struct vip_port *p;
	struct vip_port_answer a;
	int fds[VIP_PORT_PROBE_FDS];
	CHECK_EQ(ops->open(&o, &p), 0);
	CHECK_EQ(ops->probe_fds(p, fds), 0);
	CHECK_EQ(ops->probe_listen(p, true), -ENOTCONN);
	CHECK_EQ(ops->next_answer(p, &a), -ENOTCONN);
	struct vip_port_probe pr = { .addr = addr_of("198.51.100.70"), .ifindex = rig->ifindex_a };
	CHECK_EQ(ops->probe(p, &pr, 1), -ENOTCONN);
	ops->close(p);
}

/* Neighbour entries in a namespace (all families, any state; the command must succeed). */
static int neigh_count(const char *ns)
{
	char cmd[256], line[512];
	int n = 0;
	snprintf(cmd, sizeof(cmd), "ip -n %s -s neigh show", ns);
	FILE *f = popen(cmd, "r");
	CHECK(f);
	while (n < 100000 && fgets(line, sizeof(line), f))
		n += strchr(line, '\n') != NULL;
	CHECK_EQ(pclose(f), 0);
	return n;
}

int main(void)
{
	struct rig rig;
	struct vip_port *p;
	uint8_t mac_b[6];
	rig_up(&rig);
	/* Neither side may learn from what it hears (a fresh namespace inherits IPv4 settings). */
	CHECK(nstest_sh("ip netns exec %s sysctl -qw net.ipv4.conf.all.arp_accept=0 "
			"net.ipv4.conf.va.arp_accept=0",
			rig.a) == 0);
	read_mac(rig.b, "vb", mac_b);
	ops = vip_port_native();
	CHECK_EQ(ops->open(NULL, &p), 0);
	int cap = capture_open(&rig);
	test_frames(p, &rig, cap);
	test_answers(p, &rig, mac_b);
	test_not_listening(p, &rig);
	test_many(p, &rig);
	test_lost(&rig);
	test_no_packet(&rig);
	close(cap);
	ops->close(p);
	int na = neigh_count(rig.a), nb = neigh_count(rig.b);
	fprintf(stderr, "neighbours at the end: %d in a, %d in b\n", na, nb);
	CHECK(na <= 8);
	CHECK(nb <= 8);
	nstest_cleanup();
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * vipd/announce with arp_all_hosts = false, through vipd/announce-port into
 * the fake port: one unicast frame per known host and no broadcast; no host
 * known: one broadcast per announcement and one log line per acquisition;
 * true: broadcast, hosts never asked; IPv6; the cap per address; the pace
 * (unicast frames paid from the same bucket, spread over ticks); the daemon's
 * hosts of a DuraVIP's segment from the neighbour cache.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "announce.h"
#include "daemon-internal.h"
#include "log.h"
#include "neigh.h"

#define MAX_HOSTS 400

struct fx {
	struct vip_port *port;
	struct vipd_announce *a;
	struct vipd_announce_port ap;
	struct vipd_announce_host hosts[MAX_HOSTS];
	size_t n_hosts;
	size_t host_calls, last_max;
	uint64_t now;
};

static const struct vip_port_link eth0 = {
	.ifindex = 2,
	.ifname = "eth0",
	.up = true,
	.mtu = 1500,
	.hwaddr = { 2, 0, 0, 0, 0, 1 },
	.hwaddr_len = 6,
};

static struct vip_addr A(const char *s) {
	struct vip_addr a;

	assert_int_equal(vip_addr_from_string(s, &a), 0);
	return a;
}

static size_t
fake_hosts(void *data, const struct vip_addr *addr, int ifindex, struct vipd_announce_host *out, size_t max)
{
	struct fx *f = data;
	size_t n = 0;

	assert_int_equal(ifindex, 2);
	f->host_calls++;
	f->last_max = max;
	for (size_t i = 0; i < f->n_hosts && n < max; i++)
		if (f->hosts[i].ip.family == addr->family)
			out[n++] = f->hosts[i];
	return n;
}

/* Hosts 198.51.100.(200+i) and 2001:db8::c8:i, MAC 02:76:6c:00:<i>. */
static void put_hosts(struct fx *f, size_t n4, size_t n6)
{
	char s[64];

	f->n_hosts = 0;
	for (size_t i = 0; i < n4 + n6; i++) {
		struct vipd_announce_host *h = &f->hosts[f->n_hosts++];

		if (i < n4)
			snprintf(s, sizeof(s), "198.18.%zu.%zu", i / 250, i % 250 + 1);
		else
			snprintf(s, sizeof(s), "2001:db8::c8:%zx", i - n4 + 1);
		h->ip = A(s);
		h->mac[0] = 2;
		h->mac[1] = 0x76;
		h->mac[2] = 0x6c;
		h->mac[3] = (uint8_t)(i >> 16);
		h->mac[4] = (uint8_t)(i >> 8);
		h->mac[5] = (uint8_t)i;
	}
}

/* The unicast send: the daemon's port glue, into the fake port. */
static int fx_send_to(void *data, int ifindex, const struct vipd_announce_dst *d, size_t n)
{
	struct fx *f = data;

	return vipd_announce_port_send_to(&f->ap, ifindex, d, n);
}

static struct fx *fx_new(bool unicast, uint32_t repeat, uint32_t pace, enum vip_arp_mode mode)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct vipd_announce_opts o = { .repeat = repeat,
					.repeat_interval_ms = 1100,
					.pace = pace,
					.mode = mode,
					.unicast = unicast };

	assert_non_null(f);
	f->now = 10000;
	assert_int_equal(vip_port_fake_ops.open(NULL, &f->port), 0);
	assert_int_equal(vip_port_fake_set_link(f->port, &eth0), 0);
	f->ap = (struct vipd_announce_port){ .ops = &vip_port_fake_ops, .port = f->port };
	assert_int_equal(vipd_announce_new(&o, vipd_announce_port_send, &f->ap, &f->a), 0);
	f->ap.announce = f->a;
	/* The hosts callback and the unicast send share one data pointer (f). */
	vipd_announce_set_hosts(f->a, fake_hosts, fx_send_to, f);
	return f;
}

static void fx_free(struct fx *f)
{
	vipd_announce_free(f->a);
	vip_port_fake_ops.close(f->port);
	free(f);
}

/* Tick whenever due until `to` (bounded). */
static void run_until(struct fx *f, uint64_t to)
{
	for (int guard = 0; guard < 100000; guard++) {
		uint64_t t = vipd_announce_next_due(f->a, f->now);

		if (t == UINT64_MAX || t > to)
			break;
		f->now = t;
		assert_true(vipd_announce_tick(f->a, f->now) >= 0);
	}
	f->now = to;
}

static size_t frames(struct fx *f, const struct vip_port_fake_frame **ret)
{
	return vip_port_fake_announced(f->port, ret);
}

static size_t count_broadcast(struct fx *f)
{
	const struct vip_port_fake_frame *fr;
	size_t n = frames(f, &fr), b = 0;

	for (size_t i = 0; i < n; i++)
		b += !fr[i].unicast;
	return b;
}

/* Every known host of addr's family got exactly `rounds` frames for addr, nothing else was sent. */
static void expect_each_host(struct fx *f, const struct vip_addr *addr, size_t n_hosts, size_t rounds)
{
	const struct vip_port_fake_frame *fr;
	size_t n = frames(f, &fr);

	assert_int_equal(n, n_hosts * rounds);
	for (size_t h = 0; h < f->n_hosts; h++) {
		size_t got = 0;

		if (f->hosts[h].ip.family != addr->family)
			continue;
		for (size_t i = 0; i < n; i++) {
			assert_true(fr[i].unicast);
			assert_true(vip_addr_equal(&fr[i].addr, addr));
			assert_int_equal(fr[i].ifindex, 2);
			if (vip_addr_equal(&fr[i].dst_ip, &f->hosts[h].ip)) {
				assert_memory_equal(fr[i].dst_mac, f->hosts[h].mac, 6);
				got++;
			}
		}
		assert_int_equal(got, rounds);
	}
}

static void test_unicast_to_each_host(void **state _unused_)
{
	struct fx *f = fx_new(true, 2, 0, VIP_ARP_REQUEST);
	struct vip_addr x = A("198.51.100.21");
	struct vipd_announce_stats st;
	struct vipd_announce_entry e;

	put_hosts(f, 3, 2);
	assert_int_equal(vipd_announce_add(f->a, &x, 2, f->now), 0);
	assert_int_equal(vipd_announce_tick(f->a, f->now), 1);
	expect_each_host(f, &x, 3, 1);
	assert_int_equal(f->last_max, VIPD_ANNOUNCE_MAX_HOSTS);
	/* The repeats go to the same hosts on the same schedule (1.1 s apart). */
	assert_int_equal(vipd_announce_next_due(f->a, f->now), f->now + 1100);
	run_until(f, f->now + 5000);
	expect_each_host(f, &x, 3, 3);
	assert_int_equal(count_broadcast(f), 0);
	vipd_announce_get_stats(f->a, &st);
	assert_int_equal(st.unicast, 9);
	assert_int_equal(st.packets, 9);
	assert_int_equal(st.announced, 3);
	assert_int_equal(st.fallbacks, 0);
	assert_int_equal(vipd_announce_get(f->a, 0, &e), 0);
	assert_int_equal(e.sent, 3);
	fx_free(f);
}

static void test_unicast_ipv6_and_both(void **state _unused_)
{
	struct fx *f = fx_new(true, 0, 0, VIP_ARP_BOTH);
	struct vip_addr x6 = A("2001:db8::100:1"), x4 = A("198.51.100.22");
	const struct vip_port_fake_frame *fr;
	struct vipd_announce_stats st;

	put_hosts(f, 2, 3);
	assert_int_equal(vipd_announce_add(f->a, &x6, 2, f->now), 0);
	assert_int_equal(vipd_announce_tick(f->a, f->now), 1);
	expect_each_host(f, &x6, 3, 1);
	assert_int_equal(frames(f, &fr), 3);
	assert_int_equal(fr[0].frames, 1); /* an NA per host */
	vip_port_fake_reset_log(f->port);
	/* IPv4 in mode both: both forms to each host, two packets each. */
	assert_int_equal(vipd_announce_add(f->a, &x4, 2, f->now), 0);
	assert_int_equal(vipd_announce_tick(f->a, f->now), 1);
	expect_each_host(f, &x4, 2, 1);
	assert_int_equal(frames(f, &fr), 2);
	assert_int_equal(fr[0].mode, VIP_ARP_BOTH);
	assert_int_equal(fr[0].frames, 2);
	vipd_announce_get_stats(f->a, &st);
	assert_int_equal(st.unicast, 5);
	assert_int_equal(st.packets, 3 + 4);
	fx_free(f);
}

/* Read what the log wrote to fd since offset 0 into buf. */
static void read_log(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	assert_true(n >= 0);
	buf[n] = '\0';
}

static size_t count_str(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_no_host_falls_back_to_broadcast(void **state _unused_)
{
	struct fx *f = fx_new(true, 2, 0, VIP_ARP_REQUEST);
	struct vip_addr x = A("198.51.100.23");
	struct vipd_announce_stats st;
	char path[] = "/tmp/test-announce-unicast.XXXXXX", buf[4096];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	log_set_console_fd(fd);
	put_hosts(f, 0, 2); /* hosts, but none of IPv4 */
	assert_int_equal(vipd_announce_add(f->a, &x, 2, f->now), 0);
	assert_int_equal(vipd_announce_tick(f->a, f->now), 1);
	assert_int_equal(count_broadcast(f), 1);
	run_until(f, f->now + 5000);
	/* Every announcement is one broadcast; the log says so once for this acquisition. */
	assert_int_equal(count_broadcast(f), 3);
	assert_int_equal(frames(f, &(const struct vip_port_fake_frame *){ NULL }), 3);
	read_log(fd, buf, sizeof(buf));
	assert_int_equal(count_str(buf, "No host known on the segment of 198.51.100.23"), 1);
	vipd_announce_get_stats(f->a, &st);
	assert_int_equal(st.fallbacks, 3);
	assert_int_equal(st.unicast, 0);
	assert_int_equal(st.announced, 3);
	/* A new acquisition (a move) logs again, once. */
	f->now += 10000;
	assert_int_equal(vipd_announce_add(f->a, &x, 2, f->now), 0);
	run_until(f, f->now + 5000);
	read_log(fd, buf, sizeof(buf));
	assert_int_equal(count_str(buf, "No host known on the segment of 198.51.100.23"), 2);
	/* Once a host is known, unicast it is. */
	put_hosts(f, 1, 0);
	vip_port_fake_reset_log(f->port);
	assert_int_equal(vipd_announce_restart_all(f->a, f->now), 1);
	assert_int_equal(vipd_announce_tick(f->a, f->now), 1);
	expect_each_host(f, &x, 1, 1);
	log_set_console_fd(2);
	close(fd);
	fx_free(f);
}

static void test_all_hosts_true_unchanged(void **state _unused_)
{
	struct fx *f = fx_new(false, 2, 0, VIP_ARP_REQUEST);
	struct vip_addr x = A("198.51.100.24"), y = A("2001:db8::100:2");
	struct vipd_announce_stats st;
	struct vipd_announce_opts o;

	put_hosts(f, 3, 3);
	assert_int_equal(vipd_announce_add(f->a, &x, 2, f->now), 0);
	assert_int_equal(vipd_announce_add(f->a, &y, 2, f->now), 0);
	assert_int_equal(vipd_announce_tick(f->a, f->now), 2);
	run_until(f, f->now + 5000);
	assert_int_equal(count_broadcast(f), 6);
	assert_int_equal(frames(f, &(const struct vip_port_fake_frame *){ NULL }), 6);
	assert_int_equal(f->host_calls, 0);
	vipd_announce_get_stats(f->a, &st);
	assert_int_equal(st.unicast, 0);
	assert_int_equal(st.fallbacks, 0);
	/* A reload to false takes effect at the next announcement. */
	o = *vipd_announce_get_opts(f->a);
	o.unicast = true;
	vipd_announce_set_opts(f->a, &o);
	vip_port_fake_reset_log(f->port);
	assert_int_equal(vipd_announce_restart_all(f->a, f->now), 2);
	assert_int_equal(vipd_announce_tick(f->a, f->now), 2);
	assert_int_equal(count_broadcast(f), 0);
	assert_int_equal(frames(f, &(const struct vip_port_fake_frame *){ NULL }), 6);
	fx_free(f);
}

/* At most VIPD_ANNOUNCE_MAX_HOSTS hosts per address; with arp_pace 0 the unicast
 * frames are paced at VIPD_ANNOUNCE_UNICAST_PACE, bucket a tenth of a second. */
static void test_cap_and_default_pace(void **state _unused_)
{
	struct fx *f = fx_new(true, 0, 0, VIP_ARP_REQUEST);
	struct vip_addr x[10];
	char s[32];
	uint64_t t0 = f->now;
	size_t total = 10 * VIPD_ANNOUNCE_MAX_HOSTS;

	put_hosts(f, 300, 0);
	for (size_t i = 0; i < 10; i++) {
		snprintf(s, sizeof(s), "198.51.100.%zu", 30 + i);
		x[i] = A(s);
		assert_int_equal(vipd_announce_add(f->a, &x[i], 2, f->now), 0);
	}
	vipd_announce_tick(f->a, f->now);
	/* The first tick spends the bucket: a tenth of a second's worth. */
	assert_int_equal(frames(f, &(const struct vip_port_fake_frame *){ NULL }),
			 VIPD_ANNOUNCE_UNICAST_PACE / 10);
	run_until(f, t0 + 10000);
	assert_int_equal(frames(f, &(const struct vip_port_fake_frame *){ NULL }), total);
	assert_int_equal(count_broadcast(f), 0);
	/* No burst past the bucket: the last frame went out after (total - bucket) / pace. */
	uint64_t need_ms = (total - VIPD_ANNOUNCE_UNICAST_PACE / 10) * 1000 / VIPD_ANNOUNCE_UNICAST_PACE;
	struct vipd_announce_entry e;
	uint64_t last = 0;
	for (size_t i = 0; i < 10; i++) {
		assert_int_equal(vipd_announce_get(f->a, i, &e), 0);
		assert_int_equal(e.sent, 1);
		if (e.last_ms > last)
			last = e.last_ms;
	}
	assert_true(last >= t0 + need_ms);
	assert_true(last <= t0 + need_ms + 10);
	fx_free(f);
}

/* With arp_pace set, one address's hosts span several ticks; the repeat counts from
 * when the last host was told. */
static void test_pace_spreads_hosts(void **state _unused_)
{
	struct fx *f = fx_new(true, 1, 10, VIP_ARP_REQUEST); /* 10 packets/s, a bucket of 2 */
	struct vip_addr x = A("198.51.100.25");
	struct vipd_announce_entry e;
	struct vipd_announce_stats st;
	uint64_t t0 = f->now;

	put_hosts(f, 5, 0);
	assert_int_equal(vipd_announce_add(f->a, &x, 2, f->now), 0);
	assert_int_equal(vipd_announce_tick(f->a, f->now), 0); /* 2 of 5 hosts: not complete */
	assert_int_equal(frames(f, &(const struct vip_port_fake_frame *){ NULL }), 2);
	assert_int_equal(vipd_announce_next_due(f->a, f->now), t0 + 100);
	run_until(f, t0 + 1000);
	expect_each_host(f, &x, 5, 1);
	assert_int_equal(vipd_announce_get(f->a, 0, &e), 0);
	assert_int_equal(e.sent, 1);
	assert_int_equal(e.last_ms, t0 + 300);
	assert_int_equal(e.next_ms, t0 + 300 + 1100);
	run_until(f, t0 + 5000);
	expect_each_host(f, &x, 5, 2);
	vipd_announce_get_stats(f->a, &st);
	assert_true(st.deferred > 0);
	fx_free(f);
}

/* A unicast send that fails: the tick says so, the schedule moves on, nothing counts as sent. */
static void test_unicast_send_fails(void **state _unused_)
{
	struct fx *f = fx_new(true, 1, 0, VIP_ARP_REQUEST);
	struct vip_addr x = A("198.51.100.26");
	struct vipd_announce_stats st;
	struct vipd_announce_entry e;

	put_hosts(f, 2, 0);
	assert_int_equal(vipd_announce_add(f->a, &x, 2, f->now), 0);
	vip_port_fake_fail_calls(f->port, -EIO, 1);
	assert_int_equal(vipd_announce_tick(f->a, f->now), -EIO);
	vipd_announce_get_stats(f->a, &st);
	assert_int_equal(st.errors, 1);
	assert_int_equal(st.unicast, 0);
	assert_int_equal(st.announced, 0);
	assert_int_equal(vipd_announce_get(f->a, 0, &e), 0);
	assert_int_equal(e.sent, 0);
	assert_int_equal(e.next_ms, f->now + 1100); /* the repeat retries */
	run_until(f, f->now + 2000);
	expect_each_host(f, &x, 2, 1);
	fx_free(f);
}

/* Many addresses waiting for the pace: the hosts are asked for only when a frame can go. */
static void test_no_host_query_while_paced(void **state _unused_)
{
	struct fx *f = fx_new(true, 0, 10, VIP_ARP_REQUEST); /* 10 packets/s, a bucket of 2 */
	char s[32];

	put_hosts(f, 5, 0);
	for (size_t i = 0; i < 20; i++) {
		snprintf(s, sizeof(s), "198.51.100.%zu", 100 + i);
		assert_int_equal(vipd_announce_add(f->a, &(struct vip_addr[1]){ A(s) }[0], 2, f->now), 0);
	}
	run_until(f, f->now + 11000);
	assert_int_equal(frames(f, &(const struct vip_port_fake_frame *){ NULL }), 100);
	/* One query per tick that sends (about one per frame), not one per waiting address. */
	assert_true(f->host_calls <= 110);
	fx_free(f);
}

static void learn(struct vipd_neigh *nc, const char *ip, int ifindex, uint8_t last, uint64_t now)
{
	struct vip_port_neigh n = { .addr = A(ip),
				    .ifindex = ifindex,
				    .state = VIP_PORT_NEIGH_REACHABLE,
				    .hwaddr_len = 6 };

	memcpy(n.hwaddr, (uint8_t[]){ 2, 0x76, 0x6c, 0, 0, last }, 6);
	assert_true(vipd_neigh_learn(nc, &n, false, now) >= 0);
}

/* The daemon's hosts of a DuraVIP: by interface name for a host prefix, by the
 * Topology subnet for a shorter cidrmask; same family; freshest first; capped. */
static void test_segment_hosts(void **state _unused_)
{
	struct vipd_neigh_opts o = { .size = 4096, .max_age_ms = 600000 };
	struct vipd_neigh_link links[2] = { { .ifindex = 2, .ifname = "eth0" },
					    { .ifindex = 3, .ifname = "eth1" } };
	struct vipd_announce_host out[VIPD_ANNOUNCE_MAX_HOSTS];
	struct vipd_engine_vip v = { .addr = A("198.51.100.10"),
				     .prefix = 32,
				     .ifindex = 2,
				     .ifname = "eth0" };
	struct vipd_neigh *nc;

	assert_int_equal(vipd_neigh_new(&o, "n1", &nc), 0);
	assert_true(vipd_neigh_set_links(nc, links, 2) >= 0);
	learn(nc, "198.51.100.200", 2, 0xc8, 1000);
	learn(nc, "198.51.100.201", 2, 0xc9, 2000);
	learn(nc, "203.0.113.7", 2, 0x07, 3000);
	learn(nc, "198.51.100.202", 3, 0xca, 4000); /* on eth1 */
	learn(nc, "2001:db8::c8", 2, 0xc8, 5000);
	/* /32 on eth0: every IPv4 host learnt on eth0, freshest first. */
	assert_int_equal(daemon_segment_hosts(nc, &v, out, VIPD_ANNOUNCE_MAX_HOSTS), 3);
	assert_true(vip_addr_equal(&out[0].ip, &(struct vip_addr[1]){ A("203.0.113.7") }[0]));
	assert_true(vip_addr_equal(&out[2].ip, &(struct vip_addr[1]){ A("198.51.100.200") }[0]));
	assert_memory_equal(out[2].mac, ((uint8_t[]){ 2, 0x76, 0x6c, 0, 0, 0xc8 }), 6);
	assert_int_equal(daemon_segment_hosts(nc, &v, out, 2), 2);
	/* A Topology cidrmask of 24: the hosts inside 198.51.100.0/24 only. */
	v.prefix = 24;
	assert_int_equal(daemon_segment_hosts(nc, &v, out, VIPD_ANNOUNCE_MAX_HOSTS), 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(out[i].ip.bytes[0], 198);
	/* IPv6: the IPv6 host; unresolved: none. */
	v = (struct vipd_engine_vip){ .addr = A("2001:db8::100:1"),
				      .prefix = 128,
				      .ifindex = 2,
				      .ifname = "eth0" };
	assert_int_equal(daemon_segment_hosts(nc, &v, out, VIPD_ANNOUNCE_MAX_HOSTS), 1);
	assert_true(vip_addr_equal(&out[0].ip, &(struct vip_addr[1]){ A("2001:db8::c8") }[0]));
	v.ifname[0] = '\0';
	assert_int_equal(daemon_segment_hosts(nc, &v, out, VIPD_ANNOUNCE_MAX_HOSTS), 0);
	vipd_neigh_free(nc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unicast_to_each_host),
		cmocka_unit_test(test_unicast_ipv6_and_both),
		cmocka_unit_test(test_no_host_falls_back_to_broadcast),
		cmocka_unit_test(test_all_hosts_true_unchanged),
		cmocka_unit_test(test_cap_and_default_pace),
		cmocka_unit_test(test_pace_spreads_hosts),
		cmocka_unit_test(test_unicast_send_fails),
		cmocka_unit_test(test_no_host_query_while_paced),
		cmocka_unit_test(test_segment_hosts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

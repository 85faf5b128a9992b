/* SPDX-License-Identifier: MIT */
/*
 * arp_all_hosts = false inside the daemon (fake port, solo backend): with no
 * host known the DuraVIPs are broadcast (and counted); once the kernel's
 * neighbour table has hosts on eth0, the next announcements go to each of
 * them, IPv4 DuraVIPs to the IPv4 host and the IPv6 one to the IPv6 host,
 * none broadcast; the metrics count both; with true (a reload) the
 * announcements are broadcast again whatever the cache holds. (A cluster
 * scope brings a takeover delay: 0 here, so the DuraVIPs are plumbed at once.)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "commands.h"
#include "daemon-internal.h"
#include "json-check.h"
#include "log.h"
#include "neigh.h"

#include "daemon-fx.h"

static const uint8_t mac4[6] = { 0x02, 0xaa, 0, 0, 0, 0x77 }, mac6[6] = { 0x02, 0xaa, 0, 0, 0, 0x66 };

static size_t frames(struct fx *f, const struct vip_port_fake_frame **ret)
{
	return vip_port_fake_announced(f->d.port, ret);
}

static double metric(struct fx *f, const char *name)
{
	struct jv *v;
	double x;

	assert_int_equal(CMD(f, true, "metrics"), 0);
	v = J(f);
	x = json_num(v, name);
	json_free(v);
	return x;
}

/* `cluster duravip announce view`, then the loop until n frames are logged (the 1 s locktime). */
static void announce_view(struct fx *f, size_t n)
{
	vip_port_fake_reset_log(f->d.port);
	assert_int_equal(CMD(f, false, "cluster", "duravip", "announce", "view"), 0);
	for (int i = 0; i < 200 && frames(f, &(const struct vip_port_fake_frame *){ NULL }) < n; i++)
		loop_iterate(f->d.loop, 10);
	assert_int_equal(frames(f, &(const struct vip_port_fake_frame *){ NULL }), n);
}

static void put_hosts(struct fx *f)
{
	struct vip_port_neigh n4 = { .addr = A("198.51.100.77"),
				     .ifindex = IF_ETH0,
				     .state = VIP_PORT_NEIGH_REACHABLE,
				     .hwaddr_len = 6 };
	struct vip_port_neigh n6 = { .addr = A("2001:db8:1::66"),
				     .ifindex = IF_ETH0,
				     .state = VIP_PORT_NEIGH_STALE,
				     .hwaddr_len = 6 };

	memcpy(n4.hwaddr, mac4, 6);
	memcpy(n6.hwaddr, mac6, 6);
	assert_int_equal(vip_port_fake_put_neigh(f->d.port, &n4), 0);
	assert_int_equal(vip_port_fake_put_neigh(f->d.port, &n6), 0);
	settle(f);
	daemon_neigh_tick(&f->d, loop_now_ms());
	assert_int_equal(vipd_neigh_count(f->d.neigh), 2);
}

static void test_unicast_once_hosts_are_known(void **state)
{
	struct fx *f = *state;
	const struct vip_port_fake_frame *fr;
	size_t n;

	/* Acquired at start with no host known: each DuraVIP broadcast, counted. */
	n = frames(f, &fr);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++)
		assert_false(fr[i].unicast);
	assert_int_equal(metric(f, "vipd_announce_fallbacks_total"), 3);
	assert_int_equal(metric(f, "vipd_announce_unicast_total"), 0);

	put_hosts(f);
	announce_view(f, 3);
	n = frames(f, &fr);
	struct vip_addr h4 = A("198.51.100.77"), h6 = A("2001:db8:1::66");
	for (size_t i = 0; i < n; i++) {
		bool v6 = fr[i].addr.family == AF_INET6;

		assert_true(fr[i].unicast);
		assert_int_equal(fr[i].ifindex, IF_ETH0);
		assert_true(vip_addr_equal(&fr[i].dst_ip, v6 ? &h6 : &h4));
		assert_memory_equal(fr[i].dst_mac, v6 ? mac6 : mac4, 6);
	}
	assert_int_equal(metric(f, "vipd_announce_unicast_total"), 3);
	assert_int_equal(metric(f, "vipd_announce_fallbacks_total"), 3);

	/* A reload to true: broadcast again, the cache notwithstanding. */
	write_conf(f, CAPS, "cluster { arp_all_hosts = true duravip_takeover_delay = 0 }\n");
	assert_int_equal(CMD(f, false, "config", "reload"), 0);
	announce_view(f, 3);
	n = frames(f, &fr);
	for (size_t i = 0; i < n; i++)
		assert_false(fr[i].unicast);
	assert_int_equal(metric(f, "vipd_announce_unicast_total"), 3);
}

static int setup_false(void **state)
{
	return fx_setup(state, "cluster { arp_all_hosts = false duravip_takeover_delay = 0 }\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unicast_once_hosts_are_known, setup_false, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * The shared neighbour cache inside the daemon (fake port, solo backend):
 * the kernel's table read at start and on a DuraVIP's new link, neighbour
 * events through the engine, a peer's NEIGH through the protocol's sink, and
 * `cluster arp show` and `metrics` listing them, their JSON parsed.
 */
#include <errno.h>
#include <fcntl.h>
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

#include "daemon-fx.h"

static struct vip_port_neigh N(const char *ip, int ifindex, enum vip_port_neigh_state st, uint8_t last) {
	struct vip_port_neigh n = { .addr = A(ip), .ifindex = ifindex, .state = st, .hwaddr_len = 6 };

	memcpy(n.hwaddr, (uint8_t[]){ 0x02, 0xaa, 0, 0, 0, last }, 6);
	return n;
}

static void
test_arp_show_lists_the_cache(void **state)
{
	struct fx *f = *state;
	struct vip_port_neigh n;
	struct jv *v;

	/* in the kernel's table before the link is known to carry a DuraVIP: read at the next tick */
	n = N("198.51.100.77", IF_ETH0, VIP_PORT_NEIGH_REACHABLE, 0x77);
	assert_int_equal(vip_port_fake_put_neigh(f->d.port, &n), 0);
	n = N("198.51.100.78", IF_ETH0, VIP_PORT_NEIGH_INCOMPLETE, 0x78);
	assert_int_equal(vip_port_fake_put_neigh(f->d.port, &n), 0);
	n = N("198.51.100.79", 7, VIP_PORT_NEIGH_REACHABLE, 0x79); /* a link without DuraVIPs */
	assert_int_equal(vip_port_fake_put_neigh(f->d.port, &n), 0);
	settle(f);
	daemon_neigh_tick(&f->d, loop_now_ms());
	/* a host that talks to us later comes as an event */
	n = N("2001:db8:1::77", IF_ETH0, VIP_PORT_NEIGH_STALE, 0x66);
	assert_int_equal(vip_port_fake_put_neigh(f->d.port, &n), 0);
	settle(f);
	/* what a peer learnt comes through the group */
	struct vip_cl_msg m = { .type = VIP_CL_MSG_NEIGH, .name = "n2", .n_neighs = 1 };
	struct vip_cl_neigh e = { .op = VIP_CL_NEIGH_SEEN,
				  .addr = A("198.51.100.80"),
				  .ifname = "eth3",
				  .mac = { 0x02, 0xbb, 0, 0, 0, 0x80 },
				  .age_s = 5 };
	m.neighs = &e;
	assert_int_equal(vipd_neigh_merge(f->d.neigh, &m, loop_now_ms()), 1);

	assert_int_equal(CMD(f, true, "cluster", "arp", "show"), 0);
	v = J(f);
	assert_int_equal(json_len(v, "addresses"), 3); /* the schedule is still there */
	assert_int_equal(json_num(v, "neighbour_cache.entries"), 3);
	assert_int_equal(json_num(v, "neighbour_cache.learnt_here"), 2);
	assert_int_equal(json_num(v, "neighbour_cache.size"), 4096);
	assert_int_equal(json_num(v, "neighbour_cache.max_age_ms"), 600000);
	assert_int_equal(json_len(v, "neighbour_cache.hosts"), 3);
	assert_string_equal(json_str(v, "neighbour_cache.hosts.0.address"), "198.51.100.77");
	assert_string_equal(json_str(v, "neighbour_cache.hosts.0.mac"), "02:aa:00:00:00:77");
	assert_string_equal(json_str(v, "neighbour_cache.hosts.0.interface"), "eth0");
	assert_string_equal(json_str(v, "neighbour_cache.hosts.0.node"), "n1");
	assert_true(json_bool(v, "neighbour_cache.hosts.0.learnt_here"));
	assert_string_equal(json_str(v, "neighbour_cache.hosts.1.address"), "198.51.100.80");
	assert_string_equal(json_str(v, "neighbour_cache.hosts.1.node"), "n2");
	assert_string_equal(json_str(v, "neighbour_cache.hosts.1.interface"), "eth3");
	assert_false(json_bool(v, "neighbour_cache.hosts.1.learnt_here"));
	assert_true(json_num(v, "neighbour_cache.hosts.1.age_ms") >= 5000);
	assert_string_equal(json_str(v, "neighbour_cache.hosts.2.address"), "2001:db8:1::77");
	assert_string_equal(json_str(v, "neighbour_cache.hosts.2.mac"), "02:aa:00:00:00:66");
	json_free(v);

	assert_int_equal(CMD(f, false, "cluster", "arp", "show"), 0);
	assert_non_null(strstr(f->body, "Neighbour cache: 3 entries (2 learnt here), at most 4096 per node "
					"and interface, aged out after 10m00s\n"));
	assert_non_null(strstr(f->body, "02:bb:00:00:00:80"));

	/* the announcer's lookup sees the same */
	struct vipd_neigh_host h[4];
	struct vip_addr net = A("198.51.100.0");
	assert_int_equal(vipd_neigh_hosts(vipd_daemon_neigh(&f->d), "eth0", &net, 24, h, 4), 2);

	assert_int_equal(CMD(f, true, "metrics"), 0);
	v = J(f);
	assert_int_equal(json_num(v, "vipd_neigh_cache_entries"), 3);
	assert_int_equal(json_num(v, "vipd_neigh_cache_learnt_here"), 2);
	assert_int_equal(json_num(v, "vipd_neigh_messages_received_total"), 1);
	/* solo: nothing to share with */
	assert_int_equal(json_num(v, "vipd_neigh_messages_sent_total"), 0);
	json_free(v);
}

static void test_reload_applies_the_size(void **state)
{
	struct fx *f = *state;
	struct jv *v;

	for (int i = 0; i < 3; i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "198.51.100.%d", 90 + i);
		struct vip_port_neigh n = N(ip, IF_ETH0, VIP_PORT_NEIGH_REACHABLE, (uint8_t)i);
		assert_int_equal(vip_port_fake_put_neigh(f->d.port, &n), 0);
	}
	settle(f);
	daemon_neigh_tick(&f->d, loop_now_ms());
	assert_int_equal(vipd_neigh_count(vipd_daemon_neigh(&f->d)), 3);
	write_conf(f, CAPS, "cluster { nodename = n1 arp_cache_size = 2 arp_cache_max_age = 120 }\n");
	assert_int_equal(vipd_daemon_reload(&f->d, &f->res), 0);
	assert_int_equal(vipd_neigh_count(vipd_daemon_neigh(&f->d)), 2);
	assert_int_equal(CMD(f, true, "cluster", "arp", "show"), 0);
	v = J(f);
	assert_int_equal(json_num(v, "neighbour_cache.size"), 2);
	assert_int_equal(json_num(v, "neighbour_cache.max_age_ms"), 120000);
	assert_int_equal(json_len(v, "neighbour_cache.hosts"), 2);
	json_free(v);
}

static int setup_cluster(void **state)
{
	return fx_setup(state, "cluster { nodename = n1 }\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_arp_show_lists_the_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_applies_the_size, setup_cluster, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

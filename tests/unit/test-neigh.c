/* SPDX-License-Identifier: MIT */
/*
 * vipd/neigh: the shared neighbour cache with an injected clock. Learning
 * (which links, states and addresses count; FAILED forgets, a deletion does
 * not), the bound per (node, interface) with the least recently seen going
 * first, ageing, merging of peers' NEIGH messages (their names, FORGET, the
 * age they carry), batches (what is due, the size bound, a join's full copy,
 * a batch that could not be sent), and the lookup the announcer uses (by
 * subnet, by interface name, freshest first, each address once).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "neigh.h"

#define IF_ETH0 2
#define IF_ETH1 3
#define IF_OTHER 9
#define MAX_AGE 600000u

static struct vip_addr A(const char *s) {
	struct vip_addr a;

	assert_int_equal(vip_addr_from_string(s, &a), 0);
	return a;
}

static struct vipd_neigh *
make(uint32_t size)
{
	struct vipd_neigh_opts o = { .size = size, .max_age_ms = MAX_AGE };
	struct vipd_neigh_link l[2] = { { IF_ETH0, "eth0" }, { IF_ETH1, "eth1" } };
	struct vipd_neigh *nc = NULL;

	assert_int_equal(vipd_neigh_new(&o, "n1", &nc), 0);
	assert_int_equal(vipd_neigh_set_links(nc, l, 2), 1);
	assert_int_equal(vipd_neigh_set_links(nc, l, 2), 0); /* nothing new */
	return nc;
}

static struct vip_port_neigh N(const char *ip, int ifindex, enum vip_port_neigh_state st, uint8_t last,
			       uint32_t age_ms) {
	struct vip_port_neigh n = {
		.addr = A(ip), .ifindex = ifindex, .state = st, .hwaddr_len = 6, .age_ms = age_ms
	};

	memcpy(n.hwaddr, (uint8_t[]){ 0x02, 0, 0, 0, 0, last }, 6);
	return n;
}

static int
learn(struct vipd_neigh *nc, const char *ip, int ifindex, enum vip_port_neigh_state st, uint8_t last,
      uint64_t now)
{
	struct vip_port_neigh n = N(ip, ifindex, st, last, 0);

	return vipd_neigh_learn(nc, &n, false, now);
}

static size_t hosts(struct vipd_neigh *nc, const char *net, unsigned len, struct vipd_neigh_host *out,
		    size_t max)
{
	struct vip_addr a = A(net);

	return vipd_neigh_hosts(nc, NULL, &a, len, out, max);
}

static void test_learn_filters(void **state)
{
	(void)state;
	struct vipd_neigh *nc = make(16);
	struct vip_port_neigh n;

	/* the four states that say the host talks to us */
	assert_int_equal(learn(nc, "198.51.100.10", IF_ETH0, VIP_PORT_NEIGH_REACHABLE, 0x10, 1000), 1);
	assert_int_equal(learn(nc, "198.51.100.11", IF_ETH0, VIP_PORT_NEIGH_STALE, 0x11, 1000), 1);
	assert_int_equal(learn(nc, "198.51.100.12", IF_ETH0, VIP_PORT_NEIGH_DELAY, 0x12, 1000), 1);
	assert_int_equal(learn(nc, "2001:db8:1::13", IF_ETH1, VIP_PORT_NEIGH_PROBE, 0x13, 1000), 1);
	/* and none of the others, nor a link no DuraVIP is on */
	assert_int_equal(learn(nc, "198.51.100.20", IF_ETH0, VIP_PORT_NEIGH_INCOMPLETE, 0x20, 1000), 0);
	assert_int_equal(learn(nc, "198.51.100.21", IF_ETH0, VIP_PORT_NEIGH_FAILED, 0x21, 1000), 0);
	assert_int_equal(learn(nc, "198.51.100.22", IF_ETH0, VIP_PORT_NEIGH_OTHER, 0x22, 1000), 0);
	assert_int_equal(learn(nc, "198.51.100.23", IF_OTHER, VIP_PORT_NEIGH_REACHABLE, 0x23, 1000), 0);
	/* no MAC, another link-layer length, older than the maximum age */
	n = N("198.51.100.24", IF_ETH0, VIP_PORT_NEIGH_REACHABLE, 0x24, 0);
	n.hwaddr_len = 0;
	assert_int_equal(vipd_neigh_learn(nc, &n, false, 1000), 0);
	n.hwaddr_len = 8;
	assert_int_equal(vipd_neigh_learn(nc, &n, false, 1000), 0);
	n = N("198.51.100.25", IF_ETH0, VIP_PORT_NEIGH_STALE, 0x25, MAX_AGE + 1);
	assert_int_equal(vipd_neigh_learn(nc, &n, false, MAX_AGE + 5000), 0);
	assert_int_equal(vipd_neigh_count(nc), 4);

	/* the same again changes nothing; a new MAC does */
	assert_int_equal(learn(nc, "198.51.100.10", IF_ETH0, VIP_PORT_NEIGH_STALE, 0x10, 2000), 0);
	assert_int_equal(learn(nc, "198.51.100.10", IF_ETH0, VIP_PORT_NEIGH_STALE, 0x99, 2000), 1);
	/* the kernel deleting its entry changes nothing; FAILED forgets the host */
	n = N("198.51.100.11", IF_ETH0, VIP_PORT_NEIGH_STALE, 0x11, 0);
	assert_int_equal(vipd_neigh_learn(nc, &n, true, 3000), 0);
	assert_int_equal(vipd_neigh_count(nc), 4);
	n.state = VIP_PORT_NEIGH_FAILED;
	n.hwaddr_len = 0;
	assert_int_equal(vipd_neigh_learn(nc, &n, false, 3000), 1);
	assert_int_equal(vipd_neigh_count(nc), 3);

	struct vipd_neigh_stats st;
	vipd_neigh_get_stats(nc, &st);
	assert_int_equal(st.entries, 3);
	assert_int_equal(st.own, 3);
	assert_int_equal(st.learnt, 4);
	vipd_neigh_free(nc);
}

static void test_bound_evicts_least_recent(void **state)
{
	(void)state;
	struct vipd_neigh *nc = make(3);
	struct vipd_neigh_host h[8];

	assert_int_equal(learn(nc, "198.51.100.1", IF_ETH0, VIP_PORT_NEIGH_REACHABLE, 1, 1000), 1);
	assert_int_equal(learn(nc, "198.51.100.2", IF_ETH0, VIP_PORT_NEIGH_REACHABLE, 2, 2000), 1);
	assert_int_equal(learn(nc, "198.51.100.3", IF_ETH0, VIP_PORT_NEIGH_REACHABLE, 3, 3000), 1);
	/* .1 is seen again: .2 is now the least recently seen */
	struct vip_port_neigh n = N("198.51.100.1", IF_ETH0, VIP_PORT_NEIGH_REACHABLE, 1, 0);
	assert_int_equal(vipd_neigh_learn(nc, &n, false, 4000), 0);
	assert_int_equal(learn(nc, "198.51.100.4", IF_ETH0, VIP_PORT_NEIGH_REACHABLE, 4, 5000), 1);
	assert_int_equal(vipd_neigh_count(nc), 3);
	assert_int_equal(hosts(nc, "198.51.100.0", 24, h, 8), 3);
	assert_string_equal(vip_addr_to_string(&h[0].ip, (char[VIP_ADDR_STRLEN]){ 0 }, VIP_ADDR_STRLEN),
			    "198.51.100.4");
	assert_true(vip_addr_equal(&h[1].ip,
				   &(struct vip_addr){ .family = AF_INET, .bytes = { 198, 51, 100, 1 } }));
	assert_true(vip_addr_equal(&h[2].ip,
				   &(struct vip_addr){ .family = AF_INET, .bytes = { 198, 51, 100, 3 } }));
	/* the bound is per interface: eth1 has its own three */
	for (int i = 0; i < 3; i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "203.0.113.%d", i + 1);
		assert_int_equal(learn(nc, ip, IF_ETH1, VIP_PORT_NEIGH_STALE, (uint8_t)i, 6000), 1);
	}
	assert_int_equal(vipd_neigh_count(nc), 6);
	struct vipd_neigh_stats st;
	vipd_neigh_get_stats(nc, &st);
	assert_int_equal(st.evicted, 1);

	/* a smaller size at a reload evicts at once */
	struct vipd_neigh_opts o = { .size = 1, .max_age_ms = MAX_AGE };
	vipd_neigh_set_opts(nc, &o, 7000);
	assert_int_equal(vipd_neigh_count(nc), 2);
	assert_int_equal(hosts(nc, "198.51.100.0", 24, h, 8), 1);
	assert_int_equal(h[0].mac[5], 4);
	vipd_neigh_free(nc);
}

static void test_ageing(void **state)
{
	(void)state;
	struct vipd_neigh *nc = make(16);
	struct vip_port_neigh n = N("198.51.100.7", IF_ETH0, VIP_PORT_NEIGH_STALE, 7, 100000);

	/* the kernel says it heard from the host 100 s ago */
	assert_int_equal(vipd_neigh_learn(nc, &n, false, 200000), 1);
	assert_int_equal(learn(nc, "198.51.100.8", IF_ETH0, VIP_PORT_NEIGH_REACHABLE, 8, 200000), 1);
	assert_int_equal(vipd_neigh_expire(nc, 100000 + MAX_AGE), 0);
	assert_int_equal(vipd_neigh_expire(nc, 100000 + MAX_AGE + 1), 1);
	assert_int_equal(vipd_neigh_count(nc), 1);
	/* seen again keeps it */
	assert_int_equal(learn(nc, "198.51.100.8", IF_ETH0, VIP_PORT_NEIGH_REACHABLE, 8, 700000), 0);
	assert_int_equal(vipd_neigh_expire(nc, 200000 + MAX_AGE + 1), 0);
	assert_int_equal(vipd_neigh_expire(nc, 700000 + MAX_AGE + 1), 1);
	assert_int_equal(vipd_neigh_count(nc), 0);
	struct vipd_neigh_stats st;
	vipd_neigh_get_stats(nc, &st);
	assert_int_equal(st.expired, 2);
	vipd_neigh_free(nc);
}

static struct vip_cl_msg peer_msg(const char *node, size_t n)
{
	struct vip_cl_msg m = { .type = VIP_CL_MSG_NEIGH, .n_neighs = n };

	snprintf(m.name, sizeof(m.name), "%s", node);
	m.neighs = calloc(n, sizeof(*m.neighs));
	assert_non_null(m.neighs);
	return m;
}

static void seen(struct vip_cl_neigh *e, const char *ip, const char *ifname, uint8_t last, uint32_t age_s)
{
	*e = (struct vip_cl_neigh){ .op = VIP_CL_NEIGH_SEEN, .addr = A(ip), .age_s = age_s };
	snprintf(e->ifname, sizeof(e->ifname), "%s", ifname);
	memcpy(e->mac, (uint8_t[]){ 0x02, 0, 0, 0, 0, last }, 6);
}

static void test_merge_peers(void **state)
{
	(void)state;
	struct vipd_neigh *nc = make(16);
	struct vip_cl_msg m = peer_msg("n2", 3);
	struct vipd_neigh_host h[8];
	struct vipd_neigh_entry *e = NULL;

	assert_int_equal(learn(nc, "198.51.100.5", IF_ETH0, VIP_PORT_NEIGH_REACHABLE, 0x51, 100000), 1);
	seen(&m.neighs[0], "198.51.100.5", "eth0", 0x52, 10);    /* n2 too, seen 10 s ago */
	seen(&m.neighs[1], "198.51.100.6", "bond0", 0x60, 1);    /* another interface name */
	seen(&m.neighs[2], "2001:db8:1::6", "bond0", 0x66, 700); /* older than the maximum age */
	assert_int_equal(vipd_neigh_merge(nc, &m, 100000), 2);
	assert_int_equal(vipd_neigh_count(nc), 3);
	/* the same again is no change; our own name is ignored */
	assert_int_equal(vipd_neigh_merge(nc, &m, 100000), 0);
	snprintf(m.name, sizeof(m.name), "n1");
	assert_int_equal(vipd_neigh_merge(nc, &m, 100000), 0);

	ssize_t n = vipd_neigh_snapshot(nc, &e);
	assert_int_equal(n, 3);
	assert_true(vip_addr_equal(&e[0].ip, &e[1].ip)); /* .5 from n1 and n2, by node name */
	assert_string_equal(e[0].node, "n1");
	assert_true(e[0].own);
	assert_string_equal(e[1].node, "n2");
	assert_false(e[1].own);
	assert_int_equal(e[1].seen_ms, 90000);
	assert_string_equal(e[2].ifname, "bond0");
	free(e);

	/* by subnet: every node's, each address once with its freshest MAC */
	assert_int_equal(hosts(nc, "198.51.100.0", 24, h, 8), 2);
	assert_int_equal(h[0].mac[5], 0x51); /* n1 saw .5 at 100 s, n2 at 90 s */
	assert_int_equal(h[1].mac[5], 0x60);
	/* by interface name (prefix 0), the family of the subnet */
	struct vip_addr any4 = { .family = AF_INET }, any6 = { .family = AF_INET6 };
	assert_int_equal(vipd_neigh_hosts(nc, "bond0", &any4, 0, h, 8), 1);
	assert_int_equal(h[0].mac[5], 0x60);
	assert_int_equal(vipd_neigh_hosts(nc, "bond0", &any6, 0, h, 8), 0);
	assert_int_equal(vipd_neigh_hosts(nc, "eth0", &any4, 0, h, 8), 1);
	assert_int_equal(vipd_neigh_hosts(nc, "eth0", &any4, 0, h, 0), 0);
	assert_int_equal(vipd_neigh_hosts(NULL, "eth0", &any4, 0, h, 8), 0);
	assert_int_equal(hosts(nc, "203.0.113.0", 24, h, 8), 0);

	/* a peer forgets; entries of a node that left stay until they age */
	vip_cl_msg_clear(&m);
	m = peer_msg("n2", 1);
	m.neighs[0] = (struct vip_cl_neigh){ .op = VIP_CL_NEIGH_FORGET, .addr = A("198.51.100.6") };
	snprintf(m.neighs[0].ifname, sizeof(m.neighs[0].ifname), "bond0");
	assert_int_equal(vipd_neigh_merge(nc, &m, 101000), 1);
	assert_int_equal(vipd_neigh_count(nc), 2);
	assert_int_equal(vipd_neigh_expire(nc, 90000 + MAX_AGE + 1), 1);
	assert_int_equal(vipd_neigh_count(nc), 1);
	vip_cl_msg_clear(&m);
	vipd_neigh_free(nc);
}

static void test_batches(void **state)
{
	(void)state;
	struct vipd_neigh *nc = make(4096);
	struct vip_cl_msg m;
	size_t total = 0;

	assert_int_equal(vipd_neigh_take_batch(nc, 1000, &m), 0);
	for (int i = 0; i < 600; i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "198.18.%d.%d", i / 250, i % 250 + 1);
		assert_int_equal(learn(nc, ip, IF_ETH0, VIP_PORT_NEIGH_REACHABLE, (uint8_t)i, 1000), 1);
	}
	/* size-bounded: two batches, then nothing due */
	assert_int_equal(vipd_neigh_take_batch(nc, 3000, &m), 1);
	assert_int_equal(m.n_neighs, VIP_CL_NEIGH_MAX);
	assert_string_equal(m.name, "n1");
	assert_int_equal(m.neighs[0].op, VIP_CL_NEIGH_SEEN);
	assert_int_equal(m.neighs[0].age_s, 2);
	assert_string_equal(m.neighs[0].ifname, "eth0");
	/* it encodes: the codec's bound and the cache's agree */
	uint8_t *wire = NULL;
	size_t len = 0;
	assert_int_equal(vip_cl_msg_encode(&m, &wire, &len), 0);
	free(wire);
	total += m.n_neighs;
	vip_cl_msg_clear(&m);
	assert_int_equal(vipd_neigh_take_batch(nc, 3000, &m), 1);
	total += m.n_neighs;
	/* this one could not be sent: due again */
	vipd_neigh_unsend(nc, &m);
	vip_cl_msg_clear(&m);
	assert_int_equal(vipd_neigh_take_batch(nc, 3000, &m), 1);
	assert_int_equal(m.n_neighs, 600 - VIP_CL_NEIGH_MAX);
	vip_cl_msg_clear(&m);
	assert_int_equal(total, 600);
	assert_int_equal(vipd_neigh_take_batch(nc, 3000, &m), 0);

	/* a member joined: everything again */
	vipd_neigh_peer_joined(nc);
	assert_int_equal(vipd_neigh_take_batch(nc, 4000, &m), 1);
	assert_int_equal(m.n_neighs, VIP_CL_NEIGH_MAX);
	vip_cl_msg_clear(&m);
	assert_int_equal(vipd_neigh_take_batch(nc, 4000, &m), 1);
	assert_int_equal(m.n_neighs, 600 - VIP_CL_NEIGH_MAX);
	vip_cl_msg_clear(&m);
	assert_int_equal(vipd_neigh_take_batch(nc, 4000, &m), 0);

	/* a host seen again half an age after it went is refreshed; a FAILED one is forgotten */
	struct vip_port_neigh n = N("198.18.0.1", IF_ETH0, VIP_PORT_NEIGH_REACHABLE, 0, 0);
	assert_int_equal(vipd_neigh_learn(nc, &n, false, 1000 + MAX_AGE / 2), 0);
	n = N("198.18.0.2", IF_ETH0, VIP_PORT_NEIGH_FAILED, 1, 0);
	assert_int_equal(vipd_neigh_learn(nc, &n, false, 1000 + MAX_AGE / 2), 1);
	assert_int_equal(vipd_neigh_take_batch(nc, 1000 + MAX_AGE / 2, &m), 1);
	assert_int_equal(m.n_neighs, 2);
	assert_int_equal(m.neighs[0].op, VIP_CL_NEIGH_FORGET);
	assert_int_equal(m.neighs[1].op, VIP_CL_NEIGH_SEEN);
	assert_int_equal(m.neighs[1].age_s, 0);
	/* peers' entries are never sent by us */
	struct vip_cl_msg p = peer_msg("n2", 1);
	seen(&p.neighs[0], "198.51.100.99", "eth0", 1, 0);
	assert_int_equal(vipd_neigh_merge(nc, &p, 400000), 1);
	vip_cl_msg_clear(&p);
	vip_cl_msg_clear(&m);
	assert_int_equal(vipd_neigh_take_batch(nc, 400000, &m), 0);
	struct vipd_neigh_stats st;
	vipd_neigh_get_stats(nc, &st);
	assert_int_equal(st.batches, 6);
	assert_int_equal(st.received, 1);
	vipd_neigh_free(nc);
}

static void test_bad_input(void **state)
{
	(void)state;
	struct vipd_neigh_opts o = { .size = 0, .max_age_ms = MAX_AGE };
	struct vipd_neigh *nc = NULL;

	assert_int_equal(vipd_neigh_new(&o, "n1", &nc), -EINVAL);
	o.size = 4;
	assert_int_equal(vipd_neigh_new(&o, "", &nc), -EINVAL);
	assert_int_equal(vipd_neigh_new(&o, "n1", &nc), 0);
	/* nothing learnt before the links are known */
	assert_int_equal(learn(nc, "198.51.100.1", IF_ETH0, VIP_PORT_NEIGH_REACHABLE, 1, 1000), 0);
	/* a peer that names endless interfaces is bounded too */
	for (int i = 0; i < 300; i++) {
		struct vip_cl_msg m = peer_msg("n2", 1);
		char ifn[16];
		snprintf(ifn, sizeof(ifn), "if%d", i);
		seen(&m.neighs[0], "198.51.100.1", ifn, 1, 0);
		vipd_neigh_merge(nc, &m, 1000);
		vip_cl_msg_clear(&m);
	}
	assert_true(vipd_neigh_count(nc) <= 256);
	/* a message of another type is not merged */
	struct vip_cl_msg m = { .type = VIP_CL_MSG_STATE, .name = "n3" };
	assert_int_equal(vipd_neigh_merge(nc, &m, 1000), 0);
	vipd_neigh_free(nc);
	vipd_neigh_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learn_filters), cmocka_unit_test(test_bound_evicts_least_recent),
		cmocka_unit_test(test_ageing),        cmocka_unit_test(test_merge_peers),
		cmocka_unit_test(test_batches),       cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * vipd/topology on the fake port: the Topology rules (interface, cidrmask,
 * the longest block), the connected route (longest prefix, lowest metric, no
 * gateway), the node's own addresses and local ranges refused, an address
 * vipd already plumbed kept where it is, and one view of the system for all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/socket.h>

#include "topology.h"

#define IF_ETH0 2
#define IF_ETH1 3
#define IF_LONGNAME 4

static const char
	conf_text[] = "Security { capabilities = \"cap_net_admin+ep cap_net_raw+ep\" }\n"
		      "cluster { nodename = n1\n"
		      "  Topology \"203.0.113.0/24\" { interface = eth1 cidrmask = 24 }\n"
		      "  Topology \"203.0.113.128/25\" { interface = nosuch }\n"
		      "  Topology \"2001:db8:9::/48\" { interface = eth1 cidrmask = 64 }\n"
		      "}\n"
		      "Binding \"rule\" { Bind_Address = 203.0.113.5 Enable_Duravip = true }\n"
		      "Binding \"longer-rule\" { Bind_Address = 203.0.113.200 Enable_Duravip = true }\n"
		      "Binding \"rule6\" { Bind_Address = 2001:db8:9::5 Enable_Duravip = true }\n"
		      "Binding \"connected\" { Bind_Address = 198.51.100.21 Enable_Duravip = true }\n"
		      "Binding \"own\" { Bind_Address = 198.51.100.1 Enable_Duravip = true }\n"
		      "Binding \"connected6\" { Bind_Address = 2001:db8:1::30 Enable_Duravip = true }\n"
		      "Binding \"unreachable\" { Bind_Address = 198.18.200.1 Enable_Duravip = true }\n"
		      "Binding \"via-gateway\" { Bind_Address = 198.51.100.130 Enable_Duravip = true }\n"
		      "Binding \"local-range\" { Bind_Address = 198.18.4.9 Enable_Duravip = true }\n"
		      "Binding \"metric\" { Bind_Address = 198.18.8.9 Enable_Duravip = true }\n"
		      "Binding \"blackhole\" { Bind_Address = 198.18.5.9 Enable_Duravip = true }\n"
		      "Binding \"plumbed\" { Bind_Address = 198.18.6.9 Enable_Duravip = true }\n"
		      "Binding \"long\" { Bind_Address = 198.18.7.9 Enable_Duravip = true }\n";

struct h {
	struct vip_port *port;
	struct vipd_config *cfg;
	struct vipd_sysview sv;
};

static struct vip_addr A(const char *s) {
	struct vip_addr a;

	assert_int_equal(vip_addr_from_string(s, &a), 0);
	return a;
}

static struct vipd_config *
load(const char *text)
{
	struct vip_conf_diag diag = { 0 };
	struct vip_conf_tree *t = NULL;
	struct vipd_config *c = NULL;
	struct vip_config_opts o = { .nodename = "n1", .hostname = "host" };

	assert_int_equal(vip_conf_parse_string("t.conf", text, strlen(text), NULL, NULL, &t, &diag), 0);
	int r = vip_config_from_tree(t, &o, &c, &diag);
	for (size_t i = 0; r < 0 && i < diag.n; i++)
		print_error("%s\n", diag.items[i].message);
	assert_int_equal(r, 0);
	vip_conf_tree_free(t);
	vip_conf_diag_clear(&diag);
	return c;
}

static void put_link(struct vip_port *p, int ifindex, const char *name)
{
	struct vip_port_link l = { .ifindex = ifindex, .up = true, .hwaddr_len = 6 };

	snprintf(l.ifname, sizeof(l.ifname), "%s", name);
	assert_int_equal(vip_port_fake_set_link(p, &l), 0);
}

static void put_addr(struct vip_port *p, const char *a, unsigned prefix, int ifindex, bool ours)
{
	struct vip_port_addr e = { .addr = A(a),
				   .prefix = prefix,
				   .ifindex = ifindex,
				   .proto = ours ? VIP_PORT_IFA_PROTO : 0 };

	assert_int_equal(vip_port_fake_put_addr(p, &e), 0);
}

static void put_route(struct vip_port *p, const char *dst, unsigned len, enum vip_port_route_type type,
		      bool local_table, bool gateway, int ifindex, uint32_t metric)
{
	struct vip_port_route r = { .dst = A(dst),
				    .dst_len = len,
				    .type = type,
				    .local_table = local_table,
				    .gateway = gateway,
				    .ifindex = ifindex,
				    .metric = metric };

	assert_int_equal(vip_port_fake_put_route(p, &r), 0);
}

static int setup(void **state)
{
	struct h *h = calloc(1, sizeof(*h));
	struct vip_port *p;

	assert_non_null(h);
	assert_int_equal(vip_port_fake_ops.open(NULL, &p), 0);
	put_link(p, IF_ETH0, "eth0");
	put_link(p, IF_ETH1, "eth1");
	put_link(p, IF_LONGNAME, "abcdefghijklm");
	put_addr(p, "198.51.100.1", 24, IF_ETH0, false);  /* 198.51.100.0/24 dev eth0 */
	put_addr(p, "2001:db8:1::1", 64, IF_ETH0, false); /* 2001:db8:1::/64 dev eth0 */
	put_addr(p, "198.18.6.9", 32, IF_ETH1, true);     /* vipd's own, on eth1 */
	/* A more specific network through a gateway; a local range; a blackhole; two
	 * routes to one network, the lower metric on eth1; a link whose label is too long. */
	put_route(p, "198.51.100.128", 25, VIP_PORT_ROUTE_UNICAST, false, true, IF_ETH0, 0);
	put_route(p, "198.18.4.0", 24, VIP_PORT_ROUTE_LOCAL, true, false, 1, 0);
	put_route(p, "198.18.5.0", 24, VIP_PORT_ROUTE_OTHER, false, false, 0, 0);
	put_route(p, "198.18.8.0", 24, VIP_PORT_ROUTE_UNICAST, false, false, IF_ETH0, 200);
	put_route(p, "198.18.8.0", 24, VIP_PORT_ROUTE_UNICAST, false, false, IF_ETH1, 100);
	put_route(p, "198.18.7.0", 24, VIP_PORT_ROUTE_UNICAST, false, false, IF_LONGNAME, 0);
	put_route(p, "0.0.0.0", 0, VIP_PORT_ROUTE_UNICAST, false, true, IF_ETH0, 0);
	h->port = p;
	h->cfg = load(conf_text);
	assert_int_equal(vipd_sysview_read(&vip_port_fake_ops, p, &h->sv), 0);
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	struct h *h = *state;

	vipd_sysview_clear(&h->sv);
	vip_port_fake_ops.close(h->port);
	vip_config_free(h->cfg);
	free(h);
	return 0;
}

static int place(struct h *h, const char *addr, struct vipd_target *t)
{
	struct vip_addr a = A(addr);
	const struct vipd_duravip *d = vip_config_find_duravip(h->cfg, &a);

	assert_non_null(d);
	return vipd_topology_place(&h->sv, h->cfg, d, t);
}

static void test_topology_rule(void **state)
{
	struct h *h = *state;
	struct vipd_target t;

	assert_int_equal(place(h, "203.0.113.5", &t), 0);
	assert_int_equal(t.ifindex, IF_ETH1);
	assert_string_equal(t.ifname, "eth1");
	assert_int_equal(t.prefix, 24);
	assert_string_equal(t.label, "eth1:dv");
	assert_true(t.from_topology);
	assert_int_equal(place(h, "2001:db8:9::5", &t), 0);
	assert_int_equal(t.ifindex, IF_ETH1);
	assert_int_equal(t.prefix, 64);
	assert_string_equal(t.label, "");
	/* The longer block wins, and no link has its interface's name. */
	t.ifindex = 77;
	assert_int_equal(place(h, "203.0.113.200", &t), -ENODEV);
	assert_int_equal(t.ifindex, 77); /* untouched on failure */
}

static void test_connected_route(void **state)
{
	struct h *h = *state;
	struct vipd_target t;

	assert_int_equal(place(h, "198.51.100.21", &t), 0);
	assert_int_equal(t.ifindex, IF_ETH0);
	assert_int_equal(t.prefix, 32); /* the configuration's, not the network's */
	assert_string_equal(t.label, "eth0:dv");
	assert_false(t.from_topology);
	assert_int_equal(place(h, "2001:db8:1::30", &t), 0);
	assert_int_equal(t.ifindex, IF_ETH0);
	assert_int_equal(t.prefix, 128);
	/* Lowest metric among routes to the same network. */
	assert_int_equal(place(h, "198.18.8.9", &t), 0);
	assert_int_equal(t.ifindex, IF_ETH1);
	/* A name too long for a label: placed, without one. */
	assert_int_equal(place(h, "198.18.7.9", &t), 0);
	assert_int_equal(t.ifindex, IF_LONGNAME);
	assert_string_equal(t.label, "");
	/* vipd's own address stays on its link, even with no route there. */
	assert_int_equal(place(h, "198.18.6.9", &t), 0);
	assert_int_equal(t.ifindex, IF_ETH1);
}

static void test_refused(void **state)
{
	struct h *h = *state;
	struct vipd_target t;

	assert_int_equal(place(h, "198.51.100.1", &t), -EADDRINUSE);    /* the node's own */
	assert_int_equal(place(h, "198.18.4.9", &t), -EADDRINUSE);      /* in a local range */
	assert_int_equal(place(h, "198.51.100.130", &t), -ENETUNREACH); /* the longer route has a gateway */
	assert_int_equal(place(h, "198.18.200.1", &t), -ENETUNREACH);   /* only the default route */
	assert_int_equal(place(h, "198.18.5.9", &t), -ENETUNREACH);     /* a blackhole */
}

/* Someone else put a DuraVIP's address on the node: it is the node's now, not vipd's. */
static void test_taken_by_someone_else(void **state)
{
	struct h *h = *state;
	struct vipd_target t;

	put_addr(h->port, "198.51.100.21", 32, IF_ETH0, false);
	assert_int_equal(vipd_sysview_read(&vip_port_fake_ops, h->port, &h->sv), 0);
	assert_int_equal(place(h, "198.51.100.21", &t), -EADDRINUSE);
	/* ... and on the Topology rule's link as well. */
	put_addr(h->port, "203.0.113.5", 24, IF_ETH1, false);
	assert_int_equal(vipd_sysview_read(&vip_port_fake_ops, h->port, &h->sv), 0);
	assert_int_equal(place(h, "203.0.113.5", &t), -EADDRINUSE);
}

/* One view serves every DuraVIP: three dumps, and a failed dump leaves nothing behind. */
static void test_one_view(void **state)
{
	struct h *h = *state;
	struct vip_port_fake_stats st;
	struct vipd_target t;

	vip_port_fake_reset_log(h->port);
	assert_int_equal(vipd_sysview_read(&vip_port_fake_ops, h->port, &h->sv), 0);
	for (size_t i = 0; i < h->cfg->n_duravips; i++)
		(void)vipd_topology_place(&h->sv, h->cfg, &h->cfg->duravips[i], &t);
	vip_port_fake_get_stats(h->port, &st);
	assert_int_equal(st.dump_links_calls, 1);
	assert_int_equal(st.dump_calls, 1);
	assert_int_equal(st.dump_routes_calls, 1);
	assert_int_equal(st.link_get_calls, 0);
	/* The addresses come back sorted, so lookups bisect. */
	for (size_t i = 1; i < h->sv.addrs.n; i++)
		assert_true(vip_addr_cmp(&h->sv.addrs.items[i - 1].addr, &h->sv.addrs.items[i].addr) <= 0);

	vip_port_fake_fail_calls(h->port, -EIO, 1);
	assert_int_equal(vipd_sysview_read(&vip_port_fake_ops, h->port, &h->sv), -EIO);
	assert_int_equal(h->sv.links.n + h->sv.addrs.n + h->sv.routes.n + h->sv.n_local_hosts, 0);
	vipd_sysview_clear(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_topology_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connected_route, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_taken_by_someone_else, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_view, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* Unit: the fake port (what other areas' tests rely on) and the portable helpers. */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "port.h"

static const struct vip_port_ops *ops = &vip_port_fake_ops;

static struct vip_addr A(const char *s) {
	struct vip_addr a;
	assert_int_equal(vip_addr_from_string(s, &a), 0);
	return a;
}

static const struct vip_port_link eth0 = {
	.ifindex = 2,
	.ifname = "eth0",
	.up = true,
	.mtu = 1500,
	.hwaddr = { 2, 0, 0, 0, 0, 1 },
	.hwaddr_len = 6,
};

static int setup(void **state)
{
	struct vip_port *p;
	assert_int_equal(ops->open(NULL, &p), 0);
	assert_int_equal(vip_port_fake_set_link(p, &eth0), 0);
	struct vip_port_addr own = { .addr = A("198.51.100.1"), .prefix = 24, .ifindex = 2 };
	assert_int_equal(vip_port_fake_put_addr(p, &own), 0);
	struct vip_port_addr own6 = { .addr = A("2001:db8::1"), .prefix = 64, .ifindex = 2 };
	assert_int_equal(vip_port_fake_put_addr(p, &own6), 0);
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	ops->close(*state);
	return 0;
}

static bool readable(struct vip_port *p)
{
	struct pollfd pfd = { ops->event_fd(p), POLLIN, 0 };
	return poll(&pfd, 1, 0) == 1;
}

static void drain(struct vip_port *p)
{
	struct vip_port_event ev;
	for (int i = 0; i < 1000 && ops->next_event(p, &ev) == 1; i++)
		;
	assert_false(readable(p));
}

static void test_add_remove(void **state)
{
	struct vip_port *p = *state;
	struct vip_port_req r[2] = {
		{ .addr = A("198.51.100.10"), .prefix = 24, .ifindex = 2, .label = "eth0:dv" },
		{ .addr = A("2001:db8::10"), .prefix = 64, .ifindex = 2, .label = "eth0:dv" },
	};
	drain(p);
	assert_int_equal(ops->add(p, r, 2), 0);
	assert_int_equal(r[0].result, 0);
	const struct vip_port_table *t = vip_port_fake_addrs(p);
	assert_int_equal(t->n, 4);
	const struct vip_port_addr *a = vip_port_table_find(t, &r[0].addr, 2);
	assert_non_null(a);
	assert_true(a->ours);
	assert_string_equal(a->label, "eth0:dv");
	a = vip_port_table_find(t, &r[1].addr, 0);
	assert_string_equal(a->label, ""); /* IPv6: no label */
	assert_true(a->flags & VIP_PORT_ADDR_NODAD);

	/* Echoed as events, like the kernel does. */
	struct vip_port_event ev;
	assert_true(readable(p));
	assert_int_equal(ops->next_event(p, &ev), 1);
	assert_int_equal(ev.type, VIP_PORT_EV_ADDR_NEW);
	assert_true(vip_addr_equal(&ev.addr.addr, &r[0].addr));
	assert_int_equal(ops->next_event(p, &ev), 1);
	assert_int_equal(ops->next_event(p, &ev), 0);
	assert_false(readable(p));

	/* Adding again replaces; removing twice is fine. */
	assert_int_equal(ops->add(p, r, 2), 0);
	assert_int_equal(vip_port_fake_addrs(p)->n, 4);
	assert_int_equal(ops->remove(p, r, 2), 0);
	assert_int_equal(ops->remove(p, r, 2), 0);
	assert_int_equal(vip_port_fake_addrs(p)->n, 2);

	struct vip_port_fake_stats st;
	vip_port_fake_get_stats(p, &st);
	assert_int_equal(st.add_calls, 2);
	assert_int_equal(st.remove_calls, 2);
	assert_int_equal(st.added, 4);
	assert_int_equal(st.removed, 4);
}

static void test_failures(void **state)
{
	struct vip_port *p = *state;
	struct vip_port_req r[3] = {
		{ .addr = A("198.51.100.11"), .prefix = 24, .ifindex = 2 },
		{ .addr = A("198.51.100.12"), .prefix = 24, .ifindex = 2 },
		{ .addr = A("198.51.100.13"), .prefix = 24, .ifindex = 77 },
	};
	assert_int_equal(vip_port_fake_fail_addr(p, &r[1].addr, -EPERM, "nope"), 0);
	assert_int_equal(ops->add(p, r, 3), 2);
	assert_int_equal(r[0].result, 0);
	assert_int_equal(r[1].result, -EPERM);
	assert_string_equal(r[1].errmsg, "nope");
	assert_int_equal(r[2].result, -ENODEV);
	assert_non_null(vip_port_table_find(vip_port_fake_addrs(p), &r[0].addr, 2));
	assert_null(vip_port_table_find(vip_port_fake_addrs(p), &r[1].addr, 0));
	assert_int_equal(vip_port_fake_fail_addr(p, &r[1].addr, 0, NULL), 0);
	assert_int_equal(ops->add(p, r, 2), 0);

	/* A broken transport: whole calls fail, every entry says so. */
	vip_port_fake_fail_calls(p, -ENOBUFS, 2);
	assert_int_equal(ops->remove(p, r, 2), -ENOBUFS);
	assert_int_equal(r[0].result, -ENOBUFS);
	struct vip_port_table t = { 0 };
	assert_int_equal(ops->dump(p, 0, &t), -ENOBUFS);
	assert_int_equal(ops->dump(p, 0, &t), 4);
	vip_port_table_clear(&t);
}

static void test_dump_flush(void **state)
{
	struct vip_port *p = *state;
	struct vip_port_link eth1 = eth0;
	eth1.ifindex = 3;
	strcpy(eth1.ifname, "eth1");
	assert_int_equal(vip_port_fake_set_link(p, &eth1), 0);
	struct vip_port_req r[3] = {
		{ .addr = A("198.51.100.20"), .prefix = 24, .ifindex = 2 },
		{ .addr = A("198.51.100.21"), .prefix = 24, .ifindex = 3 },
		{ .addr = A("2001:db8::21"), .prefix = 64, .ifindex = 3 },
	};
	assert_int_equal(ops->add(p, r, 3), 0);
	struct vip_port_table t = { 0 };
	assert_int_equal(ops->dump(p, 3, &t), 2);
	assert_int_equal(ops->dump(p, 0, &t), 5);
	assert_int_equal(ops->flush_tagged(p, 3), 2);
	assert_int_equal(ops->flush_tagged(p, 0), 1);
	assert_int_equal(ops->dump(p, 0, &t), 2); /* the node's own stay */
	for (size_t i = 0; i < t.n; i++)
		assert_false(t.items[i].ours);
	vip_port_table_clear(&t);
	vip_port_table_clear(NULL);
}

static void test_events(void **state)
{
	struct vip_port *p = *state;
	struct vip_port_event ev = { .type = VIP_PORT_EV_RESYNC_NEEDED }, got;
	drain(p);
	assert_int_equal(vip_port_fake_inject_event(p, &ev), 0);
	assert_true(readable(p));
	assert_int_equal(ops->next_event(p, &got), 1);
	assert_int_equal(got.type, VIP_PORT_EV_RESYNC_NEEDED);
	assert_int_equal(ops->next_event(p, &got), 0);

	struct vip_port_link l = eth0;
	l.hwaddr[5] = 9;
	l.up = false;
	assert_int_equal(vip_port_fake_set_link(p, &l), 0);
	assert_int_equal(ops->next_event(p, &got), 1);
	assert_int_equal(got.type, VIP_PORT_EV_LINK_MAC);
	assert_int_equal(got.link.hwaddr[5], 9);
	assert_int_equal(ops->next_event(p, &got), 1);
	assert_int_equal(got.type, VIP_PORT_EV_LINK_DOWN);

	struct vip_port_req r = { .addr = A("198.51.100.30"), .prefix = 24, .ifindex = 2 };
	vip_port_fake_set_echo(p, false);
	assert_int_equal(ops->add(p, &r, 1), 0);
	assert_int_equal(ops->next_event(p, &got), 0);
	vip_port_fake_set_echo(p, true);
	assert_int_equal(vip_port_fake_del_link(p, 2), 0);
	assert_int_equal(vip_port_fake_del_link(p, 2), -ENODEV);
	int dels = 0, gone = 0;
	while (ops->next_event(p, &got) == 1) {
		dels += got.type == VIP_PORT_EV_ADDR_DEL;
		gone += got.type == VIP_PORT_EV_LINK_GONE;
	}
	assert_int_equal(dels, 3);
	assert_int_equal(gone, 1);
	assert_int_equal(vip_port_fake_addrs(p)->n, 0);
}

static const struct vip_port_route *route_to(const struct vip_port_routes *t, const char *dst, unsigned len,
					     bool local_table)
{
	struct vip_addr d = A(dst);
	for (size_t i = 0; i < t->n; i++)
		if (vip_addr_equal(&t->items[i].dst, &d) && t->items[i].dst_len == len &&
		    t->items[i].local_table == local_table)
			return &t->items[i];
	return NULL;
}

static void test_dump_links_routes(void **state)
{
	struct vip_port *p = *state;
	struct vip_port_link eth1 = eth0;
	eth1.ifindex = 3;
	strcpy(eth1.ifname, "eth1");
	eth1.up = false;
	assert_int_equal(vip_port_fake_set_link(p, &eth1), 0);

	struct vip_port_links l = { 0 };
	assert_int_equal(ops->dump_links(p, &l), 2);
	assert_string_equal(vip_port_links_find(&l, 2)->ifname, "eth0");
	assert_false(vip_port_links_find(&l, 3)->up);
	assert_null(vip_port_links_find(&l, 9));

	/* Derived from the addresses as a kernel does: a local host route each, and the
	 * connected network when the prefix is shorter than the host length. */
	struct vip_port_req r = { .addr = A("198.51.100.10"), .prefix = 32, .ifindex = 2 };
	assert_int_equal(ops->add(p, &r, 1), 0);
	struct vip_port_route gw = { .dst = { .family = AF_INET },
				     .dst_len = 0,
				     .type = VIP_PORT_ROUTE_UNICAST,
				     .gateway = true,
				     .ifindex = 3 };
	assert_int_equal(vip_port_fake_put_route(p, &gw), 0);
	struct vip_port_routes t = { 0 };
	assert_int_equal(ops->dump_routes(p, &t), 6); /* 3 local, 2 connected, the gateway */
	const struct vip_port_route *c = route_to(&t, "198.51.100.0", 24, false);
	assert_non_null(c);
	assert_int_equal(c->type, VIP_PORT_ROUTE_UNICAST);
	assert_false(c->gateway);
	assert_int_equal(c->ifindex, 2);
	c = route_to(&t, "2001:db8::", 64, false);
	assert_non_null(c);
	assert_int_equal(c->ifindex, 2);
	c = route_to(&t, "198.51.100.10", 32, true);
	assert_non_null(c);
	assert_int_equal(c->type, VIP_PORT_ROUTE_LOCAL);
	assert_non_null(route_to(&t, "198.51.100.1", 32, true));
	assert_non_null(route_to(&t, "2001:db8::1", 128, true));
	assert_null(route_to(&t, "198.51.100.10", 24, false)); /* a /32 has no network route */
	c = route_to(&t, "0.0.0.0", 0, false);
	assert_non_null(c);
	assert_true(c->gateway);

	/* A failing transport leaves the tables empty. */
	vip_port_fake_fail_calls(p, -EIO, 2);
	assert_int_equal(ops->dump_links(p, &l), -EIO);
	assert_int_equal(l.n, 0);
	assert_int_equal(ops->dump_routes(p, &t), -EIO);
	assert_int_equal(t.n, 0);
	struct vip_port_fake_stats st;
	vip_port_fake_get_stats(p, &st);
	assert_int_equal(st.dump_links_calls, 2);
	assert_int_equal(st.dump_routes_calls, 2);
	vip_port_links_clear(&l);
	vip_port_routes_clear(&t);
	vip_port_links_clear(NULL);
	vip_port_routes_clear(NULL);
	assert_string_equal(vip_port_route_type_to_string(VIP_PORT_ROUTE_LOCAL), "local");
	assert_null(vip_port_route_type_to_string(_VIP_PORT_ROUTE_TYPE_MAX));
}

static void test_announce(void **state)
{
	struct vip_port *p = *state;
	struct vip_port_link noarp = eth0;
	noarp.ifindex = 4;
	noarp.noarp = true;
	strcpy(noarp.ifname, "tun0");
	assert_int_equal(vip_port_fake_set_link(p, &noarp), 0);
	struct vip_port_announce b[4] = {
		{ .addr = A("198.51.100.40"), .ifindex = 2 },
		{ .addr = A("2001:db8::40"), .ifindex = 2 },
		{ .addr = A("198.51.100.41"), .ifindex = 4 },
		{ .addr = A("198.51.100.42"), .ifindex = 9 },
	};
	assert_int_equal(ops->announce(p, b, 4, VIP_ARP_BOTH), 3);
	assert_int_equal(b[0].result, 2);
	assert_int_equal(b[1].result, 1);
	assert_int_equal(b[2].result, 0);
	assert_int_equal(b[3].result, -ENODEV);
	const struct vip_port_fake_frame *f;
	assert_int_equal(vip_port_fake_announced(p, &f), 2);
	assert_true(vip_addr_equal(&f[0].addr, &b[0].addr));
	assert_int_equal(f[0].mode, VIP_ARP_BOTH);
	assert_int_equal(f[0].frames, 2);
	assert_int_equal(f[1].mode, VIP_ARP_REQUEST);
	assert_int_equal(ops->announce(p, b, 1, _VIP_ARP_MODE_MAX), -EINVAL);
	vip_port_fake_reset_log(p);
	assert_int_equal(vip_port_fake_announced(p, &f), 0);

	struct vip_port *light;
	struct vip_port_opts o = { .flags = VIP_PORT_OPEN_NO_PACKET | VIP_PORT_OPEN_NO_MONITOR };
	assert_int_equal(ops->open(&o, &light), 0);
	assert_int_equal(ops->announce(light, b, 1, VIP_ARP_REQUEST), -ENOTCONN);
	assert_int_equal(ops->event_fd(light), -ENOTCONN);
	ops->close(light);
	ops->close(NULL);
}

/* A unicast entry is logged with its host; one with a host of the other family is refused. */
static void test_announce_unicast(void **state)
{
	struct vip_port *p = *state;
	static const uint8_t host_mac[6] = { 2, 0x76, 0x6c, 0, 0, 0xc8 };
	struct vip_port_announce b[3] = {
		{ .addr = A("198.51.100.40"), .ifindex = 2, .unicast = true, .dst_ip = A("198.51.100.200") },
		{ .addr = A("2001:db8::40"), .ifindex = 2, .unicast = true, .dst_ip = A("2001:db8::c8") },
		{ .addr = A("198.51.100.41"), .ifindex = 2, .unicast = true, .dst_ip = A("2001:db8::c8") },
	};
	memcpy(b[0].dst_mac, host_mac, 6);
	memcpy(b[1].dst_mac, host_mac, 6);
	assert_int_equal(ops->announce(p, b, 3, VIP_ARP_REPLY), 2);
	assert_int_equal(b[2].result, -EINVAL);
	const struct vip_port_fake_frame *f;
	assert_int_equal(vip_port_fake_announced(p, &f), 2);
	assert_true(f[0].unicast && f[1].unicast);
	assert_memory_equal(f[0].dst_mac, host_mac, 6);
	assert_true(vip_addr_equal(&f[0].dst_ip, &b[0].dst_ip));
	assert_int_equal(f[0].mode, VIP_ARP_REPLY);
	assert_true(vip_addr_equal(&f[1].dst_ip, &b[1].dst_ip));
}

static void test_helpers(void **state)
{
	(void)state;
	char l[VIP_PORT_NAME_MAX];
	assert_int_equal(vip_port_label("eth0", AF_INET, l), 0);
	assert_string_equal(l, "eth0:dv");
	assert_int_equal(vip_port_label("abcdefghijkl", AF_INET, l), 0); /* 12 + 3 = 15 */
	assert_string_equal(l, "abcdefghijkl:dv");
	assert_int_equal(vip_port_label("abcdefghijklm", AF_INET, l), -ENAMETOOLONG);
	assert_string_equal(l, "");
	assert_int_equal(vip_port_label("eth0", AF_INET6, l), -EAFNOSUPPORT);
	assert_string_equal(l, "");
	for (int t = 0; t < _VIP_PORT_EV_MAX; t++)
		assert_int_equal(vip_port_event_type_from_string(vip_port_event_type_to_string(t)), t);
	assert_null(vip_port_event_type_to_string(_VIP_PORT_EV_MAX));
	assert_int_equal(vip_port_event_type_from_string("bogus"), -EINVAL);
#ifdef __linux__
	assert_string_equal(vip_port_native()->name, "linux");
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_links_routes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_announce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_announce_unicast, setup, teardown),
		cmocka_unit_test(test_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * netns: the Linux port's address side on a veth: IPv4 and IPv6 batches
 * against a dump, a mixed batch with per-address errors, events for changes
 * made from outside and for link changes, RESYNC_NEEDED on an overrun, the
 * link and route dumps, and flush_tagged.
 */
#include "test-port-lib.h"

#define N4 200
#define N6 100

static const struct vip_port_ops *ops;

static void fill(struct vip_port_req *r, size_t n4, size_t n6, int ifindex)
{
	char s[64];
	for (size_t i = 0; i < n4 + n6; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		if (i < n4) {
			snprintf(s, sizeof(s), "198.18.%zu.%zu", i / 250, i % 250 + 1);
			r[i].prefix = 15;
			snprintf(r[i].label, sizeof(r[i].label), "va:dv");
		} else {
			snprintf(s, sizeof(s), "2001:db8:1::%zx", 0x1000 + i);
			r[i].prefix = 64;
		}
		r[i].addr = addr_of(s);
		r[i].ifindex = ifindex;
	}
}

static void test_batches(struct vip_port *p, struct rig *rig)
{
	static struct vip_port_req r[N4 + N6];
	struct vip_port_table t = { 0 };

	fill(r, N4, N6, rig->ifindex_a);
	CHECK_EQ(ops->add(p, r, N4 + N6), 0);
	for (size_t i = 0; i < N4 + N6; i++)
		CHECK_EQ(r[i].result, 0);
	CHECK(ops->dump(p, rig->ifindex_a, &t) >= N4 + N6);
	size_t ours = 0;
	for (size_t i = 0; i < t.n; i++)
		ours += t.items[i].ours;
	CHECK_EQ(ours, N4 + N6);
	for (size_t i = 0; i < N4 + N6; i++) {
		const struct vip_port_addr *a = vip_port_table_find(&t, &r[i].addr, rig->ifindex_a);
		CHECK(a && a->ours && a->proto == VIP_PORT_IFA_PROTO);
		CHECK_EQ(a->prefix, r[i].prefix);
		if (i < N4)
			CHECK(strcmp(a->label, "va:dv") == 0);
		else
			CHECK(a->flags & VIP_PORT_ADDR_NODAD);
	}
	/* The node's own addresses are there and not ours. */
	const struct vip_port_addr *own = vip_port_table_find(&t, AP("198.51.100.1"), 0);
	CHECK(own && !own->ours && own->proto != VIP_PORT_IFA_PROTO);

	/* Again: already there is success. */
	CHECK_EQ(ops->add(p, r, N4 + N6), 0);
	CHECK_EQ(ops->dump(p, rig->ifindex_a, &t), t.n);

	CHECK_EQ(ops->remove(p, r, N4 + N6), 0);
	CHECK(ops->dump(p, 0, &t) >= 0);
	for (size_t i = 0; i < t.n; i++)
		CHECK(!t.items[i].ours);
	CHECK(vip_port_table_find(&t, AP("198.51.100.1"), 0));
	/* Gone already is success too. */
	CHECK_EQ(ops->remove(p, r, N4 + N6), 0);
	vip_port_table_clear(&t);
	fprintf(stderr, "batches: %d IPv4 + %d IPv6 added, dumped, removed\n", N4, N6);
}

static void test_mixed(struct vip_port *p, struct rig *rig)
{
	struct vip_port_req r[6];
	struct vip_port_table t = { 0 };
	fill(r, 4, 2, rig->ifindex_a);
	r[1].ifindex = 9999;
	r[4].ifindex = 9999;
	CHECK_EQ(ops->add(p, r, 6), 2);
	CHECK_EQ(r[1].result, -ENODEV);
	CHECK_EQ(r[4].result, -ENODEV);
	fprintf(stderr, "mixed: kernel said \"%s\" / \"%s\"\n", r[1].errmsg, r[4].errmsg);
	CHECK(r[1].errmsg[0]); /* the extended ACK text is carried */
	CHECK(ops->dump(p, 0, &t) >= 0);
	for (int i = 0; i < 6; i++) {
		bool want = i != 1 && i != 4;
		CHECK_EQ(vip_port_table_find(&t, &r[i].addr, rig->ifindex_a) != NULL, want);
		if (want)
			CHECK_EQ(r[i].result, 0);
	}
	r[1].ifindex = rig->ifindex_a;
	r[4].ifindex = rig->ifindex_a;
	CHECK_EQ(ops->remove(p, r, 6), 0);
	vip_port_table_clear(&t);
}

static void test_events(struct vip_port *p, struct rig *rig)
{
	struct vip_port_req r[1];
	struct vip_port_event ev;
	fill(r, 1, 0, rig->ifindex_a);
	CHECK_EQ(ops->add(p, r, 1), 0);
	CHECK(wait_event(ops, p, VIP_PORT_EV_ADDR_NEW, &r[0].addr, rig->ifindex_a, 5, &ev));
	CHECK(ev.addr.ours);
	CHECK(nstest_sh("ip -n %s addr del 198.18.0.1/15 dev va", rig->a) == 0);
	CHECK(wait_event(ops, p, VIP_PORT_EV_ADDR_DEL, &r[0].addr, rig->ifindex_a, 5, &ev));
	CHECK(ev.addr.ours);
	CHECK_EQ(ev.addr.prefix, 15);
	/* Added by someone else: not ours. */
	CHECK(nstest_sh("ip -n %s addr add 203.0.113.9/24 dev va", rig->a) == 0);
	CHECK(wait_event(ops, p, VIP_PORT_EV_ADDR_NEW, AP("203.0.113.9"), 0, 5, &ev));
	CHECK(!ev.addr.ours);

	CHECK(nstest_sh("ip -n %s link set va address 02:00:00:00:aa:01", rig->a) == 0);
	CHECK(wait_event(ops, p, VIP_PORT_EV_LINK_MAC, NULL, rig->ifindex_a, 5, &ev));
	CHECK(memcmp(ev.link.hwaddr, "\x02\x00\x00\x00\xaa\x01", 6) == 0);
	CHECK(nstest_sh("ip -n %s link set va down", rig->a) == 0);
	CHECK(wait_event(ops, p, VIP_PORT_EV_LINK_DOWN, NULL, rig->ifindex_a, 5, &ev));
	CHECK(strcmp(ev.link.ifname, "va") == 0);
	CHECK(nstest_sh("ip -n %s link set va up", rig->a) == 0);
	CHECK(wait_event(ops, p, VIP_PORT_EV_LINK_UP, NULL, rig->ifindex_a, 5, &ev));
	CHECK(nstest_sh("ip -n %s link add vx type veth peer name vy", rig->a) == 0);
	int vx = (int)if_nametoindex("vx");
	CHECK(vx > 0);
	CHECK(nstest_sh("ip -n %s link del vx", rig->a) == 0);
	CHECK(wait_event(ops, p, VIP_PORT_EV_LINK_GONE, NULL, vx, 5, &ev));
	CHECK(nstest_sh("ip -n %s addr del 203.0.113.9/24 dev va", rig->a) == 0);
	fprintf(stderr, "events: addr new/del (ours and foreign), link mac/down/up/gone\n");
}

static void test_resync(struct rig *rig)
{
	enum { N = 3000 };
	static struct vip_port_req r[N];
	struct vip_port *p;
	struct vip_port_opts o = { .monitor_rcvbuf = 4096 };
	CHECK_EQ(ops->open(&o, &p), 0);
	fill(r, N, 0, rig->ifindex_a);
	CHECK_EQ(ops->add(p, r, N), 0);
	CHECK_EQ(ops->remove(p, r, N), 0);
	struct vip_port_event ev;
	bool resync = false;
	for (int i = 0; i < 2 * N && !resync; i++) {
		int k = ops->next_event(p, &ev);
		CHECK(k >= 0);
		if (k == 0)
			break;
		resync = ev.type == VIP_PORT_EV_RESYNC_NEEDED;
	}
	CHECK(resync);
	/* After a resync the monitor keeps working. */
	CHECK(nstest_sh("ip -n %s addr add 203.0.113.10/24 dev va", rig->a) == 0);
	CHECK(wait_event(ops, p, VIP_PORT_EV_ADDR_NEW, AP("203.0.113.10"), 0, 5, NULL));
	CHECK(nstest_sh("ip -n %s addr del 203.0.113.10/24 dev va", rig->a) == 0);
	ops->close(p);
	fprintf(stderr, "resync: overrun reported as RESYNC_NEEDED\n");
}

static const struct vip_port_route *route_to(const struct vip_port_routes *t, const char *dst, unsigned len,
					     bool local_table)
{
	const struct vip_addr *d = AP(dst);
	for (size_t i = 0; i < t->n; i++)
		if (vip_addr_equal(&t->items[i].dst, d) && t->items[i].dst_len == len &&
		    t->items[i].local_table == local_table)
			return &t->items[i];
	return NULL;
}

static void test_dumps(struct vip_port *p, struct rig *rig)
{
	struct vip_port_links l = { 0 };
	struct vip_port_routes t = { 0 };
	const struct vip_port_route *r;

	CHECK(ops->dump_links(p, &l) >= 2);
	const struct vip_port_link *va = vip_port_links_find(&l, rig->ifindex_a);
	CHECK(va && strcmp(va->ifname, "va") == 0 && va->up && !va->loopback && va->hwaddr_len == 6);
	CHECK(memcmp(va->hwaddr, rig->mac_a, 6) == 0);
	bool lo = false;
	for (size_t i = 0; i < l.n; i++)
		lo |= l.items[i].loopback && strcmp(l.items[i].ifname, "lo") == 0;
	CHECK(lo);

	CHECK(nstest_sh("ip -n %s route add 203.0.113.0/24 via 198.51.100.2 && "
			"ip -n %s route add 198.18.8.0/24 dev va metric 50 && "
			"ip -n %s route add 198.18.9.0/24 dev va table 100 && "
			"ip -n %s route add local 198.18.4.0/24 dev lo && "
			"ip -n %s route add blackhole 198.18.5.0/24",
			rig->a, rig->a, rig->a, rig->a, rig->a) == 0);
	CHECK(ops->dump_routes(p, &t) > 0);
	/* connected networks, IPv4 and IPv6, in the main table */
	r = route_to(&t, "198.51.100.0", 24, false);
	CHECK(r && r->type == VIP_PORT_ROUTE_UNICAST && !r->gateway && r->ifindex == rig->ifindex_a);
	r = route_to(&t, "2001:db8:1::", 64, false);
	CHECK(r && r->type == VIP_PORT_ROUTE_UNICAST && !r->gateway && r->ifindex == rig->ifindex_a);
	/* the node's own addresses in the local table */
	r = route_to(&t, "198.51.100.1", 32, true);
	CHECK(r && r->type == VIP_PORT_ROUTE_LOCAL && r->ifindex == rig->ifindex_a);
	r = route_to(&t, "2001:db8:1::1", 128, true);
	CHECK(r && r->type == VIP_PORT_ROUTE_LOCAL);
	/* through a gateway; a metric; a local range; a blackhole; another table is left out */
	r = route_to(&t, "203.0.113.0", 24, false);
	CHECK(r && r->type == VIP_PORT_ROUTE_UNICAST && r->gateway && r->ifindex == rig->ifindex_a);
	r = route_to(&t, "198.18.8.0", 24, false);
	CHECK(r && r->metric == 50 && !r->gateway);
	r = route_to(&t, "198.18.4.0", 24, true);
	CHECK(r && r->type == VIP_PORT_ROUTE_LOCAL);
	r = route_to(&t, "198.18.5.0", 24, false);
	CHECK(r && r->type == VIP_PORT_ROUTE_OTHER);
	CHECK(!route_to(&t, "198.18.9.0", 24, false) && !route_to(&t, "198.18.9.0", 24, true));
	for (size_t i = 0; i < t.n; i++)
		CHECK(t.items[i].dst_len <= vip_addr_len(&t.items[i].dst) * 8);
	CHECK(nstest_sh("ip -n %s route del 203.0.113.0/24 && ip -n %s route del 198.18.8.0/24 && "
			"ip -n %s route del 198.18.9.0/24 table 100 && "
			"ip -n %s route del local 198.18.4.0/24 dev lo && "
			"ip -n %s route del blackhole 198.18.5.0/24",
			rig->a, rig->a, rig->a, rig->a, rig->a) == 0);
	size_t before = t.n;
	CHECK(ops->dump_routes(p, &t) > 0);
	CHECK_EQ(t.n, before - 4);
	vip_port_links_clear(&l);
	vip_port_routes_clear(&t);
	fprintf(stderr,
		"dumps: links; connected, local, gateway, metric, local range, blackhole routes; other tables left out\n");
}

static void test_flush(struct rig *rig)
{
	struct vip_port_req r[20];
	struct vip_port *p, *light_port;
	struct vip_port_table t = { 0 };
	struct vip_port_opts light = { .flags = VIP_PORT_OPEN_NO_PACKET | VIP_PORT_OPEN_NO_MONITOR };
	CHECK_EQ(ops->open(NULL, &p), 0);
	CHECK_EQ(ops->open(&light, &light_port), 0);
	CHECK_EQ(ops->event_fd(light_port), -ENOTCONN);
	struct vip_port_announce an = { .addr = addr_of("198.51.100.9"), .ifindex = rig->ifindex_a };
	CHECK_EQ(ops->announce(light_port, &an, 1, VIP_ARP_REQUEST), -ENOTCONN);
	fill(r, 15, 5, rig->ifindex_a);
	CHECK_EQ(ops->add(p, r, 20), 0);
	CHECK_EQ(ops->flush_tagged(light_port, 0), 20);
	CHECK(ops->dump(light_port, 0, &t) > 0);
	for (size_t i = 0; i < t.n; i++)
		CHECK(!t.items[i].ours);
	CHECK(vip_port_table_find(&t, AP("198.51.100.1"), 0));
	CHECK(vip_port_table_find(&t, AP("2001:db8:1::1"), 0));
	CHECK_EQ(ops->flush_tagged(light_port, 0), 0);
	vip_port_table_clear(&t);
	ops->close(light_port);
	ops->close(p);
	ops->close(NULL);
	fprintf(stderr, "flush_tagged: 20 tagged removed, own addresses kept\n");
}

int main(void)
{
	struct rig rig;
	struct vip_port *p;
	rig_up(&rig);
	ops = vip_port_native();
	CHECK_EQ(ops->open(NULL, &p), 0);
	test_batches(p, &rig);
	test_mixed(p, &rig);
	test_dumps(p, &rig);
	test_flush(&rig);
	test_events(p, &rig);
	test_resync(&rig);
	ops->close(p);
	nstest_cleanup();
	return 0;
}

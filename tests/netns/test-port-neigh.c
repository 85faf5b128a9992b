/* SPDX-License-Identifier: MIT */
/*
 * netns: the Linux port's neighbour table on a veth. Traffic to the peer
 * (IPv4 and IPv6) makes entries that come as NEIGH_NEW events with the
 * peer's MAC and a REACHABLE state, and are in dump_neigh(); an entry put
 * and deleted by hand comes as NEIGH_NEW (STALE) and NEIGH_DEL; a port
 * opened without VIP_PORT_OPEN_NEIGH gets none of these. Three entries in
 * all: the machine's neighbour table is shared.
 */
#include "test-port-lib.h"

static const struct vip_port_ops *ops;

/* The next NEIGH event about addr within timeout_s, of type (and state unless -1). */
static bool wait_neigh(struct vip_port *p, enum vip_port_event_type type, const struct vip_addr *addr,
		       int state, double timeout_s, struct vip_port_neigh *ret)
{
	double end = now_s() + timeout_s;
	int fd = ops->event_fd(p);

	for (int i = 0; i < 100000 && now_s() < end; i++) {
		struct vip_port_event ev;
		int r = ops->next_event(p, &ev);
		CHECK(r >= 0);
		if (r == 0) {
			struct pollfd pfd = { fd, POLLIN, 0 };
			(void)poll(&pfd, 1, 50);
			continue;
		}
		if (ev.type != type || !vip_addr_equal(&ev.neigh.addr, addr) ||
		    (state >= 0 && ev.neigh.state != (enum vip_port_neigh_state)state))
			continue;
		CHECK_EQ(ev.ifindex, ev.neigh.ifindex);
		if (ret)
			*ret = ev.neigh;
		return true;
	}
	return false;
}

/* A UDP datagram from a to addr: the kernel resolves the peer first. */
static void poke(const char *addr)
{
	struct vip_addr a = addr_of(addr);
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd = socket(a.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	CHECK(fd >= 0);
	if (a.family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		*s4 = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(9) };
		memcpy(&s4->sin_addr, a.bytes, 4);
		len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		*s6 = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = htons(9) };
		memcpy(&s6->sin6_addr, a.bytes, 16);
		len = sizeof(*s6);
	}
	CHECK(sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len) == 1);
	close(fd);
}

static const struct vip_port_neigh *find(const struct vip_port_neighs *t, const char *addr)
{
	struct vip_addr a = addr_of(addr);

	for (size_t i = 0; i < t->n; i++)
		if (vip_addr_equal(&t->items[i].addr, &a))
			return &t->items[i];
	return NULL;
}

int main(void)
{
	struct rig rig;
	struct vip_port *p, *plain;
	struct vip_port_opts o = { .flags = VIP_PORT_OPEN_NEIGH | VIP_PORT_OPEN_NO_PACKET };
	struct vip_port_opts po = { .flags = VIP_PORT_OPEN_NO_PACKET };
	struct vip_port_neighs t = { 0 };
	struct vip_port_neigh n;
	uint8_t mac_b[6];

	rig_up(&rig);
	read_mac(rig.b, "vb", mac_b);
	ops = vip_port_native();
	CHECK_EQ(ops->open(&o, &p), 0);
	CHECK_EQ(ops->open(&po, &plain), 0);
	CHECK(ops->dump_neigh(p, &t) >= 0); /* a fresh namespace has not met the peer */
	CHECK(!find(&t, "198.51.100.2") && !find(&t, "2001:db8:1::2"));

	double t0 = now_s();
	poke("198.51.100.2");
	CHECK(wait_neigh(p, VIP_PORT_EV_NEIGH_NEW, AP("198.51.100.2"), VIP_PORT_NEIGH_REACHABLE, 3, &n));
	fprintf(stderr, "IPv4 peer resolved: REACHABLE event %.0f ms after the first datagram\n",
		(now_s() - t0) * 1000);
	CHECK_EQ(n.ifindex, rig.ifindex_a);
	CHECK_EQ(n.hwaddr_len, 6);
	CHECK(memcmp(n.hwaddr, mac_b, 6) == 0);
	CHECK(n.age_ms < 2000);

	poke("2001:db8:1::2");
	CHECK(wait_neigh(p, VIP_PORT_EV_NEIGH_NEW, AP("2001:db8:1::2"), VIP_PORT_NEIGH_REACHABLE, 3, &n));
	CHECK(memcmp(n.hwaddr, mac_b, 6) == 0);

	CHECK(nstest_sh("ip -n %s neigh replace 198.51.100.99 lladdr 02:00:00:00:00:99 dev va nud stale",
			rig.a) == 0);
	CHECK(wait_neigh(p, VIP_PORT_EV_NEIGH_NEW, AP("198.51.100.99"), VIP_PORT_NEIGH_STALE, 3, &n));
	CHECK_EQ(n.hwaddr[5], 0x99);

	CHECK_EQ(ops->dump_neigh(p, &t), (int)t.n);
	CHECK(t.n >= 3);
	const struct vip_port_neigh *d = find(&t, "198.51.100.2");
	CHECK(d && d->ifindex == rig.ifindex_a && memcmp(d->hwaddr, mac_b, 6) == 0);
	CHECK(d->state == VIP_PORT_NEIGH_REACHABLE || d->state == VIP_PORT_NEIGH_STALE ||
	      d->state == VIP_PORT_NEIGH_DELAY);
	CHECK(find(&t, "2001:db8:1::2"));
	d = find(&t, "198.51.100.99");
	CHECK(d && d->state == VIP_PORT_NEIGH_STALE);
	fprintf(stderr, "dump: %zu entries\n", t.n);

	CHECK(nstest_sh("ip -n %s neigh del 198.51.100.99 dev va", rig.a) == 0);
	CHECK(wait_neigh(p, VIP_PORT_EV_NEIGH_DEL, AP("198.51.100.99"), -1, 3, NULL));

	/* the port without the flag saw address and link events only */
	struct vip_port_event ev;
	for (int i = 0; i < 10000 && ops->next_event(plain, &ev) == 1; i++)
		CHECK(ev.type != VIP_PORT_EV_NEIGH_NEW && ev.type != VIP_PORT_EV_NEIGH_DEL);
	fprintf(stderr, "events: NEW (IPv4, IPv6, by hand), DEL; none without VIP_PORT_OPEN_NEIGH\n");

	vip_port_neighs_clear(&t);
	ops->close(plain);
	ops->close(p);
	nstest_cleanup();
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * The port's neighbour table: the fake port (put, replace, delete, dump,
 * events) and, on Linux, RTM_NEWNEIGH / RTM_DELNEIGH as the kernel sends
 * them decoded into entries and events (states, MAC, the age from the cache
 * times, bridge and proxy entries left out, malformed ones refused) and the
 * dump request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "port-linux-internal.h"

static struct vip_addr A(const char *s) {
	struct vip_addr a;

	assert_int_equal(vip_addr_from_string(s, &a), 0);
	return a;
}

static void
test_fake(void **state)
{
	(void)state;
	struct vip_port *p = NULL;
	struct vip_port_neighs t = { 0 };
	struct vip_port_event ev;
	struct vip_port_neigh n = { .addr = A("198.51.100.9"),
				    .ifindex = 2,
				    .state = VIP_PORT_NEIGH_REACHABLE,
				    .hwaddr = { 2, 0, 0, 0, 0, 9 },
				    .hwaddr_len = 6 };

	assert_int_equal(vip_port_fake_ops.open(NULL, &p), 0);
	assert_int_equal(vip_port_fake_ops.dump_neigh(p, &t), 0);
	assert_int_equal(vip_port_fake_put_neigh(p, &n), 0);
	n.state = VIP_PORT_NEIGH_STALE; /* the same entry, changed */
	assert_int_equal(vip_port_fake_put_neigh(p, &n), 0);
	assert_int_equal(vip_port_fake_ops.dump_neigh(p, &t), 1);
	assert_int_equal(t.items[0].state, VIP_PORT_NEIGH_STALE);
	assert_int_equal(vip_port_fake_ops.next_event(p, &ev), 1);
	assert_int_equal(ev.type, VIP_PORT_EV_NEIGH_NEW);
	assert_int_equal(ev.neigh.state, VIP_PORT_NEIGH_REACHABLE);
	assert_int_equal(vip_port_fake_ops.next_event(p, &ev), 1);
	assert_int_equal(ev.neigh.state, VIP_PORT_NEIGH_STALE);
	assert_int_equal(vip_port_fake_del_neigh(p, &n.addr, 2), 0);
	assert_int_equal(vip_port_fake_del_neigh(p, &n.addr, 2), -ENOENT);
	assert_int_equal(vip_port_fake_ops.next_event(p, &ev), 1);
	assert_int_equal(ev.type, VIP_PORT_EV_NEIGH_DEL);
	assert_int_equal(ev.ifindex, 2);
	assert_true(vip_addr_equal(&ev.neigh.addr, &n.addr));
	assert_int_equal(vip_port_fake_ops.next_event(p, &ev), 0);
	assert_int_equal(vip_port_fake_ops.dump_neigh(p, &t), 0);
	vip_port_fake_fail_calls(p, -EIO, 1);
	assert_int_equal(vip_port_fake_ops.dump_neigh(p, &t), -EIO);
	struct vip_port_fake_stats st;
	vip_port_fake_get_stats(p, &st);
	assert_int_equal(st.dump_neigh_calls, 4);
	assert_string_equal(vip_port_event_type_to_string(VIP_PORT_EV_NEIGH_NEW), "neigh-new");
	assert_int_equal(vip_port_event_type_from_string("neigh-del"), VIP_PORT_EV_NEIGH_DEL);
	assert_string_equal(vip_port_neigh_state_to_string(VIP_PORT_NEIGH_PROBE), "probe");
	assert_null(vip_port_neigh_state_to_string(_VIP_PORT_NEIGH_STATE_MAX));
	vip_port_neighs_clear(&t);
	vip_port_fake_ops.close(p);
}

static uint8_t buf[1024] __attribute__((aligned(4)));

/* An RTM_NEWNEIGH (or DEL) as the kernel sends it; mac_len 0: none; ci NULL: no cache info. */
static struct nlmsghdr *neigh_msg(uint16_t type, int family, const char *ip, uint16_t nud, uint8_t flags,
				  size_t mac_len, const struct nda_cacheinfo *ci)
{
	struct vip_addr a = A(ip);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *ndm;

	nlh->nlmsg_type = type;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = (uint8_t)family;
	ndm->ndm_ifindex = 4;
	ndm->ndm_state = nud;
	ndm->ndm_flags = flags;
	mnl_attr_put(nlh, NDA_DST, vip_addr_len(&a), a.bytes);
	if (mac_len)
		mnl_attr_put(nlh, NDA_LLADDR, mac_len, (uint8_t[]){ 2, 1, 2, 3, 4, 5, 6, 7 });
	if (ci)
		mnl_attr_put(nlh, NDA_CACHEINFO, sizeof(*ci), ci);
	return nlh;
}

static void test_parse(void **state)
{
	(void)state;
	struct vip_port_neigh n;
	long hz = sysconf(_SC_CLK_TCK);
	struct nda_cacheinfo ci = { .ndm_confirmed = (uint32_t)(3 * hz), .ndm_used = (uint32_t)(7 * hz) };

	assert_int_equal(vip_nl_parse_neigh(neigh_msg(RTM_NEWNEIGH, AF_INET, "198.51.100.4", NUD_REACHABLE, 0,
						      6, &ci),
					    &n),
			 0);
	assert_true(vip_addr_equal(&n.addr,
				   &(struct vip_addr){ .family = AF_INET, .bytes = { 198, 51, 100, 4 } }));
	assert_int_equal(n.ifindex, 4);
	assert_int_equal(n.state, VIP_PORT_NEIGH_REACHABLE);
	assert_int_equal(n.hwaddr_len, 6);
	assert_memory_equal(n.hwaddr, ((uint8_t[]){ 2, 1, 2, 3, 4, 5 }), 6);
	assert_int_equal(n.age_ms, 3000); /* the more recent of confirmed and used */
	assert_false(n.router);

	const struct {
		uint16_t nud;
		enum vip_port_neigh_state st;
	} states[] = {
		{ NUD_STALE, VIP_PORT_NEIGH_STALE },     { NUD_DELAY, VIP_PORT_NEIGH_DELAY },
		{ NUD_PROBE, VIP_PORT_NEIGH_PROBE },     { NUD_INCOMPLETE, VIP_PORT_NEIGH_INCOMPLETE },
		{ NUD_FAILED, VIP_PORT_NEIGH_FAILED },   { NUD_NOARP, VIP_PORT_NEIGH_OTHER },
		{ NUD_PERMANENT, VIP_PORT_NEIGH_OTHER }, { NUD_NONE, VIP_PORT_NEIGH_OTHER },
	};
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		assert_int_equal(vip_nl_parse_neigh(neigh_msg(RTM_NEWNEIGH, AF_INET6, "2001:db8::4",
							      states[i].nud, NTF_ROUTER, 0, NULL),
						    &n),
				 0);
		assert_int_equal(n.state, states[i].st);
		assert_int_equal(n.hwaddr_len, 0);
		assert_int_equal(n.age_ms, 0);
		assert_true(n.router);
	}
	/* bridge forwarding and proxy entries are not hosts we talk to */
	assert_int_equal(vip_nl_parse_neigh(neigh_msg(RTM_NEWNEIGH, AF_BRIDGE, "198.51.100.4", NUD_REACHABLE,
						      0, 6, NULL),
					    &n),
			 -EAFNOSUPPORT);
	assert_int_equal(vip_nl_parse_neigh(neigh_msg(RTM_NEWNEIGH, AF_INET, "198.51.100.4", NUD_REACHABLE,
						      NTF_PROXY, 0, NULL),
					    &n),
			 -EAFNOSUPPORT);
	/* an IPv6 address in an IPv4 entry, a MAC too long, another message type */
	assert_int_equal(vip_nl_parse_neigh(neigh_msg(RTM_NEWNEIGH, AF_INET, "2001:db8::4", NUD_STALE, 0, 6,
						      NULL),
					    &n),
			 -EBADMSG);
	struct nlmsghdr *nlh = neigh_msg(RTM_NEWNEIGH, AF_INET, "198.51.100.4", NUD_STALE, 0, 0, NULL);
	mnl_attr_put(nlh, NDA_LLADDR, 20, (uint8_t[20]){ 0 });
	assert_int_equal(vip_nl_parse_neigh(nlh, &n), -EBADMSG);
	nlh = neigh_msg(RTM_NEWNEIGH, AF_INET, "198.51.100.4", NUD_STALE, 0, 6, NULL);
	nlh->nlmsg_type = RTM_NEWADDR;
	assert_int_equal(vip_nl_parse_neigh(nlh, &n), -EBADMSG);
}

static void test_events_and_request(void **state)
{
	(void)state;
	struct vip_port p = { 0 };

	assert_int_equal(vip_nl_event_from_msg(&p, neigh_msg(RTM_NEWNEIGH, AF_INET, "198.51.100.4", NUD_STALE,
							     0, 6, NULL)),
			 0);
	assert_int_equal(vip_nl_event_from_msg(&p, neigh_msg(RTM_DELNEIGH, AF_INET, "198.51.100.4", NUD_STALE,
							     0, 6, NULL)),
			 0);
	assert_int_equal(vip_nl_event_from_msg(&p, neigh_msg(RTM_NEWNEIGH, AF_BRIDGE, "198.51.100.4",
							     NUD_STALE, 0, 6, NULL)),
			 0);
	assert_int_equal(p.n_pending, 2);
	assert_int_equal(p.pending[0].type, VIP_PORT_EV_NEIGH_NEW);
	assert_int_equal(p.pending[0].ifindex, 4);
	assert_int_equal(p.pending[0].neigh.state, VIP_PORT_NEIGH_STALE);
	assert_int_equal(p.pending[1].type, VIP_PORT_EV_NEIGH_DEL);

	vip_nl_put_dump((struct nlmsghdr *)buf, RTM_GETNEIGH, AF_INET6, 42);
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	assert_int_equal(nlh->nlmsg_type, RTM_GETNEIGH);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
	assert_int_equal(nlh->nlmsg_seq, 42);
	assert_int_equal(nlh->nlmsg_len, mnl_nlmsg_size(sizeof(struct ndmsg)));
	assert_int_equal(((struct ndmsg *)mnl_nlmsg_get_payload(nlh))->ndm_family, AF_INET6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fake),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_events_and_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * Unit: the Linux port's rtnetlink messages in memory. Requests are built
 * into a buffer and parsed back attribute by attribute; canned kernel
 * replies (ACKs, extended-ACK errors, addresses, links, routes) are decoded; monitor
 * messages become the expected events.
 */
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/netconf.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "port-linux-internal.h"

static uint8_t buf[4096] __attribute__((aligned(4)));

static struct vip_addr A(const char *s) {
	struct vip_addr a;
	assert_int_equal(vip_addr_from_string(s, &a), 0);
	return a;
}

struct tb {
	const struct nlattr *a[IFA_MAX + 1];
	unsigned count;
};

static int cb(const struct nlattr *attr, void *data)
{
	struct tb *t = data;
	assert_true(mnl_attr_get_type(attr) <= IFA_MAX);
	assert_null(t->a[mnl_attr_get_type(attr)]); /* each attribute once */
	t->a[mnl_attr_get_type(attr)] = attr;
	t->count++;
	return MNL_CB_OK;
}

static const struct ifaddrmsg *parse_req(struct nlmsghdr *nlh, struct tb *t)
{
	memset(t, 0, sizeof(*t));
	assert_true(mnl_nlmsg_ok(nlh, (int)sizeof(buf)));
	assert_true(nlh->nlmsg_len <= VIP_NL_ADDR_MSG_MAX);
	assert_int_equal(mnl_attr_parse(nlh, sizeof(struct ifaddrmsg), cb, t), MNL_CB_OK);
	return mnl_nlmsg_get_payload(nlh);
}

static void test_add_ipv4(void **state)
{
	(void)state;
	struct vip_port_req r = { .addr = A("198.51.100.7"), .prefix = 24, .ifindex = 5, .label = "eth0:dv" };
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct tb t;
	vip_nl_put_addr_req(nlh, RTM_NEWADDR, 1234, &r);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWADDR);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
	assert_int_equal(nlh->nlmsg_seq, 1234);
	const struct ifaddrmsg *ifa = parse_req(nlh, &t);
	assert_int_equal(ifa->ifa_family, AF_INET);
	assert_int_equal(ifa->ifa_prefixlen, 24);
	assert_int_equal(ifa->ifa_index, 5);
	assert_int_equal(t.count, 5);
	assert_memory_equal(mnl_attr_get_payload(t.a[IFA_LOCAL]), &r.addr.v4, 4);
	assert_memory_equal(mnl_attr_get_payload(t.a[IFA_ADDRESS]), &r.addr.v4, 4);
	uint32_t b;
	inet_pton(AF_INET, "198.51.100.255", &b);
	assert_int_equal(mnl_attr_get_u32(t.a[IFA_BROADCAST]), b);
	assert_string_equal(mnl_attr_get_str(t.a[IFA_LABEL]), "eth0:dv");
	assert_int_equal(mnl_attr_get_u8(t.a[IFA_PROTO]), VIP_PORT_IFA_PROTO);
	assert_null(t.a[IFA_FLAGS]);

	/* And back: the request parses as the address it adds. */
	struct vip_port_addr a;
	assert_int_equal(vip_nl_parse_addr(nlh, &a), 0);
	assert_true(vip_addr_equal(&a.addr, &r.addr));
	assert_int_equal(a.prefix, 24);
	assert_int_equal(a.ifindex, 5);
	assert_string_equal(a.label, "eth0:dv");
	assert_int_equal(a.proto, VIP_PORT_IFA_PROTO);
	assert_true(a.ours);

	/* /31 and /32 have no broadcast; no label means no IFA_LABEL. */
	r.prefix = 32;
	r.label[0] = '\0';
	vip_nl_put_addr_req(nlh, RTM_NEWADDR, 1, &r);
	parse_req(nlh, &t);
	assert_null(t.a[IFA_BROADCAST]);
	assert_null(t.a[IFA_LABEL]);
	r.prefix = 31;
	vip_nl_put_addr_req(nlh, RTM_NEWADDR, 1, &r);
	parse_req(nlh, &t);
	assert_null(t.a[IFA_BROADCAST]);
	r.prefix = 0;
	vip_nl_put_addr_req(nlh, RTM_NEWADDR, 1, &r);
	parse_req(nlh, &t);
	assert_int_equal(mnl_attr_get_u32(t.a[IFA_BROADCAST]), 0xffffffff);
}

static void test_add_ipv6(void **state)
{
	(void)state;
	struct vip_port_req r = { .addr = A("2001:db8::9"), .prefix = 64, .ifindex = 3, .label = "eth0:dv" };
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct tb t;
	vip_nl_put_addr_req(nlh, RTM_NEWADDR, 7, &r);
	const struct ifaddrmsg *ifa = parse_req(nlh, &t);
	assert_int_equal(ifa->ifa_family, AF_INET6);
	assert_int_equal(ifa->ifa_prefixlen, 64);
	assert_int_equal(ifa->ifa_flags, IFA_F_NODAD);
	assert_int_equal(mnl_attr_get_u32(t.a[IFA_FLAGS]), IFA_F_NODAD);
	assert_memory_equal(mnl_attr_get_payload(t.a[IFA_LOCAL]), &r.addr.v6, 16);
	assert_memory_equal(mnl_attr_get_payload(t.a[IFA_ADDRESS]), &r.addr.v6, 16);
	assert_null(t.a[IFA_LABEL]); /* IPv6 has no labels */
	assert_null(t.a[IFA_BROADCAST]);
	assert_int_equal(mnl_attr_get_u8(t.a[IFA_PROTO]), VIP_PORT_IFA_PROTO);
	struct vip_port_addr a;
	assert_int_equal(vip_nl_parse_addr(nlh, &a), 0);
	assert_true(a.flags & VIP_PORT_ADDR_NODAD);
	assert_true(vip_addr_equal(&a.addr, &r.addr));
}

static void test_del(void **state)
{
	(void)state;
	struct vip_port_req r = { .addr = A("198.51.100.7"), .prefix = 24, .ifindex = 5, .label = "eth0:dv" };
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct tb t;
	vip_nl_put_addr_req(nlh, RTM_DELADDR, 9, &r);
	assert_int_equal(nlh->nlmsg_type, RTM_DELADDR);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	parse_req(nlh, &t);
	/* Only IFA_LOCAL: the kernel then matches any prefix and label. */
	assert_int_equal(t.count, 1);
	assert_non_null(t.a[IFA_LOCAL]);

	vip_nl_put_addr_dump(nlh, 11);
	assert_int_equal(nlh->nlmsg_type, RTM_GETADDR);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
	assert_int_equal(nlh->nlmsg_seq, 11);
}

/* A kernel ACK: nlmsgerr, optionally capped, optionally with TLVs. */
static struct nlmsghdr *put_ack(int error, bool capped, const char *msg)
{
	memset(buf, 0, sizeof(buf));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = 42;
	struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = error;
	e->msg.nlmsg_type = RTM_NEWADDR;
	e->msg.nlmsg_seq = 42;
	e->msg.nlmsg_len = sizeof(struct nlmsghdr) + 24;
	if (capped)
		nlh->nlmsg_flags |= NLM_F_CAPPED;
	else
		mnl_nlmsg_put_extra_header(nlh, 24); /* the echoed request's payload */
	if (msg) {
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, msg);
		mnl_attr_put_u32(nlh, NLMSGERR_ATTR_OFFS, 16);
	}
	return nlh;
}

static void test_acks(void **state)
{
	(void)state;
	char msg[VIP_PORT_ERRMSG_MAX];
	int err = 1;
	assert_int_equal(vip_nl_parse_ack(put_ack(0, true, NULL), &err, msg, sizeof(msg)), 0);
	assert_int_equal(err, 0);
	assert_string_equal(msg, "");

	assert_int_equal(vip_nl_parse_ack(put_ack(-ENODEV, true, "ipv4: Device not found"), &err, msg,
					  sizeof(msg)),
			 0);
	assert_int_equal(err, -ENODEV);
	assert_string_equal(msg, "ipv4: Device not found");

	assert_int_equal(vip_nl_parse_ack(put_ack(-EINVAL, false, "Invalid prefix"), &err, msg, sizeof(msg)),
			 0);
	assert_int_equal(err, -EINVAL);
	assert_string_equal(msg, "Invalid prefix");

	/* Text longer than the caller's room is cut, still terminated. */
	char small[8];
	assert_int_equal(vip_nl_parse_ack(put_ack(-EINVAL, true, "a long message"), &err, small,
					  sizeof(small)),
			 0);
	assert_string_equal(small, "a long ");

	/* Broken ones. */
	struct nlmsghdr *nlh = put_ack(5, true, NULL);
	assert_int_equal(vip_nl_parse_ack(nlh, &err, msg, sizeof(msg)), -EBADMSG);
	nlh = put_ack(-1, true, NULL);
	nlh->nlmsg_len = sizeof(struct nlmsghdr) + 2;
	assert_int_equal(vip_nl_parse_ack(nlh, &err, msg, sizeof(msg)), -EBADMSG);
	nlh = put_ack(-1, false, "x");
	((struct nlmsgerr *)mnl_nlmsg_get_payload(nlh))->msg.nlmsg_len = 4000;
	assert_int_equal(vip_nl_parse_ack(nlh, &err, msg, sizeof(msg)), -EBADMSG);
	nlh = put_ack(0, true, NULL);
	nlh->nlmsg_type = RTM_NEWADDR;
	assert_int_equal(vip_nl_parse_ack(nlh, &err, msg, sizeof(msg)), -EBADMSG);

	assert_true(vip_nl_is_benign(RTM_NEWADDR, -EEXIST));
	assert_false(vip_nl_is_benign(RTM_NEWADDR, -EADDRNOTAVAIL));
	assert_true(vip_nl_is_benign(RTM_DELADDR, -EADDRNOTAVAIL));
	assert_true(vip_nl_is_benign(RTM_DELADDR, -ENODEV));
	assert_false(vip_nl_is_benign(RTM_DELADDR, -EPERM));
}

/* RTM_NEWADDR as the kernel reports one: IPv6 with IFA_ADDRESS only, IFA_FLAGS, foreign proto. */
static struct nlmsghdr *put_kernel_addr(uint16_t type, int family, const char *ip, uint8_t proto)
{
	memset(buf, 0, sizeof(buf));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = family == AF_INET ? 24 : 64;
	ifa->ifa_flags = IFA_F_SECONDARY;
	ifa->ifa_index = 4;
	struct vip_addr a = A(ip);
	mnl_attr_put(nlh, IFA_ADDRESS, vip_addr_len(&a), a.bytes);
	mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_PERMANENT | IFA_F_TENTATIVE | IFA_F_SECONDARY);
	if (proto)
		mnl_attr_put_u8(nlh, IFA_PROTO, proto);
	return nlh;
}

static void test_parse_addr(void **state)
{
	(void)state;
	struct vip_port_addr a;
	assert_int_equal(vip_nl_parse_addr(put_kernel_addr(RTM_NEWADDR, AF_INET6, "2001:db8::5", 3), &a), 0);
	assert_true(vip_addr_equal(&a.addr, &(struct vip_addr){ 0 }) == false);
	assert_int_equal(a.prefix, 64);
	assert_int_equal(a.ifindex, 4);
	assert_int_equal(a.flags,
			 VIP_PORT_ADDR_PERMANENT | VIP_PORT_ADDR_TENTATIVE | VIP_PORT_ADDR_SECONDARY);
	assert_int_equal(a.proto, 3);
	assert_false(a.ours);
	assert_string_equal(a.label, "");

	/* A family vipd does not handle, and malformed ones. */
	struct nlmsghdr *nlh = put_kernel_addr(RTM_NEWADDR, AF_INET, "198.51.100.1", 0);
	((struct ifaddrmsg *)mnl_nlmsg_get_payload(nlh))->ifa_family = AF_PACKET;
	assert_int_equal(vip_nl_parse_addr(nlh, &a), -EAFNOSUPPORT);
	nlh = put_kernel_addr(RTM_NEWADDR, AF_INET, "198.51.100.1", 0);
	((struct ifaddrmsg *)mnl_nlmsg_get_payload(nlh))->ifa_prefixlen = 33;
	assert_int_equal(vip_nl_parse_addr(nlh, &a), -EBADMSG);
	nlh = put_kernel_addr(RTM_NEWADDR, AF_INET, "2001:db8::1", 0); /* 16 bytes on AF_INET */
	assert_int_equal(vip_nl_parse_addr(nlh, &a), -EBADMSG);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	assert_int_equal(vip_nl_parse_addr(nlh, &a), -EBADMSG);
	nlh = put_kernel_addr(RTM_NEWADDR, AF_INET, "198.51.100.1", 0);
	nlh->nlmsg_type = RTM_NEWLINK; /* not an address message */
	assert_int_equal(vip_nl_parse_addr(nlh, &a), -EBADMSG);
}

static struct nlmsghdr *put_link(uint16_t type, int family, unsigned flags, const uint8_t mac[6])
{
	memset(buf, 0, sizeof(buf));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = (uint8_t)family;
	ifi->ifi_index = 4;
	ifi->ifi_flags = flags;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth1");
	mnl_attr_put_u32(nlh, IFLA_MTU, 9000);
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	return nlh;
}

static const uint8_t mac1[6] = { 2, 0, 0, 0, 0, 1 }, mac2[6] = { 2, 0, 0, 0, 0, 2 };

static void test_parse_link(void **state)
{
	(void)state;
	struct vip_port_link l;
	assert_int_equal(vip_nl_parse_link(put_link(RTM_NEWLINK, AF_UNSPEC, IFF_UP | IFF_RUNNING | IFF_NOARP,
						    mac1),
					   &l),
			 0);
	assert_int_equal(l.ifindex, 4);
	assert_string_equal(l.ifname, "eth1");
	assert_int_equal(l.mtu, 9000);
	assert_true(l.up);
	assert_true(l.noarp);
	assert_false(l.loopback);
	assert_int_equal(l.hwaddr_len, 6);
	assert_memory_equal(l.hwaddr, mac1, 6);
	assert_int_equal(vip_nl_parse_link(put_link(RTM_NEWLINK, AF_UNSPEC, IFF_UP, mac1), &l), 0);
	assert_false(l.up); /* up without carrier is down */
	assert_int_equal(vip_nl_parse_link(put_link(RTM_NEWLINK, AF_BRIDGE, IFF_UP, mac1), &l),
			 -EAFNOSUPPORT);
	assert_int_equal(vip_nl_parse_link(put_link(RTM_NEWADDR, AF_UNSPEC, IFF_UP, mac1), &l), -EBADMSG);
}

static int next(struct vip_port *p, struct vip_port_event *ev)
{
	if (p->pending_pos == p->n_pending) {
		p->n_pending = p->pending_pos = 0;
		return 0;
	}
	*ev = p->pending[p->pending_pos++];
	return 1;
}

/* A canned RTM_NEWROUTE: family, dst/len, table, type, then optional attributes. */
static struct nlmsghdr *route_msg(int family, const char *dst, unsigned len, unsigned table,
				  unsigned char type)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)family;
	rtm->rtm_dst_len = (unsigned char)len;
	rtm->rtm_table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC;
	rtm->rtm_type = type;
	if (table >= 256)
		mnl_attr_put_u32(nlh, RTA_TABLE, table);
	if (dst) {
		struct vip_addr a = A(dst);
		mnl_attr_put(nlh, RTA_DST, vip_addr_len(&a), a.bytes);
	}
	return nlh;
}

static void test_parse_route(void **state)
{
	(void)state;
	struct vip_port_route r;
	struct nlmsghdr *nlh;

	/* connected: 198.51.100.0/24 dev 2 metric 7, host bits in RTA_DST cleared */
	nlh = route_msg(AF_INET, "198.51.100.9", 24, RT_TABLE_MAIN, RTN_UNICAST);
	mnl_attr_put_u32(nlh, RTA_OIF, 2);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, 7);
	assert_int_equal(vip_nl_parse_route(nlh, &r), 0);
	assert_true(vip_addr_equal(&r.dst,
				   &(struct vip_addr){ .family = AF_INET, .v4.s_addr = htonl(0xc6336400) }));
	assert_int_equal(r.dst_len, 24);
	assert_int_equal(r.type, VIP_PORT_ROUTE_UNICAST);
	assert_false(r.local_table);
	assert_false(r.gateway);
	assert_int_equal(r.ifindex, 2);
	assert_int_equal(r.metric, 7);

	/* default route through a gateway (no RTA_DST) */
	nlh = route_msg(AF_INET, NULL, 0, RT_TABLE_MAIN, RTN_UNICAST);
	struct vip_addr gw = A("198.51.100.254");
	mnl_attr_put(nlh, RTA_GATEWAY, 4, gw.bytes);
	mnl_attr_put_u32(nlh, RTA_OIF, 2);
	assert_int_equal(vip_nl_parse_route(nlh, &r), 0);
	assert_int_equal(r.dst_len, 0);
	assert_true(r.gateway);

	/* IPv6 local route; the table in RTA_TABLE wins over rtm_table */
	nlh = route_msg(AF_INET6, "2001:db8::1", 128, RT_TABLE_LOCAL, RTN_LOCAL);
	assert_int_equal(vip_nl_parse_route(nlh, &r), 0);
	assert_true(r.local_table);
	assert_int_equal(r.type, VIP_PORT_ROUTE_LOCAL);
	nlh = route_msg(AF_INET, "198.51.100.0", 24, 1000, RTN_UNICAST);
	assert_int_equal(vip_nl_parse_route(nlh, &r), -EAFNOSUPPORT); /* another table */

	/* broadcast, multipath: no single link */
	nlh = route_msg(AF_INET, "198.51.100.255", 32, RT_TABLE_LOCAL, RTN_BROADCAST);
	assert_int_equal(vip_nl_parse_route(nlh, &r), 0);
	assert_int_equal(r.type, VIP_PORT_ROUTE_OTHER);
	nlh = route_msg(AF_INET, "203.0.113.0", 24, RT_TABLE_MAIN, RTN_UNICAST);
	mnl_attr_put_u32(nlh, RTA_OIF, 2);
	mnl_attr_put(nlh, RTA_MULTIPATH, 0, NULL);
	assert_int_equal(vip_nl_parse_route(nlh, &r), 0);
	assert_int_equal(r.ifindex, 0);

	/* refused: a cached clone, another family, a bad length, a short RTA_DST, no RTA_DST */
	nlh = route_msg(AF_INET, "198.51.100.0", 24, RT_TABLE_MAIN, RTN_UNICAST);
	((struct rtmsg *)mnl_nlmsg_get_payload(nlh))->rtm_flags = RTM_F_CLONED;
	assert_int_equal(vip_nl_parse_route(nlh, &r), -EAFNOSUPPORT);
	nlh = route_msg(AF_PACKET, NULL, 0, RT_TABLE_MAIN, RTN_UNICAST);
	assert_int_equal(vip_nl_parse_route(nlh, &r), -EAFNOSUPPORT);
	nlh = route_msg(AF_INET, "198.51.100.0", 33, RT_TABLE_MAIN, RTN_UNICAST);
	assert_int_equal(vip_nl_parse_route(nlh, &r), -EBADMSG);
	nlh = route_msg(AF_INET6, NULL, 64, RT_TABLE_MAIN, RTN_UNICAST);
	assert_int_equal(vip_nl_parse_route(nlh, &r), -EBADMSG);
	struct vip_addr four = A("198.51.100.0");
	mnl_attr_put(nlh, RTA_DST, 4, four.bytes);
	assert_int_equal(vip_nl_parse_route(nlh, &r), -EBADMSG);
	nlh = route_msg(AF_INET, "198.51.100.0", 24, RT_TABLE_MAIN, RTN_UNICAST);
	nlh->nlmsg_type = RTM_NEWADDR;
	assert_int_equal(vip_nl_parse_route(nlh, &r), -EBADMSG);

	/* the dump requests */
	vip_nl_put_dump((struct nlmsghdr *)buf, RTM_GETROUTE, AF_INET6, 9);
	nlh = (struct nlmsghdr *)buf;
	assert_int_equal(nlh->nlmsg_type, RTM_GETROUTE);
	assert_true(nlh->nlmsg_flags & NLM_F_DUMP);
	assert_int_equal(nlh->nlmsg_seq, 9);
	assert_int_equal(((struct rtmsg *)mnl_nlmsg_get_payload(nlh))->rtm_family, AF_INET6);
	vip_nl_put_dump((struct nlmsghdr *)buf, RTM_GETLINK, AF_UNSPEC, 10);
	assert_int_equal(nlh->nlmsg_len, mnl_nlmsg_size(sizeof(struct ifinfomsg)));
}

static void test_events(void **state)
{
	(void)state;
	struct vip_port p = { 0 };
	struct vip_port_event ev;

	/* First sight of a link: its state. */
	assert_int_equal(vip_nl_event_from_msg(&p,
					       put_link(RTM_NEWLINK, AF_UNSPEC, IFF_UP | IFF_RUNNING, mac1)),
			 0);
	assert_int_equal(next(&p, &ev), 1);
	assert_int_equal(ev.type, VIP_PORT_EV_LINK_UP);
	assert_int_equal(ev.ifindex, 4);
	assert_int_equal(next(&p, &ev), 0);
	/* The same state again: no event. */
	assert_int_equal(vip_nl_event_from_msg(&p,
					       put_link(RTM_NEWLINK, AF_UNSPEC, IFF_UP | IFF_RUNNING, mac1)),
			 0);
	assert_int_equal(next(&p, &ev), 0);
	/* MAC change and down together: two events. */
	assert_int_equal(vip_nl_event_from_msg(&p, put_link(RTM_NEWLINK, AF_UNSPEC, 0, mac2)), 0);
	assert_int_equal(next(&p, &ev), 1);
	assert_int_equal(ev.type, VIP_PORT_EV_LINK_MAC);
	assert_memory_equal(ev.link.hwaddr, mac2, 6);
	assert_int_equal(next(&p, &ev), 1);
	assert_int_equal(ev.type, VIP_PORT_EV_LINK_DOWN);
	assert_int_equal(next(&p, &ev), 0);
	/* Bridge port messages are not link changes. */
	assert_int_equal(vip_nl_event_from_msg(&p, put_link(RTM_DELLINK, AF_BRIDGE, 0, mac2)), 0);
	assert_int_equal(next(&p, &ev), 0);
	assert_int_equal(vip_nl_event_from_msg(&p, put_link(RTM_DELLINK, AF_UNSPEC, 0, mac2)), 0);
	assert_int_equal(next(&p, &ev), 1);
	assert_int_equal(ev.type, VIP_PORT_EV_LINK_GONE);
	assert_string_equal(ev.link.ifname, "eth1");
	assert_int_equal(p.n_links, 0);

	assert_int_equal(vip_nl_event_from_msg(&p, put_kernel_addr(RTM_DELADDR, AF_INET, "198.51.100.3",
								   VIP_PORT_IFA_PROTO)),
			 0);
	assert_int_equal(next(&p, &ev), 1);
	assert_int_equal(ev.type, VIP_PORT_EV_ADDR_DEL);
	assert_true(ev.addr.ours);
	assert_int_equal(ev.ifindex, 4);

	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_OVERRUN;
	assert_int_equal(vip_nl_event_from_msg(&p, nlh), 0);
	assert_int_equal(next(&p, &ev), 1);
	assert_int_equal(ev.type, VIP_PORT_EV_RESYNC_NEEDED);
	free(p.links);
}

/* The announcements' link cache follows NEWLINK (flags, MAC) and DELLINK. */
static void test_links_apply(void **state)
{
	(void)state;
	struct vip_port p = { 0 };

	assert_int_equal(vip_nl_links_apply(&p, put_link(RTM_NEWLINK, AF_UNSPEC, IFF_UP | IFF_RUNNING, mac1)),
			 0);
	assert_int_equal(p.lcache.n, 1);
	assert_false(p.lcache.items[0].noarp);
	assert_memory_equal(p.lcache.items[0].hwaddr, mac1, 6);
	/* arp off and a new MAC replace the entry (no second one). */
	assert_int_equal(vip_nl_links_apply(&p, put_link(RTM_NEWLINK, AF_UNSPEC,
							 IFF_UP | IFF_RUNNING | IFF_NOARP, mac2)),
			 0);
	assert_int_equal(p.lcache.n, 1);
	assert_true(p.lcache.items[0].noarp);
	assert_true(p.lcache.items[0].up);
	assert_memory_equal(p.lcache.items[0].hwaddr, mac2, 6);
	/* Bridge port messages and other types leave it alone. */
	assert_int_equal(vip_nl_links_apply(&p, put_link(RTM_DELLINK, AF_BRIDGE, 0, mac2)), 0);
	assert_int_equal(vip_nl_links_apply(&p, put_kernel_addr(RTM_NEWADDR, AF_INET, "198.51.100.3", 0)), 0);
	assert_int_equal(p.lcache.n, 1);
	assert_int_equal(vip_nl_links_apply(&p, put_link(RTM_DELLINK, AF_UNSPEC, 0, mac2)), 0);
	assert_int_equal(p.lcache.n, 0);
	/* A malformed link message is refused. */
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	assert_int_equal(vip_nl_links_apply(&p, nlh), -EBADMSG);
	vip_port_links_clear(&p.lcache);
}

static struct nlmsghdr *put_netconf(uint16_t type, int family, int ifindex, int forwarding)
{
	memset(buf, 0, sizeof(buf));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	struct netconfmsg *ncm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ncm));
	ncm->ncm_family = (uint8_t)family;
	mnl_attr_put_u32(nlh, NETCONFA_IFINDEX, (uint32_t)ifindex);
	if (forwarding >= 0)
		mnl_attr_put_u32(nlh, NETCONFA_FORWARDING, (uint32_t)forwarding);
	return nlh;
}

/* The same cache keeps each link's IPv6 forwarding (the NA Router flag) from netconf messages. */
static void test_links_netconf(void **state)
{
	(void)state;
	struct vip_port p = { 0 };

	assert_int_equal(vip_nl_links_apply(&p, put_netconf(RTM_NEWNETCONF, AF_INET6, 4, 1)), 0);
	assert_int_equal(p.n_fwd, 1);
	assert_int_equal(p.fwd[0].ifindex, 4);
	assert_true(p.fwd[0].on);
	assert_int_equal(vip_nl_links_apply(&p, put_netconf(RTM_NEWNETCONF, AF_INET6, 4, 0)), 0);
	assert_int_equal(p.n_fwd, 1);
	assert_false(p.fwd[0].on);
	/* Another setting of the link, IPv4's, "all" and "default": nothing changes. */
	assert_int_equal(vip_nl_links_apply(&p, put_netconf(RTM_NEWNETCONF, AF_INET6, 4, -1)), 0);
	assert_int_equal(vip_nl_links_apply(&p, put_netconf(RTM_NEWNETCONF, AF_INET, 4, 1)), 0);
	assert_int_equal(vip_nl_links_apply(&p,
					    put_netconf(RTM_NEWNETCONF, AF_INET6, NETCONFA_IFINDEX_ALL, 1)),
			 0);
	assert_int_equal(vip_nl_links_apply(&p, put_netconf(RTM_NEWNETCONF, AF_INET6,
							    NETCONFA_IFINDEX_DEFAULT, 1)),
			 0);
	assert_int_equal(p.n_fwd, 1);
	assert_false(p.fwd[0].on);
	/* The link's IPv6 went (or the link): forgotten. */
	assert_int_equal(vip_nl_links_apply(&p, put_netconf(RTM_DELNETCONF, AF_INET6, 4, -1)), 0);
	assert_int_equal(p.n_fwd, 0);
	assert_int_equal(vip_nl_links_apply(&p, put_netconf(RTM_NEWNETCONF, AF_INET6, 5, 1)), 0);
	assert_int_equal(vip_nl_links_apply(&p, put_link(RTM_NEWLINK, AF_UNSPEC, IFF_UP, mac1)), 0);
	assert_int_equal(p.n_fwd, 1);
	struct nlmsghdr *nlh = put_link(RTM_DELLINK, AF_UNSPEC, 0, mac1);
	((struct ifinfomsg *)mnl_nlmsg_get_payload(nlh))->ifi_index = 5;
	assert_int_equal(vip_nl_links_apply(&p, nlh), 0);
	assert_int_equal(p.n_fwd, 0);
	/* A forwarding attribute of the wrong size is refused. */
	nlh = put_netconf(RTM_NEWNETCONF, AF_INET6, 4, -1);
	mnl_attr_put_u8(nlh, NETCONFA_FORWARDING, 1);
	assert_int_equal(vip_nl_links_apply(&p, nlh), -EBADMSG);
	free(p.fwd);
	vip_port_links_clear(&p.lcache);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_links_apply), cmocka_unit_test(test_links_netconf),
		cmocka_unit_test(test_add_ipv4),    cmocka_unit_test(test_add_ipv6),
		cmocka_unit_test(test_del),         cmocka_unit_test(test_acks),
		cmocka_unit_test(test_parse_addr),  cmocka_unit_test(test_parse_link),
		cmocka_unit_test(test_parse_route), cmocka_unit_test(test_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * Linux port: rtnetlink message encoders and decoders. Pure functions over
 * buffers, so the unit tests can round-trip them without a kernel.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "port-linux-internal.h"

static uint32_t ipv4_broadcast(const struct in_addr *a, unsigned prefix)
{
	uint32_t host = ntohl(a->s_addr);
	uint32_t mask = prefix ? ~0u << (32 - prefix) : 0;
	return htonl(host | ~mask);
}

void vip_nl_put_addr_req(struct nlmsghdr *nlh, uint16_t type, uint32_t seq, const struct vip_port_req *r)
{
	bool add = type == RTM_NEWADDR;
	size_t alen = r->addr.family == AF_INET ? 4 : 16;

	nlh = mnl_nlmsg_put_header(nlh);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (add)
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_REPLACE;
	nlh->nlmsg_seq = seq;

	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)r->addr.family;
	ifa->ifa_prefixlen = (uint8_t)r->prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)r->ifindex;

	/* IPv4 delete matches on IFA_LOCAL alone: no IFA_ADDRESS, so any prefix matches. */
	mnl_attr_put(nlh, IFA_LOCAL, alen, r->addr.bytes);
	if (!add)
		return;
	mnl_attr_put(nlh, IFA_ADDRESS, alen, r->addr.bytes);
	if (r->addr.family == AF_INET) {
		if (r->prefix < 31) {
			uint32_t b = ipv4_broadcast(&r->addr.v4, r->prefix);
			mnl_attr_put(nlh, IFA_BROADCAST, 4, &b);
		}
		if (r->label[0])
			mnl_attr_put_strz(nlh, IFA_LABEL, r->label);
	} else {
		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	}
	mnl_attr_put_u8(nlh, IFA_PROTO, VIP_PORT_IFA_PROTO);
}

void vip_nl_put_addr_dump(struct nlmsghdr *nlh, uint32_t seq)
{
	nlh = mnl_nlmsg_put_header(nlh);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
}

void vip_nl_put_dump(struct nlmsghdr *nlh, uint16_t type, int family, uint32_t seq)
{
	nlh = mnl_nlmsg_put_header(nlh);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	if (type == RTM_GETROUTE) {
		struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
		rtm->rtm_family = (uint8_t)family;
	} else if (type == RTM_GETNEIGH) {
		struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
		ndm->ndm_family = (uint8_t)family;
	} else {
		struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
		ifi->ifi_family = (uint8_t)family;
	}
}

struct attr_tb {
	const struct nlattr **tb;
	unsigned max;
};

static int collect_attr(const struct nlattr *attr, void *data)
{
	struct attr_tb *t = data;
	unsigned type = mnl_attr_get_type(attr);
	if (type <= t->max)
		t->tb[type] = attr;
	return MNL_CB_OK;
}

static unsigned addr_flags(uint32_t f)
{
	unsigned r = 0;
	if (f & IFA_F_SECONDARY)
		r |= VIP_PORT_ADDR_SECONDARY;
	if (f & IFA_F_TENTATIVE)
		r |= VIP_PORT_ADDR_TENTATIVE;
	if (f & IFA_F_DADFAILED)
		r |= VIP_PORT_ADDR_DADFAILED;
	if (f & IFA_F_DEPRECATED)
		r |= VIP_PORT_ADDR_DEPRECATED;
	if (f & IFA_F_NODAD)
		r |= VIP_PORT_ADDR_NODAD;
	if (f & IFA_F_PERMANENT)
		r |= VIP_PORT_ADDR_PERMANENT;
	return r;
}

int vip_nl_parse_addr(const struct nlmsghdr *nlh, struct vip_port_addr *ret)
{
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	struct attr_tb t = { tb, IFA_MAX };

	if ((nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR) ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct ifaddrmsg)))
		return -EBADMSG;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return -EAFNOSUPPORT;
	if (mnl_attr_parse(nlh, sizeof(*ifa), collect_attr, &t) < 0)
		return -EBADMSG;

	size_t alen = ifa->ifa_family == AF_INET ? 4 : 16;
	/* IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on point-to-point links. */
	const struct nlattr *a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || mnl_attr_get_payload_len(a) != alen || ifa->ifa_prefixlen > alen * 8)
		return -EBADMSG;

	struct vip_port_addr r = { 0 };
	r.addr.family = ifa->ifa_family;
	memcpy(r.addr.bytes, mnl_attr_get_payload(a), alen);
	r.prefix = ifa->ifa_prefixlen;
	r.ifindex = (int)ifa->ifa_index;
	uint32_t flags = ifa->ifa_flags;
	if (tb[IFA_FLAGS]) {
		if (mnl_attr_validate(tb[IFA_FLAGS], MNL_TYPE_U32) < 0)
			return -EBADMSG;
		flags = mnl_attr_get_u32(tb[IFA_FLAGS]);
	}
	r.flags = addr_flags(flags);
	if (tb[IFA_PROTO]) {
		if (mnl_attr_validate(tb[IFA_PROTO], MNL_TYPE_U8) < 0)
			return -EBADMSG;
		r.proto = mnl_attr_get_u8(tb[IFA_PROTO]);
	}
	r.ours = r.proto == VIP_PORT_IFA_PROTO;
	if (tb[IFA_LABEL]) {
		if (mnl_attr_validate(tb[IFA_LABEL], MNL_TYPE_NUL_STRING) < 0)
			return -EBADMSG;
		strncpy(r.label, mnl_attr_get_str(tb[IFA_LABEL]), sizeof(r.label) - 1);
	}
	*ret = r;
	return 0;
}

int vip_nl_parse_link(const struct nlmsghdr *nlh, struct vip_port_link *ret)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	struct attr_tb t = { tb, IFLA_MAX };

	if ((nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK) ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct ifinfomsg)))
		return -EBADMSG;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	/* Bridge and other per-family link messages describe ports, not links. */
	if (ifi->ifi_family != AF_UNSPEC)
		return -EAFNOSUPPORT;
	if (mnl_attr_parse(nlh, sizeof(*ifi), collect_attr, &t) < 0)
		return -EBADMSG;

	struct vip_port_link r = { 0 };
	r.ifindex = ifi->ifi_index;
	r.up = (ifi->ifi_flags & IFF_UP) && (ifi->ifi_flags & IFF_RUNNING);
	r.noarp = ifi->ifi_flags & IFF_NOARP;
	r.loopback = ifi->ifi_flags & IFF_LOOPBACK;
	if (tb[IFLA_IFNAME]) {
		if (mnl_attr_validate(tb[IFLA_IFNAME], MNL_TYPE_NUL_STRING) < 0)
			return -EBADMSG;
		strncpy(r.ifname, mnl_attr_get_str(tb[IFLA_IFNAME]), sizeof(r.ifname) - 1);
	}
	if (tb[IFLA_MTU]) {
		if (mnl_attr_validate(tb[IFLA_MTU], MNL_TYPE_U32) < 0)
			return -EBADMSG;
		r.mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	}
	if (tb[IFLA_ADDRESS]) {
		size_t len = mnl_attr_get_payload_len(tb[IFLA_ADDRESS]);
		if (len > sizeof(r.hwaddr))
			return -EBADMSG;
		memcpy(r.hwaddr, mnl_attr_get_payload(tb[IFLA_ADDRESS]), len);
		r.hwaddr_len = len;
	}
	*ret = r;
	return 0;
}

static int route_u32(const struct nlattr *a, uint32_t *ret)
{
	if (!a)
		return 0;
	if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return -EBADMSG;
	*ret = mnl_attr_get_u32(a);
	return 0;
}

static enum vip_port_route_type route_type(unsigned char t)
{
	return t == RTN_UNICAST ? VIP_PORT_ROUTE_UNICAST
	       : t == RTN_LOCAL ? VIP_PORT_ROUTE_LOCAL
				: VIP_PORT_ROUTE_OTHER;
}

int vip_nl_parse_route(const struct nlmsghdr *nlh, struct vip_port_route *ret)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	struct attr_tb t = { tb, RTA_MAX };

	if ((nlh->nlmsg_type != RTM_NEWROUTE && nlh->nlmsg_type != RTM_DELROUTE) ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct rtmsg)))
		return -EBADMSG;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return -EAFNOSUPPORT;
	size_t alen = rtm->rtm_family == AF_INET ? 4 : 16;
	if (rtm->rtm_dst_len > alen * 8 || mnl_attr_parse(nlh, sizeof(*rtm), collect_attr, &t) < 0)
		return -EBADMSG;
	uint32_t table = rtm->rtm_table, oif = 0, metric = 0;
	if (route_u32(tb[RTA_TABLE], &table) < 0 || route_u32(tb[RTA_OIF], &oif) < 0 ||
	    route_u32(tb[RTA_PRIORITY], &metric) < 0 || oif > INT32_MAX)
		return -EBADMSG;
	/* Cached clones and other tables (policy routing, VRFs) are not reported. */
	if ((rtm->rtm_flags & RTM_F_CLONED) || (table != RT_TABLE_MAIN && table != RT_TABLE_LOCAL))
		return -EAFNOSUPPORT;

	struct vip_port_route r = { .dst = { .family = rtm->rtm_family }, .dst_len = rtm->rtm_dst_len };
	if (tb[RTA_DST]) {
		if (mnl_attr_get_payload_len(tb[RTA_DST]) != alen)
			return -EBADMSG;
		const uint8_t *d = mnl_attr_get_payload(tb[RTA_DST]);
		for (unsigned b = 0; b < r.dst_len; b++)
			r.dst.bytes[b / 8] |= d[b / 8] & (uint8_t)(0x80 >> (b % 8));
	} else if (r.dst_len != 0) {
		return -EBADMSG;
	}
	r.type = route_type(rtm->rtm_type);
	r.local_table = table == RT_TABLE_LOCAL;
	r.gateway = tb[RTA_GATEWAY] || tb[RTA_VIA];
	/* Several next hops, or a nexthop object: no single link to name. */
	r.ifindex = tb[RTA_MULTIPATH] || tb[RTA_NH_ID] ? 0 : (int)oif;
	r.metric = metric;
	*ret = r;
	return 0;
}

int vip_nl_parse_ack(const struct nlmsghdr *nlh, int *ret_err, char *msg, size_t msglen)
{
	if (msglen)
		msg[0] = '\0';
	if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nlmsgerr)))
		return -EBADMSG;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	if (e->error > 0 || e->error < -4095)
		return -EBADMSG;
	*ret_err = e->error;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return 0;

	/* Without NLM_F_CAPPED the kernel echoes the whole request before the TLVs. */
	size_t off = sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < sizeof(struct nlmsghdr))
			return -EBADMSG;
		off += NLMSG_ALIGN(e->msg.nlmsg_len - sizeof(struct nlmsghdr));
	}
	if (mnl_nlmsg_size(off) > nlh->nlmsg_len)
		return -EBADMSG;
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1] = { 0 };
	struct attr_tb t = { tb, NLMSGERR_ATTR_MAX };
	if (mnl_attr_parse(nlh, (unsigned)off, collect_attr, &t) < 0)
		return -EBADMSG;
	if (tb[NLMSGERR_ATTR_MSG] && msglen) {
		if (mnl_attr_validate(tb[NLMSGERR_ATTR_MSG], MNL_TYPE_NUL_STRING) < 0)
			return -EBADMSG;
		strncpy(msg, mnl_attr_get_str(tb[NLMSGERR_ATTR_MSG]), msglen - 1);
		msg[msglen - 1] = '\0';
	}
	return 0;
}

bool vip_nl_is_benign(uint16_t type, int err)
{
	if (type == RTM_NEWADDR)
		return err == -EEXIST;
	return err == -EADDRNOTAVAIL || err == -ENODEV;
}

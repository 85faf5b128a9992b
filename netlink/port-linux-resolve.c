/* SPDX-License-Identifier: MIT */
/*
 * Linux port: where does an address go? A Topology rule when one matches,
 * else what `ip route get` says (RTM_GETROUTE), with the prefix of the
 * connected network on that link.
 */
#include <errno.h>
#include <net/if.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "port-internal.h"
#include "port-linux-internal.h"

struct route_ans {
	unsigned char type;
	int oif;
	bool gateway;
};

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_ans *a = data;
	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct rtmsg)))
		return MNL_CB_OK;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	a->type = rtm->rtm_type;
	mnl_attr_for_each(attr, nlh, sizeof(*rtm)) {
		unsigned t = mnl_attr_get_type(attr);
		if (t == RTA_OIF && mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			a->oif = (int)mnl_attr_get_u32(attr);
		else if (t == RTA_GATEWAY || t == RTA_VIA)
			a->gateway = true;
	}
	return MNL_CB_OK;
}

static int route_get(struct vip_port *p, const struct vip_addr *addr, struct route_ans *ret)
{
	char buf[VIP_NL_REQ_MAX];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)addr->family;
	rtm->rtm_dst_len = (unsigned char)(vip_addr_len(addr) * 8);
	mnl_attr_put(nlh, RTA_DST, vip_addr_len(addr), addr->bytes);
	*ret = (struct route_ans){ 0 };
	int r = vip_nl_transact(p, nlh, route_cb, ret, NULL, NULL, 0);
	if (r == -ENETUNREACH || r == -EHOSTUNREACH || r == -ENONET)
		return -ENETUNREACH;
	return r;
}

/* The longest prefix among the link's addresses whose network covers addr (0 if none). */
static unsigned connected_prefix(const struct vip_port_table *t, const struct vip_addr *addr,
				 int ifindex)
{
	unsigned best = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct vip_port_addr *e = &t->items[i];
		if (e->ifindex != ifindex || e->ours || e->addr.family != addr->family)
			continue;
		if (vip_addr_in_prefix(addr, &e->addr, e->prefix) && e->prefix > best)
			best = e->prefix;
	}
	return best;
}

static int fill_target(struct vip_port *p, int ifindex, unsigned prefix, int family,
		       struct vip_port_target *ret)
{
	struct vip_port_link l;
	int r = vip_nl_link_get(p, ifindex, &l);
	if (r < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	ret->ifindex = ifindex;
	memcpy(ret->ifname, l.ifname, sizeof(ret->ifname));
	ret->prefix = prefix;
	(void)vip_port_label(l.ifname, family, ret->label);
	return 0;
}

int vip_nl_resolve(struct vip_port *p, const struct vip_addr *addr, const struct vipd_config *cfg,
		   struct vip_port_target *ret)
{
	if (addr->family != AF_INET && addr->family != AF_INET6)
		return -EAFNOSUPPORT;
	struct route_ans ra;
	int r = route_get(p, addr, &ra);
	if (r < 0 && r != -ENETUNREACH)
		return r;
	bool unreachable = r == -ENETUNREACH;

	struct vip_port_table t = { 0 };
	r = vip_nl_dump(p, 0, &t);
	if (r < 0)
		return r;
	const struct vip_port_addr *mine = vip_port_table_find(&t, addr, 0);
	/* Local but not an address vipd plumbed: the node's own, never a VIP. */
	if ((mine && !mine->ours) || (!mine && !unreachable && ra.type == RTN_LOCAL)) {
		vip_port_table_clear(&t);
		return -EADDRINUSE;
	}

	struct vip_port_target tgt;
	const struct vipd_topology *topo = vip_port_topology_match(addr, cfg);
	if (topo) {
		int ifindex = (int)if_nametoindex(topo->interface);
		r = ifindex > 0 ? fill_target(p, ifindex, topo->cidrmask, addr->family, &tgt) : -ENODEV;
		tgt.from_topology = true;
	} else if (mine) {
		/* Already plumbed by vipd: it goes where it is. */
		r = fill_target(p, mine->ifindex, mine->prefix, addr->family, &tgt);
	} else if (unreachable || ra.gateway || ra.type != RTN_UNICAST || ra.oif <= 0) {
		r = -ENETUNREACH;
	} else {
		unsigned prefix = connected_prefix(&t, addr, ra.oif);
		/* A device route without an address on the link: a host address. */
		if (prefix == 0)
			prefix = (unsigned)vip_addr_len(addr) * 8;
		r = fill_target(p, ra.oif, prefix, addr->family, &tgt);
	}
	vip_port_table_clear(&t);
	if (r == -ENODEV && topo)
		return -ENODEV;
	if (r < 0)
		return r;
	*ret = tgt;
	return 0;
}

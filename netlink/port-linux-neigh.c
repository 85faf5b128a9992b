/* SPDX-License-Identifier: MIT */
/*
 * Linux port: the neighbour table (ARP, NDP). Its events (RTNLGRP_NEIGH,
 * subscribed with VIP_PORT_OPEN_NEIGH) and the decoder of RTM_NEWNEIGH /
 * RTM_DELNEIGH; the dump is port-linux-dump.c's. Mechanism only: which entries matter is
 * vipd's business (vipd/neigh.h).
 */
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "port-linux-internal.h"

static enum vip_port_neigh_state neigh_state(uint16_t nud)
{
	if (nud & NUD_REACHABLE)
		return VIP_PORT_NEIGH_REACHABLE;
	if (nud & NUD_STALE)
		return VIP_PORT_NEIGH_STALE;
	if (nud & NUD_DELAY)
		return VIP_PORT_NEIGH_DELAY;
	if (nud & NUD_PROBE)
		return VIP_PORT_NEIGH_PROBE;
	if (nud & NUD_INCOMPLETE)
		return VIP_PORT_NEIGH_INCOMPLETE;
	if (nud & NUD_FAILED)
		return VIP_PORT_NEIGH_FAILED;
	return VIP_PORT_NEIGH_OTHER;
}

/* The kernel reports the entry's times in clock ticks (USER_HZ) before now. */
static uint32_t ticks_to_ms(uint32_t ticks, long hz)
{
	uint64_t ms = (uint64_t)ticks * 1000u / (uint64_t)(hz > 0 ? hz : 100);
	return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

static int collect_attr(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	unsigned type = mnl_attr_get_type(attr);

	if (type <= NDA_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

int vip_nl_parse_neigh(const struct nlmsghdr *nlh, struct vip_port_neigh *ret)
{
	const struct nlattr *tb[NDA_MAX + 1] = { 0 };
	struct vip_port_neigh r = { 0 };

	if ((nlh->nlmsg_type != RTM_NEWNEIGH && nlh->nlmsg_type != RTM_DELNEIGH) ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct ndmsg)))
		return -EBADMSG;
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	/* bridge forwarding entries and proxy entries share the group: not hosts we talk to */
	if ((ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6) || (ndm->ndm_flags & NTF_PROXY))
		return -EAFNOSUPPORT;
	if (mnl_attr_parse(nlh, sizeof(*ndm), collect_attr, tb) < 0 || !tb[NDA_DST])
		return -EBADMSG;
	r.addr.family = ndm->ndm_family;
	if (mnl_attr_get_payload_len(tb[NDA_DST]) != vip_addr_len(&r.addr))
		return -EBADMSG;
	memcpy(r.addr.bytes, mnl_attr_get_payload(tb[NDA_DST]), vip_addr_len(&r.addr));
	r.ifindex = ndm->ndm_ifindex;
	r.state = neigh_state(ndm->ndm_state);
	r.router = ndm->ndm_flags & NTF_ROUTER;
	if (tb[NDA_LLADDR]) {
		size_t len = mnl_attr_get_payload_len(tb[NDA_LLADDR]);
		if (len > sizeof(r.hwaddr))
			return -EBADMSG;
		memcpy(r.hwaddr, mnl_attr_get_payload(tb[NDA_LLADDR]), len);
		r.hwaddr_len = len;
	}
	if (tb[NDA_CACHEINFO]) {
		if (mnl_attr_get_payload_len(tb[NDA_CACHEINFO]) < sizeof(struct nda_cacheinfo))
			return -EBADMSG;
		const struct nda_cacheinfo *ci = mnl_attr_get_payload(tb[NDA_CACHEINFO]);
		long hz = sysconf(_SC_CLK_TCK);
		/* heard from (confirmed) or sent to (used), whichever is more recent */
		uint32_t t = ci->ndm_confirmed < ci->ndm_used ? ci->ndm_confirmed : ci->ndm_used;
		r.age_ms = ticks_to_ms(t, hz);
	}
	*ret = r;
	return 0;
}

int vip_nl_neigh_event(struct vip_port *p, const struct nlmsghdr *nlh)
{
	struct vip_port_neigh n;
	int r = vip_nl_parse_neigh(nlh, &n);

	if (r == -EAFNOSUPPORT)
		return 0;
	if (r < 0)
		return r;
	if (p->n_pending >= VIP_NL_PENDING_MAX)
		return 0;
	struct vip_port_event *e = &p->pending[p->n_pending++];
	*e = (struct vip_port_event){
		.type = nlh->nlmsg_type == RTM_NEWNEIGH ? VIP_PORT_EV_NEIGH_NEW : VIP_PORT_EV_NEIGH_DEL,
		.ifindex = n.ifindex,
		.neigh = n,
	};
	return 0;
}

int vip_nl_neigh_subscribe(struct vip_port *p)
{
	int group = RTNLGRP_NEIGH;

	if (!p->mon)
		return -ENOTCONN;
	if (mnl_socket_setsockopt(p->mon, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
		return negerrno();
	return 0;
}

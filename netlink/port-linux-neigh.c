/* SPDX-License-Identifier: MIT */
/*
 * Linux port: the neighbour table (ARP, NDP). Its dump, its events
 * (RTNLGRP_NEIGH, subscribed with VIP_PORT_OPEN_NEIGH) and the decoder of
 * RTM_NEWNEIGH / RTM_DELNEIGH. Mechanism only: which entries matter is
 * vipd's business (vipd/neigh.h).
 */
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "port-linux-internal.h"

#define DUMP_TRIES 5

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

struct neigh_collect {
	struct vip_port_neighs *t;
	int err;
};

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	struct neigh_collect *c = data;
	struct vip_port_neigh n;

	if (nlh->nlmsg_type != RTM_NEWNEIGH || c->err < 0)
		return MNL_CB_OK;
	int r = vip_nl_parse_neigh(nlh, &n);
	if (r == -EAFNOSUPPORT)
		return MNL_CB_OK;
	if (r == -EBADMSG)
		return MNL_CB_ERROR;
	c->err = vip_port_neighs_add(c->t, &n);
	return MNL_CB_OK;
}

void vip_nl_put_neigh_dump(struct nlmsghdr *nlh, int family, uint32_t seq)
{
	nlh = mnl_nlmsg_put_header(nlh);
	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = (uint8_t)family;
}

/* One family's dump appended to t after keep entries, retried while interrupted. */
static int dump_family(struct vip_port *p, int family, struct vip_port_neighs *t)
{
	char buf[VIP_NL_REQ_MAX];
	size_t keep = t->n;

	for (int tries = 0; tries < DUMP_TRIES; tries++) {
		struct neigh_collect c = { t, 0 };
		bool intr = false;

		t->n = keep;
		vip_nl_put_neigh_dump((struct nlmsghdr *)buf, family, 0);
		int r = vip_nl_transact(p, (struct nlmsghdr *)buf, neigh_cb, &c, &intr, NULL, 0);
		if (r == 0)
			r = c.err;
		if (r < 0)
			return r;
		if (!intr)
			return 0;
	}
	return -EAGAIN;
}

int vip_nl_dump_neigh(struct vip_port *p, struct vip_port_neighs *t)
{
	t->n = 0;
	int r = dump_family(p, AF_INET, t);
	/* a kernel without IPv6 refuses the family: it has no IPv6 neighbours */
	if (r == 0) {
		r = dump_family(p, AF_INET6, t);
		if (r == -EAFNOSUPPORT)
			r = 0;
	}
	if (r < 0) {
		t->n = 0;
		return r;
	}
	return (int)t->n;
}

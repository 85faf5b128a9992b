/* SPDX-License-Identifier: MIT */
/*
 * Linux port: the monitor socket (RTNLGRP_LINK, IPV4_IFADDR, IPV6_IFADDR).
 * Address messages become events as they are; link messages are compared
 * with the last state seen so the caller gets edges (up, down, MAC changed,
 * gone). ENOBUFS means messages were lost: it is reported as RESYNC_NEEDED,
 * never swallowed (docs/style.md rule 9).
 */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "port-linux-internal.h"

#define MON_RCVBUF (8 << 20)
#define MON_MAX_MSGS 100000 /* per next_event call: bounds a loop over uninteresting messages */

static struct vip_nl_link_state *link_find(struct vip_port *p, int ifindex)
{
	for (size_t i = 0; i < p->n_links; i++)
		if (p->links[i].ifindex == ifindex)
			return &p->links[i];
	return NULL;
}

static int link_store(struct vip_port *p, const struct vip_port_link *l)
{
	struct vip_nl_link_state *s = link_find(p, l->ifindex);
	if (!s) {
		if (p->n_links == p->cap_links) {
			size_t cap = p->cap_links ? p->cap_links * 2 : 16;
			s = reallocarray(p->links, cap, sizeof(*s));
			if (!s)
				return -ENOMEM;
			p->links = s;
			p->cap_links = cap;
		}
		s = &p->links[p->n_links++];
	}
	s->ifindex = l->ifindex;
	s->up = l->up;
	memcpy(s->hwaddr, l->hwaddr, sizeof(s->hwaddr));
	s->hwaddr_len = l->hwaddr_len;
	return 0;
}

static void link_forget(struct vip_port *p, int ifindex)
{
	struct vip_nl_link_state *s = link_find(p, ifindex);
	if (s)
		*s = p->links[--p->n_links];
}

static int links_cb(const struct nlmsghdr *nlh, void *data)
{
	struct vip_port *p = data;
	struct vip_port_link l;
	if (nlh->nlmsg_type != RTM_NEWLINK || vip_nl_parse_link(nlh, &l) < 0)
		return MNL_CB_OK;
	return link_store(p, &l) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

/* Reload every link's state with a dump (at open and after an overrun). */
static int links_refresh(struct vip_port *p)
{
	char buf[VIP_NL_REQ_MAX];
	for (int tries = 0; tries < 5; tries++) {
		bool intr = false;
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = RTM_GETLINK;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK;
		struct rtgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
		g->rtgen_family = AF_UNSPEC;
		p->n_links = 0;
		int r = vip_nl_transact(p, nlh, links_cb, p, &intr, NULL, 0);
		if (r < 0 || !intr)
			return r;
	}
	return -EAGAIN;
}

int vip_nl_events_open(struct vip_port *p, int rcvbuf)
{
	p->mon = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!p->mon)
		return negerrno();
	if (mnl_socket_bind(p->mon, 0, MNL_SOCKET_AUTOPID) < 0)
		return negerrno();
	int groups[] = { RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR };
	for (size_t i = 0; i < ARRAY_SIZE(groups); i++)
		if (mnl_socket_setsockopt(p->mon, NETLINK_ADD_MEMBERSHIP, &groups[i], sizeof(groups[i])) < 0)
			return negerrno();
	int r = vip_nl_sock_bufsize(mnl_socket_get_fd(p->mon), SO_RCVBUFFORCE, SO_RCVBUF,
				    rcvbuf > 0 ? rcvbuf : MON_RCVBUF);
	if (r < 0)
		return r;
	p->mbuf_len = VIP_NL_RECV_MAX;
	p->mbuf = malloc(p->mbuf_len);
	if (!p->mbuf)
		return -ENOMEM;
	/* Subscribed first, then the dump: a change in between is seen twice, never missed. */
	return links_refresh(p);
}

void vip_nl_events_close(struct vip_port *p)
{
	if (p->mon)
		mnl_socket_close(p->mon);
	p->mon = NULL;
	free(p->mbuf);
	p->mbuf = NULL;
	free(p->links);
	p->links = NULL;
	p->n_links = p->cap_links = 0;
}

int vip_nl_event_fd(struct vip_port *p)
{
	return p->mon ? mnl_socket_get_fd(p->mon) : -ENOTCONN;
}

static void push(struct vip_port *p, enum vip_port_event_type type, int ifindex,
		 const struct vip_port_addr *a, const struct vip_port_link *l)
{
	if (p->n_pending >= VIP_NL_PENDING_MAX)
		return;
	struct vip_port_event *e = &p->pending[p->n_pending++];
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->ifindex = ifindex;
	if (a)
		e->addr = *a;
	if (l)
		e->link = *l;
}

static int link_event(struct vip_port *p, const struct nlmsghdr *nlh)
{
	struct vip_port_link l;
	int r = vip_nl_parse_link(nlh, &l);
	if (r == -EAFNOSUPPORT)
		return 0;
	if (r < 0)
		return r;
	if (nlh->nlmsg_type == RTM_DELLINK) {
		link_forget(p, l.ifindex);
		push(p, VIP_PORT_EV_LINK_GONE, l.ifindex, NULL, &l);
		return 0;
	}
	const struct vip_nl_link_state *s = link_find(p, l.ifindex);
	bool mac = s && (s->hwaddr_len != l.hwaddr_len || memcmp(s->hwaddr, l.hwaddr, l.hwaddr_len) != 0);
	bool edge = !s || s->up != l.up;
	if (mac)
		push(p, VIP_PORT_EV_LINK_MAC, l.ifindex, NULL, &l);
	if (edge)
		push(p, l.up ? VIP_PORT_EV_LINK_UP : VIP_PORT_EV_LINK_DOWN, l.ifindex, NULL, &l);
	return link_store(p, &l);
}

int vip_nl_event_from_msg(struct vip_port *p, const struct nlmsghdr *nlh)
{
	struct vip_port_addr a;
	int r;
	switch (nlh->nlmsg_type) {
	case RTM_NEWADDR:
	case RTM_DELADDR:
		r = vip_nl_parse_addr(nlh, &a);
		if (r == -EAFNOSUPPORT)
			return 0;
		if (r < 0)
			return r;
		push(p, nlh->nlmsg_type == RTM_NEWADDR ? VIP_PORT_EV_ADDR_NEW : VIP_PORT_EV_ADDR_DEL,
		     a.ifindex, &a, NULL);
		return 0;
	case RTM_NEWLINK:
	case RTM_DELLINK:
		return link_event(p, nlh);
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		return vip_nl_neigh_event(p, nlh);
	case NLMSG_OVERRUN:
		push(p, VIP_PORT_EV_RESYNC_NEEDED, 0, NULL, NULL);
		return 0;
	default:
		return 0;
	}
}

static int resync(struct vip_port *p, struct vip_port_event *ret)
{
	p->mpos = p->mend = 0;
	/* Drop what is queued too: the caller re-dumps everything anyway. */
	for (int i = 0; i < 4096; i++)
		if (recv(mnl_socket_get_fd(p->mon), p->mbuf, p->mbuf_len, MSG_DONTWAIT) < 0 &&
		    errno != ENOBUFS)
			break;
	int r = links_refresh(p);
	if (r < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	ret->type = VIP_PORT_EV_RESYNC_NEEDED;
	return 1;
}

/* Fill mbuf with the next datagram: 1, 0 (nothing pending), RESYNC (2) or -errno. */
static int fill(struct vip_port *p)
{
	struct sockaddr_nl from;
	socklen_t fromlen = sizeof(from);
	for (int i = 0; i < 64; i++) {
		ssize_t len = recvfrom(mnl_socket_get_fd(p->mon), p->mbuf, p->mbuf_len, MSG_DONTWAIT,
				       (struct sockaddr *)&from, &fromlen);
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (len < 0 && errno == ENOBUFS)
			return 2;
		if (len < 0)
			return negerrno();
		if (from.nl_pid != 0) /* only the kernel speaks on these groups */
			continue;
		p->mpos = 0;
		p->mend = (size_t)len;
		return 1;
	}
	return 0;
}

int vip_nl_next_event(struct vip_port *p, struct vip_port_event *ret)
{
	if (!p->mon)
		return -ENOTCONN;
	for (int k = 0; k < MON_MAX_MSGS; k++) {
		if (p->pending_pos < p->n_pending) {
			*ret = p->pending[p->pending_pos++];
			return 1;
		}
		p->n_pending = p->pending_pos = 0;
		if (p->mpos >= p->mend) {
			int r = fill(p);
			if (r == 2)
				return resync(p, ret);
			if (r <= 0)
				return r;
		}
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)(p->mbuf + p->mpos);
		int rest = (int)(p->mend - p->mpos);
		if (!vip_nl_msg_ok(nlh, rest)) {
			p->mpos = p->mend;
			continue;
		}
		p->mpos += NLMSG_ALIGN(nlh->nlmsg_len);
		int r = vip_nl_event_from_msg(p, nlh);
		if (r == -ENOMEM)
			return r;
		/* A malformed message is skipped; the kernel never sends one. */
	}
	return 0;
}

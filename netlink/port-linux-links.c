/* SPDX-License-Identifier: MIT */
/*
 * Linux port: the link state announcements are built from (flags, MAC, and
 * IPv6 forwarding for the NA Router flag), kept current without a request per
 * announcement. A socket of its own listens to RTNLGRP_LINK and
 * RTNLGRP_IPV6_NETCONF only; before each use everything queued on it is
 * applied, so a change the kernel made before the announcement (`ip link set
 * dev X arp off`, a new MAC) is always seen: the kernel queues a link's
 * notification before the call that changed it returns. The event socket
 * cannot serve here: at that moment it holds the echoes of the addresses
 * just added, which belong to the engine. Lost notifications (ENOBUFS, a
 * truncated datagram) empty the cache; a link not in it is asked for with
 * RTM_GETLINK and kept only when nothing was lost (docs/port.md §2).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/netconf.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "port-linux-internal.h"

#define LINKS_RCVBUF (1 << 20)
/* Datagrams applied per sync: link changes are rare; a flood past this counts as lost. */
#define SYNC_MAX 4096

static struct vip_port_link *cache_find(struct vip_port *p, int ifindex)
{
	for (size_t i = 0; i < p->lcache.n; i++)
		if (p->lcache.items[i].ifindex == ifindex)
			return &p->lcache.items[i];
	return NULL;
}

static void cache_forget(struct vip_port *p, int ifindex)
{
	struct vip_port_link *l = cache_find(p, ifindex);
	if (l)
		*l = p->lcache.items[--p->lcache.n];
}

static int cache_put(struct vip_port *p, const struct vip_port_link *l)
{
	struct vip_port_link *old = cache_find(p, l->ifindex);
	if (old) {
		*old = *l;
		return 0;
	}
	return vip_port_links_add(&p->lcache, l);
}

static struct vip_nl_fwd *fwd_find(struct vip_port *p, int ifindex)
{
	for (size_t i = 0; i < p->n_fwd; i++)
		if (p->fwd[i].ifindex == ifindex)
			return &p->fwd[i];
	return NULL;
}

static void fwd_forget(struct vip_port *p, int ifindex)
{
	struct vip_nl_fwd *f = fwd_find(p, ifindex);
	if (f)
		*f = p->fwd[--p->n_fwd];
}

static int fwd_put(struct vip_port *p, int ifindex, bool on)
{
	struct vip_nl_fwd *f = fwd_find(p, ifindex);
	if (!f) {
		if (p->n_fwd == p->cap_fwd) {
			size_t cap = p->cap_fwd ? p->cap_fwd * 2 : 8;
			f = reallocarray(p->fwd, cap, sizeof(*f));
			if (!f)
				return -ENOMEM;
			p->fwd = f;
			p->cap_fwd = cap;
		}
		f = &p->fwd[p->n_fwd++];
	}
	*f = (struct vip_nl_fwd){ ifindex, on };
	return 0;
}

/* An IPv6 netconf message: its link (> 0, or 0 for "all" and "default") and forwarding (-1: absent). */
static int parse_netconf(const struct nlmsghdr *nlh, int *ret_ifindex, int *ret_forwarding)
{
	const struct nlattr *attr;
	const struct netconfmsg *ncm;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ncm)))
		return -EBADMSG;
	ncm = mnl_nlmsg_get_payload(nlh);
	if (ncm->ncm_family != AF_INET6)
		return -EAFNOSUPPORT;
	*ret_ifindex = 0;
	*ret_forwarding = -1;
	mnl_attr_for_each(attr, nlh, sizeof(*ncm))
	{
		uint16_t type = mnl_attr_get_type(attr);
		if (type != NETCONFA_IFINDEX && type != NETCONFA_FORWARDING)
			continue;
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return -EBADMSG;
		int v = (int)mnl_attr_get_u32(attr);
		if (type == NETCONFA_IFINDEX)
			*ret_ifindex = v > 0 ? v : 0;
		else
			*ret_forwarding = v > 0;
	}
	return 0;
}

static int netconf_apply(struct vip_port *p, const struct nlmsghdr *nlh)
{
	int ifindex, forwarding;
	int r = parse_netconf(nlh, &ifindex, &forwarding);
	if (r == -EAFNOSUPPORT)
		return 0;
	if (r < 0 || ifindex == 0)
		return r;
	/* A change of "all" is also sent for each link it changed. */
	if (nlh->nlmsg_type == RTM_DELNETCONF) {
		fwd_forget(p, ifindex);
		return 0;
	}
	return forwarding < 0 ? 0 : fwd_put(p, ifindex, forwarding);
}

int vip_nl_links_apply(struct vip_port *p, const struct nlmsghdr *nlh)
{
	struct vip_port_link l;
	if (nlh->nlmsg_type == RTM_NEWNETCONF || nlh->nlmsg_type == RTM_DELNETCONF)
		return netconf_apply(p, nlh);
	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return 0;
	int r = vip_nl_parse_link(nlh, &l);
	if (r == -EAFNOSUPPORT)
		return 0;
	if (r < 0)
		return r;
	if (nlh->nlmsg_type == RTM_DELLINK) {
		cache_forget(p, l.ifindex);
		fwd_forget(p, l.ifindex);
		return 0;
	}
	return cache_put(p, &l);
}

int vip_nl_links_open(struct vip_port *p, int rcvbuf)
{
	p->lsock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!p->lsock)
		return negerrno();
	if (mnl_socket_bind(p->lsock, 0, MNL_SOCKET_AUTOPID) < 0)
		return negerrno();
	int group = RTNLGRP_LINK;
	if (mnl_socket_setsockopt(p->lsock, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
		return negerrno();
	/* Without it (a kernel with no IPv6) forwarding is asked for at each call. */
	group = RTNLGRP_IPV6_NETCONF;
	p->fwd_events = mnl_socket_setsockopt(p->lsock, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) == 0;
	int r = vip_nl_sock_bufsize(mnl_socket_get_fd(p->lsock), SO_RCVBUFFORCE, SO_RCVBUF,
				    rcvbuf > 0 ? rcvbuf : LINKS_RCVBUF);
	if (r < 0)
		return r;
	/* Subscribed first, then the dump: a change in between is applied after it. */
	r = vip_nl_dump_links(p, &p->lcache);
	return r < 0 ? r : 0;
}

void vip_nl_links_close(struct vip_port *p)
{
	if (p->lsock)
		mnl_socket_close(p->lsock);
	p->lsock = NULL;
	vip_port_links_clear(&p->lcache);
	free(p->fwd);
	p->fwd = NULL;
	p->n_fwd = p->cap_fwd = 0;
}

/* Apply one datagram; false when it could not be applied whole. */
static bool apply_datagram(struct vip_port *p, const char *buf, int len)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	for (; vip_nl_msg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
		if (vip_nl_links_apply(p, nlh) < 0)
			return false;
	return true;
}

/*
 * Apply everything queued on the link socket. Returns true when the cache is
 * current, false when notifications were lost (the cache was emptied; what
 * is asked for now must come from the kernel and not be kept).
 */
static bool links_sync(struct vip_port *p)
{
	bool lost = true, bad = false; /* lost unless the queue is seen empty */
	for (int i = 0; i < SYNC_MAX; i++) {
		struct sockaddr_nl from;
		struct iovec iov = { p->rbuf, p->rbuf_len };
		struct msghdr mh = { .msg_name = &from,
				     .msg_namelen = sizeof(from),
				     .msg_iov = &iov,
				     .msg_iovlen = 1 };
		ssize_t len = recvmsg(mnl_socket_get_fd(p->lsock), &mh, MSG_DONTWAIT);
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			lost = bad;
			break;
		}
		if (len >= 0 && from.nl_pid != 0) /* only the kernel speaks on this group */
			continue;
		if (len < 0 || (mh.msg_flags & MSG_TRUNC) || !apply_datagram(p, p->rbuf, (int)len))
			bad = true;
	}
	if (lost) {
		p->lcache.n = 0;
		p->n_fwd = 0;
		p->lcache_lost++;
	}
	return !lost;
}

int vip_nl_links_get(struct vip_port *p, int ifindex, struct vip_port_link *ret)
{
	if (!p->lsock)
		return vip_nl_link_get(p, ifindex, ret);
	bool current = links_sync(p);
	const struct vip_port_link *l = current ? cache_find(p, ifindex) : NULL;
	if (l) {
		*ret = *l;
		return 0;
	}
	struct vip_port_link fresh;
	int r = vip_nl_link_get(p, ifindex, &fresh);
	if (r < 0)
		return r;
	/* Every change after the drain is queued behind it: keeping this is safe. */
	if (current)
		(void)cache_put(p, &fresh);
	*ret = fresh;
	return 0;
}

static int netconf_cb(const struct nlmsghdr *nlh, void *data)
{
	int *forwarding = data, ifindex;
	if (nlh->nlmsg_type == RTM_NEWNETCONF && parse_netconf(nlh, &ifindex, forwarding) < 0)
		*forwarding = -1;
	return MNL_CB_OK;
}

/* The kernel's answer for one link: 0 or 1, or -errno (no netconf: an old kernel). */
static int forwarding_ask(struct vip_port *p, int ifindex)
{
	char buf[VIP_NL_REQ_MAX];
	int forwarding = -1;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETNETCONF;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	struct netconfmsg *ncm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ncm));
	ncm->ncm_family = AF_INET6;
	mnl_attr_put_u32(nlh, NETCONFA_IFINDEX, (uint32_t)ifindex);
	p->netconf_requests++;
	int r = vip_nl_transact(p, nlh, netconf_cb, &forwarding, NULL, NULL, 0);
	if (r < 0)
		return r;
	return forwarding < 0 ? -ENODATA : forwarding;
}

/* /proc, when rtnetlink has no answer; false when unknown. */
static bool forwarding_proc(const struct vip_port_link *l)
{
	char path[96], v[8] = "";
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/forwarding", l->ifname);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, v, sizeof(v) - 1) <= 0)
		return false;
	return v[0] == '1';
}

bool vip_nl_links_forwarding(struct vip_port *p, const struct vip_port_link *l)
{
	bool current = p->lsock && p->fwd_events && links_sync(p);
	const struct vip_nl_fwd *f = current ? fwd_find(p, l->ifindex) : NULL;
	if (f)
		return f->on;
	int r = forwarding_ask(p, l->ifindex);
	if (r < 0)
		return forwarding_proc(l);
	if (current)
		(void)fwd_put(p, l->ifindex, r > 0);
	return r > 0;
}

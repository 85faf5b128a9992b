/* SPDX-License-Identifier: MIT */
/*
 * Linux port: the link state announcements are built from (flags, MAC),
 * kept current without a request per announcement. A socket of its own
 * listens to RTNLGRP_LINK only; before each use everything queued on it is
 * applied, so a change the kernel made before the announcement (`ip link set
 * dev X arp off`, a new MAC) is always seen: the kernel queues a link's
 * notification before the call that changed it returns. The event socket
 * cannot serve here: at that moment it holds the echoes of the addresses
 * just added, which belong to the engine. Lost notifications (ENOBUFS, a
 * truncated datagram) empty the cache; a link not in it is asked for with
 * RTM_GETLINK and kept only when nothing was lost (docs/port.md §2).
 */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

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

int vip_nl_links_apply(struct vip_port *p, const struct nlmsghdr *nlh)
{
	struct vip_port_link l;
	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return 0;
	int r = vip_nl_parse_link(nlh, &l);
	if (r == -EAFNOSUPPORT)
		return 0;
	if (r < 0)
		return r;
	if (nlh->nlmsg_type == RTM_DELLINK) {
		cache_forget(p, l.ifindex);
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

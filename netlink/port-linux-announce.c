/* SPDX-License-Identifier: MIT */
/*
 * Linux port: announcements on one AF_PACKET socket. The socket is opened
 * before the privilege drop (cap_net_raw), protocol 0 and a drop-all filter so
 * it never queues received traffic, and frames go out with sendmmsg.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "port-internal.h"
#include "port-linux-internal.h"

#define PKT_SNDBUF (4 << 20)
#define FRAMES_PER_CALL 512
#define LINKS_PER_CALL 64

int vip_nl_packet_open(struct vip_port *p)
{
	struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &drop };

	p->pkt = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (p->pkt < 0)
		return negerrno();
	if (setsockopt(p->pkt, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		return negerrno();
	int r = vip_nl_sock_bufsize(p->pkt, SO_SNDBUFFORCE, SO_SNDBUF, PKT_SNDBUF);
	return r < 0 ? r : 0;
}

struct link_info {
	int ifindex;
	int err;     /* 0 or why nothing can be sent on it */
	bool router; /* IPv6 forwarding on */
	bool router_known;
	struct vip_port_link l;
	struct sockaddr_ll sll;
};

struct announce_ctx {
	struct vip_port *p;
	struct link_info links[LINKS_PER_CALL];
	size_t n_links;
	uint8_t frames[FRAMES_PER_CALL][VIP_FRAME_MAX];
	struct iovec iov[FRAMES_PER_CALL];
	struct mmsghdr msgs[FRAMES_PER_CALL];
	size_t owner[FRAMES_PER_CALL]; /* batch entry of each frame */
	unsigned n;
	int sent;
};

static void flush_frames(struct announce_ctx *c, struct vip_port_announce *batch);

static struct link_info *link_info(struct announce_ctx *c, struct vip_port_announce *batch, int ifindex)
{
	for (size_t i = 0; i < c->n_links; i++)
		if (c->links[i].ifindex == ifindex)
			return &c->links[i];
	/* A per-call cache: when full, send what refers to it and start over. */
	if (c->n_links == LINKS_PER_CALL) {
		flush_frames(c, batch);
		c->n_links = 0;
	}
	struct link_info *li = &c->links[c->n_links++];
	memset(li, 0, sizeof(*li));
	li->ifindex = ifindex;
	li->err = vip_nl_links_get(c->p, ifindex, &li->l);
	if (li->err == 0 && li->l.hwaddr_len != VIP_ETH_ALEN && !li->l.noarp)
		li->err = -EOPNOTSUPP; /* not Ethernet */
	li->sll.sll_family = AF_PACKET;
	li->sll.sll_ifindex = ifindex;
	li->sll.sll_halen = VIP_ETH_ALEN;
	return li;
}

/* Send what is queued; a frame the kernel refused marks its entry. */
static void flush_frames(struct announce_ctx *c, struct vip_port_announce *batch)
{
	unsigned done = 0;
	for (int tries = 0; done < c->n && tries < 1000; tries++) {
		int r = sendmmsg(c->p->pkt, c->msgs + done, c->n - done, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* The first unsent frame failed: charge it and go on with the rest. */
			int err = r < 0 ? negerrno() : -EIO;
			batch[c->owner[done]].result = err;
			done++;
			continue;
		}
		for (unsigned k = done; k < done + (unsigned)r; k++)
			if (batch[c->owner[k]].result >= 0)
				batch[c->owner[k]].result++;
		c->sent += r;
		done += (unsigned)r;
	}
	c->n = 0;
}

static void queue_frame(struct announce_ctx *c, struct vip_port_announce *batch, size_t owner,
			struct link_info *li, size_t len, uint16_t proto)
{
	unsigned k = c->n++;
	c->iov[k] = (struct iovec){ c->frames[k], len };
	c->msgs[k] = (struct mmsghdr){ 0 };
	c->msgs[k].msg_hdr.msg_name = &li->sll;
	c->msgs[k].msg_hdr.msg_namelen = sizeof(li->sll);
	c->msgs[k].msg_hdr.msg_iov = &c->iov[k];
	c->msgs[k].msg_hdr.msg_iovlen = 1;
	c->owner[k] = owner;
	li->sll.sll_protocol = htons(proto);
	if (c->n == FRAMES_PER_CALL)
		flush_frames(c, batch);
}

static void announce_one(struct announce_ctx *c, struct vip_port_announce *batch, size_t i,
			 enum vip_arp_mode mode)
{
	struct vip_port_announce *a = &batch[i];
	struct link_info *li = link_info(c, batch, a->ifindex);
	a->result = li->err;
	if (li->err < 0 || li->l.noarp)
		return;
	if (a->unicast && a->dst_ip.family != a->addr.family) {
		a->result = -EINVAL;
		return;
	}
	/* Frames already queued for this link keep their protocol: sll_protocol only
	 * selects the packet's skb->protocol, and ARP and IPv6 never share a flush. */
	if (a->addr.family == AF_INET) {
		if (c->n && li->sll.sll_protocol != htons(ETH_P_ARP))
			flush_frames(c, batch);
		if (mode != VIP_ARP_REPLY)
			queue_frame(c, batch, i, li,
				    vip_frame_announce(c->frames[c->n], li->l.hwaddr, a, false, false),
				    ETH_P_ARP);
		if (mode != VIP_ARP_REQUEST)
			queue_frame(c, batch, i, li,
				    vip_frame_announce(c->frames[c->n], li->l.hwaddr, a, true, false),
				    ETH_P_ARP);
	} else if (a->addr.family == AF_INET6) {
		if (!li->router_known) {
			li->router = vip_nl_links_forwarding(c->p, &li->l);
			li->router_known = true;
		}
		if (c->n && li->sll.sll_protocol != htons(ETH_P_IPV6))
			flush_frames(c, batch);
		queue_frame(c, batch, i, li,
			    vip_frame_announce(c->frames[c->n], li->l.hwaddr, a, false, li->router),
			    ETH_P_IPV6);
	} else {
		a->result = -EAFNOSUPPORT;
	}
}

int vip_nl_announce(struct vip_port *p, struct vip_port_announce *batch, size_t n, enum vip_arp_mode mode)
{
	if (p->pkt < 0)
		return -ENOTCONN;
	if ((unsigned)mode >= _VIP_ARP_MODE_MAX)
		return -EINVAL;
	struct announce_ctx *c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->p = p;
	c->n_links = 0;
	c->n = 0;
	c->sent = 0;
	for (size_t i = 0; i < n; i++)
		announce_one(c, batch, i, mode);
	flush_frames(c, batch);
	int sent = c->sent;
	free(c);
	return sent;
}

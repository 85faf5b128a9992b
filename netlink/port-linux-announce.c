/* SPDX-License-Identifier: MIT */
/*
 * Linux port: announcements and probes on one AF_PACKET socket. The socket
 * is opened before the privilege drop (cap_net_raw), protocol 0 and a drop-all
 * filter so it never queues received traffic, and frames go out with
 * sendmmsg. Answers to probes come in on sockets of their own
 * (port-linux-probe.c).
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
	int *owner[FRAMES_PER_CALL]; /* result of the batch entry of each frame */
	unsigned n;
	int sent;
};

static void flush_frames(struct announce_ctx *c);

static struct link_info *link_info(struct announce_ctx *c, int ifindex)
{
	for (size_t i = 0; i < c->n_links; i++)
		if (c->links[i].ifindex == ifindex)
			return &c->links[i];
	/* A per-call cache: when full, send what refers to it and start over. */
	if (c->n_links == LINKS_PER_CALL) {
		flush_frames(c);
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
static void flush_frames(struct announce_ctx *c)
{
	unsigned done = 0;
	for (int tries = 0; done < c->n && tries < 1000; tries++) {
		int r = sendmmsg(c->p->pkt, c->msgs + done, c->n - done, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* The first unsent frame failed: charge it and go on with the rest. */
			int err = r < 0 ? negerrno() : -EIO;
			*c->owner[done] = err;
			done++;
			continue;
		}
		for (unsigned k = done; k < done + (unsigned)r; k++)
			if (*c->owner[k] >= 0)
				(*c->owner[k])++;
		c->sent += r;
		done += (unsigned)r;
	}
	c->n = 0;
}

static void queue_frame(struct announce_ctx *c, int *owner, struct link_info *li, size_t len, uint16_t proto)
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
		flush_frames(c);
}

/* Where the next frame for li goes: frames already queued for this link keep their
 * protocol (sll_protocol only selects the packet's skb->protocol), so ARP and IPv6
 * never share a flush. */
static uint8_t *frame_slot(struct announce_ctx *c, struct link_info *li, uint16_t proto)
{
	if (c->n && li->sll.sll_protocol != htons(proto))
		flush_frames(c);
	return c->frames[c->n];
}

static void announce_one(struct announce_ctx *c, struct vip_port_announce *a, enum vip_arp_mode mode)
{
	struct link_info *li = link_info(c, a->ifindex);
	a->result = li->err;
	if (li->err < 0 || li->l.noarp)
		return;
	if (a->unicast && a->dst_ip.family != a->addr.family) {
		a->result = -EINVAL;
		return;
	}
	if (a->addr.family == AF_INET) {
		(void)frame_slot(c, li, ETH_P_ARP);
		if (mode != VIP_ARP_REPLY)
			queue_frame(c, &a->result, li,
				    vip_frame_announce(c->frames[c->n], li->l.hwaddr, a, false, false),
				    ETH_P_ARP);
		if (mode != VIP_ARP_REQUEST)
			queue_frame(c, &a->result, li,
				    vip_frame_announce(c->frames[c->n], li->l.hwaddr, a, true, false),
				    ETH_P_ARP);
	} else if (a->addr.family == AF_INET6) {
		if (!li->router_known) {
			li->router = vip_nl_links_forwarding(c->p, &li->l);
			li->router_known = true;
		}
		uint8_t *f = frame_slot(c, li, ETH_P_IPV6);
		queue_frame(c, &a->result, li, vip_frame_announce(f, li->l.hwaddr, a, false, li->router),
			    ETH_P_IPV6);
	} else {
		a->result = -EAFNOSUPPORT;
	}
}

static struct announce_ctx *ctx_new(struct vip_port *p)
{
	struct announce_ctx *c = malloc(sizeof(*c));
	if (!c)
		return NULL;
	c->p = p;
	c->n_links = 0;
	c->n = 0;
	c->sent = 0;
	return c;
}

/* Send what is still queued, free; the number of frames sent. */
static int ctx_finish(struct announce_ctx *c)
{
	flush_frames(c);
	int sent = c->sent;
	free(c);
	return sent;
}

int vip_nl_announce(struct vip_port *p, struct vip_port_announce *batch, size_t n, enum vip_arp_mode mode)
{
	if (p->pkt < 0)
		return -ENOTCONN;
	if ((unsigned)mode >= _VIP_ARP_MODE_MAX)
		return -EINVAL;
	struct announce_ctx *c = ctx_new(p);
	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		announce_one(c, &batch[i], mode);
	return ctx_finish(c);
}

/* A probe is only worth sending when its answer can be heard: without the receive socket
 * of its family the entry fails -ENOTCONN and the caller knows it learnt nothing. */
static void probe_one(struct announce_ctx *c, struct vip_port_probe *pr)
{
	struct link_info *li = link_info(c, pr->ifindex);
	pr->result = li->err;
	if (li->err < 0 || li->l.noarp)
		return;
	if (pr->addr.family == AF_INET) {
		if (c->p->arp_rx < 0) {
			pr->result = -ENOTCONN;
			return;
		}
		uint8_t *f = frame_slot(c, li, ETH_P_ARP);
		queue_frame(c, &pr->result, li, vip_frame_arp_probe(f, li->l.hwaddr, &pr->addr.v4),
			    ETH_P_ARP);
	} else if (pr->addr.family == AF_INET6) {
		if (c->p->nd_rx < 0) {
			pr->result = -ENOTCONN;
			return;
		}
		uint8_t *f = frame_slot(c, li, ETH_P_IPV6);
		queue_frame(c, &pr->result, li, vip_frame_dad_ns(f, li->l.hwaddr, &pr->addr.v6), ETH_P_IPV6);
	} else {
		pr->result = -EAFNOSUPPORT;
	}
}

int vip_nl_probe(struct vip_port *p, struct vip_port_probe *batch, size_t n)
{
	if (p->pkt < 0)
		return -ENOTCONN;
	struct announce_ctx *c = ctx_new(p);
	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		probe_one(c, &batch[i]);
	return ctx_finish(c);
}

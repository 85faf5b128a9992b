/* SPDX-License-Identifier: MIT */
/*
 * Linux port: the answers to probes (docs/port.md §8). Two sockets, opened by
 * open() before the privilege drop:
 *
 *  - IPv4: AF_PACKET SOCK_DGRAM bound to ETH_P_ARP. A protocol-specific packet
 *    socket sees received ARP only (never what this host sends) and costs
 *    nothing for other traffic. While not listening a classic BPF filter drops
 *    every packet before it is queued; while listening one accepts ARP
 *    requests and replies for IPv4 over Ethernet from a sender other than
 *    0.0.0.0, and user space parses each again (vip_frame_parse_arp_answer).
 *  - IPv6: raw ICMPv6, its ICMP6_FILTER blocking every type while not
 *    listening and passing neighbour advertisements (136) while listening;
 *    IPV6_PKTINFO gives the link, IPV6_HOPLIMIT the hop limit (255 or it did
 *    not come from the link), the kernel has checked the checksum.
 *
 * Both get a large receive buffer: thousands of answers can come at once.
 * Lost answers are never silent: PACKET_STATISTICS (tp_drops, reset by each
 * read) for the packet socket and the socket's drop counter (SO_MEMINFO) for
 * the raw one are read at each next_answer(), and a drop yields -ENOBUFS
 * once. A drop only happens on a full queue, so after one the fd stays
 * readable until next_answer() is called again: it cannot go unseen.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/sock_diag.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "port-internal.h"
#include "port-linux-internal.h"

#define RX_RCVBUF (4 << 20)
/* Packets next_answer() reads per call before it returns 0 (the fd stays readable). */
#define READS_PER_CALL 64
/* Packets a drain reads at most: a full 8 MiB queue of the smallest skbs, with margin. */
#define DRAIN_MAX 65536
/* Room for an NA with options on any usual MTU; longer ones are cut and then refused. */
#define ND_BUF 2048

static int setint(int fd, int level, int opt, int val)
{
	return setsockopt(fd, level, opt, &val, sizeof(val)) < 0 ? negerrno() : 0;
}

static int arp_filter(int fd, bool on)
{
	/* On: ARP, Ethernet/IPv4 (htype 1, ptype 0x0800, hlen 6, plen 4), request or reply,
	 * sender protocol address not 0.0.0.0. A read past the packet drops it. */
	struct sock_filter accept[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x00010800, 0, 7),
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0604, 0, 5),
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 1, 0, 3),
		BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 2, 2, 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 14),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_K, 0x40000),
	};
	struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &drop };
	if (on)
		prog = (struct sock_fprog){ .len = sizeof(accept) / sizeof(accept[0]), .filter = accept };
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ? negerrno() : 0;
}

static int nd_filter(int fd, bool on)
{
	struct icmp6_filter f;
	ICMP6_FILTER_SETBLOCKALL(&f);
	if (on)
		ICMP6_FILTER_SETPASS(ND_NEIGHBOR_ADVERT, &f);
	return setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f)) < 0 ? negerrno() : 0;
}

/* Read and forget everything queued (bounded). */
static void drain(int fd)
{
	uint8_t buf[64];
	for (int i = 0; i < DRAIN_MAX; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && errno != EINTR)
			return;
	}
}

static int arp_open(void)
{
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return negerrno();
	/* Protocol 0 until the filter is on: nothing can be queued before it. */
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP) };
	int r = arp_filter(fd, false);
	if (r >= 0)
		r = vip_nl_sock_bufsize(fd, SO_RCVBUFFORCE, SO_RCVBUF, RX_RCVBUF);
	if (r >= 0 && bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		r = negerrno();
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* The socket's drop counter (SO_MEMINFO): 1 when it moved since *last (updated), 0, or -errno. */
static int meminfo_drops(int fd, uint32_t *last)
{
	uint32_t mem[SK_MEMINFO_VARS] = { 0 };
	socklen_t len = sizeof(mem);
	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0)
		return negerrno();
	if (len < (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t))
		return -EOPNOTSUPP;
	int grew = mem[SK_MEMINFO_DROPS] != *last;
	*last = mem[SK_MEMINFO_DROPS];
	return grew;
}

static int nd_open(struct vip_port *p)
{
	int fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	if (fd < 0)
		return negerrno();
	int r = nd_filter(fd, false);
	if (r >= 0)
		r = setint(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
	if (r >= 0)
		r = setint(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1);
	if (r >= 0)
		r = vip_nl_sock_bufsize(fd, SO_RCVBUFFORCE, SO_RCVBUF, RX_RCVBUF);
	/* Without a drop counter (SO_MEMINFO: Linux 4.12) a loss could go unseen: no socket. */
	if (r >= 0)
		r = meminfo_drops(fd, &p->nd_drops);
	if (r < 0) {
		close(fd);
		return r;
	}
	/* What came between socket() and the filter. */
	drain(fd);
	return fd;
}

void vip_nl_probe_open(struct vip_port *p)
{
	int fd = arp_open();
	p->arp_rx = fd >= 0 ? fd : -1;
	fd = nd_open(p);
	p->nd_rx = fd >= 0 ? fd : -1;
	p->listening = false;
}

void vip_nl_probe_close(struct vip_port *p)
{
	if (p->arp_rx >= 0)
		close(p->arp_rx);
	if (p->nd_rx >= 0)
		close(p->nd_rx);
	p->arp_rx = p->nd_rx = -1;
}

/* Whether answers were dropped since the last look at each socket: 1, 0, or -errno. */
static int arp_drops(struct vip_port *p)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);
	if (p->arp_rx < 0)
		return 0;
	/* The kernel zeroes the counters at each read. */
	if (getsockopt(p->arp_rx, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
		return negerrno();
	return st.tp_drops > 0;
}

static int nd_drops(struct vip_port *p)
{
	return p->nd_rx < 0 ? 0 : meminfo_drops(p->nd_rx, &p->nd_drops);
}

/*
 * One receive socket (none when fd < 0). Off: stop queueing, then forget. On: forget
 * what raced the last off, take the drop counter as it is now, then queue.
 */
static int listen_one(struct vip_port *p, int fd, int (*filter)(int fd, bool on),
		      int (*drops)(struct vip_port *p), bool on)
{
	int r;
	if (fd < 0)
		return 0;
	if (!on && (r = filter(fd, false)) < 0)
		return r;
	drain(fd);
	if (on && ((r = drops(p)) < 0 || (r = filter(fd, true)) < 0))
		return r;
	return 0;
}

int vip_nl_probe_listen(struct vip_port *p, bool on)
{
	if (p->arp_rx < 0 && p->nd_rx < 0)
		return -ENOTCONN;
	/* Again on while on: what is queued answers probes in flight, keep it. */
	if (on && p->listening)
		return 0;
	int r = listen_one(p, p->arp_rx, arp_filter, arp_drops, on);
	if (r == 0)
		r = listen_one(p, p->nd_rx, nd_filter, nd_drops, on);
	if (r == 0)
		p->listening = on;
	return r;
}

int vip_nl_probe_fds(struct vip_port *p, int ret[VIP_PORT_PROBE_FDS])
{
	int n = 0;
	if (p->arp_rx >= 0)
		ret[n++] = p->arp_rx;
	if (p->nd_rx >= 0)
		ret[n++] = p->nd_rx;
	return n;
}

/* One queued ARP packet: 1 (an answer in *ret), 0 (not one), -EAGAIN (none queued) or -errno. */
static int arp_read(struct vip_port *p, struct vip_port_answer *ret)
{
	uint8_t buf[64];
	struct sockaddr_ll from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(p->arp_rx, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
	if (n < 0)
		return errno == EINTR ? 0 : errno == EWOULDBLOCK ? -EAGAIN : negerrno();
	/* Older kernels give the address up to sll_addr's used bytes only. */
	if (fl < offsetof(struct sockaddr_ll, sll_addr) || from.sll_ifindex <= 0 ||
	    from.sll_pkttype == PACKET_OUTGOING)
		return 0;
	/* A frame of ours that came back (a looped switch port) is no claim; when the link
	 * cannot be looked up the packet counts, the safe side. */
	struct vip_port_link l;
	const uint8_t *own = NULL;
	if (vip_nl_links_get(p, from.sll_ifindex, &l) == 0 && l.hwaddr_len == VIP_ETH_ALEN)
		own = l.hwaddr;
	struct vip_port_answer a;
	if (vip_frame_parse_arp_answer(buf, (size_t)n, own, &a) < 0)
		return 0;
	a.ifindex = from.sll_ifindex;
	*ret = a;
	return 1;
}

/* The link and hop limit of a received ICMPv6 message from its control data; false if missing. */
static bool nd_cmsg(struct msghdr *mh, int *ret_ifindex, int *ret_hops)
{
	bool have_info = false, have_hops = false;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != IPPROTO_IPV6)
			continue;
		if (c->cmsg_type == IPV6_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			*ret_ifindex = (int)pi.ipi6_ifindex;
			have_info = true;
		} else if (c->cmsg_type == IPV6_HOPLIMIT && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
			memcpy(ret_hops, CMSG_DATA(c), sizeof(int));
			have_hops = true;
		}
	}
	return have_info && have_hops;
}

/*
 * One queued NA, returned like arp_read. Every NA counts, also one this host sent (a
 * raw socket cannot tell): this host only advertises addresses it holds, and the
 * engine probes only addresses it does not hold, so such an answer names nothing in
 * flight.
 */
static int nd_read(struct vip_port *p, struct vip_port_answer *ret)
{
	uint8_t buf[ND_BUF];
	union {
		struct cmsghdr align;
		uint8_t b[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int))];
	} ctl;
	struct sockaddr_in6 from;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_name = &from,
			     .msg_namelen = sizeof(from),
			     .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	ssize_t n = recvmsg(p->nd_rx, &mh, MSG_DONTWAIT);
	if (n < 0)
		return errno == EINTR ? 0 : errno == EWOULDBLOCK ? -EAGAIN : negerrno();
	int ifindex = 0, hops = 0;
	if (!nd_cmsg(&mh, &ifindex, &hops) || ifindex <= 0 || hops != 255)
		return 0;
	struct vip_port_answer a;
	if (vip_frame_parse_na_answer(buf, (size_t)n, &a) < 0)
		return 0;
	a.ifindex = ifindex;
	*ret = a;
	return 1;
}

int vip_nl_next_answer(struct vip_port *p, struct vip_port_answer *ret)
{
	if (p->arp_rx < 0 && p->nd_rx < 0)
		return -ENOTCONN;
	if (!p->listening)
		return 0;
	int a = arp_drops(p), b = nd_drops(p);
	if (a < 0 || b < 0)
		return a < 0 ? a : b;
	if (a > 0 || b > 0)
		return -ENOBUFS;
	/* Both sockets in turn, so a flood on one does not starve the other. */
	bool empty[2] = { p->arp_rx < 0, p->nd_rx < 0 };
	for (int i = 0; i < READS_PER_CALL && !(empty[0] && empty[1]); i++) {
		unsigned s = p->probe_turn++ & 1;
		if (empty[s])
			continue;
		int r = s == 0 ? arp_read(p, ret) : nd_read(p, ret);
		if (r == -EAGAIN)
			empty[s] = true;
		else if (r != 0)
			return r;
	}
	/* Only packets that were no answers so far, and more queued: say so, never "none". */
	return empty[0] && empty[1] ? 0 : -EAGAIN;
}

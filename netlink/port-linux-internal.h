/* SPDX-License-Identifier: MIT */
/*
 * Folder-private internals of the Linux port: the context, and the pure
 * message encoders and decoders (no sockets) that the unit tests drive with
 * buffers built in memory and canned kernel replies.
 */
#ifndef VIP_PORT_LINUX_INTERNAL_H
#define VIP_PORT_LINUX_INTERNAL_H

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <stdint.h>

#include "port.h"

/* Largest RTM_NEWADDR/RTM_DELADDR vipd builds (header, ifaddrmsg, 6 attributes). */
#define VIP_NL_ADDR_MSG_MAX 160
#define VIP_NL_PENDING_MAX 4
/* Room for one small request (get link, get route, netconf, dump). */
#define VIP_NL_REQ_MAX 512
/* Receive buffer: the largest datagram the kernel sends us (dumps, events). */
#define VIP_NL_RECV_MAX 32768

struct vip_nl_link_state {
	int ifindex;
	bool up;
	uint8_t hwaddr[VIP_PORT_HWADDR_MAX];
	size_t hwaddr_len;
};

struct vip_port {
	struct mnl_socket *rq; /* requests: blocking, with a receive timeout */
	uint32_t rq_portid;
	uint32_t seq;
	char *sbuf;         /* batch buffer, 2 * batch_limit bytes */
	size_t batch_limit; /* bytes per send */
	size_t chunk_max;   /* requests per send, so their ACKs fit the receive buffer */
	char *rbuf;         /* receive buffer for replies */
	size_t rbuf_len;

	struct mnl_socket *mon; /* events: nonblocking, NULL with NO_MONITOR */
	char *mbuf;
	size_t mbuf_len, mpos, mend;
	struct vip_nl_link_state *links; /* last state seen per link, to turn NEWLINK into edges */
	size_t n_links, cap_links;
	struct vip_port_event pending[VIP_NL_PENDING_MAX];
	unsigned n_pending, pending_pos;

	int pkt; /* AF_PACKET for announcements and probes, -1 with NO_PACKET */

	/* Answers to probes (port-linux-probe.c); -1 with NO_PACKET or when they could not open. */
	int arp_rx;          /* AF_PACKET SOCK_DGRAM, ETH_P_ARP */
	int nd_rx;           /* raw ICMPv6 */
	bool listening;      /* probe_listen(true) */
	unsigned probe_turn; /* which socket next_answer reads first */
	uint32_t nd_drops;   /* nd_rx's drop counter when last looked at */

	/* Link state for announcements (port-linux-links.c); NULL with NO_PACKET. */
	struct mnl_socket *lsock;
	struct vip_port_links lcache;
	struct vip_nl_fwd {
		int ifindex;
		bool on;
	} * fwd; /* IPv6 forwarding per link (the NA Router flag), from RTNLGRP_IPV6_NETCONF */
	size_t n_fwd, cap_fwd;
	bool fwd_events;                /* subscribed to netconf notifications */
	unsigned long lcache_lost;      /* times notifications were lost and the cache emptied */
	unsigned long link_requests;    /* RTM_GETLINK requests sent (vip_nl_link_get) */
	unsigned long netconf_requests; /* RTM_GETNETCONF requests sent (announcements) */
};

/*
 * Whether a message of rest bytes starts at nlh. Use this, not mnl_nlmsg_ok():
 * libmnl 1.0.4 compares the length as a signed int, so a length above 2 GiB
 * passes and mnl_nlmsg_next() then jumps out of the buffer (found by fuzz-nlmsg).
 */
static inline bool vip_nl_msg_ok(const struct nlmsghdr *nlh, int rest)
{
	return rest >= (int)sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) &&
	       nlh->nlmsg_len <= (unsigned)rest;
}

/* Encoders: write one request at nlh (room for VIP_NL_ADDR_MSG_MAX bytes). */
void vip_nl_put_addr_req(struct nlmsghdr *nlh, uint16_t type, uint32_t seq, const struct vip_port_req *r);
void vip_nl_put_addr_dump(struct nlmsghdr *nlh, uint32_t seq);
/* A dump request of type RTM_GETLINK or RTM_GETROUTE for family (AF_UNSPEC, AF_INET, AF_INET6). */
void vip_nl_put_dump(struct nlmsghdr *nlh, uint16_t type, int family, uint32_t seq);

/* Decoders of RTM_{NEW,DEL}ADDR, RTM_{NEW,DEL}LINK and RTM_{NEW,DEL}ROUTE. Each returns 0,
 * -EAFNOSUPPORT (not a family vipd cares about; for routes also a cached clone or a table
 * other than main and local) or -EBADMSG (malformed or another message type). */
int vip_nl_parse_addr(const struct nlmsghdr *nlh, struct vip_port_addr *ret);
int vip_nl_parse_link(const struct nlmsghdr *nlh, struct vip_port_link *ret);
int vip_nl_parse_route(const struct nlmsghdr *nlh, struct vip_port_route *ret);

/*
 * An NLMSG_ERROR message: *ret_err gets its error (0 for an ACK, else -errno)
 * and msg (msglen bytes, may be 0) the extended-ACK text or "". 0 or -EBADMSG.
 */
int vip_nl_parse_ack(const struct nlmsghdr *nlh, int *ret_err, char *msg, size_t msglen);

/* Whether err means the job is done anyway: EEXIST on add, EADDRNOTAVAIL/ENODEV on remove. */
bool vip_nl_is_benign(uint16_t type, int err);

extern const struct vip_port_ops vip_port_linux_ops;

/* Set a socket buffer (SO_*BUFFORCE needs cap_net_admin; else what the sysctl allows).
 * Returns the size the kernel granted or -errno. */
int vip_nl_sock_bufsize(int fd, int force_opt, int opt, int bytes);

/* Internal transaction helpers shared by the Linux files (port-linux.c). */
int vip_nl_transact(struct vip_port *p, struct nlmsghdr *nlh, mnl_cb_t cb, void *data, bool *ret_intr,
		    char *errmsg, size_t errlen);
int vip_nl_link_get(struct vip_port *p, int ifindex, struct vip_port_link *ret);
int vip_nl_dump(struct vip_port *p, int ifindex, struct vip_port_table *t);

/* port-linux-events.c */
int vip_nl_events_open(struct vip_port *p, int rcvbuf);
int vip_nl_event_fd(struct vip_port *p);
int vip_nl_next_event(struct vip_port *p, struct vip_port_event *ret);
void vip_nl_events_close(struct vip_port *p);
/* Turn one monitor message into zero or more events queued in p->pending. */
int vip_nl_event_from_msg(struct vip_port *p, const struct nlmsghdr *nlh);

/* port-linux-dump.c */
int vip_nl_dump_links(struct vip_port *p, struct vip_port_links *t);
int vip_nl_dump_routes(struct vip_port *p, struct vip_port_routes *t);

/* port-linux-links.c: the link cache of announcements. open subscribes and dumps (0 or
 * -errno); get applies every queued notification first, then answers from the cache, or
 * asks the kernel (RTM_GETLINK) for a link it does not hold: 0, -ENODEV or -errno. */
int vip_nl_links_open(struct vip_port *p, int rcvbuf);
void vip_nl_links_close(struct vip_port *p);
int vip_nl_links_get(struct vip_port *p, int ifindex, struct vip_port_link *ret);
/* The link's IPv6 forwarding setting (the NA Router flag), the same way; false when unknown. */
bool vip_nl_links_forwarding(struct vip_port *p, const struct vip_port_link *l);
/* Apply one RTM_{NEW,DEL}LINK or IPv6 RTM_{NEW,DEL}NETCONF to the cache (others are ignored):
 * 0 or -errno. */
int vip_nl_links_apply(struct vip_port *p, const struct nlmsghdr *nlh);

/* port-linux-neigh.c */
/* Decode RTM_{NEW,DEL}NEIGH: 0, -EAFNOSUPPORT (not IPv4/IPv6, or a proxy entry) or -EBADMSG. */
int vip_nl_parse_neigh(const struct nlmsghdr *nlh, struct vip_port_neigh *ret);
/* Queue the event of one RTM_{NEW,DEL}NEIGH in p->pending. 0 or -EBADMSG. */
int vip_nl_neigh_event(struct vip_port *p, const struct nlmsghdr *nlh);
/* Join RTNLGRP_NEIGH on the event socket. 0 or -errno. */
int vip_nl_neigh_subscribe(struct vip_port *p);
int vip_nl_dump_neigh(struct vip_port *p, struct vip_port_neighs *t);

/* port-linux-announce.c */
int vip_nl_packet_open(struct vip_port *p);
int vip_nl_announce(struct vip_port *p, struct vip_port_announce *batch, size_t n, enum vip_arp_mode mode);
int vip_nl_probe(struct vip_port *p, struct vip_port_probe *batch, size_t n);

/* port-linux-probe.c: the sockets answers come in on. open never fails: a socket that
 * could not be opened stays -1 and probes of its family fail -ENOTCONN. */
void vip_nl_probe_open(struct vip_port *p);
void vip_nl_probe_close(struct vip_port *p);
int vip_nl_probe_listen(struct vip_port *p, bool on);
int vip_nl_probe_fds(struct vip_port *p, int ret[VIP_PORT_PROBE_FDS]);
int vip_nl_next_answer(struct vip_port *p, struct vip_port_answer *ret);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * netlink/: the port layer, vipd's one interface to the operating system's
 * networking (docs/design.md §4).
 *
 * A port is `const struct vip_port_ops` plus an opaque `struct vip_port`
 * context that only the ops which opened it may touch. Meson compiles exactly
 * one native port (Linux: libmnl + AF_PACKET; SunOS: logical interfaces +
 * DLPI) and `vip_port_native()` returns it; `vip_port_fake_ops` is an
 * in-memory port for unit tests, with test hooks declared at the end.
 *
 * Conventions: every function returns 0 (or a count) on success and -errno on
 * failure; `ret` out-parameters are untouched on failure; nothing here logs.
 * Batch calls fill one result per entry: 0 or -errno plus, when the kernel
 * gave one, its extended-ACK text in `errmsg`.
 *
 * The port is mechanism only: links, addresses and routes in plain structs.
 * It knows nothing of the configuration (it links conf/base, never conf/);
 * which interface and prefix a DuraVIP gets (the Topology rules) is decided
 * by vipd/ from dump_links(), dump() and dump_routes(). docs/port.md is the
 * full contract.
 */
#ifndef VIP_PORT_H
#define VIP_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base.h"

/* IFA_PROTO value carried by every address vipd adds ('v'; the kernel reserves 0..3). */
#define VIP_PORT_IFA_PROTO 0x76

/* Suffix of the alias label vipd gives IPv4 addresses: "<ifname>:dv". */
#define VIP_PORT_LABEL_SUFFIX ":dv"

/* Interface name or label with its NUL (IFNAMSIZ on Linux). */
#define VIP_PORT_NAME_MAX 16
/* Extended-ACK text kept per entry, with its NUL (longer text is cut). */
#define VIP_PORT_ERRMSG_MAX 96
/* Link-layer address bytes kept (Ethernet uses 6). */
#define VIP_PORT_HWADDR_MAX 16

struct vip_port;

/* ------------------------------------------------------------------ */
/* Opening                                                             */
/* ------------------------------------------------------------------ */

/* No AF_PACKET socket: announce() fails -ENOTCONN. Needs only cap_net_admin (vipd's monitor, --flush). */
#define VIP_PORT_OPEN_NO_PACKET (1u << 0)
/* No event socket: event_fd() and next_event() fail -ENOTCONN. */
#define VIP_PORT_OPEN_NO_MONITOR (1u << 1)
/* The event socket also reports neighbour (ARP, NDP) changes: NEIGH_NEW, NEIGH_DEL. */
#define VIP_PORT_OPEN_NEIGH (1u << 2)

struct vip_port_opts {
	unsigned flags;     /* VIP_PORT_OPEN_* */
	int monitor_rcvbuf; /* event sockets' receive buffer in bytes; 0: 8 MiB (links of announcements: 1 MiB) */
};

/* ------------------------------------------------------------------ */
/* Data                                                                */
/* ------------------------------------------------------------------ */

/* One address in an add or remove batch. */
struct vip_port_req {
	/* in */
	struct vip_addr addr;
	unsigned prefix; /* add: required; remove: required for IPv6, ignored for IPv4 */
	int ifindex;
	char label[VIP_PORT_NAME_MAX]; /* add, IPv4 only: "" for none; see vip_port_label() */
	/* out */
	int result;                       /* 0 or -errno */
	char errmsg[VIP_PORT_ERRMSG_MAX]; /* the kernel's extended-ACK text, or "" */
};

/* Portable address flags (struct vip_port_addr.flags, events). */
#define VIP_PORT_ADDR_SECONDARY (1u << 0)
#define VIP_PORT_ADDR_TENTATIVE (1u << 1) /* IPv6 DAD in progress */
#define VIP_PORT_ADDR_DADFAILED (1u << 2)
#define VIP_PORT_ADDR_DEPRECATED (1u << 3)
#define VIP_PORT_ADDR_NODAD (1u << 4)
#define VIP_PORT_ADDR_PERMANENT (1u << 5)

/* One address as the system has it. */
struct vip_port_addr {
	struct vip_addr addr;
	unsigned prefix;
	int ifindex;
	unsigned flags;                /* VIP_PORT_ADDR_* */
	uint8_t proto;                 /* IFA_PROTO as the kernel reports it, 0 when none */
	bool ours;                     /* proto == VIP_PORT_IFA_PROTO */
	char label[VIP_PORT_NAME_MAX]; /* "" when none */
};

/* A caller's table that dump() fills; zero-initialise, free with vip_port_table_clear(). */
struct vip_port_table {
	struct vip_port_addr *items;
	size_t n;
	size_t cap;
};

/* One link. */
struct vip_port_link {
	int ifindex;
	char ifname[VIP_PORT_NAME_MAX];
	bool up;    /* administratively up and carrier (IFF_UP && IFF_RUNNING) */
	bool noarp; /* IFF_NOARP: nothing is announced on it */
	bool loopback;
	unsigned mtu;
	uint8_t hwaddr[VIP_PORT_HWADDR_MAX];
	size_t hwaddr_len; /* 6 for Ethernet, 0 when none */
};

enum vip_port_event_type {
	VIP_PORT_EV_ADDR_NEW,      /* an address was added or changed (by anyone; see .ours) */
	VIP_PORT_EV_ADDR_DEL,      /* an address was removed (by anyone) */
	VIP_PORT_EV_LINK_UP,       /* link became up, or a new link appeared up */
	VIP_PORT_EV_LINK_DOWN,     /* link became down, or a new link appeared down */
	VIP_PORT_EV_LINK_GONE,     /* link deleted (its addresses are gone with it) */
	VIP_PORT_EV_LINK_MAC,      /* link-layer address changed: re-announce */
	VIP_PORT_EV_RESYNC_NEEDED, /* events were lost (overrun): dump and reconcile */
	VIP_PORT_EV_NEIGH_NEW,     /* a neighbour entry was added or changed (see .neigh) */
	VIP_PORT_EV_NEIGH_DEL,     /* a neighbour entry was deleted (see .neigh) */
	_VIP_PORT_EV_MAX,
};
const char *vip_port_event_type_to_string(enum vip_port_event_type t);
int vip_port_event_type_from_string(const char *s); /* value or -EINVAL */

/* The state of a neighbour (ARP / NDP) entry, as far as vipd cares. */
enum vip_port_neigh_state {
	VIP_PORT_NEIGH_REACHABLE,  /* confirmed recently */
	VIP_PORT_NEIGH_STALE,      /* known, not confirmed recently */
	VIP_PORT_NEIGH_DELAY,      /* being confirmed */
	VIP_PORT_NEIGH_PROBE,      /* being confirmed */
	VIP_PORT_NEIGH_INCOMPLETE, /* being resolved: no link-layer address yet */
	VIP_PORT_NEIGH_FAILED,     /* resolution failed: the host does not answer */
	VIP_PORT_NEIGH_OTHER,      /* static (PERMANENT, NOARP) or none: not a host vipd learns */
	_VIP_PORT_NEIGH_STATE_MAX,
};
const char *vip_port_neigh_state_to_string(enum vip_port_neigh_state s);

/* One neighbour (ARP or NDP) entry as the system has it. */
struct vip_port_neigh {
	struct vip_addr addr; /* the host's address */
	int ifindex;
	enum vip_port_neigh_state state;
	uint8_t hwaddr[VIP_PORT_HWADDR_MAX];
	size_t hwaddr_len; /* 6 for Ethernet, 0 when none (INCOMPLETE, FAILED) */
	uint32_t age_ms;   /* since the system last heard from or sent to the host; 0 when unknown */
	bool router;       /* IPv6: the host says it is a router */
};

/* A caller's table that dump_neigh() fills; zero-initialise, free with vip_port_neighs_clear(). */
struct vip_port_neighs {
	struct vip_port_neigh *items;
	size_t n;
	size_t cap;
};

struct vip_port_event {
	enum vip_port_event_type type;
	int ifindex;                 /* 0 for RESYNC_NEEDED */
	struct vip_port_addr addr;   /* ADDR_*: the address (ifindex repeated in it) */
	struct vip_port_link link;   /* LINK_*: the link's new state (GONE: last known) */
	struct vip_port_neigh neigh; /* NEIGH_*: the entry (DEL: as last known; ifindex repeated) */
};

/* What a route leads to (struct vip_port_route.type). */
enum vip_port_route_type {
	VIP_PORT_ROUTE_UNICAST, /* a network or host reached through a link (or a gateway) */
	VIP_PORT_ROUTE_LOCAL,   /* an address of this host (the kernel's local table) */
	VIP_PORT_ROUTE_OTHER,   /* broadcast, blackhole, unreachable, prohibit, multicast, ... */
	_VIP_PORT_ROUTE_TYPE_MAX,
};
const char *vip_port_route_type_to_string(enum vip_port_route_type t);

/* One route as the system has it. */
struct vip_port_route {
	struct vip_addr dst; /* the network, host bits clear (family = its family) */
	unsigned dst_len;    /* prefix length, 0 for a default route */
	enum vip_port_route_type type;
	bool local_table; /* from the table consulted first (Linux: local), else main */
	bool gateway;     /* through a next hop: not a connected route */
	int ifindex;      /* output link; 0 when none or several (multipath, nexthop objects) */
	uint32_t metric;  /* among routes to the same network the lowest wins */
};

/* A caller's table that dump_routes() fills; zero-initialise, free with vip_port_routes_clear(). */
struct vip_port_routes {
	struct vip_port_route *items;
	size_t n;
	size_t cap;
};

/* A caller's table that dump_links() fills; zero-initialise, free with vip_port_links_clear(). */
struct vip_port_links {
	struct vip_port_link *items;
	size_t n;
	size_t cap;
};

/* One address to announce. */
struct vip_port_announce {
	/* in */
	struct vip_addr addr;
	int ifindex;
	/* false: to every host (Ethernet broadcast; IPv6 to ff02::1). true: to one host, in
	 * an Ethernet unicast frame to dst_mac; dst_ip is the host's address (same family as
	 * addr): the target of an ARP reply, the destination of an NA (docs/port.md §2). */
	bool unicast;
	uint8_t dst_mac[6];
	struct vip_addr dst_ip;
	/* out */
	int result; /* frames sent for it (0 on IFF_NOARP links), or -errno */
};

/* One address to probe (docs/port.md §8). */
struct vip_port_probe {
	/* in */
	struct vip_addr addr;
	int ifindex;
	/* out */
	int result; /* frames sent for it (0 on IFF_NOARP links: nothing can be probed there), or -errno */
};

/*
 * Another host claims an address: it sent an ARP packet whose sender protocol
 * address is addr (a reply to a probe, a gratuitous ARP, any request it made
 * from addr), or a neighbour advertisement whose target is addr.
 */
struct vip_port_answer {
	struct vip_addr addr;
	int ifindex;                      /* the link it was heard on */
	uint8_t mac[VIP_PORT_HWADDR_MAX]; /* the claimer's link-layer address, as the packet gives it */
	size_t mac_len;                   /* 6 for Ethernet, 0 when the packet gave none */
};

/* Most fds probe_fds() returns. */
#define VIP_PORT_PROBE_FDS 2

/* ------------------------------------------------------------------ */
/* The port                                                            */
/* ------------------------------------------------------------------ */

struct vip_port_ops {
	const char *name; /* "linux", "sunos", "fake" */

	/* Open the sockets (call before dropping privileges; afterwards every op works with
	 * cap_net_admin + cap_net_raw). opts may be NULL. 0 or -errno; *ret owns the port. */
	int (*open)(const struct vip_port_opts *opts, struct vip_port **ret);

	/* Close every socket and free. Accepts NULL. */
	void (*close)(struct vip_port *p);

	/* Add each address (replace if present, tagged VIP_PORT_IFA_PROTO; IPv6 without DAD).
	 * Already present is success. Returns the number of failed entries (0: all done), or
	 * -errno when the transport failed (unanswered entries then carry that -errno). */
	int (*add)(struct vip_port *p, struct vip_port_req *reqs, size_t n);

	/* Remove each address; already gone (or its link gone) is success. Returns like add. */
	int (*remove)(struct vip_port *p, struct vip_port_req *reqs, size_t n);

	/* Replace t's contents with every address of the system (ifindex 0) or of one link.
	 * Retries an interrupted dump; returns the count, -EAGAIN if it kept being
	 * interrupted, or -errno (t then holds no entries). */
	int (*dump)(struct vip_port *p, int ifindex, struct vip_port_table *t);

	/* Remove every address tagged VIP_PORT_IFA_PROTO (all links, or one). Works on a port
	 * opened with VIP_PORT_OPEN_NO_PACKET|NO_MONITOR. Returns the number removed or -errno
	 * (-EIO when some removals failed; the rest are removed; -EOPNOTSUPP on SunOS, which
	 * has no per-address tag). */
	int (*flush_tagged)(struct vip_port *p, int ifindex);

	/* The fd to poll for readability (EPOLLIN); owned by the port. fd or -ENOTCONN. */
	int (*event_fd)(struct vip_port *p);

	/* Next pending event: 1 with *ret filled, 0 when none is pending (never blocks), or
	 * -errno. An overrun yields RESYNC_NEEDED; call until 0 after each wake-up. (SunOS
	 * reports address changes as RESYNC_NEEDED too.) */
	int (*next_event)(struct vip_port *p, struct vip_port_event *ret);

	/* Replace t's contents with every link of the system. Retries an interrupted dump;
	 * returns the count, -EAGAIN if it kept being interrupted, or -errno (t then holds no
	 * entries). */
	int (*dump_links)(struct vip_port *p, struct vip_port_links *t);

	/* Replace t's contents with the IPv4 and IPv6 routes of the tables an ordinary
	 * destination is looked up in (Linux: local and main; other tables, policy rules and
	 * the route cache are not reported). Connected routes are UNICAST ones with no gateway
	 * and an ifindex. Returns like dump_links. */
	int (*dump_routes)(struct vip_port *p, struct vip_port_routes *t);

	/* State of one link. 0, -ENODEV or -errno. */
	int (*link_get)(struct vip_port *p, int ifindex, struct vip_port_link *ret);

	/* Announce each address once (IPv4 gratuitous ARP in the given mode, IPv6 unsolicited
	 * NA), broadcast or, for a unicast entry, to its one host, in as few system calls as
	 * possible; nothing on IFF_NOARP links. Returns the
	 * number of frames sent or -errno (each entry's result says what happened to it). */
	int (*announce)(struct vip_port *p, struct vip_port_announce *batch, size_t n,
			enum vip_arp_mode mode);

	/* Replace t's contents with every IPv4 and IPv6 neighbour (ARP, NDP) entry of the system,
	 * whatever its state. Returns like dump_links; -EOPNOTSUPP where the system has no such
	 * table (SunOS). Events for them (NEIGH_NEW, NEIGH_DEL) come on the event socket. */
	int (*dump_neigh)(struct vip_port *p, struct vip_port_neighs *t);

	/*
	 * Address conflict probes (docs/port.md §8): one probe per entry, in as few system
	 * calls as possible: IPv4 an ARP probe (RFC 5227: broadcast request, sender hardware
	 * address ours, sender protocol address 0.0.0.0, target protocol address addr), IPv6
	 * a duplicate address detection NS (from :: to addr's solicited-node group, hop
	 * limit 255, target addr, no options). Nothing on IFF_NOARP links. Returns the number
	 * of frames sent or -errno (-EOPNOTSUPP where the system cannot probe; each entry's
	 * result says what happened to it).
	 */
	int (*probe)(struct vip_port *p, struct vip_port_probe *batch, size_t n);

	/*
	 * Take answers (on) or not (off). While off nothing is queued and what was queued is
	 * discarded; turn it on before the probes go out. On while already on keeps what is
	 * queued (answers to probes in flight). 0 or -errno (-EOPNOTSUPP as above).
	 * Works after the privilege drop: the sockets are opened by open().
	 */
	int (*probe_listen)(struct vip_port *p, bool on);

	/* The fds to poll (EPOLLIN) for answers, owned by the port, valid from open to
	 * close, into ret: their count (0 to VIP_PORT_PROBE_FDS) or -errno. */
	int (*probe_fds)(struct vip_port *p, int ret[VIP_PORT_PROBE_FDS]);

	/*
	 * Next answer heard while listening: 1 with *ret filled, 0 when none is pending
	 * (never blocks), -EAGAIN when it skipped a bounded number of packets that were no
	 * answers and more are queued (call again: one of them may be an answer), -ENOBUFS
	 * once when answers were lost (a receive queue overflowed: the caller must treat
	 * every probe it has in flight as answered), or -errno.
	 * Frames the port itself sent, and probes (sender 0.0.0.0, source ::), are never
	 * answers.
	 */
	int (*next_answer)(struct vip_port *p, struct vip_port_answer *ret);
};

/* The port compiled for this system. */
const struct vip_port_ops *vip_port_native(void);

extern const struct vip_port_ops vip_port_fake_ops;

/* ------------------------------------------------------------------ */
/* Helpers (portable, no system calls)                                 */
/* ------------------------------------------------------------------ */

/* Alias label "<ifname>:dv" into ret: 0, -ENAMETOOLONG (does not fit in 15 bytes) or
 * -EAFNOSUPPORT (IPv6 has no labels); ret is "" on failure. */
int vip_port_label(const char *ifname, int family, char ret[VIP_PORT_NAME_MAX]);

/* Append one entry (copied): 0 or -ENOMEM. */
int vip_port_table_add(struct vip_port_table *t, const struct vip_port_addr *a);
/* Free the entries; t is zeroed and can be reused. Accepts NULL. */
void vip_port_table_clear(struct vip_port_table *t);
/* The entry with this address (and ifindex, unless 0), or NULL. */
const struct vip_port_addr *vip_port_table_find(const struct vip_port_table *t, const struct vip_addr *a,
						int ifindex);

/* The same for links and routes: append (copied) 0 or -ENOMEM; clear accepts NULL. */
int vip_port_links_add(struct vip_port_links *t, const struct vip_port_link *l);
void vip_port_links_clear(struct vip_port_links *t);
/* The link with this index, or NULL. */
const struct vip_port_link *vip_port_links_find(const struct vip_port_links *t, int ifindex);
int vip_port_routes_add(struct vip_port_routes *t, const struct vip_port_route *r);
void vip_port_routes_clear(struct vip_port_routes *t);
int vip_port_neighs_add(struct vip_port_neighs *t, const struct vip_port_neigh *n);
void vip_port_neighs_clear(struct vip_port_neighs *t);

/* ------------------------------------------------------------------ */
/* Fake port test hooks (only on ports opened with vip_port_fake_ops)  */
/* ------------------------------------------------------------------ */

/* Create or update a link. 0 or -errno. Emits LINK_UP/DOWN/MAC events as a kernel would. */
int vip_port_fake_set_link(struct vip_port *p, const struct vip_port_link *l);
/* Delete a link and its addresses (emits ADDR_DEL for each, then LINK_GONE). 0 or -ENODEV. */
int vip_port_fake_del_link(struct vip_port *p, int ifindex);
/* Put an address on a link as someone else would (a.ours is taken from a.proto). Emits ADDR_NEW. */
int vip_port_fake_put_addr(struct vip_port *p, const struct vip_port_addr *a);
/*
 * Add a route (a gateway, a device route without an address, a local range). dump_routes()
 * reports these after the routes the fake derives from its addresses as a kernel does: for
 * each address, a LOCAL host route in the local table and, when its prefix is shorter than
 * the host length, a connected UNICAST route to its network. 0 or -ENOMEM.
 */
int vip_port_fake_put_route(struct vip_port *p, const struct vip_port_route *r);
/* Queue one event as if the kernel had sent it (the event fd becomes readable). 0 or -ENOMEM. */
int vip_port_fake_inject_event(struct vip_port *p, const struct vip_port_event *ev);
/* Make add/remove/announce of this address fail with err and msg (err 0 clears it). */
int vip_port_fake_fail_addr(struct vip_port *p, const struct vip_addr *a, int err, const char *msg);
/* Make the next count calls of every op fail with err as a broken transport would. */
void vip_port_fake_fail_calls(struct vip_port *p, int err, unsigned count);
/* Put (add or replace, by address and ifindex) a neighbour entry and emit NEIGH_NEW. 0 or -ENOMEM. */
int vip_port_fake_put_neigh(struct vip_port *p, const struct vip_port_neigh *n);
/* Delete a neighbour entry and emit NEIGH_DEL. 0 or -ENOENT. */
int vip_port_fake_del_neigh(struct vip_port *p, const struct vip_addr *a, int ifindex);
/* Whether add/remove also queue ADDR_NEW/ADDR_DEL events, as the kernel does (default true). */
void vip_port_fake_set_echo(struct vip_port *p, bool echo);

/* The addresses the fake holds now (valid until the next call on p). */
const struct vip_port_table *vip_port_fake_addrs(struct vip_port *p);

/* One frame the fake "sent". */
struct vip_port_fake_frame {
	struct vip_addr addr;
	int ifindex;
	enum vip_arp_mode mode; /* IPv4: which ARP form(s); IPv6: VIP_ARP_REQUEST */
	unsigned frames;        /* 1, or 2 for VIP_ARP_BOTH */
	bool unicast;           /* to one host: */
	uint8_t dst_mac[6];
	struct vip_addr dst_ip;
};
/* Every announcement made since open or the last reset (valid until the next call on p). */
size_t vip_port_fake_announced(struct vip_port *p, const struct vip_port_fake_frame **ret);

/* Every probe made since open or the last reset (valid until the next call on p). */
size_t vip_port_fake_probed(struct vip_port *p, const struct vip_port_probe **ret);
/* Queue an answer as if a host had claimed a->addr (an answer fd is not simulated:
 * next_answer() returns it while listening). 0 or -ENOMEM; -EAGAIN when not listening
 * (a real port would not have queued it either). */
int vip_port_fake_answer(struct vip_port *p, const struct vip_port_answer *a);
/* Make every probe entry fail with err as a link or family that cannot be probed would
 * (-EOPNOTSUPP, -ENOTCONN); 0 clears it. */
void vip_port_fake_fail_probes(struct vip_port *p, int err);
/* Make the next count next_answer() calls return -EAGAIN (packets that were no answers,
 * more queued), as the Linux port does at its per-call bound. */
void vip_port_fake_skip_answers(struct vip_port *p, unsigned count);
/* Make the next next_answer() return -ENOBUFS (answers lost). */
void vip_port_fake_lose_answers(struct vip_port *p);
/* Whether the fake is listening for answers. */
bool vip_port_fake_listening(struct vip_port *p);

/* Counters of calls made on the fake. */
struct vip_port_fake_stats {
	unsigned add_calls, remove_calls, dump_calls, flush_calls, announce_calls, link_get_calls,
		dump_links_calls, dump_routes_calls, dump_neigh_calls, probe_calls;
	size_t added, removed, announced; /* entries that succeeded */
};
void vip_port_fake_get_stats(struct vip_port *p, struct vip_port_fake_stats *ret);
/* Forget the announcement log and zero the counters. */
void vip_port_fake_reset_log(struct vip_port *p);

#endif

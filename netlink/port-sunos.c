/* SPDX-License-Identifier: MIT */
/*
 * The SunOS (illumos, Solaris) port. UNTESTED: this project's CI runs on
 * Linux only; the file was written against the illumos manual pages
 * (if_tcp(4P), route(4P), libdlpi(3LIB)) and has never been compiled.
 *
 * Addresses are logical interfaces: SIOCLIFADDIF on the physical interface,
 * SIOCSLIFNETMASK, SIOCSLIFADDR and IFF_UP through SIOCSLIFFLAGS; removal with
 * SIOCLIFREMOVEIF by address. Announcements go out through libdlpi in raw mode
 * (needs the net_rawaccess privilege), one dlpi_send per frame. Events come
 * from a PF_ROUTE socket: link flag changes become LINK_UP/DOWN/GONE, and any
 * address change becomes RESYNC_NEEDED (the caller re-dumps).
 *
 * Limits compared with Linux (docs/port.md): SunOS has no per-address tag
 * like IFA_PROTO, so dump() reports ours = true only for the addresses this
 * port added since it was opened (kept in memory, sorted), and
 * flush_tagged() returns -EOPNOTSUPP; labels are the kernel's logical
 * interface names; IPv6 DAD is not disabled; there is no extended error
 * text. dump_routes() does not read the kernel's routing table (that takes
 * the STREAMS MIB interface): it reports what the interfaces' addresses
 * imply, a local host route per address and a connected route per subnet,
 * so static device routes and gateways are not seen. Probes before a
 * takeover (probe, probe_listen, next_answer) return -EOPNOTSUPP and
 * probe_fds() none: answers would need a DLPI stream per link.
 */
#include <errno.h>
#include <fcntl.h>
#include <libdlpi.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <stropts.h>
#include <sys/socket.h>
#include <sys/sockio.h>
#include <unistd.h>

#include "port-internal.h"

#define SUN_LINKS_MAX 64
#define SUN_PENDING_MAX 4

/* An address this port added: what dump() reports as ours. */
struct sun_mine {
	struct vip_addr addr;
	int ifindex;
};

struct sun_link {
	int ifindex;
	bool up;
};

struct vip_port {
	unsigned flags;
	int s4, s6; /* ioctl sockets */
	int rt;     /* PF_ROUTE, -1 with NO_MONITOR */
	struct sun_link links[SUN_LINKS_MAX];
	size_t n_links;
	struct vip_port_event pending[SUN_PENDING_MAX];
	unsigned n_pending, pending_pos;
	struct sun_mine *mine; /* sorted by address (vip_addr_bsearch) */
	size_t n_mine, cap_mine;
};

static struct sun_mine *mine_find(struct vip_port *p, const struct vip_addr *a)
{
	return VIP_ADDR_BSEARCH(a, p->mine, p->n_mine, addr);
}

/* Remember (added) or forget (!added) an address. 0 or -ENOMEM. */
static int mine_set(struct vip_port *p, const struct vip_addr *a, int ifindex, bool added)
{
	size_t i = vip_addr_lower_bound(a, p->mine, p->n_mine, sizeof(*p->mine),
					offsetof(struct sun_mine, addr));
	bool there = i < p->n_mine && vip_addr_equal(&p->mine[i].addr, a);
	if (!added) {
		if (there)
			memmove(&p->mine[i], &p->mine[i + 1], (p->n_mine - i - 1) * sizeof(*p->mine));
		p->n_mine -= there;
		return 0;
	}
	if (there) {
		p->mine[i].ifindex = ifindex;
		return 0;
	}
	if (p->n_mine == p->cap_mine) {
		size_t cap = p->cap_mine ? p->cap_mine * 2 : 64;
		struct sun_mine *m = reallocarray(p->mine, cap, sizeof(*m));
		if (!m)
			return -ENOMEM;
		p->mine = m;
		p->cap_mine = cap;
	}
	memmove(&p->mine[i + 1], &p->mine[i], (p->n_mine - i) * sizeof(*p->mine));
	p->mine[i] = (struct sun_mine){ .addr = *a, .ifindex = ifindex };
	p->n_mine++;
	return 0;
}

static int sock_of(struct vip_port *p, int family)
{
	return family == AF_INET6 ? p->s6 : p->s4;
}

static void to_ss(const struct vip_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_addr = a->v4;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = a->v6;
	}
}

static bool from_ss(const struct sockaddr_storage *ss, struct vip_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = ss->ss_family;
	if (ss->ss_family == AF_INET)
		a->v4 = ((const struct sockaddr_in *)ss)->sin_addr;
	else if (ss->ss_family == AF_INET6)
		a->v6 = ((const struct sockaddr_in6 *)ss)->sin6_addr;
	else
		return false;
	return true;
}

static void mask_ss(int family, unsigned prefix, struct sockaddr_storage *ss)
{
	struct vip_addr m = { .family = family };
	for (unsigned i = 0; i < prefix && i < 128; i++)
		m.bytes[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	to_ss(&m, ss);
}

static unsigned prefix_of(const struct sockaddr_storage *ss)
{
	struct vip_addr m;
	unsigned n = 0;
	if (!from_ss(ss, &m))
		return 0;
	for (size_t i = 0; i < vip_addr_len(&m); i++)
		for (int b = 7; b >= 0 && (m.bytes[i] >> b) & 1; b--)
			n++;
	return n;
}

static int lif_ioctl(int s, int req, struct lifreq *lifr)
{
	return ioctl(s, req, (caddr_t)lifr) < 0 ? negerrno() : 0;
}

/* Physical interface name of ifindex into lifr->lifr_name. 0 or -ENODEV. */
static int lif_name(struct lifreq *lifr, int ifindex)
{
	char name[IF_NAMESIZE];
	memset(lifr, 0, sizeof(*lifr));
	if (ifindex <= 0 || !if_indextoname((unsigned)ifindex, name))
		return -ENODEV;
	strlcpy(lifr->lifr_name, name, sizeof(lifr->lifr_name));
	return 0;
}

/* Whether the address is assigned to this node (SIOCTMYADDR). */
static bool is_my_addr(struct vip_port *p, const struct vip_addr *a)
{
	struct sioc_addrreq req;
	memset(&req, 0, sizeof(req));
	to_ss(a, &req.sa_addr);
	return ioctl(sock_of(p, a->family), SIOCTMYADDR, (caddr_t)&req) == 0 && req.sa_res;
}

static void sun_close(struct vip_port *p)
{
	if (!p)
		return;
	if (p->s4 >= 0)
		close(p->s4);
	if (p->s6 >= 0)
		close(p->s6);
	if (p->rt >= 0)
		close(p->rt);
	free(p->mine);
	free(p);
}

static int sun_open(const struct vip_port_opts *opts, struct vip_port **ret)
{
	struct vip_port *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->flags = opts ? opts->flags : 0;
	p->rt = -1;
	p->s4 = socket(AF_INET, SOCK_DGRAM, 0);
	p->s6 = socket(AF_INET6, SOCK_DGRAM, 0);
	int r = p->s4 < 0 || p->s6 < 0 ? negerrno() : 0;
	if (r == 0 && !(p->flags & VIP_PORT_OPEN_NO_MONITOR)) {
		p->rt = socket(PF_ROUTE, SOCK_RAW, 0);
		if (p->rt < 0 || fcntl(p->rt, F_SETFL, O_NONBLOCK) < 0)
			r = negerrno();
	}
	if (r < 0) {
		sun_close(p);
		return r;
	}
	*ret = p;
	return 0;
}

static int add_one(struct vip_port *p, const struct vip_port_req *q)
{
	struct lifreq lifr;
	int s = sock_of(p, q->addr.family), r = lif_name(&lifr, q->ifindex);
	if (r < 0)
		return r;
	if (is_my_addr(p, &q->addr))
		return 0; /* already there: success, as EEXIST on Linux */
	to_ss(&q->addr, &lifr.lifr_addr);
	r = lif_ioctl(s, SIOCLIFADDIF, &lifr); /* lifr_name becomes "<if>:<unit>" */
	if (r < 0)
		return r;
	mask_ss(q->addr.family, q->prefix, &lifr.lifr_addr);
	r = lif_ioctl(s, SIOCSLIFNETMASK, &lifr);
	if (r == 0) {
		/* Set the address again so the subnet and broadcast follow the mask. */
		to_ss(&q->addr, &lifr.lifr_addr);
		r = lif_ioctl(s, SIOCSLIFADDR, &lifr);
	}
	if (r == 0)
		r = lif_ioctl(s, SIOCGLIFFLAGS, &lifr);
	if (r == 0) {
		lifr.lifr_flags |= IFF_UP;
		r = lif_ioctl(s, SIOCSLIFFLAGS, &lifr);
	}
	if (r < 0)
		(void)ioctl(s, SIOCLIFREMOVEIF, (caddr_t)&lifr); /* by logical name */
	return r;
}

static int remove_one(struct vip_port *p, const struct vip_port_req *q)
{
	struct lifreq lifr;
	if (lif_name(&lifr, q->ifindex) < 0)
		return 0; /* link gone: so is the address */
	to_ss(&q->addr, &lifr.lifr_addr);
	int r = lif_ioctl(sock_of(p, q->addr.family), SIOCLIFREMOVEIF, &lifr);
	if (r < 0 && !is_my_addr(p, &q->addr))
		return 0; /* gone already: success */
	return r;
}

static int batch(struct vip_port *p, struct vip_port_req *reqs, size_t n, bool add)
{
	int failed = 0;
	for (size_t i = 0; i < n; i++) {
		struct vip_port_req *q = &reqs[i];
		q->errmsg[0] = '\0';
		if (q->addr.family != AF_INET && q->addr.family != AF_INET6)
			q->result = -EAFNOSUPPORT;
		else
			q->result = add ? add_one(p, q) : remove_one(p, q);
		if (q->result == 0)
			q->result = mine_set(p, &q->addr, q->ifindex, add);
		failed += q->result < 0;
	}
	return failed;
}

static int sun_add(struct vip_port *p, struct vip_port_req *reqs, size_t n)
{
	return batch(p, reqs, n, true);
}

static int sun_remove(struct vip_port *p, struct vip_port_req *reqs, size_t n)
{
	return batch(p, reqs, n, false);
}

static unsigned addr_flags(uint64_t f)
{
	unsigned r = 0;
	if (f & IFF_DEPRECATED)
		r |= VIP_PORT_ADDR_DEPRECATED;
	if (f & IFF_DUPLICATE)
		r |= VIP_PORT_ADDR_DADFAILED;
	return r;
}

/* One lifreq from SIOCGLIFCONF as a table entry. 0, or -EAFNOSUPPORT to skip it. */
static int entry_of(struct vip_port *p, const struct lifreq *in, struct vip_port_addr *ret)
{
	struct lifreq lifr = *in;
	struct vip_port_addr a = { 0 };
	if (!from_ss(&in->lifr_addr, &a.addr))
		return -EAFNOSUPPORT;
	int s = sock_of(p, a.addr.family);
	if (lif_ioctl(s, SIOCGLIFINDEX, &lifr) < 0)
		return -EAFNOSUPPORT;
	a.ifindex = lifr.lifr_index;
	lifr = *in;
	if (lif_ioctl(s, SIOCGLIFNETMASK, &lifr) == 0)
		a.prefix = prefix_of(&lifr.lifr_addr);
	lifr = *in;
	if (lif_ioctl(s, SIOCGLIFFLAGS, &lifr) == 0)
		a.flags = addr_flags(lifr.lifr_flags);
	strlcpy(a.label, in->lifr_name, sizeof(a.label));
	const struct sun_mine *m = mine_find(p, &a.addr);
	a.ours = m && m->ifindex == a.ifindex;
	*ret = a;
	return 0;
}

static int sun_dump(struct vip_port *p, int ifindex, struct vip_port_table *t)
{
	struct lifnum ln = { .lifn_family = AF_UNSPEC };
	t->n = 0;
	if (ioctl(p->s4, SIOCGLIFNUM, (caddr_t)&ln) < 0)
		return negerrno();
	/* Room for a few more: interfaces may appear between the two calls. */
	size_t cap = (size_t)ln.lifn_count + 8;
	_cleanup_free_ struct lifreq *reqs = calloc(cap, sizeof(*reqs));
	if (!reqs)
		return -ENOMEM;
	struct lifconf lc = { .lifc_family = AF_UNSPEC, .lifc_len = (int)(cap * sizeof(*reqs)) };
	lc.lifc_req = reqs;
	if (ioctl(p->s4, SIOCGLIFCONF, (caddr_t)&lc) < 0)
		return negerrno();
	size_t n = (size_t)lc.lifc_len / sizeof(*reqs);
	for (size_t i = 0; i < n; i++) {
		struct vip_port_addr a;
		if (entry_of(p, &reqs[i], &a) < 0 || (ifindex && a.ifindex != ifindex))
			continue;
		if (vip_port_table_add(t, &a) < 0) {
			t->n = 0;
			return -ENOMEM;
		}
	}
	return (int)t->n;
}

static int sun_flush_tagged(_unused_ struct vip_port *p, _unused_ int ifindex)
{
	return -EOPNOTSUPP; /* no per-address tag on SunOS: see the header */
}

static int sun_link_get(struct vip_port *p, int ifindex, struct vip_port_link *ret)
{
	struct lifreq lifr;
	struct vip_port_link l = { .ifindex = ifindex };
	int r = lif_name(&lifr, ifindex);
	if (r < 0)
		return r;
	strlcpy(l.ifname, lifr.lifr_name, sizeof(l.ifname));
	if (lif_ioctl(p->s4, SIOCGLIFFLAGS, &lifr) < 0 && lif_ioctl(p->s6, SIOCGLIFFLAGS, &lifr) < 0)
		return -ENODEV;
	l.up = (lifr.lifr_flags & IFF_UP) && (lifr.lifr_flags & IFF_RUNNING);
	l.noarp = lifr.lifr_flags & IFF_NOARP;
	l.loopback = lifr.lifr_flags & IFF_LOOPBACK;
	if (lif_ioctl(p->s4, SIOCGLIFMTU, &lifr) == 0)
		l.mtu = lifr.lifr_mtu;
	dlpi_handle_t dh;
	if (dlpi_open(l.ifname, &dh, 0) == DLPI_SUCCESS) {
		size_t len = sizeof(l.hwaddr);
		if (dlpi_get_physaddr(dh, DL_CURR_PHYS_ADDR, l.hwaddr, &len) == DLPI_SUCCESS)
			l.hwaddr_len = len;
		dlpi_close(dh);
	}
	*ret = l;
	return 0;
}

static int sun_dump_links(struct vip_port *p, struct vip_port_links *t)
{
	struct if_nameindex *ni = if_nameindex();
	int r = 0;

	t->n = 0;
	if (!ni)
		return negerrno();
	for (struct if_nameindex *i = ni; r == 0 && i->if_index != 0; i++) {
		struct vip_port_link l;
		/* An interface plumbed for IPv4 and IPv6 is listed once per family. */
		if (vip_port_links_find(t, (int)i->if_index) || sun_link_get(p, (int)i->if_index, &l) < 0)
			continue; /* gone since the listing */
		r = vip_port_links_add(t, &l);
	}
	if_freenameindex(ni);
	if (r < 0) {
		t->n = 0;
		return r;
	}
	return (int)t->n;
}

static int sun_dump_routes(struct vip_port *p, struct vip_port_routes *t)
{
	struct vip_port_table a = { 0 };
	int r = sun_dump(p, 0, &a);

	t->n = 0;
	if (r < 0)
		return r;
	r = 0;
	for (size_t i = 0; r == 0 && i < a.n; i++)
		r = vip_port_routes_implied(&a.items[i], t);
	vip_port_table_clear(&a);
	if (r < 0) {
		t->n = 0;
		return r;
	}
	return (int)t->n;
}

/* Send one frame on a raw DLPI handle bound to sap. 0 or -errno. */
static int dlpi_frame(const char *link, unsigned sap, const uint8_t *frame, size_t len)
{
	dlpi_handle_t dh;
	int r = dlpi_open(link, &dh, DLPI_RAW);
	if (r != DLPI_SUCCESS)
		return r == DL_SYSERR ? negerrno() : -EIO;
	r = dlpi_bind(dh, sap, NULL);
	if (r == DLPI_SUCCESS)
		r = dlpi_send(dh, NULL, 0, frame, len, NULL);
	int err = r == DLPI_SUCCESS ? 0 : r == DL_SYSERR ? negerrno() : -EIO;
	dlpi_close(dh);
	return err;
}

static int announce_one(struct vip_port *p, const struct vip_port_announce *a, enum vip_arp_mode mode)
{
	struct vip_port_link l;
	uint8_t f[VIP_FRAME_MAX];
	int r = sun_link_get(p, a->ifindex, &l), sent = 0;
	if (r < 0)
		return r;
	if (l.noarp)
		return 0;
	if (l.hwaddr_len != VIP_ETH_ALEN)
		return -EOPNOTSUPP;
	if (a->unicast && a->dst_ip.family != a->addr.family)
		return -EINVAL;
	if (a->addr.family == AF_INET6) {
		struct lifreq lifr;
		bool router = false;
		if (lif_name(&lifr, a->ifindex) == 0 && lif_ioctl(p->s6, SIOCGLIFFLAGS, &lifr) == 0)
			router = lifr.lifr_flags & IFF_ROUTER;
		r = dlpi_frame(l.ifname, 0x86dd, f, vip_frame_announce(f, l.hwaddr, a, false, router));
		return r < 0 ? r : 1;
	}
	if (mode != VIP_ARP_REPLY) {
		r = dlpi_frame(l.ifname, 0x0806, f, vip_frame_announce(f, l.hwaddr, a, false, false));
		if (r < 0)
			return r;
		sent++;
	}
	if (mode != VIP_ARP_REQUEST) {
		r = dlpi_frame(l.ifname, 0x0806, f, vip_frame_announce(f, l.hwaddr, a, true, false));
		if (r < 0)
			return r;
		sent++;
	}
	return sent;
}

static int sun_announce(struct vip_port *p, struct vip_port_announce *b, size_t n, enum vip_arp_mode mode)
{
	int sent = 0;
	if (p->flags & VIP_PORT_OPEN_NO_PACKET)
		return -ENOTCONN;
	if ((unsigned)mode >= _VIP_ARP_MODE_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		b[i].result = announce_one(p, &b[i], mode);
		if (b[i].result > 0)
			sent += b[i].result;
	}
	return sent;
}

static int sun_event_fd(struct vip_port *p)
{
	return p->rt >= 0 ? p->rt : -ENOTCONN;
}

static void push(struct vip_port *p, enum vip_port_event_type type, int ifindex)
{
	if (p->n_pending >= SUN_PENDING_MAX)
		return;
	struct vip_port_event *e = &p->pending[p->n_pending++];
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->ifindex = ifindex;
	e->link.ifindex = ifindex;
	if (type != VIP_PORT_EV_RESYNC_NEEDED && type != VIP_PORT_EV_LINK_GONE)
		(void)sun_link_get(p, ifindex, &e->link);
}

static void link_msg(struct vip_port *p, const struct if_msghdr *ifm)
{
	char name[IF_NAMESIZE];
	int ifindex = ifm->ifm_index;
	bool up = (ifm->ifm_flags & IFF_UP) && (ifm->ifm_flags & IFF_RUNNING);
	struct sun_link *l = NULL;
	for (size_t i = 0; i < p->n_links; i++)
		if (p->links[i].ifindex == ifindex)
			l = &p->links[i];
	if (!if_indextoname((unsigned)ifindex, name)) {
		if (l)
			*l = p->links[--p->n_links];
		push(p, VIP_PORT_EV_LINK_GONE, ifindex);
		return;
	}
	if (l && l->up == up)
		return;
	if (!l && p->n_links < SUN_LINKS_MAX)
		l = &p->links[p->n_links++];
	if (l) {
		l->ifindex = ifindex;
		l->up = up;
	}
	push(p, up ? VIP_PORT_EV_LINK_UP : VIP_PORT_EV_LINK_DOWN, ifindex);
}

static int sun_next_event(struct vip_port *p, struct vip_port_event *ret)
{
	union {
		struct rt_msghdr rtm;
		char buf[2048];
	} m;
	if (p->rt < 0)
		return -ENOTCONN;
	for (int k = 0; k < 1000; k++) {
		if (p->pending_pos < p->n_pending) {
			*ret = p->pending[p->pending_pos++];
			return 1;
		}
		p->n_pending = p->pending_pos = 0;
		ssize_t len = read(p->rt, m.buf, sizeof(m.buf));
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 && errno == EAGAIN)
			return 0;
		if (len < 0 && errno == ENOBUFS) {
			push(p, VIP_PORT_EV_RESYNC_NEEDED, 0);
			continue;
		}
		if (len < 0)
			return negerrno();
		if ((size_t)len < sizeof(m.rtm) || m.rtm.rtm_version != RTM_VERSION)
			continue;
		if (m.rtm.rtm_type == RTM_IFINFO && (size_t)len >= sizeof(struct if_msghdr))
			link_msg(p, (const struct if_msghdr *)m.buf);
		else if (m.rtm.rtm_type == RTM_NEWADDR || m.rtm.rtm_type == RTM_DELADDR)
			push(p, VIP_PORT_EV_RESYNC_NEEDED, 0);
	}
	return 0;
}

/* Solaris keeps its ARP and NDP caches behind other interfaces: not read here (docs/port.md §6). */
static int sun_dump_neigh(struct vip_port *p, struct vip_port_neighs *t)
{
	(void)p;
	t->n = 0;
	return -EOPNOTSUPP;
}

/* Not supported (see the header; docs/port.md §8). */
static int sun_probe(_unused_ struct vip_port *p, _unused_ struct vip_port_probe *b, _unused_ size_t n)
{
	return -EOPNOTSUPP;
}

static int sun_probe_listen(_unused_ struct vip_port *p, _unused_ bool on)
{
	return -EOPNOTSUPP;
}

static int sun_probe_fds(_unused_ struct vip_port *p, _unused_ int ret[VIP_PORT_PROBE_FDS])
{
	return 0;
}

static int sun_next_answer(_unused_ struct vip_port *p, _unused_ struct vip_port_answer *ret)
{
	return -EOPNOTSUPP;
}

static const struct vip_port_ops vip_port_sunos_ops = {
	.name = "sunos",
	.open = sun_open,
	.close = sun_close,
	.add = sun_add,
	.remove = sun_remove,
	.dump = sun_dump,
	.flush_tagged = sun_flush_tagged,
	.event_fd = sun_event_fd,
	.next_event = sun_next_event,
	.dump_links = sun_dump_links,
	.dump_routes = sun_dump_routes,
	.link_get = sun_link_get,
	.announce = sun_announce,
	.dump_neigh = sun_dump_neigh,
	.probe = sun_probe,
	.probe_listen = sun_probe_listen,
	.probe_fds = sun_probe_fds,
	.next_answer = sun_next_answer,
};

const struct vip_port_ops *vip_port_native(void)
{
	return &vip_port_sunos_ops;
}

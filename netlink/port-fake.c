/* SPDX-License-Identifier: MIT */
/*
 * The fake port: an in-memory system of links and addresses behind the same
 * ops as the native port, for unit tests of every area. It behaves like the
 * kernel where vipd cares (add replaces, EEXIST/EADDRNOTAVAIL are successes,
 * changes echo back as events through a pollable fd) and has hooks to inject
 * events and failures and to inspect what was done. See port.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "port-fake-internal.h"

int vip_fake_grow(void **items, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t cap2 = *cap ? *cap * 2 : 16;
	while (cap2 < need)
		cap2 *= 2;
	void *p = reallocarray(*items, cap2, size);
	if (!p)
		return -ENOMEM;
	*items = p;
	*cap = cap2;
	return 0;
}

static void fake_close(struct vip_port *p)
{
	if (!p)
		return;
	for (int i = 0; i < 2; i++)
		if (p->pipe[i] >= 0)
			close(p->pipe[i]);
	free(p->q);
	free(p->links);
	vip_port_table_clear(&p->addrs);
	vip_port_routes_clear(&p->routes);
	vip_port_neighs_clear(&p->neighs);
	free(p->fails);
	free(p->log);
	free(p->probes);
	free(p->answers);
	free(p);
}

static int fake_open(const struct vip_port_opts *opts, struct vip_port **ret)
{
	struct vip_port *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->flags = opts ? opts->flags : 0;
	p->pipe[0] = p->pipe[1] = -1;
	p->echo = true;
	if (!(p->flags & VIP_PORT_OPEN_NO_MONITOR) && pipe2(p->pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		int r = negerrno();
		fake_close(p);
		return r;
	}
	*ret = p;
	return 0;
}

static int queue_event(struct vip_port *p, const struct vip_port_event *ev)
{
	if (p->pipe[1] < 0)
		return 0;
	if (p->q_head > 0 && p->q_head == p->q_n)
		p->q_head = p->q_n = 0;
	int r = vip_fake_grow((void **)&p->q, &p->q_cap, p->q_n + 1, sizeof(*p->q));
	if (r < 0)
		return r;
	p->q[p->q_n++] = *ev;
	/* A full pipe still leaves the fd readable, which is all the loop needs. */
	(void)!write(p->pipe[1], "e", 1);
	return 0;
}

static void addr_event(struct vip_port *p, enum vip_port_event_type type, const struct vip_port_addr *a)
{
	struct vip_port_event ev = { .type = type, .ifindex = a->ifindex, .addr = *a };
	if (p->echo)
		(void)queue_event(p, &ev);
}

struct vip_port_link *vip_fake_find_link(struct vip_port *p, int ifindex)
{
	for (size_t i = 0; i < p->n_links; i++)
		if (p->links[i].ifindex == ifindex)
			return &p->links[i];
	return NULL;
}

const struct fake_fail *vip_fake_find_fail(struct vip_port *p, const struct vip_addr *a)
{
	for (size_t i = 0; i < p->n_fails; i++)
		if (vip_addr_equal(&p->fails[i].addr, a))
			return &p->fails[i];
	return NULL;
}

int vip_fake_call_fails(struct vip_port *p)
{
	if (p->call_fail_left == 0)
		return 0;
	p->call_fail_left--;
	return p->call_err;
}

static ssize_t addr_index(struct vip_port *p, const struct vip_addr *a, int ifindex)
{
	const struct vip_port_addr *e = vip_port_table_find(&p->addrs, a, ifindex);
	return e ? e - p->addrs.items : -1;
}

static void addr_delete(struct vip_port *p, size_t i)
{
	struct vip_port_addr gone = p->addrs.items[i];
	memmove(&p->addrs.items[i], &p->addrs.items[i + 1], (p->addrs.n - i - 1) * sizeof(gone));
	p->addrs.n--;
	addr_event(p, VIP_PORT_EV_ADDR_DEL, &gone);
}

static int add_one(struct vip_port *p, struct vip_port_req *r)
{
	const struct fake_fail *f = vip_fake_find_fail(p, &r->addr);
	if (f) {
		snprintf(r->errmsg, sizeof(r->errmsg), "%s", f->msg);
		return f->err;
	}
	if (!vip_fake_find_link(p, r->ifindex)) {
		snprintf(r->errmsg, sizeof(r->errmsg), "fake: no link with index %d", r->ifindex);
		return -ENODEV;
	}
	struct vip_port_addr a = {
		.addr = r->addr,
		.prefix = r->prefix,
		.ifindex = r->ifindex,
		.flags = VIP_PORT_ADDR_PERMANENT | (r->addr.family == AF_INET6 ? VIP_PORT_ADDR_NODAD : 0),
		.proto = VIP_PORT_IFA_PROTO,
		.ours = true,
	};
	if (r->addr.family == AF_INET)
		memcpy(a.label, r->label, sizeof(a.label));
	ssize_t i = addr_index(p, &r->addr, r->ifindex);
	if (i >= 0)
		p->addrs.items[i] = a; /* NLM_F_REPLACE */
	else if (vip_port_table_add(&p->addrs, &a) < 0)
		return -ENOMEM;
	addr_event(p, VIP_PORT_EV_ADDR_NEW, &a);
	return 0;
}

static int remove_one(struct vip_port *p, struct vip_port_req *r)
{
	const struct fake_fail *f = vip_fake_find_fail(p, &r->addr);
	if (f) {
		snprintf(r->errmsg, sizeof(r->errmsg), "%s", f->msg);
		return f->err;
	}
	ssize_t i = addr_index(p, &r->addr, r->ifindex);
	if (i >= 0)
		addr_delete(p, (size_t)i);
	return 0; /* gone already, or its link gone: success */
}

static int batch(struct vip_port *p, struct vip_port_req *reqs, size_t n, bool add)
{
	int failed = 0, r = vip_fake_call_fails(p);
	for (size_t i = 0; i < n; i++) {
		reqs[i].errmsg[0] = '\0';
		reqs[i].result = r < 0 ? r : add ? add_one(p, &reqs[i]) : remove_one(p, &reqs[i]);
		if (reqs[i].result < 0)
			failed++;
		else if (add)
			p->st.added++;
		else
			p->st.removed++;
	}
	return r < 0 ? r : failed;
}

static int fake_add(struct vip_port *p, struct vip_port_req *reqs, size_t n)
{
	p->st.add_calls++;
	return batch(p, reqs, n, true);
}

static int fake_remove(struct vip_port *p, struct vip_port_req *reqs, size_t n)
{
	p->st.remove_calls++;
	return batch(p, reqs, n, false);
}

static int fake_dump(struct vip_port *p, int ifindex, struct vip_port_table *t)
{
	p->st.dump_calls++;
	int r = vip_fake_call_fails(p);
	t->n = 0;
	for (size_t i = 0; r == 0 && i < p->addrs.n; i++)
		if (ifindex == 0 || p->addrs.items[i].ifindex == ifindex)
			r = vip_port_table_add(t, &p->addrs.items[i]);
	if (r < 0) {
		t->n = 0;
		return r;
	}
	return (int)t->n;
}

static int fake_flush_tagged(struct vip_port *p, int ifindex)
{
	p->st.flush_calls++;
	int r = vip_fake_call_fails(p), n = 0;
	if (r < 0)
		return r;
	for (size_t i = p->addrs.n; i-- > 0;) {
		const struct vip_port_addr *a = &p->addrs.items[i];
		if (a->ours && (ifindex == 0 || a->ifindex == ifindex)) {
			addr_delete(p, i);
			n++;
		}
	}
	return n;
}

static int fake_event_fd(struct vip_port *p)
{
	return p->pipe[0] >= 0 ? p->pipe[0] : -ENOTCONN;
}

static int fake_next_event(struct vip_port *p, struct vip_port_event *ret)
{
	char c;
	if (p->pipe[0] < 0)
		return -ENOTCONN;
	if (p->q_head == p->q_n)
		return 0;
	*ret = p->q[p->q_head++];
	(void)!read(p->pipe[0], &c, 1);
	return 1;
}

static int fake_link_get(struct vip_port *p, int ifindex, struct vip_port_link *ret)
{
	p->st.link_get_calls++;
	const struct vip_port_link *l = vip_fake_find_link(p, ifindex);
	if (!l)
		return -ENODEV;
	*ret = *l;
	return 0;
}

static int fake_dump_links(struct vip_port *p, struct vip_port_links *t)
{
	p->st.dump_links_calls++;
	int r = vip_fake_call_fails(p);
	t->n = 0;
	for (size_t i = 0; r == 0 && i < p->n_links; i++)
		r = vip_port_links_add(t, &p->links[i]);
	if (r < 0) {
		t->n = 0;
		return r;
	}
	return (int)t->n;
}

static int fake_dump_routes(struct vip_port *p, struct vip_port_routes *t)
{
	p->st.dump_routes_calls++;
	int r = vip_fake_call_fails(p);
	t->n = 0;
	for (size_t i = 0; r == 0 && i < p->addrs.n; i++)
		r = vip_port_routes_implied(&p->addrs.items[i], t);
	for (size_t i = 0; r == 0 && i < p->routes.n; i++)
		r = vip_port_routes_add(t, &p->routes.items[i]);
	if (r < 0) {
		t->n = 0;
		return r;
	}
	return (int)t->n;
}

static int log_frame(struct vip_port *p, const struct vip_port_announce *a, enum vip_arp_mode mode)
{
	if (vip_fake_grow((void **)&p->log, &p->cap_log, p->n_log + 1, sizeof(*p->log)) < 0)
		return -ENOMEM;
	unsigned frames = a->addr.family == AF_INET && mode == VIP_ARP_BOTH ? 2 : 1;
	p->log[p->n_log++] = (struct vip_port_fake_frame){
		.addr = a->addr,
		.ifindex = a->ifindex,
		.mode = a->addr.family == AF_INET ? mode : VIP_ARP_REQUEST,
		.frames = frames,
		.unicast = a->unicast,
	};
	if (a->unicast) {
		memcpy(p->log[p->n_log - 1].dst_mac, a->dst_mac, sizeof(a->dst_mac));
		p->log[p->n_log - 1].dst_ip = a->dst_ip;
	}
	return (int)frames;
}

int vip_fake_wire_check(struct vip_port *p, const struct vip_addr *a, int ifindex)
{
	const struct fake_fail *f = vip_fake_find_fail(p, a);
	const struct vip_port_link *l = vip_fake_find_link(p, ifindex);

	return f ? f->err : !l ? -ENODEV : l->noarp ? 0 : 1;
}

static int fake_announce(struct vip_port *p, struct vip_port_announce *b, size_t n, enum vip_arp_mode mode)
{
	p->st.announce_calls++;
	if (p->flags & VIP_PORT_OPEN_NO_PACKET)
		return -ENOTCONN;
	if ((unsigned)mode >= _VIP_ARP_MODE_MAX)
		return -EINVAL;
	int r = vip_fake_call_fails(p), sent = 0;
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		b[i].result = vip_fake_wire_check(p, &b[i].addr, b[i].ifindex);
		if (b[i].result > 0)
			b[i].result = b[i].unicast && b[i].dst_ip.family != b[i].addr.family
					      ? -EINVAL
					      : log_frame(p, &b[i], mode);
		if (b[i].result > 0) {
			sent += b[i].result;
			p->st.announced++;
		}
	}
	return sent;
}

static int fake_dump_neigh(struct vip_port *p, struct vip_port_neighs *t)
{
	p->st.dump_neigh_calls++;
	t->n = 0;
	int r = vip_fake_call_fails(p);
	for (size_t i = 0; r == 0 && i < p->neighs.n; i++)
		r = vip_port_neighs_add(t, &p->neighs.items[i]);
	if (r < 0) {
		t->n = 0;
		return r;
	}
	return (int)t->n;
}

const struct vip_port_ops vip_port_fake_ops = {
	.name = "fake",
	.open = fake_open,
	.close = fake_close,
	.add = fake_add,
	.remove = fake_remove,
	.dump = fake_dump,
	.flush_tagged = fake_flush_tagged,
	.event_fd = fake_event_fd,
	.next_event = fake_next_event,
	.dump_links = fake_dump_links,
	.dump_routes = fake_dump_routes,
	.link_get = fake_link_get,
	.announce = fake_announce,
	.dump_neigh = fake_dump_neigh,
	.probe = vip_fake_probe,
	.probe_listen = vip_fake_probe_listen,
	.probe_fds = vip_fake_probe_fds,
	.next_answer = vip_fake_next_answer,
};

/* ---- test hooks ---- */

static void link_event(struct vip_port *p, enum vip_port_event_type type, const struct vip_port_link *l)
{
	struct vip_port_event ev = { .type = type, .ifindex = l->ifindex, .link = *l };
	(void)queue_event(p, &ev);
}

int vip_port_fake_set_link(struct vip_port *p, const struct vip_port_link *l)
{
	if (l->ifindex <= 0 || l->hwaddr_len > VIP_PORT_HWADDR_MAX)
		return -EINVAL;
	struct vip_port_link *old = vip_fake_find_link(p, l->ifindex);
	if (!old) {
		int r = vip_fake_grow((void **)&p->links, &p->cap_links, p->n_links + 1, sizeof(*p->links));
		if (r < 0)
			return r;
		p->links[p->n_links++] = *l;
		link_event(p, l->up ? VIP_PORT_EV_LINK_UP : VIP_PORT_EV_LINK_DOWN, l);
		return 0;
	}
	bool mac = old->hwaddr_len != l->hwaddr_len || memcmp(old->hwaddr, l->hwaddr, l->hwaddr_len);
	bool edge = old->up != l->up;
	*old = *l;
	if (mac)
		link_event(p, VIP_PORT_EV_LINK_MAC, l);
	if (edge)
		link_event(p, l->up ? VIP_PORT_EV_LINK_UP : VIP_PORT_EV_LINK_DOWN, l);
	return 0;
}

int vip_port_fake_del_link(struct vip_port *p, int ifindex)
{
	struct vip_port_link *l = vip_fake_find_link(p, ifindex);
	if (!l)
		return -ENODEV;
	struct vip_port_link gone = *l;
	*l = p->links[--p->n_links];
	for (size_t i = p->addrs.n; i-- > 0;)
		if (p->addrs.items[i].ifindex == ifindex)
			addr_delete(p, i);
	link_event(p, VIP_PORT_EV_LINK_GONE, &gone);
	return 0;
}

int vip_port_fake_put_addr(struct vip_port *p, const struct vip_port_addr *a)
{
	struct vip_port_addr e = *a;
	e.ours = e.proto == VIP_PORT_IFA_PROTO;
	ssize_t i = addr_index(p, &e.addr, e.ifindex);
	if (i >= 0)
		p->addrs.items[i] = e;
	else if (vip_port_table_add(&p->addrs, &e) < 0)
		return -ENOMEM;
	struct vip_port_event ev = { .type = VIP_PORT_EV_ADDR_NEW, .ifindex = e.ifindex, .addr = e };
	return queue_event(p, &ev);
}

int vip_port_fake_put_route(struct vip_port *p, const struct vip_port_route *r)
{
	return vip_port_routes_add(&p->routes, r);
}

static ssize_t neigh_index(const struct vip_port *p, const struct vip_addr *a, int ifindex)
{
	for (size_t i = 0; i < p->neighs.n; i++)
		if (p->neighs.items[i].ifindex == ifindex && vip_addr_equal(&p->neighs.items[i].addr, a))
			return (ssize_t)i;
	return -1;
}

int vip_port_fake_put_neigh(struct vip_port *p, const struct vip_port_neigh *n)
{
	ssize_t i = neigh_index(p, &n->addr, n->ifindex);
	if (i >= 0)
		p->neighs.items[i] = *n;
	else if (vip_port_neighs_add(&p->neighs, n) < 0)
		return -ENOMEM;
	struct vip_port_event ev = { .type = VIP_PORT_EV_NEIGH_NEW, .ifindex = n->ifindex, .neigh = *n };
	return queue_event(p, &ev);
}

int vip_port_fake_del_neigh(struct vip_port *p, const struct vip_addr *a, int ifindex)
{
	ssize_t i = neigh_index(p, a, ifindex);
	if (i < 0)
		return -ENOENT;
	struct vip_port_event ev = { .type = VIP_PORT_EV_NEIGH_DEL,
				     .ifindex = ifindex,
				     .neigh = p->neighs.items[i] };
	p->neighs.items[i] = p->neighs.items[--p->neighs.n];
	return queue_event(p, &ev);
}

int vip_port_fake_inject_event(struct vip_port *p, const struct vip_port_event *ev)
{
	return queue_event(p, ev);
}

int vip_port_fake_fail_addr(struct vip_port *p, const struct vip_addr *a, int err, const char *msg)
{
	for (size_t i = 0; i < p->n_fails; i++) {
		if (!vip_addr_equal(&p->fails[i].addr, a))
			continue;
		if (err == 0) {
			p->fails[i] = p->fails[--p->n_fails];
			return 0;
		}
		p->fails[i].err = err;
		snprintf(p->fails[i].msg, sizeof(p->fails[i].msg), "%s", msg ? msg : "");
		return 0;
	}
	if (err == 0)
		return 0;
	struct fake_fail *f = reallocarray(p->fails, p->n_fails + 1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	p->fails = f;
	f = &p->fails[p->n_fails++];
	f->addr = *a;
	f->err = err;
	snprintf(f->msg, sizeof(f->msg), "%s", msg ? msg : "");
	return 0;
}

void vip_port_fake_fail_calls(struct vip_port *p, int err, unsigned count)
{
	p->call_err = err;
	p->call_fail_left = err < 0 ? count : 0;
}

void vip_port_fake_set_echo(struct vip_port *p, bool echo)
{
	p->echo = echo;
}

const struct vip_port_table *vip_port_fake_addrs(struct vip_port *p)
{
	return &p->addrs;
}

size_t vip_port_fake_announced(struct vip_port *p, const struct vip_port_fake_frame **ret)
{
	*ret = p->log;
	return p->n_log;
}

void vip_port_fake_get_stats(struct vip_port *p, struct vip_port_fake_stats *ret)
{
	*ret = p->st;
}

void vip_port_fake_reset_log(struct vip_port *p)
{
	p->n_log = 0;
	p->n_probes = 0;
	memset(&p->st, 0, sizeof(p->st));
}

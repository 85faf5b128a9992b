/* SPDX-License-Identifier: MIT */
/*
 * Linux port: the rtnetlink request socket, batched add/remove (one ACK per
 * chunk, each failure answered on its own), the address dump, flush, and the
 * ops table. Events live in port-linux-events.c, the link and route dumps
 * in port-linux-dump.c, announcements and probes in port-linux-announce.c,
 * the answers to probes in port-linux-probe.c.
 */
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "port-linux-internal.h"

#define RQ_RCVBUF (8 << 20)
#define RQ_SNDBUF (1 << 20)
#define RQ_TIMEOUT_S 10
/* Kernel memory an ACK costs in our receive buffer (skb truesize), with margin. */
#define ACK_TRUESIZE 1536
#define BATCH_LIMIT_MAX (128 << 10)
#define CHUNK_MAX 2048
#define DUMP_TRIES 5

static int sock_setint(int fd, int level, int opt, int val)
{
	return setsockopt(fd, level, opt, &val, sizeof(val)) < 0 ? negerrno() : 0;
}

static int sock_getint(int fd, int level, int opt)
{
	int val = 0;
	socklen_t len = sizeof(val);
	return getsockopt(fd, level, opt, &val, &len) < 0 ? negerrno() : val;
}

int vip_nl_sock_bufsize(int fd, int force_opt, int opt, int bytes)
{
	if (sock_setint(fd, SOL_SOCKET, force_opt, bytes) < 0)
		(void)sock_setint(fd, SOL_SOCKET, opt, bytes);
	return sock_getint(fd, SOL_SOCKET, opt);
}

static int rq_open(struct vip_port *p)
{
	p->rq = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!p->rq)
		return negerrno();
	int fd = mnl_socket_get_fd(p->rq);
	int one = 1;
	if (mnl_socket_setsockopt(p->rq, NETLINK_EXT_ACK, &one, sizeof(one)) < 0 ||
	    mnl_socket_setsockopt(p->rq, NETLINK_CAP_ACK, &one, sizeof(one)) < 0)
		return negerrno();
	struct timeval tv = { .tv_sec = RQ_TIMEOUT_S };
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return negerrno();
	if (mnl_socket_bind(p->rq, 0, MNL_SOCKET_AUTOPID) < 0)
		return negerrno();
	p->rq_portid = mnl_socket_get_portid(p->rq);

	int rcv = vip_nl_sock_bufsize(fd, SO_RCVBUFFORCE, SO_RCVBUF, RQ_RCVBUF);
	int snd = vip_nl_sock_bufsize(fd, SO_SNDBUFFORCE, SO_SNDBUF, RQ_SNDBUF);
	if (rcv < 0 || snd < 0)
		return rcv < 0 ? rcv : snd;
	/* A send must fit the send buffer, and its ACKs the receive buffer. */
	p->batch_limit = (size_t)snd / 2;
	if (p->batch_limit > BATCH_LIMIT_MAX)
		p->batch_limit = BATCH_LIMIT_MAX;
	p->chunk_max = (size_t)rcv / ACK_TRUESIZE;
	if (p->chunk_max > CHUNK_MAX)
		p->chunk_max = CHUNK_MAX;
	if (p->chunk_max < 8 || p->batch_limit < 4 * VIP_NL_ADDR_MSG_MAX)
		return -ENOBUFS;
	p->sbuf = malloc(p->batch_limit * 2);
	p->rbuf_len = VIP_NL_RECV_MAX;
	p->rbuf = malloc(p->rbuf_len);
	if (!p->sbuf || !p->rbuf)
		return -ENOMEM;
	p->seq = (uint32_t)time(NULL) << 8;
	return 0;
}

static void linux_close(struct vip_port *p)
{
	if (!p)
		return;
	vip_nl_events_close(p);
	vip_nl_links_close(p);
	vip_nl_probe_close(p);
	if (p->pkt >= 0)
		close(p->pkt);
	if (p->rq)
		mnl_socket_close(p->rq);
	free(p->sbuf);
	free(p->rbuf);
	free(p);
}

static int linux_open(const struct vip_port_opts *opts, struct vip_port **ret)
{
	struct vip_port_opts o = opts ? *opts : (struct vip_port_opts){ 0 };
	struct vip_port *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->pkt = p->arp_rx = p->nd_rx = -1;
	int r = rq_open(p);
	if (r >= 0 && !(o.flags & VIP_PORT_OPEN_NO_MONITOR))
		r = vip_nl_events_open(p, o.monitor_rcvbuf);
	if (r >= 0 && !(o.flags & VIP_PORT_OPEN_NO_MONITOR) && (o.flags & VIP_PORT_OPEN_NEIGH))
		r = vip_nl_neigh_subscribe(p);
	if (r >= 0 && !(o.flags & VIP_PORT_OPEN_NO_PACKET))
		r = vip_nl_packet_open(p);
	if (r >= 0 && !(o.flags & VIP_PORT_OPEN_NO_PACKET))
		r = vip_nl_links_open(p, o.monitor_rcvbuf);
	if (r >= 0 && !(o.flags & VIP_PORT_OPEN_NO_PACKET))
		vip_nl_probe_open(p);
	if (r < 0) {
		linux_close(p);
		return r;
	}
	*ret = p;
	return 0;
}

static uint32_t next_seq(struct vip_port *p, size_t n)
{
	/* Sequence 0 means "unsolicited" to libmnl: skip it on wrap. */
	if (p->seq == 0 || p->seq + n < p->seq)
		p->seq = 1;
	uint32_t s = p->seq;
	p->seq += (uint32_t)n;
	return s;
}

/*
 * Read the answers to requests [lo, hi): only the last one asks for an ACK
 * (addr_batch), the kernel answers the others only when they fail, in order,
 * so once the last one's answer is in, a request with none succeeded. 0 or
 * -errno.
 */
static int read_acks(struct vip_port *p, uint16_t type, struct vip_port_req *reqs, size_t lo, size_t hi,
		     uint32_t base)
{
	while (reqs[hi - 1].result == 1) {
		ssize_t len = mnl_socket_recvfrom(p->rq, p->rbuf, p->rbuf_len);
		if (len < 0)
			return errno == EAGAIN ? -ETIMEDOUT : negerrno();
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)p->rbuf;
		int rest = (int)len;
		for (; vip_nl_msg_ok(nlh, rest); nlh = mnl_nlmsg_next(nlh, &rest)) {
			/* Another sender or a stale reply of a timed-out call: not ours. */
			if (nlh->nlmsg_pid != p->rq_portid || nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			uint32_t i = nlh->nlmsg_seq - base;
			if (nlh->nlmsg_seq < base || i < lo || i >= hi || reqs[i].result != 1)
				continue;
			int err = 0;
			struct vip_port_req *r = &reqs[i];
			if (vip_nl_parse_ack(nlh, &err, r->errmsg, sizeof(r->errmsg)) < 0)
				err = -EBADMSG;
			r->result = vip_nl_is_benign(type, err) ? 0 : err;
			if (r->result == 0)
				r->errmsg[0] = '\0';
		}
	}
	for (size_t i = lo; i < hi; i++)
		if (reqs[i].result == 1)
			reqs[i].result = 0;
	return 0;
}

static int addr_batch(struct vip_port *p, uint16_t type, struct vip_port_req *reqs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		reqs[i].result = 1; /* not answered yet */
		reqs[i].errmsg[0] = '\0';
	}
	uint32_t base = next_seq(p, n);
	struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(p->sbuf, p->batch_limit);
	if (!b)
		return -ENOMEM;
	int r = 0;
	size_t i = 0;
	while (i < n) {
		size_t lo = i;
		struct nlmsghdr *last = NULL;
		mnl_nlmsg_batch_reset(b);
		while (i < n && i - lo < p->chunk_max &&
		       mnl_nlmsg_batch_size(b) + VIP_NL_ADDR_MSG_MAX <= p->batch_limit) {
			last = mnl_nlmsg_batch_current(b);
			vip_nl_put_addr_req(last, type, base + (uint32_t)i, &reqs[i]);
			/* Failures are always answered; one ACK, the last, ends the chunk. */
			last->nlmsg_flags &= (uint16_t)~NLM_F_ACK;
			mnl_nlmsg_batch_next(b);
			i++;
		}
		last->nlmsg_flags |= NLM_F_ACK;
		if (mnl_socket_sendto(p->rq, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b)) < 0) {
			r = negerrno();
			break;
		}
		r = read_acks(p, type, reqs, lo, i, base);
		if (r < 0)
			break;
	}
	mnl_nlmsg_batch_stop(b);

	int failed = 0;
	for (size_t k = 0; k < n; k++) {
		if (reqs[k].result == 1)
			reqs[k].result = r < 0 ? r : -EIO;
		if (reqs[k].result < 0)
			failed++;
	}
	return r < 0 ? r : failed;
}

static int check_reqs(const struct vip_port_req *reqs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct vip_port_req *r = &reqs[i];
		unsigned bits = r->addr.family == AF_INET ? 32 : 128;
		if ((r->addr.family != AF_INET && r->addr.family != AF_INET6) || r->prefix > bits)
			return -EINVAL;
	}
	return 0;
}

static int linux_add(struct vip_port *p, struct vip_port_req *reqs, size_t n)
{
	int r = check_reqs(reqs, n);
	return r < 0 ? r : addr_batch(p, RTM_NEWADDR, reqs, n);
}

static int linux_remove(struct vip_port *p, struct vip_port_req *reqs, size_t n)
{
	int r = check_reqs(reqs, n);
	return r < 0 ? r : addr_batch(p, RTM_DELADDR, reqs, n);
}

int vip_nl_transact(struct vip_port *p, struct nlmsghdr *nlh, mnl_cb_t cb, void *data, bool *ret_intr,
		    char *errmsg, size_t errlen)
{
	uint32_t seq = next_seq(p, 1);
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(p->rq, nlh, nlh->nlmsg_len) < 0)
		return negerrno();
	/* Bounded by the receive timeout on every read and by the reply count. */
	for (unsigned reads = 0; reads < 1000000; reads++) {
		ssize_t len = mnl_socket_recvfrom(p->rq, p->rbuf, p->rbuf_len);
		if (len < 0)
			return errno == EAGAIN ? -ETIMEDOUT : negerrno();
		const struct nlmsghdr *m = (const struct nlmsghdr *)p->rbuf;
		int rest = (int)len;
		for (; vip_nl_msg_ok(m, rest); m = mnl_nlmsg_next(m, &rest)) {
			if (m->nlmsg_pid != p->rq_portid || m->nlmsg_seq != seq)
				continue;
			if (m->nlmsg_flags & NLM_F_DUMP_INTR && ret_intr)
				*ret_intr = true;
			if (m->nlmsg_type == NLMSG_DONE)
				return 0;
			if (m->nlmsg_type == NLMSG_ERROR) {
				int err = 0;
				if (vip_nl_parse_ack(m, &err, errmsg, errlen) < 0)
					return -EBADMSG;
				return err;
			}
			if (m->nlmsg_type < NLMSG_MIN_TYPE)
				continue;
			if (cb && cb(m, data) < MNL_CB_STOP)
				return -EBADMSG;
		}
	}
	return -ETIMEDOUT;
}

struct dump_ctx {
	int ifindex;
	struct vip_port_table *t;
	int err;
};

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *c = data;
	struct vip_port_addr a;
	if (nlh->nlmsg_type != RTM_NEWADDR || c->err < 0)
		return MNL_CB_OK;
	int r = vip_nl_parse_addr(nlh, &a);
	if (r == -EAFNOSUPPORT)
		return MNL_CB_OK;
	if (r < 0)
		return MNL_CB_ERROR;
	if (c->ifindex && a.ifindex != c->ifindex)
		return MNL_CB_OK;
	c->err = vip_port_table_add(c->t, &a);
	return MNL_CB_OK;
}

int vip_nl_dump(struct vip_port *p, int ifindex, struct vip_port_table *t)
{
	char buf[VIP_NL_REQ_MAX];
	for (int tries = 0; tries < DUMP_TRIES; tries++) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
		struct dump_ctx c = { ifindex, t, 0 };
		bool intr = false;
		t->n = 0;
		vip_nl_put_addr_dump(nlh, 0);
		nlh->nlmsg_flags |= NLM_F_ACK;
		int r = vip_nl_transact(p, nlh, dump_cb, &c, &intr, NULL, 0);
		if (r == 0)
			r = c.err;
		if (r < 0) {
			t->n = 0;
			return r;
		}
		if (!intr)
			return (int)t->n;
	}
	t->n = 0;
	return -EAGAIN;
}

static int linux_dump(struct vip_port *p, int ifindex, struct vip_port_table *t)
{
	return vip_nl_dump(p, ifindex, t);
}

static int linux_flush_tagged(struct vip_port *p, int ifindex)
{
	struct vip_port_table t = { 0 };
	int r = vip_nl_dump(p, ifindex, &t);
	if (r < 0)
		return r;
	_cleanup_free_ struct vip_port_req *reqs = calloc(t.n ? t.n : 1, sizeof(*reqs));
	if (!reqs) {
		vip_port_table_clear(&t);
		return -ENOMEM;
	}
	size_t n = 0;
	for (size_t i = 0; i < t.n; i++) {
		if (!t.items[i].ours)
			continue;
		reqs[n].addr = t.items[i].addr;
		reqs[n].prefix = t.items[i].prefix;
		reqs[n].ifindex = t.items[i].ifindex;
		n++;
	}
	vip_port_table_clear(&t);
	if (n == 0)
		return 0;
	r = addr_batch(p, RTM_DELADDR, reqs, n);
	if (r < 0)
		return r;
	return r > 0 ? -EIO : (int)n;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct vip_port_link *l = data;
	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	return vip_nl_parse_link(nlh, l) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

int vip_nl_link_get(struct vip_port *p, int ifindex, struct vip_port_link *ret)
{
	char buf[VIP_NL_REQ_MAX];
	struct vip_port_link l = { 0 };
	if (ifindex <= 0)
		return -ENODEV;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	p->link_requests++;
	int r = vip_nl_transact(p, nlh, link_cb, &l, NULL, NULL, 0);
	if (r < 0)
		return r;
	if (l.ifindex != ifindex)
		return -ENODEV;
	*ret = l;
	return 0;
}

static int linux_announce(struct vip_port *p, struct vip_port_announce *batch, size_t n,
			  enum vip_arp_mode mode)
{
	return vip_nl_announce(p, batch, n, mode);
}

const struct vip_port_ops vip_port_linux_ops = {
	.name = "linux",
	.open = linux_open,
	.close = linux_close,
	.add = linux_add,
	.remove = linux_remove,
	.dump = linux_dump,
	.flush_tagged = linux_flush_tagged,
	.event_fd = vip_nl_event_fd,
	.next_event = vip_nl_next_event,
	.dump_links = vip_nl_dump_links,
	.dump_routes = vip_nl_dump_routes,
	.link_get = vip_nl_link_get,
	.announce = linux_announce,
	.dump_neigh = vip_nl_dump_neigh,
	.probe = vip_nl_probe,
	.probe_listen = vip_nl_probe_listen,
	.probe_fds = vip_nl_probe_fds,
	.next_answer = vip_nl_next_answer,
};

const struct vip_port_ops *vip_port_native(void)
{
	return &vip_port_linux_ops;
}

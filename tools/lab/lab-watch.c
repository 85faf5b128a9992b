/* SPDX-License-Identifier: MIT */
/*
 * Address tracking in several namespaces at once, from rtnetlink events with a
 * full dump at start and after a lost event (ENOBUFS): every change is seen,
 * not just a sample. Used by `lab-net watch` (no address on two live nodes,
 * lab-guard.c), `lab-net addrs` and `lab-net capture` (how many addresses are
 * plumbed yet).
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/rtnetlink.h>
#include <netlink/msg.h>

#include "lab-watch.h"

#define TABLE_SIZE 65536u /* power of two, > 4 x the largest address count used */

struct entry {
	struct lab_addr key;
	uint32_t mask; /* bit i: namespace i holds the address */
	bool used;
};

struct lab_tracker {
	struct entry *table;
	int n;
	struct nl_sock *ev[LAB_MAX_NODES];
	struct nl_sock *dump[LAB_MAX_NODES];
	int cur; /* namespace whose message the callback parses */
	lab_change_fn change;
	void *data;
	unsigned resyncs, events;
};

static uint32_t hash_addr(const struct lab_addr *a)
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < 16; i++)
		h = (h ^ a->bytes[i]) * 16777619u;
	return h ^ (uint32_t)a->family;
}

static struct entry *lookup(struct lab_tracker *t, const struct lab_addr *a, bool add)
{
	for (uint32_t i = 0, h = hash_addr(a); i < TABLE_SIZE; i++) {
		struct entry *e = &t->table[(h + i) & (TABLE_SIZE - 1)];
		if (!e->used) {
			if (!add)
				return NULL;
			e->used = true;
			e->key = *a;
			return e;
		}
		if (e->key.family == a->family && memcmp(e->key.bytes, a->bytes, 16) == 0)
			return e;
	}
	return NULL;
}

static void apply(struct lab_tracker *t, int ns, const struct lab_addr *a, bool add)
{
	struct entry *e = lookup(t, a, add);
	if (!e)
		return;
	uint32_t before = e->mask;
	if (add)
		e->mask |= 1u << ns;
	else
		e->mask &= ~(1u << ns);
	if (before != e->mask && t->change)
		t->change(t->data, &e->key, before, e->mask);
}

int lab_addr_from_msg(struct nlmsghdr *h, struct lab_addr *ret)
{
	struct nlattr *tb[IFA_MAX + 1];
	struct ifaddrmsg *ifa = nlmsg_data(h);

	if (h->nlmsg_type != RTM_NEWADDR && h->nlmsg_type != RTM_DELADDR)
		return -EINVAL;
	if (nlmsg_parse(h, sizeof(*ifa), tb, IFA_MAX, NULL) < 0)
		return -EINVAL;
	if (ifa->ifa_scope != RT_SCOPE_UNIVERSE)
		return -ENOENT;
	struct nlattr *at = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	size_t len = ifa->ifa_family == AF_INET ? 4 : 16;
	if (!at || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) || (size_t)nla_len(at) != len)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	ret->family = ifa->ifa_family;
	memcpy(ret->bytes, nla_data(at), len);
	return 0;
}

static int on_msg(struct nl_msg *msg, void *arg)
{
	struct lab_tracker *t = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct lab_addr a;

	if (lab_addr_from_msg(h, &a) < 0 || lab_is_base_addr(&a))
		return NL_OK;
	t->events++;
	apply(t, t->cur, &a, h->nlmsg_type == RTM_NEWADDR);
	return NL_OK;
}

static int dump_ns(struct lab_tracker *t, int ns)
{
	struct rtgenmsg gen = { .rtgen_family = AF_UNSPEC };

	/* Forget what this namespace held, then learn it again. */
	for (uint32_t i = 0; i < TABLE_SIZE; i++)
		if (t->table[i].used && (t->table[i].mask & (1u << ns)))
			apply(t, ns, &t->table[i].key, false);
	if (nl_send_simple(t->dump[ns], RTM_GETADDR, NLM_F_DUMP, &gen, sizeof(gen)) < 0)
		return -EIO;
	t->cur = ns;
	return nl_recvmsgs_default(t->dump[ns]) < 0 ? -EIO : 0;
}

static int setup_sock(struct lab_tracker *t, struct nl_sock *sk, bool events)
{
	nl_socket_disable_seq_check(sk);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_msg, t);
	if (!events)
		return 0;
	nl_socket_disable_auto_ack(sk);
	if (nl_socket_set_buffer_size(sk, 8 << 20, 0) < 0)
		return -EIO;
	/* Root may go past rmem_max; the lab always runs as root. */
	int sz = 8 << 20;
	setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	if (lab_add_membership_addrs(sk) < 0 || nl_socket_set_nonblocking(sk) < 0)
		return -EIO;
	return 0;
}

int lab_tracker_new(char **netns, int n, lab_change_fn change, void *data, struct lab_tracker **ret)
{
	struct lab_tracker *t = calloc(1, sizeof(*t));

	if (!t || n > LAB_MAX_NODES || !(t->table = calloc(TABLE_SIZE, sizeof(struct entry))))
		goto free_tracker;
	t->n = n;
	t->change = change;
	t->data = data;
	for (int i = 0; i < n; i++) {
		if (lab_nl_open_in(netns[i], &t->ev[i]) < 0 || lab_nl_open_in(netns[i], &t->dump[i]) < 0 ||
		    setup_sock(t, t->ev[i], true) < 0 || setup_sock(t, t->dump[i], false) < 0) {
			fprintf(stderr, "lab-net: cannot watch namespace %s\n", netns[i]);
			goto free_tracker;
		}
	}
	for (int i = 0; i < n; i++)
		if (dump_ns(t, i) < 0)
			goto free_tracker;
	*ret = t;
	return 0;
free_tracker:
	lab_tracker_free(t);
	return -EIO;
}

void lab_tracker_free(struct lab_tracker *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->n; i++) {
		if (t->ev[i])
			nl_socket_free(t->ev[i]);
		if (t->dump[i])
			nl_socket_free(t->dump[i]);
	}
	free(t->table);
	free(t);
}

/* Read every queued event of every namespace, in rounds, until one round finds
 * nothing: a removal on one node queued before an addition on another is then
 * always applied before the state is judged. Returns events read or -EIO. */
int lab_tracker_drain(struct lab_tracker *t)
{
	unsigned before = t->events;

	for (int round = 0; round < 1000; round++) {
		bool any = false;
		for (int i = 0; i < t->n; i++) {
			struct pollfd p = { .fd = nl_socket_get_fd(t->ev[i]), .events = POLLIN };
			while (poll(&p, 1, 0) == 1) {
				t->cur = i;
				int r = nl_recvmsgs_default(t->ev[i]);
				if (r == -NLE_AGAIN)
					break;
				if (r < 0) { /* lost events (ENOBUFS is NLE_NOMEM): re-dump */
					t->resyncs++;
					if (dump_ns(t, i) < 0)
						return -EIO;
				}
				any = true;
			}
		}
		if (!any)
			break;
	}
	return (int)(t->events - before);
}

int lab_tracker_fds(struct lab_tracker *t, struct pollfd *fds)
{
	for (int i = 0; i < t->n; i++)
		fds[i] = (struct pollfd){ .fd = nl_socket_get_fd(t->ev[i]), .events = POLLIN };
	return t->n;
}

uint32_t lab_tracker_mask(struct lab_tracker *t, const struct lab_addr *a)
{
	struct entry *e = lookup(t, a, false);
	return e ? e->mask : 0;
}

void lab_tracker_foreach(struct lab_tracker *t, lab_change_fn fn, void *data)
{
	for (uint32_t i = 0; i < TABLE_SIZE; i++)
		if (t->table[i].used && t->table[i].mask)
			fn(data, &t->table[i].key, t->table[i].mask, t->table[i].mask);
}

void lab_tracker_stats(struct lab_tracker *t, unsigned *events, unsigned *resyncs)
{
	*events = t->events;
	*resyncs = t->resyncs;
}

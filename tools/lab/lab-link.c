/* SPDX-License-Identifier: MIT */
/*
 * The state of each node's switch port (the veth end "n<i>" on the bridge in
 * <prefix>-sw, which `lab link NODE down|up` sets), from rtnetlink link events
 * with a dump at start and after a lost event. A port that is not IFF_UP, or
 * does not exist, is down: the node is cut off from the switch and the client.
 */
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/rtnetlink.h>
#include <netlink/msg.h>

#include "lab-link.h"

struct lab_links {
	int n;
	uint32_t down; /* bit i: node i's port is down */
	struct nl_sock *ev, *dump;
	lab_link_fn change;
	void *data;
};

static int node_of(const char *name, int n)
{
	char *end;

	if (name[0] != 'n' || name[1] < '1' || name[1] > '9')
		return -1;
	long i = strtol(name + 1, &end, 10);
	return *end == '\0' && i >= 1 && i <= n ? (int)i - 1 : -1;
}

static void set_down(struct lab_links *l, int node, bool down)
{
	uint32_t before = l->down;

	if (down)
		l->down |= 1u << node;
	else
		l->down &= ~(1u << node);
	if (before != l->down && l->change)
		l->change(l->data, node, !down);
}

static int on_link(struct nl_msg *msg, void *arg)
{
	struct lab_links *l = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *tb[IFLA_MAX + 1];
	struct ifinfomsg *ifi = nlmsg_data(h);
	char name[IFNAMSIZ];

	if ((h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK) ||
	    nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0 || !tb[IFLA_IFNAME])
		return NL_OK;
	nla_strlcpy(name, tb[IFLA_IFNAME], sizeof(name));
	int node = node_of(name, l->n);
	if (node >= 0)
		set_down(l, node, h->nlmsg_type == RTM_DELLINK || !(ifi->ifi_flags & IFF_UP));
	return NL_OK;
}

/* Every port is down until the dump shows it (a missing port is a cut node);
 * only the net change from before the dump is reported. */
static int dump_links(struct lab_links *l)
{
	struct rtgenmsg gen = { .rtgen_family = AF_UNSPEC };
	uint32_t before = l->down;
	lab_link_fn change = l->change;
	int r = -EIO;

	l->change = NULL;
	l->down = (1u << l->n) - 1;
	if (nl_send_simple(l->dump, RTM_GETLINK, NLM_F_DUMP, &gen, sizeof(gen)) >= 0)
		r = nl_recvmsgs_default(l->dump) < 0 ? -EIO : 0;
	l->change = change;
	for (int i = 0; i < l->n && change; i++)
		if ((before ^ l->down) & (1u << i))
			change(l->data, i, !(l->down & (1u << i)));
	return r;
}

int lab_links_new(const char *prefix, int n, lab_link_fn change, void *data, struct lab_links **ret)
{
	char ns[64];
	struct lab_links *l = calloc(1, sizeof(*l));

	if (!l || n < 1 || n > LAB_MAX_NODES)
		goto free_links;
	l->n = n;
	snprintf(ns, sizeof(ns), "%s-sw", prefix);
	if (lab_nl_open_in(ns, &l->ev) < 0 || lab_nl_open_in(ns, &l->dump) < 0) {
		fprintf(stderr, "lab-net: cannot watch links in %s\n", ns);
		goto free_links;
	}
	nl_socket_disable_seq_check(l->ev);
	nl_socket_disable_seq_check(l->dump);
	nl_socket_disable_auto_ack(l->ev);
	nl_socket_modify_cb(l->ev, NL_CB_VALID, NL_CB_CUSTOM, on_link, l);
	nl_socket_modify_cb(l->dump, NL_CB_VALID, NL_CB_CUSTOM, on_link, l);
	if (nl_socket_add_memberships(l->ev, RTNLGRP_LINK, 0) < 0 || nl_socket_set_nonblocking(l->ev) < 0)
		goto free_links;
	/* The initial state is reported as a change from "all up". */
	l->change = change;
	l->data = data;
	if (dump_links(l) < 0)
		goto free_links;
	*ret = l;
	return 0;
free_links:
	lab_links_free(l);
	return -EIO;
}

void lab_links_free(struct lab_links *l)
{
	if (!l)
		return;
	if (l->ev)
		nl_socket_free(l->ev);
	if (l->dump)
		nl_socket_free(l->dump);
	free(l);
}

int lab_links_fd(struct lab_links *l)
{
	return nl_socket_get_fd(l->ev);
}

int lab_links_drain(struct lab_links *l)
{
	struct pollfd p = { .fd = nl_socket_get_fd(l->ev), .events = POLLIN };
	int n = 0;

	for (int k = 0; k < 10000 && poll(&p, 1, 0) == 1; k++) {
		int r = nl_recvmsgs_default(l->ev);
		if (r == -NLE_AGAIN)
			break;
		if (r < 0 && dump_links(l) < 0) /* lost events: re-dump */
			return -EIO;
		n++;
	}
	return n;
}

uint32_t lab_links_down(const struct lab_links *l)
{
	return l->down;
}

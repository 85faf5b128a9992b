/* SPDX-License-Identifier: MIT */
/*
 * lab-net up / link: the lab's topology over rtnetlink (libnl-route-3).
 * A bridge "br0" in <prefix>-sw; per member (n1..nN, c, b) a veth whose switch
 * end is named after the member and enslaved to br0, and whose other end is
 * "eth0" in the member's namespace, with the member's addresses.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <linux/if_addr.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>

#include "lab.h"

static void nl_sock_freep(struct nl_sock **sk)
{
	if (*sk)
		nl_socket_free(*sk);
}
#define _cleanup_nl_sock_ _cleanup_(nl_sock_freep)

static void link_putp(struct rtnl_link **l)
{
	if (*l)
		rtnl_link_put(*l);
}
#define _cleanup_link_ _cleanup_(link_putp)

static int fail(const char *what, const char *name, int nlerr)
{
	fprintf(stderr, "lab-net: %s %s: %s\n", what, name, nl_geterror(nlerr));
	return -EIO;
}

/* Set a link up or down, and optionally its master (0 = leave it). */
static int link_set(struct nl_sock *sk, const char *name, bool up, int master)
{
	_cleanup_link_ struct rtnl_link *link = NULL;
	_cleanup_link_ struct rtnl_link *change = rtnl_link_alloc();
	int r;

	if (!change)
		return -ENOMEM;
	r = rtnl_link_get_kernel(sk, 0, name, &link);
	if (r < 0)
		return fail("find link", name, r);
	if (up)
		rtnl_link_set_flags(change, IFF_UP);
	else
		rtnl_link_unset_flags(change, IFF_UP);
	if (master > 0)
		rtnl_link_set_master(change, master);
	r = rtnl_link_change(sk, link, change, 0);
	return r < 0 ? fail("change link", name, r) : 0;
}

static int ifindex_of(struct nl_sock *sk, const char *name)
{
	_cleanup_link_ struct rtnl_link *link = NULL;
	int r = rtnl_link_get_kernel(sk, 0, name, &link);
	return r < 0 ? fail("find link", name, r) : rtnl_link_get_ifindex(link);
}

static int addr_add(struct nl_sock *sk, int ifindex, const char *text)
{
	struct nl_addr *local = NULL;
	struct rtnl_addr *addr = rtnl_addr_alloc();
	int r = nl_addr_parse(text, AF_UNSPEC, &local);

	if (!addr || r < 0) {
		r = r < 0 ? r : -NLE_NOMEM;
		goto put_addr;
	}
	rtnl_addr_set_ifindex(addr, ifindex);
	rtnl_addr_set_local(addr, local);
	if (nl_addr_get_family(local) == AF_INET6)
		rtnl_addr_set_flags(addr, IFA_F_NODAD);
	r = rtnl_addr_add(sk, addr, 0);
put_addr:
	nl_addr_put(local);
	rtnl_addr_put(addr);
	return r < 0 ? fail("add address", text, r) : 0;
}

/* Make the veth for one member: switch end in sw, peer "eth0" in its netns. */
static int make_veth(struct nl_sock *sw, const char *prefix, const char *member, unsigned id, int bridge)
{
	char ns[64], mac[32];
	_cleanup_link_ struct rtnl_link *veth = rtnl_link_veth_alloc();
	struct nl_addr *lladdr = NULL;
	int r;

	snprintf(ns, sizeof(ns), "%s-%s", prefix, member);
	_cleanup_close_ int nsfd = lab_netns_fd(ns);
	if (!veth)
		return -ENOMEM;
	if (nsfd < 0) {
		fprintf(stderr, "lab-net: namespace %s: %s\n", ns, strerror(-nsfd));
		return nsfd;
	}
	struct rtnl_link *peer = rtnl_link_veth_get_peer(veth);
	rtnl_link_set_name(veth, member);
	rtnl_link_set_name(peer, "eth0");
	rtnl_link_set_ns_fd(peer, nsfd);
	snprintf(mac, sizeof(mac), "02:76:6c:00:00:%02x", id);
	if (nl_addr_parse(mac, AF_LLC, &lladdr) >= 0) {
		rtnl_link_set_addr(peer, lladdr);
		nl_addr_put(lladdr);
	}
	rtnl_link_put(peer);
	r = rtnl_link_add(sw, veth, NLM_F_CREATE | NLM_F_EXCL);
	if (r < 0)
		return fail("add veth", member, r);
	return link_set(sw, member, true, bridge);
}

/* Inside a member's namespace: lo and eth0 up, its two addresses. */
static int member_setup(const char *prefix, const char *member, unsigned id)
{
	char ns[64], a4[32], a6[48];
	_cleanup_nl_sock_ struct nl_sock *sk = NULL;
	int r, ifindex;

	snprintf(ns, sizeof(ns), "%s-%s", prefix, member);
	r = lab_nl_open_in(ns, &sk);
	if (r < 0)
		return fail("netlink in", ns, -NLE_FAILURE);
	if ((r = link_set(sk, "lo", true, 0)) < 0 || (r = link_set(sk, "eth0", true, 0)) < 0)
		return r;
	ifindex = ifindex_of(sk, "eth0");
	if (ifindex < 0)
		return ifindex;
	snprintf(a4, sizeof(a4), "203.0.113.%u/24", id >= LAB_CLIENT_ID ? id : 10 + id);
	snprintf(a6, sizeof(a6), "2001:db8::1:%x/64", id);
	if ((r = addr_add(sk, ifindex, a4)) < 0)
		return r;
	return addr_add(sk, ifindex, a6);
}

/* lab-net up PREFIX N */
int lab_cmd_up(int argc, char **argv)
{
	_cleanup_nl_sock_ struct nl_sock *sw = NULL;
	char ns[64], member[16];
	int n, r, bridge;

	if (argc != 3 || (n = atoi(argv[2])) < 1 || n > LAB_MAX_NODES) {
		fprintf(stderr, "usage: lab-net up PREFIX N (1..%d)\n", LAB_MAX_NODES);
		return 2;
	}
	snprintf(ns, sizeof(ns), "%s-sw", argv[1]);
	if (lab_nl_open_in(ns, &sw) < 0)
		return fail("netlink in", ns, -NLE_FAILURE), 1;
	r = rtnl_link_bridge_add(sw, "br0");
	if (r < 0)
		return fail("add bridge", "br0", r), 1;
	if (link_set(sw, "br0", true, 0) < 0 || (bridge = ifindex_of(sw, "br0")) < 0)
		return 1;
	for (int i = 0; i <= n + 1; i++) {
		unsigned id = i < n ? (unsigned)i + 1 : i == n ? LAB_CLIENT_ID : LAB_BYSTANDER_ID;
		if (i < n)
			snprintf(member, sizeof(member), "n%u", id);
		else
			snprintf(member, sizeof(member), i == n ? "c" : "b");
		if (make_veth(sw, argv[1], member, id, bridge) < 0 || member_setup(argv[1], member, id) < 0)
			return 1;
	}
	return 0;
}

/* lab-net link PREFIX MEMBER up|down: the member's port on the switch, so the
 * member sees its carrier go, as when a cable is pulled. */
int lab_cmd_link(int argc, char **argv)
{
	_cleanup_nl_sock_ struct nl_sock *sw = NULL;
	char ns[64];

	if (argc != 4 || (strcmp(argv[3], "up") != 0 && strcmp(argv[3], "down") != 0)) {
		fprintf(stderr, "usage: lab-net link PREFIX MEMBER up|down\n");
		return 2;
	}
	snprintf(ns, sizeof(ns), "%s-sw", argv[1]);
	if (lab_nl_open_in(ns, &sw) < 0)
		return fail("netlink in", ns, -NLE_FAILURE), 1;
	return link_set(sw, argv[2], strcmp(argv[3], "up") == 0, 0) < 0 ? 1 : 0;
}

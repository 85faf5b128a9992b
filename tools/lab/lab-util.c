/* SPDX-License-Identifier: MIT */
/* lab-net helpers: namespaces, netlink sockets, address parsing. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include <linux/rtnetlink.h>
#include <netlink/route/addr.h>

#include "lab.h"

int lab_netns_fd(const char *name)
{
	char path[PATH_MAX];

	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? negerrno() : fd;
}

/* A netlink socket belongs to the namespace it was made in, so enter the
 * target namespace, make the socket, and come back. */
int lab_nl_open_in(const char *netns, struct nl_sock **ret)
{
	_cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int target = lab_netns_fd(netns);
	struct nl_sock *sk;
	int r;

	if (self < 0)
		return negerrno();
	if (target < 0)
		return target;
	if (setns(target, CLONE_NEWNET) < 0)
		return negerrno();
	sk = nl_socket_alloc();
	r = sk ? nl_connect(sk, NETLINK_ROUTE) : -NLE_NOMEM;
	if (setns(self, CLONE_NEWNET) < 0) {
		/* Never carry on in the wrong namespace. */
		perror("lab-net: setns back");
		abort();
	}
	if (r < 0) {
		nl_socket_free(sk);
		return -ENOTCONN;
	}
	*ret = sk;
	return 0;
}

int lab_parse_addr(const char *s, struct lab_addr *ret)
{
	struct lab_addr a = { 0 };

	if (inet_pton(AF_INET, s, a.bytes) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, a.bytes) == 1)
		a.family = AF_INET6;
	else
		return -EINVAL;
	*ret = a;
	return 0;
}

int lab_parse_cidr(const char *s, struct lab_cidr *ret)
{
	char buf[INET6_ADDRSTRLEN + 8];
	struct lab_cidr c = { 0 };
	char *slash;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (lab_parse_addr(buf, &c.addr) < 0)
		return -EINVAL;
	int max = c.addr.family == AF_INET ? 32 : 128;
	c.plen = slash ? atoi(slash) : max;
	if (c.plen < 0 || c.plen > max)
		return -EINVAL;
	*ret = c;
	return 0;
}

/* Parse "a/b,c/d" into out[]; returns the count or -EINVAL. */
int lab_parse_cidr_list(const char *s, struct lab_cidr *out, int max)
{
	_cleanup_free_ char *copy = strdup(s);
	char *parts[64];
	int n;

	if (!copy)
		return -ENOMEM;
	n = lab_split_list(copy, parts, max < 64 ? max : 64);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++)
		if (lab_parse_cidr(parts[i], &out[i]) < 0)
			return -EINVAL;
	return n;
}

bool lab_cidr_match(const struct lab_cidr *c, int n, const struct lab_addr *a)
{
	for (int i = 0; i < n; i++) {
		if (c[i].addr.family != a->family)
			continue;
		int full = c[i].plen / 8, rest = c[i].plen % 8;
		if (memcmp(c[i].addr.bytes, a->bytes, full) != 0)
			continue;
		if (rest) {
			uint8_t mask = (uint8_t)(0xff << (8 - rest));
			if ((c[i].addr.bytes[full] & mask) != (a->bytes[full] & mask))
				continue;
		}
		return true;
	}
	return false;
}

const char *lab_addr_str(const struct lab_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, a->bytes, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

/* The lab's own node, client and bystander addresses (see lab.h), never VIPs. */
bool lab_is_base_addr(const struct lab_addr *a)
{
	static const uint8_t v4net[3] = { 203, 0, 113 };
	static const uint8_t v6net[14] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
	uint8_t last;

	if (a->family == AF_INET && memcmp(a->bytes, v4net, 3) == 0) {
		last = a->bytes[3];
		return (last > 10 && last <= 10 + LAB_MAX_NODES) || last == LAB_CLIENT_ID ||
		       last == LAB_BYSTANDER_ID;
	}
	if (a->family == AF_INET6 && memcmp(a->bytes, v6net, 14) == 0 && a->bytes[14] == 0) {
		last = a->bytes[15];
		return (last >= 1 && last <= LAB_MAX_NODES) || last == LAB_CLIENT_ID ||
		       last == LAB_BYSTANDER_ID;
	}
	return false;
}

double lab_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return lab_ts(&ts);
}

double lab_ts(const struct timespec *ts)
{
	return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

/* Split a comma-separated list in place; returns the count or -E2BIG. */
int lab_split_list(char *s, char **out, int max)
{
	int n = 0;

	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		if (n >= max)
			return -E2BIG;
		out[n++] = tok;
	}
	return n;
}

int lab_add_membership_addrs(struct nl_sock *sk)
{
	return nl_socket_add_memberships(sk, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, 0);
}

int lab_touch(const char *path)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	return fd < 0 ? negerrno() : 0;
}

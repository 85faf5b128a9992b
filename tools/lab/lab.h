/* SPDX-License-Identifier: MIT */
/*
 * lab-net: the network half of tools/lab. The bash script tools/lab/lab makes
 * the namespaces and runs the processes; this program builds the links and
 * addresses over rtnetlink (libnl-3), watches addresses, and captures
 * announcements. Every command works only inside the lab's own namespaces,
 * named "<prefix>-sw" (switch), "<prefix>-c" (client), "<prefix>-b" (bystander),
 * "<prefix>-n<i>" (nodes).
 *
 * Address plan (node i = 1..N): 203.0.113.(10+i)/24 and 2001:db8::1:<i hex>/64,
 * client 203.0.113.200/24 and 2001:db8::1:c8/64; MAC 02:76:6c:00:00:<i hex>
 * (client 02:76:6c:00:00:c8). The bystander (a host on the segment that talks
 * to no DuraVIP) is 203.0.113.210/24, 2001:db8::1:d2/64, 02:76:6c:00:00:d2.
 * Every other global address on a node is a VIP.
 */
#ifndef VIP_LAB_H
#define VIP_LAB_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <time.h>

#include <netlink/netlink.h>

#include "conf/base/util.h"

#define LAB_MAX_NODES 16
#define LAB_CLIENT_ID 200
#define LAB_BYSTANDER_ID 210

/* A parsed address: family AF_INET or AF_INET6, bytes in network order. */
struct lab_addr {
	int family;
	uint8_t bytes[16];
};

/* An address block to match announcements or VIPs against. */
struct lab_cidr {
	struct lab_addr addr;
	int plen;
};

/* lab-util.c */
int lab_netns_fd(const char *name);
int lab_nl_open_in(const char *netns, struct nl_sock **ret);
int lab_parse_addr(const char *s, struct lab_addr *ret);
int lab_parse_cidr(const char *s, struct lab_cidr *ret);
int lab_parse_cidr_list(const char *s, struct lab_cidr *out, int max);
bool lab_cidr_match(const struct lab_cidr *c, int n, const struct lab_addr *a);
const char *lab_addr_str(const struct lab_addr *a, char *buf, size_t len);
bool lab_is_base_addr(const struct lab_addr *a);
double lab_now(void);
double lab_ts(const struct timespec *ts);
int lab_split_list(char *s, char **out, int max);
int lab_add_membership_addrs(struct nl_sock *sk);
/* Create path if missing (a "ready" flag for scripts); 0 or -errno. */
int lab_touch(const char *path);

/* Commands (argv[0] is the command name). Return a process exit status. */
int lab_cmd_up(int argc, char **argv);
int lab_cmd_link(int argc, char **argv);
int lab_cmd_addrs(int argc, char **argv);
int lab_cmd_watch(int argc, char **argv);
int lab_cmd_capture(int argc, char **argv);

#endif

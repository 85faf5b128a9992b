/* SPDX-License-Identifier: MIT */
/*
 * lab-net capture: time announcements as a client sees them.
 *
 *   lab-net capture --ns NETNS --match CIDR[,CIDR...] [--if eth0] [--expect N]
 *                   [--plumb NETNS[,NETNS...]] [--timeout S] [--linger S]
 *                   [--ready FILE] [--not-mac MAC] [--group-only] [-- TRIGGER ARGS...]
 *
 * Opens a packet socket in NETNS (the client), then runs TRIGGER (e.g. kill -9
 * of an owner) and reports, in ms from just before the trigger started: the
 * first gratuitous ARP (sender = target) or neighbour advertisement for a
 * matching address, the time all --expect addresses had been announced, and,
 * with --plumb, the time --expect matching addresses were plumbed in those
 * namespaces together (from their rtnetlink events). Packets stamped before
 * the trigger, and those sent from --not-mac (the old owner), are ignored;
 * with --group-only, so are frames sent to one host (Ethernet destination
 * without the group bit): only broadcast and multicast announcements count.
 * Without a trigger it listens until --expect is met,
 * --timeout, or SIGTERM. Output is one line of key=value; exit 0 when every
 * expectation was met, 1 on timeout.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/ip6.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "lab-watch.h"

#define MAX_MATCH 32
#define SEEN_MAX 65536

struct cap {
	struct lab_cidr match[MAX_MATCH];
	int nmatch;
	long expect;
	double t0;
	double first, all, plumbed_at;
	unsigned char first_mac[6];
	unsigned char not_mac[6];
	bool has_not_mac;
	bool group_only;
	long packets, distinct, plumbed;
	struct lab_addr *seen; /* distinct announced addresses, unsorted */
	bool counting_plumbed;
};

static int packet_socket_in(const char *netns, const char *ifname)
{
	_cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int target = lab_netns_fd(netns);
	int fd = -1, one = 1, sz = 8 << 20;

	if (self < 0 || target < 0 || setns(target, CLONE_NEWNET) < 0)
		return -ENOENT;
	unsigned ifindex = if_nametoindex(ifname);
	if (ifindex)
		fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (setns(self, CLONE_NEWNET) < 0)
		abort(); /* never carry on in the wrong namespace */
	if (fd < 0)
		return -ENODEV;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = (int)ifindex };
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0) {
		close(fd);
		return -EIO;
	}
	return fd;
}

/* The announced address of a frame, if it is a gratuitous ARP or an NA. */
static bool announced(const uint8_t *p, size_t len, struct lab_addr *ret)
{
	const struct ethhdr *eth = (const void *)p;

	memset(ret, 0, sizeof(*ret));
	if (len < sizeof(*eth))
		return false;
	p += sizeof(*eth);
	len -= sizeof(*eth);
	if (ntohs(eth->h_proto) == ETH_P_ARP && len >= 28) {
		/* htype 1, ptype IPv4, hlen 6, plen 4; spa at 14, tpa at 24 */
		if (p[4] != 6 || p[5] != 4 || memcmp(p + 14, p + 24, 4) != 0)
			return false;
		ret->family = AF_INET;
		memcpy(ret->bytes, p + 14, 4);
		return true;
	}
	if (ntohs(eth->h_proto) == ETH_P_IPV6 && len >= 40 + 24) {
		const struct ip6_hdr *ip6 = (const void *)p;
		const uint8_t *icmp = p + 40;
		if (ip6->ip6_nxt != IPPROTO_ICMPV6 || icmp[0] != ND_NEIGHBOR_ADVERT)
			return false;
		ret->family = AF_INET6;
		memcpy(ret->bytes, icmp + 8, 16);
		return true;
	}
	return false;
}

static void count_frame(struct cap *c, const uint8_t *frame, size_t len, double ts)
{
	struct lab_addr a;

	if (ts < c->t0 || !announced(frame, len, &a) || !lab_cidr_match(c->match, c->nmatch, &a))
		return;
	if (c->has_not_mac && memcmp(frame + 6, c->not_mac, 6) == 0)
		return;
	if (c->group_only && !(frame[0] & 1))
		return;
	c->packets++;
	if (c->first < 0) {
		c->first = ts;
		memcpy(c->first_mac, frame + 6, 6);
	}
	for (long i = 0; i < c->distinct; i++)
		if (c->seen[i].family == a.family && memcmp(c->seen[i].bytes, a.bytes, 16) == 0)
			return;
	if (c->distinct < SEEN_MAX)
		c->seen[c->distinct++] = a;
	if (c->expect > 0 && c->distinct >= c->expect && c->all < 0)
		c->all = ts;
}

static void read_frames(struct cap *c, int fd)
{
	uint8_t frame[2048];
	char ctl[256];

	for (int i = 0; i < 100000; i++) {
		struct iovec iov = { frame, sizeof(frame) };
		struct msghdr m = { .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl,
				    .msg_controllen = sizeof(ctl) };
		ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);
		if (n < 0)
			return;
		double ts = lab_now();
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
				struct timespec tsp;
				memcpy(&tsp, CMSG_DATA(cm), sizeof(tsp));
				ts = lab_ts(&tsp);
			}
		count_frame(c, frame, (size_t)n, ts);
	}
}

static void count_plumbed(void *data, const struct lab_addr *a, _unused_ uint32_t before, uint32_t mask)
{
	struct cap *c = data;

	if (c->counting_plumbed && mask && lab_cidr_match(c->match, c->nmatch, a))
		c->plumbed++;
}

static bool done(const struct cap *c, bool plumb)
{
	if (c->expect <= 0)
		return false;
	return c->all >= 0 && (!plumb || c->plumbed_at >= 0);
}

static void update_plumbed(struct cap *c, struct lab_tracker *t)
{
	if (!t || c->plumbed_at >= 0)
		return;
	c->plumbed = 0;
	c->counting_plumbed = true;
	lab_tracker_foreach(t, count_plumbed, c);
	c->counting_plumbed = false;
	if (c->expect > 0 && c->plumbed >= c->expect)
		c->plumbed_at = lab_now();
}

static pid_t run_trigger(char **argv)
{
	pid_t pid = fork();

	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static double ms(const struct cap *c, double t)
{
	return t < 0 ? -1 : (t - c->t0) * 1000.0;
}

static int capture_loop(struct cap *c, int fd, struct lab_tracker *t, int sigfd, char **trigger,
			double timeout, double linger)
{
	struct pollfd fds[LAB_MAX_NODES + 2];
	int n = 0, status = 0;
	pid_t child = -1;

	fds[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	fds[n++] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
	if (t)
		n += lab_tracker_fds(t, fds + n);
	c->t0 = lab_now();
	if (trigger && (child = run_trigger(trigger)) < 0)
		return -errno;
	double end = c->t0 + timeout, stop = -1;
	while (lab_now() < end && (stop < 0 || lab_now() < stop)) {
		if (poll(fds, (nfds_t)n, 2) < 0 && errno != EINTR)
			return -EIO;
		if (fds[1].revents & POLLIN)
			break;
		read_frames(c, fd);
		if (t && lab_tracker_drain(t) > 0)
			update_plumbed(c, t);
		if (child > 0 && waitpid(child, &status, WNOHANG) == child)
			child = -1;
		if (stop < 0 && done(c, t != NULL))
			stop = lab_now() + linger;
	}
	if (child > 0)
		waitpid(child, &status, 0);
	return done(c, t != NULL) ? 0 : 1;
}

int lab_cmd_capture(int argc, char **argv)
{
	static const struct option opts[] = { { "ns", required_argument, NULL, 'n' },
					      { "if", required_argument, NULL, 'i' },
					      { "match", required_argument, NULL, 'm' },
					      { "expect", required_argument, NULL, 'e' },
					      { "plumb", required_argument, NULL, 'p' },
					      { "timeout", required_argument, NULL, 't' },
					      { "linger", required_argument, NULL, 'l' },
					      { "ready", required_argument, NULL, 'r' },
					      { "not-mac", required_argument, NULL, 'x' },
					      { "group-only", no_argument, NULL, 'g' },
					      { 0 } };
	struct cap c = { .first = -1, .all = -1, .plumbed_at = -1 };
	const char *ns = NULL, *ifname = "eth0", *ready = NULL;
	char *plumb = NULL, *pns[LAB_MAX_NODES];
	double timeout = 30, linger = 0;
	int npns = 0, opt;

	while ((opt = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			ns = optarg;
			break;
		case 'i':
			ifname = optarg;
			break;
		case 'm':
			c.nmatch = lab_parse_cidr_list(optarg, c.match, MAX_MATCH);
			break;
		case 'e':
			c.expect = atol(optarg);
			break;
		case 'p':
			plumb = optarg;
			break;
		case 't':
			timeout = atof(optarg);
			break;
		case 'l':
			linger = atof(optarg);
			break;
		case 'r':
			ready = optarg;
			break;
		case 'g':
			c.group_only = true;
			break;
		case 'x':
			c.has_not_mac = sscanf(optarg, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &c.not_mac[0],
					       &c.not_mac[1], &c.not_mac[2], &c.not_mac[3], &c.not_mac[4],
					       &c.not_mac[5]) == 6;
			if (!c.has_not_mac)
				return 2;
			break;
		default:
			return 2;
		}
	}
	if (!ns || c.nmatch <= 0 || (plumb && (npns = lab_split_list(plumb, pns, LAB_MAX_NODES)) <= 0)) {
		fprintf(stderr, "usage: lab-net capture --ns NETNS --match CIDR[,..] [--if IF] "
				"[--expect N] [--plumb NS[,..]] [--timeout S] [--linger S] "
				"[--ready FILE] [--not-mac MAC] [--group-only] [-- TRIGGER...]\n");
		return 2;
	}
	_cleanup_free_ struct lab_addr *seen = calloc(SEEN_MAX, sizeof(*seen));
	_cleanup_close_ int fd = packet_socket_in(ns, ifname);
	struct lab_tracker *t = NULL;
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	_cleanup_close_ int sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	c.seen = seen;
	if (!seen || fd < 0 || sigfd < 0 || (npns && lab_tracker_new(pns, npns, NULL, NULL, &t) < 0)) {
		fprintf(stderr, "lab-net capture: cannot listen in %s on %s\n", ns, ifname);
		return 2;
	}
	if (ready && lab_touch(ready) < 0)
		fprintf(stderr, "lab-net: %s: %s\n", ready, strerror(errno));
	int r = capture_loop(&c, fd, t, sigfd, optind < argc ? argv + optind : NULL, timeout, linger);
	update_plumbed(&c, t);
	printf("first_ms=%.1f first_mac=%02x:%02x:%02x:%02x:%02x:%02x all_ms=%.1f distinct=%ld "
	       "packets=%ld plumbed_ms=%.1f plumbed=%ld\n",
	       ms(&c, c.first), c.first_mac[0], c.first_mac[1], c.first_mac[2], c.first_mac[3],
	       c.first_mac[4], c.first_mac[5], ms(&c, c.all), c.distinct, c.packets, ms(&c, c.plumbed_at),
	       t ? c.plumbed : -1);
	lab_tracker_free(t);
	return r < 0 ? 2 : r;
}

/* SPDX-License-Identifier: MIT */
/*
 * The benchmark's reference: the least code that plumbs addresses in batches
 * with libmnl, and that sends gratuitous ARP with sendmmsg. bench-port runs
 * it inside its namespace and compares the port against it. It sends the
 * same requests as the port (same attributes, ACK on each) and does nothing
 * else: no per-address results, no extended ACK, no checks beyond counting.
 *
 *   bench-port-ref add|del IFNAME 4|6 COUNT [PREFIX [last]]
 *                                              plumb/unplumb COUNT addresses; PREFIX
 *                                              (default /15, /64); "last": one ACK per
 *                                              batch, on its last request (as the port)
 *   bench-port-ref arp IFNAME COUNT            COUNT gratuitous ARP requests
 *
 * Prints "elapsed_us=N failed=F" (socket set-up excluded, as for the port); add
 * and del also print cpu_us=C, this process's user + system time (the kernel's
 * work for the requests runs in it), which a busy machine disturbs less.
 * Addresses: i-th IPv4 = 198.18.1.0 + i (/15), i-th IPv6 = 2001:db8::1:0 + i (/64).
 */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LIMIT (128 * 1024)

/* CPU time of this process (user + system: the kernel's work for our requests). */
static long long cpu_us(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
	       ru.ru_stime.tv_usec;
}

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void nth(int v6, unsigned i, uint8_t *out)
{
	if (!v6) {
		uint32_t a = htonl(0xc6120100u + i);
		memcpy(out, &a, 4);
		return;
	}
	memset(out, 0, 16);
	out[0] = 0x20, out[1] = 0x01, out[2] = 0x0d, out[3] = 0xb8;
	out[13] = 1;
	out[14] = (uint8_t)(i >> 8);
	out[15] = (uint8_t)i;
}

static unsigned prefix4 = 15, prefix6 = 64;
static int ack_last; /* one ACK per batch: failures are answered anyway */

static void put(struct nlmsghdr *nlh, int add, int v6, unsigned i, int ifindex, uint32_t seq,
		const char *label)
{
	uint8_t a[16];
	nth(v6, i, a);
	nlh = mnl_nlmsg_put_header(nlh);
	nlh->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | (ack_last ? 0 : NLM_F_ACK) |
			   (add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	nlh->nlmsg_seq = seq;
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = v6 ? AF_INET6 : AF_INET;
	ifa->ifa_prefixlen = (uint8_t)(v6 ? prefix6 : prefix4);
	ifa->ifa_index = (unsigned)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, v6 ? 16 : 4, a);
	if (!add)
		return;
	mnl_attr_put(nlh, IFA_ADDRESS, v6 ? 16 : 4, a);
	if (v6) {
		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	} else {
		uint32_t b = htonl(0xc6120100u + i) | (prefix4 ? htonl(0xffffffffu >> prefix4) : 0xffffffffu);
		if (prefix4 < 31)
			mnl_attr_put_u32(nlh, IFA_BROADCAST, b);
		mnl_attr_put_strz(nlh, IFA_LABEL, label);
	}
	mnl_attr_put_u8(nlh, IFA_PROTO, 0x76);
}

/* Read one ACK per request sent (ack_last: until the batch's last, seq last); count failures. */
static int read_acks(struct mnl_socket *nl, char *rbuf, unsigned n, uint32_t last, unsigned *failed)
{
	for (int done = 0; n > 0 && !done;) {
		ssize_t len = mnl_socket_recvfrom(nl, rbuf, 8192);
		if (len < 0)
			return -1;
		const struct nlmsghdr *m = (const struct nlmsghdr *)rbuf;
		int rest = (int)len;
		for (; mnl_nlmsg_ok(m, rest); m = mnl_nlmsg_next(m, &rest)) {
			if (m->nlmsg_type != NLMSG_ERROR)
				continue;
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);
			*failed += e->error != 0;
			n--;
			done = ack_last && m->nlmsg_seq == last;
		}
	}
	return 0;
}

static int plumb(int add, const char *ifname, int v6, unsigned count)
{
	int ifindex = (int)if_nametoindex(ifname), one = 1, rcv = 16 << 20, snd = 1 << 20;
	char label[IFNAMSIZ + 4];
	snprintf(label, sizeof(label), "%s:dv", ifname);
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return 1;
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv));
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd));
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	char *buf = malloc(2 * LIMIT), *rbuf = malloc(8192);
	unsigned failed = 0, queued = 0;
	void *last_msg = NULL;

	long long t0 = now_us(), c0 = cpu_us();
	struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(buf, LIMIT);
	for (unsigned i = 0; i < count; i++) {
		void *cur = mnl_nlmsg_batch_current(b);
		put(cur, add, v6, i, ifindex, i + 1, label);
		queued++;
		if (mnl_nlmsg_batch_next(b)) {
			last_msg = cur;
			continue;
		}
		/* Full: send all but the message that overflowed, then keep that one. */
		if (ack_last)
			((struct nlmsghdr *)last_msg)->nlmsg_flags |= NLM_F_ACK;
		mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b));
		if (read_acks(nl, rbuf, queued - 1, i, &failed) < 0)
			return 1;
		mnl_nlmsg_batch_reset(b);
		last_msg = mnl_nlmsg_batch_head(b);
		queued = 1;
	}
	if (!mnl_nlmsg_batch_is_empty(b)) {
		if (ack_last)
			((struct nlmsghdr *)last_msg)->nlmsg_flags |= NLM_F_ACK;
		mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b));
		if (read_acks(nl, rbuf, queued, count, &failed) < 0)
			return 1;
	}
	long long t1 = now_us(), c1 = cpu_us();
	printf("elapsed_us=%lld failed=%u cpu_us=%lld\n", t1 - t0, failed, c1 - c0);
	return 0;
}

static int arp(const char *ifname, unsigned count)
{
	enum { BATCH = 512 };
	static uint8_t frames[BATCH][42];
	static struct iovec iov[BATCH];
	static struct mmsghdr msgs[BATCH];
	int fd = socket(AF_PACKET, SOCK_RAW, 0);
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		return 1;
	const uint8_t *mac = (const uint8_t *)ifr.ifr_hwaddr.sa_data;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ARP),
				   .sll_ifindex = (int)if_nametoindex(ifname),
				   .sll_halen = 6 };
	unsigned failed = 0;

	long long t0 = now_us();
	for (unsigned i = 0; i < count;) {
		unsigned k = 0;
		for (; k < BATCH && i < count; k++, i++) {
			uint8_t *f = frames[k], ip[4];
			nth(0, i, ip);
			memset(f, 0xff, 6);
			memcpy(f + 6, mac, 6);
			memcpy(f + 12, "\x08\x06\x00\x01\x08\x00\x06\x04\x00\x01", 10);
			memcpy(f + 22, mac, 6);
			memcpy(f + 28, ip, 4);
			memset(f + 32, 0, 6);
			memcpy(f + 38, ip, 4);
			iov[k] = (struct iovec){ f, 42 };
			msgs[k].msg_hdr = (struct msghdr){ .msg_name = &sll,
							   .msg_namelen = sizeof(sll),
							   .msg_iov = &iov[k],
							   .msg_iovlen = 1 };
		}
		for (unsigned done = 0; done < k;) {
			int r = sendmmsg(fd, msgs + done, k - done, 0);
			if (r <= 0) {
				failed++;
				done++;
			} else {
				done += (unsigned)r;
			}
		}
	}
	long long t1 = now_us();
	printf("elapsed_us=%lld failed=%u\n", t1 - t0, failed);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 6 && argc <= 7 && (!strcmp(argv[1], "add") || !strcmp(argv[1], "del"))) {
		prefix4 = prefix6 = (unsigned)atoi(argv[5]);
		ack_last = argc == 7 && !strcmp(argv[6], "last");
		argc = 5;
	}
	if (argc == 5 && (!strcmp(argv[1], "add") || !strcmp(argv[1], "del")))
		return plumb(!strcmp(argv[1], "add"), argv[2], atoi(argv[3]) == 6, (unsigned)atoi(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "arp"))
		return arp(argv[2], (unsigned)atoi(argv[3]));
	fprintf(stderr, "usage: %s add|del IFNAME 4|6 COUNT [PREFIX [last]] | arp IFNAME COUNT\n", argv[0]);
	return 2;
}

/* SPDX-License-Identifier: MIT */
/*
 * The process test-privdrop-netns drops: it builds a Security stanza from
 * its arguments, calls the real vip_privdrop(), then proves the kept
 * capabilities work (and the others do not) inside the network namespace it
 * was started in, and waits until its stdin closes so the test can read
 * /proc/PID/status from outside.
 *
 *   privdrop-target USER CAPS [-g GID]... [-r DIR] [-i IF -p PEER] [-n]
 *     -g  a supplemental group id     -r  chroot to DIR
 *     -i  veth to add 198.51.100.10/24 on and send one ARP from; -p its peer
 *     -n  cap_net_raw is not kept: a packet socket must fail with EPERM
 *
 * Output, one line each: "msg PRIO TEXT", "error TEXT", "identity TEXT",
 * "ok WHAT", "fail WHAT: WHY", then "ready".
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <libmnl/libmnl.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include "privdrop.h"

#define VIP "198.51.100.10"

static int check(const char *what, int r)
{
	if (r < 0)
		printf("fail %s: %s\n", what, strerror(-r));
	else
		printf("ok %s\n", what);
	return r;
}

/* RTM_NEWADDR or RTM_DELADDR of VIP/24 on ifindex, acknowledged. */
static int addr_change(uint16_t type, unsigned ifindex)
{
	char buf[8192];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	struct in_addr a;
	int r;

	if (!nl)
		return -errno;
	inet_pton(AF_INET, VIP, &a);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 24;
	ifa->ifa_index = ifindex;
	mnl_attr_put_u32(nlh, IFA_LOCAL, a.s_addr);
	mnl_attr_put_u32(nlh, IFA_ADDRESS, a.s_addr);
	r = mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID);
	if (r == 0 && mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		r = -1;
	if (r == 0) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		r = n < 0 ? -1
			  : mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, mnl_socket_get_portid(nl), NULL, NULL);
	}
	r = r < 0 ? -errno : 0;
	mnl_socket_close(nl);
	return r;
}

static int packet_socket(unsigned ifindex)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP));
	if (fd < 0)
		return -errno;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ARP),
				   .sll_ifindex = (int)ifindex };
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* One gratuitous ARP request for VIP out of ifname; the peer must see exactly one. */
static int send_arp(const char *ifname, const char *peer)
{
	unsigned char pkt[42] = { 0 };
	struct ifreq ifr = { 0 };
	struct in_addr a;
	unsigned idx = if_nametoindex(ifname);
	_cleanup_close_ int rx = packet_socket(if_nametoindex(peer));
	_cleanup_close_ int tx = packet_socket(idx);

	if (rx < 0 || tx < 0)
		return rx < 0 ? rx : tx;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(tx, SIOCGIFHWADDR, &ifr) < 0)
		return -errno;
	inet_pton(AF_INET, VIP, &a);
	memset(pkt, 0xff, 6); /* broadcast */
	memcpy(pkt + 6, ifr.ifr_hwaddr.sa_data, 6);
	pkt[12] = 0x08, pkt[13] = 0x06;                                     /* ARP */
	pkt[15] = 1, pkt[16] = 0x08, pkt[18] = 6, pkt[19] = 4, pkt[21] = 1; /* request */
	memcpy(pkt + 22, ifr.ifr_hwaddr.sa_data, 6);
	memcpy(pkt + 28, &a, 4); /* sender = VIP */
	memcpy(pkt + 38, &a, 4); /* target = VIP */
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = (int)idx, .sll_halen = 6 };
	memset(to.sll_addr, 0xff, 6);
	if (sendto(tx, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)) != sizeof(pkt))
		return -errno;

	int seen = 0;
	struct pollfd p = { .fd = rx, .events = POLLIN };
	for (int i = 0; i < 8 && poll(&p, 1, seen ? 300 : 2000) > 0; i++) {
		unsigned char in[128];
		ssize_t n = recv(rx, in, sizeof(in), 0);
		if (n >= 42 && in[12] == 0x08 && in[13] == 0x06 && memcmp(in + 28, &a, 4) == 0)
			seen++;
	}
	return seen == 1 ? 0 : -EPROTO;
}

static int bind_port_80(void)
{
	_cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(80) };

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return -errno;
	return 0;
}

/* Must fail with EPERM: returns 0 when it did. */
static int denied(int r)
{
	return r == -EPERM ? 0 : r < 0 ? r : -EEXIST;
}

static int try_chown(void)
{
	char path[] = "/tmp/vt-privdrop-XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		return -errno;
	int r = fchown(fd, 0, 0) < 0 ? -errno : 0;
	close(fd);
	unlink(path);
	return r;
}

static int try_packet_socket(void)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP));
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int drop(struct vipd_security *sec)
{
	struct vipd_duravip dv = { 0 };
	struct vipd_config cfg = { .security = *sec, .duravips = &dv, .n_duravips = 1 };
	struct vip_privdrop_needs needs;
	struct vip_privdrop_result res;
	_cleanup_free_ char *id = NULL;

	cap_t caps = cap_from_text(sec->capabilities);
	for (unsigned c = 0; caps && c < 64; c++) {
		cap_flag_value_t v = CAP_CLEAR;
		if (cap_get_flag(caps, (cap_value_t)c, CAP_PERMITTED, &v) == 0 && v == CAP_SET)
			cfg.security.cap_permitted |= VIP_PRIVDROP_CAP(c);
	}
	cap_free(caps);
	vip_privdrop_needs_from_config(&cfg, &needs);
	int r = vip_privdrop(sec, &needs, &res);
	for (size_t i = 0; i < res.n_msgs; i++)
		printf("msg %d %s\n", res.msgs[i].prio, res.msgs[i].text);
	if (r < 0) {
		printf("error %s\n", res.error);
		return r;
	}
	r = vip_privdrop_identity(&id);
	printf("identity %s\n", r < 0 ? strerror(-r) : id);
	return r;
}

int main(int argc, char **argv)
{
	gid_t gids[8];
	struct vipd_security sec = { .supplemental_gids = gids };
	const char *ifname = NULL, *peer = NULL;
	bool no_raw = false;
	int c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(60); /* never outlive a broken test */
	while ((c = getopt(argc, argv, "g:r:i:p:n")) != -1) {
		if (c == 'g' && sec.n_supplemental < ARRAY_SIZE(gids))
			gids[sec.n_supplemental++] = (gid_t)strtoul(optarg, NULL, 10);
		else if (c == 'r')
			sec.chroot = optarg;
		else if (c == 'i')
			ifname = optarg;
		else if (c == 'p')
			peer = optarg;
		else if (c == 'n')
			no_raw = true;
		else
			return 2;
	}
	if (argc - optind != 2)
		return 2;
	struct passwd *pw = getpwnam(argv[optind]);
	if (!pw) {
		printf("error no user %s\n", argv[optind]);
		return 1;
	}
	sec.user = sec.group = argv[optind];
	sec.uid = pw->pw_uid, sec.gid = pw->pw_gid;
	sec.capabilities = argv[optind + 1];
	if (drop(&sec) < 0)
		return 1;

	if (ifname && peer) {
		unsigned idx = if_nametoindex(ifname);
		check("addr-add", addr_change(RTM_NEWADDR, idx));
		if (!no_raw)
			check("arp", send_arp(ifname, peer));
		check("addr-del", addr_change(RTM_DELADDR, idx));
	}
	check("bind-80", bind_port_80());
	check("chown-denied", denied(try_chown()));
	if (no_raw)
		check("raw-denied", denied(try_packet_socket()));
	printf("ready\n");
	char b;
	while (read(STDIN_FILENO, &b, 1) > 0)
		;
	return 0;
}

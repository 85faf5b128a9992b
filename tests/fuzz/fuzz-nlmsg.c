/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the Linux port's rtnetlink decoders with what a kernel reply or a
 * monitor datagram could hold: walk the messages as the port does and feed
 * each to the address, link, route, neighbour and ACK parsers, to the event builder,
 * which keeps a link table across messages, and to the announcements' link cache.
 * The same bytes are also what a probe's answer could be (an ARP packet, an
 * ICMPv6 message): they go whole to the two answer parsers (docs/port.md §8).
 * Parsed results are checked for sanity.
 */
#include <linux/rtnetlink.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "port-internal.h"
#include "port-linux-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(struct vip_port *p, const struct nlmsghdr *nlh)
{
	struct vip_port_addr a;
	struct vip_port_link l;
	struct vip_port_route rt;
	struct vip_port_neigh ne;
	char msg[VIP_PORT_ERRMSG_MAX];
	int err;

	if (vip_nl_parse_addr(nlh, &a) == 0) {
		if (a.prefix > vip_addr_len(&a.addr) * 8 || a.label[sizeof(a.label) - 1] ||
		    a.ours != (a.proto == VIP_PORT_IFA_PROTO))
			abort();
	}
	if (vip_nl_parse_link(nlh, &l) == 0 &&
	    (l.hwaddr_len > sizeof(l.hwaddr) || l.ifname[sizeof(l.ifname) - 1]))
		abort();
	if (vip_nl_parse_route(nlh, &rt) == 0) {
		if (rt.dst_len > vip_addr_len(&rt.dst) * 8 || rt.ifindex < 0 ||
		    (unsigned)rt.type >= _VIP_PORT_ROUTE_TYPE_MAX)
			abort();
		for (unsigned b = rt.dst_len; b < 128; b++) /* host bits are clear */
			if (rt.dst.bytes[b / 8] & (0x80 >> (b % 8)))
				abort();
	}
	if (vip_nl_parse_neigh(nlh, &ne) == 0 &&
	    ((ne.addr.family != AF_INET && ne.addr.family != AF_INET6) || ne.hwaddr_len > sizeof(ne.hwaddr) ||
	     (unsigned)ne.state >= _VIP_PORT_NEIGH_STATE_MAX))
		abort();
	if (vip_nl_parse_ack(nlh, &err, msg, sizeof(msg)) == 0 && (err > 0 || strlen(msg) >= sizeof(msg)))
		abort();
	(void)vip_nl_event_from_msg(p, nlh);
	if (p->n_pending > VIP_NL_PENDING_MAX)
		abort();
	p->n_pending = p->pending_pos = 0;
	/* The announcements' link cache: one entry per link, each as parse_link gives it;
	 * forwarding entries only for real links, never for "all" or "default". */
	size_t before = p->lcache.n;
	if (vip_nl_links_apply(p, nlh) == 0 && p->lcache.n > before + 1)
		abort();
	if (vip_nl_parse_link(nlh, &l) == 0) {
		size_t same = 0;
		for (size_t i = 0; i < p->lcache.n; i++)
			same += p->lcache.items[i].ifindex == l.ifindex;
		if (same != (nlh->nlmsg_type == RTM_NEWLINK))
			abort();
	}
	for (size_t i = 0; i < p->n_fwd; i++)
		if (p->fwd[i].ifindex <= 0)
			abort();
}

/* The answer parsers: an answer is of its family, names a claimer, never 0.0.0.0, never us. */
static void answers(const uint8_t *data, size_t size)
{
	static const uint8_t own[VIP_ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };
	struct vip_port_answer a;
	if (vip_frame_parse_arp_answer(data, size, own, &a) == 0 &&
	    (a.addr.family != AF_INET || a.addr.v4.s_addr == 0 || a.mac_len != VIP_ETH_ALEN ||
	     memcmp(a.mac, own, VIP_ETH_ALEN) == 0 || a.ifindex != 0 || size < VIP_ARP_PKT_LEN))
		abort();
	if (vip_frame_parse_na_answer(data, size, &a) == 0 &&
	    (a.addr.family != AF_INET6 || a.addr.v6.s6_addr[0] == 0xff ||
	     (a.mac_len != 0 && a.mac_len != VIP_ETH_ALEN) || a.ifindex != 0 || size < VIP_ND_HDR_LEN ||
	     data[0] != 136))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Netlink messages are 4-byte aligned in the kernel's buffers: copy to an aligned one. */
	uint32_t *buf = malloc(size + 4);
	struct vip_port p = { 0 };
	answers(data, size);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int rest = (int)size;
	for (int i = 0; i < 4096 && vip_nl_msg_ok(nlh, rest); i++, nlh = mnl_nlmsg_next(nlh, &rest))
		one(&p, nlh);
	free(p.links);
	vip_port_links_clear(&p.lcache);
	free(p.fwd);
	free(buf);
	return 0;
}

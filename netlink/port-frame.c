/* SPDX-License-Identifier: MIT */
/*
 * Announcement and probe frames, built byte by byte so the layout is explicit
 * and testable: gratuitous ARP (RFC 5227 §3, RFC 5944 §4.6), unsolicited
 * neighbour advertisement (RFC 4861 §7.2.6), ARP probe (RFC 5227 §2.1.1) and
 * duplicate address detection NS (RFC 4862 §5.4.2); and the parsers of the
 * answers to probes (docs/port.md §8).
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "port-internal.h"

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put(uint8_t *p, const void *src, size_t len)
{
	memcpy(p, src, len);
	return p + len;
}

static uint8_t *put_eth(uint8_t *p, const uint8_t dst[VIP_ETH_ALEN], const uint8_t src[VIP_ETH_ALEN],
			uint16_t type)
{
	p = put(p, dst, VIP_ETH_ALEN);
	p = put(p, src, VIP_ETH_ALEN);
	return put16(p, type);
}

/* An ARP frame for ip from mac: Ethernet to eth_dst, target fields tha and tpa. */
static size_t arp_build(uint8_t *buf, const uint8_t mac[VIP_ETH_ALEN], const struct in_addr *ip, bool reply,
			const uint8_t eth_dst[VIP_ETH_ALEN], const uint8_t tha[VIP_ETH_ALEN], const void *tpa)
{
	uint8_t *p = put_eth(buf, eth_dst, mac, 0x0806);

	p = put16(p, 1);      /* hardware: Ethernet */
	p = put16(p, 0x0800); /* protocol: IPv4 */
	*p++ = VIP_ETH_ALEN;
	*p++ = 4;
	p = put16(p, reply ? 2 : 1);
	p = put(p, mac, VIP_ETH_ALEN);
	p = put(p, ip, 4);
	p = put(p, tha, VIP_ETH_ALEN);
	p = put(p, tpa, 4);
	return (size_t)(p - buf);
}

size_t vip_frame_arp(uint8_t *buf, const uint8_t mac[VIP_ETH_ALEN], const struct in_addr *ip, bool reply)
{
	static const uint8_t bcast[VIP_ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[VIP_ETH_ALEN];

	/* A gratuitous reply must name the sender as target hardware, or Linux ignores it. */
	return arp_build(buf, mac, ip, reply, bcast, reply ? mac : zero, ip);
}

size_t vip_frame_arp_to(uint8_t *buf, const uint8_t mac[VIP_ETH_ALEN], const struct in_addr *ip, bool reply,
			const uint8_t dst_mac[VIP_ETH_ALEN], const struct in_addr *dst_ip)
{
	static const uint8_t zero[VIP_ETH_ALEN];

	/* The request stays gratuitous (target = sender: Linux overrides an entry at once);
	 * the reply is the one the host would get had it asked (RFC 826). */
	if (!reply)
		return arp_build(buf, mac, ip, false, dst_mac, zero, ip);
	return arp_build(buf, mac, ip, true, dst_mac, dst_mac, dst_ip);
}

static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

uint16_t vip_frame_icmp6_csum(const struct in6_addr *src, const struct in6_addr *dst, const uint8_t *icmp,
			      size_t len)
{
	uint8_t tail[8] = { 0 };
	uint32_t sum = 0;

	sum = sum16(sum, (const uint8_t *)src, 16);
	sum = sum16(sum, (const uint8_t *)dst, 16);
	tail[0] = (uint8_t)(len >> 24);
	tail[1] = (uint8_t)(len >> 16);
	tail[2] = (uint8_t)(len >> 8);
	tail[3] = (uint8_t)len;
	tail[7] = IPPROTO_ICMPV6;
	sum = sum16(sum, tail, sizeof(tail));
	sum = sum16(sum, icmp, len);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An unsolicited NA for ip from mac: Ethernet to eth_dst, IPv6 to ip_dst. */
static size_t na_build(uint8_t *buf, const uint8_t mac[VIP_ETH_ALEN], const struct in6_addr *ip, bool router,
		       const uint8_t eth_dst[VIP_ETH_ALEN], const struct in6_addr *ip_dst)
{
	const size_t icmp_len = 32;
	uint8_t *p = put_eth(buf, eth_dst, mac, 0x86dd);

	*p++ = 0x60; /* version 6, traffic class 0, flow label 0 */
	*p++ = 0;
	p = put16(p, 0);
	p = put16(p, (uint16_t)icmp_len);
	*p++ = IPPROTO_ICMPV6;
	*p++ = 255; /* hop limit: receivers drop NA with anything else */
	p = put(p, ip, 16);
	p = put(p, ip_dst, 16);

	uint8_t *icmp = p;
	*p++ = 136; /* neighbour advertisement */
	*p++ = 0;
	p = put16(p, 0);                              /* checksum, filled below */
	*p++ = (uint8_t)((router ? 0x80 : 0) | 0x20); /* R, S clear, O */
	*p++ = 0;
	p = put16(p, 0);
	p = put(p, ip, 16);
	*p++ = 2; /* option: target link-layer address */
	*p++ = 1; /* length in units of 8 bytes */
	p = put(p, mac, VIP_ETH_ALEN);

	uint16_t csum = vip_frame_icmp6_csum(ip, ip_dst, icmp, icmp_len);
	put16(icmp + 2, csum);
	return (size_t)(p - buf);
}

size_t vip_frame_na(uint8_t *buf, const uint8_t mac[VIP_ETH_ALEN], const struct in6_addr *ip, bool router)
{
	static const uint8_t mcast[VIP_ETH_ALEN] = { 0x33, 0x33, 0, 0, 0, 1 };
	static const struct in6_addr all_nodes = { { { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
						       1 } } };

	return na_build(buf, mac, ip, router, mcast, &all_nodes);
}

size_t vip_frame_na_to(uint8_t *buf, const uint8_t mac[VIP_ETH_ALEN], const struct in6_addr *ip, bool router,
		       const uint8_t dst_mac[VIP_ETH_ALEN], const struct in6_addr *dst_ip)
{
	return na_build(buf, mac, ip, router, dst_mac, dst_ip);
}

size_t vip_frame_announce(uint8_t *buf, const uint8_t mac[VIP_ETH_ALEN], const struct vip_port_announce *a,
			  bool reply, bool router)
{
	if (a->addr.family == AF_INET6)
		return a->unicast ? vip_frame_na_to(buf, mac, &a->addr.v6, router, a->dst_mac, &a->dst_ip.v6)
				  : vip_frame_na(buf, mac, &a->addr.v6, router);
	return a->unicast ? vip_frame_arp_to(buf, mac, &a->addr.v4, reply, a->dst_mac, &a->dst_ip.v4)
			  : vip_frame_arp(buf, mac, &a->addr.v4, reply);
}

size_t vip_frame_arp_probe(uint8_t *buf, const uint8_t mac[VIP_ETH_ALEN], const struct in_addr *ip)
{
	static const uint8_t bcast[VIP_ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[VIP_ETH_ALEN];
	const struct in_addr any = { 0 };

	/* Sender 0.0.0.0: no host that hears it learns or updates anything. */
	return arp_build(buf, mac, &any, false, bcast, zero, ip);
}

size_t vip_frame_dad_ns(uint8_t *buf, const uint8_t mac[VIP_ETH_ALEN], const struct in6_addr *ip)
{
	const size_t icmp_len = VIP_ND_HDR_LEN;
	const uint8_t *t = ip->s6_addr;
	const uint8_t eth_dst[VIP_ETH_ALEN] = { 0x33, 0x33, 0xff, t[13], t[14], t[15] };
	const struct in6_addr any = IN6ADDR_ANY_INIT;
	struct in6_addr group = { { { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, t[13], t[14],
				      t[15] } } };
	uint8_t *p = put_eth(buf, eth_dst, mac, 0x86dd);

	*p++ = 0x60; /* version 6, traffic class 0, flow label 0 */
	*p++ = 0;
	p = put16(p, 0);
	p = put16(p, (uint16_t)icmp_len);
	*p++ = IPPROTO_ICMPV6;
	*p++ = 255; /* hop limit: receivers drop NS with anything else */
	p = put(p, &any, 16);
	p = put(p, &group, 16);

	uint8_t *icmp = p;
	*p++ = 135; /* neighbour solicitation */
	*p++ = 0;
	p = put16(p, 0); /* checksum, filled below */
	p = put16(p, 0); /* reserved */
	p = put16(p, 0);
	p = put(p, ip, 16);

	put16(icmp + 2, vip_frame_icmp6_csum(&any, &group, icmp, icmp_len));
	return (size_t)(p - buf);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int vip_frame_parse_arp_answer(const uint8_t *arp, size_t len, const uint8_t *own_mac,
			       struct vip_port_answer *ret)
{
	static const uint8_t any[4];

	/* Ethernet padding may follow: only the first VIP_ARP_PKT_LEN bytes are ARP. */
	if (len < VIP_ARP_PKT_LEN || get16(arp) != 1 || get16(arp + 2) != 0x0800 || arp[4] != VIP_ETH_ALEN ||
	    arp[5] != 4)
		return -EBADMSG;
	uint16_t op = get16(arp + 6);
	if (op != 1 && op != 2)
		return -EBADMSG;
	const uint8_t *sha = arp + 8, *spa = arp + 14;
	if (memcmp(spa, any, 4) == 0 || (own_mac && memcmp(sha, own_mac, VIP_ETH_ALEN) == 0))
		return -ENOMSG;
	memset(ret, 0, sizeof(*ret));
	ret->addr.family = AF_INET;
	memcpy(&ret->addr.v4, spa, 4);
	memcpy(ret->mac, sha, VIP_ETH_ALEN);
	ret->mac_len = VIP_ETH_ALEN;
	return 0;
}

int vip_frame_parse_na_answer(const uint8_t *icmp, size_t len, struct vip_port_answer *ret)
{
	const uint8_t *mac = NULL;

	if (len < 1)
		return -EBADMSG;
	if (icmp[0] != 136)
		return -ENOMSG;
	if (len < VIP_ND_HDR_LEN || icmp[1] != 0 || icmp[8] == 0xff) /* RFC 4861 §7.1.2 */
		return -EBADMSG;
	for (size_t off = VIP_ND_HDR_LEN; off < len;) {
		if (len - off < 2 || icmp[off + 1] == 0 || (size_t)icmp[off + 1] * 8 > len - off)
			return -EBADMSG;
		/* Target link-layer address, Ethernet length: the first one counts. */
		if (icmp[off] == 2 && icmp[off + 1] == 1 && !mac)
			mac = icmp + off + 2;
		off += (size_t)icmp[off + 1] * 8;
	}
	memset(ret, 0, sizeof(*ret));
	ret->addr.family = AF_INET6;
	memcpy(&ret->addr.v6, icmp + 8, 16);
	if (mac) {
		memcpy(ret->mac, mac, VIP_ETH_ALEN);
		ret->mac_len = VIP_ETH_ALEN;
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Announcement frames, built byte by byte so the layout is explicit and
 * testable: gratuitous ARP (RFC 5227 §3, RFC 5944 §4.6) and unsolicited
 * neighbour advertisement (RFC 4861 §7.2.6).
 */
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

size_t vip_frame_arp(uint8_t *buf, const uint8_t mac[VIP_ETH_ALEN], const struct in_addr *ip, bool reply)
{
	static const uint8_t bcast[VIP_ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[VIP_ETH_ALEN];
	uint8_t *p = put_eth(buf, bcast, mac, 0x0806);

	p = put16(p, 1);      /* hardware: Ethernet */
	p = put16(p, 0x0800); /* protocol: IPv4 */
	*p++ = VIP_ETH_ALEN;
	*p++ = 4;
	p = put16(p, reply ? 2 : 1);
	p = put(p, mac, VIP_ETH_ALEN);
	p = put(p, ip, 4);
	/* A gratuitous reply must name the sender as target hardware, or Linux ignores it. */
	p = put(p, reply ? mac : zero, VIP_ETH_ALEN);
	p = put(p, ip, 4);
	return (size_t)(p - buf);
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

size_t vip_frame_na(uint8_t *buf, const uint8_t mac[VIP_ETH_ALEN], const struct in6_addr *ip, bool router)
{
	static const uint8_t mcast[VIP_ETH_ALEN] = { 0x33, 0x33, 0, 0, 0, 1 };
	static const struct in6_addr all_nodes = { { { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
						       1 } } };
	const size_t icmp_len = 32;
	uint8_t *p = put_eth(buf, mcast, mac, 0x86dd);

	*p++ = 0x60; /* version 6, traffic class 0, flow label 0 */
	*p++ = 0;
	p = put16(p, 0);
	p = put16(p, (uint16_t)icmp_len);
	*p++ = IPPROTO_ICMPV6;
	*p++ = 255; /* hop limit: receivers drop NA with anything else */
	p = put(p, ip, 16);
	p = put(p, &all_nodes, 16);

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

	uint16_t csum = vip_frame_icmp6_csum(ip, &all_nodes, icmp, icmp_len);
	put16(icmp + 2, csum);
	return (size_t)(p - buf);
}

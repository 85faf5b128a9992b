/* SPDX-License-Identifier: MIT */
/*
 * Folder-private, portable internals of the port layer: the announcement
 * and probe frame builders and the parsers of probe answers (pure functions,
 * unit-tested field by field and fuzzed) and the routes an address implies.
 */
#ifndef VIP_PORT_INTERNAL_H
#define VIP_PORT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port.h"

#define VIP_ETH_ALEN 6
#define VIP_ETH_HLEN 14
#define VIP_ARP_FRAME_LEN 42 /* Ethernet + ARP for IPv4 over Ethernet */
#define VIP_NA_FRAME_LEN 86  /* Ethernet + IPv6 + NA + target link-layer option */
#define VIP_NS_FRAME_LEN 78  /* Ethernet + IPv6 + NS, no option (a DAD probe) */
#define VIP_ARP_PKT_LEN 28   /* ARP for IPv4 over Ethernet, without the Ethernet header */
#define VIP_ND_HDR_LEN 24    /* NS or NA up to its target address (ICMPv6 header included) */
#define VIP_FRAME_MAX 96

/*
 * Gratuitous ARP in buf (at least VIP_ARP_FRAME_LEN bytes): Ethernet broadcast
 * from mac, sender = target protocol address = ip; request form (target
 * hardware zero) or reply form (target hardware = mac, as the kernel wants a
 * gratuitous reply). Returns the frame length.
 */
size_t vip_frame_arp(uint8_t *buf, const uint8_t mac[VIP_ETH_ALEN], const struct in_addr *ip, bool reply);

/*
 * Unsolicited neighbour advertisement in buf (at least VIP_NA_FRAME_LEN bytes):
 * from ip and mac to ff02::1 (33:33:00:00:00:01), hop limit 255, Override set,
 * Solicited clear, Router = router, target link-layer address option, ICMPv6
 * checksum filled. Returns the frame length.
 */
size_t vip_frame_na(uint8_t *buf, const uint8_t mac[VIP_ETH_ALEN], const struct in6_addr *ip, bool router);

/*
 * The same frames sent to one host (Ethernet unicast to dst_mac). ARP request
 * form: still gratuitous (target protocol address = ip, target hardware zero);
 * reply form: target hardware dst_mac, target protocol address dst_ip, as if
 * the host had asked. NA: to dst_ip (the host's address), Override set,
 * Solicited clear. Return the frame length.
 */
size_t vip_frame_arp_to(uint8_t *buf, const uint8_t mac[VIP_ETH_ALEN], const struct in_addr *ip, bool reply,
			const uint8_t dst_mac[VIP_ETH_ALEN], const struct in_addr *dst_ip);
size_t vip_frame_na_to(uint8_t *buf, const uint8_t mac[VIP_ETH_ALEN], const struct in6_addr *ip, bool router,
		       const uint8_t dst_mac[VIP_ETH_ALEN], const struct in6_addr *dst_ip);

/* The frame for one announce entry (broadcast, or to its host when a->unicast):
 * IPv4 in the request or reply form, IPv6 an NA with the Router flag as given. */
size_t vip_frame_announce(uint8_t *buf, const uint8_t mac[VIP_ETH_ALEN], const struct vip_port_announce *a,
			  bool reply, bool router);

/*
 * Probes (RFC 5227 §2.1.1, RFC 4862 §5.4.2). ARP probe in buf (at least
 * VIP_ARP_FRAME_LEN bytes): Ethernet broadcast from mac, request, sender
 * hardware mac, sender protocol 0.0.0.0, target hardware zero, target
 * protocol ip. DAD neighbour solicitation (at least VIP_NS_FRAME_LEN bytes):
 * Ethernet to 33:33:ff + ip's last 3 bytes, IPv6 from :: to ip's
 * solicited-node group ff02::1:ffxx:xxxx, hop limit 255, target ip, no option
 * (a packet from :: must carry no source link-layer address), checksum filled.
 * Return the frame length.
 */
size_t vip_frame_arp_probe(uint8_t *buf, const uint8_t mac[VIP_ETH_ALEN], const struct in_addr *ip);
size_t vip_frame_dad_ns(uint8_t *buf, const uint8_t mac[VIP_ETH_ALEN], const struct in6_addr *ip);

/*
 * Answers to probes (docs/port.md §8). An ARP packet (arp: from the ARP header
 * on, len bytes as received) is an answer when it is a request or reply for
 * IPv4 over Ethernet whose sender protocol address is not 0.0.0.0 (a probe)
 * and whose sender hardware address is not own_mac (a frame of ours coming
 * back; own_mac NULL when unknown): ret gets addr = the sender protocol
 * address, mac = the sender hardware address, ifindex 0 (the caller knows the
 * link). Returns 0 (an answer), -ENOMSG (well formed, not an answer) or
 * -EBADMSG (short, another hardware or protocol, another operation).
 */
int vip_frame_parse_arp_answer(const uint8_t *arp, size_t len, const uint8_t *own_mac,
			       struct vip_port_answer *ret);

/*
 * The same for an ICMPv6 message (icmp: from the ICMPv6 header on, len bytes;
 * the kernel checked its checksum): a neighbour advertisement (type 136, code
 * 0, at least VIP_ND_HDR_LEN bytes, a target that is not multicast, every
 * option of a non-zero length inside the message). ret gets addr = the target,
 * mac = the target link-layer address option when there is one for Ethernet
 * (mac_len 6), else mac_len 0; ifindex 0. Returns 0, -ENOMSG (another ICMPv6
 * type) or -EBADMSG.
 */
int vip_frame_parse_na_answer(const uint8_t *icmp, size_t len, struct vip_port_answer *ret);

/* ICMPv6 checksum of an IPv6 packet's payload (pseudo-header included); 0xffff..0 folded. */
uint16_t vip_frame_icmp6_csum(const struct in6_addr *src, const struct in6_addr *dst, const uint8_t *icmp,
			      size_t len);

/*
 * Append the routes a kernel derives from address a: its local host route (local
 * table) and, when its prefix is shorter than the host length, the connected route
 * to its network. The fake port and the SunOS port (which reads no routing table)
 * report these. 0 or -ENOMEM.
 */
int vip_port_routes_implied(const struct vip_port_addr *a, struct vip_port_routes *t);

#endif

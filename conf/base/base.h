/* SPDX-License-Identifier: MIT */
/*
 * conf/base: the vocabulary every vipd library shares, and nothing else: an
 * IPv4/IPv6 address (struct vip_addr) with its helpers, the announcement
 * modes, and util.h. It is the bottom library: conf/, netlink/ and cluster/
 * link it, and linking it pulls in neither the configuration language nor the
 * operating system (docs/port.md says why the port needs no more).
 */
#ifndef VIP_BASE_H
#define VIP_BASE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* ------------------------------------------------------------------ */
/* Addresses                                                          */
/* ------------------------------------------------------------------ */

/* An IPv4 or IPv6 address. family is AF_INET or AF_INET6. */
struct vip_addr {
	int family;
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t bytes[16];
	};
};

/* Longest text of an address, with NUL (INET6_ADDRSTRLEN). */
#define VIP_ADDR_STRLEN 46

/* Parse "198.51.100.1" or "2001:db8::1" (no brackets, no port). 0 or -EINVAL. */
int vip_addr_from_string(const char *s, struct vip_addr *ret);
/* Format into buf (at least VIP_ADDR_STRLEN bytes); returns buf. */
const char *vip_addr_to_string(const struct vip_addr *a, char *buf, size_t len);
/* Total order: family first, then bytes. */
int vip_addr_cmp(const struct vip_addr *a, const struct vip_addr *b);
bool vip_addr_equal(const struct vip_addr *a, const struct vip_addr *b);
/* Number of address bytes for the family (4 or 16). */
size_t vip_addr_len(const struct vip_addr *a);
/* True when a lies in net/prefix. */
bool vip_addr_in_prefix(const struct vip_addr *a, const struct vip_addr *net, unsigned prefix);
/* Parse "net/len"; 0 or -EINVAL (host bits set is accepted). */
int vip_prefix_from_string(const char *s, struct vip_addr *ret_net, unsigned *ret_len);

/*
 * Binary search in an array sorted by vip_addr_cmp. The array has n elements
 * of size bytes each, and each element's key is the struct vip_addr that
 * starts off bytes into it (0 for an array of struct vip_addr, or
 * offsetof(struct x, addr)). Elements must have distinct keys for the answer
 * to be unique.
 *
 * vip_addr_lower_bound: the index of the first element whose key is not less
 * than a (n when there is none): where a is, or where it would be inserted.
 * vip_addr_bsearch: the element whose key equals a, or NULL. Like bsearch(3)
 * it takes a const array and returns a non-const pointer into it.
 */
size_t vip_addr_lower_bound(const struct vip_addr *a, const void *base, size_t n, size_t size, size_t off);
void *vip_addr_bsearch(const struct vip_addr *a, const void *base, size_t n, size_t size, size_t off);

/* vip_addr_bsearch over an array of structs keyed by member: returns a pointer of the array's type. */
#define VIP_ADDR_BSEARCH(a, arr, n, member)                                         \
	((__typeof__(&(arr)[0]))vip_addr_bsearch((a), (arr), (n), sizeof((arr)[0]), \
						 __builtin_offsetof(__typeof__((arr)[0]), member)))

/* ------------------------------------------------------------------ */
/* Announcements                                                      */
/* ------------------------------------------------------------------ */

/* Which gratuitous ARP form(s) announce an IPv4 address (arp_mode; IPv6 always uses NA). */
enum vip_arp_mode {
	VIP_ARP_REQUEST,
	VIP_ARP_REPLY,
	VIP_ARP_BOTH,
	_VIP_ARP_MODE_MAX,
};
const char *vip_arp_mode_to_string(enum vip_arp_mode m);
int vip_arp_mode_from_string(const char *s); /* value or -EINVAL */

#endif

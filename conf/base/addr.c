/* SPDX-License-Identifier: MIT */
/* conf/base: address helpers and announcement mode names, shared by every folder (base.h). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "base.h"

int vip_addr_from_string(const char *s, struct vip_addr *ret)
{
	struct vip_addr a = { 0 };

	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, &a.v4) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, &a.v6) == 1)
		a.family = AF_INET6;
	else
		return -EINVAL;
	*ret = a;
	return 0;
}

const char *vip_addr_to_string(const struct vip_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, a->bytes, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

size_t vip_addr_len(const struct vip_addr *a)
{
	return a->family == AF_INET6 ? 16 : 4;
}

int vip_addr_cmp(const struct vip_addr *a, const struct vip_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->bytes, b->bytes, vip_addr_len(a));
}

bool vip_addr_equal(const struct vip_addr *a, const struct vip_addr *b)
{
	return vip_addr_cmp(a, b) == 0;
}

bool vip_addr_in_prefix(const struct vip_addr *a, const struct vip_addr *net, unsigned prefix)
{
	size_t len = vip_addr_len(a);

	if (a->family != net->family || prefix > len * 8)
		return false;
	size_t full = prefix / 8;
	if (memcmp(a->bytes, net->bytes, full) != 0)
		return false;
	unsigned rest = prefix % 8;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a->bytes[full] & mask) == (net->bytes[full] & mask);
}

int vip_prefix_from_string(const char *s, struct vip_addr *ret_net, unsigned *ret_len)
{
	char buf[VIP_ADDR_STRLEN + 8];
	struct vip_addr net;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	char *slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	if (vip_addr_from_string(buf, &net) < 0)
		return -EINVAL;
	const char *p = slash + 1;
	if (*p == '\0' || strlen(p) > 3)
		return -EINVAL;
	unsigned len = 0;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		len = len * 10 + (unsigned)(*p - '0');
	}
	if (len > vip_addr_len(&net) * 8)
		return -EINVAL;
	*ret_net = net;
	*ret_len = len;
	return 0;
}

size_t vip_addr_lower_bound(const struct vip_addr *a, const void *base, size_t n, size_t size, size_t off)
{
	const uint8_t *b = base;
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct vip_addr *k = (const struct vip_addr *)(const void *)(b + mid * size + off);

		if (vip_addr_cmp(k, a) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void *vip_addr_bsearch(const struct vip_addr *a, const void *base, size_t n, size_t size, size_t off)
{
	size_t i = vip_addr_lower_bound(a, base, n, size, off);
	uint8_t *e;

	if (i == n) /* also an empty array, whose base may be NULL */
		return NULL;
	e = (uint8_t *)(uintptr_t)base + i * size;
	if (vip_addr_cmp((const struct vip_addr *)(void *)(e + off), a) != 0)
		return NULL;
	return e;
}

static const char *const arp_mode_names[_VIP_ARP_MODE_MAX] = {
	[VIP_ARP_REQUEST] = "request",
	[VIP_ARP_REPLY] = "reply",
	[VIP_ARP_BOTH] = "both",
};

const char *vip_arp_mode_to_string(enum vip_arp_mode m)
{
	return (unsigned)m < _VIP_ARP_MODE_MAX ? arp_mode_names[m] : NULL;
}

int vip_arp_mode_from_string(const char *s)
{
	for (int i = 0; s && i < _VIP_ARP_MODE_MAX; i++)
		if (strcasecmp(s, arp_mode_names[i]) == 0)
			return i;
	return -EINVAL;
}

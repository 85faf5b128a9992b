/* SPDX-License-Identifier: MIT */
/*
 * Binary search in arrays kept sorted by address (vip_addr_cmp order): the
 * local and replicated tables of the protocol and each member's records.
 * Reach it through VIP_CL_ADDR_FIND / VIP_CL_ADDR_LOWER_BOUND
 * (cluster-internal.h), which fill in the element size and the field offset.
 */
#include "cluster-internal.h"

static const struct vip_addr *addr_at(const void *base, size_t i, size_t size, size_t addr_off)
{
	return (const struct vip_addr *)((const char *)base + i * size + addr_off);
}

size_t vip_cl_addr_lower_bound(const void *base, size_t n, size_t size, size_t addr_off,
			       const struct vip_addr *a)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (vip_addr_cmp(addr_at(base, mid, size, addr_off), a) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void *vip_cl_addr_find(const void *base, size_t n, size_t size, size_t addr_off, const struct vip_addr *a)
{
	size_t i = vip_cl_addr_lower_bound(base, n, size, addr_off, a);

	if (i == n || vip_addr_cmp(addr_at(base, i, size, addr_off), a) != 0)
		return NULL;
	/* Like bsearch(3): the caller owns the array and its constness. */
	return (char *)base + i * size;
}

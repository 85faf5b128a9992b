/* SPDX-License-Identifier: MIT */
/*
 * Hashes the cluster agrees on: the rendezvous score of (node, address) and
 * the configuration digests. Every member must compute the same values, so
 * there is no per-process seed; nothing here is a defence against an
 * adversary, only a good spread.
 */
#include "cluster-internal.h"

uint64_t vip_cl_hash_bytes(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

uint64_t vip_cl_mix64(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

uint64_t vip_cl_hash_name(const char *name)
{
	return vip_cl_mix64(vip_cl_hash_bytes(VIP_CL_HASH_INIT, name, strlen(name)));
}

uint64_t vip_cl_hash_addr(const struct vip_addr *a)
{
	uint8_t fam = a->family == AF_INET6 ? 6 : 4;
	uint64_t h = vip_cl_hash_bytes(VIP_CL_HASH_INIT, &fam, 1);

	h = vip_cl_hash_bytes(h, a->bytes, vip_addr_len(a));
	/* A second round keeps neighbouring addresses from scoring alike. */
	return vip_cl_mix64(h ^ UINT64_C(0x5ca1ab1e0ddba11));
}

uint64_t vip_cl_rendezvous(const char *name, const struct vip_addr *a)
{
	return vip_cl_score(vip_cl_hash_name(name), vip_cl_hash_addr(a));
}

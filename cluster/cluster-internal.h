/* SPDX-License-Identifier: MIT */
/*
 * cluster/ private helpers shared by its files; not part of the public API.
 */
#ifndef VIP_CLUSTER_INTERNAL_H
#define VIP_CLUSTER_INTERNAL_H

#include <stdint.h>

#include "cluster.h"

/* 64-bit FNV-1a of len bytes, continuing from h (start with VIP_CL_HASH_INIT). */
#define VIP_CL_HASH_INIT UINT64_C(0xcbf29ce484222325)
uint64_t vip_cl_hash_bytes(uint64_t h, const void *data, size_t len);
/* A strong 64-bit finaliser (splitmix64): spreads every input bit over the output. */
uint64_t vip_cl_mix64(uint64_t x);
/* Hash of a node name, the per-node half of the rendezvous score. */
uint64_t vip_cl_hash_name(const char *name);
/* Hash of an address, the per-address half of the rendezvous score. */
uint64_t vip_cl_hash_addr(const struct vip_addr *a);
/* Rendezvous score from the two halves. */
static inline uint64_t vip_cl_score(uint64_t name_hash, uint64_t addr_hash)
{
	return vip_cl_mix64(name_hash ^ addr_hash);
}

/* Built only when libcpg is found (VIP_CL_HAVE_CPG); reach it through vip_cl_backend_find. */
extern const struct vip_cl_backend_ops vip_cl_backend_cpg;

/* Bits. */
static inline int vip_cl_popcount(uint64_t m)
{
	return __builtin_popcountll(m);
}
static inline uint64_t vip_cl_bit(int i)
{
	return UINT64_C(1) << i;
}

#endif

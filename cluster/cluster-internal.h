/* SPDX-License-Identifier: MIT */
/*
 * cluster/ private helpers shared by its files; not part of the public API.
 */
#ifndef VIP_CLUSTER_INTERNAL_H
#define VIP_CLUSTER_INTERNAL_H

#include <stddef.h>
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

/*
 * Binary search in the protocol's address-sorted arrays (the local and
 * replicated tables, each member's records): the base library's search
 * (conf/base/base.h) over arr[0..n), structs with a member named addr.
 * LOWER_BOUND: where a is, or where it would be inserted; FIND: the element or NULL.
 */
#define VIP_CL_ADDR_LOWER_BOUND(arr, n, a) \
	vip_addr_lower_bound((a), (arr), (n), sizeof((arr)[0]), offsetof(__typeof__((arr)[0]), addr))
#define VIP_CL_ADDR_FIND(arr, n, a) VIP_ADDR_BSEARCH((a), (arr), (n), addr)

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

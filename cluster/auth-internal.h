/* SPDX-License-Identifier: MIT */
/*
 * cluster/ private: SHA-256 and HMAC-SHA-256 as streaming contexts
 * (cluster/sha256.c), used by the message authentication (cluster/auth.c).
 */
#ifndef VIP_AUTH_INTERNAL_H
#define VIP_AUTH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster.h"

#define VIP_CL_SHA256_BLOCK 64

struct vip_cl_sha256 {
	uint32_t h[8];
	uint64_t n; /* bytes hashed */
	uint8_t buf[VIP_CL_SHA256_BLOCK];
	size_t used;
};

void vip_cl_sha256_init(struct vip_cl_sha256 *s);
void vip_cl_sha256_update(struct vip_cl_sha256 *s, const void *data, size_t len);
/* Writes the digest and wipes s. */
void vip_cl_sha256_final(struct vip_cl_sha256 *s, uint8_t out[VIP_CL_SHA256_LEN]);

/* An HMAC key as its two padded-key states: copy inner, update it, finish with the key. */
struct vip_cl_hmac {
	struct vip_cl_sha256 inner, outer;
};
void vip_cl_hmac_init(struct vip_cl_hmac *h, const uint8_t *key, size_t len);
/* The MAC of what inner (a copy of key->inner, updated) has hashed; wipes inner. */
void vip_cl_hmac_final(const struct vip_cl_hmac *key, struct vip_cl_sha256 *inner,
		       uint8_t out[VIP_CL_SHA256_LEN]);

/* Compare n bytes in time independent of where they differ. */
bool vip_cl_mac_equal(const uint8_t *a, const uint8_t *b, size_t n);
/* Zero memory in a way the compiler keeps. */
void vip_cl_wipe(void *p, size_t n);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * SHA-256 (FIPS 180-4, section 6.2) and HMAC-SHA-256 (RFC 2104), written
 * here so that cluster message authentication needs no new library. The
 * published test vectors (FIPS 180-4 examples, RFC 4231) are in
 * tests/unit/test-cl-auth.c.
 */
#include <string.h>

#include "auth-internal.h"

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t ror(uint32_t x, unsigned n)
{
	return x >> n | x << (32 - n);
}

static void compress(uint32_t h[8], const uint8_t blk[64])
{
	uint32_t w[64], a, b, c, d, e, f, g, k;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)blk[4 * i] << 24 | (uint32_t)blk[4 * i + 1] << 16 |
		       (uint32_t)blk[4 * i + 2] << 8 | blk[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
		uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		k = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
	vip_cl_wipe(w, sizeof(w));
}

void vip_cl_sha256_init(struct vip_cl_sha256 *s)
{
	static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

	memcpy(s->h, iv, sizeof(iv));
	s->n = 0;
	s->used = 0;
}

void vip_cl_sha256_update(struct vip_cl_sha256 *s, const void *data, size_t len)
{
	const uint8_t *p = data;

	s->n += len;
	while (len > 0) {
		size_t take = sizeof(s->buf) - s->used < len ? sizeof(s->buf) - s->used : len;
		memcpy(s->buf + s->used, p, take);
		s->used += take;
		p += take;
		len -= take;
		if (s->used == sizeof(s->buf)) {
			compress(s->h, s->buf);
			s->used = 0;
		}
	}
}

void vip_cl_sha256_final(struct vip_cl_sha256 *s, uint8_t out[VIP_CL_SHA256_LEN])
{
	uint64_t bits = s->n * 8;
	uint8_t pad = 0x80, len[8];

	vip_cl_sha256_update(s, &pad, 1);
	pad = 0;
	while (s->used != 56)
		vip_cl_sha256_update(s, &pad, 1);
	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)(bits >> (56 - 8 * i));
	vip_cl_sha256_update(s, len, sizeof(len));
	for (int i = 0; i < 8; i++)
		for (int k = 0; k < 4; k++)
			out[4 * i + k] = (uint8_t)(s->h[i] >> (24 - 8 * k));
	vip_cl_wipe(s, sizeof(*s));
}

void vip_cl_sha256(const void *data, size_t len, uint8_t out[VIP_CL_SHA256_LEN])
{
	struct vip_cl_sha256 s;

	vip_cl_sha256_init(&s);
	vip_cl_sha256_update(&s, data, len);
	vip_cl_sha256_final(&s, out);
}

/* RFC 2104: a key longer than the block is hashed first; then the two padded keys. */
void vip_cl_hmac_init(struct vip_cl_hmac *h, const uint8_t *key, size_t len)
{
	uint8_t k[VIP_CL_SHA256_BLOCK] = { 0 }, pad[VIP_CL_SHA256_BLOCK];

	if (len > sizeof(k))
		vip_cl_sha256(key, len, k);
	else if (len)
		memcpy(k, key, len);
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x36;
	vip_cl_sha256_init(&h->inner);
	vip_cl_sha256_update(&h->inner, pad, sizeof(pad));
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x5c;
	vip_cl_sha256_init(&h->outer);
	vip_cl_sha256_update(&h->outer, pad, sizeof(pad));
	vip_cl_wipe(k, sizeof(k));
	vip_cl_wipe(pad, sizeof(pad));
}

void vip_cl_hmac_final(const struct vip_cl_hmac *key, struct vip_cl_sha256 *inner,
		       uint8_t out[VIP_CL_SHA256_LEN])
{
	struct vip_cl_sha256 o = key->outer;
	uint8_t ih[VIP_CL_SHA256_LEN];

	vip_cl_sha256_final(inner, ih);
	vip_cl_sha256_update(&o, ih, sizeof(ih));
	vip_cl_sha256_final(&o, out);
	vip_cl_wipe(ih, sizeof(ih));
}

void vip_cl_hmac_sha256(const uint8_t *key, size_t key_len, const void *data, size_t len,
			uint8_t out[VIP_CL_SHA256_LEN])
{
	struct vip_cl_hmac h;
	struct vip_cl_sha256 in;

	vip_cl_hmac_init(&h, key, key_len);
	in = h.inner;
	vip_cl_sha256_update(&in, data, len);
	vip_cl_hmac_final(&h, &in, out);
	vip_cl_wipe(&h, sizeof(h));
}

bool vip_cl_mac_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	volatile uint8_t diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

void vip_cl_wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the cluster message decoder, the authentication in front of it, and
 * the protocol behind both.
 *
 * 1. vip_cl_msg_decode() must never crash; what it accepts must encode back
 *    to the very same bytes but the trailer (the format has one spelling
 *    per message; the codec writes the trailer zero). Inputs of protocol
 *    version 1 (the corpus predates the trailer) are also decoded as the
 *    current version with a zero trailer appended, so the decoder behind
 *    the version check is still reached.
 * 2. vip_cl_auth_verify() with a key must never crash on the raw bytes.
 * 3. The bytes go to an unauthenticated protocol instance in a completed
 *    round, as if a peer had sent them; and, sealed with the key by that
 *    peer (the decoder and handlers behind a verified MAC), plus raw (the
 *    MAC fails), to an authenticated one. Refusals are fine, never a crash
 *    or a leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/cl-testutil.h"

static const char *pref(size_t i, void *data)
{
	(void)data;
	return i % 2 ? "fz-a" : "fz-b";
}

static struct vip_cl_key *fuzz_key(void)
{
	uint8_t b[VIP_CL_KEY_MIN];
	struct vip_cl_key *k = NULL;

	memset(b, 0x42, sizeof(b));
	if (vip_cl_key_new(b, sizeof(b), &k) < 0)
		abort();
	return k;
}

/* key NULL: raw bytes to an unauthenticated instance; else sealed (and raw) to an authenticated one. */
static void feed_proto(const uint8_t *data, size_t size, const struct vip_cl_key *key)
{
	struct vipd_config *cfg = cltest_config("fz-a", 4, pref, NULL);
	struct vip_cl_proto *p = NULL;
	if (vip_cl_proto_new(cfg, &p) < 0)
		abort();
	vip_cl_proto_set_key(p, key);
	struct vip_cl_member m[2] = { { .nodeid = 1, .pid = 10 }, { .nodeid = 2, .pid = 20 } };
	struct vip_cl_view v = { .members = m, .n_members = 2, .self = 0 };
	_cleanup_free_ uint8_t *sealed = NULL;
	if (key && size >= 8 + VIP_CL_AUTH_LEN) {
		if (!(sealed = malloc(size)))
			abort();
		memcpy(sealed, data, size);
		vip_cl_auth_seal(key, &m[1], vip_cl_view_digest(m, 2), 1, sealed, size);
	}
	vip_cl_proto_on_quorum(p, true, 1);
	vip_cl_proto_on_view(p, &v, 1);
	/* loop our own STATE back, then the fuzzed bytes from the peer, twice:
	 * once to complete the round, once inside it */
	struct cltest_sink s = { .p = p };
	cltest_drain(p, &s, NULL);
	for (size_t i = 0; i < s.n_sent; i++)
		vip_cl_proto_on_message(p, &m[0], s.msg[i], s.len[i], 2);
	cltest_sink_free(&s);
	if (sealed) { /* verified, then decoded; the same frame again is a replay */
		vip_cl_proto_on_message(p, &m[1], sealed, size, 3);
		vip_cl_proto_on_message(p, &m[1], sealed, size, 3);
	}
	vip_cl_proto_on_message(p, &m[1], data, size, 3);
	vip_cl_proto_on_message(p, &m[1], data, size, 4);
	vip_cl_proto_on_tick(p, 100000);
	s.send_result = -EAGAIN;
	cltest_drain(p, &s, NULL);
	s.send_result = -EIO;
	cltest_drain(p, &s, NULL);
	cltest_sink_free(&s);
	for (size_t i = 0; i < vip_cl_proto_n_vips(p); i++) {
		struct vip_cl_vip_info info;
		if (vip_cl_proto_vip(p, i, &info) < 0)
			abort();
	}
	vip_cl_proto_free(p);
	cltest_config_free(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decoded bytes encode back to themselves, but the trailer (zero from the codec). */
static void roundtrip(const uint8_t *data, size_t size)
{
	struct vip_cl_msg m;

	if (vip_cl_msg_decode(data, size, &m) != 0)
		return;
	uint8_t *out = NULL;
	size_t n = 0;
	if (vip_cl_msg_encode(&m, &out, &n) < 0 || n != size || memcmp(out, data, n - VIP_CL_AUTH_LEN) != 0)
		abort();
	free(out);
	vip_cl_msg_clear(&m);
}

/* A version-1 message as the current version: version byte, zero trailer, length. NULL if not one. */
static uint8_t *upgrade(const uint8_t *data, size_t size, size_t *ret_size)
{
	if (size < 8 || data[0] != 'V' || data[1] != 'C' || data[2] != 1 ||
	    size > UINT32_MAX - VIP_CL_AUTH_LEN)
		return NULL;
	size_t n = size + VIP_CL_AUTH_LEN;
	uint8_t *u = calloc(1, n);
	if (!u)
		abort();
	memcpy(u, data, size);
	u[2] = VIP_CL_PROTO_VERSION;
	for (int i = 0; i < 4; i++)
		u[4 + i] = (uint8_t)(n >> (24 - 8 * i));
	*ret_size = n;
	return u;
}

static void one_input(const uint8_t *data, size_t size, const struct vip_cl_key *key)
{
	struct vip_cl_auth_info ai;
	struct vip_cl_member who = { .nodeid = 2, .pid = 20 };

	roundtrip(data, size);
	(void)vip_cl_auth_verify(key, &who, data, size, &ai);
	feed_proto(data, size, NULL);
	feed_proto(data, size, key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vip_cl_key *key = fuzz_key();
	size_t n = 0;
	_cleanup_free_ uint8_t *up = upgrade(data, size, &n);

	one_input(data, size, key);
	if (up)
		one_input(up, n, key);
	vip_cl_key_free(key);
	return 0;
}

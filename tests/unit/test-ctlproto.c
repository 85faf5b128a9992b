/* SPDX-License-Identifier: MIT */
/* The control-socket codec: every frame type, bounds, malformed input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ctlproto.h"

/* Write a raw header. */
static void raw_header(uint8_t *p, uint32_t mv, uint16_t type, uint16_t flags, uint32_t len)
{
	p[0] = (uint8_t)(mv >> 24), p[1] = (uint8_t)(mv >> 16), p[2] = (uint8_t)(mv >> 8), p[3] = (uint8_t)mv;
	p[4] = (uint8_t)(type >> 8), p[5] = (uint8_t)type;
	p[6] = (uint8_t)(flags >> 8), p[7] = (uint8_t)flags;
	p[8] = (uint8_t)(len >> 24), p[9] = (uint8_t)(len >> 16), p[10] = (uint8_t)(len >> 8),
	p[11] = (uint8_t)len;
}

#define MV (VIP_CTL_MAGIC << 16 | VIP_CTL_VERSION)

static void test_request_roundtrip(void **state _unused_)
{
	const char *argv[] = { "cluster", "duravip", "move", "198.51.100.7", "node-2" };
	struct vip_ctl_buf b = { 0 };
	struct vip_ctl_request req;
	struct vip_ctl_header h;

	assert_int_equal(vip_ctl_request_encode(&b, argv, 5, true), 0);
	assert_int_equal(vip_ctl_frame_peek(b.data, b.len, 0, &h), (int)b.len);
	assert_int_equal(h.type, VIP_CTL_REQUEST);
	assert_int_equal(h.version, VIP_CTL_VERSION);
	assert_int_equal(h.flags, VIP_CTL_F_JSON);
	assert_int_equal(h.length, b.len - VIP_CTL_HEADER_SIZE);
	assert_int_equal(vip_ctl_request_decode(b.data, b.len, &req), 0);
	assert_int_equal(req.argc, 5);
	assert_true(req.json);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(req.argv[i], argv[i]);
	assert_null(req.argv[5]);
	vip_ctl_request_clear(&req);

	/* Without JSON, and a second frame appended to the same buffer. */
	size_t first = b.len;
	assert_int_equal(vip_ctl_request_encode(&b, argv, 1, false), 0);
	assert_int_equal(vip_ctl_frame_peek(b.data + first, b.len - first, 0, &h), (int)(b.len - first));
	assert_int_equal(vip_ctl_request_decode(b.data + first, b.len - first, &req), 0);
	assert_false(req.json);
	assert_int_equal(req.argc, 1);
	assert_string_equal(req.argv[0], "cluster");
	vip_ctl_request_clear(&req);
	vip_ctl_buf_free(&b);
}

static void test_reply_event_roundtrip(void **state _unused_)
{
	struct vip_ctl_buf b = { 0 };
	const char *body;
	size_t len;
	unsigned status, flags;

	assert_int_equal(vip_ctl_reply_encode(&b, 3, VIP_CTL_F_STREAM, "no such node\n", 13), 0);
	assert_int_equal(vip_ctl_reply_decode(b.data, b.len, &status, &flags, &body, &len), 0);
	assert_int_equal(status, 3);
	assert_int_equal(flags, VIP_CTL_F_STREAM);
	assert_int_equal(len, 13);
	assert_memory_equal(body, "no such node\n", 13);

	vip_ctl_buf_reset(&b);
	assert_int_equal(vip_ctl_reply_encode(&b, 0, VIP_CTL_F_BODY_JSON, NULL, 0), 0);
	assert_int_equal(b.len, VIP_CTL_HEADER_SIZE + 4);
	assert_int_equal(vip_ctl_reply_decode(b.data, b.len, &status, &flags, &body, &len), 0);
	assert_int_equal(status, 0);
	assert_int_equal(flags, VIP_CTL_F_BODY_JSON);
	assert_int_equal(len, 0);

	vip_ctl_buf_reset(&b);
	assert_int_equal(vip_ctl_event_encode(&b, "{\"acquired\":\"198.51.100.1\"}\n", 28), 0);
	assert_int_equal(vip_ctl_event_decode(b.data, b.len, &body, &len), 0);
	assert_int_equal(len, 28);
	assert_memory_equal(body, "{\"acquired\":\"198.51.100.1\"}\n", 28);
	/* The wrong decoder for the type refuses. */
	assert_int_equal(vip_ctl_reply_decode(b.data, b.len, &status, &flags, &body, &len), -EBADMSG);
	struct vip_ctl_request req;
	assert_int_equal(vip_ctl_request_decode(b.data, b.len, &req), -EBADMSG);
	vip_ctl_buf_free(&b);
}

static void test_peek_partial(void **state _unused_)
{
	const char *argv[] = { "metrics" };
	struct vip_ctl_buf b = { 0 };
	struct vip_ctl_header h;

	assert_int_equal(vip_ctl_request_encode(&b, argv, 1, false), 0);
	/* Every strict prefix is "need more", never an error. */
	for (size_t n = 0; n < b.len; n++)
		assert_int_equal(vip_ctl_frame_peek(b.data, n, 0, &h), 0);
	assert_int_equal(vip_ctl_frame_peek(b.data, b.len, 0, &h), (int)b.len);
	/* Truncated frames do not decode. */
	struct vip_ctl_request req;
	for (size_t n = 0; n < b.len; n++)
		assert_int_equal(vip_ctl_request_decode(b.data, n, &req), -EBADMSG);
	vip_ctl_buf_free(&b);
}

static void test_peek_bad_headers(void **state _unused_)
{
	uint8_t f[VIP_CTL_HEADER_SIZE + 8] = { 0 };
	struct vip_ctl_header h = { 0 };

	raw_header(f, 0xdeadbeef, VIP_CTL_REQUEST, 0, 4);
	assert_int_equal(vip_ctl_frame_peek(f, 2, 0, &h), -EBADMSG); /* magic judged early */
	assert_int_equal(vip_ctl_frame_peek(f, sizeof(f), 0, &h), -EBADMSG);

	raw_header(f, VIP_CTL_MAGIC << 16 | 1, VIP_CTL_REQUEST, 0, 4); /* version 1: no BODY_JSON flag */
	assert_int_equal(vip_ctl_frame_peek(f, sizeof(f), 0, &h), -EPROTONOSUPPORT);
	assert_int_equal(h.version, 1);
	raw_header(f, VIP_CTL_MAGIC << 16 | 3, VIP_CTL_REQUEST, 0, 4);
	assert_int_equal(vip_ctl_frame_peek(f, sizeof(f), 0, &h), -EPROTONOSUPPORT);
	assert_int_equal(h.version, 3);
	raw_header(f, VIP_CTL_MAGIC << 16 | 0, VIP_CTL_REQUEST, 0, 4);
	assert_int_equal(vip_ctl_frame_peek(f, sizeof(f), 0, &h), -EPROTONOSUPPORT);

	raw_header(f, MV, 0, 0, 4);
	assert_int_equal(vip_ctl_frame_peek(f, sizeof(f), 0, &h), -EBADMSG);
	raw_header(f, MV, _VIP_CTL_TYPE_MAX, 0, 4);
	assert_int_equal(vip_ctl_frame_peek(f, sizeof(f), 0, &h), -EBADMSG);
	raw_header(f, MV, VIP_CTL_REQUEST, 0x0002, 4);
	assert_int_equal(vip_ctl_frame_peek(f, sizeof(f), 0, &h), -EBADMSG);
	raw_header(f, MV, VIP_CTL_EVENT, VIP_CTL_F_STREAM, 4);
	assert_int_equal(vip_ctl_frame_peek(f, sizeof(f), 0, &h), -EBADMSG);

	/* Oversized: rejected on the header alone, before any payload. */
	raw_header(f, MV, VIP_CTL_REQUEST, 0, VIP_CTL_MAX_REQUEST + 1);
	assert_int_equal(vip_ctl_frame_peek(f, VIP_CTL_HEADER_SIZE, 0, &h), -EMSGSIZE);
	raw_header(f, MV, VIP_CTL_EVENT, 0, VIP_CTL_MAX_EVENT + 1);
	assert_int_equal(vip_ctl_frame_peek(f, VIP_CTL_HEADER_SIZE, 0, &h), -EMSGSIZE);
	raw_header(f, MV, VIP_CTL_REPLY, 0, 0xffffffffu);
	assert_int_equal(vip_ctl_frame_peek(f, VIP_CTL_HEADER_SIZE, 0, &h), -EMSGSIZE);
	raw_header(f, MV, VIP_CTL_REQUEST, 0, 100);
	assert_int_equal(vip_ctl_frame_peek(f, VIP_CTL_HEADER_SIZE, 99, &h), -EMSGSIZE);
	assert_int_equal(vip_ctl_frame_peek(f, VIP_CTL_HEADER_SIZE, 100, &h), 0);
	assert_int_equal(h.length, 100);
}

/* Build a REQUEST frame from a raw payload. */
static size_t raw_request(uint8_t *f, const uint8_t *payload, size_t n)
{
	raw_header(f, MV, VIP_CTL_REQUEST, 0, (uint32_t)n);
	memcpy(f + VIP_CTL_HEADER_SIZE, payload, n);
	return VIP_CTL_HEADER_SIZE + n;
}

static void test_request_malformed(void **state _unused_)
{
	struct vip_ctl_request req = { 0 };
	uint8_t f[256];
	size_t n;

	static const uint8_t ok[] = { 0, 1, 0, 2, 'h', 'i' };
	n = raw_request(f, ok, sizeof(ok));
	assert_int_equal(vip_ctl_request_decode(f, n, &req), 0);
	assert_string_equal(req.argv[0], "hi");
	vip_ctl_request_clear(&req);

	static const uint8_t empty[] = { 0 };
	n = raw_request(f, empty, 0);
	assert_int_equal(vip_ctl_request_decode(f, n, &req), -EBADMSG);
	static const uint8_t argc0[] = { 0, 0 };
	n = raw_request(f, argc0, sizeof(argc0));
	assert_int_equal(vip_ctl_request_decode(f, n, &req), -EBADMSG);
	static const uint8_t argc_big[] = { 0, 65, 0, 1, 'a' };
	n = raw_request(f, argc_big, sizeof(argc_big));
	assert_int_equal(vip_ctl_request_decode(f, n, &req), -EBADMSG);
	static const uint8_t missing_arg[] = { 0, 2, 0, 2, 'h', 'i' };
	n = raw_request(f, missing_arg, sizeof(missing_arg));
	assert_int_equal(vip_ctl_request_decode(f, n, &req), -EBADMSG);
	static const uint8_t short_arg[] = { 0, 1, 0, 3, 'h', 'i' };
	n = raw_request(f, short_arg, sizeof(short_arg));
	assert_int_equal(vip_ctl_request_decode(f, n, &req), -EBADMSG);
	static const uint8_t trailing[] = { 0, 1, 0, 2, 'h', 'i', 'x' };
	n = raw_request(f, trailing, sizeof(trailing));
	assert_int_equal(vip_ctl_request_decode(f, n, &req), -EBADMSG);
	static const uint8_t zero_len[] = { 0, 1, 0, 0 };
	n = raw_request(f, zero_len, sizeof(zero_len));
	assert_int_equal(vip_ctl_request_decode(f, n, &req), -EBADMSG);
	static const uint8_t nul[] = { 0, 1, 0, 2, 'h', 0 };
	n = raw_request(f, nul, sizeof(nul));
	assert_int_equal(vip_ctl_request_decode(f, n, &req), -EBADMSG);
	static const uint8_t half_len[] = { 0, 1, 0 };
	n = raw_request(f, half_len, sizeof(half_len));
	assert_int_equal(vip_ctl_request_decode(f, n, &req), -EBADMSG);
	/* A whole frame followed by another byte is not "a frame". */
	n = raw_request(f, ok, sizeof(ok));
	f[n] = 0x56;
	assert_int_equal(vip_ctl_request_decode(f, n + 1, &req), -EBADMSG);
	assert_null(req.argv);
}

static void test_reply_malformed(void **state _unused_)
{
	uint8_t f[64];
	const char *body;
	size_t len;
	unsigned status, flags;

	raw_header(f, MV, VIP_CTL_REPLY, 0, 3); /* shorter than the status */
	assert_int_equal(vip_ctl_reply_decode(f, VIP_CTL_HEADER_SIZE + 3, &status, &flags, &body, &len),
			 -EBADMSG);
	raw_header(f, MV, VIP_CTL_REPLY, 0, 4);
	memcpy(f + VIP_CTL_HEADER_SIZE, "\0\0\1\0", 4); /* status 256 */
	assert_int_equal(vip_ctl_reply_decode(f, VIP_CTL_HEADER_SIZE + 4, &status, &flags, &body, &len),
			 -EBADMSG);
	raw_header(f, MV, VIP_CTL_REPLY, 0, 6);
	memcpy(f + VIP_CTL_HEADER_SIZE, "\0\0\0\0a\0", 6); /* NUL in the body */
	assert_int_equal(vip_ctl_reply_decode(f, VIP_CTL_HEADER_SIZE + 6, &status, &flags, &body, &len),
			 -EBADMSG);
	raw_header(f, MV, VIP_CTL_EVENT, 0, 2);
	memcpy(f + VIP_CTL_HEADER_SIZE, "a\0", 2);
	assert_int_equal(vip_ctl_event_decode(f, VIP_CTL_HEADER_SIZE + 2, &body, &len), -EBADMSG);
}

static void test_encode_bounds(void **state _unused_)
{
	struct vip_ctl_buf b = { 0 };
	const char *many[VIP_CTL_MAX_ARGS + 1];
	static char big[VIP_CTL_MAX_ARG + 2];
	const char *one[1];

	for (size_t i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = "x";
	assert_int_equal(vip_ctl_request_encode(&b, many, 0, false), -EINVAL);
	assert_int_equal(vip_ctl_request_encode(&b, many, VIP_CTL_MAX_ARGS + 1, false), -EINVAL);
	assert_int_equal(vip_ctl_request_encode(&b, many, VIP_CTL_MAX_ARGS, false), 0);
	memset(big, 'a', VIP_CTL_MAX_ARG + 1);
	one[0] = big;
	assert_int_equal(vip_ctl_request_encode(&b, one, 1, false), -EINVAL);
	big[VIP_CTL_MAX_ARG] = '\0';
	assert_int_equal(vip_ctl_request_encode(&b, one, 1, false), 0);
	one[0] = "";
	assert_int_equal(vip_ctl_request_encode(&b, one, 1, false), -EINVAL);
	assert_int_equal(vip_ctl_reply_encode(&b, 256, 0, "x", 1), -EINVAL);
	assert_int_equal(vip_ctl_reply_encode(&b, 0, 0x4, "x", 1), -EINVAL); /* unknown flag */
	assert_int_equal(vip_ctl_reply_encode(&b, 0, 0, "a\0b", 3), -EINVAL);
	assert_int_equal(vip_ctl_event_encode(&b, "a\0b", 3), -EINVAL);
	vip_ctl_buf_free(&b);

	/* A bounded buffer refuses a frame that does not fit and keeps its content. */
	struct vip_ctl_buf small = { .max = 32 };
	assert_int_equal(vip_ctl_reply_encode(&small, 0, 0, "0123456789", 10), 0);
	size_t before = small.len;
	assert_int_equal(vip_ctl_reply_encode(&small, 0, 0, "0123456789", 10), -ENOBUFS);
	assert_int_equal(small.len, before);
	assert_int_equal(before, VIP_CTL_HEADER_SIZE + 4 + 10);
	assert_int_equal(vip_ctl_buf_append(&small, "012345", 6), 0);
	assert_int_equal(small.len, 32);
	assert_int_equal(vip_ctl_buf_append(&small, "x", 1), -ENOBUFS);
	vip_ctl_buf_consume(&small, 30);
	assert_int_equal(small.len, 2);
	assert_memory_equal(small.data, "45", 2);
	vip_ctl_buf_free(&small);
	assert_int_equal(small.max, 32);
}

static void test_buf_text(void **state _unused_)
{
	struct vip_ctl_buf b = { 0 };

	assert_int_equal(vip_ctl_buf_printf(&b, "%s=%d;", "n", 42), 0);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "n=42;", 5);
	assert_int_equal(b.err, 0);
	vip_ctl_buf_free(&b);

	/* The first failure sticks: text built by many appends is checked once. */
	struct vip_ctl_buf small = { .max = 8 };
	assert_int_equal(vip_ctl_buf_printf(&small, "%s", "0123456789"), -ENOBUFS);
	assert_int_equal(small.len, 0);
	assert_int_equal(small.err, -ENOBUFS);
	assert_int_equal(vip_ctl_buf_puts(&small, "ok"), 0);
	assert_int_equal(small.err, -ENOBUFS);
	vip_ctl_buf_reset(&small);
	assert_int_equal(small.err, 0);
	vip_ctl_buf_free(&small);
	assert_string_equal(vip_ctl_type_to_string(VIP_CTL_EVENT), "event");
	assert_null(vip_ctl_type_to_string(_VIP_CTL_TYPE_MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_roundtrip), cmocka_unit_test(test_reply_event_roundtrip),
		cmocka_unit_test(test_peek_partial),      cmocka_unit_test(test_peek_bad_headers),
		cmocka_unit_test(test_request_malformed), cmocka_unit_test(test_reply_malformed),
		cmocka_unit_test(test_encode_bounds),     cmocka_unit_test(test_buf_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the control-socket decoder: split the input into frames as the server
 * does, decode each by its type, and check that what decodes re-encodes to
 * the same bytes (the codec has one spelling per message).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_same(const struct vip_ctl_buf *b, const uint8_t *frame, size_t len)
{
	if (b->len != len || memcmp(b->data, frame, len) != 0)
		abort();
}

static void one_frame(const uint8_t *frame, size_t len, const struct vip_ctl_header *h)
{
	struct vip_ctl_buf b = { .max = VIP_CTL_HEADER_SIZE + VIP_CTL_MAX_REPLY };
	struct vip_ctl_request req;
	const char *text;
	size_t tlen;
	unsigned status, flags;

	switch (h->type) {
	case VIP_CTL_REQUEST:
		if (vip_ctl_request_decode(frame, len, &req) == 0) {
			if (vip_ctl_request_encode(&b, (const char *const *)req.argv, req.argc, req.json) !=
			    0)
				abort();
			check_same(&b, frame, len);
			vip_ctl_request_clear(&req);
		}
		break;
	case VIP_CTL_REPLY:
		if (vip_ctl_reply_decode(frame, len, &status, &flags, &text, &tlen) == 0) {
			if (vip_ctl_reply_encode(&b, status, flags, text, tlen) != 0)
				abort();
			check_same(&b, frame, len);
		}
		break;
	case VIP_CTL_EVENT:
		if (vip_ctl_event_decode(frame, len, &text, &tlen) == 0) {
			if (vip_ctl_event_encode(&b, text, tlen) != 0)
				abort();
			check_same(&b, frame, len);
		}
		break;
	default:
		abort(); /* peek let an unknown type through */
	}
	vip_ctl_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	/* A bounded number of frames, as a connection's buffer would hold them. */
	for (int n = 0; n < 64 && off < size; n++) {
		struct vip_ctl_header h;
		int k = vip_ctl_frame_peek(data + off, size - off, VIP_CTL_MAX_REQUEST, &h);

		if (k <= 0)
			break;
		if ((size_t)k > size - off || (size_t)k != VIP_CTL_HEADER_SIZE + h.length)
			abort();
		one_frame(data + off, (size_t)k, &h);
		off += (size_t)k;
	}
	return 0;
}

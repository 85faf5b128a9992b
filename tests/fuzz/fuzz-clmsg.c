// SPDX-License-Identifier: MIT
/*
 * Fuzz the cluster message decoder, and the protocol behind it.
 *
 * 1. vip_cl_msg_decode() must never crash; what it accepts must encode back
 *    to the very same bytes (the format has one spelling per message).
 * 2. The same bytes go to a protocol instance in a completed round, as if a
 *    peer had sent them: it may refuse them, never crash or leak.
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

static void feed_proto(const uint8_t *data, size_t size)
{
	struct vipd_config *cfg = cltest_config("fz-a", 4, pref, NULL);
	struct vip_cl_proto *p = NULL;
	if (vip_cl_proto_new(cfg, &p) < 0)
		abort();
	struct vip_cl_member m[2] = { { .nodeid = 1, .pid = 10 }, { .nodeid = 2, .pid = 20 } };
	struct vip_cl_view v = { .members = m, .n_members = 2, .self = 0 };
	vip_cl_proto_on_quorum(p, true, 1);
	vip_cl_proto_on_view(p, &v, 1);
	/* loop our own STATE back, then the fuzzed bytes from the peer, twice:
	 * once to complete the round, once inside it */
	struct cltest_sink s = { .p = p };
	cltest_drain(p, &s, NULL);
	for (size_t i = 0; i < s.n_sent; i++)
		vip_cl_proto_on_message(p, &m[0], s.msg[i], s.len[i], 2);
	cltest_sink_free(&s);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vip_cl_msg m;

	if (vip_cl_msg_decode(data, size, &m) == 0) {
		uint8_t *out = NULL;
		size_t n = 0;
		if (vip_cl_msg_encode(&m, &out, &n) < 0 || n != size || memcmp(out, data, n) != 0)
			abort();
		free(out);
		vip_cl_msg_clear(&m);
	}
	feed_proto(data, size);
	return 0;
}

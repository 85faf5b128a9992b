/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the protocol's unit tests (cmocka): one member driven by hand.
 *
 *   take_send(p, &len)       drain p; a copy of the last message sent (or NULL)
 *   solo_proto(cfg, &me)     a quorate member alone in its view, settled
 *   solo_loop(p, &me, now)   loop its messages back until it is quiet
 *   count_type(&sink, t, &m) messages of type t the sink took (m: the last)
 */
#ifndef VIP_CL_PROTOTEST_H
#define VIP_CL_PROTOTEST_H

#include "cl-testutil.h"

/* Drain p's queue; return a copy of the last message it asked to send. */
static inline uint8_t *take_send(struct vip_cl_proto *p, size_t *len)
{
	struct cltest_sink s = { 0 };
	uint8_t *msg = NULL;

	assert_true(cltest_drain(p, &s, NULL) >= 0);
	if (s.n_sent) {
		msg = steal_ptr(s.msg[s.n_sent - 1]);
		*len = s.len[s.n_sent - 1];
	}
	cltest_sink_free(&s);
	return msg;
}

/* One member alone: its own messages loop back; run until settled. */
static inline void solo_loop(struct vip_cl_proto *p, const struct vip_cl_member *me, uint64_t now)
{
	for (int i = 0; i < 10; i++) {
		struct cltest_sink s = { .p = p, .now = now };
		assert_true(cltest_drain(p, &s, NULL) >= 0);
		for (size_t k = 0; k < s.n_sent; k++)
			assert_int_equal(vip_cl_proto_on_message(p, me, s.msg[k], s.len[k], now), 0);
		size_t n = s.n_sent + s.n_holds + s.n_releases;
		cltest_sink_free(&s);
		if (n == 0)
			return;
	}
	fail_msg("solo loop did not settle");
}

static inline struct vip_cl_proto *solo_proto(struct vipd_config *cfg, const struct vip_cl_member *me)
{
	struct vip_cl_proto *p;
	struct vip_cl_view v = { .members = me, .n_members = 1, .self = 0 };

	assert_int_equal(vip_cl_proto_new(cfg, &p), 0);
	assert_int_equal(vip_cl_proto_on_quorum(p, true, 1), 0);
	assert_int_equal(vip_cl_proto_on_view(p, &v, 1), 0);
	solo_loop(p, me, 1);
	return p;
}

static inline size_t count_type(const struct cltest_sink *s, enum vip_cl_msg_type t, struct vip_cl_msg *last)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_sent; i++) {
		struct vip_cl_msg m;
		assert_int_equal(vip_cl_msg_decode(s->msg[i], s->len[i], &m), 0);
		if (m.type == t) {
			n++;
			if (last) {
				vip_cl_msg_clear(last);
				*last = m;
				continue;
			}
		}
		vip_cl_msg_clear(&m);
	}
	return n;
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * NEIGH, the message of the shared neighbour cache (docs/protocol.md §13):
 * the codec (round trip, every truncation, the entry bound, bad op, name,
 * interface name, family, trailing bytes, another version) and the protocol
 * (queued with its bound, delivered through sink.neigh once per message,
 * from a member of the view, under its own node name only).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cl-testutil.h"

static struct vip_addr A(const char *s) {
	struct vip_addr a;

	assert_int_equal(vip_addr_from_string(s, &a), 0);
	return a;
}

static struct vip_cl_neigh
E(uint8_t op, const char *ip, const char *ifname, uint8_t last, uint32_t age) {
	struct vip_cl_neigh e = { .op = op, .addr = A(ip), .age_s = op == VIP_CL_NEIGH_SEEN ? age : 0 };

	snprintf(e.ifname, sizeof(e.ifname), "%s", ifname);
	if (op == VIP_CL_NEIGH_SEEN)
		memcpy(e.mac, (uint8_t[]){ 0x02, 0x11, 0x22, 0x33, 0x44, last }, 6);
	return e;
}

static void
sample(struct vip_cl_msg *m, struct vip_cl_neigh *e)
{
	e[0] = E(VIP_CL_NEIGH_SEEN, "198.51.100.7", "eth0", 7, 12);
	e[1] = E(VIP_CL_NEIGH_FORGET, "198.51.100.8", "eth0", 0, 0);
	e[2] = E(VIP_CL_NEIGH_SEEN, "2001:db8:1::9", "bond0.100", 9, 0xfffffffe);
	*m = (struct vip_cl_msg){ .type = VIP_CL_MSG_NEIGH, .neighs = e, .n_neighs = 3 };
	snprintf(m->name, sizeof(m->name), "node-1");
}

static void test_roundtrip(void **state)
{
	(void)state;
	struct vip_cl_neigh e[3];
	struct vip_cl_msg m, d;
	uint8_t *buf;
	size_t n;

	sample(&m, e);
	assert_int_equal(vip_cl_msg_encode(&m, &buf, &n), 0);
	/* header 8, name 7, count 4, entries 1+5+5+6+4, 1+5+5, 1+17+10+6+4, trailer */
	assert_int_equal(n, 8 + 7 + 4 + 21 + 11 + 38 + VIP_CL_AUTH_LEN);
	assert_int_equal(buf[3], VIP_CL_MSG_NEIGH);
	assert_int_equal(vip_cl_msg_decode(buf, n, &d), 0);
	assert_int_equal(d.type, VIP_CL_MSG_NEIGH);
	assert_string_equal(d.name, "node-1");
	assert_int_equal(d.n_neighs, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(d.neighs[i].op, e[i].op);
		assert_true(vip_addr_equal(&d.neighs[i].addr, &e[i].addr));
		assert_string_equal(d.neighs[i].ifname, e[i].ifname);
		assert_memory_equal(d.neighs[i].mac, e[i].mac, 6);
		assert_int_equal(d.neighs[i].age_s, e[i].age_s);
	}
	assert_string_equal(vip_cl_msg_type_to_string(d.type), "NEIGH");
	vip_cl_msg_clear(&d);
	/* every truncation is refused (the length in the header is fixed up to match) */
	for (size_t cut = 0; cut < n; cut++) {
		uint8_t *t = malloc(cut + 1);
		memcpy(t, buf, cut);
		if (cut >= 8) {
			t[4] = (uint8_t)(cut >> 24), t[5] = (uint8_t)(cut >> 16);
			t[6] = (uint8_t)(cut >> 8), t[7] = (uint8_t)cut;
		}
		assert_int_equal(vip_cl_msg_decode(t, cut, &d), -EBADMSG);
		free(t);
	}
	/* another version */
	buf[2] = VIP_CL_PROTO_VERSION + 1;
	assert_int_equal(vip_cl_msg_decode(buf, n, &d), -EPROTONOSUPPORT);
	assert_int_equal(d.version, VIP_CL_PROTO_VERSION + 1);
	free(buf);
}

/* Encode the sample, change the byte at off to v, decode: the result. */
static int mutate(size_t off, uint8_t v)
{
	struct vip_cl_neigh e[3];
	struct vip_cl_msg m, d;
	uint8_t *buf;
	size_t n;

	sample(&m, e);
	assert_int_equal(vip_cl_msg_encode(&m, &buf, &n), 0);
	buf[off] = v;
	int r = vip_cl_msg_decode(buf, n, &d);
	if (r == 0)
		vip_cl_msg_clear(&d);
	free(buf);
	return r;
}

static void test_malformed(void **state)
{
	(void)state;
	const size_t name = 8, count = 15, e0 = 19;

	assert_int_equal(mutate(name, 0), -EBADMSG);                 /* empty node name */
	assert_int_equal(mutate(name + 1, ' '), -EBADMSG);           /* a space in it */
	assert_int_equal(mutate(count + 3, 0), -EBADMSG);            /* no entries */
	assert_int_equal(mutate(count + 3, 4), -EBADMSG);            /* more than there are */
	assert_int_equal(mutate(count + 3, 2), -EBADMSG);            /* fewer: trailing bytes */
	assert_int_equal(mutate(e0, 0), -EBADMSG);                   /* op 0 */
	assert_int_equal(mutate(e0, 3), -EBADMSG);                   /* op 3 */
	assert_int_equal(mutate(e0, VIP_CL_NEIGH_FORGET), -EBADMSG); /* forget with a MAC after it */
	assert_int_equal(mutate(e0 + 1, 5), -EBADMSG);               /* family */
	assert_int_equal(mutate(e0 + 6, 0), -EBADMSG);               /* empty interface name */
	assert_int_equal(mutate(e0 + 6, 16), -EBADMSG);              /* longer than IFNAMSIZ allows */
	assert_int_equal(mutate(e0 + 7, 0x7f), -EBADMSG);            /* not printable */
	assert_int_equal(mutate(e0 + 12, 0xff), 0);                  /* any MAC */

	/* a count above the bound is refused before anything is allocated */
	uint8_t big[8 + 2 + 4 + VIP_CL_AUTH_LEN] = { 'V', 'C', VIP_CL_PROTO_VERSION, VIP_CL_MSG_NEIGH };
	size_t n = sizeof(big);
	big[7] = (uint8_t)n;
	big[8] = 1, big[9] = 'x';
	big[12] = (VIP_CL_NEIGH_MAX + 1) >> 8, big[13] = (VIP_CL_NEIGH_MAX + 1) & 0xff;
	struct vip_cl_msg d;
	assert_int_equal(vip_cl_msg_decode(big, n, &d), -EBADMSG);
}

static void test_encode_refuses(void **state)
{
	(void)state;
	struct vip_cl_neigh e[3];
	struct vip_cl_msg m;
	uint8_t *buf = NULL;
	size_t n;

	sample(&m, e);
	m.n_neighs = 0;
	assert_int_equal(vip_cl_msg_encode(&m, &buf, &n), -EINVAL);
	m.n_neighs = VIP_CL_NEIGH_MAX + 1;
	assert_int_equal(vip_cl_msg_encode(&m, &buf, &n), -EINVAL);
	sample(&m, e);
	e[1].op = 7;
	assert_int_equal(vip_cl_msg_encode(&m, &buf, &n), -EINVAL);
	sample(&m, e);
	e[2].ifname[0] = '\0';
	assert_int_equal(vip_cl_msg_encode(&m, &buf, &n), -EINVAL);
	sample(&m, e);
	e[0].addr.family = 0;
	assert_int_equal(vip_cl_msg_encode(&m, &buf, &n), -EINVAL);
	sample(&m, e);
	m.name[0] = '\0';
	assert_int_equal(vip_cl_msg_encode(&m, &buf, &n), -EINVAL);
	assert_null(buf);
	/* the most a message carries, in IPv6 with the longest names, stays well under corosync's limit */
	struct vip_cl_neigh *many = calloc(VIP_CL_NEIGH_MAX, sizeof(*many));
	for (size_t i = 0; i < VIP_CL_NEIGH_MAX; i++)
		many[i] = E(VIP_CL_NEIGH_SEEN, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "abcdefghijklmno", 1,
			    1);
	m = (struct vip_cl_msg){ .type = VIP_CL_MSG_NEIGH, .neighs = many, .n_neighs = VIP_CL_NEIGH_MAX };
	memset(m.name, 'n', VIP_CL_NAME_MAX);
	assert_int_equal(vip_cl_msg_encode(&m, &buf, &n), 0);
	assert_true(n < 24 * 1024);
	free(buf);
	free(many);
}

struct neigh_sink {
	struct cltest_sink s;
	size_t n;
	char name[VIP_CL_NAME_MAX + 1];
	size_t entries;
};

static void on_neigh(void *data, const struct vip_cl_msg *m)
{
	struct neigh_sink *ns = data;

	ns->n++;
	ns->entries += m->n_neighs;
	snprintf(ns->name, sizeof(ns->name), "%s", m->name);
}

static int drain(struct vip_cl_proto *p, struct neigh_sink *ns)
{
	const struct vip_cl_sink s = { .send = cltest_sink_send,
				       .hold = cltest_sink_hold,
				       .release = cltest_sink_release,
				       .data = ns,
				       .neigh = on_neigh };

	return vip_cl_proto_drain(p, &s, NULL);
}

static const char *pref(size_t i, void *data)
{
	(void)i, (void)data;
	return NULL;
}

static void test_proto_delivers(void **state)
{
	(void)state;
	struct vipd_config *cfg = cltest_config("n1", 2, pref, NULL);
	struct vip_cl_proto *p = NULL;
	struct vip_cl_member m[3] = { { .nodeid = 1, .pid = 10 },
				      { .nodeid = 2, .pid = 20 },
				      { .nodeid = 3, .pid = 30 } };
	struct vip_cl_view v = { .members = m, .n_members = 2, .self = 0 };
	struct neigh_sink ns = { .s = { 0 } };
	struct vip_cl_neigh e[3];
	struct vip_cl_msg msg;
	uint8_t *buf;
	size_t n;

	assert_int_equal(vip_cl_proto_new(cfg, &p), 0);
	ns.s.p = p;
	vip_cl_proto_on_quorum(p, true, 1);
	vip_cl_proto_on_view(p, &v, 1);
	drain(p, &ns);
	size_t before = ns.s.n_sent;

	/* ours goes out like any message, bounded while unsent */
	sample(&msg, e);
	snprintf(msg.name, sizeof(msg.name), "n1");
	ns.s.send_result = -EAGAIN;
	for (int i = 0; i < VIP_CL_NEIGH_QUEUE_MAX; i++)
		assert_int_equal(vip_cl_proto_send_neigh(p, &msg), 0);
	assert_int_equal(vip_cl_proto_send_neigh(p, &msg), -EAGAIN);
	struct vip_cl_msg state_msg = { .type = VIP_CL_MSG_STATE };
	assert_int_equal(vip_cl_proto_send_neigh(p, &state_msg), -EINVAL);
	ns.s.send_result = 0;
	drain(p, &ns);
	assert_int_equal(ns.s.n_sent - before, VIP_CL_NEIGH_QUEUE_MAX);
	assert_int_equal(vip_cl_proto_send_neigh(p, &msg), 0);

	/* a peer's is handed to sink.neigh once, at the next drain */
	snprintf(msg.name, sizeof(msg.name), "n2");
	assert_int_equal(vip_cl_msg_encode(&msg, &buf, &n), 0);
	assert_int_equal(vip_cl_proto_on_message(p, &m[1], buf, n, 2), 0);
	drain(p, &ns);
	assert_int_equal(ns.n, 1);
	assert_int_equal(ns.entries, 3);
	assert_string_equal(ns.name, "n2");
	drain(p, &ns);
	assert_int_equal(ns.n, 1);
	/* from a process not in the view: ignored */
	assert_int_equal(vip_cl_proto_on_message(p, &m[2], buf, n, 2), 0);
	drain(p, &ns);
	assert_int_equal(ns.n, 1);
	free(buf);
	struct vip_cl_status st;
	vip_cl_proto_status(p, &st);
	assert_int_equal(st.n_neigh, 1);
	/* a sink without neigh drops them */
	snprintf(msg.name, sizeof(msg.name), "n2");
	assert_int_equal(vip_cl_msg_encode(&msg, &buf, &n), 0);
	assert_int_equal(vip_cl_proto_on_message(p, &m[1], buf, n, 2), 0);
	free(buf);
	cltest_drain(p, &ns.s, NULL);
	drain(p, &ns);
	assert_int_equal(ns.n, 1);

	cltest_sink_free(&ns.s);
	vip_cl_proto_free(p);
	cltest_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_proto_delivers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * The cluster message codec: round trips of every type, and every way a
 * record can be malformed (each must be refused with -EBADMSG, another
 * version with -EPROTONOSUPPORT).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cl-testutil.h"

/* Every message ends with the authentication trailer (the codec writes it zero). */
#define T VIP_CL_AUTH_LEN

static struct vip_addr A(const char *s) {
	struct vip_addr a;
	assert_int_equal(vip_addr_from_string(s, &a), 0);
	return a;
}

static void
encode(const struct vip_cl_msg *m, uint8_t **d, size_t *n)
{
	assert_int_equal(vip_cl_msg_encode(m, d, n), 0);
}

static void sample_state(struct vip_cl_msg *m, struct vip_cl_record *rec)
{
	*m = (struct vip_cl_msg){ .type = VIP_CL_MSG_STATE,
				  .mature = true,
				  .view = 0x1122334455667788ull,
				  .serial = 0xa1b2c3d4u };
	strcpy(m->name, "node-1.example");
	rec[0] = (struct vip_cl_record){ .addr = A("198.51.100.1"),
					 .flags = VIP_CL_R_CONFIGURED | VIP_CL_R_HELD,
					 .binding_digest = 0x0102030405060708ull,
					 .services_digest = 0xfffefdfcfbfaf9f8ull };
	rec[1] = (struct vip_cl_record){ .addr = A("198.51.100.40"),
					 .flags = VIP_CL_R_CONFIGURED | VIP_CL_R_FOLLOW,
					 .follow = A("198.51.100.1") };
	rec[2] = (struct vip_cl_record){ .addr = A("2001:db8::5"),
					 .flags = VIP_CL_R_CONFIGURED | VIP_CL_R_PREFER | VIP_CL_R_DOWN |
						  VIP_CL_R_HELD | VIP_CL_R_RELEASING };
	m->records = rec;
	m->n_records = 3;
}

static void test_state_roundtrip(void **state)
{
	(void)state;
	struct vip_cl_record rec[3];
	struct vip_cl_msg m, d;
	uint8_t *buf;
	size_t n;
	sample_state(&m, rec);
	encode(&m, &buf, &n);
	/* header (8) + flags, name (1+14), view (8), serial (4), count (4) + 3 records, no ghost (4), trailer */
	assert_int_equal(n, 8 + 1 + 15 + 8 + 4 + 4 + (1 + 5 + 16) + (1 + 5 + 16 + 5) + (1 + 17 + 16) + 4 + T);
	for (size_t k = n - T; k < n; k++)
		assert_int_equal(buf[k], 0);
	assert_int_equal(buf[0], 'V');
	assert_int_equal(buf[1], 'C');
	assert_int_equal(buf[2], VIP_CL_PROTO_VERSION);
	assert_int_equal(buf[3], VIP_CL_MSG_STATE);
	assert_int_equal(buf[7], n); /* big-endian length */
	assert_int_equal(vip_cl_msg_decode(buf, n, &d), 0);
	assert_int_equal(d.type, VIP_CL_MSG_STATE);
	assert_true(d.mature);
	assert_string_equal(d.name, "node-1.example");
	assert_true(d.view == 0x1122334455667788ull);
	assert_int_equal(d.serial, 0xa1b2c3d4u);
	assert_int_equal(d.n_records, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_true(vip_addr_equal(&d.records[i].addr, &rec[i].addr));
		assert_int_equal(d.records[i].flags, rec[i].flags);
		assert_true(d.records[i].binding_digest == rec[i].binding_digest);
		assert_true(d.records[i].services_digest == rec[i].services_digest);
	}
	assert_true(vip_addr_equal(&d.records[1].follow, &rec[0].addr));
	vip_cl_msg_clear(&d);
	assert_null(d.records);
	/* every proper prefix is malformed */
	for (size_t k = 0; k < n; k++)
		assert_int_equal(vip_cl_msg_decode(buf, k, &d), -EBADMSG);
	free(buf);
}

static void test_other_roundtrips(void **state)
{
	(void)state;
	struct vip_addr addrs[2] = { A("198.51.100.7"), A("2001:db8::7") };
	struct vip_cl_msg rel = { .type = VIP_CL_MSG_RELEASED, .addrs = addrs, .n_addrs = 2 };
	struct vip_cl_msg mv = { .type = VIP_CL_MSG_MOVE, .addr = addrs[1] };
	struct vip_cl_msg bal = { .type = VIP_CL_MSG_BALANCE };
	struct vip_cl_msg d;
	uint8_t *buf;
	size_t n;
	strcpy(mv.name, "node2");

	encode(&rel, &buf, &n);
	assert_int_equal(vip_cl_msg_decode(buf, n, &d), 0);
	assert_int_equal(d.n_addrs, 2);
	assert_true(vip_addr_equal(&d.addrs[1], &addrs[1]));
	vip_cl_msg_clear(&d);
	free(buf);

	encode(&mv, &buf, &n);
	assert_int_equal(vip_cl_msg_decode(buf, n, &d), 0);
	assert_int_equal(d.type, VIP_CL_MSG_MOVE);
	assert_string_equal(d.name, "node2");
	assert_true(vip_addr_equal(&d.addr, &addrs[1]));
	vip_cl_msg_clear(&d);
	free(buf);

	encode(&bal, &buf, &n);
	assert_int_equal(n, 9 + T);
	assert_int_equal(vip_cl_msg_decode(buf, n, &d), 0);
	assert_int_equal(d.type, VIP_CL_MSG_BALANCE);
	buf[8] = 1; /* reserved byte */
	assert_int_equal(vip_cl_msg_decode(buf, n, &d), -EBADMSG);
	free(buf);
}

/* Encode the sample, apply one corruption at offset off, expect err. */
static void corrupt(size_t off, uint8_t val, int err)
{
	struct vip_cl_record rec[3];
	struct vip_cl_msg m, d;
	uint8_t *buf;
	size_t n;
	sample_state(&m, rec);
	encode(&m, &buf, &n);
	assert_true(off < n);
	buf[off] = val;
	assert_int_equal(vip_cl_msg_decode(buf, n, &d), err);
	free(buf);
}

static void test_malformed(void **state)
{
	(void)state;
	const size_t name = 9, count = 9 + 15 + 12, rec0 = count + 4;
	corrupt(0, 'X', -EBADMSG);                /* magic */
	corrupt(2, 1, -EPROTONOSUPPORT);          /* another version (1: no trailer): header only */
	corrupt(3, 9, -EBADMSG);                  /* unknown type */
	corrupt(3, VIP_CL_MSG_BALANCE, -EBADMSG); /* right length, wrong type */
	corrupt(7, 0, -EBADMSG);                  /* length field */
	corrupt(8, 8, -EBADMSG);                  /* reserved STATE flag (bits 1, 2: standby, unhealthy) */
	corrupt(name, 0, -EBADMSG);               /* empty name */
	corrupt(name, 200, -EBADMSG);             /* name longer than the message */
	corrupt(name + 1, ' ', -EBADMSG);         /* unprintable name */
	corrupt(count + 3, 4, -EBADMSG);          /* record count too big */
	corrupt(count + 3, 2, -EBADMSG);          /* too small: trailing bytes */
	corrupt(count, 0xff, -EBADMSG);           /* absurd count, no allocation */
	corrupt(rec0, 0x80, -EBADMSG);            /* unknown record flag */
	corrupt(rec0 + 1, 5, -EBADMSG);           /* unknown family */
	corrupt(rec0 + 1 + 4, 41, -EBADMSG);      /* 198.51.100.41 after .40: order */

	/* trailing byte */
	struct vip_cl_msg bal = { .type = VIP_CL_MSG_BALANCE }, d;
	uint8_t *buf;
	size_t n;
	encode(&bal, &buf, &n);
	uint8_t longer[16 + T] = { 0 };
	memcpy(longer, buf, n);
	longer[n] = 0;
	longer[7] = (uint8_t)(n + 1);
	assert_int_equal(vip_cl_msg_decode(longer, n + 1, &d), -EBADMSG);
	/* a body that runs into the trailer, or no room for it */
	longer[7] = (uint8_t)(n - 1);
	assert_int_equal(vip_cl_msg_decode(longer, n - 1, &d), -EBADMSG);
	const uint8_t no_trailer[] = { 'V', 'C', VIP_CL_PROTO_VERSION, 4, 0, 0, 0, 9, 0 };
	assert_int_equal(vip_cl_msg_decode(no_trailer, sizeof(no_trailer), &d), -EBADMSG);
	free(buf);
	/* RELEASED with no address */
	uint8_t empty_rel[12 + T] = { 'V', 'C', VIP_CL_PROTO_VERSION, 2, 0, 0, 0, 12 + T, 0, 0, 0, 0 };
	assert_int_equal(vip_cl_msg_decode(empty_rel, sizeof(empty_rel), &d), -EBADMSG);
	uint8_t big_rel[12 + T] = {
		'V', 'C', VIP_CL_PROTO_VERSION, 2, 0, 0, 0, 12 + T, 0x7f, 0xff, 0xff, 0xff
	};
	assert_int_equal(vip_cl_msg_decode(big_rel, sizeof(big_rel), &d), -EBADMSG);
	assert_int_equal(vip_cl_msg_decode(NULL, 0, &d), -EBADMSG);
	/* version 7 with a nonsense body is still "another version" */
	const uint8_t v7[] = { 'V', 'C', 7, 99, 1, 2, 3, 4, 5 };
	assert_int_equal(vip_cl_msg_decode(v7, sizeof(v7), &d), -EPROTONOSUPPORT);
	assert_int_equal(d.version, 7);
}

static void test_encode_refuses(void **state)
{
	(void)state;
	struct vip_cl_record rec[3];
	struct vip_cl_msg m;
	uint8_t *buf = NULL;
	size_t n;
	sample_state(&m, rec);
	m.name[0] = '\0';
	assert_int_equal(vip_cl_msg_encode(&m, &buf, &n), -EINVAL);
	sample_state(&m, rec);
	rec[1].addr = rec[0].addr; /* not increasing */
	assert_int_equal(vip_cl_msg_encode(&m, &buf, &n), -EINVAL);
	sample_state(&m, rec);
	rec[0].addr.family = 99;
	assert_int_equal(vip_cl_msg_encode(&m, &buf, &n), -EINVAL);
	struct vip_cl_msg rel = { .type = VIP_CL_MSG_RELEASED };
	assert_int_equal(vip_cl_msg_encode(&rel, &buf, &n), -EINVAL);
	struct vip_cl_msg bad = { .type = 42 };
	assert_int_equal(vip_cl_msg_encode(&bad, &buf, &n), -EINVAL);
	assert_null(buf);
	assert_string_equal(vip_cl_msg_type_to_string(VIP_CL_MSG_MOVE), "MOVE");
	assert_string_equal(vip_cl_msg_type_to_string(42), "unknown");
}

/* CLOSE: the view and, per silent member, its last known records. */
static void test_close(void **state)
{
	(void)state;
	struct vip_cl_record rec[3];
	struct vip_cl_msg st, m = { .type = VIP_CL_MSG_CLOSE, .view = 0x0102030405060708ull }, d;
	struct vip_cl_peer pe[2] = {
		{ .nodeid = 2, .pid = 7, .name = "node-2" },
		{ .nodeid = 2, .pid = 9, .monitor = true, .name = "node-2" },
	};
	uint8_t *buf;
	size_t n;

	sample_state(&st, rec);
	pe[0].records = rec;
	pe[0].n_records = 3;
	m.peers = pe;
	m.n_peers = 2;
	encode(&m, &buf, &n);
	/* header, view, count, 2 x (nodeid, pid, flags, name, count) + the 3 records */
	assert_int_equal(n, 8 + 8 + 4 + 2 * (4 + 4 + 1 + 7 + 4) + (1 + 5 + 16) + (1 + 5 + 16 + 5) +
				    (1 + 17 + 16) + T);
	assert_int_equal(vip_cl_msg_decode(buf, n, &d), 0);
	assert_int_equal(d.type, VIP_CL_MSG_CLOSE);
	assert_true(d.view == m.view);
	assert_int_equal(d.n_peers, 2);
	assert_int_equal(d.peers[0].pid, 7);
	assert_false(d.peers[0].monitor);
	assert_string_equal(d.peers[0].name, "node-2");
	assert_int_equal(d.peers[0].n_records, 3);
	assert_true(vip_addr_equal(&d.peers[0].records[2].addr, &rec[2].addr));
	assert_true(d.peers[1].monitor);
	assert_int_equal(d.peers[1].n_records, 0);
	vip_cl_msg_clear(&d);
	for (size_t k = 0; k < n; k++)
		assert_int_equal(vip_cl_msg_decode(buf, k, &d), -EBADMSG);
	const size_t peer1 = n - T - (4 + 4 + 1 + 7 + 4);
	buf[peer1 + 7] = 6; /* pid 6 < 7: not increasing */
	assert_int_equal(vip_cl_msg_decode(buf, n, &d), -EBADMSG);
	buf[peer1 + 7] = 9;
	buf[peer1 + 8] = 3; /* unknown peer flag */
	assert_int_equal(vip_cl_msg_decode(buf, n, &d), -EBADMSG);
	buf[peer1 + 8] = 1;
	buf[8 + 8 + 3] = 3; /* more peers than bytes */
	assert_int_equal(vip_cl_msg_decode(buf, n, &d), -EBADMSG);
	buf[8 + 8 + 3] = 2;
	assert_int_equal(vip_cl_msg_decode(buf, n, &d), 0);
	vip_cl_msg_clear(&d);
	free(buf);
	/* no silent member known: an empty list */
	m.n_peers = 0;
	encode(&m, &buf, &n);
	assert_int_equal(n, 8 + 8 + 4 + T);
	assert_int_equal(vip_cl_msg_decode(buf, n, &d), 0);
	assert_int_equal(d.n_peers, 0);
	vip_cl_msg_clear(&d);
	free(buf);
	/* the encoder refuses what the decoder would */
	m.n_peers = 2;
	pe[1].pid = 7;
	assert_int_equal(vip_cl_msg_encode(&m, &buf, &n), -EINVAL);
	pe[1].pid = 9;
	pe[1].name[0] = '\0';
	assert_int_equal(vip_cl_msg_encode(&m, &buf, &n), -EINVAL);
	assert_string_equal(vip_cl_msg_type_to_string(VIP_CL_MSG_CLOSE), "CLOSE");

	/* a STATE with a ghost */
	struct vip_cl_record held = { .addr = A("198.51.100.9"),
				      .flags = VIP_CL_R_HELD | VIP_CL_R_RELEASING };
	struct vip_cl_peer ghost = { .nodeid = 4,
				     .pid = 44,
				     .name = "node-4",
				     .records = &held,
				     .n_records = 1 };
	sample_state(&st, rec);
	st.peers = &ghost;
	st.n_peers = 1;
	encode(&st, &buf, &n);
	assert_int_equal(vip_cl_msg_decode(buf, n, &d), 0);
	assert_int_equal(d.n_peers, 1);
	assert_int_equal(d.peers[0].pid, 44);
	assert_int_equal(d.peers[0].records[0].flags, VIP_CL_R_HELD | VIP_CL_R_RELEASING);
	vip_cl_msg_clear(&d);
	buf[n - T - 22 - 4 - 7 - 1] = 2; /* the ghost's flags: reserved bit */
	assert_int_equal(vip_cl_msg_decode(buf, n, &d), -EBADMSG);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_roundtrip), cmocka_unit_test(test_other_roundtrips),
		cmocka_unit_test(test_malformed),       cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_close),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * What the protocol's per-DuraVIP state costs (docs/protocol.md, "In
 * memory"): every member's records of an address share one body, so a
 * member's STATE with the group's configuration costs 4 bytes a record;
 * the counts of vip_cl_proto_mem are the bytes the structures hold; bodies
 * are given back, so STATE after STATE does not grow them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cl-prototest.h"
#include "proto-internal.h"

#define N 300

static const char *pref_n1(size_t i, void *data)
{
	(void)i;
	(void)data;
	return "n1";
}

/* Three members of one view with one configuration: a[k] is member k's protocol. */
struct trio {
	struct vipd_config *cfg[3];
	struct vip_cl_proto *p[3];
	struct vip_cl_member id[3];
	uint8_t *state[3]; /* each one's first STATE of the view */
	size_t len[3];
};

static void trio_init(struct trio *t)
{
	static const char *names[] = { "n1", "n2", "n3" };

	for (int k = 0; k < 3; k++)
		t->id[k] = (struct vip_cl_member){ .nodeid = (uint32_t)k + 1, .pid = 100 };
	for (int k = 0; k < 3; k++) {
		struct vip_cl_view v = { .members = t->id, .n_members = 3, .self = k };
		t->cfg[k] = cltest_config(names[k], N, pref_n1, NULL);
		assert_int_equal(vip_cl_proto_new(t->cfg[k], &t->p[k]), 0);
		assert_int_equal(vip_cl_proto_on_quorum(t->p[k], true, 1), 0);
		assert_int_equal(vip_cl_proto_on_view(t->p[k], &v, 1), 0);
		t->state[k] = take_send(t->p[k], &t->len[k]);
		assert_non_null(t->state[k]);
	}
}

static void trio_free(struct trio *t)
{
	for (int k = 0; k < 3; k++) {
		free(t->state[k]);
		vip_cl_proto_free(t->p[k]);
		cltest_config_free(t->cfg[k]);
	}
}

static size_t records_bytes(const struct vip_cl_proto *p)
{
	struct vip_cl_mem mem;

	vip_cl_proto_mem(p, &mem);
	return mem.records;
}

/* The others' records of the same configuration take no new body: 4 bytes a record. */
static void test_records_shared(void **state)
{
	(void)state;
	struct trio t;
	struct vip_cl_mem mem;

	trio_init(&t);
	struct vip_cl_proto *p = t.p[0];
	assert_int_equal(vip_cl_proto_on_message(p, &t.id[0], t.state[0], t.len[0], 2), 0);
	size_t own = records_bytes(p);
	assert_true(own >= N * (sizeof(struct prec) + sizeof(struct pbody)));
	assert_int_equal(vip_cl_proto_on_message(p, &t.id[1], t.state[1], t.len[1], 3), 0);
	assert_int_equal(records_bytes(p), own + N * sizeof(struct prec));
	assert_int_equal(vip_cl_proto_on_message(p, &t.id[2], t.state[2], t.len[2], 4), 0);
	assert_int_equal(records_bytes(p), own + 2 * N * sizeof(struct prec));
	/* one body per address: the local list, the table and three members' records share it */
	assert_int_equal(p->bodies.live, N);
	/* the round is complete, every address in the table */
	assert_int_equal(vip_cl_proto_n_vips(p), N);
	vip_cl_proto_mem(p, &mem);
	assert_int_equal(mem.table, N * sizeof(struct pvip));
	/* one preference, "n1", kept once */
	assert_int_equal(mem.local, N * sizeof(struct lvip) + sizeof(char *) + sizeof("n1"));
	assert_int_equal(mem.records, vip_cl_bodies_mem(p) + 3 * N * sizeof(struct prec));
	/* far below three members of the wire's records */
	assert_true(mem.records < 3 * N * sizeof(struct vip_cl_record) / 2);
	trio_free(&t);
}

/* A member's STATE again and again: its old records give their bodies back. */
static void test_bodies_given_back(void **state)
{
	(void)state;
	struct trio t;

	trio_init(&t);
	struct vip_cl_proto *p = t.p[0];
	for (int k = 0; k < 3; k++)
		assert_int_equal(vip_cl_proto_on_message(p, &t.id[k], t.state[k], t.len[k], 2), 0);
	size_t before = records_bytes(p);
	uint32_t live = p->bodies.live;
	/* n2 reloads a configuration with other services: N new bodies while its records hold them */
	struct vipd_config *other = cltest_config("n2", N, pref_n1, NULL);
	for (size_t i = 0; i < N; i++)
		other->duravips[i].services[0][0] = 'B';
	assert_int_equal(vip_cl_proto_reconfigure(t.p[1], other, 10), 0);
	size_t len = 0;
	uint8_t *msg = take_send(t.p[1], &len);
	assert_non_null(msg);
	assert_int_equal(vip_cl_proto_on_message(p, &t.id[1], msg, len, 11), 0);
	assert_int_equal(p->bodies.live, live + N);
	free(msg);
	/* and back: the bodies go again, their slots are reused */
	assert_int_equal(vip_cl_proto_reconfigure(t.p[1], t.cfg[1], 12), 0);
	msg = take_send(t.p[1], &len);
	assert_non_null(msg);
	assert_int_equal(vip_cl_proto_on_message(p, &t.id[1], msg, len, 13), 0);
	free(msg);
	assert_int_equal(p->bodies.live, live);
	size_t after = records_bytes(p);
	for (int round = 0; round < 5; round++) {
		assert_int_equal(vip_cl_proto_reconfigure(t.p[1], round % 2 ? t.cfg[1] : other, 20 + round),
				 0);
		msg = take_send(t.p[1], &len);
		assert_int_equal(vip_cl_proto_on_message(p, &t.id[1], msg, len, 20 + round), 0);
		free(msg);
	}
	assert_int_equal(records_bytes(p), after);
	assert_true(after >= before);
	cltest_config_free(other);
	trio_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_shared),
		cmocka_unit_test(test_bodies_given_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

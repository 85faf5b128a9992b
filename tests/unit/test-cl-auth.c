/* SPDX-License-Identifier: MIT */
/*
 * Cluster message authentication (cluster/auth.c, cluster/sha256.c,
 * docs/protocol.md "Authentication"):
 *   - SHA-256 against the FIPS 180-4 examples, HMAC-SHA-256 against the
 *     test cases of RFC 4231;
 *   - the key file (owner, mode, size, symbolic link) and --genkey's file;
 *   - seal and verify: a changed byte, another sender, another key;
 *   - the protocol: a process without the key (its own STATE, a copy of a
 *     member's STATE, MOVEs naming itself) changes nothing, is never given
 *     anything and does not stall the round; a replayed sequence number, a
 *     message sealed in another view and one delivered as another sender
 *     are dropped and counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cl-testutil.h"

static void hex(const char *s, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(s), 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void assert_digest(const uint8_t *got, const char *want_hex)
{
	uint8_t want[VIP_CL_SHA256_LEN];
	hex(want_hex, want, sizeof(want));
	assert_memory_equal(got, want, sizeof(want));
}

/* FIPS 180-4 examples (and the one-million-'a' message). */
static void test_sha256_vectors(void **state)
{
	(void)state;
	uint8_t d[VIP_CL_SHA256_LEN];
	vip_cl_sha256("", 0, d);
	assert_digest(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	vip_cl_sha256("abc", 3, d);
	assert_digest(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	vip_cl_sha256(two, strlen(two), d);
	assert_digest(d, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	char *million = malloc(1000000);
	assert_non_null(million);
	memset(million, 'a', 1000000);
	vip_cl_sha256(million, 1000000, d);
	assert_digest(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(million);
}

/* RFC 4231 test cases 1, 2, 3, 4, 6 and 7 (5 is a truncated output). */
static void test_hmac_vectors(void **state)
{
	(void)state;
	uint8_t key[131], data[160], d[VIP_CL_SHA256_LEN];

	memset(key, 0x0b, 20);
	vip_cl_hmac_sha256(key, 20, "Hi There", 8, d);
	assert_digest(d, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

	const char *q = "what do ya want for nothing?";
	vip_cl_hmac_sha256((const uint8_t *)"Jefe", 4, q, strlen(q), d);
	assert_digest(d, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

	memset(key, 0xaa, 20);
	memset(data, 0xdd, 50);
	vip_cl_hmac_sha256(key, 20, data, 50, d);
	assert_digest(d, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");

	for (int i = 0; i < 25; i++)
		key[i] = (uint8_t)(i + 1);
	memset(data, 0xcd, 50);
	vip_cl_hmac_sha256(key, 25, data, 50, d);
	assert_digest(d, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");

	memset(key, 0xaa, 131);
	const char *t6 = "Test Using Larger Than Block-Size Key - Hash Key First";
	vip_cl_hmac_sha256(key, 131, t6, strlen(t6), d);
	assert_digest(d, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");

	const char *t7 = "This is a test using a larger than block-size key and a larger than "
			 "block-size data. The key needs to be hashed before being used by the HMAC "
			 "algorithm.";
	vip_cl_hmac_sha256(key, 131, t7, strlen(t7), d);
	assert_digest(d, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

static void write_file(const char *path, size_t n, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		fputc((int)(i * 7 + 1), f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_key_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/ha-auth-XXXXXX", path[128], link[128], gen[128];
	struct vip_cl_key *k = NULL;
	uint32_t me = (uint32_t)geteuid();
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/key", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	snprintf(gen, sizeof(gen), "%s/gen", dir);

	assert_int_equal(vip_cl_key_load(path, me, &k), -ENOENT);
	write_file(path, 32, 0600);
	assert_int_equal(vip_cl_key_load(path, me, &k), 0);
	vip_cl_key_free(k);
	k = NULL;
	assert_int_equal(vip_cl_key_load(path, me + 1, &k), -EPERM); /* another owner */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(vip_cl_key_load(path, me, &k), -EPERM); /* group may read */
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(vip_cl_key_load(path, me, &k), -EPERM); /* others may read */
	write_file(path, 31, 0600);
	assert_int_equal(vip_cl_key_load(path, me, &k), -EMSGSIZE); /* too short */
	write_file(path, VIP_CL_KEY_MAX + 1, 0600);
	assert_int_equal(vip_cl_key_load(path, me, &k), -EMSGSIZE); /* too long */
	write_file(path, VIP_CL_KEY_MAX, 0400);
	assert_int_equal(vip_cl_key_load(path, me, &k), 0);
	vip_cl_key_free(k);
	k = NULL;
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(vip_cl_key_load(link, me, &k), -ELOOP);
	assert_int_equal(vip_cl_key_load(dir, me, &k), -EINVAL); /* not a regular file */
	assert_null(k);

	/* --genkey: 32 random bytes, mode 0600, never over an existing file or through a link */
	assert_int_equal(vip_cl_key_generate(gen), 0);
	assert_int_equal(stat(gen, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, VIP_CL_KEY_MIN);
	assert_int_equal(vip_cl_key_load(gen, me, &k), 0);
	vip_cl_key_free(k);
	assert_int_equal(vip_cl_key_generate(gen), -EEXIST);
	assert_int_equal(vip_cl_key_generate(link), -EEXIST);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, VIP_CL_KEY_MAX); /* the link's target is untouched */

	unlink(gen);
	unlink(link);
	unlink(path);
	rmdir(dir);
}

static struct vip_cl_key *key_of(uint8_t fill)
{
	uint8_t b[VIP_CL_KEY_MIN];
	struct vip_cl_key *k;
	memset(b, fill, sizeof(b));
	assert_int_equal(vip_cl_key_new(b, sizeof(b), &k), 0);
	return k;
}

static void test_seal_verify(void **state)
{
	(void)state;
	struct vip_cl_key *k = key_of(1), *other = key_of(2);
	struct vip_cl_member a = { .nodeid = 1, .pid = 100 }, b = { .nodeid = 2, .pid = 100 };
	struct vip_cl_msg m = { .type = VIP_CL_MSG_MOVE, .addr = cltest_addr(0, 1) };
	struct vip_cl_auth_info ai;
	uint8_t *buf;
	size_t n;
	uint8_t short_key[VIP_CL_KEY_MIN - 1] = { 0 };
	struct vip_cl_key *none = NULL;

	assert_int_equal(vip_cl_key_new(short_key, sizeof(short_key), &none), -EMSGSIZE);
	strcpy(m.name, "node-b");
	assert_int_equal(vip_cl_msg_encode(&m, &buf, &n), 0);
	assert_int_equal(vip_cl_auth_seal(k, &a, 0x1111, 7, buf, n), 0);
	assert_int_equal(vip_cl_auth_verify(k, &a, buf, n, &ai), 0);
	assert_true(ai.view == 0x1111);
	assert_true(ai.seq == 7);
	/* the codec still reads the body behind the trailer */
	struct vip_cl_msg d;
	assert_int_equal(vip_cl_msg_decode(buf, n, &d), 0);
	assert_string_equal(d.name, "node-b");
	vip_cl_msg_clear(&d);

	assert_int_equal(vip_cl_auth_verify(k, &b, buf, n, &ai), -EACCES); /* another sender */
	struct vip_cl_member other_pid = { .nodeid = 1, .pid = 101 };
	assert_int_equal(vip_cl_auth_verify(k, &other_pid, buf, n, &ai), -EACCES);
	assert_int_equal(vip_cl_auth_verify(other, &a, buf, n, &ai), -EACCES); /* another key */
	assert_int_equal(vip_cl_auth_verify(NULL, &b, buf, n, &ai), 0);        /* no key: no check */
	/* every byte is covered: header, body, view, sequence and the MAC itself */
	for (size_t i = 0; i < n; i++) {
		buf[i] ^= 0x01;
		int r = vip_cl_auth_verify(k, &a, buf, n, &ai);
		assert_true(r == -EACCES || r == -EBADMSG || r == -EPROTONOSUPPORT);
		buf[i] ^= 0x01;
	}
	assert_int_equal(vip_cl_auth_verify(k, &a, buf, n, &ai), 0);
	/* no key: the MAC is zero and a keyed receiver refuses it */
	assert_int_equal(vip_cl_auth_seal(NULL, &a, 0x1111, 8, buf, n), 0);
	assert_int_equal(vip_cl_auth_verify(k, &a, buf, n, &ai), -EACCES);
	assert_int_equal(vip_cl_auth_verify(k, &a, buf, 10, &ai), -EBADMSG);
	buf[2] = 1;
	assert_int_equal(vip_cl_auth_verify(k, &a, buf, n, &ai), -EPROTONOSUPPORT);
	assert_int_equal(vip_cl_auth_seal(k, &a, 0, 0, buf, 10), -EINVAL);
	free(buf);
	vip_cl_key_free(k);
	vip_cl_key_free(other);
}

/* ---- the protocol: three members, A and B with the key, X without ---- */

#define NV 4
#define NM 3

struct grp {
	struct vip_cl_proto *p[NM];
	struct vipd_config *cfg[NM];
	struct vip_cl_member id[NM];
	struct cltest_sink s[NM];
	struct vip_cl_key *key;
	uint64_t now;
	int last_rc[NM]; /* what A saw for the last message of each sender */
};

static const char *prefer_x(size_t i, void *data)
{
	(void)i;
	(void)data;
	return "x";
}

static void grp_view(struct grp *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct vip_cl_view v = { .members = g->id, .n_members = n, .self = (ssize_t)i };
		assert_int_equal(vip_cl_proto_on_view(g->p[i], &v, g->now), 0);
	}
}

/* Deliver msg as multicast by member `from` to the first n members, in order. */
static void deliver(struct grp *g, size_t n, size_t from, const uint8_t *msg, size_t len)
{
	for (size_t j = 0; j < n; j++) {
		int r = vip_cl_proto_on_message(g->p[j], &g->id[from], msg, len, g->now);
		assert_true(r == 0 || r == -EACCES || r == -EALREADY);
		if (j == 0)
			g->last_rc[from] = r;
	}
}

/* Drain everyone and deliver in member order until nothing is sent. */
static void settle(struct grp *g, size_t n)
{
	for (int round = 0; round < 50; round++) {
		bool any = false;
		for (size_t i = 0; i < n; i++) {
			g->s[i].p = g->p[i];
			g->s[i].now = g->now;
			assert_true(cltest_drain(g->p[i], &g->s[i], NULL) >= 0);
			for (size_t k = 0; k < g->s[i].n_sent; k++)
				deliver(g, n, i, g->s[i].msg[k], g->s[i].len[k]);
			any |= g->s[i].n_sent > 0;
			cltest_sink_free(&g->s[i]);
		}
		if (!any)
			return;
		g->now += 10;
	}
	fail_msg("the group did not settle");
}

static void grp_setup(struct grp *g)
{
	static const char *const names[NM] = { "a", "b", "x" };
	*g = (struct grp){ .now = 1, .key = key_of(0x5a) };
	for (size_t i = 0; i < NM; i++) {
		g->cfg[i] = cltest_config(names[i], NV, i == 2 ? prefer_x : NULL, NULL);
		assert_int_equal(vip_cl_proto_new(g->cfg[i], &g->p[i]), 0);
		g->id[i] = (struct vip_cl_member){ .nodeid = (uint32_t)i + 1, .pid = 1000 + (uint32_t)i };
		if (i < 2)
			vip_cl_proto_set_key(g->p[i], g->key); /* x has no key */
		assert_int_equal(vip_cl_proto_on_quorum(g->p[i], true, g->now), 0);
	}
}

static void grp_teardown(struct grp *g)
{
	for (size_t i = 0; i < NM; i++) {
		vip_cl_proto_free(g->p[i]);
		cltest_config_free(g->cfg[i]);
	}
	vip_cl_key_free(g->key);
}

/* Every DuraVIP has an owner among a and b, and they want exactly those. */
static void assert_owned_by_ab(struct grp *g, const char *owners[NV])
{
	for (size_t k = 0; k < 2; k++) {
		assert_int_equal(vip_cl_proto_n_vips(g->p[k]), NV);
		for (size_t i = 0; i < NV; i++) {
			struct vip_cl_vip_info vi;
			assert_int_equal(vip_cl_proto_vip(g->p[k], i, &vi), 0);
			assert_non_null(vi.owner);
			assert_true(strcmp(vi.owner, "a") == 0 || strcmp(vi.owner, "b") == 0);
			if (k == 0)
				owners[i] = vi.owner;
			else
				assert_string_equal(owners[i], vi.owner);
		}
	}
	struct vip_addr *da, *db;
	assert_int_equal(vip_cl_proto_desired(g->p[0], &da) + vip_cl_proto_desired(g->p[1], &db), NV);
	free(da);
	free(db);
}

static void assert_x_left_out(struct grp *g, size_t k)
{
	struct vip_cl_member_info mi;
	assert_int_equal(vip_cl_proto_member(g->p[k], 2, &mi), 0);
	assert_true(mi.untrusted);
	assert_null(mi.name);
	assert_false(mi.waiting);
	assert_int_equal(mi.load, 0);
}

/*
 * A process without the key in the group: its STATE (preferring every
 * address), a copy of a's STATE and a MOVE of every address to itself
 * change nothing; the round closes without waiting for it.
 */
static void test_forged_changes_nothing(void **state)
{
	(void)state;
	struct grp g;
	struct vip_cl_status st;
	const char *owners[NV], *before[NV];

	grp_setup(&g);
	grp_view(&g, NM);
	/* a and b speak first: the round waits for x */
	for (size_t i = 0; i < 2; i++) {
		assert_true(cltest_drain(g.p[i], &g.s[i], NULL) >= 0);
		for (size_t k = 0; k < g.s[i].n_sent; k++)
			deliver(&g, NM, i, g.s[i].msg[k], g.s[i].len[k]);
		cltest_sink_free(&g.s[i]);
	}
	vip_cl_proto_status(g.p[0], &st);
	assert_false(st.round_complete);
	assert_true(st.authenticated);
	/* x's own STATE fails: x is left out and the round closes at once */
	settle(&g, NM);
	assert_int_equal(g.last_rc[2], -EACCES);
	for (size_t k = 0; k < 2; k++) {
		vip_cl_proto_status(g.p[k], &st);
		assert_true(st.round_complete);
		assert_true(st.n_auth_failed >= 1);
		assert_int_equal(st.n_auth_replayed, 0);
		assert_x_left_out(&g, k);
	}
	assert_owned_by_ab(&g, owners);
	memcpy(before, owners, sizeof(before));

	/* a copy of a's STATE (sealed by a, as x received it) multicast by x */
	size_t failed_before = st.n_auth_failed;
	assert_int_equal(vip_cl_proto_reconfigure(g.p[0], g.cfg[0], g.now), 0); /* a says STATE again */
	assert_true(cltest_drain(g.p[0], &g.s[0], NULL) >= 0);
	assert_int_equal(g.s[0].n_sent, 1);
	struct vip_cl_msg copy;
	assert_int_equal(vip_cl_msg_decode(g.s[0].msg[0], g.s[0].len[0], &copy), 0);
	assert_int_equal(copy.type, VIP_CL_MSG_STATE);
	vip_cl_msg_clear(&copy);
	deliver(&g, NM, 2, g.s[0].msg[0], g.s[0].len[0]);
	assert_int_equal(g.last_rc[2], -EACCES);
	deliver(&g, NM, 0, g.s[0].msg[0], g.s[0].len[0]); /* a's own, once: fine */
	assert_int_equal(g.last_rc[0], 0);
	cltest_sink_free(&g.s[0]);

	/* a MOVE of every address to x: sealed without a key, or with another key */
	struct vip_cl_key *wrong = key_of(0x77);
	for (size_t i = 0; i < NV; i++) {
		struct vip_cl_msg mv = { .type = VIP_CL_MSG_MOVE, .addr = cltest_addr(i, NV) };
		uint8_t *buf;
		size_t n;
		strcpy(mv.name, "x");
		assert_int_equal(vip_cl_msg_encode(&mv, &buf, &n), 0);
		vip_cl_auth_seal(i % 2 ? wrong : NULL, &g.id[2], 0, 1000 + i, buf, n);
		deliver(&g, NM, 2, buf, n);
		assert_int_equal(g.last_rc[2], -EACCES);
		free(buf);
	}
	vip_cl_key_free(wrong);
	settle(&g, NM);
	assert_owned_by_ab(&g, owners);
	assert_memory_equal(owners, before, sizeof(owners)); /* same strings, same owners */
	for (size_t i = 0; i < NV; i++)
		assert_string_equal(owners[i], before[i]);
	vip_cl_proto_status(g.p[1], &st);
	assert_true(st.n_auth_failed >= failed_before + 1 + NV);
	assert_int_equal(st.n_moves, 0);
	assert_x_left_out(&g, 1);
	grp_teardown(&g);
}

/* A replayed sequence number, a message sealed in another view, one delivered as another sender. */
static void test_replay_view_sender(void **state)
{
	(void)state;
	struct grp g;
	struct vip_cl_status st;
	const char *owners[NV];

	grp_setup(&g);
	grp_view(&g, 2); /* a and b only */
	settle(&g, 2);
	assert_owned_by_ab(&g, owners);

	/* b's BALANCE, delivered twice: the second is a replay */
	assert_int_equal(vip_cl_proto_request_balance(g.p[1], g.now), 0);
	assert_true(cltest_drain(g.p[1], &g.s[1], NULL) >= 0);
	assert_int_equal(g.s[1].n_sent, 1);
	deliver(&g, 2, 1, g.s[1].msg[0], g.s[1].len[0]);
	assert_int_equal(g.last_rc[1], 0);
	deliver(&g, 2, 1, g.s[1].msg[0], g.s[1].len[0]);
	assert_int_equal(g.last_rc[1], -EALREADY);
	vip_cl_proto_status(g.p[0], &st);
	assert_int_equal(st.n_auth_replayed, 1);
	assert_int_equal(st.n_balances, 1);
	cltest_sink_free(&g.s[1]);

	/* the same bytes delivered as a's: the MAC names b */
	assert_int_equal(vip_cl_proto_request_balance(g.p[1], g.now), 0);
	assert_true(cltest_drain(g.p[1], &g.s[1], NULL) >= 0);
	int r = vip_cl_proto_on_message(g.p[1], &g.id[0], g.s[1].msg[0], g.s[1].len[0], g.now);
	assert_int_equal(r, -EACCES);
	cltest_sink_free(&g.s[1]);

	/* a MOVE sealed by b in this view, delivered after the next view: ignored */
	struct vip_cl_vip_info vi;
	assert_int_equal(vip_cl_proto_vip(g.p[0], 0, &vi), 0);
	const char *to = strcmp(vi.owner, "a") == 0 ? "b" : "a";
	struct vip_addr addr0 = cltest_addr(0, NV);
	assert_int_equal(vip_cl_proto_request_move(g.p[0], &addr0, to, g.now), 0);
	assert_true(cltest_drain(g.p[0], &g.s[0], NULL) >= 0);
	assert_int_equal(g.s[0].n_sent, 1);
	uint8_t *old = g.s[0].msg[0];
	size_t old_len = g.s[0].len[0];
	g.s[0].n_sent = 0;
	cltest_sink_free(&g.s[0]);
	g.id[1].pid++; /* b restarted: a new view */
	grp_view(&g, 2);
	settle(&g, 2);
	vip_cl_proto_status(g.p[1], &st);
	size_t stale = st.n_stale;
	deliver(&g, 2, 0, old, old_len);
	assert_int_equal(g.last_rc[0], 0);
	vip_cl_proto_status(g.p[1], &st);
	assert_int_equal(st.n_stale, stale + 1);
	assert_int_equal(st.n_moves, 0);
	free(old);
	grp_teardown(&g);
}

/* Without a key nothing is checked: the same group takes x as a member. */
static void test_no_key_trusts_all(void **state)
{
	(void)state;
	struct grp g;
	struct vip_cl_status st;

	grp_setup(&g);
	vip_cl_proto_set_key(g.p[0], NULL);
	vip_cl_proto_set_key(g.p[1], NULL);
	grp_view(&g, NM);
	settle(&g, NM);
	vip_cl_proto_status(g.p[0], &st);
	assert_false(st.authenticated);
	assert_int_equal(st.n_auth_failed, 0);
	/* x prefers every address, and gets them: what the key prevents */
	struct vip_cl_member_info mi;
	assert_int_equal(vip_cl_proto_member(g.p[0], 2, &mi), 0);
	assert_false(mi.untrusted);
	assert_string_equal(mi.name, "x");
	assert_int_equal(mi.load, NV);
	for (size_t i = 0; i < NV; i++) {
		struct vip_cl_vip_info vi;
		assert_int_equal(vip_cl_proto_vip(g.p[1], i, &vi), 0);
		assert_string_equal(vi.owner, "x");
	}
	grp_teardown(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_hmac_vectors),
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_seal_verify),
		cmocka_unit_test(test_forged_changes_nothing),
		cmocka_unit_test(test_replay_view_sender),
		cmocka_unit_test(test_no_key_trusts_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

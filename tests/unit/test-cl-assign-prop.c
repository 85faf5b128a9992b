/* SPDX-License-Identifier: MIT */
/*
 * vip_cl_assign(): property tests over thousands of random clusters (1-32
 * members, 0-10,000 DuraVIPs, random preferences, holders and candidates):
 * one owner per managed DuraVIP among the members, preferences honoured,
 * deterministic and independent of input order, a leaving member moves
 * only its own addresses, balancing ends with loads at most one apart.
 * VIPD_CL_SEED=<n> changes the seed; VIPD_CL_ITER=<n> the count (2000).
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cluster.h"

#define B(i) (UINT64_C(1) << (i))

static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t rnd_below(size_t n)
{
	return n ? (size_t)(rnd() % n) : 0;
}

struct cluster {
	size_t nn, nv;
	char names[32][32];
	struct vip_cl_anode nodes[32];
	struct vip_cl_avip *v;
	struct vip_cl_aout *o;
};

/* Sizes mostly small, now and then up to 10,000 DuraVIPs. */
static void make_cluster(struct cluster *c, bool prefs)
{
	c->nn = 1 + rnd_below(32);
	size_t caps[] = { 0, 1, 8, 64, 500, 2000, 10000 };
	size_t cap = caps[rnd_below(ARRAY_SIZE(caps))];
	c->nv = cap ? rnd_below(cap + 1) : 0;
	if (rnd_below(50) == 0)
		c->nv = 10000;
	for (size_t i = 0; i < c->nn; i++) {
		snprintf(c->names[i], sizeof(c->names[i]), "node%zu-%u", i, (unsigned)rnd_below(1000));
		c->nodes[i] = (struct vip_cl_anode){ .name = c->names[i], .mature = rnd_below(2) };
	}
	c->v = calloc(c->nv + 1, sizeof(*c->v));
	c->o = calloc(c->nv + 1, sizeof(*c->o));
	assert_non_null(c->v);
	assert_non_null(c->o);
	uint64_t all = c->nn == 64 ? UINT64_MAX : B(c->nn) - 1;
	for (size_t i = 0; i < c->nv; i++) {
		struct vip_cl_avip *v = &c->v[i];
		*v = (struct vip_cl_avip){ .prev_owner = -1, .move_to = -1, .follow = -1 };
		v->addr.family = AF_INET;
		uint32_t a = htonl(0xc6120000u + (uint32_t)i * 3); /* 198.18.0.0/15 */
		memcpy(v->addr.bytes, &a, 4);
		v->candidates = all;
		if (rnd_below(10) == 0)
			v->candidates = rnd() & all;
		if (prefs && rnd_below(3) == 0)
			v->prefer = B(rnd_below(c->nn));
		if (prefs && rnd_below(200) == 0)
			v->prefer |= B(rnd_below(c->nn));
		if (rnd_below(2)) /* a partition heal: random holders */
			v->holders = v->keepers = rnd() & rnd() & all;
	}
}

static void free_cluster(struct cluster *c)
{
	free(c->v);
	free(c->o);
}

static int run_c(struct cluster *c, bool balance, uint32_t set, struct vip_cl_assign_stats *st)
{
	struct vip_cl_assign_in in = { .nodes = c->nodes,
				       .n_nodes = c->nn,
				       .vips = c->v,
				       .n_vips = c->nv,
				       .balance = balance,
				       .balance_set_size = set };
	return vip_cl_assign(&in, c->o, st);
}

static void check_owners(const struct cluster *c)
{
	for (size_t i = 0; i < c->nv; i++) {
		const struct vip_cl_avip *v = &c->v[i];
		int o = c->o[i].owner;
		if (!v->candidates) {
			assert_int_equal(o, -1);
			continue;
		}
		assert_true(o >= 0 && (size_t)o < c->nn); /* exactly one owner, a member */
		assert_true(v->candidates & B(o));
		if (c->o[i].plumb) /* never plumb beside another holder */
			assert_int_equal(v->holders & ~B(o), 0);
		uint64_t p = v->prefer;
		if (__builtin_popcountll(p) == 1 && (v->candidates & p) &&
		    c->nodes[__builtin_ctzll(p)].mature)
			assert_int_equal(o, __builtin_ctzll(p)); /* preference honoured */
	}
}

/* Feed the result back as the next input: the steady state the protocol reaches. */
static void settle(struct cluster *c)
{
	for (size_t i = 0; i < c->nv; i++) {
		c->v[i].prev_owner = c->o[i].owner;
		c->v[i].holders = c->v[i].keepers = c->o[i].owner >= 0 ? B(c->o[i].owner) : 0;
	}
}

static void shuffle_check(struct cluster *c)
{
	/* permute nodes and vips; the answer by name and address must not change */
	size_t pn[32], pv_n = c->nv;
	for (size_t i = 0; i < c->nn; i++)
		pn[i] = i;
	for (size_t i = c->nn; i > 1; i--) {
		size_t j = rnd_below(i), t = pn[i - 1];
		pn[i - 1] = pn[j];
		pn[j] = t;
	}
	size_t inv[32];
	struct vip_cl_anode nodes[32];
	for (size_t i = 0; i < c->nn; i++) {
		nodes[i] = c->nodes[pn[i]];
		inv[pn[i]] = i;
	}
	size_t *pv = malloc((pv_n + 1) * sizeof(*pv));
	struct vip_cl_avip *v = malloc((pv_n + 1) * sizeof(*v));
	struct vip_cl_aout *o = malloc((pv_n + 1) * sizeof(*o));
	assert_true(pv && v && o);
	for (size_t i = 0; i < pv_n; i++)
		pv[i] = pv_n - 1 - i; /* reversed */
	for (size_t i = 0; i < pv_n; i++) {
		const struct vip_cl_avip *s = &c->v[pv[i]];
		struct vip_cl_avip *d = &v[i];
		*d = *s;
		d->candidates = d->holders = d->keepers = d->prefer = 0;
		for (size_t k = 0; k < c->nn; k++) {
			uint64_t from = B(k), to = B(inv[k]);
			d->candidates |= (s->candidates & from) ? to : 0;
			d->holders |= (s->holders & from) ? to : 0;
			d->keepers |= (s->keepers & from) ? to : 0;
			d->prefer |= (s->prefer & from) ? to : 0;
		}
		d->prev_owner = s->prev_owner >= 0 ? (int)inv[s->prev_owner] : -1;
	}
	struct vip_cl_assign_in in = { .nodes = nodes, .n_nodes = c->nn, .vips = v, .n_vips = pv_n };
	assert_int_equal(vip_cl_assign(&in, o, NULL), 0);
	for (size_t i = 0; i < pv_n; i++) {
		int a = c->o[pv[i]].owner, b = o[i].owner;
		if (a < 0)
			assert_int_equal(b, -1);
		else
			assert_string_equal(c->nodes[a].name, nodes[b].name);
		assert_int_equal(c->o[pv[i]].flags, o[i].flags);
	}
	free(pv);
	free(v);
	free(o);
}

static unsigned iterations(void)
{
	const char *e = getenv("VIPD_CL_ITER");
	return e ? (unsigned)strtoul(e, NULL, 10) : 2000;
}

static uint64_t seed0(void)
{
	const char *e = getenv("VIPD_CL_SEED");
	return e ? strtoull(e, NULL, 10) : 0x9e3779b97f4a7c15ull;
}

/* Exactly one owner among members; preferences; determinism; order independence. */
static void test_prop_owners(void **state)
{
	(void)state;
	for (unsigned it = 0; it < iterations(); it++) {
		struct cluster c;
		rng = seed0() + it * 7919u + 1;
		make_cluster(&c, true);
		assert_int_equal(run_c(&c, false, 0, NULL), 0);
		check_owners(&c);
		/* deterministic */
		struct vip_cl_aout *again = malloc((c.nv + 1) * sizeof(*again));
		assert_non_null(again);
		memcpy(again, c.o, c.nv * sizeof(*again));
		assert_int_equal(run_c(&c, false, 0, NULL), 0);
		assert_memory_equal(again, c.o, c.nv * sizeof(*again));
		free(again);
		if (it % 4 == 0)
			shuffle_check(&c);
		free_cluster(&c);
	}
}

/* After settling, one member leaving moves exactly what it owned. */
static void test_prop_leave(void **state)
{
	(void)state;
	for (unsigned it = 0; it < iterations() / 2; it++) {
		struct cluster c;
		rng = seed0() + it * 104729u + 3;
		make_cluster(&c, true);
		if (c.nn < 2) {
			free_cluster(&c);
			continue;
		}
		for (size_t i = 0; i < c.nn; i++)
			c.nodes[i].mature = true;
		assert_int_equal(run_c(&c, false, 0, NULL), 0);
		settle(&c);
		struct vip_cl_assign_stats st;
		assert_int_equal(run_c(&c, false, 0, &st), 0);
		assert_int_equal(st.moved, 0); /* stable: a fixed point */
		settle(&c);
		/* the last node leaves: drop its bit everywhere */
		size_t gone = c.nn - 1, held = 0;
		int *before = malloc((c.nv + 1) * sizeof(*before));
		assert_non_null(before);
		for (size_t i = 0; i < c.nv; i++) {
			before[i] = c.o[i].owner;
			held += c.o[i].owner == (int)gone;
			c.v[i].candidates &= ~B(gone);
			c.v[i].holders &= ~B(gone);
			c.v[i].keepers &= ~B(gone);
			if (c.v[i].prev_owner == (int)gone)
				c.v[i].prev_owner = -1;
		}
		c.nn--;
		assert_int_equal(run_c(&c, false, 0, NULL), 0);
		check_owners(&c);
		size_t changed = 0;
		for (size_t i = 0; i < c.nv; i++)
			if (before[i] != c.o[i].owner && c.o[i].owner >= 0 &&
			    __builtin_popcountll(c.v[i].prefer) < 2)
				changed++;
		for (size_t i = 0; i < c.nv; i++)
			if (before[i] != (int)gone && before[i] >= 0 &&
			    __builtin_popcountll(c.v[i].prefer) < 2)       /* a conflict may resolve */
				assert_int_equal(before[i], c.o[i].owner); /* only its addresses move */
		size_t orphan_now_owned = 0;
		for (size_t i = 0; i < c.nv; i++)
			orphan_now_owned += before[i] == (int)gone && c.o[i].owner >= 0 &&
					    __builtin_popcountll(c.v[i].prefer) < 2;
		assert_int_equal(changed, orphan_now_owned);
		assert_true(orphan_now_owned <= held);
		free(before);
		free_cluster(&c);
	}
}

/* Balancing with room to move: loads end at most one apart. */
static void test_prop_balance(void **state)
{
	(void)state;
	for (unsigned it = 0; it < iterations() / 4; it++) {
		struct cluster c;
		rng = seed0() + it * 15485863u + 5;
		make_cluster(&c, false);
		if (c.nv > 3000) /* a full rebalance costs moves x load: keep it quick */
			c.nv = 3000;
		uint64_t all = B(c.nn) - 1;
		for (size_t i = 0; i < c.nv; i++) {
			c.v[i].candidates = all;
			/* start lopsided: everything on one or two nodes */
			c.v[i].holders = c.v[i].keepers = B(rnd_below(c.nn < 2 ? 1 : 2));
		}
		assert_int_equal(run_c(&c, false, 0, NULL), 0);
		settle(&c);
		struct vip_cl_assign_stats st;
		assert_int_equal(run_c(&c, true, (uint32_t)c.nv, &st), 0);
		check_owners(&c);
		uint32_t load[32] = { 0 }, lo = UINT32_MAX, hi = 0;
		for (size_t i = 0; i < c.nv; i++)
			load[c.o[i].owner]++;
		for (size_t k = 0; k < c.nn; k++) {
			lo = load[k] < lo ? load[k] : lo;
			hi = load[k] > hi ? load[k] : hi;
		}
		assert_true(hi <= lo + 1);
		assert_int_equal(st.moved, st.balanced);
		free_cluster(&c);
	}
}

/*
 * Silent members: a silent keeper owns what it keeps; otherwise the owner
 * is a live candidate; never plumbed beside another holder; balancing never
 * moves a silent member's address nor gives one to it; order independent.
 */
static void test_prop_silent(void **state)
{
	(void)state;
	for (unsigned it = 0; it < iterations() / 2; it++) {
		struct cluster c;
		rng = seed0() + it * 7727u + 11;
		make_cluster(&c, true);
		uint64_t silent = 0;
		for (size_t i = 0; i < c.nn; i++)
			if (rnd_below(3) == 0) {
				c.nodes[i].silent = true;
				silent |= B(i);
			}
		for (size_t i = 0; i < c.nv; i++)
			if (rnd_below(4) == 0) /* some holds are releasing */
				c.v[i].keepers &= rnd();
		bool balance = rnd_below(2);
		struct vip_cl_assign_stats st;
		assert_int_equal(run_c(&c, balance, balance ? (uint32_t)c.nv : 0, &st), 0);
		for (size_t i = 0; i < c.nv; i++) {
			const struct vip_cl_avip *v = &c.v[i];
			int o = c.o[i].owner;
			uint64_t sk = v->keepers & v->holders & silent;
			if (sk)
				assert_true(o >= 0 && (sk & B(o)));
			else if (o >= 0)
				assert_true((v->candidates & ~silent) & B(o));
			else
				assert_int_equal(v->candidates & ~silent, 0);
			if (c.o[i].plumb)
				assert_int_equal(v->holders & ~B(o), 0);
			if (c.o[i].flags & VIP_CL_F_CONFLICT)
				assert_true(__builtin_popcountll(v->prefer & ~silent) >= 2);
		}
		if (it % 4 == 0 && !balance)
			shuffle_check(&c);
		free_cluster(&c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prop_owners),
		cmocka_unit_test(test_prop_leave),
		cmocka_unit_test(test_prop_balance),
		cmocka_unit_test(test_prop_silent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

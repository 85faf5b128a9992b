/* SPDX-License-Identifier: MIT */
/*
 * What records of one address share, kept once (docs/protocol.md §3, "In memory").
 *
 * Every member's records of an address nearly always say the same address,
 * binding and services digests and follow target: the group runs one
 * configuration. So a record is 4 bytes in memory (its flags and the index
 * of a body holding the rest), and each distinct body is kept once for all
 * members, counted by reference, found again by a hash of its bytes. A body
 * that follows another address holds a reference on the bare body of that
 * address (no digests, no follow), so a body is never more than one hop
 * from its follow target and the address is stored once.
 *
 * Bodies never move their index while referenced; their array may be
 * reallocated by any vip_cl_body_get, so no pointer into it is kept across
 * one.
 */
#include <assert.h>
#include <stdlib.h>

#include "proto-internal.h"

#define NIL UINT32_MAX

/* prec.body is 24 bits: indices past that are refused (far past any STATE's record count). */
#define BODY_MAX ((UINT32_C(1) << 24) - 1)

_Static_assert(sizeof(struct pbody) % 8 == 0, "a body hashes as 64-bit words");

/* Word by word: a STATE of 10,000 records looks up 10,000 bodies. */
static uint32_t body_hash(const struct pbody *b)
{
	uint64_t w[sizeof(*b) / 8], h = 0;

	memcpy(w, b, sizeof(w));
	for (size_t i = 0; i < ARRAY_SIZE(w); i++)
		h = vip_cl_mix64(h ^ w[i]);
	return (uint32_t)h;
}

/* Rehash every live body into n buckets (a power of two). 0 or -ENOMEM. */
static int rehash(struct pbodies *s, uint32_t n)
{
	uint32_t *bk = malloc(n * sizeof(*bk));

	if (!bk)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		bk[i] = NIL;
	for (uint32_t i = 0; i < s->n; i++) {
		if (!s->ref[i])
			continue;
		uint32_t h = body_hash(&s->b[i]) & (n - 1);
		s->next[i] = bk[h];
		bk[h] = i;
	}
	free(s->bucket);
	s->bucket = bk;
	s->n_bucket = n;
	return 0;
}

static int grow_array(void **a, size_t n, size_t size)
{
	void *x = realloc(*a, n * size);

	if (!x)
		return -ENOMEM;
	*a = x;
	return 0;
}

/* Room for one more body (by a quarter: the arrays are not given back, each slot is reused). */
static int reserve(struct pbodies *s)
{
	if (s->free != NIL || s->n < s->cap)
		return 0;
	if (s->cap >= BODY_MAX)
		return -ENOMEM;
	uint32_t cap = s->cap + s->cap / 4 + 16;
	cap = cap > BODY_MAX ? BODY_MAX : cap;
	int r = grow_array((void **)&s->b, cap, sizeof(*s->b));
	if (r == 0)
		r = grow_array((void **)&s->ref, cap, sizeof(*s->ref));
	if (r == 0)
		r = grow_array((void **)&s->next, cap, sizeof(*s->next));
	if (r < 0)
		return r;
	s->cap = cap;
	uint32_t nb = s->n_bucket ? s->n_bucket : 16;
	while (nb < cap / 2)
		nb *= 2;
	return nb != s->n_bucket ? rehash(s, nb) : 0;
}

static int body_intern(struct pbodies *s, const struct pbody *key, uint32_t *ret)
{
	uint32_t h = body_hash(key);

	for (uint32_t i = s->n_bucket ? s->bucket[h & (s->n_bucket - 1)] : NIL; i != NIL; i = s->next[i])
		if (memcmp(&s->b[i], key, sizeof(*key)) == 0) {
			s->ref[i]++;
			*ret = i;
			return 0;
		}
	int r = reserve(s);
	if (r < 0)
		return r;
	uint32_t i = s->free != NIL ? s->free : s->n++;
	if (i == s->free)
		s->free = s->next[i];
	s->b[i] = *key;
	s->ref[i] = 1;
	s->next[i] = s->bucket[h & (s->n_bucket - 1)];
	s->bucket[h & (s->n_bucket - 1)] = i;
	s->live++;
	*ret = i;
	return 0;
}

/* The address with every byte past its family's length zero: equal addresses, equal bytes. */
static void addr_norm(struct vip_addr *dst, const struct vip_addr *a)
{
	memset(dst, 0, sizeof(*dst));
	dst->family = a->family;
	memcpy(dst->bytes, a->bytes, vip_addr_len(a));
}

int vip_cl_body_get(struct vip_cl_proto *p, const struct vip_addr *addr, const struct vip_addr *follow,
		    uint64_t binding_digest, uint64_t services_digest, uint32_t *ret)
{
	struct pbody key;
	uint32_t f = 0;

	/* addr may point into the bodies, which the follow target's body may move */
	memset(&key, 0, sizeof(key));
	addr_norm(&key.addr, addr);
	if (follow) {
		int r = vip_cl_body_get(p, follow, NULL, 0, 0, &f);
		if (r < 0)
			return r;
		f++;
	}
	key.follow = f;
	key.binding_digest = binding_digest;
	key.services_digest = services_digest;
	int r = body_intern(&p->bodies, &key, ret);
	/* an existing body holds its own reference on the follow target */
	bool found = r == 0 && p->bodies.ref[*ret] > 1;
	if (f && (r < 0 || found))
		vip_cl_body_put(p, f - 1);
	return r;
}

void vip_cl_body_put(struct vip_cl_proto *p, uint32_t i)
{
	struct pbodies *s = &p->bodies;

	assert(i < s->n && s->ref[i] > 0);
	if (--s->ref[i])
		return;
	uint32_t f = s->b[i].follow;
	uint32_t *link = &s->bucket[body_hash(&s->b[i]) & (s->n_bucket - 1)];
	while (*link != i)
		link = &s->next[*link];
	*link = s->next[i];
	s->next[i] = s->free;
	s->free = i;
	s->live--;
	if (f)
		vip_cl_body_put(p, f - 1);
}

void vip_cl_body_ref(struct vip_cl_proto *p, uint32_t i)
{
	assert(i < p->bodies.n && p->bodies.ref[i] > 0);
	p->bodies.ref[i]++;
}

size_t vip_cl_bodies_mem(const struct vip_cl_proto *p)
{
	const struct pbodies *s = &p->bodies;

	return (size_t)s->cap * (sizeof(*s->b) + sizeof(*s->ref) + sizeof(*s->next)) +
	       (size_t)s->n_bucket * sizeof(*s->bucket);
}

void vip_cl_bodies_free(struct vip_cl_proto *p)
{
	struct pbodies *s = &p->bodies;

	free(s->b);
	free(s->ref);
	free(s->next);
	free(s->bucket);
	*s = (struct pbodies){ .free = NIL };
}

void vip_cl_bodies_init(struct vip_cl_proto *p)
{
	p->bodies = (struct pbodies){ .free = NIL };
}

void *vip_cl_body_find(const struct vip_cl_proto *p, const void *arr, size_t n, size_t size,
		       const struct vip_addr *a)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t body;
		memcpy(&body, (const uint8_t *)arr + mid * size, sizeof(body));
		int c = vip_addr_cmp(&p->bodies.b[body].addr, a);
		if (c == 0)
			return (uint8_t *)arr + mid * size;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- records ---- */

size_t vip_cl_rec_lower_bound(const struct vip_cl_proto *p, const struct prec *r, size_t n,
			      const struct vip_addr *a)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (vip_addr_cmp(vip_cl_rec_addr(p, &r[mid]), a) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct prec *vip_cl_rec_find(const struct vip_cl_proto *p, struct prec *r, size_t n, const struct vip_addr *a)
{
	size_t i = vip_cl_rec_lower_bound(p, r, n, a);

	return i < n && vip_addr_equal(vip_cl_rec_addr(p, &r[i]), a) ? &r[i] : NULL;
}

void vip_cl_recs_free(struct vip_cl_proto *p, struct prec *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vip_cl_body_put(p, r[i].body);
	free(r);
}

int vip_cl_recs_from_msg(struct vip_cl_proto *p, const struct vip_cl_record *in, size_t n, struct prec **ret)
{
	struct prec *r = n ? malloc(n * sizeof(*r)) : NULL;

	if (n && !r)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint32_t b;
		const struct vip_addr *f = in[i].flags & VIP_CL_R_FOLLOW ? &in[i].follow : NULL;
		int e = vip_cl_body_get(p, &in[i].addr, f, in[i].binding_digest, in[i].services_digest, &b);
		if (e < 0) {
			vip_cl_recs_free(p, r, i);
			return e;
		}
		r[i] = (struct prec){ .body = b, .flags = in[i].flags };
	}
	*ret = r;
	return 0;
}

void vip_cl_rec_expand(const struct vip_cl_proto *p, const struct prec *r, struct vip_cl_record *ret)
{
	const struct pbody *b = &p->bodies.b[r->body];

	*ret = (struct vip_cl_record){
		.addr = b->addr,
		.flags = (uint8_t)r->flags,
		.binding_digest = b->binding_digest,
		.services_digest = b->services_digest,
	};
	if ((r->flags & VIP_CL_R_FOLLOW) && b->follow)
		ret->follow = p->bodies.b[b->follow - 1].addr;
}

int vip_cl_recs_expand(const struct vip_cl_proto *p, const struct prec *r, size_t n,
		       struct vip_cl_record **ret)
{
	struct vip_cl_record *x = calloc(n + 1, sizeof(*x));

	if (!x)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		vip_cl_rec_expand(p, &r[i], &x[i]);
	*ret = x;
	return 0;
}

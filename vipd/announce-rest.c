/* SPDX-License-Identifier: MIT */
/*
 * vipd/announce: the store of addresses with nothing scheduled (see
 * announce-internal.h). Each family is two parallel arrays sorted by address
 * (the address bytes, the record), sized to what they hold: a sweep grows
 * them once and merges from the back, a take moves the tail down.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "announce-internal.h"

static size_t fam_of(int family)
{
	return family == AF_INET6 ? 1 : 0;
}

static size_t fam_len(size_t f)
{
	return f ? 16 : 4;
}

size_t rest_count(const struct rest *r)
{
	return r->fam[0].n + r->fam[1].n;
}

size_t rest_bytes(const struct rest *r)
{
	size_t b = r->n_slots * sizeof(*r->slots);

	for (size_t f = 0; f < 2; f++)
		b += r->fam[f].cap * (fam_len(f) + sizeof(*r->fam[f].recs));
	return b;
}

static void fam_clear(struct rest_fam *rf)
{
	free(rf->addrs);
	free(rf->recs);
	*rf = (struct rest_fam){ 0 };
}

void rest_free(struct rest *r)
{
	fam_clear(&r->fam[0]);
	fam_clear(&r->fam[1]);
	free(r->slots);
	*r = (struct rest){ 0 };
}

static void rec_to_entry(const struct rest *r, size_t f, size_t i, struct entry *ret)
{
	const struct rest_rec *rec = &r->fam[f].recs[i];

	*ret = (struct entry){
		.addr.family = f ? AF_INET6 : AF_INET,
		.ifindex = r->slots[rec->slot & ~REST_LOGGED].ifindex,
		.sent = rec->sent,
		.last_ms = (uint64_t)rec->last_hi << 32 | rec->last_lo,
		.next_ms = NEVER,
		.fallback_logged = (rec->slot & REST_LOGGED) != 0,
	};
	memcpy(ret->addr.bytes, r->fam[f].addrs + i * fam_len(f), fam_len(f));
}

void rest_get(const struct rest *r, size_t i, struct entry *ret)
{
	size_t f = i < r->fam[0].n ? 0 : 1;

	rec_to_entry(r, f, f ? i - r->fam[0].n : i, ret);
}

/* Index of the first address >= addr in family f. */
static size_t fam_lower_bound(const struct rest_fam *rf, size_t f, const uint8_t *addr)
{
	size_t lo = 0, hi = rf->n, len = fam_len(f);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(rf->addrs + mid * len, addr, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool rest_take(struct rest *r, const struct vip_addr *addr, struct entry *ret)
{
	size_t f = fam_of(addr->family), len = fam_len(f);
	struct rest_fam *rf = &r->fam[f];
	size_t i = fam_lower_bound(rf, f, addr->bytes);

	if (i == rf->n || memcmp(rf->addrs + i * len, addr->bytes, len) != 0)
		return false;
	if (ret)
		rec_to_entry(r, f, i, ret);
	r->slots[rf->recs[i].slot & ~REST_LOGGED].refs--;
	memmove(rf->addrs + i * len, rf->addrs + (i + 1) * len, (rf->n - i - 1) * len);
	memmove(&rf->recs[i], &rf->recs[i + 1], (rf->n - i - 1) * sizeof(*rf->recs));
	rf->n--;
	if (rf->n == 0)
		fam_clear(rf);
	return true;
}

static ssize_t slot_find(const struct rest *r, int ifindex)
{
	for (size_t i = 0; i < r->n_slots; i++)
		if (r->slots[i].ifindex == ifindex)
			return (ssize_t)i;
	return -1;
}

/* The slot of ifindex, made (or a free one reused) when missing; -1 when none can be. */
static ssize_t slot_get(struct rest *r, int ifindex)
{
	ssize_t s = slot_find(r, ifindex);

	if (s >= 0)
		return s;
	for (size_t i = 0; i < r->n_slots; i++)
		if (r->slots[i].refs == 0) {
			r->slots[i].ifindex = ifindex;
			return (ssize_t)i;
		}
	if (r->n_slots >= REST_MAX_SLOTS)
		return -1;
	struct rest_slot *ns = realloc(r->slots, (r->n_slots + 1) * sizeof(*ns));
	if (!ns)
		return -1;
	r->slots = ns;
	ns[r->n_slots] = (struct rest_slot){ .ifindex = ifindex };
	return (ssize_t)r->n_slots++;
}

/* Whether e can rest; fam_ok: the families whose arrays have room. */
static bool movable(const struct rest *r, const struct entry *e, const bool fam_ok[2])
{
	return e->next_ms == NEVER && e->host_next == 0 && e->last_ms <= REST_MAX_MS &&
	       fam_ok[fam_of(e->addr.family)] && slot_find(r, e->ifindex) >= 0;
}

static int fam_reserve(struct rest_fam *rf, size_t f, size_t n)
{
	if (n <= rf->cap)
		return 0;
	uint8_t *na = realloc(rf->addrs, n * fam_len(f));
	if (!na)
		return -ENOMEM;
	rf->addrs = na;
	struct rest_rec *nr = realloc(rf->recs, n * sizeof(*nr));
	if (!nr)
		return -ENOMEM;
	rf->recs = nr;
	rf->cap = n;
	return 0;
}

/* Merge family f's k movers (in a->entries, sorted) into its arrays, from the back. */
static void fam_merge(struct vipd_announce *a, size_t f, size_t k, const bool fam_ok[2])
{
	struct rest *r = &a->rest;
	struct rest_fam *rf = &r->fam[f];
	size_t len = fam_len(f), w = rf->n + k, i = rf->n;

	for (size_t j = a->n; j-- > 0 && w > i;) {
		const struct entry *e = &a->entries[j];

		if (fam_of(e->addr.family) != f || !movable(r, e, fam_ok))
			continue;
		while (i > 0 && memcmp(rf->addrs + (i - 1) * len, e->addr.bytes, len) > 0) {
			i--, w--;
			memcpy(rf->addrs + w * len, rf->addrs + i * len, len);
			rf->recs[w] = rf->recs[i];
		}
		size_t s = (size_t)slot_find(r, e->ifindex);
		w--;
		memcpy(rf->addrs + w * len, e->addr.bytes, len);
		rf->recs[w] = (struct rest_rec){
			.last_lo = (uint32_t)e->last_ms,
			.last_hi = (uint16_t)(e->last_ms >> 32),
			.slot = (uint16_t)(s | (e->fallback_logged ? REST_LOGGED : 0)),
			.sent = e->sent,
		};
	}
	rf->n += k;
}

void entries_shrink(struct vipd_announce *a)
{
	if (a->n == 0) {
		free(a->entries);
		a->entries = NULL;
		a->cap = 0;
	} else if (a->cap - a->n > a->n / 4) {
		struct entry *ne = realloc(a->entries, a->n * sizeof(*ne));
		if (ne) {
			a->entries = ne;
			a->cap = a->n;
		}
	}
}

/* Every slot's count of records, from the records. */
static void slots_recount(struct rest *r)
{
	for (size_t s = 0; s < r->n_slots; s++)
		r->slots[s].refs = 0;
	for (size_t f = 0; f < 2; f++)
		for (size_t i = 0; i < r->fam[f].n; i++)
			r->slots[r->fam[f].recs[i].slot & ~REST_LOGGED].refs++;
}

void rest_sweep(struct vipd_announce *a)
{
	struct rest *r = &a->rest;
	bool fam_ok[2] = { true, true };
	size_t k[2] = { 0, 0 }, w = 0;

	/* A slot made here counts a reference at once, so another interface cannot reuse
	 * it in the same sweep; slots_recount makes the counts exact afterwards. */
	for (size_t j = 0; j < a->n; j++) {
		const struct entry *e = &a->entries[j];
		ssize_t s;

		if (e->next_ms != NEVER || e->host_next != 0 || e->last_ms > REST_MAX_MS ||
		    (s = slot_get(r, e->ifindex)) < 0)
			continue;
		r->slots[s].refs++;
		k[fam_of(e->addr.family)]++;
	}
	if (k[0] + k[1] == 0)
		return;
	for (size_t f = 0; f < 2; f++)
		fam_ok[f] = k[f] > 0 && fam_reserve(&r->fam[f], f, r->fam[f].n + k[f]) == 0;
	for (size_t f = 0; f < 2; f++)
		if (fam_ok[f])
			fam_merge(a, f, k[f], fam_ok);
	for (size_t j = 0; j < a->n; j++)
		if (!movable(r, &a->entries[j], fam_ok))
			a->entries[w++] = a->entries[j];
	a->n = w;
	slots_recount(r);
}

int rest_unpack_all(struct vipd_announce *a)
{
	struct rest *r = &a->rest;
	size_t m = rest_count(r), n = a->n + m, i = a->n, j = m;

	if (m == 0)
		return 0;
	if (n > a->cap) {
		struct entry *ne = realloc(a->entries, n * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		a->entries = ne;
		a->cap = n;
	}
	/* Both sorted (rest_get: IPv4 first, as vip_addr_cmp orders): merge from the back. */
	while (j > 0) {
		struct entry e;

		rest_get(r, j - 1, &e);
		if (i > 0 && vip_addr_cmp(&a->entries[i - 1].addr, &e.addr) > 0) {
			a->entries[i + j - 1] = a->entries[i - 1];
			i--;
		} else {
			a->entries[i + j - 1] = e;
			j--;
		}
	}
	a->n = n;
	fam_clear(&r->fam[0]);
	fam_clear(&r->fam[1]);
	for (size_t s = 0; s < r->n_slots; s++)
		r->slots[s].refs = 0;
	return 0;
}

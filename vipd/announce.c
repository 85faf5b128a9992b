/* SPDX-License-Identifier: MIT */
/*
 * vipd/announce: the announcement schedule (see announce.h for the rules).
 *
 * Entries with something scheduled live in one array; a tick scans it once
 * per interface that has something due. That is linear in the number of
 * addresses, which is fine for the tens of thousands vipd is sized for: ticks
 * happen at most a few times per second per schedule phase. Addresses with
 * nothing scheduled rest in a compact store (announce-rest.c).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "announce-internal.h"
#include "log.h"

/* Token bucket amounts are kept in thousandths of a packet so a rate in
 * packets/s refills exactly `pace` units per millisecond. */
#define MILLI 1000u
/* Unicast announcements per send call, at most. */
#define UNI_CHUNK 512u

static uint32_t at_least_min(uint32_t ms)
{
	return ms < VIPD_ANNOUNCE_MIN_INTERVAL_MS ? VIPD_ANNOUNCE_MIN_INTERVAL_MS : ms;
}

void vipd_announce_opts_from_config(const struct vipd_cluster *c, struct vipd_announce_opts *ret)
{
	*ret = (struct vipd_announce_opts){
		.repeat = c->arp_repeat,
		.repeat_interval_ms = c->arp_repeat_interval_ms,
		.refresh_interval_ms = c->arp_refresh_interval_ms,
		.pace = c->arp_pace,
		.mode = c->arp_mode,
		.unicast = !c->arp_all_hosts,
	};
}

static void normalise(struct vipd_announce_opts *o)
{
	o->repeat_interval_ms = at_least_min(o->repeat_interval_ms);
	if (o->refresh_interval_ms)
		o->refresh_interval_ms = at_least_min(o->refresh_interval_ms);
}

int vipd_announce_new(const struct vipd_announce_opts *opts, vipd_announce_send_fn send, void *data,
		      struct vipd_announce **ret)
{
	struct vipd_announce *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	a->opts = *opts;
	normalise(&a->opts);
	a->send = send;
	a->data = data;
	*ret = a;
	return 0;
}

void vipd_announce_free(struct vipd_announce *a)
{
	if (!a)
		return;
	free(a->entries);
	rest_free(&a->rest);
	free(a->buckets);
	free(a->batch);
	free(a->batch_idx);
	free(a->hosts);
	free(a->ubatch);
	free(a->udone);
	free(a);
}

static unsigned packets_per(const struct vipd_announce *a, const struct entry *e)
{
	return (e->addr.family == AF_INET && a->opts.mode == VIP_ARP_BOTH) ? 2 : 1;
}

static bool unicast_on(const struct vipd_announce *a)
{
	return a->opts.unicast && a->hosts_fn && a->send_to;
}

/* Packets per second per interface, 0: unlimited. */
static uint32_t pace_of(const struct vipd_announce *a)
{
	return a->opts.pace || !unicast_on(a) ? a->opts.pace : VIPD_ANNOUNCE_UNICAST_PACE;
}

static uint64_t bucket_capacity(const struct vipd_announce *a)
{
	uint64_t cap = pace_of(a) / 10;

	return (cap < 2 ? 2 : cap) * MILLI;
}

static struct bucket *bucket_get(struct vipd_announce *a, int ifindex)
{
	for (size_t i = 0; i < a->n_buckets; i++)
		if (a->buckets[i].ifindex == ifindex)
			return &a->buckets[i];
	struct bucket *nb = realloc(a->buckets, (a->n_buckets + 1) * sizeof(*nb));
	if (!nb)
		return NULL;
	a->buckets = nb;
	nb[a->n_buckets] = (struct bucket){ .ifindex = ifindex, .fresh = true };
	return &nb[a->n_buckets++];
}

static const struct bucket *bucket_find(const struct vipd_announce *a, int ifindex)
{
	for (size_t i = 0; i < a->n_buckets; i++)
		if (a->buckets[i].ifindex == ifindex)
			return &a->buckets[i];
	return NULL;
}

/* Tokens the bucket holds at time t (without changing it). */
static uint64_t bucket_level(const struct vipd_announce *a, const struct bucket *b, uint64_t t)
{
	uint64_t cap = bucket_capacity(a);
	uint64_t level;

	if (!b || b->fresh)
		return cap;
	level = b->tokens + (t > b->stamp ? (t - b->stamp) * pace_of(a) : 0);
	return level > cap ? cap : level;
}

static void bucket_refill(struct vipd_announce *a, struct bucket *b, uint64_t now)
{
	b->tokens = bucket_level(a, b, now);
	b->stamp = now;
	b->fresh = false;
}

/* Earliest time >= t at which the bucket of ifindex can pay cost packets. */
static uint64_t paced_time(const struct vipd_announce *a, int ifindex, unsigned cost, uint64_t t)
{
	uint64_t need = (uint64_t)cost * MILLI, level, pace = pace_of(a);

	if (pace == 0)
		return t;
	level = bucket_level(a, bucket_find(a, ifindex), t);
	if (level >= need)
		return t;
	return t + (need - level + pace - 1) / pace;
}

/* Entries are kept sorted by address: a lookup is a binary search. */
static struct entry *entry_find(struct vipd_announce *a, const struct vip_addr *addr)
{
	return VIP_ADDR_BSEARCH(addr, a->entries, a->n, addr);
}

static void entry_restart(const struct vipd_announce *a, struct entry *e, uint64_t now)
{
	e->repeats_left = a->opts.repeat;
	e->next_ms = now;
	e->host_next = 0;
	/* The kernel's ARP locktime: a second announcement within 1 s is ignored. */
	if (e->last_ms != NEVER && now < e->last_ms + VIPD_ANNOUNCE_MIN_INTERVAL_MS)
		e->next_ms = e->last_ms + VIPD_ANNOUNCE_MIN_INTERVAL_MS;
}

int vipd_announce_add(struct vipd_announce *a, const struct vip_addr *addr, int ifindex, uint64_t now_ms)
{
	size_t at = vip_addr_lower_bound(addr, a->entries, a->n, sizeof(*a->entries),
					 offsetof(struct entry, addr));
	struct entry *e = at < a->n && vip_addr_equal(&a->entries[at].addr, addr) ? &a->entries[at] : NULL;

	if (!e) {
		struct entry back;
		bool rested = rest_take(&a->rest, addr, &back);

		if (a->n == a->cap) {
			size_t nc = a->cap ? a->cap * 2 : 16;
			struct entry *ne = realloc(a->entries, nc * sizeof(*ne));
			if (!ne)
				return -ENOMEM; /* a rested address is forgotten: as if never announced */
			a->entries = ne;
			a->cap = nc;
		}
		/* In address order, as the engine adds them, this moves nothing. */
		memmove(&a->entries[at + 1], &a->entries[at], (a->n - at) * sizeof(*a->entries));
		a->n++;
		e = &a->entries[at];
		*e = rested ? back : (struct entry){ .addr = *addr, .last_ms = NEVER };
	}
	e->ifindex = ifindex;
	e->fallback_logged = false;
	entry_restart(a, e, now_ms);
	return 0;
}

int vipd_announce_remove(struct vipd_announce *a, const struct vip_addr *addr)
{
	struct entry *e = entry_find(a, addr);

	if (!e)
		return rest_take(&a->rest, addr, NULL) ? 0 : -ENOENT;
	size_t at = (size_t)(e - a->entries);
	memmove(e, e + 1, (a->n - at - 1) * sizeof(*e));
	a->n--;
	return 0;
}

size_t vipd_announce_restart_all(struct vipd_announce *a, uint64_t now_ms)
{
	/* Out of memory, the resting addresses stay where they are: nothing is lost. */
	(void)rest_unpack_all(a);
	for (size_t i = 0; i < a->n; i++)
		entry_restart(a, &a->entries[i], now_ms);
	return a->n;
}

void vipd_announce_set_hosts(struct vipd_announce *a, vipd_announce_hosts_fn hosts,
			     vipd_announce_send_to_fn send_to, void *data)
{
	a->hosts_fn = hosts;
	a->send_to = send_to;
	a->hosts_data = data;
}

void vipd_announce_set_opts(struct vipd_announce *a, const struct vipd_announce_opts *opts)
{
	a->opts = *opts;
	normalise(&a->opts);
	/* With refresh on every address has a next announcement again (out of memory,
	 * the resting ones are refreshed from their next acquisition or `announce view`). */
	if (a->opts.refresh_interval_ms)
		(void)rest_unpack_all(a);
	for (size_t i = 0; i < a->n; i++) {
		struct entry *e = &a->entries[i];

		e->host_next = 0; /* a unicast announcement under way starts over in the new way */
		if (e->repeats_left > a->opts.repeat)
			e->repeats_left = a->opts.repeat;
		if (e->repeats_left > 0 || e->last_ms == NEVER)
			continue;
		/* In (or past) the refresh phase: follow the new refresh setting. */
		e->next_ms = a->opts.refresh_interval_ms ? e->last_ms + a->opts.refresh_interval_ms : NEVER;
	}
	rest_sweep(a);
	entries_shrink(a);
}

static void entry_advance(const struct vipd_announce *a, struct entry *e, uint64_t now)
{
	e->last_ms = now;
	if (e->repeats_left > 0) {
		e->repeats_left--;
		e->next_ms = now + a->opts.repeat_interval_ms;
	} else if (a->opts.refresh_interval_ms) {
		e->next_ms = now + a->opts.refresh_interval_ms;
	} else {
		e->next_ms = NEVER;
	}
}

static int batch_reserve(struct vipd_announce *a, size_t n)
{
	if (n <= a->batch_cap)
		return 0;
	struct vip_addr *nb = realloc(a->batch, n * sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	a->batch = nb;
	size_t *ni = realloc(a->batch_idx, n * sizeof(*ni));
	if (!ni)
		return -ENOMEM;
	a->batch_idx = ni;
	size_t *nd = realloc(a->udone, n * sizeof(*nd));
	if (!nd)
		return -ENOMEM;
	a->udone = nd;
	a->batch_cap = n;
	return 0;
}

/* Send the queued unicast announcements (all on ifindex). */
static void unicast_flush(struct vipd_announce *a, int ifindex)
{
	int r;

	if (a->un == 0)
		return;
	r = a->send_to(a->hosts_data, ifindex, a->ubatch, a->un);
	if (r < 0) {
		a->stats.errors++;
		if (a->uerr == 0)
			a->uerr = r;
	}
	for (size_t k = 0; r > 0 && k < (size_t)r && k < a->un; k++) {
		a->stats.unicast++;
		a->stats.packets += (a->ubatch[k].addr.family == AF_INET && a->opts.mode == VIP_ARP_BOTH) ? 2
													  : 1;
	}
	a->un = 0;
}

/* The unicast scratch space, once. 0 or -ENOMEM. */
static int unicast_reserve(struct vipd_announce *a)
{
	if (!a->hosts && !(a->hosts = calloc(VIPD_ANNOUNCE_MAX_HOSTS, sizeof(*a->hosts))))
		return -ENOMEM;
	if (!a->ubatch && !(a->ubatch = calloc(UNI_CHUNK, sizeof(*a->ubatch))))
		return -ENOMEM;
	return 0;
}

/*
 * arp_all_hosts = false: queue the next hosts of entry i's announcement that the
 * bucket b pays for (sending each full chunk). true when handled (queued or
 * waiting for the pace), false when no host is known (broadcast it).
 */
static bool queue_unicast(struct vipd_announce *a, size_t i, struct bucket *b)
{
	struct entry *e = &a->entries[i];
	uint64_t cost = (uint64_t)packets_per(a, e) * MILLI;
	size_t nh;
	char buf[VIP_ADDR_STRLEN];

	/* Nothing can go out before the bucket refills: do not even ask for the hosts. */
	if (b->tokens < cost) {
		a->stats.deferred++;
		return true;
	}
	nh = a->hosts_fn(a->hosts_data, &e->addr, e->ifindex, a->hosts, VIPD_ANNOUNCE_MAX_HOSTS);
	if (nh > VIPD_ANNOUNCE_MAX_HOSTS)
		nh = VIPD_ANNOUNCE_MAX_HOSTS;
	if (nh == 0) {
		if (!e->fallback_logged)
			log_notice("No host known on the segment of %s: announcing it by broadcast "
				   "(arp_all_hosts = false)",
				   vip_addr_to_string(&e->addr, buf, sizeof(buf)));
		e->fallback_logged = true;
		return false;
	}
	/* The list may have changed since the last slice: go on from the same position. */
	while (e->host_next < nh) {
		if (b->tokens < cost) {
			a->stats.deferred++;
			return true;
		}
		b->tokens -= cost;
		if (a->un == UNI_CHUNK)
			unicast_flush(a, e->ifindex);
		a->ubatch[a->un++] = (struct vipd_announce_dst){ .addr = e->addr,
								 .host = a->hosts[e->host_next] };
		e->host_next++;
	}
	a->udone[a->n_udone++] = i;
	return true;
}

/*
 * Send what queue_unicast left and advance the entries it completed (like a failed
 * broadcast, a failed send still advances them). The count of those announced, or
 * the first send's -errno.
 */
static int unicast_finish(struct vipd_announce *a, int ifindex, uint64_t now)
{
	size_t done = a->n_udone;
	int err;

	unicast_flush(a, ifindex);
	err = a->uerr;
	for (size_t k = 0; k < done; k++) {
		struct entry *e = &a->entries[a->udone[k]];

		if (err == 0) {
			e->sent++;
			a->stats.announced++;
		}
		e->host_next = 0;
		entry_advance(a, e, now);
	}
	a->n_udone = 0;
	a->uerr = 0;
	return err < 0 ? err : (int)done;
}

/* Announce what is due on one interface. Returns addresses sent or -errno. */
static int tick_interface(struct vipd_announce *a, int ifindex, uint64_t now)
{
	struct bucket *b = NULL;
	size_t n = 0;
	int r;

	if (pace_of(a)) {
		b = bucket_get(a, ifindex);
		if (!b)
			return -ENOMEM;
		bucket_refill(a, b, now);
	}
	for (size_t i = 0; i < a->n; i++) {
		struct entry *e = &a->entries[i];
		uint64_t cost = (uint64_t)packets_per(a, e) * MILLI;
		bool fallback = false;

		if (e->ifindex != ifindex || e->next_ms > now)
			continue;
		if (unicast_on(a)) {
			if (queue_unicast(a, i, b))
				continue;
			fallback = true;
		}
		if (b && b->tokens < cost) {
			a->stats.deferred++;
			continue;
		}
		if (b)
			b->tokens -= cost;
		if (fallback)
			a->stats.fallbacks++;
		a->batch[n] = e->addr;
		a->batch_idx[n++] = i;
	}
	int done = unicast_finish(a, ifindex, now);
	if (n == 0)
		return done;
	r = a->send(a->data, ifindex, a->batch, n);
	if (r < 0)
		a->stats.errors++;
	for (size_t k = 0; k < n; k++) {
		struct entry *e = &a->entries[a->batch_idx[k]];

		/* A failed send still advances the schedule: a persistent error
		 * must not turn into a busy loop; the next slot retries. */
		if (r >= 0 && k < (size_t)r) {
			e->sent++;
			a->stats.announced++;
			a->stats.packets += packets_per(a, e);
		}
		entry_advance(a, e, now);
	}
	return r < 0 ? r : done < 0 ? done : r + done;
}

int vipd_announce_tick(struct vipd_announce *a, uint64_t now_ms)
{
	_cleanup_free_ int *ifs = NULL;
	size_t n_ifs = 0;
	int total = 0, first_err = 0, r;

	r = batch_reserve(a, a->n);
	if (r == 0 && unicast_on(a))
		r = unicast_reserve(a);
	if (r < 0)
		return r;
	ifs = malloc((a->n ? a->n : 1) * sizeof(*ifs));
	if (!ifs)
		return -ENOMEM;
	/* The interfaces with something due, in the order they first appear. */
	for (size_t i = 0; i < a->n; i++) {
		bool seen = false;

		if (a->entries[i].next_ms > now_ms)
			continue;
		for (size_t j = 0; j < n_ifs && !seen; j++)
			seen = ifs[j] == a->entries[i].ifindex;
		if (!seen)
			ifs[n_ifs++] = a->entries[i].ifindex;
	}
	for (size_t k = 0; k < n_ifs; k++) {
		r = tick_interface(a, ifs[k], now_ms);
		if (r < 0 && first_err == 0)
			first_err = r;
		else if (r > 0)
			total += r;
	}
	/* The scratch is as large as the table (360 kB at 10,000): not kept between ticks. */
	free(a->batch);
	free(a->batch_idx);
	free(a->udone);
	a->batch = NULL;
	a->batch_idx = NULL;
	a->udone = NULL;
	a->batch_cap = 0;
	/* What has nothing more scheduled rests; the array is given back what it does not use. */
	rest_sweep(a);
	entries_shrink(a);
	return first_err < 0 ? first_err : total;
}

uint64_t vipd_announce_next_due(const struct vipd_announce *a, uint64_t now_ms)
{
	uint64_t best = NEVER;

	for (size_t i = 0; i < a->n; i++) {
		const struct entry *e = &a->entries[i];
		uint64_t t;

		if (e->next_ms == NEVER)
			continue;
		t = e->next_ms > now_ms ? e->next_ms : now_ms;
		t = paced_time(a, e->ifindex, packets_per(a, e), t);
		if (t < best)
			best = t;
	}
	return best;
}

size_t vipd_announce_scheduled(const struct vipd_announce *a)
{
	return a->n;
}

size_t vipd_announce_count(const struct vipd_announce *a)
{
	return a->n + rest_count(&a->rest);
}

int vipd_announce_get(const struct vipd_announce *a, size_t i, struct vipd_announce_entry *ret)
{
	struct entry rested;
	const struct entry *e = &rested;

	if (i >= vipd_announce_count(a))
		return -ENOENT;
	if (i < a->n)
		e = &a->entries[i];
	else
		rest_get(&a->rest, i - a->n, &rested);
	*ret = (struct vipd_announce_entry){
		.addr = e->addr,
		.ifindex = e->ifindex,
		.sent = e->sent,
		.repeats_left = e->repeats_left,
		.last_ms = e->last_ms,
		.next_ms = e->next_ms,
	};
	return 0;
}

void vipd_announce_get_stats(const struct vipd_announce *a, struct vipd_announce_stats *ret)
{
	*ret = a->stats;
}

const struct vipd_announce_opts *vipd_announce_get_opts(const struct vipd_announce *a)
{
	return &a->opts;
}

size_t vipd_announce_bytes(const struct vipd_announce *a)
{
	size_t b = a->cap * sizeof(*a->entries) + rest_bytes(&a->rest) + a->n_buckets * sizeof(*a->buckets);

	if (a->hosts)
		b += VIPD_ANNOUNCE_MAX_HOSTS * sizeof(*a->hosts);
	if (a->ubatch)
		b += UNI_CHUNK * sizeof(*a->ubatch);
	return b;
}

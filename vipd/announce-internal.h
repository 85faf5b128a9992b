/* SPDX-License-Identifier: MIT */
/*
 * vipd/announce internals: the schedule (announce.c) and the compact store of
 * the addresses whose announcements are all sent (announce-rest.c).
 *
 * An address lives in exactly one of two places. While something is due (a
 * first announcement, repeats, refresh, a unicast announcement under way) it
 * is an entry of the sorted `entries` array (56 bytes). Once nothing more is
 * scheduled, the tick moves it to the rest store, which keeps only what
 * `cluster arp show`, the 1 s locktime of a re-acquisition and `announce
 * view` need: the address, the interface (a slot of a small table), the count
 * sent, the last announcement's time and whether "no host known" was logged;
 * 16 bytes for IPv4, 28 for IPv6 (docs/port.md, "Memory"). A re-acquisition,
 * `announce view` or a reload that turns refresh on brings it back.
 */
#ifndef VIPD_ANNOUNCE_INTERNAL_H
#define VIPD_ANNOUNCE_INTERNAL_H

#include "announce.h"

#define NEVER UINT64_MAX

struct entry {
	struct vip_addr addr;
	int ifindex;
	uint32_t sent;
	uint32_t repeats_left;
	uint64_t last_ms;
	uint64_t next_ms;
	uint16_t host_next;   /* unicast: hosts of the current announcement already sent */
	bool fallback_logged; /* unicast: "no host known" said since the last acquisition */
};

/* One address at rest; its address is in the parallel array of its family. */
struct rest_rec {
	uint32_t last_lo; /* last_ms, bits 0..31 */
	uint16_t last_hi; /* last_ms, bits 32..47 (8,900 years of milliseconds) */
	uint16_t slot;    /* index into rest.slots, REST_LOGGED or-ed in: fallback_logged */
	uint32_t sent;
};
#define REST_LOGGED 0x8000u
#define REST_MAX_SLOTS 0x7fffu
#define REST_MAX_MS ((1ull << 48) - 1)

struct rest_fam {
	uint8_t *addrs; /* n addresses of 4 (IPv4) or 16 (IPv6) bytes, in vip_addr_cmp order */
	struct rest_rec *recs;
	size_t n, cap;
};

struct rest_slot {
	int ifindex;
	uint32_t refs; /* records that name it; 0: free for another interface */
};

struct rest {
	struct rest_fam fam[2]; /* IPv4, IPv6 */
	struct rest_slot *slots;
	size_t n_slots;
};

struct bucket {
	int ifindex;
	uint64_t tokens; /* milli-packets */
	uint64_t stamp;  /* last refill */
	bool fresh;      /* never refilled: starts full */
};

struct vipd_announce {
	struct vipd_announce_opts opts;
	vipd_announce_send_fn send;
	void *data;
	struct entry *entries; /* what has something scheduled, sorted by address */
	size_t n, cap;
	struct rest rest; /* the others */
	struct bucket *buckets;
	size_t n_buckets;
	struct vip_addr *batch; /* scratch for one tick */
	size_t *batch_idx;
	size_t *udone; /* entries whose announcement the queued frames complete */
	size_t batch_cap;
	struct vipd_announce_stats stats;
	/* arp_all_hosts = false */
	vipd_announce_hosts_fn hosts_fn;
	vipd_announce_send_to_fn send_to;
	void *hosts_data;
	struct vipd_announce_host *hosts; /* scratch: one address's hosts */
	struct vipd_announce_dst *ubatch; /* scratch: one unicast send call */
	size_t un;
	size_t n_udone;
	int uerr; /* 0, or the -errno of a unicast send of this tick */
};

/* ---- announce-rest.c ---- */

size_t rest_count(const struct rest *r);
/* Bytes the store holds, as allocated. */
size_t rest_bytes(const struct rest *r);
void rest_free(struct rest *r);
/* Record i (0 <= i < rest_count, IPv4 first, each family in address order) as an entry. */
void rest_get(const struct rest *r, size_t i, struct entry *ret);
/* Take addr out of the store; with ret, as an entry (nothing scheduled). false: not there. */
bool rest_take(struct rest *r, const struct vip_addr *addr, struct entry *ret);
/* Move every entry of a with nothing scheduled into the store (what memory allows). */
void rest_sweep(struct vipd_announce *a);
/* Give back what the entries array holds beyond a quarter more than its entries (all when none). */
void entries_shrink(struct vipd_announce *a);
/* Move every record back to a's entries (they stay sorted). 0 or -ENOMEM (nothing moved). */
int rest_unpack_all(struct vipd_announce *a);

#endif

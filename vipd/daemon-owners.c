/* SPDX-License-Identifier: MIT */
/*
 * vipd/daemon: owner and state changes of the DuraVIPs. After each pump the
 * protocol's view of every DuraVIP is compared with the last one seen; what
 * changed is logged (a mass move as one line) and pushed as an event.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon-internal.h"
#include "log.h"

/*
 * One per DuraVIP, so kept small: 4 bytes, and its address in
 * d->owner_addrs (4 bytes for IPv4, 16 for IPv6: the table lists IPv4 first,
 * so slot i < d->owners_n4 is an IPv4 one). The owner's name is an index into
 * d->owner_names (a handful of node names for 10,000 DuraVIPs), not a copy.
 */
struct daemon_owner {
	uint16_t flags; /* VIP_CL_F_* (they fit: cluster/proto-table.c) */
	uint16_t
		owner; /* 0: none, OWNER_UNSET: nothing seen in this slot, else 1 + its index in d->owner_names */
};
#define OWNER_UNSET UINT16_MAX

/* Names kept before the unused ones are dropped; a view has at most VIP_CL_MAX_MEMBERS. */
#define OWNER_NAMES_MAX 256

static void owners_free(struct vipd_daemon *d)
{
	free(d->owners);
	free(d->owner_addrs);
	d->owners = NULL;
	d->owner_addrs = NULL;
	d->n_owners = 0;
	d->owners_n4 = 0;
}

static size_t addrs_size(size_t n, size_t n4)
{
	return n4 * 4 + (n - n4) * 16;
}

/* Whether slot i holds address a (in the layout of n4 IPv4 slots). */
static bool slot_is(const uint8_t *addrs, size_t n4, size_t i, const struct vip_addr *a)
{
	if (a->family != (i < n4 ? AF_INET : AF_INET6))
		return false;
	return memcmp(addrs + (i < n4 ? i * 4 : n4 * 4 + (i - n4) * 16), a->bytes, vip_addr_len(a)) == 0;
}

static void slot_set(struct vipd_daemon *d, size_t i, const struct vip_addr *a)
{
	size_t n4 = d->owners_n4;

	memcpy(d->owner_addrs + (i < n4 ? i * 4 : n4 * 4 + (i - n4) * 16), a->bytes, vip_addr_len(a));
}

void daemon_owners_free(struct vipd_daemon *d)
{
	owners_free(d);
	for (size_t i = 0; i < d->n_owner_names; i++)
		free(d->owner_names[i]);
	free(d->owner_names);
	d->owner_names = NULL;
	d->n_owner_names = 0;
}

size_t daemon_owners_bytes(const struct vipd_daemon *d)
{
	size_t n = d->n_owners * sizeof(*d->owners) + addrs_size(d->n_owners, d->owners_n4) +
		   d->n_owner_names * sizeof(*d->owner_names);

	for (size_t k = 0; k < d->n_owner_names; k++)
		n += strlen(d->owner_names[k]) + 1;
	return n;
}

static const char *owner_name(const struct vipd_daemon *d, uint16_t owner)
{
	return owner && owner != OWNER_UNSET ? d->owner_names[owner - 1] : NULL;
}

/* Drop the names no entry uses, renumbering the entries. */
static void owner_names_compact(struct vipd_daemon *d)
{
	uint16_t map[OWNER_NAMES_MAX + 1] = { 0 };
	size_t n = 0;

	for (size_t i = 0; i < d->n_owners; i++)
		if (d->owners[i].owner != OWNER_UNSET)
			map[d->owners[i].owner] = 1;
	for (size_t k = 0; k < d->n_owner_names; k++) {
		if (!map[k + 1]) {
			free(d->owner_names[k]);
			continue;
		}
		d->owner_names[n] = d->owner_names[k];
		map[k + 1] = (uint16_t)++n;
	}
	d->n_owner_names = n;
	for (size_t i = 0; i < d->n_owners; i++)
		if (d->owners[i].owner != OWNER_UNSET)
			d->owners[i].owner = d->owners[i].owner ? map[d->owners[i].owner] : 0;
}

/* The entry's value for name: 0 for NULL (or when out of memory, logged), else 1 + its index. */
static uint16_t owner_intern(struct vipd_daemon *d, const char *name)
{
	char *copy, **nn;

	if (!name)
		return 0;
	for (size_t k = 0; k < d->n_owner_names; k++)
		if (strcmp(d->owner_names[k], name) == 0)
			return (uint16_t)(k + 1);
	if (d->n_owner_names == OWNER_NAMES_MAX)
		owner_names_compact(d);
	if (d->n_owner_names == OWNER_NAMES_MAX)
		return 0; /* not reached: the table names at most VIP_CL_MAX_MEMBERS owners */
	copy = strdup(name);
	nn = copy ? realloc(d->owner_names, (d->n_owner_names + 1) * sizeof(*nn)) : NULL;
	if (!nn) {
		free(copy);
		log_error("Out of memory: the owner of a DuraVIP is not remembered");
		return 0;
	}
	d->owner_names = nn;
	nn[d->n_owner_names++] = copy;
	return (uint16_t)d->n_owner_names;
}

/* More changes than this in one pass are summed up in one line (each at debug). */
#define OWNER_LOG_EACH_MAX 16

static void owner_changed(struct vipd_daemon *d, const struct vip_cl_vip_info *pi, const char *old,
			  bool quiet)
{
	char a[VIP_ADDR_STRLEN], detail[2 * VIP_CL_NAME_MAX + 16];

	vip_addr_to_string(&pi->addr, a, sizeof(a));
	if (old && pi->owner) {
		log_full(quiet ? LOG_DEBUG : LOG_INFO, "DuraVIP %s moved from %s to %s", a, old, pi->owner);
		snprintf(detail, sizeof(detail), "%s->%s", old, pi->owner);
		daemon_event(d, "moved", &pi->addr, detail);
	} else if (pi->owner) {
		log_debug("DuraVIP %s is owned by %s", a, pi->owner);
		daemon_event(d, "owner", &pi->addr, pi->owner);
	} else {
		log_full(quiet ? LOG_DEBUG : LOG_INFO, "DuraVIP %s has no owner (was %s)", a, old);
		daemon_event(d, "unowned", &pi->addr, old);
	}
}

static void flags_changed(struct vipd_daemon *d, const struct vip_cl_vip_info *pi, uint32_t old)
{
	static const struct {
		uint32_t flag;
		int prio;
		const char *what;
	} bad[] = {
		{ VIP_CL_F_CONFLICT, LOG_WARNING,
		  "conflict: two or more members prefer it; no preference is used" },
		{ VIP_CL_F_UNSAFE, LOG_WARNING, "UNSAFE: members disagree on which services use it" },
		{ VIP_CL_F_BROKEN, LOG_ERR, "BROKEN: members disagree on its binding name; not managed" },
	};
	char a[VIP_ADDR_STRLEN];

	vip_addr_to_string(&pi->addr, a, sizeof(a));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if ((pi->flags & bad[i].flag) && !(old & bad[i].flag)) {
			log_full(bad[i].prio, "DuraVIP %s: %s", a, bad[i].what);
			daemon_event(d, "state", &pi->addr, bad[i].what);
		}
	}
}

/* Owner changes since the last pass (a counting pass, so a mass move is one line). */
static size_t count_owner_changes(struct vipd_daemon *d, size_t n)
{
	size_t changed = 0;

	for (size_t i = 0; i < n && i < d->n_owners; i++) {
		struct vip_cl_vip_info pi;

		if (vip_cl_proto_vip(d->proto, i, &pi) == 0 && d->owners[i].owner != OWNER_UNSET &&
		    slot_is(d->owner_addrs, d->owners_n4, i, &pi.addr) &&
		    !streq_ptr(owner_name(d, d->owners[i].owner), pi.owner))
			changed++;
	}
	return changed;
}

/* IPv4 addresses in the table: they come first (address order), found by bisection. */
static size_t table_n4(const struct vipd_daemon *d, size_t n)
{
	size_t lo = 0, hi = n;
	struct vip_cl_vip_info pi;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (vip_cl_proto_vip(d->proto, mid, &pi) == 0 && pi.addr.family == AF_INET)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Size the watch for n slots of which n4 IPv4 (the table's current layout).
 * A slot keeps what it saw when its address is the same as before; every
 * other slot is unset. 0 or -ENOMEM (the watch is then empty).
 */
static int owners_layout(struct vipd_daemon *d, size_t n, size_t n4)
{
	_cleanup_free_ uint8_t *old = NULL;
	size_t old_n4 = d->owners_n4;
	struct vip_cl_vip_info pi;

	if (n == d->n_owners && n4 == d->owners_n4 && d->owners)
		return 0;
	if (n != d->n_owners) {
		owners_free(d);
		d->owners = malloc((n ? n : 1) * sizeof(*d->owners));
		if (!d->owners)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++)
			d->owners[i] = (struct daemon_owner){ .owner = OWNER_UNSET };
		d->n_owners = n;
	}
	old = steal_ptr(d->owner_addrs);
	d->owners_n4 = n4;
	d->owner_addrs = calloc(addrs_size(n, n4) + 1, 1);
	if (!d->owner_addrs) {
		owners_free(d);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (vip_cl_proto_vip(d->proto, i, &pi) < 0 || !old || !slot_is(old, old_n4, i, &pi.addr))
			d->owners[i].owner = OWNER_UNSET;
		else
			slot_set(d, i, &pi.addr);
	}
	return 0;
}

void daemon_watch_owners(struct vipd_daemon *d)
{
	size_t n = d->proto ? vip_cl_proto_n_vips(d->proto) : 0, changed;
	bool quiet;

	if (owners_layout(d, n, table_n4(d, n)) < 0)
		return;
	changed = count_owner_changes(d, n);
	quiet = changed > OWNER_LOG_EACH_MAX;
	if (quiet)
		log_info("%zu DuraVIPs changed owner", changed);
	for (size_t i = 0; i < n; i++) {
		struct daemon_owner *o = &d->owners[i];
		struct vip_cl_vip_info pi;

		if (vip_cl_proto_vip(d->proto, i, &pi) < 0)
			continue;
		if (o->owner == OWNER_UNSET || !slot_is(d->owner_addrs, d->owners_n4, i, &pi.addr)) {
			/* New in this slot (start-up, reload): remember it without a message. */
			*o = (struct daemon_owner){ .flags = (uint16_t)pi.flags };
			slot_set(d, i, &pi.addr);
			o->owner = owner_intern(d, pi.owner);
			flags_changed(d, &pi, 0);
			continue;
		}
		if (!streq_ptr(owner_name(d, o->owner), pi.owner)) {
			owner_changed(d, &pi, owner_name(d, o->owner), quiet);
			o->owner = owner_intern(d, pi.owner);
		}
		if (pi.flags != o->flags) {
			flags_changed(d, &pi, o->flags);
			o->flags = (uint16_t)pi.flags;
		}
	}
}

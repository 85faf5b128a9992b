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

struct daemon_owner {
	struct vip_addr addr;
	char *owner;
	uint32_t flags;
};

static void owners_free(struct vipd_daemon *d)
{
	for (size_t i = 0; i < d->n_owners; i++)
		free(d->owners[i].owner);
	free(d->owners);
	d->owners = NULL;
	d->n_owners = 0;
}

void daemon_owners_free(struct vipd_daemon *d)
{
	owners_free(d);
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

		if (vip_cl_proto_vip(d->proto, i, &pi) == 0 && vip_addr_equal(&d->owners[i].addr, &pi.addr) &&
		    !streq_ptr(d->owners[i].owner, pi.owner))
			changed++;
	}
	return changed;
}

void daemon_watch_owners(struct vipd_daemon *d)
{
	size_t n = d->proto ? vip_cl_proto_n_vips(d->proto) : 0, changed;
	bool quiet;

	if (n != d->n_owners) {
		owners_free(d);
		d->owners = calloc(n ? n : 1, sizeof(*d->owners));
		if (!d->owners)
			return;
		d->n_owners = n;
		for (size_t i = 0; i < n; i++)
			d->owners[i].addr.family = AF_UNSPEC;
	}
	changed = count_owner_changes(d, n);
	quiet = changed > OWNER_LOG_EACH_MAX;
	if (quiet)
		log_info("%zu DuraVIPs changed owner", changed);
	for (size_t i = 0; i < n; i++) {
		struct daemon_owner *o = &d->owners[i];
		struct vip_cl_vip_info pi;

		if (vip_cl_proto_vip(d->proto, i, &pi) < 0)
			continue;
		if (!vip_addr_equal(&o->addr, &pi.addr)) {
			/* New in this slot (start-up, reload): remember it without a message. */
			free(o->owner);
			*o = (struct daemon_owner){ .addr = pi.addr,
						    .owner = pi.owner ? strdup(pi.owner) : NULL,
						    .flags = pi.flags };
			flags_changed(d, &pi, 0);
			continue;
		}
		if (!streq_ptr(o->owner, pi.owner)) {
			owner_changed(d, &pi, o->owner, quiet);
			free(o->owner);
			o->owner = pi.owner ? strdup(pi.owner) : NULL;
		}
		if (pi.flags != o->flags) {
			flags_changed(d, &pi, o->flags);
			o->flags = pi.flags;
		}
	}
}

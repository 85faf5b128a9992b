/* SPDX-License-Identifier: MIT */
/*
 * Address tracker over rtnetlink events in up to LAB_MAX_NODES namespaces.
 * Tracks every global-scope address that is not a lab base address.
 */
#ifndef VIP_LAB_WATCH_H
#define VIP_LAB_WATCH_H

#include <poll.h>
#include <linux/netlink.h>

#include "lab.h"

struct lab_tracker;

/* Called when the set of namespaces holding an address changes: before and
 * mask are that set (bit i: namespace i) before and after the change. */
typedef void (*lab_change_fn)(void *data, const struct lab_addr *a, uint32_t before, uint32_t mask);

/* Open event and dump sockets in each named namespace and dump them once.
 * Returns 0 or -EIO (message on stderr: this is a tool). */
int lab_tracker_new(char **netns, int n, lab_change_fn change, void *data, struct lab_tracker **ret);
void lab_tracker_free(struct lab_tracker *t);
/* Apply all queued events; returns the number applied or -EIO. */
int lab_tracker_drain(struct lab_tracker *t);
/* Fill fds[] (room for LAB_MAX_NODES) with the event sockets; returns count. */
int lab_tracker_fds(struct lab_tracker *t, struct pollfd *fds);
uint32_t lab_tracker_mask(struct lab_tracker *t, const struct lab_addr *a);
/* Call fn for every address held somewhere (before == mask). */
void lab_tracker_foreach(struct lab_tracker *t, lab_change_fn fn, void *data);
void lab_tracker_stats(struct lab_tracker *t, unsigned *events, unsigned *resyncs);
/* Parse an RTM_NEWADDR/RTM_DELADDR into an address; -ENOENT if not global. */
int lab_addr_from_msg(struct nlmsghdr *h, struct lab_addr *ret);

#endif

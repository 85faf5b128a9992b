/* SPDX-License-Identifier: MIT */
/*
 * vipd/hooks: the notify hook (conf: Notify { command timeout }).
 *
 *   command acquire ADDRESS INTERFACE   after this node plumbed a DuraVIP
 *   command release ADDRESS INTERFACE   after it unplumbed one
 *   command node healthy|unhealthy|standby|active   on this node's changes
 *
 * Runs go through vipd/runner (vipd's user, no capabilities, stdin
 * /dev/null, a minimal environment, its own process group killed at the
 * timeout, output bounded). A hook never delays plumbing or announcing:
 * events are queued where they happen and started from the loop's next
 * turn. One run at a time per address (and one for the node events), in
 * the order of the events; different addresses run side by side, at most
 * VIPD_HOOKS_MAX_RUNNING at once. A run that fails, crashes or times out is
 * logged and counted and changes nothing else; a queue past
 * VIPD_HOOKS_QUEUE_MAX drops new events (counted, logged).
 */
#ifndef VIPD_HOOKS_H
#define VIPD_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "loop.h"
#include "runner.h"

#define VIPD_HOOKS_MAX_RUNNING 32
#define VIPD_HOOKS_QUEUE_MAX 16

struct vipd_hooks;

struct vipd_hooks_stats {
	uint64_t runs;     /* hook runs finished */
	uint64_t failures; /* ... that did not exit 0 (crash, timeout, could not start included) */
	uint64_t dropped;  /* events not run: a queue was full, or Notify was removed */
	uint64_t queued;   /* events waiting now */
	uint64_t running;  /* runs in progress now */
};

/* Hooks on loop through runner, configured by nc (no command: nothing runs). 0 or -errno. */
int vipd_hooks_new(struct loop *loop, struct vipd_runner *runner, const struct vipd_notify_conf *nc,
		   struct vipd_hooks **ret);
/* Runs in progress are killed (through the runner), queued events dropped. Accepts NULL. */
void vipd_hooks_free(struct vipd_hooks *h);
/*
 * A reloaded Notify: later runs use the new command and timeout; runs in
 * progress finish; without a command the queued events are dropped. 0 or
 * -errno (the old settings stay).
 */
int vipd_hooks_reconfigure(struct vipd_hooks *h, const struct vipd_notify_conf *nc);

/* A DuraVIP was plumbed (acquire) or unplumbed on ifname. Queued; no-op without a command. */
void vipd_hooks_address(struct vipd_hooks *h, bool acquire, const struct vip_addr *a, const char *ifname);
/* This node became "healthy", "unhealthy", "standby" or "active". */
void vipd_hooks_node(struct vipd_hooks *h, const char *state);

void vipd_hooks_get_stats(const struct vipd_hooks *h, struct vipd_hooks_stats *ret);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * vipd/health: the node's health checks (conf: Health_Check scopes). The
 * node is healthy while every check is; an unhealthy node is no candidate
 * for DuraVIPs (docs/protocol.md, "Candidacy"; vipd/daemon-node.c).
 *
 * Each check runs every interval (from the start of one run to the start of
 * the next; a run never overlaps the previous one) through the event loop,
 * never blocking it:
 *   - connect: a non-blocking TCP connect to address:port; with expect, the
 *     first bytes the server sends must start with it;
 *   - pidfile: the file holds a pid (> 0) and that process is alive:
 *     kill(pid, 0) succeeds or fails with EPERM (it exists, vipd's user may
 *     not signal it); ESRCH is dead;
 *   - command: vipd/runner.h runs it (vipd's user, no capabilities, its own
 *     process group killed at the timeout, output bounded and logged); exit
 *     status 0 passes.
 * A run longer than timeout fails. fall consecutive failures make a check
 * unhealthy, rise consecutive passes healthy again. A check starts
 * unhealthy (it has not passed rise times yet) unless initial = healthy.
 *
 * vipd_health_reconfigure applies a reload live: a new check starts in its
 * initial state and runs at once; a changed one keeps its state and
 * counters and runs at once with its new settings (a run in progress is
 * abandoned); a removed one stops.
 */
#ifndef VIPD_HEALTH_H
#define VIPD_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "loop.h"
#include "runner.h"

struct vipd_health;

/* What changed; valid during the callback. */
struct vipd_health_change {
	const char *check; /* the check that changed state, NULL: only the node's reason text */
	bool check_healthy;
	const char *text;  /* the check's last failure ("connect 127.0.0.1:25: Connection refused") or NULL */
	bool node_healthy; /* every check is healthy */
	const char *reason; /* node unhealthy: "mta (connect ...: Connection refused, 3 of 3)", else "" */
};
/* Called from the loop when a check changes state or the node's reason text changes. */
typedef void (*vipd_health_fn)(void *data, const struct vipd_health_change *ch);

/*
 * Checks from cfg on loop; commands run through runner (may be NULL when no
 * check is a command). The first runs start once the loop runs. 0 and
 * *ret, or -errno (-ENOMEM).
 */
int vipd_health_new(struct loop *loop, struct vipd_runner *runner, const struct vipd_config *cfg,
		    vipd_health_fn changed, void *data, struct vipd_health **ret);
/* Stop every run (a command is cancelled) and free. Accepts NULL. */
void vipd_health_free(struct vipd_health *h);
/* Apply a reloaded configuration (see above). 0 or -ENOMEM (then the old checks stay). */
int vipd_health_reconfigure(struct vipd_health *h, const struct vipd_config *cfg);

/* Every check is healthy (true with no check). */
bool vipd_health_healthy(const struct vipd_health *h);
/* The node's reason text (see struct vipd_health_change), "" when healthy. Valid until the next loop turn. */
const char *vipd_health_reason(const struct vipd_health *h);

struct vipd_health_info {
	const char *name;
	enum vipd_check_kind kind;
	const char *target;
	bool healthy;
	uint32_t fails, passes; /* consecutive */
	uint32_t fall, rise;
	const char *last_failure; /* "" when none yet */
	uint64_t runs, failures;
};
size_t vipd_health_n(const struct vipd_health *h);
/* i < vipd_health_n, configuration order. 0 or -ERANGE. */
int vipd_health_get(const struct vipd_health *h, size_t i, struct vipd_health_info *ret);

#endif

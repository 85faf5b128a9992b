/* SPDX-License-Identifier: MIT */
/*
 * vipd/daemon: this node's candidacy (docs/protocol.md, "Candidacy"). The
 * node is no candidate while it is in standby (cluster { Standby },
 * `vipctl cluster node standby`) or unhealthy (a health check fails,
 * vipd/health.h); the protocol hands its DuraVIPs to the others by the
 * normal hand-off, or, alone, unplumbs them. Every change is logged and
 * pushed as a `node` event.
 */
#include <stdio.h>

#include "daemon-internal.h"
#include "log.h"

static uint32_t wanted_out(const struct vipd_daemon *d)
{
	return (d->standby ? VIP_CL_OUT_STANDBY : 0) | (d->unhealthy ? VIP_CL_OUT_UNHEALTHY : 0);
}

void daemon_node_apply(struct vipd_daemon *d, const char *what, const char *detail)
{
	uint32_t out = wanted_out(d);
	char words[32];
	int r;

	if (d->stopping || out == vip_cl_proto_candidacy(d->proto))
		return; /* a planned stop released everything and left: nothing to tell */
	r = vip_cl_proto_set_candidacy(d->proto, out, loop_now_ms());
	if (r < 0) {
		log_error_errno(r, "Failed to change this node's candidacy: %m");
		return;
	}
	vip_cl_out_format(out, words, sizeof(words));
	if (out)
		log_notice("This node is no candidate for DuraVIPs (%s%s%s): they go to the other nodes, "
			   "or are unplumbed when none can take them",
			   words, detail ? ": " : "", detail ? detail : "");
	else
		log_notice("This node is a candidate for DuraVIPs again (%s); its preferred ones come back "
			   "after view_mature_time",
			   what);
	daemon_event(d, "node", NULL, detail ? detail : what);
	vipd_daemon_pump(d);
}

static void on_health(void *data, const struct vipd_health_change *ch)
{
	struct vipd_daemon *d = data;
	char detail[sizeof(d->unhealthy_reason) + 16];

	if (ch->check) {
		snprintf(detail, sizeof(detail), "%s %s%s%s", ch->check,
			 ch->check_healthy ? "healthy" : "unhealthy",
			 !ch->check_healthy && ch->text ? ": " : "",
			 !ch->check_healthy && ch->text ? ch->text : "");
		daemon_event(d, "health", NULL, detail);
	}
	if (d->unhealthy == ch->node_healthy)
		vipd_hooks_node(d->hooks, ch->node_healthy ? "healthy" : "unhealthy");
	d->unhealthy = !ch->node_healthy;
	snprintf(d->unhealthy_reason, sizeof(d->unhealthy_reason), "%s", ch->reason);
	snprintf(detail, sizeof(detail), "unhealthy: %s", ch->reason);
	daemon_node_apply(d, ch->node_healthy ? "healthy" : "unhealthy", ch->node_healthy ? NULL : detail);
}

int daemon_node_setup(struct vipd_daemon *d)
{
	int r = vipd_runner_new(d->loop, &d->runner);

	if (r < 0)
		return log_error_errno(r, "Failed to set up the command runner: %m");
	r = vipd_health_new(d->loop, d->runner, d->cfg, on_health, d, &d->health);
	if (r < 0)
		return log_error_errno(r, "Failed to set up the health checks: %m");
	r = vipd_hooks_new(d->loop, d->runner, &d->cfg->notify, &d->hooks);
	if (r < 0)
		return log_error_errno(r, "Failed to set up the notify hook: %m");
	d->standby = d->cfg->cluster.standby;
	d->unhealthy = !vipd_health_healthy(d->health);
	snprintf(d->unhealthy_reason, sizeof(d->unhealthy_reason), "%s", vipd_health_reason(d->health));
	/* before the first view: its STATE already says so (no plumbing a dead service) */
	r = vip_cl_proto_set_candidacy(d->proto, wanted_out(d), loop_now_ms());
	if (r < 0)
		return log_error_errno(r, "Failed to set up the ownership protocol: %m");
	if (d->standby)
		log_notice("Starting in standby (cluster { Standby = true }): this node takes no DuraVIP "
			   "until `vipctl cluster node active`");
	if (d->unhealthy)
		log_notice("Starting unhealthy until the health checks pass: %s", d->unhealthy_reason);
	return 0;
}

void daemon_node_reconfigure(struct vipd_daemon *d, const struct vipd_config *next, unsigned diff)
{
	int r;

	if (diff & VIP_CHANGE_NOTIFY) {
		r = vipd_hooks_reconfigure(d->hooks, &next->notify);
		if (r < 0)
			log_error_errno(r, "Failed to apply the new Notify (the old one stays): %m");
		else
			log_notice("Notify hook: %s", next->notify.command ? next->notify.command : "none");
	}
	if (diff & VIP_CHANGE_HEALTH) {
		r = vipd_health_reconfigure(d->health, next);
		if (r < 0)
			log_error_errno(r, "Failed to apply the new health checks (the old ones stay): %m");
		else
			log_notice("Health checks: %zu configured", vipd_health_n(d->health));
	}
}

void daemon_node_plumbed(struct vipd_daemon *d, bool acquire, const struct vip_addr *a, const char *ifname)
{
	vipd_hooks_address(d->hooks, acquire, a, ifname);
}

void daemon_node_free(struct vipd_daemon *d)
{
	vipd_hooks_free(d->hooks);
	d->hooks = NULL;
	vipd_health_free(d->health);
	d->health = NULL;
	vipd_runner_free(d->runner);
	d->runner = NULL;
}

int vipd_daemon_set_standby(struct vipd_daemon *d, bool on, const char *who)
{
	if (d->standby == on)
		return 0;
	d->standby = on;
	log_notice("%s: this node is %s", who, on ? "in standby" : "active");
	vipd_hooks_node(d->hooks, on ? "standby" : "active");
	daemon_node_apply(d, on ? "standby" : "active", NULL);
	return 1;
}

void vipd_daemon_get_node(const struct vipd_daemon *d, struct vipd_node_state *ret)
{
	*ret = (struct vipd_node_state){
		.standby = d->standby,
		.healthy = !d->unhealthy,
		.out = vip_cl_proto_candidacy(d->proto),
	};
	snprintf(ret->reason, sizeof(ret->reason), "%s", d->unhealthy ? d->unhealthy_reason : "");
	struct vipd_hooks_stats hs;
	vipd_hooks_get_stats(d->hooks, &hs);
	ret->hook_runs = hs.runs;
	ret->hook_failures = hs.failures;
	ret->hook_dropped = hs.dropped;
	ret->n_checks = vipd_health_n(d->health);
	for (size_t i = 0; i < ret->n_checks; i++) {
		struct vipd_health_info hi;
		if (vipd_health_get(d->health, i, &hi) < 0)
			continue;
		ret->n_failing += !hi.healthy;
		ret->check_runs += hi.runs;
		ret->check_failures += hi.failures;
	}
}

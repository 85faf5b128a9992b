/* SPDX-License-Identifier: MIT */
/*
 * vipd/daemon: `config reload` and SIGHUP.
 *
 * The new configuration is loaded and validated completely before anything
 * changes; with errors the running one stays ("Reconfigure failed"). What
 * needs a restart (the Security stanza, nodename, cluster_group) is reported
 * and not applied: the running values are carried over into the new
 * configuration, so the process keeps its identity and the group keeps its
 * name, while DuraVIPs, topology, timing and announcement options apply live.
 * Adding or removing the cluster scope (solo <-> cpg) cannot be applied live
 * at all: then nothing is applied.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon-internal.h"
#include "log.h"
#include "sdnotify.h"

static void swap_ptr(char **a, char **b)
{
	char *t = *a;

	*a = *b;
	*b = t;
}

/* Keep the running identity in the new configuration (see above). */
static void carry_over_identity(struct vipd_config *running, struct vipd_config *next)
{
	struct vipd_security sec = next->security;
	struct vip_conf_src s;

	next->security = running->security;
	running->security = sec;
	swap_ptr(&running->cluster.nodename, &next->cluster.nodename);
	swap_ptr(&running->cluster.cluster_group, &next->cluster.cluster_group);
	swap_ptr(&running->cluster.authkey, &next->cluster.authkey);
	s = running->cluster.src_authkey;
	running->cluster.src_authkey = next->cluster.src_authkey;
	next->cluster.src_authkey = s;
	s = running->cluster.src_nodename;
	running->cluster.src_nodename = next->cluster.src_nodename;
	next->cluster.src_nodename = s;
	s = running->cluster.src_cluster_group;
	running->cluster.src_cluster_group = next->cluster.src_cluster_group;
	next->cluster.src_cluster_group = s;
}

static const char *const outcome_names[_VIPD_RELOAD_OUTCOME_MAX] = {
	[VIPD_RELOAD_APPLIED] = "applied",
	[VIPD_RELOAD_REFUSED] = "refused",
	[VIPD_RELOAD_FAILED] = "failed",
};

const char *vipd_reload_outcome_to_string(enum vipd_reload_outcome o)
{
	if ((unsigned)o >= _VIPD_RELOAD_OUTCOME_MAX)
		return NULL;
	return outcome_names[o];
}

void vipd_reload_result_clear(struct vipd_reload_result *r)
{
	vip_conf_diag_clear(&r->diag);
	free(r->added);
	free(r->removed);
	free(r->changed);
	*r = (struct vipd_reload_result){ 0 };
}

static bool duravip_same(const struct vipd_config *o, const struct vipd_duravip *a,
			 const struct vipd_config *n, const struct vipd_duravip *b)
{
	if (a->prefix != b->prefix ||
	    !streq_ptr(vip_config_duravip_interface(o, a), vip_config_duravip_interface(n, b)) ||
	    !streq_ptr(a->binding, b->binding) || !streq_ptr(a->preference, b->preference) ||
	    !streq_ptr(a->follow, b->follow) || a->n_services != b->n_services)
		return false;
	for (size_t i = 0; i < a->n_services; i++)
		if (strcmp(a->services[i], b->services[i]) != 0)
			return false;
	return true;
}

/* The DuraVIPs added, removed and changed from o to n. 0 or -ENOMEM. */
static int diff_duravips(const struct vipd_config *o, const struct vipd_config *n,
			 struct vipd_reload_result *res)
{
	size_t most = o->n_duravips + n->n_duravips + 1;

	res->added = calloc(most, sizeof(*res->added));
	res->removed = calloc(most, sizeof(*res->removed));
	res->changed = calloc(most, sizeof(*res->changed));
	if (!res->added || !res->removed || !res->changed)
		return -ENOMEM;
	for (size_t i = 0; i < n->n_duravips; i++) {
		const struct vipd_duravip *old = vip_config_find_duravip(o, &n->duravips[i].addr);

		if (!old)
			res->added[res->n_added++] = n->duravips[i].addr;
		else if (!duravip_same(o, old, n, &n->duravips[i]))
			res->changed[res->n_changed++] = n->duravips[i].addr;
	}
	for (size_t i = 0; i < o->n_duravips; i++)
		if (!vip_config_find_duravip(n, &o->duravips[i].addr))
			res->removed[res->n_removed++] = o->duravips[i].addr;
	return 0;
}

static void apply(struct vipd_daemon *d, struct vipd_config *next, unsigned diff, uint64_t now)
{
	struct vipd_config *old = d->cfg;
	struct vipd_announce_opts ao;
	int r;

	/* Always: the running identity never changes live, and the control
	 * socket keeps pointers to the running Security strings. */
	carry_over_identity(old, next);
	r = vip_cl_proto_reconfigure(d->proto, next, now);
	if (r < 0)
		log_error_errno(r, "The ownership protocol refused the new configuration: %m");
	r = vipd_engine_reconfigure(d->engine, next, now);
	if (r < 0)
		log_error_errno(r, "The engine failed to take the new configuration: %m");
	/* Who may change state applies live, from the next request on. */
	if (diff & VIP_CHANGE_CONTROL) {
		r = d->control ? vipd_control_set_admin_group(d->control, next->control.admin_group,
							      next->control.admin_gid)
			       : 0;
		if (r < 0)
			log_error_errno(r, "Failed to apply Control { admin_group }: %m");
		else
			log_notice("Control { admin_group } is now %s: applies to the next command",
				   next->control.admin_group ? next->control.admin_group
							     : "none (root alone)");
	}
	vipd_announce_opts_from_config(&next->cluster, &ao);
	vipd_announce_set_opts(d->announce, &ao);
	daemon_neigh_reconfigure(d, next);
	d->cfg = next;
	if (old->cluster.duravip_liveness_timeout_ms != next->cluster.duravip_liveness_timeout_ms)
		daemon_cluster_set_liveness(d);
	if (diff & (VIP_CHANGE_HEALTH | VIP_CHANGE_NOTIFY))
		daemon_node_reconfigure(d, next, diff);
	/* a changed Standby applies live; an unchanged one leaves what the console set */
	if (diff & VIP_CHANGE_STANDBY)
		vipd_daemon_set_standby(d, next->cluster.standby, "Reconfigure (cluster { Standby })");
	daemon_arm_check_timer(d);
	if (diff & ~VIP_CHANGE_NEEDS_RESTART)
		d->config_since_ms = now;
	vip_config_free(old);
}

int vipd_daemon_reload(struct vipd_daemon *d, struct vipd_reload_result *ret)
{
	struct vipd_reload_result res = { .config_path = d->opts.config_path };
	struct vipd_config *next = NULL;
	uint64_t now = loop_now_ms();
	unsigned diff;
	int r, ret_r;

	vipd_sd_notify("RELOADING=1");
	d->stats.reloads++;
	struct daemon_reload_ctx rctx = {
		.running = d->cfg,
		.root = d->chrooted ? d->cfg->security.chroot : NULL,
		.corosync_token_ms = d->corosync_token_ms,
	};
	r = daemon_load(&d->opts, &rctx, &next, &res.diag, NULL);
	if (r < 0) {
		d->stats.reload_failures++;
		log_error("Reconfigure failed: keeping the running configuration");
		res.outcome = VIPD_RELOAD_FAILED;
		res.load_error = res.diag.n_errors ? 0 : r;
		goto notify_ready;
	}
	diff = vip_config_diff(d->cfg, next);
	r = diff_duravips(d->cfg, next, &res);
	if (r < 0) {
		log_error_errno(r, "Reconfigure failed: %m");
		res.outcome = VIPD_RELOAD_FAILED;
		res.load_error = r;
		vip_config_free(next);
		goto notify_ready;
	}
	res.outcome = diff & VIP_CHANGE_CLUSTER_MODE ? VIPD_RELOAD_REFUSED : VIPD_RELOAD_APPLIED;
	res.needs_restart = d->restart_needed = diff & VIP_CHANGE_NEEDS_RESTART;
	if (d->restart_needed)
		log_warning(
			"Reconfigure: the Security stanza, nodename, cluster_group, authkey or cluster scope changed; "
			"restart vipd to apply that part");
	if (res.outcome == VIPD_RELOAD_APPLIED) {
		res.admin_group_changed = diff & VIP_CHANGE_CONTROL;
		apply(d, next, diff, now);
		res.admin_group = d->cfg->control.admin_group;
		log_notice("Reconfigured: %zu DuraVIP%s added, %zu removed, %zu changed", res.n_added,
			   res.n_added == 1 ? "" : "s", res.n_removed, res.n_changed);
		daemon_event(d, "reconfigured", NULL, NULL);
	} else {
		vip_config_free(next);
	}
	vipd_daemon_pump(d);
notify_ready:
	vipd_sd_notify("READY=1");
	ret_r = res.outcome != VIPD_RELOAD_FAILED ? 0 : res.load_error ? res.load_error : -EINVAL;
	if (ret)
		*ret = res;
	else
		vipd_reload_result_clear(&res);
	return ret_r;
}

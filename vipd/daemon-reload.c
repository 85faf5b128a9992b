// SPDX-License-Identifier: MIT
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
	s = running->cluster.src_nodename;
	running->cluster.src_nodename = next->cluster.src_nodename;
	next->cluster.src_nodename = s;
	s = running->cluster.src_cluster_group;
	running->cluster.src_cluster_group = next->cluster.src_cluster_group;
	next->cluster.src_cluster_group = s;
}

struct reload_report {
	struct vip_ctl_buf added, removed, changed; /* comma lists */
	size_t n_added, n_removed, n_changed;
};

static void list_add(struct vip_ctl_buf *b, size_t *n, const struct vip_addr *a, bool json)
{
	char buf[VIP_ADDR_STRLEN];

	vip_addr_to_string(a, buf, sizeof(buf));
	vip_ctl_buf_printf(b, json ? "%s\"%s\"" : "%s%s", *n ? (json ? "," : ", ") : "", buf);
	(*n)++;
}

static bool duravip_same(const struct vipd_duravip *a, const struct vipd_duravip *b)
{
	if (a->prefix != b->prefix || !streq_ptr(a->interface, b->interface) || !streq_ptr(a->binding, b->binding) ||
	    !streq_ptr(a->preference, b->preference) || !streq_ptr(a->follow, b->follow) ||
	    a->n_services != b->n_services)
		return false;
	for (size_t i = 0; i < a->n_services; i++)
		if (strcmp(a->services[i], b->services[i]) != 0)
			return false;
	return true;
}

static void diff_duravips(const struct vipd_config *o, const struct vipd_config *n, struct reload_report *rep,
			  bool json)
{
	for (size_t i = 0; i < n->n_duravips; i++) {
		const struct vipd_duravip *old = vip_config_find_duravip(o, &n->duravips[i].addr);

		if (!old)
			list_add(&rep->added, &rep->n_added, &n->duravips[i].addr, json);
		else if (!duravip_same(old, &n->duravips[i]))
			list_add(&rep->changed, &rep->n_changed, &n->duravips[i].addr, json);
	}
	for (size_t i = 0; i < o->n_duravips; i++)
		if (!vip_config_find_duravip(n, &o->duravips[i].addr))
			list_add(&rep->removed, &rep->n_removed, &o->duravips[i].addr, json);
}

static const char *buf_str(struct vip_ctl_buf *b)
{
	if (vip_ctl_buf_append(b, "", 1) < 0)
		return "";
	b->len--;
	return (const char *)b->data;
}

static void restart_words(unsigned diff, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", diff & VIP_CHANGE_SECURITY ? " Security" : "",
		 diff & VIP_CHANGE_IDENTITY ? " nodename/cluster_group" : "",
		 diff & VIP_CHANGE_CLUSTER_MODE ? " cluster-scope" : "");
}

/* " N DuraVIPs added (a, b)" then end. */
static void summary(struct vip_ctl_buf *out, const char *what, size_t n, struct vip_ctl_buf *list, const char *end)
{
	vip_ctl_buf_printf(out, " %zu DuraVIP%s %s", n, n == 1 ? "" : "s", what);
	if (n)
		vip_ctl_buf_printf(out, " (%s)", buf_str(list));
	vip_ctl_buf_puts(out, end);
}

static void report(struct vip_ctl_buf *out, bool json, unsigned diff, bool applied, struct reload_report *rep)
{
	char words[96];
	unsigned restart = diff & VIP_CHANGE_NEEDS_RESTART;

	restart_words(restart, words, sizeof(words));
	if (json) {
		vip_ctl_buf_printf(out, "{\"result\":\"%s\",\"added\":[%s],\"removed\":[%s],\"changed\":[%s],"
					"\"needs_restart\":[",
				   applied ? "applied" : "refused", buf_str(&rep->added), buf_str(&rep->removed),
				   buf_str(&rep->changed));
		const char *sep = "";
		if (restart & VIP_CHANGE_SECURITY)
			vip_ctl_buf_printf(out, "%s\"security\"", sep), sep = ",";
		if (restart & VIP_CHANGE_IDENTITY)
			vip_ctl_buf_printf(out, "%s\"identity\"", sep), sep = ",";
		if (restart & VIP_CHANGE_CLUSTER_MODE)
			vip_ctl_buf_printf(out, "%s\"cluster_mode\"", sep);
		vip_ctl_buf_puts(out, "]}\n");
		return;
	}
	if (restart)
		vip_ctl_buf_printf(out, "Changed%s: needs a restart of vipd; not applied.\n", words);
	if (!applied) {
		vip_ctl_buf_puts(out, "Reconfigure refused: nothing was applied.\n");
		return;
	}
	vip_ctl_buf_puts(out, "Reconfigured:");
	summary(out, "added", rep->n_added, &rep->added, ",");
	summary(out, "removed", rep->n_removed, &rep->removed, ",");
	summary(out, "changed", rep->n_changed, &rep->changed, ".\n");
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
	vipd_announce_opts_from_config(&next->cluster, &ao);
	vipd_announce_set_opts(d->announce, &ao);
	d->cfg = next;
	if (old->cluster.duravip_liveness_timeout_ms != next->cluster.duravip_liveness_timeout_ms)
		daemon_cluster_set_liveness(d);
	daemon_arm_check_timer(d);
	if (diff & ~VIP_CHANGE_NEEDS_RESTART)
		d->config_since_ms = now;
	vip_config_free(old);
}

int vipd_daemon_reload(struct vipd_daemon *d, struct vip_ctl_buf *out, bool json)
{
	struct vip_ctl_buf local = { 0 }, errors = { 0 }, *o = out ? out : &local;
	struct reload_report rep = { 0 };
	struct vipd_config *next = NULL;
	uint64_t now = loop_now_ms();
	unsigned diff;
	bool applied;
	int r;

	vipd_sd_notify("RELOADING=1");
	d->stats.reloads++;
	r = daemon_load(&d->opts, &next, &errors);
	if (r < 0) {
		d->stats.reload_failures++;
		log_error("Reconfigure failed: keeping the running configuration");
		if (json) {
			vip_ctl_buf_puts(o, "{\"result\":\"failed\",\"errors\":");
			vip_ctl_buf_json_string(o, buf_str(&errors));
			vip_ctl_buf_puts(o, "}\n");
		} else {
			vip_ctl_buf_printf(o, "%sReconfigure failed: the running configuration is kept.\n",
					   buf_str(&errors));
		}
		vipd_sd_notify("READY=1");
		vip_ctl_buf_free(&errors);
		vip_ctl_buf_free(&local);
		return -EINVAL;
	}
	if (!json)
		vip_ctl_buf_puts(o, buf_str(&errors)); /* warnings */
	vip_ctl_buf_free(&errors);
	diff = vip_config_diff(d->cfg, next);
	diff_duravips(d->cfg, next, &rep, json);
	applied = !(diff & VIP_CHANGE_CLUSTER_MODE);
	d->restart_needed = diff & VIP_CHANGE_NEEDS_RESTART;
	report(o, json, diff, applied, &rep);
	if (d->restart_needed)
		log_warning("Reconfigure: the Security stanza, nodename, cluster_group or cluster scope changed; "
			    "restart vipd to apply that part");
	if (applied) {
		apply(d, next, diff, now);
		log_notice("Reconfigured: %zu DuraVIP%s added, %zu removed, %zu changed", rep.n_added,
			   rep.n_added == 1 ? "" : "s", rep.n_removed, rep.n_changed);
		vipd_daemon_event(d, "reconfigured", NULL, NULL);
	} else {
		vip_config_free(next);
	}
	vip_ctl_buf_free(&rep.added);
	vip_ctl_buf_free(&rep.removed);
	vip_ctl_buf_free(&rep.changed);
	vip_ctl_buf_free(&local);
	vipd_sd_notify("READY=1");
	vipd_daemon_pump(d);
	return 0;
}

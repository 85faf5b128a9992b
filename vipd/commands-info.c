// SPDX-License-Identifier: MIT
/*
 * vipd/commands: `config show security` and `metrics`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands-internal.h"
#include "privdrop.h"

/* The lines of /proc/self/status that describe identity and privileges. */
static const char *const status_keys[] = {
	"Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp",
};

static void status_lines(struct vip_ctl_buf *o, bool json)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
	char line[512];
	bool first = true;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		char *val;

		if (!colon)
			continue;
		*colon = '\0';
		val = colon + 1;
		val += strspn(val, " \t");
		val[strcspn(val, "\n")] = '\0';
		for (size_t i = 0; i < ARRAY_SIZE(status_keys); i++) {
			if (strcmp(line, status_keys[i]) != 0)
				continue;
			if (json) {
				vip_ctl_buf_printf(o, "%s\"%s\":", first ? "" : ",", line);
				vip_ctl_buf_json_string(o, val);
			} else {
				vip_ctl_buf_printf(o, "    %-11s %s\n", line, val);
			}
			first = false;
		}
	}
}

int cmd_security(struct vipd_control_call *call)
{
	struct vipd_daemon *d = call->userdata;
	const struct vipd_security *s = &d->cfg->security;
	_cleanup_free_ char *id = NULL;
	struct vip_ctl_buf *o = call->out;
	int r = vip_privdrop_identity(&id);

	if (r < 0)
		return r;
	if (call->json) {
		vip_ctl_buf_printf(o, "{\"configured\":{\"user\":");
		cmd_json_str_or_null(o, s->user);
		vip_ctl_buf_printf(o, ",\"uid\":%u,\"group\":", (unsigned)s->uid);
		cmd_json_str_or_null(o, s->group);
		vip_ctl_buf_printf(o, ",\"gid\":%u,\"capabilities\":", (unsigned)s->gid);
		cmd_json_str_or_null(o, s->capabilities);
		vip_ctl_buf_puts(o, ",\"chroot\":");
		cmd_json_str_or_null(o, s->chroot);
		vip_ctl_buf_puts(o, "},\"running\":{\"identity\":");
		vip_ctl_buf_json_string(o, id);
		vip_ctl_buf_puts(o, ",\"status\":{");
		status_lines(o, true);
		vip_ctl_buf_printf(o, "}},\"restart_needed\":%s}\n",
				   d->restart_needed & VIP_CHANGE_SECURITY ? "true" : "false");
		return 0;
	}
	vip_ctl_buf_printf(o, "Configured: user %s (%u), group %s (%u), capabilities %s%s%s\n", s->user,
			   (unsigned)s->uid, s->group, (unsigned)s->gid, s->capabilities ? s->capabilities : "(none)",
			   s->chroot ? ", chroot " : "", s->chroot ? s->chroot : "");
	vip_ctl_buf_printf(o, "Running:    %s\n", id);
	vip_ctl_buf_puts(o, "Kernel (/proc/self/status):\n");
	status_lines(o, false);
	if (d->restart_needed & VIP_CHANGE_SECURITY)
		vip_ctl_buf_puts(o, "The Security stanza on disk differs: restart vipd to apply it.\n");
	return 0;
}

struct metric {
	const char *name;
	const char *type; /* counter, gauge */
	const char *help;
	double value;
};

static void metrics_collect(struct vipd_daemon *d, struct metric *m, size_t *n)
{
	struct vipd_engine_metrics em;
	struct vipd_announce_stats as;
	struct vip_cl_status st;
	uint64_t now = loop_now_ms();
	size_t i = 0;

	vipd_engine_get_metrics(d->engine, &em);
	vipd_announce_get_stats(d->announce, &as);
	vip_cl_proto_status(d->proto, &st);
#define M(n_, t_, h_, v_) m[i++] = (struct metric){ n_, t_, h_, (double)(v_) }
	M("vipd_duravips_configured", "gauge", "DuraVIPs in the configuration", d->cfg->n_duravips);
	M("vipd_duravips_owned", "gauge", "DuraVIPs plumbed on this node", em.owned);
	M("vipd_duravip_moves_total", "counter", "operator moves applied by the group", st.n_moves);
	M("vipd_balance_rounds_total", "counter", "balancing rounds applied by the group", st.n_balances);
	M("vipd_acquisitions_total", "counter", "DuraVIPs plumbed", em.acquired);
	M("vipd_releases_total", "counter", "DuraVIPs unplumbed", em.released);
	M("vipd_put_back_total", "counter", "DuraVIPs removed by someone else and plumbed again", em.put_back);
	M("vipd_announcements_total", "counter", "addresses announced (ARP or NA)", as.announced);
	M("vipd_announcement_packets_total", "counter", "announcement packets sent", as.packets);
	M("vipd_announce_errors_total", "counter", "announcement sends that failed", as.errors);
	M("vipd_netlink_errors_total", "counter", "failed address requests and netlink calls", em.netlink_errors);
	M("vipd_resyncs_total", "counter", "full address dumps after lost events", em.resyncs);
	M("vipd_link_releases_total", "counter", "interfaces given up after if_down_limit checks", em.link_releases);
	M("vipd_view_changes_total", "counter", "membership views delivered", d->stats.view_changes);
	M("vipd_members", "gauge", "members in the current view", vip_cl_proto_n_members(d->proto));
	M("vipd_quorate", "gauge", "1 when this partition is quorate", st.quorate);
	M("vipd_cluster_messages_malformed_total", "counter", "cluster messages dropped as malformed", st.n_malformed);
	M("vipd_members_waiting", "gauge", "members of the open round not heard yet", st.n_waiting);
	M("vipd_members_silent", "gauge", "members the closed round did not hear (they keep what they hold)", st.n_silent);
	M("vipd_ghosts", "gauge", "crashed engines whose addresses wait for their monitor's FLUSHED", st.n_ghosts);
	M("vipd_round_closes_total", "counter", "rounds closed by CLOSE at the round timeout", st.n_closes);
	M("vipd_state_retries_total", "counter", "own STATE queued again for want of delivery", st.n_state_retries);
	M("vipd_cluster_sends_dropped_total", "counter", "cluster messages the backend refused", st.n_send_dropped);
	M("vipd_cluster_live", "gauge", "1 while this node's corosync answers", st.live);
	M("vipd_backend_connected", "gauge", "1 when connected to the membership engine", d->be != NULL);
	M("vipd_backend_reconnects_total", "counter", "reconnects to the membership engine", d->stats.backend_reconnects);
	M("vipd_reloads_total", "counter", "configuration reloads", d->stats.reloads);
	M("vipd_reload_failures_total", "counter", "reloads refused for errors", d->stats.reload_failures);
	M("vipd_failovers_total", "counter", "failovers measured on this node", em.failovers);
	M("vipd_last_failover_duration_seconds", "gauge",
	  "view that lost a member -> last address plumbed and first announcement sent", em.last_failover_ms / 1000.0);
	M("vipd_uptime_seconds", "gauge", "seconds since start", cmd_age(now, d->started_ms) / 1000.0);
#undef M
	*n = i;
}

int cmd_metrics(struct vipd_control_call *call)
{
	struct metric m[48];
	size_t n;

	metrics_collect(call->userdata, m, &n);
	if (call->json)
		vip_ctl_buf_puts(call->out, "{");
	for (size_t i = 0; i < n; i++) {
		if (call->json) {
			vip_ctl_buf_printf(call->out, "%s\"%s\":%.15g", i ? "," : "", m[i].name, m[i].value);
			continue;
		}
		vip_ctl_buf_printf(call->out, "# HELP %s %s\n# TYPE %s %s\n%s %.15g\n", m[i].name, m[i].help,
				   m[i].name, m[i].type, m[i].name, m[i].value);
	}
	if (call->json)
		vip_ctl_buf_puts(call->out, "}\n");
	return 0;
}

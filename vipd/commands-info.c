/* SPDX-License-Identifier: MIT */
/*
 * vipd/commands: `config reload`, `config show security` and `metrics`.
 */
#include <assert.h>
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands-internal.h"
#include "privdrop.h"

/* ---------------------------------------------------------------- config reload */

static void addr_list_text(struct vip_ctl_buf *o, const char *what, const struct vip_addr *a, size_t n,
			   const char *end)
{
	char buf[VIP_ADDR_STRLEN];

	vip_ctl_buf_printf(o, " %zu DuraVIP%s %s", n, cmd_plural(n), what);
	for (size_t i = 0; i < n; i++)
		vip_ctl_buf_printf(o, "%s%s", i ? ", " : " (", vip_addr_to_string(&a[i], buf, sizeof(buf)));
	vip_ctl_buf_printf(o, "%s%s", n ? ")" : "", end);
}

static void diag_text(struct vip_ctl_buf *o, const struct vip_conf_diag *diag)
{
	for (size_t i = 0; i < diag->n; i++) {
		_cleanup_free_ char *line = vip_conf_diagnostic_format(&diag->items[i]);

		vip_ctl_buf_printf(o, "%s\n", line ? line : diag->items[i].message);
	}
}

static void reload_text(struct vip_ctl_buf *o, const void *data)
{
	const struct vipd_reload_result *r = data;
	unsigned nr = r->needs_restart;

	diag_text(o, &r->diag);
	if (r->outcome == VIPD_RELOAD_FAILED) {
		if (r->load_error)
			vip_ctl_buf_printf(o, "%s: error: %s\n", r->config_path, strerror(-r->load_error));
		vip_ctl_buf_puts(o, "Reconfigure failed: the running configuration is kept.\n");
		return;
	}
	if (nr)
		vip_ctl_buf_printf(o, "Changed%s%s%s: needs a restart of vipd; not applied.\n",
				   nr & VIP_CHANGE_SECURITY ? " Security" : "",
				   nr & VIP_CHANGE_IDENTITY ? " nodename/cluster_group/authkey" : "",
				   nr & VIP_CHANGE_CLUSTER_MODE ? " cluster-scope" : "");
	if (r->outcome == VIPD_RELOAD_REFUSED) {
		vip_ctl_buf_puts(o, "Reconfigure refused: nothing was applied.\n");
		return;
	}
	vip_ctl_buf_puts(o, "Reconfigured:");
	addr_list_text(o, "added", r->added, r->n_added, ",");
	addr_list_text(o, "removed", r->removed, r->n_removed, ",");
	addr_list_text(o, "changed", r->changed, r->n_changed, ".\n");
	if (r->admin_group_changed)
		vip_ctl_buf_printf(o, "Control admin_group is now %s (applied live).\n",
				   r->admin_group ? r->admin_group : "none: root alone changes state");
}

static void addr_list_json(struct vip_json *w, const char *key, const struct vip_addr *a, size_t n)
{
	char buf[VIP_ADDR_STRLEN];

	vip_json_array_begin(w, key);
	for (size_t i = 0; i < n; i++)
		vip_json_string(w, NULL, vip_addr_to_string(&a[i], buf, sizeof(buf)));
	vip_json_array_end(w);
}

static void diag_json(struct vip_json *w, const char *key, const struct vipd_reload_result *r)
{
	vip_json_array_begin(w, key);
	for (size_t i = 0; i < r->diag.n; i++) {
		_cleanup_free_ char *line = vip_conf_diagnostic_format(&r->diag.items[i]);

		vip_json_string(w, NULL, line ? line : r->diag.items[i].message);
	}
	if (r->load_error)
		vip_json_stringf(w, NULL, "%s: error: %s", r->config_path, strerror(-r->load_error));
	vip_json_array_end(w);
}

static void reload_json(struct vip_json *w, const void *data)
{
	const struct vipd_reload_result *r = data;

	vip_json_object_begin(w, NULL);
	vip_json_string(w, "result", vipd_reload_outcome_to_string(r->outcome));
	if (r->outcome == VIPD_RELOAD_FAILED) {
		vip_json_string(w, "error", "Reconfigure failed: the running configuration is kept");
		vip_json_uint(w, "status", VIP_CTL_FAILED);
		diag_json(w, "errors", r);
		vip_json_object_end(w);
		return;
	}
	addr_list_json(w, "added", r->added, r->n_added);
	addr_list_json(w, "removed", r->removed, r->n_removed);
	addr_list_json(w, "changed", r->changed, r->n_changed);
	vip_json_array_begin(w, "needs_restart");
	if (r->needs_restart & VIP_CHANGE_SECURITY)
		vip_json_string(w, NULL, "security");
	if (r->needs_restart & VIP_CHANGE_IDENTITY)
		vip_json_string(w, NULL, "identity");
	if (r->needs_restart & VIP_CHANGE_CLUSTER_MODE)
		vip_json_string(w, NULL, "cluster_mode");
	vip_json_array_end(w);
	vip_json_bool(w, "admin_group_changed", r->admin_group_changed);
	vip_json_string(w, "admin_group", r->admin_group);
	diag_json(w, "warnings", r);
	vip_json_object_end(w);
}

int cmd_reload(struct vipd_control_call *call)
{
	static const struct vipd_control_view view = { reload_json, reload_text };
	struct vipd_reload_result res;
	int status;

	(void)vipd_daemon_reload(call->userdata, &res);
	vipd_control_reply(call, &view, &res);
	status = res.outcome == VIPD_RELOAD_FAILED ? VIP_CTL_FAILED : VIP_CTL_OK;
	vipd_reload_result_clear(&res);
	return status;
}

/* ---------------------------------------------------------------- config show security */

/* The lines of /proc/self/status that describe identity and privileges. */
static const char *const status_keys[] = {
	"Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp",
};

struct security {
	const struct vipd_security *cfg;
	char *identity;
	bool restart_needed;
	struct {
		const char *key;
		char value[256];
	} status[ARRAY_SIZE(status_keys)];
	size_t n_status;
};

static void read_status(struct security *s)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
	char line[512];

	while (f && fgets(line, sizeof(line), f) && s->n_status < ARRAY_SIZE(s->status)) {
		char *colon = strchr(line, ':'), *val;

		if (!colon)
			continue;
		*colon = '\0';
		val = colon + 1 + strspn(colon + 1, " \t");
		val[strcspn(val, "\n")] = '\0';
		for (size_t i = 0; i < ARRAY_SIZE(status_keys); i++) {
			if (strcmp(line, status_keys[i]) != 0)
				continue;
			s->status[s->n_status].key = status_keys[i];
			snprintf(s->status[s->n_status].value, sizeof(s->status[0].value), "%s", val);
			s->n_status++;
		}
	}
}

static void security_text(struct vip_ctl_buf *o, const void *data)
{
	const struct security *s = data;
	const struct vipd_security *c = s->cfg;

	vip_ctl_buf_printf(o, "Configured: user %s (%u), group %s (%u), capabilities %s%s%s\n", c->user,
			   (unsigned)c->uid, c->group, (unsigned)c->gid,
			   c->capabilities ? c->capabilities : "(none)", c->chroot ? ", chroot " : "",
			   c->chroot ? c->chroot : "");
	vip_ctl_buf_printf(o, "Running:    %s\n", s->identity);
	vip_ctl_buf_puts(o, "Kernel (/proc/self/status):\n");
	for (size_t i = 0; i < s->n_status; i++)
		vip_ctl_buf_printf(o, "    %-11s %s\n", s->status[i].key, s->status[i].value);
	if (s->restart_needed)
		vip_ctl_buf_puts(o, "The Security stanza on disk differs: restart vipd to apply it.\n");
}

static void security_json(struct vip_json *w, const void *data)
{
	const struct security *s = data;
	const struct vipd_security *c = s->cfg;

	vip_json_object_begin(w, NULL);
	vip_json_object_begin(w, "configured");
	vip_json_string(w, "user", c->user);
	vip_json_uint(w, "uid", c->uid);
	vip_json_string(w, "group", c->group);
	vip_json_uint(w, "gid", c->gid);
	vip_json_string(w, "capabilities", c->capabilities);
	vip_json_string(w, "chroot", c->chroot);
	vip_json_object_end(w);
	vip_json_object_begin(w, "running");
	vip_json_string(w, "identity", s->identity);
	vip_json_object_begin(w, "status");
	for (size_t i = 0; i < s->n_status; i++)
		vip_json_string(w, s->status[i].key, s->status[i].value);
	vip_json_object_end(w);
	vip_json_object_end(w);
	vip_json_bool(w, "restart_needed", s->restart_needed);
	vip_json_object_end(w);
}

int cmd_security(struct vipd_control_call *call)
{
	static const struct vipd_control_view view = { security_json, security_text };
	struct vipd_daemon_info info;
	struct security s = { .cfg = &vipd_daemon_config(call->userdata)->security };
	int r = vip_privdrop_identity(&s.identity);

	if (r < 0)
		return r;
	vipd_daemon_get_info(call->userdata, &info);
	s.restart_needed = info.restart_needed & VIP_CHANGE_SECURITY;
	read_status(&s);
	r = vipd_control_reply(call, &view, &s);
	free(s.identity);
	return r;
}

/* ---------------------------------------------------------------- metrics */

struct metric {
	const char *name;
	const char *type; /* counter, gauge */
	const char *help;
	double value;
};

struct metrics {
	struct metric m[80];
	size_t n;
};

/* The malloc heap (not the blocks it maps on their own): bytes in use and free in it. */
static void heap_bytes(size_t *ret_used, size_t *ret_free)
{
	*ret_used = *ret_free = 0;
#ifdef __GLIBC__
	struct mallinfo2 mi = mallinfo2();

	*ret_used = mi.uordblks;
	*ret_free = mi.fordblks;
#endif
}

static void metrics_collect(struct vipd_daemon *d, struct metrics *out)
{
	const struct vip_cl_proto *p = vipd_daemon_proto(d);
	struct vipd_engine_metrics em;
	struct vipd_announce_stats as;
	struct vipd_daemon_info di;
	struct vip_cl_status st;
	struct vipd_node_state ns;
	struct vipd_neigh_stats nst = { 0 };
	struct vip_cl_mem mem;
	size_t heap_used, heap_free;
	struct metric *m = out->m;
	size_t i = 0;

	vipd_engine_get_metrics(vipd_daemon_engine(d), &em);
	vipd_announce_get_stats(vipd_daemon_announce(d), &as);
	vipd_daemon_get_info(d, &di);
	vip_cl_proto_status(p, &st);
	vipd_daemon_get_node(d, &ns);
	if (vipd_daemon_neigh(d))
		vipd_neigh_get_stats(vipd_daemon_neigh(d), &nst);
	vip_cl_proto_mem(p, &mem);
#define M(n_, t_, h_, v_)                                             \
	do {                                                          \
		assert(i < ARRAY_SIZE(out->m));                       \
		m[i++] = (struct metric){ n_, t_, h_, (double)(v_) }; \
	} while (0)
	M("vipd_duravips_configured", "gauge", "DuraVIPs in the configuration",
	  vipd_daemon_config(d)->n_duravips);
	M("vipd_duravips_owned", "gauge", "DuraVIPs plumbed on this node", em.owned);
	M("vipd_duravip_moves_total", "counter", "operator moves applied by the group", st.n_moves);
	M("vipd_balance_rounds_total", "counter", "balancing rounds applied by the group", st.n_balances);
	M("vipd_acquisitions_total", "counter", "DuraVIPs plumbed", em.acquired);
	M("vipd_releases_total", "counter", "DuraVIPs unplumbed", em.released);
	M("vipd_put_back_total", "counter", "DuraVIPs removed by someone else and plumbed again",
	  em.put_back);
	M("vipd_announcements_total", "counter", "addresses announced (ARP or NA)", as.announced);
	M("vipd_announcement_packets_total", "counter", "announcement packets sent", as.packets);
	M("vipd_announce_errors_total", "counter", "announcement sends that failed", as.errors);
	M("vipd_announce_unicast_total", "counter",
	  "unicast announcements sent (arp_all_hosts = false: one per address per host)", as.unicast);
	M("vipd_announce_fallbacks_total", "counter",
	  "announcements broadcast because no host was known (arp_all_hosts = false)", as.fallbacks);
	M("vipd_netlink_errors_total", "counter", "failed address requests and netlink calls",
	  em.netlink_errors);
	M("vipd_resyncs_total", "counter", "full address dumps after lost events", em.resyncs);
	M("vipd_link_releases_total", "counter", "interfaces given up after if_down_limit checks",
	  em.link_releases);
	M("vipd_probes_sent_total", "counter", "address probes sent before taking a DuraVIP over",
	  em.probes_sent);
	M("vipd_probe_claims_total", "counter", "probes another host answered (the DuraVIP waited)",
	  em.probe_claims);
	M("vipd_probe_cleared_total", "counter", "DuraVIPs plumbed after a probe nobody answered",
	  em.probe_cleared);
	M("vipd_view_changes_total", "counter", "membership views delivered", di.stats.view_changes);
	M("vipd_members", "gauge", "members in the current view", vip_cl_proto_n_members(p));
	M("vipd_quorate", "gauge", "1 when this partition is quorate", st.quorate);
	M("vipd_cluster_messages_malformed_total", "counter", "cluster messages dropped as malformed",
	  st.n_malformed);
	M("vipd_cluster_authenticated", "gauge",
	  "1 when cluster messages are authenticated (cluster { authkey })", st.authenticated);
	M("vipd_cluster_auth_failed_total", "counter",
	  "cluster messages dropped: no valid MAC for their sender", st.n_auth_failed);
	M("vipd_cluster_auth_replayed_total", "counter",
	  "cluster messages dropped: sequence number already seen", st.n_auth_replayed);
	M("vipd_members_waiting", "gauge", "members of the open round not heard yet", st.n_waiting);
	M("vipd_members_silent", "gauge", "members the closed round did not hear (they keep what they hold)",
	  st.n_silent);
	M("vipd_ghosts", "gauge", "crashed engines whose addresses wait for their monitor's FLUSHED",
	  st.n_ghosts);
	M("vipd_round_closes_total", "counter", "rounds closed by CLOSE at the round timeout", st.n_closes);
	M("vipd_state_retries_total", "counter", "own STATE queued again for want of delivery",
	  st.n_state_retries);
	M("vipd_cluster_sends_dropped_total", "counter", "cluster messages the backend refused",
	  st.n_send_dropped);
	M("vipd_cluster_live", "gauge", "1 while this node's corosync answers", st.live);
	M("vipd_backend_connected", "gauge", "1 when connected to the membership engine", di.connected);
	M("vipd_backend_reconnects_total", "counter", "reconnects to the membership engine",
	  di.stats.backend_reconnects);
	M("vipd_reloads_total", "counter", "configuration reloads", di.stats.reloads);
	M("vipd_reload_failures_total", "counter", "reloads refused for errors", di.stats.reload_failures);
	M("vipd_failovers_total", "counter", "failovers measured on this node", em.failovers);
	M("vipd_last_failover_duration_seconds", "gauge",
	  "view that lost a member -> last address plumbed and first announcement sent",
	  em.last_failover_ms / 1000.0);
	M("vipd_node_standby", "gauge", "1 while this node is in standby", ns.standby);
	M("vipd_node_healthy", "gauge", "1 while this node's health checks pass", ns.healthy);
	M("vipd_node_candidate", "gauge", "1 while this node takes DuraVIPs (not in standby, healthy)",
	  ns.out == 0);
	M("vipd_health_checks", "gauge", "health checks configured", ns.n_checks);
	M("vipd_health_checks_failing", "gauge", "health checks unhealthy now", ns.n_failing);
	M("vipd_health_check_runs_total", "counter", "health check runs", ns.check_runs);
	M("vipd_health_check_failures_total", "counter", "health check runs that failed", ns.check_failures);
	M("vipd_hook_runs_total", "counter", "notify hook runs finished", ns.hook_runs);
	M("vipd_hook_failures_total", "counter",
	  "notify hook runs that failed, crashed, timed out or could not start", ns.hook_failures);
	M("vipd_hook_dropped_total", "counter", "notify hook events not run (queue full, Notify removed)",
	  ns.hook_dropped);
	M("vipd_neigh_cache_entries", "gauge", "hosts in the shared neighbour cache (every node's)",
	  nst.entries);
	M("vipd_neigh_cache_learnt_here", "gauge", "neighbour cache entries this node learnt", nst.own);
	M("vipd_neigh_cache_evicted_total", "counter", "neighbour cache entries dropped for arp_cache_size",
	  nst.evicted);
	M("vipd_neigh_cache_expired_total", "counter",
	  "neighbour cache entries dropped for arp_cache_max_age", nst.expired);
	M("vipd_neigh_messages_sent_total", "counter", "NEIGH messages this node made", nst.batches);
	M("vipd_neigh_messages_received_total", "counter", "NEIGH messages of other nodes merged",
	  nst.received);
	M("vipd_uptime_seconds", "gauge", "seconds since start",
	  cmd_age(loop_now_ms(), di.started_ms) / 1000.0);
	/* What the per-DuraVIP structures hold, as allocated (docs/port.md, "Memory"). */
	M("vipd_memory_config_bytes", "gauge", "the configuration's DuraVIP list and its strings",
	  vip_config_duravips_bytes(vipd_daemon_config(d)));
	M("vipd_memory_engine_bytes", "gauge", "the engine's DuraVIP and link entries",
	  vipd_engine_bytes(vipd_daemon_engine(d)));
	M("vipd_memory_table_bytes", "gauge", "the cluster protocol's replicated DuraVIP table", mem.table);
	M("vipd_memory_local_bytes", "gauge", "the cluster protocol's list of this node's DuraVIPs",
	  mem.local);
	M("vipd_memory_records_bytes", "gauge", "the members' delivered records (own included)", mem.records);
	M("vipd_memory_announce_bytes", "gauge", "the announcement schedule's entries",
	  vipd_announce_bytes(vipd_daemon_announce(d)));
	M("vipd_memory_owners_bytes", "gauge", "the owner and state watch", di.owner_watch_bytes);
	heap_bytes(&heap_used, &heap_free);
	M("vipd_memory_heap_used_bytes", "gauge",
	  "malloc's heap: bytes in use (blocks mapped alone not counted)", heap_used);
	M("vipd_memory_heap_free_bytes", "gauge", "malloc's heap: bytes free (resident or given back)",
	  heap_free);
#undef M
	out->n = i;
}

static void metrics_text(struct vip_ctl_buf *o, const void *data)
{
	const struct metrics *s = data;

	for (size_t i = 0; i < s->n; i++)
		vip_ctl_buf_printf(o, "# HELP %s %s\n# TYPE %s %s\n%s %.15g\n", s->m[i].name, s->m[i].help,
				   s->m[i].name, s->m[i].type, s->m[i].name, s->m[i].value);
}

static void metrics_json(struct vip_json *w, const void *data)
{
	const struct metrics *s = data;

	vip_json_object_begin(w, NULL);
	for (size_t i = 0; i < s->n; i++)
		vip_json_double(w, s->m[i].name, s->m[i].value);
	vip_json_object_end(w);
}

int cmd_metrics(struct vipd_control_call *call)
{
	static const struct vipd_control_view view = { metrics_json, metrics_text };
	struct metrics s;

	metrics_collect(call->userdata, &s);
	return vipd_control_reply(call, &view, &s);
}

// SPDX-License-Identifier: MIT
/*
 * vipd/commands: the console's commands (the table handed to vipd/control).
 * Each prints what a person reads, in the manner of ec_console, or one JSON
 * document with --json. Metrics and security are in commands-info.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commands-internal.h"
#include "log.h"

void cmd_duration(uint64_t ms, char *buf, size_t len)
{
	if (ms < 60000)
		snprintf(buf, len, "%llu.%llus", (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000 / 100));
	else if (ms < 3600000)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(ms / 60000),
			 (unsigned long long)(ms / 1000 % 60));
	else
		snprintf(buf, len, "%lluh%02llum", (unsigned long long)(ms / 3600000),
			 (unsigned long long)(ms / 60000 % 60));
}

uint64_t cmd_age(uint64_t now, uint64_t since)
{
	return now > since ? now - since : 0;
}

void cmd_json_str_or_null(struct vip_ctl_buf *o, const char *s)
{
	if (s)
		vip_ctl_buf_json_string(o, s);
	else
		vip_ctl_buf_puts(o, "null");
}

/* ---------------------------------------------------------------- cluster duravip show */

static void show_header(struct vipd_daemon *d, struct vip_ctl_buf *o, bool json, uint64_t now)
{
	struct vip_cl_status st;
	char a[32], b[32];
	uint64_t view_age, cfg_age = cmd_age(now, d->config_since_ms);

	vip_cl_proto_status(d->proto, &st);
	view_age = cmd_age(now, st.round_complete ? st.stable_since : st.view_since);
	if (json) {
		vip_ctl_buf_printf(o, "{\"view\":{\"in_view\":%s,\"members\":%zu,\"quorate\":%s,\"complete\":%s,"
				      "\"ring_seq\":%llu,\"stable_ms\":%llu},\"config_stable_ms\":%llu,\"duravips\":[",
				   st.in_view ? "true" : "false", vip_cl_proto_n_members(d->proto),
				   st.quorate ? "true" : "false", st.round_complete ? "true" : "false",
				   (unsigned long long)st.ring_seq, (unsigned long long)(st.in_view ? view_age : 0),
				   (unsigned long long)cfg_age);
		return;
	}
	cmd_duration(view_age, a, sizeof(a));
	cmd_duration(cfg_age, b, sizeof(b));
	if (st.in_view)
		vip_ctl_buf_printf(o, "View: %zu member%s, %s, %s for %s; configuration stable for %s\n",
				   vip_cl_proto_n_members(d->proto), vip_cl_proto_n_members(d->proto) == 1 ? "" : "s",
				   st.quorate ? "quorate" : "NOT quorate", st.round_complete ? "stable" : "settling", a, b);
	else
		vip_ctl_buf_printf(o, "View: none yet (not joined); configuration stable for %s\n", b);
}

static void show_one(struct vipd_daemon *d, struct vip_ctl_buf *o, bool json, bool first,
		     const struct vip_cl_vip_info *pi, uint64_t now)
{
	const struct vipd_duravip *cd = vip_config_find_duravip(d->cfg, &pi->addr);
	struct vipd_engine_vip ev = { 0 };
	bool known = vipd_engine_find(d->engine, &pi->addr, &ev) == 0;
	char addr[VIP_ADDR_STRLEN], flags[96], age[32];
	bool self = pi->owner && streq_ptr(pi->owner, vip_cl_proto_nodename(d->proto));
	uint64_t owned = pi->owner ? cmd_age(now, pi->since) : 0;
	unsigned prefix = known ? ev.prefix : (cd ? cd->prefix : (pi->addr.family == AF_INET ? 32 : 128));

	vip_addr_to_string(&pi->addr, addr, sizeof(addr));
	vip_cl_flags_format(pi->flags, flags, sizeof(flags));
	cmd_duration(owned, age, sizeof(age));
	if (json) {
		vip_ctl_buf_printf(o, "%s{\"address\":\"%s\",\"prefix\":%u,\"services\":[", first ? "" : ",", addr, prefix);
		for (size_t i = 0; cd && i < cd->n_services; i++) {
			vip_ctl_buf_puts(o, i ? "," : "");
			vip_ctl_buf_json_string(o, cd->services[i]);
		}
		vip_ctl_buf_puts(o, "],\"owner\":");
		cmd_json_str_or_null(o, pi->owner);
		vip_ctl_buf_printf(o, ",\"self\":%s,\"state\":[", self ? "true" : "false");
		char *save = NULL, *w = strtok_r(flags, " ", &save);
		for (bool f = true; w && strcmp(w, "-") != 0; w = strtok_r(NULL, " ", &save), f = false)
			vip_ctl_buf_printf(o, "%s\"%s\"", f ? "" : ",", w);
		vip_ctl_buf_puts(o, "],\"preference\":");
		cmd_json_str_or_null(o, pi->preference);
		vip_ctl_buf_puts(o, ",\"interface\":");
		cmd_json_str_or_null(o, known && ev.ifname[0] ? ev.ifname : NULL);
		vip_ctl_buf_printf(o, ",\"plumbed\":%s,\"owned_ms\":%llu}", ev.present ? "true" : "false",
				   (unsigned long long)owned);
		return;
	}
	vip_ctl_buf_printf(o, "%s/%u\n", addr, prefix);
	vip_ctl_buf_puts(o, "    services:   ");
	for (size_t i = 0; cd && i < cd->n_services; i++)
		vip_ctl_buf_printf(o, "%s%s", i ? " " : "", cd->services[i]);
	vip_ctl_buf_printf(o, "%s\n", cd && cd->n_services ? "" : "-");
	vip_ctl_buf_printf(o, "    owner:      %s%s\n", pi->owner ? pi->owner : "(none)", self ? " (this node)" : "");
	vip_ctl_buf_printf(o, "    state:      %s\n", flags);
	vip_ctl_buf_printf(o, "    preference: %s\n", pi->preference ? pi->preference : "-");
	vip_ctl_buf_printf(o, "    interface:  %s%s%s\n", known && ev.ifname[0] ? ev.ifname : "(unresolved)",
			   ev.present ? " (plumbed here)" : "", known && ev.unavailable ? " (unavailable here)" : "");
	if (pi->owner)
		vip_ctl_buf_printf(o, "    owned for:  %s\n", age);
}

static int cmd_duravip_show(struct vipd_control_call *call)
{
	struct vipd_daemon *d = call->userdata;
	struct vip_addr filter;
	uint64_t now = loop_now_ms();
	bool first = true;

	if (call->n_args == 1 && vip_addr_from_string(call->args[0], &filter) < 0) {
		vip_ctl_buf_printf(call->out, "error: '%s' is not an IP address\n", call->args[0]);
		return -EINVAL;
	}
	show_header(d, call->out, call->json, now);
	for (size_t i = 0; i < vip_cl_proto_n_vips(d->proto); i++) {
		struct vip_cl_vip_info pi;

		if (vip_cl_proto_vip(d->proto, i, &pi) < 0)
			continue;
		if (call->n_args == 1 && !vip_addr_equal(&pi.addr, &filter))
			continue;
		show_one(d, call->out, call->json, first, &pi, now);
		first = false;
	}
	if (call->json)
		vip_ctl_buf_puts(call->out, "]}\n");
	else if (first)
		vip_ctl_buf_puts(call->out, call->n_args ? "No such DuraVIP.\n" : "No DuraVIPs configured.\n");
	return call->n_args == 1 && first ? 1 : 0;
}

/* ---------------------------------------------------------------- move, balance, announce */

static int cmd_duravip_move(struct vipd_control_call *call)
{
	struct vipd_daemon *d = call->userdata;
	struct vip_addr a;
	int r;

	if (vip_addr_from_string(call->args[0], &a) < 0) {
		vip_ctl_buf_printf(call->out, "error: '%s' is not an IP address\n", call->args[0]);
		return -EINVAL;
	}
	r = vip_cl_proto_request_move(d->proto, &a, call->args[1], loop_now_ms());
	if (r == -ENOENT) {
		vip_ctl_buf_printf(call->out, call->json ? "{\"error\":\"%s is not a DuraVIP\"}\n" : "error: %s is not a DuraVIP\n",
				   call->args[0]);
		return 1;
	}
	if (r < 0) {
		vip_ctl_buf_printf(call->out, call->json ? "{\"error\":\"cannot move to '%s': %s\"}\n"
							 : "error: cannot move to '%s': %s\n",
				   call->args[1], strerror(-r));
		return 1;
	}
	log_notice("Console: move of %s to %s requested", call->args[0], call->args[1]);
	vipd_daemon_pump(d);
	if (call->json) {
		vip_ctl_buf_printf(call->out, "{\"result\":\"requested\",\"address\":\"%s\",\"node\":", call->args[0]);
		vip_ctl_buf_json_string(call->out, call->args[1]);
		vip_ctl_buf_puts(call->out, "}\n");
	} else {
		vip_ctl_buf_printf(call->out, "Move of %s to %s requested.\n", call->args[0], call->args[1]);
	}
	return 0;
}

static int cmd_duravip_balance(struct vipd_control_call *call)
{
	struct vipd_daemon *d = call->userdata;
	int r = vip_cl_proto_request_balance(d->proto, loop_now_ms());

	if (r < 0)
		return r;
	log_notice("Console: balancing round requested");
	vipd_daemon_pump(d);
	vip_ctl_buf_puts(call->out, call->json ? "{\"result\":\"requested\"}\n" : "Balancing round requested.\n");
	return 0;
}

static int cmd_duravip_announce(struct vipd_control_call *call)
{
	struct vipd_daemon *d = call->userdata;
	uint64_t now = loop_now_ms();
	size_t n = vipd_announce_restart_all(d->announce, now);

	vipd_announce_tick(d->announce, now);
	vipd_daemon_pump(d);
	vip_ctl_buf_printf(call->out, call->json ? "{\"result\":\"announcing\",\"count\":%zu}\n"
						 : "Announcing %zu DuraVIP%s held by this node.\n",
			   n, call->json || n == 1 ? "" : "s");
	return 0;
}

/* ---------------------------------------------------------------- membership, info */

/* One word for a member: what the round knows of it (docs/protocol.md). */
static const char *member_state(const struct vip_cl_member_info *m)
{
	if (m->monitor)
		return "monitor";
	if (m->waiting)
		return "waiting";
	if (m->silent)
		return "SILENT";
	return m->mature ? "mature" : "settling";
}

static int cmd_membership(struct vipd_control_call *call)
{
	struct vipd_daemon *d = call->userdata;
	size_t n = vip_cl_proto_n_members(d->proto);
	struct vip_cl_status st;

	vip_cl_proto_status(d->proto, &st);
	if (call->json) {
		vip_ctl_buf_puts(call->out, "{\"group\":");
		vip_ctl_buf_json_string(call->out, d->cfg->cluster.cluster_group);
		vip_ctl_buf_printf(call->out, ",\"ring_seq\":%llu,\"members\":[", (unsigned long long)st.ring_seq);
	} else
		vip_ctl_buf_printf(call->out, "Group %s, view %llu: %zu member%s\n", d->cfg->cluster.cluster_group,
				   (unsigned long long)st.ring_seq, n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		struct vip_cl_member_info m;

		if (vip_cl_proto_member(d->proto, i, &m) < 0)
			continue;
		if (call->json) {
			vip_ctl_buf_printf(call->out, "%s{\"name\":", i ? "," : "");
			cmd_json_str_or_null(call->out, m.name);
			vip_ctl_buf_printf(call->out, ",\"nodeid\":%u,\"pid\":%u,\"self\":%s,\"mature\":%s,\"owns\":%u,"
						      "\"monitor\":%s,\"silent\":%s,\"waiting\":%s}",
					   m.member.nodeid, m.member.pid, m.self ? "true" : "false",
					   m.mature ? "true" : "false", m.load, m.monitor ? "true" : "false",
					   m.silent ? "true" : "false", m.waiting ? "true" : "false");
			continue;
		}
		vip_ctl_buf_printf(call->out, "  %-20s nodeid %-6u pid %-8u owns %-4u %s%s\n", m.name ? m.name : "(unknown)",
				   m.member.nodeid, m.member.pid, m.load, member_state(&m), m.self ? " (this node)" : "");
	}
	if (call->json)
		vip_ctl_buf_puts(call->out, "]}\n");
	return 0;
}

/* The names of the view's engines (monitor false) or monitors (true), as a JSON list body or words. */
static void info_members(struct vipd_daemon *d, struct vip_ctl_buf *o, bool json, bool monitors)
{
	size_t k = 0;

	for (size_t i = 0; i < vip_cl_proto_n_members(d->proto); i++) {
		struct vip_cl_member_info m;

		if (vip_cl_proto_member(d->proto, i, &m) < 0 || m.monitor != monitors)
			continue;
		if (json) {
			vip_ctl_buf_puts(o, k ? "," : "");
			cmd_json_str_or_null(o, m.name);
		} else {
			vip_ctl_buf_printf(o, " %s%s", m.name ? m.name : "(unknown)",
					   m.silent ? "(SILENT)" : m.waiting ? "(waiting)" : "");
		}
		k++;
	}
	if (!json && k == 0)
		vip_ctl_buf_puts(o, " -");
}

static int cmd_info(struct vipd_control_call *call)
{
	struct vipd_daemon *d = call->userdata;
	struct vip_cl_status st;
	struct vip_ctl_buf *o = call->out;
	char age[32];

	vip_cl_proto_status(d->proto, &st);
	cmd_duration(cmd_age(loop_now_ms(), st.view_since), age, sizeof(age));
	if (call->json) {
		vip_ctl_buf_printf(o, "{\"backend\":\"%s\",\"connected\":%s,\"group\":", d->be_ops ? d->be_ops->name : "none",
				   d->be ? "true" : "false");
		vip_ctl_buf_json_string(o, d->cfg->cluster.cluster_group);
		vip_ctl_buf_puts(o, ",\"node\":");
		vip_ctl_buf_json_string(o, vip_cl_proto_nodename(d->proto));
		vip_ctl_buf_printf(o, ",\"quorate\":%s,\"live\":%s,\"in_view\":%s,\"mature\":%s,\"ring_seq\":%llu,"
				      "\"round\":{\"complete\":%s,\"waiting\":%zu,\"silent\":%zu,\"ghosts\":%zu,"
				      "\"closes\":%zu,\"state_retries\":%zu,\"sends_dropped\":%zu},\"members\":[",
				   st.quorate ? "true" : "false", st.live ? "true" : "false", st.in_view ? "true" : "false",
				   st.mature ? "true" : "false", (unsigned long long)st.ring_seq,
				   st.round_complete ? "true" : "false", st.n_waiting, st.n_silent, st.n_ghosts,
				   st.n_closes, st.n_state_retries, st.n_send_dropped);
	} else {
		vip_ctl_buf_printf(o, "Backend:    %s (%s)\n", d->be_ops ? d->be_ops->name : "none",
				   d->be ? "connected" : "disconnected");
		vip_ctl_buf_printf(o, "Group:      %s\n", d->cfg->cluster.cluster_group);
		vip_ctl_buf_printf(o, "Node:       %s\n", vip_cl_proto_nodename(d->proto));
		vip_ctl_buf_printf(o, "Quorum:     %s%s\n", st.quorate ? "quorate" : "NOT quorate",
				   st.live ? "" : " (corosync not answering: releasing)");
		vip_ctl_buf_printf(o, "View:       %s", st.in_view ? "" : "none yet\n");
		if (st.in_view)
			vip_ctl_buf_printf(o, "%llu, %s old, %s\n", (unsigned long long)st.ring_seq, age,
					   st.mature ? "mature" : "not yet mature");
		if (st.in_view && !st.round_complete)
			vip_ctl_buf_printf(o, "Round:      open, waiting for %zu member%s\n", st.n_waiting,
					   st.n_waiting == 1 ? "" : "s");
		else if (st.in_view)
			vip_ctl_buf_printf(o, "Round:      closed, %zu silent member%s, %zu ghost%s\n", st.n_silent,
					   st.n_silent == 1 ? "" : "s", st.n_ghosts, st.n_ghosts == 1 ? "" : "s");
		vip_ctl_buf_printf(o, "Counters:   %zu round%s closed by CLOSE, %zu STATE retr%s, %zu send%s dropped\n",
				   st.n_closes, st.n_closes == 1 ? "" : "s", st.n_state_retries,
				   st.n_state_retries == 1 ? "y" : "ies", st.n_send_dropped, st.n_send_dropped == 1 ? "" : "s");
		vip_ctl_buf_puts(o, "Members:   ");
	}
	info_members(d, o, call->json, false);
	if (call->json)
		vip_ctl_buf_puts(o, "],\"monitors\":[");
	else
		vip_ctl_buf_puts(o, "\nMonitors:  ");
	info_members(d, o, call->json, true);
	if (call->json) {
		vip_ctl_buf_printf(o, "],\"restart_needed\":%s}\n", d->restart_needed ? "true" : "false");
		return 0;
	}
	vip_ctl_buf_puts(o, "\n");
	if (d->restart_needed)
		vip_ctl_buf_puts(o, "Restart:    needed (a reload changed Security, nodename, cluster_group or the cluster scope)\n");
	return 0;
}

/* ---------------------------------------------------------------- arp show */

static void arp_opts(struct vip_ctl_buf *o, const struct vipd_announce_opts *ao, bool json)
{
	char ri[32], rf[32];

	cmd_duration(ao->repeat_interval_ms, ri, sizeof(ri));
	cmd_duration(ao->refresh_interval_ms, rf, sizeof(rf));
	if (json) {
		vip_ctl_buf_printf(o, "{\"mode\":\"%s\",\"repeat\":%u,\"repeat_interval_ms\":%u,"
				      "\"refresh_interval_ms\":%u,\"pace\":%u,\"addresses\":[",
				   vip_arp_mode_to_string(ao->mode), ao->repeat, ao->repeat_interval_ms,
				   ao->refresh_interval_ms, ao->pace);
		return;
	}
	vip_ctl_buf_printf(o, "ARP mode %s; %u repeat%s every %s; refresh %s; pace ", vip_arp_mode_to_string(ao->mode),
			   ao->repeat, ao->repeat == 1 ? "" : "s", ri, ao->refresh_interval_ms ? rf : "off");
	if (ao->pace)
		vip_ctl_buf_printf(o, "%u packets/s per interface\n", ao->pace);
	else
		vip_ctl_buf_puts(o, "unlimited\n");
}

static int cmd_arp_show(struct vipd_control_call *call)
{
	struct vipd_daemon *d = call->userdata;
	struct vipd_announce_stats s;
	uint64_t now = loop_now_ms();
	size_t n = vipd_announce_count(d->announce);

	arp_opts(call->out, vipd_announce_get_opts(d->announce), call->json);
	if (!call->json && n)
		vip_ctl_buf_printf(call->out, "%-40s %-16s %5s %7s %10s %10s\n", "ADDRESS", "INTERFACE", "SENT",
				   "REPEATS", "LAST", "NEXT");
	for (size_t i = 0; i < n; i++) {
		struct vipd_announce_entry en;
		struct vipd_engine_vip ev = { 0 };
		char a[VIP_ADDR_STRLEN], last[32] = "never", next[32] = "-";

		if (vipd_announce_get(d->announce, i, &en) < 0)
			continue;
		vipd_engine_find(d->engine, &en.addr, &ev);
		vip_addr_to_string(&en.addr, a, sizeof(a));
		if (en.last_ms != UINT64_MAX) {
			cmd_duration(cmd_age(now, en.last_ms), last, sizeof(last) - 4);
			strcat(last, " ago");
		}
		if (en.next_ms != UINT64_MAX)
			cmd_duration(en.next_ms > now ? en.next_ms - now : 0, next, sizeof(next));
		if (call->json) {
			vip_ctl_buf_printf(call->out, "%s{\"address\":\"%s\",\"interface\":", i ? "," : "", a);
			vip_ctl_buf_json_string(call->out, ev.ifname);
			vip_ctl_buf_printf(call->out, ",\"sent\":%u,\"repeats_left\":%u,\"last_ago_ms\":%lld,\"next_in_ms\":%lld}",
					   en.sent, en.repeats_left,
					   en.last_ms == UINT64_MAX ? -1LL : (long long)cmd_age(now, en.last_ms),
					   en.next_ms == UINT64_MAX ? -1LL
								    : (long long)(en.next_ms > now ? en.next_ms - now : 0));
		} else {
			vip_ctl_buf_printf(call->out, "%-40s %-16s %5u %7u %10s %10s\n", a, ev.ifname, en.sent,
					   en.repeats_left, last, next);
		}
	}
	vipd_announce_get_stats(d->announce, &s);
	if (call->json)
		vip_ctl_buf_printf(call->out, "],\"announced\":%llu,\"packets\":%llu,\"errors\":%llu}\n",
				   (unsigned long long)s.announced, (unsigned long long)s.packets,
				   (unsigned long long)s.errors);
	else
		vip_ctl_buf_printf(call->out, "%llu announcement%s sent (%llu packets), %llu error%s\n",
				   (unsigned long long)s.announced, s.announced == 1 ? "" : "s",
				   (unsigned long long)s.packets, (unsigned long long)s.errors, s.errors == 1 ? "" : "s");
	return 0;
}

/* ---------------------------------------------------------------- reload, events */

static int cmd_reload(struct vipd_control_call *call)
{
	int r = vipd_daemon_reload(call->userdata, call->out, call->json);

	return r == -EINVAL ? 1 : r;
}

static int cmd_events(struct vipd_control_call *call)
{
	struct vipd_daemon *d = call->userdata;

	if (!call->json)
		vip_ctl_buf_printf(call->out, "# events of node %s (one line per change)\n", vip_cl_proto_nodename(d->proto));
	return vipd_control_subscribe(call);
}

static const struct vipd_control_command commands[] = {
	{ "cluster duravip show", cmd_duravip_show, "[<ip>]", 0, 1, "every DuraVIP: owner, state, interface, time owned" },
	{ "cluster duravip move", cmd_duravip_move, "<ip> <node>", 2, 2, "hand a DuraVIP to a node (multicast)" },
	{ "cluster duravip balance", cmd_duravip_balance, NULL, 0, 0, "run one balancing round (multicast)" },
	{ "cluster duravip announce view", cmd_duravip_announce, NULL, 0, 0, "announce every DuraVIP held here again" },
	{ "cluster membership", cmd_membership, NULL, 0, 0, "the members of the current view" },
	{ "cluster info", cmd_info, NULL, 0, 0, "backend, group, node name, quorum, members" },
	{ "cluster arp show", cmd_arp_show, NULL, 0, 0, "announcement options and schedule" },
	{ "config reload", cmd_reload, NULL, 0, 0, "re-read the configuration and apply what can be applied live" },
	{ "config show security", cmd_security, NULL, 0, 0, "the running identity and capabilities" },
	{ "metrics", cmd_metrics, NULL, 0, 0, "counters in Prometheus text format" },
	{ "events", cmd_events, NULL, 0, 0, "stream one line (or JSON object) per change" },
};

const struct vipd_control_command *vipd_daemon_commands(size_t *ret_n)
{
	*ret_n = ARRAY_SIZE(commands);
	return commands;
}

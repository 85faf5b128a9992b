/* SPDX-License-Identifier: MIT */
/*
 * vipd/commands: `cluster membership`, `cluster node standby` / `active`, `cluster info`
 * and `cluster arp show`.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "authkey.h"
#include "commands-internal.h"

/* The view's members, copied out of the protocol (names stay its own). */
struct members {
	struct vip_cl_member_info *m;
	size_t n;
};

static int members_get(const struct vip_cl_proto *p, struct members *ret)
{
	size_t n = vip_cl_proto_n_members(p);

	ret->n = 0;
	ret->m = calloc(n + 1, sizeof(*ret->m));
	if (!ret->m)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (vip_cl_proto_member(p, i, &ret->m[ret->n]) == 0)
			ret->n++;
	return 0;
}

/* ---------------------------------------------------------------- membership */

struct membership {
	const char *group;
	const char *nodename;
	struct vip_cl_status st;
	struct members mb;
	struct vipd_node_state node;
};

/* The reasons a member is no candidate, as a JSON list ("standby", "unhealthy"). */
static void out_json(struct vip_json *w, uint32_t out)
{
	vip_json_array_begin(w, "out");
	if (out & VIP_CL_OUT_STANDBY)
		vip_json_string(w, NULL, "standby");
	if (out & VIP_CL_OUT_UNHEALTHY)
		vip_json_string(w, NULL, "unhealthy");
	vip_json_array_end(w);
}

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

static void membership_text(struct vip_ctl_buf *o, const void *data)
{
	const struct membership *s = data;

	vip_ctl_buf_printf(o, "Group %s, view %llu: %zu member%s\n", s->group,
			   (unsigned long long)s->st.ring_seq, s->mb.n, cmd_plural(s->mb.n));
	for (size_t i = 0; i < s->mb.n; i++) {
		const struct vip_cl_member_info *m = &s->mb.m[i];

		char out[32] = "";

		if (m->out && !m->monitor)
			snprintf(out, sizeof(out), " %s%s", m->out & VIP_CL_OUT_STANDBY ? "STANDBY" : "",
				 m->out & VIP_CL_OUT_UNHEALTHY
					 ? (m->out & VIP_CL_OUT_STANDBY ? " UNHEALTHY" : "UNHEALTHY")
					 : "");
		vip_ctl_buf_printf(o, "  %-20s nodeid %-6u pid %-8u owns %-4u %s%s%s\n",
				   m->name ? m->name : "(unknown)", m->member.nodeid, m->member.pid, m->load,
				   member_state(m), out, m->self ? " (this node)" : "");
	}
	vip_ctl_buf_printf(o, "This node (%s): ", s->nodename);
	cmd_node_text(o, &s->node);
}

static void membership_json(struct vip_json *w, const void *data)
{
	const struct membership *s = data;

	vip_json_object_begin(w, NULL);
	vip_json_string(w, "group", s->group);
	vip_json_uint(w, "ring_seq", s->st.ring_seq);
	vip_json_array_begin(w, "members");
	for (size_t i = 0; i < s->mb.n; i++) {
		const struct vip_cl_member_info *m = &s->mb.m[i];

		vip_json_object_begin(w, NULL);
		vip_json_string(w, "name", m->name);
		vip_json_uint(w, "nodeid", m->member.nodeid);
		vip_json_uint(w, "pid", m->member.pid);
		vip_json_bool(w, "self", m->self);
		vip_json_bool(w, "mature", m->mature);
		vip_json_uint(w, "owns", m->load);
		vip_json_bool(w, "monitor", m->monitor);
		vip_json_bool(w, "silent", m->silent);
		vip_json_bool(w, "waiting", m->waiting);
		vip_json_bool(w, "candidate", !m->monitor && !m->silent && !m->untrusted && m->out == 0);
		out_json(w, m->monitor ? 0 : m->out);
		vip_json_object_end(w);
	}
	vip_json_array_end(w);
	cmd_node_json(w, "node", s->nodename, &s->node);
	vip_json_object_end(w);
}

int cmd_membership(struct vipd_control_call *call)
{
	static const struct vipd_control_view view = { membership_json, membership_text };
	const struct vip_cl_proto *p = vipd_daemon_proto(call->userdata);
	struct membership s = { .group = vipd_daemon_config(call->userdata)->cluster.cluster_group,
				.nodename = vip_cl_proto_nodename(p) };
	int r;

	vipd_daemon_get_node(call->userdata, &s.node);
	vip_cl_proto_status(p, &s.st);
	r = members_get(p, &s.mb);
	if (r >= 0)
		r = vipd_control_reply(call, &view, &s);
	free(s.mb.m);
	return r;
}

/* ---------------------------------------------------------------- node standby / active */

struct node_change {
	const char *name;
	bool changed;
	struct vipd_node_state node;
};

static void node_change_text(struct vip_ctl_buf *o, const void *data)
{
	const struct node_change *c = data;

	if (c->node.standby)
		vip_ctl_buf_printf(o, "Node %s %s in standby: %s\n", c->name,
				   c->changed ? "is now" : "was already",
				   "its DuraVIPs go to the other nodes (alone: unplumbed)");
	else
		vip_ctl_buf_printf(o, "Node %s %s active%s\n", c->name, c->changed ? "is now" : "was already",
				   c->node.healthy ? ""
						   : ", but unhealthy: it takes no DuraVIP until healthy");
	vip_ctl_buf_printf(o, "This node: ");
	cmd_node_text(o, &c->node);
}

static void node_change_json(struct vip_json *w, const void *data)
{
	const struct node_change *c = data;

	vip_json_object_begin(w, NULL);
	vip_json_bool(w, "changed", c->changed);
	cmd_node_json(w, "node", c->name, &c->node);
	vip_json_object_end(w);
}

static int node_set(struct vipd_control_call *call, bool standby)
{
	static const struct vipd_control_view view = { node_change_json, node_change_text };
	struct node_change c = { .name = vip_cl_proto_nodename(vipd_daemon_proto(call->userdata)) };

	c.changed = vipd_daemon_set_standby(call->userdata, standby, "Console") > 0;
	vipd_daemon_get_node(call->userdata, &c.node);
	return vipd_control_reply(call, &view, &c);
}

int cmd_node_standby(struct vipd_control_call *call)
{
	return node_set(call, true);
}

int cmd_node_active(struct vipd_control_call *call)
{
	return node_set(call, false);
}

/* ---------------------------------------------------------------- info */

struct info {
	struct vipd_daemon_info d;
	struct vip_cl_status st;
	uint64_t view_age_ms;
	struct members mb;
	bool cluster; /* a cluster scope: authentication applies */
};

static void info_names_text(struct vip_ctl_buf *o, const struct members *mb, bool monitors)
{
	size_t k = 0;

	for (size_t i = 0; i < mb->n; i++) {
		const struct vip_cl_member_info *m = &mb->m[i];

		if (m->monitor != monitors)
			continue;
		vip_ctl_buf_printf(o, " %s%s", m->name ? m->name : "(unknown)",
				   m->untrusted ? "(UNAUTHENTICATED)"
				   : m->silent  ? "(SILENT)"
				   : m->waiting ? "(waiting)"
						: "");
		k++;
	}
	vip_ctl_buf_puts(o, k ? "\n" : " -\n");
}

static void info_round_text(struct vip_ctl_buf *o, const struct vip_cl_status *st, const char *age)
{
	if (!st->in_view) {
		vip_ctl_buf_puts(o, "View:       none yet\n");
	} else {
		vip_ctl_buf_printf(o, "View:       %llu, %s old, %s\n", (unsigned long long)st->ring_seq, age,
				   st->mature ? "mature" : "not yet mature");
		if (!st->round_complete)
			vip_ctl_buf_printf(o, "Round:      open, waiting for %zu member%s\n", st->n_waiting,
					   cmd_plural(st->n_waiting));
		else
			vip_ctl_buf_printf(o, "Round:      closed, %zu silent member%s, %zu ghost%s\n",
					   st->n_silent, cmd_plural(st->n_silent), st->n_ghosts,
					   cmd_plural(st->n_ghosts));
	}
	vip_ctl_buf_printf(o,
			   "Counters:   %zu round%s closed by CLOSE, %zu STATE retr%s, %zu send%s dropped\n",
			   st->n_closes, cmd_plural(st->n_closes), st->n_state_retries,
			   st->n_state_retries == 1 ? "y" : "ies", st->n_send_dropped,
			   cmd_plural(st->n_send_dropped));
}

static void info_auth_text(struct vip_ctl_buf *o, const struct info *s)
{
	if (!s->cluster)
		return;
	if (s->st.authenticated)
		vip_ctl_buf_printf(o,
				   "Auth:       HMAC-SHA-256 (cluster { authkey }); %zu message%s failed, "
				   "%zu replayed\n",
				   s->st.n_auth_failed, cmd_plural(s->st.n_auth_failed),
				   s->st.n_auth_replayed);
	else
		vip_ctl_buf_puts(o, "Auth:       NONE: " VIPD_AUTHKEY_NONE_TEXT "\n");
}

static void info_text(struct vip_ctl_buf *o, const void *data)
{
	const struct info *s = data;
	char age[32];

	cmd_duration(s->view_age_ms, age, sizeof(age));
	vip_ctl_buf_printf(o, "Backend:    %s (%s)\n", s->d.backend,
			   s->d.connected ? "connected" : "disconnected");
	vip_ctl_buf_printf(o, "Group:      %s\n", s->d.group);
	vip_ctl_buf_printf(o, "Node:       %s\n", s->d.nodename);
	vip_ctl_buf_printf(o, "Quorum:     %s%s\n", s->st.quorate ? "quorate" : "NOT quorate",
			   s->st.live ? "" : " (corosync not answering: releasing)");
	info_round_text(o, &s->st, age);
	info_auth_text(o, s);
	vip_ctl_buf_puts(o, "Members:   ");
	info_names_text(o, &s->mb, false);
	vip_ctl_buf_puts(o, "Monitors:  ");
	info_names_text(o, &s->mb, true);
	if (s->d.restart_needed)
		vip_ctl_buf_puts(
			o,
			"Restart:    needed (a reload changed Security, nodename, cluster_group, authkey or the cluster scope)\n");
}

static void info_names_json(struct vip_json *w, const char *key, const struct members *mb, bool monitors)
{
	vip_json_array_begin(w, key);
	for (size_t i = 0; i < mb->n; i++)
		if (mb->m[i].monitor == monitors)
			vip_json_string(w, NULL, mb->m[i].name);
	vip_json_array_end(w);
}

static void info_json(struct vip_json *w, const void *data)
{
	const struct info *s = data;

	vip_json_object_begin(w, NULL);
	vip_json_string(w, "backend", s->d.backend);
	vip_json_bool(w, "connected", s->d.connected);
	vip_json_string(w, "group", s->d.group);
	vip_json_string(w, "node", s->d.nodename);
	vip_json_bool(w, "quorate", s->st.quorate);
	vip_json_bool(w, "live", s->st.live);
	vip_json_bool(w, "in_view", s->st.in_view);
	vip_json_bool(w, "mature", s->st.mature);
	vip_json_uint(w, "ring_seq", s->st.ring_seq);
	vip_json_uint(w, "view_age_ms", s->st.in_view ? s->view_age_ms : 0);
	vip_json_object_begin(w, "round");
	vip_json_bool(w, "complete", s->st.round_complete);
	vip_json_uint(w, "waiting", s->st.n_waiting);
	vip_json_uint(w, "silent", s->st.n_silent);
	vip_json_uint(w, "ghosts", s->st.n_ghosts);
	vip_json_uint(w, "closes", s->st.n_closes);
	vip_json_uint(w, "state_retries", s->st.n_state_retries);
	vip_json_uint(w, "sends_dropped", s->st.n_send_dropped);
	vip_json_object_end(w);
	vip_json_object_begin(w, "auth");
	vip_json_bool(w, "authenticated", s->st.authenticated);
	vip_json_uint(w, "failed", s->st.n_auth_failed);
	vip_json_uint(w, "replayed", s->st.n_auth_replayed);
	if (s->cluster && !s->st.authenticated)
		vip_json_string(w, "warning", VIPD_AUTHKEY_NONE_TEXT);
	else
		vip_json_null(w, "warning");
	vip_json_object_end(w);
	info_names_json(w, "members", &s->mb, false);
	info_names_json(w, "monitors", &s->mb, true);
	vip_json_bool(w, "restart_needed", s->d.restart_needed != 0);
	vip_json_object_end(w);
}

int cmd_info(struct vipd_control_call *call)
{
	static const struct vipd_control_view view = { info_json, info_text };
	const struct vip_cl_proto *p = vipd_daemon_proto(call->userdata);
	struct info s;
	int r;

	vipd_daemon_get_info(call->userdata, &s.d);
	vip_cl_proto_status(p, &s.st);
	s.cluster = vipd_daemon_config(call->userdata)->cluster.enabled;
	s.view_age_ms = cmd_age(loop_now_ms(), s.st.view_since);
	r = members_get(p, &s.mb);
	if (r >= 0)
		r = vipd_control_reply(call, &view, &s);
	free(s.mb.m);
	return r;
}

/* ---------------------------------------------------------------- arp show */

struct arp_row {
	char addr[VIP_ADDR_STRLEN];
	char ifname[VIP_PORT_NAME_MAX];
	struct vipd_announce_entry en;
};

struct arp {
	const struct vipd_announce_opts *opts;
	struct vipd_announce_stats stats;
	uint64_t now;
	struct arp_row *rows;
	size_t n;
	struct cmd_neigh neigh; /* the shared neighbour cache (commands-neigh.c) */
};

/* Milliseconds since the last and until the next announcement; -1: never, nothing scheduled. */
static int64_t arp_last(const struct arp *s, const struct arp_row *r)
{
	return r->en.last_ms == UINT64_MAX ? -1 : (int64_t)cmd_age(s->now, r->en.last_ms);
}

static int64_t arp_next(const struct arp *s, const struct arp_row *r)
{
	return r->en.next_ms == UINT64_MAX ? -1
					   : (int64_t)(r->en.next_ms > s->now ? r->en.next_ms - s->now : 0);
}

static void arp_text(struct vip_ctl_buf *o, const void *data)
{
	const struct arp *s = data;
	const struct vipd_announce_opts *ao = s->opts;
	char ri[32], rf[32];

	cmd_duration(ao->repeat_interval_ms, ri, sizeof(ri));
	cmd_duration(ao->refresh_interval_ms, rf, sizeof(rf));
	vip_ctl_buf_printf(o, "ARP mode %s; %u repeat%s every %s; refresh %s; pace ",
			   vip_arp_mode_to_string(ao->mode), ao->repeat, cmd_plural(ao->repeat), ri,
			   ao->refresh_interval_ms ? rf : "off");
	if (ao->pace)
		vip_ctl_buf_printf(o, "%u packets/s per interface\n", ao->pace);
	else
		vip_ctl_buf_puts(o, "unlimited\n");
	if (s->n)
		vip_ctl_buf_printf(o, "%-40s %-16s %5s %7s %10s %10s\n", "ADDRESS", "INTERFACE", "SENT",
				   "REPEATS", "LAST", "NEXT");
	for (size_t i = 0; i < s->n; i++) {
		const struct arp_row *r = &s->rows[i];
		char last[40] = "never", next[32] = "-";

		if (arp_last(s, r) >= 0) {
			cmd_duration((uint64_t)arp_last(s, r), last, sizeof(last) - 4);
			strcat(last, " ago");
		}
		if (arp_next(s, r) >= 0)
			cmd_duration((uint64_t)arp_next(s, r), next, sizeof(next));
		vip_ctl_buf_printf(o, "%-40s %-16s %5u %7u %10s %10s\n", r->addr, r->ifname, r->en.sent,
				   r->en.repeats_left, last, next);
	}
	vip_ctl_buf_printf(o, "%llu announcement%s sent (%llu packets), %llu error%s\n",
			   (unsigned long long)s->stats.announced, cmd_plural(s->stats.announced),
			   (unsigned long long)s->stats.packets, (unsigned long long)s->stats.errors,
			   cmd_plural(s->stats.errors));
	cmd_neigh_text(o, &s->neigh);
}

static void arp_json(struct vip_json *w, const void *data)
{
	const struct arp *s = data;

	vip_json_object_begin(w, NULL);
	vip_json_string(w, "mode", vip_arp_mode_to_string(s->opts->mode));
	vip_json_uint(w, "repeat", s->opts->repeat);
	vip_json_uint(w, "repeat_interval_ms", s->opts->repeat_interval_ms);
	vip_json_uint(w, "refresh_interval_ms", s->opts->refresh_interval_ms);
	vip_json_uint(w, "pace", s->opts->pace);
	vip_json_array_begin(w, "addresses");
	for (size_t i = 0; i < s->n; i++) {
		const struct arp_row *r = &s->rows[i];

		vip_json_object_begin(w, NULL);
		vip_json_string(w, "address", r->addr);
		vip_json_string(w, "interface", r->ifname);
		vip_json_uint(w, "sent", r->en.sent);
		vip_json_uint(w, "repeats_left", r->en.repeats_left);
		vip_json_int(w, "last_ago_ms", arp_last(s, r));
		vip_json_int(w, "next_in_ms", arp_next(s, r));
		vip_json_object_end(w);
	}
	vip_json_array_end(w);
	vip_json_uint(w, "announced", s->stats.announced);
	vip_json_uint(w, "packets", s->stats.packets);
	vip_json_uint(w, "errors", s->stats.errors);
	cmd_neigh_json(w, &s->neigh);
	vip_json_object_end(w);
}

static int arp_row_cmp(const void *x, const void *y)
{
	const struct arp_row *a = x, *b = y;

	return vip_addr_cmp(&a->en.addr, &b->en.addr);
}

int cmd_arp_show(struct vipd_control_call *call)
{
	static const struct vipd_control_view view = { arp_json, arp_text };
	const struct vipd_announce *a = vipd_daemon_announce(call->userdata);
	const struct vipd_engine *e = vipd_daemon_engine(call->userdata);
	size_t n = vipd_announce_count(a);
	struct arp s = { .opts = vipd_announce_get_opts(a), .now = loop_now_ms() };
	int r;

	vipd_announce_get_stats(a, &s.stats);
	s.rows = calloc(n + 1, sizeof(*s.rows));
	if (!s.rows)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct arp_row *row = &s.rows[s.n];
		struct vipd_engine_vip ev = { 0 };

		if (vipd_announce_get(a, i, &row->en) < 0)
			continue;
		(void)vipd_engine_find(e, &row->en.addr, &ev);
		vip_addr_to_string(&row->en.addr, row->addr, sizeof(row->addr));
		snprintf(row->ifname, sizeof(row->ifname), "%s", ev.ifname);
		s.n++;
	}
	/* The schedule lists what is due first: the table is in address order. */
	qsort(s.rows, s.n, sizeof(*s.rows), arp_row_cmp);
	r = cmd_neigh_collect(call->userdata, &s.neigh);
	if (r == 0)
		r = vipd_control_reply(call, &view, &s);
	cmd_neigh_clear(&s.neigh);
	free(s.rows);
	return r;
}

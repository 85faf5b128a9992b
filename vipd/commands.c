/* SPDX-License-Identifier: MIT */
/*
 * vipd/commands: the DuraVIP commands (show, move, balance, announce),
 * `events`, and the handler table (commands.h). Membership, info and arp
 * are in commands-cluster.c; reload, security and metrics in
 * commands-info.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commands-internal.h"

/* ---------------------------------------------------------------- cluster duravip show */

struct show_vip {
	char addr[VIP_ADDR_STRLEN];
	unsigned prefix;
	char *const *services;
	size_t n_services;
	const char *owner; /* NULL: none */
	bool self;
	char state[96]; /* vip_cl_flags_format: words, "-" for none */
	const char *preference;
	const char *ifname; /* NULL: unresolved */
	bool plumbed, unavailable;
	bool probing;          /* being probed before it is plumbed here */
	unsigned probe_claims; /* answers to those probes so far */
	uint64_t owned_ms;
};

struct show {
	struct vip_cl_status st;
	size_t n_members;
	uint64_t view_ms, config_ms; /* how long each has been stable */
	struct show_vip *vips;
	struct vipd_engine_vip *ev; /* the engine's view, per vips[i] */
	size_t n;
	const char *nodename;
	struct vipd_node_state node; /* standby, health: why this node holds nothing */
};

static void show_text(struct vip_ctl_buf *o, const void *data)
{
	const struct show *s = data;
	char a[32], b[32];

	cmd_duration(s->view_ms, a, sizeof(a));
	cmd_duration(s->config_ms, b, sizeof(b));
	if (s->st.in_view)
		vip_ctl_buf_printf(o, "View: %zu member%s, %s, %s for %s; configuration stable for %s\n",
				   s->n_members, cmd_plural(s->n_members),
				   s->st.quorate ? "quorate" : "NOT quorate",
				   s->st.round_complete ? "stable" : "settling", a, b);
	else
		vip_ctl_buf_printf(o, "View: none yet (not joined); configuration stable for %s\n", b);
	vip_ctl_buf_printf(o, "Node %s: ", s->nodename);
	cmd_node_text(o, &s->node);
	for (size_t i = 0; i < s->n; i++) {
		const struct show_vip *v = &s->vips[i];

		vip_ctl_buf_printf(o, "%s/%u\n    services:   ", v->addr, v->prefix);
		for (size_t k = 0; k < v->n_services; k++)
			vip_ctl_buf_printf(o, "%s%s", k ? " " : "", v->services[k]);
		vip_ctl_buf_printf(o, "%s\n", v->n_services ? "" : "-");
		vip_ctl_buf_printf(o, "    owner:      %s%s\n", v->owner ? v->owner : "(none)",
				   v->self ? " (this node)" : "");
		vip_ctl_buf_printf(o, "    state:      %s\n", v->state);
		vip_ctl_buf_printf(o, "    preference: %s\n", v->preference ? v->preference : "-");
		vip_ctl_buf_printf(o, "    interface:  %s%s%s\n", v->ifname ? v->ifname : "(unresolved)",
				   v->plumbed ? " (plumbed here)" : "",
				   v->unavailable ? " (unavailable here)" : "");
		if (v->probing)
			vip_ctl_buf_printf(o,
					   "    probing:    %u claim%s by another host so far; plumbed here "
					   "once nobody claims it\n",
					   v->probe_claims, cmd_plural(v->probe_claims));
		cmd_duration(v->owned_ms, a, sizeof(a));
		if (v->owner)
			vip_ctl_buf_printf(o, "    owned for:  %s\n", a);
	}
	if (s->n == 0)
		vip_ctl_buf_puts(o, "No DuraVIPs configured.\n");
}

/* The state words ("owned moving") as a list. */
static void state_json(struct vip_json *w, const char *state)
{
	char copy[sizeof(((struct show_vip *)0)->state)], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", state);
	vip_json_array_begin(w, "state");
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
		if (strcmp(t, "-") != 0)
			vip_json_string(w, NULL, t);
	vip_json_array_end(w);
}

static void show_json(struct vip_json *w, const void *data)
{
	const struct show *s = data;

	vip_json_object_begin(w, NULL);
	vip_json_object_begin(w, "view");
	vip_json_bool(w, "in_view", s->st.in_view);
	vip_json_uint(w, "members", s->n_members);
	vip_json_bool(w, "quorate", s->st.quorate);
	vip_json_bool(w, "complete", s->st.round_complete);
	vip_json_uint(w, "ring_seq", s->st.ring_seq);
	vip_json_uint(w, "stable_ms", s->st.in_view ? s->view_ms : 0);
	vip_json_object_end(w);
	vip_json_uint(w, "config_stable_ms", s->config_ms);
	cmd_node_json(w, "node", s->nodename, &s->node);
	vip_json_array_begin(w, "duravips");
	for (size_t i = 0; i < s->n; i++) {
		const struct show_vip *v = &s->vips[i];

		vip_json_object_begin(w, NULL);
		vip_json_string(w, "address", v->addr);
		vip_json_uint(w, "prefix", v->prefix);
		vip_json_array_begin(w, "services");
		for (size_t k = 0; k < v->n_services; k++)
			vip_json_string(w, NULL, v->services[k]);
		vip_json_array_end(w);
		vip_json_string(w, "owner", v->owner);
		vip_json_bool(w, "self", v->self);
		state_json(w, v->state);
		vip_json_string(w, "preference", v->preference);
		vip_json_string(w, "interface", v->ifname);
		vip_json_bool(w, "plumbed", v->plumbed);
		vip_json_bool(w, "probing", v->probing);
		vip_json_uint(w, "probe_claims", v->probe_claims);
		vip_json_uint(w, "owned_ms", v->owned_ms);
		vip_json_object_end(w);
	}
	vip_json_array_end(w);
	vip_json_object_end(w);
}

static void show_one(struct vipd_daemon *d, const struct vip_cl_vip_info *pi, uint64_t now,
		     struct show_vip *v, struct vipd_engine_vip *ev)
{
	const struct vipd_duravip *cd = vip_config_find_duravip(vipd_daemon_config(d), &pi->addr);
	bool known = vipd_engine_find(vipd_daemon_engine(d), &pi->addr, ev) == 0;

	vip_addr_to_string(&pi->addr, v->addr, sizeof(v->addr));
	v->prefix = known ? ev->prefix : cd ? cd->prefix : (pi->addr.family == AF_INET ? 32 : 128);
	v->services = cd ? cd->services : NULL;
	v->n_services = cd ? cd->n_services : 0;
	v->owner = pi->owner;
	v->self = pi->owner && streq_ptr(pi->owner, vip_cl_proto_nodename(vipd_daemon_proto(d)));
	vip_cl_flags_format(pi->flags, v->state, sizeof(v->state));
	v->preference = pi->preference;
	v->ifname = known && ev->ifname[0] ? ev->ifname : NULL;
	v->plumbed = known && ev->present;
	v->unavailable = known && ev->unavailable;
	v->probing = known && ev->probing;
	v->probe_claims = known ? ev->probe_claims : 0;
	v->owned_ms = pi->owner ? cmd_age(now, pi->since) : 0;
}

static int cmd_duravip_show(struct vipd_control_call *call)
{
	static const struct vipd_control_view view = { show_json, show_text };
	struct vipd_daemon *d = call->userdata;
	const struct vip_cl_proto *p = vipd_daemon_proto(d);
	size_t n = vip_cl_proto_n_vips(p);
	struct vipd_daemon_info info;
	struct show s = { .n_members = vip_cl_proto_n_members(p) };
	uint64_t now = loop_now_ms();
	struct vip_addr filter;
	int r;

	if (call->n_args == 1 && vip_addr_from_string(call->args[0], &filter) < 0)
		return vipd_control_fail(call, VIP_CTL_USAGE, "'%s' is not an IP address", call->args[0]);
	vipd_daemon_get_info(d, &info);
	vipd_daemon_get_node(d, &s.node);
	s.nodename = vip_cl_proto_nodename(p);
	vip_cl_proto_status(p, &s.st);
	s.view_ms = cmd_age(now, s.st.round_complete ? s.st.stable_since : s.st.view_since);
	s.config_ms = cmd_age(now, info.config_since_ms);
	s.vips = calloc(n + 1, sizeof(*s.vips));
	s.ev = calloc(n + 1, sizeof(*s.ev));
	if (!s.vips || !s.ev) {
		r = -ENOMEM;
		goto free_show;
	}
	for (size_t i = 0; i < n; i++) {
		struct vip_cl_vip_info pi;

		if (vip_cl_proto_vip(p, i, &pi) < 0 ||
		    (call->n_args == 1 && !vip_addr_equal(&pi.addr, &filter)))
			continue;
		show_one(d, &pi, now, &s.vips[s.n], &s.ev[s.n]);
		s.n++;
	}
	if (call->n_args == 1 && s.n == 0)
		r = vipd_control_fail(call, 1, "%s is not a DuraVIP", call->args[0]);
	else
		r = vipd_control_reply(call, &view, &s);
free_show:
	free(s.vips);
	free(s.ev);
	return r;
}

/* ---------------------------------------------------------------- move, balance, announce */

/* A request handed to the group: {"result": ..., fields} or one sentence. */
struct requested {
	const char *result;  /* "requested", "announcing" */
	const char *address; /* NULL: none */
	const char *node;    /* NULL: none */
	size_t count;
	bool has_count;
	char text[256];
};

static void requested_json(struct vip_json *w, const void *data)
{
	const struct requested *q = data;

	vip_json_object_begin(w, NULL);
	vip_json_string(w, "result", q->result);
	if (q->address)
		vip_json_string(w, "address", q->address);
	if (q->node)
		vip_json_string(w, "node", q->node);
	if (q->has_count)
		vip_json_uint(w, "count", q->count);
	vip_json_object_end(w);
}

static void requested_text(struct vip_ctl_buf *o, const void *data)
{
	const struct requested *q = data;

	vip_ctl_buf_printf(o, "%s\n", q->text);
}

static const struct vipd_control_view requested_view = { requested_json, requested_text };

static int cmd_duravip_move(struct vipd_control_call *call)
{
	char addr[VIP_ADDR_STRLEN];
	struct requested q = { .result = "requested", .address = addr, .node = call->args[1] };
	struct vip_addr a;
	int r;

	if (vip_addr_from_string(call->args[0], &a) < 0)
		return vipd_control_fail(call, VIP_CTL_USAGE, "'%s' is not an IP address", call->args[0]);
	vip_addr_to_string(&a, addr, sizeof(addr));
	r = vipd_daemon_request_move(call->userdata, &a, call->args[1]);
	if (r == -ENOENT)
		return vipd_control_fail(call, 1, "%s is not a DuraVIP", addr);
	if (r < 0)
		return vipd_control_fail(call, 1, "cannot move to '%s': %s", call->args[1], strerror(-r));
	snprintf(q.text, sizeof(q.text), "Move of %s to %s requested.", addr, call->args[1]);
	return vipd_control_reply(call, &requested_view, &q);
}

static int cmd_duravip_balance(struct vipd_control_call *call)
{
	struct requested q = { .result = "requested", .text = "Balancing round requested." };
	int r = vipd_daemon_request_balance(call->userdata);

	if (r < 0)
		return r;
	return vipd_control_reply(call, &requested_view, &q);
}

static int cmd_duravip_announce(struct vipd_control_call *call)
{
	struct requested q = { .result = "announcing", .has_count = true };

	q.count = vipd_daemon_announce_again(call->userdata);
	snprintf(q.text, sizeof(q.text), "Announcing %zu DuraVIP%s held by this node.", q.count,
		 cmd_plural(q.count));
	return vipd_control_reply(call, &requested_view, &q);
}

/* ---------------------------------------------------------------- events */

static void events_json(struct vip_json *w, const void *data)
{
	vip_json_object_begin(w, NULL);
	vip_json_string(w, "events", "subscribed");
	vip_json_string(w, "node", data);
	vip_json_object_end(w);
}

static void events_text(struct vip_ctl_buf *o, const void *data)
{
	vip_ctl_buf_printf(o, "# events of node %s (one line per change)\n", (const char *)data);
}

static int cmd_events(struct vipd_control_call *call)
{
	static const struct vipd_control_view view = { events_json, events_text };
	struct vipd_daemon_info info;
	int r = vipd_control_subscribe(call);

	if (r < 0)
		return r;
	vipd_daemon_get_info(call->userdata, &info);
	return vipd_control_reply(call, &view, info.nodename);
}

static const vipd_control_fn handlers[_VIP_CTL_CMD_MAX] = {
	[VIP_CTL_CMD_DURAVIP_SHOW] = cmd_duravip_show,
	[VIP_CTL_CMD_DURAVIP_MOVE] = cmd_duravip_move,
	[VIP_CTL_CMD_DURAVIP_BALANCE] = cmd_duravip_balance,
	[VIP_CTL_CMD_DURAVIP_ANNOUNCE] = cmd_duravip_announce,
	[VIP_CTL_CMD_MEMBERSHIP] = cmd_membership,
	[VIP_CTL_CMD_NODE_STANDBY] = cmd_node_standby,
	[VIP_CTL_CMD_NODE_ACTIVE] = cmd_node_active,
	[VIP_CTL_CMD_INFO] = cmd_info,
	[VIP_CTL_CMD_ARP_SHOW] = cmd_arp_show,
	[VIP_CTL_CMD_CONFIG_RELOAD] = cmd_reload,
	[VIP_CTL_CMD_CONFIG_SECURITY] = cmd_security,
	[VIP_CTL_CMD_METRICS] = cmd_metrics,
	[VIP_CTL_CMD_EVENTS] = cmd_events,
};

const vipd_control_fn *vipd_commands(void)
{
	return handlers;
}

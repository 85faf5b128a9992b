/* SPDX-License-Identifier: MIT */
/*
 * The console's command table (ctlproto.h), shared by vipd and vipctl, and
 * `help` rendered from it. Pure code: no I/O.
 */
#include <stdio.h>
#include <string.h>

#include "ctlproto.h"

#define R VIP_CTL_AUTH_READ
#define C VIP_CTL_AUTH_CHANGE

const struct vip_ctl_command vip_ctl_commands[_VIP_CTL_CMD_MAX] = {
	[VIP_CTL_CMD_DURAVIP_SHOW] = { VIP_CTL_CMD_DURAVIP_SHOW, "cluster duravip show", "[<ip>]", 0, 1, R, 0,
				       "every DuraVIP (or one): address, services, owner, state, interface, time owned" },
	[VIP_CTL_CMD_DURAVIP_MOVE] = { VIP_CTL_CMD_DURAVIP_MOVE, "cluster duravip move", "<ip> <node>", 2, 2,
				       C, 0, "hand a DuraVIP to another node (multicast to the group)" },
	[VIP_CTL_CMD_DURAVIP_BALANCE] = { VIP_CTL_CMD_DURAVIP_BALANCE, "cluster duravip balance", NULL, 0, 0,
					  C, 0,
					  "rebalance the DuraVIPs over the live nodes (multicast to the group)" },
	[VIP_CTL_CMD_DURAVIP_ANNOUNCE] = { VIP_CTL_CMD_DURAVIP_ANNOUNCE, "cluster duravip announce view",
					   NULL, 0, 0, C, 0, "announce every DuraVIP held here again" },
	[VIP_CTL_CMD_MEMBERSHIP] = { VIP_CTL_CMD_MEMBERSHIP, "cluster membership", NULL, 0, 0, R, 0,
				     "the current view: members and their state" },
	[VIP_CTL_CMD_NODE_STANDBY] = { VIP_CTL_CMD_NODE_STANDBY, "cluster node standby", NULL, 0, 0, C, 0,
				       "hand this node's DuraVIPs to the others and take none until active" },
	[VIP_CTL_CMD_NODE_ACTIVE] = { VIP_CTL_CMD_NODE_ACTIVE, "cluster node active", NULL, 0, 0, C, 0,
				      "end standby: this node takes DuraVIPs again" },
	[VIP_CTL_CMD_INFO] = { VIP_CTL_CMD_INFO, "cluster info", NULL, 0, 0, R, 0,
			       "backend, group, node name, quorum, round, members" },
	[VIP_CTL_CMD_ARP_SHOW] = { VIP_CTL_CMD_ARP_SHOW, "cluster arp show", NULL, 0, 0, R, 0,
				   "announcement options and schedule" },
	[VIP_CTL_CMD_CONFIG_RELOAD] = { VIP_CTL_CMD_CONFIG_RELOAD, "config reload", NULL, 0, 0, C, 0,
					"re-read the configuration and apply what can be applied live" },
	[VIP_CTL_CMD_CONFIG_SECURITY] = { VIP_CTL_CMD_CONFIG_SECURITY, "config show security", NULL, 0, 0, R,
					  0,
					  "the running identity and capabilities, and the configured ones" },
	[VIP_CTL_CMD_METRICS] = { VIP_CTL_CMD_METRICS, "metrics", NULL, 0, 0, R, 0,
				  "counters in the Prometheus text format" },
	[VIP_CTL_CMD_EVENTS] = { VIP_CTL_CMD_EVENTS, "events", NULL, 0, 0, R, VIP_CTL_CMD_F_STREAM,
				 "one line (or JSON object) per change until interrupted" },
	[VIP_CTL_CMD_HELP] = { VIP_CTL_CMD_HELP, "help", NULL, 0, 0, R, VIP_CTL_CMD_F_LOCAL, "this list" },
};

#undef R
#undef C

static const char *const authority_names[_VIP_CTL_AUTH_MAX] = {
	[VIP_CTL_AUTH_READ] = "read-only",
	[VIP_CTL_AUTH_CHANGE] = "changes state",
};

const char *vip_ctl_authority_to_string(enum vip_ctl_authority a)
{
	if ((unsigned)a >= _VIP_CTL_AUTH_MAX)
		return NULL;
	return authority_names[a];
}

/* How many leading argv words match the space-separated words; 0 unless all do. */
static size_t match_words(const char *words, const char *const *argv, size_t argc)
{
	const char *p = words;
	size_t i = 0;

	while (*p) {
		size_t n = strcspn(p, " ");

		if (i >= argc || strlen(argv[i]) != n || strncmp(argv[i], p, n) != 0)
			return 0;
		i++;
		p += n;
		p += strspn(p, " ");
	}
	return i;
}

const struct vip_ctl_command *vip_ctl_command_find(const char *const *argv, size_t argc, size_t *ret_n)
{
	const struct vip_ctl_command *best = NULL;
	size_t best_n = 0;

	for (size_t i = 0; i < _VIP_CTL_CMD_MAX; i++) {
		size_t n = match_words(vip_ctl_commands[i].words, argv, argc);

		if (n > best_n) {
			best = &vip_ctl_commands[i];
			best_n = n;
		}
	}
	*ret_n = best_n;
	return best;
}

void vip_ctl_command_usage(const struct vip_ctl_command *c, char *buf, size_t len)
{
	snprintf(buf, len, "usage: %s%s%s", c->words, c->args ? " " : "", c->args ? c->args : "");
}

void vip_ctl_help_text(struct vip_ctl_buf *out)
{
	for (size_t i = 0; i < _VIP_CTL_CMD_MAX; i++) {
		const struct vip_ctl_command *c = &vip_ctl_commands[i];
		char head[96];

		snprintf(head, sizeof(head), "%s%s%s", c->words, c->args ? " " : "", c->args ? c->args : "");
		vip_ctl_buf_printf(out, "  %-36s %-14s %s\n", head, vip_ctl_authority_to_string(c->authority),
				   c->help);
	}
}

void vip_ctl_help_json(struct vip_json *w)
{
	vip_json_object_begin(w, NULL);
	vip_json_array_begin(w, "commands");
	for (size_t i = 0; i < _VIP_CTL_CMD_MAX; i++) {
		const struct vip_ctl_command *c = &vip_ctl_commands[i];

		vip_json_object_begin(w, NULL);
		vip_json_string(w, "command", c->words);
		vip_json_string(w, "args", c->args ? c->args : "");
		vip_json_uint(w, "min_args", c->min_args);
		vip_json_uint(w, "max_args", c->max_args);
		vip_json_string(w, "authority", vip_ctl_authority_to_string(c->authority));
		vip_json_string(w, "help", c->help);
		vip_json_object_end(w);
	}
	vip_json_array_end(w);
	vip_json_object_end(w);
}

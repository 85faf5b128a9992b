/* SPDX-License-Identifier: MIT */
/* vipd/commands: small helpers every command file uses. */
#include <stdio.h>

#include "commands-internal.h"

void cmd_duration(uint64_t ms, char *buf, size_t len)
{
	if (ms < 60000)
		snprintf(buf, len, "%llu.%llus", (unsigned long long)(ms / 1000),
			 (unsigned long long)(ms % 1000 / 100));
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

const char *cmd_plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* "active, healthy", "standby, unhealthy: mta (...)": this node's candidacy in words. */
void cmd_node_text(struct vip_ctl_buf *o, const struct vipd_node_state *n)
{
	vip_ctl_buf_printf(o, "%s, %s%s%s; %s\n", n->standby ? "STANDBY" : "active",
			   n->healthy ? "healthy" : "UNHEALTHY", n->reason[0] ? ": " : "", n->reason,
			   n->out ? "no candidate for DuraVIPs" : "a candidate for DuraVIPs");
}

void cmd_node_json(struct vip_json *w, const char *key, const char *name, const struct vipd_node_state *n)
{
	vip_json_object_begin(w, key);
	vip_json_string(w, "name", name);
	vip_json_bool(w, "standby", n->standby);
	vip_json_bool(w, "healthy", n->healthy);
	vip_json_bool(w, "candidate", n->out == 0);
	vip_json_string(w, "reason", n->reason[0] ? n->reason : NULL);
	vip_json_object_end(w);
}

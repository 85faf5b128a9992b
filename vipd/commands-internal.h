/* SPDX-License-Identifier: MIT */
/*
 * vipd/commands internals: the handlers commands.c puts in the table
 * (commands-cluster.c, commands-info.c) and the helpers they all use
 * (commands-util.c). Not a public header.
 */
#ifndef VIPD_COMMANDS_INTERNAL_H
#define VIPD_COMMANDS_INTERNAL_H

#include <stdint.h>

#include "commands.h"
#include "daemon.h"

/* commands-util.c */
/* "12.3s", "5m02s", "2h05m". */
void cmd_duration(uint64_t ms, char *buf, size_t len);
/* now - since, never negative. */
uint64_t cmd_age(uint64_t now, uint64_t since);
/* "" for 1, "s" otherwise. */
const char *cmd_plural(uint64_t n);
/* This node's candidacy: "active, healthy; a candidate for DuraVIPs\n" and the like. */
void cmd_node_text(struct vip_ctl_buf *o, const struct vipd_node_state *n);
/* {"name", "standby", "healthy", "candidate", "reason"} under key. */
void cmd_node_json(struct vip_json *w, const char *key, const char *name, const struct vipd_node_state *n);

/* commands-cluster.c */
int cmd_membership(struct vipd_control_call *call);
int cmd_info(struct vipd_control_call *call);
int cmd_arp_show(struct vipd_control_call *call);
int cmd_node_standby(struct vipd_control_call *call);
int cmd_node_active(struct vipd_control_call *call);

/* commands-neigh.c: the shared neighbour cache in `cluster arp show` */
struct cmd_neigh {
	struct vipd_neigh_entry *e; /* address order; owned */
	size_t n;
	struct vipd_neigh_stats st;
	uint64_t now;
	uint32_t size, max_age_ms; /* arp_cache_size, arp_cache_max_age */
};
/* A snapshot of d's cache. 0 or -ENOMEM. */
int cmd_neigh_collect(struct vipd_daemon *d, struct cmd_neigh *ret);
void cmd_neigh_clear(struct cmd_neigh *c);
/* A summary line and one row per entry. */
void cmd_neigh_text(struct vip_ctl_buf *o, const struct cmd_neigh *c);
/* "neighbour_cache": {entries, learnt_here, size, max_age_ms, hosts: [{address, mac, interface, node,
 * learnt_here, age_ms}]} */
void cmd_neigh_json(struct vip_json *w, const struct cmd_neigh *c);

/* commands-info.c */
int cmd_reload(struct vipd_control_call *call);
int cmd_security(struct vipd_control_call *call);
int cmd_metrics(struct vipd_control_call *call);

#endif

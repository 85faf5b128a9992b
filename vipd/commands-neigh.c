/* SPDX-License-Identifier: MIT */
/*
 * vipd/commands: the shared neighbour cache as `cluster arp show` lists it
 * beside the announcement schedule (vipd/neigh.h): every host, its MAC, the
 * interface and the node that learnt it, and how long ago that node saw it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands-internal.h"
#include "loop.h"

int cmd_neigh_collect(struct vipd_daemon *d, struct cmd_neigh *ret)
{
	const struct vipd_neigh *nc = vipd_daemon_neigh(d);
	const struct vipd_cluster *cl = &vipd_daemon_config(d)->cluster;
	ssize_t n;

	*ret = (struct cmd_neigh){ .now = loop_now_ms(),
				   .size = cl->arp_cache_size,
				   .max_age_ms = cl->arp_cache_max_age_ms };
	if (!nc)
		return 0;
	n = vipd_neigh_snapshot(nc, &ret->e);
	if (n < 0)
		return (int)n;
	ret->n = (size_t)n;
	vipd_neigh_get_stats(nc, &ret->st);
	return 0;
}

void cmd_neigh_clear(struct cmd_neigh *c)
{
	free(c->e);
	*c = (struct cmd_neigh){ 0 };
}

static void mac_text(const uint8_t *m, char buf[static 18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

void cmd_neigh_text(struct vip_ctl_buf *o, const struct cmd_neigh *c)
{
	char age[32];

	cmd_duration(c->max_age_ms, age, sizeof(age));
	vip_ctl_buf_printf(
		o,
		"Neighbour cache: %zu entr%s (%zu learnt here), at most %u per node and interface, "
		"aged out after %s\n",
		c->n, c->n == 1 ? "y" : "ies", c->st.own, c->size, age);
	if (c->n)
		vip_ctl_buf_printf(o, "%-40s %-17s %-16s %-20s %10s\n", "HOST", "MAC", "INTERFACE", "NODE",
				   "SEEN");
	for (size_t i = 0; i < c->n; i++) {
		const struct vipd_neigh_entry *e = &c->e[i];
		char ip[VIP_ADDR_STRLEN], mac[18], seen[40];

		vip_addr_to_string(&e->ip, ip, sizeof(ip));
		mac_text(e->mac, mac);
		cmd_duration(cmd_age(c->now, e->seen_ms), seen, sizeof(seen) - 4);
		strcat(seen, " ago");
		vip_ctl_buf_printf(o, "%-40s %-17s %-16s %-20s %10s\n", ip, mac, e->ifname, e->node, seen);
	}
}

void cmd_neigh_json(struct vip_json *w, const struct cmd_neigh *c)
{
	vip_json_object_begin(w, "neighbour_cache");
	vip_json_uint(w, "entries", c->n);
	vip_json_uint(w, "learnt_here", c->st.own);
	vip_json_uint(w, "size", c->size);
	vip_json_uint(w, "max_age_ms", c->max_age_ms);
	vip_json_array_begin(w, "hosts");
	for (size_t i = 0; i < c->n; i++) {
		const struct vipd_neigh_entry *e = &c->e[i];
		char ip[VIP_ADDR_STRLEN], mac[18];

		vip_addr_to_string(&e->ip, ip, sizeof(ip));
		mac_text(e->mac, mac);
		vip_json_object_begin(w, NULL);
		vip_json_string(w, "address", ip);
		vip_json_string(w, "mac", mac);
		vip_json_string(w, "interface", e->ifname);
		vip_json_string(w, "node", e->node);
		vip_json_bool(w, "learnt_here", e->own);
		vip_json_uint(w, "age_ms", cmd_age(c->now, e->seen_ms));
		vip_json_object_end(w);
	}
	vip_json_array_end(w);
	vip_json_object_end(w);
}

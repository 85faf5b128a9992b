/* SPDX-License-Identifier: MIT */
/*
 * vipd/neigh internals shared by neigh.c (the cache, learning, sharing) and
 * neigh-query.c (the lookups). Not a public header.
 */
#ifndef VIPD_NEIGH_INTERNAL_H
#define VIPD_NEIGH_INTERNAL_H

#include "neigh.h"

#define NEIGH_NIL UINT32_MAX
#define VIPD_NEIGH_GROUPS_MAX 256
#define VIPD_NEIGH_NODES_MAX 256
#define NEIGH_FORGETS_MAX 4096

struct neigh_ent {
	struct vip_addr ip;
	uint8_t mac[VIPD_NEIGH_MAC_LEN];
	bool used;
	uint8_t pending;  /* own: VIP_CL_NEIGH_SEEN to send, else 0 */
	uint16_t group;   /* index in nc->groups */
	uint32_t next;    /* hash chain, or the free list */
	uint64_t seen_ms; /* when the learning node last saw the host */
	uint64_t sent_ms; /* own: seen_ms as last sent */
};

struct neigh_group {
	uint16_t node; /* index in nc->nodes; 0 is this node */
	char ifname[VIP_PORT_NAME_MAX];
	uint32_t count;
};

struct neigh_forget {
	struct vip_addr ip;
	char ifname[VIP_PORT_NAME_MAX];
};

struct vipd_neigh {
	struct vipd_neigh_opts opts;
	char **nodes;
	size_t n_nodes;
	struct neigh_group *groups;
	size_t n_groups;
	struct neigh_ent *e;
	size_t n_e, cap_e; /* slots made; free ones chained from free_head */
	uint32_t free_head;
	uint32_t *bucket;
	size_t n_bucket; /* a power of two */
	size_t count;
	struct vipd_neigh_link *links;
	size_t n_links;
	struct neigh_forget *forgets; /* own entries forgotten, to send */
	size_t n_forgets;
	bool resend_all; /* a member joined: every own entry goes again */
	struct vipd_neigh_stats st;
};

#endif

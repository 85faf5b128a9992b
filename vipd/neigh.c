/* SPDX-License-Identifier: MIT */
/*
 * vipd/neigh: the shared neighbour cache (neigh.h, docs/protocol.md §13).
 *
 * Entries live in one slot array with a free list and a chained hash on
 * (address, node, interface); every (node, interface) pair is a group with
 * a count, so the size bound is checked in O(1) and only an eviction scans.
 * The number of groups is bounded too (a peer naming endless interfaces or
 * nodes cannot make the cache grow past VIPD_NEIGH_GROUPS_MAX * size).
 * The lookups (the announcer's, the console's) are in neigh-query.c.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "neigh-internal.h"
#include "util.h"

void vipd_neigh_opts_from_config(const struct vipd_cluster *c, struct vipd_neigh_opts *ret)
{
	*ret = (struct vipd_neigh_opts){
		.size = c->arp_cache_size ? c->arp_cache_size : 4096,
		.max_age_ms = c->arp_cache_max_age_ms ? c->arp_cache_max_age_ms : 600000,
	};
}

static uint64_t hash_key(const struct vip_addr *ip, uint16_t group)
{
	uint64_t h = 1469598103934665603ull;
	size_t n = vip_addr_len(ip);

	for (size_t i = 0; i < n; i++)
		h = (h ^ ip->bytes[i]) * 1099511628211ull;
	h = (h ^ group) * 1099511628211ull;
	return h ^ (h >> 29);
}

static uint32_t *chain_head(const struct vipd_neigh *nc, const struct vip_addr *ip, uint16_t group)
{
	return &nc->bucket[hash_key(ip, group) & (nc->n_bucket - 1)];
}

static struct neigh_ent *find(const struct vipd_neigh *nc, const struct vip_addr *ip, uint16_t group)
{
	for (uint32_t i = *chain_head(nc, ip, group); i != NEIGH_NIL; i = nc->e[i].next)
		if (nc->e[i].group == group && vip_addr_equal(&nc->e[i].ip, ip))
			return &nc->e[i];
	return NULL;
}

static int rehash(struct vipd_neigh *nc, size_t n_bucket)
{
	uint32_t *b = malloc(n_bucket * sizeof(*b));

	if (!b)
		return -ENOMEM;
	free(nc->bucket);
	nc->bucket = b;
	nc->n_bucket = n_bucket;
	for (size_t i = 0; i < n_bucket; i++)
		b[i] = NEIGH_NIL;
	for (size_t i = 0; i < nc->n_e; i++) {
		if (!nc->e[i].used)
			continue;
		uint32_t *h = chain_head(nc, &nc->e[i].ip, nc->e[i].group);
		nc->e[i].next = *h;
		*h = (uint32_t)i;
	}
	return 0;
}

int vipd_neigh_new(const struct vipd_neigh_opts *opts, const char *self, struct vipd_neigh **ret)
{
	assert(opts && ret);
	if (!self || !self[0] || strlen(self) > VIP_CL_NAME_MAX || opts->size == 0)
		return -EINVAL;
	struct vipd_neigh *nc = calloc(1, sizeof(*nc));
	if (!nc)
		return -ENOMEM;
	nc->opts = *opts;
	nc->free_head = NEIGH_NIL;
	nc->nodes = calloc(1, sizeof(*nc->nodes));
	if (nc->nodes && (nc->nodes[0] = strdup(self)))
		nc->n_nodes = 1;
	if (nc->n_nodes == 0 || rehash(nc, 64) < 0) {
		vipd_neigh_free(nc);
		return -ENOMEM;
	}
	*ret = nc;
	return 0;
}

void vipd_neigh_free(struct vipd_neigh *nc)
{
	if (!nc)
		return;
	for (size_t i = 0; i < nc->n_nodes; i++)
		free(nc->nodes[i]);
	free(nc->nodes);
	free(nc->groups);
	free(nc->e);
	free(nc->bucket);
	free(nc->links);
	free(nc->forgets);
	free(nc);
}

/* ---------------------------------------------------------------- slots and groups */

static void unlink_entry(struct vipd_neigh *nc, struct neigh_ent *x)
{
	uint32_t idx = (uint32_t)(x - nc->e);

	for (uint32_t *pp = chain_head(nc, &x->ip, x->group); *pp != NEIGH_NIL; pp = &nc->e[*pp].next)
		if (*pp == idx) {
			*pp = x->next;
			break;
		}
	nc->groups[x->group].count--;
	nc->count--;
	if (nc->groups[x->group].node == 0)
		nc->st.own--;
	*x = (struct neigh_ent){ .next = nc->free_head };
	nc->free_head = idx;
}

/* The group of (node, ifname), made when create; -1 when there is none (or no room). */
static int group_of(struct vipd_neigh *nc, uint16_t node, const char *ifname, bool create)
{
	for (size_t i = 0; i < nc->n_groups; i++)
		if (nc->groups[i].node == node && !strcmp(nc->groups[i].ifname, ifname))
			return (int)i;
	if (!create || nc->n_groups >= VIPD_NEIGH_GROUPS_MAX)
		return -1;
	struct neigh_group *g = realloc(nc->groups, (nc->n_groups + 1) * sizeof(*g));
	if (!g)
		return -1;
	nc->groups = g;
	g[nc->n_groups] = (struct neigh_group){ .node = node };
	snprintf(g[nc->n_groups].ifname, sizeof(g->ifname), "%s", ifname);
	return (int)nc->n_groups++;
}

/* The index of a node's name, added when missing; -1 when there is no room. */
static int node_of(struct vipd_neigh *nc, const char *name)
{
	for (size_t i = 0; i < nc->n_nodes; i++)
		if (!strcmp(nc->nodes[i], name))
			return (int)i;
	if (nc->n_nodes >= VIPD_NEIGH_NODES_MAX)
		return -1;
	char **n = realloc(nc->nodes, (nc->n_nodes + 1) * sizeof(*n));
	if (!n)
		return -1;
	nc->nodes = n;
	if (!(n[nc->n_nodes] = strdup(name)))
		return -1;
	return (int)nc->n_nodes++;
}

/* Make room in group g for one more entry: drop its least recently seen ones. */
static void evict(struct vipd_neigh *nc, uint16_t g, uint32_t limit)
{
	while (nc->groups[g].count >= limit && nc->groups[g].count > 0) {
		struct neigh_ent *old = NULL;

		for (size_t i = 0; i < nc->n_e; i++)
			if (nc->e[i].used && nc->e[i].group == g && (!old || nc->e[i].seen_ms < old->seen_ms))
				old = &nc->e[i];
		if (!old)
			return;
		unlink_entry(nc, old);
		nc->st.evicted++;
	}
}

/* A new entry (ip, group) seen at seen_ms; the caller fills the rest. NULL: no memory. */
static struct neigh_ent *insert(struct vipd_neigh *nc, const struct vip_addr *ip, uint16_t g,
				uint64_t seen_ms)
{
	evict(nc, g, nc->opts.size);
	if (nc->free_head == NEIGH_NIL) {
		if (nc->n_e == nc->cap_e) {
			size_t cap = nc->cap_e ? nc->cap_e * 2 : 64;
			struct neigh_ent *e = realloc(nc->e, cap * sizeof(*e));
			if (!e)
				return NULL;
			nc->e = e;
			nc->cap_e = cap;
		}
		nc->e[nc->n_e] = (struct neigh_ent){ .next = NEIGH_NIL };
		nc->free_head = (uint32_t)nc->n_e++;
	}
	if (nc->count + 1 > nc->n_bucket && rehash(nc, nc->n_bucket * 2) < 0)
		return NULL;
	uint32_t idx = nc->free_head;
	struct neigh_ent *x = &nc->e[idx];
	nc->free_head = x->next;
	*x = (struct neigh_ent){ .ip = *ip, .used = true, .group = g, .seen_ms = seen_ms };
	uint32_t *h = chain_head(nc, ip, g);
	x->next = *h;
	*h = idx;
	nc->groups[g].count++;
	nc->count++;
	if (nc->groups[g].node == 0)
		nc->st.own++;
	return x;
}

void vipd_neigh_set_opts(struct vipd_neigh *nc, const struct vipd_neigh_opts *opts, uint64_t now)
{
	assert(opts->size > 0);
	nc->opts = *opts;
	for (size_t g = 0; g < nc->n_groups; g++)
		evict(nc, (uint16_t)g, nc->opts.size + 1);
	vipd_neigh_expire(nc, now);
}

static const char *link_name(const struct vipd_neigh *nc, int ifindex)
{
	for (size_t i = 0; i < nc->n_links; i++)
		if (nc->links[i].ifindex == ifindex)
			return nc->links[i].ifname;
	return NULL;
}

int vipd_neigh_set_links(struct vipd_neigh *nc, const struct vipd_neigh_link *links, size_t n)
{
	struct vipd_neigh_link *l = NULL;
	bool added = false;

	for (size_t i = 0; i < n && !added; i++) {
		const char *old = link_name(nc, links[i].ifindex);
		added = !old || strcmp(old, links[i].ifname);
	}
	if (!added && n == nc->n_links)
		return 0;

	if (n) {
		l = malloc(n * sizeof(*l));
		if (!l)
			return -ENOMEM;
		memcpy(l, links, n * sizeof(*l));
	}
	free(nc->links);
	nc->links = l;
	nc->n_links = n;
	return added ? 1 : 0;
}

size_t vipd_neigh_expire(struct vipd_neigh *nc, uint64_t now)
{
	size_t n = 0;

	for (size_t i = 0; i < nc->n_e; i++) {
		struct neigh_ent *x = &nc->e[i];
		if (x->used && now > x->seen_ms && now - x->seen_ms > nc->opts.max_age_ms) {
			unlink_entry(nc, x);
			n++;
		}
	}
	nc->st.expired += n;
	return n;
}

/* ---------------------------------------------------------------- learning */

static bool learnable(enum vip_port_neigh_state s)
{
	return s == VIP_PORT_NEIGH_REACHABLE || s == VIP_PORT_NEIGH_STALE || s == VIP_PORT_NEIGH_DELAY ||
	       s == VIP_PORT_NEIGH_PROBE;
}

static void remember_forget(struct vipd_neigh *nc, const struct vip_addr *ip, const char *ifname)
{
	if (nc->n_forgets >= NEIGH_FORGETS_MAX)
		return; /* the peers age it out instead */
	struct neigh_forget *f = realloc(nc->forgets, (nc->n_forgets + 1) * sizeof(*f));
	if (!f)
		return;
	nc->forgets = f;
	f[nc->n_forgets] = (struct neigh_forget){ .ip = *ip };
	snprintf(f[nc->n_forgets].ifname, sizeof(f->ifname), "%s", ifname);
	nc->n_forgets++;
}

int vipd_neigh_learn(struct vipd_neigh *nc, const struct vip_port_neigh *n, bool deleted, uint64_t now)
{
	const char *ifname = link_name(nc, n->ifindex);

	if (deleted || !ifname || (n->addr.family != AF_INET && n->addr.family != AF_INET6))
		return 0;
	int g = group_of(nc, 0, ifname, learnable(n->state));
	if (g < 0)
		return 0;
	struct neigh_ent *x = find(nc, &n->addr, (uint16_t)g);
	if (n->state == VIP_PORT_NEIGH_FAILED && x) {
		unlink_entry(nc, x);
		remember_forget(nc, &n->addr, ifname);
		return 1;
	}
	if (!learnable(n->state) || n->hwaddr_len != VIPD_NEIGH_MAC_LEN || n->age_ms > nc->opts.max_age_ms)
		return 0;
	uint64_t seen = now > n->age_ms ? now - n->age_ms : 0;
	if (x) {
		bool mac_changed = memcmp(x->mac, n->hwaddr, VIPD_NEIGH_MAC_LEN) != 0;
		if (seen > x->seen_ms)
			x->seen_ms = seen;
		if (!mac_changed)
			return 0;
		memcpy(x->mac, n->hwaddr, VIPD_NEIGH_MAC_LEN);
		x->pending = VIP_CL_NEIGH_SEEN;
		return 1;
	}
	x = insert(nc, &n->addr, (uint16_t)g, seen);
	if (!x)
		return -ENOMEM;
	memcpy(x->mac, n->hwaddr, VIPD_NEIGH_MAC_LEN);
	x->pending = VIP_CL_NEIGH_SEEN;
	nc->st.learnt++;
	return 1;
}

/* ---------------------------------------------------------------- sharing */

/* One entry of a peer's message. 1 changed, 0 not, -ENOMEM. */
static int merge_one(struct vipd_neigh *nc, uint16_t node, const struct vip_cl_neigh *ne, uint64_t now)
{
	int g = group_of(nc, node, ne->ifname, ne->op == VIP_CL_NEIGH_SEEN);

	if (g < 0)
		return 0;
	struct neigh_ent *x = find(nc, &ne->addr, (uint16_t)g);
	if (ne->op == VIP_CL_NEIGH_FORGET) {
		if (!x)
			return 0;
		unlink_entry(nc, x);
		return 1;
	}
	uint64_t age = (uint64_t)ne->age_s * 1000u;
	if (age > nc->opts.max_age_ms)
		return 0;
	uint64_t seen = now > age ? now - age : 0;
	if (!x) {
		x = insert(nc, &ne->addr, (uint16_t)g, seen);
		if (!x)
			return -ENOMEM;
	} else if (seen <= x->seen_ms && !memcmp(x->mac, ne->mac, VIPD_NEIGH_MAC_LEN)) {
		return 0;
	}
	if (seen > x->seen_ms)
		x->seen_ms = seen;
	memcpy(x->mac, ne->mac, VIPD_NEIGH_MAC_LEN);
	nc->st.merged++;
	return 1;
}

int vipd_neigh_merge(struct vipd_neigh *nc, const struct vip_cl_msg *m, uint64_t now)
{
	int changed = 0;

	if (m->type != VIP_CL_MSG_NEIGH || !strcmp(m->name, nc->nodes[0]))
		return 0;
	int node = node_of(nc, m->name);
	if (node < 0)
		return 0;
	nc->st.received++;
	for (size_t i = 0; i < m->n_neighs; i++) {
		int r = merge_one(nc, (uint16_t)node, &m->neighs[i], now);
		if (r < 0)
			return r;
		changed += r;
	}
	return changed;
}

void vipd_neigh_peer_joined(struct vipd_neigh *nc)
{
	nc->resend_all = true;
}

int vipd_neigh_take_batch(struct vipd_neigh *nc, uint64_t now, struct vip_cl_msg *ret)
{
	struct vip_cl_msg m = { .type = VIP_CL_MSG_NEIGH };
	size_t n = 0, cap = VIP_CL_NEIGH_MAX;

	if (nc->resend_all) {
		/* a member joined: every own entry goes again, over as many batches as it takes */
		for (size_t i = 0; i < nc->n_e; i++)
			if (nc->e[i].used && nc->groups[nc->e[i].group].node == 0)
				nc->e[i].pending = VIP_CL_NEIGH_SEEN;
		nc->resend_all = false;
	}
	m.neighs = calloc(cap, sizeof(*m.neighs));
	if (!m.neighs)
		return -ENOMEM;
	snprintf(m.name, sizeof(m.name), "%s", nc->nodes[0]);
	while (nc->n_forgets > 0 && n < cap) {
		struct neigh_forget *f = &nc->forgets[--nc->n_forgets];
		m.neighs[n] = (struct vip_cl_neigh){ .op = VIP_CL_NEIGH_FORGET, .addr = f->ip };
		snprintf(m.neighs[n].ifname, sizeof(m.neighs->ifname), "%s", f->ifname);
		n++;
	}
	for (size_t i = 0; i < nc->n_e && n < cap; i++) {
		struct neigh_ent *x = &nc->e[i];
		if (!x->used || nc->groups[x->group].node != 0 ||
		    (!x->pending && x->seen_ms < x->sent_ms + nc->opts.max_age_ms / 2))
			continue;
		uint64_t age = now > x->seen_ms ? (now - x->seen_ms) / 1000u : 0;
		struct vip_cl_neigh *ne = &m.neighs[n++];
		*ne = (struct vip_cl_neigh){ .op = VIP_CL_NEIGH_SEEN, .addr = x->ip, .age_s = (uint32_t)age };
		memcpy(ne->mac, x->mac, VIPD_NEIGH_MAC_LEN);
		snprintf(ne->ifname, sizeof(ne->ifname), "%s", nc->groups[x->group].ifname);
		x->pending = 0;
		x->sent_ms = x->seen_ms;
	}
	if (n == 0) {
		free(m.neighs);
		return 0;
	}
	m.n_neighs = n;
	nc->st.batches++;
	nc->st.sent += n;
	*ret = m;
	return 1;
}

void vipd_neigh_unsend(struct vipd_neigh *nc, const struct vip_cl_msg *m)
{
	for (size_t i = 0; i < m->n_neighs; i++) {
		const struct vip_cl_neigh *ne = &m->neighs[i];
		int g = group_of(nc, 0, ne->ifname, false);
		struct neigh_ent *x = g < 0 ? NULL : find(nc, &ne->addr, (uint16_t)g);

		if (ne->op == VIP_CL_NEIGH_FORGET && !x)
			remember_forget(nc, &ne->addr, ne->ifname);
		else if (ne->op == VIP_CL_NEIGH_SEEN && x)
			x->pending = VIP_CL_NEIGH_SEEN;
	}
}

/* SPDX-License-Identifier: MIT */
/*
 * Ghosts (docs/protocol.md, "Monitors and ghosts").
 *
 * An engine that crashes leaves the view (PROCDOWN) while its addresses
 * are still plumbed, until something removes them. When a monitor of its
 * node is in the view, that monitor removes them and says so (FLUSHED); until
 * then the engine's last holds are a ghost: they count as holders
 * (releasing), so nobody plumbs them twice. The ghost goes when the FLUSHED
 * is delivered, when the monitor leaves the view, or when the node's next
 * engine speaks (it did a clean slate). With no monitor of its node in the
 * view there is no ghost: the survivors take over at once, as before.
 *
 * Ghosts are replicated state: every member puts the ghosts it knows into
 * its STATE, and the ghosts of a closed round are exactly those carried by
 * a STATE delivered in it (so a member that joined later knows them too).
 */
#include <stdlib.h>

#include "proto-internal.h"

#define GHOST_SUFFIX " (crashed)"

static void ghost_free(struct pghost *g)
{
	free(g->label);
	free(g->addrs);
}

void vip_cl_ghosts_free(struct vip_cl_proto *p)
{
	for (size_t i = 0; i < p->n_ghosts; i++)
		ghost_free(&p->ghosts[i]);
	p->n_ghosts = 0;
	p->n_cleared = 0;
}

static void ghost_drop(struct vip_cl_proto *p, size_t i)
{
	ghost_free(&p->ghosts[i]);
	memmove(&p->ghosts[i], &p->ghosts[i + 1], (p->n_ghosts - i - 1) * sizeof(p->ghosts[0]));
	p->n_ghosts--;
}

static bool node_cleared(const struct vip_cl_proto *p, uint32_t nodeid)
{
	for (size_t i = 0; i < p->n_cleared; i++)
		if (p->cleared[i] == nodeid)
			return true;
	return false;
}

static bool monitor_in_view(const struct vip_cl_proto *p, uint32_t nodeid)
{
	for (size_t i = 0; i < p->n_m; i++)
		if (p->m[i].monitor && p->m[i].id.nodeid == nodeid)
			return true;
	return false;
}

static struct pghost *ghost_find(struct vip_cl_proto *p, const struct vip_cl_member *id)
{
	for (size_t i = 0; i < p->n_ghosts; i++)
		if (p->ghosts[i].id.nodeid == id->nodeid && p->ghosts[i].id.pid == id->pid)
			return &p->ghosts[i];
	return NULL;
}

/* A new ghost (no addresses yet), or NULL when out of memory or room. */
static struct pghost *ghost_new(struct vip_cl_proto *p, const struct vip_cl_member *id, const char *name)
{
	if (p->n_ghosts == ARRAY_SIZE(p->ghosts))
		return NULL;
	size_t n = strlen(name) + sizeof(GHOST_SUFFIX);
	char *label = malloc(n);
	if (!label)
		return NULL;
	snprintf(label, n, "%s%s", name, GHOST_SUFFIX);
	struct pghost *g = &p->ghosts[p->n_ghosts++];
	*g = (struct pghost){ .id = *id, .label = label, .anode = -1 };
	g->id.reason = VIP_CL_REASON_PROCDOWN;
	return g;
}

/* Add a[0..n) to g (both sorted, unique). Takes a (malloc'ed, may be NULL with n 0). 0 or -ENOMEM. */
static int ghost_merge(struct pghost *g, struct vip_addr *a, size_t n)
{
	_cleanup_free_ struct vip_addr *held = a;
	struct vip_addr *out = malloc((g->n_addrs + n + 1) * sizeof(*out));
	size_t i = 0, j = 0, k = 0;

	if (!out)
		return -ENOMEM;
	while (i < g->n_addrs || j < n) {
		int c = i == g->n_addrs ? 1 : j == n ? -1 : vip_addr_cmp(&g->addrs[i], &held[j]);
		out[k++] = c <= 0 ? g->addrs[i] : held[j];
		i += c <= 0;
		j += c >= 0;
	}
	free(g->addrs);
	g->addrs = out;
	g->n_addrs = k;
	return 0;
}

/*
 * Merge into g the addresses held by n records: kept ones (a member's, in
 * memory) or, with kept NULL, a message's. 0 or -ENOMEM.
 */
static int ghost_merge_held(const struct vip_cl_proto *p, struct pghost *g, const struct prec *kept,
			    const struct vip_cl_record *msg, size_t n)
{
	struct vip_addr *a = malloc((n + 1) * sizeof(*a));
	size_t k = 0;

	if (!a)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if ((kept ? kept[i].flags : msg[i].flags) & VIP_CL_R_HELD)
			a[k++] = kept ? *vip_cl_rec_addr(p, &kept[i]) : msg[i].addr;
	return ghost_merge(g, a, k);
}

static enum vip_cl_reason left_reason(const struct vip_cl_view *v, const struct vip_cl_member *id)
{
	for (size_t i = 0; i < v->n_left; i++)
		if (v->left[i].nodeid == id->nodeid && v->left[i].pid == id->pid)
			return v->left[i].reason;
	return VIP_CL_REASON_UNKNOWN;
}

static bool holds_any(const struct pmember *m)
{
	for (size_t i = 0; i < m->n_records; i++)
		if (m->records[i].flags & VIP_CL_R_HELD)
			return true;
	return false;
}

/* Nothing will confirm that a's holder removed it: the engine probes before plumbing it. */
static void mark_probe(struct vip_cl_proto *p, const struct vip_addr *a)
{
	struct lvip *l = vip_cl_local_find(p, a);

	if (l && l->configured)
		l->probe = true;
}

/*
 * Every address: a member lost unconfirmed may also hold one that its records
 * here do not show — granted to it by a RELEASED it delivered in the old view
 * and this node did not (they did not move to the new view together). The flag
 * goes again from what another member's records hold once the round is
 * complete (vip_cl_update_wants).
 */
static void mark_probe_all(struct vip_cl_proto *p)
{
	for (size_t i = 0; i < p->n_l; i++)
		if (p->l[i].configured)
			p->l[i].probe = true;
}

int vip_cl_ghosts_on_view(struct vip_cl_proto *p, const struct pmember *old, size_t n_old,
			  const struct vip_cl_view *v)
{
	/* p->m is the new view already (with what is known of members that stay) */
	p->n_cleared = 0;
	for (size_t i = 0; i < p->n_ghosts; i++) {
		struct pghost *g = &p->ghosts[i];
		if (g->cleared || !monitor_in_view(p, g->id.nodeid)) {
			/* a monitor gone before its FLUSHED: nothing says the addresses went */
			for (size_t k = 0; !g->cleared && k < g->n_addrs; k++)
				mark_probe(p, &g->addrs[k]);
			ghost_drop(p, i--);
			continue;
		}
		g->confirmed = false;
		g->anode = -1;
	}
	bool unconfirmed = false;
	for (size_t k = 0; k < n_old; k++) {
		const struct pmember *o = &old[k];
		bool stays = false;
		for (size_t i = 0; i < v->n_members && !stays; i++)
			stays = v->members[i].nodeid == o->id.nodeid && v->members[i].pid == o->id.pid;
		if (stays || o->monitor)
			continue;
		/* no ghost (node loss, or no monitor to flush): the survivors take over unconfirmed */
		if (!o->name || left_reason(v, &o->id) == VIP_CL_REASON_NODEDOWN ||
		    !monitor_in_view(p, o->id.nodeid)) {
			unconfirmed = true;
			continue;
		}
		if (!holds_any(o))
			continue;
		struct pghost *g = ghost_find(p, &o->id);
		if (!g && !(g = ghost_new(p, &o->id, o->name)))
			return -ENOMEM;
		int r = ghost_merge_held(p, g, o->records, NULL, o->n_records);
		if (r < 0)
			return r;
	}
	if (unconfirmed)
		mark_probe_all(p);
	return 0;
}

/* A replicated ghost has a name; the same node name may not be two assignment nodes. */
static void ghost_confirm(struct vip_cl_proto *p, struct pghost *g)
{
	g->confirmed = true;
	if (p->round_complete && g->anode < 0 && p->n_nodes < VIP_CL_MAX_MEMBERS) {
		for (size_t k = 0; k < p->n_nodes; k++)
			if (strcmp(p->nodes[k].name, g->label) == 0)
				return;
		g->anode = (int)p->n_nodes;
		p->nodes[p->n_nodes++] = (struct vip_cl_anode){ .name = g->label, .silent = true };
	}
}

int vip_cl_ghosts_from_state(struct vip_cl_proto *p, uint32_t nodeid, const struct vip_cl_msg *msg)
{
	vip_cl_ghosts_clear_node(p, nodeid); /* the node's next engine: it did a clean slate */
	for (size_t i = 0; i < msg->n_peers; i++) {
		const struct vip_cl_peer *pe = &msg->peers[i];
		struct vip_cl_member id = { .nodeid = pe->nodeid, .pid = pe->pid };
		if (pe->monitor || node_cleared(p, pe->nodeid))
			continue;
		struct pghost *g = ghost_find(p, &id);
		if (!g && !(g = ghost_new(p, &id, pe->name)))
			return -ENOMEM;
		if (!g->confirmed) {
			/* replicated from here on: only what delivered STATEs say */
			free(g->addrs);
			g->addrs = NULL;
			g->n_addrs = 0;
		}
		int r = ghost_merge_held(p, g, NULL, pe->records, pe->n_records);
		if (r < 0)
			return r;
		ghost_confirm(p, g);
	}
	return 0;
}

void vip_cl_ghosts_clear_node(struct vip_cl_proto *p, uint32_t nodeid)
{
	for (size_t i = 0; i < p->n_ghosts; i++) {
		struct pghost *g = &p->ghosts[i];
		if (g->id.nodeid != nodeid || g->cleared)
			continue;
		/* keep the entry (its assignment node points at the label) until the next view */
		g->cleared = true;
		free(g->addrs);
		g->addrs = NULL;
		g->n_addrs = 0;
	}
	/* and a STATE sent before its sender saw this must not bring it back in this view */
	if (!node_cleared(p, nodeid) && p->n_cleared < ARRAY_SIZE(p->cleared))
		p->cleared[p->n_cleared++] = nodeid;
}

void vip_cl_ghosts_close(struct vip_cl_proto *p)
{
	for (size_t i = 0; i < p->n_ghosts; i++)
		if (!p->ghosts[i].confirmed && !p->ghosts[i].cleared)
			ghost_drop(p, i--);
}

static int cmp_peer(const void *a, const void *b)
{
	const struct vip_cl_peer *x = a, *y = b;

	if (x->nodeid != y->nodeid)
		return x->nodeid < y->nodeid ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

ssize_t vip_cl_ghosts_peers(const struct vip_cl_proto *p, struct vip_cl_peer **ret)
{
	struct vip_cl_peer *pe = calloc(p->n_ghosts + 1, sizeof(*pe));
	size_t n = 0;

	if (!pe)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_ghosts; i++) {
		const struct pghost *g = &p->ghosts[i];
		if (g->cleared || !g->n_addrs)
			continue;
		struct vip_cl_peer *e = &pe[n];
		*e = (struct vip_cl_peer){ .nodeid = g->id.nodeid, .pid = g->id.pid };
		size_t len = strlen(g->label) - strlen(GHOST_SUFFIX);
		snprintf(e->name, sizeof(e->name), "%.*s", (int)len, g->label);
		e->records = calloc(g->n_addrs, sizeof(*e->records));
		if (!e->records) {
			for (size_t k = 0; k < n; k++)
				free(pe[k].records);
			free(pe);
			return -ENOMEM;
		}
		for (size_t k = 0; k < g->n_addrs; k++)
			e->records[k] = (struct vip_cl_record){
				.addr = g->addrs[k],
				.flags = VIP_CL_R_HELD | VIP_CL_R_RELEASING,
			};
		e->n_records = g->n_addrs;
		n++;
	}
	qsort(pe, n, sizeof(*pe), cmp_peer);
	*ret = pe;
	return (ssize_t)n;
}

size_t vip_cl_ghosts_active(const struct vip_cl_proto *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_ghosts; i++)
		n += !p->ghosts[i].cleared && p->ghosts[i].n_addrs &&
		     (!p->round_complete || p->ghosts[i].confirmed);
	return n;
}

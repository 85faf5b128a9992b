/* SPDX-License-Identifier: MIT */
/*
 * DuraVIPs: addresses that move between nodes.
 *
 * Services come from `Binding "name" { Bind_Address ... }` (at top level or in
 * a Binding_Group) and from `Listen "addr:port" { }` in any *_Listener scope.
 * Every service is collected first, then grouped by address: an address that
 * is a DuraVIP on one service is one on every service that uses it. A Listen
 * with Duravip_Follow makes its own address a DuraVIP that goes wherever the
 * followed binding goes; it inherits that binding's preference.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "schema-internal.h"

enum svc_kind { SVC_BINDING, SVC_LISTEN };

struct svc {
	enum svc_kind kind;
	size_t order;                      /* reading order */
	const struct vip_conf_node *scope; /* the Binding or Listen */
	char *label;                       /* "binding:NAME", "ESMTP_Listener:ADDR:PORT" */
	struct vip_addr addr;
	bool has_addr;
	bool enable;      /* Enable_Duravip true */
	bool bad;         /* already reported: skip further checks */
	const char *pref; /* Duravip_Preference */
	const struct vip_conf_node *pref_opt;
	const struct vip_conf_node *follow_opt; /* Listen only */
	const struct svc *target;               /* resolved Duravip_Follow */
	size_t group;
};

struct group {
	size_t first, n; /* range in the address-sorted array */
	bool vip;        /* some service enables it */
	bool follows;    /* a following Listen makes it one */
	const struct svc *pref_svc;
	const struct svc *follower; /* first following Listen */
};

struct collect {
	struct svc *v;
	size_t n, cap;
};

#define BOOL_WORDS "true/false, on/off, yes/no, enabled/disabled, 1/0"

static struct svc *svc_new(struct schema *s, struct collect *c, enum svc_kind kind,
			   const struct vip_conf_node *scope)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct svc *v = realloc(c->v, cap * sizeof(*v));
		if (!v) {
			schema_oom(s, -ENOMEM);
			return NULL;
		}
		c->v = v;
		c->cap = cap;
	}
	struct svc *x = &c->v[c->n];
	*x = (struct svc){ .kind = kind, .order = c->n, .scope = scope };
	c->n++;
	return x;
}

static bool addr_is_unspecified(const struct vip_addr *a)
{
	for (size_t i = 0; i < vip_addr_len(a); i++)
		if (a->bytes[i])
			return false;
	return true;
}

/* Enable_Duravip and Duravip_Preference, common to both kinds. */
static void svc_common(struct schema *s, struct svc *x)
{
	const struct vip_conf_node *en = vip_conf_find_option(x->scope, "enable_duravip");
	const struct vip_conf_node *pr = vip_conf_find_option(x->scope, "duravip_preference");
	const char *t;

	if (en && (t = schema_scalar(s, en)) && schema_parse_bool(t, &x->enable) < 0) {
		schema_error(s, &en->value->loc, "%s = '%s' is not a boolean (" BOOL_WORDS ")", en->name, t);
		x->bad = true;
	}
	if (!pr || !(t = schema_scalar(s, pr)))
		return;
	if (!*t || schema_looks_bool(t)) {
		schema_error(s, &pr->value->loc, "%s = '%s' must name a node, not a boolean", pr->name, t);
		return;
	}
	x->pref = t;
	x->pref_opt = pr;
}

static void add_binding(struct schema *s, struct collect *c, const struct vip_conf_node *b)
{
	const struct vip_conf_node *fo = vip_conf_find_option(b, "duravip_follow");
	const struct vip_conf_node *ao = vip_conf_find_option(b, "bind_address");
	const char *t = NULL;

	if (!b->instance)
		return (void)schema_error(s, &b->loc, "Binding needs a name: Binding \"name\" { ... }");
	struct svc *x = svc_new(s, c, SVC_BINDING, b);
	if (!x)
		return;
	if (asprintf(&x->label, "binding:%s", b->instance) < 0) {
		x->label = NULL;
		return (void)schema_oom(s, -ENOMEM);
	}
	svc_common(s, x);
	if (fo)
		schema_error(s, &fo->loc, "Duravip_Follow is only valid in a Listen, not in Binding \"%s\"",
			     b->instance);
	if (ao && !(t = schema_scalar(s, ao)))
		return;
	if (ao && vip_addr_from_string(t, &x->addr) == 0)
		x->has_addr = true;
	if (!x->enable || x->bad)
		return;
	if (!ao)
		schema_error(s, &b->loc, "Binding \"%s\" enables Duravip but has no Bind_Address",
			     b->instance);
	else if (!x->has_addr)
		schema_error(s, &ao->value->loc, "Bind_Address '%s' is not an IPv4 or IPv6 address", t);
	else if (addr_is_unspecified(&x->addr))
		schema_error(s, &ao->value->loc, "Bind_Address %s: a wildcard address cannot be a DuraVIP",
			     t);
	else
		return;
	x->bad = true;
	x->has_addr = false;
}

/* "198.51.100.1:25", "[2001:db8::1]:25"; 1 for a wildcard host, 0, or -EINVAL. */
int schema_parse_addr_port(const char *text, struct vip_addr *ret_addr, uint32_t *ret_port)
{
	char host[VIP_ADDR_STRLEN + 2];
	const char *port;
	size_t len;

	if (text[0] == '[') {
		const char *end = strchr(text, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		len = (size_t)(end - text - 1);
		memcpy(host, text + 1, len < sizeof(host) ? len : 0);
		port = end + 2;
	} else {
		const char *colon = strrchr(text, ':');
		if (!colon || memchr(text, ':', (size_t)(colon - text)))
			return -EINVAL; /* IPv6 needs brackets */
		len = (size_t)(colon - text);
		memcpy(host, text, len < sizeof(host) ? len : 0);
		port = colon + 1;
	}
	if (len >= sizeof(host) || schema_parse_uint(port, 1, 65535, ret_port) < 0)
		return -EINVAL;
	host[len] = '\0';
	if (len == 0 || strcmp(host, "*") == 0)
		return 1;
	if (vip_addr_from_string(host, ret_addr) < 0)
		return -EINVAL;
	return addr_is_unspecified(ret_addr) ? 1 : 0;
}

static void add_listen(struct schema *s, struct collect *c, const struct vip_conf_node *listener,
		       const struct vip_conf_node *l)
{
	char buf[VIP_ADDR_STRLEN];
	uint32_t port = 0;

	struct svc *x = svc_new(s, c, SVC_LISTEN, l);
	if (!x)
		return;
	svc_common(s, x);
	x->follow_opt = vip_conf_find_option(l, "duravip_follow");
	if (x->follow_opt && !schema_scalar(s, x->follow_opt))
		x->bad = true;
	if (x->follow_opt && x->enable) {
		schema_error(s, &x->follow_opt->loc,
			     "Enable_Duravip and Duravip_Follow exclude each other in one Listen");
		x->bad = true;
	}
	int r = l->instance ? schema_parse_addr_port(l->instance, &x->addr, &port) : -EINVAL;
	bool wanted = x->enable || x->follow_opt;
	if (r == 0) {
		x->has_addr = true;
	} else if (wanted && r > 0) {
		schema_error(s, &l->loc, "Listen \"%s\": a wildcard address cannot be a DuraVIP",
			     l->instance);
		x->bad = true;
	} else if (wanted) {
		schema_error(s, &l->loc, "Listen \"%s\" is not addr:port (IPv6: \"[addr]:port\")",
			     l->instance ? l->instance : "");
		x->bad = true;
	}
	if (!x->has_addr)
		return;
	vip_addr_to_string(&x->addr, buf, sizeof(buf));
	bool v6 = x->addr.family == AF_INET6;
	if (asprintf(&x->label, "%s:%s%s%s:%u", listener->name, v6 ? "[" : "", buf, v6 ? "]" : "", port) <
	    0) {
		x->label = NULL;
		schema_oom(s, -ENOMEM);
	}
}

static void collect_services(struct schema *s, const struct vip_conf_node *root, struct collect *c)
{
	for (size_t i = 0; i < root->n_children && !s->fatal; i++) {
		const struct vip_conf_node *n = root->children[i];
		if (n->type != VIP_CONF_SCOPE)
			continue;
		if (strcasecmp(n->name, "binding") == 0) {
			add_binding(s, c, n);
			continue;
		}
		bool group = strcasecmp(n->name, "binding_group") == 0;
		bool listener = !group && schema_has_suffix(n->name, "_listener");
		for (size_t j = 0; (group || listener) && j < n->n_children && !s->fatal; j++) {
			const struct vip_conf_node *k = n->children[j];
			if (k->type != VIP_CONF_SCOPE)
				continue;
			if (group && strcasecmp(k->name, "binding") == 0)
				add_binding(s, c, k);
			else if (listener && strcasecmp(k->name, "listen") == 0)
				add_listen(s, c, n, k);
		}
	}
}

static int cmp_by_name(const void *a, const void *b)
{
	const struct svc *x = *(const struct svc *const *)a, *y = *(const struct svc *const *)b;
	int r = strcmp(x->scope->instance, y->scope->instance);
	return r ? r : (x->order > y->order) - (x->order < y->order);
}

static int cmp_by_addr(const void *a, const void *b)
{
	const struct svc *x = *(const struct svc *const *)a, *y = *(const struct svc *const *)b;
	int r = vip_addr_cmp(&x->addr, &y->addr);
	return r ? r : (x->order > y->order) - (x->order < y->order);
}

static void loc_text(const struct vip_conf_loc *loc, char *buf, size_t len)
{
	struct vip_conf_src src = { .file = loc->file, .line = loc->line };
	vip_conf_src_format(&src, buf, len);
}

/* The binding with this name (bindings sorted by name), or NULL. */
static const struct svc *binding_by_name(struct svc *const *byname, size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(name, byname[mid]->scope->instance);
		if (r == 0) {
			while (mid > 0 && strcmp(name, byname[mid - 1]->scope->instance) == 0)
				mid--;
			return byname[mid];
		}
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Names are unique; returns the by-name index (caller frees) or NULL on ENOMEM. */
static struct svc **index_bindings(struct schema *s, struct collect *c, size_t *ret_n)
{
	struct svc **v = malloc((c->n + 1) * sizeof(*v));
	size_t n = 0;
	char where[256];

	if (!v) {
		schema_oom(s, -ENOMEM);
		return NULL;
	}
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].kind == SVC_BINDING)
			v[n++] = &c->v[i];
	qsort(v, n, sizeof(*v), cmp_by_name);
	for (size_t i = 1; i < n; i++)
		if (strcmp(v[i]->scope->instance, v[i - 1]->scope->instance) == 0) {
			loc_text(&v[i - 1]->scope->loc, where, sizeof(where));
			schema_error(s, &v[i]->scope->loc, "Binding \"%s\" is declared twice (first at %s)",
				     v[i]->scope->instance, where);
			v[i]->bad = true;
		}
	*ret_n = n;
	return v;
}

struct build {
	struct svc **byaddr; /* services with an address, by address then reading order */
	size_t n;
	struct group *groups;
	size_t n_groups;
	struct svc **byname; /* bindings by name */
	size_t n_names;
};

static int make_groups(struct schema *s, struct collect *c, struct build *b)
{
	b->byaddr = malloc((c->n + 1) * sizeof(*b->byaddr));
	b->groups = calloc(c->n + 1, sizeof(*b->groups));
	if (!b->byaddr || !b->groups)
		return schema_oom(s, -ENOMEM);
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].has_addr)
			b->byaddr[b->n++] = &c->v[i];
	qsort(b->byaddr, b->n, sizeof(*b->byaddr), cmp_by_addr);
	for (size_t i = 0; i < b->n; i++) {
		struct svc *x = b->byaddr[i];
		if (i == 0 || !vip_addr_equal(&x->addr, &b->byaddr[i - 1]->addr))
			b->groups[b->n_groups++] = (struct group){ .first = i };
		struct group *g = &b->groups[b->n_groups - 1];
		g->n++;
		x->group = b->n_groups - 1;
		if (x->enable && !x->bad)
			g->vip = true;
	}
	return 0;
}

/* Momentum marks a DuraVIP that two bindings share BROKEN; we refuse it. */
static void check_broken(struct schema *s, const struct build *b)
{
	char addr[VIP_ADDR_STRLEN], where[256];

	for (size_t gi = 0; gi < b->n_groups; gi++) {
		const struct group *g = &b->groups[gi];
		const struct svc *first = NULL;
		for (size_t i = g->first; g->vip && i < g->first + g->n; i++) {
			const struct svc *x = b->byaddr[i];
			if (x->kind != SVC_BINDING || x->bad)
				continue;
			if (!first) {
				first = x;
				continue;
			}
			const struct vip_conf_node *ao = vip_conf_find_option(x->scope, "bind_address");
			loc_text(&first->scope->loc, where, sizeof(where));
			schema_error(s, &ao->value->loc,
				     "DuraVIP %s is the Bind_Address of both Binding \"%s\" (%s) and "
				     "Binding \"%s\": Momentum calls this BROKEN",
				     vip_addr_to_string(&x->addr, addr, sizeof(addr)), first->scope->instance,
				     where, x->scope->instance);
		}
	}
}

/* The first Binding at this address, or NULL. */
static const struct svc *binding_by_addr(const struct build *b, const struct vip_addr *a)
{
	for (size_t gi = 0; gi < b->n_groups; gi++) {
		const struct group *g = &b->groups[gi];
		if (!vip_addr_equal(&b->byaddr[g->first]->addr, a))
			continue;
		for (size_t i = g->first; i < g->first + g->n; i++)
			if (b->byaddr[i]->kind == SVC_BINDING)
				return b->byaddr[i];
		return NULL;
	}
	return NULL;
}

static const struct svc *follow_target(struct schema *s, const struct build *b, const struct svc *x)
{
	const struct vip_conf_node *fo = x->follow_opt;
	const char *t = fo->value->str;
	struct vip_addr a;

	const struct svc *tg = binding_by_name(b->byname, b->n_names, t);
	if (!tg && vip_addr_from_string(t, &a) == 0)
		tg = binding_by_addr(b, &a);
	if (!tg) {
		schema_error(s, &fo->value->loc, "%s = '%s' names no Binding (by name or by Bind_Address)",
			     fo->name, t);
		return NULL;
	}
	if (tg->bad || !tg->has_addr || !b->groups[tg->group].vip) {
		schema_error(s, &fo->value->loc,
			     "%s = '%s': Binding \"%s\" is not a DuraVIP (it needs Enable_Duravip = true)",
			     fo->name, t, tg->scope->instance);
		return NULL;
	}
	return tg;
}

static void resolve_follow(struct schema *s, struct build *b, struct svc *x)
{
	const struct vip_conf_loc *loc = &x->follow_opt->loc;
	const struct svc *tg = follow_target(s, b, x);

	if (!tg)
		return;
	x->target = tg;
	if (x->pref_opt)
		schema_warning(s, &x->pref_opt->loc,
			       "Duravip_Preference is ignored in a following Listen: it goes where "
			       "Binding \"%s\" goes",
			       tg->scope->instance);
	if (!x->has_addr || x->group == tg->group)
		return; /* on the binding's own address: simply one more service of it */
	struct group *g = &b->groups[x->group];
	if (g->vip) {
		schema_error(s, loc,
			     "Listen \"%s\" follows Binding \"%s\" but its address is a DuraVIP of its own",
			     x->scope->instance, tg->scope->instance);
		return;
	}
	if (g->follower && g->follower->target->group != tg->group) {
		schema_error(s, loc,
			     "Listen \"%s\" follows Binding \"%s\", but Listen \"%s\" on the same "
			     "address follows Binding \"%s\"",
			     x->scope->instance, tg->scope->instance, g->follower->scope->instance,
			     g->follower->target->scope->instance);
		return;
	}
	if (!g->follower)
		g->follower = x;
	g->follows = true;
}

static void group_preference(struct schema *s, const struct build *b, struct group *g)
{
	char addr[VIP_ADDR_STRLEN], where[256];

	for (size_t i = g->first; i < g->first + g->n; i++) {
		const struct svc *x = b->byaddr[i];
		if (!x->pref || x->follow_opt)
			continue;
		if (!g->pref_svc) {
			g->pref_svc = x;
		} else if (strcmp(g->pref_svc->pref, x->pref) != 0) {
			loc_text(&g->pref_svc->pref_opt->loc, where, sizeof(where));
			schema_error(s, &x->pref_opt->value->loc,
				     "DuraVIP %s has two preferences: '%s' (%s) and '%s'",
				     vip_addr_to_string(&x->addr, addr, sizeof(addr)), g->pref_svc->pref,
				     where, x->pref);
		}
	}
}

static const struct vipd_topology *topology_for(const struct vipd_cluster *cl, const struct vip_addr *a)
{
	const struct vipd_topology *best = NULL;

	for (size_t i = 0; i < cl->n_topology; i++) {
		const struct vipd_topology *t = &cl->topology[i];
		if (vip_addr_in_prefix(a, &t->network, t->network_len) &&
		    (!best || t->network_len > best->network_len))
			best = t;
	}
	return best;
}

static int cmp_label(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int fill_services(const struct build *b, const struct group *g, struct vipd_duravip *d)
{
	d->services = calloc(g->n, sizeof(*d->services));
	if (!d->services)
		return -ENOMEM;
	for (size_t i = g->first; i < g->first + g->n; i++)
		if (b->byaddr[i]->label && !(d->services[d->n_services++] = strdup(b->byaddr[i]->label)))
			return -ENOMEM;
	qsort(d->services, d->n_services, sizeof(*d->services), cmp_label);
	size_t n = 0;
	for (size_t i = 0; i < d->n_services; i++) {
		if (n > 0 && strcmp(d->services[n - 1], d->services[i]) == 0)
			free(d->services[i]);
		else
			d->services[n++] = d->services[i];
	}
	d->n_services = n;
	return 0;
}

static char *dup_or_null(const char *t, int *r)
{
	char *c = t ? strdup(t) : NULL;
	if (t && !c)
		*r = -ENOMEM;
	return c;
}

static int fill_duravip(struct schema *s, const struct build *b, const struct group *g,
			struct vipd_duravip *d)
{
	const struct svc *origin = g->vip ? NULL : g->follower, *binding = NULL;
	const struct group *pref_group = g->vip ? g : &b->groups[g->follower->target->group];
	int r = 0;

	/* the binding and the first enabling service, in reading order */
	for (size_t i = g->first; i < g->first + g->n; i++) {
		const struct svc *x = b->byaddr[i];
		if (!binding && x->kind == SVC_BINDING)
			binding = x;
		if (!origin && x->enable && !x->bad)
			origin = x;
	}
	d->addr = b->byaddr[g->first]->addr;
	const struct vipd_topology *t = topology_for(&s->cfg->cluster, &d->addr);
	d->prefix = (uint8_t)(t ? t->cidrmask : vip_addr_len(&d->addr) * 8);
	if (t && (size_t)(t - s->cfg->cluster.topology) >= UINT16_MAX)
		schema_error(s, &origin->scope->loc, "more than %u Topology rules", UINT16_MAX - 1);
	else if (t)
		d->topology = (uint16_t)(t - s->cfg->cluster.topology + 1);
	d->binding = dup_or_null(binding ? binding->scope->instance : NULL, &r);
	d->preference = dup_or_null(pref_group->pref_svc ? pref_group->pref_svc->pref : NULL, &r);
	d->follow = dup_or_null(g->vip ? NULL : g->follower->follow_opt->value->str, &r);
	d->src_line = origin->scope->loc.line;
	if (r < 0 || fill_services(b, g, d) < 0 ||
	    schema_duravip_file(s->cfg, origin->scope->loc.file, &d->src_file) < 0)
		return -ENOMEM;
	return 0;
}

static void emit(struct schema *s, struct build *b)
{
	struct vipd_config *cfg = s->cfg;
	size_t n = 0;

	for (size_t gi = 0; gi < b->n_groups; gi++)
		n += b->groups[gi].vip || b->groups[gi].follows;
	cfg->duravips = calloc(n + 1, sizeof(*cfg->duravips));
	if (!cfg->duravips)
		return (void)schema_oom(s, -ENOMEM);
	for (size_t gi = 0; gi < b->n_groups; gi++) {
		const struct group *g = &b->groups[gi];
		char addr[VIP_ADDR_STRLEN];
		if (!g->vip && !g->follows)
			continue;
		if (g->n > VIP_DURAVIP_MAX_SERVICES) {
			const struct svc *x = b->byaddr[g->first];
			schema_error(s, &x->scope->loc, "DuraVIP %s has %zu services, more than %u",
				     vip_addr_to_string(&x->addr, addr, sizeof(addr)), g->n,
				     VIP_DURAVIP_MAX_SERVICES);
			continue;
		}
		/* counted first so vip_config_free releases a half-filled entry */
		struct vipd_duravip *d = &cfg->duravips[cfg->n_duravips++];
		if (fill_duravip(s, b, g, d) < 0)
			return (void)schema_oom(s, -ENOMEM);
	}
}

void schema_duravips(struct schema *s, const struct vip_conf_node *root)
{
	struct collect c = { 0 };
	struct build b = { 0 };

	collect_services(s, root, &c);
	if (s->fatal)
		goto free_build;
	b.byname = index_bindings(s, &c, &b.n_names);
	if (!b.byname || make_groups(s, &c, &b) < 0)
		goto free_build;
	check_broken(s, &b);
	for (size_t i = 0; i < c.n; i++)
		if (c.v[i].follow_opt && !c.v[i].bad)
			resolve_follow(s, &b, &c.v[i]);
	for (size_t gi = 0; gi < b.n_groups; gi++)
		if (b.groups[gi].vip)
			group_preference(s, &b, &b.groups[gi]);
	emit(s, &b);
free_build:
	for (size_t i = 0; i < c.n; i++)
		free(c.v[i].label);
	free(c.v);
	free(b.byaddr);
	free(b.groups);
	free(b.byname);
}

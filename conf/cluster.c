/* SPDX-License-Identifier: MIT */
/*
 * The cluster scope: this node's name, the CPG group, timing, ARP behaviour
 * and the Topology blocks that say which NIC and prefix a DuraVIP gets.
 * No cluster scope: a single node that owns every DuraVIP.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "schema-internal.h"

#define MAX_NODENAME 255
#define MAX_GROUP 127 /* corosync CPG group names hold 128 bytes with the NUL */
#define MAX_IFNAME 15
#define MAX_PATH 4095

enum opt_kind {
	KIND_SECONDS, /* stored as milliseconds */
	KIND_UINT,
	KIND_BOOL,
	KIND_QUORUM,
	KIND_ARP_MODE,
	KIND_GUARD,
};

struct cluster_opt {
	const char *name;
	enum opt_kind kind;
	size_t off;        /* of the value in struct vipd_cluster */
	size_t src_off;    /* of its struct vip_conf_src */
	uint32_t min, max; /* milliseconds for KIND_SECONDS */
	bool zero_ok;      /* 0 (off) accepted below min */
};

#define OPT(n, k, field, src, lo, hi, z)                                                          \
	{                                                                                         \
		.name = n, .kind = k, .off = offsetof(struct vipd_cluster, field),                \
		.src_off = offsetof(struct vipd_cluster, src), .min = lo, .max = hi, .zero_ok = z \
	}

static const struct cluster_opt cluster_opts[] = {
	OPT("view_mature_time", KIND_SECONDS, view_mature_time_ms, src_view_mature_time, 0, 3600000, false),
	OPT("view_balance_interval", KIND_SECONDS, view_balance_interval_ms, src_view_balance_interval, 100,
	    3600000, false),
	OPT("duravip_balance_set_size", KIND_UINT, duravip_balance_set_size, src_duravip_balance_set_size, 1,
	    65535, false),
	OPT("if_check_interval", KIND_SECONDS, if_check_interval_ms, src_if_check_interval, 100, 3600000,
	    false),
	OPT("if_down_limit", KIND_UINT, if_down_limit, src_if_down_limit, 1, 1000, false),
	OPT("arp_all_hosts", KIND_BOOL, arp_all_hosts, src_arp_all_hosts, 0, 0, false),
	OPT("arp_cache_size", KIND_UINT, arp_cache_size, src_arp_cache_size, 1, 65536, false),
	OPT("arp_cache_max_age", KIND_SECONDS, arp_cache_max_age_ms, src_arp_cache_max_age, 60000, 86400000,
	    false),
	OPT("standby", KIND_BOOL, standby, src_standby, 0, 0, false),
	OPT("duravip_quorum_policy", KIND_QUORUM, quorum_policy, src_quorum_policy, 0, 0, false),
	OPT("arp_mode", KIND_ARP_MODE, arp_mode, src_arp_mode, 0, 0, false),
	OPT("arp_repeat", KIND_UINT, arp_repeat, src_arp_repeat, 1, 100, false),
	OPT("arp_repeat_interval", KIND_SECONDS, arp_repeat_interval_ms, src_arp_repeat_interval, 1000,
	    3600000, false),
	OPT("arp_refresh_interval", KIND_SECONDS, arp_refresh_interval_ms, src_arp_refresh_interval, 1000,
	    86400000, true),
	OPT("arp_pace", KIND_UINT, arp_pace, src_arp_pace, 0, 1000000, false),
	OPT("duravip_takeover_delay", KIND_SECONDS, duravip_takeover_delay_ms, src_duravip_takeover_delay, 1,
	    60000, true),
	OPT("duravip_takeover_guard", KIND_GUARD, takeover_guard, src_takeover_guard, 0, 0, false),
	OPT("corosync_token", KIND_SECONDS, corosync_token_ms, src_corosync_token, 10, 600000, false),
	OPT("duravip_round_timeout", KIND_SECONDS, duravip_round_timeout_ms, src_duravip_round_timeout, 50,
	    600000, false),
	OPT("duravip_liveness_timeout", KIND_SECONDS, duravip_liveness_timeout_ms,
	    src_duravip_liveness_timeout, 50, 600000, false),
};

static void cluster_defaults(struct vipd_cluster *cl)
{
	cl->view_mature_time_ms = 5000;
	cl->view_balance_interval_ms = 10000;
	cl->duravip_balance_set_size = 1;
	cl->if_check_interval_ms = 30000;
	cl->if_down_limit = 4;
	cl->arp_all_hosts = true;
	cl->arp_cache_size = 4096;
	cl->arp_cache_max_age_ms = 600000;
	cl->quorum_policy = VIP_QUORUM_RELEASE;
	cl->arp_mode = VIP_ARP_REQUEST;
	cl->arp_repeat = 5;
	cl->arp_repeat_interval_ms = 1100;
	cl->arp_refresh_interval_ms = 0;
	cl->arp_pace = 0;
	cl->corosync_token_ms = VIP_CONF_AUTO;
	cl->duravip_round_timeout_ms = VIP_CONF_AUTO;
	cl->duravip_liveness_timeout_ms = VIP_CONF_AUTO;
	cl->duravip_takeover_delay_ms = VIP_CONF_AUTO;
	cl->takeover_guard = VIP_TAKEOVER_DELAY;
}

/* v within [lo, hi]: a derived value never leaves the range the option accepts when set. */
static uint32_t clamp(uint64_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : v > hi ? hi : (uint32_t)v;
}

/* One derived option: its value and an origin text that says how it was derived. */
static int derive(uint32_t *field, struct vip_conf_src *src, uint32_t value, const char *how)
{
	if (*field != VIP_CONF_AUTO)
		return 0;
	*field = value;
	return schema_src_from_text(src, how);
}

int vip_config_resolve_timing(struct vipd_config *c, uint32_t corosync_token_ms)
{
	struct vipd_cluster *cl = &c->cluster;
	uint32_t t;
	int r;

	if (cl->corosync_token_ms == VIP_CONF_AUTO) {
		t = corosync_token_ms ? clamp(corosync_token_ms, 10, 600000)
				      : VIP_CONF_COROSYNC_TOKEN_DEFAULT_MS;
		r = derive(&cl->corosync_token_ms, &cl->src_corosync_token, t,
			   corosync_token_ms ? "auto: corosync.conf" : "auto: corosync's default");
		if (r < 0)
			return r;
	}
	t = cl->corosync_token_ms;
	r = derive(&cl->duravip_round_timeout_ms, &cl->src_duravip_round_timeout,
		   clamp(2ull * t, 200, 600000), "auto: 2 x corosync_token");
	if (r == 0)
		r = derive(&cl->duravip_liveness_timeout_ms, &cl->src_duravip_liveness_timeout,
			   clamp(t, 100, 600000), "auto: corosync_token");
	if (r == 0 && !cl->enabled) /* alone: nobody else can hold an address */
		r = derive(&cl->duravip_takeover_delay_ms, &cl->src_duravip_takeover_delay, 0,
			   "auto: no cluster scope");
	if (r == 0)
		r = derive(&cl->duravip_takeover_delay_ms, &cl->src_duravip_takeover_delay,
			   clamp(2ull * t, 0, 60000), "auto: 2 x corosync_token");
	return r;
}

static int parse_numeric(struct schema *s, const struct cluster_opt *o, const struct vip_conf_node *n,
			 const char *text, uint32_t *ret)
{
	const struct vip_conf_loc *loc = &n->value->loc;
	char lo[16], hi[16];
	int r;

	if (o->kind == KIND_SECONDS) {
		r = schema_parse_seconds(text, UINT32_MAX, ret);
		if (r == -EINVAL)
			return schema_error(s, loc, "%s = '%s' is not a number of seconds", n->name, text);
		if (r == 0 && (*ret <= o->max && (*ret >= o->min || (o->zero_ok && *ret == 0))))
			return 0;
		return schema_error(s, loc, "%s = %s is out of range: %s%s to %s seconds", n->name, text,
				    o->zero_ok ? "0 (off) or " : "", schema_ms_text(o->min, lo, sizeof(lo)),
				    schema_ms_text(o->max, hi, sizeof(hi)));
	}
	r = schema_parse_uint(text, o->min, o->max, ret);
	if (r == -EINVAL)
		return schema_error(s, loc, "%s = '%s' is not a whole number", n->name, text);
	if (r < 0)
		return schema_error(s, loc, "%s = %s is out of range: %u to %u", n->name, text, o->min,
				    o->max);
	return 0;
}

static void cluster_option(struct schema *s, const struct cluster_opt *o, const struct vip_conf_node *n)
{
	char *base = (char *)&s->cfg->cluster;
	const struct vip_conf_loc *loc = &n->value->loc;
	const char *text = schema_scalar(s, n);
	uint32_t u;
	bool b;
	int e;

	if (!text)
		return;
	switch (o->kind) {
	case KIND_SECONDS:
	case KIND_UINT:
		if (parse_numeric(s, o, n, text, &u) < 0)
			return;
		*(uint32_t *)(void *)(base + o->off) = u;
		break;
	case KIND_BOOL:
		if (schema_parse_bool(text, &b) < 0)
			return (void)schema_error(s, loc,
						  "%s = '%s' is not a boolean (true/false, on/off, "
						  "yes/no, enabled/disabled, 1/0)",
						  n->name, text);
		*(bool *)(void *)(base + o->off) = b;
		break;
	case KIND_QUORUM:
		e = vip_quorum_policy_from_string(text);
		if (e < 0)
			return (void)schema_error(s, loc, "%s = '%s' must be release or keep", n->name, text);
		*(enum vip_quorum_policy *)(void *)(base + o->off) = (enum vip_quorum_policy)e;
		break;
	case KIND_ARP_MODE:
		e = vip_arp_mode_from_string(text);
		if (e < 0)
			return (void)schema_error(s, loc, "%s = '%s' must be request, reply or both", n->name,
						  text);
		*(enum vip_arp_mode *)(void *)(base + o->off) = (enum vip_arp_mode)e;
		break;
	case KIND_GUARD:
		e = vip_takeover_guard_from_string(text);
		if (e < 0)
			return (void)schema_error(s, loc, "%s = '%s' must be delay or probe", n->name, text);
		*(enum vip_takeover_guard *)(void *)(base + o->off) = (enum vip_takeover_guard)e;
		break;
	}
	if (schema_src_from_loc((struct vip_conf_src *)(void *)(base + o->src_off), &n->loc) < 0)
		schema_oom(s, -ENOMEM);
}

/* A name option (nodename, cluster_group): non-empty, bounded; stored with its source. */
static void cluster_name(struct schema *s, const struct vip_conf_node *n, size_t max, char **ret,
			 struct vip_conf_src *src)
{
	const char *text = schema_scalar(s, n);

	if (!text)
		return;
	if (!*text)
		return (void)schema_error(s, &n->value->loc, "%s must not be empty", n->name);
	if (strlen(text) > max)
		return (void)schema_error(s, &n->value->loc, "%s '%s' is longer than %zu bytes", n->name,
					  text, max);
	char *copy = strdup(text);
	if (!copy || schema_src_from_loc(src, &n->loc) < 0) {
		free(copy);
		return (void)schema_oom(s, -ENOMEM);
	}
	free(*ret);
	*ret = copy;
}

/*
 * authkey = PATH: the cluster key file, absolute (it is read by the root
 * monitor and the engine before the privilege drop, whatever the chroot).
 * The file itself (root-owned, 0600) is checked by vipd --check and read
 * at start-up (cluster/auth.c): conf/ only holds the path.
 */
static void cluster_authkey(struct schema *s, const struct vip_conf_node *n)
{
	const char *text = schema_scalar(s, n);

	if (text && text[0] && text[0] != '/')
		return (void)schema_error(s, &n->value->loc, "authkey '%s' must be an absolute path", text);
	cluster_name(s, n, MAX_PATH, &s->cfg->cluster.authkey, &s->cfg->cluster.src_authkey);
}

static void topology_add(struct schema *s, const struct vip_conf_node *sc);

static void cluster_scope(struct schema *s, const struct vip_conf_node *sc)
{
	struct vipd_cluster *cl = &s->cfg->cluster;

	for (size_t i = 0; i < sc->n_children && !s->fatal; i++) {
		const struct vip_conf_node *n = sc->children[i];
		if (n->type == VIP_CONF_SCOPE) {
			if (strcasecmp(n->name, "topology") == 0)
				topology_add(s, n);
			continue;
		}
		if (strcasecmp(n->name, "nodename") == 0) {
			cluster_name(s, n, MAX_NODENAME, &cl->nodename, &cl->src_nodename);
			continue;
		}
		if (strcasecmp(n->name, "cluster_group") == 0) {
			cluster_name(s, n, MAX_GROUP, &cl->cluster_group, &cl->src_cluster_group);
			continue;
		}
		if (strcasecmp(n->name, "authkey") == 0) {
			cluster_authkey(s, n);
			continue;
		}
		for (size_t k = 0; k < ARRAY_SIZE(cluster_opts); k++)
			if (strcasecmp(n->name, cluster_opts[k].name) == 0)
				cluster_option(s, &cluster_opts[k], n);
	}
}

/* Override by --nodename, then the file, then EC_NODE_NAME, then the host name. */
static void cluster_nodename(struct schema *s)
{
	struct vipd_cluster *cl = &s->cfg->cluster;
	const struct vip_config_opts *o = s->opts;
	char host[256] = "";
	const char *name, *origin;

	if (o->nodename && *o->nodename) {
		name = o->nodename;
		origin = "--nodename";
	} else if (cl->nodename) {
		return;
	} else if (o->env_node_name && *o->env_node_name) {
		name = o->env_node_name;
		origin = "EC_NODE_NAME";
	} else {
		if (o->hostname)
			snprintf(host, sizeof(host), "%s", o->hostname);
		else if (gethostname(host, sizeof(host) - 1) < 0)
			host[0] = '\0';
		host[strcspn(host, ".")] = '\0';
		name = host;
		origin = "hostname";
	}
	if (!*name || strlen(name) > MAX_NODENAME) {
		struct vip_conf_loc top = { .file = s->cfg->path };
		schema_error(s, &top, "cannot use '%s' from %s as the node name: set cluster { nodename }",
			     name, origin);
		return;
	}
	char *copy = strdup(name);
	if (!copy || schema_src_from_text(&cl->src_nodename, origin) < 0) {
		free(copy);
		return (void)schema_oom(s, -ENOMEM);
	}
	free(cl->nodename);
	cl->nodename = copy;
}

void schema_cluster(struct schema *s, const struct vip_conf_node *root)
{
	struct vipd_cluster *cl = &s->cfg->cluster;

	cluster_defaults(cl);
	for (size_t i = 0; i < root->n_children && !s->fatal; i++) {
		const struct vip_conf_node *n = root->children[i];
		if (n->type == VIP_CONF_SCOPE && strcasecmp(n->name, "cluster") == 0) {
			cl->enabled = true;
			cluster_scope(s, n);
		}
	}
	if (s->fatal)
		return;
	if (!cl->cluster_group && !(cl->cluster_group = strdup("ec_cluster")))
		return (void)schema_oom(s, -ENOMEM);
	cluster_nodename(s);
}

static bool ifname_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > MAX_IFNAME || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == ':' || *p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

/* Zero the host bits so the network prints as a network. */
static void mask_network(struct vip_addr *a, unsigned len)
{
	size_t total = vip_addr_len(a);

	for (size_t i = 0; i < total; i++) {
		unsigned keep = len >= 8 * (i + 1) ? 8 : len > 8 * i ? len - 8 * (unsigned)i : 0;
		a->bytes[i] &= (uint8_t)(0xff00u >> keep);
	}
}

/* interface and cidrmask of one Topology; 0 or -EINVAL after reporting. */
static int topology_options(struct schema *s, const struct vip_conf_node *sc, struct vipd_topology *t)
{
	unsigned max = t->network.family == AF_INET6 ? 128 : 32;
	const struct vip_conf_node *ifo = vip_conf_find_option(sc, "interface");
	const struct vip_conf_node *mo = vip_conf_find_option(sc, "cidrmask");
	const char *text;
	uint32_t mask = max;

	if (!ifo)
		return schema_error(s, &sc->loc, "Topology %s has no interface", sc->instance);
	if (!(text = schema_scalar(s, ifo)))
		return -EINVAL;
	if (!ifname_valid(text))
		return schema_error(s, &ifo->value->loc, "interface '%s' is not a valid interface name",
				    text);
	if (mo) {
		const char *m = schema_scalar(s, mo);
		if (!m)
			return -EINVAL;
		int r = schema_parse_uint(m, 1, max, &mask);
		if (r == -EINVAL)
			return schema_error(s, &mo->value->loc, "cidrmask = '%s' is not a whole number", m);
		if (r < 0)
			return schema_error(s, &mo->value->loc,
					    "cidrmask = %s is out of range for IPv%d: 1 to %u", m,
					    max == 32 ? 4 : 6, max);
	}
	t->cidrmask = mask;
	t->interface = strdup(text);
	if (!t->interface)
		return schema_oom(s, -ENOMEM);
	return 0;
}

static void topology_add(struct schema *s, const struct vip_conf_node *sc)
{
	struct vipd_cluster *cl = &s->cfg->cluster;
	struct vipd_topology t = { 0 };

	if (!sc->instance)
		return (void)schema_error(s, &sc->loc,
					  "Topology needs a network: Topology \"198.51.100.0/24\" { ... }");
	if (vip_prefix_from_string(sc->instance, &t.network, &t.network_len) < 0)
		return (void)schema_error(s, &sc->loc,
					  "Topology '%s' is not a network such as 198.51.100.0/24",
					  sc->instance);
	mask_network(&t.network, t.network_len);
	for (size_t i = 0; i < cl->n_topology; i++) {
		const struct vipd_topology *o = &cl->topology[i];
		if (o->network_len == t.network_len && vip_addr_equal(&o->network, &t.network)) {
			char where[256];
			return (void)schema_error(s, &sc->loc, "Topology %s is declared twice (first at %s)",
						  sc->instance,
						  vip_conf_src_format(&o->src, where, sizeof(where)));
		}
	}
	if (topology_options(s, sc, &t) < 0)
		return;
	struct vipd_topology *v = realloc(cl->topology, (cl->n_topology + 1) * sizeof(*v));
	if (!v || schema_src_from_loc(&t.src, &sc->loc) < 0) {
		free(t.interface);
		if (v)
			cl->topology = v;
		return (void)schema_oom(s, -ENOMEM);
	}
	cl->topology = v;
	v[cl->n_topology++] = t;
}

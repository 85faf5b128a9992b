/* SPDX-License-Identifier: MIT */
/*
 * The schema: vip_config_load() turns a parsed tree into the immutable
 * struct vipd_config. Each part lives in its own file (security.c, cluster.c,
 * duravip.c); this one runs them in order, owns the result's lifetime and
 * answers lookups.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "schema-internal.h"

static const char *const quorum_policy_names[_VIP_QUORUM_POLICY_MAX] = {
	[VIP_QUORUM_RELEASE] = "release",
	[VIP_QUORUM_KEEP] = "keep",
};

const char *vip_quorum_policy_to_string(enum vip_quorum_policy p)
{
	return (unsigned)p < _VIP_QUORUM_POLICY_MAX ? quorum_policy_names[p] : NULL;
}

/* The index of s in names (any case), or -EINVAL. */
static int name_index(const char *const *names, int n, const char *s)
{
	for (int i = 0; s && i < n; i++)
		if (strcasecmp(s, names[i]) == 0)
			return i;
	return -EINVAL;
}

int vip_quorum_policy_from_string(const char *s)
{
	return name_index(quorum_policy_names, _VIP_QUORUM_POLICY_MAX, s);
}

static const char *const takeover_guard_names[_VIP_TAKEOVER_GUARD_MAX] = {
	[VIP_TAKEOVER_DELAY] = "delay",
	[VIP_TAKEOVER_PROBE] = "probe",
};

const char *vip_takeover_guard_to_string(enum vip_takeover_guard g)
{
	return (unsigned)g < _VIP_TAKEOVER_GUARD_MAX ? takeover_guard_names[g] : NULL;
}

int vip_takeover_guard_from_string(const char *s)
{
	return name_index(takeover_guard_names, _VIP_TAKEOVER_GUARD_MAX, s);
}

int vip_config_load(const char *path, const struct vip_config_opts *opts, struct vipd_config **ret,
		    struct vip_conf_diag *diag)
{
	struct vip_conf_tree *tree = NULL;
	int r = vip_conf_parse_file_root(path, opts ? opts->root : NULL, opts ? opts->limits : NULL, &tree,
					 diag);

	if (r < 0)
		return r;
	r = vip_config_from_tree(tree, opts, ret, diag);
	vip_conf_tree_free(tree);
	return r;
}

int vip_config_from_tree(const struct vip_conf_tree *tree, const struct vip_config_opts *opts,
			 struct vipd_config **ret, struct vip_conf_diag *diag)
{
	struct vip_config_opts env_opts = { 0 };
	const char *const *files = NULL;

	assert(tree && ret && diag);
	if (!opts) {
		env_opts.env_node_name = getenv("EC_NODE_NAME");
		opts = &env_opts;
	}
	struct vipd_config *cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return -ENOMEM;
	size_t n_files = vip_conf_tree_files(tree, &files);
	cfg->path = strdup(n_files > 0 ? files[0] : "");
	struct schema s = { .opts = opts, .diag = diag, .cfg = cfg };
	if (!cfg->path)
		s.fatal = -ENOMEM;

	const struct vip_conf_node *root = vip_conf_tree_root(tree);
	if (!s.fatal)
		schema_security(&s, root);
	if (!s.fatal)
		schema_control(&s, root);
	if (!s.fatal)
		schema_cluster(&s, root);
	if (!s.fatal)
		schema_duravips(&s, root);
	if (!s.fatal)
		schema_health(&s, root);
	if (!s.fatal)
		schema_security_check_duravips(&s);
	if (!s.fatal && s.n_errors == 0) {
		int r = vip_config_resolve_timing(cfg, opts->corosync_token_ms);
		if (r == 0)
			r = schema_duravips_pack(cfg);
		if (r < 0)
			s.fatal = r;
	}

	if (s.fatal || s.n_errors > 0) {
		vip_config_free(cfg);
		return s.fatal ? s.fatal : -EINVAL;
	}
	*ret = cfg;
	return 0;
}

static void security_free(struct vipd_security *sec)
{
	free(sec->user);
	free(sec->group);
	free(sec->capabilities);
	free(sec->privileges);
	free(sec->chroot);
	for (size_t i = 0; i < sec->n_supplemental; i++)
		free(sec->supplemental_groups[i]);
	free(sec->supplemental_groups);
	free(sec->supplemental_gids);
	schema_src_clear(&sec->src_user);
	schema_src_clear(&sec->src_group);
	schema_src_clear(&sec->src_capabilities);
	schema_src_clear(&sec->src_privileges);
	schema_src_clear(&sec->src_chroot);
	schema_src_clear(&sec->src_supplemental_groups);
}

static void cluster_free(struct vipd_cluster *cl)
{
	struct vip_conf_src *srcs[] = {
		&cl->src_nodename,
		&cl->src_cluster_group,
		&cl->src_view_mature_time,
		&cl->src_view_balance_interval,
		&cl->src_duravip_balance_set_size,
		&cl->src_if_check_interval,
		&cl->src_if_down_limit,
		&cl->src_arp_all_hosts,
		&cl->src_arp_cache_size,
		&cl->src_arp_cache_max_age,
		&cl->src_quorum_policy,
		&cl->src_arp_mode,
		&cl->src_arp_repeat,
		&cl->src_arp_repeat_interval,
		&cl->src_arp_refresh_interval,
		&cl->src_arp_pace,
		&cl->src_duravip_takeover_delay,
		&cl->src_corosync_token,
		&cl->src_duravip_round_timeout,
		&cl->src_duravip_liveness_timeout,
		&cl->src_authkey,
		&cl->src_standby,
		&cl->src_takeover_guard,
	};

	free(cl->nodename);
	free(cl->cluster_group);
	free(cl->authkey);
	for (size_t i = 0; i < cl->n_topology; i++) {
		free(cl->topology[i].interface);
		schema_src_clear(&cl->topology[i].src);
	}
	free(cl->topology);
	for (size_t i = 0; i < ARRAY_SIZE(srcs); i++)
		schema_src_clear(srcs[i]);
}

void schema_duravip_clear(struct vipd_duravip *d)
{
	free(d->binding);
	for (size_t i = 0; i < d->n_services; i++)
		free(d->services[i]);
	free(d->services);
	free(d->preference);
	free(d->follow);
}

void vip_config_free(struct vipd_config *c)
{
	if (!c)
		return;
	free(c->path);
	security_free(&c->security);
	schema_control_free(&c->control);
	cluster_free(&c->cluster);
	vip_config_drop_duravips(c);
	schema_health_free(c);
	free(c);
}

void vip_config_drop_duravips(struct vipd_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_duravips && !c->duravip_strings; i++)
		schema_duravip_clear(&c->duravips[i]);
	free(c->duravip_strings);
	c->duravip_strings = NULL;
	c->duravip_strings_size = 0;
	free(c->duravips);
	c->duravips = NULL;
	c->n_duravips = 0;
	for (size_t i = 0; i < c->n_duravip_files; i++)
		free(c->duravip_files[i]);
	free(c->duravip_files);
	c->duravip_files = NULL;
	c->n_duravip_files = 0;
}

size_t vip_config_duravips_bytes(const struct vipd_config *c)
{
	size_t n = c->n_duravips * sizeof(*c->duravips) + c->duravip_strings_size +
		   c->n_duravip_files * sizeof(*c->duravip_files);

	for (size_t i = 0; i < c->n_duravip_files; i++)
		n += strlen(c->duravip_files[i]) + 1;
	return n;
}

const char *vip_config_duravip_interface(const struct vipd_config *c, const struct vipd_duravip *d)
{
	return d->topology && d->topology <= c->cluster.n_topology ? c->cluster.topology[d->topology - 1].interface : NULL;
}

struct vip_conf_src vip_config_duravip_src(const struct vipd_config *c, const struct vipd_duravip *d)
{
	return (struct vip_conf_src){
		.file = d->src_file && d->src_file <= c->n_duravip_files ? c->duravip_files[d->src_file - 1]
									 : NULL,
		.line = d->src_line,
	};
}

const struct vipd_duravip *vip_config_find_duravip(const struct vipd_config *c, const struct vip_addr *a)
{
	if (!c || !a)
		return NULL;
	return VIP_ADDR_BSEARCH(a, c->duravips, c->n_duravips, addr);
}

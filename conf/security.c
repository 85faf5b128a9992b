/* SPDX-License-Identifier: MIT */
/*
 * The Security stanza: the identity vipd drops to after start-up.
 *
 * Momentum's override rule: an option set in the Security stanza of a file
 * named ecelerity-cluster.conf beats the same option set anywhere else, no
 * matter where the include stands; otherwise the later setting wins in
 * reading order; an option set nowhere takes its default.
 */
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>

#include "schema-internal.h"

#define CLUSTER_FILE "ecelerity-cluster.conf"
#define DEFAULT_ID "ecuser"
#define CAP_BIT(c) (UINT64_C(1) << (c))

enum sec_opt {
	SEC_USER,
	SEC_GROUP,
	SEC_CAPABILITIES,
	SEC_PRIVILEGES,
	SEC_CHROOT,
	SEC_SUPPLEMENTAL,
	_SEC_OPT_MAX,
};

static const char *const sec_names[_SEC_OPT_MAX] = {
	[SEC_USER] = "user",
	[SEC_GROUP] = "group",
	[SEC_CAPABILITIES] = "capabilities",
	[SEC_PRIVILEGES] = "privileges",
	[SEC_CHROOT] = "chroot",
	[SEC_SUPPLEMENTAL] = "supplemental_groups",
};

static bool is_cluster_file(const char *file)
{
	if (!file)
		return false;
	const char *base = strrchr(file, '/');
	return strcmp(base ? base + 1 : file, CLUSTER_FILE) == 0;
}

/* The winning option node for each Security option, or NULL (default). */
static void security_pick(const struct vip_conf_node *root, const struct vip_conf_node *eff[_SEC_OPT_MAX])
{
	const struct vip_conf_node *plain[_SEC_OPT_MAX] = { 0 }, *cluster[_SEC_OPT_MAX] = { 0 };

	for (size_t i = 0; i < root->n_children; i++) {
		const struct vip_conf_node *sc = root->children[i];
		if (sc->type != VIP_CONF_SCOPE || strcasecmp(sc->name, "security") != 0)
			continue;
		for (size_t j = 0; j < sc->n_children; j++) {
			const struct vip_conf_node *o = sc->children[j];
			if (o->type != VIP_CONF_OPTION)
				continue;
			for (int k = 0; k < _SEC_OPT_MAX; k++)
				if (strcasecmp(o->name, sec_names[k]) == 0) {
					if (is_cluster_file(o->loc.file))
						cluster[k] = o;
					else
						plain[k] = o;
				}
		}
	}
	for (int k = 0; k < _SEC_OPT_MAX; k++)
		eff[k] = cluster[k] ? cluster[k] : plain[k];
}

/* A name the running configuration resolved (reload): its id, without the name service. */
static bool known_id(const struct vipd_config *run, const char *text, bool user, uint32_t *ret)
{
	if (!run)
		return false;
	if (user) {
		if (!streq_ptr(run->security.user, text))
			return false;
		*ret = run->security.uid;
		return true;
	}
	if (streq_ptr(run->security.group, text)) {
		*ret = run->security.gid;
		return true;
	}
	if (streq_ptr(run->control.admin_group, text)) {
		*ret = run->control.admin_gid;
		return true;
	}
	for (size_t i = 0; i < run->security.n_supplemental; i++)
		if (streq_ptr(run->security.supplemental_groups[i], text)) {
			*ret = run->security.supplemental_gids[i];
			return true;
		}
	return false;
}

int schema_resolve_id(struct schema *s, const char *text, bool user, uint32_t *ret)
{
	uint32_t id;

	if (schema_parse_uint(text, 0, UINT32_MAX - 1, &id) == 0) {
		*ret = id;
		return 0;
	}
	if (known_id(s->opts ? s->opts->running : NULL, text, user, ret))
		return 0;
	if (user) {
		const struct passwd *pw = getpwnam(text);
		if (!pw)
			return -ENOENT;
		*ret = pw->pw_uid;
	} else {
		const struct group *gr = getgrnam(text);
		if (!gr)
			return -ENOENT;
		*ret = gr->gr_gid;
	}
	return 0;
}

/* user or group: the text (or the default), resolved to an id. */
static void security_identity(struct schema *s, const struct vip_conf_node *opt, bool user)
{
	struct vipd_security *sec = &s->cfg->security;
	const char *what = user ? "user" : "group";
	const char *text = DEFAULT_ID;
	uint32_t id;

	if (opt) {
		text = schema_scalar(s, opt);
		if (!text)
			return;
		if (schema_src_from_loc(user ? &sec->src_user : &sec->src_group, &opt->loc) < 0)
			return (void)schema_oom(s, -ENOMEM);
	}
	char *copy = strdup(text);
	if (!copy)
		return (void)schema_oom(s, -ENOMEM);
	if (user)
		sec->user = copy;
	else
		sec->group = copy;

	if (schema_resolve_id(s, text, user, &id) < 0) {
		if (opt) {
			schema_error(s, &opt->value->loc, "%s '%s' does not exist", what, text);
		} else {
			struct vip_conf_loc top = { .file = s->cfg->path };
			schema_error(s, &top,
				     "%s '%s' (the default) does not exist: create it or set Security { %s }",
				     what, text, what);
		}
		return;
	}
	if (user)
		sec->uid = (uid_t)id;
	else
		sec->gid = (gid_t)id;
}

static void security_capabilities(struct schema *s, const struct vip_conf_node *opt)
{
	struct vipd_security *sec = &s->cfg->security;

	if (!opt)
		return;
	const char *text = schema_scalar(s, opt);
	if (!text)
		return;
	sec->capabilities = strdup(text);
	if (!sec->capabilities || schema_src_from_loc(&sec->src_capabilities, &opt->loc) < 0)
		return (void)schema_oom(s, -ENOMEM);
	s->caps_opt = opt;

	cap_t caps = cap_from_text(text);
	if (!caps) {
		schema_error(s, &opt->value->loc, "libcap cannot parse capabilities \"%s\"", text);
		return;
	}
	for (unsigned c = 0; c < 64; c++) {
		cap_flag_value_t v;
		if (cap_get_flag(caps, (cap_value_t)c, CAP_PERMITTED, &v) == 0 && v == CAP_SET)
			sec->cap_permitted |= CAP_BIT(c);
		if (cap_get_flag(caps, (cap_value_t)c, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET)
			sec->cap_effective |= CAP_BIT(c);
	}
	cap_free(caps);
}

/* privileges and chroot: text kept as written. */
static char *security_text(struct schema *s, const struct vip_conf_node *opt, struct vip_conf_src *src)
{
	if (!opt)
		return NULL;
	const char *text = schema_scalar(s, opt);
	if (!text)
		return NULL;
	char *copy = strdup(text);
	if (!copy || schema_src_from_loc(src, &opt->loc) < 0) {
		free(copy);
		schema_oom(s, -ENOMEM);
		return NULL;
	}
	return copy;
}

static int supplemental_add(struct schema *s, const struct vip_conf_value *v)
{
	struct vipd_security *sec = &s->cfg->security;
	uint32_t gid;

	if (v->type != VIP_CONF_STRING || !v->str)
		return schema_error(s, &v->loc, "supplemental_groups must list group names or ids");
	if (schema_resolve_id(s, v->str, false, &gid) < 0)
		return schema_error(s, &v->loc, "supplemental group '%s' does not exist", v->str);
	size_t n = sec->n_supplemental;
	char **names = realloc(sec->supplemental_groups, (n + 1) * sizeof(*names));
	if (!names)
		return schema_oom(s, -ENOMEM);
	sec->supplemental_groups = names;
	gid_t *gids = realloc(sec->supplemental_gids, (n + 1) * sizeof(*gids));
	if (!gids)
		return schema_oom(s, -ENOMEM);
	sec->supplemental_gids = gids;
	names[n] = strdup(v->str);
	if (!names[n])
		return schema_oom(s, -ENOMEM);
	gids[n] = (gid_t)gid;
	sec->n_supplemental = n + 1;
	return 0;
}

static void security_supplemental(struct schema *s, const struct vip_conf_node *opt)
{
	struct vipd_security *sec = &s->cfg->security;

	if (!opt || !opt->value)
		return;
	if (schema_src_from_loc(&sec->src_supplemental_groups, &opt->loc) < 0)
		return (void)schema_oom(s, -ENOMEM);
	const struct vip_conf_value *v = opt->value;
	if (v->type == VIP_CONF_LIST) {
		for (size_t i = 0; i < v->n_items && !s->fatal; i++)
			supplemental_add(s, v->items[i]);
	} else if (v->type == VIP_CONF_STRING && v->str && *v->str == '\0') {
		/* supplemental_groups = "": explicitly none */
	} else {
		supplemental_add(s, v);
	}
}

void schema_security(struct schema *s, const struct vip_conf_node *root)
{
	struct vipd_security *sec = &s->cfg->security;
	const struct vip_conf_node *eff[_SEC_OPT_MAX];

	security_pick(root, eff);
	s->user_opt = eff[SEC_USER];
	security_identity(s, eff[SEC_USER], true);
	security_identity(s, eff[SEC_GROUP], false);
	security_capabilities(s, eff[SEC_CAPABILITIES]);
	sec->privileges = security_text(s, eff[SEC_PRIVILEGES], &sec->src_privileges);
	sec->chroot = security_text(s, eff[SEC_CHROOT], &sec->src_chroot);
	if (sec->chroot && sec->chroot[0] != '/')
		schema_error(s, &eff[SEC_CHROOT]->value->loc, "chroot '%s' must be an absolute path",
			     sec->chroot);
	security_supplemental(s, eff[SEC_SUPPLEMENTAL]);

	if (sec->user && sec->uid == 0 && sec->capabilities && s->caps_opt)
		schema_warning(s, &s->caps_opt->value->loc,
			       "user %s with capabilities: root loses its access to every file not "
			       "covered by a listed capability",
			       sec->user);
}

/*
 * vipd adds addresses (cap_net_admin) and announces them (cap_net_raw). A
 * process keeps every capability only as root without a capabilities list;
 * otherwise it keeps exactly the listed ones (root too: see docs/design.md §5).
 */
void schema_security_check_duravips(struct schema *s)
{
	const struct vipd_config *cfg = s->cfg;
	const struct vipd_security *sec = &cfg->security;

	if (cfg->n_duravips == 0 || (sec->uid == 0 && !sec->capabilities))
		return;
	if (!sec->user)
		return; /* already reported */
	const struct vipd_duravip *first = &cfg->duravips[0];
	struct vip_conf_src src = vip_config_duravip_src(cfg, first);
	struct vip_conf_loc at = { .file = src.file, .line = src.line };
	const struct vip_conf_loc *loc = s->caps_opt ? &s->caps_opt->value->loc : &at;

	if (!(sec->cap_permitted & CAP_BIT(CAP_NET_ADMIN)))
		schema_error(s, loc,
			     "DuraVIPs need cap_net_admin, which user '%s' does not keep: add "
			     "cap_net_admin+ep to Security { capabilities }",
			     sec->user);
	if (!(sec->cap_permitted & CAP_BIT(CAP_NET_RAW)))
		schema_warning(s, loc,
			       "DuraVIPs are announced with ARP and neighbour advertisements, which "
			       "need cap_net_raw: user '%s' does not keep it",
			       sec->user);
}

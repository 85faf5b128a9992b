/* SPDX-License-Identifier: MIT */
/*
 * The Control scope: who may change state through the control socket.
 *
 *   Control { admin_group = NAME }
 *
 * Members of admin_group (or its gid) may run the commands that change state
 * (docs/design.md §6, the command table's authority); root always may. Not
 * set (the default): root alone. Read-only commands stay open to root,
 * vipd's user and its Security group. The later setting wins in reading
 * order; admin_group = "" says "none" explicitly. It applies live on reload.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "schema-internal.h"

/* The last admin_group option of any Control scope, or NULL. */
static const struct vip_conf_node *pick(const struct vip_conf_node *root)
{
	const struct vip_conf_node *eff = NULL;

	for (size_t i = 0; i < root->n_children; i++) {
		const struct vip_conf_node *sc = root->children[i];

		if (sc->type != VIP_CONF_SCOPE || strcasecmp(sc->name, "control") != 0)
			continue;
		for (size_t j = 0; j < sc->n_children; j++) {
			const struct vip_conf_node *o = sc->children[j];

			if (o->type == VIP_CONF_OPTION && strcasecmp(o->name, "admin_group") == 0)
				eff = o;
		}
	}
	return eff;
}

void schema_control(struct schema *s, const struct vip_conf_node *root)
{
	struct vipd_control_conf *c = &s->cfg->control;
	const struct vip_conf_node *opt = pick(root);
	const char *text;
	uint32_t gid;

	if (!opt)
		return;
	text = schema_scalar(s, opt);
	if (!text)
		return;
	if (schema_src_from_loc(&c->src_admin_group, &opt->loc) < 0)
		return (void)schema_oom(s, -ENOMEM);
	if (!*text)
		return; /* "": explicitly none */
	if (schema_resolve_id(s, text, false, &gid) < 0) {
		schema_error(s, &opt->value->loc, "admin_group '%s' does not exist", text);
		return;
	}
	c->admin_group = strdup(text);
	if (!c->admin_group)
		return (void)schema_oom(s, -ENOMEM);
	c->admin_gid = (gid_t)gid;
}

void schema_control_free(struct vipd_control_conf *c)
{
	free(c->admin_group);
	schema_src_clear(&c->src_admin_group);
	*c = (struct vipd_control_conf){ 0 };
}

/* SPDX-License-Identifier: MIT */
/*
 * `vipd --check --json`: one JSON object with every effective setting, where
 * it came from, the DuraVIP table and the warnings. Absent values are null.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "schema-internal.h"

static void jw_from(struct vip_json *w, const struct vip_conf_src *src)
{
	char from[256];
	vip_json_string(w, "from", vip_conf_src_format(src, from, sizeof(from)));
}

/* {"value": "...", "from": "..."} */
static void jw_setting(struct vip_json *w, const char *key, const char *v, const struct vip_conf_src *src)
{
	vip_json_object_begin(w, key);
	vip_json_string(w, "value", v);
	jw_from(w, src);
	vip_json_object_end(w);
}

static int json_security(struct vip_json *w, const struct vipd_security *sec)
{
	char **names = NULL;

	vip_json_object_begin(w, "security");
	vip_json_object_begin(w, "user");
	vip_json_string(w, "value", sec->user);
	vip_json_uint(w, "uid", sec->uid);
	jw_from(w, &sec->src_user);
	vip_json_object_end(w);
	vip_json_object_begin(w, "group");
	vip_json_string(w, "value", sec->group);
	vip_json_uint(w, "gid", sec->gid);
	jw_from(w, &sec->src_group);
	vip_json_object_end(w);

	int n = schema_cap_names(sec->cap_permitted & sec->cap_effective, &names);
	if (n < 0)
		return n;
	vip_json_object_begin(w, "capabilities");
	vip_json_array_begin(w, "value");
	for (int i = 0; i < n; i++)
		vip_json_string(w, NULL, names[i]);
	vip_json_array_end(w);
	schema_strv_free(names);
	vip_json_string(w, "text", sec->capabilities);
	jw_from(w, &sec->src_capabilities);
	vip_json_object_end(w);

	jw_setting(w, "privileges", sec->privileges, &sec->src_privileges);
	jw_setting(w, "chroot", sec->chroot, &sec->src_chroot);
	vip_json_object_begin(w, "supplemental_groups");
	vip_json_array_begin(w, "value");
	for (size_t i = 0; i < sec->n_supplemental; i++)
		vip_json_string(w, NULL, sec->supplemental_groups[i]);
	vip_json_array_end(w);
	vip_json_array_begin(w, "gids");
	for (size_t i = 0; i < sec->n_supplemental; i++)
		vip_json_uint(w, NULL, sec->supplemental_gids[i]);
	vip_json_array_end(w);
	jw_from(w, &sec->src_supplemental_groups);
	vip_json_object_end(w);
	vip_json_object_end(w);
	return 0;
}

static void json_cluster(struct vip_json *w, const struct vipd_cluster *cl)
{
	struct schema_setting set[SCHEMA_N_SETTINGS];
	char net[VIP_ADDR_STRLEN + 8];

	vip_json_object_begin(w, "cluster");
	vip_json_bool(w, "enabled", cl->enabled);
	size_t n = schema_cluster_settings(cl, set);
	for (size_t i = 0; i < n; i++) {
		vip_json_object_begin(w, set[i].name);
		if (set[i].kind == SETTING_STRING)
			vip_json_string(w, "value", set[i].text);
		else if (set[i].kind == SETTING_BOOL)
			vip_json_bool(w, "value", strcmp(set[i].text, "true") == 0);
		else
			vip_json_double(w, "value", strtod(set[i].text, NULL));
		jw_from(w, set[i].src);
		vip_json_object_end(w);
	}
	vip_json_array_begin(w, "topology");
	for (size_t i = 0; i < cl->n_topology; i++) {
		const struct vipd_topology *t = &cl->topology[i];
		vip_addr_to_string(&t->network, net, VIP_ADDR_STRLEN);
		snprintf(net + strlen(net), sizeof(net) - strlen(net), "/%u", t->network_len);
		vip_json_object_begin(w, NULL);
		vip_json_string(w, "network", net);
		vip_json_string(w, "interface", t->interface);
		vip_json_uint(w, "cidrmask", t->cidrmask);
		jw_from(w, &t->src);
		vip_json_object_end(w);
	}
	vip_json_array_end(w);
	vip_json_object_end(w);
}

static void json_duravips(struct vip_json *w, const struct vipd_config *c)
{
	char addr[VIP_ADDR_STRLEN];

	vip_json_array_begin(w, "duravips");
	for (size_t i = 0; i < c->n_duravips; i++) {
		const struct vipd_duravip *d = &c->duravips[i];
		vip_json_object_begin(w, NULL);
		vip_json_string(w, "address", vip_addr_to_string(&d->addr, addr, sizeof(addr)));
		vip_json_uint(w, "prefix", d->prefix);
		vip_json_string(w, "interface", vip_config_duravip_interface(c, d));
		vip_json_array_begin(w, "services");
		for (size_t j = 0; j < d->n_services; j++)
			vip_json_string(w, NULL, d->services[j]);
		vip_json_array_end(w);
		vip_json_string(w, "preference", d->preference);
		vip_json_string(w, "follow", d->follow);
		vip_json_string(w, "binding", d->binding);
		struct vip_conf_src src = vip_config_duravip_src(c, d);
		jw_from(w, &src);
		vip_json_object_end(w);
	}
	vip_json_array_end(w);
}

/* "health_checks": [{name, kind, target, expect, interval_ms, ...}], "notify": {...} or null */
static void json_health(struct vip_json *w, const struct vipd_config *c)
{
	vip_json_array_begin(w, "health_checks");
	for (size_t i = 0; i < c->n_checks; i++) {
		const struct vipd_health_check *k = &c->checks[i];
		vip_json_object_begin(w, NULL);
		vip_json_string(w, "name", k->name);
		vip_json_string(w, "kind", vipd_check_kind_to_string(k->kind));
		vip_json_string(w, "target", k->target);
		vip_json_string(w, "expect", k->expect);
		vip_json_uint(w, "interval_ms", k->interval_ms);
		vip_json_uint(w, "timeout_ms", k->timeout_ms);
		vip_json_uint(w, "fall", k->fall);
		vip_json_uint(w, "rise", k->rise);
		vip_json_string(w, "initial", k->initial_healthy ? "healthy" : "unhealthy");
		jw_from(w, &k->src);
		vip_json_object_end(w);
	}
	vip_json_array_end(w);
	if (!c->notify.command) {
		vip_json_null(w, "notify");
		return;
	}
	vip_json_object_begin(w, "notify");
	vip_json_string(w, "command", c->notify.command);
	vip_json_uint(w, "timeout_ms", c->notify.timeout_ms);
	jw_from(w, &c->notify.src);
	vip_json_object_end(w);
}

static int json_warnings(struct vip_json *w, const struct vip_conf_diag *diag)
{
	vip_json_array_begin(w, "warnings");
	for (size_t i = 0; diag && i < diag->n; i++) {
		if (diag->items[i].severity != VIP_CONF_WARNING)
			continue;
		char *line = vip_conf_diagnostic_format(&diag->items[i]);
		if (!line)
			return -ENOMEM;
		vip_json_string(w, NULL, line);
		free(line);
	}
	vip_json_array_end(w);
	return 0;
}

/* {"admin_group": {"value": NAME or null, "gid": N or null, "from": ...}} */
static void json_control(struct vip_json *w, const struct vipd_control_conf *ctl)
{
	vip_json_object_begin(w, "control");
	vip_json_object_begin(w, "admin_group");
	vip_json_string(w, "value", ctl->admin_group);
	if (ctl->admin_group)
		vip_json_uint(w, "gid", ctl->admin_gid);
	else
		vip_json_null(w, "gid");
	jw_from(w, &ctl->src_admin_group);
	vip_json_object_end(w);
	vip_json_object_end(w);
}

int vip_config_print_json(const struct vipd_config *c, const struct vip_conf_diag *diag, FILE *f)
{
	struct vip_json w;
	int r;

	assert(c && f);
	/* The shared writer (conf.h), indented for people; unbounded. */
	vip_json_init(&w, 0, true);
	vip_json_object_begin(&w, NULL);
	r = json_security(&w, &c->security);
	if (r >= 0) {
		json_control(&w, &c->control);
		json_cluster(&w, &c->cluster);
		json_duravips(&w, c);
		json_health(&w, c);
		r = json_warnings(&w, diag);
	}
	vip_json_object_end(&w);
	if (r >= 0)
		r = vip_json_finish(&w);
	if (r >= 0 && fwrite(w.data, 1, w.len, f) != w.len)
		r = -EIO;
	vip_json_free(&w);
	return r < 0 ? r : (ferror(f) ? -EIO : 0);
}

// SPDX-License-Identifier: MIT
/*
 * `vipd --check --json`: one JSON object with every effective setting, where
 * it came from, the DuraVIP table and the warnings. Absent values are null.
 */
#include <stdlib.h>
#include <string.h>

#include "schema-internal.h"

/* A tiny indenting writer: containers and scalars, commas handled here. */
struct jw {
	FILE *f;
	unsigned depth;
	bool any; /* the open container already holds an item */
};

static void jw_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void jw_key(struct jw *w, const char *key)
{
	if (w->any)
		fputc(',', w->f);
	fputc('\n', w->f);
	for (unsigned i = 0; i < w->depth; i++)
		fputs("  ", w->f);
	if (key) {
		jw_string(w->f, key);
		fputs(": ", w->f);
	}
	w->any = true;
}

static void jw_open(struct jw *w, const char *key, char c)
{
	if (w->depth > 0)
		jw_key(w, key);
	fputc(c, w->f);
	w->depth++;
	w->any = false;
}

static void jw_close(struct jw *w, char c)
{
	w->depth--;
	if (w->any) {
		fputc('\n', w->f);
		for (unsigned i = 0; i < w->depth; i++)
			fputs("  ", w->f);
	}
	fputc(c, w->f);
	w->any = true;
}

static void jw_str(struct jw *w, const char *key, const char *v)
{
	jw_key(w, key);
	if (v)
		jw_string(w->f, v);
	else
		fputs("null", w->f);
}

static void jw_raw(struct jw *w, const char *key, const char *v)
{
	jw_key(w, key);
	fputs(v, w->f);
}

static void jw_uint(struct jw *w, const char *key, unsigned long long v)
{
	jw_key(w, key);
	fprintf(w->f, "%llu", v);
}

static void jw_from(struct jw *w, const struct vip_conf_src *src)
{
	char from[256];
	jw_str(w, "from", vip_conf_src_format(src, from, sizeof(from)));
}

/* {"value": "...", "from": "..."} */
static void jw_setting(struct jw *w, const char *key, const char *v, const struct vip_conf_src *src)
{
	jw_open(w, key, '{');
	jw_str(w, "value", v);
	jw_from(w, src);
	jw_close(w, '}');
}

static int json_security(struct jw *w, const struct vipd_security *sec)
{
	char **names = NULL;

	jw_open(w, "security", '{');
	jw_open(w, "user", '{');
	jw_str(w, "value", sec->user);
	jw_uint(w, "uid", sec->uid);
	jw_from(w, &sec->src_user);
	jw_close(w, '}');
	jw_open(w, "group", '{');
	jw_str(w, "value", sec->group);
	jw_uint(w, "gid", sec->gid);
	jw_from(w, &sec->src_group);
	jw_close(w, '}');

	int n = schema_cap_names(sec->cap_permitted & sec->cap_effective, &names);
	if (n < 0)
		return n;
	jw_open(w, "capabilities", '{');
	jw_open(w, "value", '[');
	for (int i = 0; i < n; i++)
		jw_str(w, NULL, names[i]);
	jw_close(w, ']');
	schema_strv_free(names);
	jw_str(w, "text", sec->capabilities);
	jw_from(w, &sec->src_capabilities);
	jw_close(w, '}');

	jw_setting(w, "privileges", sec->privileges, &sec->src_privileges);
	jw_setting(w, "chroot", sec->chroot, &sec->src_chroot);
	jw_open(w, "supplemental_groups", '{');
	jw_open(w, "value", '[');
	for (size_t i = 0; i < sec->n_supplemental; i++)
		jw_str(w, NULL, sec->supplemental_groups[i]);
	jw_close(w, ']');
	jw_open(w, "gids", '[');
	for (size_t i = 0; i < sec->n_supplemental; i++)
		jw_uint(w, NULL, sec->supplemental_gids[i]);
	jw_close(w, ']');
	jw_from(w, &sec->src_supplemental_groups);
	jw_close(w, '}');
	jw_close(w, '}');
	return 0;
}

static void json_cluster(struct jw *w, const struct vipd_cluster *cl)
{
	struct schema_setting set[SCHEMA_N_SETTINGS];
	char net[VIP_ADDR_STRLEN + 8];

	jw_open(w, "cluster", '{');
	jw_raw(w, "enabled", cl->enabled ? "true" : "false");
	size_t n = schema_cluster_settings(cl, set);
	for (size_t i = 0; i < n; i++) {
		jw_open(w, set[i].name, '{');
		if (set[i].kind == SETTING_STRING)
			jw_str(w, "value", set[i].text);
		else
			jw_raw(w, "value", set[i].text);
		jw_from(w, set[i].src);
		jw_close(w, '}');
	}
	jw_open(w, "topology", '[');
	for (size_t i = 0; i < cl->n_topology; i++) {
		const struct vipd_topology *t = &cl->topology[i];
		vip_addr_to_string(&t->network, net, VIP_ADDR_STRLEN);
		snprintf(net + strlen(net), sizeof(net) - strlen(net), "/%u", t->network_len);
		jw_open(w, NULL, '{');
		jw_str(w, "network", net);
		jw_str(w, "interface", t->interface);
		jw_uint(w, "cidrmask", t->cidrmask);
		jw_from(w, &t->src);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_close(w, '}');
}

static void json_duravips(struct jw *w, const struct vipd_config *c)
{
	char addr[VIP_ADDR_STRLEN];

	jw_open(w, "duravips", '[');
	for (size_t i = 0; i < c->n_duravips; i++) {
		const struct vipd_duravip *d = &c->duravips[i];
		jw_open(w, NULL, '{');
		jw_str(w, "address", vip_addr_to_string(&d->addr, addr, sizeof(addr)));
		jw_uint(w, "prefix", d->prefix);
		jw_str(w, "interface", d->interface);
		jw_open(w, "services", '[');
		for (size_t j = 0; j < d->n_services; j++)
			jw_str(w, NULL, d->services[j]);
		jw_close(w, ']');
		jw_str(w, "preference", d->preference);
		jw_str(w, "follow", d->follow);
		jw_str(w, "binding", d->binding);
		jw_from(w, &d->src);
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

static int json_warnings(struct jw *w, const struct vip_conf_diag *diag)
{
	jw_open(w, "warnings", '[');
	for (size_t i = 0; diag && i < diag->n; i++) {
		if (diag->items[i].severity != VIP_CONF_WARNING)
			continue;
		char *line = vip_conf_diagnostic_format(&diag->items[i]);
		if (!line)
			return -ENOMEM;
		jw_str(w, NULL, line);
		free(line);
	}
	jw_close(w, ']');
	return 0;
}

int vip_config_print_json(const struct vipd_config *c, const struct vip_conf_diag *diag, FILE *f)
{
	struct jw w = { .f = f };
	int r;

	if (!c || !f)
		return -EINVAL;
	jw_open(&w, NULL, '{');
	r = json_security(&w, &c->security);
	if (r < 0)
		return r;
	json_cluster(&w, &c->cluster);
	json_duravips(&w, c);
	r = json_warnings(&w, diag);
	if (r < 0)
		return r;
	jw_close(&w, '}');
	fputc('\n', f);
	return ferror(f) ? -EIO : 0;
}

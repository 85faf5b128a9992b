/* SPDX-License-Identifier: MIT */
/* The human summary `vipd --check` prints: every effective setting and where it came from. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "schema-internal.h"

static void set_str(struct schema_setting *s, const char *name, const char *text,
		    const struct vip_conf_src *src)
{
	*s = (struct schema_setting){ .name = name, .kind = SETTING_STRING, .text = text, .src = src };
}

static void set_uint(struct schema_setting *s, const char *name, uint32_t v, const struct vip_conf_src *src)
{
	*s = (struct schema_setting){ .name = name, .kind = SETTING_NUMBER, .src = src };
	snprintf(s->num, sizeof(s->num), "%u", v);
	s->text = s->num;
}

static void set_secs(struct schema_setting *s, const char *name, uint32_t ms, const struct vip_conf_src *src)
{
	if (ms == VIP_CONF_AUTO) { /* not resolved yet (vip_config_resolve_timing) */
		set_str(s, name, "auto", src);
		return;
	}
	*s = (struct schema_setting){ .name = name, .kind = SETTING_NUMBER, .src = src };
	s->text = schema_ms_text(ms, s->num, sizeof(s->num));
}

size_t schema_cluster_settings(const struct vipd_cluster *cl, struct schema_setting *out)
{
	size_t n = 0;

	set_str(&out[n++], "nodename", cl->nodename, &cl->src_nodename);
	set_str(&out[n++], "cluster_group", cl->cluster_group, &cl->src_cluster_group);
	set_str(&out[n++], "authkey", cl->authkey, &cl->src_authkey);
	set_secs(&out[n++], "view_mature_time", cl->view_mature_time_ms, &cl->src_view_mature_time);
	set_secs(&out[n++], "view_balance_interval", cl->view_balance_interval_ms,
		 &cl->src_view_balance_interval);
	set_uint(&out[n++], "duravip_balance_set_size", cl->duravip_balance_set_size,
		 &cl->src_duravip_balance_set_size);
	set_secs(&out[n++], "if_check_interval", cl->if_check_interval_ms, &cl->src_if_check_interval);
	set_uint(&out[n++], "if_down_limit", cl->if_down_limit, &cl->src_if_down_limit);
	set_str(&out[n], "arp_all_hosts", cl->arp_all_hosts ? "true" : "false", &cl->src_arp_all_hosts);
	out[n++].kind = SETTING_BOOL;
	set_uint(&out[n++], "arp_cache_size", cl->arp_cache_size, &cl->src_arp_cache_size);
	set_secs(&out[n++], "arp_cache_max_age", cl->arp_cache_max_age_ms, &cl->src_arp_cache_max_age);
	set_str(&out[n], "standby", cl->standby ? "true" : "false", &cl->src_standby);
	out[n++].kind = SETTING_BOOL;
	set_str(&out[n++], "duravip_quorum_policy", vip_quorum_policy_to_string(cl->quorum_policy),
		&cl->src_quorum_policy);
	set_str(&out[n++], "arp_mode", vip_arp_mode_to_string(cl->arp_mode), &cl->src_arp_mode);
	set_uint(&out[n++], "arp_repeat", cl->arp_repeat, &cl->src_arp_repeat);
	set_secs(&out[n++], "arp_repeat_interval", cl->arp_repeat_interval_ms, &cl->src_arp_repeat_interval);
	set_secs(&out[n++], "arp_refresh_interval", cl->arp_refresh_interval_ms,
		 &cl->src_arp_refresh_interval);
	set_uint(&out[n++], "arp_pace", cl->arp_pace, &cl->src_arp_pace);
	set_secs(&out[n++], "corosync_token", cl->corosync_token_ms, &cl->src_corosync_token);
	set_secs(&out[n++], "duravip_round_timeout", cl->duravip_round_timeout_ms,
		 &cl->src_duravip_round_timeout);
	set_secs(&out[n++], "duravip_liveness_timeout", cl->duravip_liveness_timeout_ms,
		 &cl->src_duravip_liveness_timeout);
	set_secs(&out[n++], "duravip_takeover_delay", cl->duravip_takeover_delay_ms,
		 &cl->src_duravip_takeover_delay);
	set_str(&out[n++], "duravip_takeover_guard", vip_takeover_guard_to_string(cl->takeover_guard),
		&cl->src_takeover_guard);
	return n;
}

static void row(FILE *f, const char *name, const char *value, const struct vip_conf_src *src)
{
	char from[256];

	if (!value || !*value)
		value = "-";
	vip_conf_src_format(src, from, sizeof(from));
	if (strlen(value) <= 32)
		fprintf(f, "  %-26s %-32s %s\n", name, value, from);
	else /* a long value on its own line keeps the from column straight */
		fprintf(f, "  %-26s %s\n  %-26s %-32s %s\n", name, value, "", "", from);
}

static int print_security(const struct vipd_security *sec, FILE *f)
{
	char buf[64];
	char **names = NULL;

	fprintf(f, "%-62s%s\n", "Security", "from");
	snprintf(buf, sizeof(buf), "%s (uid %u)", sec->user ? sec->user : "?", (unsigned)sec->uid);
	row(f, "user", buf, &sec->src_user);
	snprintf(buf, sizeof(buf), "%s (gid %u)", sec->group ? sec->group : "?", (unsigned)sec->gid);
	row(f, "group", buf, &sec->src_group);
	row(f, "capabilities", sec->capabilities, &sec->src_capabilities);
	int n = schema_cap_names(sec->cap_permitted & sec->cap_effective, &names);
	if (n < 0)
		return n;
	fprintf(f, "  %-26s", "  kept after the drop");
	for (int i = 0; i < n; i++)
		fprintf(f, " %s", names[i]);
	fprintf(f, "%s\n", n == 0 ? (sec->uid == 0 && !sec->capabilities ? " all (root)" : " none") : "");
	schema_strv_free(names);
	row(f, "privileges", sec->privileges, &sec->src_privileges);
	row(f, "chroot", sec->chroot, &sec->src_chroot);
	char list[256] = "";
	for (size_t i = 0; i < sec->n_supplemental; i++) {
		size_t used = strlen(list);
		snprintf(list + used, sizeof(list) - used, "%s%s", i ? " " : "", sec->supplemental_groups[i]);
	}
	row(f, "supplemental_groups", list, &sec->src_supplemental_groups);
	return 0;
}

static void print_cluster(const struct vipd_cluster *cl, FILE *f)
{
	struct schema_setting set[SCHEMA_N_SETTINGS];
	char net[VIP_ADDR_STRLEN + 8], buf[96], from[256];

	if (cl->enabled)
		fprintf(f, "\nCluster: enabled\n");
	else
		fprintf(f, "\nCluster: none (a single node that owns every DuraVIP)\n");
	size_t n = schema_cluster_settings(cl, set);
	for (size_t i = 0; i < n; i++) {
		if (!cl->enabled && i > 0)
			break; /* the node name still names this node; the rest does not apply */
		row(f, set[i].name, set[i].text, set[i].src);
	}
	for (size_t i = 0; i < cl->n_topology; i++) {
		const struct vipd_topology *t = &cl->topology[i];
		vip_addr_to_string(&t->network, net, VIP_ADDR_STRLEN);
		snprintf(net + strlen(net), sizeof(net) - strlen(net), "/%u", t->network_len);
		snprintf(buf, sizeof(buf), "Topology %s", net);
		char val[64];
		snprintf(val, sizeof(val), "interface %s cidrmask %u", t->interface, t->cidrmask);
		fprintf(f, "  %-26s %-32s %s\n", buf, val, vip_conf_src_format(&t->src, from, sizeof(from)));
	}
}

static void print_duravips(const struct vipd_config *c, FILE *f)
{
	char addr[VIP_ADDR_STRLEN + 8];

	fprintf(f, "\nDuraVIPs: %zu\n", c->n_duravips);
	if (c->n_duravips == 0)
		return;
	fprintf(f, "  %-30s %-10s %-12s %-12s %s\n", "ADDRESS", "INTERFACE", "PREFERENCE", "FOLLOWS",
		"SERVICES");
	for (size_t i = 0; i < c->n_duravips; i++) {
		const struct vipd_duravip *d = &c->duravips[i];
		vip_addr_to_string(&d->addr, addr, VIP_ADDR_STRLEN);
		snprintf(addr + strlen(addr), sizeof(addr) - strlen(addr), "/%u", d->prefix);
		const char *ifname = vip_config_duravip_interface(c, d);
		fprintf(f, "  %-30s %-10s %-12s %-12s", addr, ifname ? ifname : "(route)",
			d->preference ? d->preference : "-", d->follow ? d->follow : "-");
		for (size_t j = 0; j < d->n_services; j++)
			fprintf(f, "%s%s", j ? ", " : " ", d->services[j]);
		fputc('\n', f);
	}
}

static void print_health(const struct vipd_config *c, FILE *f)
{
	char from[256], iv[16], to[16], what[96];

	fprintf(f, "\nHealth checks: %zu%s\n", c->n_checks,
		c->n_checks ? " (the node is healthy while all pass)" : "");
	for (size_t i = 0; i < c->n_checks; i++) {
		const struct vipd_health_check *k = &c->checks[i];
		snprintf(what, sizeof(what), "%s %s%s%s%s", vipd_check_kind_to_string(k->kind), k->target,
			 k->expect ? " expect \"" : "", k->expect ? k->expect : "", k->expect ? "\"" : "");
		fprintf(f, "  %-26s %s\n  %-26s every %ss, timeout %ss, fall %u, rise %u, initial %s  %s\n",
			k->name, what, "", schema_ms_text(k->interval_ms, iv, sizeof(iv)),
			schema_ms_text(k->timeout_ms, to, sizeof(to)), k->fall, k->rise,
			k->initial_healthy ? "healthy" : "unhealthy",
			vip_conf_src_format(&k->src, from, sizeof(from)));
	}
	if (c->notify.command)
		fprintf(f, "  %-26s %s (timeout %ss)  %s\n", "Notify", c->notify.command,
			schema_ms_text(c->notify.timeout_ms, to, sizeof(to)),
			vip_conf_src_format(&c->notify.src, from, sizeof(from)));
}

static void print_control(const struct vipd_control_conf *ctl, FILE *f)
{
	char buf[96];

	fprintf(f, "\n%-62s%s\n", "Control", "from");
	if (ctl->admin_group)
		snprintf(buf, sizeof(buf), "%s (gid %u)", ctl->admin_group, (unsigned)ctl->admin_gid);
	else
		snprintf(buf, sizeof(buf), "none: root alone changes state");
	row(f, "admin_group", buf, &ctl->src_admin_group);
}

int vip_config_print(const struct vipd_config *c, const struct vip_conf_diag *diag, FILE *f)
{
	size_t n_warn = 0;

	assert(c && f);
	fprintf(f, "Configuration: %s\n\n", c->path);
	int r = print_security(&c->security, f);
	if (r < 0)
		return r;
	print_control(&c->control, f);
	print_cluster(&c->cluster, f);
	print_duravips(c, f);
	print_health(c, f);
	for (size_t i = 0; diag && i < diag->n; i++)
		n_warn += diag->items[i].severity == VIP_CONF_WARNING;
	fprintf(f, "\nOK: %zu DuraVIP%s, %zu warning%s\n", c->n_duravips, c->n_duravips == 1 ? "" : "s",
		n_warn, n_warn == 1 ? "" : "s");
	return ferror(f) ? -EIO : 0;
}

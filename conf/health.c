/* SPDX-License-Identifier: MIT */
/*
 * The Health_Check and Notify scopes (top level, with or without a cluster
 * scope):
 *
 *   Health_Check "mta" { connect = "127.0.0.1:25" expect = "220" interval = 1
 *                        timeout = 2 fall = 3 rise = 2 initial = unhealthy }
 *   Health_Check "ecelerity" { pidfile = "/var/run/ecelerity.pid" }
 *   Health_Check "custom" { command = "/usr/local/lib/vipd/check-queue --max 50000" }
 *   Notify { command = "/usr/local/sbin/vip-changed" timeout = 5 }
 *
 * These are vipd's own scopes, so an unknown option in them is an error
 * (a typo would silently change what is checked). Every error points at the
 * option or value with file:line:col.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "schema-internal.h"

#define MAX_EXPECT 256
#define SECONDS_MIN 100u
#define SECONDS_MAX 3600000u

static const char *const kind_names[_VIPD_CHECK_KIND_MAX] = {
	[VIPD_CHECK_CONNECT] = "connect",
	[VIPD_CHECK_PIDFILE] = "pidfile",
	[VIPD_CHECK_COMMAND] = "command",
};

const char *vipd_check_kind_to_string(enum vipd_check_kind k)
{
	return (unsigned)k < _VIPD_CHECK_KIND_MAX ? kind_names[k] : NULL;
}

static bool seconds(struct schema *s, const struct vip_conf_node *o, const char *text, uint32_t *ret)
{
	char lo[16], hi[16];
	int r = schema_parse_seconds(text, UINT32_MAX, ret);

	if (r == -EINVAL)
		return schema_error(s, &o->value->loc, "%s = '%s' is not a number of seconds", o->name, text),
		       false;
	if (r < 0 || *ret < SECONDS_MIN || *ret > SECONDS_MAX)
		return schema_error(s, &o->value->loc, "%s = %s is out of range: %s to %s seconds", o->name,
				    text, schema_ms_text(SECONDS_MIN, lo, sizeof(lo)),
				    schema_ms_text(SECONDS_MAX, hi, sizeof(hi))),
		       false;
	return true;
}

static bool count(struct schema *s, const struct vip_conf_node *o, const char *text, uint32_t *ret)
{
	if (schema_parse_uint(text, 1, 1000, ret) < 0)
		return schema_error(s, &o->value->loc, "%s = '%s' must be a whole number from 1 to 1000",
				    o->name, text),
		       false;
	return true;
}

/* A command line as vipd/runner will split it (vip_cmdline_split): no shell, an absolute program. */
static bool command_line(struct schema *s, const struct vip_conf_node *o, const char *text)
{
	char why[128];
	char **argv = NULL;
	int r = vip_cmdline_split(text, &argv, why, sizeof(why));

	free(argv);
	if (r == -ENOMEM)
		return schema_oom(s, r), false;
	if (r < 0)
		return schema_error(s, &o->value->loc, "%s = \"%s\": %s (it runs without a shell)", o->name,
				    text, why),
		       false;
	return true;
}

static char *dup_text(struct schema *s, const char *text)
{
	char *d = strdup(text);

	if (!d)
		schema_oom(s, -ENOMEM);
	return d;
}

/* The target option (connect, pidfile, command): exactly one per check. */
static void check_target(struct schema *s, struct vipd_health_check *c, const struct vip_conf_node *o,
			 const char *text, enum vipd_check_kind k, const struct vip_conf_node **seen)
{
	uint32_t port = 0;

	if (*seen)
		return (void)schema_error(
			s, &o->loc,
			"Health_Check \"%s\": %s and %s: give exactly one of connect, pidfile, command",
			c->name, (*seen)->name, o->name);
	*seen = o;
	c->kind = k;
	if (k == VIPD_CHECK_CONNECT) {
		int r = schema_parse_addr_port(text, &c->addr, &port);
		if (r != 0)
			return (void)schema_error(
				s, &o->value->loc,
				r > 0 ? "connect = \"%s\" needs a specific address, not a wildcard"
				      : "connect = \"%s\" is not address:port (IPv6: \"[address]:port\")",
				text);
		c->port = (uint16_t)port;
	} else if (k == VIPD_CHECK_PIDFILE && text[0] != '/') {
		return (void)schema_error(s, &o->value->loc, "pidfile = \"%s\" must be an absolute path",
					  text);
	} else if (k == VIPD_CHECK_COMMAND && !command_line(s, o, text)) {
		return;
	}
	c->target = dup_text(s, text);
}

static void check_option(struct schema *s, struct vipd_health_check *c, const struct vip_conf_node *o,
			 const struct vip_conf_node **target, const struct vip_conf_node **expect)
{
	const char *text = schema_scalar(s, o);

	if (!text)
		return;
	if (strcasecmp(o->name, "connect") == 0) {
		check_target(s, c, o, text, VIPD_CHECK_CONNECT, target);
	} else if (strcasecmp(o->name, "pidfile") == 0) {
		check_target(s, c, o, text, VIPD_CHECK_PIDFILE, target);
	} else if (strcasecmp(o->name, "command") == 0) {
		check_target(s, c, o, text, VIPD_CHECK_COMMAND, target);
	} else if (strcasecmp(o->name, "expect") == 0) {
		*expect = o;
		if (!text[0] || strlen(text) > MAX_EXPECT)
			return (void)schema_error(s, &o->value->loc, "expect must hold 1 to %d bytes",
						  MAX_EXPECT);
		free(c->expect);
		c->expect = dup_text(s, text);
	} else if (strcasecmp(o->name, "interval") == 0) {
		seconds(s, o, text, &c->interval_ms);
	} else if (strcasecmp(o->name, "timeout") == 0) {
		seconds(s, o, text, &c->timeout_ms);
	} else if (strcasecmp(o->name, "fall") == 0) {
		count(s, o, text, &c->fall);
	} else if (strcasecmp(o->name, "rise") == 0) {
		count(s, o, text, &c->rise);
	} else if (strcasecmp(o->name, "initial") == 0) {
		if (strcasecmp(text, "healthy") != 0 && strcasecmp(text, "unhealthy") != 0)
			return (void)schema_error(s, &o->value->loc,
						  "initial = '%s' must be healthy or unhealthy", text);
		c->initial_healthy = strcasecmp(text, "healthy") == 0;
	} else {
		schema_error(
			s, &o->loc,
			"unknown option '%s' in Health_Check (connect, pidfile, command, expect, interval, "
			"timeout, fall, rise, initial)",
			o->name);
	}
}

/* The same option twice in one scope: the second is an error (which one would count is unclear). */
static bool repeated(struct schema *s, const struct vip_conf_node *sc, size_t j)
{
	const struct vip_conf_node *o = sc->children[j];

	for (size_t k = 0; k < j; k++)
		if (sc->children[k]->type == VIP_CONF_OPTION &&
		    strcasecmp(sc->children[k]->name, o->name) == 0)
			return schema_error(s, &o->loc, "%s is given twice in %s", o->name, sc->name), true;
	return false;
}

static void one_check(struct schema *s, const struct vip_conf_node *sc, struct vipd_health_check *c)
{
	const struct vip_conf_node *target = NULL, *expect = NULL;

	*c = (struct vipd_health_check){ .interval_ms = 1000, .timeout_ms = 2000, .fall = 3, .rise = 2 };
	c->name = dup_text(s, sc->instance);
	if (!c->name || schema_src_from_loc(&c->src, &sc->loc) < 0)
		return (void)schema_oom(s, -ENOMEM);
	for (size_t j = 0; j < sc->n_children; j++) {
		const struct vip_conf_node *o = sc->children[j];
		if (o->type != VIP_CONF_OPTION) {
			schema_error(s, &o->loc, "%s: no scope belongs inside Health_Check", o->name);
			continue;
		}
		if (!repeated(s, sc, j))
			check_option(s, c, o, &target, &expect);
	}
	if (!target)
		schema_error(
			s, &sc->loc,
			"Health_Check \"%s\" says nothing to check: give one of connect, pidfile, command",
			c->name);
	else if (expect && c->kind != VIPD_CHECK_CONNECT)
		schema_error(s, &expect->loc, "expect belongs to a connect check, not to %s", target->name);
}

static void health_checks(struct schema *s, const struct vip_conf_node *root)
{
	struct vipd_config *cfg = s->cfg;
	size_t n = 0;

	for (size_t i = 0; i < root->n_children; i++)
		n += root->children[i]->type == VIP_CONF_SCOPE &&
		     strcasecmp(root->children[i]->name, "health_check") == 0;
	if (!n)
		return;
	cfg->checks = calloc(n, sizeof(*cfg->checks));
	if (!cfg->checks)
		return (void)schema_oom(s, -ENOMEM);
	for (size_t i = 0; i < root->n_children && !s->fatal; i++) {
		const struct vip_conf_node *sc = root->children[i];
		if (sc->type != VIP_CONF_SCOPE || strcasecmp(sc->name, "health_check") != 0)
			continue;
		if (!sc->instance || !sc->instance[0]) {
			schema_error(s, &sc->loc, "%s needs a name: %s \"name\" { ... }", sc->name, sc->name);
			continue;
		}
		bool dup = false;
		for (size_t k = 0; k < cfg->n_checks && !dup; k++)
			dup = strcmp(cfg->checks[k].name, sc->instance) == 0;
		if (dup) {
			schema_error(s, &sc->loc, "Health_Check \"%s\" is defined twice", sc->instance);
			continue;
		}
		one_check(s, sc, &cfg->checks[cfg->n_checks++]);
	}
}

static void notify(struct schema *s, const struct vip_conf_node *root)
{
	struct vipd_notify_conf *nc = &s->cfg->notify;
	const struct vip_conf_node *first = NULL;

	for (size_t i = 0; i < root->n_children && !s->fatal; i++) {
		const struct vip_conf_node *sc = root->children[i];
		if (sc->type != VIP_CONF_SCOPE || strcasecmp(sc->name, "notify") != 0)
			continue;
		if (first) {
			schema_error(s, &sc->loc, "Notify is given twice: one hook, one scope");
			continue;
		}
		first = sc;
		nc->timeout_ms = 5000;
		if (schema_src_from_loc(&nc->src, &sc->loc) < 0)
			return (void)schema_oom(s, -ENOMEM);
		bool has_command = false;
		for (size_t j = 0; j < sc->n_children; j++) {
			const struct vip_conf_node *o = sc->children[j];
			const char *text;
			if (o->type != VIP_CONF_OPTION) {
				schema_error(s, &o->loc, "%s: no scope belongs inside Notify", o->name);
				continue;
			}
			if (repeated(s, sc, j) || !(text = schema_scalar(s, o)))
				continue;
			if (strcasecmp(o->name, "command") == 0) {
				has_command = true;
				if (command_line(s, o, text))
					nc->command = dup_text(s, text);
			} else if (strcasecmp(o->name, "timeout") == 0) {
				seconds(s, o, text, &nc->timeout_ms);
			} else {
				schema_error(s, &o->loc, "unknown option '%s' in Notify (command, timeout)",
					     o->name);
			}
		}
		if (!has_command)
			schema_error(s, &sc->loc, "Notify needs a command");
	}
}

void schema_health(struct schema *s, const struct vip_conf_node *root)
{
	health_checks(s, root);
	if (!s->fatal)
		notify(s, root);
}

void schema_health_free(struct vipd_config *c)
{
	for (size_t i = 0; i < c->n_checks; i++) {
		free(c->checks[i].name);
		free(c->checks[i].target);
		free(c->checks[i].expect);
		schema_src_clear(&c->checks[i].src);
	}
	free(c->checks);
	c->checks = NULL;
	c->n_checks = 0;
	free(c->notify.command);
	schema_src_clear(&c->notify.src);
	c->notify = (struct vipd_notify_conf){ 0 };
}

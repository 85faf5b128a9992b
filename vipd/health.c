/* SPDX-License-Identifier: MIT */
/*
 * vipd/health: the schedule, fall and rise, the node's state and its
 * reason, and reload (health.h). The probes are in health-probe.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health-internal.h"
#include "log.h"

static void on_run(struct loop *l, struct loop_timer *t, void *data)
{
	struct hcheck *c = data;

	(void)l;
	(void)t;
	if (c->running)
		return;
	c->running = true;
	c->started_ms = loop_now_ms();
	health_probe_start(c);
}

/* One check's part of the node's reason: "mta (connect ...: refused, 3 of 3)". */
static size_t check_reason(const struct hcheck *c, char *buf, size_t len)
{
	int n;

	if (c->fails)
		n = snprintf(buf, len, "%s (%s, %u of %u)", c->cfg.name, c->last,
			     c->fails < c->cfg.fall ? c->fails : c->cfg.fall, c->cfg.fall);
	else if (c->last[0])
		n = snprintf(buf, len, "%s (passed %u of %u since: %s)", c->cfg.name, c->passes, c->cfg.rise,
			     c->last);
	else
		n = snprintf(buf, len, "%s (starting: passed %u of %u)", c->cfg.name, c->passes, c->cfg.rise);
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

/* Recompute the node's state and reason; tell the caller when either changed or a check did. */
static void node_update(struct vipd_health *h, const struct hcheck *changed)
{
	char reason[sizeof(h->reason)] = "";
	size_t n = 0;
	bool healthy = true;

	for (size_t i = 0; i < h->n; i++) {
		const struct hcheck *c = h->c[i];
		if (c->healthy)
			continue;
		healthy = false;
		if (n + 3 < sizeof(reason)) {
			n += (size_t)snprintf(reason + n, sizeof(reason) - n, "%s", n ? ", " : "");
			n += check_reason(c, reason + n, sizeof(reason) - n);
		}
	}
	bool same = healthy == h->healthy && strcmp(reason, h->reason) == 0;
	h->healthy = healthy;
	snprintf(h->reason, sizeof(h->reason), "%s", reason);
	if ((same && !changed) || !h->changed)
		return;
	struct vipd_health_change ch = {
		.check = changed ? changed->cfg.name : NULL,
		.check_healthy = changed && changed->healthy,
		.text = changed && changed->last[0] ? changed->last : NULL,
		.node_healthy = healthy,
		.reason = h->reason,
	};
	h->changed(h->data, &ch);
}

static void on_result(struct hcheck *c, bool ok, const char *text)
{
	struct vipd_health *h = c->h;
	bool was = c->healthy;
	uint64_t now = loop_now_ms();

	c->running = false;
	c->runs++;
	if (ok) {
		c->fails = 0;
		c->passes++;
		if (!c->healthy && c->passes >= c->cfg.rise) {
			c->healthy = true;
			log_notice("Health check %s passes (%u of %u): healthy", c->cfg.name, c->passes,
				   c->cfg.rise);
		}
	} else {
		c->failures++;
		c->passes = 0;
		c->fails++;
		snprintf(c->last, sizeof(c->last), "%s", text ? text : "failed");
		if (c->healthy && c->fails >= c->cfg.fall) {
			c->healthy = false;
			log_warning("Health check %s failed %u of %u times: unhealthy (%s)", c->cfg.name,
				    c->fails, c->cfg.fall, c->last);
		} else if (c->healthy || c->fails == 1) {
			log_info("Health check %s failed (%u of %u): %s", c->cfg.name, c->fails, c->cfg.fall,
				 c->last);
		}
	}
	/* start to start, never overlapping: a run that took longer than the interval is followed at once */
	uint64_t next = c->started_ms + c->cfg.interval_ms;
	loop_timer_arm_at(c->t_run, next > now ? next : now, 0);
	node_update(h, c->healthy != was ? c : NULL);
}

static void check_free(struct hcheck *c)
{
	if (!c)
		return;
	health_probe_stop(c);
	loop_timer_free(c->t_run);
	loop_timer_free(c->t_deadline);
	free(c->argv);
	free(c->cfg.name);
	free(c->cfg.target);
	free(c->cfg.expect);
	free(c);
}

/* Take the settings of k into c (copies); c's state stays. 0 or -ENOMEM / -EINVAL. */
static int check_set(struct hcheck *c, const struct vipd_health_check *k)
{
	char **argv = NULL;
	char *name = strdup(k->name), *target = strdup(k->target),
	     *expect = k->expect ? strdup(k->expect) : NULL;
	int r = 0;

	if (!name || !target || (k->expect && !expect))
		r = -ENOMEM;
	else if (k->kind == VIPD_CHECK_COMMAND)
		r = vip_cmdline_split(k->target, &argv, NULL, 0);
	if (r < 0) {
		free(name);
		free(target);
		free(expect);
		return r;
	}
	free(c->cfg.name);
	free(c->cfg.target);
	free(c->cfg.expect);
	free(c->argv);
	c->cfg = *k;
	c->cfg.src = (struct vip_conf_src){ 0 }; /* not kept */
	c->cfg.name = name;
	c->cfg.target = target;
	c->cfg.expect = expect;
	c->argv = argv;
	return 0;
}

static int check_new(struct vipd_health *h, const struct vipd_health_check *k, struct hcheck **ret)
{
	struct hcheck *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->h = h;
	c->fd = -1;
	c->healthy = k->initial_healthy;
	r = check_set(c, k);
	if (r == 0)
		r = loop_timer_new(h->loop, on_run, c, &c->t_run);
	if (r < 0) {
		check_free(c);
		return r;
	}
	loop_timer_arm(c->t_run, 0, 0);
	*ret = c;
	return 0;
}

static bool same_settings(const struct hcheck *c, const struct vipd_health_check *k)
{
	return c->cfg.kind == k->kind && strcmp(c->cfg.target, k->target) == 0 &&
	       streq_ptr(c->cfg.expect, k->expect) && c->cfg.interval_ms == k->interval_ms &&
	       c->cfg.timeout_ms == k->timeout_ms && c->cfg.fall == k->fall && c->cfg.rise == k->rise &&
	       c->cfg.initial_healthy == k->initial_healthy;
}

static struct hcheck *find_old(struct vipd_health *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->c[i] && strcmp(h->c[i]->cfg.name, name) == 0)
			return h->c[i];
	return NULL;
}

int vipd_health_reconfigure(struct vipd_health *h, const struct vipd_config *cfg)
{
	struct hcheck **next = calloc(cfg->n_checks + 1, sizeof(*next));
	int r = 0;

	if (!next)
		return -ENOMEM;
	/* first make every new check, so a failure leaves the old set as it was */
	for (size_t i = 0; i < cfg->n_checks && r == 0; i++)
		if (!find_old(h, cfg->checks[i].name))
			r = check_new(h, &cfg->checks[i], &next[i]);
	if (r < 0) {
		for (size_t i = 0; i < cfg->n_checks; i++)
			check_free(next[i]);
		free(next);
		return r;
	}
	for (size_t i = 0; i < cfg->n_checks; i++) {
		struct hcheck *old = next[i] ? NULL : find_old(h, cfg->checks[i].name);
		if (!old)
			continue;
		for (size_t k = 0; k < h->n; k++)
			if (h->c[k] == old)
				h->c[k] = NULL; /* taken over */
		next[i] = old;
		if (same_settings(old, &cfg->checks[i]) || check_set(old, &cfg->checks[i]) < 0)
			continue;
		health_probe_stop(old); /* changed: run at once with the new settings */
		loop_timer_arm(old->t_run, 0, 0);
		log_info("Health check %s changed: it keeps its state (%s) and runs again now", old->cfg.name,
			 old->healthy ? "healthy" : "unhealthy");
	}
	for (size_t k = 0; k < h->n; k++)
		check_free(h->c[k]); /* removed */
	free(h->c);
	h->c = next;
	h->n = cfg->n_checks;
	node_update(h, NULL);
	return 0;
}

int vipd_health_new(struct loop *loop, struct vipd_runner *runner, const struct vipd_config *cfg,
		    vipd_health_fn changed, void *data, struct vipd_health **ret)
{
	struct vipd_health *h = calloc(1, sizeof(*h));
	int r;

	if (!h)
		return -ENOMEM;
	*h = (struct vipd_health){ .result = on_result, .loop = loop, .runner = runner, .healthy = true };
	r = vipd_health_reconfigure(h, cfg);
	if (r < 0) {
		free(h);
		return r;
	}
	h->changed = changed; /* not for the first state: the caller reads it */
	h->data = data;
	*ret = h;
	return 0;
}

void vipd_health_free(struct vipd_health *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++)
		check_free(h->c[i]);
	free(h->c);
	free(h);
}

bool vipd_health_healthy(const struct vipd_health *h)
{
	return !h || h->healthy;
}

const char *vipd_health_reason(const struct vipd_health *h)
{
	return h ? h->reason : "";
}

size_t vipd_health_n(const struct vipd_health *h)
{
	return h ? h->n : 0;
}

int vipd_health_get(const struct vipd_health *h, size_t i, struct vipd_health_info *ret)
{
	if (!h || i >= h->n)
		return -ERANGE;
	const struct hcheck *c = h->c[i];
	*ret = (struct vipd_health_info){
		.name = c->cfg.name,
		.kind = c->cfg.kind,
		.target = c->cfg.target,
		.healthy = c->healthy,
		.fails = c->fails,
		.passes = c->passes,
		.fall = c->cfg.fall,
		.rise = c->cfg.rise,
		.last_failure = c->last,
		.runs = c->runs,
		.failures = c->failures,
	};
	return 0;
}

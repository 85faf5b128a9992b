/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the cluster tests, the simulator and the clmsg fuzzer: build a
 * struct vipd_config by hand (no files), with n DuraVIPs and preferences.
 *
 *   cltest_config(node, n, pref_of, data)  DuraVIP i is cltest_addr(i, n);
 *       pref_of(i, data) names its preferred
 *       node or returns NULL. Binding "b<i>", service "binding:b<i>".
 *   cltest_config_free(cfg)
 *
 * and a sink for vip_cl_proto_drain that keeps a copy of every message:
 *
 *   struct cltest_sink s = { .p = p, .send_result = 0 };
 *   cltest_drain(p, &s, &blocked);   s.msg[i] / s.len[i], s.n_holds, ...
 *   cltest_sink_free(&s);
 */
#ifndef VIP_CLTEST_H
#define VIP_CLTEST_H

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"

/* DuraVIP i of n: 198.51.100.(10+i) when n <= 200, else 198.18.0.0/15 + 1 + i (sorted). */
static inline struct vip_addr cltest_addr(size_t i, size_t n)
{
	struct vip_addr a = { .family = AF_INET };
	uint32_t v = n <= 200 ? 0xc6336400u + 10 + (uint32_t)i : 0xc6120000u + 1 + (uint32_t)i;
	v = htonl(v);
	memcpy(a.bytes, &v, 4);
	return a;
}

/* What a test sink saw. With p set, a release is reported back (local_released) at once. */
struct cltest_sink {
	struct vip_cl_proto *p;
	uint64_t now;
	int send_result; /* what send() answers: 0, -EAGAIN, -EIO ... */
	uint8_t **msg;   /* copies of the messages accepted (send_result 0) */
	size_t *len;
	size_t n_sent, cap;
	size_t n_offered, n_holds, n_releases;
	struct vip_addr last_hold, last_release;
};

static inline int cltest_sink_send(void *data, const uint8_t *m, size_t len)
{
	struct cltest_sink *s = data;

	s->n_offered++;
	if (s->send_result != 0)
		return s->send_result;
	if (s->n_sent == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->msg = realloc(s->msg, s->cap * sizeof(*s->msg));
		s->len = realloc(s->len, s->cap * sizeof(*s->len));
		if (!s->msg || !s->len)
			abort();
	}
	if (!(s->msg[s->n_sent] = malloc(len ? len : 1)))
		abort();
	memcpy(s->msg[s->n_sent], m, len);
	s->len[s->n_sent++] = len;
	return 0;
}

static inline void cltest_sink_hold(void *data, const struct vip_addr *a)
{
	struct cltest_sink *s = data;

	s->n_holds++;
	s->last_hold = *a;
}

static inline void cltest_sink_release(void *data, const struct vip_addr *a)
{
	struct cltest_sink *s = data;

	s->n_releases++;
	s->last_release = *a;
	if (s->p && vip_cl_proto_local_released(s->p, a, s->now) < 0)
		abort();
}

static inline void cltest_sink_free(struct cltest_sink *s)
{
	for (size_t i = 0; i < s->n_sent; i++)
		free(s->msg[i]);
	free(s->msg);
	free(s->len);
	s->msg = NULL;
	s->len = NULL;
	s->n_sent = s->cap = 0;
}

/* Drain p into s. The drain's result. */
static inline int cltest_drain(struct vip_cl_proto *p, struct cltest_sink *s, bool *blocked)
{
	const struct vip_cl_sink k = { .send = cltest_sink_send,
				       .hold = cltest_sink_hold,
				       .release = cltest_sink_release,
				       .data = s };
	return vip_cl_proto_drain(p, &k, blocked);
}

static inline void cltest_config_free(struct vipd_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_duravips; i++) {
		struct vipd_duravip *d = &c->duravips[i];
		free(d->binding);
		for (size_t k = 0; k < d->n_services; k++)
			free(d->services[k]);
		free(d->services);
		free(d->preference);
		free(d->follow);
	}
	free(c->duravips);
	free(c->cluster.nodename);
	free(c->cluster.cluster_group);
	free(c);
}

static inline struct vipd_config *cltest_config(const char *node, size_t n,
						const char *(*pref_of)(size_t i, void *data), void *data)
{
	struct vipd_config *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->cluster.enabled = true;
	c->cluster.nodename = strdup(node);
	c->cluster.cluster_group = strdup("ec_cluster");
	c->cluster.view_mature_time_ms = 5000;
	c->cluster.view_balance_interval_ms = 10000;
	c->cluster.duravip_balance_set_size = 1;
	c->cluster.quorum_policy = VIP_QUORUM_RELEASE;
	c->cluster.duravip_round_timeout_ms = 2000;
	c->duravips = calloc(n + 1, sizeof(*c->duravips));
	if (!c->duravips || !c->cluster.nodename || !c->cluster.cluster_group)
		abort();
	c->n_duravips = n;
	for (size_t i = 0; i < n; i++) {
		struct vipd_duravip *d = &c->duravips[i];
		char b[32];
		d->addr = cltest_addr(i, n);
		d->prefix = 32;
		snprintf(b, sizeof(b), "b%zu", i);
		d->binding = strdup(b);
		d->services = calloc(1, sizeof(char *));
		snprintf(b, sizeof(b), "binding:b%zu", i);
		if (!d->binding || !d->services || !(d->services[0] = strdup(b)))
			abort();
		d->n_services = 1;
		const char *p = pref_of ? pref_of(i, data) : NULL;
		if (p && !(d->preference = strdup(p)))
			abort();
	}
	return c;
}

#endif

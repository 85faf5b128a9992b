/* SPDX-License-Identifier: MIT */
/*
 * vipd/health internals: one check's state, shared by health.c (schedule,
 * fall/rise, reload) and health-probe.c (connect, pidfile, command).
 */
#ifndef VIPD_HEALTH_INTERNAL_H
#define VIPD_HEALTH_INTERNAL_H

#include "health.h"

#define HEALTH_EXPECT_MAX 256
#define HEALTH_OUTPUT_MAX 1024 /* bytes of a command's output kept for the log */

struct hcheck {
	struct vipd_health *h;
	struct vipd_health_check cfg; /* name, target and expect are owned copies */
	char **argv;                  /* command: split once (vip_cmdline_split) */
	bool healthy;
	uint32_t fails, passes; /* consecutive */
	char last[256];         /* the last failure, "" before any */
	uint64_t runs, failures;
	struct loop_timer *t_run;      /* the next run */
	struct loop_timer *t_deadline; /* the timeout of a connect run */
	bool running;
	uint64_t started_ms;
	/* connect */
	int fd; /* -1 when none */
	bool connected;
	char banner[HEALTH_EXPECT_MAX + 1];
	size_t got;
	/* command */
	uint64_t run_id; /* 0 when none */
};

struct vipd_health {
	/* health.c's health_result: the probes report through it (a pointer: health.c calls the probes) */
	void (*result)(struct hcheck *c, bool ok, const char *text);
	struct loop *loop;
	struct vipd_runner *runner;
	vipd_health_fn changed;
	void *data;
	struct hcheck **c;
	size_t n;
	bool healthy;
	char reason[512];
};

/* health-probe.c */
/* Start one run of c (c->running is set by the caller). Ends in health_result(). */
void health_probe_start(struct hcheck *c);
/* Abandon a run in progress: no result comes. */
void health_probe_stop(struct hcheck *c);

/* A run of c ended: passed (ok) or failed with text (the failure, for the log and the reason). */
static inline void health_result(struct hcheck *c, bool ok, const char *text)
{
	c->h->result(c, ok, text);
}

#endif

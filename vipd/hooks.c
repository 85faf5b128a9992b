/* SPDX-License-Identifier: MIT */
/*
 * vipd/hooks: the notify hook's queues (hooks.h). One FIFO per address and
 * one for the node; a FIFO runs its head when nothing of it runs, and
 * starting is done from a timer, so an event raised while the engine
 * plumbs costs it nothing but a copy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"
#include "log.h"

#define NODE_KEY "node"
#define START_PER_TURN 8 /* forks per loop turn, so a failover's hooks do not hold up the loop */
#define OUTPUT_MAX 1024

struct hevent {
	char word[16];              /* acquire, release, or the node state */
	char addr[VIP_ADDR_STRLEN]; /* "" for node events */
	char ifname[32];
};

struct hqueue {
	struct vipd_hooks *h;
	char key[VIP_ADDR_STRLEN]; /* the address, or NODE_KEY */
	struct hevent ev[VIPD_HOOKS_QUEUE_MAX];
	size_t head, n;
	uint64_t run_id;   /* 0: nothing of this queue runs */
	struct hevent cur; /* the event running */
};

struct vipd_hooks {
	struct loop *loop;
	struct vipd_runner *runner;
	char **argv; /* the command split; NULL: no hook */
	size_t argc;
	uint32_t timeout_ms;
	struct hqueue **q;
	size_t n_q;
	size_t rr; /* where the next start scan begins (fairness) */
	struct loop_timer *t_start;
	struct vipd_hooks_stats st;
};

static int set_command(struct vipd_hooks *h, const struct vipd_notify_conf *nc)
{
	char **argv = NULL;
	int n = 0;

	if (nc && nc->command) {
		n = vip_cmdline_split(nc->command, &argv, NULL, 0);
		if (n < 0)
			return n;
	}
	free(h->argv);
	h->argv = argv;
	h->argc = (size_t)n;
	h->timeout_ms = nc && nc->timeout_ms ? nc->timeout_ms : 5000;
	return 0;
}

static void arm(struct vipd_hooks *h)
{
	if (!loop_timer_is_armed(h->t_start))
		loop_timer_arm(h->t_start, 0, 0);
}

/* "acquire 198.51.100.1 eth0" for the log. */
static const char *describe(const struct hevent *e, char *buf, size_t len)
{
	if (e->addr[0])
		snprintf(buf, len, "%s %s %s", e->word, e->addr, e->ifname);
	else
		snprintf(buf, len, "node %s", e->word);
	return buf;
}

static void on_done(void *data, const struct vipd_runner_result *res)
{
	struct hqueue *q = data;
	struct vipd_hooks *h = q->h;
	char what[96], how[160];

	q->run_id = 0;
	h->st.running--;
	h->st.runs++;
	describe(&q->cur, what, sizeof(what));
	if (vipd_runner_result_ok(res)) {
		log_debug("Notify hook `%s` done in %llu ms%s%s", what, (unsigned long long)res->duration_ms,
			  res->output_len ? ": " : "", res->output);
	} else {
		h->st.failures++;
		log_warning("Notify hook `%s` failed: %s%s%s", what,
			    vipd_runner_result_describe(res, how, sizeof(how)),
			    res->output_len ? "; its output: " : "", res->output);
	}
	if (q->n)
		arm(h);
}

/* Start the head of q. False when the runner refused (the event is dropped and counted). */
static void start_one(struct vipd_hooks *h, struct hqueue *q)
{
	const char *argv[VIP_CMDLINE_MAX_ARGS + 4];
	char what[96];
	size_t n = 0;

	q->cur = q->ev[q->head];
	q->head = (q->head + 1) % VIPD_HOOKS_QUEUE_MAX;
	q->n--;
	h->st.queued--;
	for (size_t i = 0; i < h->argc && n < VIP_CMDLINE_MAX_ARGS; i++)
		argv[n++] = h->argv[i];
	argv[n++] = q->cur.addr[0] ? q->cur.word : NODE_KEY;
	if (q->cur.addr[0]) {
		argv[n++] = q->cur.addr;
		argv[n++] = q->cur.ifname[0] ? q->cur.ifname : "-";
	} else {
		argv[n++] = q->cur.word;
	}
	argv[n] = NULL;
	struct vipd_runner_cmd cmd = { .argv = argv, .timeout_ms = h->timeout_ms, .output_max = OUTPUT_MAX };
	int r = vipd_runner_start(h->runner, &cmd, on_done, q, &q->run_id);
	if (r < 0) {
		q->run_id = 0;
		h->st.failures++;
		h->st.runs++;
		log_warning("Notify hook `%s` could not start: %s", describe(&q->cur, what, sizeof(what)),
			    strerror(-r));
		return;
	}
	h->st.running++;
}

static void on_start(struct loop *l, struct loop_timer *t, void *data)
{
	struct vipd_hooks *h = data;
	size_t started = 0;

	(void)l;
	(void)t;
	for (size_t k = 0; k < h->n_q && h->argv; k++) {
		struct hqueue *q = h->q[(h->rr + k) % h->n_q];
		if (q->run_id || !q->n)
			continue;
		if (h->st.running >= VIPD_HOOKS_MAX_RUNNING || started == START_PER_TURN) {
			h->rr = (h->rr + k) % h->n_q; /* go on from here next time */
			if (started == START_PER_TURN)
				arm(h); /* else a run's end arms it */
			return;
		}
		start_one(h, q);
		started++;
	}
}

static struct hqueue *queue_for(struct vipd_hooks *h, const char *key)
{
	for (size_t i = 0; i < h->n_q; i++)
		if (strcmp(h->q[i]->key, key) == 0)
			return h->q[i];
	struct hqueue **nq = realloc(h->q, (h->n_q + 1) * sizeof(*nq));
	if (!nq)
		return NULL;
	h->q = nq;
	struct hqueue *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->h = h;
	snprintf(q->key, sizeof(q->key), "%s", key);
	h->q[h->n_q++] = q;
	return q;
}

static void push(struct vipd_hooks *h, const char *key, const struct hevent *e)
{
	char what[96];
	struct hqueue *q;

	if (!h || !h->argv)
		return;
	q = queue_for(h, key);
	if (!q || q->n == VIPD_HOOKS_QUEUE_MAX) {
		h->st.dropped++;
		log_warning("Notify hook `%s` dropped: %s", describe(e, what, sizeof(what)),
			    q ? "too many waiting for the same address" : "out of memory");
		return;
	}
	q->ev[(q->head + q->n) % VIPD_HOOKS_QUEUE_MAX] = *e;
	q->n++;
	h->st.queued++;
	arm(h);
}

void vipd_hooks_address(struct vipd_hooks *h, bool acquire, const struct vip_addr *a, const char *ifname)
{
	struct hevent e = { 0 };

	snprintf(e.word, sizeof(e.word), "%s", acquire ? "acquire" : "release");
	vip_addr_to_string(a, e.addr, sizeof(e.addr));
	snprintf(e.ifname, sizeof(e.ifname), "%s", ifname && ifname[0] ? ifname : "-");
	push(h, e.addr, &e);
}

void vipd_hooks_node(struct vipd_hooks *h, const char *state)
{
	struct hevent e = { 0 };

	snprintf(e.word, sizeof(e.word), "%s", state);
	push(h, NODE_KEY, &e);
}

static void drop_queued(struct vipd_hooks *h)
{
	for (size_t i = 0; i < h->n_q; i++) {
		h->st.dropped += h->q[i]->n;
		h->st.queued -= h->q[i]->n;
		h->q[i]->n = 0;
	}
}

int vipd_hooks_reconfigure(struct vipd_hooks *h, const struct vipd_notify_conf *nc)
{
	int r = set_command(h, nc);

	if (r < 0)
		return r;
	if (!h->argv && h->st.queued) {
		log_notice("Notify removed: %llu queued hook run%s dropped", (unsigned long long)h->st.queued,
			   h->st.queued == 1 ? "" : "s");
		drop_queued(h);
	}
	return 0;
}

int vipd_hooks_new(struct loop *loop, struct vipd_runner *runner, const struct vipd_notify_conf *nc,
		   struct vipd_hooks **ret)
{
	struct vipd_hooks *h = calloc(1, sizeof(*h));
	int r;

	if (!h)
		return -ENOMEM;
	h->loop = loop;
	h->runner = runner;
	r = set_command(h, nc);
	if (r == 0)
		r = loop_timer_new(loop, on_start, h, &h->t_start);
	if (r < 0) {
		vipd_hooks_free(h);
		return r;
	}
	*ret = h;
	return 0;
}

void vipd_hooks_free(struct vipd_hooks *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n_q; i++) {
		if (h->q[i]->run_id)
			vipd_runner_cancel(h->runner, h->q[i]->run_id);
		free(h->q[i]);
	}
	free(h->q);
	free(h->argv);
	loop_timer_free(h->t_start);
	free(h);
}

void vipd_hooks_get_stats(const struct vipd_hooks *h, struct vipd_hooks_stats *ret)
{
	*ret = h ? h->st : (struct vipd_hooks_stats){ 0 };
}

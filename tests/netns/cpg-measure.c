/* SPDX-License-Identifier: MIT */
/*
 * cpg-measure: how long libcpg/libquorum calls take while corosync is
 * stopped (SIGSTOP), against a real corosync. The numbers behind the worker
 * thread of cluster/backend-cpg-worker.c. Run it as root in the node's
 * namespaces (tools/lab: `lab exec n1 cpg-measure --corosync-pid PID`); it
 * stops and continues that corosync itself, once per call measured:
 *
 *   for each call: fresh connection (cpg + quorum, joined, own view seen),
 *   SIGSTOP, the call in a thread, wait up to --cap-ms, SIGCONT, wait again,
 *   print one line:
 *
 *   CALL name stopped_ms=N|blocked result=RC [after_cont_ms=N]
 *
 * --try-again: no stop; multicast 200-byte messages every 0.2 ms for
 * --seconds and print each streak of CS_ERR_TRY_AGAIN (start, length, calls)
 * and every call slower than 10 ms: run it while another node's corosync
 * joins or leaves.
 *
 *   cpg-measure --corosync-pid PID [--cap-ms MS] [--only NAME]
 *   cpg-measure --try-again [--seconds S]
 *
 * Measured with corosync 3.1.7 / libqb 2.0.6, lab (tools/lab) fast timing,
 * token 150 ms (`lab --prefix cp up 1; lab --prefix cp start-corosync`, then
 * `lab --prefix cp exec n1 build/tests/netns/cpg-measure --corosync-pid
 * $(lab --prefix cp pid n1 corosync) --cap-ms 5000`), corosync stopped:
 *
 *   cpg_mcast_joined 16 B / 64 KiB / 900 KB    returns at once (4 us .. 0.5 ms)
 *   cpg_mcast_joined 3 MB (fragmented)         blocks until SIGCONT
 *   cpg_mcast_joined, 64 B or 1 KiB in a row   278 return at once, the 279th
 *                                              blocks until SIGCONT (asleep:
 *                                              the socket is full)
 *   cpg_mcast_joined, 8 KiB in a row           127 at once, then CS_ERR_TRY_AGAIN
 *                                              (the 1 MiB ring is full), no block
 *   cpg_dispatch (nothing / 100 pending)       4 us / 0.2 ms: never blocks
 *   quorum_dispatch                            15 us: never blocks
 *   quorum_getquorate, cpg_local_get,
 *   cpg_leave, cpg_finalize,
 *   cpg_model_initialize (connect)             block until SIGCONT (> 30 s tried)
 *   quorum_finalize                            70 us: does not block
 *
 * After SIGCONT each blocked call returns within 0.2 .. 7 ms (the 279th
 * multicast after its backlog: 0.9 .. 2.6 s). --try-again on n1 of two nodes
 * while n2's corosync is killed, started, partitioned and healed: no call
 * slower than 10 ms; CS_ERR_TRY_AGAIN only while a node joins or a partition
 * heals, 3 or 4 calls over 2 .. 3 ms each time; none on a node loss.
 */
#include <corosync/cpg.h>
#include <corosync/quorum.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

struct conn {
	cpg_handle_t cpg;
	quorum_handle_t q;
	struct cpg_name group;
	bool in_view;
	size_t delivered;
};

static void on_deliver(cpg_handle_t h, const struct cpg_name *g, uint32_t nodeid, uint32_t pid, void *msg,
		       size_t len)
{
	void *ctx = NULL;
	(void)g, (void)nodeid, (void)pid, (void)msg, (void)len;
	if (cpg_context_get(h, &ctx) == CS_OK && ctx)
		((struct conn *)ctx)->delivered++;
}

static void on_confchg(cpg_handle_t h, const struct cpg_name *g, const struct cpg_address *m, size_t n,
		       const struct cpg_address *l, size_t nl, const struct cpg_address *j, size_t nj)
{
	void *ctx = NULL;
	(void)g, (void)l, (void)nl, (void)j, (void)nj;
	if (cpg_context_get(h, &ctx) != CS_OK || !ctx)
		return;
	for (size_t i = 0; i < n; i++)
		if (m[i].pid == (uint32_t)getpid())
			((struct conn *)ctx)->in_view = true;
}

static void on_quorum(quorum_handle_t h, uint32_t q, uint64_t seq, uint32_t n, uint32_t *l)
{
	(void)h, (void)q, (void)seq, (void)n, (void)l;
}

static int conn_open(struct conn *c)
{
	cpg_model_v1_data_t model = { .model = CPG_MODEL_V1,
				      .cpg_deliver_fn = on_deliver,
				      .cpg_confchg_fn = on_confchg };
	quorum_callbacks_t qcb = { .quorum_notify_fn = on_quorum };
	uint32_t type;
	int fd;

	memset(c, 0, sizeof(*c));
	strcpy(c->group.value, "cpmeasure");
	c->group.length = (uint32_t)strlen(c->group.value);
	if (cpg_model_initialize(&c->cpg, CPG_MODEL_V1, (cpg_model_data_t *)&model, c) != CS_OK)
		return -1;
	if (quorum_initialize(&c->q, &qcb, &type) != CS_OK)
		return -1;
	quorum_trackstart(c->q, CS_TRACK_CHANGES);
	if (cpg_join(c->cpg, &c->group) != CS_OK)
		return -1;
	cpg_fd_get(c->cpg, &fd);
	for (int k = 0; k < 100 && !c->in_view; k++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		poll(&p, 1, 50);
		cpg_dispatch(c->cpg, CS_DISPATCH_ALL);
	}
	return c->in_view ? 0 : -1;
}

/* ---- the calls ---- */

struct job {
	struct conn *c;
	const char *name;
	size_t len; /* mcast: message size */
	volatile bool done;
	cs_error_t rc;
	uint64_t t0, t1;
	/* fill */
	volatile size_t sent, again, sent_at_cap;
	uint64_t max_call_us;
	size_t fill_len;
};

static cs_error_t mcast(struct conn *c, size_t len)
{
	static uint8_t buf[4 << 20];
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	return cpg_mcast_joined(c->cpg, CPG_TYPE_AGREED, &iov, 1);
}

/* 1 KiB messages until one fails or 200000 went out. */
static cs_error_t fill(struct job *j)
{
	for (size_t i = 0; i < 200000; i++) {
		uint64_t t = now_us();
		cs_error_t e = mcast(j->c, j->fill_len);
		t = now_us() - t;
		if (t > j->max_call_us)
			j->max_call_us = t;
		if (e == CS_ERR_TRY_AGAIN) {
			if (++j->again >= 50)
				return e;
			usleep(1000);
			continue;
		}
		if (e != CS_OK)
			return e;
		j->sent++;
	}
	return CS_OK;
}

static void *run_job(void *data)
{
	struct job *j = data;
	struct conn *c = j->c;
	unsigned int nodeid;
	int q;

	j->t0 = now_us();
	if (strncmp(j->name, "mcast-", 6) == 0 && strncmp(j->name, "mcast-fill", 10) != 0)
		j->rc = mcast(c, j->len);
	else if (strncmp(j->name, "mcast-fill", 10) == 0)
		j->rc = fill(j);
	else if (strncmp(j->name, "cpg_dispatch", 12) == 0)
		j->rc = cpg_dispatch(c->cpg, CS_DISPATCH_ALL);
	else if (strcmp(j->name, "quorum_dispatch") == 0)
		j->rc = quorum_dispatch(c->q, CS_DISPATCH_ALL);
	else if (strcmp(j->name, "quorum_getquorate") == 0)
		j->rc = quorum_getquorate(c->q, &q);
	else if (strcmp(j->name, "cpg_local_get") == 0)
		j->rc = cpg_local_get(c->cpg, &nodeid);
	else if (strcmp(j->name, "cpg_finalize") == 0)
		j->rc = cpg_finalize(c->cpg);
	else if (strcmp(j->name, "quorum_finalize") == 0)
		j->rc = quorum_finalize(c->q);
	else if (strcmp(j->name, "cpg_leave") == 0)
		j->rc = cpg_leave(c->cpg, &c->group);
	else if (strcmp(j->name, "cpg_model_initialize") == 0) {
		struct conn c2;
		j->rc = conn_open(&c2) == 0 ? CS_OK : CS_ERR_LIBRARY;
	}
	j->t1 = now_us();
	j->done = true;
	return NULL;
}

static bool wait_done(struct job *j, unsigned ms)
{
	uint64_t end = now_us() + (uint64_t)ms * 1000;
	while (!j->done && now_us() < end)
		usleep(1000);
	return j->done;
}

static int stopped(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return p && p[2] == 'T';
}

static void measure(pid_t pid, const char *name, size_t len, unsigned cap_ms)
{
	struct conn c;
	struct job j = { .c = &c, .name = name, .len = len, .fill_len = len ? len : 1024 };
	pthread_t t;

	if (conn_open(&c) < 0) {
		printf("CALL %s setup-failed\n", name);
		return;
	}
	if (strcmp(name, "cpg_dispatch-pending") == 0) {
		/* delivered to us but not yet dispatched when corosync stops */
		for (int k = 0; k < 100; k++)
			mcast(&c, 200);
		usleep(300000);
	}
	kill(pid, SIGSTOP);
	for (int k = 0; k < 200 && stopped(pid) != 1; k++)
		usleep(1000);
	uint64_t t_stop = now_us();
	pthread_create(&t, NULL, run_job, &j);
	bool in_time = wait_done(&j, cap_ms);
	uint64_t t_cont = now_us();
	j.sent_at_cap = j.sent;
	kill(pid, SIGCONT);
	printf("CALL %s", name);
	if (len)
		printf(" len=%zu", len);
	if (in_time)
		printf(" stopped_ms=%.3f result=%d", (double)(j.t1 - j.t0) / 1000, j.rc);
	else
		printf(" blocked>%ums", cap_ms);
	if (strcmp(name, "cpg_dispatch-pending") == 0)
		printf(" delivered=%zu", c.delivered);
	if (!in_time && wait_done(&j, 10000))
		printf(" result=%d returned_after_cont_ms=%.3f", j.rc, (double)(j.t1 - t_cont) / 1000);
	else if (!in_time)
		printf(" still-blocked-10s-after-cont");
	if (strncmp(name, "mcast-fill", 10) == 0)
		printf(" fill_len=%zu sent_before_cont=%zu sent=%zu try_again=%zu max_call_ms=%.3f",
		       j.fill_len, j.sent_at_cap, j.sent, j.again, (double)j.max_call_us / 1000);
	printf(" (stop->call %.1f ms)\n", (double)(j.t0 - t_stop) / 1000);
	fflush(stdout);
	if (j.done) {
		pthread_join(t, NULL);
		if (strcmp(name, "cpg_finalize") != 0)
			cpg_finalize(c.cpg);
		if (strcmp(name, "quorum_finalize") != 0)
			quorum_finalize(c.q);
	} else {
		pthread_detach(t); /* leaked on purpose */
	}
	usleep(200000);
}

static int try_again(unsigned seconds)
{
	struct conn c;
	uint64_t end = now_us() + (uint64_t)seconds * 1000000, streak0 = 0, start = now_us();
	size_t streak = 0, ok = 0, again = 0;
	int fd;

	if (conn_open(&c) < 0)
		return 1;
	cpg_fd_get(c.cpg, &fd);
	while (now_us() < end) {
		uint64_t t = now_us();
		cs_error_t e = mcast(&c, 200);
		uint64_t d = now_us() - t;
		if (d > 10000)
			printf("SLOW t=%.3f s call_ms=%.3f result=%d\n", (double)(t - start) / 1e6,
			       (double)d / 1000, e);
		if (e == CS_ERR_TRY_AGAIN) {
			if (!streak++)
				streak0 = t;
			again++;
		} else {
			if (streak)
				printf("TRY_AGAIN t=%.3f s for %.1f ms (%zu calls)\n",
				       (double)(streak0 - start) / 1e6, (double)(t - streak0) / 1000, streak);
			streak = 0;
			if (e == CS_OK)
				ok++;
			else
				printf("ERROR t=%.3f s result=%d\n", (double)(t - start) / 1e6, e);
		}
		fflush(stdout);
		cpg_dispatch(c.cpg, CS_DISPATCH_ALL);
		usleep(200);
	}
	printf("DONE sent=%zu try_again=%zu delivered=%zu\n", ok, again, c.delivered);
	cpg_finalize(c.cpg);
	quorum_finalize(c.q);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "corosync-pid", required_argument, NULL, 'p' }, { "cap-ms", required_argument, NULL, 'c' },
		{ "only", required_argument, NULL, 'o' },         { "try-again", no_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 's' },      { 0 },
	};
	static const struct {
		const char *name;
		size_t len;
	} calls[] = {
		{ "mcast-small", 16 },
		{ "mcast-large", 65536 },
		{ "mcast-large", 900000 },
		{ "mcast-large", 3000000 },
		{ "mcast-fill", 0 },
		{ "mcast-fill-64", 64 },
		{ "mcast-fill-8k", 8192 },
		{ "cpg_dispatch", 0 },
		{ "cpg_dispatch-pending", 0 },
		{ "quorum_dispatch", 0 },
		{ "quorum_getquorate", 0 },
		{ "cpg_local_get", 0 },
		{ "cpg_leave", 0 },
		{ "cpg_finalize", 0 },
		{ "quorum_finalize", 0 },
		{ "cpg_model_initialize", 0 },
	};
	pid_t pid = 0;
	unsigned cap = 5000, seconds = 20;
	const char *only = NULL;
	bool ta = false;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pid = (pid_t)atoi(optarg);
			break;
		case 'c':
			cap = (unsigned)atoi(optarg);
			break;
		case 'o':
			only = optarg;
			break;
		case 't':
			ta = true;
			break;
		case 's':
			seconds = (unsigned)atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (ta)
		return try_again(seconds);
	if (pid <= 0) {
		fprintf(stderr, "usage: cpg-measure --corosync-pid PID [--cap-ms MS] [--only NAME]\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (!only || strcmp(only, calls[i].name) == 0)
			measure(pid, calls[i].name, calls[i].len, cap);
	return 0;
}

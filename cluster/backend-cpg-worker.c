/* SPDX-License-Identifier: MIT */
/*
 * The corosync backend's worker thread (see backend-cpg.h): every libcpg and
 * libquorum request that waits for corosync runs here, so a stopped or hung
 * corosync stalls this thread and never vipd's event loop.
 *
 * Life cycle: vip_cl_cpg_worker_start() creates the thread, which connects
 * and then serves the FIFO; the caller waits a bounded time for the connect.
 * vip_cl_cpg_worker_stop() lets it drain the FIFO and finalize, waiting a
 * bounded time; a worker still stuck in corosync then is "abandoned": it is
 * detached, drops what is queued once corosync lets it go, finalizes, and
 * frees the shared state itself (a reference count of two: caller and
 * worker). An abandoned worker never writes to the caller's eventfd again
 * (it is closed under the mutex) and never calls back. Until corosync
 * answers or dies, one thread and its connection stay behind: that is the
 * price of a free() that cannot hang.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "backend-cpg.h"
#include "cluster-internal.h"

#define CONNECT_PENDING 1

enum wcmd_type { WCMD_JOIN, WCMD_SEND, WCMD_LEAVE };

struct wcmd {
	struct wcmd *next;
	enum wcmd_type type;
	bool unbounded; /* not counted against the bounds */
	size_t len;
	uint8_t data[];
};

struct vip_cl_cpg_worker {
	pthread_mutex_t mu;
	pthread_cond_t wake; /* the worker: work to do, stop */
	pthread_cond_t done; /* the caller: connected, exited */
	pthread_t thread;
	int efd;       /* the caller's eventfd; -1 once the caller let go */
	int call_tfd;  /* fires when a request has been outstanding timeout_ms */
	unsigned refs; /* caller + worker */

	cpg_model_v1_data_t model;
	quorum_callbacks_t qcb;
	bool no_quorum; /* started without quorum callbacks: no quorum connection, always quorate */
	void *context;
	struct vip_cl_cpg_conn conn;
	int connect_result; /* CONNECT_PENDING, 0 or -errno */
	struct cpg_name group;

	struct wcmd *head, *tail;
	size_t n, bytes; /* bounded commands queued, and their bytes */
	size_t n_all;
	bool refused;      /* a send was refused: tell the caller when there is room */
	uint64_t retry_at; /* the head is retried then (CS_ERR_TRY_AGAIN) */
	uint32_t retry_ms;

	uint32_t timeout_ms, probe_ms;
	uint64_t last_probe;
	struct vip_cl_cpg_worker_status st;
	bool stopping, abandoned, exited;
};

uint64_t vip_cl_cpg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int vip_cl_cpg_errno(cs_error_t e)
{
	switch (e) {
	case CS_OK:
		return 0;
	case CS_ERR_TRY_AGAIN:
	case CS_ERR_QUEUE_FULL:
		return -EAGAIN;
	case CS_ERR_NO_MEMORY:
		return -ENOMEM;
	case CS_ERR_TOO_BIG:
		return -EMSGSIZE;
	case CS_ERR_ACCESS:
	case CS_ERR_SECURITY:
		return -EACCES;
	case CS_ERR_EXIST:
		return -EALREADY;
	case CS_ERR_NOT_EXIST:
		return -ENOENT;
	case CS_ERR_INVALID_PARAM:
	case CS_ERR_NAME_TOO_LONG:
		return -EINVAL;
	case CS_ERR_LIBRARY:
	case CS_ERR_BAD_HANDLE:
		return -ECONNRESET;
	default:
		return -EIO;
	}
}

static void notify_locked(struct vip_cl_cpg_worker *w)
{
	uint64_t one = 1;

	/* A full counter still leaves the fd readable: nothing to do on error. */
	if (w->efd >= 0 && write(w->efd, &one, sizeof(one)) < 0)
		return;
}

static void timed_wait(pthread_cond_t *c, pthread_mutex_t *mu, uint64_t until_ms)
{
	struct timespec ts = { .tv_sec = (time_t)(until_ms / 1000),
			       .tv_nsec = (long)(until_ms % 1000) * 1000000L };

	pthread_cond_timedwait(c, mu, &ts);
}

static void arm_call_timer(struct vip_cl_cpg_worker *w, uint32_t ms)
{
	struct itimerspec its = { .it_value = { .tv_sec = ms / 1000,
						.tv_nsec = (long)(ms % 1000) * 1000000L } };

	(void)timerfd_settime(w->call_tfd, 0, &its, NULL); /* ms 0: off */
}

/*
 * Mark a request to corosync as outstanding; the loop thread's watchdog
 * reads it when the call timer fires, just past the timeout.
 */
static void begin_call(struct vip_cl_cpg_worker *w, const char *name)
{
	uint64_t now = vip_cl_cpg_now_ms();

	pthread_mutex_lock(&w->mu);
	w->st.call_since = now ? now : 1;
	w->st.call = name;
	if (w->timeout_ms)
		arm_call_timer(w, w->timeout_ms + 1);
	pthread_mutex_unlock(&w->mu);
}

/* ... and answered: a slow answer wakes the loop so it sees corosync alive at once. */
static void end_call(struct vip_cl_cpg_worker *w)
{
	uint64_t now = vip_cl_cpg_now_ms();

	pthread_mutex_lock(&w->mu);
	if (w->timeout_ms) {
		arm_call_timer(w, 0);
		if (now - w->st.call_since > w->timeout_ms)
			w->st.stall_end = now;
		if (now - w->st.call_since >= w->probe_ms)
			notify_locked(w);
	}
	w->st.call_since = 0;
	w->st.call = NULL;
	pthread_mutex_unlock(&w->mu);
}

static int connect_quorum(struct vip_cl_cpg_worker *w)
{
	struct vip_cl_cpg_conn *c = &w->conn;
	uint32_t type = 0;
	int q = 0;
	cs_error_t e;

	begin_call(w, "quorum_initialize");
	e = quorum_initialize(&c->quorum, &w->qcb, &type);
	end_call(w);
	if (e != CS_OK)
		return vip_cl_cpg_errno(e);
	c->have_quorum = true;
	quorum_context_set(c->quorum, w->context);
	c->quorum_provider = type == QUORUM_SET;
	if (!c->quorum_provider) {
		c->quorate = true;
		return 0;
	}
	begin_call(w, "quorum_getquorate");
	e = quorum_getquorate(c->quorum, &q);
	if (e == CS_OK)
		e = quorum_trackstart(c->quorum, CS_TRACK_CHANGES);
	end_call(w);
	if (e == CS_OK)
		e = quorum_fd_get(c->quorum, &c->quorum_fd);
	c->quorate = q != 0;
	return vip_cl_cpg_errno(e);
}

static int do_connect(struct vip_cl_cpg_worker *w)
{
	struct vip_cl_cpg_conn *c = &w->conn;
	cs_error_t e;

	begin_call(w, "cpg_model_initialize");
	e = cpg_model_initialize(&c->cpg, CPG_MODEL_V1, (cpg_model_data_t *)&w->model, w->context);
	end_call(w);
	if (e != CS_OK)
		return e == CS_ERR_LIBRARY ? -ECONNREFUSED : vip_cl_cpg_errno(e);
	c->have_cpg = true;
	begin_call(w, "cpg_local_get");
	e = cpg_local_get(c->cpg, &c->nodeid);
	end_call(w);
	if (e == CS_OK)
		e = cpg_fd_get(c->cpg, &c->cpg_fd);
	if (e != CS_OK)
		return vip_cl_cpg_errno(e);
	if (w->no_quorum) {
		c->quorate = true;
		return 0;
	}
	return connect_quorum(w);
}

static cs_error_t run_cmd(struct vip_cl_cpg_worker *w, const struct wcmd *cmd)
{
	struct iovec iov = { .iov_base = (void *)cmd->data, .iov_len = cmd->len };
	cs_error_t e;

	switch (cmd->type) {
	case WCMD_JOIN:
		begin_call(w, "cpg_join");
		e = cpg_join(w->conn.cpg, (const struct cpg_name *)cmd->data);
		break;
	case WCMD_LEAVE:
		begin_call(w, "cpg_leave");
		e = cpg_leave(w->conn.cpg, &w->group);
		break;
	default:
		begin_call(w, "cpg_mcast_joined");
		e = cpg_mcast_joined(w->conn.cpg, CPG_TYPE_AGREED, &iov, 1);
		break;
	}
	end_call(w);
	return e;
}

static void pop_locked(struct vip_cl_cpg_worker *w)
{
	struct wcmd *cmd = w->head;

	w->head = cmd->next;
	if (!w->head)
		w->tail = NULL;
	if (!cmd->unbounded) {
		w->n--;
		w->bytes -= cmd->len;
	}
	w->n_all--;
	free(cmd);
}

/* The head ran with result e (lock held). */
static void cmd_done_locked(struct vip_cl_cpg_worker *w, cs_error_t e)
{
	if (e == CS_ERR_TRY_AGAIN) {
		/* Keep it at the head: order matters more than latency. */
		w->st.retries++;
		w->retry_ms = w->retry_ms ? w->retry_ms * 2 : VIP_CL_CPG_RETRY_FIRST_MS;
		if (w->retry_ms > VIP_CL_CPG_RETRY_MAX_MS)
			w->retry_ms = VIP_CL_CPG_RETRY_MAX_MS;
		w->retry_at = vip_cl_cpg_now_ms() + w->retry_ms;
		return;
	}
	w->retry_ms = 0;
	w->retry_at = 0;
	if (e != CS_OK) {
		/*
		 * Any other refusal is fatal: a message the group never sees
		 * would leave members waiting for it, so the backend dies and
		 * the daemon reconnects into a fresh view and round.
		 */
		w->st.fatal = vip_cl_cpg_errno(e);
		if (w->st.fatal == -EAGAIN || w->st.fatal == 0)
			w->st.fatal = -EIO;
		notify_locked(w);
		return;
	}
	if (w->head->type == WCMD_SEND)
		w->st.sent++;
	pop_locked(w);
	if (w->refused) {
		w->refused = false;
		notify_locked(w);
	}
}

static void probe(struct vip_cl_cpg_worker *w)
{
	unsigned int nodeid = 0;
	cs_error_t e;

	begin_call(w, "cpg_local_get");
	e = cpg_local_get(w->conn.cpg, &nodeid);
	end_call(w);
	pthread_mutex_lock(&w->mu);
	w->last_probe = vip_cl_cpg_now_ms();
	w->st.probes++;
	if (e != CS_OK && e != CS_ERR_TRY_AGAIN && !w->st.fatal) {
		w->st.fatal = vip_cl_cpg_errno(e);
		notify_locked(w);
	}
	pthread_mutex_unlock(&w->mu);
}

static bool probe_due_locked(const struct vip_cl_cpg_worker *w, uint64_t now)
{
	return w->probe_ms && now >= w->last_probe + w->probe_ms;
}

/* Serve the FIFO until stopped (drained) or abandoned. */
static void serve(struct vip_cl_cpg_worker *w)
{
	pthread_mutex_lock(&w->mu);
	while (!w->abandoned) {
		uint64_t now = vip_cl_cpg_now_ms(), until = UINT64_MAX;

		if (w->st.fatal) {
			/* Nothing more to ask corosync: wait for stop(). */
			if (w->stopping)
				break;
			pthread_cond_wait(&w->wake, &w->mu);
			continue;
		}
		if (probe_due_locked(w, now)) {
			pthread_mutex_unlock(&w->mu);
			probe(w);
			pthread_mutex_lock(&w->mu);
			continue;
		}
		if (w->head && now >= w->retry_at) {
			struct wcmd *cmd = w->head;

			pthread_mutex_unlock(&w->mu);
			cs_error_t e = run_cmd(w, cmd); /* only the worker pops: cmd stays valid */
			pthread_mutex_lock(&w->mu);
			if (!w->abandoned)
				cmd_done_locked(w, e);
			continue;
		}
		if (!w->head && w->stopping)
			break;
		if (w->head)
			until = w->retry_at;
		if (w->probe_ms && w->last_probe + w->probe_ms < until)
			until = w->last_probe + w->probe_ms;
		if (until == UINT64_MAX)
			pthread_cond_wait(&w->wake, &w->mu);
		else
			timed_wait(&w->wake, &w->mu, until);
	}
	pthread_mutex_unlock(&w->mu);
}

static void destroy(struct vip_cl_cpg_worker *w)
{
	while (w->head)
		pop_locked(w);
	pthread_cond_destroy(&w->wake);
	pthread_cond_destroy(&w->done);
	pthread_mutex_destroy(&w->mu);
	if (w->call_tfd >= 0)
		close(w->call_tfd);
	free(w);
}

static void *worker_main(void *data)
{
	struct vip_cl_cpg_worker *w = data;
	int r = do_connect(w);
	bool last;

	pthread_mutex_lock(&w->mu);
	w->connect_result = r;
	pthread_cond_broadcast(&w->done);
	pthread_mutex_unlock(&w->mu);
	if (r == 0)
		serve(w);
	/* Finalize without the lock: it may hang as long as corosync does. */
	if (w->conn.have_cpg) {
		begin_call(w, "cpg_finalize");
		cpg_finalize(w->conn.cpg);
		end_call(w);
	}
	if (w->conn.have_quorum)
		quorum_finalize(w->conn.quorum);
	pthread_mutex_lock(&w->mu);
	w->exited = true;
	pthread_cond_broadcast(&w->done);
	last = --w->refs == 0;
	pthread_mutex_unlock(&w->mu);
	if (last)
		destroy(w);
	return NULL;
}

static int worker_new(struct vip_cl_cpg_worker **ret)
{
	struct vip_cl_cpg_worker *w = calloc(1, sizeof(*w));
	pthread_condattr_t ca;

	if (!w)
		return -ENOMEM;
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->call_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (w->efd < 0 || w->call_tfd < 0) {
		int r = negerrno();
		if (w->efd >= 0)
			close(w->efd);
		if (w->call_tfd >= 0)
			close(w->call_tfd);
		free(w);
		return r;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &ca);
	pthread_cond_init(&w->done, &ca);
	pthread_condattr_destroy(&ca);
	w->refs = 2;
	w->connect_result = CONNECT_PENDING;
	w->conn.cpg_fd = w->conn.quorum_fd = -1;
	*ret = w;
	return 0;
}

int vip_cl_cpg_worker_start(const cpg_model_v1_data_t *model, const quorum_callbacks_t *qcb, void *context,
			    struct vip_cl_cpg_worker **ret, struct vip_cl_cpg_conn *conn)
{
	struct vip_cl_cpg_worker *w;
	sigset_t all, old;
	int r = worker_new(&w);

	if (r < 0)
		return r;
	w->model = *model;
	if (qcb)
		w->qcb = *qcb;
	w->no_quorum = !qcb;
	w->context = context;
	/* Signals belong to the loop's signalfd: the worker must never take one. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		close(w->efd);
		w->head = NULL;
		destroy(w);
		return r;
	}
	uint64_t until = vip_cl_cpg_now_ms() + VIP_CL_CPG_CONNECT_WAIT_MS;
	pthread_mutex_lock(&w->mu);
	while (w->connect_result == CONNECT_PENDING && vip_cl_cpg_now_ms() < until)
		timed_wait(&w->done, &w->mu, until);
	r = w->connect_result == CONNECT_PENDING ? -ETIMEDOUT : w->connect_result;
	if (r == 0)
		*conn = w->conn;
	pthread_mutex_unlock(&w->mu);
	if (r < 0) {
		vip_cl_cpg_worker_stop(w, r == -ETIMEDOUT ? 0 : VIP_CL_CPG_FREE_WAIT_MS);
		return r;
	}
	*ret = w;
	return 0;
}

void vip_cl_cpg_worker_stop(struct vip_cl_cpg_worker *w, unsigned wait_ms)
{
	uint64_t until = vip_cl_cpg_now_ms() + wait_ms;
	pthread_t t;
	bool exited, last;

	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	pthread_cond_broadcast(&w->wake);
	while (!w->exited && vip_cl_cpg_now_ms() < until)
		timed_wait(&w->done, &w->mu, until);
	exited = w->exited;
	if (!exited) {
		w->abandoned = true;
		pthread_cond_broadcast(&w->wake);
	}
	close(w->efd);
	w->efd = -1;
	t = w->thread;
	last = --w->refs == 0;
	pthread_mutex_unlock(&w->mu);
	if (exited)
		pthread_join(t, NULL);
	else
		pthread_detach(t);
	if (last)
		destroy(w);
}

int vip_cl_cpg_worker_fd(struct vip_cl_cpg_worker *w)
{
	return w->efd;
}

int vip_cl_cpg_worker_timer_fd(struct vip_cl_cpg_worker *w)
{
	return w->call_tfd;
}

static void drain(int fd)
{
	uint64_t v;
	ssize_t r = read(fd, &v, sizeof(v)); /* -EAGAIN: nothing was pending */

	(void)r;
}

void vip_cl_cpg_worker_ack(struct vip_cl_cpg_worker *w)
{
	drain(w->efd);
	drain(w->call_tfd);
}

void vip_cl_cpg_worker_status(struct vip_cl_cpg_worker *w, struct vip_cl_cpg_worker_status *ret)
{
	pthread_mutex_lock(&w->mu);
	*ret = w->st;
	ret->queued = w->n_all;
	pthread_mutex_unlock(&w->mu);
}

static int queue(struct vip_cl_cpg_worker *w, enum wcmd_type type, const void *data, size_t len,
		 bool unbounded)
{
	struct wcmd *cmd = malloc(sizeof(*cmd) + len);

	if (!cmd)
		return -ENOMEM;
	*cmd = (struct wcmd){ .type = type, .unbounded = unbounded, .len = len };
	if (len)
		memcpy(cmd->data, data, len);
	pthread_mutex_lock(&w->mu);
	if (!unbounded && (w->n >= VIP_CL_CPG_QUEUE_MAX || w->bytes + len > VIP_CL_CPG_QUEUE_BYTES)) {
		w->refused = true;
		pthread_mutex_unlock(&w->mu);
		free(cmd);
		return -EAGAIN;
	}
	if (type == WCMD_JOIN)
		w->group = *(const struct cpg_name *)data;
	if (w->tail)
		w->tail->next = cmd;
	else
		w->head = cmd;
	w->tail = cmd;
	if (!unbounded) {
		w->n++;
		w->bytes += len;
	}
	w->n_all++;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

int vip_cl_cpg_worker_join(struct vip_cl_cpg_worker *w, const struct cpg_name *group)
{
	return queue(w, WCMD_JOIN, group, sizeof(*group), true);
}

int vip_cl_cpg_worker_leave(struct vip_cl_cpg_worker *w)
{
	return queue(w, WCMD_LEAVE, NULL, 0, true);
}

int vip_cl_cpg_worker_send(struct vip_cl_cpg_worker *w, const void *data, size_t len, bool unbounded)
{
	if (len > VIP_CL_CPG_QUEUE_BYTES)
		return -EMSGSIZE;
	return queue(w, WCMD_SEND, data, len, unbounded);
}

void vip_cl_cpg_worker_set_timeout(struct vip_cl_cpg_worker *w, uint32_t timeout_ms)
{
	pthread_mutex_lock(&w->mu);
	w->timeout_ms = timeout_ms;
	w->probe_ms = timeout_ms / 3 ? timeout_ms / 3 : timeout_ms;
	w->last_probe = vip_cl_cpg_now_ms();
	if (!timeout_ms)
		arm_call_timer(w, 0);
	else if (w->st.call_since) { /* a call already in progress: judge it from its start */
		uint64_t due = w->st.call_since + timeout_ms + 1;
		arm_call_timer(w, due > w->last_probe ? (uint32_t)(due - w->last_probe) : 1);
	}
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->mu);
}

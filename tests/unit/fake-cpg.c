/* SPDX-License-Identifier: MIT */
/* The fake libcpg/libquorum and the tests' loop side: see fake-cpg.h. */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster.h"
#include "fake-cpg.h"

struct fake_cpg fk;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_t loop_thread;

uint64_t fake_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void fake_reset(void)
{
	pthread_mutex_lock(&mu);
	memset(&fk, 0, sizeof(fk));
	fk.init_err = fk.join_err = fk.dispatch_err = fk.mcast_err = CS_OK;
	fk.qtype = QUORUM_SET;
	fk.cpg_fd = fk.q_fd = -1;
	loop_thread = pthread_self();
	pthread_mutex_unlock(&mu);
}

void fake_lock(void)
{
	pthread_mutex_lock(&mu);
}

void fake_unlock(void)
{
	pthread_mutex_unlock(&mu);
}

void fake_release(bool *flag)
{
	pthread_mutex_lock(&mu);
	*flag = false;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

bool fake_wait(bool (*pred)(void), unsigned ms)
{
	uint64_t end = fake_now_ms() + ms;
	bool ok;

	for (;;) {
		pthread_mutex_lock(&mu);
		ok = pred();
		pthread_mutex_unlock(&mu);
		if (ok || fake_now_ms() >= end)
			return ok;
		usleep(1000);
	}
}

struct fake_sent fake_sent_get(size_t i)
{
	struct fake_sent s = { 0 };
	pthread_mutex_lock(&mu);
	if (i < fk.n_sent)
		s = fk.sent[i];
	pthread_mutex_unlock(&mu);
	return s;
}

size_t fake_n_sent(void)
{
	pthread_mutex_lock(&mu);
	size_t n = fk.n_sent;
	pthread_mutex_unlock(&mu);
	return n;
}

/* A call that waits for corosync: note the thread, block while *flag (lock held). */
static void blocking_call(bool *flag, bool *in)
{
	uint64_t end = fake_now_ms() + FAKE_BLOCK_CAP_MS;

	if (pthread_equal(pthread_self(), loop_thread))
		fk.on_loop_thread = true;
	if (in)
		*in = true;
	while (flag && *flag && fake_now_ms() < end) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 5000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&cv, &mu, &ts);
	}
	if (in)
		*in = false;
}

cs_error_t __wrap_cpg_model_initialize(cpg_handle_t *h, cpg_model_t model, cpg_model_data_t *d,
				       void *context);
cs_error_t __wrap_cpg_finalize(cpg_handle_t h);
cs_error_t __wrap_cpg_fd_get(cpg_handle_t h, int *fd);
cs_error_t __wrap_cpg_local_get(cpg_handle_t h, unsigned int *nodeid);
cs_error_t __wrap_cpg_context_get(cpg_handle_t h, void **ctx);
cs_error_t __wrap_cpg_join(cpg_handle_t h, const struct cpg_name *g);
cs_error_t __wrap_cpg_leave(cpg_handle_t h, const struct cpg_name *g);
cs_error_t __wrap_cpg_mcast_joined(cpg_handle_t h, cpg_guarantee_t g, const struct iovec *iov,
				   unsigned int n);
cs_error_t __wrap_quorum_initialize(quorum_handle_t *h, quorum_callbacks_t *cb, uint32_t *type);
cs_error_t __wrap_quorum_finalize(quorum_handle_t h);
cs_error_t __wrap_quorum_context_set(quorum_handle_t h, const void *ctx);
cs_error_t __wrap_quorum_context_get(quorum_handle_t h, const void **ctx);
cs_error_t __wrap_quorum_getquorate(quorum_handle_t h, int *q);
cs_error_t __wrap_quorum_trackstart(quorum_handle_t h, unsigned int flags);
cs_error_t __wrap_quorum_fd_get(quorum_handle_t h, int *fd);

cs_error_t __wrap_cpg_model_initialize(cpg_handle_t *h, cpg_model_t model, cpg_model_data_t *d, void *context)
{
	cs_error_t e;

	pthread_mutex_lock(&mu);
	blocking_call(&fk.block_init, &fk.in_init);
	e = fk.init_err;
	if (e == CS_OK && model == CPG_MODEL_V1) {
		fk.model = *(cpg_model_v1_data_t *)d;
		fk.ctx = context;
		fk.cpg_fd = eventfd(0, EFD_NONBLOCK);
		*h = 1;
	} else if (e == CS_OK) {
		e = CS_ERR_INVALID_PARAM;
	}
	pthread_mutex_unlock(&mu);
	return e;
}

cs_error_t __wrap_cpg_finalize(_unused_ cpg_handle_t h)
{
	pthread_mutex_lock(&mu);
	blocking_call(&fk.block_finalize, NULL);
	close(fk.cpg_fd);
	fk.finalized++;
	pthread_mutex_unlock(&mu);
	return CS_OK;
}

cs_error_t __wrap_cpg_fd_get(_unused_ cpg_handle_t h, int *fd)
{
	pthread_mutex_lock(&mu);
	*fd = fk.cpg_fd;
	pthread_mutex_unlock(&mu);
	return CS_OK;
}

cs_error_t __wrap_cpg_local_get(_unused_ cpg_handle_t h, unsigned int *nodeid)
{
	pthread_mutex_lock(&mu);
	fk.local_calls++;
	blocking_call(&fk.block_local, &fk.in_local);
	pthread_mutex_unlock(&mu);
	*nodeid = 7;
	return CS_OK;
}

cs_error_t __wrap_cpg_context_get(_unused_ cpg_handle_t h, void **ctx)
{
	*ctx = fk.ctx;
	return CS_OK;
}

cs_error_t __wrap_cpg_join(_unused_ cpg_handle_t h, _unused_ const struct cpg_name *g)
{
	pthread_mutex_lock(&mu);
	blocking_call(NULL, NULL);
	fk.joins++;
	cs_error_t e = fk.join_err;
	pthread_mutex_unlock(&mu);
	return e;
}

cs_error_t __wrap_cpg_leave(_unused_ cpg_handle_t h, _unused_ const struct cpg_name *g)
{
	pthread_mutex_lock(&mu);
	blocking_call(NULL, NULL);
	fk.leaves++;
	pthread_mutex_unlock(&mu);
	return CS_OK;
}

cs_error_t __wrap_cpg_mcast_joined(_unused_ cpg_handle_t h, cpg_guarantee_t g, const struct iovec *iov,
				   unsigned int n)
{
	cs_error_t e;

	pthread_mutex_lock(&mu);
	fk.mcast_calls++;
	blocking_call(&fk.block_mcast, &fk.in_mcast);
	fk.guarantee = (int)g;
	if (n != 1)
		fk.bad_iov = true;
	if (fk.n_script) {
		e = fk.script[0];
		memmove(fk.script, fk.script + 1, --fk.n_script * sizeof(fk.script[0]));
	} else {
		e = fk.mcast_err;
	}
	if (e == CS_OK && n == 1 && fk.n_sent < FAKE_SENT_MAX) {
		struct fake_sent *s = &fk.sent[fk.n_sent++];
		s->len = iov[0].iov_len;
		memcpy(s->data, iov[0].iov_base, s->len < FAKE_SENT_BYTES ? s->len : FAKE_SENT_BYTES);
	}
	pthread_mutex_unlock(&mu);
	return e;
}

cs_error_t __wrap_quorum_initialize(quorum_handle_t *h, quorum_callbacks_t *cb, uint32_t *type)
{
	pthread_mutex_lock(&mu);
	blocking_call(NULL, NULL);
	fk.q_inits++;
	fk.qfn = cb->quorum_notify_fn;
	*type = fk.qtype;
	fk.q_fd = eventfd(0, EFD_NONBLOCK);
	*h = 2;
	pthread_mutex_unlock(&mu);
	return CS_OK;
}

cs_error_t __wrap_quorum_finalize(_unused_ quorum_handle_t h)
{
	pthread_mutex_lock(&mu);
	close(fk.q_fd);
	fk.q_finalized++;
	pthread_mutex_unlock(&mu);
	return CS_OK;
}

cs_error_t __wrap_quorum_context_set(_unused_ quorum_handle_t h, const void *ctx)
{
	fk.qctx = ctx;
	return CS_OK;
}

cs_error_t __wrap_quorum_context_get(_unused_ quorum_handle_t h, const void **ctx)
{
	*ctx = fk.qctx;
	return CS_OK;
}

cs_error_t __wrap_quorum_getquorate(_unused_ quorum_handle_t h, int *q)
{
	pthread_mutex_lock(&mu);
	blocking_call(NULL, NULL);
	*q = fk.quorate;
	pthread_mutex_unlock(&mu);
	return CS_OK;
}

cs_error_t __wrap_quorum_trackstart(_unused_ quorum_handle_t h, _unused_ unsigned int flags)
{
	return CS_OK;
}

cs_error_t __wrap_quorum_fd_get(_unused_ quorum_handle_t h, int *fd)
{
	pthread_mutex_lock(&mu);
	*fd = fk.q_fd;
	pthread_mutex_unlock(&mu);
	return CS_OK;
}

/* ---- the loop side ---- */

static size_t echoed; /* fk.sent[] entries looked at by echo_heartbeats() */

/* ---- the fake's dispatch: what one cpg_dispatch delivers ---- */

cs_error_t __wrap_cpg_dispatch(cpg_handle_t h, cs_dispatch_flags_t f);
cs_error_t __wrap_quorum_dispatch(quorum_handle_t h, cs_dispatch_flags_t f);

/* libcpg's way: the event is read into a buffer of IPC_DISPATCH_SIZE on the caller's stack. */
static __attribute__((noinline)) void deliver_big(cpg_handle_t h, const struct cpg_name *g)
{
	char buf[1u << 20];
	size_t len = fk.big_len < sizeof(buf) ? fk.big_len : sizeof(buf);

	memset(buf, 'V', len);
	__asm__ volatile("" : : "r"(buf) : "memory"); /* the writes stay */
	fk.model.cpg_deliver_fn(h, g, 8, 99, buf, len);
}

/*
 * One dispatch delivers: the totem ring, a view (n8 joined, n9's node went
 * down), a message; or, with fk.big_len, one large message alone.
 */
cs_error_t __wrap_cpg_dispatch(cpg_handle_t h, _unused_ cs_dispatch_flags_t f)
{
	uint64_t v;
	if (read(fk.cpg_fd, &v, sizeof(v)) < 0)
		return CS_ERR_TRY_AGAIN;
	if (fk.dispatch_err != CS_OK)
		return fk.dispatch_err;
	if (fk.big_len) {
		struct cpg_name big = { .length = 3, .value = "grp" };
		deliver_big(h, &big);
		return CS_OK;
	}
	struct cpg_ring_id ring = { .nodeid = 7, .seq = 42 };
	uint32_t ids[2] = { 7, 8 };
	fk.model.cpg_totem_confchg_fn(h, ring, 2, ids);
	struct cpg_address members[2] = { { 7, (uint32_t)getpid(), CPG_REASON_JOIN },
					  { 8, 99, CPG_REASON_JOIN } };
	struct cpg_address left[1] = { { 9, 5, CPG_REASON_NODEDOWN } };
	struct cpg_address joined[1] = { { 8, 99, CPG_REASON_JOIN } };
	struct cpg_name g = { .length = 3, .value = "grp" };
	fk.model.cpg_confchg_fn(h, &g, members, 2, left, 1, joined, 1);
	char msg[] = "hello";
	fk.model.cpg_deliver_fn(h, &g, 8, 99, msg, sizeof(msg));
	return CS_OK;
}

cs_error_t __wrap_quorum_dispatch(quorum_handle_t h, _unused_ cs_dispatch_flags_t f)
{
	uint64_t v;
	if (read(fk.q_fd, &v, sizeof(v)) < 0)
		return CS_ERR_TRY_AGAIN;
	fk.qfn(h, (uint32_t)fk.quorate, 43, 0, NULL);
	return CS_OK;
}

void kick(int fd)
{
	uint64_t one = 1;
	assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
}

/* ---- what the backend reports ---- */

static void cb_view(void *u, const struct vip_cl_view *v)
{
	struct seen *s = u;
	s->views++;
	s->v = *v;
	memcpy(s->members, v->members, v->n_members * sizeof(*v->members));
	memcpy(s->left, v->left, v->n_left * sizeof(*v->left));
	memcpy(s->joined, v->joined, v->n_joined * sizeof(*v->joined));
}

static void cb_message(void *u, const struct vip_cl_member *from, const void *d, size_t len)
{
	struct seen *s = u;
	s->messages++;
	s->sender = *from;
	snprintf(s->msg, sizeof(s->msg), "%.*s", (int)len, (const char *)d);
}

static void cb_quorum(void *u, bool q)
{
	struct seen *s = u;
	s->quorums++;
	s->quorate = q;
}

static void cb_lost(void *u, int err)
{
	struct seen *s = u;
	s->lost++;
	s->lost_err = err;
}

static void cb_liveness(void *u, bool alive)
{
	struct seen *s = u;
	s->alive = alive;
	if (alive) {
		s->live_true++;
		s->live_true_at = fake_now_ms();
	} else {
		s->live_false++;
		s->live_false_at = fake_now_ms();
	}
}

const struct vip_cl_backend_cbs cbs = {
	.view = cb_view,
	.message = cb_message,
	.quorum = cb_quorum,
	.lost = cb_lost,
	.liveness = cb_liveness,
};

int setup(void **state)
{
	(void)state;
	fake_reset();
	echoed = 0;
	return 0;
}

/* Nothing that waits for corosync ran on the test's (the loop's) thread. */
int teardown(void **state)
{
	(void)state;
	fake_lock();
	bool on_loop = fk.on_loop_thread, bad_iov = fk.bad_iov;
	fake_unlock();
	assert_false(on_loop);
	assert_false(bad_iov);
	return 0;
}

const struct vip_cl_backend_ops *cpg(void)
{
	const struct vip_cl_backend_ops *ops = vip_cl_backend_find("cpg");
	assert_non_null(ops);
	return ops;
}

/* ---- the loop side of the threaded backend ---- */

uint64_t longest_us; /* the longest dispatch() of the last pump() */

uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

bool is_hb(const struct fake_sent *m)
{
	return m->len == 16 && m->data[0] == 0 && m->data[1] == 'v' && m->data[2] == 'h' && m->data[3] == 'b';
}

void deliver(uint32_t nodeid, uint32_t pid, const void *data, size_t len)
{
	struct cpg_name g = { .length = 3, .value = "grp" };
	fk.model.cpg_deliver_fn(1, &g, nodeid, pid, (void *)data, len);
}

/* Deliver our own heartbeats back, as a healthy ring would. */
void echo_heartbeats(void)
{
	for (size_t n = fake_n_sent(); echoed < n; echoed++) {
		struct fake_sent m = fake_sent_get(echoed);
		if (is_hb(&m))
			deliver(7, (uint32_t)getpid(), m.data, m.len);
	}
}

/* The event loop: poll the backend's fd and dispatch until pred holds or ms pass. */
bool pump(const struct vip_cl_backend_ops *ops, struct vip_cl_backend *b, struct seen *s,
	  bool (*pred)(const struct seen *), unsigned ms, bool echo)
{
	uint64_t end = fake_now_ms() + ms;

	longest_us = 0;
	while (!(pred && pred(s))) {
		uint64_t now = fake_now_ms();
		if (now >= end)
			return false;
		struct pollfd p = { .fd = ops->fd(b), .events = POLLIN };
		poll(&p, 1, (int)(end - now));
		uint64_t t = now_us();
		ops->dispatch(b);
		t = now_us() - t;
		if (t > longest_us)
			longest_us = t;
		if (echo)
			echo_heartbeats();
	}
	return true;
}

bool was_lost(const struct seen *s)
{
	return s->lost > 0;
}
bool went_dead(const struct seen *s)
{
	return s->live_false > 0;
}
bool came_back(const struct seen *s)
{
	return s->live_true > 0;
}

size_t want;
bool sent_enough(void)
{
	return fk.n_sent >= want;
}
bool in_mcast(void)
{
	return fk.in_mcast;
}
bool in_local(void)
{
	return fk.in_local;
}
bool in_init(void)
{
	return fk.in_init;
}
bool finalized(void)
{
	return fk.finalized >= 1 && fk.q_finalized >= 1;
}

void connect_join(const struct vip_cl_backend_ops *ops, struct seen *s, struct vip_cl_backend **b)
{
	assert_int_equal(ops->connect(&cbs, s, b), 0);
	assert_int_equal(ops->join(*b, "ec_cluster"), 0);
}

/* Sends are queued and go out from the worker, in order; a refusal for good is lost(). */

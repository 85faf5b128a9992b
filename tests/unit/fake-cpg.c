// SPDX-License-Identifier: MIT
/* The fake libcpg/libquorum: see fake-cpg.h. */
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

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

cs_error_t __wrap_cpg_model_initialize(cpg_handle_t *h, cpg_model_t model, cpg_model_data_t *d,
				       void *context)
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

cs_error_t __wrap_cpg_mcast_joined(_unused_ cpg_handle_t h, cpg_guarantee_t g,
				   const struct iovec *iov, unsigned int n)
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

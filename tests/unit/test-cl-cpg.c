// SPDX-License-Identifier: MIT
/*
 * The cpg backend against a fake libcpg/libquorum (-Wl,--wrap): views with
 * reasons and self, the ring sequence, messages, quorum changes, error
 * mapping (flow control, too big, refused), and a lost corosync reported
 * exactly once. The real thing runs in tests/netns/test-cl-corosync.sh.
 */
#include <corosync/cpg.h>
#include <corosync/quorum.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster.h"

/* ---- the fake ---- */

static struct fake {
	cpg_model_v1_data_t model;
	void *ctx;
	const void *qctx;
	quorum_notification_fn_t qfn;
	int cpg_fd, q_fd;
	cs_error_t init_err, join_err, mcast_err, dispatch_err;
	uint32_t qtype;
	int quorate;
	int guarantee;
	size_t mcasts, finalized;
} fk;

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
cs_error_t __wrap_cpg_dispatch(cpg_handle_t h, cs_dispatch_flags_t f);
cs_error_t __wrap_quorum_initialize(quorum_handle_t *h, quorum_callbacks_t *cb, uint32_t *type);
cs_error_t __wrap_quorum_finalize(quorum_handle_t h);
cs_error_t __wrap_quorum_context_set(quorum_handle_t h, const void *ctx);
cs_error_t __wrap_quorum_context_get(quorum_handle_t h, const void **ctx);
cs_error_t __wrap_quorum_getquorate(quorum_handle_t h, int *q);
cs_error_t __wrap_quorum_trackstart(quorum_handle_t h, unsigned int flags);
cs_error_t __wrap_quorum_fd_get(quorum_handle_t h, int *fd);
cs_error_t __wrap_quorum_dispatch(quorum_handle_t h, cs_dispatch_flags_t f);

cs_error_t __wrap_cpg_model_initialize(cpg_handle_t *h, cpg_model_t model, cpg_model_data_t *d,
				       void *context)
{
	assert_int_equal(model, CPG_MODEL_V1);
	if (fk.init_err != CS_OK)
		return fk.init_err;
	fk.model = *(cpg_model_v1_data_t *)d;
	assert_true(fk.model.flags & CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF);
	fk.ctx = context;
	fk.cpg_fd = eventfd(0, EFD_NONBLOCK);
	*h = 1;
	return CS_OK;
}

cs_error_t __wrap_cpg_finalize(_unused_ cpg_handle_t h)
{
	close(fk.cpg_fd);
	fk.finalized++;
	return CS_OK;
}

cs_error_t __wrap_cpg_fd_get(_unused_ cpg_handle_t h, int *fd)
{
	*fd = fk.cpg_fd;
	return CS_OK;
}

cs_error_t __wrap_cpg_local_get(_unused_ cpg_handle_t h, unsigned int *nodeid)
{
	*nodeid = 7;
	return CS_OK;
}

cs_error_t __wrap_cpg_context_get(_unused_ cpg_handle_t h, void **ctx)
{
	*ctx = fk.ctx;
	return CS_OK;
}

cs_error_t __wrap_cpg_join(_unused_ cpg_handle_t h, const struct cpg_name *g)
{
	assert_int_equal(g->length, strlen("ec_cluster"));
	return fk.join_err;
}

cs_error_t __wrap_cpg_leave(_unused_ cpg_handle_t h, _unused_ const struct cpg_name *g)
{
	return CS_OK;
}

cs_error_t __wrap_cpg_mcast_joined(_unused_ cpg_handle_t h, cpg_guarantee_t g,
				   _unused_ const struct iovec *iov, unsigned int n)
{
	fk.guarantee = (int)g;
	assert_int_equal(n, 1);
	if (fk.mcast_err == CS_OK)
		fk.mcasts++;
	return fk.mcast_err;
}

/* One dispatch delivers: the totem ring, a view (n8 joined, n9's node went down), a message. */
cs_error_t __wrap_cpg_dispatch(cpg_handle_t h, _unused_ cs_dispatch_flags_t f)
{
	uint64_t v;
	if (read(fk.cpg_fd, &v, sizeof(v)) < 0)
		return CS_ERR_TRY_AGAIN;
	if (fk.dispatch_err != CS_OK)
		return fk.dispatch_err;
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

cs_error_t __wrap_quorum_initialize(quorum_handle_t *h, quorum_callbacks_t *cb, uint32_t *type)
{
	fk.qfn = cb->quorum_notify_fn;
	*type = fk.qtype;
	fk.q_fd = eventfd(0, EFD_NONBLOCK);
	*h = 2;
	return CS_OK;
}

cs_error_t __wrap_quorum_finalize(_unused_ quorum_handle_t h)
{
	close(fk.q_fd);
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
	*q = fk.quorate;
	return CS_OK;
}

cs_error_t __wrap_quorum_trackstart(_unused_ quorum_handle_t h, unsigned int flags)
{
	assert_true(flags & CS_TRACK_CHANGES);
	return CS_OK;
}

cs_error_t __wrap_quorum_fd_get(_unused_ quorum_handle_t h, int *fd)
{
	*fd = fk.q_fd;
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

static void kick(int fd)
{
	uint64_t one = 1;
	assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
}

/* ---- what the backend reports ---- */

struct seen {
	size_t views, messages, quorums, lost;
	bool quorate;
	int lost_err;
	struct vip_cl_view v;
	struct vip_cl_member members[4], left[4], joined[4], sender;
	char msg[16];
};

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

static const struct vip_cl_backend_cbs cbs = {
	.view = cb_view, .message = cb_message, .quorum = cb_quorum, .lost = cb_lost,
};

static int setup(void **state)
{
	(void)state;
	memset(&fk, 0, sizeof(fk));
	fk.init_err = fk.join_err = fk.mcast_err = fk.dispatch_err = CS_OK;
	fk.qtype = QUORUM_SET;
	fk.cpg_fd = fk.q_fd = -1;
	return 0;
}

static const struct vip_cl_backend_ops *cpg(void)
{
	const struct vip_cl_backend_ops *ops = vip_cl_backend_find("cpg");
	assert_non_null(ops);
	return ops;
}

static void test_view_message_quorum(void **state)
{
	(void)state;
	const struct vip_cl_backend_ops *ops = cpg();
	struct vip_cl_backend *b;
	struct seen s = { 0 };
	assert_int_equal(ops->connect(&cbs, &s, &b), 0);
	assert_false(ops->is_quorate(b));
	struct vip_cl_member me;
	assert_int_equal(ops->local(b, &me), 0);
	assert_int_equal(me.nodeid, 7);
	assert_int_equal(me.pid, (uint32_t)getpid());
	assert_int_equal(ops->join(b, "ec_cluster"), 0);

	kick(fk.cpg_fd);
	assert_int_equal(ops->dispatch(b), 0);
	assert_int_equal(s.quorums, 1); /* the current value, once after join */
	assert_false(s.quorate);
	assert_int_equal(s.views, 1);
	assert_int_equal(s.v.n_members, 2);
	assert_int_equal(s.v.self, 0);
	assert_int_equal(s.v.ring_seq, 42);
	assert_int_equal(s.members[1].nodeid, 8);
	assert_int_equal(s.v.n_left, 1);
	assert_int_equal(s.left[0].reason, VIP_CL_REASON_NODEDOWN);
	assert_int_equal(s.joined[0].reason, VIP_CL_REASON_JOIN);
	assert_int_equal(s.messages, 1);
	assert_int_equal(s.sender.nodeid, 8);
	assert_int_equal(s.sender.pid, 99);
	assert_string_equal(s.msg, "hello");

	fk.quorate = 1;
	kick(fk.q_fd);
	assert_int_equal(ops->dispatch(b), 0);
	assert_int_equal(s.quorums, 2);
	assert_true(s.quorate);
	assert_true(ops->is_quorate(b));
	assert_int_equal(s.lost, 0);
	assert_int_equal(ops->leave(b), 0);
	assert_int_equal(ops->leave(b), -ENOTCONN);
	ops->free(b);
	assert_int_equal(fk.finalized, 1);
}

static void test_send_errors(void **state)
{
	(void)state;
	const struct vip_cl_backend_ops *ops = cpg();
	struct vip_cl_backend *b;
	struct seen s = { 0 };
	assert_int_equal(ops->connect(&cbs, &s, &b), 0);
	assert_int_equal(ops->send(b, "x", 1), -ENOTCONN);
	assert_int_equal(ops->join(b, "ec_cluster"), 0);
	assert_int_equal(ops->send(b, "x", 1), 0);
	assert_int_equal(fk.guarantee, CPG_TYPE_AGREED);
	fk.mcast_err = CS_ERR_TRY_AGAIN;
	assert_int_equal(ops->send(b, "x", 1), -EAGAIN);
	fk.mcast_err = CS_ERR_TOO_BIG;
	assert_int_equal(ops->send(b, "x", 1), -EMSGSIZE);
	assert_int_equal(fk.mcasts, 1);
	char longname[200];
	memset(longname, 'g', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(ops->join(b, longname), -EINVAL);
	ops->free(b);
}

static void test_lost_once(void **state)
{
	(void)state;
	const struct vip_cl_backend_ops *ops = cpg();
	struct vip_cl_backend *b;
	struct seen s = { 0 };
	assert_int_equal(ops->connect(&cbs, &s, &b), 0);
	assert_int_equal(ops->join(b, "ec_cluster"), 0);
	fk.dispatch_err = CS_ERR_LIBRARY; /* corosync went away */
	kick(fk.cpg_fd);
	assert_int_equal(ops->dispatch(b), -ECONNRESET);
	assert_int_equal(s.lost, 1);
	assert_int_equal(s.lost_err, -ECONNRESET);
	assert_int_equal(ops->dispatch(b), -ECONNRESET);
	assert_int_equal(s.lost, 1); /* once */
	assert_int_equal(ops->send(b, "x", 1), -ECONNRESET);
	assert_false(ops->is_quorate(b));
	ops->free(b);
}

static void test_connect_refused_and_no_provider(void **state)
{
	(void)state;
	const struct vip_cl_backend_ops *ops = cpg();
	struct vip_cl_backend *b = NULL;
	struct seen s = { 0 };
	fk.init_err = CS_ERR_LIBRARY; /* corosync not running */
	assert_int_equal(ops->connect(&cbs, &s, &b), -ECONNREFUSED);
	assert_null(b);
	fk.init_err = CS_OK;
	fk.qtype = QUORUM_FREE; /* no quorum provider: always quorate */
	assert_int_equal(ops->connect(&cbs, &s, &b), 0);
	assert_true(ops->is_quorate(b));
	ops->free(b);
	ops->free(NULL);
}

static void view_of(size_t n_members, size_t n_left, uint32_t reason)
{
	struct cpg_address members[3] = { { 7, (uint32_t)getpid(), CPG_REASON_JOIN },
					   { 8, 99, CPG_REASON_JOIN }, { 9, 98, CPG_REASON_JOIN } };
	struct cpg_address left[2] = { { 8, 99, reason }, { 9, 98, reason } };
	struct cpg_name g = { .length = 3, .value = "grp" };
	fk.model.cpg_confchg_fn(1, &g, members, n_members, left, n_left, NULL, 0);
}

static void totem(uint64_t seq, uint32_t n)
{
	uint32_t ids[3] = { 7, 8, 9 };
	fk.model.cpg_totem_confchg_fn(1, (struct cpg_ring_id){ .nodeid = 7, .seq = seq }, n, ids);
}

/*
 * Membership that lost half or more to node loss is inquorate at once, until
 * the quorum service speaks for that ring: a node cut off for a moment must
 * release before the majority takes its addresses, even when the quorum
 * service never gets to judge the short-lived ring.
 */
static void test_majority_loss_is_inquorate_until_judged(void **state)
{
	(void)state;
	const struct vip_cl_backend_ops *ops = cpg();
	struct vip_cl_backend *b;
	struct seen s = { 0 };

	fk.quorate = 1;
	assert_int_equal(ops->connect(&cbs, &s, &b), 0);
	assert_true(ops->is_quorate(b));
	totem(10, 3);
	fk.qfn(2, 1, 10, 0, NULL);
	assert_true(ops->is_quorate(b));
	totem(14, 2); /* two of three: a majority stays quorate */
	assert_true(ops->is_quorate(b));
	size_t before = s.quorums;
	totem(18, 1); /* one of two: suspect */
	assert_false(ops->is_quorate(b));
	assert_int_equal(s.quorums, before + 1);
	assert_false(s.quorate);
	fk.qfn(2, 1, 14, 0, NULL); /* a verdict on an older ring changes nothing */
	assert_false(ops->is_quorate(b));
	fk.qfn(2, 1, 18, 0, NULL);
	assert_true(ops->is_quorate(b));
	assert_true(s.quorate);

	/* The view before its ring: judged by the members lost to node loss. */
	totem(22, 3);
	fk.qfn(2, 1, 22, 0, NULL);
	view_of(3, 0, CPG_REASON_JOIN);
	view_of(1, 2, CPG_REASON_PROCDOWN); /* processes died, nodes are up: no suspicion */
	assert_true(ops->is_quorate(b));
	view_of(3, 0, CPG_REASON_JOIN);
	view_of(1, 2, CPG_REASON_NODEDOWN);
	assert_false(ops->is_quorate(b));
	totem(26, 1); /* its ring, late: still waiting for a verdict */
	assert_false(ops->is_quorate(b));
	fk.qfn(2, 0, 26, 0, NULL); /* the verdict: inquorate */
	assert_false(ops->is_quorate(b));
	fk.qfn(2, 1, 30, 0, NULL);
	assert_true(ops->is_quorate(b));

	/* The verdict came before the view and no other follows: trusted again later. */
	view_of(3, 0, CPG_REASON_JOIN);
	view_of(1, 2, CPG_REASON_NODEDOWN);
	assert_false(ops->is_quorate(b));
	struct pollfd pfd = { .fd = ops->fd(b), .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 2000), 1); /* bounded: the guard is 500 ms */
	assert_int_equal(ops->dispatch(b), 0);
	assert_true(ops->is_quorate(b));
	assert_true(s.quorate);
	ops->free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_view_message_quorum, setup),
		cmocka_unit_test_setup(test_majority_loss_is_inquorate_until_judged, setup),
		cmocka_unit_test_setup(test_send_errors, setup),
		cmocka_unit_test_setup(test_lost_once, setup),
		cmocka_unit_test_setup(test_connect_refused_and_no_provider, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

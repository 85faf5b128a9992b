// SPDX-License-Identifier: MIT
/*
 * The corosync backend: membership and agreed-order messages from a closed
 * process group (libcpg, CPG_MODEL_V1 with the totem ring callback, so views
 * carry the ring sequence), quorum from libquorum.
 *
 * The cpg and quorum connections have one fd each; both sit in a private
 * epoll fd, which is the one fd the daemon's loop watches. libqb's IPC lives
 * in /dev/shm, so this process must share corosync's mount namespace.
 *
 * Quorum and membership are two streams: after a ring change the quorum
 * service may tell its verdict on the new ring only after CPG delivered the
 * view, or not at all when the next ring forms first (a node cut off for a
 * few tens of milliseconds while a link comes back). So a ring or view that
 * lost half or more of its members to node loss counts as inquorate at once:
 * a ring until the quorum service speaks for it (a notification with a ring
 * sequence at least as new); a view, which carries no ring of its own, until
 * the next notification or, when that notification came before the view and
 * no other follows, SUSPECT_VIEW_MS later. A majority that loses a minority is
 * not suspected: survivors keep their addresses and fail over at once.
 *
 * When corosync goes away every call starts failing with CS_ERR_LIBRARY or
 * CS_ERR_BAD_HANDLE: dispatch() reports it once through lost() and the
 * instance is dead; the daemon frees it and connects anew with back-off.
 */
#include <corosync/corotypes.h>
#include <corosync/cpg.h>
#include <corosync/quorum.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cluster-internal.h"

#define SUSPECT_VIEW_MS 500

struct vip_cl_backend {
	struct vip_cl_backend_cbs cbs;
	void *userdata;
	cpg_handle_t cpg;
	quorum_handle_t quorum;
	bool have_quorum;  /* a quorum connection exists */
	bool quorum_provider; /* corosync has a quorum provider (else always quorate) */
	int cpg_fd, quorum_fd, epfd, timer_fd;
	struct cpg_name group;
	bool joined, dead, quorate, quorum_pending;
	uint32_t nodeid;
	uint64_t ring_seq;
	/* quorate is q_quorate unless the membership is suspect (see above) */
	bool q_quorate;         /* the quorum service's last verdict */
	uint64_t q_seq;         /* ... and the ring it was about */
	uint64_t suspect_until; /* 0, or: inquorate until a verdict on a ring this new */
	uint32_t ring_n;        /* nodes in the last totem ring */
	size_t view_n;          /* members of the last view */
	unsigned q_count;       /* notifications received */
	unsigned view_q_count;  /* ... when the suspect view arrived */
	bool view_suspect;      /* a view lost half or more to node loss */
};

static int cs_to_errno(cs_error_t e)
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

static enum vip_cl_reason map_reason(uint32_t r)
{
	switch (r) {
	case CPG_REASON_JOIN:
	case CPG_REASON_NODEUP:
		return VIP_CL_REASON_JOIN;
	case CPG_REASON_LEAVE:
		return VIP_CL_REASON_LEAVE;
	case CPG_REASON_NODEDOWN:
		return VIP_CL_REASON_NODEDOWN;
	case CPG_REASON_PROCDOWN:
		return VIP_CL_REASON_PROCDOWN;
	default:
		return VIP_CL_REASON_UNKNOWN;
	}
}

static void map_list(const struct cpg_address *in, size_t n, struct vip_cl_member *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (struct vip_cl_member){ .nodeid = in[i].nodeid, .pid = in[i].pid,
						 .reason = map_reason(in[i].reason) };
}

/* Recompute quorate; tell the caller when it changed, or always when told to. */
static void update_quorate(struct vip_cl_backend *b, bool always)
{
	bool ring_ok = b->suspect_until == 0 || b->q_seq >= b->suspect_until;
	bool q = !b->quorum_provider || (b->q_quorate && ring_ok && !b->view_suspect);

	if (q == b->quorate && !always)
		return;
	b->quorate = q;
	b->quorum_pending = false;
	if (b->cbs.quorum)
		b->cbs.quorum(b->userdata, q);
}

/* A ring lost half or more of its nodes: inquorate until a verdict on a ring >= seq. */
static void suspect_ring(struct vip_cl_backend *b, uint64_t seq)
{
	if (!b->quorum_provider || b->q_seq >= seq)
		return;
	if (seq > b->suspect_until)
		b->suspect_until = seq;
	update_quorate(b, false);
}

/* A view lost half or more to node loss: inquorate until a fresh verdict, or a while. */
static void suspect_view(struct vip_cl_backend *b)
{
	struct itimerspec its = { .it_value = { .tv_sec = SUSPECT_VIEW_MS / 1000,
						.tv_nsec = (SUSPECT_VIEW_MS % 1000) * 1000000L } };

	if (!b->quorum_provider || b->timer_fd < 0)
		return;
	b->view_suspect = true;
	b->view_q_count = b->q_count;
	(void)timerfd_settime(b->timer_fd, 0, &its, NULL);
	update_quorate(b, false);
}

static void end_view_suspicion(struct vip_cl_backend *b)
{
	struct itimerspec off = { 0 };

	b->view_suspect = false;
	if (b->timer_fd >= 0)
		(void)timerfd_settime(b->timer_fd, 0, &off, NULL);
}

static struct vip_cl_backend *from_cpg(cpg_handle_t h)
{
	void *ctx = NULL;
	return cpg_context_get(h, &ctx) == CS_OK ? ctx : NULL;
}

static void on_confchg(cpg_handle_t h, _unused_ const struct cpg_name *group,
		       const struct cpg_address *members, size_t n_members,
		       const struct cpg_address *left, size_t n_left,
		       const struct cpg_address *joined, size_t n_joined)
{
	struct vip_cl_backend *b = from_cpg(h);
	struct vip_cl_member m[CPG_MEMBERS_MAX], l[CPG_MEMBERS_MAX], j[CPG_MEMBERS_MAX];
	uint32_t pid = (uint32_t)getpid();

	if (!b || n_members > CPG_MEMBERS_MAX || n_left > CPG_MEMBERS_MAX ||
	    n_joined > CPG_MEMBERS_MAX)
		return;
	map_list(members, n_members, m);
	map_list(left, n_left, l);
	map_list(joined, n_joined, j);
	struct vip_cl_view v = {
		.ring_seq = b->ring_seq, .members = m, .n_members = n_members,
		.joined = j, .n_joined = n_joined, .left = l, .n_left = n_left, .self = -1,
	};
	for (size_t i = 0; i < n_members; i++)
		if (members[i].nodeid == b->nodeid && members[i].pid == pid)
			v.self = (ssize_t)i;
	/* Its ring may be reported later, or never: judge by the view too. */
	size_t down = 0;
	for (size_t i = 0; i < n_left; i++)
		down += left[i].reason == CPG_REASON_NODEDOWN;
	if (b->view_n && down && down * 2 >= b->view_n)
		suspect_view(b);
	b->view_n = n_members;
	if (b->cbs.view)
		b->cbs.view(b->userdata, &v);
}

static void on_totem(cpg_handle_t h, struct cpg_ring_id ring, uint32_t n,
		     _unused_ const uint32_t *list)
{
	struct vip_cl_backend *b = from_cpg(h);
	if (!b)
		return;
	b->ring_seq = ring.seq;
	if (b->ring_n && (uint64_t)n * 2 <= b->ring_n)
		suspect_ring(b, ring.seq);
	b->ring_n = n;
}

static void on_deliver(cpg_handle_t h, _unused_ const struct cpg_name *group, uint32_t nodeid,
		       uint32_t pid, void *msg, size_t len)
{
	struct vip_cl_backend *b = from_cpg(h);
	struct vip_cl_member s = { .nodeid = nodeid, .pid = pid };

	if (b && b->cbs.message)
		b->cbs.message(b->userdata, &s, msg, len);
}

static void on_quorum(quorum_handle_t h, uint32_t quorate, uint64_t seq,
		      _unused_ uint32_t n, _unused_ uint32_t *list)
{
	const void *ctx = NULL;
	if (quorum_context_get(h, &ctx) != CS_OK || !ctx)
		return;
	struct vip_cl_backend *b = (struct vip_cl_backend *)ctx;
	b->q_quorate = quorate != 0;
	b->q_count++;
	if (seq > b->q_seq)
		b->q_seq = seq;
	if (b->suspect_until && b->q_seq >= b->suspect_until)
		b->suspect_until = 0;
	if (b->view_suspect && b->q_count > b->view_q_count)
		end_view_suspicion(b);
	update_quorate(b, true);
}

static int connect_quorum(struct vip_cl_backend *b)
{
	quorum_callbacks_t qcb = { .quorum_notify_fn = on_quorum };
	uint32_t type = 0;
	int q = 0;
	cs_error_t e = quorum_initialize(&b->quorum, &qcb, &type);

	if (e != CS_OK)
		return cs_to_errno(e);
	b->have_quorum = true;
	quorum_context_set(b->quorum, b);
	b->quorum_provider = type == QUORUM_SET;
	if (!b->quorum_provider) {
		b->quorate = true;
		return 0;
	}
	e = quorum_getquorate(b->quorum, &q);
	if (e == CS_OK)
		e = quorum_trackstart(b->quorum, CS_TRACK_CHANGES);
	if (e == CS_OK)
		e = quorum_fd_get(b->quorum, &b->quorum_fd);
	b->quorate = b->q_quorate = q != 0;
	return cs_to_errno(e);
}

static int add_fd(int epfd, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? negerrno() : 0;
}

static void cpg_backend_free(struct vip_cl_backend *b)
{
	if (!b)
		return;
	if (b->cpg)
		cpg_finalize(b->cpg);
	if (b->have_quorum)
		quorum_finalize(b->quorum);
	if (b->epfd >= 0)
		close(b->epfd);
	if (b->timer_fd >= 0)
		close(b->timer_fd);
	free(b);
}

static int cpg_backend_connect(const struct vip_cl_backend_cbs *cbs, void *userdata,
			       struct vip_cl_backend **ret)
{
	cpg_model_v1_data_t model = {
		.model = CPG_MODEL_V1,
		.cpg_deliver_fn = on_deliver,
		.cpg_confchg_fn = on_confchg,
		.cpg_totem_confchg_fn = on_totem,
		.flags = CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF,
	};
	struct vip_cl_backend *b = calloc(1, sizeof(*b));
	int r;

	if (!b)
		return -ENOMEM;
	b->cbs = *cbs;
	b->userdata = userdata;
	b->cpg_fd = b->quorum_fd = b->epfd = b->timer_fd = -1;
	cs_error_t e = cpg_model_initialize(&b->cpg, CPG_MODEL_V1, (cpg_model_data_t *)&model, b);
	if (e != CS_OK) {
		b->cpg = 0;
		r = e == CS_ERR_LIBRARY ? -ECONNREFUSED : cs_to_errno(e);
		goto fail;
	}
	r = cs_to_errno(cpg_local_get(b->cpg, &b->nodeid));
	if (r == 0)
		r = cs_to_errno(cpg_fd_get(b->cpg, &b->cpg_fd));
	if (r == 0)
		r = connect_quorum(b);
	if (r < 0)
		goto fail;
	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (b->epfd < 0) {
		r = negerrno();
		goto fail;
	}
	b->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (b->timer_fd < 0) {
		r = negerrno();
		goto fail;
	}
	r = add_fd(b->epfd, b->cpg_fd, 0);
	if (r == 0 && b->quorum_fd >= 0)
		r = add_fd(b->epfd, b->quorum_fd, 1);
	if (r == 0)
		r = add_fd(b->epfd, b->timer_fd, 2);
	if (r < 0)
		goto fail;
	*ret = b;
	return 0;
fail:
	cpg_backend_free(b);
	return r;
}

static int cpg_backend_join(struct vip_cl_backend *b, const char *group)
{
	size_t n = strlen(group);

	if (n == 0 || n > CPG_MAX_NAME_LENGTH)
		return -EINVAL;
	b->group.length = (uint32_t)n;
	memcpy(b->group.value, group, n);
	int r = cs_to_errno(cpg_join(b->cpg, &b->group));
	if (r == 0) {
		b->joined = true;
		b->quorum_pending = true; /* tell the caller the current value at the next dispatch */
	}
	return r;
}

static int cpg_backend_leave(struct vip_cl_backend *b)
{
	if (!b->joined)
		return -ENOTCONN;
	b->joined = false;
	return cs_to_errno(cpg_leave(b->cpg, &b->group));
}

static int cpg_backend_fd(struct vip_cl_backend *b)
{
	return b->epfd;
}

static int lost(struct vip_cl_backend *b, int r)
{
	if (!b->dead) {
		b->dead = true;
		if (b->cbs.lost)
			b->cbs.lost(b->userdata, r);
	}
	return r;
}

static int cpg_backend_dispatch(struct vip_cl_backend *b)
{
	struct epoll_event ev[3];

	if (b->dead)
		return -ECONNRESET;
	if (b->quorum_pending) {
		b->quorum_pending = false;
		if (b->cbs.quorum)
			b->cbs.quorum(b->userdata, b->quorate);
	}
	int n = epoll_wait(b->epfd, ev, 3, 0);
	if (n < 0)
		return errno == EINTR ? 0 : lost(b, negerrno());
	for (int i = 0; i < n; i++) {
		if (ev[i].data.u64 == 2) { /* no fresh verdict after a suspect view */
			uint64_t ticks;
			if (read(b->timer_fd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks)) {
				end_view_suspicion(b);
				update_quorate(b, false);
			}
			continue;
		}
		if (ev[i].events & (EPOLLHUP | EPOLLERR) && !(ev[i].events & EPOLLIN))
			return lost(b, -ECONNRESET);
		cs_error_t e = ev[i].data.u64 == 0 ? cpg_dispatch(b->cpg, CS_DISPATCH_ALL)
						   : quorum_dispatch(b->quorum, CS_DISPATCH_ALL);
		if (e != CS_OK && e != CS_ERR_TRY_AGAIN)
			return lost(b, cs_to_errno(e) == -EAGAIN ? -EIO : -ECONNRESET);
	}
	return 0;
}

static int cpg_backend_send(struct vip_cl_backend *b, const void *data, size_t len)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };

	if (b->dead)
		return -ECONNRESET;
	if (!b->joined)
		return -ENOTCONN;
	return cs_to_errno(cpg_mcast_joined(b->cpg, CPG_TYPE_AGREED, &iov, 1));
}

static bool cpg_backend_is_quorate(struct vip_cl_backend *b)
{
	return !b->dead && b->quorate;
}

static int cpg_backend_local(struct vip_cl_backend *b, struct vip_cl_member *ret)
{
	*ret = (struct vip_cl_member){ .nodeid = b->nodeid, .pid = (uint32_t)getpid() };
	return 0;
}

const struct vip_cl_backend_ops vip_cl_backend_cpg = {
	.name = "cpg",
	.connect = cpg_backend_connect,
	.free = cpg_backend_free,
	.join = cpg_backend_join,
	.leave = cpg_backend_leave,
	.fd = cpg_backend_fd,
	.dispatch = cpg_backend_dispatch,
	.send = cpg_backend_send,
	.is_quorate = cpg_backend_is_quorate,
	.local = cpg_backend_local,
};

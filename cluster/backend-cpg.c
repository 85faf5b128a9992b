/* SPDX-License-Identifier: MIT */
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
 *
 * Nothing here waits for corosync on the caller's thread: connect, join,
 * send, leave and free hand their requests to a worker thread
 * (backend-cpg-worker.c, backend-cpg.h) and return at once (connect and free
 * after a bounded wait); only cpg_dispatch and quorum_dispatch, which read
 * what corosync already wrote, run here.
 *
 * Liveness (set_liveness_timeout): corosync that stops answering, or a ring
 * that delivers nothing, is reported through cbs.liveness long before the
 * connection breaks (if it ever does). Not alive when (a) a request to
 * corosync (a send, or the worker's probe, issued at least every timeout/3)
 * has been outstanding longer than the timeout, or (b) the backend's own
 * heartbeat, multicast every quarter of that deadline with one in flight, has not come back
 * within max(10 x timeout, HB_DEADLINE_MIN_MS): a membership change stalls
 * delivery for about 2.2 x token, which must not trip it. That clock starts
 * again when a request outstanding past the timeout (a) returns: a heartbeat
 * queued while corosync was stopped has not even been handed over, and
 * corosync back from a stop first re-forms its ring. The heartbeat is
 * HB_LEN bytes starting with 0x00 'v' 'h' 'b' (vipd's messages start with
 * 'V' 'C', cluster/msg.c); every member drops every heartbeat in on_deliver,
 * so none reaches cbs.message. Two timerfds drive the checks, so they run
 * while nothing else happens: the worker's, armed for timeout + 1 ms at the
 * start of each request (disarmed when it returns), and live_fd here, armed
 * for the next heartbeat or its deadline. A healthy corosync wakes the loop
 * for the heartbeats only (four per deadline).
 */
#include <corosync/corotypes.h>
#include <corosync/cpg.h>
#include <corosync/quorum.h>
#include <stdlib.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "backend-cpg.h"
#include "cluster-internal.h"

#define SUSPECT_VIEW_MS 500
/* The heartbeat: magic (4) | nonce (4) | sequence (8), big-endian. */
#define HB_LEN 16
#define HB_MAGIC UINT32_C(0x00766862)
#define HB_DEADLINE_MIN_MS 2000
#define HB_DEADLINE_FACTOR 10

enum { TAG_CPG, TAG_QUORUM, TAG_SUSPECT, TAG_LIVE, TAG_WORKER, TAG_CALL, _TAG_MAX };

struct vip_cl_backend {
	struct vip_cl_backend_cbs cbs;
	void *userdata;
	struct vip_cl_cpg_worker *w; /* owns every request to corosync */
	struct vip_cl_cpg_conn conn; /* handles and fds (the worker finalizes them) */
	bool quorum_provider;        /* corosync has a quorum provider (else always quorate) */
	int epfd, timer_fd, live_fd;
	struct cpg_name group;
	bool joined, dead, quorate, quorum_pending;
	uint32_t nodeid, pid;
	uint64_t ring_seq;
	/* liveness (see above); live_ms 0: off; live_fd: the heartbeat's timer */
	uint32_t live_ms;
	bool alive;
	bool hb_pending;   /* a heartbeat is in flight */
	uint32_t hb_nonce; /* tells this instance's heartbeats from an older one's */
	uint64_t hb_seq, hb_sent_at, hb_next;
	/* quorate is q_quorate unless the membership is suspect (see above) */
	bool q_quorate;         /* the quorum service's last verdict */
	uint64_t q_seq;         /* ... and the ring it was about */
	uint64_t suspect_until; /* 0, or: inquorate until a verdict on a ring this new */
	uint32_t ring_n;        /* nodes in the last totem ring */
	size_t view_n;          /* members of the last view */
	unsigned q_count;       /* notifications received */
	unsigned view_q_count;  /* ... when the suspect view arrived */
	bool view_suspect;      /* a view lost half or more to node loss */
	/* a delivery this dispatch was large: give the stack it used back (backend-cpg-stack.c) */
	bool big_delivery;
	struct vip_cl_cpg_stack stack;
};

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
		out[i] = (struct vip_cl_member){
			.nodeid = in[i].nodeid,
			.pid = in[i].pid,
			.reason = map_reason(in[i].reason),
		};
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
		       const struct cpg_address *members, size_t n_members, const struct cpg_address *left,
		       size_t n_left, const struct cpg_address *joined, size_t n_joined)
{
	struct vip_cl_backend *b = from_cpg(h);
	struct vip_cl_member m[CPG_MEMBERS_MAX], l[CPG_MEMBERS_MAX], j[CPG_MEMBERS_MAX];
	uint32_t pid = (uint32_t)getpid();

	if (!b || n_members > CPG_MEMBERS_MAX || n_left > CPG_MEMBERS_MAX || n_joined > CPG_MEMBERS_MAX)
		return;
	map_list(members, n_members, m);
	map_list(left, n_left, l);
	map_list(joined, n_joined, j);
	struct vip_cl_view v = {
		.ring_seq = b->ring_seq,
		.members = m,
		.n_members = n_members,
		.joined = j,
		.n_joined = n_joined,
		.left = l,
		.n_left = n_left,
		.self = -1,
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

static void on_totem(cpg_handle_t h, struct cpg_ring_id ring, uint32_t n, _unused_ const uint32_t *list)
{
	struct vip_cl_backend *b = from_cpg(h);
	if (!b)
		return;
	b->ring_seq = ring.seq;
	if (b->ring_n && (uint64_t)n * 2 <= b->ring_n)
		suspect_ring(b, ring.seq);
	b->ring_n = n;
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static bool is_heartbeat(const void *msg, size_t len)
{
	return len == HB_LEN && get_be(msg, 4) == HB_MAGIC;
}

static uint64_t hb_interval(const struct vip_cl_backend *b);

/* Our own heartbeat came back: the ring delivers. */
static void heartbeat_delivered(struct vip_cl_backend *b, uint32_t nodeid, uint32_t pid, const uint8_t *msg)
{
	if (nodeid != b->nodeid || pid != b->pid || get_be(msg + 4, 4) != b->hb_nonce ||
	    get_be(msg + 8, 8) != b->hb_seq || !b->hb_pending)
		return;
	b->hb_pending = false;
	b->hb_next = b->hb_sent_at + hb_interval(b);
}

static void on_deliver(cpg_handle_t h, _unused_ const struct cpg_name *group, uint32_t nodeid, uint32_t pid,
		       void *msg, size_t len)
{
	struct vip_cl_backend *b = from_cpg(h);
	struct vip_cl_member s = { .nodeid = nodeid, .pid = pid };

	if (!b)
		return;
	if (is_heartbeat(msg, len)) { /* every member's: never the caller's business */
		heartbeat_delivered(b, nodeid, pid, msg);
		return;
	}
	if (len > VIP_CL_CPG_STACK_BIG)
		b->big_delivery = true;
	if (b->cbs.message)
		b->cbs.message(b->userdata, &s, msg, len);
}

static void on_quorum(quorum_handle_t h, uint32_t quorate, uint64_t seq, _unused_ uint32_t n,
		      _unused_ uint32_t *list)
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

static uint64_t hb_deadline(const struct vip_cl_backend *b)
{
	uint64_t d = (uint64_t)b->live_ms * HB_DEADLINE_FACTOR;

	return d > HB_DEADLINE_MIN_MS ? d : HB_DEADLINE_MIN_MS;
}

/*
 * A heartbeat every quarter of its deadline: a ring that delivers nothing
 * is seen within 1.25 x the deadline. No more often: each multicast keeps
 * corosync's token circling at full speed for a while instead of being
 * held, and at one per timeout/2 from each engine the three corosyncs of
 * the lab burned four times the CPU they need alone (docs/fault-tolerance.md).
 */
static uint64_t hb_interval(const struct vip_cl_backend *b)
{
	return hb_deadline(b) / 4;
}

static void send_heartbeat(struct vip_cl_backend *b, uint64_t now)
{
	uint8_t hb[HB_LEN];

	if (!b->joined || b->hb_pending || now < b->hb_next)
		return;
	put_be(hb, HB_MAGIC, 4);
	put_be(hb + 4, b->hb_nonce, 4);
	put_be(hb + 8, b->hb_seq + 1, 8);
	/* Unbounded, so a full queue cannot starve it; one in flight at most. */
	if (vip_cl_cpg_worker_send(b->w, hb, sizeof(hb), true) < 0)
		return;
	b->hb_seq++;
	b->hb_pending = true;
	b->hb_sent_at = now;
}

static void arm_live_timer(struct vip_cl_backend *b, uint64_t at_ms)
{
	struct itimerspec its = { .it_value = { .tv_sec = (time_t)(at_ms / 1000),
						.tv_nsec = (long)(at_ms % 1000) * 1000000L } };

	(void)timerfd_settime(b->live_fd, TFD_TIMER_ABSTIME, &its, NULL); /* 0: off */
}

/* Judge liveness now; tell the caller when it changed. */
static void check_liveness(struct vip_cl_backend *b)
{
	struct vip_cl_cpg_worker_status st;
	uint64_t now;
	bool alive = true;

	if (b->live_ms) {
		vip_cl_cpg_worker_status(b->w, &st);
		now = vip_cl_cpg_now_ms(); /* after the status: call_since <= now */
		if (st.call_since && now - st.call_since > b->live_ms)
			alive = false; /* (a) corosync does not answer */
		/* A stall (a) already reported restarts the ring's clock (b). */
		if (b->hb_pending && st.stall_end > b->hb_sent_at)
			b->hb_sent_at = st.stall_end;
		if (b->hb_pending && now - b->hb_sent_at > hb_deadline(b))
			alive = false; /* (b) the ring delivers nothing */
		send_heartbeat(b, now);
		if (b->hb_pending)
			arm_live_timer(b, b->hb_sent_at + hb_deadline(b) + 1);
		else if (b->joined)
			arm_live_timer(b, b->hb_next > now ? b->hb_next : now + 1);
	}
	if (alive == b->alive)
		return;
	b->alive = alive;
	if (b->cbs.liveness)
		b->cbs.liveness(b->userdata, alive);
}

static int add_fd(int epfd, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? negerrno() : 0;
}

/*
 * The worker finalizes the handles: it waits VIP_CL_CPG_FREE_WAIT_MS at most
 * (sending what is queued, a planned leave's last messages), then is left to
 * finish on its own (backend-cpg-worker.c).
 */
static void cpg_backend_free(struct vip_cl_backend *b)
{
	if (!b)
		return;
	vip_cl_cpg_worker_stop(b->w, VIP_CL_CPG_FREE_WAIT_MS);
	if (b->epfd >= 0)
		close(b->epfd);
	if (b->timer_fd >= 0)
		close(b->timer_fd);
	if (b->live_fd >= 0)
		close(b->live_fd);
	free(b);
}

static int setup_fds(struct vip_cl_backend *b)
{
	int r = 0;

	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	b->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	b->live_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (b->epfd < 0 || b->timer_fd < 0 || b->live_fd < 0)
		return negerrno();
	r = add_fd(b->epfd, b->conn.cpg_fd, TAG_CPG);
	if (r == 0 && b->conn.quorum_fd >= 0)
		r = add_fd(b->epfd, b->conn.quorum_fd, TAG_QUORUM);
	if (r == 0)
		r = add_fd(b->epfd, b->timer_fd, TAG_SUSPECT);
	if (r == 0)
		r = add_fd(b->epfd, b->live_fd, TAG_LIVE);
	if (r == 0)
		r = add_fd(b->epfd, vip_cl_cpg_worker_fd(b->w), TAG_WORKER);
	if (r == 0)
		r = add_fd(b->epfd, vip_cl_cpg_worker_timer_fd(b->w), TAG_CALL);
	return r;
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
	quorum_callbacks_t qcb = { .quorum_notify_fn = on_quorum };
	struct vip_cl_backend *b = calloc(1, sizeof(*b));
	struct timespec ts;
	int r;

	if (!b)
		return -ENOMEM;
	b->cbs = *cbs;
	b->userdata = userdata;
	b->epfd = b->timer_fd = b->live_fd = -1;
	b->alive = true;
	b->pid = (uint32_t)getpid();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	b->hb_nonce = (uint32_t)ts.tv_nsec ^ (uint32_t)(uintptr_t)b ^ b->pid << 16;
	r = vip_cl_cpg_worker_start(&model, cbs->quorum ? &qcb : NULL, b, &b->w, &b->conn);
	if (r < 0) {
		free(b);
		return r;
	}
	b->nodeid = b->conn.nodeid;
	b->quorum_provider = b->conn.quorum_provider;
	b->quorate = b->q_quorate = b->conn.quorate;
	r = setup_fds(b);
	if (r < 0) {
		cpg_backend_free(b);
		return r;
	}
	*ret = b;
	return 0;
}

static int cpg_backend_join(struct vip_cl_backend *b, const char *group)
{
	size_t n = strlen(group);
	int r;

	if (n == 0 || n > CPG_MAX_NAME_LENGTH)
		return -EINVAL;
	if (b->dead)
		return -ECONNRESET;
	b->group.length = (uint32_t)n;
	memcpy(b->group.value, group, n);
	/* Queued: a refusal arrives through lost() at a later dispatch. */
	r = vip_cl_cpg_worker_join(b->w, &b->group);
	if (r == 0) {
		b->joined = true;
		b->quorum_pending = true; /* tell the caller the current value at the next dispatch */
		b->hb_next = 0;
	}
	return r;
}

static int cpg_backend_leave(struct vip_cl_backend *b)
{
	if (!b->joined)
		return -ENOTCONN;
	b->joined = false;
	b->hb_pending = false; /* no more heartbeats: nothing to wait for */
	return vip_cl_cpg_worker_leave(b->w);
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

static int worker_fatal(struct vip_cl_backend *b)
{
	struct vip_cl_cpg_worker_status st;

	vip_cl_cpg_worker_status(b->w, &st);
	return st.fatal;
}

static void on_suspect_timer(struct vip_cl_backend *b)
{
	uint64_t ticks;

	/* no fresh verdict after a suspect view */
	if (read(b->timer_fd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks)) {
		end_view_suspicion(b);
		update_quorate(b, false);
	}
}

static int cpg_backend_dispatch(struct vip_cl_backend *b)
{
	struct epoll_event ev[_TAG_MAX];
	uint64_t ticks;
	int r;

	if (b->dead)
		return -ECONNRESET;
	r = worker_fatal(b);
	if (r < 0)
		return lost(b, r);
	if (b->quorum_pending) {
		b->quorum_pending = false;
		if (b->cbs.quorum)
			b->cbs.quorum(b->userdata, b->quorate);
	}
	int n = epoll_wait(b->epfd, ev, _TAG_MAX, 0);
	if (n < 0)
		return errno == EINTR ? 0 : lost(b, negerrno());
	for (int i = 0; i < n; i++) {
		switch (ev[i].data.u64) {
		case TAG_SUSPECT:
			on_suspect_timer(b);
			continue;
		case TAG_LIVE: /* the check below runs anyway */
			if (read(b->live_fd, &ticks, sizeof(ticks)) < 0)
				continue;
			continue;
		case TAG_WORKER:
		case TAG_CALL:
			vip_cl_cpg_worker_ack(b->w);
			continue;
		}
		if (ev[i].events & (EPOLLHUP | EPOLLERR) && !(ev[i].events & EPOLLIN))
			return lost(b, -ECONNRESET);
		cs_error_t e = ev[i].data.u64 == TAG_CPG ? cpg_dispatch(b->conn.cpg, CS_DISPATCH_ALL)
							 : quorum_dispatch(b->conn.quorum, CS_DISPATCH_ALL);
		if (b->big_delivery) {
			b->big_delivery = false;
			vip_cl_cpg_stack_release(&b->stack);
		}
		if (e != CS_OK && e != CS_ERR_TRY_AGAIN)
			return lost(b, vip_cl_cpg_errno(e) == -EAGAIN ? -EIO : -ECONNRESET);
	}
	r = worker_fatal(b);
	if (r < 0)
		return lost(b, r);
	check_liveness(b);
	return 0;
}

static int cpg_backend_send(struct vip_cl_backend *b, const void *data, size_t len)
{
	int r;

	if (b->dead)
		return -ECONNRESET;
	if (!b->joined)
		return -ENOTCONN;
	if (is_heartbeat(data, len))
		return -EINVAL; /* reserved for the backend's own heartbeat */
	r = worker_fatal(b);
	if (r < 0)
		return r;
	return vip_cl_cpg_worker_send(b->w, data, len, false);
}

static void cpg_backend_set_liveness_timeout(struct vip_cl_backend *b, uint32_t timeout_ms)
{
	b->live_ms = timeout_ms;
	vip_cl_cpg_worker_set_timeout(b->w, timeout_ms);
	/* Check at the next dispatch: starts the heartbeat, or reports alive when turned off. */
	arm_live_timer(b, vip_cl_cpg_now_ms());
}

static bool cpg_backend_is_quorate(struct vip_cl_backend *b)
{
	return !b->dead && b->quorate;
}

static int cpg_backend_local(struct vip_cl_backend *b, struct vip_cl_member *ret)
{
	*ret = (struct vip_cl_member){ .nodeid = b->nodeid, .pid = b->pid };
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
	.set_liveness_timeout = cpg_backend_set_liveness_timeout,
};

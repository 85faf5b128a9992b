/* SPDX-License-Identifier: MIT */
/*
 * cluster/: the corosync backend's worker thread (backend-cpg-worker.c),
 * private to backend-cpg.c. Not a public header.
 *
 * Every libcpg/libquorum call that waits for an answer from corosync runs on
 * this thread: with corosync stopped (SIGSTOP, a hang) cpg_local_get,
 * quorum_getquorate, cpg_join, cpg_leave, cpg_finalize and
 * cpg_model_initialize never return, and cpg_mcast_joined blocks once 278
 * requests are unread (libqb writes a wake-up byte per request to a socket
 * corosync no longer reads), or at once for a message larger than the IPC
 * buffer (libcpg waits for the reply to each fragment); see the numbers and
 * how they were taken in tests/netns/cpg-measure.c. cpg_dispatch and
 * quorum_dispatch only read what corosync already wrote, never block, and
 * stay on the loop thread.
 *
 * The worker owns a bounded FIFO of commands (join, multicast, leave), runs
 * them in order, retries CS_ERR_TRY_AGAIN with a back-off, and probes
 * corosync (cpg_local_get) at a set interval so a hung corosync shows up as a
 * call outstanding for long. It tells the loop thread through an eventfd.
 *
 * Locking: one mutex guards everything shared. The libcpg handle is used by
 * both threads at once: the worker sends requests and waits for replies
 * (libqb's request and response rings), the loop thread runs cpg_dispatch
 * (the event ring); libcpg's handle database is thread-safe, and the two
 * share no libqb state but the socket (the worker writes, dispatch reads).
 */
#ifndef VIP_CL_BACKEND_CPG_H
#define VIP_CL_BACKEND_CPG_H

#include <corosync/cpg.h>
#include <corosync/quorum.h>
#include <stdbool.h>
#include <stdint.h>

/* The outgoing queue: bounded by count and bytes (the backend's private heartbeat aside). */
#define VIP_CL_CPG_QUEUE_MAX 1024
#define VIP_CL_CPG_QUEUE_BYTES (4u << 20)
/* Back-off between retries of a request corosync answered with CS_ERR_TRY_AGAIN. */
#define VIP_CL_CPG_RETRY_FIRST_MS 1
#define VIP_CL_CPG_RETRY_MAX_MS 50
/* How long connect() waits for corosync to answer, and free() for the worker to finish. */
#define VIP_CL_CPG_CONNECT_WAIT_MS 1000
#define VIP_CL_CPG_FREE_WAIT_MS 1000

struct vip_cl_cpg_worker; /* shared by the loop thread and the worker thread */

/* What connect established; read-only once vip_cl_cpg_worker_start returned. */
struct vip_cl_cpg_conn {
	cpg_handle_t cpg;
	quorum_handle_t quorum;
	bool have_cpg, have_quorum;
	bool quorum_provider;  /* corosync has a quorum provider */
	bool quorate;          /* its verdict at connect */
	int cpg_fd, quorum_fd; /* quorum_fd -1 without a provider */
	uint32_t nodeid;
};

/* What the loop thread may read at any time. */
struct vip_cl_cpg_worker_status {
	int fatal;           /* 0, or -errno: a request failed for good; the backend is dead */
	uint64_t call_since; /* CLOCK_MONOTONIC ms when the call in progress started, 0 when none */
	const char *call;    /* its name ("cpg_mcast_joined", ...) or NULL */
	uint64_t stall_end;  /* when the last call outstanding past the timeout returned, 0: never */
	uint64_t probes;     /* probes completed */
	uint64_t retries;    /* CS_ERR_TRY_AGAIN answers retried */
	uint64_t sent;       /* multicasts corosync took */
	size_t queued;       /* commands waiting */
};

/*
 * Start the worker and let it connect (cpg_model_initialize with model and
 * context, cpg_local_get, quorum_initialize with qcb and context, the
 * quorum's current verdict and tracking; qcb NULL: no quorum connection,
 * conn->quorate true, conn->quorum_fd -1). Waits at most
 * VIP_CL_CPG_CONNECT_WAIT_MS for corosync. 0 with *ret and *conn filled;
 * -ECONNREFUSED (corosync not running), -ETIMEDOUT (corosync did not answer:
 * the worker is left to finish and clean up on its own), or another -errno.
 * The worker runs with every signal blocked.
 */
int vip_cl_cpg_worker_start(const cpg_model_v1_data_t *model, const quorum_callbacks_t *qcb, void *context,
			    struct vip_cl_cpg_worker **ret, struct vip_cl_cpg_conn *conn);
/*
 * Stop: run what is queued (a planned leave sends its last messages), then
 * cpg_finalize and quorum_finalize, waiting at most wait_ms. When the worker
 * is still stuck in corosync it is detached: it drops what is left, finalizes
 * when (if ever) corosync answers or dies, and frees itself; it never touches
 * anything of the caller's again. Accepts NULL.
 */
void vip_cl_cpg_worker_stop(struct vip_cl_cpg_worker *w, unsigned wait_ms);
/* The eventfd the loop thread watches (EPOLLIN: look at the status). */
int vip_cl_cpg_worker_fd(struct vip_cl_cpg_worker *w);
/* A timerfd the loop thread watches too: fires when a request is outstanding past the timeout. */
int vip_cl_cpg_worker_timer_fd(struct vip_cl_cpg_worker *w);
/* Read both fds empty. */
void vip_cl_cpg_worker_ack(struct vip_cl_cpg_worker *w);
void vip_cl_cpg_worker_status(struct vip_cl_cpg_worker *w, struct vip_cl_cpg_worker_status *ret);

/* Queue a join of group (copied). 0 or -ENOMEM. */
int vip_cl_cpg_worker_join(struct vip_cl_cpg_worker *w, const struct cpg_name *group);
/* Queue a leave of the joined group. 0 or -ENOMEM. */
int vip_cl_cpg_worker_leave(struct vip_cl_cpg_worker *w);
/*
 * Queue a copy of data for cpg_mcast_joined(CPG_TYPE_AGREED). 0; -EAGAIN
 * when the queue is full (the eventfd fires once there is room again);
 * -EMSGSIZE when len exceeds VIP_CL_CPG_QUEUE_BYTES; -ENOMEM. unbounded:
 * skip the bounds (the backend's own heartbeat, at most one queued).
 */
int vip_cl_cpg_worker_send(struct vip_cl_cpg_worker *w, const void *data, size_t len, bool unbounded);
/*
 * The liveness timeout (0: off): probe corosync (cpg_local_get) every
 * timeout_ms/3, and fire the timer fd when a request has been outstanding
 * longer than timeout_ms.
 */
void vip_cl_cpg_worker_set_timeout(struct vip_cl_cpg_worker *w, uint32_t timeout_ms);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t vip_cl_cpg_now_ms(void);

/*
 * The stack of the thread that runs cpg_dispatch (backend-cpg-stack.c):
 * deliveries larger than VIP_CL_CPG_STACK_BIG leave it resident, and
 * vip_cl_cpg_stack_release, called on that thread once cpg_dispatch has
 * returned, gives every page below the caller's frame back. Zero it first.
 */
#define VIP_CL_CPG_STACK_BIG (64u << 10)
struct vip_cl_cpg_stack {
	bool known;        /* the bounds were asked for */
	uintptr_t low;     /* the stack's lowest address, 0 when unknown */
	unsigned released; /* times it gave pages back */
};
void vip_cl_cpg_stack_release(struct vip_cl_cpg_stack *s);
/* A corosync error as -errno. */
int vip_cl_cpg_errno(cs_error_t e);

#endif

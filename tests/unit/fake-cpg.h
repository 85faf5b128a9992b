/* SPDX-License-Identifier: MIT */
/*
 * A fake libcpg/libquorum for tests/unit/test-cl-cpg*.c, linked in with
 * -Wl,--wrap (tests/unit/meson.build), and the loop side those tests share.
 * The calls that wait for corosync in the real library (initialize, join,
 * leave, local_get, mcast, finalize, getquorate) can be made to block until
 * the test releases them, record what was multicast, and note when one of
 * them runs on the test's own thread, which plays vipd's event loop. One
 * cpg_dispatch delivers a fixed ring, view and message (see fake-cpg.c).
 */
#ifndef VIP_TEST_FAKE_CPG_H
#define VIP_TEST_FAKE_CPG_H

#include <corosync/cpg.h>
#include <corosync/quorum.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster.h"

#define FAKE_SENT_MAX 4096
#define FAKE_SENT_BYTES 32 /* bytes of each multicast kept */
#define FAKE_SCRIPT_MAX 16
/* A blocked call gives up after this long, so a broken backend fails instead of hanging. */
#define FAKE_BLOCK_CAP_MS 10000

struct fake_sent {
	uint8_t data[FAKE_SENT_BYTES];
	size_t len;
};

struct fake_cpg {
	/* set up by the fake, read by the test after connect */
	cpg_model_v1_data_t model;
	void *ctx;
	const void *qctx;
	quorum_notification_fn_t qfn;
	int cpg_fd, q_fd;
	/* set by the test before the call that uses it */
	cs_error_t init_err, join_err, dispatch_err, mcast_err;
	uint32_t qtype;
	int quorate;
	/* shared with the backend's worker thread: under fake_lock() */
	bool block_init, block_mcast, block_local, block_finalize;
	bool in_mcast, in_local, in_init;
	cs_error_t script[FAKE_SCRIPT_MAX]; /* results of the next mcasts, then mcast_err */
	size_t n_script;
	int guarantee;
	bool bad_iov;        /* an mcast with other than one iovec */
	bool on_loop_thread; /* a call that waits for corosync ran on the test's thread */
	size_t mcast_calls, local_calls, joins, leaves, finalized, q_finalized, q_inits;
	/*
	 * nonzero: the next dispatch delivers one message of big_len bytes from
	 * a 1 MiB buffer on its own stack, as libcpg's cpg_dispatch does
	 */
	size_t big_len;
	struct fake_sent sent[FAKE_SENT_MAX]; /* multicasts that succeeded, in order */
	size_t n_sent;
};

extern struct fake_cpg fk;

/* Reset everything (no worker may be running) and remember the calling thread as the loop. */
void fake_reset(void);
void fake_lock(void);
void fake_unlock(void);
/* Clear *flag under the lock and wake every blocked call. */
void fake_release(bool *flag);
/* Wait up to ms for pred() (checked under the lock). */
bool fake_wait(bool (*pred)(void), unsigned ms);
/* Copy of sent[i] under the lock. */
struct fake_sent fake_sent_get(size_t i);
size_t fake_n_sent(void);
uint64_t fake_now_ms(void);

/* ---- the loop side: what the backend reported, and a loop to run it ---- */

struct seen {
	size_t views, messages, quorums, lost, live_false, live_true;
	bool quorate, alive;
	uint64_t live_false_at, live_true_at;
	int lost_err;
	struct vip_cl_view v;
	struct vip_cl_member members[4], left[4], joined[4], sender;
	char msg[16];
};

extern const struct vip_cl_backend_cbs cbs; /* fill the struct seen passed as userdata */
extern uint64_t longest_us;                 /* the longest dispatch() of the last pump() */
extern size_t want;                         /* sent_enough(): fk.n_sent >= want */

/* cmocka setup: fake_reset(); teardown: nothing ran on the loop thread, iovecs were single. */
int setup(void **state);
int teardown(void **state);
const struct vip_cl_backend_ops *cpg(void);
void connect_join(const struct vip_cl_backend_ops *ops, struct seen *s, struct vip_cl_backend **b);
/* Make fd (an eventfd) readable. */
void kick(int fd);
uint64_t now_us(void);
bool is_hb(const struct fake_sent *m);
/* Deliver a message as cpg_dispatch would (call from the loop thread). */
void deliver(uint32_t nodeid, uint32_t pid, const void *data, size_t len);
/* Deliver our own heartbeats multicast since the last call back to us. */
void echo_heartbeats(void);
/* Poll the backend's fd and dispatch until pred(s) or ms pass; echo: echo_heartbeats() too. */
bool pump(const struct vip_cl_backend_ops *ops, struct vip_cl_backend *b, struct seen *s,
	  bool (*pred)(const struct seen *), unsigned ms, bool echo);
bool was_lost(const struct seen *s);
bool went_dead(const struct seen *s);
bool came_back(const struct seen *s);
/* fake_wait() predicates */
bool sent_enough(void);
bool in_mcast(void);
bool in_local(void);
bool in_init(void);
bool finalized(void);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * A fake libcpg/libquorum for tests/unit/test-cl-cpg.c, linked in with
 * -Wl,--wrap (tests/unit/meson.build). The calls that wait for corosync in
 * the real library (initialize, join, leave, local_get, mcast, finalize,
 * getquorate) can be made to block until the test releases them, record
 * what was multicast, and note when one of them runs on the test's own
 * thread, which plays vipd's event loop.
 */
#ifndef VIP_TEST_FAKE_CPG_H
#define VIP_TEST_FAKE_CPG_H

#include <corosync/cpg.h>
#include <corosync/quorum.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAKE_SENT_MAX 4096
#define FAKE_SENT_BYTES 32  /* bytes of each multicast kept */
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
	bool bad_iov;           /* an mcast with other than one iovec */
	bool on_loop_thread;    /* a call that waits for corosync ran on the test's thread */
	size_t mcast_calls, local_calls, joins, leaves, finalized, q_finalized;
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

#endif

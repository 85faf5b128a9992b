/* SPDX-License-Identifier: MIT */
/*
 * vipd/daemon: the pump. After every input the protocol's queued actions go
 * out (messages to the backend, holds and releases to the engine), the
 * engine reconciles, the timers are re-armed for the next deadline, owner
 * changes are reported and systemd's STATUS line is kept current.
 */
#include <errno.h>
#include <malloc.h>

#include "daemon-internal.h"
#include "log.h"
#include "sdnotify.h"

#define PUMP_MAX_ROUNDS 32
#define RETRY_FAILED_MS 1000u
#define RETRY_SEND_MS 20u

void vipd_daemon_notify_status(struct vipd_daemon *d)
{
	struct vipd_engine_metrics m;
	struct vip_cl_status st = { 0 };

	if (!d->engine)
		return;
	vipd_engine_get_metrics(d->engine, &m);
	if (d->proto)
		vip_cl_proto_status(d->proto, &st);
	vipd_sd_notifyf("STATUS=%zu of %zu DuraVIPs owned here; %zu member%s in view%s", m.owned,
			vipd_engine_n_vips(d->engine), d->proto ? vip_cl_proto_n_members(d->proto) : 0,
			d->proto && vip_cl_proto_n_members(d->proto) == 1 ? "" : "s",
			d->be ? "" : "; membership engine disconnected");
	d->last_owned = m.owned;
}

void daemon_arm_timers(struct vipd_daemon *d)
{
	uint64_t now = loop_now_ms(), t;

	if (d->proto) {
		t = vip_cl_proto_next_timeout(d->proto, now);
		if (t == UINT64_MAX)
			loop_timer_disarm(d->t_proto);
		else
			loop_timer_arm(d->t_proto, t, 0);
	}
	t = d->engine && d->t_probe ? vipd_engine_next_probe(d->engine) : UINT64_MAX;
	if (t == UINT64_MAX)
		loop_timer_disarm(d->t_probe);
	else
		loop_timer_arm_at(d->t_probe, t > now ? t : now, 0);
	t = vipd_announce_next_due(d->announce, now);
	if (t == UINT64_MAX)
		loop_timer_disarm(d->t_announce);
	else
		loop_timer_arm_at(d->t_announce, t, 0);
}

int daemon_arm_check_timer(struct vipd_daemon *d)
{
	uint32_t ms = d->cfg->cluster.if_check_interval_ms ? d->cfg->cluster.if_check_interval_ms : 30000;

	return loop_timer_arm(d->t_check, ms, ms);
}

/* The protocol's sink during one pump: a send refused once stays refused until the retry. */
struct drain_ctx {
	struct vipd_daemon *d;
	bool blocked;
};

static int sink_send(void *data, const uint8_t *msg, size_t len)
{
	struct drain_ctx *c = data;
	int r;

	if (!c->d->be)
		return -ENOTCONN; /* dropped: the next view starts a new round */
	if (c->blocked)
		return -EAGAIN;
	r = c->d->be_ops->send(c->d->be, msg, len);
	if (r < 0 && r != -EAGAIN)
		log_warning_errno_ratelimit(r, "Failed to multicast a %zu-byte message: %m", len);
	return r;
}

static void sink_hold(void *data, const struct vip_addr *a)
{
	struct drain_ctx *c = data;

	if (!c->d->stopping)
		vipd_engine_on_hold(c->d->engine, a);
}

static void sink_release(void *data, const struct vip_addr *a)
{
	struct drain_ctx *c = data;

	if (!c->d->stopping)
		vipd_engine_on_release(c->d->engine, a);
}

/* A peer's NEIGH (ours come back too: the cache ignores its own name). */
static void sink_neigh(void *data, const struct vip_cl_msg *m)
{
	struct drain_ctx *c = data;
	int r = vipd_neigh_merge(c->d->neigh, m, loop_now_ms());

	if (r < 0)
		log_warning_errno_ratelimit(r, "Failed to merge a neighbour cache message: %m");
}

/* Holds and releases always, messages until corosync's flow control refuses one. */
bool daemon_drain(struct vipd_daemon *d, bool *blocked)
{
	struct drain_ctx c = { .d = d, .blocked = *blocked };
	const struct vip_cl_sink sink = { .send = sink_send,
					  .hold = sink_hold,
					  .release = sink_release,
					  .data = &c,
					  .neigh = sink_neigh };
	bool now_blocked = false;
	int n;

	if (!d->proto)
		return false;
	n = vip_cl_proto_drain(d->proto, &sink, &now_blocked);
	if (n < 0)
		log_error_errno(n, "Failed to hand out the protocol's actions: %m");
	if (now_blocked && !*blocked) {
		/* Corosync flow control: the message stays queued, retry soon. */
		loop_timer_arm(d->t_retry, RETRY_SEND_MS, 0);
	}
	*blocked |= now_blocked;
	return n > 0;
}

void vipd_daemon_pump(struct vipd_daemon *d)
{
	struct vipd_engine_metrics m, m0 = { 0 };
	bool blocked = false, failed = false;

	if (d->engine)
		vipd_engine_get_metrics(d->engine, &m0);
	for (int round = 0; round < PUMP_MAX_ROUNDS; round++) {
		bool progress = daemon_drain(d, &blocked);

		/* After a failed reconcile only the queue is drained: the retry
		 * timer brings the next attempt, so an error that persists is no busy loop. */
		if (!d->stopping && !failed && vipd_engine_is_dirty(d->engine)) {
			int r = vipd_engine_reconcile(d->engine, loop_now_ms());

			if (r < 0)
				log_error_errno(r, "Reconcile failed: %m");
			if (r != 0) {
				failed = true;
				if (!loop_timer_is_armed(d->t_retry))
					loop_timer_arm(d->t_retry, RETRY_FAILED_MS, 0);
			}
			progress = true;
		}
		if (!progress)
			break;
	}
	if (d->stopping)
		return;
	daemon_arm_timers(d);
	daemon_watch_owners(d);
	vipd_engine_get_metrics(d->engine, &m);
	if (m.owned != d->last_owned)
		vipd_daemon_notify_status(d);
#ifdef __GLIBC__
	if (m.acquired + m.released - m0.acquired - m0.released >= TRIM_AFTER_CHANGES)
		malloc_trim(0);
#endif
}

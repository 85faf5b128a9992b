/* SPDX-License-Identifier: MIT */
/*
 * vipd/monitor: the monitor's own membership in the cluster group (see
 * monitor.h). It only speaks: MONITOR{node} on every view that holds it, so
 * the protocol knows this member for a monitor and never a candidate, and
 * FLUSHED{node} after it removed a dead engine's addresses, so the others may
 * take them. What it hears is ignored, but for its own FLUSHED: with a
 * cluster key every message is sealed with the view it is sent in
 * (docs/protocol.md, "Authentication"), and a FLUSHED delivered after a
 * view change (the engine's leave often comes first) is ignored by
 * everyone: then it is sent again in the new view. To spare that second
 * round, a FLUSHED waits until the view no longer holds the crashed engine
 * (corosync delivers its leave a moment after the crash), for at most
 * FLUSHED_HOLD_MS; when the view never showed the engine (another pid
 * namespace, or it died before joining) nothing is held. Connected as root, so a
 * reconnect needs no uidgid entry in corosync's configuration; the key is
 * read as root too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authkey.h"
#include "log.h"
#include "monitor-internal.h"

#define SEND_RETRY_MS 20u
#define FLUSHED_HOLD_MS 200u

static void send_pending(struct vipd_monitor *m);

static void cl_view(void *data, const struct vip_cl_view *v)
{
	struct vipd_monitor *m = data;

	m->cl.in_view = v->self >= 0 && (size_t)v->self < v->n_members;
	if (!m->cl.in_view)
		return;
	m->cl.self = v->members[v->self];
	m->cl.view = vip_cl_view_digest(v->members, v->n_members);
	m->cl.want_monitor = true;
	/* the engine's pid does not change while a FLUSHED is held: no restart before it is confirmed */
	m->cl.engine_in_view = false;
	for (size_t i = 0; i < v->n_members && m->last_pid > 0; i++)
		m->cl.engine_in_view |= v->members[i].nodeid == m->cl.self.nodeid &&
					v->members[i].pid == (uint32_t)m->last_pid;
	if (m->cl.flushed_held && !m->cl.engine_in_view) {
		log_debug("monitor: the crashed engine left the view; FLUSHED goes now");
		m->cl.flushed_held = false; /* sent after this dispatch */
	}
}

static void cl_message(void *data, const struct vip_cl_member *sender, const void *msg, size_t len)
{
	struct vipd_monitor *m = data;
	const uint8_t *b = msg;
	struct vip_cl_auth_info ai;

	/* The engines' protocol is not the monitor's business; its own FLUSHED is. */
	if (sender->nodeid != m->cl.self.nodeid || sender->pid != m->cl.self.pid || len < 4 ||
	    b[3] != VIP_CL_MSG_FLUSHED)
		return;
	if (!m->cl.key) {
		m->cl.flushed_unconfirmed = false;
		return;
	}
	if (vip_cl_auth_verify(NULL, sender, b, len, &ai) < 0)
		return;
	if (ai.view != m->cl.view) {
		log_debug("monitor: FLUSHED crossed a view change; sending it again");
		m->cl.want_flushed = true;
		return;
	}
	m->cl.flushed_unconfirmed = false;
}

bool monitor_cluster_flush_unconfirmed(const struct vipd_monitor *m, uint32_t max_wait_ms)
{
	return m->cl.ops && m->cl.be && m->cl.flushed_unconfirmed &&
	       loop_now_ms() - m->cl.flushed_since < max_wait_ms;
}

static void cl_lost(void *data, int error)
{
	struct vipd_monitor *m = data;

	log_warning_errno(error, "monitor: the connection to %s broke (%m); reconnecting", m->cl.ops->name);
	m->cl.lost = true;
}

static const struct vip_cl_backend_cbs callbacks = {
	.view = cl_view,
	.message = cl_message,
	/* no .quorum: the monitor never asks corosync's quorum service */
	.lost = cl_lost,
};

static void disconnect(struct vipd_monitor *m)
{
	if (!m->cl.be)
		return;
	if (m->loop)
		loop_remove_fd(m->loop, m->cl.ops->fd(m->cl.be));
	m->cl.ops->free(m->cl.be);
	m->cl.be = NULL;
	m->cl.lost = false;
	m->cl.in_view = false;
	m->cl.engine_in_view = false;
	m->cl.flushed_held = false; /* a new connection sends it once in its first view */
}

static void schedule_reconnect(struct vipd_monitor *m)
{
	const struct vipd_monitor_timing *t = &m->opts.timing;

	if (m->stopping)
		return;
	if (m->cl.reconnect_ms == 0)
		m->cl.reconnect_ms = t->reconnect_first_ms;
	loop_timer_arm(m->cl.t_reconnect, m->cl.reconnect_ms, 0);
	m->cl.reconnect_ms = m->cl.reconnect_ms > t->reconnect_max_ms / 2 ? t->reconnect_max_ms
									  : m->cl.reconnect_ms * 2;
}

static int send_one(struct vipd_monitor *m, enum vip_cl_msg_type type)
{
	struct vip_cl_msg msg = { .type = type, .version = VIP_CL_PROTO_VERSION };
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	snprintf(msg.name, sizeof(msg.name), "%s", m->opts.nodename ? m->opts.nodename : "");
	r = vip_cl_msg_encode(&msg, &buf, &len);
	if (r >= 0)
		r = vip_cl_auth_seal(m->cl.key, &m->cl.self, m->cl.view, ++m->cl.seq, buf, len);
	if (r < 0)
		return r;
	return m->cl.ops->send(m->cl.be, buf, len);
}

/* MONITOR first, then FLUSHED; flow control keeps them for a retry. */
static void send_pending(struct vipd_monitor *m)
{
	struct {
		bool *want;
		enum vip_cl_msg_type type;
		unsigned *count;
	} q[] = {
		{ &m->cl.want_monitor, VIP_CL_MSG_MONITOR, &m->st.monitor_sent },
		{ &m->cl.want_flushed, VIP_CL_MSG_FLUSHED, &m->st.flushed_sent },
	};

	/* sealed with this member's identity and view: wait for the first view */
	for (size_t i = 0; i < ARRAY_SIZE(q) && m->cl.be && (m->cl.in_view || !m->cl.key); i++) {
		int r;

		if (!*q[i].want)
			continue;
		if (q[i].type == VIP_CL_MSG_FLUSHED && m->cl.flushed_held) {
			uint64_t held = loop_now_ms() - m->cl.flushed_since;

			if (held < FLUSHED_HOLD_MS) { /* cl_view, or this timer, releases it */
				loop_timer_arm(m->cl.t_send, (uint32_t)(FLUSHED_HOLD_MS - held) + 1, 0);
				continue;
			}
			log_debug(
				"monitor: the crashed engine's leave did not come in %u ms; FLUSHED goes now",
				FLUSHED_HOLD_MS);
			m->cl.flushed_held = false;
		}
		r = send_one(m, q[i].type);
		if (r == -EAGAIN) {
			loop_timer_arm(m->cl.t_send, SEND_RETRY_MS, 0);
			return;
		}
		*q[i].want = false;
		if (r < 0) {
			log_warning_errno(r, "monitor: cannot multicast %s: %m",
					  vip_cl_msg_type_to_string(q[i].type));
			continue;
		}
		(*q[i].count)++;
		log_debug("monitor: multicast %s{%s}", vip_cl_msg_type_to_string(q[i].type),
			  m->opts.nodename);
	}
}

static void on_backend_fd(struct loop *l _unused_, int fd _unused_, uint32_t revents _unused_, void *data)
{
	struct vipd_monitor *m = data;
	int r = m->cl.ops->dispatch(m->cl.be);

	if (r < 0 || m->cl.lost) {
		if (!m->cl.lost)
			cl_lost(m, r);
		disconnect(m);
		schedule_reconnect(m);
		return;
	}
	send_pending(m);
}

/* Connect, join and watch. 0, or -errno (logged at prio; the caller retries). */
static int connect_join(struct vipd_monitor *m, int prio)
{
	int r = m->cl.ops->connect(&callbacks, m, &m->cl.be);

	if (r < 0) {
		m->cl.be = NULL;
		return log_full_errno(prio, r, "monitor: cannot connect to %s (%m); retrying with back-off",
				      m->cl.ops->name);
	}
	r = m->cl.ops->join(m->cl.be, m->opts.group);
	if (r >= 0)
		r = loop_add_fd(m->loop, m->cl.ops->fd(m->cl.be), EPOLLIN, on_backend_fd, m);
	if (r < 0) {
		log_full_errno(prio, r, "monitor: cannot join group %s (%m); retrying with back-off",
			       m->opts.group);
		m->cl.ops->free(m->cl.be);
		m->cl.be = NULL;
		return r;
	}
	m->cl.reconnect_ms = 0;
	m->st.cl_connects++;
	log_info("monitor: joined group %s as node %s's monitor", m->opts.group, m->opts.nodename);
	return 0;
}

static void on_reconnect_timer(struct loop *l _unused_, struct loop_timer *t _unused_, void *data)
{
	struct vipd_monitor *m = data;

	if (m->cl.be || m->stopping)
		return;
	if (connect_join(m, LOG_DEBUG) < 0)
		schedule_reconnect(m);
}

static void on_send_timer(struct loop *l _unused_, struct loop_timer *t _unused_, void *data)
{
	send_pending(data);
}

int monitor_cluster_start(struct vipd_monitor *m)
{
	int r;

	m->cl.ops = m->opts.cl_ops ? m->opts.cl_ops : vip_cl_backend_find("cpg");
	if (!m->cl.ops)
		return log_error_errno(-EOPNOTSUPP,
				       "monitor: the cpg membership backend is not built into this vipd");
	r = loop_timer_new(m->loop, on_reconnect_timer, m, &m->cl.t_reconnect);
	if (r >= 0)
		r = loop_timer_new(m->loop, on_send_timer, m, &m->cl.t_send);
	if (r < 0)
		return log_error_errno(r, "monitor: cannot create a timer: %m");
	if (m->opts.config) {
		r = vipd_authkey_load(m->opts.config, "monitor: ", false, &m->cl.key);
		if (r < 0)
			return r;
	}
	if (connect_join(m, LOG_WARNING) < 0)
		schedule_reconnect(m);
	return 0;
}

void monitor_cluster_flushed(struct vipd_monitor *m)
{
	if (!m->cl.ops)
		return;
	m->cl.want_flushed = true;
	m->cl.flushed_unconfirmed = true;
	m->cl.flushed_since = loop_now_ms();
	m->cl.flushed_held = m->cl.be && m->cl.in_view && m->cl.engine_in_view;
	send_pending(m); /* arms the send timer for the hold */
}

static void leave(struct vipd_monitor *m);

void monitor_cluster_stop(struct vipd_monitor *m)
{
	loop_timer_disarm(m->cl.t_reconnect);
	loop_timer_disarm(m->cl.t_send);
	if (m->cl.be)
		leave(m);
	vip_cl_key_free(m->cl.key);
	m->cl.key = NULL;
}

/* Leave and disconnect: a FLUSHED still pending first. */
static void leave(struct vipd_monitor *m)
{
	int r;

	/* A FLUSHED held back (flow control, or for the engine's leave) goes out before ours (at most 0.5 s). */
	m->cl.flushed_held = false;
	for (int tries = 0; m->cl.want_flushed && m->cl.be && tries < 50; tries++) {
		send_pending(m);
		if (!m->cl.want_flushed || m->cl.ops->dispatch(m->cl.be) < 0)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 10000000L }, NULL);
	}
	r = m->cl.ops->leave(m->cl.be);
	if (r < 0)
		log_warning_errno(r, "monitor: cannot leave group %s: %m", m->opts.group);
	disconnect(m);
}

/* SPDX-License-Identifier: MIT */
/*
 * vipd/daemon: the cluster connection. The backend (cpg or solo) delivers
 * views, messages and quorum through callbacks that feed the protocol; when
 * corosync goes away the protocol behaves as alone and inquorate (its quorum
 * policy decides what is released) and the daemon reconnects with back-off.
 * When corosync still holds the connection but stops answering (stopped,
 * hung, a ring that delivers nothing), the backend's liveness watchdog
 * (duravip_liveness_timeout) says so and the same policy applies, without a
 * reconnect: the backend is kept and says when corosync answers again.
 */
#include <errno.h>
#include <string.h>

#include "daemon-internal.h"
#include "log.h"

#define RECONNECT_FIRST_MS 200u
#define RECONNECT_MAX_MS 10000u

static void be_view(void *data, const struct vip_cl_view *v)
{
	struct vipd_daemon *d = data;
	uint64_t now = loop_now_ms();
	char detail[96];
	int r;

	d->stats.view_changes++;
	if (v->n_left > 0)
		vipd_engine_mark_failover(d->engine, now);
	r = vip_cl_proto_on_view(d->proto, v, now);
	if (r < 0)
		log_error_errno(r, "Failed to take the new view: %m");
	if (v->n_joined > 0) /* the newcomer gets every node's neighbour cache (docs/protocol.md §13) */
		vipd_neigh_peer_joined(d->neigh);
	log_info("View %llu: %zu member%s (%zu joined, %zu left)", (unsigned long long)v->ring_seq,
		 v->n_members, v->n_members == 1 ? "" : "s", v->n_joined, v->n_left);
	snprintf(detail, sizeof(detail), "members=%zu joined=%zu left=%zu", v->n_members, v->n_joined,
		 v->n_left);
	daemon_event(d, "view", NULL, detail);
}

static void be_message(void *data, const struct vip_cl_member *sender, const void *msg, size_t len)
{
	struct vipd_daemon *d = data;
	int r = vip_cl_proto_on_message(d->proto, sender, msg, len, loop_now_ms());

	if (r == -EBADMSG) {
		d->stats.messages_bad++;
		log_warning_ratelimit("Dropped a malformed %zu-byte message from node %u pid %u", len,
				      sender->nodeid, sender->pid);
	} else if (r == -EACCES) {
		log_warning_ratelimit("Dropped an unauthenticated %zu-byte message from node %u pid %u: that "
				      "member is left out of this view (no key, or another key)",
				      len, sender->nodeid, sender->pid);
	} else if (r == -EALREADY) {
		log_warning_ratelimit("Dropped a replayed message from node %u pid %u", sender->nodeid,
				      sender->pid);
	} else if (r == -EPROTONOSUPPORT) {
		log_warning_ratelimit("Ignored a message of another protocol version from node %u",
				      sender->nodeid);
	} else if (r < 0) {
		log_error_errno(r, "Failed to take a message: %m");
	}
}

static void be_quorum(void *data, bool quorate)
{
	struct vipd_daemon *d = data;
	int state = quorate ? 1 : 0;

	/* Backends repeat the current value (after join, on views): log changes only. */
	if (state == d->quorate_seen) {
		vip_cl_proto_on_quorum(d->proto, quorate, loop_now_ms());
		return;
	}
	d->quorate_seen = state;
	if (quorate)
		log_notice("This partition is quorate");
	else
		log_warning(
			"This partition lost quorum: DuraVIPs are released per duravip_quorum_policy (%s)",
			vip_quorum_policy_to_string(d->cfg->cluster.quorum_policy));
	vip_cl_proto_on_quorum(d->proto, quorate, loop_now_ms());
	daemon_event(d, quorate ? "quorate" : "inquorate", NULL, NULL);
}

static void be_lost(void *data, int error)
{
	struct vipd_daemon *d = data;

	log_error_errno(error,
			"Membership lost: the connection to %s broke (%m); reconnecting. "
			"A reconnect as user %s needs it allowed in corosync's uidgid configuration",
			d->be_ops->name, d->cfg->security.user);
	vip_cl_proto_on_lost(d->proto, loop_now_ms());
	d->quorate_seen = -1;
	d->be_lost = true;
	daemon_event(d, "membership-lost", NULL, strerror(error < 0 ? -error : error));
}

void daemon_on_liveness(struct vipd_daemon *d, bool alive)
{
	/*
	 * Not alive: handled as lost quorum (the quorum policy applies: release
	 * everything, plumb nothing). Alive again: STATE is sent again and
	 * nothing new is plumbed until it is delivered (docs/protocol.md).
	 */
	int r = vip_cl_proto_on_liveness(d->proto, alive, loop_now_ms());

	if (r < 0)
		log_error_errno(r, "Failed to take corosync's liveness: %m");
}

static void be_liveness(void *data, bool alive)
{
	struct vipd_daemon *d = data;
	char detail[32];

	snprintf(detail, sizeof(detail), "timeout_ms=%u", d->cfg->cluster.duravip_liveness_timeout_ms);
	if (alive) {
		d->stats.corosync_recoveries++;
		log_notice("corosync answers again");
	} else {
		d->stats.corosync_stalls++;
		log_warning(
			"corosync has not answered for %u ms: releasing DuraVIPs per duravip_quorum_policy (%s)",
			d->cfg->cluster.duravip_liveness_timeout_ms,
			vip_quorum_policy_to_string(d->cfg->cluster.quorum_policy));
	}
	daemon_event(d, alive ? "corosync-alive" : "corosync-stalled", NULL, detail);
	daemon_on_liveness(d, alive);
}

static const struct vip_cl_backend_cbs callbacks = {
	.view = be_view,
	.message = be_message,
	.quorum = be_quorum,
	.lost = be_lost,
	.liveness = be_liveness,
};

void daemon_cluster_set_liveness(struct vipd_daemon *d)
{
	if (d->be && d->be_ops->set_liveness_timeout)
		d->be_ops->set_liveness_timeout(d->be, d->cfg->cluster.duravip_liveness_timeout_ms);
}

static void schedule_reconnect(struct vipd_daemon *d)
{
	if (d->reconnect_delay_ms == 0)
		d->reconnect_delay_ms = RECONNECT_FIRST_MS;
	if (d->t_reconnect)
		loop_timer_arm(d->t_reconnect, d->reconnect_delay_ms, 0);
	d->reconnect_delay_ms = d->reconnect_delay_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS
									     : d->reconnect_delay_ms * 2;
}

/* Stop watching the backend and take it out of the daemon; the caller frees it. */
static struct vip_cl_backend *detach_backend(struct vipd_daemon *d)
{
	struct vip_cl_backend *b = d->be;

	if (b && d->loop)
		loop_remove_fd(d->loop, d->be_ops->fd(b));
	d->be = NULL;
	d->be_lost = false;
	return b;
}

void daemon_cluster_disconnect(struct vipd_daemon *d)
{
	struct vip_cl_backend *b = detach_backend(d);

	if (b)
		d->be_ops->free(b);
}

static void on_backend_fd(struct loop *l _unused_, int fd _unused_, uint32_t revents _unused_, void *data)
{
	struct vipd_daemon *d = data;
	int r = d->be_ops->dispatch(d->be);

	if (r < 0 || d->be_lost) {
		if (!d->be_lost)
			be_lost(d, r);
		/*
		 * Release first, free after: freeing a backend whose corosync died
		 * may wait for its worker (up to a second), and the releases that
		 * on_lost queued must not wait behind it (docs/fault-tolerance.md).
		 */
		struct vip_cl_backend *dead = detach_backend(d);
		vipd_daemon_pump(d);
		if (dead)
			d->be_ops->free(dead);
		if (!d->stopping)
			schedule_reconnect(d);
		vipd_daemon_notify_status(d);
	}
	vipd_daemon_pump(d);
}

int daemon_cluster_connect(struct vipd_daemon *d, bool startup)
{
	const char *name = d->cfg->cluster.enabled ? "cpg" : "solo";
	int r;

	if (!d->be_ops) {
		d->be_ops = d->opts.backend_ops ? d->opts.backend_ops : vip_cl_backend_find(name);
		if (!d->be_ops)
			return log_error_errno(-EOPNOTSUPP,
					       "The %s membership backend is not built into this vipd", name);
	}
	r = d->be_ops->connect(&callbacks, d, &d->be);
	if (r >= 0) {
		daemon_cluster_set_liveness(d);
		return 0;
	}
	d->be = NULL;
	if (startup && strcmp(d->be_ops->name, "solo") == 0)
		return log_error_errno(r, "Failed to start the solo backend: %m");
	if (startup) {
		log_warning_errno(r,
				  "Cannot connect to the %s membership engine (%m); retrying with back-off",
				  d->be_ops->name);
		return 0;
	}
	/*
	 * An operator must see that reconnecting fails (corosync down, or the
	 * dropped user not in its uidgid list): the first failure, any new
	 * error, and then every tenth attempt are warnings; the rest debug.
	 */
	d->reconnect_failures++;
	log_full_errno(
		d->reconnect_failures == 1 || r != d->reconnect_last_error || d->reconnect_failures % 10 == 0
			? LOG_WARNING
			: LOG_DEBUG,
		r,
		"Cannot reconnect to the %s membership engine (%m; attempt %u); retrying with back-off. "
		"As user %s this needs it allowed in corosync's uidgid configuration",
		d->be_ops->name, d->reconnect_failures, d->cfg->security.user);
	d->reconnect_last_error = r;
	return 0;
}

int daemon_cluster_join(struct vipd_daemon *d)
{
	int r;

	if (!d->be) {
		schedule_reconnect(d);
		return 0;
	}
	r = d->be_ops->join(d->be, d->cfg->cluster.cluster_group);
	if (r >= 0)
		r = loop_add_fd(d->loop, d->be_ops->fd(d->be), EPOLLIN, on_backend_fd, d);
	if (r >= 0) {
		d->reconnect_delay_ms = 0;
		return 0;
	}
	log_error_errno(r, "Failed to join group %s: %m", d->cfg->cluster.cluster_group);
	d->be_ops->free(d->be);
	d->be = NULL;
	if (strcmp(d->be_ops->name, "solo") == 0)
		return r;
	schedule_reconnect(d);
	return 0;
}

void daemon_on_reconnect_timer(struct loop *l _unused_, struct loop_timer *t _unused_, void *data)
{
	struct vipd_daemon *d = data;

	if (d->be || d->stopping)
		return;
	daemon_cluster_connect(d, false);
	if (!d->be) {
		schedule_reconnect(d);
		return;
	}
	if (daemon_cluster_join(d) < 0 || !d->be)
		return;
	d->stats.backend_reconnects++;
	log_notice("Connected to the %s membership engine; joined group %s (after %u failed attempt%s)",
		   d->be_ops->name, d->cfg->cluster.cluster_group, d->reconnect_failures,
		   d->reconnect_failures == 1 ? "" : "s");
	d->reconnect_failures = 0;
	d->reconnect_last_error = 0;
	vipd_daemon_notify_status(d);
	vipd_daemon_pump(d);
}

/* SPDX-License-Identifier: MIT */
/*
 * vipd/daemon: the shared neighbour cache's feeding (vipd/neigh.h,
 * docs/protocol.md §13). Once a second: the links the DuraVIPs are placed
 * on (from the engine), the age-out, a dump of the kernel's neighbour table
 * every dump interval (the events in between come through the engine), and
 * at most NEIGH_BATCHES_PER_TICK NEIGH messages of what this node learnt.
 * Messages of the peers come back through the protocol's sink (daemon-pump.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon-internal.h"
#include "log.h"
#include "neigh.h"

#define NEIGH_TICK_MS 1000u
#define NEIGH_DUMP_MAX_MS 30000u
/* Messages per tick: a full copy after a join goes out at up to 4 x VIP_CL_NEIGH_MAX entries a second. */
#define NEIGH_BATCHES_PER_TICK 4u

/* The links the DuraVIPs are placed on, each once. */
static int refresh_links(struct vipd_daemon *d)
{
	size_t n = vipd_engine_n_vips(d->engine), k = 0;
	_cleanup_free_ struct vipd_neigh_link *l = calloc(n ? n : 1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct vipd_engine_vip v;
		bool dup = false;

		if (vipd_engine_vip(d->engine, i, &v) < 0 || v.ifindex <= 0)
			continue;
		for (size_t j = 0; j < k && !dup; j++)
			dup = l[j].ifindex == v.ifindex;
		if (dup)
			continue;
		l[k].ifindex = v.ifindex;
		snprintf(l[k++].ifname, sizeof(l->ifname), "%s", v.ifname);
	}
	return vipd_neigh_set_links(d->neigh, l, k);
}

/* Learn every entry of the kernel's table. */
static void dump(struct vipd_daemon *d, uint64_t now)
{
	struct vip_port_neighs t = { 0 };
	int r = d->port_ops->dump_neigh ? d->port_ops->dump_neigh(d->port, &t) : -EOPNOTSUPP;

	if (r == -EOPNOTSUPP) {
		d->neigh_dump_ms = UINT64_MAX; /* this system has no table vipd can read */
		return;
	}
	if (r < 0)
		log_warning_errno_ratelimit(r, "Failed to read the neighbour table: %m");
	for (size_t i = 0; r >= 0 && i < t.n; i++)
		if (vipd_neigh_learn(d->neigh, &t.items[i], false, now) == -ENOMEM)
			break;
	vip_port_neighs_clear(&t);
	d->neigh_dump_ms = now;
}

/* Hand what this node learnt to the group; a batch the queue refuses is kept for the next tick. */
static void send_batches(struct vipd_daemon *d, uint64_t now)
{
	if (!d->cfg->cluster.enabled || !d->be || !d->proto)
		return;
	for (unsigned i = 0; i < NEIGH_BATCHES_PER_TICK; i++) {
		struct vip_cl_msg m;
		int r = vipd_neigh_take_batch(d->neigh, now, &m);

		if (r <= 0)
			return;
		r = vip_cl_proto_send_neigh(d->proto, &m);
		if (r < 0)
			vipd_neigh_unsend(d->neigh, &m);
		if (r < 0 && r != -EAGAIN)
			log_warning_errno_ratelimit(r, "Failed to queue a neighbour cache message: %m");
		vip_cl_msg_clear(&m);
		if (r < 0)
			return;
	}
}

void daemon_neigh_tick(struct vipd_daemon *d, uint64_t now)
{
	struct vipd_neigh_opts o;
	int r = refresh_links(d);

	if (r < 0)
		log_warning_errno_ratelimit(r, "Failed to list the links to learn neighbours on: %m");
	if (r > 0 && d->neigh_dump_ms != UINT64_MAX)
		d->neigh_dump_ms = 0; /* a DuraVIP's new link: what the kernel knows of it, now */
	vipd_neigh_opts_from_config(&d->cfg->cluster, &o);
	uint64_t every = o.max_age_ms / 4 < NEIGH_DUMP_MAX_MS ? o.max_age_ms / 4 : NEIGH_DUMP_MAX_MS;
	if (d->neigh_dump_ms != UINT64_MAX && (d->neigh_dump_ms == 0 || now >= d->neigh_dump_ms + every))
		dump(d, now);
	vipd_neigh_expire(d->neigh, now);
	send_batches(d, now);
}

static void on_neigh_timer(struct loop *l _unused_, struct loop_timer *t _unused_, void *data)
{
	struct vipd_daemon *d = data;

	daemon_neigh_tick(d, loop_now_ms());
	vipd_daemon_pump(d);
}

int daemon_neigh_new(struct vipd_daemon *d)
{
	struct vipd_neigh_opts o;
	int r;

	vipd_neigh_opts_from_config(&d->cfg->cluster, &o);
	r = vipd_neigh_new(&o, d->cfg->cluster.nodename, &d->neigh);
	if (r < 0)
		return log_error_errno(r, "Failed to set up the neighbour cache: %m");
	return 0;
}

int daemon_neigh_start(struct vipd_daemon *d)
{
	int r = loop_timer_new(d->loop, on_neigh_timer, d, &d->t_neigh);

	if (r < 0)
		return log_error_errno(r, "Failed to create a timer: %m");
	daemon_neigh_tick(d, loop_now_ms());
	return loop_timer_arm(d->t_neigh, NEIGH_TICK_MS, NEIGH_TICK_MS);
}

void daemon_neigh_reconfigure(struct vipd_daemon *d, const struct vipd_config *next)
{
	struct vipd_neigh_opts o;

	vipd_neigh_opts_from_config(&next->cluster, &o);
	vipd_neigh_set_opts(d->neigh, &o, loop_now_ms());
}

void daemon_neigh_free(struct vipd_daemon *d)
{
	loop_timer_free(d->t_neigh);
	d->t_neigh = NULL;
	vipd_neigh_free(d->neigh);
	d->neigh = NULL;
}

/* SPDX-License-Identifier: MIT */
/*
 * vipd/daemon: what the console may ask and request (daemon.h). The
 * commands read the daemon only through these, so its layout stays its own.
 */
#include "daemon-internal.h"
#include "log.h"

void vipd_daemon_get_info(const struct vipd_daemon *d, struct vipd_daemon_info *ret)
{
	*ret = (struct vipd_daemon_info){
		.backend = d->be_ops ? d->be_ops->name : "none",
		.connected = d->be != NULL,
		.nodename = d->proto ? vip_cl_proto_nodename(d->proto) : d->cfg->cluster.nodename,
		.group = d->cfg->cluster.cluster_group,
		.started_ms = d->started_ms,
		.config_since_ms = d->config_since_ms,
		.restart_needed = d->restart_needed,
		.stats = d->stats,
		.owner_watch_bytes = daemon_owners_bytes(d),
	};
}

const struct vipd_config *vipd_daemon_config(const struct vipd_daemon *d)
{
	return d->cfg;
}

const struct vip_cl_proto *vipd_daemon_proto(const struct vipd_daemon *d)
{
	return d->proto;
}

const struct vipd_engine *vipd_daemon_engine(const struct vipd_daemon *d)
{
	return d->engine;
}

const struct vipd_neigh *vipd_daemon_neigh(const struct vipd_daemon *d)
{
	return d->neigh;
}

const struct vipd_announce *vipd_daemon_announce(const struct vipd_daemon *d)
{
	return d->announce;
}

struct vipd_control *vipd_daemon_control(const struct vipd_daemon *d)
{
	return d->control;
}

int vipd_daemon_request_move(struct vipd_daemon *d, const struct vip_addr *a, const char *node)
{
	char buf[VIP_ADDR_STRLEN];
	int r = vip_cl_proto_request_move(d->proto, a, node, loop_now_ms());

	if (r < 0)
		return r;
	log_notice("Console: move of %s to %s requested", vip_addr_to_string(a, buf, sizeof(buf)), node);
	vipd_daemon_pump(d);
	return 0;
}

int vipd_daemon_request_balance(struct vipd_daemon *d)
{
	int r = vip_cl_proto_request_balance(d->proto, loop_now_ms());

	if (r < 0)
		return r;
	log_notice("Console: balancing round requested");
	vipd_daemon_pump(d);
	return 0;
}

size_t vipd_daemon_announce_again(struct vipd_daemon *d)
{
	uint64_t now = loop_now_ms();
	size_t n = vipd_announce_restart_all(d->announce, now);

	vipd_announce_tick(d->announce, now);
	vipd_daemon_pump(d);
	return n;
}

// SPDX-License-Identifier: MIT
/*
 * vipd/daemon: this node's candidacy (docs/protocol.md, "Candidacy"). The
 * node is no candidate while it is in standby (cluster { Standby },
 * `vipctl cluster node standby`) or unhealthy (a health check fails,
 * vipd/health.h); the protocol hands its DuraVIPs to the others by the
 * normal hand-off, or, alone, unplumbs them. Every change is logged and
 * pushed as a `node` event.
 */
#include <stdio.h>

#include "daemon-internal.h"
#include "log.h"

static uint32_t wanted_out(const struct vipd_daemon *d)
{
	return (d->standby ? VIP_CL_OUT_STANDBY : 0) | (d->unhealthy ? VIP_CL_OUT_UNHEALTHY : 0);
}

void daemon_node_apply(struct vipd_daemon *d, const char *what, const char *detail)
{
	uint32_t out = wanted_out(d);
	char words[32];
	int r;

	if (out == vip_cl_proto_candidacy(d->proto))
		return;
	r = vip_cl_proto_set_candidacy(d->proto, out, loop_now_ms());
	if (r < 0) {
		log_error_errno(r, "Failed to change this node's candidacy: %m");
		return;
	}
	vip_cl_out_format(out, words, sizeof(words));
	if (out)
		log_notice("This node is no candidate for DuraVIPs (%s%s%s): they go to the other nodes, "
			   "or are unplumbed when none can take them", words, detail ? ": " : "",
			   detail ? detail : "");
	else
		log_notice("This node is a candidate for DuraVIPs again (%s); its preferred ones come back "
			   "after view_mature_time", what);
	daemon_event(d, "node", NULL, detail ? detail : what);
	vipd_daemon_pump(d);
}

int vipd_daemon_set_standby(struct vipd_daemon *d, bool on, const char *who)
{
	if (d->standby == on)
		return 0;
	d->standby = on;
	log_notice("%s: this node is %s", who, on ? "in standby" : "active");
	daemon_node_apply(d, on ? "standby" : "active", NULL);
	return 1;
}

void vipd_daemon_get_node(const struct vipd_daemon *d, struct vipd_node_state *ret)
{
	*ret = (struct vipd_node_state){
		.standby = d->standby,
		.healthy = !d->unhealthy,
		.out = vip_cl_proto_candidacy(d->proto),
	};
	snprintf(ret->reason, sizeof(ret->reason), "%s", d->unhealthy ? d->unhealthy_reason : "");
}

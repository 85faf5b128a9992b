/* SPDX-License-Identifier: MIT */
/*
 * vipd/announce-port: the announcement schedule's sends mapped to the port's
 * announce call, broadcast (one entry per address) and unicast (one entry per
 * address and host, arp_all_hosts = false). A failed entry is logged (rate
 * limited); the call counts what was sent.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "announce.h"
#include "log.h"

/* The port's results for n entries: the number sent, or r when the whole call failed (the
 * port then touched no entry). */
static int results(const struct vip_port_announce *b, size_t n, int r)
{
	int ok = 0;

	if (r < 0)
		return log_warning_errno_ratelimit(r, "Failed to send announcements: %m");
	for (size_t i = 0; i < n; i++) {
		char buf[VIP_ADDR_STRLEN], host[VIP_ADDR_STRLEN];

		if (b[i].result >= 0) {
			ok++;
			continue;
		}
		if (b[i].unicast)
			log_warning_errno_ratelimit(b[i].result, "Failed to announce %s to %s: %m",
						    vip_addr_to_string(&b[i].addr, buf, sizeof(buf)),
						    vip_addr_to_string(&b[i].dst_ip, host, sizeof(host)));
		else
			log_warning_errno_ratelimit(b[i].result, "Failed to announce %s: %m",
						    vip_addr_to_string(&b[i].addr, buf, sizeof(buf)));
	}
	return ok;
}

int vipd_announce_port_send(void *data, int ifindex, const struct vip_addr *addrs, size_t n)
{
	struct vipd_announce_port *ap = data;
	_cleanup_free_ struct vip_port_announce *b = calloc(n ? n : 1, sizeof(*b));
	int r;

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		b[i].addr = addrs[i];
		b[i].ifindex = ifindex;
	}
	r = ap->ops->announce(ap->port, b, n, vipd_announce_get_opts(ap->announce)->mode);
	return results(b, n, r);
}

int vipd_announce_port_send_to(void *data, int ifindex, const struct vipd_announce_dst *dsts, size_t n)
{
	struct vipd_announce_port *ap = data;
	_cleanup_free_ struct vip_port_announce *b = calloc(n ? n : 1, sizeof(*b));
	int r;

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		b[i].addr = dsts[i].addr;
		b[i].ifindex = ifindex;
		b[i].unicast = true;
		memcpy(b[i].dst_mac, dsts[i].host.mac, sizeof(b[i].dst_mac));
		b[i].dst_ip = dsts[i].host.ip;
	}
	r = ap->ops->announce(ap->port, b, n, vipd_announce_get_opts(ap->announce)->mode);
	return results(b, n, r);
}

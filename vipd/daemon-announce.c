/* SPDX-License-Identifier: MIT */
/*
 * vipd/daemon-announce: arp_all_hosts = false in the daemon. The announcement
 * schedule asks for the hosts on an address's segment; they come from the
 * shared neighbour cache (vipd/neigh.h), the segment from where the engine
 * placed the DuraVIP; the unicast frames go out through the port glue
 * (vipd/announce-port.c).
 */
#include <string.h>

#include "daemon-internal.h"
#include "neigh.h"

size_t daemon_segment_hosts(const struct vipd_neigh *nc, const struct vipd_engine_vip *v,
			    struct vipd_announce_host *out, size_t max)
{
	struct vipd_neigh_host h[VIPD_ANNOUNCE_MAX_HOSTS];
	unsigned host_len = v->addr.family == AF_INET6 ? 128 : 32, plen = 0;
	struct vip_addr net = v->addr;
	size_t n;

	if (!v->ifname[0])
		return 0;
	/* A Topology cidrmask shorter than a host names the segment; a host prefix (the
	 * default) does not: then every host learnt on an interface of that name. */
	if (v->prefix > 0 && v->prefix < host_len) {
		plen = v->prefix;
		for (unsigned b = plen; b < host_len; b++)
			net.bytes[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
	}
	n = vipd_neigh_hosts(nc, v->ifname, &net, plen, h,
			     max < VIPD_ANNOUNCE_MAX_HOSTS ? max : VIPD_ANNOUNCE_MAX_HOSTS);
	for (size_t i = 0; i < n; i++) {
		out[i].ip = h[i].ip;
		memcpy(out[i].mac, h[i].mac, sizeof(out[i].mac));
	}
	return n;
}

size_t daemon_announce_hosts(void *data, const struct vip_addr *addr, int ifindex _unused_,
			     struct vipd_announce_host *out, size_t max)
{
	struct vipd_daemon *d = data;
	struct vipd_engine_vip v;

	if (!d->neigh || !d->engine || vipd_engine_find(d->engine, addr, &v) < 0)
		return 0;
	return daemon_segment_hosts(d->neigh, &v, out, max);
}

int daemon_announce_send_to(void *data, int ifindex, const struct vipd_announce_dst *dsts, size_t n)
{
	struct vipd_daemon *d = data;

	return vipd_announce_port_send_to(&d->announce_port, ifindex, dsts, n);
}

/* SPDX-License-Identifier: MIT */
/*
 * vipd/daemon-announce: arp_all_hosts = false in the daemon. The announcement
 * schedule asks for the hosts on an address's segment; they come from the
 * shared neighbour cache (vipd/neigh.h), the segment from where the engine
 * placed the DuraVIP; the unicast frames go out through the port glue
 * (vipd/announce-port.c).
 */
#include <stdlib.h>
#include <string.h>

#include "daemon-internal.h"
#include "loop.h"
#include "neigh.h"

/* The last segment asked for and its hosts: one announcement round asks for the
 * same segment once per DuraVIP on it, and each cache query sorts the cache. */
struct daemon_hosts_memo {
	uint64_t at_ms; /* loop time of the query: good for that millisecond only */
	char ifname[VIP_PORT_NAME_MAX];
	struct vip_addr net;
	unsigned plen;
	size_t n;
	struct vipd_announce_host hosts[VIPD_ANNOUNCE_MAX_HOSTS];
};

/*
 * The segment of v as the cache is asked for it: (v's network, its prefix) when a
 * Topology cidrmask shorter than a host names it; else (the family alone, 0), every
 * host learnt on an interface of v's name. The prefix is returned.
 */
static unsigned segment_of(const struct vipd_engine_vip *v, struct vip_addr *net)
{
	unsigned host_len = v->addr.family == AF_INET6 ? 128 : 32;

	*net = v->addr;
	if (v->prefix == 0 || v->prefix >= host_len) {
		memset(net->bytes, 0, sizeof(net->bytes));
		return 0;
	}
	for (unsigned b = v->prefix; b < host_len; b++)
		net->bytes[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
	return v->prefix;
}

size_t daemon_segment_hosts(const struct vipd_neigh *nc, const struct vipd_engine_vip *v,
			    struct vipd_announce_host *out, size_t max)
{
	struct vipd_neigh_host h[VIPD_ANNOUNCE_MAX_HOSTS];
	struct vip_addr net;
	unsigned plen;
	size_t n;

	if (!v->ifname[0])
		return 0;
	plen = segment_of(v, &net);
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
	struct daemon_hosts_memo *m = d->hosts_memo;
	uint64_t now = loop_now_ms();
	struct vipd_engine_vip v;
	struct vip_addr net;
	unsigned plen;
	size_t n;

	if (!d->neigh || !d->engine || vipd_engine_find(d->engine, addr, &v) < 0 || !v.ifname[0])
		return 0;
	if (!m && !(m = d->hosts_memo = calloc(1, sizeof(*m))))
		return daemon_segment_hosts(d->neigh, &v, out, max);
	plen = segment_of(&v, &net);
	if (m->at_ms != now || m->plen != plen || strcmp(m->ifname, v.ifname) != 0 ||
	    !vip_addr_equal(&m->net, &net)) {
		m->n = daemon_segment_hosts(d->neigh, &v, m->hosts, VIPD_ANNOUNCE_MAX_HOSTS);
		m->at_ms = now;
		m->plen = plen;
		m->net = net;
		memcpy(m->ifname, v.ifname, sizeof(m->ifname));
	}
	n = m->n < max ? m->n : max;
	memcpy(out, m->hosts, n * sizeof(*out));
	return n;
}

int daemon_announce_send_to(void *data, int ifindex, const struct vipd_announce_dst *dsts, size_t n)
{
	struct vipd_daemon *d = data;

	return vipd_announce_port_send_to(&d->announce_port, ifindex, dsts, n);
}

void daemon_announce_free(struct vipd_daemon *d)
{
	free(d->hosts_memo);
	d->hosts_memo = NULL;
}

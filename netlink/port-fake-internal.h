/* SPDX-License-Identifier: MIT */
/*
 * The fake port's state, shared by port-fake.c (addresses, links, events,
 * announcements) and port-fake-probe.c (address probes and their answers).
 * Not a public header: tests use the hooks in port.h.
 */
#ifndef VIP_PORT_FAKE_INTERNAL_H
#define VIP_PORT_FAKE_INTERNAL_H

#include "port-internal.h"

struct fake_fail {
	struct vip_addr addr;
	int err;
	char msg[VIP_PORT_ERRMSG_MAX];
};

struct vip_port {
	unsigned flags;
	int pipe[2]; /* one byte per queued event */
	struct vip_port_event *q;
	size_t q_head, q_n, q_cap;
	struct vip_port_link *links;
	size_t n_links, cap_links;
	struct vip_port_table addrs;
	struct vip_port_routes routes; /* put by the test, beyond those derived from addrs */
	struct vip_port_neighs neighs; /* the neighbour table, put by the test */
	struct fake_fail *fails;
	size_t n_fails;
	int call_err;
	unsigned call_fail_left;
	bool echo;
	struct vip_port_fake_frame *log;
	size_t n_log, cap_log;
	struct vip_port_probe *probes; /* every probe since the last reset */
	size_t n_probes, cap_probes;
	struct vip_port_answer *answers; /* queued answers, while listening */
	size_t n_answers, cap_answers;
	bool listening, lose_answers;
	int probe_err;      /* vip_port_fake_fail_probes */
	unsigned skip_left; /* vip_port_fake_skip_answers */
	struct vip_port_fake_stats st;
};

/* Make room for need items of size in *items (capacity *cap). 0 or -ENOMEM. */
int vip_fake_grow(void **items, size_t *cap, size_t need, size_t size);
struct vip_port_link *vip_fake_find_link(struct vip_port *p, int ifindex);
/* The failure set for a, or NULL. */
const struct fake_fail *vip_fake_find_fail(struct vip_port *p, const struct vip_addr *a);
/* Can a frame for a go out on ifindex: 1, 0 (IFF_NOARP: nothing is sent there), or the
 * failure set for a (vip_port_fake_fail_addr), -ENODEV for an unknown link. */
int vip_fake_wire_check(struct vip_port *p, const struct vip_addr *a, int ifindex);
/* -errno while vip_port_fake_fail_calls is in effect (counting one call), else 0. */
int vip_fake_call_fails(struct vip_port *p);

/* port-fake-probe.c: the probe ops */
int vip_fake_probe(struct vip_port *p, struct vip_port_probe *b, size_t n);
int vip_fake_probe_listen(struct vip_port *p, bool on);
int vip_fake_probe_fds(struct vip_port *p, int ret[VIP_PORT_PROBE_FDS]);
int vip_fake_next_answer(struct vip_port *p, struct vip_port_answer *ret);

#endif

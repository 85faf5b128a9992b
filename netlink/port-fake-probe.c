/* SPDX-License-Identifier: MIT */
/*
 * The fake port's address probes (docs/port.md §8): every probe is logged,
 * answers are queued by the test (vip_port_fake_answer) while listening, and
 * a loss can be simulated (vip_port_fake_lose_answers). See port.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "port-fake-internal.h"

int vip_fake_probe(struct vip_port *p, struct vip_port_probe *b, size_t n)
{
	p->st.probe_calls++;
	if (p->flags & VIP_PORT_OPEN_NO_PACKET)
		return -ENOTCONN;
	int r = vip_fake_call_fails(p), sent = 0;
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		b[i].result = p->probe_err ? p->probe_err : vip_fake_wire_check(p, &b[i].addr, b[i].ifindex);
		if (b[i].result <= 0)
			continue;
		if (vip_fake_grow((void **)&p->probes, &p->cap_probes, p->n_probes + 1, sizeof(*p->probes)) <
		    0)
			return -ENOMEM;
		p->probes[p->n_probes++] = b[i];
		sent++;
	}
	return sent;
}

int vip_fake_probe_listen(struct vip_port *p, bool on)
{
	if (p->flags & VIP_PORT_OPEN_NO_PACKET)
		return -ENOTCONN;
	if (on && p->listening)
		return 0; /* keeps what is queued, as the Linux port does */
	p->listening = on;
	p->n_answers = 0;
	p->lose_answers = false;
	return 0;
}

int vip_fake_probe_fds(struct vip_port *p _unused_, int ret[VIP_PORT_PROBE_FDS] _unused_)
{
	return 0;
}

int vip_fake_next_answer(struct vip_port *p, struct vip_port_answer *ret)
{
	if (!p->listening)
		return 0;
	if (p->lose_answers) {
		p->lose_answers = false;
		return -ENOBUFS;
	}
	if (p->skip_left) {
		p->skip_left--;
		return -EAGAIN;
	}
	if (p->n_answers == 0)
		return 0;
	*ret = p->answers[0];
	memmove(p->answers, p->answers + 1, --p->n_answers * sizeof(*p->answers));
	return 1;
}

/* ---- test hooks ---- */

size_t vip_port_fake_probed(struct vip_port *p, const struct vip_port_probe **ret)
{
	*ret = p->probes;
	return p->n_probes;
}

int vip_port_fake_answer(struct vip_port *p, const struct vip_port_answer *a)
{
	if (!p->listening)
		return -EAGAIN;
	if (vip_fake_grow((void **)&p->answers, &p->cap_answers, p->n_answers + 1, sizeof(*p->answers)) < 0)
		return -ENOMEM;
	p->answers[p->n_answers++] = *a;
	return 0;
}

void vip_port_fake_fail_probes(struct vip_port *p, int err)
{
	p->probe_err = err;
}

void vip_port_fake_skip_answers(struct vip_port *p, unsigned count)
{
	p->skip_left = count;
}

void vip_port_fake_lose_answers(struct vip_port *p)
{
	p->lose_answers = true;
}

bool vip_port_fake_listening(struct vip_port *p)
{
	return p->listening;
}

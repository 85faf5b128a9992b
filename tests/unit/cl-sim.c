/* SPDX-License-Identifier: MIT */
/* The virtual-synchrony simulator: see cl-sim.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cl-sim.h"

uint64_t sim_rnd(struct sim *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

const char *sim_node_name(size_t i)
{
	static const char *const names[NMAX] = { "n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7" };
	return names[i];
}

static size_t vip_index(const struct sim *s, const struct vip_addr *a)
{
	for (size_t i = 0; i < s->nv; i++) {
		struct vip_addr b = cltest_addr(i, s->nv);
		if (vip_addr_equal(a, &b))
			return i;
	}
	fail_msg("unknown address");
	return 0;
}

static void q_push(struct squeue *q, const struct vip_cl_member *from, const uint8_t *d, size_t len)
{
	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 32;
		q->m = realloc(q->m, q->cap * sizeof(*q->m));
		assert_non_null(q->m);
	}
	uint8_t *c = malloc(len);
	assert_non_null(c);
	memcpy(c, d, len);
	q->m[q->n++] = (struct smsg){ .from = *from, .data = c, .len = len };
}

static void q_clear(struct squeue *q)
{
	for (size_t i = q->head; i < q->n; i++)
		free(q->m[i].data);
	q->head = q->n = 0;
}

struct sim_sink {
	struct sim *s;
	size_t i;
};

static int sim_send(void *data, const uint8_t *m, size_t len)
{
	struct sim_sink *k = data;
	struct sim *s = k->s;
	struct snode *n = &s->n[k->i];

	if (s->hold[k->i])
		q_push(&s->held[k->i], &n->id, m, len);
	else
		q_push(s->flushing ? &s->staged[n->comp] : &s->q[n->comp], &n->id, m, len);
	return 0;
}

/*
 * Node i plumbs v: if a node out of its component still has v on the wire, the
 * engine would probe first (docs/protocol.md, "Unconfirmed releases") when the
 * protocol says so. The fake engine does not wait for the probe, so an overlap
 * the protocol flagged is handed on by ordered hand-offs inside the component
 * (overlap[v]: who plumbed it while it was out there); only the first plumb of
 * such a chain is judged. Policy keep accepts a split brain by design.
 */
static void check_probe_first(struct sim *s, size_t i, size_t v, const struct vip_addr *a)
{
	struct snode *n = &s->n[i];
	size_t j = 0;

	while (j < s->nn && !(j != i && s->n[j].up && s->n[j].plumbed[v]))
		j++;
	if (j == s->nn) {
		s->overlap[v] = 0;
		return;
	}
	s->cross_plumbs++;
	bool inherited = false;
	for (size_t k = 0; k < s->nn; k++)
		inherited |= k != j && s->n[k].comp == n->comp && (s->overlap[v] >> k & 1u);
	s->overlap[v] |= 1u << i;
	if (inherited || vip_cl_proto_probe_first(n->p, a) || s->policy != VIP_QUORUM_RELEASE)
		return;
	s->unprobed++;
	if (getenv("VIPD_SIM_DEBUG"))
		fprintf(stderr, "t=%llu: %s plumbs vip %zu unprobed while %s has it\n",
			(unsigned long long)s->now, sim_node_name(i), v, sim_node_name(j));
}

static void sim_hold(void *data, const struct vip_addr *a)
{
	struct sim_sink *k = data;
	struct sim *s = k->s;
	size_t v = vip_index(s, a), i = k->i;
	struct snode *n = &s->n[i];

	/* (a hold of what it still has plumbed, its release not done yet, adds nothing) */
	for (size_t j = 0; j < s->nn && !n->plumbed[v]; j++)
		if (j != i && s->n[j].up && s->n[j].comp == n->comp && s->n[j].plumbed[v])
			fail_msg("t=%llu: %s plumbs vip %zu while %s holds it", (unsigned long long)s->now,
				 sim_node_name(i), v, sim_node_name(j));
	if (!n->plumbed[v]) {
		check_probe_first(s, i, v, a);
		s->probed += vip_cl_proto_probe_first(n->p, a);
	}
	n->plumbed[v] = true;
	s->holds++;
	if (getenv("VIPD_SIM_DEBUG"))
		fprintf(stderr, "t=%llu: %s plumbs vip %zu\n", (unsigned long long)s->now, sim_node_name(i),
			v);
}

static void sim_release(void *data, const struct vip_addr *a)
{
	struct sim_sink *k = data;
	struct snode *n = &k->s->n[k->i];

	assert_true(n->n_rel < VMAX);
	n->rel[n->n_rel++] = (int)vip_index(k->s, a);
}

/* Execute what node i's protocol asks for. */
void sim_drain(struct sim *s, size_t i)
{
	if (s->n[i].stopped)
		return; /* runs nothing */
	struct sim_sink k = { .s = s, .i = i };
	const struct vip_cl_sink sink = { .send = sim_send,
					  .hold = sim_hold,
					  .release = sim_release,
					  .data = &k };
	bool blocked = true;

	assert_true(vip_cl_proto_drain(s->n[i].p, &sink, &blocked) >= 0);
	assert_false(blocked);
}

/* The fake engine finishes one unplumb on node i. */
static void engine_step(struct sim *s, size_t i)
{
	struct snode *n = &s->n[i];
	size_t k = sim_rnd(s) % n->n_rel;
	int v = n->rel[k];
	n->rel[k] = n->rel[--n->n_rel];
	struct vip_addr a = cltest_addr((size_t)v, s->nv);
	if (vip_cl_proto_wants(n->p, &a))
		return; /* wanted again before the engine got to it */
	n->plumbed[v] = false;
	s->releases++;
	if (getenv("VIPD_SIM_DEBUG"))
		fprintf(stderr, "t=%llu: %s unplumbs vip %d\n", (unsigned long long)s->now, sim_node_name(i),
			v);
	assert_int_equal(vip_cl_proto_local_released(n->p, &a, s->now), 0);
	sim_drain(s, i);
}

static struct sevent *backlog_push(struct snode *n, int kind)
{
	if (n->n_bl == n->cap_bl) {
		n->cap_bl = n->cap_bl ? n->cap_bl * 2 : 32;
		n->bl = realloc(n->bl, n->cap_bl * sizeof(*n->bl));
		assert_non_null(n->bl);
	}
	struct sevent *e = &n->bl[n->n_bl++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	return e;
}

static void backlog_free(struct snode *n)
{
	for (size_t k = 0; k < n->n_bl; k++)
		free(n->bl[k].msg.data);
	free(n->bl);
	n->bl = NULL;
	n->n_bl = n->cap_bl = 0;
}

static void node_message(struct sim *s, size_t i, const struct smsg *m)
{
	struct snode *n = &s->n[i];

	if (n->stopped) {
		struct sevent *e = backlog_push(n, SEV_MSG);
		e->msg = (struct smsg){ .from = m->from, .data = malloc(m->len), .len = m->len };
		assert_non_null(e->msg.data);
		memcpy(e->msg.data, m->data, m->len);
		return;
	}
	assert_int_equal(vip_cl_proto_on_message(n->p, &m->from, m->data, m->len, s->now), 0);
	const char *w = getenv("VIPD_SIM_WATCH");
	if (w) {
		struct vip_cl_vip_info vi;
		char fl[96];
		assert_int_equal(vip_cl_proto_vip(n->p, strtoul(w, NULL, 10), &vi), 0);
		fprintf(stderr, "    %s after %u.%u %s: vip %s owner %s holder %s %s%s\n", sim_node_name(i),
			m->from.nodeid, m->from.pid, vip_cl_msg_type_to_string(m->data[3]), w,
			vi.owner ? vi.owner : "-", vi.holder ? vi.holder : "-",
			vip_cl_flags_format(vi.flags, fl, sizeof(fl)), vi.local_hold ? " HOLD" : "");
	}
	sim_drain(s, i);
}

static void node_view(struct sim *s, size_t i, const struct vip_cl_view *v)
{
	struct snode *n = &s->n[i];

	if (n->stopped) {
		struct sevent *e = backlog_push(n, SEV_VIEW);
		memcpy(e->members, v->members, v->n_members * sizeof(*v->members));
		memcpy(e->left, v->left, v->n_left * sizeof(*v->left));
		e->n_members = v->n_members;
		e->n_left = v->n_left;
		e->self = v->self;
		return;
	}
	assert_int_equal(vip_cl_proto_on_view(n->p, v, s->now), 0);
}

static void node_quorum(struct sim *s, size_t i, bool quorate)
{
	struct snode *n = &s->n[i];

	if (n->stopped) {
		backlog_push(n, SEV_QUORUM)->quorate = quorate;
		return;
	}
	assert_int_equal(vip_cl_proto_on_quorum(n->p, quorate, s->now), 0);
	sim_drain(s, i);
}

static void deliver(struct sim *s, int comp, const struct smsg *m, const bool *to)
{
	for (size_t i = 0; i < s->nn; i++) {
		if (!s->n[i].alive || s->n[i].comp != comp || (to && !to[i]))
			continue;
		node_message(s, i, m);
	}
}

void sim_stop(struct sim *s, size_t i)
{
	if (getenv("VIPD_SIM_DEBUG"))
		fprintf(stderr, "t=%llu: %s stops\n", (unsigned long long)s->now, sim_node_name(i));
	assert_true(s->n[i].alive);
	s->n[i].stopped = true;
	s->witness[i] = 0;
	for (size_t j = 0; j < s->nn; j++)
		if (j != i && s->n[j].alive && !s->n[j].stopped && s->n[j].comp == s->n[i].comp)
			s->witness[i] |= 1u << j;
}

void sim_resume(struct sim *s, size_t i)
{
	struct snode *n = &s->n[i];

	assert_true(n->alive && n->stopped);
	if (getenv("VIPD_SIM_DEBUG"))
		fprintf(stderr, "t=%llu: %s resumes (%zu events)\n", (unsigned long long)s->now,
			sim_node_name(i), n->n_bl);
	n->stopped = false;
	for (size_t k = 0; k < n->n_bl; k++) {
		struct sevent *e = &n->bl[k];
		struct vip_cl_view v = { .members = e->members,
					 .n_members = e->n_members,
					 .left = e->left,
					 .n_left = e->n_left,
					 .self = e->self };
		if (getenv("VIPD_SIM_DEBUG"))
			fprintf(stderr, "  replay %s: %s\n", sim_node_name(i),
				e->kind == SEV_VIEW     ? "view"
				: e->kind == SEV_QUORUM ? (e->quorate ? "quorate" : "inquorate")
							: vip_cl_msg_type_to_string(e->msg.data[3]));
		if (e->kind == SEV_VIEW)
			assert_int_equal(vip_cl_proto_on_view(n->p, &v, s->now), 0);
		else if (e->kind == SEV_QUORUM)
			assert_int_equal(vip_cl_proto_on_quorum(n->p, e->quorate, s->now), 0);
		else
			assert_int_equal(vip_cl_proto_on_message(n->p, &e->msg.from, e->msg.data, e->msg.len,
								 s->now),
					 0);
		sim_drain(s, i);
	}
	backlog_free(n);
}

static void monitor_send(struct sim *s, size_t i, enum vip_cl_msg_type t);

/*
 * A monitor's own FLUSHED delivered in another view than it was sealed in is
 * ignored by every member: the monitor sends it again (vipd/monitor-cluster.c).
 */
static void monitor_own_flushed(struct sim *s, int comp, const struct smsg *m)
{
	struct vip_cl_auth_info ai;

	if (!s->key || m->len < 4 || m->data[3] != VIP_CL_MSG_FLUSHED ||
	    vip_cl_auth_verify(NULL, &m->from, m->data, m->len, &ai) < 0 || ai.view == s->comp_view[comp])
		return;
	for (size_t i = 0; i < s->nn; i++)
		if (s->n[i].up && s->n[i].mon && s->n[i].comp == comp &&
		    s->n[i].mon_id.nodeid == m->from.nodeid && s->n[i].mon_id.pid == m->from.pid) {
			s->resent++;
			monitor_send(s, i, VIP_CL_MSG_FLUSHED);
		}
}

static bool deliver_one(struct sim *s, int comp)
{
	struct squeue *q = &s->q[comp];
	if (q->head == q->n)
		return false;
	struct smsg m = q->m[q->head++];
	s->delivered++;
	if (getenv("VIPD_SIM_DEBUG"))
		fprintf(stderr, "t=%llu comp %d: %u.%u %s (%zu bytes)\n", (unsigned long long)s->now, comp,
			m.from.nodeid, m.from.pid, vip_cl_msg_type_to_string(m.data[3]), m.len);
	deliver(s, comp, &m, NULL);
	monitor_own_flushed(s, comp, &m);
	free(m.data);
	if (q->head == q->n)
		q->head = q->n = 0;
	return true;
}

/* Nodes up in comp: what corosync's quorum counts. */
size_t sim_comp_size(const struct sim *s, int comp)
{
	size_t c = 0;
	for (size_t i = 0; i < s->nn; i++)
		c += s->n[i].up && s->n[i].comp == comp;
	return c;
}

/* The group members in comp: engine i is bit i, monitor i bit NMAX + i. */
static unsigned comp_mask(const struct sim *s, int comp)
{
	unsigned m = 0;
	for (size_t i = 0; i < s->nn; i++) {
		if (!s->n[i].up || s->n[i].comp != comp)
			continue;
		m |= s->n[i].alive && !s->n[i].joining ? 1u << i : 0;
		m |= s->n[i].mon ? 1u << (NMAX + i) : 0;
	}
	return m;
}

static void monitor_send(struct sim *s, size_t i, enum vip_cl_msg_type t)
{
	struct vip_cl_msg m = { .type = t };
	uint8_t *d;
	size_t len;

	snprintf(m.name, sizeof(m.name), "%s", sim_node_name(i));
	assert_int_equal(vip_cl_msg_encode(&m, &d, &len), 0);
	/* sealed as vipd/monitor-cluster.c does: its identity, the view it is in */
	assert_int_equal(vip_cl_auth_seal(s->key, &s->n[i].mon_id, s->comp_view[s->n[i].comp], ++s->mon_seq,
					  d, len),
			 0);
	q_push(&s->q[s->n[i].comp], &s->n[i].mon_id, d, len);
	free(d);
}

/* Quorum to every engine of c (corosync says it on node changes, views or not). */
static void comp_quorum(struct sim *s, int c)
{
	for (size_t i = 0; i < s->nn; i++)
		if (s->n[i].alive && s->n[i].comp == c)
			node_quorum(s, i, sim_comp_size(s, c) * 2 > s->nn);
}

/*
 * Install the views of the components whose membership changed, then
 * quorum; quorum alone where only a node without a group member (a crashed
 * engine, no monitor) came or went.
 */
static void install_views(struct sim *s, const unsigned *before, const size_t *size_before)
{
	for (int c = 0; c < NMAX; c++) {
		if (comp_mask(s, c) == before[c]) {
			if (sim_comp_size(s, c) != size_before[c])
				comp_quorum(s, c);
			continue;
		}
		struct vip_cl_member m[2 * NMAX];
		size_t n = 0, nm = 0, idx[NMAX];
		for (size_t i = 0; i < s->nn; i++) {
			if (!s->n[i].up || s->n[i].comp != c)
				continue;
			if (s->n[i].mon && s->mon_first)
				m[nm++] = s->n[i].mon_id;
			if (s->n[i].alive) {
				idx[n++] = i;
				m[nm++] = s->n[i].id;
			}
			if (s->n[i].mon && !s->mon_first)
				m[nm++] = s->n[i].mon_id;
		}
		s->views += n;
		s->comp_view[c] = vip_cl_view_digest(m, nm);
		for (size_t k = 0; k < n; k++) {
			struct snode *sn = &s->n[idx[k]];
			struct vip_cl_member left[2 * NMAX];
			size_t nl = 0;
			for (size_t j = 0; j < sn->n_view; j++) {
				bool stays = false;
				for (size_t x = 0; x < nm; x++)
					stays |= m[x].nodeid == sn->view[j].nodeid &&
						 m[x].pid == sn->view[j].pid;
				if (stays)
					continue;
				left[nl] = sn->view[j];
				left[nl++].reason = s->why[sn->view[j].nodeid - 1];
			}
			ssize_t self = -1;
			for (size_t x = 0; x < nm; x++)
				if (m[x].nodeid == sn->id.nodeid && m[x].pid == sn->id.pid)
					self = (ssize_t)x;
			struct vip_cl_view v = { .members = m,
						 .n_members = nm,
						 .self = self,
						 .left = left,
						 .n_left = nl };
			node_view(s, idx[k], &v);
			memcpy(sn->view, m, nm * sizeof(*m));
			sn->n_view = nm;
		}
		/* what was sent during the flush comes first in the new view */
		for (size_t k = s->staged[c].head; k < s->staged[c].n; k++) {
			struct smsg *sm = &s->staged[c].m[k];
			q_push(&s->q[c], &sm->from, sm->data, sm->len);
		}
		q_clear(&s->staged[c]);
		for (size_t k = 0; k < n; k++)
			sim_drain(s, idx[k]);
		for (size_t i = 0; i < s->nn; i++) /* a monitor speaks in every view it is in */
			if (s->n[i].up && s->n[i].mon && s->n[i].comp == c)
				monitor_send(s, i, VIP_CL_MSG_MONITOR);
		comp_quorum(s, c);
	}
}

/*
 * Change membership: new_comp[i] is node i's next component (-1: dies).
 * The old queues are flushed: each group of members that move on together
 * delivers one random prefix (usually all) of its old component's queue.
 */
void sim_view_change(struct sim *s, const int *new_comp)
{
	if (getenv("VIPD_SIM_DEBUG")) {
		fprintf(stderr, "t=%llu: view change:", (unsigned long long)s->now);
		for (size_t i = 0; i < s->nn; i++)
			fprintf(stderr, " %s:%d", sim_node_name(i), new_comp[i]);
		fprintf(stderr, "\n");
	}
	unsigned before[NMAX], after[NMAX] = { 0 };
	size_t size_before[NMAX];
	for (int c = 0; c < NMAX; c++) {
		before[c] = comp_mask(s, c);
		size_before[c] = sim_comp_size(s, c);
	}
	for (size_t i = 0; i < s->nn; i++) {
		struct snode *n = &s->n[i];
		if (new_comp[i] >= 0 && n->up) {
			after[new_comp[i]] |= n->alive && !n->crash_next ? 1u << i : 0;
			after[new_comp[i]] |= (n->mon || n->mon_next) && !n->mon_stop_next ? 1u << (NMAX + i)
											   : 0;
		}
		/* dies, or cut off: the others see its node go; else a process ended */
		s->why[i] = n->crash_next      ? VIP_CL_REASON_PROCDOWN
			    : n->mon_stop_next ? VIP_CL_REASON_LEAVE
					       : VIP_CL_REASON_NODEDOWN;
	}
	s->flushing = true;
	for (int c = 0; c < NMAX; c++) {
		struct squeue *q = &s->q[c];
		if (before[c] == after[c])
			continue; /* unchanged: its order just goes on */
		for (int d = -1; d < NMAX && q->head < q->n; d++) {
			bool to[NMAX] = { false }, any = false;
			for (size_t i = 0; i < s->nn; i++)
				if (s->n[i].alive && !s->n[i].crash_next && s->n[i].comp == c &&
				    new_comp[i] == d && d >= 0) {
					to[i] = true;
					any = true;
				}
			if (!any)
				continue;
			size_t len = q->n - q->head;
			size_t k = sim_rnd(s) % 4 ? len : (size_t)(sim_rnd(s) % (len + 1));
			for (size_t j = 0; j < k; j++)
				deliver(s, c, &q->m[q->head + j], to);
			s->lost += len - k;
		}
		q_clear(q);
	}
	s->flushing = false;
	for (size_t i = 0; i < s->nn; i++) {
		struct snode *n = &s->n[i];
		bool node_dies = n->up && new_comp[i] < 0;
		if (n->alive && (node_dies || n->crash_next)) { /* the engine ends */
			for (size_t k = 0; k < s->nn; k++)
				s->witness[k] &= ~(1u << i); /* a dead process saw nothing any more */
			vip_cl_proto_free(n->p);
			n->p = NULL;
			n->alive = false;
			n->stopped = false;
			backlog_free(n);
			n->n_rel = 0;
			n->n_view = 0;
			/* crashed: the monitor removes its addresses later, else the reaper at once */
			if (node_dies || !n->mon || n->mon_stop_next)
				memset(n->plumbed, 0, sizeof(n->plumbed));
		} else if (!n->alive && n->mon_stop_next) {
			memset(n->plumbed, 0, sizeof(n->plumbed)); /* the monitor flushes as it goes */
		}
		n->mon = (n->mon || n->mon_next) && !n->mon_stop_next && !node_dies;
		if (n->mon_next)
			n->mon_id = (struct vip_cl_member){ .nodeid = (uint32_t)i + 1, .pid = ++s->next_pid };
		if (node_dies) {
			n->up = false;
			memset(n->plumbed, 0, sizeof(n->plumbed));
		}
		n->crash_next = n->mon_next = n->mon_stop_next = n->joining = false;
		n->comp = new_comp[i];
	}
	install_views(s, before, size_before);
}

void sim_start_node(struct sim *s, size_t i)
{
	struct snode *n = &s->n[i];
	assert_false(n->alive);
	n->cfg->cluster.quorum_policy = s->policy;
	assert_int_equal(vip_cl_proto_new(n->cfg, &n->p), 0);
	vip_cl_proto_set_key(n->p, s->key);
	n->alive = n->up = n->joining = true;
	n->out = 0; /* a fresh engine is a candidate */
	n->id = (struct vip_cl_member){ .nodeid = (uint32_t)i + 1, .pid = ++s->next_pid };
	memset(n->plumbed, 0, sizeof(n->plumbed));
	n->n_rel = 0;
	n->n_view = 0;
}

void sim_candidacy(struct sim *s, size_t i, uint32_t out)
{
	struct snode *n = &s->n[i];
	assert_true(n->alive && !n->stopped);
	n->out = out;
	assert_int_equal(vip_cl_proto_set_candidacy(n->p, out, s->now), 0);
	assert_int_equal(vip_cl_proto_candidacy(n->p), out);
	sim_drain(s, i);
}

/* Every watched address is still plumbed on some live node. */
static void check_watch(const struct sim *s)
{
	for (size_t v = 0; v < s->nv; v++) {
		size_t n = 0;
		for (size_t i = 0; s->watch[v] && i < s->nn; i++)
			n += s->n[i].up && s->n[i].plumbed[v];
		if (s->watch[v] && n == 0)
			fail_msg("t=%llu: vip %zu is plumbed nowhere", (unsigned long long)s->now, v);
	}
}

static void current_comps(const struct sim *s, int *comp)
{
	for (size_t i = 0; i < s->nn; i++)
		comp[i] = s->n[i].up ? s->n[i].comp : -1;
}

void sim_crash(struct sim *s, size_t i)
{
	int comp[NMAX];
	assert_true(s->n[i].alive);
	current_comps(s, comp);
	s->n[i].crash_next = true;
	sim_view_change(s, comp);
}

void sim_monitor(struct sim *s, size_t i, bool on)
{
	int comp[NMAX];
	assert_true(s->n[i].up && s->n[i].mon != on);
	current_comps(s, comp);
	s->n[i].mon_next = on;
	s->n[i].mon_stop_next = !on;
	sim_view_change(s, comp);
}

void sim_flush(struct sim *s, size_t i)
{
	assert_true(s->n[i].mon && !s->n[i].alive);
	memset(s->n[i].plumbed, 0, sizeof(s->n[i].plumbed));
	monitor_send(s, i, VIP_CL_MSG_FLUSHED);
}

/*
 * Run deliveries and engine steps in random interleaving until nothing is
 * pending, or for at most max steps (then a view change may cut in).
 */
void sim_run_some(struct sim *s, size_t max)
{
	for (size_t step = 0; step < max; step++) {
		int choices[2 * NMAX], nc = 0;
		for (int c = 0; c < NMAX; c++)
			if (s->q[c].head < s->q[c].n)
				choices[nc++] = c;
		for (size_t i = 0; i < s->nn; i++)
			if (s->n[i].alive && !s->n[i].stopped && s->n[i].n_rel)
				choices[nc++] = NMAX + (int)i;
		if (nc == 0)
			return;
		int pick = choices[sim_rnd(s) % (uint64_t)nc];
		if (pick < NMAX)
			deliver_one(s, pick);
		else
			engine_step(s, (size_t)(pick - NMAX));
		check_watch(s);
	}
	if (max == STEP_MAX)
		fail_msg("no quiescence after %d steps", STEP_MAX);
}

void sim_run(struct sim *s)
{
	sim_run_some(s, STEP_MAX);
}

static const char *pref_of(size_t i, void *data)
{
	const size_t *nn = data;
	return i < 3 * *nn ? sim_node_name(i % *nn) : NULL; /* three each, the rest free */
}

void sim_init(struct sim *s, size_t nn, size_t nv, uint64_t seed, enum vip_quorum_policy pol)
{
	memset(s, 0, sizeof(*s));
	s->nn = nn;
	s->nv = nv;
	s->rng = seed * 2654435761u + 1;
	s->policy = pol;
	s->now = 1000;
	for (size_t i = 0; i < nn; i++) {
		s->n[i].cfg = cltest_config(sim_node_name(i), nv, pref_of, &s->nn);
		s->n[i].comp = -1;
	}
}

void sim_use_guard(struct sim *s, uint32_t delay_ms, enum vip_takeover_guard guard)
{
	for (size_t i = 0; i < s->nn; i++) {
		s->n[i].cfg->cluster.duravip_takeover_delay_ms = delay_ms;
		s->n[i].cfg->cluster.takeover_guard = guard;
	}
}

void sim_use_key(struct sim *s)
{
	uint8_t b[VIP_CL_KEY_MIN];

	memset(b, 0x3c, sizeof(b));
	assert_int_equal(vip_cl_key_new(b, sizeof(b), &s->key), 0);
}

void sim_free(struct sim *s)
{
	for (size_t i = 0; i < s->nn; i++) {
		vip_cl_proto_free(s->n[i].p);
		cltest_config_free(s->n[i].cfg);
		backlog_free(&s->n[i]);
	}
	for (int c = 0; c < NMAX; c++) {
		q_clear(&s->q[c]);
		free(s->q[c].m);
		q_clear(&s->staged[c]);
		free(s->staged[c].m);
		q_clear(&s->held[c]);
		free(s->held[c].m);
	}
	vip_cl_key_free(s->key);
}

void sim_hold_sends(struct sim *s, size_t i, bool on)
{
	struct squeue *h = &s->held[i];

	s->hold[i] = on;
	if (on)
		return;
	assert_true(s->n[i].comp >= 0 || h->head == h->n); /* a dead node's are gone with it */
	for (size_t k = h->head; k < h->n; k++)
		q_push(&s->q[s->n[i].comp], &h->m[k].from, h->m[k].data, h->m[k].len);
	q_clear(h);
}

void sim_reform(struct sim *s, int comp)
{
	unsigned before[NMAX];
	size_t size_before[NMAX];

	while (deliver_one(s, comp))
		check_watch(s);
	for (int c = 0; c < NMAX; c++) {
		before[c] = comp_mask(s, c) ^ (c == comp ? ~0u : 0u); /* "changed": a view all the same */
		size_before[c] = sim_comp_size(s, c);
	}
	install_views(s, before, size_before);
}

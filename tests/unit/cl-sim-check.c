/* SPDX-License-Identifier: MIT */
/* The simulator's invariants and the helpers the simulator tests share: see cl-sim.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cl-sim.h"

static size_t stopped_holders(const struct sim *s, int c, size_t v)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nn; i++)
		n += s->n[i].alive && s->n[i].stopped && s->n[i].comp == c && s->n[i].plumbed[v];
	return n;
}

/* name is a stopped member of c, or the ghost of a crashed engine of c its monitor has not flushed. */
static bool is_stopped_node(const struct sim *s, int c, const char *name)
{
	char ghost[32];

	for (size_t i = 0; name && i < s->nn; i++) {
		if (s->n[i].alive && s->n[i].stopped && s->n[i].comp == c &&
		    strcmp(name, sim_node_name(i)) == 0)
			return true;
		snprintf(ghost, sizeof(ghost), "%s (crashed)", sim_node_name(i));
		if (s->n[i].up && !s->n[i].alive && s->n[i].mon && s->n[i].comp == c &&
		    strcmp(name, ghost) == 0)
			return true;
	}
	return false;
}

/*
 * The quiescent invariants. A stopped member cannot release: in an
 * inquorate component its addresses are not counted, and an address the
 * table leaves to a stopped member may be plumbed nowhere (it may have let
 * it go before it stopped without the group hearing), and so may one a
 * crashed engine's ghost holds until its monitor flushes. With policy keep, a
 * member stopped after it took addresses alone in a partition keeps that
 * duplicate until it resumes: nobody saw what it took.
 */
/* Running members of c that are candidates (their own word; a stopped one cannot change it). */
static size_t running_candidates(const struct sim *s, int c)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nn; i++)
		n += s->n[i].up && s->n[i].alive && !s->n[i].stopped && s->n[i].comp == c && !s->n[i].out;
	return n;
}

/* A running member that is no candidate plumbs nothing once its round is complete. */
static void check_out(const struct sim *s)
{
	for (size_t i = 0; i < s->nn; i++) {
		const struct snode *n = &s->n[i];
		struct vip_cl_status st;
		if (!n->up || !n->alive || n->stopped || !n->out)
			continue;
		vip_cl_proto_status(n->p, &st);
		/* (in its takeover delay a member keeps what it holds) */
		if (st.round_complete && sim_count_plumbed(s, i) && !vip_cl_proto_guard_until(n->p))
			fail_msg("t=%llu: %s is no candidate (%u) and plumbs %zu", (unsigned long long)s->now,
				 sim_node_name(i), n->out, sim_count_plumbed(s, i));
	}
}

/* A running member of component c in its takeover delay (until its next tick): it plumbs nothing new. */
static bool comp_guarded(const struct sim *s, int c)
{
	for (size_t i = 0; i < s->nn; i++)
		if (s->n[i].up && s->n[i].alive && !s->n[i].stopped && s->n[i].comp == c &&
		    vip_cl_proto_guard_until(s->n[i].p) != 0)
			return true;
	return false;
}

void sim_check(struct sim *s)
{
	check_out(s);
	for (int c = 0; c < NMAX; c++) {
		size_t size = sim_comp_size(s, c), first = SIZE_MAX;
		if (!size)
			continue;
		bool quorate = size * 2 > s->nn, nobody = running_candidates(s, c) == 0;
		bool guarded = comp_guarded(s, c);
		for (size_t v = 0; v < s->nv; v++) {
			size_t holders = 0, stopped = 0;
			const char *owner = NULL, *holder = NULL;
			for (size_t i = 0; i < s->nn; i++) {
				if (!s->n[i].up || s->n[i].comp != c)
					continue;
				holders += s->n[i].plumbed[v];
				if (!s->n[i].alive) {
					stopped +=
						s->n[i].plumbed
							[v]; /* a crashed engine's, until its monitor flushes */
					continue;
				}
				if (s->n[i].stopped) {
					stopped += s->n[i].plumbed[v];
					continue; /* its view of the table is from before it stopped */
				}
				struct vip_cl_vip_info info;
				assert_int_equal(vip_cl_proto_vip(s->n[i].p, v, &info), 0);
				if (first == SIZE_MAX)
					first = i;
				if (i == first) {
					owner = info.owner;
					holder = info.holder;
				} else if (!streq_ptr(owner, info.owner))
					fail_msg("t=%llu vip %zu: %s says %s, %s says %s",
						 (unsigned long long)s->now, v, sim_node_name(first),
						 owner ? owner : "-", sim_node_name(i),
						 info.owner ? info.owner : "-");
				/* (in its takeover delay a member keeps what it holds, whoever owns it now) */
				if (s->n[i].plumbed[v] && quorate && !vip_cl_proto_guard_until(s->n[i].p))
					assert_string_equal(info.owner, sim_node_name(i));
			}
			if (first == SIZE_MAX)
				continue; /* every member stopped: nothing can happen here */
			bool left_to_stopped = is_stopped_node(s, c, owner) || is_stopped_node(s, c, holder);
			/* policy keep: partitions that each took an address keep it after they
			 * merge while a holder is stopped, or until the takeover delay ends */
			bool keep_dup = s->policy == VIP_QUORUM_KEEP && holders > 1 &&
					(stopped_holders(s, c, v) > 0 || guarded);
			if (nobody) {
				/* no running candidate: what the running members had went nowhere */
				if (holders != stopped && !guarded)
					fail_msg("t=%llu comp %d vip %zu: %zu holders and no candidate",
						 (unsigned long long)s->now, c, v, holders - stopped);
			} else if (quorate || s->policy == VIP_QUORUM_KEEP) {
				if (holders != 1 && !(holders == 0 && (left_to_stopped || guarded)) &&
				    !keep_dup)
					fail_msg("t=%llu comp %d vip %zu: %zu holders (owner %s, holder %s)",
						 (unsigned long long)s->now, c, v, holders,
						 owner ? owner : "-", holder ? holder : "-");
			} else if (holders != stopped) {
				fail_msg("t=%llu comp %d (inquorate) vip %zu: %zu holders",
					 (unsigned long long)s->now, c, v, holders - stopped);
			}
		}
	}
}

/* Run to quiescence; with a member stopped, let the rounds close (2 x the round timeout). */
void sim_settle(struct sim *s)
{
	sim_run(s);
	for (size_t i = 0; i < s->nn; i++)
		if (s->n[i].alive && s->n[i].stopped) {
			sim_advance(s, 2 * 2000 + 200);
			return;
		}
}

size_t sim_count_plumbed(const struct sim *s, size_t i)
{
	size_t c = 0;
	for (size_t v = 0; v < s->nv; v++)
		c += s->n[i].plumbed[v];
	return c;
}

void sim_check_preferred(const struct sim *s)
{
	for (size_t v = 0; v < 3 * s->nn && v < s->nv; v++) {
		size_t pn = v % s->nn;
		struct vip_cl_vip_info info;
		if (!s->n[pn].alive || sim_comp_size(s, s->n[pn].comp) * 2 <= s->nn)
			continue;
		assert_int_equal(vip_cl_proto_vip(s->n[pn].p, v, &info), 0);
		if (!(info.flags & VIP_CL_F_PINNED)) /* an operator move wins until the next view */
			assert_true(s->n[pn].plumbed[v]);
	}
}

/* All nodes join; views mature: the preferred addresses go home. */
void sim_startup(struct sim *s)
{
	sim_all_join(s);
	sim_check(s);
	sim_advance(s, 6000); /* views mature: preferred addresses go home */
	sim_check(s);
	sim_check_preferred(s);
}

/* The whole table of node i, for comparing members. */
static void table_of(const struct sim *s, size_t i, char *buf, size_t len)
{
	size_t n = 0;
	for (size_t v = 0; v < s->nv && n < len; v++) {
		struct vip_cl_vip_info vi;
		char fl[96];
		assert_int_equal(vip_cl_proto_vip(s->n[i].p, v, &vi), 0);
		n += (size_t)snprintf(buf + n, len - n, "%zu:%s/%s/%s ", v, vi.owner ? vi.owner : "-",
				      vi.holder ? vi.holder : "-",
				      vip_cl_flags_format(vi.flags, fl, sizeof(fl)));
	}
	for (size_t k = 0; k < vip_cl_proto_n_members(s->n[i].p) && n < len; k++) {
		struct vip_cl_member_info mi;
		assert_int_equal(vip_cl_proto_member(s->n[i].p, k, &mi), 0);
		n += (size_t)snprintf(buf + n, len - n, "m%u.%u:%s%s%s%s ", mi.member.nodeid, mi.member.pid,
				      mi.name ? mi.name : "?", mi.silent ? " silent" : "",
				      mi.waiting ? " waiting" : "", mi.monitor ? " monitor" : "");
	}
}

void sim_assert_same_tables(const struct sim *s, size_t a, size_t b)
{
	char ta[8192], tb[8192];
	table_of(s, a, ta, sizeof(ta));
	table_of(s, b, tb, sizeof(tb));
	if (strcmp(ta, tb) != 0)
		fail_msg("%s: %s\n%s: %s", sim_node_name(a), ta, sim_node_name(b), tb);
}

/* Advance in 100 ms ticks until every address of from[] is plumbed at node to; the time taken. */
uint64_t sim_until_taken(struct sim *s, const bool *from, size_t to, uint64_t max_ms)
{
	uint64_t start = s->now;
	for (;;) {
		bool all = true;
		for (size_t v = 0; v < s->nv; v++)
			all &= !from[v] || s->n[to].plumbed[v];
		if (all)
			return s->now - start;
		if (s->now - start >= max_ms)
			fail_msg("not taken over after %llu ms", (unsigned long long)max_ms);
		sim_advance(s, 100);
	}
}

/* Three nodes, each with a monitor, settled. */
void sim_startup_monitors(struct sim *s, size_t nn, uint64_t seed)
{
	sim_init(s, nn, 20, seed, VIP_QUORUM_RELEASE);
	sim_startup(s);
	for (size_t i = 0; i < nn; i++)
		sim_monitor(s, i, true);
	sim_run(s);
	sim_check(s);
	struct vip_cl_member_info mi;
	assert_int_equal(vip_cl_proto_member(s->n[0].p, 1, &mi), 0); /* n0's engine, then its monitor */
	assert_true(mi.monitor);
	assert_int_equal(mi.load, 0);
	assert_int_equal(vip_cl_proto_n_members(s->n[0].p), 2 * nn);
}

size_t sim_n_ghosts(const struct sim *s, size_t i)
{
	struct vip_cl_status st;
	vip_cl_proto_status(s->n[i].p, &st);
	return st.n_ghosts;
}

/* Let time pass in 100 ms ticks, running to quiescence after each. */
void sim_advance(struct sim *s, uint64_t ms)
{
	uint64_t end = s->now + ms;
	while (s->now < end) {
		s->now += 100;
		for (size_t i = 0; i < s->nn; i++) {
			if (!s->n[i].alive || s->n[i].stopped)
				continue;
			if (vip_cl_proto_next_timeout(s->n[i].p, s->now) == 0) {
				assert_int_equal(vip_cl_proto_on_tick(s->n[i].p, s->now), 0);
				sim_drain(s, i);
			}
		}
		sim_run(s);
	}
}

/* All nodes up in component 0. */
void sim_all_join(struct sim *s)
{
	int comp[NMAX];
	for (size_t i = 0; i < s->nn; i++) {
		sim_start_node(s, i);
		comp[i] = 0;
	}
	sim_view_change(s, comp);
	sim_run(s);
}

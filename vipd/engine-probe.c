/* SPDX-License-Identifier: MIT */
/*
 * vipd/engine: probing before a takeover (docs/fault-tolerance.md, "Probing
 * before a takeover"; the port's side in docs/port.md §8).
 *
 * When the protocol says an address's last holder left with nothing to
 * confirm that it removed it (vip_cl_proto_probe_first), the engine probes
 * the address on its link (ARP probe, DAD NS) and plumbs it only after
 * PROBE_WAIT_MS with no host claiming it. A claim means the old owner still
 * has it (a node whose corosync hung and whose kernel is still removing
 * thousands of addresses, or a foreign host): the engine waits, probes again
 * with a growing interval, and plumbs once the claims stop.
 *
 * The probing entries are short-lived, so they live in their own array, not
 * in the per-DuraVIP entries, and the array is freed when the last one goes.
 * It is sorted by address outside a plan; a plan appends the new entries
 * after the sorted part (it visits each DuraVIP once, so it never looks a
 * new one up) and marks finished ones done; engine_probe_send compacts and
 * sorts it again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine-internal.h"
#include "log.h"

/* No claim this long after a probe: the address is free. */
#define PROBE_WAIT_MS 10u
/*
 * With duravip_takeover_guard = probe the probe is all that guards a takeover
 * from a lost node: a second one goes this long after the first, so one frame
 * lost on the wire does not decide it (the wait still counts from the first).
 */
#define PROBE_RESEND_MS 5u
/* After a claim the next probe goes this long later, doubling up to the maximum. */
#define PROBE_RETRY_MIN_MS 20u
#define PROBE_RETRY_MAX_MS 320u
/* At most this many probes in one turn (the answers must fit in the port's receive queue). */
#define PROBE_BATCH_MAX 1024u
/* At most this many answers read in one turn; the fd stays readable for the rest. */
#define ANSWERS_MAX 8192

static int probe_cmp(const void *a, const void *b)
{
	return vip_addr_cmp(&((const struct engine_probe *)a)->addr, &((const struct engine_probe *)b)->addr);
}

/* The live entry for a in the sorted part, or NULL. */
static struct engine_probe *probe_find(struct vipd_engine *e, const struct vip_addr *a)
{
	struct engine_probe key = { .addr = *a }, *pr;

	if (!e->n_probes_sorted)
		return NULL;
	pr = bsearch(&key, e->probes, e->n_probes_sorted, sizeof(key), probe_cmp);
	return pr && !pr->done ? pr : NULL;
}

/* Drop the entries done or not seen by the last plan, sort the rest; free an empty array. */
static void probe_compact(struct vipd_engine *e)
{
	size_t k = 0;

	for (size_t i = 0; i < e->n_probes; i++)
		if (!e->probes[i].done && e->probes[i].seen) {
			e->probes[k] = e->probes[i];
			e->probes[k++].seen = false;
		}
	e->n_probes = k;
	if (k > 1)
		qsort(e->probes, k, sizeof(*e->probes), probe_cmp);
	e->n_probes_sorted = k;
	if (k == 0) {
		free(e->probes);
		e->probes = NULL;
		e->cap_probes = 0;
	}
}

static uint64_t retry_ms(unsigned claims)
{
	uint64_t ms = PROBE_RETRY_MIN_MS;

	for (unsigned i = 1; i < claims && ms < PROBE_RETRY_MAX_MS; i++)
		ms *= 2;
	return ms < PROBE_RETRY_MAX_MS ? ms : PROBE_RETRY_MAX_MS;
}

/* The entry for v (a new one to probe when it has none); NULL when out of memory. */
static struct engine_probe *probe_entry(struct vipd_engine *e, const struct engine_vip *v)
{
	struct engine_probe *pr = probe_find(e, &v->conf->addr);
	if (!pr) {
		struct engine_probe *grown;

		if (e->n_probes == e->cap_probes) {
			size_t cap = e->cap_probes ? e->cap_probes * 2 : 16;

			grown = reallocarray(e->probes, cap, sizeof(*grown));
			if (!grown)
				return NULL;
			e->probes = grown;
			e->cap_probes = cap;
		}
		e->probes[e->n_probes++] = (struct engine_probe){ .addr = v->conf->addr,
								  .ifindex = v->ifindex,
								  .seen = true };
		return &e->probes[e->n_probes - 1];
	}
	pr->ifindex = v->ifindex;
	pr->seen = true;
	/* Silence says the old holder let go only within one view: in another, probe again. */
	if (pr->sent && pr->view != vip_cl_proto_view_seq(e->deps.proto)) {
		pr->sent = 0;
		pr->claimed = false;
		pr->resent = false;
	}
	return pr;
}

/* Does this round of pr's probes still owe its second probe (PROBE_RESEND_MS)? */
static bool resend_owed(const struct vipd_engine *e, const struct engine_probe *pr)
{
	return e->cfg->cluster.takeover_guard == VIP_TAKEOVER_PROBE && pr->sent && !pr->claimed &&
	       !pr->resent;
}

bool engine_probe_gate(struct vipd_engine *e, const struct engine_vip *v, uint64_t now)
{
	struct engine_probe *pr;

	if (v->obs_ifindex || !e->deps.proto || e->probe_unsupported ||
	    !vip_cl_proto_probe_first(e->deps.proto, &v->conf->addr))
		return true;
	pr = probe_entry(e, v);
	if (!pr)
		return false; /* tried again at the next reconcile */
	if (pr->sent && !pr->claimed && now >= pr->sent + PROBE_WAIT_MS) {
		if (pr->claims) {
			char buf[VIP_ADDR_STRLEN];

			log_notice_ratelimit(
				"DuraVIP %s is no longer claimed on %s after %u claims: plumbing it",
				vip_addr_to_string(&pr->addr, buf, sizeof(buf)), engine_vip_ifname(e, v),
				pr->claims);
		}
		e->m.probe_cleared++;
		pr->done = true;
		return true;
	}
	return false;
}

/*
 * The lost node can only remove addresses while it is out of the view (it has
 * no quorum to take any), so a probe sent PROBE_WAIT_MS before the takeover
 * delay ends and not answered by its end says the address is free then: the
 * wait is hidden in the delay, not added to it.
 */
void engine_probe_ahead(struct vipd_engine *e, const struct engine_vip *v, uint64_t now)
{
	const struct vip_cl_proto *p = e->deps.proto;
	uint64_t g = p ? vip_cl_proto_guard_until(p) : 0;

	if (!g || now + PROBE_WAIT_MS < g || e->probe_unsupported || !engine_vip_available(e, v) ||
	    !vip_cl_proto_probe_first(p, &v->conf->addr) ||
	    !vip_cl_proto_wants_after_guard(p, &v->conf->addr))
		return;
	(void)probe_entry(e, v);
}

/* Every probe in flight counts as claimed: its answer may be among those not read. */
static void claim_all(struct vipd_engine *e, uint64_t now, const char *why)
{
	log_warning_ratelimit("%s: treating every address probe in flight as claimed", why);
	for (size_t k = 0; k < e->n_probes; k++)
		if (e->probes[k].sent && !e->probes[k].claimed) {
			e->probes[k].claimed = true;
			e->probes[k].next = now + PROBE_WAIT_MS;
		}
}

/* Read every answer queued; an overrun counts as a claim on every probe in flight. */
static void drain_answers(struct vipd_engine *e, uint64_t now)
{
	struct vip_port_answer a;
	char buf[VIP_ADDR_STRLEN], mac[3 * VIP_PORT_HWADDR_MAX];
	int i;

	if (!e->listening)
		return;
	for (i = 0; i < ANSWERS_MAX; i++) {
		int r = e->deps.port_ops->next_answer(e->deps.port, &a);
		struct engine_probe *pr;

		if (r == -ENOBUFS) {
			claim_all(e, now, "Answers to address probes were lost");
			continue;
		}
		if (r == -EAGAIN)
			continue; /* packets that were no answers, more queued */
		if (r < 0) {
			claim_all(e, now, "Reading answers to address probes failed");
			break;
		}
		if (r == 0)
			break;
		pr = probe_find(e, &a.addr);
		if (!pr || !pr->sent || pr->claimed)
			continue; /* not ours to wait for, or already counted */
		pr->claimed = true;
		pr->claims++;
		pr->next = now + retry_ms(pr->claims);
		e->m.probe_claims++;
		mac[0] = '\0';
		for (size_t k = 0, o = 0; k < a.mac_len && k < VIP_PORT_HWADDR_MAX; k++)
			o += (size_t)snprintf(mac + o, sizeof(mac) - o, "%s%02x", k ? ":" : "", a.mac[k]);
		if (pr->claims == 1)
			log_warning_ratelimit("DuraVIP %s is still claimed by %s on link %d: not plumbing it "
					      "until the claims stop",
					      vip_addr_to_string(&a.addr, buf, sizeof(buf)),
					      mac[0] ? mac : "a host", a.ifindex);
	}
	if (i == ANSWERS_MAX) /* more queued than read: the rest is read at the next turn */
		claim_all(e, now, "More answers to address probes than one turn reads");
}

void vipd_engine_drain_answers(struct vipd_engine *e, uint64_t now)
{
	drain_answers(e, now);
}

static int set_listening(struct vipd_engine *e, bool on)
{
	int r;

	if (e->listening == on)
		return 0;
	r = e->deps.port_ops->probe_listen ? e->deps.port_ops->probe_listen(e->deps.port, on) : -EOPNOTSUPP;
	if (r == 0)
		e->listening = on;
	return r;
}

/* This system cannot probe: plumb as before (the takeover delay alone guards). */
static int probe_give_up(struct vipd_engine *e, int err)
{
	log_notice_errno(err, "Address probes are not possible here (%m): DuraVIPs taken over from a lost "
			      "node are plumbed after the takeover delay alone");
	e->probe_unsupported = true;
	e->n_probes = e->n_probes_sorted = 0;
	(void)set_listening(e, false);
	e->dirty = true;
	return vip_cl_proto_probe_unable(e->deps.proto, NULL);
}

/* The entries to probe now into batch (room for PROBE_BATCH_MAX); their count. */
static size_t probe_collect(struct vipd_engine *e, struct vip_port_probe *batch, struct engine_probe **who,
			    uint64_t now)
{
	size_t n = 0;

	for (size_t i = 0; i < e->n_probes && n < PROBE_BATCH_MAX; i++) {
		struct engine_probe *pr = &e->probes[i];

		bool resend = resend_owed(e, pr) && now >= pr->sent + PROBE_RESEND_MS;
		if (pr->sent && !(pr->claimed && now >= pr->next) && !resend)
			continue;
		batch[n] = (struct vip_port_probe){ .addr = pr->addr, .ifindex = pr->ifindex };
		who[n++] = pr;
	}
	return n;
}

int engine_probe_send(struct vipd_engine *e, uint64_t now)
{
	_cleanup_free_ struct vip_port_probe *batch = NULL;
	_cleanup_free_ struct engine_probe **who = NULL;
	size_t n;
	int r, err = 0;

	/* Entries the plan just built did not ask for are no longer wanted here. */
	probe_compact(e);
	if (e->n_probes == 0) {
		(void)set_listening(e, false);
		return 0;
	}
	batch = calloc(PROBE_BATCH_MAX, sizeof(*batch));
	who = calloc(PROBE_BATCH_MAX, sizeof(*who));
	if (!batch || !who)
		return -ENOMEM;
	n = probe_collect(e, batch, who, now);
	if (n == 0)
		return 0;
	r = set_listening(e, true);
	if (r == 0)
		r = e->deps.port_ops->probe ? e->deps.port_ops->probe(e->deps.port, batch, n) : -EOPNOTSUPP;
	if (r == -EOPNOTSUPP || r == -ENOTCONN)
		return probe_give_up(e, r);
	for (size_t i = 0; i < n; i++) {
		struct engine_probe *pr = who[i];

		int res = r < 0 ? r : batch[i].result;

		if (res == -EOPNOTSUPP || res == -ENOTCONN) {
			/* this link or family cannot be probed (not Ethernet; no socket to hear
			 * its answers): the takeover delay alone guards it, as without probes;
			 * the protocol holds it back until the delay's end, if one runs */
			char buf[VIP_ADDR_STRLEN];

			(void)log_full_errno_ratelimit(
				LOG_NOTICE, res,
				"DuraVIP %s cannot be probed on link %d (%m): plumbing it "
				"after the takeover delay alone",
				vip_addr_to_string(&pr->addr, buf, sizeof(buf)), pr->ifindex);
			pr->done = true;
			e->dirty = true;
			int q = vip_cl_proto_probe_unable(e->deps.proto, &pr->addr);
			err = q < 0 ? q : err;
			continue;
		}
		if (res < 0) {
			/* not sent: try again later, never plumb unprobed */
			pr->sent = pr->sent ? pr->sent : now;
			pr->claimed = true;
			pr->next = now + PROBE_RETRY_MAX_MS;
			e->m.netlink_errors++;
			continue;
		}
		if (batch[i].result == 0) {
			/* IFF_NOARP: nobody on that link could answer; the wait is all there is */
			pr->sent = now > PROBE_WAIT_MS ? now - PROBE_WAIT_MS : 1;
			pr->claimed = false;
			e->dirty = true;
			continue;
		}
		e->m.probes_sent++;
		if (resend_owed(e, pr)) {
			pr->resent = true; /* the second of this round: the wait counts from the first */
			continue;
		}
		pr->sent = now ? now : 1;
		pr->view = vip_cl_proto_view_seq(e->deps.proto);
		pr->claimed = false;
		pr->resent = false;
	}
	if (r < 0)
		log_warning_errno_ratelimit(r, "Failed to send %zu address probes: %m", n);
	return err;
}

uint64_t vipd_engine_next_probe(const struct vipd_engine *e)
{
	uint64_t t = UINT64_MAX, g = e->deps.proto ? vip_cl_proto_guard_until(e->deps.proto) : 0;

	/* the probes that go out ahead of the takeover delay's end, once per delay */
	if (g && g != e->ahead_for && !e->probe_unsupported)
		t = g > PROBE_WAIT_MS ? g - PROBE_WAIT_MS : 0;

	for (size_t i = 0; i < e->n_probes; i++) {
		const struct engine_probe *pr = &e->probes[i];
		uint64_t due = !pr->sent            ? 0
			       : pr->claimed        ? pr->next
			       : resend_owed(e, pr) ? pr->sent + PROBE_RESEND_MS
						    : pr->sent + PROBE_WAIT_MS;

		t = due < t ? due : t;
	}
	return t;
}

void vipd_engine_probe_due(struct vipd_engine *e, uint64_t now)
{
	drain_answers(e, now);
	if (vipd_engine_next_probe(e) <= now)
		e->dirty = true;
}

void engine_probe_before_plan(struct vipd_engine *e, uint64_t now)
{
	uint64_t g = e->deps.proto ? vip_cl_proto_guard_until(e->deps.proto) : 0;

	/* this plan probes ahead of the delay's end whatever needs it: no second wake-up */
	if (g && now + PROBE_WAIT_MS >= g)
		e->ahead_for = g;
	drain_answers(e, now);
}

void engine_probe_info(const struct vipd_engine *e, const struct vip_addr *a, bool *ret_probing,
		       unsigned *ret_claims)
{
	const struct engine_probe *pr = probe_find((struct vipd_engine *)e, a);

	*ret_probing = pr != NULL;
	*ret_claims = pr ? pr->claims : 0;
}

void engine_probe_free(struct vipd_engine *e)
{
	if (e->listening && e->deps.port_ops->probe_listen)
		(void)e->deps.port_ops->probe_listen(e->deps.port, false);
	free(e->probes);
	e->probes = NULL;
	e->n_probes = e->n_probes_sorted = e->cap_probes = 0;
	e->listening = false;
}

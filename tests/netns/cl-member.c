/* SPDX-License-Identifier: MIT */
/*
 * cl-member: the real protocol over the cpg backend, for the real-corosync
 * test. It plays a vipd without an engine: HOLD and RELEASE are applied to a
 * set in memory (RELEASE reported back at once). Each time the answer
 * changes it prints one line:
 *
 *   STATE node=n1 ring=12 members=3 round=1 quorate=1 mature=1 digest=HEX held=2
 *         hold=a,b owners=198.51.100.10:n1,198.51.100.11:n2,...
 *
 * (digest covers every owner; the lists are cut at 8 KiB).
 *
 * and "LOST" / "CONNECTED" around a lost corosync (it reconnects with
 * back-off, as vipd does). Stops on SIGTERM/SIGINT or after --max-seconds.
 * authfail= counts messages dropped for want of a valid MAC.
 *
 *   cl-member --node NAME [--vips N] [--mature-ms MS] [--balance-ms MS]
 *             [--group G] [--max-seconds S] [--authkey PATH] [--forge]
 *
 * --authkey: authenticate the group's messages with the key in PATH (owned
 * by this user, mode 0600), as vipd does with cluster { authkey }.
 * --forge: play a process without the key (no --authkey) that corosync lets
 * into the group: besides its own STATE it multicasts, every 300 ms, a copy
 * of the last STATE another member sent and a MOVE of every DuraVIP to
 * itself; it prints "FORGED n" with the count so far.
 *
 * DuraVIP i is cltest_addr(i, N); DuraVIP i < 3 prefers node n(i+1).
 */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <time.h>

#include "../unit/cl-testutil.h"

struct member {
	const struct vip_cl_backend_ops *ops;
	struct vip_cl_backend *b;
	struct vip_cl_proto *p;
	struct vipd_config *cfg;
	const char *group;
	bool lost;
	char last[8192];
	bool forge;
	uint8_t *copy; /* --forge: the last STATE of another member, as delivered */
	size_t copy_len;
	uint64_t next_forge;
	unsigned forged;
	struct vip_cl_member self;
	bool have_self;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *pref_of(size_t i, void *data)
{
	static const char *const names[] = { "n1", "n2", "n3" };
	(void)data;
	return i < 3 ? names[i] : NULL;
}

static void on_view(void *u, const struct vip_cl_view *v)
{
	struct member *m = u;
	if (v->self >= 0) {
		m->self = v->members[v->self];
		m->have_self = true;
	}
	vip_cl_proto_on_view(m->p, v, now_ms());
}

static void keep_copy(struct member *m, const struct vip_cl_member *s, const uint8_t *d, size_t len)
{
	if (!m->forge || !m->have_self || (s->nodeid == m->self.nodeid && s->pid == m->self.pid) || len < 4 ||
	    d[3] != VIP_CL_MSG_STATE)
		return;
	free(m->copy);
	m->copy = malloc(len);
	if (!m->copy)
		abort();
	memcpy(m->copy, d, len);
	m->copy_len = len;
}

static void on_message(void *u, const struct vip_cl_member *s, const void *d, size_t len)
{
	struct member *m = u;
	keep_copy(m, s, d, len);
	int r = vip_cl_proto_on_message(m->p, s, d, len, now_ms());
	if (r < 0)
		fprintf(stderr, "message from %u.%u refused: %s\n", s->nodeid, s->pid, strerror(-r));
}

static void on_quorum(void *u, bool q)
{
	struct member *m = u;
	vip_cl_proto_on_quorum(m->p, q, now_ms());
}

static void on_lost(void *u, int error)
{
	struct member *m = u;
	m->lost = true;
	printf("LOST %s\n", strerror(-error));
	fflush(stdout);
	vip_cl_proto_on_lost(m->p, now_ms());
}

static int act_send(void *data, const uint8_t *msg, size_t len)
{
	struct member *m = data;

	if (!m->b || m->lost)
		return -ENOTCONN; /* the next view starts a new round */
	int r = m->ops->send(m->b, msg, len);
	if (r < 0 && r != -EAGAIN)
		fprintf(stderr, "send: %s\n", strerror(-r));
	return r;
}

static void act_hold(void *data, const struct vip_addr *a)
{
	(void)data;
	(void)a;
}

/* No engine: a release is done at once; the engine side runs even when lost. */
static void act_release(void *data, const struct vip_addr *a)
{
	struct member *m = data;

	vip_cl_proto_local_released(m->p, a, now_ms());
}

/* --forge: the copied STATE as is, and every DuraVIP moved to this node. */
static void forge(struct member *m)
{
	uint64_t t = now_ms();

	if (!m->forge || !m->b || m->lost || t < m->next_forge)
		return;
	m->next_forge = t + 300;
	if (m->copy && m->ops->send(m->b, m->copy, m->copy_len) == 0)
		m->forged++;
	for (size_t i = 0; i < m->cfg->n_duravips; i++)
		if (vip_cl_proto_request_move(m->p, &m->cfg->duravips[i].addr, m->cfg->cluster.nodename, t) ==
		    0)
			m->forged++;
	printf("FORGED %u\n", m->forged);
	fflush(stdout);
}

/* Carry out the queued actions; a send refused by flow control waits for the next turn. */
static void act(struct member *m)
{
	const struct vip_cl_sink s = { .send = act_send,
				       .hold = act_hold,
				       .release = act_release,
				       .data = m };
	vip_cl_proto_drain(m->p, &s, NULL);
}

static void report(struct member *m)
{
	char line[8192], buf[VIP_ADDR_STRLEN];
	struct vip_cl_status st;
	size_t n = 0;

	vip_cl_proto_status(m->p, &st);
	/* A digest of the whole assignment, for lists too long to print. */
	uint64_t digest = 0xcbf29ce484222325ull;
	size_t mine = 0;
	for (size_t i = 0; i < vip_cl_proto_n_vips(m->p); i++) {
		struct vip_cl_vip_info vi;
		vip_cl_proto_vip(m->p, i, &vi);
		const char *o = vi.owner ? vi.owner : "-";
		for (const char *c = o; *c; c++)
			digest = (digest ^ (uint8_t)*c) * 0x100000001b3ull;
		digest = (digest ^ i) * 0x100000001b3ull;
		mine += vi.local_hold;
	}
	n += (size_t)snprintf(line + n, sizeof(line) - n,
			      "STATE node=%s ring=%llu members=%zu round=%d quorate=%d mature=%d "
			      "authfail=%zu digest=%016llx held=%zu hold=",
			      vip_cl_proto_nodename(m->p), (unsigned long long)st.ring_seq,
			      vip_cl_proto_n_members(m->p), st.round_complete, st.quorate, st.mature,
			      st.n_auth_failed, (unsigned long long)digest, mine);
	for (size_t i = 0; i < vip_cl_proto_n_vips(m->p) && n < sizeof(line) - 64; i++) {
		struct vip_cl_vip_info vi;
		vip_cl_proto_vip(m->p, i, &vi);
		if (vi.local_hold)
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s,",
					      vip_addr_to_string(&vi.addr, buf, sizeof(buf)));
	}
	n += (size_t)snprintf(line + n, sizeof(line) - n, " owners=");
	for (size_t i = 0; i < vip_cl_proto_n_vips(m->p) && n < sizeof(line) - 64; i++) {
		struct vip_cl_vip_info vi;
		vip_cl_proto_vip(m->p, i, &vi);
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s:%s,",
				      vip_addr_to_string(&vi.addr, buf, sizeof(buf)),
				      vi.owner ? vi.owner : "-");
	}
	if (strcmp(line, m->last) != 0) {
		snprintf(m->last, sizeof(m->last), "%s", line);
		printf("%s\n", line);
		fflush(stdout);
	}
}

static int connect_join(struct member *m)
{
	struct vip_cl_backend_cbs cbs = { .view = on_view,
					  .message = on_message,
					  .quorum = on_quorum,
					  .lost = on_lost };
	int r = m->ops->connect(&cbs, m, &m->b);
	if (r < 0)
		return r;
	r = m->ops->join(m->b, m->group);
	if (r < 0) {
		m->ops->free(m->b);
		m->b = NULL;
		return r;
	}
	m->lost = false;
	printf("CONNECTED\n");
	fflush(stdout);
	return 0;
}

static int run(struct member *m, int sfd, unsigned max_seconds)
{
	uint64_t end = now_ms() + (uint64_t)max_seconds * 1000, retry = 0, backoff = 100;

	while (now_ms() < end) {
		uint64_t t = now_ms();
		if (!m->b && t >= retry) {
			if (connect_join(m) < 0) {
				retry = t + backoff; /* corosync not (yet) there */
				backoff = backoff < 2000 ? backoff * 2 : 2000;
			} else {
				backoff = 100;
			}
		}
		uint64_t wait = vip_cl_proto_next_timeout(m->p, t);
		wait = wait > 100 ? 100 : wait;
		struct pollfd pfd[2] = { { .fd = sfd, .events = POLLIN },
					 { .fd = m->b ? m->ops->fd(m->b) : -1, .events = POLLIN } };
		if (poll(pfd, 2, (int)wait) < 0 && errno != EINTR)
			return -errno;
		if (pfd[0].revents)
			return 0;
		if (m->b && pfd[1].revents)
			m->ops->dispatch(m->b);
		if (m->b && m->lost) {
			m->ops->free(m->b);
			m->b = NULL;
			retry = now_ms() + backoff;
		}
		vip_cl_proto_on_tick(m->p, now_ms());
		forge(m);
		act(m);
		report(m);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "vips", required_argument, NULL, 'v' },
		{ "mature-ms", required_argument, NULL, 'm' },
		{ "balance-ms", required_argument, NULL, 'b' },
		{ "group", required_argument, NULL, 'g' },
		{ "max-seconds", required_argument, NULL, 's' },
		{ "authkey", required_argument, NULL, 'k' },
		{ "forge", no_argument, NULL, 'f' },
		{ 0 },
	};
	struct member m = { .group = "vipd_cltest" };
	const char *node = NULL, *authkey = NULL;
	struct vip_cl_key *key = NULL;
	size_t n_vips = 6;
	unsigned mature = 2000, balance = 10000, max_seconds = 120;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			node = optarg;
			break;
		case 'v':
			n_vips = strtoul(optarg, NULL, 10);
			break;
		case 'm':
			mature = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'b':
			balance = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'g':
			m.group = optarg;
			break;
		case 's':
			max_seconds = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'k':
			authkey = optarg;
			break;
		case 'f':
			m.forge = true;
			break;
		default:
			return 2;
		}
	}
	if (!node) {
		fprintf(stderr,
			"usage: cl-member --node NAME [--vips N] [--mature-ms MS] "
			"[--balance-ms MS] [--group G] [--max-seconds S] [--authkey PATH] [--forge]\n");
		return 2;
	}
	m.ops = vip_cl_backend_find("cpg");
	if (!m.ops) {
		fprintf(stderr, "cl-member: built without the cpg backend\n");
		return 77;
	}
	m.cfg = cltest_config(node, n_vips, pref_of, NULL);
	m.cfg->cluster.view_mature_time_ms = mature;
	m.cfg->cluster.view_balance_interval_ms = balance;
	if (vip_cl_proto_new(m.cfg, &m.p) < 0)
		return 1;
	if (authkey) {
		int e = vip_cl_key_load(authkey, (uint32_t)geteuid(), &key);
		if (e < 0) {
			fprintf(stderr, "cl-member: authkey %s: %s\n", authkey, strerror(-e));
			return 1;
		}
		vip_cl_proto_set_key(m.p, key);
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	int r = run(&m, sfd, max_seconds);
	if (m.b) {
		m.ops->leave(m.b);
		m.ops->free(m.b);
	}
	vip_cl_proto_free(m.p);
	vip_cl_key_free(key);
	free(m.copy);
	cltest_config_free(m.cfg);
	close(sfd);
	return r < 0 ? 1 : 0;
}

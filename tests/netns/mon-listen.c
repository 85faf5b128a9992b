/* SPDX-License-Identifier: MIT */
/*
 * mon-listen: a silent member of a corosync group that prints what vipd's
 * monitors say, for the monitor's real-corosync test. One line each:
 *
 *   VIEW members=N ms=T
 *   MONITOR name=n1 from=NODEID.PID ms=T
 *   FLUSHED name=n1 from=NODEID.PID ms=T
 *
 * (T: CLOCK_REALTIME milliseconds, so the script can compare it with its own
 * clock). A MONITOR or FLUSHED sealed in another view than the one it is
 * delivered in is ignored by every member (docs/protocol.md,
 * "Authentication"; the monitor sends it again): it is printed as
 * "STALE MONITOR ..." / "STALE FLUSHED ...". Other messages are not printed. Stops on SIGTERM/SIGINT or after
 * --max-seconds.
 *
 *   mon-listen --group G [--max-seconds S]
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>

#include "cluster.h"

static unsigned long long wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

static uint64_t view_digest; /* this test tool's only state: the current view */

static void on_view(void *u, const struct vip_cl_view *v)
{
	(void)u;
	view_digest = vip_cl_view_digest(v->members, v->n_members);
	printf("VIEW members=%zu ms=%llu\n", v->n_members, wall_ms());
	fflush(stdout);
}

static void on_message(void *u, const struct vip_cl_member *s, const void *d, size_t len)
{
	struct vip_cl_msg m;

	(void)u;
	if (vip_cl_msg_decode(d, len, &m) < 0)
		return;
	if (m.type == VIP_CL_MSG_MONITOR || m.type == VIP_CL_MSG_FLUSHED) {
		struct vip_cl_auth_info ai = { 0 };
		bool stale = vip_cl_auth_verify(NULL, s, d, len, &ai) < 0 || ai.view != view_digest;
		printf("%s%s name=%s from=%u.%u ms=%llu\n", stale ? "STALE " : "",
		       vip_cl_msg_type_to_string(m.type), m.name, s->nodeid, s->pid, wall_ms());
		fflush(stdout);
	}
	vip_cl_msg_clear(&m);
}

static void on_quorum(void *u, bool q)
{
	(void)u;
	(void)q;
}

static bool lost;

static void on_lost(void *u, int error)
{
	(void)u;
	lost = true;
	printf("LOST %s\n", strerror(-error));
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "group", required_argument, NULL, 'g' },
		{ "max-seconds", required_argument, NULL, 'm' },
		{ 0 },
	};
	const struct vip_cl_backend_cbs cbs = { .view = on_view,
						.message = on_message,
						.quorum = on_quorum,
						.lost = on_lost };
	const struct vip_cl_backend_ops *ops = vip_cl_backend_find("cpg");
	struct vip_cl_backend *b = NULL;
	const char *group = NULL;
	unsigned max_seconds = 60;
	sigset_t set;
	int c, sfd;
	time_t end;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'g')
			group = optarg;
		else if (c == 'm')
			max_seconds = (unsigned)atoi(optarg);
		else
			return 2;
	}
	if (!group || !ops)
		return 2;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0 || ops->connect(&cbs, NULL, &b) < 0 || ops->join(b, group) < 0) {
		fprintf(stderr, "mon-listen: cannot join %s\n", group);
		return 1;
	}
	printf("JOINED\n");
	fflush(stdout);
	end = time(NULL) + (time_t)max_seconds;
	while (time(NULL) < end && !lost) {
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN },
				       { .fd = ops->fd(b), .events = POLLIN } };

		if (poll(p, 2, 200) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (p[1].revents && ops->dispatch(b) < 0)
			break;
	}
	ops->free(b);
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * vipd/reaper: the crash-cleanup child (see reaper.h).
 *
 * Why a pipe rather than a pidfd or PR_SET_PDEATHSIG: the pipe's end of file
 * comes from the kernel closing the parent's descriptors, whatever killed it,
 * it needs no privilege to watch, and the same pipe carries the "clean stop"
 * byte, so there is no window in which the parent has said goodbye but the
 * child still thinks it crashed.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "reaper.h"
#include "util.h"

#define REAPER_STOP_BYTE 'S'
#define REAPER_MAX_KEEP 8

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Close every descriptor >= 3 except those in keep (sorted here). */
static void close_all_but(int *keep, size_t n)
{
	unsigned from = 3;

	qsort(keep, n, sizeof(*keep), cmp_int);
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < (int)from)
			continue;
		if ((unsigned)keep[i] > from)
			close_range(from, (unsigned)keep[i] - 1, 0);
		from = (unsigned)keep[i] + 1;
	}
	close_range(from, ~0u, 0);
}

static bool have_cap(cap_value_t cap, cap_flag_t set)
{
	cap_flag_value_t v = CAP_CLEAR;
	cap_t c = cap_get_proc();

	if (c)
		cap_get_flag(c, cap, set, &v);
	cap_free(c);
	return v == CAP_SET;
}

/*
 * Keep cap_net_admin only: bounding set first (needs CAP_SETPCAP, which the
 * root parent has; an unprivileged test run has nothing to drop), then
 * permitted and effective. 0 or -errno.
 */
static int reduce_caps(void)
{
	bool admin = have_cap(CAP_NET_ADMIN, CAP_PERMITTED);
	cap_value_t keep = CAP_NET_ADMIN;
	cap_t c;
	int r = 0;

	if (have_cap(CAP_SETPCAP, CAP_EFFECTIVE)) {
		for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
			if (cap == CAP_NET_ADMIN || !CAP_IS_SUPPORTED(cap))
				continue;
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
				return negerrno();
		}
	}
	c = cap_init();
	if (!c)
		return -ENOMEM;
	if (admin && (cap_set_flag(c, CAP_PERMITTED, 1, &keep, CAP_SET) < 0 ||
		      cap_set_flag(c, CAP_EFFECTIVE, 1, &keep, CAP_SET) < 0))
		r = negerrno();
	if (r == 0 && cap_set_proc(c) < 0)
		r = negerrno();
	cap_free(c);
	if (r == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		r = negerrno();
	return r;
}

int vipd_reaper_child_main(int fd, const struct vipd_reaper_ops *ops, void *data)
{
	static const int ignored[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGTSTP, SIGUSR1, SIGUSR2 };
	sigset_t none;
	char byte;
	ssize_t n;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(ignored); i++)
		signal(ignored[i], SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_NAME, "vipd-reaper", 0, 0, 0);

	r = ops->prepare ? ops->prepare(data) : 0;
	if (r < 0) {
		log_error_errno(r, "reaper: cannot prepare: %m");
		return 1;
	}
	r = reduce_caps();
	if (r < 0) {
		log_error_errno(r, "reaper: cannot reduce capabilities: %m");
		return 1;
	}
	/* Waits for the parent's lifetime: this is the reaper's whole job. */
	do
		n = read(fd, &byte, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1 && byte == REAPER_STOP_BYTE) {
		if (ops->stopped)
			ops->stopped(data);
		return 0;
	}

	r = ops->flush(data);
	if (r < 0) {
		log_error_errno(r, "reaper: vipd died; removing its addresses failed: %m");
		return 1;
	}
	log_warning("reaper: vipd died without a clean stop; removed %d address%s", r, r == 1 ? "" : "es");
	return 0;
}

int vipd_reaper_start(struct vipd_reaper *r, const struct vipd_reaper_ops *ops, void *data,
		      const int *keep_fds, size_t n_keep)
{
	int p[2];
	pid_t pid;

	if (n_keep > REAPER_MAX_KEEP)
		return -EINVAL;
	if (pipe2(p, O_CLOEXEC) < 0)
		return negerrno();
	pid = fork();
	if (pid < 0) {
		int e = negerrno();
		close(p[0]);
		close(p[1]);
		return e;
	}
	if (pid == 0) {
		int keep[REAPER_MAX_KEEP + 1];

		close(p[1]);
		keep[0] = p[0];
		for (size_t i = 0; i < n_keep; i++)
			keep[i + 1] = keep_fds[i];
		close_all_but(keep, n_keep + 1);
		_exit(vipd_reaper_child_main(p[0], ops, data));
	}
	close(p[0]);
	r->pid = pid;
	r->fd = p[1];
	return 0;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int vipd_reaper_stop(struct vipd_reaper *r, unsigned timeout_ms)
{
	char byte = REAPER_STOP_BYTE;
	int st, ret = 0;

	if (r->fd >= 0) {
		if (write(r->fd, &byte, 1) != 1)
			ret = negerrno();
		close(r->fd);
		r->fd = -1;
	}
	if (r->pid <= 0)
		return ret;
	for (unsigned waited = 0;; waited += 5) {
		pid_t w = waitpid(r->pid, &st, WNOHANG);

		if (w == r->pid || (w < 0 && errno == ECHILD))
			break;
		if (waited >= timeout_ms) {
			kill(r->pid, SIGKILL);
			waitpid(r->pid, &st, 0);
			ret = -ETIMEDOUT;
			break;
		}
		sleep_ms(5);
	}
	r->pid = 0;
	return ret;
}

bool vipd_reaper_reaped(struct vipd_reaper *r, int *ret_status)
{
	int st;

	if (r->pid <= 0 || waitpid(r->pid, &st, WNOHANG) != r->pid)
		return false;
	r->pid = 0;
	if (r->fd >= 0) {
		close(r->fd);
		r->fd = -1;
	}
	if (ret_status)
		*ret_status = st;
	return true;
}

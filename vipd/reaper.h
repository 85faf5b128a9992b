/* SPDX-License-Identifier: MIT */
/*
 * vipd/reaper: a tiny privileged child that removes vipd's addresses when the
 * daemon dies without a clean stop, so a crash never leaves a DuraVIP
 * plumbed on the LAN while another node takes it over.
 *
 * Started as root before the privilege drop (after every other fork). The
 * child closes every inherited descriptor but its end of a pipe, ignores the
 * terminal and stop signals (it ends only through the pipe), calls prepare
 * (open its own rtnetlink socket), reduces its capabilities to cap_net_admin
 * (bounding set, permitted and effective; it may stay uid 0), sets
 * no_new_privs, and blocks reading the pipe:
 *   - one byte from the parent: a clean stop: call stopped (if set), exit 0
 *     without touching any address;
 *   - end of file: the parent is gone (the kernel closed its end, whatever
 *     killed it): call flush at once and exit.
 */
#ifndef VIPD_REAPER_H
#define VIPD_REAPER_H

#include <stdbool.h>
#include <sys/types.h>

struct vipd_reaper_ops {
	/* In the child, before the capability drop: open what flush needs. 0 or -errno. */
	int (*prepare)(void *data);
	/* In the child, after the parent died: remove every vipd-tagged address.
	 * Count removed or -errno. */
	int (*flush)(void *data);
	/* In the child, on a clean stop (may be NULL): what the dropped parent can no
	 * longer do itself, e.g. unlink its pid file in a root-owned folder. */
	void (*stopped)(void *data);
};

struct vipd_reaper {
	pid_t pid;  /* child, or 0 when not running */
	int fd;     /* parent's write end of the pipe, or -1 */
};

/*
 * Fork the reaper. keep_fds lists descriptors the child must keep open (for
 * prepare/flush; -1 entries ignored), at most 8. Returns 0 with r filled,
 * or -errno. The child never returns from this function.
 */
int vipd_reaper_start(struct vipd_reaper *r, const struct vipd_reaper_ops *ops, void *data,
		      const int *keep_fds, size_t n_keep);

/*
 * Clean stop: tell the reaper not to flush, close the pipe and reap the child
 * (waiting at most timeout_ms). 0, -ETIMEDOUT (the child was killed), or
 * -errno. Accepts a reaper that is not running.
 */
int vipd_reaper_stop(struct vipd_reaper *r, unsigned timeout_ms);

/*
 * The child exited (SIGCHLD): reap it without blocking. Returns true and the
 * wait status when it was the reaper (then r is no longer running).
 */
bool vipd_reaper_reaped(struct vipd_reaper *r, int *ret_status);

/* The body of the child, exposed for tests: returns the exit status. */
int vipd_reaper_child_main(int fd, const struct vipd_reaper_ops *ops, void *data);

#endif

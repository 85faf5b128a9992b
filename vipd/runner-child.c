/* SPDX-License-Identifier: MIT */
/*
 * vipd/runner's child: from fork to execve. The engine may run threads (the
 * cluster backend's worker), so between fork and execve only
 * async-signal-safe calls are made: raw system calls, no malloc, no stdio,
 * no libcap (its cap_set_proc allocates).
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "runner-internal.h"
#include "util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

const char *runner_step_to_string(enum runner_step s)
{
	static const char *const names[_RUNNER_STEP_MAX] = {
		[RUNNER_STEP_SESSION] = "setsid",
		[RUNNER_STEP_SIGNALS] = "signals",
		[RUNNER_STEP_STDIO] = "stdio",
		[RUNNER_STEP_FDS] = "closing descriptors",
		[RUNNER_STEP_CWD] = "chdir",
		[RUNNER_STEP_CAPS] = "capabilities",
		[RUNNER_STEP_NO_NEW_PRIVS] = "no_new_privs",
		[RUNNER_STEP_EXEC] = "execve",
	};
	return (unsigned)s < _RUNNER_STEP_MAX ? names[s] : "unknown step";
}

static __attribute__((noreturn)) void die(int err_fd, enum runner_step step, int error)
{
	struct runner_child_error e = { .error = error > 0 ? error : EIO, .step = (int32_t)step };

	(void)!write(err_fd, &e, sizeof(e));
	_exit(127);
}

/* Every catchable signal back to SIG_DFL (ignored ones stay ignored across execve), then unblocked. */
static int reset_signals(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &sa, NULL); /* EINVAL for the libc-reserved ones: fine */
	sigemptyset(&none);
	return sigprocmask(SIG_SETMASK, &none, NULL) < 0 ? -errno : 0;
}

/* fd moved to a number >= 3 (close-on-exec), so dup2 onto 0..2 cannot clobber it. */
static int above_stdio(int fd)
{
	return fd >= 3 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

/* stdin /dev/null, stdout and stderr the pipe; then err_fd becomes 3 and everything above goes. */
static int setup_fds(const struct runner_child_args *a, int *err_fd, enum runner_step *step)
{
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int out = above_stdio(a->out_fd);

	*step = RUNNER_STEP_STDIO;
	if (null_fd < 0 || out < 0 || (null_fd = above_stdio(null_fd)) < 0)
		return -errno;
	if (dup2(null_fd, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		return -errno;
	*step = RUNNER_STEP_FDS;
	if (*err_fd != 3) {
		if (dup3(*err_fd, 3, O_CLOEXEC) < 0)
			return -errno;
		*err_fd = 3;
	}
	if (syscall(SYS_close_range, 4U, ~0U, 0U) == 0)
		return 0;
	/* an old kernel: close one by one up to the descriptor limit */
	struct rlimit rl;
	rlim_t max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? rl.rlim_cur : 65536;
	for (rlim_t fd = 4; fd < max && fd < (1u << 20); fd++)
		(void)close((int)fd);
	return 0;
}

/*
 * No capability at all: permitted, effective and inheritable emptied (always
 * allowed, it only lowers), ambient cleared (EINVAL: a kernel without ambient
 * capabilities, so none), then read back.
 */
static int shed_capabilities(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { { 0 } };

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	for (size_t i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].permitted || data[i].effective || data[i].inheritable)
			return -EPERM;
	return 0;
}

void runner_child_exec(const struct runner_child_args *a)
{
	enum runner_step step = RUNNER_STEP_SESSION;
	int err_fd = above_stdio(a->err_fd);
	int r;

	if (err_fd < 0)
		_exit(127); /* nowhere to report it; the parent sees exit 127 and no message */
	if (setsid() < 0)
		die(err_fd, step, errno);
	if ((r = reset_signals()) < 0)
		die(err_fd, RUNNER_STEP_SIGNALS, -r);
	if ((r = setup_fds(a, &err_fd, &step)) < 0)
		die(err_fd, step, -r);
	if (chdir("/") < 0)
		die(err_fd, RUNNER_STEP_CWD, errno);
	if ((r = shed_capabilities()) < 0)
		die(err_fd, RUNNER_STEP_CAPS, -r);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die(err_fd, RUNNER_STEP_NO_NEW_PRIVS, errno);
	execve(a->argv[0], a->argv, a->envp);
	die(err_fd, RUNNER_STEP_EXEC, errno);
}

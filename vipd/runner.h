/* SPDX-License-Identifier: MIT */
/*
 * vipd/runner: run external commands (health-check commands, notify hooks)
 * from the engine without ever blocking its event loop.
 *
 * Each command runs in a child of the engine:
 *   - as the engine's user and groups, with no capabilities at all: the
 *     permitted, effective and inheritable sets are emptied (capset), the
 *     ambient set cleared, and no_new_privs set, so the execve gains nothing
 *     (not even as uid 0, and not from a set-uid or file-capability program);
 *   - in a session and process group of its own (setsid), killed as a whole
 *     (SIGKILL to the group) at its timeout, on cancel, when the runner is
 *     freed, and when the command itself exits (so nothing it started in the
 *     background outlives it, unless it made a session of its own);
 *   - stdin /dev/null, stdout and stderr one pipe read by the loop (the first
 *     output_max bytes kept, the rest counted), every other descriptor
 *     closed, cwd "/", every signal back to its default and unblocked;
 *   - a minimal environment: PATH=/usr/sbin:/usr/bin:/sbin:/bin and LANG=C,
 *     plus (or overridden by) the caller's NAME=value entries;
 *   - started by execve of an absolute path (no PATH search, no shell): a
 *     failure before or at execve (ENOENT, EACCES, ...) comes back through
 *     a close-on-exec pipe as VIPD_RUNNER_EXEC_FAILED, never as exit 127.
 * The child is watched with a pidfd, so the runner needs no SIGCHLD handler
 * and never reaps a child it did not start; the rest of the process must
 * not reap children it did not start either (no waitpid(-1), SIGCHLD not
 * SIG_IGN), or results come back as killed by SIGKILL.
 *
 * Pure mechanism: the runner does not log. The caller logs the result once
 * (vipd_runner_result_describe gives the sentence) with its own context.
 */
#ifndef VIPD_RUNNER_H
#define VIPD_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "loop.h"

struct vipd_runner;

/* At most this many children at a time (running or being reaped): -EAGAIN. */
#define VIPD_RUNNER_MAX_CHILDREN 256
/* Output kept when vipd_runner_cmd.output_max is 0. */
#define VIPD_RUNNER_OUTPUT_DEFAULT 4096
/* The largest output_max accepted. */
#define VIPD_RUNNER_OUTPUT_MAX (1024 * 1024)

enum vipd_runner_outcome {
	VIPD_RUNNER_EXITED,      /* exited: exit_status (0 is success) */
	VIPD_RUNNER_SIGNALED,    /* killed by signal (not by the runner) */
	VIPD_RUNNER_TIMEOUT,     /* still running at its timeout: its group was killed */
	VIPD_RUNNER_EXEC_FAILED, /* never ran: error and step say why */
	_VIPD_RUNNER_OUTCOME_MAX,
};

/* "exited", "signaled", "timeout", "exec-failed"; NULL when out of range. */
const char *vipd_runner_outcome_to_string(enum vipd_runner_outcome o);

/* What to run. Only read during vipd_runner_start (nothing is kept by pointer). */
struct vipd_runner_cmd {
	const char *const *argv; /* NULL-terminated; argv[0] an absolute path (vip_cmdline_split) */
	const char *const *env;  /* extra "NAME=value" entries, NULL-terminated, or NULL */
	uint32_t timeout_ms;     /* > 0 */
	size_t output_max;       /* bytes of output kept; 0: VIPD_RUNNER_OUTPUT_DEFAULT */
};

/* Valid only during the done callback; copy what must be kept. */
struct vipd_runner_result {
	uint64_t id; /* as returned by vipd_runner_start */
	pid_t pid;   /* the child (also its process group), already reaped */
	enum vipd_runner_outcome outcome;
	int exit_status;      /* EXITED: 0..255 */
	int signal;           /* SIGNALED: the signal; TIMEOUT: SIGKILL */
	int error;            /* EXEC_FAILED: -errno */
	const char *step;     /* EXEC_FAILED: what failed ("execve", "capabilities", ...) */
	uint64_t duration_ms; /* start to the child's end (loop_now_ms clock) */
	/*
	 * stdout and stderr interleaved as written, the first output_max bytes,
	 * made safe for a log line: every control byte except newline and tab
	 * (NUL included) is replaced by '?', trailing white space removed.
	 * Always a NUL-terminated string ("" when none).
	 */
	const char *output;
	size_t output_len;
	uint64_t output_dropped; /* bytes read past output_max and thrown away */
};

/* True when the command exited with status 0. */
bool vipd_runner_result_ok(const struct vipd_runner_result *res);

/*
 * One sentence for the log, without the output: "exited with status 3",
 * "killed by signal 11 (Segmentation fault)", "timed out after 5000 ms
 * (process group killed)", "could not start: execve: No such file or
 * directory". Truncated to len (always NUL-terminated when len > 0).
 * Returns buf.
 */
char *vipd_runner_result_describe(const struct vipd_runner_result *res, char *buf, size_t len);

/*
 * Called once per command that was not cancelled, from the loop, after the
 * child was reaped. It may start, cancel (other commands) and read res; it
 * must not free the runner.
 */
typedef void (*vipd_runner_done_fn)(void *data, const struct vipd_runner_result *res);

/* A runner on loop (which must outlive it). 0 and *ret, or -errno (*ret untouched). */
int vipd_runner_new(struct loop *loop, struct vipd_runner **ret);

/*
 * Kill every child's process group (SIGKILL), reap them (waiting at most
 * 2 s each; in practice microseconds), close every descriptor, free. No done
 * callback runs. Accepts NULL. Must not be called from a done callback.
 */
void vipd_runner_free(struct vipd_runner *r);

/*
 * Start cmd in a child (see the header comment) and return at once; done
 * runs later from the loop, never from inside this call. Returns 0 and
 * *ret_id (never 0; may be NULL), or -errno with nothing started: -EINVAL
 * (no argv, a relative program, timeout 0, an env entry without '=',
 * output_max too large, no done), -EAGAIN (VIPD_RUNNER_MAX_CHILDREN), or
 * what pipe2/fork/pidfd_open said. A program that does not exist is not an
 * error here: it is reported to done as VIPD_RUNNER_EXEC_FAILED.
 */
int vipd_runner_start(struct vipd_runner *r, const struct vipd_runner_cmd *cmd, vipd_runner_done_fn done,
		      void *data, uint64_t *ret_id);

/*
 * Cancel a command: its process group is killed at once, done will never
 * run, and the child is reaped by the loop in the background. 0, or -ENOENT
 * when id is unknown, finished or already cancelled.
 */
int vipd_runner_cancel(struct vipd_runner *r, uint64_t id);

/* Children started and not yet reaped (cancelled ones included). */
size_t vipd_runner_count(const struct vipd_runner *r);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * vipd/runner internals: the child's side (runner-child.c), shared with
 * runner.c. Not for other folders.
 */
#ifndef VIPD_RUNNER_INTERNAL_H
#define VIPD_RUNNER_INTERNAL_H

#include <stdint.h>

/* What the child was doing when it failed, sent back through the error pipe. */
enum runner_step {
	RUNNER_STEP_SESSION,
	RUNNER_STEP_SIGNALS,
	RUNNER_STEP_STDIO,
	RUNNER_STEP_FDS,
	RUNNER_STEP_CWD,
	RUNNER_STEP_CAPS,
	RUNNER_STEP_NO_NEW_PRIVS,
	RUNNER_STEP_EXEC,
	_RUNNER_STEP_MAX,
};

const char *runner_step_to_string(enum runner_step s);

/* The message on the error pipe: exactly this many bytes, or nothing (exec worked). */
struct runner_child_error {
	int32_t error; /* positive errno */
	int32_t step;  /* enum runner_step */
};

/* Everything the child needs, prepared before fork (the child does not allocate). */
struct runner_child_args {
	char *const *argv;
	char *const *envp;
	int out_fd; /* write end of the output pipe */
	int err_fd; /* write end of the error pipe (close-on-exec) */
};

/*
 * In the forked child: set up (see runner.h) and execve. Only
 * async-signal-safe calls (the engine may have threads). Never returns: on
 * failure it writes a struct runner_child_error to err_fd and _exits 127.
 */
__attribute__((noreturn)) void runner_child_exec(const struct runner_child_args *a);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * vipd/runner: the parent's side. One struct run per child: a pidfd (the
 * child's end), the read end of its output pipe, the read end of its error
 * pipe and a timeout timer, all on the loop. A run ends when its pidfd is
 * readable: the group is killed while the child is still a zombie (so its
 * pid, which is the group id, cannot have been reused), the child reaped,
 * what is left in the pipes read, and done called.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <poll.h>

#include "runner.h"
#include "runner-internal.h"
#include "util.h"

struct run {
	struct vipd_runner *r;
	struct run *next;
	uint64_t id;
	pid_t pid;
	int pidfd, out_fd, err_fd;
	struct loop_timer *timer;
	uint64_t start_ms;
	bool timed_out, cancelled;
	vipd_runner_done_fn done;
	void *data;
	char *buf; /* output_max + 1 bytes */
	size_t len, max;
	uint64_t dropped;
};

struct vipd_runner {
	struct loop *loop;
	struct run *runs;
	size_t n_runs;
	uint64_t next_id;
};

static const char *const base_env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C" };

const char *vipd_runner_outcome_to_string(enum vipd_runner_outcome o)
{
	static const char *const names[_VIPD_RUNNER_OUTCOME_MAX] = {
		[VIPD_RUNNER_EXITED] = "exited",
		[VIPD_RUNNER_SIGNALED] = "signaled",
		[VIPD_RUNNER_TIMEOUT] = "timeout",
		[VIPD_RUNNER_EXEC_FAILED] = "exec-failed",
	};
	return (unsigned)o < _VIPD_RUNNER_OUTCOME_MAX ? names[o] : NULL;
}

bool vipd_runner_result_ok(const struct vipd_runner_result *res)
{
	return res->outcome == VIPD_RUNNER_EXITED && res->exit_status == 0;
}

char *vipd_runner_result_describe(const struct vipd_runner_result *res, char *buf, size_t len)
{
	if (!len)
		return buf;
	switch (res->outcome) {
	case VIPD_RUNNER_EXITED:
		snprintf(buf, len, "exited with status %d", res->exit_status);
		break;
	case VIPD_RUNNER_SIGNALED:
		snprintf(buf, len, "killed by signal %d (%s)", res->signal, strsignal(res->signal));
		break;
	case VIPD_RUNNER_TIMEOUT:
		snprintf(buf, len, "timed out after %" PRIu64 " ms (process group killed)", res->duration_ms);
		break;
	case VIPD_RUNNER_EXEC_FAILED:
		snprintf(buf, len, "could not start: %s: %s", res->step ? res->step : "?",
			 strerror(-res->error));
		break;
	default:
		snprintf(buf, len, "unknown outcome %d", (int)res->outcome);
		break;
	}
	return buf;
}

int vipd_runner_new(struct loop *loop, struct vipd_runner **ret)
{
	struct vipd_runner *r;

	if (!loop || !ret)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->loop = loop;
	r->next_id = 1;
	*ret = r;
	return 0;
}

size_t vipd_runner_count(const struct vipd_runner *r)
{
	return r ? r->n_runs : 0;
}

/* SIGKILL to the group, and to the child itself in case it has not reached setsid yet. */
static void kill_group(struct run *run)
{
	if (run->pid <= 0)
		return; /* never kill(0) or kill(-1) */
	(void)kill(-run->pid, SIGKILL);
	(void)kill(run->pid, SIGKILL);
}

static void close_fd(struct run *run, int *fd)
{
	if (*fd < 0)
		return;
	(void)loop_remove_fd(run->r->loop, *fd);
	close(*fd);
	*fd = -1;
}

/* Take run off the runner's list (once; later calls do nothing). */
static void unlink_run(struct run *run)
{
	struct run **p;

	for (p = &run->r->runs; *p && *p != run; p = &(*p)->next)
		;
	if (*p) {
		*p = run->next;
		run->r->n_runs--;
	}
}

/* Unlink, close, free. The child must be reaped already (or given up on). */
static void run_free(struct run *run)
{
	unlink_run(run);
	close_fd(run, &run->pidfd);
	close_fd(run, &run->out_fd);
	close_fd(run, &run->err_fd);
	loop_timer_free(run->timer);
	free(run->buf);
	free(run);
}

/* Read what the pipe has (non-blocking); keep up to max, count the rest. 0 at EOF, 1 when more may come. */
static int drain(struct run *run)
{
	char scratch[4096];

	for (int i = 0; i < 1024; i++) {
		char *dst = run->len < run->max ? run->buf + run->len : scratch;
		size_t room = run->len < run->max ? run->max - run->len : sizeof(scratch);
		ssize_t n = read(run->out_fd, dst, room);
		if (n == 0)
			return 0;
		if (n < 0)
			return errno == EINTR ? 1 : errno == EAGAIN ? 1 : 0;
		if (dst == scratch)
			run->dropped += (uint64_t)n;
		else
			run->len += (size_t)n;
	}
	return 1;
}

static void on_output(struct loop *l _unused_, int fd _unused_, uint32_t revents _unused_, void *data)
{
	struct run *run = data;

	if (drain(run) == 0)
		close_fd(run, &run->out_fd);
}

/* Control bytes (but newline and tab) become '?', trailing white space goes. */
static void sanitize(struct run *run)
{
	for (size_t i = 0; i < run->len; i++) {
		unsigned char c = (unsigned char)run->buf[i];
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			run->buf[i] = '?';
	}
	while (run->len && strchr(" \t\n", run->buf[run->len - 1]))
		run->len--;
	run->buf[run->len] = '\0';
}

/* The error pipe: a struct runner_child_error when the child failed before execve. */
static bool read_exec_error(struct run *run, struct vipd_runner_result *res)
{
	struct runner_child_error e;

	if (run->err_fd < 0 || read(run->err_fd, &e, sizeof(e)) != (ssize_t)sizeof(e))
		return false;
	res->outcome = VIPD_RUNNER_EXEC_FAILED;
	res->error = -(e.error > 0 ? e.error : EIO);
	res->step = runner_step_to_string((enum runner_step)e.step);
	return true;
}

static void finish(struct run *run, const siginfo_t *si)
{
	struct vipd_runner_result res = {
		.id = run->id,
		.pid = run->pid,
		.duration_ms = loop_now_ms() - run->start_ms,
	};

	if (run->out_fd >= 0)
		(void)drain(run);
	sanitize(run);
	res.output = run->buf;
	res.output_len = run->len;
	res.output_dropped = run->dropped;
	if (read_exec_error(run, &res)) {
		/* outcome set */
	} else if (run->timed_out) {
		res.outcome = VIPD_RUNNER_TIMEOUT;
		res.signal = SIGKILL;
	} else if (si->si_code == CLD_EXITED) {
		res.outcome = VIPD_RUNNER_EXITED;
		res.exit_status = si->si_status;
	} else {
		res.outcome = VIPD_RUNNER_SIGNALED;
		res.signal = si->si_status;
	}
	vipd_runner_done_fn done = run->cancelled ? NULL : run->done;
	void *data = run->data;
	/* unlinked before done runs: a cancel of this id from done is -ENOENT */
	unlink_run(run);
	if (done)
		done(data, &res);
	run_free(run);
}

/*
 * The child ended (it is a zombie until waitid below): kill what is left of
 * its group first, while its pid cannot be reused, then reap it.
 */
static void on_exit_fd(struct loop *l _unused_, int fd _unused_, uint32_t revents _unused_, void *data)
{
	struct run *run = data;
	siginfo_t si = { 0 };

	(void)kill(-run->pid, SIGKILL);
	if (waitid(P_PID, (id_t)run->pid, &si, WEXITED | WNOHANG) < 0) {
		if (errno != ECHILD)
			return; /* EINTR: the pidfd stays readable, next iteration */
		/* reaped by someone else (SIGCHLD set to SIG_IGN): no status */
		si.si_code = CLD_KILLED;
		si.si_status = SIGKILL;
	} else if (si.si_pid == 0) {
		return; /* not yet: spurious wake-up */
	}
	finish(run, &si);
}

static void on_timeout(struct loop *l _unused_, struct loop_timer *t _unused_, void *data)
{
	struct run *run = data;
	siginfo_t si = { 0 };

	/* it ended just before its deadline (pidfd event not read yet): on_exit_fd says how */
	if (waitid(P_PID, (id_t)run->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid != 0)
		return;
	run->timed_out = true;
	kill_group(run);
}

/*
 * Kill and reap run's child now, without the loop: at most about 2 s (a
 * SIGKILLed process goes in microseconds unless it is stuck in the kernel;
 * then it is left as a zombie rather than blocking vipd).
 */
static void reap_now(struct run *run)
{
	kill_group(run);
	for (int i = 0; i < 2000; i++) {
		siginfo_t si = { 0 };
		if (waitid(P_PID, (id_t)run->pid, &si, WEXITED | WNOHANG) < 0) {
			if (errno == EINTR)
				continue;
			return; /* ECHILD: gone */
		}
		if (si.si_pid != 0)
			return;
		(void)poll(NULL, 0, 1);
	}
}

void vipd_runner_free(struct vipd_runner *r)
{
	if (!r)
		return;
	/* every group killed first, so they die in parallel */
	for (struct run *run = r->runs; run; run = run->next)
		kill_group(run);
	while (r->runs) {
		struct run *run = r->runs;
		reap_now(run);
		run_free(run);
	}
	free(r);
}

int vipd_runner_cancel(struct vipd_runner *r, uint64_t id)
{
	for (struct run *run = r ? r->runs : NULL; run; run = run->next) {
		if (run->id != id || run->cancelled)
			continue;
		run->cancelled = true;
		loop_timer_disarm(run->timer);
		kill_group(run);
		return 0;
	}
	return -ENOENT;
}

static bool env_entry_ok(const char *e)
{
	const char *eq = e ? strchr(e, '=') : NULL;

	return eq && eq != e;
}

/* base_env entries the caller did not set, after the caller's: a NULL-terminated array of borrowed strings. */
static int build_env(const char *const *env, char ***ret)
{
	size_t n = 0, k = 0;

	for (; env && env[n]; n++)
		if (!env_entry_ok(env[n]))
			return -EINVAL;
	char **envp = calloc(n + ARRAY_SIZE(base_env) + 1, sizeof(char *));
	if (!envp)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		envp[k++] = (char *)env[i];
	for (size_t b = 0; b < ARRAY_SIZE(base_env); b++) {
		size_t name_len = (size_t)(strchr(base_env[b], '=') - base_env[b]) + 1;
		bool set = false;
		for (size_t i = 0; i < n && !set; i++)
			set = strncmp(env[i], base_env[b], name_len) == 0;
		if (!set)
			envp[k++] = (char *)base_env[b];
	}
	*ret = envp;
	return 0;
}

static int check_cmd(const struct vipd_runner_cmd *cmd, vipd_runner_done_fn done)
{
	if (!cmd || !done || !cmd->argv || !cmd->argv[0] || cmd->argv[0][0] != '/')
		return -EINVAL;
	if (cmd->timeout_ms == 0 || cmd->output_max > VIPD_RUNNER_OUTPUT_MAX)
		return -EINVAL;
	return 0;
}

/* Fork the child and take its pidfd. On failure nothing is left running. */
static int spawn(struct run *run, const struct vipd_runner_cmd *cmd, char **envp)
{
	int out[2], err[2], r;

	if (pipe2(out, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(err, O_CLOEXEC) < 0) {
		r = -errno;
		close(out[0]), close(out[1]);
		return r;
	}
	run->out_fd = out[0], run->err_fd = err[0];
	run->start_ms = loop_now_ms();
	run->pid = fork();
	if (run->pid == 0) {
		struct runner_child_args a = {
			.argv = (char *const *)cmd->argv,
			.envp = envp,
			.out_fd = out[1],
			.err_fd = err[1],
		};
		runner_child_exec(&a);
	}
	r = run->pid < 0 ? -errno : 0;
	close(out[1]), close(err[1]);
	if (r < 0)
		return r;
	run->pidfd = (int)syscall(SYS_pidfd_open, run->pid, 0);
	if (run->pidfd < 0) {
		r = -errno;
		reap_now(run);
		return r;
	}
	if (fcntl(run->out_fd, F_SETFL, O_NONBLOCK) < 0 || fcntl(run->err_fd, F_SETFL, O_NONBLOCK) < 0) {
		r = -errno;
		reap_now(run);
		return r;
	}
	return 0;
}

static int watch(struct vipd_runner *r, struct run *run, uint32_t timeout_ms)
{
	int k = loop_timer_new(r->loop, on_timeout, run, &run->timer);

	if (k == 0)
		k = loop_timer_arm(run->timer, timeout_ms, 0);
	if (k == 0)
		k = loop_add_fd(r->loop, run->out_fd, EPOLLIN, on_output, run);
	if (k == 0)
		k = loop_add_fd(r->loop, run->pidfd, EPOLLIN, on_exit_fd, run);
	return k;
}

int vipd_runner_start(struct vipd_runner *r, const struct vipd_runner_cmd *cmd, vipd_runner_done_fn done,
		      void *data, uint64_t *ret_id)
{
	_cleanup_free_ char **envp = NULL;
	struct run *run;
	int k;

	if (!r || (k = check_cmd(cmd, done)) < 0)
		return -EINVAL;
	if (r->n_runs >= VIPD_RUNNER_MAX_CHILDREN)
		return -EAGAIN;
	if ((k = build_env(cmd->env, &envp)) < 0)
		return k;
	run = calloc(1, sizeof(*run));
	if (!run)
		return -ENOMEM;
	*run = (struct run){ .r = r,
			     .pidfd = -1,
			     .out_fd = -1,
			     .err_fd = -1,
			     .done = done,
			     .data = data,
			     .max = cmd->output_max ? cmd->output_max : VIPD_RUNNER_OUTPUT_DEFAULT };
	run->buf = malloc(run->max + 1);
	if (!run->buf) {
		run_free(run);
		return -ENOMEM;
	}
	k = spawn(run, cmd, envp);
	if (k == 0 && (k = watch(r, run, cmd->timeout_ms)) < 0)
		reap_now(run);
	if (k < 0) {
		run_free(run);
		return k;
	}
	run->id = r->next_id++;
	run->next = r->runs;
	r->runs = run;
	r->n_runs++;
	if (ret_id)
		*ret_id = run->id;
	return 0;
}

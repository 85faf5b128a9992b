/* SPDX-License-Identifier: MIT */
/*
 * vipd/monitor: the engine's life under a root parent (see monitor.h and
 * docs/privileges.md). The monitor's own group membership is in
 * monitor-cluster.c.
 *
 * Why the engine's exit is taken from waitpid() and not from the socket's end
 * of file alone: end of file comes when the kernel closes the engine's
 * descriptors, which is also what happens when the engine closes its end by
 * mistake while it still runs. So end of file without RELEASED-OK kills the
 * engine (it is our unreaped child: the pid cannot have been reused), and the
 * flush runs once waitpid() proves it is gone and can plumb nothing more.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "monitor-internal.h"
#include "privdrop.h"
#include "sdnotify.h"

#define DEFAULT_BACKOFF_FIRST_MS 100u
#define DEFAULT_BACKOFF_MAX_MS 30000u
#define DEFAULT_STABLE_MS 60000u
#define DEFAULT_STOP_TIMEOUT_MS 10000u
#define DEFAULT_RECONNECT_FIRST_MS 200u
#define DEFAULT_RECONNECT_MAX_MS 10000u

/* ---------------------------------------------------------------- notes */

static const char *const note_names[_VIPD_NOTE_MAX] = {
	[VIPD_NOTE_READY] = "READY",
	[VIPD_NOTE_RELEASED_OK] = "RELEASED-OK",
	[VIPD_NOTE_RELEASE_FAILED] = "RELEASE-FAILED",
};

const char *vipd_note_to_string(enum vipd_note n)
{
	return n > 0 && n < _VIPD_NOTE_MAX ? note_names[n] : NULL;
}

int vipd_note_encode(enum vipd_note n, uint8_t buf[VIPD_NOTE_LEN])
{
	if (!vipd_note_to_string(n))
		return -EINVAL;
	buf[0] = VIPD_NOTE_VERSION;
	buf[1] = (uint8_t)n;
	buf[2] = 0;
	buf[3] = VIPD_NOTE_LEN;
	return 0;
}

int vipd_note_decode(const void *data, size_t len, enum vipd_note *ret)
{
	const uint8_t *b = data;

	if (len != VIPD_NOTE_LEN || b[0] != VIPD_NOTE_VERSION || b[2] != 0 || b[3] != VIPD_NOTE_LEN ||
	    !vipd_note_to_string((enum vipd_note)b[1]))
		return -EBADMSG;
	*ret = (enum vipd_note)b[1];
	return 0;
}

int vipd_note_send(int fd, enum vipd_note n)
{
	uint8_t buf[VIPD_NOTE_LEN];
	ssize_t w;
	int r = vipd_note_encode(n, buf);

	if (r < 0)
		return r;
	do
		w = send(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return negerrno();
	return w == (ssize_t)sizeof(buf) ? 0 : -EIO;
}

/* ---------------------------------------------------------------- spawn */

int vipd_monitor_spawn_exec(void *data, int fd, pid_t *ret_pid)
{
	char *const *argv = data;
	size_t n = 0;
	char **av;
	pid_t pid;

	while (argv && argv[n])
		n++;
	if (n == 0)
		return -EINVAL;
	av = calloc(n + 3, sizeof(*av));
	if (!av)
		return -ENOMEM;
	memcpy(av, argv, n * sizeof(*av));
	av[n] = (char *)"--engine-fd";
	av[n + 1] = (char *)"3";
	pid = fork();
	if (pid < 0) {
		free(av);
		return negerrno();
	}
	if (pid == 0) {
		/* dup2 leaves the copy without FD_CLOEXEC; fd 3 itself has to be cleared. */
		if (fd != VIPD_ENGINE_FD ? dup2(fd, VIPD_ENGINE_FD) < 0 : fcntl(fd, F_SETFD, 0) < 0)
			_exit(127);
		if (vip_close_inherited(VIPD_ENGINE_FD + 1, -1) < 0)
			_exit(127);
		execv("/proc/self/exe", av);
		_exit(127);
	}
	free(av);
	*ret_pid = pid;
	return 0;
}

/* ---------------------------------------------------------------- the engine's life */

static const char *describe(int st, char *buf, size_t len)
{
	if (WIFEXITED(st))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(buf, len, "wait status 0x%x", (unsigned)st);
	return buf;
}

static void close_engine_fd(struct vipd_monitor *m)
{
	if (m->fd < 0)
		return;
	loop_remove_fd(m->loop, m->fd);
	close(m->fd);
	m->fd = -1;
}

/* Remove every vipd-tagged address; in a cluster say so. */
static void flush(struct vipd_monitor *m)
{
	int r = m->port_ops->flush_tagged(m->port, 0);

	m->st.flushes++;
	m->st.last_flush = r;
	m->flush_ok = r >= 0;
	if (r < 0) {
		log_error_errno(r, "monitor: removing the engine's addresses failed: %m");
		return;
	}
	log_warning("monitor: removed %d vipd address%s the engine left behind", r, r == 1 ? "" : "es");
	if (m->opts.group)
		monitor_cluster_flushed(m);
}

static void finish(struct vipd_monitor *m, int code)
{
	loop_timer_disarm(m->t_restart);
	loop_timer_disarm(m->t_kill);
	monitor_cluster_stop(m);
	log_notice("monitor: exiting with status %d", code);
	loop_exit(m->loop, code);
}

static void on_engine_fd(struct loop *l, int fd, uint32_t revents, void *data);
static int take_note(struct vipd_monitor *m);

static int start_engine(struct vipd_monitor *m)
{
	int sp[2], r;
	pid_t pid = 0;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return negerrno();
	r = m->opts.spawn(m->opts.spawn_data, sp[1], &pid);
	close(sp[1]);
	if (r < 0) {
		close(sp[0]);
		return r;
	}
	m->pid = m->last_pid = m->st.engine_pid = pid;
	m->fd = sp[0];
	m->started_ms = loop_now_ms();
	m->ready = m->released_ok = m->release_failed = m->flushed = false;
	m->st.starts++;
	r = loop_add_fd(m->loop, m->fd, EPOLLIN, on_engine_fd, m);
	if (r < 0) {
		/* Unwatched it could plumb and crash unseen: it goes, SIGCHLD brings the restart. */
		log_error_errno(r, "monitor: cannot watch engine %d: %m; killing it", (int)pid);
		close(m->fd);
		m->fd = -1;
		kill(pid, SIGKILL);
	}
	log_info("monitor: started engine %d", (int)pid);
	return 0;
}

static void schedule_restart(struct vipd_monitor *m, uint64_t up_ms)
{
	uint32_t delay;

	if (up_ms >= m->opts.timing.stable_ms)
		m->backoff_ms = m->opts.timing.backoff_first_ms;
	delay = m->backoff_ms;
	m->backoff_ms = delay > m->opts.timing.backoff_max_ms / 2 ? m->opts.timing.backoff_max_ms : delay * 2;
	m->st.restarts++;
	m->st.last_delay_ms = delay;
	m->st.next_delay_ms = m->backoff_ms;
	log_warning("monitor: restarting the engine in %u ms (restart %u)", delay, m->st.restarts);
	vipd_sd_notifyf("STATUS=monitor: engine restarting in %u ms (restart %u)", delay, m->st.restarts);
	loop_timer_arm(m->t_restart, delay, 0);
}

/* The engine is reaped: clean up after it, then restart it, or finish. */
static void engine_gone(struct vipd_monitor *m, int st)
{
	uint64_t up = loop_now_ms() - m->started_ms;
	char how[96];
	bool clean;

	/* SIGCHLD may come in the same batch as its last notes, and first. */
	for (int i = 0; i < 16 && m->fd >= 0 && take_note(m) > 0; i++)
		;
	clean = m->released_ok && !m->release_failed;
	close_engine_fd(m);
	m->pid = m->st.engine_pid = 0;
	loop_timer_disarm(m->t_kill);
	describe(st, how, sizeof(how));
	if (clean) {
		log_full(m->stopping ? LOG_INFO : LOG_WARNING,
			 "monitor: the engine stopped after releasing "
			 "every DuraVIP (%s)",
			 how);
		m->flush_ok = true;
	} else {
		log_error("monitor: the engine ended without releasing its DuraVIPs (%s, up %llu ms)", how,
			  (unsigned long long)up);
		if (!m->flushed)
			flush(m);
	}
	if (m->stopping) {
		finish(m, clean ? 0 : 1);
		return;
	}
	if (!m->st.ever_ready) {
		int code = WIFEXITED(st) && WEXITSTATUS(st) != 0 ? WEXITSTATUS(st) : 1;

		log_error("monitor: the engine failed to start (%s)", how);
		finish(m, code);
		return;
	}
	schedule_restart(m, up);
}

static void on_note(struct vipd_monitor *m, enum vipd_note note)
{
	log_debug("monitor: engine %d says %s", (int)m->pid, vipd_note_to_string(note));
	switch (note) {
	case VIPD_NOTE_READY:
		m->ready = true;
		if (m->st.ever_ready) {
			log_notice("monitor: engine %d is ready (restart %u)", (int)m->pid, m->st.restarts);
			break;
		}
		m->st.ever_ready = true;
		log_notice("monitor: engine %d is ready", (int)m->pid);
		vipd_sd_notify("READY=1");
		if (m->opts.ready)
			m->opts.ready(m->opts.ready_data);
		break;
	case VIPD_NOTE_RELEASED_OK:
		m->released_ok = true;
		break;
	case VIPD_NOTE_RELEASE_FAILED:
		m->release_failed = true;
		log_error(
			"monitor: the engine could not release every DuraVIP: they are removed when it exits");
		/* It exits on its own; bound the wait all the same. */
		loop_timer_arm(m->t_kill, m->opts.timing.stop_timeout_ms, 0);
		break;
	default:
		break;
	}
}

/*
 * Take one datagram from the engine. 1: a note was handled; 0: nothing
 * pending; -1: end of file or a malformed note (the engine is to go).
 */
static int take_note(struct vipd_monitor *m)
{
	uint8_t buf[16];
	enum vipd_note note;
	ssize_t n = recv(m->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n > 0 && vipd_note_decode(buf, (size_t)n, &note) == 0) {
		on_note(m, note);
		return 1;
	}
	if (n > 0) {
		log_error("monitor: engine %d sent a malformed %zd-byte note: killing it", (int)m->pid, n);
		m->release_failed = true; /* whatever it said before, it is not to be trusted */
	}
	return -1;
}

/*
 * Is the engine inside exit(2) (PF_EXITING in /proc/PID/stat)? Then it can
 * never run its own code again: its memory is gone and it is single-threaded.
 */
static bool is_exiting(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long flags = 0;
	const char *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* After "(comm)": state ppid pgrp session tty_nr tpgid flags. */
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return false;
	return flags & 0x4; /* PF_EXITING */
}

static void on_engine_fd(struct loop *l _unused_, int fd _unused_, uint32_t revents _unused_, void *data)
{
	struct vipd_monitor *m = data;

	if (take_note(m) >= 0)
		return;
	close_engine_fd(m);
	if (m->pid <= 0)
		return;
	if (m->released_ok && !m->release_failed) {
		/* Exiting after a clean release: let it, within the bound. */
		loop_timer_arm(m->t_kill, m->opts.timing.stop_timeout_ms, 0);
		return;
	}
	/*
	 * The engine's descriptors close before it can be reaped, and closing a
	 * packet socket waits for the network's RCU grace period (milliseconds):
	 * when it is already exiting, its addresses go now rather than at waitpid.
	 */
	if (is_exiting(m->pid)) {
		log_error("monitor: engine %d is dying without releasing its DuraVIPs", (int)m->pid);
		flush(m);
		m->flushed = true;
		return;
	}
	kill(m->pid, SIGKILL);
}

static void on_restart_timer(struct loop *l _unused_, struct loop_timer *t _unused_, void *data)
{
	struct vipd_monitor *m = data;
	int r;

	if (m->stopping || m->pid > 0)
		return;
	/*
	 * The crashed engine's addresses go to the survivors on this FLUSHED; an
	 * engine that joined first would end the ghost and take them back (the
	 * FLUSHED, sealed in an older view, is ignored): wait for it, 1 s at most.
	 */
	if (monitor_cluster_flush_unconfirmed(m, 1000)) {
		loop_timer_arm(m->t_restart, 20, 0);
		return;
	}
	r = start_engine(m);
	if (r < 0) {
		log_error_errno(r, "monitor: cannot start the engine: %m");
		schedule_restart(m, 0);
	}
}

static void on_kill_timer(struct loop *l _unused_, struct loop_timer *t _unused_, void *data)
{
	struct vipd_monitor *m = data;

	if (m->pid <= 0)
		return;
	log_error("monitor: engine %d did not exit within %u ms: killing it", (int)m->pid,
		  m->opts.timing.stop_timeout_ms);
	kill(m->pid, SIGKILL);
}

/* ---------------------------------------------------------------- signals */

/*
 * A signal to the engine that the kernel refuses (EPERM: a service manager
 * that took CAP_KILL away from the root monitor) would leave a reload or a
 * stop silently undone: say so.
 */
static void signal_engine(struct vipd_monitor *m, int sig)
{
	if (kill(m->pid, sig) < 0)
		(void)log_error_errno(
			-errno, "monitor: cannot send %s to engine %d: %m (does the monitor keep CAP_KILL?)",
			strsignal(sig), (int)m->pid);
}

void vipd_monitor_stop(struct vipd_monitor *m)
{
	if (m->stopping)
		return;
	m->stopping = true;
	vipd_sd_notify("STOPPING=1");
	loop_timer_disarm(m->t_restart);
	if (m->pid > 0) {
		log_notice("monitor: stopping: asking engine %d to release every DuraVIP", (int)m->pid);
		signal_engine(m, SIGTERM);
		loop_timer_arm(m->t_kill, m->opts.timing.stop_timeout_ms, 0);
		return;
	}
	log_notice("monitor: stopping; no engine runs");
	if (!m->flush_ok)
		flush(m);
	finish(m, m->flush_ok ? 0 : 1);
}

void vipd_monitor_hup(struct vipd_monitor *m)
{
	if (m->pid > 0 && !m->stopping) {
		log_notice("monitor: passing SIGHUP on to engine %d", (int)m->pid);
		signal_engine(m, SIGHUP);
	}
}

static void on_stop_signal(struct loop *l _unused_, const struct signalfd_siginfo *si, void *data)
{
	log_notice("monitor: received %s", strsignal((int)si->ssi_signo));
	vipd_monitor_stop(data);
}

static void on_hup(struct loop *l _unused_, const struct signalfd_siginfo *si _unused_, void *data)
{
	vipd_monitor_hup(data);
}

static void on_chld(struct loop *l _unused_, const struct signalfd_siginfo *si _unused_, void *data)
{
	struct vipd_monitor *m = data;
	int st = 0;

	while (m->pid > 0) {
		pid_t w = waitpid(m->pid, &st, WNOHANG);

		if (w < 0 && errno == EINTR)
			continue;
		if (w == m->pid || (w < 0 && errno == ECHILD))
			engine_gone(m, w == m->pid ? st : 1 << 8);
		break;
	}
}

/* ---------------------------------------------------------------- set-up */

static void timing_defaults(struct vipd_monitor_timing *t)
{
	t->backoff_first_ms = t->backoff_first_ms ?: DEFAULT_BACKOFF_FIRST_MS;
	t->backoff_max_ms = t->backoff_max_ms ?: DEFAULT_BACKOFF_MAX_MS;
	if (t->backoff_max_ms < t->backoff_first_ms)
		t->backoff_max_ms = t->backoff_first_ms;
	t->stable_ms = t->stable_ms ?: DEFAULT_STABLE_MS;
	t->stop_timeout_ms = t->stop_timeout_ms ?: DEFAULT_STOP_TIMEOUT_MS;
	t->reconnect_first_ms = t->reconnect_first_ms ?: DEFAULT_RECONNECT_FIRST_MS;
	t->reconnect_max_ms = t->reconnect_max_ms ?: DEFAULT_RECONNECT_MAX_MS;
}

static int setup_loop(struct vipd_monitor *m)
{
	int r = loop_new(&m->loop);

	if (r < 0)
		return log_error_errno(r, "monitor: cannot create the event loop: %m");
	signal(SIGPIPE, SIG_IGN);
	r = r ?: loop_add_signal(m->loop, SIGTERM, on_stop_signal, m);
	r = r ?: loop_add_signal(m->loop, SIGINT, on_stop_signal, m);
	r = r ?: loop_add_signal(m->loop, SIGHUP, on_hup, m);
	r = r ?: loop_add_signal(m->loop, SIGCHLD, on_chld, m);
	r = r ?: loop_timer_new(m->loop, on_restart_timer, m, &m->t_restart);
	r = r ?: loop_timer_new(m->loop, on_kill_timer, m, &m->t_kill);
	if (r < 0)
		return log_error_errno(r, "monitor: cannot set up signals and timers: %m");
	return 0;
}

int vipd_monitor_new(const struct vipd_monitor_opts *opts, struct vipd_monitor **ret)
{
	struct vipd_monitor *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return log_error_errno(-ENOMEM, "monitor: out of memory: %m");
	m->opts = *opts;
	m->fd = -1;
	m->flush_ok = true;
	if (!m->opts.spawn) {
		m->opts.spawn = vipd_monitor_spawn_exec;
		m->opts.spawn_data = (void *)opts->exec_argv;
	}
	timing_defaults(&m->opts.timing);
	m->backoff_ms = m->st.next_delay_ms = m->opts.timing.backoff_first_ms;
	r = setup_loop(m);
	if (r < 0)
		goto free_monitor;
	m->port_ops = opts->port_ops ? opts->port_ops : vip_port_native();
	r = m->port_ops->open(&(struct vip_port_opts){ .flags = VIP_PORT_OPEN_NO_PACKET |
								VIP_PORT_OPEN_NO_MONITOR },
			      &m->port);
	if (r < 0) {
		log_error_errno(r, "monitor: cannot open rtnetlink: %m");
		goto free_monitor;
	}
	if (m->opts.group) {
		r = monitor_cluster_start(m);
		if (r < 0)
			goto free_monitor;
	}
	r = start_engine(m);
	if (r < 0) {
		log_error_errno(r, "monitor: cannot start the engine: %m");
		goto free_monitor;
	}
	*ret = m;
	return 0;
free_monitor:
	vipd_monitor_free(m);
	return r;
}

int vipd_monitor_run(struct vipd_monitor *m)
{
	int r = loop_run(m->loop);

	if (r >= 0)
		return r;
	log_error_errno(r, "monitor: event loop failed: %m");
	if (m->pid > 0) {
		kill(m->pid, SIGKILL);
		waitpid(m->pid, NULL, 0);
		m->pid = m->st.engine_pid = 0;
	}
	flush(m);
	monitor_cluster_stop(m);
	return 1;
}

void vipd_monitor_free(struct vipd_monitor *m)
{
	if (!m)
		return;
	if (m->pid > 0) {
		/* SIGKILL cannot be refused: the wait is as long as the kernel's exit. */
		kill(m->pid, SIGKILL);
		waitpid(m->pid, NULL, 0);
	}
	close_engine_fd(m);
	monitor_cluster_stop(m);
	loop_timer_free(m->cl.t_reconnect);
	loop_timer_free(m->cl.t_send);
	loop_timer_free(m->t_restart);
	loop_timer_free(m->t_kill);
	if (m->port)
		m->port_ops->close(m->port);
	loop_free(m->loop);
	free(m);
}

void vipd_monitor_get_stats(const struct vipd_monitor *m, struct vipd_monitor_stats *ret)
{
	*ret = m->st;
}

struct loop *vipd_monitor_loop(struct vipd_monitor *m)
{
	return m->loop;
}

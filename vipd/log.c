/* SPDX-License-Identifier: MIT */
/*
 * Logging: one formatted line per message, to the console fd or syslog.
 * The state below is the project's one allowed mutable global (the log
 * level and where messages go).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX 2048

static struct {
	enum log_target target;
	int level;
	int console_fd;
	bool journal_prefix; /* stderr is the journal: prefix lines with <prio> */
	bool syslog_open;
} log_state = {
	.target = LOG_TARGET_CONSOLE,
	.level = LOG_INFO,
	.console_fd = STDERR_FILENO,
};

static const char *const level_names[] = {
	[LOG_ERR] = "error", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

/* systemd sets JOURNAL_STREAM=dev:ino of the stream it connected to stderr. */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_setup(enum log_target target, const char *ident)
{
	if (log_state.syslog_open && target != LOG_TARGET_SYSLOG) {
		closelog();
		log_state.syslog_open = false;
	}
	if (target == LOG_TARGET_SYSLOG && !log_state.syslog_open) {
		openlog(ident ? ident : "vipd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_state.syslog_open = true;
	}
	log_state.target = target;
	log_state.journal_prefix = target == LOG_TARGET_CONSOLE && stderr_is_journal();
}

enum log_target log_get_target(void)
{
	return log_state.target;
}

void log_set_level(int prio)
{
	if (prio < LOG_ERR)
		prio = LOG_ERR;
	if (prio > LOG_DEBUG)
		prio = LOG_DEBUG;
	log_state.level = prio;
}

int log_get_level(void)
{
	return log_state.level;
}

void log_set_console_fd(int fd)
{
	log_state.console_fd = fd;
}

int log_level_from_string(const char *s)
{
	if (!s)
		return -EINVAL;
	if (!strcasecmp(s, "err"))
		return LOG_ERR;
	for (int p = LOG_ERR; p <= LOG_DEBUG; p++)
		if (!strcasecmp(s, level_names[p]))
			return p;
	if (s[0] >= '3' && s[0] <= '7' && s[1] == '\0')
		return s[0] - '0';
	return -EINVAL;
}

const char *log_level_to_string(int prio)
{
	if (prio < LOG_ERR || prio > LOG_DEBUG)
		return NULL;
	return level_names[prio];
}

uint64_t log_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void emit(int prio, const char *msg, bool level_prefix)
{
	char prefix[32];
	struct iovec iov[3];
	int n;

	if (log_state.target == LOG_TARGET_SYSLOG) {
		syslog(prio, "%s", msg);
		return;
	}
	if (log_state.journal_prefix)
		n = snprintf(prefix, sizeof(prefix), "<%d>", prio);
	else if (level_prefix && (prio <= LOG_WARNING || prio == LOG_DEBUG))
		n = snprintf(prefix, sizeof(prefix), "%s: ", level_names[prio]);
	else
		n = 0;
	iov[0] = (struct iovec){ .iov_base = prefix, .iov_len = (size_t)(n > 0 ? n : 0) };
	iov[1] = (struct iovec){ .iov_base = (void *)msg, .iov_len = strlen(msg) };
	iov[2] = (struct iovec){ .iov_base = (void *)"\n", .iov_len = 1 };
	/* One writev per line so concurrent writers do not interleave mid-line. */
	(void)!writev(log_state.console_fd, iov, 3);
}

int log_internal(int prio, int error, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	int saved = errno;
	va_list ap;

	if (error < 0)
		error = -error;
	if (prio < LOG_ERR)
		prio = LOG_ERR;
	if (prio > LOG_DEBUG)
		prio = LOG_DEBUG;
	/* "%m" expands strerror(errno): make it the error we were given. */
	errno = error;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(prio, msg, true);
	errno = saved;
	return -error;
}

void log_line(int prio, const char *line)
{
	if (prio < LOG_ERR)
		prio = LOG_ERR;
	if (prio > LOG_DEBUG)
		prio = LOG_DEBUG;
	if (log_enabled(prio))
		emit(prio, line, false);
}

bool log_ratelimit_test(struct log_ratelimit *rl, int prio, uint64_t now_ms)
{
	if (rl->interval_ms == 0 || rl->burst == 0)
		return true;
	if (rl->begin_ms == 0 || now_ms < rl->begin_ms || now_ms - rl->begin_ms >= rl->interval_ms) {
		if (rl->suppressed)
			log_internal(prio, 0, "%u similar messages suppressed", rl->suppressed);
		rl->begin_ms = now_ms ? now_ms : 1;
		rl->n = 0;
		rl->suppressed = 0;
	}
	if (rl->n < rl->burst) {
		rl->n++;
		return true;
	}
	rl->suppressed++;
	return false;
}

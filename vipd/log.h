/* SPDX-License-Identifier: MIT */
/*
 * vipd/log: tiny printf-checked logging for the daemon and its tools (never
 * for conf/, netlink/ or cluster/, which return errors instead).
 *
 * Levels are syslog priorities: LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO,
 * LOG_DEBUG. Messages go to stderr (the console target: foreground runs and
 * systemd, which reads "<N>" priority prefixes when stderr is the journal) or
 * to syslog(3). The level and target are the one piece of mutable global state
 * the project allows (docs/style.md rule 5).
 *
 * Usage: return log_error_errno(r, "Failed to add %s: %m", addr);
 * "%m" prints strerror of the error passed to a *_errno call.
 */
#ifndef VIPD_LOG_H
#define VIPD_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

#include "util.h"

enum log_target {
	LOG_TARGET_CONSOLE, /* stderr (or the fd from log_set_console_fd) */
	LOG_TARGET_SYSLOG,  /* syslog(3), facility LOG_DAEMON */
	_LOG_TARGET_MAX,
};

/*
 * Choose the target. ident names the program in syslog and is kept by
 * pointer (pass a string literal or argv[0]). Opening syslog happens here.
 */
void log_setup(enum log_target target, const char *ident);
enum log_target log_get_target(void);
/* Messages less important than prio are dropped; default LOG_INFO. */
void log_set_level(int prio);
int log_get_level(void);
/* Parse "err|error|warning|notice|info|debug" (or 3..7). Priority or -EINVAL. */
int log_level_from_string(const char *s);
const char *log_level_to_string(int prio);
/* Where the console target writes (default 2). For tests. */
void log_set_console_fd(int fd);

static inline bool log_enabled(int prio)
{
	return prio <= log_get_level();
}

/*
 * Format and emit one message. error is an errno value (sign ignored, 0: none)
 * made visible to "%m". Returns -abs(error), so a caller can
 * `return log_..._errno(r, ...)`; returns 0 when error is 0.
 */
int log_internal(int prio, int error, const char *fmt, ...) _printf_(3, 4);

/*
 * Emit a line that names its own severity (a configuration diagnostic,
 * "file:line:col: error: message"): at prio, but without the console's
 * "error: " prefix, so the severity is not printed twice.
 */
void log_line(int prio, const char *line);

#define log_full_errno(prio, error, ...)                                                         \
	({                                                                                       \
		int _p_ = (prio), _e_ = (error);                                                 \
		log_enabled(_p_) ? log_internal(_p_, _e_, __VA_ARGS__) : (_e_ < 0 ? _e_ : -_e_); \
	})
#define log_full(prio, ...) ((void)log_full_errno((prio), 0, __VA_ARGS__))

#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)

#define log_error_errno(error, ...) log_full_errno(LOG_ERR, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, (error), __VA_ARGS__)
#define log_notice_errno(error, ...) log_full_errno(LOG_NOTICE, (error), __VA_ARGS__)
#define log_info_errno(error, ...) log_full_errno(LOG_INFO, (error), __VA_ARGS__)
#define log_debug_errno(error, ...) log_full_errno(LOG_DEBUG, (error), __VA_ARGS__)

/*
 * Rate limiting for repeats: at most burst messages per interval_ms; after
 * that the messages of the interval are counted, and the first message of a
 * later interval is preceded by one "N similar messages suppressed" line.
 * Zero-initialise (or use LOG_RATELIMIT_INIT). Embed one in a context struct
 * for per-object limits, or use the log_*_ratelimit macros for a
 * per-call-site one.
 */
struct log_ratelimit {
	uint64_t interval_ms;
	unsigned burst;
	uint64_t begin_ms;   /* start of the current interval */
	unsigned n;          /* messages emitted in this interval */
	unsigned suppressed; /* messages dropped in this interval */
};
#define LOG_RATELIMIT_INIT(interval, b)                 \
	{                                               \
		.interval_ms = (interval), .burst = (b) \
	}
/* Defaults for the call-site macros: 10 messages per 5 seconds. */
#define LOG_RATELIMIT_INTERVAL_MS 5000
#define LOG_RATELIMIT_BURST 10

/*
 * True when a message may be emitted now (now_ms: monotonic milliseconds).
 * Emits the "suppressed" line itself when a new interval begins after drops.
 */
bool log_ratelimit_test(struct log_ratelimit *rl, int prio, uint64_t now_ms);

/* Same as log_full_errno, limited by rl. Returns -abs(error) either way. */
#define log_ratelimit_full_errno(rl, prio, error, ...)                            \
	({                                                                        \
		int _p_ = (prio), _e_ = (error);                                  \
		(log_enabled(_p_) && log_ratelimit_test((rl), _p_, log_now_ms())) \
			? log_internal(_p_, _e_, __VA_ARGS__)                     \
			: (_e_ < 0 ? _e_ : -_e_);                                 \
	})

/* Per-call-site limiter (a function-local static: the limiter is the site's). */
#define log_full_errno_ratelimit(prio, error, ...)                                               \
	({                                                                                       \
		static struct log_ratelimit _rl_ = LOG_RATELIMIT_INIT(LOG_RATELIMIT_INTERVAL_MS, \
								      LOG_RATELIMIT_BURST);      \
		log_ratelimit_full_errno(&_rl_, (prio), (error), __VA_ARGS__);                   \
	})

#define log_error_ratelimit(...) ((void)log_full_errno_ratelimit(LOG_ERR, 0, __VA_ARGS__))
#define log_warning_ratelimit(...) ((void)log_full_errno_ratelimit(LOG_WARNING, 0, __VA_ARGS__))
#define log_notice_ratelimit(...) ((void)log_full_errno_ratelimit(LOG_NOTICE, 0, __VA_ARGS__))
#define log_info_ratelimit(...) ((void)log_full_errno_ratelimit(LOG_INFO, 0, __VA_ARGS__))
#define log_error_errno_ratelimit(error, ...) log_full_errno_ratelimit(LOG_ERR, (error), __VA_ARGS__)
#define log_warning_errno_ratelimit(error, ...) log_full_errno_ratelimit(LOG_WARNING, (error), __VA_ARGS__)

/* Monotonic milliseconds (same clock as loop_now_ms). */
uint64_t log_now_ms(void);

#endif

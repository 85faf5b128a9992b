/* SPDX-License-Identifier: MIT */
/*
 * vipd/loop: the one event loop (epoll + timerfd + signalfd), owned by main and
 * opaque to every module. Single-threaded; no function here may be called from
 * a signal handler (there are none: signals arrive through a signalfd).
 *
 * Lifetime rules, so callbacks can tear things down freely:
 *   - a callback may add, modify or remove any fd, timer or signal, including
 *     the one it is running for; a removed fd source never fires again, even
 *     if it was already reported ready in the same epoll batch;
 *   - loop_free() must not be called from a callback.
 */
#ifndef VIPD_LOOP_H
#define VIPD_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

struct loop;
struct loop_timer;

/* Called with the epoll events that fired (EPOLLIN, EPOLLOUT, EPOLLHUP, ...). */
typedef void (*loop_fd_cb)(struct loop *l, int fd, uint32_t revents, void *data);
/* Called once per expiry; a periodic timer that fell behind fires once, not in a burst. */
typedef void (*loop_timer_cb)(struct loop *l, struct loop_timer *t, void *data);
/* Called once per signal read from the signalfd (the kernel coalesces repeats:
 * a SIGCHLD handler must reap with waitpid(WNOHANG) in a loop). */
typedef void (*loop_signal_cb)(struct loop *l, const struct signalfd_siginfo *si, void *data);

/* Monotonic time in milliseconds (CLOCK_MONOTONIC). */
uint64_t loop_now_ms(void);
/* The same clock in microseconds (measurements). */
uint64_t loop_now_us(void);

/* A new loop. Returns 0 and *ret, or -errno (*ret untouched). */
int loop_new(struct loop **ret);
/*
 * Accepts NULL. Frees every fd source, timer and signal registration (fds
 * themselves are not closed: their owners close them), and restores the signal
 * mask that was in force before the first loop_add_signal().
 */
void loop_free(struct loop *l);

/*
 * Watch fd for events (EPOLLIN, EPOLLOUT, ...; level-triggered unless the
 * caller passes EPOLLET). The fd stays owned by the caller; remove it before
 * closing it. Returns 0, -EEXIST when fd is already watched, or -errno.
 */
int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_cb cb, void *data);
/* Change the event mask. 0, -ENOENT when fd is not watched, or -errno. */
int loop_mod_fd(struct loop *l, int fd, uint32_t events);
/* Stop watching fd. 0 or -ENOENT. */
int loop_remove_fd(struct loop *l, int fd);

/*
 * A timer, disarmed. Timers are multiplexed on one timerfd (a binary heap), so
 * hundreds are cheap; the engine batches per-address work rather than arming
 * thousands. Returns 0 and *ret, or -errno.
 */
int loop_timer_new(struct loop *l, loop_timer_cb cb, void *data, struct loop_timer **ret);
/*
 * (Re)arm: first expiry after after_ms milliseconds from now, then every
 * period_ms (0: one-shot). Re-arming an armed timer replaces its schedule.
 * Returns 0 or -errno.
 */
int loop_timer_arm(struct loop_timer *t, uint64_t after_ms, uint64_t period_ms);
/* Same with an absolute loop_now_ms() deadline (in the past: fires at once). */
int loop_timer_arm_at(struct loop_timer *t, uint64_t at_ms, uint64_t period_ms);
/* Stop it; a disarmed timer stays valid for re-arming. Accepts NULL. */
void loop_timer_disarm(struct loop_timer *t);
bool loop_timer_is_armed(const struct loop_timer *t);
/* The next expiry (loop_now_ms() clock), or 0 when disarmed. */
uint64_t loop_timer_deadline(const struct loop_timer *t);
/* Disarm and free. Accepts NULL; may be called from its own callback. */
void loop_timer_free(struct loop_timer *t);

/*
 * Deliver sig (SIGTERM, SIGINT, SIGHUP, SIGCHLD, ...) through the loop: the
 * signal is blocked in the process mask and read from a signalfd, so no
 * handler ever runs asynchronously. One callback per signal; adding it again
 * replaces the callback. A child forked later inherits the blocked mask: it
 * must unblock what it needs (see loop_signal_mask_saved()).
 * Returns 0, -EINVAL for SIGKILL/SIGSTOP or a bad number, or -errno.
 */
int loop_add_signal(struct loop *l, int sig, loop_signal_cb cb, void *data);
/* Stop delivering sig (it stays blocked until loop_free). 0 or -ENOENT. */
int loop_remove_signal(struct loop *l, int sig);
/* The process signal mask as it was before the loop blocked anything. */
const sigset_t *loop_signal_mask_saved(const struct loop *l);

/*
 * Dispatch until loop_exit() is called. Returns the exit code given to
 * loop_exit(), or -errno when epoll fails.
 */
int loop_run(struct loop *l);
/*
 * One iteration: wait at most timeout_ms (-1: forever, 0: poll) and dispatch
 * what is ready. Returns the number of callbacks run, or -errno. For tests and
 * for callers that interleave their own work.
 */
int loop_iterate(struct loop *l, int timeout_ms);
/* Make loop_run() return code after the current iteration. */
void loop_exit(struct loop *l, int code);
bool loop_is_exiting(const struct loop *l);

#endif

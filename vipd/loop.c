/* SPDX-License-Identifier: MIT */
/*
 * The event loop: one epoll set holding the caller's fds, one timerfd armed
 * for the earliest of a binary heap of timers, and one signalfd for every
 * signal a module asked for.
 *
 * Fd sources are looked up by fd in a small hash-free array (a daemon watches
 * tens of fds). A removed source is only marked dead and freed after the
 * current dispatch batch, because epoll may already have reported it.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "util.h"

#define LOOP_MAX_EVENTS 64

enum source_kind {
	SOURCE_FD,
	SOURCE_TIMERFD,
	SOURCE_SIGNALFD,
};

struct source {
	enum source_kind kind;
	int fd;
	bool dead;
	loop_fd_cb cb;
	void *data;
};

struct loop_timer {
	struct loop *loop;
	loop_timer_cb cb;
	void *data;
	uint64_t due_ms; /* 0 when disarmed */
	uint64_t period_ms;
	uint64_t seq; /* arming sequence: bounds one dispatch round */
	size_t idx;   /* position in the heap, valid when armed */
};

struct signal_reg {
	loop_signal_cb cb;
	void *data;
	bool active;
};

struct loop {
	int epfd;
	int tfd;
	int sfd;
	struct source **sources; /* live and dead ones */
	size_t n_sources, cap_sources;
	bool dispatching;

	struct loop_timer **heap;
	size_t n_heap, cap_heap;
	uint64_t timer_seq;
	uint64_t tfd_armed_ms; /* deadline the timerfd is set to, 0: disarmed */

	sigset_t sigmask;    /* signals delivered through sfd */
	sigset_t saved_mask; /* process mask before we blocked anything */
	bool mask_saved;
	struct signal_reg sigs[_NSIG];

	struct source tsrc, ssrc; /* the loop's own epoll registrations */
	bool exiting;
	int exit_code;
};

uint64_t loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t loop_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int loop_new(struct loop **ret)
{
	struct loop *l = calloc(1, sizeof(*l));
	struct epoll_event ev = { .events = EPOLLIN };

	if (!l)
		return -ENOMEM;
	l->tfd = l->sfd = -1;
	sigemptyset(&l->sigmask);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		goto free_loop;
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->tfd < 0)
		goto free_loop;
	l->tsrc = (struct source){ .kind = SOURCE_TIMERFD, .fd = l->tfd };
	ev.data.ptr = &l->tsrc;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->tfd, &ev) < 0)
		goto free_loop;
	*ret = l;
	return 0;
free_loop:;
	int r = negerrno();
	loop_free(l);
	return r;
}

static void free_dead_sources(struct loop *l)
{
	size_t j = 0;

	for (size_t i = 0; i < l->n_sources; i++) {
		if (l->sources[i]->dead)
			free(l->sources[i]);
		else
			l->sources[j++] = l->sources[i];
	}
	l->n_sources = j;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n_heap; i++)
		l->heap[i]->due_ms = 0; /* owners free their timers; they are just disarmed */
	for (size_t i = 0; i < l->n_sources; i++)
		free(l->sources[i]);
	free(l->sources);
	free(l->heap);
	if (l->sfd >= 0)
		close(l->sfd);
	if (l->tfd >= 0)
		close(l->tfd);
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->mask_saved)
		sigprocmask(SIG_SETMASK, &l->saved_mask, NULL);
	free(l);
}

/* ---------------------------------------------------------------- fds */

static struct source *find_source(const struct loop *l, int fd)
{
	for (size_t i = 0; i < l->n_sources; i++)
		if (!l->sources[i]->dead && l->sources[i]->fd == fd)
			return l->sources[i];
	return NULL;
}

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_cb cb, void *data)
{
	struct epoll_event ev = { .events = events };
	struct source *s;

	if (fd < 0 || !cb)
		return -EINVAL;
	if (find_source(l, fd))
		return -EEXIST;
	if (l->n_sources == l->cap_sources) {
		size_t cap = l->cap_sources ? l->cap_sources * 2 : 16;
		struct source **n = realloc(l->sources, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		l->sources = n;
		l->cap_sources = cap;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct source){ .kind = SOURCE_FD, .fd = fd, .cb = cb, .data = data };
	ev.data.ptr = s;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int r = negerrno();
		free(s);
		return r;
	}
	l->sources[l->n_sources++] = s;
	return 0;
}

int loop_mod_fd(struct loop *l, int fd, uint32_t events)
{
	struct source *s = find_source(l, fd);
	struct epoll_event ev = { .events = events };

	if (!s)
		return -ENOENT;
	ev.data.ptr = s;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return negerrno();
	return 0;
}

int loop_remove_fd(struct loop *l, int fd)
{
	struct source *s = find_source(l, fd);

	if (!s)
		return -ENOENT;
	/* The fd may already be closed by a careless owner: ignore EBADF. */
	(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	s->dead = true;
	if (!l->dispatching)
		free_dead_sources(l);
	return 0;
}

/* ---------------------------------------------------------------- timers */

static bool timer_before(const struct loop_timer *a, const struct loop_timer *b)
{
	return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->seq < b->seq);
}

static void heap_swap(struct loop *l, size_t i, size_t j)
{
	struct loop_timer *t = l->heap[i];

	l->heap[i] = l->heap[j];
	l->heap[j] = t;
	l->heap[i]->idx = i;
	l->heap[j]->idx = j;
}

static void heap_up(struct loop *l, size_t i)
{
	while (i > 0 && timer_before(l->heap[i], l->heap[(i - 1) / 2])) {
		heap_swap(l, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct loop *l, size_t i)
{
	for (;;) {
		size_t m = i, a = 2 * i + 1, b = 2 * i + 2;

		if (a < l->n_heap && timer_before(l->heap[a], l->heap[m]))
			m = a;
		if (b < l->n_heap && timer_before(l->heap[b], l->heap[m]))
			m = b;
		if (m == i)
			return;
		heap_swap(l, i, m);
		i = m;
	}
}

static void heap_remove(struct loop *l, struct loop_timer *t)
{
	size_t i = t->idx;

	l->n_heap--;
	if (i != l->n_heap) {
		l->heap[i] = l->heap[l->n_heap];
		l->heap[i]->idx = i;
		heap_down(l, i);
		heap_up(l, i);
	}
	t->due_ms = 0;
}

/* Point the timerfd at the earliest deadline (or disarm it). */
static int timerfd_sync(struct loop *l)
{
	struct itimerspec its = { 0 };
	uint64_t due = l->n_heap ? l->heap[0]->due_ms : 0;

	if (due == l->tfd_armed_ms)
		return 0;
	if (due) {
		its.it_value.tv_sec = (time_t)(due / 1000u);
		its.it_value.tv_nsec = (long)(due % 1000u) * 1000000L;
	}
	if (timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return negerrno();
	l->tfd_armed_ms = due;
	return 0;
}

int loop_timer_new(struct loop *l, loop_timer_cb cb, void *data, struct loop_timer **ret)
{
	struct loop_timer *t;

	if (!cb)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	*t = (struct loop_timer){ .loop = l, .cb = cb, .data = data };
	*ret = t;
	return 0;
}

int loop_timer_arm_at(struct loop_timer *t, uint64_t at_ms, uint64_t period_ms)
{
	struct loop *l = t->loop;

	if (at_ms == 0)
		at_ms = 1; /* 0 means disarmed; the monotonic clock is past 1 ms anyway */
	if (t->due_ms) {
		heap_remove(l, t);
	} else if (l->n_heap == l->cap_heap) {
		size_t cap = l->cap_heap ? l->cap_heap * 2 : 16;
		struct loop_timer **n = realloc(l->heap, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		l->heap = n;
		l->cap_heap = cap;
	}
	t->due_ms = at_ms;
	t->period_ms = period_ms;
	t->seq = ++l->timer_seq;
	t->idx = l->n_heap;
	l->heap[l->n_heap++] = t;
	heap_up(l, t->idx);
	return timerfd_sync(l);
}

int loop_timer_arm(struct loop_timer *t, uint64_t after_ms, uint64_t period_ms)
{
	return loop_timer_arm_at(t, loop_now_ms() + after_ms, period_ms);
}

void loop_timer_disarm(struct loop_timer *t)
{
	if (!t || !t->due_ms)
		return;
	heap_remove(t->loop, t);
	(void)timerfd_sync(t->loop);
}

bool loop_timer_is_armed(const struct loop_timer *t)
{
	return t && t->due_ms != 0;
}

uint64_t loop_timer_deadline(const struct loop_timer *t)
{
	return t ? t->due_ms : 0;
}

void loop_timer_free(struct loop_timer *t)
{
	if (!t)
		return;
	loop_timer_disarm(t);
	free(t);
}

/*
 * Run every timer due now that was armed before this round began: a
 * callback re-arming its own timer with 0 ms waits for the next round
 * instead of spinning here.
 */
static int dispatch_timers(struct loop *l)
{
	uint64_t now = loop_now_ms(), round = l->timer_seq;
	uint64_t expirations;
	int n = 0;

	(void)!read(l->tfd, &expirations, sizeof(expirations));
	l->tfd_armed_ms = 0; /* it fired, or we are about to re-sync anyway */
	while (l->n_heap && l->heap[0]->due_ms <= now && l->heap[0]->seq <= round) {
		struct loop_timer *t = l->heap[0];

		heap_remove(l, t);
		if (t->period_ms) {
			uint64_t next = t->due_ms + t->period_ms;
			/* Fell behind (suspend, long callback): fire once, then keep the period. */
			(void)loop_timer_arm_at(t, next > now ? next : now + t->period_ms, t->period_ms);
		}
		t->cb(l, t, t->data);
		n++;
	}
	int r = timerfd_sync(l);
	return r < 0 ? r : n;
}

/* ---------------------------------------------------------------- signals */

static int signalfd_sync(struct loop *l)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &l->ssrc };
	int fd = signalfd(l->sfd, &l->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);

	if (fd < 0)
		return negerrno();
	if (l->sfd < 0) {
		l->ssrc = (struct source){ .kind = SOURCE_SIGNALFD, .fd = fd };
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			int r = negerrno();
			close(fd);
			return r;
		}
		l->sfd = fd;
	}
	return 0;
}

int loop_add_signal(struct loop *l, int sig, loop_signal_cb cb, void *data)
{
	sigset_t one;
	int r;

	if (sig <= 0 || sig >= _NSIG || sig == SIGKILL || sig == SIGSTOP || !cb)
		return -EINVAL;
	sigemptyset(&one);
	if (sigaddset(&one, sig) < 0)
		return -EINVAL;
	if (!l->mask_saved) {
		if (sigprocmask(SIG_BLOCK, NULL, &l->saved_mask) < 0)
			return negerrno();
		l->mask_saved = true;
	}
	/* Block first: a signal arriving between the two calls stays pending. */
	if (sigprocmask(SIG_BLOCK, &one, NULL) < 0)
		return negerrno();
	sigaddset(&l->sigmask, sig);
	r = signalfd_sync(l);
	if (r < 0)
		return r;
	l->sigs[sig] = (struct signal_reg){ .cb = cb, .data = data, .active = true };
	return 0;
}

int loop_remove_signal(struct loop *l, int sig)
{
	if (sig <= 0 || sig >= _NSIG || !l->sigs[sig].active)
		return -ENOENT;
	l->sigs[sig].active = false;
	sigdelset(&l->sigmask, sig);
	return signalfd_sync(l);
}

const sigset_t *loop_signal_mask_saved(const struct loop *l)
{
	return l->mask_saved ? &l->saved_mask : NULL;
}

static int dispatch_signals(struct loop *l)
{
	struct signalfd_siginfo si;
	int n = 0;

	/* Bounded: at most one read per possible signal number per round. */
	for (int i = 0; i < _NSIG; i++) {
		ssize_t k = read(l->sfd, &si, sizeof(si));

		if (k != (ssize_t)sizeof(si))
			break;
		if (si.ssi_signo < _NSIG && l->sigs[si.ssi_signo].active) {
			l->sigs[si.ssi_signo].cb(l, &si, l->sigs[si.ssi_signo].data);
			n++;
		}
	}
	return n;
}

/* ---------------------------------------------------------------- running */

int loop_iterate(struct loop *l, int timeout_ms)
{
	struct epoll_event evs[LOOP_MAX_EVENTS];
	int k, n = 0;

	k = epoll_wait(l->epfd, evs, LOOP_MAX_EVENTS, timeout_ms);
	if (k < 0)
		return errno == EINTR ? 0 : negerrno();
	l->dispatching = true;
	for (int i = 0; i < k; i++) {
		struct source *s = evs[i].data.ptr;
		int r;

		switch (s->kind) {
		case SOURCE_TIMERFD:
			r = dispatch_timers(l);
			n += r > 0 ? r : 0;
			break;
		case SOURCE_SIGNALFD:
			n += dispatch_signals(l);
			break;
		case SOURCE_FD:
			if (s->dead)
				break;
			s->cb(l, s->fd, evs[i].events, s->data);
			n++;
			break;
		}
	}
	l->dispatching = false;
	free_dead_sources(l);
	return n;
}

int loop_run(struct loop *l)
{
	while (!l->exiting) {
		int r = loop_iterate(l, -1);
		if (r < 0)
			return r;
	}
	l->exiting = false;
	return l->exit_code;
}

void loop_exit(struct loop *l, int code)
{
	l->exiting = true;
	l->exit_code = code;
}

bool loop_is_exiting(const struct loop *l)
{
	return l->exiting;
}

/* SPDX-License-Identifier: MIT */
/*
 * lab-net addrs NETNS...     print the VIPs (non-base global addresses) each holds
 * lab-net watch PREFIX N     watch every node's addresses until SIGTERM/SIGINT or
 *                            --max-seconds; report any VIP held by two live nodes
 *
 * watch options: --exclude-file F (node names, e.g. "n2 n3", that are dead or cut
 * off right now: the test rewrites it as it kills and heals), --ready F (created
 * once the first dump is done), --max-seconds S (default 900).
 * Exit status: 0 no violation, 1 violation(s), 2 usage or setup error.
 */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>

#include "lab-watch.h"

static void print_one(void *data, const struct lab_addr *a, uint32_t mask)
{
	const char *const *names = data;
	char buf[INET6_ADDRSTRLEN];

	for (int i = 0; i < LAB_MAX_NODES; i++)
		if (mask & (1u << i))
			printf("%s %s\n", names[i], lab_addr_str(a, buf, sizeof(buf)));
}

int lab_cmd_addrs(int argc, char **argv)
{
	struct lab_tracker *t = NULL;

	if (argc < 2 || argc - 1 > LAB_MAX_NODES) {
		fprintf(stderr, "usage: lab-net addrs NETNS...\n");
		return 2;
	}
	if (lab_tracker_new(argv + 1, argc - 1, NULL, NULL, &t) < 0)
		return 2;
	lab_tracker_foreach(t, print_one, argv + 1);
	lab_tracker_free(t);
	return 0;
}

struct watch {
	char names[LAB_MAX_NODES][16];
	int n;
	uint32_t live; /* nodes not excluded */
	const char *exclude_file;
	struct timespec exclude_mtime;
	off_t exclude_size;
	unsigned violations, reported;
	double start;
	struct lab_addr *dirty; /* changed since the last judgement */
	size_t ndirty;
	bool overflow;
};

#define DIRTY_MAX 200000

/* Changes are only noted while events are applied: a state is judged once all
 * queued events of all namespaces are in (see lab_tracker_drain). */
static void note(void *data, const struct lab_addr *a, _unused_ uint32_t mask)
{
	struct watch *w = data;

	if (w->ndirty < DIRTY_MAX)
		w->dirty[w->ndirty++] = *a;
	else
		w->overflow = true;
}

static void judge(void *data, const struct lab_addr *a, uint32_t mask)
{
	struct watch *w = data;
	uint32_t both = mask & w->live;
	char buf[INET6_ADDRSTRLEN];

	if (__builtin_popcount(both) < 2)
		return;
	w->violations++;
	if (w->reported++ >= 20)
		return;
	printf("VIOLATION t=%.3f %s on", lab_now() - w->start, lab_addr_str(a, buf, sizeof(buf)));
	for (int i = 0; i < w->n; i++)
		if (both & (1u << i))
			printf(" %s", w->names[i]);
	printf("\n");
	fflush(stdout);
}

/* Re-read the exclusion file if it changed; returns true if `live` changed. */
static bool read_exclusions(struct watch *w)
{
	struct stat st;
	uint32_t live = (1u << w->n) - 1;
	char word[32];

	if (!w->exclude_file)
		return false;
	if (stat(w->exclude_file, &st) < 0) {
		st.st_mtim = (struct timespec){ 0 };
		st.st_size = -1;
	}
	if (st.st_mtim.tv_sec == w->exclude_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == w->exclude_mtime.tv_nsec && st.st_size == w->exclude_size)
		return false;
	w->exclude_mtime = st.st_mtim;
	w->exclude_size = st.st_size;
	_cleanup_fclose_ FILE *f = fopen(w->exclude_file, "re");
	while (f && fscanf(f, "%31s", word) == 1)
		for (int i = 0; i < w->n; i++)
			if (strcmp(word, w->names[i]) == 0)
				live &= ~(1u << i);
	bool changed = live != w->live;
	w->live = live;
	return changed;
}

static int watch_loop(struct watch *w, struct lab_tracker *t, int sigfd, double max_s)
{
	struct pollfd fds[LAB_MAX_NODES + 1];
	int n = lab_tracker_fds(t, fds);

	fds[n] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
	while (lab_now() - w->start < max_s) {
		if (poll(fds, (nfds_t)n + 1, 5) < 0 && errno != EINTR)
			return -EIO;
		if (fds[n].revents & POLLIN)
			break;
		/* A node coming back to life is judged with the addresses it holds;
		 * while a node is excluded, its addresses are not judged. */
		if (lab_tracker_drain(t) < 0)
			return -EIO;
		if (read_exclusions(w) || w->overflow) {
			lab_tracker_foreach(t, judge, w);
		} else {
			for (size_t i = 0; i < w->ndirty; i++)
				judge(w, &w->dirty[i], lab_tracker_mask(t, &w->dirty[i]));
		}
		w->ndirty = 0;
		w->overflow = false;
	}
	return 0;
}

int lab_cmd_watch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "exclude-file", required_argument, NULL, 'x' },
		{ "ready", required_argument, NULL, 'r' },
		{ "max-seconds", required_argument, NULL, 'm' },
		{ 0 }
	};
	struct watch w = { .exclude_size = -2 };
	const char *ready = NULL;
	char *netns[LAB_MAX_NODES];
	char nsbuf[LAB_MAX_NODES][64];
	double max_s = 900;
	struct lab_tracker *t = NULL;
	sigset_t mask;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'x')
			w.exclude_file = optarg;
		else if (c == 'r')
			ready = optarg;
		else if (c == 'm')
			max_s = atof(optarg);
		else
			return 2;
	}
	if (argc - optind != 2 || (w.n = atoi(argv[optind + 1])) < 1 || w.n > LAB_MAX_NODES) {
		fprintf(stderr, "usage: lab-net watch [--exclude-file F] [--ready F] "
				"[--max-seconds S] PREFIX N\n");
		return 2;
	}
	for (int i = 0; i < w.n; i++) {
		snprintf(w.names[i], sizeof(w.names[i]), "n%d", i + 1);
		snprintf(nsbuf[i], sizeof(nsbuf[i]), "%s-n%d", argv[optind], i + 1);
		netns[i] = nsbuf[i];
	}
	w.live = (1u << w.n) - 1;
	read_exclusions(&w);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	_cleanup_close_ int sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	w.start = lab_now();
	_cleanup_free_ struct lab_addr *dirty = calloc(DIRTY_MAX, sizeof(*dirty));
	w.dirty = dirty;
	if (!dirty || sigfd < 0 || lab_tracker_new(netns, w.n, note, &w, &t) < 0)
		return 2;
	w.overflow = true; /* judge the first dump whole */
	if (ready) {
		_cleanup_fclose_ FILE *f = fopen(ready, "we");
	}
	int r = watch_loop(&w, t, sigfd, max_s);
	unsigned events, resyncs;
	lab_tracker_stats(t, &events, &resyncs);
	printf("watch: seconds=%.1f events=%u resyncs=%u violations=%u\n",
	       lab_now() - w.start, events, resyncs, w.violations);
	lab_tracker_free(t);
	if (r < 0)
		return 2;
	return w.violations ? 1 : 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * lab-net watch PREFIX N: watch every node's addresses, from rtnetlink events,
 * until SIGTERM/SIGINT or --max-seconds, and report every interval in which a
 * VIP is plumbed on two or more live nodes at once.
 *
 * A node is live unless it is excluded: named in --exclude-file (re-read when
 * it changes), or, with --links, while its switch port is down (lab-link.c).
 * The exclusion ends with the very event that brings the port up: a node that
 * kept an address while cut off and still holds it then makes a duplicate from
 * that moment.
 *
 * Options:
 *   --exclude-file F  node names ("n2 n3") excluded right now
 *   --links           exclude a node while its switch port is down
 *   --min-ms M        count only intervals longer than M ms (default: every
 *                     judged state with two live holders counts)
 *   --events F        append every change: "TIME nI add|del ADDR",
 *                     "TIME nI link up|down"
 *   --state F         after each change, replace F (rename) with the holders:
 *                     "time T" (last change), "down nI", "addr ADDR nI nJ..."
 *   --ready F         created once the first dump is done
 *   --max-seconds S   default 900
 * Output, one line per violation when its interval ends (or at exit, "open"):
 *   VIOLATION t=REL ADDR on nI nJ start=ABS ms=DURATION [open]
 * then "watch: seconds=S events=E resyncs=R longest_ms=L violations=V".
 * Times are CLOCK_REALTIME seconds (as `date +%s.%N`) taken when the events
 * are read: rtnetlink carries no timestamp, so run the watcher at real-time
 * priority (chrt) to keep that delay small on a busy machine. Events of all
 * namespaces are read before a state is judged (lab_tracker_drain).
 * Exit status: 0 no violation, 1 violation(s), 2 usage or setup error.
 */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>

#include "lab-link.h"
#include "lab-watch.h"

#define DIRTY_MAX 200000
#define OPEN_MAX 65536
#define REPORT_MAX 2000

/* An address on two or more live nodes since start; nodes: every live holder. */
struct dup {
	struct lab_addr addr;
	double start;
	uint32_t nodes;
};

struct watch {
	char names[LAB_MAX_NODES][16];
	int n;
	uint32_t live;     /* neither excluded nor cut */
	uint32_t excluded; /* by the exclusion file */
	const char *exclude_file;
	struct timespec exclude_mtime;
	off_t exclude_size;
	struct lab_links *links; /* NULL without --links */
	bool links_changed;
	double min_ms, start, now, longest_ms, last_change;
	unsigned violations, reported;
	struct lab_addr *dirty; /* changed since the last judgement */
	size_t ndirty;
	bool overflow;
	struct dup *open;
	size_t nopen;
	FILE *events;
	const char *state_file;
};

/* Changes are only noted while events are applied: a state is judged once all
 * queued events of all namespaces are in (see lab_tracker_drain). */
static void note(void *data, const struct lab_addr *a, uint32_t before, uint32_t mask)
{
	struct watch *w = data;
	char buf[INET6_ADDRSTRLEN];

	if (w->ndirty < DIRTY_MAX)
		w->dirty[w->ndirty++] = *a;
	else
		w->overflow = true;
	w->last_change = lab_now();
	if (!w->events)
		return;
	for (int i = 0; i < w->n; i++)
		if ((before ^ mask) & (1u << i))
			fprintf(w->events, "%.6f %s %s %s\n", w->last_change, w->names[i],
				mask & (1u << i) ? "add" : "del", lab_addr_str(a, buf, sizeof(buf)));
}

static void note_link(void *data, int node, bool up)
{
	struct watch *w = data;

	w->links_changed = true;
	w->last_change = lab_now();
	if (w->events)
		fprintf(w->events, "%.6f %s link %s\n", w->last_change, w->names[node], up ? "up" : "down");
}

static struct dup *find_open(struct watch *w, const struct lab_addr *a)
{
	for (size_t i = 0; i < w->nopen; i++)
		if (w->open[i].addr.family == a->family && memcmp(w->open[i].addr.bytes, a->bytes, 16) == 0)
			return &w->open[i];
	return NULL;
}

static void close_dup(struct watch *w, struct dup *d, bool at_exit)
{
	double ms = (w->now - d->start) * 1000.0;
	char buf[INET6_ADDRSTRLEN];

	if (w->min_ms < 0 || ms > w->min_ms) {
		w->violations++;
		if (ms > w->longest_ms)
			w->longest_ms = ms;
		if (w->reported++ < REPORT_MAX) {
			printf("VIOLATION t=%.3f %s on", d->start - w->start,
			       lab_addr_str(&d->addr, buf, sizeof(buf)));
			for (int i = 0; i < w->n; i++)
				if (d->nodes & (1u << i))
					printf(" %s", w->names[i]);
			printf(" start=%.6f ms=%.1f%s\n", d->start, ms, at_exit ? " open" : "");
			fflush(stdout);
		}
	}
	*d = w->open[--w->nopen];
}

static void judge(void *data, const struct lab_addr *a, _unused_ uint32_t before, uint32_t mask)
{
	struct watch *w = data;
	uint32_t both = mask & w->live;
	struct dup *d = find_open(w, a);

	if (__builtin_popcount(both) < 2) {
		if (d)
			close_dup(w, d, false);
		return;
	}
	if (!d) {
		if (w->nopen == OPEN_MAX)
			return;
		d = &w->open[w->nopen++];
		*d = (struct dup){ .addr = *a, .start = w->now };
	}
	d->nodes |= both;
}

/* Re-read the exclusion file if it changed. */
static void read_exclusions(struct watch *w)
{
	struct stat st;
	uint32_t excluded = 0;
	char word[32];

	if (!w->exclude_file)
		return;
	if (stat(w->exclude_file, &st) < 0) {
		st.st_mtim = (struct timespec){ 0 };
		st.st_size = -1;
	}
	if (st.st_mtim.tv_sec == w->exclude_mtime.tv_sec && st.st_mtim.tv_nsec == w->exclude_mtime.tv_nsec &&
	    st.st_size == w->exclude_size)
		return;
	w->exclude_mtime = st.st_mtim;
	w->exclude_size = st.st_size;
	_cleanup_fclose_ FILE *f = fopen(w->exclude_file, "re");
	while (f && fscanf(f, "%31s", word) == 1)
		for (int i = 0; i < w->n; i++)
			if (strcmp(word, w->names[i]) == 0)
				excluded |= 1u << i;
	w->excluded = excluded;
}

/* Recompute the live set; returns true if it changed. */
static bool update_live(struct watch *w)
{
	read_exclusions(w);
	uint32_t live = ((1u << w->n) - 1) & ~w->excluded;
	if (w->links)
		live &= ~lab_links_down(w->links);
	w->links_changed = false;
	bool changed = live != w->live;
	w->live = live;
	return changed;
}

static void write_holders(void *data, const struct lab_addr *a, _unused_ uint32_t before, uint32_t mask)
{
	FILE *f = data;
	char buf[INET6_ADDRSTRLEN];

	fprintf(f, "addr %s", lab_addr_str(a, buf, sizeof(buf)));
	for (int i = 0; i < LAB_MAX_NODES; i++)
		if (mask & (1u << i))
			fprintf(f, " n%d", i + 1);
	fprintf(f, "\n");
}

/* Replace the state file in one rename, so a reader never sees half of it. */
static int write_state(struct watch *w, struct lab_tracker *t)
{
	char tmp[4096];

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", w->state_file) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	FILE *f = fopen(tmp, "we");
	if (!f)
		return negerrno();
	fprintf(f, "time %.6f\n", w->last_change);
	for (int i = 0; i < w->n; i++)
		if (w->links && (lab_links_down(w->links) & (1u << i)))
			fprintf(f, "down %s\n", w->names[i]);
	lab_tracker_foreach(t, write_holders, f);
	if (fclose(f) != 0 || rename(tmp, w->state_file) < 0)
		return negerrno();
	return 0;
}

/* Judge what changed since the last round; everything when the live set
 * changed (a node coming back is judged with the addresses it holds). */
static void judge_round(struct watch *w, struct lab_tracker *t)
{
	w->now = lab_now();
	if (update_live(w) || w->overflow) {
		lab_tracker_foreach(t, judge, w);
		for (size_t i = w->nopen; i-- > 0;)
			judge(w, &w->open[i].addr, 0, lab_tracker_mask(t, &w->open[i].addr));
	} else {
		for (size_t i = 0; i < w->ndirty; i++)
			judge(w, &w->dirty[i], 0, lab_tracker_mask(t, &w->dirty[i]));
	}
	w->ndirty = 0;
	w->overflow = false;
}

static int watch_loop(struct watch *w, struct lab_tracker *t, int sigfd, double max_s)
{
	struct pollfd fds[LAB_MAX_NODES + 2];
	int n = lab_tracker_fds(t, fds);

	if (w->links)
		fds[n++] = (struct pollfd){ .fd = lab_links_fd(w->links), .events = POLLIN };
	fds[n] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
	while (lab_now() - w->start < max_s) {
		if (poll(fds, (nfds_t)n + 1, 5) < 0 && errno != EINTR)
			return -EIO;
		if (fds[n].revents & POLLIN)
			break;
		if (lab_tracker_drain(t) < 0 || (w->links && lab_links_drain(w->links) < 0))
			return -EIO;
		bool changed = w->ndirty || w->overflow || w->links_changed;
		judge_round(w, t);
		if (w->events)
			fflush(w->events);
		if (changed && w->state_file && write_state(w, t) < 0)
			return -EIO;
	}
	w->now = lab_now();
	while (w->nopen)
		close_dup(w, &w->open[w->nopen - 1], true);
	return 0;
}

static int parse_opts(struct watch *w, int argc, char **argv, const char **ready, const char **events,
		      bool *links, double *max_s)
{
	static const struct option opts[] = {
		{ "exclude-file", required_argument, NULL, 'x' }, { "links", no_argument, NULL, 'l' },
		{ "min-ms", required_argument, NULL, 'M' },       { "events", required_argument, NULL, 'e' },
		{ "state", required_argument, NULL, 's' },        { "ready", required_argument, NULL, 'r' },
		{ "max-seconds", required_argument, NULL, 'm' },  { 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'x':
			w->exclude_file = optarg;
			break;
		case 'l':
			*links = true;
			break;
		case 'M':
			w->min_ms = atof(optarg);
			break;
		case 'e':
			*events = optarg;
			break;
		case 's':
			w->state_file = optarg;
			break;
		case 'r':
			*ready = optarg;
			break;
		case 'm':
			*max_s = atof(optarg);
			break;
		default:
			return -EINVAL;
		}
	}
	if (argc - optind != 2 || (w->n = atoi(argv[optind + 1])) < 1 || w->n > LAB_MAX_NODES) {
		fprintf(stderr, "usage: lab-net watch [--exclude-file F] [--links] [--min-ms M] "
				"[--events F] [--state F] [--ready F] [--max-seconds S] PREFIX N\n");
		return -EINVAL;
	}
	return 0;
}

static int watch_setup(struct watch *w, const char *prefix, bool links, const char *events,
		       struct lab_tracker **t)
{
	char *netns[LAB_MAX_NODES];
	char nsbuf[LAB_MAX_NODES][64];

	for (int i = 0; i < w->n; i++) {
		snprintf(w->names[i], sizeof(w->names[i]), "n%d", i + 1);
		snprintf(nsbuf[i], sizeof(nsbuf[i]), "%s-n%d", prefix, i + 1);
		netns[i] = nsbuf[i];
	}
	w->live = (1u << w->n) - 1;
	w->start = w->last_change = lab_now();
	if (events && !(w->events = fopen(events, "ae"))) {
		fprintf(stderr, "lab-net: %s: %s\n", events, strerror(errno));
		return -EIO;
	}
	if (links && lab_links_new(prefix, w->n, note_link, w, &w->links) < 0)
		return -EIO;
	if (lab_tracker_new(netns, w->n, note, w, t) < 0)
		return -EIO;
	w->overflow = true; /* judge the first dump whole */
	return 0;
}

int lab_cmd_watch(int argc, char **argv)
{
	struct watch w = { .exclude_size = -2, .min_ms = -1 };
	const char *ready = NULL, *events = NULL;
	bool links = false;
	double max_s = 900;
	struct lab_tracker *t = NULL;
	sigset_t mask;

	if (parse_opts(&w, argc, argv, &ready, &events, &links, &max_s) < 0)
		return 2;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	_cleanup_close_ int sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	_cleanup_free_ struct lab_addr *dirty = calloc(DIRTY_MAX, sizeof(*dirty));
	_cleanup_free_ struct dup *open = calloc(OPEN_MAX, sizeof(*open));
	w.dirty = dirty;
	w.open = open;
	int r = -EIO;
	if (dirty && open && sigfd >= 0 && watch_setup(&w, argv[optind], links, events, &t) == 0) {
		update_live(&w);
		if (!w.state_file || write_state(&w, t) == 0) {
			if (ready && lab_touch(ready) < 0)
				fprintf(stderr, "lab-net: %s: %s\n", ready, strerror(errno));
			r = watch_loop(&w, t, sigfd, max_s);
		}
	}
	unsigned nev = 0, resyncs = 0;
	if (t)
		lab_tracker_stats(t, &nev, &resyncs);
	printf("watch: seconds=%.1f events=%u resyncs=%u longest_ms=%.1f violations=%u\n",
	       lab_now() - w.start, nev, resyncs, w.longest_ms, w.violations);
	lab_tracker_free(t);
	lab_links_free(w.links);
	if (w.events)
		fclose(w.events);
	if (r < 0)
		return 2;
	return w.violations ? 1 : 0;
}

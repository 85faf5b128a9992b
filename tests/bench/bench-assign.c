/* SPDX-License-Identifier: MIT */
/*
 * bench-assign: time vip_cl_assign() for 32 members x 10,000 DuraVIPs and
 * count the DuraVIPs moved when one member leaves (it must be exactly what
 * that member held). Prints numbers; asserts nothing about time.
 *
 *   build-x/tests/bench/bench-assign [members] [duravips] [runs]
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cluster.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Median time of runs calls, in ms. */
static double time_assign(const struct vip_cl_assign_in *in, struct vip_cl_aout *out, int runs)
{
	double *t = calloc((size_t)runs, sizeof(*t));
	if (!t)
		exit(1);
	for (int i = 0; i < runs; i++) {
		double t0 = now_ms();
		if (vip_cl_assign(in, out, NULL) < 0) {
			fprintf(stderr, "vip_cl_assign failed\n");
			exit(1);
		}
		t[i] = now_ms() - t0;
	}
	qsort(t, (size_t)runs, sizeof(*t), cmp_double);
	double m = t[runs / 2];
	free(t);
	return m;
}

int main(int argc, char **argv)
{
	size_t nn = argc > 1 ? strtoul(argv[1], NULL, 10) : 32;
	size_t nv = argc > 2 ? strtoul(argv[2], NULL, 10) : 10000;
	int runs = argc > 3 ? atoi(argv[3]) : 21;
	if (nn < 2 || nn > VIP_CL_MAX_MEMBERS || runs < 1) {
		fprintf(stderr, "usage: bench-assign [members 2..64] [duravips] [runs]\n");
		return 2;
	}
	char(*names)[16] = calloc(nn, sizeof(*names));
	struct vip_cl_anode *nodes = calloc(nn, sizeof(*nodes));
	struct vip_cl_avip *v = calloc(nv + 1, sizeof(*v));
	struct vip_cl_aout *o = calloc(nv + 1, sizeof(*o));
	if (!names || !nodes || !v || !o)
		return 1;
	uint64_t all = nn == 64 ? UINT64_MAX : (UINT64_C(1) << nn) - 1;
	for (size_t i = 0; i < nn; i++) {
		snprintf(names[i], sizeof(names[i]), "node%02zu", i);
		nodes[i] = (struct vip_cl_anode){ .name = names[i], .mature = true };
	}
	for (size_t i = 0; i < nv; i++) {
		v[i] = (struct vip_cl_avip){ .candidates = all,
					     .prev_owner = -1,
					     .move_to = -1,
					     .follow = -1 };
		v[i].addr.family = AF_INET;
		uint32_t a = htonl(0xc6120000u + (uint32_t)i); /* 198.18.0.0/15 */
		memcpy(v[i].addr.bytes, &a, 4);
		if (i % 4 == 0) /* a quarter have a preferred node */
			v[i].prefer = UINT64_C(1) << (i / 4 % nn);
	}
	struct vip_cl_assign_in in = { .nodes = nodes, .n_nodes = nn, .vips = v, .n_vips = nv };

	double cold = time_assign(&in, o, runs);
	for (size_t i = 0; i < nv; i++) { /* settle: every member holds what it owns */
		v[i].prev_owner = o[i].owner;
		v[i].holders = v[i].keepers = UINT64_C(1) << o[i].owner;
	}
	double steady = time_assign(&in, o, runs);

	/* the last member leaves: the survivors' input without it */
	size_t gone = nn - 1, held = 0, moved = 0;
	int *before = calloc(nv + 1, sizeof(*before));
	if (!before)
		return 1;
	for (size_t i = 0; i < nv; i++) {
		before[i] = o[i].owner;
		held += o[i].owner == (int)gone;
		v[i].candidates &= ~(UINT64_C(1) << gone);
		v[i].holders &= ~(UINT64_C(1) << gone);
		v[i].keepers &= ~(UINT64_C(1) << gone);
		if (v[i].prev_owner == (int)gone)
			v[i].prev_owner = -1;
	}
	in.n_nodes = nn - 1;
	double leave = time_assign(&in, o, runs);
	for (size_t i = 0; i < nv; i++)
		moved += before[i] != o[i].owner;

	printf("vip_cl_assign %zu members x %zu DuraVIPs, median of %d runs:\n", nn, nv, runs);
	printf("  cold start (all unowned):   %.3f ms\n", cold);
	printf("  steady state (all held):    %.3f ms\n", steady);
	printf("  one member left:            %.3f ms\n", leave);
	printf("  member that left held %zu; moved %zu (%s)\n", held, moved,
	       held == moved ? "equal" : "DIFFERENT");
	free(before);
	free(names);
	free(nodes);
	free(v);
	free(o);
	return held == moved ? 0 : 1;
}

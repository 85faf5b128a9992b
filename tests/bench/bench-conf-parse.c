/* SPDX-License-Identifier: MIT */
/*
 * Benchmark of the configuration parser: generates about 1 MB and 10 MB of
 * Momentum-style configuration in memory (domains, bindings, binding groups,
 * listeners with Listen and Peer scopes, lists, dictionaries, comments),
 * parses each a few times and prints the median time and throughput.
 *
 *   build/tests/bench/bench-conf-parse [runs]
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const char *fmt, ...) _printf_(2, 3);
static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
}

static uint32_t next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void gen_block(struct buf *b, unsigned i, uint32_t *rnd)
{
	static const char *const flags[] = { "DEBUG", "NOTICE", "INFO", "ERROR", "CRITICAL" };
	unsigned a = i / 250 % 256, c = i % 250 + 1;

	put(b, "# block %u: a domain, a binding and a listener\n", i);
	put(b,
	    "Domain d%u.example.com {\n  Max_Outbound_Connections = %u\n"
	    "  Outbound_Throttle_Messages = \"%u/60\"\n  MX_Rollup = true\n}\n",
	    i, next_rand(rnd) % 100 + 1, next_rand(rnd) % 1000);
	put(b,
	    "Binding_Group \"group%u\" {\n  Binding \"b%u\" {\n    Bind_Address = 198.18.%u.%u\n"
	    "    Enable_Duravip = %s\n    Duravip_Preference = mta%u\n  }\n}\n",
	    i / 8, i, a, c, i % 2 ? "true" : "false", i % 4);
	put(b,
	    "ESMTP_Listener {\n  Listen \"198.18.%u.%u:25\" {\n    Enable_Duravip = true\n"
	    "    Peer 203.0.113.0/24 { Relay = true }\n  }\n"
	    "  Relay_Hosts = ( \"127.0.0.1\" 10.0.0.0/8 198.51.100.0/24 )\n}\n",
	    a, c);
	put(b, "/* logging for block %u */\nLogs { debug_flags = ( %s %s ) }\n", i, flags[next_rand(rnd) % 5],
	    flags[next_rand(rnd) % 5]);
	put(b,
	    "adaptive \"a%u\" { Rules = [ bounce = [ threshold = %u action = suspend ] "
	    "sweep = ( 300 600 ) ] }\n\n",
	    i, next_rand(rnd) % 50);
}

static char *generate(size_t target, size_t *ret_len)
{
	struct buf b = { 0 };
	uint32_t rnd = 2463534242u;

	put(&b, "Security {\n  user = ecuser\n  group = ecuser\n"
		"  Capabilities = \"cap_net_admin+ep cap_net_raw+ep\"\n}\n"
		"Spool { basedir = \"/var/spool/ecelerity\" }\n");
	for (unsigned i = 0; b.len < target; i++)
		gen_block(&b, i, &rnd);
	*ret_len = b.len;
	return b.p;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int bench(size_t target, int runs)
{
	size_t len;
	char *text = generate(target, &len);
	double *ms = calloc((size_t)runs, sizeof(*ms));
	size_t nodes = 0;

	if (!ms)
		abort();
	for (int i = 0; i < runs; i++) {
		struct vip_conf_diag d = { 0 };
		struct vip_conf_tree *t = NULL;
		double t0 = now_ms();
		int r = vip_conf_parse_string("bench.conf", text, len, NULL, NULL, &t, &d);
		ms[i] = now_ms() - t0;
		if (r < 0) {
			fprintf(stderr, "parse failed: %s\n", strerror(-r));
			return 1;
		}
		nodes = vip_conf_tree_root(t)->n_children;
		vip_conf_tree_free(t);
		vip_conf_diag_clear(&d);
	}
	qsort(ms, (size_t)runs, sizeof(*ms), cmp_double);
	double med = ms[runs / 2];
	printf("conf-parse %6.2f MB: median %8.2f ms over %d runs (min %.2f, max %.2f), %7.1f MB/s, "
	       "%zu top-level statements\n",
	       len / 1e6, med, runs, ms[0], ms[runs - 1], len / 1e6 / (med / 1e3), nodes);
	free(ms);
	free(text);
	return 0;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 5;

	if (runs < 1 || runs > 1000) {
		fprintf(stderr, "usage: %s [runs 1..1000]\n", argv[0]);
		return 2;
	}
	if (bench(1u << 20, runs) || bench(10u << 20, runs))
		return 1;
	return 0;
}

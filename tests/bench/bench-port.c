/* SPDX-License-Identifier: MIT */
/*
 * Benchmark of the Linux port (prints numbers, asserts nothing about time).
 * Root only; everything happens in two throwaway namespaces joined by a veth.
 *
 *   plumb then unplumb N = 1,000 and 10,000 IPv4 (198.18.0.0/15) and 1,000
 *   IPv6 (2001:db8::/64) addresses (a) through the port, (b) with `ip -batch`,
 *   (c) one `ip addr add` process per address (N = 1,000 IPv4 only), and
 *   (r) bench-port-ref, the minimal batched libmnl program;
 *   announce N = 10,000 and 100,000 addresses (gratuitous ARP requests) through
 *   the port and the reference, counted at the peer with a packet socket
 *   (PACKET_STATISTICS; the peer keeps arp_accept = 0 and learns none).
 *
 * Usage: bench-port [RUNS]   (default 3; medians are printed). bench-port-ref
 * must sit next to this binary. Every result is checked with a dump (count of
 * addresses present), outside the timed part.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>

#include "nstest.h"
#include "port.h"

#define MAX_RUNS 9

extern char **environ;

static const struct vip_port_ops *ops;
static const char *ns_a, *ns_b;
static int ifindex_a;
static char ref_path[PATH_MAX];

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static struct vip_addr nth(int v6, unsigned i)
{
	struct vip_addr a = { .family = v6 ? AF_INET6 : AF_INET };
	if (!v6) {
		a.v4.s_addr = htonl(0xc6120100u + i);
	} else {
		a.bytes[0] = 0x20, a.bytes[1] = 0x01, a.bytes[2] = 0x0d, a.bytes[3] = 0xb8;
		a.bytes[13] = 1;
		a.bytes[14] = (uint8_t)(i >> 8);
		a.bytes[15] = (uint8_t)i;
	}
	return a;
}

static int count_once(struct vip_port *p, int v6, int *tentative)
{
	struct vip_port_table t = { 0 };
	int r = ops->dump(p, ifindex_a, &t), n = 0;
	*tentative = 0;
	for (int i = 0; r > 0 && i < r; i++) {
		const struct vip_addr *a = &t.items[i].addr;
		/* Count addresses of the bench ranges only (the veth's own are excluded). */
		if (!v6 && a->family == AF_INET && (ntohl(a->v4.s_addr) & 0xffffff00u) >= 0xc6120100u)
			n++;
		if (v6 && a->family == AF_INET6 && a->bytes[13] == 1)
			n++;
		if (t.items[i].flags & VIP_PORT_ADDR_TENTATIVE)
			(*tentative)++;
	}
	vip_port_table_clear(&t);
	return r < 0 ? r : n;
}

/*
 * How many bench addresses are present. Also waits (bounded, untimed) until
 * none is tentative: even with IFA_F_NODAD the kernel finishes each IPv6
 * address in a work item that takes the RTNL, and a batch measured while a
 * thousand of those run measures them, not the batch.
 */
static int count_tagged_or_all(struct vip_port *p, int v6)
{
	int tentative = 0, n = count_once(p, v6, &tentative);
	for (int i = 0; i < 200 && n > 0 && tentative > 0; i++) {
		usleep(50000);
		n = count_once(p, v6, &tentative);
	}
	return n;
}

/* Run argv (in namespace a when in_a), optionally capture stdout; exit status or -1. */
static int run(char *const argv[], bool in_a, char *out, size_t outlen)
{
	int pfd[2] = { -1, -1 };
	if (out && pipe(pfd) < 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (in_a && nstest_enter(ns_a) < 0)
			_exit(126);
		if (out) {
			dup2(pfd[1], 1);
			close(pfd[0]);
		}
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0 && !out)
			dup2(devnull, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (out) {
		close(pfd[1]);
		ssize_t n = read(pfd[0], out, outlen - 1);
		out[n > 0 ? n : 0] = '\0';
		close(pfd[0]);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

enum method { M_PORT, M_BATCH, M_PROC, M_REF, M_MAX };
static const char *const method_names[M_MAX] = { "port", "ip-batch", "ip-per-addr", "reference" };

struct timing {
	double add, del;
	bool bad;
};

static void once_port(struct vip_port *p, int v6, unsigned n, struct timing *t)
{
	struct vip_port_req *r = calloc(n, sizeof(*r));
	for (unsigned i = 0; i < n; i++) {
		r[i].addr = nth(v6, i);
		r[i].prefix = v6 ? 64 : 15;
		r[i].ifindex = ifindex_a;
		if (!v6)
			strcpy(r[i].label, "va:dv");
	}
	double t0 = now_s();
	t->bad |= ops->add(p, r, n) != 0;
	t->add = now_s() - t0;
	t->bad |= count_tagged_or_all(p, v6) != (int)n;
	t0 = now_s();
	t->bad |= ops->remove(p, r, n) != 0;
	t->del = now_s() - t0;
	free(r);
}

/* The reference times itself (socket set-up excluded, as for the port). */
static double ref_run(const char *op, int v6, unsigned n, bool *bad)
{
	char buf[128], count[16], fam[4];
	long long us = 0;
	unsigned failed = 0;
	snprintf(count, sizeof(count), "%u", n);
	snprintf(fam, sizeof(fam), "%d", v6 ? 6 : 4);
	char *argv[] = { ref_path, (char *)op, "va", fam, count, NULL };
	*bad |= run(argv, true, buf, sizeof(buf)) != 0 ||
		sscanf(buf, "elapsed_us=%lld failed=%u", &us, &failed) != 2 || failed;
	return (double)us / 1e6;
}

static void once_ref(struct vip_port *p, int v6, unsigned n, struct timing *t)
{
	t->add = ref_run("add", v6, n, &t->bad);
	t->bad |= count_tagged_or_all(p, v6) != (int)n;
	t->del = ref_run("del", v6, n, &t->bad);
}

static void addr_arg(int v6, unsigned i, char *buf, size_t len)
{
	char s[VIP_ADDR_STRLEN];
	struct vip_addr a = nth(v6, i);
	snprintf(buf, len, "%s/%d", vip_addr_to_string(&a, s, sizeof(s)), v6 ? 64 : 15);
}

/* One `ip addr add|del` process per address. */
static double ip_each(const char *op, int v6, unsigned n, bool *bad)
{
	char pfx[64];
	double t0 = now_s();
	for (unsigned i = 0; i < n; i++) {
		addr_arg(v6, i, pfx, sizeof(pfx));
		char *argv[] = { "ip", "-n", (char *)ns_a, "addr", (char *)op, pfx, "dev", "va", NULL };
		*bad |= run(argv, false, NULL, 0) != 0;
	}
	return now_s() - t0;
}

/* One `ip -batch` process for all addresses. */
static double ip_batch(const char *op, int v6, unsigned n, bool *bad)
{
	char path[64], pfx[64];
	snprintf(path, sizeof(path), "/tmp/vt-%d-bench.txt", (int)getpid());
	FILE *f = fopen(path, "w");
	if (!f) {
		*bad = true;
		return 0;
	}
	for (unsigned i = 0; i < n; i++) {
		addr_arg(v6, i, pfx, sizeof(pfx));
		fprintf(f, "addr %s %s dev va%s\n", op, pfx, v6 ? " nodad" : " label va:dv");
	}
	fclose(f);
	char *argv[] = { "ip", "-n", (char *)ns_a, "-batch", path, NULL };
	double t0 = now_s();
	*bad |= run(argv, false, NULL, 0) != 0;
	double t = now_s() - t0;
	unlink(path);
	return t;
}

static void once_ip(struct vip_port *p, bool batch, int v6, unsigned n, struct timing *t)
{
	t->add = batch ? ip_batch("add", v6, n, &t->bad) : ip_each("add", v6, n, &t->bad);
	t->bad |= count_tagged_or_all(p, v6) != (int)n;
	t->del = batch ? ip_batch("del", v6, n, &t->bad) : ip_each("del", v6, n, &t->bad);
}

/* One plumb + unplumb with method m, then a check that nothing is left. 0 or -1 (mismatch). */
static int once(enum method m, struct vip_port *p, int v6, unsigned n, double *add_s, double *del_s)
{
	struct timing t = { 0 };
	if (m == M_PORT)
		once_port(p, v6, n, &t);
	else if (m == M_REF)
		once_ref(p, v6, n, &t);
	else
		once_ip(p, m == M_BATCH, v6, n, &t);
	t.bad |= count_tagged_or_all(p, v6) != 0;
	*add_s = t.add;
	*del_s = t.del;
	return t.bad ? -1 : 0;
}

struct row {
	const char *name;
	int v6;
	unsigned n;
	double add[M_MAX], del[M_MAX]; /* medians, 0: not run */
};

/* Methods interleaved run by run, so drift on a shared machine hits them alike. */
static void plumb_case(struct vip_port *p, struct row *row, int runs)
{
	double a[M_MAX][MAX_RUNS] = { { 0 } }, d[M_MAX][MAX_RUNS] = { { 0 } };
	for (int k = 0; k < runs; k++) {
		/* The order rotates too: whoever runs right after a big delete pays for it. */
		for (int j = 0; j < M_MAX; j++) {
			int m = (j + k) % M_MAX;
			if (m == M_PROC && (row->v6 || row->n > 1000))
				continue;
			usleep(100000);
			if (once((enum method)m, p, row->v6, row->n, &a[m][k], &d[m][k]) < 0)
				printf("  !! %s %s run %d: result check failed\n", row->name, method_names[m],
				       k);
			if (getenv("BENCH_PORT_VERBOSE"))
				printf("  %s %s run %d: add %.1f ms del %.1f ms\n", row->name,
				       method_names[m], k, a[m][k] * 1e3, d[m][k] * 1e3);
		}
	}
	for (int m = 0; m < M_MAX; m++) {
		row->add[m] = median(a[m], runs);
		row->del[m] = median(d[m], runs);
	}
}

static void print_ms(double s)
{
	if (s > 0)
		printf(" %11.1f", s * 1e3);
	else
		printf(" %11s", "-");
}

static void print_rows(const struct row *rows, size_t n)
{
	printf("%-18s %11s %11s %11s %11s %10s %10s\n", "case (ms, median)", method_names[0], method_names[1],
	       method_names[2], method_names[3], "port/batch", "port/ref");
	for (size_t i = 0; i < n; i++) {
		for (int op = 0; op < 2; op++) {
			const double *v = op ? rows[i].del : rows[i].add;
			char label[32];
			snprintf(label, sizeof(label), "%s %s", rows[i].name, op ? "del" : "add");
			printf("%-18s", label);
			for (int m = 0; m < M_MAX; m++)
				print_ms(v[m]);
			printf(" %9.2fx %9.2fx\n", v[M_PORT] / v[M_BATCH], v[M_PORT] / v[M_REF]);
		}
	}
}

/* A packet socket in b counting ARP from 198.18.0.0/15 (kernel counters, nothing read). */
static int peer_counter(void)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 28),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xfffe0000),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xc6120000, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 64),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { ARRAY_SIZE(code), code };
	if (nstest_enter(ns_b) < 0)
		return -1;
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP));
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ARP),
				   .sll_ifindex = (int)if_nametoindex("vb") };
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -1;
	nstest_enter(ns_a);
	return fd;
}

static unsigned peer_count(int fd)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);
	/* Reading resets; tp_packets includes what the full socket dropped. */
	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
		return 0;
	return st.tp_packets;
}

static void announce_case(struct vip_port *p, int cnt, unsigned n, int runs)
{
	double tp[MAX_RUNS], tr[MAX_RUNS];
	unsigned seen_p = 0, seen_r = 0;
	struct vip_port_announce *b = calloc(n, sizeof(*b));
	for (unsigned i = 0; i < n; i++) {
		b[i].addr = nth(0, i);
		b[i].ifindex = ifindex_a;
	}
	for (int k = 0; k < runs; k++) {
		char buf[128], count[16];
		long long us = 0;
		unsigned failed = 0;
		peer_count(cnt);
		double t0 = now_s();
		int sent = ops->announce(p, b, n, VIP_ARP_REQUEST);
		tp[k] = now_s() - t0;
		usleep(100000);
		seen_p = peer_count(cnt);
		if (sent != (int)n)
			printf("  !! port announce sent %d of %u\n", sent, n);
		snprintf(count, sizeof(count), "%u", n);
		char *argv[] = { ref_path, "arp", "va", count, NULL };
		if (run(argv, true, buf, sizeof(buf)) != 0 ||
		    sscanf(buf, "elapsed_us=%lld failed=%u", &us, &failed) != 2)
			printf("  !! reference arp failed\n");
		tr[k] = (double)us / 1e6;
		usleep(100000);
		seen_r = peer_count(cnt);
	}
	free(b);
	double mp = median(tp, runs), mr = median(tr, runs);
	printf("announce %6u ARP  port %8.1f ms (%7.0f pkt/s)  reference %8.1f ms (%7.0f pkt/s)  "
	       "port/ref %.2fx  seen at peer (last run): port %u, reference %u\n",
	       n, mp * 1e3, n / mp, mr * 1e3, n / mr, mp / mr, seen_p, seen_r);
}

static void setup(void)
{
	nstest_require_root();
	ns_a = nstest_netns_add("ba");
	ns_b = nstest_netns_add("bb");
	if (!ns_a || !ns_b || nstest_sh("ip -n %s link add va type veth peer name vb netns %s", ns_a, ns_b) ||
	    nstest_sh("ip netns exec %s sysctl -qw net.ipv4.conf.all.arp_accept=0 "
		      "net.ipv4.conf.default.arp_accept=0 net.ipv4.conf.vb.arp_accept=0 "
		      "net.ipv6.conf.vb.accept_untracked_na=0",
		      ns_b) ||
	    nstest_sh("ip -n %s addr add 198.18.0.1/15 dev va && ip -n %s addr add 2001:db8::1/64 "
		      "dev va nodad && ip -n %s link set va up",
		      ns_a, ns_a, ns_a) ||
	    nstest_sh("ip -n %s addr add 198.18.0.2/15 dev vb && ip -n %s link set vb up", ns_b, ns_b)) {
		fprintf(stderr, "bench-port: namespace setup failed\n");
		exit(1);
	}
	if (nstest_enter(ns_a) < 0 || (ifindex_a = (int)if_nametoindex("va")) <= 0)
		exit(1);
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 3;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (runs < 1 || runs > MAX_RUNS)
		runs = 3;
	char self[PATH_MAX];
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(ref_path, sizeof(ref_path), "%s/bench-port-ref", dirname(self));
	if (access(ref_path, X_OK) < 0) {
		fprintf(stderr, "bench-port: %s not found\n", ref_path);
		return 1;
	}
	setup();
	ops = vip_port_native();
	struct vip_port *p, *plumber;
	struct vip_port_opts o = { .flags = VIP_PORT_OPEN_NO_PACKET | VIP_PORT_OPEN_NO_MONITOR };
	if (ops->open(&o, &plumber) < 0) {
		fprintf(stderr, "bench-port: cannot open the port\n");
		return 1;
	}
	struct utsname u;
	uname(&u);
	char load[64] = "?";
	FILE *lf = fopen("/proc/loadavg", "r");
	if (lf) {
		if (!fgets(load, sizeof(load), lf))
			load[0] = '\0';
		load[strcspn(load, "\n")] = '\0';
		fclose(lf);
	}
	printf("bench-port: Linux %s, %ld CPUs, load %s; %d runs per case, medians; the port "
	       "plumbs with its own socket (no monitor, like the reference)\n",
	       u.release, sysconf(_SC_NPROCESSORS_ONLN), load, runs);
	double t0 = now_s();
	struct row rows[] = {
		{ .name = "ipv4 1000", .v6 = 0, .n = 1000 },
		{ .name = "ipv4 10000", .v6 = 0, .n = 10000 },
		{ .name = "ipv6 1000", .v6 = 1, .n = 1000 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		plumb_case(plumber, &rows[i], runs);
	print_rows(rows, ARRAY_SIZE(rows));

	/* Opened now: its monitor socket would have queued every plumbing event. */
	if (ops->open(NULL, &p) < 0) {
		fprintf(stderr, "bench-port: cannot open the port\n");
		return 1;
	}
	int cnt = peer_counter();
	if (cnt < 0) {
		fprintf(stderr, "bench-port: peer counter failed\n");
		return 1;
	}
	announce_case(p, cnt, 10000, runs);
	announce_case(p, cnt, 100000, runs);
	if (nstest_sh("test $(ip -n %s neigh show | wc -l) -lt 10", ns_b) != 0)
		printf("  !! the peer learned neighbour entries\n");
	printf("total %.1f s\n", now_s() - t0);
	close(cnt);
	ops->close(plumber);
	ops->close(p);
	nstest_cleanup();
	return 0;
}

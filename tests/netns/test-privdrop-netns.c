/* SPDX-License-Identifier: MIT */
/*
 * The real privilege drop (vipd/privdrop.c through privdrop-target), seen
 * from outside through /proc/PID/status, with Momentum's cluster stanza
 * (user ecuser, cap_net_admin cap_net_bind_service cap_net_raw
 * cap_sys_resource):
 *
 *   userns        a fresh user namespace (identity map of 65536 ids, so the
 *                 bounding set is full) + network namespace, with a chroot and
 *                 a supplemental group: all four capabilities kept, and they
 *                 work (address add/remove, one ARP, port 80), chown does not;
 *   userns-noraw  the same without cap_net_raw: a packet socket is refused;
 *   rootns        this machine's user namespace (a new network namespace
 *                 only): a capability outside the bounding set (here
 *                 cap_sys_resource) is named in a warning, the rest kept;
 *   unprivileged  started as ecuser already: nothing to drop, and the
 *                 missing cap_net_admin and cap_net_raw are an error.
 *
 * Usage: test-privdrop-netns PATH-TO-privdrop-target
 */
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>

#include "nstest.h"
#include "util.h"

#define CLUSTER_CAPS "cap_net_admin+ep cap_net_bind_service+ep cap_net_raw+ep cap_sys_resource+ep"
#define NO_RAW_CAPS "cap_net_admin+ep cap_net_bind_service+ep cap_sys_resource+ep"
#define BIT(c) (UINT64_C(1) << (c))
#define FOUR (BIT(CAP_NET_ADMIN) | BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_NET_RAW) | BIT(CAP_SYS_RESOURCE))

struct variant {
	const char *name;
	bool userns, chroot, no_raw;
	const char *caps;
	gid_t group; /* supplemental, 0: none */
	uint64_t want;
	const char *warning; /* a message that must appear, or NULL: no warning at all */
	const char *oks[6];
};

static int failures;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			failures++;                                          \
		}                                                            \
	} while (0)

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		fprintf(stderr, "write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	close(fd);
}

/* In the child: own namespaces and a veth pair, then become the target. */
static __attribute__((noreturn)) void child(const struct variant *v, char **args, int out, int in, int sync1,
					    int sync2)
{
	char b = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (unshare(CLONE_NEWNET | (v->userns ? CLONE_NEWUSER : 0)) < 0)
		_exit(3);
	if (write(sync1, &b, 1) != 1 || read(sync2, &b, 1) != 1)
		_exit(3);
	if (nstest_sh("ip link add vt0 type veth peer name vt1 && ip link set vt0 up && "
		      "ip link set vt1 up") != 0)
		_exit(4);
	if (dup2(out, STDOUT_FILENO) < 0 || dup2(in, STDIN_FILENO) < 0)
		_exit(5);
	execv(args[0], args);
	_exit(6);
}

/* Read the target's lines until "ready" or EOF, at most 20 s. */
static size_t read_lines(int fd, char lines[][512], size_t max)
{
	static char buf[8192];
	size_t len = 0, n = 0;
	time_t end = time(NULL) + 20;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (time(NULL) > end || poll(&p, 1, 1000) < 0)
			break;
		if (!(p.revents & (POLLIN | POLLHUP)))
			continue;
		ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		char *nl;
		while ((nl = memchr(buf, '\n', len)) && n < max) {
			*nl = '\0';
			snprintf(lines[n++], sizeof(lines[0]), "%.511s", buf);
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len);
			if (strcmp(lines[n - 1], "ready") == 0)
				return n;
		}
	}
	return n;
}

static bool has_line(char lines[][512], size_t n, const char *prefix)
{
	for (size_t i = 0; i < n; i++)
		if (strncmp(lines[i], prefix, strlen(prefix)) == 0)
			return true;
	return false;
}

/* The value of "Key:" in /proc/PID/status, tabs squeezed to spaces. */
static bool status_field(const char *status, const char *key, char *buf, size_t len)
{
	char k[64];
	snprintf(k, sizeof(k), "\n%s:", key);
	const char *at = strstr(status, k);
	if (!at)
		return false;
	at += strlen(k);
	size_t i = 0;
	for (; *at && *at != '\n' && i + 1 < len; at++) {
		char ch = *at == '\t' ? ' ' : *at;
		if (ch == ' ' && (i == 0 || buf[i - 1] == ' '))
			continue;
		buf[i++] = ch;
	}
	while (i > 0 && buf[i - 1] == ' ')
		i--;
	buf[i] = '\0';
	return true;
}

static void check_status(const struct variant *v, pid_t pid, const struct passwd *pw)
{
	char path[64], status[8192] = "\n", val[512], want[512];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, status + 1, sizeof(status) - 2);
	if (fd >= 0)
		close(fd);
	CHECK(n > 0, "%s: read %s", v->name, path);
	if (n <= 0)
		return;
	status[n + 1] = '\0';
	static const char *const keys[] = { "Uid",    "Gid",    "Groups", "CapInh",    "CapPrm",
					    "CapEff", "CapBnd", "CapAmb", "NoNewPrivs" };
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		bool ok = status_field(status, keys[i], val, sizeof(val));
		printf("  [%s] %s:\t%s\n", v->name, keys[i], ok ? val : "(missing)");
		if (i == 0 || i == 1) {
			unsigned id = i == 0 ? (unsigned)pw->pw_uid : (unsigned)pw->pw_gid;
			snprintf(want, sizeof(want), "%u %u %u %u", id, id, id, id);
		} else if (i == 2) {
			if (v->group)
				snprintf(want, sizeof(want), "%u", (unsigned)v->group);
			else
				want[0] = '\0';
		} else if (i == 4 || i == 5 || i == 6) {
			snprintf(want, sizeof(want), "%016llx", (unsigned long long)v->want);
		} else if (i == 8) {
			snprintf(want, sizeof(want), "1");
		} else {
			snprintf(want, sizeof(want), "%016x", 0);
		}
		CHECK(ok && strcmp(val, want) == 0, "%s: %s is \"%s\", want \"%s\"", v->name, keys[i],
		      ok ? val : "(missing)", want);
	}
}

struct target {
	pid_t pid;
	int out, in; /* its stdout, its stdin */
};

/* Fork the child, map its ids when it made a user namespace, let it exec. */
static int spawn(const struct variant *v, char **args, struct target *t)
{
	int out[2], in[2], s1[2], s2[2];
	char b = 0, map[64];

	if (pipe2(out, O_CLOEXEC) || pipe2(in, O_CLOEXEC) || pipe2(s1, O_CLOEXEC) || pipe2(s2, O_CLOEXEC))
		return -errno;
	fflush(stdout);
	t->pid = fork();
	if (t->pid < 0)
		return -errno;
	if (t->pid == 0)
		child(v, args, out[1], in[0], s1[1], s2[0]);
	close(out[1]), close(in[0]), close(s1[1]), close(s2[0]);
	if (read(s1[0], &b, 1) == 1 && v->userns) {
		/* an identity map: ecuser is the same id inside and out */
		snprintf(map, sizeof(map), "/proc/%d/uid_map", (int)t->pid);
		write_file(map, "0 0 65536");
		snprintf(map, sizeof(map), "/proc/%d/gid_map", (int)t->pid);
		write_file(map, "0 0 65536");
	}
	int r = write(s2[1], &b, 1) == 1 ? 0 : -EPIPE;
	close(s1[0]), close(s2[1]);
	t->out = out[0], t->in = in[1];
	return r;
}

/* Close its stdin (it exits) and reap it within 5 s; its wait status. */
static int reap(struct target *t)
{
	int st = -1;

	close(t->in);
	close(t->out);
	for (int i = 0; i < 50 && waitpid(t->pid, &st, WNOHANG) == 0; i++)
		usleep(100 * 1000);
	if (st == -1) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, &st, 0);
	}
	return st;
}

static void check_lines(const struct variant *v, char lines[][512], size_t n)
{
	for (size_t i = 0; v->oks[i]; i++) {
		char want[64];
		snprintf(want, sizeof(want), "ok %s", v->oks[i]);
		CHECK(has_line(lines, n, want), "%s: no \"%s\"", v->name, want);
	}
	CHECK(!has_line(lines, n, "fail ") && !has_line(lines, n, "error "), "%s: a step failed", v->name);
	CHECK(has_line(lines, n, "identity uid="), "%s: no identity line", v->name);
	if (v->warning)
		CHECK(has_line(lines, n, v->warning), "%s: no \"%s\"", v->name, v->warning);
	else
		CHECK(!has_line(lines, n, "msg 4 "), "%s: an unexpected warning", v->name);
}

static void check_root(const struct variant *v, pid_t pid, const char *root)
{
	char link[64], dest[128] = "";

	snprintf(link, sizeof(link), "/proc/%d/root", (int)pid);
	ssize_t l = readlink(link, dest, sizeof(dest) - 1);
	dest[l > 0 ? l : 0] = '\0';
	CHECK(strcmp(dest, root) == 0, "%s: root is %s, want %s", v->name, dest, root);
}

static void run(const struct variant *v, const char *target, const struct passwd *pw)
{
	char root[64] = "", gid[16], lines[32][512];
	char *args[16] = { (char *)target };
	struct target t = { .pid = -1, .out = -1, .in = -1 };
	int a = 1;

	printf("variant %s\n", v->name);
	if (v->chroot) {
		snprintf(root, sizeof(root), "/tmp/vt-%d-root-XXXXXX", (int)getpid());
		if (!mkdtemp(root) || chmod(root, 0755) < 0 || nstest_sh("mkdir -m 1777 %s/tmp", root)) {
			CHECK(false, "%s: chroot folder %s", v->name, root);
			return;
		}
		args[a++] = "-r", args[a++] = root;
	}
	if (v->group) {
		snprintf(gid, sizeof(gid), "%u", (unsigned)v->group);
		args[a++] = "-g", args[a++] = gid;
	}
	args[a++] = "-i", args[a++] = "vt0", args[a++] = "-p", args[a++] = "vt1";
	if (v->no_raw)
		args[a++] = "-n";
	args[a++] = pw->pw_name, args[a++] = (char *)v->caps;

	if (spawn(v, args, &t) < 0)
		exit(1);
	size_t n = read_lines(t.out, lines, ARRAY_SIZE(lines));
	for (size_t i = 0; i < n; i++)
		printf("  [%s] %s\n", v->name, lines[i]);
	bool ready = n > 0 && strcmp(lines[n - 1], "ready") == 0;
	CHECK(ready, "%s: the target did not get ready", v->name);
	if (ready) {
		check_status(v, t.pid, pw);
		if (v->chroot)
			check_root(v, t.pid, root);
	}
	check_lines(v, lines, n);
	int st = reap(&t);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: target status 0x%x", v->name, st);
	if (v->chroot)
		nstest_sh("rm -rf %s", root);
}

/*
 * Already unprivileged at the start (setpriv to ecuser, no capabilities):
 * no drop is possible and the missing needed capabilities are an error. The
 * target stops before touching anything, so this runs without namespaces.
 */
static void run_unprivileged(const char *target, const struct passwd *pw)
{
	char cmd[512], line[512];
	bool found = false;

	printf("variant unprivileged\n");
	snprintf(cmd, sizeof(cmd),
		 "setpriv --reuid=%u --regid=%u --clear-groups --inh-caps=-all "
		 "--bounding-set=-all %s %s '%s' </dev/null",
		 (unsigned)pw->pw_uid, (unsigned)pw->pw_gid, target, pw->pw_name, CLUSTER_CAPS);
	FILE *f = popen(cmd, "r");
	if (!f) {
		CHECK(false, "popen %s", cmd);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		printf("  [unprivileged] %s", line);
		found |= strstr(line, "error already running as uid") &&
			 strstr(line, "missing needed capabilities (cap_net_admin cap_net_raw)");
		CHECK(strncmp(line, "ok ", 3) != 0, "unprivileged: went on after the error");
	}
	int st = pclose(f);
	CHECK(found, "unprivileged: no error naming the missing capabilities");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1, "unprivileged: status 0x%x", st);
}

/* Is cap_sys_resource in this process's (the machine root's) bounding set? */
static bool sys_resource_bounded(void)
{
	return prctl(PR_CAPBSET_READ, CAP_SYS_RESOURCE, 0, 0, 0) == 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	nstest_require_root();
	if (argc != 2)
		return 2;
	struct passwd *pw = getpwnam("ecuser");
	if (!pw) {
		fprintf(stderr, "no user ecuser: run tools/deps\n");
		return 1;
	}
	struct passwd user = *pw;
	user.pw_name = strdup(pw->pw_name);

	const struct variant userns = {
		.name = "userns",
		.userns = true,
		.chroot = true,
		.caps = CLUSTER_CAPS,
		.group = 65534,
		.want = FOUR,
		.oks = { "addr-add", "arp", "addr-del", "bind-80", "chown-denied" },
	};
	const struct variant noraw = {
		.name = "userns-noraw",
		.userns = true,
		.caps = NO_RAW_CAPS,
		.no_raw = true,
		.want = FOUR & ~BIT(CAP_NET_RAW),
		.oks = { "addr-add", "addr-del", "bind-80", "chown-denied", "raw-denied" },
	};
	bool full = sys_resource_bounded();
	const struct variant rootns = {
		.name = "rootns",
		.caps = CLUSTER_CAPS,
		.want = full ? FOUR : FOUR & ~BIT(CAP_SYS_RESOURCE),
		.warning = full ? NULL
				: "msg 4 capabilities outside this process's bounding set "
				  "cannot be kept: cap_sys_resource",
		.oks = { "addr-add", "arp", "addr-del", "bind-80", "chown-denied" },
	};
	if (full)
		printf("note: cap_sys_resource is in this machine's bounding set: no warning expected\n");
	run(&userns, argv[1], &user);
	run(&noraw, argv[1], &user);
	run(&rootns, argv[1], &user);
	run_unprivileged(argv[1], &user);
	free(user.pw_name);
	printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}

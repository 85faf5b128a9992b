/* SPDX-License-Identifier: MIT */
/*
 * vipd/runner after the engine's real privilege drop: a child of this test
 * enters a network namespace of its own, drops to ecuser keeping
 * cap_net_admin and cap_net_raw (vip_privdrop, as the engine does), and
 * then runs commands through the runner:
 *
 *   - grep of the command's own /proc/self/status: uid and gid ecuser's
 *     (real, effective, saved, fs), CapInh, CapPrm, CapEff and CapAmb all
 *     zero, NoNewPrivs 1, while the dropped process itself still holds
 *     cap_net_admin and cap_net_raw;
 *   - the same after the dropped process made cap_net_admin inheritable and
 *     ambient (which vipd never does; an exec alone would then keep it, as
 *     a control exec without the runner shows): the runner's child still
 *     has nothing, so the runner's own shedding is what is tested, not just
 *     what execve does for a non-root user;
 *   - `ip link add` in that namespace: refused (Operation not permitted),
 *     which the engine itself could do.
 *
 * Root only (exit 77 otherwise, unless VIPD_REQUIRE_NETNS=1).
 */
#include <pwd.h>
#include <sys/prctl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>

#include "loop.h"
#include "nstest.h"
#include "privdrop.h"
#include "runner.h"
#include "util.h"

#define KEEP "cap_net_admin+ep cap_net_raw+ep"
#define BIT(c) (UINT64_C(1) << (c))

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

struct outcome {
	int calls;
	enum vipd_runner_outcome outcome;
	int exit_status;
	char output[4096];
};

static void on_done(void *data, const struct vipd_runner_result *res)
{
	struct outcome *o = data;
	char why[256];

	o->calls++;
	o->outcome = res->outcome;
	o->exit_status = res->exit_status;
	snprintf(o->output, sizeof(o->output), "%s", res->output);
	fprintf(stderr, "# %s: %s\n%s\n", res->output_len ? "output follows" : "no output",
		vipd_runner_result_describe(res, why, sizeof(why)), res->output);
}

static int run(struct loop *l, struct vipd_runner *r, const char *const *argv, struct outcome *o)
{
	struct vipd_runner_cmd cmd = { .argv = argv, .timeout_ms = 10000 };

	memset(o, 0, sizeof(*o));
	int k = vipd_runner_start(r, &cmd, on_done, o, NULL);
	if (k < 0)
		return k;
	uint64_t end = loop_now_ms() + 15000;
	while (!o->calls && loop_now_ms() < end)
		if ((k = loop_iterate(l, 100)) < 0)
			return k;
	return o->calls ? 0 : -ETIMEDOUT;
}

/* The value after "Name:\t" in text (a /proc status dump), or NULL. */
static const char *field(const char *text, const char *name, char *buf, size_t len)
{
	size_t n = strlen(name);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			p += strspn(p, " \t");
			size_t k = strcspn(p, "\n");
			snprintf(buf, len, "%.*s", (int)(k < len ? k : len - 1), p);
			return buf;
		}
	}
	return NULL;
}

static uint64_t own_effective(void)
{
	char text[4096] = "", buf[64];
	FILE *fp = fopen("/proc/self/status", "re");

	if (fp) {
		size_t n = fread(text, 1, sizeof(text) - 1, fp);
		text[n] = '\0';
		fclose(fp);
	}
	return field(text, "CapEff", buf, sizeof(buf)) ? strtoull(buf, NULL, 16) : 0;
}

static int drop(const struct passwd *pw)
{
	struct vipd_security sec = { .user = pw->pw_name,
				     .group = pw->pw_name,
				     .uid = pw->pw_uid,
				     .gid = pw->pw_gid,
				     .capabilities = KEEP,
				     .cap_permitted = BIT(CAP_NET_ADMIN) | BIT(CAP_NET_RAW),
				     .cap_effective = BIT(CAP_NET_ADMIN) | BIT(CAP_NET_RAW) };
	struct vip_privdrop_needs needs = { .caps = BIT(CAP_NET_ADMIN) | BIT(CAP_NET_RAW) };
	struct vip_privdrop_result res = { 0 };

	int r = vip_privdrop(&sec, &needs, &res);
	if (r < 0)
		fprintf(stderr, "FAIL drop: %s\n", res.error);
	return r;
}

static void check_status(const char *out, const struct passwd *pw)
{
	char buf[128], want[128];

	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", pw->pw_uid, pw->pw_uid, pw->pw_uid, pw->pw_uid);
	CHECK(field(out, "Uid", buf, sizeof(buf)) && strcmp(buf, want) == 0, "Uid %s, want %s",
	      field(out, "Uid", buf, sizeof(buf)) ? buf : "(none)", want);
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", pw->pw_gid, pw->pw_gid, pw->pw_gid, pw->pw_gid);
	CHECK(field(out, "Gid", buf, sizeof(buf)) && strcmp(buf, want) == 0, "Gid %s, want %s",
	      field(out, "Gid", buf, sizeof(buf)) ? buf : "(none)", want);
	for (const char *const *n = (const char *const[]){ "CapInh", "CapPrm", "CapEff", "CapAmb", NULL }; *n;
	     n++)
		CHECK(field(out, *n, buf, sizeof(buf)) && strcmp(buf, "0000000000000000") == 0, "%s %s", *n,
		      field(out, *n, buf, sizeof(buf)) ? buf : "(none)");
	CHECK(field(out, "NoNewPrivs", buf, sizeof(buf)) && strcmp(buf, "1") == 0, "NoNewPrivs %s",
	      field(out, "NoNewPrivs", buf, sizeof(buf)) ? buf : "(none)");
}

/* cap_net_admin inheritable and ambient in this process. 0 or -errno. */
static int raise_ambient(void)
{
	cap_t caps = cap_get_proc();
	cap_value_t v = CAP_NET_ADMIN;
	int r = 0;

	if (!caps || cap_set_flag(caps, CAP_INHERITABLE, 1, &v, CAP_SET) < 0 || cap_set_proc(caps) < 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0) < 0)
		r = -errno;
	cap_free(caps);
	return r;
}

/* A control: exec grep directly (fork, execv, no runner) and return its CapAmb line value. */
static uint64_t plain_exec_ambient(void)
{
	int p[2];
	char out[2048] = "", buf[64];

	if (pipe(p) < 0)
		return 0;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execl("/bin/grep", "grep", "^CapAmb:", "/proc/self/status", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	ssize_t n = pid > 0 ? read(p[0], out, sizeof(out) - 1) : -1;
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return field(out, "CapAmb", buf, sizeof(buf)) ? strtoull(buf, NULL, 16) : 0;
}

/* In the forked child: namespace, drop, runner. Exits with the number of failures. */
static __attribute__((noreturn)) void child(const struct passwd *pw)
{
	struct loop *l = NULL;
	struct vipd_runner *r = NULL;
	struct outcome o;

	alarm(60);
	if (unshare(CLONE_NEWNET) < 0 || drop(pw) < 0)
		_exit(100);
	uint64_t eff = own_effective();
	CHECK((eff & (BIT(CAP_NET_ADMIN) | BIT(CAP_NET_RAW))) == (BIT(CAP_NET_ADMIN) | BIT(CAP_NET_RAW)),
	      "the dropped process must keep cap_net_admin and cap_net_raw: CapEff %016llx",
	      (unsigned long long)eff);
	CHECK(geteuid() == pw->pw_uid, "euid %u", geteuid());
	if (loop_new(&l) < 0 || vipd_runner_new(l, &r) < 0)
		_exit(101);

	const char *const status[] = { "/bin/grep", "-E",
				       "^(Uid|Gid|CapInh|CapPrm|CapEff|CapAmb|NoNewPrivs):",
				       "/proc/self/status", NULL };
	CHECK(run(l, r, status, &o) == 0, "running grep");
	CHECK(o.outcome == VIPD_RUNNER_EXITED && o.exit_status == 0, "grep: outcome %d status %d", o.outcome,
	      o.exit_status);
	check_status(o.output, pw);

	/* now with an ambient capability in the parent: the control keeps it, the runner does not */
	CHECK(raise_ambient() == 0, "raising cap_net_admin to ambient: %s", strerror(errno));
	CHECK(plain_exec_ambient() == BIT(CAP_NET_ADMIN),
	      "control: a plain exec must keep the ambient capability");
	CHECK(run(l, r, status, &o) == 0, "running grep");
	check_status(o.output, pw);

	const char *ip = access("/usr/sbin/ip", X_OK) == 0 ? "/usr/sbin/ip" : "/sbin/ip";
	const char *const link_add[] = { ip, "link", "add", "hrd0", "type", "dummy", NULL };
	CHECK(run(l, r, link_add, &o) == 0, "running ip");
	CHECK(o.outcome == VIPD_RUNNER_EXITED && o.exit_status != 0, "ip link add: outcome %d status %d",
	      o.outcome, o.exit_status);
	CHECK(strstr(o.output, "Operation not permitted") != NULL, "ip link add said: %s", o.output);

	vipd_runner_free(r);
	loop_free(l);
	_exit(failures > 99 ? 99 : failures);
}

int main(void)
{
	nstest_require_root();
	struct passwd *pw = getpwnam("ecuser");
	if (!pw) {
		const char *req = getenv("VIPD_REQUIRE_NETNS");
		fprintf(stderr, "%s: no user ecuser\n", req && strcmp(req, "1") == 0 ? "FAIL" : "SKIP");
		return req && strcmp(req, "1") == 0 ? 1 : 77;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0)
		child(pw);

	int st = 0;
	pid_t w = 0;
	for (int i = 0; i < 700 && (w = waitpid(pid, &st, WNOHANG)) == 0; i++)
		usleep(100000);
	if (w == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		fprintf(stderr, "FAIL: the dropped child did not finish in 70 s\n");
		return 1;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "FAIL: child %s %d\n", WIFEXITED(st) ? "exited" : "killed by",
			WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		return 1;
	}
	printf("ok: commands run with no capabilities, no_new_privs and the Security user's ids\n");
	return 0;
}

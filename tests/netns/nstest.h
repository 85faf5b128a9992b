/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the netns suite: each test makes its own network namespaces,
 * named with its pid so parallel tests never meet, and deletes them at exit.
 *
 *   nstest_require_root()   exit 77 (skip) without CAP_NET_ADMIN, unless
 *                           VIPD_REQUIRE_NETNS=1 (tools/check as root), then fail.
 *   nstest_netns_add(tag)   create "vt-<pid>-<tag>", remembered for cleanup;
 *                           returns the name.
 *   nstest_enter(name)      setns() this thread into a named namespace.
 *   nstest_sh(fmt, ...)     run a shell command, return its exit status.
 *   nstest_cleanup()        delete every namespace made (also run atexit).
 */
#ifndef VIP_NSTEST_H
#define VIP_NSTEST_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/wait.h>
#include <unistd.h>

#define NSTEST_MAX 16

static char nstest_names[NSTEST_MAX][64];
static int nstest_count;

static inline __attribute__((format(printf, 1, 2))) int nstest_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	if (st == -1)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static inline void nstest_cleanup(void)
{
	for (int i = nstest_count - 1; i >= 0; i--)
		nstest_sh("ip netns del %s 2>/dev/null", nstest_names[i]);
	nstest_count = 0;
}

static inline void nstest_require_root(void)
{
	cap_t caps = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;
	if (caps)
		cap_get_flag(caps, CAP_NET_ADMIN, CAP_EFFECTIVE, &v);
	cap_free(caps);
	if (v == CAP_SET && geteuid() == 0)
		return;
	const char *req = getenv("VIPD_REQUIRE_NETNS");
	if (req && strcmp(req, "1") == 0) {
		fprintf(stderr, "netns test needs root with CAP_NET_ADMIN, and VIPD_REQUIRE_NETNS=1\n");
		exit(1);
	}
	fprintf(stderr, "SKIP: needs root with CAP_NET_ADMIN\n");
	exit(77);
}

static inline const char *nstest_netns_add(const char *tag)
{
	if (nstest_count == 0)
		atexit(nstest_cleanup);
	if (nstest_count >= NSTEST_MAX)
		return NULL;
	char *name = nstest_names[nstest_count];
	snprintf(name, sizeof(nstest_names[0]), "vt-%d-%s", (int)getpid(), tag);
	if (nstest_sh("ip netns add %s", name) != 0)
		return NULL;
	nstest_count++;
	return name;
}

static inline int nstest_enter(const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = setns(fd, CLONE_NEWNET);
	int e = errno;
	close(fd);
	return r < 0 ? -e : 0;
}

#endif

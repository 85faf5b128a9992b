/* SPDX-License-Identifier: MIT */
/* The parts of the privilege drop that Linux and Solaris share. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privdrop-internal.h"

void vip_privdrop_msg(struct vip_privdrop_result *ret, int prio, const char *fmt, ...)
{
	va_list ap;

	if (ret->n_msgs >= VIP_PRIVDROP_MAX_MSGS)
		return;
	struct vip_privdrop_msg *m = &ret->msgs[ret->n_msgs++];
	m->prio = prio;
	va_start(ap, fmt);
	vsnprintf(m->text, sizeof(m->text), fmt, ap);
	va_end(ap);
}

int vip_privdrop_fail(struct vip_privdrop_result *ret, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ret->error, sizeof(ret->error), fmt, ap);
	va_end(ap);
	size_t at = strlen(ret->error);
	snprintf(ret->error + at, sizeof(ret->error) - at, ": %s", strerror(-r));
	return r;
}

int vip_privdrop_chroot(const char *dir, struct vip_privdrop_result *ret)
{
	struct stat st;

	if (!dir)
		return 0;
	if (stat(dir, &st) < 0)
		return vip_privdrop_fail(ret, negerrno(), "chroot %s: stat", dir);
	if (!S_ISDIR(st.st_mode))
		return vip_privdrop_fail(ret, -ENOTDIR, "chroot %s", dir);
	if (st.st_uid != 0)
		return vip_privdrop_fail(ret, -EPERM, "chroot %s: owned by uid %u, not root", dir,
					 (unsigned)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return vip_privdrop_fail(ret, -EPERM, "chroot %s: mode %04o is writable by group or others",
					 dir, (unsigned)(st.st_mode & 07777));
	if (chroot(dir) < 0)
		return vip_privdrop_fail(ret, negerrno(), "chroot(%s)", dir);
	if (chdir("/") < 0)
		return vip_privdrop_fail(ret, negerrno(), "chdir(/) in %s", dir);
	return 0;
}

/* Close every descriptor >= from (but keep) one by one, from /proc's list or up to the limit. */
static int close_each(int from, int keep)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	long max;

	if (d) {
		int dfd = dirfd(d), n = 0;
		int fds[1024];

		/* Collected first: closing while reading the folder would disturb it. */
		while ((de = readdir(d)) && n < (int)ARRAY_SIZE(fds)) {
			char *end;
			long v = strtol(de->d_name, &end, 10);

			if (*end == '\0' && end != de->d_name && v >= from && v != keep && v != dfd &&
			    v <= INT_MAX)
				fds[n++] = (int)v;
		}
		closedir(d);
		for (int i = 0; i < n; i++)
			(void)close(fds[i]);
		if (n < (int)ARRAY_SIZE(fds))
			return 0;
	}
	/* No /proc (or more than we listed): every number up to the limit, bounded. */
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 1L << 20)
		max = 1L << 20;
	for (long fd = from; fd < max; fd++)
		if (fd != keep)
			(void)close((int)fd);
	return 0;
}

int vip_close_inherited(int from, int keep)
{
	int r = 0;

	if (from < 3)
		return -EINVAL;
	if (keep >= from) {
		if (keep > from)
			r = close_range((unsigned)from, (unsigned)keep - 1, 0);
		if (r == 0)
			r = close_range((unsigned)keep + 1, ~0u, 0);
	} else {
		r = close_range((unsigned)from, ~0u, 0);
	}
	if (r == 0)
		return 0;
	/* An old kernel (ENOSYS) or a seccomp filter: the slow way, never "kept". */
	return close_each(from, keep);
}

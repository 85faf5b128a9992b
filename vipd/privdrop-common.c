// SPDX-License-Identifier: MIT
/* The parts of the privilege drop that Linux and Solaris share. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
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
		return vip_privdrop_fail(ret, -EPERM,
					 "chroot %s: mode %04o is writable by group or others", dir,
					 (unsigned)(st.st_mode & 07777));
	if (chroot(dir) < 0)
		return vip_privdrop_fail(ret, negerrno(), "chroot(%s)", dir);
	if (chdir("/") < 0)
		return vip_privdrop_fail(ret, negerrno(), "chdir(/) in %s", dir);
	return 0;
}

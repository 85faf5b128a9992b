// SPDX-License-Identifier: MIT
/*
 * vipd/privdrop (Solaris / illumos): the same interface as privdrop.c, with
 * privilege sets instead of capabilities. Security { privileges } goes
 * through priv_str_to_set() and setppriv() on the permitted, limit and
 * effective sets, in that order; Security { capabilities } is Linux's and is
 * ignored here. Unlike Linux, a privilege the process does not hold is an
 * error (setppriv fails), not a warning; needs is not checked by bit.
 *
 * UNTESTED: meson compiles this file only when host_machine.system() is
 * 'sunos', and the project has no Solaris build machine. It has never been
 * compiled; treat its first build there as a port, not as a release.
 */
#include <errno.h>
#include <grp.h>
#include <priv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "privdrop.h"

static void _printf_(3, 4) msg(struct vip_privdrop_result *ret, int prio, const char *fmt, ...)
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

static int _printf_(3, 4) fail(struct vip_privdrop_result *ret, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ret->error, sizeof(ret->error), fmt, ap);
	va_end(ap);
	size_t at = strlen(ret->error);
	snprintf(ret->error + at, sizeof(ret->error) - at, ": %s", strerror(-r));
	return r;
}

/* Step 1, as on Linux: a root-owned directory nobody else can write. */
static int step_chroot(const char *dir, struct vip_privdrop_result *ret)
{
	struct stat st;

	if (!dir)
		return 0;
	if (stat(dir, &st) < 0)
		return fail(ret, negerrno(), "chroot %s: stat", dir);
	if (!S_ISDIR(st.st_mode))
		return fail(ret, -ENOTDIR, "chroot %s", dir);
	if (st.st_uid != 0)
		return fail(ret, -EPERM, "chroot %s: owned by uid %u, not root", dir,
			    (unsigned)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return fail(ret, -EPERM, "chroot %s: mode %04o is writable by group or others", dir,
			    (unsigned)(st.st_mode & 07777));
	if (chroot(dir) < 0)
		return fail(ret, negerrno(), "chroot(%s)", dir);
	if (chdir("/") < 0)
		return fail(ret, negerrno(), "chdir(/) in %s", dir);
	return 0;
}

/* Groups, then the user; PRIV_AWARE first so setuid() keeps the sets. */
static int step_identity(const struct vipd_security *sec, struct vip_privdrop_result *ret)
{
	if (setpflags(PRIV_AWARE, 1) < 0)
		return fail(ret, negerrno(), "setpflags(PRIV_AWARE, 1)");
	if (setgroups((int)sec->n_supplemental, sec->n_supplemental ? sec->supplemental_gids : NULL) < 0)
		return fail(ret, negerrno(), "setgroups(%zu groups)", sec->n_supplemental);
	if (setgid(sec->gid) < 0)
		return fail(ret, negerrno(), "setgid(%u)", (unsigned)sec->gid);
	if (sec->uid == 0)
		return 0;
	if (setuid(sec->uid) < 0)
		return fail(ret, negerrno(), "setuid(%u)", (unsigned)sec->uid);
	ret->changed_uid = true;
	return 0;
}

/* Permitted, limit, effective, in that order; then read them back. */
static int step_privs(priv_set_t *want, const char *text, struct vip_privdrop_result *ret)
{
	static const struct {
		priv_ptype_t type;
		const char *name;
	} sets[] = {
		{ PRIV_PERMITTED, "permitted" },
		{ PRIV_LIMIT, "limit" },
		{ PRIV_EFFECTIVE, "effective" },
	};
	priv_set_t *got = priv_allocset();
	int r = 0;

	if (!got)
		return fail(ret, -ENOMEM, "priv_allocset()");
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]) && r == 0; i++)
		if (setppriv(PRIV_SET, sets[i].type, want) < 0)
			r = fail(ret, negerrno(), "setppriv(PRIV_SET, %s, \"%s\")", sets[i].name, text);
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]) && r == 0; i++) {
		if (getppriv(sets[i].type, got) < 0)
			r = fail(ret, negerrno(), "getppriv(%s)", sets[i].name);
		else if (!priv_isequalset(got, want))
			r = fail(ret, -EPERM, "read back %s set differs from \"%s\"", sets[i].name, text);
	}
	priv_freeset(got);
	return r;
}

static int verify_ids(const struct vipd_security *sec, struct vip_privdrop_result *ret)
{
	if (getuid() != sec->uid || geteuid() != sec->uid)
		return fail(ret, -EPERM, "read back uid %u/%u, expected %u", (unsigned)getuid(),
			    (unsigned)geteuid(), (unsigned)sec->uid);
	if (getgid() != sec->gid || getegid() != sec->gid)
		return fail(ret, -EPERM, "read back gid %u/%u, expected %u", (unsigned)getgid(),
			    (unsigned)getegid(), (unsigned)sec->gid);
	if (sec->uid != 0 && setuid(0) == 0)
		return fail(ret, -EPERM, "setuid(0) succeeded after the drop to uid %u",
			    (unsigned)sec->uid);
	return 0;
}

void vip_privdrop_needs_from_config(_unused_ const struct vipd_config *cfg,
				    struct vip_privdrop_needs *ret)
{
	/* Solaris names privileges, not Linux capabilities: nothing to check by bit */
	*ret = (struct vip_privdrop_needs){ 0 };
}

int vip_privdrop(const struct vipd_security *sec, _unused_ const struct vip_privdrop_needs *needs,
		 struct vip_privdrop_result *ret)
{
	priv_set_t *want = NULL;
	const char *end = NULL;
	int r;

	*ret = (struct vip_privdrop_result){ 0 };
	if (sec->capabilities)
		msg(ret, LOG_DEBUG, "capabilities \"%s\" are Linux's: ignored here", sec->capabilities);
	if (geteuid() != 0) {
		msg(ret, LOG_WARNING, "already running as uid %u: no privilege drop possible",
		    (unsigned)geteuid());
		return 0;
	}
	if (sec->privileges) {
		want = priv_str_to_set(sec->privileges, ",", &end);
		if (!want)
			return fail(ret, -EINVAL, "priv_str_to_set(\"%s\") near \"%s\"",
				    sec->privileges, end ? end : "");
	} else if (sec->uid != 0) {
		msg(ret, LOG_WARNING, "no privileges listed: user %s keeps none",
		    sec->user ? sec->user : "?");
		want = priv_allocset();
		if (!want)
			return fail(ret, -ENOMEM, "priv_allocset()");
		priv_emptyset(want);
	}
	r = step_chroot(sec->chroot, ret);
	if (r == 0)
		r = step_identity(sec, ret);
	if (r == 0 && want)
		r = step_privs(want, sec->privileges ? sec->privileges : "", ret);
	if (r == 0)
		r = verify_ids(sec, ret);
	if (want)
		priv_freeset(want);
	return r;
}

int vip_privdrop_identity(char **ret)
{
	priv_set_t *eff = priv_allocset();

	if (!eff)
		return -ENOMEM;
	if (getppriv(PRIV_EFFECTIVE, eff) < 0) {
		int r = negerrno();
		priv_freeset(eff);
		return r;
	}
	char *text = priv_set_to_str(eff, ',', PRIV_STR_PORT);
	priv_freeset(eff);
	if (!text)
		return -ENOMEM;
	char *line = NULL;
	int r = asprintf(&line, "uid=%u/%u gid=%u/%u privileges=\"%s\"", (unsigned)getuid(),
			 (unsigned)geteuid(), (unsigned)getgid(), (unsigned)getegid(), text);
	free(text);
	if (r < 0)
		return -ENOMEM;
	*ret = line;
	return 0;
}

/* SPDX-License-Identifier: MIT */
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

#include "privdrop-internal.h"

/* Groups, then the user; PRIV_AWARE first so setuid() keeps the sets. */
static int step_identity(const struct vipd_security *sec, struct vip_privdrop_result *ret)
{
	if (setpflags(PRIV_AWARE, 1) < 0)
		return vip_privdrop_fail(ret, negerrno(), "setpflags(PRIV_AWARE, 1)");
	if (setgroups((int)sec->n_supplemental, sec->n_supplemental ? sec->supplemental_gids : NULL) < 0)
		return vip_privdrop_fail(ret, negerrno(), "setgroups(%zu groups)", sec->n_supplemental);
	if (setgid(sec->gid) < 0)
		return vip_privdrop_fail(ret, negerrno(), "setgid(%u)", (unsigned)sec->gid);
	if (sec->uid == 0)
		return 0;
	if (setuid(sec->uid) < 0)
		return vip_privdrop_fail(ret, negerrno(), "setuid(%u)", (unsigned)sec->uid);
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
		return vip_privdrop_fail(ret, -ENOMEM, "priv_allocset()");
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]) && r == 0; i++)
		if (setppriv(PRIV_SET, sets[i].type, want) < 0)
			r = vip_privdrop_fail(ret, negerrno(), "setppriv(PRIV_SET, %s, \"%s\")", sets[i].name,
					      text);
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]) && r == 0; i++) {
		if (getppriv(sets[i].type, got) < 0)
			r = vip_privdrop_fail(ret, negerrno(), "getppriv(%s)", sets[i].name);
		else if (!priv_isequalset(got, want))
			r = vip_privdrop_fail(ret, -EPERM, "read back %s set differs from \"%s\"",
					      sets[i].name, text);
	}
	priv_freeset(got);
	return r;
}

static int verify_ids(const struct vipd_security *sec, struct vip_privdrop_result *ret)
{
	if (getuid() != sec->uid || geteuid() != sec->uid)
		return vip_privdrop_fail(ret, -EPERM, "read back uid %u/%u, expected %u", (unsigned)getuid(),
					 (unsigned)geteuid(), (unsigned)sec->uid);
	if (getgid() != sec->gid || getegid() != sec->gid)
		return vip_privdrop_fail(ret, -EPERM, "read back gid %u/%u, expected %u", (unsigned)getgid(),
					 (unsigned)getegid(), (unsigned)sec->gid);
	if (sec->uid != 0 && setuid(0) == 0)
		return vip_privdrop_fail(ret, -EPERM, "setuid(0) succeeded after the drop to uid %u",
					 (unsigned)sec->uid);
	return 0;
}

void vip_privdrop_needs_from_config(_unused_ const struct vipd_config *cfg, struct vip_privdrop_needs *ret)
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
		vip_privdrop_msg(ret, LOG_DEBUG, "capabilities \"%s\" are Linux's: ignored here",
				 sec->capabilities);
	if (geteuid() != 0) {
		vip_privdrop_msg(ret, LOG_WARNING, "already running as uid %u: no privilege drop possible",
				 (unsigned)geteuid());
		return 0;
	}
	if (sec->privileges) {
		want = priv_str_to_set(sec->privileges, ",", &end);
		if (!want)
			return vip_privdrop_fail(ret, -EINVAL, "priv_str_to_set(\"%s\") near \"%s\"",
						 sec->privileges, end ? end : "");
	} else if (sec->uid != 0) {
		vip_privdrop_msg(ret, LOG_WARNING, "no privileges listed: user %s keeps none",
				 sec->user ? sec->user : "?");
		want = priv_allocset();
		if (!want)
			return vip_privdrop_fail(ret, -ENOMEM, "priv_allocset()");
		priv_emptyset(want);
	}
	r = vip_privdrop_chroot(sec->chroot, ret);
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

/* SPDX-License-Identifier: MIT */
/* The wrapped calls of test-privdrop.c: see fake-privdrop.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sys/capability.h>
#include <sys/prctl.h>

#include "fake-privdrop.h"

struct fake f;

void fake_reset(uint64_t bnd)
{
	memset(&f, 0, sizeof(f));
	f.prm = f.eff = f.bnd = bnd;
	f.st.st_mode = S_IFDIR | 0755;
	f.n_groups = 1; /* root's own group list: [0] */
}

/* Log a call; the same call twice in a row is logged once. Returns -1 to fail it. */
static int _printf_(1, 2) called(const char *fmt, ...)
{
	char entry[48];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(entry, sizeof(entry), fmt, ap);
	va_end(ap);
	if (f.n_log == 0 || strcmp(f.log[f.n_log - 1], entry) != 0) {
		assert_true(f.n_log < ARRAY_SIZE(f.log));
		strcpy(f.log[f.n_log++], entry);
	}
	if (f.fail && strcmp(f.fail, entry) == 0) {
		errno = f.fail_errno;
		return -1;
	}
	return 0;
}

static bool lie(enum tamper t)
{
	return f.dropped && f.tamper == t;
}

static int deny(int e)
{
	errno = e;
	return -1;
}

/* ---- the wrapped calls ---- */
int __wrap_prctl(int option, ...);
int __wrap_stat(const char *path, struct stat *st);
int __wrap_stat64(const char *path, struct stat *st);
int __wrap_chroot(const char *path);
int __wrap_chdir(const char *path);
int __wrap_setgroups(size_t n, const gid_t *list);
int __wrap_setresgid(gid_t r, gid_t e, gid_t s);
int __wrap_setresuid(uid_t r, uid_t e, uid_t s);
int __wrap_getresuid(uid_t *r, uid_t *e, uid_t *s);
int __wrap_getresgid(gid_t *r, gid_t *e, gid_t *s);
int __wrap_getgroups(int size, gid_t *list);
uid_t __wrap_geteuid(void);
int __wrap_cap_set_proc(cap_t caps);
cap_t __wrap_cap_get_proc(void);
cap_value_t __wrap_cap_max_bits(void);

static int prctl_set(int option, unsigned long a2, unsigned long a3)
{
	switch (option) {
	case PR_SET_SECUREBITS:
		if (called("PR_SET_SECUREBITS") < 0)
			return -1;
		if (!(f.eff & B(CAP_SETPCAP)))
			return deny(EPERM);
		f.securebits = (int)a2;
		return 0;
	case PR_CAPBSET_DROP:
		if (called("PR_CAPBSET_DROP") < 0)
			return -1;
		if (!(f.eff & B(CAP_SETPCAP)))
			return deny(EPERM);
		f.bnd &= ~B(a2);
		return 0;
	case PR_SET_KEEPCAPS:
		if (called("PR_SET_KEEPCAPS") < 0)
			return -1;
		f.keepcaps = (int)a2;
		return 0;
	case PR_CAP_AMBIENT:
		assert_int_equal(a2, PR_CAP_AMBIENT_CLEAR_ALL);
		return called("PR_CAP_AMBIENT_CLEAR_ALL");
	case PR_SET_NO_NEW_PRIVS:
		if (called("PR_SET_NO_NEW_PRIVS") < 0)
			return -1;
		f.nnp = (int)a2;
		f.dropped = true;
		return 0;
	}
	(void)a3;
	fail_msg("unexpected prctl %d", option);
	return -1;
}

int __wrap_prctl(int option, ...)
{
	va_list ap;

	va_start(ap, option);
	unsigned long a2 = va_arg(ap, unsigned long), a3 = va_arg(ap, unsigned long);
	va_end(ap);
	switch (option) {
	case PR_CAPBSET_READ: /* not logged: read once per capability */
		if (a2 >= NCAPS)
			return deny(EINVAL);
		return !!((lie(T_BND) ? f.bnd | B(CAP_SYS_ADMIN) : f.bnd) & B(a2));
	case PR_GET_SECUREBITS:
		if (called("PR_GET_SECUREBITS") < 0)
			return -1;
		return lie(T_SECUREBITS) ? 0 : f.securebits;
	case PR_GET_NO_NEW_PRIVS:
		if (called("PR_GET_NO_NEW_PRIVS") < 0)
			return -1;
		return lie(T_NNP) ? 0 : f.nnp;
	}
	return prctl_set(option, a2, a3);
}

cap_value_t __wrap_cap_max_bits(void)
{
	return NCAPS;
}

int __wrap_stat(const char *path, struct stat *st)
{
	if (called("stat(%s)", path) < 0)
		return -1;
	if (f.stat_errno)
		return deny(f.stat_errno);
	*st = f.st;
	return 0;
}

/* meson builds with _FILE_OFFSET_BITS=64: glibc then calls stat64 */
int __wrap_stat64(const char *path, struct stat *st)
{
	return __wrap_stat(path, st);
}

int __wrap_chroot(const char *path)
{
	if (called("chroot(%s)", path) < 0)
		return -1;
	return f.eff & B(CAP_SYS_CHROOT) ? 0 : deny(EPERM);
}

int __wrap_chdir(const char *path)
{
	return called("chdir(%s)", path);
}

int __wrap_setgroups(size_t n, const gid_t *list)
{
	if (called("setgroups(%zu)", n) < 0)
		return -1;
	if (!(f.eff & B(CAP_SETGID)))
		return deny(EPERM);
	assert_true(n <= ARRAY_SIZE(f.groups));
	if (n)
		memcpy(f.groups, list, n * sizeof(*list));
	f.n_groups = n;
	return 0;
}

int __wrap_setresgid(gid_t r, gid_t e, gid_t s)
{
	if (called("setresgid(%u,%u,%u)", r, e, s) < 0)
		return -1;
	if (!(f.eff & B(CAP_SETGID)))
		return deny(EPERM);
	f.gid[0] = r, f.gid[1] = e, f.gid[2] = s;
	return 0;
}

int __wrap_setresuid(uid_t r, uid_t e, uid_t s)
{
	if (called("setresuid(%u,%u,%u)", r, e, s) < 0)
		return -1;
	if (!(f.eff & B(CAP_SETUID)) && !f.root_hole)
		return deny(EPERM);
	bool had_root = f.uid[0] == 0 || f.uid[1] == 0 || f.uid[2] == 0;
	f.uid[0] = r, f.uid[1] = e, f.uid[2] = s;
	/* the kernel's fixup: leaving uid 0 clears the sets unless keepcaps */
	if (had_root && r && e && s) {
		f.eff = 0;
		if (!f.keepcaps)
			f.prm = 0;
	}
	return 0;
}

int __wrap_getresuid(uid_t *r, uid_t *e, uid_t *s)
{
	if (called("getresuid") < 0)
		return -1;
	*r = f.uid[0], *e = f.uid[1], *s = lie(T_UID) ? 0 : f.uid[2];
	return 0;
}

int __wrap_getresgid(gid_t *r, gid_t *e, gid_t *s)
{
	if (called("getresgid") < 0)
		return -1;
	*r = lie(T_GID) ? 0 : f.gid[0], *e = f.gid[1], *s = f.gid[2];
	return 0;
}

int __wrap_getgroups(int size, gid_t *list)
{
	if (called("getgroups") < 0)
		return -1;
	int n = (int)f.n_groups + lie(T_GROUPS_MORE);
	if (size == 0)
		return n;
	if (size < n)
		return deny(EINVAL);
	memcpy(list, f.groups, f.n_groups * sizeof(*list));
	if (lie(T_GROUPS_MORE) || lie(T_GROUPS_OTHER))
		list[n - 1] = 4242;
	return n;
}

uid_t __wrap_geteuid(void)
{
	called("geteuid");
	return f.uid[1];
}

static uint64_t mask_of(cap_t caps, cap_flag_t flag)
{
	uint64_t m = 0;
	for (unsigned c = 0; c < 64; c++) {
		cap_flag_value_t v = CAP_CLEAR;
		if (cap_get_flag(caps, (cap_value_t)c, flag, &v) == 0 && v == CAP_SET)
			m |= B(c);
	}
	return m;
}

int __wrap_cap_set_proc(cap_t caps)
{
	if (called("cap_set_proc") < 0)
		return -1;
	uint64_t p = mask_of(caps, CAP_PERMITTED), e = mask_of(caps, CAP_EFFECTIVE);
	if ((p & ~f.prm) || (e & ~p))
		return deny(EPERM);
	f.prm = p, f.eff = e, f.inh = mask_of(caps, CAP_INHERITABLE);
	return 0;
}

cap_t __wrap_cap_get_proc(void)
{
	if (called("cap_get_proc") < 0)
		return NULL;
	cap_t caps = cap_init();
	assert_non_null(caps);
	uint64_t sets[3] = { f.prm | (lie(T_PRM) ? B(CAP_SYS_ADMIN) : 0),
			     f.eff & ~(lie(T_EFF) ? B(CAP_NET_ADMIN) : 0),
			     f.inh | (lie(T_INH) ? B(CAP_NET_RAW) : 0) };
	cap_flag_t flags[3] = { CAP_PERMITTED, CAP_EFFECTIVE, CAP_INHERITABLE };
	for (unsigned i = 0; i < 3; i++)
		for (unsigned c = 0; c < 64; c++) {
			cap_value_t v = (cap_value_t)c;
			if (sets[i] & B(c))
				assert_int_equal(cap_set_flag(caps, flags[i], 1, &v, CAP_SET), 0);
		}
	return caps;
}

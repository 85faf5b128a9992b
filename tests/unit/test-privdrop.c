/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of vipd/privdrop.c against the kernel model of fake-privdrop.c,
 * and of the "Security changes need a restart" rule of vip_config_diff().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <linux/securebits.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <syslog.h>

#include "fake-privdrop.h"

/* ---- the Security stanzas ---- */
static gid_t sup_gids[2] = { 4000, 4001 };
static char *sup_names[2] = { "wheel", "adm" };

/* Momentum's cluster stanza, with two supplemental groups and a chroot. */
static struct vipd_security cluster_sec(void)
{
	return (struct vipd_security){
		.user = "ecuser",
		.uid = 998,
		.group = "ecuser",
		.gid = 997,
		.capabilities = CLUSTER_TEXT,
		.cap_permitted = CLUSTER_CAPS,
		.cap_effective = CLUSTER_CAPS,
		.chroot = "/var/empty",
		.supplemental_groups = sup_names,
		.supplemental_gids = sup_gids,
		.n_supplemental = 2,
	};
}

static const struct vip_privdrop_needs needs = { .caps = NEEDS };

static void assert_log(const char *const *want)
{
	size_t n = 0;
	for (; want[n]; n++) {
		if (n >= f.n_log || strcmp(f.log[n], want[n]) != 0)
			fail_msg("call %zu: got \"%s\", want \"%s\"", n, n < f.n_log ? f.log[n] : "(end)",
				 want[n]);
	}
	if (n != f.n_log)
		fail_msg("%zu calls, want %zu; first extra \"%s\"", f.n_log, n, f.log[n]);
}

static bool logged(const char *entry)
{
	for (size_t i = 0; i < f.n_log; i++)
		if (strcmp(f.log[i], entry) == 0)
			return true;
	return false;
}

static bool has_msg(const struct vip_privdrop_result *r, int prio, const char *text)
{
	for (size_t i = 0; i < r->n_msgs; i++)
		if (r->msgs[i].prio == prio && strstr(r->msgs[i].text, text))
			return true;
	return false;
}

/* ---- the drop in order ---- */
static void test_order_full_bounding(void **state _unused_)
{
	static const char *const want[] = {
		"geteuid",
		"stat(/var/empty)",
		"chroot(/var/empty)",
		"chdir(/)",
		"PR_GET_SECUREBITS",
		"PR_SET_SECUREBITS",
		"PR_CAPBSET_DROP",
		"PR_SET_KEEPCAPS",
		"setgroups(2)",
		"setresgid(997,997,997)",
		"setresuid(998,998,998)",
		"cap_set_proc",
		"PR_CAP_AMBIENT_CLEAR_ALL",
		"PR_SET_NO_NEW_PRIVS",
		"getresuid",
		"getresgid",
		"getgroups",
		"cap_get_proc",
		"PR_GET_NO_NEW_PRIVS",
		"PR_GET_SECUREBITS",
		"setresuid(0,0,0)",
		NULL,
	};
	struct vipd_security sec = cluster_sec();
	struct vip_privdrop_result res;

	fake_reset(ALL_CAPS); /* a fresh user namespace: the bounding set is full */
	assert_int_equal(vip_privdrop(&sec, &needs, &res), 0);
	assert_log(want);
	assert_int_equal(res.n_msgs, 0);
	assert_true(res.changed_uid);
	assert_true(f.uid[0] == 998 && f.uid[1] == 998 && f.uid[2] == 998);
	assert_true(f.gid[0] == 997 && f.gid[1] == 997 && f.gid[2] == 997);
	assert_int_equal(f.n_groups, 2);
	assert_true(f.groups[0] == 4000 && f.groups[1] == 4001);
	assert_int_equal(f.prm, CLUSTER_CAPS);
	assert_int_equal(f.eff, CLUSTER_CAPS);
	assert_int_equal(f.inh, 0);
	assert_int_equal(f.bnd, CLUSTER_CAPS);
	assert_int_equal(f.nnp, 1);
	assert_int_equal(f.securebits, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED);
	assert_int_equal(res.kept_permitted, CLUSTER_CAPS);
	assert_int_equal(res.kept_effective, CLUSTER_CAPS);
}

/* This machine: cap_sys_resource is outside the bounding set. */
static void test_outside_bounding_warns_keeps_rest(void **state _unused_)
{
	struct vipd_security sec = cluster_sec();
	struct vip_privdrop_result res;
	uint64_t three = CLUSTER_CAPS & ~B(CAP_SYS_RESOURCE);

	fake_reset(ALL_CAPS & ~B(CAP_SYS_RESOURCE));
	assert_int_equal(vip_privdrop(&sec, &needs, &res), 0);
	assert_int_equal(res.n_msgs, 1);
	assert_int_equal(res.msgs[0].prio, LOG_WARNING);
	assert_string_equal(res.msgs[0].text, "capabilities outside this process's bounding set "
					      "cannot be kept: cap_sys_resource");
	assert_int_equal(f.prm, three);
	assert_int_equal(f.eff, three);
	assert_int_equal(f.bnd, three);
	assert_int_equal(res.kept_permitted, three);
}

static void test_needed_outside_bounding_is_error(void **state _unused_)
{
	struct vipd_security sec = cluster_sec();
	struct vip_privdrop_result res;

	fake_reset(ALL_CAPS & ~B(CAP_NET_ADMIN) & ~B(CAP_SYS_RESOURCE));
	assert_int_equal(vip_privdrop(&sec, &needs, &res), -EPERM);
	assert_string_equal(res.error, "needed capabilities outside the bounding set "
				       "(cap_net_admin): Operation not permitted");
	assert_true(has_msg(&res, LOG_WARNING, "cannot be kept: cap_net_admin cap_sys_resource"));
	static const char *const want[] = { "geteuid", NULL }; /* nothing changed */
	assert_log(want);
	assert_int_equal(f.uid[1], 0);
}

static void test_needed_not_listed_is_error(void **state _unused_)
{
	struct vipd_security sec = cluster_sec();
	struct vip_privdrop_result res;

	sec.capabilities = "cap_net_admin+ep cap_net_raw+p";
	fake_reset(ALL_CAPS);
	assert_int_equal(vip_privdrop(&sec, &needs, &res), -EPERM);
	assert_string_equal(res.error, "needed capabilities not kept by Security { capabilities } "
				       "(cap_net_raw): Operation not permitted");
	assert_int_equal(f.n_log, 1);
}

static void test_unknown_capability(void **state _unused_)
{
	struct vipd_security sec = cluster_sec();
	struct vip_privdrop_result res;

	sec.capabilities = "cap_net_admin+ep cap_bogus+ep";
	fake_reset(ALL_CAPS);
	assert_int_equal(vip_privdrop(&sec, &needs, &res), -EINVAL);
	assert_string_equal(res.error, "cap_from_text(\"cap_net_admin+ep cap_bogus+ep\"): "
				       "Invalid argument");
	assert_int_equal(f.n_log, 0);
}

/* ---- step 1: chroot ---- */
static void chroot_refused(mode_t mode, uid_t owner, int err, int want_r, const char *want)
{
	struct vipd_security sec = cluster_sec();
	struct vip_privdrop_result res;

	fake_reset(ALL_CAPS);
	f.st.st_mode = mode;
	f.st.st_uid = owner;
	f.stat_errno = err;
	assert_int_equal(vip_privdrop(&sec, &needs, &res), want_r);
	assert_string_equal(res.error, want);
	assert_false(logged("chroot(/var/empty)"));
	assert_string_equal(f.log[f.n_log - 1], "stat(/var/empty)");
}

static void test_chroot_refused(void **state _unused_)
{
	chroot_refused(S_IFDIR | 0775, 0, 0, -EPERM,
		       "chroot /var/empty: mode 0775 is writable by "
		       "group or others: Operation not permitted");
	chroot_refused(S_IFDIR | 0757, 0, 0, -EPERM,
		       "chroot /var/empty: mode 0757 is writable by "
		       "group or others: Operation not permitted");
	chroot_refused(S_IFDIR | 0755, 1000, 0, -EPERM,
		       "chroot /var/empty: owned by uid 1000, not "
		       "root: Operation not permitted");
	chroot_refused(S_IFREG | 0644, 0, 0, -ENOTDIR, "chroot /var/empty: Not a directory");
	chroot_refused(0, 0, ENOENT, -ENOENT, "chroot /var/empty: stat: No such file or directory");
}

static void test_no_chroot(void **state _unused_)
{
	struct vipd_security sec = cluster_sec();
	struct vip_privdrop_result res;

	sec.chroot = NULL;
	fake_reset(ALL_CAPS);
	assert_int_equal(vip_privdrop(&sec, &needs, &res), 0);
	assert_false(logged("stat(/var/empty)"));
	assert_false(logged("chdir(/)"));
	assert_string_equal(f.log[1], "PR_GET_SECUREBITS");
}

/* ---- every step failing: the error names it, nothing runs after it ---- */
static const struct {
	const char *call;
	int err;
	const char *error;
} step_failures[] = {
	{ "chroot(/var/empty)", EPERM, "chroot(/var/empty): Operation not permitted" },
	{ "chdir(/)", EACCES, "chdir(/) in /var/empty: Permission denied" },
	{ "PR_GET_SECUREBITS", EINVAL, "prctl(PR_GET_SECUREBITS): Invalid argument" },
	{ "PR_SET_SECUREBITS", EPERM, "prctl(PR_SET_SECUREBITS, 0x3): Operation not permitted" },
	{ "PR_CAPBSET_DROP", EPERM, "prctl(PR_CAPBSET_DROP, cap_chown): Operation not permitted" },
	{ "PR_SET_KEEPCAPS", EINVAL, "prctl(PR_SET_KEEPCAPS, 1): Invalid argument" },
	{ "setgroups(2)", EPERM, "setgroups(2 groups): Operation not permitted" },
	{ "setresgid(997,997,997)", EPERM, "setresgid(997): Operation not permitted" },
	{ "setresuid(998,998,998)", EPERM, "setresuid(998): Operation not permitted" },
	{ "cap_set_proc", EPERM,
	  "cap_set_proc(\"cap_net_bind_service,cap_net_admin,cap_net_raw,"
	  "cap_sys_resource=ep\"): Operation not permitted" },
	{ "PR_CAP_AMBIENT_CLEAR_ALL", EINVAL, "prctl(PR_CAP_AMBIENT_CLEAR_ALL): Invalid argument" },
	{ "PR_SET_NO_NEW_PRIVS", EINVAL, "prctl(PR_SET_NO_NEW_PRIVS, 1): Invalid argument" },
	{ "getresuid", EFAULT, "getresuid(): Bad address" },
	{ "getresgid", EFAULT, "getresgid(): Bad address" },
	{ "getgroups", EINVAL, "getgroups(): Invalid argument" },
	{ "cap_get_proc", ENOMEM, "cap_get_proc(): Cannot allocate memory" },
	{ "PR_GET_NO_NEW_PRIVS", EINVAL, "prctl(PR_GET_NO_NEW_PRIVS): Invalid argument" },
};

static void test_each_step_fails_closed(void **state _unused_)
{
	for (size_t i = 0; i < ARRAY_SIZE(step_failures); i++) {
		struct vipd_security sec = cluster_sec();
		struct vip_privdrop_result res;

		fake_reset(ALL_CAPS);
		f.fail = step_failures[i].call;
		f.fail_errno = step_failures[i].err;
		print_message("failing %s\n", f.fail);
		assert_int_equal(vip_privdrop(&sec, &needs, &res), -step_failures[i].err);
		assert_string_equal(res.error, step_failures[i].error);
		assert_string_equal(f.log[f.n_log - 1], step_failures[i].call);
	}
}

/* Without CAP_SETPCAP effective, NOROOT cannot be locked: an error, not a skip. */
static void test_no_setpcap_is_error(void **state _unused_)
{
	struct vipd_security sec = cluster_sec();
	struct vip_privdrop_result res;

	fake_reset(ALL_CAPS);
	f.eff &= ~B(CAP_SETPCAP);
	assert_int_equal(vip_privdrop(&sec, &needs, &res), -EPERM);
	assert_string_equal(res.error, "prctl(PR_SET_SECUREBITS, 0x3): Operation not permitted");
	assert_false(logged("setresuid(998,998,998)"));
}

/* ---- step 5: whatever reads back differently is fatal ---- */
static const struct {
	enum tamper t;
	const char *error;
} readback[] = {
	{ T_UID, "read back uid 998/998/0, expected 998" },
	{ T_GID, "read back gid 0/997/997, expected 997" },
	{ T_GROUPS_MORE, "read back groups (4000,4001,4242), expected (4000,4001)" },
	{ T_GROUPS_OTHER, "read back groups (4000,4242), expected (4000,4001)" },
	{ T_PRM, "read back permitted (cap_net_bind_service cap_net_admin cap_net_raw cap_sys_admin "
		 "cap_sys_resource), expected (cap_net_bind_service cap_net_admin cap_net_raw "
		 "cap_sys_resource)" },
	{ T_EFF, "read back effective (cap_net_bind_service cap_net_raw cap_sys_resource), expected "
		 "(cap_net_bind_service cap_net_admin cap_net_raw cap_sys_resource)" },
	{ T_INH, "read back inheritable (cap_net_raw), expected none" },
	{ T_BND, "read back bounding set (cap_net_bind_service cap_net_admin cap_net_raw "
		 "cap_sys_admin cap_sys_resource), expected (cap_net_bind_service cap_net_admin "
		 "cap_net_raw cap_sys_resource)" },
	{ T_NNP, "read back no_new_privs 0, expected 1" },
	{ T_SECUREBITS, "read back securebits 0x0, expected noroot and its lock" },
};

static void test_readback_mismatch(void **state _unused_)
{
	for (size_t i = 0; i < ARRAY_SIZE(readback); i++) {
		struct vipd_security sec = cluster_sec();
		struct vip_privdrop_result res;
		char want[VIP_PRIVDROP_MSG_LEN];

		fake_reset(ALL_CAPS);
		f.tamper = readback[i].t;
		print_message("tamper %d\n", readback[i].t);
		assert_int_equal(vip_privdrop(&sec, &needs, &res), -EPERM);
		snprintf(want, sizeof(want), "%s: Operation not permitted", readback[i].error);
		assert_string_equal(res.error, want);
		assert_false(logged("setresuid(0,0,0)"));
	}
}

/* ---- step 6: the way back to root must be closed ---- */
static void test_setresuid0_succeeding_is_fatal(void **state _unused_)
{
	struct vipd_security sec = cluster_sec();
	struct vip_privdrop_result res;

	fake_reset(ALL_CAPS);
	f.root_hole = true;
	assert_int_equal(vip_privdrop(&sec, &needs, &res), -EPERM);
	assert_string_equal(res.error, "setresuid(0,0,0) succeeded after the drop to uid 998: "
				       "Operation not permitted");
	assert_string_equal(f.log[f.n_log - 1], "setresuid(0,0,0)");
}

/* ---- user = root ---- */
static void test_root_with_caps(void **state _unused_)
{
	struct vipd_security sec = cluster_sec();
	struct vip_privdrop_result res;

	sec.user = "root", sec.uid = 0, sec.group = "root", sec.gid = 0;
	sec.n_supplemental = 0, sec.chroot = NULL;
	fake_reset(ALL_CAPS);
	assert_int_equal(vip_privdrop(&sec, &needs, &res), 0);
	assert_true(has_msg(&res, LOG_WARNING,
			    "user root with capabilities: root loses its access "
			    "to every file not covered by a listed capability"));
	assert_false(res.changed_uid);
	for (size_t i = 0; i < f.n_log; i++)
		assert_null(strstr(f.log[i], "setresuid"));
	assert_true(f.uid[0] == 0 && f.uid[1] == 0 && f.uid[2] == 0);
	assert_int_equal(f.prm, CLUSTER_CAPS);
	assert_int_equal(f.eff, CLUSTER_CAPS);
	assert_int_equal(f.bnd, CLUSTER_CAPS);
	assert_int_equal(f.n_groups, 0);
	assert_int_equal(f.securebits, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED);
	assert_int_equal(f.nnp, 1);
}

static void test_root_without_caps_keeps_all(void **state _unused_)
{
	struct vipd_security sec = { .user = "root", .uid = 0, .group = "root", .gid = 0 };
	struct vip_privdrop_result res;
	uint64_t start = ALL_CAPS & ~B(CAP_SYS_RESOURCE);

	fake_reset(start);
	assert_int_equal(vip_privdrop(&sec, &needs, &res), 0);
	assert_true(has_msg(&res, LOG_WARNING,
			    "user root without capabilities: vipd keeps every "
			    "capability"));
	assert_false(logged("PR_CAPBSET_DROP"));
	assert_false(logged("PR_SET_SECUREBITS"));
	assert_int_equal(f.prm, start);
	assert_int_equal(f.eff, start);
	assert_int_equal(f.bnd, start);
	assert_int_equal(res.kept_permitted, start);

	/* keeping everything still cannot keep what the bounding set lacks */
	fake_reset(start & ~B(CAP_NET_ADMIN));
	assert_int_equal(vip_privdrop(&sec, &needs, &res), -EPERM);
	assert_string_equal(res.error, "needed capabilities outside the bounding set "
				       "(cap_net_admin): Operation not permitted");
}

/* A non-root user without a capabilities list keeps none; needing one is an error. */
static void test_user_without_caps(void **state _unused_)
{
	struct vipd_security sec = cluster_sec();
	struct vip_privdrop_result res;
	const struct vip_privdrop_needs none = { 0 };

	sec.capabilities = NULL;
	fake_reset(ALL_CAPS);
	assert_int_equal(vip_privdrop(&sec, &needs, &res), -EPERM);
	assert_string_equal(res.error, "needed capabilities not kept by Security { capabilities } "
				       "(cap_net_admin cap_net_raw): Operation not permitted");
	fake_reset(ALL_CAPS);
	assert_int_equal(vip_privdrop(&sec, &none, &res), 0);
	assert_int_equal(f.prm | f.eff | f.bnd, 0);
	assert_int_equal(f.uid[2], 998);
}

/* ---- already non-root at the start ---- */
static void test_already_unprivileged(void **state _unused_)
{
	struct vipd_security sec = cluster_sec();
	struct vip_privdrop_result res;

	fake_reset(0);
	f.uid[0] = f.uid[1] = f.uid[2] = 998;
	f.prm = f.eff = B(CAP_NET_ADMIN) | B(CAP_NET_RAW);
	f.bnd = ALL_CAPS;
	assert_int_equal(vip_privdrop(&sec, &needs, &res), 0);
	assert_true(has_msg(&res, LOG_WARNING,
			    "already running as uid 998: no privilege drop "
			    "possible"));
	assert_true(has_msg(&res, LOG_WARNING,
			    "listed capabilities this process does not have: "
			    "cap_net_bind_service cap_sys_resource"));
	static const char *const want[] = { "geteuid", "cap_get_proc", "geteuid", NULL };
	assert_log(want);

	f.eff = B(CAP_NET_ADMIN); /* cap_net_raw permitted, not effective */
	assert_int_equal(vip_privdrop(&sec, &needs, &res), -EPERM);
	assert_string_equal(res.error, "already running as uid 998, no privilege drop possible: "
				       "missing needed capabilities (cap_net_raw): Operation not permitted");
}

/* ---- the rest of the stanza ---- */
static void test_privileges_and_inheritable(void **state _unused_)
{
	struct vipd_security sec = cluster_sec();
	struct vip_privdrop_result res;

	sec.privileges = "basic,net_rawaccess";
	sec.capabilities = "cap_net_admin,cap_net_raw+eip";
	fake_reset(ALL_CAPS);
	assert_int_equal(vip_privdrop(&sec, &needs, &res), 0);
	assert_int_equal(res.n_msgs, 2);
	assert_int_equal(res.msgs[0].prio, LOG_DEBUG);
	assert_string_equal(res.msgs[0].text, "privileges \"basic,net_rawaccess\" is for Solaris: "
					      "ignored on Linux");
	assert_int_equal(res.msgs[1].prio, LOG_WARNING);
	assert_string_equal(res.msgs[1].text, "capabilities: inheritable flags ignored "
					      "(cap_net_admin cap_net_raw): vipd keeps nothing inheritable");
	assert_int_equal(f.inh, 0);
	assert_int_equal(f.prm, NEEDS);
}

static void test_empty_groups(void **state _unused_)
{
	struct vipd_security sec = cluster_sec();
	struct vip_privdrop_result res;

	sec.n_supplemental = 0;
	fake_reset(ALL_CAPS);
	assert_int_equal(vip_privdrop(&sec, &needs, &res), 0);
	assert_true(logged("setgroups(0)"));
	assert_int_equal(f.n_groups, 0);
}

static void test_identity_text(void **state _unused_)
{
	struct vipd_security sec = cluster_sec();
	struct vip_privdrop_result res;
	_cleanup_free_ char *line = NULL;

	fake_reset(ALL_CAPS);
	assert_int_equal(vip_privdrop(&sec, &needs, &res), 0);
	assert_int_equal(vip_privdrop_identity(&line), 0);
	assert_string_equal(line,
			    "uid=998/998/998 gid=997/997/997 groups=4000,4001 "
			    "caps=\"cap_net_bind_service,cap_net_admin,cap_net_raw,cap_sys_resource=ep\" "
			    "bounding=cap_net_bind_service cap_net_admin cap_net_raw cap_sys_resource "
			    "no_new_privs=1");
}

static void test_needs_from_config(void **state _unused_)
{
	struct vipd_duravip dv = { 0 };
	struct vipd_config cfg = { .security = cluster_sec() };
	struct vip_privdrop_needs n;

	vip_privdrop_needs_from_config(&cfg, &n);
	assert_int_equal(n.caps, 0); /* no DuraVIPs: nothing needed */
	cfg.duravips = &dv, cfg.n_duravips = 1;
	vip_privdrop_needs_from_config(&cfg, &n);
	assert_int_equal(n.caps, NEEDS);
	cfg.security.cap_permitted = B(CAP_NET_ADMIN); /* cap_net_raw not listed: no announcing */
	vip_privdrop_needs_from_config(&cfg, &n);
	assert_int_equal(n.caps, B(CAP_NET_ADMIN));
	cfg.security.capabilities = NULL;
	vip_privdrop_needs_from_config(&cfg, &n);
	assert_int_equal(n.caps, NEEDS);
}

/* ---- a Security change needs a restart, never a live apply ---- */
static void test_security_change_needs_restart(void **state _unused_)
{
	static gid_t other_gids[2] = { 4000, 4002 };
	static char *other_names[2] = { "wheel", "staff" };
	struct vipd_config a = { .security = cluster_sec() }, b;

	assert_true(VIP_CHANGE_SECURITY & VIP_CHANGE_NEEDS_RESTART);
	b = a;
	assert_int_equal(vip_config_diff(&a, &b), 0);
	b.security.src_capabilities.line = 42; /* moved, not changed */
	assert_int_equal(vip_config_diff(&a, &b), 0);

	for (unsigned i = 0; i < 11; i++) {
		b = a;
		struct vipd_security *s = &b.security;
		switch (i) {
		case 0:
			s->user = "nobody";
			break;
		case 1:
			s->uid = 65534;
			break;
		case 2:
			s->group = "nogroup";
			break;
		case 3:
			s->gid = 65534;
			break;
		case 4:
			s->capabilities = "cap_net_admin+ep";
			break;
		case 5:
			s->cap_permitted &= ~B(CAP_NET_RAW);
			break;
		case 6:
			s->cap_effective = 0;
			break;
		case 7:
			s->privileges = "basic";
			break;
		case 8:
			s->chroot = NULL;
			break;
		case 9:
			s->supplemental_groups = other_names;
			break;
		case 10:
			s->supplemental_gids = other_gids;
			break;
		}
		print_message("security field %u\n", i);
		assert_int_equal(vip_config_diff(&a, &b), VIP_CHANGE_SECURITY);
	}
	b = a;
	b.security.n_supplemental = 1;
	assert_int_equal(vip_config_diff(&a, &b) & VIP_CHANGE_NEEDS_RESTART, VIP_CHANGE_SECURITY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_full_bounding),
		cmocka_unit_test(test_outside_bounding_warns_keeps_rest),
		cmocka_unit_test(test_needed_outside_bounding_is_error),
		cmocka_unit_test(test_needed_not_listed_is_error),
		cmocka_unit_test(test_unknown_capability),
		cmocka_unit_test(test_chroot_refused),
		cmocka_unit_test(test_no_chroot),
		cmocka_unit_test(test_each_step_fails_closed),
		cmocka_unit_test(test_no_setpcap_is_error),
		cmocka_unit_test(test_readback_mismatch),
		cmocka_unit_test(test_setresuid0_succeeding_is_fatal),
		cmocka_unit_test(test_root_with_caps),
		cmocka_unit_test(test_root_without_caps_keeps_all),
		cmocka_unit_test(test_user_without_caps),
		cmocka_unit_test(test_already_unprivileged),
		cmocka_unit_test(test_privileges_and_inheritable),
		cmocka_unit_test(test_empty_groups),
		cmocka_unit_test(test_identity_text),
		cmocka_unit_test(test_needs_from_config),
		cmocka_unit_test(test_security_change_needs_restart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * Control { admin_group }: parsing, errors with file:line:col, the --check
 * output with its origin, the diff on reload (live); names a running
 * configuration resolved keep their ids on reload (no name service inside a
 * chroot); loading inside a chroot (outside names, inside opens).
 */
#include "conf-schema-helpers.h"

#include <grp.h>

static void test_control_default(void **state _unused_)
{
	struct vip_conf_diag d = { 0 };
	struct vipd_config *cfg = expect_ok("Security { user = root group = root }\n", &d);

	assert_null(cfg->control.admin_group);
	assert_string_equal(src_text(&cfg->control.src_admin_group), "default");
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

static void test_control_admin_group(void **state _unused_)
{
	struct vip_conf_diag d = { 0 };
	struct vipd_config *cfg = expect_ok("Security { user = root group = root }\n"
					    "Control {\n  admin_group = 4711\n}\n"
					    "control { admin_group = root }\n",
					    &d);

	/* The later setting wins; names resolve (root is gid 0). */
	assert_string_equal(cfg->control.admin_group, "root");
	assert_int_equal(cfg->control.admin_gid, 0);
	assert_string_equal(src_text(&cfg->control.src_admin_group), "t.conf:5");
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);

	cfg = expect_ok("Security { user = root group = root }\nControl { admin_group = 4711 }\n", &d);
	assert_string_equal(cfg->control.admin_group, "4711");
	assert_int_equal(cfg->control.admin_gid, 4711);
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);

	/* "" is none, said explicitly. */
	cfg = expect_ok("Security { user = root group = root }\nControl { admin_group = 4711 }\n"
			"Control { admin_group = \"\" }\n",
			&d);
	assert_null(cfg->control.admin_group);
	assert_string_equal(src_text(&cfg->control.src_admin_group), "t.conf:3");
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

static void test_control_errors(void **state _unused_)
{
	expect_error(
		"Security { user = root group = root }\nControl {\n  admin_group = no-such-group-vipd\n}\n",
		"t.conf:3:17: error: admin_group 'no-such-group-vipd' does not exist");
	expect_error("Security { user = root group = root }\nControl { admin_group = ( root adm ) }\n",
		     "t.conf:2:25: error: admin_group must be a single value, not a list");
}

static void test_control_print(void **state _unused_)
{
	struct vip_conf_diag d = { 0 };
	struct vipd_config
		*cfg = expect_ok("Security { user = root group = root }\nControl { admin_group = 4711 }\n",
				 &d);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_int_equal(vip_config_print(cfg, &d, f), 0);
	fclose(f);
	assert_non_null(strstr(out, "\nControl "));
	assert_non_null(strstr(out, "  admin_group                4711 (gid 4711)"));
	assert_non_null(strstr(out, "t.conf:2\n"));
	free(out);
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

static void test_control_diff_live(void **state _unused_)
{
	struct vip_conf_diag d = { 0 };
	struct vipd_config *a = expect_ok("Security { user = root group = root }\n", &d);
	struct vipd_config
		*b = expect_ok("Security { user = root group = root }\nControl { admin_group = 4711 }\n", &d);
	struct vipd_config
		*c = expect_ok("Security { user = root group = root }\n\nControl { admin_group = 4711 }\n",
			       &d);
	unsigned diff = vip_config_diff(a, b);

	assert_int_equal(diff, VIP_CHANGE_CONTROL);
	assert_false(diff & VIP_CHANGE_NEEDS_RESTART);
	assert_int_equal(vip_config_diff(b, c), 0); /* moved to another line: no change */
	vip_config_free(a);
	vip_config_free(b);
	vip_config_free(c);
	vip_conf_diag_clear(&d);
}

/* On reload, names the running configuration resolved need no name service. */
static void test_running_names_kept(void **state _unused_)
{
	struct vip_conf_diag d = { 0 };
	struct vipd_config *run = expect_ok("Security { user = root group = root }\n", &d);
	struct vipd_config *next = NULL;
	const char *
		text = "Security { user = vipd-user-x group = vipd-grp-x supplemental_groups = vipd-sup-x }\n"
		       "Control { admin_group = vipd-adm-x }\n";
	struct vip_config_opts o = test_opts;

	/* As if the running one had resolved them before the chroot. */
	free(run->security.user);
	free(run->security.group);
	run->security.user = strdup("vipd-user-x");
	run->security.uid = 7001;
	run->security.group = strdup("vipd-grp-x");
	run->security.gid = 7002;
	run->security.supplemental_groups = calloc(1, sizeof(char *));
	run->security.supplemental_gids = calloc(1, sizeof(gid_t));
	run->security.supplemental_groups[0] = strdup("vipd-sup-x");
	run->security.supplemental_gids[0] = 7003;
	run->security.n_supplemental = 1;
	run->control.admin_group = strdup("vipd-adm-x");
	run->control.admin_gid = 7004;
	/* Without the running configuration: they do not exist. */
	assert_int_equal(load_text_opts(text, &o, &next, &d), -EINVAL);
	vip_conf_diag_clear(&d);
	o.running = run;
	assert_int_equal(load_text_opts(text, &o, &next, &d), 0);
	assert_int_equal(next->security.uid, 7001);
	assert_int_equal(next->security.gid, 7002);
	assert_int_equal(next->security.supplemental_gids[0], 7003);
	assert_int_equal(next->control.admin_gid, 7004);
	assert_int_equal(vip_config_diff(run, next) & VIP_CHANGE_CONTROL, 0);
	vip_config_free(next);
	vip_config_free(run);
	vip_conf_diag_clear(&d);
}

/*
 * Inside a chroot, emulated: the root /fake-root-vipd does not exist, and
 * the files exist only under their inside names (dir/...). The loader
 * names them /fake-root-vipd/dir/... and must open them as dir/...
 */
static void test_chroot_paths(void **state _unused_)
{
	char *dir = make_tmpdir();
	char main_conf[256], fake_root[32], outside[512];
	struct vip_conf_diag d = { 0 };
	struct vipd_config *cfg = NULL;
	struct vip_config_opts o = test_opts;
	static const char *const names[] = { "ecelerity.conf", "inc.conf" };

	write_file(dir, "ecelerity.conf", "Security { user = root group = root }\ninclude inc.conf\n");
	write_file(dir, "inc.conf", "Control { admin_group = 4711 }\n");
	/* The process "inside" /fake-root-vipd sees dir as dir: names carry that prefix. */
	snprintf(fake_root, sizeof(fake_root), "/fake-root-vipd");
	snprintf(main_conf, sizeof(main_conf), "%s%s/ecelerity.conf", fake_root, dir);
	o.root = fake_root;
	assert_int_equal(vip_config_load(main_conf, &o, &cfg, &d), 0);
	assert_int_equal(cfg->control.admin_gid, 4711);
	/* Diagnostics and origins keep the outside names. */
	assert_string_equal(cfg->path, main_conf);
	assert_string_equal(src_text(&cfg->control.src_admin_group), "inc.conf:1");
	vip_config_free(cfg);
	cfg = NULL;
	vip_conf_diag_clear(&d);
	/* A file outside the root cannot be read there: said so. */
	write_file(dir, "ecelerity.conf",
		   "Security { user = root group = root }\ninclude /etc/vipd-outside.conf\n");
	snprintf(outside, sizeof(outside),
		 "%s%s/ecelerity.conf:2:1: error: '/etc/vipd-outside.conf' is outside the "
		 "chroot /fake-root-vipd, where vipd reads its configuration",
		 fake_root, dir);
	assert_int_equal(vip_config_load(main_conf, &o, &cfg, &d), -EINVAL);
	assert_diag(&d, outside);
	vip_conf_diag_clear(&d);
	rm_tree(dir, names, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control_default),   cmocka_unit_test(test_control_admin_group),
		cmocka_unit_test(test_control_errors),    cmocka_unit_test(test_control_print),
		cmocka_unit_test(test_control_diff_live), cmocka_unit_test(test_running_names_kept),
		cmocka_unit_test(test_chroot_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

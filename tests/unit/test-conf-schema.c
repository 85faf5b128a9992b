/* SPDX-License-Identifier: MIT */
/* conf/ schema: the Security stanza, its override rule, and the cluster scope. */
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>

#include "conf-schema-helpers.h"

#define ROOT_SEC "Security { user = root group = root }\n"
#define BIT(c) (UINT64_C(1) << (c))

/* ---- Security ---------------------------------------------------------- */

static void test_security_defaults(void **state)
{
	(void)state;
	struct vip_conf_diag d = { 0 };
	struct vipd_config *cfg = NULL;
	int r = load_text("Spool { Base = /var/spool }\n", &cfg, &d);

	if (getpwnam("ecuser") && getgrnam("ecuser")) {
		assert_int_equal(r, 0);
		assert_string_equal(cfg->security.user, "ecuser");
		assert_string_equal(cfg->security.group, "ecuser");
		assert_int_equal(cfg->security.uid, getpwnam("ecuser")->pw_uid);
		assert_null(cfg->security.capabilities);
		assert_int_equal(cfg->security.cap_permitted, 0);
		assert_int_equal(cfg->security.cap_effective, 0);
		assert_null(cfg->security.privileges);
		assert_null(cfg->security.chroot);
		assert_int_equal(cfg->security.n_supplemental, 0);
		assert_string_equal(src_text(&cfg->security.src_user), "default");
		assert_string_equal(src_text(&cfg->security.src_capabilities), "default");
	} else {
		/* the default must resolve like any other name */
		assert_int_equal(r, -EINVAL);
		assert_diag(&d, "t.conf: error: user 'ecuser' (the default) does not exist: create it or "
				"set Security { user }");
		assert_diag(&d, "t.conf: error: group 'ecuser' (the default) does not exist: create it or "
				"set Security { group }");
	}
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

static void test_security_ids(void **state)
{
	(void)state;
	struct vip_conf_diag d = { 0 };
	struct vipd_config *cfg = expect_ok("Security {\n"
					    "  User = 4242\n"
					    "  GROUP = \"4343\"\n"
					    "  supplemental_groups = ( root 65534 \"4444\" )\n"
					    "}\n",
					    &d);
	const struct vipd_security *s = &cfg->security;

	assert_string_equal(s->user, "4242");
	assert_int_equal(s->uid, 4242);
	assert_string_equal(s->group, "4343");
	assert_int_equal(s->gid, 4343);
	assert_int_equal(s->n_supplemental, 3);
	assert_string_equal(s->supplemental_groups[0], "root");
	assert_int_equal(s->supplemental_gids[0], 0);
	assert_int_equal(s->supplemental_gids[1], 65534);
	assert_int_equal(s->supplemental_gids[2], 4444);
	assert_string_equal(src_text(&s->src_user), "t.conf:2");
	assert_string_equal(src_text(&s->src_group), "t.conf:3");
	assert_string_equal(src_text(&s->src_supplemental_groups), "t.conf:4");
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

static void test_security_names(void **state)
{
	(void)state;
	struct vip_conf_diag d = { 0 };
	struct vipd_config
		*cfg = expect_ok("Security { user = nobody group = root supplemental_groups = root "
				 "privileges = \"basic net_privaddr\" chroot = /var/empty }\n",
				 &d);
	const struct vipd_security *s = &cfg->security;

	assert_int_equal(s->uid, getpwnam("nobody")->pw_uid);
	assert_int_equal(s->gid, 0);
	assert_int_equal(s->n_supplemental, 1);
	assert_int_equal(s->supplemental_gids[0], 0);
	assert_string_equal(s->privileges, "basic net_privaddr");
	assert_string_equal(s->chroot, "/var/empty");
	assert_string_equal(src_text(&s->src_chroot), "t.conf:1");
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

static void test_security_errors(void **state)
{
	(void)state;
	expect_error("Security {\n  user = no-such-user-vipd\n  group = root\n}\n",
		     "t.conf:2:10: error: user 'no-such-user-vipd' does not exist");
	expect_error("Security {\n  user = root\n  group = no-such-group-vipd\n}\n",
		     "t.conf:3:11: error: group 'no-such-group-vipd' does not exist");
	expect_error(
		"Security { user = root group = root\n  supplemental_groups = ( root nosuchgrp-vipd )\n}\n",
		"t.conf:2:32: error: supplemental group 'nosuchgrp-vipd' does not exist");
	expect_error("Security { user = root group = root supplemental_groups = nosuchgrp-vipd }\n",
		     "t.conf:1:59: error: supplemental group 'nosuchgrp-vipd' does not exist");
	expect_error("Security { user = ( root nobody ) group = root }\n",
		     "t.conf:1:19: error: user must be a single value, not a list");
	expect_error("Security { user = root group = [ a = b ] }\n",
		     "t.conf:1:32: error: group must be a single value, not a dictionary");
	expect_error("Security { user = root group = root supplemental_groups = ( ( root ) ) }\n",
		     "t.conf:1:61: error: supplemental_groups must list group names or ids");
	expect_error("Security { user = root group = root\n  capabilities = \"cap_bogus+ep\"\n}\n",
		     "t.conf:2:18: error: libcap cannot parse capabilities \"cap_bogus+ep\"");
	expect_error("Security { user = root group = root chroot = var/empty }\n",
		     "t.conf:1:46: error: chroot 'var/empty' must be an absolute path");
}

static void test_security_capabilities(void **state)
{
	(void)state;
	struct vip_conf_diag d = { 0 };
	struct vipd_config
		*cfg = expect_ok("Security { user = nobody group = 65534\n"
				 "  Capabilities = \"cap_net_admin+ep cap_net_raw+p cap_sys_resource=ep\"\n"
				 "}\n",
				 &d);
	const struct vipd_security *s = &cfg->security;

	assert_string_equal(s->capabilities, "cap_net_admin+ep cap_net_raw+p cap_sys_resource=ep");
	assert_int_equal(s->cap_permitted, BIT(CAP_NET_ADMIN) | BIT(CAP_NET_RAW) | BIT(CAP_SYS_RESOURCE));
	assert_int_equal(s->cap_effective, BIT(CAP_NET_ADMIN) | BIT(CAP_SYS_RESOURCE));
	assert_string_equal(src_text(&s->src_capabilities), "t.conf:2");
	assert_int_equal(d.n, 0);
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

static void test_security_root_caps_warning(void **state)
{
	(void)state;
	struct vip_conf_diag d = { 0 };
	struct vipd_config *cfg = expect_ok("Security { user = root group = root\n"
					    "  capabilities = \"cap_net_admin+ep\"\n}\n",
					    &d);

	assert_int_equal(d.n, 1);
	assert_diag(&d, "t.conf:2:18: warning: user root with capabilities: root loses its access to "
			"every file not covered by a listed capability");
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);

	/* numeric 0 is root too; without capabilities there is nothing to warn about */
	cfg = expect_ok("Security { user = 0 group = 0 capabilities = cap_net_raw+ep }\n", &d);
	assert_int_equal(d.n, 1);
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
	cfg = expect_ok(ROOT_SEC, &d);
	assert_int_equal(d.n, 0);
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

/* Override: ecelerity-cluster.conf wins wherever the include stands. */
static void check_override(bool include_first)
{
	static const char *const names[] = { "ecelerity.conf", "ecelerity-cluster.conf" };
	char *dir = make_tmpdir();
	char main_text[1024], path[PATH_MAX];
	const char *sec = "Security {\n"
			  "  user = 1001\n"
			  "  group = 1001\n"
			  "  capabilities = \"cap_net_bind_service+ep\"\n"
			  "  chroot = /var/empty\n"
			  "}\n";

	snprintf(main_text, sizeof(main_text), "%s%s%s",
		 include_first ? "include \"ecelerity-cluster.conf\"\n" : "", sec,
		 include_first ? "" : "include \"ecelerity-cluster.conf\"\n");
	write_file(dir, names[0], main_text);
	write_file(dir, names[1],
		   "security {\n"
		   "  user = 2002\n"
		   "  capabilities = \"cap_net_admin+ep cap_net_raw+ep\"\n"
		   "}\n"
		   "Security { privileges = basic }\n");
	snprintf(path, sizeof(path), "%s/ecelerity.conf", dir);

	struct vip_conf_diag d = { 0 };
	struct vipd_config *cfg = NULL;
	int r = vip_config_load(path, &test_opts, &cfg, &d);
	if (r < 0)
		dump_diag(&d);
	assert_int_equal(r, 0);
	const struct vipd_security *s = &cfg->security;
	unsigned off = include_first ? 1 : 0;
	char want[64];

	assert_int_equal(s->uid, 2002);
	assert_string_equal(src_text(&s->src_user), "ecelerity-cluster.conf:2");
	assert_int_equal(s->gid, 1001); /* left out of the cluster file: the main file's value */
	snprintf(want, sizeof(want), "ecelerity.conf:%u", 3 + off);
	assert_string_equal(src_text(&s->src_group), want);
	assert_string_equal(s->capabilities, "cap_net_admin+ep cap_net_raw+ep");
	assert_int_equal(s->cap_permitted, BIT(CAP_NET_ADMIN) | BIT(CAP_NET_RAW));
	assert_string_equal(src_text(&s->src_capabilities), "ecelerity-cluster.conf:3");
	assert_string_equal(s->privileges, "basic");
	assert_string_equal(src_text(&s->src_privileges), "ecelerity-cluster.conf:5");
	assert_string_equal(s->chroot, "/var/empty");
	assert_null(s->src_supplemental_groups.file); /* set nowhere: the default */
	assert_string_equal(src_text(&s->src_supplemental_groups), "default");
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
	rm_tree(dir, names, 2);
}

static void test_security_override(void **state)
{
	(void)state;
	check_override(false);
	check_override(true);
}

static void test_security_later_wins(void **state)
{
	(void)state;
	struct vip_conf_diag d = { 0 };
	struct vipd_config *cfg = expect_ok("Security { user = 1 group = 1 }\n"
					    "Security { user = 2 }\n",
					    &d);

	assert_int_equal(cfg->security.uid, 2);
	assert_string_equal(src_text(&cfg->security.src_user), "t.conf:2");
	assert_int_equal(cfg->security.gid, 1);
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

static void test_security_duravip_caps(void **state)
{
	(void)state;
	static const char vip[] = "Binding \"b\" { Bind_Address = 198.51.100.1 Enable_Duravip = true }\n";
	char text[512];
	struct vip_conf_diag d = { 0 };

	snprintf(text, sizeof(text),
		 "Security { user = nobody group = 65534\n"
		 "  capabilities = \"cap_net_raw+ep cap_net_bind_service+ep\" }\n%s",
		 vip);
	expect_error(text, "t.conf:2:18: error: DuraVIPs need cap_net_admin, which user 'nobody' does not "
			   "keep: add cap_net_admin+ep to Security { capabilities }");
	snprintf(text, sizeof(text), "Security { user = nobody group = 65534 }\n%s", vip);
	expect_error(text, "t.conf:2: error: DuraVIPs need cap_net_admin, which user 'nobody' does not "
			   "keep: add cap_net_admin+ep to Security { capabilities }");
	/* root with a capabilities list keeps exactly that list */
	snprintf(text, sizeof(text),
		 "Security { user = root group = root capabilities = cap_net_raw+ep }\n%s", vip);
	expect_error(text, "t.conf:1:52: error: DuraVIPs need cap_net_admin, which user 'root' does not "
			   "keep: add cap_net_admin+ep to Security { capabilities }");

	snprintf(text, sizeof(text),
		 "Security { user = nobody group = 65534 capabilities = cap_net_admin+ep }\n%s", vip);
	struct vipd_config *cfg = expect_ok(text, &d);
	assert_diag(&d, "t.conf:1:55: warning: DuraVIPs are announced with ARP and neighbour "
			"advertisements, which need cap_net_raw: user 'nobody' does not keep it");
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);

	/* root without a list keeps everything; no DuraVIP needs nothing */
	snprintf(text, sizeof(text), ROOT_SEC "%s", vip);
	cfg = expect_ok(text, &d);
	assert_int_equal(d.n, 0);
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
	cfg = expect_ok("Security { user = nobody group = 65534 }\n", &d);
	assert_int_equal(d.n, 0);
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

/* ---- cluster ----------------------------------------------------------- */

static void test_cluster_defaults(void **state)
{
	(void)state;
	struct vip_conf_diag d = { 0 };
	struct vipd_config *cfg = expect_ok(ROOT_SEC, &d);
	const struct vipd_cluster *c = &cfg->cluster;

	assert_false(c->enabled);
	assert_string_equal(c->nodename, "host1");
	assert_string_equal(src_text(&c->src_nodename), "hostname");
	assert_string_equal(c->cluster_group, "ec_cluster");
	assert_string_equal(src_text(&c->src_cluster_group), "default");
	assert_int_equal(c->view_mature_time_ms, 5000);
	assert_int_equal(c->view_balance_interval_ms, 10000);
	assert_int_equal(c->duravip_balance_set_size, 1);
	assert_int_equal(c->if_check_interval_ms, 30000);
	assert_int_equal(c->if_down_limit, 4);
	assert_true(c->arp_all_hosts);
	assert_int_equal(c->quorum_policy, VIP_QUORUM_RELEASE);
	assert_int_equal(c->takeover_guard, VIP_TAKEOVER_DELAY);
	assert_int_equal(c->arp_mode, VIP_ARP_REQUEST);
	assert_int_equal(c->arp_repeat, 5);
	assert_int_equal(c->arp_repeat_interval_ms, 1100);
	assert_int_equal(c->arp_refresh_interval_ms, 0);
	assert_int_equal(c->arp_pace, 0);
	assert_int_equal(c->n_topology, 0);
	assert_string_equal(src_text(&c->src_arp_pace), "default");
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);

	cfg = expect_ok(ROOT_SEC "Cluster { }\n", &d);
	assert_true(cfg->cluster.enabled);
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

static const char *nodename_with(const char *text, const char *env, const char *override, const char *host,
				 char *src, size_t len)
{
	static char name[64];
	struct vip_config_opts o = { .nodename = override, .env_node_name = env, .hostname = host };
	struct vip_conf_diag d = { 0 };
	struct vipd_config *cfg = NULL;

	assert_int_equal(load_text_opts(text, &o, &cfg, &d), 0);
	snprintf(name, sizeof(name), "%s", cfg->cluster.nodename);
	vip_conf_src_format(&cfg->cluster.src_nodename, src, len);
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
	return name;
}

static void test_cluster_nodename(void **state)
{
	(void)state;
	static const char with[] = ROOT_SEC "cluster {\n  nodename = \"n-file\"\n}\n";
	char src[64];

	assert_string_equal(nodename_with(ROOT_SEC, NULL, NULL, "alpha.example.net", src, sizeof(src)),
			    "alpha");
	assert_string_equal(src, "hostname");
	assert_string_equal(nodename_with(ROOT_SEC, "n-env", NULL, "alpha", src, sizeof(src)), "n-env");
	assert_string_equal(src, "EC_NODE_NAME");
	assert_string_equal(nodename_with(with, "n-env", NULL, "alpha", src, sizeof(src)), "n-file");
	assert_string_equal(src, "t.conf:3");
	assert_string_equal(nodename_with(with, "n-env", "n-cli", "alpha", src, sizeof(src)), "n-cli");
	assert_string_equal(src, "--nodename");
	assert_string_equal(nodename_with(ROOT_SEC, "", NULL, "beta", src, sizeof(src)), "beta");

	struct vip_config_opts o = { .hostname = ".example.com" };
	struct vip_conf_diag d = { 0 };
	struct vipd_config *cfg = NULL;
	assert_int_equal(load_text_opts(ROOT_SEC, &o, &cfg, &d), -EINVAL);
	assert_diag(&d,
		    "t.conf: error: cannot use '' from hostname as the node name: set cluster { nodename }");
	vip_conf_diag_clear(&d);
}

static void test_cluster_options(void **state)
{
	(void)state;
	struct vip_conf_diag d = { 0 };
	struct vipd_config
		*cfg = expect_ok(ROOT_SEC "cluster {\n"
					  "  cluster_group = grp1\n"
					  "  view_mature_time = 2.5\n"
					  "  view_balance_interval = 0.25\n"
					  "  duravip_balance_set_size = 3\n"
					  "  if_check_interval = 7\n"
					  "  if_down_limit = 9\n"
					  "  arp_all_hosts = Off\n"
					  "  duravip_quorum_policy = KEEP\n"
					  "  arp_mode = both duravip_takeover_guard = Probe\n"
					  "  arp_repeat = 2\n"
					  "  arp_repeat_interval = 1.005\n"
					  "  arp_refresh_interval = 60\n"
					  "  arp_pace = 100\n"
					  "  unknown_option = ignored\n"
					  "  Mbus { whatever = 1 }\n"
					  "}\n"
					  "cluster { if_down_limit = 10 authkey = \"/etc/vipd/authkey\" }\n",
				 &d);
	const struct vipd_cluster *c = &cfg->cluster;

	assert_string_equal(c->cluster_group, "grp1");
	assert_string_equal(src_text(&c->src_cluster_group), "t.conf:3");
	assert_string_equal(c->authkey, "/etc/vipd/authkey");
	assert_string_equal(src_text(&c->src_authkey), "t.conf:19"); /* a later scope adds to the first */
	assert_int_equal(c->view_mature_time_ms, 2500);
	assert_int_equal(c->view_balance_interval_ms, 250);
	assert_int_equal(c->duravip_balance_set_size, 3);
	assert_int_equal(c->if_check_interval_ms, 7000);
	assert_int_equal(c->if_down_limit, 10); /* the later setting wins */
	assert_string_equal(src_text(&c->src_if_down_limit), "t.conf:19");
	assert_false(c->arp_all_hosts);
	assert_string_equal(src_text(&c->src_arp_all_hosts), "t.conf:9");
	assert_int_equal(c->quorum_policy, VIP_QUORUM_KEEP);
	assert_int_equal(c->takeover_guard, VIP_TAKEOVER_PROBE);
	assert_string_equal(src_text(&c->src_takeover_guard), "t.conf:11");
	assert_int_equal(c->arp_mode, VIP_ARP_BOTH);
	assert_int_equal(c->arp_repeat, 2);
	assert_int_equal(c->arp_repeat_interval_ms, 1005);
	assert_int_equal(c->arp_refresh_interval_ms, 60000);
	assert_int_equal(c->arp_pace, 100);
	assert_string_equal(src_text(&c->src_arp_pace), "t.conf:15");
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);

	cfg = expect_ok(ROOT_SEC "cluster { arp_refresh_interval = 0 arp_mode = reply }\n", &d);
	assert_int_equal(cfg->cluster.arp_refresh_interval_ms, 0);
	assert_int_equal(cfg->cluster.arp_mode, VIP_ARP_REPLY);
	assert_int_equal(cfg->cluster.arp_cache_size, 4096); /* the neighbour cache's defaults */
	assert_int_equal(cfg->cluster.arp_cache_max_age_ms, 600000);
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);

	cfg = expect_ok(ROOT_SEC "cluster { arp_cache_size = 64 arp_cache_max_age = 120 }\n", &d);
	assert_int_equal(cfg->cluster.arp_cache_size, 64);
	assert_int_equal(cfg->cluster.arp_cache_max_age_ms, 120000);
	assert_string_equal(src_text(&cfg->cluster.src_arp_cache_size), "t.conf:2");
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

static void test_cluster_errors(void **state)
{
	(void)state;
	static const struct {
		const char *opt, *line;
	} cases[] = {
		{ "view_mature_time = soon",
		  "t.conf:2:31: error: view_mature_time = 'soon' is not a number of seconds" },
		{ "view_mature_time = 1.2345",
		  "t.conf:2:31: error: view_mature_time = '1.2345' is not a number of seconds" },
		{ "view_mature_time = -1",
		  "t.conf:2:31: error: view_mature_time = '-1' is not a number of seconds" },
		{ "view_mature_time = 5.",
		  "t.conf:2:31: error: view_mature_time = '5.' is not a number of seconds" },
		{ "view_mature_time = 3601",
		  "t.conf:2:31: error: view_mature_time = 3601 is out of range: 0 to 3600 seconds" },
		{ "view_balance_interval = 0",
		  "t.conf:2:36: error: view_balance_interval = 0 is out of range: 0.1 to 3600 seconds" },
		{ "if_check_interval = 99999999999",
		  "t.conf:2:32: error: if_check_interval = 99999999999 is out of range: 0.1 to 3600 seconds" },
		{ "arp_repeat_interval = 0.5",
		  "t.conf:2:34: error: arp_repeat_interval = 0.5 is out of range: 1 to 3600 seconds" },
		{ "arp_refresh_interval = 0.5",
		  "t.conf:2:35: error: arp_refresh_interval = 0.5 is out of range: 0 (off) or 1 to 86400 seconds" },
		{ "duravip_balance_set_size = 0",
		  "t.conf:2:39: error: duravip_balance_set_size = 0 is out of range: 1 to 65535" },
		{ "if_down_limit = many",
		  "t.conf:2:28: error: if_down_limit = 'many' is not a whole number" },
		{ "if_down_limit = 4.5", "t.conf:2:28: error: if_down_limit = '4.5' is not a whole number" },
		{ "arp_repeat = 101", "t.conf:2:25: error: arp_repeat = 101 is out of range: 1 to 100" },
		{ "arp_pace = 1000001",
		  "t.conf:2:23: error: arp_pace = 1000001 is out of range: 0 to 1000000" },
		{ "arp_all_hosts = maybe",
		  "t.conf:2:28: error: arp_all_hosts = 'maybe' is not a boolean (true/false, on/off, yes/no, enabled/disabled, 1/0)" },
		{ "duravip_quorum_policy = hold",
		  "t.conf:2:36: error: duravip_quorum_policy = 'hold' must be release or keep" },
		{ "duravip_takeover_guard = wait",
		  "t.conf:2:37: error: duravip_takeover_guard = 'wait' must be delay or probe" },
		{ "arp_mode = gratuitous",
		  "t.conf:2:23: error: arp_mode = 'gratuitous' must be request, reply or both" },
		{ "if_down_limit = ( 1 2 )",
		  "t.conf:2:28: error: if_down_limit must be a single value, not a list" },
		{ "nodename = \"\"", "t.conf:2:23: error: nodename must not be empty" },
		{ "cluster_group = \"\"", "t.conf:2:28: error: cluster_group must not be empty" },
		{ "authkey = \"\"", "t.conf:2:22: error: authkey must not be empty" },
		{ "authkey = key", "t.conf:2:22: error: authkey 'key' must be an absolute path" },
		{ "arp_cache_size = 0",
		  "t.conf:2:29: error: arp_cache_size = 0 is out of range: 1 to 65536" },
		{ "arp_cache_size = 65537",
		  "t.conf:2:29: error: arp_cache_size = 65537 is out of range: 1 to 65536" },
		{ "arp_cache_max_age = 59",
		  "t.conf:2:32: error: arp_cache_max_age = 59 is out of range: 60 to 86400 seconds" },
	};
	char text[512];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(text, sizeof(text), ROOT_SEC "cluster {  %s\n}\n", cases[i].opt);
		/* every case starts its value after "cluster {  name = " on line 2 */
		expect_error(text, cases[i].line);
	}
	char big[200];
	memset(big, 'g', 128);
	big[128] = '\0';
	snprintf(text, sizeof(text), ROOT_SEC "cluster { cluster_group = %s }\n", big);
	char want[512];
	snprintf(want, sizeof(want), "t.conf:2:27: error: cluster_group '%s' is longer than 127 bytes", big);
	expect_error(text, want);
}

static void test_cluster_topology(void **state)
{
	(void)state;
	struct vip_conf_diag d = { 0 };
	struct vipd_config
		*cfg = expect_ok(ROOT_SEC
				 "cluster {\n"
				 "  Topology \"198.51.100.7/24\" { interface = eth0 }\n"
				 "  topology \"2001:db8::/32\" { interface = \"eth1\" }\n"
				 "  Topology \"203.0.113.0/25\" { interface = bond0.100 cidrmask = 25 }\n"
				 "}\n",
				 &d);
	const struct vipd_cluster *c = &cfg->cluster;
	char buf[VIP_ADDR_STRLEN];

	assert_int_equal(c->n_topology, 3);
	assert_string_equal(vip_addr_to_string(&c->topology[0].network, buf, sizeof(buf)), "198.51.100.0");
	assert_int_equal(c->topology[0].network_len, 24);
	assert_int_equal(c->topology[0].cidrmask, 32);
	assert_string_equal(c->topology[0].interface, "eth0");
	assert_string_equal(src_text(&c->topology[0].src), "t.conf:3");
	assert_int_equal(c->topology[1].cidrmask, 128);
	assert_int_equal(c->topology[2].cidrmask, 25);
	assert_string_equal(c->topology[2].interface, "bond0.100");
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);

	expect_error(ROOT_SEC "cluster {\n  Topology { interface = eth0 }\n}\n",
		     "t.conf:3:3: error: Topology needs a network: Topology \"198.51.100.0/24\" { ... }");
	expect_error(
		ROOT_SEC "cluster {\n  Topology \"198.51.100.0/33\" { interface = eth0 }\n}\n",
		"t.conf:3:3: error: Topology '198.51.100.0/33' is not a network such as 198.51.100.0/24");
	expect_error(ROOT_SEC "cluster {\n  Topology \"eth0\" { interface = eth0 }\n}\n",
		     "t.conf:3:3: error: Topology 'eth0' is not a network such as 198.51.100.0/24");
	expect_error(ROOT_SEC "cluster {\n  Topology \"198.51.100.0/24\" { cidrmask = 32 }\n}\n",
		     "t.conf:3:3: error: Topology 198.51.100.0/24 has no interface");
	expect_error(ROOT_SEC "cluster {\n  Topology \"198.51.100.0/24\" { interface = \"\" }\n}\n",
		     "t.conf:3:44: error: interface '' is not a valid interface name");
	expect_error(ROOT_SEC
		     "cluster {\n  Topology \"198.51.100.0/24\" { interface = a-very-long-name0 }\n}\n",
		     "t.conf:3:44: error: interface 'a-very-long-name0' is not a valid interface name");
	expect_error(ROOT_SEC "cluster {\n  Topology \"198.51.100.0/24\" { interface = \"eth 0\" }\n}\n",
		     "t.conf:3:44: error: interface 'eth 0' is not a valid interface name");
	expect_error(ROOT_SEC
		     "cluster {\n  Topology \"198.51.100.0/24\" { interface = eth0 cidrmask = 33 }\n}\n",
		     "t.conf:3:60: error: cidrmask = 33 is out of range for IPv4: 1 to 32");
	expect_error(ROOT_SEC
		     "cluster {\n  Topology \"2001:db8::/32\" { interface = eth0 cidrmask = 129 }\n}\n",
		     "t.conf:3:58: error: cidrmask = 129 is out of range for IPv6: 1 to 128");
	expect_error(ROOT_SEC
		     "cluster {\n  Topology \"198.51.100.0/24\" { interface = eth0 cidrmask = 0 }\n}\n",
		     "t.conf:3:60: error: cidrmask = 0 is out of range for IPv4: 1 to 32");
	expect_error(ROOT_SEC
		     "cluster {\n  Topology \"198.51.100.0/24\" { interface = eth0 cidrmask = wide }\n}\n",
		     "t.conf:3:60: error: cidrmask = 'wide' is not a whole number");
	expect_error(ROOT_SEC "cluster {\n  Topology \"198.51.100.0/24\" { interface = eth0 }\n"
			      "  Topology \"198.51.100.9/24\" { interface = eth1 }\n}\n",
		     "t.conf:4:3: error: Topology 198.51.100.9/24 is declared twice (first at t.conf:3)");
}

static void test_enum_strings(void **state)
{
	(void)state;
	for (int i = 0; i < _VIP_QUORUM_POLICY_MAX; i++)
		assert_int_equal(vip_quorum_policy_from_string(vip_quorum_policy_to_string(i)), i);
	for (int i = 0; i < _VIP_ARP_MODE_MAX; i++)
		assert_int_equal(vip_arp_mode_from_string(vip_arp_mode_to_string(i)), i);
	assert_string_equal(vip_quorum_policy_to_string(VIP_QUORUM_KEEP), "keep");
	assert_string_equal(vip_arp_mode_to_string(VIP_ARP_REPLY), "reply");
	assert_null(vip_quorum_policy_to_string(_VIP_QUORUM_POLICY_MAX));
	assert_null(vip_arp_mode_to_string(_VIP_ARP_MODE_MAX));
	assert_int_equal(vip_quorum_policy_from_string("Release"), VIP_QUORUM_RELEASE);
	assert_int_equal(vip_quorum_policy_from_string("drop"), -EINVAL);
	assert_int_equal(vip_arp_mode_from_string(NULL), -EINVAL);
	assert_int_equal(vip_arp_mode_from_string(""), -EINVAL);
}

static void test_src_format(void **state)
{
	(void)state;
	char buf[64];
	struct vip_conf_src def = { 0 }, file = { .file = "/etc/x/ecelerity-cluster.conf", .line = 3 },
			    text = { .file = "--nodename", .line = 0 },
			    bare = { .file = "a.conf", .line = 9 };

	assert_string_equal(vip_conf_src_format(&def, buf, sizeof(buf)), "default");
	assert_string_equal(vip_conf_src_format(NULL, buf, sizeof(buf)), "default");
	assert_string_equal(vip_conf_src_format(&file, buf, sizeof(buf)), "ecelerity-cluster.conf:3");
	assert_string_equal(vip_conf_src_format(&text, buf, sizeof(buf)), "--nodename");
	assert_string_equal(vip_conf_src_format(&bare, buf, sizeof(buf)), "a.conf:9");
	vip_config_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_security_defaults),
		cmocka_unit_test(test_security_ids),
		cmocka_unit_test(test_security_names),
		cmocka_unit_test(test_security_errors),
		cmocka_unit_test(test_security_capabilities),
		cmocka_unit_test(test_security_root_caps_warning),
		cmocka_unit_test(test_security_override),
		cmocka_unit_test(test_security_later_wins),
		cmocka_unit_test(test_security_duravip_caps),
		cmocka_unit_test(test_cluster_defaults),
		cmocka_unit_test(test_cluster_nodename),
		cmocka_unit_test(test_cluster_options),
		cmocka_unit_test(test_cluster_errors),
		cmocka_unit_test(test_cluster_topology),
		cmocka_unit_test(test_enum_strings),
		cmocka_unit_test(test_src_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* conf/ schema: the --check printers, vip_config_diff, and the sample configurations in tests/data. */
#include <grp.h>
#include <pwd.h>

#include "conf-schema-helpers.h"
#include "json-check.h"

#define SEC "Security { user = root group = root }\n"

static char *print_to_string(const struct vipd_config *cfg, const struct vip_conf_diag *d, bool json)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(json ? vip_config_print_json(cfg, d, f) : vip_config_print(cfg, d, f), 0);
	fclose(f);
	return out;
}

#define assert_contains(hay, needle)                                              \
	do {                                                                      \
		if (!strstr((hay), (needle)))                                     \
			fail_msg("output lacks \"%s\" in:\n%s", (needle), (hay)); \
	} while (0)

static void test_print_human(void **state)
{
	(void)state;
	struct vip_conf_diag d = { 0 };
	struct vipd_config *cfg =
		expect_ok("Security { user = root group = root\n"
			  "  capabilities = \"cap_net_raw+ep cap_net_admin+ep\" }\n"
			  "cluster { nodename = n1\n  Topology \"198.51.100.0/24\" { interface = eth0 } }\n"
			  "Binding \"a\" { Bind_Address = 198.51.100.1 Enable_Duravip = true }\n",
			  &d);
	char *out = print_to_string(cfg, &d, false);

	assert_contains(out, "Configuration: t.conf\n");
	assert_contains(out, "  user                       root (uid 0)                     t.conf:1\n");
	assert_contains(out, "    kept after the drop      cap_net_admin cap_net_raw\n");
	assert_contains(out, "  chroot                     -                                default\n");
	assert_contains(out, "Cluster: enabled\n");
	assert_contains(out, "  nodename                   n1                               t.conf:3\n");
	assert_contains(out, "  arp_repeat_interval        1.1                              default\n");
	assert_contains(out, "  Topology 198.51.100.0/24   interface eth0 cidrmask 32       t.conf:4\n");
	assert_contains(out, "DuraVIPs: 1\n");
	assert_contains(out,
			"  198.51.100.1/32                eth0       -            -            binding:a\n");
	assert_contains(out, "OK: 1 DuraVIP, 1 warning\n");
	free(out);
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);

	cfg = expect_ok(SEC, &d);
	out = print_to_string(cfg, &d, false);
	assert_contains(out, "    kept after the drop      all (root)\n");
	assert_contains(out, "Cluster: none (a single node that owns every DuraVIP)\n");
	assert_contains(out, "DuraVIPs: 0\n");
	assert_true(strstr(out, "view_mature_time") == NULL);
	free(out);
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

static void test_print_json(void **state)
{
	(void)state;
	struct vip_conf_diag d = { 0 };
	struct vipd_config
		*cfg = expect_ok("Security { user = root group = 0\n"
				 "  capabilities = \"cap_net_raw+p cap_net_admin+ep\"\n"
				 "  privileges = \"tab\\there \\\"quoted\\\" back\\\\slash\" }\n"
				 "cluster { nodename = n1 view_mature_time = 2.5\n"
				 "  Topology \"198.51.100.0/24\" { interface = eth0 } }\n"
				 "Binding \"a\" { Bind_Address = 198.51.100.1 Enable_Duravip = true }\n"
				 "ESMTP_Listener { Listen \"198.51.100.2:25\" { Duravip_Follow = a } }\n",
				 &d);
	char *out = print_to_string(cfg, &d, true);

	assert_contains(
		out,
		"\"user\": {\n      \"value\": \"root\",\n      \"uid\": 0,\n      \"from\": \"t.conf:1\"\n    }");
	assert_contains(out,
			"\"capabilities\": {\n      \"value\": [\n        \"cap_net_admin\"\n      ],\n"
			"      \"text\": \"cap_net_raw+p cap_net_admin+ep\",\n      \"from\": \"t.conf:2\"");
	assert_contains(out,
			"\"privileges\": {\n      \"value\": \"tab\\there \\\"quoted\\\" back\\\\slash\"");
	assert_contains(out, "\"chroot\": {\n      \"value\": null,\n      \"from\": \"default\"\n    }");
	assert_contains(out, "\"supplemental_groups\": {\n      \"value\": [],\n      \"gids\": [],");
	assert_contains(out, "\"enabled\": true,");
	assert_contains(out,
			"\"nodename\": {\n      \"value\": \"n1\",\n      \"from\": \"t.conf:4\"\n    }");
	assert_contains(out, "\"view_mature_time\": {\n      \"value\": 2.5,");
	assert_contains(out, "\"arp_all_hosts\": {\n      \"value\": true,\n      \"from\": \"default\"");
	assert_contains(out, "\"duravip_quorum_policy\": {\n      \"value\": \"release\",");
	assert_contains(out, "\"topology\": [\n      {\n        \"network\": \"198.51.100.0/24\",\n"
			     "        \"interface\": \"eth0\",\n        \"cidrmask\": 32,");
	assert_contains(
		out, "\"address\": \"198.51.100.2\",\n      \"prefix\": 32,\n      \"interface\": \"eth0\",\n"
		     "      \"services\": [\n        \"ESMTP_Listener:198.51.100.2:25\"\n      ],\n"
		     "      \"preference\": null,\n      \"follow\": \"a\",");
	assert_contains(out, "\"warnings\": [\n    \"t.conf:2:18: warning: user root with capabilities: root "
			     "loses its access to every file not covered by a listed capability\"\n  ]\n}\n");
	assert_true(out[0] == '{');
	/* The layout above is checked by text; the document itself by parsing. */
	struct jv *v = json_parse(out);
	assert_non_null(v);
	assert_string_equal(json_str(v, "security.privileges.value"), "tab\there \"quoted\" back\\slash");
	assert_true(json_num(v, "cluster.view_mature_time.value") == 2.5);
	assert_true(json_bool(v, "cluster.enabled"));
	assert_string_equal(json_str(v, "cluster.duravip_takeover_guard.value"), "delay");
	assert_string_equal(json_str(v, "cluster.duravip_takeover_guard.from"), "default");
	assert_string_equal(json_str(v, "duravips.1.follow"), "a");
	json_free(v);
	free(out);
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);

	/* control characters are escaped, never written raw */
	cfg = expect_ok("Security { user = root group = root chroot = \"/a\x01z\" }\n", &d);
	out = print_to_string(cfg, &d, true);
	assert_contains(out, "\"value\": \"/a\\u0001z\"");
	v = json_parse(out);
	assert_non_null(v);
	assert_string_equal(json_str(v, "security.chroot.value"), "/a\x01z");
	json_free(v);
	assert_contains(out, "\"warnings\": []");
	free(out);
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

static struct vipd_config *load_ok(const char *text)
{
	struct vip_conf_diag d = { 0 };
	struct vipd_config *cfg = expect_ok(text, &d);
	vip_conf_diag_clear(&d);
	return cfg;
}

static unsigned diff_of(const char *a, const char *b)
{
	struct vipd_config *x = load_ok(a), *y = load_ok(b);
	unsigned r = vip_config_diff(x, y);
	vip_config_free(x);
	vip_config_free(y);
	return r;
}

static void test_diff(void **state)
{
	(void)state;
	static const char base[] = SEC
		"cluster { nodename = n1 Topology \"198.51.100.0/24\" { interface = eth0 } }\n"
		"Binding \"a\" { Bind_Address = 198.51.100.1 Enable_Duravip = true }\n";

	assert_int_equal(diff_of(base, base), 0);
	/* the same values on other lines are no change */
	assert_int_equal(
		diff_of(base,
			"\n\n" SEC "cluster {\n nodename = n1\n Topology \"198.51.100.0/24\" { "
			"interface = eth0 } }\n\nBinding \"a\" { Enable_Duravip = 1 Bind_Address = 198.51.100.1 }\n"),
		0);
	assert_int_equal(
		diff_of(base, "Security { user = nobody group = root capabilities = cap_net_admin+ep }\n"
			      "cluster { nodename = n1 Topology \"198.51.100.0/24\" { interface = eth0 } }\n"
			      "Binding \"a\" { Bind_Address = 198.51.100.1 Enable_Duravip = true }\n"),
		VIP_CHANGE_SECURITY);
	assert_int_equal(diff_of(SEC, "Security { user = root group = root chroot = /x }\n"),
			 VIP_CHANGE_SECURITY);
	assert_int_equal(diff_of(SEC, "Security { user = root group = root supplemental_groups = root }\n"),
			 VIP_CHANGE_SECURITY);
	assert_int_equal(diff_of(SEC "cluster { nodename = n1 }", SEC "cluster { nodename = n2 }"),
			 VIP_CHANGE_IDENTITY);
	assert_int_equal(diff_of(SEC "cluster { cluster_group = g1 }", SEC "cluster { cluster_group = g2 }"),
			 VIP_CHANGE_IDENTITY);
	assert_int_equal(diff_of(SEC "cluster { nodename = n1 }",
				 SEC "cluster { nodename = n1 authkey = /k }"),
			 VIP_CHANGE_IDENTITY);
	/* without a cluster scope the derived takeover delay is 0: a timing change too */
	assert_int_equal(diff_of(SEC "cluster { nodename = host1 }", SEC),
			 VIP_CHANGE_CLUSTER_MODE | VIP_CHANGE_TIMING);
	assert_int_equal(
		diff_of(base,
			SEC "cluster { nodename = n1 Topology \"198.51.100.0/24\" { interface = eth0 } }\n"
			    "Binding \"a\" { Bind_Address = 198.51.100.2 Enable_Duravip = true }\n"),
		VIP_CHANGE_DURAVIPS);
	assert_int_equal(
		diff_of(base,
			SEC "cluster { nodename = n1 Topology \"198.51.100.0/24\" { interface = eth0 } }\n"
			    "Binding \"a\" { Bind_Address = 198.51.100.1 Enable_Duravip = true "
			    "Duravip_Preference = n2 }\n"),
		VIP_CHANGE_DURAVIPS);
	/* a Topology change moves the DuraVIP to another interface too */
	assert_int_equal(
		diff_of(base,
			SEC "cluster { nodename = n1 Topology \"198.51.100.0/24\" { interface = eth1 } }\n"
			    "Binding \"a\" { Bind_Address = 198.51.100.1 Enable_Duravip = true }\n"),
		VIP_CHANGE_TOPOLOGY | VIP_CHANGE_DURAVIPS);
	assert_int_equal(
		diff_of(SEC "cluster { Topology \"203.0.113.0/24\" { interface = eth1 } }",
			SEC "cluster { Topology \"203.0.113.0/24\" { interface = eth1 cidrmask = 30 } }"),
		VIP_CHANGE_TOPOLOGY);
	assert_int_equal(diff_of(SEC "cluster { }", SEC "cluster { view_mature_time = 6 }"),
			 VIP_CHANGE_TIMING);
	assert_int_equal(diff_of(SEC "cluster { }", SEC "cluster { if_down_limit = 2 }"), VIP_CHANGE_TIMING);
	assert_int_equal(diff_of(SEC "cluster { }", SEC "cluster { duravip_quorum_policy = keep }"),
			 VIP_CHANGE_TIMING);
	assert_int_equal(diff_of(SEC "cluster { }", SEC "cluster { duravip_takeover_guard = probe }"),
			 VIP_CHANGE_TIMING);
	assert_int_equal(diff_of(SEC "cluster { }", SEC "cluster { arp_mode = both }"), VIP_CHANGE_ANNOUNCE);
	assert_int_equal(diff_of(SEC "cluster { }", SEC "cluster { arp_all_hosts = no arp_pace = 5 }"),
			 VIP_CHANGE_ANNOUNCE);
	assert_int_equal(diff_of(SEC "cluster { nodename = host1 }",
				 SEC "cluster { nodename = x arp_repeat = 3 }"),
			 VIP_CHANGE_IDENTITY | VIP_CHANGE_ANNOUNCE);

	struct vipd_config *x = load_ok(base);
	assert_int_equal(vip_config_diff(NULL, NULL), 0);
	assert_true(vip_config_diff(NULL, x) & VIP_CHANGE_NEEDS_RESTART);
	vip_config_free(x);
}

static struct vipd_config *load_data(const char *rel, struct vip_conf_diag *d, int want)
{
	char path[PATH_MAX];
	struct vipd_config *cfg = NULL;
	int r = vip_config_load(data_path(rel, path, sizeof(path)), &test_opts, &cfg, d);

	if (r != want)
		dump_diag(d);
	assert_int_equal(r, want);
	return cfg;
}

static void test_data_single(void **state)
{
	(void)state;
	struct vip_conf_diag d = { 0 };
	struct vipd_config *cfg = load_data("single/ecelerity.conf", &d, 0);

	assert_false(cfg->cluster.enabled);
	assert_string_equal(cfg->security.user, "nobody");
	assert_int_equal(cfg->n_duravips, 3);
	assert_non_null(find_vip(cfg, "198.51.100.21"));
	assert_non_null(find_vip(cfg, "198.51.100.30"));
	assert_int_equal(find_vip(cfg, "2001:db8:1::30")->prefix, 128);
	assert_null(find_vip(cfg, "198.51.100.22"));
	assert_int_equal(d.n, 0);
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

static void test_data_cluster(void **state)
{
	(void)state;
	struct vip_conf_diag d = { 0 };
	bool have_ecuser = getpwnam("ecuser") && getgrnam("ecuser");
	struct vipd_config *cfg = load_data("cluster/ecelerity.conf", &d, have_ecuser ? 0 : -EINVAL);

	if (!have_ecuser) {
		/* the override still shows: the error points into the cluster file */
		char want[PATH_MAX + 128];
		data_path("cluster/ecelerity-cluster.conf", want, sizeof(want));
		strcat(want, ":3:10: error: user 'ecuser' does not exist");
		assert_diag(&d, want);
		vip_conf_diag_clear(&d);
		return;
	}
	const struct vipd_security *s = &cfg->security;
	assert_string_equal(src_text(&s->src_user), "ecelerity-cluster.conf:3");
	assert_string_equal(s->capabilities,
			    "cap_net_admin+ep cap_net_bind_service+ep cap_net_raw+ep cap_sys_resource+ep");
	assert_string_equal(src_text(&s->src_capabilities), "ecelerity-cluster.conf:6");
	assert_string_equal(src_text(&s->src_privileges), "ecelerity-cluster.conf:8");
	assert_string_equal(s->chroot, "/var/empty");
	assert_string_equal(src_text(&s->src_chroot), "ecelerity.conf:12");
	const struct vipd_cluster *c = &cfg->cluster;
	assert_true(c->enabled);
	assert_string_equal(c->nodename, "node1");
	assert_int_equal(c->if_check_interval_ms, 15000);
	assert_int_equal(c->arp_repeat_interval_ms, 1500);
	assert_int_equal(c->n_topology, 1);
	assert_int_equal(cfg->n_duravips, 3);
	const struct vipd_duravip *v = find_vip(cfg, "198.51.100.40");
	assert_string_equal(v->follow, "mx-a");
	assert_string_equal(v->preference, "node1");
	assert_string_equal(vip_config_duravip_interface(cfg, v), "eth0");
	v = find_vip(cfg, "198.51.100.12");
	assert_int_equal(v->n_services, 2);
	assert_string_equal(v->services[0], "ESMTP_Listener:198.51.100.12:25");
	assert_string_equal(v->services[1], "binding:mx-b");
	assert_string_equal(v->preference, "node2");
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

static void test_data_others(void **state)
{
	(void)state;
	struct vip_conf_diag d = { 0 };
	struct vipd_config *cfg = load_data("ipv6/ecelerity.conf", &d, 0);

	assert_int_equal(cfg->n_duravips, 3);
	assert_int_equal(find_vip(cfg, "2001:db8:1::10")->prefix, 64);
	assert_string_equal(find_vip(cfg, "2001:db8:1::20")->follow, "2001:db8:1::10");
	assert_string_equal(find_vip(cfg, "2001:db8:1::20")->preference, "v6node");
	assert_int_equal(find_vip(cfg, "2001:db8:2::25")->prefix, 128);
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);

	cfg = load_data("topology/ecelerity.conf", &d, 0);
	assert_int_equal(cfg->n_duravips, 5);
	assert_int_equal(find_vip(cfg, "198.51.100.10")->prefix, 24);
	assert_string_equal(vip_config_duravip_interface(cfg, find_vip(cfg, "198.51.100.200")), "eth1");
	assert_int_equal(find_vip(cfg, "203.0.113.5")->prefix, 28);
	assert_null(vip_config_duravip_interface(cfg, find_vip(cfg, "198.18.0.1")));
	assert_string_equal(vip_config_duravip_interface(cfg, find_vip(cfg, "2001:db8::e")), "eth2");
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);

	cfg = load_data("follow/ecelerity.conf", &d, 0);
	assert_int_equal(cfg->n_duravips, 4);
	assert_int_equal(find_vip(cfg, "198.51.100.41")->n_services, 2);
	assert_string_equal(find_vip(cfg, "198.51.100.41")->preference, "f2");
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

static void test_data_broken(void **state)
{
	(void)state;
	struct vip_conf_diag d = { 0 };
	char path[PATH_MAX], want[PATH_MAX + 200];

	assert_null(load_data("broken/syntax.conf", &d, -EINVAL));
	assert_true(d.n_errors > 0);
	assert_non_null(strstr(d.items[0].file, "broken/syntax.conf"));
	assert_true(d.items[0].line > 0);
	vip_conf_diag_clear(&d);

	assert_null(load_data("broken/schema.conf", &d, -EINVAL));
	assert_int_equal(d.n_errors, 7);
	data_path("broken/schema.conf", path, sizeof(path));
	snprintf(want, sizeof(want),
		 "%s:6:3: error: Topology '198.51.100.0/33' is not a network such as 198.51.100.0/24", path);
	assert_diag(&d, want);
	vip_conf_diag_clear(&d);

	assert_null(load_data("broken/follow.conf", &d, -EINVAL));
	data_path("broken/follow.conf", path, sizeof(path));
	snprintf(want, sizeof(want),
		 "%s:5:48: error: Duravip_Follow = 'plain': Binding \"plain\" is not a DuraVIP "
		 "(it needs Enable_Duravip = true)",
		 path);
	assert_diag(&d, want);
	vip_conf_diag_clear(&d);

	struct vipd_config *cfg = NULL;
	assert_true(vip_config_load(data_path("no-such-dir/ecelerity.conf", path, sizeof(path)), &test_opts,
				    &cfg, &d) < 0);
	assert_null(cfg);
	vip_conf_diag_clear(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_print_human),  cmocka_unit_test(test_print_json),
		cmocka_unit_test(test_diff),         cmocka_unit_test(test_data_single),
		cmocka_unit_test(test_data_cluster), cmocka_unit_test(test_data_others),
		cmocka_unit_test(test_data_broken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* conf/ schema: DuraVIPs from bindings and listeners, follow, and every refusal. */
#include "conf-schema-helpers.h"

#define SEC "Security { user = root group = root }\n"

/* "file:line" where v was first declared. */
static const char *src_of(const struct vipd_config *c, const struct vipd_duravip *v)
{
	struct vip_conf_src src = vip_config_duravip_src(c, v);

	return src_text(&src);
}

static void test_duravip_binding(void **state)
{
	(void)state;
	struct vip_conf_diag d = { 0 };
	struct vipd_config *cfg =
		expect_ok(SEC "Binding \"out1\" {\n"
			      "  Bind_Address = 198.51.100.21\n"
			      "  Enable_Duravip = true\n"
			      "  Duravip_Preference = node2\n"
			      "}\n"
			      "Binding_Group \"g\" {\n"
			      "  Binding \"out2\" { Bind_Address = \"198.51.100.22\" enable_duravip = YES }\n"
			      "  Binding \"off\" { Bind_Address = 198.51.100.23 Enable_Duravip = false }\n"
			      "}\n"
			      "Binding \"noaddr\" { }\n",
			  &d);

	assert_int_equal(cfg->n_duravips, 2);
	const struct vipd_duravip *v = find_vip(cfg, "198.51.100.21");
	assert_non_null(v);
	assert_int_equal(v->prefix, 32);
	assert_null(vip_config_duravip_interface(cfg, v));
	assert_string_equal(v->binding, "out1");
	assert_int_equal(v->n_services, 1);
	assert_string_equal(v->services[0], "binding:out1");
	assert_string_equal(v->preference, "node2");
	assert_null(v->follow);
	assert_string_equal(src_of(cfg, v), "t.conf:2");
	v = find_vip(cfg, "198.51.100.22");
	assert_non_null(v);
	assert_string_equal(v->binding, "out2");
	assert_null(v->preference);
	assert_null(find_vip(cfg, "198.51.100.23"));
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

static void test_duravip_booleans(void **state)
{
	(void)state;
	static const char *const yes[] = {
		"true", "TRUE", "on", "On", "yes", "YES", "enabled", "Enabled", "1"
	};
	static const char *const no[] = { "false", "False",    "off",      "OFF", "no",
					  "No",    "disabled", "DISABLED", "0" };
	char text[256];
	struct vip_conf_diag d = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		snprintf(text, sizeof(text),
			 SEC "Binding \"b\" { Bind_Address = 198.51.100.1 Enable_Duravip = %s }\n"
			     "Binding \"c\" { Bind_Address = 198.51.100.2 Enable_Duravip = %s }\n",
			 yes[i], no[i]);
		struct vipd_config *cfg = expect_ok(text, &d);
		assert_int_equal(cfg->n_duravips, 1);
		assert_non_null(find_vip(cfg, "198.51.100.1"));
		vip_config_free(cfg);
		vip_conf_diag_clear(&d);
	}
	expect_error(SEC "Binding \"b\" {\n  Bind_Address = 198.51.100.1\n  Enable_Duravip = sometimes\n}\n",
		     "t.conf:4:20: error: Enable_Duravip = 'sometimes' is not a boolean (true/false, on/off, "
		     "yes/no, enabled/disabled, 1/0)");
	expect_error(SEC "ESMTP_Listener { Listen \"198.51.100.1:25\" { enable_duravip = 2 } }\n",
		     "t.conf:2:62: error: enable_duravip = '2' is not a boolean (true/false, on/off, "
		     "yes/no, enabled/disabled, 1/0)");
}

static void test_duravip_listeners(void **state)
{
	(void)state;
	struct vip_conf_diag d = { 0 };
	struct vipd_config *cfg = expect_ok(
		SEC "Binding \"mx\" { Bind_Address = 198.51.100.30 }\n"
		    "ESMTP_Listener {\n"
		    "  Listen \"198.51.100.30:25\" { Enable_Duravip = true Duravip_Preference = n1 }\n"
		    "  Listen \"[2001:db8:1::30]:25\" { Enable_Duravip = on }\n"
		    "  Listen \"*:587\" { }\n"
		    "  Listen \"[2001:DB8:1:0::30]:465\" { }\n"
		    "}\n"
		    "http_listener { Listen \"198.51.100.30:80\" { } }\n"
		    "Control_Listener { Listen \"/tmp/2025\" { } }\n"
		    "NotAListener { Listen \"198.51.100.99:25\" { Enable_Duravip = true } }\n",
		&d);

	assert_int_equal(cfg->n_duravips, 2);
	const struct vipd_duravip *v = find_vip(cfg, "198.51.100.30");
	assert_non_null(v);
	/* DuraVIP on one service: DuraVIP on every service using it, all listed, sorted */
	assert_int_equal(v->n_services, 3);
	assert_string_equal(v->services[0], "ESMTP_Listener:198.51.100.30:25");
	assert_string_equal(v->services[1], "binding:mx");
	assert_string_equal(v->services[2], "http_listener:198.51.100.30:80");
	assert_string_equal(v->binding, "mx");
	assert_string_equal(v->preference, "n1");
	assert_string_equal(src_of(cfg, v), "t.conf:4");
	v = find_vip(cfg, "2001:db8:1::30");
	assert_non_null(v);
	assert_int_equal(v->prefix, 128);
	assert_null(v->binding);
	assert_int_equal(v->n_services, 2);
	assert_string_equal(v->services[0], "ESMTP_Listener:[2001:db8:1::30]:25");
	assert_string_equal(v->services[1], "ESMTP_Listener:[2001:db8:1::30]:465");
	/* sorted by address: IPv4 before IPv6 */
	assert_int_equal(cfg->duravips[0].addr.family, AF_INET);
	assert_null(find_vip(cfg, "198.51.100.99"));
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

static void test_duravip_topology(void **state)
{
	(void)state;
	struct vip_conf_diag d = { 0 };
	struct vipd_config
		*cfg = expect_ok(SEC "cluster {\n"
				     "  Topology \"198.51.100.0/24\" { interface = eth0 cidrmask = 24 }\n"
				     "  Topology \"198.51.100.128/25\" { interface = eth1 }\n"
				     "  Topology \"2001:db8::/32\" { interface = eth2 cidrmask = 64 }\n"
				     "}\n"
				     "Binding \"a\" { Bind_Address = 198.51.100.10 Enable_Duravip = 1 }\n"
				     "Binding \"b\" { Bind_Address = 198.51.100.200 Enable_Duravip = 1 }\n"
				     "Binding \"c\" { Bind_Address = 203.0.113.5 Enable_Duravip = 1 }\n"
				     "Binding \"e\" { Bind_Address = \"2001:db8::e\" Enable_Duravip = 1 }\n",
				 &d);
	const struct vipd_duravip *v = find_vip(cfg, "198.51.100.10");

	assert_int_equal(v->prefix, 24);
	assert_string_equal(vip_config_duravip_interface(cfg, v), "eth0");
	v = find_vip(cfg, "198.51.100.200"); /* the longest matching network wins */
	assert_int_equal(v->prefix, 32);
	assert_string_equal(vip_config_duravip_interface(cfg, v), "eth1");
	v = find_vip(cfg, "203.0.113.5");
	assert_int_equal(v->prefix, 32);
	assert_null(vip_config_duravip_interface(cfg, v));
	v = find_vip(cfg, "2001:db8::e");
	assert_int_equal(v->prefix, 64);
	assert_string_equal(vip_config_duravip_interface(cfg, v), "eth2");
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

static void test_duravip_follow(void **state)
{
	(void)state;
	struct vip_conf_diag d = { 0 };
	struct vipd_config
		*cfg = expect_ok(SEC
				 "Binding \"out-a\" { Bind_Address = 198.51.100.11 Enable_Duravip = true "
				 "Duravip_Preference = f1 }\n"
				 "Binding \"out-b\" { Bind_Address = 198.51.100.12 Enable_Duravip = true }\n"
				 "ESMTP_Listener {\n"
				 "  Listen \"198.51.100.40:25\" { Duravip_Follow = \"out-a\" }\n"
				 "  Listen \"198.51.100.40:587\" { Duravip_Follow = \"198.51.100.11\" }\n"
				 "  Listen \"198.51.100.41:25\" { Duravip_Follow = \"198.51.100.12\" }\n"
				 "  Listen \"198.51.100.11:25\" { Duravip_Follow = out-a }\n"
				 "}\n",
				 &d);

	assert_int_equal(cfg->n_duravips, 4);
	const struct vipd_duravip *v = find_vip(cfg, "198.51.100.40");
	assert_non_null(v);
	assert_string_equal(v->follow, "out-a");
	assert_string_equal(v->preference, "f1"); /* inherited from what it follows */
	assert_null(v->binding);
	assert_int_equal(v->n_services, 2);
	assert_string_equal(v->services[0], "ESMTP_Listener:198.51.100.40:25");
	assert_string_equal(v->services[1], "ESMTP_Listener:198.51.100.40:587");
	assert_string_equal(src_of(cfg, v), "t.conf:5");
	v = find_vip(cfg, "198.51.100.41");
	assert_string_equal(v->follow, "198.51.100.12");
	assert_null(v->preference);
	/* following the binding on its own address: one more service of that DuraVIP */
	v = find_vip(cfg, "198.51.100.11");
	assert_null(v->follow);
	assert_int_equal(v->n_services, 2);
	assert_string_equal(v->services[0], "ESMTP_Listener:198.51.100.11:25");
	assert_string_equal(v->services[1], "binding:out-a");
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);

	cfg = expect_ok(
		SEC
		"Binding \"a\" { Bind_Address = 198.51.100.11 Enable_Duravip = true }\n"
		"ESMTP_Listener {\n  Listen \"198.51.100.40:25\" { Duravip_Follow = a Duravip_Preference = n9 }\n}\n",
		&d);
	assert_diag(&d, "t.conf:4:50: warning: Duravip_Preference is ignored in a following Listen: "
			"it goes where Binding \"a\" goes");
	assert_null(find_vip(cfg, "198.51.100.40")->preference);
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

static void test_duravip_follow_errors(void **state)
{
	(void)state;
	expect_error(SEC "Binding \"a\" {\n  Bind_Address = 198.51.100.1\n  Enable_Duravip = true\n"
			 "  Duravip_Follow = b\n}\n",
		     "t.conf:5:3: error: Duravip_Follow is only valid in a Listen, not in Binding \"a\"");
	expect_error(
		SEC
		"ESMTP_Listener {\n  Listen \"198.51.100.40:25\" {\n    Duravip_Follow = \"nowhere\"\n  }\n}\n",
		"t.conf:4:22: error: Duravip_Follow = 'nowhere' names no Binding (by name or by Bind_Address)");
	expect_error(
		SEC "ESMTP_Listener { Listen \"198.51.100.40:25\" { Duravip_Follow = 198.51.100.77 } }\n",
		"t.conf:2:63: error: Duravip_Follow = '198.51.100.77' names no Binding (by name or by Bind_Address)");
	expect_error(
		SEC "Binding \"plain\" { Bind_Address = 198.51.100.5 }\n"
		    "ESMTP_Listener { Listen \"198.51.100.40:25\" { Duravip_Follow = plain } }\n",
		"t.conf:3:63: error: Duravip_Follow = 'plain': Binding \"plain\" is not a DuraVIP (it needs "
		"Enable_Duravip = true)");
	expect_error(SEC "Binding \"a\" { Bind_Address = 198.51.100.1 Enable_Duravip = true }\n"
			 "ESMTP_Listener {\n  Listen \"198.51.100.40:25\" {\n    Enable_Duravip = true\n"
			 "    Duravip_Follow = a\n  }\n}\n",
		     "t.conf:6:5: error: Enable_Duravip and Duravip_Follow exclude each other in one Listen");
	expect_error(
		SEC "Binding \"a\" { Bind_Address = 198.51.100.1 Enable_Duravip = true }\n"
		    "Binding \"b\" { Bind_Address = 198.51.100.40 Enable_Duravip = true }\n"
		    "ESMTP_Listener {\n  Listen \"198.51.100.40:25\" { Duravip_Follow = a }\n}\n",
		"t.conf:5:31: error: Listen \"198.51.100.40:25\" follows Binding \"a\" but its address is a "
		"DuraVIP of its own");
	expect_error(SEC "Binding \"a\" { Bind_Address = 198.51.100.1 Enable_Duravip = true }\n"
			 "Binding \"b\" { Bind_Address = 198.51.100.2 Enable_Duravip = true }\n"
			 "ESMTP_Listener {\n  Listen \"198.51.100.40:25\" { Duravip_Follow = a }\n"
			 "  Listen \"198.51.100.40:587\" { Duravip_Follow = b }\n}\n",
		     "t.conf:6:32: error: Listen \"198.51.100.40:587\" follows Binding \"b\", but Listen "
		     "\"198.51.100.40:25\" on the same address follows Binding \"a\"");
}

static void test_duravip_wildcards(void **state)
{
	(void)state;
	static const char *const listens[] = { "*:25", ":25", "0.0.0.0:25", "[::]:25", "[0:0::0]:25" };
	char text[256], want[256];

	for (size_t i = 0; i < ARRAY_SIZE(listens); i++) {
		snprintf(text, sizeof(text),
			 SEC "ESMTP_Listener {\n  Listen \"%s\" { Enable_Duravip = true }\n}\n", listens[i]);
		snprintf(want, sizeof(want),
			 "t.conf:3:3: error: Listen \"%s\": a wildcard address cannot be a DuraVIP",
			 listens[i]);
		expect_error(text, want);
	}
	expect_error(SEC "ESMTP_Listener {\n  Listen \"*:25\" { Duravip_Follow = a }\n}\n",
		     "t.conf:3:3: error: Listen \"*:25\": a wildcard address cannot be a DuraVIP");
	expect_error(SEC "Binding \"w\" {\n  Bind_Address = 0.0.0.0\n  Enable_Duravip = true\n}\n",
		     "t.conf:3:18: error: Bind_Address 0.0.0.0: a wildcard address cannot be a DuraVIP");
	expect_error(SEC "Binding \"w\" { Bind_Address = \"::\" Enable_Duravip = true }\n",
		     "t.conf:2:30: error: Bind_Address ::: a wildcard address cannot be a DuraVIP");
}

static void test_duravip_bad_addresses(void **state)
{
	(void)state;
	expect_error(SEC "ESMTP_Listener {\n  Listen \"2001:db8::1:25\" { Enable_Duravip = true }\n}\n",
		     "t.conf:3:3: error: Listen \"2001:db8::1:25\" is not addr:port (IPv6: \"[addr]:port\")");
	expect_error(SEC "ESMTP_Listener {\n  Listen \"198.51.100.1\" { Enable_Duravip = true }\n}\n",
		     "t.conf:3:3: error: Listen \"198.51.100.1\" is not addr:port (IPv6: \"[addr]:port\")");
	expect_error(
		SEC "ESMTP_Listener {\n  Listen \"198.51.100.1:99999\" { Enable_Duravip = true }\n}\n",
		"t.conf:3:3: error: Listen \"198.51.100.1:99999\" is not addr:port (IPv6: \"[addr]:port\")");
	expect_error(
		SEC "ESMTP_Listener {\n  Listen \"[2001:db8::1]25\" { Enable_Duravip = true }\n}\n",
		"t.conf:3:3: error: Listen \"[2001:db8::1]25\" is not addr:port (IPv6: \"[addr]:port\")");
	expect_error(
		SEC "ESMTP_Listener {\n  Listen \"mail.example.com:25\" { Enable_Duravip = true }\n}\n",
		"t.conf:3:3: error: Listen \"mail.example.com:25\" is not addr:port (IPv6: \"[addr]:port\")");
	expect_error(SEC "Binding \"x\" {\n  Bind_Address = mail.example.com\n  Enable_Duravip = true\n}\n",
		     "t.conf:3:18: error: Bind_Address 'mail.example.com' is not an IPv4 or IPv6 address");
	expect_error(SEC "Binding \"x\" {\n  Enable_Duravip = true\n}\n",
		     "t.conf:2:1: error: Binding \"x\" enables Duravip but has no Bind_Address");
	expect_error(SEC "Binding {\n  Bind_Address = 198.51.100.1\n}\n",
		     "t.conf:2:1: error: Binding needs a name: Binding \"name\" { ... }");
}

static void test_duravip_broken_and_duplicates(void **state)
{
	(void)state;
	expect_error(SEC "Binding \"a\" { Bind_Address = 198.51.100.1 Enable_Duravip = true }\n"
			 "Binding \"b\" {\n  Bind_Address = 198.51.100.1\n}\n",
		     "t.conf:4:18: error: DuraVIP 198.51.100.1 is the Bind_Address of both Binding \"a\" "
		     "(t.conf:2) and Binding \"b\": Momentum calls this BROKEN");
	expect_error(SEC "Binding \"a\" { Bind_Address = 198.51.100.1 }\n"
			 "Binding_Group \"g\" {\n  Binding \"a\" { Bind_Address = 198.51.100.2 }\n}\n",
		     "t.conf:4:3: error: Binding \"a\" is declared twice (first at t.conf:2)");

	/* two bindings on one address that is no DuraVIP: not vipd's business */
	struct vip_conf_diag d = { 0 };
	struct vipd_config *cfg = expect_ok(SEC "Binding \"a\" { Bind_Address = 198.51.100.1 }\n"
						"Binding \"b\" { Bind_Address = 198.51.100.1 }\n",
					    &d);
	assert_int_equal(cfg->n_duravips, 0);
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

static void test_duravip_preference(void **state)
{
	(void)state;
	expect_error(SEC "Binding \"a\" {\n  Bind_Address = 198.51.100.1\n  Enable_Duravip = true\n"
			 "  Duravip_Preference = true\n}\n",
		     "t.conf:5:24: error: Duravip_Preference = 'true' must name a node, not a boolean");
	expect_error(
		SEC
		"ESMTP_Listener { Listen \"198.51.100.1:25\" { Enable_Duravip = 1 Duravip_Preference = Off } }\n",
		"t.conf:2:85: error: Duravip_Preference = 'Off' must name a node, not a boolean");
	expect_error(
		SEC
		"Binding \"a\" { Bind_Address = 198.51.100.1 Enable_Duravip = true Duravip_Preference = \"\" }\n",
		"t.conf:2:86: error: Duravip_Preference = '' must name a node, not a boolean");
	expect_error(
		SEC
		"Binding \"a\" { Bind_Address = 198.51.100.1 Enable_Duravip = true Duravip_Preference = n1 }\n"
		"ESMTP_Listener {\n  Listen \"198.51.100.1:25\" {\n    Enable_Duravip = true\n"
		"    Duravip_Preference = n2\n  }\n}\n",
		"t.conf:6:26: error: DuraVIP 198.51.100.1 has two preferences: 'n1' (t.conf:2) and 'n2'");
}

static void test_duravip_find_sorted(void **state)
{
	(void)state;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct vip_conf_diag d = { 0 };

	assert_non_null(f);
	fputs(SEC, f);
	/* declared in a scrambled order, IPv4 and IPv6 mixed */
	for (unsigned i = 0; i < 300; i++) {
		unsigned k = (i * 7919u) % 300u;
		if (k % 3 == 0)
			fprintf(f,
				"Binding \"b%u\" { Bind_Address = \"2001:db8::%x\" Enable_Duravip = true }\n",
				k, k);
		else
			fprintf(f, "Binding \"b%u\" { Bind_Address = 198.18.%u.%u Enable_Duravip = true }\n",
				k, k / 200, k % 200 + 1);
	}
	fclose(f);
	struct vipd_config *cfg = expect_ok(text, &d);
	free(text);

	assert_int_equal(cfg->n_duravips, 300);
	for (size_t i = 1; i < cfg->n_duravips; i++)
		assert_true(vip_addr_cmp(&cfg->duravips[i - 1].addr, &cfg->duravips[i].addr) < 0);
	for (size_t i = 0; i < cfg->n_duravips; i++)
		assert_ptr_equal(vip_config_find_duravip(cfg, &cfg->duravips[i].addr), &cfg->duravips[i]);
	assert_non_null(find_vip(cfg, "2001:db8::3"));
	assert_null(find_vip(cfg, "2001:db8::1"));
	assert_null(find_vip(cfg, "198.18.0.0"));
	assert_null(find_vip(cfg, "203.0.113.1"));
	assert_null(vip_config_find_duravip(NULL, NULL));
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

static void test_duravip_all_errors(void **state)
{
	(void)state;
	struct vip_conf_diag d = { 0 };
	struct vipd_config *cfg = NULL;
	int r = load_text(
		SEC
		"cluster {\n"
		"  view_mature_time = soon\n"
		"  arp_all_hosts = maybe\n"
		"}\n"
		"Binding \"a\" { Bind_Address = 198.51.100.1 Enable_Duravip = true }\n"
		"Binding \"b\" { Bind_Address = 198.51.100.1 Enable_Duravip = true Duravip_Follow = \"a\" }\n"
		"ESMTP_Listener {\n"
		"  Listen \"*:25\" { Enable_Duravip = true }\n"
		"  Listen \"198.51.100.9:25\" { Duravip_Follow = \"nowhere\" }\n"
		"}\n",
		&cfg, &d);

	assert_int_equal(r, -EINVAL);
	assert_null(cfg);
	assert_int_equal(d.n_errors, 6);
	assert_diag(&d, "t.conf:3:22: error: view_mature_time = 'soon' is not a number of seconds");
	assert_diag(&d, "t.conf:4:19: error: arp_all_hosts = 'maybe' is not a boolean (true/false, on/off, "
			"yes/no, enabled/disabled, 1/0)");
	assert_diag(&d, "t.conf:7:65: error: Duravip_Follow is only valid in a Listen, not in Binding \"b\"");
	assert_diag(&d, "t.conf:7:30: error: DuraVIP 198.51.100.1 is the Bind_Address of both Binding \"a\" "
			"(t.conf:6) and Binding \"b\": Momentum calls this BROKEN");
	assert_diag(&d, "t.conf:9:3: error: Listen \"*:25\": a wildcard address cannot be a DuraVIP");
	assert_diag(&d, "t.conf:10:47: error: Duravip_Follow = 'nowhere' names no Binding (by name or by "
			"Bind_Address)");
	vip_conf_diag_clear(&d);
}

/* The packed list shares what DuraVIPs have in common (conf/duravip-pack.c). */
static void test_duravip_packed_shared(void **state)
{
	(void)state;
	struct vip_conf_diag d = { 0 };
	struct vipd_config *cfg = expect_ok(
		SEC
		"cluster { nodename = n1\n"
		"  Topology \"198.51.100.0/24\" { interface = eth0 cidrmask = 24 } }\n"
		"Binding \"b1\" { Bind_Address = 198.51.100.1 Enable_Duravip = true Duravip_Preference = n2 }\n"
		"Binding \"b2\" { Bind_Address = 198.51.100.2 Enable_Duravip = true Duravip_Preference = n2 }\n"
		"ESMTP_Listener { Listen \"198.51.100.3:25\" { Duravip_Follow = b1 } }\n",
		&d);
	const struct vipd_duravip *a = find_vip(cfg, "198.51.100.1"), *b = find_vip(cfg, "198.51.100.2"),
				  *c = find_vip(cfg, "198.51.100.3");

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_string_equal(vip_config_duravip_interface(cfg, a), "eth0");
	assert_int_equal(a->topology, 1);
	assert_int_equal(b->topology, 1);
	assert_int_equal(c->topology, 1);
	assert_string_equal(a->preference, "n2");
	assert_ptr_equal(a->preference, b->preference);
	/* The binding name is its label's tail. */
	assert_string_equal(a->binding, "b1");
	assert_ptr_equal(a->binding, a->services[0] + strlen("binding:"));
	assert_string_equal(c->follow, "b1");
	assert_null(c->binding);
	assert_int_equal(a->src_file, 1);
	assert_int_equal(c->src_file, 1);
	assert_int_equal(cfg->n_duravip_files, 1);
	/* 3 service pointers; the labels; "n2" and "b1" once each; the file name once. */
	size_t chars = sizeof("binding:b1") + sizeof("binding:b2") +
		       sizeof("ESMTP_Listener:198.51.100.3:25") + sizeof("n2") + sizeof("b1");
	size_t files = sizeof(char *) + strlen(cfg->duravip_files[0]) + 1;
	assert_int_equal(vip_config_duravips_bytes(cfg),
			 3 * sizeof(struct vipd_duravip) + 3 * sizeof(char *) + chars + files);
	assert_int_equal(sizeof(struct vipd_duravip), 64);
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duravip_binding),
		cmocka_unit_test(test_duravip_booleans),
		cmocka_unit_test(test_duravip_listeners),
		cmocka_unit_test(test_duravip_topology),
		cmocka_unit_test(test_duravip_follow),
		cmocka_unit_test(test_duravip_follow_errors),
		cmocka_unit_test(test_duravip_wildcards),
		cmocka_unit_test(test_duravip_bad_addresses),
		cmocka_unit_test(test_duravip_broken_and_duplicates),
		cmocka_unit_test(test_duravip_preference),
		cmocka_unit_test(test_duravip_find_sorted),
		cmocka_unit_test(test_duravip_all_errors),
		cmocka_unit_test(test_duravip_packed_shared),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

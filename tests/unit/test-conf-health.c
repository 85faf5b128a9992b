/* SPDX-License-Identifier: MIT */
/*
 * Health_Check and Notify (conf/health.c): defaults, every rule's error
 * with file:line:col, the diff on reload (live), the --check output with
 * its origin, and the JSON of --check (parsed).
 */
#include "conf-schema-helpers.h"
#include "json-check.h"

#define SEC "Security { user = root group = root }\n"

static void test_health_defaults(void **state _unused_)
{
	struct vip_conf_diag d = { 0 };
	struct vipd_config *cfg = expect_ok(
		SEC "Health_Check \"mta\" { connect = \"127.0.0.1:25\" }\n"
		    "health_check ecelerity {\n  pidfile = /run/ec.pid\n  initial = healthy\n}\n"
		    "Health_Check \"custom\" { command = \"/bin/true --x 1\" interval = 0.1 timeout = 0.5"
		    " fall = 1 rise = 5 }\n"
		    "Health_Check \"v6\" { connect = \"[2001:db8::1]:2525\" expect = \"220 \" }\n",
		&d);

	assert_int_equal(cfg->n_checks, 4);
	const struct vipd_health_check *c = &cfg->checks[0];
	assert_string_equal(c->name, "mta");
	assert_int_equal(c->kind, VIPD_CHECK_CONNECT);
	assert_int_equal(c->port, 25);
	assert_int_equal(c->interval_ms, 1000);
	assert_int_equal(c->timeout_ms, 2000);
	assert_int_equal(c->fall, 3);
	assert_int_equal(c->rise, 2);
	assert_false(c->initial_healthy);
	assert_null(c->expect);
	assert_string_equal(src_text(&c->src), "t.conf:2");
	c = &cfg->checks[1];
	assert_int_equal(c->kind, VIPD_CHECK_PIDFILE);
	assert_string_equal(c->target, "/run/ec.pid");
	assert_true(c->initial_healthy);
	c = &cfg->checks[2];
	assert_int_equal(c->kind, VIPD_CHECK_COMMAND);
	assert_string_equal(c->target, "/bin/true --x 1");
	assert_int_equal(c->interval_ms, 100);
	assert_int_equal(c->timeout_ms, 500);
	assert_int_equal(c->fall, 1);
	assert_int_equal(c->rise, 5);
	c = &cfg->checks[3];
	assert_int_equal(c->addr.family, AF_INET6);
	assert_int_equal(c->port, 2525);
	assert_string_equal(c->expect, "220 ");
	assert_null(cfg->notify.command);
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);

	cfg = expect_ok(SEC "Notify { command = \"/usr/local/sbin/vip-changed -v\" }\n", &d);
	assert_string_equal(cfg->notify.command, "/usr/local/sbin/vip-changed -v");
	assert_int_equal(cfg->notify.timeout_ms, 5000);
	assert_int_equal(cfg->n_checks, 0);
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

static void test_health_errors(void **state _unused_)
{
	expect_error(
		SEC "Health_Check \"a\" {\n  interval = 1\n}\n",
		"t.conf:2:1: error: Health_Check \"a\" says nothing to check: give one of connect, pidfile, command");
	expect_error(
		SEC "Health_Check \"a\" { connect = \"127.0.0.1:25\"\n  pidfile = /run/x }\n",
		"t.conf:3:3: error: Health_Check \"a\": connect and pidfile: give exactly one of connect, pidfile, "
		"command");
	expect_error(
		SEC "Health_Check \"a\" { connect = \"localhost:25\" }\n",
		"t.conf:2:30: error: connect = \"localhost:25\" is not address:port (IPv6: \"[address]:port\")");
	expect_error(SEC "Health_Check \"a\" { connect = \"*:25\" }\n",
		     "t.conf:2:30: error: connect = \"*:25\" needs a specific address, not a wildcard");
	expect_error(
		SEC "Health_Check \"a\" { connect = \"127.0.0.1:0\" }\n",
		"t.conf:2:30: error: connect = \"127.0.0.1:0\" is not address:port (IPv6: \"[address]:port\")");
	expect_error(SEC "Health_Check \"a\" { pidfile = run/x.pid }\n",
		     "t.conf:2:30: error: pidfile = \"run/x.pid\" must be an absolute path");
	expect_error(
		SEC "Health_Check \"a\" { command = \"check --x\" }\n",
		"t.conf:2:30: error: command = \"check --x\": the program \"check\" is not an absolute path (it "
		"runs without a shell)");
	expect_error(
		SEC "Health_Check \"a\" { command = \"/bin/check 'x\" }\n",
		"t.conf:2:30: error: command = \"/bin/check 'x\": unterminated single quote (it runs without a "
		"shell)");
	expect_error(SEC "Health_Check \"a\" { pidfile = /x interval = 0.05 }\n",
		     "t.conf:2:44: error: interval = 0.05 is out of range: 0.1 to 3600 seconds");
	expect_error(SEC "Health_Check \"a\" { pidfile = /x timeout = soon }\n",
		     "t.conf:2:43: error: timeout = 'soon' is not a number of seconds");
	expect_error(SEC "Health_Check \"a\" { pidfile = /x fall = 0 }\n",
		     "t.conf:2:40: error: fall = '0' must be a whole number from 1 to 1000");
	expect_error(SEC "Health_Check \"a\" { pidfile = /x rise = 1001 }\n",
		     "t.conf:2:40: error: rise = '1001' must be a whole number from 1 to 1000");
	expect_error(SEC "Health_Check \"a\" { pidfile = /x initial = up }\n",
		     "t.conf:2:43: error: initial = 'up' must be healthy or unhealthy");
	expect_error(SEC "Health_Check \"a\" { pidfile = /x expect = 220 }\n",
		     "t.conf:2:33: error: expect belongs to a connect check, not to pidfile");
	expect_error(
		SEC "Health_Check \"a\" { pidfile = /x intervall = 2 }\n",
		"t.conf:2:33: error: unknown option 'intervall' in Health_Check (connect, pidfile, command, expect, "
		"interval, timeout, fall, rise, initial)");
	expect_error(SEC "Health_Check \"a\" { pidfile = /x fall = 2 fall = 3 }\n",
		     "t.conf:2:42: error: fall is given twice in Health_Check");
	expect_error(SEC "Health_Check { pidfile = /x }\n",
		     "t.conf:2:1: error: Health_Check needs a name: Health_Check \"name\" { ... }");
	expect_error(SEC "Health_Check \"a\" { pidfile = /x }\nHealth_Check \"a\" { pidfile = /y }\n",
		     "t.conf:3:1: error: Health_Check \"a\" is defined twice");
	expect_error(SEC "Health_Check \"a\" { pidfile = /x\n  Inner { } }\n",
		     "t.conf:3:3: error: Inner: no scope belongs inside Health_Check");
	expect_error(SEC "Notify { timeout = 3 }\n", "t.conf:2:1: error: Notify needs a command");
	expect_error(SEC "Notify { command = /bin/x timeout = 0 }\n",
		     "t.conf:2:37: error: timeout = 0 is out of range: 0.1 to 3600 seconds");
	expect_error(SEC "Notify { command = /bin/x }\nNotify { command = /bin/y }\n",
		     "t.conf:3:1: error: Notify is given twice: one hook, one scope");
	expect_error(SEC "Notify { command = /bin/x user = me }\n",
		     "t.conf:2:27: error: unknown option 'user' in Notify (command, timeout)");
}

static void test_health_diff(void **state _unused_)
{
	struct vip_conf_diag d = { 0 };
	struct vipd_config *a = expect_ok(SEC "Health_Check \"a\" { pidfile = /x }\n", &d);
	struct vipd_config *b = expect_ok(SEC "Health_Check \"a\" { pidfile = /x fall = 4 }\n", &d);
	struct vipd_config
		*c = expect_ok(SEC "Health_Check \"a\" { pidfile = /x }\nNotify { command = /bin/n }\n", &d);
	struct vipd_config *e = expect_ok(SEC "Health_Check \"a\" { pidfile = /x }\n", &d);

	assert_int_equal(vip_config_diff(a, e), 0);
	assert_int_equal(vip_config_diff(a, b), VIP_CHANGE_HEALTH);
	assert_int_equal(vip_config_diff(a, c), VIP_CHANGE_NOTIFY);
	assert_false(vip_config_diff(a, b) & VIP_CHANGE_NEEDS_RESTART);
	vip_config_free(a);
	vip_config_free(b);
	vip_config_free(c);
	vip_config_free(e);
	vip_conf_diag_clear(&d);
}

static void test_health_check_output(void **state _unused_)
{
	struct vip_conf_diag d = { 0 };
	struct vipd_config
		*cfg = expect_ok(SEC "Health_Check \"mta\" { connect = \"127.0.0.1:25\" expect = 220 }\n"
				     "Notify { command = /bin/n timeout = 1.5 }\n",
				 &d);
	char *text = NULL, *json = NULL;
	size_t tl = 0, jl = 0;
	FILE *f = open_memstream(&text, &tl);

	assert_int_equal(vip_config_print(cfg, &d, f), 0);
	fclose(f);
	assert_non_null(strstr(text, "Health checks: 1 (the node is healthy while all pass)\n"
				     "  mta                        connect 127.0.0.1:25 expect \"220\"\n"));
	assert_non_null(strstr(text, "every 1s, timeout 2s, fall 3, rise 2, initial unhealthy  t.conf:2\n"));
	assert_non_null(strstr(text, "Notify                     /bin/n (timeout 1.5s)  t.conf:3\n"));
	f = open_memstream(&json, &jl);
	assert_int_equal(vip_config_print_json(cfg, &d, f), 0);
	fclose(f);
	struct jv *v = json_parse(json);
	assert_non_null(v);
	assert_int_equal(json_len(v, "health_checks"), 1);
	assert_string_equal(json_str(v, "health_checks.0.name"), "mta");
	assert_string_equal(json_str(v, "health_checks.0.kind"), "connect");
	assert_string_equal(json_str(v, "health_checks.0.target"), "127.0.0.1:25");
	assert_string_equal(json_str(v, "health_checks.0.expect"), "220");
	assert_int_equal(json_num(v, "health_checks.0.fall"), 3);
	assert_string_equal(json_str(v, "health_checks.0.initial"), "unhealthy");
	assert_string_equal(json_str(v, "health_checks.0.from"), "t.conf:2");
	assert_string_equal(json_str(v, "notify.command"), "/bin/n");
	assert_int_equal(json_num(v, "notify.timeout_ms"), 1500);
	json_free(v);
	free(text);
	free(json);
	vip_config_free(cfg);
	vip_conf_diag_clear(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health_defaults),
		cmocka_unit_test(test_health_errors),
		cmocka_unit_test(test_health_diff),
		cmocka_unit_test(test_health_check_output),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

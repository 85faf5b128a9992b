/* SPDX-License-Identifier: MIT */
/*
 * The fault timing (docs/fault-tolerance.md): corosync's token read from its
 * configuration file (cluster/corosync-conf.c), and the options derived from
 * it when a configuration is loaded (conf/cluster.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster.h"
#include "conf.h"

static int token_of(const char *text, uint32_t *ret)
{
	char path[] = "/tmp/test-fault-timing-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	int r = vip_cl_corosync_token(path, ret);
	unlink(path);
	return r;
}

static void test_corosync_token(void **state)
{
	(void)state;
	uint32_t t = 0;

	/* the lab's: token 150, no coefficient for three nodes */
	assert_int_equal(token_of("totem {\n  version: 2\n  token: 150 # ms\n  token_coefficient: 0\n}\n"
				  "nodelist {\n node {\n  ring0_addr: a\n }\n node {\n }\n node {\n }\n}\n",
				  &t),
			 0);
	assert_int_equal(t, 150);
	/* corosync's defaults: 3000 + (4 - 2) x 650 for four nodes */
	assert_int_equal(
		token_of("totem {\n}\nnodelist {\n node {\n}\n node {\n}\n node {\n}\n node {\n}\n}\n", &t),
		0);
	assert_int_equal(t, 3000 + 2 * 650);
	/* a token outside totem, or a nested one, is not totem's */
	assert_int_equal(
		token_of("quorum {\n token: 5\n}\ntotem {\n interface {\n  token: 7\n }\n token: 400\n}\n",
			 &t),
		0);
	assert_int_equal(t, 400);
	/* garbage: corosync's default */
	assert_int_equal(token_of("totem {\n token: fast\n}\n", &t), 0);
	assert_int_equal(t, 3000);
	assert_int_equal(vip_cl_corosync_token("/nonexistent/corosync.conf", &t), -ENOENT);
}

static struct vipd_config *load(const char *text, uint32_t token_ms)
{
	struct vip_conf_diag diag = { 0 };
	struct vip_conf_tree *tree = NULL;
	struct vipd_config *c = NULL;
	struct vip_config_opts o = { .nodename = "n1", .hostname = "host", .corosync_token_ms = token_ms };

	assert_int_equal(vip_conf_parse_string("t.conf", text, strlen(text), NULL, NULL, &tree, &diag), 0);
	assert_int_equal(vip_config_from_tree(tree, &o, &c, &diag), 0);
	vip_conf_tree_free(tree);
	vip_conf_diag_clear(&diag);
	return c;
}

#define SEC "Security { user = root group = root capabilities = \"cap_net_admin+ep cap_net_raw+ep\" }\n"

static void test_derived(void **state)
{
	(void)state;
	char from[64];
	struct vipd_config *c = load(SEC "cluster { }\n", 150);
	const struct vipd_cluster *cl = &c->cluster;

	assert_int_equal(cl->corosync_token_ms, 150);
	assert_int_equal(cl->duravip_round_timeout_ms, 300);
	assert_int_equal(cl->duravip_liveness_timeout_ms, 150);
	assert_int_equal(cl->duravip_takeover_delay_ms, 300);
	assert_string_equal(vip_conf_src_format(&cl->src_duravip_takeover_delay, from, sizeof(from)),
			    "auto: 2 x corosync_token");
	vip_config_free(c);

	/* unknown token: corosync's default; small tokens keep the floors */
	c = load(SEC "cluster { }\n", 0);
	assert_int_equal(c->cluster.corosync_token_ms, 3000);
	assert_int_equal(c->cluster.duravip_takeover_delay_ms, 6000);
	vip_config_free(c);
	c = load(SEC "cluster { corosync_token = 0.02 }\n", 150);
	assert_int_equal(c->cluster.corosync_token_ms, 20);
	assert_int_equal(c->cluster.duravip_round_timeout_ms, 200);
	assert_int_equal(c->cluster.duravip_liveness_timeout_ms, 100);
	vip_config_free(c);

	/* a huge token: derived values stay within what the options accept */
	c = load(SEC "cluster { corosync_token = 600 }\n", 0);
	assert_int_equal(c->cluster.duravip_round_timeout_ms, 600000);
	assert_int_equal(c->cluster.duravip_takeover_delay_ms, 60000);
	vip_config_free(c);

	/* set in the file: kept, with its place; no cluster scope: no takeover delay */
	c = load(SEC "cluster { duravip_takeover_delay = 0 duravip_round_timeout = 1.5 }\n", 150);
	assert_int_equal(c->cluster.duravip_takeover_delay_ms, 0);
	assert_int_equal(c->cluster.duravip_round_timeout_ms, 1500);
	assert_string_equal(vip_conf_src_format(&c->cluster.src_duravip_round_timeout, from, sizeof(from)),
			    "t.conf:2");
	vip_config_free(c);
	c = load(SEC, 150);
	assert_int_equal(c->cluster.duravip_takeover_delay_ms, 0);
	vip_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corosync_token),
		cmocka_unit_test(test_derived),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

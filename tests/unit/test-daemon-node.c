/* SPDX-License-Identifier: MIT */
/*
 * This node's candidacy in the daemon (vipd/daemon-node.c) on the fake
 * port and the solo backend: `cluster node standby` / `active` unplumb and
 * plumb everything (alone), `cluster membership` and `metrics` show it
 * (JSON parsed), cluster { Standby = true } starts in standby, and a
 * reload applies a changed Standby and leaves an unchanged one alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "commands.h"
#include "daemon-internal.h"
#include "json-check.h"
#include "log.h"

#include "daemon-fx.h"

static size_t n_plumbed(struct fx *f)
{
	return has(f, "198.51.100.21") + has(f, "198.51.100.30") + has(f, "2001:db8:1::30");
}

static void test_standby_active_alone(void **state)
{
	struct fx *f = *state;
	struct jv *v;

	assert_int_equal(n_plumbed(f), 3);
	assert_int_equal(CMD(f, true, "cluster", "node", "standby"), 0);
	v = J(f);
	assert_true(json_bool(v, "changed"));
	assert_string_equal(json_str(v, "node.name"), "n1");
	assert_true(json_bool(v, "node.standby"));
	assert_true(json_bool(v, "node.healthy"));
	assert_false(json_bool(v, "node.candidate"));
	assert_true(json_is_null(v, "node.reason"));
	json_free(v);
	settle(f);
	assert_int_equal(n_plumbed(f), 0); /* alone: nobody else can take them */
	/* again: nothing changes, and the reply says so */
	assert_int_equal(CMD(f, false, "cluster", "node", "standby"), 0);
	assert_non_null(strstr(f->body, "Node n1 was already in standby"));
	assert_int_equal(CMD(f, false, "cluster", "membership"), 0);
	assert_non_null(strstr(f->body, "owns 0    settling STANDBY (this node)\n"));
	assert_non_null(strstr(f->body, "This node (n1): STANDBY, healthy; no candidate for DuraVIPs\n"));
	assert_int_equal(CMD(f, true, "cluster", "membership"), 0);
	v = J(f);
	assert_false(json_bool(v, "members.0.candidate"));
	assert_int_equal(json_len(v, "members.0.out"), 1);
	assert_string_equal(json_str(v, "members.0.out.0"), "standby");
	assert_true(json_bool(v, "node.standby"));
	assert_false(json_bool(v, "node.candidate"));
	json_free(v);
	assert_int_equal(CMD(f, true, "metrics"), 0);
	v = J(f);
	assert_int_equal(json_num(v, "vipd_node_standby"), 1);
	assert_int_equal(json_num(v, "vipd_node_candidate"), 0);
	assert_int_equal(json_num(v, "vipd_duravips_owned"), 0);
	json_free(v);
	/* active: alone, everything comes back at once */
	assert_int_equal(CMD(f, false, "cluster", "node", "active"), 0);
	assert_non_null(strstr(f->body, "Node n1 is now active\n"));
	settle(f);
	assert_int_equal(n_plumbed(f), 3);
	assert_int_equal(CMD(f, true, "cluster", "membership"), 0);
	v = J(f);
	assert_true(json_bool(v, "members.0.candidate"));
	assert_int_equal(json_len(v, "members.0.out"), 0);
	assert_true(json_bool(v, "node.candidate"));
	assert_int_equal(json_num(v, "members.0.owns"), 3);
	json_free(v);
}

static int setup_standby(void **state)
{
	return fx_setup(state, "cluster { Standby = true duravip_takeover_delay = 0 }\n");
}

static void rewrite(struct fx *f, const char *extra)
{
	write_conf(f, CAPS, extra);
	vipd_reload_result_clear(&f->res);
	assert_int_equal(vipd_daemon_reload(&f->d, &f->res), 0);
	assert_int_equal(f->res.outcome, VIPD_RELOAD_APPLIED);
	settle(f);
}

static void test_standby_from_config_and_reload(void **state)
{
	struct fx *f = *state;
	struct jv *v;

	assert_int_equal(n_plumbed(f), 0); /* started in standby: nothing plumbed */
	assert_int_equal(CMD(f, true, "cluster", "membership"), 0);
	v = J(f);
	assert_true(json_bool(v, "node.standby"));
	json_free(v);
	/* a reload that keeps Standby = true changes nothing */
	rewrite(f, "cluster { Standby = true duravip_takeover_delay = 0 arp_repeat = 3 }\n");
	assert_int_equal(n_plumbed(f), 0);
	/* the console ends it; a reload with the same Standby leaves the console's word */
	assert_int_equal(CMD(f, false, "cluster", "node", "active"), 0);
	settle(f);
	assert_int_equal(n_plumbed(f), 3);
	rewrite(f, "cluster { Standby = true duravip_takeover_delay = 0 arp_repeat = 4 }\n");
	assert_int_equal(n_plumbed(f), 3);
	/* a changed Standby applies live: false, then true again */
	rewrite(f, "cluster { Standby = false duravip_takeover_delay = 0 }\n");
	assert_int_equal(n_plumbed(f), 3);
	rewrite(f, "cluster { Standby = yes duravip_takeover_delay = 0 }\n");
	assert_int_equal(n_plumbed(f), 0);
	/* a bad value is refused with its place, and the running state stays */
	write_conf(f, CAPS, "cluster { Standby = maybe }\n");
	vipd_reload_result_clear(&f->res);
	assert_int_equal(vipd_daemon_reload(&f->d, &f->res), -EINVAL);
	assert_int_equal(f->res.outcome, VIPD_RELOAD_FAILED);
	assert_int_equal(f->res.diag.n_errors, 1);
	const struct vip_conf_diagnostic *e = NULL;
	for (size_t i = 0; i < f->res.diag.n; i++)
		if (f->res.diag.items[i].severity == VIP_CONF_ERROR)
			e = &f->res.diag.items[i];
	assert_non_null(e);
	assert_non_null(strstr(e->message, "Standby = 'maybe' is not a boolean"));
	assert_int_equal(e->line, 5);
	assert_int_equal(e->col, 21);
	settle(f);
	assert_int_equal(n_plumbed(f), 0);
}

/* A listener on 127.0.0.1 the kernel accepts connections for (no accept needed). */
static int listener(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(*port) };
	socklen_t sl = sizeof(sa);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 64), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Turn the loop until want DuraVIPs are plumbed (bounded); the time it took. */
static uint64_t until_plumbed(struct fx *f, size_t want, uint64_t max_ms)
{
	uint64_t t0 = loop_now_ms();

	while (n_plumbed(f) != want) {
		if (loop_now_ms() - t0 > max_ms)
			fail_msg("%zu plumbed, not %zu, after %llu ms", n_plumbed(f), want,
				 (unsigned long long)max_ms);
		loop_iterate(f->d.loop, 10);
	}
	return loop_now_ms() - t0;
}

static void test_health_alone(void **state)
{
	uint16_t port = 0;
	int lfd = listener(&port);
	char extra[256], want[128];
	struct jv *v;

	snprintf(
		extra, sizeof(extra),
		"Health_Check \"mta\" { connect = \"127.0.0.1:%u\" interval = 0.1 timeout = 0.5 fall = 2 rise = 2 }\n",
		port);
	fx_setup(state, extra);
	struct fx *f = *state;
	/* not before the check passed rise (2) times */
	assert_true(f->d.unhealthy);
	uint64_t t = until_plumbed(f, 3, 2000);
	printf("plumbed %llu ms after start (rise 2 x interval 0.1 s)\n", (unsigned long long)t);
	/* the service goes: unplumbed within fall x interval (+ slack) */
	close(lfd);
	t = until_plumbed(f, 0, 2000);
	printf("unplumbed %llu ms after the listener closed (fall 2 x interval 0.1 s)\n",
	       (unsigned long long)t);
	assert_true(t <= 2 * 100 + 150);
	snprintf(want, sizeof(want), "mta (connect 127.0.0.1:%u: Connection refused, 2 of 2)", port);
	assert_int_equal(CMD(f, true, "cluster", "membership"), 0);
	v = J(f);
	assert_false(json_bool(v, "node.healthy"));
	assert_false(json_bool(v, "node.candidate"));
	assert_string_equal(json_str(v, "node.reason"), want);
	assert_string_equal(json_str(v, "members.0.out.0"), "unhealthy");
	json_free(v);
	assert_int_equal(CMD(f, true, "cluster", "duravip", "show"), 0);
	v = J(f);
	assert_string_equal(json_str(v, "node.reason"), want);
	assert_true(json_is_null(v, "duravips.0.owner"));
	json_free(v);
	assert_int_equal(CMD(f, false, "cluster", "duravip", "show"), 0);
	assert_non_null(strstr(f->body, "Node n1: active, UNHEALTHY: "));
	assert_non_null(strstr(f->body, want));
	assert_int_equal(CMD(f, true, "metrics"), 0);
	v = J(f);
	assert_int_equal(json_num(v, "vipd_node_healthy"), 0);
	assert_int_equal(json_num(v, "vipd_health_checks"), 1);
	assert_int_equal(json_num(v, "vipd_health_checks_failing"), 1);
	assert_true(json_num(v, "vipd_health_check_failures_total") >= 2);
	json_free(v);
	/* back: plumbed again after rise passes */
	lfd = listener(&port);
	t = until_plumbed(f, 3, 2000);
	printf("plumbed again %llu ms after the listener came back\n", (unsigned long long)t);
	/* a reload that removes the check while the service is down: healthy by the reload */
	close(lfd);
	until_plumbed(f, 0, 2000);
	rewrite(f, "");
	until_plumbed(f, 3, 500);
	assert_false(f->d.unhealthy);
}

/* Turn the loop until the file holds want (bounded). */
static void until_file(struct fx *f, const char *path, const char *want)
{
	static char buf[4096];
	uint64_t t0 = loop_now_ms();

	for (;;) {
		FILE *fp = fopen(path, "r");
		size_t n = fp ? fread(buf, 1, sizeof(buf) - 1, fp) : 0;
		if (fp)
			fclose(fp);
		buf[n] = '\0';
		if (strstr(buf, want))
			return;
		if (loop_now_ms() - t0 > 3000)
			fail_msg("no \"%s\" in:\n%s", want, buf);
		loop_iterate(f->d.loop, 10);
	}
}

static void test_hooks(void **state)
{
	char out[] = "/tmp/test-daemon-hook-XXXXXX", extra[256];
	int fd = mkstemp(out);

	assert_true(fd >= 0);
	close(fd);
	snprintf(extra, sizeof(extra),
		 "Notify { command = \"/bin/sh -c 'echo $* >> %s' hook\" timeout = 2 }\n", out);
	fx_setup(state, extra);
	struct fx *f = *state;
	until_file(f, out, "acquire 198.51.100.21 eth0\n");
	until_file(f, out, "acquire 2001:db8:1::30 eth0\n");
	assert_int_equal(CMD(f, false, "cluster", "node", "standby"), 0);
	until_file(f, out, "node standby\n");
	until_file(f, out, "release 198.51.100.30 eth0\n");
	assert_int_equal(CMD(f, false, "cluster", "node", "active"), 0);
	until_file(f, out, "node active\n");
	/* a run is counted when its child is reaped, a moment after its line is written */
	struct vipd_node_state ns = { 0 };
	for (uint64_t t0 = loop_now_ms(); loop_now_ms() - t0 < 3000; loop_iterate(f->d.loop, 10)) {
		vipd_daemon_get_node(&f->d, &ns);
		if (ns.hook_runs >= 8)
			break;
	}
	struct jv *v;
	assert_int_equal(CMD(f, true, "metrics"), 0);
	v = J(f);
	assert_true(json_num(v, "vipd_hook_runs_total") >= 8);
	assert_int_equal(json_num(v, "vipd_hook_failures_total"), 0);
	json_free(v);
	unlink(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_standby_active_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_standby_from_config_and_reload, setup_standby, teardown),
		cmocka_unit_test_teardown(test_health_alone, teardown),
		cmocka_unit_test_teardown(test_hooks, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

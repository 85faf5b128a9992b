// SPDX-License-Identifier: MIT
/*
 * vipd/daemon as a whole on the fake port and the solo backend (no root, no
 * drop, no monitor): start-up to plumbed, config reload applied live or
 * refused, the planned stop, every console command's output, and the event
 * stream through a real control connection (socketpair).
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
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"
#include "json-check.h"
#include "log.h"

#define IF_ETH0 2

struct fx {
	char path[64];
	struct vipd_daemon d;
	struct vip_ctl_buf out;
};

static void write_conf(struct fx *f, const char *caps, const char *extra)
{
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	fprintf(fp, "Security { user = root group = root capabilities = \"%s\" }\n", caps);
	fprintf(fp, "Binding \"a\" { Bind_Address = 198.51.100.21 Enable_Duravip = true }\n");
	fprintf(fp, "ESMTP_Listener { Listen \"198.51.100.30:25\" { Enable_Duravip = true }\n"
		    "  Listen \"[2001:db8:1::30]:25\" { Enable_Duravip = true } }\n");
	fprintf(fp, "%s", extra);
	fclose(fp);
}

static struct vip_addr A(const char *s)
{
	struct vip_addr a;

	assert_int_equal(vip_addr_from_string(s, &a), 0);
	return a;
}

static bool has(struct fx *f, const char *s)
{
	struct vip_addr a = A(s);
	const struct vip_port_addr *p = vip_port_table_find(vip_port_fake_addrs(f->d.port), &a, 0);

	return p && p->ours;
}

/* Run the loop until it is idle for a few rounds (bounded). */
static void settle(struct fx *f)
{
	int idle = 0;

	for (int i = 0; i < 500 && idle < 3; i++)
		idle = loop_iterate(f->d.loop, 0) > 0 ? 0 : idle + 1;
}

#define CAPS "cap_net_admin+ep cap_net_raw+ep"

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int fd;

	log_set_level(LOG_WARNING);
	snprintf(f->path, sizeof(f->path), "/tmp/test-daemon-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	close(fd);
	write_conf(f, CAPS, "");
	struct vipd_daemon_opts o = {
		.config_path = f->path, .nodename = "n1",
		.port_ops = &vip_port_fake_ops, .backend_ops = &vip_cl_backend_solo,
		.no_drop = true, .no_control = true,
	};
	assert_int_equal(vipd_daemon_setup(&f->d, &o), 0);
	/* The fake system has no links yet: nothing can be placed until eth0 appears. */
	assert_false(has(f, "198.51.100.21"));
	struct vip_port_link l = { .ifindex = IF_ETH0, .ifname = "eth0", .up = true, .hwaddr_len = 6 };
	struct vip_port_addr own = { .addr = A("198.51.100.1"), .prefix = 24, .ifindex = IF_ETH0 };
	struct vip_port_addr own6 = { .addr = A("2001:db8:1::1"), .prefix = 64, .ifindex = IF_ETH0 };
	assert_int_equal(vip_port_fake_put_addr(f->d.port, &own), 0);
	assert_int_equal(vip_port_fake_put_addr(f->d.port, &own6), 0);
	assert_int_equal(vip_port_fake_set_link(f->d.port, &l), 0);
	settle(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vipd_daemon_free(&f->d);
	vip_ctl_buf_free(&f->out);
	unlink(f->path);
	free(f);
	return 0;
}

static void test_startup_plumbs_everything(void **state)
{
	struct fx *f = *state;

	assert_true(has(f, "198.51.100.21"));
	assert_true(has(f, "198.51.100.30"));
	assert_true(has(f, "2001:db8:1::30"));
	const struct vip_port_fake_frame *fr;
	assert_true(vip_port_fake_announced(f->d.port, &fr) >= 3);
}

static const char *out_str(struct fx *f)
{
	assert_int_equal(vip_ctl_buf_append(&f->out, "", 1), 0);
	f->out.len--;
	return (const char *)f->out.data;
}

static void test_reload_live_and_refused(void **state)
{
	struct fx *f = *state;

	/* Add one, remove one, and change the Security stanza in the same edit. */
	FILE *fp = fopen(f->path, "w");
	fprintf(fp, "Security { user = root group = root capabilities = \"" CAPS " cap_net_bind_service+ep\" }\n"
		    "Binding \"a\" { Bind_Address = 198.51.100.21 Enable_Duravip = true }\n"
		    "Binding \"c\" { Bind_Address = 198.51.100.40 Enable_Duravip = true }\n"
		    "ESMTP_Listener { Listen \"[2001:db8:1::30]:25\" { Enable_Duravip = true } }\n");
	fclose(fp);
	assert_int_equal(vipd_daemon_reload(&f->d, &f->out, false), 0);
	settle(f);
	const char *s = out_str(f);
	assert_non_null(strstr(s, "Changed Security: needs a restart of vipd; not applied."));
	assert_non_null(strstr(s, "Reconfigured: 1 DuraVIP added (198.51.100.40), 1 DuraVIP removed (198.51.100.30)"));
	assert_true(has(f, "198.51.100.40"));
	assert_false(has(f, "198.51.100.30"));
	assert_true(has(f, "198.51.100.21"));
	/* The running Security stays. */
	assert_string_equal(f->d.cfg->security.capabilities, CAPS);
	assert_true(f->d.restart_needed & VIP_CHANGE_SECURITY);

	/* A broken file: refused with the error, and nothing changes. */
	vip_ctl_buf_reset(&f->out);
	fp = fopen(f->path, "w");
	fprintf(fp, "Binding \"x\" { Bind_Address = ");
	fclose(fp);
	assert_int_equal(vipd_daemon_reload(&f->d, &f->out, false), -EINVAL);
	s = out_str(f);
	assert_non_null(strstr(s, "Reconfigure failed"));
	assert_non_null(strstr(s, ":1:"));
	settle(f);
	assert_true(has(f, "198.51.100.40"));
	assert_int_equal(f->d.stats.reload_failures, 1);

	/* JSON report. */
	vip_ctl_buf_reset(&f->out);
	write_conf(f, CAPS, "");
	assert_int_equal(vipd_daemon_reload(&f->d, &f->out, true), 0);
	s = out_str(f);
	assert_non_null(strstr(s, "\"result\":\"applied\",\"added\":[\"198.51.100.30\"],\"removed\":[\"198.51.100.40\"]"));
	assert_non_null(strstr(s, "\"needs_restart\":[]"));
	settle(f);
	assert_true(has(f, "198.51.100.30"));
}

static void test_reload_refuses_cluster_mode_change(void **state)
{
	struct fx *f = *state;

	write_conf(f, CAPS, "cluster { nodename = n1 }\nBinding \"z\" { Bind_Address = 198.51.100.50 Enable_Duravip = true }\n");
	assert_int_equal(vipd_daemon_reload(&f->d, &f->out, false), 0);
	assert_non_null(strstr(out_str(f), "Reconfigure refused: nothing was applied."));
	settle(f);
	assert_false(has(f, "198.51.100.50"));
	assert_false(f->d.cfg->cluster.enabled);
}

static void test_stop_releases_everything(void **state)
{
	struct fx *f = *state;

	vipd_daemon_stop(&f->d);
	assert_true(loop_is_exiting(f->d.loop));
	assert_false(has(f, "198.51.100.21"));
	assert_false(has(f, "198.51.100.30"));
	assert_false(has(f, "2001:db8:1::30"));
	/* Nothing comes back while the loop winds down. */
	settle(f);
	assert_false(has(f, "198.51.100.21"));
}

/* ---------------------------------------------------------------- commands */

static int run(struct fx *f, bool json, const char *words, const char *a0, const char *a1)
{
	size_t n;
	const struct vipd_control_command *t = vipd_daemon_commands(&n);
	const char *args[3] = { a0, a1, NULL };
	struct vipd_control_call call = {
		.args = args, .n_args = a1 ? 2 : (a0 ? 1 : 0), .json = json, .out = &f->out, .userdata = &f->d,
	};

	vip_ctl_buf_reset(&f->out);
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].words, words) == 0)
			return t[i].fn(&call);
	fail_msg("no command %s", words);
	return -1;
}

static void test_cmd_duravip_show(void **state)
{
	struct fx *f = *state;
	const char *s;

	assert_int_equal(run(f, false, "cluster duravip show", NULL, NULL), 0);
	s = out_str(f);
	assert_non_null(strstr(s, "View: 1 member, quorate"));
	assert_non_null(strstr(s, "configuration stable for"));
	assert_non_null(strstr(s, "198.51.100.21/32\n    services:   binding:a\n    owner:      n1 (this node)\n"));
	assert_non_null(strstr(s, "    interface:  eth0 (plumbed here)\n    owned for:  "));
	assert_non_null(strstr(s, "2001:db8:1::30/128"));
	assert_non_null(strstr(s, "state:      owned"));
	assert_int_equal(run(f, true, "cluster duravip show", "198.51.100.30", NULL), 0);
	s = out_str(f);
	assert_non_null(strstr(s, "{\"view\":{\"in_view\":true,\"members\":1,\"quorate\":true"));
	assert_non_null(strstr(s, "\"duravips\":[{\"address\":\"198.51.100.30\",\"prefix\":32,"
				  "\"services\":[\"ESMTP_Listener:198.51.100.30:25\"],\"owner\":\"n1\",\"self\":true,"
				  "\"state\":[\"owned\""));
	assert_null(strstr(s, "198.51.100.21"));
	assert_true(json_valid(s));
	/* the checker itself refuses what is not JSON */
	assert_false(json_valid("{\"a\":}"));
	assert_false(json_valid("{\"a\":1,}"));
	assert_false(json_valid("[1 2]"));
	assert_false(json_valid("{\"a\":tru}"));
	assert_false(json_valid("\"\\x\""));
	assert_false(json_valid("{} {}"));
	assert_true(json_valid("{\"a\":[1,-2.5e3,\"\\u00e9\",null,true,false,{}]}\n"));
	assert_int_equal(run(f, false, "cluster duravip show", "198.51.100.99", NULL), 1);
	assert_int_equal(run(f, false, "cluster duravip show", "nonsense", NULL), -EINVAL);
}

static void test_cmd_move_balance_announce(void **state)
{
	struct fx *f = *state;

	assert_int_equal(run(f, false, "cluster duravip move", "bogus", "n1"), -EINVAL);
	assert_int_equal(run(f, false, "cluster duravip move", "198.51.100.99", "n1"), 1);
	assert_non_null(strstr(out_str(f), "198.51.100.99 is not a DuraVIP"));
	assert_int_equal(run(f, false, "cluster duravip move", "198.51.100.21", "n1"), 0);
	assert_string_equal(out_str(f), "Move of 198.51.100.21 to n1 requested.\n");
	settle(f);
	assert_true(has(f, "198.51.100.21"));
	assert_int_equal(run(f, true, "cluster duravip balance", NULL, NULL), 0);
	assert_string_equal(out_str(f), "{\"result\":\"requested\"}\n");
	size_t before = vip_port_fake_announced(f->d.port, &(const struct vip_port_fake_frame *){ 0 });
	assert_int_equal(run(f, false, "cluster duravip announce view", NULL, NULL), 0);
	assert_string_equal(out_str(f), "Announcing 3 DuraVIPs held by this node.\n");
	/* Announced again (after the 1 s locktime at the latest). */
	for (int i = 0; i < 150 && vip_port_fake_announced(f->d.port, &(const struct vip_port_fake_frame *){ 0 }) < before + 3; i++)
		loop_iterate(f->d.loop, 10);
	assert_true(vip_port_fake_announced(f->d.port, &(const struct vip_port_fake_frame *){ 0 }) >= before + 3);
}

static void test_cmd_membership_info_arp(void **state)
{
	struct fx *f = *state;
	const char *s;

	assert_int_equal(run(f, false, "cluster membership", NULL, NULL), 0);
	s = out_str(f);
	assert_non_null(strstr(s, "Group ec_cluster, view 1: 1 member\n"));
	assert_non_null(strstr(s, "n1"));
	assert_non_null(strstr(s, "owns 3"));
	assert_non_null(strstr(s, "(this node)"));
	assert_int_equal(run(f, false, "cluster info", NULL, NULL), 0);
	s = out_str(f);
	assert_non_null(strstr(s, "Backend:    solo (connected)\nGroup:      ec_cluster\nNode:       n1\nQuorum:     quorate\n"));
	assert_non_null(strstr(s, "Members:    n1\n"));
	assert_non_null(strstr(s, "Round:      closed, 0 silent members, 0 ghosts\n"));
	assert_non_null(strstr(s, "Counters:   0 rounds closed by CLOSE, 0 STATE retries, 0 sends dropped\n"));
	assert_int_equal(run(f, true, "cluster info", NULL, NULL), 0);
	assert_non_null(strstr(out_str(f), "{\"backend\":\"solo\",\"connected\":true,\"group\":\"ec_cluster\",\"node\":\"n1\",\"quorate\":true"));
	assert_true(json_valid(out_str(f)));
	assert_non_null(strstr(out_str(f), "\"live\":true,"));
	assert_non_null(strstr(out_str(f), "\"round\":{\"complete\":true,\"waiting\":0,\"silent\":0,\"ghosts\":0,"));
	assert_int_equal(run(f, true, "cluster membership", NULL, NULL), 0);
	assert_true(json_valid(out_str(f)));
	assert_non_null(strstr(out_str(f), "\"monitor\":false,\"silent\":false,\"waiting\":false}"));
	assert_int_equal(run(f, false, "cluster arp show", NULL, NULL), 0);
	s = out_str(f);
	assert_non_null(strstr(s, "ARP mode request; 5 repeats every 1.1s; refresh off; pace unlimited\n"));
	assert_non_null(strstr(s, "198.51.100.21"));
	assert_non_null(strstr(s, "eth0"));
	assert_non_null(strstr(s, "3 announcements sent"));
}

static void test_cmd_metrics_security(void **state)
{
	struct fx *f = *state;
	const char *s;

	assert_int_equal(run(f, false, "metrics", NULL, NULL), 0);
	s = out_str(f);
	assert_non_null(strstr(s, "# TYPE vipd_duravips_owned gauge\nvipd_duravips_owned 3\n"));
	assert_non_null(strstr(s, "vipd_announcements_total 3\n"));
	assert_non_null(strstr(s, "# TYPE vipd_resyncs_total counter\nvipd_resyncs_total 0\n"));
	assert_non_null(strstr(s, "vipd_view_changes_total 1\n"));
	assert_non_null(strstr(s, "vipd_last_failover_duration_seconds 0\n"));
	assert_non_null(strstr(s, "vipd_netlink_errors_total 0\n"));
	assert_non_null(strstr(s, "vipd_duravip_moves_total"));
	assert_non_null(strstr(s, "# TYPE vipd_members_silent gauge\nvipd_members_silent 0\n"));
	assert_non_null(strstr(s, "vipd_round_closes_total 0\n"));
	assert_non_null(strstr(s, "vipd_cluster_live 1\n"));
	assert_int_equal(run(f, true, "metrics", NULL, NULL), 0);
	assert_non_null(strstr(out_str(f), "\"vipd_duravips_owned\":3,"));
	assert_true(json_valid(out_str(f)));
	assert_int_equal(run(f, false, "config show security", NULL, NULL), 0);
	s = out_str(f);
	assert_non_null(strstr(s, "Configured: user root (0), group root (0), capabilities " CAPS "\n"));
	assert_non_null(strstr(s, "Running:    uid="));
	assert_non_null(strstr(s, "    CapEff"));
	assert_non_null(strstr(s, "    NoNewPrivs"));
	assert_int_equal(run(f, true, "config show security", NULL, NULL), 0);
	assert_non_null(strstr(out_str(f), "\"status\":{\"Uid\":"));
}

/* The event stream through the real control server and wire format. */
/*
 * A second member that never speaks: the round waits for it (shown as
 * waiting), then closes at the round timeout (shown as SILENT, counted).
 */
static void test_cmd_silent_member(void **state)
{
	struct fx *f = *state;
	struct vip_cl_member me, other = { .nodeid = 77, .pid = 7 };
	const char *s;

	assert_int_equal(vip_cl_backend_solo.local(f->d.be, &me), 0);
	struct vip_cl_member two[2] = { me, other };
	struct vip_cl_view v = { .members = two, .n_members = 2, .self = 0 };
	assert_int_equal(vip_cl_proto_on_view(f->d.proto, &v, loop_now_ms()), 0);
	vipd_daemon_pump(&f->d);
	settle(f);
	assert_int_equal(run(f, false, "cluster membership", NULL, NULL), 0);
	s = out_str(f);
	assert_non_null(strstr(s, "(unknown)            nodeid 77     pid 7        owns 0    waiting\n"));
	assert_int_equal(run(f, false, "cluster info", NULL, NULL), 0);
	assert_non_null(strstr(out_str(f), "Round:      open, waiting for 1 member\n"));
	assert_non_null(strstr(out_str(f), "Members:    n1 (unknown)(waiting)\n"));
	assert_int_equal(run(f, true, "cluster membership", NULL, NULL), 0);
	assert_true(json_valid(out_str(f)));
	assert_non_null(strstr(out_str(f), "\"silent\":false,\"waiting\":true}"));
	/* nobody knows it: the round closes at twice the round timeout */
	uint64_t t = loop_now_ms() + 2 * f->d.cfg->cluster.duravip_round_timeout_ms;
	assert_int_equal(vip_cl_proto_on_tick(f->d.proto, t), 0);
	vipd_daemon_pump(&f->d);
	settle(f);
	assert_int_equal(run(f, false, "cluster membership", NULL, NULL), 0);
	assert_non_null(strstr(out_str(f), "owns 0    SILENT\n"));
	assert_int_equal(run(f, true, "cluster info", NULL, NULL), 0);
	s = out_str(f);
	assert_true(json_valid(s));
	assert_non_null(strstr(s, "\"round\":{\"complete\":true,\"waiting\":0,\"silent\":1,\"ghosts\":0,\"closes\":1,"));
	assert_int_equal(run(f, false, "metrics", NULL, NULL), 0);
	assert_non_null(strstr(out_str(f), "vipd_members_silent 1\n"));
	assert_non_null(strstr(out_str(f), "vipd_round_closes_total 1\n"));
	assert_int_equal(run(f, true, "cluster duravip show", NULL, NULL), 0);
	assert_true(json_valid(out_str(f)));
	assert_true(has(f, "198.51.100.21")); /* it holds nothing: ours stay ours */
}

static void test_events_stream(void **state)
{
	struct fx *f = *state;
	size_t n;
	const struct vipd_control_command *t = vipd_daemon_commands(&n);
	struct vipd_control_config cc = { .commands = t, .n_commands = n, .userdata = &f->d,
					  .daemon_uid = getuid(), .gid = getgid() };
	struct vip_ctl_buf req = { 0 }, in = { 0 };
	const char *argv[] = { "events" };
	int sp[2];
	uint8_t buf[4096];

	assert_int_equal(vipd_control_new_detached(f->d.loop, &cc, &f->d.control), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(vipd_control_adopt(f->d.control, sp[0]), 0);
	assert_int_equal(vip_ctl_request_encode(&req, argv, 1, false), 0);
	assert_int_equal(write(sp[1], req.data, req.len), (ssize_t)req.len);
	settle(f);
	assert_int_equal(vipd_control_n_subscribers(f->d.control), 1);
	/* Someone removes a DuraVIP: put back, and the subscriber hears of it. */
	struct vip_port_req q = { .addr = A("198.51.100.21"), .prefix = 32, .ifindex = IF_ETH0 };
	assert_int_equal(vip_port_fake_ops.remove(f->d.port, &q, 1), 0);
	settle(f);
	assert_true(has(f, "198.51.100.21"));
	fcntl(sp[1], F_SETFL, O_NONBLOCK);
	for (ssize_t r; (r = read(sp[1], buf, sizeof(buf))) > 0;)
		vip_ctl_buf_append(&in, buf, (size_t)r);
	assert_int_equal(vip_ctl_buf_append(&in, "", 1), 0);
	/* Frames carry text without NUL: search the bytes. */
	assert_non_null(memmem(in.data, in.len, "put-back 198.51.100.21 eth0\n", 28));
	assert_non_null(memmem(in.data, in.len, "acquired 198.51.100.21 eth0\n", 28));
	vip_ctl_buf_free(&req);
	vip_ctl_buf_free(&in);
	close(sp[1]);
	settle(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_startup_plumbs_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_live_and_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_refuses_cluster_mode_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_releases_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmd_duravip_show, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmd_move_balance_announce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmd_membership_info_arp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmd_metrics_security, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmd_silent_member, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_stream, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

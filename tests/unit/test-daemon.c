/* SPDX-License-Identifier: MIT */
/*
 * vipd/daemon as a whole on the fake port and the solo backend (no root, no
 * drop, no monitor): start-up to plumbed, config reload applied live or
 * refused, the planned stop, and every console command through a real
 * control connection (socketpair): each reply as text and as JSON, the JSON
 * parsed (json-check.h), success and error paths, a reply over the size
 * bound, and the event stream.
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

#include "commands.h"
#include "daemon-internal.h"
#include "json-check.h"
#include "log.h"

#include "daemon-fx.h"

static void test_startup_plumbs_everything(void **state)
{
	struct fx *f = *state;

	assert_true(has(f, "198.51.100.21"));
	assert_true(has(f, "198.51.100.30"));
	assert_true(has(f, "2001:db8:1::30"));
	const struct vip_port_fake_frame *fr;
	assert_true(vip_port_fake_announced(f->d.port, &fr) >= 3);
}

static void reload(struct fx *f, int want)
{
	vipd_reload_result_clear(&f->res);
	assert_int_equal(vipd_daemon_reload(&f->d, &f->res), want);
}

static void test_reload_live_and_refused(void **state)
{
	struct fx *f = *state;
	char buf[VIP_ADDR_STRLEN];

	/* Add one, remove one, and change the Security stanza in the same edit. */
	FILE *fp = fopen(f->path, "w");
	fprintf(fp,
		"Security { user = root group = root capabilities = \"" CAPS " cap_net_bind_service+ep\" }\n"
		"Binding \"a\" { Bind_Address = 198.51.100.21 Enable_Duravip = true }\n"
		"Binding \"c\" { Bind_Address = 198.51.100.40 Enable_Duravip = true }\n"
		"ESMTP_Listener { Listen \"[2001:db8:1::30]:25\" { Enable_Duravip = true } }\n");
	fclose(fp);
	reload(f, 0);
	settle(f);
	assert_int_equal(f->res.outcome, VIPD_RELOAD_APPLIED);
	assert_int_equal(f->res.needs_restart, VIP_CHANGE_SECURITY);
	assert_int_equal(f->res.n_added, 1);
	assert_string_equal(vip_addr_to_string(&f->res.added[0], buf, sizeof(buf)), "198.51.100.40");
	assert_int_equal(f->res.n_removed, 1);
	assert_string_equal(vip_addr_to_string(&f->res.removed[0], buf, sizeof(buf)), "198.51.100.30");
	assert_true(has(f, "198.51.100.40"));
	assert_false(has(f, "198.51.100.30"));
	assert_true(has(f, "198.51.100.21"));
	/* The running Security stays. */
	assert_string_equal(f->d.cfg->security.capabilities, CAPS);
	assert_true(f->d.restart_needed & VIP_CHANGE_SECURITY);

	/* A broken file: refused with the error, and nothing changes. */
	fp = fopen(f->path, "w");
	fprintf(fp, "Binding \"x\" { Bind_Address = ");
	fclose(fp);
	reload(f, -EINVAL);
	assert_int_equal(f->res.outcome, VIPD_RELOAD_FAILED);
	assert_true(f->res.diag.n_errors >= 1);
	assert_int_equal(f->res.diag.items[0].line, 1);
	settle(f);
	assert_true(has(f, "198.51.100.40"));
	assert_int_equal(f->d.stats.reload_failures, 1);

	/* A file that is gone: failed, with the system's error as a diagnostic. */
	char moved[80];
	snprintf(moved, sizeof(moved), "%s.gone", f->path);
	assert_int_equal(rename(f->path, moved), 0);
	reload(f, -EINVAL);
	assert_int_equal(f->res.outcome, VIPD_RELOAD_FAILED);
	assert_int_equal(f->res.diag.n_errors, 1);
	assert_non_null(strstr(f->res.diag.items[0].message, strerror(ENOENT)));
	assert_int_equal(rename(moved, f->path), 0);

	write_conf(f, CAPS, "");
	reload(f, 0);
	assert_int_equal(f->res.n_added, 1);
	assert_string_equal(vip_addr_to_string(&f->res.added[0], buf, sizeof(buf)), "198.51.100.30");
	assert_int_equal(f->res.needs_restart, 0);
	settle(f);
	assert_true(has(f, "198.51.100.30"));
}

static void test_reload_refuses_cluster_mode_change(void **state)
{
	struct fx *f = *state;

	write_conf(
		f, CAPS,
		"cluster { nodename = n1 }\nBinding \"z\" { Bind_Address = 198.51.100.50 Enable_Duravip = true }\n");
	reload(f, 0);
	assert_int_equal(f->res.outcome, VIPD_RELOAD_REFUSED);
	assert_true(f->res.needs_restart & VIP_CHANGE_CLUSTER_MODE);
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

static void test_cmd_duravip_show(void **state)
{
	struct fx *f = *state;
	struct jv *v;

	assert_int_equal(CMD(f, false, "cluster", "duravip", "show"), 0);
	assert_non_null(strstr(f->body, "View: 1 member, quorate"));
	assert_non_null(strstr(f->body, "configuration stable for"));
	assert_non_null(strstr(
		f->body, "198.51.100.21/32\n    services:   binding:a\n    owner:      n1 (this node)\n"));
	assert_non_null(strstr(f->body, "    interface:  eth0 (plumbed here)\n    owned for:  "));
	assert_non_null(strstr(f->body, "2001:db8:1::30/128"));
	assert_non_null(strstr(f->body, "state:      owned"));
	assert_int_equal(CMD(f, true, "cluster", "duravip", "show"), 0);
	v = J(f);
	assert_true(json_bool(v, "view.in_view"));
	assert_int_equal(json_num(v, "view.members"), 1);
	assert_true(json_bool(v, "view.quorate"));
	assert_true(json_num(v, "config_stable_ms") >= 0);
	assert_int_equal(json_len(v, "duravips"), 3);
	json_free(v);
	assert_int_equal(CMD(f, true, "cluster", "duravip", "show", "198.51.100.30"), 0);
	v = J(f);
	assert_int_equal(json_len(v, "duravips"), 1);
	assert_string_equal(json_str(v, "duravips.0.address"), "198.51.100.30");
	assert_int_equal(json_num(v, "duravips.0.prefix"), 32);
	assert_int_equal(json_len(v, "duravips.0.services"), 1);
	assert_string_equal(json_str(v, "duravips.0.services.0"), "ESMTP_Listener:198.51.100.30:25");
	assert_string_equal(json_str(v, "duravips.0.owner"), "n1");
	assert_true(json_bool(v, "duravips.0.self"));
	assert_string_equal(json_str(v, "duravips.0.state.0"), "owned");
	assert_true(json_is_null(v, "duravips.0.preference"));
	assert_string_equal(json_str(v, "duravips.0.interface"), "eth0");
	assert_true(json_bool(v, "duravips.0.plumbed"));
	json_free(v);
	/* Errors: not a DuraVIP, not an address. */
	assert_int_equal(CMD(f, false, "cluster", "duravip", "show", "198.51.100.99"), 1);
	assert_string_equal(f->body, "error: 198.51.100.99 is not a DuraVIP\n");
	CMD(f, true, "cluster", "duravip", "show", "198.51.100.99");
	expect_error(f, 1, "198.51.100.99 is not a DuraVIP");
	assert_int_equal(CMD(f, false, "cluster", "duravip", "show", "non\"sense"), VIP_CTL_USAGE);
	CMD(f, true, "cluster", "duravip", "show", "non\"sense\\");
	expect_error(f, VIP_CTL_USAGE, "'non\"sense\\' is not an IP address");
	/* Too many arguments: the table's usage line. */
	CMD(f, true, "cluster", "duravip", "show", "a", "b");
	expect_error(f, VIP_CTL_USAGE, "usage: cluster duravip show [<ip>]");
}

static void test_cmd_move_balance_announce(void **state)
{
	struct fx *f = *state;
	struct jv *v;
	char longname[300];

	assert_int_equal(CMD(f, false, "cluster", "duravip", "move", "bogus", "n1"), VIP_CTL_USAGE);
	CMD(f, true, "cluster", "duravip", "move", "bo\"gus", "n1");
	expect_error(f, VIP_CTL_USAGE, "'bo\"gus' is not an IP address");
	assert_int_equal(CMD(f, false, "cluster", "duravip", "move", "198.51.100.99", "n1"), 1);
	assert_string_equal(f->body, "error: 198.51.100.99 is not a DuraVIP\n");
	/* The case: user text with a quote and a backslash, in every path. */
	CMD(f, true, "cluster", "duravip", "move", "203.0.113.51", "a\"b\\");
	expect_error(f, 1, "203.0.113.51 is not a DuraVIP");
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memcpy(longname, "a\"b\\", 4); /* a name the group refuses (too long) */
	CMD(f, true, "cluster", "duravip", "move", "198.51.100.21", longname);
	v = J(f);
	assert_int_equal(f->status, 1);
	char want[400];
	snprintf(want, sizeof(want), "cannot move to '%s': Invalid argument", longname);
	assert_string_equal(json_str(v, "error"), want);
	json_free(v);
	assert_int_equal(CMD(f, true, "cluster", "duravip", "move", "198.51.100.21", "a\"b\\"), 0);
	v = J(f);
	assert_string_equal(json_str(v, "result"), "requested");
	assert_string_equal(json_str(v, "address"), "198.51.100.21");
	assert_string_equal(json_str(v, "node"), "a\"b\\");
	json_free(v);
	settle(f);
	assert_int_equal(CMD(f, false, "cluster", "duravip", "move", "198.51.100.21", "n1"), 0);
	assert_string_equal(f->body, "Move of 198.51.100.21 to n1 requested.\n");
	settle(f);
	assert_true(has(f, "198.51.100.21"));
	assert_int_equal(CMD(f, true, "cluster", "duravip", "balance"), 0);
	v = J(f);
	assert_string_equal(json_str(v, "result"), "requested");
	json_free(v);
	assert_int_equal(CMD(f, false, "cluster", "duravip", "balance"), 0);
	assert_string_equal(f->body, "Balancing round requested.\n");
	size_t before = vip_port_fake_announced(f->d.port, &(const struct vip_port_fake_frame *){ 0 });
	assert_int_equal(CMD(f, false, "cluster", "duravip", "announce", "view"), 0);
	assert_string_equal(f->body, "Announcing 3 DuraVIPs held by this node.\n");
	assert_int_equal(CMD(f, true, "cluster", "duravip", "announce", "view"), 0);
	v = J(f);
	assert_string_equal(json_str(v, "result"), "announcing");
	assert_int_equal(json_num(v, "count"), 3);
	json_free(v);
	/* Announced again (after the 1 s locktime at the latest). */
	for (int i = 0;
	     i < 150 &&
	     vip_port_fake_announced(f->d.port, &(const struct vip_port_fake_frame *){ 0 }) < before + 3;
	     i++)
		loop_iterate(f->d.loop, 10);
	assert_true(vip_port_fake_announced(f->d.port, &(const struct vip_port_fake_frame *){ 0 }) >=
		    before + 3);
}

static void test_cmd_membership_info_arp(void **state)
{
	struct fx *f = *state;
	struct jv *v;

	assert_int_equal(CMD(f, false, "cluster", "membership"), 0);
	assert_non_null(strstr(f->body, "Group ec_cluster, view 1: 1 member\n"));
	assert_non_null(strstr(f->body, "n1"));
	assert_non_null(strstr(f->body, "owns 3"));
	assert_non_null(strstr(f->body, "(this node)"));
	assert_int_equal(CMD(f, true, "cluster", "membership"), 0);
	v = J(f);
	assert_string_equal(json_str(v, "group"), "ec_cluster");
	assert_int_equal(json_num(v, "ring_seq"), 1);
	assert_int_equal(json_len(v, "members"), 1);
	assert_string_equal(json_str(v, "members.0.name"), "n1");
	assert_int_equal(json_num(v, "members.0.owns"), 3);
	assert_true(json_bool(v, "members.0.self"));
	assert_false(json_bool(v, "members.0.monitor"));
	assert_false(json_bool(v, "members.0.silent"));
	assert_false(json_bool(v, "members.0.waiting"));
	json_free(v);
	assert_int_equal(CMD(f, false, "cluster", "info"), 0);
	assert_non_null(strstr(
		f->body,
		"Backend:    solo (connected)\nGroup:      ec_cluster\nNode:       n1\nQuorum:     quorate\n"));
	assert_non_null(strstr(f->body, "Members:    n1\n"));
	assert_non_null(strstr(f->body, "Round:      closed, 0 silent members, 0 ghosts\n"));
	assert_non_null(strstr(f->body,
			       "Counters:   0 rounds closed by CLOSE, 0 STATE retries, 0 sends dropped\n"));
	assert_int_equal(CMD(f, true, "cluster", "info"), 0);
	v = J(f);
	assert_string_equal(json_str(v, "backend"), "solo");
	assert_true(json_bool(v, "connected"));
	assert_string_equal(json_str(v, "group"), "ec_cluster");
	assert_string_equal(json_str(v, "node"), "n1");
	assert_true(json_bool(v, "quorate"));
	assert_true(json_bool(v, "live"));
	assert_true(json_bool(v, "in_view"));
	assert_true(json_bool(v, "round.complete"));
	assert_int_equal(json_num(v, "round.waiting"), 0);
	assert_int_equal(json_num(v, "round.silent"), 0);
	assert_int_equal(json_len(v, "members"), 1);
	assert_string_equal(json_str(v, "members.0"), "n1");
	assert_int_equal(json_len(v, "monitors"), 0);
	/* solo: nothing to authenticate, and no warning about it */
	assert_false(json_bool(v, "auth.authenticated"));
	assert_int_equal(json_num(v, "auth.failed"), 0);
	assert_int_equal(json_num(v, "auth.replayed"), 0);
	assert_true(json_is_null(v, "auth.warning"));
	assert_false(json_bool(v, "restart_needed"));
	json_free(v);
	assert_int_equal(CMD(f, false, "cluster", "arp", "show"), 0);
	assert_non_null(strstr(f->body,
			       "ARP mode request; 5 repeats every 1.1s; refresh off; pace unlimited\n"));
	assert_non_null(strstr(f->body, "198.51.100.21"));
	assert_non_null(strstr(f->body, "eth0"));
	assert_non_null(strstr(f->body, "3 announcements sent"));
	assert_int_equal(CMD(f, true, "cluster", "arp", "show"), 0);
	v = J(f);
	assert_string_equal(json_str(v, "mode"), "request");
	assert_int_equal(json_num(v, "repeat"), 5);
	assert_int_equal(json_num(v, "repeat_interval_ms"), 1100);
	assert_int_equal(json_len(v, "addresses"), 3);
	assert_string_equal(json_str(v, "addresses.0.interface"), "eth0");
	assert_int_equal(json_num(v, "announced"), 3);
	json_free(v);
}

static void test_cmd_metrics_security(void **state)
{
	struct fx *f = *state;
	struct jv *v;

	assert_int_equal(CMD(f, false, "metrics"), 0);
	assert_non_null(strstr(f->body, "# TYPE vipd_duravips_owned gauge\nvipd_duravips_owned 3\n"));
	assert_non_null(strstr(f->body, "vipd_announcements_total 3\n"));
	assert_non_null(strstr(f->body, "# TYPE vipd_resyncs_total counter\nvipd_resyncs_total 0\n"));
	assert_non_null(strstr(f->body, "vipd_view_changes_total 1\n"));
	assert_non_null(strstr(f->body, "vipd_last_failover_duration_seconds 0\n"));
	assert_non_null(strstr(f->body, "# TYPE vipd_members_silent gauge\nvipd_members_silent 0\n"));
	assert_non_null(strstr(f->body, "vipd_cluster_live 1\n"));
	assert_int_equal(CMD(f, true, "metrics"), 0);
	v = J(f);
	assert_int_equal(json_num(v, "vipd_duravips_owned"), 3);
	assert_int_equal(json_num(v, "vipd_announcements_total"), 3);
	assert_int_equal(json_num(v, "vipd_announce_unicast_total"), 0); /* arp_all_hosts = true */
	assert_int_equal(json_num(v, "vipd_announce_fallbacks_total"), 0);
	assert_int_equal(json_num(v, "vipd_cluster_live"), 1);
	assert_int_equal(json_num(v, "vipd_reloads_total"), 0);
	assert_int_equal(json_num(v, "vipd_cluster_authenticated"), 0);
	assert_int_equal(json_num(v, "vipd_cluster_auth_failed_total"), 0);
	assert_int_equal(json_num(v, "vipd_cluster_auth_replayed_total"), 0);
	assert_int_equal(json_num(v, "vipd_neigh_cache_entries"), 0);
	assert_int_equal(json_num(v, "vipd_probes_sent_total"), 0); /* alone: nothing is probed */
	assert_int_equal(json_num(v, "vipd_probe_claims_total"), 0);
	assert_int_equal(json_num(v, "vipd_probe_cleared_total"), 0);
	assert_int_equal(json_len(v, ""), 64);
	/* the per-DuraVIP structures of 3 DuraVIPs */
	assert_true(json_num(v, "vipd_memory_config_bytes") >= 3 * sizeof(struct vipd_duravip));
	assert_true(json_num(v, "vipd_memory_engine_bytes") >= 3 * sizeof(void *));
	assert_true(json_num(v, "vipd_memory_table_bytes") >= 3 * sizeof(struct vip_addr));
	/* the local list refers to its addresses (cluster/proto-body.c): 4 bytes at least each */
	assert_true(json_num(v, "vipd_memory_local_bytes") >= 3 * sizeof(uint32_t));
	assert_true(json_num(v, "vipd_memory_records_bytes") >= 3 * sizeof(struct vip_cl_record));
	assert_true(json_num(v, "vipd_memory_announce_bytes") >= 3 * sizeof(struct vip_addr));
	/* 4 bytes each, and the addresses: two IPv4, one IPv6 */
	assert_true(json_num(v, "vipd_memory_owners_bytes") >= 3 * 4 + 2 * 4 + 16);
	/* glibc's mallinfo2 of this process (0 under a sanitizer's malloc) */
	assert_true(json_num(v, "vipd_memory_heap_used_bytes") >= 0);
	assert_true(json_num(v, "vipd_memory_heap_free_bytes") >= 0);
	json_free(v);
	assert_int_equal(CMD(f, false, "config", "show", "security"), 0);
	assert_non_null(strstr(f->body,
			       "Configured: user root (0), group root (0), capabilities " CAPS "\n"));
	assert_non_null(strstr(f->body, "Running:    uid="));
	assert_non_null(strstr(f->body, "    CapEff"));
	assert_non_null(strstr(f->body, "    NoNewPrivs"));
	assert_int_equal(CMD(f, true, "config", "show", "security"), 0);
	v = J(f);
	assert_string_equal(json_str(v, "configured.user"), "root");
	assert_int_equal(json_num(v, "configured.uid"), 0);
	assert_string_equal(json_str(v, "configured.capabilities"), CAPS);
	assert_true(json_is_null(v, "configured.chroot"));
	assert_non_null(strstr(json_str(v, "running.identity"), "uid="));
	assert_true(strlen(json_str(v, "running.status.Uid")) > 0);
	assert_true(strlen(json_str(v, "running.status.CapEff")) > 0);
	assert_false(json_bool(v, "restart_needed"));
	json_free(v);
}

static void test_cmd_reload(void **state)
{
	struct fx *f = *state;
	struct jv *v;

	write_conf(f, CAPS " cap_net_bind_service+ep",
		   "Binding \"c\" { Bind_Address = 198.51.100.40 Enable_Duravip = true }\n");
	assert_int_equal(CMD(f, false, "config", "reload"), 0);
	assert_non_null(strstr(f->body, "Changed Security: needs a restart of vipd; not applied.\n"));
	assert_non_null(strstr(
		f->body,
		"Reconfigured: 1 DuraVIP added (198.51.100.40), 0 DuraVIPs removed, 0 DuraVIPs changed.\n"));
	write_conf(f, CAPS, "");
	assert_int_equal(CMD(f, true, "config", "reload"), 0);
	v = J(f);
	assert_string_equal(json_str(v, "result"), "applied");
	assert_int_equal(json_len(v, "added"), 0);
	assert_int_equal(json_len(v, "removed"), 1);
	assert_string_equal(json_str(v, "removed.0"), "198.51.100.40");
	assert_int_equal(json_len(v, "changed"), 0);
	assert_int_equal(json_len(v, "needs_restart"), 0);
	assert_true(json_len(v, "warnings") >= 0);
	json_free(v);
	/* With errors: status 1, the errors listed, still JSON. */
	FILE *fp = fopen(f->path, "w");
	fprintf(fp, "Binding \"x\\\" { Bind_Address = ");
	fclose(fp);
	assert_int_equal(CMD(f, false, "config", "reload"), 1);
	assert_non_null(strstr(f->body, ":1:"));
	assert_non_null(strstr(f->body, "Reconfigure failed: the running configuration is kept.\n"));
	assert_int_equal(CMD(f, true, "config", "reload"), 1);
	v = J(f);
	assert_string_equal(json_str(v, "result"), "failed");
	assert_int_equal(json_num(v, "status"), 1);
	assert_true(json_len(v, "errors") >= 1);
	assert_non_null(strstr(json_str(v, "errors.0"), ":1:"));
	assert_true(strlen(json_str(v, "error")) > 0);
	json_free(v);
	/* Refused: the cluster scope cannot come and go live. */
	write_conf(f, CAPS, "cluster { nodename = n1 }\n");
	assert_int_equal(CMD(f, true, "config", "reload"), 0);
	v = J(f);
	assert_string_equal(json_str(v, "result"), "refused");
	assert_string_equal(json_str(v, "needs_restart.0"), "cluster_mode");
	json_free(v);
	assert_int_equal(CMD(f, false, "config", "reload"), 0);
	assert_non_null(strstr(f->body, "Reconfigure refused: nothing was applied.\n"));
	/* cluster info and security now say a restart is needed. */
	assert_int_equal(CMD(f, true, "cluster", "info"), 0);
	v = J(f);
	assert_true(json_bool(v, "restart_needed"));
	json_free(v);
}

/* Every command of the table answers a JSON request with JSON, and help is served. */
static void test_cmd_every_command_json(void **state)
{
	struct fx *f = *state;

	for (size_t i = 0; i < _VIP_CTL_CMD_MAX; i++) {
		const struct vip_ctl_command *c = &vip_ctl_commands[i];
		const char *argv[8];
		size_t argc = 0;
		char words[64], *save = NULL;

		if (c->flags & VIP_CTL_CMD_F_STREAM)
			continue; /* events: its own test below */
		snprintf(words, sizeof(words), "%s", c->words);
		for (char *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save))
			argv[argc++] = w;
		if (c->min_args == 2) {
			argv[argc++] = "198.51.100.21";
			argv[argc++] = "n1";
		}
		assert_true(cmdv(f, true, argv, argc) < 256); /* cmdv parsed it */
		assert_int_equal(f->status, 0);
		settle(f);
	}
}

/* A reply over the bound is an error, never a cut document. */
static void test_cmd_reply_too_large(void **state)
{
	struct fx *f = *state;
	struct vipd_control_config cc = { .handlers = vipd_commands(),
					  .userdata = &f->d,
					  .daemon_uid = getuid(),
					  .gid = getgid(),
					  .max_reply = 300 };
	int sp[2];

	vipd_control_free(f->d.control);
	close(f->client);
	assert_int_equal(vipd_control_new_detached(f->d.loop, &cc, &f->d.control), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(vipd_control_adopt(f->d.control, sp[0]), 0);
	f->client = sp[1];
	assert_int_equal(CMD(f, true, "cluster", "duravip", "show"), VIP_CTL_TOO_LARGE);
	expect_error(f, VIP_CTL_TOO_LARGE, "reply too large");
	assert_int_equal(CMD(f, false, "metrics"), VIP_CTL_TOO_LARGE);
	assert_string_equal(f->body, "error: reply too large\n");
	/* What fits still answers. */
	assert_int_equal(CMD(f, true, "cluster", "duravip", "balance"), 0);
}

/*
 * A second member that never speaks: the round waits for it (shown as
 * waiting), then closes at the round timeout (shown as SILENT, counted).
 */
static void test_cmd_silent_member(void **state)
{
	struct fx *f = *state;
	struct vip_cl_member me, other = { .nodeid = 77, .pid = 7 };
	struct jv *v;

	assert_int_equal(vip_cl_backend_solo.local(f->d.be, &me), 0);
	struct vip_cl_member two[2] = { me, other };
	struct vip_cl_view view = { .members = two, .n_members = 2, .self = 0 };
	assert_int_equal(vip_cl_proto_on_view(f->d.proto, &view, loop_now_ms()), 0);
	vipd_daemon_pump(&f->d);
	settle(f);
	assert_int_equal(CMD(f, false, "cluster", "membership"), 0);
	assert_non_null(strstr(f->body,
			       "(unknown)            nodeid 77     pid 7        owns 0    waiting\n"));
	assert_int_equal(CMD(f, false, "cluster", "info"), 0);
	assert_non_null(strstr(f->body, "Round:      open, waiting for 1 member\n"));
	assert_non_null(strstr(f->body, "Members:    n1 (unknown)(waiting)\n"));
	assert_int_equal(CMD(f, true, "cluster", "membership"), 0);
	v = J(f);
	assert_true(json_is_null(v, "members.1.name"));
	assert_int_equal(json_num(v, "members.1.nodeid"), 77);
	assert_true(json_bool(v, "members.1.waiting"));
	assert_false(json_bool(v, "members.1.silent"));
	json_free(v);
	assert_int_equal(CMD(f, true, "cluster", "info"), 0);
	v = J(f);
	assert_true(json_is_null(v, "members.1")); /* a member without a name yet */
	json_free(v);
	/* nobody knows it: the round closes at twice the round timeout */
	uint64_t t = loop_now_ms() + 2 * f->d.cfg->cluster.duravip_round_timeout_ms;
	assert_int_equal(vip_cl_proto_on_tick(f->d.proto, t), 0);
	vipd_daemon_pump(&f->d);
	settle(f);
	assert_int_equal(CMD(f, false, "cluster", "membership"), 0);
	assert_non_null(strstr(f->body, "owns 0    SILENT\n"));
	assert_int_equal(CMD(f, true, "cluster", "info"), 0);
	v = J(f);
	assert_true(json_bool(v, "round.complete"));
	assert_int_equal(json_num(v, "round.silent"), 1);
	assert_int_equal(json_num(v, "round.closes"), 1);
	json_free(v);
	assert_int_equal(CMD(f, true, "metrics"), 0);
	v = J(f);
	assert_int_equal(json_num(v, "vipd_members_silent"), 1);
	assert_int_equal(json_num(v, "vipd_round_closes_total"), 1);
	json_free(v);
	assert_int_equal(CMD(f, true, "cluster", "duravip", "show"), 0);
	assert_true(has(f, "198.51.100.21")); /* it holds nothing: ours stay ours */
}

/* Everything sub has received so far (EVENT frames), as NUL-terminated payloads in out. */
static size_t read_events(struct fx *f, int sub, char out[][512], size_t max)
{
	struct vip_ctl_buf in = { 0 };
	uint8_t buf[4096];
	size_t n = 0, off = 0;

	settle(f);
	fcntl(sub, F_SETFL, O_NONBLOCK);
	for (ssize_t r; (r = read(sub, buf, sizeof(buf))) > 0;)
		vip_ctl_buf_append(&in, buf, (size_t)r);
	while (n < max && off < in.len) {
		struct vip_ctl_header h;
		int k = vip_ctl_frame_peek(in.data + off, in.len - off, 0, &h);
		const char *text;
		size_t len;

		assert_true(k > 0);
		if (h.type == VIP_CTL_EVENT) {
			assert_int_equal(vip_ctl_event_decode(in.data + off, (size_t)k, &text, &len), 0);
			snprintf(out[n++], 512, "%.*s", (int)len, text);
		}
		off += (size_t)k;
	}
	vip_ctl_buf_free(&in);
	return n;
}

static void test_events_stream(void **state)
{
	struct fx *f = *state;
	char ev[16][512];
	int sp[2], sj[2];
	size_t n;
	bool put_back = false, acquired = false;

	/* One text subscriber on the fixture's connection, one JSON subscriber. */
	assert_int_equal(CMD(f, false, "events"), 0);
	assert_true(f->flags & VIP_CTL_F_STREAM);
	assert_string_equal(f->body, "# events of node n1 (one line per change)\n");
	sp[1] = f->client;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sj), 0);
	assert_int_equal(vipd_control_adopt(f->d.control, sj[0]), 0);
	f->client = sj[1];
	assert_int_equal(CMD(f, true, "events"), 0);
	assert_true(f->flags & VIP_CTL_F_STREAM);
	struct jv *v = J(f);
	assert_string_equal(json_str(v, "events"), "subscribed");
	assert_string_equal(json_str(v, "node"), "n1");
	json_free(v);
	assert_int_equal(vipd_control_n_subscribers(f->d.control), 2);
	/* Someone removes a DuraVIP: put back, and the subscribers hear of it. */
	struct vip_port_req q = { .addr = A("198.51.100.21"), .prefix = 32, .ifindex = IF_ETH0 };
	assert_int_equal(vip_port_fake_ops.remove(f->d.port, &q, 1), 0);
	settle(f);
	assert_true(has(f, "198.51.100.21"));
	n = read_events(f, sp[1], ev, 16);
	for (size_t i = 0; i < n; i++) {
		put_back |= strstr(ev[i], " put-back 198.51.100.21 eth0\n") != NULL;
		acquired |= strstr(ev[i], " acquired 198.51.100.21 eth0\n") != NULL;
	}
	assert_true(put_back && acquired);
	n = read_events(f, sj[1], ev, 16);
	assert_true(n >= 2);
	for (size_t i = 0; i < n; i++) {
		v = json_parse(ev[i]);
		if (!v)
			fail_msg("event not JSON: %s", ev[i]);
		assert_string_equal(json_str(v, "address"), "198.51.100.21");
		assert_true(strlen(json_str(v, "time")) == 24);
		assert_true(strlen(json_str(v, "event")) > 0);
		json_free(v);
	}
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
		cmocka_unit_test_setup_teardown(test_cmd_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmd_every_command_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmd_reply_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmd_silent_member, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_stream, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * vipd/daemon-cluster.c's wiring of the backend's liveness watchdog, on the
 * fake port and a solo backend that has one (its set_liveness_timeout is
 * recorded, its cbs kept so the test can play the backend): the configured
 * duravip_liveness_timeout reaches the backend after connect and again on a
 * reload that changes it; "not alive" releases the DuraVIPs (quorum policy
 * release), is counted and pushed as a corosync-stalled event; "alive" is
 * counted and pushed as corosync-alive.
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
#include "log.h"

#define IF_ETH0 2

/* ---- a solo backend with a watchdog ---- */

static struct {
	struct vip_cl_backend_cbs cbs;
	void *userdata;
	size_t set_calls;
	uint32_t timeout_ms;
} wd;

static int wd_connect_error; /* when set: connect fails with it */

static int wd_connect(const struct vip_cl_backend_cbs *cbs, void *userdata, struct vip_cl_backend **ret)
{
	if (wd_connect_error)
		return wd_connect_error;
	wd.cbs = *cbs;
	wd.userdata = userdata;
	return vip_cl_backend_solo.connect(cbs, userdata, ret);
}

static void wd_set_liveness_timeout(struct vip_cl_backend *b, uint32_t timeout_ms)
{
	(void)b;
	wd.set_calls++;
	wd.timeout_ms = timeout_ms;
}

static struct vip_cl_backend_ops wd_ops;

/*
 * The backend breaks at its next dispatch when break_now is set (the test
 * makes its fd readable): lost(), then -ECONNRESET. free records whether
 * the DuraVIP was still plumbed then.
 */
static struct {
	bool break_now;
	int freed;
	int plumbed_at_free;
	struct vip_port *port;
} breakage;

static int wd_dispatch(struct vip_cl_backend *b)
{
	uint64_t cnt;

	if (!breakage.break_now)
		return vip_cl_backend_solo.dispatch(b);
	if (read(vip_cl_backend_solo.fd(b), &cnt, sizeof(cnt)) < 0) {
		/* nothing pending: the break is what matters */
	}
	breakage.break_now = false;
	wd.cbs.lost(wd.userdata, -ECONNRESET);
	return -ECONNRESET;
}

static void wd_free(struct vip_cl_backend *b)
{
	struct vip_addr a;

	if (b && breakage.port) {
		breakage.freed++;
		assert_int_equal(vip_addr_from_string("198.51.100.21", &a), 0);
		const struct vip_port_addr *p = vip_port_table_find(vip_port_fake_addrs(breakage.port), &a,
								    0);
		breakage.plumbed_at_free += p && p->ours;
	}
	vip_cl_backend_solo.free(b);
}

/* ---- the daemon ---- */

struct fx {
	char path[64];
	struct vipd_daemon d;
	int sub; /* the events subscriber's end */
};

static void write_conf(struct fx *f, const char *liveness)
{
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	fprintf(fp,
		"Security { user = root group = root capabilities = \"cap_net_admin+ep cap_net_raw+ep\" }\n");
	fprintf(fp,
		"Cluster { corosync_token = 0.2 duravip_liveness_timeout = %s duravip_takeover_delay = 0.001 }\n",
		liveness);
	fprintf(fp, "Binding \"a\" { Bind_Address = 198.51.100.21 Enable_Duravip = true }\n");
	fclose(fp);
}

static bool has(struct fx *f, const char *s)
{
	struct vip_addr a;

	assert_int_equal(vip_addr_from_string(s, &a), 0);
	const struct vip_port_addr *p = vip_port_table_find(vip_port_fake_addrs(f->d.port), &a, 0);
	return p && p->ours;
}

/* Run the loop until idle (bounded), the takeover delay included. */
static void settle(struct fx *f)
{
	int idle = 0;

	for (int i = 0; i < 500 && idle < 3; i++)
		idle = loop_iterate(f->d.loop, 5) > 0 ? 0 : idle + 1;
}

static void subscribe(struct fx *f)
{
	struct vipd_control_config cc = { .handlers = vipd_commands(),
					  .userdata = &f->d,
					  .daemon_uid = getuid(),
					  .gid = getgid() };
	struct vip_ctl_buf req = { 0 };
	const char *argv[] = { "events" };
	int sp[2];

	assert_int_equal(vipd_control_new_detached(f->d.loop, &cc, &f->d.control), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(vipd_control_adopt(f->d.control, sp[0]), 0);
	assert_int_equal(vip_ctl_request_encode(&req, argv, 1, false), 0);
	assert_int_equal(write(sp[1], req.data, req.len), (ssize_t)req.len);
	vip_ctl_buf_free(&req);
	f->sub = sp[1];
	settle(f);
	assert_int_equal(vipd_control_n_subscribers(f->d.control), 1);
}

/* Everything the subscriber received so far, NUL-terminated. */
static void events(struct fx *f, struct vip_ctl_buf *in)
{
	uint8_t buf[4096];

	fcntl(f->sub, F_SETFL, O_NONBLOCK);
	for (ssize_t r; (r = read(f->sub, buf, sizeof(buf))) > 0;)
		vip_ctl_buf_append(in, buf, (size_t)r);
	assert_int_equal(vip_ctl_buf_append(in, "", 1), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int fd;

	log_set_level(LOG_CRIT);
	memset(&wd, 0, sizeof(wd));
	wd_ops = vip_cl_backend_solo;
	wd_ops.connect = wd_connect;
	wd_ops.set_liveness_timeout = wd_set_liveness_timeout;
	wd_ops.dispatch = wd_dispatch;
	wd_ops.free = wd_free;
	memset(&breakage, 0, sizeof(breakage));
	wd_connect_error = 0;
	snprintf(f->path, sizeof(f->path), "/tmp/test-daemon-liveness-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	close(fd);
	write_conf(f, "0.3");
	struct vipd_daemon_opts o = {
		.config_path = f->path,
		.nodename = "n1",
		.port_ops = &vip_port_fake_ops,
		.backend_ops = &wd_ops,
		.no_drop = true,
		.no_control = true,
	};
	assert_int_equal(vipd_daemon_setup(&f->d, &o), 0);
	struct vip_port_link l = { .ifindex = IF_ETH0, .ifname = "eth0", .up = true, .hwaddr_len = 6 };
	struct vip_port_addr own = { .prefix = 24, .ifindex = IF_ETH0 };
	assert_int_equal(vip_addr_from_string("198.51.100.1", &own.addr), 0);
	assert_int_equal(vip_port_fake_put_addr(f->d.port, &own), 0);
	assert_int_equal(vip_port_fake_set_link(f->d.port, &l), 0);
	settle(f);
	f->sub = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vipd_daemon_free(&f->d);
	if (f->sub >= 0)
		close(f->sub);
	unlink(f->path);
	free(f);
	return 0;
}

static void test_timeout_reaches_backend(void **state)
{
	struct fx *f = *state;

	assert_int_equal(wd.set_calls, 1); /* after connect */
	assert_int_equal(wd.timeout_ms, 300);
	assert_int_equal(vipd_daemon_reload(&f->d, NULL), 0);
	assert_int_equal(wd.set_calls, 1); /* unchanged: not again */
	write_conf(f, "0.5");
	assert_int_equal(vipd_daemon_reload(&f->d, NULL), 0);
	assert_int_equal(wd.set_calls, 2);
	assert_int_equal(wd.timeout_ms, 500);
}

static void test_stall_releases_and_is_told(void **state)
{
	struct fx *f = *state;
	struct vip_ctl_buf in = { 0 };

	assert_true(has(f, "198.51.100.21"));
	assert_non_null(wd.cbs.liveness);
	subscribe(f);
	wd.cbs.liveness(wd.userdata, false); /* from dispatch: the daemon pumps after it */
	vipd_daemon_pump(&f->d);
	settle(f);
	assert_false(has(f, "198.51.100.21")); /* duravip_quorum_policy release */
	assert_int_equal(f->d.stats.corosync_stalls, 1);
	wd.cbs.liveness(wd.userdata, true);
	vipd_daemon_pump(&f->d);
	settle(f);
	assert_int_equal(f->d.stats.corosync_recoveries, 1);
	events(f, &in);
	assert_non_null(memmem(in.data, in.len, "corosync-stalled", 16));
	assert_non_null(memmem(in.data, in.len, "corosync-alive", 14));
	vip_ctl_buf_free(&in);
}

/*
 * The membership engine breaks (corosync killed): the releases on_lost
 * queues are carried out before the dead backend is freed, since freeing a
 * cpg backend may wait up to a second for its worker.
 */
static void test_lost_releases_before_free(void **state)
{
	struct fx *f = *state;
	uint64_t one = 1;

	assert_true(has(f, "198.51.100.21"));
	breakage.port = f->d.port;
	breakage.break_now = true;
	assert_int_equal(write(wd_ops.fd(f->d.be), &one, sizeof(one)), (ssize_t)sizeof(one));
	settle(f);
	assert_null(f->d.be);
	assert_false(has(f, "198.51.100.21"));
	assert_int_equal(breakage.freed, 1);
	assert_int_equal(breakage.plumbed_at_free, 0);
	breakage.port = NULL;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/*
 * Reconnects that fail are seen at the default log level: the first, a new
 * error, every tenth; the success says how many failed.
 */
static void test_reconnect_failures_logged(void **state)
{
	struct fx *f = *state;
	uint64_t one = 1;
	int p[2];
	char buf[16384];
	ssize_t n;

	breakage.port = f->d.port;
	breakage.break_now = true;
	assert_int_equal(write(wd_ops.fd(f->d.be), &one, sizeof(one)), (ssize_t)sizeof(one));
	settle(f);
	assert_null(f->d.be);
	breakage.port = NULL;
	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	log_set_console_fd(p[1]);
	log_set_level(LOG_INFO); /* the daemon's default */
	wd_connect_error = -ECONNREFUSED;
	for (int i = 0; i < 11; i++)
		daemon_on_reconnect_timer(NULL, NULL, &f->d);
	wd_connect_error = -EACCES; /* a new error: said at once */
	daemon_on_reconnect_timer(NULL, NULL, &f->d);
	wd_connect_error = 0;
	daemon_on_reconnect_timer(NULL, NULL, &f->d);
	log_set_level(LOG_CRIT);
	log_set_console_fd(2);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	close(p[1]);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_int_equal(count(buf, "Cannot reconnect to the solo membership engine"), 3);
	assert_non_null(strstr(buf, "(Connection refused; attempt 1)"));
	assert_non_null(strstr(buf, "(Connection refused; attempt 10)"));
	assert_non_null(strstr(buf, "(Permission denied; attempt 12)"));
	assert_non_null(strstr(buf, "after 12 failed attempts"));
	assert_non_null(f->d.be);
	assert_int_equal(f->d.reconnect_failures, 0);
}

/* After a stall, corosync answering again: the address comes back once our STATE is delivered. */
static void test_recovery_plumbs_again(void **state)
{
	struct fx *f = *state;

	wd.cbs.liveness(wd.userdata, false);
	vipd_daemon_pump(&f->d);
	settle(f);
	assert_false(has(f, "198.51.100.21"));
	wd.cbs.liveness(wd.userdata, true);
	vipd_daemon_pump(&f->d);
	settle(f);
	assert_true(has(f, "198.51.100.21"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_timeout_reaches_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stall_releases_and_is_told, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_releases_before_free, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_plumbs_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect_failures_logged, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * vipd/engine against the fake port and the real protocol on the solo
 * backend: desired vs observed, external removal put back, strays, resync,
 * link down past if_down_limit and back, a live reconfiguration, shutdown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cl-testutil.h"
#include "engine.h"
#include "log.h"

#define IF_ETH0 2

struct h {
	struct vip_port *port;
	struct vipd_config *cfg;
	struct vip_cl_proto *proto;
	struct vip_cl_backend *be;
	struct vipd_announce *ann;
	struct vipd_engine *e;
	uint64_t now;
	unsigned events[_VIPD_EV_MAX];
	size_t ann_calls, held_at_first_ann; /* test_large_acquire_announces_by_slice */
};

#define SECURITY "Security { capabilities = \"cap_net_admin+ep cap_net_raw+ep\" }\n"

static const char base_conf[] = SECURITY
	"cluster { nodename = n1 if_check_interval = 1 if_down_limit = 2 duravip_takeover_delay = 0 }\n"
	"Binding \"a\" { Bind_Address = 198.51.100.21 Enable_Duravip = true }\n"
	"Binding \"b\" { Bind_Address = 198.51.100.22 Enable_Duravip = true }\n"
	"ESMTP_Listener { Listen \"[2001:db8:1::30]:25\" { Enable_Duravip = true } }\n";

static struct vipd_config *load(const char *text)
{
	struct vip_conf_diag diag = { 0 };
	struct vip_conf_tree *t = NULL;
	struct vipd_config *c = NULL;
	struct vip_config_opts o = { .nodename = "n1", .hostname = "host" };

	assert_int_equal(vip_conf_parse_string("test.conf", text, strlen(text), NULL, NULL, &t, &diag), 0);
	int r = vip_config_from_tree(t, &o, &c, &diag);
	for (size_t i = 0; r < 0 && i < diag.n; i++)
		print_error("%s\n", diag.items[i].message);
	assert_int_equal(r, 0);
	vip_conf_tree_free(t);
	vip_conf_diag_clear(&diag);
	return c;
}

static struct vip_addr A(const char *s) {
	struct vip_addr a;

	assert_int_equal(vip_addr_from_string(s, &a), 0);
	return a;
}

static void
on_event(void *data, enum vipd_engine_event ev, const struct vip_addr *addr _unused_,
	 const char *detail _unused_)
{
	struct h *h = data;

	h->events[ev]++;
}

static int ann_send(void *data, int ifindex, const struct vip_addr *addrs, size_t n)
{
	struct h *h = data;
	struct vip_port_announce *b = calloc(n, sizeof(*b));

	assert_non_null(b);
	if (h->ann_calls++ == 0)
		h->held_at_first_ann = vip_port_fake_addrs(h->port)->n;
	for (size_t i = 0; i < n; i++)
		b[i] = (struct vip_port_announce){ .addr = addrs[i], .ifindex = ifindex };
	vip_port_fake_ops.announce(h->port, b, n, VIP_ARP_REQUEST);
	free(b);
	return (int)n;
}

static void be_view(void *data, const struct vip_cl_view *v)
{
	struct h *h = data;

	assert_int_equal(vip_cl_proto_on_view(h->proto, v, h->now), 0);
}

static void be_message(void *data, const struct vip_cl_member *s, const void *m, size_t len)
{
	struct h *h = data;

	assert_int_equal(vip_cl_proto_on_message(h->proto, s, m, len, h->now), 0);
}

static void be_quorum(void *data, bool q)
{
	struct h *h = data;

	vip_cl_proto_on_quorum(h->proto, q, h->now);
}

static int pump_send(void *data, const uint8_t *m, size_t len)
{
	struct h *h = data;

	return vip_cl_backend_solo.send(h->be, m, len);
}

static void pump_hold(void *data, const struct vip_addr *a)
{
	struct h *h = data;

	vipd_engine_on_hold(h->e, a);
}

static void pump_release(void *data, const struct vip_addr *a)
{
	struct h *h = data;

	vipd_engine_on_release(h->e, a);
}

/* What the daemon does after every input, until nothing moves. */
static void pump(struct h *h)
{
	for (int round = 0; round < 64; round++) {
		const struct vip_cl_sink sink = { .send = pump_send,
						  .hold = pump_hold,
						  .release = pump_release,
						  .data = h };
		bool progress = false, blocked = true;

		assert_int_equal(vip_cl_backend_solo.dispatch(h->be), 0);
		int n = vip_cl_proto_drain(h->proto, &sink, &blocked);
		assert_true(n >= 0);
		assert_false(blocked);
		progress = n > 0;
		progress |= vipd_engine_drain_port(h->e, h->now) > 0;
		if (vipd_engine_is_dirty(h->e)) {
			assert_int_equal(vipd_engine_reconcile(h->e, h->now), 0);
			progress = true;
		}
		if (!progress)
			return;
	}
	fail_msg("pump did not settle");
}

static bool has(struct h *h, const char *s)
{
	struct vip_addr a = A(s);
	const struct vip_port_addr *p = vip_port_table_find(vip_port_fake_addrs(h->port), &a, 0);

	return p && p->ours;
}

/* A µs clock that moves 1 ms per reading and a CPU clock that moves 0.3 ms (test_failover_breakdown). */
static uint64_t fake_us;
static uint64_t fake_clock_us(void)
{
	return fake_us += 1000;
}
static uint64_t (*setup_clock_us)(void);
static uint64_t fake_cpu;
static uint64_t fake_cpu_us(void)
{
	return fake_cpu += 300;
}
static uint64_t (*setup_cpu_us)(void);

static int setup_with(void **state, const char *conf)
{
	static const struct vip_cl_backend_cbs cbs = { .view = be_view,
						       .message = be_message,
						       .quorum = be_quorum };
	struct h *h = calloc(1, sizeof(*h));
	struct vip_port_link l = { .ifindex = IF_ETH0,
				   .ifname = "eth0",
				   .up = true,
				   .hwaddr_len = 6,
				   .hwaddr = { 2, 0, 0, 0, 0, 1 } };
	struct vipd_announce_opts ao = { .repeat = 2, .repeat_interval_ms = 1100 };

	h->now = 1000;
	assert_int_equal(vip_port_fake_ops.open(NULL, &h->port), 0);
	assert_int_equal(vip_port_fake_set_link(h->port, &l), 0);
	struct vip_port_addr own = { .addr = A("198.51.100.1"), .prefix = 24, .ifindex = IF_ETH0 };
	assert_int_equal(vip_port_fake_put_addr(h->port, &own), 0);
	struct vip_port_addr own6 = { .addr = A("2001:db8:1::1"), .prefix = 64, .ifindex = IF_ETH0 };
	assert_int_equal(vip_port_fake_put_addr(h->port, &own6), 0);
	struct vip_port_addr bulk = { .addr = A("198.18.0.1"), .prefix = 16, .ifindex = IF_ETH0 };
	assert_int_equal(vip_port_fake_put_addr(h->port, &bulk), 0);
	h->cfg = load(conf);
	assert_int_equal(vip_cl_proto_new(h->cfg, &h->proto), 0);
	assert_int_equal(vipd_announce_new(&ao, ann_send, h, &h->ann), 0);
	struct vipd_engine_deps deps = { .port_ops = &vip_port_fake_ops,
					 .port = h->port,
					 .proto = h->proto,
					 .announce = h->ann,
					 .event = on_event,
					 .event_data = h,
					 .clock_us = setup_clock_us,
					 .cpu_us = setup_cpu_us };
	assert_int_equal(vipd_engine_new(&deps, h->cfg, &h->e), 0);
	assert_int_equal(vipd_engine_start(h->e, h->now), 0);
	assert_int_equal(vip_cl_backend_solo.connect(&cbs, h, &h->be), 0);
	assert_int_equal(vip_cl_backend_solo.join(h->be, "g"), 0);
	pump(h);
	*state = h;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, base_conf);
}

static int teardown(void **state)
{
	struct h *h = *state;

	vip_cl_backend_solo.free(h->be);
	vipd_engine_free(h->e);
	vipd_announce_free(h->ann);
	vip_cl_proto_free(h->proto);
	vip_port_fake_ops.close(h->port);
	vip_config_free(h->cfg);
	free(h);
	return 0;
}

static void test_plumbs_and_announces(void **state)
{
	struct h *h = *state;
	const struct vip_port_fake_frame *fr;
	struct vipd_engine_metrics m;

	assert_true(has(h, "198.51.100.21"));
	assert_true(has(h, "198.51.100.22"));
	assert_true(has(h, "2001:db8:1::30"));
	/* The configuration's prefix (no Topology: /32 and /128), on the resolved link. */
	struct vip_addr a = A("198.51.100.21");
	const struct vip_port_addr *p = vip_port_table_find(vip_port_fake_addrs(h->port), &a, IF_ETH0);
	assert_non_null(p);
	assert_int_equal(p->prefix, 32);
	/* First announcement in the same turn as the plumbing. */
	assert_int_equal(vip_port_fake_announced(h->port, &fr), 3);
	vipd_engine_get_metrics(h->e, &m);
	assert_int_equal(m.owned, 3);
	assert_int_equal(m.acquired, 3);
	assert_int_equal(h->events[VIPD_EV_ACQUIRED], 3);
	/* Converged: another reconcile changes nothing. */
	struct vip_port_fake_stats st;
	vip_port_fake_get_stats(h->port, &st);
	unsigned adds = st.add_calls;
	assert_int_equal(vipd_engine_reconcile(h->e, h->now), 0);
	vip_port_fake_get_stats(h->port, &st);
	assert_int_equal(st.add_calls, adds);
	/* One batched add for all three. */
	assert_int_equal(adds, 1);
}

static void test_external_removal_put_back(void **state)
{
	struct h *h = *state;
	struct vip_port_req q = { .addr = A("198.51.100.22"), .prefix = 32, .ifindex = IF_ETH0 };
	struct vipd_engine_metrics m;

	/* Someone else removes it (the fake emits ADDR_DEL as the kernel does). */
	assert_int_equal(vip_port_fake_ops.remove(h->port, &q, 1), 0);
	assert_false(has(h, "198.51.100.22"));
	pump(h);
	assert_true(has(h, "198.51.100.22"));
	vipd_engine_get_metrics(h->e, &m);
	assert_int_equal(m.put_back, 1);
	assert_int_equal(h->events[VIPD_EV_PUT_BACK], 1);
	assert_int_equal(m.owned, 3);
}

static void test_stray_tagged_address_removed(void **state)
{
	struct h *h = *state;
	struct vip_port_addr stray = { .addr = A("198.51.100.99"),
				       .prefix = 32,
				       .ifindex = IF_ETH0,
				       .proto = VIP_PORT_IFA_PROTO,
				       .ours = true };
	struct vip_port_addr other = { .addr = A("198.51.100.98"), .prefix = 32, .ifindex = IF_ETH0 };

	assert_int_equal(vip_port_fake_put_addr(h->port, &stray), 0);
	assert_int_equal(vip_port_fake_put_addr(h->port, &other), 0);
	pump(h);
	assert_null(vip_port_table_find(vip_port_fake_addrs(h->port), &stray.addr, 0));
	/* Someone else's untagged address is none of vipd's business. */
	assert_non_null(vip_port_table_find(vip_port_fake_addrs(h->port), &other.addr, 0));
	assert_int_equal(h->events[VIPD_EV_STRAY], 1);
}

static void test_resync_after_lost_events(void **state)
{
	struct h *h = *state;
	struct vip_port_req q = { .addr = A("198.51.100.21"), .prefix = 32, .ifindex = IF_ETH0 };
	struct vip_port_event ev = { .type = VIP_PORT_EV_RESYNC_NEEDED };
	struct vipd_engine_metrics m;

	/* The removal's event is lost: the engine believes it is still there. */
	vip_port_fake_set_echo(h->port, false);
	assert_int_equal(vip_port_fake_ops.remove(h->port, &q, 1), 0);
	vip_port_fake_set_echo(h->port, true);
	pump(h);
	assert_false(has(h, "198.51.100.21"));
	/* The port says events were lost: dump and reconcile. */
	assert_int_equal(vip_port_fake_inject_event(h->port, &ev), 0);
	pump(h);
	assert_true(has(h, "198.51.100.21"));
	vipd_engine_get_metrics(h->e, &m);
	assert_int_equal(m.resyncs, 1);
}

static void test_link_down_then_up(void **state)
{
	struct h *h = *state;
	struct vip_port_link l = { .ifindex = IF_ETH0,
				   .ifname = "eth0",
				   .up = false,
				   .hwaddr_len = 6,
				   .hwaddr = { 2, 0, 0, 0, 0, 1 } };
	struct vipd_engine_vip v;
	struct vipd_engine_metrics m;

	assert_int_equal(vip_port_fake_set_link(h->port, &l), 0);
	pump(h);
	/* Down, but not yet for if_down_limit (2) checks: kept. */
	assert_true(has(h, "198.51.100.21"));
	assert_int_equal(vipd_engine_check_links(h->e, h->now), 0);
	pump(h);
	assert_true(has(h, "198.51.100.21"));
	assert_int_equal(vipd_engine_check_links(h->e, h->now), 0);
	pump(h);
	/* Second check: released, and the protocol no longer wants them here. */
	assert_false(has(h, "198.51.100.21"));
	assert_false(has(h, "2001:db8:1::30"));
	struct vip_addr a = A("198.51.100.21");
	assert_false(vip_cl_proto_wants(h->proto, &a));
	assert_int_equal(vipd_engine_find(h->e, &a, &v), 0);
	assert_true(v.unavailable);
	vipd_engine_get_metrics(h->e, &m);
	assert_int_equal(m.link_releases, 1);
	assert_int_equal(m.owned, 0);
	assert_int_equal(h->events[VIPD_EV_LINK_DOWN], 1);
	/* Link up: eligible again at once. */
	l.up = true;
	assert_int_equal(vip_port_fake_set_link(h->port, &l), 0);
	pump(h);
	assert_true(has(h, "198.51.100.21"));
	assert_true(has(h, "2001:db8:1::30"));
	assert_int_equal(h->events[VIPD_EV_LINK_UP], 1);
}

/* The failover measurement: from the view that lost a member to the last address plumbed. */
static void test_failover_measured(void **state)
{
	struct h *h = *state;
	struct vip_port_link l = { .ifindex = IF_ETH0, .ifname = "eth0", .up = false, .hwaddr_len = 6 };
	struct vipd_engine_metrics m;

	vip_port_fake_set_link(h->port, &l);
	pump(h);
	vipd_engine_check_links(h->e, h->now);
	vipd_engine_check_links(h->e, h->now);
	pump(h);
	assert_false(has(h, "198.51.100.21"));
	vipd_engine_mark_failover(h->e, h->now);
	h->now += 250;
	l.up = true;
	vip_port_fake_set_link(h->port, &l);
	pump(h);
	assert_true(has(h, "198.51.100.21"));
	vipd_engine_get_metrics(h->e, &m);
	assert_int_equal(m.failovers, 1);
	assert_int_equal(m.last_failover_ms, 250);
	/* A mark that leads to nothing expires without a measurement. */
	vipd_engine_mark_failover(h->e, h->now);
	h->now += 20000;
	assert_int_equal(vipd_engine_reconcile(h->e, h->now), 0);
	vipd_engine_get_metrics(h->e, &m);
	assert_int_equal(m.failovers, 1);
}

static int setup_us(void **state)
{
	setup_clock_us = fake_clock_us;
	setup_cpu_us = fake_cpu_us;
	int r = setup_with(state, base_conf);
	setup_clock_us = NULL;
	setup_cpu_us = NULL;
	return r;
}

/* With a µs clock the failover line breaks the reaction down: every part in order. */
static void test_failover_breakdown(void **state)
{
	struct h *h = *state;
	struct vip_port_link l = { .ifindex = IF_ETH0, .ifname = "eth0", .up = false, .hwaddr_len = 6 };
	int fds[2];
	char buf[4096] = "";

	vip_port_fake_set_link(h->port, &l);
	pump(h);
	vipd_engine_check_links(h->e, h->now);
	vipd_engine_check_links(h->e, h->now);
	pump(h);
	assert_false(has(h, "198.51.100.21"));
	assert_int_equal(pipe(fds), 0);
	log_set_console_fd(fds[1]);
	log_set_level(LOG_INFO);
	vipd_engine_mark_failover(h->e, h->now);
	h->now += 250;
	l.up = true;
	vip_port_fake_set_link(h->port, &l);
	pump(h);
	log_set_console_fd(STDERR_FILENO);
	close(fds[1]);
	assert_true(read(fds[0], buf, sizeof(buf) - 1) > 0);
	close(fds[0]);
	const char *line = strstr(buf, "Failover complete");
	assert_non_null(line);
	double total, first_add, netlink, netlink_cpu, announcing, announcing_cpu, first_sent, plumbed;
	size_t added;
	assert_int_equal(
		sscanf(line,
		       "Failover complete: every DuraVIP this node now owns plumbed and announced in %lf ms "
		       "(view to first add %lf ms; %zu added, netlink %lf ms, %lf on a CPU; announcing %lf ms, "
		       "%lf on a CPU; first announcement %lf ms, all plumbed %lf ms after the view)",
		       &total, &first_add, &added, &netlink, &netlink_cpu, &announcing, &announcing_cpu,
		       &first_sent, &plumbed),
		9);
	assert_int_equal(added, 3); /* both IPv4 and the IPv6 DuraVIP on eth0 */
	assert_true(first_add > 0 && first_add < plumbed && plumbed <= total);
	assert_true(first_sent > first_add && first_sent <= total);
	assert_true(netlink > 0 && announcing > 0 && netlink + announcing <= total);
	/* The CPU clock moves slower than the wall clock here. */
	assert_true(netlink_cpu > 0 && netlink_cpu < netlink && announcing_cpu > 0 &&
		    announcing_cpu < announcing);
}

static void test_flap_shorter_than_limit_keeps(void **state)
{
	struct h *h = *state;
	struct vip_port_link l = { .ifindex = IF_ETH0, .ifname = "eth0", .up = false, .hwaddr_len = 6 };

	vip_port_fake_set_link(h->port, &l);
	pump(h);
	vipd_engine_check_links(h->e, h->now);
	l.up = true;
	vip_port_fake_set_link(h->port, &l);
	pump(h);
	vipd_engine_check_links(h->e, h->now);
	l.up = false;
	vip_port_fake_set_link(h->port, &l);
	pump(h);
	vipd_engine_check_links(h->e, h->now);
	pump(h);
	/* Never two checks in a row: nothing released. */
	assert_true(has(h, "198.51.100.21"));
	assert_int_equal(h->events[VIPD_EV_LINK_DOWN], 0);
}

static void test_reconfigure_live(void **state)
{
	struct h *h = *state;
	struct vipd_config *next = load(
		SECURITY
		"cluster { nodename = n1 if_check_interval = 1 if_down_limit = 2 duravip_takeover_delay = 0 }\n"
		"Binding \"a\" { Bind_Address = 198.51.100.21 Enable_Duravip = true }\n"
		"Binding \"c\" { Bind_Address = 198.51.100.23 Enable_Duravip = true }\n"
		"ESMTP_Listener { Listen \"[2001:db8:1::30]:25\" { Enable_Duravip = true } }\n");

	assert_int_equal(vip_cl_proto_reconfigure(h->proto, next, h->now), 0);
	assert_int_equal(vipd_engine_reconfigure(h->e, next, h->now), 0);
	vip_config_free(h->cfg);
	h->cfg = next;
	pump(h);
	assert_true(has(h, "198.51.100.21"));
	assert_true(has(h, "198.51.100.23"));
	assert_false(has(h, "198.51.100.22"));
	assert_int_equal(vipd_engine_n_vips(h->e), 3);
}

static void test_failed_add_is_retried(void **state)
{
	struct h *h = *state;
	struct vip_port_req q = { .addr = A("198.51.100.22"), .prefix = 32, .ifindex = IF_ETH0 };
	struct vipd_engine_metrics m;

	/* Removed from outside, and the kernel now refuses to add it back. */
	assert_int_equal(vip_port_fake_ops.remove(h->port, &q, 1), 0);
	assert_int_equal(vip_port_fake_fail_addr(h->port, &q.addr, -ENOBUFS, "no room"), 0);
	assert_true(vipd_engine_drain_port(h->e, h->now) > 0);
	/* The add fails: reported, counted, and retried by the next reconcile. */
	assert_int_equal(vipd_engine_reconcile(h->e, h->now), 1);
	assert_false(has(h, "198.51.100.22"));
	vipd_engine_get_metrics(h->e, &m);
	assert_true(m.netlink_errors >= 1);
	assert_true(vipd_engine_is_dirty(h->e));
	vip_port_fake_fail_addr(h->port, &q.addr, 0, NULL);
	assert_int_equal(vipd_engine_reconcile(h->e, h->now), 0);
	assert_true(has(h, "198.51.100.22"));
}

static void test_release_all(void **state)
{
	struct h *h = *state;
	struct vipd_engine_metrics m;

	assert_int_equal(vipd_engine_release_all(h->e, h->now), 3);
	assert_false(has(h, "198.51.100.21"));
	assert_false(has(h, "198.51.100.22"));
	assert_false(has(h, "2001:db8:1::30"));
	vipd_engine_get_metrics(h->e, &m);
	assert_int_equal(m.owned, 0);
	assert_int_equal(m.released, 3);
	/* The releases were told to the protocol (RELEASED messages queued). */
	struct cltest_sink ks = { 0 };
	assert_true(cltest_drain(h->proto, &ks, NULL) >= 1);
	assert_true(ks.n_sent >= 1);
	assert_int_equal(ks.n_holds, 0);
	cltest_sink_free(&ks);
	/* And nothing is wanted here any more. */
	struct vip_addr x = A("198.51.100.21");
	assert_false(vip_cl_proto_wants(h->proto, &x));
}

static void test_clean_slate(void **state)
{
	struct h *h = *state;
	/* A vipd-tagged leftover and a configured DuraVIP someone plumbed by hand. */
	struct vip_port_addr left = { .addr = A("198.51.100.77"),
				      .prefix = 32,
				      .ifindex = IF_ETH0,
				      .proto = VIP_PORT_IFA_PROTO,
				      .ours = true };
	struct vip_port_addr hand = { .addr = A("198.51.100.22"), .prefix = 24, .ifindex = IF_ETH0 };
	struct vip_port_req q = { .addr = A("198.51.100.22"), .prefix = 32, .ifindex = IF_ETH0 };

	vip_port_fake_ops.remove(h->port, &q, 1);
	vip_port_fake_put_addr(h->port, &left);
	vip_port_fake_put_addr(h->port, &hand);
	/* Removes them and the engine's own three (two tagged + the hand-made one). */
	assert_true(vipd_engine_clean_slate(h->e) >= 2);
	assert_null(vip_port_table_find(vip_port_fake_addrs(h->port), &left.addr, 0));
	assert_null(vip_port_table_find(vip_port_fake_addrs(h->port), &hand.addr, 0));
	struct vip_addr own = A("198.51.100.1");
	assert_non_null(vip_port_table_find(vip_port_fake_addrs(h->port), &own, 0));
}

/*
 * A large acquisition is plumbed in slices, each announced as soon as it is
 * plumbed: the first announcement goes out before the last address is added.
 */
static void test_large_acquire_announces_by_slice(void **state _unused_)
{
	enum { N = 300, OWN = 3 };
	size_t len = sizeof(SECURITY) + 64 + N * 80, off = 0;
	char *conf = malloc(len);
	void *hp = NULL;

	assert_non_null(conf);
	off += (size_t)snprintf(conf + off, len - off,
				"%scluster { nodename = n1 duravip_takeover_delay = 0 }\n", SECURITY);
	for (int i = 0; i < N; i++)
		off += (size_t)
			snprintf(conf + off, len - off,
				 "Binding \"b%d\" { Bind_Address = 198.18.%d.%d Enable_Duravip = true }\n", i,
				 1 + i / 200, 1 + i % 200);
	assert_int_equal(setup_with(&hp, conf), 0);
	free(conf);
	struct h *h = hp;
	struct vip_port_fake_stats st;
	const struct vip_port_fake_frame *fr;

	vip_port_fake_get_stats(h->port, &st);
	/* Start-up read the system once for all N: links, addresses, routes. */
	assert_int_equal(st.dump_links_calls, 1);
	assert_int_equal(st.dump_calls, 1);
	assert_int_equal(st.dump_routes_calls, 1);
	assert_int_equal(st.link_get_calls, 0);
	assert_int_equal(st.add_calls, 4); /* 32 + 64 + 128 + 76 */
	assert_int_equal(vip_port_fake_addrs(h->port)->n, OWN + N);
	assert_int_equal(h->held_at_first_ann, OWN + 32);
	assert_int_equal(h->ann_calls, 4);
	assert_int_equal(vip_port_fake_announced(h->port, &fr), N);
	teardown(&hp);
}

/*
 * Topology: a rule's DuraVIP goes on the rule's link with its cidrmask; one whose
 * link does not exist yet is unavailable until the link appears (LINK_UP), then
 * placed and plumbed, with a single new view of the system.
 */
static void test_topology_rule_and_late_link(void **state _unused_)
{
	static const char conf[] = SECURITY
		"cluster { nodename = n1 duravip_takeover_delay = 0\n"
		"  Topology \"203.0.113.0/25\" { interface = eth0 cidrmask = 25 }\n"
		"  Topology \"203.0.113.128/25\" { interface = eth7 cidrmask = 26 }\n"
		"}\n"
		"Binding \"a\" { Bind_Address = 198.51.100.21 Enable_Duravip = true }\n"
		"Binding \"t\" { Bind_Address = 203.0.113.5 Enable_Duravip = true }\n"
		"Binding \"late\" { Bind_Address = 203.0.113.200 Enable_Duravip = true }\n";
	void *hp = NULL;
	struct vip_port_fake_stats st;
	struct vipd_engine_vip v;

	assert_int_equal(setup_with(&hp, conf), 0);
	struct h *h = hp;
	struct vip_addr t = A("203.0.113.5"), late = A("203.0.113.200");
	const struct vip_port_addr *p = vip_port_table_find(vip_port_fake_addrs(h->port), &t, IF_ETH0);
	assert_non_null(p);
	assert_int_equal(p->prefix, 25);
	assert_string_equal(p->label, "eth0:dv");
	assert_true(has(h, "198.51.100.21"));
	assert_false(has(h, "203.0.113.200"));
	assert_int_equal(vipd_engine_find(h->e, &late, &v), 0);
	assert_int_equal(v.resolve_error, -ENODEV);
	assert_true(v.unavailable);

	vip_port_fake_reset_log(h->port);
	struct vip_port_link eth7 = { .ifindex = 7, .ifname = "eth7", .up = true, .hwaddr_len = 6 };
	assert_int_equal(vip_port_fake_set_link(h->port, &eth7), 0);
	pump(h);
	p = vip_port_table_find(vip_port_fake_addrs(h->port), &late, 7);
	assert_non_null(p);
	assert_int_equal(p->prefix, 26);
	assert_int_equal(vipd_engine_find(h->e, &late, &v), 0);
	assert_int_equal(v.resolve_error, 0);
	assert_string_equal(v.ifname, "eth7");
	vip_port_fake_get_stats(h->port, &st);
	assert_int_equal(st.dump_links_calls, 1);
	assert_int_equal(st.dump_routes_calls, 1);
	teardown(&hp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plumbs_and_announces, setup, teardown),
		cmocka_unit_test(test_large_acquire_announces_by_slice),
		cmocka_unit_test(test_topology_rule_and_late_link),
		cmocka_unit_test_setup_teardown(test_external_removal_put_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stray_tagged_address_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resync_after_lost_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_down_then_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flap_shorter_than_limit_keeps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failover_measured, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failover_breakdown, setup_us, teardown),
		cmocka_unit_test_setup_teardown(test_reconfigure_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_add_is_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clean_slate, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

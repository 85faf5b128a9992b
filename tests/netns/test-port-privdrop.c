/* SPDX-License-Identifier: MIT */
/*
 * netns: the Linux port opened as root keeps working after the process drops
 * to uid/gid 65534 with only cap_net_admin + cap_net_raw (add, remove, dump,
 * events, dumps, announce, probes and their answers, flush), and refuses once
 * cap_net_admin is gone.
 */
#include <grp.h>
#include <sys/prctl.h>

#include "test-port-lib.h"

static const struct vip_port_ops *ops;

static void drop_to(const char *caps)
{
	CHECK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == 0);
	CHECK(setgroups(0, NULL) == 0);
	CHECK(setresgid(65534, 65534, 65534) == 0);
	CHECK(setresuid(65534, 65534, 65534) == 0);
	cap_t c = cap_from_text(caps);
	CHECK(c);
	CHECK(cap_set_proc(c) == 0);
	cap_free(c);
	CHECK(getuid() == 65534 && geteuid() == 65534 && getegid() == 65534);
}

static bool is_arp_for(const uint8_t *f, size_t n, const void *arg)
{
	const struct vip_addr *a = arg;
	return n >= 42 && f[12] == 0x08 && f[13] == 0x06 && memcmp(f + 28, &a->v4, 4) == 0;
}

/* Listen, probe the peer's own addresses, hear both answers (bounded), stop listening. */
static void probe_peer(struct vip_port *p, const struct rig *rig)
{
	struct vip_port_probe pr[2] = {
		{ .addr = addr_of("198.51.100.2"), .ifindex = rig->ifindex_a },
		{ .addr = addr_of("2001:db8:1::2"), .ifindex = rig->ifindex_a },
	};
	int fds[VIP_PORT_PROBE_FDS];
	CHECK_EQ(ops->probe_fds(p, fds), 2);
	CHECK_EQ(ops->probe_listen(p, true), 0);
	CHECK_EQ(ops->probe(p, pr, 2), 2);
	bool got[2] = { false, false };
	double end = now_s() + 2;
	for (int i = 0; i < 10000 && now_s() < end && !(got[0] && got[1]); i++) {
		struct vip_port_answer a;
		int r = ops->next_answer(p, &a);
		CHECK(r >= 0);
		for (int k = 0; k < 2 && r == 1; k++)
			got[k] |= vip_addr_equal(&a.addr, &pr[k].addr);
		if (r == 0) {
			struct pollfd pfd[2] = { { fds[0], POLLIN, 0 }, { fds[1], POLLIN, 0 } };
			(void)poll(pfd, 2, 20);
		}
	}
	CHECK(got[0] && got[1]);
	CHECK_EQ(ops->probe_listen(p, false), 0);
}

static void child(struct rig *rig, int cap)
{
	struct vip_port *p, *light;
	struct vip_port_opts lo = { .flags = VIP_PORT_OPEN_NO_PACKET | VIP_PORT_OPEN_NO_MONITOR };
	CHECK_EQ(ops->open(NULL, &p), 0);
	CHECK_EQ(ops->open(&lo, &light), 0);
	drop_to("cap_net_admin,cap_net_raw=ep");

	struct vip_port_req r[2] = {
		{ .addr = addr_of("198.51.100.70"),
		  .prefix = 24,
		  .ifindex = rig->ifindex_a,
		  .label = "va:dv" },
		{ .addr = addr_of("2001:db8:1::70"), .prefix = 64, .ifindex = rig->ifindex_a },
	};
	CHECK_EQ(ops->add(p, r, 2), 0);
	CHECK(wait_event(ops, p, VIP_PORT_EV_ADDR_NEW, &r[0].addr, rig->ifindex_a, 5, NULL));
	CHECK(wait_event(ops, p, VIP_PORT_EV_ADDR_NEW, &r[1].addr, rig->ifindex_a, 5, NULL));
	struct vip_port_table t = { 0 };
	CHECK(ops->dump(p, rig->ifindex_a, &t) > 0);
	CHECK(vip_port_table_find(&t, &r[0].addr, 0)->ours);
	CHECK(vip_port_table_find(&t, &r[1].addr, 0)->ours);

	struct vip_port_links links = { 0 };
	struct vip_port_routes routes = { 0 };
	CHECK(ops->dump_links(p, &links) >= 2);
	CHECK(vip_port_links_find(&links, rig->ifindex_a));
	CHECK(ops->dump_routes(p, &routes) > 0);
	bool connected = false;
	for (size_t i = 0; i < routes.n; i++)
		connected |= routes.items[i].ifindex == rig->ifindex_a && !routes.items[i].gateway &&
			     vip_addr_in_prefix(AP("198.51.100.71"), &routes.items[i].dst,
						routes.items[i].dst_len);
	CHECK(connected);
	vip_port_links_clear(&links);
	vip_port_routes_clear(&routes);

	uint8_t f[2048];
	drain(cap);
	struct vip_port_announce an = { .addr = r[0].addr, .ifindex = rig->ifindex_a };
	CHECK_EQ(ops->announce(p, &an, 1, VIP_ARP_REQUEST), 1);
	CHECK(capture_next(cap, f, sizeof(f), 3, is_arp_for, &r[0].addr) > 0);
	probe_peer(p, rig);

	CHECK_EQ(ops->remove(p, r, 1), 0);
	CHECK(wait_event(ops, p, VIP_PORT_EV_ADDR_DEL, &r[0].addr, rig->ifindex_a, 5, NULL));
	CHECK_EQ(ops->flush_tagged(light, 0), 1);
	CHECK(ops->dump(p, 0, &t) > 0);
	for (size_t i = 0; i < t.n; i++)
		CHECK(!t.items[i].ours);

	/* Without cap_net_admin the same port is refused: the check above was real. */
	cap_t c = cap_from_text("cap_net_raw=ep");
	CHECK(c && cap_set_proc(c) == 0);
	cap_free(c);
	CHECK_EQ(ops->add(p, r, 1), 1);
	CHECK_EQ(r[0].result, -EPERM);
	vip_port_table_clear(&t);
	ops->close(light);
	ops->close(p);
	fprintf(stderr, "privdrop: uid 65534 with cap_net_admin+cap_net_raw: add, events, dump, "
			"dumps, announce, probes, remove, flush all work; EPERM without cap_net_admin\n");
	_exit(0);
}

int main(void)
{
	struct rig rig;
	rig_up(&rig);
	ops = vip_port_native();
	int cap = capture_open(&rig);
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		child(&rig, cap);
	int st = 0;
	/* Bounded: the child's every wait is bounded; give it 60 s in all. */
	for (int i = 0; i < 600; i++) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		CHECK(w >= 0);
		if (w == pid)
			break;
		if (i == 599) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
		}
		usleep(100000);
	}
	close(cap);
	nstest_cleanup();
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return 0;
}

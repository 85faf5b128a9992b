/* SPDX-License-Identifier: MIT */
/*
 * The daemon fixture of the daemon tests (test-daemon.c, test-daemon-node.c):
 * vipd/daemon on the fake port and the solo backend (no root, no drop, no
 * monitor), with a console connection over a socketpair. setup() writes a
 * configuration with three DuraVIPs; fx_setup(state, extra) appends extra to it.
 */
#ifndef VIPD_TEST_DAEMON_FX_H
#define VIPD_TEST_DAEMON_FX_H

#define IF_ETH0 2

struct fx {
	char path[64];
	struct vipd_daemon d;
	int client;             /* our end of the console connection */
	unsigned status, flags; /* of the last reply */
	char body[1 << 20];     /* the last reply's body, NUL-terminated */
	struct vipd_reload_result res;
};

static inline void write_conf(struct fx *f, const char *caps, const char *extra)
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

static inline struct vip_addr A(const char *s) {
	struct vip_addr a;

	assert_int_equal(vip_addr_from_string(s, &a), 0);
	return a;
}

static inline bool
has(struct fx *f, const char *s)
{
	struct vip_addr a = A(s);
	const struct vip_port_addr *p = vip_port_table_find(vip_port_fake_addrs(f->d.port), &a, 0);

	return p && p->ours;
}

/* Run the loop until it is idle for a few rounds (bounded). */
static inline void settle(struct fx *f)
{
	int idle = 0;

	for (int i = 0; i < 500 && idle < 3; i++)
		idle = loop_iterate(f->d.loop, 0) > 0 ? 0 : idle + 1;
}

#define CAPS "cap_net_admin+ep cap_net_raw+ep"

static inline int fx_setup(void **state, const char *extra)
{
	struct fx *f = calloc(1, sizeof(*f));
	int fd;

	log_set_level(LOG_WARNING);
	snprintf(f->path, sizeof(f->path), "/tmp/test-daemon-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	close(fd);
	write_conf(f, CAPS, extra);
	struct vipd_daemon_opts o = {
		.config_path = f->path,
		.nodename = "n1",
		.port_ops = &vip_port_fake_ops,
		.backend_ops = &vip_cl_backend_solo,
		.no_drop = true,
		.no_control = true,
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
	/* The console as vipd serves it: main.c's table on a control server. */
	struct vipd_control_config cc = { .handlers = vipd_commands(),
					  .userdata = &f->d,
					  .daemon_uid = getuid(),
					  .gid = getgid() };
	int sp[2];
	assert_int_equal(vipd_control_new_detached(f->d.loop, &cc, &f->d.control), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(vipd_control_adopt(f->d.control, sp[0]), 0);
	f->client = sp[1];
	*state = f;
	return 0;
}

static inline int setup(void **state)
{
	return fx_setup(state, "");
}

static inline int teardown(void **state)
{
	struct fx *f = *state;

	vipd_daemon_free(&f->d);
	vipd_reload_result_clear(&f->res);
	close(f->client);
	unlink(f->path);
	free(f);
	return 0;
}

/*
 * One request over the console connection, the loop turned until the whole
 * reply is in (bounded). Returns the status; the body is in f->body.
 */
static inline unsigned cmdv(struct fx *f, bool json, const char *const *argv, size_t argc)
{
	struct vip_ctl_buf b = { .max = VIP_CTL_HEADER_SIZE + VIP_CTL_MAX_REPLY };
	struct vip_ctl_header h;
	const char *body;
	size_t len;
	uint8_t tmp[65536];
	int k = 0;

	assert_int_equal(vip_ctl_request_encode(&b, argv, argc, json), 0);
	assert_int_equal(write(f->client, b.data, b.len), (ssize_t)b.len);
	vip_ctl_buf_reset(&b);
	for (int i = 0; i < 1000 && k == 0; i++) {
		ssize_t n = recv(f->client, tmp, sizeof(tmp), MSG_DONTWAIT);

		if (n > 0)
			assert_int_equal(vip_ctl_buf_append(&b, tmp, (size_t)n), 0);
		else
			loop_iterate(f->d.loop, 5);
		k = vip_ctl_frame_peek(b.data, b.len, 0, &h);
	}
	assert_true(k > 0);
	assert_int_equal((size_t)k, b.len); /* one reply per request, nothing more */
	assert_int_equal(vip_ctl_reply_decode(b.data, b.len, &f->status, &f->flags, &body, &len), 0);
	assert_true(len < sizeof(f->body));
	memcpy(f->body, body, len);
	f->body[len] = '\0';
	vip_ctl_buf_free(&b);
	/* Whatever the command and its outcome, a JSON request gets exactly JSON. */
	assert_int_equal(!!(f->flags & VIP_CTL_F_BODY_JSON), json);
	if (json && !json_valid(f->body))
		fail_msg("not JSON: %s", f->body);
	return f->status;
}

#define CMD(f, json, ...)                                       \
	cmdv((f), (json), (const char *const[]){ __VA_ARGS__ }, \
	     sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

/* The last reply, parsed; free with json_free. */
static inline struct jv *J(struct fx *f)
{
	struct jv *v = json_parse(f->body);

	assert_non_null(v);
	return v;
}

/* The last reply is the JSON error {"error": msg, "status": status} (msg NULL: any). */
static inline void expect_error(struct fx *f, unsigned status, const char *msg)
{
	struct jv *v = J(f);

	assert_int_equal(f->status, status);
	assert_int_equal(json_num(v, "status"), status);
	if (msg)
		assert_string_equal(json_str(v, "error"), msg);
	json_free(v);
}

#endif

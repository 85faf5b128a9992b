// SPDX-License-Identifier: MIT
/*
 * vipctl: the operator's console for vipd. Sends a command over the control
 * socket, prints the reply and exits with the reply's status:
 *   0 ok, 1 the command failed, 2 usage, 3 permission denied, 4 busy,
 *   5 protocol error, 6 too large; 69 when the daemon cannot be reached.
 * Commands are a table; the daemon does the work, vipctl checks the shape of
 * a command first so a typo is caught without a daemon.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "ctlproto.h"
#include "vipd-build.h"

#define REPLY_TIMEOUT_S 60

struct ctx {
	const char *socket_path;
	bool json;
	int fd;
};

struct command {
	const char *name; /* the words sent to vipd */
	int (*fn)(struct ctx *ctx, const struct command *cmd, char **argv, size_t argc);
	const char *args;
	unsigned min_args, max_args;
	const char *help;
};

static int cmd_simple(struct ctx *ctx, const struct command *cmd, char **argv, size_t argc);
static int cmd_events(struct ctx *ctx, const struct command *cmd, char **argv, size_t argc);
static int cmd_help(struct ctx *ctx, const struct command *cmd, char **argv, size_t argc);

static const struct command commands[] = {
	{ "cluster duravip show", cmd_simple, "[<ip>]", 0, 1,
	  "every DuraVIP (or one): address, services, owner, state, interface, time owned" },
	{ "cluster duravip move", cmd_simple, "<ip> <node>", 2, 2, "move a DuraVIP to another node" },
	{ "cluster duravip balance", cmd_simple, NULL, 0, 0, "rebalance the DuraVIPs over the live nodes" },
	{ "cluster duravip announce view", cmd_simple, NULL, 0, 0,
	  "announce every DuraVIP held here again" },
	{ "cluster membership", cmd_simple, NULL, 0, 0, "the current view: members and their state" },
	{ "cluster info", cmd_simple, NULL, 0, 0, "backend, group, node name, quorum, members" },
	{ "cluster arp show", cmd_simple, NULL, 0, 0, "announcement options and schedule" },
	{ "config reload", cmd_simple, NULL, 0, 0, "re-read the configuration and apply what can be applied live" },
	{ "config show security", cmd_simple, NULL, 0, 0,
	  "effective user, groups and capabilities of the running vipd" },
	{ "metrics", cmd_simple, NULL, 0, 0, "counters in the Prometheus text format" },
	{ "events", cmd_events, NULL, 0, 0, "print one line (or JSON object) per change until interrupted" },
	{ "help", cmd_help, NULL, 0, 0, "this list" },
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vipctl [-s PATH] [--json] COMMAND [ARGS]\n"
		"Console for vipd, the DuraVIP manager.\n\n"
		"  -s, --socket PATH   control socket (default %s)\n"
		"  -j, --json          machine-readable output\n"
		"  -h, --help          this text\n"
		"      --version       print the version\n\nCommands:\n",
		VIPD_DEFAULT_CONTROL);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		char head[80];
		snprintf(head, sizeof(head), "%s%s%s", commands[i].name, commands[i].args ? " " : "",
			 commands[i].args ? commands[i].args : "");
		fprintf(f, "  %-36s %s\n", head, commands[i].help);
	}
}

/* Leading argv words matching name, or 0 when not all of name matches. */
static size_t match(const char *name, char **argv, size_t argc)
{
	size_t i = 0;

	for (const char *p = name; *p; i++) {
		size_t n = strcspn(p, " ");
		if (i >= argc || strlen(argv[i]) != n || strncmp(argv[i], p, n) != 0)
			return 0;
		p += n;
		p += strspn(p, " ");
	}
	return i;
}

/* The group that may use the socket, for the "permission denied" text. */
static void group_of(const char *path, char *buf, size_t len)
{
	_cleanup_free_ char *copy = strdup(path);
	struct stat st;
	struct group *g;

	if (stat(path, &st) < 0 && (!copy || stat(dirname(copy), &st) < 0)) {
		snprintf(buf, len, "of %s", path);
		return;
	}
	g = getgrgid(st.st_gid);
	if (g)
		snprintf(buf, len, "%s", g->gr_name);
	else
		snprintf(buf, len, "%u", (unsigned)st.st_gid);
}

static int connect_daemon(struct ctx *ctx)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char group[96];
	int fd;

	if (strlen(ctx->socket_path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vipctl: socket path too long: %s\n", ctx->socket_path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, ctx->socket_path, strlen(ctx->socket_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return negerrno();
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		ctx->fd = fd;
		return 0;
	}
	int r = negerrno();
	close(fd);
	if (r == -EACCES || r == -EPERM) {
		group_of(ctx->socket_path, group, sizeof(group));
		fprintf(stderr, "vipctl: permission denied: you must be root, or in group %s\n", group);
	} else if (r == -ENOENT) {
		fprintf(stderr, "vipctl: %s does not exist: is vipd running?\n", ctx->socket_path);
	} else if (r == -ECONNREFUSED) {
		fprintf(stderr, "vipctl: nobody listens on %s: vipd is not running\n", ctx->socket_path);
	} else {
		fprintf(stderr, "vipctl: cannot connect to %s: %s\n", ctx->socket_path, strerror(-r));
	}
	return r;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? negerrno() : -EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Read exactly n bytes at the end of b. 0, -ECONNRESET at EOF, or -errno. */
static int read_exact(int fd, struct vip_ctl_buf *b, size_t n)
{
	uint8_t tmp[16384];

	while (n > 0) {
		ssize_t k = read(fd, tmp, n < sizeof(tmp) ? n : sizeof(tmp));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return negerrno();
		if (k == 0)
			return -ECONNRESET;
		int r = vip_ctl_buf_append(b, tmp, (size_t)k);
		if (r < 0)
			return r;
		n -= (size_t)k;
	}
	return 0;
}

/* Read one whole frame into b (reset first). Returns its type or -errno. */
static int read_frame(int fd, struct vip_ctl_buf *b)
{
	struct vip_ctl_header h;
	int r, k;

	vip_ctl_buf_reset(b);
	r = read_exact(fd, b, VIP_CTL_HEADER_SIZE);
	if (r < 0)
		return r;
	k = vip_ctl_frame_peek(b->data, b->len, 0, &h);
	if (k == 0)
		r = read_exact(fd, b, h.length);
	else if (k < 0)
		return k;
	if (r < 0)
		return r;
	return h.type;
}

static void print_body(const char *body, size_t len, bool ok, bool json)
{
	FILE *f = ok || json ? stdout : stderr;

	fwrite(body, 1, len, f);
	if (len && body[len - 1] != '\n')
		fputc('\n', f);
	fflush(f);
}

static int frame_error(int r)
{
	if (r == -EPROTONOSUPPORT)
		fprintf(stderr, "vipctl: vipd speaks another protocol version (vipctl %s)\n", VIPD_VERSION);
	else if (r == -ECONNRESET)
		fprintf(stderr, "vipctl: vipd closed the connection\n");
	else if (r == -EAGAIN)
		fprintf(stderr, "vipctl: no reply from vipd within %d s\n", REPLY_TIMEOUT_S);
	else
		fprintf(stderr, "vipctl: bad reply from vipd: %s\n", strerror(-r));
	return VIP_CTL_PROTOCOL;
}

/* Send argv, print the reply; *ret_stream tells whether events follow. */
static int request(struct ctx *ctx, char **argv, size_t argc, bool *ret_stream)
{
	struct vip_ctl_buf b = { .max = VIP_CTL_HEADER_SIZE + VIP_CTL_MAX_REPLY };
	const char *body;
	size_t body_len;
	unsigned status;
	int r;

	r = vip_ctl_request_encode(&b, (const char *const *)argv, argc, ctx->json);
	if (r < 0) {
		fprintf(stderr, "vipctl: command too long or has an empty argument\n");
		vip_ctl_buf_free(&b);
		return VIP_CTL_USAGE;
	}
	/*
	 * Read even when the send failed: a daemon that refuses us (credentials,
	 * too many clients) says why and closes before reading our request.
	 */
	(void)write_all(ctx->fd, b.data, b.len);
	r = read_frame(ctx->fd, &b);
	if (r >= 0 && r != VIP_CTL_REPLY)
		r = -EBADMSG;
	if (r >= 0)
		r = vip_ctl_reply_decode(b.data, b.len, &status, ret_stream, &body, &body_len);
	if (r < 0) {
		vip_ctl_buf_free(&b);
		return frame_error(r);
	}
	print_body(body, body_len, status == VIP_CTL_OK, ctx->json);
	vip_ctl_buf_free(&b);
	return (int)status;
}

static int cmd_simple(struct ctx *ctx, const struct command *cmd _unused_, char **argv, size_t argc)
{
	bool stream;
	struct timeval tv = { .tv_sec = REPLY_TIMEOUT_S };

	(void)setsockopt(ctx->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return request(ctx, argv, argc, &stream);
}

static int cmd_events(struct ctx *ctx, const struct command *cmd _unused_, char **argv, size_t argc)
{
	struct vip_ctl_buf b = { .max = VIP_CTL_HEADER_SIZE + VIP_CTL_MAX_EVENT };
	bool stream = false;
	int r = request(ctx, argv, argc, &stream);

	if (r != VIP_CTL_OK || !stream) {
		vip_ctl_buf_free(&b);
		return r != VIP_CTL_OK ? r : VIP_CTL_PROTOCOL;
	}
	/* Until vipd goes away or we are interrupted (SIGINT's default action). */
	for (;;) {
		const char *text;
		size_t len;

		r = read_frame(ctx->fd, &b);
		if (r == -ECONNRESET) {
			fprintf(stderr, "vipctl: vipd ended the event stream\n");
			r = VIP_CTL_OK;
			break;
		}
		if (r >= 0 && r != VIP_CTL_EVENT)
			r = -EBADMSG;
		if (r >= 0)
			r = vip_ctl_event_decode(b.data, b.len, &text, &len);
		if (r < 0) {
			r = frame_error(r);
			break;
		}
		print_body(text, len, true, ctx->json);
	}
	vip_ctl_buf_free(&b);
	return r;
}

static int cmd_help(struct ctx *ctx _unused_, const struct command *cmd _unused_, char **argv _unused_,
		    size_t argc _unused_)
{
	usage(stdout);
	return 0;
}

static const struct command *find(char **argv, size_t argc, size_t *ret_n)
{
	const struct command *best = NULL;
	size_t best_n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		size_t n = match(commands[i].name, argv, argc);
		if (n > best_n) {
			best = &commands[i];
			best_n = n;
		}
	}
	*ret_n = best_n;
	return best;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct ctx ctx = { .socket_path = VIPD_DEFAULT_CONTROL, .fd = -1 };
	const struct command *cmd;
	size_t n, nargs;
	int c, r;

	while ((c = getopt_long(argc, argv, "s:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			ctx.socket_path = optarg;
			break;
		case 'j':
			ctx.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("vipctl %s\n", VIPD_VERSION);
			return 0;
		default:
			usage(stderr);
			return VIP_CTL_USAGE;
		}
	}
	argv += optind;
	nargs = (size_t)(argc - optind);
	if (nargs == 0) {
		usage(stderr);
		return VIP_CTL_USAGE;
	}
	cmd = find(argv, nargs, &n);
	if (!cmd) {
		fprintf(stderr, "vipctl: unknown command '%s'; try 'vipctl help'\n", argv[0]);
		return VIP_CTL_USAGE;
	}
	if (nargs - n < cmd->min_args || nargs - n > cmd->max_args) {
		fprintf(stderr, "usage: vipctl %s%s%s\n", cmd->name, cmd->args ? " " : "",
			cmd->args ? cmd->args : "");
		return VIP_CTL_USAGE;
	}
	if (cmd->fn != cmd_help && connect_daemon(&ctx) < 0)
		return EX_UNAVAILABLE;
	r = cmd->fn(&ctx, cmd, argv, nargs);
	if (ctx.fd >= 0)
		close(ctx.fd);
	return r;
}

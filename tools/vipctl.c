/* SPDX-License-Identifier: MIT */
/*
 * vipctl: the operator's console for vipd. Sends a command over the control
 * socket, prints the reply and exits with the reply's status:
 *   0 ok, 1 the command failed, 2 usage, 3 permission denied, 4 busy,
 *   5 protocol error, 6 too large; 69 when the daemon cannot be reached.
 * The commands are vipd's own table (ctlproto.h, linked here): vipctl checks
 * a command's shape against it first, so a typo is caught without a daemon,
 * and prints `help` from it. With --json every outcome is one JSON document
 * on stdout, vipctl's own errors and the daemon's text-only refusals
 * included ({"error": ..., "status": N}).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
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

static void usage(FILE *f)
{
	struct vip_ctl_buf b = { 0 };

	fprintf(f,
		"Usage: vipctl [-s PATH] [--json] COMMAND [ARGS]\n"
		"Console for vipd, the DuraVIP manager.\n\n"
		"  -s, --socket PATH   control socket (default %s)\n"
		"  -j, --json          machine-readable output\n"
		"  -h, --help          this text\n"
		"      --version       print the version\n\nCommands:\n",
		VIPD_DEFAULT_CONTROL);
	vip_ctl_help_text(&b);
	if (b.err == 0)
		fwrite(b.data, 1, b.len, f);
	vip_ctl_buf_free(&b);
}

/* One JSON document on stdout: {"error": msg, "status": status}. */
static void json_error(const char *msg, unsigned status)
{
	struct vip_json w = { 0 };

	vip_json_object_begin(&w, NULL);
	vip_json_string(&w, "error", msg);
	vip_json_uint(&w, "status", status);
	vip_json_object_end(&w);
	if (vip_json_finish(&w) == 0)
		fwrite(w.data, 1, w.len, stdout);
	fflush(stdout);
	vip_json_free(&w);
}

/* vipctl's own error: "vipctl: msg" on stderr, or JSON on stdout. Returns status. */
static int fail(const struct ctx *ctx, int status, const char *fmt, ...) _printf_(3, 4);
static int fail(const struct ctx *ctx, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ctx->json)
		json_error(msg, (unsigned)status);
	else
		fprintf(stderr, "vipctl: %s\n", msg);
	return status;
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
		fail(ctx, EX_UNAVAILABLE, "socket path too long: %s", ctx->socket_path);
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
		fail(ctx, EX_UNAVAILABLE, "permission denied: you must be root, or in group %s", group);
	} else if (r == -ENOENT) {
		fail(ctx, EX_UNAVAILABLE, "%s does not exist: is vipd running?", ctx->socket_path);
	} else if (r == -ECONNREFUSED) {
		fail(ctx, EX_UNAVAILABLE, "nobody listens on %s: vipd is not running", ctx->socket_path);
	} else {
		fail(ctx, EX_UNAVAILABLE, "cannot connect to %s: %s", ctx->socket_path, strerror(-r));
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

static void print_body(const char *body, size_t len, bool ok)
{
	FILE *f = ok ? stdout : stderr;

	fwrite(body, 1, len, f);
	if (len && body[len - 1] != '\n')
		fputc('\n', f);
	fflush(f);
}

/*
 * A reply. JSON bodies go to stdout as they are. Under --json a text body
 * (a refusal sent before vipd read the request) becomes {"error": ...}.
 */
static void print_reply(const struct ctx *ctx, unsigned status, unsigned flags, const char *body, size_t len)
{
	char msg[512];

	if (!ctx->json || (flags & VIP_CTL_F_BODY_JSON)) {
		print_body(body, len, status == VIP_CTL_OK || ctx->json);
		return;
	}
	if (len >= 7 && memcmp(body, "error: ", 7) == 0)
		body += 7, len -= 7;
	while (len && body[len - 1] == '\n')
		len--;
	snprintf(msg, sizeof(msg), "%.*s", (int)len, body);
	json_error(msg, status);
}

static int frame_error(const struct ctx *ctx, int r)
{
	if (r == -EPROTONOSUPPORT)
		return fail(ctx, VIP_CTL_PROTOCOL,
			    "vipd speaks another protocol version (vipctl %s speaks %u)", VIPD_VERSION,
			    VIP_CTL_VERSION);
	if (r == -ECONNRESET)
		return fail(ctx, VIP_CTL_PROTOCOL, "vipd closed the connection");
	if (r == -EAGAIN)
		return fail(ctx, VIP_CTL_PROTOCOL, "no reply from vipd within %d s", REPLY_TIMEOUT_S);
	return fail(ctx, VIP_CTL_PROTOCOL, "bad reply from vipd: %s", strerror(-r));
}

/* Send argv, print the reply; *ret_stream tells whether events follow. */
static int request(struct ctx *ctx, char **argv, size_t argc, bool *ret_stream)
{
	struct vip_ctl_buf b = { .max = VIP_CTL_HEADER_SIZE + VIP_CTL_MAX_REPLY };
	const char *body;
	size_t body_len;
	unsigned status, flags = 0;
	int r;

	r = vip_ctl_request_encode(&b, (const char *const *)argv, argc, ctx->json);
	if (r < 0) {
		vip_ctl_buf_free(&b);
		return fail(ctx, VIP_CTL_USAGE, "command too long or has an empty argument");
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
		r = vip_ctl_reply_decode(b.data, b.len, &status, &flags, &body, &body_len);
	if (r < 0) {
		vip_ctl_buf_free(&b);
		return frame_error(ctx, r);
	}
	*ret_stream = flags & VIP_CTL_F_STREAM;
	print_reply(ctx, status, flags, body, body_len);
	vip_ctl_buf_free(&b);
	return (int)status;
}

static int run_simple(struct ctx *ctx, char **argv, size_t argc)
{
	bool stream;
	struct timeval tv = { .tv_sec = REPLY_TIMEOUT_S };

	(void)setsockopt(ctx->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return request(ctx, argv, argc, &stream);
}

static int run_events(struct ctx *ctx, char **argv, size_t argc)
{
	struct vip_ctl_buf b = { .max = VIP_CTL_HEADER_SIZE + VIP_CTL_MAX_EVENT };
	bool stream = false;
	int r = request(ctx, argv, argc, &stream);

	if (r != VIP_CTL_OK || !stream) {
		vip_ctl_buf_free(&b);
		return r != VIP_CTL_OK ? r
				       : fail(ctx, VIP_CTL_PROTOCOL, "vipd did not start an event stream");
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
			r = frame_error(ctx, r);
			break;
		}
		print_body(text, len, true);
	}
	vip_ctl_buf_free(&b);
	return r;
}

static int run_help(const struct ctx *ctx)
{
	struct vip_json w = { 0 };

	if (!ctx->json) {
		usage(stdout);
		return 0;
	}
	vip_ctl_help_json(&w);
	if (vip_json_finish(&w) == 0)
		fwrite(w.data, 1, w.len, stdout);
	vip_json_free(&w);
	return 0;
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
	const struct vip_ctl_command *cmd;
	char usage_line[200];
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
	cmd = vip_ctl_command_find((const char *const *)argv, nargs, &n);
	if (!cmd)
		return fail(&ctx, VIP_CTL_USAGE, "unknown command '%s'; try 'vipctl help'", argv[0]);
	if (nargs - n < cmd->min_args || nargs - n > cmd->max_args) {
		vip_ctl_command_usage(cmd, usage_line, sizeof(usage_line));
		if (ctx.json)
			return fail(&ctx, VIP_CTL_USAGE, "%s", usage_line);
		fprintf(stderr, "usage: vipctl %s\n", usage_line + strlen("usage: "));
		return VIP_CTL_USAGE;
	}
	if (cmd->flags & VIP_CTL_CMD_F_LOCAL)
		return run_help(&ctx);
	if (connect_daemon(&ctx) < 0)
		return EX_UNAVAILABLE;
	r = cmd->flags & VIP_CTL_CMD_F_STREAM ? run_events(&ctx, argv, nargs) : run_simple(&ctx, argv, nargs);
	close(ctx.fd);
	return r;
}

/* SPDX-License-Identifier: MIT */
/*
 * Control-socket dispatch: matching a request against the command table,
 * the built-in help, rendering replies and errors, and turning a handler's
 * result and its reply's sticky error into a status and a body. No I/O.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "control-internal.h"

static void reply_reset(struct vipd_control_call *call)
{
	vip_json_reset(call->jw);
	vip_ctl_buf_reset(call->text);
}

int vipd_control_reply(struct vipd_control_call *call, const struct vipd_control_view *view, const void *data)
{
	reply_reset(call);
	if (call->json)
		view->json(call->jw, data);
	else
		view->text(call->text, data);
	return 0;
}

static void error_body(struct vipd_control_call *call, unsigned status, const char *msg)
{
	reply_reset(call);
	if (call->json) {
		vip_json_object_begin(call->jw, NULL);
		vip_json_string(call->jw, "error", msg);
		vip_json_uint(call->jw, "status", status);
		vip_json_object_end(call->jw);
	} else {
		vip_ctl_buf_printf(call->text, "error: %s\n", msg);
	}
}

int vipd_control_fail(struct vipd_control_call *call, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	error_body(call, (unsigned)status, msg);
	return status;
}

static bool reply_empty(const struct vipd_control_call *call)
{
	return call->json ? call->jw->len == 0 : call->text->len == 0;
}

static void help_json(struct vip_json *w, const void *data _unused_)
{
	vip_ctl_help_json(w);
}

static void help_text(struct vip_ctl_buf *out, const void *data _unused_)
{
	vip_ctl_help_text(out);
}

static int builtin_help(struct vipd_control_call *call)
{
	static const struct vipd_control_view view = { help_json, help_text };

	return vipd_control_reply(call, &view, NULL);
}

/* A command that changes state, asked by a peer who may only read. */
static unsigned refuse_change(const struct vipd_control_config *cfg, struct vipd_control_call *call,
			      const struct vip_ctl_command *cmd)
{
	if (cfg->admin_group)
		return (unsigned)vipd_control_fail(call, VIP_CTL_DENIED,
						   "permission denied: '%s' changes state: it needs root or "
						   "membership in group %s (Control { admin_group })",
						   cmd->words, cfg->admin_group);
	return (unsigned)vipd_control_fail(call, VIP_CTL_DENIED,
					   "permission denied: '%s' changes state: it needs root (no "
					   "Control { admin_group } is set)",
					   cmd->words);
}

unsigned control_run(const struct vipd_control_config *cfg, struct vipd_control_call *call,
		     const struct vip_ctl_request *req)
{
	const struct vip_ctl_command *cmd;
	vipd_control_fn fn;
	char usage[200];
	size_t n;

	reply_reset(call);
	cmd = vip_ctl_command_find((const char *const *)req->argv, req->argc, &n);
	fn = !cmd                          ? NULL
	     : cmd->id == VIP_CTL_CMD_HELP ? builtin_help
	     : cfg->handlers               ? cfg->handlers[cmd->id]
					   : NULL;
	if (!fn)
		return (unsigned)vipd_control_fail(call, VIP_CTL_USAGE,
						   "unknown command '%.100s'; try 'help'",
						   cmd ? cmd->words : req->argv[0]);
	/* The one place authority is checked: the table says what each command does. */
	if (cmd->authority != VIP_CTL_AUTH_READ && (!call->peer || !control_peer_may_change(cfg, call->peer)))
		return refuse_change(cfg, call, cmd);
	if (req->argc - n < cmd->min_args || req->argc - n > cmd->max_args) {
		vip_ctl_command_usage(cmd, usage, sizeof(usage));
		return (unsigned)vipd_control_fail(call, VIP_CTL_USAGE, "%s", usage);
	}
	call->cmd = cmd;
	call->args = (const char *const *)req->argv + n;
	call->n_args = req->argc - n;
	return control_call_status(call, fn(call));
}

unsigned control_call_status(struct vipd_control_call *call, int r)
{
	unsigned status;
	char usage[200];

	if (r >= 0)
		return r < (int)VIP_CTL_STATUS_LIMIT ? (unsigned)r : VIP_CTL_FAILED;
	status = r == -EINVAL ? VIP_CTL_USAGE : r == -ENOBUFS ? VIP_CTL_TOO_LARGE : VIP_CTL_FAILED;
	if (reply_empty(call)) {
		if (r == -EINVAL && call->cmd) {
			vip_ctl_command_usage(call->cmd, usage, sizeof(usage));
			error_body(call, status, usage);
		} else {
			error_body(call, status, r == -ENOBUFS ? "reply too large" : strerror(-r));
		}
	}
	return status;
}

unsigned control_finish(struct vipd_control_call *call, unsigned status, bool stream, const void **ret_body,
			size_t *ret_len)
{
	int err;

	/* A subscription may answer with nothing: the events are the answer. */
	if (call->json && !(stream && call->jw->len == 0 && !call->jw->error))
		err = vip_json_finish(call->jw);
	else
		err = call->json ? call->jw->error : call->text->err;
	if (err < 0) {
		/* Cut short or malformed: say so; the error fits any sane bound. */
		status = err == -ENOBUFS ? VIP_CTL_TOO_LARGE : VIP_CTL_FAILED;
		error_body(call, status,
			   err == -ENOBUFS ? "reply too large" : "internal error: malformed reply");
		err = call->json ? vip_json_finish(call->jw) : call->text->err;
	}
	*ret_body = call->json ? (const void *)call->jw->data : call->text->data;
	*ret_len = call->json ? call->jw->len : call->text->len;
	if (err < 0)
		*ret_len = 0; /* not even the error fits: the status alone says it */
	return status;
}

// SPDX-License-Identifier: MIT
/*
 * Control-socket dispatch: matching a request's words against the command
 * table, the built-in help, and turning a handler's result into a status
 * and a body. No I/O.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "control-internal.h"

/* Best-effort body for an error the handler did not describe. */
void control_body_error(struct vip_ctl_buf *b, bool json, const char *msg)
{
	b->len = 0;
	if (json) {
		(void)vip_ctl_buf_puts(b, "{\"error\":");
		(void)vip_ctl_buf_json_string(b, msg);
		(void)vip_ctl_buf_puts(b, "}\n");
	} else {
		(void)vip_ctl_buf_printf(b, "error: %s\n", msg);
	}
}

/* Count how many leading argv words match cmd's words; 0 when not all do. */
size_t control_match_words(const char *words, const char *const *argv, size_t argc)
{
	const char *p = words;
	size_t i = 0;

	while (*p) {
		size_t n = strcspn(p, " ");

		if (i >= argc || strlen(argv[i]) != n || strncmp(argv[i], p, n) != 0)
			return 0;
		i++;
		p += n;
		p += strspn(p, " ");
	}
	return i;
}

const struct vipd_control_command *control_find_command(const struct vipd_control_config *cfg,
							const struct vip_ctl_request *req,
							size_t *ret_n)
{
	const struct vipd_control_command *best = NULL;
	size_t best_n = 0;

	for (size_t i = 0; i < cfg->n_commands; i++) {
		size_t n = control_match_words(cfg->commands[i].words, (const char *const *)req->argv, req->argc);
		if (n > best_n) {
			best = &cfg->commands[i];
			best_n = n;
		}
	}
	*ret_n = best_n;
	return best;
}

static int builtin_help(struct vipd_control_call *call)
{
	const struct vipd_control_config *cfg = control_get_config(call->control);
	struct vip_ctl_buf *b = call->out;
	int r = 0;

	if (call->json)
		r = vip_ctl_buf_puts(b, "{\"commands\":[");
	for (size_t i = 0; r >= 0 && i < cfg->n_commands; i++) {
		const struct vipd_control_command *c = &cfg->commands[i];
		if (!call->json) {
			r = vip_ctl_buf_printf(b, "  %-34s %s\n", c->words, c->help ? c->help : "");
			if (r >= 0 && c->args)
				r = vip_ctl_buf_printf(b, "  %-34s   usage: %s %s\n", "", c->words, c->args);
			continue;
		}
		r = vip_ctl_buf_puts(b, i ? ",{\"command\":" : "{\"command\":");
		if (r >= 0)
			r = vip_ctl_buf_json_string(b, c->words);
		if (r >= 0)
			r = vip_ctl_buf_puts(b, ",\"args\":");
		if (r >= 0)
			r = vip_ctl_buf_json_string(b, c->args ? c->args : "");
		if (r >= 0)
			r = vip_ctl_buf_puts(b, ",\"help\":");
		if (r >= 0)
			r = vip_ctl_buf_json_string(b, c->help ? c->help : "");
		if (r >= 0)
			r = vip_ctl_buf_puts(b, "}");
	}
	if (r >= 0 && call->json)
		r = vip_ctl_buf_puts(b, "]}\n");
	return r;
}

const struct vipd_control_command control_help_command = {
	.words = "help", .fn = builtin_help, .max_args = 0, .help = "list the commands",
};

/* Map a handler's return to a status, filling the body when it is empty. */
unsigned control_call_status(struct vipd_control_call *call, const struct vipd_control_command *cmd, int r)
{
	char msg[256];

	if (r >= 0)
		return r < (int)VIP_CTL_STATUS_LIMIT ? (unsigned)r : VIP_CTL_FAILED;
	if (r == -ENOBUFS) {
		control_body_error(call->out, call->json, "reply too large");
		return VIP_CTL_TOO_LARGE;
	}
	if (call->out->len == 0) {
		if (r == -EINVAL)
			snprintf(msg, sizeof(msg), "usage: %s%s%s", cmd->words, cmd->args ? " " : "",
				 cmd->args ? cmd->args : "");
		else
			snprintf(msg, sizeof(msg), "%s", strerror(-r));
		control_body_error(call->out, call->json, msg);
	}
	return r == -EINVAL ? VIP_CTL_USAGE : VIP_CTL_FAILED;
}


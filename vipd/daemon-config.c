/* SPDX-License-Identifier: MIT */
/*
 * vipd/daemon: loading the configuration, with corosync's token for the
 * derived fault timing (docs/fault-tolerance.md), its diagnostics logged.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "daemon-internal.h"
#include "log.h"

static void log_diag(const struct vip_conf_diag *diag)
{
	for (size_t i = 0; i < diag->n; i++) {
		const struct vip_conf_diagnostic *it = &diag->items[i];
		_cleanup_free_ char *line = vip_conf_diagnostic_format(it);

		log_line(it->severity == VIP_CONF_ERROR ? LOG_ERR : LOG_WARNING, line ? line : it->message);
	}
}

/* Load quietly: the diagnostics are the caller's. */
static int load(const struct vipd_daemon_opts *opts, const struct daemon_reload_ctx *rctx,
		struct vipd_config **ret, struct vip_conf_diag *diag, uint32_t *ret_token)
{
	struct vip_config_opts co = { .nodename = opts->nodename, .env_node_name = getenv("EC_NODE_NAME") };
	const char *cpath = vip_cl_corosync_conf_path();
	char *inside = NULL;
	int r;

	if (rctx) {
		co.running = rctx->running;
		co.root = rctx->root;
	}
	/* Inside a chroot, corosync.conf is read there if it is under it. */
	if (co.root && strncmp(cpath, co.root, strlen(co.root)) == 0 && cpath[strlen(co.root)] == '/')
		cpath = inside = strdup(cpath + strlen(co.root));
	/* The fault timing follows corosync's own token; none: its default (or start-up's, in a chroot). */
	if (!cpath || vip_cl_corosync_token(cpath, &co.corosync_token_ms) < 0)
		co.corosync_token_ms = co.root && rctx ? rctx->corosync_token_ms : 0;
	free(inside);
	if (ret_token)
		*ret_token = co.corosync_token_ms;
	r = vip_config_load(opts->config_path, &co, ret, diag);
#ifdef __GLIBC__
	malloc_trim(0); /* the parse tree's pages back to the system (vipd/main.c tune_malloc) */
#endif
	return r;
}

int daemon_load(const struct vipd_daemon_opts *opts, const struct daemon_reload_ctx *rctx,
		struct vipd_config **ret, struct vip_conf_diag *ret_diag, uint32_t *ret_token)
{
	struct vip_conf_diag diag = { 0 };
	int r = load(opts, rctx, ret, &diag, ret_token);

	log_diag(&diag);
	if (r < 0 && diag.n_errors == 0)
		log_error_errno(r, "%s: %m", opts->config_path);
	if (ret_diag)
		*ret_diag = diag;
	else
		vip_conf_diag_clear(&diag);
	return r;
}

int vipd_daemon_load_config(const struct vipd_daemon_opts *opts, bool warnings, struct vipd_config **ret)
{
	struct vip_conf_diag diag = { 0 };
	int r;

	if (warnings)
		return daemon_load(opts, NULL, ret, NULL, NULL);
	/* Quiet unless it fails: the engine loads it again and logs its warnings. */
	r = load(opts, NULL, ret, &diag, NULL);
	vip_conf_diag_clear(&diag);
	if (r < 0)
		return daemon_load(opts, NULL, ret, NULL, NULL);
	return r;
}

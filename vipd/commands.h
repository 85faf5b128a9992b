/* SPDX-License-Identifier: MIT */
/*
 * vipd/commands: the console's commands. One handler per command of the
 * shared table (ctlproto.h), indexed by its id, each called with the daemon
 * (struct vipd_daemon *) as userdata. The handlers ask the daemon through
 * daemon.h's query and request functions only. main.c hands this table to
 * the daemon (vipd_daemon_opts.console).
 *
 * Each handler collects what it answers into a structure and renders it
 * through vipd_control_reply with a JSON and a text renderer of that same
 * structure; errors go through vipd_control_fail.
 */
#ifndef VIPD_COMMANDS_H
#define VIPD_COMMANDS_H

#include "control.h"

/* _VIP_CTL_CMD_MAX handlers; help's is NULL (the server's own). */
const vipd_control_fn *vipd_commands(void);

#endif

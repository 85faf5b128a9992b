/* SPDX-License-Identifier: MIT */
/*
 * vipd/commands internals: helpers shared by commands.c and commands-info.c.
 * Not a public header.
 */
#ifndef VIPD_COMMANDS_INTERNAL_H
#define VIPD_COMMANDS_INTERNAL_H

#include <stdint.h>

#include "daemon.h"

/* "12.3s", "5m02s", "2h05m". */
void cmd_duration(uint64_t ms, char *buf, size_t len);
/* now - since, never negative. */
uint64_t cmd_age(uint64_t now, uint64_t since);
/* A JSON string, or null for NULL. */
void cmd_json_str_or_null(struct vip_ctl_buf *o, const char *s);

/* commands-info.c */
int cmd_security(struct vipd_control_call *call);
int cmd_metrics(struct vipd_control_call *call);

#endif

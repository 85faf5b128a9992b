/* SPDX-License-Identifier: MIT */
/*
 * What the Linux and Solaris privilege drops share: their messages and
 * errors, and step 1 (chroot), which is the same on both.
 */
#ifndef VIPD_PRIVDROP_INTERNAL_H
#define VIPD_PRIVDROP_INTERNAL_H

#include "privdrop.h"

/* Append one message (syslog priority prio) to ret; silently full at VIP_PRIVDROP_MAX_MSGS. */
void vip_privdrop_msg(struct vip_privdrop_result *ret, int prio, const char *fmt, ...) _printf_(3, 4);

/* Record "<what>: <strerror(-r)>" as ret->error and return r (a -errno). */
int vip_privdrop_fail(struct vip_privdrop_result *ret, int r, const char *fmt, ...) _printf_(3, 4);

/*
 * Step 1: when dir is set it must be a root-owned directory nobody else can
 * write; then chroot(dir) and chdir("/"). 0, or -errno with ret->error set.
 */
int vip_privdrop_chroot(const char *dir, struct vip_privdrop_result *ret);

#endif

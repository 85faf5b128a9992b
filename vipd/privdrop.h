/* SPDX-License-Identifier: MIT */
/*
 * vipd/privdrop: the one privilege drop of the daemon (docs/design.md §5,
 * docs/style.md rule 10). Called once, after every root-only resource is open.
 *
 * One interface, one port per OS chosen by meson: privdrop.c (Linux: chroot,
 * securebits, bounding set, setres[ug]id, libcap) or privdrop-sunos.c
 * (Solaris: privilege sets). The functions never print: what the caller must
 * log comes back in struct vip_privdrop_result.
 */
#ifndef VIPD_PRIVDROP_H
#define VIPD_PRIVDROP_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

/* Bit n stands for capability n (CAP_NET_ADMIN = 12, ...). */
#define VIP_PRIVDROP_CAP(c) (UINT64_C(1) << (c))

/* What the configured job needs to keep; a missing one is a start-up error. */
struct vip_privdrop_needs {
	uint64_t caps; /* VIP_PRIVDROP_CAP() bits */
};

#define VIP_PRIVDROP_MSG_LEN 256
#define VIP_PRIVDROP_MAX_MSGS 8

struct vip_privdrop_msg {
	int prio;                        /* LOG_WARNING, LOG_NOTICE or LOG_DEBUG */
	char text[VIP_PRIVDROP_MSG_LEN]; /* no trailing newline */
};

struct vip_privdrop_result {
	struct vip_privdrop_msg msgs[VIP_PRIVDROP_MAX_MSGS]; /* to log, in order */
	size_t n_msgs;
	char error[VIP_PRIVDROP_MSG_LEN]; /* on failure: the step and the value */
	bool changed_uid;                 /* setresuid() was called and verified */
	uint64_t kept_permitted;          /* what the process keeps (when it returns 0) */
	uint64_t kept_effective;
};

/*
 * The capabilities the configuration's job needs: cap_net_admin when there
 * are DuraVIPs to plumb, cap_net_raw when they are announced with it listed
 * (conf/ only warns when it is not listed: then vipd runs without announcing).
 */
void vip_privdrop_needs_from_config(const struct vipd_config *cfg, struct vip_privdrop_needs *ret);

/*
 * Drop to sec: chroot, SECBIT_NOROOT and the bounding set, keepcaps,
 * setgroups, setresgid, setresuid, cap_set_proc with exactly
 * sec->capabilities (parsed here with cap_from_text; the +e/+p flags decide,
 * nothing inheritable or ambient), no_new_privs, then read everything back
 * and prove setresuid(0,0,0) fails.
 *
 * user = root (sec->uid 0): no setresuid; with capabilities the set is still
 * reduced, without it every capability is kept (a warning each way).
 * Not root at the start: nothing can be dropped; checks that the current
 * effective capabilities cover needs and says what is missing.
 *
 * Returns 0 (ret->msgs may hold warnings) or -errno with ret->error naming
 * the step and the value, e.g. "setresuid(998): Operation not permitted".
 * A failure may leave the process half dropped: the caller must exit.
 */
int vip_privdrop(const struct vipd_security *sec, const struct vip_privdrop_needs *needs,
		 struct vip_privdrop_result *ret);

/*
 * The current identity in one line, for the log and `vipctl config show
 * security`: "uid=R/E/S gid=R/E/S groups=A,B caps=TEXT bounding=LIST
 * no_new_privs=0|1". Returns 0 and a string in *ret (caller frees), or -errno.
 */
int vip_privdrop_identity(char **ret);

/*
 * Close every descriptor from `from` (>= 3) up, except keep (-1: none), so
 * nothing inherited crosses the drop. close_range() first; where it fails
 * (an old kernel, a seccomp filter) each descriptor listed in /proc/self/fd,
 * else every number up to the open-file limit. 0, or -EINVAL for from < 3.
 */
int vip_close_inherited(int from, int keep);

#endif

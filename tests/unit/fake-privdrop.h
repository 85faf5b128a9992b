/* SPDX-License-Identifier: MIT */
/*
 * A model of the kernel's process credentials for test-privdrop.c: every
 * libc and libcap call vipd/privdrop.c makes is wrapped (-Wl,--wrap=) by
 * fake-privdrop.c, which enforces what the real kernel would (setresuid
 * needs CAP_SETUID, the bounding set CAP_SETPCAP, keepcaps, ...), logs each
 * call, fails one call on request and can lie on read-back.
 */
#ifndef TEST_FAKE_PRIVDROP_H
#define TEST_FAKE_PRIVDROP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "privdrop.h"

#define B(c) VIP_PRIVDROP_CAP(c)
#define NCAPS 41u
#define ALL_CAPS ((UINT64_C(1) << NCAPS) - 1)
#define CLUSTER_CAPS (B(CAP_NET_ADMIN) | B(CAP_NET_BIND_SERVICE) | B(CAP_NET_RAW) | B(CAP_SYS_RESOURCE))
#define CLUSTER_TEXT "cap_net_admin+ep cap_net_bind_service+ep cap_net_raw+ep cap_sys_resource+ep"
#define NEEDS (B(CAP_NET_ADMIN) | B(CAP_NET_RAW))

enum tamper {
	T_NONE,
	T_UID,
	T_GID,
	T_GROUPS_MORE,
	T_GROUPS_OTHER,
	T_PRM,
	T_EFF,
	T_INH,
	T_BND,
	T_NNP,
	T_SECUREBITS
};

struct fake {
	char log[128][48];
	size_t n_log;
	uid_t uid[3];
	gid_t gid[3];
	gid_t groups[8];
	size_t n_groups;
	uint64_t prm, eff, inh, bnd;
	int securebits, nnp, keepcaps;
	struct stat st;
	int stat_errno;
	const char *fail; /* log entry of the call to fail */
	int fail_errno;
	bool dropped;       /* PR_SET_NO_NEW_PRIVS was called */
	enum tamper tamper; /* lie about this once dropped */
	bool root_hole;     /* setresuid(0,0,0) works even without CAP_SETUID */
};

extern struct fake f;

/* Start as root (uid/gid 0, groups [0]) with these permitted/effective/bounding sets. */
void fake_reset(uint64_t bnd);

#endif

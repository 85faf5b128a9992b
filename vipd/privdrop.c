/* SPDX-License-Identifier: MIT */
/*
 * vipd/privdrop (Linux): the privilege drop, in the fixed order of docs/design.md
 * §5, failing closed. vip_privdrop() reads top to bottom as the steps; each
 * step returns 0 or -errno after writing "step(value): reason" to ret->error.
 */
#include <grp.h>
#include <linux/securebits.h>
#include <stdarg.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "privdrop-internal.h"

#define BIT(c) VIP_PRIVDROP_CAP(c)
#define NOROOT_BITS (SECBIT_NOROOT | SECBIT_NOROOT_LOCKED)

/* What the drop will ask for, worked out before anything changes. */
struct plan {
	const struct vipd_security *sec;
	unsigned ncaps;       /* capabilities this kernel knows (cap_max_bits) */
	uint64_t bound_start; /* bounding set at the start */
	uint64_t listed;      /* permitted bits in sec->capabilities, as written */
	uint64_t keep_p;      /* listed, less what the bounding set lacks */
	uint64_t keep_e;
	bool keep_all; /* user root without a capabilities list */
};

/* "cap_net_admin cap_net_raw" (or "none") into buf. */
static const char *caps_names(uint64_t mask, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (unsigned c = 0; c < 64 && at < len; c++) {
		if (!(mask & BIT(c)))
			continue;
		char *name = cap_to_name((cap_value_t)c);
		int n = snprintf(buf + at, len - at, "%s%s", at ? " " : "", name ? name : "?");
		cap_free(name);
		if (n < 0)
			break;
		at += (size_t)n;
	}
	if (at == 0)
		snprintf(buf, len, "none");
	return buf;
}

static uint64_t cap_mask(cap_t caps, cap_flag_t flag)
{
	uint64_t mask = 0;

	for (unsigned c = 0; c < 64; c++) {
		cap_flag_value_t v = CAP_CLEAR;
		if (cap_get_flag(caps, (cap_value_t)c, flag, &v) == 0 && v == CAP_SET)
			mask |= BIT(c);
	}
	return mask;
}

/* How many capabilities this kernel knows (at most 64, our bit masks' width). */
static unsigned kernel_caps(void)
{
	cap_value_t max = cap_max_bits();

	return max <= 0 ? 0 : max > 64 ? 64 : (unsigned)max;
}

static int read_bounding(unsigned ncaps, uint64_t *ret_mask, struct vip_privdrop_result *ret)
{
	uint64_t mask = 0;

	for (unsigned c = 0; c < ncaps; c++) {
		int r = prctl(PR_CAPBSET_READ, (unsigned long)c, 0UL, 0UL, 0UL);
		if (r < 0)
			return vip_privdrop_fail(ret, negerrno(), "prctl(PR_CAPBSET_READ, %u)", c);
		if (r > 0)
			mask |= BIT(c);
	}
	*ret_mask = mask;
	return 0;
}

/* Parse the capabilities text; what is outside the bounding set is a warning. */
static int plan_caps(struct plan *p, struct vip_privdrop_result *ret)
{
	const struct vipd_security *sec = p->sec;
	char names[VIP_PRIVDROP_MSG_LEN];

	if (!sec->capabilities) {
		p->keep_all = sec->uid == 0;
		p->keep_p = p->keep_e = p->keep_all ? p->bound_start : 0;
		return 0;
	}
	cap_t caps = cap_from_text(sec->capabilities);
	if (!caps)
		return vip_privdrop_fail(ret, -EINVAL, "cap_from_text(\"%s\")", sec->capabilities);
	p->listed = cap_mask(caps, CAP_PERMITTED);
	p->keep_e = cap_mask(caps, CAP_EFFECTIVE);
	uint64_t inh = cap_mask(caps, CAP_INHERITABLE);
	cap_free(caps);
	if (inh)
		vip_privdrop_msg(ret, LOG_WARNING,
				 "capabilities: inheritable flags ignored (%s): vipd keeps "
				 "nothing inheritable",
				 caps_names(inh, names, sizeof(names)));

	uint64_t outside = (p->listed | p->keep_e) & ~p->bound_start;
	if (outside)
		vip_privdrop_msg(ret, LOG_WARNING,
				 "capabilities outside this process's bounding set cannot "
				 "be kept: %s",
				 caps_names(outside, names, sizeof(names)));
	p->keep_p = p->listed & p->bound_start;
	p->keep_e &= p->bound_start;
	if (sec->uid == 0)
		vip_privdrop_msg(ret, LOG_WARNING,
				 "user %s with capabilities: root loses its access to every "
				 "file not covered by a listed capability",
				 sec->user ? sec->user : "root");
	return 0;
}

/* A needed capability the process cannot keep is a start-up error. */
static int plan_needs(const struct plan *p, uint64_t needs, struct vip_privdrop_result *ret)
{
	char names[VIP_PRIVDROP_MSG_LEN];
	uint64_t missing = needs & ~p->bound_start;

	if (missing)
		return vip_privdrop_fail(ret, -EPERM, "needed capabilities outside the bounding set (%s)",
					 caps_names(missing, names, sizeof(names)));
	missing = needs & ~(p->keep_p & p->keep_e);
	if (missing)
		return vip_privdrop_fail(ret, -EPERM,
					 "needed capabilities not kept by Security { capabilities } (%s)",
					 caps_names(missing, names, sizeof(names)));
	return 0;
}

/* Not root at the start: no drop is possible; can the job still be done? */
static int check_unprivileged(const struct plan *p, uint64_t needs, struct vip_privdrop_result *ret)
{
	char names[VIP_PRIVDROP_MSG_LEN];
	cap_t caps = cap_get_proc();

	if (!caps)
		return vip_privdrop_fail(ret, negerrno(), "cap_get_proc()");
	uint64_t eff = cap_mask(caps, CAP_EFFECTIVE) & cap_mask(caps, CAP_PERMITTED);
	cap_free(caps);

	uid_t euid = geteuid();
	uint64_t missing = needs & ~eff;
	if (missing)
		return vip_privdrop_fail(ret, -EPERM,
					 "already running as uid %u, no privilege drop possible: "
					 "missing needed capabilities (%s)",
					 (unsigned)euid, caps_names(missing, names, sizeof(names)));
	vip_privdrop_msg(ret, LOG_WARNING, "already running as uid %u: no privilege drop possible",
			 (unsigned)euid);
	if (p->listed & ~eff)
		vip_privdrop_msg(ret, LOG_WARNING, "listed capabilities this process does not have: %s",
				 caps_names(p->listed & ~eff, names, sizeof(names)));
	ret->kept_permitted = eff;
	ret->kept_effective = eff;
	return 0;
}

/* Step 2, while CAP_SETPCAP is effective: lock NOROOT, shrink the bounding set. */
static int step_bounding(const struct plan *p, struct vip_privdrop_result *ret)
{
	char name[VIP_PRIVDROP_MSG_LEN];
	int bits = prctl(PR_GET_SECUREBITS, 0UL, 0UL, 0UL, 0UL);

	if (bits < 0)
		return vip_privdrop_fail(ret, negerrno(), "prctl(PR_GET_SECUREBITS)");
	unsigned long want = (unsigned long)bits | NOROOT_BITS;
	if (prctl(PR_SET_SECUREBITS, want, 0UL, 0UL, 0UL) < 0)
		return vip_privdrop_fail(ret, negerrno(), "prctl(PR_SET_SECUREBITS, 0x%lx)", want);
	for (unsigned c = 0; c < p->ncaps; c++) {
		if (!(p->bound_start & BIT(c)) || (p->keep_p & BIT(c)))
			continue;
		if (prctl(PR_CAPBSET_DROP, (unsigned long)c, 0UL, 0UL, 0UL) < 0)
			return vip_privdrop_fail(ret, negerrno(), "prctl(PR_CAPBSET_DROP, %s)",
						 caps_names(BIT(c), name, sizeof(name)));
	}
	return 0;
}

/* Step 3: groups first, the user last (after it nothing else could be changed). */
static int step_identity(const struct vipd_security *sec, struct vip_privdrop_result *ret)
{
	if (prctl(PR_SET_KEEPCAPS, 1UL, 0UL, 0UL, 0UL) < 0)
		return vip_privdrop_fail(ret, negerrno(), "prctl(PR_SET_KEEPCAPS, 1)");
	if (setgroups(sec->n_supplemental, sec->n_supplemental ? sec->supplemental_gids : NULL) < 0)
		return vip_privdrop_fail(ret, negerrno(), "setgroups(%zu groups)", sec->n_supplemental);
	if (setresgid(sec->gid, sec->gid, sec->gid) < 0)
		return vip_privdrop_fail(ret, negerrno(), "setresgid(%u)", (unsigned)sec->gid);
	if (sec->uid == 0)
		return 0; /* user = root: no setuid */
	if (setresuid(sec->uid, sec->uid, sec->uid) < 0)
		return vip_privdrop_fail(ret, negerrno(), "setresuid(%u)", (unsigned)sec->uid);
	ret->changed_uid = true;
	return 0;
}

/* Step 4 and 5a: exactly the kept capabilities, nothing inheritable or ambient. */
static int step_caps(const struct plan *p, struct vip_privdrop_result *ret)
{
	cap_t caps = cap_init();
	int r = 0;

	if (!caps)
		return vip_privdrop_fail(ret, negerrno(), "cap_init()");
	for (unsigned c = 0; c < 64 && r == 0; c++) {
		cap_value_t v = (cap_value_t)c;
		if (p->keep_p & BIT(c))
			r = cap_set_flag(caps, CAP_PERMITTED, 1, &v, CAP_SET);
		if (r == 0 && (p->keep_e & BIT(c)))
			r = cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_SET);
	}
	if (r == 0 && cap_set_proc(caps) < 0)
		r = negerrno();
	else if (r < 0)
		r = -EINVAL;
	if (r < 0) {
		char *text = cap_to_text(caps, NULL);
		vip_privdrop_fail(ret, r, "cap_set_proc(\"%s\")", text ? text : "?");
		cap_free(text);
	}
	cap_free(caps);
	if (r < 0)
		return r;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0UL, 0UL, 0UL) < 0)
		return vip_privdrop_fail(ret, negerrno(), "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) < 0)
		return vip_privdrop_fail(ret, negerrno(), "prctl(PR_SET_NO_NEW_PRIVS, 1)");
	return 0;
}

/* "4000,4001" (or "none") into buf. */
static const char *gids_text(const gid_t *gids, size_t n, char *buf, size_t len)
{
	size_t at = 0;

	snprintf(buf, len, "none");
	for (size_t i = 0; i < n && at < len; i++) {
		int w = snprintf(buf + at, len - at, "%s%u", i ? "," : "", (unsigned)gids[i]);
		if (w < 0)
			break;
		at += (size_t)w;
	}
	return buf;
}

/* The supplemental groups into a new array (*ret, caller frees); count or -errno. */
static int read_groups(gid_t **ret)
{
	int n = getgroups(0, NULL);

	if (n < 0)
		return negerrno();
	gid_t *groups = calloc((size_t)n + 1, sizeof(gid_t));
	if (!groups)
		return -ENOMEM;
	n = getgroups(n, groups);
	if (n < 0) {
		int r = negerrno();
		free(groups);
		return r;
	}
	*ret = groups;
	return n;
}

static int verify_ids(const struct vipd_security *sec, struct vip_privdrop_result *ret)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) < 0)
		return vip_privdrop_fail(ret, negerrno(), "getresuid()");
	if (ru != sec->uid || eu != sec->uid || su != sec->uid)
		return vip_privdrop_fail(ret, -EPERM, "read back uid %u/%u/%u, expected %u", (unsigned)ru,
					 (unsigned)eu, (unsigned)su, (unsigned)sec->uid);
	if (getresgid(&rg, &eg, &sg) < 0)
		return vip_privdrop_fail(ret, negerrno(), "getresgid()");
	if (rg != sec->gid || eg != sec->gid || sg != sec->gid)
		return vip_privdrop_fail(ret, -EPERM, "read back gid %u/%u/%u, expected %u", (unsigned)rg,
					 (unsigned)eg, (unsigned)sg, (unsigned)sec->gid);

	_cleanup_free_ gid_t *groups = NULL;
	int n = read_groups(&groups);
	if (n < 0)
		return vip_privdrop_fail(ret, n, "getgroups()");
	/* the kernel sorts the list: compare as sets of the same size */
	bool same = (size_t)n == sec->n_supplemental;
	for (int i = 0; same && i < n; i++) {
		bool found = false;
		for (size_t j = 0; j < sec->n_supplemental && !found; j++)
			found = groups[i] == sec->supplemental_gids[j];
		same = found;
	}
	if (!same) {
		char a[VIP_PRIVDROP_MSG_LEN / 2], b[VIP_PRIVDROP_MSG_LEN / 2];
		return vip_privdrop_fail(ret, -EPERM, "read back groups (%s), expected (%s)",
					 gids_text(groups, (size_t)n, a, sizeof(a)),
					 gids_text(sec->supplemental_gids, sec->n_supplemental, b,
						   sizeof(b)));
	}
	return 0;
}

static int verify_caps(const struct plan *p, struct vip_privdrop_result *ret)
{
	char a[VIP_PRIVDROP_MSG_LEN], b[VIP_PRIVDROP_MSG_LEN];
	cap_t caps = cap_get_proc();

	if (!caps)
		return vip_privdrop_fail(ret, negerrno(), "cap_get_proc()");
	uint64_t prm = cap_mask(caps, CAP_PERMITTED), eff = cap_mask(caps, CAP_EFFECTIVE);
	uint64_t inh = cap_mask(caps, CAP_INHERITABLE);
	cap_free(caps);
	if (prm != p->keep_p)
		return vip_privdrop_fail(ret, -EPERM, "read back permitted (%s), expected (%s)",
					 caps_names(prm, a, sizeof(a)), caps_names(p->keep_p, b, sizeof(b)));
	if (eff != p->keep_e)
		return vip_privdrop_fail(ret, -EPERM, "read back effective (%s), expected (%s)",
					 caps_names(eff, a, sizeof(a)), caps_names(p->keep_e, b, sizeof(b)));
	/* the ambient set is a subset of the inheritable one: empty with it */
	if (inh)
		return vip_privdrop_fail(ret, -EPERM, "read back inheritable (%s), expected none",
					 caps_names(inh, a, sizeof(a)));

	uint64_t bound;
	int r = read_bounding(p->ncaps, &bound, ret);
	if (r < 0)
		return r;
	if (bound != (p->keep_all ? p->bound_start : p->keep_p))
		return vip_privdrop_fail(ret, -EPERM, "read back bounding set (%s), expected (%s)",
					 caps_names(bound, a, sizeof(a)),
					 caps_names(p->keep_p, b, sizeof(b)));
	return 0;
}

static int verify_flags(const struct plan *p, struct vip_privdrop_result *ret)
{
	int r = prctl(PR_GET_NO_NEW_PRIVS, 0UL, 0UL, 0UL, 0UL);

	if (r < 0)
		return vip_privdrop_fail(ret, negerrno(), "prctl(PR_GET_NO_NEW_PRIVS)");
	if (r != 1)
		return vip_privdrop_fail(ret, -EPERM, "read back no_new_privs %d, expected 1", r);
	if (p->keep_all)
		return 0;
	r = prctl(PR_GET_SECUREBITS, 0UL, 0UL, 0UL, 0UL);
	if (r < 0)
		return vip_privdrop_fail(ret, negerrno(), "prctl(PR_GET_SECUREBITS)");
	if ((r & NOROOT_BITS) != NOROOT_BITS)
		return vip_privdrop_fail(ret, -EPERM,
					 "read back securebits 0x%x, expected noroot and its lock", r);
	return 0;
}

/* Step 6: the way back to root must be closed. */
static int prove(const struct vipd_security *sec, struct vip_privdrop_result *ret)
{
	if (sec->uid == 0)
		return 0;
	if (setresuid(0, 0, 0) == 0)
		return vip_privdrop_fail(ret, -EPERM, "setresuid(0,0,0) succeeded after the drop to uid %u",
					 (unsigned)sec->uid);
	return 0;
}

static int plan_init(struct plan *p, const struct vipd_security *sec, struct vip_privdrop_result *ret)
{
	*p = (struct plan){ .sec = sec, .ncaps = kernel_caps() };
	int r = read_bounding(p->ncaps, &p->bound_start, ret);
	if (r < 0)
		return r;
	return plan_caps(p, ret);
}

int vip_privdrop(const struct vipd_security *sec, const struct vip_privdrop_needs *needs,
		 struct vip_privdrop_result *ret)
{
	uint64_t need = needs ? needs->caps : 0;
	struct plan p;
	int r;

	*ret = (struct vip_privdrop_result){ 0 };
	if (sec->privileges)
		vip_privdrop_msg(ret, LOG_DEBUG, "privileges \"%s\" is for Solaris: ignored on Linux",
				 sec->privileges);
	r = plan_init(&p, sec, ret);
	if (r < 0)
		return r;
	if (geteuid() != 0)
		return check_unprivileged(&p, need, ret);
	if ((r = plan_needs(&p, need, ret)) < 0)
		return r;
	if (p.keep_all)
		vip_privdrop_msg(ret, LOG_WARNING,
				 "user %s without capabilities: vipd keeps every capability",
				 sec->user ? sec->user : "root");

	/* Nothing has changed so far. Steps 1 to 6, in order; the first failure stops. */
	if ((r = vip_privdrop_chroot(sec->chroot, ret)) < 0 ||
	    (!p.keep_all && (r = step_bounding(&p, ret)) < 0) || (r = step_identity(sec, ret)) < 0 ||
	    (r = step_caps(&p, ret)) < 0 || (r = verify_ids(sec, ret)) < 0 ||
	    (r = verify_caps(&p, ret)) < 0 || (r = verify_flags(&p, ret)) < 0 || (r = prove(sec, ret)) < 0)
		return r;
	ret->kept_permitted = p.keep_p;
	ret->kept_effective = p.keep_e;
	return 0;
}

void vip_privdrop_needs_from_config(const struct vipd_config *cfg, struct vip_privdrop_needs *ret)
{
	const struct vipd_security *sec = &cfg->security;

	*ret = (struct vip_privdrop_needs){ 0 };
	if (cfg->n_duravips == 0)
		return;
	ret->caps |= BIT(CAP_NET_ADMIN);
	if (!sec->capabilities || (sec->cap_permitted & BIT(CAP_NET_RAW)))
		ret->caps |= BIT(CAP_NET_RAW);
}

/* The supplemental groups as "a,b,c", or "none". */
static int groups_text(char *buf, size_t len)
{
	_cleanup_free_ gid_t *groups = NULL;
	int n = read_groups(&groups);

	if (n < 0)
		return n;
	gids_text(groups, (size_t)n, buf, len);
	return 0;
}

int vip_privdrop_identity(char **ret)
{
	char groups[1024], bound_names[VIP_PRIVDROP_MSG_LEN * 2];
	struct vip_privdrop_result scratch;
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	uint64_t bound;
	int r;

	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return negerrno();
	if ((r = groups_text(groups, sizeof(groups))) < 0)
		return r;
	if (read_bounding(kernel_caps(), &bound, &scratch) < 0)
		return -EIO;
	int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0UL, 0UL, 0UL, 0UL);
	if (nnp < 0)
		return negerrno();
	cap_t caps = cap_get_proc();
	if (!caps)
		return negerrno();
	char *text = cap_to_text(caps, NULL);
	cap_free(caps);
	if (!text)
		return -ENOMEM;
	char *line = NULL;
	r = asprintf(&line,
		     "uid=%u/%u/%u gid=%u/%u/%u groups=%s caps=\"%s\" bounding=%s "
		     "no_new_privs=%d",
		     (unsigned)ru, (unsigned)eu, (unsigned)su, (unsigned)rg, (unsigned)eg, (unsigned)sg,
		     groups, text, caps_names(bound, bound_names, sizeof(bound_names)), nnp);
	cap_free(text);
	if (r < 0)
		return -ENOMEM;
	*ret = line;
	return 0;
}

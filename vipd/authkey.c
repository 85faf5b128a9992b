/* SPDX-License-Identifier: MIT */
/*
 * vipd/authkey: --genkey, --check and the start-up read of the cluster key
 * (see authkey.h). The key format and the MAC: cluster/auth.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "authkey.h"
#include "log.h"

/* Why the key file at path was refused (r from vip_cl_key_load), into buf. */
static const char *why(const char *path, int r, uid_t owner, char *buf, size_t len)
{
	struct stat st;

	switch (r) {
	case -EPERM:
		if (lstat(path, &st) == 0)
			snprintf(buf, len,
				 "must be owned by uid %u with mode 0600 or 0400 (it is uid %u, mode %04o)",
				 (unsigned)owner, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		else
			snprintf(buf, len, "must be owned by uid %u with mode 0600 or 0400", (unsigned)owner);
		break;
	case -ELOOP:
		snprintf(buf, len, "is a symbolic link: name the file itself");
		break;
	case -EINVAL:
		snprintf(buf, len, "is not a regular file");
		break;
	case -EMSGSIZE:
		snprintf(buf, len, "must hold %d to %d bytes (vipd --genkey writes one)", VIP_CL_KEY_MIN,
			 VIP_CL_KEY_MAX);
		break;
	default:
		snprintf(buf, len, "cannot be read: %s", strerror(-r));
		break;
	}
	return buf;
}

int vipd_authkey_generate(const char *path)
{
	int r = vip_cl_key_generate(path);

	if (r == -EEXIST) {
		fprintf(stderr, "vipd: %s exists: not overwritten (remove it first to make a new key)\n",
			path);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "vipd: cannot write a key to %s: %s\n", path, strerror(-r));
		return 1;
	}
	printf("Wrote a new %d-byte cluster key to %s (mode 0600). Copy it to every node "
	       "(root-owned, 0600) and set cluster { authkey = \"%s\" }.\n",
	       VIP_CL_KEY_MIN, path, path);
	return 0;
}

int vipd_authkey_check(const struct vipd_config *cfg, struct vip_conf_diag *diag)
{
	const struct vipd_cluster *cl = &cfg->cluster;
	const char *file = cl->src_authkey.file ? cl->src_authkey.file : cfg->path;
	struct vip_cl_key *k = NULL;
	char buf[160];
	int r;

	if (!cl->enabled)
		return 0;
	if (!cl->authkey)
		return vip_conf_diag_add(diag, VIP_CONF_WARNING, cfg->path, 0, 0, "%s",
					 VIPD_AUTHKEY_NONE_TEXT);
	if (geteuid() != 0)
		return vip_conf_diag_add(
			diag, VIP_CONF_WARNING, file, cl->src_authkey.line, 0,
			"authkey %s not checked: --check runs as uid %u; as root it reads the "
			"file as vipd will",
			cl->authkey, (unsigned)geteuid());
	r = vip_cl_key_load(cl->authkey, 0, &k);
	vip_cl_key_free(k);
	if (r == 0)
		return 0;
	r = vip_conf_diag_add(diag, VIP_CONF_ERROR, file, cl->src_authkey.line, 0, "authkey %s %s",
			      cl->authkey, why(cl->authkey, r, 0, buf, sizeof(buf)));
	return r < 0 ? r : -EINVAL;
}

int vipd_authkey_load(const struct vipd_config *cfg, const char *who, bool warn_none, struct vip_cl_key **ret)
{
	const struct vipd_cluster *cl = &cfg->cluster;
	char buf[160];
	int r;

	*ret = NULL;
	if (!cl->enabled)
		return 0;
	if (!cl->authkey) {
		if (warn_none)
			log_warning("%s%s", who, VIPD_AUTHKEY_NONE_TEXT);
		return 0;
	}
	r = vip_cl_key_load(cl->authkey, (uint32_t)geteuid(), ret);
	if (r < 0)
		return log_error_errno(r, "%sauthkey %s %s", who, cl->authkey,
				       why(cl->authkey, r, geteuid(), buf, sizeof(buf)));
	log_info("%scluster messages are authenticated with the key in %s", who, cl->authkey);
	return 0;
}

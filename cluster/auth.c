/* SPDX-License-Identifier: MIT */
/*
 * Cluster message authentication (docs/protocol.md, "Authentication").
 *
 * Every message ends with a trailer: u64 view | u64 seq | HMAC-SHA-256.
 * The MAC is keyed with the cluster key (cluster { authkey }) and covers
 *
 *   u32 nodeid | u32 pid | the whole message up to the MAC
 *
 * where (nodeid, pid) is the sender as corosync delivers it (a receiver
 * puts in what corosync says, so a copy multicast by another process does
 * not verify), and the message includes its header (version, type,
 * length), body, view and seq. The protocol checks the view and the
 * sequence (proto-round.c); this file checks the frame and the MAC.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth-internal.h"
#include "cluster-internal.h"

#define HEADER_LEN 8
#define MAGIC0 'V'
#define MAGIC1 'C'

struct vip_cl_key {
	struct vip_cl_hmac hmac;
};

int vip_cl_key_new(const uint8_t *bytes, size_t n, struct vip_cl_key **ret)
{
	if (!bytes || n < VIP_CL_KEY_MIN || n > VIP_CL_KEY_MAX)
		return -EMSGSIZE;
	struct vip_cl_key *k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	vip_cl_hmac_init(&k->hmac, bytes, n);
	*ret = k;
	return 0;
}

void vip_cl_key_free(struct vip_cl_key *k)
{
	if (!k)
		return;
	vip_cl_wipe(k, sizeof(*k));
	free(k);
}

static int read_all(int fd, uint8_t *buf, size_t cap, size_t *ret_n)
{
	size_t n = 0;

	for (;;) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == cap)
			break;
	}
	*ret_n = n;
	return 0;
}

int vip_cl_key_load(const char *path, uint32_t owner, struct vip_cl_key **ret)
{
	uint8_t buf[VIP_CL_KEY_MAX + 1];
	struct stat st;
	size_t n = 0;
	int r;

	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_uid != owner || (st.st_mode & 077))
		return -EPERM;
	r = read_all(fd, buf, sizeof(buf), &n);
	if (r == 0)
		r = vip_cl_key_new(buf, n, ret);
	vip_cl_wipe(buf, sizeof(buf));
	return r;
}

int vip_cl_key_generate(const char *path)
{
	uint8_t key[VIP_CL_KEY_MIN];
	size_t n = 0;
	int r = 0;

	while (n < sizeof(key)) {
		ssize_t got = getrandom(key + n, sizeof(key) - n, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		n += (size_t)got;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		vip_cl_wipe(key, sizeof(key));
		return -errno;
	}
	/* exactly 0600 whatever the umask */
	if (fchmod(fd, 0600) < 0)
		r = -errno;
	for (n = 0; r == 0 && n < sizeof(key);) {
		ssize_t w = write(fd, key + n, sizeof(key) - n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			r = -errno;
		else
			n += (size_t)w;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	vip_cl_wipe(key, sizeof(key));
	if (r < 0)
		unlink(path); /* we created it (O_EXCL): no half-written key stays */
	return r;
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void mac(const struct vip_cl_key *key, const struct vip_cl_member *who, const uint8_t *msg, size_t len,
		uint8_t out[VIP_CL_SHA256_LEN])
{
	struct vip_cl_sha256 in = key->hmac.inner;
	uint8_t id[8];

	for (int i = 0; i < 4; i++) {
		id[i] = (uint8_t)(who->nodeid >> (24 - 8 * i));
		id[4 + i] = (uint8_t)(who->pid >> (24 - 8 * i));
	}
	vip_cl_sha256_update(&in, id, sizeof(id));
	vip_cl_sha256_update(&in, msg, len - VIP_CL_SHA256_LEN);
	vip_cl_hmac_final(&key->hmac, &in, out);
}

int vip_cl_auth_seal(const struct vip_cl_key *key, const struct vip_cl_member *self, uint64_t view,
		     uint64_t seq, uint8_t *msg, size_t len)
{
	assert(msg);
	assert(self);
	if (len < HEADER_LEN + VIP_CL_AUTH_LEN)
		return -EINVAL;
	uint8_t *t = msg + len - VIP_CL_AUTH_LEN;
	put_u64(t, view);
	put_u64(t + 8, seq);
	if (key)
		mac(key, self, msg, len, t + 16);
	else
		memset(t + 16, 0, VIP_CL_SHA256_LEN);
	return 0;
}

int vip_cl_auth_verify(const struct vip_cl_key *key, const struct vip_cl_member *sender, const uint8_t *msg,
		       size_t len, struct vip_cl_auth_info *ret)
{
	uint8_t want[VIP_CL_SHA256_LEN];

	if (!msg || len < 4 || msg[0] != MAGIC0 || msg[1] != MAGIC1)
		return -EBADMSG;
	if (msg[2] != VIP_CL_PROTO_VERSION)
		return -EPROTONOSUPPORT;
	if (len < HEADER_LEN + VIP_CL_AUTH_LEN ||
	    ((uint32_t)msg[4] << 24 | (uint32_t)msg[5] << 16 | (uint32_t)msg[6] << 8 | msg[7]) != len)
		return -EBADMSG;
	const uint8_t *t = msg + len - VIP_CL_AUTH_LEN;
	if (key) {
		mac(key, sender, msg, len, want);
		bool ok = vip_cl_mac_equal(want, t + 16, sizeof(want));
		vip_cl_wipe(want, sizeof(want));
		if (!ok)
			return -EACCES;
	}
	*ret = (struct vip_cl_auth_info){ .view = get_u64(t), .seq = get_u64(t + 8) };
	return 0;
}

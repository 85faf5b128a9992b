// SPDX-License-Identifier: MIT
/*
 * The control socket's file-system side and its peer credentials: creating
 * the directory and the socket with the right owner and mode before the
 * privilege drop, and reading who is on the other end of a connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control-internal.h"

int control_sockaddr(const char *path, struct sockaddr_un *ret)
{
	size_t len = strlen(path);

	if (len == 0 || path[0] != '/')
		return -EINVAL;
	if (len >= sizeof(ret->sun_path))
		return -ENAMETOOLONG;
	memset(ret, 0, sizeof(*ret));
	ret->sun_family = AF_UNIX;
	memcpy(ret->sun_path, path, len + 1);
	return 0;
}

/* Create the socket's directory (one level) when missing: 0750, root:gid. */
static int make_parent(const char *path, bool do_chown, gid_t gid)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0; /* in "/": nothing to make */
	*slash = '\0';
	if (mkdir(dir, 0750) < 0)
		return errno == EEXIST ? 0 : negerrno();
	/* Only a directory we made gets our owner and mode: never retouch an admin's. */
	if (do_chown && chown(dir, 0, gid) < 0)
		return negerrno();
	if (chmod(dir, 0750) < 0)
		return negerrno();
	return 0;
}

/*
 * A socket file already at path: if a server answers, another vipd runs
 * (-EADDRINUSE); if nobody does, it is stale and removed.
 */
static int remove_stale(const struct sockaddr_un *sa)
{
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct stat st;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : negerrno();
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST; /* not ours to delete */
	if (fd < 0)
		return negerrno();
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 || errno == EAGAIN)
		return -EADDRINUSE;
	if (errno != ECONNREFUSED && errno != ENOENT)
		return negerrno();
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return negerrno();
	return 0;
}

int control_listen(const char *path, bool do_chown, gid_t gid, unsigned backlog, dev_t *ret_dev,
		   ino_t *ret_ino)
{
	struct sockaddr_un sa;
	_cleanup_close_ int fd = -1;
	struct stat st;
	mode_t old;
	int r;

	r = control_sockaddr(path, &sa);
	if (r < 0)
		return r;
	r = make_parent(path, do_chown, gid);
	if (r < 0)
		return r;
	r = remove_stale(&sa);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return negerrno();
	/* Born 0600 so nobody can connect before the mode and owner are right. */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0)
		return negerrno();
	if ((do_chown && chown(path, 0, gid) < 0) || chmod(path, 0660) < 0 || stat(path, &st) < 0) {
		r = negerrno();
		unlink(path);
		return r;
	}
	if (listen(fd, (int)backlog) < 0) {
		r = negerrno();
		unlink(path);
		return r;
	}
	*ret_dev = st.st_dev;
	*ret_ino = st.st_ino;
	return steal_fd(fd);
}

void control_unlink(const char *path, dev_t dev, ino_t ino)
{
	struct stat st;

	/* Only our own inode: a newer vipd may already have replaced the file. */
	if (lstat(path, &st) == 0 && st.st_dev == dev && st.st_ino == ino)
		(void)unlink(path);
}

/* Supplementary groups from /proc/<pid>/status ("Groups:\t1 2 3"). */
static int groups_from_proc(pid_t pid, struct vipd_control_peer *p)
{
	char fn[64], line[4096];
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(fn, sizeof(fn), "/proc/%d/status", (int)pid);
	f = fopen(fn, "re");
	if (!f)
		return negerrno();
	while (fgets(line, sizeof(line), f)) {
		char *s = line + 7, *end;

		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		p->n_groups = 0;
		for (;;) {
			unsigned long g;

			while (*s == ' ' || *s == '\t')
				s++;
			if (*s == '\n' || *s == '\0')
				return 0;
			errno = 0;
			g = strtoul(s, &end, 10);
			if (end == s || errno || g > UINT_MAX)
				return -EBADMSG;
			if (p->n_groups < VIPD_CONTROL_MAX_GROUPS)
				p->groups[p->n_groups++] = (gid_t)g;
			s = end;
		}
	}
	return -ENOENT;
}

int vipd_control_peer_from_fd(int fd, struct vipd_control_peer *ret)
{
	struct vipd_control_peer p = { 0 };
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return negerrno();
	if (len != sizeof(cred))
		return -EIO;
	p.pid = cred.pid;
	p.uid = cred.uid;
	p.gid = cred.gid;
	len = sizeof(p.groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, p.groups, &len) == 0) {
		p.n_groups = len / sizeof(gid_t);
		*ret = p;
		return 0;
	}
	/*
	 * Older kernel, or more groups than we hold (ERANGE): read them from
	 * /proc. Failing that, the primary gid alone still decides.
	 */
	if (p.pid > 0)
		(void)groups_from_proc(p.pid, &p);
	*ret = p;
	return 0;
}

bool control_peer_allowed(const struct vipd_control_config *cfg, const struct vipd_control_peer *p)
{
	if (p->uid == 0 || p->uid == cfg->daemon_uid || p->gid == cfg->gid)
		return true;
	for (size_t i = 0; i < p->n_groups && i < VIPD_CONTROL_MAX_GROUPS; i++)
		if (p->groups[i] == cfg->gid)
			return true;
	return false;
}

/* SPDX-License-Identifier: MIT */
/*
 * The control socket's file-system side and its peer credentials: creating
 * the socket, born with its owner and mode, in a checked folder
 * (vipd/rundir.h) before the privilege drop, and reading who is on the
 * other end of a connection.
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
#include "rundir.h"

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

/*
 * Bind with the socket file's final owner and mode: the umask makes it 0660
 * and, as root, the effective gid makes its group gid, so the file is never
 * touched by path afterwards (docs: README, "Security").
 */
static int bind_as(int fd, const struct sockaddr_un *sa, bool do_chown, gid_t gid)
{
	gid_t egid = getegid();
	mode_t old;
	int r;

	if (do_chown && gid != egid && setegid(gid) < 0)
		return negerrno();
	old = umask(0117);
	r = bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ? negerrno() : 0;
	umask(old);
	if (do_chown && gid != egid && setegid(egid) < 0)
		abort(); /* root's own gid back failed: nothing after this can be trusted */
	return r;
}

/*
 * The file bind made, looked at without following a link: a socket, 0660,
 * root:gid. A set-group-id folder gives it the folder's group: that is
 * corrected on the name (the folder is checked: only root writes there).
 */
static int check_socket_file(int dir_fd, const char *name, bool do_chown, gid_t gid, struct stat *st)
{
	if (fstatat(dir_fd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
		return negerrno();
	if (!S_ISSOCK(st->st_mode) || (st->st_mode & 07777) != 0660)
		return -EPERM;
	if (do_chown && (st->st_uid != 0 || st->st_gid != gid)) {
		if (fchownat(dir_fd, name, 0, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
		    fstatat(dir_fd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
			return negerrno();
		if (!S_ISSOCK(st->st_mode) || st->st_uid != 0 || st->st_gid != gid)
			return -EPERM;
	}
	return 0;
}

int control_listen(const char *path, bool do_chown, gid_t gid, unsigned backlog, dev_t *ret_dev,
		   ino_t *ret_ino)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int dir_fd = -1;
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa;
	struct stat st;
	int r;

	r = control_sockaddr(path, &sa);
	if (r < 0)
		return r;
	dir = vipd_rundir_of(path);
	if (!dir)
		return -ENOMEM;
	dir_fd = vipd_rundir_open(dir, true, do_chown, gid, NULL, 0);
	if (dir_fd < 0)
		return dir_fd;
	r = remove_stale(&sa);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return negerrno();
	r = bind_as(fd, &sa, do_chown, gid);
	if (r < 0)
		return r;
	r = check_socket_file(dir_fd, strrchr(path, '/') + 1, do_chown, gid, &st);
	if (r >= 0 && listen(fd, (int)backlog) < 0)
		r = negerrno();
	if (r < 0) {
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

static bool in_group(const struct vipd_control_peer *p, gid_t gid)
{
	if (p->gid == gid)
		return true;
	for (size_t i = 0; i < p->n_groups && i < VIPD_CONTROL_MAX_GROUPS; i++)
		if (p->groups[i] == gid)
			return true;
	return false;
}

bool control_peer_may_change(const struct vipd_control_config *cfg, const struct vipd_control_peer *p)
{
	return p->uid == 0 || (cfg->admin_group && in_group(p, cfg->admin_gid));
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

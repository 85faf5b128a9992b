/* SPDX-License-Identifier: MIT */
/*
 * The folder of the files root creates, and the pid file in it (rundir.h
 * has the rules and why).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rundir.h"
#include "util.h"

struct vipd_pidfile {
	int dir_fd;
	int fd;
	char *name;
};

static int refuse(int r, char *why, size_t len, const char *fmt, ...) _printf_(4, 5);
static int refuse(int r, char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return r;
}

static bool trusted_owner(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* One folder on the way (last: the folder itself, where sticky is no excuse). */
static int check_folder(int fd, const char *path, bool last, char *why, size_t len)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return refuse(negerrno(), why, len, "%s: cannot stat it", path);
	if (!S_ISDIR(st.st_mode))
		return refuse(-ENOTDIR, why, len, "%s is not a folder", path);
	if (!trusted_owner(st.st_uid))
		return refuse(-EPERM, why, len,
			      "%s is owned by uid %u: the folders vipd creates files in (and those above) "
			      "must belong to root",
			      path, (unsigned)st.st_uid);
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && (last || !(st.st_mode & S_ISVTX)))
		return refuse(-EPERM, why, len,
			      "%s has mode %04o: writable by group or others, who could put a symbolic link "
			      "in vipd's way; make it root's alone (chmod go-w)",
			      path, (unsigned)(st.st_mode & 07777));
	return 0;
}

/* Walk the real path of parent component by component, never following a link. */
static int open_parent(const char *parent, char *why, size_t len)
{
	_cleanup_free_ char *real = realpath(parent, NULL);
	_cleanup_close_ int fd = -1;
	char *comp;
	int r;

	if (!real)
		return refuse(negerrno(), why, len, "%s: cannot resolve it", parent);
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return negerrno();
	r = check_folder(fd, "/", false, why, len);
	if (r < 0)
		return r;
	for (comp = real + 1; *comp;) {
		char *slash = strchr(comp, '/');
		int sub;

		if (slash)
			*slash = '\0'; /* real now names the folders up to comp */
		sub = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			return refuse(negerrno(), why, len, "%s: changed while vipd checked it", real);
		close(fd);
		fd = sub;
		r = check_folder(fd, real, false, why, len);
		if (r < 0)
			return r;
		if (!slash)
			break;
		*slash = '/';
		comp = slash + 1;
	}
	return steal_fd(fd);
}

char *vipd_rundir_of(const char *path)
{
	char *dir = strdup(path), *slash;

	if (!dir)
		return NULL;
	slash = strrchr(dir, '/');
	if (!slash) {
		free(dir);
		return NULL;
	}
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return dir;
}

/* A folder vipd makes: born 0700, then owner and mode set on its descriptor. */
static int make_folder(int parent, const char *name, bool do_chown, gid_t gid)
{
	_cleanup_close_ int fd = -1;

	if (mkdirat(parent, name, 0700) < 0)
		return negerrno();
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return negerrno();
	if ((do_chown && fchown(fd, 0, gid) < 0) || fchmod(fd, 0750) < 0)
		return negerrno();
	return steal_fd(fd);
}

int vipd_rundir_open(const char *dir, bool create, bool do_chown, gid_t gid, char *why, size_t why_len)
{
	_cleanup_free_ char *parent = NULL;
	_cleanup_close_ int pfd = -1;
	const char *name;
	int fd, r;

	if (why && why_len)
		why[0] = '\0';
	if (!dir || dir[0] != '/')
		return refuse(-EINVAL, why, why_len, "%s: not an absolute path", dir ? dir : "(null)");
	if (strcmp(dir, "/") == 0)
		return refuse(-EPERM, why, why_len, "%s: vipd does not create files in the root folder", dir);
	parent = vipd_rundir_of(dir);
	if (!parent)
		return -ENOMEM;
	name = strrchr(dir, '/') + 1;
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return refuse(-EINVAL, why, why_len, "%s: name the folder itself", dir);
	pfd = open_parent(parent, why, why_len);
	if (pfd < 0)
		return pfd;
	fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		fd = make_folder(pfd, name, do_chown, gid);
		if (fd == -EEXIST) /* made meanwhile: look again, with the same checks */
			fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		else if (fd < 0)
			return refuse(fd, why, why_len, "%s: cannot create it", dir);
	}
	if (fd < 0) {
		r = negerrno();
		if (r == -ELOOP || r == -ENOTDIR) {
			struct stat st;

			if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
				return refuse(
					-ELOOP, why, why_len,
					"%s is a symbolic link: vipd creates files only in a real folder",
					dir);
			return refuse(-ENOTDIR, why, why_len, "%s is not a folder", dir);
		}
		return refuse(r, why, why_len, "%s: cannot open it", dir);
	}
	r = check_folder(fd, dir, true, why, why_len);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* ---------------------------------------------------------------- pid file */

static pid_t read_holder(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long v;
	char *end;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || end == buf || v <= 0 || v > INT_MAX)
		return 0;
	return (pid_t)v;
}

static void pidfile_free(struct vipd_pidfile *p)
{
	if (p->fd >= 0)
		close(p->fd);
	if (p->dir_fd >= 0)
		close(p->dir_fd);
	free(p->name);
	free(p);
}

int vipd_pidfile_open(int dir_fd, const char *name, pid_t *ret_holder, struct vipd_pidfile **ret, char *why,
		      size_t why_len)
{
	struct vipd_pidfile *p;
	struct stat st;
	int r;

	*ret_holder = 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->fd = -1;
	p->dir_fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
	p->name = strdup(name);
	if (p->dir_fd < 0 || !p->name) {
		r = p->dir_fd < 0 ? negerrno() : -ENOMEM;
		pidfile_free(p);
		return r;
	}
	/* No O_TRUNC: the file may be a running instance's, and is only emptied once ours. */
	p->fd = openat(p->dir_fd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC,
		       0644);
	if (p->fd < 0) {
		r = negerrno();
		pidfile_free(p);
		if (r == -ELOOP)
			return refuse(r, why, why_len,
				      "pid file %s is a symbolic link: vipd does not follow it", name);
		return refuse(r, why, why_len, "cannot open the pid file %s", name);
	}
	if (fstat(p->fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		pidfile_free(p);
		return refuse(-EPERM, why, why_len, "pid file %s is not a regular file with one link", name);
	}
	if (flock(p->fd, LOCK_EX | LOCK_NB) < 0) {
		r = negerrno();
		if (r == -EWOULDBLOCK)
			*ret_holder = read_holder(p->fd);
		pidfile_free(p);
		if (r == -EWOULDBLOCK)
			return refuse(r, why, why_len,
				      "another vipd holds the pid file %s (pid %u): it runs already", name,
				      (unsigned)*ret_holder);
		return refuse(r, why, why_len, "cannot lock the pid file %s", name);
	}
	*ret = p;
	return 0;
}

int vipd_pidfile_write(struct vipd_pidfile *p, pid_t pid)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)pid);

	if (ftruncate(p->fd, 0) < 0)
		return negerrno();
	if (pwrite(p->fd, buf, (size_t)n, 0) != n)
		return errno ? negerrno() : -EIO;
	return 0;
}

void vipd_pidfile_release(struct vipd_pidfile *p)
{
	struct stat mine, there;

	if (!p)
		return;
	/* Only the file we hold: never a name someone put there since. */
	if (fstat(p->fd, &mine) == 0 && fstatat(p->dir_fd, p->name, &there, AT_SYMLINK_NOFOLLOW) == 0 &&
	    mine.st_dev == there.st_dev && mine.st_ino == there.st_ino)
		(void)unlinkat(p->dir_fd, p->name, 0);
	pidfile_free(p);
}

void vipd_pidfile_forget(struct vipd_pidfile *p)
{
	if (p)
		pidfile_free(p);
}

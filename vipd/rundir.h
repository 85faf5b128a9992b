/* SPDX-License-Identifier: MIT */
/*
 * vipd/rundir: the files root creates (README, "Security"). The control
 * socket and the pid file live in one folder (/run/vipd by default: the
 * control socket's folder). Root only ever creates files in a folder that
 * nobody else can write to, so no other user can swap a name in it for a
 * symbolic link between two calls:
 *
 *   - the folder itself is a real folder (not a symbolic link), owned by
 *     root (or by the calling user when vipd is not root, as in tests), and
 *     not writable by group or others;
 *   - every folder above it (after the path is made real with realpath) is
 *     owned by root (or the calling user) and not writable by group or
 *     others unless it is sticky (/tmp), where only an entry's owner may
 *     rename it.
 *
 * The pid file is opened relative to the checked folder with O_NOFOLLOW,
 * never truncated before it is locked (flock), written only once start-up
 * succeeded, and removed only by the instance that holds its lock.
 * Pure file-system code: no logging; refusals come back as -errno and a
 * sentence for the operator.
 */
#ifndef VIPD_RUNDIR_H
#define VIPD_RUNDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define VIPD_RUNDIR_WHY_LEN 512

/*
 * Open the folder dir (absolute) after the checks above. When create and the
 * folder is missing (its parent must exist): make it, mode 0750, and when
 * do_chown owner root, group gid (set on the new folder's descriptor, never
 * by path). Returns an O_DIRECTORY descriptor (close-on-exec) or -errno:
 * -EINVAL (not absolute), -ELOOP (a symbolic link), -ENOTDIR, -EPERM (owner
 * or mode), or what the system said; why (may be NULL) then holds a
 * sentence naming the folder and the problem.
 */
int vipd_rundir_open(const char *dir, bool create, bool do_chown, gid_t gid, char *why, size_t why_len);

/* The folder part of path ("/run/vipd" of "/run/vipd/control"), newly allocated, or NULL. */
char *vipd_rundir_of(const char *path);

struct vipd_pidfile;

/*
 * Open and lock the pid file name in the folder dir_fd (from
 * vipd_rundir_open; the descriptor is duplicated, the caller keeps its own):
 * O_RDWR | O_CREAT | O_NOFOLLOW, mode 0644, then flock(LOCK_EX | LOCK_NB).
 * Nothing is written or truncated yet. Returns 0 and *ret, or -errno:
 * -EWOULDBLOCK (another instance holds it: *ret_holder is the pid it wrote,
 * 0 when unreadable), -ELOOP (a symbolic link in the way), -EPERM (not a
 * regular file with one link); why says it in a sentence.
 */
int vipd_pidfile_open(int dir_fd, const char *name, pid_t *ret_holder, struct vipd_pidfile **ret, char *why,
		      size_t why_len);
/* Replace the content with pid and a newline. 0 or -errno. */
int vipd_pidfile_write(struct vipd_pidfile *p, pid_t pid);
/*
 * Remove the file if the name still names the file we hold locked, then
 * close and free. Accepts NULL. Call only in the process that should
 * remove it (a forked child must just close its copy: vipd_pidfile_forget).
 */
void vipd_pidfile_release(struct vipd_pidfile *p);
/* Close and free without removing (the lock goes with the last copy). Accepts NULL. */
void vipd_pidfile_forget(struct vipd_pidfile *p);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * vipd/rundir.c: the checks on the folder root creates files in, the pid
 * file (O_NOFOLLOW, locked, removed only by its holder), and
 * vip_close_inherited when close_range() fails (wrapped).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "privdrop.h"
#include "rundir.h"

static bool close_range_fails;

int __real_close_range(unsigned first, unsigned last, int flags);
int __wrap_close_range(unsigned first, unsigned last, int flags);
int __wrap_close_range(unsigned first, unsigned last, int flags)
{
	if (close_range_fails) {
		errno = ENOSYS;
		return -1;
	}
	return __real_close_range(first, last, flags);
}

struct fx {
	char top[64];
	char path[160];
	char why[VIPD_RUNDIR_WHY_LEN];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->top, sizeof(f->top), "/tmp/test-rundir-XXXXXX");
	if (!mkdtemp(f->top))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->top);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static const char *at(struct fx *f, const char *name)
{
	snprintf(f->path, sizeof(f->path), "%s/%s", f->top, name);
	return f->path;
}

static void test_missing_folder_made(void **state)
{
	struct fx *f = *state;
	struct stat st;
	int fd = vipd_rundir_open(at(f, "run"), true, false, 0, f->why, sizeof(f->why));

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	close(fd);
	/* Without create, a missing folder is an error. */
	assert_int_equal(vipd_rundir_open(at(f, "none"), false, false, 0, f->why, sizeof(f->why)), -ENOENT);
}

static void test_writable_folder_refused(void **state)
{
	struct fx *f = *state;

	assert_int_equal(mkdir(at(f, "open"), 0755), 0);
	assert_int_equal(chmod(f->path, 0777), 0);
	assert_int_equal(vipd_rundir_open(f->path, true, false, 0, f->why, sizeof(f->why)), -EPERM);
	assert_non_null(strstr(f->why, "writable by group or others"));
	assert_non_null(strstr(f->why, f->path));
	/* Sticky does not excuse the folder itself... */
	assert_int_equal(chmod(f->path, 01777), 0);
	assert_int_equal(vipd_rundir_open(f->path, true, false, 0, f->why, sizeof(f->why)), -EPERM);
	/* ... but does a folder above it (as /tmp). */
	assert_int_equal(mkdir(at(f, "open/run"), 0750), 0);
	int fd = vipd_rundir_open(f->path, true, false, 0, f->why, sizeof(f->why));
	assert_true(fd >= 0);
	close(fd);
	/* Group-writable and not sticky above: refused, naming that folder. */
	assert_int_equal(chmod(at(f, "open"), 0775), 0);
	assert_int_equal(vipd_rundir_open(at(f, "open/run"), true, false, 0, f->why, sizeof(f->why)), -EPERM);
	assert_non_null(strstr(f->why, "/open has mode 0775"));
}

static void test_symlink_folder_refused(void **state)
{
	struct fx *f = *state;
	char target[160], link[160];
	struct stat st;

	snprintf(target, sizeof(target), "%s/elsewhere", f->top);
	snprintf(link, sizeof(link), "%s/run", f->top);
	assert_int_equal(mkdir(target, 0700), 0);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(vipd_rundir_open(link, true, false, 0, f->why, sizeof(f->why)), -ELOOP);
	assert_non_null(strstr(f->why, "symbolic link"));
	/* The folder the link points to was not touched. */
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* A link higher up is resolved first (as /var/run -> /run): fine. */
	assert_int_equal(mkdir(at(f, "elsewhere/sub"), 0750), 0);
	int fd = vipd_rundir_open(at(f, "run/sub"), false, false, 0, f->why, sizeof(f->why));
	assert_true(fd >= 0);
	close(fd);
}

static void test_foreign_owner_refused(void **state)
{
	struct fx *f = *state;

	if (geteuid() != 0)
		skip(); /* needs chown */
	assert_int_equal(mkdir(at(f, "theirs"), 0755), 0);
	assert_int_equal(chown(f->path, 65534, 65534), 0);
	assert_int_equal(vipd_rundir_open(f->path, true, false, 0, f->why, sizeof(f->why)), -EPERM);
	assert_non_null(strstr(f->why, "owned by uid 65534"));
}

static void read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, len - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
}

static void test_pidfile_symlink_not_followed(void **state)
{
	struct fx *f = *state;
	struct vipd_pidfile *p = NULL;
	char victim[160], buf[64];
	pid_t holder;
	int dfd;

	dfd = vipd_rundir_open(at(f, "run"), true, false, 0, f->why, sizeof(f->why));
	assert_true(dfd >= 0);
	snprintf(victim, sizeof(victim), "%s/victim", f->top);
	int v = open(victim, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_int_equal(write(v, "precious\n", 9), 9);
	close(v);
	assert_int_equal(symlink(victim, at(f, "run/vipd.pid")), 0);
	assert_int_equal(vipd_pidfile_open(dfd, "vipd.pid", &holder, &p, f->why, sizeof(f->why)), -ELOOP);
	assert_null(p);
	assert_non_null(strstr(f->why, "symbolic link"));
	read_file(victim, buf, sizeof(buf));
	assert_string_equal(buf, "precious\n");
	/* A hard link to another file is refused too. */
	assert_int_equal(unlink(at(f, "run/vipd.pid")), 0);
	assert_int_equal(link(victim, at(f, "run/vipd.pid")), 0);
	assert_int_equal(vipd_pidfile_open(dfd, "vipd.pid", &holder, &p, f->why, sizeof(f->why)), -EPERM);
	read_file(victim, buf, sizeof(buf));
	assert_string_equal(buf, "precious\n");
	close(dfd);
}

static void test_pidfile_lock(void **state)
{
	struct fx *f = *state;
	struct vipd_pidfile *p = NULL, *q = NULL;
	char file[160], buf[64], want[32];
	struct stat st;
	pid_t holder = -1;
	int dfd;

	dfd = vipd_rundir_open(at(f, "run"), true, false, 0, f->why, sizeof(f->why));
	assert_true(dfd >= 0);
	snprintf(file, sizeof(file), "%s/run/vipd.pid", f->top);
	assert_int_equal(vipd_pidfile_open(dfd, "vipd.pid", &holder, &p, f->why, sizeof(f->why)), 0);
	assert_int_equal(vipd_pidfile_write(p, 4242), 0);
	/* A second instance (another open file: flock locks per open) is refused... */
	assert_int_equal(vipd_pidfile_open(dfd, "vipd.pid", &holder, &q, f->why, sizeof(f->why)),
			 -EWOULDBLOCK);
	assert_null(q);
	assert_int_equal(holder, 4242);
	assert_non_null(strstr(f->why, "pid 4242"));
	/* ... and neither truncated nor removed the file. */
	read_file(file, buf, sizeof(buf));
	assert_string_equal(buf, "4242\n");
	/* A shorter pid replaces the content whole. */
	assert_int_equal(vipd_pidfile_write(p, 7), 0);
	read_file(file, buf, sizeof(buf));
	assert_string_equal(buf, "7\n");
	/* The holder removes it... */
	vipd_pidfile_release(p);
	assert_int_equal(stat(file, &st), -1);
	/* ... but not a file that replaced it meanwhile. */
	assert_int_equal(vipd_pidfile_open(dfd, "vipd.pid", &holder, &p, f->why, sizeof(f->why)), 0);
	assert_int_equal(rename(file, at(f, "run/old")), 0);
	int other = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	snprintf(want, sizeof(want), "other\n");
	assert_int_equal(write(other, want, strlen(want)), (ssize_t)strlen(want));
	close(other);
	vipd_pidfile_release(p);
	read_file(file, buf, sizeof(buf));
	assert_string_equal(buf, want);
	close(dfd);
}

static void close_inherited_case(bool fail)
{
	int fds[4];

	close_range_fails = fail;
	for (int i = 0; i < 4; i++) {
		fds[i] = open("/dev/null", O_RDONLY); /* inheritable, as a careless parent leaves them */
		assert_true(fds[i] >= 3);
	}
	assert_int_equal(vip_close_inherited(fds[0], fds[2]), 0);
	assert_int_equal(fcntl(fds[0], F_GETFD), -1);
	assert_int_equal(fcntl(fds[1], F_GETFD), -1);
	assert_true(fcntl(fds[2], F_GETFD) >= 0); /* kept */
	assert_int_equal(fcntl(fds[3], F_GETFD), -1);
	close(fds[2]);
	close_range_fails = false;
}

static void test_close_inherited(void **state _unused_)
{
	close_inherited_case(false);
	/* close_range() refused (an old kernel, a seccomp filter): still closed. */
	close_inherited_case(true);
	assert_int_equal(vip_close_inherited(2, -1), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing_folder_made, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writable_folder_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_folder_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_owner_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pidfile_symlink_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pidfile_lock, setup, teardown),
		cmocka_unit_test(test_close_inherited),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* sd_notify: the datagram arrives on a socket we bind, by path and abstract name. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "sdnotify.h"

static char dir[64];

static int setup(void **state _unused_)
{
	snprintf(dir, sizeof(dir), "/tmp/test-sdnotify-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state _unused_)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/notify", dir);
	unlink(p);
	rmdir(dir);
	return 0;
}

/* Bind a datagram socket at name ("/path" or "@abstract"). */
static int bind_dgram(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t len;

	assert_true(fd >= 0);
	memcpy(sa.sun_path, name, n);
	if (name[0] == '@') {
		sa.sun_path[0] = '\0';
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		len = sizeof(sa);
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
	return fd;
}

static void expect_datagram(int fd, const char *want)
{
	char buf[512];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void test_path(void **state _unused_)
{
	char p[128];
	int fd;

	snprintf(p, sizeof(p), "%s/notify", dir);
	fd = bind_dgram(p);
	assert_int_equal(vipd_sd_notify_to(p, "READY=1"), 1);
	expect_datagram(fd, "READY=1");
	assert_int_equal(setenv("NOTIFY_SOCKET", p, 1), 0);
	assert_int_equal(vipd_sd_notify("STOPPING=1"), 1);
	expect_datagram(fd, "STOPPING=1");
	assert_int_equal(vipd_sd_notifyf("STATUS=%d DuraVIPs owned\nREADY=1", 12), 1);
	expect_datagram(fd, "STATUS=12 DuraVIPs owned\nREADY=1");
	unsetenv("NOTIFY_SOCKET");
	close(fd);
}

static void test_abstract(void **state _unused_)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@vipd-test-notify-%d", (int)getpid());
	fd = bind_dgram(name);
	assert_int_equal(setenv("NOTIFY_SOCKET", name, 1), 0);
	assert_int_equal(vipd_sd_notify("READY=1"), 1);
	expect_datagram(fd, "READY=1");
	unsetenv("NOTIFY_SOCKET");
	close(fd);
}

static void test_unset_and_errors(void **state _unused_)
{
	char longname[200];

	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(vipd_sd_notify("READY=1"), 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", "", 1), 0);
	assert_int_equal(vipd_sd_notify("READY=1"), 0);
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(vipd_sd_notify_to("relative/path", "READY=1"), -EINVAL);
	assert_int_equal(vipd_sd_notify_to("@", "READY=1"), -EINVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(vipd_sd_notify_to(longname, "READY=1"), -ENAMETOOLONG);
	/* Nobody listening: the send error comes back. */
	assert_int_equal(vipd_sd_notify_to("/nonexistent-vipd-test/notify", "READY=1"), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_abstract),
		cmocka_unit_test(test_unset_and_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

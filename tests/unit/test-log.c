/* SPDX-License-Identifier: MIT */
/* Logging: format, levels, %m with the given error, return values, rate limits. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

static int pipefd[2];

static int setup(void **state _unused_)
{
	unsetenv("JOURNAL_STREAM"); /* plain console format even under systemd */
	if (pipe2(pipefd, O_NONBLOCK) < 0)
		return -1;
	log_setup(LOG_TARGET_CONSOLE, "test-log");
	log_set_console_fd(pipefd[1]);
	log_set_level(LOG_INFO);
	return 0;
}

static int teardown(void **state _unused_)
{
	log_set_console_fd(STDERR_FILENO);
	close(pipefd[0]);
	close(pipefd[1]);
	return 0;
}

/* Everything logged since the last call. */
static const char *drain(void)
{
	static char buf[65536];
	ssize_t n = read(pipefd[0], buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static unsigned count_lines(const char *s)
{
	unsigned n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_levels(void **state _unused_)
{
	drain();
	log_error("failed %d", 1);
	assert_string_equal(drain(), "error: failed 1\n");
	log_warning("careful");
	assert_string_equal(drain(), "warning: careful\n");
	log_notice("acquired %s", "198.51.100.1");
	assert_string_equal(drain(), "acquired 198.51.100.1\n");
	log_info("hello");
	assert_string_equal(drain(), "hello\n");
	log_debug("hidden");
	assert_string_equal(drain(), "");
	log_set_level(LOG_DEBUG);
	assert_true(log_enabled(LOG_DEBUG));
	log_debug("shown");
	assert_string_equal(drain(), "debug: shown\n");
	log_set_level(LOG_WARNING);
	log_notice("hidden");
	log_info("hidden");
	assert_string_equal(drain(), "");
	log_set_level(LOG_INFO);
	assert_int_equal(log_get_level(), LOG_INFO);
}

static void test_errno(void **state _unused_)
{
	drain();
	errno = EBUSY;
	assert_int_equal(log_error_errno(-ENOENT, "open %s: %m", "x"), -ENOENT);
	assert_string_equal(drain(), "error: open x: No such file or directory\n");
	assert_int_equal(errno, EBUSY); /* preserved */
	assert_int_equal(log_warning_errno(EACCES, "bind: %m"), -EACCES);
	assert_string_equal(drain(), "warning: bind: Permission denied\n");
	/* Filtered out, the error is still returned. */
	assert_int_equal(log_debug_errno(-EIO, "quiet"), -EIO);
	assert_string_equal(drain(), "");
}

/* A line that names its own severity is not prefixed a second time. */
static void test_line_names_its_severity(void **state _unused_)
{
	drain();
	log_line(LOG_ERR, "a.conf:3:1: error: expected a value");
	assert_string_equal(drain(), "a.conf:3:1: error: expected a value\n");
	log_line(LOG_WARNING, "a.conf:2:5: warning: root keeps every capability");
	assert_string_equal(drain(), "a.conf:2:5: warning: root keeps every capability\n");
	log_line(LOG_DEBUG, "hidden at the default level");
	assert_string_equal(drain(), "");
}

static void test_level_names(void **state _unused_)
{
	assert_int_equal(log_level_from_string("err"), LOG_ERR);
	assert_int_equal(log_level_from_string("error"), LOG_ERR);
	assert_int_equal(log_level_from_string("Warning"), LOG_WARNING);
	assert_int_equal(log_level_from_string("debug"), LOG_DEBUG);
	assert_int_equal(log_level_from_string("6"), LOG_INFO);
	assert_int_equal(log_level_from_string("8"), -EINVAL);
	assert_int_equal(log_level_from_string("loud"), -EINVAL);
	assert_string_equal(log_level_to_string(LOG_NOTICE), "notice");
	assert_null(log_level_to_string(LOG_ALERT));
}

static void test_ratelimit(void **state _unused_)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(1000, 3);
	unsigned ok = 0;

	drain();
	for (int i = 0; i < 10; i++)
		ok += log_ratelimit_test(&rl, LOG_WARNING, 5000);
	assert_int_equal(ok, 3);
	assert_int_equal(rl.suppressed, 7);
	assert_int_equal(log_ratelimit_test(&rl, LOG_WARNING, 5999), false);
	assert_string_equal(drain(), "");
	/* A new interval: first the count of what was dropped, then the message. */
	assert_true(log_ratelimit_test(&rl, LOG_WARNING, 6000));
	assert_string_equal(drain(), "warning: 8 similar messages suppressed\n");
	assert_int_equal(rl.suppressed, 0);
	/* Nothing dropped: no "suppressed" line. */
	assert_true(log_ratelimit_test(&rl, LOG_WARNING, 9000));
	assert_string_equal(drain(), "");
}

static void test_ratelimit_callsite(void **state _unused_)
{
	drain();
	for (int i = 0; i < 3 * LOG_RATELIMIT_BURST; i++)
		log_warning_ratelimit("link down on %s", "veth0");
	assert_int_equal(count_lines(drain()), LOG_RATELIMIT_BURST);
	/* Another call site has its own budget. */
	assert_int_equal(log_error_errno_ratelimit(-EIO, "x %m"), -EIO);
	assert_string_equal(drain(), "error: x Input/output error\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_errno),
		cmocka_unit_test(test_line_names_its_severity),
		cmocka_unit_test(test_level_names),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_ratelimit_callsite),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

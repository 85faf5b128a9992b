/* SPDX-License-Identifier: MIT */
/*
 * conf/cmdline: a command line from the configuration split into argv
 * without a shell (the rules are at vip_cmdline_split in conf.h). Pure: no
 * I/O, so conf/ validates at --check time with the same code vipd/runner
 * uses to start the command.
 */
#include <stdarg.h>

#include "conf.h"
#include "util.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static _printf_(4, 5) int fail(char *why, size_t why_len, int r, const char *fmt, ...)
{
	va_list ap;

	if (why && why_len) {
		va_start(ap, fmt);
		vsnprintf(why, why_len, fmt, ap);
		va_end(ap);
	}
	return r;
}

/*
 * One pass over line: writes the words, NUL-terminated, into out (when not
 * NULL) and counts them. Returns the number of words or -EINVAL with why.
 */
static int scan(const char *line, char *out, size_t *ret_bytes, char *why, size_t why_len)
{
	size_t n = 0, bytes = 0;
	const char *p = line;

	for (;;) {
		while (is_space(*p))
			p++;
		if (!*p)
			break;
		/* one word: unquoted runs, '...' and "..." parts, glued together */
		while (*p && !is_space(*p)) {
			char c = *p++;
			if (c == '\'') {
				while (*p && *p != '\'') {
					if (out)
						out[bytes] = *p;
					bytes++, p++;
				}
				if (!*p)
					return fail(why, why_len, -EINVAL, "unterminated single quote");
				p++;
				continue;
			}
			if (c == '"') {
				while (*p && *p != '"') {
					if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
						p++;
					if (out)
						out[bytes] = *p;
					bytes++, p++;
				}
				if (!*p)
					return fail(why, why_len, -EINVAL, "unterminated double quote");
				p++;
				continue;
			}
			if (c == '\\') {
				if (!*p)
					return fail(why, why_len, -EINVAL,
						    "a backslash at the end of the line");
				c = *p++;
			}
			if (out)
				out[bytes] = c;
			bytes++;
		}
		if (out)
			out[bytes] = '\0';
		bytes++;
		if (++n > VIP_CMDLINE_MAX_ARGS)
			return fail(why, why_len, -E2BIG, "more than %d words", VIP_CMDLINE_MAX_ARGS);
	}
	*ret_bytes = bytes;
	return (int)n;
}

int vip_cmdline_split(const char *line, char ***ret, char *why, size_t why_len)
{
	size_t bytes = 0;
	int n;

	if (!line)
		return fail(why, why_len, -EINVAL, "no command");
	if (strlen(line) > VIP_CMDLINE_MAX_LEN)
		return fail(why, why_len, -E2BIG, "longer than %d characters", VIP_CMDLINE_MAX_LEN);
	n = scan(line, NULL, &bytes, why, why_len);
	if (n < 0)
		return n;
	if (n == 0)
		return fail(why, why_len, -EINVAL, "an empty command");

	/* one block: the pointer array, then the words it points into */
	size_t ptrs = ((size_t)n + 1) * sizeof(char *);
	char **argv = malloc(ptrs + bytes);
	if (!argv)
		return fail(why, why_len, -ENOMEM, "out of memory");
	char *words = (char *)argv + ptrs;
	scan(line, words, &bytes, NULL, 0);
	for (int i = 0; i < n; i++) {
		argv[i] = words;
		words += strlen(words) + 1;
	}
	argv[n] = NULL;

	if (argv[0][0] != '/') {
		int r = fail(why, why_len, -EINVAL, "the program \"%.200s\" is not an absolute path",
			     argv[0]);
		free(argv);
		return r;
	}
	*ret = argv;
	return n;
}

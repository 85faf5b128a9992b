/* SPDX-License-Identifier: MIT */
/*
 * Fuzz conf/cmdline's splitter (vip_cmdline_split in conf.h): it must never
 * crash; what it accepts is a NULL-terminated argv with an absolute program
 * and no word longer than the line; and quoting each word again (in single
 * quotes, ' written as '\'') splits back to the very same words.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The words quoted and joined, or NULL when they would not fit. */
static char *requote(char **argv, int n)
{
	size_t cap = 16;
	for (int i = 0; i < n; i++)
		cap += strlen(argv[i]) * 4 + 3;
	char *s = malloc(cap), *p = s;
	if (!s)
		return NULL;
	for (int i = 0; i < n; i++) {
		*p++ = '\'';
		for (const char *c = argv[i]; *c; c++) {
			if (*c == '\'') {
				memcpy(p, "'\\''", 4);
				p += 4;
			} else {
				*p++ = *c;
			}
		}
		*p++ = '\'';
		*p++ = ' ';
	}
	*p = '\0';
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1), **argv = NULL, **again = NULL, why[256];

	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	int n = vip_cmdline_split(line, &argv, why, sizeof(why));
	if (n < 0) {
		if (argv || !why[0])
			abort();
		free(line);
		return 0;
	}
	if (n < 1 || n > VIP_CMDLINE_MAX_ARGS || argv[n] || argv[0][0] != '/')
		abort();
	for (int i = 0; i < n; i++)
		if (strlen(argv[i]) > strlen(line))
			abort();
	char *back = requote(argv, n);
	if (back && strlen(back) <= VIP_CMDLINE_MAX_LEN) {
		if (vip_cmdline_split(back, &again, NULL, 0) != n)
			abort();
		for (int i = 0; i < n; i++)
			if (strcmp(argv[i], again[i]) != 0)
				abort();
		free(again);
	}
	free(back);
	free(argv);
	free(line);
	return 0;
}

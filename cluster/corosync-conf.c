/* SPDX-License-Identifier: MIT */
/*
 * corosync's token timeout as its own configuration file states it, so the
 * fault timing (docs/fault-tolerance.md) follows the cluster's real corosync
 * without a libcmap dependency. The format is corosync.conf(5): sections
 * `name {` ... `}`, options `key: value`, `#` comments to end of line.
 *
 * The effective token is what corosync computes: token + (nodes - 2) *
 * token_coefficient when the nodelist has three or more nodes (corosync's
 * defaults: token 3000 ms, token_coefficient 650 ms).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster-internal.h"

#define COROSYNC_TOKEN_DEFAULT 3000u
#define COROSYNC_COEFFICIENT_DEFAULT 650u
#define MAX_DEPTH 8
#define MAX_LINE 1024

struct token_scan {
	char section[MAX_DEPTH][32];
	int depth;
	long token, coefficient;
	unsigned nodes;
};

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static long parse_ms(const char *v)
{
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	return errno || end == v || *trim(end) || x < 0 || x > 3600000 ? -1 : x;
}

static void scan_line(struct token_scan *t, char *line)
{
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	line = trim(line);
	if (!*line)
		return;
	size_t n = strlen(line);
	if (line[n - 1] == '{') {
		line[n - 1] = '\0';
		char *name = trim(line);
		if (t->depth < MAX_DEPTH)
			snprintf(t->section[t->depth], sizeof(t->section[0]), "%s", name);
		t->depth++;
		if (t->depth == 2 && strcmp(t->section[0], "nodelist") == 0 && strcmp(name, "node") == 0)
			t->nodes++;
		return;
	}
	if (strcmp(line, "}") == 0) {
		if (t->depth > 0)
			t->depth--;
		return;
	}
	char *colon = strchr(line, ':');
	if (!colon || t->depth != 1 || strcmp(t->section[0], "totem") != 0)
		return;
	*colon = '\0';
	char *key = trim(line), *val = trim(colon + 1);
	if (strcmp(key, "token") == 0)
		t->token = parse_ms(val);
	else if (strcmp(key, "token_coefficient") == 0)
		t->coefficient = parse_ms(val);
}

int vip_cl_corosync_token(const char *path, uint32_t *ret_ms)
{
	struct token_scan t = { .token = -1, .coefficient = -1 };
	char line[MAX_LINE];
	FILE *f = fopen(path, "re");

	if (!f)
		return negerrno();
	while (fgets(line, sizeof(line), f))
		scan_line(&t, line);
	bool bad = ferror(f);
	fclose(f);
	if (bad)
		return -EIO;
	long token = t.token >= 0 ? t.token : COROSYNC_TOKEN_DEFAULT;
	long coef = t.coefficient >= 0 ? t.coefficient : COROSYNC_COEFFICIENT_DEFAULT;
	if (t.nodes > 2)
		token += (long)(t.nodes - 2) * coef;
	*ret_ms = token > 0 ? (uint32_t)token : COROSYNC_TOKEN_DEFAULT;
	return 0;
}

const char *vip_cl_corosync_conf_path(void)
{
	const char *p = getenv("COROSYNC_MAIN_CONFIG_FILE");

	return p && *p ? p : "/etc/corosync/corosync.conf";
}

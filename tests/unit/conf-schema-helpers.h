/* SPDX-License-Identifier: MIT */
/*
 * Shared by the conf schema unit tests: load a configuration from text or
 * from files in a temporary folder, and look for exact diagnostics.
 */
#ifndef TEST_CONF_SCHEMA_HELPERS_H
#define TEST_CONF_SCHEMA_HELPERS_H

#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"

/* Every test loads with this host name and no environment. */
static const struct vip_config_opts test_opts = { .hostname = "host1.example.com" };

/* Load text named "t.conf" (no includes). Returns what vip_config_from_tree returned. */
static inline int load_text_opts(const char *text, const struct vip_config_opts *opts,
				 struct vipd_config **cfg, struct vip_conf_diag *d)
{
	struct vip_conf_tree *tree = NULL;
	int r = vip_conf_parse_string("t.conf", text, strlen(text), NULL, NULL, &tree, d);

	if (r < 0)
		return r;
	r = vip_config_from_tree(tree, opts, cfg, d);
	vip_conf_tree_free(tree);
	return r;
}

static inline int load_text(const char *text, struct vipd_config **cfg, struct vip_conf_diag *d)
{
	return load_text_opts(text, &test_opts, cfg, d);
}

static inline void dump_diag(const struct vip_conf_diag *d)
{
	for (size_t i = 0; i < d->n; i++) {
		char *s = vip_conf_diagnostic_format(&d->items[i]);
		print_message("  diag: %s\n", s ? s : "?");
		free(s);
	}
}

static inline bool has_diag(const struct vip_conf_diag *d, const char *line)
{
	for (size_t i = 0; i < d->n; i++) {
		char *s = vip_conf_diagnostic_format(&d->items[i]);
		bool eq = s && strcmp(s, line) == 0;
		free(s);
		if (eq)
			return true;
	}
	return false;
}

#define assert_diag(d, line)                                        \
	do {                                                        \
		if (!has_diag((d), (line))) {                       \
			dump_diag(d);                               \
			fail_msg("missing diagnostic: %s", (line)); \
		}                                                   \
	} while (0)

/* The load fails and reports exactly this line among its diagnostics. */
static inline void expect_error(const char *text, const char *line)
{
	struct vip_conf_diag d = { 0 };
	struct vipd_config *cfg = NULL;
	int r = load_text(text, &cfg, &d);

	if (r != -EINVAL)
		dump_diag(&d);
	assert_int_equal(r, -EINVAL);
	assert_null(cfg);
	assert_true(d.n_errors > 0);
	assert_diag(&d, line);
	vip_conf_diag_clear(&d);
}

/* The load succeeds without errors; the caller frees the config and clears d. */
static inline struct vipd_config *expect_ok(const char *text, struct vip_conf_diag *d)
{
	struct vipd_config *cfg = NULL;
	int r = load_text(text, &cfg, d);

	if (r != 0)
		dump_diag(d);
	assert_int_equal(r, 0);
	assert_non_null(cfg);
	assert_int_equal(d->n_errors, 0);
	return cfg;
}

static inline const char *src_text(const struct vip_conf_src *s)
{
	static char buf[4][256];
	static unsigned next;
	return vip_conf_src_format(s, buf[next++ % 4], sizeof(buf[0]));
}

static inline void write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* A fresh temporary folder; remove with rm_tree. */
static inline char *make_tmpdir(void)
{
	char *dir = strdup("/tmp/vipd-test-conf-XXXXXX");
	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static inline void rm_tree(char *dir, const char *const *names, size_t n)
{
	char path[PATH_MAX];
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
	free(dir);
}

/* VIPD_SRCDIR/tests/data/<rel>, or the compile-time source root. */
static inline const char *data_path(const char *rel, char *buf, size_t len)
{
	const char *root = getenv("VIPD_SRCDIR");
#ifdef VIPD_TEST_SRCDIR
	if (!root)
		root = VIPD_TEST_SRCDIR;
#endif
	assert_non_null(root);
	snprintf(buf, len, "%s/tests/data/%s", root, rel);
	return buf;
}

static inline struct vip_addr addr_of(const char *s)
{
	struct vip_addr a;
	assert_int_equal(vip_addr_from_string(s, &a), 0);
	return a;
}

static inline const struct vipd_duravip *find_vip(const struct vipd_config *c, const char *s)
{
	struct vip_addr a = addr_of(s);
	return vip_config_find_duravip(c, &a);
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The configuration language: every construct, lookups, includes (files,
 * folders, readonly, cycles, depth), limits and the exact text and position
 * of every error message.
 */
#include <fcntl.h>
#include <ftw.h>
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

/* ---- helpers ---- */

static struct vip_conf_tree *parse_ok(const char *text)
{
	struct vip_conf_diag d = { 0 };
	struct vip_conf_tree *t = NULL;
	int r = vip_conf_parse_string("t.conf", text, strlen(text), NULL, NULL, &t, &d);
	if (r < 0 && d.n > 0) {
		char *s = vip_conf_diagnostic_format(&d.items[0]);
		print_error("unexpected: %s\n", s);
		free(s);
	}
	assert_int_equal(r, 0);
	assert_non_null(t);
	assert_int_equal(d.n, 0);
	vip_conf_diag_clear(&d);
	return t;
}

/* Check that diag holds exactly the given formatted errors, in order. */
static void assert_diags(const struct vip_conf_diag *d, const char *const *want, size_t n)
{
	for (size_t i = 0; i < d->n; i++) {
		char *s = vip_conf_diagnostic_format(&d->items[i]);
		if (i >= n || strcmp(s, want[i]) != 0)
			print_error("diag %zu: %s\n", i, s);
		if (i < n)
			assert_string_equal(s, want[i]);
		free(s);
	}
	assert_int_equal(d->n, n);
	assert_int_equal(d->n_errors, n);
}

static void parse_err_lim(const char *text, size_t len, const struct vip_conf_limits *lim, const char *want)
{
	struct vip_conf_diag d = { 0 };
	struct vip_conf_tree *t = (void *)0x1;
	int r = vip_conf_parse_string("t.conf", text, len, NULL, lim, &t, &d);

	assert_int_equal(r, -EINVAL);
	assert_ptr_equal(t, (void *)0x1); /* untouched on failure */
	assert_diags(&d, &want, 1);
	vip_conf_diag_clear(&d);
}

static const struct vip_conf_node *child(const struct vip_conf_node *s, size_t i)
{
	assert_true(i < s->n_children);
	return s->children[i];
}

static void assert_str(const struct vip_conf_value *v, const char *s, bool quoted)
{
	assert_non_null(v);
	assert_int_equal(v->type, VIP_CONF_STRING);
	assert_string_equal(v->str, s);
	assert_int_equal(v->quoted, quoted);
}

static void assert_option(const struct vip_conf_node *n, const char *name, const char *val)
{
	assert_int_equal(n->type, VIP_CONF_OPTION);
	assert_string_equal(n->name, name);
	assert_int_equal(n->value->type, VIP_CONF_STRING);
	assert_string_equal(n->value->str, val);
}

static char *make_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *dir = NULL;
	assert_true(asprintf(&dir, "%s/test-conf-parse-XXXXXX", base ? base : "/tmp") > 0);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void rm_tmpdir(char *dir)
{
	assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	free(dir);
}

/* Write dir/rel (text printf-style), making rel's folder if needed. */
static char *write_file(const char *dir, const char *rel, const char *fmt, ...) _printf_(3, 4);
static char *write_file(const char *dir, const char *rel, const char *fmt, ...)
{
	char *path = NULL;
	va_list ap;
	assert_true(asprintf(&path, "%s/%s", dir, rel) > 0);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	(void)mkdir(path, 0700);
	*slash = '/';
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	assert_int_equal(fclose(f), 0);
	return path;
}

static int parse_path(const char *path, const struct vip_conf_limits *lim, struct vip_conf_tree **t,
		      struct vip_conf_diag *d)
{
	return vip_conf_parse_file(path, lim, t, d);
}

/* ---- the language ---- */

static void test_bare_values(void **state)
{
	(void)state;
	struct vip_conf_tree *t = parse_ok("Bind_Address = 198.51.100.51\n"
					   "debug_level = DEBUG\n"
					   "net = 10.0.0.0/8\n"
					   "listen = *:25\n"
					   "path=/path/x\n"
					   "n = -1\n"
					   "caps = cap_net_admin+ep\n"
					   "odd = a/b*c,d;e:f@g!h$i%j^k&l|m~n?o<p>q\n"
					   "url = file:///x/y\n");
	const struct vip_conf_node *r = vip_conf_tree_root(t);
	static const char *const want[][2] = {
		{ "Bind_Address", "198.51.100.51" },
		{ "debug_level", "DEBUG" },
		{ "net", "10.0.0.0/8" },
		{ "listen", "*:25" },
		{ "path", "/path/x" },
		{ "n", "-1" },
		{ "caps", "cap_net_admin+ep" },
		{ "odd", "a/b*c,d;e:f@g!h$i%j^k&l|m~n?o<p>q" },
		{ "url", "file:///x/y" },
	};

	assert_int_equal(r->type, VIP_CONF_SCOPE);
	assert_string_equal(r->name, "");
	assert_null(r->parent);
	assert_int_equal(r->n_children, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		const struct vip_conf_node *n = child(r, i);
		assert_option(n, want[i][0], want[i][1]);
		assert_false(n->value->quoted);
		assert_ptr_equal(n->parent, r);
		assert_string_equal(n->loc.file, "t.conf");
		assert_int_equal(n->loc.line, i + 1);
		assert_int_equal(n->loc.col, 1);
	}
	/* value position: "path=/path/x" has no spaces */
	assert_int_equal(child(r, 4)->value->loc.col, 6);
	vip_conf_tree_free(t);
}

static void test_quoted(void **state)
{
	(void)state;
	struct vip_conf_tree *t = parse_ok("a = \"x y\"\n"
					   "b = \"q\\\"u\\\\o\\nt\\te\\d\"\n"
					   "c = 'lit \\n \"q\" # not a comment'\n"
					   "d = \"\"\n"
					   "e = \"multi\nline\"\n"
					   "f = \"{ } ( ) [ ] = /* */\"\n"
					   "g = 1\n");
	const struct vip_conf_node *r = vip_conf_tree_root(t);

	assert_int_equal(r->n_children, 7);
	assert_str(child(r, 0)->value, "x y", true);
	assert_str(child(r, 1)->value, "q\"u\\o\nt\te\\d", true);
	assert_str(child(r, 2)->value, "lit \\n \"q\" # not a comment", true);
	assert_str(child(r, 3)->value, "", true);
	assert_str(child(r, 4)->value, "multi\nline", true);
	assert_str(child(r, 5)->value, "{ } ( ) [ ] = /* */", true);
	/* lines counted inside the multi-line string */
	assert_int_equal(child(r, 5)->loc.line, 7);
	assert_int_equal(child(r, 6)->loc.line, 8);
	vip_conf_tree_free(t);
}

static void test_lists_dicts(void **state)
{
	(void)state;
	struct vip_conf_tree *t = parse_ok("l = ( a \"b c\" 'd' ( x ( y ) ) [ k = v ] )\n"
					   "e = ()\n"
					   "d = [ k = v  k2 = ( x y ) \"q k\" = [ z = 1 ] ]\n"
					   "ed = [ ]\n"
					   "tight=(a)\n");
	const struct vip_conf_node *r = vip_conf_tree_root(t);
	const struct vip_conf_value *l = child(r, 0)->value, *d = child(r, 2)->value;

	assert_int_equal(l->type, VIP_CONF_LIST);
	assert_int_equal(l->n_items, 5);
	assert_int_equal(l->loc.col, 5);
	assert_str(l->items[0], "a", false);
	assert_str(l->items[1], "b c", true);
	assert_str(l->items[2], "d", true);
	assert_int_equal(l->items[3]->type, VIP_CONF_LIST);
	assert_int_equal(l->items[3]->n_items, 2);
	assert_int_equal(l->items[3]->items[1]->type, VIP_CONF_LIST);
	assert_str(l->items[3]->items[1]->items[0], "y", false);
	assert_int_equal(l->items[4]->type, VIP_CONF_DICT);
	assert_string_equal(l->items[4]->pairs[0].key, "k");

	assert_int_equal(child(r, 1)->value->type, VIP_CONF_LIST);
	assert_int_equal(child(r, 1)->value->n_items, 0);

	assert_int_equal(d->type, VIP_CONF_DICT);
	assert_int_equal(d->n_pairs, 3);
	assert_string_equal(d->pairs[0].key, "k");
	assert_int_equal(d->pairs[0].loc.col, 7);
	assert_str(d->pairs[0].value, "v", false);
	assert_string_equal(d->pairs[1].key, "k2");
	assert_int_equal(d->pairs[1].value->type, VIP_CONF_LIST);
	assert_int_equal(d->pairs[1].value->n_items, 2);
	assert_string_equal(d->pairs[2].key, "q k");
	assert_int_equal(d->pairs[2].value->type, VIP_CONF_DICT);
	assert_str(d->pairs[2].value->pairs[0].value, "1", false);

	assert_int_equal(child(r, 3)->value->type, VIP_CONF_DICT);
	assert_int_equal(child(r, 3)->value->n_pairs, 0);
	assert_int_equal(child(r, 4)->value->n_items, 1);
	vip_conf_tree_free(t);
}

static void test_comments(void **state)
{
	(void)state;
	struct vip_conf_tree *t = parse_ok("# leading\n"
					   "a = b # trailing\n"
					   "c = d#glued\n"
					   "/* block\n  over lines { */ e /* mid */ = /**/ f\n"
					   "g = x/*y*/z\n"
					   "h = ( 1 # in a list\n 2 /* and */ 3 )\n"
					   "/* a * b ** / */ i = j\n"
					   "k = l # at the end, no newline");
	const struct vip_conf_node *r = vip_conf_tree_root(t);

	assert_int_equal(r->n_children, 7);
	assert_option(child(r, 0), "a", "b");
	assert_option(child(r, 1), "c", "d");
	assert_option(child(r, 2), "e", "f");
	assert_int_equal(child(r, 2)->loc.line, 5);
	assert_int_equal(child(r, 2)->loc.col, 19);
	/* inside a word, / * is just text */
	assert_option(child(r, 3), "g", "x/*y*/z");
	assert_int_equal(child(r, 4)->value->n_items, 3);
	assert_option(child(r, 5), "i", "j");
	assert_option(child(r, 6), "k", "l");
	vip_conf_tree_free(t);
}

static void test_whitespace(void **state)
{
	(void)state;
	struct vip_conf_tree *t = parse_ok("\r\n\t a\r\n=\r\n\tb\r\nS\n{\nc=d}e{}f=g");
	const struct vip_conf_node *r = vip_conf_tree_root(t);

	assert_int_equal(r->n_children, 4);
	assert_option(child(r, 0), "a", "b");
	assert_int_equal(child(r, 0)->loc.line, 2);
	assert_int_equal(child(r, 0)->loc.col, 3);
	assert_int_equal(child(r, 1)->type, VIP_CONF_SCOPE);
	assert_option(child(child(r, 1), 0), "c", "d");
	assert_int_equal(child(r, 2)->n_children, 0);
	assert_option(child(r, 3), "f", "g");
	vip_conf_tree_free(t);

	t = parse_ok("");
	assert_int_equal(vip_conf_tree_root(t)->n_children, 0);
	vip_conf_tree_free(t);
	t = parse_ok("  \n # only a comment\n /* and this */ \n");
	assert_int_equal(vip_conf_tree_root(t)->n_children, 0);
	vip_conf_tree_free(t);
}

static void test_scopes(void **state)
{
	(void)state;
	struct vip_conf_tree *t = parse_ok("Security { user = ecuser }\n"
					   "Binding \"out 1\" {\n  Bind_Address = 198.51.100.21\n}\n"
					   "Domain example.com { }\n"
					   "ESMTP_Listener {\n"
					   "  Listen *:25 {\n"
					   "    Peer 203.0.113.0/24 { Relay = true }\n"
					   "  }\n"
					   "}\n"
					   "Empty 'single' {}\n");
	const struct vip_conf_node *r = vip_conf_tree_root(t), *n;

	assert_int_equal(r->n_children, 5);
	n = child(r, 0);
	assert_int_equal(n->type, VIP_CONF_SCOPE);
	assert_string_equal(n->name, "Security");
	assert_null(n->instance);
	assert_null(n->value);
	assert_option(child(n, 0), "user", "ecuser");
	assert_ptr_equal(child(n, 0)->parent, n);

	n = child(r, 1);
	assert_string_equal(n->name, "Binding");
	assert_string_equal(n->instance, "out 1");
	assert_int_equal(n->loc.line, 2);
	assert_option(child(n, 0), "Bind_Address", "198.51.100.21");
	assert_int_equal(child(n, 0)->loc.line, 3);
	assert_int_equal(child(n, 0)->loc.col, 3);

	n = child(r, 2);
	assert_string_equal(n->instance, "example.com");
	assert_int_equal(n->n_children, 0);

	n = child(child(child(r, 3), 0), 0);
	assert_string_equal(n->name, "Peer");
	assert_string_equal(n->instance, "203.0.113.0/24");
	assert_string_equal(n->parent->instance, "*:25");
	assert_ptr_equal(n->parent->parent->parent, r);
	assert_option(child(n, 0), "Relay", "true");
	assert_int_equal(child(n, 0)->loc.line, 8);

	assert_string_equal(child(r, 4)->instance, "single");
	vip_conf_tree_free(t);
}

static void test_find(void **state)
{
	(void)state;
	struct vip_conf_tree *t = parse_ok("security { USER = a }\n"
					   "Binding \"Out\" { x = 1 }\n"
					   "binding \"out\" { x = 2 }\n"
					   "SECURITY { user = b  User = c  user { } }\n"
					   "Security = option\n");
	const struct vip_conf_node *r = vip_conf_tree_root(t), *s, *o;

	s = vip_conf_find(r, "Security", VIP_CONF_SCOPE);
	assert_ptr_equal(s, child(r, 0));
	o = vip_conf_find_option(s, "user");
	assert_non_null(o);
	assert_string_equal(o->value->str, "a");
	assert_ptr_equal(vip_conf_find(r, "sEcUrItY", VIP_CONF_OPTION), child(r, 4));
	assert_null(vip_conf_find(r, "nothing", VIP_CONF_SCOPE));
	assert_null(vip_conf_find_option(r, "nothing"));
	assert_null(vip_conf_find(NULL, "x", VIP_CONF_SCOPE));
	assert_null(vip_conf_find_option(NULL, "x"));

	/* the later setting wins; a scope of the same name is not an option */
	o = vip_conf_find_option(child(r, 3), "USER");
	assert_non_null(o);
	assert_string_equal(o->value->str, "c");
	assert_int_equal(o->loc.col, 22);
	assert_ptr_equal(vip_conf_find(child(r, 3), "user", VIP_CONF_OPTION), child(child(r, 3), 0));
	assert_ptr_equal(vip_conf_find(child(r, 3), "user", VIP_CONF_SCOPE), child(child(r, 3), 2));

	/* instances keep their case: two bindings */
	assert_string_equal(child(r, 1)->instance, "Out");
	assert_string_equal(child(r, 2)->instance, "out");
	assert_ptr_equal(vip_conf_find(r, "BINDING", VIP_CONF_SCOPE), child(r, 1));
	vip_conf_tree_free(t);
}

static void test_include_keyword_as_name(void **state)
{
	(void)state;
	/* "include" is only a directive when a path follows and no '{' */
	struct vip_conf_tree *t = parse_ok("include = yes\nInclude { a = b }\ninclude x { }\n");
	const struct vip_conf_node *r = vip_conf_tree_root(t);

	assert_int_equal(r->n_children, 3);
	assert_option(child(r, 0), "include", "yes");
	assert_int_equal(child(r, 1)->type, VIP_CONF_SCOPE);
	assert_string_equal(child(r, 2)->instance, "x");
	vip_conf_tree_free(t);
}

static void test_momentum_file(void **state)
{
	(void)state;
	const char *srcdir = getenv("VIPD_SRCDIR");
	_cleanup_free_ char *path = NULL;
	struct vip_conf_diag d = { 0 };
	struct vip_conf_tree *t = NULL;
	const struct vip_conf_node *r, *n;
	const char *const *files;

	assert_true(asprintf(&path, "%s/tests/data/lang/ecelerity.conf", srcdir ? srcdir : ".") > 0);
	assert_int_equal(parse_path(path, NULL, &t, &d), 0);
	assert_int_equal(d.n, 0);
	r = vip_conf_tree_root(t);

	assert_int_equal(vip_conf_tree_files(t, &files), 2);
	assert_string_equal(files[0], path);
	assert_non_null(strstr(files[1], "/tests/data/lang/ecelerity-cluster.conf"));

	/* every scope vipd does not know is still there */
	static const char *const scopes[] = {
		"Spool",      "Control_Listener", "ESMTP_Listener",     "HTTP_Listener", "ECStream_Listener",
		"Logs",       "ec_logger",        "Binding_Group",      "Binding",       "Domain",
		"Alerting",   "opendkim",         "scriptlet",          "sieve",         "maildir",
		"Threadpool", "adaptive",         "ECCluster_Listener", "cluster"
	};
	for (size_t i = 0; i < ARRAY_SIZE(scopes); i++)
		assert_non_null(vip_conf_find(r, scopes[i], VIP_CONF_SCOPE));

	size_t n_domains = 0, n_security = 0;
	for (size_t i = 0; i < r->n_children; i++) {
		n = r->children[i];
		if (n->type == VIP_CONF_SCOPE && strcasecmp(n->name, "domain") == 0)
			n_domains++;
		if (n->type == VIP_CONF_SCOPE && strcasecmp(n->name, "security") == 0)
			n_security++;
	}
	assert_int_equal(n_domains, 3);
	assert_int_equal(n_security, 2);

	n = vip_conf_find(r, "domain", VIP_CONF_SCOPE);
	assert_string_equal(n->instance, "example.com");
	n = vip_conf_find_option(r, "debug_flags");
	assert_int_equal(n->value->type, VIP_CONF_LIST);
	assert_str(n->value->items[1], "NOTICE", false);

	n = vip_conf_find(r, "Binding_Group", VIP_CONF_SCOPE);
	assert_int_equal(n->n_children, 2);
	assert_string_equal(child(n, 0)->instance, "mx_outbound_a");
	assert_string_equal(child(n, 1)->instance, "MX_OUTBOUND_A");

	n = vip_conf_find(r, "Control_Listener", VIP_CONF_SCOPE);
	n = vip_conf_find_option(n, "AuthDigestMD5Parameters");
	assert_int_equal(n->value->type, VIP_CONF_DICT);
	assert_string_equal(n->value->pairs[1].key, "realm");

	/* the included cluster scope keeps its own file, and comes last */
	n = child(r, r->n_children - 1);
	assert_string_equal(n->name, "cluster");
	assert_ptr_equal(n->loc.file, files[1]);
	assert_int_equal(n->loc.line, 11);
	n = vip_conf_find(n, "topology", VIP_CONF_SCOPE);
	assert_string_equal(n->instance, "198.51.100.0/24");
	assert_option(vip_conf_find_option(n, "Interface"), "interface", "eth1");

	vip_conf_tree_free(t);
	vip_conf_diag_clear(&d);
}

/* ---- errors ---- */

static void test_errors(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{ "a = b\nfoo\n}", "t.conf:3:1: error: expected '=' or '{' after 'foo'" },
		{ "foo", "t.conf:1:4: error: expected '=' or '{' after 'foo'" },
		{ "foo )", "t.conf:1:5: error: expected '=' or '{' after 'foo'" },
		{ "\n\ncluster {\n  a = b\n",
		  "t.conf:5:1: error: missing '}' for scope 'cluster' opened at line 3" },
		{ "a {\n b {\n }", "t.conf:3:3: error: missing '}' for scope 'a' opened at line 1" },
		{ "x = 1\n  }", "t.conf:2:3: error: unexpected '}'" },
		{ "a { } }", "t.conf:1:7: error: unexpected '}'" },
		{ "= 1", "t.conf:1:1: error: unexpected '='" },
		{ "\"name\" = 1", "t.conf:1:1: error: unexpected string \"name\"" },
		{ "( a )", "t.conf:1:1: error: unexpected '('" },
		{ "x = \"abc\ndef", "t.conf:1:5: error: unterminated string" },
		{ "x = 'abc", "t.conf:1:5: error: unterminated string" },
		{ "x = \"ab\\\"", "t.conf:1:5: error: unterminated string" },
		{ "a = b\n  /* c\n\n", "t.conf:2:3: error: unterminated comment" },
		{ "a = }", "t.conf:1:5: error: expected a value, got '}'" },
		{ "a = ", "t.conf:1:5: error: expected a value, got end of file" },
		{ "a = =", "t.conf:1:5: error: expected a value, got '='" },
		{ "a = ( x } )", "t.conf:1:9: error: expected a value, got '}'" },
		{ "a = ( x\n y", "t.conf:2:3: error: missing ')' for list opened at line 1" },
		{ "a = [ k = v", "t.conf:1:12: error: missing ']' for dictionary opened at line 1" },
		{ "a = [ k v ]", "t.conf:1:9: error: expected '=' after key 'k'" },
		{ "a = [ k = ]", "t.conf:1:11: error: expected a value, got ']'" },
		{ "a = [ ( ]", "t.conf:1:7: error: expected a key or ']' in dictionary, got '('" },
		{ "Domain example.com x { }",
		  "t.conf:1:20: error: expected '{' after 'Domain example.com', got 'x'" },
		{ "Listen \"a:1\" = 2", "t.conf:1:14: error: expected '{' after 'Listen a:1', got '='" },
		{ "a = b\nc = \"x\0y\"", "t.conf:2:5: error: NUL byte in quoted string" },
		{ "a = b\n c\0 = d", "t.conf:2:3: error: NUL byte in input" },
		{ "include \"x.conf\"",
		  "t.conf:1:1: error: include not allowed here: no base folder to resolve it from" },
		{ "S {\n  readonly_include /etc/x\n}",
		  "t.conf:2:3: error: include not allowed here: no base folder to resolve it from" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		/* the NUL cases carry their own length */
		size_t len = strlen(cases[i][0]);
		if (strstr(cases[i][1], "NUL"))
			len += 1 + strlen(cases[i][0] + len + 1);
		parse_err_lim(cases[i][0], len, NULL, cases[i][1]);
	}
}

static void test_nesting_limit(void **state)
{
	(void)state;
	struct vip_conf_limits lim = vip_conf_default_limits;
	size_t n = 200000;
	char *deep = malloc(n * 2 + 8);

	assert_non_null(deep);
	/* far deeper than any stack: refused at the limit, no recursion past it */
	memcpy(deep, "a = ", 4);
	memset(deep + 4, '(', n);
	parse_err_lim(deep, n + 4, NULL, "t.conf:1:69: error: nesting too deep (limit 64)");
	for (size_t i = 0; i < n / 3; i++)
		memcpy(deep + 4 + 3 * i, "[k=", 3);
	parse_err_lim(deep, 4 + n / 3 * 3, NULL, "t.conf:1:197: error: nesting too deep (limit 64)");
	for (size_t i = 0; i < n; i++)
		memcpy(deep + 2 * i, "a{", 2);
	parse_err_lim(deep, n * 2, NULL, "t.conf:1:130: error: nesting too deep (limit 64)");
	free(deep);

	/* scopes, lists and dicts count together; exactly the limit is fine */
	lim.max_nesting = 3;
	struct vip_conf_tree *t = NULL;
	struct vip_conf_diag d = { 0 };
	const char *ok = "a { b { c = ( [ ] ) } }";
	assert_int_equal(vip_conf_parse_string("t.conf", ok, strlen(ok), NULL, &lim, &t, &d), -EINVAL);
	assert_diags(&d, (const char *const[]){ "t.conf:1:15: error: nesting too deep (limit 3)" }, 1);
	vip_conf_diag_clear(&d);
	ok = "a { b { c = ( x ) } }";
	assert_int_equal(vip_conf_parse_string("t.conf", ok, strlen(ok), NULL, &lim, &t, &d), 0);
	vip_conf_tree_free(t);
}

static void test_size_limit(void **state)
{
	(void)state;
	struct vip_conf_limits lim = vip_conf_default_limits;
	const char *text = "a = b\n";

	lim.max_file_size = 5;
	parse_err_lim(text, strlen(text), &lim, "t.conf: error: input is too large (6 bytes, limit 5)");
	lim = vip_conf_default_limits;
	lim.max_total_size = 4;
	parse_err_lim(text, strlen(text), &lim, "t.conf: error: input is too large (6 bytes, limit 4)");
}

/* ---- files and includes ---- */

static void test_parse_file_missing(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	_cleanup_free_ char *path = NULL;
	struct vip_conf_diag d = { 0 };
	struct vip_conf_tree *t = (void *)0x1;

	assert_true(asprintf(&path, "%s/nope.conf", dir) > 0);
	assert_int_equal(parse_path(path, NULL, &t, &d), -ENOENT);
	assert_ptr_equal(t, (void *)0x1);
	assert_int_equal(d.n_errors, 1);
	assert_string_equal(d.items[0].file, path);
	assert_string_equal(d.items[0].message, "No such file or directory");
	vip_conf_diag_clear(&d);
	rm_tmpdir(dir);
}

static void test_include_file(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	_cleanup_free_ char *main_ = NULL, *sub = NULL, *abs = NULL, *ro = NULL;
	struct vip_conf_diag d = { 0 };
	struct vip_conf_tree *t = NULL;
	const char *const *files;

	sub = write_file(dir, "conf.d/sub.conf", "s = 1\ninclude \"../abs.conf\"\n");
	abs = write_file(dir, "abs.conf", "from_abs = yes\n");
	ro = write_file(dir, "ro.conf", "Security { user = ro }\n");
	main_ = write_file(dir, "main.conf",
			   "first = 1\n"
			   "Scope {\n"
			   "  include \"conf.d/sub.conf\"\n"
			   "  after = 2\n"
			   "}\n"
			   "readonly_include ro.conf\n"
			   "INCLUDE '%s'\n"
			   "last = 3\n",
			   abs);
	assert_int_equal(parse_path(main_, NULL, &t, &d), 0);
	assert_int_equal(d.n, 0);

	const struct vip_conf_node *r = vip_conf_tree_root(t), *s;
	assert_int_equal(r->n_children, 5);
	assert_option(child(r, 0), "first", "1");
	s = child(r, 1);
	/* included statements are children of the scope where include stands */
	assert_int_equal(s->n_children, 3);
	assert_option(child(s, 0), "s", "1");
	assert_string_equal(child(s, 0)->loc.file, sub);
	assert_ptr_equal(child(s, 0)->parent, s);
	assert_option(child(s, 1), "from_abs", "yes");
	assert_non_null(strstr(child(s, 1)->loc.file, "conf.d/../abs.conf"));
	assert_option(child(s, 2), "after", "2");
	assert_string_equal(child(s, 2)->loc.file, main_);
	assert_int_equal(child(s, 2)->loc.line, 4);

	assert_string_equal(child(r, 2)->name, "Security");
	assert_string_equal(child(r, 2)->loc.file, ro);
	assert_option(child(r, 3), "from_abs", "yes");
	assert_string_equal(child(r, 3)->loc.file, abs);
	assert_option(child(r, 4), "last", "3");

	/* files in the order first read, each once, as opened */
	assert_int_equal(vip_conf_tree_files(t, &files), 5);
	assert_string_equal(files[0], main_);
	assert_string_equal(files[1], sub);
	assert_non_null(strstr(files[2], "conf.d/../abs.conf"));
	assert_string_equal(files[3], ro);
	assert_string_equal(files[4], abs);
	vip_conf_tree_free(t);

	/* parse_string resolves includes against base_dir */
	const char *text = "include ro.conf\ninclude conf.d/sub.conf";
	t = NULL;
	assert_int_equal(vip_conf_parse_string(NULL, text, strlen(text), dir, NULL, &t, &d), 0);
	r = vip_conf_tree_root(t);
	assert_int_equal(r->n_children, 3);
	assert_string_equal(child(r, 0)->loc.file, ro);
	assert_int_equal(vip_conf_tree_files(t, &files), 4);
	assert_string_equal(files[0], "<string>");
	vip_conf_tree_free(t);

	/* a relative main path gives relative included paths */
	char cwd[PATH_MAX];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	t = NULL;
	assert_int_equal(parse_path("main.conf", NULL, &t, &d), 0);
	assert_int_equal(vip_conf_tree_files(t, &files), 5);
	assert_string_equal(files[1], "conf.d/sub.conf");
	assert_string_equal(files[2], "conf.d/../abs.conf");
	assert_string_equal(files[3], "ro.conf");
	assert_int_equal(chdir(cwd), 0);
	vip_conf_tree_free(t);

	vip_conf_diag_clear(&d);
	rm_tmpdir(dir);
}

static void test_include_folder(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	_cleanup_free_ char *main_ = NULL, *a = NULL, *b = NULL, *c = NULL, *h = NULL, *s = NULL;
	struct vip_conf_diag d = { 0 };
	struct vip_conf_tree *t = NULL;
	const char *const *files;

	b = write_file(dir, "d/b.conf", "b = 1\n");
	a = write_file(dir, "d/a.conf", "a = 1\n");
	c = write_file(dir, "d/B.conf", "B = 1\n");
	h = write_file(dir, "d/.hidden.conf", "hidden = 1\n");
	s = write_file(dir, "d/sub/deep.conf", "deep = 1\n");
	main_ = write_file(dir, "main.conf", "S { include \"d\" }\nreadonly_include d/\n");
	assert_int_equal(parse_path(main_, NULL, &t, &d), 0);
	assert_int_equal(d.n, 0);

	const struct vip_conf_node *r = vip_conf_tree_root(t), *sc = child(r, 0);
	/* strcmp order: "B.conf" < "a.conf" < "b.conf"; dot-files and folders skipped */
	assert_int_equal(sc->n_children, 3);
	assert_option(child(sc, 0), "B", "1");
	assert_option(child(sc, 1), "a", "1");
	assert_option(child(sc, 2), "b", "1");
	assert_string_equal(child(sc, 0)->loc.file, c);
	assert_int_equal(r->n_children, 4);
	assert_option(child(r, 1), "B", "1");
	assert_int_equal(vip_conf_tree_files(t, &files), 4);
	assert_string_equal(files[1], c);
	assert_string_equal(files[2], a);
	assert_string_equal(files[3], b);
	vip_conf_tree_free(t);

	/* the first path may be a folder too */
	_cleanup_free_ char *folder = NULL;
	assert_true(asprintf(&folder, "%s/d", dir) > 0);
	assert_int_equal(parse_path(folder, NULL, &t, &d), 0);
	assert_int_equal(vip_conf_tree_root(t)->n_children, 3);
	assert_int_equal(vip_conf_tree_files(t, &files), 3);
	assert_string_equal(files[0], c);
	vip_conf_tree_free(t);

	/* an empty folder (or one of dot-files only) includes nothing */
	_cleanup_free_ char *main2 = NULL;
	free(h);
	h = write_file(dir, "e/.only-hidden", "x = 1\n");
	main2 = write_file(dir, "main2.conf", "include e\n");
	assert_int_equal(parse_path(main2, NULL, &t, &d), 0);
	assert_int_equal(vip_conf_tree_root(t)->n_children, 0);
	assert_int_equal(vip_conf_tree_files(t, &files), 1);
	vip_conf_tree_free(t);
	vip_conf_diag_clear(&d);
	rm_tmpdir(dir);
}

static void test_include_errors(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	_cleanup_free_ char *main_ = NULL, *bad = NULL, *want1 = NULL, *want2 = NULL, *want3 = NULL;
	struct vip_conf_diag d = { 0 };
	struct vip_conf_tree *t = (void *)0x1;

	bad = write_file(dir, "bad.conf", "ok = 1\nbroken {\n");
	main_ = write_file(dir, "main.conf",
			   "a = 1\n"
			   "  include missing.conf\n"
			   "include bad.conf\n"
			   "include \"\"\n"
			   "b = }\n");
	assert_int_equal(parse_path(main_, NULL, &t, &d), -EINVAL);
	assert_ptr_equal(t, (void *)0x1);
	/* every file's errors are collected; the including file reads on */
	assert_true(asprintf(&want1,
			     "%s:2:3: error: cannot include '%s/missing.conf': No such file or directory",
			     main_, dir) > 0);
	assert_true(asprintf(&want2, "%s:3:1: error: missing '}' for scope 'broken' opened at line 2", bad) >
		    0);
	assert_true(asprintf(&want3, "%s:4:9: error: empty include path", main_) > 0);
	_cleanup_free_ char *want4 = NULL;
	assert_true(asprintf(&want4, "%s:5:5: error: expected a value, got '}'", main_) > 0);
	assert_diags(&d, (const char *const[]){ want1, want2, want3, want4 }, 4);
	vip_conf_diag_clear(&d);

	/* a special file is refused without opening it for reading */
	free(main_);
	main_ = write_file(dir, "main.conf", "include /dev/null\n");
	assert_int_equal(parse_path(main_, NULL, &t, &d), -EINVAL);
	free(want1);
	assert_true(asprintf(&want1, "%s:1:1: error: '/dev/null' is not a regular file or folder", main_) >
		    0);
	assert_diags(&d, (const char *const[]){ want1 }, 1);
	vip_conf_diag_clear(&d);
	rm_tmpdir(dir);
}

static void test_include_cycle(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	_cleanup_free_ char *a = NULL, *b = NULL, *self = NULL, *want = NULL, *via_dir = NULL;
	struct vip_conf_diag d = { 0 };
	struct vip_conf_tree *t = NULL;

	a = write_file(dir, "a.conf", "x = 1\ninclude b.conf\n");
	b = write_file(dir, "b.conf", "y = 2\n\n   include \"a.conf\"\n");
	assert_int_equal(parse_path(a, NULL, &t, &d), -EINVAL);
	assert_true(asprintf(&want, "%s:3:4: error: include cycle: '%s/a.conf' is already being read", b,
			     dir) > 0);
	assert_diags(&d, (const char *const[]){ want }, 1);
	vip_conf_diag_clear(&d);

	/* a file including itself, and through its own folder */
	self = write_file(dir, "s/self.conf", "include self.conf\n");
	free(want);
	assert_true(asprintf(&want, "%s:1:1: error: include cycle: '%s/s/self.conf' is already being read",
			     self, dir) > 0);
	assert_int_equal(parse_path(self, NULL, &t, &d), -EINVAL);
	assert_diags(&d, (const char *const[]){ want }, 1);
	vip_conf_diag_clear(&d);

	via_dir = write_file(dir, "s/self.conf", "include .\n");
	free(want);
	assert_true(asprintf(&want, "%s:1:1: error: include cycle: '%s/s/./self.conf' is already being read",
			     self, dir) > 0);
	assert_int_equal(parse_path(self, NULL, &t, &d), -EINVAL);
	assert_diags(&d, (const char *const[]){ want }, 1);
	vip_conf_diag_clear(&d);

	/* the same file twice, not nested, is no cycle */
	free(via_dir);
	via_dir = write_file(dir, "twice.conf", "include b2.conf\ninclude b2.conf\n");
	free(b);
	b = write_file(dir, "b2.conf", "z = 1\n");
	assert_int_equal(parse_path(via_dir, NULL, &t, &d), 0);
	assert_int_equal(vip_conf_tree_root(t)->n_children, 2);
	const char *const *files;
	assert_int_equal(vip_conf_tree_files(t, &files), 2);
	vip_conf_tree_free(t);
	rm_tmpdir(dir);
}

static void test_include_limits(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	struct vip_conf_limits lim = vip_conf_default_limits;
	struct vip_conf_diag d = { 0 };
	struct vip_conf_tree *t = NULL;
	char name[32];
	_cleanup_free_ char *want = NULL, *top = NULL;

	/* f0 -> f1 -> ... -> f5: depth 5 */
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "f%d.conf", i);
		char *p = i < 5 ? write_file(dir, name, "v%d = 1\ninclude f%d.conf\n", i, i + 1)
				: write_file(dir, name, "v%d = 1\n", i);
		if (i == 0)
			top = p;
		else
			free(p);
	}
	lim.max_include_depth = 5;
	assert_int_equal(parse_path(top, &lim, &t, &d), 0);
	vip_conf_tree_free(t);
	lim.max_include_depth = 4;
	assert_int_equal(parse_path(top, &lim, &t, &d), -EINVAL);
	assert_true(asprintf(&want, "%s/f4.conf:2:1: error: includes nested too deeply (limit 4)", dir) > 0);
	assert_diags(&d, (const char *const[]){ want }, 1);
	vip_conf_diag_clear(&d);

	/* too many files */
	lim = vip_conf_default_limits;
	lim.max_files = 3;
	assert_int_equal(parse_path(top, &lim, &t, &d), -EINVAL);
	free(want);
	assert_true(asprintf(&want, "%s/f2.conf:2:1: error: too many configuration files (limit 3)", dir) >
		    0);
	assert_diags(&d, (const char *const[]){ want }, 1);
	vip_conf_diag_clear(&d);

	/* one file too large */
	lim = vip_conf_default_limits;
	lim.max_file_size = 17;
	_cleanup_free_ char *big = write_file(dir, "big.conf", "long_name = 12345\n");
	_cleanup_free_ char *inc = write_file(dir, "inc.conf", "include big.conf\n");
	assert_int_equal(parse_path(inc, &lim, &t, &d), -EINVAL);
	free(want);
	assert_true(asprintf(&want, "%s:1:1: error: '%s' is too large (18 bytes, limit 17)", inc, big) > 0);
	assert_diags(&d, (const char *const[]){ want }, 1);
	vip_conf_diag_clear(&d);

	/* the main file itself too large: reported on the file */
	assert_int_equal(parse_path(big, &lim, &t, &d), -EINVAL);
	free(want);
	assert_true(asprintf(&want, "%s: error: '%s' is too large (18 bytes, limit 17)", big, big) > 0);
	assert_diags(&d, (const char *const[]){ want }, 1);
	vip_conf_diag_clear(&d);

	/* all files together too large */
	lim = vip_conf_default_limits;
	lim.max_total_size = 30;
	assert_int_equal(parse_path(inc, &lim, &t, &d), -EINVAL);
	free(want);
	assert_true(asprintf(&want, "%s:1:1: error: configuration too large: over 30 bytes in total", inc) >
		    0);
	assert_diags(&d, (const char *const[]){ want }, 1);
	vip_conf_diag_clear(&d);

	rm_tmpdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bare_values),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_lists_dicts),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_whitespace),
		cmocka_unit_test(test_scopes),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_include_keyword_as_name),
		cmocka_unit_test(test_momentum_file),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_nesting_limit),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_parse_file_missing),
		cmocka_unit_test(test_include_file),
		cmocka_unit_test(test_include_folder),
		cmocka_unit_test(test_include_errors),
		cmocka_unit_test(test_include_cycle),
		cmocka_unit_test(test_include_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * The console's one command table (ctlproto.h) and the JSON writer (conf.h):
 * the table is consistent (ids, unique words, argument counts) and vipctl(8)
 * lists exactly its commands, arguments and authority; the writer escapes
 * anything into valid JSON (checked by parsing), refuses misuse and keeps
 * its first error.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctlproto.h"
#include "json-check.h"

static void test_table(void **state _unused_)
{
	for (size_t i = 0; i < _VIP_CTL_CMD_MAX; i++) {
		const struct vip_ctl_command *c = &vip_ctl_commands[i];
		const char *argv[8];
		char words[80], *save = NULL;
		size_t argc = 0, n;

		assert_int_equal(c->id, i);
		assert_non_null(c->words);
		assert_non_null(c->help);
		assert_true(c->min_args <= c->max_args);
		assert_true((c->args != NULL) == (c->max_args > 0));
		assert_non_null(vip_ctl_authority_to_string(c->authority));
		/* Its own words find it, and nothing else matches as long. */
		snprintf(words, sizeof(words), "%s", c->words);
		for (char *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save))
			argv[argc++] = w;
		assert_ptr_equal(vip_ctl_command_find(argv, argc, &n), c);
		assert_int_equal(n, argc);
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(vip_ctl_commands[k].words, c->words);
	}
	const char *bad[] = { "cluster", "frobnicate" };
	size_t n;
	assert_null(vip_ctl_command_find(bad, 2, &n));
	assert_null(vip_ctl_authority_to_string(_VIP_CTL_AUTH_MAX));
}

/* "<ip> <node>" as the man page writes it: "_IP_ _NODE_"; "[<ip>]": "[_IP_]". */
static void man_args(const char *args, char *out, size_t len)
{
	size_t o = 0;

	for (const char *p = args; *p && o + 2 < len; p++) {
		if (*p == '<' || *p == '>')
			out[o++] = '_';
		else
			out[o++] = (char)((*p >= 'a' && *p <= 'z') ? *p - 32 : *p);
	}
	out[o] = '\0';
}

/* The COMMANDS section of vipctl(8): one "*words* ARGS (authority)" line per command, in table order. */
static void test_man_page_lists_the_table(void **state _unused_)
{
	FILE *f = fopen(VIPD_TEST_SRCDIR "/tools/man/vipctl.8.scd", "r");
	char line[512], want[512], args[128];
	bool in = false;
	size_t n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#') {
			in = strcmp(line, "# COMMANDS\n") == 0;
			continue;
		}
		if (!in || line[0] != '*')
			continue;
		if (n >= _VIP_CTL_CMD_MAX)
			fail_msg("vipctl(8) lists a command the table does not have: %s", line);
		const struct vip_ctl_command *c = &vip_ctl_commands[n++];
		man_args(c->args ? c->args : "", args, sizeof(args));
		snprintf(want, sizeof(want), "*%s*%s%s (%s)\n", c->words, c->args ? " " : "", args,
			 vip_ctl_authority_to_string(c->authority));
		if (strcmp(line, want) != 0)
			fail_msg("vipctl(8) has \"%.*s\" where the table says \"%.*s\"",
				 (int)strcspn(line, "\n"), line, (int)strcspn(want, "\n"), want);
	}
	fclose(f);
	if (n != _VIP_CTL_CMD_MAX)
		fail_msg("vipctl(8) lists %zu commands, the table has %d", n, _VIP_CTL_CMD_MAX);
}

static void test_help_renders_the_table(void **state _unused_)
{
	struct vip_ctl_buf b = { 0 };
	struct vip_json w = { 0 };
	struct jv *v;

	vip_ctl_help_text(&b);
	assert_int_equal(b.err, 0);
	assert_int_equal(vip_ctl_buf_append(&b, "", 1), 0);
	assert_non_null(strstr((char *)b.data, "cluster duravip move <ip> <node>     changes state  "));
	vip_ctl_buf_free(&b);
	vip_ctl_help_json(&w);
	assert_int_equal(vip_json_finish(&w), 0);
	v = json_parse(w.data);
	assert_non_null(v);
	assert_int_equal(json_len(v, "commands"), _VIP_CTL_CMD_MAX);
	for (size_t i = 0; i < _VIP_CTL_CMD_MAX; i++) {
		char p[64];
		snprintf(p, sizeof(p), "commands.%zu.command", i);
		assert_string_equal(json_str(v, p), vip_ctl_commands[i].words);
		snprintf(p, sizeof(p), "commands.%zu.max_args", i);
		assert_int_equal(json_num(v, p), vip_ctl_commands[i].max_args);
	}
	json_free(v);
	vip_json_free(&w);
}

/* ---------------------------------------------------------------- the writer */

static void test_writer_escapes(void **state _unused_)
{
	static const char *const nasty[] = {
		"a\"b",
		"back\\slash",
		"new\nline\ttab\rcr",
		"\x01\x1f\x7f",
		"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		"bad \xff byte",
		"cut \xe2\x82",
		"overlong \xc0\xaf",
		"surrogate \xed\xa0\x80",
		"",
		"\"\\\"\\",
	};
	static const char *const decoded[] = {
		"a\"b",
		"back\\slash",
		"new\nline\ttab\rcr",
		"\x01\x1f\x7f",
		"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		"bad \xef\xbf\xbd byte",
		"cut \xef\xbf\xbd\xef\xbf\xbd",
		"overlong \xef\xbf\xbd\xef\xbf\xbd",
		"surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
		"",
		"\"\\\"\\",
	};

	for (size_t i = 0; i < ARRAY_SIZE(nasty); i++) {
		for (int pretty = 0; pretty < 2; pretty++) {
			struct vip_json w;
			struct jv *v;

			vip_json_init(&w, 0, pretty);
			vip_json_object_begin(&w, NULL);
			vip_json_string(&w, nasty[i], nasty[i]); /* keys are escaped too */
			vip_json_array_begin(&w, "list");
			vip_json_stringf(&w, NULL, "<%s>", nasty[i]);
			vip_json_null(&w, NULL);
			vip_json_array_end(&w);
			vip_json_object_end(&w);
			assert_int_equal(vip_json_finish(&w), 0);
			v = json_parse(w.data);
			if (!v)
				fail_msg("not JSON: %s", w.data);
			assert_int_equal(v->n, 2);
			assert_string_equal(v->keys[0], decoded[i]);
			assert_string_equal(v->items[0].str, decoded[i]);
			char want[128];
			snprintf(want, sizeof(want), "<%s>", decoded[i]);
			assert_string_equal(json_str(v, "list.0"), want);
			assert_true(json_is_null(v, "list.1"));
			json_free(v);
			vip_json_free(&w);
		}
	}
}

static void test_writer_values(void **state _unused_)
{
	struct vip_json w = { 0 };

	vip_json_object_begin(&w, NULL);
	vip_json_uint(&w, "u", UINT64_MAX);
	vip_json_int(&w, "i", INT64_MIN);
	vip_json_double(&w, "d", 2.5);
	vip_json_bool(&w, "t", true);
	vip_json_bool(&w, "f", false);
	vip_json_string(&w, "n", NULL);
	vip_json_object_begin(&w, "empty");
	vip_json_object_end(&w);
	vip_json_array_begin(&w, "none");
	vip_json_array_end(&w);
	vip_json_object_end(&w);
	assert_int_equal(vip_json_finish(&w), 0);
	assert_string_equal(w.data,
			    "{\"u\":18446744073709551615,\"i\":-9223372036854775808,\"d\":2.5,\"t\":true,"
			    "\"f\":false,\"n\":null,\"empty\":{},\"none\":[]}\n");
	assert_true(json_valid(w.data));
	vip_json_free(&w);
}

/* Each misuse is refused, sticks, and leaves no document. */
static void test_writer_misuse(void **state _unused_)
{
	struct vip_json w = { 0 };

	vip_json_object_begin(&w, NULL);
	vip_json_string(&w, NULL, "no key in an object");
	vip_json_uint(&w, "later", 1); /* ignored: the first error sticks */
	vip_json_object_end(&w);
	assert_int_equal(vip_json_finish(&w), -EINVAL);
	vip_json_reset(&w);
	vip_json_array_begin(&w, NULL);
	vip_json_string(&w, "key", "in an array");
	assert_int_equal(vip_json_finish(&w), -EINVAL);
	vip_json_reset(&w);
	vip_json_array_begin(&w, NULL);
	vip_json_object_end(&w); /* wrong close */
	assert_int_equal(w.error, -EINVAL);
	vip_json_reset(&w);
	vip_json_object_begin(&w, NULL); /* never closed */
	assert_int_equal(vip_json_finish(&w), -EINVAL);
	vip_json_reset(&w);
	assert_int_equal(vip_json_finish(&w), -EINVAL); /* nothing written */
	vip_json_reset(&w);
	vip_json_uint(&w, NULL, 1);
	vip_json_uint(&w, NULL, 2); /* a second top-level value */
	assert_int_equal(vip_json_finish(&w), -EINVAL);
	vip_json_reset(&w);
	vip_json_object_begin(&w, NULL);
	vip_json_double(&w, "x", NAN);
	assert_int_equal(w.error, -EINVAL);
	vip_json_reset(&w);
	for (int i = 0; i < VIP_JSON_MAX_DEPTH + 2; i++)
		vip_json_array_begin(&w, NULL);
	assert_int_equal(w.error, -EINVAL);
	vip_json_free(&w);
}

/* The bound: a document that does not fit is an error, never a cut document. */
static void test_writer_bound(void **state _unused_)
{
	struct vip_json w;
	size_t full;

	vip_json_init(&w, 0, false);
	vip_json_array_begin(&w, NULL);
	for (int i = 0; i < 100; i++)
		vip_json_string(&w, NULL, "0123456789");
	vip_json_array_end(&w);
	assert_int_equal(vip_json_finish(&w), 0);
	full = w.len;
	vip_json_free(&w);
	for (size_t max = full - 20; max <= full + 1; max++) {
		vip_json_init(&w, max, false);
		vip_json_array_begin(&w, NULL);
		for (int i = 0; i < 100; i++)
			vip_json_string(&w, NULL, "0123456789");
		vip_json_array_end(&w);
		assert_int_equal(vip_json_finish(&w), max >= full ? 0 : -ENOBUFS);
		assert_true(w.len <= max);
		vip_json_free(&w);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_man_page_lists_the_table),
		cmocka_unit_test(test_help_renders_the_table),
		cmocka_unit_test(test_writer_escapes),
		cmocka_unit_test(test_writer_values),
		cmocka_unit_test(test_writer_misuse),
		cmocka_unit_test(test_writer_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * A strict JSON reader for the tests (RFC 8259 grammar, no extensions, UTF-8
 * checked), independent of the writer it checks: json_parse(text) returns
 * the value tree when text is one JSON value, optionally followed by
 * whitespace (the console ends its documents with a newline), else NULL.
 * json_at(v, "view.members"), json_at(v, "duravips.0.address") walk it;
 * json_str/json_num/json_bool read a leaf (failing the test when absent or
 * of another type). json_valid(text) is json_parse without the tree.
 */
#ifndef VIP_JSON_CHECK_H
#define VIP_JSON_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	enum jtype t;
	bool b;
	double num;
	char *str;        /* J_STR: decoded, NUL-terminated */
	struct jv *items; /* J_ARR, J_OBJ */
	char **keys;      /* J_OBJ */
	size_t n;
};

struct jparse {
	const char *p;
	bool bad;
};

static struct jv jp_value(struct jparse *j, int depth);

static inline void jp_ws(struct jparse *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static inline void jp_put(char **s, size_t *n, size_t *cap, uint32_t cp)
{
	if (*n + 5 > *cap) {
		*cap = *cap * 2 + 16;
		*s = realloc(*s, *cap);
	}
	if (cp < 0x80) {
		(*s)[(*n)++] = (char)cp;
	} else if (cp < 0x800) {
		(*s)[(*n)++] = (char)(0xc0 | cp >> 6);
		(*s)[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		(*s)[(*n)++] = (char)(0xe0 | cp >> 12);
		(*s)[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		(*s)[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		(*s)[(*n)++] = (char)(0xf0 | cp >> 18);
		(*s)[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		(*s)[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		(*s)[(*n)++] = (char)(0x80 | (cp & 0x3f));
	}
}

static inline int jp_hex4(struct jparse *j, uint32_t *ret)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		char c = *j->p++;
		if (c >= '0' && c <= '9')
			v = v << 4 | (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = v << 4 | (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*ret = v;
	return 0;
}

/* One raw UTF-8 character (already past the ASCII checks): a strict decoder. */
static inline int jp_utf8(struct jparse *j, uint32_t *ret)
{
	const unsigned char *p = (const unsigned char *)j->p;
	size_t n = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : 0;
	uint32_t cp;

	if (n == 0 || p[0] >= 0xf5)
		return -1;
	cp = p[0] & (0xff >> (n + 1));
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	j->p += n;
	*ret = cp;
	return 0;
}

static inline char *jp_string(struct jparse *j)
{
	size_t n = 0, cap = 16;
	char *s = malloc(cap);

	if (*j->p++ != '"')
		goto bad;
	for (;;) {
		unsigned char c = (unsigned char)*j->p;
		uint32_t cp;

		if (c == '"') {
			j->p++;
			s[n] = '\0';
			return s;
		}
		if (c < 0x20)
			goto bad;
		if (c >= 0x80) {
			if (jp_utf8(j, &cp) < 0)
				goto bad;
			jp_put(&s, &n, &cap, cp);
			continue;
		}
		j->p++;
		if (c != '\\') {
			jp_put(&s, &n, &cap, c);
			continue;
		}
		c = (unsigned char)*j->p++;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			cp = c;
			break;
		case 'b':
			cp = '\b';
			break;
		case 'f':
			cp = '\f';
			break;
		case 'n':
			cp = '\n';
			break;
		case 'r':
			cp = '\r';
			break;
		case 't':
			cp = '\t';
			break;
		case 'u': {
			uint32_t lo;
			if (jp_hex4(j, &cp) < 0)
				goto bad;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				goto bad;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (j->p[0] != '\\' || j->p[1] != 'u')
					goto bad;
				j->p += 2;
				if (jp_hex4(j, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
					goto bad;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (cp == 0)
				goto bad; /* the tests read NUL-terminated strings */
			break;
		}
		default:
			goto bad;
		}
		jp_put(&s, &n, &cap, cp);
	}
bad:
	free(s);
	j->bad = true;
	return NULL;
}

static inline bool jp_digits(struct jparse *j)
{
	if (*j->p < '0' || *j->p > '9')
		return false;
	while (*j->p >= '0' && *j->p <= '9')
		j->p++;
	return true;
}

static inline struct jv jp_number(struct jparse *j)
{
	const char *start = j->p;
	struct jv v = { .t = J_NUM };

	if (*j->p == '-')
		j->p++;
	if (*j->p == '0')
		j->p++;
	else if (!jp_digits(j))
		j->bad = true;
	if (!j->bad && *j->p == '.' && (j->p++, !jp_digits(j)))
		j->bad = true;
	if (!j->bad && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (*j->p == '+' || *j->p == '-')
			j->p++;
		if (!jp_digits(j))
			j->bad = true;
	}
	if (!j->bad)
		v.num = strtod(start, NULL);
	return v;
}

static inline void json_free_value(struct jv *v)
{
	for (size_t i = 0; i < v->n; i++) {
		json_free_value(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
}

static inline struct jv jp_container(struct jparse *j, int depth)
{
	bool object = *j->p == '{';
	char close = object ? '}' : ']';
	struct jv v = { .t = object ? J_OBJ : J_ARR };

	j->p++;
	jp_ws(j);
	if (*j->p == close) {
		j->p++;
		return v;
	}
	for (;;) {
		char *key = NULL;

		v.items = realloc(v.items, (v.n + 1) * sizeof(*v.items));
		if (object) {
			v.keys = realloc(v.keys, (v.n + 1) * sizeof(*v.keys));
			key = jp_string(j);
			if (!key)
				break;
			jp_ws(j);
			if (*j->p++ != ':') {
				free(key);
				j->bad = true;
				break;
			}
			v.keys[v.n] = key;
		}
		v.items[v.n] = jp_value(j, depth + 1);
		v.n++;
		if (j->bad)
			break;
		jp_ws(j);
		if (*j->p == close) {
			j->p++;
			return v;
		}
		if (*j->p++ != ',') {
			j->bad = true;
			break;
		}
		jp_ws(j);
	}
	j->bad = true;
	return v;
}

static struct jv jp_value(struct jparse *j, int depth)
{
	struct jv v = { .t = J_NULL };

	jp_ws(j);
	if (depth > 64) {
		j->bad = true;
		return v;
	}
	switch (*j->p) {
	case '{':
	case '[':
		return jp_container(j, depth);
	case '"':
		v.t = J_STR;
		v.str = jp_string(j);
		return v;
	case 't':
	case 'f':
		v.t = J_BOOL;
		v.b = *j->p == 't';
		if (strncmp(j->p, v.b ? "true" : "false", v.b ? 4 : 5) != 0)
			j->bad = true;
		else
			j->p += v.b ? 4 : 5;
		return v;
	case 'n':
		if (strncmp(j->p, "null", 4) != 0)
			j->bad = true;
		else
			j->p += 4;
		return v;
	default:
		return jp_number(j);
	}
}

/* The tree of text, or NULL when text is not exactly one JSON value. Free with json_free. */
static inline struct jv *json_parse(const char *text)
{
	struct jparse j = { .p = text };
	struct jv *v = calloc(1, sizeof(*v));

	*v = jp_value(&j, 0);
	if (!j.bad) {
		jp_ws(&j);
		if (*j.p != '\0')
			j.bad = true;
	}
	if (j.bad) {
		json_free_value(v);
		free(v);
		return NULL;
	}
	return v;
}

static inline void json_free(struct jv *v)
{
	if (!v)
		return;
	json_free_value(v);
	free(v);
}

static inline bool json_valid(const char *text)
{
	struct jv *v = json_parse(text);
	bool ok = v != NULL;

	json_free(v);
	return ok;
}

/* Walk a dotted path: object keys, or array indices in decimal. NULL when absent. */
static inline const struct jv *json_at(const struct jv *v, const char *path)
{
	char part[128];

	while (v && *path) {
		size_t len = strcspn(path, ".");
		const struct jv *next = NULL;

		snprintf(part, sizeof(part), "%.*s", (int)len, path);
		path += len + (path[len] == '.');
		if (v->t == J_OBJ) {
			for (size_t i = 0; i < v->n && !next; i++)
				if (strcmp(v->keys[i], part) == 0)
					next = &v->items[i];
		} else if (v->t == J_ARR) {
			char *end;
			unsigned long k = strtoul(part, &end, 10);
			if (*end == '\0' && k < v->n)
				next = &v->items[k];
		}
		v = next;
	}
	return v;
}

/* Leaves, for assertions: abort the test (via the fail hook) when absent or mistyped. */
#ifndef JSON_CHECK_FAIL
#define JSON_CHECK_FAIL(path) fail_msg("JSON: %s absent or of another type", path)
#endif

static inline const char *json_str(const struct jv *v, const char *path)
{
	const struct jv *x = json_at(v, path);

	if (!x || x->t != J_STR) {
		JSON_CHECK_FAIL(path);
		return "";
	}
	return x->str;
}

static inline double json_num(const struct jv *v, const char *path)
{
	const struct jv *x = json_at(v, path);

	if (!x || x->t != J_NUM) {
		JSON_CHECK_FAIL(path);
		return 0;
	}
	return x->num;
}

static inline bool json_bool(const struct jv *v, const char *path)
{
	const struct jv *x = json_at(v, path);

	if (!x || x->t != J_BOOL) {
		JSON_CHECK_FAIL(path);
		return false;
	}
	return x->b;
}

/* Array or object length; -1 when absent or a scalar. */
static inline long json_len(const struct jv *v, const char *path)
{
	const struct jv *x = json_at(v, path);

	return x && (x->t == J_ARR || x->t == J_OBJ) ? (long)x->n : -1;
}

static inline bool json_is_null(const struct jv *v, const char *path)
{
	const struct jv *x = json_at(v, path);

	return x && x->t == J_NULL;
}

#endif

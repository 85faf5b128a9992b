/* SPDX-License-Identifier: MIT */
/*
 * The JSON writer (conf.h): one document in a bounded memory buffer, commas,
 * keys and nesting checked here, the first error sticky. The only code in
 * vipd that produces JSON.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

void vip_json_init(struct vip_json *w, size_t max, bool pretty)
{
	*w = (struct vip_json){ .max = max, .pretty = pretty };
}

static void fail(struct vip_json *w, int error)
{
	if (!w->error)
		w->error = error;
}

/* Room for n more bytes and a NUL, within max. */
static bool reserve(struct vip_json *w, size_t n)
{
	size_t limit = w->max ? w->max : SIZE_MAX - 1, need, cap;
	char *p;

	if (w->error)
		return false;
	if (n > limit || w->len > limit - n) {
		fail(w, -ENOBUFS);
		return false;
	}
	need = w->len + n + 1;
	if (need <= w->cap)
		return true;
	cap = w->cap ? w->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(w->data, cap);
	if (!p) {
		fail(w, -ENOMEM);
		return false;
	}
	w->data = p;
	w->cap = cap;
	return true;
}

static void put(struct vip_json *w, const char *s, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->data + w->len, s, n);
	w->len += n;
	w->data[w->len] = '\0';
}

static void puts_(struct vip_json *w, const char *s)
{
	put(w, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *p)
{
	size_t n;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0; /* also stops at the NUL */
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and values past U+10FFFF are not text. */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static void put_string(struct vip_json *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[8];

	put(w, "\"", 1);
	while (*p && !w->error) {
		size_t n = utf8_len(p);

		if (n == 0) {
			puts_(w, "\\ufffd");
			p++;
		} else if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p++;
			put(w, esc, 2);
		} else if (*p == '\n' || *p == '\t' || *p == '\r') {
			puts_(w, *p == '\n' ? "\\n" : *p == '\t' ? "\\t" : "\\r");
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p++);
			put(w, esc, 6);
		} else {
			put(w, (const char *)p, n);
			p += n;
		}
	}
	put(w, "\"", 1);
}

/* Before any value: the comma, the indent and the key; checks the key's presence. */
static bool member(struct vip_json *w, const char *key)
{
	uint64_t bit = 1ull << w->depth;
	bool in_object = w->depth > 0 && (w->object & bit);

	if (w->error)
		return false;
	if ((w->depth == 0 && w->done) || (key != NULL) != in_object) {
		fail(w, -EINVAL);
		return false;
	}
	if (w->depth == 0)
		return true;
	if (w->any & bit)
		put(w, ",", 1);
	if (w->pretty) {
		put(w, "\n", 1);
		for (unsigned i = 0; i < w->depth; i++)
			put(w, "  ", 2);
	}
	if (key) {
		put_string(w, key);
		puts_(w, w->pretty ? ": " : ":");
	}
	w->any |= bit;
	return !w->error;
}

static void scalar_done(struct vip_json *w)
{
	if (w->depth == 0)
		w->done = true;
}

static void open_(struct vip_json *w, const char *key, bool object)
{
	uint64_t bit;

	if (!member(w, key))
		return;
	if (w->depth >= VIP_JSON_MAX_DEPTH) {
		fail(w, -EINVAL);
		return;
	}
	put(w, object ? "{" : "[", 1);
	w->depth++;
	bit = 1ull << w->depth;
	w->any &= ~bit;
	if (object)
		w->object |= bit;
	else
		w->object &= ~bit;
}

static void close_(struct vip_json *w, bool object)
{
	uint64_t bit = 1ull << w->depth;

	if (w->error)
		return;
	if (w->depth == 0 || !(w->object & bit) != !object) {
		fail(w, -EINVAL);
		return;
	}
	if (w->pretty && (w->any & bit)) {
		put(w, "\n", 1);
		for (unsigned i = 1; i < w->depth; i++)
			put(w, "  ", 2);
	}
	put(w, object ? "}" : "]", 1);
	w->depth--;
	scalar_done(w);
}

void vip_json_object_begin(struct vip_json *w, const char *key)
{
	open_(w, key, true);
}

void vip_json_object_end(struct vip_json *w)
{
	close_(w, true);
}

void vip_json_array_begin(struct vip_json *w, const char *key)
{
	open_(w, key, false);
}

void vip_json_array_end(struct vip_json *w)
{
	close_(w, false);
}

/* A value already formatted as JSON (numbers and literals). */
static void raw(struct vip_json *w, const char *key, const char *text)
{
	if (!member(w, key))
		return;
	puts_(w, text);
	scalar_done(w);
}

void vip_json_string(struct vip_json *w, const char *key, const char *s)
{
	if (!s) {
		raw(w, key, "null");
		return;
	}
	if (!member(w, key))
		return;
	put_string(w, s);
	scalar_done(w);
}

void vip_json_stringf(struct vip_json *w, const char *key, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int n;

	if (w->error)
		return;
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		fail(w, -ENOMEM);
		return;
	}
	vip_json_string(w, key, s);
	free(s);
}

void vip_json_uint(struct vip_json *w, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	raw(w, key, buf);
}

void vip_json_int(struct vip_json *w, const char *key, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	raw(w, key, buf);
}

void vip_json_double(struct vip_json *w, const char *key, double v)
{
	char buf[32];

	if (!isfinite(v)) {
		fail(w, -EINVAL);
		return;
	}
	snprintf(buf, sizeof(buf), "%.15g", v);
	raw(w, key, buf);
}

void vip_json_bool(struct vip_json *w, const char *key, bool v)
{
	raw(w, key, v ? "true" : "false");
}

void vip_json_null(struct vip_json *w, const char *key)
{
	raw(w, key, "null");
}

int vip_json_finish(struct vip_json *w)
{
	if (!w->error && (w->depth != 0 || !w->done))
		fail(w, -EINVAL);
	put(w, "\n", 1);
	return w->error;
}

void vip_json_reset(struct vip_json *w)
{
	w->len = 0;
	if (w->data)
		w->data[0] = '\0';
	w->error = 0;
	w->done = false;
	w->depth = 0;
	w->any = w->object = 0;
}

void vip_json_free(struct vip_json *w)
{
	free(w->data);
	vip_json_init(w, w->max, w->pretty);
}

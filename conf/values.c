/* SPDX-License-Identifier: MIT */
/* Schema helpers: reporting, sources, and the scalar value parsers. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>

#include "schema-internal.h"

static int report(struct schema *s, enum vip_conf_severity sev, const struct vip_conf_loc *loc,
		  const char *fmt, va_list ap) _printf_(4, 0);

static int report(struct schema *s, enum vip_conf_severity sev, const struct vip_conf_loc *loc,
		  const char *fmt, va_list ap)
{
	_cleanup_free_ char *msg = NULL;

	if (vasprintf(&msg, fmt, ap) < 0)
		return schema_oom(s, -ENOMEM);
	int r = vip_conf_diag_add(s->diag, sev, loc ? loc->file : NULL, loc ? loc->line : 0,
				  loc ? loc->col : 0, "%s", msg);
	if (r < 0)
		schema_oom(s, r);
	if (sev == VIP_CONF_ERROR) {
		s->n_errors++;
		return -EINVAL;
	}
	return 0;
}

int schema_error(struct schema *s, const struct vip_conf_loc *loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = report(s, VIP_CONF_ERROR, loc, fmt, ap);
	va_end(ap);
	return r;
}

int schema_warning(struct schema *s, const struct vip_conf_loc *loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = report(s, VIP_CONF_WARNING, loc, fmt, ap);
	va_end(ap);
	return r;
}

int schema_oom(struct schema *s, int r)
{
	if (r < 0 && !s->fatal)
		s->fatal = r;
	return r;
}

int schema_src_from_loc(struct vip_conf_src *src, const struct vip_conf_loc *loc)
{
	char *f = loc->file ? strdup(loc->file) : NULL;

	if (loc->file && !f)
		return -ENOMEM;
	schema_src_clear(src);
	src->file = f;
	src->line = loc->line;
	return 0;
}

int schema_src_from_text(struct vip_conf_src *src, const char *text)
{
	char *f = strdup(text);

	if (!f)
		return -ENOMEM;
	schema_src_clear(src);
	src->file = f;
	src->line = 0;
	return 0;
}

void schema_src_clear(struct vip_conf_src *src)
{
	/* the config owns every src->file; the field is const for its readers */
	free((char *)src->file);
	src->file = NULL;
	src->line = 0;
}

const char *vip_conf_src_format(const struct vip_conf_src *s, char *buf, size_t len)
{
	if (!s || !s->file) {
		snprintf(buf, len, "default");
	} else if (s->line == 0) {
		snprintf(buf, len, "%s", s->file);
	} else {
		const char *base = strrchr(s->file, '/');
		snprintf(buf, len, "%s:%u", base ? base + 1 : s->file, s->line);
	}
	return buf;
}

const char *schema_scalar(struct schema *s, const struct vip_conf_node *opt)
{
	const struct vip_conf_value *v = opt->value;

	if (v && v->type == VIP_CONF_STRING && v->str)
		return v->str;
	schema_error(s, v ? &v->loc : &opt->loc, "%s must be a single value, not a %s", opt->name,
		     v && v->type == VIP_CONF_DICT ? "dictionary" : "list");
	return NULL;
}

static const char *const bool_words[][2] = {
	{ "false", "true" }, { "off", "on" }, { "no", "yes" }, { "disabled", "enabled" }, { "0", "1" },
};

int schema_parse_bool(const char *text, bool *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(bool_words); i++)
		for (int b = 0; b < 2; b++)
			if (strcasecmp(text, bool_words[i][b]) == 0) {
				*ret = b;
				return 0;
			}
	return -EINVAL;
}

bool schema_looks_bool(const char *text)
{
	bool b;
	return schema_parse_bool(text, &b) == 0;
}

int schema_parse_uint(const char *text, uint32_t min, uint32_t max, uint32_t *ret)
{
	uint64_t v = 0;

	if (!*text)
		return -EINVAL;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return -ERANGE;
	}
	if (v < min || v > max)
		return -ERANGE;
	*ret = (uint32_t)v;
	return 0;
}

int schema_parse_seconds(const char *text, uint32_t max_ms, uint32_t *ret_ms)
{
	uint64_t ms = 0;
	const char *p = text;
	unsigned n_int = 0, n_frac = 0;

	for (; *p >= '0' && *p <= '9'; p++, n_int++) {
		ms = ms * 10 + (uint64_t)(*p - '0');
		if (ms > UINT32_MAX)
			return -ERANGE;
	}
	ms *= 1000;
	if (*p == '.') {
		uint64_t scale = 100;
		for (p++; *p >= '0' && *p <= '9'; p++, n_frac++) {
			if (n_frac >= 3)
				return -EINVAL; /* finer than a millisecond */
			ms += scale * (uint64_t)(*p - '0');
			scale /= 10;
		}
		if (n_frac == 0)
			return -EINVAL;
	}
	if (*p || n_int == 0)
		return -EINVAL;
	if (ms > max_ms)
		return -ERANGE;
	*ret_ms = (uint32_t)ms;
	return 0;
}

const char *schema_ms_text(uint32_t ms, char *buf, size_t len)
{
	unsigned frac = ms % 1000;

	if (frac == 0)
		snprintf(buf, len, "%u", ms / 1000);
	else if (frac % 100 == 0)
		snprintf(buf, len, "%u.%u", ms / 1000, frac / 100);
	else if (frac % 10 == 0)
		snprintf(buf, len, "%u.%02u", ms / 1000, frac / 10);
	else
		snprintf(buf, len, "%u.%03u", ms / 1000, frac);
	return buf;
}

bool schema_has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), m = strlen(suffix);
	return n >= m && strcasecmp(name + n - m, suffix) == 0;
}

void schema_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int schema_cap_names(uint64_t mask, char ***ret)
{
	size_t n = 0;
	char **v = calloc(65, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (unsigned c = 0; c < 64; c++) {
		if (!(mask & (UINT64_C(1) << c)))
			continue;
		char *name = cap_to_name((cap_value_t)c);
		v[n] = name ? strdup(name) : NULL;
		cap_free(name);
		if (!v[n]) {
			schema_strv_free(v);
			return -ENOMEM;
		}
		n++;
	}
	qsort(v, n, sizeof(*v), cmp_str);
	*ret = v;
	return (int)n;
}

/* SPDX-License-Identifier: MIT */
/* Diagnostics: the errors and warnings conf/ returns instead of printing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

static const char *const severity_names[_VIP_CONF_SEVERITY_MAX] = {
	[VIP_CONF_ERROR] = "error",
	[VIP_CONF_WARNING] = "warning",
};

int vip_conf_diag_add(struct vip_conf_diag *d, enum vip_conf_severity sev, const char *file, unsigned line,
		      unsigned col, const char *fmt, ...)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct vip_conf_diagnostic *items = realloc(d->items, cap * sizeof(*items));
		if (!items)
			return -ENOMEM;
		d->items = items;
		d->cap = cap;
	}

	struct vip_conf_diagnostic e = { .severity = sev, .line = line, .col = col };
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&e.message, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	if (file) {
		e.file = strdup(file);
		if (!e.file) {
			free(e.message);
			return -ENOMEM;
		}
	}
	d->items[d->n++] = e;
	if (sev == VIP_CONF_ERROR)
		d->n_errors++;
	return 0;
}

void vip_conf_diag_clear(struct vip_conf_diag *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].file);
		free(d->items[i].message);
	}
	free(d->items);
	*d = (struct vip_conf_diag){ 0 };
}

char *vip_conf_diagnostic_format(const struct vip_conf_diagnostic *e)
{
	const char *sev = severity_names[e->severity < _VIP_CONF_SEVERITY_MAX ? e->severity : 0];
	char *s = NULL;
	int r;

	if (e->file && e->line && e->col)
		r = asprintf(&s, "%s:%u:%u: %s: %s", e->file, e->line, e->col, sev, e->message);
	else if (e->file && e->line)
		r = asprintf(&s, "%s:%u: %s: %s", e->file, e->line, sev, e->message);
	else if (e->file)
		r = asprintf(&s, "%s: %s: %s", e->file, sev, e->message);
	else
		r = asprintf(&s, "%s: %s", sev, e->message);
	return r < 0 ? NULL : s;
}

/* SPDX-License-Identifier: MIT */
/*
 * The DuraVIP list's strings in one block. Built one by one, a list of
 * 10,000 DuraVIPs holds some 50,000 small heap strings (binding, service
 * labels and their array, the origin's file name), each in a malloc chunk of
 * 32 bytes or more: 1.4 MB. Packed, a string takes its length, and what
 * DuraVIPs share is stored once (docs/port.md, "Memory"): a preference or
 * follow target equal to one of the last few placed (a handful of node names
 * serve 10,000 DuraVIPs). A binding name is the tail of its service label
 * "binding:NAME". (Interfaces and file names are indexes: conf.h.)
 *
 * Two passes make the same choices: the first only sums the sizes, the
 * second copies; both compare strings by their text.
 */
#include <stdlib.h>
#include <string.h>

#include "schema-internal.h"

/* Distinct preference and follow strings remembered for sharing. */
#define RECENT 16
#define BINDING_LABEL "binding:"

struct pack {
	bool dry;    /* first pass: count only */
	char **ptrs; /* the services arrays, at the start of the block */
	char *chars; /* the strings, after them */
	size_t n_ptrs, n_chars;
	const char *recent[RECENT]; /* placed shared strings, the latest at recent_at - 1 */
	size_t recent_at;
};

static size_t str_size(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* Where s goes (a dry pass: s itself); NULL stays NULL. */
static char *place(struct pack *p, const char *s)
{
	size_t n = str_size(s);
	char *t = (char *)(uintptr_t)s;

	if (!s)
		return NULL;
	if (!p->dry) {
		t = memcpy(p->chars, s, n);
		p->chars += n;
	}
	p->n_chars += n;
	return t;
}

/* Place s, or reuse an equal string placed lately. */
static char *place_shared(struct pack *p, const char *s)
{
	char *t;

	if (!s)
		return NULL;
	for (size_t k = 0; k < RECENT; k++)
		if (p->recent[k] && strcmp(p->recent[k], s) == 0)
			return (char *)(uintptr_t)p->recent[k];
	t = place(p, s);
	p->recent[p->recent_at++ % RECENT] = t;
	return t;
}

/* The label "binding:NAME" of binding NAME among the services, or NULL. */
static char *binding_label(char *const *services, size_t n, const char *binding)
{
	size_t len = strlen(BINDING_LABEL);

	for (size_t k = 0; binding && k < n; k++)
		if (strncmp(services[k], BINDING_LABEL, len) == 0 && strcmp(services[k] + len, binding) == 0)
			return services[k];
	return NULL;
}

/* Place d's strings; in the second pass, point d at them and free its own. */
static void pack_duravip(struct pack *p, struct vipd_duravip *d)
{
	char **svc = p->ptrs, *label;
	struct vipd_duravip to = *d;

	for (size_t k = 0; k < d->n_services; k++) {
		char *s = place(p, d->services[k]);
		if (!p->dry)
			svc[k] = s;
	}
	if (!p->dry)
		p->ptrs += d->n_services;
	p->n_ptrs += d->n_services;
	to.services = svc;
	label = binding_label(p->dry ? d->services : svc, d->n_services, d->binding);
	to.binding = label ? label + strlen(BINDING_LABEL) : place(p, d->binding);
	to.preference = place_shared(p, d->preference);
	to.follow = place_shared(p, d->follow);
	if (p->dry)
		return;
	schema_duravip_clear(d);
	*d = to;
}

/* One pass over the list; block NULL: count only. */
static void pack_pass(struct vipd_config *c, struct pack *p, char *block, size_t n_ptrs)
{
	*p = (struct pack){ .dry = !block };
	p->ptrs = block ? (char **)(void *)block : NULL;
	p->chars = block ? block + n_ptrs * sizeof(char *) : NULL;
	for (size_t i = 0; i < c->n_duravips; i++)
		pack_duravip(p, &c->duravips[i]);
}

int schema_duravip_file(struct vipd_config *cfg, const char *file, uint16_t *ret)
{
	char **nf;

	*ret = 0;
	if (!file)
		return 0;
	for (size_t i = cfg->n_duravip_files; i-- > 0;) /* the latest first: DuraVIPs come file by file */
		if (strcmp(cfg->duravip_files[i], file) == 0) {
			*ret = (uint16_t)(i + 1);
			return 0;
		}
	if (cfg->n_duravip_files >= UINT16_MAX)
		return 0; /* not said: more than 65,535 configuration files */
	nf = realloc(cfg->duravip_files, (cfg->n_duravip_files + 1) * sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	cfg->duravip_files = nf;
	if (!(nf[cfg->n_duravip_files] = strdup(file)))
		return -ENOMEM;
	*ret = (uint16_t)++cfg->n_duravip_files;
	return 0;
}

int schema_duravips_pack(struct vipd_config *c)
{
	struct pack p;
	size_t n_ptrs, size;
	char *block;

	pack_pass(c, &p, NULL, 0);
	n_ptrs = p.n_ptrs;
	size = n_ptrs * sizeof(char *) + p.n_chars;
	if (size == 0)
		return 0;
	block = malloc(size);
	if (!block)
		return -ENOMEM;
	pack_pass(c, &p, block, n_ptrs);
	c->duravip_strings = block;
	c->duravip_strings_size = size;
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * The DuraVIP list's strings in one block. Built one by one, a list of
 * 10,000 DuraVIPs holds some 50,000 small heap strings (binding, service
 * labels and their array, the origin's file name), each in a malloc chunk of
 * 32 bytes or more: 1.4 MB. Packed, a string takes its length and the file
 * name is stored once per file (docs/port.md, "Memory").
 */
#include <stdlib.h>
#include <string.h>

#include "schema-internal.h"

struct pack {
	char **ptrs; /* the services arrays, at the start of the block */
	char *chars; /* the strings, after them */
	/* file names packed so far: the config's copies and their packed ones */
	const char **file_from;
	const char **file_to;
	size_t n_files;
};

static size_t str_size(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* Index of file among the distinct names seen so far, or n when new. */
static size_t file_index(const char **seen, size_t n, const char *file)
{
	for (size_t i = n; i-- > 0;) /* the latest first: DuraVIPs come file by file */
		if (strcmp(seen[i], file) == 0)
			return i;
	return n;
}

/* A copy of s in the block (NULL stays NULL); frees s. */
static char *move_str(struct pack *p, char *s)
{
	size_t n = str_size(s);

	if (!s)
		return NULL;
	char *t = memcpy(p->chars, s, n);
	p->chars += n;
	free(s);
	return t;
}

static void move_duravip(struct pack *p, struct vipd_duravip *d)
{
	char **svc = p->ptrs;

	for (size_t k = 0; k < d->n_services; k++)
		svc[k] = move_str(p, d->services[k]);
	free(d->services);
	d->services = svc;
	p->ptrs += d->n_services;
	d->interface = move_str(p, d->interface);
	d->binding = move_str(p, d->binding);
	d->preference = move_str(p, d->preference);
	d->follow = move_str(p, d->follow);
	if (!d->src.file)
		return;
	size_t i = file_index(p->file_from, p->n_files, d->src.file);
	if (i == p->n_files) {
		p->file_from[i] = d->src.file;
		p->file_to[i] = p->chars;
		p->chars = stpcpy(p->chars, d->src.file) + 1;
		p->n_files++;
	}
	/* the packed name outlives the copy: the copies are freed at the end */
	if (p->file_from[i] != d->src.file)
		free((char *)d->src.file);
	d->src.file = p->file_to[i];
}

int schema_duravips_pack(struct vipd_config *c)
{
	size_t n_ptrs = 0, n_chars = 0, n_files = 0;
	_cleanup_free_ const char **from = calloc(c->n_duravips + 1, sizeof(*from));
	_cleanup_free_ const char **to = calloc(c->n_duravips + 1, sizeof(*to));

	if (!from || !to)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_duravips; i++) {
		const struct vipd_duravip *d = &c->duravips[i];
		n_ptrs += d->n_services;
		for (size_t k = 0; k < d->n_services; k++)
			n_chars += str_size(d->services[k]);
		n_chars += str_size(d->interface) + str_size(d->binding) + str_size(d->preference) +
			   str_size(d->follow);
		if (d->src.file && file_index(from, n_files, d->src.file) == n_files) {
			from[n_files++] = d->src.file;
			n_chars += str_size(d->src.file);
		}
	}
	if (n_ptrs + n_chars == 0)
		return 0;
	size_t size = n_ptrs * sizeof(char *) + n_chars;
	char *block = malloc(size);
	if (!block)
		return -ENOMEM;
	struct pack p = {
		.ptrs = (char **)(void *)block,
		.chars = block + n_ptrs * sizeof(char *),
		.file_from = from,
		.file_to = to,
	};
	for (size_t i = 0; i < c->n_duravips; i++)
		move_duravip(&p, &c->duravips[i]);
	for (size_t i = 0; i < p.n_files; i++)
		free((char *)p.file_from[i]);
	c->duravip_strings = block;
	c->duravip_strings_size = size;
	return 0;
}

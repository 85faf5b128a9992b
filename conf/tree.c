/* SPDX-License-Identifier: MIT */
/*
 * The tree of a parsed configuration: an arena owns every node, value and
 * string, so freeing a tree (or abandoning a half-built one) is one walk over
 * a few big chunks.
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf-internal.h"

const struct vip_conf_limits vip_conf_default_limits = {
	.max_file_size = 16u << 20,
	.max_total_size = 64u << 20,
	.max_include_depth = 16,
	.max_nesting = 64,
	.max_files = 1024,
};

#define ARENA_ALIGN alignof(max_align_t)
#define ARENA_MIN_CHUNK (64u << 10)
#define ARENA_MAX_CHUNK (4u << 20)

struct arena_chunk {
	struct arena_chunk *next;
	size_t size;
	size_t used;
	alignas(max_align_t) unsigned char data[];
};

void *arena_alloc_raw(struct arena *a, size_t n)
{
	n = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (n == 0)
		n = ARENA_ALIGN;

	struct arena_chunk *c = a->head;
	if (!c || c->size - c->used < n) {
		/* chunks grow with the tree, so a big file needs few mallocs */
		size_t size = c ? c->size * 2 : ARENA_MIN_CHUNK;
		if (size > ARENA_MAX_CHUNK)
			size = ARENA_MAX_CHUNK;
		if (size < n)
			size = n;
		if (size > SIZE_MAX - sizeof(*c))
			return NULL;
		struct arena_chunk *nc = malloc(sizeof(*nc) + size);
		if (!nc)
			return NULL;
		nc->size = size;
		nc->used = 0;
		nc->next = c;
		a->head = c = nc;
	}
	void *p = c->data + c->used;
	c->used += n;
	return p;
}

void *arena_alloc(struct arena *a, size_t n)
{
	void *p = arena_alloc_raw(a, n);
	if (p)
		memset(p, 0, n);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	if (n == SIZE_MAX)
		return NULL;
	char *d = arena_alloc_raw(a, n + 1);
	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

void arena_free(struct arena *a)
{
	struct arena_chunk *c = a->head;
	while (c) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
}

int arena_append(struct arena *a, void *items, size_t *n, size_t sz, const void *p)
{
	unsigned char **arr = items;
	size_t cur = *n;

	/* full when cur is 0, or cur >= 4 and a power of two */
	if (cur == 0 || (cur >= 4 && (cur & (cur - 1)) == 0)) {
		size_t cap = cur ? cur * 2 : 4;
		if (cap > SIZE_MAX / sz)
			return -ENOMEM;
		unsigned char *na = arena_alloc_raw(a, cap * sz);
		if (!na)
			return -ENOMEM;
		if (cur)
			memcpy(na, *arr, cur * sz);
		*arr = na;
	}
	memcpy(*arr + cur * sz, p, sz);
	*n = cur + 1;
	return 0;
}

int tree_new(struct vip_conf_tree **ret)
{
	struct vip_conf_tree *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->root = arena_alloc(&t->arena, sizeof(*t->root));
	if (t->root)
		t->root->name = arena_strndup(&t->arena, "", 0);
	if (!t->root || !t->root->name) {
		vip_conf_tree_free(t);
		return -ENOMEM;
	}
	t->root->type = VIP_CONF_SCOPE;
	*ret = t;
	return 0;
}

const char *tree_intern_file(struct vip_conf_tree *t, const char *path)
{
	for (size_t i = 0; i < t->n_files; i++)
		if (strcmp(t->files[i], path) == 0)
			return t->files[i];

	if (t->n_files == t->cap_files) {
		size_t cap = t->cap_files ? t->cap_files * 2 : 8;
		const char **nf = realloc(t->files, cap * sizeof(*nf));
		if (!nf)
			return NULL;
		t->files = nf;
		t->cap_files = cap;
	}
	char *copy = arena_strndup(&t->arena, path, strlen(path));
	if (!copy)
		return NULL;
	t->files[t->n_files++] = copy;
	return copy;
}

int tree_add_child(struct vip_conf_tree *t, struct vip_conf_node *scope, struct vip_conf_node *child)
{
	child->parent = scope;
	return arena_append(&t->arena, &scope->children, &scope->n_children, sizeof(child), &child);
}

void vip_conf_tree_free(struct vip_conf_tree *t)
{
	if (!t)
		return;
	arena_free(&t->arena);
	free(t->files);
	free(t);
}

const struct vip_conf_node *vip_conf_tree_root(const struct vip_conf_tree *t)
{
	return t ? t->root : NULL;
}

size_t vip_conf_tree_files(const struct vip_conf_tree *t, const char *const **ret_files)
{
	if (ret_files)
		*ret_files = t->files;
	return t->n_files;
}

const struct vip_conf_node *vip_conf_find(const struct vip_conf_node *scope, const char *name,
					  enum vip_conf_node_type type)
{
	if (!scope)
		return NULL;
	for (size_t i = 0; i < scope->n_children; i++) {
		const struct vip_conf_node *c = scope->children[i];
		if (c->type == type && strcasecmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

const struct vip_conf_node *vip_conf_find_option(const struct vip_conf_node *scope, const char *name)
{
	if (!scope)
		return NULL;
	for (size_t i = scope->n_children; i > 0; i--) {
		const struct vip_conf_node *c = scope->children[i - 1];
		if (c->type == VIP_CONF_OPTION && strcasecmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the configuration language: any bytes go through the lexer and parser
 * (no includes: there is no base folder), and the tree and diagnostics are
 * walked and freed. A crash, hang or leak is a bug; errors are expected.
 */
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t count_value(const struct vip_conf_value *v, unsigned depth)
{
	size_t n = 1;

	if (depth > 1000)
		__builtin_trap(); /* the nesting limit was not enforced */
	for (size_t i = 0; i < v->n_items; i++)
		n += count_value(v->items[i], depth + 1);
	for (size_t i = 0; i < v->n_pairs; i++)
		n += strlen(v->pairs[i].key) + count_value(v->pairs[i].value, depth + 1);
	if (v->type == VIP_CONF_STRING)
		n += strlen(v->str);
	return n;
}

static size_t count_node(const struct vip_conf_node *node, unsigned depth)
{
	size_t n = 1 + strlen(node->name) + (node->instance ? strlen(node->instance) : 0);

	if (depth > 1000)
		__builtin_trap();
	if (node->value)
		n += count_value(node->value, depth + 1);
	for (size_t i = 0; i < node->n_children; i++) {
		if (node->children[i]->parent != node || !node->children[i]->loc.file)
			__builtin_trap();
		n += count_node(node->children[i], depth + 1);
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vip_conf_diag diag = { 0 };
	struct vip_conf_tree *tree = NULL;
	int r;

	r = vip_conf_parse_string("fuzz.conf", (const char *)data, size, NULL, NULL, &tree, &diag);
	if (r == 0) {
		const struct vip_conf_node *root = vip_conf_tree_root(tree);
		(void)count_node(root, 0);
		(void)vip_conf_find(root, "Security", VIP_CONF_SCOPE);
		(void)vip_conf_find_option(root, "include");
	} else if (r == -EINVAL && diag.n_errors == 0) {
		__builtin_trap(); /* a failure must say why */
	}
	for (size_t i = 0; i < diag.n; i++)
		free(vip_conf_diagnostic_format(&diag.items[i]));
	vip_conf_tree_free(tree);
	vip_conf_diag_clear(&diag);
	return 0;
}

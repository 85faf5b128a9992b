/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the schema: any bytes are parsed (no includes), turned into a
 * struct vipd_config, printed both ways and compared with themselves. A
 * crash, hang, leak or a config that differs from itself is a bug; errors
 * are expected.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vipd_config *load(const uint8_t *data, size_t size, struct vip_conf_diag *d)
{
	static const struct vip_config_opts opts = { .hostname = "fuzz.example.com" };
	struct vip_conf_tree *tree = NULL;
	struct vipd_config *cfg = NULL;

	if (vip_conf_parse_string("fuzz.conf", (const char *)data, size, NULL, NULL, &tree, d) < 0)
		return NULL;
	if (vip_config_from_tree(tree, &opts, &cfg, d) < 0)
		cfg = NULL;
	vip_conf_tree_free(tree);
	return cfg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vip_conf_diag d1 = { 0 }, d2 = { 0 };
	struct vipd_config *a = load(data, size, &d1);

	if (a) {
		struct vipd_config *b = load(data, size, &d2);
		if (!b || vip_config_diff(a, b) != 0)
			__builtin_trap(); /* loading is not deterministic */
		for (size_t i = 0; i < a->n_duravips; i++)
			if (vip_config_find_duravip(a, &a->duravips[i].addr) != &a->duravips[i])
				__builtin_trap(); /* not sorted, or duplicates */
		FILE *f = fopen("/dev/null", "w");
		if (f) {
			if (vip_config_print(a, &d1, f) < 0 || vip_config_print_json(a, &d1, f) < 0)
				__builtin_trap();
			fclose(f);
		}
		vip_config_free(b);
	}
	vip_config_free(a);
	vip_conf_diag_clear(&d1);
	vip_conf_diag_clear(&d2);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * conf/ schema layer, private to the folder: the context every extractor
 * shares while it turns a tree into a struct vipd_config, and the small value
 * parsers they have in common.
 */
#ifndef VIP_SCHEMA_INTERNAL_H
#define VIP_SCHEMA_INTERNAL_H

#include "conf.h"

/* One load in progress. Extractors report through it and keep going. */
struct schema {
	const struct vip_config_opts *opts;
	struct vip_conf_diag *diag;
	struct vipd_config *cfg;
	unsigned n_errors; /* errors this load reported */
	int fatal;         /* -ENOMEM or another non-recoverable -errno, else 0 */
	/* where the effective capabilities and user were written (into the tree) */
	const struct vip_conf_node *caps_opt, *user_opt;
};

/*
 * Report an error (or warning) at loc (may be NULL: no position). Errors
 * return -EINVAL so a caller can `return schema_error(...)`; warnings return 0.
 * A failed allocation is remembered in s->fatal.
 */
int schema_error(struct schema *s, const struct vip_conf_loc *loc, const char *fmt, ...) _printf_(3, 4);
int schema_warning(struct schema *s, const struct vip_conf_loc *loc, const char *fmt, ...) _printf_(3, 4);

/* Remember allocation failure; returns r. */
int schema_oom(struct schema *s, int r);

/* Set src from a location (copies the file name). 0 or -ENOMEM. */
int schema_src_from_loc(struct vip_conf_src *src, const struct vip_conf_loc *loc);
/* Set src to a non-file origin such as "--nodename" (line 0). 0 or -ENOMEM. */
int schema_src_from_text(struct vip_conf_src *src, const char *text);
void schema_src_clear(struct vip_conf_src *src);

/*
 * The option's scalar text, or NULL after reporting "<name> must be a single
 * value" when the value is a list or dictionary.
 */
const char *schema_scalar(struct schema *s, const struct vip_conf_node *opt);

/* Value parsers: 0 or -EINVAL; never report. */
int schema_parse_bool(const char *text, bool *ret);
bool schema_looks_bool(const char *text);
int schema_parse_uint(const char *text, uint32_t min, uint32_t max, uint32_t *ret);
/* Seconds with up to three decimals ("1.1") into milliseconds. */
int schema_parse_seconds(const char *text, uint32_t max_ms, uint32_t *ret_ms);

/* "198.51.100.1:25", "[2001:db8::1]:25": 1 for a wildcard host ("*", "", 0.0.0.0, ::), 0, or -EINVAL. */
int schema_parse_addr_port(const char *text, struct vip_addr *ret_addr, uint32_t *ret_port);

/* Milliseconds as seconds the way a person writes them: 1100 -> "1.1". Returns buf. */
const char *schema_ms_text(uint32_t ms, char *buf, size_t len);

/* True when name ends in suffix, ignoring case. */
bool schema_has_suffix(const char *name, const char *suffix);

/* Extractors, called in this order by vip_config_from_tree(). */
void schema_security(struct schema *s, const struct vip_conf_node *root);
void schema_control(struct schema *s, const struct vip_conf_node *root);
void schema_control_free(struct vipd_control_conf *c);
/*
 * A user (or group) id from text: a number as is; a name the running
 * configuration (opts->running) already resolved keeps its id; else the
 * name service. 0 or -ENOENT.
 */
int schema_resolve_id(struct schema *s, const char *text, bool user, uint32_t *ret);
void schema_cluster(struct schema *s, const struct vip_conf_node *root);
void schema_duravips(struct schema *s, const struct vip_conf_node *root);
/* Health_Check and Notify scopes (health.c). */
void schema_health(struct schema *s, const struct vip_conf_node *root);
void schema_health_free(struct vipd_config *c);
/* Cross checks that need all three (capabilities versus DuraVIPs). */
void schema_security_check_duravips(struct schema *s);

/* Free the members of one DuraVIP (not the struct itself) that is not packed. */
void schema_duravip_clear(struct vipd_duravip *d);
/*
 * Move every DuraVIP's strings into one block (cfg->duravip_strings), one
 * copy per file name (duravip-pack.c). 0, or -ENOMEM with nothing changed.
 */
int schema_duravips_pack(struct vipd_config *c);
/*
 * A DuraVIP's origin file as its src_file: 1 + the index of file in
 * cfg->duravip_files, added when new (0 for NULL, or past 65,535 files).
 * 0 or -ENOMEM.
 */
int schema_duravip_file(struct vipd_config *cfg, const char *file, uint16_t *ret);

/*
 * The capabilities in mask as names ("cap_net_admin"), sorted by name, in a
 * NULL-terminated array. Returns the count or -ENOMEM; free with schema_strv_free.
 */
int schema_cap_names(uint64_t mask, char ***ret);
void schema_strv_free(char **v);

/* One effective cluster setting, as the printers show it. */
enum schema_setting_kind { SETTING_STRING, SETTING_NUMBER, SETTING_BOOL };
struct schema_setting {
	const char *name;
	enum schema_setting_kind kind;
	const char *text; /* the value as text (numbers and booleans: in num) */
	char num[24];
	const struct vip_conf_src *src;
};
/* Fill out[] (room for SCHEMA_N_SETTINGS) in display order; returns the count. */
#define SCHEMA_N_SETTINGS 25
size_t schema_cluster_settings(const struct vipd_cluster *cl, struct schema_setting *out);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * conf/: the Momentum configuration language and vipd's view of it.
 *
 * A pure library: it reads files and returns data. It never logs, never
 * exits; every problem is returned as a diagnostic with file, line and
 * column. Two layers:
 *
 *   1. the language: vip_conf_parse_file() -> struct vip_conf_tree, a tree of
 *      scopes and options that keeps everything, known or not;
 *   2. the schema: vip_config_load() -> struct vipd_config, the immutable,
 *      validated settings vipd acts on (Security, cluster, DuraVIPs).
 *
 * Addresses (struct vip_addr), the announcement modes and util.h come from
 * conf/base (base.h), the small library below this one.
 */
#ifndef VIP_CONF_H
#define VIP_CONF_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "base.h"

/* ------------------------------------------------------------------ */
/* Diagnostics                                                        */
/* ------------------------------------------------------------------ */

enum vip_conf_severity {
	VIP_CONF_ERROR,
	VIP_CONF_WARNING,
	_VIP_CONF_SEVERITY_MAX,
};

struct vip_conf_diagnostic {
	enum vip_conf_severity severity;
	char *file;    /* path as it was opened, or NULL (no file) */
	unsigned line; /* 1-based, 0 when there is no position */
	unsigned col;  /* 1-based, 0 when there is no position */
	char *message; /* no trailing newline */
};

/* A growing list of diagnostics; zero-initialise, free with vip_conf_diag_clear. */
struct vip_conf_diag {
	struct vip_conf_diagnostic *items;
	size_t n;
	size_t cap;
	size_t n_errors;
};

/* Append one; file may be NULL. Returns 0 or -ENOMEM. */
int vip_conf_diag_add(struct vip_conf_diag *d, enum vip_conf_severity sev, const char *file, unsigned line,
		      unsigned col, const char *fmt, ...) _printf_(6, 7);
void vip_conf_diag_clear(struct vip_conf_diag *d);
/* Format one as "file:line:col: error: message" (or without position parts). Caller frees. */
char *vip_conf_diagnostic_format(const struct vip_conf_diagnostic *e);

/* ------------------------------------------------------------------ */
/* The language: a tree                                               */
/* ------------------------------------------------------------------ */

struct vip_conf_loc {
	const char *file; /* owned by the tree; the path as opened */
	unsigned line;
	unsigned col;
};

enum vip_conf_value_type {
	VIP_CONF_STRING, /* bare or quoted scalar */
	VIP_CONF_LIST,   /* ( a b "c" ) */
	VIP_CONF_DICT,   /* [ k = v k2 = ( x ) ] */
	_VIP_CONF_VALUE_TYPE_MAX,
};

struct vip_conf_pair;

struct vip_conf_value {
	enum vip_conf_value_type type;
	struct vip_conf_loc loc;
	bool quoted;                   /* STRING: was it written in quotes */
	char *str;                     /* STRING: unescaped text */
	struct vip_conf_value **items; /* LIST */
	size_t n_items;
	struct vip_conf_pair *pairs; /* DICT, in written order */
	size_t n_pairs;
};

struct vip_conf_pair {
	char *key;
	struct vip_conf_loc loc;
	struct vip_conf_value *value;
};

enum vip_conf_node_type {
	VIP_CONF_OPTION, /* name = value */
	VIP_CONF_SCOPE,  /* Name [instance] { ... } */
	_VIP_CONF_NODE_TYPE_MAX,
};

struct vip_conf_node {
	enum vip_conf_node_type type;
	char *name;                      /* as written; compare with strcasecmp */
	char *instance;                  /* SCOPE: instance name (case-sensitive) or NULL */
	struct vip_conf_loc loc;         /* of the name token */
	struct vip_conf_value *value;    /* OPTION */
	struct vip_conf_node **children; /* SCOPE: in reading order, includes expanded in place */
	size_t n_children;
	struct vip_conf_node *parent; /* NULL for the root */
};

struct vip_conf_tree;

/* Bounds that keep a hostile or broken input from hanging or exhausting us. */
struct vip_conf_limits {
	size_t max_file_size;       /* bytes per file */
	size_t max_total_size;      /* bytes over all files */
	unsigned max_include_depth; /* nested includes */
	unsigned max_nesting;       /* scopes, lists and dicts inside each other */
	size_t max_files;           /* files read in total */
};

/* The defaults: 16 MiB per file, 64 MiB total, depth 16, nesting 64, 1024 files. */
extern const struct vip_conf_limits vip_conf_default_limits;

/*
 * Parse a file and every file it includes into a tree.
 * limits may be NULL (defaults). On success returns 0 and *ret owns the tree
 * (diagnostics may still hold warnings). On failure returns -EINVAL (syntax or
 * include errors: see diag), or another -errno, and leaves *ret untouched.
 */
int vip_conf_parse_file(const char *path, const struct vip_conf_limits *limits, struct vip_conf_tree **ret,
			struct vip_conf_diag *diag);
/*
 * Same, for a process inside a chroot: root (absolute, or NULL) is the chroot
 * folder as seen from outside. path and every include keep their outside
 * names (in the tree and in diagnostics) and are opened without the root
 * prefix; a file outside root is an error.
 */
int vip_conf_parse_file_root(const char *path, const char *root, const struct vip_conf_limits *limits,
			     struct vip_conf_tree **ret, struct vip_conf_diag *diag);

/*
 * Parse text held in memory; name is used in diagnostics and base_dir for
 * relative includes (NULL: includes are refused). Same contract as above.
 */
int vip_conf_parse_string(const char *name, const char *text, size_t len, const char *base_dir,
			  const struct vip_conf_limits *limits, struct vip_conf_tree **ret,
			  struct vip_conf_diag *diag);

/* Accepts NULL. */
void vip_conf_tree_free(struct vip_conf_tree *t);

/* The root scope (type SCOPE, name "", no parent). Never NULL for a parsed tree. */
const struct vip_conf_node *vip_conf_tree_root(const struct vip_conf_tree *t);

/* Every file read, in the order first read. */
size_t vip_conf_tree_files(const struct vip_conf_tree *t, const char *const **ret_files);

/* First child of scope whose name matches (case-insensitive) and type, or NULL. */
const struct vip_conf_node *vip_conf_find(const struct vip_conf_node *scope, const char *name,
					  enum vip_conf_node_type type);
/* Last option of that name in scope (the later setting wins), or NULL. */
const struct vip_conf_node *vip_conf_find_option(const struct vip_conf_node *scope, const char *name);

/* ------------------------------------------------------------------ */
/* The schema: vipd's view                                            */
/* ------------------------------------------------------------------ */

/*
 * Where an effective setting came from: file (as opened) and line, or default.
 * line 0: file names a non-file origin ("--nodename", "EC_NODE_NAME", "hostname").
 */
struct vip_conf_src {
	const char *file; /* NULL: default; owned by the config */
	unsigned line;
};

/* "base:line", "default", or the origin text when line is 0, into buf. Returns buf. */
const char *vip_conf_src_format(const struct vip_conf_src *s, char *buf, size_t len);

struct vipd_security {
	char *user; /* as written or default "ecuser" */
	uid_t uid;
	char *group;
	gid_t gid;
	char *capabilities;     /* text as written, NULL when none */
	uint64_t cap_permitted; /* bit n = capability n, from cap_from_text */
	uint64_t cap_effective;
	char *privileges;           /* Solaris privilege text, NULL when none */
	char *chroot;               /* NULL when none */
	char **supplemental_groups; /* names as written */
	gid_t *supplemental_gids;
	size_t n_supplemental;
	struct vip_conf_src src_user, src_group, src_capabilities, src_privileges, src_chroot,
		src_supplemental_groups;
};

struct vipd_topology {
	struct vip_addr network;
	unsigned network_len;
	char *interface;
	unsigned cidrmask;
	struct vip_conf_src src;
};

enum vip_quorum_policy {
	VIP_QUORUM_RELEASE,
	VIP_QUORUM_KEEP,
	_VIP_QUORUM_POLICY_MAX,
};
const char *vip_quorum_policy_to_string(enum vip_quorum_policy p);
int vip_quorum_policy_from_string(const char *s); /* value or -EINVAL */

/*
 * duravip_takeover_guard: what keeps a new owner from plumbing an address a
 * lost node may still have (docs/fault-tolerance.md, "The takeover guard").
 * delay (the default): everything waits the takeover delay, and the probes go
 * out in its last 10 ms. probe: such an address is probed at once and taken
 * when nobody claims it; the delay holds back only what cannot be probed.
 */
enum vip_takeover_guard {
	VIP_TAKEOVER_DELAY,
	VIP_TAKEOVER_PROBE,
	_VIP_TAKEOVER_GUARD_MAX,
};
const char *vip_takeover_guard_to_string(enum vip_takeover_guard g);
int vip_takeover_guard_from_string(const char *s); /* value or -EINVAL */

/* A timing option not set in the file: derived from corosync's token (vip_config_resolve_timing). */
#define VIP_CONF_AUTO UINT32_MAX
/* corosync's own default totem token timeout, used when corosync.conf cannot be read. */
#define VIP_CONF_COROSYNC_TOKEN_DEFAULT_MS 3000u

struct vipd_cluster {
	bool enabled; /* a cluster scope exists */
	char *nodename;
	char *cluster_group;
	/*
	 * authkey: the cluster key file (absolute path) that authenticates the
	 * cluster's messages (docs/protocol.md, "Authentication"); NULL: none,
	 * any process corosync lets into the group is trusted. Read as root at
	 * start-up; a change needs a restart (VIP_CHANGE_IDENTITY).
	 */
	char *authkey;
	uint32_t view_mature_time_ms;      /* default 5 s */
	uint32_t view_balance_interval_ms; /* default 10 s */
	uint32_t duravip_balance_set_size; /* default 1 */
	uint32_t if_check_interval_ms;     /* default 30 s */
	uint32_t if_down_limit;            /* default 4 */
	bool arp_all_hosts;                /* default true */
	uint32_t arp_cache_size;           /* neighbour cache entries per node and interface, default 4096 */
	uint32_t arp_cache_max_age_ms;     /* a neighbour not seen for this long is dropped, default 600 s */
	/*
	 * Standby: start as no candidate (docs/protocol.md, "Candidacy"): the
	 * node holds no DuraVIP until `vipctl cluster node active`. Default
	 * false. A reload that changes it applies it live (VIP_CHANGE_STANDBY);
	 * an unchanged value leaves what the console set.
	 */
	bool standby;
	enum vip_quorum_policy quorum_policy; /* duravip_quorum_policy, default release */
	enum vip_arp_mode arp_mode;           /* default request */
	uint32_t arp_repeat;                  /* default 5 */
	uint32_t arp_repeat_interval_ms;      /* default 1100, never below 1000 */
	uint32_t arp_refresh_interval_ms;     /* default 0 = off */
	uint32_t arp_pace;                    /* packets per second per interface, 0 = unlimited */
	/*
	 * Fault timing (docs/fault-tolerance.md). Not set in the file: derived
	 * from corosync's token timeout when the configuration is loaded
	 * (vip_config_resolve_timing), the origin then reads "auto: ...".
	 */
	uint32_t corosync_token_ms; /* corosync_token: AUTO = read from corosync.conf, else 3 s */
	uint32_t
		duravip_round_timeout_ms; /* a STATE round closes without silent members; AUTO = 2 x token, >= 200 ms */
	uint32_t duravip_liveness_timeout_ms;   /* corosync must answer within; AUTO = token, >= 100 ms */
	uint32_t duravip_takeover_delay_ms;     /* wait before taking addresses of a node lost to NODEDOWN
					       * or after regained quorum; AUTO = 2 x token */
	enum vip_takeover_guard takeover_guard; /* duravip_takeover_guard, default delay */
	struct vipd_topology *topology;
	size_t n_topology;
	struct vip_conf_src src_nodename, src_cluster_group, src_view_mature_time, src_view_balance_interval,
		src_duravip_balance_set_size, src_if_check_interval, src_if_down_limit, src_arp_all_hosts,
		src_arp_cache_size, src_arp_cache_max_age, src_quorum_policy, src_arp_mode, src_arp_repeat,
		src_arp_repeat_interval, src_arp_refresh_interval, src_arp_pace, src_duravip_takeover_delay,
		src_corosync_token, src_duravip_round_timeout, src_duravip_liveness_timeout, src_authkey,
		src_standby, src_takeover_guard;
};

#define VIP_DURAVIP_MAX_SERVICES 65535u
/*
 * One per DuraVIP (10,000 and more), so kept small: 64 bytes. What many
 * share is an index: the interface is its Topology rule's
 * (vip_config_duravip_interface), the origin's file name is in the
 * configuration's duravip_files (vip_config_duravip_src). In a loaded
 * configuration the strings are in its duravip_strings block, and equal ones
 * are often one copy (conf/duravip-pack.c): compare them by text.
 */
struct vipd_duravip {
	struct vip_addr addr;
	uint8_t prefix;      /* Topology cidrmask, else 32 / 128 */
	uint16_t n_services; /* at most VIP_DURAVIP_MAX_SERVICES */
	char *binding;       /* binding name when a Binding uses it, else NULL */
	char **services;     /* "binding:NAME", "ESMTP_Listener:ADDR:PORT", sorted */
	char *preference;    /* node name or NULL */
	char *follow;        /* what a following listener follows (as written) or NULL */
	uint32_t src_line;   /* first place it was declared: line, */
	uint16_t src_file;   /* and 1 + its file's index in duravip_files (0: none) */
	uint16_t topology;   /* 1 + the index of its Topology rule, 0: placed at run time by vipd/topology */
};

/* Control { admin_group }: who may change state through the control socket (besides root). */
struct vipd_control_conf {
	char *admin_group; /* as written; NULL: none, root alone */
	gid_t admin_gid;
	struct vip_conf_src src_admin_group;
};

/*
 * Health_Check "name" { connect | pidfile | command, expect, interval,
 * timeout, fall, rise, initial } (vipd/health.h): the node is healthy while
 * every check is; an unhealthy node is no candidate for DuraVIPs
 * (docs/protocol.md, "Candidacy").
 */
enum vipd_check_kind {
	VIPD_CHECK_CONNECT, /* a TCP connect (and optionally a banner prefix) succeeds */
	VIPD_CHECK_PIDFILE, /* the process whose pid the file holds is alive */
	VIPD_CHECK_COMMAND, /* the command exits 0 */
	_VIPD_CHECK_KIND_MAX,
};
/* "connect", "pidfile", "command". */
const char *vipd_check_kind_to_string(enum vipd_check_kind k);

struct vipd_health_check {
	char *name; /* the instance name, unique */
	enum vipd_check_kind kind;
	char *target;            /* connect: "addr:port" as written; pidfile: the path; command: the line */
	struct vip_addr addr;    /* connect */
	uint16_t port;           /* connect */
	char *expect;            /* connect: what the server's first bytes must start with; NULL: none */
	uint32_t interval_ms;    /* between the starts of two runs; >= 100, default 1 s */
	uint32_t timeout_ms;     /* a run longer than this fails; default 2 s */
	uint32_t fall;           /* consecutive failures that make it unhealthy; default 3 */
	uint32_t rise;           /* consecutive successes that make it healthy again; default 2 */
	bool initial_healthy;    /* initial = healthy: healthy before its first run; default unhealthy */
	struct vip_conf_src src; /* the scope's name */
};

/* Notify { command timeout }: run on DuraVIP and node changes (vipd/hooks.h). */
struct vipd_notify_conf {
	char *command;       /* NULL: no hook */
	uint32_t timeout_ms; /* default 5 s */
	struct vip_conf_src src;
};

struct vipd_config {
	char *path; /* main file as opened */
	struct vipd_security security;
	struct vipd_control_conf control;
	struct vipd_cluster cluster;
	struct vipd_duravip *duravips; /* sorted by address */
	size_t n_duravips;
	/*
	 * A loaded configuration keeps every DuraVIP's strings (and services
	 * arrays) in this one block of duravip_strings_size bytes; NULL: each
	 * is its own allocation.
	 */
	char *duravip_strings;
	size_t duravip_strings_size;
	char **duravip_files; /* the DuraVIPs' origin file names, each once (src_file - 1) */
	size_t n_duravip_files;
	struct vipd_health_check *checks; /* in reading order */
	size_t n_checks;
	struct vipd_notify_conf notify;
};

/* Knobs for load: overrides and the environment, injectable for tests. */
struct vip_config_opts {
	const char *nodename;      /* --nodename, or NULL */
	const char *env_node_name; /* value of EC_NODE_NAME, or NULL (load reads getenv when opts is NULL) */
	const char *hostname;      /* host name, or NULL to ask gethostname() */
	const struct vip_conf_limits *limits;
	uint32_t corosync_token_ms; /* corosync's token timeout as its corosync.conf says
					* (vip_cl_corosync_token), 0: unknown (corosync's default) */
	/*
	 * The running configuration, on reload: a user or group name it already
	 * resolved keeps its id without asking the name service again (inside
	 * a chroot there may be none). NULL: every name is looked up.
	 */
	const struct vipd_config *running;
	/*
	 * Inside Security { chroot }: the chroot folder as it is seen from
	 * outside. Every configuration file is named by its outside path (as at
	 * start-up, and so in diagnostics) and opened without this prefix; a
	 * file outside it cannot be read. NULL: paths as they are.
	 */
	const char *root;
};

/*
 * Load, extract and validate. opts may be NULL. On success returns 0 and *ret
 * owns the config; warnings are appended to diag. On failure returns -EINVAL
 * (see diag: every error found, not just the first) or another -errno and
 * leaves *ret untouched.
 */
int vip_config_load(const char *path, const struct vip_config_opts *opts, struct vipd_config **ret,
		    struct vip_conf_diag *diag);

/* Same, from an already parsed tree (the tree is only read). */
int vip_config_from_tree(const struct vip_conf_tree *tree, const struct vip_config_opts *opts,
			 struct vipd_config **ret, struct vip_conf_diag *diag);

/*
 * Fill every timing option still VIP_CONF_AUTO: corosync_token from
 * corosync_token_ms (what corosync.conf says; 0 when unknown: corosync's
 * default), then the round timeout, liveness timeout and takeover delay from
 * the token (see struct vipd_cluster). Their origin reads "auto: ...".
 * vip_config_load calls it with opts->corosync_token_ms, so a loaded
 * configuration holds no VIP_CONF_AUTO. 0 or -ENOMEM.
 */
int vip_config_resolve_timing(struct vipd_config *c, uint32_t corosync_token_ms);

/* Accepts NULL. */
void vip_config_free(struct vipd_config *c);
/*
 * Frees the DuraVIP list (n_duravips becomes 0) and keeps the rest: for a
 * process that needs the Security, Control and cluster parts only (vipd's
 * root monitor), so it does not hold a copy of every DuraVIP. Accepts NULL.
 */
void vip_config_drop_duravips(struct vipd_config *c);

/* Bytes the DuraVIP list holds: its entries and their packed strings (the metrics). */
size_t vip_config_duravips_bytes(const struct vipd_config *c);

/* The interface d goes on, from its Topology rule; NULL: placed at run time (vipd/topology). */
const char *vip_config_duravip_interface(const struct vipd_config *c, const struct vipd_duravip *d);
/* Where d was first declared (file owned by c). */
struct vip_conf_src vip_config_duravip_src(const struct vipd_config *c, const struct vipd_duravip *d);

/* The DuraVIP with this address, or NULL. */
const struct vipd_duravip *vip_config_find_duravip(const struct vipd_config *c, const struct vip_addr *a);

/* Human summary as `vipd --check` prints it. Returns 0 or -errno. */
int vip_config_print(const struct vipd_config *c, const struct vip_conf_diag *diag, FILE *f);
/* One JSON object as `vipd --check --json` prints it (with a final newline). */
int vip_config_print_json(const struct vipd_config *c, const struct vip_conf_diag *diag, FILE *f);

/* What changed between two configurations (bit set). */
enum vip_config_change {
	VIP_CHANGE_SECURITY = 1u << 0,     /* needs a restart */
	VIP_CHANGE_IDENTITY = 1u << 1,     /* nodename, cluster_group or authkey: needs a restart */
	VIP_CHANGE_CLUSTER_MODE = 1u << 2, /* cluster scope added or removed: needs a restart */
	VIP_CHANGE_DURAVIPS = 1u << 3,     /* added, removed or changed DuraVIPs: live */
	VIP_CHANGE_TOPOLOGY = 1u << 4,     /* live */
	VIP_CHANGE_TIMING = 1u << 5,       /* maturity, balance, interface checks: live */
	VIP_CHANGE_ANNOUNCE = 1u << 6,     /* arp_* options: live */
	VIP_CHANGE_CONTROL = 1u << 7,      /* Control { admin_group }: live */
	VIP_CHANGE_STANDBY = 1u << 8,      /* cluster { Standby }: live */
	VIP_CHANGE_HEALTH = 1u << 9,       /* Health_Check scopes added, removed or changed: live */
	VIP_CHANGE_NOTIFY = 1u << 10,      /* Notify: live */
};
#define VIP_CHANGE_NEEDS_RESTART (VIP_CHANGE_SECURITY | VIP_CHANGE_IDENTITY | VIP_CHANGE_CLUSTER_MODE)

unsigned vip_config_diff(const struct vipd_config *old, const struct vipd_config *new_);

/* ------------------------------------------------------------------ */
/* Command lines (check commands, notify hooks): conf/cmdline.c        */
/* ------------------------------------------------------------------ */

#define VIP_CMDLINE_MAX_ARGS 256
#define VIP_CMDLINE_MAX_LEN 8192

/*
 * Split a command line from the configuration into an argv, without a shell:
 *
 *   - words are separated by white space (space, tab, newline, CR, VT, FF);
 *   - '...' keeps everything up to the next ' as it is (no escapes inside);
 *   - "..." keeps everything up to the next unescaped "; inside, \" and \\
 *     stand for " and \, any other backslash is kept as it is;
 *   - outside quotes a backslash makes the next character literal (a\ b is
 *     one word); quoted and unquoted parts next to each other make one word
 *     (--name="a b" is --name=a b), and '' or "" is an empty word;
 *   - nothing else is special: no variables, globs, ~, ;, |, > or &; they
 *     reach the program as written;
 *   - the first word, the program, must be an absolute path (no PATH search).
 *
 * On success returns the number of words (>= 1) and *ret, a NULL-terminated
 * argv in one allocation (free(*ret) frees everything). On failure *ret is
 * untouched and why (may be NULL) holds a sentence: -EINVAL for NULL, an
 * empty line, an unterminated quote, a trailing backslash or a relative
 * program; -E2BIG past VIP_CMDLINE_MAX_LEN characters or
 * VIP_CMDLINE_MAX_ARGS words; -ENOMEM.
 */
int vip_cmdline_split(const char *line, char ***ret, char *why, size_t why_len);

/* ------------------------------------------------------------------ */
/* JSON writer: every JSON document vipd writes goes through it        */
/* (`vipd --check --json`, console replies and events)                 */
/* ------------------------------------------------------------------ */

#define VIP_JSON_MAX_DEPTH 63

/*
 * Builds one JSON document in memory. Calls never fail on their own: the
 * first problem is kept in error (sticky) and every later call does nothing,
 * so a writer checks once, at vip_json_finish. Problems: -ENOBUFS (the
 * document would pass max), -ENOMEM, -EINVAL (misuse: a key where none
 * belongs or none where one does, a close that does not match, a second
 * top-level value, a non-finite number, nesting past VIP_JSON_MAX_DEPTH).
 * Strings are escaped per RFC 8259; bytes that are not valid UTF-8 become
 * U+FFFD, so user text can never break the document.
 *
 * Zero-initialise (or vip_json_init), write, vip_json_finish, read data/len,
 * vip_json_free. key is the member name inside an object and NULL inside an
 * array or for the top-level value.
 */
struct vip_json {
	char *data; /* the document; NUL-terminated once anything is written */
	size_t len, cap;
	size_t max;  /* bound on len (the final newline included); 0: none */
	int error;   /* sticky: 0, or the first failure (-errno) */
	bool pretty; /* newline and two-space indent per member, "key": value */
	bool done;   /* the top-level value is complete */
	unsigned depth;
	uint64_t any;    /* bit d: the container at depth d holds a member */
	uint64_t object; /* bit d: the container at depth d is an object */
};

void vip_json_init(struct vip_json *w, size_t max, bool pretty);
void vip_json_object_begin(struct vip_json *w, const char *key);
void vip_json_object_end(struct vip_json *w);
void vip_json_array_begin(struct vip_json *w, const char *key);
void vip_json_array_end(struct vip_json *w);
/* A string, or null when s is NULL. */
void vip_json_string(struct vip_json *w, const char *key, const char *s);
void vip_json_stringf(struct vip_json *w, const char *key, const char *fmt, ...) _printf_(3, 4);
void vip_json_uint(struct vip_json *w, const char *key, uint64_t v);
void vip_json_int(struct vip_json *w, const char *key, int64_t v);
/* %.15g; a non-finite value is -EINVAL. */
void vip_json_double(struct vip_json *w, const char *key, double v);
void vip_json_bool(struct vip_json *w, const char *key, bool v);
void vip_json_null(struct vip_json *w, const char *key);
/*
 * End the document: every container closed and a value written (else
 * -EINVAL), then a final newline. Returns 0 or the sticky error; on error
 * data holds no usable document.
 */
int vip_json_finish(struct vip_json *w);
/* Empty the writer for another document (keeps max, pretty and the memory). */
void vip_json_reset(struct vip_json *w);
void vip_json_free(struct vip_json *w);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * conf/ language layer, private to the folder: the arena that owns a tree,
 * the tree itself and the lexer the parser reads tokens from.
 */
#ifndef VIP_CONF_INTERNAL_H
#define VIP_CONF_INTERNAL_H

#include "conf.h"

/* ---- arena: every node, value and string of a tree lives in one ---- */

struct arena_chunk;

struct arena {
	struct arena_chunk *head;
};

/* n zeroed bytes, aligned for any object; NULL when out of memory. */
void *arena_alloc(struct arena *a, size_t n);
/* The same, not zeroed. */
void *arena_alloc_raw(struct arena *a, size_t n);
/* A NUL-terminated copy of s[0..n); NULL when out of memory. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
void arena_free(struct arena *a);

/*
 * Append p to the array *items of *n elements of size sz, growing it inside
 * the arena (capacity is implicit: 4, then every power of two). 0 or -ENOMEM.
 */
int arena_append(struct arena *a, void *items, size_t *n, size_t sz, const void *p);

/* ---- the tree ---- */

struct vip_conf_tree {
	struct arena arena;
	struct vip_conf_node *root;
	const char **files; /* malloc'd array of arena strings */
	size_t n_files;
	size_t cap_files;
};

/* A new tree with an empty root scope. 0 or -ENOMEM. */
int tree_new(struct vip_conf_tree **ret);
/*
 * The tree-owned copy of a file name, registering it in the file list when it
 * was not read before. NULL when out of memory.
 */
const char *tree_intern_file(struct vip_conf_tree *t, const char *path);
/* Append child to scope and set its parent. 0 or -ENOMEM. */
int tree_add_child(struct vip_conf_tree *t, struct vip_conf_node *scope, struct vip_conf_node *child);

/* ---- the lexer ---- */

enum tok_type {
	TOK_EOF,
	TOK_WORD,   /* bare word */
	TOK_STRING, /* quoted; p/len span the text between the quotes */
	TOK_LBRACE,
	TOK_RBRACE,
	TOK_LPAREN,
	TOK_RPAREN,
	TOK_LBRACKET,
	TOK_RBRACKET,
	TOK_EQUALS,
	TOK_ERROR, /* error names the problem, line/col where it starts */
	_TOK_TYPE_MAX,
};

struct token {
	enum tok_type type;
	const char *p;
	size_t len;
	char quote;   /* STRING: '"' or '\'' */
	bool escapes; /* STRING: holds a backslash to undo */
	unsigned line, col;
	const char *error; /* ERROR: static text */
};

struct lexer {
	const char *p, *end, *line_start;
	unsigned line;
};

void lex_init(struct lexer *lx, const char *text, size_t len);
/* The next token; after TOK_ERROR the rest of the input is skipped (TOK_EOF). */
void lex_next(struct lexer *lx, struct token *t);
/* Length of the token's text once unescaped (never more than t->len). */
size_t lex_unescape(const struct token *t, char *out);
/* "end of file", "'{'", "'word'" or "string \"text\"", shortened to fit. */
const char *lex_describe(const struct token *t, char *buf, size_t len);

/* ---- the parser ---- */

struct parser;

/*
 * Parse the text of one file (already read) into scope. file is the
 * tree-owned name, dir the folder relative includes start from (NULL:
 * includes are refused). Returns 0 (syntax errors are recorded and stop this
 * file only) or -ENOMEM.
 */
int parse_text(struct parser *ps, const char *file, const char *dir, const char *text, size_t len,
	       struct vip_conf_node *scope, unsigned nesting);

/* Record an error at file:line:col (line 0: no position). Returns -EINVAL. */
int parser_error(struct parser *ps, const char *file, unsigned line, unsigned col, const char *fmt, ...)
	_printf_(5, 6);

/*
 * Resolve and read an include (file or folder) named at loc, expanding it
 * into scope. 0 (errors are recorded) or -ENOMEM.
 */
int parser_include(struct parser *ps, const char *dir, const char *path, const struct vip_conf_loc *at,
		   struct vip_conf_node *scope, unsigned nesting);

/* What parse_text needs to know about the whole parse. */
struct parser {
	struct vip_conf_tree *tree;
	struct vip_conf_limits lim;
	struct vip_conf_diag *diag;
	size_t total_size; /* bytes read over all files */
	size_t n_read;     /* files read */
	unsigned depth;    /* include depth of the file being read, 0 for the first */
	struct file_id {
		dev_t dev;
		ino_t ino;
	} * stack; /* files on the include stack, for cycles */
	size_t n_stack;
	bool failed;      /* an error was recorded */
	const char *root; /* files are opened without this prefix (a chroot), or NULL */
};

#endif

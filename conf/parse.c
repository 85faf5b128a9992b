/* SPDX-License-Identifier: MIT */
/*
 * Parser for the Momentum configuration language: statements, scopes and
 * values of one file's text, into a tree. Recursion follows the nesting of
 * scopes, lists and dictionaries and stops at limits.max_nesting, so a
 * hostile input cannot exhaust the stack. The first syntax error ends the
 * file (later text would only produce follow-on noise); includes are handed
 * to include.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "conf-internal.h"

/* One file being parsed. */
struct src {
	struct parser *ps;
	struct lexer lx;
	const char *file; /* tree-owned */
	const char *dir;  /* folder for relative includes; NULL: includes refused */
	struct token back;
	bool have_back;
};

int parser_error(struct parser *ps, const char *file, unsigned line, unsigned col, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ps->failed = true;
	if (ps->diag && vip_conf_diag_add(ps->diag, VIP_CONF_ERROR, file, line, col, "%s", msg) < 0)
		return -ENOMEM;
	return -EINVAL;
}

#define src_error(s, t, ...) parser_error((s)->ps, (s)->file, (t)->line, (t)->col, __VA_ARGS__)

static void next(struct src *s, struct token *t)
{
	if (s->have_back) {
		*t = s->back;
		s->have_back = false;
		return;
	}
	lex_next(&s->lx, t);
}

static void unget(struct src *s, const struct token *t)
{
	s->back = *t;
	s->have_back = true;
}

/* "unexpected X" for a token that cannot stand here, or the lexer's own error. */
static int unexpected(struct src *s, const struct token *t, const char *what)
{
	char d[96];

	if (t->type == TOK_ERROR)
		return src_error(s, t, "%s", t->error);
	return src_error(s, t, "%s%s", what, lex_describe(t, d, sizeof(d)));
}

static char *tok_text(struct src *s, const struct token *t)
{
	char *out = arena_alloc_raw(&s->ps->tree->arena, t->len + 1);
	if (!out)
		return NULL;
	out[lex_unescape(t, out)] = '\0';
	return out;
}

static void set_loc(struct src *s, struct vip_conf_loc *loc, const struct token *t)
{
	loc->file = s->file;
	loc->line = t->line;
	loc->col = t->col;
}

static int parse_value(struct src *s, const struct token *t, unsigned nesting, struct vip_conf_value **ret);

static int check_nesting(struct src *s, const struct token *t, unsigned nesting)
{
	if (nesting > s->ps->lim.max_nesting)
		return src_error(s, t, "nesting too deep (limit %u)", s->ps->lim.max_nesting);
	return 0;
}

static int parse_list(struct src *s, struct vip_conf_value *v, const struct token *open, unsigned nesting)
{
	for (;;) {
		struct token t;
		struct vip_conf_value *item;
		int r;

		next(s, &t);
		if (t.type == TOK_RPAREN)
			return 0;
		if (t.type == TOK_EOF)
			return src_error(s, &t, "missing ')' for list opened at line %u", open->line);
		r = parse_value(s, &t, nesting, &item);
		if (r < 0)
			return r;
		r = arena_append(&s->ps->tree->arena, &v->items, &v->n_items, sizeof(item), &item);
		if (r < 0)
			return r;
	}
}

static int parse_dict(struct src *s, struct vip_conf_value *v, const struct token *open, unsigned nesting)
{
	for (;;) {
		struct vip_conf_pair pair = { 0 };
		struct token t, eq;
		int r;

		next(s, &t);
		if (t.type == TOK_RBRACKET)
			return 0;
		if (t.type == TOK_EOF)
			return src_error(s, &t, "missing ']' for dictionary opened at line %u", open->line);
		if (t.type != TOK_WORD && t.type != TOK_STRING)
			return unexpected(s, &t, "expected a key or ']' in dictionary, got ");
		pair.key = tok_text(s, &t);
		if (!pair.key)
			return -ENOMEM;
		set_loc(s, &pair.loc, &t);
		next(s, &eq);
		if (eq.type != TOK_EQUALS)
			return eq.type == TOK_ERROR
				       ? unexpected(s, &eq, "")
				       : src_error(s, &eq, "expected '=' after key '%s'", pair.key);
		next(s, &t);
		r = parse_value(s, &t, nesting, &pair.value);
		if (r < 0)
			return r;
		r = arena_append(&s->ps->tree->arena, &v->pairs, &v->n_pairs, sizeof(pair), &pair);
		if (r < 0)
			return r;
	}
}

/* The value starting with token t, at depth nesting (of the thing holding it). */
static int parse_value(struct src *s, const struct token *t, unsigned nesting, struct vip_conf_value **ret)
{
	struct vip_conf_value *v;
	int r;

	if (t->type != TOK_WORD && t->type != TOK_STRING && t->type != TOK_LPAREN && t->type != TOK_LBRACKET)
		return unexpected(s, t, "expected a value, got ");

	v = arena_alloc(&s->ps->tree->arena, sizeof(*v));
	if (!v)
		return -ENOMEM;
	set_loc(s, &v->loc, t);
	*ret = v;
	switch (t->type) {
	case TOK_LPAREN:
		v->type = VIP_CONF_LIST;
		r = check_nesting(s, t, nesting + 1);
		return r < 0 ? r : parse_list(s, v, t, nesting + 1);
	case TOK_LBRACKET:
		v->type = VIP_CONF_DICT;
		r = check_nesting(s, t, nesting + 1);
		return r < 0 ? r : parse_dict(s, v, t, nesting + 1);
	default:
		v->type = VIP_CONF_STRING;
		v->quoted = t->type == TOK_STRING;
		v->str = tok_text(s, t);
		return v->str ? 0 : -ENOMEM;
	}
}

static struct vip_conf_node *new_node(struct src *s, enum vip_conf_node_type type, const struct token *name)
{
	struct vip_conf_node *n = arena_alloc(&s->ps->tree->arena, sizeof(*n));
	if (!n)
		return NULL;
	n->type = type;
	n->name = tok_text(s, name);
	if (!n->name)
		return NULL;
	set_loc(s, &n->loc, name);
	return n;
}

static int parse_block(struct src *s, struct vip_conf_node *scope, unsigned nesting,
		       const struct token *open);

static int parse_scope(struct src *s, struct vip_conf_node *scope, const struct token *name,
		       const struct token *instance, const struct token *brace, unsigned nesting)
{
	struct vip_conf_node *n;
	int r;

	r = check_nesting(s, brace, nesting + 1);
	if (r < 0)
		return r;
	n = new_node(s, VIP_CONF_SCOPE, name);
	if (!n)
		return -ENOMEM;
	if (instance) {
		n->instance = tok_text(s, instance);
		if (!n->instance)
			return -ENOMEM;
	}
	r = tree_add_child(s->ps->tree, scope, n);
	if (r < 0)
		return r;
	return parse_block(s, n, nesting + 1, name);
}

static int parse_option(struct src *s, struct vip_conf_node *scope, const struct token *name,
			unsigned nesting)
{
	struct vip_conf_node *n = new_node(s, VIP_CONF_OPTION, name);
	struct token t;
	int r;

	if (!n)
		return -ENOMEM;
	next(s, &t);
	r = parse_value(s, &t, nesting, &n->value);
	if (r < 0)
		return r;
	return tree_add_child(s->ps->tree, scope, n);
}

static bool is_include(const struct token *t)
{
	return (t->len == 7 && strncasecmp(t->p, "include", 7) == 0) ||
	       (t->len == 16 && strncasecmp(t->p, "readonly_include", 16) == 0);
}

static int parse_include(struct src *s, struct vip_conf_node *scope, const struct token *kw,
			 const struct token *path, unsigned nesting)
{
	struct vip_conf_loc at;
	char *text;
	int r;

	/* not syntax errors: record them and read on */
	set_loc(s, &at, kw);
	if (!s->dir) {
		r = src_error(s, kw, "include not allowed here: no base folder to resolve it from");
		return r == -ENOMEM ? r : 0;
	}
	if (path->len == 0) {
		r = src_error(s, path, "empty include path");
		return r == -ENOMEM ? r : 0;
	}
	text = tok_text(s, path);
	if (!text)
		return -ENOMEM;
	return parser_include(s->ps, s->dir, text, &at, scope, nesting);
}

/* How much of a token's text to quote in a message. */
static int name_len(const struct token *t)
{
	return t->len > 64 ? 64 : (int)t->len;
}

/* A statement starting with the word name. */
static int parse_statement(struct src *s, struct vip_conf_node *scope, const struct token *name,
			   unsigned nesting)
{
	struct token t2, t3;
	char d[96];

	next(s, &t2);
	switch (t2.type) {
	case TOK_EQUALS:
		return parse_option(s, scope, name, nesting);
	case TOK_LBRACE:
		return parse_scope(s, scope, name, NULL, &t2, nesting);
	case TOK_WORD:
	case TOK_STRING:
		next(s, &t3);
		if (t3.type == TOK_LBRACE)
			return parse_scope(s, scope, name, &t2, &t3, nesting);
		if (is_include(name)) {
			unget(s, &t3);
			return parse_include(s, scope, name, &t2, nesting);
		}
		if (t3.type == TOK_ERROR)
			return unexpected(s, &t3, "");
		return src_error(s, &t3, "expected '{' after '%.*s %.*s', got %s", name_len(name), name->p,
				 name_len(&t2), t2.p, lex_describe(&t3, d, sizeof(d)));
	case TOK_ERROR:
		return unexpected(s, &t2, "");
	default:
		return src_error(s, &t2, "expected '=' or '{' after '%.*s'", name_len(name), name->p);
	}
}

/*
 * Statements into scope until the end of the text (open NULL) or the '}'
 * closing the scope whose name token is open.
 */
static int parse_block(struct src *s, struct vip_conf_node *scope, unsigned nesting, const struct token *open)
{
	for (;;) {
		struct token t;
		int r;

		next(s, &t);
		switch (t.type) {
		case TOK_EOF:
			if (open)
				return src_error(s, &t, "missing '}' for scope '%s' opened at line %u",
						 scope->name, open->line);
			return 0;
		case TOK_RBRACE:
			if (open)
				return 0;
			return src_error(s, &t, "unexpected '}'");
		case TOK_WORD:
			r = parse_statement(s, scope, &t, nesting);
			if (r < 0)
				return r;
			break;
		default:
			return unexpected(s, &t, "unexpected ");
		}
	}
}

int parse_text(struct parser *ps, const char *file, const char *dir, const char *text, size_t len,
	       struct vip_conf_node *scope, unsigned nesting)
{
	struct src s = { .ps = ps, .file = file, .dir = dir };

	lex_init(&s.lx, text, len);
	int r = parse_block(&s, scope, nesting, NULL);
	return r == -ENOMEM ? r : 0;
}

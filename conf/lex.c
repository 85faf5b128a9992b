/* SPDX-License-Identifier: MIT */
/*
 * Lexer for the Momentum configuration language. It reads a buffer in place
 * (no allocation) and hands out tokens with their line and column; comments
 * and whitespace are skipped here.
 *
 * A bare word is any run of bytes other than whitespace and the structural
 * characters { } ( ) [ ] = " ' #, so 192.0.2.51, 10.0.0.0/8, *:25, /path/x,
 * -1 and cap_net_admin+ep are all single words. "/\*" opens a comment only
 * where a token could start.
 */
#include <stdio.h>
#include <string.h>

#include "conf-internal.h"

enum {
	C_WORD = 0, /* part of a bare word */
	C_SPACE,
	C_NEWLINE,
	C_PUNCT, /* a one-character token */
	C_QUOTE,
	C_HASH,
	C_NUL,
};

static const unsigned char char_class[256] = {
	['\0'] = C_NUL,   [' '] = C_SPACE,    ['\t'] = C_SPACE, ['\r'] = C_SPACE, ['\f'] = C_SPACE,
	['\v'] = C_SPACE, ['\n'] = C_NEWLINE, ['{'] = C_PUNCT,  ['}'] = C_PUNCT,  ['('] = C_PUNCT,
	[')'] = C_PUNCT,  ['['] = C_PUNCT,    [']'] = C_PUNCT,  ['='] = C_PUNCT,  ['"'] = C_QUOTE,
	['\''] = C_QUOTE, ['#'] = C_HASH,
};

static const enum tok_type punct_type[256] = {
	['{'] = TOK_LBRACE,   ['}'] = TOK_RBRACE,   ['('] = TOK_LPAREN, [')'] = TOK_RPAREN,
	['['] = TOK_LBRACKET, [']'] = TOK_RBRACKET, ['='] = TOK_EQUALS,
};

void lex_init(struct lexer *lx, const char *text, size_t len)
{
	lx->p = text;
	lx->end = text + len;
	lx->line_start = text;
	lx->line = 1;
}

static void set_pos(const struct lexer *lx, struct token *t, const char *at)
{
	t->line = lx->line;
	t->col = (unsigned)(at - lx->line_start) + 1;
}

static void newline(struct lexer *lx, const char *nl)
{
	lx->line++;
	lx->line_start = nl + 1;
}

static void error_token(struct lexer *lx, struct token *t, const char *msg)
{
	t->type = TOK_ERROR;
	t->error = msg;
	/* the rest of the input is not read */
	lx->p = lx->end;
}

/* Skip a block comment starting at lx->p ("/\*"); false when unterminated. */
static bool skip_block_comment(struct lexer *lx)
{
	const char *p = lx->p + 2;
	for (; p + 1 < lx->end; p++) {
		if (*p == '\n')
			newline(lx, p);
		else if (p[0] == '*' && p[1] == '/') {
			lx->p = p + 2;
			return true;
		}
	}
	return false;
}

static void lex_string(struct lexer *lx, struct token *t)
{
	const char q = *lx->p;
	const char *p = lx->p + 1;
	unsigned line = lx->line;
	const char *line_start = lx->line_start;

	t->type = TOK_STRING;
	t->quote = q;
	t->escapes = false;
	for (; p < lx->end; p++) {
		if (*p == q) {
			t->p = lx->p + 1;
			t->len = (size_t)(p - t->p);
			lx->p = p + 1;
			return;
		}
		if (*p == '\0')
			break;
		if (*p == '\\' && q == '"' && p + 1 < lx->end && p[1] != '\0') {
			t->escapes = true;
			p++;
		}
		if (*p == '\n')
			newline(lx, p);
	}
	/* report where the string opened */
	lx->line = line;
	lx->line_start = line_start;
	error_token(lx, t, p < lx->end ? "NUL byte in quoted string" : "unterminated string");
}

/* Skip whitespace and comments; false (t holds the error) on an unterminated comment. */
static bool skip_blank(struct lexer *lx, struct token *t)
{
	const char *p = lx->p;

	while (p < lx->end) {
		switch (char_class[(unsigned char)*p]) {
		case C_SPACE:
			p++;
			continue;
		case C_NEWLINE:
			newline(lx, p);
			p++;
			continue;
		case C_HASH:
			while (p < lx->end && *p != '\n')
				p++;
			continue;
		default:
			break;
		}
		if (p[0] != '/' || p + 1 >= lx->end || p[1] != '*')
			break;
		lx->p = p;
		set_pos(lx, t, p);
		if (!skip_block_comment(lx)) {
			error_token(lx, t, "unterminated comment");
			return false;
		}
		p = lx->p;
	}
	lx->p = p;
	return true;
}

void lex_next(struct lexer *lx, struct token *t)
{
	const char *p;

	t->escapes = false;
	t->quote = 0;
	t->len = 0;
	if (!skip_blank(lx, t))
		return;
	p = t->p = lx->p;
	set_pos(lx, t, p);
	if (p >= lx->end) {
		t->type = TOK_EOF;
		return;
	}
	switch (char_class[(unsigned char)*p]) {
	case C_NUL:
		error_token(lx, t, "NUL byte in input");
		return;
	case C_PUNCT:
		t->type = punct_type[(unsigned char)*p];
		t->len = 1;
		lx->p = p + 1;
		return;
	case C_QUOTE:
		lex_string(lx, t);
		return;
	default:
		t->type = TOK_WORD;
		while (p < lx->end && char_class[(unsigned char)*p] == C_WORD)
			p++;
		t->len = (size_t)(p - t->p);
		lx->p = p;
		return;
	}
}

size_t lex_unescape(const struct token *t, char *out)
{
	if (!t->escapes) {
		memcpy(out, t->p, t->len);
		return t->len;
	}

	size_t n = 0;
	for (size_t i = 0; i < t->len; i++) {
		char c = t->p[i];
		if (c == '\\' && i + 1 < t->len) {
			char e = t->p[++i];
			switch (e) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case '"':
			case '\\':
				c = e;
				break;
			default:
				/* unknown escapes stay as written (regexes, Windows paths) */
				out[n++] = '\\';
				c = e;
				break;
			}
		}
		out[n++] = c;
	}
	return n;
}

const char *lex_describe(const struct token *t, char *buf, size_t len)
{
	const int max = 40;
	int n = t->len > (size_t)max ? max : (int)t->len;
	const char *more = t->len > (size_t)max ? "..." : "";

	switch (t->type) {
	case TOK_EOF:
		snprintf(buf, len, "end of file");
		break;
	case TOK_WORD:
		snprintf(buf, len, "'%.*s%s'", n, t->p, more);
		break;
	case TOK_STRING:
		snprintf(buf, len, "string %c%.*s%s%c", t->quote, n, t->p, more, t->quote);
		break;
	case TOK_ERROR:
		snprintf(buf, len, "%s", t->error);
		break;
	default:
		snprintf(buf, len, "'%c'", *t->p);
		break;
	}
	return buf;
}

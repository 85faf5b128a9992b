/* SPDX-License-Identifier: MIT */
/*
 * vipd/ctlproto: the control-socket wire format, shared by vipd and vipctl.
 * Pure code: no I/O, no logging; the fuzz target links it alone.
 *
 * Every frame is a 12-byte header followed by exactly `length` payload bytes,
 * all integers big-endian:
 *
 *   u32 magic_version   VIP_CTL_MAGIC << 16 | VIP_CTL_VERSION
 *   u16 type            enum vip_ctl_type
 *   u16 flags           per type; an unknown bit is an error
 *   u32 length          payload bytes, bounded per type
 *
 * Payloads (checked exactly: no byte missing, no byte left over):
 *   REQUEST  u16 argc (1..VIP_CTL_MAX_ARGS), then argc times
 *            { u16 len (1..VIP_CTL_MAX_ARG), len bytes, no NUL }.
 *            flags: VIP_CTL_F_JSON.
 *   REPLY    u32 status (enum vip_ctl_status or a command's own exit code,
 *            < 256), then the body text (length - 4 bytes, no NUL).
 *            flags: VIP_CTL_F_STREAM: EVENT frames follow until the
 *            connection closes (the `events` command);
 *            VIP_CTL_F_BODY_JSON: the body is one JSON document (the
 *            answer to a JSON request). Without it the body is text: so
 *            is a refusal sent before the request was read (denied, busy,
 *            malformed frame), which vipctl --json turns into JSON.
 *   EVENT    the text of one event: one line, or one JSON object, with its
 *            final newline; no NUL.
 *
 * A conversation: the client sends one REQUEST, the server answers one REPLY
 * (then the client may send the next request). After a REPLY with
 * VIP_CTL_F_STREAM the server only sends EVENT frames.
 *
 * Version 2 (this one) added VIP_CTL_F_BODY_JSON; version 1 had no way to
 * tell a JSON body from a text one.
 */
#ifndef VIPD_CTLPROTO_H
#define VIPD_CTLPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define VIP_CTL_MAGIC 0x5643u /* "VC" */
#define VIP_CTL_VERSION 2u
#define VIP_CTL_HEADER_SIZE 12u

#define VIP_CTL_MAX_ARGS 64u
#define VIP_CTL_MAX_ARG 4096u
#define VIP_CTL_MAX_REQUEST (64u * 1024u)       /* REQUEST payload */
#define VIP_CTL_MAX_REPLY (16u * 1024u * 1024u) /* REPLY payload */
#define VIP_CTL_MAX_EVENT (64u * 1024u)         /* EVENT payload */

enum vip_ctl_type {
	VIP_CTL_REQUEST = 1,
	VIP_CTL_REPLY = 2,
	VIP_CTL_EVENT = 3,
	_VIP_CTL_TYPE_MAX,
};
const char *vip_ctl_type_to_string(enum vip_ctl_type t);

#define VIP_CTL_F_JSON 0x0001u      /* REQUEST: answer in JSON */
#define VIP_CTL_F_STREAM 0x0001u    /* REPLY: EVENT frames follow */
#define VIP_CTL_F_BODY_JSON 0x0002u /* REPLY: the body is one JSON document */

/* Reply status: the exit status vipctl returns. Commands may use others < 256. */
enum vip_ctl_status {
	VIP_CTL_OK = 0,
	VIP_CTL_FAILED = 1,    /* the command ran and failed; the body says why */
	VIP_CTL_USAGE = 2,     /* unknown command or wrong arguments */
	VIP_CTL_DENIED = 3,    /* peer credentials refused */
	VIP_CTL_BUSY = 4,      /* too many connections */
	VIP_CTL_PROTOCOL = 5,  /* malformed frame or wrong version */
	VIP_CTL_TOO_LARGE = 6, /* request or reply over its bound */
	_VIP_CTL_STATUS_MAX,
};
#define VIP_CTL_STATUS_LIMIT 256u

struct vip_ctl_header {
	uint16_t version;
	uint16_t type;
	uint16_t flags;
	uint32_t length;
};

/*
 * A growing byte buffer with a hard bound: appends that would pass max fail
 * with -ENOBUFS and leave the buffer as it was. The first failure is also
 * kept in err (sticky until vip_ctl_buf_reset), so text built by many
 * appends is checked once at the end. Zero-initialise and set max
 * (0: VIP_CTL_MAX_REPLY). Free with vip_ctl_buf_free.
 */
struct vip_ctl_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max;
	int err;
};
int vip_ctl_buf_append(struct vip_ctl_buf *b, const void *p, size_t n);
int vip_ctl_buf_puts(struct vip_ctl_buf *b, const char *s);
int vip_ctl_buf_printf(struct vip_ctl_buf *b, const char *fmt, ...) _printf_(2, 3);
/* Drop the first n bytes (n <= len). */
void vip_ctl_buf_consume(struct vip_ctl_buf *b, size_t n);
void vip_ctl_buf_reset(struct vip_ctl_buf *b);
/* Accepts NULL contents; leaves the buffer zeroed except max. */
void vip_ctl_buf_free(struct vip_ctl_buf *b);

/*
 * Look at the start of a byte stream. Returns 0 when fewer bytes than a full
 * frame are available yet (and the part seen is valid so far), the total
 * frame size (header + payload) when a whole frame is there, or the errors
 * below. *ret is filled as soon as the 12 header bytes are in and valid
 * (so a reader knows how much payload to wait for).
 *   -EBADMSG          bad magic, unknown type, or unknown flag bits
 *   -EPROTONOSUPPORT  right magic, other version (ret->version says which)
 *   -EMSGSIZE         length over the bound for its type, or over max_payload
 *                     (0: the type's own bound)
 * A header is rejected as soon as its 12 bytes are in, before any payload.
 */
int vip_ctl_frame_peek(const uint8_t *buf, size_t len, size_t max_payload, struct vip_ctl_header *ret);

/* A decoded request. argv[argc] is NULL; strings are NUL-terminated copies. */
struct vip_ctl_request {
	char **argv;
	size_t argc;
	bool json;
};
void vip_ctl_request_clear(struct vip_ctl_request *r);

/* Append a REQUEST frame. 0, -EINVAL (argc or an argument out of bounds, or an
 * argument empty), -ENOBUFS, -ENOMEM. */
int vip_ctl_request_encode(struct vip_ctl_buf *out, const char *const *argv, size_t argc, bool json);
/* Decode a whole frame (from vip_ctl_frame_peek). 0 or -EBADMSG / -ENOMEM;
 * *ret untouched on failure. */
int vip_ctl_request_decode(const uint8_t *frame, size_t len, struct vip_ctl_request *ret);

/* Append a REPLY frame; flags: VIP_CTL_F_STREAM, VIP_CTL_F_BODY_JSON. 0,
 * -EINVAL (status >= 256, NUL in body, unknown flag), -EMSGSIZE (body over
 * the bound), -ENOBUFS, -ENOMEM. */
int vip_ctl_reply_encode(struct vip_ctl_buf *out, unsigned status, unsigned flags, const void *body,
			 size_t body_len);
/* Decode a whole REPLY frame; *ret_body points into frame. 0 or -EBADMSG. */
int vip_ctl_reply_decode(const uint8_t *frame, size_t len, unsigned *ret_status, unsigned *ret_flags,
			 const char **ret_body, size_t *ret_body_len);

/* Append an EVENT frame. 0, -EINVAL (NUL in text), -EMSGSIZE, -ENOBUFS, -ENOMEM. */
int vip_ctl_event_encode(struct vip_ctl_buf *out, const void *text, size_t len);
/* Decode a whole EVENT frame; *ret_text points into frame. 0 or -EBADMSG. */
int vip_ctl_event_decode(const uint8_t *frame, size_t len, const char **ret_text, size_t *ret_len);

/* ---------------------------------------------------------------- commands */

/*
 * The console's commands: this one table is linked by vipd (which binds a
 * handler to each id, vipd/control.h) and by vipctl (which checks a command's
 * shape before it connects and prints `help` from it). The man page's
 * command list is checked against it (tests/unit/test-ctlcmds.c).
 */
enum vip_ctl_cmd {
	VIP_CTL_CMD_DURAVIP_SHOW,
	VIP_CTL_CMD_DURAVIP_MOVE,
	VIP_CTL_CMD_DURAVIP_BALANCE,
	VIP_CTL_CMD_DURAVIP_ANNOUNCE,
	VIP_CTL_CMD_MEMBERSHIP,
	VIP_CTL_CMD_NODE_STANDBY,
	VIP_CTL_CMD_NODE_ACTIVE,
	VIP_CTL_CMD_INFO,
	VIP_CTL_CMD_ARP_SHOW,
	VIP_CTL_CMD_CONFIG_RELOAD,
	VIP_CTL_CMD_CONFIG_SECURITY,
	VIP_CTL_CMD_METRICS,
	VIP_CTL_CMD_EVENTS,
	VIP_CTL_CMD_HELP,
	_VIP_CTL_CMD_MAX,
};

/* What a command may do. Shown by `help`; enforced by a later change. */
enum vip_ctl_authority {
	VIP_CTL_AUTH_READ,   /* reads state only */
	VIP_CTL_AUTH_CHANGE, /* changes the daemon's or the cluster's state */
	_VIP_CTL_AUTH_MAX,
};
/* "read-only", "changes state"; NULL when out of range. */
const char *vip_ctl_authority_to_string(enum vip_ctl_authority a);

#define VIP_CTL_CMD_F_STREAM 0x1u /* the reply is followed by EVENT frames */
#define VIP_CTL_CMD_F_LOCAL 0x2u  /* vipctl answers it without the daemon */

struct vip_ctl_command {
	enum vip_ctl_cmd id;
	const char *words; /* "cluster duravip show": matched word by word */
	const char *args;  /* usage of the arguments ("<ip> <node>"), NULL: none */
	unsigned min_args; /* arguments after the words */
	unsigned max_args;
	enum vip_ctl_authority authority;
	unsigned flags;   /* VIP_CTL_CMD_F_* */
	const char *help; /* one line */
};

/* The table, indexed by enum vip_ctl_cmd. */
extern const struct vip_ctl_command vip_ctl_commands[_VIP_CTL_CMD_MAX];

/*
 * The command whose words match most of argv's leading words, or NULL;
 * *ret_n: how many words matched.
 */
const struct vip_ctl_command *vip_ctl_command_find(const char *const *argv, size_t argc, size_t *ret_n);

/* "usage: WORDS ARGS" into buf. */
void vip_ctl_command_usage(const struct vip_ctl_command *c, char *buf, size_t len);

/*
 * `help`, the same from vipd and vipctl: the table as text (words, usage,
 * authority, help; errors sticky in out->err) or as the JSON document
 * {"commands": [{"command", "args", "authority", "help"}, ...]}.
 */
void vip_ctl_help_text(struct vip_ctl_buf *out);
void vip_ctl_help_json(struct vip_json *w);

#endif

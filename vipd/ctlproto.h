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
 *            connection closes (the `events` command).
 *   EVENT    the text of one event: one line, or one JSON object, with its
 *            final newline; no NUL.
 *
 * A conversation: the client sends one REQUEST, the server answers one REPLY
 * (then the client may send the next request). After a REPLY with
 * VIP_CTL_F_STREAM the server only sends EVENT frames.
 */
#ifndef VIPD_CTLPROTO_H
#define VIPD_CTLPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define VIP_CTL_MAGIC 0x5643u /* "VC" */
#define VIP_CTL_VERSION 1u
#define VIP_CTL_HEADER_SIZE 12u

#define VIP_CTL_MAX_ARGS 64u
#define VIP_CTL_MAX_ARG 4096u
#define VIP_CTL_MAX_REQUEST (64u * 1024u)        /* REQUEST payload */
#define VIP_CTL_MAX_REPLY (16u * 1024u * 1024u)  /* REPLY payload */
#define VIP_CTL_MAX_EVENT (64u * 1024u)          /* EVENT payload */

enum vip_ctl_type {
	VIP_CTL_REQUEST = 1,
	VIP_CTL_REPLY = 2,
	VIP_CTL_EVENT = 3,
	_VIP_CTL_TYPE_MAX,
};
const char *vip_ctl_type_to_string(enum vip_ctl_type t);

#define VIP_CTL_F_JSON 0x0001u   /* REQUEST: answer in JSON */
#define VIP_CTL_F_STREAM 0x0001u /* REPLY: EVENT frames follow */

/* Reply status: the exit status vipctl returns. Commands may use others < 256. */
enum vip_ctl_status {
	VIP_CTL_OK = 0,
	VIP_CTL_FAILED = 1,       /* the command ran and failed; the body says why */
	VIP_CTL_USAGE = 2,        /* unknown command or wrong arguments */
	VIP_CTL_DENIED = 3,       /* peer credentials refused */
	VIP_CTL_BUSY = 4,         /* too many connections */
	VIP_CTL_PROTOCOL = 5,     /* malformed frame or wrong version */
	VIP_CTL_TOO_LARGE = 6,    /* request or reply over its bound */
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
 * with -ENOBUFS and leave the buffer as it was. Zero-initialise and set max
 * (0: VIP_CTL_MAX_REPLY). Free with vip_ctl_buf_free.
 */
struct vip_ctl_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max;
};
int vip_ctl_buf_append(struct vip_ctl_buf *b, const void *p, size_t n);
int vip_ctl_buf_puts(struct vip_ctl_buf *b, const char *s);
int vip_ctl_buf_printf(struct vip_ctl_buf *b, const char *fmt, ...) _printf_(2, 3);
/* Append s as a JSON string literal (quotes and escapes included). */
int vip_ctl_buf_json_string(struct vip_ctl_buf *b, const char *s);
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

/* Append a REPLY frame. 0, -EINVAL (status >= 256, NUL in body), -EMSGSIZE
 * (body over the bound), -ENOBUFS, -ENOMEM. */
int vip_ctl_reply_encode(struct vip_ctl_buf *out, unsigned status, bool stream, const void *body,
			 size_t body_len);
/* Decode a whole REPLY frame; *ret_body points into frame. 0 or -EBADMSG. */
int vip_ctl_reply_decode(const uint8_t *frame, size_t len, unsigned *ret_status, bool *ret_stream,
			 const char **ret_body, size_t *ret_body_len);

/* Append an EVENT frame. 0, -EINVAL (NUL in text), -EMSGSIZE, -ENOBUFS, -ENOMEM. */
int vip_ctl_event_encode(struct vip_ctl_buf *out, const void *text, size_t len);
/* Decode a whole EVENT frame; *ret_text points into frame. 0 or -EBADMSG. */
int vip_ctl_event_decode(const uint8_t *frame, size_t len, const char **ret_text, size_t *ret_len);

#endif

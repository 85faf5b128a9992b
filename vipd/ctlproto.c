/* SPDX-License-Identifier: MIT */
/*
 * The control-socket codec: framing, exact payload checks, and a bounded
 * output buffer. No I/O; every length is checked before it is used.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"

static const char *const type_names[_VIP_CTL_TYPE_MAX] = {
	[VIP_CTL_REQUEST] = "request",
	[VIP_CTL_REPLY] = "reply",
	[VIP_CTL_EVENT] = "event",
};

const char *vip_ctl_type_to_string(enum vip_ctl_type t)
{
	if ((unsigned)t >= _VIP_CTL_TYPE_MAX)
		return NULL;
	return type_names[t];
}

/* ---------------------------------------------------------------- buffer */

static size_t buf_max(const struct vip_ctl_buf *b)
{
	return b->max ? b->max : VIP_CTL_MAX_REPLY;
}

static int buf_fail(struct vip_ctl_buf *b, int r)
{
	if (!b->err)
		b->err = r;
	return r;
}

static int buf_reserve(struct vip_ctl_buf *b, size_t n)
{
	size_t need, cap;
	uint8_t *d;

	if (n > buf_max(b) || b->len > buf_max(b) - n)
		return buf_fail(b, -ENOBUFS);
	need = b->len + n;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	d = realloc(b->data, cap);
	if (!d)
		return buf_fail(b, -ENOMEM);
	b->data = d;
	b->cap = cap;
	return 0;
}

int vip_ctl_buf_append(struct vip_ctl_buf *b, const void *p, size_t n)
{
	int r;

	if (n == 0)
		return 0;
	r = buf_reserve(b, n);
	if (r < 0)
		return r;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int vip_ctl_buf_puts(struct vip_ctl_buf *b, const char *s)
{
	return vip_ctl_buf_append(b, s, strlen(s));
}

int vip_ctl_buf_printf(struct vip_ctl_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return buf_fail(b, -EINVAL);
	/* +1 for vsnprintf's NUL, which is not counted in len. */
	r = buf_reserve(b, (size_t)n + 1);
	if (r < 0)
		return r;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void vip_ctl_buf_consume(struct vip_ctl_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void vip_ctl_buf_reset(struct vip_ctl_buf *b)
{
	b->len = 0;
	b->err = 0;
}

void vip_ctl_buf_free(struct vip_ctl_buf *b)
{
	size_t max = b->max;

	free(b->data);
	*b = (struct vip_ctl_buf){ .max = max };
}

/* ---------------------------------------------------------------- framing */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t type_max_payload(uint16_t type)
{
	switch (type) {
	case VIP_CTL_REQUEST:
		return VIP_CTL_MAX_REQUEST;
	case VIP_CTL_REPLY:
		return VIP_CTL_MAX_REPLY;
	case VIP_CTL_EVENT:
		return VIP_CTL_MAX_EVENT;
	default:
		return 0;
	}
}

static uint16_t type_flags(uint16_t type)
{
	switch (type) {
	case VIP_CTL_REQUEST:
		return VIP_CTL_F_JSON;
	case VIP_CTL_REPLY:
		return VIP_CTL_F_STREAM | VIP_CTL_F_BODY_JSON;
	default:
		return 0;
	}
}

int vip_ctl_frame_peek(const uint8_t *buf, size_t len, size_t max_payload, struct vip_ctl_header *ret)
{
	struct vip_ctl_header h;
	uint32_t mv, bound;

	/* Judge the magic as soon as its bytes are in: garbage fails fast. */
	if (len >= 2 && get16(buf) != VIP_CTL_MAGIC)
		return -EBADMSG;
	if (len < VIP_CTL_HEADER_SIZE)
		return 0;
	mv = get32(buf);
	h.version = (uint16_t)(mv & 0xffffu);
	h.type = get16(buf + 4);
	h.flags = get16(buf + 6);
	h.length = get32(buf + 8);
	if (h.version != VIP_CTL_VERSION) {
		*ret = h;
		return -EPROTONOSUPPORT;
	}
	bound = type_max_payload(h.type);
	if (bound == 0 || (h.flags & ~type_flags(h.type)))
		return -EBADMSG;
	if (h.length > bound || (max_payload && h.length > max_payload))
		return -EMSGSIZE;
	*ret = h;
	if (len - VIP_CTL_HEADER_SIZE < h.length)
		return 0;
	return (int)(VIP_CTL_HEADER_SIZE + h.length);
}

/* Check a whole frame of the expected type; returns the payload or NULL. */
static const uint8_t *frame_payload(const uint8_t *frame, size_t len, uint16_t type, struct vip_ctl_header *h)
{
	int r = vip_ctl_frame_peek(frame, len, 0, h);

	if (r <= 0 || (size_t)r != len || h->type != type)
		return NULL;
	return frame + VIP_CTL_HEADER_SIZE;
}

/* Reserve and write a header; the payload follows. Returns its offset or -errno. */
static int frame_begin(struct vip_ctl_buf *out, uint16_t type, uint16_t flags, size_t length)
{
	uint8_t hdr[VIP_CTL_HEADER_SIZE];
	int r;

	if (length > type_max_payload(type))
		return -EMSGSIZE;
	r = buf_reserve(out, VIP_CTL_HEADER_SIZE + length);
	if (r < 0)
		return r;
	put32(hdr, VIP_CTL_MAGIC << 16 | VIP_CTL_VERSION);
	put16(hdr + 4, type);
	put16(hdr + 6, flags);
	put32(hdr + 8, (uint32_t)length);
	memcpy(out->data + out->len, hdr, sizeof(hdr));
	out->len += sizeof(hdr);
	return 0;
}

/* ---------------------------------------------------------------- request */

void vip_ctl_request_clear(struct vip_ctl_request *r)
{
	if (r->argv)
		for (size_t i = 0; i < r->argc; i++)
			free(r->argv[i]);
	free(r->argv);
	*r = (struct vip_ctl_request){ 0 };
}

int vip_ctl_request_encode(struct vip_ctl_buf *out, const char *const *argv, size_t argc, bool json)
{
	size_t length = 2;
	uint8_t be[2];
	int r;

	if (argc == 0 || argc > VIP_CTL_MAX_ARGS)
		return -EINVAL;
	for (size_t i = 0; i < argc; i++) {
		size_t n = argv[i] ? strlen(argv[i]) : 0;
		if (n == 0 || n > VIP_CTL_MAX_ARG)
			return -EINVAL;
		length += 2 + n;
	}
	r = frame_begin(out, VIP_CTL_REQUEST, json ? VIP_CTL_F_JSON : 0, length);
	if (r < 0)
		return r;
	/* Space is reserved: the appends below cannot fail. */
	put16(be, (uint16_t)argc);
	(void)vip_ctl_buf_append(out, be, 2);
	for (size_t i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);
		put16(be, (uint16_t)n);
		(void)vip_ctl_buf_append(out, be, 2);
		(void)vip_ctl_buf_append(out, argv[i], n);
	}
	return 0;
}

int vip_ctl_request_decode(const uint8_t *frame, size_t len, struct vip_ctl_request *ret)
{
	struct vip_ctl_header h;
	const uint8_t *p = frame_payload(frame, len, VIP_CTL_REQUEST, &h);
	struct vip_ctl_request req = { 0 };
	size_t off = 2, argc;

	if (!p || h.length < 2)
		return -EBADMSG;
	argc = get16(p);
	if (argc == 0 || argc > VIP_CTL_MAX_ARGS)
		return -EBADMSG;
	req.argv = calloc(argc + 1, sizeof(char *));
	if (!req.argv)
		return -ENOMEM;
	for (size_t i = 0; i < argc; i++) {
		size_t n;

		if (h.length - off < 2)
			goto clear_req;
		n = get16(p + off);
		off += 2;
		if (n == 0 || n > VIP_CTL_MAX_ARG || h.length - off < n || memchr(p + off, 0, n))
			goto clear_req;
		req.argv[i] = strndup((const char *)p + off, n);
		if (!req.argv[i]) {
			req.argc = i;
			vip_ctl_request_clear(&req);
			return -ENOMEM;
		}
		req.argc = i + 1;
		off += n;
	}
	if (off != h.length)
		goto clear_req;
	req.json = h.flags & VIP_CTL_F_JSON;
	*ret = req;
	return 0;
clear_req:
	vip_ctl_request_clear(&req);
	return -EBADMSG;
}

/* ---------------------------------------------------------------- reply, event */

int vip_ctl_reply_encode(struct vip_ctl_buf *out, unsigned status, unsigned flags, const void *body,
			 size_t body_len)
{
	uint8_t be[4];
	int r;

	if (status >= VIP_CTL_STATUS_LIMIT || (flags & ~type_flags(VIP_CTL_REPLY)) ||
	    (body_len && memchr(body, 0, body_len)))
		return -EINVAL;
	if (body_len > VIP_CTL_MAX_REPLY - 4)
		return -EMSGSIZE;
	r = frame_begin(out, VIP_CTL_REPLY, (uint16_t)flags, 4 + body_len);
	if (r < 0)
		return r;
	put32(be, status);
	(void)vip_ctl_buf_append(out, be, 4);
	(void)vip_ctl_buf_append(out, body, body_len);
	return 0;
}

int vip_ctl_reply_decode(const uint8_t *frame, size_t len, unsigned *ret_status, unsigned *ret_flags,
			 const char **ret_body, size_t *ret_body_len)
{
	struct vip_ctl_header h;
	const uint8_t *p = frame_payload(frame, len, VIP_CTL_REPLY, &h);
	uint32_t status;

	if (!p || h.length < 4)
		return -EBADMSG;
	status = get32(p);
	if (status >= VIP_CTL_STATUS_LIMIT || memchr(p + 4, 0, h.length - 4))
		return -EBADMSG;
	*ret_status = status;
	*ret_flags = h.flags;
	*ret_body = (const char *)p + 4;
	*ret_body_len = h.length - 4;
	return 0;
}

int vip_ctl_event_encode(struct vip_ctl_buf *out, const void *text, size_t len)
{
	int r;

	if (len && memchr(text, 0, len))
		return -EINVAL;
	r = frame_begin(out, VIP_CTL_EVENT, 0, len);
	if (r < 0)
		return r;
	(void)vip_ctl_buf_append(out, text, len);
	return 0;
}

int vip_ctl_event_decode(const uint8_t *frame, size_t len, const char **ret_text, size_t *ret_len)
{
	struct vip_ctl_header h;
	const uint8_t *p = frame_payload(frame, len, VIP_CTL_EVENT, &h);

	if (!p || memchr(p, 0, h.length))
		return -EBADMSG;
	*ret_text = (const char *)p;
	*ret_len = h.length;
	return 0;
}

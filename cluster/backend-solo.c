/* SPDX-License-Identifier: MIT */
/*
 * The solo backend: one member, this process. join() delivers a view with
 * just itself; messages loop back in the order sent, through an eventfd so
 * they are delivered from the event loop like the cpg backend's, never from
 * inside send(). Always quorate.
 */
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cluster-internal.h"

/* Bound on looped-back messages waiting for dispatch. */
#define SOLO_QUEUE_MAX 65536

struct smsg {
	uint8_t *data;
	size_t len;
};

struct vip_cl_backend {
	struct vip_cl_backend_cbs cbs;
	void *userdata;
	int efd;
	struct vip_cl_member self;
	bool joined, view_pending, quorum_pending;
	uint64_t ring_seq;
	struct smsg *q;
	size_t q_head, q_len, q_cap;
};

static void kick(struct vip_cl_backend *b)
{
	uint64_t one = 1;
	/* A full counter still leaves the fd readable: nothing to do on error. */
	if (write(b->efd, &one, sizeof(one)) < 0)
		return;
}

static int solo_connect(const struct vip_cl_backend_cbs *cbs, void *userdata, struct vip_cl_backend **ret)
{
	struct vip_cl_backend *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->efd < 0) {
		int r = negerrno();
		free(b);
		return r;
	}
	b->cbs = *cbs;
	b->userdata = userdata;
	b->self = (struct vip_cl_member){ .nodeid = 1, .pid = (uint32_t)getpid() };
	*ret = b;
	return 0;
}

static void solo_free(struct vip_cl_backend *b)
{
	if (!b)
		return;
	for (size_t i = b->q_head; i < b->q_len; i++)
		free(b->q[i].data);
	free(b->q);
	close(b->efd);
	free(b);
}

static int solo_join(struct vip_cl_backend *b, _unused_ const char *group)
{
	if (b->joined)
		return -EALREADY;
	b->joined = b->view_pending = b->quorum_pending = true;
	kick(b);
	return 0;
}

static int solo_leave(struct vip_cl_backend *b)
{
	if (!b->joined)
		return -ENOTCONN;
	b->joined = b->view_pending = false;
	return 0;
}

static int solo_fd(struct vip_cl_backend *b)
{
	return b->efd;
}

static void deliver_view(struct vip_cl_backend *b)
{
	struct vip_cl_member me = b->self;
	struct vip_cl_view v = {
		.ring_seq = ++b->ring_seq,
		.members = &me,
		.n_members = 1,
		.joined = &me,
		.n_joined = 1,
		.self = 0,
	};
	b->view_pending = false;
	if (b->cbs.view)
		b->cbs.view(b->userdata, &v);
}

static int solo_dispatch(struct vip_cl_backend *b)
{
	uint64_t cnt;
	if (read(b->efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN) {
		int r = negerrno();
		if (b->cbs.lost)
			b->cbs.lost(b->userdata, r);
		return r;
	}
	if (b->view_pending)
		deliver_view(b);
	if (b->quorum_pending) {
		b->quorum_pending = false;
		if (b->cbs.quorum)
			b->cbs.quorum(b->userdata, true);
	}
	/* Deliver what was queued before this call; later sends kick again. */
	size_t end = b->q_len;
	while (b->q_head < end) {
		struct smsg m = b->q[b->q_head++];
		if (b->joined && b->cbs.message)
			b->cbs.message(b->userdata, &b->self, m.data, m.len);
		free(m.data);
	}
	if (b->q_head == b->q_len)
		b->q_head = b->q_len = 0;
	else
		kick(b);
	return 0;
}

static int solo_send(struct vip_cl_backend *b, const void *data, size_t len)
{
	if (!b->joined)
		return -ENOTCONN;
	if (b->q_len - b->q_head >= SOLO_QUEUE_MAX)
		return -EAGAIN;
	if (b->q_len == b->q_cap) {
		size_t cap = b->q_cap ? b->q_cap * 2 : 16;
		struct smsg *q = realloc(b->q, cap * sizeof(*q));
		if (!q)
			return -ENOMEM;
		b->q = q;
		b->q_cap = cap;
	}
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	if (len)
		memcpy(copy, data, len);
	b->q[b->q_len++] = (struct smsg){ .data = copy, .len = len };
	kick(b);
	return 0;
}

static bool solo_is_quorate(_unused_ struct vip_cl_backend *b)
{
	return true;
}

static int solo_local(struct vip_cl_backend *b, struct vip_cl_member *ret)
{
	*ret = b->self;
	return 0;
}

const struct vip_cl_backend_ops vip_cl_backend_solo = {
	.name = "solo",
	.connect = solo_connect,
	.free = solo_free,
	.join = solo_join,
	.leave = solo_leave,
	.fd = solo_fd,
	.dispatch = solo_dispatch,
	.send = solo_send,
	.is_quorate = solo_is_quorate,
	.local = solo_local,
};

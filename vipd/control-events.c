/* SPDX-License-Identifier: MIT */
/*
 * The control server's event streams (`events`): subscribing, pushing one
 * change to every subscriber, and dropping a subscriber that does not read
 * (bounded by max_subscriber_output, with a last line and a log warning).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "control-internal.h"
#include "log.h"

#define DROP_GRACE_MS 1000u

int vipd_control_subscribe(struct vipd_control_call *call)
{
	struct vipd_control_conn *c = call ? call->conn : NULL;

	if (!c || !c->in_call)
		return -EINVAL;
	if (!c->subscribed) {
		c->subscribed = true;
		c->json = call->json;
		c->ctl->n_subscribers++;
		loop_timer_disarm(c->idle);
	}
	return 0;
}

size_t vipd_control_n_subscribers(const struct vipd_control *ctl)
{
	return ctl->n_subscribers;
}

/*
 * A subscriber that does not read: it gets one last line saying so (when
 * its socket still takes it) and is closed, at the latest after a grace
 * period. The daemon's log says so too.
 */
static void conn_drop_subscriber(struct vipd_control_conn *c)
{
	struct vip_json w;
	char msg[160];
	int r;

	log_warning("Control: dropped an events subscriber (pid %d, uid %u) with %zu bytes it did not read "
		    "(limit %zu)",
		    (int)c->peer.pid, (unsigned)c->peer.uid, c->out.len, c->ctl->cfg.max_subscriber_output);
	snprintf(msg, sizeof(msg), "dropped: this subscriber did not read its events (%zu bytes waiting)",
		 c->out.len);
	c->closing = true;
	c->subscribed = false;
	c->ctl->n_subscribers--;
	if (c->json) {
		vip_json_init(&w, VIP_CTL_MAX_EVENT, false);
		vip_json_object_begin(&w, NULL);
		vip_json_string(&w, "error", msg);
		vip_json_uint(&w, "status", VIP_CTL_BUSY);
		vip_json_object_end(&w);
		r = vip_json_finish(&w);
		if (r >= 0)
			r = vip_ctl_event_encode(&c->out, w.data, w.len);
		vip_json_free(&w);
	} else {
		char line[sizeof(msg) + 16];

		snprintf(line, sizeof(line), "error: %s\n", msg);
		r = vip_ctl_event_encode(&c->out, line, strlen(line));
	}
	if (r < 0) {
		control_conn_close(c);
		return;
	}
	(void)loop_timer_arm(c->idle, DROP_GRACE_MS, 0);
	(void)control_conn_flush(c);
}

/* Frame text (adding a final newline) into c->out. False when c was dropped. */
static bool conn_queue_event(struct vipd_control_conn *c, const char *text, size_t len)
{
	struct vip_ctl_buf tmp = { .max = VIP_CTL_MAX_EVENT };
	int r;

	if (c->out.len + VIP_CTL_HEADER_SIZE + len + 1 > c->ctl->cfg.max_subscriber_output) {
		conn_drop_subscriber(c);
		return false;
	}
	if (len == 0 || text[len - 1] != '\n') {
		r = vip_ctl_buf_append(&tmp, text, len);
		if (r >= 0)
			r = vip_ctl_buf_append(&tmp, "\n", 1);
		if (r >= 0)
			r = vip_ctl_event_encode(&c->out, tmp.data, tmp.len);
		vip_ctl_buf_free(&tmp);
	} else {
		r = vip_ctl_event_encode(&c->out, text, len);
	}
	if (r < 0) {
		control_conn_close(c); /* over max_output: a subscriber that does not read */
		return false;
	}
	return control_conn_flush(c);
}

int vipd_control_event(struct vipd_control *ctl, const char *text, const char *json)
{
	size_t tlen = text ? strlen(text) : 0, jlen = json ? strlen(json) : 0;
	struct vipd_control_conn *next;
	int n = 0;

	if (tlen >= VIP_CTL_MAX_EVENT || jlen >= VIP_CTL_MAX_EVENT)
		return -EINVAL;
	for (struct vipd_control_conn *c = ctl->conns; c; c = next) {
		const char *s = c->json ? json : text;

		next = c->next; /* c may be dropped below */
		/* A connection inside its own handler gets its REPLY first. */
		if (!c->subscribed || c->in_call || !s)
			continue;
		if (conn_queue_event(c, s, c->json ? jlen : tlen))
			n++;
	}
	return n;
}

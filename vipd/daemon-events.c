/* SPDX-License-Identifier: MIT */
/*
 * vipd/daemon: changes pushed to `events` subscribers. One event is one
 * structure, rendered as a text line and as a JSON object (through the
 * shared writer) from the same fields.
 */
#include <stdio.h>
#include <time.h>

#include "daemon-internal.h"

struct event {
	char time[64]; /* UTC, milliseconds: 2024-01-02T03:04:05.678Z */
	const char *kind;
	char addr[VIP_ADDR_STRLEN]; /* "" when the event is about no address */
	const char *detail;         /* NULL: none */
};

static void event_text(struct vip_ctl_buf *out, const struct event *e)
{
	vip_ctl_buf_printf(out, "%s %s%s%s%s%s\n", e->time, e->kind, e->addr[0] ? " " : "", e->addr,
			   e->detail ? " " : "", e->detail ? e->detail : "");
	vip_ctl_buf_append(out, "", 1);
}

static void event_json(struct vip_json *w, const struct event *e)
{
	vip_json_object_begin(w, NULL);
	vip_json_string(w, "time", e->time);
	vip_json_string(w, "event", e->kind);
	if (e->addr[0])
		vip_json_string(w, "address", e->addr);
	if (e->detail)
		vip_json_string(w, "detail", e->detail);
	vip_json_object_end(w);
}

void daemon_event(struct vipd_daemon *d, const char *kind, const struct vip_addr *addr, const char *detail)
{
	struct event e = { .kind = kind, .detail = detail };
	struct vip_ctl_buf text = { .max = VIP_CTL_MAX_EVENT };
	struct vip_json json;
	struct timespec now;
	struct tm tm;

	if (!d->control || vipd_control_n_subscribers(d->control) == 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(e.time, sizeof(e.time), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000L);
	if (addr)
		vip_addr_to_string(addr, e.addr, sizeof(e.addr));
	vip_json_init(&json, VIP_CTL_MAX_EVENT - 1, false);
	event_json(&json, &e);
	event_text(&text, &e);
	/* Both whole, or neither: a subscriber never gets a cut event. */
	if (vip_json_finish(&json) == 0 && text.err == 0)
		vipd_control_event(d->control, (const char *)text.data, json.data);
	vip_json_free(&json);
	vip_ctl_buf_free(&text);
}

/* SPDX-License-Identifier: MIT */
/*
 * vipd/daemon: start-up, the loop's inputs and the planned stop (see
 * daemon.h for the other daemon-*.c files, each a lower layer of this one).
 * The console's commands are not called from here: main.c hands their
 * table in (opts.console) and the control server calls them.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon-internal.h"
#include "log.h"
#include "monitor.h"
#include "authkey.h"
#include "privdrop.h"
#include "rundir.h"
#include "sdnotify.h"
#include "vipd-build.h"

/* The engine thread's CPU time (the failover breakdown: kernel work for our requests counts). */
static uint64_t thread_cpu_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void engine_event(void *data, enum vipd_engine_event ev, const struct vip_addr *addr,
			 const char *detail)
{
	daemon_event(data, vipd_engine_event_to_string(ev), addr, detail);
	if ((ev == VIPD_EV_ACQUIRED || ev == VIPD_EV_RELEASED) && addr)
		daemon_node_plumbed(data, ev == VIPD_EV_ACQUIRED, addr, detail);
}

/* ---------------------------------------------------------------- loop callbacks */

static void on_port_fd(struct loop *l _unused_, int fd _unused_, uint32_t revents _unused_, void *data)
{
	struct vipd_daemon *d = data;
	int r = vipd_engine_drain_port(d->engine, loop_now_ms());

	if (r < 0)
		log_error_errno_ratelimit(r, "Failed to read address events: %m");
	daemon_neigh_poke(d, loop_now_ms());
	vipd_daemon_pump(d);
}

static void on_proto_timer(struct loop *l _unused_, struct loop_timer *t _unused_, void *data)
{
	struct vipd_daemon *d = data;

	if (d->proto)
		vip_cl_proto_on_tick(d->proto, loop_now_ms());
	vipd_daemon_pump(d);
}

static void on_announce_timer(struct loop *l _unused_, struct loop_timer *t _unused_, void *data)
{
	struct vipd_daemon *d = data;
	size_t before = vipd_announce_scheduled(d->announce);

	vipd_announce_tick(d->announce, loop_now_ms());
	if (before > d->announce_peak)
		d->announce_peak = before;
	/* The last repeat went out: the tick's scratch and the schedule's array are freed. */
	if (vipd_announce_scheduled(d->announce) == 0 && d->announce_peak) {
#ifdef __GLIBC__
		if (d->announce_peak >= TRIM_AFTER_CHANGES)
			malloc_trim(0);
#endif
		d->announce_peak = 0;
	}
	daemon_arm_timers(d);
}

static void on_check_timer(struct loop *l _unused_, struct loop_timer *t _unused_, void *data)
{
	struct vipd_daemon *d = data;
	int r = vipd_engine_check_links(d->engine, loop_now_ms());

	if (r < 0)
		log_error_errno(r, "Link check failed: %m");
	vipd_daemon_pump(d);
}

/* An answer to an address probe (vipd/engine-probe.c). */
static void on_probe_fd(struct loop *l _unused_, int fd _unused_, uint32_t revents _unused_, void *data)
{
	struct vipd_daemon *d = data;

	vipd_engine_drain_answers(d->engine, loop_now_ms());
	daemon_arm_timers(d);
}

static void on_probe_timer(struct loop *l _unused_, struct loop_timer *t _unused_, void *data)
{
	struct vipd_daemon *d = data;

	vipd_engine_probe_due(d->engine, loop_now_ms());
	vipd_daemon_pump(d);
}

static void on_retry_timer(struct loop *l _unused_, struct loop_timer *t _unused_, void *data)
{
	vipd_daemon_pump(data);
}

static void on_stop_signal(struct loop *l _unused_, const struct signalfd_siginfo *si, void *data)
{
	log_notice("Received %s", strsignal((int)si->ssi_signo));
	vipd_daemon_stop(data);
}

static void on_hup(struct loop *l _unused_, const struct signalfd_siginfo *si _unused_, void *data)
{
	log_notice("Received SIGHUP: reloading the configuration");
	vipd_daemon_reload(data, NULL);
}

/* The monitor's end of the socketpair: it never writes, so anything is its end. */
static void on_monitor_fd(struct loop *l, int fd, uint32_t revents _unused_, void *data)
{
	struct vipd_daemon *d = data;
	char buf[16];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	loop_remove_fd(l, fd);
	d->monitor_watched = false;
	if (n > 0)
		log_error("The monitor wrote %zd unexpected bytes: stopping", n);
	else
		log_error("The monitor is gone: releasing every DuraVIP and stopping, since nothing could "
			  "clean up after a crash any more");
	vipd_daemon_stop(d);
}

static void tell_monitor(struct vipd_daemon *d, enum vipd_note note)
{
	int r;

	if (!d->opts.monitored)
		return;
	r = vipd_note_send(d->opts.monitor_fd, note);
	if (r < 0)
		log_full_errno(d->monitor_watched ? LOG_WARNING : LOG_DEBUG, r,
			       "Cannot tell the monitor %s: %m", vipd_note_to_string(note));
}

/* ---------------------------------------------------------------- start-up */

/* The control socket's folder, checked (vipd/rundir.h) with the reason logged. */
static int check_run_folder(const char *path, bool do_chown, gid_t gid)
{
	_cleanup_free_ char *dir = vipd_rundir_of(path);
	char why[VIPD_RUNDIR_WHY_LEN];
	int fd;

	if (!dir)
		return log_error_errno(-ENOMEM, "Failed to open the control socket %s: %m", path);
	fd = vipd_rundir_open(dir, true, do_chown, gid, why, sizeof(why));
	if (fd < 0)
		return log_error_errno(fd, "Refusing to start: %s", why[0] ? why : strerror(-fd));
	close(fd);
	return 0;
}

static int setup_control(struct vipd_daemon *d)
{
	const char *path = d->opts.control_path ? d->opts.control_path : VIPD_DEFAULT_CONTROL;
	struct vipd_control_config cc = {
		.path = d->opts.control_path,
		.daemon_uid = d->cfg->security.uid,
		.gid = d->cfg->security.gid,
		.group_name = d->cfg->security.group,
		.chown_socket = d->opts.chown_control,
		.admin_group = d->cfg->control.admin_group,
		.admin_gid = d->cfg->control.admin_gid,
		.handlers = d->opts.console,
		.userdata = d,
	};
	int r;

	if (d->opts.no_control)
		return 0;
	r = check_run_folder(path, cc.chown_socket, cc.gid);
	if (r < 0)
		return r;
	r = vipd_control_new(d->loop, &cc, &d->control);
	if (r < 0)
		return log_error_errno(r, "Failed to open the control socket %s: %m", path);
	return 0;
}

static int setup_core(struct vipd_daemon *d)
{
	struct vipd_announce_opts ao;
	struct vipd_engine_deps deps;
	int r;

	r = loop_new(&d->loop);
	if (r < 0)
		return log_error_errno(r, "Failed to create the event loop: %m");
	d->started_ms = d->config_since_ms = loop_now_ms();
	d->port_ops = d->opts.port_ops ? d->opts.port_ops : vip_port_native();
	/* neighbour events too: the shared neighbour cache learns from them (vipd/neigh.h) */
	r = d->port_ops->open(&(struct vip_port_opts){ .flags = VIP_PORT_OPEN_NEIGH }, &d->port);
	if (r < 0)
		return log_error_errno(r, "Failed to open the %s port (rtnetlink and packet sockets): %m",
				       d->port_ops->name);
	r = daemon_neigh_new(d); /* before the announcer and the engine, which use it */
	if (r < 0)
		return r;
	vipd_announce_opts_from_config(&d->cfg->cluster, &ao);
	d->announce_port = (struct vipd_announce_port){ .ops = d->port_ops, .port = d->port };
	r = vipd_announce_new(&ao, vipd_announce_port_send, &d->announce_port, &d->announce);
	if (r < 0)
		return log_error_errno(r, "Out of memory: %m");
	d->announce_port.announce = d->announce;
	vipd_announce_set_hosts(d->announce, daemon_announce_hosts, daemon_announce_send_to, d);
	deps = (struct vipd_engine_deps){
		.port_ops = d->port_ops,
		.port = d->port,
		.announce = d->announce,
		.neigh = d->neigh,
		.event = engine_event,
		.event_data = d,
		.clock = loop_now_ms,
		.clock_us = loop_now_us,
		.cpu_us = thread_cpu_us,
	};
	r = vipd_engine_new(&deps, d->cfg, &d->engine);
	if (r < 0)
		return log_error_errno(r, "Out of memory: %m");
	r = vip_cl_proto_new(d->cfg, &d->proto);
	if (r < 0)
		return log_error_errno(r, "Failed to set up the ownership protocol: %m");
	/* the key is root's (docs/privileges.md): read now, before the drop, and kept */
	r = vipd_authkey_load(d->cfg, "", true, &d->cl_key);
	if (r < 0)
		return r;
	vip_cl_proto_set_key(d->proto, d->cl_key);
	vipd_engine_set_proto(d->engine, d->proto);
	return 0;
}

static int setup_timers(struct vipd_daemon *d)
{
	struct {
		struct loop_timer **t;
		loop_timer_cb cb;
	} tt[] = {
		{ &d->t_proto, on_proto_timer },
		{ &d->t_announce, on_announce_timer },
		{ &d->t_check, on_check_timer },
		{ &d->t_retry, on_retry_timer },
		{ &d->t_reconnect, daemon_on_reconnect_timer },
		{ &d->t_probe, on_probe_timer },
	};
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(tt); i++) {
		r = loop_timer_new(d->loop, tt[i].cb, d, tt[i].t);
		if (r < 0)
			return log_error_errno(r, "Failed to create a timer: %m");
	}
	return daemon_arm_check_timer(d);
}

/* The port's answers to address probes (none where it cannot probe). */
static int watch_probe_fds(struct vipd_daemon *d)
{
	int fds[VIP_PORT_PROBE_FDS], n, r;

	n = d->port_ops->probe_fds ? d->port_ops->probe_fds(d->port, fds) : 0;
	if (n < 0)
		return log_error_errno(n, "Failed to get the address probes' sockets: %m");
	for (int i = 0; i < n; i++) {
		r = loop_add_fd(d->loop, fds[i], EPOLLIN, on_probe_fd, d);
		if (r < 0)
			return log_error_errno(r, "Failed to watch answers to address probes: %m");
		d->probe_fds[d->n_probe_fds++] = fds[i];
	}
	return 0;
}

static int setup_signals(struct vipd_daemon *d)
{
	int r = 0;

	signal(SIGPIPE, SIG_IGN);
	r = r ?: loop_add_signal(d->loop, SIGTERM, on_stop_signal, d);
	r = r ?: loop_add_signal(d->loop, SIGINT, on_stop_signal, d);
	r = r ?: loop_add_signal(d->loop, SIGHUP, on_hup, d);
	if (r < 0)
		return log_error_errno(r, "Failed to set up signals: %m");
	if (d->opts.monitored) {
		r = loop_add_fd(d->loop, d->opts.monitor_fd, EPOLLIN, on_monitor_fd, d);
		if (r < 0)
			return log_error_errno(r, "Failed to watch the monitor: %m");
		d->monitor_watched = true;
	}
	return 0;
}

static int drop_privileges(struct vipd_daemon *d)
{
	struct vip_privdrop_needs needs;
	struct vip_privdrop_result res = { 0 };
	_cleanup_free_ char *id = NULL;
	int r;

	if (d->opts.no_drop)
		return 0;
	vip_privdrop_needs_from_config(d->cfg, &needs);
	r = vip_privdrop(&d->cfg->security, &needs, &res);
	for (size_t i = 0; i < res.n_msgs; i++)
		log_full(res.msgs[i].prio, "%s", res.msgs[i].text);
	if (r < 0 && res.error[0])
		return log_error_errno(r, "Failed to drop privileges: %s", res.error);
	if (r < 0)
		return log_error_errno(r, "Failed to drop privileges: %m");
	if (vip_privdrop_identity(&id) == 0)
		log_info("Running as %s", id);
	d->chrooted = d->cfg->security.chroot != NULL;
	return 0;
}

int vipd_daemon_setup(struct vipd_daemon *d, const struct vipd_daemon_opts *opts)
{
	int r;

	*d = (struct vipd_daemon){ .opts = *opts, .quorate_seen = -1 };
	r = daemon_load(opts, NULL, &d->cfg, NULL, &d->corosync_token_ms);
	if (r < 0)
		return r;
	r = setup_core(d);
	if (r < 0)
		return r;
	r = setup_control(d);
	if (r < 0)
		return r;
	r = daemon_cluster_connect(d, true);
	if (r < 0)
		return r;
	r = vipd_engine_clean_slate(d->engine);
	if (r < 0)
		return log_error_errno(r, "Failed to remove DuraVIPs left from before: %m");
	if (r > 0)
		log_notice("Clean slate: removed %d DuraVIP address%s left from before", r,
			   r == 1 ? "" : "es");
	r = setup_signals(d);
	if (r < 0)
		return r;
	r = drop_privileges(d);
	if (r < 0)
		return r;
	r = vipd_engine_start(d->engine, loop_now_ms());
	if (r < 0)
		return log_error_errno(r, "Failed to read the system's addresses: %m");
	r = loop_add_fd(d->loop, d->port_ops->event_fd(d->port), EPOLLIN, on_port_fd, d);
	if (r < 0)
		return log_error_errno(r, "Failed to watch address events: %m");
	r = watch_probe_fds(d);
	if (r < 0)
		return r;
	r = setup_timers(d);
	if (r < 0)
		return r;
	r = daemon_neigh_start(d);
	if (r < 0)
		return r;
	r = daemon_node_setup(d); /* after the drop: commands run as vipd's user */
	if (r < 0)
		return r;
	r = daemon_cluster_join(d);
	if (r < 0)
		return r;
	log_notice("vipd %s started: node %s, %s backend, group %s, %zu DuraVIP%s", VIPD_VERSION,
		   d->cfg->cluster.nodename, d->be_ops->name, d->cfg->cluster.cluster_group,
		   d->cfg->n_duravips, d->cfg->n_duravips == 1 ? "" : "s");
	vipd_daemon_pump(d);
	return 0;
}

int vipd_daemon_run(struct vipd_daemon *d)
{
	int r;

	/* Under a monitor READY=1 is the monitor's, sent once (tools/vipd.service). */
	if (d->opts.monitored)
		tell_monitor(d, VIPD_NOTE_READY);
	else
		vipd_sd_notify("READY=1");
	vipd_daemon_notify_status(d);
	r = loop_run(d->loop);
	if (r < 0) {
		log_error_errno(r, "Event loop failed: %m");
		vipd_daemon_stop(d);
		return 1;
	}
	return r;
}

/* ---------------------------------------------------------------- stop */

static void flush_sends(struct vipd_daemon *d)
{
	/* Bounded: at most 50 flow-control retries 10 ms apart. */
	for (int tries = 0; d->proto && tries < 50; tries++) {
		bool blocked = false;

		daemon_drain(d, &blocked);
		if (!blocked || !d->be)
			return;
		d->be_ops->dispatch(d->be);
		nanosleep(&(struct timespec){ .tv_nsec = 10000000L }, NULL);
	}
}

void vipd_daemon_stop(struct vipd_daemon *d)
{
	uint64_t now = loop_now_ms();
	int r;

	if (d->stopping)
		return;
	d->stopping = true;
	/* A monitored engine may stop to be restarted: STOPPING=1 is the monitor's. */
	if (!d->opts.monitored)
		vipd_sd_notify("STOPPING=1");
	log_notice("Stopping: releasing every DuraVIP and leaving the group");
	if (d->engine) {
		r = vipd_engine_release_all(d->engine, now);
		if (r < 0) {
			log_error_errno(r, "Failed to release every DuraVIP: %m");
			d->release_failed = true;
			tell_monitor(d, VIPD_NOTE_RELEASE_FAILED);
		}
	}
	flush_sends(d);
	if (d->be) {
		r = d->be_ops->leave(d->be);
		if (r < 0)
			log_warning_errno(r, "Failed to leave the group: %m");
	}
	if (!d->release_failed)
		tell_monitor(d, VIPD_NOTE_RELEASED_OK);
	if (d->loop)
		loop_exit(d->loop, d->release_failed ? 1 : 0);
}

void vipd_daemon_free(struct vipd_daemon *d)
{
	if (d->monitor_watched)
		loop_remove_fd(d->loop, d->opts.monitor_fd);
	vipd_control_free(d->control);
	daemon_node_free(d);
	daemon_cluster_disconnect(d);
	vip_cl_proto_free(d->proto);
	vip_cl_key_free(d->cl_key); /* after the protocol that borrows it; wiped */
	vipd_engine_free(d->engine);
	vipd_announce_free(d->announce);
	daemon_announce_free(d);
	daemon_neigh_free(d); /* after the engine and the announcer, which borrow it */
	loop_timer_free(d->t_proto);
	loop_timer_free(d->t_announce);
	loop_timer_free(d->t_check);
	loop_timer_free(d->t_retry);
	loop_timer_free(d->t_reconnect);
	loop_timer_free(d->t_probe);
	if (d->port && d->loop)
		loop_remove_fd(d->loop, d->port_ops->event_fd(d->port));
	for (int i = 0; d->loop && i < d->n_probe_fds; i++)
		loop_remove_fd(d->loop, d->probe_fds[i]);
	if (d->port)
		d->port_ops->close(d->port);
	loop_free(d->loop);
	vip_config_free(d->cfg);
	daemon_owners_free(d);
	*d = (struct vipd_daemon){ 0 };
}

int vipd_daemon_new(const struct vipd_daemon_opts *opts, struct vipd_daemon **ret)
{
	struct vipd_daemon *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return log_error_errno(-ENOMEM, "Out of memory: %m");
	r = vipd_daemon_setup(d, opts);
	if (r < 0) {
		vipd_daemon_destroy(d);
		return r;
	}
	*ret = d;
	return 0;
}

void vipd_daemon_destroy(struct vipd_daemon *d)
{
	if (!d)
		return;
	vipd_daemon_free(d);
	free(d);
}

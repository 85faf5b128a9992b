/* SPDX-License-Identifier: MIT */
/*
 * vipd: the node daemon's entry point. Parses the command line and runs one
 * of the modes: --check (validate and print the effective configuration),
 * --flush (remove every vipd-tagged address), or the daemon, in the
 * foreground or daemonized with a pid file. The daemon is two processes
 * (docs/privileges.md): this one becomes the root monitor (vipd/monitor.c),
 * which execs vipd again with the internal option --engine-fd N as the
 * engine (vipd/daemon.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "authkey.h"
#include "cluster.h"
#include "commands.h"
#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "monitor.h"
#include "port.h"
#include "privdrop.h"
#include "rundir.h"
#include "vipd-build.h"

/* The pid file sits in the control socket's folder (vipd/rundir.h). */
#define PID_FILE "vipd.pid"

struct opts {
	const char *config;
	const char *nodename;
	const char *control;
	const char *genkey; /* --genkey PATH */
	bool check;
	bool json;
	bool foreground;
	bool flush;
	bool debug;
	int engine_fd; /* --engine-fd: run as the engine (-1: the monitor) */
	char **argv;   /* for the monitor's exec of the engine (engine_argv) */
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vipd [OPTIONS]\n"
		"Cluster-aware DuraVIP network-interface manager.\n\n"
		"  -c, --config PATH   Momentum configuration (default %s)\n"
		"      --nodename NAME this node's name (overrides cluster { nodename })\n"
		"  -f, --foreground    stay in the foreground, log to stderr (also when started\n"
		"                      by systemd); otherwise daemonize, log to syslog and\n"
		"                      write the pid to " PID_FILE " in the control socket's folder\n"
		"      --control PATH  control socket (default %s)\n"
		"  -d, --debug         debug logging\n"
		"      --check         load and validate the configuration, print it, exit\n"
		"      --json          with --check: print one JSON object\n"
		"      --flush         remove every address vipd tagged (IFA_PROTO), exit\n"
		"      --genkey PATH   write a new cluster key (cluster { authkey }) to PATH\n"
		"                      (mode 0600, never over an existing file), exit\n"
		"  -h, --help          this text\n"
		"      --version       print the version\n",
		VIPD_DEFAULT_CONFIG, VIPD_DEFAULT_CONTROL);
}

static void print_diag(const struct vip_conf_diag *diag)
{
	for (size_t i = 0; i < diag->n; i++) {
		_cleanup_free_ char *line = vip_conf_diagnostic_format(&diag->items[i]);
		fprintf(stderr, "%s\n", line ? line : diag->items[i].message);
	}
}

static int run_check(const struct opts *o)
{
	struct vip_conf_diag diag = { 0 };
	struct vipd_config *cfg = NULL;
	struct vip_config_opts copts = { .nodename = o->nodename, .env_node_name = getenv("EC_NODE_NAME") };
	int r;

	if (vip_cl_corosync_token(vip_cl_corosync_conf_path(), &copts.corosync_token_ms) < 0)
		copts.corosync_token_ms = 0;
	r = vip_config_load(o->config, &copts, &cfg, &diag);
	if (r == 0 && vipd_authkey_check(cfg, &diag) < 0) {
		vip_config_free(cfg);
		cfg = NULL;
		r = -EINVAL;
	}

	if (r < 0) {
		print_diag(&diag);
		if (diag.n_errors == 0)
			fprintf(stderr, "%s: error: %s\n", o->config, strerror(-r));
		vip_conf_diag_clear(&diag);
		return EXIT_FAILURE;
	}
	if (o->json)
		r = vip_config_print_json(cfg, &diag, stdout);
	else {
		print_diag(&diag);
		r = vip_config_print(cfg, &diag, stdout);
	}
	vip_config_free(cfg);
	vip_conf_diag_clear(&diag);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int run_flush(void)
{
	const struct vip_port_ops *ops = vip_port_native();
	struct vip_port *p = NULL;
	int r = ops->open(&(struct vip_port_opts){ .flags = VIP_PORT_OPEN_NO_PACKET |
							    VIP_PORT_OPEN_NO_MONITOR },
			  &p);

	if (r < 0) {
		fprintf(stderr, "vipd: cannot open rtnetlink: %s\n", strerror(-r));
		return EXIT_FAILURE;
	}
	r = ops->flush_tagged(p, 0);
	ops->close(p);
	if (r < 0) {
		fprintf(stderr, "vipd: flush failed: %s\n", strerror(-r));
		return EXIT_FAILURE;
	}
	printf("Removed %d vipd address%s\n", r, r == 1 ? "" : "es");
	return EXIT_SUCCESS;
}

static bool under_systemd(void)
{
	const char *a = getenv("INVOCATION_ID"), *b = getenv("NOTIFY_SOCKET");

	return (a && *a) || (b && *b);
}

/*
 * Daemonize: fork, setsid, fork; the first process waits on a pipe for the
 * daemon to report that start-up finished, and exits with its status, so a
 * failed start is still an exit code for the init script. Returns the write
 * end of the pipe in the daemon, or -1 in case of an error (reported).
 */
static int daemonize(void)
{
	int p[2], devnull;
	pid_t pid;
	char status = 1;

	if (pipe2(p, O_CLOEXEC) < 0) {
		perror("vipd: pipe");
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		perror("vipd: fork");
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &status, 1) != 1)
			status = 1;
		_exit(status);
	}
	close(p[0]);
	if (setsid() < 0 || (pid = fork()) < 0)
		_exit(1);
	if (pid > 0)
		_exit(0);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		if (devnull > 2)
			close(devnull);
	}
	umask(022);
	if (chdir("/") < 0)
		_exit(1);
	return p[1];
}

static void report_start(int fd, char status)
{
	if (fd < 0)
		return;
	if (write(fd, &status, 1) != 1)
		log_warning("Could not report the start-up status to the parent");
	close(fd);
}

static void log_to(bool fg)
{
	log_setup(fg ? LOG_TARGET_CONSOLE : LOG_TARGET_SYSLOG, "vipd");
}

/*
 * The monitor's socket moves above every other descriptor of the engine. At
 * exit the kernel releases the descriptors highest first, and releasing the
 * packet socket waits for the network's RCU grace period (about 10 ms here):
 * as the highest, the socket's end of file reaches the monitor, which then
 * removes the engine's addresses, before that wait instead of after it.
 */
#define ENGINE_MONITOR_FD_MIN 255

/* The engine: everything vipd does, under the monitor's eye (--engine-fd). */
static int run_engine(const struct opts *o)
{
	struct vipd_daemon_opts dopts = {
		.config_path = o->config,
		.nodename = o->nodename,
		.control_path = o->control,
		.chown_control = true,
		.monitored = true,
		.monitor_fd = fcntl(o->engine_fd, F_DUPFD_CLOEXEC, ENGINE_MONITOR_FD_MIN),
		.console = vipd_commands(), /* the console's table, wired here */
	};
	struct vipd_daemon *d = NULL;
	int r;

	log_to(o->foreground || under_systemd());
	log_set_level(o->debug ? LOG_DEBUG : LOG_INFO);
	if (dopts.monitor_fd < 0) {
		log_error_errno(-errno, "Cannot move the monitor's socket: %m");
		return EXIT_FAILURE;
	}
	close(o->engine_fd);
	/* Whoever started us: nothing but the monitor's socket crosses the drop. */
	r = vip_close_inherited(3, dopts.monitor_fd);
	if (r < 0) {
		log_error_errno(r, "Cannot close inherited descriptors: %m");
		return EXIT_FAILURE;
	}
	r = vipd_daemon_new(&dopts, &d);
	if (r < 0)
		return EXIT_FAILURE;
	r = vipd_daemon_run(d);
	vipd_daemon_destroy(d);
	log_notice("vipd engine stopped%s", r == 0 ? "" : " after a failure");
	return r == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

struct start_report {
	int fd;                       /* the daemonizing parent's pipe, or -1 */
	struct vipd_pidfile *pidfile; /* locked, written once start-up succeeded */
};

static void on_first_ready(void *data)
{
	struct start_report *s = data;
	int r;

	if (s->pidfile) {
		r = vipd_pidfile_write(s->pidfile, getpid());
		if (r < 0)
			log_warning_errno(r, "Cannot write the pid file: %m");
	}
	report_start(s->fd, 0);
	s->fd = -1;
}

/*
 * Before daemonizing: the control socket's folder (made root:gid 0750 when
 * missing, refused when unsafe) and the pid file in it, locked, so a second
 * start stops here and leaves the running instance's file alone.
 */
static int lock_pid_file(const struct opts *o, gid_t gid, struct vipd_pidfile **ret)
{
	_cleanup_free_ char *dir = vipd_rundir_of(o->control ? o->control : VIPD_DEFAULT_CONTROL);
	_cleanup_close_ int fd = -1;
	char why[VIPD_RUNDIR_WHY_LEN];
	pid_t holder;
	int r;

	if (!dir)
		return log_error_errno(-ENOMEM, "Cannot open the pid file: %m");
	fd = vipd_rundir_open(dir, true, geteuid() == 0, gid, why, sizeof(why));
	if (fd < 0)
		return log_error_errno(fd, "Refusing to start: %s", why);
	r = vipd_pidfile_open(fd, PID_FILE, &holder, ret, why, sizeof(why));
	if (r < 0)
		return log_error_errno(r, "Refusing to start: %s (in %s)", why, dir);
	return 0;
}

/*
 * VIPD_MONITOR_BACKOFF="FIRST,MAX,STABLE" (milliseconds): the engine's restart
 * back-off, for tests that restart it often (vipd(8), ENVIRONMENT). Unset or
 * malformed: the defaults.
 */
static void backoff_from_env(struct vipd_monitor_timing *t)
{
	const char *e = getenv("VIPD_MONITOR_BACKOFF");
	unsigned first, max, stable;

	if (!e || sscanf(e, "%u,%u,%u", &first, &max, &stable) != 3 || first == 0 || max < first ||
	    stable == 0) {
		if (e)
			log_warning("monitor: ignoring VIPD_MONITOR_BACKOFF=%s (want FIRST,MAX,STABLE in ms)",
				    e);
		return;
	}
	t->backoff_first_ms = first;
	t->backoff_max_ms = max;
	t->stable_ms = stable;
}

/* The monitor: validate, daemonize, then fork the engine and keep it alive. */
static int run_daemon(const struct opts *o)
{
	struct vipd_daemon_opts dopts = { .config_path = o->config, .nodename = o->nodename };
	struct start_report start = { .fd = -1 };
	struct vipd_monitor *m = NULL;
	struct vipd_config *cfg = NULL;
	bool fg = o->foreground || under_systemd();
	int r;

	log_setup(LOG_TARGET_CONSOLE, "vipd");
	log_set_level(o->debug ? LOG_DEBUG : LOG_INFO);
	/* Nothing inherited reaches the engine or stays open here. */
	r = vip_close_inherited(3, -1);
	if (r < 0) {
		log_error_errno(r, "Cannot close inherited descriptors: %m");
		return EXIT_FAILURE;
	}
	/* Validate on the terminal before going to the background. */
	if (!fg) {
		r = vipd_daemon_load_config(&dopts, true, &cfg);
		if (r == 0)
			r = lock_pid_file(o, cfg->security.gid, &start.pidfile);
		vip_config_free(cfg);
		cfg = NULL;
		if (r < 0)
			return EXIT_FAILURE;
		start.fd = daemonize();
		if (start.fd < 0) {
			vipd_pidfile_release(start.pidfile);
			return EXIT_FAILURE;
		}
	}
	log_to(fg);
	r = vipd_daemon_load_config(&dopts, false, &cfg);
	if (r == 0) {
		/* The engine places the DuraVIPs; the monitor needs none of them. */
		vip_config_drop_duravips(cfg);
#ifdef __GLIBC__
		malloc_trim(0);
#endif
		struct vipd_monitor_opts mo = {
			.exec_argv = o->argv,
			.ready = on_first_ready,
			.ready_data = &start,
			.nodename = cfg->cluster.nodename,
			.group = cfg->cluster.enabled ? cfg->cluster.cluster_group : NULL,
			.config = cfg,
		};

		backoff_from_env(&mo.timing);
		r = vipd_monitor_new(&mo, &m);
	}
	r = r < 0 ? EXIT_FAILURE : vipd_monitor_run(m);
	vipd_monitor_free(m);
	vip_config_free(cfg);
	report_start(start.fd, (char)(r ? r : 1));
	vipd_pidfile_release(start.pidfile);
	log_notice("vipd stopped");
	return r;
}

/* A relative path joined to the current folder; *path then points into *owned. */
static int make_absolute(const char **path, char **owned)
{
	_cleanup_free_ char *cwd = NULL;

	if ((*path)[0] == '/')
		return 0;
	cwd = getcwd(NULL, 0);
	if (!cwd || asprintf(owned, "%s/%s", cwd, *path) < 0) {
		*owned = NULL;
		return -1;
	}
	*path = *owned;
	return 0;
}

/*
 * The engine's command line, from the parsed options (their absolute
 * paths), not from the operator's words: the monitor appends --engine-fd.
 */
static char **build_engine_argv(const struct opts *o, char *argv0, char *av[static 12])
{
	size_t n = 0;

	av[n++] = argv0;
	av[n++] = (char *)"-c";
	av[n++] = (char *)o->config;
	if (o->control) {
		av[n++] = (char *)"--control";
		av[n++] = (char *)o->control;
	}
	if (o->nodename) {
		av[n++] = (char *)"--nodename";
		av[n++] = (char *)o->nodename;
	}
	if (o->foreground)
		av[n++] = (char *)"-f";
	if (o->debug)
		av[n++] = (char *)"-d";
	av[n] = NULL;
	return av;
}

enum {
	OPT_CHECK = 0x100,
	OPT_JSON,
	OPT_NODENAME,
	OPT_VERSION,
	OPT_CONTROL,
	OPT_FLUSH,
	OPT_ENGINE_FD,
	OPT_GENKEY
};

/*
 * The heap of a long-lived daemon: the parse tree of
 * a large configuration is built and freed at every load, so its blocks must
 * go back to the system: a fixed mmap threshold (glibc otherwise raises it
 * after the first large free, and the next tree lands in the heap for good),
 * low enough that the 16-64 kB scratch of plans and announcement ticks is
 * unmapped when freed too, not left as dirty free heap (docs/port.md,
 * "Memory"), and one arena (the cpg worker thread would otherwise get a 64 MB one of its
 * own). After each load the heap is trimmed (vipd/daemon-config.c).
 */
static void tune_malloc(void)
{
#ifdef __GLIBC__
	mallopt(M_MMAP_THRESHOLD, 16 * 1024);
	mallopt(M_ARENA_MAX, 1);
#endif
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "nodename", required_argument, NULL, OPT_NODENAME },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "foreground", no_argument, NULL, 'f' },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "flush", no_argument, NULL, OPT_FLUSH },
		{ "genkey", required_argument, NULL, OPT_GENKEY },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		/* Internal: the monitor starts the engine with it (not in --help). */
		{ "engine-fd", required_argument, NULL, OPT_ENGINE_FD },
		{ 0 },
	};
	struct opts o = { .config = VIPD_DEFAULT_CONFIG, .engine_fd = -1, .argv = argv };
	_cleanup_free_ char *abs_config = NULL, *abs_control = NULL;
	char *engine_argv[12];
	int c;

	tune_malloc();
	while ((c = getopt_long(argc, argv, "c:fdh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.config = optarg;
			break;
		case OPT_NODENAME:
			o.nodename = optarg;
			break;
		case OPT_CHECK:
			o.check = true;
			break;
		case OPT_JSON:
			o.json = true;
			break;
		case 'f':
			o.foreground = true;
			break;
		case 'd':
			o.debug = true;
			break;
		case OPT_CONTROL:
			o.control = optarg;
			break;
		case OPT_FLUSH:
			o.flush = true;
			break;
		case OPT_GENKEY:
			o.genkey = optarg;
			break;
		case OPT_ENGINE_FD:
			o.engine_fd = atoi(optarg);
			if (o.engine_fd < 3) {
				fprintf(stderr, "vipd: bad --engine-fd '%s'\n", optarg);
				return EXIT_FAILURE;
			}
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case OPT_VERSION:
			printf("vipd %s\n", VIPD_VERSION);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_FAILURE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vipd: unexpected argument '%s'\n", argv[optind]);
		return EXIT_FAILURE;
	}
	if (o.genkey)
		return vipd_authkey_generate(o.genkey);
	/* Before anything changes the folder (daemonizing goes to /): absolute paths. */
	if (make_absolute(&o.config, &abs_config) < 0 ||
	    (o.control && make_absolute(&o.control, &abs_control) < 0)) {
		fprintf(stderr, "vipd: cannot make the paths absolute: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	if (o.check)
		return run_check(&o);
	if (o.flush)
		return run_flush();
	if (o.engine_fd >= 0)
		return run_engine(&o);
	o.argv = build_engine_argv(&o, argv[0], engine_argv);
	return run_daemon(&o);
}

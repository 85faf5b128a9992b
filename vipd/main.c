// SPDX-License-Identifier: MIT
/*
 * vipd: the node daemon's entry point. Parses the command line and runs one
 * of the modes: --check (validate and print the effective configuration),
 * or the daemon.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "conf.h"
#include "vipd-build.h"

struct opts {
	const char *config;
	const char *nodename;
	bool check;
	bool json;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vipd [OPTIONS]\n"
		"Cluster-aware DuraVIP network-interface manager.\n\n"
		"  -c, --config PATH   Momentum configuration (default %s)\n"
		"      --nodename NAME this node's name (overrides cluster { nodename })\n"
		"      --check         load and validate the configuration, print it, exit\n"
		"      --json          with --check: print one JSON object\n"
		"  -h, --help          this text\n"
		"      --version       print the version\n",
		VIPD_DEFAULT_CONFIG);
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
	int r = vip_config_load(o->config, &copts, &cfg, &diag);

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

enum { OPT_CHECK = 0x100, OPT_JSON, OPT_NODENAME, OPT_VERSION };

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "nodename", required_argument, NULL, OPT_NODENAME },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 },
	};
	struct opts o = { .config = VIPD_DEFAULT_CONFIG };
	int c;

	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
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
	if (o.check)
		return run_check(&o);

	fprintf(stderr, "vipd: the daemon is not built yet (issue 6); use --check\n");
	return EXIT_FAILURE;
}

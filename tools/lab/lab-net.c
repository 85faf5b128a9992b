/* SPDX-License-Identifier: MIT */
/* lab-net: entry point; see lab.h and each command's file for what they do. */
#include <stdio.h>
#include <string.h>

#include "lab.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "up", lab_cmd_up, "PREFIX N: bridge, veths and addresses in existing namespaces" },
	{ "link", lab_cmd_link, "PREFIX MEMBER up|down: a member's switch port" },
	{ "addrs", lab_cmd_addrs, "NETNS...: the VIPs each namespace holds" },
	{ "watch", lab_cmd_watch,
	  "[--links --min-ms M --events F --state F ...] PREFIX N: VIPs on two live nodes" },
	{ "capture", lab_cmd_capture, "--ns NETNS --match CIDR ... [-- TRIGGER]: time announcements" },
};

int main(int argc, char **argv)
{
	if (argc >= 2) {
		for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
			if (strcmp(argv[1], commands[i].name) == 0)
				return commands[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "usage: lab-net COMMAND ARGS...\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(stderr, "  %-8s %s\n", commands[i].name, commands[i].help);
	return 2;
}

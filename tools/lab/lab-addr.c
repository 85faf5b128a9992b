/* SPDX-License-Identifier: MIT */
/*
 * lab-net addrs NETNS...     print the VIPs (non-base global addresses) each holds
 * (lab-net watch, the two-holder guard, is lab-guard.c.)
 */
#include <stdio.h>

#include "lab-watch.h"

static void print_one(void *data, const struct lab_addr *a, _unused_ uint32_t before, uint32_t mask)
{
	const char *const *names = data;
	char buf[INET6_ADDRSTRLEN];

	for (int i = 0; i < LAB_MAX_NODES; i++)
		if (mask & (1u << i))
			printf("%s %s\n", names[i], lab_addr_str(a, buf, sizeof(buf)));
}

int lab_cmd_addrs(int argc, char **argv)
{
	struct lab_tracker *t = NULL;

	if (argc < 2 || argc - 1 > LAB_MAX_NODES) {
		fprintf(stderr, "usage: lab-net addrs NETNS...\n");
		return 2;
	}
	if (lab_tracker_new(argv + 1, argc - 1, NULL, NULL, &t) < 0)
		return 2;
	lab_tracker_foreach(t, print_one, argv + 1);
	lab_tracker_free(t);
	return 0;
}

// SPDX-License-Identifier: MIT
/* vipd/commands: small helpers every command file uses. */
#include <stdio.h>

#include "commands-internal.h"

void cmd_duration(uint64_t ms, char *buf, size_t len)
{
	if (ms < 60000)
		snprintf(buf, len, "%llu.%llus", (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000 / 100));
	else if (ms < 3600000)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(ms / 60000),
			 (unsigned long long)(ms / 1000 % 60));
	else
		snprintf(buf, len, "%lluh%02llum", (unsigned long long)(ms / 3600000),
			 (unsigned long long)(ms / 60000 % 60));
}

uint64_t cmd_age(uint64_t now, uint64_t since)
{
	return now > since ? now - since : 0;
}

const char *cmd_plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

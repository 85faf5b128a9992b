/* SPDX-License-Identifier: MIT */
/*
 * sd_notify without libsystemd: the protocol is one datagram, so a socket,
 * an address and a sendto are all it takes.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sdnotify.h"

/* Fill addr from "/path" or "@abstract". Returns the address length or -errno. */
static int notify_address(const char *name, struct sockaddr_un *addr)
{
	size_t len = strlen(name);

	if (name[0] != '/' && name[0] != '@')
		return -EINVAL;
	if (len > sizeof(addr->sun_path) || (name[0] == '/' && len == sizeof(addr->sun_path)))
		return -ENAMETOOLONG;
	if (len < 2)
		return -EINVAL;
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	memcpy(addr->sun_path, name, len);
	if (name[0] == '@') {
		/* Abstract: leading NUL, and the length counts exactly the name. */
		addr->sun_path[0] = '\0';
		return (int)(offsetof(struct sockaddr_un, sun_path) + len);
	}
	return (int)(offsetof(struct sockaddr_un, sun_path) + len + 1);
}

int vipd_sd_notify_to(const char *socket_name, const char *state)
{
	struct sockaddr_un addr;
	_cleanup_close_ int fd = -1;
	size_t len;
	int alen;

	if (!socket_name || !socket_name[0])
		return 0;
	assert(state);
	alen = notify_address(socket_name, &addr);
	if (alen < 0)
		return alen;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return negerrno();
	len = strlen(state);
	if (sendto(fd, state, len, MSG_NOSIGNAL, (struct sockaddr *)&addr, (socklen_t)alen) != (ssize_t)len)
		return negerrno();
	return 1;
}

int vipd_sd_notify(const char *state)
{
	return vipd_sd_notify_to(getenv("NOTIFY_SOCKET"), state);
}

int vipd_sd_notifyf(const char *fmt, ...)
{
	_cleanup_free_ char *s = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	return vipd_sd_notify(s);
}

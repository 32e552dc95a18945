/* sd_notify.c: see sd_notify.h.
 *
 * systemd (Type=notify) passes NOTIFY_SOCKET: a path ("/run/systemd/notify")
 * or an abstract name written with a leading '@'. We open and connect the
 * datagram socket at start, before the sandbox, so the later send needs no
 * file access and no new socket; each message is one datagram of
 * "KEY=VALUE\n" lines. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sd_notify.h"

int ksd_notify_open(void)
{
	const char *e = getenv("NOTIFY_SOCKET");
	if (!e || !*e || (e[0] != '/' && e[0] != '@'))
		return -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(e);
	if (len >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, e, len);
	if (e[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace: no trailing NUL counted */
	socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (e[0] == '/' ? 1 : 0));
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, alen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int ksd_notify_send(int fd, const char *msg)
{
	if (fd < 0)
		return 0;
	ssize_t n = send(fd, msg, strlen(msg), MSG_NOSIGNAL);
	return n < 0 ? -errno : 0;
}

/* client.c: the blocking Phase 4.1 client of ruth/ipc.h (tools, tests, health
 * checks, benchmarks) and ruth_ipc_write_all(), which both sides use.
 *
 * The socket is non-blocking and every wait is a poll() against one
 * CLOCK_MONOTONIC deadline per call, so a silent or half-dead server costs the
 * caller at most its timeout. Received bytes accumulate in a per-client buffer
 * big enough for the largest legal message; bytes past the first whole message
 * (pipelined replies) stay there for the next recv.
 *
 * Thread safety: a client is used by one thread at a time. */
#include "ruth/ipc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define RUTH_IPC_CLIENT_BUF (RUTH_IPC_HEADER_SIZE + RUTH_IPC_MAX_BODY)
#define DEFAULT_CONNECT_TIMEOUT_MS 5000

struct ruth_ipc_client {
	int fd;
	uint64_t next_request_id;
	size_t have;                 /* valid bytes at the start of rx */
	struct ruth_ipc_msg scratch; /* round-trip replies we do not hand out */
	uint8_t tx[RUTH_IPC_CLIENT_BUF];
	uint8_t rx[RUTH_IPC_CLIENT_BUF];
	struct klog_ctx log;
};

/* Milliseconds left until deadline_ns (monotonic); -1 = no deadline. */
static int ms_left(uint64_t deadline_ns)
{
	if (deadline_ns == 0)
		return -1;
	uint64_t now = kclock_mono_ns();
	if (now >= deadline_ns)
		return 0;
	uint64_t ms = (deadline_ns - now + 999999u) / 1000000u;
	return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

static uint64_t deadline_after(int timeout_ms)
{
	if (timeout_ms < 0)
		return 0;
	return kclock_mono_ns() + (uint64_t)timeout_ms * 1000000u + 1u;
}

/* Wait for `events` on fd until deadline. 0 when ready, -ETIMEDOUT, -errno. */
static int wait_fd(int fd, short events, uint64_t deadline_ns)
{
	for (;;) {
		int left = ms_left(deadline_ns);
		if (left == 0 && deadline_ns)
			return -ETIMEDOUT;
		struct pollfd p = { .fd = fd, .events = events };
		int r = poll(&p, 1, left);
		if (r > 0)
			return 0; /* POLLERR/POLLHUP too: the next read/write reports it */
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

int ruth_ipc_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len > 0) {
		/* MSG_NOSIGNAL: a peer that went away must be an -EPIPE here, not a
		 * SIGPIPE that kills a long-lived runtime or core. */
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		if (w < 0 && errno == ENOTSOCK)
			w = write(fd, p, len);
		if (w > 0) {
			p += w;
			len -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int r = wait_fd(fd, POLLOUT, 0);
			if (r < 0)
				return r;
			continue;
		}
		return w < 0 ? -errno : -EIO;
	}
	return 0;
}

/* Read until rx holds one whole message, then decode it into m and drop it
 * from the buffer. */
static int recv_until(struct ruth_ipc_client *c, struct ruth_ipc_msg *m, uint64_t deadline_ns)
{
	for (;;) {
		if (c->have > 0) {
			int r = ruth_ipc_decode(c->rx, c->have, m);
			if (r > 0) {
				size_t used = (size_t)r;
				memmove(c->rx, c->rx + used, c->have - used);
				c->have -= used;
				return 0;
			}
			if (r != RUTH_IPC_ENEEDMORE) {
				struct ruth_ipc_header h;
				if (r == RUTH_IPC_EMAGIC || r == RUTH_IPC_ETOOLARGE ||
				    ruth_ipc_decode_header(c->rx, c->have, &h) < 0) {
					/* A broken envelope: the stream cannot be
					 * resynchronised; the caller must close. */
					c->have = 0;
					return r;
				}
				/* A whole message with a sound envelope but a body we
				 * refuse (type, version, layout): drop just that one so
				 * pipelined replies behind it survive. */
				size_t used = RUTH_IPC_HEADER_SIZE + h.body_len;
				memmove(c->rx, c->rx + used, c->have - used);
				c->have -= used;
				return r;
			}
		}
		ssize_t n = recv(c->fd, c->rx + c->have, sizeof(c->rx) - c->have, 0);
		if (n > 0) {
			c->have += (size_t)n;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		int r = wait_fd(c->fd, POLLIN, deadline_ns);
		if (r < 0)
			return r;
	}
}

int ruth_ipc_client_send(struct ruth_ipc_client *c, const struct ruth_ipc_msg *m)
{
	int n = ruth_ipc_encode(m, c->tx, sizeof(c->tx));
	if (n < 0)
		return n;
	return ruth_ipc_write_all(c->fd, c->tx, (size_t)n);
}

int ruth_ipc_client_recv(struct ruth_ipc_client *c, struct ruth_ipc_msg *m, int timeout_ms)
{
	return recv_until(c, m, deadline_after(timeout_ms));
}

/* An ERROR reply to a request, as a negative errno for callers that have no
 * other way to return it. The server's text goes to the log. */
static int error_to_errno(const struct ruth_ipc_error *e)
{
	switch (e->status) {
	case RUTH_IPC_E_UNSUPPORTED_VERSION:
		return -EPROTONOSUPPORT;
	case RUTH_IPC_E_BUSY:
		return -EBUSY;
	case RUTH_IPC_E_NOT_READY:
		return -EAGAIN;
	default:
		return -EPROTO;
	}
}

/* Send m (request_id assigned here) and wait for the reply with the same id;
 * replies to earlier, abandoned requests are skipped. */
static int round_trip(struct ruth_ipc_client *c, struct ruth_ipc_msg *m, struct ruth_ipc_msg *reply,
		      int timeout_ms)
{
	uint64_t deadline = deadline_after(timeout_ms);
	/* Kept apart from m: reply may be the same object as m. */
	uint64_t id = c->next_request_id++;
	m->hdr.request_id = id;
	int r = ruth_ipc_client_send(c, m);
	if (r < 0)
		return r;
	for (;;) {
		r = recv_until(c, reply, deadline);
		if (r < 0)
			return r;
		if (reply->hdr.request_id == id)
			return 0;
		/* request_id 0 from the server: an ERROR about the connection itself
		 * (handshake, malformed stream); it concerns this request too. */
		if (reply->hdr.request_id == 0 && reply->hdr.type == RUTH_IPC_ERROR)
			return 0;
		KLOG_DBG(&c->log, "skipping reply %llu (type %u) to an abandoned request",
			 (unsigned long long)reply->hdr.request_id, reply->hdr.type);
	}
}

int ruth_ipc_client_connect(struct ruth_ipc_client **out, const char *socket_path, const char *client_name,
			    int timeout_ms, struct ruth_ipc_hello_ack *ack)
{
	*out = NULL;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (!socket_path || strlen(socket_path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, socket_path, strlen(socket_path) + 1);
	if (timeout_ms <= 0)
		timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	uint64_t deadline = deadline_after(timeout_ms);

	struct ruth_ipc_client *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	klog_ctx_init(&c->log, "ipc-client", "socket=%s", socket_path);
	c->next_request_id = 1;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int r;
	if (c->fd < 0) {
		r = -errno;
		goto err_free;
	}
	/* A Unix-domain connect completes at once or fails with EAGAIN when the
	 * listen backlog is full; retry that until the deadline. */
	for (;;) {
		if (connect(c->fd, (const struct sockaddr *)&addr, sizeof(addr)) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EINPROGRESS) {
			r = wait_fd(c->fd, POLLOUT, deadline);
			if (r < 0)
				goto err_close;
			int soerr = 0;
			socklen_t sl = sizeof(soerr);
			getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
			if (soerr) {
				r = -soerr;
				goto err_close;
			}
			break;
		}
		if (errno != EAGAIN) {
			r = -errno;
			goto err_close;
		}
		if (ms_left(deadline) == 0) {
			r = -ETIMEDOUT;
			goto err_close;
		}
		kclock_sleep_ns(5 * 1000000u);
	}

	struct ruth_ipc_msg *m = &c->scratch;
	ruth_ipc_msg_init(m);
	m->hdr.type = RUTH_IPC_HELLO;
	m->hdr.version = RUTH_IPC_VERSION;
	m->u.hello.min_version = RUTH_IPC_VERSION_MIN;
	m->u.hello.max_version = RUTH_IPC_VERSION;
	m->u.hello.client_pid = (uint32_t)getpid();
	snprintf(m->u.hello.client_name, sizeof(m->u.hello.client_name), "%s", client_name ? client_name : "");
	/* The HELLO is request 0: an ERROR about the handshake carries id 0 too. */
	c->next_request_id = 0;
	int left = ms_left(deadline);
	r = round_trip(c, m, m, left);
	if (r < 0)
		goto err_close;
	if (m->hdr.type == RUTH_IPC_ERROR) {
		KLOG_WARN(&c->log, "handshake refused: %s (%s; server speaks versions %u..%u)",
			  ruth_ipc_status_name(m->u.error.status), m->u.error.message, m->u.error.min_version,
			  m->u.error.max_version);
		r = error_to_errno(&m->u.error);
		goto err_close;
	}
	if (m->hdr.type != RUTH_IPC_HELLO_ACK) {
		r = -EPROTO;
		goto err_close;
	}
	if (m->u.hello_ack.version < RUTH_IPC_VERSION_MIN || m->u.hello_ack.version > RUTH_IPC_VERSION) {
		KLOG_WARN(&c->log, "server chose protocol version %u outside %u..%u", m->u.hello_ack.version,
			  RUTH_IPC_VERSION_MIN, RUTH_IPC_VERSION);
		r = -EPROTONOSUPPORT;
		goto err_close;
	}
	if (ack)
		*ack = m->u.hello_ack;
	*out = c;
	return 0;

err_close:
	close(c->fd);
err_free:
	free(c);
	return r;
}

void ruth_ipc_client_close(struct ruth_ipc_client **c)
{
	if (!c || !*c)
		return;
	close((*c)->fd);
	free(*c);
	*c = NULL;
}

int ruth_ipc_client_fd(const struct ruth_ipc_client *c)
{
	return c ? c->fd : -EBADF;
}

int ruth_ipc_client_health(struct ruth_ipc_client *c, struct ruth_ipc_health_ack *ack, int timeout_ms)
{
	struct ruth_ipc_msg *m = &c->scratch;
	ruth_ipc_msg_init(m);
	m->hdr.type = RUTH_IPC_HEALTH;
	m->hdr.version = RUTH_IPC_VERSION;
	int r = round_trip(c, m, m, timeout_ms);
	if (r < 0)
		return r;
	if (m->hdr.type == RUTH_IPC_ERROR) {
		KLOG_WARN(&c->log, "HEALTH answered with %s: %s", ruth_ipc_status_name(m->u.error.status),
			  m->u.error.message);
		return error_to_errno(&m->u.error);
	}
	if (m->hdr.type != RUTH_IPC_HEALTH_ACK)
		return -EPROTO;
	if (ack)
		*ack = m->u.health_ack;
	return 0;
}

int ruth_ipc_client_infer(struct ruth_ipc_client *c, const struct ruth_ipc_infer_request *req,
			  struct ruth_ipc_msg *reply, int timeout_ms)
{
	struct ruth_ipc_msg *m = &c->scratch;
	ruth_ipc_msg_init(m);
	m->hdr.type = RUTH_IPC_INFER_REQUEST;
	m->hdr.version = RUTH_IPC_VERSION;
	m->u.infer_request = *req;
	int r = round_trip(c, m, reply, timeout_ms);
	if (r < 0)
		return r;
	if (reply->hdr.type == RUTH_IPC_ERROR) {
		/* Presented as a response with that status and no detections, so a
		 * caller can always read reply->u.infer_response; hdr.type stays
		 * ERROR for callers that care about the difference. */
		struct ruth_ipc_error e = reply->u.error;
		memset(&reply->u, 0, sizeof(reply->u));
		reply->u.infer_response.detections = reply->det_storage;
		reply->u.infer_response.status = e.status;
		memcpy(reply->u.infer_response.message, e.message, sizeof(e.message));
		return 0;
	}
	if (reply->hdr.type != RUTH_IPC_INFER_RESPONSE)
		return -EPROTO;
	return 0;
}

/* model_client.c: one non-blocking connection per model runtime, shared by every
 * subscription of that model. Requests are multiplexed by request id; replies
 * may come back in any order. A lost connection (EOF, ECONNRESET, a protocol
 * error) fails every request in flight on it once (MODEL_UNAVAILABLE), marks
 * the model unavailable and reconnects with capped, jittered exponential
 * backoff; failed requests are never retried (a later tick picks a newer frame). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "core.h"

#define HANDSHAKE_TIMEOUT_NS (3000ull * 1000000ull)

const char *model_state_name(enum model_state s)
{
	switch (s) {
	case MODEL_IDLE: return "idle";
	case MODEL_UNAVAILABLE: return "unavailable";
	case MODEL_HANDSHAKE: return "connecting";
	case MODEL_READY: return "ready";
	}
	return "?";
}

void model_conn_init(struct model_conn *m, const char *id, const struct ruth_model_config *cfg,
		     const char *socket_dir, uint32_t backoff_initial_ms)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", id);
	m->cfg = cfg;
	snprintf(m->sock_path, sizeof(m->sock_path), "%s/%s.sock", socket_dir, id);
	m->fd = -1;
	m->state = MODEL_IDLE;
	m->backoff_ms = backoff_initial_ms;
	klog_ctx_init(&m->log, "ruth-ai-core", "model=%s", id);
}

bool model_conn_available(const struct model_conn *m)
{
	return m->state == MODEL_READY && m->inflight < m->max_inflight;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static void schedule_retry(struct core *c, struct model_conn *m, uint64_t now)
{
	/* Full backoff in [b/2, b], then double, capped at reconnect_max_ms. */
	uint64_t b = m->backoff_ms;
	uint64_t delay = b / 2 + xorshift(&c->rng) % (b / 2 + 1);
	m->next_retry_ns = now + delay * 1000000ull;
	m->backoff_ms = (uint32_t)(b * 2 > c->cfg.reconnect_max_ms ? c->cfg.reconnect_max_ms : b * 2);
}

static int wbuf_append(struct model_conn *m, const struct ruth_ipc_msg *msg)
{
	size_t need = ruth_ipc_encoded_size(msg);
	if (m->wlen + need > m->wcap) {
		size_t cap = m->wcap ? m->wcap : 4096;
		while (cap < m->wlen + need)
			cap *= 2;
		if (cap > (4u << 20))
			return -ENOBUFS;
		uint8_t *nb = realloc(m->wbuf, cap);
		if (!nb)
			return -ENOMEM;
		m->wbuf = nb;
		m->wcap = cap;
	}
	int n = ruth_ipc_encode(msg, m->wbuf + m->wlen, m->wcap - m->wlen);
	if (n < 0)
		return n;
	m->wlen += (size_t)n;
	return 0;
}

static int flush(struct model_conn *m)
{
	size_t off = 0;
	while (off < m->wlen) {
		ssize_t w = send(m->fd, m->wbuf + off, m->wlen - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		off += (size_t)w;
	}
	if (off) {
		memmove(m->wbuf, m->wbuf + off, m->wlen - off);
		m->wlen -= off;
	}
	return 0;
}

/* HEALTH right after the handshake: its queue_capacity bounds what the runtime
 * can hold (queue + workers); sending more would only earn BUSY replies, so the
 * connection's in-flight limit becomes min(HELLO_ACK max_inflight, queue + workers).
 * Uses c->msg: call it only after the message being handled was consumed. */
static void send_health(struct core *c, struct model_conn *m)
{
	struct ruth_ipc_msg *msg = c->msg;
	memset(&msg->hdr, 0, sizeof(msg->hdr));
	msg->hdr.type = RUTH_IPC_HEALTH;
	msg->hdr.version = m->ack.version ? m->ack.version : RUTH_IPC_VERSION;
	msg->hdr.request_id = 0; /* inference ids start at 1 */
	if (wbuf_append(m, msg) == 0)
		(void)flush(m);
}

void model_conn_close(struct core *c, struct model_conn *m, const char *why, uint64_t now)
{
	bool was_ready = m->state == MODEL_READY;
	if (m->fd >= 0) {
		close(m->fd);
		m->fd = -1;
	}
	m->rlen = m->wlen = 0;
	snprintf(m->last_error, sizeof(m->last_error), "%s", why);
	/* Every request in flight on this connection fails once; none is retried. */
	char msg[RUTH_IPC_MESSAGE_MAX];
	snprintf(msg, sizeof(msg), "runtime connection lost: %s", why);
	int idx = (int)(m - c->models);
	for (size_t i = 0; i < CORE_PENDING_CAP && c->n_pending; i++)
		if (c->pending[i].used && c->pending[i].model == idx)
			core_fail_request(c, &c->pending[i], RUTH_IPC_E_MODEL_UNAVAILABLE, msg, now);
	m->inflight = 0;
	if (was_ready && !c->stopping) {
		m->disconnects++;
		KLOG_WARN(&m->log, "runtime unavailable: %s; reconnecting with backoff", why);
	}
	m->state = MODEL_UNAVAILABLE;
	schedule_retry(c, m, now);
}

static void try_connect(struct core *c, struct model_conn *m, uint64_t now)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (fd < 0 || strlen(m->sock_path) >= sizeof(sa.sun_path)) {
		if (fd >= 0)
			close(fd);
		snprintf(m->last_error, sizeof(m->last_error), "socket: %s",
			 fd < 0 ? strerror(errno) : "path too long");
		m->connect_failures++;
		m->state = MODEL_UNAVAILABLE;
		schedule_retry(c, m, now);
		return;
	}
	memcpy(sa.sun_path, m->sock_path, strlen(m->sock_path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		if (m->connect_failures == 0 || strcmp(m->last_error, strerror(e)) != 0)
			KLOG_INFO(&m->log, "runtime not answering at %s: %s (retrying)", m->sock_path, strerror(e));
		snprintf(m->last_error, sizeof(m->last_error), "%s", strerror(e));
		m->connect_failures++;
		m->state = MODEL_UNAVAILABLE;
		schedule_retry(c, m, now);
		return;
	}
	m->fd = fd;
	m->rlen = m->wlen = 0;
	struct ruth_ipc_msg *hello = c->msg;
	ruth_ipc_msg_init(hello);
	hello->hdr.type = RUTH_IPC_HELLO;
	hello->hdr.version = RUTH_IPC_VERSION;
	hello->hdr.request_id = 0;
	hello->u.hello.min_version = RUTH_IPC_VERSION_MIN;
	hello->u.hello.max_version = RUTH_IPC_VERSION;
	hello->u.hello.client_pid = (uint32_t)getpid();
	snprintf(hello->u.hello.client_name, sizeof(hello->u.hello.client_name), "ruth-ai-core");
	if (wbuf_append(m, hello) < 0 || flush(m) < 0) {
		model_conn_close(c, m, "cannot send HELLO", now);
		return;
	}
	m->state = MODEL_HANDSHAKE;
	m->handshake_deadline_ns = now + HANDSHAKE_TIMEOUT_NS;
}

void model_conn_want(struct core *c, struct model_conn *m, uint64_t now)
{
	if (m->state == MODEL_IDLE) {
		m->state = MODEL_UNAVAILABLE;
		m->next_retry_ns = now;
		try_connect(c, m, now);
	}
}

void model_conn_tick(struct core *c, struct model_conn *m, uint64_t now)
{
	if (m->state == MODEL_UNAVAILABLE && now >= m->next_retry_ns)
		try_connect(c, m, now);
	else if (m->state == MODEL_HANDSHAKE && now >= m->handshake_deadline_ns)
		model_conn_close(c, m, "no HELLO_ACK in time", now);
}

int model_conn_send_infer(struct core *c, struct model_conn *m, uint64_t request_id,
			  const struct ruth_ipc_infer_request *req)
{
	if (m->state != MODEL_READY)
		return -ENOTCONN;
	struct ruth_ipc_msg *msg = c->msg;
	memset(&msg->hdr, 0, sizeof(msg->hdr));
	msg->hdr.type = RUTH_IPC_INFER_REQUEST;
	msg->hdr.version = m->ack.version ? m->ack.version : RUTH_IPC_VERSION;
	msg->hdr.request_id = request_id;
	msg->u.infer_request = *req;
	int rc = wbuf_append(m, msg);
	if (rc < 0)
		return rc;
	m->inflight++;
	m->requests++;
	if (req->flags & RUTH_IPC_INFER_F_GROUPED)
		m->grouped++;
	if (!c->defer_flush)
		(void)flush(m); /* a write error shows up as POLLHUP/EOF and fails the request then */
	return 0;
}

void model_conn_flush(struct model_conn *m)
{
	if (m->fd >= 0 && m->wlen)
		(void)flush(m); /* as above; what is left goes out on POLLOUT */
}

bool model_conn_can_group(const struct model_conn *m)
{
	return m->state == MODEL_READY && m->ack.version >= 2;
}

static void on_message(struct core *c, struct model_conn *m, struct ruth_ipc_msg *msg, uint64_t now)
{
	switch (msg->hdr.type) {
	case RUTH_IPC_HELLO_ACK:
		if (m->state != MODEL_HANDSHAKE) {
			model_conn_close(c, m, "unexpected HELLO_ACK", now);
			return;
		}
		m->ack = msg->u.hello_ack;
		m->max_inflight = m->ack.max_inflight ? m->ack.max_inflight : RUTH_IPC_MAX_INFLIGHT;
		m->state = MODEL_READY;
		m->connects++;
		m->backoff_ms = c->cfg.reconnect_initial_ms;
		m->last_error[0] = 0;
		KLOG_INFO(&m->log, "runtime ready: mode=%s state=%s backend=%s max_inflight=%u%s%s",
			  ruth_ipc_mode_name(m->ack.mode), ruth_ipc_state_name(m->ack.state), m->ack.backend,
			  m->max_inflight, m->ack.mode_reason[0] ? " reason=" : "", m->ack.mode_reason);
		send_health(c, m);
		return;
	case RUTH_IPC_INFER_RESPONSE: {
		struct core_pending *p = core_pending_find(c, msg->hdr.request_id);
		if (!p || p->model != (int)(m - c->models)) {
			m->late_replies++;
			return;
		}
		core_finish_request(c, p, &msg->u.infer_response, now);
		return;
	}
	case RUTH_IPC_ERROR: {
		if (m->state == MODEL_HANDSHAKE) {
			char why[RUTH_IPC_MESSAGE_MAX + 40];
			snprintf(why, sizeof(why), "handshake refused: %s %s",
				 ruth_ipc_status_name(msg->u.error.status), msg->u.error.message);
			model_conn_close(c, m, why, now);
			return;
		}
		struct core_pending *p = core_pending_find(c, msg->hdr.request_id);
		if (p && p->model == (int)(m - c->models))
			core_fail_request(c, p, msg->u.error.status, msg->u.error.message, now);
		else
			KLOG_WARN(&m->log, "runtime ERROR %s: %s", ruth_ipc_status_name(msg->u.error.status),
				  msg->u.error.message);
		return;
	}
	case RUTH_IPC_HEALTH_ACK: {
		const struct ruth_ipc_health_ack *h = &msg->u.health_ack;
		uint32_t cap = m->ack.max_inflight ? m->ack.max_inflight : RUTH_IPC_MAX_INFLIGHT;
		if (h->queue_capacity && h->queue_capacity + m->ack.workers < cap)
			cap = h->queue_capacity + m->ack.workers;
		if (cap != m->max_inflight)
			KLOG_INFO(&m->log, "in-flight limit %u (runtime queue %u + %u workers)", cap, h->queue_capacity,
				  m->ack.workers);
		m->max_inflight = cap;
		return;
	}
	default:
		model_conn_close(c, m, "unexpected message type", now);
	}
}

void model_conn_on_io(struct core *c, struct model_conn *m, short revents, uint64_t now)
{
	if (m->fd < 0)
		return;
	if (revents & POLLOUT) {
		int rc = flush(m);
		if (rc < 0) {
			model_conn_close(c, m, strerror(-rc), now);
			return;
		}
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	for (;;) {
		if (m->rcap - m->rlen < 65536) {
			size_t cap = m->rcap ? m->rcap * 2 : 131072;
			uint8_t *nb = realloc(m->rbuf, cap);
			if (!nb) {
				model_conn_close(c, m, "out of memory", now);
				return;
			}
			m->rbuf = nb;
			m->rcap = cap;
		}
		ssize_t r = recv(m->fd, m->rbuf + m->rlen, m->rcap - m->rlen, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			model_conn_close(c, m, strerror(errno), now);
			return;
		}
		if (r == 0) {
			model_conn_close(c, m, "runtime closed the connection (EOF)", now);
			return;
		}
		m->rlen += (size_t)r;
		size_t off = 0;
		while (off < m->rlen) {
			/* No ruth_ipc_msg_init() first: decode zeroes the union and points the
			 * detections at det_storage itself; clearing det_storage (24 KiB)
			 * per message was pure waste. */
			int n = ruth_ipc_decode(m->rbuf + off, m->rlen - off, c->msg);
			if (n == RUTH_IPC_ENEEDMORE)
				break;
			if (n < 0) {
				char why[96];
				snprintf(why, sizeof(why), "bad message from runtime: %s", ruth_ipc_strerror(n));
				model_conn_close(c, m, why, now);
				return;
			}
			off += (size_t)n;
			on_message(c, m, c->msg, now);
			if (m->fd < 0)
				return;
		}
		if (off) {
			memmove(m->rbuf, m->rbuf + off, m->rlen - off);
			m->rlen -= off;
		}
		if ((size_t)r < 65536)
			break;
	}
}

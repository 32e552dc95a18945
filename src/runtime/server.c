/* server.c: the runtime's socket, connections and job queue.
 *
 * Threads and ownership:
 *   - The IO thread (the main thread after start) owns the listening socket,
 *     every connection, the job free list and all socket writes. It parses
 *     requests, answers HELLO/HEALTH (and, in stub mode, INFER_REQUEST) itself,
 *     and queues inference jobs.
 *   - Workers take jobs from the bounded queue (qlock/qcond), run them and put
 *     them on the completion list (dlock), then poke the eventfd. The IO thread
 *     drains the completion list, writes each response to its connection if
 *     that connection still exists (matched by slot + generation, so a closed
 *     and reused slot never receives an old answer), and returns the job to
 *     the free list.
 * Invariants: a job is in exactly one place (free list, queue, a worker, the
 * completion list); queue length <= queue_depth; a connection's inflight counts
 * its jobs outside the free list and never exceeds max_inflight.
 *
 * Bad input never costs more than the offending connection: a bad envelope
 * (magic, oversized length) gets ERROR and that connection is closed, since
 * framing is lost; a bad body, unknown type or version gets ERROR and the
 * connection stays. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "runtime.h"

#define TAG_LISTEN 1u
#define TAG_SIGNAL 2u
#define TAG_EVENT 3u
#define TAG_CONN0 16u
#define WBUF_LIMIT (16u << 20) /* a client that stops reading is closed past this */
#define RBUF_CAP (RUTH_IPC_HEADER_SIZE + RUTH_IPC_MAX_BODY)

struct conn {
	int fd;
	uint32_t slot, gen;
	uint8_t *rbuf;
	size_t rlen;
	uint8_t *wbuf;
	size_t wlen, wcap;
	int hello_done;
	uint16_t version;
	uint32_t inflight;
	int closing;     /* close once wbuf is flushed */
	uint32_t events; /* epoll events registered */
	uid_t uid;
	pid_t pid;
};

struct server {
	struct ruth_rt *rt;
	struct klog_ctx *log;
	int epfd, lfd, sfd, efd;
	struct conn **conns;
	uint32_t *gens;
	uint32_t max_conns, n_conns;
	uint32_t max_inflight;

	struct ruth_job *jobs;
	uint32_t n_jobs;
	struct ruth_job *free_list; /* IO thread only */

	pthread_mutex_t qlock; /* guards queue, qhead, qlen, stop */
	pthread_cond_t qcond;
	struct ruth_job **queue;
	uint32_t qhead, qlen, qcap;
	int stop;

	pthread_mutex_t dlock; /* guards done_head/done_tail */
	struct ruth_job *done_head, *done_tail;

	uint8_t *scratch; /* encode buffer for IO-thread replies */
	size_t scratch_cap;
	struct ruth_ipc_msg msg; /* decode target; IO thread only */
	struct ruth_ipc_msg reply;
};

static struct klog_ratelimit rl_bad;

/* ---------------------------------------------------------------- workers */

struct worker_arg {
	struct server *s;
	struct ruth_worker *w;
};

static void *worker_main(void *arg)
{
	struct server *s = ((struct worker_arg *)arg)->s;
	struct ruth_worker *w = ((struct worker_arg *)arg)->w;
	for (;;) {
		pthread_mutex_lock(&s->qlock);
		while (s->qlen == 0 && !s->stop)
			pthread_cond_wait(&s->qcond, &s->qlock);
		if (s->qlen == 0) { /* stop, and the queue is drained */
			pthread_mutex_unlock(&s->qlock);
			break;
		}
		struct ruth_job *job = s->queue[s->qhead];
		s->qhead = (s->qhead + 1) % s->qcap;
		s->qlen--;
		int cancelled = job->cancelled;
		pthread_mutex_unlock(&s->qlock);

		job->out_len = 0;
		if (!cancelled) {
			ruth__worker_process(w, job);
			job->resp.hdr.type = RUTH_IPC_INFER_RESPONSE;
			job->resp.hdr.version = job->version;
			job->resp.hdr.request_id = job->request_id;
			int n = ruth_ipc_encode(&job->resp, job->out, job->out_cap);
			job->out_len = n > 0 ? (size_t)n : 0;
		}

		job->next = NULL;
		pthread_mutex_lock(&s->dlock);
		if (s->done_tail)
			s->done_tail->next = job;
		else
			s->done_head = job;
		s->done_tail = job;
		pthread_mutex_unlock(&s->dlock);
		uint64_t one = 1;
		ssize_t wr = write(s->efd, &one, sizeof(one));
		(void)wr; /* eventfd counter overflow is impossible at our rates */
	}
	return NULL;
}

/* ---------------------------------------------------------------- connections */

static uint64_t conn_id(const struct conn *c)
{
	return ((uint64_t)c->slot << 32) | c->gen;
}

static struct conn *conn_lookup(struct server *s, uint64_t id)
{
	uint32_t slot = (uint32_t)(id >> 32);
	if (slot >= s->max_conns || !s->conns[slot] || s->conns[slot]->gen != (uint32_t)id)
		return NULL;
	return s->conns[slot];
}

static void conn_close(struct server *s, struct conn *c)
{
	if (c->inflight) {
		/* Queued work for a client that left is skipped, not run: walk the
		 * bounded queue once and mark its jobs (workers read the mark under
		 * qlock when they dequeue). Jobs already running finish and are dropped. */
		uint64_t id = conn_id(c);
		pthread_mutex_lock(&s->qlock);
		for (uint32_t i = 0; i < s->qlen; i++) {
			struct ruth_job *j = s->queue[(s->qhead + i) % s->qcap];
			if (j->conn_id == id)
				j->cancelled = 1;
		}
		pthread_mutex_unlock(&s->qlock);
	}
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	s->conns[c->slot] = NULL;
	s->n_conns--;
	atomic_fetch_sub(&s->rt->connections, 1);
	KLOG_DBG(s->log, "connection %u closed (pid %d, %u in flight dropped)", c->slot, (int)c->pid, c->inflight);
	/* Jobs still in flight keep conn_id; their answers find no connection and
	 * are dropped when they complete. */
	free(c->rbuf);
	free(c->wbuf);
	free(c);
}

static void conn_update_events(struct server *s, struct conn *c)
{
	/* After a fatal framing error we only flush the ERROR, so stop polling for
	 * input (level-triggered EPOLLIN would spin). */
	uint32_t want = (c->closing ? 0u : (uint32_t)(EPOLLIN | EPOLLRDHUP)) | (c->wlen ? (uint32_t)EPOLLOUT : 0u);
	if (want == c->events)
		return;
	struct epoll_event ev = { .events = want, .data.u64 = TAG_CONN0 + c->slot };
	epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev);
	c->events = want;
}

/* Write what we can; returns -1 when the connection died (and was closed). */
static int conn_flush(struct server *s, struct conn *c)
{
	size_t off = 0;
	while (off < c->wlen) {
		ssize_t n = send(c->fd, c->wbuf + off, c->wlen - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		conn_close(s, c);
		return -1;
	}
	if (off) {
		memmove(c->wbuf, c->wbuf + off, c->wlen - off);
		c->wlen -= off;
	}
	if (c->wlen == 0 && c->closing) {
		conn_close(s, c);
		return -1;
	}
	conn_update_events(s, c);
	return 0;
}

/* Queue bytes for c. The buffer grows geometrically and never shrinks, so a
 * steady connection stops allocating after its first few replies. */
static int conn_queue(struct server *s, struct conn *c, const uint8_t *buf, size_t len)
{
	if (c->wlen + len > c->wcap) {
		size_t cap = c->wcap ? c->wcap : 4096;
		while (cap < c->wlen + len)
			cap *= 2;
		if (cap > WBUF_LIMIT) {
			klog_ratelimited(s->log, &rl_bad, 5, 10000, KLOG_WARN,
					 "connection %u (pid %d) is not reading its replies; closing", c->slot, (int)c->pid);
			conn_close(s, c);
			return -1;
		}
		uint8_t *nb = realloc(c->wbuf, cap);
		if (!nb) {
			conn_close(s, c);
			return -1;
		}
		c->wbuf = nb;
		c->wcap = cap;
	}
	memcpy(c->wbuf + c->wlen, buf, len);
	c->wlen += len;
	return 0;
}

static int send_msg(struct server *s, struct conn *c, struct ruth_ipc_msg *m)
{
	int n = ruth_ipc_encode(m, s->scratch, s->scratch_cap);
	if (n < 0) {
		KLOG_ERR(s->log, "encoding a reply of type %u: %s", m->hdr.type, ruth_ipc_strerror(n));
		return 0;
	}
	return conn_queue(s, c, s->scratch, (size_t)n);
}

static int send_error(struct server *s, struct conn *c, uint64_t request_id, uint32_t status, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int send_error(struct server *s, struct conn *c, uint64_t request_id, uint32_t status, const char *fmt, ...)
{
	struct ruth_ipc_msg *m = &s->reply;
	memset(&m->hdr, 0, sizeof(m->hdr));
	memset(&m->u.error, 0, sizeof(m->u.error));
	m->hdr.type = RUTH_IPC_ERROR;
	m->hdr.version = c->hello_done ? c->version : RUTH_IPC_VERSION;
	m->hdr.request_id = request_id;
	m->u.error.status = status;
	m->u.error.min_version = RUTH_IPC_VERSION_MIN;
	m->u.error.max_version = RUTH_IPC_VERSION;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->u.error.message, sizeof(m->u.error.message), fmt, ap);
	va_end(ap);
	klog_ratelimited(s->log, &rl_bad, 5, 10000, KLOG_WARN, "connection %u (pid %d): %s: %s", c->slot, (int)c->pid,
			 ruth_ipc_status_name(status), m->u.error.message);
	return send_msg(s, c, m);
}

static int send_infer_status(struct server *s, struct conn *c, uint64_t request_id,
			     const struct ruth_ipc_infer_request *req, uint32_t status, const char *message)
{
	struct ruth_ipc_msg *m = &s->reply;
	memset(&m->hdr, 0, sizeof(m->hdr));
	memset(&m->u.infer_response, 0, sizeof(m->u.infer_response));
	m->u.infer_response.detections = m->det_storage;
	m->hdr.type = RUTH_IPC_INFER_RESPONSE;
	m->hdr.version = c->version;
	m->hdr.request_id = request_id;
	m->u.infer_response.status = status;
	m->u.infer_response.mode = (uint16_t)s->rt->mode;
	m->u.infer_response.generation = req->generation;
	m->u.infer_response.frame_seq = req->frame_seq;
	snprintf(m->u.infer_response.message, sizeof(m->u.infer_response.message), "%s", message);
	atomic_fetch_add(&s->rt->requests_total, 1);
	if (status != RUTH_IPC_OK)
		atomic_fetch_add(&s->rt->requests_failed, 1);
	return send_msg(s, c, m);
}

static uint16_t rt_state(const struct ruth_rt *rt)
{
	return rt->mode == RUTH_MODE_STUB ? RUTH_STATE_DEGRADED : RUTH_STATE_READY;
}

static int handle_hello(struct server *s, struct conn *c, const uint8_t *buf, size_t len, uint64_t rid)
{
	struct ruth_ipc_msg *m = &s->msg;
	ruth_ipc_msg_init(m);
	int r = ruth_ipc_decode(buf, len, m);
	if (r < 0) {
		if (send_error(s, c, rid, RUTH_IPC_E_BAD_MESSAGE, "bad HELLO: %s", ruth_ipc_strerror(r)) < 0)
			return -1;
		c->closing = 1;
		return 0;
	}
	uint16_t lo = m->u.hello.min_version > RUTH_IPC_VERSION_MIN ? m->u.hello.min_version : RUTH_IPC_VERSION_MIN;
	uint16_t hi = m->u.hello.max_version < RUTH_IPC_VERSION ? m->u.hello.max_version : RUTH_IPC_VERSION;
	if (lo > hi) {
		if (send_error(s, c, rid, RUTH_IPC_E_UNSUPPORTED_VERSION,
			       "client speaks versions %u..%u, this runtime %u..%u", m->u.hello.min_version,
			       m->u.hello.max_version, RUTH_IPC_VERSION_MIN, RUTH_IPC_VERSION) < 0)
			return -1;
		c->closing = 1;
		return 0;
	}
	c->hello_done = 1;
	c->version = hi;
	KLOG_DBG(s->log, "connection %u: HELLO from '%s' pid %u, version %u", c->slot, m->u.hello.client_name,
		 m->u.hello.client_pid, hi);

	const struct ruth_rt *rt = s->rt;
	struct ruth_ipc_msg *a = &s->reply;
	memset(&a->hdr, 0, sizeof(a->hdr));
	memset(&a->u.hello_ack, 0, sizeof(a->u.hello_ack));
	a->hdr.type = RUTH_IPC_HELLO_ACK;
	a->hdr.version = hi;
	a->hdr.request_id = rid;
	struct ruth_ipc_hello_ack *h = &a->u.hello_ack;
	h->version = hi;
	h->mode = (uint16_t)rt->mode;
	h->state = rt_state(rt);
	h->max_inflight = s->max_inflight;
	h->workers = rt->mode == RUTH_MODE_STUB ? 0 : rt->n_workers;
	h->input_width = rt->cfg.expected_width;
	h->input_height = rt->cfg.expected_height;
	snprintf(h->model_id, sizeof(h->model_id), "%s", rt->cfg.model_id);
	snprintf(h->model_name, sizeof(h->model_name), "%s", rt->cfg.model_name);
	snprintf(h->model_version, sizeof(h->model_version), "%s", rt->cfg.model_version);
	snprintf(h->backend, sizeof(h->backend), "%s", rt->bops->name);
	snprintf(h->mode_reason, sizeof(h->mode_reason), "%s", rt->reason);
	return send_msg(s, c, a);
}

static int handle_health(struct server *s, struct conn *c, uint64_t rid)
{
	const struct ruth_rt *rt = s->rt;
	struct ruth_ipc_msg *a = &s->reply;
	memset(&a->hdr, 0, sizeof(a->hdr));
	memset(&a->u.health_ack, 0, sizeof(a->u.health_ack));
	a->hdr.type = RUTH_IPC_HEALTH_ACK;
	a->hdr.version = c->version;
	a->hdr.request_id = rid;
	struct ruth_ipc_health_ack *h = &a->u.health_ack;
	h->state = rt_state(rt);
	h->mode = (uint16_t)rt->mode;
	h->inflight = atomic_load(&s->rt->inflight);
	h->queue_capacity = rt->mode == RUTH_MODE_STUB ? 0 : s->qcap;
	h->connections = s->n_conns;
	h->requests_total = atomic_load(&s->rt->requests_total);
	h->requests_failed = atomic_load(&s->rt->requests_failed);
	h->uptime_ms = (kclock_mono_ns() - rt->start_ns) / 1000000u;
	snprintf(h->reason, sizeof(h->reason), "%s", rt->reason);
	return send_msg(s, c, a);
}

static int handle_infer(struct server *s, struct conn *c, const uint8_t *buf, size_t len, uint64_t rid)
{
	struct ruth_ipc_msg *m = &s->msg;
	ruth_ipc_msg_init(m);
	int r = ruth_ipc_decode(buf, len, m);
	if (r < 0)
		return send_error(s, c, rid, RUTH_IPC_E_BAD_MESSAGE, "bad INFER_REQUEST: %s", ruth_ipc_strerror(r));
	const struct ruth_ipc_infer_request *req = &m->u.infer_request;
	char msg[RUTH_IPC_MESSAGE_MAX];
	uint32_t st = ruth__request_validate(req, msg, sizeof(msg));
	if (st != RUTH_IPC_OK)
		return send_infer_status(s, c, rid, req, st, msg);
	if (s->rt->mode == RUTH_MODE_STUB)
		return send_infer_status(s, c, rid, req, RUTH_IPC_E_MODEL_UNAVAILABLE, s->rt->reason);
	if (c->inflight >= s->max_inflight) {
		snprintf(msg, sizeof(msg), "max_inflight %u reached on this connection", s->max_inflight);
		return send_infer_status(s, c, rid, req, RUTH_IPC_E_BUSY, msg);
	}
	struct ruth_job *job = s->free_list;
	pthread_mutex_lock(&s->qlock);
	if (!job || s->qlen >= s->qcap || s->stop) {
		int stopping = s->stop;
		pthread_mutex_unlock(&s->qlock);
		snprintf(msg, sizeof(msg), stopping ? "runtime is shutting down" : "queue full (%u)", s->qcap);
		return send_infer_status(s, c, rid, req, RUTH_IPC_E_BUSY, msg);
	}
	s->free_list = job->next;
	job->next = NULL;
	job->conn_id = conn_id(c);
	job->request_id = rid;
	job->version = c->version;
	job->enqueue_ns = kclock_mono_ns();
	job->cancelled = 0;
	job->req = *req;
	s->queue[(s->qhead + s->qlen) % s->qcap] = job;
	s->qlen++;
	pthread_cond_signal(&s->qcond);
	pthread_mutex_unlock(&s->qlock);
	c->inflight++;
	atomic_fetch_add(&s->rt->inflight, 1);
	return 0;
}

/* One whole message (envelope + body) in buf. Returns -1 if c was closed. */
static int handle_message(struct server *s, struct conn *c, const uint8_t *buf, size_t len,
			  const struct ruth_ipc_header *hdr)
{
	uint64_t rid = hdr->request_id;
	if (!c->hello_done) {
		if (hdr->type != RUTH_IPC_HELLO)
			return send_error(s, c, rid, RUTH_IPC_E_HANDSHAKE_REQUIRED, "send HELLO first (got type %u)",
					  hdr->type);
		return handle_hello(s, c, buf, len, rid);
	}
	if (hdr->type == RUTH_IPC_HELLO)
		return send_error(s, c, rid, RUTH_IPC_E_BAD_MESSAGE, "HELLO already done on this connection");
	if (hdr->type == RUTH_IPC_HEALTH || hdr->type == RUTH_IPC_INFER_REQUEST) {
		if (hdr->version != c->version)
			return send_error(s, c, rid, RUTH_IPC_E_UNSUPPORTED_VERSION,
					  "message version %u; this connection negotiated %u", hdr->version, c->version);
		if (hdr->type == RUTH_IPC_HEALTH)
			return handle_health(s, c, rid);
		return handle_infer(s, c, buf, len, rid);
	}
	return send_error(s, c, rid, RUTH_IPC_E_UNKNOWN_TYPE, "message type %u is not a request", hdr->type);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void conn_read(struct server *s, struct conn *c)
{
	for (;;) {
		if (c->closing)
			break; /* ignore input after a fatal framing error */
		ssize_t n = recv(c->fd, c->rbuf + c->rlen, RBUF_CAP - c->rlen, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			conn_close(s, c);
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		c->rlen += (size_t)n;
		size_t off = 0;
		while (c->rlen - off >= RUTH_IPC_HEADER_SIZE && !c->closing) {
			struct ruth_ipc_header hdr;
			const uint8_t *p = c->rbuf + off;
			int r = ruth_ipc_decode_header(p, c->rlen - off, &hdr);
			if (r == RUTH_IPC_EMAGIC) {
				if (send_error(s, c, 0, RUTH_IPC_E_BAD_MESSAGE, "bad magic; closing") < 0)
					return;
				c->closing = 1;
				break;
			}
			if (r == RUTH_IPC_ETOOLARGE) {
				/* An error about the byte stream: request_id 0 (docs/ipc-contract.md). */
				if (send_error(s, c, 0, RUTH_IPC_E_TOO_LARGE, "body_len %llu above %u; closing",
					       (unsigned long long)le32(p + 16), RUTH_IPC_MAX_BODY) < 0)
					return;
				c->closing = 1;
				break;
			}
			if (r < 0)
				break;
			size_t total = RUTH_IPC_HEADER_SIZE + (size_t)hdr.body_len;
			if (c->rlen - off < total)
				break;
			if (handle_message(s, c, p, total, &hdr) < 0)
				return; /* closed */
			off += total;
		}
		if (c->closing) {
			c->rlen = 0;
			break;
		}
		if (off) {
			memmove(c->rbuf, c->rbuf + off, c->rlen - off);
			c->rlen -= off;
		}
		if ((size_t)n < 4096)
			break; /* probably drained; epoll (level-triggered) tells us if not */
	}
	conn_flush(s, c);
}

static int gid_allowed(const struct ruth_rt *rt, gid_t g)
{
	if (g == getegid())
		return 1;
	for (size_t i = 0; i < rt->opt.n_allow_gids; i++)
		if (rt->opt.allow_gids[i] == g)
			return 1;
	return 0;
}

/* Allowed: root, our own uid, --allow-uid; or a primary or supplementary
 * group (SO_PEERGROUPS) that is ours or --allow-gid. */
static int peer_allowed(const struct ruth_rt *rt, int fd, const struct ucred *cr)
{
	if (cr->uid == 0 || cr->uid == geteuid() || gid_allowed(rt, cr->gid))
		return 1;
	for (size_t i = 0; i < rt->opt.n_allow_uids; i++)
		if (rt->opt.allow_uids[i] == cr->uid)
			return 1;
	gid_t groups[64];
	socklen_t len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
		for (size_t i = 0; i < len / sizeof(gid_t); i++)
			if (gid_allowed(rt, groups[i]))
				return 1;
	return 0;
}

static void do_accept(struct server *s)
{
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
				klog_ratelimited(s->log, &rl_bad, 5, 10000, KLOG_WARN, "accept: %s", strerror(errno));
			return;
		}
		struct ucred cr;
		socklen_t crl = sizeof(cr);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) < 0 || !peer_allowed(s->rt, fd, &cr)) {
			klog_ratelimited(s->log, &rl_bad, 5, 10000, KLOG_WARN,
					 "refused a connection from uid %d gid %d pid %d (not in the allowed list)",
					 (int)cr.uid, (int)cr.gid, (int)cr.pid);
			close(fd);
			continue;
		}
		uint32_t slot = UINT32_MAX;
		for (uint32_t i = 0; i < s->max_conns; i++)
			if (!s->conns[i]) {
				slot = i;
				break;
			}
		struct conn *c = slot == UINT32_MAX ? NULL : calloc(1, sizeof(*c));
		if (c)
			c->rbuf = malloc(RBUF_CAP);
		if (!c || !c->rbuf) {
			klog_ratelimited(s->log, &rl_bad, 5, 10000, KLOG_WARN, "refused a connection: %s",
					 slot == UINT32_MAX ? "too many connections" : "out of memory");
			if (c)
				free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->slot = slot;
		c->gen = ++s->gens[slot];
		c->uid = cr.uid;
		c->pid = cr.pid;
		c->events = EPOLLIN | EPOLLRDHUP;
		struct epoll_event ev = { .events = c->events, .data.u64 = TAG_CONN0 + slot };
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			free(c->rbuf);
			free(c);
			close(fd);
			continue;
		}
		s->conns[slot] = c;
		s->n_conns++;
		atomic_fetch_add(&s->rt->connections, 1);
		KLOG_DBG(s->log, "connection %u from pid %d uid %d", slot, (int)cr.pid, (int)cr.uid);
	}
}

static void drain_completions(struct server *s)
{
	uint64_t cnt;
	ssize_t rd = read(s->efd, &cnt, sizeof(cnt));
	(void)rd;
	pthread_mutex_lock(&s->dlock);
	struct ruth_job *j = s->done_head;
	s->done_head = s->done_tail = NULL;
	pthread_mutex_unlock(&s->dlock);
	while (j) {
		struct ruth_job *next = j->next;
		struct conn *c = conn_lookup(s, j->conn_id);
		if (j->out_len) {
			atomic_fetch_add(&s->rt->requests_total, 1);
			if (j->resp.u.infer_response.status != RUTH_IPC_OK)
				atomic_fetch_add(&s->rt->requests_failed, 1);
		}
		atomic_fetch_sub(&s->rt->inflight, 1);
		if (c) {
			c->inflight--;
			if (j->out_len)
				conn_queue(s, c, j->out, j->out_len);
			/* Flushed below, once per batch, by the caller. */
		}
		j->next = s->free_list;
		s->free_list = j;
		j = next;
	}
	for (uint32_t i = 0; i < s->max_conns; i++)
		if (s->conns[i] && s->conns[i]->wlen)
			conn_flush(s, s->conns[i]);
}

int ruth__server_listen(struct ruth_rt *rt, int *lfd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(rt->socket_path) >= sizeof(sa.sun_path)) {
		KLOG_ERR(&rt->log, "socket path %s is too long", rt->socket_path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, rt->socket_path, strlen(rt->socket_path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (lstat(rt->socket_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			KLOG_ERR(&rt->log, "%s exists and is not a socket", rt->socket_path);
			close(fd);
			return -EEXIST;
		}
		/* A live runtime answers connect(); a stale file from a crash does not. */
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			close(fd);
			KLOG_ERR(&rt->log, "another runtime is already serving %s", rt->socket_path);
			return -EADDRINUSE;
		}
		if (probe >= 0)
			close(probe);
		unlink(rt->socket_path);
	}
	mode_t old = umask(0117); /* socket file mode 0660 */
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || chmod(rt->socket_path, 0660) < 0 || listen(fd, 128) < 0) {
		r = -errno;
		KLOG_ERR(&rt->log, "cannot listen on %s: %s", rt->socket_path, strerror(-r));
		close(fd);
		return r;
	}
	*lfd = fd;
	return 0;
}

static void server_free(struct server *s)
{
	if (s->jobs) {
		for (uint32_t i = 0; i < s->n_jobs; i++)
			free(s->jobs[i].out);
		free(s->jobs);
	}
	free(s->queue);
	free(s->conns);
	free(s->gens);
	free(s->scratch);
	pthread_mutex_destroy(&s->qlock);
	pthread_cond_destroy(&s->qcond);
	pthread_mutex_destroy(&s->dlock);
}

int ruth__server_run(struct ruth_rt *rt, int lfd)
{
	static struct server srv; /* large (two ruth_ipc_msg); one per process */
	struct server *s = &srv;
	int rc = 0;
	memset(s, 0, sizeof(*s));
	s->rt = rt;
	s->log = &rt->log;
	s->lfd = lfd;
	s->epfd = s->sfd = s->efd = -1;
	s->max_conns = rt->opt.max_conns ? rt->opt.max_conns : 256;
	s->max_inflight = rt->opt.max_inflight ? rt->opt.max_inflight : RUTH_IPC_MAX_INFLIGHT;
	s->qcap = rt->queue_depth ? rt->queue_depth : 1;
	pthread_mutex_init(&s->qlock, NULL);
	pthread_cond_init(&s->qcond, NULL);
	pthread_mutex_init(&s->dlock, NULL);
	ruth_ipc_msg_init(&s->msg);
	ruth_ipc_msg_init(&s->reply);

	/* Everything the server will ever need, allocated now. */
	size_t out_cap = ruth__max_response_size();
	s->scratch_cap = out_cap > 4096 ? out_cap : 4096;
	s->scratch = malloc(s->scratch_cap);
	s->conns = calloc(s->max_conns, sizeof(*s->conns));
	s->gens = calloc(s->max_conns, sizeof(*s->gens));
	s->queue = calloc(s->qcap, sizeof(*s->queue));
	s->n_jobs = rt->mode == RUTH_MODE_STUB ? 0 : s->qcap + rt->n_workers;
	s->jobs = s->n_jobs ? calloc(s->n_jobs, sizeof(*s->jobs)) : NULL;
	if (!s->scratch || !s->conns || !s->gens || !s->queue || (s->n_jobs && !s->jobs)) {
		KLOG_ERR(&rt->log, "out of memory setting up the server");
		rc = 1;
		goto out;
	}
	for (uint32_t i = 0; i < s->n_jobs; i++) {
		struct ruth_job *j = &s->jobs[i];
		ruth_ipc_msg_init(&j->resp);
		j->out_cap = out_cap;
		j->out = malloc(out_cap);
		if (!j->out) {
			KLOG_ERR(&rt->log, "out of memory for job buffers");
			rc = 1;
			goto out;
		}
		memset(j->out, 0, out_cap);
		j->next = s->free_list;
		s->free_list = j;
	}

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	s->sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->sfd < 0 || s->efd < 0 || s->epfd < 0) {
		KLOG_ERR(&rt->log, "signalfd/eventfd/epoll: %s", strerror(errno));
		rc = 1;
		goto out;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_LISTEN };
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev);
	ev.data.u64 = TAG_SIGNAL;
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sfd, &ev);
	ev.data.u64 = TAG_EVENT;
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->efd, &ev);

	/* Workers. Signals stay blocked in them (inherited mask). */
	struct worker_arg *args = calloc(rt->n_workers ? rt->n_workers : 1, sizeof(*args));
	if (!args) {
		rc = 1;
		goto out;
	}
	if (rt->mode != RUTH_MODE_STUB) {
		for (uint32_t i = 0; i < rt->n_workers; i++) {
			args[i].s = s;
			args[i].w = &rt->workers[i];
			if (pthread_create(&rt->workers[i].thread, NULL, worker_main, &args[i]) == 0)
				rt->workers[i].started = 1;
		}
	}

	int stopping = 0;
	uint64_t stop_deadline = 0;
	for (;;) {
		if (stopping && (atomic_load(&rt->inflight) == 0 || kclock_mono_ns() > stop_deadline))
			break;
		struct epoll_event evs[64];
		int n = epoll_wait(s->epfd, evs, 64, stopping ? 50 : -1);
		if (n < 0 && errno != EINTR) {
			KLOG_ERR(&rt->log, "epoll_wait: %s", strerror(errno));
			rc = 1;
			break;
		}
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;
			if (tag == TAG_LISTEN) {
				do_accept(s);
			} else if (tag == TAG_SIGNAL) {
				struct signalfd_siginfo si;
				while (read(s->sfd, &si, sizeof(si)) == sizeof(si)) {
					if (stopping)
						continue;
					KLOG_INFO(&rt->log, "signal %u: stop accepting, finishing %u in flight",
						  si.ssi_signo, atomic_load(&rt->inflight));
					stopping = 1;
					stop_deadline = kclock_mono_ns() + 3000000000ull;
					epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->lfd, NULL);
					close(s->lfd);
					s->lfd = -1;
					unlink(rt->socket_path);
					pthread_mutex_lock(&s->qlock);
					s->stop = 1; /* workers finish the queue, then exit */
					pthread_cond_broadcast(&s->qcond);
					pthread_mutex_unlock(&s->qlock);
				}
			} else if (tag == TAG_EVENT) {
				drain_completions(s);
			} else {
				uint32_t slot = (uint32_t)(tag - TAG_CONN0);
				struct conn *c = slot < s->max_conns ? s->conns[slot] : NULL;
				if (!c)
					continue;
				if (evs[i].events & EPOLLOUT) {
					if (conn_flush(s, c) < 0)
						continue;
				}
				if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
					conn_read(s, c);
			}
		}
	}
	/* Stop the workers (the queue is empty or the deadline passed), deliver what
	 * finished, then close every connection. */
	pthread_mutex_lock(&s->qlock);
	s->stop = 1;
	pthread_cond_broadcast(&s->qcond);
	pthread_mutex_unlock(&s->qlock);
	for (uint32_t i = 0; i < rt->n_workers && rt->workers; i++)
		if (rt->workers[i].started) {
			pthread_join(rt->workers[i].thread, NULL);
			rt->workers[i].started = 0;
		}
	drain_completions(s);
	for (uint32_t i = 0; i < s->max_conns; i++)
		if (s->conns[i])
			conn_close(s, s->conns[i]);
	free(args);
out:
	if (s->lfd >= 0) {
		close(s->lfd);
		unlink(rt->socket_path);
	}
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->sfd >= 0)
		close(s->sfd);
	if (s->efd >= 0)
		close(s->efd);
	server_free(s);
	return rc;
}

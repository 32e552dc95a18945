/* server.c: the runtime's socket, connections, job queue and serving threads.
 *
 * Threads (leader/follower over one epoll set):
 *   - The main thread owns the listening socket and the signalfd (its own
 *     small epoll set). It accepts, checks peer credentials and registers each
 *     connection in the shared epoll set `epfd`, one-shot. On SIGTERM it stops
 *     accepting, lets the work in flight finish (3 s at most), then stops the
 *     serving threads and closes every connection.
 *   - N serving threads (the workers; one answering thread in stub mode) all
 *     wait in epoll_wait on `epfd`. The thread that gets a connection's event
 *     reads the bytes, answers HELLO/HEALTH/errors at once, keeps the first
 *     inference request for itself and queues any further pipelined ones,
 *     re-arms the connection, runs its request and writes the answer itself.
 *     An idle thread is woken for queued jobs through `qefd`. Requests
 *     flagged GROUPED (protocol version 2) that follow the kept one in the
 *     same read are kept too, up to RUTH_RT_GROUP_MAX, run in order by the
 *     same thread, and answered in one write after the last of them: the
 *     client asked for no parallelism, so no other thread is woken for them
 *     and the client wakes once for all their answers.
 *   Why: the request that arrives is run by the thread that read it and
 *   answered by the thread that ran it, so a request costs two wake-ups (the
 *   client's and the server's), the least a socket round trip can cost. The
 *   former design (one IO thread handing jobs to workers and back) paid four,
 *   about 100 us per request on a 2-vCPU VM (docs/runtime.md, "Threads").
 *
 * Invariants correctness rests on:
 *   - A connection is registered EPOLLONESHOT: an event disarms it, so at most
 *     one thread reads it at a time, and the thread that got the event always
 *     re-arms it (or closes it) before letting go of c->lock. A reply writer
 *     that has to wait for EPOLLOUT re-arms it too; a second event that this
 *     may cause is harmless, because every handler works under c->lock and
 *     only does non-blocking reads and writes.
 *   - c->lock guards every field of a connection except `refs`; c->fd is -1
 *     once closed and nobody touches the descriptor then, so a closed number
 *     that the kernel reuses is never written to.
 *   - References: the connection table holds one while the connection is
 *     open, every job outside the free list one, every thread handling an
 *     event one (taken under tlock from the table by slot + generation, so a
 *     stale event for a closed and reused slot finds nothing). The last
 *     conn_put frees it.
 *   - Lock order: c->lock, then tlock or qlock. Never the other way.
 *   - A job is in exactly one place (free list, queue, a thread's own or
 *     group slots); queued plus group-held jobs (`held`, those kept beyond
 *     each thread's own) <= queue_depth; the pool holds queue_depth + workers
 *     jobs, so the thread that reads a request always finds a job for the one
 *     it keeps. A
 *     connection's inflight counts its jobs outside the free list and never
 *     exceeds max_inflight.
 *
 * Bad input never costs more than the offending connection: a bad envelope
 * (magic, oversized length) gets ERROR and that connection is closed, since
 * framing is lost; a bad body, unknown type or version gets ERROR and the
 * connection stays. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
#define TAG_QUEUE 3u
#define TAG_STOP 4u
#define TAG_CONN (1ull << 63) /* | slot << 32 | generation */
#define WBUF_LIMIT (16u << 20) /* a client that stops reading is closed past this */
#define RBUF_CAP (RUTH_IPC_HEADER_SIZE + RUTH_IPC_MAX_BODY)
/* Most GROUPED requests one thread keeps after its own; later ones of the
 * same read go to the queue as usual (any thread may run them). */
#define RUTH_RT_GROUP_MAX 8u

struct ruth_conn {
	pthread_mutex_t lock;
	_Atomic uint32_t refs;
	int fd; /* -1 once closed */
	uint32_t slot, gen;
	uint8_t *rbuf;
	size_t rlen;
	uint8_t *wbuf;
	size_t wlen, wcap;
	int hello_done;
	uint16_t version;
	uint32_t inflight;
	int closing;     /* close once wbuf is flushed */
	uint32_t armed;  /* events last armed (without EPOLLONESHOT) */
	uid_t uid;
	pid_t pid;
};

struct server;

/* One serving thread's private state: decode and reply buffers. */
struct serv {
	uint32_t poll_credit; /* busy polls to try before the next probe; see serv_wait */
	uint32_t poll_skips;  /* answers since the last busy poll while credit is 0 */
	struct server *s;
	struct ruth_worker *w; /* NULL in stub mode */
	pthread_t thread;
	int started;
	struct ruth_job *own;  /* the request this thread read and runs itself */
	struct ruth_job *group[RUTH_RT_GROUP_MAX]; /* GROUPED ones after it, run next */
	uint32_t n_group;
	int hold; /* run_job keeps its answer in wbuf: more of the group follow */
	uint8_t *scratch;      /* encode buffer for replies made here */
	size_t scratch_cap;
	struct ruth_ipc_msg msg;   /* decode target */
	struct ruth_ipc_msg reply; /* non-inference replies */
};

struct server {
	struct ruth_rt *rt;
	struct klog_ctx *log;
	int epfd;  /* connections, qefd, sefd: the serving threads wait here */
	int mepfd; /* main thread: lfd, sfd */
	int lfd, sfd;
	int qefd;  /* "the queue has jobs": wakes an idle serving thread */
	int sefd;  /* "stop": written once, never read, wakes every thread */
	_Atomic int draining; /* SIGTERM seen: new inference requests get BUSY */
	_Atomic int stop;     /* serving threads exit at their next wait */

	pthread_mutex_t tlock; /* guards conns, gens, n_conns */
	struct ruth_conn **conns;
	uint32_t *gens;
	uint32_t max_conns, n_conns;
	uint32_t max_inflight;

	pthread_mutex_t qlock; /* guards free_list, queue, qhead, qlen, held */
	struct ruth_job *jobs;
	uint32_t n_jobs;
	struct ruth_job *free_list;
	struct ruth_job **queue;
	uint32_t qhead, qlen, qcap;
	uint32_t held; /* jobs in threads' group slots, not yet started */

	struct serv *servs;
	uint32_t n_servs;
	size_t out_cap;
};

static struct klog_ratelimit rl_bad;

/* ---------------------------------------------------------------- connection lifetime */

static uint64_t conn_tag(const struct ruth_conn *c)
{
	return TAG_CONN | ((uint64_t)c->slot << 32) | c->gen;
}

/* The open connection a tag names, with a reference, or NULL. */
static struct ruth_conn *conn_get(struct server *s, uint64_t tag)
{
	uint32_t slot = (uint32_t)(tag >> 32) & 0x7fffffffu, gen = (uint32_t)tag;
	struct ruth_conn *c = NULL;
	pthread_mutex_lock(&s->tlock);
	if (slot < s->max_conns && s->conns[slot] && s->conns[slot]->gen == gen) {
		c = s->conns[slot];
		atomic_fetch_add(&c->refs, 1);
	}
	pthread_mutex_unlock(&s->tlock);
	return c;
}

static void conn_put(struct ruth_conn *c)
{
	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c->rbuf);
	free(c->wbuf);
	free(c);
}

/* Under c->lock, with a reference held by the caller besides the table's. */
static void conn_close_locked(struct server *s, struct ruth_conn *c)
{
	if (c->fd < 0)
		return;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	KLOG_DBG(s->log, "connection %u closed (pid %d, %u in flight dropped)", c->slot, (int)c->pid, c->inflight);
	/* Jobs still in flight keep their reference; their answers are dropped. */
	free(c->rbuf);
	free(c->wbuf);
	c->rbuf = c->wbuf = NULL;
	c->rlen = c->wlen = c->wcap = 0;
	pthread_mutex_lock(&s->tlock);
	s->conns[c->slot] = NULL;
	s->n_conns--;
	pthread_mutex_unlock(&s->tlock);
	atomic_fetch_sub(&s->rt->connections, 1);
	conn_put(c); /* the table's reference; the caller's keeps c alive */
}

/* Under c->lock: arm the connection for what it waits for now. */
static void conn_arm_locked(struct server *s, struct ruth_conn *c)
{
	if (c->fd < 0)
		return;
	/* After a fatal framing error we only flush the ERROR, so stop polling for
	 * input (it would fire at once, level-triggered). */
	uint32_t want = (c->closing ? 0u : (uint32_t)(EPOLLIN | EPOLLRDHUP)) | (c->wlen ? (uint32_t)EPOLLOUT : 0u);
	struct epoll_event ev = { .events = want | EPOLLONESHOT, .data.u64 = conn_tag(c) };
	epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev);
	c->armed = want;
}

/* Under c->lock: write what we can of wbuf. Returns -1 when the connection
 * died (and was closed). Does not re-arm. */
/* Send as much of buf as the socket takes now: the count sent, or -1 when the
 * connection is dead. */
static ssize_t send_some(int fd, const uint8_t *buf, size_t len)
{
	size_t off = 0;
	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		else
			return -1;
	}
	return (ssize_t)off;
}

static int conn_flush_locked(struct server *s, struct ruth_conn *c)
{
	ssize_t sent = send_some(c->fd, c->wbuf, c->wlen);
	if (sent < 0) {
		conn_close_locked(s, c);
		return -1;
	}
	size_t off = (size_t)sent;
	if (off) {
		memmove(c->wbuf, c->wbuf + off, c->wlen - off);
		c->wlen -= off;
	}
	return 0;
}

/* Under c->lock: append to wbuf. It grows geometrically and never shrinks,
 * so a steady connection stops allocating after its first few replies. */
static int conn_append_locked(struct server *s, struct ruth_conn *c, const uint8_t *buf, size_t len)
{
	if (c->wlen + len > c->wcap) {
		size_t cap = c->wcap ? c->wcap : 4096;
		while (cap < c->wlen + len)
			cap *= 2;
		if (cap > WBUF_LIMIT) {
			klog_ratelimited(s->log, &rl_bad, 5, 10000, KLOG_WARN,
					 "connection %u (pid %d) is not reading its replies; closing", c->slot, (int)c->pid);
			conn_close_locked(s, c);
			return -1;
		}
		uint8_t *nb = realloc(c->wbuf, cap);
		if (!nb) {
			conn_close_locked(s, c);
			return -1;
		}
		c->wbuf = nb;
		c->wcap = cap;
	}
	memcpy(c->wbuf + c->wlen, buf, len);
	c->wlen += len;
	return 0;
}

/* Under c->lock, from a thread that is not handling c's event: send now when
 * nothing is waiting, else (or for the rest) buffer and ask for EPOLLOUT.
 * hold: only buffer; the caller sends it with a later answer of its group.
 * Bytes in wbuf without EPOLLOUT armed are such held answers (a thread that
 * leaves bytes behind after a short send always arms EPOLLOUT), so they go
 * out now, in order, ahead of this one. */
static void conn_send_locked(struct server *s, struct ruth_conn *c, const uint8_t *buf, size_t len, int hold)
{
	if (c->fd < 0)
		return;
	if (hold || (c->wlen && !(c->armed & EPOLLOUT))) {
		if (conn_append_locked(s, c, buf, len) < 0 || hold)
			return;
		if (conn_flush_locked(s, c) == 0 && c->wlen)
			conn_arm_locked(s, c);
		return;
	}
	size_t off = 0;
	if (c->wlen == 0) { /* nothing queued before it: the answer may go now */
		ssize_t sent = send_some(c->fd, buf, len);
		if (sent < 0) {
			conn_close_locked(s, c);
			return;
		}
		off = (size_t)sent;
	}
	if (off == len)
		return;
	if (conn_append_locked(s, c, buf + off, len - off) < 0)
		return;
	if (!(c->armed & EPOLLOUT))
		conn_arm_locked(s, c);
}

/* ---------------------------------------------------------------- replies made by the reading thread */

static int send_msg(struct serv *t, struct ruth_conn *c, struct ruth_ipc_msg *m)
{
	int n = ruth_ipc_encode(m, t->scratch, t->scratch_cap);
	if (n < 0) {
		KLOG_ERR(t->s->log, "encoding a reply of type %u: %s", m->hdr.type, ruth_ipc_strerror(n));
		return 0;
	}
	return conn_append_locked(t->s, c, t->scratch, (size_t)n);
}

static int send_error(struct serv *t, struct ruth_conn *c, uint64_t request_id, uint32_t status, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int send_error(struct serv *t, struct ruth_conn *c, uint64_t request_id, uint32_t status, const char *fmt, ...)
{
	struct ruth_ipc_msg *m = &t->reply;
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
	klog_ratelimited(t->s->log, &rl_bad, 5, 10000, KLOG_WARN, "connection %u (pid %d): %s: %s", c->slot,
			 (int)c->pid, ruth_ipc_status_name(status), m->u.error.message);
	return send_msg(t, c, m);
}

static int send_infer_status(struct serv *t, struct ruth_conn *c, uint64_t request_id,
			     const struct ruth_ipc_infer_request *req, uint32_t status, const char *message)
{
	struct ruth_ipc_msg *m = &t->reply;
	memset(&m->hdr, 0, sizeof(m->hdr));
	memset(&m->u.infer_response, 0, sizeof(m->u.infer_response));
	m->u.infer_response.detections = m->det_storage;
	m->hdr.type = RUTH_IPC_INFER_RESPONSE;
	m->hdr.version = c->version;
	m->hdr.request_id = request_id;
	m->u.infer_response.status = status;
	m->u.infer_response.mode = (uint16_t)t->s->rt->mode;
	m->u.infer_response.generation = req->generation;
	m->u.infer_response.frame_seq = req->frame_seq;
	snprintf(m->u.infer_response.message, sizeof(m->u.infer_response.message), "%s", message);
	atomic_fetch_add(&t->s->rt->requests_total, 1);
	if (status != RUTH_IPC_OK)
		atomic_fetch_add(&t->s->rt->requests_failed, 1);
	return send_msg(t, c, m);
}

static uint16_t rt_state(const struct ruth_rt *rt)
{
	return rt->mode == RUTH_MODE_STUB ? RUTH_STATE_DEGRADED : RUTH_STATE_READY;
}

static int handle_hello(struct serv *t, struct ruth_conn *c, const uint8_t *buf, size_t len, uint64_t rid)
{
	struct server *s = t->s;
	struct ruth_ipc_msg *m = &t->msg;
	int r = ruth_ipc_decode(buf, len, m); /* sets every field it reads (no 24 KiB init per request) */
	if (r < 0) {
		if (send_error(t, c, rid, RUTH_IPC_E_BAD_MESSAGE, "bad HELLO: %s", ruth_ipc_strerror(r)) < 0)
			return -1;
		c->closing = 1;
		return 0;
	}
	uint16_t lo = m->u.hello.min_version > RUTH_IPC_VERSION_MIN ? m->u.hello.min_version : RUTH_IPC_VERSION_MIN;
	uint16_t hi = m->u.hello.max_version < RUTH_IPC_VERSION ? m->u.hello.max_version : RUTH_IPC_VERSION;
	if (lo > hi) {
		if (send_error(t, c, rid, RUTH_IPC_E_UNSUPPORTED_VERSION,
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
	struct ruth_ipc_msg *a = &t->reply;
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
	return send_msg(t, c, a);
}

static int handle_health(struct serv *t, struct ruth_conn *c, uint64_t rid)
{
	struct server *s = t->s;
	const struct ruth_rt *rt = s->rt;
	struct ruth_ipc_msg *a = &t->reply;
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
	h->connections = atomic_load(&s->rt->connections);
	h->requests_total = atomic_load(&s->rt->requests_total);
	h->requests_failed = atomic_load(&s->rt->requests_failed);
	h->uptime_ms = (kclock_mono_ns() - rt->start_ns) / 1000000u;
	snprintf(h->reason, sizeof(h->reason), "%s", rt->reason);
	return send_msg(t, c, a);
}

static void queue_wake(struct server *s)
{
	uint64_t one = 1;
	ssize_t wr = write(s->qefd, &one, sizeof(one));
	(void)wr; /* the counter cannot overflow: readers reset it */
}

static int handle_infer(struct serv *t, struct ruth_conn *c, const uint8_t *buf, size_t len, uint64_t rid)
{
	struct server *s = t->s;
	struct ruth_ipc_msg *m = &t->msg;
	int r = ruth_ipc_decode(buf, len, m); /* sets every field it reads (no 24 KiB init per request) */
	if (r < 0)
		return send_error(t, c, rid, RUTH_IPC_E_BAD_MESSAGE, "bad INFER_REQUEST: %s", ruth_ipc_strerror(r));
	const struct ruth_ipc_infer_request *req = &m->u.infer_request;
	char msg[RUTH_IPC_MESSAGE_MAX];
	uint32_t st = ruth__request_validate(req, c->version, msg, sizeof(msg));
	if (st != RUTH_IPC_OK)
		return send_infer_status(t, c, rid, req, st, msg);
	if (s->rt->mode == RUTH_MODE_STUB)
		return send_infer_status(t, c, rid, req, RUTH_IPC_E_MODEL_UNAVAILABLE, s->rt->reason);
	if (atomic_load(&s->draining))
		return send_infer_status(t, c, rid, req, RUTH_IPC_E_BUSY, "runtime is shutting down");
	if (c->inflight >= s->max_inflight) {
		snprintf(msg, sizeof(msg), "max_inflight %u reached on this connection", s->max_inflight);
		return send_infer_status(t, c, rid, req, RUTH_IPC_E_BUSY, msg);
	}
	/* The first request this thread reads it keeps and runs; later ones (a
	 * pipelining client) wait in the bounded queue for any thread, unless
	 * flagged GROUPED: those this thread runs after its own (see the top). */
	int keep = t->own == NULL;
	int group = !keep && t->w && (req->flags & RUTH_IPC_INFER_F_GROUPED) && t->n_group < RUTH_RT_GROUP_MAX;
	pthread_mutex_lock(&s->qlock);
	struct ruth_job *job = s->free_list;
	if (!job || (!keep && s->qlen + s->held >= s->qcap)) {
		pthread_mutex_unlock(&s->qlock);
		snprintf(msg, sizeof(msg), "queue full (%u)", s->qcap);
		return send_infer_status(t, c, rid, req, RUTH_IPC_E_BUSY, msg);
	}
	s->free_list = job->next;
	job->next = NULL;
	job->conn = c;
	atomic_fetch_add(&c->refs, 1);
	job->request_id = rid;
	job->version = c->version;
	job->enqueue_ns = kclock_mono_ns();
	job->req = *req;
	if (group) {
		s->held++;
	} else if (!keep) {
		s->queue[(s->qhead + s->qlen) % s->qcap] = job;
		s->qlen++;
	}
	pthread_mutex_unlock(&s->qlock);
	c->inflight++;
	atomic_fetch_add(&s->rt->inflight, 1);
	if (keep)
		t->own = job;
	else if (group)
		t->group[t->n_group++] = job;
	else
		queue_wake(s);
	return 0;
}

/* One whole message (envelope + body) in buf. Returns -1 if c was closed. */
static int handle_message(struct serv *t, struct ruth_conn *c, const uint8_t *buf, size_t len,
			  const struct ruth_ipc_header *hdr)
{
	uint64_t rid = hdr->request_id;
	if (!c->hello_done) {
		if (hdr->type != RUTH_IPC_HELLO)
			return send_error(t, c, rid, RUTH_IPC_E_HANDSHAKE_REQUIRED, "send HELLO first (got type %u)",
					  hdr->type);
		return handle_hello(t, c, buf, len, rid);
	}
	if (hdr->type == RUTH_IPC_HELLO)
		return send_error(t, c, rid, RUTH_IPC_E_BAD_MESSAGE, "HELLO already done on this connection");
	if (hdr->type == RUTH_IPC_HEALTH || hdr->type == RUTH_IPC_INFER_REQUEST) {
		if (hdr->version != c->version)
			return send_error(t, c, rid, RUTH_IPC_E_UNSUPPORTED_VERSION,
					  "message version %u; this connection negotiated %u", hdr->version, c->version);
		if (hdr->type == RUTH_IPC_HEALTH)
			return handle_health(t, c, rid);
		return handle_infer(t, c, buf, len, rid);
	}
	return send_error(t, c, rid, RUTH_IPC_E_UNKNOWN_TYPE, "message type %u is not a request", hdr->type);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Under c->lock: read what is there and handle every whole message. Returns
 * -1 when the connection was closed. */
static int conn_read_locked(struct serv *t, struct ruth_conn *c)
{
	struct server *s = t->s;
	for (;;) {
		if (c->closing)
			return 0; /* ignore input after a fatal framing error */
		ssize_t n = recv(c->fd, c->rbuf + c->rlen, RBUF_CAP - c->rlen, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			conn_close_locked(s, c);
			return -1;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		c->rlen += (size_t)n;
		size_t off = 0;
		while (c->rlen - off >= RUTH_IPC_HEADER_SIZE && !c->closing) {
			struct ruth_ipc_header hdr;
			const uint8_t *p = c->rbuf + off;
			int r = ruth_ipc_decode_header(p, c->rlen - off, &hdr);
			if (r == RUTH_IPC_EMAGIC) {
				if (send_error(t, c, 0, RUTH_IPC_E_BAD_MESSAGE, "bad magic; closing") < 0)
					return -1;
				c->closing = 1;
				break;
			}
			if (r == RUTH_IPC_ETOOLARGE) {
				/* An error about the byte stream: request_id 0 (docs/ipc-contract.md). */
				if (send_error(t, c, 0, RUTH_IPC_E_TOO_LARGE, "body_len %llu above %u; closing",
					       (unsigned long long)le32(p + 16), RUTH_IPC_MAX_BODY) < 0)
					return -1;
				c->closing = 1;
				break;
			}
			if (r < 0)
				break;
			size_t total = RUTH_IPC_HEADER_SIZE + (size_t)hdr.body_len;
			if (c->rlen - off < total)
				break;
			if (handle_message(t, c, p, total, &hdr) < 0)
				return -1; /* closed */
			off += total;
		}
		if (c->closing) {
			c->rlen = 0;
			return 0;
		}
		if (off) {
			memmove(c->rbuf, c->rbuf + off, c->rlen - off);
			c->rlen -= off;
		}
		if ((size_t)n < 4096)
			return 0; /* probably drained; the re-armed level-triggered event says if not */
	}
}

/* ---------------------------------------------------------------- serving threads */

/* Run a job, answer it on its connection, give the job back. waited: the job
 * waited behind other work (in the queue, or held in this thread's group
 * while the Runs before it went), not the request this thread has just read.
 * Returns whether it ran (0: its client had gone). */
static int run_job(struct serv *t, struct ruth_job *job, int waited)
{
	struct server *s = t->s;
	struct ruth_conn *c = job->conn;
	/* Work for a client that has gone is skipped, not run: a client that sent
	 * a burst and hung up would otherwise keep every thread busy for nothing.
	 * POLLRDHUP sees the hang-up even while unread requests remain, and the
	 * connection is closed here rather than when a thread next reads it (the
	 * server treats end of input as the end of the connection, as the reader
	 * does). A connection that closes after this check just has its answer
	 * dropped below, under the lock. Only jobs that waited are checked (a
	 * group's later ones too: each waits a Run or more, as queued ones do):
	 * the request a thread has just read is microseconds old, a hang-up since
	 * then is no likelier than one during the run (which this check cannot
	 * see either), and the poll() is a system call on every request (~1-2 us
	 * on a VM with page-table isolation); at most one such job per thread
	 * runs for a client that left. */
	pthread_mutex_lock(&c->lock);
	if (waited && c->fd >= 0) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLRDHUP };
		if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			conn_close_locked(s, c);
	}
	int open = c->fd >= 0;
	pthread_mutex_unlock(&c->lock);
	if (open) {
		ruth__worker_process(t->w, job);
		job->resp.hdr.type = RUTH_IPC_INFER_RESPONSE;
		job->resp.hdr.version = job->version;
		job->resp.hdr.request_id = job->request_id;
		int n = ruth_ipc_encode(&job->resp, job->out, job->out_cap);
		job->out_len = n > 0 ? (size_t)n : 0;
		if (job->out_len) {
			atomic_fetch_add(&s->rt->requests_total, 1);
			if (job->resp.u.infer_response.status != RUTH_IPC_OK)
				atomic_fetch_add(&s->rt->requests_failed, 1);
		}
	} else {
		job->out_len = 0;
	}
	/* The count drops before the answer leaves, so a client that asks HEALTH
	 * right after its last answer sees 0. Shutdown still cannot close the
	 * connection under this answer: it closes connections only after joining
	 * every serving thread, and this one writes before it looks at stop. */
	atomic_fetch_sub(&s->rt->inflight, 1);
	pthread_mutex_lock(&c->lock);
	c->inflight--;
	if (job->out_len)
		conn_send_locked(s, c, job->out, job->out_len, t->hold);
	pthread_mutex_unlock(&c->lock);
	job->conn = NULL;
	pthread_mutex_lock(&s->qlock);
	job->next = s->free_list;
	s->free_list = job;
	pthread_mutex_unlock(&s->qlock);
	conn_put(c);
	return open;
}

static struct ruth_job *queue_pop(struct server *s)
{
	struct ruth_job *job = NULL;
	pthread_mutex_lock(&s->qlock);
	if (s->qlen) {
		job = s->queue[s->qhead];
		s->qhead = (s->qhead + 1) % s->qcap;
		s->qlen--;
	}
	pthread_mutex_unlock(&s->qlock);
	return job;
}

static void handle_conn_event(struct serv *t, uint64_t tag, uint32_t events)
{
	struct server *s = t->s;
	struct ruth_conn *c = conn_get(s, tag);
	if (!c)
		return; /* closed since the event was queued */
	pthread_mutex_lock(&c->lock);
	if (c->fd >= 0) {
		int alive = 1;
		if ((events & EPOLLOUT) && conn_flush_locked(s, c) < 0)
			alive = 0;
		if (alive && (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) && conn_read_locked(t, c) < 0)
			alive = 0;
		if (alive && c->wlen && conn_flush_locked(s, c) < 0)
			alive = 0;
		if (alive && c->closing && c->wlen == 0) {
			conn_close_locked(s, c);
			alive = 0;
		}
		if (alive)
			conn_arm_locked(s, c);
	}
	pthread_mutex_unlock(&c->lock);
	conn_put(c);
}

/* At stop: answer what clients sent before the stop and no thread has read
 * yet (every inference request now gets BUSY, since draining is set), so a
 * request written before the runtime closes the connection is never left
 * without an answer. The stop eventfd stays readable and epoll rotates ready
 * events, so a pass of several events sees the connections too. */
static void serv_final_pass(struct serv *t)
{
	struct server *s = t->s;
	for (int round = 0; round < 64; round++) {
		struct epoll_event evs[16];
		int n = epoll_wait(s->epfd, evs, 16, 0), conns = 0;
		for (int i = 0; i < n; i++) {
			if (!(evs[i].data.u64 & TAG_CONN))
				continue;
			conns++;
			handle_conn_event(t, evs[i].data.u64, evs[i].events);
		}
		if (conns == 0)
			return;
	}
}

/* Busy polling (--busy-poll-us; off by default, see RUTH_RT_BUSY_POLL_US: it
 * buys latency with CPU). A client that sends its next request as soon as it
 * has the answer (ruth-infer on a video, a benchmark) finds the thread that
 * answered it asleep in epoll_wait, and waking a sleeping CPU costs tens of
 * microseconds on a VM (the vCPU halts; the wake-up goes through the host).
 * So after an answer, with no queued work, the thread polls the epoll set
 * without sleeping for up to busy_poll_us first. Adaptive, so it costs next
 * to nothing where requests do not come back to back: a catch restores the
 * credit to POLL_CREDIT_MAX, a miss spends one; at 0 the thread polls only once every
 * POLL_PROBE_EVERY answers, to notice when back-to-back traffic returns.
 * Worst case, a thread burns POLL_CREDIT_MAX polls and then one in
 * POLL_PROBE_EVERY: about 200/64 ~ 3 us per answer at the default.
 * Returns what epoll_wait returned (1 with *ev, 0 nothing, -1 EINTR). */
#define POLL_CREDIT_MAX 4
#define POLL_PROBE_EVERY 64
static int serv_wait(struct serv *t, struct epoll_event *ev, int answered)
{
	struct server *s = t->s;
	uint32_t us = s->rt->opt.busy_poll_us;
	if (answered && us && !atomic_load(&s->stop)) {
		int spin = t->poll_credit > 0;
		if (!spin && ++t->poll_skips >= POLL_PROBE_EVERY) {
			t->poll_skips = 0;
			spin = 1;
		}
		if (spin) {
			uint64_t until = kclock_mono_ns() + (uint64_t)us * 1000u;
			int n;
			do
				n = epoll_wait(s->epfd, ev, 1, 0);
			while (n == 0 && kclock_mono_ns() < until);
			atomic_fetch_add_explicit(&s->rt->busy_polls, 1, memory_order_relaxed);
			if (n == 1) {
				atomic_fetch_add_explicit(&s->rt->busy_poll_hits, 1, memory_order_relaxed);
				t->poll_credit = POLL_CREDIT_MAX;
				return 1;
			}
			if (t->poll_credit)
				t->poll_credit--;
		}
	}
	return epoll_wait(s->epfd, ev, 1, -1);
}

static void *serv_main(void *arg)
{
	struct serv *t = arg;
	struct server *s = t->s;
	int answered = 0; /* ran a job since the last wait */
	t->poll_credit = POLL_CREDIT_MAX;
	for (;;) {
		/* Jobs already accepted come before new input. */
		struct ruth_job *job = t->w ? queue_pop(s) : NULL;
		if (job) {
			run_job(t, job, 1);
			answered = 1;
			continue;
		}
		if (atomic_load(&s->stop)) {
			serv_final_pass(t);
			break;
		}
		struct epoll_event ev;
		int n = serv_wait(t, &ev, answered && t->w);
		answered = 0;
		if (n <= 0)
			continue; /* EINTR */
		if (ev.data.u64 == TAG_QUEUE) {
			uint64_t cnt;
			ssize_t rd = read(s->qefd, &cnt, sizeof(cnt));
			(void)rd; /* EAGAIN: another thread reset it; the queue is checked anyway */
			continue;
		}
		if (ev.data.u64 == TAG_STOP)
			continue;
		handle_conn_event(t, ev.data.u64, ev.events);
		if (t->own) {
			job = t->own;
			t->own = NULL;
			uint32_t n_grp = t->n_group, n_ran = 0;
			t->n_group = 0;
			t->hold = n_grp > 0;
			run_job(t, job, 0);
			for (uint32_t i = 0; i < n_grp; i++) {
				/* Started: from here it is this thread's job, no longer held. */
				pthread_mutex_lock(&s->qlock);
				s->held--;
				pthread_mutex_unlock(&s->qlock);
				t->hold = i + 1 < n_grp;
				n_ran += (uint32_t)run_job(t, t->group[i], 1);
			}
			if (n_ran)
				atomic_fetch_add_explicit(&s->rt->requests_grouped, n_ran, memory_order_relaxed);
			t->hold = 0;
			answered = 1;
		}
	}
	return NULL;
}

/* ---------------------------------------------------------------- accept (main thread) */

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
		struct ruth_conn *c = calloc(1, sizeof(*c));
		if (c)
			c->rbuf = malloc(RBUF_CAP);
		if (!c || !c->rbuf) {
			klog_ratelimited(s->log, &rl_bad, 5, 10000, KLOG_WARN, "refused a connection: out of memory");
			if (c)
				free(c);
			close(fd);
			continue;
		}
		pthread_mutex_init(&c->lock, NULL);
		atomic_init(&c->refs, 1); /* the table's */
		c->fd = fd;
		c->uid = cr.uid;
		c->pid = cr.pid;
		c->armed = EPOLLIN | EPOLLRDHUP;
		uint32_t slot = UINT32_MAX;
		pthread_mutex_lock(&s->tlock);
		for (uint32_t i = 0; i < s->max_conns; i++)
			if (!s->conns[i]) {
				slot = i;
				break;
			}
		if (slot != UINT32_MAX) {
			c->slot = slot;
			c->gen = ++s->gens[slot];
			s->conns[slot] = c;
			s->n_conns++;
		}
		pthread_mutex_unlock(&s->tlock);
		if (slot == UINT32_MAX) {
			klog_ratelimited(s->log, &rl_bad, 5, 10000, KLOG_WARN, "refused a connection: too many connections");
			close(fd);
			c->fd = -1;
			conn_put(c);
			continue;
		}
		atomic_fetch_add(&s->rt->connections, 1);
		KLOG_DBG(s->log, "connection %u from pid %d uid %d", slot, (int)cr.pid, (int)cr.uid);
		/* Registered last: from here on a serving thread may own it. */
		struct epoll_event ev = { .events = c->armed | EPOLLONESHOT, .data.u64 = conn_tag(c) };
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			struct ruth_conn *g = conn_get(s, conn_tag(c));
			if (g) {
				pthread_mutex_lock(&g->lock);
				conn_close_locked(s, g);
				pthread_mutex_unlock(&g->lock);
				conn_put(g);
			}
		}
	}
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

/* ---------------------------------------------------------------- setup and the main loop */

static void server_free(struct server *s)
{
	if (s->jobs) {
		for (uint32_t i = 0; i < s->n_jobs; i++)
			free(s->jobs[i].out);
		free(s->jobs);
	}
	if (s->servs) {
		for (uint32_t i = 0; i < s->n_servs; i++)
			free(s->servs[i].scratch);
		free(s->servs);
	}
	free(s->queue);
	free(s->conns);
	free(s->gens);
	int fds[] = { s->epfd, s->mepfd, s->sfd, s->qefd, s->sefd };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	pthread_mutex_destroy(&s->tlock);
	pthread_mutex_destroy(&s->qlock);
}

static int server_init(struct server *s, struct ruth_rt *rt, int lfd)
{
	memset(s, 0, sizeof(*s));
	s->rt = rt;
	s->log = &rt->log;
	s->lfd = lfd;
	s->epfd = s->mepfd = s->sfd = s->qefd = s->sefd = -1;
	s->max_conns = rt->opt.max_conns ? rt->opt.max_conns : 256;
	s->qcap = rt->queue_depth ? rt->queue_depth : 1;
	/* Announce the bound the runtime can really hold: more outstanding
	 * requests than queue + workers could only ever get BUSY. */
	s->max_inflight = rt->opt.max_inflight ? rt->opt.max_inflight : RUTH_IPC_MAX_INFLIGHT;
	if (!rt->opt.max_inflight && rt->mode != RUTH_MODE_STUB && s->qcap + rt->n_workers < s->max_inflight)
		s->max_inflight = s->qcap + rt->n_workers;
	pthread_mutex_init(&s->tlock, NULL);
	pthread_mutex_init(&s->qlock, NULL);

	/* Everything the server will ever need, allocated now. */
	s->out_cap = ruth__max_response_size();
	int stub = rt->mode == RUTH_MODE_STUB;
	s->n_servs = stub ? 1 : rt->n_workers;
	s->servs = calloc(s->n_servs, sizeof(*s->servs));
	s->conns = calloc(s->max_conns, sizeof(*s->conns));
	s->gens = calloc(s->max_conns, sizeof(*s->gens));
	s->queue = calloc(s->qcap, sizeof(*s->queue));
	s->n_jobs = stub ? 0 : s->qcap + rt->n_workers;
	s->jobs = s->n_jobs ? calloc(s->n_jobs, sizeof(*s->jobs)) : NULL;
	if (!s->servs || !s->conns || !s->gens || !s->queue || (s->n_jobs && !s->jobs))
		return -ENOMEM;
	for (uint32_t i = 0; i < s->n_servs; i++) {
		struct serv *t = &s->servs[i];
		t->s = s;
		t->w = stub ? NULL : &rt->workers[i];
		t->scratch_cap = s->out_cap > 4096 ? s->out_cap : 4096;
		t->scratch = malloc(t->scratch_cap);
		if (!t->scratch)
			return -ENOMEM;
		ruth_ipc_msg_init(&t->msg);
		ruth_ipc_msg_init(&t->reply);
	}
	for (uint32_t i = 0; i < s->n_jobs; i++) {
		struct ruth_job *j = &s->jobs[i];
		ruth_ipc_msg_init(&j->resp);
		j->out_cap = s->out_cap;
		j->out = malloc(s->out_cap);
		if (!j->out)
			return -ENOMEM;
		memset(j->out, 0, s->out_cap);
		j->next = s->free_list;
		s->free_list = j;
	}

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	s->sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	s->qefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->sefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->mepfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->sfd < 0 || s->qefd < 0 || s->sefd < 0 || s->epfd < 0 || s->mepfd < 0)
		return -errno;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_LISTEN };
	epoll_ctl(s->mepfd, EPOLL_CTL_ADD, s->lfd, &ev);
	ev.data.u64 = TAG_SIGNAL;
	epoll_ctl(s->mepfd, EPOLL_CTL_ADD, s->sfd, &ev);
	ev.data.u64 = TAG_QUEUE;
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->qefd, &ev);
	ev.data.u64 = TAG_STOP;
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sefd, &ev);
	return 0;
}

int ruth__server_run(struct ruth_rt *rt, int lfd)
{
	static struct server srv; /* one per process */
	struct server *s = &srv;
	int rc = 0;
	int r = server_init(s, rt, lfd);
	if (r < 0) {
		KLOG_ERR(&rt->log, "setting up the server: %s", strerror(-r));
		rc = 1;
		goto out;
	}
	/* Signals stay blocked in the serving threads (inherited mask). */
	for (uint32_t i = 0; i < s->n_servs; i++)
		if (pthread_create(&s->servs[i].thread, NULL, serv_main, &s->servs[i]) == 0)
			s->servs[i].started = 1;

	int stopping = 0;
	uint64_t stop_deadline = 0;
	for (;;) {
		if (stopping && (atomic_load(&rt->inflight) == 0 || kclock_mono_ns() > stop_deadline))
			break;
		struct epoll_event evs[8];
		int n = epoll_wait(s->mepfd, evs, 8, stopping ? 20 : -1);
		if (n < 0 && errno != EINTR) {
			KLOG_ERR(&rt->log, "epoll_wait: %s", strerror(errno));
			rc = 1;
			break;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u64 == TAG_LISTEN) {
				do_accept(s);
				continue;
			}
			struct signalfd_siginfo si;
			while (read(s->sfd, &si, sizeof(si)) == sizeof(si)) {
				if (stopping)
					continue;
				KLOG_INFO(&rt->log, "signal %u: stop accepting, finishing %u in flight", si.ssi_signo,
					  atomic_load(&rt->inflight));
				stopping = 1;
				stop_deadline = kclock_mono_ns() + 3000000000ull;
				epoll_ctl(s->mepfd, EPOLL_CTL_DEL, s->lfd, NULL);
				close(s->lfd);
				s->lfd = -1;
				unlink(rt->socket_path);
				atomic_store(&s->draining, 1);
			}
		}
	}
	/* In flight is 0 or the deadline passed: stop the serving threads (the
	 * stop eventfd stays readable, so every one of them wakes), then close
	 * every connection. Jobs left in the queue after the deadline are dropped. */
	atomic_store(&s->draining, 1);
	atomic_store(&s->stop, 1);
	uint64_t one = 1;
	ssize_t wr = write(s->sefd, &one, sizeof(one));
	(void)wr;
	for (uint32_t i = 0; i < s->n_servs; i++)
		if (s->servs[i].started) {
			pthread_join(s->servs[i].thread, NULL);
			s->servs[i].started = 0;
		}
	for (struct ruth_job *job; (job = queue_pop(s));) {
		atomic_fetch_sub(&rt->inflight, 1);
		conn_put(job->conn);
	}
	for (uint32_t i = 0; i < s->max_conns; i++) {
		struct ruth_conn *c = s->conns[i] ? conn_get(s, conn_tag(s->conns[i])) : NULL;
		if (!c)
			continue;
		pthread_mutex_lock(&c->lock);
		conn_close_locked(s, c);
		pthread_mutex_unlock(&c->lock);
		conn_put(c);
	}
out:
	if (s->lfd >= 0) {
		close(s->lfd);
		s->lfd = -1;
		unlink(rt->socket_path);
	}
	server_free(s);
	return rc;
}

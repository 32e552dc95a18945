/* test_ipc_client.c: the blocking client against a scripted server.
 *
 * Each test forks a tiny server that listens on a socket in a fresh mktemp
 * folder, accepts one connection and plays one scenario (normal conversation,
 * byte-by-byte replies, out-of-order pipelined replies, refusals, silence,
 * garbage, EOF). The child exits with _exit() so the parent's cmocka state
 * and sanitizer leak check run once. Every wait in the parent is bounded. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ruth/ipc.h"

enum scenario {
	SC_NORMAL,       /* HELLO_ACK, then answer HEALTH and INFER normally, 1 byte per write */
	SC_PIPELINE,     /* read 3 INFER requests, answer in reverse order in one write */
	SC_REFUSE,       /* ERROR(UNSUPPORTED_VERSION) with request_id 0, close */
	SC_EOF,          /* read HELLO, close without a word */
	SC_SILENT,       /* read HELLO, never answer (until killed) */
	SC_ERROR_REPLY,  /* HELLO_ACK, then answer INFER with ERROR(BUSY) */
	SC_GARBAGE,      /* HELLO_ACK, then bytes that are not an envelope */
	SC_STALE_FIRST,  /* HELLO_ACK, then a reply to an unknown request id before the real one */
	SC_BAD_VERSION,  /* HELLO_ACK choosing a version the client does not speak */
	SC_BAD_BODY,     /* HELLO_ACK, then a reply with a malformed body and a good one behind it */
};

struct fixture {
	char dir[64];
	char path[128];
	pid_t pid;
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------------ server */

static uint8_t srv_buf[RUTH_IPC_HEADER_SIZE + RUTH_IPC_MAX_BODY];
static size_t srv_have;

/* Blocking read of one message in the child; false on EOF or error. */
static bool srv_read(int fd, struct ruth_ipc_msg *m)
{
	for (;;) {
		int r = ruth_ipc_decode(srv_buf, srv_have, m);
		if (r > 0) {
			memmove(srv_buf, srv_buf + r, srv_have - (size_t)r);
			srv_have -= (size_t)r;
			return true;
		}
		if (r != RUTH_IPC_ENEEDMORE)
			return false;
		ssize_t n = read(fd, srv_buf + srv_have, sizeof(srv_buf) - srv_have);
		if (n <= 0)
			return false;
		srv_have += (size_t)n;
	}
}

static void srv_send(int fd, const struct ruth_ipc_msg *m, bool byte_by_byte)
{
	static uint8_t out[RUTH_IPC_HEADER_SIZE + RUTH_IPC_MAX_BODY];
	int n = ruth_ipc_encode(m, out, sizeof(out));
	if (n < 0)
		_exit(10);
	if (!byte_by_byte) {
		if (ruth_ipc_write_all(fd, out, (size_t)n) < 0)
			_exit(11);
		return;
	}
	for (int i = 0; i < n; i++) {
		if (ruth_ipc_write_all(fd, out + i, 1) < 0)
			_exit(11);
		if (i % 64 == 0)
			sleep_ms(1); /* let the client see partial messages */
	}
}

static void fill_ack(struct ruth_ipc_msg *m, uint16_t version)
{
	ruth_ipc_msg_init(m);
	m->hdr.type = RUTH_IPC_HELLO_ACK;
	m->hdr.version = RUTH_IPC_VERSION;
	m->u.hello_ack.version = version;
	m->u.hello_ack.mode = RUTH_MODE_CPU;
	m->u.hello_ack.state = RUTH_STATE_READY;
	m->u.hello_ack.max_inflight = RUTH_IPC_MAX_INFLIGHT;
	m->u.hello_ack.workers = 2;
	m->u.hello_ack.input_width = 128;
	m->u.hello_ack.input_height = 128;
	strcpy(m->u.hello_ack.model_id, "test-model");
	strcpy(m->u.hello_ack.backend, "stub");
}

/* A response to request q with `n` detections whose scores encode the seq. */
static void fill_response(struct ruth_ipc_msg *m, const struct ruth_ipc_msg *q, uint32_t n)
{
	ruth_ipc_msg_init(m);
	m->hdr.type = RUTH_IPC_INFER_RESPONSE;
	m->hdr.request_id = q->hdr.request_id;
	struct ruth_ipc_infer_response *r = &m->u.infer_response;
	r->status = RUTH_IPC_OK;
	r->mode = RUTH_MODE_CPU;
	r->generation = q->u.infer_request.generation;
	r->frame_seq = q->u.infer_request.frame_seq;
	r->n_detections = n;
	for (uint32_t i = 0; i < n; i++) {
		r->detections[i].score = (float)q->u.infer_request.frame_seq;
		r->detections[i].class_id = (int32_t)i;
		r->detections[i].n_points = i % (RUTH_IPC_MAX_POINTS + 1);
	}
	snprintf(r->message, sizeof(r->message), "camera %s", q->u.infer_request.camera_id);
}

static void serve(int lfd, enum scenario sc)
{
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		_exit(2);
	struct ruth_ipc_msg *q = malloc(sizeof(*q)), *a = malloc(sizeof(*a));
	if (!q || !a)
		_exit(3);
	ruth_ipc_msg_init(q);
	if (!srv_read(fd, q) || q->hdr.type != RUTH_IPC_HELLO)
		_exit(4);
	if (q->u.hello.min_version != RUTH_IPC_VERSION_MIN || q->u.hello.max_version != RUTH_IPC_VERSION ||
	    strcmp(q->u.hello.client_name, "test-client") != 0)
		_exit(5);
	switch (sc) {
	case SC_REFUSE:
		ruth_ipc_msg_init(a);
		a->hdr.type = RUTH_IPC_ERROR;
		a->u.error.status = RUTH_IPC_E_UNSUPPORTED_VERSION;
		a->u.error.min_version = 7;
		a->u.error.max_version = 9;
		strcpy(a->u.error.message, "server speaks 7..9");
		srv_send(fd, a, false);
		close(fd);
		_exit(0);
	case SC_EOF:
		close(fd);
		_exit(0);
	case SC_SILENT:
		for (;;)
			pause();
	case SC_BAD_VERSION:
		fill_ack(a, RUTH_IPC_VERSION + 1);
		srv_send(fd, a, false);
		sleep_ms(500);
		_exit(0);
	default:
		break;
	}
	fill_ack(a, RUTH_IPC_VERSION);
	a->hdr.request_id = q->hdr.request_id;
	srv_send(fd, a, sc == SC_NORMAL);

	if (sc == SC_GARBAGE) {
		if (!srv_read(fd, q))
			_exit(6);
		static const char junk[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
		ruth_ipc_write_all(fd, junk, sizeof(junk));
		sleep_ms(500);
		_exit(0);
	}
	if (sc == SC_BAD_BODY) {
		if (!srv_read(fd, q) || q->hdr.type != RUTH_IPC_INFER_REQUEST)
			_exit(6);
		static uint8_t out[24 + 216 + 4096];
		fill_response(a, q, 0);
		int n = ruth_ipc_encode(a, out, sizeof(out));
		if (n != 24 + 216)
			_exit(8);
		memset(out + 24 + 48, 'x', RUTH_IPC_MESSAGE_MAX); /* message without a NUL */
		fill_response(a, q, 2);
		int n2 = ruth_ipc_encode(a, out + n, sizeof(out) - (size_t)n);
		if (n2 < 0)
			_exit(8);
		ruth_ipc_write_all(fd, out, (size_t)(n + n2));
		sleep_ms(500);
		_exit(0);
	}
	if (sc == SC_PIPELINE) {
		struct ruth_ipc_msg *qs = malloc(3 * sizeof(*qs));
		static uint8_t out[3 * 40000];
		size_t off = 0;
		for (int i = 0; i < 3; i++) {
			ruth_ipc_msg_init(&qs[i]);
			if (!srv_read(fd, &qs[i]) || qs[i].hdr.type != RUTH_IPC_INFER_REQUEST)
				_exit(7);
		}
		for (int i = 2; i >= 0; i--) {
			fill_response(a, &qs[i], (uint32_t)(i * 100));
			int n = ruth_ipc_encode(a, out + off, sizeof(out) - off);
			if (n < 0)
				_exit(8);
			off += (size_t)n;
		}
		ruth_ipc_write_all(fd, out, off);
		free(qs);
		sleep_ms(500);
		_exit(0);
	}
	/* Request/response loop until the client hangs up. */
	while (srv_read(fd, q)) {
		if (q->hdr.type == RUTH_IPC_HEALTH) {
			ruth_ipc_msg_init(a);
			a->hdr.type = RUTH_IPC_HEALTH_ACK;
			a->hdr.request_id = q->hdr.request_id;
			a->u.health_ack.state = RUTH_STATE_READY;
			a->u.health_ack.mode = RUTH_MODE_CPU;
			a->u.health_ack.requests_total = 77;
			strcpy(a->u.health_ack.reason, "fine");
			srv_send(fd, a, sc == SC_NORMAL);
		} else if (q->hdr.type == RUTH_IPC_INFER_REQUEST) {
			if (sc == SC_ERROR_REPLY) {
				ruth_ipc_msg_init(a);
				a->hdr.type = RUTH_IPC_ERROR;
				a->hdr.request_id = q->hdr.request_id;
				a->u.error.status = RUTH_IPC_E_BUSY;
				strcpy(a->u.error.message, "queue full");
				srv_send(fd, a, false);
				continue;
			}
			if (sc == SC_STALE_FIRST) {
				struct ruth_ipc_msg *s = malloc(sizeof(*s));
				fill_response(s, q, 1);
				s->hdr.request_id = q->hdr.request_id + 1000;
				s->u.infer_response.status = RUTH_IPC_E_INTERNAL;
				srv_send(fd, s, false);
				free(s);
			}
			fill_response(a, q, 3);
			srv_send(fd, a, sc == SC_NORMAL);
		} else {
			_exit(9);
		}
	}
	_exit(0);
}

static struct fixture *start_server(enum scenario sc)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/ruth-ipc-client-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/m.sock", f->dir);
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", f->path);
	assert_int_equal(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		alarm(20); /* a stuck child must not outlive the test */
		serve(lfd, sc);
		_exit(0);
	}
	close(lfd);
	return f;
}

/* Reap the server; returns its exit status (or 128+signal). */
static int stop_server(struct fixture *f, bool kill_it)
{
	if (kill_it)
		kill(f->pid, SIGKILL);
	int st = 0;
	waitpid(f->pid, &st, 0);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ------------------------------------------------------------------- tests */

static void test_normal_conversation(void **state)
{
	(void)state;
	struct fixture *f = start_server(SC_NORMAL);
	struct ruth_ipc_client *c = NULL;
	struct ruth_ipc_hello_ack ack;
	int r = ruth_ipc_client_connect(&c, f->path, "test-client", 5000, &ack);
	assert_int_equal(r, 0);
	assert_true(ruth_ipc_client_fd(c) >= 0);
	assert_int_equal(ack.version, RUTH_IPC_VERSION);
	assert_int_equal(ack.mode, RUTH_MODE_CPU);
	assert_string_equal(ack.model_id, "test-model");
	assert_int_equal(ack.max_inflight, RUTH_IPC_MAX_INFLIGHT);

	struct ruth_ipc_health_ack h;
	assert_int_equal(ruth_ipc_client_health(c, &h, 5000), 0);
	assert_int_equal(h.state, RUTH_STATE_READY);
	assert_true(h.requests_total == 77);
	assert_string_equal(h.reason, "fine");

	struct ruth_ipc_msg *reply = malloc(sizeof(*reply));
	assert_non_null(reply);
	ruth_ipc_msg_init(reply);
	for (uint64_t seq = 10; seq < 13; seq++) {
		struct ruth_ipc_infer_request q = { .generation = 2, .frame_seq = seq };
		strcpy(q.camera_id, "cam-a");
		assert_int_equal(ruth_ipc_client_infer(c, &q, reply, 5000), 0);
		assert_int_equal(reply->hdr.type, RUTH_IPC_INFER_RESPONSE);
		const struct ruth_ipc_infer_response *resp = &reply->u.infer_response;
		assert_int_equal(resp->status, RUTH_IPC_OK);
		assert_true(resp->frame_seq == seq);
		assert_string_equal(resp->message, "camera cam-a");
		assert_int_equal(resp->n_detections, 3);
		assert_true(resp->detections[2].score == (float)seq);
		assert_int_equal(resp->detections[2].n_points, 2);
	}
	ruth_ipc_client_close(&c);
	assert_null(c);
	ruth_ipc_client_close(&c); /* idempotent */
	free(reply);
	assert_int_equal(stop_server(f, false), 0);
}

static void test_pipelined_out_of_order(void **state)
{
	(void)state;
	struct fixture *f = start_server(SC_PIPELINE);
	struct ruth_ipc_client *c = NULL;
	assert_int_equal(ruth_ipc_client_connect(&c, f->path, "test-client", 5000, NULL), 0);
	struct ruth_ipc_msg *m = malloc(sizeof(*m));
	assert_non_null(m);
	for (uint64_t i = 0; i < 3; i++) {
		ruth_ipc_msg_init(m);
		m->hdr.type = RUTH_IPC_INFER_REQUEST;
		m->hdr.request_id = 100 + i;
		m->u.infer_request.frame_seq = i;
		strcpy(m->u.infer_request.camera_id, "cam-p");
		assert_int_equal(ruth_ipc_client_send(c, m), 0);
	}
	/* All three replies arrive in one write, newest first; each is decoded
	 * whole and the rest stays buffered for the next recv. */
	for (int k = 2; k >= 0; k--) {
		ruth_ipc_msg_init(m);
		assert_int_equal(ruth_ipc_client_recv(c, m, 5000), 0);
		assert_int_equal(m->hdr.type, RUTH_IPC_INFER_RESPONSE);
		assert_true(m->hdr.request_id == 100u + (uint64_t)k);
		assert_int_equal(m->u.infer_response.n_detections, (uint32_t)k * 100u);
		if (k)
			assert_true(m->u.infer_response.detections[k * 100 - 1].score == (float)k);
	}
	/* Nothing more: a bounded wait times out. */
	uint64_t t0 = now_ms();
	assert_int_equal(ruth_ipc_client_recv(c, m, 100), -ETIMEDOUT);
	assert_true(now_ms() - t0 >= 90);
	free(m);
	ruth_ipc_client_close(&c);
	assert_int_equal(stop_server(f, false), 0);
}

static void test_version_refused(void **state)
{
	(void)state;
	struct fixture *f = start_server(SC_REFUSE);
	struct ruth_ipc_client *c = NULL;
	assert_int_equal(ruth_ipc_client_connect(&c, f->path, "test-client", 5000, NULL), -EPROTONOSUPPORT);
	assert_null(c);
	assert_int_equal(stop_server(f, false), 0);

	f = start_server(SC_BAD_VERSION);
	assert_int_equal(ruth_ipc_client_connect(&c, f->path, "test-client", 5000, NULL), -EPROTONOSUPPORT);
	assert_null(c);
	assert_int_equal(stop_server(f, false), 0);
}

static void test_eof_during_handshake(void **state)
{
	(void)state;
	struct fixture *f = start_server(SC_EOF);
	struct ruth_ipc_client *c = NULL;
	assert_int_equal(ruth_ipc_client_connect(&c, f->path, "test-client", 5000, NULL), -ECONNRESET);
	assert_null(c);
	assert_int_equal(stop_server(f, false), 0);
}

static void test_silent_server_times_out(void **state)
{
	(void)state;
	struct fixture *f = start_server(SC_SILENT);
	struct ruth_ipc_client *c = NULL;
	uint64_t t0 = now_ms();
	assert_int_equal(ruth_ipc_client_connect(&c, f->path, "test-client", 300, NULL), -ETIMEDOUT);
	uint64_t dt = now_ms() - t0;
	assert_true(dt >= 290 && dt < 3000);
	assert_null(c);
	stop_server(f, true);
}

static void test_error_reply_surfaced(void **state)
{
	(void)state;
	struct fixture *f = start_server(SC_ERROR_REPLY);
	struct ruth_ipc_client *c = NULL;
	assert_int_equal(ruth_ipc_client_connect(&c, f->path, "test-client", 5000, NULL), 0);
	struct ruth_ipc_msg *reply = malloc(sizeof(*reply));
	assert_non_null(reply);
	ruth_ipc_msg_init(reply);
	struct ruth_ipc_infer_request q = { .frame_seq = 1 };
	strcpy(q.camera_id, "cam-e");
	assert_int_equal(ruth_ipc_client_infer(c, &q, reply, 5000), 0);
	assert_int_equal(reply->hdr.type, RUTH_IPC_ERROR);
	assert_int_equal(reply->u.infer_response.status, RUTH_IPC_E_BUSY);
	assert_string_equal(reply->u.infer_response.message, "queue full");
	assert_int_equal(reply->u.infer_response.n_detections, 0);
	free(reply);
	ruth_ipc_client_close(&c);
	assert_int_equal(stop_server(f, false), 0);
}

static void test_garbage_reply(void **state)
{
	(void)state;
	struct fixture *f = start_server(SC_GARBAGE);
	struct ruth_ipc_client *c = NULL;
	assert_int_equal(ruth_ipc_client_connect(&c, f->path, "test-client", 5000, NULL), 0);
	struct ruth_ipc_health_ack h;
	assert_int_equal(ruth_ipc_client_health(c, &h, 5000), RUTH_IPC_EMAGIC);
	ruth_ipc_client_close(&c);
	assert_int_equal(stop_server(f, false), 0);
}

/* A reply whose envelope is sound but whose body is malformed is reported
 * and dropped alone; the pipelined reply behind it still arrives. */
static void test_bad_body_then_good(void **state)
{
	(void)state;
	struct fixture *f = start_server(SC_BAD_BODY);
	struct ruth_ipc_client *c = NULL;
	assert_int_equal(ruth_ipc_client_connect(&c, f->path, "test-client", 5000, NULL), 0);
	struct ruth_ipc_msg *m = malloc(sizeof(*m));
	assert_non_null(m);
	ruth_ipc_msg_init(m);
	m->hdr.type = RUTH_IPC_INFER_REQUEST;
	m->hdr.request_id = 55;
	strcpy(m->u.infer_request.camera_id, "cam-b");
	assert_int_equal(ruth_ipc_client_send(c, m), 0);
	assert_int_equal(ruth_ipc_client_recv(c, m, 5000), RUTH_IPC_EMALFORMED);
	assert_int_equal(ruth_ipc_client_recv(c, m, 5000), 0);
	assert_true(m->hdr.request_id == 55);
	assert_int_equal(m->u.infer_response.n_detections, 2);
	free(m);
	ruth_ipc_client_close(&c);
	assert_int_equal(stop_server(f, false), 0);
}

static void test_stale_reply_skipped(void **state)
{
	(void)state;
	struct fixture *f = start_server(SC_STALE_FIRST);
	struct ruth_ipc_client *c = NULL;
	assert_int_equal(ruth_ipc_client_connect(&c, f->path, "test-client", 5000, NULL), 0);
	struct ruth_ipc_msg *reply = malloc(sizeof(*reply));
	assert_non_null(reply);
	ruth_ipc_msg_init(reply);
	struct ruth_ipc_infer_request q = { .frame_seq = 5 };
	strcpy(q.camera_id, "cam-s");
	assert_int_equal(ruth_ipc_client_infer(c, &q, reply, 5000), 0);
	assert_int_equal(reply->u.infer_response.status, RUTH_IPC_OK);
	assert_int_equal(reply->u.infer_response.n_detections, 3);
	free(reply);
	ruth_ipc_client_close(&c);
	assert_int_equal(stop_server(f, false), 0);
}

static void test_connect_errors(void **state)
{
	(void)state;
	struct ruth_ipc_client *c = NULL;
	assert_int_equal(ruth_ipc_client_connect(&c, "/nonexistent-ruth-dir/x.sock", "t", 200, NULL), -ENOENT);
	char longp[200];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(ruth_ipc_client_connect(&c, longp, "t", 200, NULL), -ENAMETOOLONG);
	/* A path that exists but nobody listens on. */
	char dir[] = "/tmp/ruth-ipc-client-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof(path), "%s/dead.sock", dir);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	assert_int_equal(ruth_ipc_client_connect(&c, path, "t", 200, NULL), -ECONNREFUSED);
	assert_null(c);
	unlink(path);
	rmdir(dir);
	assert_int_equal(ruth_ipc_client_fd(NULL), -EBADF);
}

static void test_write_all(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	/* More than the socket buffer: write_all must wait for the reader. */
	size_t len = 4u << 20;
	uint8_t *src = malloc(len), *dst = malloc(len);
	assert_non_null(src);
	assert_non_null(dst);
	for (size_t i = 0; i < len; i++)
		src[i] = (uint8_t)(i * 31u);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		alarm(20);
		_exit(ruth_ipc_write_all(sv[1], src, len) == 0 ? 0 : 1);
	}
	close(sv[1]);
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(sv[0], dst + got, len - got);
		if (n > 0)
			got += (size_t)n;
		else if (n < 0 && errno == EAGAIN)
			sleep_ms(1);
		else
			break;
	}
	assert_int_equal(got, len);
	assert_memory_equal(src, dst, len);
	int st;
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(sv[0]);

	/* A closed peer is -EPIPE, not SIGPIPE (the test would die of it). */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[0]);
	assert_int_equal(ruth_ipc_write_all(sv[1], src, 100), -EPIPE);
	close(sv[1]);
	/* Plain files and pipes work too (write() fallback). */
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(ruth_ipc_write_all(p[1], "abc", 3), 0);
	char b[3];
	assert_int_equal(read(p[0], b, 3), 3);
	assert_memory_equal(b, "abc", 3);
	close(p[0]);
	close(p[1]);
	free(src);
	free(dst);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal_conversation),
		cmocka_unit_test(test_pipelined_out_of_order),
		cmocka_unit_test(test_version_refused),
		cmocka_unit_test(test_eof_during_handshake),
		cmocka_unit_test(test_silent_server_times_out),
		cmocka_unit_test(test_error_reply_surfaced),
		cmocka_unit_test(test_garbage_reply),
		cmocka_unit_test(test_bad_body_then_good),
		cmocka_unit_test(test_stale_reply_skipped),
		cmocka_unit_test(test_connect_errors),
		cmocka_unit_test(test_write_all),
	};
	return cmocka_run_group_tests_name("ipc_client", tests, NULL, NULL);
}

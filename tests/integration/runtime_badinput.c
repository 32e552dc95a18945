/* runtime_badinput: hostile or broken input over the socket gets an error
 * response or a clean close of that connection only; the runtime keeps
 * serving, and afterwards another client still gets a correct inference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "runtime_harness.h"

static struct rt_proc g_p;
static struct rt_export g_e;
static uint64_t g_seq;
static struct ruth_ipc_msg g_m;

static void put_header(uint8_t *b, uint32_t magic, uint16_t version, uint16_t type, uint64_t id, uint32_t body_len)
{
	memset(b, 0, RUTH_IPC_HEADER_SIZE);
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(magic >> (8 * i));
	b[4] = (uint8_t)version;
	b[5] = (uint8_t)(version >> 8);
	b[6] = (uint8_t)type;
	b[7] = (uint8_t)(type >> 8);
	for (int i = 0; i < 8; i++)
		b[8 + i] = (uint8_t)(id >> (8 * i));
	for (int i = 0; i < 4; i++)
		b[16 + i] = (uint8_t)(body_len >> (8 * i));
}

static void expect_error(int fd, uint32_t status)
{
	ruth_ipc_msg_init(&g_m);
	int r = rt_raw_recv_msg(fd, &g_m, 5000);
	assert_int_equal(r, 0);
	assert_int_equal(g_m.hdr.type, RUTH_IPC_ERROR);
	fprintf(stderr, "  ERROR %s: %s\n", ruth_ipc_status_name(g_m.u.error.status), g_m.u.error.message);
	assert_int_equal(g_m.u.error.status, status);
}

static uint32_t infer_status(int fd, const struct ruth_ipc_infer_request *req)
{
	ruth_ipc_msg_init(&g_m);
	g_m.hdr.type = RUTH_IPC_INFER_REQUEST;
	g_m.hdr.version = RUTH_IPC_VERSION;
	g_m.hdr.request_id = 77;
	g_m.u.infer_request = *req;
	assert_int_equal(rt_raw_send_msg(fd, &g_m), 0);
	ruth_ipc_msg_init(&g_m);
	assert_int_equal(rt_raw_recv_msg(fd, &g_m, 10000), 0);
	assert_int_equal(g_m.hdr.type, RUTH_IPC_INFER_RESPONSE);
	assert_int_equal(g_m.hdr.request_id, 77);
	fprintf(stderr, "  INFER_RESPONSE %s: %s\n", ruth_ipc_status_name(g_m.u.infer_response.status),
		g_m.u.infer_response.message);
	return g_m.u.infer_response.status;
}

/* A fresh client gets the face: the runtime is alive and correct. */
static void still_serving(void)
{
	assert_true(rt_alive(&g_p));
	struct ruth_ipc_client *c = NULL;
	assert_int_equal(ruth_ipc_client_connect(&c, g_p.sock, "check", 5000, NULL), 0);
	struct ruth_ipc_infer_request req;
	rt_infer_req(&req, g_e.camera_id, g_e.generation, g_seq);
	static struct ruth_ipc_msg reply;
	ruth_ipc_msg_init(&reply);
	assert_int_equal(ruth_ipc_client_infer(c, &req, &reply, 10000), 0);
	assert_int_equal(reply.u.infer_response.status, RUTH_IPC_OK);
	assert_true(reply.u.infer_response.n_detections >= 1);
	ruth_ipc_client_close(&c);
}

static void test_garbage(void **state)
{
	(void)state;
	int fd = rt_raw_connect(g_p.sock);
	assert_true(fd >= 0);
	const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	assert_int_equal(ruth_ipc_write_all(fd, junk, sizeof(junk) - 1), 0);
	expect_error(fd, RUTH_IPC_E_BAD_MESSAGE);
	assert_int_equal(g_m.hdr.request_id, 0);
	assert_true(rt_raw_wait_closed(fd, 5000));
	close(fd);
	still_serving();
}

static void test_truncated_then_close(void **state)
{
	(void)state;
	int fd = rt_raw_connect(g_p.sock);
	assert_true(fd >= 0);
	uint8_t b[RUTH_IPC_HEADER_SIZE + 10];
	put_header(b, RUTH_IPC_MAGIC, RUTH_IPC_VERSION, RUTH_IPC_HELLO, 1, 72);
	memset(b + RUTH_IPC_HEADER_SIZE, 1, 10);
	assert_int_equal(ruth_ipc_write_all(fd, b, sizeof(b)), 0);
	close(fd);
	/* Half a header, then close. */
	fd = rt_raw_connect(g_p.sock);
	assert_int_equal(ruth_ipc_write_all(fd, b, 10), 0);
	close(fd);
	still_serving();
}

static void test_oversized(void **state)
{
	(void)state;
	int fd = rt_raw_connect(g_p.sock);
	assert_true(fd >= 0);
	uint8_t b[RUTH_IPC_HEADER_SIZE];
	put_header(b, RUTH_IPC_MAGIC, RUTH_IPC_VERSION, RUTH_IPC_HELLO, 5, 0x7fffffffu);
	assert_int_equal(ruth_ipc_write_all(fd, b, sizeof(b)), 0);
	expect_error(fd, RUTH_IPC_E_TOO_LARGE);
	assert_int_equal(g_m.hdr.request_id, 0); /* a stream error, not a request's */
	assert_true(rt_raw_wait_closed(fd, 5000));
	close(fd);
	still_serving();
}

static void test_unknown_version(void **state)
{
	(void)state;
	int fd = rt_raw_connect(g_p.sock);
	assert_true(fd >= 0);
	ruth_ipc_msg_init(&g_m);
	g_m.hdr.type = RUTH_IPC_HELLO;
	g_m.hdr.version = RUTH_IPC_VERSION;
	g_m.hdr.request_id = 3;
	g_m.u.hello.min_version = 90;
	g_m.u.hello.max_version = 99;
	assert_int_equal(rt_raw_send_msg(fd, &g_m), 0);
	expect_error(fd, RUTH_IPC_E_UNSUPPORTED_VERSION);
	assert_int_equal(g_m.u.error.max_version, RUTH_IPC_VERSION);
	assert_true(rt_raw_wait_closed(fd, 5000));
	close(fd);
	still_serving();
}

static void test_before_hello_and_unknown_type(void **state)
{
	(void)state;
	int fd = rt_raw_connect(g_p.sock);
	assert_true(fd >= 0);
	/* HEALTH before HELLO. */
	uint8_t b[RUTH_IPC_HEADER_SIZE];
	put_header(b, RUTH_IPC_MAGIC, RUTH_IPC_VERSION, RUTH_IPC_HEALTH, 9, 0);
	assert_int_equal(ruth_ipc_write_all(fd, b, sizeof(b)), 0);
	expect_error(fd, RUTH_IPC_E_HANDSHAKE_REQUIRED);
	assert_int_equal(g_m.hdr.request_id, 9);
	/* The connection stays usable: HELLO, then an unknown type, then HEALTH. */
	assert_int_equal(rt_raw_hello(fd), 0);
	put_header(b, RUTH_IPC_MAGIC, RUTH_IPC_VERSION, 42, 10, 0);
	assert_int_equal(ruth_ipc_write_all(fd, b, sizeof(b)), 0);
	expect_error(fd, RUTH_IPC_E_UNKNOWN_TYPE);
	/* A server-to-client type sent to the server. */
	put_header(b, RUTH_IPC_MAGIC, RUTH_IPC_VERSION, RUTH_IPC_HELLO_ACK, 11, 0);
	assert_int_equal(ruth_ipc_write_all(fd, b, sizeof(b)), 0);
	expect_error(fd, RUTH_IPC_E_UNKNOWN_TYPE);
	/* A request in a version this connection did not negotiate. */
	put_header(b, RUTH_IPC_MAGIC, 7, RUTH_IPC_HEALTH, 12, 0);
	assert_int_equal(ruth_ipc_write_all(fd, b, sizeof(b)), 0);
	expect_error(fd, RUTH_IPC_E_UNSUPPORTED_VERSION);
	/* A malformed body (INFER_REQUEST too short): error, connection kept. */
	uint8_t bb[RUTH_IPC_HEADER_SIZE + 8] = { 0 };
	put_header(bb, RUTH_IPC_MAGIC, RUTH_IPC_VERSION, RUTH_IPC_INFER_REQUEST, 13, 8);
	assert_int_equal(ruth_ipc_write_all(fd, bb, sizeof(bb)), 0);
	expect_error(fd, RUTH_IPC_E_BAD_MESSAGE);
	put_header(b, RUTH_IPC_MAGIC, RUTH_IPC_VERSION, RUTH_IPC_HEALTH, 14, 0);
	assert_int_equal(ruth_ipc_write_all(fd, b, sizeof(b)), 0);
	ruth_ipc_msg_init(&g_m);
	assert_int_equal(rt_raw_recv_msg(fd, &g_m, 5000), 0);
	assert_int_equal(g_m.hdr.type, RUTH_IPC_HEALTH_ACK);
	assert_int_equal(g_m.hdr.request_id, 14);
	close(fd);
	still_serving();
}

static void test_frame_errors(void **state)
{
	(void)state;
	int fd = rt_raw_connect(g_p.sock);
	assert_true(fd >= 0);
	assert_int_equal(rt_raw_hello(fd), 0);
	struct ruth_ipc_infer_request req;

	rt_infer_req(&req, "no-such-camera", 0, 1);
	assert_int_equal(infer_status(fd, &req), RUTH_IPC_E_UNKNOWN_CAMERA);

	rt_infer_req(&req, "../etc/passwd", 0, 1);
	assert_int_equal(infer_status(fd, &req), RUTH_IPC_E_BAD_MESSAGE);

	rt_infer_req(&req, g_e.camera_id, 0, g_seq);
	req.score_threshold = 7.0f;
	assert_int_equal(infer_status(fd, &req), RUTH_IPC_E_BAD_MESSAGE);

	/* Not yet published. */
	rt_infer_req(&req, g_e.camera_id, 0, g_seq + 1000);
	assert_int_equal(infer_status(fd, &req), RUTH_IPC_E_FRAME_NOT_FOUND);

	/* Wrong generation. */
	rt_infer_req(&req, g_e.camera_id, g_e.generation + 1, g_seq);
	assert_int_equal(infer_status(fd, &req), RUTH_IPC_E_GENERATION_MISMATCH);

	/* Deadline already passed. */
	rt_infer_req(&req, g_e.camera_id, 0, g_seq);
	req.deadline_ns = kclock_mono_ns() - 1000000;
	assert_int_equal(infer_status(fd, &req), RUTH_IPC_E_DEADLINE_EXCEEDED);

	/* Stale: publish more frames than the export has slots, ask for an old one. */
	uint64_t old = g_seq;
	for (int i = 0; i < 6; i++)
		g_seq = (uint64_t)rt_export_publish(&g_e);
	rt_infer_req(&req, g_e.camera_id, g_e.generation, old);
	assert_int_equal(infer_status(fd, &req), RUTH_IPC_E_FRAME_STALE);

	/* The newest frame is fine, on the same connection. */
	rt_infer_req(&req, g_e.camera_id, g_e.generation, g_seq);
	assert_int_equal(infer_status(fd, &req), RUTH_IPC_OK);
	close(fd);
	still_serving();
}

static void test_disconnect_with_inflight(void **state)
{
	(void)state;
	for (int round = 0; round < 3; round++) {
		int fd = rt_raw_connect(g_p.sock);
		assert_true(fd >= 0);
		assert_int_equal(rt_raw_hello(fd), 0);
		for (int i = 0; i < 40; i++) {
			ruth_ipc_msg_init(&g_m);
			g_m.hdr.type = RUTH_IPC_INFER_REQUEST;
			g_m.hdr.version = RUTH_IPC_VERSION;
			g_m.hdr.request_id = 100 + (uint64_t)i;
			rt_infer_req(&g_m.u.infer_request, g_e.camera_id, 0, g_seq);
			assert_int_equal(rt_raw_send_msg(fd, &g_m), 0);
		}
		close(fd); /* answers still in flight are dropped by the runtime */
	}
	/* The dropped clients' jobs drain (bounded wait: slow under sanitizers and
	 * a loaded machine), and their connections are gone. Both are polled
	 * together: the serving threads may answer this client before another
	 * thread has even read the last dropped client's burst, and then inflight
	 * is briefly 0 while that connection is still open. */
	struct ruth_ipc_health_ack h;
	int idle = rt_wait_idle(g_p.sock, 5000, &h);
	assert_int_equal(h.inflight, 0);
	assert_int_equal(h.connections, 1);
	assert_int_equal(idle, 0);
	still_serving();
}

static int setup(void **state)
{
	(void)state;
	char model[600], img[600], cam[48];
	snprintf(model, sizeof(model), "%s/blazeface-front", rt_models_root());
	snprintf(img, sizeof(img), "%s/messi5.jpg", rt_media_dir());
	snprintf(cam, sizeof(cam), "rt-bad-%d", (int)getpid());
	if (rt_export_open_crop(&g_e, cam, img, 2, NULL, 160, 34, 160, 160) < 0)
		return -1;
	g_seq = (uint64_t)rt_export_publish(&g_e);
	const char *args[] = { "--max-inflight", "64", "--queue-depth", "64", NULL };
	if (rt_start(&g_p, "bad", model, args) != 0) {
		rt_dump_log(&g_p);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	int rc = rt_stop(&g_p);
	rt_export_close(&g_e);
	if (rc != 0)
		rt_dump_log(&g_p);
	return rc == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_truncated_then_close),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_unknown_version),
		cmocka_unit_test(test_before_hello_and_unknown_type),
		cmocka_unit_test(test_frame_errors),
		cmocka_unit_test(test_disconnect_with_inflight),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* test_runtime_request: the request checks the server applies before queueing
 * (shared by stub mode and the workers), and the response size bound the
 * server preallocates per job. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "runtime.h"

static void req_init(struct ruth_ipc_infer_request *r, const char *cam)
{
	memset(r, 0, sizeof(*r));
	strncpy(r->camera_id, cam, sizeof(r->camera_id) - 1);
	r->frame_seq = 1;
}

static void test_validate(void **state)
{
	(void)state;
	struct ruth_ipc_infer_request r;
	char msg[RUTH_IPC_MESSAGE_MAX];
	req_init(&r, "lobby");
	assert_int_equal(ruth__request_validate(&r, RUTH_IPC_VERSION, msg, sizeof(msg)), RUTH_IPC_OK);
	req_init(&r, "cam_1.front-door");
	r.score_threshold = 1.0f;
	assert_int_equal(ruth__request_validate(&r, RUTH_IPC_VERSION, msg, sizeof(msg)), RUTH_IPC_OK);

	const char *bad_ids[] = { "", "../x", "a/b", "with space", "x\n" };
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		req_init(&r, bad_ids[i]);
		assert_int_equal(ruth__request_validate(&r, RUTH_IPC_VERSION, msg, sizeof(msg)), RUTH_IPC_E_BAD_MESSAGE);
	}
	req_init(&r, "this-camera-id-is-far-too-long-for-the-shm-name-rule-of-47");
	assert_int_equal(ruth__request_validate(&r, RUTH_IPC_VERSION, msg, sizeof(msg)), RUTH_IPC_E_BAD_MESSAGE);

	req_init(&r, "lobby");
	r.score_threshold = NAN;
	assert_int_equal(ruth__request_validate(&r, RUTH_IPC_VERSION, msg, sizeof(msg)), RUTH_IPC_E_BAD_MESSAGE);
	r.score_threshold = -0.1f;
	assert_int_equal(ruth__request_validate(&r, RUTH_IPC_VERSION, msg, sizeof(msg)), RUTH_IPC_E_BAD_MESSAGE);
	r.score_threshold = 1.5f;
	assert_int_equal(ruth__request_validate(&r, RUTH_IPC_VERSION, msg, sizeof(msg)), RUTH_IPC_E_BAD_MESSAGE);

	req_init(&r, "lobby");
	r.frame_seq = 0;
	assert_int_equal(ruth__request_validate(&r, RUTH_IPC_VERSION, msg, sizeof(msg)), RUTH_IPC_E_BAD_MESSAGE);
	/* Flags: none exist in version 1; version 2 knows GROUPED and nothing else. */
	req_init(&r, "lobby");
	r.flags = RUTH_IPC_INFER_F_GROUPED;
	assert_int_equal(ruth__request_validate(&r, 1, msg, sizeof(msg)), RUTH_IPC_E_BAD_MESSAGE);
	assert_non_null(strstr(msg, "flags must be 0 in protocol version 1"));
	assert_int_equal(ruth__request_validate(&r, 2, msg, sizeof(msg)), RUTH_IPC_OK);
	r.flags = 0x2;
	assert_int_equal(ruth__request_validate(&r, 2, msg, sizeof(msg)), RUTH_IPC_E_BAD_MESSAGE);
	assert_non_null(strstr(msg, "unknown flags 0x2"));
	r.flags = 0;
	assert_int_equal(ruth__request_validate(&r, 1, msg, sizeof(msg)), RUTH_IPC_OK);
}

static void test_max_response(void **state)
{
	(void)state;
	size_t max = ruth__max_response_size();
	assert_true(max > RUTH_IPC_HEADER_SIZE + RUTH_IPC_MAX_DETECTIONS * 24);
	assert_true(max <= RUTH_IPC_HEADER_SIZE + RUTH_IPC_MAX_BODY);
	/* A full response really encodes into that many bytes. */
	static struct ruth_ipc_msg m;
	static uint8_t buf[RUTH_IPC_HEADER_SIZE + RUTH_IPC_MAX_BODY];
	ruth_ipc_msg_init(&m);
	m.hdr.type = RUTH_IPC_INFER_RESPONSE;
	m.hdr.version = RUTH_IPC_VERSION;
	m.u.infer_response.n_detections = RUTH_IPC_MAX_DETECTIONS;
	for (size_t i = 0; i < RUTH_IPC_MAX_DETECTIONS; i++)
		m.det_storage[i].n_points = RUTH_IPC_MAX_POINTS;
	int n = ruth_ipc_encode(&m, buf, max);
	assert_true(n > 0);
	assert_true((size_t)n <= max);
}

static void test_backend_table(void **state)
{
	(void)state;
	const struct ruth_backend_ops *o = ruth__backend_find("onnxruntime");
	assert_non_null(o);
	assert_int_equal(o->version, RUTH_BACKEND_ABI_VERSION);
	const struct ruth_backend_ops *s = ruth__backend_find("stub");
	assert_non_null(s);
	assert_null(ruth__backend_find("tensorrt"));
	struct ruth_backend *b = NULL;
	struct ruth_backend_info info;
	assert_int_equal(s->open(&b, NULL, &info), 0);
	assert_int_equal(info.mode, RUTH_MODE_STUB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_max_response),
		cmocka_unit_test(test_backend_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

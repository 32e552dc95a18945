/* runtime_stub: every way the model can fail to load still gives a runtime
 * that listens and answers, in stub mode, with the reason; a malformed
 * model.yaml is the one hard error (exit 2 naming the field). Also the
 * scheduling class every thread gets (--sched), checked on a stub runtime. */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime_harness.h"

static char g_tmp[256];

/* Start model_dir, expect stub mode with `reason_part` in HELLO, HEALTH and in
 * the MODEL_UNAVAILABLE answer to a valid request; a request with an invalid
 * camera id is still validated first. */
static void expect_stub(const char *name, const char *model_dir, const char *const *args, const char *reason_part)
{
	struct rt_proc p;
	int r = rt_start(&p, name, model_dir, args);
	if (r != 0)
		rt_dump_log(&p);
	assert_int_equal(r, 0);
	struct ruth_ipc_client *c = NULL;
	struct ruth_ipc_hello_ack ack;
	assert_int_equal(ruth_ipc_client_connect(&c, p.sock, "runtime_stub", 5000, &ack), 0);
	fprintf(stderr, "%s: mode %s, reason: %s\n", name, ruth_ipc_mode_name(ack.mode), ack.mode_reason);
	assert_int_equal(ack.mode, RUTH_MODE_STUB);
	assert_int_equal(ack.state, RUTH_STATE_DEGRADED);
	assert_string_equal(ack.backend, "stub");
	assert_non_null(strstr(ack.mode_reason, reason_part));

	struct ruth_ipc_health_ack h;
	assert_int_equal(ruth_ipc_client_health(c, &h, 5000), 0);
	assert_int_equal(h.mode, RUTH_MODE_STUB);
	assert_non_null(strstr(h.reason, reason_part));

	static struct ruth_ipc_msg reply;
	struct ruth_ipc_infer_request req;
	for (int i = 0; i < 3; i++) {
		rt_infer_req(&req, "lobby", 0, 10 + (uint64_t)i);
		ruth_ipc_msg_init(&reply);
		assert_int_equal(ruth_ipc_client_infer(c, &req, &reply, 5000), 0);
		assert_int_equal(reply.hdr.type, RUTH_IPC_INFER_RESPONSE);
		assert_int_equal(reply.u.infer_response.status, RUTH_IPC_E_MODEL_UNAVAILABLE);
		assert_int_equal(reply.u.infer_response.mode, RUTH_MODE_STUB);
		assert_int_equal(reply.u.infer_response.frame_seq, 10 + (uint64_t)i);
		assert_int_equal(reply.u.infer_response.n_detections, 0);
		assert_non_null(strstr(reply.u.infer_response.message, reason_part));
	}
	rt_infer_req(&req, "bad/camera", 0, 1);
	ruth_ipc_msg_init(&reply);
	assert_int_equal(ruth_ipc_client_infer(c, &req, &reply, 5000), 0);
	assert_int_equal(reply.u.infer_response.status, RUTH_IPC_E_BAD_MESSAGE);

	assert_int_equal(ruth_ipc_client_health(c, &h, 5000), 0);
	assert_int_equal(h.requests_total, 4);
	assert_int_equal(h.requests_failed, 4);
	ruth_ipc_client_close(&c);
	assert_int_equal(rt_stop(&p), 0);
}

static void test_gpu_required(void **state)
{
	(void)state;
	char dir[600];
	assert_int_equal(rt_model_dir(dir, sizeof(dir), g_tmp, "gpu-required", "required", "copy", NULL), 0);
	expect_stub("gpureq", dir, NULL, "GPU required but unavailable");
}

static void test_gpu_required_force_cpu(void **state)
{
	(void)state;
	char dir[600];
	assert_int_equal(rt_model_dir(dir, sizeof(dir), g_tmp, "gpu-required2", "required", "copy", NULL), 0);
	const char *args[] = { "--force-cpu", NULL };
	struct rt_proc p;
	assert_int_equal(rt_start(&p, "forcecpu", dir, args), 0);
	struct ruth_ipc_client *c = NULL;
	struct ruth_ipc_hello_ack ack;
	assert_int_equal(ruth_ipc_client_connect(&c, p.sock, "runtime_stub", 5000, &ack), 0);
	assert_int_equal(ack.mode, RUTH_MODE_CPU);
	assert_non_null(strstr(ack.mode_reason, "--force-cpu"));
	ruth_ipc_client_close(&c);
	assert_int_equal(rt_stop(&p), 0);
}

static void test_force_stub(void **state)
{
	(void)state;
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/blazeface-front", rt_models_root());
	const char *args[] = { "--force-stub", NULL };
	expect_stub("forcestub", dir, args, "forced by --force-stub");
}

static void test_missing_weights(void **state)
{
	(void)state;
	char dir[600];
	assert_int_equal(rt_model_dir(dir, sizeof(dir), g_tmp, "missing-weights", "preferred", "missing", NULL), 0);
	expect_stub("missing", dir, NULL, "not found");
}

static void test_corrupt_weights(void **state)
{
	(void)state;
	char dir[600];
	assert_int_equal(rt_model_dir(dir, sizeof(dir), g_tmp, "corrupt-weights", "preferred", "garbage", NULL), 0);
	expect_stub("corrupt", dir, NULL, "cannot load weights");
}

static void test_sha_mismatch(void **state)
{
	(void)state;
	char dir[600];
	assert_int_equal(rt_model_dir(dir, sizeof(dir), g_tmp, "sha-mismatch", "preferred", "copy",
				      "0000000000000000000000000000000000000000000000000000000000000000"),
			 0);
	expect_stub("sha", dir, NULL, "sha256");
}

/* Replace the first `from` in dir/model.yaml with `to`. */
static void patch_yaml(const char *dir, const char *from, const char *to)
{
	char path[700], buf[8192], out[8400];
	snprintf(path, sizeof(path), "%s/model.yaml", dir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *at = strstr(buf, from);
	assert_non_null(at);
	snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - buf), buf, to, at + strlen(from));
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(out, f);
	fclose(f);
}

/* The model's input does not match model.yaml: stub mode naming the mismatch. */
static void test_input_mismatch(void **state)
{
	(void)state;
	char dir[600];
	assert_int_equal(rt_model_dir(dir, sizeof(dir), g_tmp, "wrong-tensor", "none", "copy", NULL), 0);
	patch_yaml(dir, "tensor: \"input:0\"", "tensor: \"image:0\"");
	expect_stub("tensor", dir, NULL, "input.tensor_name 'image:0'");
	assert_int_equal(rt_model_dir(dir, sizeof(dir), g_tmp, "wrong-layout", "none", "copy", NULL), 0);
	patch_yaml(dir, "layout: nhwc", "layout: nchw");
	expect_stub("layout", dir, NULL, "shape [1,128,128,3] does not match model.yaml (nchw 128x128)");
	assert_int_equal(rt_model_dir(dir, sizeof(dir), g_tmp, "wrong-dtype", "none", "copy", NULL), 0);
	patch_yaml(dir, "dtype: float32", "dtype: uint8");
	expect_stub("dtype", dir, NULL, "is float32 but model.yaml input.dtype says uint8");
}

static void test_malformed_yaml(void **state)
{
	(void)state;
	char dir[600];
	assert_int_equal(rt_model_dir(dir, sizeof(dir), g_tmp, "malformed", "maybe", "copy", NULL), 0);
	struct rt_proc p;
	assert_int_equal(rt_start_env(&p, "malformed", dir, NULL, NULL, 20000), 1);
	assert_int_equal(rt_wait_exit(&p, 1000), 2);
	rt_dump_log(&p);
	assert_true(rt_file_contains(p.log, "model.yaml"));
	assert_true(rt_file_contains(p.log, "resource_requirements.gpu"));
}

static void test_usage_error(void **state)
{
	(void)state;
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/blazeface-front", rt_models_root());
	const char *args[] = { "--workers", "zero", NULL };
	struct rt_proc p;
	assert_int_equal(rt_start_env(&p, "usage", dir, args, NULL, 20000), 1);
	assert_int_equal(rt_wait_exit(&p, 1000), 2);
}

/* --sched (docs/runtime.md, "Scheduling class"): batch by default for every
 * thread, including the ones made after the class is set; normal on request;
 * anything else is a usage error naming the values. */
static void test_sched_class(void **state)
{
	(void)state;
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/blazeface-front", rt_models_root());
	struct rt_proc p;
	const char *def[] = { "--force-stub", NULL };
	assert_int_equal(rt_start(&p, "sched-default", dir, def), 0);
	assert_int_equal(rt_threads_policy(p.pid), SCHED_BATCH);
	assert_true(rt_file_contains(p.log, " sched=batch "));
	assert_int_equal(rt_stop(&p), 0);

	const char *normal[] = { "--force-stub", "--sched", "normal", NULL };
	assert_int_equal(rt_start(&p, "sched-normal", dir, normal), 0);
	assert_int_equal(rt_threads_policy(p.pid), SCHED_OTHER);
	assert_true(rt_file_contains(p.log, " sched=normal "));
	assert_int_equal(rt_stop(&p), 0);

	const char *bad[] = { "--sched", "fifo", NULL };
	assert_int_equal(rt_start(&p, "sched-bad", dir, bad), 1);
	assert_true(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 2);
	assert_true(rt_file_contains(p.log, "invalid value 'fifo' for --sched (expected batch or normal)"));
	rt_stop(&p);
}

static int setup(void **state)
{
	(void)state;
	return rt_tmpdir(g_tmp, sizeof(g_tmp), "stub-models");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gpu_required),    cmocka_unit_test(test_gpu_required_force_cpu),
		cmocka_unit_test(test_force_stub),      cmocka_unit_test(test_missing_weights),
		cmocka_unit_test(test_corrupt_weights), cmocka_unit_test(test_sha_mismatch),
		cmocka_unit_test(test_malformed_yaml),  cmocka_unit_test(test_usage_error),
		cmocka_unit_test(test_input_mismatch), cmocka_unit_test(test_sched_class),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

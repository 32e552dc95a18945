/* runtime_cpu: ruth-model-runtime starts in CPU mode for blazeface-front on a
 * machine without a GPU (the CUDA append failure is the reason), and answers a
 * real inference on a real image published into a frame export. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime_harness.h"

static void test_cpu_mode_and_face(void **state)
{
	(void)state;
	char model[600];
	snprintf(model, sizeof(model), "%s/blazeface-front", rt_models_root());
	struct rt_proc p;
	int r = rt_start(&p, "cpu", model, NULL);
	if (r != 0)
		rt_dump_log(&p);
	assert_int_equal(r, 0);

	/* Socket mode 0660. */
	struct stat st;
	assert_int_equal(stat(p.sock, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);

	struct ruth_ipc_client *c = NULL;
	struct ruth_ipc_hello_ack ack;
	assert_int_equal(ruth_ipc_client_connect(&c, p.sock, "runtime_cpu", 5000, &ack), 0);
	assert_int_equal(ack.mode, RUTH_MODE_CPU);
	assert_int_equal(ack.state, RUTH_STATE_READY);
	assert_string_equal(ack.model_id, "blazeface-front");
	assert_string_equal(ack.backend, "onnxruntime");
	assert_int_equal(ack.input_width, 128);
	fprintf(stderr, "mode_reason: %s\n", ack.mode_reason);
	/* No GPU here: the CUDA provider append failed, and that is the reason. */
	assert_non_null(strstr(ack.mode_reason, "GPU unavailable"));
	assert_non_null(strstr(ack.mode_reason, "CUDA"));

	struct ruth_ipc_health_ack h;
	assert_int_equal(ruth_ipc_client_health(c, &h, 5000), 0);
	assert_int_equal(h.mode, RUTH_MODE_CPU);
	assert_int_equal(h.state, RUTH_STATE_READY);
	assert_non_null(strstr(h.reason, "GPU unavailable"));

	char img[600], cam[48];
	snprintf(img, sizeof(img), "%s/messi5.jpg", rt_media_dir());
	snprintf(cam, sizeof(cam), "rt-cpu-%d", (int)getpid());
	struct rt_export e;
	assert_int_equal(rt_export_open(&e, cam, img, 4, NULL), 0);
	int64_t seq = rt_export_publish(&e);
	assert_true(seq > 0);

	struct ruth_ipc_infer_request req;
	rt_infer_req(&req, cam, e.generation, (uint64_t)seq);
	static struct ruth_ipc_msg reply;
	ruth_ipc_msg_init(&reply);
	assert_int_equal(ruth_ipc_client_infer(c, &req, &reply, 10000), 0);
	const struct ruth_ipc_infer_response *resp = &reply.u.infer_response;
	fprintf(stderr, "status %s (%s), %u detections, frame %ux%u, timings q=%u pre=%u inf=%u post=%u us\n",
		ruth_ipc_status_name(resp->status), resp->message, resp->n_detections, resp->frame_width,
		resp->frame_height, resp->queue_us, resp->preprocess_us, resp->infer_us, resp->postprocess_us);
	assert_int_equal(resp->status, RUTH_IPC_OK);
	assert_int_equal(resp->mode, RUTH_MODE_CPU);
	assert_int_equal(resp->frame_width, e.width);
	assert_int_equal(resp->frame_height, e.height);
	assert_int_equal(resp->frame_seq, (uint64_t)seq);
	assert_int_equal(resp->generation, e.generation);
	assert_true(resp->n_detections >= 1);
	/* The face is in the upper middle of messi5.jpg (500x342): its box lies in
	 * the frame, has a plausible size and carries the 6 keypoints. */
	const struct ruth_ipc_detection *d = &resp->detections[0];
	fprintf(stderr, "face [%.1f %.1f %.1f %.1f] score %.3f\n", d->x0, d->y0, d->x1, d->y1, d->score);
	assert_true(d->score >= 0.6f);
	assert_true(d->x0 >= -5 && d->y0 >= -5 && d->x1 <= e.width + 5 && d->y1 <= e.height + 5);
	assert_true(d->x1 - d->x0 > 10 && d->y1 - d->y0 > 10);
	assert_int_equal(d->n_points, 6);

	ruth_ipc_client_close(&c);
	rt_export_close(&e);
	assert_int_equal(rt_stop(&p), 0);
	/* Clean exit removes the socket. */
	assert_int_not_equal(access(p.sock, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_mode_and_face),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

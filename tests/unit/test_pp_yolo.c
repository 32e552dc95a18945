/* test_pp_yolo.c: the YOLO decoder on generated ONNX graphs (no YOLO weights
 * are fetchable here) run with ONNX Runtime: yolo_const.onnx outputs a known
 * [1,7,16] tensor (tests/data/processing/gen_graphs.py lists the anchors), so
 * thresholding, per-class vs class-agnostic NMS, the transposed layout and the
 * letterbox mapping are checked on real ORT output. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "postprocess.h"
#include "test_pp_util.h"

static char g_path[512];

static const char *graph(const char *name)
{
	snprintf(g_path, sizeof(g_path), "%s/%s", PP_GRAPH_DIR, name);
	return g_path;
}

static void yolo_config(struct ruth_model_config *cfg, int n_labels, const char *agnostic)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->expected_width = cfg->expected_height = 64;
	cfg->input.layout = RUTH_LAYOUT_NCHW;
	cfg->input.resize = RUTH_RESIZE_LETTERBOX;
	cfg->input.scale = 1.0f / 255;
	cfg->input.std[0] = cfg->input.std[1] = cfg->input.std[2] = 1;
	cfg->input.pad_value = 114;
	cfg->output_schema.n_labels = (uint32_t)n_labels;
	if (agnostic) {
		cfg->postprocess.n_params = 1;
		snprintf(cfg->postprocess.params[0].key, sizeof(cfg->postprocess.params[0].key), "class_agnostic");
		snprintf(cfg->postprocess.params[0].value, sizeof(cfg->postprocess.params[0].value), "%s", agnostic);
	}
}

/* A 128x64 grey frame -> 64x64 letterbox: scale 0.5, content 64x32, pad_y 16. */
static size_t run_graph(const char *file, const struct ruth_model_config *cfg, struct ruth_ipc_detection *d,
			int *rc_out)
{
	static uint8_t y[128 * 64], uv[128 * 32];
	memset(y, 120, sizeof(y));
	memset(uv, 128, sizeof(uv));
	struct ruth_nv12_frame f = {.y = y, .uv = uv, .width = 128, .height = 64, .stride_y = 128, .stride_uv = 128};
	struct ruth_tensor_spec spec;
	ruth_tensor_spec_from_config(&spec, cfg);
	float *in = malloc(ruth_tensor_bytes(&spec));
	struct ruth_letterbox map;
	assert_int_equal(ruth_preprocess_nv12(&f, &spec, in, &map), 0);
	assert_float_equal(map.pad_y, 16, 0);
	assert_float_equal(map.scale_x, 0.5f, 0);
	struct pp_test_ort *ort = NULL;
	assert_int_equal(pp_test_ort_open(&ort, graph(file)), 0);
	const int64_t shape[4] = {1, 3, 64, 64};
	struct ruth_pp_tensor outs[8];
	size_t n_outs = 0;
	assert_int_equal(pp_test_ort_run(ort, "images", in, shape, 4, outs, &n_outs), 0);
	const struct ruth_postprocessor *pp = ruth_postprocessor_find("yolo");
	assert_non_null(pp);
	void *state = NULL;
	char err[256];
	assert_int_equal(pp->create(&state, cfg, err, sizeof(err)), 0);
	void *scratch = malloc(pp->scratch_size(state, cfg));
	struct ruth_pp_params params = {.score_threshold = 0.5f, .nms_iou = 0.45f, .max_results = 16};
	size_t n = 0;
	*rc_out = pp->run(state, outs, n_outs, &map, &params, scratch, d, 16, &n);
	free(scratch);
	pp->destroy(state);
	pp_test_ort_close(&ort);
	free(in);
	return n;
}

static void expect_box(const struct ruth_ipc_detection *d, float cx, float cy, float w, float h, float score,
		       int cls)
{
	/* Model (x, y) -> source (x / 0.5, (y - 16) / 0.5). */
	assert_float_equal(d->x0, (cx - w / 2) * 2, 1e-3);
	assert_float_equal(d->x1, (cx + w / 2) * 2, 1e-3);
	assert_float_equal(d->y0, (cy - h / 2 - 16) * 2, 1e-3);
	assert_float_equal(d->y1, (cy + h / 2 - 16) * 2, 1e-3);
	assert_float_equal(d->score, score, 1e-6);
	assert_int_equal(d->class_id, cls);
	assert_int_equal(d->n_points, 0);
}

static void test_per_class_nms(void **st)
{
	(void)st;
	struct ruth_model_config cfg;
	struct ruth_ipc_detection d[16];
	int rc;
	yolo_config(&cfg, 0, NULL);
	size_t n = run_graph("yolo_const.onnx", &cfg, d, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(n, 3);
	expect_box(&d[0], 20, 30, 10, 10, 0.90f, 0);
	expect_box(&d[1], 21, 31, 10, 10, 0.85f, 1);
	expect_box(&d[2], 45, 40, 6, 6, 0.70f, 2);
}

static void test_agnostic_nms(void **st)
{
	(void)st;
	struct ruth_model_config cfg;
	struct ruth_ipc_detection d[16];
	int rc;
	yolo_config(&cfg, 0, "true");
	size_t n = run_graph("yolo_const.onnx", &cfg, d, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(n, 2);
	expect_box(&d[0], 20, 30, 10, 10, 0.90f, 0);
	expect_box(&d[1], 45, 40, 6, 6, 0.70f, 2);
}

/* [1,N,4+C] with labels listed (4 + 3 = 7 picks the layout). */
static void test_transposed(void **st)
{
	(void)st;
	struct ruth_model_config cfg;
	struct ruth_ipc_detection d[16];
	int rc;
	yolo_config(&cfg, 3, NULL);
	size_t n = run_graph("yolo_const_t.onnx", &cfg, d, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(n, 3);
	expect_box(&d[0], 20, 30, 10, 10, 0.90f, 0);
	expect_box(&d[2], 45, 40, 6, 6, 0.70f, 2);
	/* Without labels the layout comes from the shape (N = 16 > 7). */
	yolo_config(&cfg, 0, NULL);
	n = run_graph("yolo_const_t.onnx", &cfg, d, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(n, 3);
	expect_box(&d[1], 21, 31, 10, 10, 0.85f, 1);
	/* Labels that match neither dimension: a clear shape error. */
	yolo_config(&cfg, 5, NULL);
	run_graph("yolo_const.onnx", &cfg, d, &rc);
	assert_int_equal(rc, -EINVAL);
}

/* A YOLOv8-sized output ([1, 84, 8400], random scores) with a low threshold:
 * thousands of candidates must decode in bounded time (no O(n^2) sort), come
 * out sorted, and never keep two same-class boxes above the IoU limit. */
static void test_many_candidates(void **st)
{
	(void)st;
	const int64_t F = 84, N = 8400;
	float *v = malloc(sizeof(float) * (size_t)(F * N));
	uint32_t seed = 7;
	for (int64_t i = 0; i < N; i++) {
		for (int64_t f = 0; f < F; f++) {
			seed = seed * 1103515245u + 12345u;
			float r = (float)((seed >> 8) & 0xffff) / 65536.0f;
			v[f * N + i] = f < 2 ? r * 640 : (f < 4 ? 10 + r * 100 : r * 0.5f);
		}
	}
	const int64_t shape[3] = {1, F, N};
	struct ruth_pp_tensor t = {"output0", v, shape, 3, (size_t)(F * N)};
	struct ruth_model_config cfg;
	yolo_config(&cfg, 0, NULL);
	cfg.expected_width = cfg.expected_height = 640;
	const struct ruth_postprocessor *pp = ruth_postprocessor_find("yolo");
	void *state = NULL;
	char err[256];
	assert_int_equal(pp->create(&state, &cfg, err, sizeof(err)), 0);
	void *scratch = malloc(pp->scratch_size(state, &cfg));
	struct ruth_letterbox map = {.scale_x = 1, .scale_y = 1, .src_width = 640, .src_height = 640};
	struct ruth_pp_params params = {.score_threshold = 0.25f, .nms_iou = 0.45f, .max_results = 256};
	static struct ruth_ipc_detection d[256];
	size_t n = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(pp->run(state, &t, 1, &map, &params, scratch, d, 256, &n), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf("# 8400 anchors, %zu kept, %.1f ms\n", n, ms);
	assert_true(n > 0 && n <= 256);
	assert_true(ms < 2000);
	for (size_t i = 0; i < n; i++) {
		assert_true(d[i].score >= 0.25f);
		if (i)
			assert_true(d[i - 1].score >= d[i].score);
		for (size_t j = 0; j < i; j++)
			if (d[i].class_id == d[j].class_id)
				assert_true(ruth_iou(&d[i], &d[j]) <= 0.45f);
	}
	free(scratch);
	pp->destroy(state);
	free(v);
}

static void test_bad_params(void **st)
{
	(void)st;
	struct ruth_model_config cfg;
	yolo_config(&cfg, 0, "maybe");
	const struct ruth_postprocessor *pp = ruth_postprocessor_find("yolo");
	void *state = NULL;
	char err[256] = "";
	assert_int_equal(pp->create(&state, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "class_agnostic"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_class_nms),
		cmocka_unit_test(test_agnostic_nms),
		cmocka_unit_test(test_transposed),
		cmocka_unit_test(test_many_candidates),
		cmocka_unit_test(test_bad_params),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

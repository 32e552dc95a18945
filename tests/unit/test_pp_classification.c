/* test_pp_classification.c: top-k classification on a generated ONNX graph
 * (cls_colour.onnx: logits = 10 * per-channel mean of the NCHW RGB input, see
 * tests/data/processing/gen_graphs.py) run with ONNX Runtime after the real
 * preprocessing of flat-coloured NV12 frames: the dominant colour wins; softmax
 * on and off, threshold, k, bad params. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "postprocess.h"
#include "test_pp_util.h"

static void cls_config(struct ruth_model_config *cfg, const char *softmax)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->expected_width = cfg->expected_height = 8;
	cfg->input.layout = RUTH_LAYOUT_NCHW;
	cfg->input.scale = 1.0f / 255;
	cfg->input.std[0] = cfg->input.std[1] = cfg->input.std[2] = 1;
	if (softmax) {
		cfg->postprocess.n_params = 1;
		snprintf(cfg->postprocess.params[0].key, sizeof(cfg->postprocess.params[0].key), "apply_softmax");
		snprintf(cfg->postprocess.params[0].value, sizeof(cfg->postprocess.params[0].value), "%s", softmax);
	}
}

/* Flat colour (Y, U, V) -> top-k; returns the ORT logits in logits[3]. */
static size_t classify(const struct ruth_model_config *cfg, uint8_t Y, uint8_t U, uint8_t V, float thr,
		       uint32_t k, struct ruth_ipc_detection *d, float *logits)
{
	static uint8_t y[32 * 32], uv[32 * 16];
	memset(y, Y, sizeof(y));
	for (size_t i = 0; i < sizeof(uv); i += 2) {
		uv[i] = U;
		uv[i + 1] = V;
	}
	struct ruth_nv12_frame f = {.y = y, .uv = uv, .width = 32, .height = 32, .stride_y = 32, .stride_uv = 32};
	struct ruth_tensor_spec spec;
	ruth_tensor_spec_from_config(&spec, cfg);
	float in[3 * 8 * 8];
	struct ruth_letterbox map;
	assert_int_equal(ruth_preprocess_nv12(&f, &spec, in, &map), 0);
	struct pp_test_ort *ort = NULL;
	assert_int_equal(pp_test_ort_open(&ort, PP_GRAPH_DIR "/cls_colour.onnx"), 0);
	const int64_t shape[4] = {1, 3, 8, 8};
	struct ruth_pp_tensor outs[8];
	size_t n_outs = 0;
	assert_int_equal(pp_test_ort_run(ort, "x", in, shape, 4, outs, &n_outs), 0);
	assert_int_equal(outs[0].count, 3);
	memcpy(logits, outs[0].data, 3 * sizeof(float));
	const struct ruth_postprocessor *pp = ruth_postprocessor_find("classification");
	void *state = NULL;
	char err[256];
	assert_int_equal(pp->create(&state, cfg, err, sizeof(err)), 0);
	assert_int_equal(pp->scratch_size(state, cfg), 0);
	struct ruth_pp_params params = {.score_threshold = thr, .nms_iou = 0, .max_results = k};
	size_t n = 0;
	assert_int_equal(pp->run(state, outs, n_outs, &map, &params, NULL, d, 16, &n), 0);
	pp->destroy(state);
	pp_test_ort_close(&ort);
	return n;
}

static void test_softmax_topk(void **st)
{
	(void)st;
	struct ruth_model_config cfg;
	cls_config(&cfg, NULL); /* default: softmax */
	struct ruth_ipc_detection d[16];
	float lg[3];
	/* Saturated red: logits about (10, 0, 0). */
	size_t n = classify(&cfg, 81, 90, 240, 0.0f, 3, d, lg);
	assert_int_equal(n, 3);
	assert_int_equal(d[0].class_id, 0);
	assert_true(lg[0] > 9.0f && lg[1] < 1.0f && lg[2] < 1.0f);
	double z = exp(lg[0]) + exp(lg[1]) + exp(lg[2]);
	assert_float_equal(d[0].score, exp(lg[0]) / z, 1e-5);
	assert_true(d[1].score >= d[2].score);
	assert_float_equal(d[0].score + d[1].score + d[2].score, 1.0, 1e-5);
	assert_true(d[0].x0 == 0 && d[0].x1 == 0 && d[0].y0 == 0 && d[0].y1 == 0);
	/* Green and blue win on their frames; k = 1. */
	assert_int_equal(classify(&cfg, 145, 54, 34, 0.0f, 1, d, lg), 1);
	assert_int_equal(d[0].class_id, 1);
	assert_int_equal(classify(&cfg, 41, 240, 110, 0.0f, 1, d, lg), 1);
	assert_int_equal(d[0].class_id, 2);
	/* Threshold: only the winner passes 0.5. */
	assert_int_equal(classify(&cfg, 81, 90, 240, 0.5f, 3, d, lg), 1);
}

static void test_raw_scores(void **st)
{
	(void)st;
	struct ruth_model_config cfg;
	cls_config(&cfg, "false");
	struct ruth_ipc_detection d[16];
	float lg[3];
	/* Grey (Y=126): all logits about 10 * 0.5 = 5; raw scores kept as they are. */
	size_t n = classify(&cfg, 126, 128, 128, 0.0f, 3, d, lg);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < 3; i++)
		assert_float_equal(d[i].score, lg[d[i].class_id], 1e-6);
	assert_int_equal(classify(&cfg, 126, 128, 128, 6.0f, 3, d, lg), 0);
}

static void test_bad_input(void **st)
{
	(void)st;
	struct ruth_model_config cfg;
	cls_config(&cfg, "perhaps");
	const struct ruth_postprocessor *pp = ruth_postprocessor_find("classification");
	void *state = NULL;
	char err[256] = "";
	assert_int_equal(pp->create(&state, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "apply_softmax"));
	cls_config(&cfg, NULL);
	assert_int_equal(pp->create(&state, &cfg, err, sizeof(err)), 0);
	struct ruth_pp_params params = {.score_threshold = 0, .nms_iou = 0, .max_results = 3};
	struct ruth_ipc_detection d[4];
	size_t n = 9;
	struct ruth_letterbox map = {0};
	assert_int_equal(pp->run(state, NULL, 0, &map, &params, NULL, d, 4, &n), -EINVAL);
	assert_int_equal(n, 0);
	pp->destroy(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_softmax_topk),
		cmocka_unit_test(test_raw_scores),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_pp_dbnet.c: the DBNet decoder on PP-OCRv4 det run with ONNX Runtime
 * directly (no server): text regions on imageTextN.png where the hand-checked
 * reference lines (tests/data/processing/dbnet_imageTextN.txt) are, few or
 * none on fruits.jpg; plus decoder checks on synthetic probability maps
 * (rotated rectangle, unclip, thresholds, mapping, bad shapes, params). */
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

static char g_path[512];

static const char *media(const char *name)
{
	return pp_test_path(g_path, sizeof(g_path), "RUTH_MEDIA_DIR", RUTH_SOURCE_DIR "/.cache/media", name);
}

static const char *src_path(const char *rel)
{
	return pp_test_path(g_path, sizeof(g_path), "RUTH_SOURCE_DIR", RUTH_SOURCE_DIR, rel);
}

#define PPOCR "models/ppocr-det/weights/ch_PP-OCRv4_det_infer.onnx"
#define MAXD 256

static void db_config(struct ruth_model_config *cfg, uint32_t w, uint32_t h)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->expected_width = w;
	cfg->expected_height = h;
	cfg->input.layout = RUTH_LAYOUT_NCHW;
	cfg->input.dtype = RUTH_DTYPE_F32;
	cfg->input.color = RUTH_COLOR_BGR;
	cfg->input.resize = RUTH_RESIZE_LETTERBOX;
	cfg->input.scale = 1.0f / 255;
	/* ImageNet mean/std in B, G, R order (the tensor's channel order). */
	cfg->input.mean[0] = 0.406f, cfg->input.mean[1] = 0.456f, cfg->input.mean[2] = 0.485f;
	cfg->input.std[0] = 0.225f, cfg->input.std[1] = 0.224f, cfg->input.std[2] = 0.229f;
	cfg->input.pad_value = 0;
	snprintf(cfg->postprocess.name, sizeof(cfg->postprocess.name), "dbnet");
}

static struct pp_test_ort *g_ort;

static size_t detect(const char *file, struct ruth_ipc_detection *dets)
{
	struct ruth_model_config cfg;
	db_config(&cfg, 640, 640);
	const struct ruth_postprocessor *pp = ruth_postprocessor_find("dbnet");
	assert_non_null(pp);
	void *state = NULL;
	char err[256];
	assert_int_equal(pp->create(&state, &cfg, err, sizeof(err)), 0);
	void *scratch = malloc(pp->scratch_size(state, &cfg));
	struct pp_test_image img;
	assert_int_equal(pp_test_load_nv12(media(file), 0, 0, &img), 0);
	struct ruth_tensor_spec spec;
	ruth_tensor_spec_from_config(&spec, &cfg);
	float *in = malloc(ruth_tensor_bytes(&spec));
	struct ruth_letterbox map;
	assert_int_equal(ruth_preprocess_nv12(&img.f, &spec, in, &map), 0);
	if (!g_ort)
		assert_int_equal(pp_test_ort_open(&g_ort, src_path(PPOCR)), 0);
	const int64_t shape[4] = {1, 3, 640, 640};
	struct ruth_pp_tensor outs[8];
	size_t n_outs = 0;
	assert_int_equal(pp_test_ort_run(g_ort, "x", in, shape, 4, outs, &n_outs), 0);
	assert_int_equal(n_outs, 1);
	struct ruth_pp_params params = {.score_threshold = 0.0f, .nms_iou = 0.0f, .max_results = MAXD};
	size_t n = 0;
	assert_int_equal(pp->run(state, outs, n_outs, &map, &params, scratch, dets, MAXD, &n), 0);
	for (size_t i = 0; i < n; i++)
		printf("# %s: text %.1f %.1f %.1f %.1f score %.3f\n", file, dets[i].x0, dets[i].y0, dets[i].x1,
		       dets[i].y1, dets[i].score);
	printf("# %s: %zu regions\n", file, n);
	free(in);
	pp_test_image_free(&img);
	free(scratch);
	pp->destroy(state);
	return n;
}

/* Every reference line is covered by a region with IoU >= 0.5, and there are
 * not many more regions than lines. */
static void test_text_image(void **st)
{
	(void)st;
	static struct ruth_ipc_detection d[MAXD];
	size_t n = detect("imageTextN.png", d);
	struct pp_test_box ref[32];
	int nref = pp_test_read_boxes(src_path("tests/data/processing/dbnet_imageTextN.txt"), ref, 32);
	assert_int_equal(nref, 13);
	assert_true(n >= (size_t)nref && n <= (size_t)nref + 4);
	for (int k = 0; k < nref; k++) {
		struct ruth_ipc_detection r = {.x0 = ref[k].x0, .y0 = ref[k].y0, .x1 = ref[k].x1, .y1 = ref[k].y1};
		float best = 0;
		size_t bi = 0;
		for (size_t i = 0; i < n; i++) {
			float v = ruth_iou(&d[i], &r);
			if (v > best) {
				best = v;
				bi = i;
			}
		}
		printf("# line %d: best IoU %.3f\n", k + 1, best);
		assert_true(best >= 0.5f);
		/* The 4 corners bound the box and the box lies inside the image. */
		assert_int_equal(d[bi].n_points, 4);
		for (int p = 0; p < 4; p++) {
			assert_true(d[bi].points[p][0] >= d[bi].x0 - 1e-3f && d[bi].points[p][0] <= d[bi].x1 + 1e-3f);
			assert_true(d[bi].points[p][1] >= d[bi].y0 - 1e-3f && d[bi].points[p][1] <= d[bi].y1 + 1e-3f);
		}
		assert_true(d[bi].x0 >= 0 && d[bi].x1 <= 556 && d[bi].y0 >= 0 && d[bi].y1 <= 257);
		assert_true(d[bi].score >= 0.6f);
	}
}

static void test_no_text(void **st)
{
	(void)st;
	static struct ruth_ipc_detection d[MAXD];
	assert_true(detect("fruits.jpg", d) <= 2);
	assert_true(detect("building.jpg", d) <= 2);
}

/* Synthetic maps, 1:1 with a 96x64 "model input" and an identity mapping. */
static void run_synth(const struct ruth_model_config *cfg, const float *map_data, int64_t h, int64_t w,
		      struct ruth_ipc_detection *d, size_t *n, int expect_rc)
{
	const struct ruth_postprocessor *pp = ruth_postprocessor_find("dbnet");
	void *state = NULL;
	char err[256];
	assert_int_equal(pp->create(&state, cfg, err, sizeof(err)), 0);
	void *scratch = malloc(pp->scratch_size(state, cfg));
	const int64_t shape[4] = {1, 1, h, w};
	struct ruth_pp_tensor t = {"p", map_data, shape, 4, (size_t)(h * w)};
	struct ruth_letterbox map = {.scale_x = 1, .scale_y = 1, .src_width = 96, .src_height = 64};
	struct ruth_pp_params params = {.score_threshold = 0, .nms_iou = 0, .max_results = 16};
	assert_int_equal(pp->run(state, &t, 1, &map, &params, scratch, d, 16, n), expect_rc);
	free(scratch);
	pp->destroy(state);
}

static void test_decoder_synthetic(void **st)
{
	(void)st;
	struct ruth_model_config cfg;
	db_config(&cfg, 96, 64);
	static float m[64 * 96];
	struct ruth_ipc_detection d[16];
	size_t n = 0;
	/* An axis-aligned block: cols 20..59, rows 20..29 at 0.9 -> rectangle
	 * 40 x 10, unclip d = 400 * 1.5 / 100 = 6 -> x 14..66, y 14..36. */
	memset(m, 0, sizeof(m));
	for (int y = 20; y < 30; y++)
		for (int x = 20; x < 60; x++)
			m[y * 96 + x] = 0.9f;
	/* A weak block (mean 0.5 < box_thresh 0.6): dropped. */
	for (int y = 45; y < 55; y++)
		for (int x = 10; x < 40; x++)
			m[y * 96 + x] = 0.5f;
	/* A speck (2 x 2 < min_size 3): dropped. */
	m[50 * 96 + 80] = m[50 * 96 + 81] = m[51 * 96 + 80] = m[51 * 96 + 81] = 0.99f;
	run_synth(&cfg, m, 64, 96, d, &n, 0);
	assert_int_equal(n, 1);
	assert_float_equal(d[0].score, 0.9f, 1e-4);
	assert_float_equal(d[0].x0, 14, 1e-3);
	assert_float_equal(d[0].x1, 66, 1e-3);
	assert_float_equal(d[0].y0, 14, 1e-3);
	assert_float_equal(d[0].y1, 36, 1e-3);
	assert_float_equal(d[0].points[0][0], 14, 1e-3); /* top-left first, clockwise */
	assert_float_equal(d[0].points[0][1], 14, 1e-3);
	assert_float_equal(d[0].points[1][0], 66, 1e-3);
	assert_float_equal(d[0].points[1][1], 14, 1e-3);
	assert_float_equal(d[0].points[2][1], 36, 1e-3);

	/* A rectangle rotated by 30 degrees, 50 x 8, centred at (48, 32): the
	 * min-area rectangle follows it (long side at ~30 degrees, ~50 long). */
	memset(m, 0, sizeof(m));
	const float ca = cosf(0.5235988f), sa = sinf(0.5235988f);
	for (int y = 0; y < 64; y++)
		for (int x = 0; x < 96; x++) {
			float dx = x + 0.5f - 48, dy = y + 0.5f - 32;
			float u = dx * ca + dy * sa, v = -dx * sa + dy * ca;
			if (fabsf(u) <= 25 && fabsf(v) <= 4)
				m[y * 96 + x] = 0.8f;
		}
	struct ruth_model_config c2 = cfg;
	c2.postprocess.n_params = 1;
	snprintf(c2.postprocess.params[0].key, sizeof(c2.postprocess.params[0].key), "unclip_ratio");
	snprintf(c2.postprocess.params[0].value, sizeof(c2.postprocess.params[0].value), "0");
	run_synth(&c2, m, 64, 96, d, &n, 0);
	assert_int_equal(n, 1);
	float ex = d[0].points[1][0] - d[0].points[0][0], ey = d[0].points[1][1] - d[0].points[0][1];
	float fx = d[0].points[2][0] - d[0].points[1][0], fy = d[0].points[2][1] - d[0].points[1][1];
	float l1 = sqrtf(ex * ex + ey * ey), l2 = sqrtf(fx * fx + fy * fy);
	float longest = l1 > l2 ? l1 : l2, shortest = l1 > l2 ? l2 : l1;
	float ang = l1 > l2 ? atan2f(ey, ex) : atan2f(fy, fx);
	ang = ang < 0 ? ang + 3.14159265f : ang;
	ang = ang > 1.5707963f ? ang - 3.14159265f : ang;
	printf("# rotated: %.2f x %.2f at %.1f deg\n", longest, shortest, ang * 57.29578f);
	assert_float_equal(longest, 50, 2.5);
	assert_float_equal(shortest, 8, 1.5);
	assert_float_equal(fabsf(ang) * 57.29578f, 30, 3);
	assert_float_equal((d[0].x0 + d[0].x1) / 2, 48, 1);
	assert_float_equal((d[0].y0 + d[0].y1) / 2, 32, 1);

	/* Letterbox mapping: the same block through scale 0.5 + pad (8, 4). */
	/* Bad shapes: map larger than the configured input; count mismatch. */
	static float big[65 * 96];
	memset(big, 0, sizeof(big));
	run_synth(&cfg, big, 65, 96, d, &n, -EINVAL);
	const struct ruth_postprocessor *pp = ruth_postprocessor_find("dbnet");
	void *state = NULL;
	char err[256];
	assert_int_equal(pp->create(&state, &cfg, err, sizeof(err)), 0);
	void *scratch = malloc(pp->scratch_size(state, &cfg));
	const int64_t shape[4] = {1, 1, 64, 96};
	struct ruth_pp_tensor t = {"p", m, shape, 4, 64 * 96 - 1};
	struct ruth_letterbox map = {.scale_x = 1, .scale_y = 1, .src_width = 96, .src_height = 64};
	struct ruth_pp_params params = {.score_threshold = 0, .nms_iou = 0, .max_results = 16};
	assert_int_equal(pp->run(state, &t, 1, &map, &params, scratch, d, 16, &n), -EINVAL);
	assert_int_equal(pp->run(state, &t, 0, &map, &params, scratch, d, 16, &n), -EINVAL);
	/* Letterbox mapping: scale 0.5, pad (8, 4): model (14, 14) -> source (12, 20). */
	t.count = 64 * 96;
	memset(m, 0, sizeof(m));
	for (int y = 20; y < 30; y++)
		for (int x = 20; x < 60; x++)
			m[y * 96 + x] = 0.9f;
	map = (struct ruth_letterbox){.scale_x = 0.5f, .scale_y = 0.5f, .pad_x = 8, .pad_y = 4,
				      .src_width = 192, .src_height = 128};
	assert_int_equal(pp->run(state, &t, 1, &map, &params, scratch, d, 16, &n), 0);
	assert_int_equal(n, 1);
	assert_float_equal(d[0].x0, (14 - 8) / 0.5f, 1e-3);
	assert_float_equal(d[0].y0, (14 - 4) / 0.5f, 1e-3);
	assert_float_equal(d[0].x1, (66 - 8) / 0.5f, 1e-3);
	free(scratch);
	pp->destroy(state);
	/* Bad params name the key. */
	struct ruth_model_config c3 = cfg;
	c3.postprocess.n_params = 1;
	snprintf(c3.postprocess.params[0].key, sizeof(c3.postprocess.params[0].key), "box_thresh");
	snprintf(c3.postprocess.params[0].value, sizeof(c3.postprocess.params[0].value), "high");
	assert_int_equal(pp->create(&state, &c3, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "box_thresh"));
	snprintf(c3.postprocess.params[0].key, sizeof(c3.postprocess.params[0].key), "thresh");
	snprintf(c3.postprocess.params[0].value, sizeof(c3.postprocess.params[0].value), "1.5");
	assert_int_equal(pp->create(&state, &c3, err, sizeof(err)), -EINVAL);
	c3.expected_width = 0;
	c3.postprocess.n_params = 0;
	assert_int_equal(pp->create(&state, &c3, err, sizeof(err)), -EINVAL);
}

static int teardown(void **st)
{
	(void)st;
	pp_test_ort_close(&g_ort);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decoder_synthetic),
		cmocka_unit_test(test_text_image),
		cmocka_unit_test(test_no_text),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}

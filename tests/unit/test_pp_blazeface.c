/* test_pp_blazeface.c: the BlazeFace decoder on the real MediaPipe models run
 * with ONNX Runtime directly (no server): a face where the hand-checked
 * reference boxes (tests/data/processing/blazeface_*.txt) say, IoU >= 0.5;
 * nothing on images without faces; plus decoder unit checks on synthetic
 * tensors (anchor layout, weighted NMS, letterbox mapping, bad shapes). */
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

static void bf_config(struct ruth_model_config *cfg, uint32_t size, enum ruth_resize_mode resize)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->expected_width = cfg->expected_height = size;
	cfg->input.layout = RUTH_LAYOUT_NHWC;
	cfg->input.dtype = RUTH_DTYPE_F32;
	cfg->input.color = RUTH_COLOR_RGB;
	cfg->input.resize = resize;
	cfg->input.scale = 1.0f / 127.5f;
	cfg->input.mean[0] = cfg->input.mean[1] = cfg->input.mean[2] = 1.0f;
	cfg->input.std[0] = cfg->input.std[1] = cfg->input.std[2] = 1.0f;
	cfg->input.pad_value = 0;
	snprintf(cfg->postprocess.name, sizeof(cfg->postprocess.name), "blazeface");
	cfg->postprocess.score_threshold = 0.5f;
	cfg->postprocess.nms_iou = 0.3f;
	cfg->postprocess.max_detections = 16;
}

/* Decode frame `index` of `file`, run the model, decode faces into dets. */
static size_t detect(const char *model_rel, uint32_t size, enum ruth_resize_mode resize, const char *file,
		     int index, struct ruth_ipc_detection *dets, size_t max)
{
	struct ruth_model_config cfg;
	bf_config(&cfg, size, resize);
	const struct ruth_postprocessor *pp = ruth_postprocessor_find("blazeface");
	assert_non_null(pp);
	void *state = NULL;
	char err[256];
	assert_int_equal(pp->create(&state, &cfg, err, sizeof(err)), 0);
	void *scratch = malloc(pp->scratch_size(state, &cfg));
	struct pp_test_image img;
	assert_int_equal(pp_test_load_nv12(media(file), index, 0, &img), 0);
	struct ruth_tensor_spec spec;
	ruth_tensor_spec_from_config(&spec, &cfg);
	float *in = malloc(ruth_tensor_bytes(&spec));
	struct ruth_letterbox map;
	assert_int_equal(ruth_preprocess_nv12(&img.f, &spec, in, &map), 0);
	struct pp_test_ort *ort = NULL;
	assert_int_equal(pp_test_ort_open(&ort, src_path(model_rel)), 0);
	const int64_t shape[4] = {1, size, size, 3};
	struct ruth_pp_tensor outs[8];
	size_t n_outs = 0;
	assert_int_equal(pp_test_ort_run(ort, "input:0", in, shape, 4, outs, &n_outs), 0);
	assert_int_equal(n_outs, 4);
	struct ruth_pp_params params = {.score_threshold = 0.5f, .nms_iou = 0.3f, .max_results = (uint32_t)max};
	size_t n = 0;
	assert_int_equal(pp->run(state, outs, n_outs, &map, &params, scratch, dets, max, &n), 0);
	for (size_t i = 0; i < n; i++)
		printf("# %s %s %s: face %.1f %.1f %.1f %.1f score %.3f\n", model_rel + 7, file,
		       resize == RUTH_RESIZE_LETTERBOX ? "letterbox" : "stretch", dets[i].x0, dets[i].y0,
		       dets[i].x1, dets[i].y1, dets[i].score);
	if (!n)
		printf("# %s %s %s: no face\n", model_rel + 7, file, resize == RUTH_RESIZE_LETTERBOX ? "letterbox" : "stretch");
	pp_test_ort_close(&ort);
	free(in);
	pp_test_image_free(&img);
	free(scratch);
	pp->destroy(state);
	return n;
}

#define FRONT "models/blazeface-front/weights/face_detection_front_128x128.onnx"
#define BACK "models/blazeface-back/weights/face_detection_back_256x256.onnx"

static float best_iou(const struct ruth_ipc_detection *d, size_t n, const struct pp_test_box *ref)
{
	struct ruth_ipc_detection r = {.x0 = ref->x0, .y0 = ref->y0, .x1 = ref->x1, .y1 = ref->y1};
	float best = 0;
	for (size_t i = 0; i < n; i++) {
		float v = ruth_iou(&d[i], &r);
		best = v > best ? v : best;
	}
	return best;
}

static void check_ref(const char *model, uint32_t size, enum ruth_resize_mode rs, const char *file, int index,
		      const char *ref_file)
{
	struct pp_test_box ref[4];
	int nref = pp_test_read_boxes(src_path(ref_file), ref, 4);
	assert_true(nref >= 1);
	struct ruth_ipc_detection d[16];
	size_t n = detect(model, size, rs, file, index, d, 16);
	for (int k = 0; k < nref; k++) {
		float iou = best_iou(d, n, &ref[k]);
		printf("# reference %d: best IoU %.3f\n", k, iou);
		assert_true(iou >= 0.5f);
		/* Keypoints: 6 of them, inside the (slightly grown) reference box. */
		for (size_t i = 0; i < n; i++) {
			struct ruth_ipc_detection r = {.x0 = ref[k].x0, .y0 = ref[k].y0, .x1 = ref[k].x1,
						       .y1 = ref[k].y1};
			if (ruth_iou(&d[i], &r) < 0.5f)
				continue;
			assert_int_equal(d[i].n_points, 6);
			float gw = (ref[k].x1 - ref[k].x0) * 0.5f, gh = (ref[k].y1 - ref[k].y0) * 0.5f;
			for (int p = 0; p < 4; p++) { /* eyes, nose, mouth: inside the face */
				assert_true(d[i].points[p][0] >= ref[k].x0 - gw && d[i].points[p][0] <= ref[k].x1 + gw);
				assert_true(d[i].points[p][1] >= ref[k].y0 - gh && d[i].points[p][1] <= ref[k].y1 + gh);
			}
		}
	}
	/* No extra faces: every detection matches some reference. */
	for (size_t i = 0; i < n; i++) {
		float best = 0;
		for (int k = 0; k < nref; k++) {
			struct ruth_ipc_detection r = {.x0 = ref[k].x0, .y0 = ref[k].y0, .x1 = ref[k].x1,
						       .y1 = ref[k].y1};
			float v = ruth_iou(&d[i], &r);
			best = v > best ? v : best;
		}
		assert_true(best > 0.1f);
	}
}

/* messi5.jpg: the face is small (about 40 px in a 548x342 frame, 10 px at
 * 128): the front (short range) model does not see it in either resize mode,
 * the back 256 model does, letterbox and stretch. */
static void test_messi_back(void **st)
{
	(void)st;
	check_ref(BACK, 256, RUTH_RESIZE_LETTERBOX, "messi5.jpg", 0, "tests/data/processing/blazeface_messi5.txt");
	check_ref(BACK, 256, RUTH_RESIZE_STRETCH, "messi5.jpg", 0, "tests/data/processing/blazeface_messi5.txt");
}

/* Frame 120 of megamind.mp4: one large animated face; both models. */
static void test_megamind_frame(void **st)
{
	(void)st;
	check_ref(FRONT, 128, RUTH_RESIZE_LETTERBOX, "megamind.mp4", 120,
		  "tests/data/processing/blazeface_megamind_f120.txt");
	check_ref(BACK, 256, RUTH_RESIZE_LETTERBOX, "megamind.mp4", 120,
		  "tests/data/processing/blazeface_megamind_f120.txt");
}

static void test_no_face(void **st)
{
	(void)st;
	struct ruth_ipc_detection d[16];
	assert_int_equal(detect(FRONT, 128, RUTH_RESIZE_LETTERBOX, "fruits.jpg", 0, d, 16), 0);
	assert_int_equal(detect(BACK, 256, RUTH_RESIZE_LETTERBOX, "fruits.jpg", 0, d, 16), 0);
	assert_int_equal(detect(BACK, 256, RUTH_RESIZE_LETTERBOX, "building.jpg", 0, d, 16), 0);
}

/* Synthetic outputs: logits -50 everywhere except chosen anchors. */
struct synth {
	float s0[512], s1[384], b0[512 * 16], b1[384 * 16];
	int64_t sh_s0[3], sh_s1[3], sh_b0[3], sh_b1[3];
	struct ruth_pp_tensor t[4];
};

static void synth_init(struct synth *y)
{
	for (int i = 0; i < 512; i++)
		y->s0[i] = -50;
	for (int i = 0; i < 384; i++)
		y->s1[i] = -50;
	memset(y->b0, 0, sizeof(y->b0));
	memset(y->b1, 0, sizeof(y->b1));
	const int64_t a[3] = {1, 512, 1}, b[3] = {1, 384, 1}, c[3] = {1, 512, 16}, d[3] = {1, 384, 16};
	memcpy(y->sh_s0, a, sizeof(a));
	memcpy(y->sh_s1, b, sizeof(b));
	memcpy(y->sh_b0, c, sizeof(c));
	memcpy(y->sh_b1, d, sizeof(d));
	y->t[0] = (struct ruth_pp_tensor){"s0", y->s0, y->sh_s0, 3, 512};
	y->t[1] = (struct ruth_pp_tensor){"s1", y->s1, y->sh_s1, 3, 384};
	y->t[2] = (struct ruth_pp_tensor){"b0", y->b0, y->sh_b0, 3, 512 * 16};
	y->t[3] = (struct ruth_pp_tensor){"b1", y->b1, y->sh_b1, 3, 384 * 16};
}

static void test_decoder_synthetic(void **st)
{
	(void)st;
	struct ruth_model_config cfg;
	bf_config(&cfg, 128, RUTH_RESIZE_STRETCH);
	const struct ruth_postprocessor *pp = ruth_postprocessor_find("blazeface");
	void *state = NULL;
	char err[256];
	assert_int_equal(pp->create(&state, &cfg, err, sizeof(err)), 0);
	void *scratch = malloc(pp->scratch_size(state, &cfg));
	static struct synth y;
	synth_init(&y);
	/* 16x16 grid, row 3 col 5, anchor 1: index (3*16+5)*2+1 = 107, centre
	 * (5.5/16, 3.5/16) = (44, 28) model pixels; box 20x10 shifted by (+4, -2). */
	y.s0[107] = 3.0f;
	float *r = &y.b0[107 * 16];
	r[0] = 4, r[1] = -2, r[2] = 20, r[3] = 10;
	for (int k = 0; k < 6; k++)
		r[4 + 2 * k] = (float)k, r[5 + 2 * k] = -(float)k;
	/* 8x8 grid, row 6 col 1, anchor 4: index 512 + (6*8+1)*6+4 = 810, centre
	 * (1.5/8, 6.5/8) = (24, 104); two boxes there merged by weighted NMS. */
	y.s1[(6 * 8 + 1) * 6 + 4] = 2.0f;
	y.s1[(6 * 8 + 1) * 6 + 5] = 0.0f; /* sigmoid 0.5: at the threshold, kept */
	float *q1 = &y.b1[((6 * 8 + 1) * 6 + 4) * 16], *q2 = &y.b1[((6 * 8 + 1) * 6 + 5) * 16];
	q1[2] = q1[3] = 30;
	q2[0] = 2, q2[2] = q2[3] = 30;
	/* Source 256x512 stretched to 128x128: x * 2, y * 4. */
	struct ruth_letterbox map = {.scale_x = 0.5f, .scale_y = 0.25f, .src_width = 256, .src_height = 512};
	struct ruth_pp_params params = {.score_threshold = 0.5f, .nms_iou = 0.3f, .max_results = 16};
	struct ruth_ipc_detection d[16];
	size_t n = 0;
	assert_int_equal(pp->run(state, y.t, 4, &map, &params, scratch, d, 16, &n), 0);
	assert_int_equal(n, 2);
	/* Best first: sigmoid(3) = 0.9526. */
	assert_float_equal(d[0].score, 1.0f / (1.0f + expf(-3.0f)), 1e-5);
	assert_float_equal(d[0].x0, (48 - 10) * 2.0f, 1e-3);
	assert_float_equal(d[0].x1, (48 + 10) * 2.0f, 1e-3);
	assert_float_equal(d[0].y0, (26 - 5) * 4.0f, 1e-3);
	assert_float_equal(d[0].y1, (26 + 5) * 4.0f, 1e-3);
	assert_int_equal(d[0].n_points, 6);
	assert_float_equal(d[0].points[2][0], (44 + 2) * 2.0f, 1e-3);
	assert_float_equal(d[0].points[2][1], (28 - 2) * 4.0f, 1e-3);
	/* Weighted: centres 24 and 26 with weights 0.881 and 0.5. */
	float w1 = 1.0f / (1.0f + expf(-2.0f)), w2 = 0.5f;
	float cx = (24 * w1 + 26 * w2) / (w1 + w2);
	assert_float_equal(d[1].score, w1, 1e-5);
	assert_float_equal((d[1].x0 + d[1].x1) / 2, cx * 2.0f, 1e-2);
	assert_float_equal(d[1].y0, (104 - 15) * 4.0f, 1e-2);
	/* A non-finite regressor drops that anchor instead of reporting NaN boxes. */
	r[0] = NAN;
	assert_int_equal(pp->run(state, y.t, 4, &map, &params, scratch, d, 16, &n), 0);
	assert_int_equal(n, 1);
	assert_float_equal(d[0].score, w1, 1e-5);
	r[0] = 4;
	/* max_results cuts. */
	params.max_results = 1;
	assert_int_equal(pp->run(state, y.t, 4, &map, &params, scratch, d, 16, &n), 0);
	assert_int_equal(n, 1);
	/* Bad shapes: a box tensor missing, wrong anchor count, wrong last dim. */
	params.max_results = 16;
	assert_int_equal(pp->run(state, y.t, 3, &map, &params, scratch, d, 16, &n), -EINVAL);
	y.t[1].count = 383;
	assert_int_equal(pp->run(state, y.t, 4, &map, &params, scratch, d, 16, &n), -EINVAL);
	y.t[1].count = 384;
	y.sh_b1[2] = 17;
	assert_int_equal(pp->run(state, y.t, 4, &map, &params, scratch, d, 16, &n), -EINVAL);
	free(scratch);
	pp->destroy(state);
	/* Params: variant must agree with the input size; unknown keys are refused. */
	const char *cases[][3] = {{"variant", "front", "0"}, {"variant", "back", "variant back needs"},
				  {"variant", "side", "expected front or back"}, {"anchors", "x", "unknown parameter"}};
	for (size_t i = 0; i < 4; i++) {
		cfg.postprocess.n_params = 1;
		snprintf(cfg.postprocess.params[0].key, sizeof(cfg.postprocess.params[0].key), "%s", cases[i][0]);
		snprintf(cfg.postprocess.params[0].value, sizeof(cfg.postprocess.params[0].value), "%s", cases[i][1]);
		err[0] = 0;
		int rc = pp->create(&state, &cfg, err, sizeof(err));
		if (!strcmp(cases[i][2], "0")) {
			assert_int_equal(rc, 0);
			pp->destroy(state);
		} else {
			assert_int_equal(rc, -EINVAL);
			assert_non_null(strstr(err, cases[i][2]));
		}
	}
	cfg.postprocess.n_params = 0;
	/* create() needs the input size. */
	cfg.expected_width = 0;
	assert_int_equal(pp->create(&state, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "expected_resolution"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decoder_synthetic),
		cmocka_unit_test(test_messi_back),
		cmocka_unit_test(test_megamind_frame),
		cmocka_unit_test(test_no_face),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

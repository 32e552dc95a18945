/* test_model_template_handler.c: the onboarding template's handler.so (built
 * from templates/model/handler/handler.c) through the postprocessor ABI, the
 * way the runtime uses it: dlopen, ruth_handler_entry, create with the
 * template's model.yaml, run on synthetic output tensors whose expected
 * detections are computed by hand below. The end-to-end run on the real
 * model is `make check` (test_model_template_check). */
#include <dlfcn.h>
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
#include "ruth/model_config.h"

static const char *so_path;

typedef const struct ruth_postprocessor *(*entry_fn)(uint32_t);

struct outputs {
	float s16[512], s8[384], r16[512 * 16], r8[384 * 16];
	int64_t shape_s16[3], shape_s8[3], shape_r16[3], shape_r8[3];
	struct ruth_pp_tensor t[4];
};

static void outputs_init(struct outputs *o)
{
	for (int i = 0; i < 512; i++)
		o->s16[i] = -10.0f;
	for (int i = 0; i < 384; i++)
		o->s8[i] = -10.0f;
	memset(o->r16, 0, sizeof(o->r16));
	memset(o->r8, 0, sizeof(o->r8));
	const int64_t a[3] = { 1, 512, 1 }, b[3] = { 1, 384, 1 }, c[3] = { 1, 512, 16 }, d[3] = { 1, 384, 16 };
	memcpy(o->shape_s16, a, sizeof(a));
	memcpy(o->shape_s8, b, sizeof(b));
	memcpy(o->shape_r16, c, sizeof(c));
	memcpy(o->shape_r8, d, sizeof(d));
	/* The ONNX graph's order: scores 512, scores 384, boxes 512, boxes 384. */
	o->t[0] = (struct ruth_pp_tensor){ "Identity:0", o->s16, o->shape_s16, 3, 512 };
	o->t[1] = (struct ruth_pp_tensor){ "Identity_1:0", o->s8, o->shape_s8, 3, 384 };
	o->t[2] = (struct ruth_pp_tensor){ "Identity_2:0", o->r16, o->shape_r16, 3, 512 * 16 };
	o->t[3] = (struct ruth_pp_tensor){ "Identity_3:0", o->r8, o->shape_r8, 3, 384 * 16 };
}

static void set_box(float *r, float dx, float dy, float w, float h)
{
	r[0] = dx;
	r[1] = dy;
	r[2] = w;
	r[3] = h;
	for (int k = 0; k < 6; k++) {
		r[4 + 2 * k] = (float)k; /* keypoint k at anchor + (k, -k) */
		r[5 + 2 * k] = (float)-k;
	}
}

static void test_template_handler(void **state)
{
	(void)state;
	void *dl = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
	if (!dl)
		fail_msg("dlopen %s: %s", so_path, dlerror());
	entry_fn entry;
	*(void **)&entry = dlsym(dl, "ruth_handler_entry");
	assert_non_null(entry);
	/* Hidden visibility: only the entry point is exported. */
	assert_null(dlsym(dl, "h_run"));
	assert_null(entry(0));
	const struct ruth_postprocessor *pp = entry(RUTH_POSTPROCESSOR_ABI_VERSION);
	assert_non_null(pp);
	assert_int_equal(pp->version, RUTH_POSTPROCESSOR_ABI_VERSION);
	assert_non_null(pp->create);
	assert_non_null(pp->run);

	char yaml[1024], err[700];
	snprintf(yaml, sizeof(yaml), "%s/templates/model/model.yaml", getenv("RUTH_SOURCE_DIR"));
	struct ruth_model_config *cfg = malloc(sizeof(*cfg));
	assert_non_null(cfg);
	if (ruth_model_config_load(yaml, cfg, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(cfg->postprocess.name, "custom");
	void *st = NULL;
	assert_int_equal(pp->create(&st, cfg, err, sizeof(err)), 0);
	size_t scratch_size = pp->scratch_size(st, cfg);
	assert_true(scratch_size >= 896 * sizeof(struct ruth_ipc_detection));
	void *scratch = malloc(scratch_size);
	struct outputs *o = malloc(sizeof(*o));
	struct ruth_ipc_detection *dets = calloc(RUTH_IPC_MAX_DETECTIONS, sizeof(*dets));
	assert_non_null(scratch);
	assert_non_null(o);
	assert_non_null(dets);
	outputs_init(o);

	/* Anchor 174: 16x16 grid, row 5, col 7, first of 2. Centre in model
	 * pixels (7.5/16*128, 5.5/16*128) = (60, 44); offset (2, -3) -> (62, 41);
	 * size 20x24 -> box [52, 29, 72, 53]. */
	o->s16[174] = 5.0f;
	set_box(&o->r16[174 * 16], 2, -3, 20, 24);
	/* Anchor 175, same cell: the same box with a lower score, suppressed. */
	o->s16[175] = 3.0f;
	set_box(&o->r16[175 * 16], 2, -3, 20, 24);
	/* 8x8 grid, row 6, col 6, second of 6: index 512 + (6*8+6)*6 + 1 = 837,
	 * local 325. Centre (104, 104), size 10 -> box [99, 99, 109, 109]. */
	o->s8[325] = 4.0f;
	set_box(&o->r8[325 * 16], 0, 0, 10, 10);

	/* Source frame 256x256 stretched to 128x128: model px * 2. */
	const struct ruth_letterbox map = { .scale_x = 0.5f, .scale_y = 0.5f, .src_width = 256, .src_height = 256 };
	struct ruth_pp_params params = { .score_threshold = 0.6f, .nms_iou = 0.3f, .max_results = 32 };
	size_t n = 99;
	assert_int_equal(pp->run(st, o->t, 4, &map, &params, scratch, dets, RUTH_IPC_MAX_DETECTIONS, &n), 0);
	assert_int_equal(n, 2);
	const float want0[4] = { 104, 58, 144, 106 }, want1[4] = { 198, 198, 218, 218 };
	assert_true(fabsf(dets[0].x0 - want0[0]) < 1e-3f && fabsf(dets[0].y0 - want0[1]) < 1e-3f);
	assert_true(fabsf(dets[0].x1 - want0[2]) < 1e-3f && fabsf(dets[0].y1 - want0[3]) < 1e-3f);
	assert_true(fabsf(dets[0].score - 1.0f / (1.0f + expf(-5.0f))) < 1e-6f);
	assert_int_equal(dets[0].class_id, 0);
	assert_int_equal(dets[0].n_points, 6);
	/* keypoint 3 = anchor (60, 44) + (3, -3) = (63, 41) -> (126, 82) */
	assert_true(fabsf(dets[0].points[3][0] - 126.0f) < 1e-3f && fabsf(dets[0].points[3][1] - 82.0f) < 1e-3f);
	assert_true(fabsf(dets[1].x0 - want1[0]) < 1e-3f && fabsf(dets[1].y1 - want1[3]) < 1e-3f);
	assert_true(fabsf(dets[1].score - 1.0f / (1.0f + expf(-4.0f))) < 1e-6f);

	/* Per-request knobs: max_results and a threshold above both scores. */
	params.max_results = 1;
	assert_int_equal(pp->run(st, o->t, 4, &map, &params, scratch, dets, RUTH_IPC_MAX_DETECTIONS, &n), 0);
	assert_int_equal(n, 1);
	params.max_results = 32;
	params.score_threshold = 0.999f;
	assert_int_equal(pp->run(st, o->t, 4, &map, &params, scratch, dets, RUTH_IPC_MAX_DETECTIONS, &n), 0);
	assert_int_equal(n, 0);
	/* A box smaller than params.min_box_px (4 in model.yaml) is dropped. */
	params.score_threshold = 0.6f;
	set_box(&o->r8[325 * 16], 0, 0, 3, 10);
	assert_int_equal(pp->run(st, o->t, 4, &map, &params, scratch, dets, RUTH_IPC_MAX_DETECTIONS, &n), 0);
	assert_int_equal(n, 1);

	/* Outputs of another model are refused, not misread. */
	assert_int_equal(pp->run(st, o->t, 2, &map, &params, scratch, dets, RUTH_IPC_MAX_DETECTIONS, &n),
			 -EINVAL);
	o->shape_r8[2] = 15;
	assert_int_equal(pp->run(st, o->t, 4, &map, &params, scratch, dets, RUTH_IPC_MAX_DETECTIONS, &n),
			 -EINVAL);
	o->shape_r8[2] = 16;
	o->t[3].count = 383 * 16;
	assert_int_equal(pp->run(st, o->t, 4, &map, &params, scratch, dets, RUTH_IPC_MAX_DETECTIONS, &n),
			 -EINVAL);

	pp->destroy(st);
	free(scratch);
	free(o);
	free(dets);
	free(cfg);
	dlclose(dl);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s HANDLER_SO\n", argv[0]);
		return 2;
	}
	so_path = argv[1];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_handler),
	};
	return cmocka_run_group_tests_name("model_template_handler", tests, NULL, NULL);
}

/* test_model_result_json.c: the results line shared by ruth-infer and
 * ruth-ai-core, pinned as exact JSON text. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "result_json.h"

static char *to_text(const struct ruth_model_config *cfg, const struct ruth_ipc_infer_response *r)
{
	cJSON *j = ruth_result_json(cfg, r);
	assert_non_null(j);
	char *s = cJSON_PrintUnformatted(j);
	assert_non_null(s);
	cJSON_Delete(j);
	return s;
}

static void fill(struct ruth_ipc_infer_response *r, struct ruth_ipc_detection *dets)
{
	memset(r, 0, sizeof(*r));
	r->status = RUTH_IPC_OK;
	r->mode = RUTH_MODE_CPU;
	r->generation = 3;
	r->frame_seq = 42;
	r->frame_width = 1280;
	r->frame_height = 720;
	r->queue_us = 12;
	r->preprocess_us = 300;
	r->infer_us = 900;
	r->postprocess_us = 40;
	r->detections = dets;
	r->n_detections = 2;
	memset(dets, 0, 2 * sizeof(*dets));
	dets[0] = (struct ruth_ipc_detection){ .x0 = 10.5f, .y0 = 20.25f, .x1 = 110.125f, .y1 = 140.0f,
					       .score = 0.93751f, .class_id = 0, .n_points = 2 };
	dets[0].points[0][0] = 30.0f;
	dets[0].points[0][1] = 40.5f;
	dets[0].points[1][0] = 80.0f;
	dets[0].points[1][1] = 41.0f;
	dets[1] = (struct ruth_ipc_detection){ .x0 = 1, .y0 = 2, .x1 = 3, .y1 = 4, .score = 0.5f, .class_id = 5 };
}

static void test_with_labels(void **state)
{
	(void)state;
	struct ruth_model_config *cfg = calloc(1, sizeof(*cfg));
	cfg->output_schema.n_labels = 1;
	strcpy(cfg->output_schema.labels[0], "face");
	struct ruth_ipc_infer_response r;
	struct ruth_ipc_detection dets[2];
	fill(&r, dets);
	char *s = to_text(cfg, &r);
	assert_string_equal(
		s, "{\"status\":\"OK\",\"message\":\"\",\"mode\":\"cpu\","
		   "\"frame\":{\"generation\":3,\"seq\":42,\"width\":1280,\"height\":720},"
		   "\"timings_us\":{\"queue\":12,\"preprocess\":300,\"infer\":900,\"postprocess\":40},"
		   "\"detections\":[{\"box\":[10.5,20.25,110.13,140],\"score\":0.9375,\"class_id\":0,"
		   "\"label\":\"face\",\"points\":[[30,40.5],[80,41]]},"
		   /* class 5 is outside the label list: no label */
		   "{\"box\":[1,2,3,4],\"score\":0.5,\"class_id\":5}]}");
	free(s);
	/* Without a config there are never labels. */
	s = to_text(NULL, &r);
	assert_null(strstr(s, "label"));
	free(s);
	free(cfg);
}

/* 64-bit frame ids survive exactly (a double would round them). */
static void test_u64_exact(void **state)
{
	(void)state;
	struct ruth_ipc_infer_response r;
	struct ruth_ipc_detection dets[2];
	fill(&r, dets);
	r.generation = 1795598702483215769ull;
	r.frame_seq = UINT64_MAX;
	char *s = to_text(NULL, &r);
	assert_non_null(strstr(s, "\"frame\":{\"generation\":1795598702483215769,\"seq\":18446744073709551615,"));
	cJSON *back = cJSON_Parse(s);
	assert_non_null(back);
	cJSON_Delete(back);
	free(s);
}

static void test_error_status(void **state)
{
	(void)state;
	struct ruth_ipc_infer_response r;
	struct ruth_ipc_detection dets[2];
	fill(&r, dets);
	r.status = RUTH_IPC_E_FRAME_STALE;
	r.mode = RUTH_MODE_STUB;
	r.n_detections = 0;
	strcpy(r.message, "frame 42 \"overwritten\"");
	char *s = to_text(NULL, &r);
	assert_non_null(strstr(s, "\"status\":\"FRAME_STALE\",\"message\":\"frame 42 \\\"overwritten\\\"\","
				  "\"mode\":\"stub\""));
	assert_non_null(strstr(s, "\"detections\":[]"));
	free(s);
}

static void test_non_finite_is_null(void **state)
{
	(void)state;
	struct ruth_ipc_infer_response r;
	struct ruth_ipc_detection dets[2];
	fill(&r, dets);
	dets[1].score = NAN;
	dets[1].x0 = INFINITY;
	char *s = to_text(NULL, &r);
	assert_non_null(strstr(s, "{\"box\":[null,2,3,4],\"score\":null,\"class_id\":5}"));
	/* Still valid JSON. */
	cJSON *back = cJSON_Parse(s);
	assert_non_null(back);
	cJSON_Delete(back);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_with_labels),
		cmocka_unit_test(test_u64_exact),
		cmocka_unit_test(test_error_status),
		cmocka_unit_test(test_non_finite_is_null),
	};
	return cmocka_run_group_tests_name("model_result_json", tests, NULL, NULL);
}

/* test_model_result_json.c: the results line shared by ruth-infer and
 * ruth-ai-core (src/model/result_json.c, its single writer), pinned as exact
 * JSON text for hand-made responses. Every line is also parsed back with cJSON
 * to prove it is valid JSON. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "result_json.h"

/* The whole object as ruth-infer prints it (without its newline), checked to
 * parse as JSON. The caller frees the result. */
static char *to_text(const struct ruth_model_config *cfg, const struct ruth_ipc_infer_response *r)
{
	struct kjson_buf b = { 0 };
	assert_int_equal(ruth_result_json_object(&b, cfg, r), 0);
	assert_non_null(b.p);
	assert_int_equal(strlen(b.p), b.len);
	cJSON *back = cJSON_Parse(b.p);
	assert_non_null(back);
	assert_true(cJSON_IsObject(back));
	cJSON_Delete(back);
	return b.p;
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

#define HEAD_OK_CPU                                                                                  \
	"{\"status\":\"OK\",\"message\":\"\",\"mode\":\"cpu\","                                      \
	"\"frame\":{\"generation\":3,\"seq\":42,\"width\":1280,\"height\":720},"                     \
	"\"timings_us\":{\"queue\":12,\"preprocess\":300,\"infer\":900,\"postprocess\":40},"

static void test_with_labels(void **state)
{
	(void)state;
	struct ruth_model_config *cfg = calloc(1, sizeof(*cfg));
	assert_non_null(cfg);
	cfg->output_schema.n_labels = 1;
	strcpy(cfg->output_schema.labels[0], "face");
	struct ruth_ipc_infer_response r;
	struct ruth_ipc_detection dets[2];
	fill(&r, dets);
	char *s = to_text(cfg, &r);
	/* 110.125 -> 110.13 (half away from zero), 0.93751 -> 0.9375, 140.0 -> 140 */
	assert_string_equal(s, HEAD_OK_CPU
			    "\"detections\":[{\"box\":[10.5,20.25,110.13,140],\"score\":0.9375,\"class_id\":0,"
			    "\"label\":\"face\",\"points\":[[30,40.5],[80,41]]},"
			    /* class 5 is outside the label list: no label; no points: no key */
			    "{\"box\":[1,2,3,4],\"score\":0.5,\"class_id\":5}]}");
	free(s);
	/* Without a config there are never labels; nothing else changes. */
	s = to_text(NULL, &r);
	assert_string_equal(s, HEAD_OK_CPU
			    "\"detections\":[{\"box\":[10.5,20.25,110.13,140],\"score\":0.9375,\"class_id\":0,"
			    "\"points\":[[30,40.5],[80,41]]},"
			    "{\"box\":[1,2,3,4],\"score\":0.5,\"class_id\":5}]}");
	free(s);
	/* A negative class id never indexes the labels. */
	dets[1].class_id = -1;
	s = to_text(cfg, &r);
	assert_non_null(strstr(s, "{\"box\":[1,2,3,4],\"score\":0.5,\"class_id\":-1}]}"));
	free(s);
	free(cfg);
}

/* ruth_result_json_put writes the members only: no braces, no leading or
 * trailing comma, appended after whatever the buffer holds (the core's own
 * fields). */
static void test_put_members_only(void **state)
{
	(void)state;
	struct ruth_ipc_infer_response r;
	struct ruth_ipc_detection dets[2];
	fill(&r, dets);
	r.n_detections = 0;
	struct kjson_buf b = { 0 };
	assert_int_equal(KJSON_PUT_LIT(&b, "{\"camera\":\"c\","), 0);
	assert_int_equal(ruth_result_json_put(&b, NULL, &r), 0);
	assert_int_equal(KJSON_PUT_LIT(&b, ",\"x\":1}"), 0);
	assert_string_equal(b.p, "{\"camera\":\"c\",\"status\":\"OK\",\"message\":\"\",\"mode\":\"cpu\","
				 "\"frame\":{\"generation\":3,\"seq\":42,\"width\":1280,\"height\":720},"
				 "\"timings_us\":{\"queue\":12,\"preprocess\":300,\"infer\":900,\"postprocess\":40},"
				 "\"detections\":[],\"x\":1}");
	free(b.p);
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
	r.frame_width = UINT32_MAX;
	r.infer_us = UINT32_MAX;
	char *s = to_text(NULL, &r);
	assert_non_null(strstr(s, "\"frame\":{\"generation\":1795598702483215769,\"seq\":18446744073709551615,"
				  "\"width\":4294967295,"));
	assert_non_null(strstr(s, "\"infer\":4294967295,"));
	free(s);
}

static void test_error_status_and_message_escaping(void **state)
{
	(void)state;
	struct ruth_ipc_infer_response r;
	struct ruth_ipc_detection dets[2];
	fill(&r, dets);
	r.status = RUTH_IPC_E_FRAME_STALE;
	r.mode = RUTH_MODE_STUB;
	r.n_detections = 0;
	strcpy(r.message, "frame 42 \"overwritten\" C:\\x\n\t\r\x01\x1f end");
	char *s = to_text(NULL, &r);
	assert_string_equal(s, "{\"status\":\"FRAME_STALE\","
			       "\"message\":\"frame 42 \\\"overwritten\\\" C:\\\\x\\n\\t\\r\\u0001\\u001f end\","
			       "\"mode\":\"stub\","
			       "\"frame\":{\"generation\":3,\"seq\":42,\"width\":1280,\"height\":720},"
			       "\"timings_us\":{\"queue\":12,\"preprocess\":300,\"infer\":900,\"postprocess\":40},"
			       "\"detections\":[]}");
	free(s);
}

/* A response built in memory may fill message[] without a NUL: the writer
 * stops at RUTH_IPC_MESSAGE_MAX - 1 bytes and never reads past the field. */
static void test_message_unterminated(void **state)
{
	(void)state;
	struct ruth_ipc_infer_response r;
	struct ruth_ipc_detection dets[2];
	fill(&r, dets);
	memset(r.message, 'm', sizeof(r.message));
	char *s = to_text(NULL, &r);
	char want[RUTH_IPC_MESSAGE_MAX + 32];
	snprintf(want, sizeof(want), "\"message\":\"%.*s\",\"mode\"", (int)RUTH_IPC_MESSAGE_MAX - 1,
		 r.message);
	assert_non_null(strstr(s, want));
	free(s);
}

static void test_label_escaping(void **state)
{
	(void)state;
	struct ruth_model_config *cfg = calloc(1, sizeof(*cfg));
	assert_non_null(cfg);
	cfg->output_schema.n_labels = 6;
	strcpy(cfg->output_schema.labels[5], "say \"hi\"\\\x02");
	struct ruth_ipc_infer_response r;
	struct ruth_ipc_detection dets[2];
	fill(&r, dets);
	char *s = to_text(cfg, &r);
	/* labels[0] is empty: an empty label is still written */
	assert_non_null(strstr(s, "\"class_id\":0,\"label\":\"\",\"points\""));
	assert_non_null(strstr(s, "\"class_id\":5,\"label\":\"say \\\"hi\\\"\\\\\\u0002\"}]}"));
	free(s);
	free(cfg);
}

static void test_non_finite_is_null(void **state)
{
	(void)state;
	struct ruth_ipc_infer_response r;
	struct ruth_ipc_detection dets[2];
	fill(&r, dets);
	dets[1].score = NAN;
	dets[1].x0 = INFINITY;
	dets[1].y1 = -INFINITY;
	dets[0].points[1][0] = NAN;
	char *s = to_text(NULL, &r);
	assert_non_null(strstr(s, "\"points\":[[30,40.5],[null,41]]}"));
	assert_non_null(strstr(s, "{\"box\":[null,2,3,null],\"score\":null,\"class_id\":5}"));
	free(s);
}

/* Boxes and points to 2 decimals, scores to 4, half away from zero on the
 * float's exact value widened to double. */
static void test_rounding(void **state)
{
	(void)state;
	struct ruth_ipc_infer_response r;
	struct ruth_ipc_detection dets[2];
	fill(&r, dets);
	r.n_detections = 1;
	/* 0.125 is exact: a true tie, rounds up. 2.675f is 2.67499995...: down.
	 * -1.005f is -1.00499999...: -1. -0.001 rounds to zero, printed "0". */
	dets[0] = (struct ruth_ipc_detection){ .x0 = 0.125f, .y0 = 2.675f, .x1 = -1.005f, .y1 = -0.001f,
					       .score = 0.99995f, .class_id = 3, .n_points = 3 };
	/* 1e20 keeps its magnitude ("%.9g"); 1919.999 -> 1920; -3.14159 -> -3.14 */
	dets[0].points[0][0] = 1e20f;
	dets[0].points[0][1] = 1919.999f;
	dets[0].points[1][0] = -3.14159f;
	dets[0].points[1][1] = 0.005f; /* 0.00499999989...: 0 */
	dets[0].points[2][0] = 100000.25f;
	dets[0].points[2][1] = 0.015f; /* 0.0149999997: 0.01 */
	char *s = to_text(NULL, &r);
	assert_non_null(strstr(s, "\"detections\":[{\"box\":[0.13,2.67,-1,0],\"score\":0.9999,\"class_id\":3,"
				  "\"points\":[[1.00000002e+20,1920],[-3.14,0],[100000.25,0.01]]}]}"));
	free(s);
	/* Scores: 4 decimals. 0.00004 -> 0, 0.12345 (float 0.123450003) -> 0.1235. */
	dets[0].score = 0.00004f;
	dets[0].n_points = 0;
	s = to_text(NULL, &r);
	assert_non_null(strstr(s, "\"score\":0,\"class_id\":3}]}"));
	free(s);
	dets[0].score = 0.12345f;
	s = to_text(NULL, &r);
	assert_non_null(strstr(s, "\"score\":0.1235,\"class_id\":3}]}"));
	free(s);
}

/* Counts beyond the IPC limits are clamped; no array means no detections. */
static void test_limits(void **state)
{
	(void)state;
	struct ruth_ipc_infer_response r;
	struct ruth_ipc_detection dets[2];
	fill(&r, dets);
	r.n_detections = 1;
	dets[0].n_points = 1000;
	for (unsigned k = 0; k < RUTH_IPC_MAX_POINTS; k++)
		dets[0].points[k][0] = dets[0].points[k][1] = (float)k;
	char *s = to_text(NULL, &r);
	assert_non_null(strstr(s, "\"points\":[[0,0],[1,1],[2,2],[3,3],[4,4],[5,5],[6,6],[7,7]]}]}"));
	free(s);

	struct ruth_ipc_detection *many = calloc(RUTH_IPC_MAX_DETECTIONS + 1, sizeof(*many));
	assert_non_null(many);
	r.detections = many;
	r.n_detections = RUTH_IPC_MAX_DETECTIONS + 1;
	s = to_text(NULL, &r);
	cJSON *back = cJSON_Parse(s);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(back, "detections")), RUTH_IPC_MAX_DETECTIONS);
	cJSON_Delete(back);
	free(s);
	free(many);

	r.detections = NULL;
	r.n_detections = 5;
	s = to_text(NULL, &r);
	assert_non_null(strstr(s, "\"detections\":[]}"));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_with_labels),
		cmocka_unit_test(test_put_members_only),
		cmocka_unit_test(test_u64_exact),
		cmocka_unit_test(test_error_status_and_message_escaping),
		cmocka_unit_test(test_message_unterminated),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_non_finite_is_null),
		cmocka_unit_test(test_rounding),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests_name("model_result_json", tests, NULL, NULL);
}

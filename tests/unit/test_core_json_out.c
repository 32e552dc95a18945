/* Unit tests of the cJSON tree serializer (src/core/json_out.c) and the latency
 * percentiles (src/core/lat_stats.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "json_out.h"
#include "lat_stats.h"

static void test_round_trip(void **state)
{
	(void)state;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "camera", "lobby \"east\"\n\\\x01");
	cJSON_AddNumberToObject(o, "int", 42);
	cJSON_AddNumberToObject(o, "neg", -7);
	cJSON_AddNumberToObject(o, "zero", 0);
	cJSON_AddNumberToObject(o, "big", 9007199254740991.0);
	cJSON_AddNumberToObject(o, "frac", 0.8801);
	cJSON_AddNumberToObject(o, "box", 222.77);
	cJSON_AddNumberToObject(o, "tiny", 1.5e-7);
	cJSON_AddRawToObject(o, "generation", "1795598548378049441");
	cJSON_AddNullToObject(o, "pts_us");
	cJSON_AddBoolToObject(o, "ok", 1);
	cJSON_AddBoolToObject(o, "no", 0);
	cJSON *arr = cJSON_AddArrayToObject(o, "dets");
	cJSON *d = cJSON_CreateObject();
	cJSON_AddItemToObject(d, "points", cJSON_CreateArray());
	cJSON_AddItemToArray(arr, d);
	cJSON_AddItemToArray(arr, cJSON_CreateNumber(-0.5));
	cJSON_AddObjectToObject(o, "empty");

	struct kjson_buf b = { 0 };
	assert_int_equal(json_out(&b, o), 0);
	assert_non_null(strstr(b.p, "\"int\":42,"));
	assert_non_null(strstr(b.p, "\"neg\":-7,"));
	assert_non_null(strstr(b.p, "\"frac\":0.8801,"));
	assert_non_null(strstr(b.p, "\"box\":222.77,"));
	assert_non_null(strstr(b.p, "\"generation\":1795598548378049441,"));
	assert_non_null(strstr(b.p, "\"big\":9007199254740991,"));
	assert_non_null(strstr(b.p, "\"dets\":[{\"points\":[]},-0.5]"));
	assert_non_null(strstr(b.p, "\"empty\":{}"));
	assert_null(strchr(b.p, '\n'));

	cJSON *back = cJSON_Parse(b.p);
	assert_non_null(back);
	assert_string_equal(cJSON_GetObjectItem(back, "camera")->valuestring, "lobby \"east\"\n\\\x01");
	assert_true(cJSON_GetObjectItem(back, "frac")->valuedouble == 0.8801);
	assert_true(cJSON_GetObjectItem(back, "tiny")->valuedouble == 1.5e-7);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(back, "pts_us")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(back, "ok")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(back, "no")));
	cJSON_Delete(back);

	/* appending: a second object follows the first */
	size_t first = b.len;
	assert_int_equal(json_out(&b, cJSON_GetObjectItem(o, "dets")), 0);
	assert_string_equal(b.p + first, "[{\"points\":[]},-0.5]");
	free(b.p);
	cJSON_Delete(o);
}

static void test_percentiles(void **state)
{
	(void)state;
	struct lat_stats *s = calloc(1, sizeof(*s));
	assert_int_equal(lat_stats_percentile(s, 50), 0);
	for (uint32_t i = 1; i <= 100; i++)
		lat_stats_add(s, i);
	assert_int_equal(lat_stats_percentile(s, 50), 50);
	assert_int_equal(lat_stats_percentile(s, 95), 95);
	assert_int_equal(lat_stats_percentile(s, 100), 100);
	/* the window keeps the newest LAT_STATS_WINDOW samples */
	for (uint32_t i = 0; i < LAT_STATS_WINDOW; i++)
		lat_stats_add(s, 1000);
	assert_int_equal(lat_stats_percentile(s, 0), 1000);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_percentiles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

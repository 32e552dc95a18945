/* test_pp_handler.c: the custom handler loader (dlopen + ruth_handler_entry +
 * version check, with clear errors) and the shared helpers: the built-in
 * table, IoU, stable sort, greedy NMS. */
#include <errno.h>
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "postprocess.h"
#include "pp_internal.h"

static int load(const char *file, const struct ruth_postprocessor **pp, void **h, char *err, size_t errlen)
{
	struct ruth_model_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.postprocess.name, sizeof(cfg.postprocess.name), "custom");
	if (file)
		snprintf(cfg.postprocess.handler, sizeof(cfg.postprocess.handler), "%s/%s", PP_MOD_DIR, file);
	err[0] = 0;
	int rc = ruth_postprocessor_load_handler(&cfg, pp, h, err, errlen);
	printf("# %s: rc %d: %s\n", file ? file : "(none)", rc, err);
	return rc;
}

static void test_good_handler(void **st)
{
	(void)st;
	const struct ruth_postprocessor *pp = NULL;
	void *h = NULL;
	char err[512];
	assert_int_equal(load("libpp_mod_good.so", &pp, &h, err, sizeof(err)), 0);
	assert_non_null(pp);
	assert_non_null(h);
	assert_string_equal(pp->name, "test-handler");
	const float v = 0.75f;
	const int64_t shape[1] = {1};
	struct ruth_pp_tensor t = {"o", &v, shape, 1, 1};
	struct ruth_letterbox map = {0};
	struct ruth_pp_params params = {0};
	struct ruth_ipc_detection d[2];
	size_t n = 0;
	assert_int_equal(pp->run(NULL, &t, 1, &map, &params, NULL, d, 2, &n), 0);
	assert_int_equal(n, 1);
	assert_float_equal(d[0].score, 0.75f, 0);
	assert_int_equal(d[0].class_id, 7);
	dlclose(h);
}

static void test_bad_handlers(void **st)
{
	(void)st;
	const struct ruth_postprocessor *pp = (void *)1;
	void *h = (void *)1;
	char err[512];
	assert_int_equal(load("libpp_mod_missing.so", &pp, &h, err, sizeof(err)), -ENOENT);
	assert_null(pp);
	assert_null(h);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(load(NULL, &pp, &h, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "postprocess.handler"));
	assert_int_equal(load("libpp_mod_no_entry.so", &pp, &h, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "ruth_handler_entry not found"));
	assert_int_equal(load("libpp_mod_null.so", &pp, &h, err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "returned NULL"));
	assert_int_equal(load("libpp_mod_too_new.so", &pp, &h, err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "version 2 is not supported"));
	assert_null(pp);
	assert_null(h);
	/* Not a shared object at all. */
	assert_int_equal(load("../../CMakeCache.txt", &pp, &h, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "dlopen failed"));
}

static void test_builtin_table(void **st)
{
	(void)st;
	const char *names[] = {"blazeface", "dbnet", "yolo", "classification"};
	for (size_t i = 0; i < 4; i++) {
		const struct ruth_postprocessor *pp = ruth_postprocessor_find(names[i]);
		assert_non_null(pp);
		assert_string_equal(pp->name, names[i]);
		assert_int_equal(pp->version, RUTH_POSTPROCESSOR_ABI_VERSION);
		assert_non_null(pp->create);
		assert_non_null(pp->destroy);
		assert_non_null(pp->scratch_size);
		assert_non_null(pp->run);
	}
	assert_null(ruth_postprocessor_find("custom"));
	assert_null(ruth_postprocessor_find("BlazeFace"));
	assert_null(ruth_postprocessor_find(NULL));
}

static struct ruth_ipc_detection box(float x0, float y0, float x1, float y1, float s, int c)
{
	struct ruth_ipc_detection d;
	memset(&d, 0, sizeof(d));
	d.x0 = x0, d.y0 = y0, d.x1 = x1, d.y1 = y1, d.score = s, d.class_id = c;
	return d;
}

static void test_iou_sort_nms(void **st)
{
	(void)st;
	struct ruth_ipc_detection a = box(0, 0, 10, 10, 1, 0), b = box(5, 0, 15, 10, 1, 0), c = box(20, 20, 30, 30, 1, 0);
	assert_float_equal(ruth_iou(&a, &b), 50.0f / 150.0f, 1e-6);
	assert_float_equal(ruth_iou(&a, &a), 1.0f, 1e-6);
	assert_float_equal(ruth_iou(&a, &c), 0.0f, 0);
	struct ruth_ipc_detection z = box(5, 5, 5, 5, 1, 0);
	assert_float_equal(ruth_iou(&z, &z), 0.0f, 0);
	/* Stable sort: equal scores keep their order (class ids tell). */
	struct ruth_ipc_detection d[6] = {box(0, 0, 1, 1, 0.5f, 1), box(0, 0, 1, 1, 0.9f, 2), box(0, 0, 1, 1, 0.5f, 3),
					  box(0, 0, 1, 1, 0.7f, 4), box(0, 0, 1, 1, 0.5f, 5), box(0, 0, 1, 1, 0.95f, 6)};
	ruth_sort_by_score(d, 6);
	const int order[6] = {6, 2, 4, 1, 3, 5};
	for (int i = 0; i < 6; i++)
		assert_int_equal(d[i].class_id, order[i]);
	/* NMS: overlapping lower boxes go, far ones stay, max_keep cuts. */
	struct ruth_ipc_detection e[4] = {box(0, 0, 10, 10, 0.9f, 0), box(1, 0, 11, 10, 0.8f, 1),
					  box(50, 50, 60, 60, 0.7f, 0), box(0, 1, 10, 11, 0.6f, 0)};
	assert_int_equal(ruth_nms(e, 4, 0.5f, 10), 2);
	assert_float_equal(e[0].score, 0.9f, 0);
	assert_float_equal(e[1].score, 0.7f, 0);
	struct ruth_ipc_detection f[3] = {box(0, 0, 10, 10, 0.9f, 0), box(50, 50, 60, 60, 0.7f, 0),
					  box(100, 0, 110, 10, 0.6f, 0)};
	assert_int_equal(ruth_nms(f, 3, 0.5f, 2), 2);
	assert_int_equal(ruth_nms(f, 0, 0.5f, 2), 0);
}

/* The merge sort decoders use for long candidate lists equals the stable
 * insertion sort, ties included. */
static void test_merge_sort(void **st)
{
	(void)st;
	static struct ruth_ipc_detection a[1000], b[1000], tmp[1000];
	for (size_t n = 0; n <= 1000; n += n < 40 ? 1 : 137) {
		uint32_t seed = 12345u + (uint32_t)n;
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			a[i] = box(0, 0, 1, 1, (float)((seed >> 16) % 17) / 16.0f, (int)i);
		}
		memcpy(b, a, n * sizeof(a[0]));
		ruth_sort_by_score(a, n);
		ruth_pp__sort_by_score_tmp(b, n, tmp);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(a[i].class_id, b[i].class_id);
			if (i)
				assert_true(b[i - 1].score >= b[i].score);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_handler),
		cmocka_unit_test(test_bad_handlers),
		cmocka_unit_test(test_builtin_table),
		cmocka_unit_test(test_iou_sort_nms),
		cmocka_unit_test(test_merge_sort),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_model_config.c: model.yaml loading and validation, weights checks and
 * SHA-256.
 *
 * The bad fixtures are data: every file in tests/data/models/bad/ starts with
 * "# expect: <text>" and must fail to load with an error containing that text
 * (file:line: field '...': what). Adding a case is adding a file; a file
 * without an expect line fails the test. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ruth/model_config.h"
#include "sha256.h"

static const char *src_dir(void)
{
	const char *s = getenv("RUTH_SOURCE_DIR");
	return s ? s : RUTH_SOURCE_DIR;
}

static struct ruth_model_config *load_ok(const char *rel)
{
	char path[1024], err[700];
	snprintf(path, sizeof(path), "%s/%s", src_dir(), rel);
	struct ruth_model_config *c = malloc(sizeof(*c));
	assert_non_null(c);
	int r = ruth_model_config_load(path, c, err, sizeof(err));
	if (r != 0)
		fail_msg("%s: %d %s", rel, r, err);
	return c;
}

static void test_bad_fixtures(void **state)
{
	(void)state;
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/tests/data/models/bad", src_dir());
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct ruth_model_config *c = malloc(sizeof(*c));
	assert_non_null(c);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 6 || strcmp(e->d_name + l - 5, ".yaml") != 0)
			continue;
		char path[1400], line[512] = "", err[700];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "r");
		assert_non_null(f);
		assert_non_null(fgets(line, sizeof(line), f));
		fclose(f);
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "# expect: ", 10) != 0)
			fail_msg("%s has no '# expect: ' first line", e->d_name);
		const char *expect = line + 10;
		memset(err, 0, sizeof(err));
		int r = ruth_model_config_load(path, c, err, sizeof(err));
		if (r >= 0)
			fail_msg("%s loaded but should fail with: %s", e->d_name, expect);
		assert_int_equal(r, -EINVAL);
		if (!strstr(err, expect))
			fail_msg("%s:\n  expected: %s\n  got:      %s", e->d_name, expect, err);
		/* Every message starts with the file it is about. */
		if (strncmp(err, path, strlen(path)) != 0)
			fail_msg("%s: error does not name the file: %s", e->d_name, err);
		n++;
	}
	closedir(d);
	free(c);
	/* The fixture set must not silently shrink. */
	assert_true(n >= 35);
}

static void test_missing_file(void **state)
{
	(void)state;
	struct ruth_model_config *c = malloc(sizeof(*c));
	char err[700];
	assert_int_equal(ruth_model_config_load("/nonexistent/ruth/model.yaml", c, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/ruth/model.yaml"));
	free(c);
}

static void test_good_full(void **state)
{
	(void)state;
	struct ruth_model_config *c = load_ok("tests/data/models/good/full/model.yaml");
	char want_dir[1024];
	snprintf(want_dir, sizeof(want_dir), "%s/tests/data/models/good/full", src_dir());
	char *real = realpath(want_dir, NULL);
	assert_non_null(real);
	assert_string_equal(c->dir, real);
	assert_string_equal(c->model_id, "fixture-full");
	assert_string_equal(c->model_name, "Fixture with every field");
	assert_string_equal(c->model_version, "2.1.0");
	assert_int_equal(c->n_tasks, 2);
	assert_string_equal(c->supported_tasks[1], "landmarks");
	assert_string_equal(c->input_format, "NV12");
	assert_int_equal(c->expected_width, 320);
	assert_int_equal(c->expected_height, 240);
	assert_int_equal(c->resources.gpu, RUTH_GPU_REQUIRED);
	assert_int_equal(c->resources.gpu_memory_mb, 2048);
	assert_int_equal(c->resources.concurrency, 3);
	assert_int_equal(c->resources.intra_op_threads, 2);
	assert_int_equal(c->resources.queue_depth, 16);
	assert_string_equal(c->output_schema.type, "detections");
	assert_int_equal(c->output_schema.n_labels, 2);
	assert_string_equal(c->output_schema.labels[1], "mask");
	assert_int_equal(c->output_schema.n_keypoints, 3);
	assert_string_equal(c->output_schema.keypoint_names[2], "c");
	assert_int_equal(c->backend, RUTH_BACKEND_ONNX);
	char want[1200];
	snprintf(want, sizeof(want), "%s/weights/missing.onnx", real);
	assert_string_equal(c->weights, want);
	assert_int_equal(strlen(c->weights_sha256), 64);
	assert_string_equal(c->input.tensor_name, "input:0");
	assert_int_equal(c->input.layout, RUTH_LAYOUT_NHWC);
	assert_int_equal(c->input.dtype, RUTH_DTYPE_U8);
	assert_int_equal(c->input.color, RUTH_COLOR_BGR);
	assert_int_equal(c->input.resize, RUTH_RESIZE_LETTERBOX);
	assert_true(c->input.scale == 0.5f);
	assert_true(c->input.mean[2] == 3.0f);
	assert_true(c->input.std[1] == 5.5f);
	assert_int_equal(c->input.pad_value, 114);
	assert_string_equal(c->postprocess.name, "custom");
	snprintf(want, sizeof(want), "%s/handler/handler.so", real);
	assert_string_equal(c->postprocess.handler, want);
	assert_true(c->postprocess.score_threshold == 0.25f);
	assert_true(c->postprocess.nms_iou == 0.7f);
	assert_int_equal(c->postprocess.max_detections, 256);
	assert_int_equal(c->postprocess.n_params, 3);
	assert_string_equal(ruth_model_param(c, "variant"), "front");
	assert_string_equal(ruth_model_param(c, "anchors"), "896");
	assert_string_equal(ruth_model_param(c, "empty"), "");
	assert_null(ruth_model_param(c, "nope"));
	/* The weights named there do not exist: the check says so by name. */
	char err[700];
	assert_int_equal(ruth_model_config_check_weights(c, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "weights/missing.onnx"));
	assert_non_null(strstr(err, "not found"));
	free(real);
	free(c);
}

static void test_good_minimal_defaults(void **state)
{
	(void)state;
	struct ruth_model_config *c = load_ok("tests/data/models/good/minimal-stub/model.yaml");
	assert_string_equal(c->model_id, "fixture-minimal");
	assert_int_equal(c->backend, RUTH_BACKEND_STUB);
	assert_string_equal(c->weights, "");
	assert_int_equal(c->resources.gpu, RUTH_GPU_PREFERRED);
	assert_int_equal(c->resources.concurrency, 0);
	assert_int_equal(c->resources.queue_depth, 0);
	assert_int_equal(c->input.layout, RUTH_LAYOUT_NCHW);
	assert_int_equal(c->input.dtype, RUTH_DTYPE_F32);
	assert_int_equal(c->input.color, RUTH_COLOR_RGB);
	assert_int_equal(c->input.resize, RUTH_RESIZE_STRETCH);
	assert_true(c->input.scale == 1.0f);
	assert_true(c->input.mean[0] == 0.0f && c->input.std[2] == 1.0f);
	assert_string_equal(c->input.tensor_name, "");
	assert_string_equal(c->postprocess.name, "classification");
	assert_true(c->postprocess.score_threshold == 0.5f);
	assert_true(fabsf(c->postprocess.nms_iou - 0.45f) < 1e-6f);
	assert_int_equal(c->postprocess.max_detections, 100);
	assert_int_equal(c->output_schema.n_keypoints, 0);
	char err[700];
	/* The stub backend needs no weights. */
	assert_int_equal(ruth_model_config_check_weights(c, err, sizeof(err)), 0);
	free(c);
}

/* The shipped model folders load, and their weights (fetched by
 * scripts/setup) match the pinned SHA-256. */
static void test_repo_models(void **state)
{
	(void)state;
	char err[700];
	struct ruth_model_config *c = load_ok("models/blazeface-front/model.yaml");
	assert_string_equal(c->model_id, "blazeface-front");
	assert_int_equal(c->expected_width, 128);
	assert_int_equal(c->input.layout, RUTH_LAYOUT_NHWC);
	assert_string_equal(c->input.tensor_name, "input:0");
	assert_string_equal(c->postprocess.name, "blazeface");
	assert_string_equal(ruth_model_param(c, "variant"), "front");
	assert_int_equal(c->output_schema.n_keypoints, 6);
	if (ruth_model_config_check_weights(c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	free(c);

	c = load_ok("models/blazeface-back/model.yaml");
	assert_int_equal(c->expected_width, 256);
	assert_string_equal(ruth_model_param(c, "variant"), "back");
	if (ruth_model_config_check_weights(c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	free(c);

	c = load_ok("models/ppocr-det/model.yaml");
	assert_string_equal(c->output_schema.type, "text_regions");
	assert_int_equal(c->output_schema.n_keypoints, 4);
	assert_int_equal(c->input.layout, RUTH_LAYOUT_NCHW);
	assert_int_equal(c->input.color, RUTH_COLOR_BGR);
	assert_int_equal(c->input.resize, RUTH_RESIZE_LETTERBOX);
	assert_string_equal(c->input.tensor_name, "x");
	assert_string_equal(c->postprocess.name, "dbnet");
	assert_string_equal(ruth_model_param(c, "unclip_ratio"), "1.5");
	if (ruth_model_config_check_weights(c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	free(c);
}

/* A model folder in a temp dir whose weights are a small file we control. */
static void test_check_weights(void **state)
{
	(void)state;
	char dir[] = "/tmp/ruth-model-weights-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256], err[700];
	snprintf(path, sizeof(path), "%s/weights", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/weights/w.onnx", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("abc", f);
	fclose(f);
	const char *yaml_fmt = "model_id: w\nmodel_name: w\nmodel_version: \"1\"\nsupported_tasks: [t]\n"
			       "input_format: NV12\nexpected_resolution: {width: 8, height: 8}\n"
			       "output_schema: {type: detections}\n"
			       "runtime: {backend: onnxruntime, weights: %s, %s postprocess: {name: yolo}}\n";
	/* SHA-256("abc"), FIPS 180-2 appendix B.1. */
	const char *abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	struct {
		const char *weights;
		const char *sha;
		int expect;
		const char *msg;
	} cases[] = {
		{ "weights/w.onnx", "", 0, NULL },
		{ "weights/w.onnx", abc, 0, NULL },
		{ "weights/w.onnx", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ae", -EBADMSG,
		  "does not match" },
		{ "weights/none.onnx", "", -ENOENT, "not found" },
		{ "weights", "", -EINVAL, "not a regular file" },
	};
	struct ruth_model_config *c = malloc(sizeof(*c));
	char yaml[256];
	snprintf(yaml, sizeof(yaml), "%s/model.yaml", dir);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char sha[100] = "";
		if (cases[i].sha[0])
			snprintf(sha, sizeof(sha), "weights_sha256: %s,", cases[i].sha);
		f = fopen(yaml, "w");
		assert_non_null(f);
		fprintf(f, yaml_fmt, cases[i].weights, sha);
		fclose(f);
		int r = ruth_model_config_load(yaml, c, err, sizeof(err));
		if (r != 0)
			fail_msg("case %zu: %s", i, err);
		r = ruth_model_config_check_weights(c, err, sizeof(err));
		if (r != cases[i].expect)
			fail_msg("case %zu: got %d (%s)", i, r, err);
		if (cases[i].msg && !strstr(err, cases[i].msg))
			fail_msg("case %zu: message '%s' lacks '%s'", i, err, cases[i].msg);
	}
	free(c);
	unlink(yaml);
	unlink(path);
	snprintf(path, sizeof(path), "%s/weights", dir);
	rmdir(path);
	rmdir(dir);
}

static void hex(const uint8_t d[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_sha256_vectors(void **state)
{
	(void)state;
	/* FIPS 180-2 / NIST examples. */
	struct {
		const char *msg;
		const char *digest;
	} v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};
	char out[65];
	uint8_t d[32];
	for (size_t i = 0; i < 3; i++) {
		struct ruth__sha256 s;
		ruth__sha256_init(&s);
		/* Fed one byte at a time to exercise block boundaries. */
		for (const char *p = v[i].msg; *p; p++)
			ruth__sha256_update(&s, p, 1);
		ruth__sha256_final(&s, d);
		hex(d, out);
		assert_string_equal(out, v[i].digest);
	}
	/* One million 'a'. */
	struct ruth__sha256 s;
	ruth__sha256_init(&s);
	static char a[1000];
	memset(a, 'a', sizeof(a));
	for (int i = 0; i < 1000; i++)
		ruth__sha256_update(&s, a, sizeof(a));
	ruth__sha256_final(&s, d);
	hex(d, out);
	assert_string_equal(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	assert_int_equal(ruth__sha256_file("/nonexistent/ruth", out), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_fixtures),        cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_good_full),           cmocka_unit_test(test_good_minimal_defaults),
		cmocka_unit_test(test_repo_models),         cmocka_unit_test(test_check_weights),
		cmocka_unit_test(test_sha256_vectors),
	};
	return cmocka_run_group_tests_name("model_config", tests, NULL, NULL);
}

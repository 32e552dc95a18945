/* test_model_discovery.c: one scan of a models root. Builds a root in a
 * mktemp folder with valid, invalid, duplicate and non-model entries, then
 * scans the real models/ folder of the repository. */
#include <errno.h>
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

static const char *src_dir(void)
{
	const char *s = getenv("RUTH_SOURCE_DIR");
	return s ? s : RUTH_SOURCE_DIR;
}

static void write_model(const char *root, const char *folder, const char *id, const char *extra)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, folder);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/%s/model.yaml", root, folder);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
		"model_id: %s\nmodel_name: %s model\nmodel_version: \"1\"\nsupported_tasks: [t]\n"
		"input_format: NV12\nexpected_resolution: {width: 8, height: 8}\n"
		"output_schema: {type: detections}\nruntime: {backend: stub, postprocess: {name: yolo}}\n%s",
		id, id, extra);
	fclose(f);
}

static void rm_rf(const char *path)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

static void test_scan_mixed_root(void **state)
{
	(void)state;
	char root[] = "/tmp/ruth-discovery-XXXXXX";
	assert_non_null(mkdtemp(root));
	write_model(root, "a-zeta", "zeta", "");
	write_model(root, "b-alpha", "alpha", "");
	write_model(root, "c-broken", "broken", "bogus_field: 1\n");
	write_model(root, "d-dup", "zeta", ""); /* sorts after a-zeta: it loses */
	write_model(root, ".hidden", "hidden", "");
	char path[512];
	snprintf(path, sizeof(path), "%s/e-empty-folder", root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/notes.txt", root);
	FILE *f = fopen(path, "w");
	fputs("not a model\n", f);
	fclose(f);

	struct ruth_model_list l;
	assert_int_equal(ruth_models_discover(root, &l), 0);
	assert_int_equal(l.n_models, 2);
	assert_string_equal(l.models[0].model_id, "alpha");
	assert_string_equal(l.models[1].model_id, "zeta");
	assert_non_null(strstr(l.models[1].dir, "/a-zeta"));
	assert_int_equal(l.n_invalid, 2);
	assert_non_null(strstr(l.invalid[0].path, "c-broken/model.yaml"));
	assert_non_null(strstr(l.invalid[0].error, ":9: field 'bogus_field': unknown field"));
	assert_non_null(strstr(l.invalid[1].path, "d-dup/model.yaml"));
	assert_non_null(strstr(l.invalid[1].error, "duplicate model_id 'zeta'"));
	assert_non_null(strstr(l.invalid[1].error, "a-zeta"));
	assert_ptr_equal(ruth_model_list_find(&l, "alpha"), &l.models[0]);
	assert_null(ruth_model_list_find(&l, "broken"));
	assert_null(ruth_model_list_find(&l, "hidden"));
	ruth_model_list_fini(&l);
	assert_null(l.models);
	assert_int_equal(l.n_models, 0);
	ruth_model_list_fini(&l); /* idempotent */

	/* NULL root: $RUTH_MODELS_ROOT. */
	char *saved = getenv("RUTH_MODELS_ROOT") ? strdup(getenv("RUTH_MODELS_ROOT")) : NULL;
	setenv("RUTH_MODELS_ROOT", root, 1);
	assert_int_equal(ruth_models_discover(NULL, &l), 0);
	assert_int_equal(l.n_models, 2);
	ruth_model_list_fini(&l);
	if (saved) {
		setenv("RUTH_MODELS_ROOT", saved, 1);
		free(saved);
	} else {
		unsetenv("RUTH_MODELS_ROOT");
	}
	rm_rf(root);
}

static void test_empty_and_missing_root(void **state)
{
	(void)state;
	char root[] = "/tmp/ruth-discovery-XXXXXX";
	assert_non_null(mkdtemp(root));
	struct ruth_model_list l;
	assert_int_equal(ruth_models_discover(root, &l), 0);
	assert_int_equal(l.n_models, 0);
	assert_int_equal(l.n_invalid, 0);
	ruth_model_list_fini(&l);
	rm_rf(root);
	assert_int_equal(ruth_models_discover(root, &l), -ENOENT);
	assert_int_equal(l.n_models, 0);
	assert_null(l.models);
}

static void test_repo_models_root(void **state)
{
	(void)state;
	char root[512];
	snprintf(root, sizeof(root), "%s/models", src_dir());
	struct ruth_model_list l;
	assert_int_equal(ruth_models_discover(root, &l), 0);
	for (size_t i = 0; i < l.n_invalid; i++)
		print_error("invalid: %s: %s\n", l.invalid[i].path, l.invalid[i].error);
	assert_int_equal(l.n_invalid, 0);
	assert_int_equal(l.n_models, 3);
	assert_string_equal(l.models[0].model_id, "blazeface-back");
	assert_string_equal(l.models[1].model_id, "blazeface-front");
	assert_string_equal(l.models[2].model_id, "ppocr-det");
	ruth_model_list_fini(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_mixed_root),
		cmocka_unit_test(test_empty_and_missing_root),
		cmocka_unit_test(test_repo_models_root),
	};
	return cmocka_run_group_tests_name("model_discovery", tests, NULL, NULL);
}

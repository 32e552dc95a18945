/* test_model_cli.c: the ruth-models tool as a user runs it (exit codes and
 * output), on the repository's models/ and on the test fixtures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

static char out[65536];

/* Runs ruth-models with args (stderr folded in); returns the exit status. */
static int run(const char *args)
{
	const char *bin = getenv("RUTH_BIN_DIR");
	const char *src = getenv("RUTH_SOURCE_DIR");
	assert_non_null(bin);
	assert_non_null(src);
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "cd '%s' && '%s/ruth-models' %s 2>&1", src, bin, args);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void test_list_repo(void **state)
{
	(void)state;
	assert_int_equal(run("list models"), 0);
	assert_non_null(strstr(out, "(3 valid, 0 invalid)"));
	assert_non_null(strstr(out, "blazeface-front"));
	assert_non_null(strstr(out, "ppocr-det"));
	assert_non_null(strstr(out, "text_detection"));
	/* weights are present and their sha256 matches */
	assert_null(strstr(out, " no"));
	/* default root: $RUTH_MODELS_ROOT (set by the test environment) */
	assert_int_equal(run("list"), 0);
	assert_non_null(strstr(out, "(3 valid, 0 invalid)"));
}

static void test_list_with_invalid(void **state)
{
	(void)state;
	assert_int_equal(run("list tests/data/models/good"), 0);
	assert_non_null(strstr(out, "(2 valid, 0 invalid)"));
	assert_non_null(strstr(out, "fixture-minimal"));
	/* the weights of fixture-full do not exist */
	assert_non_null(strstr(out, "required   no"));
	/* bad/ holds files, not folders: nothing to list, still readable */
	assert_int_equal(run("list tests/data/models/bad"), 0);
	assert_non_null(strstr(out, "(0 valid, 0 invalid)"));
	assert_int_equal(run("list /nonexistent/ruth-models-root"), 2);
	assert_non_null(strstr(out, "cannot read models root /nonexistent/ruth-models-root"));
}

static void test_check(void **state)
{
	(void)state;
	assert_int_equal(run("check models/blazeface-front"), 0);
	assert_non_null(strstr(out, "OK "));
	assert_non_null(strstr(out, "(sha256 verified)"));
	assert_int_equal(run("check tests/data/models/bad/bad_layout.yaml"), 1);
	assert_non_null(strstr(out, "bad_layout.yaml:17: field 'runtime.input.layout'"));
	assert_int_equal(run("check tests/data/models/good/full"), 1);
	assert_non_null(strstr(out, "not found"));
	/* A custom postprocessor whose handler was never built. */
	char dir[] = "/tmp/ruth-models-cli-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "cp -r '%s/templates/model/.' '%s/' && rm -f '%s/handler/handler.so'",
		 getenv("RUTH_SOURCE_DIR"), dir, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "check %s", dir);
	assert_int_equal(run(cmd), 1);
	assert_non_null(strstr(out, "handler/handler.so"));
	assert_non_null(strstr(out, "make handler"));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(run("frobnicate"), 64);
	assert_non_null(strstr(out, "usage:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_repo),
		cmocka_unit_test(test_list_with_invalid),
		cmocka_unit_test(test_check),
	};
	return cmocka_run_group_tests_name("model_cli", tests, NULL, NULL);
}

/* Unit tests of ruth-ai-core's configuration (src/core/config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

static const char good[] = "models_root: /models\n"
			   "socket_dir: /run/ruth\n"
			   "control_socket: /run/ruth/core.sock\n"
			   "request_timeout_ms: 800\n"
			   "reconnect: {initial_ms: 100, max_ms: 2000}\n"
			   "cameras:\n"
			   "  - lobby\n"
			   "  - {id: door}\n"
			   "subscriptions:\n"
			   "  - {camera: lobby, model: blazeface-front, fps: 5}\n"
			   "  - {camera: door, model: ppocr-det, fps: 2.5, score_threshold: 0.4, max_results: 10, max_inflight: 2}\n";

static void test_good(void **state)
{
	(void)state;
	struct core_config *c = calloc(1, sizeof(*c));
	char err[512] = "";
	assert_int_equal(core_config_load_string("core.yaml", good, c, err, sizeof(err)), 0);
	assert_string_equal(c->models_root, "/models");
	assert_string_equal(c->socket_dir, "/run/ruth");
	assert_int_equal(c->request_timeout_ms, 800);
	assert_int_equal(c->reconnect_initial_ms, 100);
	assert_int_equal(c->n_cameras, 2);
	assert_string_equal(c->cameras[1], "door");
	assert_int_equal(c->n_subs, 2);
	assert_int_equal(c->subs[0].max_inflight, 1);
	assert_true(c->subs[1].fps == 2.5);
	assert_int_equal(c->subs[1].max_inflight, 2);
	assert_int_equal(c->subs[1].max_results, 10);
	assert_string_equal(c->results, "");
	assert_int_equal(c->tick_slack_ms, 50); /* default */
	assert_int_equal(core_config_load_string("core.yaml", "cameras: [a]\ntick_slack_ms: 0\n", c, err, sizeof(err)), 0);
	assert_int_equal(c->tick_slack_ms, 0);
	assert_int_equal(c->tick_group, 4); /* default */
	assert_int_equal(core_config_load_string("core.yaml", "cameras: [a]\ntick_group: 1\n", c, err, sizeof(err)), 0);
	assert_int_equal(c->tick_group, 1);
	assert_int_equal(c->sched, KSCHED_BATCH); /* default */
	assert_int_equal(core_config_load_string("core.yaml", "cameras: [a]\nsched: normal\n", c, err, sizeof(err)), 0);
	assert_int_equal(c->sched, KSCHED_NORMAL);
	assert_int_equal(core_config_load_string("core.yaml", "cameras: [a]\nsched: batch\n", c, err, sizeof(err)), 0);
	assert_int_equal(c->sched, KSCHED_BATCH);
	free(c);
}

static void expect_error(const char *text, const char *needle)
{
	struct core_config *c = calloc(1, sizeof(*c));
	char err[512] = "";
	int rc = core_config_load_string("core.yaml", text, c, err, sizeof(err));
	if (rc == 0 || !strstr(err, needle))
		fail_msg("expected an error containing '%s', got rc=%d '%s'", needle, rc, err);
	assert_non_null(strstr(err, "core.yaml:"));
	free(c);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("cameras: [a]\nsubscriptons: []\n", "subscriptons");
	expect_error("cameras: [a]\nsubscriptions:\n  - {camera: a, model: m, fps: 0}\n", "subscriptions[0].fps");
	expect_error("cameras: [a]\nsubscriptions:\n  - {camera: b, model: m, fps: 5}\n", "subscriptions[0].camera");
	expect_error("cameras: [a]\nsubscriptions:\n  - {camera: a, fps: 5}\n", "subscriptions[0].model");
	expect_error("cameras: [a]\nsubscriptions:\n  - {camera: a, model: m, fps: 5, treshold: 1}\n", "treshold");
	expect_error("cameras: [a, a]\n", "duplicate camera");
	expect_error("cameras: ['bad id']\n", "cameras[0]");
	expect_error("socket_dir: /x\n", "cameras");
	expect_error("cameras: [a]\nrequest_timeout_ms: abc\n", "request_timeout_ms");
	expect_error("cameras: [a]\ntick_slack_ms: 5000\n", "tick_slack_ms");
	expect_error("cameras: [a]\ntick_group: 0\n", "tick_group");
	expect_error("cameras: [a]\ntick_group: 17\n", "tick_group");
	expect_error("cameras: [a]\nsched: fifo\n", "sched");
	expect_error("cameras: [a]\nreconnect: {initial_ms: 500, max_ms: 100}\n", "reconnect.max_ms");
	expect_error("cameras: [a]\nsubscriptions:\n  - {camera: a, model: m, fps: 5}\n  - {camera: a, model: m, fps: 2}\n",
		     "duplicate subscription");
}

static void test_file_missing(void **state)
{
	(void)state;
	struct core_config *c = calloc(1, sizeof(*c));
	char err[512] = "";
	assert_true(core_config_load("/nonexistent/core.yaml", c, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "/nonexistent/core.yaml"));
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_file_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

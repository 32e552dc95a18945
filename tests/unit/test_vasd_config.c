/* test_vasd_config.c: vasd's configuration parser (src/vas/config.c): the full
 * format, defaults, and that every kind of mistake is refused with a message
 * naming the file, the line and the field. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "vas/frame_export.h"

static const char full_yaml[] =
	"export:\n"
	"  ring_size: 8\n"
	"  slots: 6\n"
	"  group: nogroup\n"
	"cameras:\n"
	"  - id: lobby\n"
	"    url: rtsp://127.0.0.1:8554/lobby\n"
	"    transport: udp\n"
	"    decode_threads: 2\n"
	"    timeout_ms: 3000\n"
	"    reconnect: {initial_ms: 100, max_ms: 4000}\n"
	"    max_width: 1920\n"
	"    max_height: 1080\n"
	"    record: {enabled: true, dir: /tmp/rec, segment_seconds: 6, format: mkv}\n"
	"    rtp: {enabled: true, host: 127.0.0.2, port: 5004, rtcp_port: 5005, local_port: 40000, payload_type: 100, ssrc: 1234, sdp: /tmp/cam.sdp}\n"
	"  - id: bench.file_1\n"
	"    url: /tmp/clip.mp4\n"
	"    realtime: false\n"
	"    loop: false\n"
	"    max_frames: 600\n";

static void test_full(void **state)
{
	(void)state;
	struct vas_config *cfg = NULL;
	char err[600] = "";
	assert_int_equal(vas_config_parse(&cfg, "full.yaml", full_yaml, err, sizeof(err)), 0);
	assert_non_null(cfg);
	assert_int_equal(cfg->export_opts.ring_size, 8);
	assert_int_equal(cfg->export_opts.slots, 6);
	assert_string_equal(cfg->export_opts.group, "nogroup");
	assert_int_equal(cfg->n_cameras, 2);
	const struct vas_camera_config *c = &cfg->cameras[0];
	assert_string_equal(c->id, "lobby");
	assert_string_equal(c->url, "rtsp://127.0.0.1:8554/lobby");
	assert_false(c->is_file);
	assert_int_equal(c->transport, VAS_TRANSPORT_UDP);
	assert_int_equal(c->decode_threads, 2);
	assert_int_equal(c->timeout_ms, 3000);
	assert_int_equal(c->reconnect_initial_ms, 100);
	assert_int_equal(c->reconnect_max_ms, 4000);
	assert_int_equal(c->max_width, 1920);
	assert_int_equal(c->max_height, 1080);
	assert_true(c->record.enabled);
	assert_string_equal(c->record.dir, "/tmp/rec");
	assert_int_equal(c->record.segment_seconds, 6);
	assert_int_equal(c->record.format, VAS_RECORD_MKV);
	assert_true(c->rtp.enabled);
	assert_string_equal(c->rtp.host, "127.0.0.2");
	assert_int_equal(c->rtp.port, 5004);
	assert_int_equal(c->rtp.rtcp_port, 5005);
	assert_int_equal(c->rtp.local_port, 40000);
	assert_int_equal(c->rtp.payload_type, 100);
	assert_int_equal(c->rtp.ssrc, 1234);
	assert_string_equal(c->rtp.sdp_path, "/tmp/cam.sdp");
	c = &cfg->cameras[1];
	assert_string_equal(c->id, "bench.file_1");
	assert_true(c->is_file);
	assert_false(c->realtime);
	assert_false(c->loop);
	assert_int_equal(c->max_frames, 600);
	vas_config_free(&cfg);
	assert_null(cfg);
}

static void test_defaults(void **state)
{
	(void)state;
	struct vas_config *cfg = NULL;
	char err[600] = "";
	assert_int_equal(vas_config_parse(&cfg, "min.yaml", "cameras:\n  - {id: a, url: \"rtsp://h/x\"}\n", err,
					  sizeof(err)),
			 0);
	assert_int_equal(cfg->export_opts.ring_size, 4);
	assert_int_equal(cfg->export_opts.slots, 4);
	assert_string_equal(cfg->export_opts.group, "");
	const struct vas_camera_config *c = &cfg->cameras[0];
	assert_int_equal(c->transport, VAS_TRANSPORT_TCP);
	assert_int_equal(c->decode_threads, 1);
	assert_int_equal(c->timeout_ms, 2000);
	assert_int_equal(c->reconnect_initial_ms, 200);
	assert_int_equal(c->reconnect_max_ms, 5000);
	assert_int_equal(c->max_width, 0);
	assert_false(c->record.enabled);
	assert_false(c->rtp.enabled);
	assert_true(c->realtime);
	assert_true(c->loop);
	assert_int_equal(c->max_frames, 0);
	vas_config_free(&cfg);
}

/* Each bad config must fail with -EINVAL and a message containing `expect`. */
struct bad_case {
	const char *yaml;
	const char *expect;
};

static const struct bad_case bad_cases[] = {
	{ "cameras:\n  - id: a\n    url: rtsp://h/x\n    trasport: tcp\n",
	  "bad.yaml:4: field 'cameras[0].trasport': unknown field" },
	{ "cameras:\n  - id: a\n    url: rtsp://h/x\n    transport: sctp\n", "bad.yaml:4: field 'cameras[0].transport'" },
	{ "cameras:\n  - {id: a, url: \"rtsp://h/x\"}\n  - {id: a, url: \"rtsp://h/y\"}\n",
	  "bad.yaml:3: field 'cameras[1].id': duplicate camera id 'a'" },
	{ "cameras:\n  - {id: \"a b\", url: \"rtsp://h/x\"}\n", "field 'cameras[0].id': 'a b' is not a valid camera id" },
	{ "cameras:\n  - {id: a123456789a123456789a123456789a123456789a1234567, url: \"rtsp://h/x\"}\n",
	  "field 'cameras[0].id'" },
	{ "cameras:\n  - {id: a}\n", "field 'cameras[0].url': required field is missing" },
	{ "cameras:\n  - {url: \"rtsp://h/x\"}\n", "field 'cameras[0].id': required field is missing" },
	{ "cameras:\n  - {id: a, url: \"rtsp://h/x\", decode_threads: -1}\n", "field 'cameras[0].decode_threads'" },
	{ "cameras:\n  - {id: a, url: \"rtsp://h/x\", timeout_ms: 5}\n", "field 'cameras[0].timeout_ms'" },
	{ "cameras:\n  - {id: a, url: \"rtsp://h/x\", reconnect: {initial_ms: 900, max_ms: 100}}\n",
	  "field 'cameras[0].reconnect.max_ms': max_ms (100) must be >= initial_ms (900)" },
	{ "cameras:\n  - {id: a, url: \"rtsp://h/x\", reconnect: {initial: 5}}\n",
	  "field 'cameras[0].reconnect.initial': unknown field" },
	{ "cameras:\n  - {id: a, url: \"rtsp://h/x\", max_width: 1920}\n",
	  "max_width and max_height must be given together" },
	{ "cameras:\n  - {id: a, url: \"rtsp://h/x\", record: {format: avi, dir: /tmp}}\n",
	  "field 'cameras[0].record.format'" },
	{ "cameras:\n  - {id: a, url: \"rtsp://h/x\", record: {enabled: true}}\n",
	  "field 'cameras[0].record.dir': required field is missing" },
	{ "cameras:\n  - {id: a, url: \"rtsp://h/x\", rtp: {host: 127.0.0.1}}\n",
	  "field 'cameras[0].rtp.port': required field is missing" },
	{ "cameras:\n  - {id: a, url: \"rtsp://h/x\", rtp: {port: 70000}}\n", "field 'cameras[0].rtp.port'" },
	{ "cameras:\n  - {id: a, url: \"rtsp://h/x\", realtime: false}\n",
	  "field 'cameras[0].realtime': only valid for a local file url" },
	{ "cameras:\n  - {id: a, url: \"/f.mp4\", loop: maybe}\n", "field 'cameras[0].loop'" },
	{ "export: {slots: 1}\ncameras:\n  - {id: a, url: \"rtsp://h/x\"}\n", "field 'export.slots'" },
	{ "export: {slot: 4}\ncameras:\n  - {id: a, url: \"rtsp://h/x\"}\n", "bad.yaml:1: field 'export.slot': unknown field" },
	{ "cameras: []\n", "field 'cameras': at least one camera is required" },
	{ "cameras: {id: a}\n", "field 'cameras'" },
	{ "export: {slots: 4}\n", "field 'cameras': missing" },
	{ "camera:\n  - {id: a, url: \"rtsp://h/x\"}\n", "field 'camera': unknown field" },
	{ "- just\n- a list\n", "bad.yaml:1:" },
	{ "", "bad.yaml: empty configuration" },
	{ "cameras:\n  - {id: a, url: \"rtsp://h/x\"\n", "bad.yaml:" },
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct vas_config *cfg = (struct vas_config *)(uintptr_t)1;
		char err[600] = "";
		int r = vas_config_parse(&cfg, "bad.yaml", bad_cases[i].yaml, err, sizeof(err));
		if (r != -EINVAL || !strstr(err, bad_cases[i].expect)) {
			print_error("case %zu: r=%d err='%s', expected '%s'\n", i, r, err, bad_cases[i].expect);
			fail();
		}
		assert_null(cfg);
	}
}

static void test_missing_file(void **state)
{
	(void)state;
	struct vas_config *cfg = NULL;
	char err[600] = "";
	assert_int_equal(vas_config_load(&cfg, "/nonexistent/vasd.yaml", err, sizeof(err)), -ENOENT);
	assert_null(cfg);
	assert_non_null(strstr(err, "/nonexistent/vasd.yaml: configuration file not found"));
}

static void test_load_file(void **state)
{
	(void)state;
	char path[] = "/tmp/test_vasd_config.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, full_yaml, strlen(full_yaml)), (ssize_t)strlen(full_yaml));
	close(fd);
	struct vas_config *cfg = NULL;
	char err[600] = "";
	assert_int_equal(vas_config_load(&cfg, path, err, sizeof(err)), 0);
	assert_int_equal(cfg->n_cameras, 2);
	assert_string_equal(cfg->path, path);
	vas_config_free(&cfg);
	unlink(path);
}

static void test_check_export(void **state)
{
	(void)state;
	struct vas_config *cfg = NULL;
	char err[600] = "";
	assert_int_equal(vas_config_parse(&cfg, "g.yaml",
					  "export:\n  group: no-such-group-xyz\ncameras:\n  - {id: a, url: /f.mp4}\n",
					  err, sizeof(err)),
			 0);
	assert_int_equal(vas_config_check_export(cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "g.yaml:2: field 'export.group': no such group 'no-such-group-xyz'"));
	snprintf(cfg->export_opts.group, sizeof(cfg->export_opts.group), "root");
	assert_int_equal(vas_config_check_export(cfg, err, sizeof(err)), 0);
	cfg->export_opts.group[0] = 0;
	assert_int_equal(vas_config_check_export(cfg, err, sizeof(err)), 0);
	vas_config_free(&cfg);
}

static void test_valid_id(void **state)
{
	(void)state;
	assert_true(vas_export_camera_id_valid("cam-1.front_A"));
	assert_false(vas_export_camera_id_valid(""));
	assert_false(vas_export_camera_id_valid("a/b"));
	assert_false(vas_export_camera_id_valid("a b"));
	assert_false(vas_export_camera_id_valid("..\xc3\xa9"));
	char long_id[49];
	memset(long_id, 'x', 48);
	long_id[48] = 0;
	assert_false(vas_export_camera_id_valid(long_id));
	long_id[47] = 0;
	assert_true(vas_export_camera_id_valid(long_id));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),         cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bad),          cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_load_file),    cmocka_unit_test(test_valid_id),
		cmocka_unit_test(test_check_export),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_frame_tap.c: the decode-boundary tap (src/vas/export/frame_tap.c) with
 * real frames decoded by libavcodec from the cached test clip. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

#include "clock.h"
#include "frame_tap.h"
#include "vas/frame_export.h"

#define NDEC 12

static AVFrame *decoded[NDEC];
static AVRational stream_tb;

/* Decode the first NDEC frames of vtest.mp4 (768x576 H.264, yuv420p). */
static int setup_decode(void **state)
{
	(void)state;
	const char *dir = getenv("RUTH_MEDIA_DIR");
	char path[1024];
	snprintf(path, sizeof(path), "%s/vtest.mp4", dir ? dir : RUTH_SOURCE_DIR "/.cache/media");
	AVFormatContext *fmt = NULL;
	if (avformat_open_input(&fmt, path, NULL, NULL) < 0) {
		fprintf(stderr, "cannot open %s (run scripts/setup)\n", path);
		return -1;
	}
	avformat_find_stream_info(fmt, NULL);
	int si = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
	if (si < 0)
		return -1;
	stream_tb = fmt->streams[si]->time_base;
	const AVCodec *codec = avcodec_find_decoder(fmt->streams[si]->codecpar->codec_id);
	AVCodecContext *dec = avcodec_alloc_context3(codec);
	avcodec_parameters_to_context(dec, fmt->streams[si]->codecpar);
	dec->thread_count = 1;
	if (avcodec_open2(dec, codec, NULL) < 0)
		return -1;
	AVPacket *pkt = av_packet_alloc();
	int n = 0;
	while (n < NDEC && av_read_frame(fmt, pkt) >= 0) {
		if (pkt->stream_index == si && avcodec_send_packet(dec, pkt) >= 0) {
			for (;;) {
				AVFrame *f = av_frame_alloc();
				if (avcodec_receive_frame(dec, f) < 0) {
					av_frame_free(&f);
					break;
				}
				if (n < NDEC)
					decoded[n++] = f;
				else
					av_frame_free(&f);
			}
		}
		av_packet_unref(pkt);
	}
	av_packet_free(&pkt);
	avcodec_free_context(&dec);
	avformat_close_input(&fmt);
	return n == NDEC && decoded[0]->format == AV_PIX_FMT_YUV420P ? 0 : -1;
}

static int teardown_decode(void **state)
{
	(void)state;
	for (int i = 0; i < NDEC; i++)
		av_frame_free(&decoded[i]);
	return 0;
}

/* Packed NV12 of a yuv420p frame, what the export must hold. */
static uint8_t *nv12_of(const AVFrame *f, size_t *size)
{
	int w = f->width, h = f->height, cw = (w + 1) / 2, ch = (h + 1) / 2;
	*size = (size_t)w * h + (size_t)2 * cw * ch;
	uint8_t *o = malloc(*size);
	assert_non_null(o);
	for (int y = 0; y < h; y++)
		memcpy(o + (size_t)y * w, f->data[0] + (size_t)y * f->linesize[0], (size_t)w);
	uint8_t *uv = o + (size_t)w * h;
	for (int y = 0; y < ch; y++)
		for (int x = 0; x < cw; x++) {
			uv[(size_t)y * 2 * cw + 2 * x] = f->data[1][(size_t)y * f->linesize[1] + x];
			uv[(size_t)y * 2 * cw + 2 * x + 1] = f->data[2][(size_t)y * f->linesize[2] + x];
		}
	return o;
}

static void wait_exported(struct vas_frame_tap *tap, uint64_t n)
{
	struct vas_frame_tap_stats st;
	uint64_t t0 = kclock_mono_ns();
	do {
		vas_frame_tap_stats(tap, &st);
		if (st.exported + st.dropped + st.errors >= n)
			return;
		kclock_sleep_ns(1000000);
	} while (kclock_mono_ns() - t0 < 5000ull * 1000000ull);
	fail_msg("exporter did not catch up: pushed %" PRIu64 " exported %" PRIu64 " dropped %" PRIu64, st.pushed,
		 st.exported, st.dropped);
}

static void test_tap_exports_decoded_frames(void **state)
{
	(void)state;
	char cam[64];
	snprintf(cam, sizeof(cam), "tft-dec-%d", (int)getpid());
	struct vas_frame_tap_config cfg = { .camera_id = cam, .ring_size = 8, .slot_count = 4, .time_base = stream_tb };
	struct vas_frame_tap *tap = NULL;
	assert_int_equal(vas_frame_tap_new(&tap, &cfg), 0);
	/* Capacity 0: the export appears with the first frame, sized from it. */
	struct vas_export_reader *r = NULL;
	assert_int_equal(vas_export_reader_open(&r, cam), -ENOENT);

	size_t cap = 768 * 576 * 2;
	uint8_t *got = malloc(cap);
	for (int i = 0; i < NDEC; i++) {
		assert_int_equal(vas_frame_tap_push(tap, decoded[i], 500 + (uint64_t)i, i == 0 ? VAS_FRAME_F_DISCONTINUITY : 0), 0);
		wait_exported(tap, (uint64_t)i + 1);
		if (!r)
			assert_int_equal(vas_export_reader_open(&r, cam), 0);
		uint64_t seq = vas_export_reader_newest(r);
		assert_int_equal(seq, (uint64_t)i + 1);
		struct vas_frame_meta m;
		assert_int_equal(vas_export_reader_copy(r, seq, got, cap, &m), 0);
		size_t n;
		uint8_t *want = nv12_of(decoded[i], &n);
		assert_memory_equal(got, want, n); /* byte-exact: no conversion on the yuv420p path */
		free(want);
		assert_int_equal(m.width, 768);
		assert_int_equal(m.height, 576);
		assert_int_equal(m.frame_number, 500 + (uint64_t)i);
		int64_t pts = decoded[i]->best_effort_timestamp;
		assert_int_equal(m.pts_us, av_rescale_q(pts, stream_tb, (AVRational){ 1, 1000000 }));
		if (i == 0) {
			assert_true(m.flags & VAS_FRAME_F_KEYFRAME);
			assert_true(m.flags & VAS_FRAME_F_DISCONTINUITY);
		}
	}
	struct vas_export_info info;
	vas_export_reader_info(r, &info);
	assert_int_equal(info.max_width, 768);
	assert_int_equal(info.max_height, 576);
	assert_int_equal(info.slot_count, 4);
	struct vas_frame_tap_stats st;
	vas_frame_tap_stats(tap, &st);
	assert_int_equal(st.pushed, NDEC);
	assert_int_equal(st.exported, NDEC);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.errors, 0);
	/* The ring held references only: the decoder's frames are ours alone again. */
	assert_int_equal(av_buffer_get_ref_count(decoded[0]->buf[0]), 1);

	/* Heartbeat from tick while "reconnecting". */
	uint64_t hb0 = info.heartbeat_ns;
	kclock_sleep_ns(5000000);
	vas_frame_tap_tick(tap);
	uint64_t t0 = kclock_mono_ns();
	do {
		kclock_sleep_ns(5000000);
		vas_export_reader_info(r, &info);
	} while (info.heartbeat_ns == hb0 && kclock_mono_ns() - t0 < 1000ull * 1000000ull);
	assert_true(info.heartbeat_ns > hb0);

	/* Free unlinks the export and marks it retired for mapped readers. */
	vas_frame_tap_free(&tap);
	assert_null(tap);
	assert_int_equal(vas_export_reader_check(r), VAS_EXPORT_EGENERATION);
	vas_export_reader_close(&r);
	assert_int_equal(vas_export_reader_open(&r, cam), -ENOENT);
	free(got);
}

/* Other pixel formats go through swscale to NV12; a geometry change makes a
 * new generation. */
static void test_tap_converts_and_changes_geometry(void **state)
{
	(void)state;
	char cam[64];
	snprintf(cam, sizeof(cam), "tft-conv-%d", (int)getpid());
	struct vas_frame_tap_config cfg = { .camera_id = cam, .max_width = 768, .max_height = 576 };
	struct vas_frame_tap *tap = NULL;
	assert_int_equal(vas_frame_tap_new(&tap, &cfg), 0);
	struct vas_export_reader *r = NULL;
	assert_int_equal(vas_export_reader_open(&r, cam), 0); /* capacity given: exists at once */
	assert_int_equal(vas_export_reader_newest(r), 0);
	uint64_t g0;
	struct vas_export_info info;
	vas_export_reader_info(r, &info);
	g0 = info.generation;

	/* yuv422p version of decoded[3]. */
	const AVFrame *s = decoded[3];
	AVFrame *f = av_frame_alloc();
	f->format = AV_PIX_FMT_YUV422P;
	f->width = s->width;
	f->height = s->height;
	assert_int_equal(av_frame_get_buffer(f, 0), 0);
	struct SwsContext *sws = sws_getContext(s->width, s->height, s->format, f->width, f->height, f->format,
						SWS_BILINEAR, NULL, NULL, NULL);
	sws_scale(sws, (const uint8_t *const *)s->data, s->linesize, 0, s->height, f->data, f->linesize);
	sws_freeContext(sws);

	assert_int_equal(vas_frame_tap_push(tap, f, 1, 0), 0);
	wait_exported(tap, 1);
	size_t n;
	uint8_t *want = nv12_of(s, &n);
	uint8_t *got = malloc(n);
	struct vas_frame_meta m;
	assert_int_equal(vas_export_reader_copy(r, 1, got, n, &m), 0);
	assert_int_equal(m.generation, g0);
	/* Luma passes through unchanged; chroma went 4:2:0 -> 4:2:2 -> 4:2:0. */
	assert_memory_equal(got, want, (size_t)s->width * s->height);
	uint64_t diff = 0;
	for (size_t i = (size_t)s->width * s->height; i < n; i++)
		diff += (uint64_t)abs((int)got[i] - (int)want[i]);
	double mad = (double)diff / (double)(n - (size_t)s->width * s->height);
	print_message("chroma mean abs diff after 4:2:2 round trip: %.3f\n", mad);
	assert_true(mad < 2.0);
	free(got);
	free(want);

	/* Half size: same object, generation + 1, discontinuity. */
	AVFrame *small = av_frame_alloc();
	small->format = AV_PIX_FMT_NV12;
	small->width = 384;
	small->height = 288;
	assert_int_equal(av_frame_get_buffer(small, 0), 0);
	sws = sws_getContext(s->width, s->height, s->format, 384, 288, AV_PIX_FMT_NV12, SWS_BILINEAR, NULL, NULL, NULL);
	sws_scale(sws, (const uint8_t *const *)s->data, s->linesize, 0, s->height, small->data, small->linesize);
	sws_freeContext(sws);
	assert_int_equal(vas_frame_tap_push(tap, small, 2, 0), 0);
	wait_exported(tap, 2);
	got = malloc(384 * 288 * 3 / 2);
	assert_int_equal(vas_export_reader_copy(r, 2, got, 384 * 288 * 3 / 2, &m), 0);
	assert_int_equal(m.width, 384);
	assert_int_equal(m.generation, g0 + 1);
	assert_true(m.flags & VAS_FRAME_F_DISCONTINUITY);
	for (int y = 0; y < 288; y++) /* nv12 input: exported byte-exact */
		assert_memory_equal(got + (size_t)y * 384, small->data[0] + (size_t)y * small->linesize[0], 384);
	for (int y = 0; y < 144; y++)
		assert_memory_equal(got + 384 * 288 + (size_t)y * 384, small->data[1] + (size_t)y * small->linesize[1], 384);
	assert_int_equal(vas_export_reader_check(r), 0);
	free(got);

	/* A hardware-less frame with no buffers is refused at push (error counted). */
	AVFrame *empty = av_frame_alloc();
	assert_true(vas_frame_tap_push(tap, empty, 3, 0) < 0);
	struct vas_frame_tap_stats st;
	vas_frame_tap_stats(tap, &st);
	assert_int_equal(st.errors, 1);
	assert_int_equal(st.exported, 2);
	av_frame_free(&empty);
	av_frame_free(&small);
	av_frame_free(&f);
	vas_export_reader_close(&r);
	vas_frame_tap_free(&tap);
}

/* The decode thread never waits: a burst far faster than the exporter makes
 * the ring drop, the drops are counted and reach the export header. */
static void test_tap_drops_never_blocks(void **state)
{
	(void)state;
	char cam[64];
	snprintf(cam, sizeof(cam), "tft-drop-%d", (int)getpid());
	struct vas_frame_tap_config cfg = { .camera_id = cam, .ring_size = 2, .slot_count = 2,
					    .max_width = 768, .max_height = 576 };
	struct vas_frame_tap *tap = NULL;
	assert_int_equal(vas_frame_tap_new(&tap, &cfg), 0);
	const int burst = 3000;
	uint64_t t0 = kclock_mono_ns(), worst = 0;
	for (int i = 0; i < burst; i++) {
		uint64_t a = kclock_mono_ns();
		assert_int_equal(vas_frame_tap_push(tap, decoded[i % NDEC], (uint64_t)i, 0), 0);
		uint64_t d = kclock_mono_ns() - a;
		worst = d > worst ? d : worst;
	}
	uint64_t took = kclock_mono_ns() - t0;
	wait_exported(tap, (uint64_t)burst);
	struct vas_frame_tap_stats st;
	vas_frame_tap_stats(tap, &st);
	print_message("%d pushes in %.1f ms (worst %.1f us): exported %" PRIu64 ", dropped %" PRIu64 "\n", burst,
		      (double)took / 1e6, (double)worst / 1e3, st.exported, st.dropped);
	assert_int_equal(st.pushed, (uint64_t)burst);
	assert_int_equal(st.exported + st.dropped, (uint64_t)burst);
	assert_true(st.dropped > 0);
	assert_int_equal(st.errors, 0);

	struct vas_export_reader *r = NULL;
	assert_int_equal(vas_export_reader_open(&r, cam), 0);
	struct vas_export_info info;
	uint64_t w0 = kclock_mono_ns();
	do {
		kclock_sleep_ns(10u * 1000000u);
		vas_export_reader_info(r, &info);
	} while (info.frames_dropped != st.dropped && kclock_mono_ns() - w0 < 2000ull * 1000000ull);
	assert_int_equal(info.frames_dropped, st.dropped);
	assert_int_equal(info.newest_seq, st.exported);
	vas_export_reader_close(&r);
	vas_frame_tap_free(&tap);
}

static void test_tap_bad_config(void **state)
{
	(void)state;
	struct vas_frame_tap *tap = NULL;
	struct vas_frame_tap_config cfg = { .camera_id = "no/slash" };
	assert_int_equal(vas_frame_tap_new(&tap, &cfg), -EINVAL);
	cfg.camera_id = NULL;
	assert_int_equal(vas_frame_tap_new(&tap, &cfg), -EINVAL);
	char cam[64];
	snprintf(cam, sizeof(cam), "tft-bad-%d", (int)getpid());
	cfg.camera_id = cam;
	cfg.max_width = 640; /* width without height */
	assert_int_equal(vas_frame_tap_new(&tap, &cfg), -EINVAL);
	cfg.max_width = 0;
	cfg.slot_count = 1;
	assert_int_equal(vas_frame_tap_new(&tap, &cfg), -EINVAL);
	cfg.slot_count = 0;
	cfg.ring_size = 100000;
	assert_int_equal(vas_frame_tap_new(&tap, &cfg), -EINVAL);
	cfg.ring_size = 0;
	cfg.max_width = 64;
	cfg.max_height = 64;
	cfg.group = "no-such-group-vas-test";
	assert_int_equal(vas_frame_tap_new(&tap, &cfg), -ENOENT);
	assert_null(tap);
	vas_frame_tap_free(&tap); /* safe on NULL */
	struct vas_export_reader *r = NULL;
	assert_int_equal(vas_export_reader_open(&r, cam), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tap_exports_decoded_frames),
		cmocka_unit_test(test_tap_converts_and_changes_geometry),
		cmocka_unit_test(test_tap_drops_never_blocks),
		cmocka_unit_test(test_tap_bad_config),
	};
	return cmocka_run_group_tests(tests, setup_decode, teardown_decode);
}

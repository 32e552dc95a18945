/* test_frame_dump.c: the vas-frame-dump tool, run as a real process against a
 * live export written by this test. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>

#include "vas/frame_export.h"
#include "vas/frame_writer.h"

#define FW 322u /* even width, odd height: the chroma rounding is exercised */
#define FH 181u

static char tmpdir[256];
static char cam[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_frame_dump.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(cam, sizeof(cam), "tfd-%d", (int)getpid());
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Runs vas-frame-dump with `args`; returns its exit status and its stdout and
 * stderr in out/err. */
static int run_dump(const char *args, char *out, size_t out_cap, char *err, size_t err_cap)
{
	const char *bin = getenv("RUTH_BIN_DIR");
	char cmd[2048], po[300], pe[300];
	snprintf(po, sizeof(po), "%s/stdout", tmpdir);
	snprintf(pe, sizeof(pe), "%s/stderr", tmpdir);
	snprintf(cmd, sizeof(cmd), "'%s/vas-frame-dump' %s >'%s' 2>'%s'", bin ? bin : ".", args, po, pe);
	int st = system(cmd);
	assert_true(WIFEXITED(st));
	const char *paths[2] = { po, pe };
	char *bufs[2] = { out, err };
	size_t caps[2] = { out_cap, err_cap };
	for (int i = 0; i < 2; i++) {
		FILE *f = fopen(paths[i], "r");
		assert_non_null(f);
		size_t n = fread(bufs[i], 1, caps[i] - 1, f);
		bufs[i][n] = 0;
		fclose(f);
	}
	return WEXITSTATUS(st);
}

static uint8_t *read_all(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc((size_t)sz);
	assert_int_equal(fread(b, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	*n = (size_t)sz;
	return b;
}

/* A frame with smooth gradients (so the RGB conversion is easy to check). */
static void make_frame(uint8_t *y, uint8_t *uv, uint32_t seed)
{
	for (uint32_t r = 0; r < FH; r++)
		for (uint32_t c = 0; c < FW; c++)
			y[r * FW + c] = (uint8_t)(16 + (c * 200 / FW + r + seed) % 220);
	for (uint32_t r = 0; r < (FH + 1) / 2; r++)
		for (uint32_t c = 0; c < FW / 2; c++) {
			uv[r * FW + 2 * c] = (uint8_t)(64 + (c + seed) % 128);
			uv[r * FW + 2 * c + 1] = (uint8_t)(192 - (r % 128));
		}
}

static void test_dump_errors_without_export(void **state)
{
	(void)state;
	char out[4096], err[4096], args[512];
	snprintf(args, sizeof(args), "%s -o '%s/x.png'", cam, tmpdir);
	assert_int_equal(run_dump(args, out, sizeof(out), err, sizeof(err)), 1);
	assert_non_null(strstr(err, "is not exported (is vasd running with AI_FRAME_EXPORT_ENABLED=true?)"));
	/* Usage errors: exit 2 with a message. */
	assert_int_equal(run_dump("", out, sizeof(out), err, sizeof(err)), 2);
	assert_non_null(strstr(err, "usage:"));
	assert_int_equal(run_dump("lobby", out, sizeof(out), err, sizeof(err)), 2); /* no output */
	assert_int_equal(run_dump("'bad/id' -o x.png", out, sizeof(out), err, sizeof(err)), 2);
	assert_non_null(strstr(err, "invalid camera id"));
	assert_int_equal(run_dump("lobby -o x.png --seq abc", out, sizeof(out), err, sizeof(err)), 2);
	assert_non_null(strstr(err, "--seq wants a positive integer"));
}

static void test_dump_frames(void **state)
{
	(void)state;
	struct vas_export_writer_config cfg = { .camera_id = cam, .slot_count = 2, .max_width = FW, .max_height = FH };
	struct vas_export_writer *w = NULL;
	assert_int_equal(vas_export_writer_open(&w, &cfg), 0);
	char out[4096], err[4096], args[1024];

	/* The export exists but holds nothing yet. */
	snprintf(args, sizeof(args), "%s -o '%s/a.png'", cam, tmpdir);
	assert_int_equal(run_dump(args, out, sizeof(out), err, sizeof(err)), 1);
	assert_non_null(strstr(err, "has no frame yet"));

	size_t ysz = (size_t)FW * FH, uvsz = (size_t)FW * ((FH + 1) / 2);
	uint8_t *frames[3];
	for (uint32_t i = 0; i < 3; i++) {
		frames[i] = malloc(ysz + uvsz);
		make_frame(frames[i], frames[i] + ysz, i * 17);
		struct vas_frame_src s = { .layout = VAS_SRC_NV12, .width = FW, .height = FH,
					   .plane = { frames[i], frames[i] + ysz, NULL },
					   .stride = { (int32_t)FW, (int32_t)FW, 0 },
					   .frame_number = 70 + i, .pts_us = 1000 * (int64_t)i };
		assert_int_equal(vas_export_writer_publish(w, &s), (int64_t)i + 1);
	}

	/* Newest frame (seq 3) as PNG + raw. */
	snprintf(args, sizeof(args), "%s -o '%s/a.png' --raw '%s/a.nv12'", cam, tmpdir, tmpdir);
	assert_int_equal(run_dump(args, out, sizeof(out), err, sizeof(err)), 0);
	assert_non_null(strstr(out, "seq=3 "));
	assert_non_null(strstr(out, "frame_number=72 "));
	assert_non_null(strstr(out, "width=322 height=181"));
	char path[512];
	snprintf(path, sizeof(path), "%s/a.nv12", tmpdir);
	size_t n;
	uint8_t *raw = read_all(path, &n);
	assert_int_equal(n, ysz + uvsz);
	assert_memory_equal(raw, frames[2], n);
	free(raw);

	/* The PNG decodes to an RGB24 image of the frame: compare with an
	 * independent NV12 -> RGB24 conversion. */
	snprintf(path, sizeof(path), "%s/a.png", tmpdir);
	uint8_t *png = read_all(path, &n);
	assert_memory_equal(png, "\x89PNG", 4);
	const AVCodec *dec = avcodec_find_decoder(AV_CODEC_ID_PNG);
	AVCodecContext *ctx = avcodec_alloc_context3(dec);
	assert_int_equal(avcodec_open2(ctx, dec, NULL), 0);
	AVPacket *pkt = av_packet_alloc();
	pkt->data = png;
	pkt->size = (int)n;
	AVFrame *img = av_frame_alloc();
	assert_int_equal(avcodec_send_packet(ctx, pkt), 0);
	assert_int_equal(avcodec_receive_frame(ctx, img), 0);
	assert_int_equal(img->width, FW);
	assert_int_equal(img->height, FH);
	assert_int_equal(img->format, AV_PIX_FMT_RGB24);
	uint8_t *rgb = malloc((size_t)FW * FH * 3);
	struct SwsContext *sws = sws_getContext(FW, FH, AV_PIX_FMT_NV12, FW, FH, AV_PIX_FMT_RGB24,
						SWS_BILINEAR | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, NULL, NULL, NULL);
	const uint8_t *sp[4] = { frames[2], frames[2] + ysz, NULL, NULL };
	int sl[4] = { FW, FW, 0, 0 };
	uint8_t *dp[4] = { rgb, NULL, NULL, NULL };
	int dl[4] = { FW * 3, 0, 0, 0 };
	sws_scale(sws, sp, sl, 0, FH, dp, dl);
	sws_freeContext(sws);
	uint64_t diff = 0;
	for (uint32_t r = 0; r < FH; r++)
		for (uint32_t c = 0; c < FW * 3; c++)
			diff += (uint64_t)abs((int)img->data[0][(size_t)r * img->linesize[0] + c] - (int)rgb[(size_t)r * FW * 3 + c]);
	assert_true(diff == 0);
	free(rgb);
	av_frame_free(&img);
	pkt->data = NULL;
	av_packet_free(&pkt);
	avcodec_free_context(&ctx);
	free(png);

	/* An older frame still in the export by --seq; one already overwritten is stale. */
	snprintf(args, sizeof(args), "%s --seq 2 --raw '%s/b.nv12'", cam, tmpdir);
	assert_int_equal(run_dump(args, out, sizeof(out), err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/b.nv12", tmpdir);
	raw = read_all(path, &n);
	assert_memory_equal(raw, frames[1], n);
	free(raw);
	snprintf(args, sizeof(args), "%s --seq 1 -o '%s/c.png'", cam, tmpdir);
	assert_int_equal(run_dump(args, out, sizeof(out), err, sizeof(err)), 1);
	assert_non_null(strstr(err, "is stale"));
	snprintf(args, sizeof(args), "%s --seq 9 -o '%s/c.png'", cam, tmpdir);
	assert_int_equal(run_dump(args, out, sizeof(out), err, sizeof(err)), 1);
	assert_non_null(strstr(err, "has no frame 9 yet"));
	/* Unwritable output path. */
	snprintf(args, sizeof(args), "%s -o '%s/no/such/dir.png'", cam, tmpdir);
	assert_int_equal(run_dump(args, out, sizeof(out), err, sizeof(err)), 1);
	assert_non_null(strstr(err, "cannot write"));

	vas_export_writer_close(&w);
	for (int i = 0; i < 3; i++)
		free(frames[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump_errors_without_export),
		cmocka_unit_test(test_dump_frames),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

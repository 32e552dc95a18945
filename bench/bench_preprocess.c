/* bench_preprocess: 1920x1080 NV12 -> 128x128 float NHWC normalised (the
 * BlazeFace front input), fused ruth_preprocess_nv12 against the obvious
 * baseline: libswscale NV12 -> RGB24 at 128x128 (SWS_BILINEAR, context made
 * once) plus a normalise loop into float. Median of many runs each (default
 * 301, or argv[1]), the two interleaved so both see the same cache state. The
 * frame is a deterministic textured pattern: neither path's cost depends on
 * the pixel values.
 *   BENCH preprocess_nv12_1080p_to_128 value=<us> unit=us baseline=<us> ratio=<r> target=0.5
 * On stderr only (no BENCH line, no baseline): the same conversion from the
 * 548x342 and 720x528 sizes of the test media (median, same run count). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libswscale/swscale.h>

#include "preprocess.h"

#define W 1920
#define H 1080
#define OW 128
#define OH 128
#define RUNS 301

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Median time of ruth_preprocess_nv12 on a w x h textured frame. */
static double time_size(int w, int h, const struct ruth_tensor_spec *spec, float *dst, int runs)
{
	uint8_t *y = malloc((size_t)w * h), *uv = malloc((size_t)w * ((h + 1) / 2) + 2);
	double *t = malloc(sizeof(double) * runs);
	if (!y || !uv || !t) {
		free(y);
		free(uv);
		free(t);
		return -1;
	}
	for (int r = 0; r < h; r++)
		for (int c = 0; c < w; c++)
			y[(size_t)r * w + c] = (uint8_t)(16 + ((r * 3 + c * 5) % 200) + (((r >> 2) ^ (c >> 2)) & 1) * 19);
	for (int r = 0; r < (h + 1) / 2; r++)
		for (int c = 0; c < w; c++)
			uv[(size_t)r * w + c] = (uint8_t)(64 + ((r + c * 7) % 128));
	struct ruth_nv12_frame f = {.y = y, .uv = uv, .width = (uint32_t)w, .height = (uint32_t)h,
				    .stride_y = (uint32_t)w, .stride_uv = (uint32_t)w};
	double med = -1;
	for (int i = 0; i < runs + 5; i++) {
		double t0 = now_us();
		if (ruth_preprocess_nv12(&f, spec, dst, NULL) != 0)
			goto out;
		if (i >= 5)
			t[i - 5] = now_us() - t0;
	}
	qsort(t, runs, sizeof(double), cmp_d);
	med = t[runs / 2];
out:
	free(y);
	free(uv);
	free(t);
	return med;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : RUNS;
	if (runs < 1)
		runs = 1;
	uint8_t *y = malloc((size_t)W * H), *uv = malloc((size_t)W * H / 2);
	/* A textured pattern (moving gradients + fine checker): the cost of both
	 * paths does not depend on content, only the pages must be touched. */
	for (int r = 0; r < H; r++)
		for (int c = 0; c < W; c++)
			y[(size_t)r * W + c] = (uint8_t)(16 + ((r * 3 + c * 5) % 200) + (((r >> 2) ^ (c >> 2)) & 1) * 19);
	for (int r = 0; r < H / 2; r++)
		for (int c = 0; c < W; c++)
			uv[(size_t)r * W + c] = (uint8_t)(64 + ((r + c * 7) % 128));
	struct ruth_nv12_frame f = {.y = y, .uv = uv, .width = W, .height = H, .stride_y = W, .stride_uv = W};
	struct ruth_tensor_spec spec = {
		.width = OW, .height = OH, .layout = RUTH_LAYOUT_NHWC, .dtype = RUTH_DTYPE_F32,
		.color = RUTH_COLOR_RGB, .resize = RUTH_RESIZE_STRETCH, .scale = 1.0f / 127.5f,
		.mean = {1, 1, 1}, .std = {1, 1, 1},
	};
	float *dst = malloc(ruth_tensor_bytes(&spec)), *dst2 = malloc(ruth_tensor_bytes(&spec));
	uint8_t *rgb = malloc(OW * OH * 3);
	struct SwsContext *sws = sws_getContext(W, H, AV_PIX_FMT_NV12, OW, OH, AV_PIX_FMT_RGB24, SWS_BILINEAR,
						NULL, NULL, NULL);
	if (!y || !uv || !dst || !dst2 || !rgb || !sws) {
		fprintf(stderr, "bench_preprocess: setup failed\n");
		return 1;
	}
	double *tf = malloc(sizeof(double) * runs), *tb = malloc(sizeof(double) * runs);
	const uint8_t *src[4] = {y, uv, NULL, NULL};
	int src_ls[4] = {W, W, 0, 0};
	uint8_t *dp[4] = {rgb, NULL, NULL, NULL};
	int dls[4] = {OW * 3, 0, 0, 0};
	/* Interleave the two so both see the same cache and frequency state. */
	for (int i = 0; i < runs + 5; i++) {
		double t0 = now_us();
		struct ruth_letterbox m;
		if (ruth_preprocess_nv12(&f, &spec, dst, &m) != 0)
			return 1;
		double t1 = now_us();
		sws_scale(sws, src, src_ls, 0, H, dp, dls);
		for (int k = 0; k < OW * OH * 3; k++)
			dst2[k] = rgb[k] * spec.scale - spec.mean[k % 3];
		double t2 = now_us();
		if (i >= 5) {
			tf[i - 5] = t1 - t0;
			tb[i - 5] = t2 - t1;
		}
	}
	qsort(tf, runs, sizeof(double), cmp_d);
	qsort(tb, runs, sizeof(double), cmp_d);
	double mf = tf[runs / 2], mb = tb[runs / 2];
	printf("BENCH preprocess_nv12_1080p_to_128 value=%.1f unit=us baseline=%.1f ratio=%.3f target=0.5\n", mf, mb,
	       mf / mb);
	fprintf(stderr, "bench_preprocess: -> 128x128 float NHWC: 548x342 %.1f us, 720x528 %.1f us, 1920x1080 %.1f us\n",
		time_size(548, 342, &spec, dst, runs), time_size(720, 528, &spec, dst, runs), mf);
	sws_freeContext(sws);
	free(y);
	free(uv);
	free(dst);
	free(dst2);
	free(rgb);
	free(tf);
	free(tb);
	return 0;
}

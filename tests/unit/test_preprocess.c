/* test_preprocess.c: ruth_preprocess_nv12 against a straightforward reference
 * (libswscale NV12 -> RGB24 at the target size, then a normalise loop), on a
 * real photo (messi5.jpg) and on a real video frame, plus geometry, strides,
 * odd sizes, layouts, u8 output and bad input.
 *
 * Bounds (mean absolute error in 8-bit pixel levels after un-normalising;
 * measured values in the comments next to each assert):
 *   - natural video frames (megamind.mp4), upscale and downscale: < 2.0;
 *   - the JPEG photo messi5.jpg: < 3.0: it has fine colour texture where
 *     swscale's chroma upsampling (nearest in its unscaled path, left-sited
 *     otherwise) and ours (bilinear, centre-sited) differ by a few levels per
 *     pixel, and swscale's integer yuv->rgb tables sit about 1 level below
 *     the exact BT.601 formula on average;
 *   - 15x downscale of the synthetic 1080p test pattern: ours is an area
 *     filter approximated by 4x4 point samples, swscale's SWS_BILINEAR a tent
 *     filter twice the footprint wide; on razor-sharp synthetic edges the two
 *     differ by ~6 levels on average, so that case is checked against an exact
 *     area-average reference computed here (< 4.0) and swscale only loosely
 *     (< 8.0).
 * Implementation checks: the portable kernels (a second copy of preprocess.c
 * compiled here without the AVX2 ones) must write exactly the same bytes as
 * the library over every internal path; the direct path (very large
 * downscales, frames wider than 4096) is checked against the exact area
 * average too. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "preprocess.h"
#include "test_pp_util.h"

/* A second copy of the implementation, compiled here from the same source
 * with RUTH_PP_NO_CLONES: only the portable kernels (what runs on CPUs without
 * AVX2 and on other architectures). test_portable_matches_dispatched checks
 * that it writes the same bytes as the library, whose dispatch picks the AVX2
 * vector kernels on an AVX2 machine. */
#define RUTH_PP_NO_CLONES
#define ruth_preprocess_nv12 pp_portable_preprocess_nv12
#define ruth_tensor_spec_from_config pp_portable_spec_from_config
#define ruth_tensor_bytes pp_portable_tensor_bytes
int pp_portable_preprocess_nv12(const struct ruth_nv12_frame *frame, const struct ruth_tensor_spec *spec,
				void *dst, struct ruth_letterbox *map);
void pp_portable_spec_from_config(struct ruth_tensor_spec *spec, const struct ruth_model_config *cfg);
size_t pp_portable_tensor_bytes(const struct ruth_tensor_spec *spec);
#include "preprocess.c"
#undef ruth_preprocess_nv12
#undef ruth_tensor_spec_from_config
#undef ruth_tensor_bytes

static char g_pathbuf[512];

static const char *media(const char *name)
{
	return pp_test_path(g_pathbuf, sizeof(g_pathbuf), "RUTH_MEDIA_DIR", RUTH_SOURCE_DIR "/.cache/media", name);
}

static struct ruth_tensor_spec spec_plain(uint32_t w, uint32_t h)
{
	struct ruth_tensor_spec s = {
		.width = w, .height = h, .layout = RUTH_LAYOUT_NHWC, .dtype = RUTH_DTYPE_F32,
		.color = RUTH_COLOR_RGB, .resize = RUTH_RESIZE_STRETCH, .scale = 1.0f,
		.mean = {0, 0, 0}, .std = {1, 1, 1}, .pad_value = 0,
	};
	return s;
}

/* Mean abs error (pixel levels) of an NHWC RGB f32 tensor with identity
 * normalisation against swscale at w x h. */
static double mae_vs_sws(const struct ruth_nv12_frame *f, uint32_t w, uint32_t h)
{
	struct ruth_tensor_spec s = spec_plain(w, h);
	float *t = malloc(ruth_tensor_bytes(&s));
	uint8_t *ref = malloc((size_t)w * h * 3);
	struct ruth_letterbox m;
	assert_int_equal(ruth_preprocess_nv12(f, &s, t, &m), 0);
	assert_int_equal(pp_test_sws_rgb(f, w, h, ref), 0);
	double sum = 0;
	for (size_t i = 0; i < (size_t)w * h * 3; i++)
		sum += fabs(t[i] - ref[i]);
	free(t);
	free(ref);
	double mae = sum / ((double)w * h * 3);
	printf("# %ux%u -> %ux%u: mean abs error %.3f levels\n", f->width, f->height, w, h, mae);
	return mae;
}

/* Exact area average (every source pixel whose centre lies in the footprint)
 * then the BT.601 formula, in double: the filter ours approximates. */
static double mae_vs_area(const struct ruth_nv12_frame *f, uint32_t w, uint32_t h)
{
	struct ruth_tensor_spec s = spec_plain(w, h);
	float *t = malloc(ruth_tensor_bytes(&s));
	assert_int_equal(ruth_preprocess_nv12(f, &s, t, NULL), 0);
	double fx = (double)f->width / w, fy = (double)f->height / h, sum = 0;
	for (uint32_t oy = 0; oy < h; oy++)
		for (uint32_t ox = 0; ox < w; ox++) {
			double Y = 0, U = 0, V = 0;
			int ny = 0, nc = 0;
			for (uint32_t sy = (uint32_t)ceil(oy * fy - 0.5); sy + 0.5 < (oy + 1) * fy; sy++)
				for (uint32_t sx = (uint32_t)ceil(ox * fx - 0.5); sx + 0.5 < (ox + 1) * fx; sx++) {
					Y += f->y[(size_t)sy * f->stride_y + sx];
					ny++;
				}
			for (uint32_t sy = (uint32_t)ceil(oy * fy / 2 - 0.5); sy + 0.5 < (oy + 1) * fy / 2; sy++)
				for (uint32_t sx = (uint32_t)ceil(ox * fx / 2 - 0.5); sx + 0.5 < (ox + 1) * fx / 2; sx++) {
					U += f->uv[(size_t)sy * f->stride_uv + 2 * sx];
					V += f->uv[(size_t)sy * f->stride_uv + 2 * sx + 1];
					nc++;
				}
			Y = (Y / ny - 16) * 1.164383;
			U = U / nc - 128;
			V = V / nc - 128;
			double rgb[3] = {Y + 1.596027 * V, Y - 0.391762 * U - 0.812968 * V, Y + 2.017232 * U};
			for (int c = 0; c < 3; c++) {
				double v = rgb[c] < 0 ? 0 : (rgb[c] > 255 ? 255 : rgb[c]);
				sum += fabs(v - t[((size_t)oy * w + ox) * 3 + c]);
			}
		}
	free(t);
	double mae = sum / ((double)w * h * 3);
	printf("# %ux%u -> %ux%u: mean abs error vs exact area %.3f levels\n", f->width, f->height, w, h, mae);
	return mae;
}

static void test_real_photo_vs_swscale(void **st)
{
	(void)st;
	struct pp_test_image img;
	assert_int_equal(pp_test_load_nv12(media("messi5.jpg"), 0, 0, &img), 0);
	assert_int_equal(img.f.width, 548);
	assert_int_equal(img.f.height, 342);
	assert_true(mae_vs_sws(&img.f, 400, 300) < 3.0); /* mild downscale, area: 1.97 */
	assert_true(mae_vs_sws(&img.f, 640, 480) < 3.0); /* upscale, bilinear: 2.56 */
	assert_true(mae_vs_sws(&img.f, 128, 128) < 4.0); /* 4.3x / 2.7x downscale: 3.35 */
	assert_true(mae_vs_area(&img.f, 128, 128) < 2.0);
	pp_test_image_free(&img);
}

static void test_video_frame_1080p_vs_swscale(void **st)
{
	(void)st;
	struct pp_test_image img;
	assert_int_equal(pp_test_load_nv12(media("testsrc_1080p.mp4"), 3, 0, &img), 0);
	assert_int_equal(img.f.width, 1920);
	assert_true(mae_vs_sws(&img.f, 128, 128) < 8.0); /* the benchmark geometry, 15x: 6.06 */
	assert_true(mae_vs_area(&img.f, 128, 128) < 4.0);
	assert_true(mae_vs_area(&img.f, 640, 360) < 2.0); /* 0.76 */
	pp_test_image_free(&img);
}

/* Odd source sizes and padded strides: same result as tight strides, and
 * still close to swscale. */
static void test_odd_sizes_and_strides(void **st)
{
	(void)st;
	struct pp_test_image tight, padded;
	assert_int_equal(pp_test_load_nv12(media("megamind.mp4"), 10, 0, &tight), 0);
	assert_int_equal(pp_test_load_nv12(media("megamind.mp4"), 10, 37, &padded), 0);
	assert_int_equal(padded.f.stride_y, tight.f.width + 37);
	struct ruth_tensor_spec s = spec_plain(127, 93);
	size_t n = ruth_tensor_bytes(&s);
	float *a = malloc(n), *b = malloc(n);
	assert_int_equal(ruth_preprocess_nv12(&tight.f, &s, a, NULL), 0);
	assert_int_equal(ruth_preprocess_nv12(&padded.f, &s, b, NULL), 0);
	assert_memory_equal(a, b, n);
	/* An odd-sized source: crop 719x527 out of the frame (odd width/height,
	 * chroma rounded up). */
	struct ruth_nv12_frame odd = tight.f;
	odd.width = 719;
	odd.height = 527;
	assert_true(mae_vs_sws(&odd, 127, 93) < 2.0);   /* 0.86 */
	assert_true(mae_vs_sws(&odd, 301, 211) < 2.0);  /* 0.38 */
	assert_true(mae_vs_sws(&odd, 1001, 777) < 2.0); /* upscale */
	assert_true(mae_vs_area(&odd, 127, 93) < 2.0);
	free(a);
	free(b);
	pp_test_image_free(&tight);
	pp_test_image_free(&padded);
}

/* Letterbox: exact geometry and mapping, pad value, content = stretch of the
 * content rectangle. */
static void test_letterbox_geometry(void **st)
{
	(void)st;
	struct pp_test_image img;
	assert_int_equal(pp_test_load_nv12(media("messi5.jpg"), 0, 0, &img), 0);
	struct ruth_tensor_spec s = spec_plain(128, 128);
	s.resize = RUTH_RESIZE_LETTERBOX;
	s.pad_value = 114;
	s.scale = 1.0f / 255;
	s.mean[0] = s.mean[1] = s.mean[2] = 0.5f;
	s.std[0] = s.std[1] = s.std[2] = 0.5f;
	float *t = malloc(ruth_tensor_bytes(&s));
	struct ruth_letterbox m;
	assert_int_equal(ruth_preprocess_nv12(&img.f, &s, t, &m), 0);
	/* 548x342 into 128: scale 0.2336, content 128 x 80 (79.88 rounded), pad 24 on top. */
	assert_float_equal(m.scale_x, 128.0f / 548, 1e-6);
	assert_float_equal(m.scale_y, 80.0f / 342, 1e-6);
	assert_float_equal(m.pad_x, 0, 0);
	assert_float_equal(m.pad_y, 24, 0);
	assert_int_equal(m.src_width, 548);
	assert_int_equal(m.src_height, 342);
	const float padn = (114.0f / 255 - 0.5f) / 0.5f;
	for (uint32_t y = 0; y < 128; y++)
		for (uint32_t x = 0; x < 128; x++)
			for (int c = 0; c < 3; c++) {
				float v = t[(y * 128 + x) * 3 + c];
				if (y < 24 || y >= 104)
					assert_float_equal(v, padn, 1e-6);
				else
					assert_true(v >= -1.0001f && v <= 1.0001f);
			}
	/* Content rows equal a stretch to 128x80 (same filter, same taps). */
	struct ruth_tensor_spec s2 = s;
	s2.resize = RUTH_RESIZE_STRETCH;
	s2.height = 80;
	float *t2 = malloc(ruth_tensor_bytes(&s2));
	assert_int_equal(ruth_preprocess_nv12(&img.f, &s2, t2, NULL), 0);
	assert_memory_equal(t + 24 * 128 * 3, t2, 128 * 80 * 3 * sizeof(float));
	/* Mapping round trip: source corner (548, 342) lands at model (128, 104). */
	assert_float_equal(548 * m.scale_x + m.pad_x, 128.0f, 1e-3);
	assert_float_equal(342 * m.scale_y + m.pad_y, 104.0f, 1e-3);
	/* A tall frame letterboxes with side bars. */
	struct ruth_nv12_frame tall = img.f;
	tall.width = 100;
	tall.height = 300;
	assert_int_equal(ruth_preprocess_nv12(&tall, &s, t, &m), 0);
	assert_float_equal(m.pad_y, 0, 0);
	assert_float_equal(m.pad_x, 42, 0); /* content 42.67 -> 43 wide, (128 - 43) / 2 = 42 */
	assert_float_equal(t[(64 * 128 + 0) * 3], padn, 1e-6);
	assert_float_equal(t[(64 * 128 + 127) * 3], padn, 1e-6);
	free(t);
	free(t2);
	pp_test_image_free(&img);
}

/* NCHW and NHWC hold the same values; BGR swaps R and B; per-channel
 * mean/std are applied per channel; u8 holds the rounded pixels. */
static void test_layouts_colors_u8(void **st)
{
	(void)st;
	struct pp_test_image img;
	assert_int_equal(pp_test_load_nv12(media("messi5.jpg"), 0, 0, &img), 0);
	const uint32_t w = 96, h = 64;
	struct ruth_tensor_spec s = spec_plain(w, h);
	s.scale = 1.0f / 255;
	s.mean[0] = 0.485f, s.mean[1] = 0.456f, s.mean[2] = 0.406f;
	s.std[0] = 0.229f, s.std[1] = 0.224f, s.std[2] = 0.225f;
	const size_t P = (size_t)w * h;
	float *nhwc = malloc(ruth_tensor_bytes(&s));
	assert_int_equal(ruth_preprocess_nv12(&img.f, &s, nhwc, NULL), 0);
	struct ruth_tensor_spec s2 = s;
	s2.layout = RUTH_LAYOUT_NCHW;
	s2.color = RUTH_COLOR_BGR;
	s2.mean[0] = s.mean[2], s2.mean[2] = s.mean[0];
	s2.std[0] = s.std[2], s2.std[2] = s.std[0];
	float *nchw = malloc(ruth_tensor_bytes(&s2));
	assert_int_equal(ruth_preprocess_nv12(&img.f, &s2, nchw, NULL), 0);
	for (size_t p = 0; p < P; p++)
		for (int c = 0; c < 3; c++)
			assert_float_equal(nhwc[p * 3 + c], nchw[(size_t)(2 - c) * P + p], 1e-6);
	struct ruth_tensor_spec s3 = spec_plain(w, h);
	s3.dtype = RUTH_DTYPE_U8;
	assert_int_equal(ruth_tensor_bytes(&s3), P * 3);
	uint8_t *u8 = malloc(ruth_tensor_bytes(&s3));
	assert_int_equal(ruth_preprocess_nv12(&img.f, &s3, u8, NULL), 0);
	for (size_t p = 0; p < P; p++)
		for (int c = 0; c < 3; c++) {
			float pix = (nhwc[p * 3 + c] * s.std[c] + s.mean[c]) * 255.0f;
			assert_true(fabsf(pix - u8[p * 3 + c]) <= 0.51f);
		}
	free(nhwc);
	free(nchw);
	free(u8);
	pp_test_image_free(&img);
}

/* Flat colours convert with BT.601 limited range: Y=16 -> black, Y=235 ->
 * white, and a saturated red (Y=81, U=90, V=240) -> about (255, 0, 0). */
static void test_colour_conversion(void **st)
{
	(void)st;
	static uint8_t y[16 * 16], uv[16 * 8];
	struct ruth_nv12_frame f = {.y = y, .uv = uv, .width = 16, .height = 16, .stride_y = 16, .stride_uv = 16};
	struct ruth_tensor_spec s = spec_plain(4, 4);
	float t[4 * 4 * 3];
	const struct {
		uint8_t Y, U, V;
		float r, g, b;
	} cases[] = {{16, 128, 128, 0, 0, 0}, {235, 128, 128, 255, 255, 255}, {81, 90, 240, 255, 0, 0},
		     {145, 54, 34, 0, 255, 0}, {41, 240, 110, 0, 0, 255}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(y, cases[i].Y, sizeof(y));
		for (size_t k = 0; k < sizeof(uv); k += 2) {
			uv[k] = cases[i].U;
			uv[k + 1] = cases[i].V;
		}
		assert_int_equal(ruth_preprocess_nv12(&f, &s, t, NULL), 0);
		assert_float_equal(t[0], cases[i].r, 3.0);
		assert_float_equal(t[1], cases[i].g, 3.0);
		assert_float_equal(t[2], cases[i].b, 3.0);
	}
}

static void test_bad_input(void **st)
{
	(void)st;
	static uint8_t y[64 * 64], uv[64 * 32];
	float t[8 * 8 * 3];
	struct ruth_nv12_frame f = {.y = y, .uv = uv, .width = 64, .height = 64, .stride_y = 64, .stride_uv = 64};
	struct ruth_tensor_spec s = spec_plain(8, 8);
	struct ruth_nv12_frame b = f;
	b.width = 0;
	assert_int_equal(ruth_preprocess_nv12(&b, &s, t, NULL), -EINVAL);
	b = f;
	b.stride_y = 63;
	assert_int_equal(ruth_preprocess_nv12(&b, &s, t, NULL), -EINVAL);
	b = f;
	b.stride_uv = 62;
	assert_int_equal(ruth_preprocess_nv12(&b, &s, t, NULL), -EINVAL);
	b = f;
	b.uv = NULL;
	assert_int_equal(ruth_preprocess_nv12(&b, &s, t, NULL), -EINVAL);
	struct ruth_tensor_spec bs = s;
	bs.width = 0;
	assert_int_equal(ruth_preprocess_nv12(&f, &bs, t, NULL), -EINVAL);
	bs = s;
	bs.std[1] = 0;
	assert_int_equal(ruth_preprocess_nv12(&f, &bs, t, NULL), -EINVAL);
	bs = s;
	bs.width = 100000;
	assert_int_equal(ruth_preprocess_nv12(&f, &bs, t, NULL), -EINVAL);
	assert_int_equal(ruth_preprocess_nv12(&f, &s, NULL, NULL), -EINVAL);
}

/* Run both implementations on one frame and geometry; every output byte
 * must match (the arithmetic is exact, see preprocess.c). */
static void expect_same_as_portable(const struct ruth_nv12_frame *f, const struct ruth_tensor_spec *s)
{
	size_t n = ruth_tensor_bytes(s);
	uint8_t *a = malloc(n), *b = malloc(n);
	assert_non_null(a);
	assert_non_null(b);
	memset(a, 0xa5, n);
	memset(b, 0x5a, n);
	struct ruth_letterbox ma, mb;
	assert_int_equal(ruth_preprocess_nv12(f, s, a, &ma), 0);
	assert_int_equal(pp_portable_preprocess_nv12(f, s, b, &mb), 0);
	assert_memory_equal(&ma, &mb, sizeof(ma));
	if (memcmp(a, b, n) != 0)
		fail_msg("%ux%u -> %ux%u (layout %d dtype %d resize %d): dispatched and portable outputs differ",
			 f->width, f->height, s->width, s->height, s->layout, s->dtype, s->resize);
	free(a);
	free(b);
}

/* A smooth synthetic frame (gradients), any size. */
static uint8_t *synthetic_nv12(uint32_t w, uint32_t h, struct ruth_nv12_frame *f)
{
	const uint32_t cw = (w + 1) / 2, ch = (h + 1) / 2;
	uint8_t *buf = malloc((size_t)w * h + (size_t)2 * cw * ch);
	assert_non_null(buf);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			buf[(size_t)y * w + x] = (uint8_t)(16 + (x * 200u) / w + (y * 19u) / h);
	uint8_t *uv = buf + (size_t)w * h;
	for (uint32_t y = 0; y < ch; y++)
		for (uint32_t x = 0; x < cw; x++) {
			uv[(size_t)y * 2 * cw + 2 * x] = (uint8_t)(64 + (x * 128u) / cw);
			uv[(size_t)y * 2 * cw + 2 * x + 1] = (uint8_t)(192 - (y * 128u) / ch);
		}
	*f = (struct ruth_nv12_frame){.y = buf, .uv = uv, .width = w, .height = h, .stride_y = w, .stride_uv = 2 * cw};
	return buf;
}

/* The portable kernels against the dispatched ones, over every code path:
 * 4-, 8- and 16-wide windows for luma and chroma, the direct path (frames
 * wider than the window path takes, downscales past its widest window),
 * column counts that are not a multiple of 8, rows shorter than one vector
 * step, letterbox bars on both axes, every layout, dtype and colour order. */
static void test_portable_matches_dispatched(void **st)
{
	(void)st;
	struct pp_test_image photo, video, frame1080, padded;
	assert_int_equal(pp_test_load_nv12(media("messi5.jpg"), 0, 0, &photo), 0);
	assert_int_equal(pp_test_load_nv12(media("megamind.mp4"), 10, 0, &video), 0);
	assert_int_equal(pp_test_load_nv12(media("megamind.mp4"), 10, 37, &padded), 0);
	assert_int_equal(pp_test_load_nv12(media("testsrc_1080p.mp4"), 3, 0, &frame1080), 0);
	struct ruth_tensor_spec s = spec_plain(128, 128);
	s.scale = 1.0f / 127.5f; /* BlazeFace */
	s.mean[0] = s.mean[1] = s.mean[2] = 1.0f;
	expect_same_as_portable(&photo.f, &s);     /* windows 8 / 4 */
	expect_same_as_portable(&video.f, &s);     /* windows 8 / 4 */
	expect_same_as_portable(&padded.f, &s);    /* padded strides */
	expect_same_as_portable(&frame1080.f, &s); /* windows 16 / 8 against the direct path */
	struct ruth_tensor_spec lb = s;
	lb.resize = RUTH_RESIZE_LETTERBOX;
	lb.pad_value = 114;
	expect_same_as_portable(&photo.f, &lb); /* bars above and below */
	struct ruth_nv12_frame tall = photo.f;
	tall.width = 100;
	tall.height = 300;
	expect_same_as_portable(&tall, &lb); /* bars left and right, 43 columns */
	struct ruth_tensor_spec other = spec_plain(96, 64);
	other.layout = RUTH_LAYOUT_NCHW;
	other.color = RUTH_COLOR_BGR;
	other.scale = 1.0f / 255;
	other.mean[0] = 0.406f, other.mean[1] = 0.456f, other.mean[2] = 0.485f;
	other.std[0] = 0.225f, other.std[1] = 0.224f, other.std[2] = 0.229f;
	expect_same_as_portable(&photo.f, &other);
	struct ruth_tensor_spec up = spec_plain(640, 480); /* upscale: windows 4 / 4 */
	up.dtype = RUTH_DTYPE_U8;
	expect_same_as_portable(&photo.f, &up);
	up.layout = RUTH_LAYOUT_NCHW;
	expect_same_as_portable(&video.f, &up);
	struct ruth_nv12_frame odd = video.f;
	odd.width = 719;
	odd.height = 527;
	const uint32_t sizes[][2] = {{127, 93}, {301, 211}, {1001, 777}, {13, 7}, {1, 1}};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		expect_same_as_portable(&odd, &(struct ruth_tensor_spec){
			.width = sizes[i][0], .height = sizes[i][1], .layout = RUTH_LAYOUT_NHWC,
			.dtype = RUTH_DTYPE_F32, .color = RUTH_COLOR_RGB, .resize = RUTH_RESIZE_STRETCH,
			.scale = 1.0f, .std = {1, 1, 1}});
	const uint32_t big[][2] = {{640, 360}, {300, 300}, {64, 36}}; /* windows 4, 8 / 4, direct */
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++)
		expect_same_as_portable(&frame1080.f, &(struct ruth_tensor_spec){
			.width = big[i][0], .height = big[i][1], .layout = RUTH_LAYOUT_NHWC,
			.dtype = RUTH_DTYPE_F32, .color = RUTH_COLOR_RGB, .resize = RUTH_RESIZE_STRETCH,
			.scale = 1.0f, .std = {1, 1, 1}});
	/* Rows shorter than one 32-byte step, and just over one. */
	struct ruth_nv12_frame small;
	uint8_t *b1 = synthetic_nv12(17, 9, &small);
	expect_same_as_portable(&small, &(struct ruth_tensor_spec){
		.width = 8, .height = 8, .layout = RUTH_LAYOUT_NHWC, .dtype = RUTH_DTYPE_F32,
		.color = RUTH_COLOR_RGB, .resize = RUTH_RESIZE_STRETCH, .scale = 1.0f, .std = {1, 1, 1}});
	free(b1);
	b1 = synthetic_nv12(70, 40, &small);
	expect_same_as_portable(&small, &(struct ruth_tensor_spec){
		.width = 33, .height = 21, .layout = RUTH_LAYOUT_NHWC, .dtype = RUTH_DTYPE_F32,
		.color = RUTH_COLOR_RGB, .resize = RUTH_RESIZE_STRETCH, .scale = 1.0f, .std = {1, 1, 1}});
	free(b1);
	pp_test_image_free(&photo);
	pp_test_image_free(&video);
	pp_test_image_free(&padded);
	pp_test_image_free(&frame1080);
}

/* Geometries outside the window path still filter correctly: a 30x
 * downscale (taps wider than the widest window) and a frame wider than the
 * column-sum rows, against the exact area average. */
static void test_direct_path_vs_area(void **st)
{
	(void)st;
	struct pp_test_image img;
	assert_int_equal(pp_test_load_nv12(media("testsrc_1080p.mp4"), 3, 0, &img), 0);
	assert_true(mae_vs_area(&img.f, 64, 36) < 4.0); /* 30x: 1.00 */
	pp_test_image_free(&img);
	struct ruth_nv12_frame wide;
	uint8_t *buf = synthetic_nv12(4400, 48, &wide);
	assert_true(mae_vs_area(&wide, 100, 24) < 2.0); /* 44x horizontally: 0.04 */
	expect_same_as_portable(&wide, &(struct ruth_tensor_spec){
		.width = 100, .height = 24, .layout = RUTH_LAYOUT_NHWC, .dtype = RUTH_DTYPE_F32,
		.color = RUTH_COLOR_RGB, .resize = RUTH_RESIZE_STRETCH, .scale = 1.0f, .std = {1, 1, 1}});
	free(buf);
}

static void test_spec_from_config(void **st)
{
	(void)st;
	struct ruth_model_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.expected_width = 640;
	cfg.expected_height = 480;
	cfg.input.layout = RUTH_LAYOUT_NCHW;
	cfg.input.color = RUTH_COLOR_BGR;
	cfg.input.resize = RUTH_RESIZE_LETTERBOX;
	cfg.input.scale = 1.0f / 255;
	cfg.input.mean[1] = 0.5f;
	cfg.input.std[0] = cfg.input.std[1] = cfg.input.std[2] = 2.0f;
	cfg.input.pad_value = 7;
	struct ruth_tensor_spec s;
	ruth_tensor_spec_from_config(&s, &cfg);
	assert_int_equal(s.width, 640);
	assert_int_equal(s.height, 480);
	assert_int_equal(s.layout, RUTH_LAYOUT_NCHW);
	assert_int_equal(s.color, RUTH_COLOR_BGR);
	assert_int_equal(s.resize, RUTH_RESIZE_LETTERBOX);
	assert_float_equal(s.mean[1], 0.5f, 0);
	assert_float_equal(s.std[2], 2.0f, 0);
	assert_int_equal(s.pad_value, 7);
	assert_int_equal(ruth_tensor_bytes(&s), 640 * 480 * 3 * sizeof(float));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_photo_vs_swscale),
		cmocka_unit_test(test_video_frame_1080p_vs_swscale),
		cmocka_unit_test(test_odd_sizes_and_strides),
		cmocka_unit_test(test_letterbox_geometry),
		cmocka_unit_test(test_layouts_colors_u8),
		cmocka_unit_test(test_colour_conversion),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_spec_from_config),
		cmocka_unit_test(test_portable_matches_dispatched),
		cmocka_unit_test(test_direct_path_vs_area),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

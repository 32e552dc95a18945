/* preprocess.c: NV12 -> model input tensor in one pass (see preprocess.h).
 *
 * Per output pixel the Y plane and the interleaved UV plane are filtered
 * separately (both are sampled in their own resolution, so no chroma
 * upsampling pass exists), the filtered Y'CbCr triple is converted to R'G'B'
 * with BT.601 limited-range coefficients, and the normalisation
 * value = pixel * scale / std - mean / std is applied as one multiply-add.
 *
 * Filter per axis, chosen from the scale factor f = source / content size:
 *   f <= 1 (upscale or same size): bilinear, two taps, pixel-centre aligned
 *     (src = (dst + 0.5) / s - 0.5, the convention of swscale and OpenCV).
 *   f > 1 (downscale): area (box) filter over the output pixel's footprint
 *     [d / s, (d + 1) / s), each source pixel weighted by its overlap. When the
 *     footprint covers more than RUTH_PP_TAPS pixels (f > 3 or so) the box is
 *     approximated by RUTH_PP_TAPS evenly spaced point samples with equal
 *     weights. Why: bilinear with only 4 source pixels aliases badly at the
 *     15x downscale of 1080p -> 128 (it would read 0.4% of the pixels and turn
 *     fine texture into noise), while a full box reads every pixel and costs
 *     as much as swscale. A 4x4 sparse box keeps the low-pass behaviour of an
 *     area filter at a fixed cost of 16 luma and 16 chroma reads per output
 *     pixel, independent of the source size.
 * Weights are fixed point Q8 (sum exactly 256 per axis), so one pixel's Y
 * accumulator is at most 255 * 256 * 256 < 2^24 and fits int32 exactly.
 *
 * Chroma siting: chroma samples are treated as centred between their 2x2 luma
 * pixels (the JPEG/MPEG-1 convention). H.264 is usually left-sited (MPEG-2);
 * the difference is a quarter of a luma pixel horizontally, below what the
 * models can see.
 *
 * Moderate downscales (horizontal factor <= RUTH_PP_VPASS_MAX_F, source row
 * <= RUTH_PP_VBUF bytes) filter vertically first: the four tap rows are summed
 * for every source column in vectorised 16-bit lanes, then each output pixel
 * needs one read per horizontal tap instead of four. The integer results are
 * bit-identical to the tap-by-tap path, which large downscales keep (there
 * the sparse taps read few of the columns, so a full-row pass costs more).
 *
 * No allocation: the per-column tap tables, three row buffers and two column
 * sum buffers live on the stack (about 168 KiB at most, bounded by
 * RUTH_PP_MAX_DIM and RUTH_PP_VBUF); per-row taps are computed when the row
 * starts. Measured (Release, -O2): 1080p -> 128x128 float in ~200 us against
 * ~530 us for swscale + a normalise loop (bench_preprocess); 548x342 -> 128
 * stretch ~140 us (was ~300 us before the vertical-first path). */
#include "preprocess.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define RUTH_PP_TAPS 4
/* Largest model input side accepted; bounds the stack tables (32 bytes a column
 * and plane: 2 * 2048 * 32 = 128 KiB) and the row buffers (3 * 2048 floats). */
#define RUTH_PP_MAX_DIM 2048
/* Vertical-first path: source rows up to this many bytes (2 * 4 KiB stack), and
 * only when the horizontal factor is at most RUTH_PP_VPASS_MAX_F (beyond it
 * the sparse taps read too few columns for a full-row pass to pay off). */
#define RUTH_PP_VBUF 4096
#define RUTH_PP_VPASS_MAX_F 8

struct pp_tap {
	int32_t idx[RUTH_PP_TAPS];
	int32_t w[RUTH_PP_TAPS];
};

void ruth_tensor_spec_from_config(struct ruth_tensor_spec *spec, const struct ruth_model_config *cfg)
{
	memset(spec, 0, sizeof(*spec));
	spec->width = cfg->expected_width;
	spec->height = cfg->expected_height;
	spec->layout = cfg->input.layout;
	spec->dtype = cfg->input.dtype;
	spec->color = cfg->input.color;
	spec->resize = cfg->input.resize;
	spec->scale = cfg->input.scale;
	for (int c = 0; c < 3; c++) {
		spec->mean[c] = cfg->input.mean[c];
		spec->std[c] = cfg->input.std[c];
	}
	spec->pad_value = cfg->input.pad_value;
}

size_t ruth_tensor_bytes(const struct ruth_tensor_spec *spec)
{
	size_t n = (size_t)spec->width * spec->height * 3u;
	return spec->dtype == RUTH_DTYPE_U8 ? n : n * sizeof(float);
}

/* Normalise the Q8 weights of one tap set so they sum to exactly 256: the
 * rounding remainder goes to the largest weight. */
static void tap_fix_sum(struct pp_tap *t)
{
	int32_t sum = 0, best = 0;
	for (int i = 0; i < RUTH_PP_TAPS; i++) {
		sum += t->w[i];
		if (t->w[i] > t->w[best])
			best = i;
	}
	t->w[best] += 256 - sum;
}

/* Taps for output position d (0-based inside the content region of n_dst
 * positions) over a source axis of n_src pixels. */
static void tap_make(struct pp_tap *t, uint32_t d, uint32_t n_dst, uint32_t n_src)
{
	double f = (double)n_src / n_dst; /* source pixels per output pixel */
	memset(t, 0, sizeof(*t));
	if (f <= 1.0) {
		double s = ((double)d + 0.5) * f - 0.5;
		if (s < 0)
			s = 0;
		int32_t i0 = (int32_t)s;
		double fr = s - i0;
		int32_t i1 = i0 + 1 < (int32_t)n_src ? i0 + 1 : i0;
		t->idx[0] = i0;
		t->idx[1] = i1;
		t->idx[2] = t->idx[3] = i0;
		t->w[1] = (int32_t)lround(fr * 256.0);
		t->w[0] = 256 - t->w[1];
		return;
	}
	double a = d * f, b = (d + 1.0) * f;
	if (b > n_src)
		b = n_src;
	int32_t k0 = (int32_t)floor(a), k1 = (int32_t)ceil(b); /* pixels k0 .. k1-1 */
	if (k1 - k0 <= RUTH_PP_TAPS) {
		for (int32_t k = k0, i = 0; k < k1; k++, i++) {
			double lo = k > a ? k : a, hi = k + 1 < b ? k + 1 : b;
			t->idx[i] = k;
			t->w[i] = (int32_t)lround((hi - lo) / (b - a) * 256.0);
		}
		for (int i = k1 - k0; i < RUTH_PP_TAPS; i++)
			t->idx[i] = k0;
	} else {
		for (int i = 0; i < RUTH_PP_TAPS; i++) {
			int32_t k = (int32_t)(a + (i + 0.5) * (b - a) / RUTH_PP_TAPS);
			t->idx[i] = k < (int32_t)n_src ? k : (int32_t)n_src - 1;
			t->w[i] = 256 / RUTH_PP_TAPS;
		}
	}
	tap_fix_sum(t);
}

/* out[k] = sum of rows r_i[k] * t->w[i], for k < n. Computed in 16-bit lanes:
 * exact, since each weight is at most 256 and they sum to 256, so the sum is
 * at most 255 * 256 < 2^16 and no partial sum wraps modulo 2^16 in a way that
 * changes the final value (unsigned arithmetic is exact modulo 2^16 and the
 * true result is below 2^16). restrict: the output buffer is on the stack and
 * never aliases the frame, which lets the compiler vectorise the loop. */
static void pp_vsum(uint16_t *restrict out, const uint8_t *restrict r0, const uint8_t *restrict r1,
		    const uint8_t *restrict r2, const uint8_t *restrict r3, const struct pp_tap *t, uint32_t n)
{
	const uint16_t w0 = (uint16_t)t->w[0], w1 = (uint16_t)t->w[1], w2 = (uint16_t)t->w[2],
		       w3 = (uint16_t)t->w[3];
	uint32_t k = 0;
	/* Fixed 16-wide blocks: this file is built with -O2, whose "very cheap"
	 * vectoriser cost model only vectorises loops with a known trip count. */
	for (; k + 16 <= n; k += 16)
		for (uint32_t j = k; j < k + 16; j++)
			out[j] = (uint16_t)((uint16_t)(r0[j] * w0) + (uint16_t)(r1[j] * w1) +
					    (uint16_t)(r2[j] * w2) + (uint16_t)(r3[j] * w3));
	for (; k < n; k++)
		out[k] = (uint16_t)((uint16_t)(r0[k] * w0) + (uint16_t)(r1[k] * w1) + (uint16_t)(r2[k] * w2) +
				    (uint16_t)(r3[k] * w3));
}

int ruth_preprocess_nv12(const struct ruth_nv12_frame *frame, const struct ruth_tensor_spec *spec,
			 void *dst, struct ruth_letterbox *map)
{
	if (!frame || !spec || !dst || !frame->y || !frame->uv)
		return -EINVAL;
	const uint32_t W = frame->width, H = frame->height, w = spec->width, h = spec->height;
	const uint32_t CW = (W + 1) / 2, CH = (H + 1) / 2;
	if (!W || !H || !w || !h || w > RUTH_PP_MAX_DIM || h > RUTH_PP_MAX_DIM)
		return -EINVAL;
	if (frame->stride_y < W || frame->stride_uv < 2 * CW)
		return -EINVAL;
	if (spec->dtype == RUTH_DTYPE_F32 && (!spec->std[0] || !spec->std[1] || !spec->std[2]))
		return -EINVAL;

	/* Content rectangle inside the tensor. */
	uint32_t cw = w, ch = h, px = 0, py = 0;
	if (spec->resize == RUTH_RESIZE_LETTERBOX) {
		double s = fmin((double)w / W, (double)h / H);
		cw = (uint32_t)lround(W * s);
		ch = (uint32_t)lround(H * s);
		cw = cw < 1 ? 1 : (cw > w ? w : cw);
		ch = ch < 1 ? 1 : (ch > h ? h : ch);
		px = (w - cw) / 2;
		py = (h - ch) / 2;
	}
	struct ruth_letterbox m = {
		.scale_x = (float)cw / W, .scale_y = (float)ch / H,
		.pad_x = (float)px, .pad_y = (float)py,
		.src_width = W, .src_height = H,
	};
	if (map)
		*map = m;

	const size_t plane = (size_t)w * h;
	struct pp_tap xl[RUTH_PP_MAX_DIM], xc[RUTH_PP_MAX_DIM];
	for (uint32_t x = 0; x < cw; x++) {
		tap_make(&xl[x], x, cw, W);
		tap_make(&xc[x], x, cw, CW);
		/* UV is interleaved: byte offset of the U sample. */
		for (int i = 0; i < RUTH_PP_TAPS; i++)
			xc[x].idx[i] *= 2;
	}

	/* Per channel: value = pixel * ka[c] + kb[c] (c in tensor channel order). */
	float ka[3], kb[3];
	for (int c = 0; c < 3; c++) {
		if (spec->dtype == RUTH_DTYPE_F32) {
			ka[c] = spec->scale / spec->std[c];
			kb[c] = -spec->mean[c] / spec->std[c];
		} else {
			ka[c] = 1.0f;
			kb[c] = 0.0f;
		}
	}
	/* The row is done in three small loops (luma filter, chroma filter,
	 * convert + store) rather than one big one: each keeps its state in
	 * registers, and the layout/dtype branches are hoisted out of the pixel
	 * loop. The row buffers stay in L1. */
	float rbuf[3][RUTH_PP_MAX_DIM];
	/* Column sums for the vertical-first path (see the row loop); used when
	 * the source row fits and the downscale is moderate, where most source
	 * columns are read by some tap anyway. */
	uint16_t vy[RUTH_PP_VBUF], vc[RUTH_PP_VBUF];
	const int vpass = W <= RUTH_PP_VBUF && 2 * CW <= RUTH_PP_VBUF && W <= RUTH_PP_VPASS_MAX_F * cw;
	const float padv = spec->pad_value;
	for (uint32_t x = 0; x < w; x++)
		rbuf[0][x] = rbuf[1][x] = rbuf[2][x] = padv;
	for (uint32_t y = 0; y < h; y++) {
		const int content = y >= py && y < py + ch;
		if (content) {
			struct pp_tap yl, yc;
			tap_make(&yl, y - py, ch, H);
			tap_make(&yc, y - py, ch, CH);
			const uint8_t *r0 = frame->y + (size_t)yl.idx[0] * frame->stride_y;
			const uint8_t *r1 = frame->y + (size_t)yl.idx[1] * frame->stride_y;
			const uint8_t *r2 = frame->y + (size_t)yl.idx[2] * frame->stride_y;
			const uint8_t *r3 = frame->y + (size_t)yl.idx[3] * frame->stride_y;
			const int32_t w0 = yl.w[0], w1 = yl.w[1], w2 = yl.w[2], w3 = yl.w[3];
			float *ry = rbuf[0] + px, *ru = rbuf[1] + px, *rv = rbuf[2] + px;
			const float q = 1.0f / 65536.0f;
			const uint8_t *c0 = frame->uv + (size_t)yc.idx[0] * frame->stride_uv;
			const uint8_t *c1 = frame->uv + (size_t)yc.idx[1] * frame->stride_uv;
			const uint8_t *c2 = frame->uv + (size_t)yc.idx[2] * frame->stride_uv;
			const uint8_t *c3 = frame->uv + (size_t)yc.idx[3] * frame->stride_uv;
			const int32_t v0 = yc.w[0], v1 = yc.w[1], v2 = yc.w[2], v3 = yc.w[3];
			if (vpass) {
				/* Vertical pass first: one weighted sum per source column
				 * (vectorised, 16-bit: a pixel times a weight sums to at most
				 * 255 * 256 because the weights sum to 256), then the
				 * horizontal taps read one value per tap instead of four.
				 * The integer result is identical to the tap-by-tap form. */
				pp_vsum(vy, r0, r1, r2, r3, &yl, W);
				pp_vsum(vc, c0, c1, c2, c3, &yc, 2 * CW);
				for (uint32_t x = 0; x < cw; x++) {
					const struct pp_tap *t = &xl[x];
					int32_t a = vy[t->idx[0]] * t->w[0] + vy[t->idx[1]] * t->w[1] +
						    vy[t->idx[2]] * t->w[2] + vy[t->idx[3]] * t->w[3];
					ry[x] = (a * q - 16.0f) * 1.164383f;
				}
				for (uint32_t x = 0; x < cw; x++) {
					const struct pp_tap *t = &xc[x];
					int32_t au = vc[t->idx[0]] * t->w[0] + vc[t->idx[1]] * t->w[1] +
						     vc[t->idx[2]] * t->w[2] + vc[t->idx[3]] * t->w[3];
					int32_t av = vc[t->idx[0] + 1] * t->w[0] + vc[t->idx[1] + 1] * t->w[1] +
						     vc[t->idx[2] + 1] * t->w[2] + vc[t->idx[3] + 1] * t->w[3];
					ru[x] = au * q - 128.0f;
					rv[x] = av * q - 128.0f;
				}
			} else {
				/* Large downscales sample with equal weights: sum the rows first. */
				const int ly_eq = w0 == w1 && w1 == w2 && w2 == w3;
				for (uint32_t x = 0; x < cw; x++) {
					const struct pp_tap *t = &xl[x];
					int32_t a = 0;
					if (ly_eq) {
						for (int i = 0; i < RUTH_PP_TAPS; i++) {
							int32_t k = t->idx[i];
							a += (r0[k] + r1[k] + r2[k] + r3[k]) * t->w[i];
						}
						a *= w0;
					} else {
						for (int i = 0; i < RUTH_PP_TAPS; i++) {
							int32_t k = t->idx[i];
							a += (r0[k] * w0 + r1[k] * w1 + r2[k] * w2 + r3[k] * w3) * t->w[i];
						}
					}
					ry[x] = (a * q - 16.0f) * 1.164383f;
				}
				const int cy_eq = v0 == v1 && v1 == v2 && v2 == v3;
				for (uint32_t x = 0; x < cw; x++) {
					const struct pp_tap *t = &xc[x];
					int32_t au = 0, av = 0;
					if (cy_eq) {
						for (int i = 0; i < RUTH_PP_TAPS; i++) {
							int32_t k = t->idx[i];
							au += (c0[k] + c1[k] + c2[k] + c3[k]) * t->w[i];
							av += (c0[k + 1] + c1[k + 1] + c2[k + 1] + c3[k + 1]) * t->w[i];
						}
						au *= v0;
						av *= v0;
					} else {
						for (int i = 0; i < RUTH_PP_TAPS; i++) {
							int32_t k = t->idx[i];
							au += (c0[k] * v0 + c1[k] * v1 + c2[k] * v2 + c3[k] * v3) * t->w[i];
							av += (c0[k + 1] * v0 + c1[k + 1] * v1 + c2[k + 1] * v2 +
							       c3[k + 1] * v3) * t->w[i];
						}
					}
					ru[x] = au * q - 128.0f;
					rv[x] = av * q - 128.0f;
				}
			}
			/* BT.601 limited range -> R'G'B', in place: rbuf becomes R, G, B. */
			for (uint32_t x = 0; x < cw; x++) {
				float Y = ry[x], U = ru[x], V = rv[x];
				float r = Y + 1.596027f * V;
				float g = Y - 0.391762f * U - 0.812968f * V;
				float b = Y + 2.017232f * U;
				ry[x] = r < 0 ? 0 : (r > 255 ? 255 : r);
				ru[x] = g < 0 ? 0 : (g > 255 ? 255 : g);
				rv[x] = b < 0 ? 0 : (b > 255 ? 255 : b);
			}
		} else if (y == py + ch) {
			/* Below the content: the row buffers go back to the pad colour. */
			for (uint32_t x = 0; x < w; x++)
				rbuf[0][x] = rbuf[1][x] = rbuf[2][x] = padv;
		}
		/* Tensor channel t takes rbuf[src[t]]: RGB or BGR order. */
		const float *s0 = rbuf[spec->color == RUTH_COLOR_BGR ? 2 : 0], *s1 = rbuf[1],
			    *s2 = rbuf[spec->color == RUTH_COLOR_BGR ? 0 : 2];
		const size_t row = (size_t)y * w;
		if (spec->dtype == RUTH_DTYPE_U8) {
			uint8_t *d = dst;
			if (spec->layout == RUTH_LAYOUT_NCHW) {
				for (uint32_t x = 0; x < w; x++) {
					d[row + x] = (uint8_t)(s0[x] + 0.5f);
					d[plane + row + x] = (uint8_t)(s1[x] + 0.5f);
					d[2 * plane + row + x] = (uint8_t)(s2[x] + 0.5f);
				}
			} else {
				d += row * 3;
				for (uint32_t x = 0; x < w; x++) {
					d[3 * x] = (uint8_t)(s0[x] + 0.5f);
					d[3 * x + 1] = (uint8_t)(s1[x] + 0.5f);
					d[3 * x + 2] = (uint8_t)(s2[x] + 0.5f);
				}
			}
		} else {
			float *d = dst;
			if (spec->layout == RUTH_LAYOUT_NCHW) {
				for (uint32_t x = 0; x < w; x++) {
					d[row + x] = s0[x] * ka[0] + kb[0];
					d[plane + row + x] = s1[x] * ka[1] + kb[1];
					d[2 * plane + row + x] = s2[x] * ka[2] + kb[2];
				}
			} else {
				d += row * 3;
				for (uint32_t x = 0; x < w; x++) {
					d[3 * x] = s0[x] * ka[0] + kb[0];
					d[3 * x + 1] = s1[x] * ka[1] + kb[1];
					d[3 * x + 2] = s2[x] * ka[2] + kb[2];
				}
			}
		}
	}
	return 0;
}

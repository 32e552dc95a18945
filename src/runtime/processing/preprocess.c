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
 * Two ways through a row, both exact in the same integer arithmetic (so the
 * output does not depend on which one runs):
 *   Window path (source rows up to RUTH_PP_VBUF pixels, and every output
 *   column's taps within RUTH_PP_WIN_MAX source pixels, i.e. up to about 18x
 *   horizontal downscale): first the column sums, sum_i w_i * row_i[k] over
 *   the (up to four) tap rows, for every source column in 16-bit vector lanes
 *   (pp_vsum_step), widened to float; then each output column is one dot
 *   product of a window of 4, 8 or 16 column sums with a per-column weight
 *   vector that has the taps' weights where they fall and zeros elsewhere
 *   (pp_run_window builds them once per frame). The dot products run eight
 *   columns at a time in 8-lane vectors with a transpose-add; the colour
 *   conversion and clamp follow in the same loop (PP_ROW_KERNEL), and the
 *   layout store interleaves with shuffles and blends.
 *   Direct path (anything else: frames wider than RUTH_PP_VBUF, horizontal
 *   downscales past the widest window): tap-by-tap from the frame, 16 luma
 *   and 32 chroma byte reads per pixel.
 *
 * Exactness of the float arithmetic: every column sum is an integer at most
 * 255 * 256 (Q8 weights sum to 256), every window product and every partial
 * sum an integer at most 255 * 256 * 256 < 2^24, all non-negative. float
 * holds every integer below 2^24 exactly, so each addition and product is
 * exact whatever its order, and the result equals the int32 sum of the
 * tap-by-tap form bit for bit. The colour conversion then performs the same
 * float operations in both paths (see pp_convert for the one rewrite, which
 * is exact too). No fused multiply-add anywhere: CMake compiles this file
 * with -ffp-contract=off, and the AVX2 targets do not enable FMA. The output
 * is bit-identical to the previous scalar implementation (checked on 1000
 * random geometries, layouts, dtypes and strides, both kernel sets).
 *
 * Kernels: the hot ones exist twice. The AVX2 ones use GCC/clang vector
 * extensions (vector_size, __builtin_shufflevector, __builtin_convertvector;
 * no intrinsics) on 8-lane vectors, are compiled with a target("avx2")
 * attribute and run when the CPU reports AVX2 (checked per call, cheap). The
 * portable ones are plain C loops with the same arithmetic, compiled for the
 * baseline (and on x86-64 also as a target_clones AVX2 clone, since the
 * compiler vectorises them itself): they serve CPUs without AVX2, aarch64
 * and everything else; there the window path is only taken for windows of
 * up to 8 (wider ones are slower than the direct path without vectors).
 * Both give the same bytes; RUTH_PP_NO_CLONES builds the portable kernels
 * only, which is how test_preprocess compiles a second copy of this file to
 * compare the two on real frames. No -march anywhere: one binary for any
 * x86-64.
 *
 * No allocation. Stack (gcc -fstack-usage, x86-64): the window path 174 KiB
 * (weight tables RUTH_PP_WTAB floats = 96 KiB, base tables 16 KiB, two
 * column-sum rows 32 KiB, three R/G/B rows 24 KiB, row taps for a batch
 * 4 KiB), the direct path 177 KiB (AoS tap tables 128 KiB and the rows).
 * They run in separate frames, never nested: at most about 178 KiB with the
 * callers' frames, bounded by RUTH_PP_MAX_DIM and RUTH_PP_VBUF.
 *
 * Measured (Release, this 2-vCPU VM, one thread, median of 301 runs, 128x128
 * float NHWC stretch with the BlazeFace normalisation; previous scalar code ->
 * this code, AVX2 kernels; portable kernels alone in brackets):
 *   548x342    ~150 us -> ~47 us (~135 us)
 *   720x528    ~152 us -> ~50.5 us (~139 us)
 *   1920x1080  ~198 us -> ~106 us (~214 us)
 * bench_preprocess (1080p, caches shared with swscale): ~119 us against
 * ~540 us for swscale + a normalise loop. */
#include "preprocess.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define RUTH_PP_TAPS 4
/* Largest model input side accepted; bounds the tables and row buffers. */
#define RUTH_PP_MAX_DIM 2048
/* Window path: source rows up to this many pixels. */
#define RUTH_PP_VBUF 4096
/* Widest horizontal window (source pixels, luma or chroma). */
#define RUTH_PP_WIN_MAX 16
/* Window weight table budget in floats (96 KiB): cw * (luma window + 2 *
 * chroma window) must fit; a 2048-wide output with 4-pixel windows needs
 * 2048 * 12, a 512-wide one with 16-pixel windows 512 * 48. */
#define RUTH_PP_WTAB 24576
/* Output rows are padded to a multiple of 8 columns (the window kernels write
 * whole 8-column blocks). */
#define RUTH_PP_ROW (RUTH_PP_MAX_DIM + 8)
/* Rows whose vertical taps are made together (see pp_run_window). */
#define RUTH_PP_RBATCH 32

/* Two kinds of kernels. The vector ones (8-lane vectors, shuffles) are built
 * for AVX2 only, with a target attribute, and chosen at run time when the
 * CPU has it: GCC lowers 32-byte vectors badly without AVX (through the
 * stack; measured 3x slower than plain scalar code). The portable ones are
 * plain C loops (same arithmetic, same results), built for the baseline and,
 * on x86-64, also as an AVX2 clone (target_clones) since the compiler
 * vectorises them itself. No -march anywhere: the binary runs on any x86-64,
 * and aarch64 or others get the portable kernels. FMA is never enabled (see
 * exactness above). RUTH_PP_NO_CLONES builds the portable kernels only. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(RUTH_PP_NO_CLONES)
#define PP_HAVE_AVX2 1
#define PP_AVX2 __attribute__((target("avx2")))
/* target_clones makes an ifunc, whose resolver the dynamic loader runs before
 * ThreadSanitizer's runtime is up; instrumented, it crashes at start. TSan
 * builds (tests only) get the baseline portable kernels instead. */
#if defined(__SANITIZE_THREAD__)
#define PP_CLONES
#else
#define PP_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#else
#define PP_HAVE_AVX2 0
#define PP_CLONES
#endif

/* The clamp "r > 0 ? r : 0", "r < 255 ? r : 255" is one max and one min
 * instruction only when the compiler may ignore NaN and the sign of zero;
 * GCC otherwise emits compare + blend sequences (3 to 4 times the
 * instructions). Both hold here: every value is a finite combination of
 * finite sums, and no -0.0 can arise (Y, U', V' are +0 or non-zero, and an
 * exact zero sum of non-zero terms is +0), so the result is the same as the
 * strict form, bit for bit; the flags apply to the conversion kernels only. */
#if defined(__GNUC__) && !defined(__clang__)
#define PP_CLAMP_OPT __attribute__((optimize("finite-math-only", "no-signed-zeros")))
#else
#define PP_CLAMP_OPT
#endif

#if PP_HAVE_AVX2
/* 4- and 8-float vectors (GCC and clang vector extensions), used by the AVX2
 * kernels only: an 8-lane vector is one AVX register there. */
typedef float pp_v4 __attribute__((vector_size(16)));
typedef float pp_v8 __attribute__((vector_size(32)));
#define PP_SHUF __builtin_shufflevector

static inline pp_v4 pp_ld(const float *p)
{
	pp_v4 v;
	memcpy(&v, p, sizeof(v)); /* unaligned load */
	return v;
}
#endif

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
	/* The first largest weight, chosen with selects rather than branches:
	 * tables are built per frame and a mispredicted branch here cost more
	 * than the rest of tap_make. */
	int32_t sum = t->w[0], best = 0, bw = t->w[0];
	for (int i = 1; i < RUTH_PP_TAPS; i++) {
		const int gt = t->w[i] > bw;
		sum += t->w[i];
		best = gt ? i : best;
		bw = gt ? t->w[i] : bw;
	}
	t->w[best] += 256 - sum;
}

/* Taps for output position d (0-based inside the content region of n_dst
 * positions) over a source axis of n_src pixels; f = (double)n_src / n_dst
 * (source pixels per output pixel), computed once by the caller. Every idx is in
 * [0, n_src); unused taps repeat a used index with weight 0. */
/* lround() for x >= 0 without the libm call: x - trunc(x) is exact in
 * double, so the comparison decides halves the way lround does (away from
 * zero). Table building runs once per output row and column, so this is on
 * the per-frame path. */
static inline int32_t pp_round_pos(double x)
{
	int32_t r = (int32_t)x;
	return x - r >= 0.5 ? r + 1 : r;
}

static void tap_make(struct pp_tap *t, uint32_t d, uint32_t n_src, double f)
{
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
		t->w[1] = pp_round_pos(fr * 256.0);
		t->w[0] = 256 - t->w[1];
		t->w[2] = t->w[3] = 0;
		return;
	}
	double a = d * f, b = (d + 1.0) * f;
	if (b > n_src)
		b = n_src;
	/* Pixels k0 .. k1-1: floor(a) and ceil(b), both non-negative. */
	int32_t k0 = (int32_t)a, k1 = (int32_t)b;
	k1 += k1 < b;
	if (k1 - k0 <= RUTH_PP_TAPS) {
		/* A fixed four steps with the unused ones masked (their weight
		 * expression is computed and dropped): no trip-count branch to
		 * mispredict, as the count alternates between neighbours. */
		for (int i = 0; i < RUTH_PP_TAPS; i++) {
			int32_t k = k0 + i;
			double lo = k > a ? k : a, hi = k + 1 < b ? k + 1 : b;
			int32_t wk = pp_round_pos((hi - lo) / (b - a) * 256.0);
			t->idx[i] = k < k1 ? k : k0;
			t->w[i] = k < k1 ? wk : 0;
		}
	} else {
		for (int i = 0; i < RUTH_PP_TAPS; i++) {
			int32_t k = (int32_t)(a + (i + 0.5) * (b - a) / RUTH_PP_TAPS);
			t->idx[i] = k < (int32_t)n_src ? k : (int32_t)n_src - 1;
			t->w[i] = 256 / RUTH_PP_TAPS;
		}
	}
	tap_fix_sum(t);
}

/* Smallest index of a tap set and the width of the window it spans. */
static int32_t tap_base(const struct pp_tap *t, int32_t *span)
{
	int32_t lo = t->idx[0], hi = t->idx[0];
	for (int i = 1; i < RUTH_PP_TAPS; i++) {
		lo = t->idx[i] < lo ? t->idx[i] : lo;
		hi = t->idx[i] > hi ? t->idx[i] : hi;
	}
	*span = hi - lo + 1;
	return lo;
}

/* Everything a row needs that does not change from row to row. */
struct pp_job {
	const struct ruth_nv12_frame *fr;
	const struct ruth_tensor_spec *spec;
	void *dst;
	uint32_t W, H, CW, CH; /* luma and chroma source sizes */
	uint32_t w, h;         /* tensor size */
	uint32_t cw, ch, px, py; /* content rectangle */
	float ka[3], kb[3];    /* per tensor channel: value = pixel * ka + kb */
	float padv;
	int avx2;              /* use the AVX2 vector kernels */
};

/* Vertical taps with zero weights dropped and repeated rows merged (the
 * weights add up: v * w0 + v * w1 = v * (w0 + w1) in integers), so the
 * column-sum kernels read only the rows that contribute. */
struct pp_vtaps {
	const uint8_t *row[RUTH_PP_TAPS];
	uint16_t w[RUTH_PP_TAPS];
	int n;
};

static void pp_vtaps_make(struct pp_vtaps *v, const struct pp_tap *t, const uint8_t *plane, size_t stride)
{
	v->n = 0;
	for (int i = 0; i < RUTH_PP_TAPS; i++) {
		if (!t->w[i])
			continue;
		const uint8_t *r = plane + (size_t)t->idx[i] * stride;
		int k = 0;
		while (k < v->n && v->row[k] != r)
			k++;
		if (k == v->n) {
			v->row[k] = r;
			v->w[k] = 0;
			v->n++;
		}
		v->w[k] = (uint16_t)(v->w[k] + t->w[i]);
	}
}

/* Column sums of one plane row: out[k] = sum_i w_i * row_i[k] for every
 * byte k < n, as floats (for the chroma plane the bytes alternate U, V, and
 * so do the sums).
 *
 * Exactness: the weights are at most 256 and sum to 256, so every true sum
 * is at most 255 * 256 < 2^16; the 16-bit lanes compute it modulo 2^16,
 * which is then the exact value. With eq set (the four weights of the
 * sparse box are equal) the rows are only added (at most 4 * 255) and
 * pp_vsum's caller applies the common weight after the horizontal pass.
 *
 * Vector form, 32 bytes per step: one 32-byte load per row viewed as sixteen
 * 16-bit lanes gives the even bytes (lane & 0xff) and the odd bytes
 * (lane >> 8) without any byte shuffle; the weighted sums of both are formed
 * in 16-bit lanes; viewing those as 32-bit lanes splits them again (& 0xffff,
 * >> 16) into bytes 4i, 4i+2 (even) and 4i+1, 4i+3 (odd), which convert to
 * float directly. Putting the columns back in order takes 8 in-lane
 * shuffles, against 14 byte/word widening shuffles per step in the obvious
 * form: the shuffle port is what limits this loop. The 128-bit halves are
 * stored separately, which puts them in column order. The last step is
 * moved back to end exactly at n (it recomputes a few columns, same values),
 * so no scalar tail runs unless n < 32. */
#if PP_HAVE_AVX2
typedef uint16_t pp_u16v __attribute__((vector_size(32)));
typedef uint32_t pp_u32v __attribute__((vector_size(32)));
typedef int32_t pp_i32v __attribute__((vector_size(32)));
typedef int64_t pp_i64v __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) void pp_vsum_step(const struct pp_vtaps *v, int nr, int eq, size_t k,
								 float *restrict out)
{
	pp_u16v se = {0}, so = {0};
	for (int i = 0; i < nr; i++) {
		pp_u16v d;
		memcpy(&d, v->row[i] + k, sizeof(d));
		if (eq) {
			se += d & 0xff;
			so += d >> 8;
		} else {
			se += (d & 0xff) * v->w[i];
			so += (d >> 8) * v->w[i];
		}
	}
	pp_v8 fa = __builtin_convertvector((pp_i32v)((pp_u32v)se & 0xffff), pp_v8); /* bytes 4i */
	pp_v8 fb = __builtin_convertvector((pp_i32v)((pp_u32v)se >> 16), pp_v8);    /* bytes 4i + 2 */
	pp_v8 fc = __builtin_convertvector((pp_i32v)((pp_u32v)so & 0xffff), pp_v8); /* bytes 4i + 1 */
	pp_v8 fd = __builtin_convertvector((pp_i32v)((pp_u32v)so >> 16), pp_v8);    /* bytes 4i + 3 */
	float *o = out + k;
	pp_v8 lac = PP_SHUF(fa, fc, 0, 8, 1, 9, 4, 12, 5, 13);   /* 0 1 4 5 | 16 17 20 21 */
	pp_v8 lbd = PP_SHUF(fb, fd, 0, 8, 1, 9, 4, 12, 5, 13);   /* 2 3 6 7 | 18 19 22 23 */
	pp_v8 hac = PP_SHUF(fa, fc, 2, 10, 3, 11, 6, 14, 7, 15); /* 8 9 12 13 | 24 25 28 29 */
	pp_v8 hbd = PP_SHUF(fb, fd, 2, 10, 3, 11, 6, 14, 7, 15); /* 10 11 14 15 | 26 27 30 31 */
	pp_v8 p0 = PP_SHUF(lac, lbd, 0, 1, 8, 9, 4, 5, 12, 13), p1 = PP_SHUF(lac, lbd, 2, 3, 10, 11, 6, 7, 14, 15);
	pp_v8 p2 = PP_SHUF(hac, hbd, 0, 1, 8, 9, 4, 5, 12, 13), p3 = PP_SHUF(hac, hbd, 2, 3, 10, 11, 6, 7, 14, 15);
	memcpy(o, &p0, 16);
	memcpy(o + 4, &p1, 16);
	memcpy(o + 8, &p2, 16);
	memcpy(o + 12, &p3, 16);
	memcpy(o + 16, (const float *)&p0 + 4, 16);
	memcpy(o + 20, (const float *)&p1 + 4, 16);
	memcpy(o + 24, (const float *)&p2 + 4, 16);
	memcpy(o + 28, (const float *)&p3 + 4, 16);
}

#define PP_VSUM_KERNEL(NAME, NR, EQ)                                                                          \
	PP_AVX2 static void NAME(const struct pp_vtaps *v, const struct pp_vtaps *nx, uint32_t n,            \
				 float *restrict out)                                                         \
	{                                                                                                     \
		if (n >= 32) {                                                                                \
			size_t k = 0;                                                                         \
			for (; k + 32 <= n; k += 32) {                                                        \
				if (!(k & 63))                                                                \
					for (int i_ = 0; i_ < nx->n; i_++)                                    \
						__builtin_prefetch(nx->row[i_] + k, 0, 2);                    \
				pp_vsum_step(v, NR, EQ, k, out);                                              \
			}                                                                                     \
			if (k < n)                                                                            \
				pp_vsum_step(v, NR, EQ, n - 32, out);                                         \
			return;                                                                               \
		}                                                                                             \
		for (uint32_t k = 0; k < n; k++) {                                                            \
			uint16_t sum = 0;                                                                     \
			for (int i = 0; i < (NR); i++)                                                        \
				sum = (uint16_t)(sum + ((EQ) ? v->row[i][k] : v->row[i][k] * v->w[i]));       \
			out[k] = sum;                                                                         \
		}                                                                                             \
	}
PP_VSUM_KERNEL(pp_vsum1, 1, 0)
PP_VSUM_KERNEL(pp_vsum2, 2, 0)
PP_VSUM_KERNEL(pp_vsum3, 3, 0)
PP_VSUM_KERNEL(pp_vsum4, 4, 0)
PP_VSUM_KERNEL(pp_vsum4eq, 4, 1)

#endif /* PP_HAVE_AVX2 */

/* Portable column sums: the same sums as pp_vsum_step, one column at a time
 * (the compiler vectorises the loop for the target). */
PP_CLONES static void pp_vsum_c(const struct pp_vtaps *v, int eq, uint32_t n, float *restrict out)
{
	const uint8_t *r0 = v->row[0], *r1 = v->n > 1 ? v->row[1] : v->row[0], *r2 = v->n > 2 ? v->row[2] : v->row[0],
		      *r3 = v->n > 3 ? v->row[3] : v->row[0];
	/* Missing rows read row 0 with weight 0. */
	const uint16_t w0 = eq ? 1 : v->w[0], w1 = v->n > 1 ? (eq ? 1 : v->w[1]) : 0,
		       w2 = v->n > 2 ? (eq ? 1 : v->w[2]) : 0, w3 = v->n > 3 ? (eq ? 1 : v->w[3]) : 0;
	for (uint32_t k = 0; k < n; k++)
		out[k] = (uint16_t)((uint16_t)(r0[k] * w0) + (uint16_t)(r1[k] * w1) + (uint16_t)(r2[k] * w2) +
				    (uint16_t)(r3[k] * w3));
}

/* Column sums of one plane row; returns the factor the horizontal sums must
 * still be multiplied by: 1, or the common weight of the equal-weight form
 * (the product stays an integer below 2^24, exact). nx: the next row's
 * taps, prefetched by the vector kernels. */
static float pp_vsum(const struct pp_vtaps *v, const struct pp_vtaps *nx, uint32_t n, float *out, int avx2)
{
	const int eq = v->n == 4 && v->w[0] == v->w[1] && v->w[1] == v->w[2] && v->w[2] == v->w[3];
#if PP_HAVE_AVX2
	if (avx2) {
		switch (v->n) {
		case 1: pp_vsum1(v, nx, n, out); break;
		case 2: pp_vsum2(v, nx, n, out); break;
		case 3: pp_vsum3(v, nx, n, out); break;
		default:
			if (eq)
				pp_vsum4eq(v, nx, n, out);
			else
				pp_vsum4(v, nx, n, out);
			break;
		}
		return eq ? v->w[0] : 1.0f;
	}
#endif
	(void)nx;
	(void)avx2;
	pp_vsum_c(v, eq, n, out);
	return eq ? v->w[0] : 1.0f;
}

/* Everything the per-row horizontal kernel reads: the column sums, the
 * column tables and the vertical scale factors of this row. */
struct pp_hrow {
	const float *vy, *vc;     /* luma and interleaved U,V column sums */
	const int32_t *bl, *bc;   /* window start per output column (floats) */
	const float *wtl, *wtc;   /* window weights */
	float sy, sc;             /* pp_vsum factors */
};

#if PP_HAVE_AVX2
/* Horizontal window dot products, eight output columns x .. x + 7 at a time:
 * sum_j v[base[x] + j] * wt[slot(x) + j].
 *
 * The 8x8 transpose-add: m0..m7 hold the eight lane products of eight
 * columns. PP_L1 pairs two vectors a, b as s = blend(a, b), t = blend(b, a),
 * s + swap(t), where blend takes alternate lanes from each and swap exchanges
 * neighbours: the result holds a0+a1 b0+b1 a2+a3 b2+b3 ..., at the cost of one
 * shuffle (blends run on any vector port; the shuffle port is the limit).
 * PP_L2 does the same with groups of two lanes (a0+a2 a1+a3 b0+b2 b1+b3 per
 * 128-bit half) and PP_L3 with the 128-bit halves (a.lo+a.hi | b.lo+b.hi):
 * one shuffle each, 7 per 8 columns. */
#define PP_BLEND1(a, b) PP_SHUF(a, b, 0, 9, 2, 11, 4, 13, 6, 15)
#define PP_SWAP1(a) PP_SHUF(a, a, 1, 0, 3, 2, 5, 4, 7, 6)
/* Two- and four-lane blends are written on int32 / int64 lanes: GCC 12
 * emits the float forms as shuffles but these as vpblendd. */
#define PP_BLEND2(a, b) ((pp_v8)PP_SHUF((pp_i32v)(a), (pp_i32v)(b), 0, 1, 10, 11, 4, 5, 14, 15))
#define PP_SWAP2(a) PP_SHUF(a, a, 2, 3, 0, 1, 6, 7, 4, 5)
#define PP_BLEND4(a, b) ((pp_v8)PP_SHUF((pp_i64v)(a), (pp_i64v)(b), 0, 1, 6, 7))
#define PP_L1(a, b) (PP_BLEND1(a, b) + PP_SWAP1(PP_BLEND1(b, a)))
#define PP_L2(a, b) (PP_BLEND2(a, b) + PP_SWAP2(PP_BLEND2(b, a)))
#define PP_L3(a, b) (PP_BLEND4(a, b) + PP_SHUF(a, b, 4, 5, 6, 7, 8, 9, 10, 11))

/* Luma, 4-wide windows: two columns per 8-lane vector, column p in the low
 * half and p + 4 in the high half (loaded as two 16-byte halves); the weight
 * table is stored in that order (slot of column 8b + j: 32b + 8(j % 4) +
 * 4(j / 4)), so one load fetches both. PP_L1 then PP_L2 leave columns
 * 0-3 | 4-7 in order: 4 shuffles per 8 columns. */
#define PP_LUMA4(OUT)                                                                                         \
	{                                                                                                     \
		const int32_t *b_ = bl + x;                                                                   \
		const float *k_ = wtl + x * 4;                                                                \
		pp_v8 m_[4];                                                                                  \
		for (int p = 0; p < 4; p++) {                                                                 \
			pp_v8 w_, a_ = PP_SHUF(pp_ld(vy + b_[p]), pp_ld(vy + b_[p + 4]), 0, 1, 2, 3, 4, 5, 6, 7); \
			memcpy(&w_, k_ + 8 * p, sizeof(w_));                                                  \
			m_[p] = a_ * w_;                                                                      \
		}                                                                                             \
		OUT = PP_L2(PP_L1(m_[0], m_[1]), PP_L1(m_[2], m_[3]));                                        \
	}

/* m_[j] = products of the window of column x + j with its weights, NV
 * 8-lane vectors per column (weight slot of column x: x * 8 * NV). */
#define PP_WINDOWS(V, B, WT, NV)                                                                              \
	pp_v8 m_[8];                                                                                          \
	for (int j = 0; j < 8; j++) {                                                                         \
		const float *s_ = (V) + (B)[x + j], *k_ = (WT) + (x + j) * 8 * (NV);                          \
		pp_v8 a_, w_;                                                                                 \
		memcpy(&a_, s_, sizeof(a_));                                                                  \
		memcpy(&w_, k_, sizeof(w_));                                                                  \
		m_[j] = a_ * w_;                                                                              \
		for (int i = 1; i < (NV); i++) {                                                              \
			memcpy(&a_, s_ + 8 * i, sizeof(a_));                                                  \
			memcpy(&w_, k_ + 8 * i, sizeof(w_));                                                  \
			m_[j] += a_ * w_;                                                                     \
		}                                                                                             \
	}

/* Luma, 8- and 16-wide windows: the full 8x8 transpose-add (7 shuffles per
 * 8 columns). */
#define PP_LUMAW(OUT, NV)                                                                                     \
	{                                                                                                     \
		PP_WINDOWS(vy, bl, wtl, NV)                                                                   \
		OUT = PP_L3(PP_L2(PP_L1(m_[0], m_[1]), PP_L1(m_[2], m_[3])),                                  \
			    PP_L2(PP_L1(m_[4], m_[5]), PP_L1(m_[6], m_[7])));                                 \
	}
#define PP_LUMA_4(OUT) PP_LUMA4(OUT)
#define PP_LUMA_8(OUT) PP_LUMAW(OUT, 1)
#define PP_LUMA_16(OUT) PP_LUMAW(OUT, 2)

/* Chroma over the interleaved U,V column sums: the window of win chroma
 * samples is 2 * win floats u0 v0 u1 v1 ..., the weight vector holds each
 * weight twice (w0 w0 w1 w1 ...), so lane parity separates U from V. The
 * transpose-add starts at 2-lane groups to keep the parity: PP_L2(m0, m1) =
 * U0 V0 U1 V1 (low-half sums) | U0 V0 U1 V1 (high-half sums); PP_L3 of
 * (m0,m1) with (m4,m5) gives U0 V0 U1 V1 | U4 V4 U5 V5, of (m2,m3) with
 * (m6,m7) U2 V2 U3 V3 | U6 V6 U7 V7, and one in-lane shuffle each splits U
 * and V in column order: 8 shuffles per 8 columns for both. NV = win / 4. */
#define PP_CHROMA(OU, OV, NV)                                                                                 \
	{                                                                                                     \
		PP_WINDOWS(vc, bc, wtc, NV)                                                                   \
		pp_v8 fa_ = PP_L3(PP_L2(m_[0], m_[1]), PP_L2(m_[4], m_[5]));                                  \
		pp_v8 fb_ = PP_L3(PP_L2(m_[2], m_[3]), PP_L2(m_[6], m_[7]));                                  \
		OU = PP_SHUF(fa_, fb_, 0, 2, 8, 10, 4, 6, 12, 14);                                            \
		OV = PP_SHUF(fa_, fb_, 1, 3, 9, 11, 5, 7, 13, 15);                                            \
	}

/* One content row: luma and chroma window sums of 8 columns at a time, then
 * the conversion of pp_convert (same operations, same order, see there) and
 * the clamp, into the R, G, B rows. Fusing the three saves the stores and
 * reloads of the intermediate rows. n is a multiple of 8: up to 7 columns
 * past the content are written too (the caller restores them). */
#define PP_ROW_KERNEL(NAME, LUMA, NVC)                                                                        \
	PP_AVX2 PP_CLAMP_OPT static void NAME(const struct pp_hrow *h, size_t n, float *restrict R,          \
					      float *restrict G, float *restrict B)                           \
	{                                                                                                     \
		const float *restrict vy = h->vy, *restrict vc = h->vc, *restrict wtl = h->wtl,               \
				      *restrict wtc = h->wtc;                                                 \
		const int32_t *restrict bl = h->bl, *restrict bc = h->bc;                                     \
		const float sy = h->sy, sc = h->sc, q = 1.0f / 65536.0f;                                      \
		const float ky = 1.164383f * q, krv = 1.596027f * q, kgu = 0.391762f * q,                     \
			    kgv = 0.812968f * q, kbu = 2.017232f * q;                                         \
		for (size_t x = 0; x < n; x += 8) {                                                           \
			pp_v8 ay, au, av;                                                                     \
			LUMA(ay)                                                                              \
			PP_CHROMA(au, av, NVC)                                                                \
			ay *= sy;                                                                             \
			au *= sc;                                                                             \
			av *= sc;                                                                             \
			pp_v8 Y = (ay - 16.0f * 65536.0f) * ky, U = au - 128.0f * 65536.0f,                   \
			      V = av - 128.0f * 65536.0f;                                                     \
			pp_v8 c[3] = {Y + krv * V, Y - kgu * U - kgv * V, Y + kbu * U};                       \
			float *const o[3] = {R + x, G + x, B + x};                                            \
			for (int i = 0; i < 3; i++)                                                           \
				for (int l = 0; l < 8; l++) {                                                 \
					float t = c[i][l] > 0.0f ? c[i][l] : 0.0f;                            \
					o[i][l] = t < 255.0f ? t : 255.0f;                                    \
				}                                                                             \
		}                                                                                             \
	}
PP_ROW_KERNEL(pp_row_4_4, PP_LUMA_4, 1)
PP_ROW_KERNEL(pp_row_4_8, PP_LUMA_4, 2)
PP_ROW_KERNEL(pp_row_4_16, PP_LUMA_4, 4)
PP_ROW_KERNEL(pp_row_8_4, PP_LUMA_8, 1)
PP_ROW_KERNEL(pp_row_8_8, PP_LUMA_8, 2)
PP_ROW_KERNEL(pp_row_8_16, PP_LUMA_8, 4)
PP_ROW_KERNEL(pp_row_16_4, PP_LUMA_16, 1)
PP_ROW_KERNEL(pp_row_16_8, PP_LUMA_16, 2)
PP_ROW_KERNEL(pp_row_16_16, PP_LUMA_16, 4)

typedef void (*pp_row_fn)(const struct pp_hrow *h, size_t n, float *R, float *G, float *B);

/* Kernel for luma window wl and chroma window wc (each 4, 8 or 16). */
static pp_row_fn pp_row_kernel(int wl, int wc)
{
	static const pp_row_fn k[3][3] = {
		{pp_row_4_4, pp_row_4_8, pp_row_4_16},
		{pp_row_8_4, pp_row_8_8, pp_row_8_16},
		{pp_row_16_4, pp_row_16_8, pp_row_16_16},
	};
	return k[wl == 4 ? 0 : (wl == 8 ? 1 : 2)][wc == 4 ? 0 : (wc == 8 ? 1 : 2)];
}

#endif /* PP_HAVE_AVX2 */

/* Weight table slot of column x for a window of win floats. */
static size_t pp_slot(size_t x, int win)
{
	if (win == 4)
		return (x / 8) * 32 + 8 * (x % 4) + 4 * ((x % 8) / 4);
	return x * (size_t)win;
}

/* Filtered sums -> clamped R'G'B' (see pp_convert for the sequence). */
#define PP_YCC_TO_RGB(AY, AU, AV, OR, OG, OB)                                                                 \
	do {                                                                                                  \
		const float q_ = 1.0f / 65536.0f;                                                             \
		float Y_ = ((AY) - 16.0f * 65536.0f) * (1.164383f * q_), U_ = (AU) - 128.0f * 65536.0f,       \
		      V_ = (AV) - 128.0f * 65536.0f;                                                          \
		float r_ = Y_ + (1.596027f * q_) * V_;                                                        \
		float g_ = Y_ - (0.391762f * q_) * U_ - (0.812968f * q_) * V_;                                \
		float b_ = Y_ + (2.017232f * q_) * U_;                                                        \
		/* Clamp in the max/min form (see PP_CLAMP_OPT): identical to                              \
		 * "r < 0 ? 0 : (r > 255 ? 255 : r)" here. */                                                \
		r_ = r_ > 0.0f ? r_ : 0.0f;                                                                   \
		g_ = g_ > 0.0f ? g_ : 0.0f;                                                                   \
		b_ = b_ > 0.0f ? b_ : 0.0f;                                                                   \
		OR = r_ < 255.0f ? r_ : 255.0f;                                                               \
		OG = g_ < 255.0f ? g_ : 255.0f;                                                               \
		OB = b_ < 255.0f ? b_ : 255.0f;                                                               \
	} while (0)

/* Portable row kernel: the window dot products of PP_ROW_KERNEL one column
 * at a time (exact integer sums in float, so the order does not matter),
 * then the same conversion. */
PP_CLONES PP_CLAMP_OPT static void pp_row_c(const struct pp_hrow *h, int wl, int wc, size_t n, float *restrict R,
					  float *restrict G, float *restrict B)
{
	for (size_t x = 0; x < n; x++) {
		const float *sl = h->vy + h->bl[x], *kl = h->wtl + pp_slot(x, wl);
		const float *sc = h->vc + h->bc[x], *kc = h->wtc + x * 2 * (size_t)wc;
		float ay = 0, au = 0, av = 0;
		for (int j = 0; j < wl; j++)
			ay += sl[j] * kl[j];
		for (int j = 0; j < wc; j++) {
			au += sc[2 * j] * kc[2 * j];
			av += sc[2 * j + 1] * kc[2 * j + 1];
		}
		PP_YCC_TO_RGB(ay * h->sy, au * h->sc, av * h->sc, R[x], G[x], B[x]);
	}
}

/* Filtered sums (Q16 luma and chroma, integers held exactly in float) ->
 * clamped R'G'B' pixels, BT.601 limited range. Reference sequence:
 *   Y = (ay / 2^16 - 16) * 1.164383, U = au / 2^16 - 128, V = av / 2^16 - 128,
 *   R = Y + 1.596027 V, G = Y - 0.391762 U - 0.812968 V, B = Y + 2.017232 U.
 * Computed here as (ay - 16 * 2^16) * (1.164383 / 2^16), U' = au - 128 * 2^16,
 * R = Y + (1.596027 / 2^16) * V' and so on: the subtractions are exact
 * (integers below 2^24) and scaling by a power of two commutes with rounding,
 * so every value is bit-identical to the reference with three fewer
 * multiplies. */
PP_CLONES PP_CLAMP_OPT static void pp_convert(float *restrict R, float *restrict G, float *restrict B,
					    const float *restrict ay, const float *restrict au, const float *restrict av,
					    uint32_t n)
{
	for (uint32_t x = 0; x < n; x++)
		PP_YCC_TO_RGB(ay[x], au[x], av[x], R[x], G[x], B[x]);
}

/* NHWC float: normalise and interleave. Per 4 pixels the three output
 * vectors are r0 g0 b0 r1 | g1 b1 r2 g2 | b2 r3 g3 b3. Rotating each input
 * once (r -> r0 r3 r2 r1, g -> g1 g0 g3 g2, b -> b2 b1 b0 b3) puts every value
 * in the lane it has in its output vector, so each output is two blends:
 * 3 shuffles and 6 blends per 8 pixels, where a direct interleave needs 12
 * shuffles (the shuffle port limits this loop). The 8-lane vectors hold
 * pixels 0-3 in the low half and 4-7 in the high half; the halves are
 * stored separately, in pixel order. */
#if PP_HAVE_AVX2
PP_AVX2 static void pp_store_f32_nhwc_avx2(float *restrict d, const float *restrict s0, const float *restrict s1,
					   const float *restrict s2, const float *ka, const float *kb, uint32_t n)
{
	const float a0 = ka[0], a1 = ka[1], a2 = ka[2], b0 = kb[0], b1 = kb[1], b2 = kb[2];
	const pp_v8 va0 = {a0, a0, a0, a0, a0, a0, a0, a0}, va1 = {a1, a1, a1, a1, a1, a1, a1, a1},
		    va2 = {a2, a2, a2, a2, a2, a2, a2, a2};
	const pp_v8 vb0 = {b0, b0, b0, b0, b0, b0, b0, b0}, vb1 = {b1, b1, b1, b1, b1, b1, b1, b1},
		    vb2 = {b2, b2, b2, b2, b2, b2, b2, b2};
	uint32_t x = 0;
	for (; x + 8 <= n; x += 8) {
		pp_v8 r, g, b;
		memcpy(&r, s0 + x, sizeof(r));
		memcpy(&g, s1 + x, sizeof(g));
		memcpy(&b, s2 + x, sizeof(b));
		r = r * va0 + vb0;
		g = g * va1 + vb1;
		b = b * va2 + vb2;
		pp_v8 rr = PP_SHUF(r, r, 0, 3, 2, 1, 4, 7, 6, 5), gg = PP_SHUF(g, g, 1, 0, 3, 2, 5, 4, 7, 6),
		      bb = PP_SHUF(b, b, 2, 1, 0, 3, 6, 5, 4, 7);
		pp_v8 o0 = PP_SHUF(PP_SHUF(rr, gg, 0, 9, 2, 3, 4, 13, 6, 7), bb, 0, 1, 10, 3, 4, 5, 14, 7);
		pp_v8 o1 = PP_SHUF(PP_SHUF(gg, bb, 0, 9, 2, 3, 4, 13, 6, 7), rr, 0, 1, 10, 3, 4, 5, 14, 7);
		pp_v8 o2 = PP_SHUF(PP_SHUF(bb, rr, 0, 9, 2, 3, 4, 13, 6, 7), gg, 0, 1, 10, 3, 4, 5, 14, 7);
		float *o = d + 3 * x;
		memcpy(o, &o0, 16);
		memcpy(o + 4, &o1, 16);
		memcpy(o + 8, &o2, 16);
		memcpy(o + 12, (const float *)&o0 + 4, 16);
		memcpy(o + 16, (const float *)&o1 + 4, 16);
		memcpy(o + 20, (const float *)&o2 + 4, 16);
	}
	for (; x < n; x++) {
		d[3 * x] = s0[x] * a0 + b0;
		d[3 * x + 1] = s1[x] * a1 + b1;
		d[3 * x + 2] = s2[x] * a2 + b2;
	}
}
#endif

PP_CLONES static void pp_store_f32_nhwc(float *restrict d, const float *restrict s0, const float *restrict s1,
					const float *restrict s2, const float *ka, const float *kb, uint32_t n)
{
	const float a0 = ka[0], a1 = ka[1], a2 = ka[2], b0 = kb[0], b1 = kb[1], b2 = kb[2];
	for (uint32_t x = 0; x < n; x++) {
		d[3 * x] = s0[x] * a0 + b0;
		d[3 * x + 1] = s1[x] * a1 + b1;
		d[3 * x + 2] = s2[x] * a2 + b2;
	}
}

PP_CLONES static void pp_store_f32_plane(float *restrict d, const float *restrict s, float a, float b, uint32_t n)
{
	for (uint32_t x = 0; x < n; x++)
		d[x] = s[x] * a + b;
}

PP_CLONES static void pp_store_u8_nhwc(uint8_t *restrict d, const float *restrict s0, const float *restrict s1,
				       const float *restrict s2, uint32_t n)
{
	for (uint32_t x = 0; x < n; x++) {
		d[3 * x] = (uint8_t)(s0[x] + 0.5f);
		d[3 * x + 1] = (uint8_t)(s1[x] + 0.5f);
		d[3 * x + 2] = (uint8_t)(s2[x] + 0.5f);
	}
}

PP_CLONES static void pp_store_u8_plane(uint8_t *restrict d, const float *restrict s, uint32_t n)
{
	for (uint32_t x = 0; x < n; x++)
		d[x] = (uint8_t)(s[x] + 0.5f);
}

/* Write tensor row y from the R, G, B rows (full tensor width). */
static void pp_emit_row(const struct pp_job *j, uint32_t y, float *const rgb[3])
{
	const struct ruth_tensor_spec *spec = j->spec;
	/* Tensor channel t takes rgb[src[t]]: RGB or BGR order. */
	const float *s0 = rgb[spec->color == RUTH_COLOR_BGR ? 2 : 0], *s1 = rgb[1],
		    *s2 = rgb[spec->color == RUTH_COLOR_BGR ? 0 : 2];
	const size_t plane = (size_t)j->w * j->h, row = (size_t)y * j->w;
	if (spec->dtype == RUTH_DTYPE_U8) {
		uint8_t *d = j->dst;
		if (spec->layout == RUTH_LAYOUT_NCHW) {
			pp_store_u8_plane(d + row, s0, j->w);
			pp_store_u8_plane(d + plane + row, s1, j->w);
			pp_store_u8_plane(d + 2 * plane + row, s2, j->w);
		} else {
			pp_store_u8_nhwc(d + row * 3, s0, s1, s2, j->w);
		}
	} else {
		float *d = j->dst;
		if (spec->layout == RUTH_LAYOUT_NCHW) {
			pp_store_f32_plane(d + row, s0, j->ka[0], j->kb[0], j->w);
			pp_store_f32_plane(d + plane + row, s1, j->ka[1], j->kb[1], j->w);
			pp_store_f32_plane(d + 2 * plane + row, s2, j->ka[2], j->kb[2], j->w);
		} else {
#if PP_HAVE_AVX2
			if (j->avx2) {
				pp_store_f32_nhwc_avx2(d + row * 3, s0, s1, s2, j->ka, j->kb, j->w);
				return;
			}
#endif
			pp_store_f32_nhwc(d + row * 3, s0, s1, s2, j->ka, j->kb, j->w);
		}
	}
}

static void pp_fill(float *p, float v, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = v;
}

/* Upper bound of the window a tap set of one axis can span (n_src source
 * pixels onto n_dst outputs), from tap_make: bilinear reads 2 neighbours,
 * an area box at most RUTH_PP_TAPS pixels, the sparse box samples spaced
 * (b - a) / 4 <= f / 4 apart, so its first and last differ by less than
 * 3 f / 4 + 1. The table builder still checks every column. */
static int pp_win_for(uint32_t n_src, uint32_t n_dst)
{
	double f = (double)n_src / n_dst;
	int span = f <= 1.0 ? 2 : (int)(0.75 * f) + 2;
	span = span < RUTH_PP_TAPS && f > 1.0 ? RUTH_PP_TAPS : span;
	return span <= 4 ? 4 : (span <= 8 ? 8 : (span <= 16 ? 16 : 0));
}

/* Window path; returns 1 without touching dst when the geometry does not fit
 * it (source rows wider than RUTH_PP_VBUF, a window wider than
 * RUTH_PP_WIN_MAX, tables over budget, or 16-wide windows without the AVX2
 * kernels); the caller then takes the direct path. */
static __attribute__((noinline)) int pp_run_window(const struct pp_job *j)
{
	const uint32_t cw = j->cw, n8 = (cw + 7) & ~7u;
	if (j->W > RUTH_PP_VBUF || 2 * j->CW > RUTH_PP_VBUF)
		return 1;
	const int wl = pp_win_for(j->W, cw), wc = pp_win_for(j->CW, cw);
	if (!wl || !wc || (size_t)n8 * (wl + 2 * wc) > RUTH_PP_WTAB)
		return 1;
	/* Without the vector kernels, 16-wide windows (large downscales) cost
	 * more than the direct path (measured 1080p -> 128: 258 vs 205 us). */
	if (!j->avx2 && (wl > 8 || wc > 8))
		return 1;
	const double fl = (double)j->W / cw, fc = (double)j->CW / cw, fyl = (double)j->H / j->ch,
		     fyc = (double)j->CH / j->ch;
	/* Horizontal tables: one base index per output column (luma and chroma
	 * sample index), weights per window slot (the n8 - cw trailing columns
	 * have base 0 and zero weights; their outputs are computed and
	 * ignored). Repeated indices (unused or edge taps) add up: v * w0 +
	 * v * w1 = v * (w0 + w1) in integers. */
	int32_t bl[RUTH_PP_ROW], bc[RUTH_PP_ROW];
	float wt[RUTH_PP_WTAB];
	float *wtl = wt, *wtc = wt + (size_t)n8 * wl;
	memset(wt, 0, sizeof(float) * (size_t)n8 * (wl + 2 * wc));
	for (uint32_t x = 0; x < n8; x++) {
		bl[x] = bc[x] = 0;
		if (x >= cw)
			continue;
		struct pp_tap t;
		int32_t s;
		tap_make(&t, x, j->W, fl);
		bl[x] = tap_base(&t, &s);
		if (s > wl)
			return 1;
		for (int i = 0; i < RUTH_PP_TAPS; i++)
			wtl[pp_slot(x, wl) + (size_t)(t.idx[i] - bl[x])] += (float)t.w[i];
		tap_make(&t, x, j->CW, fc);
		const int32_t c0 = tap_base(&t, &s);
		if (s > wc)
			return 1;
		bc[x] = 2 * c0; /* float offset of the U sample in the interleaved row */
		for (int i = 0; i < RUTH_PP_TAPS; i++) {
			wtc[(size_t)x * 2 * wc + 2 * (size_t)(t.idx[i] - c0)] += (float)t.w[i];
			wtc[(size_t)x * 2 * wc + 2 * (size_t)(t.idx[i] - c0) + 1] += (float)t.w[i];
		}
	}
	/* Column sums; the tails past the row are zero so that windows reaching
	 * past the last column read finite values (their weights are 0). */
	float vy[RUTH_PP_VBUF + RUTH_PP_WIN_MAX], vc[RUTH_PP_VBUF + 2 * RUTH_PP_WIN_MAX];
	pp_fill(vy + j->W, 0, RUTH_PP_WIN_MAX);
	pp_fill(vc + 2 * j->CW, 0, 2 * RUTH_PP_WIN_MAX);
	/* Filtered sums of the content columns, and the R, G, B rows of the
	 * whole tensor width (pad colour outside the content). */
	float rows[3][RUTH_PP_ROW];
	float *const rgb[3] = {rows[0], rows[1], rows[2]};
	for (int c = 0; c < 3; c++)
		pp_fill(rows[c], j->padv, j->w);
#if PP_HAVE_AVX2
	const pp_row_fn row = j->avx2 ? pp_row_kernel(wl, wc) : NULL;
#endif
	const struct ruth_nv12_frame *f = j->fr;
	/* Row taps are made in batches of RUTH_PP_RBATCH rows ahead of the rows
	 * that use them: tap_make is a chain of dependent divisions, and
	 * independent chains side by side overlap; the batch also gives each
	 * row the next row's taps for the prefetch below. */
	struct pp_vtaps vl[RUTH_PP_RBATCH], vcb[RUTH_PP_RBATCH];
	const struct pp_vtaps none = {.n = 0};
	for (uint32_t y = 0; y < j->h; y++) {
		if (y >= j->py && y < j->py + j->ch) {
			const uint32_t r = y - j->py, rb = r % RUTH_PP_RBATCH;
			if (rb == 0) {
				struct pp_tap tl[RUTH_PP_RBATCH], tc[RUTH_PP_RBATCH];
				const uint32_t nb = j->ch - r < RUTH_PP_RBATCH ? j->ch - r : RUTH_PP_RBATCH;
				for (uint32_t i = 0; i < nb; i++) {
					tap_make(&tl[i], r + i, j->H, fyl);
					tap_make(&tc[i], r + i, j->CH, fyc);
				}
				for (uint32_t i = 0; i < nb; i++) {
					pp_vtaps_make(&vl[i], &tl[i], f->y, f->stride_y);
					pp_vtaps_make(&vcb[i], &tc[i], f->uv, f->stride_uv);
				}
			}
			/* The next row's source rows are prefetched (into L2) while
			 * this one is summed: each output row starts new streams
			 * the hardware prefetcher has to discover, and large
			 * frames do not stay in L2 (measured: 1080p 125 -> 108 us;
			 * prefetching them all at once instead was slower). */
			const int more = rb + 1 < RUTH_PP_RBATCH && r + 1 < j->ch;
			const float sy = pp_vsum(&vl[rb], more ? &vl[rb + 1] : &none, j->W, vy, j->avx2);
			const float sc = pp_vsum(&vcb[rb], more ? &vcb[rb + 1] : &none, 2 * j->CW, vc, j->avx2);

			const struct pp_hrow hr = {
				.vy = vy, .vc = vc, .bl = bl, .bc = bc, .wtl = wtl, .wtc = wtc, .sy = sy, .sc = sc,
			};
#if PP_HAVE_AVX2
			if (row)
				row(&hr, n8, rows[0] + j->px, rows[1] + j->px, rows[2] + j->px);
			else
#endif
				pp_row_c(&hr, wl, wc, cw, rows[0] + j->px, rows[1] + j->px, rows[2] + j->px);
			/* The kernel wrote n8 - cw columns past the content: pad
			 * again where those are inside the tensor. */
			for (uint32_t x = j->px + cw; x < j->px + n8 && x < j->w; x++)
				rows[0][x] = rows[1][x] = rows[2][x] = j->padv;
		} else if (y == j->py + j->ch) {
			for (int c = 0; c < 3; c++)
				pp_fill(rows[c], j->padv, j->w);
		}
		pp_emit_row(j, y, rgb);
	}
	return 0;
}

/* Direct path: tap-by-tap from the frame, for geometries the window path does
 * not take. */
static __attribute__((noinline)) void pp_run_direct(const struct pp_job *j)
{
	const uint32_t cw = j->cw;
	const double fl = (double)j->W / cw, fc = (double)j->CW / cw, fyl = (double)j->H / j->ch,
		     fyc = (double)j->CH / j->ch;
	struct pp_tap xl[RUTH_PP_MAX_DIM], xc[RUTH_PP_MAX_DIM];
	for (uint32_t x = 0; x < cw; x++) {
		tap_make(&xl[x], x, j->W, fl);
		tap_make(&xc[x], x, j->CW, fc);
		/* UV is interleaved: byte offset of the U sample. */
		for (int i = 0; i < RUTH_PP_TAPS; i++)
			xc[x].idx[i] *= 2;
	}
	float ay[RUTH_PP_ROW], au[RUTH_PP_ROW], av[RUTH_PP_ROW];
	float rows[3][RUTH_PP_ROW];
	float *const rgb[3] = {rows[0], rows[1], rows[2]};
	for (int c = 0; c < 3; c++)
		pp_fill(rows[c], j->padv, j->w);
	const struct ruth_nv12_frame *f = j->fr;
	for (uint32_t y = 0; y < j->h; y++) {
		if (y >= j->py && y < j->py + j->ch) {
			struct pp_tap yl, yc;
			tap_make(&yl, y - j->py, j->H, fyl);
			tap_make(&yc, y - j->py, j->CH, fyc);
			const uint8_t *r0 = f->y + (size_t)yl.idx[0] * f->stride_y;
			const uint8_t *r1 = f->y + (size_t)yl.idx[1] * f->stride_y;
			const uint8_t *r2 = f->y + (size_t)yl.idx[2] * f->stride_y;
			const uint8_t *r3 = f->y + (size_t)yl.idx[3] * f->stride_y;
			const int32_t w0 = yl.w[0], w1 = yl.w[1], w2 = yl.w[2], w3 = yl.w[3];
			const uint8_t *c0 = f->uv + (size_t)yc.idx[0] * f->stride_uv;
			const uint8_t *c1 = f->uv + (size_t)yc.idx[1] * f->stride_uv;
			const uint8_t *c2 = f->uv + (size_t)yc.idx[2] * f->stride_uv;
			const uint8_t *c3 = f->uv + (size_t)yc.idx[3] * f->stride_uv;
			const int32_t v0 = yc.w[0], v1 = yc.w[1], v2 = yc.w[2], v3 = yc.w[3];
			/* Large downscales sample with equal weights: sum the rows
			 * first, apply the common weight once (same integer). */
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
				ay[x] = (float)a;
			}
			const int cy_eq = v0 == v1 && v1 == v2 && v2 == v3;
			for (uint32_t x = 0; x < cw; x++) {
				const struct pp_tap *t = &xc[x];
				int32_t su = 0, sv = 0;
				if (cy_eq) {
					for (int i = 0; i < RUTH_PP_TAPS; i++) {
						int32_t k = t->idx[i];
						su += (c0[k] + c1[k] + c2[k] + c3[k]) * t->w[i];
						sv += (c0[k + 1] + c1[k + 1] + c2[k + 1] + c3[k + 1]) * t->w[i];
					}
					su *= v0;
					sv *= v0;
				} else {
					for (int i = 0; i < RUTH_PP_TAPS; i++) {
						int32_t k = t->idx[i];
						su += (c0[k] * v0 + c1[k] * v1 + c2[k] * v2 + c3[k] * v3) * t->w[i];
						sv += (c0[k + 1] * v0 + c1[k + 1] * v1 + c2[k + 1] * v2 +
						       c3[k + 1] * v3) * t->w[i];
					}
				}
				au[x] = (float)su;
				av[x] = (float)sv;
			}
			pp_convert(rows[0] + j->px, rows[1] + j->px, rows[2] + j->px, ay, au, av, cw);
		} else if (y == j->py + j->ch) {
			for (int c = 0; c < 3; c++)
				pp_fill(rows[c], j->padv, j->w);
		}
		pp_emit_row(j, y, rgb);
	}
}

/* Whether the AVX2 vector kernels may run (the CPU has AVX2). Reads the
 * feature word libgcc / compiler-rt fill in from a constructor at load time
 * (read-only afterwards, so thread safe; this never runs before
 * constructors, which is when __builtin_cpu_init would be needed). */
static int pp_cpu_avx2(void)
{
#if PP_HAVE_AVX2
	return __builtin_cpu_supports("avx2");
#else
	return 0;
#endif
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

	struct pp_job j = {
		.fr = frame, .spec = spec, .dst = dst,
		.W = W, .H = H, .CW = CW, .CH = CH, .w = w, .h = h,
		.cw = cw, .ch = ch, .px = px, .py = py, .padv = spec->pad_value, .avx2 = pp_cpu_avx2(),
	};
	for (int c = 0; c < 3; c++) {
		if (spec->dtype == RUTH_DTYPE_F32) {
			j.ka[c] = spec->scale / spec->std[c];
			j.kb[c] = -spec->mean[c] / spec->std[c];
		} else {
			j.ka[c] = 1.0f;
			j.kb[c] = 0.0f;
		}
	}
	if (pp_run_window(&j) != 0)
		pp_run_direct(&j);
	return 0;
}

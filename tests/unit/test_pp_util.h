/* test_pp_util.h: what the processing tests share: decode a real image or
 * video frame to NV12 (libavformat/libavcodec + swscale), run an ONNX model
 * directly with ONNX Runtime (no server), and read reference boxes. */
#ifndef RUTH_TEST_PP_UTIL_H
#define RUTH_TEST_PP_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "postprocess.h"

struct pp_test_image {
	uint8_t *buf; /* Y plane then UV plane, one allocation */
	struct ruth_nv12_frame f;
};

/* Decode frame number `index` (0 = first) of `path` into NV12 with the given
 * strides (0 = tight). Returns 0 or a negative AVERROR/errno. */
int pp_test_load_nv12(const char *path, int index, uint32_t stride_pad, struct pp_test_image *img);
void pp_test_image_free(struct pp_test_image *img);

/* libswscale reference: NV12 -> RGB24 at w x h (SWS_BILINEAR, BT.601 limited
 * range, the swscale default for YUV input). rgb holds w * h * 3 bytes. */
int pp_test_sws_rgb(const struct ruth_nv12_frame *f, uint32_t w, uint32_t h, uint8_t *rgb);

/* ONNX Runtime session; outputs stay valid until the next run or close. */
struct pp_test_ort;
int pp_test_ort_open(struct pp_test_ort **out, const char *model_path);
/* Run with one float input of the given shape; fills outs (at most 8). */
int pp_test_ort_run(struct pp_test_ort *o, const char *input_name, const float *input, const int64_t *shape,
		    size_t rank, struct ruth_pp_tensor *outs, size_t *n_outs);
void pp_test_ort_close(struct pp_test_ort **o);

/* Reference boxes file: lines "x0 y0 x1 y1", '#' comments. Returns count. */
struct pp_test_box {
	float x0, y0, x1, y1;
};
int pp_test_read_boxes(const char *path, struct pp_test_box *boxes, int max);

/* $RUTH_MEDIA_DIR/name etc. into a static buffer per call site. */
const char *pp_test_path(char *buf, size_t len, const char *env, const char *fallback, const char *name);

#endif

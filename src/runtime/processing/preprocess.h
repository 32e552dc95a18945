/* preprocess.h: NV12 frame -> model input tensor, in one pass.
 *
 * The runtime reads frames straight from the read-only shared-memory mapping
 * and writes the tensor straight into the worker's preallocated input buffer:
 * resize (stretch or letterbox, bilinear), NV12 -> RGB/BGR (BT.601 limited
 * range, what H.264 cameras send), normalisation and layout (NCHW/NHWC, f32/u8)
 * all happen in the same loop, with no intermediate image.
 *
 * Thread safety: pure functions of their arguments; each worker passes its own
 * scratch and destination. */
#ifndef RUTH_RUNTIME_PREPROCESS_H
#define RUTH_RUNTIME_PREPROCESS_H

#include <stddef.h>
#include <stdint.h>

#include "ruth/model_config.h"

struct ruth_tensor_spec {
	uint32_t width, height;        /* model input size */
	enum ruth_tensor_layout layout;
	enum ruth_tensor_dtype dtype;
	enum ruth_color_order color;
	enum ruth_resize_mode resize;
	float scale;
	float mean[3];
	float std[3];
	uint8_t pad_value;
};

/* How model-input coordinates map back to source-frame pixels:
 *   src_x = (model_x - pad_x) / scale_x,  src_y = (model_y - pad_y) / scale_y
 * Postprocessors use it so every output is in source-frame pixels. */
struct ruth_letterbox {
	float scale_x, scale_y;
	float pad_x, pad_y;
	uint32_t src_width, src_height;
};

struct ruth_nv12_frame {
	const uint8_t *y;
	const uint8_t *uv;
	uint32_t width, height;
	uint32_t stride_y, stride_uv;
};

void ruth_tensor_spec_from_config(struct ruth_tensor_spec *spec, const struct ruth_model_config *cfg);

/* Bytes of the input tensor for spec (batch 1, 3 channels). */
size_t ruth_tensor_bytes(const struct ruth_tensor_spec *spec);

/* Fill dst (ruth_tensor_bytes(spec) bytes) from frame; *map receives the
 * coordinate mapping. Returns 0 or -EINVAL for an unusable geometry (odd
 * sizes are fine; zero sizes or strides shorter than the width are not). */
int ruth_preprocess_nv12(const struct ruth_nv12_frame *frame, const struct ruth_tensor_spec *spec,
			 void *dst, struct ruth_letterbox *map);

#endif

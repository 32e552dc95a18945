/* pp_internal.h: what the built-in postprocessors share inside ruth_processing
 * (not part of the runtime's contract; postprocess.h is). */
#ifndef RUTH_RUNTIME_PP_INTERNAL_H
#define RUTH_RUNTIME_PP_INTERNAL_H

#include <stdbool.h>

#include "postprocess.h"

extern const struct ruth_postprocessor ruth_pp__blazeface;
extern const struct ruth_postprocessor ruth_pp__dbnet;
extern const struct ruth_postprocessor ruth_pp__yolo;
extern const struct ruth_postprocessor ruth_pp__classification;

/* postprocess.params lookups; a value that does not parse is an error (-EINVAL
 * with err naming the key) so a typo in model.yaml never passes silently. */
int ruth_pp__param_float(const struct ruth_model_config *cfg, const char *key, float def, float *out,
			 char *err, size_t errlen);
int ruth_pp__param_bool(const struct ruth_model_config *cfg, const char *key, bool def, bool *out,
			char *err, size_t errlen);
int ruth_pp__param_u32(const struct ruth_model_config *cfg, const char *key, uint32_t def, uint32_t *out,
		       char *err, size_t errlen);

/* Every postprocess.params key must be in `known` (NULL-terminated): an
 * unknown key is a typo until proven otherwise. -EINVAL with err naming it. */
int ruth_pp__check_params(const struct ruth_model_config *cfg, const char *decoder, const char *const *known,
			  char *err, size_t errlen);
const char *ruth_pp__param(const struct ruth_model_config *cfg, const char *key);

/* Model-input pixel -> source-frame pixel, clamped to the frame. */
static inline float ruth_pp__map_x(const struct ruth_letterbox *m, float x)
{
	float v = (x - m->pad_x) / m->scale_x;
	return v < 0 ? 0 : (v > (float)m->src_width ? (float)m->src_width : v);
}
static inline float ruth_pp__map_y(const struct ruth_letterbox *m, float y)
{
	float v = (y - m->pad_y) / m->scale_y;
	return v < 0 ? 0 : (v > (float)m->src_height ? (float)m->src_height : v);
}

/* Stable sort by score, descending, O(n log n): a bottom-up merge sort using
 * tmp (n entries) from the decoder's scratch, for candidate lists that can be
 * long (YOLO: thousands) where ruth_sort_by_score's insertion sort is O(n^2). */
void ruth_pp__sort_by_score_tmp(struct ruth_ipc_detection *dets, size_t n, struct ruth_ipc_detection *tmp);

/* Greedy NMS that suppresses only boxes of the same class_id. */
size_t ruth_pp__nms_per_class(struct ruth_ipc_detection *dets, size_t n, float iou_threshold, size_t max_keep);

#endif

/* pp_yolo.c: YOLO-style (v8 / v11 export) detection decoder.
 *
 * Expects one output of rank 3, [1, 4+C, N] (the Ultralytics export: rows cx,
 * cy, w, h in model-input pixels, then C class scores, already sigmoid-ed) or
 * its transpose [1, N, 4+C]. Which one: the dimension equal to 4 + n_labels
 * when model.yaml lists labels, else the smaller of the two is 4+C (N, the
 * anchor count, is in the thousands for real models).
 *
 * Per anchor the best class is taken; anchors with score >= score_threshold
 * become candidates (at most max_candidates, param, default 8400; further ones
 * are dropped), sorted by score, then greedy NMS: per class by default (a
 * person box never suppresses an overlapping bag box), class-agnostic with
 * param class_agnostic: true. Boxes are mapped to source pixels. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pp_internal.h"

struct yolo_state {
	bool agnostic;
	uint32_t max_cand;
	uint32_t n_labels;
};

static int yolo_create(void **state, const struct ruth_model_config *cfg, char *err, size_t errlen)
{
	static const char *const known[] = {"class_agnostic", "max_candidates", NULL};
	int rc = ruth_pp__check_params(cfg, "yolo", known, err, errlen);
	if (rc < 0)
		return rc;
	struct yolo_state *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "yolo: out of memory");
		return -ENOMEM;
	}
	rc = ruth_pp__param_bool(cfg, "class_agnostic", false, &s->agnostic, err, errlen);
	if (!rc)
		rc = ruth_pp__param_u32(cfg, "max_candidates", 8400, &s->max_cand, err, errlen);
	if (!rc && s->max_cand == 0) {
		snprintf(err, errlen, "postprocess.params.max_candidates: must be > 0");
		rc = -EINVAL;
	}
	if (rc < 0) {
		free(s);
		return rc;
	}
	s->n_labels = cfg->output_schema.n_labels;
	*state = s;
	return 0;
}

static void yolo_destroy(void *state)
{
	free(state);
}

static size_t yolo_scratch_size(const void *state, const struct ruth_model_config *cfg)
{
	const struct yolo_state *s = state;
	(void)cfg;
	return 2 * (size_t)s->max_cand * sizeof(struct ruth_ipc_detection); /* candidates + sort buffer */
}

static int yolo_run(const void *state, const struct ruth_pp_tensor *outs, size_t n_outs,
		    const struct ruth_letterbox *map, const struct ruth_pp_params *params, void *scratch,
		    struct ruth_ipc_detection *dets, size_t max_dets, size_t *n_dets)
{
	const struct yolo_state *s = state;
	*n_dets = 0;
	if (n_outs < 1 || outs[0].rank != 3 || outs[0].shape[0] != 1)
		return -EINVAL;
	int64_t a = outs[0].shape[1], b = outs[0].shape[2];
	int transposed; /* 0: [1,4+C,N], 1: [1,N,4+C] */
	if (s->n_labels && a == 4 + (int64_t)s->n_labels)
		transposed = 0;
	else if (s->n_labels && b == 4 + (int64_t)s->n_labels)
		transposed = 1;
	else if (s->n_labels)
		return -EINVAL;
	else
		transposed = b < a;
	int64_t F = transposed ? b : a, N = transposed ? a : b;
	if (F < 5 || N < 1 || (size_t)(F * N) != outs[0].count)
		return -EINVAL;
	const float *v = outs[0].data;
	/* Element (feature f, anchor i). */
#define YV(f, i) (transposed ? v[(size_t)(i) * F + (f)] : v[(size_t)(f) * N + (i)])
	struct ruth_ipc_detection *cand = scratch;
	size_t n = 0;
	for (int64_t i = 0; i < N && n < s->max_cand; i++) {
		int64_t best = 4;
		float bs = YV(4, i);
		for (int64_t f = 5; f < F; f++) {
			float x = YV(f, i);
			if (x > bs) {
				bs = x;
				best = f;
			}
		}
		if (!(bs >= params->score_threshold))
			continue;
		float cx = YV(0, i), cy = YV(1, i), w = YV(2, i), h = YV(3, i);
		if (!isfinite(cx) || !isfinite(cy) || !isfinite(w) || !isfinite(h))
			continue; /* a broken output never reaches the JSON as NaN */
		struct ruth_ipc_detection *d = &cand[n++];
		memset(d, 0, sizeof(*d));
		d->x0 = ruth_pp__map_x(map, cx - w / 2);
		d->y0 = ruth_pp__map_y(map, cy - h / 2);
		d->x1 = ruth_pp__map_x(map, cx + w / 2);
		d->y1 = ruth_pp__map_y(map, cy + h / 2);
		d->score = bs;
		d->class_id = (int32_t)(best - 4);
	}
#undef YV
	ruth_pp__sort_by_score_tmp(cand, n, cand + s->max_cand);
	size_t cap = params->max_results < max_dets ? params->max_results : max_dets;
	size_t kept = s->agnostic ? ruth_nms(cand, n, params->nms_iou, cap)
				  : ruth_pp__nms_per_class(cand, n, params->nms_iou, cap);
	memcpy(dets, cand, kept * sizeof(*dets));
	*n_dets = kept;
	return 0;
}

const struct ruth_postprocessor ruth_pp__yolo = {
	.version = RUTH_POSTPROCESSOR_ABI_VERSION,
	.name = "yolo",
	.create = yolo_create,
	.destroy = yolo_destroy,
	.scratch_size = yolo_scratch_size,
	.run = yolo_run,
};

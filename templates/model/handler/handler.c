/* handler.c: a custom postprocessor, built into handler.so and loaded by the
 * runtime when model.yaml says `postprocess: {name: custom, handler: ...}`.
 *
 * Write one only when no built-in decoder (blazeface, dbnet, yolo,
 * classification) fits your model. This one is complete and working for the
 * weights the template ships (BlazeFace short range): copy it, keep the
 * structure, replace the three marked parts (CHANGE 1..3).
 *
 * The ABI (src/runtime/processing/postprocess.h):
 *   - one exported symbol, ruth_handler_entry(abi_version), returning a
 *     struct ruth_postprocessor whose first field is its version;
 *   - create() runs once at start: check the model, precompute tables (here
 *     the anchors) into a state that stays read-only afterwards;
 *   - run() is called by every worker thread at the same time with the same
 *     state: it must not write to the state, must not allocate, and keeps its
 *     temporary data in `scratch` (scratch_size() bytes, one buffer per
 *     worker, allocated by the runtime at start);
 *   - outputs must be in source-frame pixels: map model coordinates back
 *     through `map` (the resize/letterbox the preprocessing applied).
 * Build: make handler (the Makefile next to model.yaml). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postprocess.h" /* src/runtime/processing: the ABI, ruth/ipc.h, ruth/model_config.h */

#define EXPORT __attribute__((visibility("default")))

/* CHANGE 1: what your model outputs. BlazeFace: 896 anchors (a 16x16 grid
 * with 2 per cell, then an 8x8 grid with 6 per cell); per anchor one score
 * logit and 16 regressors: box centre offset (2), box size (2), 6 keypoints (12). */
#define N_ANCHORS 896
#define N_REG 16
#define N_KEYPOINTS 6

struct state {
	float anchor[N_ANCHORS][2]; /* centres, normalised to [0,1] */
	float in_w, in_h;           /* model input size */
	float min_box_px;           /* from params.min_box_px */
};

static int h_create(void **out, const struct ruth_model_config *cfg, char *err, size_t errlen)
{
	/* CHANGE 2: precompute what run() needs from model.yaml. */
	if (cfg->expected_width == 0 || cfg->expected_height == 0) {
		snprintf(err, errlen, "template handler: expected_resolution must be set");
		return -EINVAL;
	}
	struct state *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "template handler: out of memory");
		return -ENOMEM;
	}
	static const struct {
		int cells, per_cell;
	} grids[] = { { 16, 2 }, { 8, 6 } };
	int n = 0;
	for (int g = 0; g < 2; g++)
		for (int row = 0; row < grids[g].cells; row++)
			for (int col = 0; col < grids[g].cells; col++)
				for (int a = 0; a < grids[g].per_cell; a++) {
					s->anchor[n][0] = (col + 0.5f) / (float)grids[g].cells;
					s->anchor[n][1] = (row + 0.5f) / (float)grids[g].cells;
					n++;
				}
	s->in_w = (float)cfg->expected_width;
	s->in_h = (float)cfg->expected_height;
	/* postprocess.params, read directly: a handler links nothing from the
	 * runtime, so it cannot call ruth_model_param(). */
	for (uint32_t i = 0; i < cfg->postprocess.n_params; i++)
		if (!strcmp(cfg->postprocess.params[i].key, "min_box_px"))
			s->min_box_px = strtof(cfg->postprocess.params[i].value, NULL);
	*out = s;
	return 0;
}

static void h_destroy(void *state)
{
	free(state);
}

static size_t h_scratch_size(const void *state, const struct ruth_model_config *cfg)
{
	(void)state;
	(void)cfg;
	return N_ANCHORS * sizeof(struct ruth_ipc_detection); /* every anchor may be a candidate */
}

static float iou(const struct ruth_ipc_detection *a, const struct ruth_ipc_detection *b)
{
	float ix = fminf(a->x1, b->x1) - fmaxf(a->x0, b->x0);
	float iy = fminf(a->y1, b->y1) - fmaxf(a->y0, b->y0);
	if (ix <= 0 || iy <= 0)
		return 0;
	float inter = ix * iy;
	float uni = (a->x1 - a->x0) * (a->y1 - a->y0) + (b->x1 - b->x0) * (b->y1 - b->y0) - inter;
	return uni > 0 ? inter / uni : 0;
}

static float map_x(const struct ruth_letterbox *m, float model_x)
{
	float x = (model_x - m->pad_x) / m->scale_x;
	return fminf(fmaxf(x, 0.0f), (float)m->src_width);
}

static float map_y(const struct ruth_letterbox *m, float model_y)
{
	float y = (model_y - m->pad_y) / m->scale_y;
	return fminf(fmaxf(y, 0.0f), (float)m->src_height);
}

static int h_run(const void *state, const struct ruth_pp_tensor *outs, size_t n_outs,
		 const struct ruth_letterbox *map, const struct ruth_pp_params *params, void *scratch,
		 struct ruth_ipc_detection *dets, size_t max_dets, size_t *n_dets)
{
	const struct state *s = state;
	*n_dets = 0;

	/* CHANGE 3: find your tensors and decode them. Here: tensors whose last
	 * dimension is 1 are scores, 16 are regressors, paired in graph order
	 * (512 anchors, then 384). Refuse anything else: a wrong model must fail
	 * loudly (INFERENCE_FAILED), not produce nonsense. */
	const struct ruth_pp_tensor *sc[2], *rg[2];
	size_t n_sc = 0, n_rg = 0, total = 0;
	for (size_t i = 0; i < n_outs; i++) {
		int64_t last = outs[i].rank ? outs[i].shape[outs[i].rank - 1] : 0;
		if (last == 1 && n_sc < 2)
			sc[n_sc++] = &outs[i];
		else if (last == N_REG && n_rg < 2)
			rg[n_rg++] = &outs[i];
		else
			return -EINVAL;
	}
	if (n_sc == 0 || n_sc != n_rg)
		return -EINVAL;
	for (size_t k = 0; k < n_sc; k++) {
		if (rg[k]->count != sc[k]->count * N_REG)
			return -EINVAL;
		total += sc[k]->count;
	}
	if (total != N_ANCHORS)
		return -EINVAL;

	/* Candidates above the threshold, in model-input pixels. */
	struct ruth_ipc_detection *cand = scratch;
	size_t n = 0, base = 0;
	for (size_t k = 0; k < n_sc; k++) {
		for (size_t i = 0; i < sc[k]->count; i++) {
			float logit = fminf(fmaxf(sc[k]->data[i], -80.0f), 80.0f);
			float score = 1.0f / (1.0f + expf(-logit));
			if (!(score >= params->score_threshold))
				continue;
			const float *r = rg[k]->data + i * N_REG;
			const float *an = s->anchor[base + i];
			float cx = an[0] * s->in_w + r[0], cy = an[1] * s->in_h + r[1];
			if (r[2] < s->min_box_px || r[3] < s->min_box_px)
				continue;
			struct ruth_ipc_detection *d = &cand[n++];
			memset(d, 0, sizeof(*d));
			d->x0 = cx - r[2] / 2;
			d->y0 = cy - r[3] / 2;
			d->x1 = cx + r[2] / 2;
			d->y1 = cy + r[3] / 2;
			d->score = score;
			d->class_id = 0; /* labels[0] in model.yaml: "face" */
			d->n_points = N_KEYPOINTS;
			for (int p = 0; p < N_KEYPOINTS; p++) {
				d->points[p][0] = an[0] * s->in_w + r[4 + 2 * p];
				d->points[p][1] = an[1] * s->in_h + r[5 + 2 * p];
			}
		}
		base += sc[k]->count;
	}

	/* Best first (insertion sort: candidates are few), then greedy NMS. */
	for (size_t i = 1; i < n; i++) {
		struct ruth_ipc_detection t = cand[i];
		size_t j = i;
		for (; j > 0 && cand[j - 1].score < t.score; j--)
			cand[j] = cand[j - 1];
		cand[j] = t;
	}
	size_t cap = params->max_results < max_dets ? params->max_results : max_dets;
	size_t out = 0;
	for (size_t i = 0; i < n && out < cap; i++) {
		bool keep = true;
		for (size_t j = 0; j < out && keep; j++)
			keep = iou(&cand[i], &dets[j]) <= params->nms_iou;
		if (keep)
			dets[out++] = cand[i]; /* still model pixels: mapped below */
	}

	/* Model-input pixels -> source-frame pixels. Mapped after NMS so the
	 * overlap test above compares boxes in one coordinate system. */
	for (size_t i = 0; i < out; i++) {
		struct ruth_ipc_detection *d = &dets[i];
		d->x0 = map_x(map, d->x0);
		d->y0 = map_y(map, d->y0);
		d->x1 = map_x(map, d->x1);
		d->y1 = map_y(map, d->y1);
		for (uint32_t p = 0; p < d->n_points; p++) {
			d->points[p][0] = map_x(map, d->points[p][0]);
			d->points[p][1] = map_y(map, d->points[p][1]);
		}
	}
	*n_dets = out;
	return 0;
}

static const struct ruth_postprocessor handler = {
	.version = RUTH_POSTPROCESSOR_ABI_VERSION,
	.name = "template-blazeface",
	.create = h_create,
	.destroy = h_destroy,
	.scratch_size = h_scratch_size,
	.run = h_run,
};

/* The only exported symbol. Returns NULL for an ABI version this handler was
 * not written for, so a newer runtime falls back to a clear error. */
EXPORT const struct ruth_postprocessor *ruth_handler_entry(uint32_t abi_version);
EXPORT const struct ruth_postprocessor *ruth_handler_entry(uint32_t abi_version)
{
	return abi_version >= RUTH_POSTPROCESSOR_ABI_VERSION ? &handler : NULL;
}

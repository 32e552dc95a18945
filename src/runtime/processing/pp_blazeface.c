/* pp_blazeface.c: MediaPipe BlazeFace decoder (front 128x128 and back 256x256).
 *
 * Expected outputs (the keijiro/MediaPipe ONNX exports): score logits [1,n,1]
 * and box regressors [1,n,16], either as one pair with n = 896 or split into
 * two pairs (512 then 384), in graph order: every tensor whose last dimension
 * is 1 is a score tensor, every tensor whose last dimension is 16 a box tensor,
 * and the k-th score tensor pairs with the k-th box tensor.
 *
 * Anchors (both models, 896 of them, normalised to [0,1]): a 16x16 grid with 2
 * anchors per cell, then an 8x8 grid with 6 anchors per cell; anchor index
 * (row * cells + col) * A + a, centre ((col + .5) / cells, (row + .5) / cells),
 * fixed size 1. For the front model these are strides 8 and 16 of 128, for the
 * back model strides 16 and 32 of 256 (MediaPipe's back-model options use
 * strides 16, 32, 32, 32, which collapse to the same two grids): both give
 * 512 + 384 = 896, which the output shapes confirm.
 *
 * Decoding: score = sigmoid(logit); box centre = anchor + (r[0], r[1]) / size,
 * box size = (r[2], r[3]) / size, keypoint k = anchor + (r[4+2k], r[5+2k]) / size,
 * size = the model input side. Boxes above the threshold are merged by
 * MediaPipe's weighted NMS: the best remaining box absorbs every box with IoU
 * above nms_iou, box and keypoints become the score-weighted mean, the score
 * stays the best one. Then everything is mapped through the letterbox mapping
 * into source pixels. class_id 0 ("face"), 6 points: right eye, left eye, nose
 * tip, mouth, right ear, left ear.
 *
 * Params: variant (front | back, optional; must agree with the input size). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pp_internal.h"

#define BF_ANCHORS 896
#define BF_KEYPOINTS 6

struct bf_state {
	float anchor[BF_ANCHORS][2];
	float in_w, in_h;
};

static int bf_create(void **state, const struct ruth_model_config *cfg, char *err, size_t errlen)
{
	if (cfg->expected_width == 0 || cfg->expected_height == 0) {
		snprintf(err, errlen, "blazeface: expected_resolution must be set (128x128 or 256x256)");
		return -EINVAL;
	}
	static const char *const known[] = {"variant", NULL};
	int rc = ruth_pp__check_params(cfg, "blazeface", known, err, errlen);
	if (rc < 0)
		return rc;
	/* variant (optional) documents which model the folder holds; checked
	 * against the input size so a front model.yaml pointing at back weights
	 * (or the reverse) fails at start, not with silently wrong boxes. */
	const char *variant = ruth_pp__param(cfg, "variant");
	if (variant) {
		uint32_t want = !strcmp(variant, "front") ? 128 : !strcmp(variant, "back") ? 256 : 0;
		if (!want) {
			snprintf(err, errlen, "postprocess.params.variant: expected front or back, got '%s'", variant);
			return -EINVAL;
		}
		if (cfg->expected_width != want || cfg->expected_height != want) {
			snprintf(err, errlen, "postprocess.params.variant %s needs expected_resolution %ux%u, got %ux%u",
				 variant, want, want, cfg->expected_width, cfg->expected_height);
			return -EINVAL;
		}
	}
	struct bf_state *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "blazeface: out of memory");
		return -ENOMEM;
	}
	static const struct {
		int cells, per_cell;
	} grids[] = {{16, 2}, {8, 6}};
	int n = 0;
	for (size_t g = 0; g < 2; g++)
		for (int row = 0; row < grids[g].cells; row++)
			for (int col = 0; col < grids[g].cells; col++)
				for (int a = 0; a < grids[g].per_cell; a++) {
					s->anchor[n][0] = (col + 0.5f) / grids[g].cells;
					s->anchor[n][1] = (row + 0.5f) / grids[g].cells;
					n++;
				}
	s->in_w = (float)cfg->expected_width;
	s->in_h = (float)cfg->expected_height;
	*state = s;
	return 0;
}

static void bf_destroy(void *state)
{
	free(state);
}

static size_t bf_scratch_size(const void *state, const struct ruth_model_config *cfg)
{
	(void)state;
	(void)cfg;
	return 2 * BF_ANCHORS * sizeof(struct ruth_ipc_detection); /* candidates + sort buffer */
}

static int bf_run(const void *state, const struct ruth_pp_tensor *outs, size_t n_outs,
		  const struct ruth_letterbox *map, const struct ruth_pp_params *params, void *scratch,
		  struct ruth_ipc_detection *dets, size_t max_dets, size_t *n_dets)
{
	const struct bf_state *s = state;
	const struct ruth_pp_tensor *sc[4], *bx[4];
	size_t n_sc = 0, n_bx = 0;
	*n_dets = 0;
	for (size_t i = 0; i < n_outs; i++) {
		if (outs[i].rank < 2)
			return -EINVAL;
		int64_t last = outs[i].shape[outs[i].rank - 1];
		if (last == 1 && n_sc < 4)
			sc[n_sc++] = &outs[i];
		else if (last == 16 && n_bx < 4)
			bx[n_bx++] = &outs[i];
		else
			return -EINVAL;
	}
	if (n_sc == 0 || n_sc != n_bx)
		return -EINVAL;
	size_t total = 0;
	for (size_t k = 0; k < n_sc; k++) {
		if (bx[k]->count != sc[k]->count * 16)
			return -EINVAL;
		total += sc[k]->count;
	}
	if (total != BF_ANCHORS)
		return -EINVAL;

	/* Threshold on the logit so sigmoid runs only for candidates. */
	float thr = params->score_threshold;
	thr = thr <= 0.0f ? 1e-6f : (thr >= 1.0f ? 1.0f - 1e-6f : thr);
	const float logit_thr = logf(thr / (1.0f - thr));
	struct ruth_ipc_detection *cand = scratch;
	size_t n = 0, base = 0;
	for (size_t k = 0; k < n_sc; k++) {
		for (size_t i = 0; i < sc[k]->count; i++) {
			float l = sc[k]->data[i];
			if (!(l >= logit_thr))
				continue;
			const float *r = bx[k]->data + i * 16;
			const float *an = s->anchor[base + i];
			int finite = 1;
			for (int q = 0; q < 16; q++)
				finite &= isfinite(r[q]) != 0;
			if (!finite)
				continue; /* a broken output never reaches the JSON as NaN */
			struct ruth_ipc_detection *d = &cand[n++];
			memset(d, 0, sizeof(*d));
			float cx = an[0] + r[0] / s->in_w, cy = an[1] + r[1] / s->in_h;
			float w = r[2] / s->in_w, h = r[3] / s->in_h;
			d->x0 = cx - w / 2;
			d->y0 = cy - h / 2;
			d->x1 = cx + w / 2;
			d->y1 = cy + h / 2;
			l = l < -80.0f ? -80.0f : (l > 80.0f ? 80.0f : l);
			d->score = 1.0f / (1.0f + expf(-l));
			d->class_id = 0;
			d->n_points = BF_KEYPOINTS;
			for (int p = 0; p < BF_KEYPOINTS; p++) {
				d->points[p][0] = an[0] + r[4 + 2 * p] / s->in_w;
				d->points[p][1] = an[1] + r[5 + 2 * p] / s->in_h;
			}
		}
		base += sc[k]->count;
	}
	ruth_pp__sort_by_score_tmp(cand, n, cand + BF_ANCHORS);

	/* Weighted NMS: cand[i] with score < 0 has been absorbed. */
	size_t out = 0;
	size_t cap = params->max_results < max_dets ? params->max_results : max_dets;
	for (size_t i = 0; i < n && out < cap; i++) {
		if (cand[i].score < 0)
			continue;
		double wsum = 0, x0 = 0, y0 = 0, x1 = 0, y1 = 0, pts[BF_KEYPOINTS][2] = {{0}};
		float best = cand[i].score;
		struct ruth_ipc_detection head = cand[i];
		for (size_t j = i; j < n; j++) {
			if (cand[j].score < 0 || (j != i && ruth_iou(&head, &cand[j]) <= params->nms_iou))
				continue;
			double w = cand[j].score;
			wsum += w;
			x0 += w * cand[j].x0;
			y0 += w * cand[j].y0;
			x1 += w * cand[j].x1;
			y1 += w * cand[j].y1;
			for (int p = 0; p < BF_KEYPOINTS; p++) {
				pts[p][0] += w * cand[j].points[p][0];
				pts[p][1] += w * cand[j].points[p][1];
			}
			cand[j].score = -1.0f;
		}
		struct ruth_ipc_detection *d = &dets[out++];
		memset(d, 0, sizeof(*d));
		d->score = best;
		d->class_id = 0;
		d->x0 = ruth_pp__map_x(map, (float)(x0 / wsum) * s->in_w);
		d->y0 = ruth_pp__map_y(map, (float)(y0 / wsum) * s->in_h);
		d->x1 = ruth_pp__map_x(map, (float)(x1 / wsum) * s->in_w);
		d->y1 = ruth_pp__map_y(map, (float)(y1 / wsum) * s->in_h);
		d->n_points = BF_KEYPOINTS;
		for (int p = 0; p < BF_KEYPOINTS; p++) {
			d->points[p][0] = ruth_pp__map_x(map, (float)(pts[p][0] / wsum) * s->in_w);
			d->points[p][1] = ruth_pp__map_y(map, (float)(pts[p][1] / wsum) * s->in_h);
		}
	}
	*n_dets = out;
	return 0;
}

const struct ruth_postprocessor ruth_pp__blazeface = {
	.version = RUTH_POSTPROCESSOR_ABI_VERSION,
	.name = "blazeface",
	.create = bf_create,
	.destroy = bf_destroy,
	.scratch_size = bf_scratch_size,
	.run = bf_run,
};

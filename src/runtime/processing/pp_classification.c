/* pp_classification.c: top-k classification.
 *
 * Expects one output whose element count is the number of classes ([1,C],
 * [1,C,1,1], ...). Parameter apply_softmax (default true): the scores are
 * logits and get a softmax; false: they are used as they are (a model that
 * ends in its own softmax or sigmoid). Results: the top max_results classes
 * with score >= score_threshold, best first, as detections with an empty box
 * (all coordinates 0) and class_id = the class index. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pp_internal.h"

struct cls_state {
	bool softmax;
};

static int cls_create(void **state, const struct ruth_model_config *cfg, char *err, size_t errlen)
{
	static const char *const known[] = {"apply_softmax", NULL};
	int rc = ruth_pp__check_params(cfg, "classification", known, err, errlen);
	if (rc < 0)
		return rc;
	struct cls_state *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "classification: out of memory");
		return -ENOMEM;
	}
	rc = ruth_pp__param_bool(cfg, "apply_softmax", true, &s->softmax, err, errlen);
	if (rc < 0) {
		free(s);
		return rc;
	}
	*state = s;
	return 0;
}

static void cls_destroy(void *state)
{
	free(state);
}

static size_t cls_scratch_size(const void *state, const struct ruth_model_config *cfg)
{
	(void)state;
	(void)cfg;
	return 0;
}

static int cls_run(const void *state, const struct ruth_pp_tensor *outs, size_t n_outs,
		   const struct ruth_letterbox *map, const struct ruth_pp_params *params, void *scratch,
		   struct ruth_ipc_detection *dets, size_t max_dets, size_t *n_dets)
{
	const struct cls_state *s = state;
	(void)map;
	(void)scratch;
	*n_dets = 0;
	if (n_outs < 1 || outs[0].count == 0 || outs[0].count > INT32_MAX)
		return -EINVAL;
	const float *v = outs[0].data;
	const size_t C = outs[0].count;
	float mx = v[0];
	double sum = 0;
	if (s->softmax) {
		for (size_t i = 1; i < C; i++)
			mx = v[i] > mx ? v[i] : mx;
		for (size_t i = 0; i < C; i++)
			sum += exp((double)v[i] - mx);
	}
	size_t cap = params->max_results < max_dets ? params->max_results : max_dets;
	size_t n = 0;
	/* Top-k by insertion into the sorted dets array: O(C * k), no scratch. */
	for (size_t i = 0; i < C; i++) {
		float p = s->softmax ? (float)(exp((double)v[i] - mx) / sum) : v[i];
		if (!(p >= params->score_threshold))
			continue;
		if (n == cap && (cap == 0 || p <= dets[n - 1].score))
			continue;
		size_t j = n < cap ? n++ : n - 1;
		while (j > 0 && dets[j - 1].score < p) {
			dets[j] = dets[j - 1];
			j--;
		}
		memset(&dets[j], 0, sizeof(dets[j]));
		dets[j].score = p;
		dets[j].class_id = (int32_t)i;
	}
	*n_dets = n;
	return 0;
}

const struct ruth_postprocessor ruth_pp__classification = {
	.version = RUTH_POSTPROCESSOR_ABI_VERSION,
	.name = "classification",
	.create = cls_create,
	.destroy = cls_destroy,
	.scratch_size = cls_scratch_size,
	.run = cls_run,
};

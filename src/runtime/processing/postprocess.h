/* postprocess.h: the postprocessor ABI (built-ins and template-built handlers).
 *
 * A postprocessor turns the backend's output tensors into detections in
 * source-frame pixels. Built-ins (blazeface, dbnet, yolo, classification) live
 * in a static table; a custom one is a .so built from templates/model whose
 * single exported symbol is
 *
 *   const struct ruth_postprocessor *ruth_handler_entry(uint32_t abi_version);
 *
 * returning NULL when it cannot serve that ABI version. The struct starts with
 * `version` (PipeWire's habit): the runtime refuses a handler whose version is
 * newer than it knows and calls only the members that version defines.
 *
 * Lifetime and threads: create() runs once at start and may precompute
 * read-only state (anchors, tables). run() is called concurrently by every
 * worker with the same state, so it must not write to it; anything it needs
 * to write goes into the per-worker scratch buffer of scratch_size bytes,
 * which the runtime allocates once per worker at start. */
#ifndef RUTH_RUNTIME_POSTPROCESS_H
#define RUTH_RUNTIME_POSTPROCESS_H

#include <stddef.h>
#include <stdint.h>

#include "ruth/ipc.h"
#include "ruth/model_config.h"
#include "preprocess.h"

#define RUTH_POSTPROCESSOR_ABI_VERSION 1u

/* One output tensor of the backend, float32, read-only. */
struct ruth_pp_tensor {
	const char *name;
	const float *data;
	const int64_t *shape;
	size_t rank;
	size_t count; /* elements */
};

/* Per-request knobs, from the request or the model.yaml defaults. */
struct ruth_pp_params {
	float score_threshold;
	float nms_iou;
	uint32_t max_results; /* <= RUTH_IPC_MAX_DETECTIONS */
};

struct ruth_postprocessor {
	uint32_t version; /* RUTH_POSTPROCESSOR_ABI_VERSION */
	const char *name;
	/* Validate the model's outputs against what this decoder expects, precompute
	 * tables. *state may be NULL for stateless decoders. Returns 0 or a negative
	 * errno with err filled. */
	int (*create)(void **state, const struct ruth_model_config *cfg, char *err, size_t errlen);
	void (*destroy)(void *state);
	/* Per-worker scratch bytes run() may use; called once after create(). */
	size_t (*scratch_size)(const void *state, const struct ruth_model_config *cfg);
	/* Decode outputs into dets (capacity max_dets); *n_dets set. Returns 0 or a
	 * negative errno (a malformed output shape, say). Must not allocate. */
	int (*run)(const void *state, const struct ruth_pp_tensor *outs, size_t n_outs,
		   const struct ruth_letterbox *map, const struct ruth_pp_params *params, void *scratch,
		   struct ruth_ipc_detection *dets, size_t max_dets, size_t *n_dets);
};

/* The built-in table: blazeface, dbnet, yolo, classification. NULL if unknown. */
const struct ruth_postprocessor *ruth_postprocessor_find(const char *name);

/* For postprocess.name "custom": dlopen cfg->postprocess.handler, resolve
 * ruth_handler_entry and check the version. The handle is returned so the
 * caller can dlclose it at exit. Returns 0 or a negative errno with err filled. */
int ruth_postprocessor_load_handler(const struct ruth_model_config *cfg, const struct ruth_postprocessor **out,
				    void **dl_handle, char *err, size_t errlen);

/* Shared helpers for decoders. */
float ruth_iou(const struct ruth_ipc_detection *a, const struct ruth_ipc_detection *b);
/* Greedy NMS in place on dets sorted by score descending; returns the count kept. */
size_t ruth_nms(struct ruth_ipc_detection *dets, size_t n, float iou_threshold, size_t max_keep);
/* Sort by score, descending (stable for equal scores). */
void ruth_sort_by_score(struct ruth_ipc_detection *dets, size_t n);

#endif

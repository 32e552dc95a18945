/* postprocess.c: the built-in table, the custom handler loader and the helpers
 * every decoder shares (IoU, sort, NMS, params). */
#include "postprocess.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "pp_internal.h"

static const struct ruth_postprocessor *const builtin_table[] = {
	&ruth_pp__blazeface,
	&ruth_pp__dbnet,
	&ruth_pp__yolo,
	&ruth_pp__classification,
};

const struct ruth_postprocessor *ruth_postprocessor_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(builtin_table) / sizeof(builtin_table[0]); i++)
		if (!strcmp(builtin_table[i]->name, name))
			return builtin_table[i];
	return NULL;
}

typedef const struct ruth_postprocessor *(*ruth_handler_entry_fn)(uint32_t abi_version);

int ruth_postprocessor_load_handler(const struct ruth_model_config *cfg, const struct ruth_postprocessor **out,
				    void **dl_handle, char *err, size_t errlen)
{
	*out = NULL;
	*dl_handle = NULL;
	const char *path = cfg->postprocess.handler;
	if (!path[0]) {
		snprintf(err, errlen, "postprocess.handler is empty (needed with postprocess.name custom)");
		return -EINVAL;
	}
	if (access(path, R_OK) != 0) {
		int e = errno;
		snprintf(err, errlen, "handler %s: %s", path, strerror(e));
		return -e;
	}
	/* RTLD_LOCAL: a handler's symbols must not leak into the next one loaded;
	 * RTLD_NOW: an unresolved symbol fails here, at start, not mid-request. */
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "handler %s: dlopen failed: %s", path, dlerror());
		return -ENOEXEC;
	}
	/* POSIX: converting the object pointer to a function pointer is how dlsym is used. */
	ruth_handler_entry_fn entry;
	*(void **)&entry = dlsym(h, "ruth_handler_entry");
	if (!entry) {
		snprintf(err, errlen, "handler %s: symbol ruth_handler_entry not found", path);
		dlclose(h);
		return -ENOENT;
	}
	const struct ruth_postprocessor *pp = entry(RUTH_POSTPROCESSOR_ABI_VERSION);
	if (!pp) {
		snprintf(err, errlen, "handler %s: ruth_handler_entry(%u) returned NULL (it cannot serve ABI version %u)",
			 path, RUTH_POSTPROCESSOR_ABI_VERSION, RUTH_POSTPROCESSOR_ABI_VERSION);
		dlclose(h);
		return -ENOTSUP;
	}
	if (pp->version == 0 || pp->version > RUTH_POSTPROCESSOR_ABI_VERSION) {
		snprintf(err, errlen, "handler %s: postprocessor ABI version %u is not supported (this runtime knows 1..%u)",
			 path, pp->version, RUTH_POSTPROCESSOR_ABI_VERSION);
		dlclose(h);
		return -ENOTSUP;
	}
	if (!pp->run || !pp->name) {
		snprintf(err, errlen, "handler %s: postprocessor has no %s", path, !pp->run ? "run()" : "name");
		dlclose(h);
		return -EINVAL;
	}
	*out = pp;
	*dl_handle = h;
	return 0;
}

float ruth_iou(const struct ruth_ipc_detection *a, const struct ruth_ipc_detection *b)
{
	float ix0 = a->x0 > b->x0 ? a->x0 : b->x0, iy0 = a->y0 > b->y0 ? a->y0 : b->y0;
	float ix1 = a->x1 < b->x1 ? a->x1 : b->x1, iy1 = a->y1 < b->y1 ? a->y1 : b->y1;
	float iw = ix1 - ix0, ih = iy1 - iy0;
	if (iw <= 0 || ih <= 0)
		return 0.0f;
	float inter = iw * ih;
	float ua = (a->x1 - a->x0) * (a->y1 - a->y0) + (b->x1 - b->x0) * (b->y1 - b->y0) - inter;
	return ua > 0 ? inter / ua : 0.0f;
}

/* Insertion sort: stable, in place, no allocation (qsort may malloc and is not
 * stable). Candidate counts after thresholding are small (hundreds). */
void ruth_sort_by_score(struct ruth_ipc_detection *dets, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		if (dets[i].score <= dets[i - 1].score)
			continue;
		struct ruth_ipc_detection t = dets[i];
		size_t j = i;
		while (j > 0 && dets[j - 1].score < t.score) {
			dets[j] = dets[j - 1];
			j--;
		}
		dets[j] = t;
	}
}

void ruth_pp__sort_by_score_tmp(struct ruth_ipc_detection *dets, size_t n, struct ruth_ipc_detection *tmp)
{
	if (n <= 32) {
		ruth_sort_by_score(dets, n);
		return;
	}
	/* Runs of 16 by insertion, then merges that alternate between dets and
	 * tmp; taking from the left run on ties keeps it stable. */
	for (size_t i = 0; i < n; i += 16)
		ruth_sort_by_score(dets + i, n - i < 16 ? n - i : 16);
	struct ruth_ipc_detection *a = dets, *b = tmp;
	for (size_t width = 16; width < n; width *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi)
				b[k++] = a[j].score > a[i].score ? a[j++] : a[i++];
			while (i < mid)
				b[k++] = a[i++];
			while (j < hi)
				b[k++] = a[j++];
		}
		struct ruth_ipc_detection *t = a;
		a = b;
		b = t;
	}
	if (a != dets)
		memcpy(dets, a, n * sizeof(*dets));
}

static size_t nms_impl(struct ruth_ipc_detection *dets, size_t n, float iou_threshold, size_t max_keep,
		       int per_class)
{
	size_t kept = 0;
	for (size_t i = 0; i < n && kept < max_keep; i++) {
		int keep = 1;
		for (size_t k = 0; k < kept; k++) {
			if (per_class && dets[k].class_id != dets[i].class_id)
				continue;
			if (ruth_iou(&dets[k], &dets[i]) > iou_threshold) {
				keep = 0;
				break;
			}
		}
		if (keep)
			dets[kept++] = dets[i];
	}
	return kept;
}

size_t ruth_nms(struct ruth_ipc_detection *dets, size_t n, float iou_threshold, size_t max_keep)
{
	return nms_impl(dets, n, iou_threshold, max_keep, 0);
}

size_t ruth_pp__nms_per_class(struct ruth_ipc_detection *dets, size_t n, float iou_threshold, size_t max_keep)
{
	return nms_impl(dets, n, iou_threshold, max_keep, 1);
}

const char *ruth_pp__param(const struct ruth_model_config *cfg, const char *key)
{
	for (uint32_t i = 0; i < cfg->postprocess.n_params && i < RUTH_MODEL_MAX_PARAMS; i++)
		if (!strcmp(cfg->postprocess.params[i].key, key))
			return cfg->postprocess.params[i].value;
	return NULL;
}

int ruth_pp__param_float(const struct ruth_model_config *cfg, const char *key, float def, float *out,
			 char *err, size_t errlen)
{
	const char *v = ruth_pp__param(cfg, key);
	*out = def;
	if (!v)
		return 0;
	char *end;
	errno = 0;
	float f = strtof(v, &end);
	if (errno || end == v || *end) {
		snprintf(err, errlen, "postprocess.params.%s: expected a number, got '%s'", key, v);
		return -EINVAL;
	}
	*out = f;
	return 0;
}

int ruth_pp__param_bool(const struct ruth_model_config *cfg, const char *key, bool def, bool *out,
			char *err, size_t errlen)
{
	const char *v = ruth_pp__param(cfg, key);
	*out = def;
	if (!v)
		return 0;
	if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes")) {
		*out = true;
	} else if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no")) {
		*out = false;
	} else {
		snprintf(err, errlen, "postprocess.params.%s: expected true or false, got '%s'", key, v);
		return -EINVAL;
	}
	return 0;
}

int ruth_pp__param_u32(const struct ruth_model_config *cfg, const char *key, uint32_t def, uint32_t *out,
		       char *err, size_t errlen)
{
	const char *v = ruth_pp__param(cfg, key);
	*out = def;
	if (!v)
		return 0;
	char *end;
	errno = 0;
	unsigned long u = strtoul(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || u > UINT32_MAX) {
		snprintf(err, errlen, "postprocess.params.%s: expected a non-negative integer, got '%s'", key, v);
		return -EINVAL;
	}
	*out = (uint32_t)u;
	return 0;
}

int ruth_pp__check_params(const struct ruth_model_config *cfg, const char *decoder, const char *const *known,
			  char *err, size_t errlen)
{
	for (uint32_t i = 0; i < cfg->postprocess.n_params && i < RUTH_MODEL_MAX_PARAMS; i++) {
		const char *key = cfg->postprocess.params[i].key;
		int ok = 0;
		for (const char *const *k = known; *k; k++)
			ok |= !strcmp(*k, key);
		if (!ok) {
			char list[160] = "";
			for (const char *const *k = known; *k; k++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", k == known ? "" : ", ", *k);
			snprintf(err, errlen, "postprocess.params.%s: unknown parameter for %s (known: %s)", key, decoder,
				 list[0] ? list : "none");
			return -EINVAL;
		}
	}
	return 0;
}

/* backend.c: the static backend table and the stub backend.
 *
 * The stub is the backend of stub mode: it loads nothing and runs nothing. The
 * server never queues work for it; the serving thread answers every valid
 * INFER_REQUEST with MODEL_UNAVAILABLE and the reason the runtime is in stub
 * mode. It exists as a table entry so "backend: stub" in model.yaml and
 * --force-stub go through the same interface as the real backends. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

struct ruth_backend {
	int unused;
};

static int stub_open(struct ruth_backend **out, const struct ruth_backend_open_args *a,
		     struct ruth_backend_info *info)
{
	(void)a;
	memset(info, 0, sizeof(*info));
	*out = NULL;
	info->mode = RUTH_MODE_STUB;
	snprintf(info->device, sizeof(info->device), "none");
	return 0;
}

static void stub_close(struct ruth_backend **b)
{
	if (b)
		*b = NULL;
}

static int stub_worker_new(struct ruth_backend *b, void *input, struct ruth_backend_worker **out, char *err,
			   size_t errlen)
{
	(void)b;
	(void)input;
	(void)err;
	(void)errlen;
	*out = NULL;
	return 0;
}

static void stub_worker_free(struct ruth_backend_worker **w)
{
	if (w)
		*w = NULL;
}

static int stub_run(struct ruth_backend_worker *w, const struct ruth_pp_tensor **outs, size_t *n_outs, char *err,
		    size_t errlen)
{
	(void)w;
	*outs = NULL;
	*n_outs = 0;
	snprintf(err, errlen, "stub backend runs nothing");
	return -ENOTSUP;
}

static const struct ruth_backend_ops backend_stub = {
	.version = RUTH_BACKEND_ABI_VERSION,
	.name = "stub",
	.open = stub_open,
	.close = stub_close,
	.worker_new = stub_worker_new,
	.worker_free = stub_worker_free,
	.run = stub_run,
};

const struct ruth_backend_ops *const ruth__backends[] = { &ruth__backend_onnx, &backend_stub, NULL };

const struct ruth_backend_ops *ruth__backend_find(const char *name)
{
	for (size_t i = 0; ruth__backends[i]; i++)
		if (strcmp(ruth__backends[i]->name, name) == 0 && ruth__backends[i]->version >= 1 &&
		    ruth__backends[i]->version <= RUTH_BACKEND_ABI_VERSION)
			return ruth__backends[i];
	return NULL;
}

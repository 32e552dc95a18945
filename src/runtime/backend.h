/* backend.h: the inference backend interface of ruth-model-runtime.
 *
 * A backend is a versioned struct of function pointers (PipeWire's habit: the
 * version comes first and callers check it before calling a member a newer
 * version added). The static table in backend.c lists the ones compiled in:
 * ONNX Runtime and the stub. A TensorRT backend slots in as one more entry.
 *
 * Lifetime and threads:
 *   open()        once, on the main thread, before the workers exist. Loads
 *                 the weights, picks the device (GPU, CPU) and checks the
 *                 model's input against model.yaml. On failure the runtime
 *                 serves in stub mode with the reason open() wrote.
 *   worker_new()  once per worker, still at start: binds the worker's
 *                 preallocated input buffer, allocates the output buffers and
 *                 runs the warm-up. Nothing is allocated after this.
 *   run()         concurrently from every worker, each with its own worker
 *                 context; the shared session is only read.
 *   worker_free() / close() at exit. */
#ifndef RUTH_RUNTIME_BACKEND_H
#define RUTH_RUNTIME_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "ruth/ipc.h"
#include "ruth/model_config.h"
#include "processing/postprocess.h"

#define RUTH_BACKEND_ABI_VERSION 1u
#define RUTH_BACKEND_MAX_OUTPUTS 8u
#define RUTH_BACKEND_REASON_MAX RUTH_IPC_MESSAGE_MAX

struct ruth_backend;
struct ruth_backend_worker;

/* What the runtime asks of a backend at open(). */
struct ruth_backend_open_args {
	const struct ruth_model_config *cfg;
	int allow_gpu;   /* policy says try the GPU (preferred/required, not --force-cpu) */
	int allow_cpu;   /* policy allows the CPU (none/preferred, or --force-cpu) */
	uint32_t input_width, input_height; /* the tensor the preprocessor fills */
};

/* What open() reports back. */
struct ruth_backend_info {
	enum ruth_ipc_mode mode;                  /* GPU or CPU */
	char reason[RUTH_BACKEND_REASON_MAX];     /* why not GPU; "" on GPU */
	char device[64];                          /* "cuda:0", "cpu" */
	size_t input_bytes;                       /* bytes of the input tensor */
};

struct ruth_backend_ops {
	uint32_t version; /* RUTH_BACKEND_ABI_VERSION */
	const char *name; /* "onnxruntime", "stub" */
	/* Returns 0 with *info filled, or a negative errno with info->reason saying why
	 * (the caller serves in stub mode with that reason). */
	int (*open)(struct ruth_backend **out, const struct ruth_backend_open_args *args,
		    struct ruth_backend_info *info);
	void (*close)(struct ruth_backend **b);
	/* `input` is the worker's preallocated input tensor (info.input_bytes bytes); it
	 * stays owned by the caller and must outlive the worker. Runs warm-up runs on a
	 * zero tensor. Returns 0 or a negative errno with err filled. */
	int (*worker_new)(struct ruth_backend *b, void *input, struct ruth_backend_worker **out, char *err,
			  size_t errlen);
	void (*worker_free)(struct ruth_backend_worker **w);
	/* One inference on the worker's input; *outs points at the worker's output
	 * descriptors (valid until the next run). Must not allocate. */
	int (*run)(struct ruth_backend_worker *w, const struct ruth_pp_tensor **outs, size_t *n_outs, char *err,
		   size_t errlen);
};

/* The static table; NULL-terminated. */
extern const struct ruth_backend_ops *const ruth__backends[];
extern const struct ruth_backend_ops ruth__backend_onnx;

const struct ruth_backend_ops *ruth__backend_find(const char *name);

#endif

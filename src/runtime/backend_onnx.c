/* backend_onnx.c: the ONNX Runtime backend (C API), CPU and CUDA.
 *
 * The API table is fetched once (OrtGetApiBase()->GetApi(ORT_API_VERSION)).
 * Every OrtStatus is turned into a negative errno plus its text at the
 * boundary and released there (FFmpeg's dnn_backend_onnx.c does the same), so
 * no OrtStatus escapes this file.
 *
 * One OrtSession is shared by all workers: OrtApi::Run is documented as safe
 * to call concurrently on one session. Each worker owns its input OrtValue
 * (over the runtime's preallocated tensor) and its output OrtValues over
 * buffers allocated at worker_new(); Run() writes into them, so a request
 * allocates nothing of ours.
 *
 * GPU: the CUDA provider is appended through the V1 call
 * (SessionOptionsAppendExecutionProvider_CUDA with OrtCUDAProviderOptions):
 * the CPU build of ORT we ship loads the provider library through it, and the
 * V2 call answers "not enabled in this build". Without the provider library,
 * CUDA or a driver the append fails cleanly; that text becomes the mode reason. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <onnxruntime_c_api.h>

#include "backend.h"
#include "log.h"

static const OrtApi *g_ort;
static pthread_once_t g_ort_once = PTHREAD_ONCE_INIT;

static void ort_api_init(void)
{
	const OrtApiBase *base = OrtGetApiBase();
	if (base)
		g_ort = base->GetApi(ORT_API_VERSION);
}

/* Convert and release. Returns 0 for a NULL status, else -EIO (-ENOMEM for
 * ORT_FAIL on allocation is not distinguishable reliably, so the text matters). */
static int ort_status(OrtStatus *st, const char *what, char *err, size_t errlen)
{
	if (!st)
		return 0;
	OrtErrorCode code = g_ort->GetErrorCode(st);
	const char *msg = g_ort->GetErrorMessage(st);
	if (err && errlen) {
		/* Keep messages to one line: ORT messages can contain newlines. */
		snprintf(err, errlen, "%s: %s", what, msg ? msg : "unknown error");
		for (char *p = err; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
	}
	g_ort->ReleaseStatus(st);
	switch (code) {
	case ORT_NO_SUCHFILE:
		return -ENOENT;
	case ORT_INVALID_ARGUMENT:
	case ORT_INVALID_GRAPH:
	case ORT_INVALID_PROTOBUF:
		return -EINVAL;
	case ORT_NOT_IMPLEMENTED:
		return -ENOTSUP;
	default:
		return -EIO;
	}
}

struct ruth_backend;
static void ort_note_error(struct ruth_backend *b, const char *message);
static int ort_probing_gpu(const struct ruth_backend *b);

/* ORT's own log lines go through our logger (one line, no colours, the
 * runtime's context), so journald sees one format. ORT calls this from any
 * thread; klog is thread-safe. */
static void ort_log(void *param, OrtLoggingLevel severity, const char *category, const char *logid,
		    const char *code_location, const char *message)
{
	(void)category;
	(void)logid;
	(void)code_location;
	struct ruth_backend *b = param;
	const struct klog_ctx *ctx = (const struct klog_ctx *)b;
	if (severity >= ORT_LOGGING_LEVEL_ERROR && message)
		ort_note_error(b, message);
	enum klog_level lv = severity >= ORT_LOGGING_LEVEL_ERROR     ? KLOG_ERROR
			     : severity == ORT_LOGGING_LEVEL_WARNING ? KLOG_WARN
			     : severity == ORT_LOGGING_LEVEL_INFO    ? KLOG_INFO
								     : KLOG_DEBUG;
	/* ORT logs a failed CUDA provider load as an ERROR. While the runtime is
	 * probing for the GPU that failure is an expected outcome on a machine
	 * without one (or without CUDA), and the READY line and HELLO_ACK carry it
	 * as the mode reason; an ERROR line on every CPU start would teach
	 * operators to ignore ERROR lines. */
	if (ort_probing_gpu(b) && lv < KLOG_INFO)
		lv = KLOG_INFO;
	char line[512];
	snprintf(line, sizeof(line), "%s", message ? message : "");
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	klog(ctx, lv, "onnxruntime: %s", line);
}

struct ruth_backend {
	struct klog_ctx log; /* first member: ort_log() gets the backend as its param */
	/* The last ERROR line ORT logged; set only while the main thread creates
	 * sessions (start), read right after, so no lock. It carries the detail the
	 * OrtStatus lacks ("libcuda.so.1: cannot open shared object file"). */
	char last_ort_error[512];
	/* Set while the main thread appends the CUDA provider (start only; ORT
	 * logs from that thread then), so no lock. */
	int probing_gpu;
	const struct ruth_model_config *cfg;
	OrtEnv *env;
	OrtSession *session;
	OrtMemoryInfo *meminfo;
	char input_name[64];
	int64_t input_shape[4];
	ONNXTensorElementDataType input_type;
	size_t input_bytes;
	size_t n_outputs;
	char output_names[RUTH_BACKEND_MAX_OUTPUTS][64];
	const char *output_name_ptrs[RUTH_BACKEND_MAX_OUTPUTS];
	enum ruth_ipc_mode mode;
};

static int ort_probing_gpu(const struct ruth_backend *b)
{
	return b->probing_gpu;
}

struct ruth_backend_worker {
	struct ruth_backend *b;
	OrtValue *input;
	OrtValue *outputs[RUTH_BACKEND_MAX_OUTPUTS];
	float *out_data[RUTH_BACKEND_MAX_OUTPUTS];
	int64_t out_shape[RUTH_BACKEND_MAX_OUTPUTS][8];
	struct ruth_pp_tensor out_desc[RUTH_BACKEND_MAX_OUTPUTS];
	const char *in_name_ptr;
};

static void ort_note_error(struct ruth_backend *b, const char *message)
{
	snprintf(b->last_ort_error, sizeof(b->last_ort_error), "%s", message);
}

/* "... Failed to load library /a/b/libx.so with error: /a/b/libx.so: cannot
 * open ..." -> "libx.so: cannot open ...": the part an operator acts on. */
static const char *ort_error_detail(const struct ruth_backend *b)
{
	const char *p = strstr(b->last_ort_error, "with error: ");
	if (!p)
		return NULL;
	p += strlen("with error: ");
	const char *colon = strchr(p, ':');
	const char *slash = NULL;
	for (const char *q = p; *q && (!colon || q < colon); q++)
		if (*q == '/')
			slash = q;
	return slash ? slash + 1 : p;
}

static OrtStatus *make_options(const struct ruth_model_config *cfg, OrtSessionOptions **out)
{
	OrtStatus *st;
	OrtSessionOptions *o = NULL;
	if ((st = g_ort->CreateSessionOptions(&o)))
		return st;
	uint32_t intra = cfg->resources.intra_op_threads ? cfg->resources.intra_op_threads : 1;
	if ((st = g_ort->SetIntraOpNumThreads(o, (int)intra)) || (st = g_ort->SetInterOpNumThreads(o, 1)) ||
	    (st = g_ort->SetSessionExecutionMode(o, ORT_SEQUENTIAL)) ||
	    (st = g_ort->SetSessionGraphOptimizationLevel(o, ORT_ENABLE_ALL))) {
		g_ort->ReleaseSessionOptions(o);
		return st;
	}
	*out = o;
	return NULL;
}

/* Append the CUDA provider (V1). Returns 0 or a negative errno with err set. */
static int append_cuda(OrtSessionOptions *o, const struct ruth_model_config *cfg, char *err, size_t errlen)
{
	OrtCUDAProviderOptions cuda;
	memset(&cuda, 0, sizeof(cuda));
	cuda.device_id = 0;
	cuda.cudnn_conv_algo_search = OrtCudnnConvAlgoSearchHeuristic;
	cuda.gpu_mem_limit = cfg->resources.gpu_memory_mb ? (size_t)cfg->resources.gpu_memory_mb << 20 : SIZE_MAX;
	cuda.arena_extend_strategy = 1; /* kSameAsRequested: grow by what a run needs, not powers of two */
	cuda.do_copy_in_default_stream = 1;
	return ort_status(g_ort->SessionOptionsAppendExecutionProvider_CUDA(o, &cuda), "CUDA provider", err, errlen);
}

static int create_session(struct ruth_backend *b, int use_cuda, char *err, size_t errlen)
{
	OrtSessionOptions *o = NULL;
	int r = ort_status(make_options(b->cfg, &o), "session options", err, errlen);
	if (r < 0)
		return r;
	b->last_ort_error[0] = '\0';
	if (use_cuda) {
		b->probing_gpu = 1;
		r = append_cuda(o, b->cfg, err, errlen);
		b->probing_gpu = 0;
	}
	if (use_cuda && r < 0) {
		const char *detail = ort_error_detail(b);
		if (detail)
			snprintf(err, errlen, "CUDA provider: %s", detail);
		g_ort->ReleaseSessionOptions(o);
		return r;
	}
	r = ort_status(g_ort->CreateSession(b->env, b->cfg->weights, o, &b->session), "cannot load weights", err,
		       errlen);
	g_ort->ReleaseSessionOptions(o);
	return r;
}

static const char *dtype_name(ONNXTensorElementDataType t)
{
	switch (t) {
	case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return "float32";
	case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8: return "uint8";
	case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8: return "int8";
	case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return "float16";
	case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return "int64";
	default: return "other";
	}
}

/* Check the model's input against model.yaml and fix its shape. */
static int check_input(struct ruth_backend *b, const struct ruth_backend_open_args *a, char *err, size_t errlen)
{
	const struct ruth_model_config *cfg = a->cfg;
	OrtAllocator *alloc = NULL;
	size_t n_in = 0, idx = SIZE_MAX;
	int r = ort_status(g_ort->GetAllocatorWithDefaultOptions(&alloc), "allocator", err, errlen);
	if (r < 0)
		return r;
	if ((r = ort_status(g_ort->SessionGetInputCount(b->session, &n_in), "input count", err, errlen)) < 0)
		return r;
	if (n_in != 1) {
		snprintf(err, errlen, "model has %zu inputs; the runtime feeds exactly one image tensor", n_in);
		return -EINVAL;
	}
	char *name = NULL;
	if ((r = ort_status(g_ort->SessionGetInputName(b->session, 0, alloc, &name), "input name", err, errlen)) < 0)
		return r;
	if (cfg->input.tensor_name[0] && strcmp(cfg->input.tensor_name, name) != 0) {
		snprintf(err, errlen, "model.yaml input.tensor_name '%s' but the model's input is '%s'",
			 cfg->input.tensor_name, name);
		alloc->Free(alloc, name);
		return -EINVAL;
	}
	idx = 0;
	snprintf(b->input_name, sizeof(b->input_name), "%s", name);
	alloc->Free(alloc, name);

	OrtTypeInfo *ti = NULL;
	const OrtTensorTypeAndShapeInfo *tsi = NULL;
	size_t rank = 0;
	int64_t dims[8] = { 0 };
	ONNXTensorElementDataType et = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
	if ((r = ort_status(g_ort->SessionGetInputTypeInfo(b->session, idx, &ti), "input type", err, errlen)) < 0)
		return r;
	OrtStatus *st = g_ort->CastTypeInfoToTensorInfo(ti, &tsi);
	if (!st && tsi)
		st = g_ort->GetTensorElementType(tsi, &et);
	if (!st && tsi)
		st = g_ort->GetDimensionsCount(tsi, &rank);
	if (!st && tsi && rank <= 8)
		st = g_ort->GetDimensions(tsi, dims, rank);
	g_ort->ReleaseTypeInfo(ti);
	if ((r = ort_status(st, "input shape", err, errlen)) < 0)
		return r;
	if (!tsi) {
		snprintf(err, errlen, "input '%s' is not a tensor", b->input_name);
		return -EINVAL;
	}
	ONNXTensorElementDataType want = cfg->input.dtype == RUTH_DTYPE_U8 ? ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8
									     : ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
	if (et != want) {
		snprintf(err, errlen, "input '%s' is %s but model.yaml input.dtype says %s", b->input_name,
			 dtype_name(et), dtype_name(want));
		return -EINVAL;
	}
	if (rank != 4) {
		snprintf(err, errlen, "input '%s' has rank %zu; expected 4 (batch, image)", b->input_name, rank);
		return -EINVAL;
	}
	int64_t want_shape[4];
	want_shape[0] = 1;
	if (cfg->input.layout == RUTH_LAYOUT_NHWC) {
		want_shape[1] = a->input_height;
		want_shape[2] = a->input_width;
		want_shape[3] = 3;
	} else {
		want_shape[1] = 3;
		want_shape[2] = a->input_height;
		want_shape[3] = a->input_width;
	}
	for (int i = 0; i < 4; i++) {
		/* <= 0 is a symbolic (dynamic) dimension: we fix it. */
		if (dims[i] > 0 && dims[i] != want_shape[i]) {
			snprintf(err, errlen,
				 "input '%s' shape [%lld,%lld,%lld,%lld] does not match model.yaml (%s %ux%u): "
				 "[%lld,%lld,%lld,%lld]",
				 b->input_name, (long long)dims[0], (long long)dims[1], (long long)dims[2],
				 (long long)dims[3], cfg->input.layout == RUTH_LAYOUT_NHWC ? "nhwc" : "nchw",
				 a->input_width, a->input_height, (long long)want_shape[0], (long long)want_shape[1],
				 (long long)want_shape[2], (long long)want_shape[3]);
			return -EINVAL;
		}
	}
	memcpy(b->input_shape, want_shape, sizeof(want_shape));
	b->input_type = et;
	b->input_bytes = (size_t)a->input_width * a->input_height * 3 * (et == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT ? 4 : 1);

	/* Outputs: names, and all must be float32 (the postprocessor ABI reads floats). */
	size_t n_out = 0;
	if ((r = ort_status(g_ort->SessionGetOutputCount(b->session, &n_out), "output count", err, errlen)) < 0)
		return r;
	if (n_out == 0 || n_out > RUTH_BACKEND_MAX_OUTPUTS) {
		snprintf(err, errlen, "model has %zu outputs; the runtime supports 1..%u", n_out,
			 RUTH_BACKEND_MAX_OUTPUTS);
		return -EINVAL;
	}
	for (size_t i = 0; i < n_out; i++) {
		char *on = NULL;
		if ((r = ort_status(g_ort->SessionGetOutputName(b->session, i, alloc, &on), "output name", err,
				    errlen)) < 0)
			return r;
		snprintf(b->output_names[i], sizeof(b->output_names[i]), "%s", on);
		alloc->Free(alloc, on);
		b->output_name_ptrs[i] = b->output_names[i];
		OrtTypeInfo *oti = NULL;
		const OrtTensorTypeAndShapeInfo *otsi = NULL;
		ONNXTensorElementDataType oet = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
		if ((r = ort_status(g_ort->SessionGetOutputTypeInfo(b->session, i, &oti), "output type", err, errlen)) < 0)
			return r;
		st = g_ort->CastTypeInfoToTensorInfo(oti, &otsi);
		if (!st && otsi)
			st = g_ort->GetTensorElementType(otsi, &oet);
		g_ort->ReleaseTypeInfo(oti);
		if ((r = ort_status(st, "output type", err, errlen)) < 0)
			return r;
		if (oet != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
			snprintf(err, errlen, "output '%s' is %s; postprocessors read float32", b->output_names[i],
				 dtype_name(oet));
			return -EINVAL;
		}
	}
	b->n_outputs = n_out;
	return 0;
}

static void onnx_close(struct ruth_backend **pb)
{
	struct ruth_backend *b = pb ? *pb : NULL;
	if (!b)
		return;
	if (b->session)
		g_ort->ReleaseSession(b->session);
	if (b->meminfo)
		g_ort->ReleaseMemoryInfo(b->meminfo);
	if (b->env)
		g_ort->ReleaseEnv(b->env);
	free(b);
	*pb = NULL;
}

static int onnx_open(struct ruth_backend **out, const struct ruth_backend_open_args *a, struct ruth_backend_info *info)
{
	char err[RUTH_BACKEND_REASON_MAX];
	int r;
	memset(info, 0, sizeof(*info));
	pthread_once(&g_ort_once, ort_api_init);
	if (!g_ort) {
		snprintf(info->reason, sizeof(info->reason), "ONNX Runtime API version %d not available",
			 ORT_API_VERSION);
		return -ENOTSUP;
	}
	struct ruth_backend *b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(info->reason, sizeof(info->reason), "out of memory");
		return -ENOMEM;
	}
	b->cfg = a->cfg;
	klog_ctx_init(&b->log, "ruth-model-runtime", "model=%s", a->cfg->model_id);
	if ((r = ort_status(g_ort->CreateEnvWithCustomLogger(ort_log, b, ORT_LOGGING_LEVEL_ERROR,
							     "ruth-model-runtime", &b->env),
			    "ORT env", info->reason, sizeof(info->reason))) < 0)
		goto fail;
	if ((r = ort_status(g_ort->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &b->meminfo),
			    "ORT memory info", info->reason, sizeof(info->reason))) < 0)
		goto fail;

	char gpu_err[RUTH_BACKEND_REASON_MAX] = "GPU not wanted";
	if (a->allow_gpu) {
		r = create_session(b, 1, gpu_err, sizeof(gpu_err));
		if (r == 0) {
			b->mode = RUTH_MODE_GPU;
			snprintf(info->device, sizeof(info->device), "cuda:0");
		} else {
			KLOG_WARN(&b->log, "GPU path failed: %s", gpu_err);
		}
	}
	if (!b->session) {
		if (!a->allow_cpu) {
			snprintf(info->reason, sizeof(info->reason), "GPU required but unavailable: %s", gpu_err);
			r = -ENODEV;
			goto fail;
		}
		if ((r = create_session(b, 0, err, sizeof(err))) < 0) {
			snprintf(info->reason, sizeof(info->reason), "%s", err);
			goto fail;
		}
		b->mode = RUTH_MODE_CPU;
		snprintf(info->device, sizeof(info->device), "cpu");
		if (a->allow_gpu)
			snprintf(info->reason, sizeof(info->reason), "GPU unavailable: %s", gpu_err);
	}
	if ((r = check_input(b, a, err, sizeof(err))) < 0) {
		snprintf(info->reason, sizeof(info->reason), "model does not match model.yaml: %s", err);
		goto fail;
	}
	info->mode = b->mode;
	info->input_bytes = b->input_bytes;
	*out = b;
	return 0;
fail:
	onnx_close(&b);
	return r < 0 ? r : -EIO;
}

static void onnx_worker_free(struct ruth_backend_worker **pw)
{
	struct ruth_backend_worker *w = pw ? *pw : NULL;
	if (!w)
		return;
	if (w->input)
		g_ort->ReleaseValue(w->input);
	for (size_t i = 0; i < RUTH_BACKEND_MAX_OUTPUTS; i++) {
		if (w->outputs[i])
			g_ort->ReleaseValue(w->outputs[i]);
		free(w->out_data[i]);
	}
	free(w);
	*pw = NULL;
}

static int onnx_worker_new(struct ruth_backend *b, void *input, struct ruth_backend_worker **out, char *err,
			   size_t errlen)
{
	struct ruth_backend_worker *w = calloc(1, sizeof(*w));
	OrtValue *tmp[RUTH_BACKEND_MAX_OUTPUTS] = { 0 };
	int r;
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	w->b = b;
	w->in_name_ptr = b->input_name;
	memset(input, 0, b->input_bytes);
	if ((r = ort_status(g_ort->CreateTensorWithDataAsOrtValue(b->meminfo, input, b->input_bytes, b->input_shape, 4,
								  b->input_type, &w->input),
			    "input tensor", err, errlen)) < 0)
		goto fail;
	/* Warm-up 1: let ORT allocate the outputs, to learn their shapes (fixed,
	 * since the input shape is fixed). */
	if ((r = ort_status(g_ort->Run(b->session, NULL, &w->in_name_ptr, (const OrtValue *const *)&w->input, 1,
				       b->output_name_ptrs, b->n_outputs, tmp),
			    "warm-up run", err, errlen)) < 0)
		goto fail;
	for (size_t i = 0; i < b->n_outputs; i++) {
		OrtTensorTypeAndShapeInfo *tsi = NULL;
		size_t rank = 0, count = 0;
		OrtStatus *st = g_ort->GetTensorTypeAndShape(tmp[i], &tsi);
		if (!st)
			st = g_ort->GetDimensionsCount(tsi, &rank);
		if (!st && rank > 8) {
			g_ort->ReleaseTensorTypeAndShapeInfo(tsi);
			snprintf(err, errlen, "output '%s' has rank %zu (> 8)", b->output_names[i], rank);
			r = -EINVAL;
			goto fail;
		}
		if (!st)
			st = g_ort->GetDimensions(tsi, w->out_shape[i], rank);
		if (!st)
			st = g_ort->GetTensorShapeElementCount(tsi, &count);
		if (tsi)
			g_ort->ReleaseTensorTypeAndShapeInfo(tsi);
		if ((r = ort_status(st, "output shape", err, errlen)) < 0)
			goto fail;
		w->out_data[i] = calloc(count ? count : 1, sizeof(float));
		if (!w->out_data[i]) {
			snprintf(err, errlen, "out of memory");
			r = -ENOMEM;
			goto fail;
		}
		if ((r = ort_status(g_ort->CreateTensorWithDataAsOrtValue(b->meminfo, w->out_data[i],
									  count * sizeof(float), w->out_shape[i], rank,
									  ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT,
									  &w->outputs[i]),
				    "output tensor", err, errlen)) < 0)
			goto fail;
		w->out_desc[i] = (struct ruth_pp_tensor){ .name = b->output_names[i],
							  .data = w->out_data[i],
							  .shape = w->out_shape[i],
							  .rank = rank,
							  .count = count };
		g_ort->ReleaseValue(tmp[i]);
		tmp[i] = NULL;
	}
	/* Warm-up 2: the steady-state path, into our own buffers. */
	if ((r = ort_status(g_ort->Run(b->session, NULL, &w->in_name_ptr, (const OrtValue *const *)&w->input, 1,
				       b->output_name_ptrs, b->n_outputs, w->outputs),
			    "warm-up run", err, errlen)) < 0)
		goto fail;
	*out = w;
	return 0;
fail:
	for (size_t i = 0; i < RUTH_BACKEND_MAX_OUTPUTS; i++)
		if (tmp[i])
			g_ort->ReleaseValue(tmp[i]);
	onnx_worker_free(&w);
	return r;
}

static int onnx_run(struct ruth_backend_worker *w, const struct ruth_pp_tensor **outs, size_t *n_outs, char *err,
		    size_t errlen)
{
	struct ruth_backend *b = w->b;
	int r = ort_status(g_ort->Run(b->session, NULL, &w->in_name_ptr, (const OrtValue *const *)&w->input, 1,
				      b->output_name_ptrs, b->n_outputs, w->outputs),
			   "run", err, errlen);
	if (r < 0)
		return r;
	*outs = w->out_desc;
	*n_outs = b->n_outputs;
	return 0;
}

const struct ruth_backend_ops ruth__backend_onnx = {
	.version = RUTH_BACKEND_ABI_VERSION,
	.name = "onnxruntime",
	.open = onnx_open,
	.close = onnx_close,
	.worker_new = onnx_worker_new,
	.worker_free = onnx_worker_free,
	.run = onnx_run,
};

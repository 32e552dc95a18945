/* ort_run_cpu: CPU time of ONNX Runtime's Run() alone, the baseline of the
 * fan-out benchmark (bench/fanout_cameras_blazeface.sh). Same session options
 * as the runtime's CPU backend (intra-op threads from the argument, one
 * inter-op thread, sequential, all graph optimisations); the input tensor has
 * the model's own shape (dynamic dimensions = 1), filled with a smooth pattern
 * in [-1, 1] (a CNN's cost does not depend on the pixel values).
 *   ort_run_cpu MODEL.onnx [RUNS] [INTRA_THREADS]
 * prints: ort_run_cpu_us=<CPU us per Run> wall_us=<wall us per Run> runs=<n> */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <onnxruntime_c_api.h>

static const OrtApi *ort;

static void check(OrtStatus *st, const char *what)
{
	if (st) {
		fprintf(stderr, "ort_run_cpu: %s: %s\n", what, ort->GetErrorMessage(st));
		exit(1);
	}
}

static double now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: ort_run_cpu MODEL.onnx [RUNS] [INTRA_THREADS]\n");
		return 2;
	}
	int runs = argc > 2 ? atoi(argv[2]) : 500;
	int intra = argc > 3 ? atoi(argv[3]) : 1;
	ort = OrtGetApiBase()->GetApi(ORT_API_VERSION);
	OrtEnv *env;
	check(ort->CreateEnv(ORT_LOGGING_LEVEL_ERROR, "ort_run_cpu", &env), "env");
	OrtSessionOptions *o;
	check(ort->CreateSessionOptions(&o), "options");
	check(ort->SetIntraOpNumThreads(o, intra), "intra");
	check(ort->SetInterOpNumThreads(o, 1), "inter");
	check(ort->SetSessionExecutionMode(o, ORT_SEQUENTIAL), "mode");
	check(ort->SetSessionGraphOptimizationLevel(o, ORT_ENABLE_ALL), "opt");
	OrtSession *s;
	check(ort->CreateSession(env, argv[1], o, &s), "session");
	OrtAllocator *alloc;
	check(ort->GetAllocatorWithDefaultOptions(&alloc), "allocator");
	char *in_name;
	check(ort->SessionGetInputName(s, 0, alloc, &in_name), "input name");
	OrtTypeInfo *ti;
	const OrtTensorTypeAndShapeInfo *tsi;
	size_t rank;
	int64_t dims[8];
	check(ort->SessionGetInputTypeInfo(s, 0, &ti), "input type");
	check(ort->CastTypeInfoToTensorInfo(ti, &tsi), "tensor info");
	check(ort->GetDimensionsCount(tsi, &rank), "rank");
	check(ort->GetDimensions(tsi, dims, rank), "dims");
	ort->ReleaseTypeInfo(ti);
	size_t n = 1;
	for (size_t i = 0; i < rank; i++) {
		if (dims[i] <= 0)
			dims[i] = 1;
		n *= (size_t)dims[i];
	}
	float *data = malloc(n * sizeof(float));
	for (size_t i = 0; i < n; i++)
		data[i] = (float)sin((double)i * 0.001);
	OrtMemoryInfo *mi;
	check(ort->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &mi), "meminfo");
	OrtValue *input;
	check(ort->CreateTensorWithDataAsOrtValue(mi, data, n * sizeof(float), dims, rank,
						  ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &input),
	      "input tensor");
	size_t n_out;
	check(ort->SessionGetOutputCount(s, &n_out), "outputs");
	char **out_names = calloc(n_out, sizeof(char *));
	for (size_t i = 0; i < n_out; i++)
		check(ort->SessionGetOutputName(s, i, alloc, &out_names[i]), "output name");
	OrtValue **outs = calloc(n_out, sizeof(OrtValue *));
	const char *in_names[1] = { in_name };
	for (int k = 0; k < runs / 10 + 5; k++) { /* warm-up */
		check(ort->Run(s, NULL, in_names, (const OrtValue *const *)&input, 1, (const char *const *)out_names,
			       n_out, outs),
		      "run");
		for (size_t i = 0; i < n_out; i++) {
			ort->ReleaseValue(outs[i]);
			outs[i] = NULL;
		}
	}
	double c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID), w0 = now_ns(CLOCK_MONOTONIC);
	for (int k = 0; k < runs; k++) {
		check(ort->Run(s, NULL, in_names, (const OrtValue *const *)&input, 1, (const char *const *)out_names,
			       n_out, outs),
		      "run");
		for (size_t i = 0; i < n_out; i++) {
			ort->ReleaseValue(outs[i]);
			outs[i] = NULL;
		}
	}
	double c1 = now_ns(CLOCK_PROCESS_CPUTIME_ID), w1 = now_ns(CLOCK_MONOTONIC);
	printf("ort_run_cpu_us=%.1f wall_us=%.1f runs=%d\n", (c1 - c0) / 1e3 / runs, (w1 - w0) / 1e3 / runs, runs);
	for (size_t i = 0; i < n_out; i++)
		alloc->Free(alloc, out_names[i]);
	alloc->Free(alloc, in_name);
	free(out_names);
	free(outs);
	ort->ReleaseValue(input);
	ort->ReleaseMemoryInfo(mi);
	ort->ReleaseSession(s);
	ort->ReleaseSessionOptions(o);
	ort->ReleaseEnv(env);
	free(data);
	return 0;
}

/* ort_run_cpu: CPU time of ONNX Runtime's Run() alone, the baseline of the
 * fan-out benchmark (bench/fanout_cameras_blazeface.sh). Same session options
 * as the runtime's CPU backend (intra-op threads from the argument, one
 * inter-op thread, sequential, all graph optimisations); the input tensor has
 * the model's own shape (dynamic dimensions = 1), filled with a smooth pattern
 * in [-1, 1] (a CNN's cost does not depend on the pixel values).
 *
 *   ort_run_cpu MODEL.onnx [RUNS] [INTRA_THREADS] [--interval-us U]
 *
 * Without --interval-us: RUNS back-to-back Runs (a hot loop: weights, arena and
 * code stay in cache). With --interval-us U: one Run every U microseconds on an
 * absolute schedule (clock_nanosleep TIMER_ABSTIME, so the pacing does not drift
 * with the Run's own duration), sleeping in between. That is the duty cycle a
 * model runtime sees when requests arrive at a fixed rate: between two Runs the
 * machine does other work (video decode) and evicts the model from the caches,
 * so each Run starts cold. A hot-loop figure is therefore a lower bound that
 * no request-driven server can reach at low rates; the paced figure is the fair
 * one to compare a server's per-request CPU with.
 *
 * CPU time is taken around each Run with CLOCK_PROCESS_CPUTIME_ID (it covers
 * ORT's intra-op threads when INTRA_THREADS > 1); the sleeps and the clock
 * reads themselves are outside the measured intervals.
 *
 * Prints one line:
 *   ort_run_cpu_us=<mean CPU us per Run> median_us=<median> wall_us=<mean wall us
 *   per Run> runs=<n> interval_us=<U, 0 for the hot loop>
 * Exit status: 0, 1 on an ONNX Runtime error, 2 on bad arguments. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <onnxruntime_c_api.h>

#define RUNS_MAX 1000000
#define INTERVAL_US_MAX 10000000L /* 10 s */

static const OrtApi *ort;

static void check(OrtStatus *st, const char *what)
{
	if (st) {
		fprintf(stderr, "ort_run_cpu: %s: %s\n", what, ort->GetErrorMessage(st));
		exit(1);
	}
}

static int64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Whole decimal number in [lo, hi], else -1 (with a message naming the argument). */
static long parse_count(const char *s, const char *what, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "ort_run_cpu: %s must be a whole number in [%ld, %ld]; got '%s'\n", what, lo, hi, s);
		return -1;
	}
	return v;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ort_run_cpu MODEL.onnx [RUNS] [INTRA_THREADS] [--interval-us U]\n"
		   "  RUNS           measured Runs (default 500), after RUNS/10+5 warm-up Runs\n"
		   "  INTRA_THREADS  ORT intra-op threads (default 1)\n"
		   "  --interval-us  one Run every U us, sleeping in between (default: back to back)\n");
}

struct run_ctx {
	OrtSession *s;
	const char *const *in_names;
	const OrtValue *const *inputs;
	const char *const *out_names;
	size_t n_out;
	OrtValue **outs;
};

static void run_once(const struct run_ctx *r)
{
	check(ort->Run(r->s, NULL, r->in_names, r->inputs, 1, r->out_names, r->n_out, r->outs), "run");
	for (size_t i = 0; i < r->n_out; i++) {
		ort->ReleaseValue(r->outs[i]);
		r->outs[i] = NULL;
	}
}

int main(int argc, char **argv)
{
	const char *pos[3] = { NULL, NULL, NULL };
	int npos = 0;
	long interval_us = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--interval-us")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "ort_run_cpu: --interval-us needs a value\n");
				return 2;
			}
			interval_us = parse_count(argv[++i], "--interval-us", 1, INTERVAL_US_MAX);
			if (interval_us < 0)
				return 2;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "ort_run_cpu: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		} else if (npos < 3) {
			pos[npos++] = argv[i];
		} else {
			fprintf(stderr, "ort_run_cpu: too many arguments\n");
			usage(stderr);
			return 2;
		}
	}
	if (!npos) {
		usage(stderr);
		return 2;
	}
	long runs = pos[1] ? parse_count(pos[1], "RUNS", 1, RUNS_MAX) : 500;
	long intra = pos[2] ? parse_count(pos[2], "INTRA_THREADS", 1, 64) : 1;
	if (runs < 0 || intra < 0)
		return 2;

	ort = OrtGetApiBase()->GetApi(ORT_API_VERSION);
	OrtEnv *env;
	check(ort->CreateEnv(ORT_LOGGING_LEVEL_ERROR, "ort_run_cpu", &env), "env");
	OrtSessionOptions *o;
	check(ort->CreateSessionOptions(&o), "options");
	check(ort->SetIntraOpNumThreads(o, (int)intra), "intra");
	check(ort->SetInterOpNumThreads(o, 1), "inter");
	check(ort->SetSessionExecutionMode(o, ORT_SEQUENTIAL), "mode");
	check(ort->SetSessionGraphOptimizationLevel(o, ORT_ENABLE_ALL), "opt");
	OrtSession *s;
	check(ort->CreateSession(env, pos[0], o, &s), "session");
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
	if (rank > 8) {
		fprintf(stderr, "ort_run_cpu: input rank %zu > 8 not supported\n", rank);
		return 1;
	}
	check(ort->GetDimensions(tsi, dims, rank), "dims");
	ort->ReleaseTypeInfo(ti);
	size_t n = 1;
	for (size_t i = 0; i < rank; i++) {
		if (dims[i] <= 0)
			dims[i] = 1;
		n *= (size_t)dims[i];
	}
	float *data = malloc(n * sizeof(float));
	int64_t *cpu = malloc((size_t)runs * sizeof(int64_t));
	if (!data || !cpu) {
		fprintf(stderr, "ort_run_cpu: out of memory\n");
		return 1;
	}
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
	OrtValue **outs = calloc(n_out, sizeof(OrtValue *));
	if (!out_names || !outs) {
		fprintf(stderr, "ort_run_cpu: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < n_out; i++)
		check(ort->SessionGetOutputName(s, i, alloc, &out_names[i]), "output name");
	const char *in_names[1] = { in_name };
	const struct run_ctx r = { s, in_names, (const OrtValue *const *)&input, (const char *const *)out_names,
				   n_out, outs };
	/* Warm-up back to back: first Runs allocate the arena and pick kernels. */
	for (long k = 0; k < runs / 10 + 5; k++)
		run_once(&r);

	int64_t next = now_ns(CLOCK_MONOTONIC);
	int64_t wall = 0;
	for (long k = 0; k < runs; k++) {
		if (interval_us) {
			next += interval_us * 1000;
			struct timespec ts = { .tv_sec = next / 1000000000, .tv_nsec = next % 1000000000 };
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
				;
		}
		int64_t w0 = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
		run_once(&r);
		int64_t c1 = now_ns(CLOCK_PROCESS_CPUTIME_ID), w1 = now_ns(CLOCK_MONOTONIC);
		cpu[k] = c1 - c0;
		wall += w1 - w0;
	}
	double sum = 0;
	for (long k = 0; k < runs; k++)
		sum += (double)cpu[k];
	qsort(cpu, (size_t)runs, sizeof(*cpu), cmp_i64);
	double median = runs % 2 ? (double)cpu[runs / 2] : ((double)cpu[runs / 2 - 1] + (double)cpu[runs / 2]) / 2;
	printf("ort_run_cpu_us=%.1f median_us=%.1f wall_us=%.1f runs=%ld interval_us=%ld\n", sum / 1e3 / (double)runs,
	       median / 1e3, (double)wall / 1e3 / (double)runs, runs, interval_us);
	for (size_t i = 0; i < n_out; i++)
		alloc->Free(alloc, out_names[i]);
	alloc->Free(alloc, in_name);
	free(out_names);
	free(outs);
	free(cpu);
	ort->ReleaseValue(input);
	ort->ReleaseMemoryInfo(mi);
	ort->ReleaseSession(s);
	ort->ReleaseSessionOptions(o);
	ort->ReleaseEnv(env);
	free(data);
	return 0;
}

/* ruth-model-runtime: one long-lived process per model type.
 *
 * Start sequence (docs/runtime.md):
 *   arguments -> scheduling class (--sched, before any thread) ->
 *   model.yaml (malformed: exit 2 naming the file and field) ->
 *   weights check (missing, corrupt, sha mismatch: stub mode with the reason)
 *   -> postprocessor -> backend (GPU if the policy wants it and CUDA appends,
 *   else CPU if the policy allows, else stub) -> workers with preallocated
 *   buffers and warm-up runs -> drop privileges + sandbox -> listen ->
 *   READY log line + sd_notify READY=1 -> serve until SIGTERM/SIGINT.
 *
 * Stub mode is not a failure: the runtime listens, answers HELLO and HEALTH
 * with mode "stub" and the reason, and answers every valid INFER_REQUEST with
 * MODEL_UNAVAILABLE and that reason, so the core sees a clear state instead of
 * a missing socket. */
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "runtime.h"
#include "sd_notify.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ruth-model-runtime --model-dir DIR --socket-dir DIR [options]\n"
		"  --model-dir DIR       folder holding model.yaml and its weights\n"
		"  --socket-dir DIR      folder for <model_id>.sock (created 0770 when missing)\n"
		"  --user NAME           drop root to this user after loading the model\n"
		"  --workers N           worker threads (default: model.yaml concurrency, else cores)\n"
		"  --queue-depth N       bounded request queue (default: model.yaml, else 4 x workers)\n"
		"  --max-inflight N      pipelined requests per connection (default %u)\n"
		"  --max-connections N   (default 256)\n"
		"  --busy-poll-us N      after answering, poll for the next request this long before\n"
		"                        sleeping, while it keeps arriving: less latency for clients\n"
		"                        that send back to back, more CPU (0 = never, the default;\n"
		"                        %u suits such clients)\n"
		"  --sched batch|normal  scheduling class of every thread (default batch: a thread\n"
		"                        that wakes does not preempt the one running; docs/runtime.md)\n"
		"  --allow-uid UID|NAME  also accept clients with this uid (repeatable)\n"
		"  --allow-gid GID|NAME  also accept clients with this gid (repeatable)\n"
		"                        (always accepted: root, the runtime's own uid and gid)\n"
		"  --force-cpu           never try the GPU (overrides gpu: required)\n"
		"  --force-stub          serve in stub mode without loading the model\n"
		"  --no-sandbox          skip no_new_privs/Landlock/seccomp (debugging only; --user still applies)\n"
		"exit codes: 0 clean stop, 1 runtime failure, 2 usage or invalid model.yaml\n",
		RUTH_IPC_MAX_INFLIGHT, RUTH_RT_BUSY_POLL_SUGGESTED_US);
}

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int parse_id(const char *s, int is_gid, unsigned *out)
{
	uint32_t v;
	if (parse_u32(s, UINT32_MAX - 1, &v) == 0) {
		*out = v;
		return 0;
	}
	if (is_gid) {
		struct group *g = getgrnam(s);
		if (!g)
			return -ESRCH;
		*out = g->gr_gid;
	} else {
		struct passwd *p = getpwnam(s);
		if (!p)
			return -ESRCH;
		*out = p->pw_uid;
	}
	return 0;
}

enum {
	OPT_MODEL_DIR = 256, OPT_SOCKET_DIR, OPT_USER, OPT_WORKERS, OPT_QUEUE, OPT_INFLIGHT, OPT_CONNS, OPT_BUSY_POLL,
	OPT_SCHED, OPT_ALLOW_UID, OPT_ALLOW_GID, OPT_FORCE_CPU, OPT_FORCE_STUB, OPT_NO_SANDBOX, OPT_SELFTEST,
	OPT_SELFTEST_SHM, OPT_SELFTEST_FILE, OPT_HELP,
};

static int parse_args(int argc, char **argv, struct ruth_rt_options *o)
{
	static const struct option opts[] = {
		{ "model-dir", required_argument, NULL, OPT_MODEL_DIR },
		{ "socket-dir", required_argument, NULL, OPT_SOCKET_DIR },
		{ "user", required_argument, NULL, OPT_USER },
		{ "workers", required_argument, NULL, OPT_WORKERS },
		{ "queue-depth", required_argument, NULL, OPT_QUEUE },
		{ "max-inflight", required_argument, NULL, OPT_INFLIGHT },
		{ "max-connections", required_argument, NULL, OPT_CONNS },
		{ "busy-poll-us", required_argument, NULL, OPT_BUSY_POLL },
		{ "sched", required_argument, NULL, OPT_SCHED },
		{ "allow-uid", required_argument, NULL, OPT_ALLOW_UID },
		{ "allow-gid", required_argument, NULL, OPT_ALLOW_GID },
		{ "force-cpu", no_argument, NULL, OPT_FORCE_CPU },
		{ "force-stub", no_argument, NULL, OPT_FORCE_STUB },
		{ "no-sandbox", no_argument, NULL, OPT_NO_SANDBOX },
		/* Hidden: apply the sandbox exactly as in production, probe it, exit. */
		{ "self-test-sandbox", no_argument, NULL, OPT_SELFTEST },
		{ "self-test-shm", required_argument, NULL, OPT_SELFTEST_SHM },
		{ "self-test-file", required_argument, NULL, OPT_SELFTEST_FILE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	unsigned id;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_MODEL_DIR: o->model_dir = optarg; break;
		case OPT_SOCKET_DIR: o->socket_dir = optarg; break;
		case OPT_USER: o->user = optarg; break;
		case OPT_WORKERS:
			if (parse_u32(optarg, 256, &o->workers) < 0 || o->workers == 0)
				goto bad;
			break;
		case OPT_QUEUE:
			if (parse_u32(optarg, 65536, &o->queue_depth) < 0 || o->queue_depth == 0)
				goto bad;
			break;
		case OPT_INFLIGHT:
			if (parse_u32(optarg, 65536, &o->max_inflight) < 0 || o->max_inflight == 0)
				goto bad;
			break;
		case OPT_CONNS:
			if (parse_u32(optarg, 65536, &o->max_conns) < 0 || o->max_conns == 0)
				goto bad;
			break;
		case OPT_BUSY_POLL:
			if (parse_u32(optarg, 10000, &o->busy_poll_us) < 0)
				goto bad;
			break;
		case OPT_SCHED:
			if (ksched_parse(optarg, &o->sched) < 0) {
				fprintf(stderr, "ruth-model-runtime: invalid value '%s' for --sched (expected batch or normal)\n",
					optarg);
				return -EINVAL;
			}
			break;
		case OPT_ALLOW_UID:
			if (o->n_allow_uids >= RUTH_RT_MAX_ALLOW || parse_id(optarg, 0, &id) < 0)
				goto bad;
			o->allow_uids[o->n_allow_uids++] = id;
			break;
		case OPT_ALLOW_GID:
			if (o->n_allow_gids >= RUTH_RT_MAX_ALLOW || parse_id(optarg, 1, &id) < 0)
				goto bad;
			o->allow_gids[o->n_allow_gids++] = id;
			break;
		case OPT_FORCE_CPU: o->force_cpu = 1; break;
		case OPT_FORCE_STUB: o->force_stub = 1; break;
		case OPT_NO_SANDBOX: o->no_sandbox = 1; break;
		case OPT_SELFTEST: o->self_test_sandbox = 1; break;
		case OPT_SELFTEST_SHM: o->self_test_shm = optarg; break;
		case OPT_SELFTEST_FILE: o->self_test_file = optarg; break;
		case OPT_HELP: usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
		continue;
	bad:
		fprintf(stderr, "ruth-model-runtime: invalid value '%s' for --%s\n", optarg, opts[c - OPT_MODEL_DIR].name);
		return -EINVAL;
	}
	if (optind != argc || !o->model_dir || !o->socket_dir) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static int go_stub(struct ruth_rt *rt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int go_stub(struct ruth_rt *rt, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rt->reason, sizeof(rt->reason), fmt, ap);
	va_end(ap);
	if (rt->workers) {
		for (uint32_t i = 0; i < rt->n_workers; i++)
			ruth__worker_fini(&rt->workers[i]);
		free(rt->workers);
		rt->workers = NULL;
	}
	if (rt->backend && rt->bops)
		rt->bops->close(&rt->backend);
	rt->bops = ruth__backend_find("stub");
	rt->mode = RUTH_MODE_STUB;
	memset(&rt->binfo, 0, sizeof(rt->binfo));
	rt->binfo.mode = RUTH_MODE_STUB;
	KLOG_WARN(&rt->log, "serving in stub mode: %s", rt->reason);
	return 0;
}

/* Postprocessor: built-in by name, or the template-built handler. */
static int setup_postprocessor(struct ruth_rt *rt, char *err, size_t errlen)
{
	const struct ruth_model_config *cfg = &rt->cfg;
	if (strcmp(cfg->postprocess.name, "custom") == 0) {
		int r = ruth_postprocessor_load_handler(cfg, &rt->pp, &rt->pp_dl, err, errlen);
		if (r < 0)
			return r;
	} else {
		rt->pp = ruth_postprocessor_find(cfg->postprocess.name);
		if (!rt->pp) {
			snprintf(err, errlen, "unknown postprocessor '%s'", cfg->postprocess.name);
			return -ENOENT;
		}
	}
	if (rt->pp->version < 1 || rt->pp->version > RUTH_POSTPROCESSOR_ABI_VERSION || !rt->pp->run) {
		snprintf(err, errlen, "postprocessor '%s' has ABI version %u (runtime knows 1..%u)", rt->pp->name,
			 rt->pp->version, RUTH_POSTPROCESSOR_ABI_VERSION);
		return -ENOTSUP;
	}
	if (rt->pp->create) {
		int r = rt->pp->create(&rt->pp_state, cfg, err, errlen);
		if (r < 0)
			return r;
	}
	rt->pp_scratch = rt->pp->scratch_size ? rt->pp->scratch_size(rt->pp_state, cfg) : 0;
	return 0;
}

static int load_model(struct ruth_rt *rt)
{
	const struct ruth_model_config *cfg = &rt->cfg;
	char err[RUTH_BACKEND_REASON_MAX];
	int r;
	if (rt->opt.force_stub)
		return go_stub(rt, "forced by --force-stub");
	if (cfg->backend == RUTH_BACKEND_STUB)
		return go_stub(rt, "model.yaml selects the stub backend");
	if ((r = ruth_model_config_check_weights(cfg, err, sizeof(err))) < 0)
		return go_stub(rt, "%s", err);
	if ((r = setup_postprocessor(rt, err, sizeof(err))) < 0)
		return go_stub(rt, "postprocessor: %s", err);

	rt->bops = ruth__backend_find("onnxruntime");
	ruth_tensor_spec_from_config(&rt->spec, cfg);
	rt->input_bytes = ruth_tensor_bytes(&rt->spec);
	struct ruth_backend_open_args a = {
		.cfg = cfg,
		.allow_gpu = !rt->opt.force_cpu && cfg->resources.gpu != RUTH_GPU_NONE,
		.allow_cpu = rt->opt.force_cpu || cfg->resources.gpu != RUTH_GPU_REQUIRED,
		.input_width = rt->spec.width,
		.input_height = rt->spec.height,
	};
	uint64_t t0 = kclock_mono_ns();
	if ((r = rt->bops->open(&rt->backend, &a, &rt->binfo)) < 0)
		return go_stub(rt, "%s", rt->binfo.reason);
	rt->mode = rt->binfo.mode;
	snprintf(rt->reason, sizeof(rt->reason), "%s", rt->binfo.reason);
	if (rt->opt.force_cpu)
		snprintf(rt->reason, sizeof(rt->reason), "forced by --force-cpu");
	else if (rt->mode == RUTH_MODE_CPU && cfg->resources.gpu == RUTH_GPU_NONE)
		snprintf(rt->reason, sizeof(rt->reason), "model.yaml resource_requirements.gpu: none");
	if (rt->binfo.input_bytes != rt->input_bytes)
		return go_stub(rt, "input tensor is %zu bytes but preprocessing produces %zu", rt->binfo.input_bytes,
			       rt->input_bytes);
	uint64_t t1 = kclock_mono_ns();

	rt->workers = calloc(rt->n_workers, sizeof(*rt->workers));
	if (!rt->workers)
		return go_stub(rt, "out of memory for %u workers", rt->n_workers);
	for (uint32_t i = 0; i < rt->n_workers; i++)
		if ((r = ruth__worker_init(&rt->workers[i], rt, i, err, sizeof(err))) < 0)
			return go_stub(rt, "worker %u warm-up failed: %s", i, err);
	KLOG_INFO(&rt->log, "loaded %s on %s in %llu ms, %u workers warmed up in %llu ms (input %ux%u, %zu bytes)",
		  cfg->weights, rt->binfo.device, (unsigned long long)((t1 - t0) / 1000000u), rt->n_workers,
		  (unsigned long long)((kclock_mono_ns() - t1) / 1000000u), rt->spec.width, rt->spec.height,
		  rt->input_bytes);
	return 0;
}

static void rt_fini(struct ruth_rt *rt)
{
	if (rt->workers) {
		for (uint32_t i = 0; i < rt->n_workers; i++)
			ruth__worker_fini(&rt->workers[i]);
		free(rt->workers);
		rt->workers = NULL;
	}
	if (rt->backend && rt->bops)
		rt->bops->close(&rt->backend);
	if (rt->pp && rt->pp->destroy && rt->pp_state)
		rt->pp->destroy(rt->pp_state);
	if (rt->pp_dl)
		dlclose(rt->pp_dl);
	if (rt->notify_fd >= 0)
		close(rt->notify_fd);
}

int main(int argc, char **argv)
{
	static struct ruth_rt rt_storage; /* large; one per process */
	struct ruth_rt *rt = &rt_storage;
	rt->notify_fd = -1;
	rt->start_ns = kclock_mono_ns();
	klog_ctx_init(&rt->log, "ruth-model-runtime", "%s", "");
	rt->opt.busy_poll_us = RUTH_RT_BUSY_POLL_US;
	rt->opt.sched = KSCHED_BATCH;
	if (parse_args(argc, argv, &rt->opt) < 0)
		return 2;

	/* Before any thread exists (ORT makes its pools at session creation), so
	 * every thread inherits the class and the mask, and only the main thread's
	 * signalfd sees SIGTERM/SIGINT. */
	int sched_err = ksched_apply(rt->opt.sched);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	char path[RUTH_MODEL_PATH_MAX + 16];
	char err[1024];
	snprintf(path, sizeof(path), "%s/model.yaml", rt->opt.model_dir);
	int r = ruth_model_config_load(path, &rt->cfg, err, sizeof(err));
	if (r < 0) {
		KLOG_ERR(&rt->log, "invalid model: %s", err);
		return 2;
	}
	klog_ctx_init(&rt->log, "ruth-model-runtime", "model=%s", rt->cfg.model_id);
	if (sched_err < 0)
		KLOG_WARN(&rt->log, "cannot set scheduling class %s: %s; running as %s", ksched_names[rt->opt.sched],
			  strerror(-sched_err), ksched_current_name());
	rt->notify_fd = ksd_notify_open();
	ksd_notify_send(rt->notify_fd, "STATUS=loading model\n");

	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	rt->n_workers = rt->opt.workers ? rt->opt.workers
			: rt->cfg.resources.concurrency ? rt->cfg.resources.concurrency
			: (uint32_t)(cores > 0 ? cores : 1);
	rt->queue_depth = rt->opt.queue_depth ? rt->opt.queue_depth
			  : rt->cfg.resources.queue_depth ? rt->cfg.resources.queue_depth
			  : 4 * rt->n_workers;
	int n = snprintf(rt->socket_path, sizeof(rt->socket_path), "%s/%s.sock", rt->opt.socket_dir, rt->cfg.model_id);
	if (n < 0 || (size_t)n >= sizeof(rt->socket_path)) {
		KLOG_ERR(&rt->log, "socket path %s/%s.sock is too long", rt->opt.socket_dir, rt->cfg.model_id);
		return 2;
	}

	load_model(rt);

	int rc = 1, lfd = -1;
	uid_t uid;
	gid_t gid;
	if (ruth__sandbox_prepare(rt, &uid, &gid) < 0)
		goto out;
	/* The user switch happens even with --no-sandbox; the rest is skipped then. */
	if (ruth__sandbox_apply(rt, uid, gid) < 0) {
		KLOG_ERR(&rt->log, "cannot apply the sandbox; refusing to serve");
		goto out;
	}
	if (rt->opt.self_test_sandbox) {
		rc = ruth__sandbox_self_test(rt);
		goto out;
	}
	if (ruth__server_listen(rt, &lfd) < 0)
		goto out;

	KLOG_INFO(&rt->log, "READY model=%s mode=%s socket=%s workers=%u queue=%u sched=%s backend=%s%s%s",
		  rt->cfg.model_id, ruth_ipc_mode_name(rt->mode), rt->socket_path,
		  rt->mode == RUTH_MODE_STUB ? 0 : rt->n_workers, rt->queue_depth, ksched_current_name(), rt->bops->name,
		  rt->reason[0] ? " reason=" : "", rt->reason);
	char st[RUTH_IPC_MESSAGE_MAX + 96];
	snprintf(st, sizeof(st), "READY=1\nSTATUS=serving mode=%s%s%s\n", ruth_ipc_mode_name(rt->mode),
		 rt->reason[0] ? ": " : "", rt->reason);
	ksd_notify_send(rt->notify_fd, st);

	rc = ruth__server_run(rt, lfd);
	ksd_notify_send(rt->notify_fd, "STOPPING=1\n");
	KLOG_INFO(&rt->log,
		  "stopped: %llu requests, %llu failed, %llu run in a group after its first; busy-poll caught %llu of "
		  "%llu next requests",
		  (unsigned long long)atomic_load(&rt->requests_total),
		  (unsigned long long)atomic_load(&rt->requests_failed),
		  (unsigned long long)atomic_load(&rt->requests_grouped),
		  (unsigned long long)atomic_load(&rt->busy_poll_hits),
		  (unsigned long long)atomic_load(&rt->busy_polls));
out:
	rt_fini(rt);
	return rc;
}

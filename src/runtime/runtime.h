/* runtime.h: internals of ruth-model-runtime shared by its files.
 *
 *   main.c       arguments and the start sequence
 *   backend*.c   inference backends (ONNX Runtime, stub) behind backend.h
 *   worker.c     the request path a worker runs (frame -> tensor -> run -> detections)
 *   server.c     the socket: accept, connections, the job queue, the serving threads
 *   sandbox.c    privilege drop, no_new_privs, Landlock, seccomp
 *
 * Threads: after start the main thread accepts connections and handles
 * signals (server.c); N worker threads each wait on the connections, read
 * requests, run them and write the answers themselves (leader/follower style,
 * see server.c). Everything in struct ruth_rt is written during start and
 * read-only afterwards, except the atomic counters. */
#ifndef RUTH_RUNTIME_RUNTIME_H
#define RUTH_RUNTIME_RUNTIME_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend.h"
#include "log.h"
#include "sched_class.h"
#include "processing/postprocess.h"
#include "processing/preprocess.h"
#include "ruth/ipc.h"
#include "ruth/model_config.h"
#include "vas/frame_export.h"

#define RUTH_RT_MAX_ALLOW 16
#define RUTH_RT_READER_CACHE 16 /* cameras a worker keeps mapped */
/* Default --busy-poll-us: off. Busy polling trades CPU for latency: a catch
 * saves a wake-up (~15-20 us of CPU, ~30-50 us of latency on a 2-vCPU VM) but
 * spins for as long as the client takes to send again (30-150 us measured for
 * both a back-to-back benchmark client and the core's chains), so it costs
 * more CPU than it saves. The product's client, ruth-ai-core, gains nothing
 * from 40 us at 5 fps and pays ~7% more CPU per inference at 16 cameras
 * (docs/runtime.md, "Busy polling"); a latency-first client turns it on with
 * --busy-poll-us 200 (longer than a client takes to send again, short next to
 * one inference). server.c, "Busy polling". */
#define RUTH_RT_BUSY_POLL_US 0
#define RUTH_RT_BUSY_POLL_SUGGESTED_US 200

struct ruth_rt_options {
	const char *model_dir;
	const char *socket_dir;
	const char *user;
	uint32_t workers;      /* 0: model.yaml concurrency, else cores */
	uint32_t queue_depth;  /* 0: model.yaml, else 4 * workers */
	uint32_t max_inflight; /* per connection */
	uint32_t max_conns;
	uint32_t busy_poll_us; /* after an answer, poll this long before sleeping (0: never) */
	enum ksched_class sched; /* every thread's scheduling class (sched_class.h); default batch */
	int force_cpu, force_stub;
	int no_sandbox;        /* for debugging only; logged loudly */
	uid_t allow_uids[RUTH_RT_MAX_ALLOW];
	size_t n_allow_uids;
	gid_t allow_gids[RUTH_RT_MAX_ALLOW];
	size_t n_allow_gids;
	int self_test_sandbox;
	const char *self_test_shm;  /* camera id whose export the self-test tries to write */
	const char *self_test_file; /* a file outside the allowed folders */
};

struct ruth_worker;

struct ruth_rt {
	struct klog_ctx log;
	struct ruth_rt_options opt;
	struct ruth_model_config cfg;

	enum ruth_ipc_mode mode;
	char reason[RUTH_IPC_MESSAGE_MAX]; /* why CPU or stub; "" on GPU */
	const struct ruth_backend_ops *bops;
	struct ruth_backend *backend;
	struct ruth_backend_info binfo;

	const struct ruth_postprocessor *pp;
	void *pp_state;
	void *pp_dl;
	size_t pp_scratch;
	struct ruth_tensor_spec spec;
	size_t input_bytes;

	uint32_t n_workers;
	uint32_t queue_depth;
	struct ruth_worker *workers;

	char socket_path[108];
	uint64_t start_ns;
	int notify_fd;
	char landlock_status[96];

	_Atomic uint64_t requests_total;
	_Atomic uint64_t requests_failed;
	_Atomic uint32_t inflight;
	_Atomic uint32_t connections;
	_Atomic uint64_t busy_polls, busy_poll_hits; /* logged at stop */
	_Atomic uint64_t requests_grouped; /* GROUPED requests run after their group's first; logged at stop */
};

struct ruth_conn; /* server.c */

/* One accepted inference. Jobs live in a pool sized at start (queue_depth +
 * workers) and are owned by exactly one of: the free list, the queue, a
 * worker (taken from the queue, or kept by the worker that read the request).
 * A job outside the free list holds one reference on its connection, so the
 * connection outlives every answer owed on it (server.c). */
struct ruth_job {
	struct ruth_job *next;
	struct ruth_conn *conn;
	uint64_t request_id;
	uint16_t version;
	uint64_t enqueue_ns;
	struct ruth_ipc_infer_request req;
	struct ruth_ipc_msg resp;   /* response being built (det_storage inside) */
	uint8_t *out;               /* encoded response, out_cap bytes, allocated at start */
	size_t out_cap, out_len;
};

struct ruth_reader_slot {
	char camera_id[RUTH_IPC_ID_MAX];
	struct vas_export_reader *reader;
	uint64_t last_use;
};

struct ruth_worker {
	struct ruth_rt *rt;
	uint32_t index;
	pthread_t thread;
	int started;
	void *input;                 /* preallocated input tensor */
	struct ruth_backend_worker *bw;
	void *scratch;               /* postprocessor scratch */
	struct ruth_reader_slot readers[RUTH_RT_READER_CACHE];
	uint64_t use_clock;
};

/* worker.c */
int ruth__worker_init(struct ruth_worker *w, struct ruth_rt *rt, uint32_t index, char *err, size_t errlen);
void ruth__worker_fini(struct ruth_worker *w);
/* Run job->req, fill job->resp (status, timings, detections). */
void ruth__worker_process(struct ruth_worker *w, struct ruth_job *job);
/* The request fields a server checks before queueing; 0 or a status with msg. */
uint32_t ruth__request_validate(const struct ruth_ipc_infer_request *req, uint16_t version, char *msg,
				size_t msglen);
/* Size of the largest INFER_RESPONSE (for preallocating job->out). */
size_t ruth__max_response_size(void);

/* server.c: bind the socket (as the final user, inside the sandbox). */
int ruth__server_listen(struct ruth_rt *rt, int *lfd);
/* Serve until SIGTERM/SIGINT; returns the exit code. */
int ruth__server_run(struct ruth_rt *rt, int lfd);

/* sandbox.c */
/* Before the drop: resolve the user and prepare the socket folder. */
int ruth__sandbox_prepare(struct ruth_rt *rt, uid_t *uid, gid_t *gid);
/* Drop privileges, no_new_privs, Landlock, seccomp. Returns 0 or negative errno. */
int ruth__sandbox_apply(struct ruth_rt *rt, uid_t uid, gid_t gid);
/* The hidden self-test: print SELFTEST lines for what the sandbox blocks. */
int ruth__sandbox_self_test(struct ruth_rt *rt);


#endif

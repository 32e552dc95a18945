/* runtime_harness.h: helpers for the ruth-model-runtime integration tests.
 *
 * They start the real binary ($RUTH_BIN_DIR/ruth-model-runtime) in a temp
 * folder, wait for its READY line, publish real images into a private frame
 * export with the same writer code vasd uses, and talk to it through the
 * blocking client or raw sockets. Every wait is bounded. */
#ifndef RUTH_TEST_RUNTIME_HARNESS_H
#define RUTH_TEST_RUNTIME_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ruth/ipc.h"
#include "vas/frame_writer.h"

struct rt_proc {
	pid_t pid;
	int exited, status; /* waitpid status once exited */
	char dir[256];      /* temp folder owned by the test */
	char sock_dir[300];
	char sock[400];
	char log[400];      /* the runtime's stderr */
	char out[400];      /* the runtime's stdout */
	int sock_left;      /* rt_stop: the socket file was still there after the exit */
};

/* A fresh temp folder for this test ("/tmp/rt-<name>-XXXXXX"). */
int rt_tmpdir(char *buf, size_t cap, const char *name);

/* Start the runtime for model_dir with extra arguments (NULL-terminated) and
 * optional extra environment ("K=V", NULL-terminated). Returns 0 once the READY
 * line appeared, 1 when the process exited first (p->status), -1 on timeout. */
int rt_start_env(struct rt_proc *p, const char *name, const char *model_dir, const char *const *extra_args,
		 const char *const *extra_env, int timeout_ms);
int rt_start(struct rt_proc *p, const char *name, const char *model_dir, const char *const *extra_args);
/* SIGTERM and wait (bounded); returns the exit code, or -1. Sets sock_left;
 * after a clean exit (0) the temp folder is removed. */
int rt_stop(struct rt_proc *p);
/* Wait for the process to exit on its own; returns the exit code or -1. */
int rt_wait_exit(struct rt_proc *p, int timeout_ms);
int rt_alive(struct rt_proc *p);
/* The scheduling policy (SCHED_OTHER, SCHED_BATCH, ...) every thread of pid
 * has; -2 when its threads differ, -1 when they cannot be read. */
int rt_threads_policy(pid_t pid);
/* 1 when the file (log or out) contains needle. */
int rt_file_contains(const char *path, const char *needle);
void rt_dump_log(const struct rt_proc *p);

/* Model folders written by the tests: a copy of models/blazeface-front with
 * `patch` applied (a replacement for a "key: value" line, see the .c). */
int rt_model_dir(char *out, size_t cap, const char *parent, const char *name, const char *gpu,
		 const char *weights_mode, const char *sha);

/* A private export holding decoded images. */
struct rt_export {
	struct vas_export_writer *w;
	char camera_id[48];
	uint8_t *nv12;
	uint32_t width, height;
	uint64_t generation;
	int64_t last_seq;
};
/* Decode image (any format libavformat reads) to NV12 and open an export for it. */
int rt_export_open(struct rt_export *e, const char *camera_id, const char *image, uint32_t slots, const char *group);
/* The same with the image cropped to (x, y, w, h) first (even values). */
int rt_export_open_crop(struct rt_export *e, const char *camera_id, const char *image, uint32_t slots,
			const char *group, uint32_t x, uint32_t y, uint32_t w, uint32_t h);
int64_t rt_export_publish(struct rt_export *e);
void rt_export_close(struct rt_export *e);

/* Paths from the CTest environment (with fallbacks for a manual run). */
const char *rt_bin_dir(void);
const char *rt_models_root(void);
const char *rt_media_dir(void);

/* Raw socket helpers for protocol-level tests. */
int rt_raw_connect(const char *sock);
int rt_raw_send_msg(int fd, struct ruth_ipc_msg *m);
/* Read one whole message (timeout_ms); 0, -ECONNRESET on EOF, -ETIMEDOUT, or codec error. */
int rt_raw_recv_msg(int fd, struct ruth_ipc_msg *m, int timeout_ms);
int rt_raw_hello(int fd);
/* The same, offering versions RUTH_IPC_VERSION_MIN..max_version; 0 if the
 * HELLO_ACK chose max_version. */
int rt_raw_hello_version(int fd, uint16_t max_version);
/* 1 when the peer closed the connection within timeout_ms. */
int rt_raw_wait_closed(int fd, int timeout_ms);
/* Ask HEALTH on a new connection, every 50 ms for up to 10 s, until the
 * runtime has nothing in flight and that connection is its only one (the
 * clients before it gone). timeout_ms bounds each connect and HEALTH. 0 when
 * it got there; -1 if not or on an IPC error. *h: the last HEALTH_ACK. */
int rt_wait_idle(const char *sock, int timeout_ms, struct ruth_ipc_health_ack *h);

void rt_infer_req(struct ruth_ipc_infer_request *req, const char *camera, uint64_t gen, uint64_t seq);

#endif

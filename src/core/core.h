/* core.h: ruth-ai-core's state: cameras (stream agents over the export readers),
 * model connections, subscriptions and the requests in flight. One thread, one
 * poll() loop (core.c); every module below runs on it, so nothing is locked. */
#ifndef RUTH_CORE_CORE_H
#define RUTH_CORE_CORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "fps_gate.h"
#include "json_buf.h"
#include "lat_stats.h"
#include "log.h"
#include "ruth/ipc.h"
#include "ruth/model_config.h"
#include "stream_agent.h"
#include "vas/frame_export.h"

#define CORE_MAX_MODELS 64
#define CORE_PENDING_CAP 4096
#define CORE_MAX_CTL_CLIENTS 16

struct core_camera {
	char id[CORE_ID_MAX];
	struct vas_export_reader *rd;
	struct stream_agent agent;
	uint64_t next_open_ns;
	int32_t writer_pid;
	struct klog_ratelimit open_rl;
	struct klog_ctx log;
};

enum model_state {
	MODEL_IDLE = 0,        /* no subscription uses it: not connected */
	MODEL_UNAVAILABLE = 1, /* not answering; retry at next_retry_ns */
	MODEL_HANDSHAKE = 2,   /* connected, HELLO sent */
	MODEL_READY = 3,
};

struct model_conn {
	char id[CORE_ID_MAX];
	const struct ruth_model_config *cfg; /* from discovery */
	char sock_path[CORE_PATH_MAX];
	enum model_state state;
	int fd;
	uint8_t *rbuf;
	size_t rlen, rcap;
	uint8_t *wbuf;
	size_t wlen, wcap;
	struct ruth_ipc_hello_ack ack;
	uint32_t max_inflight;
	uint32_t inflight;
	uint64_t next_retry_ns;
	uint64_t handshake_deadline_ns;
	uint32_t backoff_ms;
	uint32_t n_subs_added; /* for spreading subscriptions' tick phases */
	/* counters */
	uint64_t connects, disconnects, connect_failures;
	uint64_t requests, ok, failed, timeouts, late_replies;
	uint64_t grouped; /* requests sent GROUPED (after the first of an early group) */
	char last_error[RUTH_IPC_MESSAGE_MAX];
	struct klog_ctx log;
};

struct core_sub {
	bool used;
	uint32_t serial; /* distinguishes a re-added subscription in the same slot */
	int cam;         /* index into cameras */
	int model;       /* index into models */
	float score_threshold;
	uint32_t max_results;
	struct fps_gate gate;
	uint64_t sent, ok, failed;
	uint64_t failed_by_status[RUTH_IPC_STATUS_COUNT];
	struct lat_stats total_lat; /* capture -> result, us */
};

struct core_pending {
	bool used;
	uint64_t request_id;
	int sub;
	uint32_t sub_serial;
	int model;
	int cam;
	double fps;
	struct vas_frame_meta meta; /* peeked at selection; seq/generation always set */
	bool meta_valid;
	uint64_t t_selected_ns, t_sent_ns, deadline_ns;
};

struct core {
	struct core_config cfg;
	struct ruth_model_list models_found;
	struct core_camera cams[CORE_MAX_CAMERAS];
	size_t n_cams;
	struct model_conn models[CORE_MAX_MODELS];
	size_t n_models;
	struct core_sub subs[CORE_MAX_SUBS];
	uint32_t sub_serial;
	int subs_hwm; /* subs[0..subs_hwm) may be used */
	uint64_t earliest_deadline_ns; /* lower bound of pending deadlines (0 = none) */
	struct core_pending pending[CORE_PENDING_CAP];
	size_t n_pending;
	uint64_t next_request_id;
	uint64_t pending_lo; /* every request id below it has finished (check_deadlines) */
	int results_fd;    /* stdout or the --results file (O_APPEND) */
	bool results_own;  /* results_fd was opened by the core: close it */
	int ctl_fd;
	int ctl_clients[CORE_MAX_CTL_CLIENTS];
	uint64_t started_ns;
	uint64_t results_written;
	struct ruth_ipc_msg *msg; /* decode scratch (large) */
	struct klog_ctx log;
	uint64_t rng;
	bool stopping;
	bool defer_flush; /* early_ticks is building a group: requests wait in wbuf */
	bool results_dirty;       /* rout holds lines not yet written */
	uint64_t results_flush_ns; /* write them by then (set by the first unwritten line) */
	struct klog_ratelimit results_rl, results_oom_rl;
	/* Results lines not yet written: whole lines only, so a reader of the file
	 * never sees half a line (one write() per flush, see core.c). */
	struct kjson_buf rout;
	uint64_t next_agent_poll_ns;
};

/* core.c */
int core_init(struct core *c, const struct core_config *cfg, char *err, size_t errlen);
int core_run(struct core *c, volatile int *stop);
void core_fini(struct core *c);
/* Add or update a subscription. Returns 0 (1 when it updated an existing one) or
 * -1 with err filled. */
int core_sub_add(struct core *c, const char *camera, const char *model, double fps, float threshold,
		 uint32_t max_results, uint32_t max_inflight, char *err, size_t errlen);
int core_sub_remove(struct core *c, const char *camera, const char *model, char *err, size_t errlen);
int core_find_model(const struct core *c, const char *id);
const char *core_sub_state(const struct core *c, const struct core_sub *s);
const char *model_state_name(enum model_state s);

/* model_client.c */
void model_conn_init(struct model_conn *m, const char *id, const struct ruth_model_config *cfg,
		     const char *socket_dir, uint32_t backoff_initial_ms);
void model_conn_want(struct core *c, struct model_conn *m, uint64_t now);
void model_conn_tick(struct core *c, struct model_conn *m, uint64_t now);
void model_conn_on_io(struct core *c, struct model_conn *m, short revents, uint64_t now);
int model_conn_send_infer(struct core *c, struct model_conn *m, uint64_t request_id,
			  const struct ruth_ipc_infer_request *req);
/* Write what model_conn_send_infer left in the buffer (c->defer_flush). */
void model_conn_flush(struct model_conn *m);
/* The negotiated protocol has INFER_REQUEST flags (version 2 and later). */
bool model_conn_can_group(const struct model_conn *m);
void model_conn_close(struct core *c, struct model_conn *m, const char *why, uint64_t now);
bool model_conn_available(const struct model_conn *m);

/* core.c: a complete line (ending in '\n') was appended to c->rout: count it,
 * schedule the write, or write now when the buffer is full. */
void core_results_line_done(struct core *c, uint64_t now);

/* results.c: finish one request (any status), emit its JSON line, update counters. */
void core_finish_request(struct core *c, struct core_pending *p, const struct ruth_ipc_infer_response *resp,
			 uint64_t now);
/* Fail a pending request locally with status/message. */
void core_fail_request(struct core *c, struct core_pending *p, uint32_t status, const char *message,
		       uint64_t now);
struct core_pending *core_pending_find(struct core *c, uint64_t request_id);

/* control.c */
int control_open(struct core *c, const char *path);
void control_close(struct core *c);
void control_on_accept(struct core *c);
void control_on_client(struct core *c, int slot);
/* Handle one request line; returns the reply (malloc'd JSON, no newline). */
char *control_handle(struct core *c, const char *line);

#endif

/* config.h: ruth-ai-core's YAML configuration.
 *
 *   models_root: /opt/ruth-ai/models   # scanned once at start (model.yaml folders)
 *   socket_dir: /run/ruth-ai           # runtimes listen on <socket_dir>/<model_id>.sock
 *   results: /var/log/ruth/results.jsonl   # optional; default stdout
 *   control_socket: /run/ruth-ai/core.sock # optional; ruthctl talks to it
 *   request_timeout_ms: 1000           # per-request deadline (sent and enforced locally)
 *   stall_ms: 2000                     # no new frame for this long: agent STALLED
 *   tick_slack_ms: 50                  # a tick may fire this early (at most a quarter
 *                                      # period) when its model has nothing in flight
 *   tick_group: 4                      # early ticks sent together as one group (1 = off)
 *   reconnect: {initial_ms: 200, max_ms: 5000}   # model runtime reconnect backoff
 *   sched: batch                       # scheduling class: batch (default) or normal
 *   cameras:                           # ids as in vasd's config
 *     - lobby                          # or {id: lobby}
 *   subscriptions:
 *     - {camera: lobby, model: blazeface-front, fps: 5, score_threshold: 0.6,
 *        max_results: 20, max_inflight: 1}
 *
 * Unknown fields are rejected; every error names the file, the line and the
 * field (kyaml). */
#ifndef RUTH_CORE_CONFIG_H
#define RUTH_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched_class.h"

#define CORE_ID_MAX 64
#define CORE_PATH_MAX 512
#define CORE_MAX_CAMERAS 64
#define CORE_MAX_SUBS 256
#define CORE_FPS_MAX 120.0

struct core_sub_config {
	char camera[CORE_ID_MAX];
	char model[CORE_ID_MAX];
	double fps;
	float score_threshold; /* 0 = model default */
	uint32_t max_results;  /* 0 = model default */
	uint32_t max_inflight; /* default 1 */
	int model_line;         /* line of the model field, for later errors */
};

struct core_config {
	char path[CORE_PATH_MAX];
	char models_root[CORE_PATH_MAX];
	char socket_dir[CORE_PATH_MAX];
	char results[CORE_PATH_MAX];        /* "" = stdout */
	char control_socket[CORE_PATH_MAX]; /* "" = none */
	uint32_t request_timeout_ms;
	uint32_t stall_ms;
	uint32_t tick_slack_ms; /* 0 = every tick at its time (docs/core.md, "Tick slack") */
	uint32_t tick_group;    /* early requests sent as one GROUPED run, 1..16; 1 = off */
	uint32_t reconnect_initial_ms;
	uint32_t reconnect_max_ms;
	enum ksched_class sched; /* default batch (sched_class.h, docs/core.md) */
	char cameras[CORE_MAX_CAMERAS][CORE_ID_MAX];
	size_t n_cameras;
	struct core_sub_config subs[CORE_MAX_SUBS];
	size_t n_subs;
};

/* Load and validate. Returns 0, or a negative errno with err ("FILE:LINE: field
 * 'x': ...") filled. */
int core_config_load(const char *path, struct core_config *cfg, char *err, size_t errlen);
int core_config_load_string(const char *name, const char *text, struct core_config *cfg, char *err,
			    size_t errlen);

/* Index of camera id in cfg->cameras, or -1. */
int core_config_camera_index(const struct core_config *cfg, const char *id);

#endif

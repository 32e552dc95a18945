/* results.c: one JSON line per inference (any status) on stdout or --results.
 *
 * The line is ruth_result_json()'s object (status, message, mode, frame,
 * timings_us, detections: the same shape ruth-infer prints) with the core's
 * fields first: camera, model, fps, frame_number, seq, generation, pts_us,
 * capture_time, capture_realtime_ns, and latency_us {queue, ipc, runtime, total}:
 *   queue   = core-side wait from the tick that selected the frame to the write
 *   ipc     = round trip (write -> reply) minus the runtime's own timings
 *   runtime = the runtime's queue + preprocess + infer + postprocess
 *   total   = frame capture (left the decoder, CLOCK_MONOTONIC) -> result written
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "core.h"
#include "json_out.h"
#include "result_json.h"

struct core_pending *core_pending_find(struct core *c, uint64_t request_id)
{
	struct core_pending *p = &c->pending[request_id % CORE_PENDING_CAP];
	return p->used && p->request_id == request_id ? p : NULL;
}

static void iso_time(char *buf, size_t cap, uint64_t realtime_ns)
{
	time_t s = (time_t)(realtime_ns / 1000000000ull);
	struct tm tm;
	gmtime_r(&s, &tm);
	size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, cap - n, ".%03uZ", (unsigned)(realtime_ns / 1000000ull % 1000));
}

static void release(struct core *c, struct core_pending *p)
{
	struct model_conn *m = &c->models[p->model];
	if (m->inflight)
		m->inflight--;
	struct core_sub *s = p->sub >= 0 ? &c->subs[p->sub] : NULL;
	if (s && s->used && s->serial == p->sub_serial)
		fps_gate_complete(&s->gate);
	p->used = false;
	c->n_pending--;
}

void core_finish_request(struct core *c, struct core_pending *p, const struct ruth_ipc_infer_response *resp,
			 uint64_t now)
{
	struct model_conn *m = &c->models[p->model];
	struct core_sub *s = &c->subs[p->sub];
	bool sub_live = s->used && s->serial == p->sub_serial;
	if (resp->status == RUTH_IPC_OK)
		m->ok++;
	else
		m->failed++;
	if (resp->status == RUTH_IPC_E_DEADLINE_EXCEEDED)
		m->timeouts++;

	uint64_t runtime_us = (uint64_t)resp->queue_us + resp->preprocess_us + resp->infer_us + resp->postprocess_us;
	uint64_t queue_us = p->t_sent_ns > p->t_selected_ns ? (p->t_sent_ns - p->t_selected_ns) / 1000 : 0;
	uint64_t rtt_us = p->t_sent_ns && now > p->t_sent_ns ? (now - p->t_sent_ns) / 1000 : 0;
	uint64_t ipc_us = rtt_us > runtime_us ? rtt_us - runtime_us : 0;
	uint64_t total_us = p->meta_valid && now > p->meta.capture_mono_ns ? (now - p->meta.capture_mono_ns) / 1000 : 0;

	if (sub_live) {
		if (resp->status == RUTH_IPC_OK) {
			s->ok++;
			if (total_us)
				lat_stats_add(&s->total_lat, total_us);
		} else {
			s->failed++;
			if (resp->status < RUTH_IPC_STATUS_COUNT)
				s->failed_by_status[resp->status]++;
		}
	}

	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "camera", c->cams[p->cam].id);
	cJSON_AddStringToObject(o, "model", m->id);
	cJSON_AddNumberToObject(o, "fps", p->fps);
	if (p->meta_valid) {
		cJSON_AddNumberToObject(o, "frame_number", (double)p->meta.frame_number);
	} else {
		cJSON_AddNullToObject(o, "frame_number");
	}
	cJSON_AddNumberToObject(o, "seq", (double)p->meta.seq);
	/* Generations are wall-clock nanoseconds (> 2^53): written as exact integers. */
	char gen[24];
	snprintf(gen, sizeof(gen), "%" PRIu64, p->meta.generation);
	cJSON_AddRawToObject(o, "generation", gen);
	if (p->meta_valid && p->meta.pts_us != INT64_MIN)
		cJSON_AddNumberToObject(o, "pts_us", (double)p->meta.pts_us);
	else
		cJSON_AddNullToObject(o, "pts_us");
	if (p->meta_valid && p->meta.capture_realtime_ns) {
		char iso[40];
		iso_time(iso, sizeof(iso), p->meta.capture_realtime_ns);
		cJSON_AddStringToObject(o, "capture_time", iso);
		char ns[24];
		snprintf(ns, sizeof(ns), "%" PRIu64, p->meta.capture_realtime_ns);
		cJSON_AddRawToObject(o, "capture_realtime_ns", ns);
	}
	cJSON *r = ruth_result_json(m->cfg, resp);
	if (r) {
		while (r->child) {
			cJSON *it = cJSON_DetachItemViaPointer(r, r->child);
			cJSON_AddItemToObject(o, it->string, it);
		}
		cJSON_Delete(r);
		cJSON *fr = cJSON_GetObjectItemCaseSensitive(o, "frame");
		if (cJSON_IsObject(fr) && cJSON_GetObjectItemCaseSensitive(fr, "generation")) {
			char g2[24];
			snprintf(g2, sizeof(g2), "%" PRIu64, resp->generation);
			cJSON_ReplaceItemInObjectCaseSensitive(fr, "generation", cJSON_CreateRaw(g2));
		}
	}
	char rns[24];
	snprintf(rns, sizeof(rns), "%" PRIu64, kclock_real_ns());
	cJSON_AddRawToObject(o, "result_realtime_ns", rns);
	cJSON *lat = cJSON_AddObjectToObject(o, "latency_us");
	cJSON_AddNumberToObject(lat, "queue", (double)queue_us);
	cJSON_AddNumberToObject(lat, "ipc", (double)ipc_us);
	cJSON_AddNumberToObject(lat, "runtime", (double)runtime_us);
	if (total_us)
		cJSON_AddNumberToObject(lat, "total", (double)total_us);
	else
		cJSON_AddNullToObject(lat, "total");
	c->jbuf.len = 0;
	if (json_out(&c->jbuf, o) == 0) {
		c->jbuf.p[c->jbuf.len] = '\n';
		fwrite(c->jbuf.p, 1, c->jbuf.len + 1, c->results);
		c->results_dirty = true; /* flushed once per loop iteration */
		c->results_written++;
	}
	cJSON_Delete(o);
	release(c, p);
}

void core_fail_request(struct core *c, struct core_pending *p, uint32_t status, const char *message,
		       uint64_t now)
{
	struct ruth_ipc_infer_response resp;
	memset(&resp, 0, sizeof(resp));
	resp.status = status;
	resp.generation = p->meta.generation;
	resp.frame_seq = p->meta.seq;
	if (p->meta_valid) {
		resp.frame_width = p->meta.width;
		resp.frame_height = p->meta.height;
	}
	snprintf(resp.message, sizeof(resp.message), "%s", message ? message : "");
	struct ruth_ipc_detection none[1];
	resp.detections = none;
	core_finish_request(c, p, &resp, now);
}

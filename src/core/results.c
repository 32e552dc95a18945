/* results.c: one JSON line per inference (any status) on stdout or --results.
 *
 * The line is the core's fields first (camera, model, fps, frame_number, seq,
 * generation, pts_us, capture_time, capture_realtime_ns), then the response's
 * fields written by ruth_result_json_put() (status, message, mode, frame,
 * timings_us, detections: src/model/result_json.c, the single writer of that
 * shape, which ruth-infer prints too), then result_realtime_ns and
 * latency_us {queue, ipc, runtime, total}.
 *
 * The line is written straight into the core's output buffer (c->rout) with
 * kcommon's json_buf.h primitives, not built as a cJSON tree (that cost dozens
 * of allocations and frees per result, plus a strftime, a large share of the
 * core's CPU per inference). docs/core.md, "Results".
 *
 * Latency parts:
 *   queue   = core-side wait from the tick that selected the frame to the write
 *   ipc     = round trip (write -> reply) minus the runtime's own timings
 *   runtime = the runtime's queue + preprocess + infer + postprocess
 *   total   = frame capture (left the decoder, CLOCK_MONOTONIC) -> result written
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "core.h"
#include "json_buf.h"
#include "result_json.h"

struct core_pending *core_pending_find(struct core *c, uint64_t request_id)
{
	struct core_pending *p = &c->pending[request_id % CORE_PENDING_CAP];
	return p->used && p->request_id == request_id ? p : NULL;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ". gmtime_r + strftime only when the second changes:
 * every camera's frames of one second share the prefix. Single-threaded (core.h). */
static void iso_time(char out[32], uint64_t realtime_ns)
{
	static uint64_t cached_s = UINT64_MAX;
	static char prefix[24];
	uint64_t sec = realtime_ns / 1000000000ull;
	if (sec != cached_s) {
		time_t t = (time_t)sec;
		struct tm tm;
		gmtime_r(&t, &tm);
		if (!strftime(prefix, sizeof(prefix), "%Y-%m-%dT%H:%M:%S", &tm))
			prefix[0] = 0;
		cached_s = sec;
	}
	unsigned ms = (unsigned)(realtime_ns / 1000000ull % 1000);
	size_t n = strlen(prefix);
	memcpy(out, prefix, n);
	out[n++] = '.';
	out[n++] = (char)('0' + ms / 100);
	out[n++] = (char)('0' + ms / 10 % 10);
	out[n++] = (char)('0' + ms % 10);
	out[n++] = 'Z';
	out[n] = 0;
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

	/* The core's fields, ruth_result_json_put()'s, then result_realtime_ns and
	 * latency_us: the order of the lines since the first release. */
	/* Appended to the unwritten lines; on failure cut back to where it began. */
	struct kjson_buf *b = &c->rout;
	size_t start = b->len;
	int rc = KJSON_PUT_LIT(b, "{\"camera\":");
	rc |= kjson_put_string(b, c->cams[p->cam].id);
	rc |= KJSON_PUT_LIT(b, ",\"model\":");
	rc |= kjson_put_string(b, m->id);
	rc |= KJSON_PUT_LIT(b, ",\"fps\":");
	rc |= kjson_put_number(b, p->fps);
	rc |= KJSON_PUT_LIT(b, ",\"frame_number\":");
	rc |= p->meta_valid ? kjson_put_number(b, (double)p->meta.frame_number) : KJSON_PUT_LIT(b, "null");
	rc |= KJSON_PUT_LIT(b, ",\"seq\":");
	rc |= kjson_put_number(b, (double)p->meta.seq);
	/* Generations are wall-clock nanoseconds (> 2^53): written as exact integers. */
	rc |= KJSON_PUT_LIT(b, ",\"generation\":");
	rc |= kjson_put_u64(b, p->meta.generation);
	rc |= KJSON_PUT_LIT(b, ",\"pts_us\":");
	if (p->meta_valid && p->meta.pts_us != INT64_MIN)
		rc |= kjson_put_number(b, (double)p->meta.pts_us);
	else
		rc |= KJSON_PUT_LIT(b, "null");
	if (p->meta_valid && p->meta.capture_realtime_ns) {
		char iso[32];
		iso_time(iso, p->meta.capture_realtime_ns);
		rc |= KJSON_PUT_LIT(b, ",\"capture_time\":");
		rc |= kjson_put_string(b, iso);
		rc |= KJSON_PUT_LIT(b, ",\"capture_realtime_ns\":");
		rc |= kjson_put_u64(b, p->meta.capture_realtime_ns);
	}
	rc |= KJSON_PUT_LIT(b, ",");
	rc |= ruth_result_json_put(b, m->cfg, resp);
	rc |= KJSON_PUT_LIT(b, ",\"result_realtime_ns\":");
	rc |= kjson_put_u64(b, kclock_real_ns());
	rc |= KJSON_PUT_LIT(b, ",\"latency_us\":{\"queue\":");
	rc |= kjson_put_number(b, (double)queue_us);
	rc |= KJSON_PUT_LIT(b, ",\"ipc\":");
	rc |= kjson_put_number(b, (double)ipc_us);
	rc |= KJSON_PUT_LIT(b, ",\"runtime\":");
	rc |= kjson_put_number(b, (double)runtime_us);
	rc |= KJSON_PUT_LIT(b, ",\"total\":");
	rc |= total_us ? kjson_put_number(b, (double)total_us) : KJSON_PUT_LIT(b, "null");
	rc |= KJSON_PUT_LIT(b, "}}\n");
	if (rc == 0) {
		core_results_line_done(c, now);
	} else {
		b->len = start;
		klog_ratelimited(&c->log, &c->results_oom_rl, 1, 10000, KLOG_WARN, "result line dropped: out of memory");
	}
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

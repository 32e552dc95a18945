/* results.c: one JSON line per inference (any status) on stdout or --results.
 *
 * The line is ruth_result_json()'s object (status, message, mode, frame,
 * timings_us, detections: the same shape ruth-infer prints) with the core's
 * fields first: camera, model, fps, frame_number, seq, generation, pts_us,
 * capture_time, capture_realtime_ns, and latency_us {queue, ipc, runtime, total}.
 *
 * The line is written straight into the core's output buffer (c->rout) with
 * json_out.h's primitives, not built as a cJSON tree (that cost dozens of
 * allocations and frees per result, plus a strftime, a large share of the
 * core's CPU per inference). core_finish_request() and put_result_fields()
 * print the same bytes, in the same order, as ruth_result_json() + json_out()
 * did: a change to src/model/result_json.c's shape must be repeated in
 * put_result_fields() (docs/core.md, "Results").
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
#include "json_out.h"

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

/* ruth_result_json()'s fields (status .. detections), in its order and with its
 * rounding: pixels to 2 decimals, scores to 4, non-finite values as null. */
static int put_result_fields(struct json_buf *b, const struct ruth_model_config *cfg,
			     const struct ruth_ipc_infer_response *resp)
{
	/* NUL-terminated on decode; bounded anyway for responses built in memory
	 * (result_json.c does the same with snprintf("%.*s")). */
	char msg[RUTH_IPC_MESSAGE_MAX];
	size_t ml = strnlen(resp->message, sizeof(msg) - 1);
	memcpy(msg, resp->message, ml);
	msg[ml] = 0;
	int rc = JSON_BUF_LIT(b, ",\"status\":");
	rc |= json_buf_put_string(b, ruth_ipc_status_name(resp->status));
	rc |= JSON_BUF_LIT(b, ",\"message\":");
	rc |= json_buf_put_string(b, msg);
	rc |= JSON_BUF_LIT(b, ",\"mode\":");
	rc |= json_buf_put_string(b, ruth_ipc_mode_name(resp->mode));
	rc |= JSON_BUF_LIT(b, ",\"frame\":{\"generation\":");
	rc |= json_buf_put_u64(b, resp->generation);
	rc |= JSON_BUF_LIT(b, ",\"seq\":");
	rc |= json_buf_put_u64(b, resp->frame_seq);
	rc |= JSON_BUF_LIT(b, ",\"width\":");
	rc |= json_buf_put_number(b, resp->frame_width);
	rc |= JSON_BUF_LIT(b, ",\"height\":");
	rc |= json_buf_put_number(b, resp->frame_height);
	rc |= JSON_BUF_LIT(b, "},\"timings_us\":{\"queue\":");
	rc |= json_buf_put_number(b, resp->queue_us);
	rc |= JSON_BUF_LIT(b, ",\"preprocess\":");
	rc |= json_buf_put_number(b, resp->preprocess_us);
	rc |= JSON_BUF_LIT(b, ",\"infer\":");
	rc |= json_buf_put_number(b, resp->infer_us);
	rc |= JSON_BUF_LIT(b, ",\"postprocess\":");
	rc |= json_buf_put_number(b, resp->postprocess_us);
	rc |= JSON_BUF_LIT(b, "},\"detections\":[");
	uint32_t n = resp->n_detections <= RUTH_IPC_MAX_DETECTIONS ? resp->n_detections : RUTH_IPC_MAX_DETECTIONS;
	for (uint32_t i = 0; resp->detections && i < n && !rc; i++) {
		const struct ruth_ipc_detection *d = &resp->detections[i];
		rc |= i ? JSON_BUF_LIT(b, ",{\"box\":[") : JSON_BUF_LIT(b, "{\"box\":[");
		rc |= json_buf_put_rounded(b, d->x0, 2);
		rc |= JSON_BUF_LIT(b, ",");
		rc |= json_buf_put_rounded(b, d->y0, 2);
		rc |= JSON_BUF_LIT(b, ",");
		rc |= json_buf_put_rounded(b, d->x1, 2);
		rc |= JSON_BUF_LIT(b, ",");
		rc |= json_buf_put_rounded(b, d->y1, 2);
		rc |= JSON_BUF_LIT(b, "],\"score\":");
		rc |= json_buf_put_rounded(b, d->score, 4);
		rc |= JSON_BUF_LIT(b, ",\"class_id\":");
		rc |= json_buf_put_number(b, d->class_id);
		if (cfg && d->class_id >= 0 && (uint32_t)d->class_id < cfg->output_schema.n_labels) {
			rc |= JSON_BUF_LIT(b, ",\"label\":");
			rc |= json_buf_put_string(b, cfg->output_schema.labels[d->class_id]);
		}
		uint32_t np = d->n_points <= RUTH_IPC_MAX_POINTS ? d->n_points : RUTH_IPC_MAX_POINTS;
		for (uint32_t k = 0; k < np; k++) {
			rc |= k ? JSON_BUF_LIT(b, ",[") : JSON_BUF_LIT(b, ",\"points\":[[");
			rc |= json_buf_put_rounded(b, d->points[k][0], 2);
			rc |= JSON_BUF_LIT(b, ",");
			rc |= json_buf_put_rounded(b, d->points[k][1], 2);
			rc |= k + 1 == np ? JSON_BUF_LIT(b, "]]") : JSON_BUF_LIT(b, "]");
		}
		rc |= JSON_BUF_LIT(b, "}");
	}
	rc |= JSON_BUF_LIT(b, "]");
	return rc;
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

	/* Same fields and order as before this writer existed (cJSON tree): the
	 * core's fields, ruth_result_json()'s, then result_realtime_ns and latency_us. */
	/* Appended to the unwritten lines; on failure cut back to where it began. */
	struct json_buf *b = &c->rout;
	size_t start = b->len;
	int rc = JSON_BUF_LIT(b, "{\"camera\":");
	rc |= json_buf_put_string(b, c->cams[p->cam].id);
	rc |= JSON_BUF_LIT(b, ",\"model\":");
	rc |= json_buf_put_string(b, m->id);
	rc |= JSON_BUF_LIT(b, ",\"fps\":");
	rc |= json_buf_put_number(b, p->fps);
	rc |= JSON_BUF_LIT(b, ",\"frame_number\":");
	rc |= p->meta_valid ? json_buf_put_number(b, (double)p->meta.frame_number) : JSON_BUF_LIT(b, "null");
	rc |= JSON_BUF_LIT(b, ",\"seq\":");
	rc |= json_buf_put_number(b, (double)p->meta.seq);
	/* Generations are wall-clock nanoseconds (> 2^53): written as exact integers. */
	rc |= JSON_BUF_LIT(b, ",\"generation\":");
	rc |= json_buf_put_u64(b, p->meta.generation);
	rc |= JSON_BUF_LIT(b, ",\"pts_us\":");
	if (p->meta_valid && p->meta.pts_us != INT64_MIN)
		rc |= json_buf_put_number(b, (double)p->meta.pts_us);
	else
		rc |= JSON_BUF_LIT(b, "null");
	if (p->meta_valid && p->meta.capture_realtime_ns) {
		char iso[32];
		iso_time(iso, p->meta.capture_realtime_ns);
		rc |= JSON_BUF_LIT(b, ",\"capture_time\":");
		rc |= json_buf_put_string(b, iso);
		rc |= JSON_BUF_LIT(b, ",\"capture_realtime_ns\":");
		rc |= json_buf_put_u64(b, p->meta.capture_realtime_ns);
	}
	rc |= put_result_fields(b, m->cfg, resp);
	rc |= JSON_BUF_LIT(b, ",\"result_realtime_ns\":");
	rc |= json_buf_put_u64(b, kclock_real_ns());
	rc |= JSON_BUF_LIT(b, ",\"latency_us\":{\"queue\":");
	rc |= json_buf_put_number(b, (double)queue_us);
	rc |= JSON_BUF_LIT(b, ",\"ipc\":");
	rc |= json_buf_put_number(b, (double)ipc_us);
	rc |= JSON_BUF_LIT(b, ",\"runtime\":");
	rc |= json_buf_put_number(b, (double)runtime_us);
	rc |= JSON_BUF_LIT(b, ",\"total\":");
	rc |= total_us ? json_buf_put_number(b, (double)total_us) : JSON_BUF_LIT(b, "null");
	rc |= JSON_BUF_LIT(b, "}}\n");
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

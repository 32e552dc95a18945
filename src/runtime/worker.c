/* worker.c: the request path one worker runs.
 *
 *   validate -> deadline -> camera's export reader (per-worker cache) ->
 *   generation check -> peek(seq) -> preprocess straight from the read-only
 *   mapping into the worker's input tensor -> validate the seqlock (changed:
 *   FRAME_STALE, never retried) -> backend run -> postprocess -> response.
 *
 * Stateless per request: everything a request touches is either read-only
 * shared state (session, postprocessor state, config) or owned by this worker
 * (input tensor, output buffers, scratch, readers). Nothing is allocated per
 * request; the only allocation after start is mapping a camera's export the
 * first time this worker sees that camera (or after the export was replaced).
 *
 * Readers are per worker because a struct vas_export_reader is single-thread;
 * the mapping itself is read-only, so N workers mapping one export is only N
 * views of the same pages. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "runtime.h"

static struct klog_ratelimit rl_fail;

size_t ruth__max_response_size(void)
{
	static struct ruth_ipc_msg m; /* only its size matters; computed once at start */
	ruth_ipc_msg_init(&m);
	m.hdr.type = RUTH_IPC_INFER_RESPONSE;
	m.hdr.version = RUTH_IPC_VERSION;
	m.u.infer_response.n_detections = RUTH_IPC_MAX_DETECTIONS;
	for (size_t i = 0; i < RUTH_IPC_MAX_DETECTIONS; i++)
		m.det_storage[i].n_points = RUTH_IPC_MAX_POINTS;
	return ruth_ipc_encoded_size(&m);
}

uint32_t ruth__request_validate(const struct ruth_ipc_infer_request *req, uint16_t version, char *msg,
				size_t msglen)
{
	char shm[96];
	if (vas_export_shm_name(shm, sizeof(shm), req->camera_id) < 0) {
		snprintf(msg, msglen, "invalid camera_id '%.64s'", req->camera_id);
		return RUTH_IPC_E_BAD_MESSAGE;
	}
	if (!isfinite(req->score_threshold) || req->score_threshold < 0.0f || req->score_threshold > 1.0f) {
		snprintf(msg, msglen, "score_threshold must be in [0, 1]");
		return RUTH_IPC_E_BAD_MESSAGE;
	}
	if (req->frame_seq == 0) {
		snprintf(msg, msglen, "frame_seq 0 names no frame");
		return RUTH_IPC_E_BAD_MESSAGE;
	}
	if (version < 2 && req->flags != 0) {
		snprintf(msg, msglen, "flags must be 0 in protocol version %u", (unsigned)version);
		return RUTH_IPC_E_BAD_MESSAGE;
	}
	if (req->flags & ~RUTH_IPC_INFER_F_KNOWN) {
		snprintf(msg, msglen, "unknown flags 0x%x", (unsigned)(req->flags & ~RUTH_IPC_INFER_F_KNOWN));
		return RUTH_IPC_E_BAD_MESSAGE;
	}
	return RUTH_IPC_OK;
}

int ruth__worker_init(struct ruth_worker *w, struct ruth_rt *rt, uint32_t index, char *err, size_t errlen)
{
	memset(w, 0, sizeof(*w));
	w->rt = rt;
	w->index = index;
	size_t bytes = (rt->input_bytes + 63) & ~(size_t)63;
	w->input = aligned_alloc(64, bytes);
	if (!w->input) {
		snprintf(err, errlen, "out of memory for the input tensor");
		return -ENOMEM;
	}
	memset(w->input, 0, bytes);
	if (rt->pp_scratch) {
		w->scratch = aligned_alloc(64, (rt->pp_scratch + 63) & ~(size_t)63);
		if (!w->scratch) {
			snprintf(err, errlen, "out of memory for postprocess scratch");
			return -ENOMEM;
		}
		memset(w->scratch, 0, rt->pp_scratch);
	}
	return rt->bops->worker_new(rt->backend, w->input, &w->bw, err, errlen);
}

void ruth__worker_fini(struct ruth_worker *w)
{
	if (!w->rt)
		return;
	for (size_t i = 0; i < RUTH_RT_READER_CACHE; i++)
		vas_export_reader_close(&w->readers[i].reader);
	if (w->bw)
		w->rt->bops->worker_free(&w->bw);
	free(w->input);
	free(w->scratch);
	w->input = w->scratch = NULL;
}

/* The cached reader for camera_id, opening (or reopening after a generation
 * change) as needed. A cached mapping whose generation is the one the request
 * names is used without the periodic stat of the shm name (one path lookup per
 * request at 16 cameras: each worker sees each camera less often than the
 * check interval). Returns 0 or the open error. */
static int reader_get(struct ruth_worker *w, const char *camera_id, uint64_t generation,
		      struct vas_export_reader **out)
{
	struct ruth_reader_slot *hit = NULL, *victim = &w->readers[0];
	w->use_clock++;
	for (size_t i = 0; i < RUTH_RT_READER_CACHE; i++) {
		struct ruth_reader_slot *s = &w->readers[i];
		if (s->reader && strcmp(s->camera_id, camera_id) == 0) {
			hit = s;
			break;
		}
		if (!s->reader)
			victim = s;
		else if (victim->reader && s->last_use < victim->last_use)
			victim = s;
	}
	if (hit) {
		if (vas_export_reader_check_generation(hit->reader, generation) == 0) {
			hit->last_use = w->use_clock;
			*out = hit->reader;
			return 0;
		}
		/* Retired or replaced: reopen below into the same slot. */
		vas_export_reader_close(&hit->reader);
		victim = hit;
	}
	vas_export_reader_close(&victim->reader);
	int r = vas_export_reader_open(&victim->reader, camera_id);
	if (r < 0)
		return r;
	snprintf(victim->camera_id, sizeof(victim->camera_id), "%s", camera_id);
	victim->last_use = w->use_clock;
	*out = victim->reader;
	return 0;
}

static uint32_t us_since(uint64_t t0, uint64_t t1)
{
	return t1 > t0 ? (uint32_t)((t1 - t0) / 1000u) : 0;
}

void ruth__worker_process(struct ruth_worker *w, struct ruth_job *job)
{
	struct ruth_rt *rt = w->rt;
	const struct ruth_ipc_infer_request *req = &job->req;
	struct ruth_ipc_infer_response *resp = &job->resp.u.infer_response;
	struct ruth_ipc_detection *dets = job->resp.det_storage;
	uint64_t t_start = kclock_mono_ns();
	char msg[RUTH_IPC_MESSAGE_MAX] = "";
	uint32_t status = RUTH_IPC_OK;

	memset(resp, 0, sizeof(*resp));
	resp->detections = dets;
	resp->mode = (uint16_t)rt->mode;
	resp->generation = req->generation;
	resp->frame_seq = req->frame_seq;
	resp->queue_us = us_since(job->enqueue_ns, t_start);

	if (req->deadline_ns && t_start > req->deadline_ns) {
		status = RUTH_IPC_E_DEADLINE_EXCEEDED;
		snprintf(msg, sizeof(msg), "deadline passed %llu us before the work started",
			 (unsigned long long)((t_start - req->deadline_ns) / 1000u));
		goto out;
	}

	struct vas_export_reader *rd = NULL;
	int r = reader_get(w, req->camera_id, req->generation, &rd);
	if (r < 0) {
		status = RUTH_IPC_E_UNKNOWN_CAMERA;
		snprintf(msg, sizeof(msg), "no export for camera '%s': %s", req->camera_id, vas_export_strerror(r));
		goto out;
	}

	struct vas_frame_view view;
	r = vas_export_reader_peek(rd, req->frame_seq, &view);
	if (r < 0) {
		struct vas_export_info info;
		if (req->generation && vas_export_reader_info(rd, &info) == 0 && info.generation != req->generation) {
			status = RUTH_IPC_E_GENERATION_MISMATCH;
			snprintf(msg, sizeof(msg), "export generation is %llu, request names %llu",
				 (unsigned long long)info.generation, (unsigned long long)req->generation);
		} else if (r == VAS_EXPORT_ENOFRAME) {
			status = RUTH_IPC_E_FRAME_NOT_FOUND;
			snprintf(msg, sizeof(msg), "frame %llu not published (newest %llu)",
				 (unsigned long long)req->frame_seq, (unsigned long long)vas_export_reader_newest(rd));
		} else if (r == VAS_EXPORT_ESTALE) {
			status = RUTH_IPC_E_FRAME_STALE;
			snprintf(msg, sizeof(msg), "frame %llu already overwritten (newest %llu)",
				 (unsigned long long)req->frame_seq, (unsigned long long)vas_export_reader_newest(rd));
		} else {
			status = RUTH_IPC_E_INTERNAL;
			snprintf(msg, sizeof(msg), "reading frame: %s", vas_export_strerror(r));
		}
		goto out;
	}
	resp->generation = view.meta.generation;
	resp->frame_width = view.meta.width;
	resp->frame_height = view.meta.height;
	if (req->generation && view.meta.generation != req->generation) {
		status = RUTH_IPC_E_GENERATION_MISMATCH;
		snprintf(msg, sizeof(msg), "frame %llu belongs to generation %llu, request names %llu",
			 (unsigned long long)req->frame_seq, (unsigned long long)view.meta.generation,
			 (unsigned long long)req->generation);
		goto out;
	}

	struct ruth_nv12_frame frame = {
		.y = view.y,
		.uv = view.uv,
		.width = view.meta.width,
		.height = view.meta.height,
		.stride_y = view.meta.stride_y,
		.stride_uv = view.meta.stride_uv,
	};
	struct ruth_letterbox map;
	uint64_t t0 = kclock_mono_ns();
	r = ruth_preprocess_nv12(&frame, &rt->spec, w->input, &map);
	/* The seqlock decides whether what we read is frame seq: check it even when
	 * preprocessing failed, since a torn header can look like a bad geometry. */
	int v = vas_export_reader_validate(rd, &view);
	uint64_t t1 = kclock_mono_ns();
	resp->preprocess_us = us_since(t0, t1);
	if (v < 0) {
		status = RUTH_IPC_E_FRAME_STALE;
		snprintf(msg, sizeof(msg), "frame %llu was overwritten while being read", (unsigned long long)req->frame_seq);
		goto out;
	}
	if (r < 0) {
		status = RUTH_IPC_E_BAD_FORMAT;
		snprintf(msg, sizeof(msg), "frame geometry %ux%u (strides %u/%u) cannot be preprocessed",
			 view.meta.width, view.meta.height, view.meta.stride_y, view.meta.stride_uv);
		goto out;
	}

	const struct ruth_pp_tensor *outs = NULL;
	size_t n_outs = 0;
	r = rt->bops->run(w->bw, &outs, &n_outs, msg, sizeof(msg));
	uint64_t t2 = kclock_mono_ns();
	resp->infer_us = us_since(t1, t2);
	if (r < 0) {
		status = RUTH_IPC_E_INFERENCE_FAILED;
		goto out;
	}

	struct ruth_pp_params pp = {
		.score_threshold = req->score_threshold > 0.0f ? req->score_threshold : rt->cfg.postprocess.score_threshold,
		.nms_iou = rt->cfg.postprocess.nms_iou,
		.max_results = req->max_results ? req->max_results : rt->cfg.postprocess.max_detections,
	};
	if (pp.max_results == 0 || pp.max_results > RUTH_IPC_MAX_DETECTIONS)
		pp.max_results = RUTH_IPC_MAX_DETECTIONS;
	size_t n = 0;
	r = rt->pp->run(rt->pp_state, outs, n_outs, &map, &pp, w->scratch, dets, pp.max_results, &n);
	resp->postprocess_us = us_since(t2, kclock_mono_ns());
	if (r < 0) {
		status = RUTH_IPC_E_INFERENCE_FAILED;
		snprintf(msg, sizeof(msg), "postprocessor %s failed: %s", rt->pp->name, strerror(-r));
		goto out;
	}
	resp->n_detections = (uint32_t)(n > pp.max_results ? pp.max_results : n);
out:
	resp->status = status;
	snprintf(resp->message, sizeof(resp->message), "%s", msg);
	if (status != RUTH_IPC_OK && status != RUTH_IPC_E_FRAME_STALE && status != RUTH_IPC_E_FRAME_NOT_FOUND)
		klog_ratelimited(&rt->log, &rl_fail, 5, 10000, KLOG_WARN, "request %llu camera=%s seq=%llu: %s: %s",
				 (unsigned long long)job->request_id, req->camera_id, (unsigned long long)req->frame_seq,
				 ruth_ipc_status_name(status), msg);
}

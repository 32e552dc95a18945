/* result_json.c: see result_json.h. */
#include "result_json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

/* JSON has no NaN or infinity; a broken model output must still give a valid
 * line, so such values are written as null. */
static cJSON *num(double v)
{
	return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

/* Floats rounded to 2 decimals for pixels and 4 for scores: enough for any
 * consumer, and lines stay short and stable across float noise. */
static double round_to(double v, double q)
{
	return isfinite(v) ? round(v * q) / q : v;
}

static cJSON *detection_json(const struct ruth_model_config *cfg, const struct ruth_ipc_detection *d)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON *box = cJSON_AddArrayToObject(o, "box");
	if (!box)
		goto fail;
	const float b[4] = { d->x0, d->y0, d->x1, d->y1 };
	for (int i = 0; i < 4; i++)
		if (!cJSON_AddItemToArray(box, num(round_to(b[i], 100.0))))
			goto fail;
	if (!cJSON_AddItemToObject(o, "score", num(round_to(d->score, 10000.0))) ||
	    !cJSON_AddNumberToObject(o, "class_id", d->class_id))
		goto fail;
	if (cfg && d->class_id >= 0 && (uint32_t)d->class_id < cfg->output_schema.n_labels &&
	    !cJSON_AddStringToObject(o, "label", cfg->output_schema.labels[d->class_id]))
		goto fail;
	uint32_t np = d->n_points <= RUTH_IPC_MAX_POINTS ? d->n_points : RUTH_IPC_MAX_POINTS;
	if (np) {
		cJSON *pts = cJSON_AddArrayToObject(o, "points");
		if (!pts)
			goto fail;
		for (uint32_t k = 0; k < np; k++) {
			cJSON *pt = cJSON_CreateArray();
			if (!pt || !cJSON_AddItemToArray(pts, pt) ||
			    !cJSON_AddItemToArray(pt, num(round_to(d->points[k][0], 100.0))) ||
			    !cJSON_AddItemToArray(pt, num(round_to(d->points[k][1], 100.0))))
				goto fail;
		}
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

cJSON *ruth_result_json(const struct ruth_model_config *cfg, const struct ruth_ipc_infer_response *resp)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	if (!cJSON_AddStringToObject(o, "status", ruth_ipc_status_name(resp->status)))
		goto fail;
	/* The message is a NUL-terminated field on decode; bound it anyway for
	 * responses built in memory. */
	char msg[RUTH_IPC_MESSAGE_MAX];
	snprintf(msg, sizeof(msg), "%.*s", (int)sizeof(msg) - 1, resp->message);
	if (!cJSON_AddStringToObject(o, "message", msg) ||
	    !cJSON_AddStringToObject(o, "mode", ruth_ipc_mode_name(resp->mode)))
		goto fail;
	/* generation and seq are 64-bit (generation is a nanosecond timestamp):
	 * a JSON number through a double would lose the low digits, so they are
	 * written as exact integer literals. */
	char gen[24], seq[24];
	snprintf(gen, sizeof(gen), "%" PRIu64, resp->generation);
	snprintf(seq, sizeof(seq), "%" PRIu64, resp->frame_seq);
	cJSON *fr = cJSON_AddObjectToObject(o, "frame");
	if (!fr || !cJSON_AddRawToObject(fr, "generation", gen) || !cJSON_AddRawToObject(fr, "seq", seq) ||
	    !cJSON_AddNumberToObject(fr, "width", resp->frame_width) ||
	    !cJSON_AddNumberToObject(fr, "height", resp->frame_height))
		goto fail;
	cJSON *t = cJSON_AddObjectToObject(o, "timings_us");
	if (!t || !cJSON_AddNumberToObject(t, "queue", resp->queue_us) ||
	    !cJSON_AddNumberToObject(t, "preprocess", resp->preprocess_us) ||
	    !cJSON_AddNumberToObject(t, "infer", resp->infer_us) ||
	    !cJSON_AddNumberToObject(t, "postprocess", resp->postprocess_us))
		goto fail;
	cJSON *dets = cJSON_AddArrayToObject(o, "detections");
	if (!dets)
		goto fail;
	uint32_t n = resp->n_detections <= RUTH_IPC_MAX_DETECTIONS ? resp->n_detections : RUTH_IPC_MAX_DETECTIONS;
	for (uint32_t i = 0; resp->detections && i < n; i++) {
		cJSON *d = detection_json(cfg, &resp->detections[i]);
		if (!d || !cJSON_AddItemToArray(dets, d)) {
			cJSON_Delete(d);
			goto fail;
		}
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

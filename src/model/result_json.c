/* result_json.c: see result_json.h. Every value goes through json_buf.h, which
 * also decides the spelling of numbers (integers, "%.9g", null for non-finite). */
#include "result_json.h"

#include <string.h>

int ruth_result_json_put(struct kjson_buf *b, const struct ruth_model_config *cfg,
			 const struct ruth_ipc_infer_response *resp)
{
	/* NUL-terminated on decode; bounded anyway for responses built in memory. */
	char msg[RUTH_IPC_MESSAGE_MAX];
	size_t ml = strnlen(resp->message, sizeof(msg) - 1);
	memcpy(msg, resp->message, ml);
	msg[ml] = 0;
	int rc = KJSON_PUT_LIT(b, "\"status\":");
	rc |= kjson_put_string(b, ruth_ipc_status_name(resp->status));
	rc |= KJSON_PUT_LIT(b, ",\"message\":");
	rc |= kjson_put_string(b, msg);
	rc |= KJSON_PUT_LIT(b, ",\"mode\":");
	rc |= kjson_put_string(b, ruth_ipc_mode_name(resp->mode));
	rc |= KJSON_PUT_LIT(b, ",\"frame\":{\"generation\":");
	rc |= kjson_put_u64(b, resp->generation);
	rc |= KJSON_PUT_LIT(b, ",\"seq\":");
	rc |= kjson_put_u64(b, resp->frame_seq);
	rc |= KJSON_PUT_LIT(b, ",\"width\":");
	rc |= kjson_put_number(b, resp->frame_width);
	rc |= KJSON_PUT_LIT(b, ",\"height\":");
	rc |= kjson_put_number(b, resp->frame_height);
	rc |= KJSON_PUT_LIT(b, "},\"timings_us\":{\"queue\":");
	rc |= kjson_put_number(b, resp->queue_us);
	rc |= KJSON_PUT_LIT(b, ",\"preprocess\":");
	rc |= kjson_put_number(b, resp->preprocess_us);
	rc |= KJSON_PUT_LIT(b, ",\"infer\":");
	rc |= kjson_put_number(b, resp->infer_us);
	rc |= KJSON_PUT_LIT(b, ",\"postprocess\":");
	rc |= kjson_put_number(b, resp->postprocess_us);
	rc |= KJSON_PUT_LIT(b, "},\"detections\":[");
	uint32_t n = resp->n_detections <= RUTH_IPC_MAX_DETECTIONS ? resp->n_detections : RUTH_IPC_MAX_DETECTIONS;
	/* Stop at the first failure: the line is dropped anyway, and growing a
	 * buffer that just failed to grow would only fail again. */
	for (uint32_t i = 0; resp->detections && i < n && !rc; i++) {
		const struct ruth_ipc_detection *d = &resp->detections[i];
		rc |= i ? KJSON_PUT_LIT(b, ",{\"box\":[") : KJSON_PUT_LIT(b, "{\"box\":[");
		rc |= kjson_put_rounded(b, d->x0, 2);
		rc |= KJSON_PUT_LIT(b, ",");
		rc |= kjson_put_rounded(b, d->y0, 2);
		rc |= KJSON_PUT_LIT(b, ",");
		rc |= kjson_put_rounded(b, d->x1, 2);
		rc |= KJSON_PUT_LIT(b, ",");
		rc |= kjson_put_rounded(b, d->y1, 2);
		rc |= KJSON_PUT_LIT(b, "],\"score\":");
		rc |= kjson_put_rounded(b, d->score, 4);
		rc |= KJSON_PUT_LIT(b, ",\"class_id\":");
		rc |= kjson_put_number(b, d->class_id);
		if (cfg && d->class_id >= 0 && (uint32_t)d->class_id < cfg->output_schema.n_labels) {
			rc |= KJSON_PUT_LIT(b, ",\"label\":");
			rc |= kjson_put_string(b, cfg->output_schema.labels[d->class_id]);
		}
		uint32_t np = d->n_points <= RUTH_IPC_MAX_POINTS ? d->n_points : RUTH_IPC_MAX_POINTS;
		for (uint32_t k = 0; k < np; k++) {
			rc |= k ? KJSON_PUT_LIT(b, ",[") : KJSON_PUT_LIT(b, ",\"points\":[[");
			rc |= kjson_put_rounded(b, d->points[k][0], 2);
			rc |= KJSON_PUT_LIT(b, ",");
			rc |= kjson_put_rounded(b, d->points[k][1], 2);
			rc |= k + 1 == np ? KJSON_PUT_LIT(b, "]]") : KJSON_PUT_LIT(b, "]");
		}
		rc |= KJSON_PUT_LIT(b, "}");
	}
	rc |= KJSON_PUT_LIT(b, "]");
	return rc;
}

int ruth_result_json_object(struct kjson_buf *b, const struct ruth_model_config *cfg,
			    const struct ruth_ipc_infer_response *resp)
{
	int rc = KJSON_PUT_LIT(b, "{");
	rc |= ruth_result_json_put(b, cfg, resp);
	rc |= KJSON_PUT_LIT(b, "}");
	return rc;
}

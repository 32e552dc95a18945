/* result_json.h: the one writer of an inference response as JSON text, the
 * shape that ruth-infer and ruth-ai-core both print (one object per line), so
 * tools and the core agree on a single results format:
 *
 *   {"status":"OK","message":"","mode":"cpu",
 *    "frame":{"generation":1,"seq":42,"width":1280,"height":720},
 *    "timings_us":{"queue":12,"preprocess":300,"infer":900,"postprocess":40},
 *    "detections":[{"box":[x0,y0,x1,y1],"score":0.93,"class_id":0,"label":"face",
 *                   "points":[[x,y],...]}]}
 *
 * Rules (pinned by tests/unit/test_model_result_json.c):
 *  - "label" appears when cfg is given and class_id indexes its output_schema
 *    labels; "points" only when the detection has any (at most
 *    RUTH_IPC_MAX_POINTS); at most RUTH_IPC_MAX_DETECTIONS detections.
 *  - Coordinates are source-frame pixels rounded to 2 decimals, scores to 4
 *    (enough for any consumer; lines stay short and stable across float
 *    noise); NaN and infinities are written as null (JSON has neither).
 *  - frame.generation and frame.seq are 64-bit and written as exact integers
 *    (generation is a nanosecond timestamp > 2^53).
 *  - message is bounded to RUTH_IPC_MESSAGE_MAX - 1 bytes even when the
 *    response was built in memory without its NUL; quotes, backslashes and
 *    control characters in message and label are escaped.
 *
 * Text is appended to a kjson_buf (src/common/json_buf.h): no tree, no
 * allocation per line once the buffer has grown, so the core can write it
 * straight into its output buffer with its own fields around it. */
#ifndef RUTH_MODEL_RESULT_JSON_H
#define RUTH_MODEL_RESULT_JSON_H

#include "json_buf.h"
#include "ruth/ipc.h"
#include "ruth/model_config.h"

/* Append the members status .. detections, comma-separated, WITHOUT the
 * enclosing braces and without a leading or trailing comma:
 *   "status":"OK", ... ,"detections":[...]
 * so a caller puts its own members before (followed by ",") and after
 * (preceded by ","). Returns 0 or -ENOMEM (json_buf.h: the caller cuts b->len
 * back to where its line began). */
int ruth_result_json_put(struct kjson_buf *b, const struct ruth_model_config *cfg_or_NULL,
			 const struct ruth_ipc_infer_response *resp);

/* Append the whole object: "{" ruth_result_json_put() "}" (no newline): the
 * line ruth-infer prints. Same return contract. */
int ruth_result_json_object(struct kjson_buf *b, const struct ruth_model_config *cfg_or_NULL,
			    const struct ruth_ipc_infer_response *resp);

#endif

/* result_json.h: one inference response as JSON, the shape that ruth-infer
 * and ruth-ai-core both print (one object per line), so tools and the core
 * agree on a single results format:
 *
 *   {"status":"OK","message":"","mode":"cpu",
 *    "frame":{"generation":1,"seq":42,"width":1280,"height":720},
 *    "timings_us":{"queue":12,"preprocess":300,"infer":900,"postprocess":40},
 *    "detections":[{"box":[x0,y0,x1,y1],"score":0.93,"class_id":0,"label":"face",
 *                   "points":[[x,y],...]}]}
 *
 * "label" appears when cfg is given and class_id indexes its output_schema
 * labels; "points" only when the detection has any. Coordinates are
 * source-frame pixels. */
#ifndef RUTH_MODEL_RESULT_JSON_H
#define RUTH_MODEL_RESULT_JSON_H

#include <cjson/cJSON.h>

#include "ruth/ipc.h"
#include "ruth/model_config.h"

/* Returns a new object the caller frees with cJSON_Delete, or NULL when out of
 * memory. */
cJSON *ruth_result_json(const struct ruth_model_config *cfg_or_NULL, const struct ruth_ipc_infer_response *resp);

#endif

/* json_out.h: serialise a cJSON tree into a kjson_buf (ruthctl replies, tests).
 *
 * cJSON_PrintUnformatted prints every number with "%1.15g" and re-parses it
 * with sscanf to check the round trip (a few microseconds per number); here
 * every value is written with kcommon's json_buf.h primitives, so a number,
 * string or literal comes out exactly as the results writer
 * (src/model/result_json.c) spells it. Raw items are copied as they are.
 *
 * Returns 0 or -ENOMEM with json_buf.h's contract (on failure the caller cuts
 * b->len back to where the value began). The results line itself does not go
 * through a tree: see ruth_result_json_put() and src/core/results.c. */
#ifndef RUTH_CORE_JSON_OUT_H
#define RUTH_CORE_JSON_OUT_H

#include <cjson/cJSON.h>

#include "json_buf.h"

/* Append the serialisation of item to b. */
int json_out(struct kjson_buf *b, const cJSON *item);

#endif

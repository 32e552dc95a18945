/* json_out.h: a compact, fast serializer for cJSON trees (results lines).
 * cJSON_PrintUnformatted prints every number with "%1.15g" and re-parses it with
 * sscanf to check the round trip (a few microseconds per number, ~30 numbers per
 * result); here integral values print as integers and others with "%.9g"
 * (exact for the float32 values the IPC carries). Raw items are copied. */
#ifndef RUTH_CORE_JSON_OUT_H
#define RUTH_CORE_JSON_OUT_H

#include <cjson/cJSON.h>
#include <stddef.h>

struct json_buf {
	char *p;
	size_t len, cap;
};

/* Append the serialization of item to b; returns 0 or -ENOMEM. */
int json_out(struct json_buf *b, const cJSON *item);

#endif

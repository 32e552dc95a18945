/* status.c: the JSON status file (see status.h). */
#include "status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

static cJSON *branch_json(const struct vas_branch_stats *b)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "packets_in", (double)b->packets_in);
	cJSON_AddNumberToObject(o, "packets_out", (double)b->packets_out);
	cJSON_AddNumberToObject(o, "packets_dropped", (double)b->packets_dropped);
	cJSON_AddNumberToObject(o, "bytes_out", (double)b->bytes_out);
	cJSON_AddNumberToObject(o, "segments", (double)b->segments);
	cJSON_AddNumberToObject(o, "errors", (double)b->errors);
	cJSON_AddStringToObject(o, "state", b->state);
	cJSON_AddStringToObject(o, "last_error", b->last_error);
	return o;
}

int vas_status_write(const char *path, bool export_enabled, const struct vas_ingest_stats *cams,
		     const double *fps, size_t n)
{
	cJSON *root = cJSON_CreateObject(), *arr;
	char tmp[4200];
	int r = 0;

	if (!root)
		return -ENOMEM;
	cJSON_AddNumberToObject(root, "pid", (double)getpid());
	cJSON_AddBoolToObject(root, "export_enabled", export_enabled);
	arr = cJSON_AddArrayToObject(root, "cameras");
	for (size_t i = 0; arr && i < n; i++) {
		const struct vas_ingest_stats *s = &cams[i];
		cJSON *o = cJSON_CreateObject();
		if (!o)
			break;
		cJSON_AddStringToObject(o, "id", s->id);
		cJSON_AddStringToObject(o, "state", s->state);
		cJSON_AddNumberToObject(o, "frames_decoded", (double)s->frames_decoded);
		cJSON_AddNumberToObject(o, "frames_exported", (double)s->frames_exported);
		cJSON_AddNumberToObject(o, "frames_dropped", (double)s->frames_dropped);
		cJSON_AddNumberToObject(o, "decode_fps", fps ? fps[i] : 0.0);
		cJSON_AddNumberToObject(o, "reconnects", (double)s->reconnects);
		cJSON_AddStringToObject(o, "last_error", s->last_error);
		cJSON_AddNumberToObject(o, "width", s->width);
		cJSON_AddNumberToObject(o, "height", s->height);
		cJSON_AddStringToObject(o, "codec", s->codec);
		cJSON_AddNumberToObject(o, "decode_errors", (double)s->decode_errors);
		cJSON_AddNumberToObject(o, "frames_corrupt", (double)s->frames_corrupt);
		cJSON_AddNumberToObject(o, "packets", (double)s->packets);
		cJSON_AddNumberToObject(o, "active_s", s->active_s);
		cJSON_AddBoolToObject(o, "export", s->export_enabled);
		if (s->has_record)
			cJSON_AddItemToObject(o, "record", branch_json(&s->record));
		if (s->has_rtp)
			cJSON_AddItemToObject(o, "rtp", branch_json(&s->rtp));
		cJSON_AddItemToArray(arr, o);
	}
	char *text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!text)
		return -ENOMEM;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		r = -errno;
	} else {
		if (fputs(text, f) < 0 || fputc('\n', f) < 0)
			r = -EIO;
		if (fclose(f) != 0 && r == 0)
			r = -errno;
		if (r == 0 && rename(tmp, path) != 0)
			r = -errno;
		if (r < 0)
			unlink(tmp);
	}
	free(text);
	return r;
}

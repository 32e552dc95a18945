/* config.h: vasd's configuration file (YAML), parsed and validated as a whole.
 *
 * A configuration is accepted or refused as one unit: any error in any camera
 * entry (unknown field, bad value, duplicate id) refuses the whole file, with a
 * message "FILE:LINE: field 'cameras[N].FIELD': ..." so the operator fixes it
 * before vasd starts. Runtime failures of one camera are a different matter and
 * never stop the others (see ingest.h).
 *
 * The parsed structure is plain data owned by the caller of vas_config_load();
 * it is read-only after loading, so every ingest thread may read it. */
#ifndef VAS_CONFIG_H
#define VAS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "egress/branch.h"

#define VAS_CAMERA_ID_MAX 48 /* including the NUL; same as VAS_EXPORT_CAMERA_ID_MAX */
#define VAS_URL_MAX 1024

enum vas_transport { VAS_TRANSPORT_TCP = 0, VAS_TRANSPORT_UDP = 1 };

struct vas_camera_config {
	char id[VAS_CAMERA_ID_MAX];  /* [A-Za-z0-9_.-]{1,47}; shm name /vas.<id> */
	char url[VAS_URL_MAX];       /* rtsp://... or, for benchmarks and tests, a local file path */
	bool is_file;                /* url has no "scheme://": read a local file */
	enum vas_transport transport;
	uint32_t decode_threads;     /* libavcodec thread_count; default 1 */
	uint32_t timeout_ms;         /* socket and stall timeout; default 2000 */
	uint32_t reconnect_initial_ms; /* default 200 */
	uint32_t reconnect_max_ms;     /* default 5000 */
	uint32_t max_width;          /* export capacity; 0: first frame's size */
	uint32_t max_height;
	/* Local files only: pace by pts (true, default) or read as fast as possible;
	 * loop at end of file (default true); stop after max_frames decoded frames
	 * (0: never). These exist for the decode benchmark and tests. */
	bool realtime;
	bool loop;
	uint64_t max_frames;
	struct vas_record_config record;
	struct vas_rtp_config rtp;
};

struct vas_export_options {
	uint32_t ring_size; /* Phase 1 ring depth per camera; default 4 */
	uint32_t slots;     /* Phase 2 shm slots per camera; default 4 */
	char group[64];     /* group owning the shm objects; "" = vasd's own group */
	int group_line;     /* line of export.group in the file, for messages */
};

struct vas_config {
	char path[512];
	struct vas_export_options export_opts;
	size_t n_cameras;
	struct vas_camera_config *cameras;
};

/* Load and validate `path`. Returns 0, or a negative errno with err filled with
 * a message naming the file, line and field (-ENOENT: file missing). */
int vas_config_load(struct vas_config **out, const char *path, char *err, size_t errlen);

/* The same from a string (`name` is used in messages); for tests. */
int vas_config_parse(struct vas_config **out, const char *name, const char *text, char *err, size_t errlen);

void vas_config_free(struct vas_config **cfg);

/* Checks that need the host, done only when the export is enabled: the export
 * group must exist. Returns 0 or -EINVAL with err naming file, line and field. */
int vas_config_check_export(const struct vas_config *cfg, char *err, size_t errlen);

#endif

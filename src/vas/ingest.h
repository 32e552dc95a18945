/* ingest.h: one camera of vasd: RTSP (or file) ingest, decode, the decode-boundary
 * frame tap and the compressed-packet branches, with reconnect.
 *
 *   open (libavformat) -> read packet -> branches (record, rtp) -> decode (libavcodec)
 *                                                                   -> frame tap (only when export is on)
 *
 * Each camera runs on its own thread and shares nothing mutable with the other
 * cameras, so one camera's failure (bad URL, refused connection, no video
 * stream, corrupt bitstream, a stalled server) shows up in its own log lines and
 * status and never stops another camera. Every failure of a connection is a
 * disconnect: close everything, wait (capped exponential backoff with jitter)
 * and open again, until vasd stops.
 *
 * Thread safety: vas_ingest_stats() may be called from any thread; counters are
 * atomics written only by the camera thread, strings are copied under a mutex
 * taken only on state changes (never per frame). */
#ifndef VAS_INGEST_H
#define VAS_INGEST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "egress/branch.h"

struct vas_ingest;

struct vas_ingest_stats {
	char id[VAS_CAMERA_ID_MAX];
	char state[16];          /* "connecting", "streaming", "backoff", "done" */
	char last_error[256];
	char codec[16];
	uint32_t width, height;
	uint64_t frames_decoded;
	uint64_t frames_exported;
	uint64_t frames_dropped;
	uint64_t decode_errors;  /* packets the decoder rejected, and errors it reported while concealing */
	uint64_t frames_corrupt; /* frames the decoder flagged as corrupt (concealed) */
	uint64_t reconnects;     /* connection attempts after the first */
	uint64_t packets;        /* video packets read */
	double active_s;         /* seconds from the first to the last decoded frame */
	bool export_enabled;     /* a frame tap exists for this camera */
	bool has_record, has_rtp;
	struct vas_branch_stats record, rtp;
};

/* Create the camera (tap and branches included) without starting it.
 * export_opts NULL: the kernel frame path is off and no tap object is created
 * at all. `stop` is vasd's global stop flag; the camera thread polls it and the
 * libavformat interrupt callback reads it, so setting it ends blocking I/O. */
int vas_ingest_new(struct vas_ingest **out, const struct vas_camera_config *cfg,
		   const struct vas_export_options *export_opts, const atomic_bool *stop);
int vas_ingest_start(struct vas_ingest *in);
/* 1 when the camera thread has finished on its own (max_frames reached, or a
 * non-looping file ended). */
int vas_ingest_done(const struct vas_ingest *in);
void vas_ingest_stats(struct vas_ingest *in, struct vas_ingest_stats *st);
/* Joins the thread (the caller has set the stop flag), destroys branches and
 * the tap (which unlinks the camera's shm object). Sets *in to NULL. */
void vas_ingest_free(struct vas_ingest **in);

#endif

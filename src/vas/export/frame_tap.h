/* frame_tap.h: the kernel frame path of one camera, as vasd's decode thread sees it.
 *
 * vasd creates a tap per camera ONLY when AI_FRAME_EXPORT_ENABLED is true (no
 * tap: no ring, no shared memory, no copies) and calls vas_frame_tap_push()
 * on the decode thread right after each successful avcodec_receive_frame().
 *
 *   decode thread --push (av_frame_ref, O(1))--> Phase 1 ring (drop-oldest)
 *   exporter thread <--pop-- ring --> [swscale to NV12 if needed] -->
 *       vas_export_writer_publish --> Phase 2 shm "/vas.<camera_id>"
 *
 * push never blocks and never waits for the exporter: when the exporter falls
 * behind, the ring drops its oldest frames (counted in stats.dropped and in the
 * export header's frames_dropped).
 *
 * Pixel formats: yuv420p, yuvj420p and nv12 frames are published directly (the
 * writer interleaves planar chroma while copying); any other software format is
 * converted to NV12 with libswscale into a buffer that is allocated once and
 * re-created only when the geometry or format changes. Hardware frames are not
 * supported (counted as errors).
 *
 * Thread safety: push and tick from one thread (the camera's decode thread);
 * stats from any thread; new and free from the thread that owns the camera. */
#ifndef VAS_FRAME_TAP_H
#define VAS_FRAME_TAP_H

#include <stdint.h>

#include <libavutil/frame.h>
#include <libavutil/rational.h>

struct vas_frame_tap;

struct vas_frame_tap_config {
	const char *camera_id; /* [A-Za-z0-9_.-]{1,47}; export "/vas.<camera_id>" */
	uint32_t ring_size;    /* Phase 1 depth; default 4 when 0 */
	uint32_t slot_count;   /* Phase 2 slots; default 4 when 0 */
	uint32_t max_width;    /* export capacity; 0 and 0: sized from the first frame, */
	uint32_t max_height;   /* and the shm object is created then */
	const char *group;     /* group owning the object (mode 0640); NULL: the creator's */
	/* Time base of frame->pts (the decoder's / stream's). {0,0}: use
	 * frame->time_base when set, else pts_us is exported as INT64_MIN. */
	AVRational time_base;
};

struct vas_frame_tap_stats {
	uint64_t pushed;   /* frames handed to push */
	uint64_t exported; /* frames published into the shm export */
	uint64_t dropped;  /* frames the ring evicted because the exporter was behind */
	uint64_t errors;   /* frames that could not be published (conversion or shm errors) */
};

/* Validates the config, creates the ring and starts the exporter thread; with
 * max_width/max_height set also creates the shm object now. Returns 0 or a
 * negative errno (-EINVAL for a bad camera id or sizes). */
int vas_frame_tap_new(struct vas_frame_tap **out, const struct vas_frame_tap_config *cfg);

/* Decode thread, right after avcodec_receive_frame(). Takes a reference to f
 * (no pixel copy), never blocks. flags: VAS_FRAME_F_* (keyframe and corrupt are
 * also derived from f itself; DISCONTINUITY is the caller's to set on the
 * first frame after a reconnect). Returns 0, or a negative AVERROR when the
 * reference could not be taken (the frame is counted as an error). */
int vas_frame_tap_push(struct vas_frame_tap *tap, const AVFrame *f, uint64_t frame_number, uint32_t flags);

/* While the camera is reconnecting: refresh the export's heartbeat so readers
 * can tell "camera stalled, vasd alive" from "vasd gone". Never blocks. */
void vas_frame_tap_tick(struct vas_frame_tap *tap);

void vas_frame_tap_stats(const struct vas_frame_tap *tap, struct vas_frame_tap_stats *st);

/* Stops the exporter thread, releases queued frames, marks the export retired
 * and unlinks it; sets *tap to NULL. Safe on NULL. */
void vas_frame_tap_free(struct vas_frame_tap **tap);

#endif

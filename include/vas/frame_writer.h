/* vas/frame_writer.h: the writing side of the Phase 2 frame export.
 *
 * Used by vasd's exporter (one writer per camera) and by ruth-infer, which
 * publishes still images and file frames into a private export with exactly
 * the same code path the cameras use. The ABI and the seqlock protocol are in
 * vas/frame_export.h.
 *
 * Never blocks: publishing takes no lock, makes no system call and never waits
 * for a reader. All memory is mapped and pre-faulted in _open; nothing is
 * mapped, unmapped or allocated per frame.
 *
 * Thread safety: one thread at a time per writer (vasd uses one exporter thread
 * per camera). */
#ifndef VAS_FRAME_WRITER_H
#define VAS_FRAME_WRITER_H

#include <stdint.h>
#include <sys/types.h>

#include "vas/frame_export.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vas_export_writer_config {
	const char *camera_id;  /* validated with vas_export_shm_name() rules */
	uint32_t slot_count;    /* 2..VAS_EXPORT_MAX_SLOTS; default 4 when 0 */
	uint32_t max_width;     /* capacity; frames larger than this recreate the object */
	uint32_t max_height;
	mode_t mode;            /* default 0640 when 0 */
	const char *group;      /* group to own the object (readers run in it); NULL: the creator's */
};

/* A source frame to publish: NV12 (two planes) or planar YUV 4:2:0 (three planes),
 * the two layouts decoders hand out. Chroma of planar input is interleaved into
 * NV12 during the copy. */
enum vas_src_layout { VAS_SRC_NV12 = 0, VAS_SRC_YUV420P = 1 };

struct vas_frame_src {
	enum vas_src_layout layout;
	uint32_t width, height;
	const uint8_t *plane[3];
	int32_t stride[3];
	uint64_t frame_number;
	int64_t pts_us;               /* INT64_MIN when unknown */
	uint64_t capture_realtime_ns; /* 0: taken now */
	uint64_t capture_mono_ns;     /* 0: taken now */
	uint32_t flags;               /* VAS_FRAME_F_* */
};

struct vas_export_writer;

/* Create "/vas.<camera_id>" (replacing a stale object left by a crashed run),
 * size it for cfg->slot_count frames of max_width x max_height, map and
 * pre-fault it. Returns 0 or a negative errno. */
int vas_export_writer_open(struct vas_export_writer **out, const struct vas_export_writer_config *cfg);

/* Mark the object retired, unmap and unlink it; sets *w to NULL. Safe on NULL. */
void vas_export_writer_close(struct vas_export_writer **w);

/* Copy one frame into the next slot under the seqlock and publish it. Returns the
 * new seq (> 0) or a negative errno. A frame of a different size than the last
 * bumps the generation (and sets VAS_FRAME_F_DISCONTINUITY); a frame larger than
 * the capacity recreates the object with a new generation first. */
int64_t vas_export_writer_publish(struct vas_export_writer *w, const struct vas_frame_src *src);

/* Record frames dropped upstream (the Phase 1 ring) in the header, for readers. */
void vas_export_writer_add_dropped(struct vas_export_writer *w, uint64_t n);

/* Refresh header.heartbeat_ns without publishing (the exporter calls this while
 * its camera is reconnecting, so readers can tell "stalled" from "gone"). */
void vas_export_writer_tick(struct vas_export_writer *w);

uint64_t vas_export_writer_generation(const struct vas_export_writer *w);
const char *vas_export_writer_shm_name(const struct vas_export_writer *w);

#ifdef __cplusplus
}
#endif
#endif

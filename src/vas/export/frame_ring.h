/* frame_ring.h: Phase 1, the bounded per-camera ring of decoded frames.
 *
 * The decode thread pushes references (av_frame_ref: no pixel copy) to the
 * frames it decodes; the camera's exporter thread pops them. The ring holds at
 * most `capacity` frames. Pushing never blocks and never waits on a consumer:
 * when the ring is full the OLDEST frame is dropped (its reference released)
 * and counted, so the newest frames are always the ones kept.
 *
 * Consumers see frames read-only: a popped AVFrame shares its buffers with the
 * decoder (reference counted); writing into them is forbidden.
 *
 * Synchronisation. One mutex protects the ring's indices and the AVFrame
 * structs in it. Inside the mutex each side only moves frame structs
 * (av_frame_move_ref, a struct copy) and adjusts counters: O(1), no
 * allocation, no free, no system call. Reference counting work
 * (av_frame_ref, av_frame_unref, which may return buffers to the decoder's
 * pool) happens outside the mutex. A consumer never holds the mutex while it
 * converts or publishes a frame, so the producer can at worst wait for another
 * thread's O(1) critical section; it never waits for a consumer to make
 * progress, and the ring being full never stalls it (it evicts instead).
 * The condition variable is only waited on by consumers.
 *
 * Thread safety: one producer thread (push) at a time, any number of consumer
 * threads (pop). new/free are not concurrent with anything else. */
#ifndef VAS_FRAME_RING_H
#define VAS_FRAME_RING_H

#include <stdint.h>

#include <libavutil/frame.h>

#define VAS_FRAME_RING_MAX 1024u

struct vas_frame_ring;

/* Per-frame data travelling with the reference. */
struct vas_frame_ring_item {
	AVFrame *frame;               /* owned by the caller of pop: av_frame_free it or reuse */
	uint64_t frame_number;
	uint32_t flags;               /* VAS_FRAME_F_* as given to push */
	uint64_t capture_realtime_ns; /* taken at push: when the frame left the decoder */
	uint64_t capture_mono_ns;
};

struct vas_frame_ring_stats {
	uint64_t pushed;  /* frames accepted by push */
	uint64_t popped;  /* frames handed to consumers */
	uint64_t dropped; /* oldest frames evicted because the ring was full */
	uint32_t depth;   /* frames in the ring now */
};

/* capacity: 1..VAS_FRAME_RING_MAX. Allocates every AVFrame struct the ring will
 * use (capacity + 1); nothing is allocated per frame except what av_frame_ref
 * itself allocates for buffer references. Returns 0, -EINVAL or -ENOMEM. */
int vas_frame_ring_new(struct vas_frame_ring **out, uint32_t capacity);

/* Releases every frame still inside; sets *ring to NULL. Safe on NULL. Must not
 * race with push or pop (stop the threads first). */
void vas_frame_ring_free(struct vas_frame_ring **ring);

/* Producer side. Takes a new reference to src (no pixel copy). Returns 0, 1
 * when the oldest frame was evicted to make room, or a negative AVERROR from
 * av_frame_ref (the frame is then not queued and not counted as pushed). */
int vas_frame_ring_push(struct vas_frame_ring *ring, const AVFrame *src, uint64_t frame_number,
			uint32_t flags);

/* Consumer side. Waits up to timeout_ms (0: do not wait) for a frame and moves
 * the oldest one into item->frame, which must be an allocated, unreferenced
 * AVFrame (av_frame_alloc, or av_frame_unref after the previous use). Returns
 * 0, -ETIMEDOUT, or -ESHUTDOWN once vas_frame_ring_close was called and the
 * ring is empty. */
int vas_frame_ring_pop(struct vas_frame_ring *ring, struct vas_frame_ring_item *item, int timeout_ms);

/* Wakes every waiting consumer; later pops return what is left, then
 * -ESHUTDOWN. Pushes after close are still accepted (and dropped at free). */
void vas_frame_ring_close(struct vas_frame_ring *ring);

void vas_frame_ring_stats(struct vas_frame_ring *ring, struct vas_frame_ring_stats *st);

#endif

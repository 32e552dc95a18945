/* vas/frame_export.h: the Phase 2 frame export ABI and its reader library.
 *
 * vasd exports each camera's decoded frames as NV12 into one POSIX shared
 * memory object, "/vas.<camera_id>". vasd is the only writer: it creates the
 * object (mode 0640), writes it, and unlinks it on clean exit. Readers (Ruth AI
 * Core, model runtimes, vas-frame-dump) open it O_RDONLY and map it PROT_READ;
 * nothing a reader does can change what other readers or the writer see.
 *
 * Layout (all fields little-endian, fixed width, no pointers; offsets are
 * pinned by _Static_assert below and documented in docs/frame-export.md):
 *
 *   offset 0                      struct vas_export_header   (256 bytes)
 *   offset slots_offset           slot 0: struct vas_export_slot (128 bytes),
 *                                         then NV12 data at slot + data_offset
 *   offset slots_offset + k*slot_stride  slot k
 *
 * Sequence numbers. Every published frame gets the next export sequence number
 * seq = 1, 2, 3, ... (0 means "none"). Frame seq lives in slot (seq - 1) %
 * slot_count. header.newest_seq is the newest published seq.
 *
 * Seqlock, per slot. slot.lock is the only synchronisation between the writer
 * and readers, and the writer never waits:
 *   writer: store lock = 2*seq - 1 (odd: being written), release fence,
 *           write meta and pixels, store-release lock = 2*seq (even: stable
 *           and holding frame seq), then store-release header.newest_seq = seq.
 *   reader: L1 = load-acquire lock; if L1 != 2*seq the frame is gone (stale)
 *           or not yet there; read meta and pixels; acquire fence;
 *           L2 = load lock; L1 == L2 means the bytes read are exactly frame seq.
 * A reader that loses the race reports VAS_EXPORT_ESTALE and never retries in
 * a loop: the caller asks for the newest frame again if it wants one.
 *
 * Generations. header.generation identifies one continuous run of geometry in
 * one object. It is set from the wall clock when the object is created (so it
 * differs across vasd restarts) and incremented when the geometry changes.
 * Each slot records the generation it was written under. A reader holding a
 * frame reference (camera, generation, seq) can tell whether it still means
 * the same frame. When a frame no longer fits the object (larger than the
 * capacity set at creation), vasd marks the old header VAS_EXPORT_F_RETIRED,
 * unlinks it and creates a new object with a new generation; readers see the
 * flag (or a changed inode) through vas_export_reader_check() and reopen.
 *
 * Thread safety of this library: a struct vas_export_reader may be used by one
 * thread at a time; use one reader per thread, or lock. The mapping is
 * read-only, so any number of readers in any number of processes coexist.
 */
#ifndef VAS_FRAME_EXPORT_H
#define VAS_FRAME_EXPORT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VAS_EXPORT_MAGIC 0x58534156u /* "VASX" read as little-endian bytes */
#define VAS_EXPORT_VERSION 1u
#define VAS_EXPORT_HEADER_SIZE 256u
#define VAS_EXPORT_SLOT_HEADER_SIZE 128u
#define VAS_EXPORT_MAX_SLOTS 64u
#define VAS_EXPORT_CAMERA_ID_MAX 48u /* including the NUL */
#define VAS_EXPORT_SHM_PREFIX "/vas."

/* Pixel formats. Only NV12 is exported in Phase 2. */
#define VAS_PIXFMT_NV12 1u

/* header.flags */
#define VAS_EXPORT_F_RETIRED (1u << 0) /* object replaced or writer gone; reopen */

/* slot.flags */
#define VAS_FRAME_F_KEYFRAME (1u << 0)
#define VAS_FRAME_F_CORRUPT (1u << 1)       /* decoder flagged the frame as corrupt */
#define VAS_FRAME_F_DISCONTINUITY (1u << 2) /* first frame after a reconnect or geometry change */

/* Error codes of this library: negative, outside errno's range. */
#define VAS_EXPORT_ESTALE (-0x5601)      /* the frame was overwritten during or before the read */
#define VAS_EXPORT_ENOFRAME (-0x5602)    /* no such frame yet (seq beyond newest, or none published) */
#define VAS_EXPORT_EGENERATION (-0x5603) /* object retired or generation changed: reopen */
#define VAS_EXPORT_EBADHEADER (-0x5604)  /* magic, version or sizes do not match this ABI */
#define VAS_EXPORT_ETOOSMALL (-0x5605)   /* destination buffer too small */

struct vas_export_header {
	uint32_t magic;            /* VAS_EXPORT_MAGIC */
	uint16_t version;          /* VAS_EXPORT_VERSION */
	uint16_t header_size;      /* sizeof(struct vas_export_header) */
	uint32_t slot_header_size; /* sizeof(struct vas_export_slot) */
	uint32_t slot_count;       /* 1..VAS_EXPORT_MAX_SLOTS */
	uint64_t slots_offset;     /* offset of slot 0 from the start of the object */
	uint64_t slot_stride;      /* bytes between consecutive slots (page multiple) */
	uint64_t total_size;       /* size of the whole object */
	uint32_t data_offset;      /* offset of the NV12 bytes from the start of a slot */
	uint32_t data_capacity;    /* bytes of NV12 data a slot can hold */
	uint32_t max_width;        /* capacity geometry the object was sized for */
	uint32_t max_height;
	uint32_t pixfmt;           /* VAS_PIXFMT_NV12 */
	_Atomic uint32_t flags;    /* VAS_EXPORT_F_* */
	_Atomic uint64_t generation;   /* see "Generations" above */
	_Atomic uint64_t newest_seq;   /* newest published seq, 0 = none yet */
	_Atomic uint64_t heartbeat_ns; /* CLOCK_MONOTONIC of the last publish or writer tick */
	uint64_t created_realtime_ns;  /* CLOCK_REALTIME at creation */
	int32_t writer_pid;
	uint32_t reserved0;
	_Atomic uint64_t frames_dropped; /* frames the Phase 1 ring dropped before export */
	char camera_id[VAS_EXPORT_CAMERA_ID_MAX];
	uint8_t reserved[256 - 160];
};

struct vas_export_slot {
	_Atomic uint64_t lock;        /* seqlock: 2*seq-1 while writing, 2*seq when stable */
	uint64_t generation;          /* header generation the frame was written under */
	uint64_t frame_number;        /* decoded frames of this camera since vasd start */
	int64_t pts_us;               /* presentation time in microseconds, INT64_MIN if none */
	uint64_t capture_realtime_ns; /* CLOCK_REALTIME when the frame left the decoder */
	uint64_t capture_mono_ns;     /* CLOCK_MONOTONIC when the frame left the decoder */
	uint32_t width;               /* luma width in pixels */
	uint32_t height;              /* luma height in pixels */
	uint32_t stride_y;            /* bytes per luma row */
	uint32_t stride_uv;           /* bytes per interleaved chroma row */
	uint32_t offset_uv;           /* offset of the UV plane from the Y plane */
	uint32_t data_size;           /* bytes of NV12 data: stride_y*height + stride_uv*((height+1)/2) */
	uint32_t flags;               /* VAS_FRAME_F_* */
	uint32_t pixfmt;              /* VAS_PIXFMT_NV12 */
	uint8_t reserved[128 - 80];
};

_Static_assert(sizeof(struct vas_export_header) == VAS_EXPORT_HEADER_SIZE, "header size is ABI");
_Static_assert(offsetof(struct vas_export_header, slots_offset) == 16, "ABI");
_Static_assert(offsetof(struct vas_export_header, data_offset) == 40, "ABI");
_Static_assert(offsetof(struct vas_export_header, flags) == 60, "ABI");
_Static_assert(offsetof(struct vas_export_header, generation) == 64, "ABI");
_Static_assert(offsetof(struct vas_export_header, newest_seq) == 72, "ABI");
_Static_assert(offsetof(struct vas_export_header, heartbeat_ns) == 80, "ABI");
_Static_assert(offsetof(struct vas_export_header, writer_pid) == 96, "ABI");
_Static_assert(offsetof(struct vas_export_header, frames_dropped) == 104, "ABI");
_Static_assert(offsetof(struct vas_export_header, camera_id) == 112, "ABI");
_Static_assert(sizeof(struct vas_export_slot) == VAS_EXPORT_SLOT_HEADER_SIZE, "slot header size is ABI");
_Static_assert(offsetof(struct vas_export_slot, generation) == 8, "ABI");
_Static_assert(offsetof(struct vas_export_slot, pts_us) == 24, "ABI");
_Static_assert(offsetof(struct vas_export_slot, width) == 48, "ABI");
_Static_assert(offsetof(struct vas_export_slot, flags) == 72, "ABI");
_Static_assert(sizeof(_Atomic uint64_t) == 8 && sizeof(_Atomic uint32_t) == 4, "atomics are plain words");

/* ---------------------------------------------------------------- reader */

/* A copy of one slot's metadata, taken inside a seqlock read. */
struct vas_frame_meta {
	uint64_t seq;
	uint64_t generation;
	uint64_t frame_number;
	int64_t pts_us;
	uint64_t capture_realtime_ns;
	uint64_t capture_mono_ns;
	uint32_t width, height;
	uint32_t stride_y, stride_uv;
	uint32_t data_size;
	uint32_t flags;
};

/* A zero-copy view of one frame inside the read-only mapping. The pointers stay
 * valid until the reader is closed or reopened, but the bytes may be overwritten
 * by the writer at any time: read what you need, then call
 * vas_export_reader_validate(); only if it returns 0 were the bytes you read
 * exactly those of frame meta.seq. */
struct vas_frame_view {
	struct vas_frame_meta meta;
	const uint8_t *y;  /* meta.height rows of meta.stride_y bytes */
	const uint8_t *uv; /* (meta.height+1)/2 rows of meta.stride_uv bytes, U and V interleaved */
};

/* Snapshot of the header, for status displays and agents' state machines. */
struct vas_export_info {
	char camera_id[VAS_EXPORT_CAMERA_ID_MAX];
	uint64_t generation;
	uint64_t newest_seq;
	uint64_t heartbeat_ns;       /* CLOCK_MONOTONIC; compare with now to detect a stalled writer */
	uint64_t frames_dropped;
	uint32_t slot_count;
	uint32_t max_width, max_height;
	uint32_t flags;
	int32_t writer_pid;
	uint64_t total_size;
};

struct vas_export_reader;

/* Open the export of `camera_id` (shm "/vas.<camera_id>") read-only and map it
 * once; the mapping is pre-faulted so later reads do not take page faults.
 * Returns 0, -ENOENT when vasd does not export that camera (yet),
 * VAS_EXPORT_EBADHEADER when the object is not a compatible export, or another
 * negative errno. */
int vas_export_reader_open(struct vas_export_reader **out, const char *camera_id);

/* Unmap and free; sets *r to NULL. Safe on NULL. */
void vas_export_reader_close(struct vas_export_reader **r);

/* 0 while the mapping is still the live export; VAS_EXPORT_EGENERATION when the
 * object was retired or replaced (the caller closes and reopens). Cheap: one
 * atomic load and, at most once per 100 ms, an fstat/stat comparison. */
int vas_export_reader_check(struct vas_export_reader *r);

/* vas_export_reader_check() for a caller that holds a reference naming
 * `generation` (an inference request): when the mapped object is not retired
 * and carries that generation, it is the object the reference names and the
 * name -> inode comparison is skipped (no syscall). A new object's generation
 * is the wall clock in ns at its creation, above the one it replaces (see
 * next_generation() in frame_export.c), so a replaced object shows up as a
 * different generation; then, or with generation 0 (unknown), this is
 * vas_export_reader_check(). */
int vas_export_reader_check_generation(struct vas_export_reader *r, uint64_t generation);

int vas_export_reader_info(const struct vas_export_reader *r, struct vas_export_info *info);

/* Newest published seq, 0 when none. */
uint64_t vas_export_reader_newest(const struct vas_export_reader *r);

/* Zero-copy access to frame `seq`. Returns 0 with *view filled,
 * VAS_EXPORT_ENOFRAME when seq is 0 or beyond the newest, VAS_EXPORT_ESTALE when
 * the slot no longer holds seq (overwritten) or is being written. */
int vas_export_reader_peek(struct vas_export_reader *r, uint64_t seq, struct vas_frame_view *view);

/* After reading through a view: 0 when the slot still holds view->meta.seq
 * unchanged (the bytes read are good), VAS_EXPORT_ESTALE otherwise. */
int vas_export_reader_validate(const struct vas_export_reader *r, const struct vas_frame_view *view);

/* Copy frame `seq` as tightly packed NV12 (Y rows of width bytes, then UV rows of
 * width bytes) into dst, validated. Needs cap >= width*height*3/2 (rounded up
 * for odd heights), else VAS_EXPORT_ETOOSMALL. Same errors as peek, plus
 * VAS_EXPORT_ESTALE when the frame changed during the copy. */
int vas_export_reader_copy(struct vas_export_reader *r, uint64_t seq, void *dst, size_t cap,
			   struct vas_frame_meta *meta);

/* Human-readable text for this library's codes and negative errnos. */
const char *vas_export_strerror(int err);

/* The camera id rule, [A-Za-z0-9_.-]{1,47}: the id becomes the shm name, so
 * every configuration that names a camera (vasd's, ruth-ai-core's) checks it
 * with this one function. Header-only so config parsers need not link the
 * export library. */
static inline int vas_export_camera_id_valid(const char *id)
{
	size_t n = 0;
	if (!id)
		return 0;
	for (; id[n]; n++) {
		char c = id[n];
		if (n + 1 >= VAS_EXPORT_CAMERA_ID_MAX ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '-' || c == '.'))
			return 0;
	}
	return n > 0;
}

/* "/vas.<camera_id>" into buf; -EINVAL when vas_export_camera_id_valid() rejects
 * the id, -ENAMETOOLONG when buf is too small. */
int vas_export_shm_name(char *buf, size_t cap, const char *camera_id);

#ifdef __cplusplus
}
#endif
#endif

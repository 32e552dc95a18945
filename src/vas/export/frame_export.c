/* frame_export.c: the Phase 2 frame export, writer and reader.
 *
 * The ABI, the seqlock protocol and the meaning of generations are specified in
 * include/vas/frame_export.h and docs/frame-export.md; this file implements them.
 *
 * Memory ordering in one place (both sides use C11 <stdatomic.h>):
 *   writer, per frame seq in slot s:
 *     store_relaxed(s.lock, 2*seq-1)       odd: readers that load it give up
 *     fence(release)                       orders the odd store before every
 *                                          meta/pixel store below
 *     meta + pixels (plain stores)
 *     store_release(s.lock, 2*seq)         publishes the bytes with the even value
 *     store_release(hdr.newest_seq, seq)   readers that see seq find lock >= 2*seq
 *   reader:
 *     L1 = load_acquire(s.lock)            pairs with the writer's even release store
 *     meta + pixels (plain loads)
 *     fence(acquire)                       keeps those loads before the reload
 *     L2 = load_relaxed(s.lock)
 *     L1 == L2 == 2*seq: the bytes are exactly frame seq. If the writer had begun
 *     to overwrite the slot while we read, its odd store would be ordered (by its
 *     release fence and our acquire fence) before any of its new bytes we could
 *     have seen, so L2 would differ.
 * The pixel accesses are plain (not atomic) loads and stores racing by design:
 * the seqlock discards any read that overlapped a write, which is the standard
 * seqlock contract (Boehm, "Can seqlocks get along with programming language
 * memory models?", 2012). On x86-64 both fences compile to compiler barriers.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "clock.h"
#include "log.h"
#include "vas/frame_export.h"
#include "vas/frame_writer.h"

/* Every offset docs/frame-export.md promises, beyond those the public header
 * pins already: a layout change fails the build here, not in a reader. */
_Static_assert(offsetof(struct vas_export_header, version) == 4, "ABI");
_Static_assert(offsetof(struct vas_export_header, header_size) == 6, "ABI");
_Static_assert(offsetof(struct vas_export_header, slot_header_size) == 8, "ABI");
_Static_assert(offsetof(struct vas_export_header, slot_count) == 12, "ABI");
_Static_assert(offsetof(struct vas_export_header, slot_stride) == 24, "ABI");
_Static_assert(offsetof(struct vas_export_header, total_size) == 32, "ABI");
_Static_assert(offsetof(struct vas_export_header, data_capacity) == 44, "ABI");
_Static_assert(offsetof(struct vas_export_header, max_width) == 48, "ABI");
_Static_assert(offsetof(struct vas_export_header, max_height) == 52, "ABI");
_Static_assert(offsetof(struct vas_export_header, pixfmt) == 56, "ABI");
_Static_assert(offsetof(struct vas_export_header, created_realtime_ns) == 88, "ABI");
_Static_assert(offsetof(struct vas_export_header, reserved0) == 100, "ABI");
_Static_assert(offsetof(struct vas_export_header, reserved) == 160, "ABI");
_Static_assert(offsetof(struct vas_export_slot, lock) == 0, "ABI");
_Static_assert(offsetof(struct vas_export_slot, frame_number) == 16, "ABI");
_Static_assert(offsetof(struct vas_export_slot, capture_realtime_ns) == 32, "ABI");
_Static_assert(offsetof(struct vas_export_slot, capture_mono_ns) == 40, "ABI");
_Static_assert(offsetof(struct vas_export_slot, height) == 52, "ABI");
_Static_assert(offsetof(struct vas_export_slot, stride_y) == 56, "ABI");
_Static_assert(offsetof(struct vas_export_slot, stride_uv) == 60, "ABI");
_Static_assert(offsetof(struct vas_export_slot, offset_uv) == 64, "ABI");
_Static_assert(offsetof(struct vas_export_slot, data_size) == 68, "ABI");
_Static_assert(offsetof(struct vas_export_slot, pixfmt) == 76, "ABI");
_Static_assert(offsetof(struct vas_export_slot, reserved) == 80, "ABI");
/* The seqlock words must be lock-free, or a crashed writer could leave a
 * hidden lock behind in shared memory. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2 && ATOMIC_INT_LOCK_FREE == 2, "lock-free atomics");

#define VAS_SHM_DIR "/dev/shm"
#define VAS_SHM_NAME_MAX (sizeof(VAS_EXPORT_SHM_PREFIX) + VAS_EXPORT_CAMERA_ID_MAX)
/* Rows start on cache-line boundaries so row copies use aligned stores. */
#define VAS_ROW_ALIGN 64u
/* The first slot starts on its own page, after the header page. */
#define VAS_SLOTS_OFFSET 4096u
/* Pixels start right after the 128-byte slot header (64-byte aligned). */
#define VAS_DATA_OFFSET VAS_EXPORT_SLOT_HEADER_SIZE
#define VAS_CHECK_INTERVAL_NS (100u * 1000u * 1000u)

static size_t page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);
	return p > 0 ? (size_t)p : 4096u;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* Row stride used for both planes: the UV row of an odd width needs width+1
 * bytes, which align_up(width, 64) always covers. */
static uint32_t vas_row_stride(uint32_t width)
{
	return (uint32_t)align_up(width, VAS_ROW_ALIGN);
}

static uint64_t vas_nv12_size(uint32_t width, uint32_t height)
{
	uint64_t stride = vas_row_stride(width);
	return stride * height + stride * ((height + 1u) / 2u);
}

int vas_export_shm_name(char *buf, size_t cap, const char *camera_id)
{
	if (!vas_export_camera_id_valid(camera_id))
		return -EINVAL;
	int w = snprintf(buf, cap, "%s%s", VAS_EXPORT_SHM_PREFIX, camera_id);
	if (w < 0 || (size_t)w >= cap)
		return -ENAMETOOLONG;
	return 0;
}

const char *vas_export_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case VAS_EXPORT_ESTALE:
		return "frame was overwritten before or during the read (stale)";
	case VAS_EXPORT_ENOFRAME:
		return "no such frame (none published yet, or seq beyond the newest)";
	case VAS_EXPORT_EGENERATION:
		return "export retired or replaced (reopen it)";
	case VAS_EXPORT_EBADHEADER:
		return "shared memory object is not a compatible frame export";
	case VAS_EXPORT_ETOOSMALL:
		return "destination buffer too small";
	default:
		break;
	}
	if (err < 0 && err > -4096) {
		const char *s = strerrordesc_np(-err);
		if (s)
			return s;
	}
	return "unknown error";
}

/* ================================================================= writer */

struct vas_export_writer {
	struct klog_ctx log;
	char camera_id[VAS_EXPORT_CAMERA_ID_MAX];
	char shm_name[VAS_SHM_NAME_MAX];
	uint32_t slot_count;
	uint32_t max_width, max_height; /* capacity of the current object */
	mode_t mode;
	gid_t gid; /* (gid_t)-1: keep the creator's group */

	/* The current mapping; NULL after a failed recreate (the next publish retries). */
	uint8_t *base;
	size_t size;
	struct vas_export_header *hdr;
	dev_t dev; /* identity of our object, so retiring never unlinks a successor's */
	ino_t ino;

	/* Writer-private state: only the one writing thread touches it. */
	uint64_t seq;                   /* last published seq, continues across recreation */
	uint64_t generation;            /* mirrors hdr->generation */
	uint32_t last_width, last_height; /* geometry of the last published frame, 0 = none */
	uint64_t dropped_total;         /* carried into a recreated object */
};

static struct vas_export_slot *writer_slot(struct vas_export_writer *w, uint64_t seq)
{
	uint64_t idx = (seq - 1) % w->slot_count;
	return (struct vas_export_slot *)(w->base + w->hdr->slots_offset + idx * w->hdr->slot_stride);
}

/* An object already exists under our name: a crashed vasd left it, or another
 * writer still runs. Mark it retired (its readers reopen and find ours), log
 * who wrote it, and unlink it. */
static void writer_replace_stale(struct vas_export_writer *w)
{
	int fd = shm_open(w->shm_name, O_RDWR, 0);
	if (fd >= 0) {
		struct stat st;
		if (fstat(fd, &st) == 0 && st.st_size >= (off_t)VAS_EXPORT_HEADER_SIZE) {
			void *p = mmap(NULL, VAS_EXPORT_HEADER_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (p != MAP_FAILED) {
				struct vas_export_header *old = p;
				if (__atomic_load_n(&old->magic, __ATOMIC_ACQUIRE) == VAS_EXPORT_MAGIC) {
					int pid = old->writer_pid;
					int alive = pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
					atomic_fetch_or_explicit(&old->flags, VAS_EXPORT_F_RETIRED,
								 memory_order_release);
					KLOG_WARN(&w->log,
						  "replacing stale export %s left by writer pid %d (%s)",
						  w->shm_name, pid, alive ? "still alive" : "gone");
				} else {
					KLOG_WARN(&w->log, "replacing %s: not a frame export (%lld bytes)",
						  w->shm_name, (long long)st.st_size);
				}
				munmap(p, VAS_EXPORT_HEADER_SIZE);
			}
		} else {
			KLOG_WARN(&w->log, "replacing stale %s (truncated object)", w->shm_name);
		}
		close(fd);
	} else {
		KLOG_WARN(&w->log, "replacing stale %s (%s)", w->shm_name, strerror(errno));
	}
	if (shm_unlink(w->shm_name) != 0 && errno != ENOENT)
		KLOG_WARN(&w->log, "shm_unlink %s: %s", w->shm_name, strerror(errno));
}

/* Create, size, map and pre-fault a fresh object for the current capacity and
 * fill its header. On success w->base/size/hdr describe it. */
static int writer_create(struct vas_export_writer *w, uint64_t generation)
{
	const size_t page = page_size();
	uint64_t capacity = vas_nv12_size(w->max_width, w->max_height);
	uint64_t stride = align_up(VAS_DATA_OFFSET + capacity, page);
	uint64_t slots_offset = align_up(VAS_SLOTS_OFFSET, page);
	uint64_t total = slots_offset + stride * w->slot_count;
	int fd = -1, err;

	if (capacity > UINT32_MAX || total > (uint64_t)SSIZE_MAX) {
		KLOG_ERR(&w->log, "export capacity %ux%u is too large", w->max_width, w->max_height);
		return -EFBIG;
	}

	/* O_EXCL: the object we map is one we created, never a stale one reused.
	 * Bounded: another process racing us for the name makes us fail, not spin. */
	err = -EEXIST;
	for (int attempt = 0; attempt < 3 && fd < 0; attempt++) {
		fd = shm_open(w->shm_name, O_RDWR | O_CREAT | O_EXCL, w->mode);
		if (fd >= 0)
			break;
		err = -errno;
		if (err != -EEXIST)
			break;
		writer_replace_stale(w);
	}
	if (fd < 0) {
		KLOG_ERR(&w->log, "shm_open %s: %s", w->shm_name, strerror(-err));
		return err;
	}
	/* The umask applied to shm_open's mode; the mode is part of the contract. */
	if (fchmod(fd, w->mode) != 0) {
		err = -errno;
		KLOG_ERR(&w->log, "fchmod %s: %s", w->shm_name, strerror(errno));
		goto unlink;
	}
	if (w->gid != (gid_t)-1 && fchown(fd, (uid_t)-1, w->gid) != 0) {
		err = -errno;
		KLOG_ERR(&w->log, "fchown %s to gid %u: %s", w->shm_name, (unsigned)w->gid, strerror(errno));
		goto unlink;
	}
	if (ftruncate(fd, (off_t)total) != 0) {
		err = -errno;
		KLOG_ERR(&w->log, "ftruncate %s to %" PRIu64 " bytes: %s", w->shm_name, total, strerror(errno));
		goto unlink;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		err = -errno;
		KLOG_ERR(&w->log, "fstat %s: %s", w->shm_name, strerror(errno));
		goto unlink;
	}
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	void *p = mmap(NULL, (size_t)total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		KLOG_ERR(&w->log, "mmap %s: %s", w->shm_name, strerror(errno));
		goto unlink;
	}
	close(fd);
	fd = -1;

	/* Pre-fault: a first touch costs about 10 ms per 3 MB here (DESIGN.md), so
	 * every page is written once now instead of in the middle of a publish.
	 * The object is fresh (all zero), so writing 0 changes nothing. */
	uint8_t *base = p;
	for (uint64_t off = 0; off < total; off += page)
		((volatile uint8_t *)base)[off] = 0;

	struct vas_export_header *h = p;
	h->version = VAS_EXPORT_VERSION;
	h->header_size = VAS_EXPORT_HEADER_SIZE;
	h->slot_header_size = VAS_EXPORT_SLOT_HEADER_SIZE;
	h->slot_count = w->slot_count;
	h->slots_offset = slots_offset;
	h->slot_stride = stride;
	h->total_size = total;
	h->data_offset = VAS_DATA_OFFSET;
	h->data_capacity = (uint32_t)capacity;
	h->max_width = w->max_width;
	h->max_height = w->max_height;
	h->pixfmt = VAS_PIXFMT_NV12;
	atomic_store_explicit(&h->flags, 0, memory_order_relaxed);
	atomic_store_explicit(&h->generation, generation, memory_order_relaxed);
	/* Seqs continue across a recreation; the new object holds none of the old
	 * frames, so newest_seq starts at the last seq published (its slot reads as
	 * stale) and readers never see seq numbers go backwards. */
	atomic_store_explicit(&h->newest_seq, w->seq, memory_order_relaxed);
	atomic_store_explicit(&h->heartbeat_ns, kclock_mono_ns(), memory_order_relaxed);
	h->created_realtime_ns = kclock_real_ns();
	h->writer_pid = (int32_t)getpid();
	atomic_store_explicit(&h->frames_dropped, w->dropped_total, memory_order_relaxed);
	memcpy(h->camera_id, w->camera_id, sizeof(h->camera_id));
	/* The magic goes last with release order: a reader that opens the object
	 * while it is being set up sees magic 0 (-EAGAIN), never half a header. */
	__atomic_store_n(&h->magic, VAS_EXPORT_MAGIC, __ATOMIC_RELEASE);

	w->base = base;
	w->size = (size_t)total;
	w->hdr = h;
	w->generation = generation;
	KLOG_INFO(&w->log,
		  "export %s: %u slots of %ux%u NV12, %" PRIu64 " bytes, mode %04o, generation %" PRIu64,
		  w->shm_name, w->slot_count, w->max_width, w->max_height, total, (unsigned)w->mode,
		  generation);
	return 0;

unlink:
	close(fd);
	shm_unlink(w->shm_name);
	return err;
}

/* Retire the current object: flag it (readers holding it reopen), unlink the
 * name, unmap. Used on close and before recreating a larger object. */
static void writer_retire(struct vas_export_writer *w)
{
	if (!w->base)
		return;
	atomic_fetch_or_explicit(&w->hdr->flags, VAS_EXPORT_F_RETIRED, memory_order_release);
	/* Another writer may have replaced our object under the same name (it
	 * found ours "stale"); the name is then its object, not ours. */
	char path[sizeof(VAS_SHM_DIR) + VAS_SHM_NAME_MAX];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", VAS_SHM_DIR, w->shm_name + 1);
	if (stat(path, &st) == 0 && (st.st_ino != w->ino || st.st_dev != w->dev))
		KLOG_WARN(&w->log, "%s now belongs to another writer; leaving it", w->shm_name);
	else if (shm_unlink(w->shm_name) != 0 && errno != ENOENT)
		KLOG_WARN(&w->log, "shm_unlink %s: %s", w->shm_name, strerror(errno));
	munmap(w->base, w->size);
	w->base = NULL;
	w->hdr = NULL;
	w->size = 0;
}

static uint64_t next_generation(uint64_t previous)
{
	uint64_t g = kclock_real_ns();
	return g > previous ? g : previous + 1;
}

int vas_export_writer_open(struct vas_export_writer **out, const struct vas_export_writer_config *cfg)
{
	if (!out || !cfg)
		return -EINVAL;
	*out = NULL;
	char name[VAS_SHM_NAME_MAX];
	if (vas_export_shm_name(name, sizeof(name), cfg->camera_id) < 0)
		return -EINVAL;
	uint32_t slots = cfg->slot_count ? cfg->slot_count : 4u;
	if (slots < 2 || slots > VAS_EXPORT_MAX_SLOTS)
		return -EINVAL;
	if (cfg->max_width == 0 || cfg->max_height == 0 || cfg->max_width > 16384 || cfg->max_height > 16384)
		return -EINVAL;

	struct vas_export_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	klog_ctx_init(&w->log, "vas-export", "cam=%s", cfg->camera_id);
	snprintf(w->camera_id, sizeof(w->camera_id), "%s", cfg->camera_id);
	memcpy(w->shm_name, name, sizeof(w->shm_name));
	w->slot_count = slots;
	w->max_width = cfg->max_width;
	w->max_height = cfg->max_height;
	w->mode = cfg->mode ? cfg->mode : 0640;
	w->gid = (gid_t)-1;
	if (cfg->group && cfg->group[0]) {
		struct group grp, *res = NULL;
		char buf[4096];
		int rc = getgrnam_r(cfg->group, &grp, buf, sizeof(buf), &res);
		if (rc != 0 || !res) {
			KLOG_ERR(&w->log, "export group '%s' does not exist", cfg->group);
			free(w);
			return rc ? -rc : -ENOENT;
		}
		w->gid = grp.gr_gid;
	}
	int err = writer_create(w, next_generation(0));
	if (err < 0) {
		free(w);
		return err;
	}
	*out = w;
	return 0;
}

void vas_export_writer_close(struct vas_export_writer **wp)
{
	if (!wp || !*wp)
		return;
	struct vas_export_writer *w = *wp;
	if (w->base)
		KLOG_INFO(&w->log, "export %s closed after %" PRIu64 " frames", w->shm_name, w->seq);
	writer_retire(w);
	free(w);
	*wp = NULL;
}

/* Interleave one row of planar U and V into NV12's UV row (n pairs). */
static void interleave_uv(uint8_t *dst, const uint8_t *u, const uint8_t *v, uint32_t n)
{
	uint32_t i = 0;
#if defined(__SSE2__)
	for (; i + 16 <= n; i += 16) {
		__m128i a = _mm_loadu_si128((const __m128i *)(u + i));
		__m128i b = _mm_loadu_si128((const __m128i *)(v + i));
		_mm_storeu_si128((__m128i *)(dst + 2 * i), _mm_unpacklo_epi8(a, b));
		_mm_storeu_si128((__m128i *)(dst + 2 * i + 16), _mm_unpackhi_epi8(a, b));
	}
#endif
	for (; i < n; i++) {
		dst[2 * i] = u[i];
		dst[2 * i + 1] = v[i];
	}
}

static void copy_plane(uint8_t *dst, uint32_t dst_stride, const uint8_t *src, int32_t src_stride,
		       uint32_t row_bytes, uint32_t rows)
{
	if (src_stride == (int32_t)dst_stride && row_bytes == dst_stride) {
		memcpy(dst, src, (size_t)row_bytes * rows);
		return;
	}
	for (uint32_t r = 0; r < rows; r++)
		memcpy(dst + (size_t)r * dst_stride, src + (ptrdiff_t)r * src_stride, row_bytes);
}

static int src_valid(const struct vas_frame_src *s)
{
	if (s->width == 0 || s->height == 0 || s->width > 16384 || s->height > 16384)
		return 0;
	uint32_t cw = (s->width + 1) / 2;
	if (s->layout == VAS_SRC_NV12)
		return s->plane[0] && s->plane[1] && s->stride[0] >= (int32_t)s->width &&
		       s->stride[1] >= (int32_t)(2 * cw);
	if (s->layout == VAS_SRC_YUV420P)
		return s->plane[0] && s->plane[1] && s->plane[2] && s->stride[0] >= (int32_t)s->width &&
		       s->stride[1] >= (int32_t)cw && s->stride[2] >= (int32_t)cw;
	return 0;
}

int64_t vas_export_writer_publish(struct vas_export_writer *w, const struct vas_frame_src *src)
{
	if (!w || !src || !src_valid(src))
		return -EINVAL;

	/* A frame beyond the capacity: retire this object and create a larger one
	 * under the same name with a new generation. Readers see RETIRED (or the
	 * new inode) through vas_export_reader_check() and reopen. */
	if (!w->base || src->width > w->max_width || src->height > w->max_height) {
		uint32_t nw = src->width > w->max_width ? src->width : w->max_width;
		uint32_t nh = src->height > w->max_height ? src->height : w->max_height;
		if (w->base)
			KLOG_INFO(&w->log, "frame %ux%u exceeds export capacity %ux%u: recreating %s",
				  src->width, src->height, w->max_width, w->max_height, w->shm_name);
		writer_retire(w);
		w->max_width = nw;
		w->max_height = nh;
		int err = writer_create(w, next_generation(w->generation));
		if (err < 0)
			return err;
		w->last_width = w->last_height = 0;
	}

	struct vas_export_header *h = w->hdr;
	uint32_t flags = src->flags;
	if (w->last_width && (src->width != w->last_width || src->height != w->last_height)) {
		/* Same object, new geometry: a new generation tells reference holders
		 * that (generation, seq) pairs from before do not describe this run. */
		w->generation++;
		atomic_store_explicit(&h->generation, w->generation, memory_order_release);
		flags |= VAS_FRAME_F_DISCONTINUITY;
		KLOG_INFO(&w->log, "geometry %ux%u -> %ux%u: generation %" PRIu64, w->last_width,
			  w->last_height, src->width, src->height, w->generation);
	}
	w->last_width = src->width;
	w->last_height = src->height;

	uint64_t seq = w->seq + 1;
	struct vas_export_slot *slot = writer_slot(w, seq);
	uint32_t stride = vas_row_stride(src->width);
	uint32_t ch = (src->height + 1) / 2;
	uint32_t cw = (src->width + 1) / 2;
	uint32_t offset_uv = stride * src->height;
	uint8_t *y = (uint8_t *)slot + h->data_offset;
	uint8_t *uv = y + offset_uv;

	/* Odd: the slot is being written; readers that load this give up. */
	atomic_store_explicit(&slot->lock, 2 * seq - 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);

	slot->generation = w->generation;
	slot->frame_number = src->frame_number;
	slot->pts_us = src->pts_us;
	slot->capture_realtime_ns = src->capture_realtime_ns ? src->capture_realtime_ns : kclock_real_ns();
	slot->capture_mono_ns = src->capture_mono_ns ? src->capture_mono_ns : kclock_mono_ns();
	slot->width = src->width;
	slot->height = src->height;
	slot->stride_y = stride;
	slot->stride_uv = stride;
	slot->offset_uv = offset_uv;
	slot->data_size = offset_uv + stride * ch;
	slot->flags = flags;
	slot->pixfmt = VAS_PIXFMT_NV12;

	copy_plane(y, stride, src->plane[0], src->stride[0], src->width, src->height);
	if (src->layout == VAS_SRC_NV12) {
		copy_plane(uv, stride, src->plane[1], src->stride[1], 2 * cw, ch);
	} else {
		for (uint32_t r = 0; r < ch; r++)
			interleave_uv(uv + (size_t)r * stride, src->plane[1] + (ptrdiff_t)r * src->stride[1],
				      src->plane[2] + (ptrdiff_t)r * src->stride[2], cw);
	}

	/* Even: stable, holding seq. The release makes every byte above visible to
	 * a reader whose acquire load returns this value. */
	atomic_store_explicit(&slot->lock, 2 * seq, memory_order_release);
	atomic_store_explicit(&h->newest_seq, seq, memory_order_release);
	atomic_store_explicit(&h->heartbeat_ns, kclock_mono_ns(), memory_order_relaxed);
	w->seq = seq;
	return (int64_t)seq;
}

void vas_export_writer_add_dropped(struct vas_export_writer *w, uint64_t n)
{
	if (!w || n == 0)
		return;
	w->dropped_total += n;
	if (w->hdr)
		atomic_store_explicit(&w->hdr->frames_dropped, w->dropped_total, memory_order_relaxed);
}

void vas_export_writer_tick(struct vas_export_writer *w)
{
	if (w && w->hdr)
		atomic_store_explicit(&w->hdr->heartbeat_ns, kclock_mono_ns(), memory_order_relaxed);
}

uint64_t vas_export_writer_generation(const struct vas_export_writer *w)
{
	return w ? w->generation : 0;
}

const char *vas_export_writer_shm_name(const struct vas_export_writer *w)
{
	return w ? w->shm_name : NULL;
}

/* ================================================================= reader */

struct vas_export_reader {
	char camera_id[VAS_EXPORT_CAMERA_ID_MAX];
	char path[sizeof(VAS_SHM_DIR) + VAS_SHM_NAME_MAX];
	const uint8_t *base;
	size_t size;
	const struct vas_export_header *hdr;
	/* Geometry copied from the validated header once: a reader never trusts
	 * header fields again after open, so a later bad write cannot make it read
	 * outside its mapping. */
	uint32_t slot_count;
	uint64_t slots_offset, slot_stride;
	uint32_t data_offset, data_capacity;
	dev_t dev;
	ino_t ino;
	uint64_t last_check_ns;
};

static int header_valid(const struct vas_export_header *h, size_t size)
{
	if (h->version != VAS_EXPORT_VERSION || h->header_size != VAS_EXPORT_HEADER_SIZE ||
	    h->slot_header_size != VAS_EXPORT_SLOT_HEADER_SIZE || h->pixfmt != VAS_PIXFMT_NV12)
		return 0;
	if (h->slot_count < 1 || h->slot_count > VAS_EXPORT_MAX_SLOTS)
		return 0;
	if (h->total_size != size || h->slots_offset < VAS_EXPORT_HEADER_SIZE || h->slots_offset % 8)
		return 0;
	if (h->data_offset < VAS_EXPORT_SLOT_HEADER_SIZE || h->slot_stride % 8 ||
	    (uint64_t)h->data_offset + h->data_capacity > h->slot_stride)
		return 0;
	if (h->slot_stride > size || h->slots_offset > size ||
	    h->slot_count > (size - h->slots_offset) / h->slot_stride)
		return 0;
	return 1;
}

int vas_export_reader_open(struct vas_export_reader **out, const char *camera_id)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	char name[VAS_SHM_NAME_MAX];
	if (vas_export_shm_name(name, sizeof(name), camera_id) < 0)
		return -EINVAL;
	int fd = shm_open(name, O_RDONLY, 0);
	if (fd < 0)
		return -errno;
	int err;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		err = -errno;
		goto fail_fd;
	}
	/* Between the writer's shm_open and ftruncate the object is empty. */
	if (st.st_size < (off_t)VAS_EXPORT_HEADER_SIZE) {
		err = -EAGAIN;
		goto fail_fd;
	}
	size_t size = (size_t)st.st_size;
	/* MAP_POPULATE maps every page now: frames are then read without faults. */
	void *p = mmap(NULL, size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		goto fail_fd;
	}
	close(fd);
	const struct vas_export_header *h = p;
	uint32_t magic = __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE);
	if (magic == 0) {
		err = -EAGAIN; /* still being set up by the writer */
		goto fail_map;
	}
	if (magic != VAS_EXPORT_MAGIC || !header_valid(h, size)) {
		err = VAS_EXPORT_EBADHEADER;
		goto fail_map;
	}
	struct vas_export_reader *r = calloc(1, sizeof(*r));
	if (!r) {
		err = -ENOMEM;
		goto fail_map;
	}
	/* Touch every page too, in case MAP_POPULATE was cut short. */
	const size_t page = page_size();
	for (size_t off = 0; off < size; off += page)
		(void)((const volatile uint8_t *)p)[off];
	snprintf(r->camera_id, sizeof(r->camera_id), "%s", camera_id);
	snprintf(r->path, sizeof(r->path), "%s/%s", VAS_SHM_DIR, name + 1);
	r->base = p;
	r->size = size;
	r->hdr = h;
	r->slot_count = h->slot_count;
	r->slots_offset = h->slots_offset;
	r->slot_stride = h->slot_stride;
	r->data_offset = h->data_offset;
	r->data_capacity = h->data_capacity;
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	r->last_check_ns = kclock_mono_ns();
	*out = r;
	return 0;

fail_map:
	munmap(p, size);
	return err;
fail_fd:
	close(fd);
	return err;
}

void vas_export_reader_close(struct vas_export_reader **rp)
{
	if (!rp || !*rp)
		return;
	munmap((void *)(*rp)->base, (*rp)->size);
	free(*rp);
	*rp = NULL;
}

int vas_export_reader_check(struct vas_export_reader *r)
{
	if (!r)
		return -EINVAL;
	if (atomic_load_explicit(&r->hdr->flags, memory_order_acquire) & VAS_EXPORT_F_RETIRED)
		return VAS_EXPORT_EGENERATION;
	uint64_t now = kclock_mono_ns();
	if (now - r->last_check_ns < VAS_CHECK_INTERVAL_NS)
		return 0;
	r->last_check_ns = now;
	/* A writer killed with SIGKILL cannot set RETIRED; its successor does (see
	 * writer_replace_stale), and the name then points at another inode. */
	struct stat st;
	if (stat(r->path, &st) != 0 || st.st_ino != r->ino || st.st_dev != r->dev)
		return VAS_EXPORT_EGENERATION;
	return 0;
}

int vas_export_reader_check_generation(struct vas_export_reader *r, uint64_t generation)
{
	if (!r)
		return -EINVAL;
	if (generation && !(atomic_load_explicit(&r->hdr->flags, memory_order_acquire) & VAS_EXPORT_F_RETIRED) &&
	    atomic_load_explicit(&r->hdr->generation, memory_order_acquire) == generation)
		return 0;
	return vas_export_reader_check(r);
}

int vas_export_reader_info(const struct vas_export_reader *r, struct vas_export_info *info)
{
	if (!r || !info)
		return -EINVAL;
	const struct vas_export_header *h = r->hdr;
	memset(info, 0, sizeof(*info));
	memcpy(info->camera_id, r->camera_id, sizeof(info->camera_id));
	info->generation = atomic_load_explicit(&h->generation, memory_order_acquire);
	info->newest_seq = atomic_load_explicit(&h->newest_seq, memory_order_acquire);
	info->heartbeat_ns = atomic_load_explicit(&h->heartbeat_ns, memory_order_relaxed);
	info->frames_dropped = atomic_load_explicit(&h->frames_dropped, memory_order_relaxed);
	info->flags = atomic_load_explicit(&h->flags, memory_order_acquire);
	info->slot_count = r->slot_count;
	info->max_width = h->max_width;
	info->max_height = h->max_height;
	info->writer_pid = h->writer_pid;
	info->total_size = r->size;
	return 0;
}

uint64_t vas_export_reader_newest(const struct vas_export_reader *r)
{
	return r ? atomic_load_explicit(&r->hdr->newest_seq, memory_order_acquire) : 0;
}

static const struct vas_export_slot *reader_slot(const struct vas_export_reader *r, uint64_t seq)
{
	uint64_t idx = (seq - 1) % r->slot_count;
	return (const struct vas_export_slot *)(r->base + r->slots_offset + idx * r->slot_stride);
}

/* Read the slot's metadata for `seq` inside the seqlock: 0 with *meta filled and
 * *lock_out the value the data read must be validated against. The geometry is
 * checked against this reader's own copy of the capacity, so even a corrupt
 * writer cannot make the caller read outside the mapping. */
static int read_meta(const struct vas_export_reader *r, uint64_t seq, const struct vas_export_slot **slot_out,
		     struct vas_frame_meta *meta, uint32_t *offset_uv, uint64_t *lock_out)
{
	if (seq == 0 || seq > vas_export_reader_newest(r))
		return VAS_EXPORT_ENOFRAME;
	const struct vas_export_slot *s = reader_slot(r, seq);
	/* Casting away const is only for the atomic load API; nothing is written. */
	_Atomic uint64_t *lock = (_Atomic uint64_t *)&s->lock;
	uint64_t l1 = atomic_load_explicit(lock, memory_order_acquire);
	if (l1 != 2 * seq)
		return VAS_EXPORT_ESTALE;
	meta->seq = seq;
	meta->generation = s->generation;
	meta->frame_number = s->frame_number;
	meta->pts_us = s->pts_us;
	meta->capture_realtime_ns = s->capture_realtime_ns;
	meta->capture_mono_ns = s->capture_mono_ns;
	meta->width = s->width;
	meta->height = s->height;
	meta->stride_y = s->stride_y;
	meta->stride_uv = s->stride_uv;
	meta->data_size = s->data_size;
	meta->flags = s->flags;
	*offset_uv = s->offset_uv;
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(lock, memory_order_relaxed) != l1)
		return VAS_EXPORT_ESTALE;
	/* The meta is a consistent copy; now check it describes bytes inside the slot. */
	uint64_t ch = ((uint64_t)meta->height + 1) / 2;
	if (meta->width == 0 || meta->height == 0 || meta->stride_y < meta->width ||
	    meta->stride_uv < 2 * ((meta->width + 1) / 2) || meta->data_size > r->data_capacity ||
	    (uint64_t)meta->stride_y * meta->height > *offset_uv ||
	    (uint64_t)*offset_uv + (uint64_t)meta->stride_uv * ch > meta->data_size)
		return VAS_EXPORT_EBADHEADER;
	*slot_out = s;
	*lock_out = l1;
	return 0;
}

int vas_export_reader_peek(struct vas_export_reader *r, uint64_t seq, struct vas_frame_view *view)
{
	if (!r || !view)
		return -EINVAL;
	const struct vas_export_slot *s;
	uint32_t offset_uv;
	uint64_t lock;
	int err = read_meta(r, seq, &s, &view->meta, &offset_uv, &lock);
	if (err < 0)
		return err;
	view->y = (const uint8_t *)s + r->data_offset;
	view->uv = view->y + offset_uv;
	return 0;
}

int vas_export_reader_validate(const struct vas_export_reader *r, const struct vas_frame_view *view)
{
	if (!r || !view || view->meta.seq == 0)
		return -EINVAL;
	const struct vas_export_slot *s = reader_slot(r, view->meta.seq);
	/* The acquire fence keeps every load the caller made through the view
	 * before this reload of the lock. */
	atomic_thread_fence(memory_order_acquire);
	uint64_t l2 = atomic_load_explicit((_Atomic uint64_t *)&s->lock, memory_order_relaxed);
	return l2 == 2 * view->meta.seq ? 0 : VAS_EXPORT_ESTALE;
}

int vas_export_reader_copy(struct vas_export_reader *r, uint64_t seq, void *dst, size_t cap,
			   struct vas_frame_meta *meta_out)
{
	if (!r || !dst)
		return -EINVAL;
	struct vas_frame_view v;
	int err = vas_export_reader_peek(r, seq, &v);
	if (err < 0)
		return err;
	uint32_t w = v.meta.width, h = v.meta.height;
	size_t uv_row = 2 * (((size_t)w + 1) / 2);
	size_t ch = ((size_t)h + 1) / 2;
	size_t need = (size_t)w * h + uv_row * ch;
	if (cap < need)
		return VAS_EXPORT_ETOOSMALL;
	uint8_t *d = dst;
	for (uint32_t row = 0; row < h; row++)
		memcpy(d + (size_t)row * w, v.y + (size_t)row * v.meta.stride_y, w);
	d += (size_t)w * h;
	for (size_t row = 0; row < ch; row++)
		memcpy(d + row * uv_row, v.uv + row * v.meta.stride_uv, uv_row);
	err = vas_export_reader_validate(r, &v);
	if (err < 0)
		return err;
	if (meta_out)
		*meta_out = v.meta;
	return 0;
}

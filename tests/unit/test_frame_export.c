/* test_frame_export.c: Phase 2 export writer and reader (src/vas/export/frame_export.c). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "vas/frame_export.h"
#include "vas/frame_writer.h"

/* A source frame in caller-owned memory with row padding (stride > width). */
struct test_src {
	struct vas_frame_src src;
	uint8_t *mem[3];
};

static uint8_t pix(int plane, uint32_t x, uint32_t y, uint32_t seed)
{
	return (uint8_t)(x * 7u + y * 13u + (uint32_t)plane * 101u + seed * 31u + ((x * y) >> 3));
}

static void src_init(struct test_src *t, enum vas_src_layout layout, uint32_t w, uint32_t h, uint32_t pad,
		     uint32_t seed)
{
	memset(t, 0, sizeof(*t));
	uint32_t cw = (w + 1) / 2, ch = (h + 1) / 2;
	t->src.layout = layout;
	t->src.width = w;
	t->src.height = h;
	t->src.pts_us = INT64_MIN;
	int planes = layout == VAS_SRC_NV12 ? 2 : 3;
	for (int p = 0; p < planes; p++) {
		uint32_t rw = p == 0 ? w : (layout == VAS_SRC_NV12 ? 2 * cw : cw);
		uint32_t rows = p == 0 ? h : ch;
		uint32_t stride = rw + pad;
		t->mem[p] = malloc((size_t)stride * rows);
		assert_non_null(t->mem[p]);
		memset(t->mem[p], 0xEE, (size_t)stride * rows); /* padding must never be exported */
		for (uint32_t y = 0; y < rows; y++)
			for (uint32_t x = 0; x < rw; x++)
				t->mem[p][(size_t)y * stride + x] = pix(p, x, y, seed);
		t->src.plane[p] = t->mem[p];
		t->src.stride[p] = (int32_t)stride;
	}
}

static void src_fini(struct test_src *t)
{
	for (int p = 0; p < 3; p++)
		free(t->mem[p]);
}

/* The packed NV12 bytes vas_export_reader_copy must return for this source. */
static uint8_t *expected_nv12(const struct test_src *t, size_t *size)
{
	uint32_t w = t->src.width, h = t->src.height, cw = (w + 1) / 2, ch = (h + 1) / 2;
	*size = (size_t)w * h + (size_t)2 * cw * ch;
	uint8_t *e = malloc(*size);
	assert_non_null(e);
	for (uint32_t y = 0; y < h; y++)
		memcpy(e + (size_t)y * w, t->src.plane[0] + (size_t)y * (size_t)t->src.stride[0], w);
	uint8_t *uv = e + (size_t)w * h;
	for (uint32_t y = 0; y < ch; y++) {
		for (uint32_t x = 0; x < cw; x++) {
			if (t->src.layout == VAS_SRC_NV12) {
				uv[(size_t)y * 2 * cw + 2 * x] = t->src.plane[1][(size_t)y * (size_t)t->src.stride[1] + 2 * x];
				uv[(size_t)y * 2 * cw + 2 * x + 1] =
					t->src.plane[1][(size_t)y * (size_t)t->src.stride[1] + 2 * x + 1];
			} else {
				uv[(size_t)y * 2 * cw + 2 * x] = t->src.plane[1][(size_t)y * (size_t)t->src.stride[1] + x];
				uv[(size_t)y * 2 * cw + 2 * x + 1] = t->src.plane[2][(size_t)y * (size_t)t->src.stride[2] + x];
			}
		}
	}
	return e;
}

static void camera_name(char *buf, size_t cap, const char *what)
{
	snprintf(buf, cap, "tfe-%s-%d", what, (int)getpid());
}

static struct vas_export_writer *open_writer(const char *cam, uint32_t slots, uint32_t mw, uint32_t mh)
{
	struct vas_export_writer_config cfg = { .camera_id = cam, .slot_count = slots, .max_width = mw, .max_height = mh };
	struct vas_export_writer *w = NULL;
	assert_int_equal(vas_export_writer_open(&w, &cfg), 0);
	assert_non_null(w);
	return w;
}

static void check_copy(struct vas_export_reader *r, uint64_t seq, const struct test_src *t)
{
	size_t n;
	uint8_t *e = expected_nv12(t, &n);
	uint8_t *got = malloc(n + 16);
	struct vas_frame_meta m;
	assert_int_equal(vas_export_reader_copy(r, seq, got, n, &m), 0);
	assert_int_equal(m.seq, seq);
	assert_int_equal(m.width, t->src.width);
	assert_int_equal(m.height, t->src.height);
	assert_memory_equal(got, e, n);
	/* One byte less is refused. */
	assert_int_equal(vas_export_reader_copy(r, seq, got, n - 1, NULL), VAS_EXPORT_ETOOSMALL);

	/* The zero-copy view sees the same bytes through the strides. */
	struct vas_frame_view v;
	assert_int_equal(vas_export_reader_peek(r, seq, &v), 0);
	uint32_t w = v.meta.width, h = v.meta.height, uvw = 2 * ((w + 1) / 2);
	for (uint32_t y = 0; y < h; y++)
		assert_memory_equal(v.y + (size_t)y * v.meta.stride_y, e + (size_t)y * w, w);
	for (uint32_t y = 0; y < (h + 1) / 2; y++)
		assert_memory_equal(v.uv + (size_t)y * v.meta.stride_uv, e + (size_t)w * h + (size_t)y * uvw, uvw);
	assert_int_equal(vas_export_reader_validate(r, &v), 0);
	free(got);
	free(e);
}

static void test_shm_name(void **state)
{
	(void)state;
	char buf[64];
	assert_int_equal(vas_export_shm_name(buf, sizeof(buf), "lobby_1.a-B"), 0);
	assert_string_equal(buf, "/vas.lobby_1.a-B");
	assert_int_equal(vas_export_shm_name(buf, sizeof(buf), ""), -EINVAL);
	assert_int_equal(vas_export_shm_name(buf, sizeof(buf), "a/b"), -EINVAL);
	assert_int_equal(vas_export_shm_name(buf, sizeof(buf), "a b"), -EINVAL);
	assert_int_equal(vas_export_shm_name(buf, sizeof(buf), NULL), -EINVAL);
	char id[60];
	memset(id, 'x', sizeof(id));
	id[47] = 0;
	assert_int_equal(vas_export_shm_name(buf, sizeof(buf), id), 0);
	id[47] = 'x';
	id[48] = 0;
	assert_int_equal(vas_export_shm_name(buf, sizeof(buf), id), -EINVAL);
	assert_int_equal(vas_export_shm_name(buf, 8, "lobby"), -ENAMETOOLONG);
	assert_non_null(strstr(vas_export_strerror(VAS_EXPORT_ESTALE), "stale"));
	assert_non_null(strstr(vas_export_strerror(-ENOENT), "No such file"));
}

static void test_writer_bad_config(void **state)
{
	(void)state;
	struct vas_export_writer *w = NULL;
	struct vas_export_writer_config cfg = { .camera_id = "bad/id", .max_width = 64, .max_height = 64 };
	assert_int_equal(vas_export_writer_open(&w, &cfg), -EINVAL);
	char cam[64];
	camera_name(cam, sizeof(cam), "badcfg");
	cfg.camera_id = cam;
	cfg.slot_count = 1;
	assert_int_equal(vas_export_writer_open(&w, &cfg), -EINVAL);
	cfg.slot_count = VAS_EXPORT_MAX_SLOTS + 1;
	assert_int_equal(vas_export_writer_open(&w, &cfg), -EINVAL);
	cfg.slot_count = 2;
	cfg.max_width = 0;
	assert_int_equal(vas_export_writer_open(&w, &cfg), -EINVAL);
	cfg.max_width = 64;
	cfg.group = "no-such-group-vas-test";
	assert_int_equal(vas_export_writer_open(&w, &cfg), -ENOENT);
	assert_null(w);
	/* Nothing was left behind by the failed opens. */
	struct vas_export_reader *r = NULL;
	assert_int_equal(vas_export_reader_open(&r, cam), -ENOENT);
	assert_int_equal(vas_export_reader_open(&r, "bad/id"), -EINVAL);
}

static void roundtrip(enum vas_src_layout layout, const char *what)
{
	char cam[64];
	camera_name(cam, sizeof(cam), what);
	struct vas_export_writer *w = open_writer(cam, 3, 200, 120);
	struct vas_export_reader *r = NULL;
	assert_int_equal(vas_export_reader_open(&r, cam), 0);
	assert_int_equal(vas_export_reader_newest(r), 0);

	/* Even, odd and tiny geometries, with and without row padding. */
	const uint32_t geo[][3] = { { 160, 90, 0 }, { 161, 91, 13 }, { 200, 120, 32 }, { 1, 1, 3 }, { 33, 7, 0 } };
	uint64_t seq = 0;
	for (size_t i = 0; i < sizeof(geo) / sizeof(geo[0]); i++) {
		struct test_src t;
		src_init(&t, layout, geo[i][0], geo[i][1], geo[i][2], (uint32_t)i);
		t.src.frame_number = 1000 + i;
		t.src.pts_us = 40000 * (int64_t)i;
		t.src.flags = VAS_FRAME_F_KEYFRAME;
		int64_t s = vas_export_writer_publish(w, &t.src);
		assert_int_equal(s, (int64_t)++seq);
		assert_int_equal(vas_export_reader_newest(r), seq);
		check_copy(r, seq, &t);
		struct vas_frame_meta m;
		size_t cap = 200 * 120 * 2;
		uint8_t *buf = malloc(cap);
		assert_int_equal(vas_export_reader_copy(r, seq, buf, cap, &m), 0);
		free(buf);
		assert_int_equal(m.frame_number, 1000 + i);
		assert_int_equal(m.pts_us, 40000 * (int64_t)i);
		assert_true(m.flags & VAS_FRAME_F_KEYFRAME);
		assert_true(m.capture_mono_ns > 0 && m.capture_realtime_ns > 0);
		assert_int_equal(m.stride_y % 64, 0);
		src_fini(&t);
	}
	assert_int_equal(vas_export_reader_check(r), 0);
	vas_export_reader_close(&r);
	assert_null(r);
	vas_export_writer_close(&w);
	assert_null(w);
}

static void test_roundtrip_nv12(void **state)
{
	(void)state;
	roundtrip(VAS_SRC_NV12, "rt-nv12");
}

static void test_roundtrip_yuv420p(void **state)
{
	(void)state;
	roundtrip(VAS_SRC_YUV420P, "rt-yuv");
}

static void test_header_and_info(void **state)
{
	(void)state;
	char cam[64];
	camera_name(cam, sizeof(cam), "hdr");
	struct vas_export_writer *w = open_writer(cam, 4, 320, 240);
	char path[128];
	snprintf(path, sizeof(path), "/dev/shm%s", vas_export_writer_shm_name(w));
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);

	/* The raw header as a foreign reader would parse it. */
	int fd = shm_open(vas_export_writer_shm_name(w), O_RDONLY, 0);
	assert_true(fd >= 0);
	const struct vas_export_header *h = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	assert_true(h != MAP_FAILED);
	assert_int_equal(h->magic, VAS_EXPORT_MAGIC);
	assert_memory_equal(h, "VASX", 4);
	assert_int_equal(h->version, VAS_EXPORT_VERSION);
	assert_int_equal(h->header_size, 256);
	assert_int_equal(h->slot_header_size, 128);
	assert_int_equal(h->slot_count, 4);
	assert_int_equal(h->slots_offset % 4096, 0);
	assert_int_equal(h->slot_stride % 4096, 0);
	assert_int_equal(h->total_size, (uint64_t)st.st_size);
	assert_int_equal(h->total_size, h->slots_offset + 4 * h->slot_stride);
	assert_true(h->data_capacity >= 320 * 240 * 3 / 2);
	assert_true(h->data_offset + h->data_capacity <= h->slot_stride);
	assert_int_equal(h->writer_pid, getpid());
	assert_string_equal(h->camera_id, cam);
	assert_int_equal(h->pixfmt, VAS_PIXFMT_NV12);
	assert_int_equal(vas_export_writer_generation(w), h->generation);
	/* Generations come from the wall clock at creation. */
	uint64_t now = kclock_real_ns();
	assert_true(h->generation <= now && h->generation > now - 60ull * 1000000000ull);

	struct vas_export_reader *r = NULL;
	assert_int_equal(vas_export_reader_open(&r, cam), 0);
	struct vas_export_info info;
	assert_int_equal(vas_export_reader_info(r, &info), 0);
	uint64_t hb0 = info.heartbeat_ns;
	assert_string_equal(info.camera_id, cam);
	assert_int_equal(info.slot_count, 4);
	assert_int_equal(info.max_width, 320);
	assert_int_equal(info.max_height, 240);
	assert_int_equal(info.frames_dropped, 0);
	assert_int_equal(info.total_size, (uint64_t)st.st_size);
	kclock_sleep_ns(2000000);
	vas_export_writer_tick(w);
	vas_export_writer_add_dropped(w, 5);
	vas_export_writer_add_dropped(w, 2);
	assert_int_equal(vas_export_reader_info(r, &info), 0);
	assert_true(info.heartbeat_ns > hb0);
	assert_int_equal(info.frames_dropped, 7);

	munmap((void *)h, (size_t)st.st_size);
	vas_export_reader_close(&r);
	vas_export_writer_close(&w);
}

static void test_enoframe_estale(void **state)
{
	(void)state;
	char cam[64];
	camera_name(cam, sizeof(cam), "stale");
	struct vas_export_writer *w = open_writer(cam, 2, 64, 48);
	struct vas_export_reader *r = NULL;
	assert_int_equal(vas_export_reader_open(&r, cam), 0);
	struct vas_frame_view v;
	uint8_t buf[64 * 48 * 2];
	assert_int_equal(vas_export_reader_peek(r, 1, &v), VAS_EXPORT_ENOFRAME);
	assert_int_equal(vas_export_reader_copy(r, 0, buf, sizeof(buf), NULL), VAS_EXPORT_ENOFRAME);

	struct test_src t;
	src_init(&t, VAS_SRC_NV12, 64, 48, 0, 1);
	assert_int_equal(vas_export_writer_publish(w, &t.src), 1);
	assert_int_equal(vas_export_reader_peek(r, 2, &v), VAS_EXPORT_ENOFRAME);
	/* A view taken, then the slot overwritten (2 slots: seq 3 reuses seq 1's):
	 * validate reports it stale. */
	assert_int_equal(vas_export_reader_peek(r, 1, &v), 0);
	assert_int_equal(vas_export_writer_publish(w, &t.src), 2);
	assert_int_equal(vas_export_reader_validate(r, &v), 0); /* seq 2 went into the other slot */
	assert_int_equal(vas_export_writer_publish(w, &t.src), 3);
	assert_int_equal(vas_export_reader_validate(r, &v), VAS_EXPORT_ESTALE);
	assert_int_equal(vas_export_reader_peek(r, 1, &v), VAS_EXPORT_ESTALE);
	assert_int_equal(vas_export_reader_copy(r, 1, buf, sizeof(buf), NULL), VAS_EXPORT_ESTALE);
	assert_int_equal(vas_export_reader_copy(r, 2, buf, sizeof(buf), NULL), 0);
	assert_int_equal(vas_export_reader_copy(r, 3, buf, sizeof(buf), NULL), 0);
	src_fini(&t);
	vas_export_reader_close(&r);
	vas_export_writer_close(&w);
}

static void test_generation_on_geometry_change(void **state)
{
	(void)state;
	char cam[64];
	camera_name(cam, sizeof(cam), "geo");
	struct vas_export_writer *w = open_writer(cam, 4, 128, 128);
	struct vas_export_reader *r = NULL;
	assert_int_equal(vas_export_reader_open(&r, cam), 0);
	uint64_t g0 = vas_export_writer_generation(w);
	struct test_src a, b;
	src_init(&a, VAS_SRC_NV12, 128, 96, 0, 1);
	src_init(&b, VAS_SRC_YUV420P, 96, 128, 8, 2);
	struct vas_frame_meta m;
	uint8_t *buf = malloc(128 * 128 * 2);

	assert_int_equal(vas_export_writer_publish(w, &a.src), 1);
	assert_int_equal(vas_export_writer_publish(w, &a.src), 2);
	assert_int_equal(vas_export_writer_generation(w), g0);
	assert_int_equal(vas_export_reader_copy(r, 2, buf, 128 * 128 * 2, &m), 0);
	assert_int_equal(m.generation, g0);
	assert_false(m.flags & VAS_FRAME_F_DISCONTINUITY);

	assert_int_equal(vas_export_writer_publish(w, &b.src), 3);
	uint64_t g1 = vas_export_writer_generation(w);
	assert_int_equal(g1, g0 + 1);
	assert_int_equal(vas_export_reader_copy(r, 3, buf, 128 * 128 * 2, &m), 0);
	assert_int_equal(m.generation, g1);
	assert_int_equal(m.width, 96);
	assert_true(m.flags & VAS_FRAME_F_DISCONTINUITY);
	check_copy(r, 3, &b);
	/* The older frame still carries the generation it was written under. */
	assert_int_equal(vas_export_reader_copy(r, 2, buf, 128 * 128 * 2, &m), 0);
	assert_int_equal(m.generation, g0);
	struct vas_export_info info;
	vas_export_reader_info(r, &info);
	assert_int_equal(info.generation, g1);
	/* Same size again: no new generation, no discontinuity. */
	assert_int_equal(vas_export_writer_publish(w, &b.src), 4);
	assert_int_equal(vas_export_writer_generation(w), g1);
	assert_int_equal(vas_export_reader_copy(r, 4, buf, 128 * 128 * 2, &m), 0);
	assert_false(m.flags & VAS_FRAME_F_DISCONTINUITY);
	/* Same object throughout. */
	assert_int_equal(vas_export_reader_check(r), 0);
	free(buf);
	src_fini(&a);
	src_fini(&b);
	vas_export_reader_close(&r);
	vas_export_writer_close(&w);
}

static void test_recreate_on_oversize(void **state)
{
	(void)state;
	char cam[64];
	camera_name(cam, sizeof(cam), "grow");
	struct vas_export_writer *w = open_writer(cam, 2, 64, 64);
	struct vas_export_reader *r = NULL;
	assert_int_equal(vas_export_reader_open(&r, cam), 0);
	struct test_src small, big;
	src_init(&small, VAS_SRC_NV12, 64, 64, 0, 1);
	src_init(&big, VAS_SRC_YUV420P, 100, 50, 4, 2);
	assert_int_equal(vas_export_writer_publish(w, &small.src), 1);
	uint64_t g0 = vas_export_writer_generation(w);
	assert_int_equal(vas_export_reader_check(r), 0);

	/* 100 wide does not fit 64: the object is retired and recreated. */
	assert_int_equal(vas_export_writer_publish(w, &big.src), 2);
	uint64_t g1 = vas_export_writer_generation(w);
	assert_true(g1 > g0);
	/* The old mapping says RETIRED at once (no need to wait for the stat check). */
	assert_int_equal(vas_export_reader_check(r), VAS_EXPORT_EGENERATION);
	vas_export_reader_close(&r);

	assert_int_equal(vas_export_reader_open(&r, cam), 0);
	struct vas_export_info info;
	vas_export_reader_info(r, &info);
	assert_int_equal(info.generation, g1);
	assert_int_equal(info.max_width, 100); /* max of old and new capacity */
	assert_int_equal(info.max_height, 64);
	assert_int_equal(info.newest_seq, 2); /* seqs continue across the recreation */
	check_copy(r, 2, &big);
	/* The old frame does not exist in the new object. */
	uint8_t buf[64];
	assert_int_equal(vas_export_reader_copy(r, 1, buf, sizeof(buf), NULL), VAS_EXPORT_ESTALE);
	/* A frame that fits is published into the new object without recreating. */
	assert_int_equal(vas_export_writer_publish(w, &small.src), 3);
	assert_int_equal(vas_export_reader_check(r), 0);
	check_copy(r, 3, &small);
	assert_int_equal(vas_export_writer_generation(w), g1 + 1); /* geometry changed back */
	src_fini(&small);
	src_fini(&big);
	vas_export_reader_close(&r);
	vas_export_writer_close(&w);
}

/* A crashed writer left garbage under our name: it is replaced on open. */
static void test_stale_garbage_replaced(void **state)
{
	(void)state;
	char cam[64], name[80];
	camera_name(cam, sizeof(cam), "garbage");
	assert_int_equal(vas_export_shm_name(name, sizeof(name), cam), 0);
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	uint8_t junk[5000];
	memset(junk, 0xAB, sizeof(junk));
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	struct vas_export_reader *r = NULL;
	assert_int_equal(vas_export_reader_open(&r, cam), VAS_EXPORT_EBADHEADER);

	struct vas_export_writer *w = open_writer(cam, 2, 32, 32);
	assert_int_equal(vas_export_reader_open(&r, cam), 0);
	struct test_src t;
	src_init(&t, VAS_SRC_NV12, 32, 32, 0, 3);
	assert_int_equal(vas_export_writer_publish(w, &t.src), 1);
	check_copy(r, 1, &t);
	src_fini(&t);
	vas_export_reader_close(&r);
	vas_export_writer_close(&w);
}

static void test_bad_objects(void **state)
{
	(void)state;
	char cam[64], name[80];
	camera_name(cam, sizeof(cam), "badobj");
	assert_int_equal(vas_export_shm_name(name, sizeof(name), cam), 0);
	struct vas_export_reader *r = NULL;
	/* Empty (the writer between shm_open and ftruncate): try again later. */
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(vas_export_reader_open(&r, cam), -EAGAIN);
	/* Sized but magic still 0 (header being filled): try again later. */
	assert_int_equal(ftruncate(fd, 8192), 0);
	assert_int_equal(vas_export_reader_open(&r, cam), -EAGAIN);
	/* A valid magic with a wrong version, then with sizes beyond the object. */
	struct vas_export_header *h = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(h != MAP_FAILED);
	h->magic = VAS_EXPORT_MAGIC;
	h->version = 99;
	assert_int_equal(vas_export_reader_open(&r, cam), VAS_EXPORT_EBADHEADER);
	h->version = VAS_EXPORT_VERSION;
	h->header_size = 256;
	h->slot_header_size = 128;
	h->pixfmt = VAS_PIXFMT_NV12;
	h->slot_count = 4;
	h->slots_offset = 4096;
	h->slot_stride = 4096;
	h->data_offset = 128;
	h->data_capacity = 1000;
	h->total_size = 8192;
	assert_int_equal(vas_export_reader_open(&r, cam), VAS_EXPORT_EBADHEADER); /* 4 slots do not fit */
	h->slot_count = 1;
	assert_int_equal(vas_export_reader_open(&r, cam), 0); /* now consistent */
	/* A slot claiming more bytes than the slot holds is refused, never read. */
	struct vas_export_slot *slot = (struct vas_export_slot *)((uint8_t *)h + 4096);
	slot->width = 5000;
	slot->height = 10;
	slot->stride_y = slot->stride_uv = 5056;
	slot->offset_uv = 5056 * 10;
	slot->data_size = 5056 * 15;
	atomic_store(&slot->lock, 2);
	atomic_store(&h->newest_seq, 1);
	struct vas_frame_view v;
	uint8_t tiny[16];
	assert_int_equal(vas_export_reader_peek(r, 1, &v), VAS_EXPORT_EBADHEADER);
	assert_int_equal(vas_export_reader_copy(r, 1, tiny, sizeof(tiny), NULL), VAS_EXPORT_EBADHEADER);
	slot->width = slot->stride_y = slot->stride_uv = 16;
	slot->height = 8;
	slot->offset_uv = 16 * 8;
	slot->data_size = 16 * 12;
	assert_int_equal(vas_export_reader_peek(r, 1, &v), 0);
	assert_int_equal(vas_export_reader_copy(r, 1, tiny, sizeof(tiny), NULL), VAS_EXPORT_ETOOSMALL);
	vas_export_reader_close(&r);
	h->data_capacity = 5000; /* beyond the slot stride */
	assert_int_equal(vas_export_reader_open(&r, cam), VAS_EXPORT_EBADHEADER);
	munmap(h, 8192);
	close(fd);
	shm_unlink(name);
}

/* A writer process killed without closing: its readers learn about the
 * replacement from RETIRED (set by the next writer) and a changed inode. */
static void test_crashed_writer_replaced(void **state)
{
	(void)state;
	char cam[64];
	camera_name(cam, sizeof(cam), "crash");
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct vas_export_writer_config cfg = { .camera_id = cam, .slot_count = 2, .max_width = 32, .max_height = 32 };
		struct vas_export_writer *w;
		if (vas_export_writer_open(&w, &cfg) < 0)
			_exit(1);
		struct test_src t;
		src_init(&t, VAS_SRC_NV12, 32, 32, 0, 9);
		_exit(vas_export_writer_publish(w, &t.src) == 1 ? 0 : 2); /* no close: a crash */
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	struct vas_export_reader *old = NULL;
	assert_int_equal(vas_export_reader_open(&old, cam), 0);
	struct vas_export_info info;
	vas_export_reader_info(old, &info);
	assert_int_equal(info.writer_pid, pid);
	assert_int_equal(info.newest_seq, 1);
	assert_int_equal(vas_export_reader_check(old), 0);
	const uint64_t g_old = info.generation;
	assert_int_equal(vas_export_reader_check_generation(old, g_old), 0);

	struct vas_export_writer *w = open_writer(cam, 2, 32, 32);
	const uint64_t g_new = vas_export_writer_generation(w);
	assert_true(g_new > g_old);
	/* The successor marked the old object RETIRED: whatever the reference. */
	assert_int_equal(vas_export_reader_check_generation(old, g_old), VAS_EXPORT_EGENERATION);
	assert_int_equal(vas_export_reader_check_generation(old, g_new), VAS_EXPORT_EGENERATION);
	assert_int_equal(vas_export_reader_check_generation(old, 0), VAS_EXPORT_EGENERATION);
	assert_int_equal(vas_export_reader_check(old), VAS_EXPORT_EGENERATION);
	vas_export_reader_close(&old);
	struct vas_export_reader *r = NULL;
	assert_int_equal(vas_export_reader_open(&r, cam), 0);
	vas_export_reader_info(r, &info);
	assert_int_equal(info.writer_pid, getpid());
	assert_int_equal(info.newest_seq, 0);
	assert_int_equal(vas_export_reader_check_generation(r, g_new), 0);
	vas_export_reader_close(&r);
	vas_export_writer_close(&w);
}

/* Replacing an object without RETIRED (e.g. someone unlinked and recreated it
 * by hand) is still noticed through the inode, within 100 ms. */
static void test_replaced_inode_detected(void **state)
{
	(void)state;
	char cam[64];
	camera_name(cam, sizeof(cam), "inode");
	struct vas_export_writer *w = open_writer(cam, 2, 32, 32);
	struct vas_export_reader *r = NULL;
	assert_int_equal(vas_export_reader_open(&r, cam), 0);
	assert_int_equal(shm_unlink(vas_export_writer_shm_name(w)), 0);
	struct vas_export_writer *w2 = open_writer(cam, 2, 32, 32); /* no stale object: nothing marks the old one */
	kclock_sleep_ns(110u * 1000000u);
	/* A reference naming the old object's generation is served from it without
	 * the stat; one naming the new generation finds the replacement at once. */
	assert_int_equal(vas_export_reader_check_generation(r, vas_export_writer_generation(w)), 0);
	assert_int_equal(vas_export_reader_check_generation(r, vas_export_writer_generation(w2)),
			 VAS_EXPORT_EGENERATION);
	kclock_sleep_ns(110u * 1000000u);
	assert_int_equal(vas_export_reader_check(r), VAS_EXPORT_EGENERATION);
	vas_export_reader_close(&r);
	/* Closing the replaced writer must not unlink its successor's object. */
	vas_export_writer_close(&w);
	assert_int_equal(vas_export_reader_open(&r, cam), 0);
	assert_int_equal(vas_export_reader_check(r), 0);
	vas_export_reader_close(&r);
	vas_export_writer_close(&w2);
	assert_int_equal(vas_export_reader_open(&r, cam), -ENOENT);
}

static void test_close_unlinks(void **state)
{
	(void)state;
	char cam[64];
	camera_name(cam, sizeof(cam), "close");
	struct vas_export_writer *w = open_writer(cam, 2, 32, 32);
	char name[80];
	snprintf(name, sizeof(name), "%s", vas_export_writer_shm_name(w));
	struct vas_export_reader *r = NULL;
	assert_int_equal(vas_export_reader_open(&r, cam), 0);
	vas_export_writer_close(&w);
	assert_null(w);
	vas_export_writer_close(&w); /* safe on NULL */
	assert_int_equal(shm_open(name, O_RDONLY, 0), -1);
	assert_int_equal(errno, ENOENT);
	struct vas_export_reader *r2 = NULL;
	assert_int_equal(vas_export_reader_open(&r2, cam), -ENOENT);
	/* A reader still mapped sees the retirement; its mapping stays readable. */
	assert_int_equal(vas_export_reader_check(r), VAS_EXPORT_EGENERATION);
	struct vas_export_info info;
	assert_int_equal(vas_export_reader_info(r, &info), 0);
	assert_true(info.flags & VAS_EXPORT_F_RETIRED);
	vas_export_reader_close(&r);
}

/* The reader's mapping is PROT_READ: a write through a cast pointer kills the
 * process with SIGSEGV (checked in a child). */
static void test_reader_mapping_is_readonly(void **state)
{
	(void)state;
	char cam[64];
	camera_name(cam, sizeof(cam), "ro");
	struct vas_export_writer *w = open_writer(cam, 2, 32, 32);
	struct test_src t;
	src_init(&t, VAS_SRC_NV12, 32, 32, 0, 4);
	assert_int_equal(vas_export_writer_publish(w, &t.src), 1);
	src_fini(&t);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct vas_export_reader *r = NULL;
		struct vas_frame_view v;
		if (vas_export_reader_open(&r, cam) < 0 || vas_export_reader_peek(r, 1, &v) < 0)
			_exit(3);
		/* ASan installs its own SEGV handler; restore the default so the
		 * child dies by the signal itself. */
		signal(SIGSEGV, SIG_DFL);
		((volatile uint8_t *)v.y)[0] = 1;
		_exit(4); /* reached only if the write succeeded */
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSEGV);
	vas_export_writer_close(&w);
}

/* Mode 0640 and group ownership: a non-root user in the group can open the
 * object read-only but not read-write. Needs root to create the child user. */
static void test_non_root_reader(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		print_message("needs root to switch to user nobody\n");
		skip();
	}
	struct group *g = getgrnam("nogroup");
	assert_non_null(g);
	gid_t gid = g->gr_gid;
	char cam[64];
	camera_name(cam, sizeof(cam), "perm");
	struct vas_export_writer_config cfg = {
		.camera_id = cam, .slot_count = 2, .max_width = 32, .max_height = 32, .group = "nogroup"
	};
	struct vas_export_writer *w = NULL;
	assert_int_equal(vas_export_writer_open(&w, &cfg), 0);
	struct test_src t;
	src_init(&t, VAS_SRC_NV12, 32, 32, 0, 5);
	assert_int_equal(vas_export_writer_publish(w, &t.src), 1);
	char path[128];
	snprintf(path, sizeof(path), "/dev/shm%s", vas_export_writer_shm_name(w));
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_gid, gid);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(65534) != 0)
			_exit(10);
		if (geteuid() != 65534)
			_exit(11);
		int fd = shm_open(vas_export_writer_shm_name(w), O_RDWR, 0);
		if (fd >= 0 || errno != EACCES)
			_exit(12);
		fd = shm_open(vas_export_writer_shm_name(w), O_RDONLY, 0);
		if (fd < 0)
			_exit(13);
		close(fd);
		struct vas_export_reader *r = NULL;
		if (vas_export_reader_open(&r, cam) != 0)
			_exit(14);
		uint8_t buf[32 * 32 * 2];
		if (vas_export_reader_copy(r, 1, buf, sizeof(buf), NULL) != 0)
			_exit(15);
		vas_export_reader_close(&r);
		/* Nor can it remove the object (/dev/shm is sticky). */
		if (shm_unlink(vas_export_writer_shm_name(w)) == 0)
			_exit(16);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	src_fini(&t);
	vas_export_writer_close(&w);
}

static void test_publish_bad_src(void **state)
{
	(void)state;
	char cam[64];
	camera_name(cam, sizeof(cam), "badsrc");
	struct vas_export_writer *w = open_writer(cam, 2, 32, 32);
	struct test_src t;
	src_init(&t, VAS_SRC_NV12, 32, 32, 0, 6);
	struct vas_frame_src s = t.src;
	s.width = 0;
	assert_int_equal(vas_export_writer_publish(w, &s), -EINVAL);
	s = t.src;
	s.stride[0] = 16; /* shorter than a row */
	assert_int_equal(vas_export_writer_publish(w, &s), -EINVAL);
	s = t.src;
	s.plane[1] = NULL;
	assert_int_equal(vas_export_writer_publish(w, &s), -EINVAL);
	s = t.src;
	s.layout = (enum vas_src_layout)7;
	assert_int_equal(vas_export_writer_publish(w, &s), -EINVAL);
	assert_int_equal(vas_export_writer_publish(NULL, &t.src), -EINVAL);
	/* Nothing was published by the refused calls. */
	assert_int_equal(vas_export_writer_publish(w, &t.src), 1);
	src_fini(&t);
	vas_export_writer_close(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shm_name),
		cmocka_unit_test(test_writer_bad_config),
		cmocka_unit_test(test_roundtrip_nv12),
		cmocka_unit_test(test_roundtrip_yuv420p),
		cmocka_unit_test(test_header_and_info),
		cmocka_unit_test(test_enoframe_estale),
		cmocka_unit_test(test_generation_on_geometry_change),
		cmocka_unit_test(test_recreate_on_oversize),
		cmocka_unit_test(test_stale_garbage_replaced),
		cmocka_unit_test(test_bad_objects),
		cmocka_unit_test(test_crashed_writer_replaced),
		cmocka_unit_test(test_replaced_inode_detected),
		cmocka_unit_test(test_close_unlinks),
		cmocka_unit_test(test_reader_mapping_is_readonly),
		cmocka_unit_test(test_non_root_reader),
		cmocka_unit_test(test_publish_bad_src),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

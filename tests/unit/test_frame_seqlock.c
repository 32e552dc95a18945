/* test_frame_seqlock.c: bounded seqlock stress of the frame export.
 *
 * One writer thread publishes frames as fast as it can into an export with only
 * 2 slots (so a slot is rewritten every other frame and readers race the
 * writer constantly). Every byte of frame `seq` is derived from seq: the first
 * 8 bytes of each row hold seq itself, the rest comes from one of 7 patterns
 * chosen by seq % 7. Three reader threads read random recent frames, through
 * the copy API and through peek + validate, and check every read that returned
 * 0 byte for byte. A torn frame reported as good fails the test; stale reads
 * are expected and counted. Bounded: a fixed frame count or 3 s, whichever
 * comes first. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "vas/frame_export.h"
#include "vas/frame_writer.h"

#define W 256u
#define H 144u
#define ROWS (H + H / 2) /* packed NV12 rows: H luma + H/2 chroma, each W bytes */
#define FRAME_BYTES ((size_t)W * ROWS)
#define NPAT 7u
#define NFRAMES 200000u
#define MAX_NS (3000ull * 1000000ull)
#define NREADERS 3

static uint8_t patterns[NPAT][FRAME_BYTES]; /* read-only after setup */
static char camera[64];
static atomic_bool writer_done;

static uint8_t pattern_byte(uint32_t p, size_t i)
{
	uint32_t x = (uint32_t)i * 2654435761u ^ (p + 1u) * 40503u;
	x ^= x >> 13;
	return (uint8_t)(x * 0x9E3779B1u >> 24);
}

static void stamp(uint8_t *frame, uint64_t seq)
{
	for (uint32_t r = 0; r < ROWS; r++)
		memcpy(frame + (size_t)r * W, &seq, sizeof(seq));
}

/* 1 when `got` (packed NV12) is exactly frame seq. */
static int frame_matches(const uint8_t *got, uint64_t seq)
{
	const uint8_t *pat = patterns[seq % NPAT];
	for (uint32_t r = 0; r < ROWS; r++) {
		const uint8_t *row = got + (size_t)r * W;
		uint64_t s;
		memcpy(&s, row, sizeof(s));
		if (s != seq || memcmp(row + 8, pat + (size_t)r * W + 8, W - 8) != 0)
			return 0;
	}
	return 1;
}

struct writer_result {
	uint64_t published;
	int error;
};

static void *writer_main(void *arg)
{
	struct writer_result *res = arg;
	struct vas_export_writer_config cfg = { .camera_id = camera, .slot_count = 2, .max_width = W, .max_height = H };
	struct vas_export_writer *w = NULL;
	/* The writer owns its source buffers: it stamps them while readers compare
	 * against the shared unstamped patterns. */
	uint8_t *src = malloc(NPAT * FRAME_BYTES);
	if (!src) {
		res->error = -ENOMEM;
		atomic_store(&writer_done, true);
		return NULL;
	}
	memcpy(src, patterns, NPAT * FRAME_BYTES);
	int err = vas_export_writer_open(&w, &cfg);
	if (err < 0) {
		res->error = err;
		free(src);
		atomic_store(&writer_done, true);
		return NULL;
	}
	/* Let the readers open the export before the race starts. */
	kclock_sleep_ns(20u * 1000000u);
	uint64_t t0 = kclock_mono_ns();
	for (uint64_t seq = 1; seq <= NFRAMES; seq++) {
		uint8_t *f = src + (seq % NPAT) * FRAME_BYTES;
		stamp(f, seq);
		struct vas_frame_src s = {
			.layout = VAS_SRC_NV12,
			.width = W,
			.height = H,
			.plane = { f, f + (size_t)W * H, NULL },
			.stride = { (int32_t)W, (int32_t)W, 0 },
			.frame_number = seq,
			.pts_us = INT64_MIN,
		};
		int64_t got = vas_export_writer_publish(w, &s);
		if (got != (int64_t)seq) {
			res->error = got < 0 ? (int)got : -EPROTO;
			break;
		}
		res->published = seq;
		if ((seq & 255) == 0 && kclock_mono_ns() - t0 > MAX_NS)
			break;
	}
	atomic_store(&writer_done, true);
	/* Readers may still be validating reads of the last frames; the object is
	 * unlinked but stays mapped until they close. */
	vas_export_writer_close(&w);
	free(src);
	return NULL;
}

struct reader_result {
	unsigned seed;
	uint64_t ok, stale_before, stale_during, nofound, torn_accepted, other;
	int open_error;
};

static void *reader_main(void *arg)
{
	struct reader_result *res = arg;
	struct vas_export_reader *r = NULL;
	uint64_t t0 = kclock_mono_ns();
	while (vas_export_reader_open(&r, camera) < 0) {
		if (kclock_mono_ns() - t0 > 2000ull * 1000000ull) {
			res->open_error = 1;
			return NULL;
		}
		kclock_sleep_ns(1000000);
	}
	uint8_t *buf = malloc(FRAME_BYTES);
	for (uint64_t i = 0; !atomic_load(&writer_done); i++) {
		uint64_t newest = vas_export_reader_newest(r);
		if (newest == 0)
			continue;
		uint64_t back = (uint64_t)(rand_r(&res->seed) % 3);
		uint64_t seq = newest > back ? newest - back : newest;
		int rc;
		if (i & 1) {
			rc = vas_export_reader_copy(r, seq, buf, FRAME_BYTES, NULL);
			if (rc == VAS_EXPORT_ESTALE) {
				/* Tell "gone before we started" from "changed while copying". */
				struct vas_frame_view v;
				if (vas_export_reader_peek(r, seq, &v) == 0)
					res->stale_during++;
				else
					res->stale_before++;
				continue;
			}
		} else {
			struct vas_frame_view v;
			rc = vas_export_reader_peek(r, seq, &v);
			if (rc == 0) {
				if (v.meta.width != W || v.meta.height != H) {
					res->other++;
					continue;
				}
				for (uint32_t row = 0; row < H; row++)
					memcpy(buf + (size_t)row * W, v.y + (size_t)row * v.meta.stride_y, W);
				for (uint32_t row = 0; row < H / 2; row++)
					memcpy(buf + (size_t)(H + row) * W, v.uv + (size_t)row * v.meta.stride_uv, W);
				rc = vas_export_reader_validate(r, &v);
				if (rc == VAS_EXPORT_ESTALE) {
					res->stale_during++;
					continue;
				}
			} else if (rc == VAS_EXPORT_ESTALE) {
				res->stale_before++;
				continue;
			}
		}
		if (rc == 0) {
			if (frame_matches(buf, seq))
				res->ok++;
			else
				res->torn_accepted++;
		} else if (rc == VAS_EXPORT_ENOFRAME) {
			res->nofound++;
		} else {
			res->other++;
		}
	}
	free(buf);
	vas_export_reader_close(&r);
	return NULL;
}

static void test_seqlock_stress(void **state)
{
	(void)state;
	for (uint32_t p = 0; p < NPAT; p++)
		for (size_t i = 0; i < FRAME_BYTES; i++)
			patterns[p][i] = pattern_byte(p, i);
	snprintf(camera, sizeof(camera), "tfs-stress-%d", (int)getpid());
	atomic_init(&writer_done, false);

	struct writer_result wres = { 0 };
	struct reader_result rres[NREADERS];
	pthread_t wt, rt[NREADERS];
	memset(rres, 0, sizeof(rres));
	uint64_t t0 = kclock_mono_ns();
	assert_int_equal(pthread_create(&wt, NULL, writer_main, &wres), 0);
	for (int i = 0; i < NREADERS; i++) {
		rres[i].seed = (unsigned)(i * 7919 + 1);
		assert_int_equal(pthread_create(&rt[i], NULL, reader_main, &rres[i]), 0);
	}
	pthread_join(wt, NULL);
	for (int i = 0; i < NREADERS; i++)
		pthread_join(rt[i], NULL);
	double secs = (double)(kclock_mono_ns() - t0) / 1e9;

	struct reader_result sum = { 0 };
	for (int i = 0; i < NREADERS; i++) {
		assert_int_equal(rres[i].open_error, 0);
		sum.ok += rres[i].ok;
		sum.stale_before += rres[i].stale_before;
		sum.stale_during += rres[i].stale_during;
		sum.nofound += rres[i].nofound;
		sum.torn_accepted += rres[i].torn_accepted;
		sum.other += rres[i].other;
	}
	print_message("%.2f s: published %" PRIu64 ", reads ok %" PRIu64 ", stale before read %" PRIu64
		      ", stale during read %" PRIu64 ", not found %" PRIu64 ", torn accepted %" PRIu64
		      ", other %" PRIu64 "\n",
		      secs, wres.published, sum.ok, sum.stale_before, sum.stale_during, sum.nofound,
		      sum.torn_accepted, sum.other);
	assert_int_equal(wres.error, 0);
	assert_true(wres.published >= 1000);
	assert_int_equal(sum.torn_accepted, 0);
	assert_int_equal(sum.other, 0);
	assert_true(sum.ok > 0);
	assert_true(sum.stale_before > 0);
	/* The real race: frames that changed while being read were caught. */
	assert_true(sum.stale_during > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seqlock_stress),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_frame_ring.c: Phase 1 ring (src/vas/export/frame_ring.c). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <libavutil/buffer.h>
#include <libavutil/frame.h>

#include "clock.h"
#include "frame_ring.h"

/* A real reference-counted 16x16 yuv420p frame whose first byte is `tag`. */
static AVFrame *make_frame(uint8_t tag)
{
	AVFrame *f = av_frame_alloc();
	assert_non_null(f);
	f->format = AV_PIX_FMT_YUV420P;
	f->width = 16;
	f->height = 16;
	assert_int_equal(av_frame_get_buffer(f, 0), 0);
	f->data[0][0] = tag;
	return f;
}

static void test_order_and_refs(void **state)
{
	(void)state;
	struct vas_frame_ring *r;
	assert_int_equal(vas_frame_ring_new(&r, 4), 0);
	AVFrame *src[3];
	for (int i = 0; i < 3; i++) {
		src[i] = make_frame((uint8_t)(10 + i));
		assert_int_equal(vas_frame_ring_push(r, src[i], 100 + (uint64_t)i, (uint32_t)i), 0);
		/* The ring holds a reference, not a copy: same buffer, refcount 2. */
		assert_int_equal(av_buffer_get_ref_count(src[i]->buf[0]), 2);
	}
	AVFrame *out = av_frame_alloc();
	for (int i = 0; i < 3; i++) {
		struct vas_frame_ring_item it = { .frame = out };
		assert_int_equal(vas_frame_ring_pop(r, &it, 0), 0);
		assert_int_equal(it.frame_number, 100 + (uint64_t)i);
		assert_int_equal(it.flags, (uint32_t)i);
		assert_ptr_equal(out->data[0], src[i]->data[0]);
		assert_int_equal(out->data[0][0], 10 + i);
		assert_true(it.capture_mono_ns > 0 && it.capture_realtime_ns > 0);
		av_frame_unref(out);
		assert_int_equal(av_buffer_get_ref_count(src[i]->buf[0]), 1);
	}
	struct vas_frame_ring_stats st;
	vas_frame_ring_stats(r, &st);
	assert_int_equal(st.pushed, 3);
	assert_int_equal(st.popped, 3);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.depth, 0);
	for (int i = 0; i < 3; i++)
		av_frame_free(&src[i]);
	av_frame_free(&out);
	vas_frame_ring_free(&r);
	assert_null(r);
}

static void test_drop_oldest(void **state)
{
	(void)state;
	struct vas_frame_ring *r;
	assert_int_equal(vas_frame_ring_new(&r, 3), 0);
	AVFrame *src[5];
	for (int i = 0; i < 5; i++) {
		src[i] = make_frame((uint8_t)i);
		int rc = vas_frame_ring_push(r, src[i], (uint64_t)i, 0);
		assert_int_equal(rc, i < 3 ? 0 : 1);
	}
	/* Frames 0 and 1 were evicted and their references released at once. */
	assert_int_equal(av_buffer_get_ref_count(src[0]->buf[0]), 1);
	assert_int_equal(av_buffer_get_ref_count(src[1]->buf[0]), 1);
	assert_int_equal(av_buffer_get_ref_count(src[2]->buf[0]), 2);
	struct vas_frame_ring_stats st;
	vas_frame_ring_stats(r, &st);
	assert_int_equal(st.pushed, 5);
	assert_int_equal(st.dropped, 2);
	assert_int_equal(st.depth, 3);
	AVFrame *out = av_frame_alloc();
	for (uint64_t want = 2; want < 5; want++) {
		struct vas_frame_ring_item it = { .frame = out };
		assert_int_equal(vas_frame_ring_pop(r, &it, 0), 0);
		assert_int_equal(it.frame_number, want);
		assert_int_equal(out->data[0][0], (uint8_t)want);
		av_frame_unref(out);
	}
	struct vas_frame_ring_item it = { .frame = out };
	assert_int_equal(vas_frame_ring_pop(r, &it, 0), -ETIMEDOUT);
	for (int i = 0; i < 5; i++)
		av_frame_free(&src[i]);
	av_frame_free(&out);
	vas_frame_ring_free(&r);
}

static void test_pop_timeout_and_close(void **state)
{
	(void)state;
	struct vas_frame_ring *r;
	assert_int_equal(vas_frame_ring_new(&r, 2), 0);
	AVFrame *out = av_frame_alloc();
	struct vas_frame_ring_item it = { .frame = out };
	uint64_t t0 = kclock_mono_ns();
	assert_int_equal(vas_frame_ring_pop(r, &it, 120), -ETIMEDOUT);
	uint64_t waited = kclock_mono_ns() - t0;
	assert_true(waited >= 115u * 1000000u);
	assert_true(waited < 2000u * 1000000u);

	/* After close, what is left is still handed out, then -ESHUTDOWN. */
	AVFrame *f = make_frame(7);
	assert_int_equal(vas_frame_ring_push(r, f, 1, 0), 0);
	vas_frame_ring_close(r);
	assert_int_equal(vas_frame_ring_pop(r, &it, 100), 0);
	av_frame_unref(out);
	assert_int_equal(vas_frame_ring_pop(r, &it, 100), -ESHUTDOWN);
	av_frame_free(&f);
	av_frame_free(&out);
	vas_frame_ring_free(&r);
}

struct waiter {
	struct vas_frame_ring *r;
	int rc;
	uint64_t woke_ns;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	AVFrame *out = av_frame_alloc();
	struct vas_frame_ring_item it = { .frame = out };
	w->rc = vas_frame_ring_pop(w->r, &it, 5000);
	w->woke_ns = kclock_mono_ns();
	av_frame_free(&out);
	return NULL;
}

/* A consumer blocked in pop is woken by close, long before its timeout. */
static void test_close_wakes_consumer(void **state)
{
	(void)state;
	struct waiter w = { 0 };
	assert_int_equal(vas_frame_ring_new(&w.r, 2), 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, waiter_main, &w), 0);
	kclock_sleep_ns(50u * 1000000u);
	uint64_t t0 = kclock_mono_ns();
	vas_frame_ring_close(w.r);
	pthread_join(th, NULL);
	assert_int_equal(w.rc, -ESHUTDOWN);
	assert_true(w.woke_ns - t0 < 1000u * 1000000u);
	vas_frame_ring_free(&w.r);
}

/* The producer never waits on a consumer: with no consumer at all, 10k pushes
 * into a ring of 8 finish quickly and drop exactly pushed - capacity. */
static void test_full_ring_never_blocks(void **state)
{
	(void)state;
	const uint32_t cap = 8, n = 10000;
	struct vas_frame_ring *r;
	assert_int_equal(vas_frame_ring_new(&r, cap), 0);
	AVFrame *f = make_frame(1);
	uint64_t t0 = kclock_mono_ns();
	uint32_t evictions = 0;
	for (uint32_t i = 0; i < n; i++) {
		int rc = vas_frame_ring_push(r, f, i, 0);
		assert_true(rc == 0 || rc == 1);
		evictions += (uint32_t)rc;
	}
	uint64_t took = kclock_mono_ns() - t0;
	struct vas_frame_ring_stats st;
	vas_frame_ring_stats(r, &st);
	assert_int_equal(st.pushed, n);
	assert_int_equal(st.dropped, n - cap);
	assert_int_equal(evictions, n - cap);
	assert_int_equal(st.depth, cap);
	/* Only the ring's references remain on top of ours. */
	assert_int_equal(av_buffer_get_ref_count(f->buf[0]), 1 + cap);
	/* ~1 us per push even under ASan on a busy 2-core machine; 2 s is generous. */
	print_message("10k pushes into a full ring: %.1f ms\n", (double)took / 1e6);
	assert_true(took < 2000u * 1000000u);
	/* The newest `cap` frames are the ones kept. */
	AVFrame *out = av_frame_alloc();
	struct vas_frame_ring_item it = { .frame = out };
	assert_int_equal(vas_frame_ring_pop(r, &it, 0), 0);
	assert_int_equal(it.frame_number, n - cap);
	av_frame_unref(out);
	av_frame_free(&out);
	/* Teardown with frames inside releases them (ASan/LSan would report a leak). */
	vas_frame_ring_free(&r);
	assert_int_equal(av_buffer_get_ref_count(f->buf[0]), 1);
	av_frame_free(&f);
}

struct prodcons {
	struct vas_frame_ring *r;
	AVFrame *src;
	uint32_t n;
	uint64_t consumed, last_number, order_errors;
};

static void *consumer_main(void *arg)
{
	struct prodcons *pc = arg;
	AVFrame *out = av_frame_alloc();
	for (;;) {
		struct vas_frame_ring_item it = { .frame = out };
		int rc = vas_frame_ring_pop(pc->r, &it, 1000);
		if (rc == -ESHUTDOWN || rc == -ETIMEDOUT)
			break;
		if (pc->consumed && it.frame_number <= pc->last_number)
			pc->order_errors++;
		pc->last_number = it.frame_number;
		pc->consumed++;
		av_frame_unref(out);
	}
	av_frame_free(&out);
	return NULL;
}

/* Concurrent producer and consumer: frame numbers come out strictly increasing
 * and pushed == popped + dropped + left. */
static void test_concurrent_accounting(void **state)
{
	(void)state;
	struct prodcons pc = { .n = 20000 };
	assert_int_equal(vas_frame_ring_new(&pc.r, 4), 0);
	pc.src = make_frame(3);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, consumer_main, &pc), 0);
	for (uint32_t i = 0; i < pc.n; i++)
		assert_true(vas_frame_ring_push(pc.r, pc.src, i + 1, 0) >= 0);
	vas_frame_ring_close(pc.r);
	pthread_join(th, NULL);
	struct vas_frame_ring_stats st;
	vas_frame_ring_stats(pc.r, &st);
	assert_int_equal(pc.order_errors, 0);
	assert_int_equal(st.pushed, pc.n);
	assert_int_equal(st.popped, pc.consumed);
	assert_int_equal(st.popped + st.dropped + st.depth, st.pushed);
	assert_int_equal(st.depth, 0);
	assert_int_equal(pc.last_number, pc.n); /* the newest frame is never the one dropped */
	print_message("consumed %" PRIu64 " dropped %" PRIu64 "\n", st.popped, st.dropped);
	vas_frame_ring_free(&pc.r);
	av_frame_free(&pc.src);
}

static void test_bad_args(void **state)
{
	(void)state;
	struct vas_frame_ring *r = (void *)1;
	assert_int_equal(vas_frame_ring_new(&r, 0), -EINVAL);
	assert_null(r);
	assert_int_equal(vas_frame_ring_new(&r, VAS_FRAME_RING_MAX + 1), -EINVAL);
	assert_int_equal(vas_frame_ring_new(&r, 1), 0);
	assert_int_equal(vas_frame_ring_push(r, NULL, 0, 0), -EINVAL);
	struct vas_frame_ring_item it = { 0 };
	assert_int_equal(vas_frame_ring_pop(r, &it, 0), -EINVAL); /* no destination frame */
	/* A frame without buffers cannot be referenced: error, not queued. */
	AVFrame *empty = av_frame_alloc();
	assert_true(vas_frame_ring_push(r, empty, 0, 0) < 0);
	struct vas_frame_ring_stats st;
	vas_frame_ring_stats(r, &st);
	assert_int_equal(st.pushed, 0);
	av_frame_free(&empty);
	vas_frame_ring_free(&r);
	vas_frame_ring_free(&r); /* safe on NULL */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_refs),
		cmocka_unit_test(test_drop_oldest),
		cmocka_unit_test(test_pop_timeout_and_close),
		cmocka_unit_test(test_close_wakes_consumer),
		cmocka_unit_test(test_full_ring_never_blocks),
		cmocka_unit_test(test_concurrent_accounting),
		cmocka_unit_test(test_bad_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* frame_ring.c: Phase 1 bounded ring; the synchronisation argument is in frame_ring.h. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "frame_ring.h"

struct ring_entry {
	AVFrame *frame; /* allocated once; holds a reference while queued */
	uint64_t frame_number;
	uint32_t flags;
	uint64_t capture_realtime_ns;
	uint64_t capture_mono_ns;
};

struct vas_frame_ring {
	pthread_mutex_t lock;
	pthread_cond_t nonempty; /* CLOCK_MONOTONIC; consumers wait on it */

	/* Protected by lock. */
	struct ring_entry *entries;
	uint32_t capacity;
	uint32_t head;  /* oldest entry */
	uint32_t count; /* entries in use, 0..capacity */
	int closed;
	uint64_t pushed, popped, dropped;

	/* Producer-private (only the pushing thread touches them, outside lock):
	 * `incoming` receives the new reference before it is moved into the ring,
	 * `evicted` receives the oldest frame when the ring is full and is
	 * unreferenced after the lock is released. */
	AVFrame *incoming;
	AVFrame *evicted;
};

int vas_frame_ring_new(struct vas_frame_ring **out, uint32_t capacity)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (capacity == 0 || capacity > VAS_FRAME_RING_MAX)
		return -EINVAL;
	struct vas_frame_ring *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->capacity = capacity;
	r->entries = calloc(capacity, sizeof(*r->entries));
	if (!r->entries)
		goto fail;
	for (uint32_t i = 0; i < capacity; i++)
		if (!(r->entries[i].frame = av_frame_alloc()))
			goto fail;
	r->incoming = av_frame_alloc();
	r->evicted = av_frame_alloc();
	if (!r->incoming || !r->evicted)
		goto fail;

	pthread_condattr_t ca;
	if (pthread_condattr_init(&ca) != 0)
		goto fail;
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int rc = pthread_cond_init(&r->nonempty, &ca);
	pthread_condattr_destroy(&ca);
	if (rc != 0)
		goto fail;
	if (pthread_mutex_init(&r->lock, NULL) != 0) {
		pthread_cond_destroy(&r->nonempty);
		goto fail;
	}
	*out = r;
	return 0;

fail:
	if (r->entries)
		for (uint32_t i = 0; i < capacity; i++)
			av_frame_free(&r->entries[i].frame);
	free(r->entries);
	av_frame_free(&r->incoming);
	av_frame_free(&r->evicted);
	free(r);
	return -ENOMEM;
}

void vas_frame_ring_free(struct vas_frame_ring **rp)
{
	if (!rp || !*rp)
		return;
	struct vas_frame_ring *r = *rp;
	/* av_frame_free unreferences queued frames too. */
	for (uint32_t i = 0; i < r->capacity; i++)
		av_frame_free(&r->entries[i].frame);
	free(r->entries);
	av_frame_free(&r->incoming);
	av_frame_free(&r->evicted);
	pthread_cond_destroy(&r->nonempty);
	pthread_mutex_destroy(&r->lock);
	free(r);
	*rp = NULL;
}

int vas_frame_ring_push(struct vas_frame_ring *r, const AVFrame *src, uint64_t frame_number, uint32_t flags)
{
	if (!r || !src)
		return -EINVAL;
	/* Reference counting outside the lock: only this (producer) thread touches
	 * `incoming`. */
	int err = av_frame_ref(r->incoming, src);
	if (err < 0)
		return err;
	uint64_t real_ns = kclock_real_ns(), mono_ns = kclock_mono_ns();
	int evicted = 0;

	pthread_mutex_lock(&r->lock);
	if (r->count == r->capacity) {
		/* Full: the oldest frame makes room. Moving it to `evicted` is a
		 * struct copy; its buffers are released after unlocking. */
		av_frame_move_ref(r->evicted, r->entries[r->head].frame);
		r->head = (r->head + 1) % r->capacity;
		r->count--;
		r->dropped++;
		evicted = 1;
	}
	struct ring_entry *e = &r->entries[(r->head + r->count) % r->capacity];
	av_frame_move_ref(e->frame, r->incoming);
	e->frame_number = frame_number;
	e->flags = flags;
	e->capture_realtime_ns = real_ns;
	e->capture_mono_ns = mono_ns;
	r->count++;
	r->pushed++;
	pthread_mutex_unlock(&r->lock);

	/* Signalled after unlocking so a woken consumer does not immediately block
	 * on the mutex; a futex wake only when someone waits. */
	pthread_cond_signal(&r->nonempty);
	if (evicted)
		av_frame_unref(r->evicted);
	return evicted;
}

int vas_frame_ring_pop(struct vas_frame_ring *r, struct vas_frame_ring_item *item, int timeout_ms)
{
	if (!r || !item || !item->frame)
		return -EINVAL;
	struct timespec deadline;
	if (timeout_ms > 0) {
		uint64_t t = kclock_mono_ns() + (uint64_t)timeout_ms * 1000000u;
		deadline.tv_sec = (time_t)(t / 1000000000u);
		deadline.tv_nsec = (long)(t % 1000000000u);
	}
	pthread_mutex_lock(&r->lock);
	while (r->count == 0) {
		if (r->closed) {
			pthread_mutex_unlock(&r->lock);
			return -ESHUTDOWN;
		}
		if (timeout_ms <= 0 || pthread_cond_timedwait(&r->nonempty, &r->lock, &deadline) == ETIMEDOUT) {
			if (r->count > 0)
				break;
			pthread_mutex_unlock(&r->lock);
			return -ETIMEDOUT;
		}
	}
	struct ring_entry *e = &r->entries[r->head];
	av_frame_move_ref(item->frame, e->frame);
	item->frame_number = e->frame_number;
	item->flags = e->flags;
	item->capture_realtime_ns = e->capture_realtime_ns;
	item->capture_mono_ns = e->capture_mono_ns;
	r->head = (r->head + 1) % r->capacity;
	r->count--;
	r->popped++;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

void vas_frame_ring_close(struct vas_frame_ring *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->closed = 1;
	pthread_mutex_unlock(&r->lock);
	pthread_cond_broadcast(&r->nonempty);
}

void vas_frame_ring_stats(struct vas_frame_ring *r, struct vas_frame_ring_stats *st)
{
	if (!r || !st)
		return;
	pthread_mutex_lock(&r->lock);
	st->pushed = r->pushed;
	st->popped = r->popped;
	st->dropped = r->dropped;
	st->depth = r->count;
	pthread_mutex_unlock(&r->lock);
}

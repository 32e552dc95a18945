/* egress_common.c: see egress_common.h. */
#include "egress_common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

int egress_queue_init(struct egress_queue *q, uint32_t max_packets)
{
	memset(q, 0, sizeof(*q));
	if (max_packets == 0)
		max_packets = 256;
	q->max_packets = max_packets;
	q->cap = max_packets + 64; /* room for control events */
	q->ev = calloc(q->cap, sizeof(*q->ev));
	if (!q->ev)
		return -ENOMEM;
	pthread_mutex_init(&q->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cv, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

void egress_ev_free(struct egress_ev *ev)
{
	av_packet_free(&ev->pkt);
	avcodec_parameters_free(&ev->par);
}

void egress_queue_destroy(struct egress_queue *q)
{
	if (!q->ev)
		return;
	while (q->count) {
		egress_ev_free(&q->ev[q->head]);
		q->head = (q->head + 1) % q->cap;
		q->count--;
	}
	free(q->ev);
	q->ev = NULL;
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
}

/* Called with the lock held and count < cap. */
static void put_locked(struct egress_queue *q, const struct egress_ev *ev)
{
	q->ev[(q->head + q->count) % q->cap] = *ev;
	q->count++;
	pthread_cond_signal(&q->cv);
}

bool egress_queue_push_packet(struct egress_queue *q, const AVPacket *pkt)
{
	pthread_mutex_lock(&q->mu);
	if (q->packets >= q->max_packets || q->count >= q->cap) {
		q->pending_gap = true;
		pthread_mutex_unlock(&q->mu);
		return false;
	}
	pthread_mutex_unlock(&q->mu);
	/* The reference is taken outside the lock (it may copy a non-refcounted packet). */
	AVPacket *ref = av_packet_alloc();
	if (!ref || av_packet_ref(ref, pkt) < 0) {
		av_packet_free(&ref);
		pthread_mutex_lock(&q->mu);
		q->pending_gap = true;
		pthread_mutex_unlock(&q->mu);
		return false;
	}
	struct egress_ev ev = { .type = EGRESS_EV_PACKET, .pkt = ref };
	pthread_mutex_lock(&q->mu);
	if (q->packets >= q->max_packets || q->count >= q->cap) { /* only this thread adds packets */
		q->pending_gap = true;
		pthread_mutex_unlock(&q->mu);
		av_packet_free(&ref);
		return false;
	}
	ev.gap_before = q->pending_gap;
	q->pending_gap = false;
	q->packets++;
	put_locked(q, &ev);
	pthread_mutex_unlock(&q->mu);
	return true;
}

int egress_queue_push_ctl(struct egress_queue *q, enum egress_ev_type type, const AVCodecParameters *par,
			  AVRational tb)
{
	struct egress_ev ev = { .type = type, .tb = tb };
	if (par) {
		ev.par = avcodec_parameters_alloc();
		if (!ev.par || avcodec_parameters_copy(ev.par, par) < 0) {
			avcodec_parameters_free(&ev.par);
			return -ENOMEM;
		}
	}
	pthread_mutex_lock(&q->mu);
	if (q->count >= q->cap) {
		/* Only possible if the branch thread is stuck and the ingest reconnects ~64
		 * times meanwhile: make room by dropping the oldest packet-or-event. */
		egress_ev_free(&q->ev[q->head]);
		if (q->ev[q->head].type == EGRESS_EV_PACKET)
			q->packets--;
		q->head = (q->head + 1) % q->cap;
		q->count--;
	}
	put_locked(q, &ev);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

bool egress_queue_pop(struct egress_queue *q, struct egress_ev *out, int timeout_ms)
{
	pthread_mutex_lock(&q->mu);
	if (q->count == 0 && timeout_ms > 0) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += timeout_ms / 1000;
		ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (q->count == 0)
			if (pthread_cond_timedwait(&q->cv, &q->mu, &ts) == ETIMEDOUT)
				break;
	}
	if (q->count == 0) {
		pthread_mutex_unlock(&q->mu);
		return false;
	}
	*out = q->ev[q->head];
	memset(&q->ev[q->head], 0, sizeof(q->ev[q->head]));
	q->head = (q->head + 1) % q->cap;
	q->count--;
	if (out->type == EGRESS_EV_PACKET)
		q->packets--;
	pthread_mutex_unlock(&q->mu);
	return true;
}

void egress_stats_init(struct egress_stats *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	snprintf(s->state, sizeof(s->state), "idle");
}

void egress_stats_set_state(struct egress_stats *s, const char *state)
{
	pthread_mutex_lock(&s->mu);
	snprintf(s->state, sizeof(s->state), "%s", state);
	pthread_mutex_unlock(&s->mu);
}

void egress_stats_error(struct egress_stats *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pthread_mutex_lock(&s->mu);
	vsnprintf(s->last_error, sizeof(s->last_error), fmt, ap);
	pthread_mutex_unlock(&s->mu);
	va_end(ap);
	atomic_fetch_add(&s->errors, 1);
}

void egress_stats_get(struct egress_stats *s, struct vas_branch_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->packets_in = atomic_load(&s->packets_in);
	out->packets_out = atomic_load(&s->packets_out);
	out->packets_dropped = atomic_load(&s->packets_dropped);
	out->bytes_out = atomic_load(&s->bytes_out);
	out->segments = atomic_load(&s->segments);
	out->errors = atomic_load(&s->errors);
	pthread_mutex_lock(&s->mu);
	memcpy(out->state, s->state, sizeof(out->state));
	memcpy(out->last_error, s->last_error, sizeof(out->last_error));
	pthread_mutex_unlock(&s->mu);
}

bool egress_is_annexb(const uint8_t *b, size_t n)
{
	return (n >= 3 && b[0] == 0 && b[1] == 0 && b[2] == 1) ||
	       (n >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 1);
}

const uint8_t *egress_h264_next_nal(const uint8_t *buf, size_t size, size_t *pos, size_t *len)
{
	size_t i = *pos;
	/* find a start code */
	while (i + 3 <= size && !(buf[i] == 0 && buf[i + 1] == 0 && buf[i + 2] == 1))
		i++;
	if (i + 3 > size)
		return NULL;
	size_t start = i + 3;
	size_t j = start;
	while (j + 3 <= size && !(buf[j] == 0 && buf[j + 1] == 0 && (buf[j + 2] == 1 || (buf[j + 2] == 0 && j + 3 < size && buf[j + 3] == 1))))
		j++;
	if (j + 3 > size)
		j = size;
	*pos = j;
	*len = j - start;
	return buf + start;
}

unsigned egress_h264_scan(const uint8_t *buf, size_t size, struct egress_h264_ps *ps)
{
	unsigned mask = 0;
	size_t pos = 0, len;
	const uint8_t *nal;
	while ((nal = egress_h264_next_nal(buf, size, &pos, &len))) {
		if (len == 0)
			continue;
		int t = nal[0] & 0x1f;
		if (t == 7 && len + 4 <= sizeof(ps->sps)) {
			memcpy(ps->sps, "\0\0\0\1", 4);
			memcpy(ps->sps + 4, nal, len);
			ps->sps_len = len + 4;
			mask |= 1;
		} else if (t == 8 && len + 4 <= sizeof(ps->pps)) {
			memcpy(ps->pps, "\0\0\0\1", 4);
			memcpy(ps->pps + 4, nal, len);
			ps->pps_len = len + 4;
			mask |= 2;
		} else if (t == 5) {
			mask |= 4;
		}
	}
	return mask;
}

uint64_t egress_now_ms(void)
{
	return kclock_mono_ns() / 1000000u;
}

void egress_dts_reset(struct egress_dts *d, int video_delay)
{
	d->delay = video_delay < 0 ? 0 : video_delay > 16 ? 16 : video_delay;
	for (int i = 0; i < 17; i++)
		d->buf[i] = AV_NOPTS_VALUE;
}

int64_t egress_dts_next(struct egress_dts *d, int64_t pts, int64_t duration)
{
	if (d->delay == 0)
		return pts;
	d->buf[0] = pts;
	for (int i = 1; i < d->delay + 1 && d->buf[i] == AV_NOPTS_VALUE; i++)
		d->buf[i] = pts + (int64_t)(i - d->delay - 1) * duration;
	for (int i = 0; i < d->delay && d->buf[i] > d->buf[i + 1]; i++) {
		int64_t t = d->buf[i];
		d->buf[i] = d->buf[i + 1];
		d->buf[i + 1] = t;
	}
	return d->buf[0];
}

int egress_front_stream_open(struct vas_branch *b, const AVCodecParameters *par, AVRational time_base)
{
	struct egress_front *f = (struct egress_front *)b;
	if (!par)
		return -EINVAL;
	return egress_queue_push_ctl(&f->q, EGRESS_EV_OPEN, par, time_base);
}

void egress_front_packet(struct vas_branch *b, const AVPacket *pkt)
{
	struct egress_front *f = (struct egress_front *)b;
	atomic_fetch_add(&f->st.packets_in, 1);
	if (!egress_queue_push_packet(&f->q, pkt)) {
		uint64_t d = atomic_fetch_add(&f->st.packets_dropped, 1) + 1;
		klog_ratelimited(&f->log, &f->rl_drop, 1, 5000, KLOG_WARN,
				 "%s queue full (%u packets): dropping until the next keyframe (%llu dropped so far)",
				 f->what, f->q.max_packets, (unsigned long long)d);
	}
}

void egress_front_stream_close(struct vas_branch *b)
{
	struct egress_front *f = (struct egress_front *)b;
	egress_queue_push_ctl(&f->q, EGRESS_EV_CLOSE, NULL, (AVRational){ 0, 1 });
}

void egress_front_get_stats(struct vas_branch *b, struct vas_branch_stats *st)
{
	struct egress_front *f = (struct egress_front *)b;
	egress_stats_get(&f->st, st);
}

void egress_front_stop(struct egress_front *f)
{
	if (!f->thread_started)
		return;
	egress_queue_push_ctl(&f->q, EGRESS_EV_STOP, NULL, (AVRational){ 0, 1 });
	pthread_join(f->thread, NULL);
	f->thread_started = false;
}

void egress_front_fini(struct egress_front *f)
{
	egress_queue_destroy(&f->q);
	pthread_mutex_destroy(&f->st.mu);
}

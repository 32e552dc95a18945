/* frame_tap.c: ring + exporter thread + writer for one camera (see frame_tap.h). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/imgutils.h>
#include <libavutil/mathematics.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "frame_ring.h"
#include "frame_tap.h"
#include "log.h"
#include "vas/frame_writer.h"

/* How often the exporter wakes without frames, to serve tick requests and notice shutdown. */
#define VAS_TAP_POLL_MS 50

struct vas_frame_tap {
	struct klog_ctx log;
	struct vas_frame_tap_config cfg; /* camera_id/group point at the copies below */
	char camera_id[VAS_EXPORT_CAMERA_ID_MAX];
	char group[64];

	struct vas_frame_ring *ring;
	pthread_t thread;
	int thread_started;
	atomic_bool stop;
	atomic_bool tick_requested; /* set by the decode thread, served by the exporter */

	/* Counters written by one thread each, read by stats() from any thread. */
	_Atomic uint64_t pushed, exported, errors;

	/* Exporter-thread private: the writer (one thread at a time per writer),
	 * the swscale context and its NV12 output buffer. */
	struct vas_export_writer *writer;
	struct SwsContext *sws;
	int sws_w, sws_h, sws_fmt;
	uint8_t *nv12;
	int nv12_linesize[4];
	uint8_t *nv12_data[4];
	uint64_t dropped_reported; /* ring drops already added to the header */
	struct klog_ratelimit rl_err;
};

static int writer_open(struct vas_frame_tap *t, uint32_t w, uint32_t h)
{
	struct vas_export_writer_config wc = {
		.camera_id = t->camera_id,
		.slot_count = t->cfg.slot_count,
		.max_width = w,
		.max_height = h,
		.mode = 0640,
		.group = t->group[0] ? t->group : NULL,
	};
	int err = vas_export_writer_open(&t->writer, &wc);
	if (err < 0)
		KLOG_ERR(&t->log, "cannot create the frame export: %s", vas_export_strerror(err));
	return err;
}

/* Convert any software format to NV12 with a context and buffer kept across
 * frames; re-created only when the input geometry or format changes. */
static int convert_nv12(struct vas_frame_tap *t, const AVFrame *f)
{
	if (!t->sws || t->sws_w != f->width || t->sws_h != f->height || t->sws_fmt != f->format) {
		sws_freeContext(t->sws);
		av_freep(&t->nv12_data[0]);
		t->sws = sws_getContext(f->width, f->height, f->format, f->width, f->height, AV_PIX_FMT_NV12,
					SWS_BILINEAR, NULL, NULL, NULL);
		if (!t->sws)
			return AVERROR(EINVAL);
		int err = av_image_alloc(t->nv12_data, t->nv12_linesize, f->width, f->height, AV_PIX_FMT_NV12, 64);
		if (err < 0) {
			sws_freeContext(t->sws);
			t->sws = NULL;
			return err;
		}
		t->sws_w = f->width;
		t->sws_h = f->height;
		t->sws_fmt = f->format;
		const char *name = av_get_pix_fmt_name(f->format);
		KLOG_INFO(&t->log, "converting %s %dx%d to nv12 with swscale", name ? name : "?", f->width,
			  f->height);
	}
	int h = sws_scale(t->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, t->nv12_data,
			  t->nv12_linesize);
	return h == f->height ? 0 : AVERROR(EINVAL);
}

static int64_t frame_pts_us(const struct vas_frame_tap *t, const AVFrame *f)
{
	int64_t pts = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts;
	AVRational tb = t->cfg.time_base;
	if (tb.num <= 0 || tb.den <= 0)
		tb = f->time_base;
	if (pts == AV_NOPTS_VALUE || tb.num <= 0 || tb.den <= 0)
		return INT64_MIN;
	return av_rescale_q(pts, tb, (AVRational){ 1, 1000000 });
}

static int export_one(struct vas_frame_tap *t, const struct vas_frame_ring_item *it)
{
	const AVFrame *f = it->frame;
	if (f->width <= 0 || f->height <= 0 || f->hw_frames_ctx)
		return AVERROR(EINVAL);
	struct vas_frame_src src = {
		.width = (uint32_t)f->width,
		.height = (uint32_t)f->height,
		.frame_number = it->frame_number,
		.pts_us = frame_pts_us(t, f),
		.capture_realtime_ns = it->capture_realtime_ns,
		.capture_mono_ns = it->capture_mono_ns,
		.flags = it->flags,
	};
	if (f->key_frame)
		src.flags |= VAS_FRAME_F_KEYFRAME;
	if (f->flags & AV_FRAME_FLAG_CORRUPT)
		src.flags |= VAS_FRAME_F_CORRUPT;
	switch (f->format) {
	case AV_PIX_FMT_YUV420P:
	case AV_PIX_FMT_YUVJ420P:
		src.layout = VAS_SRC_YUV420P;
		for (int i = 0; i < 3; i++) {
			src.plane[i] = f->data[i];
			src.stride[i] = f->linesize[i];
		}
		break;
	case AV_PIX_FMT_NV12:
		src.layout = VAS_SRC_NV12;
		for (int i = 0; i < 2; i++) {
			src.plane[i] = f->data[i];
			src.stride[i] = f->linesize[i];
		}
		break;
	default: {
		int err = convert_nv12(t, f);
		if (err < 0)
			return err;
		src.layout = VAS_SRC_NV12;
		for (int i = 0; i < 2; i++) {
			src.plane[i] = t->nv12_data[i];
			src.stride[i] = t->nv12_linesize[i];
		}
		break;
	}
	}
	if (src.stride[0] <= 0)
		return AVERROR(EINVAL); /* negative (bottom-up) linesizes are not produced by video decoders */
	if (!t->writer) {
		int err = writer_open(t, src.width, src.height);
		if (err < 0)
			return err;
	}
	int64_t seq = vas_export_writer_publish(t->writer, &src);
	return seq < 0 ? (int)seq : 0;
}

/* Ring drops go into the export header for readers; counted from the ring's
 * total so none is lost while the writer does not exist yet. */
static void report_dropped(struct vas_frame_tap *t)
{
	if (!t->writer)
		return;
	struct vas_frame_ring_stats rs;
	vas_frame_ring_stats(t->ring, &rs);
	if (rs.dropped > t->dropped_reported) {
		vas_export_writer_add_dropped(t->writer, rs.dropped - t->dropped_reported);
		t->dropped_reported = rs.dropped;
	}
}

static void *exporter_main(void *arg)
{
	struct vas_frame_tap *t = arg;
	AVFrame *frame = av_frame_alloc();
	if (!frame) {
		KLOG_ERR(&t->log, "exporter: out of memory");
		return NULL;
	}
	for (;;) {
		struct vas_frame_ring_item it = { .frame = frame };
		int rc = vas_frame_ring_pop(t->ring, &it, VAS_TAP_POLL_MS);
		if (rc == -ESHUTDOWN)
			break;
		if (atomic_exchange_explicit(&t->tick_requested, false, memory_order_relaxed))
			vas_export_writer_tick(t->writer);
		report_dropped(t);
		if (rc == -ETIMEDOUT) {
			if (atomic_load_explicit(&t->stop, memory_order_acquire))
				break;
			continue;
		}
		int err = export_one(t, &it);
		av_frame_unref(frame);
		if (err < 0) {
			atomic_fetch_add_explicit(&t->errors, 1, memory_order_relaxed);
			char msg[AV_ERROR_MAX_STRING_SIZE];
			av_strerror(err, msg, sizeof(msg));
			klog_ratelimited(&t->log, &t->rl_err, 1, 5000, KLOG_WARN,
					 "frame %" PRIu64 " not exported: %s", it.frame_number, msg);
			continue;
		}
		atomic_fetch_add_explicit(&t->exported, 1, memory_order_relaxed);
	}
	av_frame_free(&frame);
	return NULL;
}

int vas_frame_tap_new(struct vas_frame_tap **out, const struct vas_frame_tap_config *cfg)
{
	if (!out || !cfg)
		return -EINVAL;
	*out = NULL;
	char name[80];
	if (vas_export_shm_name(name, sizeof(name), cfg->camera_id) < 0)
		return -EINVAL;
	if ((cfg->max_width == 0) != (cfg->max_height == 0))
		return -EINVAL;
	if (cfg->group && strlen(cfg->group) >= 64)
		return -EINVAL;
	uint32_t ring_size = cfg->ring_size ? cfg->ring_size : 4u;
	uint32_t slots = cfg->slot_count ? cfg->slot_count : 4u;
	if (ring_size > VAS_FRAME_RING_MAX || slots < 2 || slots > VAS_EXPORT_MAX_SLOTS)
		return -EINVAL;

	struct vas_frame_tap *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	klog_ctx_init(&t->log, "vasd", "cam=%s", cfg->camera_id);
	t->cfg = *cfg;
	t->cfg.ring_size = ring_size;
	t->cfg.slot_count = slots;
	snprintf(t->camera_id, sizeof(t->camera_id), "%s", cfg->camera_id);
	if (cfg->group)
		snprintf(t->group, sizeof(t->group), "%s", cfg->group);
	t->cfg.camera_id = t->camera_id;
	t->cfg.group = t->group[0] ? t->group : NULL;
	atomic_init(&t->stop, false);
	atomic_init(&t->tick_requested, false);

	int err = vas_frame_ring_new(&t->ring, ring_size);
	if (err < 0)
		goto fail;
	if (cfg->max_width && (err = writer_open(t, cfg->max_width, cfg->max_height)) < 0)
		goto fail;
	err = -pthread_create(&t->thread, NULL, exporter_main, t);
	if (err < 0) {
		KLOG_ERR(&t->log, "cannot start the exporter thread: %s", strerror(-err));
		goto fail;
	}
	t->thread_started = 1;
	KLOG_INFO(&t->log, "frame tap on: ring %u, %u export slots%s", ring_size, slots,
		  cfg->max_width ? "" : ", export created at the first frame");
	*out = t;
	return 0;

fail:
	vas_export_writer_close(&t->writer);
	vas_frame_ring_free(&t->ring);
	free(t);
	return err;
}

int vas_frame_tap_push(struct vas_frame_tap *t, const AVFrame *f, uint64_t frame_number, uint32_t flags)
{
	if (!t || !f)
		return AVERROR(EINVAL);
	atomic_fetch_add_explicit(&t->pushed, 1, memory_order_relaxed);
	int rc = vas_frame_ring_push(t->ring, f, frame_number, flags);
	if (rc < 0) {
		atomic_fetch_add_explicit(&t->errors, 1, memory_order_relaxed);
		return rc;
	}
	return 0;
}

void vas_frame_tap_tick(struct vas_frame_tap *t)
{
	if (t)
		atomic_store_explicit(&t->tick_requested, true, memory_order_relaxed);
}

void vas_frame_tap_stats(const struct vas_frame_tap *t, struct vas_frame_tap_stats *st)
{
	if (!t || !st)
		return;
	struct vas_frame_ring_stats rs;
	vas_frame_ring_stats(t->ring, &rs);
	st->pushed = atomic_load_explicit(&t->pushed, memory_order_relaxed);
	st->exported = atomic_load_explicit(&t->exported, memory_order_relaxed);
	st->errors = atomic_load_explicit(&t->errors, memory_order_relaxed);
	st->dropped = rs.dropped;
}

void vas_frame_tap_free(struct vas_frame_tap **tp)
{
	if (!tp || !*tp)
		return;
	struct vas_frame_tap *t = *tp;
	if (t->thread_started) {
		atomic_store_explicit(&t->stop, true, memory_order_release);
		vas_frame_ring_close(t->ring);
		pthread_join(t->thread, NULL);
	}
	struct vas_frame_tap_stats st;
	vas_frame_tap_stats(t, &st);
	KLOG_INFO(&t->log,
		  "frame tap off: pushed %" PRIu64 ", exported %" PRIu64 ", dropped %" PRIu64 ", errors %" PRIu64,
		  st.pushed, st.exported, st.dropped, st.errors);
	vas_export_writer_close(&t->writer);
	vas_frame_ring_free(&t->ring);
	sws_freeContext(t->sws);
	av_freep(&t->nv12_data[0]);
	free(t);
	*tp = NULL;
}

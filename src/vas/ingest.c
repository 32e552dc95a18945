/* ingest.c: one camera's thread: demux, branches, decode, tap, reconnect.
 * See ingest.h for the contract. */
#include "ingest.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>

#include "clock.h"
#include "log.h"

#ifdef VAS_HAVE_FRAME_TAP
#include "export/frame_tap.h"
#include "vas/frame_export.h"
#endif

enum ingest_state { ST_CONNECTING = 0, ST_STREAMING, ST_BACKOFF, ST_DONE };
static const char *const state_names[] = { "connecting", "streaming", "backoff", "done" };

struct vas_ingest {
	struct vas_camera_config cfg; /* private copy: the camera thread reads it freely */
	struct klog_ctx log;
	const atomic_bool *stop;
	pthread_t thread;
	bool started;
	atomic_bool done;

	/* Deadline for the current blocking libavformat call (CLOCK_MONOTONIC ns, 0:
	 * none). Written and read only by the camera thread (the interrupt callback
	 * runs on it), so it needs no synchronisation. */
	uint64_t io_deadline_ns;

#ifdef VAS_HAVE_FRAME_TAP
	struct vas_frame_tap *tap; /* NULL when export is off: no ring, no shm, no copies */
#endif
	struct vas_branch *record;
	struct vas_branch *rtp;

	/* Counters: written by the camera thread only, read by the status writer.
	 * Relaxed atomics suffice: each is an independent monotonic statistic and
	 * nothing else is published through them. */
	atomic_uint_fast64_t frames_decoded, frames_corrupt, decode_errors, reconnects, packets;
	atomic_uint_fast64_t first_frame_ns, last_frame_ns;

	/* Strings and geometry, under lock; changed only on state changes. */
	pthread_mutex_t lock;
	enum ingest_state state;
	char last_error[256];
	char codec[16];
	uint32_t width, height;

	/* Per-camera log limiters, so one noisy camera cannot silence another. */
	struct klog_ratelimit rl_dec, rl_geom, rl_disc;
};

/* ---------------------------------------------------------------- state */

static void set_state(struct vas_ingest *in, enum ingest_state st)
{
	pthread_mutex_lock(&in->lock);
	in->state = st;
	pthread_mutex_unlock(&in->lock);
}

static void set_error(struct vas_ingest *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct vas_ingest *in, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&in->lock);
	va_start(ap, fmt);
	vsnprintf(in->last_error, sizeof(in->last_error), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&in->lock);
}

static const char *av_err(int e, char *buf, size_t cap)
{
	if (av_strerror(e, buf, cap) < 0)
		snprintf(buf, cap, "error %d", e);
	return buf;
}

/* Like av_err, but says "no answer within N ms" when a timeout ended the
 * call: our own deadline (libavformat reports it as AVERROR_EXIT, "Immediate
 * exit requested") or the RTSP client's socket timeout (which FFmpeg 5.1
 * reports from open as INVALIDDATA). Both would mislead an operator. */
static const char *io_err(const struct vas_ingest *in, int e, uint64_t started_ns, char *buf, size_t cap)
{
	uint64_t now = kclock_mono_ns();
	bool ours = e == AVERROR_EXIT && in->io_deadline_ns && now > in->io_deadline_ns;
	bool socket_timeout = (e == AVERROR_INVALIDDATA || e == AVERROR(ETIMEDOUT)) && !in->cfg.is_file &&
			      now - started_ns >= (uint64_t)in->cfg.timeout_ms * 900000u;
	if (ours || socket_timeout) {
		snprintf(buf, cap, "no answer within %" PRIu64 " ms (server not responding)",
			 (now - started_ns) / 1000000u);
		return buf;
	}
	return av_err(e, buf, cap);
}

/* libavformat calls this from inside every blocking operation on the camera
 * thread; non-zero aborts the operation. It ends I/O at shutdown and bounds
 * every call (open, probe, read) by a deadline, so a server that accepts the
 * connection and then says nothing cannot hold a camera forever even where a
 * protocol ignores its own timeout option. */
static int interrupt_cb(void *opaque)
{
	struct vas_ingest *in = opaque;
	if (atomic_load_explicit(in->stop, memory_order_relaxed))
		return 1;
	return in->io_deadline_ns && kclock_mono_ns() > in->io_deadline_ns;
}

static void arm_deadline(struct vas_ingest *in, uint64_t ms)
{
	in->io_deadline_ns = kclock_mono_ns() + ms * 1000000u;
}

static bool stopping(const struct vas_ingest *in)
{
	return atomic_load_explicit(in->stop, memory_order_relaxed);
}

/* ---------------------------------------------------------------- connection */

struct conn {
	AVFormatContext *fmt;
	AVCodecContext *dec;
	AVPacket *pkt;
	AVFrame *frame;
	int vstream;
	bool branches_open;
	/* file pacing: media time of the first packet of this loop and the wall time
	 * it maps to; loop_offset_us accumulates the length of finished loops. */
	int64_t first_pts_us;
	int64_t last_pts_us;
	int64_t loop_offset_us;
	uint64_t start_mono_ns;
};

static void conn_close(struct vas_ingest *in, struct conn *c)
{
	if (c->branches_open) {
		if (in->record)
			in->record->ops->stream_close(in->record);
		if (in->rtp)
			in->rtp->ops->stream_close(in->rtp);
		c->branches_open = false;
	}
	av_frame_free(&c->frame);
	av_packet_free(&c->pkt);
	avcodec_free_context(&c->dec);
	/* Closing an RTSP session sends TEARDOWN; give it a short deadline so a
	 * dead or frozen server cannot hold the camera here. */
	arm_deadline(in, 500);
	avformat_close_input(&c->fmt);
}

/* Returns 0 when connected and ready to read, or a negative AVERROR with
 * in->last_error describing the failure. */
static int conn_open(struct vas_ingest *in, struct conn *c)
{
	const struct vas_camera_config *cfg = &in->cfg;
	AVDictionary *opts = NULL;
	const AVCodec *codec = NULL;
	char eb[AV_ERROR_MAX_STRING_SIZE];
	int r;

	memset(c, 0, sizeof(*c));
	c->vstream = -1;
	c->first_pts_us = INT64_MIN;
	c->fmt = avformat_alloc_context();
	c->pkt = av_packet_alloc();
	c->frame = av_frame_alloc();
	if (!c->fmt || !c->pkt || !c->frame) {
		set_error(in, "out of memory");
		return AVERROR(ENOMEM);
	}
	c->fmt->interrupt_callback.callback = interrupt_cb;
	c->fmt->interrupt_callback.opaque = in;
	if (!cfg->is_file) {
		char us[32];
		snprintf(us, sizeof(us), "%" PRIu64, (uint64_t)cfg->timeout_ms * 1000u);
		av_dict_set(&opts, "rtsp_transport", cfg->transport == VAS_TRANSPORT_UDP ? "udp" : "tcp", 0);
		/* FFmpeg 5.1: "timeout" is the RTSP socket and stall timeout in
		 * microseconds ("stimeout" no longer exists). */
		av_dict_set(&opts, "timeout", us, 0);
		/* The SDP already carries the codec parameters; probing 5 s of a live
		 * stream (the default) only delays the first frame by 5 s. */
		av_dict_set(&opts, "analyzeduration", "500000", 0);
	}
	/* Opening and probing read several packets; allow a few timeouts' worth. */
	uint64_t open_ms = 2ull * cfg->timeout_ms + 3000u, t0 = kclock_mono_ns();
	arm_deadline(in, open_ms);
	r = avformat_open_input(&c->fmt, cfg->url, NULL, &opts);
	av_dict_free(&opts);
	if (r < 0) {
		/* avformat_open_input frees the context on failure. */
		set_error(in, "open %s: %s", cfg->url, io_err(in, r, t0, eb, sizeof(eb)));
		return r;
	}
	r = avformat_find_stream_info(c->fmt, NULL);
	if (r < 0) {
		set_error(in, "probe %s: %s", cfg->url, io_err(in, r, t0, eb, sizeof(eb)));
		return r;
	}
	r = av_find_best_stream(c->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
	if (r < 0) {
		if (r == AVERROR_STREAM_NOT_FOUND)
			set_error(in, "no video stream in %s", cfg->url);
		else if (r == AVERROR_DECODER_NOT_FOUND)
			set_error(in, "no decoder for the video stream of %s", cfg->url);
		else
			set_error(in, "find video stream in %s: %s", cfg->url, av_err(r, eb, sizeof(eb)));
		return r;
	}
	c->vstream = r;
	AVStream *st = c->fmt->streams[c->vstream];
	/* Only the video stream is read; the demuxer drops the others early. */
	for (unsigned i = 0; i < c->fmt->nb_streams; i++)
		if ((int)i != c->vstream)
			c->fmt->streams[i]->discard = AVDISCARD_ALL;

	c->dec = avcodec_alloc_context3(codec);
	if (!c->dec) {
		set_error(in, "out of memory");
		return AVERROR(ENOMEM);
	}
	r = avcodec_parameters_to_context(c->dec, st->codecpar);
	if (r >= 0) {
		c->dec->thread_count = (int)cfg->decode_threads; /* 0: libavcodec picks */
		c->dec->pkt_timebase = st->time_base;
		r = avcodec_open2(c->dec, codec, NULL);
	}
	if (r < 0) {
		set_error(in, "open decoder %s: %s", codec->name, av_err(r, eb, sizeof(eb)));
		return r;
	}
	pthread_mutex_lock(&in->lock);
	snprintf(in->codec, sizeof(in->codec), "%s", codec->name);
	pthread_mutex_unlock(&in->lock);

	/* Packets go to the branches before decode; a branch that fails to open
	 * logs and counts its own error and never stops the camera. */
	if (in->record && in->record->ops->stream_open(in->record, st->codecpar, st->time_base) < 0)
		KLOG_WARN(&in->log, "record branch could not open this stream (see its status)");
	if (in->rtp && in->rtp->ops->stream_open(in->rtp, st->codecpar, st->time_base) < 0)
		KLOG_WARN(&in->log, "rtp branch could not open this stream (see its status)");
	c->branches_open = true;
	c->start_mono_ns = kclock_mono_ns();
	KLOG_INFO(&in->log, "connected %s: %dx%d %s, %u decode thread(s)", cfg->url, st->codecpar->width,
		  st->codecpar->height, codec->name, cfg->decode_threads);
	return 0;
}

/* Local files in realtime mode are paced by pts, like a camera, so the file
 * source behaves like the RTSP one in tests. */
static void pace(struct vas_ingest *in, struct conn *c, const AVPacket *pkt)
{
	if (!in->cfg.is_file || !in->cfg.realtime || pkt->pts == AV_NOPTS_VALUE)
		return;
	AVRational tb = c->fmt->streams[c->vstream]->time_base;
	int64_t us = av_rescale_q(pkt->pts, tb, AV_TIME_BASE_Q);
	if (c->first_pts_us == INT64_MIN)
		c->first_pts_us = us;
	if (us > c->last_pts_us)
		c->last_pts_us = us;
	int64_t media = c->loop_offset_us + (us - c->first_pts_us);
	uint64_t due = c->start_mono_ns + (uint64_t)(media > 0 ? media : 0) * 1000u;
	while (!stopping(in)) {
		uint64_t now = kclock_mono_ns();
		if (now >= due)
			break;
		uint64_t left = due - now;
		kclock_sleep_ns(left > 50000000u ? 50000000u : left);
	}
}

#ifdef VAS_HAVE_FRAME_TAP
static uint32_t frame_flags(const AVFrame *f, bool discontinuity)
{
	uint32_t fl = 0;
	if (f->key_frame)
		fl |= VAS_FRAME_F_KEYFRAME;
	if ((f->flags & AV_FRAME_FLAG_CORRUPT) || f->decode_error_flags)
		fl |= VAS_FRAME_F_CORRUPT;
	if (discontinuity)
		fl |= VAS_FRAME_F_DISCONTINUITY;
	return fl;
}
#endif

/* Drain decoded frames. Returns 1 when max_frames was reached. */
static int receive_frames(struct vas_ingest *in, struct conn *c, bool *first_of_conn, bool reconnected)
{
	for (;;) {
		int r = avcodec_receive_frame(c->dec, c->frame);
		if (r < 0)
			return 0; /* EAGAIN, EOF, or an error reported by send_packet */
		uint64_t n = atomic_load_explicit(&in->frames_decoded, memory_order_relaxed) + 1;
		uint64_t now = kclock_mono_ns();
		if ((c->frame->flags & AV_FRAME_FLAG_CORRUPT) || c->frame->decode_error_flags) {
			/* The decoder concealed damage in this frame; it still goes out
			 * (flagged corrupt in the export) because a damaged frame of a
			 * live camera is worth more than none. */
			uint64_t k = atomic_fetch_add_explicit(&in->frames_corrupt, 1, memory_order_relaxed) + 1;
			klog_ratelimited(&in->log, &in->rl_dec, 3, 5000, KLOG_WARN,
					 "decode error: corrupt frame concealed (%" PRIu64 " so far)", k);
		}
#ifdef VAS_HAVE_FRAME_TAP
		/* The decode boundary: the only place frames leave the decoder. The
		 * push takes a reference into the Phase 1 ring and never blocks. */
		if (in->tap) {
			if (c->frame->pts == AV_NOPTS_VALUE)
				c->frame->pts = c->frame->best_effort_timestamp;
			/* The stream's time base can differ per connection; the tap
			 * converts pts with the frame's own. */
			c->frame->time_base = c->fmt->streams[c->vstream]->time_base;
			vas_frame_tap_push(in->tap, c->frame, n,
					   frame_flags(c->frame, *first_of_conn && reconnected));
		}
#endif
		if (*first_of_conn || (uint32_t)c->frame->width != in->width ||
		    (uint32_t)c->frame->height != in->height) {
			pthread_mutex_lock(&in->lock);
			bool changed = !*first_of_conn;
			in->width = (uint32_t)c->frame->width;
			in->height = (uint32_t)c->frame->height;
			in->state = ST_STREAMING;
			pthread_mutex_unlock(&in->lock);
			if (*first_of_conn)
				KLOG_INFO(&in->log, "streaming %dx%d %s%s", c->frame->width, c->frame->height,
					  in->codec, reconnected ? " (reconnected)" : "");
			else if (changed)
				klog_ratelimited(&in->log, &in->rl_geom, 5, 10000, KLOG_WARN,
						 "resolution changed to %dx%d", c->frame->width,
						 c->frame->height);
			*first_of_conn = false;
		}
		if (n == 1)
			atomic_store_explicit(&in->first_frame_ns, now, memory_order_relaxed);
		atomic_store_explicit(&in->last_frame_ns, now, memory_order_relaxed);
		atomic_store_explicit(&in->frames_decoded, n, memory_order_relaxed);
		av_frame_unref(c->frame);
		if (in->cfg.max_frames && n >= in->cfg.max_frames)
			return 1;
	}
}

/* Read and decode until the connection ends. Returns 1 when the camera is
 * finished (max_frames, or a non-looping file ended), 0 on a disconnect (reason
 * in last_error), -1 when vasd is stopping. */
static int conn_run(struct vas_ingest *in, struct conn *c, bool reconnected)
{
	char eb[AV_ERROR_MAX_STRING_SIZE];
	bool first = true;

	for (;;) {
		if (stopping(in))
			return -1;
		arm_deadline(in, in->cfg.timeout_ms);
		int r = av_read_frame(c->fmt, c->pkt);
		if (r < 0) {
			if (stopping(in))
				return -1;
			if (r == AVERROR_EOF && in->cfg.is_file && in->cfg.loop) {
				/* Loop the file: seek back and keep the pacing clock going. */
				c->loop_offset_us += c->last_pts_us - (c->first_pts_us == INT64_MIN ? 0 : c->first_pts_us);
				AVRational fr = c->fmt->streams[c->vstream]->avg_frame_rate;
				c->loop_offset_us += fr.num > 0 ? av_rescale(1000000, fr.den, fr.num) : 40000;
				c->first_pts_us = INT64_MIN;
				c->last_pts_us = 0;
				if (av_seek_frame(c->fmt, c->vstream, 0, AVSEEK_FLAG_BACKWARD) >= 0)
					continue;
			}
			if (r == AVERROR_EOF && in->cfg.is_file && !in->cfg.loop) {
				/* Drain the decoder: the last frames are still inside it. */
				avcodec_send_packet(c->dec, NULL);
				receive_frames(in, c, &first, reconnected);
				set_error(in, "end of file");
				return 1;
			}
			if (r == AVERROR_EXIT || r == AVERROR(ETIMEDOUT) ||
			    (in->io_deadline_ns && kclock_mono_ns() > in->io_deadline_ns))
				set_error(in, "no data for %u ms (stalled source)", in->cfg.timeout_ms);
			else if (r == AVERROR_EOF)
				set_error(in, "end of stream (server closed the connection)");
			else
				set_error(in, "read: %s", av_err(r, eb, sizeof(eb)));
			return 0;
		}
		if (c->pkt->stream_index != c->vstream) {
			av_packet_unref(c->pkt);
			continue;
		}
		atomic_fetch_add_explicit(&in->packets, 1, memory_order_relaxed);
		pace(in, c, c->pkt);
		/* Compressed packets go to the branches before decode, so recording and
		 * live egress see every packet whatever the decoder makes of it. */
		if (in->record)
			in->record->ops->packet(in->record, c->pkt);
		if (in->rtp)
			in->rtp->ops->packet(in->rtp, c->pkt);
		r = avcodec_send_packet(c->dec, c->pkt);
		if (r == AVERROR(EAGAIN)) {
			/* The decoder wants its output drained before it takes more
			 * input; drain, then hand the same packet in again. */
			if (receive_frames(in, c, &first, reconnected)) {
				av_packet_unref(c->pkt);
				return 1;
			}
			r = avcodec_send_packet(c->dec, c->pkt);
		}
		av_packet_unref(c->pkt);
		if (r < 0 && r != AVERROR(EAGAIN)) {
			atomic_fetch_add_explicit(&in->decode_errors, 1, memory_order_relaxed);
			klog_ratelimited(&in->log, &in->rl_dec, 3, 5000, KLOG_WARN, "decode error: %s (%" PRIu64 " so far)",
					 av_err(r, eb, sizeof(eb)),
					 atomic_load_explicit(&in->decode_errors, memory_order_relaxed));
		}
		if (receive_frames(in, c, &first, reconnected))
			return 1;
	}
}

/* Sleep for ms, waking early when vasd stops; keep the export's heartbeat
 * going so readers can tell a reconnecting camera from a dead vasd. */
static void backoff_sleep(struct vas_ingest *in, uint32_t ms)
{
	uint64_t end = kclock_mono_ns() + (uint64_t)ms * 1000000u;
	while (!stopping(in)) {
		uint64_t now = kclock_mono_ns();
		if (now >= end)
			break;
#ifdef VAS_HAVE_FRAME_TAP
		if (in->tap)
			vas_frame_tap_tick(in->tap);
#endif
		uint64_t left = end - now;
		kclock_sleep_ns(left > 20000000u ? 20000000u : left);
	}
}

static uint32_t next_backoff(struct vas_ingest *in, unsigned attempt, unsigned *seed)
{
	uint64_t d = in->cfg.reconnect_initial_ms;
	for (unsigned i = 0; i < attempt && d < in->cfg.reconnect_max_ms; i++)
		d *= 2;
	if (d > in->cfg.reconnect_max_ms)
		d = in->cfg.reconnect_max_ms;
	/* +-20% jitter so cameras behind one failed switch do not reconnect in lockstep. */
	double j = 0.8 + 0.4 * ((double)rand_r(seed) / (double)RAND_MAX);
	d = (uint64_t)((double)d * j);
	return d < 1 ? 1 : (uint32_t)d;
}

static void *ingest_main(void *arg)
{
	struct vas_ingest *in = arg;
	unsigned attempt = 0, seed = (unsigned)kclock_mono_ns() ^ (unsigned)(uintptr_t)in;
	bool connected_before = false;

	while (!stopping(in)) {
		struct conn c;
		set_state(in, ST_CONNECTING);
		if (connected_before || attempt > 0)
			atomic_fetch_add_explicit(&in->reconnects, 1, memory_order_relaxed);
		int r = conn_open(in, &c);
		if (r >= 0) {
			uint64_t before = atomic_load_explicit(&in->frames_decoded, memory_order_relaxed);
			r = conn_run(in, &c, connected_before);
			if (atomic_load_explicit(&in->frames_decoded, memory_order_relaxed) > before) {
				/* This connection delivered frames: the next outage starts
				 * the backoff from the beginning. */
				attempt = 0;
				connected_before = true;
			}
			conn_close(in, &c);
			if (r != 0)
				break; /* finished, or stopping */
		} else {
			conn_close(in, &c);
		}
		if (stopping(in))
			break;
		uint32_t ms = next_backoff(in, attempt, &seed);
		attempt++;
		char err[256];
		pthread_mutex_lock(&in->lock);
		snprintf(err, sizeof(err), "%s", in->last_error);
		in->state = ST_BACKOFF;
		pthread_mutex_unlock(&in->lock);
		/* Repeated failures of the same kind are logged at most a few times a
		 * minute; the status file always holds the latest reason. */
		if (attempt <= 3)
			KLOG_WARN(&in->log, "disconnected: %s; reconnecting in %u ms", err, ms);
		else
			klog_ratelimited(&in->log, &in->rl_disc, 2, 30000, KLOG_WARN,
					 "disconnected: %s; reconnecting in %u ms (attempt %u)", err, ms, attempt);
		backoff_sleep(in, ms);
	}
	if (!stopping(in)) {
		set_state(in, ST_DONE);
		KLOG_INFO(&in->log, "finished after %" PRIu64 " frames",
			  atomic_load_explicit(&in->frames_decoded, memory_order_relaxed));
	}
	atomic_store(&in->done, true);
	return NULL;
}

/* ---------------------------------------------------------------- lifecycle */

int vas_ingest_new(struct vas_ingest **out, const struct vas_camera_config *cfg,
		   const struct vas_export_options *export_opts, const atomic_bool *stop)
{
	struct vas_ingest *in = calloc(1, sizeof(*in));
	char err[256];
	int r;

	*out = NULL;
	if (!in)
		return -ENOMEM;
	in->cfg = *cfg;
	in->stop = stop;
	klog_ctx_init(&in->log, "vasd", "cam=%s", cfg->id);
	pthread_mutex_init(&in->lock, NULL);
	snprintf(in->codec, sizeof(in->codec), "none");

	if (export_opts) {
#ifdef VAS_HAVE_FRAME_TAP
		struct vas_frame_tap_config tc = {
			.camera_id = cfg->id,
			.ring_size = export_opts->ring_size,
			.slot_count = export_opts->slots,
			.max_width = cfg->max_width,
			.max_height = cfg->max_height,
			.group = export_opts->group[0] ? export_opts->group : NULL,
		};
		r = vas_frame_tap_new(&in->tap, &tc);
		if (r < 0) {
			/* Without its tap the camera cannot do what the operator asked
			 * (export for AI); refuse to start rather than run half-configured. */
			KLOG_ERR(&in->log, "frame export: cannot create the tap: %s", strerror(-r));
			pthread_mutex_destroy(&in->lock);
			free(in);
			return r;
		}
#else
		KLOG_WARN(&in->log, "AI_FRAME_EXPORT_ENABLED is set but this vasd was built with VAS_FRAME_TAP=OFF");
#endif
	}
#ifdef VAS_HAVE_EGRESS
	if (cfg->record.enabled) {
		r = vas_record_branch_new(&in->record, cfg->id, &cfg->record, err, sizeof(err));
		if (r < 0) {
			KLOG_ERR(&in->log, "record branch disabled: %s", err);
			in->record = NULL;
		}
	}
	if (cfg->rtp.enabled) {
		r = vas_rtp_branch_new(&in->rtp, cfg->id, &cfg->rtp, err, sizeof(err));
		if (r < 0) {
			KLOG_ERR(&in->log, "rtp branch disabled: %s", err);
			in->rtp = NULL;
		}
	}
#else
	(void)err;
	(void)r;
	if (cfg->record.enabled || cfg->rtp.enabled)
		KLOG_WARN(&in->log, "record/rtp configured but this vasd was built without the egress library");
#endif
	*out = in;
	return 0;
}

int vas_ingest_start(struct vas_ingest *in)
{
	int r = pthread_create(&in->thread, NULL, ingest_main, in);
	if (r != 0)
		return -r;
	in->started = true;
	return 0;
}

int vas_ingest_done(const struct vas_ingest *in)
{
	return atomic_load(&in->done) ? 1 : 0;
}

void vas_ingest_stats(struct vas_ingest *in, struct vas_ingest_stats *st)
{
	memset(st, 0, sizeof(*st));
	snprintf(st->id, sizeof(st->id), "%s", in->cfg.id);
	pthread_mutex_lock(&in->lock);
	snprintf(st->state, sizeof(st->state), "%s", state_names[in->state]);
	snprintf(st->last_error, sizeof(st->last_error), "%s", in->last_error);
	snprintf(st->codec, sizeof(st->codec), "%s", in->codec);
	st->width = in->width;
	st->height = in->height;
	pthread_mutex_unlock(&in->lock);
	st->frames_decoded = atomic_load_explicit(&in->frames_decoded, memory_order_relaxed);
	st->decode_errors = atomic_load_explicit(&in->decode_errors, memory_order_relaxed);
	st->frames_corrupt = atomic_load_explicit(&in->frames_corrupt, memory_order_relaxed);
	st->reconnects = atomic_load_explicit(&in->reconnects, memory_order_relaxed);
	st->packets = atomic_load_explicit(&in->packets, memory_order_relaxed);
	uint64_t f0 = atomic_load_explicit(&in->first_frame_ns, memory_order_relaxed);
	uint64_t f1 = atomic_load_explicit(&in->last_frame_ns, memory_order_relaxed);
	st->active_s = f1 > f0 ? (double)(f1 - f0) / 1e9 : 0.0;
#ifdef VAS_HAVE_FRAME_TAP
	if (in->tap) {
		struct vas_frame_tap_stats ts;
		vas_frame_tap_stats(in->tap, &ts);
		st->export_enabled = true;
		st->frames_exported = ts.exported;
		st->frames_dropped = ts.dropped;
	}
#endif
	if (in->record) {
		st->has_record = true;
		in->record->ops->get_stats(in->record, &st->record);
	}
	if (in->rtp) {
		st->has_rtp = true;
		in->rtp->ops->get_stats(in->rtp, &st->rtp);
	}
}

void vas_ingest_free(struct vas_ingest **pin)
{
	struct vas_ingest *in = pin ? *pin : NULL;
	if (!in)
		return;
	if (in->started)
		pthread_join(in->thread, NULL);
	if (in->record)
		in->record->ops->destroy(in->record);
	if (in->rtp)
		in->rtp->ops->destroy(in->rtp);
#ifdef VAS_HAVE_FRAME_TAP
	vas_frame_tap_free(&in->tap);
#endif
	pthread_mutex_destroy(&in->lock);
	free(in);
	*pin = NULL;
}

/* record.c: the recording branch (see branch.h, docs/recording-and-egress.md).
 *
 * Per camera: segmented recording of the compressed stream, stream copy (no
 * re-encode), into cfg->dir as <camera_id>_<UTC start YYYYmmddTHHMMSSZ>.mp4|.mkv.
 * A segment starts at a keyframe and is cut at the first keyframe at or after
 * segment_seconds; reconnects (stream_close/stream_open), codec parameter or
 * resolution changes (new SPS in band, or new codec parameters at stream_open)
 * start a new one. Timestamps are rebased to 0 per segment.
 *
 * Fragmented MP4 (frag_keyframe+empty_moov+default_base_moof, flushed after every
 * packet) means a process killed with SIGKILL leaves every finished segment
 * playable and the open one readable up to its last complete fragment (one GOP).
 *
 * Threads: the ingest thread only queues (av_packet_ref into a bounded queue;
 * full -> drop, count, rate-limited log, skip to the next keyframe). This
 * branch's own thread does every mkdir/open/write/close. A write error (ENOSPC,
 * EACCES, EFBIG, ...) closes the segment, sets state "error" and last_error, and
 * the branch retries at a later keyframe with a capped exponential backoff
 * (1 s .. 30 s); the other branches and the frame path never see it. */
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavformat/avformat.h>
#include <libavutil/avutil.h>

#include "branch.h"
#include "egress_common.h"

#define REC_BACKOFF_MIN_MS 1000u
#define REC_BACKOFF_MAX_MS 30000u

struct rec_branch {
	struct egress_front f; /* first: the ops receive it as the struct vas_branch */
	char camera_id[64];
	struct vas_record_config cfg;
	struct klog_ratelimit rl_bad, rl_ts;

	/* branch thread only */
	AVCodecParameters *par; /* from the last stream_open */
	AVRational tb;
	bool have_stream;
	bool need_key;
	bool annexb; /* H.264 in Annex B (what the RTSP demuxer delivers) */
	struct egress_h264_ps ps;     /* latest parameter sets seen (in band or extradata) */
	struct egress_h264_ps seg_ps; /* the ones the open segment was started with */
	AVFormatContext *oc;
	char seg_path[PATH_MAX];
	int64_t seg_start; /* in tb */
	int64_t last_dts;  /* in tb, rebased */
	int64_t last_pts_in;
	struct egress_dts dts;
	int64_t frame_dur; /* in tb, for dts synthesis */
	int64_t ts_offset; /* in tb, added to the source's timestamps (discontinuities) */
	uint64_t seg_packets;
	bool in_error;
	uint64_t retry_at_ms;
	uint32_t backoff_ms;
	uint64_t wait_log_ms;
};

static int mkdir_p(const char *dir)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s", dir) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	size_t n = strlen(tmp);
	while (n > 1 && tmp[n - 1] == '/')
		tmp[--n] = '\0';
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
		return -errno;
	struct stat sb;
	if (stat(tmp, &sb) != 0)
		return -errno;
	if (!S_ISDIR(sb.st_mode))
		return -ENOTDIR;
	return 0;
}

static void rec_fail(struct rec_branch *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rec_fail(struct rec_branch *r, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	egress_stats_error(&r->f.st, "%s", msg);
	egress_stats_set_state(&r->f.st, "error");
	if (!r->in_error)
		r->backoff_ms = REC_BACKOFF_MIN_MS;
	else if (r->backoff_ms < REC_BACKOFF_MAX_MS)
		r->backoff_ms = r->backoff_ms * 2 > REC_BACKOFF_MAX_MS ? REC_BACKOFF_MAX_MS : r->backoff_ms * 2;
	r->in_error = true;
	r->retry_at_ms = egress_now_ms() + r->backoff_ms;
	KLOG_ERR(&r->f.log, "recording error: %s (retrying in %u ms, at a keyframe)", msg, r->backoff_ms);
}

static void close_segment(struct rec_branch *r, bool ok, const char *why)
{
	if (!r->oc)
		return;
	int ret = 0;
	if (ok) {
		ret = av_write_trailer(r->oc);
		if (ret >= 0 && r->oc->pb && r->oc->pb->error < 0)
			ret = r->oc->pb->error;
	}
	int cret = avio_closep(&r->oc->pb);
	avformat_free_context(r->oc);
	r->oc = NULL;
	if (r->seg_packets == 0) {
		unlink(r->seg_path);
		return;
	}
	if (ok && ret >= 0 && cret >= 0) {
		atomic_fetch_add(&r->f.st.segments, 1);
		r->backoff_ms = 0;
		KLOG_INFO(&r->f.log, "segment done: %s (%llu packets, %s)", r->seg_path, (unsigned long long)r->seg_packets,
			  why);
	} else if (ok) {
		rec_fail(r, "finishing %s: %s", r->seg_path, av_err2str(ret < 0 ? ret : cret));
	}
}

/* Width and height of an H.264 keyframe (Annex B) from its SPS, or 0. */
static void h264_dims(const AVPacket *pkt, int *w, int *h)
{
	*w = *h = 0;
	AVCodecParserContext *pc = av_parser_init(AV_CODEC_ID_H264);
	const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_H264);
	AVCodecContext *cc = codec ? avcodec_alloc_context3(codec) : NULL;
	if (pc && cc) {
		uint8_t *out;
		int outlen;
		pc->flags |= PARSER_FLAG_COMPLETE_FRAMES;
		av_parser_parse2(pc, cc, &out, &outlen, pkt->data, pkt->size, AV_NOPTS_VALUE, AV_NOPTS_VALUE, 0);
		if (pc->width > 0 && pc->height > 0) {
			*w = pc->width;
			*h = pc->height;
		}
	}
	av_parser_close(pc);
	avcodec_free_context(&cc);
}

static int open_segment(struct rec_branch *r, const AVPacket *pkt, int64_t pts)
{
	int ret = mkdir_p(r->cfg.dir);
	if (ret < 0) {
		rec_fail(r, "recordings folder %s: %s", r->cfg.dir, strerror(-ret));
		return ret;
	}
	const char *ext = r->cfg.format == VAS_RECORD_MKV ? "mkv" : "mp4";
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	char ts[32];
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(r->seg_path, sizeof(r->seg_path), "%s/%s_%s.%s", r->cfg.dir, r->camera_id, ts, ext);
	for (int n = 1; access(r->seg_path, F_OK) == 0 && n < 1000; n++)
		snprintf(r->seg_path, sizeof(r->seg_path), "%s/%s_%s-%d.%s", r->cfg.dir, r->camera_id, ts, n, ext);

	AVCodecParameters *sp = avcodec_parameters_alloc();
	if (!sp || avcodec_parameters_copy(sp, r->par) < 0) {
		avcodec_parameters_free(&sp);
		return AVERROR(ENOMEM);
	}
	if (sp->codec_id == AV_CODEC_ID_H264 && egress_is_annexb(pkt->data, (size_t)pkt->size)) {
		/* The segment's parameter sets: the ones in band before this keyframe (they
		 * may differ from the stream's extradata after a change), else extradata. */
		if (r->ps.sps_len && r->ps.pps_len) {
			av_freep(&sp->extradata);
			sp->extradata_size = 0;
			size_t n = r->ps.sps_len + r->ps.pps_len;
			sp->extradata = av_mallocz(n + AV_INPUT_BUFFER_PADDING_SIZE);
			if (sp->extradata) {
				memcpy(sp->extradata, r->ps.sps, r->ps.sps_len);
				memcpy(sp->extradata + r->ps.sps_len, r->ps.pps, r->ps.pps_len);
				sp->extradata_size = (int)n;
			}
		}
		int w, h;
		h264_dims(pkt, &w, &h);
		if (w > 0) {
			sp->width = w;
			sp->height = h;
		}
	}
	if (sp->codec_id == AV_CODEC_ID_H264 && sp->extradata_size == 0) {
		uint64_t now_ms = egress_now_ms();
		if (now_ms - r->wait_log_ms > 10000) {
			r->wait_log_ms = now_ms;
			KLOG_WARN(&r->f.log, "no SPS/PPS yet (none in the stream description, none in band): waiting");
		}
		avcodec_parameters_free(&sp);
		return AVERROR(EAGAIN);
	}
	sp->codec_tag = 0;

	AVFormatContext *oc = NULL;
	ret = avformat_alloc_output_context2(&oc, NULL, r->cfg.format == VAS_RECORD_MKV ? "matroska" : "mp4",
					     r->seg_path);
	AVStream *st = oc ? avformat_new_stream(oc, NULL) : NULL;
	if (!st) {
		avcodec_parameters_free(&sp);
		avformat_free_context(oc);
		rec_fail(r, "muxer: %s", av_err2str(ret < 0 ? ret : AVERROR(ENOMEM)));
		return ret < 0 ? ret : AVERROR(ENOMEM);
	}
	avcodec_parameters_copy(st->codecpar, sp);
	avcodec_parameters_free(&sp);
	st->time_base = r->tb;
	oc->flags |= AVFMT_FLAG_FLUSH_PACKETS;
	ret = avio_open(&oc->pb, r->seg_path, AVIO_FLAG_WRITE);
	if (ret < 0) {
		avformat_free_context(oc);
		rec_fail(r, "open %s: %s", r->seg_path, av_err2str(ret));
		return ret;
	}
	AVDictionary *opts = NULL;
	if (r->cfg.format != VAS_RECORD_MKV)
		av_dict_set(&opts, "movflags", "frag_keyframe+empty_moov+default_base_moof", 0);
	else
		av_dict_set(&opts, "cluster_time_limit", "1000", 0);
	ret = avformat_write_header(oc, &opts);
	av_dict_free(&opts);
	if (ret >= 0 && oc->pb->error < 0)
		ret = oc->pb->error;
	if (ret < 0) {
		avio_closep(&oc->pb);
		avformat_free_context(oc);
		unlink(r->seg_path);
		rec_fail(r, "write header %s: %s", r->seg_path, av_err2str(ret));
		return ret;
	}
	r->oc = oc;
	r->seg_start = pts;
	r->last_dts = INT64_MIN;
	r->seg_packets = 0;
	r->seg_ps = r->ps;
	if (r->in_error) {
		KLOG_WARN(&r->f.log, "recording resumed: %s", r->seg_path);
		r->in_error = false;
	}
	egress_stats_set_state(&r->f.st, "running");
	KLOG_INFO(&r->f.log, "segment start: %s", r->seg_path);
	return 0;
}

static void drop(struct rec_branch *r)
{
	atomic_fetch_add(&r->f.st.packets_dropped, 1);
}

static void handle_packet(struct rec_branch *r, AVPacket *pkt, bool gap)
{
	if (!r->have_stream) {
		drop(r);
		return;
	}
	if (gap)
		r->need_key = true; /* a hole: the next frames reference what was dropped */
	if (r->annexb && !egress_is_annexb(pkt->data, (size_t)pkt->size)) {
		/* not an H.264 access unit (garbage from the network or the camera) */
		atomic_fetch_add(&r->f.st.packets_dropped, 1);
		klog_ratelimited(&r->f.log, &r->rl_bad, 1, 10000, KLOG_WARN,
				 "malformed packet (%d bytes, no Annex B start code) dropped", pkt->size);
		return;
	}
	bool key = pkt->flags & AV_PKT_FLAG_KEY;
	int64_t pts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
	if (pts == AV_NOPTS_VALUE)
		pts = av_rescale_q((int64_t)egress_now_ms(), (AVRational){ 1, 1000 }, r->tb);
	/* Timestamp discontinuities (an RTSP source's clock remapped at its first RTCP
	 * sender report, a camera restarting its clock): keep our timeline continuous. */
	if (r->last_pts_in != INT64_MIN) {
		int64_t adj = pts + r->ts_offset, one_s = av_rescale_q(1, (AVRational){ 1, 1 }, r->tb);
		if (adj < r->last_pts_in - one_s || adj > r->last_pts_in + 10 * one_s) {
			klog_ratelimited(&r->f.log, &r->rl_ts, 1, 10000, KLOG_WARN,
					 "timestamp jump of %.3f s in the source: continuing the recording's timeline",
					 (double)(adj - r->last_pts_in) * av_q2d(r->tb));
			r->ts_offset = r->last_pts_in + r->frame_dur - pts;
			egress_dts_reset(&r->dts, r->par->video_delay);
		}
	}
	pts += r->ts_offset;
	if (r->last_pts_in != INT64_MIN && pts > r->last_pts_in && pts - r->last_pts_in < r->frame_dur * 4)
		r->frame_dur = pts - r->last_pts_in < r->frame_dur ? pts - r->last_pts_in : r->frame_dur;
	int64_t dts = pkt->dts != AV_NOPTS_VALUE && pkt->pts != AV_NOPTS_VALUE ? pkt->dts + r->ts_offset
									       : egress_dts_next(&r->dts, pts, r->frame_dur);
	bool ps_change = false;
	if (key && r->par->codec_id == AV_CODEC_ID_H264 && egress_is_annexb(pkt->data, (size_t)pkt->size)) {
		struct egress_h264_ps tmp = r->ps;
		unsigned m = egress_h264_scan(pkt->data, (size_t)pkt->size, &tmp);
		if ((m & 1) && (tmp.sps_len != r->seg_ps.sps_len || memcmp(tmp.sps, r->seg_ps.sps, tmp.sps_len) != 0))
			ps_change = r->oc != NULL;
		if ((m & 2) && (tmp.pps_len != r->seg_ps.pps_len || memcmp(tmp.pps, r->seg_ps.pps, tmp.pps_len) != 0))
			ps_change = r->oc != NULL;
		r->ps = tmp;
	}
	r->last_pts_in = pts;
	if (r->need_key && !key) {
		drop(r);
		return;
	}
	if (r->oc && key) {
		int64_t el = pts - r->seg_start;
		bool due = av_compare_ts(el, r->tb, r->cfg.segment_seconds, (AVRational){ 1, 1 }) >= 0;
		if (due || ps_change)
			close_segment(r, true, ps_change ? "parameter change" : "length");
	}
	if (!r->oc) {
		if (!key || (r->in_error && egress_now_ms() < r->retry_at_ms)) {
			r->need_key = true;
			drop(r);
			return;
		}
		if (open_segment(r, pkt, dts) < 0) {
			r->need_key = true;
			drop(r);
			return;
		}
	}
	r->need_key = false;

	AVPacket *o = av_packet_alloc();
	if (!o || av_packet_ref(o, pkt) < 0) {
		av_packet_free(&o);
		drop(r);
		return;
	}
	o->pts = pts - r->seg_start;
	o->dts = dts - r->seg_start;
	if (r->last_dts != INT64_MIN && o->dts <= r->last_dts)
		o->dts = r->last_dts + 1;
	if (o->pts < o->dts)
		o->pts = o->dts;
	r->last_dts = o->dts;
	o->stream_index = 0;
	o->pos = -1;
	AVStream *st = r->oc->streams[0];
	av_packet_rescale_ts(o, r->tb, st->time_base);
	int size = o->size;
	int ret = av_write_frame(r->oc, o);
	av_packet_free(&o);
	if (ret >= 0 && r->oc->pb->error < 0)
		ret = r->oc->pb->error;
	if (ret < 0) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s", r->seg_path);
		r->seg_packets++; /* keep what was written: the file stays readable up to its last fragment */
		close_segment(r, false, "error");
		rec_fail(r, "write %s: %s", path, av_err2str(ret));
		r->need_key = true;
		drop(r);
		return;
	}
	r->seg_packets++;
	atomic_fetch_add(&r->f.st.packets_out, 1);
	atomic_fetch_add(&r->f.st.bytes_out, (uint64_t)size);
}

static void *rec_thread(void *arg)
{
	struct rec_branch *r = arg;
	for (;;) {
		struct egress_ev ev;
		if (!egress_queue_pop(&r->f.q, &ev, 1000))
			continue;
		switch (ev.type) {
		case EGRESS_EV_STOP:
			close_segment(r, true, "stop");
			egress_ev_free(&ev);
			return NULL;
		case EGRESS_EV_OPEN:
			close_segment(r, true, "new stream");
			avcodec_parameters_free(&r->par);
			r->par = ev.par;
			ev.par = NULL;
			r->tb = ev.tb.num > 0 && ev.tb.den > 0 ? ev.tb : (AVRational){ 1, 90000 };
			r->have_stream = true;
			r->need_key = true;
			r->last_pts_in = INT64_MIN;
			r->ts_offset = 0;
			egress_dts_reset(&r->dts, r->par->video_delay);
			r->annexb = r->par->codec_id == AV_CODEC_ID_H264 &&
				    (r->par->extradata_size == 0 ||
				     egress_is_annexb(r->par->extradata, (size_t)r->par->extradata_size));
			r->frame_dur = av_rescale_q(1, (AVRational){ 1, 10 }, r->tb); /* refined from the pts deltas */
			memset(&r->ps, 0, sizeof(r->ps));
			memset(&r->seg_ps, 0, sizeof(r->seg_ps));
			if (r->par->codec_id == AV_CODEC_ID_H264 && r->par->extradata &&
			    egress_is_annexb(r->par->extradata, (size_t)r->par->extradata_size))
				egress_h264_scan(r->par->extradata, (size_t)r->par->extradata_size, &r->ps);
			if (!r->in_error)
				egress_stats_set_state(&r->f.st, "running");
			break;
		case EGRESS_EV_CLOSE:
			close_segment(r, true, "stream closed");
			r->have_stream = false;
			if (!r->in_error)
				egress_stats_set_state(&r->f.st, "idle");
			break;
		case EGRESS_EV_PACKET:
			handle_packet(r, ev.pkt, ev.gap_before);
			break;
		}
		egress_ev_free(&ev);
	}
}

static void rec_destroy(struct vas_branch *b)
{
	struct rec_branch *r = (struct rec_branch *)b;
	if (!r)
		return;
	egress_front_stop(&r->f);
	close_segment(r, true, "stop");
	avcodec_parameters_free(&r->par);
	egress_front_fini(&r->f);
	free(r);
}

static const struct vas_branch_ops rec_ops = {
	.version = VAS_BRANCH_ABI_VERSION,
	.name = "record",
	.stream_open = egress_front_stream_open,
	.packet = egress_front_packet,
	.stream_close = egress_front_stream_close,
	.get_stats = egress_front_get_stats,
	.destroy = rec_destroy,
};

int vas_record_branch_new(struct vas_branch **out, const char *camera_id, const struct vas_record_config *cfg,
			  char *err, size_t errlen)
{
	*out = NULL;
	if (!camera_id || !*camera_id || strlen(camera_id) >= 64 || strchr(camera_id, '/') || !cfg) {
		snprintf(err, errlen, "record: invalid camera id");
		return -EINVAL;
	}
	if (!cfg->dir[0]) {
		snprintf(err, errlen, "record: no recordings folder (record.dir)");
		return -EINVAL;
	}
	if (cfg->format != VAS_RECORD_FMP4 && cfg->format != VAS_RECORD_MKV) {
		snprintf(err, errlen, "record: unknown format %d", (int)cfg->format);
		return -EINVAL;
	}
	struct rec_branch *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "record: out of memory");
		return -ENOMEM;
	}
	r->f.base.ops = &rec_ops;
	r->f.what = "recording";
	snprintf(r->camera_id, sizeof(r->camera_id), "%s", camera_id);
	r->cfg = *cfg;
	if (r->cfg.segment_seconds == 0)
		r->cfg.segment_seconds = 10;
	if (r->cfg.queue_packets == 0)
		r->cfg.queue_packets = 512;
	klog_ctx_init(&r->f.log, "vasd", "cam=%s record", camera_id);
	egress_stats_init(&r->f.st);
	int ret = egress_queue_init(&r->f.q, r->cfg.queue_packets);
	if (ret < 0) {
		snprintf(err, errlen, "record: out of memory");
		free(r);
		return ret;
	}
	/* A folder that cannot be created is reported now (state error) and retried at
	 * every segment start; it does not fail the camera. */
	ret = mkdir_p(r->cfg.dir);
	if (ret < 0) {
		egress_stats_error(&r->f.st, "recordings folder %s: %s", r->cfg.dir, strerror(-ret));
		egress_stats_set_state(&r->f.st, "error");
		KLOG_ERR(&r->f.log, "recordings folder %s: %s (will retry)", r->cfg.dir, strerror(-ret));
	}
	ret = pthread_create(&r->f.thread, NULL, rec_thread, r);
	if (ret != 0) {
		snprintf(err, errlen, "record: thread: %s", strerror(ret));
		egress_front_fini(&r->f);
		free(r);
		return -ret;
	}
	r->f.thread_started = true;
	pthread_setname_np(r->f.thread, "vas-rec");
	*out = &r->f.base;
	return 0;
}

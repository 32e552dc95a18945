/* rtp.c: the live RTP egress branch for a MediaSoup PlainTransport (see branch.h,
 * docs/recording-and-egress.md).
 *
 * H.264 (RFC 6184, packetization-mode=1: single NAL units, STAP-A, FU-A) by
 * libavformat's rtp muxer writing into our own AVIOContext, whose write callback
 * sends each RTP packet on a connected UDP socket to host:port and each RTCP
 * sender report (unless rtcp_port is 0) on a second socket to host:rtcp_port
 * (rtcp_port == port: RTCP multiplexed on the RTP port, MediaSoup rtcpMux).
 * Fixed payload type and SSRC (from the config, or FNV-1a of the camera id). One
 * muxer lives across reconnects, so sequence numbers and timestamps continue and
 * the MediaSoup producer sees one stream. SPS and PPS are sent in band before
 * every IDR (from the stream's extradata or the last ones seen in band, when the
 * camera does not repeat them); avcC input is converted by h264_mp4toannexb.
 * The SDP (for other consumers: ffmpeg, GStreamer) is rewritten atomically
 * whenever the parameter sets change.
 *
 * Threads: the ingest thread only queues (bounded, drop + count when full, skip to
 * the next keyframe). A send error (ECONNREFUSED when nothing listens, ENOBUFS,
 * ...) is counted in errors/last_error and logged rate-limited; never fatal. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libavcodec/bsf.h>
#include <libavformat/avformat.h>
#include <libavutil/avstring.h>

#include "branch.h"
#include "egress_common.h"

#define RTP_MTU 1200 /* RTP packet size: fits any path MediaSoup and WebRTC use */

struct rtp_branch {
	struct egress_front f; /* first: the ops receive it as the struct vas_branch */
	char camera_id[64];
	struct vas_rtp_config cfg;
	uint32_t ssrc;
	struct klog_ratelimit rl_send, rl_bad;

	/* branch thread only */
	int fd_rtp, fd_rtcp;
	AVCodecParameters *par;
	AVRational tb;
	AVBSFContext *bsf; /* h264_mp4toannexb for avcC input */
	bool have_stream, need_key;
	bool annexb; /* H.264 Annex B input (after the bsf) */
	struct egress_dts dts;
	int64_t frame_dur, last_pts_in; /* in tb */
	struct egress_h264_ps ps;
	struct egress_h264_ps sdp_ps; /* the parameter sets in the SDP written last */
	AVFormatContext *oc;
	enum AVCodecID mux_codec;
	int64_t in_base, out_base, last_out, last_dts, last_dur; /* 90 kHz */
	bool have_last;
};

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	return h ? h : 1;
}

static void send_error(struct rtp_branch *r, const char *what, int err)
{
	egress_stats_error(&r->f.st, "%s to %s: %s", what, r->cfg.host, strerror(err));
	klog_ratelimited(&r->f.log, &r->rl_send, 1, 10000, KLOG_WARN, "%s to %s: %s (counted, continuing)", what,
			 r->cfg.host, strerror(err));
}

#if LIBAVFORMAT_VERSION_MAJOR >= 61
static int io_write(void *opaque, const uint8_t *buf, int size)
#else
static int io_write(void *opaque, uint8_t *buf, int size)
#endif
{
	struct rtp_branch *r = opaque;
	bool rtcp = size >= 2 && buf[1] >= 200 && buf[1] <= 204;
	int fd = rtcp ? r->fd_rtcp : r->fd_rtp;
	if (fd < 0)
		return size;
	for (int tries = 0; tries < 2; tries++) {
		ssize_t n = send(fd, buf, (size_t)size, MSG_NOSIGNAL);
		if (n >= 0) {
			atomic_fetch_add(&r->f.st.bytes_out, (uint64_t)n);
			return size;
		}
		send_error(r, rtcp ? "RTCP send" : "RTP send", errno);
		if (errno != ECONNREFUSED)
			break;
		/* ECONNREFUSED reports an earlier datagram's ICMP port unreachable; this
		 * one was not sent: send it once more (a listener may be starting). */
	}
	return size; /* never let avio turn a lost datagram into a sticky error */
}

static int udp_socket(struct rtp_branch *r, uint16_t dport, uint16_t lport)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM }, *ai = NULL;
	char port[8];
	snprintf(port, sizeof(port), "%u", dport);
	int ret = getaddrinfo(r->cfg.host, port, &hints, &ai);
	if (ret != 0) {
		egress_stats_error(&r->f.st, "resolve %s: %s", r->cfg.host, gai_strerror(ret));
		return -EINVAL;
	}
	int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		freeaddrinfo(ai);
		return ret;
	}
	int sz = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (lport) {
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		struct sockaddr_storage la;
		memset(&la, 0, sizeof(la));
		socklen_t ll;
		if (ai->ai_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&la;
			a->sin6_family = AF_INET6;
			a->sin6_addr = in6addr_any;
			a->sin6_port = htons(lport);
			ll = sizeof(*a);
		} else {
			struct sockaddr_in *a = (struct sockaddr_in *)&la;
			a->sin_family = AF_INET;
			a->sin_addr.s_addr = htonl(INADDR_ANY);
			a->sin_port = htons(lport);
			ll = sizeof(*a);
		}
		if (bind(fd, (struct sockaddr *)&la, ll) != 0) {
			ret = -errno;
			egress_stats_error(&r->f.st, "bind local port %u: %s", lport, strerror(errno));
			close(fd);
			freeaddrinfo(ai);
			return ret;
		}
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		ret = -errno;
		egress_stats_error(&r->f.st, "connect %s:%u: %s", r->cfg.host, dport, strerror(errno));
		close(fd);
		freeaddrinfo(ai);
		return ret;
	}
	freeaddrinfo(ai);
	return fd;
}

static void close_muxer(struct rtp_branch *r)
{
	if (!r->oc)
		return;
	av_write_trailer(r->oc); /* frees the muxer's packet buffer */
	if (r->oc->pb) {
		av_freep(&r->oc->pb->buffer);
		avio_context_free(&r->oc->pb);
	}
	avformat_free_context(r->oc);
	r->oc = NULL;
	r->mux_codec = AV_CODEC_ID_NONE;
}

static void write_sdp(struct rtp_branch *r)
{
	if (!r->cfg.sdp_path[0] || !r->oc)
		return;
	char sdp[8192];
	if (av_sdp_create(&r->oc, 1, sdp, sizeof(sdp)) < 0) {
		KLOG_WARN(&r->f.log, "SDP: av_sdp_create failed");
		return;
	}
	size_t n = strlen(sdp);
	if (r->cfg.rtcp_port && r->cfg.rtcp_port != r->cfg.port + 1)
		n += (size_t)snprintf(sdp + n, sizeof(sdp) - n, "a=rtcp:%u\r\n", r->cfg.rtcp_port);
	if (n < sizeof(sdp))
		snprintf(sdp + n, sizeof(sdp) - n, "a=ssrc:%u cname:vas-%s\r\n", r->ssrc, r->camera_id);
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", r->cfg.sdp_path, (int)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f) {
		egress_stats_error(&r->f.st, "SDP %s: %s", tmp, strerror(errno));
		KLOG_WARN(&r->f.log, "SDP %s: %s", tmp, strerror(errno));
		return;
	}
	bool ok = fputs(sdp, f) >= 0;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, r->cfg.sdp_path) != 0) {
		egress_stats_error(&r->f.st, "SDP %s: %s", r->cfg.sdp_path, strerror(errno));
		unlink(tmp);
		return;
	}
	r->sdp_ps = r->ps;
	KLOG_INFO(&r->f.log, "SDP written: %s", r->cfg.sdp_path);
}

/* The muxer's stream extradata := the parameter sets we know (Annex B). */
static void set_mux_extradata(struct rtp_branch *r)
{
	if (!r->oc || !r->ps.sps_len || !r->ps.pps_len)
		return;
	AVCodecParameters *p = r->oc->streams[0]->codecpar;
	size_t n = r->ps.sps_len + r->ps.pps_len;
	uint8_t *e = av_mallocz(n + AV_INPUT_BUFFER_PADDING_SIZE);
	if (!e)
		return;
	memcpy(e, r->ps.sps, r->ps.sps_len);
	memcpy(e + r->ps.sps_len, r->ps.pps, r->ps.pps_len);
	av_freep(&p->extradata);
	p->extradata = e;
	p->extradata_size = (int)n;
}

static int open_muxer(struct rtp_branch *r, const AVCodecParameters *par)
{
	AVFormatContext *oc = NULL;
	int ret = avformat_alloc_output_context2(&oc, NULL, "rtp", NULL);
	if (ret < 0)
		return ret;
	char url[128];
	if (strchr(r->cfg.host, ':'))
		snprintf(url, sizeof(url), "rtp://[%s]:%u", r->cfg.host, r->cfg.port);
	else
		snprintf(url, sizeof(url), "rtp://%s:%u", r->cfg.host, r->cfg.port);
	oc->url = av_strdup(url);
	char title[96];
	snprintf(title, sizeof(title), "vas %s", r->camera_id);
	av_dict_set(&oc->metadata, "title", title, 0);
	AVStream *st = avformat_new_stream(oc, NULL);
	uint8_t *buf = av_malloc(RTP_MTU);
	AVIOContext *pb = buf ? avio_alloc_context(buf, RTP_MTU, 1, r, NULL, io_write, NULL) : NULL;
	if (!st || !pb) {
		av_free(buf);
		avformat_free_context(oc);
		return AVERROR(ENOMEM);
	}
	pb->max_packet_size = RTP_MTU;
	pb->seekable = 0;
	oc->pb = pb;
	r->oc = oc;
	avcodec_parameters_copy(st->codecpar, par);
	st->codecpar->codec_tag = 0;
	st->time_base = (AVRational){ 1, 90000 };
	set_mux_extradata(r);
	AVDictionary *opts = NULL;
	av_dict_set_int(&opts, "payload_type", r->cfg.payload_type, 0);
	av_dict_set_int(&opts, "ssrc", (int64_t)(int32_t)r->ssrc, 0);
	char cname[80];
	snprintf(cname, sizeof(cname), "vas-%s", r->camera_id);
	av_dict_set(&opts, "cname", cname, 0);
	if (!r->cfg.rtcp_port)
		av_dict_set(&opts, "rtpflags", "skip_rtcp", 0);
	ret = avformat_write_header(oc, &opts);
	av_dict_free(&opts);
	if (ret < 0) {
		close_muxer(r);
		egress_stats_error(&r->f.st, "rtp muxer: %s", av_err2str(ret));
		return ret;
	}
	r->mux_codec = par->codec_id;
	r->have_last = false;
	r->last_dts = INT64_MIN;
	KLOG_INFO(&r->f.log, "RTP to %s:%u (RTCP %s%u) pt=%u ssrc=%u", r->cfg.host, r->cfg.port,
		  r->cfg.rtcp_port ? "" : "off ", r->cfg.rtcp_port, r->cfg.payload_type, r->ssrc);
	return 0;
}

static void on_open(struct rtp_branch *r, AVCodecParameters *par, AVRational tb)
{
	avcodec_parameters_free(&r->par);
	av_bsf_free(&r->bsf);
	r->par = par;
	r->tb = tb.num > 0 && tb.den > 0 ? tb : (AVRational){ 1, 90000 };
	r->have_stream = true;
	r->need_key = true;
	r->in_base = INT64_MIN;
	memset(&r->ps, 0, sizeof(r->ps));
	if (par->codec_id == AV_CODEC_ID_H264 && par->extradata_size > 0 && par->extradata[0] == 1) {
		const AVBitStreamFilter *f = av_bsf_get_by_name("h264_mp4toannexb");
		if (f && av_bsf_alloc(f, &r->bsf) == 0) {
			avcodec_parameters_copy(r->bsf->par_in, par);
			r->bsf->time_base_in = r->tb;
			if (av_bsf_init(r->bsf) < 0)
				av_bsf_free(&r->bsf);
		}
		if (r->bsf)
			avcodec_parameters_copy(r->par, r->bsf->par_out);
	}
	if (r->par->codec_id == AV_CODEC_ID_H264 && r->par->extradata &&
	    egress_is_annexb(r->par->extradata, (size_t)r->par->extradata_size))
		egress_h264_scan(r->par->extradata, (size_t)r->par->extradata_size, &r->ps);
	r->annexb = r->par->codec_id == AV_CODEC_ID_H264 &&
		    (r->par->extradata_size == 0 || egress_is_annexb(r->par->extradata, (size_t)r->par->extradata_size));
	egress_dts_reset(&r->dts, r->par->video_delay);
	r->frame_dur = av_rescale_q(1, (AVRational){ 1, 10 }, r->tb);
	r->last_pts_in = INT64_MIN;
	if (r->oc && r->mux_codec != r->par->codec_id)
		close_muxer(r);
	if (!r->oc && open_muxer(r, r->par) < 0) {
		egress_stats_set_state(&r->f.st, "error");
		KLOG_ERR(&r->f.log, "RTP muxer for codec %s failed: no live egress for this stream",
			 avcodec_get_name(r->par->codec_id));
		return;
	}
	set_mux_extradata(r);
	if (r->ps.sps_len && r->ps.pps_len)
		write_sdp(r);
	else if (r->par->codec_id != AV_CODEC_ID_H264)
		write_sdp(r);
	egress_stats_set_state(&r->f.st, "running");
}

/* Prepend SPS+PPS to an H.264 IDR that does not carry them. Returns a new packet,
 * or NULL to send pkt as it is. */
static AVPacket *with_parameter_sets(struct rtp_branch *r, const AVPacket *pkt)
{
	struct egress_h264_ps tmp = r->ps;
	unsigned m = egress_h264_scan(pkt->data, (size_t)pkt->size, &tmp);
	r->ps = tmp;
	if (((m & 3) == 3) || !(m & 4) || !r->ps.sps_len || !r->ps.pps_len)
		return NULL;
	size_t add = r->ps.sps_len + r->ps.pps_len;
	AVPacket *o = av_packet_alloc();
	if (!o || av_new_packet(o, (int)(pkt->size + add)) < 0) {
		av_packet_free(&o);
		return NULL;
	}
	av_packet_copy_props(o, pkt);
	memcpy(o->data, r->ps.sps, r->ps.sps_len);
	memcpy(o->data + r->ps.sps_len, r->ps.pps, r->ps.pps_len);
	memcpy(o->data + add, pkt->data, (size_t)pkt->size);
	return o;
}

static void send_packet(struct rtp_branch *r, AVPacket *pkt)
{
	bool key = pkt->flags & AV_PKT_FLAG_KEY;
	AVPacket *o = NULL;
	if (r->par->codec_id == AV_CODEC_ID_H264 && key && egress_is_annexb(pkt->data, (size_t)pkt->size)) {
		o = with_parameter_sets(r, pkt);
		if (r->ps.sps_len && r->ps.pps_len &&
		    (r->ps.sps_len != r->sdp_ps.sps_len || memcmp(r->ps.sps, r->sdp_ps.sps, r->ps.sps_len) ||
		     r->ps.pps_len != r->sdp_ps.pps_len || memcmp(r->ps.pps, r->sdp_ps.pps, r->ps.pps_len))) {
			set_mux_extradata(r);
			write_sdp(r);
		}
	}
	if (!o) {
		o = av_packet_alloc();
		if (!o || av_packet_ref(o, pkt) < 0) {
			av_packet_free(&o);
			atomic_fetch_add(&r->f.st.packets_dropped, 1);
			return;
		}
	}
	AVRational t90 = { 1, 90000 };
	int64_t pts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
	int64_t dts_in = pkt->dts;
	if (pts != AV_NOPTS_VALUE) {
		if (r->last_pts_in != INT64_MIN && pts > r->last_pts_in && pts - r->last_pts_in < r->frame_dur)
			r->frame_dur = pts - r->last_pts_in;
		r->last_pts_in = pts;
		if (dts_in == AV_NOPTS_VALUE)
			dts_in = egress_dts_next(&r->dts, pts, r->frame_dur);
	}
	int64_t in90 = pts != AV_NOPTS_VALUE ? av_rescale_q(pts, r->tb, t90)
					     : av_rescale_q((int64_t)egress_now_ms(), (AVRational){ 1, 1000 }, t90);
	if (r->in_base == INT64_MIN ||
	    (r->have_last && (in90 - r->in_base + r->out_base <= r->last_out - 90000 ||
			      in90 - r->in_base + r->out_base > r->last_out + 10 * 90000))) {
		/* new stream, or the source clock jumped: continue our timeline */
		r->in_base = in90;
		r->out_base = r->have_last ? r->last_out + r->last_dur : 0;
	}
	int64_t out = in90 - r->in_base + r->out_base;
	if (r->have_last && out > r->last_out && out - r->last_out < 90000)
		r->last_dur = out - r->last_out;
	o->pts = out;
	o->dts = dts_in != AV_NOPTS_VALUE ? av_rescale_q(dts_in, r->tb, t90) - r->in_base + r->out_base : out;
	if (r->last_dts != INT64_MIN && o->dts <= r->last_dts)
		o->dts = r->last_dts + 1;
	if (o->pts < o->dts)
		o->pts = o->dts;
	o->duration = 0;
	o->stream_index = 0;
	o->pos = -1;
	r->last_dts = o->dts;
	if (!r->have_last || out > r->last_out)
		r->last_out = out;
	if (!r->have_last)
		r->last_dur = 3000;
	r->have_last = true;
	int ret = av_write_frame(r->oc, o);
	av_packet_free(&o);
	if (ret < 0) {
		egress_stats_error(&r->f.st, "rtp muxer: %s", av_err2str(ret));
		klog_ratelimited(&r->f.log, &r->rl_send, 1, 10000, KLOG_WARN, "rtp muxer: %s", av_err2str(ret));
		r->oc->pb->error = 0;
		atomic_fetch_add(&r->f.st.packets_dropped, 1);
		return;
	}
	atomic_fetch_add(&r->f.st.packets_out, 1);
}

static void handle_packet(struct rtp_branch *r, AVPacket *pkt, bool gap)
{
	if (!r->have_stream || !r->oc) {
		atomic_fetch_add(&r->f.st.packets_dropped, 1);
		return;
	}
	if (gap)
		r->need_key = true;
	if (r->need_key && !(pkt->flags & AV_PKT_FLAG_KEY)) {
		atomic_fetch_add(&r->f.st.packets_dropped, 1);
		return;
	}
	if (r->annexb && !r->bsf && !egress_is_annexb(pkt->data, (size_t)pkt->size)) {
		atomic_fetch_add(&r->f.st.packets_dropped, 1);
		klog_ratelimited(&r->f.log, &r->rl_bad, 1, 10000, KLOG_WARN,
				 "malformed packet (%d bytes, no Annex B start code) dropped", pkt->size);
		return;
	}
	r->need_key = false;
	if (!r->bsf) {
		send_packet(r, pkt);
		return;
	}
	if (av_bsf_send_packet(r->bsf, pkt) < 0) {
		atomic_fetch_add(&r->f.st.packets_dropped, 1);
		return;
	}
	AVPacket *o = av_packet_alloc();
	while (o && av_bsf_receive_packet(r->bsf, o) == 0) {
		send_packet(r, o);
		av_packet_unref(o);
	}
	av_packet_free(&o);
}

static void *rtp_thread(void *arg)
{
	struct rtp_branch *r = arg;
	for (;;) {
		struct egress_ev ev;
		if (!egress_queue_pop(&r->f.q, &ev, 1000))
			continue;
		switch (ev.type) {
		case EGRESS_EV_STOP:
			egress_ev_free(&ev);
			return NULL;
		case EGRESS_EV_OPEN:
			on_open(r, ev.par, ev.tb);
			ev.par = NULL;
			break;
		case EGRESS_EV_CLOSE:
			r->have_stream = false;
			egress_stats_set_state(&r->f.st, "idle");
			break;
		case EGRESS_EV_PACKET:
			handle_packet(r, ev.pkt, ev.gap_before);
			break;
		}
		egress_ev_free(&ev);
	}
}

static void rtp_destroy(struct vas_branch *b)
{
	struct rtp_branch *r = (struct rtp_branch *)b;
	if (!r)
		return;
	egress_front_stop(&r->f);
	close_muxer(r);
	av_bsf_free(&r->bsf);
	avcodec_parameters_free(&r->par);
	if (r->fd_rtp >= 0)
		close(r->fd_rtp);
	if (r->fd_rtcp >= 0)
		close(r->fd_rtcp);
	egress_front_fini(&r->f);
	free(r);
}

static const struct vas_branch_ops rtp_ops = {
	.version = VAS_BRANCH_ABI_VERSION,
	.name = "rtp",
	.stream_open = egress_front_stream_open,
	.packet = egress_front_packet,
	.stream_close = egress_front_stream_close,
	.get_stats = egress_front_get_stats,
	.destroy = rtp_destroy,
};

int vas_rtp_branch_new(struct vas_branch **out, const char *camera_id, const struct vas_rtp_config *cfg,
		       char *err, size_t errlen)
{
	*out = NULL;
	if (!camera_id || !*camera_id || strlen(camera_id) >= 64 || !cfg) {
		snprintf(err, errlen, "rtp: invalid camera id");
		return -EINVAL;
	}
	if (!cfg->host[0] || cfg->port == 0) {
		snprintf(err, errlen, "rtp: host and port are required");
		return -EINVAL;
	}
	if (cfg->payload_type > 127) {
		snprintf(err, errlen, "rtp: payload_type %u out of range (0-127; 96-127 dynamic)", cfg->payload_type);
		return -EINVAL;
	}
	struct rtp_branch *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "rtp: out of memory");
		return -ENOMEM;
	}
	r->f.base.ops = &rtp_ops;
	r->f.what = "RTP";
	r->fd_rtp = r->fd_rtcp = -1;
	snprintf(r->camera_id, sizeof(r->camera_id), "%s", camera_id);
	r->cfg = *cfg;
	if (r->cfg.payload_type == 0)
		r->cfg.payload_type = 96;
	if (r->cfg.queue_packets == 0)
		r->cfg.queue_packets = 256;
	r->ssrc = r->cfg.ssrc ? r->cfg.ssrc : fnv1a(camera_id);
	klog_ctx_init(&r->f.log, "vasd", "cam=%s rtp", camera_id);
	egress_stats_init(&r->f.st);
	int ret = egress_queue_init(&r->f.q, r->cfg.queue_packets);
	if (ret < 0)
		goto fail_nomem;
	r->fd_rtp = udp_socket(r, r->cfg.port, r->cfg.local_port);
	if (r->fd_rtp < 0) {
		ret = r->fd_rtp;
		snprintf(err, errlen, "rtp: socket to %s:%u: %s", r->cfg.host, r->cfg.port, strerror(-ret));
		goto fail;
	}
	if (r->cfg.rtcp_port) {
		if (r->cfg.rtcp_port == r->cfg.port) {
			r->fd_rtcp = dup(r->fd_rtp); /* rtcp-mux */
		} else {
			r->fd_rtcp = udp_socket(r, r->cfg.rtcp_port, r->cfg.local_port ? r->cfg.local_port + 1 : 0);
			if (r->fd_rtcp < 0) {
				ret = r->fd_rtcp;
				snprintf(err, errlen, "rtp: RTCP socket to %s:%u: %s", r->cfg.host, r->cfg.rtcp_port,
					 strerror(-ret));
				goto fail;
			}
		}
	}
	ret = pthread_create(&r->f.thread, NULL, rtp_thread, r);
	if (ret != 0) {
		snprintf(err, errlen, "rtp: thread: %s", strerror(ret));
		ret = -ret;
		goto fail;
	}
	r->f.thread_started = true;
	pthread_setname_np(r->f.thread, "vas-rtp");
	*out = &r->f.base;
	return 0;
fail_nomem:
	snprintf(err, errlen, "rtp: out of memory");
fail:
	rtp_destroy(&r->f.base);
	return ret;
}

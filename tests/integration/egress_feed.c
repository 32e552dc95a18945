/* egress_feed: the test harness for the recording and RTP branches, standalone
 * (no vasd). It demuxes MP4 files with libavformat and calls the branch ops the
 * way vasd's ingest thread does: stream_open(par, time_base) -> packet()* ->
 * stream_close(), with packets in Annex B and SPS/PPS in the extradata, as the
 * RTSP demuxer delivers them.
 *
 *   egress-feed [options] FILE [FILE ...]
 *     --record DIR          recording branch into DIR
 *     --segment S           segment_seconds (default 2)
 *     --format mp4|mkv
 *     --rtp HOST:PORT       RTP branch; --rtcp-port N, --sdp PATH, --pt N, --ssrc N
 *     --speed X             1 = real time (default), 0 = as fast as possible
 *     --loops N             play the file list N times as one stream (timestamps continue)
 *     --reopen              stream_close/stream_open between files (a reconnect)
 *     --strip-inband        remove SPS/PPS NAL units from the packets (extradata only)
 *     --no-extradata        clear the extradata (parameter sets only in band)
 *     --garbage-every N     hand a packet of random bytes every N packets
 *     --cycles N            N open/close cycles of K packets each (--cycle-packets K), then report
 *     --queue N             queue_packets for both branches
 *     --start-delay-ms N    wait N ms after the first stream_open before the first packet
 *                           (time for a test to start an RTP consumer on the SDP)
 *     --stats               print the branch stats at the end
 * Prints "FEED frames=N keyframes=K seconds=S" on stdout at the end. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/bsf.h>
#include <libavformat/avformat.h>

#include "branch.h"

static struct vas_branch *branches[2];
static int nbranches;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void b_open(const AVCodecParameters *par, AVRational tb)
{
	for (int i = 0; i < nbranches; i++)
		branches[i]->ops->stream_open(branches[i], par, tb);
}
static void b_packet(const AVPacket *p)
{
	for (int i = 0; i < nbranches; i++)
		branches[i]->ops->packet(branches[i], p);
}
static void b_close(void)
{
	for (int i = 0; i < nbranches; i++)
		branches[i]->ops->stream_close(branches[i]);
}

/* Remove NAL types 7 and 8 from an Annex B packet, in place. */
static void strip_ps(AVPacket *p)
{
	uint8_t *d = p->data;
	int n = p->size, o = 0, i = 0;
	while (i < n) {
		/* find start code at i */
		int sc = 0;
		if (i + 4 <= n && !d[i] && !d[i + 1] && !d[i + 2] && d[i + 3] == 1)
			sc = 4;
		else if (i + 3 <= n && !d[i] && !d[i + 1] && d[i + 2] == 1)
			sc = 3;
		if (!sc) { /* not Annex B: leave */
			return;
		}
		int j = i + sc;
		while (j + 3 <= n && !(!d[j] && !d[j + 1] && (d[j + 2] == 1 || (d[j + 2] == 0 && j + 3 < n && d[j + 3] == 1))))
			j++;
		if (j + 3 > n)
			j = n;
		int t = (i + sc < n) ? (d[i + sc] & 0x1f) : 0;
		if (t != 7 && t != 8) {
			memmove(d + o, d + i, (size_t)(j - i));
			o += j - i;
		}
		i = j;
	}
	p->size = o;
}

int main(int argc, char **argv)
{
	const char *rec_dir = NULL, *rtp = NULL, *sdp = NULL, *fmt = "mp4";
	int start_delay = 0, segment = 2, rtcp_port = 0, pt = 96, loops = 1, garbage_every = 0, cycles = 0, cycle_packets = 10;
	unsigned ssrc = 0, queue = 0;
	double speed = 1.0;
	bool reopen = false, strip = false, no_extra = false, stats = false;
	const char *files[16];
	int nfiles = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v && ++i)
		if (ARG("--record")) rec_dir = v;
		else if (ARG("--segment")) segment = atoi(v);
		else if (ARG("--format")) fmt = v;
		else if (ARG("--rtp")) rtp = v;
		else if (ARG("--rtcp-port")) rtcp_port = atoi(v);
		else if (ARG("--sdp")) sdp = v;
		else if (ARG("--pt")) pt = atoi(v);
		else if (ARG("--ssrc")) ssrc = (unsigned)strtoul(v, NULL, 0);
		else if (ARG("--speed")) speed = atof(v);
		else if (ARG("--loops")) loops = atoi(v);
		else if (ARG("--garbage-every")) garbage_every = atoi(v);
		else if (ARG("--cycles")) cycles = atoi(v);
		else if (ARG("--cycle-packets")) cycle_packets = atoi(v);
		else if (ARG("--start-delay-ms")) start_delay = atoi(v);
		else if (ARG("--queue")) queue = (unsigned)atoi(v);
		else if (strcmp(a, "--reopen") == 0) reopen = true;
		else if (strcmp(a, "--strip-inband") == 0) strip = true;
		else if (strcmp(a, "--no-extradata") == 0) no_extra = true;
		else if (strcmp(a, "--stats") == 0) stats = true;
		else if (a[0] != '-' && nfiles < 16) files[nfiles++] = a;
		else {
			fprintf(stderr, "egress-feed: bad argument %s\n", a);
			return 2;
		}
	}
	if (!nfiles) {
		fprintf(stderr, "usage: egress-feed [options] FILE...\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	char err[256];
	if (rec_dir) {
		struct vas_record_config rc = { .enabled = true, .segment_seconds = (uint32_t)segment,
						.format = strcmp(fmt, "mkv") == 0 ? VAS_RECORD_MKV : VAS_RECORD_FMP4,
						.queue_packets = queue };
		snprintf(rc.dir, sizeof(rc.dir), "%s", rec_dir);
		if (vas_record_branch_new(&branches[nbranches], "cam1", &rc, err, sizeof(err)) < 0) {
			fprintf(stderr, "record: %s\n", err);
			return 1;
		}
		nbranches++;
	}
	if (rtp) {
		struct vas_rtp_config pc = { .enabled = true, .rtcp_port = (uint16_t)rtcp_port, .payload_type = (uint8_t)pt,
					     .ssrc = ssrc, .queue_packets = queue };
		const char *colon = strrchr(rtp, ':');
		if (!colon) {
			fprintf(stderr, "--rtp HOST:PORT\n");
			return 2;
		}
		snprintf(pc.host, sizeof(pc.host), "%.*s", (int)(colon - rtp), rtp);
		pc.port = (uint16_t)atoi(colon + 1);
		if (sdp)
			snprintf(pc.sdp_path, sizeof(pc.sdp_path), "%s", sdp);
		if (vas_rtp_branch_new(&branches[nbranches], "cam1", &pc, err, sizeof(err)) < 0) {
			fprintf(stderr, "rtp: %s\n", err);
			return 1;
		}
		nbranches++;
	}

	uint64_t frames = 0, keys = 0, garbage = 0;
	int64_t offset90 = 0, last_end90 = 0; /* continuous timeline across files/loops, 90 kHz */
	uint64_t t0 = now_ns();
	bool opened = false;
	int total_cycles = 0;
	for (int loop = 0; loop < loops; loop++) {
		for (int fi = 0; fi < nfiles; fi++) {
			AVFormatContext *ic = NULL;
			if (avformat_open_input(&ic, files[fi], NULL, NULL) < 0 || avformat_find_stream_info(ic, NULL) < 0) {
				fprintf(stderr, "cannot open %s\n", files[fi]);
				return 1;
			}
			int vi = av_find_best_stream(ic, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
			AVStream *st = ic->streams[vi];
			AVBSFContext *bsf = NULL;
			av_bsf_alloc(av_bsf_get_by_name(st->codecpar->codec_id == AV_CODEC_ID_HEVC ? "hevc_mp4toannexb"
												     : "h264_mp4toannexb"),
				     &bsf);
			avcodec_parameters_copy(bsf->par_in, st->codecpar);
			bsf->time_base_in = (AVRational){ 1, 90000 };
			av_bsf_init(bsf);
			AVCodecParameters *par = avcodec_parameters_alloc();
			avcodec_parameters_copy(par, bsf->par_out);
			if (no_extra) {
				av_freep(&par->extradata);
				par->extradata_size = 0;
			}
			if (!opened || reopen) {
				if (opened)
					b_close();
				b_open(par, (AVRational){ 1, 90000 });
				if (!opened && start_delay > 0) {
					usleep((useconds_t)start_delay * 1000u);
					t0 = now_ns();
				}
				opened = true;
			}
			AVPacket *p = av_packet_alloc(), *o = av_packet_alloc();
			int64_t first = AV_NOPTS_VALUE, file_end = 0;
			while (av_read_frame(ic, p) >= 0) {
				if (p->stream_index != vi) {
					av_packet_unref(p);
					continue;
				}
				av_packet_rescale_ts(p, st->time_base, (AVRational){ 1, 90000 });
				if (first == AV_NOPTS_VALUE)
					first = p->pts;
				int64_t dur = p->duration > 0 ? p->duration : 3000;
				av_bsf_send_packet(bsf, p);
				while (av_bsf_receive_packet(bsf, o) == 0) {
					int64_t rel = o->pts - first;
					if (rel + dur > file_end)
						file_end = rel + dur;
					o->pts = rel + offset90;
					o->dts = AV_NOPTS_VALUE; /* as RTSP delivers it */
					if (strip)
						strip_ps(o);
					if (speed > 0) {
						uint64_t due = t0 + (uint64_t)((double)av_rescale(o->pts, 1000000000, 90000) / speed);
						uint64_t n = now_ns();
						if (due > n) {
							struct timespec ts = { (time_t)((due - n) / 1000000000u),
									       (long)((due - n) % 1000000000u) };
							nanosleep(&ts, NULL);
						}
					}
					if (garbage_every && frames && frames % (uint64_t)garbage_every == 0) {
						AVPacket *g = av_packet_alloc();
						av_new_packet(g, 200);
						for (int k = 0; k < 200; k++)
							g->data[k] = (uint8_t)rand();
						g->pts = o->pts;
						b_packet(g);
						av_packet_free(&g);
						garbage++;
					}
					b_packet(o);
					frames++;
					if (o->flags & AV_PKT_FLAG_KEY)
						keys++;
					av_packet_unref(o);
					if (cycles && frames % (uint64_t)cycle_packets == 0) {
						b_close();
						b_open(par, (AVRational){ 1, 90000 });
						if (++total_cycles >= cycles)
							goto done_file;
					}
				}
			}
		done_file:
			offset90 += file_end;
			last_end90 = offset90;
			av_packet_free(&p);
			av_packet_free(&o);
			av_bsf_free(&bsf);
			avcodec_parameters_free(&par);
			avformat_close_input(&ic);
			if (cycles && total_cycles >= cycles)
				goto done;
		}
	}
done:
	if (opened)
		b_close();
	/* wait until the branches have handled everything (bounded) */
	for (int w = 0; w < 200; w++) {
		bool busy = false;
		for (int i = 0; i < nbranches; i++) {
			struct vas_branch_stats s;
			branches[i]->ops->get_stats(branches[i], &s);
			if (s.packets_out + s.packets_dropped < s.packets_in || strcmp(s.state, "running") == 0)
				busy = true; /* running: the stream_close is not handled yet */
		}
		if (!busy)
			break;
		usleep(50000);
	}
	for (int i = 0; i < nbranches; i++) {
		struct vas_branch_stats s;
		branches[i]->ops->get_stats(branches[i], &s);
		if (stats)
			printf("STATS %s packets_in=%llu packets_out=%llu packets_dropped=%llu bytes_out=%llu segments=%llu "
			       "errors=%llu state=%s last_error=\"%s\"\n",
			       branches[i]->ops->name, (unsigned long long)s.packets_in, (unsigned long long)s.packets_out,
			       (unsigned long long)s.packets_dropped, (unsigned long long)s.bytes_out,
			       (unsigned long long)s.segments, (unsigned long long)s.errors, s.state, s.last_error);
		branches[i]->ops->destroy(branches[i]);
	}
	printf("FEED frames=%llu keyframes=%llu garbage=%llu seconds=%.3f\n", (unsigned long long)frames,
	       (unsigned long long)keys, (unsigned long long)garbage, (double)last_end90 / 90000.0);
	fflush(stdout);
	return 0;
}

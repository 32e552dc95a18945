/* egress_common.h: what the recording and RTP branches share (internal to vas_egress).
 *
 * - struct egress_queue: the bounded hand-off between the ingest thread (producer,
 *   never blocks) and the branch's own thread (consumer). Packets are counted
 *   against the bound; control events (stream open/close, stop) are never dropped
 *   (there are at most a few per reconnect) and keep their order with the packets.
 * - struct egress_stats: counters updated by the branch thread, read from any thread.
 * - struct egress_front: the ingest-thread half every branch shares (the ops that
 *   only queue, and the branch thread's stop), so record.c and rtp.c hold only
 *   what their own thread does.
 * - H.264 Annex B helpers (find SPS/PPS in a packet). */
#ifndef VAS_EGRESS_COMMON_H
#define VAS_EGRESS_COMMON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>

#include "branch.h"
#include "log.h"

enum egress_ev_type { EGRESS_EV_PACKET = 0, EGRESS_EV_OPEN, EGRESS_EV_CLOSE, EGRESS_EV_STOP };

struct egress_ev {
	enum egress_ev_type type;
	bool gap_before;          /* packets were dropped just before this one */
	AVPacket *pkt;            /* EGRESS_EV_PACKET */
	AVCodecParameters *par;   /* EGRESS_EV_OPEN */
	AVRational tb;            /* EGRESS_EV_OPEN */
};

struct egress_queue {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct egress_ev *ev;     /* ring of cap entries */
	uint32_t cap, head, count;
	uint32_t max_packets, packets; /* packet bound and packets queued now */
	bool pending_gap;
};

int egress_queue_init(struct egress_queue *q, uint32_t max_packets);
void egress_queue_destroy(struct egress_queue *q); /* frees what is still queued */
/* Producer side. Packet: false when the queue was full (caller counts the drop). */
bool egress_queue_push_packet(struct egress_queue *q, const AVPacket *pkt);
int egress_queue_push_ctl(struct egress_queue *q, enum egress_ev_type type, const AVCodecParameters *par,
			  AVRational tb);
/* Consumer side: waits up to timeout_ms (0: no wait); returns false when empty. */
bool egress_queue_pop(struct egress_queue *q, struct egress_ev *out, int timeout_ms);
void egress_ev_free(struct egress_ev *ev);

struct egress_stats {
	_Atomic uint64_t packets_in, packets_out, packets_dropped, bytes_out, segments, errors;
	pthread_mutex_t mu; /* state, last_error */
	char state[24];
	char last_error[200];
};

void egress_stats_init(struct egress_stats *s);
void egress_stats_set_state(struct egress_stats *s, const char *state);
void egress_stats_error(struct egress_stats *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void egress_stats_get(struct egress_stats *s, struct vas_branch_stats *out);

/* H.264 Annex B: next NAL unit at or after *pos (start code skipped); returns its
 * start and sets *len, or NULL. Handles 3- and 4-byte start codes. */
const uint8_t *egress_h264_next_nal(const uint8_t *buf, size_t size, size_t *pos, size_t *len);
/* True when buf starts with an Annex B start code. */
bool egress_is_annexb(const uint8_t *buf, size_t size);

/* Parameter sets of an H.264 stream, kept as Annex B (start code + NAL). */
struct egress_h264_ps {
	uint8_t sps[512];
	size_t sps_len;
	uint8_t pps[512];
	size_t pps_len;
};
/* Scan an Annex B buffer; fills what it finds (leaves the rest). Returns a mask:
 * 1 = SPS found, 2 = PPS found, 4 = IDR slice found. */
unsigned egress_h264_scan(const uint8_t *buf, size_t size, struct egress_h264_ps *ps);

uint64_t egress_now_ms(void);

/* Decode timestamps for a stream whose packets come with pts only (RTSP): the
 * smallest pts of a sliding window of video_delay+1 packets (what libavformat
 * does), so B-frame streams get increasing dts <= pts. delay 0: dts = pts. */
struct egress_dts {
	int delay;
	int64_t buf[17];
};
void egress_dts_reset(struct egress_dts *d, int video_delay);
int64_t egress_dts_next(struct egress_dts *d, int64_t pts, int64_t duration);

/* The shared front of a branch. A branch struct starts with it, so the struct
 * vas_branch the ops receive is also the egress_front (and the branch). The ops
 * below run on the ingest thread and never block: they only queue (packets may
 * be dropped when the queue is full; control events never are). get_stats may
 * run on any thread. `what` ("recording", "RTP") names the branch in log lines. */
struct egress_front {
	struct vas_branch base;
	const char *what;
	struct klog_ctx log;
	struct klog_ratelimit rl_drop;
	struct egress_queue q;
	struct egress_stats st;
	pthread_t thread;
	bool thread_started;
};

int egress_front_stream_open(struct vas_branch *b, const AVCodecParameters *par, AVRational time_base);
void egress_front_packet(struct vas_branch *b, const AVPacket *pkt);
void egress_front_stream_close(struct vas_branch *b);
void egress_front_get_stats(struct vas_branch *b, struct vas_branch_stats *st);
/* Ask the branch thread to stop after what is queued before it, and join it. */
void egress_front_stop(struct egress_front *f);
/* Free what the front owns (queued packets, the stats lock); after _stop and
 * after the branch's own cleanup. */
void egress_front_fini(struct egress_front *f);

#endif

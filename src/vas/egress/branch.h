/* branch.h: vasd's compressed-packet branches (recording, RTP egress for MediaSoup).
 *
 *   RTSP -> demux --+--> recording branch  (this interface)
 *                   +--> live RTP branch   (this interface)
 *                   +--> decode -> kernel frame path (Phase 1/2, src/vas/export)
 *
 * The ingest thread owns the demuxer and calls each branch with every video
 * packet. A branch must never make the ingest thread wait: packet() only takes
 * a reference (av_packet_ref) into the branch's own bounded queue and returns;
 * the branch's own thread does the file or socket I/O. When the queue is full
 * the packet is dropped and counted (and, for recording, the segment is marked
 * with a gap), so a slow disk or a full one never slows decode or the other
 * branches.
 *
 * Call order on the ingest thread, for each connection:
 *   stream_open(par, time_base) -> packet()* -> stream_close()
 * and again after every reconnect. get_stats() may be called from any thread.
 * destroy() is called once, after the ingest thread has stopped. */
#ifndef VAS_EGRESS_BRANCH_H
#define VAS_EGRESS_BRANCH_H

#include <stdbool.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>
#include <libavutil/rational.h>

#define VAS_BRANCH_ABI_VERSION 1u

enum vas_record_format { VAS_RECORD_FMP4 = 0, VAS_RECORD_MKV = 1 };

struct vas_record_config {
	bool enabled;
	char dir[512];                 /* recordings folder; created if missing */
	uint32_t segment_seconds;      /* target length; cut at the next keyframe after it */
	enum vas_record_format format; /* fragmented MP4 (default) or Matroska */
	uint32_t queue_packets;        /* bounded queue; default 512 */
};

struct vas_rtp_config {
	bool enabled;
	char host[64];                 /* destination (the MediaSoup PlainTransport's ip) */
	uint16_t port;                 /* RTP port */
	uint16_t rtcp_port;            /* 0: no RTCP sender reports */
	uint8_t payload_type;          /* default 96 */
	uint32_t ssrc;                 /* 0: derived from the camera id */
	char sdp_path[512];            /* "" : no SDP file */
	uint32_t queue_packets;        /* bounded queue; default 256 */
	/* Added by egress (additive): local source port of the RTP socket (RTCP from
	 * local_port+1). 0: ephemeral. Set it when the MediaSoup PlainTransport runs
	 * with comedia off, whose connect() must name this source tuple. */
	uint16_t local_port;
};

struct vas_branch_stats {
	uint64_t packets_in;       /* handed to packet() */
	uint64_t packets_out;      /* written to file / sent */
	uint64_t packets_dropped;  /* queue full or branch in error */
	uint64_t bytes_out;
	uint64_t segments;         /* recording: segments finished */
	uint64_t errors;
	char state[24];            /* "idle", "running", "error" */
	char last_error[200];
};

struct vas_branch;

struct vas_branch_ops {
	uint32_t version; /* VAS_BRANCH_ABI_VERSION */
	const char *name; /* "record", "rtp" */
	int (*stream_open)(struct vas_branch *b, const AVCodecParameters *par, AVRational time_base);
	void (*packet)(struct vas_branch *b, const AVPacket *pkt); /* never blocks */
	void (*stream_close)(struct vas_branch *b);
	void (*get_stats)(struct vas_branch *b, struct vas_branch_stats *st);
	void (*destroy)(struct vas_branch *b);
};

/* Every branch starts with its ops pointer. */
struct vas_branch {
	const struct vas_branch_ops *ops;
};

/* Constructors (egress/record.c, egress/rtp.c). Return 0 or a negative errno with
 * err filled; a failing branch never stops the camera. */
int vas_record_branch_new(struct vas_branch **out, const char *camera_id, const struct vas_record_config *cfg,
			  char *err, size_t errlen);
int vas_rtp_branch_new(struct vas_branch **out, const char *camera_id, const struct vas_rtp_config *cfg,
		       char *err, size_t errlen);

#endif

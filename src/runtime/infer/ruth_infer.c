/* ruth-infer: run one model runtime on an image or the first frames of a video,
 * through the real path: the frames are published into a private frame export
 * (camera id infer-<pid> unless given) with the same writer code vasd uses,
 * then one INFER_REQUEST per frame goes to the runtime's socket, and every
 * response is printed as one JSON line (ruth_result_json_object, the shape
 * ruth-ai-core prints too).
 *
 *   ruth-infer --socket PATH (--image FILE | --video FILE --frames N)
 *              [--annotate OUT.png] [--threshold X] [--camera-id ID]
 *              [--export-group NAME] [--timeout-ms MS]
 *
 * --annotate draws the boxes and points of the last response onto the last
 * frame and writes a PNG. --export-group makes the export readable by a runtime
 * that runs as another user in that group (mode 0640).
 *
 * Exit codes: 0 when every request got a response (whatever its status),
 * 1 on transport errors (connect, send, receive, timeout, publish),
 * 2 on usage errors (bad arguments, unreadable or undecodable input).
 * The export is closed (unlinked) on every exit path, SIGINT/SIGTERM included. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

#include "log.h"
#include "media.h"
#include "result_json.h"
#include "ruth/ipc.h"
#include "vas/frame_writer.h"

#define EXIT_TRANSPORT 1
#define EXIT_USAGE 2

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

struct opts {
	const char *socket, *image, *video, *annotate, *camera_id, *group;
	long frames;
	float threshold;
	int timeout_ms;
};

static void usage(FILE *fp)
{
	fprintf(fp, "usage: ruth-infer --socket PATH (--image FILE | --video FILE --frames N)\n"
		    "                  [--annotate OUT.png] [--threshold X] [--camera-id ID]\n"
		    "                  [--export-group NAME] [--timeout-ms MS]\n");
}

static int parse_opts(int argc, char **argv, struct opts *o, struct klog_ctx *log)
{
	static const struct option lo[] = {
		{"socket", required_argument, NULL, 's'},      {"image", required_argument, NULL, 'i'},
		{"video", required_argument, NULL, 'v'},       {"frames", required_argument, NULL, 'n'},
		{"annotate", required_argument, NULL, 'a'},    {"threshold", required_argument, NULL, 't'},
		{"camera-id", required_argument, NULL, 'c'},   {"export-group", required_argument, NULL, 'g'},
		{"timeout-ms", required_argument, NULL, 'T'},  {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	o->timeout_ms = 10000;
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->socket = optarg; break;
		case 'i': o->image = optarg; break;
		case 'v': o->video = optarg; break;
		case 'a': o->annotate = optarg; break;
		case 'c': o->camera_id = optarg; break;
		case 'g': o->group = optarg; break;
		case 'n':
			errno = 0;
			o->frames = strtol(optarg, &end, 10);
			if (errno || *end || o->frames < 1 || o->frames > 100000) {
				KLOG_ERR(log, "--frames: expected an integer 1..100000, got '%s'", optarg);
				return -EINVAL;
			}
			break;
		case 't':
			errno = 0;
			o->threshold = strtof(optarg, &end);
			if (errno || *end || end == optarg || !(o->threshold > 0.0f && o->threshold <= 1.0f)) {
				KLOG_ERR(log, "--threshold: expected a number in (0, 1], got '%s'", optarg);
				return -EINVAL;
			}
			break;
		case 'T':
			errno = 0;
			o->timeout_ms = (int)strtol(optarg, &end, 10);
			if (errno || *end || o->timeout_ms < 1) {
				KLOG_ERR(log, "--timeout-ms: expected a positive integer, got '%s'", optarg);
				return -EINVAL;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		KLOG_ERR(log, "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (!o->socket) {
		KLOG_ERR(log, "--socket is required");
		return -EINVAL;
	}
	if (!!o->image == !!o->video) {
		KLOG_ERR(log, "give exactly one of --image and --video");
		return -EINVAL;
	}
	if (o->video && !o->frames) {
		KLOG_ERR(log, "--video needs --frames N");
		return -EINVAL;
	}
	if (o->image && o->frames) {
		KLOG_ERR(log, "--frames goes with --video only");
		return -EINVAL;
	}
	if (o->group && !getgrnam(o->group)) {
		KLOG_ERR(log, "--export-group: no such group '%s'", o->group);
		return -EINVAL;
	}
	if (o->image)
		o->frames = 1;
	return 0;
}

/* ------------------------------------------------------------------ decoding */

/* ---------------------------------------------------------------- annotation */

static void put_px(uint8_t *rgb, int w, int h, int x, int y, const uint8_t c[3])
{
	if (x < 0 || y < 0 || x >= w || y >= h)
		return;
	memcpy(rgb + ((size_t)y * w + x) * 3, c, 3);
}

static void draw_rect(uint8_t *rgb, int w, int h, float fx0, float fy0, float fx1, float fy1, const uint8_t c[3])
{
	int x0 = (int)fx0, y0 = (int)fy0, x1 = (int)fx1, y1 = (int)fy1;
	for (int t = 0; t < 2; t++) {
		for (int x = x0; x <= x1; x++) {
			put_px(rgb, w, h, x, y0 + t, c);
			put_px(rgb, w, h, x, y1 - t, c);
		}
		for (int y = y0; y <= y1; y++) {
			put_px(rgb, w, h, x0 + t, y, c);
			put_px(rgb, w, h, x1 - t, y, c);
		}
	}
}

static void draw_line(uint8_t *rgb, int w, int h, float ax, float ay, float bx, float by, const uint8_t c[3])
{
	float dx = bx - ax, dy = by - ay;
	int n = (int)(fabsf(dx) > fabsf(dy) ? fabsf(dx) : fabsf(dy)) + 1;
	for (int i = 0; i <= n; i++)
		put_px(rgb, w, h, (int)(ax + dx * i / n), (int)(ay + dy * i / n), c);
}

static void annotate(uint8_t *rgb, int w, int h, const struct ruth_ipc_infer_response *r)
{
	static const uint8_t palette[6][3] = {{0, 255, 0}, {255, 64, 64}, {64, 160, 255},
					      {255, 220, 0}, {255, 0, 255}, {0, 255, 255}};
	for (uint32_t i = 0; i < r->n_detections; i++) {
		const struct ruth_ipc_detection *d = &r->detections[i];
		const uint8_t *c = palette[(uint32_t)d->class_id % 6];
		int has_box = d->x1 > d->x0 && d->y1 > d->y0;
		if (has_box && d->n_points != 4)
			draw_rect(rgb, w, h, d->x0, d->y0, d->x1, d->y1, c);
		if (d->n_points == 4) { /* a polygon (text regions) */
			for (int k = 0; k < 4; k++)
				draw_line(rgb, w, h, d->points[k][0], d->points[k][1], d->points[(k + 1) % 4][0],
					  d->points[(k + 1) % 4][1], c);
		} else {
			for (uint32_t k = 0; k < d->n_points && k < RUTH_IPC_MAX_POINTS; k++)
				for (int dy = -1; dy <= 1; dy++)
					for (int dx = -1; dx <= 1; dx++)
						put_px(rgb, w, h, (int)d->points[k][0] + dx, (int)d->points[k][1] + dy,
						       palette[3]);
		}
	}
}

/* ---------------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	struct klog_ctx log;
	klog_ctx_init(&log, "ruth-infer", "pid=%d", (int)getpid());
	/* FFmpeg's own chatter (swscale's "deprecated pixel format" for JPEG's
	 * yuvj formats, which we convert on purpose) is not for the user. */
	av_log_set_level(AV_LOG_ERROR);
	struct opts o;
	if (parse_opts(argc, argv, &o, &log) < 0)
		return EXIT_USAGE;
	char cam[RUTH_IPC_ID_MAX];
	if (o.camera_id)
		snprintf(cam, sizeof(cam), "%s", o.camera_id);
	else
		snprintf(cam, sizeof(cam), "infer-%d", (int)getpid());
	char shm_name[128];
	if (strlen(cam) >= RUTH_IPC_ID_MAX - 1 || vas_export_shm_name(shm_name, sizeof(shm_name), cam) < 0) {
		KLOG_ERR(&log, "--camera-id '%s': not a valid camera id ([A-Za-z0-9_.-]{1,47})", cam);
		return EXIT_USAGE;
	}
	klog_ctx_init(&log, "ruth-infer", "cam=%s", cam);

	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	int ret = EXIT_USAGE;
	struct kmedia_reader dec;
	struct vas_export_writer *w = NULL;
	struct ruth_ipc_client *cli = NULL;
	struct SwsContext *to_nv12 = NULL, *to_rgb = NULL;
	AVFrame *f = av_frame_alloc(), *nv12 = av_frame_alloc(), *last = av_frame_alloc();
	struct ruth_ipc_msg *reply = malloc(sizeof(*reply));
	uint8_t *rgb = NULL;
	struct kjson_buf line = { 0 }; /* one results line, reused per response */
	long done = 0;
	if (!f || !nv12 || !last || !reply) {
		KLOG_ERR(&log, "out of memory");
		goto out_nodec;
	}
	const char *in_path = o.image ? o.image : o.video, *what = NULL;
	int orc = kmedia_reader_open(&dec, in_path, &what);
	if (orc < 0) {
		KLOG_ERR(&log, "%s: %s: %s", in_path, what, av_err2str(orc));
		goto out;
	}

	struct ruth_ipc_hello_ack ack;
	int rc = ruth_ipc_client_connect(&cli, o.socket, "ruth-infer", o.timeout_ms, &ack);
	if (rc < 0) {
		KLOG_ERR(&log, "connect %s: %s", o.socket, ruth_ipc_strerror(rc));
		ret = EXIT_TRANSPORT;
		goto out;
	}
	KLOG_INFO(&log, "connected to model=%s mode=%s", ack.model_id, ruth_ipc_mode_name(ack.mode));

	for (long i = 0; i < o.frames && !g_stop; i++) {
		rc = kmedia_reader_next(&dec, f);
		if (rc == AVERROR_EOF) {
			if (i == 0) {
				KLOG_ERR(&log, "%s: no frame could be decoded", o.image ? o.image : o.video);
				ret = EXIT_USAGE;
				goto out;
			}
			KLOG_WARN(&log, "input ended after %ld of %ld frames", i, o.frames);
			break;
		}
		if (rc < 0) {
			KLOG_ERR(&log, "decode: %s", av_err2str(rc));
			ret = EXIT_USAGE;
			goto out;
		}
		if (!w) {
			struct vas_export_writer_config wc = {
				.camera_id = cam, .slot_count = 4, .max_width = (uint32_t)f->width,
				.max_height = (uint32_t)f->height, .group = o.group,
			};
			rc = vas_export_writer_open(&w, &wc);
			if (rc < 0) {
				KLOG_ERR(&log, "export open: %s", strerror(-rc));
				ret = rc == -EINVAL ? EXIT_USAGE : EXIT_TRANSPORT;
				goto out;
			}
		}
		/* The export takes NV12 or yuv420p. Anything else (JPEG's full-range
		 * yuvj*, 4:2:2, RGB PNGs, palettes) is converted to limited-range NV12
		 * first, the format vasd exports for cameras. */
		struct vas_frame_src src = {
			.width = (uint32_t)f->width, .height = (uint32_t)f->height, .frame_number = (uint64_t)i,
			.pts_us = INT64_MIN,
		};
		if (f->format == AV_PIX_FMT_YUV420P || f->format == AV_PIX_FMT_NV12) {
			src.layout = f->format == AV_PIX_FMT_NV12 ? VAS_SRC_NV12 : VAS_SRC_YUV420P;
			for (int p = 0; p < 3; p++) {
				src.plane[p] = f->data[p];
				src.stride[p] = f->linesize[p];
			}
		} else {
			to_nv12 = sws_getCachedContext(to_nv12, f->width, f->height, f->format, f->width, f->height,
						       AV_PIX_FMT_NV12, SWS_BILINEAR | SWS_ACCURATE_RND, NULL, NULL,
						       NULL);
			if (nv12->width != f->width || nv12->height != f->height) {
				av_frame_unref(nv12);
				nv12->format = AV_PIX_FMT_NV12;
				nv12->width = f->width;
				nv12->height = f->height;
				if (av_frame_get_buffer(nv12, 0) < 0)
					to_nv12 = NULL;
			}
			if (!to_nv12) {
				KLOG_ERR(&log, "cannot convert %s to NV12", av_get_pix_fmt_name(f->format));
				ret = EXIT_USAGE;
				goto out;
			}
			sws_scale(to_nv12, (const uint8_t *const *)f->data, f->linesize, 0, f->height, nv12->data,
				  nv12->linesize);
			src.layout = VAS_SRC_NV12;
			src.plane[0] = nv12->data[0];
			src.plane[1] = nv12->data[1];
			src.stride[0] = nv12->linesize[0];
			src.stride[1] = nv12->linesize[1];
		}
		int64_t seq = vas_export_writer_publish(w, &src);
		if (seq < 0) {
			KLOG_ERR(&log, "publish: %s", strerror((int)-seq));
			ret = EXIT_TRANSPORT;
			goto out;
		}
		struct ruth_ipc_infer_request req;
		memset(&req, 0, sizeof(req));
		snprintf(req.camera_id, sizeof(req.camera_id), "%s", cam);
		req.generation = vas_export_writer_generation(w);
		req.frame_seq = (uint64_t)seq;
		req.score_threshold = o.threshold;
		ruth_ipc_msg_init(reply);
		rc = ruth_ipc_client_infer(cli, &req, reply, o.timeout_ms);
		if (rc < 0) {
			KLOG_ERR(&log, "request for frame %ld: %s", i, ruth_ipc_strerror(rc));
			ret = EXIT_TRANSPORT;
			goto out;
		}
		/* One buffer for every line: reset, not freed, so it stops
		 * allocating once it has held the longest line. */
		kjson_buf_reset(&line);
		if (ruth_result_json_object(&line, NULL, &reply->u.infer_response) < 0 ||
		    KJSON_PUT_LIT(&line, "\n") < 0) {
			KLOG_ERR(&log, "out of memory");
			ret = EXIT_TRANSPORT;
			goto out;
		}
		fwrite(line.p, 1, line.len, stdout);
		fflush(stdout);
		done++;
		/* Keep a reference to the frame for --annotate: the decoder unrefs f
		 * when it reaches the end of the input. */
		av_frame_unref(last);
		if (av_frame_ref(last, f) < 0) {
			KLOG_ERR(&log, "out of memory");
			ret = EXIT_TRANSPORT;
			goto out;
		}
	}
	if (g_stop) {
		KLOG_WARN(&log, "interrupted after %ld frames", done);
		ret = EXIT_TRANSPORT;
		goto out;
	}
	if (o.annotate && done > 0) {
		to_rgb = sws_getContext(last->width, last->height, last->format, last->width, last->height,
					AV_PIX_FMT_RGB24, SWS_BILINEAR | SWS_ACCURATE_RND, NULL, NULL, NULL);
		rgb = malloc((size_t)last->width * last->height * 3);
		if (!to_rgb || !rgb) {
			KLOG_ERR(&log, "--annotate: cannot convert the frame to RGB");
			ret = EXIT_TRANSPORT;
			goto out;
		}
		uint8_t *dst[4] = {rgb, NULL, NULL, NULL};
		int dls[4] = {last->width * 3, 0, 0, 0};
		sws_scale(to_rgb, (const uint8_t *const *)last->data, last->linesize, 0, last->height, dst, dls);
		annotate(rgb, last->width, last->height, &reply->u.infer_response);
		int wrc = kmedia_write_png_rgb24(o.annotate, rgb, last->width, last->height, (size_t)last->width * 3);
		if (wrc < 0) {
			KLOG_ERR(&log, "--annotate %s: %s", o.annotate, av_err2str(wrc));
			ret = EXIT_USAGE;
			goto out;
		}
	}
	ret = 0;
out:
	kmedia_reader_close(&dec);
out_nodec:
	ruth_ipc_client_close(&cli);
	vas_export_writer_close(&w); /* unlinks /dev/shm/vas.<cam> */
	sws_freeContext(to_nv12);
	sws_freeContext(to_rgb);
	av_frame_free(&f);
	av_frame_free(&nv12);
	av_frame_free(&last);
	free(reply);
	free(rgb);
	free(line.p);
	return ret;
}

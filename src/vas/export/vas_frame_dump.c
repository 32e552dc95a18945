/* vas-frame-dump: write an exported frame of a camera as a PNG (and optionally
 * as raw packed NV12) so a person, or a test, can look at it.
 *
 *   vas-frame-dump CAMERA -o FILE.png [--seq N] [--raw FILE.nv12]
 *
 * Reads the export exactly like any other reader: O_RDONLY, PROT_READ, the
 * seqlock-validated copy. Prints one line describing the frame on stdout:
 *   camera=lobby seq=42 generation=... frame_number=41 width=768 height=576 pts_us=4100000 flags=0
 * Exit status: 0 written, 1 runtime error (no export, no frame, stale), 2 usage. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

#include "clock.h"
#include "media.h"
#include "vas/frame_export.h"

/* A frame read while the writer overwrites it is stale; asking for the newest
 * again a few times is enough (4 slots at 30 fps leave ~100 ms per copy). */
#define DUMP_ATTEMPTS 5
#define DUMP_STALLED_NS (5ull * 1000000000ull)

static void usage(FILE *f)
{
	fprintf(f, "usage: vas-frame-dump CAMERA -o FILE.png [--seq N] [--raw FILE.nv12]\n"
		   "  writes the newest exported frame of CAMERA (or frame N) as a PNG\n");
}

static int write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "vas-frame-dump: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t w = fwrite(data, 1, n, f);
	int rc = fclose(f);
	if (w != n || rc != 0) {
		fprintf(stderr, "vas-frame-dump: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* NV12 (packed, as vas_export_reader_copy writes it) -> RGB24 -> PNG. */
static int write_png(const char *path, const uint8_t *nv12, uint32_t w, uint32_t h)
{
	int ret = -1;
	AVFrame *rgb = av_frame_alloc();
	struct SwsContext *sws = NULL;
	if (!rgb) {
		fprintf(stderr, "vas-frame-dump: out of memory\n");
		goto out;
	}
	rgb->format = AV_PIX_FMT_RGB24;
	rgb->width = (int)w;
	rgb->height = (int)h;
	if (av_frame_get_buffer(rgb, 0) < 0)
		goto out;
	sws = sws_getContext((int)w, (int)h, AV_PIX_FMT_NV12, (int)w, (int)h, AV_PIX_FMT_RGB24,
			     SWS_BILINEAR | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, NULL, NULL, NULL);
	if (!sws)
		goto out;
	const uint8_t *src[4] = { nv12, nv12 + (size_t)w * h, NULL, NULL };
	int src_ls[4] = { (int)w, (int)(2 * ((w + 1) / 2)), 0, 0 };
	sws_scale(sws, src, src_ls, 0, (int)h, rgb->data, rgb->linesize);

	int err = kmedia_write_png_rgb24(path, rgb->data[0], (int)w, (int)h, (size_t)rgb->linesize[0]);
	if (err < 0) {
		char msg[AV_ERROR_MAX_STRING_SIZE];
		av_strerror(err, msg, sizeof(msg));
		fprintf(stderr, "vas-frame-dump: cannot write %s: %s\n", path, msg);
		goto out;
	}
	ret = 0;
out:
	sws_freeContext(sws);
	av_frame_free(&rgb);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "seq", required_argument, NULL, 's' },
		{ "raw", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *raw = NULL;
	uint64_t want_seq = 0;
	int c;
	while ((c = getopt_long(argc, argv, "o:s:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'r':
			raw = optarg;
			break;
		case 's': {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (errno || *end || v == 0 || optarg[0] == '-') {
				fprintf(stderr, "vas-frame-dump: --seq wants a positive integer, got '%s'\n", optarg);
				return 2;
			}
			want_seq = v;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || (!out && !raw)) {
		usage(stderr);
		return 2;
	}
	const char *camera = argv[optind];
	char name[128];
	if (vas_export_shm_name(name, sizeof(name), camera) < 0) {
		fprintf(stderr, "vas-frame-dump: invalid camera id '%s' (allowed: [A-Za-z0-9_.-], 1-47 chars)\n",
			camera);
		return 2;
	}

	struct vas_export_reader *r = NULL;
	int err = vas_export_reader_open(&r, camera);
	if (err == -ENOENT) {
		fprintf(stderr,
			"vas-frame-dump: camera '%s' is not exported (is vasd running with AI_FRAME_EXPORT_ENABLED=true?)\n",
			camera);
		return 1;
	}
	if (err < 0) {
		fprintf(stderr, "vas-frame-dump: cannot open the export of camera '%s' (%s): %s\n", camera, name,
			vas_export_strerror(err));
		return 1;
	}
	struct vas_export_info info;
	vas_export_reader_info(r, &info);
	int rc = 1;
	uint8_t *buf = NULL;
	if (info.flags & VAS_EXPORT_F_RETIRED) {
		fprintf(stderr, "vas-frame-dump: the export of camera '%s' is retired (writer pid %d gone or replaced)\n",
			camera, info.writer_pid);
		goto out;
	}
	if (info.newest_seq == 0) {
		fprintf(stderr, "vas-frame-dump: camera '%s' has no frame yet (export exists, nothing published)\n",
			camera);
		goto out;
	}
	uint64_t age = kclock_mono_ns() - info.heartbeat_ns;
	if (info.heartbeat_ns && age > DUMP_STALLED_NS)
		fprintf(stderr, "vas-frame-dump: warning: camera '%s' export is stale: no frame or heartbeat for %.1f s\n",
			camera, (double)age / 1e9);

	size_t cap = (size_t)(info.max_width + 1) * (info.max_height + 1) * 3 / 2 + 64;
	buf = malloc(cap);
	if (!buf) {
		fprintf(stderr, "vas-frame-dump: out of memory\n");
		goto out;
	}
	struct vas_frame_meta meta;
	for (int attempt = 0; attempt < DUMP_ATTEMPTS; attempt++) {
		uint64_t seq = want_seq ? want_seq : vas_export_reader_newest(r);
		err = vas_export_reader_copy(r, seq, buf, cap, &meta);
		if (err == 0 || want_seq || err != VAS_EXPORT_ESTALE)
			break;
	}
	if (err == VAS_EXPORT_ESTALE && want_seq) {
		fprintf(stderr,
			"vas-frame-dump: frame %" PRIu64 " of camera '%s' is stale: no longer in the export (newest is %" PRIu64
			", %u slots)\n",
			want_seq, camera, vas_export_reader_newest(r), info.slot_count);
		goto out;
	}
	if (err == VAS_EXPORT_ENOFRAME) {
		fprintf(stderr, "vas-frame-dump: camera '%s' has no frame %" PRIu64 " yet (newest is %" PRIu64 ")\n",
			camera, want_seq, vas_export_reader_newest(r));
		goto out;
	}
	if (err < 0) {
		fprintf(stderr, "vas-frame-dump: camera '%s': %s\n", camera, vas_export_strerror(err));
		goto out;
	}
	size_t size = (size_t)meta.width * meta.height + 2 * (((size_t)meta.width + 1) / 2) * ((meta.height + 1) / 2);
	if (raw && write_file(raw, buf, size) < 0)
		goto out;
	if (out && write_png(out, buf, meta.width, meta.height) < 0)
		goto out;
	printf("camera=%s seq=%" PRIu64 " generation=%" PRIu64 " frame_number=%" PRIu64
	       " width=%u height=%u pts_us=%" PRId64 " flags=%u\n",
	       camera, meta.seq, meta.generation, meta.frame_number, meta.width, meta.height, meta.pts_us,
	       meta.flags);
	rc = 0;
out:
	free(buf);
	vas_export_reader_close(&r);
	return rc;
}

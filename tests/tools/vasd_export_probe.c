/* vasd_export_probe.c: reads a camera's frame export with the public reader
 * library (include/vas/frame_export.h), for vasd's integration tests.
 *
 *   vasd-export-probe info CAMERA           one line: newest seq, generation, geometry, writer pid
 *   vasd-export-probe rate CAMERA MS        newest seq advance over MS milliseconds, as fps
 *   vasd-export-probe dump CAMERA OUT       newest frame as tightly packed NV12 into OUT, meta on stdout
 *   vasd-export-probe match FRAME W H       reads raw NV12 frames of W x H from stdin (an independent
 *                                           decode by the ffmpeg CLI) and prints the index and PSNR of
 *                                           the one closest to FRAME (stops at an identical one)
 * Exit status 0 on success, 1 on any error (message on stderr). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vas/frame_export.h"

static int open_reader(struct vas_export_reader **r, const char *cam)
{
	int e = vas_export_reader_open(r, cam);
	if (e < 0)
		fprintf(stderr, "vasd-export-probe: open %s: %s\n", cam, vas_export_strerror(e));
	return e;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmd_info(const char *cam)
{
	struct vas_export_reader *r;
	struct vas_export_info in;
	if (open_reader(&r, cam) < 0)
		return 1;
	vas_export_reader_info(r, &in);
	printf("camera=%s newest_seq=%llu generation=%llu slots=%u max=%ux%u writer_pid=%d dropped=%llu flags=%u\n",
	       in.camera_id, (unsigned long long)in.newest_seq, (unsigned long long)in.generation, in.slot_count,
	       in.max_width, in.max_height, in.writer_pid, (unsigned long long)in.frames_dropped, in.flags);
	vas_export_reader_close(&r);
	return 0;
}

static int cmd_rate(const char *cam, long ms)
{
	struct vas_export_reader *r;
	if (open_reader(&r, cam) < 0)
		return 1;
	uint64_t s0 = vas_export_reader_newest(r);
	double t0 = now_s();
	sleep_ms(ms);
	uint64_t s1 = vas_export_reader_newest(r);
	double t1 = now_s();
	printf("fps=%.2f frames=%llu\n", (double)(s1 - s0) / (t1 - t0), (unsigned long long)(s1 - s0));
	vas_export_reader_close(&r);
	return 0;
}

static int cmd_dump(const char *cam, const char *out)
{
	struct vas_export_reader *r;
	struct vas_export_info in;
	struct vas_frame_meta meta;
	int e = VAS_EXPORT_ENOFRAME;
	if (open_reader(&r, cam) < 0)
		return 1;
	vas_export_reader_info(r, &in);
	size_t cap = (size_t)in.max_width * in.max_height * 3 / 2 + in.max_width * 2;
	uint8_t *buf = malloc(cap);
	/* A few attempts: the newest frame can be overwritten while copied. */
	for (int i = 0; buf && i < 50; i++) {
		e = vas_export_reader_copy(r, vas_export_reader_newest(r), buf, cap, &meta);
		if (e == 0)
			break;
		sleep_ms(20);
	}
	if (e < 0) {
		fprintf(stderr, "vasd-export-probe: copy: %s\n", vas_export_strerror(e));
		free(buf);
		vas_export_reader_close(&r);
		return 1;
	}
	size_t size = (size_t)meta.width * meta.height + (size_t)meta.width * ((meta.height + 1) / 2);
	FILE *f = fopen(out, "wb");
	int ok = f && fwrite(buf, 1, size, f) == size;
	if (f && fclose(f) != 0)
		ok = 0;
	if (!ok)
		fprintf(stderr, "vasd-export-probe: write %s: %s\n", out, strerror(errno));
	else
		printf("width=%u height=%u seq=%llu frame_number=%llu pts_us=%lld flags=%u\n", meta.width, meta.height,
		       (unsigned long long)meta.seq, (unsigned long long)meta.frame_number, (long long)meta.pts_us,
		       meta.flags);
	free(buf);
	vas_export_reader_close(&r);
	return ok ? 0 : 1;
}

static int cmd_match(const char *frame, long w, long h)
{
	size_t size = (size_t)w * (size_t)h + (size_t)w * (size_t)((h + 1) / 2);
	uint8_t *a = malloc(size), *b = malloc(size);
	FILE *f = fopen(frame, "rb");
	if (!a || !b || !f || fread(a, 1, size, f) != size) {
		fprintf(stderr, "vasd-export-probe: read %s: expected %zu bytes of %ldx%ld NV12\n", frame, size, w, h);
		free(a);
		free(b);
		if (f)
			fclose(f);
		return 1;
	}
	fclose(f);
	double best = -1.0;
	long best_i = -1, i = 0;
	while (fread(b, 1, size, stdin) == size) {
		double se = 0;
		for (size_t k = 0; k < size; k++) {
			int d = (int)a[k] - (int)b[k];
			se += (double)(d * d);
		}
		double mse = se / (double)size;
		double psnr = mse == 0 ? 999.0 : 10.0 * log10(255.0 * 255.0 / mse);
		if (psnr > best) {
			best = psnr;
			best_i = i;
		}
		i++;
		if (mse == 0)
			break; /* identical: nothing can match better */
	}
	free(a);
	free(b);
	if (best_i < 0) {
		fprintf(stderr, "vasd-export-probe: no reference frames on stdin\n");
		return 1;
	}
	printf("best_index=%ld psnr=%.2f frames=%ld\n", best_i, best, i);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "info"))
		return cmd_info(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "rate"))
		return cmd_rate(argv[2], atol(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "dump"))
		return cmd_dump(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "match"))
		return cmd_match(argv[2], atol(argv[3]), atol(argv[4]));
	fprintf(stderr, "usage: vasd-export-probe info CAMERA | rate CAMERA MS | dump CAMERA OUT | match FRAME W H\n");
	return 2;
}

/* egress_reader: frame-export readers for the egress end-to-end tests.
 *
 *   egress-reader stall CAMERA SECONDS   holds a zero-copy view of a frame and sleeps,
 *                                        again and again (a reader that stalls)
 *   egress-reader fast CAMERA SECONDS    copies every new frame as fast as it can
 * Prints one line at the end: "READER mode=... frames=N stale=M". */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vas/frame_export.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 4 || (strcmp(argv[1], "stall") && strcmp(argv[1], "fast"))) {
		fprintf(stderr, "usage: egress-reader stall|fast CAMERA SECONDS\n");
		return 2;
	}
	bool fast = strcmp(argv[1], "fast") == 0;
	double end = now_s() + atof(argv[3]);
	struct vas_export_reader *r = NULL;
	while (vas_export_reader_open(&r, argv[2]) != 0) {
		if (now_s() > end) {
			fprintf(stderr, "egress-reader: no export for %s\n", argv[2]);
			return 1;
		}
		usleep(50000);
	}
	unsigned long frames = 0, stale = 0, reopen = 0;
	uint64_t last = 0;
	size_t cap = 4096u * 4096u * 3u / 2u;
	uint8_t *buf = fast ? malloc(cap) : NULL;
	volatile unsigned sink = 0;
	while (now_s() < end) {
		if (vas_export_reader_check(r) != 0) {
			vas_export_reader_close(&r);
			while (vas_export_reader_open(&r, argv[2]) != 0 && now_s() < end)
				usleep(20000);
			if (!r)
				break;
			reopen++;
			continue;
		}
		uint64_t n = vas_export_reader_newest(r);
		if (fast) {
			if (n == 0 || n == last) {
				usleep(500);
				continue;
			}
			struct vas_frame_meta m;
			int e = vas_export_reader_copy(r, n, buf, cap, &m);
			if (e == 0)
				frames++;
			else
				stale++;
			last = n;
		} else {
			struct vas_frame_view v;
			if (n && vas_export_reader_peek(r, n, &v) == 0) {
				sink += v.y[0]; /* touch the view, then sit on it */
				usleep(700000);
				if (vas_export_reader_validate(r, &v) == 0)
					frames++;
				else
					stale++; /* the writer moved on: it never waits for us */
			} else {
				usleep(10000);
			}
		}
	}
	printf("READER mode=%s frames=%lu stale=%lu reopen=%lu\n", argv[1], frames, stale, reopen);
	free(buf);
	vas_export_reader_close(&r);
	(void)sink;
	return 0;
}

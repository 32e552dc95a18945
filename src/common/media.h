/* media.h: the few FFmpeg chores the tools and the tests share (library kmedia).
 *
 *   - read the frames of an image or video file, one by one;
 *   - take frame N of a file as tightly packed or padded NV12;
 *   - write an RGB24 picture as a PNG file.
 *
 * Not on any hot path: vasd's ingest and the runtime do not use it. It exists
 * so that ruth-infer, vas-frame-dump and the test harnesses decode and encode
 * the same way instead of each carrying its own copy. Functions return 0 or a
 * negative AVERROR code (av_err2str() names it); nothing here logs. */
#ifndef KCOMMON_MEDIA_H
#define KCOMMON_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

struct kmedia_reader {
	AVFormatContext *fmt;
	AVCodecContext *dec;
	AVPacket *pkt;
	int stream;
	int eof;
};

/* Open path (an image or a video; its best video stream). On failure *what
 * says which step failed, as words for a message ("cannot open", "no video
 * stream or image", ...), and the reader is safe to close. */
int kmedia_reader_open(struct kmedia_reader *r, const char *path, const char **what);
/* The next decoded frame into f. Returns 0, AVERROR_EOF after the last, or an error. */
int kmedia_reader_next(struct kmedia_reader *r, AVFrame *f);
void kmedia_reader_close(struct kmedia_reader *r);

/* Frame `index` (0 = first) of path as NV12 in one malloc'd buffer *buf
 * (free() it): Y rows of stride_y = width + pad bytes, then UV rows of
 * stride_uv = 2 * ceil(width / 2) + pad bytes; padding bytes are 0xEE. The
 * conversion is libswscale with sws_flags (SWS_POINT keeps the decoder's
 * chroma samples where it can). */
struct kmedia_nv12 {
	uint8_t *y, *uv; /* inside *buf */
	uint32_t width, height, stride_y, stride_uv;
};
int kmedia_load_nv12(const char *path, int index, uint32_t pad, int sws_flags, uint8_t **buf,
		     struct kmedia_nv12 *out);

/* Encode w x h RGB24 (rows `stride` bytes apart) as PNG into path. */
int kmedia_write_png_rgb24(const char *path, const uint8_t *rgb, int w, int h, size_t stride);

#endif

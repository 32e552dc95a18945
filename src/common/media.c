/* media.c: see media.h. */
#include "media.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>

int kmedia_reader_open(struct kmedia_reader *r, const char *path, const char **what)
{
	const char *dummy;
	if (!what)
		what = &dummy;
	memset(r, 0, sizeof(*r));
	r->stream = -1;
	*what = "cannot open";
	int rc = avformat_open_input(&r->fmt, path, NULL, NULL);
	if (rc < 0)
		return rc;
	*what = "no stream info";
	if ((rc = avformat_find_stream_info(r->fmt, NULL)) < 0)
		return rc;
	*what = "no video stream or image";
	const AVCodec *codec = NULL;
	r->stream = av_find_best_stream(r->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
	if (r->stream < 0)
		return r->stream;
	*what = "cannot open decoder";
	r->dec = avcodec_alloc_context3(codec);
	r->pkt = av_packet_alloc();
	if (!r->dec || !r->pkt)
		return AVERROR(ENOMEM);
	if ((rc = avcodec_parameters_to_context(r->dec, r->fmt->streams[r->stream]->codecpar)) < 0)
		return rc;
	return avcodec_open2(r->dec, codec, NULL);
}

int kmedia_reader_next(struct kmedia_reader *r, AVFrame *f)
{
	for (;;) {
		int rc = avcodec_receive_frame(r->dec, f);
		if (rc != AVERROR(EAGAIN))
			return rc;
		if (r->eof)
			return AVERROR_EOF;
		rc = av_read_frame(r->fmt, r->pkt);
		if (rc == AVERROR_EOF) {
			/* Drain: an image or a short clip may only come out of the decoder now. */
			r->eof = 1;
			avcodec_send_packet(r->dec, NULL);
			continue;
		}
		if (rc < 0)
			return rc;
		if (r->pkt->stream_index == r->stream)
			avcodec_send_packet(r->dec, r->pkt);
		av_packet_unref(r->pkt);
	}
}

void kmedia_reader_close(struct kmedia_reader *r)
{
	av_packet_free(&r->pkt);
	avcodec_free_context(&r->dec);
	avformat_close_input(&r->fmt);
}

int kmedia_load_nv12(const char *path, int index, uint32_t pad, int sws_flags, uint8_t **buf,
		     struct kmedia_nv12 *out)
{
	struct kmedia_reader r;
	memset(&r, 0, sizeof(r)); /* closing an unopened reader is a no-op */
	AVFrame *f = av_frame_alloc();
	struct SwsContext *sws = NULL;
	*buf = NULL;
	memset(out, 0, sizeof(*out));
	int rc = f ? kmedia_reader_open(&r, path, NULL) : AVERROR(ENOMEM);
	for (int seen = 0; rc >= 0; seen++) {
		if ((rc = kmedia_reader_next(&r, f)) < 0 || seen == index)
			break;
		av_frame_unref(f);
	}
	if (rc < 0)
		goto out;
	uint32_t W = (uint32_t)f->width, H = (uint32_t)f->height;
	uint32_t sy = W + pad, suv = 2 * ((W + 1) / 2) + pad;
	size_t ysz = (size_t)sy * H, uvsz = (size_t)suv * ((H + 1) / 2);
	*buf = malloc(ysz + uvsz);
	sws = sws_getContext(f->width, f->height, f->format, f->width, f->height, AV_PIX_FMT_NV12, sws_flags, NULL,
			     NULL, NULL);
	if (!*buf || !sws) {
		rc = AVERROR(ENOMEM);
		goto out;
	}
	memset(*buf, 0xEE, ysz + uvsz); /* padding: a value no test expects */
	uint8_t *dst[4] = { *buf, *buf + ysz, NULL, NULL };
	int dst_ls[4] = { (int)sy, (int)suv, 0, 0 };
	sws_scale(sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, dst_ls);
	*out = (struct kmedia_nv12){ .y = dst[0], .uv = dst[1], .width = W, .height = H, .stride_y = sy,
				     .stride_uv = suv };
	rc = 0;
out:
	if (rc < 0) {
		free(*buf);
		*buf = NULL;
	}
	sws_freeContext(sws);
	av_frame_free(&f);
	kmedia_reader_close(&r);
	return rc;
}

int kmedia_write_png_rgb24(const char *path, const uint8_t *rgb, int w, int h, size_t stride)
{
	const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_PNG);
	AVCodecContext *enc = codec ? avcodec_alloc_context3(codec) : NULL;
	AVFrame *f = av_frame_alloc();
	AVPacket *pkt = av_packet_alloc();
	FILE *fp = NULL;
	int rc = codec ? AVERROR(ENOMEM) : AVERROR_ENCODER_NOT_FOUND;
	if (!enc || !f || !pkt)
		goto out;
	enc->width = w;
	enc->height = h;
	enc->pix_fmt = AV_PIX_FMT_RGB24;
	enc->time_base = (AVRational){ 1, 1 };
	if ((rc = avcodec_open2(enc, codec, NULL)) < 0)
		goto out;
	f->format = AV_PIX_FMT_RGB24;
	f->width = w;
	f->height = h;
	if ((rc = av_frame_get_buffer(f, 0)) < 0)
		goto out;
	for (int y = 0; y < h; y++)
		memcpy(f->data[0] + (size_t)y * f->linesize[0], rgb + (size_t)y * stride, (size_t)w * 3);
	if ((rc = avcodec_send_frame(enc, f)) < 0 || (rc = avcodec_receive_packet(enc, pkt)) < 0)
		goto out;
	errno = 0;
	fp = fopen(path, "wb");
	if (!fp || fwrite(pkt->data, 1, (size_t)pkt->size, fp) != (size_t)pkt->size) {
		rc = AVERROR(errno ? errno : EIO);
		goto out;
	}
	rc = 0;
out:
	if (fp && fclose(fp) != 0 && rc == 0)
		rc = AVERROR(errno ? errno : EIO);
	av_packet_free(&pkt);
	av_frame_free(&f);
	avcodec_free_context(&enc);
	return rc;
}

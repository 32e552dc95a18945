/* test_pp_util.c: see test_pp_util.h. */
#include "test_pp_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <onnxruntime_c_api.h>

#include "media.h"

int pp_test_load_nv12(const char *path, int index, uint32_t stride_pad, struct pp_test_image *img)
{
	struct kmedia_nv12 f;
	memset(img, 0, sizeof(*img));
	int rc = kmedia_load_nv12(path, index, stride_pad, SWS_POINT, &img->buf, &f);
	if (rc < 0)
		return rc;
	img->f = (struct ruth_nv12_frame){ .y = f.y, .uv = f.uv, .width = f.width, .height = f.height,
					   .stride_y = f.stride_y, .stride_uv = f.stride_uv };
	return 0;
}

void pp_test_image_free(struct pp_test_image *img)
{
	free(img->buf);
	img->buf = NULL;
}

int pp_test_sws_rgb(const struct ruth_nv12_frame *f, uint32_t w, uint32_t h, uint8_t *rgb)
{
	struct SwsContext *sws = sws_getContext((int)f->width, (int)f->height, AV_PIX_FMT_NV12, (int)w, (int)h,
						AV_PIX_FMT_RGB24, SWS_BILINEAR, NULL, NULL, NULL);
	if (!sws)
		return -EINVAL;
	const uint8_t *src[4] = {f->y, f->uv, NULL, NULL};
	int src_ls[4] = {(int)f->stride_y, (int)f->stride_uv, 0, 0};
	uint8_t *dst[4] = {rgb, NULL, NULL, NULL};
	int dst_ls[4] = {(int)w * 3, 0, 0, 0};
	sws_scale(sws, src, src_ls, 0, (int)f->height, dst, dst_ls);
	sws_freeContext(sws);
	return 0;
}

struct pp_test_ort {
	const OrtApi *api;
	OrtEnv *env;
	OrtSession *sess;
	OrtMemoryInfo *mem;
	size_t n_out;
	char *out_names[8];
	OrtValue *outv[8];
	int64_t shapes[8][8];
};

static int ort_check(const OrtApi *api, OrtStatus *st)
{
	if (!st)
		return 0;
	fprintf(stderr, "onnxruntime: %s\n", api->GetErrorMessage(st));
	api->ReleaseStatus(st);
	return -EIO;
}

int pp_test_ort_open(struct pp_test_ort **out, const char *model_path)
{
	struct pp_test_ort *o = calloc(1, sizeof(*o));
	o->api = OrtGetApiBase()->GetApi(ORT_API_VERSION);
	const OrtApi *a = o->api;
	OrtSessionOptions *so = NULL;
	OrtAllocator *alloc = NULL;
	int rc = ort_check(a, a->CreateEnv(ORT_LOGGING_LEVEL_WARNING, "pp-test", &o->env));
	if (!rc)
		rc = ort_check(a, a->CreateSessionOptions(&so));
	if (!rc)
		rc = ort_check(a, a->SetIntraOpNumThreads(so, 1));
	if (!rc)
		rc = ort_check(a, a->CreateSession(o->env, model_path, so, &o->sess));
	if (!rc)
		rc = ort_check(a, a->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &o->mem));
	if (!rc)
		rc = ort_check(a, a->GetAllocatorWithDefaultOptions(&alloc));
	if (!rc)
		rc = ort_check(a, a->SessionGetOutputCount(o->sess, &o->n_out));
	for (size_t i = 0; !rc && i < o->n_out && i < 8; i++) {
		char *name = NULL;
		rc = ort_check(a, a->SessionGetOutputName(o->sess, i, alloc, &name));
		if (!rc) {
			o->out_names[i] = strdup(name);
			ort_check(a, a->AllocatorFree(alloc, name));
		}
	}
	if (so)
		a->ReleaseSessionOptions(so);
	if (rc) {
		pp_test_ort_close(&o);
		return rc;
	}
	*out = o;
	return 0;
}

int pp_test_ort_run(struct pp_test_ort *o, const char *input_name, const float *input, const int64_t *shape,
		    size_t rank, struct ruth_pp_tensor *outs, size_t *n_outs)
{
	const OrtApi *a = o->api;
	size_t count = 1;
	for (size_t i = 0; i < rank; i++)
		count *= (size_t)shape[i];
	for (size_t i = 0; i < o->n_out; i++) {
		if (o->outv[i])
			a->ReleaseValue(o->outv[i]);
		o->outv[i] = NULL;
	}
	OrtValue *in = NULL;
	int rc = ort_check(a, a->CreateTensorWithDataAsOrtValue(o->mem, (void *)input, count * sizeof(float), shape,
							   rank, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &in));
	if (rc)
		return rc;
	const char *in_names[1] = {input_name};
	rc = ort_check(a, a->Run(o->sess, NULL, in_names, (const OrtValue *const *)&in, 1,
				 (const char *const *)o->out_names, o->n_out, o->outv));
	a->ReleaseValue(in);
	if (rc)
		return rc;
	for (size_t i = 0; i < o->n_out; i++) {
		OrtTensorTypeAndShapeInfo *info = NULL;
		size_t dims = 0, cnt = 0;
		float *data = NULL;
		rc = ort_check(a, a->GetTensorTypeAndShape(o->outv[i], &info));
		if (rc)
			return rc;
		rc = ort_check(a, a->GetDimensionsCount(info, &dims));
		if (dims > 8)
			dims = 8;
		if (!rc)
			rc = ort_check(a, a->GetDimensions(info, o->shapes[i], dims));
		if (!rc)
			rc = ort_check(a, a->GetTensorShapeElementCount(info, &cnt));
		a->ReleaseTensorTypeAndShapeInfo(info);
		if (rc)
			return rc;
		rc = ort_check(a, a->GetTensorMutableData(o->outv[i], (void **)&data));
		if (rc)
			return rc;
		outs[i] = (struct ruth_pp_tensor){.name = o->out_names[i], .data = data, .shape = o->shapes[i],
						  .rank = dims, .count = cnt};
	}
	*n_outs = o->n_out;
	return 0;
}

void pp_test_ort_close(struct pp_test_ort **po)
{
	struct pp_test_ort *o = *po;
	if (!o)
		return;
	const OrtApi *a = o->api;
	for (size_t i = 0; i < 8; i++) {
		if (o->outv[i])
			a->ReleaseValue(o->outv[i]);
		free(o->out_names[i]);
	}
	if (o->mem)
		a->ReleaseMemoryInfo(o->mem);
	if (o->sess)
		a->ReleaseSession(o->sess);
	if (o->env)
		a->ReleaseEnv(o->env);
	free(o);
	*po = NULL;
}

int pp_test_read_boxes(const char *path, struct pp_test_box *boxes, int max)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		return -errno;
	char line[256];
	int n = 0;
	while (fgets(line, sizeof(line), fp) && n < max) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		struct pp_test_box b;
		if (sscanf(line, "%f %f %f %f", &b.x0, &b.y0, &b.x1, &b.y1) == 4)
			boxes[n++] = b;
	}
	fclose(fp);
	return n;
}

const char *pp_test_path(char *buf, size_t len, const char *env, const char *fallback, const char *name)
{
	const char *d = getenv(env);
	snprintf(buf, len, "%s/%s", d ? d : fallback, name);
	return buf;
}

/* model_config.c: load and validate model.yaml (ruth/model_config.h); the
 * schema is docs/model-yaml.md and templates/model/model.yaml.
 *
 * Every field goes through kcommon's kyaml getters so each error names
 * "FILE:LINE: field 'a.b': ...". Unknown keys are rejected at every level:
 * a typo in a field name must fail the load instead of silently using a default. */
#include "ruth/model_config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sha256.h"
#include "yaml_doc.h"

#define MAX_SIDE 16384u
#define MAX_KEYPOINTS 8u /* RUTH_IPC_MAX_POINTS; model_config.h stays free of ipc.h */

_Static_assert(sizeof(((struct ruth_model_config *)0)->output_schema.keypoint_names) /
			       sizeof(((struct ruth_model_config *)0)->output_schema.keypoint_names[0]) ==
		       MAX_KEYPOINTS,
	       "keypoint_names holds RUTH_IPC_MAX_POINTS names");

static const char *const top_keys[] = { "model_id", "model_name", "model_version", "supported_tasks",
					"input_format", "expected_resolution", "resource_requirements",
					"output_schema", "runtime", NULL };
static const char *const res_keys[] = { "width", "height", NULL };
static const char *const rr_keys[] = { "gpu", "gpu_memory_mb", "concurrency", "intra_op_threads", "queue_depth",
				       NULL };
static const char *const os_keys[] = { "type", "labels", "keypoints", "points", NULL };
static const char *const rt_keys[] = { "backend", "weights", "weights_sha256", "input", "postprocess", NULL };
static const char *const in_keys[] = { "tensor", "layout", "dtype", "color", "resize", "scale",
				       "mean", "std", "pad_value", NULL };
static const char *const pp_keys[] = { "name", "handler", "score_threshold", "nms_iou", "max_detections",
				       "params", NULL };

static const char *const gpu_choices[] = { "none", "preferred", "required", NULL };
static const char *const layout_choices[] = { "nchw", "nhwc", NULL };
static const char *const dtype_choices[] = { "float32", "uint8", NULL };
static const char *const color_choices[] = { "rgb", "bgr", NULL };
static const char *const resize_choices[] = { "stretch", "letterbox", NULL };
static const char *const backend_choices[] = { "onnxruntime", "stub", NULL };
static const char *const output_type_choices[] = { "detections", "classification", "text_regions", NULL };
static const char *const pp_choices[] = { "blazeface", "dbnet", "yolo", "classification", "custom", NULL };
static const char *const format_choices[] = { "NV12", NULL };

/* A sub-map that must be a map when present. Returns the node (0 if absent and
 * optional) or -EINVAL. */
static int get_map(const struct kyaml_doc *d, kyaml_node parent, const char *key, const char *path, bool required,
		   const char *const *allowed, kyaml_node *out, struct kyaml_err *err)
{
	kyaml_node n = kyaml_map_get(d, parent, key);
	*out = n;
	if (!n) {
		if (required)
			return kyaml_fail(d, parent, path, err, "required field is missing");
		return 0;
	}
	int r = kyaml_expect_map(d, n, path, err);
	if (r < 0)
		return r;
	return kyaml_check_keys(d, n, path, allowed, err);
}

/* A list of short strings into a fixed table. */
static int get_str_list(const struct kyaml_doc *d, kyaml_node parent, const char *key, const char *path,
			bool required, char *table, size_t stride, uint32_t max, uint32_t *count,
			struct kyaml_err *err)
{
	kyaml_node n = kyaml_map_get(d, parent, key);
	*count = 0;
	if (!n) {
		if (required)
			return kyaml_fail(d, parent, path, err, "required field is missing");
		return 0;
	}
	int r = kyaml_expect_seq(d, n, path, err);
	if (r < 0)
		return r;
	size_t len = kyaml_seq_len(d, n);
	if (required && len == 0)
		return kyaml_fail(d, n, path, err, "must list at least one entry");
	if (len > max)
		return kyaml_fail(d, n, path, err, "%zu entries, at most %u", len, max);
	for (size_t i = 0; i < len; i++) {
		kyaml_node it = kyaml_seq_at(d, n, i);
		const char *s = kyaml_scalar(d, it);
		char ipath[160];
		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		if (!s || !s[0])
			return kyaml_fail(d, it, ipath, err, "expected a non-empty string");
		if (strlen(s) >= stride)
			return kyaml_fail(d, it, ipath, err, "too long (%zu bytes, at most %zu)", strlen(s),
					  stride - 1);
		memcpy(table + i * stride, s, strlen(s) + 1);
	}
	*count = (uint32_t)len;
	return 0;
}

/* A list of exactly 3 numbers (mean, std). */
static int get_vec3(const struct kyaml_doc *d, kyaml_node parent, const char *key, const char *path,
		    double min, double max, float out[3], struct kyaml_err *err)
{
	kyaml_node n = kyaml_map_get(d, parent, key);
	if (!n)
		return 0;
	int r = kyaml_expect_seq(d, n, path, err);
	if (r < 0)
		return r;
	if (kyaml_seq_len(d, n) != 3)
		return kyaml_fail(d, n, path, err, "expected 3 numbers (one per colour channel), got %zu",
				  kyaml_seq_len(d, n));
	for (size_t i = 0; i < 3; i++) {
		kyaml_node it = kyaml_seq_at(d, n, i);
		const char *s = kyaml_scalar(d, it);
		char ipath[160];
		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		char *end = NULL;
		errno = 0;
		double x = s ? strtod(s, &end) : NAN;
		if (!s || !s[0] || *end || errno || !isfinite(x))
			return kyaml_fail(d, it, ipath, err, "expected a number, got '%s'", s ? s : "(not a scalar)");
		if (x < min || x > max)
			return kyaml_fail(d, it, ipath, err, "%g is out of range [%g, %g]", x, min, max);
		out[i] = (float)x;
	}
	return 1;
}

static int get_float(const struct kyaml_doc *d, kyaml_node map, const char *key, const char *path, double min,
		     double max, float *dst, struct kyaml_err *err)
{
	double x;
	int r = kyaml_get_double(d, map, key, path, false, min, max, &x, err);
	if (r == 1)
		*dst = (float)x;
	return r;
}

/* The id names the socket file and the log tag: a conservative charset, no
 * leading dot (hidden files, "." and ".."). */
static bool valid_model_id(const char *s)
{
	if (!s[0] || s[0] == '.' || s[0] == '-')
		return false;
	for (const char *p = s; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

static bool valid_sha256(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

/* Relative paths resolve against the model folder; absolute ones are kept. */
static int resolve(const char *dir, const char *rel, char *out, size_t cap)
{
	int n = rel[0] == '/' ? snprintf(out, cap, "%s", rel) : snprintf(out, cap, "%s/%s", dir, rel);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int parse_resources(const struct kyaml_doc *d, kyaml_node root, struct ruth_model_config *c,
			   struct kyaml_err *err)
{
	kyaml_node rr;
	int r = get_map(d, root, "resource_requirements", "resource_requirements", false, rr_keys, &rr, err);
	if (r < 0 || !rr)
		return r;
	int gpu = (int)c->resources.gpu;
	const char *p = "resource_requirements";
	if ((r = kyaml_get_enum(d, rr, "gpu", p, false, gpu_choices, &gpu, err)) < 0 ||
	    (r = kyaml_get_u32(d, rr, "gpu_memory_mb", p, false, 0, 1024u * 1024u, &c->resources.gpu_memory_mb,
			       err)) < 0 ||
	    (r = kyaml_get_u32(d, rr, "concurrency", p, false, 0, 256, &c->resources.concurrency, err)) < 0 ||
	    (r = kyaml_get_u32(d, rr, "intra_op_threads", p, false, 0, 256, &c->resources.intra_op_threads, err)) <
		    0 ||
	    (r = kyaml_get_u32(d, rr, "queue_depth", p, false, 0, 65536, &c->resources.queue_depth, err)) < 0)
		return r;
	c->resources.gpu = (enum ruth_gpu_policy)gpu;
	return 0;
}

static int parse_output_schema(const struct kyaml_doc *d, kyaml_node root, struct ruth_model_config *c,
			       struct kyaml_err *err)
{
	kyaml_node os;
	int r = get_map(d, root, "output_schema", "output_schema", true, os_keys, &os, err);
	if (r < 0)
		return r;
	int type = 0;
	if ((r = kyaml_get_enum(d, os, "type", "output_schema", true, output_type_choices, &type, err)) < 0)
		return r;
	snprintf(c->output_schema.type, sizeof(c->output_schema.type), "%s", output_type_choices[type]);
	r = get_str_list(d, os, "labels", "output_schema.labels", false, &c->output_schema.labels[0][0],
			 RUTH_MODEL_LABEL_MAX, RUTH_MODEL_MAX_LABELS, &c->output_schema.n_labels, err);
	if (r < 0)
		return r;
	uint32_t n_names = 0;
	r = get_str_list(d, os, "keypoints", "output_schema.keypoints", false, &c->output_schema.keypoint_names[0][0],
			 sizeof(c->output_schema.keypoint_names[0]), MAX_KEYPOINTS, &n_names, err);
	if (r < 0)
		return r;
	/* Text regions are quadrilaterals unless the file says otherwise. */
	uint32_t points = type == 2 ? 4u : n_names;
	r = kyaml_get_u32(d, os, "points", "output_schema", false, 0, MAX_KEYPOINTS, &points, err);
	if (r < 0)
		return r;
	if (r == 1 && n_names && points != n_names)
		return kyaml_fail(d, kyaml_map_get(d, os, "points"), "output_schema.points", err,
				  "%u points but %u keypoint names", points, n_names);
	c->output_schema.n_keypoints = points;
	return 0;
}

static int parse_input(const struct kyaml_doc *d, kyaml_node rt, struct ruth_model_config *c, struct kyaml_err *err)
{
	kyaml_node in;
	int r = get_map(d, rt, "input", "runtime.input", false, in_keys, &in, err);
	if (r < 0 || !in)
		return r;
	const char *p = "runtime.input";
	int layout = (int)c->input.layout, dtype = (int)c->input.dtype, color = (int)c->input.color,
	    resize = (int)c->input.resize;
	uint32_t pad = c->input.pad_value;
	if ((r = kyaml_get_str(d, in, "tensor", p, false, c->input.tensor_name, sizeof(c->input.tensor_name), err)) <
		    0 ||
	    (r = kyaml_get_enum(d, in, "layout", p, false, layout_choices, &layout, err)) < 0 ||
	    (r = kyaml_get_enum(d, in, "dtype", p, false, dtype_choices, &dtype, err)) < 0 ||
	    (r = kyaml_get_enum(d, in, "color", p, false, color_choices, &color, err)) < 0 ||
	    (r = kyaml_get_enum(d, in, "resize", p, false, resize_choices, &resize, err)) < 0 ||
	    (r = get_float(d, in, "scale", p, 1e-9, 1e9, &c->input.scale, err)) < 0 ||
	    (r = get_vec3(d, in, "mean", "runtime.input.mean", -1e6, 1e6, c->input.mean, err)) < 0 ||
	    /* std divides: a zero or negative value would produce inf/NaN tensors. */
	    (r = get_vec3(d, in, "std", "runtime.input.std", 1e-9, 1e6, c->input.std, err)) < 0 ||
	    (r = kyaml_get_u32(d, in, "pad_value", p, false, 0, 255, &pad, err)) < 0)
		return r;
	c->input.layout = (enum ruth_tensor_layout)layout;
	c->input.dtype = (enum ruth_tensor_dtype)dtype;
	c->input.color = (enum ruth_color_order)color;
	c->input.resize = (enum ruth_resize_mode)resize;
	c->input.pad_value = (uint8_t)pad;
	return 0;
}

static int parse_postprocess(const struct kyaml_doc *d, kyaml_node rt, struct ruth_model_config *c,
			     struct kyaml_err *err)
{
	kyaml_node pp;
	int r = get_map(d, rt, "postprocess", "runtime.postprocess", true, pp_keys, &pp, err);
	if (r < 0)
		return r;
	const char *p = "runtime.postprocess";
	int name = 0;
	if ((r = kyaml_get_enum(d, pp, "name", p, true, pp_choices, &name, err)) < 0)
		return r;
	snprintf(c->postprocess.name, sizeof(c->postprocess.name), "%s", pp_choices[name]);
	char handler[RUTH_MODEL_PATH_MAX] = "";
	if ((r = kyaml_get_str(d, pp, "handler", p, false, handler, sizeof(handler), err)) < 0 ||
	    (r = get_float(d, pp, "score_threshold", p, 0.0, 1.0, &c->postprocess.score_threshold, err)) < 0 ||
	    (r = get_float(d, pp, "nms_iou", p, 0.0, 1.0, &c->postprocess.nms_iou, err)) < 0 ||
	    (r = kyaml_get_u32(d, pp, "max_detections", p, false, 1, 256, &c->postprocess.max_detections, err)) < 0)
		return r;
	bool custom = !strcmp(c->postprocess.name, "custom");
	if (custom && !handler[0])
		return kyaml_fail(d, pp, "runtime.postprocess.handler", err,
				  "required when name is custom (path of the handler .so built from templates/model)");
	if (!custom && handler[0])
		return kyaml_fail(d, kyaml_map_get(d, pp, "handler"), "runtime.postprocess.handler", err,
				  "only valid with name: custom (the built-in '%s' takes no handler)",
				  c->postprocess.name);
	if (handler[0] && resolve(c->dir, handler, c->postprocess.handler, sizeof(c->postprocess.handler)) < 0)
		return kyaml_fail(d, kyaml_map_get(d, pp, "handler"), "runtime.postprocess.handler", err,
				  "resolved path too long");

	kyaml_node params = kyaml_map_get(d, pp, "params");
	if (!params)
		return 0;
	if ((r = kyaml_expect_map(d, params, "runtime.postprocess.params", err)) < 0)
		return r;
	size_t n = kyaml_map_len(d, params);
	if (n > RUTH_MODEL_MAX_PARAMS)
		return kyaml_fail(d, params, "runtime.postprocess.params", err, "%zu entries, at most %d", n,
				  RUTH_MODEL_MAX_PARAMS);
	for (size_t i = 0; i < n; i++) {
		const char *k = kyaml_map_key_at(d, params, i);
		kyaml_node vn = kyaml_map_value_at(d, params, i);
		const char *v = kyaml_scalar(d, vn);
		char ipath[160];
		snprintf(ipath, sizeof(ipath), "runtime.postprocess.params.%s", k ? k : "?");
		struct ruth_model_param *dst = &c->postprocess.params[i];
		if (!k || !k[0] || strlen(k) >= sizeof(dst->key))
			return kyaml_fail(d, vn, ipath, err, "key must be 1..%zu bytes", sizeof(dst->key) - 1);
		if (!v)
			return kyaml_fail(d, vn, ipath, err, "expected a scalar value");
		if (strlen(v) >= sizeof(dst->value))
			return kyaml_fail(d, vn, ipath, err, "too long (%zu bytes, at most %zu)", strlen(v),
					  sizeof(dst->value) - 1);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c->postprocess.params[j].key, k))
				return kyaml_fail(d, vn, ipath, err, "duplicate key");
		memcpy(dst->key, k, strlen(k) + 1);
		memcpy(dst->value, v, strlen(v) + 1);
	}
	c->postprocess.n_params = (uint32_t)n;
	return 0;
}

static int parse_runtime(const struct kyaml_doc *d, kyaml_node root, struct ruth_model_config *c,
			 struct kyaml_err *err)
{
	kyaml_node rt;
	int r = get_map(d, root, "runtime", "runtime", true, rt_keys, &rt, err);
	if (r < 0)
		return r;
	int backend = 0;
	if ((r = kyaml_get_enum(d, rt, "backend", "runtime", true, backend_choices, &backend, err)) < 0)
		return r;
	c->backend = (enum ruth_backend_kind)backend;
	char weights[RUTH_MODEL_PATH_MAX] = "";
	/* The stub backend answers every request with an error and needs no file. */
	bool need_weights = c->backend == RUTH_BACKEND_ONNX;
	if ((r = kyaml_get_str(d, rt, "weights", "runtime", need_weights, weights, sizeof(weights), err)) < 0)
		return r;
	if (weights[0] && resolve(c->dir, weights, c->weights, sizeof(c->weights)) < 0)
		return kyaml_fail(d, kyaml_map_get(d, rt, "weights"), "runtime.weights", err,
				  "resolved path too long");
	if ((r = kyaml_get_str(d, rt, "weights_sha256", "runtime", false, c->weights_sha256,
			       sizeof(c->weights_sha256), err)) < 0)
		return r;
	if (r == 1 && !valid_sha256(c->weights_sha256))
		return kyaml_fail(d, kyaml_map_get(d, rt, "weights_sha256"), "runtime.weights_sha256", err,
				  "expected 64 lowercase hex digits");
	if ((r = parse_input(d, rt, c, err)) < 0)
		return r;
	return parse_postprocess(d, rt, c, err);
}

static void set_defaults(struct ruth_model_config *c)
{
	c->resources.gpu = RUTH_GPU_PREFERRED;
	c->input.layout = RUTH_LAYOUT_NCHW;
	c->input.dtype = RUTH_DTYPE_F32;
	c->input.color = RUTH_COLOR_RGB;
	c->input.resize = RUTH_RESIZE_STRETCH;
	c->input.scale = 1.0f;
	for (int i = 0; i < 3; i++) {
		c->input.mean[i] = 0.0f;
		c->input.std[i] = 1.0f;
	}
	c->postprocess.score_threshold = 0.5f;
	c->postprocess.nms_iou = 0.45f;
	c->postprocess.max_detections = 100;
}

/* yaml_path as an absolute path when it can be resolved, so the folder and
 * the weights stay valid after the process changes directory or drops into a
 * sandbox. */
static int set_paths(const char *yaml_path, struct ruth_model_config *c)
{
	char abs[PATH_MAX];
	const char *p = realpath(yaml_path, abs) ? abs : yaml_path;
	if (strlen(p) >= sizeof(c->yaml_path))
		return -ENAMETOOLONG;
	snprintf(c->yaml_path, sizeof(c->yaml_path), "%s", p);
	snprintf(c->dir, sizeof(c->dir), "%s", p);
	char *slash = strrchr(c->dir, '/');
	if (!slash)
		snprintf(c->dir, sizeof(c->dir), ".");
	else if (slash == c->dir)
		c->dir[1] = '\0';
	else
		*slash = '\0';
	return 0;
}

static int parse(const struct kyaml_doc *d, struct ruth_model_config *c, struct kyaml_err *err)
{
	kyaml_node root = kyaml_root(d);
	if (!root)
		return kyaml_fail(d, 0, "(root)", err, "file is empty");
	int r = kyaml_expect_map(d, root, "(root)", err);
	if (r < 0 || (r = kyaml_check_keys(d, root, "", top_keys, err)) < 0)
		return r;

	if ((r = kyaml_get_str(d, root, "model_id", "", true, c->model_id, sizeof(c->model_id), err)) < 0)
		return r;
	if (!valid_model_id(c->model_id))
		return kyaml_fail(d, kyaml_map_get(d, root, "model_id"), "model_id", err,
				  "'%s' may use only a-z, 0-9, '_', '-' and '.', and must not start with '.' or '-'",
				  c->model_id);
	if ((r = kyaml_get_str(d, root, "model_name", "", true, c->model_name, sizeof(c->model_name), err)) < 0 ||
	    (r = kyaml_get_str(d, root, "model_version", "", true, c->model_version, sizeof(c->model_version),
			       err)) < 0)
		return r;
	r = get_str_list(d, root, "supported_tasks", "supported_tasks", true, &c->supported_tasks[0][0],
			 sizeof(c->supported_tasks[0]), RUTH_MODEL_MAX_TASKS, &c->n_tasks, err);
	if (r < 0)
		return r;
	int fmt = 0;
	if ((r = kyaml_get_enum(d, root, "input_format", "", true, format_choices, &fmt, err)) < 0)
		return r;
	snprintf(c->input_format, sizeof(c->input_format), "%s", format_choices[fmt]);

	kyaml_node res;
	if ((r = get_map(d, root, "expected_resolution", "expected_resolution", true, res_keys, &res, err)) < 0 ||
	    (r = kyaml_get_u32(d, res, "width", "expected_resolution", true, 1, MAX_SIDE, &c->expected_width, err)) <
		    0 ||
	    (r = kyaml_get_u32(d, res, "height", "expected_resolution", true, 1, MAX_SIDE, &c->expected_height,
			       err)) < 0)
		return r;
	if ((r = parse_resources(d, root, c, err)) < 0 || (r = parse_output_schema(d, root, c, err)) < 0 ||
	    (r = parse_runtime(d, root, c, err)) < 0)
		return r;
	if (c->output_schema.n_keypoints > 0 && !strcmp(c->output_schema.type, "classification"))
		return kyaml_fail(d, kyaml_map_get(d, root, "output_schema"), "output_schema", err,
				  "classification results carry no points");
	return 0;
}

int ruth_model_config_load(const char *yaml_path, struct ruth_model_config *cfg, char *err, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	set_defaults(cfg);
	int r = set_paths(yaml_path, cfg);
	if (r < 0) {
		snprintf(err, errlen, "%s: path too long", yaml_path);
		return r;
	}
	struct kyaml_err kerr = { .msg = "" };
	struct kyaml_doc *doc = NULL;
	r = kyaml_load_file(&doc, yaml_path, &kerr);
	if (r < 0) {
		snprintf(err, errlen, "%s", kerr.msg);
		return r;
	}
	r = parse(doc, cfg, &kerr);
	kyaml_free(&doc);
	if (r < 0) {
		snprintf(err, errlen, "%s", kerr.msg);
		return r;
	}
	if (errlen)
		err[0] = '\0';
	return 0;
}

int ruth_model_config_check_weights(const struct ruth_model_config *cfg, char *err, size_t errlen)
{
	if (!cfg->weights[0]) {
		if (cfg->backend == RUTH_BACKEND_STUB)
			return 0;
		snprintf(err, errlen, "%s: runtime.weights is not set", cfg->yaml_path);
		return -EINVAL;
	}
	struct stat st;
	if (stat(cfg->weights, &st) < 0) {
		int e = errno;
		snprintf(err, errlen, "weights file %s %s (%s)", cfg->weights, e == ENOENT ? "not found" : "unusable",
			 strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "weights file %s is not a regular file", cfg->weights);
		return -EINVAL;
	}
	if (access(cfg->weights, R_OK) < 0) {
		int e = errno;
		snprintf(err, errlen, "weights file %s is not readable (%s)", cfg->weights, strerror(e));
		return -e;
	}
	if (cfg->weights_sha256[0]) {
		char hex[65];
		int r = ruth__sha256_file(cfg->weights, hex);
		if (r < 0) {
			snprintf(err, errlen, "weights file %s: read failed (%s)", cfg->weights, strerror(-r));
			return r;
		}
		if (strcmp(hex, cfg->weights_sha256) != 0) {
			snprintf(err, errlen, "weights file %s: sha256 %s does not match weights_sha256 %s in %s",
				 cfg->weights, hex, cfg->weights_sha256, cfg->yaml_path);
			return -EBADMSG;
		}
	}
	if (errlen)
		err[0] = '\0';
	return 0;
}

const char *ruth_model_param(const struct ruth_model_config *cfg, const char *key)
{
	for (uint32_t i = 0; i < cfg->postprocess.n_params && i < RUTH_MODEL_MAX_PARAMS; i++)
		if (!strcmp(cfg->postprocess.params[i].key, key))
			return cfg->postprocess.params[i].value;
	return NULL;
}

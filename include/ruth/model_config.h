/* ruth/model_config.h: model.yaml, the single source of truth for a model, and
 * discovery of model folders by a filesystem scan.
 *
 * A model folder holds model.yaml and its weights:
 *   <models_root>/<folder>/model.yaml
 *   <models_root>/<folder>/weights/<file>.onnx
 *   <models_root>/<folder>/handler.so         (optional custom postprocessor)
 * The runtime runs a model from its model.yaml alone: which weights, how the
 * NV12 frame becomes the input tensor, which postprocessor decodes the outputs
 * and what the outputs mean. Onboarding a model needs no change to vasd,
 * ruth-ai-core or the runtime. docs/onboarding.md and templates/model/model.yaml
 * explain every field.
 *
 * Validation: ruth_model_config_load() checks every field and rejects unknown
 * ones; the error names the file, the line and the field, e.g.
 *   models/x/model.yaml:14: field 'input.layout': expected one of nchw, nhwc; got 'chw' */
#ifndef RUTH_MODEL_CONFIG_H
#define RUTH_MODEL_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RUTH_MODEL_ID_MAX 64
#define RUTH_MODEL_MAX_TASKS 8
#define RUTH_MODEL_MAX_LABELS 128
#define RUTH_MODEL_LABEL_MAX 48
#define RUTH_MODEL_MAX_PARAMS 16
#define RUTH_MODEL_PATH_MAX 512

enum ruth_gpu_policy {
	RUTH_GPU_NONE = 0,      /* CPU only */
	RUTH_GPU_PREFERRED = 1, /* GPU when present, else CPU */
	RUTH_GPU_REQUIRED = 2,  /* GPU or nothing: without one the runtime serves in stub mode */
};
enum ruth_tensor_layout { RUTH_LAYOUT_NCHW = 0, RUTH_LAYOUT_NHWC = 1 };
enum ruth_tensor_dtype { RUTH_DTYPE_F32 = 0, RUTH_DTYPE_U8 = 1 };
enum ruth_color_order { RUTH_COLOR_RGB = 0, RUTH_COLOR_BGR = 1 };
enum ruth_resize_mode { RUTH_RESIZE_STRETCH = 0, RUTH_RESIZE_LETTERBOX = 1 };
enum ruth_backend_kind { RUTH_BACKEND_ONNX = 0, RUTH_BACKEND_STUB = 1 };

/* A free-form key/value for the postprocessor (anchors variant, thresholds...). */
struct ruth_model_param {
	char key[32];
	char value[96];
};

struct ruth_model_config {
	char yaml_path[RUTH_MODEL_PATH_MAX]; /* absolute or as given */
	char dir[RUTH_MODEL_PATH_MAX];       /* folder holding model.yaml */

	/* The seed's fields. */
	char model_id[RUTH_MODEL_ID_MAX];    /* [a-z0-9_-.], unique under a root; names the socket */
	char model_name[128];
	char model_version[32];
	char supported_tasks[RUTH_MODEL_MAX_TASKS][32];
	uint32_t n_tasks;
	char input_format[16];               /* "NV12": the only frame format exported today */
	uint32_t expected_width;             /* expected_resolution: the model's input size */
	uint32_t expected_height;
	struct {
		uint32_t gpu_memory_mb;          /* GPU arena limit; 0 = backend default */
		enum ruth_gpu_policy gpu;
		uint32_t concurrency;            /* workers; 0 = number of cores */
		uint32_t intra_op_threads;       /* per worker; 0 = 1 */
		uint32_t queue_depth;            /* bounded request queue; 0 = 4 * workers */
	} resources;
	struct {
		char type[32];                   /* "detections", "classification", "text_regions" */
		char labels[RUTH_MODEL_MAX_LABELS][RUTH_MODEL_LABEL_MAX];
		uint32_t n_labels;
		uint32_t n_keypoints;            /* points per detection (faces: 6), 0 = none */
		char keypoint_names[8][24];      /* at most RUTH_IPC_MAX_POINTS */
	} output_schema;

	/* What the runtime needs to run it with no code. */
	enum ruth_backend_kind backend;
	char weights[RUTH_MODEL_PATH_MAX];       /* resolved against dir */
	char weights_sha256[65];                 /* optional; checked at load when set */
	struct {
		char tensor_name[64];                /* "" = the model's first input */
		enum ruth_tensor_layout layout;
		enum ruth_tensor_dtype dtype;
		enum ruth_color_order color;
		enum ruth_resize_mode resize;
		float scale;                         /* value = (pixel * scale - mean[c]) / std[c] */
		float mean[3];
		float std[3];
		uint8_t pad_value;                   /* letterbox fill, in pixel units */
	} input;
	struct {
		char name[32];                       /* "blazeface", "dbnet", "yolo", "classification", "custom" */
		char handler[RUTH_MODEL_PATH_MAX];   /* with name "custom": the .so, resolved against dir */
		float score_threshold;
		float nms_iou;
		uint32_t max_detections;
		struct ruth_model_param params[RUTH_MODEL_MAX_PARAMS];
		uint32_t n_params;
	} postprocess;
};

/* Load and validate one model.yaml. Returns 0, or a negative errno with `err`
 * ("FILE:LINE: field 'x.y': what is wrong") filled. Does not open the weights;
 * ruth_model_config_check_weights() does. */
int ruth_model_config_load(const char *yaml_path, struct ruth_model_config *cfg, char *err, size_t errlen);

/* The weights file exists, is readable and (when weights_sha256 is set) matches.
 * Returns 0 or a negative errno with err filled ("weights file ... not found"). */
int ruth_model_config_check_weights(const struct ruth_model_config *cfg, char *err, size_t errlen);

/* The value of postprocess.params[key], or NULL. */
const char *ruth_model_param(const struct ruth_model_config *cfg, const char *key);

/* ---------------------------------------------------------------- discovery */

struct ruth_model_invalid {
	char path[RUTH_MODEL_PATH_MAX];
	char error[600];
};

struct ruth_model_list {
	struct ruth_model_config *models; /* valid ones, sorted by model_id */
	size_t n_models;
	struct ruth_model_invalid *invalid; /* folders whose model.yaml failed validation */
	size_t n_invalid;
};

/* Scan `root` (NULL: $RUTH_MODELS_ROOT, else RUTH_DEFAULT_MODELS_ROOT) once: every
 * immediate subfolder with a model.yaml is loaded; invalid ones are listed with
 * their error and do not stop the scan; duplicate model_ids are invalid (the
 * later path loses). Returns 0 (even with invalid entries) or a negative errno
 * when root itself cannot be read. */
int ruth_models_discover(const char *root, struct ruth_model_list *out);
void ruth_model_list_fini(struct ruth_model_list *list);
const struct ruth_model_config *ruth_model_list_find(const struct ruth_model_list *list, const char *model_id);

#ifdef __cplusplus
}
#endif
#endif

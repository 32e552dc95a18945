/* ruth_models.c: `ruth-models`, what discovery sees.
 *
 *   ruth-models list [ROOT]   table of valid models, then invalid folders with their error
 *   ruth-models check DIR     validate one model folder (model.yaml, weights and, for
 *                             a custom postprocessor, the handler .so); the
 *                             template's `make check` uses it
 *
 * ROOT defaults to $RUTH_MODELS_ROOT, else RUTH_DEFAULT_MODELS_ROOT.
 * Exit codes: list: 0 when ROOT was readable (even with invalid folders), 2 when
 * not; check: 0 valid, 1 invalid; 64 usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ruth/model_config.h"

static const char *gpu_name(enum ruth_gpu_policy g)
{
	switch (g) {
	case RUTH_GPU_NONE:
		return "none";
	case RUTH_GPU_PREFERRED:
		return "preferred";
	case RUTH_GPU_REQUIRED:
		return "required";
	}
	return "?";
}

static const char *backend_name(enum ruth_backend_kind b)
{
	return b == RUTH_BACKEND_STUB ? "stub" : "onnxruntime";
}

static void tasks_str(const struct ruth_model_config *c, char *buf, size_t cap)
{
	buf[0] = '\0';
	for (uint32_t i = 0; i < c->n_tasks; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, cap - l, "%s%s", i ? "," : "", c->supported_tasks[i]);
	}
}

/* "yes", or "no" plus why, for the WEIGHTS column. */
static void weights_str(const struct ruth_model_config *c, char *buf, size_t cap)
{
	char err[700];
	int r = ruth_model_config_check_weights(c, err, sizeof(err));
	if (r == 0)
		snprintf(buf, cap, "%s", c->weights[0] ? "yes" : "n/a");
	else if (r == -EBADMSG)
		snprintf(buf, cap, "no(sha256)");
	else if (r == -ENOENT)
		snprintf(buf, cap, "no");
	else
		snprintf(buf, cap, "no(%s)", strerror(-r));
}

static int cmd_list(const char *root)
{
	if (!root || !root[0]) {
		root = getenv("RUTH_MODELS_ROOT");
		if (!root || !root[0])
			root = RUTH_DEFAULT_MODELS_ROOT;
	}
	struct ruth_model_list l;
	int r = ruth_models_discover(root, &l);
	if (r < 0) {
		fprintf(stderr, "ruth-models: cannot read models root %s: %s\n", root, strerror(-r));
		return 2;
	}
	printf("models root: %s (%zu valid, %zu invalid)\n", root, l.n_models, l.n_invalid);
	printf("%-22s %-30s %-9s %-22s %-12s %-10s %-10s %s\n", "ID", "NAME", "VERSION", "TASKS", "BACKEND", "GPU",
	       "WEIGHTS", "PATH");
	for (size_t i = 0; i < l.n_models; i++) {
		const struct ruth_model_config *c = &l.models[i];
		char tasks[128], w[64];
		tasks_str(c, tasks, sizeof(tasks));
		weights_str(c, w, sizeof(w));
		printf("%-22s %-30s %-9s %-22s %-12s %-10s %-10s %s\n", c->model_id, c->model_name, c->model_version,
		       tasks, backend_name(c->backend), gpu_name(c->resources.gpu), w, c->dir);
	}
	if (l.n_invalid) {
		printf("\ninvalid:\n");
		for (size_t i = 0; i < l.n_invalid; i++)
			printf("  %s\n    %s\n", l.invalid[i].path, l.invalid[i].error);
	}
	ruth_model_list_fini(&l);
	return 0;
}

static int cmd_check(const char *dir)
{
	char yaml[RUTH_MODEL_PATH_MAX + 16];
	struct stat st;
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(yaml, sizeof(yaml), "%s/model.yaml", dir);
	else
		snprintf(yaml, sizeof(yaml), "%s", dir);
	struct ruth_model_config *c = calloc(1, sizeof(*c));
	if (!c)
		return 1;
	char err[700];
	int rc = 1;
	if (ruth_model_config_load(yaml, c, err, sizeof(err)) < 0) {
		fprintf(stderr, "INVALID %s\n", err);
		goto out;
	}
	if (ruth_model_config_check_weights(c, err, sizeof(err)) < 0) {
		fprintf(stderr, "INVALID %s\n", err);
		goto out;
	}
	/* The runtime would fail at start without it; say so now, with the fix. */
	if (c->postprocess.handler[0] && access(c->postprocess.handler, R_OK) != 0) {
		fprintf(stderr, "INVALID handler %s: %s (build it: make handler)\n", c->postprocess.handler,
			strerror(errno));
		goto out;
	}
	char tasks[128];
	tasks_str(c, tasks, sizeof(tasks));
	printf("OK %s: model_id=%s version=%s tasks=%s input=%ux%u backend=%s postprocess=%s gpu=%s weights=%s%s\n",
	       c->yaml_path, c->model_id, c->model_version, tasks, c->expected_width, c->expected_height,
	       backend_name(c->backend), c->postprocess.name, gpu_name(c->resources.gpu),
	       c->weights[0] ? c->weights : "(none)", c->weights_sha256[0] ? " (sha256 verified)" : "");
	rc = 0;
out:
	free(c);
	return rc;
}

static int usage(void)
{
	fprintf(stderr, "usage: ruth-models list [ROOT]\n"
			"       ruth-models check DIR|MODEL_YAML\n");
	return 64;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "list") && argc <= 3)
		return cmd_list(argc == 3 ? argv[2] : NULL);
	if (argc == 3 && !strcmp(argv[1], "check"))
		return cmd_check(argv[2]);
	return usage();
}

/* config.c: ruth-ai-core's configuration (see config.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vas/frame_export.h"
#include "yaml_doc.h"

int core_config_camera_index(const struct core_config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->n_cameras; i++)
		if (strcmp(cfg->cameras[i], id) == 0)
			return (int)i;
	return -1;
}

static void defaults(struct core_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->models_root, sizeof(cfg->models_root), "%s", RUTH_DEFAULT_MODELS_ROOT);
	snprintf(cfg->socket_dir, sizeof(cfg->socket_dir), "/run/ruth-ai");
	cfg->request_timeout_ms = 1000;
	cfg->stall_ms = 2000;
	cfg->tick_slack_ms = 50;
	cfg->tick_group = 4;
	cfg->reconnect_initial_ms = 200;
	cfg->reconnect_max_ms = 5000;
	cfg->sched = KSCHED_BATCH;
}

static int parse_camera(const struct kyaml_doc *d, kyaml_node n, size_t i, struct core_config *cfg,
			struct kyaml_err *err)
{
	char path[64];
	snprintf(path, sizeof(path), "cameras[%zu]", i);
	char *dst = cfg->cameras[cfg->n_cameras];
	if (kyaml_type(d, n) == KYAML_SCALAR) {
		const char *s = kyaml_scalar(d, n);
		if (strlen(s) >= CORE_ID_MAX)
			return kyaml_fail(d, n, path, err, "camera id too long");
		snprintf(dst, CORE_ID_MAX, "%s", s);
	} else {
		static const char *const keys[] = { "id", NULL };
		if (kyaml_expect_map(d, n, path, err) < 0 || kyaml_check_keys(d, n, path, keys, err) < 0)
			return -EINVAL;
		if (kyaml_get_str(d, n, "id", path, true, dst, CORE_ID_MAX, err) < 0)
			return -EINVAL;
	}
	if (!vas_export_camera_id_valid(dst))
		return kyaml_fail(d, n, path, err, "camera id '%s' must match [A-Za-z0-9_.-]{1,47}", dst);
	if (core_config_camera_index(cfg, dst) >= 0)
		return kyaml_fail(d, n, path, err, "duplicate camera id '%s'", dst);
	cfg->n_cameras++;
	return 0;
}

static int parse_sub(const struct kyaml_doc *d, kyaml_node n, size_t i, struct core_config *cfg,
		     struct kyaml_err *err)
{
	static const char *const keys[] = { "camera", "model", "fps", "score_threshold", "max_results",
					    "max_inflight", NULL };
	char path[64], p[96];
	snprintf(path, sizeof(path), "subscriptions[%zu]", i);
	if (kyaml_expect_map(d, n, path, err) < 0 || kyaml_check_keys(d, n, path, keys, err) < 0)
		return -EINVAL;
	struct core_sub_config *s = &cfg->subs[cfg->n_subs];
	memset(s, 0, sizeof(*s));
	s->max_inflight = 1;
	snprintf(p, sizeof(p), "%s.camera", path);
	if (kyaml_get_str(d, n, "camera", path, true, s->camera, sizeof(s->camera), err) < 0)
		return -EINVAL;
	if (core_config_camera_index(cfg, s->camera) < 0)
		return kyaml_fail(d, kyaml_map_get(d, n, "camera"), p, err,
				  "camera '%s' is not listed under 'cameras'", s->camera);
	snprintf(p, sizeof(p), "%s.model", path);
	if (kyaml_get_str(d, n, "model", path, true, s->model, sizeof(s->model), err) < 0)
		return -EINVAL;
	s->model_line = kyaml_line(d, kyaml_map_get(d, n, "model"));
	/* Model ids (model.yaml: lowercase, no leading '.' or '-') are a subset of
	 * this charset; whether the model exists is discovery's answer, later. */
	if (!vas_export_camera_id_valid(s->model))
		return kyaml_fail(d, kyaml_map_get(d, n, "model"), p, err, "invalid model id '%s'", s->model);
	snprintf(p, sizeof(p), "%s.fps", path);
	if (kyaml_get_double(d, n, "fps", path, true, 0.01, CORE_FPS_MAX, &s->fps, err) < 0)
		return -EINVAL;
	double th = 0;
	snprintf(p, sizeof(p), "%s.score_threshold", path);
	if (kyaml_get_double(d, n, "score_threshold", path, false, 0.0, 1.0, &th, err) < 0)
		return -EINVAL;
	s->score_threshold = (float)th;
	snprintf(p, sizeof(p), "%s.max_results", path);
	if (kyaml_get_u32(d, n, "max_results", path, false, 0, 256, &s->max_results, err) < 0)
		return -EINVAL;
	snprintf(p, sizeof(p), "%s.max_inflight", path);
	if (kyaml_get_u32(d, n, "max_inflight", path, false, 1, 16, &s->max_inflight, err) < 0)
		return -EINVAL;
	for (size_t k = 0; k < cfg->n_subs; k++)
		if (!strcmp(cfg->subs[k].camera, s->camera) && !strcmp(cfg->subs[k].model, s->model))
			return kyaml_fail(d, n, path, err, "duplicate subscription %s/%s", s->camera, s->model);
	cfg->n_subs++;
	return 0;
}

static int parse(const struct kyaml_doc *d, struct core_config *cfg, struct kyaml_err *err)
{
	static const char *const keys[] = { "models_root", "socket_dir", "results", "control_socket",
					    "request_timeout_ms", "stall_ms", "tick_slack_ms", "tick_group",
					    "reconnect", "sched", "cameras", "subscriptions", NULL };
	kyaml_node root = kyaml_root(d);
	if (!root)
		return kyaml_fail(d, root, "(root)", err, "empty configuration");
	if (kyaml_expect_map(d, root, "(root)", err) < 0 || kyaml_check_keys(d, root, "", keys, err) < 0)
		return -EINVAL;
	if (kyaml_get_str(d, root, "models_root", "", false, cfg->models_root,
			  sizeof(cfg->models_root), err) < 0 ||
	    kyaml_get_str(d, root, "socket_dir", "", false, cfg->socket_dir, sizeof(cfg->socket_dir),
			  err) < 0 ||
	    kyaml_get_str(d, root, "results", "", false, cfg->results, sizeof(cfg->results), err) < 0 ||
	    kyaml_get_str(d, root, "control_socket", "", false, cfg->control_socket,
			  sizeof(cfg->control_socket), err) < 0 ||
	    kyaml_get_u32(d, root, "request_timeout_ms", "", false, 10, 600000,
			  &cfg->request_timeout_ms, err) < 0 ||
	    kyaml_get_u32(d, root, "stall_ms", "", false, 50, 600000, &cfg->stall_ms, err) < 0 ||
	    kyaml_get_u32(d, root, "tick_slack_ms", "", false, 0, 1000, &cfg->tick_slack_ms, err) < 0 ||
	    kyaml_get_u32(d, root, "tick_group", "", false, 1, 16, &cfg->tick_group, err) < 0)
		return -EINVAL;
	int sched = cfg->sched;
	if (kyaml_get_enum(d, root, "sched", "", false, ksched_names, &sched, err) < 0)
		return -EINVAL;
	cfg->sched = (enum ksched_class)sched;
	kyaml_node rc = kyaml_map_get(d, root, "reconnect");
	if (rc) {
		static const char *const rkeys[] = { "initial_ms", "max_ms", NULL };
		if (kyaml_expect_map(d, rc, "reconnect", err) < 0 ||
		    kyaml_check_keys(d, rc, "reconnect", rkeys, err) < 0 ||
		    kyaml_get_u32(d, rc, "initial_ms", "reconnect", false, 10, 600000,
				  &cfg->reconnect_initial_ms, err) < 0 ||
		    kyaml_get_u32(d, rc, "max_ms", "reconnect", false, 10, 3600000, &cfg->reconnect_max_ms,
				  err) < 0)
			return -EINVAL;
		if (cfg->reconnect_max_ms < cfg->reconnect_initial_ms)
			return kyaml_fail(d, kyaml_map_get(d, rc, "max_ms"), "reconnect.max_ms", err,
					  "must be >= reconnect.initial_ms (%u)", cfg->reconnect_initial_ms);
	}
	kyaml_node cams = kyaml_map_get(d, root, "cameras");
	if (!cams)
		return kyaml_fail(d, root, "cameras", err, "required field missing");
	if (kyaml_expect_seq(d, cams, "cameras", err) < 0)
		return -EINVAL;
	size_t nc = kyaml_seq_len(d, cams);
	if (nc > CORE_MAX_CAMERAS)
		return kyaml_fail(d, cams, "cameras", err, "at most %d cameras", CORE_MAX_CAMERAS);
	for (size_t i = 0; i < nc; i++)
		if (parse_camera(d, kyaml_seq_at(d, cams, i), i, cfg, err) < 0)
			return -EINVAL;
	kyaml_node subs = kyaml_map_get(d, root, "subscriptions");
	if (subs) {
		if (kyaml_expect_seq(d, subs, "subscriptions", err) < 0)
			return -EINVAL;
		size_t ns = kyaml_seq_len(d, subs);
		if (ns > CORE_MAX_SUBS)
			return kyaml_fail(d, subs, "subscriptions", err, "at most %d subscriptions", CORE_MAX_SUBS);
		for (size_t i = 0; i < ns; i++)
			if (parse_sub(d, kyaml_seq_at(d, subs, i), i, cfg, err) < 0)
				return -EINVAL;
	}
	return 0;
}

static int finish(struct kyaml_doc *d, int rc, struct core_config *cfg, struct kyaml_err *err, char *errbuf,
		  size_t errlen)
{
	if (rc == 0)
		rc = parse(d, cfg, err);
	kyaml_free(&d);
	if (rc < 0 && errbuf && errlen)
		snprintf(errbuf, errlen, "%s", err->msg);
	return rc;
}

int core_config_load(const char *path, struct core_config *cfg, char *errbuf, size_t errlen)
{
	struct kyaml_doc *d = NULL;
	struct kyaml_err err = { { 0 } };
	defaults(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	int rc = kyaml_load_file(&d, path, &err);
	if (rc < 0) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s", err.msg);
		return rc;
	}
	return finish(d, 0, cfg, &err, errbuf, errlen);
}

int core_config_load_string(const char *name, const char *text, struct core_config *cfg, char *errbuf,
			    size_t errlen)
{
	struct kyaml_doc *d = NULL;
	struct kyaml_err err = { { 0 } };
	defaults(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "%s", name);
	int rc = kyaml_load_string(&d, name, text, strlen(text), &err);
	if (rc < 0) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s", err.msg);
		return rc;
	}
	return finish(d, 0, cfg, &err, errbuf, errlen);
}

/* discovery.c: one scan of a models root (ruth/model_config.h).
 *
 * Folders are visited in name order so the result, and which of two folders
 * with the same model_id loses, does not depend on readdir order. A bad
 * folder is reported and skipped; it never stops the scan, so one broken
 * model cannot hide the others. */
#include "ruth/model_config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_models(const void *a, const void *b)
{
	return strcmp(((const struct ruth_model_config *)a)->model_id,
		      ((const struct ruth_model_config *)b)->model_id);
}

static int push_invalid(struct ruth_model_list *l, size_t *cap, const char *path, const char *error)
{
	if (l->n_invalid == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		void *p = realloc(l->invalid, ncap * sizeof(*l->invalid));
		if (!p)
			return -ENOMEM;
		l->invalid = p;
		*cap = ncap;
	}
	struct ruth_model_invalid *inv = &l->invalid[l->n_invalid++];
	snprintf(inv->path, sizeof(inv->path), "%s", path);
	snprintf(inv->error, sizeof(inv->error), "%s", error);
	return 0;
}

/* Sorted names of root's subfolders that hold a model.yaml. */
static int list_folders(const char *root, char ***names_out, size_t *n_out)
{
	DIR *dir = opendir(root);
	if (!dir)
		return -errno;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int r = 0;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char yaml[RUTH_MODEL_PATH_MAX + 300];
		snprintf(yaml, sizeof(yaml), "%s/%s/model.yaml", root, e->d_name);
		struct stat st;
		if (stat(yaml, &st) < 0)
			continue; /* not a model folder (or not a folder at all) */
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			char **p = realloc(names, ncap * sizeof(*names));
			if (!p) {
				r = -ENOMEM;
				break;
			}
			names = p;
			cap = ncap;
		}
		if (!(names[n] = strdup(e->d_name))) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(dir);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return r;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	*names_out = names;
	*n_out = n;
	return 0;
}

int ruth_models_discover(const char *root, struct ruth_model_list *out)
{
	memset(out, 0, sizeof(*out));
	if (!root || !root[0]) {
		root = getenv("RUTH_MODELS_ROOT");
		if (!root || !root[0])
			root = RUTH_DEFAULT_MODELS_ROOT;
	}
	char **names = NULL;
	size_t n = 0;
	int r = list_folders(root, &names, &n);
	if (r < 0)
		return r;
	size_t inv_cap = 0;
	if (n && !(out->models = calloc(n, sizeof(*out->models)))) {
		r = -ENOMEM;
		goto out_names;
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		char yaml[RUTH_MODEL_PATH_MAX + 300];
		snprintf(yaml, sizeof(yaml), "%s/%s/model.yaml", root, names[i]);
		struct ruth_model_config *c = &out->models[out->n_models];
		char err[600];
		if (ruth_model_config_load(yaml, c, err, sizeof(err)) < 0) {
			r = push_invalid(out, &inv_cap, yaml, err);
			continue;
		}
		const struct ruth_model_config *dup = NULL;
		for (size_t j = 0; j < out->n_models; j++)
			if (!strcmp(out->models[j].model_id, c->model_id))
				dup = &out->models[j];
		if (dup) {
			snprintf(err, sizeof(err), "%s: duplicate model_id '%s' (already defined by %s)", c->yaml_path,
				 c->model_id, dup->yaml_path);
			r = push_invalid(out, &inv_cap, yaml, err);
			continue;
		}
		out->n_models++;
	}
	if (r == 0 && out->n_models > 1)
		qsort(out->models, out->n_models, sizeof(*out->models), cmp_models);
out_names:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (r < 0)
		ruth_model_list_fini(out);
	return r;
}

void ruth_model_list_fini(struct ruth_model_list *list)
{
	if (!list)
		return;
	free(list->models);
	free(list->invalid);
	memset(list, 0, sizeof(*list));
}

const struct ruth_model_config *ruth_model_list_find(const struct ruth_model_list *list, const char *model_id)
{
	for (size_t i = 0; i < list->n_models; i++)
		if (!strcmp(list->models[i].model_id, model_id))
			return &list->models[i];
	return NULL;
}

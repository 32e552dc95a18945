/* yaml_doc.c: libyaml's document API behind the accessors of yaml_doc.h.
 * libyaml numbers nodes from 1, which lets 0 mean "absent" throughout. */
#include "yaml_doc.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct kyaml_doc {
	yaml_document_t doc;
	char name[256];
};

static yaml_node_t *node_at(const struct kyaml_doc *d, kyaml_node n)
{
	if (!d || n <= 0)
		return NULL;
	return yaml_document_get_node((yaml_document_t *)&d->doc, n);
}

static int load(struct kyaml_doc **out, const char *name, yaml_parser_t *p, struct kyaml_err *err)
{
	struct kyaml_doc *d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err->msg, sizeof(err->msg), "%s: out of memory", name);
		return -ENOMEM;
	}
	snprintf(d->name, sizeof(d->name), "%s", name);
	if (!yaml_parser_load(p, &d->doc)) {
		snprintf(err->msg, sizeof(err->msg), "%s:%zu: YAML syntax error: %s%s%s", name,
			 p->problem_mark.line + 1, p->problem ? p->problem : "unknown",
			 p->context ? " " : "", p->context ? p->context : "");
		free(d);
		return -EINVAL;
	}
	*out = d;
	return 0;
}

int kyaml_load_file(struct kyaml_doc **out, const char *path, struct kyaml_err *err)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		snprintf(err->msg, sizeof(err->msg), "%s: cannot open: %s", path, strerror(e));
		return -e;
	}
	yaml_parser_t p;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	int r = load(out, path, &p, err);
	yaml_parser_delete(&p);
	fclose(f);
	return r;
}

int kyaml_load_string(struct kyaml_doc **out, const char *name, const char *text, size_t len,
		      struct kyaml_err *err)
{
	*out = NULL;
	yaml_parser_t p;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	int r = load(out, name, &p, err);
	yaml_parser_delete(&p);
	return r;
}

void kyaml_free(struct kyaml_doc **doc)
{
	if (!doc || !*doc)
		return;
	yaml_document_delete(&(*doc)->doc);
	free(*doc);
	*doc = NULL;
}

const char *kyaml_name(const struct kyaml_doc *doc)
{
	return doc->name;
}

kyaml_node kyaml_root(const struct kyaml_doc *doc)
{
	return yaml_document_get_root_node((yaml_document_t *)&doc->doc) ? 1 : 0;
}

enum kyaml_type kyaml_type(const struct kyaml_doc *doc, kyaml_node node)
{
	yaml_node_t *n = node_at(doc, node);
	if (!n)
		return KYAML_NONE;
	switch (n->type) {
	case YAML_SCALAR_NODE: return KYAML_SCALAR;
	case YAML_SEQUENCE_NODE: return KYAML_SEQ;
	case YAML_MAPPING_NODE: return KYAML_MAP;
	default: return KYAML_NONE;
	}
}

int kyaml_line(const struct kyaml_doc *doc, kyaml_node node)
{
	yaml_node_t *n = node_at(doc, node);
	return n ? (int)n->start_mark.line + 1 : 0;
}

const char *kyaml_scalar(const struct kyaml_doc *doc, kyaml_node node)
{
	yaml_node_t *n = node_at(doc, node);
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

size_t kyaml_map_len(const struct kyaml_doc *doc, kyaml_node map)
{
	yaml_node_t *n = node_at(doc, map);
	if (!n || n->type != YAML_MAPPING_NODE)
		return 0;
	return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

const char *kyaml_map_key_at(const struct kyaml_doc *doc, kyaml_node map, size_t i)
{
	if (i >= kyaml_map_len(doc, map))
		return NULL;
	yaml_node_t *n = node_at(doc, map);
	return kyaml_scalar(doc, n->data.mapping.pairs.start[i].key);
}

kyaml_node kyaml_map_value_at(const struct kyaml_doc *doc, kyaml_node map, size_t i)
{
	if (i >= kyaml_map_len(doc, map))
		return 0;
	yaml_node_t *n = node_at(doc, map);
	return n->data.mapping.pairs.start[i].value;
}

kyaml_node kyaml_map_get(const struct kyaml_doc *doc, kyaml_node map, const char *key)
{
	size_t len = kyaml_map_len(doc, map);
	for (size_t i = 0; i < len; i++) {
		const char *k = kyaml_map_key_at(doc, map, i);
		if (k && strcmp(k, key) == 0)
			return kyaml_map_value_at(doc, map, i);
	}
	return 0;
}

size_t kyaml_seq_len(const struct kyaml_doc *doc, kyaml_node seq)
{
	yaml_node_t *n = node_at(doc, seq);
	if (!n || n->type != YAML_SEQUENCE_NODE)
		return 0;
	return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

kyaml_node kyaml_seq_at(const struct kyaml_doc *doc, kyaml_node seq, size_t i)
{
	if (i >= kyaml_seq_len(doc, seq))
		return 0;
	return node_at(doc, seq)->data.sequence.items.start[i];
}

int kyaml_fail(const struct kyaml_doc *doc, kyaml_node node, const char *path, struct kyaml_err *err,
	       const char *fmt, ...)
{
	char what[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	int line = kyaml_line(doc, node);
	if (line > 0)
		snprintf(err->msg, sizeof(err->msg), "%s:%d: field '%s': %s", doc->name, line, path, what);
	else
		snprintf(err->msg, sizeof(err->msg), "%s: field '%s': %s", doc->name, path, what);
	return -EINVAL;
}

/* Builds "path.key" (or "key" when path is empty) for messages. */
static const char *join(char *buf, size_t cap, const char *path, const char *key)
{
	if (path && path[0])
		snprintf(buf, cap, "%s.%s", path, key);
	else
		snprintf(buf, cap, "%s", key);
	return buf;
}

/* Common prologue of the typed getters: 1 with *text set, 0 absent, <0 error. */
static int get_scalar(const struct kyaml_doc *doc, kyaml_node map, const char *key, const char *full,
		      bool required, const char **text, kyaml_node *node, struct kyaml_err *err)
{
	kyaml_node v = kyaml_map_get(doc, map, key);
	*node = v;
	if (!v) {
		if (required)
			return kyaml_fail(doc, map, full, err, "required field is missing");
		return 0;
	}
	const char *s = kyaml_scalar(doc, v);
	if (!s)
		return kyaml_fail(doc, v, full, err, "expected a scalar value, got a %s",
				  kyaml_type(doc, v) == KYAML_MAP ? "map" : "list");
	*text = s;
	return 1;
}

int kyaml_get_str(const struct kyaml_doc *doc, kyaml_node map, const char *key, const char *path,
		  bool required, char *dst, size_t cap, struct kyaml_err *err)
{
	char full[256];
	const char *s = NULL;
	kyaml_node v = 0;
	int r = get_scalar(doc, map, key, join(full, sizeof(full), path, key), required, &s, &v, err);
	if (r <= 0)
		return r;
	if (required && s[0] == '\0')
		return kyaml_fail(doc, v, full, err, "must not be empty");
	if (strlen(s) >= cap)
		return kyaml_fail(doc, v, full, err, "too long (%zu bytes, at most %zu)", strlen(s), cap - 1);
	memcpy(dst, s, strlen(s) + 1);
	return 1;
}

int kyaml_get_u64(const struct kyaml_doc *doc, kyaml_node map, const char *key, const char *path,
		  bool required, uint64_t min, uint64_t max, uint64_t *dst, struct kyaml_err *err)
{
	char full[256];
	const char *s = NULL;
	kyaml_node v = 0;
	int r = get_scalar(doc, map, key, join(full, sizeof(full), path, key), required, &s, &v, err);
	if (r <= 0)
		return r;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (s[0] == '-' || s[0] == '\0' || *end != '\0' || errno)
		return kyaml_fail(doc, v, full, err, "expected a non-negative integer, got '%s'", s);
	if (x < min || x > max)
		return kyaml_fail(doc, v, full, err, "%llu is out of range [%" PRIu64 ", %" PRIu64 "]", x, min, max);
	*dst = x;
	return 1;
}

int kyaml_get_u32(const struct kyaml_doc *doc, kyaml_node map, const char *key, const char *path,
		  bool required, uint32_t min, uint32_t max, uint32_t *dst, struct kyaml_err *err)
{
	uint64_t x;
	int r = kyaml_get_u64(doc, map, key, path, required, min, max, &x, err);
	if (r == 1)
		*dst = (uint32_t)x;
	return r;
}

int kyaml_get_double(const struct kyaml_doc *doc, kyaml_node map, const char *key, const char *path,
		     bool required, double min, double max, double *dst, struct kyaml_err *err)
{
	char full[256];
	const char *s = NULL;
	kyaml_node v = 0;
	int r = get_scalar(doc, map, key, join(full, sizeof(full), path, key), required, &s, &v, err);
	if (r <= 0)
		return r;
	char *end;
	errno = 0;
	double x = strtod(s, &end);
	if (s[0] == '\0' || *end != '\0' || errno || !isfinite(x))
		return kyaml_fail(doc, v, full, err, "expected a number, got '%s'", s);
	if (x < min || x > max)
		return kyaml_fail(doc, v, full, err, "%g is out of range [%g, %g]", x, min, max);
	*dst = x;
	return 1;
}

int kyaml_get_bool(const struct kyaml_doc *doc, kyaml_node map, const char *key, const char *path,
		   bool required, bool *dst, struct kyaml_err *err)
{
	char full[256];
	const char *s = NULL;
	kyaml_node v = 0;
	int r = get_scalar(doc, map, key, join(full, sizeof(full), path, key), required, &s, &v, err);
	if (r <= 0)
		return r;
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on") || !strcmp(s, "1"))
		*dst = true;
	else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off") || !strcmp(s, "0"))
		*dst = false;
	else
		return kyaml_fail(doc, v, full, err, "expected true or false, got '%s'", s);
	return 1;
}

int kyaml_get_enum(const struct kyaml_doc *doc, kyaml_node map, const char *key, const char *path,
		   bool required, const char *const *choices, int *dst, struct kyaml_err *err)
{
	char full[256];
	const char *s = NULL;
	kyaml_node v = 0;
	int r = get_scalar(doc, map, key, join(full, sizeof(full), path, key), required, &s, &v, err);
	if (r <= 0)
		return r;
	char list[256] = "";
	for (int i = 0; choices[i]; i++) {
		if (!strcmp(s, choices[i])) {
			*dst = i;
			return 1;
		}
		size_t l = strlen(list);
		snprintf(list + l, sizeof(list) - l, "%s%s", i ? ", " : "", choices[i]);
	}
	return kyaml_fail(doc, v, full, err, "expected one of %s; got '%s'", list, s);
}

int kyaml_expect_map(const struct kyaml_doc *doc, kyaml_node node, const char *path, struct kyaml_err *err)
{
	if (kyaml_type(doc, node) != KYAML_MAP)
		return kyaml_fail(doc, node, path, err, "expected a map");
	return 0;
}

int kyaml_expect_seq(const struct kyaml_doc *doc, kyaml_node node, const char *path, struct kyaml_err *err)
{
	if (kyaml_type(doc, node) != KYAML_SEQ)
		return kyaml_fail(doc, node, path, err, "expected a list");
	return 0;
}

int kyaml_check_keys(const struct kyaml_doc *doc, kyaml_node map, const char *path,
		     const char *const *allowed, struct kyaml_err *err)
{
	size_t n = kyaml_map_len(doc, map);
	for (size_t i = 0; i < n; i++) {
		const char *k = kyaml_map_key_at(doc, map, i);
		bool ok = false;
		for (int j = 0; k && allowed[j]; j++)
			ok = ok || !strcmp(k, allowed[j]);
		if (!ok) {
			char list[256] = "", full[256];
			for (int j = 0; allowed[j]; j++) {
				size_t l = strlen(list);
				snprintf(list + l, sizeof(list) - l, "%s%s", j ? ", " : "", allowed[j]);
			}
			return kyaml_fail(doc, kyaml_map_value_at(doc, map, i),
					  join(full, sizeof(full), path, k ? k : "?"), err,
					  "unknown field (expected one of: %s)", list);
		}
	}
	return 0;
}

/* yaml_doc.h: read-only access to a YAML file, with errors that name the file,
 * the line and the field.
 *
 * Every configuration in this project (vasd's cameras, model.yaml, ruth-ai-core's
 * subscriptions) is parsed through this module so that a malformed file always
 * gives the same kind of message:
 *   models/blazeface/model.yaml:12: field 'resource_requirements.gpu': expected one of none, preferred, required; got 'maybe'
 *
 * A node is an index into the loaded document (0 means "absent"). The document
 * owns every string it returns; they live until kyaml_free(). Not thread-safe to
 * free while another thread reads; concurrent reads are fine. */
#ifndef KERNEL_COMMON_YAML_DOC_H
#define KERNEL_COMMON_YAML_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kyaml_doc;
typedef int kyaml_node;

enum kyaml_type { KYAML_NONE = 0, KYAML_SCALAR, KYAML_SEQ, KYAML_MAP };

/* First error of a parse, formatted "FILE:LINE: message". */
struct kyaml_err {
	char msg[512];
};

/* Load a file. On failure returns a negative errno (-ENOENT for a missing file,
 * -EINVAL for a syntax error) and fills err. An empty file yields a document
 * whose root is absent (kyaml_root() == 0). */
int kyaml_load_file(struct kyaml_doc **out, const char *path, struct kyaml_err *err);
int kyaml_load_string(struct kyaml_doc **out, const char *name, const char *text, size_t len,
		      struct kyaml_err *err);
void kyaml_free(struct kyaml_doc **doc);

const char *kyaml_name(const struct kyaml_doc *doc);
kyaml_node kyaml_root(const struct kyaml_doc *doc);
enum kyaml_type kyaml_type(const struct kyaml_doc *doc, kyaml_node node);
int kyaml_line(const struct kyaml_doc *doc, kyaml_node node); /* 1-based */

/* Scalars: the text, or NULL when node is not a scalar. */
const char *kyaml_scalar(const struct kyaml_doc *doc, kyaml_node node);

/* Maps. kyaml_map_get returns 0 when the key is absent or map is not a map. */
kyaml_node kyaml_map_get(const struct kyaml_doc *doc, kyaml_node map, const char *key);
size_t kyaml_map_len(const struct kyaml_doc *doc, kyaml_node map);
const char *kyaml_map_key_at(const struct kyaml_doc *doc, kyaml_node map, size_t i);
kyaml_node kyaml_map_value_at(const struct kyaml_doc *doc, kyaml_node map, size_t i);

/* Sequences. */
size_t kyaml_seq_len(const struct kyaml_doc *doc, kyaml_node seq);
kyaml_node kyaml_seq_at(const struct kyaml_doc *doc, kyaml_node seq, size_t i);

/* Typed getters. `path` is the dotted field path used in messages ("cameras[2].url");
 * `key` is looked up in `map`. Return 1 when the value was read, 0 when the key is
 * absent and not required (dst untouched), -EINVAL with err filled otherwise
 * (missing required field, wrong type, out of range, too long). */
int kyaml_get_str(const struct kyaml_doc *doc, kyaml_node map, const char *key, const char *path,
		  bool required, char *dst, size_t cap, struct kyaml_err *err);
int kyaml_get_u32(const struct kyaml_doc *doc, kyaml_node map, const char *key, const char *path,
		  bool required, uint32_t min, uint32_t max, uint32_t *dst, struct kyaml_err *err);
int kyaml_get_u64(const struct kyaml_doc *doc, kyaml_node map, const char *key, const char *path,
		  bool required, uint64_t min, uint64_t max, uint64_t *dst, struct kyaml_err *err);
int kyaml_get_double(const struct kyaml_doc *doc, kyaml_node map, const char *key, const char *path,
		     bool required, double min, double max, double *dst, struct kyaml_err *err);
int kyaml_get_bool(const struct kyaml_doc *doc, kyaml_node map, const char *key, const char *path,
		   bool required, bool *dst, struct kyaml_err *err);
/* One of `choices` (NULL-terminated); *dst is the index. */
int kyaml_get_enum(const struct kyaml_doc *doc, kyaml_node map, const char *key, const char *path,
		   bool required, const char *const *choices, int *dst, struct kyaml_err *err);
/* The node must be a map (or, with kyaml_expect_seq, a sequence). Returns 0 or -EINVAL. */
int kyaml_expect_map(const struct kyaml_doc *doc, kyaml_node node, const char *path, struct kyaml_err *err);
int kyaml_expect_seq(const struct kyaml_doc *doc, kyaml_node node, const char *path, struct kyaml_err *err);
/* Rejects keys of `map` not in `allowed` (NULL-terminated), so typos are caught:
 * "field 'cameras[0].trasport': unknown field (expected one of: id, url, ...)". */
int kyaml_check_keys(const struct kyaml_doc *doc, kyaml_node map, const char *path,
		     const char *const *allowed, struct kyaml_err *err);

/* Format an error at node's line: "FILE:LINE: field 'path': message". Returns -EINVAL. */
int kyaml_fail(const struct kyaml_doc *doc, kyaml_node node, const char *path, struct kyaml_err *err,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif

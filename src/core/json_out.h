/* json_out.h: a compact, fast JSON writer into a growable buffer (results lines).
 *
 * Two ways in:
 *  - json_out() serializes a cJSON tree (ruthctl replies, tests).
 *    cJSON_PrintUnformatted prints every number with "%1.15g" and re-parses it
 *    with sscanf to check the round trip (a few microseconds per number, ~30
 *    numbers per result); here integral values print as integers and others
 *    with "%.9g" (exact for the float32 values the IPC carries). Raw items are
 *    copied.
 *  - the json_buf_put_* primitives, which the results writer (results.c) calls
 *    directly, with no tree and no allocation per line. They print exactly what
 *    json_out() prints for the same cJSON item (json_out is built on them), so
 *    the two paths give byte-identical lines.
 *
 * Every function returns 0 or -ENOMEM (the buffer is then unchanged up to its
 * previous length plus whatever fitted; the caller drops the line). Errors may
 * be OR-ed together: all failures are the same negative value.
 * The buffer is always NUL-terminated after a successful call. */
#ifndef RUTH_CORE_JSON_OUT_H
#define RUTH_CORE_JSON_OUT_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

struct json_buf {
	char *p;
	size_t len, cap;
};

/* Append the serialization of item to b. */
int json_out(struct json_buf *b, const cJSON *item);

/* Append n raw bytes (punctuation, keys already quoted). */
int json_buf_put(struct json_buf *b, const char *s, size_t n);
/* Append a string literal without measuring it at run time. */
#define JSON_BUF_LIT(b, lit) json_buf_put((b), "" lit, sizeof(lit) - 1)
/* Append s as a quoted JSON string, escaped ("\"", "\\", control characters). */
int json_buf_put_string(struct json_buf *b, const char *s);
/* Append a number as json_out() prints a cJSON number: null when not finite,
 * an integer when integral and below 2^53 in magnitude, else "%.9g". */
int json_buf_put_number(struct json_buf *b, double v);
/* Append an exact unsigned integer literal (64-bit values such as generations
 * and nanosecond times, which a double would round). */
int json_buf_put_u64(struct json_buf *b, uint64_t v);
/* Append v rounded to `decimals` places (0..4) the way src/model/result_json.c
 * rounds box coordinates (2) and scores (4): the same bytes as
 * json_buf_put_number(round(v * 10^d) / 10^d), without going through printf
 * when the rounded value has at most 9 significant digits. */
int json_buf_put_rounded(struct json_buf *b, double v, unsigned decimals);

#endif

/* json_buf.h: JSON text written straight into a growable buffer, with no tree
 * and no allocation per value (kcommon; no cJSON dependency).
 *
 * This is the one place that decides how a JSON value is spelled: the results
 * line (src/model/result_json.c, printed by ruth-ai-core and ruth-infer) and
 * json_out() (src/core/json_out.c, a cJSON tree, for ruthctl replies) are both
 * written with these functions, so the same value always gives the same bytes.
 *
 * Numbers: integral values below 2^53 in magnitude print as integers, others
 * with "%.9g" (exact for the float32 values the IPC carries; shorter and much
 * cheaper than cJSON's "%1.15g" with its sscanf round-trip check). JSON has no
 * NaN or infinity: non-finite values print as null, so a broken model output
 * still gives a valid line.
 *
 * Ownership: the caller owns the struct (zero-initialise it: { 0 } is an empty
 * buffer) and frees b->p with free() when done; kjson_buf_reset() empties it
 * and keeps the allocation for the next line.
 * Thread safety: none; one buffer, one thread at a time.
 *
 * Every kjson_put* returns 0 or -ENOMEM. On -ENOMEM the buffer keeps its
 * previous contents, possibly followed by part of what was being appended: the
 * caller drops the whole record by cutting b->len back to where it began.
 * Errors may be OR-ed together (rc |= ...): every failure is the same negative
 * value. After any call that returned 0 the text is NUL-terminated
 * (b->p[b->len] == 0), so it can be handed to printf("%s"). */
#ifndef KCOMMON_JSON_BUF_H
#define KCOMMON_JSON_BUF_H

#include <stddef.h>
#include <stdint.h>

struct kjson_buf {
	char *p;	/* NULL until the first append; then NUL-terminated text */
	size_t len;	/* bytes of text, excluding the NUL */
	size_t cap;	/* bytes allocated at p */
};

/* Empty the buffer, keeping its allocation. */
static inline void kjson_buf_reset(struct kjson_buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = 0;
}

/* Append n raw bytes (punctuation, keys already quoted, pre-built JSON). */
int kjson_put_raw(struct kjson_buf *b, const char *s, size_t n);
/* Append a string literal without measuring it at run time ("" rejects
 * anything but a literal). */
#define KJSON_PUT_LIT(b, lit) kjson_put_raw((b), "" lit, sizeof(lit) - 1)
/* Append s as a quoted JSON string: '"' and '\\' escaped, \n \r \t as such,
 * other control characters as \u00XX; bytes >= 0x80 copied as they are (the
 * caller passes UTF-8). */
int kjson_put_string(struct kjson_buf *b, const char *s);
/* Append a number: null when not finite, an integer when integral and below
 * 2^53 in magnitude (-0.0 prints as 0), else "%.9g". */
int kjson_put_number(struct kjson_buf *b, double v);
/* Append an exact unsigned integer (64-bit values such as generations and
 * nanosecond times, which a double would round). */
int kjson_put_u64(struct kjson_buf *b, uint64_t v);
/* Append v rounded half away from zero to `decimals` places (0..4; more is
 * taken as 4): exactly the bytes of kjson_put_number(round(v * 10^d) / 10^d),
 * without going through printf when the rounded value has at most 9
 * significant digits. The product v * 10^d is rounded to a double before
 * round(), so a value stored just below a decimal tie may still round up
 * (2.675, stored as 2.67499999..., gives 2.68; 0.125 gives 0.13): the
 * result is what round(v * 10^d) / 10^d computes, not exact decimal rounding. */
int kjson_put_rounded(struct kjson_buf *b, double v, unsigned decimals);

#endif

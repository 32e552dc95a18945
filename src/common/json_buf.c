/* json_buf.c: see json_buf.h. */
#include "json_buf.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Make room for `more` bytes plus the NUL. Capacity doubles from 1 KiB, so a
 * reused buffer stops allocating once it has held its longest line. */
static int reserve(struct kjson_buf *b, size_t more)
{
	if (more > SIZE_MAX / 2 - b->len)
		return -ENOMEM;
	if (b->len + more + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 1024;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *np = realloc(b->p, cap);
	if (!np)
		return -ENOMEM;
	b->p = np;
	b->cap = cap;
	return 0;
}

int kjson_put_raw(struct kjson_buf *b, const char *s, size_t n)
{
	if (reserve(b, n) < 0)
		return -ENOMEM;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
	return 0;
}

int kjson_put_string(struct kjson_buf *b, const char *s)
{
	size_t n = strlen(s);
	/* Worst case: every byte a control character, 6 bytes each ("\u00XX"). */
	if (n > (SIZE_MAX / 2 - 2) / 6 || reserve(b, n * 6 + 2) < 0)
		return -ENOMEM;
	static const char hex[] = "0123456789abcdef";
	char *o = b->p + b->len;
	*o++ = '"';
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		switch (*c) {
		case '"': *o++ = '\\'; *o++ = '"'; break;
		case '\\': *o++ = '\\'; *o++ = '\\'; break;
		case '\n': *o++ = '\\'; *o++ = 'n'; break;
		case '\r': *o++ = '\\'; *o++ = 'r'; break;
		case '\t': *o++ = '\\'; *o++ = 't'; break;
		default:
			if (*c < 0x20) {
				memcpy(o, "\\u00", 4);
				o[4] = hex[*c >> 4];
				o[5] = hex[*c & 15];
				o += 6;
			} else {
				*o++ = (char)*c;
			}
		}
	}
	*o++ = '"';
	*o = 0;
	b->len = (size_t)(o - b->p);
	return 0;
}

/* Decimal digits of u, most significant first, into out; returns the count. */
static int utoa(uint64_t u, char *out)
{
	char rev[24];
	int k = 0, n = 0;
	do {
		rev[k++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	while (k)
		out[n++] = rev[--k];
	return n;
}

int kjson_put_u64(struct kjson_buf *b, uint64_t v)
{
	char tmp[24];
	return kjson_put_raw(b, tmp, (size_t)utoa(v, tmp));
}

int kjson_put_number(struct kjson_buf *b, double v)
{
	char tmp[40];
	int n = 0;
	if (!isfinite(v))
		return KJSON_PUT_LIT(b, "null");
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		int64_t x = (int64_t)v;
		if (x < 0)
			tmp[n++] = '-';
		/* -(x + 1) + 1: the magnitude without negating INT64_MIN. */
		n += utoa(x < 0 ? (uint64_t)(-(x + 1)) + 1 : (uint64_t)x, tmp + n);
	} else {
		n = snprintf(tmp, sizeof(tmp), "%.9g", v);
	}
	return kjson_put_raw(b, tmp, (size_t)n);
}

int kjson_put_rounded(struct kjson_buf *b, double v, unsigned decimals)
{
	static const double scale[] = { 1, 10, 100, 1000, 10000 };
	if (decimals > 4)
		decimals = 4;
	if (!isfinite(v))
		return KJSON_PUT_LIT(b, "null");
	double q = scale[decimals];
	double k = round(v * q);
	double r = k / q; /* the value kjson_put_number() would be given */
	/* Fast path, equal to "%.9g" of r: r is the double nearest k / 10^d (IEEE
	 * division rounds correctly), k has at most 9 digits, so "%.9g" shows its
	 * decimal digits exactly, in fixed notation (10^-d >= 1e-4 and |r| < 1e9),
	 * with trailing zeros removed. Integral values and larger ones take the
	 * general path. */
	if (r == floor(r) || !(fabs(k) < 1e9))
		return kjson_put_number(b, r);
	uint64_t u = (uint64_t)fabs(k), div = (uint64_t)q;
	uint64_t ip = u / div, fp = u % div; /* fp != 0: r is not integral */
	char tmp[40];
	int n = 0;
	if (k < 0)
		tmp[n++] = '-';
	n += utoa(ip, tmp + n);
	tmp[n++] = '.';
	char frac[4];
	for (int i = (int)decimals - 1; i >= 0; i--) {
		frac[i] = (char)('0' + fp % 10);
		fp /= 10;
	}
	int fl = (int)decimals;
	while (frac[fl - 1] == '0')
		fl--;
	memcpy(tmp + n, frac, (size_t)fl);
	n += fl;
	return kjson_put_raw(b, tmp, (size_t)n);
}

/* json_out.c: see json_out.h. */
#include "json_out.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(struct json_buf *b, size_t more)
{
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

int json_buf_put(struct json_buf *b, const char *s, size_t n)
{
	if (reserve(b, n) < 0)
		return -ENOMEM;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
	return 0;
}

int json_buf_put_string(struct json_buf *b, const char *s)
{
	if (reserve(b, strlen(s) * 6 + 2) < 0)
		return -ENOMEM;
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
			if (*c < 0x20)
				o += sprintf(o, "\\u%04x", *c);
			else
				*o++ = (char)*c;
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

int json_buf_put_u64(struct json_buf *b, uint64_t v)
{
	char tmp[24];
	return json_buf_put(b, tmp, (size_t)utoa(v, tmp));
}

int json_buf_put_number(struct json_buf *b, double v)
{
	char tmp[40];
	int n = 0;
	if (!isfinite(v))
		return JSON_BUF_LIT(b, "null");
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		int64_t x = (int64_t)v;
		if (x < 0)
			tmp[n++] = '-';
		n += utoa(x < 0 ? (uint64_t)(-(x + 1)) + 1 : (uint64_t)x, tmp + n);
	} else {
		n = snprintf(tmp, sizeof(tmp), "%.9g", v);
	}
	return json_buf_put(b, tmp, (size_t)n);
}

int json_buf_put_rounded(struct json_buf *b, double v, unsigned decimals)
{
	static const double scale[] = { 1, 10, 100, 1000, 10000 };
	if (decimals > 4)
		decimals = 4;
	if (!isfinite(v))
		return JSON_BUF_LIT(b, "null");
	double q = scale[decimals];
	double k = round(v * q);
	double r = k / q; /* the value result_json.c writes */
	/* Fast path, equal to "%.9g" of r: r is the double nearest k / 10^d (IEEE
	 * division rounds correctly), k has at most 9 digits, so "%.9g" shows its
	 * decimal digits exactly, in fixed notation (10^-d >= 1e-4 and |r| < 1e9),
	 * with trailing zeros removed. Integral values and larger ones take the
	 * general path. */
	if (r == floor(r) || !(fabs(k) < 1e9))
		return json_buf_put_number(b, r);
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
	return json_buf_put(b, tmp, (size_t)n);
}

int json_out(struct json_buf *b, const cJSON *item)
{
	int rc = 0;
	switch (item->type & 0xFF) {
	case cJSON_False: return JSON_BUF_LIT(b, "false");
	case cJSON_True: return JSON_BUF_LIT(b, "true");
	case cJSON_NULL: return JSON_BUF_LIT(b, "null");
	case cJSON_Number: return json_buf_put_number(b, item->valuedouble);
	case cJSON_Raw:
		return item->valuestring ? json_buf_put(b, item->valuestring, strlen(item->valuestring))
					 : JSON_BUF_LIT(b, "null");
	case cJSON_String: return json_buf_put_string(b, item->valuestring ? item->valuestring : "");
	case cJSON_Array:
	case cJSON_Object: {
		int obj = (item->type & 0xFF) == cJSON_Object;
		rc = json_buf_put(b, obj ? "{" : "[", 1);
		for (const cJSON *c = item->child; c && rc == 0; c = c->next) {
			if (c != item->child)
				rc = json_buf_put(b, ",", 1);
			if (obj && rc == 0) {
				rc = json_buf_put_string(b, c->string ? c->string : "");
				if (rc == 0)
					rc = json_buf_put(b, ":", 1);
			}
			if (rc == 0)
				rc = json_out(b, c);
		}
		return rc ? rc : json_buf_put(b, obj ? "}" : "]", 1);
	}
	default: return JSON_BUF_LIT(b, "null");
	}
}

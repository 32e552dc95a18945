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

static int put(struct json_buf *b, const char *s, size_t n)
{
	if (reserve(b, n) < 0)
		return -ENOMEM;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
	return 0;
}

static int put_string(struct json_buf *b, const char *s)
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

static int put_number(struct json_buf *b, double v)
{
	char tmp[40];
	int n;
	if (!isfinite(v)) {
		return put(b, "null", 4);
	} else if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		/* integer fast path */
		int64_t x = (int64_t)v;
		char rev[24];
		int k = 0;
		uint64_t u = x < 0 ? (uint64_t)(-(x + 1)) + 1 : (uint64_t)x;
		do {
			rev[k++] = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		n = 0;
		if (x < 0)
			tmp[n++] = '-';
		while (k)
			tmp[n++] = rev[--k];
	} else {
		n = snprintf(tmp, sizeof(tmp), "%.9g", v);
	}
	return put(b, tmp, (size_t)n);
}

int json_out(struct json_buf *b, const cJSON *item)
{
	int rc = 0;
	switch (item->type & 0xFF) {
	case cJSON_False: return put(b, "false", 5);
	case cJSON_True: return put(b, "true", 4);
	case cJSON_NULL: return put(b, "null", 4);
	case cJSON_Number: return put_number(b, item->valuedouble);
	case cJSON_Raw: return item->valuestring ? put(b, item->valuestring, strlen(item->valuestring)) : put(b, "null", 4);
	case cJSON_String: return put_string(b, item->valuestring ? item->valuestring : "");
	case cJSON_Array:
	case cJSON_Object: {
		int obj = (item->type & 0xFF) == cJSON_Object;
		rc = put(b, obj ? "{" : "[", 1);
		for (const cJSON *c = item->child; c && rc == 0; c = c->next) {
			if (c != item->child)
				rc = put(b, ",", 1);
			if (obj && rc == 0) {
				rc = put_string(b, c->string ? c->string : "");
				if (rc == 0)
					rc = put(b, ":", 1);
			}
			if (rc == 0)
				rc = json_out(b, c);
		}
		return rc ? rc : put(b, obj ? "}" : "]", 1);
	}
	default: return put(b, "null", 4);
	}
}

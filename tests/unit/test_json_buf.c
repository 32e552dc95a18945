/* test_json_buf.c: kcommon's JSON text primitives (src/common/json_buf.c):
 * string escaping, number spelling, rounding edge cases, exact 64-bit
 * integers, non-finite values, buffer growth and reuse. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_buf.h"

/* Text of one number as kjson_put_number writes it, in a static buffer. */
static const char *num(double v)
{
	static char out[64];
	struct kjson_buf b = { 0 };
	assert_int_equal(kjson_put_number(&b, v), 0);
	assert_true(b.len < sizeof(out));
	memcpy(out, b.p, b.len + 1);
	free(b.p);
	return out;
}

static const char *rounded(double v, unsigned d)
{
	static char out[64];
	struct kjson_buf b = { 0 };
	assert_int_equal(kjson_put_rounded(&b, v, d), 0);
	assert_true(b.len < sizeof(out));
	memcpy(out, b.p, b.len + 1);
	free(b.p);
	return out;
}

static void test_string_escaping(void **state)
{
	(void)state;
	struct kjson_buf b = { 0 };
	assert_int_equal(kjson_put_string(&b, "a\"b\\c/d\n\r\t\x01\x1f\x7f caf\xc3\xa9"), 0);
	/* '/' and DEL need no escape; UTF-8 bytes pass through unchanged. */
	assert_string_equal(b.p, "\"a\\\"b\\\\c/d\\n\\r\\t\\u0001\\u001f\x7f caf\xc3\xa9\"");
	assert_int_equal(b.len, strlen(b.p));
	kjson_buf_reset(&b);
	assert_int_equal(kjson_put_string(&b, ""), 0);
	assert_string_equal(b.p, "\"\"");
	/* Every control character, each as \u00XX unless it has a short form. */
	char ctl[32];
	for (int i = 1; i < 32; i++)
		ctl[i - 1] = (char)i;
	ctl[31] = 0;
	kjson_buf_reset(&b);
	assert_int_equal(kjson_put_string(&b, ctl), 0);
	assert_string_equal(b.p, "\"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\u0008\\t\\n\\u000b"
				 "\\u000c\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016"
				 "\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\"");
	free(b.p);
}

static void test_numbers(void **state)
{
	(void)state;
	assert_string_equal(num(0), "0");
	assert_string_equal(num(-0.0), "0");
	assert_string_equal(num(42), "42");
	assert_string_equal(num(-7), "-7");
	assert_string_equal(num(9007199254740991.0), "9007199254740991");	   /* 2^53 - 1 */
	assert_string_equal(num(-9007199254740991.0), "-9007199254740991");
	assert_string_equal(num(9007199254740992.0), "9.00719925e+15");	   /* 2^53: not exact */
	assert_string_equal(num(1e20), "1e+20");
	assert_string_equal(num(-1e20), "-1e+20");
	assert_string_equal(num(0.1), "0.1");
	assert_string_equal(num(-0.5), "-0.5");
	assert_string_equal(num(1.0 / 3.0), "0.333333333");
	assert_string_equal(num(1.5e-7), "1.5e-07");
	assert_string_equal(num(DBL_MAX), "1.79769313e+308");
	assert_string_equal(num(DBL_MIN), "2.22507386e-308");
	/* float32 values survive "%.9g" exactly */
	float f = 0.8801f;
	assert_true((float)strtod(num(f), NULL) == f);
	/* JSON has no NaN or infinity */
	assert_string_equal(num(NAN), "null");
	assert_string_equal(num(-NAN), "null");
	assert_string_equal(num(INFINITY), "null");
	assert_string_equal(num(-INFINITY), "null");
}

static void test_u64(void **state)
{
	(void)state;
	struct kjson_buf b = { 0 };
	assert_int_equal(kjson_put_u64(&b, 0), 0);
	assert_int_equal(KJSON_PUT_LIT(&b, ","), 0);
	assert_int_equal(kjson_put_u64(&b, UINT64_MAX), 0);
	assert_int_equal(KJSON_PUT_LIT(&b, ","), 0);
	assert_int_equal(kjson_put_u64(&b, 1795598702483215769ull), 0);
	assert_string_equal(b.p, "0,18446744073709551615,1795598702483215769");
	free(b.p);
}

static void test_rounding_edges(void **state)
{
	(void)state;
	/* True ties (exact in binary) round half away from zero. */
	assert_string_equal(rounded(0.125, 2), "0.13");
	assert_string_equal(rounded(-0.125, 2), "-0.13");
	assert_string_equal(rounded(2.5, 0), "3");
	assert_string_equal(rounded(-2.5, 0), "-3");
	/* 2.675 is stored as 2.67499999...; 2.675 * 100 rounds to 267.5 as a
	 * double, so the result is 2.68 (round(v * 100) / 100, documented). */
	assert_string_equal(rounded(2.675, 2), "2.68");
	/* 1.005 * 100 is 100.49999999999999: down. */
	assert_string_equal(rounded(1.005, 2), "1");
	assert_string_equal(rounded(0.285, 2), "0.28");
	/* Zero and signed zero never print "-0". */
	assert_string_equal(rounded(-0.0, 2), "0");
	assert_string_equal(rounded(-0.001, 2), "0");
	assert_string_equal(rounded(-0.00004, 4), "0");
	/* Trailing zeros go; integral results print as integers. */
	assert_string_equal(rounded(1.10, 2), "1.1");
	assert_string_equal(rounded(1919.999, 2), "1920");
	assert_string_equal(rounded(0.00005, 4), "0.0001");
	assert_string_equal(rounded(-0.0005, 4), "-0.0005");
	assert_string_equal(rounded(123456.785, 2), "123456.79");
	/* Beyond 9 significant digits the general path ("%.9g") takes over. */
	assert_string_equal(rounded(12345678.125, 2), "12345678.1");
	assert_string_equal(rounded(1e20, 2), "1e+20");
	assert_string_equal(rounded(-1e20, 4), "-1e+20");
	/* More than 4 decimals is taken as 4. */
	assert_string_equal(rounded(0.123456, 9), "0.1235");
	assert_string_equal(rounded(3.7, 0), "4");
	assert_string_equal(rounded(NAN, 2), "null");
	assert_string_equal(rounded(INFINITY, 4), "null");
	assert_string_equal(rounded(-INFINITY, 0), "null");
}

/* The fast path (no printf) must give exactly kjson_put_number of the rounded
 * value, for every decimals and a spread of magnitudes and signs. */
static void test_rounding_matches_general_path(void **state)
{
	(void)state;
	static const double scale[] = { 1, 10, 100, 1000, 10000 };
	uint64_t x = 0x9e3779b97f4a7c15ull;
	char want[64];
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double mag = pow(10.0, (double)(x % 14) - 5.0); /* 1e-5 .. 1e8 */
		double v = (double)(x >> 11) / 9007199254740992.0 * mag;
		if (x & (1ull << 3))
			v = -v;
		if (x & (1ull << 4))
			v = (float)v; /* the IPC carries float32 */
		unsigned d = (unsigned)((x >> 5) % 5);
		snprintf(want, sizeof(want), "%s", num(round(v * scale[d]) / scale[d]));
		const char *got = rounded(v, d);
		if (strcmp(want, got) != 0)
			fail_msg("v=%.17g d=%u: want %s got %s", v, d, want, got);
	}
}

/* Appends grow the buffer past its first 1 KiB without losing or moving text;
 * reset keeps the allocation; the text stays NUL-terminated. */
static void test_growth_and_reset(void **state)
{
	(void)state;
	struct kjson_buf b = { 0 };
	kjson_buf_reset(&b); /* on an empty buffer: a no-op */
	assert_null(b.p);
	for (int i = 0; i < 5000; i++) {
		assert_int_equal(kjson_put_u64(&b, (uint64_t)i % 10), 0);
		assert_int_equal(b.p[b.len], 0);
	}
	assert_int_equal(b.len, 5000);
	assert_true(b.cap > 5000);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(b.p[i], '0' + i % 10);
	/* one long string in one call */
	size_t n = 100000;
	char *big = malloc(n + 1);
	assert_non_null(big);
	memset(big, '\n', n);
	big[n] = 0;
	size_t cap = b.cap;
	kjson_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, cap);
	assert_string_equal(b.p, "");
	assert_int_equal(kjson_put_string(&b, big), 0);
	assert_int_equal(b.len, 2 * n + 2);
	assert_int_equal(b.p[0], '"');
	assert_int_equal(b.p[1], '\\');
	assert_int_equal(b.p[2], 'n');
	assert_int_equal(b.p[b.len - 1], '"');
	assert_int_equal(strlen(b.p), b.len);
	free(big);
	/* raw bytes may hold anything but are copied as given */
	kjson_buf_reset(&b);
	assert_int_equal(kjson_put_raw(&b, "ab\0cd", 5), 0);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.p, "ab\0cd", 6);
	free(b.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_string_escaping),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_rounding_edges),
		cmocka_unit_test(test_rounding_matches_general_path),
		cmocka_unit_test(test_growth_and_reset),
	};
	return cmocka_run_group_tests_name("json_buf", tests, NULL, NULL);
}

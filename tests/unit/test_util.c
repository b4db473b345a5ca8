/* Unit tests for mapper/util.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "util.h"

static void test_value_keeps_nul(void **state)
{
	struct cm_value v = { 0 };

	(void)state;
	assert_int_equal(cm_value_set_text(&v, "a\0b", 3), 0);
	assert_int_equal(v.len, 3);
	assert_memory_equal(v.data, "a\0b", 3);
	assert_non_null(v.unusable);
	assert_false(cm_value_usable(&v));
	assert_int_equal(cm_value_set_text(&v, "abc", 3), 0);
	assert_null(v.unusable);
	assert_true(cm_value_usable(&v));
	assert_int_equal(v.data[3], '\0');
	cm_value_clear(&v);
	assert_null(v.data);
}

static void test_strv(void **state)
{
	struct cm_strv sv = { 0 };

	(void)state;
	for (int i = 0; i < 100; i++) {
		char s[16];

		snprintf(s, sizeof(s), "n%d", i);
		assert_int_equal(cm_strv_add(&sv, s), 0);
	}
	assert_int_equal(sv.n, 100);
	assert_string_equal(sv.v[99], "n99");
	assert_null(sv.v[100]);
	assert_true(cm_strv_contains(&sv, "n42"));
	assert_false(cm_strv_contains(&sv, "n100"));
	assert_int_equal(cm_strv_addn(&sv, "abcdef", 3), 0);
	assert_string_equal(sv.v[100], "abc");
	cm_strv_clear(&sv);
	assert_int_equal(sv.n, 0);
}

static void test_buf_cap(void **state)
{
	struct cm_buf b;
	char *s;
	size_t len;

	(void)state;
	cm_buf_init(&b, 8);
	cm_buf_adds(&b, "1234");
	cm_buf_printf(&b, "%d", 5678);
	assert_false(b.failed);
	assert_string_equal(b.data, "12345678");
	cm_buf_addc(&b, 'x');
	assert_true(b.failed);
	assert_null(cm_buf_steal(&b, &len));

	cm_buf_init(&b, 0);
	s = cm_buf_steal(&b, &len);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
	cm_buf_init(&b, 0);
	cm_buf_hex(&b, (const unsigned char *)"\x01\xab\xff", 3, false, ':');
	cm_buf_hex(&b, (const unsigned char *)"\xab", 1, true, 0);
	s = cm_buf_steal(&b, &len);
	assert_string_equal(s, "01:ab:ffAB");
	assert_int_equal(len, 10);
	free(s);
}

static void test_buf_escaped(void **state)
{
	struct cm_buf b;
	char *s;

	(void)state;
	cm_buf_init(&b, 0);
	cm_buf_add_escaped(&b, (const unsigned char *)"a\0b\\c\n", 6, 100);
	s = cm_buf_steal(&b, NULL);
	assert_string_equal(s, "a\\x00b\\\\c\\x0a");
	free(s);
	cm_buf_init(&b, 0);
	cm_buf_add_escaped(&b, (const unsigned char *)"abcdef", 6, 3);
	s = cm_buf_steal(&b, NULL);
	assert_string_equal(s, "abc...");
	free(s);
}

/* A log value: quoted, '"' and '\\' after a backslash, every byte outside
 * ' '..'~' as \xHH, plain runs kept, cut after max bytes. */
static void test_buf_quoted(void **state)
{
	struct cm_buf b;
	char *s;

	(void)state;
	cm_buf_init(&b, 0);
	cm_buf_add_quoted(&b, (const unsigned char *)"CN=a \"b\"\\c\0\n\xc3\xbc~z", 16, 100);
	s = cm_buf_steal(&b, NULL);
	assert_string_equal(s, "\"CN=a \\\"b\\\"\\\\c\\x00\\x0a\\xc3\\xbc~z\"");
	free(s);
	cm_buf_init(&b, 0);
	cm_buf_add_quoted(&b, (const unsigned char *)"\"abcdef", 7, 3);
	s = cm_buf_steal(&b, NULL);
	assert_string_equal(s, "\"\\\"ab...\"");
	free(s);
	cm_buf_init(&b, 0);
	cm_buf_add_quoted(&b, (const unsigned char *)"", 0, 3);
	s = cm_buf_steal(&b, NULL);
	assert_string_equal(s, "\"\"");
	free(s);
}

/* Bytes over 0x7f stay only as well-formed UTF-8; the rest is \xHH. */
static void test_buf_escaped_utf8(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} cases[] = {
		{ "J\xc3\xbcrgen", 7, "J\xc3\xbcrgen" },            /* ü kept */
		{ "\x0c\x0d" "123\x80\xff\xc0", 8, "\\x0c\\x0d123\\x80\\xff\\xc0" },
		{ "\xc0\xaf", 2, "\\xc0\\xaf" },                  /* overlong '/' */
		{ "\xed\xa0\x80", 3, "\\xed\\xa0\\x80" },         /* surrogate */
		{ "\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80" }, /* over U+10FFFF */
		{ "\xe2\x82", 2, "\\xe2\\x82" },                  /* truncated */
		{ "\xc2\x9b" "1m", 4, "\\xc2\\x9b1m" },             /* C1 CSI */
		{ "\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80" },     /* U+1F600 kept */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cm_buf b;
		char *s;

		cm_buf_init(&b, 0);
		cm_buf_add_escaped(&b, (const unsigned char *)cases[i].in, cases[i].len, 100);
		s = cm_buf_steal(&b, NULL);
		assert_string_equal(s, cases[i].out);
		assert_true(cm_utf8_valid(s, strlen(s)));
		free(s);
	}
}

static void test_utf8_sanitize(void **state)
{
	char *s;

	(void)state;
	assert_true(cm_utf8_valid("", 0));
	assert_true(cm_utf8_valid("a\xc3\xa9\xe2\x82\xac\xf0\x90\x8d\x88", 10));
	assert_false(cm_utf8_valid("\xff", 1));
	assert_false(cm_utf8_valid("\xc3", 1));
	assert_false(cm_utf8_valid("\xe0\x80\xaf", 3));
	s = cm_utf8_sanitize("a\xff" "b\0c\xc3\xa9\\", 8);
	assert_non_null(s);
	assert_string_equal(s, "a\\xffb\\x00c\xc3\xa9" "\\");
	free(s);
	/* A cut inside a sequence (cm_buf_add_escaped's max) stays valid. */
	{
		struct cm_buf b;

		cm_buf_init(&b, 0);
		cm_buf_add_escaped(&b, (const unsigned char *)"ab\xc3\xa9", 4, 3);
		s = cm_buf_steal(&b, NULL);
		assert_string_equal(s, "ab\\xc3...");
		free(s);
	}
}


/* The one base64 decoder: each flag's acceptance, and what it refuses. */
static void test_base64(void **state)
{
	static const struct {
		const char *in;
		unsigned int flags;
		size_t max;
		enum cm_b64_error want;
		const char *out;
	} cases[] = {
	    {"TWFu", 0, 10, CM_B64_OK, "Man"},
	    {"TQ==", 0, 10, CM_B64_OK, "M"},
	    {"TWE=", 0, 10, CM_B64_OK, "Ma"},
	    {"TQ", 0, 10, CM_B64_BAD_LENGTH, NULL},
	    {"TQ", CM_B64_UNPADDED, 10, CM_B64_OK, "M"},
	    {"TWE", CM_B64_UNPADDED, 10, CM_B64_OK, "Ma"},
	    {"T", CM_B64_UNPADDED, 10, CM_B64_BAD_LENGTH, NULL},
	    {"TQ=", CM_B64_UNPADDED, 10, CM_B64_BAD_LENGTH, NULL},
	    {"T===", 0, 10, CM_B64_BAD_LENGTH, NULL},
	    {"==", 0, 10, CM_B64_BAD_LENGTH, NULL},
	    {"TQ==TQ==", 0, 10, CM_B64_BAD_CHAR, NULL},
	    {"=TQ=", 0, 10, CM_B64_BAD_CHAR, NULL},
	    {"TW-u", 0, 10, CM_B64_BAD_CHAR, NULL},
	    {"TW_u", 0, 10, CM_B64_BAD_CHAR, NULL},
	    {"TW Fu", 0, 10, CM_B64_BAD_CHAR, NULL},
	    {" TW\r\nF\tu ", CM_B64_SPACE, 10, CM_B64_OK, "Man"},
	    {"TW\vFu", CM_B64_SPACE, 10, CM_B64_BAD_CHAR, NULL},
	    {"TQ= =", CM_B64_SPACE, 10, CM_B64_OK, "M"},
	    {"TQ= =A", CM_B64_SPACE, 10, CM_B64_BAD_CHAR, NULL},
	    {"", 0, 10, CM_B64_EMPTY, NULL},
	    {" \n", CM_B64_SPACE, 10, CM_B64_EMPTY, NULL},
	    {"TR==", 0, 10, CM_B64_OK, "M"}, /* stray bits: only refused when asked */
	    {"TR==", CM_B64_CANONICAL, 10, CM_B64_STRAY_BITS, NULL},
	    {"TWF=", CM_B64_CANONICAL, 10, CM_B64_STRAY_BITS, NULL},
	    {"TWFuTWFu", 0, 5, CM_B64_TOO_LARGE, NULL},
	    {"TWFuTWE=", 0, 5, CM_B64_OK, "ManMa"},
	};

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(cases); i++) {
		unsigned char *out = (unsigned char *)"x";
		size_t len = 99;
		enum cm_b64_error e = cm_base64_decode(cases[i].in, strlen(cases[i].in), cases[i].flags,
						       cases[i].max, &out, &len);
		if (e != cases[i].want) {
			fail_msg("case %zu (%s): error %d, want %d", i, cases[i].in, e, cases[i].want);
		}
		if (cases[i].out == NULL) {
			assert_null(out);
			assert_int_equal(len, 0);
			continue;
		}
		assert_int_equal(len, strlen(cases[i].out));
		assert_memory_equal(out, cases[i].out, len);
		free(out);
	}
	/* A NUL is a byte like any other: not base64. */
	{
		unsigned char *out = NULL;
		size_t len = 0;

		assert_int_equal(cm_base64_decode("TW\0u", 4, CM_B64_SPACE, 10, &out, &len),
				 CM_B64_BAD_CHAR);
		assert_null(out);
	}
	/* Texts on both sides of the stack buffer (4096 bytes), with and
	 * without line breaks, against OpenSSL's encoder. */
	for (size_t n = 3000; n <= 3300; n += 3) {
		unsigned char in[3300], *out = NULL;
		char text[4 * 3300 / 3 + 200];
		size_t len = 0;
		int w;

		for (size_t i = 0; i < n; i++) {
			in[i] = (unsigned char)(i * 7 + n);
		}
		w = EVP_EncodeBlock((unsigned char *)text, in, (int)n);
		assert_int_equal(cm_base64_decode(text, (size_t)w, 0, n, &out, &len), CM_B64_OK);
		assert_int_equal(len, n);
		assert_memory_equal(out, in, n);
		free(out);
		text[w] = '\n'; /* one more byte of white space */
		assert_int_equal(cm_base64_decode(text, (size_t)w + 1, CM_B64_SPACE, n, &out, &len),
				 CM_B64_OK);
		assert_memory_equal(out, in, n);
		free(out);
	}
}

/* cm_u64_text against printf, at the edges of each digit count. */
static void test_u64_text(void **state)
{
	char got[CM_U64_TEXT + 1], want[32];
	uint64_t v = 1;

	(void)state;
	for (int d = 0; d < 20; d++, v *= 10) {
		uint64_t probes[] = { v - 1, v, v + 1, d == 19 ? UINT64_MAX : v * 10 - 1 };

		for (size_t i = 0; i < 4; i++) {
			size_t n = cm_u64_text(got, probes[i]);

			got[n] = '\0';
			snprintf(want, sizeof(want), "%llu", (unsigned long long)probes[i]);
			assert_string_equal(got, want);
		}
	}
}

static void test_buf_add_i64(void **state)
{
	static const int64_t probes[] = { 0, -1, 42, -42, INT64_MAX, INT64_MIN };
	char want[32];

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(probes); i++) {
		struct cm_buf b;

		cm_buf_init(&b, 64);
		cm_buf_add_i64(&b, probes[i]);
		snprintf(want, sizeof(want), "%lld", (long long)probes[i]);
		assert_int_equal(b.len, strlen(want));
		assert_memory_equal(b.data, want, b.len);
		cm_buf_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_value_keeps_nul),
		cmocka_unit_test(test_strv),
		cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_buf_escaped),
		cmocka_unit_test(test_buf_quoted),
		cmocka_unit_test(test_buf_escaped_utf8),
		cmocka_unit_test(test_utf8_sanitize),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_u64_text),
		cmocka_unit_test(test_buf_add_i64),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}

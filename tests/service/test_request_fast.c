/* Unit tests for service/request_fast.c: which frames the fast path takes,
 * which it leaves to json-c, and that both give the same decoded call. */
#include "config.h"

#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "request.h"
#include "request_fast.h"

#define MAP "{\"method\":\"org.certmap.Mapper.Map\","

/* The tree as text, keys in order, strings with every byte escaped. */
static char *tree_text(json_object *o)
{
	return strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
}

/* Decodes frame with the fast path on or off: its tree as text, or
 * "error:<parameter>:<message>". */
static char *decode_text(const char *frame, bool fast)
{
	struct cmp_call call;
	struct cmp_fail fail;
	char *s, buf[256];

	cmp_fast_set_enabled(fast);
	if (cmp_call_decode(frame, strlen(frame), &call, &fail) != 0) {
		cmp_fast_set_enabled(true);
		snprintf(buf, sizeof(buf), "error:%s:%s", fail.parameter ? fail.parameter : "-",
			 fail.message);
		return strdup(buf);
	}
	cmp_fast_set_enabled(true);
	s = tree_text(call.root);
	cmp_call_clear(&call);
	return s;
}

static void assert_same_decode(const char *frame)
{
	char *fast = decode_text(frame, true), *ref = decode_text(frame, false);

	assert_string_equal(fast, ref);
	free(fast);
	free(ref);
}

/* What certmap's clients send: the fast path builds the tree json-c would. */
static void test_common_frames_are_fast(void **state)
{
	static const char *const frames[] = {
	    MAP "\"parameters\":{\"certificate\":\"MIIB/+==\"}}",
	    MAP "\"parameters\":{\"certificate\":\"QUJD\",\"chain\":[\"QUJD\",\"REVG\"],"
		"\"user\":\"alice\",\"upn_hint\":\"a@b.c\",\"domain_hint\":\"corp\","
		"\"user_mapping_data\":\"MAA=\",\"trace\":true}}",
	    MAP "\"parameters\":{\"certificate\":\"QUJD\",\"chain\":[],\"user\":null,"
		"\"upn_hint\":null,\"domain_hint\":null,\"user_mapping_data\":null,\"trace\":false}}",
	    MAP "\"oneway\":true,\"more\":false,\"upgrade\":false,\"parameters\":{\"certificate\":\"x\"}}",
	    "{\"parameters\":{\"certificate\":\"x\"},\"method\":\"org.certmap.Mapper.Map\"}",
	    MAP "\"parameters\":{\"certificate\":\"-----BEGIN CERTIFICATE-----\\nQUJD\\n\"}}",
	    MAP "\"parameters\":{\"certificate\":\"x\",\"user\":\"q\\\"\\\\\\/\\b\\f\\r\\t\"}}",
	    " \r\n\t{ \"method\" : \"a.B\" , \"parameters\" : { } } \n",
	    "{\"method\":\"org.varlink.service.GetInfo\"}",
	    "{\"method\":\"a.B\",\"parameters\":null}",
	    "{}",
	};

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(frames); i++) {
		json_object *t = cmp_fast_parse(frames[i], strlen(frames[i]));

		assert_non_null(t);
		json_object_put(t);
		assert_same_decode(frames[i]);
	}
}

/* The decoded call through the fast path: fields, flags and the strings
 * byte for byte, escapes decoded. */
static void test_fast_call_fields(void **state)
{
	static const char frame[] = MAP "\"oneway\":true,\"parameters\":{\"certificate\":"
					"\"QUJD\",\"user\":\"a\\nb\",\"trace\":true}}";
	struct cmp_call call;
	struct cmp_map m;
	struct cmp_fail fail;

	(void)state;
	assert_int_equal(cmp_call_decode(frame, strlen(frame), &call, &fail), 0);
	assert_string_equal(call.method, "org.certmap.Mapper.Map");
	assert_true(call.oneway);
	assert_false(call.more);
	assert_null(call.invalid.error);
	assert_int_equal(cmp_map_decode(&call, &m, &fail), 0);
	assert_string_equal(m.user, "a\nb");
	assert_true(m.trace);
	assert_int_equal(m.cert_text.len, 4);
	assert_memory_equal(m.cert_text.p, "QUJD", 4);
	cmp_map_clear(&m);
	cmp_call_clear(&call);
}

/* A Map of the commonest shape read from the frame (no tree) is the Map
 * the full decoder gives: the same fields, names as C strings in the
 * caller's copy, the same key, the same certificate bytes. */
static void test_map_from_fields(void **state)
{
	static const char frame[] = MAP "\"parameters\":{\"user\":\"alice\",\"certificate\":"
					"\"MAMCAQU=\",\"upn_hint\":\"a@B\",\"trace\":true}}";
	static const char *const others[] = {
	    MAP "\"parameters\":{\"certificate\":\"QUJD\",\"chain\":[]}}",
	    MAP "\"parameters\":{\"certificate\":\"QUJD\",\"user\":\"\"}}",
	    MAP "\"parameters\":{\"certificate\":\"QUJD\",\"user\":\"a\\\"b\"}}",
	    MAP "\"oneway\":true,\"parameters\":{\"certificate\":\"QUJD\"}}",
	};
	char copy[sizeof(frame)];
	struct cmp_key_fields f;
	struct cmp_map fast, full;
	struct cmp_call call;
	struct cmp_fail fail;

	(void)state;
	assert_true(cmp_fast_map_fields(frame, strlen(frame), &f));
	assert_true(f.trace);
	memcpy(copy, frame, sizeof(frame));
	assert_int_equal(cmp_map_from_fields(&f, frame, copy, &fast), 0);
	assert_int_equal(cmp_call_decode(frame, strlen(frame), &call, &fail), 0);
	assert_int_equal(cmp_map_decode(&call, &full, &fail), 0);
	assert_string_equal(fast.user, "alice");
	assert_string_equal(fast.upn_hint, "a@B");
	assert_null(fast.domain_hint);
	assert_true(fast.user >= copy && fast.user < copy + sizeof(copy));
	assert_int_equal(fast.cert_text.len, full.cert_text.len);
	assert_memory_equal(fast.cert_text.p, full.cert_text.p, full.cert_text.len);
	assert_true(fast.trace && full.trace);
	assert_int_equal(fast.key_len, full.key_len);
	assert_memory_equal(fast.key, full.key, full.key_len);
	assert_int_equal(cmp_map_decode_certs(&fast, &fail), 0);
	assert_int_equal(fast.cert_len, 5);
	assert_memory_equal(fast.cert, "\x30\x03\x02\x01\x05", 5);
	cmp_map_clear(&fast);
	cmp_map_clear(&full);
	cmp_call_clear(&call);
	/* Nothing else: a chain, an empty or escaped name, oneway. */
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		assert_false(cmp_fast_map_fields(others[i], strlen(others[i]), &f));
	}
}

/* Everything else goes to json-c, which keeps deciding: the fast path
 * returns no tree, and the decoder's answer is the one without it. */
static void test_unusual_frames_go_to_json_c(void **state)
{
	static const char *const frames[] = {
	    MAP "\"parameters\":{\"certificate\":\"x\",\"user\":\"J\\u00fcrgen\"}}",
	    MAP "\"parameters\":{\"certificate\":\"x\",\"user\":\"J\xc3\xbcrgen\"}}",
	    MAP "\"parameters\":{\"certificate\":\"x\",\"user\":\"a\\u0000b\"}}",
	    MAP "\"parameters\":{\"cert\\u0069ficate\":\"x\"}}",
	    MAP "\"parameters\":{\"certificate\":\"x\",\"certificate\":\"y\"}}",
	    MAP "\"method\":\"a.B\",\"parameters\":{}}",
	    MAP "\"parameters\":{\"certificate\":\"x\",\"frob\":true}}",
	    MAP "\"frob\":true}",
	    MAP "\"parameters\":{\"certificate\":\"x\",\"trace\":1}}",
	    MAP "\"parameters\":{\"certificate\":\"x\",\"trace\":TRUE}}",
	    MAP "\"parameters\":{\"certificate\":\"x\",\"trace\":truex}}",
	    MAP "\"parameters\":{\"certificate\":\"x\",}}",
	    MAP "\"parameters\":{\"certificate\":\"x\"}} x",
	    MAP "\"parameters\":{\"certificate\":\"x\"}}{}",
	    MAP "\"parameters\":{\"certificate\":'x'}}",
	    MAP "\"parameters\":{\"certificate\":\"x\"/**/}}",
	    MAP "\"parameters\":{\"certificate\":\"x\",\"chain\":[[]]}}",
	    MAP "\"parameters\":{\"certificate\":\"x\",\"chain\":[null]}}",
	    MAP "\"parameters\":{\"certificate\":\"x\",\"user\":{}}}",
	    MAP "\"parameters\":{\"certificate\":\"a\tb\"}}",
	    MAP "\"parameters\":{\"certificate\":\"a\x7f\"}}",
	    MAP "\"parameters\":{\"certificate\":\"a\\x\"}}",
	    MAP "\"parameters\":{\"certificate\":\"x\"}}\v",
	    MAP "\"parameters\":[]}",
	    MAP "\"parameters\":{\"certificate\":\"x\"}",
	    MAP "\"parameters\":{\"certificate\":\"x",
	    "\xef\xbb\xbf{\"method\":\"a.B\"}",
	    "[{\"method\":\"a.B\"}]",
	    "",
	    " ",
	};

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(frames); i++) {
		assert_null(cmp_fast_parse(frames[i], strlen(frames[i])));
		assert_same_decode(frames[i]);
	}
}

/* Well-formed fast frames with a wrong envelope or parameters: the same
 * errors, named the same way, as through json-c. */
static void test_same_errors(void **state)
{
	static const char *const frames[] = {
	    "{\"method\":true}",
	    "{\"method\":null}",
	    "{\"oneway\":true}",
	    "{\"method\":\"a.B\",\"more\":\"x\"}",
	    "{\"method\":\"a.B\",\"upgrade\":true}",
	    "{\"method\":\"a.B\",\"parameters\":\"x\"}",
	    "{\"method\":\"a.B\",\"parameters\":true}",
	};

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(frames); i++) {
		json_object *t = cmp_fast_parse(frames[i], strlen(frames[i]));

		assert_non_null(t);
		json_object_put(t);
		assert_same_decode(frames[i]);
	}
}

static void test_switch(void **state)
{
	static const char frame[] = "{\"method\":\"a.B\"}";
	json_object *t;

	(void)state;
	cmp_fast_set_enabled(false);
	assert_null(cmp_fast_parse(frame, strlen(frame)));
	cmp_fast_set_enabled(true);
	t = cmp_fast_parse(frame, strlen(frame));
	assert_non_null(t);
	json_object_put(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_common_frames_are_fast),
	    cmocka_unit_test(test_fast_call_fields),
	    cmocka_unit_test(test_map_from_fields),
	    cmocka_unit_test(test_unusual_frames_go_to_json_c),
	    cmocka_unit_test(test_same_errors),
	    cmocka_unit_test(test_switch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

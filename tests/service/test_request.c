/* Unit tests for service/request.c: the decoder's strictness, the
 * envelope rules and the reply writer. */
#include "config.h"

#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "request.h"

static int decode(const char *frame, struct cmp_call *call, struct cmp_fail *fail)
{
	return cmp_call_decode(frame, strlen(frame), call, fail);
}

static void test_parameters_null_or_absent(void **state)
{
	static const char *const frames[] = {
	    "{\"method\":\"a.B\"}",
	    "{\"method\":\"a.B\",\"parameters\":null}",
	    "{\"parameters\":null,\"method\":\"a.B\"}",
	    "{\"method\":\"a.B\",\"parameters\":{}}",
	};
	struct cmp_call call;
	struct cmp_fail fail;

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(frames); i++) {
		assert_int_equal(decode(frames[i], &call, &fail), 0);
		assert_string_equal(call.method, "a.B");
		assert_non_null(call.params);
		assert_true(json_object_is_type(call.params, json_type_object));
		assert_int_equal(json_object_object_length(call.params), 0);
		assert_null(call.invalid.error);
		cmp_call_clear(&call);
	}
}

/* A bad envelope is kept for after the method lookup, naming the field. */
static void test_envelope_errors_are_deferred(void **state)
{
	static const struct {
		const char *frame, *parameter;
	} cases[] = {
	    {"{\"method\":\"a.B\",\"parameters\":5}", "parameters"},
	    {"{\"method\":\"a.B\",\"parameters\":[]}", "parameters"},
	    {"{\"method\":\"a.B\",\"oneway\":1}", "oneway"},
	    {"{\"method\":\"a.B\",\"more\":\"x\"}", "more"},
	    {"{\"method\":\"a.B\",\"upgrade\":true}", "upgrade"},
	    {"{\"method\":\"a.B\",\"frob\":true}", "frob"},
	};
	struct cmp_call call;
	struct cmp_fail fail;

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(cases); i++) {
		assert_int_equal(decode(cases[i].frame, &call, &fail), 0);
		assert_string_equal(call.method, "a.B");
		assert_non_null(call.params);
		assert_string_equal(call.invalid.error, CMP_E_INVALID_PARAMETER);
		assert_string_equal(call.invalid.parameter, cases[i].parameter);
		cmp_call_clear(&call);
	}
}

static void test_malformed_frames(void **state)
{
	static const char *const frames[] = {
	    "",
	    "[]",
	    "\"x\"",
	    "{\"method\":5}",
	    "{\"parameters\":{}}",
	    "{\"method\":\"a.B\"} x",
	    "{\"method\":\"a.B\",}",
	    "{'method':'a.B'}",
	    "{\"method\":\"a.B\" /* c */}",
	    "{\"method\":\"a.B\"} // c",
	    "{\"method\":\"a.B\",\"parameters\":{\"x\":NaN}}",
	    "{\"method\":\"a.B\",\"parameters\":{\"x\":Infinity}}",
	    "{\"method\":\"a.B\\u0000zz\"}",
	    "{\"method\":\"a.B\",\"parameters\":{\"k\\u0000\":1}}",
	    "{\"method\":\"a.B\",\"parameters\":{\"x\":\"\\ud800\"}}",
	    "{\"method\":\"a.B\",\"parameters\":{\"x\":\"\\udc00\\ud800\"}}",
	    "{\"method\":\"a.B\",\"parameters\":{\"x\":\"\\ud800\\u0041\"}}",
	    "{\"method\":\"a.B\",\"parameters\":{\"x\":\"a\tb\"}}",
	    "{\"method\":\"a.B\",\"parameters\":{\"x\":\"\xff\"}}",
	    "{\"method\":\"a.B\",\"parameters\":{\"x\":\"\xc0\xaf\"}}",
	    "{\"method\":\"a.B\",\"parameters\":{\"x\":\"\xed\xa0\x80\"}}",
	    "{\"method\":\"a.B\",\"parameters\":{\"x\":\"\xf4\x90\x80\x80\"}}",
	    "{\"method\":\"a.B\",\"parameters\":{\"x\":\"\xe2\x82\"}}",
	    "{\"method\":\"a.B\",\"parameters\":{\"x\":\"\\x41\"}}",
	};
	struct cmp_call call;
	struct cmp_fail fail;

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(frames); i++) {
		if (decode(frames[i], &call, &fail) != -1) {
			fail_msg("accepted: %s", frames[i]);
		}
		assert_string_equal(fail.error, CMP_E_INVALID_PARAMETER);
		/* InvalidParameter always names a parameter, if only "". */
		assert_non_null(fail.parameter);
		assert_null(call.root);
	}
}

static void test_valid_text_is_kept(void **state)
{
	struct cmp_call call;
	struct cmp_fail fail;
	json_object *x = NULL;

	(void)state;
	assert_int_equal(decode("{\"method\":\"a.B\",\"parameters\":{\"x\":"
				"\"J\xc3\xbcrgen\\ud83d\\ude00\\\\u0000\\n\"}}",
				&call, &fail),
			 0);
	assert_true(json_object_object_get_ex(call.params, "x", &x));
	assert_string_equal(json_object_get_string(x), "J\xc3\xbcrgen\xf0\x9f\x98\x80\\u0000\n");
	cmp_call_clear(&call);
}

static void test_unknown_map_parameter_is_named(void **state)
{
	struct cmp_call call;
	struct cmp_map map;
	struct cmp_fail fail;

	(void)state;
	assert_int_equal(decode("{\"method\":\"org.certmap.Mapper.Map\",\"parameters\":"
				"{\"certificate\":\"MA==\",\"colour\":\"red\"}}",
				&call, &fail),
			 0);
	assert_int_equal(cmp_map_decode(&call, &map, &fail), -1);
	assert_string_equal(fail.error, CMP_E_INVALID_PARAMETER);
	assert_string_equal(fail.parameter, "colour");
	cmp_call_clear(&call);
}

static void test_utf8_seq(void **state)
{
	static const struct {
		const char *s;
		size_t n;
	} cases[] = {
	    {"A", 1},
	    {"\xc3\xbc", 2},
	    {"\xe2\x82\xac", 3},
	    {"\xf0\x9f\x98\x80", 4},
	    {"\xf4\x8f\xbf\xbf", 4},
	    {"\xed\x9f\xbf", 3},
	    {"\xee\x80\x80", 3},
	    {"\x80", 0},
	    {"\xc0\x80", 0},
	    {"\xc1\xbf", 0},
	    {"\xe0\x9f\xbf", 0},
	    {"\xed\xa0\x80", 0},
	    {"\xf0\x8f\xbf\xbf", 0},
	    {"\xf4\x90\x80\x80", 0},
	    {"\xf5\x80\x80\x80", 0},
	    {"\xff", 0},
	    {"\xc3", 0},
	    {"\xe2\x82", 0},
	};

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(cases); i++) {
		assert_int_equal(
		    cm_utf8_seq_len((const unsigned char *)cases[i].s, strlen(cases[i].s)),
		    cases[i].n);
	}
}

/* Whatever bytes reach the reply writer, the frame is valid UTF-8. */
static void test_reply_is_utf8(void **state)
{
	static const char bad[] = "{\"message\":\"a\xff"
				  "b\xc3\xbc\xc3\"}";
	static const char want[] = "{\"parameters\":{\"message\":\"a\xef\xbf\xbd"
				   "b\xc3\xbc\xef\xbf\xbd\"}}";
	struct cm_buf out;

	(void)state;
	cm_buf_init(&out, 4096);
	cmp_reply_params(&out, bad, sizeof(bad) - 1);
	assert_false(out.failed);
	assert_int_equal(out.len, sizeof(want));
	assert_memory_equal(out.data, want, sizeof(want));
	cm_buf_free(&out);
}

static void test_error_shapes(void **state)
{
	struct cmp_fail mnf = {.error = CMP_E_METHOD_NOT_FOUND,
			       .name_key = CMP_P_METHOD,
			       .name = "a.Bxyz",
			       .name_len = 3};
	struct cmp_fail ip = {
	    .error = CMP_E_INVALID_PARAMETER, .parameter = "user", .message = "m"};
	struct cm_buf out;

	(void)state;
	cm_buf_init(&out, 4096);
	cmp_reply_error(&out, &mnf);
	assert_string_equal(out.data, "{\"error\":\"org.varlink.service.MethodNotFound\","
				      "\"parameters\":{\"method\":\"a.B\"}}");
	out.len = 0;
	cmp_reply_error(&out, &ip);
	assert_string_equal(out.data, "{\"error\":\"org.varlink.service.InvalidParameter\","
				      "\"parameters\":{\"parameter\":\"user\",\"message\":\"m\"}}");
	cm_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parameters_null_or_absent),
	    cmocka_unit_test(test_envelope_errors_are_deferred),
	    cmocka_unit_test(test_malformed_frames),
	    cmocka_unit_test(test_valid_text_is_kept),
	    cmocka_unit_test(test_unknown_map_parameter_is_named),
	    cmocka_unit_test(test_utf8_seq),
	    cmocka_unit_test(test_reply_is_utf8),
	    cmocka_unit_test(test_error_shapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

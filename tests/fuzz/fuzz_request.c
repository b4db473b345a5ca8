/*
 * libFuzzer target: certmapd's request decoder (frame, envelope, Map
 * parameters) and its error replies. Besides memory errors it checks the
 * decoder's promises, and aborts when one is broken:
 * - a frame that decodes holds no \u0000 escape (json-c would cut a key
 *   at it) and every string in it is NUL-free, valid UTF-8;
 * - every reply written is NUL-terminated, valid UTF-8.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/utf8_ref.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A \u0000 escape: "u0000" after an odd number of backslashes. */
static bool has_nul_escape(const char *s, size_t len)
{
	for (size_t i = 0; i + 5 <= len; i++) {
		size_t k = 0;

		if (memcmp(s + i, "u0000", 5) != 0) {
			continue;
		}
		while (k < i && s[i - 1 - k] == '\\') {
			k++;
		}
		if (k % 2 == 1) {
			return true;
		}
	}
	return false;
}

static void check_strings(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_string: {
		const char *s = json_object_get_string(o);
		size_t len = (size_t)json_object_get_string_len(o);

		if (strlen(s) != len || !ref_utf8_valid(s, len)) {
			abort();
		}
		break;
	}
	case json_type_object: {
		json_object_object_foreach(o, key, v)
		{
			if (!ref_utf8_valid(key, strlen(key))) {
				abort();
			}
			check_strings(v);
		}
		break;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			check_strings(json_object_array_get_idx(o, i));
		}
		break;
	case json_type_null:
	case json_type_boolean:
	case json_type_double:
	case json_type_int:
	default: break;
	}
}

static void reply_error(struct cm_buf *out, const struct cmp_fail *fail)
{
	size_t mark = out->len;

	cmp_reply_error(out, fail);
	if (!out->failed && (out->len == mark || out->data[out->len - 1] != '\0' ||
			     !ref_utf8_valid(out->data + mark, out->len - mark - 1))) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmp_call call;
	struct cmp_map map;
	struct cmp_fail fail;
	struct cm_buf out;
	const char *frame = (const char *)data;
	const char *end = memchr(data, '\0', size);
	size_t len = end != NULL ? (size_t)(end - frame) : size;

	/* The service hands the decoder the bytes before the first NUL. */
	cm_buf_init(&out, CMP_MAX_REPLY);
	if (cmp_call_decode(frame, len, &call, &fail) != 0) {
		reply_error(&out, &fail);
		cm_buf_free(&out);
		return 0;
	}
	if (has_nul_escape(frame, len)) {
		abort();
	}
	check_strings(call.root);
	if (call.invalid.error != NULL) {
		reply_error(&out, &call.invalid);
	} else if (strcmp(call.method, "org.certmap.Mapper.Map") == 0) {
		if (cmp_map_decode(&call, &map, &fail) == 0) {
			struct certmap_request req;

			if (cmp_map_decode_certs(&map, &fail) == 0) {
				cmp_map_request(&map, &req);
			} else {
				reply_error(&out, &fail);
			}
			cmp_map_clear(&map);
		} else {
			reply_error(&out, &fail);
		}
	}
	/* The reply writer turns what is not UTF-8 into U+FFFD. */
	cmp_reply_params(&out, frame, len);
	if (!out.failed && !ref_utf8_valid(out.data, out.len - 1)) {
		abort();
	}
	cmp_call_clear(&call);
	cm_buf_free(&out);
	return 0;
}

/*
 * libFuzzer target: the request decoder's fast path (request_fast.c)
 * against json-c's tokener. Each input is decoded twice, with the fast
 * path on and off, and must give the same result: accepted or refused,
 * the same error, parameter and message, the same tree (keys in the same
 * order, every string byte for byte), the same envelope and, from the
 * Map parameters, the same fields, cache key, errors and decoded bytes.
 * A frame the fast path builds a tree for must be one json-c parses.
 * And a frame cmp_fast_map_fields() takes (the cache's key without a
 * decode) must be a Map call json-c accepts whose decoded key is the
 * same bytes, for an administrator and for anyone else, and the Map
 * cmp_map_from_fields() reads from it (a cache miss's job) the decoded
 * Map, certificate bytes included.
 * Aborts on the first difference.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"
#include "request_fast.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void differ(const char *what)
{
	fprintf(stderr, "fast path and json-c differ: %s\n", what);
	abort();
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool json_str_eq(json_object *a, json_object *b)
{
	return json_object_get_string_len(a) == json_object_get_string_len(b) &&
	       memcmp(json_object_get_string(a), json_object_get_string(b),
		      (size_t)json_object_get_string_len(a)) == 0;
}

static bool slice_eq(const struct cmp_slice *a, const struct cmp_slice *b)
{
	return (a->p == NULL) == (b->p == NULL) && a->len == b->len &&
	       (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static bool tree_eq(json_object *a, json_object *b);

static bool object_eq(json_object *a, json_object *b)
{
	struct json_object_iterator ia = json_object_iter_begin(a);
	struct json_object_iterator ib = json_object_iter_begin(b);
	struct json_object_iterator ea = json_object_iter_end(a);
	struct json_object_iterator eb = json_object_iter_end(b);

	/* In order: the decoder reports the first bad field it meets. */
	for (; !json_object_iter_equal(&ia, &ea); json_object_iter_next(&ia)) {
		if (json_object_iter_equal(&ib, &eb) ||
		    strcmp(json_object_iter_peek_name(&ia), json_object_iter_peek_name(&ib)) != 0 ||
		    !tree_eq(json_object_iter_peek_value(&ia), json_object_iter_peek_value(&ib))) {
			return false;
		}
		json_object_iter_next(&ib);
	}
	return json_object_iter_equal(&ib, &eb);
}

static bool tree_eq(json_object *a, json_object *b)
{
	if (json_object_get_type(a) != json_object_get_type(b)) {
		return false;
	}
	switch (json_object_get_type(a)) {
	case json_type_null: return true;
	case json_type_boolean: return json_object_get_boolean(a) == json_object_get_boolean(b);
	case json_type_int: return json_object_get_int64(a) == json_object_get_int64(b);
	case json_type_double:
		return memcmp(&(double){json_object_get_double(a)},
			      &(double){json_object_get_double(b)}, sizeof(double)) == 0;
	case json_type_string: return json_str_eq(a, b);
	case json_type_object: return object_eq(a, b);
	case json_type_array:
		if (json_object_array_length(a) != json_object_array_length(b)) {
			return false;
		}
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			if (!tree_eq(json_object_array_get_idx(a, i),
				     json_object_array_get_idx(b, i))) {
				return false;
			}
		}
		return true;
	default: return false;
	}
}

static void check_fail(const struct cmp_fail *a, const struct cmp_fail *b)
{
	if (!str_eq(a->error, b->error) || !str_eq(a->parameter, b->parameter) ||
	    !str_eq(a->message, b->message) || !str_eq(a->name_key, b->name_key) ||
	    a->name_len != b->name_len ||
	    (a->name_len > 0 && memcmp(a->name, b->name, a->name_len) != 0)) {
		differ("error");
	}
}

static void check_bytes(const unsigned char *a, size_t a_len, const unsigned char *b,
			size_t b_len)
{
	if (a_len != b_len || (a_len > 0 && memcmp(a, b, a_len) != 0)) {
		differ("decoded bytes");
	}
}

static void check_certs(struct cmp_map *a, struct cmp_map *b)
{
	struct cmp_fail fa, fb;
	int ra = cmp_map_decode_certs(a, &fa), rb = cmp_map_decode_certs(b, &fb);

	if (ra != rb) {
		differ("certificate decoding");
	}
	if (ra != 0) {
		check_fail(&fa, &fb);
		return;
	}
	check_bytes(a->cert, a->cert_len, b->cert, b->cert_len);
	for (size_t i = 0; i < a->n_chain; i++) {
		check_bytes(a->chain[i], a->chain_len[i], b->chain[i], b->chain_len[i]);
	}
	check_bytes(a->hint_data, a->hint_len, b->hint_data, b->hint_len);
}

/* The Map parameters of both calls, whatever their method. */
static void check_map(const struct cmp_call *ca, const struct cmp_call *cb)
{
	struct cmp_map a, b;
	struct cmp_fail fa, fb;
	int ra = cmp_map_decode(ca, &a, &fa), rb = cmp_map_decode(cb, &b, &fb);

	if (ra != rb) {
		differ("Map parameters accepted by one only");
	}
	if (ra != 0) {
		check_fail(&fa, &fb);
		return;
	}
	if (a.key_len != b.key_len || memcmp(a.key, b.key, a.key_len) != 0 ||
	    !str_eq(a.user, b.user) || !str_eq(a.upn_hint, b.upn_hint) || !str_eq(a.domain_hint, b.domain_hint) ||
	    a.trace != b.trace || a.n_chain != b.n_chain || !slice_eq(&a.cert_text, &b.cert_text) ||
	    !slice_eq(&a.hint_text, &b.hint_text)) {
		differ("Map parameters");
	}
	for (size_t i = 0; i < a.n_chain; i++) {
		if (!slice_eq(&a.chain_text[i], &b.chain_text[i])) {
			differ("chain");
		}
	}
	check_certs(&a, &b);
	cmp_map_clear(&a);
	cmp_map_clear(&b);
}

static void check_calls(const struct cmp_call *a, const struct cmp_call *b)
{
	if (!str_eq(a->method, b->method) || a->oneway != b->oneway || a->more != b->more ||
	    !tree_eq(a->root, b->root) || !tree_eq(a->params, b->params)) {
		differ("decoded call");
	}
	check_fail(&a->invalid, &b->invalid);
	if (a->invalid.error == NULL) {
		check_map(a, b);
	}
}

/* The Map read from the frame's fields (the service's job for a cache
 * miss) must be full, the full decode's (trace as do_map() leaves it). */
static void check_from_fields(const char *frame, size_t len, bool admin, struct cmp_map *full)
{
	struct cmp_key_fields f;
	struct cmp_map m;
	char *copy = malloc(len + 1);

	cmp_fast_set_enabled(true);
	if (copy == NULL || !cmp_fast_map_fields(frame, len, &f)) {
		differ("fields for a frame that has a key");
	}
	memcpy(copy, frame, len);
	copy[len] = '\0';
	f.trace = f.trace && admin;
	if (cmp_map_from_fields(&f, frame, copy, &m) != 0) {
		abort();
	}
	if (m.key_len != full->key_len || memcmp(m.key, full->key, m.key_len) != 0 ||
	    !str_eq(m.user, full->user) || !str_eq(m.upn_hint, full->upn_hint) ||
	    !str_eq(m.domain_hint, full->domain_hint) || m.trace != full->trace ||
	    m.n_chain != full->n_chain || !slice_eq(&m.cert_text, &full->cert_text) ||
	    !slice_eq(&m.hint_text, &full->hint_text)) {
		differ("the Map read from the fields is not the decoded one");
	}
	check_certs(&m, full);
	cmp_map_clear(&m);
	free(copy);
	cmp_fast_set_enabled(false);
}

/* The cache key of a frame as the service takes it without a decode
 * (dispatch.c's fast_map): false when the frame is not of the shape. */
static bool fast_key(const char *frame, size_t len, bool admin, unsigned char *key, size_t cap,
		     size_t *key_len)
{
	struct cmp_key_fields f;

	*key_len = 0;
	if (!cmp_fast_map_fields(frame, len, &f)) {
		return false;
	}
	f.trace = f.trace && admin;
	*key_len = cmp_key_write(&f, key, cap);
	return *key_len <= cap;
}

/* What the fast path's key is must be what the full decode gives. */
static void check_fast_key(const char *frame, size_t len, bool admin)
{
	static unsigned char key[CMP_MAX_REQUEST + 64];
	size_t key_len;
	struct cmp_call call;
	struct cmp_fail fail;
	struct cmp_map m;

	cmp_fast_set_enabled(true);
	/* A room one byte short must be refused, not overrun (ASan). */
	if (fast_key(frame, len, admin, key, sizeof(key), &key_len) && key_len > 0) {
		unsigned char *tight = malloc(key_len - 1);
		size_t n;

		if (tight == NULL || fast_key(frame, len, admin, tight, key_len - 1, &n)) {
			differ("a key longer than its room");
		}
		free(tight);
	}
	if (!fast_key(frame, len, admin, key, sizeof(key), &key_len)) {
		return;
	}
	cmp_fast_set_enabled(false);
	if (cmp_call_decode(frame, len, &call, &fail) != 0 || call.invalid.error != NULL ||
	    strcmp(call.method, CMP_M_MAP) != 0 || call.oneway) {
		differ("a key without decoding for a frame that is no plain Map call");
	}
	if (cmp_map_decode(&call, &m, &fail) != 0) {
		differ("a key without decoding for Map parameters the decoder refuses");
	}
	if (m.trace && !admin) {
		m.trace = false;
		if (cmp_map_key(&m) != 0) {
			abort();
		}
	}
	if (m.key_len != key_len || memcmp(m.key, key, key_len) != 0) {
		differ("the key without decoding is not the decoded request's");
	}
	check_from_fields(frame, len, admin, &m);
	cmp_map_clear(&m);
	cmp_call_clear(&call);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *frame = (const char *)data;
	const char *end = memchr(data, '\0', size);
	size_t len = end != NULL ? (size_t)(end - frame) : size;
	struct cmp_call fast_call, ref_call;
	struct cmp_fail fast_fail, ref_fail;
	json_object *fast;
	int fast_rv, ref_rv;

	/* The service hands the decoder the bytes before the first NUL. */
	cmp_fast_set_enabled(true);
	fast = cmp_fast_parse(frame, len);
	fast_rv = cmp_call_decode(frame, len, &fast_call, &fast_fail);
	cmp_fast_set_enabled(false);
	if (cmp_fast_parse(frame, len) != NULL) {
		differ("the fast path cannot be turned off");
	}
	ref_rv = cmp_call_decode(frame, len, &ref_call, &ref_fail);
	if (fast_rv != ref_rv) {
		differ("accepted by one only");
	}
	/* After a parse only the method can be wrong: a frame the fast path
	 * takes is one json-c parses too. */
	if (fast != NULL && ref_rv != 0 && !str_eq(ref_fail.parameter, CMP_F_METHOD)) {
		differ("a fast tree for a frame json-c refuses");
	}
	if (ref_rv != 0) {
		check_fail(&fast_fail, &ref_fail);
	} else {
		check_calls(&fast_call, &ref_call);
		cmp_call_clear(&fast_call);
		cmp_call_clear(&ref_call);
	}
	json_object_put(fast);
	check_fast_key(frame, len, true);
	check_fast_key(frame, len, false);
	return 0;
}

/* The certmapd request codec: frames, envelope, Map parameters, replies. */
#include "config.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "request.h"
#include "request_fast.h"

static int hex4(const char *p, size_t len, unsigned int *v)
{
	*v = 0;
	if (len < 4) {
		return -1;
	}
	for (int i = 0; i < 4; i++) {
		int c = (unsigned char)p[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;

		if (d < 0) {
			return -1;
		}
		*v = *v << 4 | (unsigned int)d;
	}
	return 0;
}

/* One escape sequence at p (after the backslash); its length, or 0 when
 * it is refused: \u0000 (a NUL inside a string) and lone surrogates. */
static size_t escape_len(const char *p, size_t len)
{
	unsigned int u, lo;

	if (len >= 1 && strchr("\"\\/bfnrt", p[0]) != NULL && p[0] != '\0') {
		return 1;
	}
	if (len < 5 || p[0] != 'u' || hex4(p + 1, len - 1, &u) != 0 || u == 0) {
		return 0;
	}
	if (u >= 0xdc00 && u <= 0xdfff) {
		return 0;
	}
	if (u < 0xd800 || u > 0xdbff) {
		return 5;
	}
	/* A high surrogate must be followed by a low one. */
	if (len < 11 || p[5] != '\\' || p[6] != 'u' || hex4(p + 7, len - 7, &lo) != 0 ||
	    lo < 0xdc00 || lo > 0xdfff) {
		return 0;
	}
	return 11;
}

/*
 * The text rules json-c's strict mode does not check, checked on the raw
 * frame so that they cover keys too (json-c cuts a key at its first
 * \u0000 without a word): UTF-8 as RFC 3629 defines it, no control
 * characters or NUL escapes in strings, and outside strings only the bytes
 * of JSON's grammar (so no NaN or Infinity). The structure is left to
 * json-c.
 */
static const char *frame_text_check(const char *p, size_t len)
{
	static const char outside[] = "{}[],: \t\r\n-+.0123456789eEtrufalsn\"";
	bool in_string = false;

	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)p[i];
		size_t n = 1;

		if (!in_string) {
			if (c == '\0' || strchr(outside, c) == NULL) {
				return "the message is not strict JSON";
			}
			in_string = c == '"';
		} else if (c == '"') {
			in_string = false;
		} else if (c == '\\') {
			if ((n = escape_len(p + i + 1, len - i - 1)) == 0) {
				return "a string holds a NUL, a lone surrogate or a bad escape";
			}
			n++;
		} else if (c < 0x20) {
			return "a string holds a raw control character";
		} else if ((n = cm_utf8_seq_len((const unsigned char *)p + i, len - i)) == 0) {
			return "the message is not valid UTF-8";
		}
		i += n;
	}
	return NULL;
}

static int reject(struct cmp_fail *fail, const char *error, const char *parameter,
		  const char *message)
{
	memset(fail, 0, sizeof(*fail));
	fail->error = error;
	fail->parameter = parameter;
	fail->message = message;
	return -1;
}

static int invalid(struct cmp_fail *fail, const char *parameter, const char *message)
{
	return reject(fail, CMP_E_INVALID_PARAMETER, parameter, message);
}

/* An envelope error is kept for later (the first one only): the method is
 * looked up before it is reported. */
static void defer(struct cmp_call *call, const char *parameter, const char *message)
{
	if (call->invalid.error == NULL) {
		invalid(&call->invalid, parameter, message);
	}
}

static void decode_flag(struct cmp_call *call, const char *name, json_object *v, bool *out)
{
	if (!json_object_is_type(v, json_type_boolean)) {
		defer(call, name, "must be a boolean");
		return;
	}
	*out = json_object_get_boolean(v);
}

static int decode_envelope_field(struct cmp_call *call, const char *key, json_object *v,
				 struct cmp_fail *fail)
{
	bool upgrade = false;

	if (strcmp(key, CMP_F_METHOD) == 0) {
		if (!json_object_is_type(v, json_type_string)) {
			return invalid(fail, CMP_F_METHOD, "method must be a string");
		}
		call->method = json_object_get_string(v);
	} else if (strcmp(key, CMP_F_PARAMETERS) == 0) {
		/* null, like an absent "parameters", is the empty object. */
		if (json_object_is_type(v, json_type_object)) {
			call->params = v;
		} else if (!json_object_is_type(v, json_type_null)) {
			defer(call, CMP_F_PARAMETERS, "parameters must be an object");
		}
	} else if (strcmp(key, CMP_F_ONEWAY) == 0) {
		decode_flag(call, CMP_F_ONEWAY, v, &call->oneway);
	} else if (strcmp(key, CMP_F_MORE) == 0) {
		decode_flag(call, CMP_F_MORE, v, &call->more);
	} else if (strcmp(key, CMP_F_UPGRADE) == 0) {
		decode_flag(call, CMP_F_UPGRADE, v, &upgrade);
		if (upgrade) {
			/* Connection upgrades hand the socket to another protocol: none exists. */
			defer(call, CMP_F_UPGRADE, "no method supports upgrade");
		}
	} else {
		defer(call, key, "unknown field in the message");
	}
	return 0;
}

static bool only_space(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') {
			return false;
		}
	}
	return true;
}

/* Parses the frame into one JSON object; -1 and *fail if it is not one. */
static int parse_frame(const char *frame, size_t len, json_object **root, struct cmp_fail *fail)
{
	json_tokener *tok = json_tokener_new_ex(CMP_MAX_JSON_DEPTH);
	const char *why;
	int rv = -1;

	*root = NULL;
	if (tok == NULL) {
		return reject(fail, CMP_E_BACKEND_UNAVAILABLE, NULL, "out of memory");
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	if ((why = frame_text_check(frame, len)) != NULL) {
		invalid(fail, "", why);
		goto out;
	}
	*root = json_tokener_parse_ex(tok, frame, (int)len);
	if (*root == NULL || json_tokener_get_error(tok) != json_tokener_success) {
		invalid(fail, "", "the message is not one complete JSON object");
		goto out;
	}
	if (!only_space(frame + json_tokener_get_parse_end(tok),
			len - json_tokener_get_parse_end(tok))) {
		invalid(fail, "", "trailing bytes after the JSON object");
		goto out;
	}
	if (!json_object_is_type(*root, json_type_object)) {
		invalid(fail, "", "the message is not a JSON object");
		goto out;
	}
	rv = 0;
out:
	if (rv != 0) {
		json_object_put(*root);
		*root = NULL;
	}
	json_tokener_free(tok);
	return rv;
}

int cmp_call_decode(const char *frame, size_t len, struct cmp_call *call, struct cmp_fail *fail)
{
	json_object *root = NULL;
	int rv = -1;

	memset(call, 0, sizeof(*call));
	memset(fail, 0, sizeof(*fail));
	if (len + 1 > CMP_MAX_REQUEST) {
		return reject(fail, CMP_E_TOO_LARGE, NULL, "the request is over the size limit");
	}
	if (memchr(frame, '\0', len) != NULL) {
		return invalid(fail, "", "the message holds a NUL byte");
	}
	/* The common shape skips json-c's tokener; any other goes through it. */
	if ((root = cmp_fast_parse(frame, len)) == NULL &&
	    parse_frame(frame, len, &root, fail) != 0) {
		return -1;
	}
	call->root = root;
	json_object_object_foreach(root, key, v)
	{
		if (decode_envelope_field(call, key, v, fail) != 0) {
			goto out;
		}
	}
	if (call->method == NULL) {
		rv = invalid(fail, CMP_F_METHOD, "the message has no method");
		goto out;
	}
	if (call->params == NULL) {
		call->params = json_object_new_object();
		if (call->params == NULL ||
		    json_object_object_add(root, CMP_F_PARAMETERS, call->params) != 0) {
			rv = reject(fail, CMP_E_BACKEND_UNAVAILABLE, NULL, "out of memory");
			goto out;
		}
	}
	root = NULL;
	rv = 0;
out:
	if (rv != 0) {
		call->root = NULL;
		cmp_call_clear(call);
	}
	json_object_put(root);
	return rv;
}

void cmp_call_clear(struct cmp_call *call)
{
	json_object_put(call->root);
	memset(call, 0, sizeof(*call));
}

/* ---------------------------------------------------------------- Map */

/* Base64 (space, tab, CR, LF allowed anywhere), padded, not empty; -1 on
 * a bad character, length or padding. */
static int base64_decode(const char *s, size_t len, unsigned char **out, size_t *out_len)
{
	if (len > CMP_MAX_REQUEST) {
		return -1;
	}
	return cm_base64_decode(s, len, CM_B64_SPACE, CMP_MAX_REQUEST, out,
				out_len) == CM_B64_OK
		   ? 0
		   : -1;
}

/*
 * A certificate is PEM text or base64 DER. PEM that does not decode is
 * kept as given so that the library answers invalid_certificate, as
 * certmapctl test does; base64 that does not decode is a bad parameter.
 */
static int decode_cert(const struct cmp_slice *text, const char *name, unsigned char **out,
		       size_t *out_len, struct cmp_fail *fail)
{
	const char *s = text->p;
	size_t len = text->len;

	if (cmp_is_pem(s, len)) {
		if (cm_cert_to_der((const unsigned char *)s, len, out, out_len, NULL) == 0) {
			return 0;
		}
		*out = malloc(len);
		if (*out == NULL) {
			return reject(fail, CMP_E_BACKEND_UNAVAILABLE, NULL, "out of memory");
		}
		memcpy(*out, s, len);
		*out_len = len;
		return 0;
	}
	if (base64_decode(s, len, out, out_len) != 0) {
		return invalid(fail, name, "the certificate is neither PEM nor base64 DER");
	}
	if (*out_len > CMP_MAX_CERT) {
		free(*out);
		*out = NULL;
		return reject(fail, CMP_E_TOO_LARGE, name,
			      "the certificate is over the size limit");
	}
	return 0;
}

static struct cmp_slice json_slice(json_object *v)
{
	struct cmp_slice s = {json_object_get_string(v), (size_t)json_object_get_string_len(v)};

	return s;
}

/* A certificate parameter: a non-empty string, kept as sent. */
static int take_cert(json_object *v, const char *name, struct cmp_slice *out,
		     struct cmp_fail *fail)
{
	if (!json_object_is_type(v, json_type_string)) {
		return invalid(fail, name, "a certificate must be a string");
	}
	if (json_object_get_string_len(v) == 0) {
		return invalid(fail, name, "the certificate is empty");
	}
	*out = json_slice(v);
	return 0;
}

static int decode_chain(json_object *v, struct cmp_map *m, struct cmp_fail *fail)
{
	size_t n;

	if (json_object_is_type(v, json_type_null)) {
		return 0;
	}
	if (!json_object_is_type(v, json_type_array)) {
		return invalid(fail, CMP_P_CHAIN, "chain must be a list of certificates");
	}
	n = json_object_array_length(v);
	if (n > CMP_MAX_CHAIN) {
		return reject(fail, CMP_E_TOO_LARGE, CMP_P_CHAIN,
			      "the chain has too many certificates");
	}
	for (size_t i = 0; i < n; i++) {
		if (take_cert(json_object_array_get_idx(v, i), CMP_P_CHAIN, &m->chain_text[i],
			      fail) != 0) {
			return -1;
		}
		m->n_chain++;
	}
	return 0;
}

/* An optional name: null or a string of at most CMP_MAX_NAME bytes, no NUL. */
static int decode_name(json_object *v, const char *name, const char **out, struct cmp_fail *fail)
{
	size_t len;

	if (json_object_is_type(v, json_type_null)) {
		return 0;
	}
	if (!json_object_is_type(v, json_type_string)) {
		return invalid(fail, name, "must be a string");
	}
	len = (size_t)json_object_get_string_len(v);
	if (len > CMP_MAX_NAME) {
		return reject(fail, CMP_E_TOO_LARGE, name, "the name is over the size limit");
	}
	if (len == 0 || strlen(json_object_get_string(v)) != len) {
		return invalid(fail, name, "the name is empty or holds a NUL byte");
	}
	*out = json_object_get_string(v);
	return 0;
}

/* user_mapping_data: null, or a string kept as sent (decoded, like the
 * certificates, only when the cache has no answer). */
static int take_hint_data(json_object *v, struct cmp_slice *out, struct cmp_fail *fail)
{
	if (json_object_is_type(v, json_type_null)) {
		return 0;
	}
	if (!json_object_is_type(v, json_type_string)) {
		return invalid(fail, CMP_P_USER_MAPPING_DATA,
			       "user_mapping_data must be a base64 string");
	}
	*out = json_slice(v);
	return 0;
}

/* The raw RFC 4681 bytes: base64, at most CMP_MAX_HINT_DATA bytes. Their
 * content is libcertmap's to judge: a malformed list, the empty one
 * included, is the refusal hint_invalid, as in-process. */
static int decode_hint_data(struct cmp_map *m, struct cmp_fail *fail)
{
	if (m->hint_text.len == 0) {
		return 0;
	}
	if (base64_decode(m->hint_text.p, m->hint_text.len, &m->hint_data, &m->hint_len) != 0) {
		return invalid(fail, CMP_P_USER_MAPPING_DATA, "user_mapping_data is not base64");
	}
	if (m->hint_len > CMP_MAX_HINT_DATA) {
		return reject(fail, CMP_E_TOO_LARGE, CMP_P_USER_MAPPING_DATA,
			      "user_mapping_data is over the size limit");
	}
	return 0;
}

static int decode_map_field(struct cmp_map *m, const char *key, json_object *v,
			    struct cmp_fail *fail)
{
	if (strcmp(key, CMP_P_CERTIFICATE) == 0) {
		return take_cert(v, CMP_P_CERTIFICATE, &m->cert_text, fail);
	}
	if (strcmp(key, CMP_P_CHAIN) == 0) {
		return decode_chain(v, m, fail);
	}
	if (strcmp(key, CMP_P_USER) == 0) {
		return decode_name(v, CMP_P_USER, &m->user, fail);
	}
	if (strcmp(key, CMP_P_UPN_HINT) == 0) {
		return decode_name(v, CMP_P_UPN_HINT, &m->upn_hint, fail);
	}
	if (strcmp(key, CMP_P_DOMAIN_HINT) == 0) {
		return decode_name(v, CMP_P_DOMAIN_HINT, &m->domain_hint, fail);
	}
	if (strcmp(key, CMP_P_USER_MAPPING_DATA) == 0) {
		return take_hint_data(v, &m->hint_text, fail);
	}
	if (strcmp(key, CMP_P_TRACE) == 0) {
		if (!json_object_is_type(v, json_type_boolean)) {
			return invalid(fail, CMP_P_TRACE, "trace must be a boolean");
		}
		m->trace = json_object_get_boolean(v);
		return 0;
	}
	return invalid(fail, key, "unknown parameter");
}

/* The key being written: what fits in cap, and the length it needs. */
struct key_out {
	unsigned char *p;
	size_t cap, len;
};

static void key_add(struct key_out *k, const void *p, size_t len)
{
	if (k->len <= k->cap && len <= k->cap - k->len) {
		memcpy(k->p + k->len, p, len);
	}
	k->len += len;
}

/* Length prefixes keep ("ab","c") and ("a","bc") apart; an absent field
 * is the one byte 0xff, which no length prefix starts with. */
static void key_field(struct key_out *k, const struct cmp_slice *f)
{
	uint64_t n = f->len;

	if (f->p == NULL) {
		key_add(k, "\xff", 1);
		return;
	}
	key_add(k, &n, sizeof(n));
	key_add(k, f->p, f->len);
}

size_t cmp_key_write(const struct cmp_key_fields *f, unsigned char *out, size_t cap)
{
	struct key_out k = {out, out != NULL ? cap : 0, 0};
	uint64_t n_chain = f->n_chain;
	unsigned char flag = f->trace ? 1 : 0;

	key_field(&k, &f->cert);
	key_add(&k, &n_chain, sizeof(n_chain));
	for (size_t i = 0; i < f->n_chain; i++) {
		key_field(&k, &f->chain[i]);
	}
	key_field(&k, &f->user);
	key_field(&k, &f->upn_hint);
	key_field(&k, &f->domain_hint);
	key_field(&k, &f->hint_data);
	key_add(&k, &flag, 1);
	return k.len;
}

static struct cmp_slice name_slice(const char *name)
{
	struct cmp_slice s = {name, name != NULL ? strlen(name) : 0};

	return s;
}

int cmp_map_key(struct cmp_map *m)
{
	struct cmp_key_fields f = {
	    .cert = m->cert_text,
	    .n_chain = m->n_chain,
	    .user = name_slice(m->user),
	    .upn_hint = name_slice(m->upn_hint),
	    .domain_hint = name_slice(m->domain_hint),
	    .hint_data = m->hint_text,
	    .trace = m->trace,
	};
	size_t n;

	for (size_t i = 0; i < m->n_chain; i++) {
		f.chain[i] = m->chain_text[i];
	}
	free(m->key);
	m->key_len = 0;
	n = cmp_key_write(&f, NULL, 0);
	if ((m->key = malloc(n)) == NULL) {
		return -1;
	}
	m->key_len = cmp_key_write(&f, m->key, n);
	return 0;
}

int cmp_map_decode(const struct cmp_call *call, struct cmp_map *m, struct cmp_fail *fail)
{
	memset(m, 0, sizeof(*m));
	json_object_object_foreach(call->params, key, v)
	{
		if (decode_map_field(m, key, v, fail) != 0) {
			goto fail;
		}
	}
	if (m->cert_text.p == NULL) {
		invalid(fail, CMP_P_CERTIFICATE, "the certificate is missing");
		goto fail;
	}
	if (cmp_map_key(m) != 0) {
		reject(fail, CMP_E_BACKEND_UNAVAILABLE, NULL, "cannot hash the request");
		goto fail;
	}
	return 0;
fail:
	cmp_map_clear(m);
	return -1;
}

/* f's slice as the same bytes in copy; a name also ends in a NUL there. */
static struct cmp_slice rebase(struct cmp_slice f, const char *frame, char *copy, bool name)
{
	struct cmp_slice s = {NULL, 0};

	if (f.p != NULL) {
		s.p = copy + (f.p - frame);
		s.len = f.len;
		if (name) {
			copy[f.p - frame + f.len] = '\0';
		}
	}
	return s;
}

int cmp_map_from_fields(const struct cmp_key_fields *f, const char *frame, char *copy,
			struct cmp_map *m)
{
	memset(m, 0, sizeof(*m));
	m->cert_text = rebase(f->cert, frame, copy, false);
	m->n_chain = f->n_chain;
	for (size_t i = 0; i < f->n_chain; i++) {
		m->chain_text[i] = rebase(f->chain[i], frame, copy, false);
	}
	m->user = rebase(f->user, frame, copy, true).p;
	m->upn_hint = rebase(f->upn_hint, frame, copy, true).p;
	m->domain_hint = rebase(f->domain_hint, frame, copy, true).p;
	m->hint_text = rebase(f->hint_data, frame, copy, false);
	m->trace = f->trace;
	return cmp_map_key(m);
}

int cmp_map_decode_certs(struct cmp_map *m, struct cmp_fail *fail)
{
	if (decode_cert(&m->cert_text, CMP_P_CERTIFICATE, &m->cert, &m->cert_len, fail) != 0) {
		return -1;
	}
	for (size_t i = 0; i < m->n_chain; i++) {
		if (decode_cert(&m->chain_text[i], CMP_P_CHAIN, &m->chain[i], &m->chain_len[i],
				fail) != 0) {
			return -1;
		}
	}
	if (m->hint_text.p != NULL && decode_hint_data(m, fail) != 0) {
		return -1;
	}
	return 0;
}

void cmp_map_drop_decoded(struct cmp_map *m)
{
	free(m->cert);
	m->cert = NULL;
	m->cert_len = 0;
	for (size_t i = 0; i < m->n_chain; i++) {
		free(m->chain[i]);
		m->chain[i] = NULL;
		m->chain_len[i] = 0;
	}
	free(m->hint_data);
	m->hint_data = NULL;
	m->hint_len = 0;
}

void cmp_map_clear(struct cmp_map *m)
{
	cmp_map_drop_decoded(m);
	free(m->key);
	memset(m, 0, sizeof(*m));
}

void cmp_map_request(const struct cmp_map *m, struct certmap_request *req)
{
	memset(req, 0, sizeof(*req));
	req->cert = m->cert;
	req->cert_len = m->cert_len;
	req->chain = (const unsigned char *const *)m->chain;
	req->chain_len = m->chain_len;
	req->n_chain = m->n_chain;
	req->user = m->user;
	req->upn_hint = m->upn_hint;
	req->domain_hint = m->domain_hint;
	req->flags = m->trace ? CERTMAP_REQ_TRACE : 0;
	if (m->hint_text.p != NULL) {
		req->flags |= CERTMAP_REQ_HINT_DATA;
		req->user_mapping_data = m->hint_data;
		req->user_mapping_data_len = m->hint_len;
	}
}

/* ---------------------------------------------------------------- replies */

void cmp_reply_raw(struct cm_buf *out, const char *head, const char *json, size_t len)
{
	static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
	const unsigned char *p = (const unsigned char *)json;
	size_t run = 0;

	cm_buf_adds(out, head);
	for (size_t i = 0; i < len;) {
		size_t n = cm_utf8_seq_len(p + i, len - i);

		if (n > 0) {
			i += n;
			run += n;
			continue;
		}
		cm_buf_add(out, p + i - run, run);
		cm_buf_add(out, replacement, sizeof(replacement) - 1);
		run = 0;
		i++;
	}
	cm_buf_add(out, p + len - run, run);
	cm_buf_add(out, "}", 2); /* the brace and the NUL terminator */
}

void cmp_reply_params(struct cm_buf *out, const char *params_json, size_t len)
{
	cmp_reply_raw(out, "{\"" CMP_F_PARAMETERS "\":", params_json, len);
}

void cmp_reply_error(struct cm_buf *out, const struct cmp_fail *fail)
{
	json_object *p = json_object_new_object();
	char head[160];
	const char *s;
	int n;

	n = snprintf(head, sizeof(head),
		     "{\"" CMP_F_ERROR "\":\"%s\",\"" CMP_F_PARAMETERS "\":", fail->error);
	if (p == NULL || n < 0 || (size_t)n >= sizeof(head)) {
		out->failed = true;
		goto out;
	}
	if (fail->parameter != NULL) {
		json_object_object_add(p, CMP_P_PARAMETER, json_object_new_string(fail->parameter));
	}
	if (fail->name_key != NULL && fail->name != NULL) {
		json_object_object_add(p, fail->name_key,
				       json_object_new_string_len(fail->name, (int)fail->name_len));
	}
	if (fail->message != NULL) {
		json_object_object_add(p, CMP_P_MESSAGE, json_object_new_string(fail->message));
	}
	s = json_object_to_json_string_ext(p,
					   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	cmp_reply_raw(out, head, s, strlen(s));
out:
	json_object_put(p);
}

/*
 * certmapd's HTTP answers (see http_answer.h): routing, the Map frame of
 * GET /auth, and its reply as status and X-Certmap-* headers. The request
 * is attacker-controlled bytes and nothing here trusts it: a header sent
 * twice or that does not decode is a 400 that never maps, and no answer
 * header carries a request byte unescaped.
 */
#include "config.h"

#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_answer.h"
#include "http_cert.h"
#include "map_frame.h"
#include "protocol.h"

enum {
	H_OK = 200,
	H_BAD_REQUEST = 400,
	H_UNAUTHORIZED = 401,
	H_FORBIDDEN = 403,
	H_NOT_FOUND = 404,
	H_METHOD_NOT_ALLOWED = 405,
	H_INTERNAL_ERROR = 500,
	H_UNAVAILABLE = 503,
};

/* ---------------------------------------------------------------- the answer */

void cmd_hans_init(struct cmd_hans *a)
{
	memset(a, 0, sizeof(*a));
	a->code = H_INTERNAL_ERROR;
	a->type = "text/plain; charset=utf-8";
	cm_buf_init(&a->body, 64 * 1024);
}

static void clear_headers(struct cmd_hans *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->value[i]);
	}
	a->n = 0;
}

void cmd_hans_free(struct cmd_hans *a)
{
	clear_headers(a);
	cm_buf_free(&a->body);
}

/* Nothing to say but the status: no half-built answer goes out. */
static void fail(struct cmd_hans *a)
{
	clear_headers(a);
	a->code = H_INTERNAL_ERROR;
	a->type = "text/plain; charset=utf-8";
	a->body.len = 0;
	a->failed = true;
}

void cmd_hans_header(struct cmd_hans *a, const char *name, const char *value)
{
	char *v;

	if (a->failed) {
		return;
	}
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		if (*p < 0x20 || *p > 0x7e) {
			fail(a);
			return;
		}
	}
	if (a->n == CMD_HANS_HEADERS || value[0] == '\0' || (v = strdup(value)) == NULL) {
		fail(a);
		return;
	}
	a->name[a->n] = name;
	a->value[a->n++] = v;
}

void cmd_hans_text(struct cmd_hans *a, unsigned int code, const char *text)
{
	if (a->failed) {
		return;
	}
	a->code = code;
	a->type = "text/plain; charset=utf-8";
	a->body.len = 0;
	cm_buf_adds(&a->body, text);
}

/* ---------------------------------------------------------------- the reply */

/* A header value: printable ASCII but '%' and ','; the rest %XX, so that
 * a name with odd bytes can neither break the header nor the list. */
static void add_header_value(struct cm_buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x21 || *p > 0x7e || *p == '%' || *p == ',') {
			cm_buf_printf(b, "%%%02X", *p);
		} else {
			cm_buf_addc(b, (char)*p);
		}
	}
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string)) {
		return NULL;
	}
	return json_object_get_string(v);
}

/* The reason code as a header value (it is one of ours, but check). */
static const char *reason_token(const char *r)
{
	if (r == NULL || r[0] == '\0' || strspn(r, "abcdefghijklmnopqrstuvwxyz_") != strlen(r)) {
		return "error";
	}
	return r;
}

/* name: the escaped string at key in p; false when it does not fit. */
static bool escaped_header(struct cmd_hans *a, const char *name, json_object *p, const char *key)
{
	struct cm_buf b;
	const char *s = jstr(p, key);
	bool ok;

	cm_buf_init(&b, 4096);
	add_header_value(&b, s != NULL ? s : "");
	cm_buf_addc(&b, '\0');
	ok = !b.failed && b.len > 1;
	if (ok) {
		cmd_hans_header(a, name, b.data);
	}
	cm_buf_free(&b);
	return ok;
}

static void answer_mapped(struct cmd_hans *a, json_object *p)
{
	struct cm_buf groups;
	json_object *g = NULL, *u = NULL;
	char uid[32];

	a->code = H_OK;
	cm_buf_adds(&a->body, "mapped\n");
	if (!escaped_header(a, "X-Certmap-User", p, "user")) {
		cmd_hans_text(a, H_INTERNAL_ERROR, "answer too large\n");
		return;
	}
	cm_buf_init(&groups, 64 * 1024);
	if (json_object_object_get_ex(p, "groups", &g) && json_object_is_type(g, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(g); i++) {
			json_object *e = json_object_array_get_idx(g, i);

			if (json_object_is_type(e, json_type_string)) {
				if (groups.len > 0) {
					cm_buf_addc(&groups, ',');
				}
				add_header_value(&groups, json_object_get_string(e));
			}
		}
	}
	cm_buf_addc(&groups, '\0');
	/* No groups (an account without named groups, a certificate-only
	 * identity whose values group_map does not list): no header, as an
	 * empty value cannot be sent. */
	if (groups.failed) {
		cm_buf_free(&groups);
		clear_headers(a);
		cmd_hans_text(a, H_INTERNAL_ERROR, "answer too large\n");
		return;
	}
	if (groups.len > 1) {
		cmd_hans_header(a, "X-Certmap-Groups", groups.data);
	}
	cm_buf_free(&groups);
	/* An account without a uid (a certificate-only identity) has none. */
	if (json_object_object_get_ex(p, "uid", &u) && json_object_is_type(u, json_type_int)) {
		snprintf(uid, sizeof(uid), "%lld", (long long)json_object_get_int64(u));
		cmd_hans_header(a, "X-Certmap-Uid", uid);
	}
	if (!escaped_header(a, "X-Certmap-Rule", p, "rule") ||
	    !escaped_header(a, "X-Certmap-Domain", p, "domain")) {
		clear_headers(a);
		cmd_hans_text(a, H_INTERNAL_ERROR, "answer too large\n");
	}
}

/*
 * A refusal: the reason in X-Certmap-Reason, and as the body the page a
 * person would see (nginx's auth_request drops it; Caddy's forward_auth
 * shows it as it is).
 */
void cmd_http_refusal(const struct cmd_hsite *s, const struct cmd_hrq *rq, unsigned int code,
		      const char *reason, struct cmd_hans *a)
{
	const char *lang;

	clear_headers(a);
	a->code = code;
	a->type = "text/html; charset=utf-8";
	a->body.len = 0;
	lang = cmd_http_denial_body(s->hc, rq, reason_token(reason), &a->body);
	if (a->failed || a->body.failed) {
		fail(a);
		return;
	}
	cmd_hans_header(a, "X-Certmap-Reason", reason_token(reason));
	cmd_hans_header(a, "Vary", "Accept-Language");
	cmd_hans_header(a, "Content-Language", lang);
	if (code == H_UNAVAILABLE) {
		cmd_hans_header(a, "Retry-After", "5");
	}
}

void cmd_http_map_answer(const struct cmd_hsite *s, const struct cmd_hrq *rq,
			 const struct cm_buf *out, struct cmd_hans *a)
{
	json_object *root = NULL, *p = NULL;
	const char *err, *verdict;

	if (out->failed || out->len == 0 || out->data[out->len - 1] != '\0' ||
	    (root = json_tokener_parse(out->data)) == NULL) {
		cmd_hans_text(a, H_INTERNAL_ERROR, "no answer\n");
		return;
	}
	json_object_object_get_ex(root, CMP_F_PARAMETERS, &p);
	err = jstr(root, CMP_F_ERROR);
	verdict = jstr(p, "verdict");
	if (err == NULL && verdict != NULL && strcmp(verdict, "mapped") == 0) {
		answer_mapped(a, p);
	} else if (err == NULL && verdict != NULL &&
		   (strcmp(verdict, "refused") == 0 || strcmp(verdict, "ambiguous") == 0)) {
		cmd_http_refusal(s, rq, H_FORBIDDEN, jstr(p, "reason"), a);
	} else if (err == NULL || strcmp(err, CMP_E_BACKEND_UNAVAILABLE) == 0) {
		/* The error verdict, or a backend down: try again later. */
		cmd_http_refusal(s, rq, H_UNAVAILABLE,
				 jstr(p, "reason") != NULL ? jstr(p, "reason")
							   : "backend_unavailable",
				 a);
	} else if (strcmp(err, CMP_E_INVALID_PARAMETER) == 0 || strcmp(err, CMP_E_TOO_LARGE) == 0) {
		cmd_http_refusal(s, rq, H_BAD_REQUEST, "bad_request", a);
	} else if (strcmp(err, CMP_E_PERMISSION_DENIED) == 0) {
		cmd_http_refusal(s, rq, H_FORBIDDEN, "peer_not_allowed", a);
	} else {
		cmd_http_refusal(s, rq, H_INTERNAL_ERROR, "error", a);
	}
	json_object_put(root);
}

/* ---------------------------------------------------------------- /auth */

/* A header sent once, or absent (*len 0, NULL); -1 when sent twice. */
static int one_header(const struct cmd_hrq *rq, const char *name, const char **v, size_t *len)
{
	unsigned int n;

	*v = NULL;
	*len = 0;
	if (name == NULL) {
		return 0;
	}
	n = rq->lookup(rq->ctx, false, name, v, len);
	if (n > 1) {
		*v = NULL;
		*len = 0;
		return -1;
	}
	if (n == 0 || *v == NULL) {
		*v = NULL;
		*len = 0;
	}
	return 0;
}

static json_object *b64_string(const unsigned char *der, size_t len)
{
	size_t cap = 4 * ((len + 2) / 3) + 1;
	char *b = malloc(cap);
	json_object *s;

	if (b == NULL) {
		return NULL;
	}
	EVP_EncodeBlock((unsigned char *)b, der, (int)len);
	s = json_object_new_string(b);
	free(b);
	return s;
}

/* An optional name header (user, hints); bytes the Map decoder refuses
 * (not UTF-8, too long) come back as InvalidParameter: 400. */
static int add_name(const struct cmd_hrq *rq, json_object *params, const char *header,
		    const char *key)
{
	const char *v;
	size_t len;

	if (one_header(rq, header, &v, &len) != 0) {
		return -1;
	}
	if (v != NULL && len > 0) {
		json_object_object_add(params, key, json_object_new_string_len(v, (int)len));
	}
	return 0;
}

/* The proxy's own verification, when the configuration asks for it. */
static int proxy_verified(const struct cm_http_conf *hc, const struct cmd_hrq *rq)
{
	const char *v;
	size_t len;

	if (hc->verify_header == NULL) {
		return 1;
	}
	if (one_header(rq, hc->verify_header, &v, &len) != 0) {
		return -1;
	}
	return v != NULL && len == strlen(hc->verify_success) &&
	       memcmp(v, hc->verify_success, len) == 0;
}

/* Whether a name header is there (or there twice: map_frame says 400). */
static bool name_given(const struct cmd_hrq *rq, const char *header)
{
	const char *v;
	size_t len;

	return one_header(rq, header, &v, &len) != 0 || (v != NULL && len > 0);
}

/* The Map parameters of the certificates and the optional headers. */
static char *map_frame(const struct cm_http_conf *hc, const struct cmd_hrq *rq,
		       const struct cmh_certs *certs)
{
	json_object *frame, *params, *chain;
	char *s = NULL;

	if (!name_given(rq, hc->user_header) && !name_given(rq, hc->upn_hint_header) &&
	    !name_given(rq, hc->domain_hint_header) && !name_given(rq, hc->hint_data_header)) {
		/* The commonest frames, certificates only, written as is
		 * (map_frame.h); json-c below for bytes that look like PEM. */
		struct certmap_request r = {.cert = certs->der[0],
					    .cert_len = certs->len[0],
					    .chain = (const unsigned char *const *)certs->der + 1,
					    .chain_len = certs->len + 1,
					    .n_chain = certs->n - 1};
		size_t len;

		if ((s = cmp_map_frame(&r, &len)) != NULL) {
			return s;
		}
	}
	frame = json_object_new_object();
	params = json_object_new_object();

	json_object_object_add(frame, CMP_F_METHOD, json_object_new_string(CMP_M_MAP));
	json_object_object_add(frame, CMP_F_PARAMETERS, params);
	json_object_object_add(params, CMP_P_CERTIFICATE, b64_string(certs->der[0], certs->len[0]));
	if (certs->n > 1) {
		chain = json_object_new_array();
		for (size_t i = 1; i < certs->n; i++) {
			json_object_array_add(chain, b64_string(certs->der[i], certs->len[i]));
		}
		json_object_object_add(params, CMP_P_CHAIN, chain);
	}
	if (add_name(rq, params, hc->user_header, CMP_P_USER) == 0 &&
	    add_name(rq, params, hc->upn_hint_header, CMP_P_UPN_HINT) == 0 &&
	    add_name(rq, params, hc->domain_hint_header, CMP_P_DOMAIN_HINT) == 0 &&
	    /* The raw hint bytes, base64 as the Map parameter takes them:
	     * certmapd decodes them (not base64: 400; a malformed list:
	     * 403 hint_invalid). */
	    add_name(rq, params, hc->hint_data_header, CMP_P_USER_MAPPING_DATA) == 0) {
		s = strdup(json_object_to_json_string_ext(
		    frame, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	}
	json_object_put(frame);
	return s;
}

/* The Map frame for GET /auth, or the refusal in a. */
static enum cmd_hstep auth(const struct cmd_hsite *s, const struct cmd_hrq *rq,
			   struct cmd_hans *a, char **frame)
{
	const struct cm_http_conf *hc = s->hc;
	struct cmh_certs certs;
	const char *v = NULL, *why = NULL;
	size_t len = 0;
	enum cmh_result r = CMH_ABSENT;
	int verified = 0;

	memset(&certs, 0, sizeof(certs));
	if (one_header(rq, hc->cert_header, &v, &len) != 0) {
		/* Two copies: which one would the proxy have meant? */
		cmd_http_refusal(s, rq, H_BAD_REQUEST, "bad_request", a);
		return CMD_HS_ANSWER;
	}
	if (v != NULL) {
		r = cmh_decode(hc->cert_format, v, len, &certs, &why);
	}
	if (r == CMH_ABSENT) {
		cmd_http_refusal(s, rq, H_UNAUTHORIZED, "no_certificate", a);
		return CMD_HS_ANSWER;
	}
	if (r != CMH_OK) {
		cmd_http_refusal(s, rq, H_BAD_REQUEST, "bad_request", a);
		a->bad_header = why != NULL ? why : "unknown";
		return CMD_HS_ANSWER;
	}
	if (one_header(rq, hc->chain_header, &v, &len) != 0 ||
	    (v != NULL && cmh_decode_chain(v, len, &certs, &why) != CMH_OK) ||
	    (verified = proxy_verified(hc, rq)) < 0) {
		cmd_http_refusal(s, rq, H_BAD_REQUEST, "bad_request", a);
	} else if (verified == 0) {
		cmd_http_refusal(s, rq, H_FORBIDDEN, "untrusted", a);
	} else if ((*frame = map_frame(hc, rq, &certs)) == NULL) {
		/* A name header twice, or out of memory. */
		cmd_http_refusal(s, rq, H_BAD_REQUEST, "bad_request", a);
	}
	cmh_certs_clear(&certs);
	return *frame != NULL ? CMD_HS_MAP : CMD_HS_ANSWER;
}

/* ---------------------------------------------------------------- routing */

static bool token_ok(const struct cmd_hsite *s, const struct cmd_hrq *rq)
{
	const char *v = NULL;
	size_t len = 0;
	unsigned char diff = 0;

	if (s->token == NULL) {
		return true;
	}
	if (one_header(rq, "Authorization", &v, &len) != 0 || v == NULL || len < 7 ||
	    strncasecmp(v, "Bearer ", 7) != 0 || len - 7 != s->token_len) {
		return false;
	}
	/* Constant time: the length is not the secret. */
	for (size_t i = 0; i < s->token_len; i++) {
		diff |= (unsigned char)(v[7 + i] ^ s->token[i]);
	}
	return diff == 0;
}

enum cmd_hstep cmd_http_route(const struct cmd_hsite *s, const struct cmd_hrq *rq,
			      struct cmd_hans *a, char **frame)
{
	const char *url = rq->url;

	*frame = NULL;
	if (s->peer_refused) {
		cmd_http_refusal(s, rq, H_FORBIDDEN, "peer_not_allowed", a);
		return CMD_HS_ANSWER;
	}
	if (!token_ok(s, rq)) {
		cmd_hans_text(a, H_UNAUTHORIZED, "a bearer token is required\n");
		cmd_hans_header(a, "WWW-Authenticate", "Bearer realm=\"certmapd\"");
		return CMD_HS_ANSWER;
	}
	if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
		cmd_hans_text(a, H_METHOD_NOT_ALLOWED, "only GET\n");
		cmd_hans_header(a, "Allow", "GET, HEAD");
		return CMD_HS_ANSWER;
	}
	if (rq->body) {
		cmd_hans_text(a, H_BAD_REQUEST, "no request body is expected\n");
		return CMD_HS_ANSWER;
	}
	/* Envoy's ext_authz appends the original path to its path_prefix. */
	if (strcmp(url, "/auth") == 0 || strncmp(url, "/auth/", 6) == 0) {
		return auth(s, rq, a, frame);
	}
	if (strcmp(url, "/healthz") == 0) {
		cmd_hans_text(a, H_OK, "ok\n");
		return CMD_HS_ANSWER;
	}
	if (strcmp(url, "/metrics") == 0) {
		return CMD_HS_METRICS;
	}
	if (strcmp(url, "/denied") == 0) {
		cmd_http_denied(s->hc, rq, a);
		return CMD_HS_ANSWER;
	}
	cmd_hans_text(a, H_NOT_FOUND, "not found\n");
	return CMD_HS_ANSWER;
}

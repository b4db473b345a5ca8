/*
 * libFuzzer target: certmapd's HTTP request path (service/http_answer.c,
 * the denial page of http_pages.c and the header decoders of http_cert.c)
 * without a socket: what libmicrohttpd hands over (method, path, query
 * arguments, headers) goes in, the answer (status, headers, body) or a Map
 * frame comes out, and a reply frame for that Map becomes the answer.
 *
 * Input: byte 0 picks the listener's settings (certificate format, a
 * required verify header, a bearer token, user and hint headers, a
 * refused peer), byte 1 the kind of reply the dispatcher gives; then
 * "METHOD URL\n", header lines "Name: value\n", an empty line, and the
 * rest is the reply's text (a user name, a reason, or a whole frame).
 *
 * Besides memory errors it checks the path's promises and aborts when one
 * is broken:
 * - the status is one of those certmapd answers;
 * - every answer header value is non-empty printable ASCII (no request
 *   byte reaches a header unescaped); a failed answer has none;
 * - a Map is only asked for GET/HEAD /auth with the right bearer token,
 *   the verify header saying success, one certificate header, and its
 *   frame is a JSON Map call with a certificate;
 * - X-Certmap-User only in a 200 to a Map whose reply said mapped;
 * - no page carries a script.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_answer.h"
#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 32
#define TOKEN "0123456789abcdef0123"

struct field {
	char *name, *value;
	size_t len;
};

struct fuzz_req {
	struct field h[MAX_FIELDS], q[MAX_FIELDS];
	size_t nh, nq;
};

static unsigned int lookup(void *ctx, bool arg, const char *name, const char **v, size_t *len)
{
	struct fuzz_req *r = ctx;
	struct field *f = arg ? r->q : r->h;
	size_t n = arg ? r->nq : r->nh;
	unsigned int count = 0;

	*v = NULL;
	*len = 0;
	for (size_t i = 0; i < n; i++) {
		if ((arg ? strcmp(f[i].name, name) : strcasecmp(f[i].name, name)) == 0) {
			if (count++ == 0) {
				*v = f[i].value;
				*len = f[i].len;
			}
		}
	}
	return count;
}

static char *dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p == NULL) {
		abort();
	}
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* "a=1&b=2" as libmicrohttpd gives it, without percent decoding. */
static void parse_query(struct fuzz_req *r, const char *q)
{
	while (*q != '\0' && r->nq < MAX_FIELDS) {
		size_t n = strcspn(q, "&"), k = strcspn(q, "=&");

		r->q[r->nq].name = dup_n(q, k);
		r->q[r->nq].value = k < n ? dup_n(q + k + 1, n - k - 1) : dup_n("", 0);
		r->q[r->nq].len = strlen(r->q[r->nq].value);
		r->nq++;
		q += n + (q[n] == '&');
	}
}

/* One line from *p (up to '\n' or end), NUL-free; NULL at the end. */
static char *line(const char **p, const char *end)
{
	const char *s = *p, *nl;
	size_t n;

	if (s >= end) {
		return NULL;
	}
	nl = memchr(s, '\n', (size_t)(end - s));
	n = nl != NULL ? (size_t)(nl - s) : (size_t)(end - s);
	*p = s + n + (nl != NULL);
	if (memchr(s, '\0', n) != NULL) {
		return dup_n("", 0); /* libmicrohttpd never passes a NUL */
	}
	return dup_n(s, n);
}

/* The reply frame certmapd's dispatcher would write, from the fuzz text. */
static void reply(unsigned int kind, const char *text, struct cm_buf *out, bool *mapped)
{
	json_object *root = json_object_new_object(), *p = json_object_new_object();

	*mapped = false;
	if (kind % 6 == 5) {
		*mapped = true; /* a frame of the fuzzer's own may say anything */
		cm_buf_adds(out, text);
		cm_buf_addc(out, '\0');
		json_object_put(root);
		json_object_put(p);
		return;
	}
	switch (kind % 6) {
	case 0: {
		json_object *g = json_object_new_array();

		json_object_object_add(p, "verdict", json_object_new_string("mapped"));
		json_object_object_add(p, "user", json_object_new_string(text));
		json_object_array_add(g, json_object_new_string(text));
		json_object_array_add(g, json_object_new_string("dev"));
		json_object_object_add(p, "groups", g);
		if (kind & 8) {
			json_object_object_add(p, "uid", json_object_new_int64(1000));
		}
		json_object_object_add(p, "rule", json_object_new_string("r"));
		json_object_object_add(p, "domain", json_object_new_string(text));
		*mapped = true;
		break;
	}
	case 1:
	case 2:
		json_object_object_add(p, "verdict",
				       json_object_new_string(kind % 6 == 1 ? "refused" : "ambiguous"));
		json_object_object_add(p, "reason", json_object_new_string(text));
		break;
	case 3:
		json_object_object_add(root, CMP_F_ERROR,
				       json_object_new_string(CMP_E_BACKEND_UNAVAILABLE));
		json_object_object_add(p, "reason", json_object_new_string(text));
		break;
	default:
		json_object_object_add(root, CMP_F_ERROR, json_object_new_string(text));
		break;
	}
	json_object_object_add(root, CMP_F_PARAMETERS, p);
	cm_buf_adds(out, json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	cm_buf_addc(out, '\0');
	json_object_put(root);
}

static const char *header(const struct cmd_hans *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++) {
		if (strcasecmp(a->name[i], name) == 0) {
			return a->value[i];
		}
	}
	return NULL;
}

static void check_answer(const struct cmd_hans *a, bool map_mapped)
{
	static const unsigned int codes[] = {200, 400, 401, 403, 404, 405, 500, 503};
	bool known = false;

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		known = known || a->code == codes[i];
	}
	if (!known || a->n > CMD_HANS_HEADERS || (a->failed && (a->n != 0 || a->code != 500))) {
		abort();
	}
	for (size_t i = 0; i < a->n; i++) {
		const unsigned char *v = (const unsigned char *)a->value[i];

		if (a->name[i] == NULL || v == NULL || v[0] == '\0') {
			abort();
		}
		for (; *v != '\0'; v++) {
			if (*v < 0x20 || *v > 0x7e) {
				abort();
			}
		}
	}
	if (header(a, "X-Certmap-User") != NULL && (a->code != 200 || !map_mapped)) {
		abort();
	}
	if (!a->body.failed && a->body.len > 0 &&
	    memmem(a->body.data, a->body.len, "<script", 7) != NULL) {
		abort();
	}
}

/* The frame asked for is a Map call with a certificate. */
static void check_frame(const char *frame)
{
	json_object *root = json_tokener_parse(frame), *p = NULL, *c = NULL, *m = NULL;

	if (root == NULL || !json_object_object_get_ex(root, CMP_F_METHOD, &m) ||
	    strcmp(json_object_get_string(m), CMP_M_MAP) != 0 ||
	    !json_object_object_get_ex(root, CMP_F_PARAMETERS, &p) ||
	    !json_object_object_get_ex(p, CMP_P_CERTIFICATE, &c) ||
	    !json_object_is_type(c, json_type_string) || json_object_get_string_len(c) == 0) {
		abort();
	}
	json_object_put(root);
}

static void conf_of(uint8_t b, struct cm_http_conf *hc, struct cmd_hsite *s)
{
	static const char *const headers[] = {"Client-Cert", "X-Client-Cert", "X-Client-Cert",
					      "X-Forwarded-Tls-Client-Cert",
					      "X-Forwarded-Client-Cert"};

	memset(hc, 0, sizeof(*hc));
	memset(s, 0, sizeof(*s));
	hc->cert_format = (enum cm_http_format)((b & 0x07) % 5);
	hc->cert_header = (char *)headers[(b & 0x07) % 5];
	if (hc->cert_format == CM_HTTP_RFC9440) {
		hc->chain_header = (char *)"Client-Cert-Chain";
	}
	if (b & 0x08) {
		hc->verify_header = (char *)"X-Verify";
		hc->verify_success = (char *)"SUCCESS";
	}
	if (b & 0x20) {
		hc->user_header = (char *)"X-User";
		hc->upn_hint_header = (char *)"X-Upn";
		hc->domain_hint_header = (char *)"X-Domain";
		hc->hint_data_header = (char *)"X-Hint";
	}
	hc->contact_url = (b & 0x40) ? (char *)"https://help.example/?a=<1>&b=\"2\"" : NULL;
	s->hc = hc;
	s->token = (b & 0x10) ? TOKEN : NULL;
	s->token_len = s->token != NULL ? strlen(TOKEN) : 0;
	s->peer_refused = (b & 0x87) == 0x87;
}

/* What a Map needs: the checks route() must have made. */
static void check_map(const struct cmd_hsite *s, const struct cmd_hrq *rq)
{
	const char *v;
	size_t len;

	if (s->peer_refused || rq->body ||
	    (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) ||
	    (strcmp(rq->url, "/auth") != 0 && strncmp(rq->url, "/auth/", 6) != 0) ||
	    rq->lookup(rq->ctx, false, s->hc->cert_header, &v, &len) != 1) {
		abort();
	}
	if (s->token != NULL &&
	    (rq->lookup(rq->ctx, false, "Authorization", &v, &len) != 1 || len != 7 + s->token_len ||
	     strncasecmp(v, "Bearer ", 7) != 0 || memcmp(v + 7, s->token, s->token_len) != 0)) {
		abort();
	}
	if (s->hc->verify_header != NULL &&
	    (rq->lookup(rq->ctx, false, s->hc->verify_header, &v, &len) != 1 ||
	     strcmp(v, s->hc->verify_success) != 0)) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 2, *end = (const char *)data + size;
	struct fuzz_req r;
	struct cm_http_conf hc;
	struct cmd_hsite s;
	struct cmd_hrq rq;
	struct cmd_hans a;
	char *first, *url, *method, *sp, *q, *l, *frame = NULL, *text;
	bool mapped = false;

	if (size < 2) {
		return 0;
	}
	memset(&r, 0, sizeof(r));
	conf_of(data[0], &hc, &s);
	if ((first = line(&p, end)) == NULL) {
		return 0;
	}
	sp = strchr(first, ' ');
	method = first;
	url = sp != NULL ? (*sp = '\0', sp + 1) : (char *)"/auth";
	if ((q = strchr(url, '?')) != NULL) {
		*q = '\0';
		parse_query(&r, q + 1);
	}
	while ((l = line(&p, end)) != NULL && l[0] != '\0' && r.nh < MAX_FIELDS) {
		char *colon = strchr(l, ':'), *v;

		if (colon == NULL) {
			free(l);
			continue;
		}
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++) {
		}
		r.h[r.nh].name = l;
		r.h[r.nh].value = dup_n(v, strlen(v));
		r.h[r.nh].len = strlen(v);
		r.nh++;
	}
	free(l);
	text = dup_n(p, (size_t)(end - p));
	rq.method = method;
	rq.url = url;
	rq.body = (data[1] & 0x80) != 0;
	rq.lookup = lookup;
	rq.ctx = &r;
	cmd_hans_init(&a);
	switch (cmd_http_route(&s, &rq, &a, &frame)) {
	case CMD_HS_MAP: {
		struct cm_buf out;

		check_map(&s, &rq);
		check_frame(frame);
		cm_buf_init(&out, CMP_MAX_REPLY);
		reply(data[1] & 0x7f, text, &out, &mapped);
		cmd_http_map_answer(&s, &rq, &out, &a);
		cm_buf_free(&out);
		free(frame);
		break;
	}
	case CMD_HS_METRICS:
		if (strcmp(url, "/metrics") != 0 || frame != NULL) {
			abort();
		}
		break;
	case CMD_HS_ANSWER:
		if (frame != NULL) {
			abort();
		}
		break;
	}
	check_answer(&a, mapped);
	cmd_hans_free(&a);
	free(text);
	free(first);
	for (size_t i = 0; i < r.nh; i++) {
		free(r.h[i].name);
		free(r.h[i].value);
	}
	for (size_t i = 0; i < r.nq; i++) {
		free(r.q[i].name);
		free(r.q[i].value);
	}
	return 0;
}

/*
 * Client certificates from request headers: one small decoder per proxy
 * format (http_cert.h), all ending in DER. Nothing here knows HTTP or the
 * service: it is fuzzed on its own (tests/fuzz/fuzz_http_cert.c).
 */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "http_cert.h"

static const char pem_begin[] = "-----BEGIN CERTIFICATE-----";
static const char pem_end[] = "-----END CERTIFICATE-----";
static const char caddy_no_cert[] = "{http.request.tls.client.certificate_der_base64}";

void cmh_certs_clear(struct cmh_certs *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->der[i]);
	}
	memset(c, 0, sizeof(*c));
}

/* The length and padding, looked at before the bytes (so the log says
 * "truncated" for a value with a stray byte at its end); NULL if fine. */
static const char *length_why(const char *s, size_t len)
{
	size_t data = len;

	/* At most two '=' at the very end, and only to complete a quantum. */
	while (data > 0 && len - data < 2 && s[data - 1] == '=') {
		data--;
	}
	if (data != len && len % 4 != 0) {
		return "base64 padding is misplaced";
	}
	if (data == 0) {
		return "the base64 value is empty";
	}
	return data % 4 == 1 ? "the base64 value is truncated" : NULL;
}

/* Strict base64, padded or not, one encoding per value (the decoder is
 * mapper/util.c's; only the words are this file's). */
unsigned char *cmh_base64_decode(const char *s, size_t len, size_t *out_len, const char **why)
{
	unsigned char *out = NULL;

	*out_len = 0;
	if ((*why = length_why(s, len)) != NULL) {
		return NULL;
	}
	switch (cm_base64_decode(s, len, CM_B64_UNPADDED | CM_B64_CANONICAL, CMP_MAX_CERT, &out,
				 out_len)) {
	case CM_B64_OK: return out;
	case CM_B64_EMPTY: *why = "the base64 value is empty"; break;
	case CM_B64_BAD_CHAR: *why = "a byte that is not base64"; break;
	case CM_B64_BAD_LENGTH: *why = "a byte that is not base64"; break; /* "T===" */
	case CM_B64_STRAY_BITS: *why = "base64 with stray bits at the end"; break;
	case CM_B64_TOO_LARGE: *why = "the certificate is over 64 KiB"; break;
	case CM_B64_NOMEM: *why = "out of memory"; break;
	default: *why = "not base64"; break;
	}
	return NULL;
}

static int hex_value(unsigned char ch)
{
	if (ch >= '0' && ch <= '9') {
		return ch - '0';
	}
	if (ch >= 'a' && ch <= 'f') {
		return ch - 'a' + 10;
	}
	return ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

char *cmh_percent_decode(const char *s, size_t len, size_t *out_len, const char **why)
{
	char *out = malloc(len + 1);
	size_t n = 0;

	*out_len = 0;
	if (out == NULL) {
		*why = "out of memory";
		return NULL;
	}
	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] != '%') {
			out[n++] = s[i];
			continue;
		}
		if (len - i < 3) {
			*why = "a '%' escape is cut short";
			free(out);
			return NULL;
		}
		hi = hex_value((unsigned char)s[i + 1]);
		lo = hex_value((unsigned char)s[i + 2]);
		if (hi < 0 || lo < 0) {
			*why = "a '%' is not followed by two hex digits";
			free(out);
			return NULL;
		}
		out[n++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[n] = '\0';
	*out_len = n;
	return out;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int add_der(struct cmh_certs *out, unsigned char *der, size_t len, const char **why)
{
	if (out->n >= CM_ARRAY_SIZE(out->der)) {
		*why = "more than 8 certificates in the chain";
		free(der);
		return -1;
	}
	out->der[out->n] = der;
	out->len[out->n] = len;
	out->n++;
	return 0;
}

/* base64 with whitespace anywhere (PEM lines): the whitespace is dropped. */
static int add_b64_spaced(struct cmh_certs *out, const char *s, size_t len, const char **why)
{
	char *packed = malloc(len + 1);
	unsigned char *der;
	size_t n = 0, der_len;

	if (packed == NULL) {
		*why = "out of memory";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (!is_space(s[i])) {
			packed[n++] = s[i];
		}
	}
	der = cmh_base64_decode(packed, n, &der_len, why);
	free(packed);
	if (der == NULL) {
		return -1;
	}
	return add_der(out, der, der_len, why);
}

static const char *find(const char *s, size_t len, const char *needle)
{
	size_t nl = strlen(needle);

	for (size_t i = 0; i + nl <= len; i++) {
		if (memcmp(s + i, needle, nl) == 0) {
			return s + i;
		}
	}
	return NULL;
}

/* One or more CERTIFICATE blocks with only whitespace around them. */
static int parse_pem(const char *s, size_t len, struct cmh_certs *out, const char **why)
{
	size_t i = 0;
	bool any = false;

	for (;;) {
		const char *body, *end;

		while (i < len && is_space(s[i])) {
			i++;
		}
		if (i == len) {
			break;
		}
		if (len - i < sizeof(pem_begin) - 1 ||
		    memcmp(s + i, pem_begin, sizeof(pem_begin) - 1) != 0) {
			*why = "the PEM does not start with -----BEGIN CERTIFICATE-----";
			return -1;
		}
		body = s + i + sizeof(pem_begin) - 1;
		end = find(body, len - (size_t)(body - s), pem_end);
		if (end == NULL) {
			*why = "the PEM has no -----END CERTIFICATE-----";
			return -1;
		}
		if (add_b64_spaced(out, body, (size_t)(end - body), why) != 0) {
			return -1;
		}
		any = true;
		i = (size_t)(end - s) + sizeof(pem_end) - 1;
	}
	if (!any) {
		*why = "no PEM certificate";
		return -1;
	}
	return 0;
}

static int parse_escaped_pem(const char *s, size_t len, struct cmh_certs *out, const char **why)
{
	size_t plen;
	char *pem = cmh_percent_decode(s, len, &plen, why);
	int rc;

	if (pem == NULL) {
		return -1;
	}
	rc = parse_pem(pem, plen, out, why);
	free(pem);
	return rc;
}

/* Traefik: bodies joined by ',', percent-encoded or not. */
static int parse_traefik(const char *s, size_t len, struct cmh_certs *out, const char **why)
{
	size_t plen, start = 0;
	char *v = cmh_percent_decode(s, len, &plen, why);
	int rc = 0;

	if (v == NULL) {
		return -1;
	}
	for (size_t i = 0; i <= plen && rc == 0; i++) {
		if (i < plen && v[i] != ',') {
			continue;
		}
		rc = add_b64_spaced(out, v + start, i - start, why);
		start = i + 1;
	}
	free(v);
	return rc;
}

/* RFC 8941 sf-binary: ":" base64 ":". */
static int parse_sf_binary(const char *s, size_t len, struct cmh_certs *out, const char **why)
{
	unsigned char *der;
	size_t der_len;

	if (len < 2 || s[0] != ':' || s[len - 1] != ':') {
		*why = "not a structured-field byte sequence (:base64:)";
		return -1;
	}
	if ((der = cmh_base64_decode(s + 1, len - 2, &der_len, why)) == NULL) {
		return -1;
	}
	return add_der(out, der, der_len, why);
}

/* ---------------------------------------------------------------- Envoy XFCC */

/*
 * x-forwarded-client-cert: elements separated by ',', key=value pairs by
 * ';'; a value may be double-quoted, and then holds ',', ';', '=' and
 * '\"'. Each proxy appends its own element, so the last one is the one the
 * nearest proxy (the one asking) added.
 */
struct xfcc_pair {
	const char *key, *val;
	size_t key_len, val_len;
	bool quoted;
};

/* Finds where the last element starts (a ',' outside quotes). */
static int xfcc_last_element(const char *s, size_t len, size_t *start, const char **why)
{
	bool q = false;

	*start = 0;
	for (size_t i = 0; i < len; i++) {
		if (q && s[i] == '\\') {
			i++;
		} else if (s[i] == '"') {
			q = !q;
		} else if (!q && s[i] == ',') {
			*start = i + 1;
		}
	}
	if (q) {
		*why = "an x-forwarded-client-cert value has an unterminated quote";
		return -1;
	}
	return 0;
}

/* Reads one key=value at *i (up to ';' or the end). */
static int xfcc_pair(const char *s, size_t len, size_t *i, struct xfcc_pair *p, const char **why)
{
	size_t k = *i;

	memset(p, 0, sizeof(*p));
	while (k < len && is_space(s[k])) {
		k++;
	}
	p->key = s + k;
	while (k < len && s[k] != '=' && s[k] != ';') {
		k++;
	}
	if (k == len || s[k] != '=') {
		*why = "an x-forwarded-client-cert element is not key=value";
		return -1;
	}
	p->key_len = (size_t)(s + k - p->key);
	k++;
	if (k < len && s[k] == '"') {
		p->quoted = true;
		p->val = s + ++k;
		while (k < len && s[k] != '"') {
			k += s[k] == '\\' ? 2 : 1;
		}
		if (k >= len) {
			*why = "an x-forwarded-client-cert value has an unterminated quote";
			return -1;
		}
		p->val_len = (size_t)(s + k - p->val);
		k++;
		while (k < len && is_space(s[k])) {
			k++;
		}
	} else {
		p->val = s + k;
		while (k < len && s[k] != ';') {
			k++;
		}
		p->val_len = (size_t)(s + k - p->val);
	}
	if (k < len && s[k] != ';') {
		*why = "an x-forwarded-client-cert element has text after a quoted value";
		return -1;
	}
	*i = k < len ? k + 1 : k;
	return 0;
}

static bool key_is(const struct xfcc_pair *p, const char *key)
{
	return p->key_len == strlen(key) && strncasecmp(p->key, key, p->key_len) == 0;
}

/* A URL-encoded PEM value (no '\' escapes are meaningful in it). */
static int xfcc_pem(const struct xfcc_pair *p, struct cmh_certs *out, const char **why)
{
	if (p->quoted && memchr(p->val, '\\', p->val_len) != NULL) {
		*why = "an x-forwarded-client-cert certificate holds a '\\'";
		return -1;
	}
	return parse_escaped_pem(p->val, p->val_len, out, why);
}

static enum cmh_result parse_envoy(const char *s, size_t len, struct cmh_certs *out,
				   const char **why)
{
	struct xfcc_pair p, cert = {0}, chain = {0};
	struct cmh_certs all = {0};
	size_t i;

	if (xfcc_last_element(s, len, &i, why) != 0) {
		return CMH_BAD;
	}
	while (i < len) {
		if (xfcc_pair(s, len, &i, &p, why) != 0) {
			return CMH_BAD;
		}
		if (key_is(&p, "Cert")) {
			cert = p;
		} else if (key_is(&p, "Chain")) {
			chain = p;
		}
	}
	if (cert.val == NULL || cert.val_len == 0) {
		return CMH_ABSENT;
	}
	if (xfcc_pem(&cert, out, why) != 0) {
		return CMH_BAD;
	}
	if (out->n != 1) {
		*why = "the x-forwarded-client-cert Cert holds more than one certificate";
		return CMH_BAD;
	}
	if (chain.val == NULL) {
		return CMH_OK;
	}
	/* Chain= repeats the leaf: keep the others, in order. */
	if (xfcc_pem(&chain, &all, why) != 0) {
		cmh_certs_clear(&all);
		return CMH_BAD;
	}
	for (size_t k = 0; k < all.n; k++) {
		bool leaf =
		    all.len[k] == out->len[0] && memcmp(all.der[k], out->der[0], all.len[k]) == 0;

		if (!leaf && add_der(out, all.der[k], all.len[k], why) != 0) {
			all.der[k] = NULL; /* add_der freed it */
			cmh_certs_clear(&all);
			return CMH_BAD;
		}
		if (leaf) {
			free(all.der[k]);
		}
		all.der[k] = NULL;
	}
	all.n = 0;
	return CMH_OK;
}

/* ---------------------------------------------------------------- entry points */

static size_t trim(const char **s, size_t len)
{
	while (len > 0 && is_space((*s)[0])) {
		(*s)++;
		len--;
	}
	while (len > 0 && is_space((*s)[len - 1])) {
		len--;
	}
	return len;
}

static enum cmh_result decode(enum cm_http_format f, const char *value, size_t len,
			      struct cmh_certs *out, const char **why)
{
	enum cmh_result r = CMH_BAD;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	*why = NULL;
	len = trim(&value, len);
	if (len == 0) {
		return CMH_ABSENT;
	}
	if (len > CMH_MAX_VALUE) {
		*why = "the certificate header is too long";
		return CMH_BAD;
	}
	switch (f) {
	case CM_HTTP_RFC9440: rc = parse_sf_binary(value, len, out, why); break;
	case CM_HTTP_NGINX: rc = parse_escaped_pem(value, len, out, why); break;
	case CM_HTTP_BASE64_DER: {
		unsigned char *der;
		size_t der_len;

		/* Caddy leaves a placeholder it has no value for as it is:
		 * that is what it sends when the client sent no certificate. */
		if (len == sizeof(caddy_no_cert) - 1 && memcmp(value, caddy_no_cert, len) == 0) {
			return CMH_ABSENT;
		}
		der = cmh_base64_decode(value, len, &der_len, why);
		rc = der != NULL ? add_der(out, der, der_len, why) : -1;
		break;
	}
	case CM_HTTP_TRAEFIK: rc = parse_traefik(value, len, out, why); break;
	case CM_HTTP_ENVOY:
		r = parse_envoy(value, len, out, why);
		rc = r == CMH_OK ? 0 : -1;
		break;
	default: *why = "unknown certificate format"; break;
	}
	if (rc == 0) {
		return CMH_OK;
	}
	cmh_certs_clear(out);
	return r == CMH_ABSENT ? CMH_ABSENT : CMH_BAD;
}

enum cmh_result cmh_decode_chain(const char *value, size_t len, struct cmh_certs *out,
				 const char **why)
{
	size_t start = 0;

	*why = NULL;
	if (len > CMH_MAX_VALUE) {
		*why = "the chain header is too long";
		return CMH_BAD;
	}
	/* An sf-list of byte sequences; base64 holds no ',' */
	for (size_t i = 0; i <= len; i++) {
		const char *item = value + start;
		size_t n;

		if (i < len && value[i] != ',') {
			continue;
		}
		n = trim(&item, i - start);
		start = i + 1;
		if (n == 0 && i == len && out->n == 1 && trim(&value, len) == 0) {
			return CMH_OK; /* the whole value is empty */
		}
		if (parse_sf_binary(item, n, out, why) != 0) {
			return CMH_BAD;
		}
	}
	return CMH_OK;
}

/* ---------------------------------------------------------------- memo */

/*
 * The last certificate header value a thread decoded and the certificates
 * it gave: a proxy sends one client's header with each of its requests,
 * and decoding it (percent escapes, PEM, base64) was most of the cost of
 * an /auth answered from the cache. The whole value is compared; only a
 * value that decoded is kept; decoding is a function of the value, so a
 * hit gives what decoding would.
 */
struct decode_memo {
	enum cm_http_format f;
	char *value;
	size_t len;
	struct cmh_certs certs;
};

static pthread_key_t memo_key;
static bool memo_usable;
static pthread_once_t memo_once = PTHREAD_ONCE_INIT;

static void memo_free(void *p)
{
	struct decode_memo *m = p;

	if (m != NULL) {
		free(m->value);
		cmh_certs_clear(&m->certs);
		free(m);
	}
}

static void memo_init(void)
{
	memo_usable = pthread_key_create(&memo_key, memo_free) == 0;
}

/* A copy of src in dst (cleared first); -1 when out of memory. */
static int certs_copy(struct cmh_certs *dst, const struct cmh_certs *src)
{
	memset(dst, 0, sizeof(*dst));
	for (size_t i = 0; i < src->n; i++) {
		if ((dst->der[i] = malloc(src->len[i])) == NULL) {
			cmh_certs_clear(dst);
			return -1;
		}
		memcpy(dst->der[i], src->der[i], src->len[i]);
		dst->len[i] = src->len[i];
		dst->n++;
	}
	return 0;
}

static struct decode_memo *memo_get(void)
{
	struct decode_memo *m;

	if (pthread_once(&memo_once, memo_init) != 0 || !memo_usable) {
		return NULL;
	}
	if ((m = pthread_getspecific(memo_key)) == NULL && (m = calloc(1, sizeof(*m))) != NULL &&
	    pthread_setspecific(memo_key, m) != 0) {
		free(m);
		m = NULL;
	}
	return m;
}

static void memo_put(struct decode_memo *m, enum cm_http_format f, const char *value, size_t len,
		     const struct cmh_certs *certs)
{
	char *v = malloc(len);

	free(m->value);
	cmh_certs_clear(&m->certs);
	m->value = NULL;
	if (v == NULL || certs_copy(&m->certs, certs) != 0) {
		free(v);
		return;
	}
	memcpy(v, value, len);
	m->f = f;
	m->value = v;
	m->len = len;
}

enum cmh_result cmh_decode(enum cm_http_format f, const char *value, size_t len,
			   struct cmh_certs *out, const char **why)
{
	struct decode_memo *m = len <= CMH_MAX_VALUE ? memo_get() : NULL;
	enum cmh_result r;

	if (m != NULL && m->value != NULL && m->f == f && m->len == len &&
	    memcmp(m->value, value, len) == 0 && certs_copy(out, &m->certs) == 0) {
		*why = NULL;
		return CMH_OK;
	}
	r = decode(f, value, len, out, why);
	if (r == CMH_OK && m != NULL) {
		memo_put(m, f, value, len, out);
	}
	return r;
}

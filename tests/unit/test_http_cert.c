/*
 * Unit tests for service/http_cert.c: each proxy's header format, built
 * from the suite's own certificates exactly as that proxy writes it, must
 * decode to the same DER bytes; and every malformed value is refused.
 *
 * How each proxy writes its header (from its documentation and source):
 * - nginx $ssl_client_escaped_cert: the PEM (64-column lines, '\n') through
 *   ngx_escape_uri(NGX_ESCAPE_URI_COMPONENT), which keeps letters, digits
 *   and "-._~" and writes every other byte as %XX (upper-case hex);
 * - Caddy {http.request.tls.client.certificate_der_base64} and HAProxy
 *   %[ssl_c_der,base64]: standard base64 with padding;
 * - Traefik passTLSClientCert (pem: true): each PEM with its BEGIN/END
 *   lines and newlines removed, joined by ',' leaf first, then
 *   url.QueryEscape'd (Traefik 2.x and 3.x);
 * - Envoy x-forwarded-client-cert: By=...;Hash=...;Cert="<url-encoded
 *   PEM>";Chain="<url-encoded PEMs>";Subject="...";URI=...;DNS=..., one
 *   element per proxy joined by ',';
 * - RFC 9440: Client-Cert: :<base64 DER>: and Client-Cert-Chain: :b64:, :b64:
 */
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

#include "http_cert.h"
#include "testlib.h"

struct der {
	unsigned char *data;
	size_t len;
};

static struct der load_der(const char *name)
{
	char *path = cmt_cert_path(name);
	struct der d = {0};

	assert_int_equal(cmt_read_file(path, &d.data, &d.len), 0);
	free(path);
	return d;
}

/* The DER of a PEM file's first certificate, through OpenSSL's reader. */
static struct der pem_to_der(const char *name)
{
	char cmd[4096];
	char *path = cmt_cert_path(name);
	unsigned char buf[65536];
	struct der d = {0};
	FILE *f;

	snprintf(cmd, sizeof(cmd), "openssl x509 -in '%s' -outform DER", path);
	free(path);
	f = popen(cmd, "r");
	assert_non_null(f);
	d.len = fread(buf, 1, sizeof(buf), f);
	assert_int_equal(pclose(f), 0);
	d.data = malloc(d.len);
	memcpy(d.data, buf, d.len);
	return d;
}

static char *b64(const struct der *d)
{
	char *s = malloc(4 * ((d->len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)s, d->data, (int)d->len);
	return s;
}

/* PEM as OpenSSL and nginx write it: 64-column lines. */
static char *pem(const struct der *d)
{
	char *body = b64(d);
	size_t n = strlen(body);
	char *out = malloc(n + n / 64 + 128);
	size_t k = 0;

	k += (size_t)sprintf(out, "-----BEGIN CERTIFICATE-----\n");
	for (size_t i = 0; i < n; i += 64) {
		size_t m = n - i < 64 ? n - i : 64;

		memcpy(out + k, body + i, m);
		k += m;
		out[k++] = '\n';
	}
	k += (size_t)sprintf(out + k, "-----END CERTIFICATE-----\n");
	out[k] = '\0';
	free(body);
	return out;
}

/* ngx_escape_uri(NGX_ESCAPE_URI_COMPONENT); Go's url.QueryEscape differs
 * only for ' ' (none in a PEM). */
static char *escape_component(const char *s)
{
	char *out = malloc(strlen(s) * 3 + 1);
	size_t k = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			out[k++] = (char)c;
		} else {
			k += (size_t)sprintf(out + k, "%%%02X", c);
		}
	}
	out[k] = '\0';
	return out;
}

static void assert_certs(const struct cmh_certs *c, const struct der *want, size_t n)
{
	assert_int_equal(c->n, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(c->len[i], want[i].len);
		assert_memory_equal(c->der[i], want[i].data, want[i].len);
	}
}

static enum cmh_result decode(enum cm_http_format f, const char *v, struct cmh_certs *c)
{
	const char *why = NULL;
	enum cmh_result r = cmh_decode(f, v, strlen(v), c, &why);

	if (r == CMH_BAD) {
		assert_non_null(why); /* every refusal says why */
		assert_int_equal(c->n, 0);
	}
	return r;
}

static void test_rfc9440(void **state)
{
	struct der leaf[2] = {load_der("alice.der"), pem_to_der("inter-ca.pem")};
	struct cmh_certs c;
	const char *why;
	char *b = b64(&leaf[0]), *bi = b64(&leaf[1]);
	char v[16384], chain[16384];

	(void)state;
	snprintf(v, sizeof(v), ":%s:", b);
	assert_int_equal(decode(CM_HTTP_RFC9440, v, &c), CMH_OK);
	assert_certs(&c, leaf, 1);
	snprintf(chain, sizeof(chain), ":%s:, :%s:", bi, bi);
	assert_int_equal(cmh_decode_chain(chain, strlen(chain), &c, &why), CMH_OK);
	assert_int_equal(c.n, 3);
	assert_memory_equal(c.der[2], leaf[1].data, leaf[1].len);
	cmh_certs_clear(&c);
	/* Without the colons it is not a byte sequence. */
	assert_int_equal(decode(CM_HTTP_RFC9440, b, &c), CMH_BAD);
	snprintf(v, sizeof(v), ":%s", b);
	assert_int_equal(decode(CM_HTTP_RFC9440, v, &c), CMH_BAD);
	/* A chain that is not a list of byte sequences. */
	snprintf(v, sizeof(v), ":%s:", b);
	assert_int_equal(decode(CM_HTTP_RFC9440, v, &c), CMH_OK);
	assert_int_equal(cmh_decode_chain("abc", 3, &c, &why), CMH_BAD);
	cmh_certs_clear(&c);
	free(b);
	free(bi);
	free(leaf[0].data);
	free(leaf[1].data);
}

static void test_nginx(void **state)
{
	struct der d = load_der("alice.der");
	char *p = pem(&d), *v = escape_component(p);
	struct cmh_certs c;

	(void)state;
	/* What nginx sends has no raw '+', '/', '=' or newline. */
	assert_null(strpbrk(v, "+/=\n "));
	assert_int_equal(decode(CM_HTTP_NGINX, v, &c), CMH_OK);
	assert_certs(&c, &d, 1);
	cmh_certs_clear(&c);
	/* The unescaped PEM (a proxy_set_header of $ssl_client_raw_cert would
	 * not even fit in a header; but it decodes the same). */
	assert_int_equal(decode(CM_HTTP_NGINX, p, &c), CMH_OK);
	assert_certs(&c, &d, 1);
	cmh_certs_clear(&c);
	/* A cut escape, a bad escape, no armour, text after the block. */
	v[strlen(v) - 1] = '\0';
	assert_int_equal(decode(CM_HTTP_NGINX, v, &c), CMH_BAD);
	assert_int_equal(decode(CM_HTTP_NGINX, "%0G", &c), CMH_BAD);
	assert_int_equal(decode(CM_HTTP_NGINX, "MIIB", &c), CMH_BAD);
	assert_int_equal(decode(CM_HTTP_NGINX,
				"-----BEGIN CERTIFICATE-----%0AAAAA%0A-----END CERTIFICATE-----x",
				&c),
			 CMH_BAD);
	assert_int_equal(decode(CM_HTTP_NGINX, "-----BEGIN CERTIFICATE-----%0AAAAA", &c), CMH_BAD);
	/* nginx sends an empty value when there is no certificate. */
	assert_int_equal(decode(CM_HTTP_NGINX, "", &c), CMH_ABSENT);
	free(p);
	free(v);
	free(d.data);
}

static void test_base64_der(void **state)
{
	struct der d = load_der("alice.der");
	char *v = b64(&d);
	struct cmh_certs c;
	size_t n = strlen(v);

	(void)state;
	assert_int_equal(decode(CM_HTTP_BASE64_DER, v, &c), CMH_OK);
	assert_certs(&c, &d, 1);
	cmh_certs_clear(&c);
	/* Caddy 2.6 sends its placeholder as it is without a certificate;
	 * HAProxy's %[ssl_c_der,base64] is empty. */
	assert_int_equal(decode(CM_HTTP_BASE64_DER, "{http.request.tls.client.certificate_der_base64}", &c),
			 CMH_ABSENT);
	assert_int_equal(decode(CM_HTTP_BASE64_DER, "{http.request.tls.client.certificate_pem}", &c),
			 CMH_BAD);
	assert_int_equal(decode(CM_HTTP_BASE64_DER, "", &c), CMH_ABSENT);
	assert_int_equal(decode(CM_HTTP_BASE64_DER, "  ", &c), CMH_ABSENT);
	/* Not base64: URL-safe alphabet, a space inside, a lone char. */
	v[5] = '-';
	assert_int_equal(decode(CM_HTTP_BASE64_DER, v, &c), CMH_BAD);
	v[5] = ' ';
	assert_int_equal(decode(CM_HTTP_BASE64_DER, v, &c), CMH_BAD);
	assert_int_equal(decode(CM_HTTP_BASE64_DER, "A", &c), CMH_BAD);
	(void)n;
	free(v);
	free(d.data);
}

/* The per-thread memo of the last decoded value: the same value again
 * gives the same certificates; another value, another format, or a value
 * that differs in its last byte is decoded on its own. */
static void test_memo(void **state)
{
	struct der a = load_der("alice.der"), b = pem_to_der("bob-ec.pem");
	char *va = b64(&a), *vb = b64(&b);
	struct cmh_certs c;
	size_t n = strlen(va);

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(decode(CM_HTTP_BASE64_DER, va, &c), CMH_OK);
		assert_certs(&c, &a, 1);
		cmh_certs_clear(&c);
	}
	assert_int_equal(decode(CM_HTTP_BASE64_DER, vb, &c), CMH_OK);
	assert_certs(&c, &b, 1);
	cmh_certs_clear(&c);
	/* Another format for the same bytes: not base64 in colons. */
	assert_int_equal(decode(CM_HTTP_RFC9440, vb, &c), CMH_BAD);
	assert_int_equal(decode(CM_HTTP_BASE64_DER, vb, &c), CMH_OK);
	cmh_certs_clear(&c);
	/* One byte off at the end: refused, never the kept answer. */
	vb[strlen(vb) - 1] = '-';
	assert_int_equal(decode(CM_HTTP_BASE64_DER, vb, &c), CMH_BAD);
	/* A prefix of the kept value. */
	va[n - 4] = '\0';
	assert_int_equal(decode(CM_HTTP_BASE64_DER, va, &c), CMH_OK);
	assert_true(c.n == 1 && c.len[0] < a.len);
	cmh_certs_clear(&c);
	free(va);
	free(vb);
	free(a.data);
	free(b.data);
}

static void test_base64_strict(void **state)
{
	static const struct {
		const char *in;
		const char *out; /* NULL: refused */
	} cases[] = {
	    {"TQ==", "M"},  {"TQ", "M"},	 {"TWE=", "Ma"}, {"TWE", "Ma"}, {"TWFu", "Man"},
	    {"TR==", NULL}, /* stray bits */ {"TQ=", NULL},  {"T===", NULL}, {"=TQ=", NULL},
	    {"TQ==TQ==", NULL}, {"TWFu=", NULL}, {"TW-u", NULL}, {"TW_u", NULL}, {"", NULL},
	};
	const char *why;

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(cases); i++) {
		size_t len;
		unsigned char *d = cmh_base64_decode(cases[i].in, strlen(cases[i].in), &len, &why);

		if (cases[i].out == NULL) {
			assert_null(d);
			continue;
		}
		assert_non_null(d);
		assert_int_equal(len, strlen(cases[i].out));
		assert_memory_equal(d, cases[i].out, len);
		free(d);
	}
}

/* Traefik's sanitize(): armour and newlines removed. */
static char *traefik_body(const struct der *d)
{
	return b64(d);
}

static void test_traefik(void **state)
{
	struct der want[2] = {load_der("alice.der"), pem_to_der("inter-ca.pem")};
	char *a = traefik_body(&want[0]), *b = traefik_body(&want[1]);
	char joined[16384];
	char *escaped;
	struct cmh_certs c;

	(void)state;
	snprintf(joined, sizeof(joined), "%s,%s", a, b);
	escaped = escape_component(joined);
	assert_int_equal(decode(CM_HTTP_TRAEFIK, escaped, &c), CMH_OK);
	assert_certs(&c, want, 2);
	cmh_certs_clear(&c);
	/* Older Traefik sent the bodies without escaping. */
	assert_int_equal(decode(CM_HTTP_TRAEFIK, joined, &c), CMH_OK);
	assert_certs(&c, want, 2);
	cmh_certs_clear(&c);
	assert_int_equal(decode(CM_HTTP_TRAEFIK, a, &c), CMH_OK);
	assert_certs(&c, want, 1);
	cmh_certs_clear(&c);
	/* An empty member, a bad one. */
	snprintf(joined, sizeof(joined), "%s,", a);
	assert_int_equal(decode(CM_HTTP_TRAEFIK, joined, &c), CMH_BAD);
	snprintf(joined, sizeof(joined), "%s,!!", a);
	assert_int_equal(decode(CM_HTTP_TRAEFIK, joined, &c), CMH_BAD);
	free(a);
	free(b);
	free(escaped);
	free(want[0].data);
	free(want[1].data);
}

static void test_envoy(void **state)
{
	struct der want[2] = {pem_to_der("via-inter.pem"), pem_to_der("inter-ca.pem")};
	struct der other = load_der("alice.der");
	char *leaf_pem = pem(&want[0]), *inter_pem = pem(&want[1]), *other_pem = pem(&other);
	char chain_pem[16384];
	char *cert = escape_component(leaf_pem), *chain, *ocert = escape_component(other_pem);
	char *v = malloc(65536);
	struct cmh_certs c;

	(void)state;
	snprintf(chain_pem, sizeof(chain_pem), "%s%s", leaf_pem, inter_pem);
	chain = escape_component(chain_pem);
	/* One element, as Envoy's SANITIZE_SET writes it. */
	snprintf(v, 65536,
		 "By=spiffe://cluster.local/ns/default/sa/web;Hash=468ed33be74eee6556d90c0149c1309e9ba"
		 "61d6425303443c0748a02dd8de688;Cert=\"%s\";Chain=\"%s\";Subject=\"CN=Via, O=Example\";"
		 "URI=;DNS=a.example",
		 cert, chain);
	assert_int_equal(decode(CM_HTTP_ENVOY, v, &c), CMH_OK);
	assert_certs(&c, want, 2);
	cmh_certs_clear(&c);
	/* APPEND_FORWARD: the nearest proxy's element is the last one. */
	snprintf(v, 65536, "By=spiffe://a;Cert=\"%s\";Subject=\"CN=x,O=y;z\",By=spiffe://b;Cert=\"%s\"",
		 ocert, cert);
	assert_int_equal(decode(CM_HTTP_ENVOY, v, &c), CMH_OK);
	assert_certs(&c, want, 1);
	cmh_certs_clear(&c);
	/* Unquoted Cert (Envoy quotes it, but nothing in it needs quotes). */
	snprintf(v, 65536, "Hash=ab;Cert=%s", cert);
	assert_int_equal(decode(CM_HTTP_ENVOY, v, &c), CMH_OK);
	assert_certs(&c, want, 1);
	cmh_certs_clear(&c);
	/* No Cert: nothing was sent. */
	assert_int_equal(decode(CM_HTTP_ENVOY, "By=spiffe://a;Hash=ab;Subject=\"CN=x\"", &c),
			 CMH_ABSENT);
	/* The last element has no Cert, an earlier one does: still none. */
	snprintf(v, 65536, "Cert=\"%s\",By=spiffe://b;Hash=ab", ocert);
	assert_int_equal(decode(CM_HTTP_ENVOY, v, &c), CMH_ABSENT);
	/* Malformed. */
	assert_int_equal(decode(CM_HTTP_ENVOY, "Cert=\"abc", &c), CMH_BAD);
	assert_int_equal(decode(CM_HTTP_ENVOY, "Cert", &c), CMH_BAD);
	assert_int_equal(decode(CM_HTTP_ENVOY, "Cert=\"x\"y", &c), CMH_BAD);
	snprintf(v, 65536, "Cert=\"%s\\\"\"", cert);
	assert_int_equal(decode(CM_HTTP_ENVOY, v, &c), CMH_BAD);
	/* Two certificates in Cert. */
	snprintf(v, 65536, "Cert=\"%s\"", chain);
	assert_int_equal(decode(CM_HTTP_ENVOY, v, &c), CMH_BAD);
	free(v);
	free(cert);
	free(chain);
	free(ocert);
	free(leaf_pem);
	free(inter_pem);
	free(other_pem);
	free(want[0].data);
	free(want[1].data);
	free(other.data);
}

static void test_limits(void **state)
{
	struct der d = load_der("alice.der");
	char *one = b64(&d);
	size_t n = strlen(one);
	char *v = malloc(CMH_MAX_VALUE + 2);
	struct cmh_certs c;
	size_t k = 0;

	(void)state;
	/* Ten certificates: more than the leaf and 8 in the chain. */
	for (int i = 0; i < 10 && k + n + 2 < 65536; i++) {
		memcpy(v + k, one, n);
		k += n;
		v[k++] = ',';
	}
	v[k - 1] = '\0';
	assert_int_equal(decode(CM_HTTP_TRAEFIK, v, &c), CMH_BAD);
	/* Nine is fine. */
	v[(n + 1) * 9 - 1] = '\0';
	assert_int_equal(decode(CM_HTTP_TRAEFIK, v, &c), CMH_OK);
	assert_int_equal(c.n, 9);
	cmh_certs_clear(&c);
	/* Over the value limit. */
	memset(v, 'A', CMH_MAX_VALUE + 1);
	v[CMH_MAX_VALUE + 1] = '\0';
	assert_int_equal(decode(CM_HTTP_BASE64_DER, v, &c), CMH_BAD);
	/* Over 64 KiB of DER. */
	memset(v, 'A', 88000);
	v[88000] = '\0';
	assert_int_equal(decode(CM_HTTP_BASE64_DER, v, &c), CMH_BAD);
	free(v);
	free(one);
	free(d.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc9440),   cmocka_unit_test(test_nginx),
	    cmocka_unit_test(test_base64_der), cmocka_unit_test(test_base64_strict),
	    cmocka_unit_test(test_traefik),   cmocka_unit_test(test_envoy),
	    cmocka_unit_test(test_limits),    cmocka_unit_test(test_memo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The client certificate as web servers and proxies put it in a request
 * header (service.http.cert_format), decoded to DER. Each format is what
 * its proxy really sends (certmap.conf(5) names the setting to use):
 *
 *   rfc9440     Client-Cert: :<base64 DER>:   Client-Cert-Chain: :b64:, :b64:
 *   nginx       $ssl_client_escaped_cert: the PEM, percent-encoded
 *   base64-der  Caddy {http.request.tls.client.certificate_der_base64},
 *               HAProxy %[ssl_c_der,base64]
 *   traefik     passTLSClientCert pem: PEM bodies without armour or
 *               newlines, joined by ',' (leaf first), maybe percent-encoded
 *   envoy       x-forwarded-client-cert: the last element's Cert="<URL-encoded
 *               PEM>" (and Chain=)
 *
 * Header bytes are attacker-controlled: every decoder is strict (a byte
 * that has no meaning in the format is an error, never skipped), bounded,
 * and works on (ptr,len).
 */
#ifndef CERTMAP_SERVICE_HTTP_CERT_H
#define CERTMAP_SERVICE_HTTP_CERT_H

#include <stddef.h>

#include "conf.h"
#include "protocol.h"

/* The longest header value looked at (a 64 KiB certificate, base64 or
 * percent-encoded, and its chain do not all fit: such a chain is refused). */
#define CMH_MAX_VALUE (192 * 1024)

/* The leaf first, then the chain. */
struct cmh_certs {
	unsigned char *der[1 + CMP_MAX_CHAIN];
	size_t len[1 + CMP_MAX_CHAIN];
	size_t n;
};

enum cmh_result {
	CMH_OK,	    /* out holds at least the leaf */
	CMH_ABSENT, /* the value says there is no certificate (empty, or no Cert=) */
	CMH_BAD,    /* the value does not decode: *why says how, in words */
};

/* Decodes the certificate header's value. out is cleared on entry and
 * holds nothing unless CMH_OK. */
enum cmh_result cmh_decode(enum cm_http_format f, const char *value, size_t len,
			   struct cmh_certs *out, const char **why);
/* RFC 9440 Client-Cert-Chain (a list of :base64:), appended to out, which
 * already holds the leaf. Returns CMH_OK (an empty value adds nothing) or
 * CMH_BAD. */
enum cmh_result cmh_decode_chain(const char *value, size_t len, struct cmh_certs *out,
				 const char **why);
void cmh_certs_clear(struct cmh_certs *c);

/* Building blocks, for the tests. Standard base64 (RFC 4648 section 4),
 * padding optional but never misplaced; no whitespace. Returns a malloc'd
 * buffer or NULL (*why says why). */
unsigned char *cmh_base64_decode(const char *s, size_t len, size_t *out_len, const char **why);
/* %XX decoding; any other byte is kept, a '%' not followed by two hex
 * digits is an error. Returns a malloc'd, NUL-terminated buffer or NULL. */
char *cmh_percent_decode(const char *s, size_t len, size_t *out_len, const char **why);

#endif

/*
 * The certificate as a PAM environment variable holds it. A web server
 * exports it as PEM (mod_ssl's SSL_CLIENT_CERT keeps the real line
 * breaks; other exporters put the block on one line), a service may pass
 * base64 DER. All of them become DER here, and only here; anything that is
 * not exactly one certificate in one of these forms is malformed, never
 * repaired.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pam_certmap.h"
#include "util.h"

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END "-----END CERTIFICATE-----"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && is_space(*p)) {
		p++;
	}
	return p;
}

/*
 * Finds the base64 body: between the PEM lines, or the whole text. Returns
 * NULL (with *why) when the framing is wrong.
 */
static const char *body_find(const char *p, const char *end, const char **body_end,
			     const char **why)
{
	const char *foot;

	if ((size_t)(end - p) >= strlen(PEM_BEGIN) &&
	    memcmp(p, PEM_BEGIN, strlen(PEM_BEGIN)) == 0) {
		p += strlen(PEM_BEGIN);
		foot = memmem(p, (size_t)(end - p), PEM_END, strlen(PEM_END));
		if (foot == NULL) {
			*why = "the PEM block has no END CERTIFICATE line";
			return NULL;
		}
		if (skip_space(foot + strlen(PEM_END), end) != end) {
			*why = "text follows the PEM block (only one certificate is accepted)";
			return NULL;
		}
		*body_end = foot;
		return p;
	}
	if (*p == '-') {
		*why = "not a PEM CERTIFICATE block";
		return NULL;
	}
	*body_end = end;
	return p;
}

/* The base64 between the PEM lines (white space dropped) into *der. */
static enum cm_pam_cert_status body_decode(const char *body, const char *body_end,
					   unsigned char **der, size_t *der_len, const char **why)
{
	switch (cm_base64_decode(body, (size_t)(body_end - body), CM_B64_SPACE,
				 CM_PAM_MAX_CERT_DER, der, der_len)) {
	case CM_B64_OK: return CM_PAM_CERT_OK;
	case CM_B64_NOMEM: return CM_PAM_CERT_NOMEM;
	case CM_B64_BAD_CHAR:
		*why = "the certificate text holds a character that is not base64";
		return CM_PAM_CERT_MALFORMED;
	case CM_B64_TOO_LARGE:
		*why = "the certificate is over the size limit";
		return CM_PAM_CERT_MALFORMED;
	case CM_B64_EMPTY:
	case CM_B64_BAD_LENGTH:
	case CM_B64_STRAY_BITS:
	default:
		*why = "the base64 text of the certificate has a wrong length or padding";
		return CM_PAM_CERT_MALFORMED;
	}
}

enum cm_pam_cert_status cm_pam_cert_decode(const char *text, unsigned char **der, size_t *der_len,
					   const char **why)
{
	const char *p, *end, *body, *body_end = NULL;
	size_t len;

	*der = NULL;
	*der_len = 0;
	*why = NULL;
	if (text == NULL) {
		return CM_PAM_CERT_NONE;
	}
	len = strnlen(text, CM_PAM_MAX_CERT_TEXT + 1);
	if (len > CM_PAM_MAX_CERT_TEXT) {
		*why = "the certificate text is over the size limit";
		return CM_PAM_CERT_MALFORMED;
	}
	end = text + len;
	p = skip_space(text, end);
	if (p == end) {
		return CM_PAM_CERT_NONE;
	}
	if ((body = body_find(p, end, &body_end, why)) == NULL) {
		return CM_PAM_CERT_MALFORMED;
	}
	return body_decode(body, body_end, der, der_len, why);
}

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

#include <openssl/evp.h>

#include "pam_certmap.h"

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END "-----END CERTIFICATE-----"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
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

/* Copies the base64 characters of [p,end) into out, dropping white space. */
static size_t body_collect(const char *p, const char *end, char *out, const char **why)
{
	size_t n = 0;
	size_t pad = 0;

	for (; p < end; p++) {
		if (is_space(*p)) {
			continue;
		}
		if (*p == '=') {
			pad++;
		} else if (!is_b64(*p) || pad > 0) {
			*why = "the certificate text holds a character that is not base64";
			return 0;
		}
		out[n++] = *p;
	}
	if (n == 0 || n % 4 != 0 || pad > 2) {
		*why = "the base64 text of the certificate has a wrong length or padding";
		return 0;
	}
	return n;
}

static size_t body_padding(const char *b64, size_t n)
{
	return (size_t)(b64[n - 1] == '=') + (size_t)(b64[n - 2] == '=');
}

enum cm_pam_cert_status cm_pam_cert_decode(const char *text, unsigned char **der, size_t *der_len,
					   const char **why)
{
	enum cm_pam_cert_status st = CM_PAM_CERT_MALFORMED;
	const char *p, *end, *body, *body_end = NULL;
	char *b64 = NULL;
	unsigned char *out = NULL;
	size_t len, n;
	int dec;

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
		goto out;
	}
	if ((b64 = malloc((size_t)(body_end - body) + 1)) == NULL) {
		st = CM_PAM_CERT_NOMEM;
		goto out;
	}
	if ((n = body_collect(body, body_end, b64, why)) == 0) {
		goto out;
	}
	if (n / 4 * 3 > CM_PAM_MAX_CERT_DER + 2) {
		*why = "the certificate is over the size limit";
		goto out;
	}
	if ((out = malloc(n / 4 * 3 + 1)) == NULL) {
		st = CM_PAM_CERT_NOMEM;
		goto out;
	}
	/* EVP_DecodeBlock counts '=' padding as zero bytes: take them off. */
	dec = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
	if (dec < 0 || (size_t)dec < body_padding(b64, n) + 1) {
		*why = "the certificate text is not valid base64";
		goto out;
	}
	*der_len = (size_t)dec - body_padding(b64, n);
	if (*der_len > CM_PAM_MAX_CERT_DER) {
		*der_len = 0;
		*why = "the certificate is over the size limit";
		goto out;
	}
	*der = out;
	out = NULL;
	st = CM_PAM_CERT_OK;
out:
	free(b64);
	free(out);
	return st;
}

/*
 * The RFC 4681 user-mapping data a PAM-using server received itself (the
 * UserMappingDataList of a SupplementalData message) and put into the PAM
 * environment as base64 (option user_mapping_data_env=). Only the base64
 * is read here: libcertmap, in-process or in certmapd, decodes the list,
 * and a malformed one is the refusal hint_invalid.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "certmap.h"
#include "pam_certmap.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* The base64 characters of text (white space dropped) into out; 0 with
 * *why on a bad character or padding, 0 without *why for no text. */
static size_t b64_collect(const char *text, size_t len, char *out, size_t *pad, const char **why)
{
	size_t n = 0;

	*pad = 0;
	for (size_t i = 0; i < len; i++) {
		if (is_space(text[i])) {
			continue;
		}
		if (text[i] == '=') {
			(*pad)++;
		} else if (!is_b64(text[i]) || *pad > 0) {
			*why = "the user-mapping data holds a character that is not base64";
			return 0;
		}
		out[n++] = text[i];
	}
	if (n > 0 && (n % 4 != 0 || *pad > 2)) {
		*why = "the base64 text of the user-mapping data has a wrong length or padding";
		return 0;
	}
	return n;
}

enum cm_pam_cert_status cm_pam_hint_decode(const char *text, unsigned char **data, size_t *len,
					   const char **why)
{
	enum cm_pam_cert_status st = CM_PAM_CERT_MALFORMED;
	unsigned char *out = NULL;
	char *b64 = NULL;
	size_t tlen, n, pad;
	int dec;

	*data = NULL;
	*len = 0;
	*why = NULL;
	if (text == NULL) {
		return CM_PAM_CERT_NONE;
	}
	tlen = strnlen(text, CM_PAM_MAX_HINT_TEXT + 1);
	if (tlen > CM_PAM_MAX_HINT_TEXT) {
		*why = "the user-mapping data text is over the size limit";
		return CM_PAM_CERT_MALFORMED;
	}
	if ((b64 = malloc(tlen + 1)) == NULL) {
		return CM_PAM_CERT_NOMEM;
	}
	if ((n = b64_collect(text, tlen, b64, &pad, why)) == 0) {
		st = *why == NULL ? CM_PAM_CERT_NONE : CM_PAM_CERT_MALFORMED;
		goto out;
	}
	if (n / 4 * 3 - pad > CERTMAP_HINT_MAX_DATA) {
		*why = "the user-mapping data is over the size limit (65537 bytes)";
		goto out;
	}
	if ((out = malloc(n / 4 * 3 + 1)) == NULL) {
		st = CM_PAM_CERT_NOMEM;
		goto out;
	}
	/* EVP_DecodeBlock counts '=' padding as zero bytes: take them off. */
	dec = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
	if (dec < 0 || (size_t)dec < pad) {
		*why = "the user-mapping data is not valid base64";
		goto out;
	}
	*len = (size_t)dec - pad;
	*data = out;
	out = NULL;
	st = CM_PAM_CERT_OK;
out:
	free(b64);
	free(out);
	return st;
}

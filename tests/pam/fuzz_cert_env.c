/*
 * Fuzz target for pam_certmap's certificate decoder (pam_module/cert_env.c):
 * the bytes are a PAM environment value (up to the first NUL, as libpam
 * stores it). Checks the decoder's contract: a decoded certificate is
 * non-empty and within the DER limit, and decoding it again from one-line
 * base64 gives the same bytes.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "pam_certmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_roundtrip(const unsigned char *der, size_t len)
{
	char *b64 = malloc(4 * ((len + 2) / 3) + 1);
	unsigned char *again = NULL;
	size_t again_len = 0;
	const char *why = NULL;

	if (b64 == NULL) {
		return;
	}
	EVP_EncodeBlock((unsigned char *)b64, der, (int)len);
	if (cm_pam_cert_decode(b64, &again, &again_len, &why) != CM_PAM_CERT_OK ||
	    again_len != len || memcmp(again, der, len) != 0) {
		abort();
	}
	free(again);
	free(b64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	unsigned char *der = NULL;
	size_t len = 0;
	const char *why = NULL;

	if (text == NULL) {
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	switch (cm_pam_cert_decode(text, &der, &len, &why)) {
	case CM_PAM_CERT_OK:
		if (der == NULL || len == 0 || len > CM_PAM_MAX_CERT_DER) {
			abort();
		}
		check_roundtrip(der, len);
		break;
	case CM_PAM_CERT_MALFORMED:
		if (why == NULL || der != NULL) {
			abort();
		}
		break;
	case CM_PAM_CERT_NONE:
	case CM_PAM_CERT_NOMEM:
	default:
		if (der != NULL) {
			abort();
		}
		break;
	}
	free(der);
	free(text);
	return 0;
}

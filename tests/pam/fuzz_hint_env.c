/*
 * Fuzz target for pam_certmap's user-mapping data decoder
 * (pam_module/hint_env.c): the bytes are a PAM environment value (up to
 * the first NUL, as libpam stores it). Checks the decoder's contract:
 * decoded bytes are within CERTMAP_HINT_MAX_DATA and come back from their
 * one-line base64; a refusal says why and returns nothing.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "certmap.h"
#include "pam_certmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_roundtrip(const unsigned char *bytes, size_t len)
{
	char *b64 = malloc(4 * ((len + 2) / 3) + 1);
	unsigned char *again = NULL;
	size_t again_len = 0;
	const char *why = NULL;

	if (b64 == NULL) {
		return;
	}
	EVP_EncodeBlock((unsigned char *)b64, bytes, (int)len);
	if (cm_pam_hint_decode(b64, &again, &again_len, &why) !=
		(len > 0 ? CM_PAM_CERT_OK : CM_PAM_CERT_NONE) ||
	    again_len != len || (len > 0 && memcmp(again, bytes, len) != 0)) {
		abort();
	}
	free(again);
	free(b64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	unsigned char *out = NULL;
	size_t len = 0;
	const char *why = NULL;

	if (text == NULL) {
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	switch (cm_pam_hint_decode(text, &out, &len, &why)) {
	case CM_PAM_CERT_OK:
		if (out == NULL || len > CERTMAP_HINT_MAX_DATA) {
			abort();
		}
		check_roundtrip(out, len);
		break;
	case CM_PAM_CERT_MALFORMED:
		if (why == NULL || out != NULL || len != 0) {
			abort();
		}
		break;
	case CM_PAM_CERT_NONE:
	case CM_PAM_CERT_NOMEM:
	default:
		if (out != NULL || len != 0) {
			abort();
		}
		break;
	}
	free(out);
	free(text);
	return 0;
}

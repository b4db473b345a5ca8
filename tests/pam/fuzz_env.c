/*
 * The checks of tests/pam/fuzz_env.h, shared by fuzz_cert_env.c and
 * fuzz_hint_env.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fuzz_env.h"

/* Encoding the decoded bytes again gives them back (nothing: NONE). */
static void check_roundtrip(const struct fuzz_env_target *t, const unsigned char *bytes,
			    size_t len)
{
	char *b64 = malloc(4 * ((len + 2) / 3) + 1);
	unsigned char *again = NULL;
	size_t again_len = 0;
	const char *why = NULL;

	if (b64 == NULL) {
		return;
	}
	EVP_EncodeBlock((unsigned char *)b64, bytes, (int)len);
	if (t->decode(b64, &again, &again_len, &why) !=
		(len > 0 ? CM_PAM_CERT_OK : CM_PAM_CERT_NONE) ||
	    again_len != len || (len > 0 && memcmp(again, bytes, len) != 0)) {
		abort();
	}
	free(again);
	free(b64);
}

int fuzz_env_one(const struct fuzz_env_target *t, const uint8_t *data, size_t size)
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
	switch (t->decode(text, &out, &len, &why)) {
	case CM_PAM_CERT_OK:
		if (out == NULL || len < t->min_len || len > t->max_len) {
			abort();
		}
		check_roundtrip(t, out, len);
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

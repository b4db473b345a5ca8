/*
 * Fuzz target for the RFC 4681 codec (mapper/hint.c). The input is read
 * both as a UserMappingDataList and as a UserMappingTypeList. Whatever
 * decodes must encode again, and the encoding must decode to the same
 * hint; a list of exactly one upn_domain_hint entry must come back byte
 * for byte (encode(decode(x)) == x). A refusal must say why and return
 * nothing.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "certmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* x is one upn_domain_hint entry filling the whole list. */
static bool single_entry(const uint8_t *x, size_t n)
{
	return n >= 5 && x[2] == CERTMAP_HINT_TYPE_UPN_DOMAIN &&
	       (size_t)(x[3] << 8 | x[4]) + 5 == n;
}

static void data_list(const uint8_t *data, size_t size)
{
	struct certmap_hint *h = NULL, *again = NULL;
	unsigned char *enc = NULL;
	size_t len = 0;
	char *msg = NULL;
	int rc = certmap_hint_decode(data, size, &h, &msg);

	if (rc != CERTMAP_OK) {
		if (rc != CERTMAP_ERR_HINT || h != NULL || msg == NULL) {
			abort();
		}
		free(msg);
		return;
	}
	if (msg != NULL || h == NULL) {
		abort();
	}
	if (certmap_hint_upn(h) == NULL && certmap_hint_domain(h) == NULL) {
		/* A list of other types only: nothing to encode. */
		if (single_entry(data, size)) {
			abort();
		}
		certmap_hint_free(h);
		return;
	}
	if (certmap_hint_encode(certmap_hint_upn(h), certmap_hint_domain(h), &enc, &len, NULL) !=
		CERTMAP_OK ||
	    certmap_hint_decode(enc, len, &again, NULL) != CERTMAP_OK ||
	    !same(certmap_hint_upn(h), certmap_hint_upn(again)) ||
	    !same(certmap_hint_domain(h), certmap_hint_domain(again))) {
		abort();
	}
	if (single_entry(data, size) && (len != size || memcmp(enc, data, size) != 0)) {
		abort();
	}
	certmap_hint_free(again);
	certmap_hint_free(h);
	free(enc);
}

static void type_list(const uint8_t *data, size_t size)
{
	unsigned char types[CERTMAP_HINT_MAX_TYPES];
	unsigned char *enc = NULL;
	size_t n = 0, len = 0;
	char *msg = NULL;
	int rc = certmap_hint_types_decode(data, size, types, &n, &msg);

	if (rc != CERTMAP_OK) {
		if (rc != CERTMAP_ERR_HINT || n != 0 || msg == NULL) {
			abort();
		}
		free(msg);
		return;
	}
	if (certmap_hint_types_encode(types, n, &enc, &len) != CERTMAP_OK || len != size ||
	    memcmp(enc, data, size) != 0) {
		abort();
	}
	free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	data_list(data, size);
	type_list(data, size);
	return 0;
}

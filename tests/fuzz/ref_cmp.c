/* Comparison helpers of the differential fuzzers (ref_cmp.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref_cmp.h"

void ref_differ(const char *what)
{
	fprintf(stderr, "differential fuzzer: certmap and the reference differ: %s\n", what);
	abort();
}

void ref_cmp_bytes(const void *a, size_t alen, const void *b, size_t blen, const char *what)
{
	if (alen != blen || (alen > 0 && memcmp(a, b, alen) != 0)) {
		ref_differ(what);
	}
}

void ref_cmp_str(const char *a, const char *b, const char *what)
{
	if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0)) {
		ref_differ(what);
	}
}

void ref_cmp_value(const struct cm_value *a, const struct cm_value *b, const char *what)
{
	if ((a->data == NULL) != (b->data == NULL)) {
		ref_differ(what);
	}
	ref_cmp_bytes(a->data, a->len, b->data, b->len, what);
	ref_cmp_str(a->unusable, b->unusable, what);
}

void ref_cmp_name(const struct cm_name *a, const struct cm_name *b)
{
	ref_cmp_bytes(a->der, a->der_len, b->der, b->der_len, "name DER");
	if (a->n_avas != b->n_avas || a->n_rdns != b->n_rdns) {
		ref_differ("name AVA/RDN count");
	}
	for (size_t i = 0; i < a->n_avas; i++) {
		ref_cmp_str(a->avas[i].type, b->avas[i].type, "AVA type");
		ref_cmp_str(a->avas[i].oid, b->avas[i].oid, "AVA oid");
		ref_cmp_value(&a->avas[i].value, &b->avas[i].value, "AVA value");
		ref_cmp_value(&a->avas[i].sssd_value, &b->avas[i].sssd_value, "AVA sssd_value");
		if (a->avas[i].rdn != b->avas[i].rdn) {
			ref_differ("AVA rdn");
		}
	}
	ref_cmp_value(&a->sssd, &b->sssd, "name sssd");
	ref_cmp_value(&a->rfc4514, &b->rfc4514, "name rfc4514");
	ref_cmp_value(&a->x500, &b->x500, "name x500");
	/* Bytes only: which grid renderings are unusable is certmap's policy. */
	ref_cmp_bytes(a->grid.data, a->grid.len, b->grid.data, b->grid.len,
		      "name grid (X509_NAME_oneline)");
}

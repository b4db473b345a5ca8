/*
 * The reference name parser (d2i_X509_NAME + ASN1_STRING_print_ex), only
 * for the differential fuzzers: see ref_name.c.
 */
#ifndef CERTMAP_REF_NAME_H
#define CERTMAP_REF_NAME_H

#include <stddef.h>

#include "identity.h"
#include "name.h"

/*
 * Same contract as cm_name_parse (free with cm_name_clear): parses the DER
 * of one Name with OpenSSL, as mapper/name.c did before it walked the DER
 * itself.
 */
int ref_name_parse(const unsigned char *der, size_t len, struct cm_name *out,
		   char **errmsg);

/*
 * The text X509_NAME_print_ex(..., XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB)
 * prints for the Name, cut after cap bytes (malloc'd, its length in
 * *out_len), or NULL when OpenSSL rejects the Name or cannot print it:
 * what mapper/audit.c did before cm_name_print_rfc2253.
 */
char *ref_name_print(const unsigned char *der, size_t len, size_t cap, size_t *out_len);

#endif

/*
 * Distinguished names: parsing one DER Name into a struct cm_name with its
 * AVAs and the renderings libsss_certmap uses.
 */
#ifndef CERTMAP_NAME_H
#define CERTMAP_NAME_H

#include <stddef.h>

#include <openssl/types.h>

#include "identity.h"

/*
 * Parses the DER encoding of one X.501 Name (the whole TLV, no trailing
 * bytes) into *out, which the caller zeroes first. Returns 0, or
 * CERTMAP_ERR_CERT / CERTMAP_ERR_NOMEM with a malloc'd sentence in *errmsg
 * (when errmsg is not NULL). On failure *out is left cleared.
 *
 * Every Name d2i_X509_NAME rejects is rejected, and so is any encoding
 * that is not DER (see name.c). A value that cannot be shown as text (NUL
 * byte, not a string type) makes that AVA's value unusable; it is still
 * rendered (a non-string as '#' and the hex of its DER, as OpenSSL does).
 */
int cm_name_parse(const unsigned char *der, size_t len, struct cm_name *out,
		  char **errmsg);
/* cm_name_parse for a Name inside a certificate that cm_der_validate
 * has accepted as a whole (the Name's DER is not checked again). */
int cm_name_parse_validated(const unsigned char *der, size_t len, struct cm_name *out,
			    char **errmsg);
/* Frees everything a cm_name owns and zeroes it; NULL is a no-op. */
void cm_name_clear(struct cm_name *n);

/*
 * The Name at der (its whole DER, no trailing bytes) as
 * X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB)
 * prints it, cut after cap bytes: a malloc'd C string the caller frees.
 * NULL when this is left to OpenSSL: a Name that is not DER or that
 * d2i_X509_NAME rejects, a value that is no character string, an OID arc
 * of 2^63 or more, or out of memory. Whenever it answers, the text is
 * OpenSSL's byte for byte (tests/fuzz/fuzz_name_diff.c).
 */
char *cm_name_print_rfc2253(const unsigned char *der, size_t len, size_t cap);

/* The dotted text of an OID (malloc'd), or NULL when out of memory or
 * the OID cannot be printed. */
char *cm_oid_text(const ASN1_OBJECT *obj);
/* The same for the contents of a well-formed DER OBJECT IDENTIFIER
 * (cm_der_oid_ok), without making an ASN1_OBJECT unless an arc is huge. */
char *cm_oid_text_der(const unsigned char *p, size_t len);

#endif

/*
 * A strict DER cursor over untrusted bytes: one-byte tags only, definite
 * lengths in their shortest form, contents that never run past their
 * parent. Reads fail without moving the cursor.
 */
#ifndef CERTMAP_DER_H
#define CERTMAP_DER_H

#include <stdbool.h>
#include <stddef.h>

/* Deepest nesting cm_der_validate accepts. */
#define CM_DER_MAX_DEPTH 32

struct cm_der {
	const unsigned char *p;
	size_t len;
};

/*
 * Reads one TLV. On success moves c past it and returns 0 with the tag in
 * *tag, the contents in *content and, when tlv is not NULL, the whole
 * TLV in *tlv. Returns -1 (c unchanged) on a high tag number, an
 * indefinite or non-minimal length, or a length past the end.
 */
int cm_der_get(struct cm_der *c, unsigned char *tag, struct cm_der *content,
	       struct cm_der *tlv);
/* cm_der_get that also requires the tag to be tag. */
int cm_der_expect(struct cm_der *c, unsigned char tag, struct cm_der *content,
		  struct cm_der *tlv);
/* The tag of the next TLV, or -1 at the end. */
int cm_der_peek(const struct cm_der *c);

/*
 * True when p..len is exactly one DER TLV whose whole tree is DER:
 * constructed contents are TLVs that fill it exactly, universal string
 * types are primitive, BOOLEAN is 00 or ff, INTEGER is minimal, BIT STRING
 * has at most 7 unused bits that are zero, OBJECT IDENTIFIER is well
 * formed, NULL is empty, no end-of-contents, nesting at most
 * CM_DER_MAX_DEPTH. Primitive contents (an OCTET STRING holding an
 * extension) are not looked into.
 */
bool cm_der_validate(const unsigned char *p, size_t len);

/* The contents of an OBJECT IDENTIFIER are well formed (as OpenSSL's c2i). */
bool cm_der_oid_ok(const unsigned char *p, size_t len);

/* The contents of a BIT STRING are DER: unused bits 0..7, zero, none when empty. */
bool cm_der_bits_ok(const unsigned char *p, size_t len);

/* Equality of two byte ranges. */
bool cm_der_equal(const struct cm_der *a, const unsigned char *p, size_t len);

#endif

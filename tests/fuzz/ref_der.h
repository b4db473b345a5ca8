/*
 * Independent DER checks for the differential fuzzers: see ref_der.c.
 */
#ifndef CERTMAP_REF_DER_H
#define CERTMAP_REF_DER_H

#include <stdbool.h>

/*
 * True when p..len (a run of TLVs) breaks DER as mapper/der.c's
 * cm_der_validate enforces it: a non-minimal or indefinite length, a high
 * tag number, a constructed universal type other than SEQUENCE/SET, bad
 * contents of a universal primitive, nesting deeper than 32 (depth counts
 * the levels above p).
 */
bool ref_der_tree_bad(const unsigned char *p, long len, int depth);
/* p..len is exactly one TLV (nothing after it). */
bool ref_der_single_tlv(const unsigned char *p, long len);

#endif

/*
 * A strict DER cursor over untrusted bytes: one-byte tags only, definite
 * lengths in their shortest form, contents that never run past their
 * parent. Reads fail without moving the cursor.
 */
#ifndef CERTMAP_DER_H
#define CERTMAP_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Deepest nesting cm_der_validate accepts. */
#define CM_DER_MAX_DEPTH 32

struct cm_der {
	const unsigned char *p;
	size_t len;
};

/*
 * Parses a length at p (avail bytes): stores it in *out and returns the
 * bytes it takes, or 0 when it is indefinite, not minimal, over 4 bytes
 * long, or runs past avail.
 */
static inline size_t cm_der_length(const unsigned char *p, size_t avail, size_t *out)
{
	size_t k, n = 0;

	if (avail < 1) {
		return 0;
	}
	if (!(p[0] & 0x80)) {
		*out = p[0];
		return 1;
	}
	k = p[0] & 0x7f;
	/* 0x80 is BER's indefinite length; more than 4 bytes exceeds any cap. */
	if (k == 0 || k > 4 || avail < 1 + k || p[1] == 0) {
		return 0;
	}
	for (size_t i = 0; i < k; i++) {
		n = (n << 8) | p[1 + i];
	}
	/* Minimal: the long form only from 128 on. */
	if (n < 0x80) {
		return 0;
	}
	*out = n;
	return 1 + k;
}

/*
 * Reads one TLV. On success moves c past it and returns 0 with the tag in
 * *tag, the contents in *content and, when tlv is not NULL, the whole
 * TLV in *tlv. Returns -1 (c unchanged) on a high tag number, an
 * indefinite or non-minimal length, or a length past the end. Inline:
 * the walkers call it for every field of a certificate.
 */
static inline int cm_der_get(struct cm_der *c, unsigned char *tag, struct cm_der *content,
			     struct cm_der *tlv)
{
	size_t hdr, n = 0;

	if (c->len < 2 || (c->p[0] & 0x1f) == 0x1f) {
		return -1;
	}
	hdr = cm_der_length(c->p + 1, c->len - 1, &n);
	if (hdr == 0 || n > c->len - 1 - hdr) {
		return -1;
	}
	hdr += 1;
	*tag = c->p[0];
	content->p = c->p + hdr;
	content->len = n;
	if (tlv != NULL) {
		tlv->p = c->p;
		tlv->len = hdr + n;
	}
	c->p += hdr + n;
	c->len -= hdr + n;
	return 0;
}

/* The tag of the next TLV, or -1 at the end. */
static inline int cm_der_peek(const struct cm_der *c)
{
	return c->len > 0 ? c->p[0] : -1;
}

/* cm_der_get that also requires the tag to be tag. */
static inline int cm_der_expect(struct cm_der *c, unsigned char tag, struct cm_der *content,
				struct cm_der *tlv)
{
	if (cm_der_peek(c) != tag) {
		return -1;
	}
	return cm_der_get(c, &tag, content, tlv);
}

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

/* Equality of two byte ranges. Inline, the last byte first: the walker
 * compares each extension's OID with a list of others of its arc
 * (2.5.29.x), which differ only there. */
static inline bool cm_der_equal(const struct cm_der *a, const unsigned char *p, size_t len)
{
	return a->len == len &&
	       (len == 0 || (a->p[len - 1] == p[len - 1] && memcmp(a->p, p, len) == 0));
}

#endif

/*
 * Whether an uncompressed elliptic-curve point lies on a named prime
 * curve, by plain Montgomery arithmetic: the check d2i_X509 makes when it
 * decodes an EC public key (EC_POINT_oct2point), without OpenSSL's
 * BN_CTX, BIGNUM allocations and conversions, which cost more than the
 * rest of a certificate's parse.
 */
#ifndef CERTMAP_EC_POINT_H
#define CERTMAP_EC_POINT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ec.h>

/* Up to P-521: 9 limbs of 64 bits. */
#define CM_EC_MAX_LIMBS 9

struct cm_ec_field {
	size_t n;          /* limbs; 0 when the curve could not be set up */
	size_t bytes;      /* field element size in bytes */
	unsigned long long p[CM_EC_MAX_LIMBS];
	unsigned long long r2[CM_EC_MAX_LIMBS]; /* R^2 mod p, R = 2^(64 n) */
	unsigned long long a[CM_EC_MAX_LIMBS];  /* a R mod p */
	unsigned long long b[CM_EC_MAX_LIMBS];  /* b R mod p */
	unsigned long long p0inv;               /* -p^-1 mod 2^64 */
};

/* Fills f from a prime-field group; f->n stays 0 on any failure. */
void cm_ec_field_init(struct cm_ec_field *f, const EC_GROUP *g);

/*
 * 1 when p..len is 04 || X || Y with X, Y below the field prime and
 * y^2 = x^3 + a x + b; 0 when it is such an encoding but not on the curve
 * or out of range; -1 when it is another form (compressed, hybrid,
 * another length) or f is not set up: the caller asks OpenSSL then.
 */
int cm_ec_point_on_curve(const struct cm_ec_field *f, const unsigned char *p, size_t len);

#endif

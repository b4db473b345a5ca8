/* On-curve check of uncompressed EC points (ec_point.h). */
#include "config.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "ec_point.h"

typedef unsigned long long limb;
typedef unsigned __int128 dlimb;

/* Big-endian bytes (len <= 8 n) to n little-endian limbs. */
static void from_bytes(limb *r, size_t n, const unsigned char *p, size_t len)
{
	memset(r, 0, n * sizeof(*r));
	for (size_t i = 0; i < len; i++) {
		size_t bit = 8 * (len - 1 - i);

		r[bit / 64] |= (limb)p[i] << (bit % 64);
	}
}

/* a < b, n limbs. */
static bool less(const limb *a, const limb *b, size_t n)
{
	for (size_t i = n; i-- > 0;) {
		if (a[i] != b[i]) {
			return a[i] < b[i];
		}
	}
	return false;
}

/* r = a - b (n limbs); returns the borrow. */
static limb sub(limb *r, const limb *a, const limb *b, size_t n)
{
	limb borrow = 0;

	for (size_t i = 0; i < n; i++) {
		dlimb d = (dlimb)a[i] - b[i] - borrow;

		r[i] = (limb)d;
		borrow = (limb)(d >> 64) & 1;
	}
	return borrow;
}

/* r = a + b mod p, a and b below p. */
static void mod_add(limb *r, const limb *a, const limb *b, const struct cm_ec_field *f)
{
	limb carry = 0, t[CM_EC_MAX_LIMBS];

	for (size_t i = 0; i < f->n; i++) {
		dlimb s = (dlimb)a[i] + b[i] + carry;

		t[i] = (limb)s;
		carry = (limb)(s >> 64);
	}
	if (carry != 0 || !less(t, f->p, f->n)) {
		(void)sub(t, t, f->p, f->n);
	}
	memcpy(r, t, f->n * sizeof(*r));
}

/* r = a b R^-1 mod p (CIOS Montgomery multiplication), a and b below p. */
static void mont_mul(limb *r, const limb *a, const limb *b, const struct cm_ec_field *f)
{
	limb t[CM_EC_MAX_LIMBS + 2] = { 0 };
	size_t n = f->n;

	for (size_t i = 0; i < n; i++) {
		dlimb c = 0;
		limb u;

		for (size_t j = 0; j < n; j++) {
			c += (dlimb)a[j] * b[i] + t[j];
			t[j] = (limb)c;
			c >>= 64;
		}
		c += t[n];
		t[n] = (limb)c;
		t[n + 1] = (limb)(c >> 64);
		u = t[0] * f->p0inv;
		c = (dlimb)u * f->p[0] + t[0];
		c >>= 64;
		for (size_t j = 1; j < n; j++) {
			c += (dlimb)u * f->p[j] + t[j];
			t[j - 1] = (limb)c;
			c >>= 64;
		}
		c += t[n];
		t[n - 1] = (limb)c;
		t[n] = t[n + 1] + (limb)(c >> 64);
	}
	/* t < 2p: one subtraction at most. */
	if (t[n] != 0 || !less(t, f->p, n)) {
		(void)sub(t, t, f->p, n);
	}
	memcpy(r, t, n * sizeof(*r));
}

/* The limbs of a BIGNUM below 2^(64 n); false if it does not fit. */
static bool bn_limbs(limb *r, size_t n, const BIGNUM *bn)
{
	unsigned char buf[8 * CM_EC_MAX_LIMBS];

	if (BN_is_negative(bn) || BN_bn2binpad(bn, buf, (int)(8 * n)) < 0) {
		return false;
	}
	from_bytes(r, n, buf, 8 * n);
	return true;
}

void cm_ec_field_init(struct cm_ec_field *f, const EC_GROUP *g)
{
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *p = BN_new(), *a = BN_new(), *b = BN_new(), *r2 = BN_new();
	limb inv = 1, a1[CM_EC_MAX_LIMBS], b1[CM_EC_MAX_LIMBS];
	size_t n;

	memset(f, 0, sizeof(*f));
	if (g == NULL || ctx == NULL || p == NULL || a == NULL || b == NULL || r2 == NULL ||
	    EC_GROUP_get_field_type(g) != NID_X9_62_prime_field ||
	    EC_GROUP_get_curve(g, p, a, b, ctx) != 1 || !BN_is_odd(p)) {
		goto out;
	}
	n = ((size_t)BN_num_bits(p) + 63) / 64;
	if (n == 0 || n > CM_EC_MAX_LIMBS || !BN_set_bit(r2, (int)(128 * n)) ||
	    !BN_mod(r2, r2, p, ctx) || !bn_limbs(f->p, n, p) || !bn_limbs(f->r2, n, r2) ||
	    !bn_limbs(a1, n, a) || !bn_limbs(b1, n, b) || BN_cmp(a, p) >= 0 || BN_cmp(b, p) >= 0) {
		goto out;
	}
	/* Newton's iteration doubles the correct low bits of p^-1 each step. */
	for (int i = 0; i < 6; i++) {
		inv *= 2 - f->p[0] * inv;
	}
	f->p0inv = 0 - inv;
	f->bytes = (size_t)BN_num_bytes(p);
	f->n = n;
	mont_mul(f->a, a1, f->r2, f);
	mont_mul(f->b, b1, f->r2, f);
out:
	if (f->n == 0) {
		memset(f, 0, sizeof(*f));
	}
	BN_free(p);
	BN_free(a);
	BN_free(b);
	BN_free(r2);
	BN_CTX_free(ctx);
	ERR_clear_error();
}

int cm_ec_point_on_curve(const struct cm_ec_field *f, const unsigned char *p, size_t len)
{
	limb x[CM_EC_MAX_LIMBS], y[CM_EC_MAX_LIMBS], lhs[CM_EC_MAX_LIMBS], rhs[CM_EC_MAX_LIMBS],
	     t[CM_EC_MAX_LIMBS];

	if (f->n == 0 || len != 1 + 2 * f->bytes || p[0] != 0x04) {
		return -1;
	}
	from_bytes(x, f->n, p + 1, f->bytes);
	from_bytes(y, f->n, p + 1 + f->bytes, f->bytes);
	if (!less(x, f->p, f->n) || !less(y, f->p, f->n)) {
		return 0;
	}
	/* Into the Montgomery domain: xR, yR. */
	mont_mul(x, x, f->r2, f);
	mont_mul(y, y, f->r2, f);
	/* y^2 R and (x^2 + a) x R + b R. */
	mont_mul(lhs, y, y, f);
	mont_mul(t, x, x, f);
	mod_add(t, t, f->a, f);
	mont_mul(rhs, t, x, f);
	mod_add(rhs, rhs, f->b, f);
	return memcmp(lhs, rhs, f->n * sizeof(*lhs)) == 0 ? 1 : 0;
}

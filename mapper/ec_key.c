/*
 * EC public key check with OpenSSL's own point decoder. What costs is not
 * the decode (~0.6 us) but setting up a group (~9 us), a BN_CTX and a
 * point, so the groups are made once and kept for the life of the process
 * (reachable, never freed: OpenSSL may already be cleaned up at exit).
 * openssl-threads(7): an object is safe to share while only functions
 * taking it as const use it; EC_POINT_oct2point and EC_GROUP_order_bits
 * take a const EC_GROUP. The scratch BN_CTX and points are not shareable:
 * one set, taken with trylock; a thread that finds it busy makes its own.
 */
#include "config.h"

#include "ec_key.h"

#include <pthread.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>

static struct ec_curve {
	const unsigned char *oid;
	size_t oid_len;
	int nid;
	EC_GROUP *group; /* made once, read-only afterwards */
	EC_POINT *scratch; /* under scratch_lock */
} curves[] = {
	{ (const unsigned char *)"\x2a\x86\x48\xce\x3d\x03\x01\x07", 8, NID_X9_62_prime256v1, NULL,
	  NULL },
	{ (const unsigned char *)"\x2b\x81\x04\x00\x22", 5, NID_secp384r1, NULL, NULL },
	{ (const unsigned char *)"\x2b\x81\x04\x00\x23", 5, NID_secp521r1, NULL, NULL },
	{ (const unsigned char *)"\x2b\x81\x04\x00\x0a", 5, NID_secp256k1, NULL, NULL },
};
static pthread_once_t curves_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t scratch_lock = PTHREAD_MUTEX_INITIALIZER;
static BN_CTX *scratch_ctx; /* under scratch_lock */

static void curves_init(void)
{
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		curves[i].group = EC_GROUP_new_by_curve_name(curves[i].nid);
		if (curves[i].group != NULL) {
			curves[i].scratch = EC_POINT_new(curves[i].group);
		}
	}
	scratch_ctx = BN_CTX_new();
	ERR_clear_error();
}

/* 1 when point..len decodes on c's group, 0 otherwise. */
static int on_curve(const struct ec_curve *c, const unsigned char *point, size_t len)
{
	EC_POINT *pt = NULL;
	int ok;

	if (c->scratch != NULL && scratch_ctx != NULL && pthread_mutex_trylock(&scratch_lock) == 0) {
		ok = EC_POINT_oct2point(c->group, c->scratch, point, len, scratch_ctx) == 1;
		pthread_mutex_unlock(&scratch_lock);
	} else {
		pt = EC_POINT_new(c->group);
		ok = pt != NULL && EC_POINT_oct2point(c->group, pt, point, len, NULL) == 1;
		EC_POINT_free(pt);
	}
	return ok;
}

int cm_ec_key_bits(const unsigned char *oid, size_t oid_len, const unsigned char *point,
		   size_t len)
{
	const struct ec_curve *c = NULL;
	int bits = -1;

	if (len == 0 || (point[0] != 0x02 && point[0] != 0x03 && point[0] != 0x04) ||
	    pthread_once(&curves_once, curves_init) != 0) {
		return -1;
	}
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		if (curves[i].oid_len == oid_len && memcmp(curves[i].oid, oid, oid_len) == 0) {
			c = &curves[i];
		}
	}
	if (c != NULL && c->group != NULL && on_curve(c, point, len)) {
		bits = EC_GROUP_order_bits(c->group);
	} else {
		ERR_clear_error();
	}
	return bits;
}

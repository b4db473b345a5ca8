/*
 * An EC public key's size as d2i_X509 would judge it: the named curve
 * must be one certmap knows and the point must decode on it
 * (EC_POINT_oct2point). The groups are made once per process.
 */
#ifndef CERTMAP_EC_KEY_H
#define CERTMAP_EC_KEY_H

#include <stddef.h>

/*
 * Order bits of the curve whose OID content octets are oid..oid_len when
 * point..len is a point on it in a form OpenSSL decodes (02/03/04 prefix),
 * or -1: another curve (the caller asks OpenSSL's full decoder), an
 * undecodable point, no memory.
 */
int cm_ec_key_bits(const unsigned char *oid, size_t oid_len, const unsigned char *point,
		   size_t len);

#endif

/*
 * Windows SIDs for ldap domains: the binary form of objectSid, its
 * "S-1-5-21-..." text, and ids computed from it exactly as SSSD's default
 * ldap_id_mapping computes them (ids = "sid").
 */
#ifndef CERTMAP_SID_H
#define CERTMAP_SID_H

#include <stddef.h>
#include <stdint.h>

/* SSSD's defaults: ldap_idmap_range_min, _max, _size. */
#define CM_IDMAP_LOWER 200000U
#define CM_IDMAP_UPPER 2000200000U
#define CM_IDMAP_RANGESIZE 200000U

/* A binary SID as text; NULL when malformed or out of memory. */
char *cm_sid_text(const unsigned char *p, size_t len);

/*
 * The POSIX id of a SID as SSSD maps it with its default settings and one
 * domain: the domain SID (all but the last sub-authority) picks a slice of
 * CM_IDMAP_RANGESIZE ids by MurmurHash3 (seed 0xdeadbeef), and the RID is
 * the offset in it. Returns 0 and *id, or -1 when sid is not a user or
 * group SID of a domain ("S-1-5-21-a-b-c-RID", as SSSD requires) or the RID
 * does not fit the first slice (SSSD's secondary slices are not computed).
 */
int cm_sid_to_id(const char *sid, uint32_t *id);

/* "domain-SID-rid" for another RID of the same domain; NULL if malformed. */
char *cm_sid_with_rid(const char *sid, uint32_t rid);

/* The binary form of a domain user or group SID ("S-1-5-21-a-b-c-RID")
 * into out (at least 28 bytes). Returns its length, or 0 if sid has
 * another form. */
size_t cm_sid_binary(const char *sid, unsigned char *out);

/* The RID of a domain user or group SID. Returns 0, or -1 for another form. */
int cm_sid_rid(const char *sid, uint32_t *rid);

/* MurmurHash3 x86_32 as SSSD uses it. */
uint32_t cm_murmurhash3(const void *key, size_t len, uint32_t seed);

#endif

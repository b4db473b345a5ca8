/*
 * The answers of ldap domains, kept for a while (cache_ttl, and
 * negative_cache_ttl for searches that found nothing) so that a mapping
 * seen before does not reach the directory. One cache per domain and
 * process, shared by every thread; values are copied in and out under its
 * lock. Errors (an unreachable directory) are never kept.
 */
#ifndef CERTMAP_LDAP_CACHE_H
#define CERTMAP_LDAP_CACHE_H

#include <stdbool.h>

#include "backend.h"

struct cm_ldap_cache;

/* A cache of at most max_entries answers; NULL when out of memory. */
struct cm_ldap_cache *cm_ldap_cache_new(size_t max_entries);
void cm_ldap_cache_free(struct cm_ldap_cache *c);

/*
 * Looks key up. On a hit, *hit is true and out (cleared on entry) holds a
 * copy of the search's accounts, or groups a copy of the group names.
 * Returns 0 or CERTMAP_ERR_NOMEM.
 */
int cm_ldap_cache_get_list(struct cm_ldap_cache *c, const char *key,
			   struct cm_account_list *out, bool *hit);
int cm_ldap_cache_get_groups(struct cm_ldap_cache *c, const char *key,
			     struct cm_strv *groups, bool *hit);

/* Keeps a copy for ttl seconds (0: not kept). Returns 0 or CERTMAP_ERR_NOMEM;
 * a full cache first drops expired entries, then keeps nothing new. */
int cm_ldap_cache_put_list(struct cm_ldap_cache *c, const char *key,
			   const struct cm_account_list *l, unsigned int ttl);
int cm_ldap_cache_put_groups(struct cm_ldap_cache *c, const char *key,
			     const struct cm_strv *groups, unsigned int ttl);

#endif

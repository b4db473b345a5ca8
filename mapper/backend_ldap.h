/*
 * ldap domains: accounts and groups from a directory through libldap
 * (backend.h dispatches here). See backend_ldap.c for connections,
 * failover and timeouts.
 */
#ifndef CERTMAP_BACKEND_LDAP_H
#define CERTMAP_BACKEND_LDAP_H

#include "backend.h"

struct cm_ldap_pool;

/* An empty connection pool for one domain; NULL when out of memory. */
struct cm_ldap_pool *cm_ldap_pool_new(void);
/* Closes every idle connection; no connection may be in use. */
void cm_ldap_pool_free(struct cm_ldap_pool *p);

/*
 * Searches the domain for (&<user_filter><filter>) (is_filter) or for the
 * account whose attr_name is key. Fills out (cleared on entry) with every
 * usable entry, notes for unusable ones, and truncated when the directory
 * holds more than size_limit. Returns 0, CERTMAP_ERR_NOMEM or
 * CERTMAP_ERR_BACKEND (no server answered in time, or the search failed)
 * with a malloc'd sentence in *msg.
 */
int cm_ldap_find(const struct cm_domain *d, const char *key, bool is_filter,
		 struct cm_account_list *out, char **msg);

/* Resolves acct->groups per the domain's group schema. Returns 0,
 * CERTMAP_ERR_NOMEM or CERTMAP_ERR_BACKEND (msg set). */
int cm_ldap_groups(const struct cm_domain *d, struct cm_account *acct, char **msg);

#endif

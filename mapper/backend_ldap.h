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

/* Whether the domain's directory answered its last operation (true
 * before the first one). */
bool cm_ldap_up(const struct cm_domain *d);

/* What check-config --online found for one URI of a domain. */
struct cm_ldap_check_result {
	const char *uri;   /* the domain's, not a copy */
	const char *stage; /* NULL: bound and read the base; else "connect",
			      "tls", "bind" or "base" */
	char *msg;         /* malloc'd: what failed (NULL when nothing did) */
	long ms;           /* time taken */
};

/*
 * Opens and binds a connection to each URI of the domain in order (as the
 * backend does, bypassing its pool and its retry_interval) and reads the
 * base entry (and group_base when it differs). Fills out[0..*n) (at most
 * max); returns 0 when every URI passed, CERTMAP_ERR_BACKEND otherwise.
 * The caller frees each msg.
 */
int cm_ldap_check(const struct cm_domain *d, struct cm_ldap_check_result *out, size_t max,
		  size_t *n);

#endif

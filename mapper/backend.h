/*
 * Account backends: where the candidates a rule produced are looked up.
 * The local backend asks NSS; ldap domains will search a directory.
 */
#ifndef CERTMAP_BACKEND_H
#define CERTMAP_BACKEND_H

#include <sys/types.h>

#include "conf.h"
#include "util.h"

/* Cap on the number of groups reported for one account. */
#define CM_MAX_GROUPS 4096

struct cm_account {
	char *name;
	uid_t uid;
	gid_t gid;
	char *home;
	struct cm_strv groups;   /* names, primary group first */
};

/*
 * Looks an account up by name in a domain. Returns 0 with *acct filled
 * (groups not yet resolved), CERTMAP_ERR_NOT_FOUND when the domain has no
 * such account, or CERTMAP_ERR_BACKEND with a malloc'd sentence in *msg.
 */
int cm_backend_lookup(const struct cm_domain *d, const char *name,
		      struct cm_account *acct, char **msg);

/* Resolves acct->groups. Group ids that the backend cannot name are left
 * out. Returns 0, CERTMAP_ERR_NOMEM or CERTMAP_ERR_BACKEND. */
int cm_backend_groups(const struct cm_domain *d, struct cm_account *acct,
		      char **msg);

void cm_account_clear(struct cm_account *acct);

/* The NSS implementations behind the local domain. */
int cm_local_lookup(const char *name, struct cm_account *acct, char **msg);
int cm_local_groups(struct cm_account *acct, char **msg);

#endif

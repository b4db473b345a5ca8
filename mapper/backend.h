/*
 * Account backends: where the candidates a rule produced are looked up.
 * The local backend asks NSS (backend_local.c); ldap domains search a
 * directory (backend_ldap.c).
 */
#ifndef CERTMAP_BACKEND_H
#define CERTMAP_BACKEND_H

#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <sys/types.h>

#include "conf.h"
#include "identity.h"
#include "util.h"

/* Cap on the number of groups reported for one account. */
#define CM_MAX_GROUPS 4096

struct cm_account {
	char *name;
	uid_t uid;
	gid_t gid;
	char *home;
	struct cm_strv groups;   /* names, primary group first */
	char *dn;                /* ldap domains: the entry's DN */
	struct cm_strv member_of;/* ldap domains with groups = "memberof" */
	char *sid;               /* ldap domains: the entry's objectSid as S-1-... */
	/* certificate domains: a name and groups only; uid and gid are
	 * (uid_t)-1 and home is NULL, and nothing may treat them as an account. */
	bool no_account;
};

/* What one search in a domain found. */
struct cm_account_list {
	struct cm_account *v;
	size_t n;
	bool truncated;          /* the directory holds more than size_limit */
	struct cm_strv skipped;  /* why an entry found could not be used */
	char *trace;             /* ldap: server, filter, entries, time (or NULL) */
};

/* Resolves acct->groups. Group ids that the backend cannot name are left
 * out. Returns 0, CERTMAP_ERR_NOMEM or CERTMAP_ERR_BACKEND. */
int cm_backend_groups(const struct cm_domain *d, struct cm_account *acct,
		      char **msg);

void cm_account_clear(struct cm_account *acct);

/* Whether the domain's backend answered its last lookup: an ldap
 * domain's directory; local (NSS, in-process) and certificate domains
 * have nothing remote and are always up. For certmapd's /metrics. */
bool cm_backend_up(const struct cm_domain *d);

/*
 * Finds the accounts for one expanded rule in a domain: key is a user name
 * (LOCAL:, MAPFILE:) or, when is_filter, an LDAP filter (LDAP:, LDAPU1:,
 * ldap domains only). out is cleared on entry; zero accounts is not an
 * error. Returns 0, CERTMAP_ERR_NOMEM, or CERTMAP_ERR_BACKEND with a
 * malloc'd sentence in *msg.
 */
int cm_backend_find(const struct cm_domain *d, const char *key, bool is_filter,
		    struct cm_account_list *out, char **msg);
void cm_account_list_clear(struct cm_account_list *l);

/*
 * A certificate domain (backend_cert.c): key is the user name; the groups
 * come from id through the domain's group_map, and out->trace says which
 * certificate values were dropped. Same contract as cm_backend_find.
 */
int cm_cert_find(const struct cm_domain *d, const char *key, const struct cm_identity *id,
		 struct cm_account_list *out, char **msg);

/* The NSS implementations behind the local domain. */
int cm_local_lookup(const char *name, struct cm_account *acct, char **msg);
int cm_local_groups(struct cm_account *acct, char **msg);

/*
 * NSS calls with their buffers grown on ERANGE (to 1 MiB); *buf is the
 * caller's to free. cm_nss_getpw looks name up, or uid when name is NULL.
 * The getpw/getgr forms return the call's error number (0 when it
 * succeeded) with *found telling whether an entry came back, or -1 when
 * the buffer cannot grow; *size 0 means "start small". cm_nss_grouplist
 * returns the number of gids, -1 out of memory, -2 more than max.
 */
int cm_nss_getpw(const char *name, uid_t uid, struct passwd *pw, char **buf, bool *found);
int cm_nss_getgr(gid_t gid, struct group *gr, char **buf, size_t *size, bool *found);
int cm_nss_grouplist(const char *name, gid_t gid, int max, gid_t **gids);

#endif

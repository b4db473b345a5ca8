/*
 * The settings of an ldap domain (certmap.conf(5), "LDAP DOMAINS"):
 * checked when the configuration is loaded, used by backend_ldap.c.
 * conf.c hands every domain with type = "ldap" to cm_conf_ldap_load().
 */
#ifndef CERTMAP_CONF_LDAP_H
#define CERTMAP_CONF_LDAP_H

#include <libconfig.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

struct cm_domain;
struct cm_ldap_pool;
struct cm_ldap_cache;

#define CM_LDAP_MAX_URIS 16
#define CM_LDAP_DEFAULT_TIMEOUT 3
#define CM_LDAP_DEFAULT_SIZE_LIMIT 10
#define CM_LDAP_DEFAULT_RETRY 30
#define CM_LDAP_DEFAULT_GROUP_DEPTH 4
#define CM_LDAP_DEFAULT_POOL_SIZE 8
#define CM_LDAP_DEFAULT_CACHE_TTL 60
#define CM_LDAP_DEFAULT_NEGATIVE_CACHE_TTL 10
#define CM_LDAP_DEFAULT_PRIMARY_GROUP_TTL 60
#define CM_LDAP_DEFAULT_CACHE_SIZE 10000
/* A bind password file holds one line of at most this many bytes. */
#define CM_LDAP_MAX_PASSWORD 1024

enum cm_ldap_groups {
	CM_LDAP_GROUPS_RFC2307 = 0, /* memberUid holds user names */
	CM_LDAP_GROUPS_RFC2307BIS,  /* member holds DNs, groups nest */
	CM_LDAP_GROUPS_MEMBEROF,    /* the user's memberOf holds group DNs */
	CM_LDAP_GROUPS_NONE,        /* the primary group only */
};

enum cm_ldap_ids {
	CM_LDAP_IDS_DIRECTORY = 0,  /* uid, gid, groups from the directory */
	CM_LDAP_IDS_NSS,            /* the directory finds the name, NSS the rest */
	CM_LDAP_IDS_SID,            /* ids computed from objectSid as SSSD does */
};

struct cm_ldap_conf {
	const char *const *uri;     /* the domain's uri list (owned by the domain) */
	size_t n_uri;
	const char *base;           /* the domain's base (owned by the domain) */
	int scope;                  /* LDAP_SCOPE_* */
	char *user_filter;
	char *bind_dn;
	char *bind_password_file;
	char *sasl_mech;            /* "EXTERNAL" or NULL */
	bool starttls;
	char *tls_ca_file;
	unsigned int timeout;       /* seconds: connect, bind, each search */
	unsigned int size_limit;    /* entries per user search */
	unsigned int retry_interval;/* seconds a failed URI is passed over */
	unsigned int pool_size;     /* idle connections kept per domain */
	unsigned int cache_ttl;     /* seconds an answer is kept */
	unsigned int negative_cache_ttl; /* ... a search that found nothing */
	unsigned int primary_group_ttl; /* ... a gid's group name */
	unsigned int cache_size;    /* answers kept per domain */
	char *attr_name, *attr_uid, *attr_gid, *attr_home;
	char *attr_member_of, *attr_member, *attr_member_uid, *attr_group_name;
	char *attr_sid, *attr_primary_group;
	enum cm_ldap_groups groups;
	unsigned int group_depth;
	char *group_base;
	char *group_filter;
	enum cm_ldap_ids ids;
	uid_t service_uid;          /* may own the password file; -1 if none */
	struct cm_ldap_pool *pool;  /* connections, see backend_ldap.c */
	struct cm_ldap_cache *cache;/* answers, see ldap_cache.c; NULL if off */
};

/* Records one configuration error; conf.c adds file, line and path. */
typedef void cm_conf_err_fn(void *ctx, const config_setting_t *s,
			    const char *name, const char *msg);

/*
 * Reads and checks the ldap settings of domain group g into d->ldap (the
 * common settings name, type, uri, base, groups, min_uid and allow_uid0
 * are already in d). file is the configuration's path (relative file
 * names are relative to its directory). Every problem goes to err.
 * Returns 0, or -1 when out of memory.
 */
int cm_conf_ldap_load(const config_setting_t *g, const char *file,
		      struct cm_domain *d, cm_conf_err_fn *err, void *ctx);
void cm_conf_ldap_free(struct cm_ldap_conf *lc);

/* Adds the files an ldap domain reads while it runs (bind_password_file,
 * tls_ca_file) to files, once each; lc may be NULL. Returns 0 or
 * CERTMAP_ERR_NOMEM. */
struct cm_strv;
int cm_conf_ldap_files(const struct cm_ldap_conf *lc, struct cm_strv *files);

/*
 * Checks a bind password file (regular, no access for group and others,
 * owned by root, the caller or service_uid). Returns NULL when it is
 * acceptable, else a static sentence. st comes from fstat or stat.
 */
const char *cm_ldap_password_file_problem(const struct stat *st, uid_t service_uid);

#endif

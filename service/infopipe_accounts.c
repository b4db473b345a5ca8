/*
 * certmapd's D-Bus face: which accounts it shows and where they come
 * from. A local domain's accounts are read from NSS; an ldap domain's
 * through libcertmap's backend (cm_backend_find, cm_backend_groups), the
 * very lookups a mapping makes, with the domain's cache. Either way an
 * account is shown only when its domain's min_uid and allow_uid0 admit it,
 * since certmap would never map it otherwise. Certificate domains have no
 * accounts. Nothing here builds an LDAP filter from a caller's text: names
 * go to the backend as names (it escapes them, RFC 4515), and the only
 * filter made here holds a number parsed from an object path.
 *
 * A directory that cannot be asked is IFP_E_UNAVAILABLE, never NotFound:
 * a caller must not take "the directory is down" for "no such user".
 */
#include "config.h"

#ifdef HAVE_SYSTEMD

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "conf_ldap.h"
#include "infopipe_int.h"

bool ifp_user_domain(const struct cm_domain *d)
{
	return d->type == CM_DOMAIN_LOCAL || d->type == CM_DOMAIN_LDAP;
}

/* decision.c's uid policy. */
static bool uid_admitted(const struct cm_domain *d, uid_t uid)
{
	return uid == 0 ? d->allow_uid0 : uid >= d->min_uid;
}

void ifp_acct_clear(struct ifp_acct *a)
{
	cm_account_clear(&a->ca);
	ifp_account_clear(&a->nss);
	memset(a, 0, sizeof(*a));
}

/* The passwd entry (by name or uid) into a->nss and its values into a->ca. */
static int from_nss(struct ifp_acct *a, const char *name, uid_t uid, char **msg)
{
	int r = ifp_account_get(&a->nss, name, uid);

	/* POSIX lets "no such user" come back as these (backend_local.c). */
	if (r == -ENOENT || r == -ESRCH || r == -EBADF || r == -EPERM) {
		return CERTMAP_ERR_NOT_FOUND;
	}
	if (r < 0) {
		*msg = cm_asprintf("NSS lookup failed: %s", strerror(-r));
		return CERTMAP_ERR_BACKEND;
	}
	a->has_nss = true;
	if (a->ca.name != NULL) {
		return CERTMAP_OK; /* ids = "nss": the directory named it */
	}
	a->ca.name = strdup(a->nss.pw.pw_name);
	a->ca.home = strdup(a->nss.pw.pw_dir != NULL ? a->nss.pw.pw_dir : "");
	a->ca.uid = a->nss.pw.pw_uid;
	a->ca.gid = a->nss.pw.pw_gid;
	return a->ca.name == NULL || a->ca.home == NULL ? CERTMAP_ERR_NOMEM : CERTMAP_OK;
}

/* One directory search (a name, or a filter when is_filter): exactly one
 * account, taken into a->ca, or CERTMAP_ERR_NOT_FOUND. */
static int from_directory(struct ifp_acct *a, const char *key, bool is_filter, char **msg)
{
	struct cm_account_list l = {0};
	int rc = cm_backend_find(a->d, key, is_filter, &l, msg);

	if (rc == CERTMAP_OK && l.n != 1) {
		/* None, or several with one uidNumber: which one would be a guess. */
		rc = CERTMAP_ERR_NOT_FOUND;
	}
	if (rc == CERTMAP_OK) {
		a->ca = l.v[0];
		memset(&l.v[0], 0, sizeof(l.v[0]));
	}
	cm_account_list_clear(&l);
	return rc;
}

/*
 * The account called name in domain d: 0, CERTMAP_ERR_NOT_FOUND (also a
 * uid the domain does not admit), CERTMAP_ERR_BACKEND with *msg, or
 * CERTMAP_ERR_NOMEM. A directory matches names without regard to case;
 * the face, like SSSD with case_sensitive = true, wants the exact name.
 */
static int lookup_name(const struct cm_domain *d, const char *name, struct ifp_acct *a, char **msg)
{
	int rc;

	memset(a, 0, sizeof(*a));
	a->d = d;
	if (d->type == CM_DOMAIN_LOCAL) {
		rc = from_nss(a, name, 0, msg);
	} else if (d->type == CM_DOMAIN_LDAP) {
		rc = from_directory(a, name, false, msg);
		if (rc == CERTMAP_OK && strcmp(a->ca.name, name) != 0) {
			rc = CERTMAP_ERR_NOT_FOUND;
		}
		/* ids = "nss": the passwd entry has the gecos and the shell. */
		if (rc == CERTMAP_OK && d->ldap->ids == CM_LDAP_IDS_NSS) {
			rc = from_nss(a, a->ca.name, 0, msg);
		}
	} else {
		rc = CERTMAP_ERR_NOT_FOUND;
	}
	if (rc == CERTMAP_OK && !uid_admitted(d, a->ca.uid)) {
		rc = CERTMAP_ERR_NOT_FOUND;
	}
	if (rc != CERTMAP_OK) {
		ifp_acct_clear(a);
	}
	return rc;
}

/* The D-Bus error for a lookup's rc; what says what was looked for. */
static int set_error(sd_bus_error *err, int rc, const char *msg, const char *what)
{
	switch (rc) {
	case CERTMAP_ERR_NOT_FOUND: return sd_bus_error_setf(err, IFP_E_NOT_FOUND, "%s", what);
	case CERTMAP_ERR_BACKEND:
		return sd_bus_error_setf(err, IFP_E_UNAVAILABLE, "backend_unavailable: %s",
					 msg != NULL ? msg : "the account backend cannot be asked");
	case CERTMAP_ERR_NOMEM: return -ENOMEM;
	default: return sd_bus_error_set(err, SD_BUS_ERROR_FAILED, "the account lookup failed");
	}
}

/* ---------------------------------------------------------------- sid domains */

/*
 * With ids = "sid" a uid is computed from an objectSid, and no search can
 * go back from the uid. The face remembers which name each User object
 * path it handed out stands for (the last IFP_SEEN_MAX of them); a path it
 * never handed out, or has forgotten, is NotFound. A remembered name is
 * looked up again on every read and must still have that uid.
 */
static bool remembers(const struct cm_domain *d)
{
	return d->type == CM_DOMAIN_LDAP && d->ldap->ids == CM_LDAP_IDS_SID;
}

void ifp_remember(struct cmd_infopipe *ip, const struct cm_domain *d, const char *name, uid_t uid)
{
	struct ifp_seen *s;

	if (d == NULL || !remembers(d)) {
		return;
	}
	/* One name per path: the latest (a slot of that path is reused). */
	for (size_t i = 0; i < IFP_SEEN_MAX; i++) {
		s = &ip->seen[i];
		if (s->name != NULL && s->uid == uid && strcmp(s->domain, d->name) == 0) {
			if (strcmp(s->name, name) == 0) {
				return;
			}
			break;
		}
	}
	if (s->name == NULL || s->uid != uid || strcmp(s->domain, d->name) != 0) {
		s = &ip->seen[ip->seen_next];
		ip->seen_next = (ip->seen_next + 1) % IFP_SEEN_MAX;
	}
	free(s->domain);
	free(s->name);
	s->domain = strdup(d->name);
	s->name = strdup(name);
	s->uid = uid;
	if (s->domain == NULL || s->name == NULL) {
		free(s->domain);
		free(s->name);
		memset(s, 0, sizeof(*s));
	}
}

/* One User object lookup, kept for the message that asked for it. */
struct ifp_memo {
	sd_bus_message *m;   /* a reference: the address is not reused while held */
	struct cmd_gen *gen; /* a reference: a.d points into its configuration */
	char *path;
	struct ifp_acct a;
};

static void memo_free(struct ifp_memo *mo)
{
	if (mo != NULL) {
		sd_bus_message_unref(mo->m);
		cmd_gen_unref(mo->gen);
		free(mo->path);
		ifp_acct_clear(&mo->a);
		free(mo);
	}
}

void ifp_forget_all(struct cmd_infopipe *ip)
{
	memo_free(ip->memo);
	ip->memo = NULL;
	for (size_t i = 0; i < IFP_SEEN_MAX; i++) {
		free(ip->seen[i].domain);
		free(ip->seen[i].name);
		memset(&ip->seen[i], 0, sizeof(ip->seen[i]));
	}
}

static const char *recall(const struct cmd_infopipe *ip, const struct cm_domain *d, uid_t uid)
{
	for (size_t i = 0; i < IFP_SEEN_MAX; i++) {
		const struct ifp_seen *s = &ip->seen[i];

		if (s->name != NULL && s->uid == uid && strcmp(s->domain, d->name) == 0) {
			return s->name;
		}
	}
	return NULL;
}

/* ---------------------------------------------------------------- by uid */

/* (<attr_uid>=<uid>): a number, escaped all the same. */
static char *uid_filter(const struct cm_domain *d, uid_t uid)
{
	char num[16];
	struct cm_buf f;

	snprintf(num, sizeof(num), "%u", (unsigned)uid);
	cm_buf_init(&f, 4096);
	cm_buf_printf(&f, "(%s=", d->ldap->attr_uid);
	cm_ldap_escape(&f, (const unsigned char *)num, strlen(num));
	cm_buf_addc(&f, ')');
	return cm_buf_steal(&f, NULL);
}

/* The account with uid in d (a User object's path): as lookup_name. */
static int lookup_uid(struct cmd_infopipe *ip, const struct cm_domain *d, uid_t uid,
		      struct ifp_acct *a, char **msg)
{
	const char *name = NULL;
	char *filter;
	int rc;

	memset(a, 0, sizeof(*a));
	a->d = d;
	if (!uid_admitted(d, uid)) {
		return CERTMAP_ERR_NOT_FOUND;
	}
	if (d->type == CM_DOMAIN_LOCAL) {
		rc = from_nss(a, NULL, uid, msg);
	} else if (d->type == CM_DOMAIN_LDAP && d->ldap->ids == CM_LDAP_IDS_DIRECTORY) {
		if ((filter = uid_filter(d, uid)) == NULL) {
			return CERTMAP_ERR_NOMEM;
		}
		rc = from_directory(a, filter, true, msg);
		free(filter);
	} else if (d->type == CM_DOMAIN_LDAP) {
		/* ids = "nss": NSS names the uid, the directory must have the
		 * name; ids = "sid": the name this path was handed out for. */
		if (d->ldap->ids == CM_LDAP_IDS_NSS) {
			rc = from_nss(a, NULL, uid, msg);
			name = rc == CERTMAP_OK ? a->nss.pw.pw_name : NULL;
		} else {
			name = recall(ip, d, uid);
			rc = name != NULL ? CERTMAP_OK : CERTMAP_ERR_NOT_FOUND;
		}
		if (rc == CERTMAP_OK) {
			struct ifp_acct found;
			char *copy = strdup(name);

			ifp_acct_clear(a);
			rc = copy == NULL ? CERTMAP_ERR_NOMEM : lookup_name(d, copy, &found, msg);
			free(copy);
			if (rc == CERTMAP_OK) {
				*a = found;
			}
		}
	} else {
		rc = CERTMAP_ERR_NOT_FOUND;
	}
	if (rc == CERTMAP_OK && a->ca.uid != uid) {
		rc = CERTMAP_ERR_NOT_FOUND;
	}
	if (rc != CERTMAP_OK) {
		ifp_acct_clear(a);
	}
	return rc;
}

/* ---------------------------------------------------------------- the face's calls */

int ifp_acct_by_name(struct cmd_infopipe *ip, const char *name, struct ifp_acct *a,
		     sd_bus_error *err)
{
	const struct cm_config *cfg = ip->gen->cfg;
	char *msg = NULL;
	int rc = CERTMAP_ERR_NOT_FOUND, r;

	memset(a, 0, sizeof(*a));
	if (*name == '\0' || strlen(name) > CMP_MAX_NAME) {
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
					 "the user name must be 1 to %d bytes", CMP_MAX_NAME);
	}
	/* As SSSD: the domains in their order, the first that has the name.
	 * One that cannot be asked stops the search: it may hold the name,
	 * and a later domain's account would then be another person's. */
	for (size_t i = 0; i < cfg->n_domains && rc == CERTMAP_ERR_NOT_FOUND; i++) {
		if (ifp_user_domain(&cfg->domains[i])) {
			rc = lookup_name(&cfg->domains[i], name, a, &msg);
		}
	}
	if (rc == CERTMAP_OK) {
		ifp_remember(ip, a->d, a->ca.name, a->ca.uid);
		return 0;
	}
	r = set_error(err, rc, msg, "no such user in a domain with accounts");
	free(msg);
	return r;
}

int ifp_acct_of_path(struct cmd_infopipe *ip, sd_bus_message *m, const char *path,
		     const struct ifp_acct **out, sd_bus_error *err)
{
	const struct cm_domain *d;
	struct ifp_memo *mo;
	char *msg = NULL;
	uint32_t id;
	int rc, r;

	*out = NULL;
	ifp_refresh_gen(ip);
	if (m != NULL && ip->memo != NULL && ip->memo->m == m && ip->memo->gen == ip->gen &&
	    strcmp(ip->memo->path, path) == 0) {
		*out = &ip->memo->a;
		return 0;
	}
	memo_free(ip->memo);
	ip->memo = NULL;
	if ((d = ifp_parse_path(ip->gen->cfg, IFP_USERS_PATH, path, &id)) == NULL ||
	    !ifp_user_domain(d)) {
		return sd_bus_error_set(err, IFP_E_NOT_FOUND, "no such user object");
	}
	if ((mo = calloc(1, sizeof(*mo))) == NULL || (mo->path = strdup(path)) == NULL) {
		memo_free(mo);
		return -ENOMEM;
	}
	if ((rc = lookup_uid(ip, d, (uid_t)id, &mo->a, &msg)) != CERTMAP_OK) {
		memo_free(mo);
		r = set_error(err, rc, msg, "no such user");
		free(msg);
		return r;
	}
	mo->m = sd_bus_message_ref(m);
	mo->gen = cmd_gen_ref(ip->gen);
	ip->memo = mo;
	*out = &mo->a;
	return 0;
}

int ifp_candidate_path(struct cmd_infopipe *ip, const char *name, const char *domain, char **path,
		       char **msg)
{
	const struct cm_domain *d = cm_config_domain(ip->gen->cfg, domain);
	struct ifp_acct a;
	int rc;

	*path = NULL;
	if (d == NULL || !ifp_user_domain(d)) {
		return CERTMAP_OK;
	}
	if ((rc = lookup_name(d, name, &a, msg)) != CERTMAP_OK) {
		return rc == CERTMAP_ERR_NOT_FOUND ? CERTMAP_OK : rc;
	}
	ifp_remember(ip, d, a.ca.name, a.ca.uid);
	*path = ifp_object_path(IFP_USERS_PATH, d->name, &a.ca.uid);
	ifp_acct_clear(&a);
	return *path != NULL ? CERTMAP_OK : CERTMAP_ERR_NOMEM;
}

int ifp_acct_groups(struct ifp_acct *a, sd_bus_error *err)
{
	char *msg = NULL;
	int rc, r;

	cm_strv_clear(&a->ca.groups);
	if ((rc = cm_backend_groups(a->d, &a->ca, &msg)) == CERTMAP_OK) {
		return 0;
	}
	r = set_error(err, rc, msg, "no groups");
	free(msg);
	return r;
}

#endif

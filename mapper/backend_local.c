/*
 * The local domain: accounts and groups through NSS, so that whatever the
 * system's nsswitch.conf knows (files, sss, ldap via nslcd ...) works.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "backend_ldap.h"
#include "certmap.h"

/* getpw*_r and getgr*_r need a buffer; grow it on ERANGE up to this. */
#define NSS_BUF_MAX (1024 * 1024)

static size_t nss_initial_buf(int which)
{
	long n = sysconf(which);

	return n > 0 && n < NSS_BUF_MAX ? (size_t)n : 16384;
}

int cm_nss_getpw(const char *name, uid_t uid, struct passwd *pw, char **buf, bool *found)
{
	size_t size = nss_initial_buf(_SC_GETPW_R_SIZE_MAX);
	struct passwd *res = NULL;
	int e;

	for (;;) {
		char *nbuf = realloc(*buf, size);

		if (nbuf == NULL) {
			*found = false;
			return -1;
		}
		*buf = nbuf;
		e = name != NULL ? getpwnam_r(name, pw, *buf, size, &res)
				 : getpwuid_r(uid, pw, *buf, size, &res);
		if (e != ERANGE || size >= NSS_BUF_MAX) {
			break;
		}
		size *= 2;
	}
	*found = res != NULL;
	return e;
}

int cm_nss_getgr(gid_t gid, struct group *gr, char **buf, size_t *size, bool *found)
{
	struct group *res = NULL;
	int e;

	if (*size == 0) {
		*size = nss_initial_buf(_SC_GETGR_R_SIZE_MAX);
	}
	for (;;) {
		char *nbuf = realloc(*buf, *size);

		if (nbuf == NULL) {
			*found = false;
			return -1;
		}
		*buf = nbuf;
		e = getgrgid_r(gid, gr, *buf, *size, &res);
		if (e != ERANGE || *size >= NSS_BUF_MAX) {
			break;
		}
		*size *= 2;
	}
	*found = res != NULL;
	return e;
}

int cm_nss_grouplist(const char *name, gid_t gid, int max, gid_t **gids)
{
	int cap = 64;

	for (;;) {
		gid_t *ng = realloc(*gids, (size_t)cap * sizeof(**gids));
		int n = cap;

		if (ng == NULL) {
			return -1;
		}
		*gids = ng;
		if (getgrouplist(name, gid, *gids, &n) >= 0) {
			return n;
		}
		if (n <= cap) {
			n = cap * 2;
		}
		if (n > max) {
			return -2;
		}
		cap = n;
	}
}

int cm_local_lookup(const char *name, struct cm_account *acct, char **msg)
{
	struct passwd pw;
	char *buf = NULL;
	bool found;
	int rc, e;

	e = cm_nss_getpw(name, 0, &pw, &buf, &found);
	if (e < 0) {
		rc = CERTMAP_ERR_NOMEM;
		goto out;
	}
	if (!found) {
		/* POSIX lets "no such user" come back as 0, ENOENT, ESRCH, EBADF or EPERM. */
		if (e == 0 || e == ENOENT || e == ESRCH || e == EBADF || e == EPERM) {
			rc = CERTMAP_ERR_NOT_FOUND;
		} else {
			rc = CERTMAP_ERR_BACKEND;
			if (msg != NULL) {
				*msg = cm_asprintf("NSS lookup failed: %s", strerror(e));
			}
		}
		goto out;
	}
	acct->name = strdup(pw.pw_name);
	acct->home = strdup(pw.pw_dir != NULL ? pw.pw_dir : "");
	acct->uid = pw.pw_uid;
	acct->gid = pw.pw_gid;
	rc = acct->name == NULL || acct->home == NULL ? CERTMAP_ERR_NOMEM : CERTMAP_OK;
out:
	free(buf);
	return rc;
}

/* Appends the name of group gid; an unknown gid is not an error. */
static int add_group_name(struct cm_account *acct, gid_t gid, char **buf, size_t *size)
{
	struct group gr;
	bool found;

	if (cm_nss_getgr(gid, &gr, buf, size, &found) < 0) {
		return CERTMAP_ERR_NOMEM;
	}
	if (!found || cm_strv_contains(&acct->groups, gr.gr_name)) {
		return CERTMAP_OK;
	}
	return cm_strv_add(&acct->groups, gr.gr_name) == 0 ? CERTMAP_OK : CERTMAP_ERR_NOMEM;
}

int cm_local_groups(struct cm_account *acct, char **msg)
{
	gid_t *gids = NULL;
	int ngroups, rc = CERTMAP_OK;
	size_t size = 0;
	char *buf = NULL;

	ngroups = cm_nss_grouplist(acct->name, acct->gid, CM_MAX_GROUPS, &gids);
	if (ngroups == -1) {
		rc = CERTMAP_ERR_NOMEM;
		goto out;
	}
	if (ngroups < 0) {
		rc = CERTMAP_ERR_BACKEND;
		if (msg != NULL) {
			*msg = cm_asprintf("%s is in more than %d groups", acct->name, CM_MAX_GROUPS);
		}
		goto out;
	}
	/* The primary group first, as id(1) prints it. */
	if ((rc = add_group_name(acct, acct->gid, &buf, &size)) != CERTMAP_OK) {
		goto out;
	}
	for (int i = 0; i < ngroups; i++) {
		if ((rc = add_group_name(acct, gids[i], &buf, &size)) != CERTMAP_OK) {
			goto out;
		}
	}
out:
	free(gids);
	free(buf);
	return rc;
}

int cm_backend_find(const struct cm_domain *d, const char *key, bool is_filter,
		    struct cm_account_list *out, char **msg)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (d->type == CM_DOMAIN_LDAP) {
		return cm_ldap_find(d, key, is_filter, out, msg);
	}
	if (is_filter) {
		/* The configuration never lets an LDAP: rule reach a local domain. */
		return CERTMAP_OK;
	}
	out->v = calloc(1, sizeof(*out->v));
	if (out->v == NULL) {
		return CERTMAP_ERR_NOMEM;
	}
	rc = cm_local_lookup(key, &out->v[0], msg);
	if (rc == CERTMAP_OK) {
		out->n = 1;
	} else if (rc == CERTMAP_ERR_NOT_FOUND) {
		rc = CERTMAP_OK;
	}
	if (rc != CERTMAP_OK) {
		cm_account_list_clear(out);
	}
	return rc;
}

int cm_backend_groups(const struct cm_domain *d, struct cm_account *acct, char **msg)
{
	switch (d->type) {
	case CM_DOMAIN_LOCAL:
		return cm_local_groups(acct, msg);
	case CM_DOMAIN_LDAP:
		return cm_ldap_groups(d, acct, msg);
	case CM_DOMAIN_CERT:
		/* cm_cert_find already took them from the certificate. */
		return CERTMAP_OK;
	default:
		return CERTMAP_ERR_BACKEND;
	}
}

bool cm_backend_up(const struct cm_domain *d)
{
	return d->type != CM_DOMAIN_LDAP || cm_ldap_up(d);
}

void cm_account_clear(struct cm_account *acct)
{
	free(acct->name);
	free(acct->home);
	free(acct->dn);
	free(acct->sid);
	cm_strv_clear(&acct->groups);
	cm_strv_clear(&acct->member_of);
	memset(acct, 0, sizeof(*acct));
}

void cm_account_list_clear(struct cm_account_list *l)
{
	for (size_t i = 0; l->v != NULL && i < l->n; i++) {
		cm_account_clear(&l->v[i]);
	}
	free(l->v);
	free(l->trace);
	cm_strv_clear(&l->skipped);
	memset(l, 0, sizeof(*l));
}

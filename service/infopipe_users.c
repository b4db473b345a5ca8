/*
 * certmapd's D-Bus face, the account side: FindByName, GetUserGroups,
 * GetUserAttr, Ping and the User objects and their properties, looked up
 * on every call (NSS for local domains, the directory through libcertmap's
 * backend and its cache for ldap domains; infopipe_accounts.c says which
 * accounts are shown). See infopipe.c for the bus, the callers and the
 * certificate methods.
 */
#include "config.h"

#ifdef HAVE_SYSTEMD

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "infopipe_int.h"

/* Attributes asked for in one GetUserAttr. */
#define MAX_ATTRS 64

/* ---------------------------------------------------------------- accounts (NSS) */

void ifp_account_clear(struct account *a)
{
	free(a->buf);
	memset(a, 0, sizeof(*a));
}

int ifp_account_get(struct account *a, const char *name, uid_t uid)
{
	bool found;
	int r;

	memset(a, 0, sizeof(*a));
	if ((r = cm_nss_getpw(name, uid, &a->pw, &a->buf, &found)) < 0) {
		return -ENOMEM;
	}
	if (r != 0) {
		return -r;
	}
	return found ? 0 : -ENOENT;
}

bool ifp_domain_accepts(const struct cm_domain *d, uid_t uid)
{
	return d->type == CM_DOMAIN_LOCAL && (uid == 0 ? d->allow_uid0 : uid >= d->min_uid);
}

/* ---------------------------------------------------------------- account methods */

int ifp_find_by_name(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct cmd_infopipe *ip = userdata;
	struct ifp_acct a = {0};
	struct caller c = {0};
	const char *name;
	char *path = NULL;
	int r;

	if ((r = sd_bus_message_read(m, "s", &name)) < 0 ||
	    (r = ifp_caller_check(ip, m, &c, err)) < 0 ||
	    (r = ifp_acct_by_name(ip, name, &a, err)) < 0) {
		goto out;
	}
	if ((path = ifp_object_path(IFP_USERS_PATH, a.d->name, &a.ca.uid)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = sd_bus_reply_method_return(m, "o", path);
out:
	free(path);
	ifp_acct_clear(&a);
	ifp_caller_clear(&c);
	return r;
}

int ifp_ping(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct caller c = {0};
	const char *ping;
	int r;

	if ((r = sd_bus_message_read(m, "s", &ping)) < 0 ||
	    (r = ifp_caller_check(userdata, m, &c, err)) < 0) {
		goto out;
	}
	if (strcasecmp(ping, "ping") != 0) {
		r = sd_bus_error_set(err, SD_BUS_ERROR_INVALID_ARGS, "Ping expects \"ping\"");
		goto out;
	}
	r = sd_bus_reply_method_return(m, "s", "PONG");
out:
	ifp_caller_clear(&c);
	return r;
}

int ifp_account_gids(const struct account *a, gid_t **gids, int *n)
{
	int k;

	*gids = NULL;
	*n = 0;
	k = cm_nss_grouplist(a->pw.pw_name, a->pw.pw_gid, MAX_GROUPS, gids);
	if (k < 0) {
		return k == -1 ? -ENOMEM : -E2BIG;
	}
	*n = k;
	return 0;
}

/* GetUserGroups: the names from the account's domain (NSS, or the ldap
 * domain's groups schema), primary group first. */
int ifp_get_user_groups(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct cmd_infopipe *ip = userdata;
	struct ifp_acct a = {0};
	struct caller c = {0};
	sd_bus_message *reply = NULL;
	const char *name;
	int r;

	if ((r = sd_bus_message_read(m, "s", &name)) < 0 ||
	    (r = ifp_caller_check(ip, m, &c, err)) < 0 ||
	    (r = ifp_acct_by_name(ip, name, &a, err)) < 0 || (r = ifp_acct_groups(&a, err)) < 0) {
		goto out;
	}
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0 && (r = sd_bus_message_append_strv(reply, a.ca.groups.v)) >= 0) {
		r = sd_bus_send(NULL, reply, NULL);
	}
out:
	sd_bus_message_unref(reply);
	ifp_acct_clear(&a);
	ifp_caller_clear(&c);
	return r;
}

/* The text of one of SSSD's default user attributes (its [ifp]
 * user_attributes), or NULL for any other name. buf holds numbers. An
 * account with no passwd entry (ldap ids "directory" and "sid") has an
 * empty gecos and login shell: the backend reads neither. */
static const char *attr_value(const struct ifp_acct *a, const char *attr, char *buf, size_t size)
{
	const struct passwd *pw = a->has_nss ? &a->nss.pw : NULL;

	if (strcasecmp(attr, "name") == 0) {
		return a->ca.name;
	}
	if (strcasecmp(attr, "uidNumber") == 0 || strcasecmp(attr, "gidNumber") == 0) {
		snprintf(buf, size, "%u",
			 (unsigned)(strcasecmp(attr, "uidNumber") == 0 ? a->ca.uid : a->ca.gid));
		return buf;
	}
	if (strcasecmp(attr, "gecos") == 0) {
		return pw != NULL && pw->pw_gecos != NULL ? pw->pw_gecos : "";
	}
	if (strcasecmp(attr, "homeDirectory") == 0) {
		return a->ca.home != NULL ? a->ca.home : "";
	}
	if (strcasecmp(attr, "loginShell") == 0) {
		return pw != NULL && pw->pw_shell != NULL ? pw->pw_shell : "";
	}
	return NULL;
}

/* Appends {attr: <as [value]>} for each known attribute in m's "as". */
static int append_attrs(sd_bus_message *m, const struct ifp_acct *a, sd_bus_message *reply,
			sd_bus_error *err)
{
	const char *attr;
	unsigned int n = 0;
	int r;

	if ((r = sd_bus_message_enter_container(m, 'a', "s")) < 0 ||
	    (r = sd_bus_message_open_container(reply, 'a', "{sv}")) < 0) {
		return r;
	}
	while ((r = sd_bus_message_read(m, "s", &attr)) > 0) {
		char buf[32];
		const char *v = attr_value(a, attr, buf, sizeof(buf));

		if (++n > MAX_ATTRS) {
			return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
						 "at most %d attributes per call", MAX_ATTRS);
		}
		/* Unknown attributes are left out, as SSSD leaves out attributes
		 * not in user_attributes. */
		if (v != NULL && (r = sd_bus_message_append(reply, "{sv}", attr, "as", 1, v)) < 0) {
			return r;
		}
	}
	if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0) {
		return r;
	}
	return sd_bus_message_close_container(reply);
}

int ifp_get_user_attr(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct cmd_infopipe *ip = userdata;
	struct ifp_acct a = {0};
	struct caller c = {0};
	sd_bus_message *reply = NULL;
	const char *name;
	int r;

	if ((r = sd_bus_message_read(m, "s", &name)) < 0 ||
	    (r = ifp_caller_check(ip, m, &c, err)) < 0 ||
	    (r = ifp_acct_by_name(ip, name, &a, err)) < 0 ||
	    (r = sd_bus_message_new_method_return(m, &reply)) < 0 ||
	    (r = append_attrs(m, &a, reply, err)) < 0) {
		goto out;
	}
	r = sd_bus_send(NULL, reply, NULL);
out:
	sd_bus_message_unref(reply);
	ifp_acct_clear(&a);
	ifp_caller_clear(&c);
	return r;
}

/* ---------------------------------------------------------------- User objects */

/* Says which paths under Users/ are User objects; also where a property
 * read is checked against the allowed callers. */
int ifp_user_find(sd_bus *bus, const char *path, const char *iface, void *userdata, void **found,
		  sd_bus_error *err)
{
	struct cmd_infopipe *ip = userdata;
	sd_bus_message *m = sd_bus_get_current_message(bus);
	const struct cm_domain *d;
	const struct ifp_acct *a;
	struct caller c = {0};
	uint32_t id;
	int r = 0;

	(void)iface;
	ifp_refresh_gen(ip);
	/* Not one of ours: no object, and nothing to check yet. */
	if ((d = ifp_parse_path(ip->gen->cfg, IFP_USERS_PATH, path, &id)) == NULL ||
	    !ifp_user_domain(d)) {
		return 0;
	}
	if (m == NULL || (r = ifp_caller_check(ip, m, &c, err)) < 0 ||
	    (r = ifp_acct_of_path(ip, m, path, &a, err)) < 0) {
		r = r < 0 ? r : 0;
		goto out;
	}
	*found = ip;
	r = 1;
out:
	ifp_caller_clear(&c);
	return r;
}

/* The user's groups as Group object paths of the user's domain (NSS has
 * no per-domain groups: every group the account is in, primary first).
 * Group objects exist for local domains only: the backend names an ldap
 * account's groups but not their gids, so its list is empty (GetUserGroups
 * has the names). */
static int append_group_paths(sd_bus_message *reply, const struct ifp_acct *a)
{
	gid_t *gids = NULL;
	int n = 0, r = 0;

	if ((a->d->type == CM_DOMAIN_LOCAL && (r = ifp_account_gids(&a->nss, &gids, &n)) < 0) ||
	    (r = sd_bus_message_open_container(reply, 'a', "o")) < 0) {
		goto out;
	}
	for (int i = 0; i < n && r >= 0; i++) {
		char *path = ifp_object_path(IFP_GROUPS_PATH, a->d->name, &gids[i]);

		r = path == NULL ? -ENOMEM : sd_bus_message_append(reply, "o", path);
		free(path);
	}
	if (r >= 0) {
		r = sd_bus_message_close_container(reply);
	}
out:
	free(gids);
	return r;
}

int ifp_user_prop(sd_bus *bus, const char *path, const char *iface, const char *prop,
		  sd_bus_message *reply, void *userdata, sd_bus_error *err)
{
	struct cmd_infopipe *ip = userdata;
	const struct ifp_acct *a;
	char *dpath = NULL;
	char buf[32];
	int r;

	(void)iface;
	if ((r = ifp_acct_of_path(ip, sd_bus_get_current_message(bus), path, &a, err)) < 0) {
		goto out;
	}
	if (strcmp(prop, "uidNumber") == 0) {
		r = sd_bus_message_append(reply, "u", (uint32_t)a->ca.uid);
	} else if (strcmp(prop, "gidNumber") == 0) {
		r = sd_bus_message_append(reply, "u", (uint32_t)a->ca.gid);
	} else if (strcmp(prop, "domainname") == 0) {
		r = sd_bus_message_append(reply, "s", a->d->name);
	} else if (strcmp(prop, "domain") == 0) {
		r = (dpath = ifp_object_path(IFP_DOMAINS_PATH, a->d->name, NULL)) == NULL
			? -ENOMEM
			: sd_bus_message_append(reply, "o", dpath);
	} else if (strcmp(prop, "uniqueID") == 0) {
		/* An ldap entry's objectSid when it has one; NSS has none. */
		r = sd_bus_message_append(reply, "s", a->ca.sid != NULL ? a->ca.sid : "");
	} else if (strcmp(prop, "groups") == 0) {
		r = append_group_paths(reply, a);
	} else if (strcmp(prop, "extraAttributes") == 0) {
		r = sd_bus_message_append(reply, "a{sas}", 0); /* none: certmap keeps no extra */
	} else {
		const char *v = attr_value(a, prop, buf, sizeof(buf));

		r = sd_bus_message_append(reply, "s", v != NULL ? v : "");
	}
out:
	free(dpath);
	return r;
}

#endif

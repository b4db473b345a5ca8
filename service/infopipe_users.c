/*
 * certmapd's D-Bus face, the account side: FindByName, GetUserGroups,
 * GetUserAttr, Ping and the User objects and their properties, read from
 * NSS on every call (nothing is cached, so nothing goes stale). Only
 * accounts of a local domain whose min_uid and allow_uid0 admit them are
 * shown, since certmap would never map the others. See infopipe.c for the
 * bus, the callers and the certificate methods.
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
/* NSS buffers grow up to this; a bigger entry is an error, not a crash. */
#define NSS_BUF_MAX (1024 * 1024)

/* The local domain and uid a User object path names, or NULL. */
static const struct cm_domain *parse_user_path(const struct cm_config *cfg, const char *path,
					       uid_t *uid)
{
	uint32_t id;
	const struct cm_domain *d = ifp_parse_path(cfg, IFP_USERS_PATH, path, &id);

	if (d == NULL || d->type != CM_DOMAIN_LOCAL) {
		return NULL;
	}
	*uid = (uid_t)id;
	return d;
}

/* ---------------------------------------------------------------- accounts (NSS) */

void ifp_account_clear(struct account *a)
{
	free(a->buf);
	memset(a, 0, sizeof(*a));
}

int ifp_account_get(struct account *a, const char *name, uid_t uid)
{
	size_t size = 4096;
	struct passwd *res = NULL;
	int r;

	memset(a, 0, sizeof(*a));
	for (;;) {
		char *nb = realloc(a->buf, size);

		if (nb == NULL) {
			return -ENOMEM;
		}
		a->buf = nb;
		r = name != NULL ? getpwnam_r(name, &a->pw, a->buf, size, &res)
				 : getpwuid_r(uid, &a->pw, a->buf, size, &res);
		if (r != ERANGE || size >= NSS_BUF_MAX) {
			break;
		}
		size *= 2;
	}
	if (r != 0) {
		return -r;
	}
	return res != NULL ? 0 : -ENOENT;
}

bool ifp_domain_accepts(const struct cm_domain *d, uid_t uid)
{
	return d->type == CM_DOMAIN_LOCAL && (uid == 0 ? d->allow_uid0 : uid >= d->min_uid);
}

/* The first local domain that accepts uid, or NULL: accounts certmap would
 * never map are not shown either. */
static const struct cm_domain *account_domain(const struct cm_config *cfg, uid_t uid)
{
	for (size_t i = 0; i < cfg->n_domains; i++) {
		if (ifp_domain_accepts(&cfg->domains[i], uid)) {
			return &cfg->domains[i];
		}
	}
	return NULL;
}

char *ifp_user_path_of(const struct cm_config *cfg, const char *name, const char *domain)
{
	const struct cm_domain *d = cm_config_domain(cfg, domain);
	struct account a = {0};
	char *path = NULL;

	if (d != NULL && ifp_account_get(&a, name, 0) == 0 && ifp_domain_accepts(d, a.pw.pw_uid)) {
		path = ifp_object_path(IFP_USERS_PATH, d->name, &a.pw.pw_uid);
	}
	ifp_account_clear(&a);
	return path;
}

/* A user by name, visible in a local domain; err set when not. */
static int user_by_name(struct cmd_infopipe *ip, const char *name, struct account *a,
			const struct cm_domain **d, sd_bus_error *err)
{
	int r;

	*d = NULL;
	if (*name == '\0' || strlen(name) > CMP_MAX_NAME) {
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
					 "the user name must be 1 to %d bytes", CMP_MAX_NAME);
	}
	r = ifp_account_get(a, name, 0);
	if (r == 0 && (*d = account_domain(ip->gen->cfg, a->pw.pw_uid)) != NULL) {
		return 0;
	}
	ifp_account_clear(a);
	if (r != 0 && r != -ENOENT) {
		return sd_bus_error_setf(err, SD_BUS_ERROR_FAILED, "cannot look up the user: %s",
					 strerror(-r));
	}
	return sd_bus_error_set(err, IFP_E_NOT_FOUND, "no such user in a local domain");
}

/* ---------------------------------------------------------------- account methods */

int ifp_find_by_name(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct cmd_infopipe *ip = userdata;
	const struct cm_domain *d = NULL;
	struct account a = {0};
	struct caller c = {0};
	const char *name;
	char *path = NULL;
	int r;

	if ((r = sd_bus_message_read(m, "s", &name)) < 0 ||
	    (r = ifp_caller_check(ip, m, &c, err)) < 0 ||
	    (r = user_by_name(ip, name, &a, &d, err)) < 0) {
		goto out;
	}
	if ((path = ifp_object_path(IFP_USERS_PATH, d->name, &a.pw.pw_uid)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = sd_bus_reply_method_return(m, "o", path);
out:
	free(path);
	ifp_account_clear(&a);
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
	int cap = 64;

	*gids = NULL;
	*n = 0;
	for (;;) {
		gid_t *ng = realloc(*gids, (size_t)cap * sizeof(**gids));
		int want = cap;

		if (ng == NULL) {
			return -ENOMEM;
		}
		*gids = ng;
		if (getgrouplist(a->pw.pw_name, a->pw.pw_gid, *gids, &want) >= 0) {
			*n = want;
			return 0;
		}
		if (want <= cap || want > MAX_GROUPS) {
			return -E2BIG;
		}
		cap = want;
	}
}

/* Group names of a, primary first; NULL-free strv in *out (owned). */
static int account_groups(const struct account *a, struct cm_strv *out)
{
	gid_t *gids = NULL;
	int n = 0, r;

	if ((r = ifp_account_gids(a, &gids, &n)) < 0) {
		goto out;
	}
	for (int i = 0; i < n; i++) {
		struct group gr, *res = NULL;
		char buf[16384];

		/* A group without a name (or too big an entry) is left out. */
		if (getgrgid_r(gids[i], &gr, buf, sizeof(buf), &res) == 0 && res != NULL &&
		    cm_strv_add(out, gr.gr_name) != 0) {
			r = -ENOMEM;
			goto out;
		}
	}
out:
	free(gids);
	return r;
}

int ifp_get_user_groups(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct cmd_infopipe *ip = userdata;
	const struct cm_domain *d = NULL;
	struct cm_strv groups = {0};
	struct account a = {0};
	struct caller c = {0};
	sd_bus_message *reply = NULL;
	const char *name;
	int r;

	if ((r = sd_bus_message_read(m, "s", &name)) < 0 ||
	    (r = ifp_caller_check(ip, m, &c, err)) < 0 ||
	    (r = user_by_name(ip, name, &a, &d, err)) < 0 ||
	    (r = account_groups(&a, &groups)) < 0 ||
	    (r = sd_bus_message_new_method_return(m, &reply)) < 0 ||
	    (r = sd_bus_message_open_container(reply, 'a', "s")) < 0) {
		goto out;
	}
	for (size_t i = 0; i < groups.n && r >= 0; i++) {
		r = sd_bus_message_append(reply, "s", groups.v[i]);
	}
	if (r < 0 || (r = sd_bus_message_close_container(reply)) < 0) {
		goto out;
	}
	r = sd_bus_send(NULL, reply, NULL);
out:
	sd_bus_message_unref(reply);
	cm_strv_clear(&groups);
	ifp_account_clear(&a);
	ifp_caller_clear(&c);
	return r;
}

/* The text of one of SSSD's default user attributes (its [ifp]
 * user_attributes), or NULL for any other name. buf holds numbers. */
static const char *attr_value(const struct account *a, const char *attr, char *buf, size_t size)
{
	if (strcasecmp(attr, "name") == 0) {
		return a->pw.pw_name;
	}
	if (strcasecmp(attr, "uidNumber") == 0 || strcasecmp(attr, "gidNumber") == 0) {
		snprintf(
		    buf, size, "%u",
		    (unsigned)(strcasecmp(attr, "uidNumber") == 0 ? a->pw.pw_uid : a->pw.pw_gid));
		return buf;
	}
	if (strcasecmp(attr, "gecos") == 0) {
		return a->pw.pw_gecos != NULL ? a->pw.pw_gecos : "";
	}
	if (strcasecmp(attr, "homeDirectory") == 0) {
		return a->pw.pw_dir != NULL ? a->pw.pw_dir : "";
	}
	if (strcasecmp(attr, "loginShell") == 0) {
		return a->pw.pw_shell != NULL ? a->pw.pw_shell : "";
	}
	return NULL;
}

/* Appends {attr: <as [value]>} for each known attribute in m's "as". */
static int append_attrs(sd_bus_message *m, const struct account *a, sd_bus_message *reply,
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
	const struct cm_domain *d = NULL;
	struct account a = {0};
	struct caller c = {0};
	sd_bus_message *reply = NULL;
	const char *name;
	int r;

	if ((r = sd_bus_message_read(m, "s", &name)) < 0 ||
	    (r = ifp_caller_check(ip, m, &c, err)) < 0 ||
	    (r = user_by_name(ip, name, &a, &d, err)) < 0 ||
	    (r = sd_bus_message_new_method_return(m, &reply)) < 0 ||
	    (r = append_attrs(m, &a, reply, err)) < 0) {
		goto out;
	}
	r = sd_bus_send(NULL, reply, NULL);
out:
	sd_bus_message_unref(reply);
	ifp_account_clear(&a);
	ifp_caller_clear(&c);
	return r;
}

/* ---------------------------------------------------------------- User objects */

/* The account and domain of a User object path; err set when there is none. */
static int user_of_path(struct cmd_infopipe *ip, const char *path, struct account *a,
			const struct cm_domain **dp, sd_bus_error *err)
{
	const struct cm_domain *d;
	uid_t uid;
	int r;

	memset(a, 0, sizeof(*a));
	ifp_refresh_gen(ip);
	if ((d = parse_user_path(ip->gen->cfg, path, &uid)) == NULL ||
	    !ifp_domain_accepts(d, uid)) {
		return sd_bus_error_set(err, IFP_E_NOT_FOUND, "no such user object");
	}
	if ((r = ifp_account_get(a, NULL, uid)) < 0) {
		ifp_account_clear(a);
		return sd_bus_error_set(err, r == -ENOENT ? IFP_E_NOT_FOUND : SD_BUS_ERROR_FAILED,
					"no such user");
	}
	*dp = d;
	return 0;
}

/* Says which paths under Users/ are User objects; also where a property
 * read is checked against the allowed callers. */
int ifp_user_find(sd_bus *bus, const char *path, const char *iface, void *userdata, void **found,
		  sd_bus_error *err)
{
	struct cmd_infopipe *ip = userdata;
	sd_bus_message *m = sd_bus_get_current_message(bus);
	const struct cm_domain *d = NULL;
	struct account a = {0};
	struct caller c = {0};
	uid_t uid;
	int r = 0;

	(void)iface;
	ifp_refresh_gen(ip);
	/* Not one of ours: no object, and nothing to check yet. */
	if (parse_user_path(ip->gen->cfg, path, &uid) == NULL) {
		return 0;
	}
	if (m == NULL || (r = ifp_caller_check(ip, m, &c, err)) < 0 ||
	    (r = user_of_path(ip, path, &a, &d, err)) < 0) {
		r = r < 0 ? r : 0;
		goto out;
	}
	*found = ip;
	r = 1;
out:
	ifp_account_clear(&a);
	ifp_caller_clear(&c);
	return r;
}

/* The user's groups as Group object paths of the user's domain (NSS has
 * no per-domain groups: every group the account is in, primary first). */
static int append_group_paths(sd_bus_message *reply, const struct account *a,
			      const struct cm_domain *d)
{
	gid_t *gids = NULL;
	int n = 0, r;

	if ((r = ifp_account_gids(a, &gids, &n)) < 0 ||
	    (r = sd_bus_message_open_container(reply, 'a', "o")) < 0) {
		goto out;
	}
	for (int i = 0; i < n && r >= 0; i++) {
		char *path = ifp_object_path(IFP_GROUPS_PATH, d->name, &gids[i]);

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
	const struct cm_domain *d = NULL;
	struct account a = {0};
	char *dpath = NULL;
	char buf[32];
	int r;

	(void)bus, (void)iface;
	if ((r = user_of_path(ip, path, &a, &d, err)) < 0) {
		goto out;
	}
	if (strcmp(prop, "uidNumber") == 0) {
		r = sd_bus_message_append(reply, "u", (uint32_t)a.pw.pw_uid);
	} else if (strcmp(prop, "gidNumber") == 0) {
		r = sd_bus_message_append(reply, "u", (uint32_t)a.pw.pw_gid);
	} else if (strcmp(prop, "domainname") == 0) {
		r = sd_bus_message_append(reply, "s", d->name);
	} else if (strcmp(prop, "domain") == 0) {
		r = (dpath = ifp_object_path(IFP_DOMAINS_PATH, d->name, NULL)) == NULL
			? -ENOMEM
			: sd_bus_message_append(reply, "o", dpath);
	} else if (strcmp(prop, "uniqueID") == 0) {
		r = sd_bus_message_append(reply, "s", ""); /* NSS has none */
	} else if (strcmp(prop, "groups") == 0) {
		r = append_group_paths(reply, &a, d);
	} else if (strcmp(prop, "extraAttributes") == 0) {
		r = sd_bus_message_append(reply, "a{sas}", 0); /* none: certmap keeps no extra */
	} else {
		const char *v = attr_value(&a, prop, buf, sizeof(buf));

		r = sd_bus_message_append(reply, "s", v != NULL ? v : "");
	}
out:
	free(dpath);
	ifp_account_clear(&a);
	return r;
}

#endif

/*
 * certmapd's D-Bus face, the objects besides users: Group objects
 * (/org/freedesktop/sssd/infopipe/Groups/<domain>/<gid>, read from NSS on
 * every call) and Domain objects (/org/freedesktop/sssd/infopipe/Domains/
 * <domain>, from the configuration), with ListDomains and
 * FindDomainByName. SSSD's properties that certmap has no value for
 * (servers, realm, name formats) are there, empty, so that clients reading
 * them all with GetAll work. See infopipe.c for the bus and the callers.
 */
#include "config.h"

#ifdef HAVE_SYSTEMD

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>

#include "infopipe_int.h"

/* ---------------------------------------------------------------- Domain objects */

static const char *provider_name(const struct cm_domain *d)
{
	switch (d->type) {
	case CM_DOMAIN_LDAP: return "ldap";
	case CM_DOMAIN_CERT: return "certificate";
	case CM_DOMAIN_LOCAL:
	default: return "local";
	}
}

int ifp_list_domains(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct cmd_infopipe *ip = userdata;
	sd_bus_message *reply = NULL;
	struct caller c = {0};
	int r;

	if ((r = ifp_caller_check(ip, m, &c, err)) < 0 ||
	    (r = sd_bus_message_new_method_return(m, &reply)) < 0 ||
	    (r = sd_bus_message_open_container(reply, 'a', "o")) < 0) {
		goto out;
	}
	for (size_t i = 0; i < ip->gen->cfg->n_domains && r >= 0; i++) {
		char *path = ifp_object_path(IFP_DOMAINS_PATH, ip->gen->cfg->domains[i].name, NULL);

		r = path == NULL ? -ENOMEM : sd_bus_message_append(reply, "o", path);
		free(path);
	}
	if (r >= 0 && (r = sd_bus_message_close_container(reply)) >= 0) {
		r = sd_bus_send(NULL, reply, NULL);
	}
out:
	sd_bus_message_unref(reply);
	ifp_caller_clear(&c);
	return r;
}

int ifp_find_domain_by_name(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct cmd_infopipe *ip = userdata;
	const struct cm_domain *d;
	struct caller c = {0};
	const char *name;
	char *path = NULL;
	int r;

	if ((r = sd_bus_message_read(m, "s", &name)) < 0 ||
	    (r = ifp_caller_check(ip, m, &c, err)) < 0) {
		goto out;
	}
	if (*name == '\0') {
		r = sd_bus_error_set(err, SD_BUS_ERROR_INVALID_ARGS, "the domain name is empty");
		goto out;
	}
	if ((d = cm_config_domain(ip->gen->cfg, name)) == NULL) {
		r = sd_bus_error_set(err, IFP_E_NOT_FOUND, "no such domain");
		goto out;
	}
	if ((path = ifp_object_path(IFP_DOMAINS_PATH, d->name, NULL)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = sd_bus_reply_method_return(m, "o", path);
out:
	free(path);
	ifp_caller_clear(&c);
	return r;
}

/* Shared by the Group and Domain finders: a path of ours is checked
 * against the allowed callers before anything is read. */
static int find_checked(struct cmd_infopipe *ip, sd_bus *bus, void **found, sd_bus_error *err)
{
	sd_bus_message *m = sd_bus_get_current_message(bus);
	struct caller c = {0};
	int r;

	if (m == NULL || (r = ifp_caller_check(ip, m, &c, err)) < 0) {
		ifp_caller_clear(&c);
		return m == NULL ? 0 : r;
	}
	ifp_caller_clear(&c);
	*found = ip;
	return 1;
}

int ifp_domain_find(sd_bus *bus, const char *path, const char *iface, void *userdata, void **found,
		    sd_bus_error *err)
{
	struct cmd_infopipe *ip = userdata;

	(void)iface;
	ifp_refresh_gen(ip);
	if (ifp_parse_path(ip->gen->cfg, IFP_DOMAINS_PATH, path, NULL) == NULL) {
		return 0;
	}
	return find_checked(ip, bus, found, err);
}

int ifp_domain_prop(sd_bus *bus, const char *path, const char *iface, const char *prop,
		    sd_bus_message *reply, void *userdata, sd_bus_error *err)
{
	struct cmd_infopipe *ip = userdata;
	const struct cm_domain *d;

	(void)bus, (void)iface;
	ifp_refresh_gen(ip);
	if ((d = ifp_parse_path(ip->gen->cfg, IFP_DOMAINS_PATH, path, NULL)) == NULL) {
		return sd_bus_error_set(err, IFP_E_NOT_FOUND, "no such domain");
	}
	if (strcmp(prop, "name") == 0) {
		return sd_bus_message_append(reply, "s", d->name);
	}
	if (strcmp(prop, "provider") == 0) {
		return sd_bus_message_append(reply, "s", provider_name(d));
	}
	if (strcmp(prop, "primary_servers") == 0) {
		return sd_bus_message_append_strv(reply,
						  d->type == CM_DOMAIN_LDAP ? d->uri.v : NULL);
	}
	if (strcmp(prop, "backup_servers") == 0) {
		return sd_bus_message_append_strv(reply, NULL);
	}
	if (strcmp(prop, "min_id") == 0) {
		return sd_bus_message_append(reply, "u", (uint32_t)d->min_uid);
	}
	if (strcmp(prop, "max_id") == 0) {
		return sd_bus_message_append(reply, "u", (uint32_t)0); /* SSSD's "no limit" */
	}
	if (strcmp(prop, "parent_domain") == 0) {
		return sd_bus_message_append(reply, "o", "/"); /* certmap has no subdomains */
	}
	if (strcmp(prop, "enumerable") == 0 || strcmp(prop, "use_fully_qualified_names") == 0 ||
	    strcmp(prop, "subdomain") == 0) {
		return sd_bus_message_append(reply, "b", 0);
	}
	/* realm, forest, login_format, fully_qualified_name_format */
	return sd_bus_message_append(reply, "s", "");
}

/* ---------------------------------------------------------------- Group objects */

struct group_entry {
	struct group gr;
	char *buf;
};

static void group_clear(struct group_entry *g)
{
	free(g->buf);
	memset(g, 0, sizeof(*g));
}

/* 0, -ENOENT, or another negative errno. */
static int group_get(struct group_entry *g, gid_t gid)
{
	size_t size = 0;
	bool found;
	int r;

	memset(g, 0, sizeof(*g));
	if ((r = cm_nss_getgr(gid, &g->gr, &g->buf, &size, &found)) < 0) {
		return -ENOMEM;
	}
	if (r != 0) {
		return -r;
	}
	return found ? 0 : -ENOENT;
}

/* The local domain and gid a Group object path names, or NULL. */
static const struct cm_domain *parse_group_path(struct cmd_infopipe *ip, const char *path,
						gid_t *gid)
{
	uint32_t id;
	const struct cm_domain *d;

	ifp_refresh_gen(ip);
	d = ifp_parse_path(ip->gen->cfg, IFP_GROUPS_PATH, path, &id);
	if (d == NULL || d->type != CM_DOMAIN_LOCAL) {
		return NULL;
	}
	*gid = (gid_t)id;
	return d;
}

int ifp_group_find(sd_bus *bus, const char *path, const char *iface, void *userdata, void **found,
		   sd_bus_error *err)
{
	struct cmd_infopipe *ip = userdata;
	gid_t gid;

	struct group_entry g = {0};
	int r;

	(void)iface;
	if (parse_group_path(ip, path, &gid) == NULL) {
		return 0;
	}
	if ((r = find_checked(ip, bus, found, err)) <= 0) {
		return r;
	}
	if ((r = group_get(&g, gid)) < 0) {
		*found = NULL;
		r = sd_bus_error_set(err, r == -ENOENT ? IFP_E_NOT_FOUND : SD_BUS_ERROR_FAILED,
				     "no such group");
	}
	group_clear(&g);
	return r < 0 ? r : 1;
}

/* The group's members (its member list; NSS does not say who has it as
 * primary group without enumerating) that are users of domain d. */
static int append_members(sd_bus_message *reply, const struct group_entry *g,
			  const struct cm_domain *d)
{
	int r = sd_bus_message_open_container(reply, 'a', "o");

	for (char **mem = g->gr.gr_mem; r >= 0 && mem != NULL && *mem != NULL; mem++) {
		struct account a = {0};

		if (ifp_account_get(&a, *mem, 0) == 0 && ifp_domain_accepts(d, a.pw.pw_uid)) {
			char *path = ifp_object_path(IFP_USERS_PATH, d->name, &a.pw.pw_uid);

			r = path == NULL ? -ENOMEM : sd_bus_message_append(reply, "o", path);
			free(path);
		}
		ifp_account_clear(&a);
	}
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

int ifp_group_prop(sd_bus *bus, const char *path, const char *iface, const char *prop,
		   sd_bus_message *reply, void *userdata, sd_bus_error *err)
{
	struct cmd_infopipe *ip = userdata;
	const struct cm_domain *d;
	struct group_entry g = {0};
	gid_t gid;
	int r;

	(void)bus, (void)iface;
	if ((d = parse_group_path(ip, path, &gid)) == NULL) {
		return sd_bus_error_set(err, IFP_E_NOT_FOUND, "no such group object");
	}
	if ((r = group_get(&g, gid)) < 0) {
		group_clear(&g);
		return sd_bus_error_set(err, r == -ENOENT ? IFP_E_NOT_FOUND : SD_BUS_ERROR_FAILED,
					"no such group");
	}
	if (strcmp(prop, "name") == 0) {
		r = sd_bus_message_append(reply, "s", g.gr.gr_name);
	} else if (strcmp(prop, "gidNumber") == 0) {
		r = sd_bus_message_append(reply, "u", (uint32_t)g.gr.gr_gid);
	} else if (strcmp(prop, "users") == 0) {
		r = append_members(reply, &g, d);
	} else if (strcmp(prop, "groups") == 0) {
		r = sd_bus_message_append(reply, "ao", 0); /* NSS groups do not nest */
	} else {
		r = sd_bus_message_append(reply, "s", ""); /* uniqueID: NSS has none */
	}
	group_clear(&g);
	return r;
}

#endif

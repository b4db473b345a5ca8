/*
 * What the files of certmapd's D-Bus face share: infopipe.c (the bus,
 * its thread, callers, the certificate methods through dispatch),
 * infopipe_accounts.c (which accounts are shown: NSS for local domains,
 * libcertmap's backend for ldap domains), infopipe_users.c (FindByName,
 * GetUserGroups, GetUserAttr, Ping and the User objects) and
 * infopipe_objects.c (Group and Domain objects). Everything here runs in
 * the bus thread.
 */
#ifndef CERTMAP_SERVICE_INFOPIPE_INT_H
#define CERTMAP_SERVICE_INFOPIPE_INT_H

#include <pwd.h>
#include <systemd/sd-bus.h>

#include "backend.h"
#include "daemon.h"
#include "infopipe.h"

#define IFP_NAME "org.freedesktop.sssd.infopipe"
#define IFP_PATH "/org/freedesktop/sssd/infopipe"
#define IFP_USERS_PATH IFP_PATH "/Users"
#define IFP_DOMAINS_PATH IFP_PATH "/Domains"
#define IFP_USERS_IFACE IFP_NAME ".Users"
#define IFP_USER_IFACE IFP_NAME ".Users.User"
#define IFP_GROUPS_PATH IFP_PATH "/Groups"
#define IFP_GROUP_IFACE IFP_NAME ".Groups.Group"
#define IFP_DOMAINS_IFACE IFP_NAME ".Domains"
/* SSSD 2.x's name for "no such object" (sbus_errors.h). */
#define IFP_E_NOT_FOUND "sbus.Error.NotFound"
/* What SSSD answers when a domain's backend is offline (sbus_errors.c maps
 * ERR_OFFLINE to it): here, an account backend that cannot be asked. */
#define IFP_E_UNAVAILABLE "org.freedesktop.DBus.Error.Disconnected"
/* User object paths of ids = "sid" accounts remembered (infopipe_accounts.c). */
#define IFP_SEEN_MAX 256

/* Groups of one caller (GetConnectionCredentials) or one user (GetUserGroups). */
#define MAX_GROUPS 65536

struct ifp_memo;

struct ifp_seen {
	char *domain; /* NULL: a free slot */
	char *name;
	uid_t uid;
};

struct cmd_infopipe {
	struct cmd_state *st;
	sd_bus *bus; /* NULL while disconnected */
	pthread_t thread;
	bool started;
	int wake_fd;
	atomic_bool stop;
	pthread_mutex_t mail_lock;
	struct cmd_job *mail; /* finished Map jobs, newest first */
	struct cmd_gen *gen;  /* the thread's current configuration */
	unsigned int gen_seq;
	struct cmd_stats stats; /* this face's counters (not in GetStats) */
	unsigned int in_flight; /* Map jobs out with the workers */
	uint64_t reconnect_at_ms;
	struct ifp_seen seen[IFP_SEEN_MAX]; /* paths of sid accounts handed out */
	size_t seen_next;
	struct ifp_memo *memo; /* the User object of the message being handled */
};

/* The sender as the bus reports it. */
struct caller {
	struct cmd_peer peer;
	gid_t *groups;
	size_t n_groups;
};

/* Checks m's sender against service.allowed_uids/gids (refreshing the
 * configuration first): 0, or err set and a negative errno, as an sd-bus
 * handler returns it. c is cleared on entry; ifp_caller_clear frees it. */
int ifp_caller_check(struct cmd_infopipe *ip, sd_bus_message *m, struct caller *c,
		     sd_bus_error *err);
void ifp_caller_clear(struct caller *c);
/* The bus thread's current configuration into ip->gen. */
void ifp_refresh_gen(struct cmd_infopipe *ip);
/* SSSD's object-path escape of s: every byte outside [A-Za-z0-9] as _%02x. */
void ifp_path_escape(struct cm_buf *b, const char *s);
/* A malloc'd prefix/<escaped name>[/<id>]; NULL when out of memory. */
char *ifp_object_path(const char *prefix, const char *name, const uid_t *id);
/* The domain of cfg a path prefix/<escaped domain>[/<id>] names (with the
 * id when id != NULL, without when NULL), or NULL. Only paths this face
 * writes parse: no leading zero, no other escape. */
const struct cm_domain *ifp_parse_path(const struct cm_config *cfg, const char *prefix,
				       const char *path, uint32_t *id);

/* An account from NSS, by name (name != NULL) or uid. */
struct account {
	struct passwd pw;
	char *buf;
};
/* 0, -ENOENT, or another negative errno; a is cleared on entry. */
int ifp_account_get(struct account *a, const char *name, uid_t uid);
void ifp_account_clear(struct account *a);
/* Whether local domain d would map this uid (decision.c's uid policy);
 * false for every other kind of domain. */
bool ifp_domain_accepts(const struct cm_domain *d, uid_t uid);

/* infopipe_accounts.c: an account the face shows, of a local domain
 * (NSS) or an ldap domain (libcertmap's backend). */
struct ifp_acct {
	const struct cm_domain *d;
	struct cm_account ca; /* name, uid, gid, home; groups once asked for */
	struct account nss;   /* the passwd entry, when has_nss: gecos, shell */
	bool has_nss;
};
void ifp_acct_clear(struct ifp_acct *a);
/* Whether domain d has accounts this face shows (local and ldap). */
bool ifp_user_domain(const struct cm_domain *d);
/* The first domain in the configuration's order that has the name and
 * admits its uid: 0, or err set and a negative errno (NotFound, or
 * IFP_E_UNAVAILABLE when a domain cannot be asked). a is cleared on entry. */
int ifp_acct_by_name(struct cmd_infopipe *ip, const char *name, struct ifp_acct *a,
		     sd_bus_error *err);
/* The account of a User object path for message m, as above: looked up
 * afresh once per message (a GetAll reads every property, and sd-bus asks
 * the object finder first), kept by ip until another message asks. */
int ifp_acct_of_path(struct cmd_infopipe *ip, sd_bus_message *m, const char *path,
		     const struct ifp_acct **a, sd_bus_error *err);
/* a->ca.groups from the domain's groups schema; as above. */
int ifp_acct_groups(struct ifp_acct *a, sd_bus_error *err);
/* The User object path of name in the domain called domain (a mapping's
 * candidate), NULL in *path when it is not an account shown. Returns 0,
 * CERTMAP_ERR_BACKEND with *msg, or CERTMAP_ERR_NOMEM. */
int ifp_candidate_path(struct cmd_infopipe *ip, const char *name, const char *domain, char **path,
		       char **msg);
/* Notes that a User object path of d was handed out for name (kept for
 * ids = "sid" domains only, whose uids no search can go back from). */
void ifp_remember(struct cmd_infopipe *ip, const struct cm_domain *d, const char *name, uid_t uid);
/* Frees what ifp_remember and ifp_acct_of_path keep. */
void ifp_forget_all(struct cmd_infopipe *ip);

/* infopipe_users.c: the handlers of the vtables. */
int ifp_ping(sd_bus_message *m, void *userdata, sd_bus_error *err);
int ifp_find_by_name(sd_bus_message *m, void *userdata, sd_bus_error *err);
int ifp_get_user_groups(sd_bus_message *m, void *userdata, sd_bus_error *err);
int ifp_get_user_attr(sd_bus_message *m, void *userdata, sd_bus_error *err);
int ifp_user_find(sd_bus *bus, const char *path, const char *iface, void *userdata, void **found,
		  sd_bus_error *err);
int ifp_user_prop(sd_bus *bus, const char *path, const char *iface, const char *prop,
		  sd_bus_message *reply, void *userdata, sd_bus_error *err);
/* A user's groups as gids, primary first: malloc'd *gids, *n of them. */
int ifp_account_gids(const struct account *a, gid_t **gids, int *n);

/* infopipe_objects.c: Group and Domain objects, ListDomains, FindDomainByName. */
int ifp_list_domains(sd_bus_message *m, void *userdata, sd_bus_error *err);
int ifp_find_domain_by_name(sd_bus_message *m, void *userdata, sd_bus_error *err);
int ifp_group_find(sd_bus *bus, const char *path, const char *iface, void *userdata, void **found,
		   sd_bus_error *err);
int ifp_group_prop(sd_bus *bus, const char *path, const char *iface, const char *prop,
		   sd_bus_message *reply, void *userdata, sd_bus_error *err);
int ifp_domain_find(sd_bus *bus, const char *path, const char *iface, void *userdata, void **found,
		    sd_bus_error *err);
int ifp_domain_prop(sd_bus *bus, const char *path, const char *iface, const char *prop,
		    sd_bus_message *reply, void *userdata, sd_bus_error *err);

#endif

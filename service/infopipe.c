/*
 * certmapd's D-Bus face: the part of SSSD's InfoPipe (SSSD 2.x,
 * ifp_iface.xml) that Cockpit's certificate login and Apache's
 * mod_lookup_identity call, on the system bus under SSSD's own name.
 *
 *   /org/freedesktop/sssd/infopipe           org.freedesktop.sssd.infopipe
 *       Ping, GetUserGroups, GetUserAttr, ListDomains, FindDomainByName
 *   /org/freedesktop/sssd/infopipe/Users     org.freedesktop.sssd.infopipe.Users
 *       FindByValidCertificate, FindByCertificate, ListByCertificate,
 *       FindByNameAndCertificate, FindByName
 *   /org/freedesktop/sssd/infopipe/Users/<domain>/<uid>
 *                                            org.freedesktop.sssd.infopipe.Users.User
 *       properties name, uidNumber, gidNumber, gecos, homeDirectory,
 *       loginShell, uniqueID, groups, domainname, domain, extraAttributes
 *   /org/freedesktop/sssd/infopipe/Groups/<domain>/<gid>
 *                                            org.freedesktop.sssd.infopipe.Groups.Group
 *   /org/freedesktop/sssd/infopipe/Domains/<domain>
 *                                            org.freedesktop.sssd.infopipe.Domains
 *
 * One mapping path: a certificate method becomes the very Map call a
 * varlink client sends, handed to dispatch.c with a struct cmd_caller of
 * this face's, so the cache, the lookups, the verify policy, the decision
 * log and the counters are the ones every face shares. Unlike SSSD,
 * FindByCertificate verifies the certificate too: certmap never maps a
 * certificate its verify policy refuses.
 *
 * Threading: one dedicated thread owns the sd-bus connection. An sd_bus
 * is not thread-safe, and sd-bus keeps timeouts of its own. The thread
 * never maps: a Map's lookup waits for a serving thread (lookups.c) and
 * comes back through this face's mailbox (an eventfd), so a slow account
 * lookup never stalls the bus nor the varlink clients. Only the account
 * lookups of FindByName, GetUserGroups, GetUserAttr and the User
 * properties run on the bus thread, and only for allowed callers: NSS,
 * or an ldap domain's directory bounded by its timeout (sd-bus wants a
 * property's value at once, so these cannot wait for a serving thread).
 *
 * Callers are checked on every method and property read against
 * service.allowed_uids/allowed_gids with the credentials the bus reports
 * for the sender (its uid and supplementary groups, never an NSS lookup
 * nor /proc), as SSSD's [ifp] allowed_uids does.
 *
 * This file: the bus, its thread, callers and the certificate methods;
 * infopipe_users.c: the account methods and User objects;
 * infopipe_accounts.c: which accounts (NSS, or an ldap domain's backend);
 * infopipe_objects.c: Group and Domain objects.
 */
#include "config.h"

#include "infopipe.h"

#ifndef HAVE_SYSTEMD

struct cmd_infopipe {
	int unused;
};

struct cmd_infopipe *cmd_infopipe_start(struct cmd_state *st)
{
	(void)st;
	cmd_log(LOG_ERR, "service.infopipe is true, but this certmapd was built without "
			 "libsystemd (sd-bus): set service.infopipe = false or rebuild with "
			 "libsystemd-dev installed");
	return NULL;
}

void cmd_infopipe_stop(struct cmd_infopipe *ip)
{
	(void)ip;
}

void cmd_infopipe_free(struct cmd_infopipe *ip)
{
	(void)ip;
}

#else

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "answer_parse.h"
#include "infopipe_int.h"

/* How long the thread waits before it connects again after losing the bus. */
#define RECONNECT_MS 5000
/* A PEM must fit in one Map frame with room for the envelope. */
#define MAX_PEM (CMP_MAX_REQUEST - 4096)

/* What a certificate method waits for: the call to answer, and how. */
struct pending {
	sd_bus_message *m;
	struct cmd_infopipe *ip;
	bool list;	/* ListByCertificate: answer "ao" */
	uint32_t limit; /* ListByCertificate's limit; 0 for all */
};

/* ---------------------------------------------------------------- callers */

void ifp_caller_clear(struct caller *c)
{
	free(c->groups);
	memset(c, 0, sizeof(*c));
}

/* UnixGroupIDs (au) into c->groups, at most MAX_GROUPS of them. */
static int read_groups(sd_bus_message *reply, struct caller *c)
{
	const void *ids = NULL;
	size_t size = 0;
	int r;

	if ((r = sd_bus_message_enter_container(reply, 'v', "au")) < 0 ||
	    (r = sd_bus_message_read_array(reply, 'u', &ids, &size)) < 0) {
		return r;
	}
	if (size / sizeof(uint32_t) > MAX_GROUPS) {
		return -E2BIG;
	}
	free(c->groups);
	c->n_groups = 0;
	if ((c->groups = malloc(size > 0 ? size : 1)) == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < size / sizeof(uint32_t); i++) {
		uint32_t g;

		memcpy(&g, (const char *)ids + i * sizeof(g), sizeof(g));
		c->groups[c->n_groups++] = (gid_t)g;
	}
	return sd_bus_message_exit_container(reply);
}

/* One entry of GetConnectionCredentials' a{sv}; others are skipped. */
static int read_cred(sd_bus_message *reply, struct caller *c, bool *have_uid)
{
	const char *key;
	uint32_t v;
	int r;

	if ((r = sd_bus_message_read(reply, "s", &key)) < 0) {
		return r;
	}
	if (strcmp(key, "UnixUserID") == 0) {
		if ((r = sd_bus_message_read(reply, "v", "u", &v)) >= 0) {
			c->peer.uid = (uid_t)v;
			*have_uid = true;
		}
	} else if (strcmp(key, "ProcessID") == 0) {
		if ((r = sd_bus_message_read(reply, "v", "u", &v)) >= 0) {
			c->peer.pid = (pid_t)v;
		}
	} else if (strcmp(key, "UnixGroupIDs") == 0) {
		r = read_groups(reply, c);
	} else {
		r = sd_bus_message_skip(reply, "v");
	}
	return r;
}

/*
 * The sender's uid, pid and groups, from the bus's own
 * GetConnectionCredentials (dbus-daemon reads them from the socket with
 * SO_PEERCRED and SO_PEERGROUPS). sd-bus's sender creds do not carry the
 * groups from dbus-daemon, and /proc would be racy, so neither is used.
 * The bus does not report the primary gid: only the groups count.
 */
static int caller_read(sd_bus_message *m, struct caller *c)
{
	sd_bus_message *reply = NULL;
	bool have_uid = false;
	int r;

	memset(c, 0, sizeof(*c));
	c->peer.gid = (gid_t)-1;
	if (sd_bus_message_get_sender(m) == NULL) {
		return -EPERM;
	}
	r = sd_bus_call_method(sd_bus_message_get_bus(m), "org.freedesktop.DBus",
			       "/org/freedesktop/DBus", "org.freedesktop.DBus",
			       "GetConnectionCredentials", NULL, &reply, "s",
			       sd_bus_message_get_sender(m));
	if (r < 0 || (r = sd_bus_message_enter_container(reply, 'a', "{sv}")) < 0) {
		goto out;
	}
	while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
		if ((r = read_cred(reply, c, &have_uid)) < 0 ||
		    (r = sd_bus_message_exit_container(reply)) < 0) {
			goto out;
		}
	}
	if (r >= 0 && !have_uid) {
		r = -EPERM;
	}
out:
	sd_bus_message_unref(reply);
	return r;
}

void ifp_refresh_gen(struct cmd_infopipe *ip)
{
	cmd_state_refresh_gen(ip->st, &ip->gen, &ip->gen_seq);
}

/* 0 when the sender of m may use certmapd; otherwise err is set and a
 * negative errno returned, as an sd-bus handler returns it. */
int ifp_caller_check(struct cmd_infopipe *ip, sd_bus_message *m, struct caller *c,
		     sd_bus_error *err)
{
	ifp_refresh_gen(ip);
	if (caller_read(m, c) < 0) {
		return sd_bus_error_set(err, SD_BUS_ERROR_ACCESS_DENIED,
					"cannot read the caller's credentials from the bus");
	}
	if (!cmd_peer_allowed_groups(&ip->gen->cfg->service, &c->peer, c->groups, c->n_groups)) {
		cmd_stats_add(&ip->stats, CMD_C_REJECTED_PEERS, 1);
		if (cmd_peer_refusal_logged(c->peer.uid)) {
			cmd_log(LOG_WARNING,
				"refused a D-Bus call from uid %u (pid %d): add it to "
				"service.allowed_uids or a group in service.allowed_gids",
				(unsigned)c->peer.uid, (int)c->peer.pid);
		}
		return sd_bus_error_set(err, SD_BUS_ERROR_ACCESS_DENIED,
					"this uid may not use certmapd");
	}
	return 0;
}

/* ---------------------------------------------------------------- names and paths */

/* SSSD's object-path escape: every byte outside [A-Za-z0-9] as _%02x. */
void ifp_path_escape(struct cm_buf *b, const char *s)
{
	if (*s == '\0') {
		cm_buf_addc(b, '_');
		return;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9')) {
			cm_buf_addc(b, (char)*p);
		} else {
			cm_buf_printf(b, "_%02x", *p);
		}
	}
}

/* A malloc'd object path: prefix/<escaped name>[/<id>]; NULL when out of memory. */
char *ifp_object_path(const char *prefix, const char *name, const uid_t *id)
{
	struct cm_buf b;

	cm_buf_init(&b, 4096);
	cm_buf_adds(&b, prefix);
	cm_buf_addc(&b, '/');
	ifp_path_escape(&b, name);
	if (id != NULL) {
		cm_buf_printf(&b, "/%u", (unsigned)*id);
	}
	return cm_buf_steal(&b, NULL);
}

/* Whether the path element [el, el+len) is name escaped. */
static bool element_is(const char *el, size_t len, const char *name)
{
	struct cm_buf b;
	bool same;

	cm_buf_init(&b, 4096);
	ifp_path_escape(&b, name);
	same = !b.failed && b.len == len && memcmp(b.data, el, len) == 0;
	cm_buf_free(&b);
	return same;
}

/* An id in decimal, as this face writes it (no sign, no leading zero). */
static bool parse_id(const char *s, uint32_t *out)
{
	unsigned long long v = 0;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0')) {
		return false;
	}
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || (v = v * 10 + (unsigned)(*s - '0')) >= UINT32_MAX) {
			return false;
		}
	}
	*out = (uint32_t)v;
	return true;
}

const struct cm_domain *ifp_parse_path(const struct cm_config *cfg, const char *prefix,
				       const char *path, uint32_t *id)
{
	size_t plen = strlen(prefix), len;
	const char *el, *slash;

	if (strncmp(path, prefix, plen) != 0 || path[plen] != '/') {
		return NULL;
	}
	el = path + plen + 1;
	slash = strchr(el, '/');
	if (id != NULL ? slash == NULL || !parse_id(slash + 1, id) : slash != NULL) {
		return NULL;
	}
	len = slash != NULL ? (size_t)(slash - el) : strlen(el);
	for (size_t i = 0; i < cfg->n_domains; i++) {
		if (element_is(el, len, cfg->domains[i].name)) {
			return &cfg->domains[i];
		}
	}
	return NULL;
}

/* ---------------------------------------------------------------- Map through dispatch */

/* The Map frame a varlink client would send. NULL when out of memory. */
static char *map_frame(const char *pem, const char *user, bool trace, size_t *len)
{
	json_object *root = json_object_new_object(), *p = json_object_new_object();
	char *frame = NULL;

	if (root == NULL || p == NULL) {
		json_object_put(p);
		goto out;
	}
	json_object_object_add(p, CMP_P_CERTIFICATE, json_object_new_string(pem));
	if (user != NULL && *user != '\0') {
		json_object_object_add(p, CMP_P_USER, json_object_new_string(user));
	}
	if (trace) {
		json_object_object_add(p, CMP_P_TRACE, json_object_new_boolean(1));
	}
	json_object_object_add(root, CMP_F_METHOD, json_object_new_string(CMP_M_MAP));
	json_object_object_add(root, CMP_F_PARAMETERS, p);
	frame = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
								JSON_C_TO_STRING_NOSLASHESCAPE));
	*len = frame != NULL ? strlen(frame) : 0;
out:
	json_object_put(root);
	return frame;
}

static int reply_error(sd_bus_message *m, const char *name, const char *what, const char *message)
{
	return sd_bus_reply_method_errorf(m, name, "%s: %s", what, message);
}

/* A mapped answer: the User object, or a list of it. */
static int reply_mapped(const struct pending *pd, const struct certmap_answer *a)
{
	uid_t uid = certmap_answer_uid(a);
	char *path = ifp_object_path(IFP_USERS_PATH, certmap_answer_domain(a), &uid);
	int r;

	ifp_remember(pd->ip, cm_config_domain(pd->ip->gen->cfg, certmap_answer_domain(a)),
		     certmap_answer_user(a), uid);
	if (path == NULL) {
		return sd_bus_reply_method_errorf(pd->m, SD_BUS_ERROR_NO_MEMORY, "out of memory");
	}
	r = pd->list ? sd_bus_reply_method_return(pd->m, "ao", 1, path)
		     : sd_bus_reply_method_return(pd->m, "o", path);
	free(path);
	return r;
}

/* The object paths as "ao" (none: an empty list). */
static int reply_paths(const struct pending *pd, const struct cm_strv *paths)
{
	sd_bus_message *reply = NULL;
	int r;

	if ((r = sd_bus_message_new_method_return(pd->m, &reply)) < 0 ||
	    (r = sd_bus_message_open_container(reply, 'a', "o")) < 0) {
		goto out;
	}
	for (size_t i = 0; i < paths->n && r >= 0; i++) {
		r = sd_bus_message_append(reply, "o", paths->v[i]);
	}
	if (r >= 0 && (r = sd_bus_message_close_container(reply)) >= 0) {
		r = sd_bus_send(NULL, reply, NULL);
	}
out:
	sd_bus_message_unref(reply);
	return r;
}

/*
 * ListByCertificate of an ambiguous answer: every account the deciding
 * priority level kept (the trace's "kept" candidates: the decision stops
 * at the first level that keeps any), in the rules' order, at most
 * pd->limit of them. More candidates than the mapper weighs ("dropped")
 * is LimitsExceeded: a partial list could hide the account meant.
 */
static int reply_candidates(const struct pending *pd, const struct certmap_answer *a)
{
	struct cm_strv paths = {0};
	char *msg = NULL;
	int r = 0;

	for (size_t t = 0; t < certmap_answer_n_trace(a) && r == 0; t++) {
		const struct certmap_trace_entry *e = certmap_answer_trace(a, t);

		for (size_t k = 0; k < e->n_candidates && r == 0; k++) {
			const struct certmap_candidate *c = &e->candidates[k];
			char *path;

			if (strcmp(c->status, "dropped") == 0) {
				r = sd_bus_reply_method_errorf(
				    pd->m, SD_BUS_ERROR_LIMITS_EXCEEDED,
				    "ambiguous: the rules give more candidates than certmap "
				    "weighs (%s)",
				    certmap_answer_message(a));
				goto out;
			}
			if (strcmp(c->status, "kept") != 0 ||
			    (pd->limit > 0 && paths.n >= pd->limit)) {
				continue;
			}
			/* Accounts of a certificate domain have no User
			 * object on this face: left out. */
			r = ifp_candidate_path(pd->ip, c->user, c->domain, &path, &msg);
			if (r == CERTMAP_OK && path != NULL && cm_strv_take(&paths, path) != 0) {
				r = CERTMAP_ERR_NOMEM;
			}
			if (r == CERTMAP_ERR_NOMEM) {
				r = -ENOMEM;
			} else if (r != CERTMAP_OK) {
				/* A directory down since the mapping (its cache
				 * expired): no partial list. */
				r = reply_error(
				    pd->m, IFP_E_UNAVAILABLE, "backend_unavailable",
				    msg != NULL ? msg : "the account backend cannot be asked");
				goto out;
			}
		}
	}
	r = r < 0 ? r : reply_paths(pd, &paths);
out:
	free(msg);
	cm_strv_clear(&paths);
	return r;
}

/*
 * Whether ListByCertificate answers a with a list, as SSSD does: every
 * matching account up to limit (0: no limit; SSSD truncates silently, so
 * does this), an empty list when none maps (no rule, no account, a uid the
 * domain refuses, a certificate-only identity). A certificate certmap's
 * verify policy refuses, or an unreadable one, stays an error naming the
 * reason, as for the Find methods.
 */
static bool list_answers(const struct certmap_answer *a)
{
	switch (certmap_answer_verdict(a)) {
	case CERTMAP_VERDICT_MAPPED:
	case CERTMAP_VERDICT_AMBIGUOUS: return true;
	case CERTMAP_VERDICT_REFUSED:
		return certmap_answer_reason(a) == CERTMAP_REASON_NO_RULE_MATCHED ||
		       certmap_answer_reason(a) == CERTMAP_REASON_NO_ACCOUNT ||
		       certmap_answer_reason(a) == CERTMAP_REASON_UID_REFUSED;
	case CERTMAP_VERDICT_ERROR:
	default: return false;
	}
}

static int reply_list(const struct pending *pd, const struct certmap_answer *a)
{
	struct cm_strv none = {0};

	if (certmap_answer_verdict(a) == CERTMAP_VERDICT_AMBIGUOUS) {
		return reply_candidates(pd, a);
	}
	if (certmap_answer_verdict(a) == CERTMAP_VERDICT_MAPPED && certmap_answer_has_account(a)) {
		return reply_mapped(pd, a);
	}
	return reply_paths(pd, &none);
}

/*
 * A refusal names its reason code first ("untrusted: ..."). No mapping is
 * sbus.Error.NotFound, as in SSSD (a certificate-only identity too);
 * several accounts (for a Find* without a name) and a certificate that
 * cannot be read are InvalidArgs, as SSSD answers EINVAL; an error verdict
 * is org.freedesktop.DBus.Error.Failed. ListByCertificate answers most of
 * these with a list instead (list_answers).
 */
static int reply_answer(const struct pending *pd, const struct certmap_answer *a)
{
	const char *reason = certmap_reason_name(certmap_answer_reason(a));
	const char *msg = certmap_answer_message(a);

	if (pd->list && list_answers(a)) {
		return reply_list(pd, a);
	}
	switch (certmap_answer_verdict(a)) {
	case CERTMAP_VERDICT_MAPPED:
		/* A certificate-only identity has no uid, so no User object:
		 * InfoPipe's consumers would take it for an account. */
		if (!certmap_answer_has_account(a)) {
			return reply_error(pd->m, IFP_E_NOT_FOUND, "no_account",
					   "a certificate-only identity (domain of type "
					   "certificate) has no account");
		}
		return reply_mapped(pd, a);
	case CERTMAP_VERDICT_AMBIGUOUS:
		return reply_error(pd->m, SD_BUS_ERROR_INVALID_ARGS, reason, msg);
	case CERTMAP_VERDICT_REFUSED:
		if (certmap_answer_reason(a) == CERTMAP_REASON_INVALID_CERTIFICATE) {
			return reply_error(pd->m, SD_BUS_ERROR_INVALID_ARGS, reason, msg);
		}
		return reply_error(pd->m, IFP_E_NOT_FOUND, reason, msg);
	case CERTMAP_VERDICT_ERROR:
	default: return reply_error(pd->m, SD_BUS_ERROR_FAILED, reason, msg);
	}
}

/* A varlink error reply of dispatch's, as a D-Bus error. */
static int reply_varlink_error(const struct pending *pd, const char *error, json_object *params)
{
	json_object *v = NULL;
	const char *msg = error;

	if (params != NULL && json_object_object_get_ex(params, "message", &v) &&
	    json_object_is_type(v, json_type_string)) {
		msg = json_object_get_string(v);
	}
	if (strcmp(error, CMP_E_BACKEND_UNAVAILABLE) == 0) {
		return reply_error(pd->m, IFP_E_UNAVAILABLE, "backend_unavailable", msg);
	}
	if (strcmp(error, CMP_E_PERMISSION_DENIED) == 0) {
		return reply_error(pd->m, SD_BUS_ERROR_ACCESS_DENIED, "permission_denied", msg);
	}
	/* A certificate that is neither PEM nor base64 DER, or too big. */
	if (params != NULL && json_object_object_get_ex(params, "parameter", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    strcmp(json_object_get_string(v), CMP_P_CERTIFICATE) == 0) {
		return reply_error(pd->m, SD_BUS_ERROR_INVALID_ARGS, "invalid_certificate", msg);
	}
	return reply_error(pd->m, SD_BUS_ERROR_INVALID_ARGS, "invalid_request", msg);
}

/* Answers pd's call from dispatch's reply frame in out. */
static int reply_frame(const struct pending *pd, const struct cm_buf *out)
{
	json_object *root = NULL, *v = NULL, *params = NULL;
	struct certmap_answer *a = NULL;
	int r;

	if (out->failed || out->len == 0 || (root = json_tokener_parse(out->data)) == NULL) {
		r = sd_bus_reply_method_errorf(pd->m, SD_BUS_ERROR_FAILED,
					       "no answer from the mapper");
		goto out;
	}
	json_object_object_get_ex(root, CMP_F_PARAMETERS, &params);
	if (json_object_object_get_ex(root, CMP_F_ERROR, &v)) {
		r = reply_varlink_error(pd, json_object_get_string(v), params);
		goto out;
	}
	if (params == NULL || cm_answer_from_json(params, &a) != CERTMAP_OK) {
		r = sd_bus_reply_method_errorf(pd->m, SD_BUS_ERROR_FAILED, "unreadable answer");
		goto out;
	}
	r = reply_answer(pd, a);
out:
	certmap_answer_free(a);
	json_object_put(root);
	return r;
}

static void pending_free(struct pending *pd)
{
	if (pd != NULL) {
		sd_bus_message_unref(pd->m);
		free(pd);
	}
}

/* Any thread (the serving thread that ran the lookup): a finished Map comes home. */
static void post_job(struct cmd_job *job, void *arg)
{
	struct cmd_infopipe *ip = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&ip->mail_lock);
	*cmd_job_link(job) = ip->mail;
	ip->mail = job;
	pthread_mutex_unlock(&ip->mail_lock);
	if (write(ip->wake_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is already set, the thread will look. */
	}
}

/* The bus thread: answers every finished Map in the mailbox, oldest first. */
static void drain_mail(struct cmd_infopipe *ip)
{
	struct cmd_job *list, *rev = NULL;

	pthread_mutex_lock(&ip->mail_lock);
	list = ip->mail;
	ip->mail = NULL;
	pthread_mutex_unlock(&ip->mail_lock);
	while (list != NULL) {
		struct cmd_job *next = *cmd_job_link(list);

		*cmd_job_link(list) = rev;
		rev = list;
		list = next;
	}
	while (rev != NULL) {
		struct cmd_job *next = *cmd_job_link(rev);
		struct pending *pd = cmd_job_owner(rev);
		struct cm_buf out;

		cm_buf_init(&out, CMP_MAX_REPLY);
		cmd_job_finish(rev, &ip->stats, &out);
		if (reply_frame(pd, &out) < 0) {
			cmd_log(LOG_DEBUG, "a D-Bus caller left before its answer");
		}
		cm_buf_free(&out);
		pending_free(pd);
		cmd_job_free(rev);
		ip->in_flight--;
		rev = next;
	}
}

/*
 * The certificate methods: the caller, the arguments' sizes, then one Map.
 * Returns 1 when the answer comes later (the job holds the call), else
 * what replying returned.
 */
static int start_map(struct cmd_infopipe *ip, sd_bus_message *m, const char *pem, const char *user,
		     const uint32_t *list_limit, sd_bus_error *err)
{
	struct caller c = {0};
	struct pending *pd = NULL;
	struct cm_buf out;
	char *frame = NULL;
	size_t len = 0;
	int r;

	cm_buf_init(&out, CMP_MAX_REPLY);
	if ((r = ifp_caller_check(ip, m, &c, err)) < 0) {
		goto out;
	}
	/* Any allowed caller can send many calls at once over one bus
	 * connection (the socket allows one per connection): the face as a
	 * whole has at most max_connections lookups out. */
	if (ip->in_flight >= ip->gen->cfg->service.max_connections) {
		r = sd_bus_error_setf(
		    err, SD_BUS_ERROR_LIMITS_EXCEEDED,
		    "too many certificate calls at once (service.max_connections %u)",
		    ip->gen->cfg->service.max_connections);
		goto out;
	}
	if (*pem == '\0' || strlen(pem) > MAX_PEM) {
		r = sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
				      "the certificate must be a PEM of 1 to %d bytes", MAX_PEM);
		goto out;
	}
	if (user != NULL && strlen(user) > CMP_MAX_NAME) {
		r = sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
				      "the user name is over %d bytes", CMP_MAX_NAME);
		goto out;
	}
	if ((pd = calloc(1, sizeof(*pd))) == NULL ||
	    (frame = map_frame(pem, user, list_limit != NULL, &len)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	pd->m = sd_bus_message_ref(m);
	pd->ip = ip;
	pd->list = list_limit != NULL;
	pd->limit = list_limit != NULL ? *list_limit : 0;
	/* A list needs the candidates of an ambiguous answer, which only a
	 * trace carries, and dispatch gives traces to administrators only.
	 * The trace stays in certmapd: the caller gets object paths. */
	c.peer.admin = pd->list;
	struct cmd_caller cl = {
	    .st = ip->st,
	    .gen = ip->gen,
	    .stats = &ip->stats,
	    .peer = &c.peer,
	    .fd = -1,
	    .groups_given = true,
	    .groups = c.groups,
	    .n_groups = c.n_groups,
	    .post = post_job,
	    .post_arg = ip,
	    .owner = pd,
	};
	if (cmd_dispatch_frame(&cl, frame, len, &out) == CMD_PENDING) {
		pd = NULL; /* the job has it */
		ip->in_flight++;
		r = 1;
		goto out;
	}
	r = reply_frame(pd, &out);
out:
	pending_free(pd);
	free(frame);
	cm_buf_free(&out);
	ifp_caller_clear(&c);
	return r;
}

static int m_find_by_cert(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	const char *pem;
	int r;

	if ((r = sd_bus_message_read(m, "s", &pem)) < 0) {
		return r;
	}
	return start_map(userdata, m, pem, NULL, NULL, err);
}

static int m_list_by_cert(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	const char *pem;
	uint32_t limit;
	int r;

	if ((r = sd_bus_message_read(m, "su", &pem, &limit)) < 0) {
		return r;
	}
	return start_map(userdata, m, pem, NULL, &limit, err);
}

static int m_find_by_name_and_cert(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	const char *name, *pem;
	int r;

	if ((r = sd_bus_message_read(m, "ss", &name, &pem)) < 0) {
		return r;
	}
	return start_map(userdata, m, pem, name, NULL, err);
}

/* ---------------------------------------------------------------- vtables */

/* sd-bus lets only the service's own uid (or CAP_SYS_ADMIN) call a
 * method without this flag; who may call is ifp_caller_check()'s to say. */
#define UNPRIV SD_BUS_VTABLE_UNPRIVILEGED

static const sd_bus_vtable ifp_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_NAMES("Ping", "s", SD_BUS_PARAM(ping), "s", SD_BUS_PARAM(pong), ifp_ping,
			     UNPRIV),
    SD_BUS_METHOD_WITH_NAMES("GetUserAttr", "sas", SD_BUS_PARAM(user) SD_BUS_PARAM(attr), "a{sv}",
			     SD_BUS_PARAM(values), ifp_get_user_attr, UNPRIV),
    SD_BUS_METHOD_WITH_NAMES("GetUserGroups", "s", SD_BUS_PARAM(user), "as", SD_BUS_PARAM(values),
			     ifp_get_user_groups, UNPRIV),
    SD_BUS_METHOD_WITH_NAMES("FindDomainByName", "s", SD_BUS_PARAM(name), "o", SD_BUS_PARAM(domain),
			     ifp_find_domain_by_name, UNPRIV),
    SD_BUS_METHOD_WITH_NAMES("ListDomains", "", , "ao", SD_BUS_PARAM(domain), ifp_list_domains,
			     UNPRIV),
    SD_BUS_VTABLE_END,
};

static const sd_bus_vtable users_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_NAMES("FindByName", "s", SD_BUS_PARAM(name), "o", SD_BUS_PARAM(result),
			     ifp_find_by_name, UNPRIV),
    SD_BUS_METHOD_WITH_NAMES("FindByCertificate", "s", SD_BUS_PARAM(pem_cert), "o",
			     SD_BUS_PARAM(result), m_find_by_cert, UNPRIV),
    SD_BUS_METHOD_WITH_NAMES("FindByValidCertificate", "s", SD_BUS_PARAM(pem_cert), "o",
			     SD_BUS_PARAM(result), m_find_by_cert, UNPRIV),
    SD_BUS_METHOD_WITH_NAMES("ListByCertificate", "su", SD_BUS_PARAM(pem_cert) SD_BUS_PARAM(limit),
			     "ao", SD_BUS_PARAM(result), m_list_by_cert, UNPRIV),
    SD_BUS_METHOD_WITH_NAMES("FindByNameAndCertificate", "ss",
			     SD_BUS_PARAM(name) SD_BUS_PARAM(pem_cert), "o", SD_BUS_PARAM(result),
			     m_find_by_name_and_cert, UNPRIV),
    SD_BUS_VTABLE_END,
};

/* Read on demand from NSS: nothing is cached, so nothing is announced. */
#define USER_PROP(name, sig)                                                                       \
	SD_BUS_PROPERTY(name, sig, ifp_user_prop, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION)

static const sd_bus_vtable user_vtable[] = {
    SD_BUS_VTABLE_START(0),
    USER_PROP("name", "s"),
    USER_PROP("uidNumber", "u"),
    USER_PROP("gidNumber", "u"),
    USER_PROP("gecos", "s"),
    USER_PROP("homeDirectory", "s"),
    USER_PROP("loginShell", "s"),
    USER_PROP("uniqueID", "s"),
    USER_PROP("groups", "ao"),
    USER_PROP("domain", "o"),
    USER_PROP("domainname", "s"),
    USER_PROP("extraAttributes", "a{sas}"),
    SD_BUS_VTABLE_END,
};

/* Read on demand from NSS, as the users. */
#define GROUP_PROP(name, sig)                                                                      \
	SD_BUS_PROPERTY(name, sig, ifp_group_prop, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION)

static const sd_bus_vtable group_vtable[] = {
    SD_BUS_VTABLE_START(0),
    GROUP_PROP("name", "s"),
    GROUP_PROP("gidNumber", "u"),
    GROUP_PROP("uniqueID", "s"),
    GROUP_PROP("users", "ao"),
    GROUP_PROP("groups", "ao"),
    SD_BUS_VTABLE_END,
};

/* From the configuration, which changes only with a reload. */
#define DOMAIN_PROP(name, sig)                                                                     \
	SD_BUS_PROPERTY(name, sig, ifp_domain_prop, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION)

static const sd_bus_vtable domain_vtable[] = {
    SD_BUS_VTABLE_START(0),
    DOMAIN_PROP("name", "s"),
    DOMAIN_PROP("provider", "s"),
    DOMAIN_PROP("primary_servers", "as"),
    DOMAIN_PROP("backup_servers", "as"),
    DOMAIN_PROP("min_id", "u"),
    DOMAIN_PROP("max_id", "u"),
    DOMAIN_PROP("realm", "s"),
    DOMAIN_PROP("forest", "s"),
    DOMAIN_PROP("login_format", "s"),
    DOMAIN_PROP("fully_qualified_name_format", "s"),
    DOMAIN_PROP("enumerable", "b"),
    DOMAIN_PROP("use_fully_qualified_names", "b"),
    DOMAIN_PROP("subdomain", "b"),
    DOMAIN_PROP("parent_domain", "o"),
    SD_BUS_VTABLE_END,
};

/* ---------------------------------------------------------------- the bus */

/* sd-bus cannot mix a fallback and a plain object on one path: Users is
 * a fallback too, found at its own path only. */
static int users_find(sd_bus *bus, const char *path, const char *iface, void *userdata,
		      void **found, sd_bus_error *err)
{
	(void)bus, (void)iface, (void)err;
	if (strcmp(path, IFP_USERS_PATH) != 0) {
		return 0;
	}
	*found = userdata;
	return 1;
}

static void bus_drop(struct cmd_infopipe *ip)
{
	ip->bus = sd_bus_flush_close_unref(ip->bus);
	ip->reconnect_at_ms = cmd_now_ms() + RECONNECT_MS;
}

/* Connects, registers the objects and takes the name. 0 or -1 (logged). */
static int bus_connect(struct cmd_infopipe *ip)
{
	sd_bus *bus = NULL;
	const char *step = "connect to the system bus";
	int r;

	if ((r = sd_bus_open_system(&bus)) < 0) {
		goto out;
	}
	step = "register the InfoPipe objects";
	if ((r = sd_bus_add_object_vtable(bus, NULL, IFP_PATH, IFP_NAME, ifp_vtable, ip)) < 0 ||
	    (r = sd_bus_add_fallback_vtable(bus, NULL, IFP_USERS_PATH, IFP_USERS_IFACE,
					    users_vtable, users_find, ip)) < 0 ||
	    (r = sd_bus_add_fallback_vtable(bus, NULL, IFP_USERS_PATH, IFP_USER_IFACE, user_vtable,
					    ifp_user_find, ip)) < 0 ||
	    (r = sd_bus_add_fallback_vtable(bus, NULL, IFP_GROUPS_PATH, IFP_GROUP_IFACE,
					    group_vtable, ifp_group_find, ip)) < 0 ||
	    (r = sd_bus_add_fallback_vtable(bus, NULL, IFP_DOMAINS_PATH, IFP_DOMAINS_IFACE,
					    domain_vtable, ifp_domain_find, ip)) < 0) {
		goto out;
	}
	step = "own the name " IFP_NAME " (is SSSD's ifp responder running, or is the D-Bus "
	       "policy certmapd-infopipe.conf missing?)";
	if ((r = sd_bus_request_name(bus, IFP_NAME, 0)) < 0) {
		goto out;
	}
	ip->bus = bus;
	bus = NULL;
out:
	if (r < 0) {
		cmd_log(LOG_ERR, "service.infopipe: cannot %s: %s", step, strerror(-r));
	}
	sd_bus_flush_close_unref(bus);
	return r < 0 ? -1 : 0;
}

/* Sleeps until the bus, the mailbox or a timeout needs the thread. */
static void bus_wait(struct cmd_infopipe *ip)
{
	struct pollfd p[2] = {{.fd = ip->wake_fd, .events = POLLIN}, {.fd = -1}};
	uint64_t until_us = UINT64_MAX, now_ms = cmd_now_ms(), wake;
	int timeout = -1, r;

	if (ip->bus != NULL) {
		p[1].fd = sd_bus_get_fd(ip->bus);
		r = sd_bus_get_events(ip->bus);
		p[1].events = (short)(r > 0 ? r : POLLIN);
		if (sd_bus_get_timeout(ip->bus, &until_us) >= 0 && until_us != UINT64_MAX) {
			struct timespec ts;
			uint64_t now_us;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			now_us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
			timeout = until_us <= now_us ? 0 : (int)((until_us - now_us + 999) / 1000);
		}
	} else {
		timeout = ip->reconnect_at_ms <= now_ms ? 0 : (int)(ip->reconnect_at_ms - now_ms);
	}
	if (poll(p, p[1].fd >= 0 ? 2 : 1, timeout) > 0 && (p[0].revents & POLLIN) &&
	    read(ip->wake_fd, &wake, sizeof(wake)) < 0) {
		/* EAGAIN: another read took it. */
	}
}

static void *bus_thread(void *arg)
{
	struct cmd_infopipe *ip = arg;

	while (!atomic_load(&ip->stop)) {
		int r;

		drain_mail(ip);
		if (ip->bus == NULL && cmd_now_ms() >= ip->reconnect_at_ms &&
		    bus_connect(ip) != 0) {
			ip->reconnect_at_ms = cmd_now_ms() + RECONNECT_MS;
		}
		if (ip->bus != NULL) {
			if ((r = sd_bus_process(ip->bus, NULL)) < 0) {
				cmd_log(LOG_ERR,
					"service.infopipe: lost the system bus (%s); connecting "
					"again in %d seconds",
					strerror(-r), RECONNECT_MS / 1000);
				bus_drop(ip);
				continue;
			}
			if (r > 0) {
				continue; /* more may be queued */
			}
		}
		bus_wait(ip);
	}
	return NULL;
}

struct cmd_infopipe *cmd_infopipe_start(struct cmd_state *st)
{
	struct cmd_infopipe *ip = calloc(1, sizeof(*ip));

	if (ip == NULL) {
		return NULL;
	}
	ip->st = st;
	ip->wake_fd = -1;
	pthread_mutex_init(&ip->mail_lock, NULL);
	ifp_refresh_gen(ip);
	/* The first connection is made here, so that a missing bus or a name
	 * owned by another program stops the start with a clear message. */
	if ((ip->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 || bus_connect(ip) != 0) {
		goto fail;
	}
	if (pthread_create(&ip->thread, NULL, bus_thread, ip) != 0) {
		cmd_log(LOG_ERR, "service.infopipe: cannot start the D-Bus thread");
		goto fail;
	}
	ip->started = true;
	cmd_log(LOG_NOTICE, "service.infopipe: serving %s on the system bus", IFP_NAME);
	return ip;
fail:
	cmd_infopipe_free(ip);
	return NULL;
}

void cmd_infopipe_stop(struct cmd_infopipe *ip)
{
	uint64_t one = 1;

	if (ip == NULL || !ip->started) {
		return;
	}
	atomic_store(&ip->stop, true);
	if (write(ip->wake_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: it is awake already. */
	}
	pthread_join(ip->thread, NULL);
	ip->started = false;
}

void cmd_infopipe_free(struct cmd_infopipe *ip)
{
	if (ip == NULL) {
		return;
	}
	cmd_infopipe_stop(ip);
	/* The callers still waiting get no answer: the service is stopping. */
	while (ip->mail != NULL) {
		struct cmd_job *next = *cmd_job_link(ip->mail);

		pending_free(cmd_job_owner(ip->mail));
		cmd_job_free(ip->mail);
		ip->mail = next;
	}
	ifp_forget_all(ip);
	sd_bus_flush_close_unref(ip->bus);
	cmd_gen_unref(ip->gen);
	if (ip->wake_fd >= 0) {
		close(ip->wake_fd);
	}
	pthread_mutex_destroy(&ip->mail_lock);
	free(ip);
}

#endif

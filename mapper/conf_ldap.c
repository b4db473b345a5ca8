/*
 * The settings of an ldap domain. Like conf.c, every problem is reported
 * (with the setting's line) rather than the first one only, and nothing
 * here touches the network: check-config and the loaders work offline.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ldap.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "backend_ldap.h"
#include "certmap.h"
#include "conf.h"
#include "conf_ldap.h"
#include "ldap_cache.h"
#include "util.h"

struct lctx {
	const char *file;
	cm_conf_err_fn *err;
	void *ctx;
	bool nomem;
};

static void lerr(struct lctx *c, const config_setting_t *s, const char *name,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void lerr(struct lctx *c, const config_setting_t *s, const char *name,
		 const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		c->nomem = true;
		return;
	}
	c->err(c->ctx, s, name, msg);
	free(msg);
}

static const config_setting_t *member(struct lctx *c, const config_setting_t *g,
				      const char *name, int type, const char *what)
{
	const config_setting_t *s = config_setting_get_member(g, name);

	if (s == NULL) {
		return NULL;
	}
	if (config_setting_type(s) != type &&
	    !(type == CONFIG_TYPE_INT && config_setting_type(s) == CONFIG_TYPE_INT64)) {
		lerr(c, s, NULL, "must be %s", what);
		return NULL;
	}
	return s;
}

/* A string setting; dflt (may be NULL) when absent. */
static void str(struct lctx *c, const config_setting_t *g, const char *name,
		const char *dflt, char **out)
{
	const config_setting_t *s = member(c, g, name, CONFIG_TYPE_STRING, "a string");
	const char *v = dflt;

	if (s != NULL) {
		v = config_setting_get_string(s);
		if (v[0] == '\0') {
			lerr(c, s, NULL, "must not be empty");
			v = dflt;
		}
	}
	if (v != NULL && (*out = strdup(v)) == NULL) {
		c->nomem = true;
	}
}

static void uint_setting(struct lctx *c, const config_setting_t *g, const char *name,
			 long long min, long long max, unsigned int *out)
{
	const config_setting_t *s = member(c, g, name, CONFIG_TYPE_INT, "an integer");
	long long v;

	if (s == NULL) {
		return;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		lerr(c, s, NULL, "must be between %lld and %lld", min, max);
		return;
	}
	*out = (unsigned int)v;
}

/* One of names[] (NULL-terminated); returns its index, or dflt. */
static int choice(struct lctx *c, const config_setting_t *g, const char *name,
		  const char *const *names, int dflt)
{
	const config_setting_t *s = member(c, g, name, CONFIG_TYPE_STRING, "a string");
	struct cm_buf list;

	if (s == NULL) {
		return dflt;
	}
	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(config_setting_get_string(s), names[i]) == 0) {
			return i;
		}
	}
	cm_buf_init(&list, 4096);
	for (int i = 0; names[i] != NULL; i++) {
		cm_buf_printf(&list, "%s\"%s\"", i > 0 ? ", " : "", names[i]);
	}
	lerr(c, s, NULL, "unknown value \"%s\" (expected %s)", config_setting_get_string(s),
	     list.data != NULL ? list.data : "");
	cm_buf_free(&list);
	return dflt;
}

/* Relative file names are relative to the configuration's directory. */
static void resolve(struct lctx *c, char **path)
{
	const char *slash;
	char *abs;

	if (*path == NULL || (*path)[0] == '/' || (slash = strrchr(c->file, '/')) == NULL) {
		return;
	}
	abs = cm_asprintf("%.*s/%s", (int)(slash - c->file), c->file, *path);
	if (abs == NULL) {
		c->nomem = true;
		return;
	}
	free(*path);
	*path = abs;
}

/* An attribute description: a name or numeric OID, options after ';'. */
static bool attr_valid(const char *a)
{
	size_t n = strlen(a);

	if (n == 0 || n > 128 || !isalnum((unsigned char)a[0])) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)a[i];

		if (!isalnum(ch) && ch != '-' && ch != '.' && ch != ';') {
			return false;
		}
	}
	return true;
}

/* A filter in parentheses whose parentheses balance; the server checks
 * the rest, and a filter it refuses is reported on every search. */
static bool filter_valid(const char *f)
{
	size_t n = strlen(f);
	int depth = 0;

	if (n < 3 || n > 1024 || f[0] != '(' || f[n - 1] != ')') {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (f[i] == '(') {
			depth++;
		} else if (f[i] == ')' && --depth < 0) {
			return false;
		} else if ((unsigned char)f[i] < 0x20) {
			return false;
		}
		if (depth == 0 && i + 1 < n) {
			return false;
		}
	}
	return depth == 0;
}

static bool dn_valid(const char *dn)
{
	LDAPDN parsed = NULL;

	if (ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS) {
		return false;
	}
	ldap_dnfree(parsed);
	return true;
}

static void check_uris(struct lctx *c, const config_setting_t *g,
		       struct cm_domain *d, struct cm_ldap_conf *lc)
{
	const config_setting_t *s = config_setting_get_member(g, "uri");

	if (d->uri.n == 0) {
		lerr(c, s != NULL ? s : g, s != NULL ? NULL : "uri",
		     "is required: at least one ldap://, ldaps:// or ldapi:// URI");
		return;
	}
	if (d->uri.n > CM_LDAP_MAX_URIS) {
		lerr(c, s, NULL, "at most %d URIs", CM_LDAP_MAX_URIS);
	}
	for (size_t i = 0; i < d->uri.n; i++) {
		const char *u = d->uri.v[i];
		LDAPURLDesc *lud = NULL;

		if (strncasecmp(u, "ldap://", 7) != 0 && strncasecmp(u, "ldaps://", 8) != 0 &&
		    strncasecmp(u, "ldapi://", 8) != 0) {
			lerr(c, s, NULL, "\"%s\": expected an ldap://, ldaps:// or ldapi:// URI", u);
		} else if (ldap_url_parse(u, &lud) != LDAP_URL_SUCCESS) {
			lerr(c, s, NULL, "\"%s\" is not a valid LDAP URI", u);
		} else if (lud->lud_dn != NULL && lud->lud_dn[0] != '\0') {
			lerr(c, s, NULL, "\"%s\": give the base in base, not in the URI", u);
		} else if (lc->starttls && strncasecmp(u, "ldap://", 7) != 0) {
			lerr(c, s, NULL, "\"%s\": starttls = true needs ldap:// URIs", u);
		}
		ldap_free_urldesc(lud);
	}
	lc->uri = (const char *const *)d->uri.v;
	lc->n_uri = d->uri.n;
}

/* The account certmapd runs as (service.user) may own the password file. */
static uid_t service_uid(const config_setting_t *g);

static void load_bind(struct lctx *c, const config_setting_t *g, struct cm_ldap_conf *lc)
{
	static const char *const mechs[] = { "EXTERNAL", NULL };
	const config_setting_t *s;
	struct stat st;
	const char *why;

	str(c, g, "bind_dn", NULL, &lc->bind_dn);
	str(c, g, "bind_password_file", NULL, &lc->bind_password_file);
	resolve(c, &lc->bind_password_file);
	if (config_setting_get_member(g, "sasl_mech") != NULL &&
	    choice(c, g, "sasl_mech", mechs, -1) == 0 &&
	    (lc->sasl_mech = strdup("EXTERNAL")) == NULL) {
		c->nomem = true;
	}
	if (lc->bind_dn != NULL && !dn_valid(lc->bind_dn)) {
		lerr(c, config_setting_get_member(g, "bind_dn"), NULL, "is not a valid DN");
	}
	if ((lc->bind_dn == NULL) != (lc->bind_password_file == NULL)) {
		lerr(c, g, lc->bind_dn == NULL ? "bind_password_file" : "bind_dn",
		     "needs %s as well", lc->bind_dn == NULL ? "bind_dn" : "bind_password_file");
	}
	if (lc->sasl_mech != NULL && lc->bind_dn != NULL) {
		lerr(c, g, "sasl_mech", "EXTERNAL binds without bind_dn and bind_password_file");
	}
	if (lc->bind_password_file == NULL) {
		return;
	}
	s = config_setting_get_member(g, "bind_password_file");
	lc->service_uid = service_uid(g);
	if (stat(lc->bind_password_file, &st) != 0) {
		lerr(c, s, NULL, "%s: %s", lc->bind_password_file, strerror(errno));
	} else if ((why = cm_ldap_password_file_problem(&st, lc->service_uid)) != NULL) {
		lerr(c, s, NULL, "%s: %s", lc->bind_password_file, why);
	}
}

const char *cm_ldap_password_file_problem(const struct stat *st, uid_t service_uid)
{
	if (!S_ISREG(st->st_mode)) {
		return "not a regular file";
	}
	if ((st->st_mode & 077) != 0) {
		return "group or others have access to it (chmod 600)";
	}
	if (st->st_uid != 0 && st->st_uid != geteuid() && st->st_uid != service_uid) {
		return "owned by neither root nor the service user";
	}
	if (st->st_size > CM_LDAP_MAX_PASSWORD + 1) {
		return "larger than a password";
	}
	return NULL;
}

/* The account certmapd runs as may own the password file. */
static uid_t service_uid(const config_setting_t *g)
{
	const config_setting_t *root = g;
	const char *user = "certmapd";
	struct passwd pw, *res = NULL;
	char buf[4096];

	while (config_setting_parent(root) != NULL) {
		root = config_setting_parent(root);
	}
	(void)config_setting_lookup_string(config_setting_get_member(root, "service") != NULL
						   ? config_setting_get_member(root, "service")
						   : root,
					   "user", &user);
	if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 || res == NULL) {
		return (uid_t)-1;
	}
	return pw.pw_uid;
}

static void load_tls(struct lctx *c, const config_setting_t *g, struct cm_ldap_conf *lc)
{
	bool tls = lc->starttls;

	str(c, g, "tls_ca_file", NULL, &lc->tls_ca_file);
	resolve(c, &lc->tls_ca_file);
	for (size_t i = 0; i < lc->n_uri; i++) {
		tls = tls || strncasecmp(lc->uri[i], "ldaps://", 8) == 0;
	}
	if (lc->tls_ca_file != NULL && access(lc->tls_ca_file, R_OK) != 0) {
		lerr(c, config_setting_get_member(g, "tls_ca_file"), NULL, "%s: %s",
		     lc->tls_ca_file, strerror(errno));
	}
	if (lc->tls_ca_file != NULL && !tls) {
		lerr(c, g, "tls_ca_file", "is set, but no URI is ldaps:// and starttls is false");
	}
}

static const char *const group_filters[] = {
	"(objectClass=posixGroup)",
	"(objectClass=groupOfNames)",
	"(|(objectClass=posixGroup)(objectClass=groupOfNames))",
	"(|(objectClass=posixGroup)(objectClass=groupOfNames))",
};

static void load_groups(struct lctx *c, const config_setting_t *g,
			const struct cm_domain *d, struct cm_ldap_conf *lc)
{
	static const char *const schemas[] = { "rfc2307", "rfc2307bis", "memberof", "none", NULL };
	const config_setting_t *s = config_setting_get_member(g, "groups");

	/* conf.c keeps "groups" as a string; its value is checked here. */
	lc->groups = CM_LDAP_GROUPS_RFC2307;
	for (int i = 0; d->groups != NULL && schemas[i] != NULL; i++) {
		if (strcmp(d->groups, schemas[i]) == 0) {
			lc->groups = (enum cm_ldap_groups)i;
			break;
		} else if (schemas[i + 1] == NULL) {
			lerr(c, s, NULL, "unknown value \"%s\" (expected \"rfc2307\", \"rfc2307bis\", "
			     "\"memberof\" or \"none\")", d->groups);
		}
	}
	lc->group_depth = CM_LDAP_DEFAULT_GROUP_DEPTH;
	uint_setting(c, g, "group_depth", 0, 32, &lc->group_depth);
	str(c, g, "group_base", lc->base, &lc->group_base);
	str(c, g, "group_filter", group_filters[lc->groups], &lc->group_filter);
	if (lc->group_base != NULL && !dn_valid(lc->group_base)) {
		lerr(c, config_setting_get_member(g, "group_base"), NULL, "is not a valid DN");
	}
	if (lc->group_filter != NULL && !filter_valid(lc->group_filter)) {
		lerr(c, config_setting_get_member(g, "group_filter"), NULL,
		     "must be one LDAP filter in parentheses");
	}
}

static void load_attrs(struct lctx *c, const config_setting_t *g, struct cm_ldap_conf *lc)
{
	static const struct {
		const char *name;
		const char *dflt;
		size_t off;
	} attrs[] = {
		{ "attr_name", "uid", offsetof(struct cm_ldap_conf, attr_name) },
		{ "attr_uid", "uidNumber", offsetof(struct cm_ldap_conf, attr_uid) },
		{ "attr_gid", "gidNumber", offsetof(struct cm_ldap_conf, attr_gid) },
		{ "attr_home", "homeDirectory", offsetof(struct cm_ldap_conf, attr_home) },
		{ "attr_member_of", "memberOf", offsetof(struct cm_ldap_conf, attr_member_of) },
		{ "attr_member", "member", offsetof(struct cm_ldap_conf, attr_member) },
		{ "attr_member_uid", "memberUid", offsetof(struct cm_ldap_conf, attr_member_uid) },
		{ "attr_group_name", "cn", offsetof(struct cm_ldap_conf, attr_group_name) },
		{ "attr_sid", "objectSid", offsetof(struct cm_ldap_conf, attr_sid) },
		{ "attr_primary_group", "primaryGroupID",
		  offsetof(struct cm_ldap_conf, attr_primary_group) },
	};

	for (size_t i = 0; i < CM_ARRAY_SIZE(attrs); i++) {
		char **p = (char **)((char *)lc + attrs[i].off);

		str(c, g, attrs[i].name, attrs[i].dflt, p);
		if (*p != NULL && !attr_valid(*p)) {
			lerr(c, config_setting_get_member(g, attrs[i].name), NULL,
			     "\"%s\" is not an attribute name", *p);
		}
	}
}

static void check_members(struct lctx *c, const config_setting_t *g)
{
	static const char *const known[] = {
		"name", "type", "min_uid", "allow_uid0", "uri", "base", "groups",
		"scope", "user_filter", "bind_dn", "bind_password_file", "sasl_mech",
		"starttls", "tls_ca_file", "timeout", "size_limit", "retry_interval",
		"pool_size", "cache_ttl", "negative_cache_ttl", "primary_group_ttl", "cache_size", "attr_name", "attr_uid", "attr_gid", "attr_home",
		"attr_member_of", "attr_member", "attr_member_uid", "attr_group_name",
		"attr_sid", "attr_primary_group", "group_depth", "group_base", "group_filter", "ids", NULL
	};
	int n = config_setting_length(g);

	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		bool ok = false;

		for (size_t k = 0; name != NULL && known[k] != NULL; k++) {
			ok = ok || strcmp(name, known[k]) == 0;
		}
		if (!ok) {
			lerr(c, m, NULL, "unknown setting");
		}
	}
}

static void load_search(struct lctx *c, const config_setting_t *g,
			const struct cm_domain *d, struct cm_ldap_conf *lc)
{
	static const char *const scopes[] = { "base", "one", "sub", NULL };
	static const int scope_values[] = { LDAP_SCOPE_BASE, LDAP_SCOPE_ONELEVEL, LDAP_SCOPE_SUBTREE };
	static const char *const ids[] = { "directory", "nss", "sid", NULL };
	const config_setting_t *s;
	int i;

	lc->base = d->base;
	if (d->base == NULL) {
		lerr(c, g, "base", "is required for ldap domains");
	} else if (!dn_valid(d->base)) {
		lerr(c, config_setting_get_member(g, "base"), NULL, "is not a valid DN");
	}
	lc->scope = scope_values[choice(c, g, "scope", scopes, 2)];
	str(c, g, "user_filter", "(objectClass=posixAccount)", &lc->user_filter);
	if (lc->user_filter != NULL && !filter_valid(lc->user_filter)) {
		lerr(c, config_setting_get_member(g, "user_filter"), NULL,
		     "must be one LDAP filter in parentheses");
	}
	i = choice(c, g, "ids", ids, 0);
	lc->ids = i == 1 ? CM_LDAP_IDS_NSS : i == 2 ? CM_LDAP_IDS_SID : CM_LDAP_IDS_DIRECTORY;
	s = member(c, g, "starttls", CONFIG_TYPE_BOOL, "true or false");
	lc->starttls = s != NULL && config_setting_get_bool(s) != 0;
	lc->timeout = CM_LDAP_DEFAULT_TIMEOUT;
	lc->size_limit = CM_LDAP_DEFAULT_SIZE_LIMIT;
	lc->retry_interval = CM_LDAP_DEFAULT_RETRY;
	lc->pool_size = CM_LDAP_DEFAULT_POOL_SIZE;
	uint_setting(c, g, "timeout", 1, 300, &lc->timeout);
	uint_setting(c, g, "size_limit", 1, 256, &lc->size_limit);
	uint_setting(c, g, "retry_interval", 0, 86400, &lc->retry_interval);
	uint_setting(c, g, "pool_size", 0, 1024, &lc->pool_size);
	lc->cache_ttl = CM_LDAP_DEFAULT_CACHE_TTL;
	lc->negative_cache_ttl = CM_LDAP_DEFAULT_NEGATIVE_CACHE_TTL;
	lc->cache_size = CM_LDAP_DEFAULT_CACHE_SIZE;
	uint_setting(c, g, "cache_ttl", 0, 86400, &lc->cache_ttl);
	uint_setting(c, g, "negative_cache_ttl", 0, 86400, &lc->negative_cache_ttl);
	lc->primary_group_ttl = CM_LDAP_DEFAULT_PRIMARY_GROUP_TTL;
	uint_setting(c, g, "primary_group_ttl", 0, 86400, &lc->primary_group_ttl);
	uint_setting(c, g, "cache_size", 0, 10000000, &lc->cache_size);
}

int cm_conf_ldap_load(const config_setting_t *g, const char *file,
		      struct cm_domain *d, cm_conf_err_fn *err, void *ctx)
{
	struct lctx c = { .file = file, .err = err, .ctx = ctx };
	struct cm_ldap_conf *lc = calloc(1, sizeof(*lc));

	if (lc == NULL) {
		return -1;
	}
	d->ldap = lc;
	lc->service_uid = (uid_t)-1;
	check_members(&c, g);
	load_search(&c, g, d, lc);
	check_uris(&c, g, d, lc);
	load_bind(&c, g, lc);
	load_tls(&c, g, lc);
	load_attrs(&c, g, lc);
	load_groups(&c, g, d, lc);
	if (!c.nomem && (lc->pool = cm_ldap_pool_new()) == NULL) {
		c.nomem = true;
	}
	if (!c.nomem && lc->cache_size > 0 && (lc->cache_ttl > 0 || lc->negative_cache_ttl > 0 ||
						    lc->primary_group_ttl > 0) &&
	    (lc->cache = cm_ldap_cache_new(lc->cache_size)) == NULL) {
		c.nomem = true;
	}
	return c.nomem ? -1 : 0;
}

int cm_conf_ldap_files(const struct cm_ldap_conf *lc, struct cm_strv *files)
{
	const char *f[2];

	if (lc == NULL) {
		return CERTMAP_OK;
	}
	f[0] = lc->bind_password_file;
	f[1] = lc->tls_ca_file;
	for (size_t i = 0; i < CM_ARRAY_SIZE(f); i++) {
		if (f[i] != NULL && !cm_strv_contains(files, f[i]) && cm_strv_add(files, f[i]) != 0) {
			return CERTMAP_ERR_NOMEM;
		}
	}
	return CERTMAP_OK;
}

void cm_conf_ldap_free(struct cm_ldap_conf *lc)
{
	if (lc == NULL) {
		return;
	}
	cm_ldap_pool_free(lc->pool);
	cm_ldap_cache_free(lc->cache);
	free(lc->user_filter);
	free(lc->bind_dn);
	free(lc->bind_password_file);
	free(lc->sasl_mech);
	free(lc->tls_ca_file);
	free(lc->attr_name);
	free(lc->attr_uid);
	free(lc->attr_gid);
	free(lc->attr_home);
	free(lc->attr_member_of);
	free(lc->attr_member);
	free(lc->attr_member_uid);
	free(lc->attr_group_name);
	free(lc->attr_sid);
	free(lc->attr_primary_group);
	free(lc->group_base);
	free(lc->group_filter);
	free(lc);
}

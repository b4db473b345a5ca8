/*
 * Configuration loading with libconfig. Every setting is checked against
 * the schema below: unknown names, wrong types and out-of-range numbers are
 * errors, and all errors are collected so that check-config lists them.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certmap.h"
#include "conf.h"
#include "conf_certdom.h"
#include "conf_http.h"
#include "conf_ldap.h"
#include "conf_read.h"
#include "file.h"

static void setting_path(struct cm_buf *b, const config_setting_t *s)
{
	const config_setting_t *parent = config_setting_parent(s);

	if (parent == NULL) {
		return;
	}
	if (config_setting_parent(parent) != NULL) {
		setting_path(b, parent);
	}
	if (config_setting_name(s) != NULL) {
		if (b->len > 0) {
			cm_buf_addc(b, '.');
		}
		cm_buf_adds(b, config_setting_name(s));
	} else {
		cm_buf_printf(b, "[%d]", config_setting_index(s));
	}
}

/* Records "file:line: path[.name]: message". */
void cm_conf_err(struct conf_ctx *c, const config_setting_t *s, const char *name, const char *fmt,
		 ...)
{
	struct cm_buf path;
	char *msg = NULL;
	va_list ap;
	int n, line;

	cm_buf_init(&path, 4096);
	if (s != NULL) {
		setting_path(&path, s);
	}
	if (name != NULL) {
		if (path.len > 0) {
			cm_buf_addc(&path, '.');
		}
		cm_buf_adds(&path, name);
	}
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		c->nomem = true;
		cm_buf_free(&path);
		return;
	}
	line = s != NULL ? config_setting_source_line(s) : 0;
	/* The root group has no line: a missing top-level setting is an
	 * error about the whole file. */
	if (line > 0) {
		cm_buf_printf(&c->errs, "%s:%d: ", c->file, line);
	} else {
		cm_buf_printf(&c->errs, "%s: ", c->file);
	}
	cm_buf_printf(&c->errs, "%s%s%s\n", path.data != NULL ? path.data : "",
		      path.len > 0 ? ": " : "", msg);
	c->n_errs++;
	free(msg);
	cm_buf_free(&path);
}

/* Flags every member of group whose name is not in known (NULL-terminated). */
void cm_conf_check_members(struct conf_ctx *c, const config_setting_t *group,
			   const char *const *known)
{
	int n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(m);
		bool ok = false;

		for (size_t k = 0; name != NULL && known[k] != NULL; k++) {
			if (strcmp(name, known[k]) == 0) {
				ok = true;
				break;
			}
		}
		if (!ok) {
			cm_conf_err(c, m, NULL, "unknown setting");
		}
	}
}

static const config_setting_t *member_of_type(struct conf_ctx *c,
					      const config_setting_t *group,
					      const char *name, int type,
					      const char *what)
{
	const config_setting_t *s = config_setting_get_member(group, name);

	if (s == NULL) {
		return NULL;
	}
	if (config_setting_type(s) != type &&
	    !(type == CONFIG_TYPE_INT && config_setting_type(s) == CONFIG_TYPE_INT64) &&
	    !(type == CONFIG_TYPE_ARRAY && config_setting_type(s) == CONFIG_TYPE_LIST)) {
		cm_conf_err(c, s, NULL, "must be %s", what);
		return NULL;
	}
	return s;
}

void cm_conf_get_string(struct conf_ctx *c, const config_setting_t *group, const char *name,
			bool required, char **out)
{
	const config_setting_t *s;

	s = member_of_type(c, group, name, CONFIG_TYPE_STRING, "a string");
	if (s == NULL) {
		if (required && config_setting_get_member(group, name) == NULL) {
			cm_conf_err(c, group, name, "is required");
		}
		return;
	}
	if (config_setting_get_string(s)[0] == '\0') {
		cm_conf_err(c, s, NULL, "must not be empty");
		return;
	}
	free(*out);
	*out = strdup(config_setting_get_string(s));
	if (*out == NULL) {
		c->nomem = true;
	}
}

static void get_bool(struct conf_ctx *c, const config_setting_t *group,
		     const char *name, bool *out)
{
	const config_setting_t *s;

	s = member_of_type(c, group, name, CONFIG_TYPE_BOOL, "true or false");
	if (s != NULL) {
		*out = config_setting_get_bool(s) != 0;
	}
}

static bool int_in_range(struct conf_ctx *c, const config_setting_t *s,
			 long long min, long long max, long long *out)
{
	long long v = config_setting_get_int64(s);

	if (v < min || v > max) {
		cm_conf_err(c, s, NULL, "must be between %lld and %lld", min, max);
		return false;
	}
	*out = v;
	return true;
}

static void get_uint(struct conf_ctx *c, const config_setting_t *group,
		     const char *name, long long min, long long max,
		     unsigned int *out)
{
	const config_setting_t *s;
	long long v;

	s = member_of_type(c, group, name, CONFIG_TYPE_INT, "an integer");
	if (s != NULL && int_in_range(c, s, min, max, &v)) {
		*out = (unsigned int)v;
	}
}

static void get_string_list(struct conf_ctx *c, const config_setting_t *group,
			    const char *name, struct cm_strv *out, bool *present)
{
	const config_setting_t *s;
	int n;

	s = member_of_type(c, group, name, CONFIG_TYPE_ARRAY, "a list of strings");
	if (s == NULL) {
		return;
	}
	if (present != NULL) {
		*present = true;
	}
	n = config_setting_length(s);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			cm_conf_err(c, e, NULL, "must be a string");
			continue;
		}
		if (cm_strv_add(out, config_setting_get_string(e)) != 0) {
			c->nomem = true;
		}
	}
}

/* A list of uids or gids; returns the count stored in *ids (malloc'd). */
static size_t get_id_list(struct conf_ctx *c, const config_setting_t *group,
			  const char *name, unsigned int **ids, bool *present)
{
	const config_setting_t *s;
	size_t count = 0;
	int n;

	s = member_of_type(c, group, name, CONFIG_TYPE_ARRAY, "a list of numeric ids");
	if (s == NULL) {
		return 0;
	}
	*present = true;
	n = config_setting_length(s);
	free(*ids);
	*ids = calloc((size_t)n + 1, sizeof(**ids));
	if (*ids == NULL) {
		c->nomem = true;
		return 0;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		long long v;

		if (config_setting_type(e) != CONFIG_TYPE_INT &&
		    config_setting_type(e) != CONFIG_TYPE_INT64) {
			cm_conf_err(c, e, NULL, "must be a numeric id");
			continue;
		}
		if (int_in_range(c, e, 0, UINT_MAX - 1, &v)) {
			(*ids)[count++] = (unsigned int)v;
		}
	}
	return count;
}

/* ---------------------------------------------------------------- verify */

/* The line of group's member name, or 0 when it is not set. */
static int setting_line(const config_setting_t *group, const char *name)
{
	const config_setting_t *s = config_setting_get_member(group, name);

	return s != NULL ? config_setting_source_line(s) : 0;
}

/* Relative file names in the configuration are relative to its directory. */
static void resolve_path(struct conf_ctx *c, char **path)
{
	const char *slash;
	char *abs;

	if (*path == NULL || (*path)[0] == '/') {
		return;
	}
	slash = strrchr(c->file, '/');
	if (slash == NULL) {
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

static void load_verify(struct conf_ctx *c, const config_setting_t *root,
			struct cm_verify_policy *v)
{
	static const char *const known[] = {
		"enabled", "ca_file", "ca_dir", "crl_file", "require_eku",
		"min_rsa_bits", "min_ec_bits", NULL
	};
	const config_setting_t *g = config_setting_get_member(root, "verify");
	bool enabled_set = false, eku_set = false;
	unsigned int rsa = CM_DEFAULT_MIN_RSA_BITS, ec = CM_DEFAULT_MIN_EC_BITS;

	v->min_rsa_bits = CM_DEFAULT_MIN_RSA_BITS;
	v->min_ec_bits = CM_DEFAULT_MIN_EC_BITS;
	v->enabled = true;
	if (g != NULL && config_setting_type(g) != CONFIG_TYPE_GROUP) {
		cm_conf_err(c, g, NULL, "must be a group { ... }");
		g = NULL;
	}
	if (g != NULL) {
		cm_conf_check_members(c, g, known);
		enabled_set = config_setting_get_member(g, "enabled") != NULL;
		get_bool(c, g, "enabled", &v->enabled);
		cm_conf_get_string(c, g, "ca_file", false, &v->ca_file);
		cm_conf_get_string(c, g, "ca_dir", false, &v->ca_dir);
		cm_conf_get_string(c, g, "crl_file", false, &v->crl_file);
		get_string_list(c, g, "require_eku", &v->require_eku, &eku_set);
		get_uint(c, g, "min_rsa_bits", 512, 16384, &rsa);
		get_uint(c, g, "min_ec_bits", 160, 571, &ec);
		v->min_rsa_bits = (int)rsa;
		v->min_ec_bits = (int)ec;
		resolve_path(c, &v->ca_file);
		resolve_path(c, &v->ca_dir);
		resolve_path(c, &v->crl_file);
		v->ca_file_line = setting_line(g, "ca_file");
		v->ca_dir_line = setting_line(g, "ca_dir");
		v->crl_file_line = setting_line(g, "crl_file");
		v->require_eku_line = setting_line(g, "require_eku");
	}
	if ((v->conf_file = strdup(c->file)) == NULL) {
		c->nomem = true;
	}
	if (!eku_set && cm_strv_add(&v->require_eku, "clientAuth") != 0) {
		c->nomem = true;
	}
	if (v->enabled && v->ca_file == NULL && v->ca_dir == NULL) {
		cm_conf_err(c, g != NULL ? g : root, g != NULL ? NULL : "verify",
			    enabled_set ? "enabled = true needs ca_file or ca_dir"
					: "no trust anchors: set ca_file or ca_dir, or "
					  "enabled = false when the caller has already "
					  "verified the chain");
	}
}

/* ---------------------------------------------------------------- domains */

static const struct {
	const char *name;
	enum cm_domain_type type;
} domain_types[] = {
	{ "local", CM_DOMAIN_LOCAL },
	{ "ldap", CM_DOMAIN_LDAP },
	{ "certificate", CM_DOMAIN_CERT },
};

/* conf_ldap.c reports through this (it checks an ldap domain's members). */
static void ldap_conf_err(void *ctx, const config_setting_t *s, const char *name,
			  const char *msg)
{
	cm_conf_err(ctx, s, name, "%s", msg);
}

static void load_domain(struct conf_ctx *c, const config_setting_t *g,
			struct cm_domain *d)
{
	static const char *const known[] = {
		"name", "type", "min_uid", "allow_uid0", "uri", "base", "groups", NULL
	};
	char *type = NULL;
	unsigned int min_uid = CM_DEFAULT_MIN_UID;
	bool found = false;

	cm_conf_get_string(c, g, "name", true, &d->name);
	cm_conf_get_string(c, g, "type", true, &type);
	get_uint(c, g, "min_uid", 0, UINT_MAX - 1, &min_uid);
	get_bool(c, g, "allow_uid0", &d->allow_uid0);
	get_string_list(c, g, "uri", &d->uri, NULL);
	cm_conf_get_string(c, g, "base", false, &d->base);
	cm_conf_get_string(c, g, "groups", false, &d->groups);
	d->min_uid = (uid_t)min_uid;
	for (size_t i = 0; type != NULL && i < CM_ARRAY_SIZE(domain_types); i++) {
		if (strcmp(type, domain_types[i].name) == 0) {
			d->type = domain_types[i].type;
			found = true;
		}
	}
	if (type != NULL && !found) {
		cm_conf_err(
		    c, g, "type",
		    "unknown domain type \"%s\" (expected \"local\", \"ldap\" or \"certificate\")",
		    type);
	} else if (found && d->type == CM_DOMAIN_LDAP) {
		c->nomem |= cm_conf_ldap_load(g, c->file, d, ldap_conf_err, c) != 0;
	} else if (found && d->type == CM_DOMAIN_CERT) {
		c->nomem |= cm_conf_certdom_load(g, d, ldap_conf_err, c) != 0;
	}
	if (!found || d->type == CM_DOMAIN_LOCAL) {
		cm_conf_check_members(c, g, known);
	}
	free(type);
}

static void load_domains(struct conf_ctx *c, const config_setting_t *root,
			 struct cm_config *cfg)
{
	const config_setting_t *list = config_setting_get_member(root, "domains");
	int n;

	if (list == NULL) {
		cm_conf_err(c, root, "domains", "is required: define at least one domain");
		return;
	}
	if (config_setting_type(list) != CONFIG_TYPE_LIST) {
		cm_conf_err(c, list, NULL, "must be a list ( { ... }, ... )");
		return;
	}
	n = config_setting_length(list);
	cfg->domains = calloc((size_t)n + 1, sizeof(*cfg->domains));
	if (cfg->domains == NULL) {
		c->nomem = true;
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		struct cm_domain *d = &cfg->domains[cfg->n_domains++];

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			cm_conf_err(c, g, NULL, "must be a group { ... }");
			continue;
		}
		load_domain(c, g, d);
		for (size_t k = 0; d->name != NULL && k + 1 < cfg->n_domains; k++) {
			if (cfg->domains[k].name != NULL &&
			    strcasecmp(cfg->domains[k].name, d->name) == 0) {
				cm_conf_err(c, g, "name", "domain \"%s\" is defined twice",
					    d->name);
			}
		}
	}
	if (n == 0) {
		cm_conf_err(c, list, NULL, "define at least one domain");
	}
}

/* ---------------------------------------------------------------- rules */

static void rule_domains(struct conf_ctx *c, const config_setting_t *g,
			 const struct cm_config *cfg, struct cm_rule *r)
{
	struct cm_strv names = { 0 };
	bool present = false;

	get_string_list(c, g, "domains", &names, &present);
	r->domains = calloc(cfg->n_domains + names.n + 1, sizeof(*r->domains));
	if (r->domains == NULL) {
		c->nomem = true;
		goto out;
	}
	if (!present) {
		/* A rule without domains applies to every domain of its kind,
		 * but never to a certificate domain: it accepts every name, so
		 * it must be chosen by name (default deny). */
		for (size_t i = 0; i < cfg->n_domains; i++) {
			if (cfg->domains[i].type != CM_DOMAIN_CERT) {
				r->domains[r->n_domains++] = &cfg->domains[i];
			}
		}
		goto out;
	}
	if (names.n == 0) {
		cm_conf_err(c, g, "domains", "must name at least one domain");
	}
	for (size_t i = 0; i < names.n; i++) {
		const struct cm_domain *d = cm_config_domain(cfg, names.v[i]);

		if (d == NULL) {
			cm_conf_err(c, g, "domains", "unknown domain \"%s\"", names.v[i]);
			continue;
		}
		r->domains[r->n_domains++] = d;
	}
out:
	cm_strv_clear(&names);
}

static void rule_compile(struct conf_ctx *c, const config_setting_t *g,
			 struct cm_rule *r, const char *match, const char *map)
{
	char *err = NULL;
	int rc;

	if ((rc = cm_match_parse(match, &r->match, &err)) != 0) {
		cm_conf_err(c, g, "match", "%s", err != NULL ? err : certmap_strerror(rc));
		free(err);
		err = NULL;
	}
	if ((rc = cm_map_parse(map, &r->map, &err)) != 0) {
		cm_conf_err(c, g, "map", "%s", err != NULL ? err : certmap_strerror(rc));
		free(err);
		return;
	}
	if (cm_map_kind(r->map) == CM_MAP_MAPFILE &&
	    (rc = cm_mapfile_load(cm_map_file(r->map), &r->mapfile, &err)) != 0) {
		cm_conf_err(c, g, "map", "%s", err != NULL ? err : certmap_strerror(rc));
		free(err);
	}
}

/* LDAP: rules search a directory, so they need ldap domains; LOCAL: and
 * MAPFILE: rules give names that any domain can resolve. */
static void rule_check_kinds(struct conf_ctx *c, const config_setting_t *g,
			     struct cm_rule *r)
{
	enum cm_map_kind kind;
	size_t n = 0;

	if (r->map == NULL) {
		return;
	}
	kind = cm_map_kind(r->map);
	if (kind != CM_MAP_LDAP && kind != CM_MAP_LDAPU1) {
		return;
	}
	if (config_setting_get_member(g, "domains") == NULL) {
		/* Without a domains list, an LDAP: rule uses the domains it can search. */
		for (size_t i = 0; i < r->n_domains; i++) {
			if (r->domains[i]->type == CM_DOMAIN_LDAP) {
				r->domains[n++] = r->domains[i];
			}
		}
		r->n_domains = n;
		if (n == 0) {
			cm_conf_err(c, g, "map",
				    "an LDAP: mapping rule needs ldap domains, and there is none");
		}
	}
	for (size_t i = 0; i < r->n_domains; i++) {
		if (r->domains[i]->type != CM_DOMAIN_LDAP) {
			cm_conf_err(c, g, "map",
				    "an LDAP: mapping rule needs ldap domains, but "
				    "\"%s\" is a %s domain; use LOCAL: or MAPFILE:",
				    r->domains[i]->name,
				    r->domains[i]->type == CM_DOMAIN_CERT ? "certificate"
									  : "local");
		}
	}
}

static void load_rule(struct conf_ctx *c, const config_setting_t *g,
		      const struct cm_config *cfg, struct cm_rule *r)
{
	static const char *const known[] = {
		"name", "priority", "match", "map", "domains", NULL
	};
	char *match = NULL, *map = NULL;
	unsigned int prio = 0;

	cm_conf_check_members(c, g, known);
	cm_conf_get_string(c, g, "name", true, &r->name);
	get_uint(c, g, "priority", 0, UINT32_MAX >> 1, &prio);
	cm_conf_get_string(c, g, "match", false, &match);
	cm_conf_get_string(c, g, "map", true, &map);
	r->priority = (int)prio;
	rule_domains(c, g, cfg, r);
	if (map != NULL) {
		rule_compile(c, g, r, match, map);
		rule_check_kinds(c, g, r);
	}
	free(match);
	free(map);
}

/* A stable insertion sort by priority: ties keep their config order. */
static void rules_sort(struct cm_rule *rules, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct cm_rule r = rules[i];
		size_t j = i;

		while (j > 0 && rules[j - 1].priority > r.priority) {
			rules[j] = rules[j - 1];
			j--;
		}
		rules[j] = r;
	}
}

static void load_rules(struct conf_ctx *c, const config_setting_t *root,
		       struct cm_config *cfg)
{
	const config_setting_t *list = config_setting_get_member(root, "rules");
	int n;

	if (list == NULL) {
		cm_conf_err(c, root, "rules", "is required: define at least one rule");
		return;
	}
	if (config_setting_type(list) != CONFIG_TYPE_LIST) {
		cm_conf_err(c, list, NULL, "must be a list ( { ... }, ... )");
		return;
	}
	n = config_setting_length(list);
	cfg->rules = calloc((size_t)n + 1, sizeof(*cfg->rules));
	if (cfg->rules == NULL) {
		c->nomem = true;
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		struct cm_rule *r = &cfg->rules[cfg->n_rules++];

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			cm_conf_err(c, g, NULL, "must be a group { ... }");
			continue;
		}
		load_rule(c, g, cfg, r);
		for (size_t k = 0; r->name != NULL && k + 1 < cfg->n_rules; k++) {
			if (cfg->rules[k].name != NULL && strcmp(cfg->rules[k].name, r->name) == 0) {
				cm_conf_err(c, g, "name", "rule \"%s\" is defined twice", r->name);
			}
		}
	}
	rules_sort(cfg->rules, cfg->n_rules);
}

/* ---------------------------------------------------------------- service */

static void load_service(struct conf_ctx *c, const config_setting_t *root,
			 struct cm_service_conf *s)
{
	static const char *const known[] = {
		"socket", "user", "allowed_uids", "allowed_gids", "max_connections",
		"max_connections_per_uid", "timeout", "cache_ttl", "cache_size",
		"infopipe", "http", NULL
	};
	const config_setting_t *g = config_setting_get_member(root, "service");
	bool uids_set = false, gids_set = false;

	s->max_connections = 1024;
	s->max_connections_per_uid = 256;
	s->timeout = 5;
	s->cache_ttl = 300;
	s->cache_size = 10000;
	if (g != NULL && config_setting_type(g) != CONFIG_TYPE_GROUP) {
		cm_conf_err(c, g, NULL, "must be a group { ... }");
		g = NULL;
	}
	if (g != NULL) {
		cm_conf_check_members(c, g, known);
		cm_conf_get_string(c, g, "socket", false, &s->socket);
		cm_conf_get_string(c, g, "user", false, &s->user);
		s->n_allowed_uids = get_id_list(c, g, "allowed_uids", (unsigned int **)&s->allowed_uids, &uids_set);
		s->n_allowed_gids = get_id_list(c, g, "allowed_gids", (unsigned int **)&s->allowed_gids, &gids_set);
		get_uint(c, g, "max_connections", 1, 65536, &s->max_connections);
		get_uint(c, g, "max_connections_per_uid", 1, 65536, &s->max_connections_per_uid);
		get_uint(c, g, "timeout", 1, 3600, &s->timeout);
		get_uint(c, g, "cache_ttl", 0, 86400, &s->cache_ttl);
		get_uint(c, g, "cache_size", 0, 10000000, &s->cache_size);
		get_bool(c, g, "infopipe", &s->infopipe);
		cm_conf_http_load(c, g, &s->http);
	}
	if (s->socket == NULL && (s->socket = strdup("/run/certmapd/socket")) == NULL) {
		c->nomem = true;
	}
	if (s->user == NULL && (s->user = strdup("certmapd")) == NULL) {
		c->nomem = true;
	}
	if (!uids_set) {
		s->allowed_uids = calloc(1, sizeof(*s->allowed_uids));
		if (s->allowed_uids == NULL) {
			c->nomem = true;
		} else {
			s->n_allowed_uids = 1; /* root */
		}
	}
}

/* ---------------------------------------------------------------- entry points */

static void load_root(struct conf_ctx *c, const config_setting_t *root,
		      struct cm_config *cfg)
{
	static const char *const known[] = {
		"verify", "domains", "rules", "service", NULL
	};

	cm_conf_check_members(c, root, known);
	load_verify(c, root, &cfg->verify);
	load_domains(c, root, cfg);
	load_rules(c, root, cfg);
	load_service(c, root, &cfg->service);
}

int cm_config_parse(const char *text, size_t len, const char *name,
		    struct cm_config **out, char **errmsg)
{
	struct conf_ctx c = { .file = name };
	struct cm_config *cfg = NULL;
	struct cm_buf scanned = { 0 };
	char *copy = NULL;
	config_t lc;
	int rc = CERTMAP_ERR_CONFIG;

	*out = NULL;
	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	cm_buf_init(&c.errs, 256 * 1024);
	config_init(&lc);
	if (len > CM_CONFIG_MAX_SIZE) {
		cm_buf_printf(&c.errs, "%s: larger than %d bytes\n", name, CM_CONFIG_MAX_SIZE);
		rc = CERTMAP_ERR_TOO_LARGE;
		goto out;
	}
	if (memchr(text, '\0', len) != NULL) {
		cm_buf_printf(&c.errs, "%s: contains a NUL byte\n", name);
		goto out;
	}
	/* libconfig needs a NUL-terminated copy anyway; the scan makes it. */
	cm_buf_init(&scanned, 2 * len + 1);
	if (cm_conf_scan(text, len, name, &scanned, &c.errs) > 0) {
		goto out;
	}
	if ((copy = cm_buf_steal(&scanned, NULL)) == NULL) {
		rc = CERTMAP_ERR_NOMEM;
		goto out;
	}
	if (config_read_string(&lc, copy) != CONFIG_TRUE) {
		cm_buf_printf(&c.errs, "%s:%d: %s\n", name, config_error_line(&lc),
			      config_error_text(&lc));
		goto out;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL || (cfg->path = strdup(name)) == NULL) {
		rc = CERTMAP_ERR_NOMEM;
		goto out;
	}
	load_root(&c, config_root_setting(&lc), cfg);
	if (c.nomem) {
		rc = CERTMAP_ERR_NOMEM;
		goto out;
	}
	if (c.n_errs == 0) {
		*out = cfg;
		cfg = NULL;
		rc = CERTMAP_OK;
	}
out:
	config_destroy(&lc);
	cm_buf_free(&scanned);
	free(copy);
	cm_config_free(cfg);
	if (rc != CERTMAP_OK && errmsg != NULL) {
		if (c.errs.len > 0 && c.errs.data[c.errs.len - 1] == '\n') {
			c.errs.data[--c.errs.len] = '\0';
		}
		*errmsg = cm_buf_steal(&c.errs, NULL);
	}
	cm_buf_free(&c.errs);
	return rc;
}

int cm_config_load(const char *path, struct cm_config **out, char **errmsg)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	rc = cm_file_read(path, "configuration file", CM_CONFIG_MAX_SIZE, &text, &len, errmsg);
	if (rc == CERTMAP_OK) {
		rc = cm_config_parse(text, len, path, out, errmsg);
	}
	free(text);
	return rc;
}

static int add_file_once(struct cm_strv *files, const char *path)
{
	if (path == NULL || cm_strv_contains(files, path)) {
		return CERTMAP_OK;
	}
	return cm_strv_add(files, path) == 0 ? CERTMAP_OK : CERTMAP_ERR_NOMEM;
}

int cm_config_files(const struct cm_config *cfg, struct cm_strv *files)
{
	int rc;

	if ((rc = add_file_once(files, cfg->path)) != CERTMAP_OK ||
	    (rc = add_file_once(files, cfg->verify.ca_file)) != CERTMAP_OK ||
	    (rc = add_file_once(files, cfg->verify.ca_dir)) != CERTMAP_OK ||
	    (rc = add_file_once(files, cfg->verify.crl_file)) != CERTMAP_OK) {
		return rc;
	}
	for (size_t i = 0; i < cfg->n_domains; i++) {
		if ((rc = cm_conf_ldap_files(cfg->domains[i].ldap, files)) != CERTMAP_OK) {
			return rc;
		}
	}
	for (size_t i = 0; i < cfg->n_rules; i++) {
		if (cfg->rules[i].map != NULL && cfg->rules[i].mapfile != NULL &&
		    (rc = add_file_once(files, cm_map_file(cfg->rules[i].map))) != CERTMAP_OK) {
			return rc;
		}
	}
	return CERTMAP_OK;
}

const struct cm_domain *cm_config_domain(const struct cm_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_domains; i++) {
		if (cfg->domains[i].name != NULL && strcasecmp(cfg->domains[i].name, name) == 0) {
			return &cfg->domains[i];
		}
	}
	return NULL;
}

void cm_config_free(struct cm_config *cfg)
{
	if (cfg == NULL) {
		return;
	}
	cm_verify_policy_clear(&cfg->verify);
	for (size_t i = 0; i < cfg->n_domains; i++) {
		free(cfg->domains[i].name);
		cm_strv_clear(&cfg->domains[i].uri);
		free(cfg->domains[i].base);
		free(cfg->domains[i].groups);
		cm_conf_ldap_free(cfg->domains[i].ldap);
		cm_conf_certdom_free(cfg->domains[i].cert);
	}
	free(cfg->domains);
	for (size_t i = 0; i < cfg->n_rules; i++) {
		free(cfg->rules[i].name);
		cm_match_free(cfg->rules[i].match);
		cm_map_free(cfg->rules[i].map);
		cm_mapfile_free(cfg->rules[i].mapfile);
		free(cfg->rules[i].domains);
	}
	free(cfg->rules);
	free(cfg->service.socket);
	free(cfg->service.user);
	free(cfg->service.allowed_uids);
	free(cfg->service.allowed_gids);
	cm_conf_http_free(&cfg->service.http);
	free(cfg->path);
	free(cfg);
}

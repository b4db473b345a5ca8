/*
 * certmapctl import sssd: sssd.conf (and its conf.d snippets) to
 * certmap.conf. Certificate rules keep SSSD's semantics: SSSD's defaults
 * are written out, and SSSD's order (lower priority number first; of equal
 * priorities the rule added last is tried first, because
 * sss_certmap_add_rule() puts it at the head of its priority's list) is
 * written as distinct priorities. Everything else is a comment and a
 * warning; see certmapctl(8).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "import_common.h"
#include "ini.h"
#include "rules.h"

/* SSSD's defaults (sss-certmap(5), sssd.conf(5), 2.8.2). */
#define SSSD_MIN_PRIO UINT32_MAX
#define SSSD_CA_DB "/etc/sssd/pki/sssd_auth_ca_db.pem"
#define SSSD_MAX_RULES 4096

enum sdom_kind { SD_LDAP, SD_AD, SD_LOCAL, SD_OTHER };

struct sdom {
	char *name;
	const struct ini_section *sec;
	enum sdom_kind kind;
	bool emitted; /* written as a certmap domain */
};

struct srule {
	const struct ini_section *sec;
	char *name;    /* RULE of [certmap/DOMAIN/RULE] */
	char *cm_name; /* the certmap rule name (unique) */
	struct sdom *dom;
	uint32_t prio;	  /* SSSD's */
	uint64_t cm_prio; /* certmap's */
	size_t order;	  /* position in the merged file */
	unsigned tie;	  /* rules of this domain and priority read after it */
};

struct sssd_imp {
	struct imp im;
	struct ini ini;
	struct sdom *doms;
	size_t n_doms;
	struct srule *rules;
	size_t n_rules;
};

static bool is_true(const char *v)
{
	return v != NULL &&
	       (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 || strcmp(v, "1") == 0);
}

static bool is_false(const char *v)
{
	return v != NULL &&
	       (strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0 || strcmp(v, "0") == 0);
}

static struct sdom *find_dom(struct sssd_imp *s, const char *name)
{
	for (size_t i = 0; i < s->n_doms; i++) {
		if (strcmp(s->doms[i].name, name) == 0) {
			return &s->doms[i];
		}
	}
	return NULL;
}

static int add_dom(struct sssd_imp *s, const char *name)
{
	char *secname = cm_asprintf("domain/%s", name);
	const struct ini_section *sec = secname != NULL ? ini_section(&s->ini, secname) : NULL;
	struct sdom *grown;
	const char *idp;
	int rc = -1;

	if (secname == NULL) {
		cli_error("out of memory");
		goto out;
	}
	if (find_dom(s, name) != NULL) {
		rc = 0;
		goto out;
	}
	if (sec == NULL) {
		imp_warn(&s->im, &s->im.domains, true,
			 "[sssd] domains names \"%s\" but there is no [%s] section", name, secname);
		rc = 0;
		goto out;
	}
	grown = realloc(s->doms, (s->n_doms + 1) * sizeof(*grown));
	if (grown == NULL) {
		cli_error("out of memory");
		goto out;
	}
	s->doms = grown;
	s->doms[s->n_doms] = (struct sdom){.name = strdup(name), .sec = sec};
	if (s->doms[s->n_doms].name == NULL) {
		cli_error("out of memory");
		goto out;
	}
	idp = ini_get(sec, "id_provider");
	if (idp == NULL) {
		s->doms[s->n_doms].kind = SD_OTHER;
	} else if (strcmp(idp, "ldap") == 0) {
		s->doms[s->n_doms].kind = SD_LDAP;
	} else if (strcmp(idp, "ad") == 0) {
		s->doms[s->n_doms].kind = SD_AD;
	} else if (strcmp(idp, "files") == 0 || strcmp(idp, "proxy") == 0) {
		s->doms[s->n_doms].kind = SD_LOCAL;
	} else {
		s->doms[s->n_doms].kind = SD_OTHER;
	}
	s->n_doms++;
	rc = 0;
out:
	free(secname);
	return rc;
}

/*
 * The domains SSSD runs: [sssd] domains, in that order, then the domains
 * with "enabled = true", less those with "enabled = false" (SSSD 2.8's
 * confdb_get_enabled_domain_list()). --domain keeps one.
 */
static int collect_domains(struct sssd_imp *s, const char *only)
{
	const struct ini_section *main = ini_section(&s->ini, "sssd");
	struct cm_strv names = {0};
	int rc = -1;

	if (imp_split(ini_get(main, "domains"), ',', &names) != 0) {
		cli_error("out of memory");
		goto out;
	}
	for (size_t i = 0; i < s->ini.n; i++) {
		const char *n = s->ini.s[i].name;

		if (strncmp(n, "domain/", 7) == 0 && is_true(ini_get(&s->ini.s[i], "enabled")) &&
		    !cm_strv_contains(&names, n + 7) && cm_strv_add(&names, n + 7) != 0) {
			cli_error("out of memory");
			goto out;
		}
	}
	for (size_t i = 0; i < names.n; i++) {
		char *secname = cm_asprintf("domain/%s", names.v[i]);
		const struct ini_section *sec =
		    secname != NULL ? ini_section(&s->ini, secname) : NULL;

		free(secname);
		if (is_false(ini_get(sec, "enabled"))) {
			continue;
		}
		if (only != NULL && strcmp(only, names.v[i]) != 0) {
			continue;
		}
		if (add_dom(s, names.v[i]) != 0) {
			goto out;
		}
	}
	if (only != NULL && find_dom(s, only) == NULL) {
		cli_set_reason("config_error");
		cli_error("--domain %s: SSSD does not run such a domain in %s", only, s->im.source);
		goto out;
	}
	rc = 0;
out:
	cm_strv_clear(&names);
	return rc;
}

/* ------------------------------------------------------------ domains */

static void set_opt(struct cm_buf *b, const struct ini_section *sec, const char *sssd_key,
		    const char *key)
{
	const char *v = ini_get(sec, sssd_key);

	if (v != NULL) {
		imp_set_str(b, "\t  ", key, v);
	}
}

/* A number setting; anything else is warned about. */
static void set_num(struct sssd_imp *s, struct sdom *d, const char *sssd_key, const char *key)
{
	const char *v = ini_get(d->sec, sssd_key);
	char *end = NULL;
	unsigned long n;

	if (v == NULL) {
		return;
	}
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || v[0] == '-' || n > 86400) {
		imp_warn(&s->im, &s->im.domains, false, "%s: %s = %s is not a number of seconds",
			 d->name, sssd_key, v);
		return;
	}
	cm_buf_printf(&s->im.domains, "\t  %s = %lu;\n", key, n);
}

/* "a.example.com" -> "DC=a,DC=example,DC=com" */
static char *dc_base(const char *dns)
{
	struct cm_strv parts = {0};
	struct cm_buf b;

	cm_buf_init(&b, 4096);
	if (imp_split(dns, '.', &parts) != 0) {
		b.failed = true;
	}
	for (size_t i = 0; i < parts.n; i++) {
		cm_buf_printf(&b, "%sDC=%s", i > 0 ? "," : "", parts.v[i]);
	}
	cm_strv_clear(&parts);
	cm_buf_addc(&b, '\0');
	if (b.failed) {
		cm_buf_free(&b);
		return NULL;
	}
	return cm_buf_steal(&b, NULL);
}

static void emit_uris(struct sssd_imp *s, struct sdom *d, const char *k1, const char *k2,
		      const char *scheme)
{
	struct cm_buf *b = &s->im.domains;
	struct cm_strv in = {0}, out = {0};

	if (imp_split(ini_get(d->sec, k1), ',', &in) != 0 ||
	    imp_split(ini_get(d->sec, k2), ',', &in) != 0) {
		b->failed = true;
	}
	for (size_t i = 0; i < in.n; i++) {
		char *u = NULL;

		if (strcmp(in.v[i], "_srv_") == 0) {
			imp_warn(
			    &s->im, b, false,
			    "%s: DNS service discovery (_srv_) is not supported: list the servers",
			    d->name);
			continue;
		}
		u = scheme != NULL && strstr(in.v[i], "://") == NULL
			? cm_asprintf("%s%s", scheme, in.v[i])
			: strdup(in.v[i]);
		if (cm_strv_take(&out, u) != 0) {
			b->failed = true;
		}
	}
	if (out.n == 0 && d->kind == SD_AD) {
		const char *dns = ini_get(d->sec, "ad_domain");
		char *u = cm_asprintf("ldap://%s", dns != NULL ? dns : d->name);

		imp_comment(
		    b, "\t  ",
		    "no ad_server: the domain's DNS name resolves to its domain controllers");
		if (cm_strv_take(&out, u) != 0) {
			b->failed = true;
		}
	}
	if (out.n == 0) {
		imp_warn(&s->im, b, true, "%s: no LDAP server (%s): set uri", d->name, k1);
	}
	imp_set_list(b, "\t  ", "uri", &out);
	cm_strv_clear(&in);
	cm_strv_clear(&out);
}

static const char *scope_name(const char *sssd)
{
	if (strcasecmp(sssd, "sub") == 0 || strcasecmp(sssd, "subtree") == 0) {
		return "sub";
	}
	if (strcasecmp(sssd, "one") == 0 || strcasecmp(sssd, "onelevel") == 0) {
		return "one";
	}
	if (strcasecmp(sssd, "base") == 0) {
		return "base";
	}
	return NULL;
}

/* ldap_user_search_base (or ldap_search_base): "base[?scope?[filter]]...". */
static void emit_search_base(struct sssd_imp *s, struct sdom *d, const char *objclass)
{
	struct cm_buf *b = &s->im.domains;
	const char *v = ini_get(d->sec, "ldap_user_search_base");
	struct cm_strv parts = {0};
	char *filter = NULL;

	if (v == NULL) {
		v = ini_get(d->sec, "ldap_search_base");
	}
	if (v == NULL && d->kind == SD_AD) {
		char *base = dc_base(
		    ini_get(d->sec, "ad_domain") != NULL ? ini_get(d->sec, "ad_domain") : d->name);

		if (base == NULL) {
			b->failed = true;
			return;
		}
		imp_comment(b, "\t  ", "base derived from the AD domain name, as SSSD does");
		imp_set_str(b, "\t  ", "base", base);
		free(base);
	} else if (v == NULL) {
		imp_warn(&s->im, b, true,
			 "%s: no ldap_search_base (SSSD reads the server's rootDSE): set base",
			 d->name);
	} else {
		/* Keep empty fields: "base??filter" has an empty scope. */
		for (const char *p = v;; p++) {
			const char *q = strchr(p, '?');
			size_t n = q != NULL ? (size_t)(q - p) : strlen(p);

			if (cm_strv_addn(&parts, p, n) != 0) {
				b->failed = true;
			}
			if (q == NULL) {
				break;
			}
			p = q;
		}
		if (parts.n > 3) {
			imp_warn(&s->im, b, true,
				 "%s: several search bases (%s): only the first is used", d->name,
				 v);
		}
		if (parts.n > 0) {
			imp_set_str(b, "\t  ", "base", parts.v[0]);
		}
		if (parts.n > 1 && parts.v[1][0] != '\0') {
			if (scope_name(parts.v[1]) != NULL) {
				imp_set_str(b, "\t  ", "scope", scope_name(parts.v[1]));
			} else {
				imp_warn(&s->im, b, true, "%s: unknown search scope \"%s\"",
					 d->name, parts.v[1]);
			}
		}
		if (parts.n > 2 && parts.v[2][0] != '\0') {
			const char *f = parts.v[2];

			filter = f[0] == '(' ? cm_asprintf("(&(objectClass=%s)%s)", objclass, f)
					     : cm_asprintf("(&(objectClass=%s)(%s))", objclass, f);
		}
	}
	if (filter == NULL && strcmp(objclass, "posixAccount") != 0) {
		filter = cm_asprintf("(objectClass=%s)", objclass);
	}
	if (filter != NULL) {
		imp_set_str(b, "\t  ", "user_filter", filter);
	}
	free(filter);
	cm_strv_clear(&parts);
}

static void emit_bind(struct sssd_imp *s, struct sdom *d)
{
	struct cm_buf *b = &s->im.domains;
	const char *dn = ini_get(d->sec, "ldap_default_bind_dn");
	const char *tok = ini_get(d->sec, "ldap_default_authtok");
	const char *mech = ini_get(d->sec, "ldap_sasl_mech");
	char *file = NULL;

	if (dn != NULL) {
		imp_set_str(b, "\t  ", "bind_dn", dn);
	}
	if (tok != NULL || dn != NULL) {
		file = cm_asprintf("/etc/certmap/%s.bindpw", d->name);
		if (file == NULL) {
			b->failed = true;
			return;
		}
		imp_comment(b, "\t  ",
			    "The bind password is not copied. Create this file yourself, holding\n"
			    "only the password, owned by root (or the certmapd user), mode 0600.%s",
			    tok != NULL && strcmp(tok, "") != 0 &&
				    strcasecmp(ini_get(d->sec, "ldap_default_authtok_type") != NULL
						   ? ini_get(d->sec, "ldap_default_authtok_type")
						   : "password",
					       "obfuscated_password") == 0
				? "\nsssd.conf held an obfuscated password: write the clear one."
				: "");
		imp_set_str(b, "\t  ", "bind_password_file", file);
		free(file);
	}
	if (mech != NULL && strcasecmp(mech, "EXTERNAL") == 0) {
		imp_set_str(b, "\t  ", "sasl_mech", "EXTERNAL");
	} else if (mech != NULL || d->kind == SD_AD) {
		imp_warn(&s->im, b, false,
			 "%s: SASL %s bind (Kerberos) is not supported: bind with bind_dn and "
			 "bind_password_file, or EXTERNAL over ldapi://",
			 d->name, mech != NULL ? mech : "GSSAPI");
	}
}

static void emit_tls(struct sssd_imp *s, struct sdom *d)
{
	struct cm_buf *b = &s->im.domains;
	const char *req = ini_get(d->sec, "ldap_tls_reqcert");

	if (is_true(ini_get(d->sec, "ldap_id_use_start_tls"))) {
		cm_buf_adds(b, "\t  starttls = true;\n");
	}
	set_opt(b, d->sec, "ldap_tls_cacert", "tls_ca_file");
	if (ini_get(d->sec, "ldap_tls_cacertdir") != NULL) {
		imp_warn(&s->im, b, false,
			 "%s: ldap_tls_cacertdir has no equivalent: name a PEM file in tls_ca_file",
			 d->name);
	}
	if (req != NULL && strcasecmp(req, "demand") != 0 && strcasecmp(req, "hard") != 0) {
		imp_comment(b, "\t  ",
			    "ldap_tls_reqcert = %s: certmap always checks the server's certificate "
			    "and name",
			    req);
	}
}

static void emit_ldap_attrs(struct sssd_imp *s, struct sdom *d, const char *schema)
{
	struct cm_buf *b = &s->im.domains;
	bool idmap = d->kind == SD_AD ? !is_false(ini_get(d->sec, "ldap_id_mapping"))
				      : is_true(ini_get(d->sec, "ldap_id_mapping"));

	if (d->kind == SD_AD && ini_get(d->sec, "ldap_user_name") == NULL) {
		imp_set_str(b, "\t  ", "attr_name", "sAMAccountName");
	}
	set_opt(b, d->sec, "ldap_user_name", "attr_name");
	set_opt(b, d->sec, "ldap_user_uid_number", "attr_uid");
	set_opt(b, d->sec, "ldap_user_gid_number", "attr_gid");
	set_opt(b, d->sec, "ldap_user_home_directory", "attr_home");
	if (strcasecmp(schema, "rfc2307") == 0) {
		imp_set_str(b, "\t  ", "groups", "rfc2307");
	} else if (strcasecmp(schema, "rfc2307bis") == 0 || strcasecmp(schema, "ipa") == 0) {
		imp_set_str(b, "\t  ", "groups", "rfc2307bis");
	} else if (strcasecmp(schema, "ad") == 0) {
		imp_set_str(b, "\t  ", "groups", "memberof");
	} else {
		imp_warn(&s->im, b, false, "%s: unknown ldap_schema \"%s\"", d->name, schema);
	}
	set_opt(b, d->sec, "ldap_group_search_base", "group_base");
	if (idmap) {
		imp_comment(b, "\t  ", "ldap_id_mapping: uid and gid computed from objectSid");
		imp_set_str(b, "\t  ", "ids", "sid");
	}
	set_num(s, d, "ldap_search_timeout", "timeout");
}

static void emit_min_uid(struct sssd_imp *s, struct sdom *d)
{
	struct cm_buf *b = &s->im.domains;
	const char *v = ini_get(d->sec, "min_id");
	char *end = NULL;
	unsigned long n;

	errno = 0;
	n = v != NULL ? strtoul(v, &end, 10) : 1;
	if (v != NULL && (errno != 0 || end == v || *end != '\0' || n > 4294967294UL)) {
		imp_warn(&s->im, b, true, "%s: min_id \"%s\" is not a number", d->name, v);
		n = 1;
	}
	if (v == NULL) {
		imp_comment(b, "\t  ", "SSSD's default min_id (certmap's own default is 1000)");
	}
	cm_buf_printf(b, "\t  min_uid = %lu;\n", n == 0 ? 1UL : n);
	if (ini_get(d->sec, "max_id") != NULL) {
		imp_warn(&s->im, b, true,
			 "%s: max_id = %s has no equivalent (certmap has no upper uid bound)",
			 d->name, ini_get(d->sec, "max_id"));
	}
	if (is_true(ini_get(d->sec, "use_fully_qualified_names"))) {
		imp_warn(
		    &s->im, b, true,
		    "%s: use_fully_qualified_names: SSSD's login names are user@%s, certmap's are "
		    "the bare user names",
		    d->name, d->name);
	}
	if (is_false(ini_get(d->sec, "case_sensitive"))) {
		imp_warn(&s->im, b, false,
			 "%s: case_sensitive = false: certmap compares user names exactly",
			 d->name);
	}
}

static void emit_ldap_domain(struct sssd_imp *s, struct sdom *d)
{
	struct cm_buf *b = &s->im.domains;
	const char *schema = ini_get(d->sec, "ldap_schema");
	const char *oc = ini_get(d->sec, "ldap_user_object_class");

	if (schema == NULL) {
		schema = d->kind == SD_AD ? "ad" : "rfc2307";
	}
	if (oc == NULL) {
		oc = strcasecmp(schema, "ad") == 0 ? "user" : "posixAccount";
	}
	cm_buf_adds(b, "\t{ name = ");
	imp_quote(b, d->name);
	cm_buf_adds(b, "; type = \"ldap\";\n");
	if (d->kind == SD_AD) {
		emit_uris(s, d, "ad_server", "ad_backup_server", "ldap://");
	} else {
		emit_uris(s, d, "ldap_uri", "ldap_backup_uri", NULL);
	}
	emit_search_base(s, d, oc);
	emit_bind(s, d);
	emit_tls(s, d);
	emit_ldap_attrs(s, d, schema);
	emit_min_uid(s, d);
	cm_buf_adds(b, "\t}");
}

static void emit_local_domain(struct sssd_imp *s, struct sdom *d)
{
	struct cm_buf *b = &s->im.domains;
	const char *lib = ini_get(d->sec, "proxy_lib_name");

	if (lib != NULL) {
		imp_comment(b, "\t",
			    "proxy_lib_name = %s: certmap resolves accounts through NSS, so the\n"
			    "NSS module must be listed in nsswitch.conf",
			    lib);
	}
	cm_buf_adds(b, "\t{ name = ");
	imp_quote(b, d->name);
	cm_buf_adds(b, "; type = \"local\";\n");
	emit_min_uid(s, d);
	cm_buf_adds(b, "\t}");
}

static void emit_domains(struct sssd_imp *s)
{
	struct cm_buf *b = &s->im.domains;

	for (size_t i = 0; i < s->n_doms; i++) {
		struct sdom *d = &s->doms[i];
		const char *idp = ini_get(d->sec, "id_provider");

		if (d->kind == SD_OTHER) {
			imp_warn(
			    &s->im, b, true, "[domain/%s]: id_provider = %s cannot be imported%s",
			    d->name, idp != NULL ? idp : "(none)",
			    idp != NULL && strcmp(idp, "ipa") == 0
				? " (IPA keeps its certificate mapping rules on the server: "
				  "ipa certmaprule-find; add them as LDAP: rules of an ldap domain)"
				: "");
			continue;
		}
		imp_next(b, s->im.n_domains, s->im.domain_end);
		imp_comment(b, "\t", "[domain/%s] (id_provider = %s), %s:%zu", d->name, idp,
			    d->sec->file, d->sec->line);
		if (d->kind == SD_LOCAL) {
			emit_local_domain(s, d);
		} else {
			emit_ldap_domain(s, d);
		}
		imp_end(b, &s->im.n_domains, &s->im.domain_end);
		d->emitted = true;
	}
}

/* -------------------------------------------------------------- rules */

static int parse_prio(const char *v, uint32_t *out)
{
	char *end = NULL;
	unsigned long long n;

	if (v == NULL) {
		*out = SSSD_MIN_PRIO;
		return 0;
	}
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || v[0] == '-' || n > UINT32_MAX) {
		return -1;
	}
	*out = (uint32_t)n;
	return 0;
}

/* Collects [certmap/DOMAIN/RULE] of the domains imported, in file order. */
static int collect_rules(struct sssd_imp *s, const char *only)
{
	for (size_t i = 0; i < s->ini.n; i++) {
		const struct ini_section *sec = &s->ini.s[i];
		const char *slash;
		char *dname = NULL;
		struct sdom *d;
		struct srule *r;

		if (strncmp(sec->name, "certmap/", 8) != 0) {
			continue;
		}
		slash = strchr(sec->name + 8, '/');
		if (slash == NULL || slash[1] == '\0') {
			imp_warn(&s->im, &s->im.rules, false,
				 "[%s]: not of the form [certmap/DOMAIN/RULE]; SSSD ignores it",
				 sec->name);
			continue;
		}
		dname = strndup(sec->name + 8, (size_t)(slash - sec->name - 8));
		d = dname != NULL ? find_dom(s, dname) : NULL;
		if (d == NULL) {
			if (only == NULL) {
				imp_comment(
				    &s->im.rules, "\t",
				    "[%s]: SSSD does not run domain %s, so it ignores this rule",
				    sec->name, dname != NULL ? dname : "?");
			}
			free(dname);
			continue;
		}
		free(dname);
		if (s->n_rules >= SSSD_MAX_RULES) {
			cli_error("more than %d certmap rules", SSSD_MAX_RULES);
			return -1;
		}
		r = realloc(s->rules, (s->n_rules + 1) * sizeof(*r));
		if (r == NULL) {
			cli_error("out of memory");
			return -1;
		}
		s->rules = r;
		r = &s->rules[s->n_rules];
		*r = (struct srule){.sec = sec, .dom = d, .order = i, .name = strdup(slash + 1)};
		if (r->name == NULL) {
			cli_error("out of memory");
			return -1;
		}
		s->n_rules++;
		if (parse_prio(ini_get(sec, "priority"), &r->prio) != 0) {
			/* SSSD cannot read it either; the rule is not used. */
			imp_warn(&s->im, &s->im.rules, true,
				 "[%s]: priority \"%s\" is not a number from 0 to 4294967295",
				 sec->name, ini_get(sec, "priority"));
			r->dom = NULL;
		}
	}
	return 0;
}

/* SSSD's order: priority, then within one domain the rule read later first.
 * Rules of different domains at one priority stay at one certmap level:
 * SSSD asks every domain, and so does certmap. */
static int sssd_order(const void *a, const void *b)
{
	const struct srule *x = a, *y = b;

	if (x->prio != y->prio) {
		return x->prio < y->prio ? -1 : 1;
	}
	if (x->tie != y->tie) {
		return x->tie < y->tie ? -1 : 1;
	}
	return x->order < y->order ? -1 : x->order > y->order;
}

static void assign_priorities(struct sssd_imp *s)
{
	uint64_t next = 0;

	for (size_t i = 0; i < s->n_rules; i++) {
		struct srule *r = &s->rules[i];

		r->tie = 0;
		for (size_t j = 0; j < s->n_rules; j++) {
			const struct srule *o = &s->rules[j];

			if (o->dom == r->dom && o->prio == r->prio && o->order > r->order) {
				r->tie++;
			}
		}
	}
	if (s->n_rules == 0) {
		return; /* qsort() wants a non-NULL array even for 0 elements */
	}
	qsort(s->rules, s->n_rules, sizeof(*s->rules), sssd_order);
	/* Keep SSSD's numbers where they fit and are distinct. */
	for (size_t i = 0; i < s->n_rules;) {
		size_t j = i;
		uint64_t base = s->rules[i].prio;
		uint64_t room = IMP_MAX_PRIORITY - (s->n_rules - i);
		unsigned top = 0;

		if (base > room) {
			base = room;
		}
		if (base < next) {
			base = next;
		}
		for (; j < s->n_rules && s->rules[j].prio == s->rules[i].prio; j++) {
			s->rules[j].cm_prio = base + s->rules[j].tie;
			top = s->rules[j].tie > top ? s->rules[j].tie : top;
		}
		next = base + top + 1;
		i = j;
	}
}

static bool name_taken(const struct sssd_imp *s, const struct srule *upto, const char *name)
{
	for (const struct srule *o = s->rules; o < upto; o++) {
		if (o->cm_name != NULL && strcmp(o->cm_name, name) == 0) {
			return true;
		}
	}
	return false;
}

static bool rule_parses(struct sssd_imp *s, const struct srule *r, const char *match,
			const char *map)
{
	struct cm_match *m = NULL;
	struct cm_map *p = NULL;
	char *err = NULL;
	bool ok = true;

	if (cm_match_parse(match, &m, &err) != 0) {
		imp_warn(&s->im, &s->im.rules, true, "[%s]: matchrule not accepted by certmap: %s",
			 r->sec->name, err != NULL ? err : "invalid");
		ok = false;
	} else if (cm_map_parse(map, &p, &err) != 0) {
		imp_warn(&s->im, &s->im.rules, true, "[%s]: maprule not accepted by certmap: %s",
			 r->sec->name, err != NULL ? err : "invalid");
		ok = false;
	}
	cm_match_free(m);
	cm_map_free(p);
	free(err);
	return ok;
}

/*
 * A files/proxy domain's rule: SSSD wants "(user name template)" and uses
 * "(RULE)" when maprule is missing; certmap writes LOCAL:template.
 */
static char *local_map(struct sssd_imp *s, const struct srule *r)
{
	const char *map = ini_get(r->sec, "maprule");
	size_t n = map != NULL ? strlen(map) : 0;

	if (map == NULL) {
		return cm_asprintf("LOCAL:%s", r->name);
	}
	if (n < 2 || map[0] != '(' || map[n - 1] != ')') {
		imp_comment(
		    &s->im.rules, "\t",
		    "[%s]: SSSD ignores this rule: a local domain's maprule must be \"(...)\"",
		    r->sec->name);
		return NULL;
	}
	return cm_asprintf("LOCAL:%.*s", (int)(n - 2), map + 1);
}

static bool in_list(const struct cm_strv *v, const char *name)
{
	for (size_t i = 0; i < v->n; i++) {
		if (strcasecmp(v->v[i], name) == 0) {
			return true;
		}
	}
	return false;
}

/*
 * The certmap domains of a rule. In SSSD a domain's rules serve that
 * domain and its subdomains (sss_cert_derb64_to_ldap_filter()): a rule
 * without "domains" serves the domain itself; with "domains" it serves
 * exactly the names listed, and when it matches first for a domain it does
 * not list, that domain gets no filter at all. Returns false when the rule
 * cannot be imported.
 */
static bool rule_domains(struct sssd_imp *s, const struct srule *r, struct cm_strv *doms)
{
	struct cm_buf *b = &s->im.rules;
	const char *list = ini_get(r->sec, "domains");
	struct cm_strv extra = {0};
	bool ok = false;

	if (cm_strv_add(doms, r->dom->name) != 0 || imp_split(list, ',', &extra) != 0) {
		b->failed = true;
		goto out;
	}
	if (list == NULL || r->dom->kind == SD_LOCAL) {
		if (list != NULL) {
			imp_comment(b, "\t",
				    "[%s]: domains = %s: SSSD ignores it for local domains",
				    r->sec->name, list);
		}
		ok = true;
		goto out;
	}
	if (!in_list(&extra, r->dom->name)) {
		imp_warn(&s->im, b, true,
			 "[%s]: domains = %s leaves out %s: SSSD uses the rule for those "
			 "(sub)domains only, "
			 "and where it matches first %s gets no mapping at all",
			 r->sec->name, list, r->dom->name, r->dom->name);
		goto out;
	}
	for (size_t i = 0; i < extra.n; i++) {
		if (strcasecmp(extra.v[i], r->dom->name) == 0) {
			continue;
		}
		if (find_dom(s, extra.v[i]) != NULL) {
			imp_note(&s->im, b,
				 "[%s]: domains names %s, which SSSD serves with its own rules: "
				 "not added",
				 r->sec->name, extra.v[i]);
		} else {
			imp_warn(
			    &s->im, b, true,
			    "[%s]: subdomain %s is not a certmap domain: define it and add it to "
			    "this rule's domains",
			    r->sec->name, extra.v[i]);
		}
	}
	ok = true;
out:
	cm_strv_clear(&extra);
	return ok;
}

static void emit_rule(struct sssd_imp *s, struct srule *r)
{
	struct cm_buf *b = &s->im.rules;
	const char *match = ini_get(r->sec, "matchrule");
	const char *map = ini_get(r->sec, "maprule");
	char *local = NULL;
	struct cm_strv doms = {0};

	if (r->dom == NULL) {
		return;
	}
	if (!r->dom->emitted) {
		imp_warn(&s->im, b, true, "[%s]: its domain %s was not imported", r->sec->name,
			 r->dom->name);
		return;
	}
	if (r->dom->kind == SD_LOCAL && (local = local_map(s, r)) == NULL) {
		return;
	}
	if (!rule_parses(s, r, match != NULL ? match : CM_DEFAULT_MATCH,
			 local != NULL ? local
			 : map != NULL ? map
				       : CM_DEFAULT_MAP) ||
	    !rule_domains(s, r, &doms)) {
		cm_strv_clear(&doms);
		free(local);
		return;
	}
	r->cm_name = name_taken(s, r, r->name) ? cm_asprintf("%s/%s", r->dom->name, r->name)
					       : strdup(r->name);
	if (r->cm_name == NULL) {
		b->failed = true;
		free(local);
		return;
	}
	imp_next(b, s->im.n_rules, s->im.rule_end);
	imp_comment(b, "\t", "[%s], %s:%zu; SSSD priority %s", r->sec->name, r->sec->file,
		    r->sec->line,
		    ini_get(r->sec, "priority") != NULL ? ini_get(r->sec, "priority")
							: "not set (4294967295, the lowest)");
	cm_buf_adds(b, "\t{ name = ");
	imp_quote(b, r->cm_name);
	cm_buf_printf(b, "; priority = %llu;\n", (unsigned long long)r->cm_prio);
	if (match == NULL) {
		imp_comment(b, "\t  ", "no matchrule: SSSD's default");
	}
	imp_set_str(b, "\t  ", "match", match != NULL ? match : CM_DEFAULT_MATCH);
	if (map == NULL) {
		imp_comment(b, "\t  ",
			    local != NULL
				? "no maprule: SSSD maps to the local user named like the rule"
				: "no maprule: SSSD's default");
	}
	imp_set_str(b, "\t  ", "map", local != NULL ? local : map != NULL ? map : CM_DEFAULT_MAP);
	imp_set_list(b, "\t  ", "domains", &doms);
	for (size_t i = 0; i < r->sec->n; i++) {
		const char *k = r->sec->kv[i].key;

		if (strcasecmp(k, "matchrule") != 0 && strcasecmp(k, "maprule") != 0 &&
		    strcasecmp(k, "priority") != 0 && strcasecmp(k, "domains") != 0) {
			imp_warn(&s->im, b, false, "[%s]: unknown option %s", r->sec->name, k);
		}
	}
	cm_buf_adds(b, "\t}");
	imp_end(b, &s->im.n_rules, &s->im.rule_end);
	cm_strv_clear(&doms);
	free(local);
}

/*
 * SSSD's default rule, written out. Without any rule the PAM responder adds
 * it for every domain (only = NULL, priority 0). A domain without rules of
 * its own, when others have some, is searched by SSSD's provider with the
 * whole certificate too (sss_cert_derb64_to_ldap_filter() without a
 * certmap context): its default rule goes last, at the lowest priority.
 */
static void emit_default_rule(struct sssd_imp *s, const struct sdom *only, uint64_t prio)
{
	struct cm_buf *b = &s->im.rules;
	struct cm_strv doms = {0};
	char *name = NULL;

	for (size_t i = 0; i < s->n_doms; i++) {
		if (s->doms[i].emitted && s->doms[i].kind != SD_LOCAL &&
		    (only == NULL || only == &s->doms[i]) &&
		    cm_strv_add(&doms, s->doms[i].name) != 0) {
			b->failed = true;
		}
	}
	if (doms.n == 0) {
		if (only == NULL) {
			imp_warn(
			    &s->im, b, true,
			    "no [certmap/...] rule and no LDAP domain: SSSD's default rule "
			    "searches "
			    "the certificate in the user entries, which a local domain cannot");
		}
		goto out;
	}
	name = only != NULL ? cm_asprintf("sssd-default/%s", only->name) : strdup("sssd-default");
	if (name == NULL) {
		b->failed = true;
		goto out;
	}
	imp_next(b, s->im.n_rules, s->im.rule_end);
	if (only == NULL) {
		imp_comment(b, "\t",
			    "No [certmap/...] rule: SSSD uses its default rule, written out here");
	} else {
		imp_comment(b, "\t",
			    "Domain %s has no [certmap/...] rule: SSSD searches it with the whole\n"
			    "certificate, written out here as its default rule, tried last",
			    only->name);
	}
	cm_buf_adds(b, "\t{ name = ");
	imp_quote(b, name);
	cm_buf_printf(b, "; priority = %llu;\n", (unsigned long long)prio);
	imp_set_str(b, "\t  ", "match", CM_DEFAULT_MATCH);
	imp_set_str(b, "\t  ", "map", CM_DEFAULT_MAP);
	imp_set_list(b, "\t  ", "domains", &doms);
	cm_buf_adds(b, "\t}");
	imp_end(b, &s->im.n_rules, &s->im.rule_end);
out:
	free(name);
	cm_strv_clear(&doms);
}

static bool has_rules(const struct sssd_imp *s, const struct sdom *d)
{
	for (size_t i = 0; i < s->n_rules; i++) {
		if (s->rules[i].dom == d) {
			return true;
		}
	}
	return false;
}

/* A local domain without rules: SSSD compares the whole certificate with
 * certificates stored for local users (sss_override), which certmap has no
 * place for. */
static void note_local_without_rules(struct sssd_imp *s)
{
	for (size_t i = 0; i < s->n_doms; i++) {
		if (s->doms[i].emitted && s->doms[i].kind == SD_LOCAL &&
		    !has_rules(s, &s->doms[i])) {
			imp_note(&s->im, &s->im.rules,
				 "domain %s has no [certmap/...] rule: SSSD maps a certificate "
				 "there only "
				 "if it was stored for a user (sss_override user-add-cert), which "
				 "is not "
				 "imported; add a LOCAL: or MAPFILE: rule for such users",
				 s->doms[i].name);
		}
	}
}

static void emit_rules(struct sssd_imp *s)
{
	size_t used = 0;

	assign_priorities(s);
	for (size_t i = 0; i < s->n_rules; i++) {
		struct srule *r = &s->rules[i];
		bool tied = false;

		for (size_t j = 0; j < s->n_rules; j++) {
			tied = tied ||
			       (j != i && s->rules[j].dom == r->dom && s->rules[j].prio == r->prio);
		}
		if (tied && r->tie == 0 && r->dom != NULL) {
			imp_note(
			    &s->im, &s->im.rules,
			    "[%s]: rules of domain %s share priority %u; SSSD's order (the rule "
			    "read last first) is written as distinct priorities",
			    r->sec->name, r->dom->name, r->prio);
		}
		if (r->dom != NULL) {
			used++;
		}
		emit_rule(s, r);
	}
	note_local_without_rules(s);
	if (used == 0) {
		emit_default_rule(s, NULL, 0);
		return;
	}
	for (size_t i = 0; i < s->n_doms; i++) {
		if (!has_rules(s, &s->doms[i])) {
			emit_default_rule(s, &s->doms[i], IMP_MAX_PRIORITY);
		}
	}
}

/* ------------------------------------------------------------- verify */

static void verify_option(struct sssd_imp *s, const char *opt, bool *ocsp, size_t *crls)
{
	struct cm_buf *b = &s->im.verify;

	if (strcmp(opt, "no_ocsp") == 0) {
		*ocsp = false;
	} else if (strcmp(opt, "no_verification") == 0) {
		imp_comment(b, "\t",
			    "certificate_verification = no_verification: SSSD verified nothing");
		cm_buf_adds(b, "\tenabled = false;\n");
		imp_warn(
		    &s->im, b, false,
		    "no_verification: verify.enabled = false means the caller already verified "
		    "the chain; never use it with pam_certmap.so alone");
	} else if (strncmp(opt, "crl_file=", 9) == 0) {
		if (++*crls > 1) {
			imp_warn(&s->im, b, true,
				 "%s: certmap reads one CRL file: concatenate them", opt);
		} else {
			imp_set_str(b, "\t", "crl_file", opt + 9);
		}
	} else if (strcmp(opt, "soft_ocsp") == 0 || strncmp(opt, "ocsp_dgst=", 10) == 0 ||
		   strncmp(opt, "ocsp_default_responder", 22) == 0) {
		/* Part of OCSP, reported once below. */
	} else {
		imp_warn(&s->im, b, true, "certificate_verification option %s has no equivalent",
			 opt);
	}
}

static void emit_verify(struct sssd_imp *s)
{
	struct cm_buf *b = &s->im.verify;
	const struct ini_section *pam = ini_section(&s->ini, "pam");
	const char *db = ini_get(pam, "pam_cert_db_path");
	const char *cv = ini_get(pam, "certificate_verification");
	struct cm_strv opts = {0};
	bool ocsp = true;
	size_t crls = 0;

	if (cv == NULL) {
		cv = ini_get(ini_section(&s->ini, "sssd"), "certificate_verification");
	}
	if (!is_true(ini_get(pam, "pam_cert_auth"))) {
		imp_comment(&s->im.head, "",
			    "Note: [pam] pam_cert_auth is not true, so SSSD did not offer "
			    "certificate login.");
	}
	if (db == NULL) {
		imp_comment(b, "\t", "[pam] pam_cert_db_path not set: SSSD's default");
	}
	imp_set_str(b, "\t", "ca_file", db != NULL ? db : SSSD_CA_DB);
	if (imp_split(cv, ',', &opts) != 0) {
		b->failed = true;
	}
	for (size_t i = 0; i < opts.n; i++) {
		verify_option(s, opts.v[i], &ocsp, &crls);
	}
	if (ocsp) {
		imp_warn(&s->im, b, true,
			 "SSSD checks OCSP for certificates that name a responder "
			 "(certificate_verification "
			 "has no no_ocsp); certmap does not: publish a CRL in crl_file");
	}
	imp_comment(b, "\t",
		    "SSSD's verification asks for no extended key usage (its default\n"
		    "matching rule does, and the imported rules keep that)");
	cm_buf_adds(b, "\trequire_eku = [];\n");
	imp_comment(b, "\t", "SSSD has no key-size floor: certmap's defaults, stricter, are kept");
	cm_buf_adds(b, "\tmin_rsa_bits = 2048;\n\tmin_ec_bits = 256;\n");
	cm_strv_clear(&opts);
}

/* ------------------------------------------------------------ command */

static int load(struct sssd_imp *s, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash != NULL ? cm_asprintf("%.*s/conf.d", (int)(slash - path), path)
				  : strdup("conf.d");
	struct cm_strv skipped = {0};
	char *err = NULL;
	int rc = -1;

	if (dir == NULL) {
		cli_error("out of memory");
		goto out;
	}
	if (ini_load(&s->ini, path, &err) != 0 || ini_load_dir(&s->ini, dir, &skipped, &err) != 0) {
		cli_set_reason("config_error");
		cli_error("%s", err);
		goto out;
	}
	for (size_t i = 0; i < skipped.n; i++) {
		imp_warn(&s->im, &s->im.head, false,
			 "%s: skipped, as SSSD skips a snippet whose mode is not 0600 or 0400",
			 skipped.v[i]);
	}
	rc = 0;
out:
	cm_strv_clear(&skipped);
	free(err);
	free(dir);
	return rc;
}

static void sssd_imp_clear(struct sssd_imp *s)
{
	for (size_t i = 0; i < s->n_doms; i++) {
		free(s->doms[i].name);
	}
	for (size_t i = 0; i < s->n_rules; i++) {
		free(s->rules[i].name);
		free(s->rules[i].cm_name);
	}
	free(s->doms);
	free(s->rules);
	ini_clear(&s->ini);
	imp_clear(&s->im);
}

int imp_sssd(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"domain", required_argument, NULL, 'd'},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct sssd_imp s = {0};
	const char *only = NULL, *output = NULL;
	int c, rc = CLI_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': only = optarg; break;
		case 'o': output = optarg; break;
		case 'h': return cli_usage(true);
		default: return cli_usage(false);
		}
	}
	if (optind + 1 != argc) {
		return cli_usage(false);
	}
	imp_init(&s.im, "sssd", argv[optind]);
	if (load(&s, argv[optind]) != 0 || collect_domains(&s, only) != 0 ||
	    collect_rules(&s, only) != 0) {
		goto out;
	}
	if (s.n_doms == 0) {
		cli_set_reason("config_error");
		cli_error("%s: SSSD runs no domain ([sssd] domains is empty)", argv[optind]);
		goto out;
	}
	emit_verify(&s);
	emit_domains(&s);
	emit_rules(&s);
	if (imp_write(&s.im, output) != 0) {
		goto out;
	}
	if (s.im.lost) {
		fprintf(stderr, "certmapctl: import: something that affects mapping decisions was "
				"not imported (see the warnings)\n");
	}
	rc = s.im.lost ? CLI_REFUSED : CLI_OK;
out:
	sssd_imp_clear(&s);
	return rc;
}

/*
 * certmapctl import sssd, proven against SSSD's own libraries.
 *
 * For every case under $CERTMAP_SRCDIR/tests/import/sssd/NAME/ (sssd.conf,
 * optional conf.d/): the built certmapctl imports it (its exit status must
 * be the "# expect-exit: N" of the file's first line); then
 *  - the SSSD side reads the same files with ding-libs' ini_config, with
 *    the flags and the snippet check of SSSD 2.8.2 (sss_ini.c), and loads
 *    each domain's [certmap/DOMAIN/RULE] rules into a libsss_certmap context
 *    with sss_certmap_add_rule(), in the order SSSD reads them (files
 *    domains as confdb does: "(RULE)" by default, braces required);
 *  - the certmap side reads the imported certmap.conf with libconfig and
 *    compiles its rules with libcertmap's rule engine, ordered by priority
 *    as the loader orders them.
 * For every leaf certificate of $CERTMAP_TEST_CERTS and every domain, the
 * rule that matches first and the filter it gives must be the same (a
 * files domain's "(name)" is compared with LOCAL:'s "name"). Deliberate
 * differences are listed in known[] with the place certmap.conf(5)
 * documents them. The snippets' modes are set here: a snippet whose name
 * contains "ignored" gets 0644 (SSSD skips it), the others 0600.
 * Exit 0, 1 on a difference, 77 without certificates or cases.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <ini_configobj.h>
#include <libconfig.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "identity.h"
#include "rules.h"
#include "testlib.h"

/* libsss_certmap (see tests/diff/test_sss_diff.c for why no header). */
struct sss_certmap_ctx;
int sss_certmap_init(void *mem_ctx, void *debug, void *debug_priv, struct sss_certmap_ctx **ctx);
void sss_certmap_free_ctx(struct sss_certmap_ctx *ctx);
int sss_certmap_add_rule(struct sss_certmap_ctx *ctx, uint32_t priority, const char *match_rule,
			 const char *map_rule, const char **domains);
int sss_certmap_get_search_filter(struct sss_certmap_ctx *ctx, const uint8_t *der_cert,
				  size_t der_size, char **filter, char ***domains);
void sss_certmap_free_filter_and_domains(char *filter, char **domains);

#define MAX_DOMS 8
#define MAX_RULES 64

/* Deliberate differences: fnmatch patterns on "case/domain/cert@SSSD-rule"
 * and where the difference is documented. */
static const struct known {
	const char *where;
	const char *reason;
} known[] = {
    {"*/nul-*@*", "certmap.conf(5): a SAN with an embedded NUL is unusable (SSSD truncates it)"},
    {"*/upn-bmp@*", "certmap.conf(5): a UPN that is not a UTF8String is unusable (SSSD refuses the "
		    "whole certificate)"},
    {"05-nonascii/eu/utf8@*",
     "certmap.conf(5) Non-ASCII DNs: <SUBJECT> also matches the UTF-8 form"},
    {"05-nonascii/eu/bmp-cn@*",
     "certmap.conf(5) Non-ASCII DNs: <SUBJECT> also matches the UTF-8 form"},
    {"05-nonascii/eu/t61@*",
     "certmap.conf(5) Non-ASCII DNs: <SUBJECT> also matches the UTF-8 form"},
    {"04-partial/directory/*@subdomains-only", "certmapctl(8) IMPORT: a rule whose domains leave "
					       "out its own domain is not imported (in SSSD it "
					       "stops the domain's search where it matches first)"},
};

struct outcome {
	int rule; /* index in the case's SSSD rule list, -1: none */
	char *filter;
};

struct srule {
	char name[256];
	char dom[128];
	unsigned long prio;
	char *match, *map; /* NULL: SSSD's default */
	char *domains;	   /* the "domains" option, or NULL */
};

struct scase {
	const char *name;
	char *dir;
	char doms[MAX_DOMS][128];
	bool local[MAX_DOMS];
	size_t n_doms;
	struct srule rules[MAX_RULES];
	size_t n_rules;
	/* certmap's side: per domain, the rules in priority order */
	struct {
		char name[256];
		struct cm_match *m;
		struct cm_map *p;
	} cm[MAX_DOMS][MAX_RULES];
	size_t n_cm[MAX_DOMS];
};

static int n_pass, n_fail, n_known;

static const struct known *find_known(const char *where)
{
	for (size_t i = 0; i < CM_ARRAY_SIZE(known); i++) {
		if (fnmatch(known[i].where, where, 0) == 0) {
			return &known[i];
		}
	}
	return NULL;
}

static void die(const char *what)
{
	printf("ERROR: %s\n", what);
	exit(99);
}

/* ------------------------------------------------------------ setup */

static void copy_file(const char *from, const char *to, mode_t mode)
{
	unsigned char *data = NULL;
	size_t len = 0;
	FILE *f;

	if (cmt_read_file(from, &data, &len) != 0 || (f = fopen(to, "wb")) == NULL ||
	    fwrite(data, 1, len, f) != len || fclose(f) != 0 || chmod(to, mode) != 0) {
		die(from);
	}
	free(data);
}

static void copy_case(struct scase *c, const char *src)
{
	char *from = cm_asprintf("%s/sssd.conf", src);
	char *to = cm_asprintf("%s/sssd.conf", c->dir);
	char *sd = cm_asprintf("%s/conf.d", src);
	char *dd = cm_asprintf("%s/conf.d", c->dir);
	DIR *d;
	struct dirent *e;

	copy_file(from, to, 0600);
	if (mkdir(dd, 0700) != 0) {
		die(dd);
	}
	if ((d = opendir(sd)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			char *f1, *f2;

			if (e->d_name[0] == '.') {
				continue;
			}
			f1 = cm_asprintf("%s/%s", sd, e->d_name);
			f2 = cm_asprintf("%s/%s", dd, e->d_name);
			copy_file(f1, f2, strstr(e->d_name, "ignored") != NULL ? 0644 : 0600);
			free(f1);
			free(f2);
		}
		closedir(d);
	}
	free(from);
	free(to);
	free(sd);
	free(dd);
}

static int expected_exit(const char *dir)
{
	char *path = cm_asprintf("%s/sssd.conf", dir);
	unsigned char *data = NULL;
	size_t len = 0;
	int rc = -1;

	if (cmt_read_file(path, &data, &len) == 0 &&
	    sscanf((char *)data, "# expect-exit: %d", &rc) != 1) {
		rc = -1;
	}
	free(data);
	free(path);
	return rc;
}

static int run_import(struct scase *c)
{
	const char *b = getenv("CERTMAP_BUILDDIR");
	char *cmd =
	    cm_asprintf("'%s/certmapctl' import sssd --output '%s/certmap.conf' '%s/sssd.conf' "
			">'%s/import.out' 2>'%s/import.err'",
			b != NULL ? b : ".", c->dir, c->dir, c->dir, c->dir);
	int st = system(cmd);

	free(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* --------------------------------------------------------- SSSD side */

static const char *ini_str(struct ini_cfgobj *cfg, const char *sec, const char *key)
{
	struct value_obj *vo = NULL;
	int err = 0;

	if (ini_get_config_valueobj(sec, key, cfg, INI_GET_FIRST_VALUE, &vo) != 0 || vo == NULL) {
		return NULL;
	}
	return ini_get_const_string_config_value(vo, &err);
}

/* sss_ini.c of SSSD 2.8.2: sss_ini_read_sssd_conf() and sss_ini_add_snippets(). */
static struct ini_cfgobj *sssd_read(const char *dir)
{
	const char *patterns[] = {"^[^\\.].*\\.conf$", NULL};
	const char *sections[] = {".*", NULL};
	struct access_check check = {.flags = INI_ACCESS_CHECK_MODE,
				     .mode = S_IRUSR,
				     .mask = ALLPERMS & ~(S_IWUSR | S_IXUSR)};
	struct ini_cfgobj *cfg = NULL, *merged = NULL;
	struct ini_cfgfile *file = NULL;
	char *path = cm_asprintf("%s/sssd.conf", dir);
	char *snippets = cm_asprintf("%s/conf.d", dir);

	if (ini_config_create(&cfg) != 0 || ini_config_file_open(path, 0, &file) != 0 ||
	    ini_config_parse(file, INI_STOP_ON_ANY, INI_MV1S_OVERWRITE, INI_PARSE_NOWRAP, cfg) !=
		0) {
		die("ini_config cannot read the case's sssd.conf");
	}
	if (ini_config_augment(cfg, snippets, patterns, sections, &check, INI_STOP_ON_ANY,
			       INI_MV1S_OVERWRITE, INI_PARSE_NOWRAP, INI_MV2S_OVERWRITE, &merged,
			       NULL, NULL) != 0) {
		die("ini_config_augment failed");
	}
	if (merged != NULL) {
		ini_config_destroy(cfg);
		cfg = merged;
	}
	ini_config_file_destroy(file);
	free(path);
	free(snippets);
	return cfg;
}

static void sssd_domains(struct scase *c, struct ini_cfgobj *cfg)
{
	const char *list = ini_str(cfg, "sssd", "domains");
	char *copy = strdup(list != NULL ? list : "");
	char *save = NULL;

	for (char *t = strtok_r(copy, ",", &save); t != NULL && c->n_doms < MAX_DOMS;
	     t = strtok_r(NULL, ",", &save)) {
		char sec[160];
		const char *idp;

		while (*t == ' ') {
			t++;
		}
		for (char *e = t + strlen(t); e > t && e[-1] == ' ';) {
			*--e = '\0';
		}
		snprintf(c->doms[c->n_doms], sizeof(c->doms[0]), "%s", t);
		snprintf(sec, sizeof(sec), "domain/%s", t);
		idp = ini_str(cfg, sec, "id_provider");
		c->local[c->n_doms] = idp != NULL && strcmp(idp, "files") == 0;
		c->n_doms++;
	}
	free(copy);
}

static int dom_index(const struct scase *c, const char *name)
{
	for (size_t i = 0; i < c->n_doms; i++) {
		if (strcmp(c->doms[i], name) == 0) {
			return (int)i;
		}
	}
	return -1;
}

/*
 * A non-local domain without rules: SSSD's provider searches it with the
 * whole certificate (sss_cert_derb64_to_ldap_filter() without a certmap
 * context), the filter of the default rule; modelled as that rule. Without
 * any rule at all the PAM responder adds the default rule itself.
 */
static void sssd_defaults(struct scase *c)
{
	size_t n = c->n_rules;

	for (size_t d = 0; d < c->n_doms && c->n_rules < MAX_RULES; d++) {
		bool has = false;

		for (size_t i = 0; i < n; i++) {
			has = has || strcmp(c->rules[i].dom, c->doms[d]) == 0;
		}
		if (has || c->local[d]) {
			continue;
		}
		snprintf(c->rules[c->n_rules].dom, sizeof(c->rules[0].dom), "%s", c->doms[d]);
		snprintf(c->rules[c->n_rules].name, sizeof(c->rules[0].name), "%s%s%s",
			 "sssd-default", n > 0 ? "/" : "", n > 0 ? c->doms[d] : "");
		c->rules[c->n_rules].prio = UINT32_MAX;
		c->n_rules++;
	}
}

/* The [certmap/DOMAIN/RULE] sections in the order ini_config keeps them. */
static void sssd_rules(struct scase *c, struct ini_cfgobj *cfg)
{
	int n = 0, err = 0;
	char **secs = ini_get_section_list(cfg, &n, &err);

	for (int i = 0; secs != NULL && i < n && c->n_rules < MAX_RULES; i++) {
		struct srule *r = &c->rules[c->n_rules];
		const char *slash, *v;
		char *end = NULL;
		int d;

		if (strncmp(secs[i], "certmap/", 8) != 0 ||
		    (slash = strchr(secs[i] + 8, '/')) == NULL) {
			continue;
		}
		snprintf(r->dom, sizeof(r->dom), "%.*s", (int)(slash - secs[i] - 8), secs[i] + 8);
		snprintf(r->name, sizeof(r->name), "%s", slash + 1);
		if ((d = dom_index(c, r->dom)) < 0) {
			continue; /* SSSD does not run that domain */
		}
		v = ini_str(cfg, secs[i], "priority");
		errno = 0;
		r->prio = v != NULL ? strtoul(v, &end, 10) : UINT32_MAX;
		if (v != NULL && (errno != 0 || *end != '\0' || end == v || r->prio > UINT32_MAX)) {
			/* SSSD cannot read the rule; the importer leaves it out. */
			continue;
		}
		v = ini_str(cfg, secs[i], "domains");
		r->domains = v != NULL && !c->local[d] ? strdup(v) : NULL;
		v = ini_str(cfg, secs[i], "matchrule");
		r->match = v != NULL ? strdup(v) : NULL;
		v = ini_str(cfg, secs[i], "maprule");
		if (c->local[d]) {
			/* confdb's certmap_local_check() */
			if (v == NULL) {
				r->map = cm_asprintf("(%s)", r->name);
			} else if (v[0] != '(' || v[strlen(v) - 1] != ')') {
				free(r->match);
				free(r->domains);
				continue;
			} else {
				r->map = strdup(v);
			}
		} else {
			r->map = v != NULL ? strdup(v) : NULL;
		}
		c->n_rules++;
	}
	ini_free_section_list(secs);
	sssd_defaults(c);
}

/* SSSD's domain list of a rule, as confdb stores it: a NULL-terminated
 * array (static storage, rebuilt per call). */
static const char **split_domains(const char *list)
{
	static char buf[1024];
	static const char *v[16];
	size_t n = 0;
	char *save = NULL;

	if (list == NULL) {
		return NULL;
	}
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *t = strtok_r(buf, ", ", &save); t != NULL && n < 15;
	     t = strtok_r(NULL, ", ", &save)) {
		v[n++] = t;
	}
	v[n] = NULL;
	return v;
}

/* sss_cert_derb64_to_ldap_filter() of SSSD 2.8.2: a filter is used in a
 * (top-level) domain only if the rule has no domain list or lists it. */
static bool applies(char **domains, const char *dom)
{
	if (domains == NULL) {
		return true;
	}
	for (size_t i = 0; domains[i] != NULL; i++) {
		if (strcasecmp(domains[i], dom) == 0) {
			return true;
		}
	}
	return false;
}

/* In a child: libsss_certmap cleans up OpenSSL's ex_data after each use. */
static void sssd_child(int fd, const struct scase *c, const unsigned char *der, size_t len)
{
	for (size_t d = 0; d < c->n_doms; d++) {
		struct sss_certmap_ctx *real = NULL, *mark = NULL;
		char *filter = NULL, **doms = NULL;
		int32_t rule = -1;
		uint32_t flen = 0;
		char buf[64];

		size_t n = 0;

		for (size_t i = 0; i < c->n_rules; i++) {
			n += strcmp(c->rules[i].dom, c->doms[d]) == 0;
		}
		if (n == 0) {
			/* no rule for a files domain: nothing to search (an empty
			 * libsss_certmap context would fall back to its default) */
			if (write(fd, &rule, sizeof(rule)) != sizeof(rule) ||
			    write(fd, &flen, sizeof(flen)) != sizeof(flen)) {
				_exit(4);
			}
			continue;
		}
		if (sss_certmap_init(NULL, NULL, NULL, &real) != 0 ||
		    sss_certmap_init(NULL, NULL, NULL, &mark) != 0) {
			_exit(2);
		}
		for (size_t i = 0; i < c->n_rules; i++) {
			const struct srule *r = &c->rules[i];

			if (strcmp(r->dom, c->doms[d]) != 0) {
				continue;
			}
			if (sss_certmap_add_rule(real, (uint32_t)r->prio, r->match, r->map,
						 split_domains(r->domains)) != 0) {
				continue; /* SSSD skips it */
			}
			snprintf(buf, sizeof(buf), "LDAP:(rule=%zu)", i);
			if (sss_certmap_add_rule(mark, (uint32_t)r->prio, r->match, buf, NULL) !=
			    0) {
				_exit(3);
			}
		}
		if (sss_certmap_get_search_filter(mark, der, len, &filter, &doms) == 0) {
			rule = (int32_t)strtol(filter + 6, NULL, 10);
		}
		sss_certmap_free_filter_and_domains(filter, doms);
		filter = NULL;
		doms = NULL;
		if (sss_certmap_get_search_filter(real, der, len, &filter, &doms) != 0 ||
		    !applies(doms, c->doms[d])) {
			sss_certmap_free_filter_and_domains(filter, doms);
			filter = NULL;
			doms = NULL;
		}
		flen = filter != NULL ? (uint32_t)strlen(filter) + 1 : 0;
		if (write(fd, &rule, sizeof(rule)) != sizeof(rule) ||
		    write(fd, &flen, sizeof(flen)) != sizeof(flen) ||
		    (flen > 0 && write(fd, filter, flen) != (ssize_t)flen)) {
			_exit(4);
		}
		sss_certmap_free_filter_and_domains(filter, doms);
		sss_certmap_free_ctx(real);
		sss_certmap_free_ctx(mark);
	}
	_exit(0);
}

static bool sssd_outcomes(const struct scase *c, const unsigned char *der, size_t len,
			  struct outcome *out)
{
	int fds[2];
	pid_t pid;
	FILE *f;
	bool ok = true;
	int st = 0;

	if (pipe(fds) != 0) {
		die("pipe");
	}
	fflush(stdout);
	if ((pid = fork()) < 0) {
		die("fork");
	}
	if (pid == 0) {
		close(fds[0]);
		sssd_child(fds[1], c, der, len);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	for (size_t d = 0; f != NULL && d < c->n_doms; d++) {
		int32_t rule;
		uint32_t flen;

		if (fread(&rule, sizeof(rule), 1, f) != 1 ||
		    fread(&flen, sizeof(flen), 1, f) != 1) {
			ok = false;
			break;
		}
		out[d].rule = rule;
		if (flen > 0) {
			out[d].filter = calloc(1, flen);
			if (out[d].filter == NULL || fread(out[d].filter, 1, flen, f) != flen) {
				ok = false;
				break;
			}
		}
	}
	if (f != NULL) {
		fclose(f);
	}
	waitpid(pid, &st, 0);
	return ok && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* ------------------------------------------------------ certmap side */

static bool list_has(const config_setting_t *list, const char *name)
{
	for (int i = 0; list != NULL && i < config_setting_length(list); i++) {
		const char *s = config_setting_get_string_elem(list, i);

		if (s != NULL && strcmp(s, name) == 0) {
			return true;
		}
	}
	return false;
}

static void certmap_rules(struct scase *c)
{
	char *path = cm_asprintf("%s/certmap.conf", c->dir);
	const config_setting_t *rules;
	config_t cf;

	config_init(&cf);
	if (!config_read_file(&cf, path)) {
		printf("MISMATCH: %s: the imported file does not parse: line %d: %s\n", c->name,
		       config_error_line(&cf), config_error_text(&cf));
		n_fail++;
		goto out;
	}
	rules = config_lookup(&cf, "rules");
	for (size_t d = 0; d < c->n_doms; d++) {
		/* the loader's stable insertion sort by priority */
		for (long long prio = -1;;) {
			long long next = -1;

			for (int i = 0; rules != NULL && i < config_setting_length(rules); i++) {
				const config_setting_t *g =
				    config_setting_get_elem(rules, (unsigned)i);
				int p = 0;

				config_setting_lookup_int(g, "priority", &p);
				if (p > prio && (next < 0 || p < next)) {
					next = p;
				}
			}
			if (next < 0) {
				break;
			}
			for (int i = 0; rules != NULL && i < config_setting_length(rules); i++) {
				const config_setting_t *g =
				    config_setting_get_elem(rules, (unsigned)i);
				const char *name = NULL, *match = NULL, *map = NULL;
				size_t k = c->n_cm[d];
				char *err = NULL;
				int p = 0;

				config_setting_lookup_int(g, "priority", &p);
				config_setting_lookup_string(g, "name", &name);
				config_setting_lookup_string(g, "match", &match);
				config_setting_lookup_string(g, "map", &map);
				if (p != next ||
				    !list_has(
					config_setting_lookup((config_setting_t *)g, "domains"),
					c->doms[d]) ||
				    k >= MAX_RULES) {
					continue;
				}
				snprintf(c->cm[d][k].name, sizeof(c->cm[d][k].name), "%s", name);
				if (cm_match_parse(match, &c->cm[d][k].m, &err) != 0 ||
				    cm_map_parse(map, &c->cm[d][k].p, &err) != 0) {
					printf("MISMATCH: %s: rule %s of the imported file does "
					       "not compile: %s\n",
					       c->name, name, err != NULL ? err : "?");
					n_fail++;
				}
				free(err);
				c->n_cm[d]++;
			}
			prio = next;
		}
	}
out:
	config_destroy(&cf);
	free(path);
}

/*
 * The first rule that matches and its filter. A LOCAL: rule gives one
 * candidate per value of a multi-valued field (certmap.conf(5), LOCAL:),
 * SSSD's "(name)" one of them: all are returned, one per line.
 */
static void certmap_outcome(const struct scase *c, size_t d, const struct cm_identity *id,
			    char **rule, char **filter)
{
	*rule = NULL;
	*filter = NULL;
	for (size_t k = 0; id != NULL && k < c->n_cm[d]; k++) {
		struct cm_strv out = {0};

		if (c->cm[d][k].m == NULL || c->cm[d][k].p == NULL ||
		    !cm_match_eval(c->cm[d][k].m, id, NULL)) {
			continue;
		}
		*rule = strdup(c->cm[d][k].name);
		if (cm_map_expand(c->cm[d][k].p, id, &out, NULL) == 0 && out.n > 0) {
			struct cm_buf b;

			cm_buf_init(&b, 1 << 20);
			for (size_t i = 0; i < out.n; i++) {
				if (cm_map_kind(c->cm[d][k].p) == CM_MAP_LOCAL) {
					cm_buf_printf(&b, "%s(%s)", i > 0 ? "\n" : "", out.v[i]);
				} else {
					cm_buf_printf(&b, "%s%s", i > 0 ? "\n" : "", out.v[i]);
				}
			}
			cm_buf_addc(&b, '\0');
			*filter = b.failed ? NULL : cm_buf_steal(&b, NULL);
			cm_buf_free(&b);
		}
		cm_strv_clear(&out);
		return;
	}
}

/* ------------------------------------------------------------ compare */

static bool same_rule(const struct scase *c, int sss, const char *cm, size_t d)
{
	char alt[400];

	if (sss < 0 || cm == NULL) {
		return sss < 0 && cm == NULL;
	}
	snprintf(alt, sizeof(alt), "%s/%s", c->doms[d], c->rules[sss].name);
	return strcmp(cm, c->rules[sss].name) == 0 || strcmp(cm, alt) == 0;
}

/* want is one of the lines of have */
static bool one_of(const char *want, const char *have)
{
	size_t n = strlen(want);

	for (const char *p = have; p != NULL;
	     p = strchr(p, '\n') != NULL ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, want, n) == 0 && (p[n] == '\0' || p[n] == '\n')) {
			return true;
		}
	}
	return false;
}

static void compare(const struct scase *c, size_t d, const char *cert, const struct outcome *s,
		    const char *cm_rule, const char *cm_filter)
{
	char where[512];
	const struct known *k;

	snprintf(where, sizeof(where), "%s/%s/%s@%s", c->name, c->doms[d], cert,
		 s->rule >= 0 ? c->rules[s->rule].name : "");
	if (same_rule(c, s->rule, cm_rule, d) &&
	    ((s->filter == NULL && cm_filter == NULL) ||
	     (s->filter != NULL && cm_filter != NULL && one_of(s->filter, cm_filter)))) {
		n_pass++;
		return;
	}
	if ((k = find_known(where)) != NULL) {
		n_known++;
		if (getenv("CERTMAP_DIFF_VERBOSE") != NULL) {
			printf("known: %s: %s\n", where, k->reason);
		}
		return;
	}
	n_fail++;
	printf("MISMATCH: %s: SSSD rule %s filter '%.200s'; certmap rule %s filter '%.200s'\n",
	       where, s->rule >= 0 ? c->rules[s->rule].name : "(none)",
	       s->filter != NULL ? s->filter : "(none)", cm_rule != NULL ? cm_rule : "(none)",
	       cm_filter != NULL ? cm_filter : "(none)");
}

static bool is_leaf(const char *name)
{
	size_t n = strlen(name);

	/* allsan.pem crashes libsss_certmap 2.8.2 (tests/diff/test_sss_diff.c) */
	return n > 4 && strcmp(name + n - 4, ".pem") == 0 && fnmatch("*ca.pem", name, 0) != 0 &&
	       fnmatch("crl*.pem", name, 0) != 0 && strcmp(name, "chain.pem") != 0 &&
	       strcmp(name, "allsan.pem") != 0;
}

static int run_certs(const struct scase *c, const char *certdir)
{
	struct dirent **ents = NULL;
	int n = scandir(certdir, &ents, NULL, alphasort);
	int certs = 0;

	for (int i = 0; i < n; i++) {
		char *path = cm_asprintf("%s/%s", certdir, ents[i]->d_name);
		unsigned char *pem = NULL, *der = NULL;
		size_t pem_len = 0, der_len = 0;
		struct cm_identity *id = NULL;
		struct outcome out[MAX_DOMS] = {0};
		char *err = NULL;
		char *base = strndup(ents[i]->d_name, strlen(ents[i]->d_name) - 4);

		if (!is_leaf(ents[i]->d_name) || cmt_read_file(path, &pem, &pem_len) != 0 ||
		    cm_cert_to_der(pem, pem_len, &der, &der_len, &err) != 0) {
			goto next;
		}
		certs++;
		(void)cm_identity_parse(der, der_len, &id, &err);
		if (!sssd_outcomes(c, der, der_len, out)) {
			printf("MISMATCH: %s/%s: libsss_certmap failed\n", c->name, base);
			n_fail++;
			goto next;
		}
		for (size_t d = 0; d < c->n_doms; d++) {
			char *rule = NULL, *filter = NULL;

			certmap_outcome(c, d, id, &rule, &filter);
			compare(c, d, base, &out[d], rule, filter);
			free(rule);
			free(filter);
		}
	next:
		for (size_t d = 0; d < MAX_DOMS; d++) {
			free(out[d].filter);
		}
		cm_identity_free(id);
		free(err);
		free(pem);
		free(der);
		free(path);
		free(base);
		free(ents[i]);
	}
	free(ents);
	return certs;
}

static void free_case(struct scase *c)
{
	for (size_t i = 0; i < c->n_rules; i++) {
		free(c->rules[i].match);
		free(c->rules[i].map);
		free(c->rules[i].domains);
	}
	for (size_t d = 0; d < MAX_DOMS; d++) {
		for (size_t k = 0; k < c->n_cm[d]; k++) {
			cm_match_free(c->cm[d][k].m);
			cm_map_free(c->cm[d][k].p);
		}
	}
	free(c->dir);
	free(c);
}

/*
 * The imported file loads: its file names (which name files of the host the
 * case describes) are pointed at the suite's CA, CRL and a bind password
 * file, and certmapctl check-config must accept it. A certmap without ldap
 * domains refuses those; that is reported, not failed.
 */
static void check_loads(const char *name, const char *dir)
{
	const char *b = getenv("CERTMAP_BUILDDIR");
	const char *certs = getenv("CERTMAP_TEST_CERTS");
	char *cmd = cm_asprintf(
	    "cd '%s' && printf 'secret\\n' > bindpw && chmod 600 bindpw && "
	    "sed -E -e 's#(ca_file|tls_ca_file) = \"[^\"]*\"#\\1 = \"%s/ca.pem\"#' "
	    "-e 's#crl_file = \"[^\"]*\"#crl_file = \"%s/crl.pem\"#' "
	    "-e 's#bind_password_file = \"[^\"]*\"#bind_password_file = \"%s/bindpw\"#' "
	    "certmap.conf > loadable.conf && '%s/certmapctl' check-config --config loadable.conf "
	    "> check.out 2>&1",
	    dir, certs, certs, dir, b != NULL ? b : ".");
	char *out = cm_asprintf("%s/check.out", dir);
	unsigned char *text = NULL;
	size_t len = 0;
	int st = system(cmd);

	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		n_pass++;
	} else if (cmt_read_file(out, &text, &len) == 0 &&
		   strstr((char *)text, "ldap domains are not supported") != NULL) {
		printf("note: %s: this certmap has no ldap domains; check-config not run\n", name);
	} else {
		printf("MISMATCH: %s: certmapctl check-config refuses the imported file (%s)\n",
		       name, out);
		n_fail++;
	}
	free(text);
	free(out);
	free(cmd);
}

static int run_case(const char *casedir, const char *name, const char *certdir)
{
	struct scase *c = calloc(1, sizeof(*c));
	struct ini_cfgobj *cfg;
	int want = expected_exit(casedir), got, certs;
	char *tag = cm_asprintf("import-sssd-%s", name);

	if (c == NULL || tag == NULL) {
		die("out of memory");
	}
	c->name = name;
	c->dir = cmt_tmpdir(tag);
	free(tag);
	copy_case(c, casedir);
	got = run_import(c);
	if (got != want) {
		printf(
		    "MISMATCH: %s: certmapctl import exited %d, expected %d (see %s/import.err)\n",
		    name, got, want, c->dir);
		n_fail++;
	}
	{
		/* A secret in sssd.conf is never copied into the output. */
		char *path = cm_asprintf("%s/certmap.conf", c->dir);
		unsigned char *out = NULL;
		size_t len = 0;

		if (path != NULL && cmt_read_file(path, &out, &len) == 0 &&
		    strstr((char *)out, "do-not-copy") != NULL) {
			printf("MISMATCH: %s: the imported file holds the bind password\n", name);
			n_fail++;
		}
		free(out);
		free(path);
	}
	check_loads(name, c->dir);
	cfg = sssd_read(c->dir);
	sssd_domains(c, cfg);
	sssd_rules(c, cfg);
	ini_config_destroy(cfg);
	certmap_rules(c);
	certs = run_certs(c, certdir);
	printf("%s: %zu domain(s), %zu SSSD rule(s), %d certificates\n", name, c->n_doms,
	       c->n_rules, certs);
	free_case(c);
	return certs;
}

int main(void)
{
	const char *certdir = getenv("CERTMAP_TEST_CERTS");
	const char *src = getenv("CERTMAP_SRCDIR");
	char *cases = cm_asprintf("%s/tests/import/sssd", src != NULL ? src : ".");
	struct dirent **ents = NULL;
	int n, certs = 0;

	if (certdir == NULL || (n = scandir(cases, &ents, NULL, alphasort)) < 0) {
		printf("CERTMAP_TEST_CERTS unset or %s unreadable: skipped\n", cases);
		free(cases);
		return 77;
	}
	for (int i = 0; i < n; i++) {
		char *dir = cm_asprintf("%s/%s", cases, ents[i]->d_name);
		char *conf = cm_asprintf("%s/sssd.conf", dir);

		if (ents[i]->d_name[0] != '.' && access(conf, R_OK) == 0) {
			certs += run_case(dir, ents[i]->d_name, certdir);
		}
		free(dir);
		free(conf);
		free(ents[i]);
	}
	free(ents);
	free(cases);
	if (certs == 0) {
		printf("no cases or no certificates: skipped\n");
		return 77;
	}
	printf("%d passed, %d failed, %d known differences\n", n_pass, n_fail, n_known);
	return n_fail == 0 ? 0 : 1;
}

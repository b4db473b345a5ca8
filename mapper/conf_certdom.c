/*
 * The settings of a domain of type "certificate" (conf_certdom.h):
 *
 *   { name = "apps"; type = "certificate";
 *     group_from = [ "{subject_dn_component.O}", "{subject_dn_component.OU}" ];
 *     group_map = ( { value = "Example Org"; group = "example" },
 *                   { prefix = "spiffe://example.org/ops/"; group = "ops" } ); }
 *
 * group_from templates use the LOCAL:/MAPFILE: template language and give
 * one value per value of a multi-valued field; group_map is a list of
 * groups, not a libconfig group, because certificate values (spaces, ':',
 * '/') cannot be libconfig setting names.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certmap.h"
#include "conf_certdom.h"
#include "util.h"

/* group_from templates are compiled as MAPFILE: rules, which give the raw
 * value of each field (LOCAL: would drop values that are not user names,
 * such as URIs); this path is only a label and is never opened. */
#define FROM_PREFIX "MAPFILE:/group_from:"

struct cctx {
	cm_conf_err_fn *err;
	void *ctx;
	int nomem;
};

static void cerr(struct cctx *c, const config_setting_t *s, const char *name, const char *fmt,
		 ...) __attribute__((format(printf, 4, 5)));
static void cerr(struct cctx *c, const config_setting_t *s, const char *name, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->err(c->ctx, s, name, buf);
}

static void check_members(struct cctx *c, const config_setting_t *g)
{
	static const char *const known[] = { "name", "type", "group_from", "group_map", NULL };
	int n = config_setting_length(g);

	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		bool ok = false;

		for (size_t k = 0; name != NULL && known[k] != NULL; k++) {
			ok = ok || strcmp(name, known[k]) == 0;
		}
		if (!ok) {
			cerr(c, m, NULL, "%s", strcmp(name != NULL ? name : "", "min_uid") == 0 ||
						       strcmp(name != NULL ? name : "", "allow_uid0") == 0
						   ? "certificate domains have no accounts and no uids"
						   : "unknown setting");
		}
	}
}

/* "{subject_dn_component.NAME}" or "{issuer_dn_component.NAME}" with an
 * attribute name only: the every-value form. */
static bool every_value(const char *tpl, struct cm_certdom_from *f)
{
	static const char *const forms[] = { "{subject_dn_component.", "{issuer_dn_component." };

	for (size_t i = 0; i < 2; i++) {
		size_t pl = strlen(forms[i]), n;

		if (strncmp(tpl, forms[i], pl) != 0) {
			continue;
		}
		n = strspn(tpl + pl, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.");
		if (n == 0 || strcmp(tpl + pl + n, "}") != 0) {
			return false;
		}
		f->issuer = i == 1;
		f->comp = strndup(tpl + pl, n);
		return true;
	}
	return false;
}

static void add_from(struct cctx *c, struct cm_certdom_conf *cc, const config_setting_t *e)
{
	const char *tpl = config_setting_get_string(e);
	struct cm_certdom_from *f = &cc->from[cc->n_from];
	char *text = NULL, *emsg = NULL;
	struct cm_map *m = NULL;
	int r;

	if (tpl == NULL || *tpl == '\0' || strchr(tpl, '{') == NULL) {
		cerr(c, e, NULL, "must be a template with at least one {field}");
		return;
	}
	if (every_value(tpl, f)) {
		if (f->comp == NULL || (f->text = strdup(tpl)) == NULL) {
			c->nomem = 1;
		}
		cc->n_from++;
		return;
	}
	if ((text = cm_asprintf(FROM_PREFIX "%s", tpl)) == NULL) {
		c->nomem = 1;
		return;
	}
	r = cm_map_parse(text, &m, &emsg);
	if (r == CERTMAP_ERR_NOMEM) {
		c->nomem = 1;
	} else if (r != 0) {
		cerr(c, e, NULL, "%s", emsg != NULL ? emsg : "invalid template");
	} else if ((f->text = strdup(tpl)) == NULL) {
		c->nomem = 1;
	} else {
		f->map = m;
		m = NULL;
		cc->n_from++;
	}
	cm_map_free(m);
	free(emsg);
	free(text);
}

static void load_from(struct cctx *c, const config_setting_t *g, struct cm_certdom_conf *cc)
{
	const config_setting_t *s = config_setting_get_member(g, "group_from");
	int n;

	if (s == NULL) {
		return;
	}
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST) {
		cerr(c, s, NULL, "must be a list of templates");
		return;
	}
	n = config_setting_length(s);
	if (n > CM_CERTDOM_MAX_FROM) {
		cerr(c, s, NULL, "at most %d templates", CM_CERTDOM_MAX_FROM);
		return;
	}
	if ((cc->from = calloc((size_t)n + 1, sizeof(*cc->from))) == NULL) {
		c->nomem = 1;
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			cerr(c, e, NULL, "must be a string");
			continue;
		}
		add_from(c, cc, e);
	}
}

static const char *pair_string(struct cctx *c, const config_setting_t *e, const char *name)
{
	const config_setting_t *s = config_setting_get_member(e, name);
	const char *v;

	if (s == NULL) {
		cerr(c, e, name, "missing");
		return NULL;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING ||
	    (v = config_setting_get_string(s)) == NULL || *v == '\0') {
		cerr(c, s, NULL, "must be a non-empty string");
		return NULL;
	}
	return v;
}

static void add_pair(struct cctx *c, struct cm_certdom_conf *cc, const config_setting_t *e)
{
	const char *value, *group;
	int n = config_setting_length(e);
	bool prefix;

	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(e, (unsigned)i);
		const char *name = config_setting_name(m);

		if (name == NULL || (strcmp(name, "value") != 0 && strcmp(name, "prefix") != 0 &&
				     strcmp(name, "group") != 0)) {
			cerr(c, m, NULL, "unknown setting (expected value or prefix, and group)");
		}
	}
	prefix = config_setting_get_member(e, "prefix") != NULL;
	if (prefix && config_setting_get_member(e, "value") != NULL) {
		cerr(c, e, "prefix", "set value or prefix, not both");
		return;
	}
	value = pair_string(c, e, prefix ? "prefix" : "value");
	group = pair_string(c, e, "group");
	if (value == NULL || group == NULL) {
		return;
	}
	if (!cm_username_valid(group, strlen(group))) {
		cerr(c, e, "group", "\"%.256s\" is not a valid group name", group);
		return;
	}
	for (size_t i = 0; i < cc->n_map; i++) {
		if (cc->map[i].prefix == prefix && strcmp(cc->map[i].value, value) == 0) {
			cerr(c, e, "value", "\"%.256s\" is mapped twice", value);
			return;
		}
	}
	cc->map[cc->n_map].value = strdup(value);
	cc->map[cc->n_map].group = strdup(group);
	cc->map[cc->n_map].prefix = prefix;
	if (cc->map[cc->n_map].value == NULL || cc->map[cc->n_map].group == NULL) {
		c->nomem = 1;
	}
	cc->n_map++;
}

static void load_map(struct cctx *c, const config_setting_t *g, struct cm_certdom_conf *cc)
{
	const config_setting_t *s = config_setting_get_member(g, "group_map");
	int n;

	if (s == NULL) {
		if (cc->n_from > 0) {
			cerr(c, g, "group_map", "group_from needs group_map: only the values it lists become groups");
		}
		return;
	}
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		cerr(c, s, NULL, "must be a list ( { value = \"...\"; group = \"...\"; }, ... )");
		return;
	}
	n = config_setting_length(s);
	if (n > CM_CERTDOM_MAX_MAP) {
		cerr(c, s, NULL, "at most %d entries", CM_CERTDOM_MAX_MAP);
		return;
	}
	if ((cc->map = calloc((size_t)n + 1, sizeof(*cc->map))) == NULL) {
		c->nomem = 1;
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

		if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
			cerr(c, e, NULL, "must be a group { value = \"...\"; group = \"...\"; }");
			continue;
		}
		add_pair(c, cc, e);
	}
}

int cm_conf_certdom_load(const config_setting_t *g, struct cm_domain *d,
			 cm_conf_err_fn *err, void *ctx)
{
	struct cctx c = { .err = err, .ctx = ctx };

	if ((d->cert = calloc(1, sizeof(*d->cert))) == NULL) {
		return -1;
	}
	check_members(&c, g);
	load_from(&c, g, d->cert);
	load_map(&c, g, d->cert);
	return c.nomem ? -1 : 0;
}

void cm_conf_certdom_free(struct cm_certdom_conf *cc)
{
	if (cc == NULL) {
		return;
	}
	for (size_t i = 0; i < cc->n_from; i++) {
		cm_map_free(cc->from[i].map);
		free(cc->from[i].text);
		free(cc->from[i].comp);
	}
	free(cc->from);
	for (size_t i = 0; i < cc->n_map; i++) {
		free(cc->map[i].value);
		free(cc->map[i].group);
	}
	free(cc->map);
	free(cc);
}

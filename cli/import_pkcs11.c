/*
 * certmapctl import pam_pkcs11: pam_pkcs11.conf (scconf syntax) to
 * certmap.conf. The mappers of use_mappers become rules in that order,
 * with the semantics of pam_pkcs11 0.6.12 (Debian 12): a mapper with a
 * mapfile looks up the first value of its certificate field and maps only
 * when a line matches; the mapfile is converted to certmap's map-file
 * format next to the output. The verification policy of the module named
 * by use_pkcs11_module becomes verify. See certmapctl(8).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "import_common.h"
#include "rules.h"

#define SC_MAX_FILE (1024 * 1024)
#define SC_MAX_DEPTH 8
#define SC_MAX_ITEMS 4096
/* pam_pkcs11 has no matching rules: every certificate is considered. */
#define P11_MATCH_ALL "<ISSUER>.*"

/* ------------------------------------------------------------ scconf */

struct sc_block;

/* "key = v1, v2;" or "key [name] { ... }" */
struct sc_item {
	char *key;
	char *name;		/* a block's name ("pkcs11_module opensc {") */
	struct cm_strv values;	/* a setting's values */
	struct sc_block *block; /* a block's contents */
	size_t line;
};

struct sc_block {
	struct sc_item *items;
	size_t n;
};

struct sc_lexer {
	const char *p, *end;
	size_t line;
	const char *file;
	char *err;
	size_t n_items;
};

enum tok { T_EOF, T_WORD, T_STRING, T_PUNCT, T_ERR };

static void sc_block_free(struct sc_block *b)
{
	if (b == NULL) {
		return;
	}
	for (size_t i = 0; i < b->n; i++) {
		free(b->items[i].key);
		free(b->items[i].name);
		cm_strv_clear(&b->items[i].values);
		sc_block_free(b->items[i].block);
	}
	free(b->items);
	free(b);
}

static void sc_fail(struct sc_lexer *lx, const char *what)
{
	if (lx->err == NULL) {
		lx->err = cm_asprintf("%s:%zu: %s", lx->file, lx->line, what);
	}
}

static void skip_space(struct sc_lexer *lx)
{
	while (lx->p < lx->end) {
		if (*lx->p == '\n') {
			lx->line++;
			lx->p++;
		} else if (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r') {
			lx->p++;
		} else if (*lx->p == '#') {
			while (lx->p < lx->end && *lx->p != '\n') {
				lx->p++;
			}
		} else {
			break;
		}
	}
}

/* The next token; a word or string is returned in *text (malloc'd). */
static enum tok next_tok(struct sc_lexer *lx, char **text, char *punct)
{
	const char *s;

	*text = NULL;
	skip_space(lx);
	if (lx->p >= lx->end) {
		return T_EOF;
	}
	if (strchr("{}=;,", *lx->p) != NULL) {
		*punct = *lx->p++;
		return T_PUNCT;
	}
	if (*lx->p == '"') {
		struct cm_buf b;

		cm_buf_init(&b, SC_MAX_FILE);
		for (lx->p++; lx->p < lx->end && *lx->p != '"'; lx->p++) {
			if (*lx->p == '\n') {
				break;
			}
			if (*lx->p == '\\' && lx->p + 1 < lx->end) {
				lx->p++;
			}
			cm_buf_addc(&b, *lx->p);
		}
		if (lx->p >= lx->end || *lx->p != '"') {
			cm_buf_free(&b);
			sc_fail(lx, "unterminated string");
			return T_ERR;
		}
		lx->p++;
		cm_buf_addc(&b, '\0');
		*text = b.failed ? NULL : cm_buf_steal(&b, NULL);
		cm_buf_free(&b);
		return *text != NULL ? T_STRING : T_ERR;
	}
	s = lx->p;
	while (lx->p < lx->end && strchr("{}=;,\"# \t\r\n", *lx->p) == NULL) {
		lx->p++;
	}
	*text = strndup(s, (size_t)(lx->p - s));
	return *text != NULL ? T_WORD : T_ERR;
}

/* Peeks whether a word followed by '=' or '{' comes next (a new item). */
static bool item_starts(struct sc_lexer *lx)
{
	struct sc_lexer save = *lx;
	char *t = NULL;
	char c = 0;
	enum tok k = next_tok(lx, &t, &c);
	bool yes = false;

	free(t);
	if (k == T_WORD) {
		k = next_tok(lx, &t, &c);
		free(t);
		yes = k == T_PUNCT && (c == '=' || c == '{');
	}
	save.err = lx->err;
	*lx = save;
	return yes;
}

static struct sc_block *sc_parse_block(struct sc_lexer *lx, int depth, bool top);

static struct sc_item *add_item(struct sc_lexer *lx, struct sc_block *b, char *key)
{
	struct sc_item *grown;

	if (++lx->n_items > SC_MAX_ITEMS) {
		sc_fail(lx, "too many settings");
		free(key);
		return NULL;
	}
	grown = realloc(b->items, (b->n + 1) * sizeof(*grown));
	if (grown == NULL) {
		sc_fail(lx, "out of memory");
		free(key);
		return NULL;
	}
	b->items = grown;
	memset(&b->items[b->n], 0, sizeof(b->items[b->n]));
	b->items[b->n].key = key;
	b->items[b->n].line = lx->line;
	return &b->items[b->n++];
}

/* After "key =": values separated by ',' up to ';' (pam_pkcs11's own
 * files sometimes leave the ';' out: a new "word =" ends the list too). */
static void parse_values(struct sc_lexer *lx, struct sc_item *it)
{
	for (;;) {
		char *t = NULL;
		char c = 0;
		enum tok k;

		if (item_starts(lx)) {
			return;
		}
		k = next_tok(lx, &t, &c);
		if (k == T_WORD || k == T_STRING) {
			if (cm_strv_take(&it->values, t) != 0) {
				sc_fail(lx, "out of memory");
				return;
			}
			continue;
		}
		if (k == T_PUNCT && c == ',') {
			continue;
		}
		if (k == T_PUNCT && c == ';') {
			return;
		}
		if (k == T_PUNCT && c == '}') {
			lx->p--; /* the block's end */
			return;
		}
		sc_fail(lx, k == T_EOF ? "unexpected end of file" : "expected a value");
		return;
	}
}

static struct sc_block *sc_parse_block(struct sc_lexer *lx, int depth, bool top)
{
	struct sc_block *b = calloc(1, sizeof(*b));

	if (b == NULL || depth > SC_MAX_DEPTH) {
		sc_fail(lx, b == NULL ? "out of memory" : "blocks nested too deep");
		free(b);
		return NULL;
	}
	while (lx->err == NULL) {
		char *key = NULL, *t = NULL;
		char c = 0;
		enum tok k = next_tok(lx, &key, &c);
		struct sc_item *it;

		if (k == T_EOF && top) {
			return b;
		}
		if (k == T_PUNCT && c == '}' && !top) {
			return b;
		}
		if (k == T_PUNCT && c == ';') {
			continue;
		}
		if (k != T_WORD) {
			free(key);
			sc_fail(lx, k == T_EOF ? "missing '}'" : "expected a setting name");
			break;
		}
		if ((it = add_item(lx, b, key)) == NULL) {
			break;
		}
		k = next_tok(lx, &t, &c);
		if (k == T_WORD || k == T_STRING) {
			it->name = t;
			k = next_tok(lx, &t, &c);
		}
		if (k == T_PUNCT && c == '{') {
			it->block = sc_parse_block(lx, depth + 1, false);
		} else if (k == T_PUNCT && c == '=' && it->name == NULL) {
			parse_values(lx, it);
		} else {
			free(t);
			sc_fail(lx, "expected '=' or '{'");
		}
	}
	sc_block_free(b);
	return NULL;
}

static const struct sc_item *sc_find(const struct sc_block *b, const char *key, const char *name)
{
	for (size_t i = 0; b != NULL && i < b->n; i++) {
		const struct sc_item *it = &b->items[i];

		if (strcmp(it->key, key) == 0 &&
		    (name == NULL || (it->name != NULL && strcmp(it->name, name) == 0))) {
			return it;
		}
	}
	return NULL;
}

static const char *sc_str(const struct sc_block *b, const char *key, const char *def)
{
	const struct sc_item *it = sc_find(b, key, NULL);

	return it != NULL && it->block == NULL && it->values.n > 0 ? it->values.v[0] : def;
}

static bool sc_bool(const struct sc_block *b, const char *key, bool def)
{
	const char *v = sc_str(b, key, NULL);

	if (v == NULL) {
		return def;
	}
	return strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 || strcmp(v, "1") == 0;
}

/* ------------------------------------------------------------ import */

struct p11_imp {
	struct imp im;
	struct sc_block *root;
	const struct sc_block *top; /* pam_pkcs11 { } */
	const char *output;
	unsigned prio;
	struct cm_strv mapfiles; /* written, for the report */
};

/* "file:///x" or "/x" -> "/x"; other schemes are not read. */
static const char *mapfile_path(const char *uri)
{
	if (strncmp(uri, "file://", 7) == 0) {
		return uri + 7;
	}
	return uri[0] == '/' ? uri : NULL;
}

static bool mapfile_none(const char *v)
{
	return v == NULL || v[0] == '\0' || strcmp(v, "none") == 0;
}

/*
 * How a mapfile key is rewritten so that certmap's template gives the
 * same bytes for the same certificate.
 */
enum key_form {
	KEY_RAW,     /* e-mail address, UPN: the same text */
	KEY_SSSD,    /* a DN attribute value: certmap's {subject_dn_component} */
	KEY_ONELINE, /* X509_NAME_oneline(), which {subject_dn!grid} is: as is */
	KEY_DIGEST,  /* "ab:cd:..." in any case: certmap's {cert!ALG_uc} */
};

/* pam_pkcs11 compares a digest case-insensitively with its "AB:CD:..."
 * form; a key in another form never matches there, so it is dropped. */
static char *digest_key(const char *k)
{
	size_t n = strlen(k);
	char *out;

	if (n < 2 || (n + 1) % 3 != 0) {
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if ((i % 3 == 2) != (k[i] == ':') ||
		    (i % 3 != 2 && strchr("0123456789abcdefABCDEF", k[i]) == NULL)) {
			return NULL;
		}
	}
	if ((out = strdup(k)) != NULL) {
		for (char *p = out; *p != '\0'; p++) {
			*p = (char)(*p >= 'a' && *p <= 'f' ? *p - 32 : *p);
		}
	}
	return out;
}

/* A DN attribute value as certmap renders it in {subject_dn_component}:
 * SSSD's form (RFC 4514 escapes; non-ASCII and control bytes as \XX). */
static char *sssd_key(const char *k)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = strlen(k);
	struct cm_buf b;

	cm_buf_init(&b, 3 * len + 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)k[i];
		bool last = i + 1 == len, first = i == 0 && !last;

		if (c > 0x7f || c < 0x20 || c == 0x7f) {
			cm_buf_addc(&b, '\\');
			cm_buf_addc(&b, hex[c >> 4]);
			cm_buf_addc(&b, hex[c & 0xf]);
			continue;
		}
		if (strchr("\"+,;<>\\", c) != NULL || (c == '#' && first) ||
		    (c == ' ' && (first || last))) {
			cm_buf_addc(&b, '\\');
		}
		cm_buf_addc(&b, (char)c);
	}
	cm_buf_addc(&b, '\0');
	return b.failed ? NULL : cm_buf_steal(&b, NULL);
}

static char *convert_key(const char *k, enum key_form form)
{
	switch (form) {
	case KEY_DIGEST: return digest_key(k);
	case KEY_SSSD: return sssd_key(k);
	case KEY_ONELINE:
	case KEY_RAW: return strdup(k);
	default: return NULL;
	}
}

static void map_key(struct cm_buf *out, const char *key)
{
	cm_buf_addc(out, '"');
	for (const char *p = key; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			cm_buf_addc(out, '\\');
		}
		cm_buf_addc(out, *p);
	}
	cm_buf_addc(out, '"');
}

/* One "key -> login" line of a pam_pkcs11 mapfile (mapper.c get_mapent()). */
static void convert_line(struct p11_imp *s, const char *mapper, const char *file, size_t line,
			 const char *text, enum key_form form, struct cm_strv *seen,
			 struct cm_buf *out)
{
	const char *sep = strstr(text, " -> ");
	char *key = NULL, *login = NULL;

	if (text[0] == '#' || sep == NULL) {
		goto done; /* pam_pkcs11 skips it too */
	}
	key = strndup(text, (size_t)(sep - text));
	login = strdup(sep + 4);
	if (key == NULL || login == NULL) {
		out->failed = true;
		goto done;
	}
	if (key[0] == '^' && key[strlen(key) - 1] == '$') {
		imp_warn(&s->im, &s->im.rules, true,
			 "mapper %s: %s:%zu: the regular expression %s has no map-file equivalent",
			 mapper, file, line, key);
		goto done;
	}
	{
		char *k = convert_key(key, form);

		if (k == NULL) {
			imp_warn(&s->im, &s->im.rules, false,
				 "mapper %s: %s:%zu: \"%s\" can never match (pam_pkcs11 %s)",
				 mapper, file, line, key,
				 form == KEY_DIGEST ? "compares \"AB:CD:...\" digests"
						    : "never renders a name so");
			goto done;
		}
		free(key);
		key = k;
	}
	if (!cm_username_valid(login, strlen(login))) {
		imp_warn(&s->im, &s->im.rules, false,
			 "mapper %s: %s:%zu: \"%s\" is not a valid user name", mapper, file, line,
			 login);
		goto done;
	}
	if (cm_strv_contains(seen, key)) {
		imp_note(&s->im, &s->im.rules,
			 "mapper %s: %s:%zu: %s is listed again; pam_pkcs11 uses the first line, "
			 "so this one "
			 "is left out",
			 mapper, file, line, key);
		goto done;
	}
	if (cm_strv_add(seen, key) != 0) {
		out->failed = true;
		goto done;
	}
	map_key(out, key);
	cm_buf_printf(out, " %s\n", login);
done:
	free(key);
	free(login);
}

/*
 * Converts the mapfile into certmap's format next to the output and
 * returns the new file's absolute path, or NULL (warned).
 */
static char *convert_mapfile(struct p11_imp *s, const char *mapper, const char *uri,
			     enum key_form form)
{
	const char *path = mapfile_path(uri);
	char *name = NULL, *dest = NULL, *abs = NULL;
	unsigned char *data = NULL;
	struct cm_strv seen = {0};
	struct cm_buf out;
	size_t len = 0, line = 0;
	char *p;

	cm_buf_init(&out, 16 * 1024 * 1024);
	if (path == NULL) {
		imp_warn(&s->im, &s->im.rules, true, "mapper %s: mapfile %s is not a local file",
			 mapper, uri);
		goto out;
	}
	if (cli_read_file(path, &data, &len) != 0) {
		imp_warn(&s->im, &s->im.rules, true, "mapper %s: cannot read mapfile %s", mapper,
			 path);
		goto out;
	}
	cm_buf_printf(&out, "# Converted by certmapctl import pam_pkcs11 from %s.\n", path);
	for (p = (char *)data; p != NULL && *p != '\0';) {
		char *nl = strchr(p, '\n');

		line++;
		if (nl != NULL) {
			*nl = '\0';
		}
		while (*p == ' ' || *p == '\t') {
			p++; /* get_mapent() skips leading white space, not trailing */
		}
		convert_line(s, mapper, path, line, p, form, &seen, &out);
		p = nl != NULL ? nl + 1 : NULL;
	}
	if ((name = cm_asprintf("pam_pkcs11-%s.map", mapper)) == NULL ||
	    (dest = imp_sibling(s->output, name)) == NULL || out.failed) {
		cli_error("out of memory");
		goto out;
	}
	if (imp_write_file(dest, out.data, out.len) != 0) {
		goto out;
	}
	abs = realpath(dest, NULL);
	if (abs != NULL && cm_strv_add(&s->mapfiles, abs) != 0) {
		free(abs);
		abs = NULL;
	}
out:
	cm_strv_clear(&seen);
	cm_buf_free(&out);
	free(data);
	free(name);
	free(dest);
	return abs;
}

static void emit_rule(struct p11_imp *s, const char *name, const char *match, const char *map,
		      const char *why)
{
	struct cm_buf *b = &s->im.rules;
	struct cm_match *m = NULL;
	struct cm_map *p = NULL;
	char *err = NULL;

	if (cm_match_parse(match, &m, &err) != 0 || cm_map_parse(map, &p, &err) != 0) {
		imp_warn(&s->im, b, true, "mapper %s: rule not accepted by certmap: %s", name,
			 err != NULL ? err : "?");
		goto out;
	}
	imp_next(b, s->im.n_rules, s->im.rule_end);
	if (why != NULL) {
		imp_comment(b, "\t", "%s", why);
	}
	cm_buf_adds(b, "\t{ name = ");
	imp_quote(b, name);
	cm_buf_printf(b, "; priority = %u;\n", s->prio);
	imp_set_str(b, "\t  ", "match", match);
	imp_set_str(b, "\t  ", "map", map);
	cm_buf_adds(b, "\t}");
	imp_end(b, &s->im.n_rules, &s->im.rule_end);
out:
	free(err);
	cm_match_free(m);
	cm_map_free(p);
}

/* A mapper that maps one certificate field, through a mapfile or not. */
/* What a field mapper reads, and how pam_pkcs11 0.6.12 treats it. */
struct field {
	const char *template; /* certmap's template for the certificate field */
	const char *what;     /* for comments */
	enum key_form form;   /* how its mapfile keys are rewritten */
	bool icase;	      /* ignorecase's default */
	bool identity;	      /* an unmapped value is the login (generic) */
};

static void field_mapper(struct p11_imp *s, const char *mapper, const struct sc_block *blk,
			 const struct field *f)
{
	const char *mapfile = sc_str(blk, "mapfile", "none");
	bool icase = sc_bool(blk, "ignorecase", f->icase);
	char *map = NULL, *file = NULL, *why = NULL, *local = NULL;

	if ((local = cm_asprintf("LOCAL:%s", f->template)) == NULL) {
		s->im.rules.failed = true;
		goto out;
	}
	if (mapfile_none(mapfile)) {
		if (f->form == KEY_DIGEST) {
			imp_comment(&s->im.rules, "\t", "mapper %s: no mapfile, so it never maps",
				    mapper);
			goto out;
		}
		why = f->identity
			  ? cm_asprintf("mapper %s without a mapfile: the login name is the %s",
					mapper, f->what)
			  : cm_asprintf("mapper %s without a mapfile: the login name is the %s. "
					"pam_pkcs11\n0.6.12 only confirms a name typed at the "
					"prompt with it (pklogin_finder\nfinds nothing); certmap "
					"also maps it when no name is given",
					mapper, f->what);
		map = local;
		local = NULL;
		if (icase) {
			imp_note(&s->im, &s->im.rules,
				 "mapper %s: ignorecase: certmap compares the %s with the user "
				 "name exactly",
				 mapper, f->what);
		}
	} else {
		if ((file = convert_mapfile(s, mapper, mapfile, f->form)) == NULL) {
			goto out;
		}
		why = cm_asprintf("mapper %s: the %s looked up in %s (converted from %s)", mapper,
				  f->what, file, mapfile);
		map = cm_asprintf("MAPFILE:%s:%s", file, f->template);
		if (icase && f->form != KEY_DIGEST) {
			imp_warn(
			    &s->im, &s->im.rules, true,
			    "mapper %s: ignorecase: certmap's map-file keys are compared exactly",
			    mapper);
		}
	}
	if (map == NULL || why == NULL) {
		s->im.rules.failed = true;
	} else {
		emit_rule(s, mapper, P11_MATCH_ALL, map, why);
	}
	if (f->identity && file != NULL && local != NULL) {
		/* generic: a value the mapfile does not list is the login itself */
		char *name = cm_asprintf("%s-unmapped", mapper);

		s->prio++;
		if (name != NULL) {
			emit_rule(s, name, P11_MATCH_ALL, local,
				  "a value the mapfile does not list is the login name itself");
		}
		free(name);
	}
out:
	free(local);
	free(map);
	free(file);
	free(why);
}

/* ms: the UPN's user part, its domain checked against domainname. */
static void ms_mapper(struct p11_imp *s, const struct sc_block *blk)
{
	const char *dom = sc_str(blk, "domainname", "");
	bool ignoredomain = sc_bool(blk, "ignoredomain", false);
	char *match = NULL;
	struct cm_buf re;

	if (sc_bool(blk, "ignorecase", false)) {
		imp_warn(&s->im, &s->im.rules, true,
			 "mapper ms: ignorecase lower-cases the login name; certmap cannot");
	}
	cm_buf_init(&re, 4096);
	if (!ignoredomain) {
		cm_buf_adds(&re, "<SAN:ntPrincipalName>@");
		for (const char *p = dom; *p != '\0'; p++) {
			if (strchr(".[]()*+?{}|^$\\", *p) != NULL) {
				cm_buf_adds(&re, "\\");
			}
			cm_buf_addc(&re, *p);
		}
		cm_buf_adds(&re, "$");
		cm_buf_addc(&re, '\0');
		match = re.failed ? NULL : cm_buf_steal(&re, NULL);
	} else {
		match = strdup(P11_MATCH_ALL);
	}
	cm_buf_free(&re);
	if (match == NULL) {
		s->im.rules.failed = true;
		return;
	}
	emit_rule(s, "ms", match, "LOCAL:{subject_nt_principal.short_name}",
		  ignoredomain ? "mapper ms: the UPN's user part"
			       : "mapper ms: the UPN's user part, when its domain is domainname");
	free(match);
}

static void null_mapper(struct p11_imp *s, const struct sc_block *blk)
{
	const char *user = sc_str(blk, "default_user", "nobody");
	char *map;

	if (!sc_bool(blk, "default_match", false)) {
		imp_comment(&s->im.rules, "\t",
			    "mapper null: default_match is false, so it never maps");
		return;
	}
	map = cm_asprintf("LOCAL:%s", user);
	if (map == NULL) {
		s->im.rules.failed = true;
		return;
	}
	imp_warn(&s->im, &s->im.rules, false,
		 "mapper null maps every certificate to %s: check that this is wanted", user);
	emit_rule(s, "null", P11_MATCH_ALL, map,
		  "mapper null: every certificate maps to default_user");
	free(map);
}

static const struct field F_CN = {"{subject_dn_component.cn}", "CN", KEY_SSSD, false, false};
static const struct field F_UID = {"{subject_dn_component.uid}", "UID", KEY_SSSD, false, false};
static const struct field F_SUBJECT = {"{subject_dn!grid}", "subject (/C=../CN=..)", KEY_ONELINE,
				       false, false};
static const struct field F_KPN = {"{subject_pkinit_principal}", "Kerberos principal", KEY_RAW,
				   false, false};
static const struct field F_MAIL = {"{subject_rfc822_name}", "e-mail address", KEY_RAW, true,
				    false};
static const struct field F_MAIL_USER = {"{subject_rfc822_name.short_name}",
					 "e-mail address's user part", KEY_RAW, true, false};

/* generic's cert_item (an unknown one is "cn", as in pam_pkcs11) */
static struct field generic_field(const char *item)
{
	static const struct {
		const char *item;
		const struct field *f;
	} t[] = {
	    {"cn", &F_CN},	{"subject", &F_SUBJECT}, {"kpn", &F_KPN},
	    {"email", &F_MAIL}, {"uid", &F_UID},
	};
	struct field f = F_CN;

	for (size_t i = 0; i < CM_ARRAY_SIZE(t); i++) {
		if (strcasecmp(item, t[i].item) == 0) {
			f = *t[i].f;
		}
	}
	if (strcasecmp(item, "upn") == 0) {
		f = (struct field){"{subject_nt_principal}", "UPN", KEY_RAW, false, false};
	}
	f.identity = true;
	return f;
}

static void one_mapper(struct p11_imp *s, const char *name)
{
	const struct sc_item *it = sc_find(s->top, "mapper", name);
	const struct sc_block *blk = it != NULL ? it->block : NULL;
	const char *module = sc_str(blk, "module", "internal");

	if (strcmp(module, "internal") != 0 && strstr(module, name) == NULL) {
		imp_warn(&s->im, &s->im.rules, true, "mapper %s: module %s cannot be imported",
			 name, module);
		return;
	}
	if (strcmp(name, "cn") == 0) {
		field_mapper(s, name, blk, &F_CN);
	} else if (strcmp(name, "uid") == 0) {
		field_mapper(s, name, blk, &F_UID);
	} else if (strcmp(name, "subject") == 0) {
		field_mapper(s, name, blk, &F_SUBJECT);
	} else if (strcmp(name, "krb") == 0) {
		field_mapper(s, name, blk, &F_KPN);
	} else if (strcmp(name, "mail") == 0) {
		if (!sc_bool(blk, "ignoredomain", true) &&
		    mapfile_none(sc_str(blk, "mapfile", "none"))) {
			imp_warn(
			    &s->im, &s->im.rules, true,
			    "mapper mail: ignoredomain = false compares the mail domain with this "
			    "host's name; add a <SAN:rfc822Name>@DOMAIN$ match to the rule");
		}
		field_mapper(s, name, blk,
			     mapfile_none(sc_str(blk, "mapfile", "none")) ? &F_MAIL_USER : &F_MAIL);
	} else if (strcmp(name, "digest") == 0) {
		const char *alg = sc_str(blk, "algorithm", "sha1");
		char *tmpl = cm_asprintf("{cert!%s_uc}", alg);
		struct field f = {tmpl, "certificate's fingerprint", KEY_DIGEST, true, false};

		if (tmpl != NULL) {
			field_mapper(s, name, blk, &f);
		}
		free(tmpl);
	} else if (strcmp(name, "ms") == 0) {
		ms_mapper(s, blk);
	} else if (strcmp(name, "pwent") == 0) {
		imp_warn(
		    &s->im, &s->im.rules, true,
		    "mapper pwent: a CN equal to an account's GECOS field is not imported, only a "
		    "CN equal to its name");
		field_mapper(s, name, blk, &F_CN);
	} else if (strcmp(name, "generic") == 0) {
		struct field f = generic_field(sc_str(blk, "cert_item", "cn"));

		if (sc_bool(blk, "use_getpwent", false)) {
			imp_warn(&s->im, &s->im.rules, true,
				 "mapper generic: use_getpwent (GECOS search) is not imported");
		}
		field_mapper(s, name, blk, &f);
	} else if (strcmp(name, "null") == 0) {
		null_mapper(s, blk);
	} else {
		imp_warn(&s->im, &s->im.rules, true,
			 "mapper %s cannot be imported (openssh, opensc and ldap compare keys or "
			 "certificates stored elsewhere)",
			 name);
		return;
	}
	s->prio += 10;
}

/* ------------------------------------------------------------ verify */

static void emit_verify(struct p11_imp *s, const struct sc_block *mod)
{
	struct cm_buf *b = &s->im.verify;
	const struct sc_item *pol = sc_find(mod, "cert_policy", NULL);
	const char *ca_dir = sc_str(mod, "ca_dir", "/etc/pam_pkcs11/cacerts");
	bool ca = false;

	for (size_t i = 0; pol != NULL && i < pol->values.n; i++) {
		const char *v = pol->values.v[i];

		if (strcmp(v, "ca") == 0) {
			ca = true;
		} else if (strcmp(v, "signature") == 0) {
			imp_comment(
			    b, "\t",
			    "cert_policy signature: pam_pkcs11 has the card sign a challenge;\n"
			    "certmap relies on the TLS handshake or PAM stack that gave it the\n"
			    "certificate having checked the private key");
		} else if (strcmp(v, "none") == 0) {
			continue;
		} else if (strncmp(v, "crl_", 4) == 0 || strcmp(v, "ocsp_on") == 0) {
			imp_warn(&s->im, b, true,
				 "cert_policy %s: certmap checks revocation only against "
				 "verify.crl_file "
				 "(one PEM file; crl_dir = %s)",
				 v, sc_str(mod, "crl_dir", "/etc/pam_pkcs11/crls"));
		} else {
			imp_warn(&s->im, b, true, "cert_policy %s is unknown", v);
		}
	}
	if (ca) {
		imp_set_str(b, "\t", "ca_dir", ca_dir);
	} else {
		imp_comment(b, "\t",
			    "cert_policy has no \"ca\": pam_pkcs11 did not verify the chain");
		cm_buf_adds(b, "\tenabled = false;\n");
		imp_warn(
		    &s->im, b, false,
		    "cert_policy without ca: verify.enabled = false, so the caller must verify the "
		    "chain");
	}
	imp_comment(b, "\t", "pam_pkcs11 requires no extended key usage");
	cm_buf_adds(b, "\trequire_eku = [];\n");
	imp_comment(b, "\t",
		    "pam_pkcs11 has no key-size floor: certmap's defaults, stricter, are kept");
	cm_buf_adds(b, "\tmin_rsa_bits = 2048;\n\tmin_ec_bits = 256;\n");
}

/* ------------------------------------------------------------ command */

static int load(struct p11_imp *s, const char *path)
{
	struct sc_lexer lx = {.file = path, .line = 1};
	unsigned char *data = NULL;
	size_t len = 0;
	int rc = -1;

	if (cli_read_file(path, &data, &len) != 0) {
		cli_set_reason("config_error");
		goto out;
	}
	if (memchr(data, '\0', len) != NULL) {
		cli_set_reason("config_error");
		cli_error("%s: contains a NUL byte", path);
		goto out;
	}
	lx.p = (const char *)data;
	lx.end = lx.p + len;
	s->root = sc_parse_block(&lx, 0, true);
	if (s->root == NULL) {
		cli_set_reason("config_error");
		cli_error("%s", lx.err != NULL ? lx.err : "out of memory");
		goto out;
	}
	{
		const struct sc_item *top = sc_find(s->root, "pam_pkcs11", NULL);

		s->top = top != NULL ? top->block : NULL;
	}
	if (s->top == NULL) {
		cli_set_reason("config_error");
		cli_error("%s: no pam_pkcs11 { } block", path);
		goto out;
	}
	rc = 0;
out:
	free(lx.err);
	free(data);
	return rc;
}

static int convert(struct p11_imp *s)
{
	const char *modname = sc_str(s->top, "use_pkcs11_module", NULL);
	const struct sc_item *mod =
	    modname != NULL ? sc_find(s->top, "pkcs11_module", modname) : NULL;
	const struct sc_item *use = sc_find(s->top, "use_mappers", NULL);
	struct cm_buf *d = &s->im.domains;

	if (mod == NULL || mod->block == NULL) {
		cli_set_reason("config_error");
		cli_error("%s: no pkcs11_module block named by use_pkcs11_module", s->im.source);
		return -1;
	}
	if (use == NULL || use->values.n == 0) {
		cli_set_reason("config_error");
		cli_error("%s: use_mappers is empty", s->im.source);
		return -1;
	}
	emit_verify(s, mod->block);
	imp_comment(d, "\t", "pam_pkcs11 resolves login names through NSS");
	cm_buf_adds(d, "\t{ name = \"local\"; type = \"local\";\n");
	imp_comment(d, "\t  ", "pam_pkcs11 has no uid floor");
	cm_buf_adds(d, "\t  min_uid = 1;\n\t}");
	imp_end(d, &s->im.n_domains, &s->im.domain_end);
	imp_comment(&s->im.rules, "\t",
		    "use_mappers: the first mapper that maps wins, so each gets its own\n"
		    "priority, in that order");
	for (size_t i = 0; i < use->values.n; i++) {
		one_mapper(s, use->values.v[i]);
	}
	if (s->im.n_rules == 0) {
		imp_warn(&s->im, &s->im.rules, true, "no mapper could be imported");
	}
	return 0;
}

int imp_pkcs11(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct p11_imp s = {0};
	int c, rc = CLI_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': s.output = optarg; break;
		case 'h': return cli_usage(true);
		default: return cli_usage(false);
		}
	}
	if (optind + 1 != argc) {
		return cli_usage(false);
	}
	imp_init(&s.im, "pam_pkcs11", argv[optind]);
	if (load(&s, argv[optind]) != 0 || convert(&s) != 0 || imp_write(&s.im, s.output) != 0) {
		goto out;
	}
	for (size_t i = 0; i < s.mapfiles.n; i++) {
		fprintf(stderr, "certmapctl: import: wrote map file %s\n", s.mapfiles.v[i]);
	}
	if (s.im.lost) {
		fprintf(stderr, "certmapctl: import: something that affects mapping decisions was "
				"not imported (see the warnings)\n");
	}
	rc = s.im.lost ? CLI_REFUSED : CLI_OK;
out:
	sc_block_free(s.root);
	cm_strv_clear(&s.mapfiles);
	imp_clear(&s.im);
	return rc;
}

/*
 * Mapping rules: SSSD's LDAP: and LDAPU1: filter templates, and certmap's
 * LOCAL: (user names) and MAPFILE:/path: (map-file keys).
 *
 * Parsing follows libsss_certmap 2.8.2 (sss-certmap(5)) so that the same
 * rules are accepted, and LDAP:/LDAPU1: expansion gives the filter
 * sss_certmap_get_search_filter() gives, byte for byte. Like SSSD, a filter
 * uses one value per template: for a SAN type with several values, the last
 * one in the certificate. Deliberate differences:
 *  - a value certmap cannot use (embedded NUL, no text form such as
 *    x400Address/ediPartyName) fails the expansion (CERTMAP_ERR_NOT_FOUND)
 *    instead of giving a truncated or binary value;
 *  - {subject_ip_address} is the address as text;
 *  - digest conversions ({cert!sha256_u}) compare the digest name exactly
 *    (SSSD bug #6802 maps "sha1_u" to another digest and accepts "x_u").
 * LOCAL: and MAPFILE: accept every LDAPU1: template, do not LDAP-escape,
 * expand once per value of a multi-valued field, and add the conversion
 * !grid for {subject_dn}/{issuer_dn}: the DN exactly as
 * `openssl x509 -noout -subject -nameopt compat` (X509_NAME_oneline)
 * prints it, "/C=US/O=Example/CN=J\xC3\xBCrgen" (cm_name.grid, built in
 * name.c), so that grid-mapfile keys copied from OpenSSL match; a DN with
 * a value that form cannot show unambiguously (a backslash, '/', '+' ...)
 * makes the expansion fail.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/objects.h>

#include "certmap.h"
#include "rules.h"

/* Cap on the candidates one LOCAL:/MAPFILE: rule gives for one certificate. */
#define MAP_MAX_RESULTS 64

enum field {
	F_ISSUER_DN, F_SUBJECT_DN, F_CERT,
	F_RFC822, F_DNS, F_X400, F_DIRNAME, F_EDIPARTY, F_URI, F_IP, F_RID,
	F_PKINIT, F_NT, F_PRINCIPAL,
	F_SERIAL, F_SKI, F_SUBJECT_COMP, F_ISSUER_COMP, F_SID,
};

enum attr_kind { A_NONE, A_SHORT, A_RID, A_COMP };
enum conv_kind { C_NONE, C_DN, C_CERT, C_HEXDEC, C_HEX };

static const struct tdef {
	const char *name;
	enum field f;
	enum attr_kind attr;
	enum conv_kind conv;
	bool u1_only;
} tdefs[] = {
	{ "issuer_dn", F_ISSUER_DN, A_NONE, C_DN, false },
	{ "subject_dn", F_SUBJECT_DN, A_NONE, C_DN, false },
	{ "cert", F_CERT, A_NONE, C_CERT, false },
	{ "subject_rfc822_name", F_RFC822, A_SHORT, C_NONE, false },
	{ "subject_dns_name", F_DNS, A_SHORT, C_NONE, false },
	{ "subject_x400_address", F_X400, A_NONE, C_NONE, false },
	{ "subject_directory_name", F_DIRNAME, A_NONE, C_NONE, false },
	{ "subject_ediparty_name", F_EDIPARTY, A_NONE, C_NONE, false },
	{ "subject_uri", F_URI, A_NONE, C_NONE, false },
	{ "subject_ip_address", F_IP, A_NONE, C_NONE, false },
	{ "subject_registered_id", F_RID, A_NONE, C_NONE, false },
	{ "subject_pkinit_principal", F_PKINIT, A_SHORT, C_NONE, false },
	{ "subject_nt_principal", F_NT, A_SHORT, C_NONE, false },
	{ "subject_principal", F_PRINCIPAL, A_SHORT, C_NONE, false },
	{ "serial_number", F_SERIAL, A_NONE, C_HEXDEC, true },
	{ "subject_key_id", F_SKI, A_NONE, C_HEX, true },
	{ "subject_dn_component", F_SUBJECT_COMP, A_COMP, C_NONE, true },
	{ "issuer_dn_component", F_ISSUER_COMP, A_COMP, C_NONE, true },
	{ "sid", F_SID, A_RID, C_NONE, true },
};

enum dn_conv { DN_NSS_LDAP, DN_NSS_X500, DN_AD_X500, DN_AD_LDAP, DN_GRID };
enum cert_conv { CERT_BIN, CERT_BASE64, CERT_DIGEST };

struct tpl {
	const struct tdef *def;
	char *text;             /* the template as written, for messages */
	bool short_name;
	bool rid;
	enum dn_conv dn;
	enum cert_conv cert;
	EVP_MD *md;
	bool dec, upper, colon, reverse;
	char *comp_name;        /* {..._dn_component.NAME[N]} */
	int32_t comp_num;
};

struct part {
	bool is_tpl;
	char *lit;
	struct tpl t;
};

struct cm_map {
	enum cm_map_kind kind;
	char *path;
	struct part *parts;
	size_t n;
};

/* ------------------------------------------------------------ digests */

/*
 * The digest names SSSD offers: every OpenSSL message-digest name that starts
 * with a lower-case letter, is not an RSA signature alias and can be fetched.
 */
static struct cm_strv digest_names;
static pthread_once_t digest_once = PTHREAD_ONCE_INIT;

static void digest_name_cb(const OBJ_NAME *name, void *arg)
{
	if (name != NULL && name->name != NULL && islower((unsigned char)name->name[0]) &&
	    strstr(name->name, "RSA") == NULL && strstr(name->name, "rsa") == NULL) {
		(void)cm_strv_add(arg, name->name);
	}
}

/* Fetching inside OBJ_NAME_do_all() changes the table it walks (the walk
 * then stops early): collect the names first, then keep the fetchable ones. */
static void digest_list_init(void)
{
	struct cm_strv all = { 0 };

	OPENSSL_init_crypto(OPENSSL_INIT_ADD_ALL_DIGESTS | OPENSSL_INIT_LOAD_CONFIG, NULL);
	OBJ_NAME_do_all(OBJ_NAME_TYPE_MD_METH, digest_name_cb, &all);
	for (size_t i = 0; i < all.n; i++) {
		EVP_MD *md = EVP_MD_fetch(NULL, all.v[i], NULL);

		if (md != NULL) {
			(void)cm_strv_add(&digest_names, all.v[i]);
		}
		EVP_MD_free(md);
	}
	cm_strv_clear(&all);
}

static const char *digest_lookup(const char *name, size_t len)
{
	pthread_once(&digest_once, digest_list_init);
	for (size_t i = 0; i < digest_names.n; i++) {
		if (strlen(digest_names.v[i]) == len && strncasecmp(digest_names.v[i], name, len) == 0) {
			return digest_names.v[i];
		}
	}
	return NULL;
}

/* "_ucr" flags after a hex or digest conversion, in any case and order. */
static bool parse_hex_flags(const char *s, struct tpl *t)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case 'u':
		case 'U':
			t->upper = true;
			break;
		case 'c':
		case 'C':
			t->colon = true;
			break;
		case 'r':
		case 'R':
			t->reverse = true;
			break;
		default:
			return false;
		}
	}
	return true;
}

static bool parse_hex_conv(const char *conv, bool dec_ok, struct tpl *t)
{
	const char *sep = strchr(conv, '_');
	size_t len = sep == NULL ? strlen(conv) : (size_t)(sep - conv);

	if (len != 3) {
		return false;
	}
	if (strncasecmp(conv, "hex", 3) != 0) {
		if (dec_ok && sep == NULL && strncasecmp(conv, "dec", 3) == 0) {
			t->dec = true;
			return true;
		}
		return false;
	}
	return sep == NULL || parse_hex_flags(sep + 1, t);
}

static bool parse_digest_conv(const char *conv, struct tpl *t)
{
	const char *sep = strchr(conv, '_');
	size_t len = sep == NULL ? strlen(conv) : (size_t)(sep - conv);
	const char *name = digest_lookup(conv, len);

	if (name == NULL || (sep != NULL && !parse_hex_flags(sep + 1, t))) {
		return false;
	}
	t->md = EVP_MD_fetch(NULL, name, NULL);
	return t->md != NULL;
}

/* ------------------------------------------------------------ parsing */

struct mparser {
	const char *start;
	char *err;
	enum cm_map_kind kind;
};

static int merr(struct mparser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int merr(struct mparser *p, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	free(p->err);
	p->err = n < 0 ? NULL : msg;
	return p->err == NULL ? CERTMAP_ERR_NOMEM : CERTMAP_ERR_RULE;
}

/* "name", "[N]" or "name[N]" with N a non-zero 32-bit integer (SSSD's check). */
static bool parse_comp_attr(const char *attr, struct tpl *t)
{
	const char *open = strchr(attr, '[');
	const char *close;
	char *end = NULL;
	long long n;

	if (open == NULL) {
		t->comp_name = strdup(attr);
		return t->comp_name != NULL;
	}
	close = strchr(open, ']');
	if (close == NULL || close == open + 1 || close[1] != '\0') {
		return false;
	}
	errno = 0;
	n = strtoll(open + 1, &end, 10);
	if (errno != 0 || n == 0 || n < INT32_MIN || n > INT32_MAX || *end != ']') {
		return false;
	}
	t->comp_num = (int32_t)n;
	if (open != attr) {
		t->comp_name = strndup(attr, (size_t)(open - attr));
		return t->comp_name != NULL;
	}
	return true;
}

static bool check_attr(const struct tdef *d, const char *attr, struct tpl *t)
{
	if (attr == NULL) {
		return true;
	}
	switch (d->attr) {
	case A_SHORT:
		t->short_name = strcmp(attr, "short_name") == 0;
		return t->short_name;
	case A_RID:
		t->rid = strcmp(attr, "rid") == 0;
		return t->rid;
	case A_COMP:
		return parse_comp_attr(attr, t);
	case A_NONE:
	default:
		return false;
	}
}

static bool check_conv(const struct tdef *d, const char *conv, enum cm_map_kind kind, struct tpl *t)
{
	static const struct {
		const char *name;
		enum dn_conv dn;
	} dn_convs[] = {
		{ "ad_x500", DN_AD_X500 }, { "ad", DN_AD_X500 }, { "ad_ldap", DN_AD_LDAP },
		{ "nss_x500", DN_NSS_X500 }, { "nss", DN_NSS_LDAP }, { "nss_ldap", DN_NSS_LDAP },
	};
	bool u1 = kind != CM_MAP_LDAP;

	if (conv == NULL) {
		return true;
	}
	switch (d->conv) {
	case C_DN:
		for (size_t i = 0; i < CM_ARRAY_SIZE(dn_convs); i++) {
			if (strcmp(conv, dn_convs[i].name) == 0) {
				t->dn = dn_convs[i].dn;
				return true;
			}
		}
		if ((kind == CM_MAP_LOCAL || kind == CM_MAP_MAPFILE) && strcmp(conv, "grid") == 0) {
			t->dn = DN_GRID;
			return true;
		}
		return false;
	case C_CERT:
		if (strcmp(conv, "bin") == 0) {
			t->cert = CERT_BIN;
			return true;
		}
		if (strcmp(conv, "base64") == 0) {
			t->cert = CERT_BASE64;
			return true;
		}
		t->cert = CERT_DIGEST;
		return u1 && parse_digest_conv(conv, t);
	case C_HEXDEC:
		return parse_hex_conv(conv, true, t);
	case C_HEX:
		return parse_hex_conv(conv, false, t);
	case C_NONE:
	default:
		return false;
	}
}

static void tpl_clear(struct tpl *t)
{
	free(t->text);
	free(t->comp_name);
	EVP_MD_free(t->md);
	memset(t, 0, sizeof(*t));
}

/*
 * One template, "name[.attr][!conversion]", split as SSSD splits it: at
 * most one '.' and one '!', neither first; the name ends at the '.' (or at
 * the '!' when there is no '.').
 */
static int tpl_parse(struct mparser *p, const char *text, struct tpl *t)
{
	const char *dot = strchr(text, '.');
	const char *excl = strchr(text, '!');
	char *name = NULL, *attr = NULL, *conv = NULL;
	const struct tdef *d = NULL;
	int r = CERTMAP_ERR_NOMEM;

	if ((t->text = strdup(text)) == NULL) {
		goto out;
	}
	if ((dot != NULL && (strchr(dot + 1, '.') != NULL || dot == text)) ||
	    (excl != NULL && (strchr(excl + 1, '!') != NULL || excl == text))) {
		r = merr(p, "invalid template {%s}: a name, at most one '.' and one '!' expected", text);
		goto out;
	}
	if (excl != NULL && excl[1] != '\0' && (conv = strdup(excl + 1)) == NULL) {
		goto out;
	}
	if (dot != NULL && dot[1] != '\0' && dot[1] != '!') {
		attr = excl == NULL || excl < dot ? strdup(dot + 1) : strndup(dot + 1, (size_t)(excl - dot - 1));
		if (attr == NULL) {
			goto out;
		}
	}
	name = strndup(text, dot != NULL ? (size_t)(dot - text) : excl != NULL ? (size_t)(excl - text) : strlen(text));
	if (name == NULL) {
		goto out;
	}
	for (size_t i = 0; i < CM_ARRAY_SIZE(tdefs); i++) {
		if (strcmp(tdefs[i].name, name) == 0) {
			d = &tdefs[i];
		}
	}
	if (d == NULL) {
		r = merr(p, "unknown template {%s}", text);
		goto out;
	}
	if (d->u1_only && p->kind == CM_MAP_LDAP) {
		r = merr(p, "template {%s} needs an LDAPU1: rule", text);
		goto out;
	}
	t->def = d;
	if (!check_attr(d, attr, t)) {
		r = merr(p, "invalid attribute '.%s' in template {%s}", attr, text);
		goto out;
	}
	if (!check_conv(d, conv, p->kind, t)) {
		r = merr(p, "invalid conversion '!%s' in template {%s}", conv, text);
		goto out;
	}
	r = 0;
out:
	free(name);
	free(attr);
	free(conv);
	return r;
}

static struct part *add_part(struct cm_map *m)
{
	struct part *np = realloc(m->parts, (m->n + 1) * sizeof(*np));

	if (np == NULL) {
		return NULL;
	}
	m->parts = np;
	memset(&np[m->n], 0, sizeof(np[m->n]));
	return &np[m->n++];
}

static int flush(struct mparser *p, struct cm_map *m, struct cm_buf *acc, bool as_tpl)
{
	struct part *pt;
	char *s;
	int r;

	if (acc->len == 0 && !as_tpl) {
		return 0;
	}
	cm_buf_add(acc, "", 0); /* "{}" still needs its NUL */
	if ((s = cm_buf_steal(acc, NULL)) == NULL) {
		return CERTMAP_ERR_NOMEM;
	}
	cm_buf_init(acc, CM_RULE_MAX_LEN + 1);
	if ((pt = add_part(m)) == NULL) {
		free(s);
		return CERTMAP_ERR_NOMEM;
	}
	if (!as_tpl) {
		pt->lit = s;
		return 0;
	}
	pt->is_tpl = true;
	r = tpl_parse(p, s, &pt->t);
	free(s);
	return r;
}

/*
 * SSSD's template syntax: "{{" and "}}" outside a template stand for '{'
 * and '}'; a '}' outside a template ends one anyway (the text before it is
 * taken as a template, as SSSD does).
 */
static int parse_templates(struct mparser *p, const char *s, struct cm_map *m)
{
	struct cm_buf acc;
	bool in_tpl = false;
	int r = 0;

	cm_buf_init(&acc, CM_RULE_MAX_LEN + 1);
	for (const char *c = s; *c != '\0' && r == 0;) {
		if (*c == '{') {
			if (in_tpl) {
				r = merr(p, "'{' inside a template at offset %zu", (size_t)(c - p->start));
			} else if (c[1] == '{') {
				cm_buf_addc(&acc, '{');
				c += 2;
			} else {
				r = flush(p, m, &acc, false);
				in_tpl = true;
				c++;
			}
		} else if (*c == '}') {
			if (c[1] == '}' && in_tpl) {
				r = merr(p, "'}}' inside a template at offset %zu", (size_t)(c - p->start));
			} else if (c[1] == '}') {
				cm_buf_addc(&acc, '}');
				c += 2;
			} else {
				r = flush(p, m, &acc, true);
				in_tpl = false;
				c++;
			}
		} else {
			cm_buf_addc(&acc, *c);
			c++;
		}
	}
	if (r == 0 && in_tpl) {
		r = merr(p, "the rule ends inside a template");
	}
	if (r == 0) {
		r = flush(p, m, &acc, false);
	}
	cm_buf_free(&acc);
	return r;
}

void cm_map_free(struct cm_map *m)
{
	if (m == NULL) {
		return;
	}
	for (size_t i = 0; i < m->n; i++) {
		free(m->parts[i].lit);
		tpl_clear(&m->parts[i].t);
	}
	free(m->parts);
	free(m->path);
	free(m);
}

enum cm_map_kind cm_map_kind(const struct cm_map *m)
{
	return m->kind;
}

const char *cm_map_file(const struct cm_map *m)
{
	return m->kind == CM_MAP_MAPFILE ? m->path : NULL;
}

/* SSSD's prefix rule: the text before the first ':' if it is only A-Z, 0-9. */
static int map_prefix(struct mparser *p, struct cm_map *m, const char *text, const char **body)
{
	const char *colon = strchr(text, ':');
	size_t len;

	*body = text;
	m->kind = CM_MAP_LDAP;
	if (colon == NULL) {
		return 0;
	}
	for (const char *c = text; c < colon; c++) {
		if (!(isascii((unsigned char)*c) && (isdigit((unsigned char)*c) || isupper((unsigned char)*c)))) {
			return 0;
		}
	}
	len = (size_t)(colon - text);
	*body = colon + 1;
	if (len == 0 || (len == 4 && strncmp(text, "LDAP", 4) == 0)) {
		m->kind = CM_MAP_LDAP;
	} else if (len == 6 && strncmp(text, "LDAPU1", 6) == 0) {
		m->kind = CM_MAP_LDAPU1;
	} else if (len == 5 && strncmp(text, "LOCAL", 5) == 0) {
		m->kind = CM_MAP_LOCAL;
	} else if (len == 7 && strncmp(text, "MAPFILE", 7) == 0) {
		m->kind = CM_MAP_MAPFILE;
	} else {
		return merr(p, "unsupported mapping rule type '%.*s'", (int)len, text);
	}
	return 0;
}

static int map_file_path(struct mparser *p, struct cm_map *m, const char **body)
{
	const char *colon = strchr(*body, ':');

	if (colon == NULL || **body != '/') {
		return merr(p, "MAPFILE: needs an absolute path and a template: MAPFILE:/path:{template}");
	}
	if ((m->path = strndup(*body, (size_t)(colon - *body))) == NULL) {
		return CERTMAP_ERR_NOMEM;
	}
	*body = colon + 1;
	return 0;
}

int cm_map_parse(const char *text, struct cm_map **out, char **errmsg)
{
	struct mparser p = { 0 };
	struct cm_map *m = NULL;
	const char *body = NULL;
	int r;

	*out = NULL;
	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	if (text == NULL || *text == '\0') {
		text = CM_DEFAULT_MAP;
	}
	p.start = text;
	if (strlen(text) > CM_RULE_MAX_LEN) {
		r = merr(&p, "mapping rule longer than %d bytes", CM_RULE_MAX_LEN);
		goto out;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		r = CERTMAP_ERR_NOMEM;
		goto out;
	}
	if ((r = map_prefix(&p, m, text, &body)) != 0) {
		goto out;
	}
	p.kind = m->kind;
	if (m->kind == CM_MAP_MAPFILE && (r = map_file_path(&p, m, &body)) != 0) {
		goto out;
	}
	if ((m->kind == CM_MAP_LOCAL || m->kind == CM_MAP_MAPFILE) && *body == '\0') {
		r = merr(&p, "%s needs a template", m->kind == CM_MAP_LOCAL ? "LOCAL:" : "MAPFILE:");
		goto out;
	}
	if ((r = parse_templates(&p, body, m)) != 0) {
		goto out;
	}
	*out = m;
	m = NULL;
out:
	cm_map_free(m);
	if (r != 0 && errmsg != NULL) {
		*errmsg = p.err != NULL ? p.err : strdup(certmap_strerror(r));
		p.err = NULL;
	}
	free(p.err);
	return r;
}

/* ---------------------------------------------------------- expansion */

struct exp {
	const struct cm_identity *id;
	struct cm_buf *why;
	bool all;               /* every value of a multi-valued field (LOCAL/MAPFILE) */
};

static int not_found(struct exp *e, const struct tpl *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int not_found(struct exp *e, const struct tpl *t, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	if (e->why == NULL) {
		return CERTMAP_ERR_NOT_FOUND;
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0) {
		msg = NULL;
	}
	va_end(ap);
	cm_buf_printf(e->why, "{%s}: %s. ", t->text, msg != NULL ? msg : "not available");
	free(msg);
	return CERTMAP_ERR_NOT_FOUND;
}

static int add_hex(struct cm_strv *vals, const struct tpl *t, const unsigned char *p, size_t len)
{
	struct cm_buf b;
	char *s;

	cm_buf_init(&b, 0);
	for (size_t i = 0; i < len; i++) {
		size_t k = t->reverse ? len - 1 - i : i;

		if (i > 0 && t->colon) {
			cm_buf_addc(&b, ':');
		}
		cm_buf_hex(&b, p + k, 1, t->upper, '\0');
	}
	if ((s = cm_buf_steal(&b, NULL)) == NULL) {
		return CERTMAP_ERR_NOMEM;
	}
	return cm_strv_take(vals, s) == 0 ? 0 : CERTMAP_ERR_NOMEM;
}

/* "\\xx" for every byte value, four bytes apart: one copy per byte. */
#define HEXD(n) ((char)((n) < 10 ? '0' + (n) : 'a' + (n) - 10))
#define BIN1(x) { '\\', HEXD((x) >> 4), HEXD((x) & 15), 0 }
#define BIN4(x) BIN1(x), BIN1((x) + 1), BIN1((x) + 2), BIN1((x) + 3)
#define BIN16(x) BIN4(x), BIN4((x) + 4), BIN4((x) + 8), BIN4((x) + 12)
#define BIN64(x) BIN16(x), BIN16((x) + 16), BIN16((x) + 32), BIN16((x) + 48)
static const char bin_escapes[256][4] = {
	BIN64(0), BIN64(64), BIN64(128), BIN64(192),
};

/* "\\xx" per byte of the certificate into out (3 * len bytes and a NUL):
 * each copy writes one byte too many, which the next one (or the NUL)
 * overwrites. */
static void cert_bin(const unsigned char *der, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++) {
		memcpy(out + 3 * i, bin_escapes[der[i]], 4);
	}
	out[3 * len] = '\0';
}

static int expand_cert(struct exp *e, const struct tpl *t, struct cm_strv *vals)
{
	const struct cm_identity *id = e->id;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	char *s;

	switch (t->cert) {
	case CERT_DIGEST:
		if (EVP_Digest(id->der, id->der_len, md, &md_len, t->md, NULL) != 1) {
			return CERTMAP_ERR_NOMEM;
		}
		return add_hex(vals, t, md, md_len);
	case CERT_BASE64:
		if (id->der_len > INT32_MAX / 2 || (s = malloc((id->der_len + 2) / 3 * 4 + 1)) == NULL) {
			return CERTMAP_ERR_NOMEM;
		}
		EVP_EncodeBlock((unsigned char *)s, id->der, (int)id->der_len);
		return cm_strv_take(vals, s) == 0 ? 0 : CERTMAP_ERR_NOMEM;
	case CERT_BIN:
	default:
		/* "\xx" per byte, filled directly: this is the hot template of
		 * the default rule, and the certificate is up to 64 KiB. */
		if ((s = malloc(id->der_len * 3 + 1)) == NULL) {
			return CERTMAP_ERR_NOMEM;
		}
		cert_bin(id->der, id->der_len, s);
		return cm_strv_take(vals, s) == 0 ? 0 : CERTMAP_ERR_NOMEM;
	}
}

/* The RDN strings of a DN as SSSD lists them ("CN=alice", escaped as in
 * cm_name.sssd), in DER order: cm_name.sssd split at unescaped commas. */
static int dn_entries(const struct cm_name *n, struct cm_strv *out)
{
	struct cm_strv ldap = { 0 };
	const char *s = (const char *)n->sssd.data;
	size_t start = 0;
	int r = CERTMAP_ERR_NOMEM;

	for (size_t i = 0; i <= n->sssd.len && n->sssd.len > 0; i++) {
		if (i < n->sssd.len && s[i] == '\\') {
			i++;
			continue;
		}
		if (i == n->sssd.len || s[i] == ',') {
			if (cm_strv_addn(&ldap, s + start, i - start) != 0) {
				goto out;
			}
			start = i + 1;
		}
	}
	for (size_t i = ldap.n; i > 0; i--) {
		if (cm_strv_add(out, ldap.v[i - 1]) != 0) {
			goto out;
		}
	}
	r = 0;
out:
	cm_strv_clear(&ldap);
	return r;
}

/* NSS attribute names that Active Directory spells differently. */
static const char *ad_name(const char *rdn, size_t len)
{
	static const char *const map[][2] = {
		{ "ST", "S" }, { "serialNumber", "SERIALNUMBER" }, { "title", "T" },
		{ "givenName", "G" }, { "initials", "I" },
		{ "generationQualifier", "OID.2.5.4.44" },
		{ "MAIL", "OID,0.9.2342.19200300.100.1.3" }, /* sic, as SSSD */
		{ "UID", "OID.0.9.2342.19200300.100.1.1" },
		{ "OID.2.5.4.13", "Description" }, { "postalAddress", "OID.2.5.4.16" },
		{ "postalCode", "PostalCode" }, { "postOfficeBox", "POBox" },
		{ "houseIdentifier", "OID.2.5.4.51" }, { "pseudonym", "OID.2.5.4.65" },
		{ "businessCategory", "OID.2.5.4.15" }, { "name", "OID.2.5.4.41" },
	};

	for (size_t i = 0; i < CM_ARRAY_SIZE(map); i++) {
		if (strlen(map[i][0]) == len && strncmp(rdn, map[i][0], len) == 0) {
			return map[i][1];
		}
	}
	return NULL;
}

static void add_rdn(struct cm_buf *b, const char *rdn, bool ad)
{
	const char *eq = strchr(rdn, '=');
	const char *alias = ad && eq != NULL && eq != rdn ? ad_name(rdn, (size_t)(eq - rdn)) : NULL;

	if (alias != NULL) {
		cm_buf_adds(b, alias);
		cm_buf_adds(b, eq);
	} else {
		cm_buf_adds(b, rdn);
	}
}

/* The DN as X509_NAME_oneline prints it, when that form is unambiguous. */
static int dn_grid(struct exp *e, const struct tpl *t, const struct cm_name *n, struct cm_buf *b)
{
	for (size_t i = 0; i < n->n_avas; i++) {
		const struct cm_ava *a = &n->avas[i];

		if (a->grid_unusable != NULL) {
			return not_found(e, t, "the value of %s is unusable in the grid form (%s)",
					 a->type, a->grid_unusable);
		}
	}
	if (!cm_value_usable(&n->grid)) {
		return not_found(e, t, "the DN is unusable in the grid form (%s)",
				 n->grid.unusable != NULL ? n->grid.unusable : "missing");
	}
	cm_buf_add(b, n->grid.data, n->grid.len);
	return 0;
}

static int expand_dn(struct exp *e, const struct tpl *t, const struct cm_name *n, struct cm_strv *vals)
{
	struct cm_strv rdns = { 0 };
	struct cm_buf b;
	bool ad = t->dn == DN_AD_X500 || t->dn == DN_AD_LDAP;
	char *s;
	int r;

	cm_buf_init(&b, 0);
	if (!cm_value_usable(&n->sssd)) {
		r = not_found(e, t, "the DN is unusable (%s)", n->sssd.unusable != NULL ? n->sssd.unusable : "missing");
		goto out;
	}
	if (t->dn == DN_GRID) {
		if ((r = dn_grid(e, t, n, &b)) != 0) {
			goto out;
		}
	} else if (t->dn == DN_NSS_LDAP) {
		cm_buf_add(&b, n->sssd.data, n->sssd.len);
	} else {
		if ((r = dn_entries(n, &rdns)) != 0) {
			goto out;
		}
		for (size_t i = 0; i < rdns.n; i++) {
			size_t k = t->dn == DN_AD_LDAP ? rdns.n - 1 - i : i;

			if (i > 0) {
				cm_buf_addc(&b, ',');
			}
			add_rdn(&b, rdns.v[k], ad);
		}
	}
	cm_buf_add(&b, "", 0); /* an empty DN still needs its NUL */
	if ((s = cm_buf_steal(&b, NULL)) == NULL || cm_strv_take(vals, s) != 0) {
		r = CERTMAP_ERR_NOMEM;
		goto out;
	}
	r = 0;
out:
	cm_buf_free(&b);
	cm_strv_clear(&rdns);
	return r;
}

static bool rdn_is(const char *rdn, const char *name)
{
	const char *eq = strchr(rdn, '=');

	return eq != NULL && strlen(name) == (size_t)(eq - rdn) && strncasecmp(rdn, name, strlen(name)) == 0;
}

/*
 * {subject_dn_component.NAME[N]} as SSSD selects it: by name, the most
 * specific (last in DER order) RDN with that attribute; by position, 1 is
 * the most specific and -1 the least; both: the RDN at N must have NAME.
 */
static int expand_comp(struct exp *e, const struct tpl *t, const struct cm_name *n, struct cm_strv *vals)
{
	struct cm_strv rdns = { 0 };
	const char *hit = NULL;
	size_t idx;
	int r;

	if (!cm_value_usable(&n->sssd)) {
		return not_found(e, t, "the DN is unusable");
	}
	if ((r = dn_entries(n, &rdns)) != 0) {
		return r;
	}
	if (rdns.n == 0 || (size_t)llabs(t->comp_num) > rdns.n) {
		r = not_found(e, t, "the DN has %zu components", rdns.n);
		goto out;
	}
	if (t->comp_num == 0 && t->comp_name != NULL) {
		for (size_t i = rdns.n; i > 0 && hit == NULL; i--) {
			if (rdn_is(rdns.v[i - 1], t->comp_name)) {
				hit = rdns.v[i - 1];
			}
		}
	} else {
		idx = t->comp_num == 0 ? rdns.n - 1
		      : t->comp_num > 0 ? rdns.n - (size_t)t->comp_num
					: (size_t)(-(int64_t)t->comp_num) - 1;
		if (strchr(rdns.v[idx], '=') != NULL &&
		    (t->comp_name == NULL || rdn_is(rdns.v[idx], t->comp_name))) {
			hit = rdns.v[idx];
		}
	}
	if (hit == NULL) {
		r = not_found(e, t, "no such DN component");
		goto out;
	}
	r = cm_strv_add(vals, strchr(hit, '=') + 1) == 0 ? 0 : CERTMAP_ERR_NOMEM;
out:
	cm_strv_clear(&rdns);
	return r;
}

static bool san_for_field(enum field f, const struct cm_san *s)
{
	static const struct {
		enum field f;
		enum cm_san_type type;
	} plain[] = {
		{ F_RFC822, CM_SAN_RFC822 }, { F_DNS, CM_SAN_DNS }, { F_X400, CM_SAN_X400 },
		{ F_DIRNAME, CM_SAN_DIRNAME }, { F_EDIPARTY, CM_SAN_EDIPARTY },
		{ F_URI, CM_SAN_URI }, { F_IP, CM_SAN_IP }, { F_RID, CM_SAN_RID },
	};
	bool other = s->type == CM_SAN_OTHER_NAME;

	for (size_t i = 0; i < CM_ARRAY_SIZE(plain); i++) {
		if (plain[i].f == f) {
			return s->type == plain[i].type;
		}
	}
	if (f == F_PKINIT) {
		return other && s->other_kind == CM_OTHER_KRB5;
	}
	if (f == F_NT) {
		return other && s->other_kind == CM_OTHER_UPN;
	}
	if (f == F_PRINCIPAL) {
		return other && (s->other_kind == CM_OTHER_KRB5 || s->other_kind == CM_OTHER_UPN);
	}
	return false;
}

/* One SAN value; .short_name cuts at the first '@' ('.' for dNSName) like SSSD. */
static int san_value(struct exp *e, const struct tpl *t, const struct cm_san *s, struct cm_strv *vals)
{
	const struct cm_value *v = &s->text;
	const char *cut;
	size_t len = v->len;

	if (!cm_value_usable(v)) {
		return not_found(e, t, "the value is unusable (%s)", v->unusable != NULL ? v->unusable : "no text form");
	}
	if (t->short_name) {
		cut = memchr(v->data, t->def->f == F_DNS ? '.' : '@', v->len);
		if (cut != NULL) {
			len = (size_t)(cut - (const char *)v->data);
		}
	}
	return cm_strv_addn(vals, (const char *)v->data, len) == 0 ? 0 : CERTMAP_ERR_NOMEM;
}

static int expand_san(struct exp *e, const struct tpl *t, struct cm_strv *vals)
{
	const struct cm_identity *id = e->id;
	size_t found = 0, before = vals->n;
	int r;

	/* SSSD uses the last value of the type in certificate order. */
	for (size_t i = id->n_sans; i > 0; i--) {
		const struct cm_san *s = &id->sans[i - 1];

		if (!san_for_field(t->def->f, s)) {
			continue;
		}
		found++;
		r = san_value(e, t, s, vals);
		if (r == CERTMAP_ERR_NOMEM || (r != 0 && !e->all)) {
			return r;
		}
		if (!e->all) {
			return 0;
		}
	}
	if (found == 0) {
		return not_found(e, t, "the certificate has no such SAN");
	}
	if (vals->n == before) {
		return CERTMAP_ERR_NOT_FOUND;
	}
	/* Certificate order for the candidates. */
	for (size_t i = before, j = vals->n - 1; i < j; i++, j--) {
		char *tmp = vals->v[i];

		vals->v[i] = vals->v[j];
		vals->v[j] = tmp;
	}
	return 0;
}

static int expand_number(struct exp *e, const struct tpl *t, struct cm_strv *vals)
{
	const struct cm_identity *id = e->id;

	if (t->def->f == F_SKI) {
		if (!id->has_ski || id->ski_len == 0) {
			return not_found(e, t, "the certificate has no subject key identifier");
		}
		return add_hex(vals, t, id->ski, id->ski_len);
	}
	if (id->serial_len == 0 || id->serial == NULL) {
		return not_found(e, t, "the serial number is not available");
	}
	if (t->dec) {
		if (id->serial_dec == NULL) {
			return not_found(e, t, "the serial number is not available");
		}
		return cm_strv_add(vals, id->serial_dec) == 0 ? 0 : CERTMAP_ERR_NOMEM;
	}
	return add_hex(vals, t, id->serial, id->serial_len);
}

static int expand_sid(struct exp *e, const struct tpl *t, struct cm_strv *vals)
{
	const struct cm_value *v = &e->id->sid;
	const char *dash;

	if (!e->id->has_sid || !cm_value_usable(v)) {
		return not_found(e, t, "the certificate has no usable SID extension");
	}
	if (!t->rid) {
		return cm_strv_add(vals, (const char *)v->data) == 0 ? 0 : CERTMAP_ERR_NOMEM;
	}
	dash = strrchr((const char *)v->data, '-');
	if (dash == NULL || dash[1] == '\0') {
		return not_found(e, t, "the SID has no RID");
	}
	return cm_strv_add(vals, dash + 1) == 0 ? 0 : CERTMAP_ERR_NOMEM;
}

/* Appends the value(s) of one template to vals, unescaped. */
static int tpl_values(struct exp *e, const struct tpl *t, struct cm_strv *vals)
{
	switch (t->def->f) {
	case F_ISSUER_DN:
		return expand_dn(e, t, &e->id->issuer, vals);
	case F_SUBJECT_DN:
		return expand_dn(e, t, &e->id->subject, vals);
	case F_CERT:
		return expand_cert(e, t, vals);
	case F_SERIAL:
	case F_SKI:
		return expand_number(e, t, vals);
	case F_SUBJECT_COMP:
		return expand_comp(e, t, &e->id->subject, vals);
	case F_ISSUER_COMP:
		return expand_comp(e, t, &e->id->issuer, vals);
	case F_SID:
		return expand_sid(e, t, vals);
	case F_RFC822:
	case F_DNS:
	case F_X400:
	case F_DIRNAME:
	case F_EDIPARTY:
	case F_URI:
	case F_IP:
	case F_RID:
	case F_PKINIT:
	case F_NT:
	case F_PRINCIPAL:
	default:
		return expand_san(e, t, vals);
	}
}

/* The filter's size when its templates are {cert!bin} only (the default
 * rule's), else a lower bound: one allocation of the right size instead
 * of growing through 256, 512 ... for a filter three times the
 * certificate. */
static size_t ldap_size_hint(const struct cm_map *m, const struct cm_identity *id)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n; i++) {
		const struct part *pt = &m->parts[i];

		if (!pt->is_tpl) {
			n += strlen(pt->lit);
		} else if (pt->t.def->f == F_CERT && pt->t.cert == CERT_BIN) {
			n += 3 * id->der_len;
		}
	}
	return n;
}

static int expand_ldap(const struct cm_map *m, struct exp *e, struct cm_strv *out)
{
	struct cm_buf b;
	char *s = NULL;
	int r = 0;

	cm_buf_init(&b, 0);
	/* A hint over the cap fails here as the filter itself would below. */
	(void)cm_buf_room(&b, ldap_size_hint(m, e->id));
	for (size_t i = 0; i < m->n && r == 0; i++) {
		const struct part *pt = &m->parts[i];
		struct cm_strv vals = { 0 };

		if (!pt->is_tpl) {
			cm_buf_adds(&b, pt->lit);
			continue;
		}
		/* {cert!bin}, the default rule's: written in place (3 KiB or more). */
		if (pt->t.def->f == F_CERT && pt->t.cert == CERT_BIN) {
			char *room = cm_buf_room(&b, 3 * e->id->der_len);

			if (room != NULL) {
				cert_bin(e->id->der, e->id->der_len, room);
				b.len += 3 * e->id->der_len;
			}
			continue;
		}
		if ((r = tpl_values(e, &pt->t, &vals)) == 0) {
			/* {cert} values are already filter-safe, as in SSSD. */
			if (pt->t.def->f == F_CERT) {
				cm_buf_add(&b, vals.v[0], pt->t.cert == CERT_BIN ?
					   3 * e->id->der_len : strlen(vals.v[0]));
			} else {
				cm_ldap_escape(&b, (const unsigned char *)vals.v[0], strlen(vals.v[0]));
			}
		}
		cm_strv_clear(&vals);
	}
	if (r == 0) {
		cm_buf_add(&b, "", 0); /* an empty filter still needs its NUL */
		if ((s = cm_buf_steal(&b, NULL)) == NULL) {
			r = CERTMAP_ERR_TOO_LARGE;
		} else if (cm_strv_take(out, s) != 0) {
			r = CERTMAP_ERR_NOMEM;
		}
	}
	cm_buf_free(&b);
	return r;
}

/* Every combination of prefix x value; more than MAP_MAX_RESULTS is an
 * error, not a silent cut, so that no decision rests on part of them. */
static int combine(struct exp *e, struct cm_strv *acc, const struct cm_strv *vals)
{
	struct cm_strv next = { 0 };
	int r = CERTMAP_ERR_NOMEM;

	for (size_t i = 0; i < acc->n; i++) {
		for (size_t k = 0; k < vals->n; k++) {
			char *s;

			if (next.n == MAP_MAX_RESULTS) {
				if (e->why != NULL) {
					cm_buf_printf(e->why, "more than %d combinations of values. ",
						      MAP_MAX_RESULTS);
				}
				r = CERTMAP_ERR_TOO_LARGE;
				goto out;
			}
			if ((s = cm_asprintf("%s%s", acc->v[i], vals->v[k])) == NULL ||
			    cm_strv_take(&next, s) != 0) {
				goto out;
			}
		}
	}
	cm_strv_clear(acc);
	*acc = next;
	next = (struct cm_strv){ 0 };
	r = 0;
out:
	cm_strv_clear(&next);
	return r;
}

static int expand_multi(const struct cm_map *m, struct exp *e, struct cm_strv *acc)
{
	int r;

	if (cm_strv_add(acc, "") != 0) {
		return CERTMAP_ERR_NOMEM;
	}
	for (size_t i = 0; i < m->n; i++) {
		const struct part *pt = &m->parts[i];
		struct cm_strv vals = { 0 };

		if (!pt->is_tpl) {
			r = cm_strv_add(&vals, pt->lit) == 0 ? 0 : CERTMAP_ERR_NOMEM;
		} else {
			r = tpl_values(e, &pt->t, &vals);
		}
		if (r == 0) {
			r = combine(e, acc, &vals);
		}
		cm_strv_clear(&vals);
		if (r != 0) {
			return r;
		}
	}
	return 0;
}

static int keep_results(const struct cm_map *m, struct exp *e, const struct cm_strv *acc, struct cm_strv *out)
{
	size_t kept = 0;

	for (size_t i = 0; i < acc->n; i++) {
		const char *s = acc->v[i];

		if (m->kind == CM_MAP_LOCAL && !cm_username_valid(s, strlen(s))) {
			if (e->why != NULL) {
				cm_buf_adds(e->why, "dropped '");
				cm_buf_add_escaped(e->why, (const unsigned char *)s, strlen(s), 100);
				cm_buf_adds(e->why, "': not a valid user name. ");
			}
			continue;
		}
		if (cm_strv_contains(out, s)) {
			continue;
		}
		if (cm_strv_add(out, s) != 0) {
			return CERTMAP_ERR_NOMEM;
		}
		kept++;
	}
	if (kept == 0) {
		if (e->why != NULL) {
			cm_buf_adds(e->why, "the mapping rule gives no usable value. ");
		}
		return CERTMAP_ERR_NOT_FOUND;
	}
	return 0;
}

int cm_map_expand(const struct cm_map *m, const struct cm_identity *id, struct cm_strv *out, struct cm_buf *why)
{
	struct exp e = { .id = id, .why = why, .all = false };
	struct cm_strv acc = { 0 };
	struct cm_strv res = { 0 };
	int r;

	if (m->kind == CM_MAP_LDAP || m->kind == CM_MAP_LDAPU1) {
		/* One filter, added to out only when complete. */
		return expand_ldap(m, &e, out);
	}
	e.all = true;
	r = expand_multi(m, &e, &acc);
	if (r == 0) {
		r = keep_results(m, &e, &acc, &res);
	}
	if (r != 0) {
		goto out;
	}
	for (size_t i = 0; i < res.n; i++) {
		/* Hand each string over: a {cert!bin} filter is three times the
		 * certificate. */
		char *v = res.v[i];

		res.v[i] = NULL;
		if (cm_strv_take(out, v) != 0) {
			r = CERTMAP_ERR_NOMEM;
			goto out;
		}
	}
out:
	cm_strv_clear(&acc);
	cm_strv_clear(&res);
	return r;
}

bool cm_username_valid(const char *s, size_t len)
{
	if (s == NULL || len == 0 || len > 256 || s[0] == '-' || s[0] == '+') {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == '/' || c == ':' || c == ',' || c == ' ') {
			return false;
		}
	}
	return true;
}

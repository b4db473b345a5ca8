/*
 * Matching rules of sss-certmap(5): "[KRB5:][&&|||]<COMPONENT>value...".
 *
 * The reference is the behaviour of libsss_certmap 2.8.2, including its
 * quirks (abbreviated SAN type names, every value of a SAN type must match,
 * a SAN type without values never matches, a certificate without a key
 * usage extension has every key usage). The deliberate differences are:
 * a value certmap cannot use (embedded NUL, bad encoding) never matches,
 * <SUBJECT>/<ISSUER> are also tried against the UTF-8 form of the DN,
 * <KU> accepts numbers, an empty <EKU> list is an error, and iPAddress
 * values are matched as text.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "certmap.h"
#include "rules.h"

enum comp_kind {
	COMP_ISSUER,
	COMP_SUBJECT,
	COMP_KU,
	COMP_EKU,
	COMP_SAN,
};

/* SAN selectors, in the order SSSD tries abbreviations against them. */
enum san_sel {
	SAN_SEL_OTHER_NAME = 0,
	SAN_SEL_RFC822,
	SAN_SEL_DNS,
	SAN_SEL_X400,
	SAN_SEL_DIRNAME,
	SAN_SEL_EDIPARTY,
	SAN_SEL_URI,
	SAN_SEL_IP,
	SAN_SEL_RID,
	SAN_SEL_PKINIT,
	SAN_SEL_NT,
	SAN_SEL_PRINCIPAL,
	SAN_SEL_STRING_OTHER,   /* "stringOtherName" or a dotted OID */
};

static const struct {
	const char *name;
	enum san_sel sel;
	bool is_blob;           /* value is base64, compared as bytes */
} san_names[] = {
	{ "otherName", SAN_SEL_OTHER_NAME, true },
	{ "rfc822Name", SAN_SEL_RFC822, false },
	{ "dNSName", SAN_SEL_DNS, false },
	{ "x400Address", SAN_SEL_X400, true },
	{ "directoryName", SAN_SEL_DIRNAME, false },
	{ "ediPartyName", SAN_SEL_EDIPARTY, true },
	{ "uniformResourceIdentifier", SAN_SEL_URI, false },
	{ "iPAddress", SAN_SEL_IP, false },
	{ "registeredID", SAN_SEL_RID, false },
	{ "pkinitSAN", SAN_SEL_PKINIT, false },
	{ "ntPrincipalName", SAN_SEL_NT, false },
	{ "Principal", SAN_SEL_PRINCIPAL, false },
	{ "stringOtherName", SAN_SEL_STRING_OTHER, false },
};

struct comp {
	/* What a rule that does not match looks at first, together. */
	enum comp_kind kind;
	/* The expression is '^', printable ASCII without special characters,
	 * '$': it matches exactly the prefix, and regexec is not needed. */
	bool exact;
	bool has_re;
	/* A literal every match must start with ("^CN=Example CA" gives
	 * "CN=Example CA"): most rules of a large configuration fail on it,
	 * with a memcmp instead of a regexec. NULL when there is none. Its
	 * first bytes are kept here too (head), so that a value differing
	 * there is told without reading the prefix. */
	char *prefix;
	size_t prefix_len;
	unsigned char head[8];
	size_t head_len;
	char *text;             /* the component as written, for messages */
	regex_t re;
	uint32_t ku;
	struct cm_strv oids;
	enum san_sel san;
	bool san_typed;         /* written <SAN:type>, not <SAN> */
	char *oid;              /* SAN_SEL_STRING_OTHER given as an OID */
	unsigned char *blob;
	size_t blob_len;
};

struct cm_match {
	bool is_or;
	struct comp *comps;     /* after parsing: inline, right after this */
	size_t n;
	bool comps_inline;
	struct comp inline_comps[];
};

static void comp_clear(struct comp *c)
{
	free(c->text);
	free(c->prefix);
	if (c->has_re) {
		regfree(&c->re);
	}
	cm_strv_clear(&c->oids);
	free(c->oid);
	free(c->blob);
}

void cm_match_free(struct cm_match *m)
{
	if (m == NULL) {
		return;
	}
	for (size_t i = 0; i < m->n; i++) {
		comp_clear(&m->comps[i]);
	}
	if (!m->comps_inline) {
		free(m->comps);
	}
	free(m);
}

/* ------------------------------------------------------------ parsing */

struct parser {
	const char *start;
	const char *cur;
	char *err;
};

static int perr(struct parser *p, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Stores "<message> at offset N" as the parse error; returns CERTMAP_ERR_RULE. */
static int perr(struct parser *p, const char *at, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		return CERTMAP_ERR_NOMEM;
	}
	free(p->err);
	p->err = cm_asprintf("%s at offset %zu", msg, (size_t)(at - p->start));
	free(msg);
	return p->err == NULL ? CERTMAP_ERR_NOMEM : CERTMAP_ERR_RULE;
}

static bool cm_is_dotted_decimal(const char *s, size_t len)
{
	bool has_dot = false;

	if (len == 0 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[len - 1])) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			has_dot = true;
		} else if (!isdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return has_dot;
}

/* The value of a component runs to the next '<' or the end; SSSD rejects an empty one. */
static int get_value(struct parser *p, const char *what, char **out)
{
	const char *end = strchr(p->cur, '<');
	size_t len = end == NULL ? strlen(p->cur) : (size_t)(end - p->cur);

	*out = NULL;
	if (len == 0) {
		return perr(p, p->cur, "missing value for %s", what);
	}
	*out = strndup(p->cur, len);
	if (*out == NULL) {
		return CERTMAP_ERR_NOMEM;
	}
	p->cur += len;
	return 0;
}

/* Splits a comma list, trimming blanks and skipping empty items, as SSSD does. */
static int split_list(const char *s, struct cm_strv *out)
{
	while (*s != '\0') {
		const char *comma = strchr(s, ',');
		const char *e = comma == NULL ? s + strlen(s) : comma;
		const char *b = s;

		while (b < e && isspace((unsigned char)*b)) {
			b++;
		}
		while (e > b && isspace((unsigned char)e[-1])) {
			e--;
		}
		if (e > b && cm_strv_addn(out, b, (size_t)(e - b)) != 0) {
			return CERTMAP_ERR_NOMEM;
		}
		if (comma == NULL) {
			break;
		}
		s = comma + 1;
	}
	return 0;
}

/*
 * glibc's regcomp() needs memory exponential in stacked repetitions
 * ("a+++++..."), so a rule could exhaust memory when the configuration is
 * loaded. certmap rejects a repetition operator that directly follows
 * another one (outside a bracket expression); SSSD accepts them.
 */
static bool regex_stacked_repeat(const char *re)
{
	bool prev_repeat = false;
	bool in_bracket = false;

	for (const char *c = re; *c != '\0'; c++) {
		bool repeat = false;

		if (in_bracket) {
			in_bracket = *c != ']' || c[-1] == '[' || (c[-1] == '^' && c[-2] == '[');
		} else if (*c == '\\' && c[1] != '\0') {
			c++;
		} else if (*c == '[') {
			in_bracket = true;
		} else if (*c == '*' || *c == '+' || *c == '?' || *c == '{') {
			if (prev_repeat) {
				return true;
			}
			repeat = true;
			if (*c == '{') {
				c += strcspn(c, "}");
				if (*c == '\0') {
					return false;
				}
			}
		}
		prev_repeat = repeat;
	}
	return false;
}

/*
 * glibc's regcomp() copies a group once per count of a bounded repetition
 * and nests the optional copies, so "((a{1,100}){1,100}){1,100}" builds a
 * million positions: 1.2 GB and 1.2 s, on every login that loads the
 * configuration in-process; "x{0,32767}" alone takes 8 GB and 22 s. The
 * cost is linear in the positions regcomp() builds and quadratic in those
 * that may be skipped or repeated (their epsilon closures), so before
 * regcomp() certmap bounds both:
 * - positions: a character, bracket expression, anchor or '|' counts 1, a
 *   group its contents plus 1, X* and X? X plus 1, X+ twice X plus 1, X{m}
 *   m times X, X{m,n} and X{,n} n times X, X{m,} m + 1 times X: at most
 *   CM_REGEX_MAX_SIZE (so any regex without repetition passes);
 * - optional positions: those inside X*, X?, the second copy of X+, the
 *   n - m optional copies of X{m,n}, plus the optional ones inside
 *   required copies: at most CM_REGEX_MAX_OPTIONAL.
 * Measured with glibc 2.36, the worst shapes at the limits take about
 * 12 MB and 35 ms to compile.
 */
#define CM_REGEX_MAX_SIZE 10000
#define CM_REGEX_MAX_OPTIONAL 1000
#define RE_SIZE_CAP ((uint64_t)1 << 40)

struct re_cost {
	uint64_t size;          /* positions */
	uint64_t opt;           /* of which optional or repeated */
};

struct re_size {
	const char *p;          /* the cursor */
	const char *culprit;    /* the first repetition that passes a limit */
	size_t culprit_len;
};

static uint64_t re_add(uint64_t a, uint64_t b)
{
	return a + b > RE_SIZE_CAP ? RE_SIZE_CAP : a + b;
}

static uint64_t re_mul(uint64_t a, uint64_t b)
{
	return b != 0 && a > RE_SIZE_CAP / b ? RE_SIZE_CAP : a * b;
}

static bool re_too_big(struct re_cost c)
{
	return c.size > CM_REGEX_MAX_SIZE || c.opt > CM_REGEX_MAX_OPTIONAL;
}

/* Past a bracket expression at p ('['), or NULL when it is not closed. */
static const char *re_bracket(const char *p)
{
	p++;
	if (*p == '^') {
		p++;
	}
	if (*p == ']') {
		p++;
	}
	while (*p != '\0' && *p != ']') {
		if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			char close[3] = { p[1], ']', '\0' };
			const char *e = strstr(p + 2, close);

			if (e == NULL) {
				return NULL;
			}
			p = e + 2;
			continue;
		}
		p++;
	}
	return *p == ']' ? p + 1 : NULL;
}

/* Reads a number of at most 9 digits (glibc refuses counts over 32767). */
static const char *re_count(const char *p, uint64_t *n, bool *any)
{
	*n = 0;
	*any = false;
	while (*p >= '0' && *p <= '9') {
		*n = *n < 1000000000 ? *n * 10 + (uint64_t)(*p - '0') : *n;
		*any = true;
		p++;
	}
	return p;
}

/*
 * The cost of x under the repetition at p; sets *end past it. Returns
 * false when p starts no repetition (a '{' that is no interval is a
 * character for this count; regcomp() judges it).
 */
static bool re_repeat(const char *p, const char **end, struct re_cost *x)
{
	uint64_t m = 0, n = 0;
	bool has_m, has_n, comma;

	*end = p + 1;
	switch (*p) {
	case '*':
	case '?':
		x->size = re_add(x->size, 1);
		x->opt = x->size;
		return true;
	case '+':
		/* glibc builds X+ as X X*. */
		x->opt = re_add(x->size, re_add(x->opt, 1));
		x->size = re_add(re_mul(x->size, 2), 1);
		return true;
	case '{':
		break;
	default:
		return false;
	}
	p = re_count(p + 1, &m, &has_m);
	comma = *p == ',';
	if (comma) {
		p = re_count(p + 1, &n, &has_n);
	} else {
		n = m;
		has_n = has_m;
	}
	if (*p != '}' || (!has_m && !has_n)) {
		return false;
	}
	*end = p + 1;
	if (comma && !has_n) {
		n = m + 1; /* X{m,}: m copies and a starred one */
	}
	n = n > m ? n : m;
	x->opt = re_add(re_mul(x->opt, m), re_mul(x->size, n - m));
	x->size = re_mul(x->size, n > 0 ? n : 1);
	return true;
}

/* The cost of an alternation, up to the ')' that closes the group. */
static struct re_cost re_alt(struct re_size *r, bool in_group)
{
	struct re_cost total = { 0, 0 }, last = { 0, 0 };

	while (*r->p != '\0' && !(in_group && *r->p == ')')) {
		const char *op = r->p, *end = NULL;
		struct re_cost grown = last;

		if (re_repeat(r->p, &end, &grown)) {
			total.size = re_add(total.size - last.size, grown.size);
			total.opt = re_add(total.opt - last.opt, grown.opt);
			last = grown;
			if (re_too_big(grown) && r->culprit == NULL) {
				r->culprit = op;
				r->culprit_len = (size_t)(end - op);
			}
			r->p = end;
			continue;
		}
		if (*r->p == '(') {
			r->p++;
			last = re_alt(r, true);
			last.size = re_add(last.size, 1);
			if (*r->p == ')') {
				r->p++;
			}
		} else if (*r->p == '[') {
			const char *e = re_bracket(r->p);

			r->p = e != NULL ? e : r->p + 1;
			last = (struct re_cost){ 1, 0 };
		} else {
			/* After '|' a repetition has no operand. */
			last = (struct re_cost){ *r->p == '|' ? 0 : 1, 0 };
			r->p += *r->p == '\\' && r->p[1] != '\0' ? 2 : 1;
			total.size = re_add(total.size, 1);
			continue;
		}
		total.size = re_add(total.size, last.size);
		total.opt = re_add(total.opt, last.opt);
	}
	return total;
}

/* Whether the extended regex re is within the limits above; *culprit and
 * *culprit_len get the first repetition that passes one (or NULL). */
static bool regex_size_ok(const char *re, const char **culprit, size_t *culprit_len)
{
	/* Outside a group a ')' that closes nothing is one more character. */
	struct re_size r = { re, NULL, 0 };
	struct re_cost total = re_alt(&r, false);

	*culprit = r.culprit;
	*culprit_len = r.culprit_len;
	return !re_too_big(total);
}

/*
 * The literal that starts every match of an anchored expression without
 * alternation: the characters after '^' up to the first special one, less
 * the last if a quantifier follows it ("^ab*" may match "a").
 */
static void regex_literal_prefix(struct comp *c)
{
	const char *t = c->text;
	size_t n = 0;

	if (t[0] != '^' || strchr(t, '|') != NULL) {
		return;
	}
	t++;
	while (t[n] != '\0' && strchr(".[]()*+?{}|^$\\", t[n]) == NULL) {
		n++;
	}
	if (n > 0 && t[n] != '\0' && strchr("*+?{", t[n]) != NULL) {
		n--;
	}
	if (n > 0 && (c->prefix = strndup(t, n)) != NULL) {
		c->prefix_len = n;
		c->head_len = n < sizeof(c->head) ? n : sizeof(c->head);
		memcpy(c->head, c->prefix, c->head_len);
		c->exact = t[n] == '$' && t[n + 1] == '\0';
		for (size_t i = 0; i < n; i++) {
			c->exact = c->exact && t[i] >= 0x20 && t[i] <= 0x7e;
		}
	}
}

static int compile_regex(struct parser *p, struct comp *c, const char *what, const char *at)
{
	const char *culprit = NULL;
	size_t culprit_len = 0;
	char msg[128];
	int r;

	if (regex_stacked_repeat(c->text)) {
		return perr(p, at, "invalid regex in %s: stacked repetition operators", what);
	}
	if (!regex_size_ok(c->text, &culprit, &culprit_len)) {
		if (culprit == NULL) {
			return perr(p, at, "regex in %s too large for regcomp(): over %d positions "
				    "or %d optional ones", what, CM_REGEX_MAX_SIZE, CM_REGEX_MAX_OPTIONAL);
		}
		return perr(p, at + (culprit - c->text),
			    "regex in %s too large for regcomp(): the repetition '%.*s' expands it "
			    "over %d positions or %d optional ones (nested or large repetition counts)",
			    what, (int)culprit_len, culprit, CM_REGEX_MAX_SIZE, CM_REGEX_MAX_OPTIONAL);
	}
	r = regcomp(&c->re, c->text, REG_EXTENDED | REG_NOSUB);
	if (r != 0) {
		regerror(r, &c->re, msg, sizeof(msg));
		free(p->err);
		p->err = cm_asprintf("invalid regex in %s at offset %zu: %s", what,
				     (size_t)(at - p->start), msg);
		return p->err == NULL ? CERTMAP_ERR_NOMEM : CERTMAP_ERR_RULE;
	}
	c->has_re = true;
	regex_literal_prefix(c);
	return 0;
}

/* certmap accepts a number (decimal or 0x hex) besides the names SSSD knows. */
static bool parse_ku_number(const char *s, uint32_t *bits)
{
	char *end = NULL;
	unsigned long v;

	if (!isdigit((unsigned char)s[0])) {
		return false;
	}
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno != 0 || *end != '\0' || v > 0xffff) {
		return false;
	}
	*bits = (uint32_t)v;
	return true;
}

static int parse_ku(struct parser *p, struct comp *c, const char *at)
{
	struct cm_strv items = { 0 };
	int r;

	if ((r = split_list(c->text, &items)) != 0) {
		goto out;
	}
	for (size_t i = 0; i < items.n; i++) {
		uint32_t bits = cm_ku_bit_icase(items.v[i]);

		if (bits != 0) {
			c->ku |= bits;
		} else if (parse_ku_number(items.v[i], &bits)) {
			c->ku |= bits;
		} else {
			r = perr(p, at, "unknown KU value '%s'", items.v[i]);
			goto out;
		}
	}
	r = 0;
out:
	cm_strv_clear(&items);
	return r;
}

static int parse_eku(struct parser *p, struct comp *c, const char *at)
{
	struct cm_strv items = { 0 };
	int r;

	if ((r = split_list(c->text, &items)) != 0) {
		goto out;
	}
	/* SSSD 2.8.2 crashes on an empty list; certmap refuses it. */
	if (items.n == 0) {
		r = perr(p, at, "empty EKU list");
		goto out;
	}
	for (size_t i = 0; i < items.n; i++) {
		const char *oid = cm_eku_oid_icase(items.v[i]);

		if (oid == NULL && cm_is_dotted_decimal(items.v[i], strlen(items.v[i]))) {
			oid = items.v[i];
		}
		if (oid == NULL) {
			r = perr(p, at, "unknown EKU value '%s'", items.v[i]);
			goto out;
		}
		if (cm_strv_add(&c->oids, oid) != 0) {
			r = CERTMAP_ERR_NOMEM;
			goto out;
		}
	}
	r = 0;
out:
	cm_strv_clear(&items);
	return r;
}

/* Strict base64 (RFC 4648, padding optional); returns false on anything else. */
static bool b64_decode(const char *s, unsigned char **out, size_t *out_len)
{
	size_t len = strlen(s), n = 0;
	uint32_t acc = 0;
	int bits = 0;
	unsigned char *buf = malloc(len / 4 * 3 + 3);

	if (buf == NULL) {
		return false;
	}
	while (len > 0 && s[len - 1] == '=') {
		len--;
	}
	for (size_t i = 0; i < len; i++) {
		const char *tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		const char *q = s[i] == '\0' ? NULL : strchr(tab, s[i]);

		if (q == NULL) {
			free(buf);
			return false;
		}
		acc = (acc << 6) | (uint32_t)(q - tab);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[n++] = (unsigned char)(acc >> bits);
		}
	}
	if (n == 0) {
		free(buf);
		return false;
	}
	*out = buf;
	*out_len = n;
	return true;
}

static int parse_san_type(struct parser *p, struct comp *c)
{
	const char *end = strchr(p->cur, '>');
	size_t len;
	size_t i;

	if (end == NULL) {
		return perr(p, p->cur, "missing '>' after <SAN:");
	}
	len = (size_t)(end - p->cur);
	c->san = SAN_SEL_PRINCIPAL;
	/* "<SAN:>" is "<SAN>", as in SSSD. */
	c->san_typed = len > 0;
	if (len == 0) {
		p->cur = end + 1;
		return 0;
	}
	/* SSSD accepts any case-insensitive prefix of a type name. */
	for (i = 0; i < CM_ARRAY_SIZE(san_names); i++) {
		if (strncasecmp(p->cur, san_names[i].name, len) == 0) {
			break;
		}
	}
	if (i < CM_ARRAY_SIZE(san_names)) {
		c->san = san_names[i].sel;
	} else if (cm_is_dotted_decimal(p->cur, len)) {
		c->san = SAN_SEL_STRING_OTHER;
		c->oid = strndup(p->cur, len);
		if (c->oid == NULL) {
			return CERTMAP_ERR_NOMEM;
		}
	} else {
		char *name = strndup(p->cur, len);
		int r;

		if (name == NULL) {
			return CERTMAP_ERR_NOMEM;
		}
		r = perr(p, p->cur, "unknown SAN type '%s'", name);
		free(name);
		return r;
	}
	p->cur = end + 1;
	return 0;
}

/*
 * Appends the component's name as traces and errors print it, with the
 * SAN type's full name even when the rule abbreviates it
 * ("<SAN:ntPrincipalName>" for "<SAN:ntPrincipal>"), or its OID.
 */
static void comp_name(const struct comp *c, struct cm_buf *b)
{
	const char *type = NULL;

	switch (c->kind) {
	case COMP_ISSUER:
		cm_buf_adds(b, "<ISSUER>");
		return;
	case COMP_SUBJECT:
		cm_buf_adds(b, "<SUBJECT>");
		return;
	case COMP_KU:
		cm_buf_adds(b, "<KU>");
		return;
	case COMP_EKU:
		cm_buf_adds(b, "<EKU>");
		return;
	case COMP_SAN:
	default:
		break;
	}
	for (size_t i = 0; i < CM_ARRAY_SIZE(san_names) && type == NULL; i++) {
		if (san_names[i].sel == c->san) {
			type = san_names[i].name;
		}
	}
	if (c->oid != NULL) {
		type = c->oid;
	}
	if (!c->san_typed || type == NULL) {
		cm_buf_adds(b, "<SAN>");
		return;
	}
	cm_buf_adds(b, "<SAN:");
	cm_buf_adds(b, type);
	cm_buf_addc(b, '>');
}

static bool san_is_blob(enum san_sel sel)
{
	return sel == SAN_SEL_OTHER_NAME || sel == SAN_SEL_X400 || sel == SAN_SEL_EDIPARTY;
}

static int parse_san(struct parser *p, struct comp *c, bool typed)
{
	struct cm_buf name;
	char *what = NULL;
	const char *at;
	int r;

	c->san = SAN_SEL_PRINCIPAL;
	if (typed && (r = parse_san_type(p, c)) != 0) {
		return r;
	}
	cm_buf_init(&name, 0);
	comp_name(c, &name);
	if ((what = cm_buf_steal(&name, NULL)) == NULL) {
		return CERTMAP_ERR_NOMEM;
	}
	at = p->cur;
	if ((r = get_value(p, what, &c->text)) != 0) {
		goto out;
	}
	if (san_is_blob(c->san)) {
		if (!b64_decode(c->text, &c->blob, &c->blob_len)) {
			r = perr(p, at, "invalid base64 value '%s' in %s", c->text, what);
		}
		goto out;
	}
	r = compile_regex(p, c, what, at);
out:
	free(what);
	return r;
}

static int parse_component(struct parser *p, struct comp *c)
{
	static const struct {
		const char *tag;
		enum comp_kind kind;
	} tags[] = {
		{ "ISSUER>", COMP_ISSUER }, { "SUBJECT>", COMP_SUBJECT },
		{ "KU>", COMP_KU }, { "EKU>", COMP_EKU },
		{ "SAN>", COMP_SAN }, { "SAN:", COMP_SAN },
	};
	const char *lt = p->cur;
	const char *at;
	size_t i;
	int r;

	if (*p->cur != '<') {
		return perr(p, p->cur, "expected '<' to start a component");
	}
	p->cur++;
	for (i = 0; i < CM_ARRAY_SIZE(tags); i++) {
		if (strncmp(p->cur, tags[i].tag, strlen(tags[i].tag)) == 0) {
			break;
		}
	}
	if (i == CM_ARRAY_SIZE(tags)) {
		const char *gt = strchr(p->cur, '>');
		size_t n = gt == NULL ? strcspn(p->cur, "<") : (size_t)(gt - p->cur);
		char *name = strndup(p->cur, n > 40 ? 40 : n);

		if (name == NULL) {
			return CERTMAP_ERR_NOMEM;
		}
		r = perr(p, lt, "unknown component <%s>", name);
		free(name);
		return r;
	}
	c->kind = tags[i].kind;
	p->cur += strlen(tags[i].tag);
	if (c->kind == COMP_SAN) {
		return parse_san(p, c, i == CM_ARRAY_SIZE(tags) - 1);
	}
	at = p->cur;
	switch (c->kind) {
	case COMP_ISSUER:
		if ((r = get_value(p, "<ISSUER>", &c->text)) != 0) {
			return r;
		}
		return compile_regex(p, c, "<ISSUER>", at);
	case COMP_SUBJECT:
		if ((r = get_value(p, "<SUBJECT>", &c->text)) != 0) {
			return r;
		}
		return compile_regex(p, c, "<SUBJECT>", at);
	case COMP_KU:
		if ((r = get_value(p, "<KU>", &c->text)) != 0) {
			return r;
		}
		return parse_ku(p, c, at);
	case COMP_EKU:
		if ((r = get_value(p, "<EKU>", &c->text)) != 0) {
			return r;
		}
		return parse_eku(p, c, at);
	case COMP_SAN:
	default:
		return CERTMAP_ERR_RULE;
	}
}

/*
 * SSSD's rule-type prefix: text before the first ':' made only of upper-case
 * ASCII letters and digits (possibly empty). Sets *body to the rule body;
 * any prefix other than KRB5 (or an empty one) is an error.
 */
static int skip_match_prefix(struct parser *p, const char **body)
{
	const char *colon = strchr(p->start, ':');
	char *type = NULL;
	int r;

	*body = p->start;
	if (colon == NULL) {
		return 0;
	}
	for (const char *c = p->start; c < colon; c++) {
		if (!(isascii((unsigned char)*c) && (isdigit((unsigned char)*c) || isupper((unsigned char)*c)))) {
			return 0;
		}
	}
	if (colon == p->start || (colon - p->start == 4 && strncmp(p->start, "KRB5", 4) == 0)) {
		*body = colon + 1;
		return 0;
	}
	if ((type = strndup(p->start, (size_t)(colon - p->start))) == NULL) {
		return CERTMAP_ERR_NOMEM;
	}
	r = perr(p, p->start, "unsupported matching rule type '%s'", type);
	free(type);
	return r;
}

static int match_parse_body(struct parser *p, struct cm_match *m)
{
	size_t cap = 0;
	int r;

	if (strncmp(p->cur, "&&", 2) == 0) {
		p->cur += 2;
	} else if (strncmp(p->cur, "||", 2) == 0) {
		m->is_or = true;
		p->cur += 2;
	}
	while (*p->cur != '\0') {
		if (m->n == cap) {
			size_t ncap = cap == 0 ? 4 : cap * 2;
			struct comp *nc = realloc(m->comps, ncap * sizeof(*nc));

			if (nc == NULL) {
				return CERTMAP_ERR_NOMEM;
			}
			m->comps = nc;
			cap = ncap;
		}
		memset(&m->comps[m->n], 0, sizeof(m->comps[m->n]));
		m->n++;
		if ((r = parse_component(p, &m->comps[m->n - 1])) != 0) {
			return r;
		}
	}
	return 0;
}

/*
 * One block for the rule and its components: evaluating a large
 * configuration reads each rule's first component, and a pointer less to
 * follow per rule is a cache miss less. The components move as they are
 * (a regex_t may be moved, as realloc does while parsing).
 */
static struct cm_match *match_pack(struct cm_match *m)
{
	struct cm_match *packed = malloc(sizeof(*m) + m->n * sizeof(m->comps[0]));

	if (packed == NULL) {
		return m;
	}
	*packed = *m;
	if (m->n > 0) {
		memcpy(packed->inline_comps, m->comps, m->n * sizeof(m->comps[0]));
	}
	packed->comps = packed->inline_comps;
	packed->comps_inline = true;
	free(m->comps);
	free(m);
	return packed;
}

int cm_match_parse(const char *text, struct cm_match **out, char **errmsg)
{
	struct parser p = { 0 };
	struct cm_match *m = NULL;
	int r;

	*out = NULL;
	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	if (text == NULL || *text == '\0') {
		text = CM_DEFAULT_MATCH;
	}
	p.start = text;
	if (strlen(text) > CM_RULE_MAX_LEN) {
		p.err = cm_asprintf("matching rule longer than %d bytes", CM_RULE_MAX_LEN);
		r = CERTMAP_ERR_RULE;
		goto out;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		r = CERTMAP_ERR_NOMEM;
		goto out;
	}
	if ((r = skip_match_prefix(&p, &p.cur)) != 0) {
		goto out;
	}
	if ((r = match_parse_body(&p, m)) != 0) {
		goto out;
	}
	*out = match_pack(m);
	m = NULL;
	r = 0;
out:
	cm_match_free(m);
	if (r != 0 && errmsg != NULL) {
		*errmsg = p.err;
		p.err = NULL;
	}
	free(p.err);
	return r;
}

/* --------------------------------------------------------- evaluation */

/*
 * A component's expression as the rule has it and regcomp() uses it, in
 * quotes: backslashes are not doubled (the regex @EXAMPLE\.TEST$ prints
 * as '@EXAMPLE\.TEST$'). The text comes from the trusted configuration;
 * only control bytes are shown as \xHH so that a trace stays one line.
 */
static void why_rule_text(struct cm_buf *why, const struct comp *c)
{
	static const char hex[] = "0123456789abcdef";
	size_t len = strlen(c->text), n = len < 200 ? len : 200;

	cm_buf_addc(why, '\'');
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)c->text[i];

		if (ch < 0x20 || ch == 0x7f) {
			char x[4] = { '\\', 'x', hex[ch >> 4], hex[ch & 0xf] };

			cm_buf_add(why, x, sizeof(x));
		} else {
			cm_buf_addc(why, (char)ch);
		}
	}
	cm_buf_adds(why, n < len ? "...'" : "'");
}

static void why_value(struct cm_buf *why, const struct cm_value *v)
{
	cm_buf_addc(why, '\'');
	cm_buf_add_escaped(why, v->data, v->len, 200);
	cm_buf_addc(why, '\'');
}

static bool regex_value(const struct comp *c, const struct cm_value *v)
{
	if (!cm_value_usable(v)) {
		return false;
	}
	if (c->prefix != NULL) {
		if (v->len < c->prefix_len) {
			return false;
		}
		for (size_t i = 0; i < c->head_len; i++) {
			if (v->data[i] != c->head[i]) {
				return false;
			}
		}
		if (memcmp(v->data, c->prefix, c->prefix_len) != 0) {
			return false;
		}
	}
	if (c->exact) {
		return v->len == c->prefix_len;
	}
	return regexec(&c->re, (const char *)v->data, 0, NULL, 0) == 0;
}

static bool eval_dn(const struct comp *c, const struct cm_name *n, struct cm_buf *why)
{
	const char *what = c->kind == COMP_ISSUER ? "<ISSUER>" : "<SUBJECT>";

	if (!cm_value_usable(&n->sssd)) {
		if (why != NULL) {
			cm_buf_printf(why, "%s: the DN is unusable (%s). ", what,
				      n->sssd.unusable != NULL ? n->sssd.unusable : "missing");
		}
		return false;
	}
	if (regex_value(c, &n->sssd)) {
		return true;
	}
	/* Rules written in UTF-8 match the RFC 4514 form of non-ASCII DNs. */
	if (n->rfc4514.data != n->sssd.data && cm_value_usable(&n->rfc4514) &&
	    (n->rfc4514.len != n->sssd.len || memcmp(n->rfc4514.data, n->sssd.data, n->sssd.len) != 0) &&
	    regex_value(c, &n->rfc4514)) {
		return true;
	}
	if (why != NULL) {
		cm_buf_adds(why, what);
		cm_buf_addc(why, ' ');
		why_rule_text(why, c);
		cm_buf_adds(why, " does not match ");
		why_value(why, &n->sssd);
		cm_buf_adds(why, ". ");
	}
	return false;
}

static bool eval_ku(const struct comp *c, const struct cm_identity *id, struct cm_buf *why)
{
	/* No KU extension: every usage is allowed (X.509 13.3.2, as SSSD). */
	uint32_t have = id->has_ku ? id->ku : UINT32_MAX;

	if ((have & c->ku) == c->ku) {
		return true;
	}
	if (why != NULL) {
		cm_buf_printf(why, "<KU> '%s': the certificate's key usage 0x%04x lacks 0x%04x. ",
			      c->text, have, c->ku & ~have);
	}
	return false;
}

static bool has_eku(const struct cm_identity *id, const char *oid)
{
	return id->has_eku && cm_strv_contains(&id->eku, oid);
}

static bool eval_eku(const struct comp *c, const struct cm_identity *id, bool is_or, struct cm_buf *why)
{
	for (size_t i = 0; i < c->oids.n; i++) {
		bool ok = has_eku(id, c->oids.v[i]);

		/* SSSD checks each EKU of an || rule on its own. */
		if (is_or && ok) {
			return true;
		}
		if (!is_or && !ok) {
			if (why != NULL) {
				cm_buf_printf(why, "<EKU> '%s': the certificate has no extended key usage %s. ",
					      c->text, c->oids.v[i]);
			}
			return false;
		}
	}
	if (is_or) {
		if (why != NULL) {
			cm_buf_printf(why, "<EKU> '%s': none of these extended key usages is present. ", c->text);
		}
		return false;
	}
	return true;
}

static bool san_selected(const struct comp *c, const struct cm_san *s)
{
	switch (c->san) {
	case SAN_SEL_OTHER_NAME:
		return s->type == CM_SAN_OTHER_NAME;
	case SAN_SEL_RFC822:
		return s->type == CM_SAN_RFC822;
	case SAN_SEL_DNS:
		return s->type == CM_SAN_DNS;
	case SAN_SEL_X400:
		return s->type == CM_SAN_X400;
	case SAN_SEL_DIRNAME:
		return s->type == CM_SAN_DIRNAME;
	case SAN_SEL_EDIPARTY:
		return s->type == CM_SAN_EDIPARTY;
	case SAN_SEL_URI:
		return s->type == CM_SAN_URI;
	case SAN_SEL_IP:
		return s->type == CM_SAN_IP;
	case SAN_SEL_RID:
		return s->type == CM_SAN_RID;
	case SAN_SEL_PKINIT:
		return s->type == CM_SAN_OTHER_NAME && s->other_kind == CM_OTHER_KRB5;
	case SAN_SEL_NT:
		return s->type == CM_SAN_OTHER_NAME && s->other_kind == CM_OTHER_UPN;
	case SAN_SEL_PRINCIPAL:
		return s->type == CM_SAN_OTHER_NAME &&
		       (s->other_kind == CM_OTHER_KRB5 || s->other_kind == CM_OTHER_UPN);
	case SAN_SEL_STRING_OTHER:
		return s->type == CM_SAN_OTHER_NAME && c->oid != NULL && s->other_oid != NULL &&
		       strcmp(s->other_oid, c->oid) == 0;
	default:
		return false;
	}
}

/* One SAN value against one component; the value is the text, or the raw
 * bytes for blobs and OID-selected otherNames (SSSD matches those bytes). */
static bool san_value_ok(const struct comp *c, const struct cm_san *s, const struct cm_value **shown)
{
	const struct cm_value *v = san_is_blob(c->san) || c->san == SAN_SEL_STRING_OTHER ? &s->raw : &s->text;

	*shown = v;
	if (san_is_blob(c->san)) {
		return v->data != NULL && v->len > 0 && memmem(v->data, v->len, c->blob, c->blob_len) != NULL;
	}
	if (c->san == SAN_SEL_STRING_OTHER && v->data != NULL && memchr(v->data, '\0', v->len) != NULL) {
		return false;
	}
	return c->san == SAN_SEL_STRING_OTHER ? (v->data != NULL && regexec(&c->re, (const char *)v->data, 0, NULL, 0) == 0)
					      : regex_value(c, v);
}

/* "<SAN:type> 'expression'" for a trace. */
static void why_san(struct cm_buf *why, const struct comp *c)
{
	comp_name(c, why);
	cm_buf_addc(why, ' ');
	why_rule_text(why, c);
}

static bool eval_san(const struct comp *c, const struct cm_identity *id, struct cm_buf *why)
{
	size_t seen = 0;

	for (size_t i = 0; i < id->n_sans; i++) {
		const struct cm_san *s = &id->sans[i];
		const struct cm_value *v = NULL;

		if (!san_selected(c, s)) {
			continue;
		}
		seen++;
		if (san_value_ok(c, s, &v)) {
			continue;
		}
		if (why != NULL) {
			why_san(why, c);
			cm_buf_adds(why, " does not hold for ");
			why_value(why, v);
			if (v->unusable != NULL) {
				cm_buf_printf(why, " (unusable: %s)", v->unusable);
			}
			cm_buf_adds(why, ". ");
		}
		return false;
	}
	if (seen == 0 && why != NULL) {
		why_san(why, c);
		cm_buf_adds(why, ": the certificate has no SAN of that type. ");
	}
	return seen > 0;
}

/*
 * True when the DN component c cannot match n because n's text differs
 * from the literal every match starts with, in its first bytes or its
 * length: what most rules of a large configuration are told by. Only
 * when the RFC 4514 form is the SSSD one (eval_dn tries both).
 */
static inline bool dn_head_differs(const struct comp *c, const struct cm_name *n)
{
	const struct cm_value *v = &n->sssd;

	if (c->prefix == NULL || !cm_value_usable(v) || n->rfc4514.data != v->data) {
		return false;
	}
	if (v->len < c->prefix_len) {
		return true;
	}
	for (size_t i = 0; i < c->head_len; i++) {
		if (v->data[i] != c->head[i]) {
			return true;
		}
	}
	return false;
}

/* The usual failure: c is a DN component whose literal start differs. */
static inline bool comp_fails_fast(const struct comp *c, const struct cm_identity *id)
{
	return (c->kind == COMP_ISSUER || c->kind == COMP_SUBJECT) &&
	       dn_head_differs(c, c->kind == COMP_ISSUER ? &id->issuer : &id->subject);
}

static bool eval_comp(const struct comp *c, const struct cm_identity *id, bool is_or, struct cm_buf *why)
{
	/* Told before any call; a trace needs eval_dn's sentence. */
	if (why == NULL && comp_fails_fast(c, id)) {
		return false;
	}
	switch (c->kind) {
	case COMP_ISSUER:
		return eval_dn(c, &id->issuer, why);
	case COMP_SUBJECT:
		return eval_dn(c, &id->subject, why);
	case COMP_KU:
		return eval_ku(c, id, why);
	case COMP_EKU:
		return eval_eku(c, id, is_or, why);
	case COMP_SAN:
		return eval_san(c, id, why);
	default:
		return false;
	}
}

/* Not inlined into cm_match_eval: its frame would then be set up for the
 * fast failure too. */
static bool match_eval(const struct cm_match *m, const struct cm_identity *id, struct cm_buf *why)
	__attribute__((noinline));

static bool match_eval(const struct cm_match *m, const struct cm_identity *id, struct cm_buf *why)
{
	size_t mark = why != NULL ? why->len : 0;

	/* A rule without components never matches (as in SSSD). */
	if (m->n == 0) {
		if (why != NULL) {
			cm_buf_adds(why, "the matching rule has no component. ");
		}
		return false;
	}
	for (size_t i = 0; i < m->n; i++) {
		bool ok = eval_comp(&m->comps[i], id, m->is_or, why);

		if (ok && m->is_or) {
			if (why != NULL && why->data != NULL && !why->failed) {
				why->len = mark;
				why->data[mark] = '\0';
			}
			return true;
		}
		if (!ok && !m->is_or) {
			return false;
		}
	}
	return !m->is_or;
}

bool cm_match_eval(const struct cm_match *m, const struct cm_identity *id, struct cm_buf *why)
{
	/* Most rules of a large configuration fail on their first component's
	 * first bytes: told here, before the general loop and its frame. An
	 * || rule fails so only when that component is its only one. */
	if (why == NULL && m->n > 0 && (!m->is_or || m->n == 1) && comp_fails_fast(&m->comps[0], id)) {
		return false;
	}
	return match_eval(m, id, why);
}

/*
 * The RFC 4681 codec: the user_mapping extension's UserMappingTypeList and
 * the UserMappingDataList carried in RFC 4680 SupplementalData, with its
 * upn_domain_hint (UpnDomainHint, a TLS presentation-language struct):
 *
 *   UserMappingTypeList { UserMappingType user_mapping_types<1..2^8-1>; }
 *   UserMappingDataList { UserMappingData user_mapping_data_list<1..2^16-1>; }
 *   UserMappingData     { UserMappingType user_mapping_version;
 *                         uint16 user_mapping_length; <that many bytes> }
 *   UpnDomainHint       { opaque user_principal_name<0..2^16-1>;
 *                         opaque domain_name<0..2^16-1>; }
 *
 * The bytes come from a TLS client nobody has authenticated yet, so every
 * length must be exact and every string is checked before it becomes a C
 * string. A hint only selects among a certificate's candidates.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certmap.h"
#include "decision.h"
#include "util.h"

/* The public limits are the decision step's; keep them one number. */
_Static_assert(CERTMAP_HINT_MAX_UPN == CM_MAX_UPN_HINT_LEN, "UPN limit");
_Static_assert(CERTMAP_HINT_MAX_DOMAIN == CM_MAX_DOMAIN_HINT_LEN, "domain limit");

struct certmap_hint {
	char *upn;    /* NULL when absent */
	char *domain; /* NULL when absent */
};

/*
 * A bounded cursor over untrusted bytes: reads fail without moving it. off
 * is the position of p in the outermost input, for messages.
 */
struct hint_cur {
	const unsigned char *p;
	size_t len;
	size_t off;
};

static void cur_skip(struct hint_cur *c, size_t n)
{
	c->p += n;
	c->len -= n;
	c->off += n;
}

static bool cur_u8(struct hint_cur *c, unsigned *v)
{
	if (c->len < 1) {
		return false;
	}
	*v = c->p[0];
	cur_skip(c, 1);
	return true;
}

static bool cur_u16(struct hint_cur *c, unsigned *v)
{
	if (c->len < 2) {
		return false;
	}
	*v = (unsigned)c->p[0] << 8 | c->p[1];
	cur_skip(c, 2);
	return true;
}

/* The next n bytes as their own cursor. */
static bool cur_take(struct hint_cur *c, size_t n, struct hint_cur *sub)
{
	if (c->len < n) {
		return false;
	}
	*sub = (struct hint_cur){c->p, n, c->off};
	cur_skip(c, n);
	return true;
}

/* A vector with a 1- or 2-byte length; on failure *want is the length read
 * (or SIZE_MAX when even the length is cut off) and c has not moved. */
static bool cur_vec(struct hint_cur *c, int width, struct hint_cur *sub, size_t *want)
{
	struct hint_cur t = *c;
	unsigned n;

	*want = SIZE_MAX;
	if (!(width == 1 ? cur_u8(&t, &n) : cur_u16(&t, &n))) {
		return false;
	}
	*want = n;
	if (!cur_take(&t, n, sub)) {
		return false;
	}
	*c = t;
	return true;
}

/* Stores a malloc'd message in *errmsg (when asked) and returns CERTMAP_ERR_HINT. */
static int hint_fail(char **errmsg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int hint_fail(char **errmsg, const char *fmt, ...)
{
	va_list ap;

	if (errmsg != NULL && *errmsg == NULL) {
		va_start(ap, fmt);
		if (vasprintf(errmsg, fmt, ap) < 0) {
			*errmsg = NULL;
		}
		va_end(ap);
	}
	return CERTMAP_ERR_HINT;
}

static bool ldh_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

/* Why p..len is not an LDH host name (RFC 952/1123 labels), or NULL. */
static const char *ldh_problem(const unsigned char *p, size_t len)
{
	size_t start = 0;

	if (len == 0) {
		return "it is empty";
	}
	for (size_t i = 0; i <= len; i++) {
		size_t label;

		if (i < len && p[i] != '.') {
			if (!ldh_char(p[i])) {
				return "only letters, digits, '-' and '.' are allowed";
			}
			continue;
		}
		label = i - start;
		if (label == 0) {
			return "it has an empty label";
		}
		if (label > 63) {
			return "a label is longer than 63 bytes";
		}
		if (p[start] == '-' || p[i - 1] == '-') {
			return "a label starts or ends with '-'";
		}
		start = i + 1;
	}
	return NULL;
}

/* Why p..len is not control-free UTF-8 text, or NULL. */
static const char *text_problem(const unsigned char *p, size_t len)
{
	if (!cm_utf8_valid(p, len)) {
		return "it is not valid UTF-8";
	}
	for (size_t i = 0; i < len; i++) {
		/* C0, DEL, and the C1 controls U+0080..U+009F (C2 80..C2 9F). */
		if (p[i] < 0x20 || p[i] == 0x7f ||
		    (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)) {
			return "it contains a control character";
		}
	}
	return NULL;
}

/* Why p..len is not a UPN user@domain, or NULL. */
static const char *upn_problem(const unsigned char *p, size_t len)
{
	const unsigned char *at;
	const char *why;

	if ((why = text_problem(p, len)) != NULL) {
		return why;
	}
	at = memchr(p, '@', len);
	if (at == NULL) {
		return "it has no '@' (a UPN is user@domain)";
	}
	if (at == p) {
		return "its user part (before '@') is empty";
	}
	if (ldh_problem(at + 1, len - (size_t)(at + 1 - p)) != NULL) {
		return "the part after '@' is not an LDH domain name";
	}
	return NULL;
}

/* Checks a decoded or to-be-encoded pair; where names the entry. */
static int hint_check(const unsigned char *upn, size_t ulen, const unsigned char *dom, size_t dlen,
		      const char *where, char **errmsg)
{
	const char *why;

	if (ulen == 0 && dlen == 0) {
		return hint_fail(errmsg, "%sneither a user_principal_name nor a domain_name",
				 where);
	}
	if (ulen > CERTMAP_HINT_MAX_UPN) {
		return hint_fail(errmsg, "%suser_principal_name is %zu bytes, more than %d", where,
				 ulen, CERTMAP_HINT_MAX_UPN);
	}
	if (dlen > CERTMAP_HINT_MAX_DOMAIN) {
		return hint_fail(errmsg, "%sdomain_name is %zu bytes, more than %d", where, dlen,
				 CERTMAP_HINT_MAX_DOMAIN);
	}
	if (ulen > 0 && (why = upn_problem(upn, ulen)) != NULL) {
		return hint_fail(errmsg, "%suser_principal_name: %s", where, why);
	}
	if (dlen > 0 && (why = ldh_problem(dom, dlen)) != NULL) {
		return hint_fail(errmsg, "%sdomain_name is not an LDH domain name: %s", where, why);
	}
	return CERTMAP_OK;
}

/* A malloc'd C string of a checked field, NULL for an empty one. */
static int field_dup(const struct hint_cur *f, char **out)
{
	*out = NULL;
	if (f->len == 0) {
		return CERTMAP_OK;
	}
	if ((*out = malloc(f->len + 1)) == NULL) {
		return CERTMAP_ERR_NOMEM;
	}
	memcpy(*out, f->p, f->len);
	(*out)[f->len] = '\0';
	return CERTMAP_OK;
}

/* The body of upn_domain_hint entry n, exactly one UpnDomainHint. */
static int upn_domain_decode(struct hint_cur *body, size_t n, struct certmap_hint *h, char **errmsg)
{
	struct hint_cur upn, dom;
	char where[64];
	size_t want;
	int rc;

	snprintf(where, sizeof(where), "entry %zu (upn_domain_hint): ", n);
	if (!cur_vec(body, 2, &upn, &want)) {
		return want == SIZE_MAX
			   ? hint_fail(errmsg, "%s%zu bytes, too short for a UpnDomainHint", where,
				       body->len)
			   : hint_fail(errmsg,
				       "%suser_principal_name length %zu runs past the entry's end "
				       "(%zu bytes left)",
				       where, want, body->len - 2);
	}
	if (!cur_vec(body, 2, &dom, &want)) {
		return want == SIZE_MAX
			   ? hint_fail(errmsg,
				       "%sno domain_name length after the "
				       "user_principal_name (%zu bytes left)",
				       where, body->len)
			   : hint_fail(errmsg,
				       "%sdomain_name length %zu runs past the entry's end "
				       "(%zu bytes left)",
				       where, want, body->len - 2);
	}
	if (body->len != 0) {
		return hint_fail(errmsg,
				 "%s%zu bytes after the domain_name (user_mapping_length "
				 "must be exactly the UpnDomainHint's size)",
				 where, body->len);
	}
	if ((rc = hint_check(upn.p, upn.len, dom.p, dom.len, where, errmsg)) != CERTMAP_OK) {
		return rc;
	}
	if ((rc = field_dup(&upn, &h->upn)) != CERTMAP_OK) {
		return rc;
	}
	return field_dup(&dom, &h->domain);
}

/* Reads UserMappingData entry n: its type and its body. */
static int entry_next(struct hint_cur *list, size_t n, unsigned *type, struct hint_cur *body,
		      char **errmsg)
{
	struct hint_cur t = *list;
	size_t want;

	if (!cur_u8(&t, type) || !cur_vec(&t, 2, body, &want)) {
		if (list->len < 3) {
			return hint_fail(errmsg,
					 "entry %zu at byte %zu: %zu bytes left, a "
					 "UserMappingData needs at least 3",
					 n, list->off, list->len);
		}
		return hint_fail(errmsg,
				 "entry %zu (type %u) at byte %zu: user_mapping_length %zu "
				 "runs past the list's end (%zu bytes left)",
				 n, *type, list->off, want, list->len - 3);
	}
	*list = t;
	return CERTMAP_OK;
}

/* The list's entries: others skipped, one upn_domain_hint at most. */
static int entries_decode(struct hint_cur *list, struct certmap_hint *h, char **errmsg)
{
	size_t seen = 0;
	int rc;

	for (size_t n = 1; list->len > 0; n++) {
		struct hint_cur body;
		unsigned type;

		if ((rc = entry_next(list, n, &type, &body, errmsg)) != CERTMAP_OK) {
			return rc;
		}
		if (type != CERTMAP_HINT_TYPE_UPN_DOMAIN) {
			/* RFC 4681: a type the server does not know is ignored. */
			continue;
		}
		if (seen != 0) {
			/* Two hints would let the client pick whichever one a
			 * server happens to read: refuse rather than choose. */
			return hint_fail(errmsg,
					 "entry %zu is a second upn_domain_hint (the first "
					 "is entry %zu)",
					 n, seen);
		}
		seen = n;
		if ((rc = upn_domain_decode(&body, n, h, errmsg)) != CERTMAP_OK) {
			return rc;
		}
	}
	return CERTMAP_OK;
}

int certmap_hint_decode(const void *data, size_t len, struct certmap_hint **hint, char **errmsg)
{
	struct hint_cur in = {data, len, 0}, list;
	struct certmap_hint *h = NULL;
	size_t want;
	int rc;

	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	if (hint == NULL) {
		return CERTMAP_ERR_INVALID_ARG;
	}
	*hint = NULL;
	if (data == NULL && len > 0) {
		return CERTMAP_ERR_INVALID_ARG;
	}
	if (!cur_vec(&in, 2, &list, &want)) {
		return want == SIZE_MAX
			   ? hint_fail(errmsg,
				       "the UserMappingDataList is %zu bytes, too short "
				       "for its 2-byte length",
				       len)
			   : hint_fail(errmsg,
				       "the UserMappingDataList's length %zu runs past "
				       "its end (%zu bytes follow)",
				       want, len - 2);
	}
	if (in.len != 0) {
		return hint_fail(errmsg,
				 "%zu bytes after the UserMappingDataList's end (its "
				 "length says %zu)",
				 in.len, list.len);
	}
	if (list.len == 0) {
		return hint_fail(errmsg, "the UserMappingDataList is empty (RFC 4681 requires at "
					 "least one entry)");
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		return CERTMAP_ERR_NOMEM;
	}
	if ((rc = entries_decode(&list, h, errmsg)) != CERTMAP_OK) {
		goto out;
	}
	*hint = h;
	h = NULL;
out:
	certmap_hint_free(h);
	return rc;
}

const char *certmap_hint_upn(const struct certmap_hint *h)
{
	return h != NULL ? h->upn : NULL;
}

const char *certmap_hint_domain(const struct certmap_hint *h)
{
	return h != NULL ? h->domain : NULL;
}

void certmap_hint_free(struct certmap_hint *h)
{
	if (h == NULL) {
		return;
	}
	free(h->upn);
	free(h->domain);
	free(h);
}

static unsigned char *put_u16(unsigned char *p, size_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
	return p + 2;
}

int certmap_hint_encode(const char *upn, const char *domain, unsigned char **data, size_t *len,
			char **errmsg)
{
	size_t ulen, dlen, total;
	unsigned char *buf, *p;
	int rc;

	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	if (data == NULL || len == NULL) {
		return CERTMAP_ERR_INVALID_ARG;
	}
	*data = NULL;
	*len = 0;
	upn = upn != NULL ? upn : "";
	domain = domain != NULL ? domain : "";
	/* One byte over the limit is enough to refuse; never strlen a huge string. */
	ulen = strnlen(upn, CERTMAP_HINT_MAX_UPN + 1);
	dlen = strnlen(domain, CERTMAP_HINT_MAX_DOMAIN + 1);
	if ((rc = hint_check((const unsigned char *)upn, ulen, (const unsigned char *)domain, dlen,
			     "", errmsg)) != CERTMAP_OK) {
		return rc;
	}
	/* list length, type, user_mapping_length, two vectors. */
	total = 2 + 1 + 2 + 2 + ulen + 2 + dlen;
	if ((buf = malloc(total)) == NULL) {
		return CERTMAP_ERR_NOMEM;
	}
	p = put_u16(buf, total - 2);
	*p++ = CERTMAP_HINT_TYPE_UPN_DOMAIN;
	p = put_u16(p, total - 5);
	p = put_u16(p, ulen);
	memcpy(p, upn, ulen);
	p = put_u16(p + ulen, dlen);
	memcpy(p, domain, dlen);
	*data = buf;
	*len = total;
	return CERTMAP_OK;
}

int certmap_hint_types_decode(const void *data, size_t len,
			      unsigned char types[CERTMAP_HINT_MAX_TYPES], size_t *n_types,
			      char **errmsg)
{
	struct hint_cur in = {data, len, 0}, list;
	bool seen[256] = {false};
	size_t want;

	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	if (n_types == NULL || types == NULL) {
		return CERTMAP_ERR_INVALID_ARG;
	}
	*n_types = 0;
	if (data == NULL && len > 0) {
		return CERTMAP_ERR_INVALID_ARG;
	}
	if (!cur_vec(&in, 1, &list, &want)) {
		return want == SIZE_MAX
			   ? hint_fail(errmsg, "the UserMappingTypeList is empty, without its "
					       "1-byte length")
			   : hint_fail(errmsg,
				       "the UserMappingTypeList's length %zu runs past "
				       "its end (%zu bytes follow)",
				       want, len - 1);
	}
	if (in.len != 0) {
		return hint_fail(errmsg,
				 "%zu bytes after the UserMappingTypeList's end (its "
				 "length says %zu)",
				 in.len, list.len);
	}
	if (list.len == 0) {
		return hint_fail(errmsg, "the UserMappingTypeList is empty (RFC 4681 requires at "
					 "least one type)");
	}
	for (size_t i = 0; i < list.len; i++) {
		if (seen[list.p[i]]) {
			return hint_fail(errmsg,
					 "type %u is listed twice in the "
					 "UserMappingTypeList",
					 list.p[i]);
		}
		seen[list.p[i]] = true;
	}
	memcpy(types, list.p, list.len);
	*n_types = list.len;
	return CERTMAP_OK;
}

int certmap_hint_types_encode(const unsigned char *types, size_t n_types, unsigned char **data,
			      size_t *len)
{
	bool seen[256] = {false};
	unsigned char *buf;

	if (data == NULL || len == NULL) {
		return CERTMAP_ERR_INVALID_ARG;
	}
	*data = NULL;
	*len = 0;
	if (types == NULL || n_types == 0 || n_types > CERTMAP_HINT_MAX_TYPES) {
		return CERTMAP_ERR_INVALID_ARG;
	}
	for (size_t i = 0; i < n_types; i++) {
		if (seen[types[i]]) {
			return CERTMAP_ERR_INVALID_ARG;
		}
		seen[types[i]] = true;
	}
	if ((buf = malloc(n_types + 1)) == NULL) {
		return CERTMAP_ERR_NOMEM;
	}
	buf[0] = (unsigned char)n_types;
	memcpy(buf + 1, types, n_types);
	*data = buf;
	*len = n_types + 1;
	return CERTMAP_OK;
}

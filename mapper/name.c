/*
 * Distinguished names, walked straight from the DER. The "sssd" rendering
 * must be byte for byte what libsss_certmap 2.8 matches <SUBJECT>/<ISSUER>
 * against: it prints each AVA on its own as "NAME=value", where NAME is
 * OpenSSL's short name in SSSD's NSS spelling and value is what
 * ASN1_STRING_print_ex() prints with ASN1_STRFLGS_RFC2253, and joins the
 * AVAs with ',' in reverse DER order (a multi-valued RDN is not kept
 * together).
 *
 * d2i_X509_NAME + ASN1_STRING_print_ex through a BIO cost more than the
 * rest of the certificate together, so this file does both itself, to the
 * letter of OpenSSL 3.0 (crypto/x509/x_name.c, crypto/asn1/a_strex.c,
 * a_mbstr.c, a_utf8.c), and tests/fuzz/fuzz_name_diff.c and
 * fuzz_cert_diff.c compare it with the OpenSSL-based original
 * (tests/fuzz/ref_name.c):
 *
 * - Acceptance: every Name d2i_X509_NAME rejects is rejected. On top, the
 *   encoding must be DER (cm_der_validate: tests/fuzz/fuzz_cert_diff.c's
 *   not_der row). The order inside a SET OF is NOT checked, as OpenSSL
 *   does not check it either: unsorted multi-valued RDNs exist in the wild
 *   and libsss_certmap accepts them. An empty RDN (SET {}) is accepted and
 *   counts for the RDN index, as in OpenSSL.
 * - Values: the universal types of OpenSSL's B_ASN1_PRINTABLE mask only.
 *   UTF8String, BMPString and UniversalString must hold valid Unicode
 *   scalar values (OpenSSL's canonical encoding fails otherwise, which
 *   fails the decode); Numeric/Printable/Teletex/IA5String are one byte per
 *   character, taken as Latin-1 without any character check.
 * - Printing: the bytes printed are the value's UTF-8 (OpenSSL prints a
 *   UTF8String byte by byte and converts the other string types to UTF-8
 *   first). RFC 2253 escapes with a backslash ("+,;<>\ and a leading '#'
 *   or ' ', a trailing ' '; a one-character value counts as last only, so
 *   a lone "#" stays bare), control bytes and (for sssd) bytes over 0x7f
 *   as \XX. Any other type is printed as '#' and the upper-case hex of its
 *   whole DER TLV.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "certmap.h"
#include "der.h"
#include "name.h"

/* The OpenSSL short names SSSD renames (its openssl_2_nss_attr_name table). */
static const struct {
	const char *openssl;
	const char *sssd;
} sssd_attr_names[] = {
	{ "GN", "givenName" },
	{ "mail", "MAIL" },
	{ "description", "OID.2.5.4.13" },
	{ "emailAddress", "E" },
	{ "street", "STREET" },
};

static const char not_a_string[] =
	"the attribute value is not a character string or is badly encoded";

/* ---------------------------------------------------------------- OIDs */


/* Room oid_text_into needs for len bytes of OID contents. */
#define OID_TEXT_CAP(len) (18 * (len) + 5)

/*
 * Dotted text of DER OID contents when every arc fits in 56 bits (what
 * OBJ_obj2txt prints, without its per-arc BIO_snprintf) into buf (room
 * for OID_TEXT_CAP(len) bytes: a sub-identifier of k bytes prints as at
 * most 18 * k characters, the first one ("X.Y") 4 more), NUL-terminated.
 * Returns the length, or 0 when an arc is larger.
 */
static size_t oid_text_into(const unsigned char *p, size_t len, char *buf)
{
	size_t o = 0;
	uint64_t v = 0;
	bool first = true;

	for (size_t i = 0; i < len; i++) {
		if (v >> 56) {
			return 0;
		}
		v = (v << 7) | (p[i] & 0x7f);
		if (p[i] & 0x80) {
			continue;
		}
		if (first) {
			/* The first sub-identifier holds two arcs: 40 * X + Y. */
			unsigned x = v < 80 ? (unsigned)(v / 40) : 2;

			buf[o++] = (char)('0' + x);
			v -= 40 * (uint64_t)x;
			first = false;
		}
		buf[o++] = '.';
		o += cm_u64_text(buf + o, v);
		v = 0;
	}
	buf[o] = '\0';
	return o;
}

/* oid_text_into as a malloc'd string, or NULL. */
static char *oid_text_fast(const unsigned char *p, size_t len)
{
	char stack[256], *buf = stack, *out = NULL;
	size_t n;

	if (OID_TEXT_CAP(len) > sizeof(stack) && (buf = malloc(OID_TEXT_CAP(len))) == NULL) {
		return NULL;
	}
	if ((n = oid_text_into(p, len, buf)) > 0 && (out = malloc(n + 1)) != NULL) {
		memcpy(out, buf, n + 1);
	}
	if (buf != stack) {
		free(buf);
	}
	return out;
}

/* OBJ_obj2txt into a malloc'd string. */
static char *oid_text_slow(const ASN1_OBJECT *obj)
{
	char *s = NULL;
	int n = OBJ_obj2txt(NULL, 0, obj, 1);

	if (n <= 0) {
		return NULL;
	}
	s = malloc((size_t)n + 1);
	if (s != NULL && OBJ_obj2txt(s, n + 1, obj, 1) != n) {
		free(s);
		s = NULL;
	}
	return s;
}

char *cm_oid_text(const ASN1_OBJECT *obj)
{
	char *s = NULL;

	if (OBJ_length(obj) > 0 && (s = oid_text_fast(OBJ_get0_data(obj), OBJ_length(obj))) != NULL) {
		return s;
	}
	return oid_text_slow(obj);
}

/* An ASN1_OBJECT for an OID TLV (the rare slow paths only). */
static ASN1_OBJECT *oid_object(const struct cm_der *tlv)
{
	const unsigned char *p = tlv->p;
	ASN1_OBJECT *obj = d2i_ASN1_OBJECT(NULL, &p, (long)tlv->len);

	if (obj == NULL) {
		ERR_clear_error();
	}
	return obj;
}

static char *oid_text_der(const struct cm_der *content, const struct cm_der *tlv)
{
	ASN1_OBJECT *obj = NULL;
	char *s = oid_text_fast(content->p, content->len);

	if (s == NULL && (obj = oid_object(tlv)) != NULL) {
		s = oid_text_slow(obj);
		ASN1_OBJECT_free(obj);
	}
	return s;
}

char *cm_oid_text_der(const unsigned char *p, size_t len)
{
	unsigned char *buf;
	struct cm_der content, tlv;
	size_t h;
	char *s = oid_text_fast(p, len);

	/* The rare OID with an arc over 56 bits: OpenSSL prints it. */
	if (s != NULL || len > 0xffff || (buf = malloc(len + 4)) == NULL) {
		return s;
	}
	buf[0] = 0x06;
	if (len < 0x80) {
		buf[1] = (unsigned char)len;
		h = 2;
	} else if (len < 0x100) {
		buf[1] = 0x81;
		buf[2] = (unsigned char)len;
		h = 3;
	} else {
		buf[1] = 0x82;
		buf[2] = (unsigned char)(len >> 8);
		buf[3] = (unsigned char)len;
		h = 4;
	}
	memcpy(buf + h, p, len);
	content.p = buf + h;
	content.len = len;
	tlv.p = buf;
	tlv.len = h + len;
	s = oid_text_der(&content, &tlv);
	free(buf);
	return s;
}

static const char *ava_type_name(int nid)
{
	/* OBJ_nid2sn(NID_undef) is "UNDEF", which is what SSSD prints. */
	const char *sn = OBJ_nid2sn(nid);

	if (sn == NULL) {
		return "UNDEF";
	}
	for (size_t i = 0; i < CM_ARRAY_SIZE(sssd_attr_names); i++) {
		if (strcmp(sn, sssd_attr_names[i].openssl) == 0) {
			return sssd_attr_names[i].sssd;
		}
	}
	return sn;
}

/*
 * Attribute names of the OIDs names nearly always use, filled once: the
 * X.520 arc 2.5.4.x (DER 55 04 x) by x, and a few others by their DER
 * contents. Built-in OIDs always map to the same NID (OBJ_obj2nid looks in
 * the built-in table first), so the cache never goes stale. A NULL entry
 * (unknown, or out of memory at set-up) takes the slow path.
 */
static const char *x520_names[128];
static const char *x520_sn[128]; /* OpenSSL's own short names */
static char x520_oids[128][12]; /* "2.5.4.x" */
static const int other_nids[] = {
	NID_domainComponent, NID_userId, NID_rfc822Mailbox, NID_pkcs9_emailAddress,
	NID_pkcs9_unstructuredName, NID_pkcs9_unstructuredAddress,
	NID_jurisdictionCountryName, NID_jurisdictionStateOrProvinceName,
	NID_jurisdictionLocalityName,
};
static struct {
	const unsigned char *der;
	size_t len;
	const char *name;
	const char *sn;
} other_names[CM_ARRAY_SIZE(other_nids)];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static void names_init(void)
{
	for (unsigned x = 0; x < CM_ARRAY_SIZE(x520_names); x++) {
		const unsigned char der[] = { 0x06, 0x03, 0x55, 0x04, (unsigned char)x };
		struct cm_der tlv = { der, sizeof(der) };
		ASN1_OBJECT *obj = oid_object(&tlv);
		int nid = obj != NULL ? OBJ_obj2nid(obj) : NID_undef;

		x520_names[x] = nid != NID_undef ? ava_type_name(nid) : NULL;
		x520_sn[x] = nid != NID_undef ? OBJ_nid2sn(nid) : NULL;
		snprintf(x520_oids[x], sizeof(x520_oids[x]), "2.5.4.%u", x);
		ASN1_OBJECT_free(obj);
	}
	for (size_t i = 0; i < CM_ARRAY_SIZE(other_nids); i++) {
		const ASN1_OBJECT *obj = OBJ_nid2obj(other_nids[i]);

		if (obj != NULL && OBJ_length(obj) > 0) {
			other_names[i].der = OBJ_get0_data(obj);
			other_names[i].len = OBJ_length(obj);
			other_names[i].name = ava_type_name(other_nids[i]);
			other_names[i].sn = OBJ_nid2sn(other_nids[i]);
		}
	}
	ERR_clear_error();
}

/* The attribute name of an OID (static storage), or NULL when out of memory. */
static const char *oid_type_name(const struct cm_der *content, const struct cm_der *tlv)
{
	ASN1_OBJECT *obj = NULL;
	const char *name = NULL;

	if (pthread_once(&names_once, names_init) == 0) {
		if (content->len == 3 && content->p[0] == 0x55 && content->p[1] == 0x04 &&
		    content->p[2] < CM_ARRAY_SIZE(x520_names) && x520_names[content->p[2]] != NULL) {
			return x520_names[content->p[2]];
		}
		for (size_t i = 0; i < CM_ARRAY_SIZE(other_names); i++) {
			if (other_names[i].name != NULL &&
			    cm_der_equal(content, other_names[i].der, other_names[i].len)) {
				return other_names[i].name;
			}
		}
	}
	obj = oid_object(tlv);
	if (obj != NULL) {
		name = ava_type_name(OBJ_obj2nid(obj));
		ASN1_OBJECT_free(obj);
	}
	return name;
}

/* ---------------------------------------------------------------- values */

/* Universal tags d2i_X509_NAME takes as a value (B_ASN1_PRINTABLE). */
static bool value_tag_ok(unsigned char tag)
{
	switch (tag) {
	case 0x03: /* BIT STRING */
	case 0x07: /* ObjectDescriptor */
	case 0x08: /* EXTERNAL, primitive: OpenSSL's B_ASN1_UNKNOWN */
	case 0x09: /* REAL */
	case 0x0b: /* EMBEDDED PDV */
	case 0x0c: /* UTF8String */
	case 0x0d: /* RELATIVE-OID */
	case 0x0e: /* TIME */
	case 0x0f: /* reserved */
	case 0x12: /* NumericString */
	case 0x13: /* PrintableString */
	case 0x14: /* TeletexString */
	case 0x16: /* IA5String */
	case 0x1c: /* UniversalString */
	case 0x1d: /* CHARACTER STRING */
	case 0x1e: /* BMPString */
	case 0x30: /* SEQUENCE */
		return true;
	default:
		return false;
	}
}

static size_t utf8_put(unsigned char *out, uint32_t c)
{
	if (c < 0x80) {
		out[0] = (unsigned char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (unsigned char)(0xc0 | (c >> 6));
		out[1] = (unsigned char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (unsigned char)(0xe0 | (c >> 12));
		out[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		out[2] = (unsigned char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | (c >> 18));
	out[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
	out[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
	out[3] = (unsigned char)(0x80 | (c & 0x3f));
	return 4;
}

static bool scalar_ok(uint32_t c)
{
	return c <= 0x10ffff && (c < 0xd800 || c > 0xdfff);
}

/*
 * Length of the valid UTF-8 sequence at p (OpenSSL's UTF8_getc plus its
 * scalar check: shortest form, no surrogate, at most U+10FFFF), or 0.
 */
static size_t utf8_seq(const unsigned char *p, size_t avail)
{
	uint32_t c;
	size_t n;

	if (p[0] < 0x80) {
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		c = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		c = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (avail < n) {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			return 0;
		}
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < (n == 2 ? 0x80u : n == 3 ? 0x800u : 0x10000u) || !scalar_ok(c)) {
		return 0;
	}
	return n;
}

/*
 * The UTF-8 of a character string value into out (room for 2 * len bytes),
 * as ASN1_STRING_to_UTF8 converts it; *out_len gets its length. Returns
 * false when the value is not valid for its type (d2i_X509_NAME rejects
 * such a name).
 */
static bool string_to_utf8(unsigned char tag, const unsigned char *p, size_t len,
			   unsigned char *out, size_t *out_len)
{
	size_t o = 0, n;

	switch (tag) {
	case 0x0c:
		for (size_t i = 0; i < len; i += n) {
			if ((n = utf8_seq(p + i, len - i)) == 0) {
				return false;
			}
		}
		memcpy(out, p, len);
		o = len;
		break;
	case 0x1e:
	case 0x1c: {
		size_t w = tag == 0x1e ? 2 : 4;

		if (len % w != 0) {
			return false;
		}
		for (size_t i = 0; i < len; i += w) {
			uint32_t c = w == 2 ? (uint32_t)p[i] << 8 | p[i + 1] :
				     (uint32_t)p[i] << 24 | (uint32_t)p[i + 1] << 16 |
				     (uint32_t)p[i + 2] << 8 | p[i + 3];

			if (!scalar_ok(c)) {
				return false;
			}
			o += utf8_put(out + o, c);
		}
		break;
	}
	default:
		/* Numeric, Printable, Teletex, IA5: a byte is a Latin-1 character. */
		for (size_t i = 0; i < len; i++) {
			o += utf8_put(out + o, p[i]);
		}
		break;
	}
	*out_len = o;
	return true;
}

static bool is_string_tag(unsigned char tag)
{
	switch (tag) {
	case 0x0c:
	case 0x12:
	case 0x13:
	case 0x14:
	case 0x16:
	case 0x1c:
	case 0x1e:
		return true;
	default:
		return false;
	}
}

/* How ASN1_STRFLGS_RFC2253 escapes an ASCII byte (a_strex.c's char_type). */
enum esc { ESC_NONE, ESC_BS, ESC_BS_FIRST, ESC_BS_EDGE, ESC_HEX };

static enum esc esc_class(unsigned char c)
{
	switch (c) {
	case '"':
	case '+':
	case ',':
	case ';':
	case '<':
	case '>':
	case '\\':
		return ESC_BS;
	case '#':
		return ESC_BS_FIRST;
	case ' ':
		return ESC_BS_EDGE;
	default:
		return c < 0x20 || c == 0x7f ? ESC_HEX : ESC_NONE;
	}
}

/*
 * Appends the escaped UTF-8 text p..len at out (room for 3 * len bytes);
 * msb: bytes over 0x7f as \XX (ASN1_STRFLGS_ESC_MSB). Returns the length.
 */
static size_t escape(const unsigned char *p, size_t len, bool msb, unsigned char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		/* OpenSSL's "last" overrides "first" for a one-character value. */
		bool last = i + 1 == len, first = i == 0 && !last;
		enum esc e = c > 0x7f ? (msb ? ESC_HEX : ESC_NONE) : esc_class(c);

		if (e == ESC_BS || (e == ESC_BS_FIRST && first) ||
		    (e == ESC_BS_EDGE && (first || last))) {
			out[o++] = '\\';
			out[o++] = c;
		} else if (e == ESC_HEX) {
			out[o++] = '\\';
			out[o++] = (unsigned char)hex[c >> 4];
			out[o++] = (unsigned char)hex[c & 0xf];
		} else {
			out[o++] = c;
		}
	}
	return o;
}

/* ---------------------------------------------------------------- arena */

/*
 * A name's strings live in a chain of blocks that is freed at once: a
 * name has a dozen or more strings, and malloc and free of each cost as
 * much as building them. Pointers never move; the first block is sized
 * for a usual name, a larger one comes when it is full.
 */
struct arena {
	struct arena *next;
	size_t cap, used;
	size_t last; /* offset of the last allocation */
	unsigned char data[];
};

#define ARENA_ALIGN(n) (((n) + 7) & ~(size_t)7)

/* size bytes aligned for any struct, or NULL when out of memory. */
static void *arena_alloc(struct cm_name *n, size_t size, size_t block)
{
	struct arena *a = n->arena;
	void *p;

	size = ARENA_ALIGN(size);
	if (a == NULL || a->cap - a->used < size) {
		block = ARENA_ALIGN(block > size ? block : size);
		if ((a = malloc(sizeof(*a) + block)) == NULL) {
			return NULL;
		}
		a->next = n->arena;
		a->cap = block;
		a->used = 0;
		n->arena = a;
	}
	p = a->data + a->used;
	a->last = a->used;
	a->used += size;
	return p;
}

/* Gives back the unused end of p, the last allocation, which keeps used bytes. */
static void arena_trim(struct cm_name *n, void *p, size_t used)
{
	struct arena *a = n->arena;

	if (a != NULL && (unsigned char *)p == a->data + a->last &&
	    a->last + ARENA_ALIGN(used) <= a->used) {
		a->used = a->last + ARENA_ALIGN(used);
	}
}

/* size bytes for a string of the name (a new block is at least 1 KiB). */
static void *name_alloc(struct cm_name *n, size_t size)
{
	return arena_alloc(n, size, 1024);
}

/* v = p (len bytes plus the NUL it has room for), trimmed in the arena. */
static void value_take(struct cm_name *n, struct cm_value *v, unsigned char *p, size_t len)
{
	p[len] = '\0';
	v->data = p;
	v->len = len;
	v->unusable = NULL;
	arena_trim(n, p, len + 1);
}

/* Writes "#" and the upper-case hex of the TLV at out (room for
 * 2 * len + 1 bytes): how OpenSSL dumps a value. Returns the length. */
static size_t dump_into(const struct cm_der *tlv, unsigned char *out)
{
	static const char hex[] = "0123456789ABCDEF";

	out[0] = '#';
	for (size_t i = 0; i < tlv->len; i++) {
		out[1 + 2 * i] = (unsigned char)hex[tlv->p[i] >> 4];
		out[2 + 2 * i] = (unsigned char)hex[tlv->p[i] & 0xf];
	}
	return 2 * tlv->len + 1;
}

/* The dump of a non-string in the arena. */
static int value_dump(struct cm_name *n, const struct cm_der *tlv, struct cm_value *out)
{
	unsigned char *s = name_alloc(n, 2 * tlv->len + 2);

	if (s == NULL) {
		return -1;
	}
	value_take(n, out, s, dump_into(tlv, s));
	return 0;
}

/*
 * A value that is no character string: unusable, holding what OpenSSL
 * keeps of it (a SEQUENCE's whole TLV, a BIT STRING's bits without the
 * unused-bits byte, else the contents), printed as a DER dump.
 */
static int value_binary(struct cm_name *n, unsigned char tag, const struct cm_der *content,
			const struct cm_der *tlv, struct cm_ava *a)
{
	struct cm_der raw = tag == 0x30 ? *tlv : *content;
	unsigned char *p;

	if (tag == 0x03) {
		raw.p++;
		raw.len--;
	}
	if ((p = name_alloc(n, raw.len + 1)) == NULL) {
		return -1;
	}
	memcpy(p, raw.p, raw.len);
	value_take(n, &a->value, p, raw.len);
	a->value.unusable = not_a_string;
	return value_dump(n, tlv, &a->sssd_value);
}

/* Returns 0, 1 when the string is badly encoded, -1 when out of memory. */
static int value_string(struct cm_name *nm, unsigned char tag, const struct cm_der *content,
			struct cm_ava *a)
{
	unsigned char *utf8 = NULL, *esc = NULL;
	size_t n = 0;

	/* A Latin-1 byte takes at most 2 UTF-8 bytes, a BMP or UCS-4 unit fewer
	 * than its own size. */
	utf8 = name_alloc(nm, 2 * content->len + 1);
	if (utf8 == NULL) {
		return -1;
	}
	if (!string_to_utf8(tag, content->p, content->len, utf8, &n)) {
		return 1;
	}
	value_take(nm, &a->value, utf8, n);
	if (memchr(utf8, '\0', n) != NULL) {
		a->value.unusable = "the value contains a NUL byte";
	}
	esc = name_alloc(nm, 3 * n + 1);
	if (esc == NULL) {
		return -1;
	}
	value_take(nm, &a->sssd_value, esc, escape(utf8, n, true, esc));
	return 0;
}

/* ---------------------------------------------------------------- structure */

/* Reads one AttributeTypeAndValue; 0 or -1 when it is not one d2i accepts. */
static int ava_read(const struct cm_der *seq, struct cm_der *oid, struct cm_der *oid_tlv,
		    unsigned char *tag, struct cm_der *value, struct cm_der *value_tlv)
{
	struct cm_der c = *seq;

	if (cm_der_expect(&c, 0x06, oid, oid_tlv) != 0 || !cm_der_oid_ok(oid->p, oid->len) ||
	    cm_der_get(&c, tag, value, value_tlv) != 0 || c.len != 0 ||
	    !value_tag_ok(*tag)) {
		return -1;
	}
	return 0;
}

/*
 * Calls fn for every AVA (RDN index, AttributeTypeAndValue contents) in
 * DER order. Returns 0, -1 when the structure is wrong, or fn's non-zero.
 */
static int name_walk(const unsigned char *der, size_t len,
		     int (*fn)(void *arg, size_t rdn, const struct cm_der *ava), void *arg)
{
	struct cm_der all = { der, len }, rdns, set, ava;
	size_t rdn = 0;
	int rv;

	if (cm_der_expect(&all, 0x30, &rdns, NULL) != 0 || all.len != 0) {
		return -1;
	}
	for (; rdns.len > 0; rdn++) {
		if (cm_der_expect(&rdns, 0x31, &set, NULL) != 0) {
			return -1;
		}
		while (set.len > 0) {
			if (cm_der_expect(&set, 0x30, &ava, NULL) != 0) {
				return -1;
			}
			if ((rv = fn(arg, rdn, &ava)) != 0) {
				return rv;
			}
		}
	}
	return 0;
}

/* name_walk callback: checks the AVA's shape and counts it. */
static int ava_count(void *arg, size_t rdn, const struct cm_der *seq)
{
	struct cm_der oid, oid_tlv, value, value_tlv;
	unsigned char tag;

	(void)rdn;
	if (ava_read(seq, &oid, &oid_tlv, &tag, &value, &value_tlv) != 0) {
		return -1;
	}
	++*(size_t *)arg;
	return 0;
}

static char *name_strdup(struct cm_name *n, const char *s, size_t len)
{
	char *p = name_alloc(n, len + 1);

	if (p != NULL) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

/* The dotted OID in the arena (OpenSSL prints the rare huge arc). */
static char *ava_oid_text(struct cm_name *n, const struct cm_der *oid, const struct cm_der *tlv)
{
	char *p = name_alloc(n, OID_TEXT_CAP(oid->len)), *slow;
	size_t len;

	if (p == NULL) {
		return NULL;
	}
	if ((len = oid_text_into(oid->p, oid->len, p)) > 0) {
		arena_trim(n, p, len + 1);
		return p;
	}
	arena_trim(n, p, 0);
	if ((slow = oid_text_der(oid, tlv)) == NULL) {
		return NULL;
	}
	p = name_strdup(n, slow, strlen(slow));
	free(slow);
	return p;
}

/* name_walk callback: fills the next AVA; -1 ENOMEM, 1 bad string. */
static const char *grid_type(const struct cm_ava *a);

/*
 * What the renderings need of each AVA, kept while a name is parsed so
 * that they neither walk the DER again nor measure strings again.
 */
struct ava_meta {
	unsigned char tag;
	struct cm_der value;     /* the value's contents */
	size_t type_len, oid_len;
	const char *grid_type;   /* grid_type() */
	size_t grid_type_len;
	bool undef;              /* type is "UNDEF" */
};

struct fill {
	struct cm_name *n;
	struct ava_meta *meta;
	bool same_rfc;           /* rfc4514 renders like sssd */
};

/* Static storage lives as long as the name (an arena name never frees
 * its type or OID one by one). */
static char *static_text(const char *s)
{
	union {
		const char *c;
		char *p;
	} u = { s };

	return u.p;
}

/* name_walk callback: fills the next AVA; -1 ENOMEM, 1 bad string. */
static int ava_fill(void *arg, size_t rdn, const struct cm_der *seq)
{
	struct fill *f = arg;
	struct cm_name *n = f->n;
	struct ava_meta *m = &f->meta[n->n_avas];
	struct cm_ava *a = &n->avas[n->n_avas];
	struct cm_der oid, oid_tlv, value, value_tlv;
	const char *type;
	unsigned char tag;
	int rv;

	if (ava_read(seq, &oid, &oid_tlv, &tag, &value, &value_tlv) != 0) {
		return 1;
	}
	n->n_avas++;
	a->rdn = rdn;
	n->n_rdns = rdn + 1;
	type = oid_type_name(&oid, &oid_tlv);
	if (type == NULL) {
		return -1;
	}
	a->type = static_text(type);
	if (oid.len == 3 && oid.p[0] == 0x55 && oid.p[1] == 0x04 && oid.p[2] < 128 &&
	    x520_oids[oid.p[2]][0] != '\0') {
		a->oid = x520_oids[oid.p[2]];
	} else if ((a->oid = ava_oid_text(n, &oid, &oid_tlv)) == NULL) {
		return -1;
	}
	m->tag = tag;
	m->value = value;
	m->type_len = strlen(a->type);
	m->oid_len = strlen(a->oid);
	m->undef = strcmp(a->type, "UNDEF") == 0;
	m->grid_type = grid_type(a);
	m->grid_type_len = m->grid_type == a->type ? m->type_len :
			   m->grid_type == a->oid ? m->oid_len : strlen(m->grid_type);
	if (!is_string_tag(tag)) {
		rv = value_binary(n, tag, &value, &value_tlv, a);
		f->same_rfc = f->same_rfc && !m->undef;
		return rv;
	}
	if ((rv = value_string(n, tag, &value, a)) != 0) {
		return rv;
	}
	/* Without bytes over 0x7f, the RFC 4514 escaping is SSSD's. */
	for (size_t i = 0; f->same_rfc && i < a->value.len; i++) {
		f->same_rfc = a->value.data[i] < 0x80;
	}
	f->same_rfc = f->same_rfc && !m->undef;
	return 0;
}

/* ---------------------------------------------------------------- renderings */

/* The rfc4514 value: the sssd one with UTF-8 kept (a dump is the same). */
static size_t rfc_value(const struct cm_ava *a, unsigned char *out)
{
	if (a->value.unusable == not_a_string) {
		memcpy(out, a->sssd_value.data, a->sssd_value.len);
		return a->sssd_value.len;
	}
	return escape(a->value.data, a->value.len, false, out);
}

/* Joins "TYPE=value" for every AVA with ',', forward or in reverse order. */
static int render(struct cm_name *n, const struct ava_meta *meta, bool reverse, bool rfc,
		  struct cm_value *out)
{
	unsigned char *s = NULL;
	size_t cap = 1, o = 0;

	for (size_t i = 0; i < n->n_avas; i++) {
		const struct cm_ava *a = &n->avas[i];

		cap += meta[i].type_len + meta[i].oid_len + 2 +
		       (rfc ? 3 * a->value.len + a->sssd_value.len : a->sssd_value.len);
	}
	s = name_alloc(n, cap);
	if (s == NULL) {
		return -1;
	}
	for (size_t k = 0; k < n->n_avas; k++) {
		size_t i = reverse ? n->n_avas - 1 - k : k;
		const struct cm_ava *a = &n->avas[i];
		bool by_oid = rfc && meta[i].undef;
		const char *type = by_oid ? a->oid : a->type;
		size_t tl = by_oid ? meta[i].oid_len : meta[i].type_len;

		if (k > 0) {
			s[o++] = ',';
		}
		memcpy(s + o, type, tl);
		o += tl;
		s[o++] = '=';
		if (rfc) {
			o += rfc_value(a, s + o);
		} else {
			memcpy(s + o, a->sssd_value.data, a->sssd_value.len);
			o += a->sssd_value.len;
		}
	}
	value_take(n, out, s, o);
	return 0;
}

/* ---------------------------------------------------------------- grid */

/*
 * The grid rendering is X509_NAME_oneline()'s (crypto/x509/x509_obj.c of
 * OpenSSL 3.0): for every AVA in DER order '/' (or '+' inside a
 * multi-valued RDN), OpenSSL's short name of the attribute (an unknown
 * one as its dotted OID, which OpenSSL cuts at 79 characters), '=', and
 * the bytes OpenSSL stores for the value (a string's contents as they
 * are, so a BMPString prints its UCS-2 bytes), bytes outside ' '..'~' as
 * \xHH and '/' or '+' after a backslash. tests/fuzz/fuzz_name_diff.c and
 * tests/unit/test_cert.c compare it with X509_NAME_oneline.
 *
 * That form is not one-to-one, so an AVA whose value could print like
 * another value makes the grid rendering unusable (certmap.conf(5),
 * "MAPFILE:"): a backslash (the 13 ASCII characters
 * "J\xC3\xBCrgen" print like the UTF-8 "Jürgen"), '/' or '+' (OpenSSL
 * before 3.0 printed them bare), a byte over 0x7f in a one-byte string
 * type (the TeletexString "JÃ¼rgen" prints like the UTF8String "Jürgen"),
 * a BMPString or UniversalString character over U+00FF (the BMPString
 * U+4A4B prints as "JK"), and an unknown attribute OID longer than 79
 * characters.
 */
static const char grid_special[] =
	"a value holds '\\', '/' or '+', which the grid form cannot show unambiguously";
static const char grid_latin1[] =
	"a non-ASCII byte in a one-byte string type prints like UTF-8 text in the grid form";
static const char grid_wide[] =
	"a BMPString or UniversalString character over U+00FF prints like other text in the grid form";
static const char grid_long_oid[] =
	"an attribute OID longer than 79 characters is cut short in the grid form";
static const char grid_ambiguous[] =
	"a value of the distinguished name cannot be shown unambiguously in the grid form";

/* OpenSSL's short name of the attribute: SSSD's renames undone. */
static const char *grid_type(const struct cm_ava *a)
{
	/* Most types ("CN", "O", "DC") are none of those below. */
	if (strchr("UgMOES", a->type[0]) == NULL) {
		return a->type;
	}
	if (strcmp(a->type, "UNDEF") == 0) {
		return a->oid;
	}
	for (size_t i = 0; i < CM_ARRAY_SIZE(sssd_attr_names); i++) {
		if (strcmp(a->type, sssd_attr_names[i].sssd) == 0) {
			return sssd_attr_names[i].openssl;
		}
	}
	return a->type;
}

/* Why the value's bytes could print like another value's, or NULL. */
static const char *grid_check(unsigned char tag, const unsigned char *p, size_t len)
{
	size_t w = tag == 0x1e ? 2 : tag == 0x1c ? 4 : 1;

	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\\' || p[i] == '/' || p[i] == '+') {
			return grid_special;
		}
	}
	for (size_t i = 0; i < len; i++) {
		/* A wide character's bytes but the last must be zero. */
		if (w > 1 && i % w != w - 1 && p[i] != 0) {
			return grid_wide;
		}
		if (w == 1 && tag != 0x0c && p[i] > 0x7f) {
			return grid_latin1;
		}
	}
	return NULL;
}

/* Appends AVA i as X509_NAME_oneline does at out; returns the new length. */
static size_t ava_grid(struct cm_name *n, const struct ava_meta *m, size_t i, unsigned char *out,
		       size_t o)
{
	static const char hex[] = "0123456789ABCDEF";
	struct cm_ava *a = &n->avas[i];
	bool str = is_string_tag(m->tag);
	/* A non-string value's bytes are those OpenSSL keeps (value_binary). */
	const unsigned char *p = str ? m->value.p : a->value.data;
	size_t len = str ? m->value.len : a->value.len, tl = m->grid_type_len;

	a->grid_unusable = a->value.unusable != NULL ? a->value.unusable : grid_check(m->tag, p, len);
	if (a->grid_unusable == NULL && m->grid_type == a->oid && tl > 79) {
		a->grid_unusable = grid_long_oid;
	}
	out[o++] = i > 0 && n->avas[i - 1].rdn == a->rdn ? '+' : '/';
	if (tl > 79 && m->grid_type == a->oid) {
		tl = 79;
	}
	memcpy(out + o, m->grid_type, tl);
	o += tl;
	out[o++] = '=';
	for (size_t k = 0; k < len; k++) {
		if (p[k] < ' ' || p[k] > '~') {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = (unsigned char)hex[p[k] >> 4];
			out[o++] = (unsigned char)hex[p[k] & 0xf];
			continue;
		}
		if (p[k] == '/' || p[k] == '+') {
			out[o++] = '\\';
		}
		out[o++] = p[k];
	}
	return o;
}

static int render_grid(struct cm_name *n, const struct ava_meta *meta)
{
	unsigned char *out;
	size_t cap = 1, o = 0;

	/* Each value byte prints as at most 4 ("\xHH"). */
	for (size_t i = 0; i < n->n_avas; i++) {
		cap += 2 + meta[i].grid_type_len + 4 * (meta[i].value.len + n->avas[i].value.len);
	}
	if ((out = name_alloc(n, cap)) == NULL) {
		return -1;
	}
	for (size_t i = 0; i < n->n_avas; i++) {
		o = ava_grid(n, &meta[i], i, out, o);
	}
	value_take(n, &n->grid, out, o);
	for (size_t i = 0; i < n->n_avas; i++) {
		if (n->avas[i].grid_unusable != NULL) {
			n->grid.unusable = grid_ambiguous;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- OpenSSL's one line */

/*
 * The text X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 &
 * ~ASN1_STRFLGS_ESC_MSB) prints, for the audit record (audit.c): do_name_ex
 * and do_print_ex of crypto/asn1/a_strex.c (OpenSSL 3.0) with those flags.
 * The AVAs come in reverse DER order, a multi-valued RDN's too, with ','
 * between RDNs and '+' inside one (OpenSSL compares the RDN index, which
 * empty RDNs count in). Each is TYPE=value: TYPE is OpenSSL's short name
 * (not SSSD's renames); for an attribute OpenSSL does not know
 * (OBJ_obj2nid is NID_undef), the dotted OID as OBJ_obj2txt writes it into
 * do_name_ex's 80-byte buffer, so at most 79 characters, and the value as
 * '#' and the hex of its DER (XN_FLAG_DUMP_UNKNOWN_FIELDS). A known
 * attribute's string value is the rfc4514 rendering's: its UTF-8, escaped
 * by escape() without msb.
 *
 * Only names whose every value is a character string are printed here (a
 * BIT STRING, say, is dumped as OpenSSL re-encodes it, which this file
 * does not), and only OIDs oid_text_into prints (arcs under 2^63).
 * Anything else is left to OpenSSL; tests/fuzz/fuzz_name_diff.c compares
 * every text this prints with OpenSSL's, byte for byte.
 */

/* OBJ_obj2txt writes an unknown type's OID into do_name_ex's char[80]. */
#define PRINT_OID_MAX 79

struct print_ava {
	size_t rdn;
	unsigned char tag;
	struct cm_der oid, oid_tlv, value, value_tlv;
	const char *sn; /* OpenSSL's short name, NULL when it does not know the type */
};

struct print_list {
	struct print_ava *avas;
	size_t n;
};

/* name_walk callback: keeps the next AVA (ava_count has counted them). */
static int ava_keep(void *arg, size_t rdn, const struct cm_der *seq)
{
	struct print_list *l = arg;
	struct print_ava *a = &l->avas[l->n];

	if (ava_read(seq, &a->oid, &a->oid_tlv, &a->tag, &a->value, &a->value_tlv) != 0) {
		return -1;
	}
	a->rdn = rdn;
	l->n++;
	return 0;
}

/*
 * Sets a->sn to OpenSSL's short name of the type (NULL when OpenSSL does
 * not know it). Returns false when out of memory or OpenSSL has a number
 * but no short name for it.
 */
static bool print_type(struct print_ava *a)
{
	const struct cm_der *c = &a->oid;
	ASN1_OBJECT *obj;
	int nid;

	a->sn = NULL;
	if (pthread_once(&names_once, names_init) == 0) {
		if (c->len == 3 && c->p[0] == 0x55 && c->p[1] == 0x04 &&
		    c->p[2] < CM_ARRAY_SIZE(x520_sn) && x520_sn[c->p[2]] != NULL) {
			a->sn = x520_sn[c->p[2]];
			return true;
		}
		for (size_t i = 0; i < CM_ARRAY_SIZE(other_names); i++) {
			if (other_names[i].sn != NULL &&
			    cm_der_equal(c, other_names[i].der, other_names[i].len)) {
				a->sn = other_names[i].sn;
				return true;
			}
		}
	}
	if ((obj = oid_object(&a->oid_tlv)) == NULL) {
		return false;
	}
	nid = OBJ_obj2nid(obj);
	ASN1_OBJECT_free(obj);
	if (nid == NID_undef) {
		return true;
	}
	a->sn = OBJ_nid2sn(nid);
	return a->sn != NULL;
}

/* Bytes print_one may write for a (3 per UTF-8 byte, 2 UTF-8 bytes per
 * string byte at most). */
static size_t print_room(const struct print_ava *a)
{
	if (a->sn != NULL) {
		return 2 + strlen(a->sn) + 6 * a->value.len;
	}
	return 2 + OID_TEXT_CAP(a->oid.len) + 2 * a->value_tlv.len + 1;
}

/*
 * Appends a as do_name_ex prints it at out + *o, utf8 being room for
 * 2 * a->value.len bytes. Returns false when the name is OpenSSL's to
 * print: a value that is no character string, an OID arc of 2^63 or more, or
 * a string d2i_X509_NAME rejects (it checks every string, dumped or not).
 */
static bool print_one(const struct print_ava *a, unsigned char *utf8, unsigned char *out, size_t *o)
{
	size_t n = 0, k = *o, l;

	if (!is_string_tag(a->tag) || !string_to_utf8(a->tag, a->value.p, a->value.len, utf8, &n)) {
		return false;
	}
	if (a->sn != NULL) {
		l = strlen(a->sn);
		memcpy(out + k, a->sn, l);
		k += l;
		out[k++] = '=';
		k += escape(utf8, n, false, out + k);
	} else {
		if ((l = oid_text_into(a->oid.p, a->oid.len, (char *)out + k)) == 0) {
			return false;
		}
		k += l < PRINT_OID_MAX ? l : PRINT_OID_MAX;
		out[k++] = '=';
		k += dump_into(&a->value_tlv, out + k);
	}
	*o = k;
	return true;
}

/* Prints the kept AVAs in reverse order at out; false as print_one. */
static bool print_all(const struct print_list *l, unsigned char *utf8, unsigned char *out,
		      size_t *len)
{
	size_t o = 0;

	for (size_t k = 0; k < l->n; k++) {
		size_t i = l->n - 1 - k;

		if (k > 0) {
			out[o++] = l->avas[i].rdn == l->avas[i + 1].rdn ? '+' : ',';
		}
		if (!print_one(&l->avas[i], utf8, out, &o)) {
			return false;
		}
	}
	*len = o;
	return true;
}

char *cm_name_print_rfc2253(const unsigned char *der, size_t len, size_t cap)
{
	struct print_ava stack_avas[16];
	unsigned char stack_out[2048], stack_utf8[512];
	struct print_list l = { stack_avas, 0 };
	unsigned char *out = stack_out, *utf8 = stack_utf8;
	size_t count = 0, room = 1, vmax = 0, n = 0;
	char *text = NULL;

	if (len == 0 || len > CM_CERT_MAX_SIZE || !cm_der_validate(der, len) ||
	    name_walk(der, len, ava_count, &count) != 0) {
		return NULL;
	}
	if (count > CM_ARRAY_SIZE(stack_avas) &&
	    (l.avas = calloc(count, sizeof(*l.avas))) == NULL) {
		return NULL;
	}
	if (name_walk(der, len, ava_keep, &l) != 0) {
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		if (!print_type(&l.avas[i])) {
			goto out;
		}
		room += print_room(&l.avas[i]);
		vmax = l.avas[i].value.len > vmax ? l.avas[i].value.len : vmax;
	}
	if ((room > sizeof(stack_out) && (out = malloc(room)) == NULL) ||
	    (2 * vmax > sizeof(stack_utf8) && (utf8 = malloc(2 * vmax)) == NULL) ||
	    !print_all(&l, utf8, out, &n)) {
		goto out;
	}
	/* The whole name is checked and printed before the cut, as OpenSSL
	 * prints it whole (and prints nothing for a name it rejects). */
	n = n < cap ? n : cap;
	if ((text = malloc(n + 1)) != NULL) {
		memcpy(text, out, n);
		text[n] = '\0';
	}
out:
	if (utf8 != stack_utf8) {
		free(utf8);
	}
	if (out != stack_out) {
		free(out);
	}
	if (l.avas != stack_avas) {
		free(l.avas);
	}
	return text;
}

/* ---------------------------------------------------------------- API */

static int name_fail(char **errmsg, int rv, const char *why)
{
	if (errmsg != NULL && *errmsg == NULL) {
		*errmsg = strdup(why);
	}
	return rv;
}

static int name_parse(const unsigned char *der, size_t len, struct cm_name *out,
		      char **errmsg, bool validated)
{
	struct ava_meta stack_meta[16];
	struct fill f = { .meta = stack_meta };
	size_t count = 0;
	int rv = CERTMAP_ERR_NOMEM, r;

	memset(out, 0, sizeof(*out));
	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	if (len == 0 || len > CM_CERT_MAX_SIZE) {
		rv = name_fail(errmsg, CERTMAP_ERR_CERT, "the distinguished name is empty or too long");
		goto out;
	}
	if ((!validated && !cm_der_validate(der, len)) ||
	    name_walk(der, len, ava_count, &count) != 0) {
		rv = name_fail(errmsg, CERTMAP_ERR_CERT, "the distinguished name is not valid DER");
		goto out;
	}
	/* One block holds a usual name: the AVAs, the DER, and the strings
	 * (values, escaped values, four renderings: about 12 bytes of text
	 * per byte of DER at most in practice, more blocks if not). */
	if ((out->avas = arena_alloc(out, (count + 1) * sizeof(*out->avas),
				     (count + 1) * sizeof(*out->avas) + 12 * len + 64 * count + 256)) == NULL ||
	    (out->der = name_alloc(out, len)) == NULL) {
		goto out;
	}
	memset(out->avas, 0, (count + 1) * sizeof(*out->avas));
	memcpy(out->der, der, len);
	out->der_len = len;
	f.n = out;
	f.meta = count <= CM_ARRAY_SIZE(stack_meta) ? stack_meta : calloc(count, sizeof(*f.meta));
	f.same_rfc = true;
	if (f.meta == NULL) {
		goto out;
	}
	r = name_walk(der, len, ava_fill, &f);
	if (r > 0) {
		rv = name_fail(errmsg, CERTMAP_ERR_CERT,
			       "the distinguished name holds a badly encoded string");
		goto out;
	}
	if (r < 0 || render(out, f.meta, true, false, &out->sssd) != 0 ||
	    render(out, f.meta, false, false, &out->x500) != 0) {
		goto out;
	}
	/* An ASCII name renders alike both ways: one copy, and matchers see
	 * by the pointer that there is nothing else to try. */
	if (f.same_rfc) {
		out->rfc4514 = out->sssd;
	} else if (render(out, f.meta, true, true, &out->rfc4514) != 0) {
		goto out;
	}
	if (render_grid(out, f.meta) != 0) {
		goto out;
	}
	rv = 0;
out:
	if (f.meta != stack_meta) {
		free(f.meta);
	}
	if (rv != 0) {
		cm_name_clear(out);
	}
	if (rv == CERTMAP_ERR_NOMEM) {
		name_fail(errmsg, rv, "out of memory");
	}
	return rv;
}

int cm_name_parse(const unsigned char *der, size_t len, struct cm_name *out,
		  char **errmsg)
{
	return name_parse(der, len, out, errmsg, false);
}

int cm_name_parse_validated(const unsigned char *der, size_t len, struct cm_name *out,
			    char **errmsg)
{
	return name_parse(der, len, out, errmsg, true);
}

void cm_name_clear(struct cm_name *n)
{
	struct arena *a, *next;

	if (n == NULL) {
		return;
	}
	if (n->arena != NULL) {
		for (a = n->arena; a != NULL; a = next) {
			next = a->next;
			free(a);
		}
		memset(n, 0, sizeof(*n));
		return;
	}
	for (size_t i = 0; n->avas != NULL && i < n->n_avas; i++) {
		free(n->avas[i].type);
		free(n->avas[i].oid);
		cm_value_clear(&n->avas[i].value);
		cm_value_clear(&n->avas[i].sssd_value);
	}
	free(n->avas);
	free(n->der);
	cm_value_clear(&n->sssd);
	cm_value_clear(&n->rfc4514);
	cm_value_clear(&n->x500);
	cm_value_clear(&n->grid);
	memset(n, 0, sizeof(*n));
}

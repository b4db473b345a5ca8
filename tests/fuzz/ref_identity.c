/*
 * The REFERENCE certificate parser for the differential fuzzer
 * (fuzz_cert_diff.c): certmap's original extraction, which builds a full
 * OpenSSL X509 object with d2i_X509 and reads every field from it. It is
 * slow (the public key is decoded through the providers) but its
 * acceptance is OpenSSL's by construction, which is what mapper/cert.c's
 * DER walker is compared against. Never linked into libcertmap.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certmap.h"
#include "identity.h"
#include "ref_name.h"
#include "ref_identity.h"

#define OID_UPN "1.3.6.1.4.1.311.20.2.3"
#define OID_KRB5 "1.3.6.1.5.2.2"
#define OID_SID_EXT "1.3.6.1.4.1.311.25.2"
/* DER content octets of 1.3.6.1.4.1.311.25.2.1, the SID's otherName type. */
static const unsigned char sid_oid_der[] = {
	0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x19, 0x02, 0x01
};

/* ---------------------------------------------------------------- helpers */

static int fail(char **errmsg, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char **errmsg, int code, const char *fmt, ...)
{
	va_list ap;

	ERR_clear_error();
	if (errmsg != NULL && *errmsg == NULL) {
		va_start(ap, fmt);
		if (vasprintf(errmsg, fmt, ap) < 0) {
			*errmsg = NULL;
		}
		va_end(ap);
	}
	return code;
}

static int nomem(char **errmsg)
{
	return fail(errmsg, CERTMAP_ERR_NOMEM, "out of memory");
}

/* A read-only cursor over DER bytes. */
struct der {
	const unsigned char *p;
	size_t len;
};

/*
 * Reads one TLV with a one-byte tag and a definite length. On success
 * moves c past it and returns 0 with the content in *content; otherwise
 * returns -1 and leaves c alone.
 */
static int der_get(struct der *c, unsigned char *tag, struct der *content)
{
	size_t hdr = 2, n;

	if (c->len < 2 || (c->p[0] & 0x1f) == 0x1f) {
		return -1;
	}
	n = c->p[1];
	if (n & 0x80) {
		size_t k = n & 0x7f;

		if (k == 0 || k > 4 || c->len < 2 + k) {
			return -1;
		}
		n = 0;
		for (size_t i = 0; i < k; i++) {
			n = (n << 8) | c->p[2 + i];
		}
		hdr += k;
	}
	if (n > c->len - hdr) {
		return -1;
	}
	*tag = c->p[0];
	content->p = c->p + hdr;
	content->len = n;
	c->p += hdr + n;
	c->len -= hdr + n;
	return 0;
}

/* Reads one TLV that must have the given tag. */
static int der_expect(struct der *c, unsigned char tag, struct der *content)
{
	struct der save = *c;
	unsigned char t;

	if (der_get(c, &t, content) != 0) {
		return -1;
	}
	if (t != tag) {
		*c = save;
		return -1;
	}
	return 0;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
static bool utf8_valid(const unsigned char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		size_t n;
		unsigned long cp, min;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (len - i <= n) {
			return false;
		}
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80) {
				return false;
			}
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
			return false;
		}
		i += n + 1;
	}
	return true;
}

/* Stores bytes that must be UTF-8 text; unusable otherwise. */
static int value_set_utf8(struct cm_value *v, const void *p, size_t len,
			  const char *bad_encoding)
{
	if (cm_value_set_text(v, p, len) != 0) {
		return -1;
	}
	if (v->unusable == NULL && !utf8_valid(p, len)) {
		v->unusable = bad_encoding;
	}
	return 0;
}

/* Stores an IA5String's bytes; unusable with NUL or non-ASCII bytes. */
static int value_set_ia5(struct cm_value *v, const ASN1_STRING *s)
{
	const unsigned char *p = ASN1_STRING_get0_data(s);
	size_t len = (size_t)ASN1_STRING_length(s);

	if (cm_value_set_text(v, p, len) != 0) {
		return -1;
	}
	for (size_t i = 0; v->unusable == NULL && i < len; i++) {
		if (p[i] >= 0x80) {
			v->unusable = "the value contains non-ASCII bytes";
		}
	}
	return 0;
}

/* The DER of an object, as malloc'd bytes. */
#define DER_OF(type, obj, out, outlen)                                   \
	do {                                                             \
		unsigned char *der_ = NULL;                              \
		int n_ = i2d_##type((obj), &der_);                       \
		*(out) = NULL;                                           \
		*(outlen) = 0;                                           \
		if (n_ > 0) {                                            \
			*(out) = malloc((size_t)n_ + 1);                 \
			if (*(out) != NULL) {                            \
				memcpy(*(out), der_, (size_t)n_);        \
				(*(out))[n_] = '\0'; /* as cm_value has */ \
				*(outlen) = (size_t)n_;                  \
			}                                                \
		}                                                        \
		OPENSSL_free(der_);                                      \
	} while (0)

/* ---------------------------------------------------------------- fields */

/* OpenSSL's own dotted text (independent of name.c's cm_oid_text). */
static char *ref_oid_text(const ASN1_OBJECT *obj)
{
	int n = OBJ_obj2txt(NULL, 0, obj, 1);
	char *s = n > 0 ? malloc((size_t)n + 1) : NULL;

	if (s != NULL && OBJ_obj2txt(s, n + 1, obj, 1) != n) {
		free(s);
		s = NULL;
	}
	return s;
}


static int get_name(const X509_NAME *xn, struct cm_name *out, const char *what,
		    char **errmsg)
{
	const unsigned char *der = NULL;
	size_t len = 0;
	char *why = NULL;
	int rv;

	if (X509_NAME_get0_der((X509_NAME *)xn, &der, &len) != 1) {
		return fail(errmsg, CERTMAP_ERR_CERT, "the %s name cannot be encoded", what);
	}
	rv = ref_name_parse(der, len, out, &why);
	if (rv != 0) {
		rv = fail(errmsg, rv, "the %s name: %s", what, why != NULL ? why : "?");
	}
	free(why);
	return rv;
}

static int get_serial(X509 *x, struct cm_identity *id, char **errmsg)
{
	const ASN1_INTEGER *s = X509_get0_serialNumber(x);
	BIGNUM *bn = NULL;
	char *dec = NULL;
	size_t len = (size_t)ASN1_STRING_length(s);
	int rv;

	bn = ASN1_INTEGER_to_BN(s, NULL);
	dec = bn != NULL ? BN_bn2dec(bn) : NULL;
	if (dec == NULL) {
		rv = fail(errmsg, CERTMAP_ERR_CERT, "the serial number cannot be decoded");
		goto out;
	}
	/* OpenSSL keeps the magnitude without the sign byte; 0 may be empty. */
	id->serial = calloc(len == 0 ? 1 : len, 1);
	id->serial_dec = strdup(dec);
	if (id->serial == NULL || id->serial_dec == NULL) {
		rv = nomem(errmsg);
		goto out;
	}
	if (len > 0) {
		memcpy(id->serial, ASN1_STRING_get0_data(s), len);
	}
	id->serial_len = len == 0 ? 1 : len;
	id->serial_negative = ASN1_STRING_type(s) == V_ASN1_NEG_INTEGER;
	rv = 0;
out:
	OPENSSL_free(dec);
	BN_free(bn);
	return rv;
}

/* X509_get_ext_d2i, telling "absent" from "malformed or repeated". */
static int ext_d2i(X509 *x, int nid, const char *what, void **out, char **errmsg)
{
	int crit = -1;

	*out = X509_get_ext_d2i(x, nid, &crit, NULL);
	if (*out == NULL && crit != -1) {
		return fail(errmsg, CERTMAP_ERR_CERT,
			    "the %s extension is malformed or appears more than once", what);
	}
	ERR_clear_error();
	return 0;
}

static int get_ski(X509 *x, struct cm_identity *id, char **errmsg)
{
	ASN1_OCTET_STRING *ski = NULL;
	size_t len;
	int rv;

	if ((rv = ext_d2i(x, NID_subject_key_identifier, "subjectKeyIdentifier",
			  (void **)&ski, errmsg)) != 0 || ski == NULL) {
		return rv;
	}
	len = (size_t)ASN1_STRING_length(ski);
	id->ski = malloc(len + 1);
	if (id->ski == NULL) {
		rv = nomem(errmsg);
	} else {
		memcpy(id->ski, ASN1_STRING_get0_data(ski), len);
		id->ski_len = len;
		id->has_ski = true;
	}
	ASN1_OCTET_STRING_free(ski);
	return rv;
}

static int get_ku(X509 *x, struct cm_identity *id, char **errmsg)
{
	ASN1_BIT_STRING *ku = NULL;
	const unsigned char *p;
	int rv;

	if ((rv = ext_d2i(x, NID_key_usage, "keyUsage", (void **)&ku, errmsg)) != 0 ||
	    ku == NULL) {
		return rv;
	}
	/* The same bit layout as OpenSSL's X509v3_KU_* constants. */
	p = ASN1_STRING_get0_data(ku);
	id->ku = 0;
	if (ASN1_STRING_length(ku) > 0) {
		id->ku |= p[0];
	}
	if (ASN1_STRING_length(ku) > 1) {
		id->ku |= (uint32_t)p[1] << 8;
	}
	id->has_ku = true;
	ASN1_BIT_STRING_free(ku);
	return 0;
}

static int get_eku(X509 *x, struct cm_identity *id, char **errmsg)
{
	EXTENDED_KEY_USAGE *eku = NULL;
	int rv;

	if ((rv = ext_d2i(x, NID_ext_key_usage, "extendedKeyUsage", (void **)&eku,
			  errmsg)) != 0 || eku == NULL) {
		return rv;
	}
	id->has_eku = true;
	for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		if (cm_strv_take(&id->eku, ref_oid_text(sk_ASN1_OBJECT_value(eku, i))) != 0) {
			rv = nomem(errmsg);
			break;
		}
	}
	EXTENDED_KEY_USAGE_free(eku);
	return rv;
}

/* ---------------------------------------------------------------- SANs */

static int san_short_name(struct cm_san *san, char delim)
{
	const unsigned char *d = memchr(san->text.data, delim, san->text.len);
	size_t n = d != NULL ? (size_t)(d - san->text.data) : san->text.len;

	if (cm_value_set(&san->short_name, san->text.data, n) != 0) {
		return -1;
	}
	san->short_name.unusable = san->text.unusable;
	return 0;
}

static int san_set_unusable_text(struct cm_san *san, const char *why)
{
	if (cm_value_set(&san->text, "", 0) != 0) {
		return -1;
	}
	san->text.unusable = why;
	return 0;
}

/* Appends one Kerberos GeneralString to b; false if it is not text. */
static bool krb5_add_string(struct cm_buf *b, struct der *c)
{
	struct der s;

	if (der_expect(c, 0x1b, &s) != 0 || memchr(s.p, '\0', s.len) != NULL ||
	    !utf8_valid(s.p, s.len)) {
		return false;
	}
	cm_buf_add(b, s.p, s.len);
	return true;
}

/*
 * KRB5PrincipalName ::= SEQUENCE { realm [0] Realm, principalName [1]
 * PrincipalName }, PrincipalName ::= SEQUENCE { name-type [0] Int32,
 * name-string [1] SEQUENCE OF GeneralString }. Renders "c1/c2@REALM", or
 * returns NULL when it is malformed or not text.
 */
static char *krb5_render(const unsigned char *p, size_t len, size_t *out_len)
{
	struct der all = { p, len }, seq, realm, pn, pnseq, type, names, strs, v;
	struct cm_buf b;
	size_t n = 0;

	if (der_expect(&all, 0x30, &seq) != 0 || all.len != 0 ||
	    der_expect(&seq, 0xa0, &realm) != 0 || der_expect(&seq, 0xa1, &pn) != 0 ||
	    seq.len != 0 || der_expect(&pn, 0x30, &pnseq) != 0 || pn.len != 0 ||
	    der_expect(&pnseq, 0xa0, &type) != 0 || der_expect(&type, 0x02, &v) != 0 ||
	    type.len != 0 || der_expect(&pnseq, 0xa1, &names) != 0 || pnseq.len != 0 ||
	    der_expect(&names, 0x30, &strs) != 0 || names.len != 0) {
		return NULL;
	}
	cm_buf_init(&b, CM_CERT_MAX_SIZE);
	while (strs.len > 0) {
		if (n++ > 0) {
			cm_buf_addc(&b, '/');
		}
		if (!krb5_add_string(&b, &strs)) {
			cm_buf_free(&b);
			return NULL;
		}
	}
	cm_buf_addc(&b, '@');
	if (n == 0 || !krb5_add_string(&b, &realm) || realm.len != 0) {
		cm_buf_free(&b);
		return NULL;
	}
	return cm_buf_steal(&b, out_len);
}

static int san_krb5(struct cm_san *san)
{
	size_t len = 0;
	char *s = krb5_render(san->raw.data, san->raw.len, &len);
	int rv;

	if (s == NULL) {
		return san_set_unusable_text(san,
			"the Kerberos principal name is malformed or not UTF-8 text");
	}
	rv = cm_value_set(&san->text, s, len);
	free(s);
	return rv;
}

static int san_upn(struct cm_san *san, const ASN1_TYPE *value)
{
	const ASN1_STRING *s;

	if (ASN1_TYPE_get(value) != V_ASN1_UTF8STRING) {
		return san_set_unusable_text(san, "the UPN is not a UTF8String");
	}
	s = value->value.utf8string;
	return value_set_utf8(&san->text, ASN1_STRING_get0_data(s),
			      (size_t)ASN1_STRING_length(s),
			      "the UPN is not valid UTF-8");
}

static int san_other(const OTHERNAME *on, struct cm_san *san)
{
	int rv;

	san->type = CM_SAN_OTHER_NAME;
	san->other_oid = ref_oid_text(on->type_id);
	DER_OF(ASN1_TYPE, on->value, &san->raw.data, &san->raw.len);
	if (san->other_oid == NULL || san->raw.data == NULL) {
		return -1;
	}
	if (strcmp(san->other_oid, OID_UPN) == 0) {
		san->other_kind = CM_OTHER_UPN;
		rv = san_upn(san, on->value);
	} else if (strcmp(san->other_oid, OID_KRB5) == 0) {
		san->other_kind = CM_OTHER_KRB5;
		rv = san_krb5(san);
	} else {
		san->other_kind = CM_OTHER_GENERIC;
		return san_set_unusable_text(san, "an otherName of this type has no text form");
	}
	return rv != 0 ? rv : san_short_name(san, '@');
}

static int san_ip(const ASN1_OCTET_STRING *ip, struct cm_san *san)
{
	const unsigned char *p = ASN1_STRING_get0_data(ip);
	int len = ASN1_STRING_length(ip);
	char text[INET6_ADDRSTRLEN];

	san->type = CM_SAN_IP;
	if (cm_value_set(&san->raw, p, (size_t)len) != 0) {
		return -1;
	}
	if ((len != 4 && len != 16) ||
	    inet_ntop(len == 4 ? AF_INET : AF_INET6, p, text, sizeof(text)) == NULL) {
		return san_set_unusable_text(san, "the IP address is neither 4 nor 16 bytes long");
	}
	return cm_value_set(&san->text, text, strlen(text));
}

static int san_rid(const ASN1_OBJECT *obj, struct cm_san *san)
{
	char *s = ref_oid_text(obj);
	int rv = -1;

	san->type = CM_SAN_RID;
	if (s != NULL && cm_value_set(&san->raw, OBJ_get0_data(obj), OBJ_length(obj)) == 0) {
		rv = cm_value_set(&san->text, s, strlen(s));
	}
	free(s);
	return rv;
}

static int san_dirname(const X509_NAME *xn, struct cm_san *san)
{
	const unsigned char *der = NULL;
	size_t len = 0;

	san->type = CM_SAN_DIRNAME;
	san->dirname = calloc(1, sizeof(*san->dirname));
	if (san->dirname == NULL ||
	    X509_NAME_get0_der((X509_NAME *)xn, &der, &len) != 1 ||
	    ref_name_parse(der, len, san->dirname, NULL) != 0 ||
	    cm_value_set(&san->raw, der, len) != 0 ||
	    cm_value_set(&san->text, san->dirname->sssd.data, san->dirname->sssd.len) != 0) {
		return -1;
	}
	san->text.unusable = san->dirname->sssd.unusable;
	return 0;
}

/* x400Address and ediPartyName: raw = the content octets of the tagged value. */
static int san_binary(const GENERAL_NAME *g, struct cm_san *san, const char *why)
{
	unsigned char *der = NULL;
	size_t len = 0;
	struct der c, content;
	unsigned char tag;
	int rv = -1;

	DER_OF(GENERAL_NAME, g, &der, &len);
	c.p = der;
	c.len = len;
	if (der != NULL && der_get(&c, &tag, &content) == 0 &&
	    cm_value_set(&san->raw, content.p, content.len) == 0) {
		rv = san_set_unusable_text(san, why);
	}
	free(der);
	return rv;
}

/* Returns 0, -1 when out of memory or OpenSSL cannot re-encode. */
static int san_fill(const GENERAL_NAME *g, struct cm_san *san)
{
	int rv;

	switch (g->type) {
	case GEN_OTHERNAME:
		return san_other(g->d.otherName, san);
	case GEN_EMAIL:
		san->type = CM_SAN_RFC822;
		rv = value_set_ia5(&san->text, g->d.rfc822Name);
		return rv != 0 ? rv : san_short_name(san, '@');
	case GEN_DNS:
		san->type = CM_SAN_DNS;
		rv = value_set_ia5(&san->text, g->d.dNSName);
		return rv != 0 ? rv : san_short_name(san, '.');
	case GEN_URI:
		san->type = CM_SAN_URI;
		return value_set_ia5(&san->text, g->d.uniformResourceIdentifier);
	case GEN_IPADD:
		return san_ip(g->d.iPAddress, san);
	case GEN_RID:
		return san_rid(g->d.registeredID, san);
	case GEN_DIRNAME:
		return san_dirname(g->d.directoryName, san);
	case GEN_X400:
		san->type = CM_SAN_X400;
		return san_binary(g, san, "an x400Address has no text form");
	case GEN_EDIPARTY:
		san->type = CM_SAN_EDIPARTY;
		return san_binary(g, san, "an ediPartyName has no text form");
	default:
		return -1;
	}
}

static int get_sans(X509 *x, struct cm_identity *id, char **errmsg)
{
	GENERAL_NAMES *gens = NULL;
	int rv, n;

	if ((rv = ext_d2i(x, NID_subject_alt_name, "subjectAltName", (void **)&gens,
			  errmsg)) != 0 || gens == NULL) {
		return rv;
	}
	n = sk_GENERAL_NAME_num(gens);
	id->sans = calloc((size_t)n + 1, sizeof(*id->sans));
	if (id->sans == NULL) {
		rv = nomem(errmsg);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		id->n_sans++;
		if (san_fill(sk_GENERAL_NAME_value(gens, i), &id->sans[i]) != 0) {
			rv = fail(errmsg, CERTMAP_ERR_CERT,
				  "subjectAltName entry %d cannot be decoded", i + 1);
			goto out;
		}
	}
out:
	GENERAL_NAMES_free(gens);
	return rv;
}

/* ---------------------------------------------------------------- SID */

static bool sid_text_ok(const unsigned char *p, size_t len)
{
	if (len < 5 || memcmp(p, "S-1-", 4) != 0) {
		return false;
	}
	for (size_t i = 4; i < len; i++) {
		bool digit = p[i] >= '0' && p[i] <= '9';

		if (!digit && !(p[i] == '-' && p[i - 1] != '-' && i + 1 < len)) {
			return false;
		}
	}
	return true;
}

/*
 * The AD SID extension: SEQUENCE OF [0] { OID 1.3.6.1.4.1.311.25.2.1,
 * [0] EXPLICIT OCTET STRING "S-1-5-..." } (an otherName in GeneralNames
 * form). Returns 0 with the text in *out, or -1 when malformed.
 */
static int sid_find(const unsigned char *p, size_t len, struct der *out)
{
	struct der all = { p, len }, seq, on, oid, val;

	if (der_expect(&all, 0x30, &seq) != 0 || all.len != 0) {
		return -1;
	}
	while (seq.len > 0) {
		if (der_expect(&seq, 0xa0, &on) != 0 || der_expect(&on, 0x06, &oid) != 0 ||
		    der_expect(&on, 0xa0, &val) != 0 || on.len != 0) {
			return -1;
		}
		if (oid.len == sizeof(sid_oid_der) &&
		    memcmp(oid.p, sid_oid_der, oid.len) == 0) {
			return der_expect(&val, 0x04, out) == 0 && val.len == 0 ? 0 : -1;
		}
	}
	return -1;
}

static int get_sid(X509 *x, struct cm_identity *id, char **errmsg)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(OID_SID_EXT, 1);
	const ASN1_OCTET_STRING *data;
	struct der sid;
	int idx, rv = 0;

	if (obj == NULL) {
		return nomem(errmsg);
	}
	idx = X509_get_ext_by_OBJ(x, obj, -1);
	if (idx < 0) {
		goto out;
	}
	if (X509_get_ext_by_OBJ(x, obj, idx) >= 0) {
		rv = fail(errmsg, CERTMAP_ERR_CERT, "the SID extension appears more than once");
		goto out;
	}
	id->has_sid = true;
	data = X509_EXTENSION_get_data(X509_get_ext(x, idx));
	if (sid_find(ASN1_STRING_get0_data(data), (size_t)ASN1_STRING_length(data), &sid) != 0) {
		if (cm_value_set(&id->sid, "", 0) != 0) {
			rv = nomem(errmsg);
		}
		id->sid.unusable = "the SID extension is malformed";
		goto out;
	}
	if (cm_value_set_text(&id->sid, sid.p, sid.len) != 0) {
		rv = nomem(errmsg);
		goto out;
	}
	if (id->sid.unusable == NULL && !sid_text_ok(sid.p, sid.len)) {
		id->sid.unusable = "the SID is not in S-1-... form";
	}
out:
	ASN1_OBJECT_free(obj);
	return rv;
}

/* ---------------------------------------------------------------- key, time, digests */

static int get_digests(X509 *x, struct cm_identity *id, char **errmsg)
{
	unsigned char *spki = NULL;
	int n, rv = 0;

	n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
	if (n <= 0 ||
	    !EVP_Digest(id->der, id->der_len, id->sha256, NULL, EVP_sha256(), NULL)) {
		rv = fail(errmsg, CERTMAP_ERR_CERT, "the certificate digests cannot be computed");
	} else {
		/* OpenSSL's encoding of the key, located in the certificate:
		 * equal bytes give equal digests. */
		const unsigned char *at = memmem(id->der, id->der_len, spki, (size_t)n);

		id->spki_off = at != NULL ? (size_t)(at - id->der) : 0;
		id->spki_len = at != NULL ? (size_t)n : 0;
	}
	OPENSSL_free(spki);
	return rv;
}

static int time_to_epoch(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
		return -1;
	}
	*out = (int64_t)timegm(&tm);
	return 0;
}

static int get_validity(X509 *x, struct cm_identity *id, char **errmsg)
{
	if (time_to_epoch(X509_get0_notBefore(x), &id->not_before) != 0 ||
	    time_to_epoch(X509_get0_notAfter(x), &id->not_after) != 0) {
		return fail(errmsg, CERTMAP_ERR_CERT, "the validity period cannot be decoded");
	}
	return 0;
}

static const char *key_type_name(int base_id)
{
	switch (base_id) {
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS:
		return "RSA";
	case EVP_PKEY_EC:
		return "EC";
	case EVP_PKEY_ED25519:
		return "ED25519";
	case EVP_PKEY_ED448:
		return "ED448";
	case EVP_PKEY_DSA:
		return "DSA";
	default:
		return NULL;
	}
}

static int get_key(X509 *x, struct cm_identity *id, char **errmsg)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	const char *name = pk != NULL ? key_type_name(EVP_PKEY_get_base_id(pk)) : NULL;
	ASN1_OBJECT *alg = NULL;

	ERR_clear_error();
	if (name != NULL) {
		id->key_type = strdup(name);
		id->key_bits = EVP_PKEY_get_bits(pk);
	} else {
		/* Unknown or undecodable key: name it by its algorithm OID. */
		X509_PUBKEY_get0_param(&alg, NULL, NULL, NULL, X509_get_X509_PUBKEY(x));
		id->key_type = alg != NULL ? ref_oid_text(alg) : strdup("unknown");
		id->key_bits = 0;
	}
	return id->key_type == NULL ? nomem(errmsg) : 0;
}

/* ---------------------------------------------------------------- parse */

static int identity_fill(X509 *x, struct cm_identity *id, char **errmsg)
{
	int rv;

	if ((rv = get_name(X509_get_subject_name(x), &id->subject, "subject", errmsg)) != 0 ||
	    (rv = get_name(X509_get_issuer_name(x), &id->issuer, "issuer", errmsg)) != 0 ||
	    (rv = get_serial(x, id, errmsg)) != 0 ||
	    (rv = get_ski(x, id, errmsg)) != 0 ||
	    (rv = get_ku(x, id, errmsg)) != 0 ||
	    (rv = get_eku(x, id, errmsg)) != 0 ||
	    (rv = get_sans(x, id, errmsg)) != 0 ||
	    (rv = get_sid(x, id, errmsg)) != 0 ||
	    (rv = get_digests(x, id, errmsg)) != 0 ||
	    (rv = get_validity(x, id, errmsg)) != 0 ||
	    (rv = get_key(x, id, errmsg)) != 0) {
		return rv;
	}
	return 0;
}

int ref_identity_parse(const unsigned char *der, size_t len, struct cm_identity **out)
{
	struct cm_identity *id = NULL;
	X509 *x = NULL;
	const unsigned char *p;
	int rv;

	*out = NULL;
	if (len == 0 || len > CM_CERT_MAX_SIZE) {
		return CERTMAP_ERR_CERT;
	}
	id = calloc(1, sizeof(*id));
	if (id == NULL || (id->der = malloc(len)) == NULL) {
		rv = CERTMAP_ERR_NOMEM;
		goto out;
	}
	memcpy(id->der, der, len);
	id->der_len = len;
	p = id->der;
	x = d2i_X509(NULL, &p, (long)len);
	if (x == NULL || p != id->der + len) {
		rv = CERTMAP_ERR_CERT;
		goto out;
	}
	if ((rv = identity_fill(x, id, NULL)) != 0) {
		goto out;
	}
	*out = id;
	id = NULL;
	rv = 0;
out:
	X509_free(x);
	cm_identity_free(id);
	ERR_clear_error();
	return rv;
}

/*
 * Certificate parsing: one DER or PEM certificate in, one immutable
 * struct cm_identity out, without building an OpenSSL X509 object (whose
 * d2i_X509 spends 100+ us decoding the public key through the providers).
 * One strict walk over the DER (mapper/der.c) locates every field, and
 * the walker reads them too (names in name.c; serial, validity, SKI, KU,
 * EKU, SAN, RSA key size here; an EC point is decoded by OpenSSL on a
 * group made once, ec_key.c) wherever the encoding is one whose decoding
 * by OpenSSL is certain. Anything else
 * (a constructed string, a directoryName SAN, an odd time, a huge serial)
 * goes through OpenSSL's own d2i function for that piece, so each field
 * decodes exactly as it does inside d2i_X509. Acceptance: everything
 * d2i_X509 rejects is rejected, plus what is not DER;
 * tests/fuzz/fuzz_cert_diff.c proves it
 * against the X509-based reference (tests/fuzz/ref_identity.c) and lists
 * each extra rejection.
 *
 * What SSSD (libsss_certmap 2.8.2) does, checked against the library:
 * - {serial_number} prints the magnitude of the serial without the DER
 *   sign byte, two lower-case hex digits per byte (02 03 00 ff 01 -> ff01);
 *   SSSD refuses certificates whose serial is 0 or negative, and so does
 *   certmap (CERTMAP_ERR_CERT, hence invalid_certificate).
 * - .short_name is the text before the FIRST '@' (rfc822, UPN, Kerberos)
 *   or the first '.' (dNSName), the whole text when there is none.
 * - A Kerberos principal is its components joined with '/', then '@' and
 *   the realm, nothing escaped ("host/a@b/c,d@EXAMPLE.COM").
 * - A UPN that is not a UTF8String makes SSSD refuse the whole
 *   certificate; certmap keeps the certificate and marks that UPN unusable.
 * - SSSD keeps iPAddress SANs as raw bytes; certmap's text is inet_ntop's.
 */
#include "config.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/asn1t.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certmap.h"
#include "der.h"
#include "ec_key.h"
#include "identity.h"
#include "name.h"

#define OID_UPN "1.3.6.1.4.1.311.20.2.3"
#define OID_KRB5 "1.3.6.1.5.2.2"
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

/* ---------------------------------------------------------------- input */

static int check_one_der(const unsigned char *der, size_t len, char **errmsg)
{
	struct cm_der c = { der, len }, content;
	unsigned char tag;

	if (cm_der_get(&c, &tag, &content, NULL) != 0 || tag != 0x30) {
		return fail(errmsg, CERTMAP_ERR_CERT,
			    "the certificate is not a DER SEQUENCE (truncated or not a certificate)");
	}
	if (c.len != 0) {
		return fail(errmsg, CERTMAP_ERR_CERT,
			    "the certificate is followed by %zu trailing bytes", c.len);
	}
	return 0;
}

static bool pem_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The labels PEM_bytes_read_bio takes for PEM_STRING_X509. */
static const char *const pem_labels[] = { "CERTIFICATE", "X509 CERTIFICATE" };

/*
 * Finds the one CERTIFICATE block of a PEM text: *off and *n cover it from
 * "-----BEGIN" to the end of its "-----END ...-----" marker. One rule, as
 * for DER and in the PAM module: nothing but whitespace before or after
 * it (no second certificate, no other block, no NUL and junk), and no NUL
 * inside it (OpenSSL's line reader would stop there).
 */
static int pem_find_block(const unsigned char *data, size_t len, size_t *off, size_t *n,
			  char **errmsg)
{
	static const char begin[] = "-----BEGIN ", dashes[] = "-----";
	char end_marker[64];
	const unsigned char *e = NULL;
	size_t i = 0, b, el = 0;

	while (i < len && pem_space(data[i])) {
		i++;
	}
	if (len - i < sizeof(begin) - 1 || memcmp(data + i, begin, sizeof(begin) - 1) != 0) {
		return fail(errmsg, CERTMAP_ERR_CERT,
			    memmem(data, len, begin, sizeof(begin) - 1) != NULL ?
			    "text precedes the PEM block (exactly one certificate and nothing else is accepted)" :
			    "the input is neither a DER certificate nor PEM with a CERTIFICATE block");
	}
	b = i + sizeof(begin) - 1;
	for (size_t k = 0; k < CM_ARRAY_SIZE(pem_labels) && e == NULL; k++) {
		size_t ll = strlen(pem_labels[k]);

		if (len - b < ll + sizeof(dashes) - 1 || memcmp(data + b, pem_labels[k], ll) != 0 ||
		    memcmp(data + b + ll, dashes, sizeof(dashes) - 1) != 0) {
			continue;
		}
		el = (size_t)snprintf(end_marker, sizeof(end_marker), "-----END %s-----", pem_labels[k]);
		e = memmem(data + b, len - b, end_marker, el);
		if (e == NULL) {
			return fail(errmsg, CERTMAP_ERR_CERT, "the PEM block has no %s line", end_marker);
		}
	}
	if (e == NULL) {
		return fail(errmsg, CERTMAP_ERR_CERT,
			    "the first PEM block is not a CERTIFICATE (exactly one certificate and nothing else is accepted)");
	}
	if (memchr(data + i, '\0', (size_t)(e - data) - i) != NULL ||
	    memmem(data + b, (size_t)(e - data) - b, begin, sizeof(begin) - 1) != NULL) {
		return fail(errmsg, CERTMAP_ERR_CERT, "the PEM block holds a NUL byte or a nested BEGIN line");
	}
	for (size_t k = (size_t)(e - data) + el; k < len; k++) {
		if (!pem_space(data[k])) {
			return fail(errmsg, CERTMAP_ERR_CERT,
				    "text follows the PEM block at byte %zu (exactly one certificate and nothing else is accepted)",
				    k);
		}
	}
	*off = i;
	*n = (size_t)(e - data) + el - i;
	return 0;
}

static int pem_to_der(const unsigned char *data, size_t len,
		      unsigned char **der, size_t *der_len, char **errmsg)
{
	BIO *bio = NULL;
	unsigned char *d = NULL;
	long dlen = 0;
	size_t off = 0, n = 0;
	int rv;

	if ((rv = pem_find_block(data, len, &off, &n, errmsg)) != 0) {
		goto out;
	}
	bio = BIO_new_mem_buf(data + off, (int)n);
	if (bio == NULL) {
		rv = nomem(errmsg);
		goto out;
	}
	if (PEM_bytes_read_bio(&d, &dlen, NULL, PEM_STRING_X509, bio, NULL, NULL) != 1 ||
	    dlen <= 0) {
		rv = fail(errmsg, CERTMAP_ERR_CERT, "the CERTIFICATE PEM block does not decode");
		goto out;
	}
	*der = malloc((size_t)dlen);
	if (*der == NULL) {
		rv = nomem(errmsg);
		goto out;
	}
	memcpy(*der, d, (size_t)dlen);
	*der_len = (size_t)dlen;
	rv = 0;
out:
	OPENSSL_free(d);
	BIO_free(bio);
	return rv;
}

int cm_cert_to_der(const unsigned char *data, size_t len,
		   unsigned char **der, size_t *der_len, char **errmsg)
{
	unsigned char *d = NULL;
	size_t dlen = 0;
	int rv;

	*der = NULL;
	*der_len = 0;
	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	if (len > CM_CERT_MAX_SIZE) {
		return fail(errmsg, CERTMAP_ERR_TOO_LARGE,
			    "the certificate is %zu bytes, over the limit of %d bytes",
			    len, CM_CERT_MAX_SIZE);
	}
	if (data == NULL || len == 0) {
		return fail(errmsg, CERTMAP_ERR_CERT, "the certificate is empty");
	}
	if (data[0] == 0x30) {
		d = malloc(len);
		if (d == NULL) {
			return nomem(errmsg);
		}
		memcpy(d, data, len);
		dlen = len;
	} else if ((rv = pem_to_der(data, len, &d, &dlen, errmsg)) != 0) {
		return rv;
	}
	if ((rv = check_one_der(d, dlen, errmsg)) != 0) {
		free(d);
		return rv;
	}
	*der = d;
	*der_len = dlen;
	return 0;
}

/* ---------------------------------------------------------------- the walk */

/* The extensions certmap reads; any other extension is only checked for
 * its shape and for not appearing twice. */
enum cert_ext {
	EXT_SKI,
	EXT_KU,
	EXT_EKU,
	EXT_SAN,
	EXT_SID,
	N_EXT,
};

static const struct {
	const unsigned char *oid;
	size_t len;
	const char *name;
} cert_exts[N_EXT] = {
	[EXT_SKI] = { (const unsigned char *)"\x55\x1d\x0e", 3, "subjectKeyIdentifier" },
	[EXT_KU] = { (const unsigned char *)"\x55\x1d\x0f", 3, "keyUsage" },
	[EXT_EKU] = { (const unsigned char *)"\x55\x1d\x25", 3, "extendedKeyUsage" },
	[EXT_SAN] = { (const unsigned char *)"\x55\x1d\x11", 3, "subjectAltName" },
	[EXT_SID] = { (const unsigned char *)"\x2b\x06\x01\x04\x01\x82\x37\x19\x02", 9, "SID" },
};

/* More extensions than this is refused (duplicate checks are quadratic). */
#define CM_MAX_EXTENSIONS 128

/* Where each field lives in the certificate, found by one walk. */
struct cert_parts {
	int version;                    /* 0 for v1, 1 for v2, 2 for v3 */
	struct cm_der serial;           /* INTEGER TLV */
	struct cm_der issuer, subject;  /* Name TLVs */
	struct cm_der not_before, not_after; /* Time TLVs */
	struct cm_der spki;             /* SubjectPublicKeyInfo TLV */
	struct cm_der spki_alg;         /* its AlgorithmIdentifier contents */
	struct cm_der spki_key;         /* its BIT STRING contents */
	struct cm_der ext[N_EXT];       /* extnValue contents; p NULL when absent */
	size_t n_ext;
	/* Last: identity_parse zeroes what comes before only. */
	struct cm_der ext_ids[CM_MAX_EXTENSIONS];
};

static int bad(char **errmsg, const char *what)
{
	return fail(errmsg, CERTMAP_ERR_CERT,
		    "the certificate is not a valid DER X.509 certificate: %s", what);
}

/*
 * An AlgorithmIdentifier exactly as d2i_X509 takes it (its parameters are
 * an ANY, whose primitive contents OpenSSL checks by type).
 */
/* An OBJECT IDENTIFIER's contents as OpenSSL's c2i_ASN1_OBJECT accepts
 * them: not empty, no subidentifier starting with 0x80, none left open. */
static bool oid_ok(const struct cm_der *oid)
{
	if (oid->len == 0 || (oid->p[oid->len - 1] & 0x80) != 0) {
		return false;
	}
	for (size_t i = 0; i < oid->len; i++) {
		if (oid->p[i] == 0x80 && (i == 0 || (oid->p[i - 1] & 0x80) == 0)) {
			return false;
		}
	}
	return true;
}

/*
 * The common AlgorithmIdentifiers (parameters absent, NULL, or an OID such
 * as a named curve) are checked here; any other parameters go through
 * d2i_X509_ALGOR, which checks more types than certmap cares to repeat.
 */
static bool algor_fast(const struct cm_der *content, bool *ok)
{
	struct cm_der c = *content, oid, param;

	if (cm_der_expect(&c, 0x06, &oid, NULL) != 0 || !oid_ok(&oid)) {
		*ok = false;
		return true;
	}
	if (c.len == 0) {
		*ok = true;
		return true;
	}
	if (cm_der_peek(&c) == 0x05) {
		*ok = cm_der_expect(&c, 0x05, &param, NULL) == 0 && param.len == 0 && c.len == 0;
		return true;
	}
	if (cm_der_peek(&c) == 0x06) {
		*ok = cm_der_expect(&c, 0x06, &param, NULL) == 0 && oid_ok(&param) && c.len == 0;
		return true;
	}
	return false;
}

static bool algor_ok(const struct cm_der *tlv, const struct cm_der *content)
{
	const unsigned char *p = tlv->p;
	X509_ALGOR *a;
	bool ok;

	if (algor_fast(content, &ok)) {
		return ok;
	}
	a = d2i_X509_ALGOR(NULL, &p, (long)tlv->len);
	ok = a != NULL && p == tlv->p + tlv->len;
	X509_ALGOR_free(a);
	ERR_clear_error();
	return ok;
}

static int walk_algor(struct cm_der *c, struct cm_der *content, char **errmsg)
{
	struct cm_der tlv;

	if (cm_der_expect(c, 0x30, content, &tlv) != 0 || !algor_ok(&tlv, content)) {
		return bad(errmsg, "a malformed AlgorithmIdentifier");
	}
	return 0;
}

/* version [0] EXPLICIT INTEGER DEFAULT v1: DER leaves v1 out. */
static int walk_version(struct cm_der *tbs, struct cert_parts *cp, char **errmsg)
{
	struct cm_der v;

	cp->version = 0;
	if (cm_der_peek(tbs) != 0xa0) {
		return 0;
	}
	if (cm_der_expect(tbs, 0xa0, &v, NULL) != 0 || v.len != 3 ||
	    v.p[0] != 0x02 || v.p[1] != 0x01 || (v.p[2] != 1 && v.p[2] != 2)) {
		return bad(errmsg, "the version is not v2 or v3");
	}
	cp->version = v.p[2];
	return 0;
}

static int walk_validity(struct cm_der *tbs, struct cert_parts *cp, char **errmsg)
{
	struct cm_der v, t;
	unsigned char tag;

	if (cm_der_expect(tbs, 0x30, &v, NULL) != 0 ||
	    cm_der_get(&v, &tag, &t, &cp->not_before) != 0 || (tag != 0x17 && tag != 0x18) ||
	    cm_der_get(&v, &tag, &t, &cp->not_after) != 0 || (tag != 0x17 && tag != 0x18) ||
	    v.len != 0) {
		return bad(errmsg, "a malformed validity period");
	}
	return 0;
}

static int walk_spki(struct cm_der *tbs, struct cert_parts *cp, char **errmsg)
{
	struct cm_der spki;
	int rv;

	if (cm_der_expect(tbs, 0x30, &spki, &cp->spki) != 0) {
		return bad(errmsg, "a malformed subjectPublicKeyInfo");
	}
	if ((rv = walk_algor(&spki, &cp->spki_alg, errmsg)) != 0) {
		return rv;
	}
	if (cm_der_expect(&spki, 0x03, &cp->spki_key, NULL) != 0 || spki.len != 0) {
		return bad(errmsg, "a malformed subjectPublicKeyInfo");
	}
	return 0;
}

/* issuerUniqueID [1] and subjectUniqueID [2]: IMPLICIT BIT STRINGs, v2 and v3 only. */
static int walk_unique_ids(struct cm_der *tbs, const struct cert_parts *cp, char **errmsg)
{
	for (unsigned char tag = 0x81; tag <= 0x82; tag++) {
		struct cm_der v;

		if (cm_der_peek(tbs) != tag) {
			continue;
		}
		if (cp->version < 1 || cm_der_expect(tbs, tag, &v, NULL) != 0 ||
		    !cm_der_bits_ok(v.p, v.len)) {
			return bad(errmsg, "a malformed or misplaced unique identifier");
		}
	}
	return 0;
}

static int ext_record(struct cert_parts *cp, const struct cm_der *oid,
		      const struct cm_der *value, char **errmsg)
{
	for (size_t i = 0; i < cp->n_ext; i++) {
		if (cm_der_equal(&cp->ext_ids[i], oid->p, oid->len)) {
			return bad(errmsg, "an extension appears more than once");
		}
	}
	if (cp->n_ext == CM_MAX_EXTENSIONS) {
		return bad(errmsg, "too many extensions");
	}
	cp->ext_ids[cp->n_ext++] = *oid;
	for (size_t k = 0; k < N_EXT; k++) {
		if (cm_der_equal(oid, cert_exts[k].oid, cert_exts[k].len)) {
			cp->ext[k] = *value;
		}
	}
	return 0;
}

/* Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
static int walk_extension(struct cm_der *list, struct cert_parts *cp, char **errmsg)
{
	struct cm_der e, oid, crit, value;

	if (cm_der_expect(list, 0x30, &e, NULL) != 0 ||
	    cm_der_expect(&e, 0x06, &oid, NULL) != 0) {
		return bad(errmsg, "a malformed extension");
	}
	/* DER leaves the default FALSE out: an encoded critical is TRUE (ff). */
	if (cm_der_peek(&e) == 0x01 &&
	    (cm_der_expect(&e, 0x01, &crit, NULL) != 0 || crit.p[0] != 0xff)) {
		return bad(errmsg, "an extension's critical flag is not DER");
	}
	if (cm_der_expect(&e, 0x04, &value, NULL) != 0 || e.len != 0) {
		return bad(errmsg, "a malformed extension");
	}
	return ext_record(cp, &oid, &value, errmsg);
}

/* extensions [3] EXPLICIT SEQUENCE SIZE (1..MAX) OF Extension, v3 only. */
static int walk_extensions(struct cm_der *tbs, struct cert_parts *cp, char **errmsg)
{
	struct cm_der outer, list;
	int rv;

	if (cm_der_peek(tbs) != 0xa3) {
		return 0;
	}
	if (cp->version != 2 || cm_der_expect(tbs, 0xa3, &outer, NULL) != 0 ||
	    cm_der_expect(&outer, 0x30, &list, NULL) != 0 || outer.len != 0 ||
	    list.len == 0) {
		return bad(errmsg, "malformed or misplaced extensions");
	}
	while (list.len > 0) {
		if ((rv = walk_extension(&list, cp, errmsg)) != 0) {
			return rv;
		}
	}
	return 0;
}

static int walk_tbs(struct cm_der *tbs, struct cert_parts *cp, char **errmsg)
{
	struct cm_der alg, name;
	int rv;

	if ((rv = walk_version(tbs, cp, errmsg)) != 0) {
		return rv;
	}
	if (cm_der_expect(tbs, 0x02, &name, &cp->serial) != 0) {
		return bad(errmsg, "no serial number");
	}
	if ((rv = walk_algor(tbs, &alg, errmsg)) != 0) {
		return rv;
	}
	if (cm_der_expect(tbs, 0x30, &name, &cp->issuer) != 0) {
		return bad(errmsg, "no issuer name");
	}
	if ((rv = walk_validity(tbs, cp, errmsg)) != 0) {
		return rv;
	}
	if (cm_der_expect(tbs, 0x30, &name, &cp->subject) != 0) {
		return bad(errmsg, "no subject name");
	}
	if ((rv = walk_spki(tbs, cp, errmsg)) != 0 ||
	    (rv = walk_unique_ids(tbs, cp, errmsg)) != 0 ||
	    (rv = walk_extensions(tbs, cp, errmsg)) != 0) {
		return rv;
	}
	return tbs->len == 0 ? 0 : bad(errmsg, "unexpected data after the extensions");
}

/*
 * Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm,
 * signatureValue BIT STRING }. The whole tree is checked to be DER first,
 * so the walk only checks order and tags.
 */
static int cert_walk(const unsigned char *der, size_t len, struct cert_parts *cp,
		     char **errmsg)
{
	struct cm_der all = { der, len }, cert, tbs, alg, sig;
	int rv;

	if (!cm_der_validate(der, len)) {
		return bad(errmsg, "the encoding is not DER");
	}
	if (cm_der_expect(&all, 0x30, &cert, NULL) != 0 ||
	    cm_der_expect(&cert, 0x30, &tbs, NULL) != 0) {
		return bad(errmsg, "no tbsCertificate");
	}
	if ((rv = walk_algor(&cert, &alg, errmsg)) != 0) {
		return rv;
	}
	if (cm_der_expect(&cert, 0x03, &sig, NULL) != 0 || cert.len != 0) {
		return bad(errmsg, "a malformed signature");
	}
	return walk_tbs(&tbs, cp, errmsg);
}

/* ---------------------------------------------------------------- fields */

static int get_serial_exact(const struct cm_der *tlv, struct cm_identity *id, char **errmsg);

static int get_name(const struct cm_der *tlv, struct cm_name *out, const char *what,
		    char **errmsg)
{
	char *why = NULL;
	int rv;

	/* cert_walk has validated the whole certificate, names included. */
	rv = cm_name_parse_validated(tlv->p, tlv->len, out, &why);
	if (rv != 0) {
		rv = fail(errmsg, rv, "the %s name: %s", what, why != NULL ? why : "?");
	}
	free(why);
	return rv;
}

/* One base-1e9 limb in decimal at out, nine digits with leading zeros
 * when padded (a lower limb), else without them; returns the count.
 * Written by hand: sprintf cost as much as the division. */
static size_t limb_digits(uint32_t v, bool padded, char *out)
{
	char tmp[9];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (padded && n < 9) {
		tmp[n++] = '0';
	}
	for (size_t i = 0; i < n; i++) {
		out[i] = tmp[n - 1 - i];
	}
	return n;
}

/*
 * Decimal text of a big-endian magnitude (at most 64 bytes) into out
 * (room for 160 bytes), as BN_bn2dec prints a positive number.
 */
static void serial_decimal(const unsigned char *p, size_t len, char *out)
{
	uint32_t limbs[20]; /* base 1e9, least significant first: 155 digits at most */
	unsigned char work[64];
	size_t n = 0, o = 0, wl = len;

	memcpy(work, p, len);
	/* Divides work by 1e9 until it is zero, collecting the remainders. */
	while (wl > 0) {
		uint64_t rem = 0;
		size_t k = 0;

		for (size_t i = 0; i < wl; i++) {
			uint64_t cur = (rem << 8) | work[i];

			work[i] = (unsigned char)(cur / 1000000000u);
			rem = cur % 1000000000u;
		}
		limbs[n++] = (uint32_t)rem;
		while (k < wl && work[k] == 0) {
			k++;
		}
		memmove(work, work + k, wl - k);
		wl -= k;
	}
	o = limb_digits(n > 0 ? limbs[n - 1] : 0, false, out);
	for (size_t i = n - 1; n > 0 && i-- > 0;) {
		o += limb_digits(limbs[i], true, out + o);
	}
	out[o] = '\0';
}

/* The serial by the DER walker: cm_der_validate has checked that the
 * INTEGER is minimal. Returns 1 for the exact path (not positive, or
 * over 64 bytes), which also words the error. */
static int get_serial_fast(const struct cm_der *tlv, struct cm_identity *id, char **errmsg)
{
	struct cm_der c = *tlv, v;
	char dec[160];

	if (cm_der_expect(&c, 0x02, &v, NULL) != 0 || v.len == 0 || (v.p[0] & 0x80) != 0 ||
	    (v.len == 1 && v.p[0] == 0)) {
		return 1;
	}
	if (v.p[0] == 0) {
		v.p++;
		v.len--;
	}
	if (v.len > 64) {
		return 1;
	}
	serial_decimal(v.p, v.len, dec);
	id->serial = malloc(v.len);
	id->serial_dec = strdup(dec);
	if (id->serial == NULL || id->serial_dec == NULL) {
		return nomem(errmsg);
	}
	memcpy(id->serial, v.p, v.len);
	id->serial_len = v.len;
	id->serial_negative = false;
	return 0;
}

static int get_serial(const struct cm_der *tlv, struct cm_identity *id, char **errmsg)
{
	int fast = get_serial_fast(tlv, id, errmsg);

	return fast != 1 ? fast : get_serial_exact(tlv, id, errmsg);
}

static int get_serial_exact(const struct cm_der *tlv, struct cm_identity *id, char **errmsg)
{
	const unsigned char *p = tlv->p;
	ASN1_INTEGER *s = d2i_ASN1_INTEGER(NULL, &p, (long)tlv->len);
	BIGNUM *bn = NULL;
	char *dec = NULL;
	size_t len;
	int rv;

	bn = s != NULL ? ASN1_INTEGER_to_BN(s, NULL) : NULL;
	dec = bn != NULL ? BN_bn2dec(bn) : NULL;
	if (dec == NULL) {
		rv = fail(errmsg, CERTMAP_ERR_CERT, "the serial number cannot be decoded");
		goto out;
	}
	/* RFC 5280 4.1.2.2: positive. Serial -5 would print like 5 in
	 * {serial_number} (<SR> issuer+serial mappings collide); SSSD refuses
	 * both too. */
	if (BN_is_zero(bn) || BN_is_negative(bn)) {
		rv = fail(errmsg, CERTMAP_ERR_CERT,
			  "the serial number is %s; RFC 5280 requires a positive serial number", dec);
		goto out;
	}
	/* OpenSSL keeps the magnitude without the sign byte. */
	len = (size_t)ASN1_STRING_length(s);
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
	ASN1_INTEGER_free(s);
	return rv;
}

/*
 * Decodes one extension's value with OpenSSL's own item for it (what
 * X509_get_ext_d2i would use), requiring DER and no trailing bytes.
 * *out is NULL when the extension is absent.
 */
static int ext_d2i(const struct cert_parts *cp, enum cert_ext k, const ASN1_ITEM *it,
		   ASN1_VALUE **out, char **errmsg)
{
	const struct cm_der *v = &cp->ext[k];
	const unsigned char *p = v->p;

	*out = NULL;
	if (v->p == NULL) {
		return 0;
	}
	if (cm_der_validate(v->p, v->len)) {
		*out = ASN1_item_d2i(NULL, &p, (long)v->len, it);
	}
	if (*out == NULL || p != v->p + v->len) {
		ASN1_item_free(*out, it);
		*out = NULL;
		return fail(errmsg, CERTMAP_ERR_CERT, "the %s extension is malformed",
			    cert_exts[k].name);
	}
	return 0;
}

static int get_ski_exact(const struct cert_parts *cp, struct cm_identity *id, char **errmsg);
static int get_ku_exact(const struct cert_parts *cp, struct cm_identity *id, char **errmsg);
static int get_eku_exact(const struct cert_parts *cp, struct cm_identity *id, char **errmsg);

/*
 * The fast paths below read an extension with the strict DER walker. They
 * take only encodings whose decoding by OpenSSL's item is certain (DER,
 * exactly the expected tags) and return 1 for anything else, which then
 * goes through ext_d2i: what OpenSSL refuses stays refused, with the same
 * message, and what it accepts keeps the same values.
 */
static int ext_fast(const struct cert_parts *cp, enum cert_ext k, unsigned char tag,
		    struct cm_der *content)
{
	const struct cm_der *v = &cp->ext[k];
	struct cm_der c = *v;

	if (!cm_der_validate(v->p, v->len) || cm_der_expect(&c, tag, content, NULL) != 0 ||
	    c.len != 0) {
		return 1;
	}
	return 0;
}

static int get_ski(const struct cert_parts *cp, struct cm_identity *id, char **errmsg)
{
	struct cm_der fast;

	if (cp->ext[EXT_SKI].p == NULL) {
		return 0;
	}
	if (ext_fast(cp, EXT_SKI, 0x04, &fast) == 0) {
		if ((id->ski = malloc(fast.len + 1)) == NULL) {
			return nomem(errmsg);
		}
		memcpy(id->ski, fast.p, fast.len);
		id->ski_len = fast.len;
		id->has_ski = true;
		return 0;
	}
	return get_ski_exact(cp, id, errmsg);
}

/* KU: a DER BIT STRING's first two bytes after the unused-bits count
 * (cm_der_validate has checked the count and that unused bits are 0). */
static int get_ku(const struct cert_parts *cp, struct cm_identity *id, char **errmsg)
{
	struct cm_der fast;

	if (cp->ext[EXT_KU].p == NULL) {
		return 0;
	}
	if (ext_fast(cp, EXT_KU, 0x03, &fast) == 0) {
		id->ku = 0;
		if (fast.len > 1) {
			id->ku |= fast.p[1];
		}
		if (fast.len > 2) {
			id->ku |= (uint32_t)fast.p[2] << 8;
		}
		id->has_ku = true;
		return 0;
	}
	return get_ku_exact(cp, id, errmsg);
}

/* EKU: SEQUENCE OF OBJECT IDENTIFIER (cm_der_validate checked each OID). */
static int get_eku(const struct cert_parts *cp, struct cm_identity *id, char **errmsg)
{
	struct cm_der fast, c, oid;

	if (cp->ext[EXT_EKU].p == NULL) {
		return 0;
	}
	if (ext_fast(cp, EXT_EKU, 0x30, &fast) == 0) {
		for (c = fast; c.len > 0;) {
			if (cm_der_expect(&c, 0x06, &oid, NULL) != 0) {
				return get_eku_exact(cp, id, errmsg);
			}
		}
		id->has_eku = true;
		while (fast.len > 0 && cm_der_expect(&fast, 0x06, &oid, NULL) == 0) {
			if (cm_strv_take(&id->eku, cm_oid_text_der(oid.p, oid.len)) != 0) {
				return nomem(errmsg);
			}
		}
		return 0;
	}
	return get_eku_exact(cp, id, errmsg);
}

static int get_ski_exact(const struct cert_parts *cp, struct cm_identity *id, char **errmsg)
{
	ASN1_VALUE *v = NULL;
	ASN1_OCTET_STRING *ski;
	size_t len;
	int rv;

	if ((rv = ext_d2i(cp, EXT_SKI, ASN1_ITEM_rptr(ASN1_OCTET_STRING), &v, errmsg)) != 0 ||
	    v == NULL) {
		return rv;
	}
	ski = (ASN1_OCTET_STRING *)v;
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

static int get_ku_exact(const struct cert_parts *cp, struct cm_identity *id, char **errmsg)
{
	ASN1_VALUE *v = NULL;
	ASN1_BIT_STRING *ku;
	const unsigned char *p;
	int rv;

	if ((rv = ext_d2i(cp, EXT_KU, ASN1_ITEM_rptr(ASN1_BIT_STRING), &v, errmsg)) != 0 ||
	    v == NULL) {
		return rv;
	}
	/* The same bit layout as OpenSSL's X509v3_KU_* constants. */
	ku = (ASN1_BIT_STRING *)v;
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

static int get_eku_exact(const struct cert_parts *cp, struct cm_identity *id, char **errmsg)
{
	ASN1_VALUE *v = NULL;
	EXTENDED_KEY_USAGE *eku;
	int rv;

	if ((rv = ext_d2i(cp, EXT_EKU, ASN1_ITEM_rptr(EXTENDED_KEY_USAGE), &v, errmsg)) != 0 ||
	    v == NULL) {
		return rv;
	}
	eku = (EXTENDED_KEY_USAGE *)v;
	id->has_eku = true;
	for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		if (cm_strv_take(&id->eku, cm_oid_text(sk_ASN1_OBJECT_value(eku, i))) != 0) {
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
static bool krb5_add_string(struct cm_buf *b, struct cm_der *c)
{
	struct cm_der s;

	if (cm_der_expect(c, 0x1b, &s, NULL) != 0 || memchr(s.p, '\0', s.len) != NULL ||
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
	struct cm_der all = { p, len }, seq, realm, pn, pnseq, type, names, strs, v;
	struct cm_buf b;
	size_t n = 0;

	if (cm_der_expect(&all, 0x30, &seq, NULL) != 0 || all.len != 0 ||
	    cm_der_expect(&seq, 0xa0, &realm, NULL) != 0 || cm_der_expect(&seq, 0xa1, &pn, NULL) != 0 ||
	    seq.len != 0 || cm_der_expect(&pn, 0x30, &pnseq, NULL) != 0 || pn.len != 0 ||
	    cm_der_expect(&pnseq, 0xa0, &type, NULL) != 0 || cm_der_expect(&type, 0x02, &v, NULL) != 0 ||
	    type.len != 0 || cm_der_expect(&pnseq, 0xa1, &names, NULL) != 0 || pnseq.len != 0 ||
	    cm_der_expect(&names, 0x30, &strs, NULL) != 0 || names.len != 0) {
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

/* An otherName's kind and text once its OID is known; the value counts
 * only for a UPN (utf8: whether it is a UTF8String, then its bytes). */
static int san_other_text(struct cm_san *san, bool utf8, const unsigned char *p, size_t len)
{
	int rv;

	if (strcmp(san->other_oid, OID_UPN) == 0) {
		san->other_kind = CM_OTHER_UPN;
		rv = !utf8 ? san_set_unusable_text(san, "the UPN is not a UTF8String") :
		     value_set_utf8(&san->text, p, len, "the UPN is not valid UTF-8");
	} else if (strcmp(san->other_oid, OID_KRB5) == 0) {
		san->other_kind = CM_OTHER_KRB5;
		rv = san_krb5(san);
	} else {
		san->other_kind = CM_OTHER_GENERIC;
		return san_set_unusable_text(san, "an otherName of this type has no text form");
	}
	return rv != 0 ? rv : san_short_name(san, '@');
}

static int san_other(const OTHERNAME *on, struct cm_san *san)
{
	const ASN1_STRING *s;
	bool utf8;

	san->type = CM_SAN_OTHER_NAME;
	san->other_oid = cm_oid_text(on->type_id);
	DER_OF(ASN1_TYPE, on->value, &san->raw.data, &san->raw.len);
	if (san->other_oid == NULL || san->raw.data == NULL) {
		return -1;
	}
	utf8 = ASN1_TYPE_get(on->value) == V_ASN1_UTF8STRING;
	s = utf8 ? on->value->value.utf8string : NULL;
	return san_other_text(san, utf8, s != NULL ? ASN1_STRING_get0_data(s) : NULL,
			      s != NULL ? (size_t)ASN1_STRING_length(s) : 0);
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
	char *s = cm_oid_text(obj);
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
	    cm_name_parse(der, len, san->dirname, NULL) != 0 ||
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
	struct cm_der c, content;
	unsigned char tag;
	int rv = -1;

	DER_OF(GENERAL_NAME, g, &der, &len);
	c.p = der;
	c.len = len;
	if (der != NULL && cm_der_get(&c, &tag, &content, NULL) == 0 &&
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

/*
 * The SAN fast path takes the GeneralName forms of nearly every client
 * certificate: rfc822Name, dNSName, URI, iPAddress, registeredID, and
 * otherName whose value is a UTF8String or a SEQUENCE (UPN, Kerberos).
 * For those OpenSSL's GENERAL_NAME item keeps the primitive contents as
 * they are (an IA5String's bytes are not checked) and an otherName value
 * as its DER, so the values equal what san_fill reads from the decoded
 * item. Anything else (directoryName, x400Address, ediPartyName, a
 * constructed form) makes the whole extension take the exact path.
 */
static bool san_fast_ok(unsigned char tag, const struct cm_der *content)
{
	struct cm_der c = *content, oid, val, inner;

	switch (tag) {
	case 0x81:
	case 0x82:
	case 0x86:
	case 0x87:
		return true;
	case 0x88:
		return cm_der_oid_ok(content->p, content->len);
	case 0xa0:
		return cm_der_expect(&c, 0x06, &oid, NULL) == 0 &&
		       cm_der_expect(&c, 0xa0, &val, NULL) == 0 && c.len == 0 &&
		       (cm_der_peek(&val) == 0x0c || cm_der_peek(&val) == 0x30) &&
		       cm_der_get(&val, &tag, &inner, NULL) == 0 && val.len == 0;
	default:
		return false;
	}
}

static int san_other_fast(const struct cm_der *content, struct cm_san *san)
{
	struct cm_der c = *content, oid, val, tlv, inner;
	unsigned char tag;

	/* san_fast_ok has checked this shape. */
	if (cm_der_expect(&c, 0x06, &oid, NULL) != 0 || cm_der_expect(&c, 0xa0, &val, NULL) != 0 ||
	    cm_der_get(&val, &tag, &inner, &tlv) != 0) {
		return -1;
	}
	san->type = CM_SAN_OTHER_NAME;
	san->other_oid = cm_oid_text_der(oid.p, oid.len);
	if (san->other_oid == NULL || cm_value_set(&san->raw, tlv.p, tlv.len) != 0) {
		return -1;
	}
	return san_other_text(san, tag == 0x0c, inner.p, inner.len);
}

static int san_ia5_fast(const struct cm_der *content, struct cm_san *san)
{
	if (cm_value_set_text(&san->text, content->p, content->len) != 0) {
		return -1;
	}
	for (size_t i = 0; san->text.unusable == NULL && i < content->len; i++) {
		if (content->p[i] >= 0x80) {
			san->text.unusable = "the value contains non-ASCII bytes";
		}
	}
	return 0;
}

static int san_fill_fast(unsigned char tag, const struct cm_der *content, struct cm_san *san)
{
	char text[INET6_ADDRSTRLEN];
	char *oid;
	int rv;

	switch (tag) {
	case 0xa0:
		return san_other_fast(content, san);
	case 0x81:
		san->type = CM_SAN_RFC822;
		rv = san_ia5_fast(content, san);
		return rv != 0 ? rv : san_short_name(san, '@');
	case 0x82:
		san->type = CM_SAN_DNS;
		rv = san_ia5_fast(content, san);
		return rv != 0 ? rv : san_short_name(san, '.');
	case 0x86:
		san->type = CM_SAN_URI;
		return san_ia5_fast(content, san);
	case 0x87:
		san->type = CM_SAN_IP;
		if (cm_value_set(&san->raw, content->p, content->len) != 0) {
			return -1;
		}
		if ((content->len != 4 && content->len != 16) ||
		    inet_ntop(content->len == 4 ? AF_INET : AF_INET6, content->p, text,
			      sizeof(text)) == NULL) {
			return san_set_unusable_text(san, "the IP address is neither 4 nor 16 bytes long");
		}
		return cm_value_set(&san->text, text, strlen(text));
	default: /* 0x88 */
		san->type = CM_SAN_RID;
		oid = cm_oid_text_der(content->p, content->len);
		rv = oid != NULL && cm_value_set(&san->raw, content->p, content->len) == 0 ?
		     cm_value_set(&san->text, oid, strlen(oid)) : -1;
		free(oid);
		return rv;
	}
}

/* Returns 1 when the extension needs the exact path. */
static int get_sans_fast(const struct cert_parts *cp, struct cm_identity *id, char **errmsg)
{
	struct cm_der seq, c, content;
	unsigned char tag;
	size_t n = 0;

	if (ext_fast(cp, EXT_SAN, 0x30, &seq) != 0 || seq.len == 0) {
		return 1;
	}
	for (c = seq; c.len > 0; n++) {
		if (cm_der_get(&c, &tag, &content, NULL) != 0 || !san_fast_ok(tag, &content)) {
			return 1;
		}
	}
	if ((id->sans = calloc(n + 1, sizeof(*id->sans))) == NULL) {
		return nomem(errmsg);
	}
	for (c = seq; c.len > 0 && cm_der_get(&c, &tag, &content, NULL) == 0;) {
		if (san_fill_fast(tag, &content, &id->sans[id->n_sans++]) != 0) {
			return fail(errmsg, CERTMAP_ERR_CERT,
				    "subjectAltName entry %zu cannot be decoded", id->n_sans);
		}
	}
	return 0;
}

static int get_sans(const struct cert_parts *cp, struct cm_identity *id, char **errmsg)
{
	ASN1_VALUE *v = NULL;
	GENERAL_NAMES *gens;
	int rv, n;

	if (cp->ext[EXT_SAN].p == NULL) {
		return 0;
	}
	if ((rv = get_sans_fast(cp, id, errmsg)) != 1) {
		return rv;
	}
	if ((rv = ext_d2i(cp, EXT_SAN, ASN1_ITEM_rptr(GENERAL_NAMES), &v, errmsg)) != 0 ||
	    v == NULL) {
		return rv;
	}
	gens = (GENERAL_NAMES *)v;
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
static int sid_find(const unsigned char *p, size_t len, struct cm_der *out)
{
	struct cm_der all = { p, len }, seq, on, oid, val;

	if (cm_der_expect(&all, 0x30, &seq, NULL) != 0 || all.len != 0) {
		return -1;
	}
	while (seq.len > 0) {
		if (cm_der_expect(&seq, 0xa0, &on, NULL) != 0 || cm_der_expect(&on, 0x06, &oid, NULL) != 0 ||
		    cm_der_expect(&on, 0xa0, &val, NULL) != 0 || on.len != 0) {
			return -1;
		}
		if (oid.len == sizeof(sid_oid_der) &&
		    memcmp(oid.p, sid_oid_der, oid.len) == 0) {
			return cm_der_expect(&val, 0x04, out, NULL) == 0 && val.len == 0 ? 0 : -1;
		}
	}
	return -1;
}

static int get_sid(const struct cert_parts *cp, struct cm_identity *id, char **errmsg)
{
	const struct cm_der *v = &cp->ext[EXT_SID];
	struct cm_der sid;

	if (v->p == NULL) {
		return 0;
	}
	/* Not DER is refused like any other extension certmap reads; DER
	 * that is no SID only makes the SID unusable. */
	if (!cm_der_validate(v->p, v->len)) {
		return fail(errmsg, CERTMAP_ERR_CERT, "the SID extension is not DER");
	}
	id->has_sid = true;
	if (sid_find(v->p, v->len, &sid) != 0) {
		if (cm_value_set(&id->sid, "", 0) != 0) {
			return nomem(errmsg);
		}
		id->sid.unusable = "the SID extension is malformed";
		return 0;
	}
	if (cm_value_set_text(&id->sid, sid.p, sid.len) != 0) {
		return nomem(errmsg);
	}
	if (id->sid.unusable == NULL && !sid_text_ok(sid.p, sid.len)) {
		id->sid.unusable = "the SID is not in S-1-... form";
	}
	return 0;
}

/* ---------------------------------------------------------------- time, digests */

/* The digests, fetched once: an implicit fetch per EVP_Digest call costs
 * as much as hashing the certificate. A digest context is kept too
 * (EVP_Digest makes and frees one, and its provider context, per call):
 * one, taken with trylock; a thread that finds it busy uses EVP_Digest.
 * Both live as long as the process, like ec_key.c's groups. */
static EVP_MD *md_sha1, *md_sha256;
static EVP_MD_CTX *md_scratch; /* under md_scratch_lock */
static pthread_mutex_t md_scratch_lock = PTHREAD_MUTEX_INITIALIZER;
static CRYPTO_ONCE md_once = CRYPTO_ONCE_STATIC_INIT;

static void md_init(void)
{
	md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	md_scratch = EVP_MD_CTX_new();
	ERR_clear_error();
}

static bool digest(const void *p, size_t len, unsigned char *out, const EVP_MD *fetched,
		   const EVP_MD *fallback)
{
	const EVP_MD *md = fetched != NULL ? fetched : fallback;
	bool ok;

	if (md_scratch == NULL || pthread_mutex_trylock(&md_scratch_lock) != 0) {
		return EVP_Digest(p, len, out, NULL, md, NULL) == 1;
	}
	ok = EVP_DigestInit_ex2(md_scratch, md, NULL) == 1 &&
	     EVP_DigestUpdate(md_scratch, p, len) == 1 &&
	     EVP_DigestFinal_ex(md_scratch, out, NULL) == 1;
	pthread_mutex_unlock(&md_scratch_lock);
	return ok;
}

int cm_sha256(const void *p, size_t len, unsigned char out[32])
{
	if (!CRYPTO_THREAD_run_once(&md_once, md_init) ||
	    !digest(p, len, out, md_sha256, EVP_sha256())) {
		return CERTMAP_ERR_NOMEM;
	}
	return CERTMAP_OK;
}

int cm_identity_digests(const struct cm_identity *id, unsigned char sha1[20],
			unsigned char spki_sha1[20], unsigned char spki_sha256[32])
{
	const unsigned char *spki = id->der + id->spki_off;

	if (!CRYPTO_THREAD_run_once(&md_once, md_init) ||
	    !digest(id->der, id->der_len, sha1, md_sha1, EVP_sha1()) ||
	    !digest(spki, id->spki_len, spki_sha1, md_sha1, EVP_sha1()) ||
	    !digest(spki, id->spki_len, spki_sha256, md_sha256, EVP_sha256())) {
		return CERTMAP_ERR_NOMEM;
	}
	return CERTMAP_OK;
}

static int get_digests(const struct cert_parts *cp, struct cm_identity *id,
		       const unsigned char *sha256, char **errmsg)
{
	bool ok = CRYPTO_THREAD_run_once(&md_once, md_init);

	id->spki_off = (size_t)(cp->spki.p - id->der);
	id->spki_len = cp->spki.len;

	/* The caller (the certificate cache) may have hashed the DER already. */
	if (ok && sha256 != NULL) {
		memcpy(id->sha256, sha256, sizeof(id->sha256));
	} else if (ok) {
		ok = digest(id->der, id->der_len, id->sha256, md_sha256, EVP_sha256());
	}
	if (!ok) {
		return fail(errmsg, CERTMAP_ERR_CERT, "the certificate digests cannot be computed");
	}
	return 0;
}

/*
 * RFC 5280 4.1.2.5: UTCTime YYMMDDHHMMSSZ, GeneralizedTime YYYYMMDDHHMMSSZ
 * (DER: seconds present, no fraction, Zulu). OpenSSL converts it.
 */
static int time_to_epoch_exact(const struct cm_der *tlv, int64_t *out);

static bool leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar (as timegm). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/*
 * The usual time by hand: all digits, Z, every field in range (the month's
 * days with leap years, seconds up to 59), which ASN1_TIME_to_tm takes
 * too; then the same arithmetic as timegm. Returns 1 for anything else,
 * which OpenSSL then judges (time_to_epoch).
 */
static int time_fast(const struct cm_der *tlv, int64_t *out)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool utc = tlv->p[0] == 0x17;
	size_t want = utc ? 13 : 15, hdr = 2;
	const unsigned char *t = tlv->p + hdr;
	int64_t f[7], y, mon, day, n = utc ? 6 : 7;

	if (tlv->len != hdr + want || tlv->p[1] != want || t[want - 1] != 'Z') {
		return 1;
	}
	for (int64_t i = 0; i < n; i++) {
		if (t[2 * i] < '0' || t[2 * i] > '9' || t[2 * i + 1] < '0' || t[2 * i + 1] > '9') {
			return 1;
		}
		f[i] = (t[2 * i] - '0') * 10 + (t[2 * i + 1] - '0');
	}
	/* UTCTime's two-digit year: 50..99 is 19xx, 00..49 is 20xx (RFC 5280). */
	y = utc ? (f[0] < 50 ? 2000 + f[0] : 1900 + f[0]) : f[0] * 100 + f[1];
	mon = f[n - 5];
	day = f[n - 4];
	if (y < 1900 || mon < 1 || mon > 12 || day < 1 ||
	    day > mdays[mon - 1] + (mon == 2 && leap_year(y)) ||
	    f[n - 3] > 23 || f[n - 2] > 59 || f[n - 1] > 59) {
		return 1;
	}
	*out = days_from_civil(y, mon, day) * 86400 + f[n - 3] * 3600 + f[n - 2] * 60 + f[n - 1];
	return 0;
}

static int time_to_epoch(const struct cm_der *tlv, int64_t *out)
{
	return time_fast(tlv, out) == 0 ? 0 : time_to_epoch_exact(tlv, out);
}

static int time_to_epoch_exact(const struct cm_der *tlv, int64_t *out)
{
	const unsigned char *p = tlv->p;
	ASN1_TIME *t = d2i_ASN1_TIME(NULL, &p, (long)tlv->len);
	size_t want = tlv->p[0] == 0x17 ? 13 : 15;
	struct tm tm;
	int rv = -1;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || p != tlv->p + tlv->len || (size_t)ASN1_STRING_length(t) != want ||
	    ASN1_STRING_get0_data(t)[want - 1] != 'Z' || ASN1_TIME_to_tm(t, &tm) != 1) {
		goto out;
	}
	*out = (int64_t)timegm(&tm);
	rv = 0;
out:
	ASN1_TIME_free(t);
	return rv;
}

static int get_validity(const struct cert_parts *cp, struct cm_identity *id, char **errmsg)
{
	if (time_to_epoch(&cp->not_before, &id->not_before) != 0 ||
	    time_to_epoch(&cp->not_after, &id->not_after) != 0) {
		return fail(errmsg, CERTMAP_ERR_CERT, "the validity period cannot be decoded");
	}
	return 0;
}

/* ---------------------------------------------------------------- public key */

/*
 * The key's type and size must be what OpenSSL reports for the key that
 * d2i_X509 decodes (EVP_PKEY_get_base_id, EVP_PKEY_get_bits), or the
 * algorithm OID with 0 bits when OpenSSL cannot decode the key. Decoding
 * through the providers is what makes d2i_X509 slow, so the common keys
 * take a fast path that checks exactly what OpenSSL's decoder checks:
 * - rsaEncryption: RSAPublicKey decodes (OpenSSL ignores the parameters);
 *   bits is the modulus length;
 * - id-ecPublicKey on P-256/P-384/P-521/secp256k1 named by OID: the point
 *   decodes on the curve; bits is the order's length;
 * - Ed25519 / Ed448: no parameters, 32 / 57 bytes; 256 / 456 bits.
 * Everything else (RSA-PSS, DSA, explicit curves, unusual encodings, keys
 * that fail those checks) takes the slow, exact path: OpenSSL decodes the
 * SubjectPublicKeyInfo on its own.
 */

/* RSAPublicKey with the same ASN.1 template OpenSSL's RSA uses (n, e as BIGNUMs). */
typedef struct {
	BIGNUM *n;
	BIGNUM *e;
} CM_RSA_PUBKEY;

ASN1_SEQUENCE(CM_RSA_PUBKEY) = {
	ASN1_SIMPLE(CM_RSA_PUBKEY, n, BIGNUM),
	ASN1_SIMPLE(CM_RSA_PUBKEY, e, BIGNUM),
} static_ASN1_SEQUENCE_END(CM_RSA_PUBKEY)

static const unsigned char oid_rsa[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01 };
static const unsigned char oid_ec[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
static const unsigned char oid_ed25519[] = { 0x2b, 0x65, 0x70 };
static const unsigned char oid_ed448[] = { 0x2b, 0x65, 0x71 };

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

/* The slow path: OpenSSL decodes the key, as d2i_X509 does. */
static int key_exact(const struct cert_parts *cp, struct cm_identity *id, char **errmsg)
{
	const unsigned char *p = cp->spki.p;
	X509_PUBKEY *xpk = d2i_X509_PUBKEY(NULL, &p, (long)cp->spki.len);
	EVP_PKEY *pk = xpk != NULL ? X509_PUBKEY_get0(xpk) : NULL;
	const char *name = pk != NULL ? key_type_name(EVP_PKEY_get_base_id(pk)) : NULL;
	ASN1_OBJECT *alg = NULL;
	int rv = 0;

	if (xpk == NULL) {
		rv = bad(errmsg, "a malformed subjectPublicKeyInfo");
	} else if (name != NULL) {
		id->key_type = strdup(name);
		id->key_bits = EVP_PKEY_get_bits(pk);
	} else {
		/* Unknown or undecodable key: name it by its algorithm OID. */
		X509_PUBKEY_get0_param(&alg, NULL, NULL, NULL, xpk);
		id->key_type = alg != NULL ? cm_oid_text(alg) : strdup("unknown");
		id->key_bits = 0;
	}
	if (rv == 0 && id->key_type == NULL) {
		rv = nomem(errmsg);
	}
	X509_PUBKEY_free(xpk);
	ERR_clear_error();
	return rv;
}

/*
 * RSAPublicKey by the DER walker: SEQUENCE { INTEGER n, INTEGER e } in DER
 * with nothing after it, which the BIGNUM template decodes too (it takes
 * the contents as unsigned bytes: BN_num_bits). Returns -2 for anything
 * else, which the template then judges.
 */
static int rsa_bits_fast(const unsigned char *p, size_t len)
{
	struct cm_der all = { p, len }, seq, tlv, n, e;

	if (cm_der_expect(&all, 0x30, &seq, &tlv) != 0 || all.len != 0 ||
	    cm_der_expect(&seq, 0x02, &n, NULL) != 0 || cm_der_expect(&seq, 0x02, &e, NULL) != 0 ||
	    seq.len != 0 || n.len == 0 || e.len == 0 || !cm_der_validate(tlv.p, tlv.len)) {
		return -2;
	}
	while (n.len > 0 && n.p[0] == 0) {
		n.p++;
		n.len--;
	}
	if (n.len == 0 || n.len > 0x1000000) {
		return -2;
	}
	for (int b = 7; b >= 0; b--) {
		if (n.p[0] >> b) {
			return (int)(8 * (n.len - 1)) + b + 1;
		}
	}
	return -2;
}

static int rsa_bits_exact(const unsigned char *p, size_t len);

/* RSA modulus bits, or -1 when OpenSSL would not decode the key. */
static int rsa_bits(const unsigned char *p, size_t len)
{
	int fast = rsa_bits_fast(p, len);

	return fast != -2 ? fast : rsa_bits_exact(p, len);
}

static int rsa_bits_exact(const unsigned char *p, size_t len)
{
	const unsigned char *q = p;
	CM_RSA_PUBKEY *k = (CM_RSA_PUBKEY *)ASN1_item_d2i(NULL, &q, (long)len,
							  ASN1_ITEM_rptr(CM_RSA_PUBKEY));
	int bits = k != NULL ? BN_num_bits(k->n) : -1;

	ASN1_item_free((ASN1_VALUE *)k, ASN1_ITEM_rptr(CM_RSA_PUBKEY));
	ERR_clear_error();
	return bits;
}

/* EC order bits when params names a known curve and the point is on it, or -1. */
static int ec_bits(const struct cm_der *params, const unsigned char *p, size_t len)
{
	struct cm_der c = *params, oid;

	if (cm_der_expect(&c, 0x06, &oid, NULL) != 0 || c.len != 0) {
		return -1;
	}
	return cm_ec_key_bits(oid.p, oid.len, p, len);
}

/* Fills key_type/key_bits by the fast path; returns 1 when it does not apply. */
static int key_fast(const struct cert_parts *cp, struct cm_identity *id)
{
	struct cm_der alg = cp->spki_alg, oid;
	const unsigned char *key = cp->spki_key.p + 1;
	size_t key_len = cp->spki_key.len - 1;
	const char *type = NULL;
	int bits = -1;

	/* An unused-bits count other than 0 is legal but odd: exact path. */
	if (cm_der_expect(&alg, 0x06, &oid, NULL) != 0 || cp->spki_key.p[0] != 0) {
		return 1;
	}
	if (cm_der_equal(&oid, oid_rsa, sizeof(oid_rsa))) {
		type = "RSA", bits = rsa_bits(key, key_len);
	} else if (cm_der_equal(&oid, oid_ec, sizeof(oid_ec))) {
		type = "EC", bits = ec_bits(&alg, key, key_len);
	} else if (cm_der_equal(&oid, oid_ed25519, sizeof(oid_ed25519))) {
		type = "ED25519", bits = alg.len == 0 && key_len == 32 ? 256 : -1;
	} else if (cm_der_equal(&oid, oid_ed448, sizeof(oid_ed448))) {
		type = "ED448", bits = alg.len == 0 && key_len == 57 ? 456 : -1;
	}
	if (bits < 0) {
		return 1;
	}
	id->key_type = strdup(type);
	id->key_bits = bits;
	return 0;
}

static int get_key(const struct cert_parts *cp, struct cm_identity *id, char **errmsg)
{
	if (key_fast(cp, id) != 0) {
		return key_exact(cp, id, errmsg);
	}
	return id->key_type == NULL ? nomem(errmsg) : 0;
}

/* ---------------------------------------------------------------- parse */

static int identity_fill(const struct cert_parts *cp, struct cm_identity *id,
			 const unsigned char *sha256,
			 char **errmsg)
{
	int rv;

	if ((rv = get_name(&cp->subject, &id->subject, "subject", errmsg)) != 0 ||
	    (rv = get_name(&cp->issuer, &id->issuer, "issuer", errmsg)) != 0 ||
	    (rv = get_serial(&cp->serial, id, errmsg)) != 0 ||
	    (rv = get_ski(cp, id, errmsg)) != 0 ||
	    (rv = get_ku(cp, id, errmsg)) != 0 ||
	    (rv = get_eku(cp, id, errmsg)) != 0 ||
	    (rv = get_sans(cp, id, errmsg)) != 0 ||
	    (rv = get_sid(cp, id, errmsg)) != 0 ||
	    (rv = get_digests(cp, id, sha256, errmsg)) != 0 ||
	    (rv = get_validity(cp, id, errmsg)) != 0 ||
	    (rv = get_key(cp, id, errmsg)) != 0) {
		return rv;
	}
	return 0;
}

/* Parses DER already in id->der. */
static int identity_parse(struct cm_identity *id, const unsigned char *sha256, char **errmsg)
{
	struct cert_parts cp;
	int rv;

	/* ext_ids[] is filled up to n_ext before it is read. */
	memset(&cp, 0, offsetof(struct cert_parts, ext_ids));
	if ((rv = cert_walk(id->der, id->der_len, &cp, errmsg)) == 0) {
		rv = identity_fill(&cp, id, sha256, errmsg);
	}
	return rv;
}

int cm_identity_parse(const unsigned char *data, size_t len,
		      struct cm_identity **out, char **errmsg)
{
	struct cm_identity *id = NULL;
	int rv;

	*out = NULL;
	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	if ((id = calloc(1, sizeof(*id))) == NULL) {
		rv = nomem(errmsg);
		goto out;
	}
	if ((rv = cm_cert_to_der(data, len, &id->der, &id->der_len, errmsg)) != 0 ||
	    (rv = identity_parse(id, NULL, errmsg)) != 0) {
		goto out;
	}
	*out = id;
	id = NULL;
out:
	cm_identity_free(id);
	ERR_clear_error();
	return rv;
}

int cm_identity_parse_der(unsigned char *der, size_t len, const unsigned char sha256[32],
			  struct cm_identity **out, char **errmsg)
{
	struct cm_identity *id = NULL;
	int rv;

	*out = NULL;
	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	if ((id = calloc(1, sizeof(*id))) == NULL) {
		free(der);
		rv = nomem(errmsg);
		goto out;
	}
	id->der = der;
	id->der_len = len;
	if (len > CM_CERT_MAX_SIZE) {
		rv = fail(errmsg, CERTMAP_ERR_TOO_LARGE, "the certificate is larger than %d bytes",
			  CM_CERT_MAX_SIZE);
		goto out;
	}
	if ((rv = identity_parse(id, sha256, errmsg)) != 0) {
		goto out;
	}
	*out = id;
	id = NULL;
out:
	cm_identity_free(id);
	/* The DER walker's certificates leave OpenSSL's queue empty; clearing
	 * it costs more than looking. */
	if (ERR_peek_error() != 0) {
		ERR_clear_error();
	}
	return rv;
}

static void san_clear(struct cm_san *san)
{
	cm_value_clear(&san->text);
	cm_value_clear(&san->raw);
	cm_value_clear(&san->short_name);
	free(san->other_oid);
	if (san->dirname != NULL) {
		cm_name_clear(san->dirname);
		free(san->dirname);
	}
}

void cm_identity_free(struct cm_identity *id)
{
	if (id == NULL) {
		return;
	}
	free(id->der);
	cm_name_clear(&id->subject);
	cm_name_clear(&id->issuer);
	free(id->serial);
	free(id->serial_dec);
	free(id->ski);
	cm_strv_clear(&id->eku);
	for (size_t i = 0; i < id->n_sans; i++) {
		san_clear(&id->sans[i]);
	}
	free(id->sans);
	cm_value_clear(&id->sid);
	free(id->key_type);
	free(id);
}

/* ---------------------------------------------------------------- names of KU/EKU */

/* The names sss-certmap(5) uses. The configuration spells them exactly;
 * rules, like SSSD, ignore case (the _icase variants). */
static const struct {
	const char *name;
	const char *oid;
} eku_names[] = {
	{ "serverAuth", "1.3.6.1.5.5.7.3.1" },
	{ "clientAuth", "1.3.6.1.5.5.7.3.2" },
	{ "codeSigning", "1.3.6.1.5.5.7.3.3" },
	{ "emailProtection", "1.3.6.1.5.5.7.3.4" },
	{ "timeStamping", "1.3.6.1.5.5.7.3.8" },
	{ "OCSPSigning", "1.3.6.1.5.5.7.3.9" },
	{ "KPClientAuth", "1.3.6.1.5.2.3.4" },
	{ "pkinit", "1.3.6.1.5.2.3.4" },
	{ "msScLogin", "1.3.6.1.4.1.311.20.2.2" },
};

static const struct {
	const char *name;
	uint32_t bit;
} ku_names[] = {
	{ "digitalSignature", X509v3_KU_DIGITAL_SIGNATURE },
	{ "nonRepudiation", X509v3_KU_NON_REPUDIATION },
	{ "keyEncipherment", X509v3_KU_KEY_ENCIPHERMENT },
	{ "dataEncipherment", X509v3_KU_DATA_ENCIPHERMENT },
	{ "keyAgreement", X509v3_KU_KEY_AGREEMENT },
	{ "keyCertSign", X509v3_KU_KEY_CERT_SIGN },
	{ "cRLSign", X509v3_KU_CRL_SIGN },
	{ "encipherOnly", X509v3_KU_ENCIPHER_ONLY },
	{ "decipherOnly", X509v3_KU_DECIPHER_ONLY },
};

static const char *eku_oid(const char *name, int (*cmp)(const char *, const char *))
{
	for (size_t i = 0; i < CM_ARRAY_SIZE(eku_names); i++) {
		if (cmp(name, eku_names[i].name) == 0) {
			return eku_names[i].oid;
		}
	}
	return NULL;
}

const char *cm_eku_oid(const char *name)
{
	return eku_oid(name, strcmp);
}

const char *cm_eku_oid_icase(const char *name)
{
	return eku_oid(name, strcasecmp);
}

const char *cm_eku_name(const char *oid)
{
	for (size_t i = 0; i < CM_ARRAY_SIZE(eku_names); i++) {
		if (strcmp(oid, eku_names[i].oid) == 0) {
			return eku_names[i].name;
		}
	}
	return NULL;
}

static uint32_t ku_bit(const char *name, int (*cmp)(const char *, const char *))
{
	for (size_t i = 0; i < CM_ARRAY_SIZE(ku_names); i++) {
		if (cmp(name, ku_names[i].name) == 0) {
			return ku_names[i].bit;
		}
	}
	return 0;
}

uint32_t cm_ku_bit(const char *name)
{
	return ku_bit(name, strcmp);
}

uint32_t cm_ku_bit_icase(const char *name)
{
	return ku_bit(name, strcasecmp);
}

/* ---------------------------------------------------------------- show */

struct emit {
	cm_field_cb cb;
	void *arg;
};

static void emit_value(const struct emit *e, const char *field, const struct cm_value *v)
{
	e->cb(e->arg, field, v, false);
}

static void emit_str(const struct emit *e, const char *field, const char *s)
{
	struct cm_value v = { (unsigned char *)s, strlen(s), NULL };

	emit_value(e, field, &v);
}

static void emit_hex(const struct emit *e, const char *field,
		     const unsigned char *p, size_t len)
{
	struct cm_buf b;
	char *s;

	cm_buf_init(&b, 0);
	cm_buf_hex(&b, p, len, false, '\0');
	s = cm_buf_steal(&b, NULL);
	if (s != NULL) {
		emit_str(e, field, s);
	}
	free(s);
}

static void emit_time(const struct emit *e, const char *field, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[64];

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		snprintf(buf, sizeof(buf), "%lld", (long long)t);
	}
	emit_str(e, field, buf);
}

static void emit_name(const struct emit *e, const struct cm_name *n, const char *prefix)
{
	char field[256];

	snprintf(field, sizeof(field), "%s", prefix);
	emit_value(e, field, &n->sssd);
	snprintf(field, sizeof(field), "%s_x500", prefix);
	emit_value(e, field, &n->x500);
	for (size_t i = 0; i < n->n_avas; i++) {
		const struct cm_ava *a = &n->avas[i];
		const char *type = strcmp(a->type, "UNDEF") == 0 ? a->oid : a->type;
		char *f = cm_asprintf("%s_rdn.%s", prefix, type);

		if (f != NULL) {
			emit_value(e, f, &a->value);
		}
		free(f);
	}
}

static const char *san_field(const struct cm_san *san)
{
	switch (san->type) {
	case CM_SAN_RFC822:
		return "san.rfc822";
	case CM_SAN_DNS:
		return "san.dns";
	case CM_SAN_URI:
		return "san.uri";
	case CM_SAN_IP:
		return "san.ip";
	case CM_SAN_RID:
		return "san.rid";
	case CM_SAN_DIRNAME:
		return "san.dirname";
	case CM_SAN_X400:
		return "san.x400";
	case CM_SAN_EDIPARTY:
		return "san.ediparty";
	case CM_SAN_OTHER_NAME:
		return san->other_kind == CM_OTHER_UPN ? "san.upn" :
		       san->other_kind == CM_OTHER_KRB5 ? "san.krb5" : NULL;
	default:
		return NULL;
	}
}

static void emit_san(const struct emit *e, const struct cm_san *san)
{
	const char *field = san_field(san);
	char *f = NULL;

	if (field == NULL) {
		f = cm_asprintf("san.other.%s", san->other_oid);
		if (f != NULL) {
			emit_hex(e, f, san->raw.data, san->raw.len);
		}
		free(f);
	} else if (san->type == CM_SAN_X400 || san->type == CM_SAN_EDIPARTY) {
		emit_hex(e, field, san->raw.data, san->raw.len);
	} else {
		emit_value(e, field, &san->text);
	}
}

static void emit_key_usage(const struct emit *e, const struct cm_identity *id)
{
	for (size_t i = 0; id->has_ku && i < CM_ARRAY_SIZE(ku_names); i++) {
		if (id->ku & ku_names[i].bit) {
			emit_str(e, "ku", ku_names[i].name);
		}
	}
	for (size_t i = 0; i < id->eku.n; i++) {
		const char *name = cm_eku_name(id->eku.v[i]);

		emit_str(e, "eku", name != NULL ? name : id->eku.v[i]);
	}
}

void cm_identity_foreach_field(const struct cm_identity *id,
			       cm_field_cb cb, void *arg)
{
	const struct emit e = { cb, arg };
	unsigned char sha1[20], spki_sha1[20], spki_sha256[32];
	bool digests = cm_identity_digests(id, sha1, spki_sha1, spki_sha256) == CERTMAP_OK;
	char *key;

	emit_name(&e, &id->subject, "subject");
	emit_name(&e, &id->issuer, "issuer");
	emit_hex(&e, "serial", id->serial, id->serial_len);
	emit_str(&e, "serial_dec", id->serial_dec);
	emit_time(&e, "not_before", id->not_before);
	emit_time(&e, "not_after", id->not_after);
	key = cm_asprintf("%s %d", id->key_type, id->key_bits);
	if (key != NULL) {
		emit_str(&e, "key", key);
	}
	free(key);
	if (digests) {
		emit_hex(&e, "sha1", sha1, sizeof(sha1));
	}
	emit_hex(&e, "sha256", id->sha256, sizeof(id->sha256));
	if (digests) {
		emit_hex(&e, "spki_sha1", spki_sha1, sizeof(spki_sha1));
		emit_hex(&e, "spki_sha256", spki_sha256, sizeof(spki_sha256));
	}
	if (id->has_ski) {
		emit_hex(&e, "ski", id->ski, id->ski_len);
	}
	emit_key_usage(&e, id);
	for (size_t i = 0; i < id->n_sans; i++) {
		emit_san(&e, &id->sans[i]);
	}
	if (id->has_sid) {
		emit_value(&e, "sid", &id->sid);
	}
}


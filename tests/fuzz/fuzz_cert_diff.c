/*
 * Differential fuzz target: certmap's DER walker (cm_identity_parse,
 * mapper/cert.c) against the reference that builds a full X509 with
 * d2i_X509 (ref_identity_parse, tests/fuzz/ref_identity.c), on the same
 * DER input. It aborts when
 * - certmap accepts a certificate the reference rejects (never allowed);
 * - certmap rejects one the reference accepts and no row of the table
 *   below explains it (each row has an independent check on OpenSSL's own
 *   X509 object);
 * - both accept and any field of the two identities differs.
 *
 * Extra rejections (certmap refuses, d2i_X509 accepts), all deliberate:
 *
 * | row          | what certmap refuses                                  | why                                  |
 * |--------------|-------------------------------------------------------|--------------------------------------|
 * | not_der      | anything that is not DER: long-form or indefinite     | X.509 is DER (RFC 5280 4.1); BER     |
 * |              | lengths, constructed strings, BOOLEAN not 00/ff,      | variants are how parser-differential |
 * |              | non-zero BIT STRING padding, high tag numbers, nesting| attacks hide fields                  |
 * |              | over 32, bad DER inside an ANY (AlgorithmIdentifier   |                                      |
 * |              | parameters, which OpenSSL keeps verbatim), BER inside |                                      |
 * |              | or trailing bytes after SKI/KU/EKU/SAN/SID values     |                                      |
 * | critical_false | an extension with critical FALSE written out        | DER omits a DEFAULT value            |
 * | version      | a version other than v2/v3 written out (explicit v1   | RFC 5280 4.1.2.1; DER omits DEFAULT  |
 * |              | included), e.g. v4 or -1                              |                                      |
 * | misplaced    | unique IDs in a v1 certificate, extensions in a v1/v2 | RFC 5280 4.1.2.8/4.1.2.9; SIZE(1..)  |
 * |              | certificate, an empty extensions list                 |                                      |
 * | duplicate    | any extension OID that appears twice                  | RFC 5280 4.2; which copy wins is     |
 * |              |                                                       | parser-dependent                     |
 * | too_many     | more than 128 extensions                              | bound on work per certificate        |
 * | time_format  | UTCTime other than YYMMDDHHMMSSZ, GeneralizedTime     | RFC 5280 4.1.2.5.1/2 (DER times)     |
 * |              | other than YYYYMMDDHHMMSSZ (no fraction, no offset)   |                                      |
 * | serial       | a serial number of 0 or below                         | RFC 5280 4.1.2.2; -5 would print as 5|
 * |              |                                                       | in {serial_number}; SSSD refuses too |
 *
 * Names: mapper/name.c walks the Name's DER itself; the reference keeps
 * the original d2i_X509_NAME + ASN1_STRING_print_ex code
 * (tests/fuzz/ref_name.c; fuzz_name_diff.c compares the two on names
 * alone). Its only extra rejection is not_der (a BER string, a bad DER
 * tree inside a SEQUENCE value); like OpenSSL it accepts an unsorted SET
 * OF and an empty RDN, so no row is needed for them.
 *
 * Not a difference: the public key's type and size are OpenSSL's (a fast
 * path for RSA, named P-256/384/521/secp256k1 and Ed25519/Ed448 checks
 * what OpenSSL's decoder checks; anything else is decoded by OpenSSL).
 * Input that is not DER-looking (first byte not 0x30) is PEM for certmap
 * and is skipped: the reference takes DER only.
 *
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -I$SRC/mapper -I. \
 *       -I$SRC/tests/fuzz $SRC/tests/fuzz/fuzz_cert_diff.c \
 *       $SRC/tests/fuzz/ref_identity.c $SRC/tests/fuzz/ref_name.c \
 *       $SRC/tests/fuzz/ref_der.c $SRC/tests/fuzz/ref_cmp.c $SRC/mapper/cert.c $SRC/mapper/der.c \
 *       $SRC/mapper/name.c $SRC/mapper/util.c -lcrypto -o fuzz_cert_diff
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "identity.h"
#include "ref_cmp.h"
#include "ref_der.h"
#include "ref_identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ------------------------------------------------------------ the table's checks */

/* i2d into a malloc'd buffer compared with p..len. */
static bool same_i2d(int n, unsigned char *enc, const unsigned char *p, size_t len)
{
	bool same = n >= 0 && (size_t)n == len && memcmp(enc, p, len) == 0;

	OPENSSL_free(enc);
	return same;
}

/* One of the extension values certmap decodes re-encodes differently. */
static bool ext_not_der(X509 *x)
{
	static const int nids[] = { NID_subject_key_identifier, NID_key_usage,
				    NID_ext_key_usage, NID_subject_alt_name };

	for (int i = 0; i < X509_get_ext_count(x); i++) {
		X509_EXTENSION *e = X509_get_ext(x, i);
		ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(e);
		int nid = OBJ_obj2nid(X509_EXTENSION_get_object(e));
		char oid[64];

		OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(e), 1);
		for (size_t k = 0; k < sizeof(nids) / sizeof(nids[0]); k++) {
			const X509V3_EXT_METHOD *m = X509V3_EXT_get_nid(nids[k]);
			const unsigned char *p = ASN1_STRING_get0_data(v);
			ASN1_VALUE *val;
			unsigned char *enc = NULL;
			int n;

			if (nid != nids[k] || m == NULL || m->it == NULL) {
				continue;
			}
			val = ASN1_item_d2i(NULL, &p, ASN1_STRING_length(v), ASN1_ITEM_ptr(m->it));
			n = val != NULL ? ASN1_item_i2d(val, &enc, ASN1_ITEM_ptr(m->it)) : -1;
			ASN1_item_free(val, ASN1_ITEM_ptr(m->it));
			if (!same_i2d(n, enc, ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v))) {
				return true;
			}
		}
		/* Every value certmap reads must be a DER tree. */
		if ((nid == NID_subject_key_identifier || nid == NID_key_usage ||
		     nid == NID_ext_key_usage || nid == NID_subject_alt_name ||
		     strcmp(oid, "1.3.6.1.4.1.311.25.2") == 0) &&
		    (ref_der_tree_bad(ASN1_STRING_get0_data(v), ASN1_STRING_length(v), 0) ||
		     !ref_der_single_tlv(ASN1_STRING_get0_data(v), ASN1_STRING_length(v)))) {
			return true;
		}
	}
	return false;
}

/*
 * The TBS as read, found with OpenSSL's lenient ASN1_get_object. Returns
 * false when a length is indefinite (BER only: not DER by itself).
 */
static bool tbs_as_read(const unsigned char *der, size_t len,
			const unsigned char **tbs, size_t *tbs_len)
{
	const unsigned char *p = der, *start;
	long n = 0;
	int tag, cls, r;

	r = ASN1_get_object(&p, &n, &tag, &cls, (long)len);
	if ((r & 0x80) || r == 0x21) {
		return false;
	}
	start = p;
	r = ASN1_get_object(&p, &n, &tag, &cls, (long)(len - (size_t)(p - der)));
	if ((r & 0x80) || r == 0x21) {
		return false;
	}
	*tbs = start;
	*tbs_len = (size_t)(p - start) + (size_t)n;
	return true;
}

static bool row_not_der(const unsigned char *der, size_t len, X509 *x)
{
	const unsigned char *tbs = NULL;
	unsigned char *enc = NULL;
	size_t tbs_len = 0;
	int n;

	ERR_clear_error();
	/* The TBS as read against a fresh encoding of it, and the whole
	 * certificate (OpenSSL's cached TBS, re-encoded rest). */
	if (ref_der_tree_bad(der, (long)len, 0) || !tbs_as_read(der, len, &tbs, &tbs_len)) {
		return true;
	}
	n = i2d_re_X509_tbs(x, &enc);
	if (!same_i2d(n, enc, tbs, tbs_len)) {
		return true;
	}
	enc = NULL;
	n = i2d_X509(x, &enc);
	if (!same_i2d(n, enc, der, len)) {
		return true;
	}
	return ext_not_der(x);
}

static bool row_version(const unsigned char *der, size_t len, X509 *x)
{
	const unsigned char *tbs = NULL;
	size_t tbs_len = 0;
	long v = X509_get_version(x);
	/* An explicit v1: the TBS starts a0 03 02 01 00 after its header. */
	bool explicit_v1 = tbs_as_read(der, len, &tbs, &tbs_len) && tbs_len > 9 &&
			   memmem(tbs, 9, "\xa0\x03\x02\x01\x00", 5) != NULL;

	return v < 0 || v > 2 || explicit_v1;
}

static bool row_misplaced(const unsigned char *der, size_t len, X509 *x)
{
	const ASN1_BIT_STRING *iuid = NULL, *suid = NULL;
	long v = X509_get_version(x);

	(void)der;
	(void)len;
	X509_get0_uids(x, &iuid, &suid);
	return ((iuid != NULL || suid != NULL) && v < 1) ||
	       (X509_get0_extensions(x) != NULL &&
		(v != 2 || X509_get_ext_count(x) == 0));
}

static bool row_duplicate(const unsigned char *der, size_t len, X509 *x)
{
	int n = X509_get_ext_count(x);

	(void)der;
	(void)len;
	for (int i = 0; i < n; i++) {
		for (int j = i + 1; j < n; j++) {
			if (OBJ_cmp(X509_EXTENSION_get_object(X509_get_ext(x, i)),
				    X509_EXTENSION_get_object(X509_get_ext(x, j))) == 0) {
				return true;
			}
		}
	}
	return false;
}

/* An extension that writes out critical FALSE (OpenSSL keeps and re-encodes it). */
static bool row_critical_false(const unsigned char *der, size_t len, X509 *x)
{
	(void)der;
	(void)len;
	for (int i = 0; i < X509_get_ext_count(x); i++) {
		unsigned char *enc = NULL;
		const unsigned char *p;
		long n = 0;
		int tag, cls, elen = i2d_X509_EXTENSION(X509_get_ext(x, i), &enc);
		bool found = false;

		p = enc;
		if (elen > 0 && !(ASN1_get_object(&p, &n, &tag, &cls, elen) & 0x80) &&
		    !(ASN1_get_object(&p, &n, &tag, &cls, elen - (p - enc)) & 0x80)) {
			p += n; /* past the OID */
			found = enc + elen - p >= 3 && memcmp(p, "\x01\x01\x00", 3) == 0;
		}
		OPENSSL_free(enc);
		if (found) {
			return true;
		}
	}
	return false;
}

static bool row_too_many(const unsigned char *der, size_t len, X509 *x)
{
	(void)der;
	(void)len;
	return X509_get_ext_count(x) > 128;
}

static bool time_strict(const ASN1_TIME *t)
{
	int len = ASN1_STRING_length(t);
	int want = ASN1_STRING_type(t) == V_ASN1_UTCTIME ? 13 : 15;

	return len == want && ASN1_STRING_get0_data(t)[len - 1] == 'Z';
}

static bool row_time_format(const unsigned char *der, size_t len, X509 *x)
{
	(void)der;
	(void)len;
	return !time_strict(X509_get0_notBefore(x)) || !time_strict(X509_get0_notAfter(x));
}

static bool row_serial(const unsigned char *der, size_t len, X509 *x)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	bool holds = bn == NULL || BN_is_zero(bn) || BN_is_negative(bn);

	(void)der;
	(void)len;
	BN_free(bn);
	return holds;
}

static const struct {
	const char *name;
	bool (*holds)(const unsigned char *der, size_t len, X509 *x);
} extra_rejections[] = {
	{ "not_der", row_not_der },
	{ "version", row_version },
	{ "misplaced", row_misplaced },
	{ "duplicate", row_duplicate },
	{ "critical_false", row_critical_false },
	{ "too_many", row_too_many },
	{ "time_format", row_time_format },
	{ "serial", row_serial },
};

static void check_extra_rejection(const unsigned char *der, size_t len, const char *err)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);

	if (x == NULL) {
		ref_differ("the reference accepted but d2i_X509 now rejects");
	}
	for (size_t i = 0; i < sizeof(extra_rejections) / sizeof(extra_rejections[0]); i++) {
		if (extra_rejections[i].holds(der, len, x)) {
			X509_free(x);
			ERR_clear_error();
			return;
		}
	}
	fprintf(stderr, "certmap: %s\n", err != NULL ? err : "(no message)");
	ref_differ("certmap rejects a certificate the reference accepts, and no table row explains it");
}

/* ------------------------------------------------------------ comparing identities */

static void cmp_san(const struct cm_san *a, const struct cm_san *b)
{
	if (a->type != b->type || a->other_kind != b->other_kind) {
		ref_differ("SAN type");
	}
	ref_cmp_value(&a->text, &b->text, "SAN text");
	ref_cmp_value(&a->raw, &b->raw, "SAN raw");
	ref_cmp_value(&a->short_name, &b->short_name, "SAN short_name");
	ref_cmp_str(a->other_oid, b->other_oid, "SAN other_oid");
	if ((a->dirname == NULL) != (b->dirname == NULL)) {
		ref_differ("SAN dirname");
	}
	if (a->dirname != NULL) {
		ref_cmp_name(a->dirname, b->dirname);
	}
}

static void cmp_identity(const struct cm_identity *a, const struct cm_identity *b)
{
	ref_cmp_bytes(a->der, a->der_len, b->der, b->der_len, "DER");
	ref_cmp_name(&a->subject, &b->subject);
	ref_cmp_name(&a->issuer, &b->issuer);
	ref_cmp_bytes(a->serial, a->serial_len, b->serial, b->serial_len, "serial");
	ref_cmp_str(a->serial_dec, b->serial_dec, "serial_dec");
	if (a->serial_negative != b->serial_negative || a->has_ski != b->has_ski ||
	    a->has_ku != b->has_ku || a->ku != b->ku || a->has_eku != b->has_eku ||
	    a->n_sans != b->n_sans || a->has_sid != b->has_sid) {
		ref_differ("flags, KU or SAN count");
	}
	ref_cmp_bytes(a->ski, a->ski_len, b->ski, b->ski_len, "SKI");
	if (a->eku.n != b->eku.n) {
		ref_differ("EKU count");
	}
	for (size_t i = 0; i < a->eku.n; i++) {
		ref_cmp_str(a->eku.v[i], b->eku.v[i], "EKU");
	}
	for (size_t i = 0; i < a->n_sans; i++) {
		cmp_san(&a->sans[i], &b->sans[i]);
	}
	ref_cmp_value(&a->sid, &b->sid, "SID");
	ref_cmp_bytes(a->sha256, 32, b->sha256, 32, "sha256");
	ref_cmp_bytes(a->der + a->spki_off, a->spki_len, b->der + b->spki_off, b->spki_len, "spki");
	if (a->not_before != b->not_before || a->not_after != b->not_after) {
		ref_differ("validity");
	}
	ref_cmp_str(a->key_type, b->key_type, "key type");
	if (a->key_bits != b->key_bits) {
		fprintf(stderr, "key %s: %d vs %d\n", a->key_type, a->key_bits, b->key_bits);
		ref_differ("key bits");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_identity *mine = NULL, *ref = NULL;
	char *err = NULL;
	int rm, rr;

	if (size == 0 || size > CM_CERT_MAX_SIZE || data[0] != 0x30) {
		return 0;
	}
	rm = cm_identity_parse(data, size, &mine, &err);
	rr = ref_identity_parse(data, size, &ref);
	if (rm == 0 && rr != 0) {
		ref_differ("certmap accepts a certificate the reference rejects");
	}
	if (rm != 0 && rr == 0) {
		check_extra_rejection(data, size, err);
	}
	if (rm == 0 && rr == 0) {
		cmp_identity(mine, ref);
	}
	free(err);
	cm_identity_free(mine);
	cm_identity_free(ref);
	return 0;
}

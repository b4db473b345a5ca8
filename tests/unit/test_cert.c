/* Unit tests for mapper/cert.c and mapper/name.c, on the generated certificates. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <pthread.h>

#include <cmocka.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "certmap.h"
#include "ec_key.h"
#include "identity.h"
#include "name.h"
#include "testlib.h"

#define OID_CLIENT_AUTH "1.3.6.1.5.5.7.3.2"

static void assert_text(const struct cm_value *v, const char *expect)
{
	assert_non_null(v->data);
	if (v->unusable != NULL) {
		fail_msg("value unusable: %s", v->unusable);
	}
	assert_int_equal(v->len, strlen(expect));
	assert_memory_equal(v->data, expect, v->len);
}

static void assert_ava(const struct cm_name *n, size_t i, const char *type,
		       const char *value, size_t rdn)
{
	assert_true(i < n->n_avas);
	assert_string_equal(n->avas[i].type, type);
	assert_text(&n->avas[i].value, value);
	assert_int_equal(n->avas[i].rdn, rdn);
}

static void read_cert_file(const char *name, unsigned char **data, size_t *len)
{
	char *path = cmt_cert_path(name);

	assert_int_equal(cmt_read_file(path, data, len), 0);
	free(path);
}

static void test_alice(void **state)
{
	struct cm_identity *id = cmt_load_identity("alice.pem");
	const struct cm_name *s = &id->subject;

	(void)state;
	assert_text(&s->sssd, "CN=Alice Example,UID=alice,OU=Users,O=Example,DC=example,DC=com");
	assert_text(&s->rfc4514, "CN=Alice Example,UID=alice,OU=Users,O=Example,DC=example,DC=com");
	assert_text(&s->x500, "DC=com,DC=example,O=Example,OU=Users,UID=alice,CN=Alice Example");
	assert_int_equal(s->n_avas, 6);
	assert_int_equal(s->n_rdns, 6);
	assert_ava(s, 0, "DC", "com", 0);
	assert_ava(s, 1, "DC", "example", 1);
	assert_ava(s, 2, "O", "Example", 2);
	assert_ava(s, 3, "OU", "Users", 3);
	assert_ava(s, 4, "UID", "alice", 4);
	assert_ava(s, 5, "CN", "Alice Example", 5);
	assert_string_equal(s->avas[4].oid, "0.9.2342.19200300.100.1.1");
	assert_text(&id->issuer.sssd, "CN=Certmap Test CA,O=Certmap Test,C=US");
	assert_text(&id->issuer.x500, "C=US,O=Certmap Test,CN=Certmap Test CA");

	assert_string_equal(id->key_type, "RSA");
	assert_int_equal(id->key_bits, 2048);
	assert_true(id->has_ku);
	assert_int_equal(id->ku, X509v3_KU_DIGITAL_SIGNATURE | X509v3_KU_KEY_ENCIPHERMENT);
	assert_true(id->has_eku);
	assert_int_equal(id->eku.n, 1);
	assert_string_equal(id->eku.v[0], OID_CLIENT_AUTH);
	assert_true(id->has_ski);
	assert_int_equal(id->ski_len, 20);
	assert_false(id->has_sid);
	assert_true(id->not_after - id->not_before >= 3650LL * 86400);

	assert_int_equal(id->n_sans, 2);
	assert_int_equal(id->sans[0].type, CM_SAN_RFC822);
	assert_text(&id->sans[0].text, "alice@example.com");
	assert_text(&id->sans[0].short_name, "alice");
	assert_null(id->sans[0].other_oid);
	assert_int_equal(id->sans[1].type, CM_SAN_OTHER_NAME);
	assert_int_equal(id->sans[1].other_kind, CM_OTHER_UPN);
	assert_string_equal(id->sans[1].other_oid, "1.3.6.1.4.1.311.20.2.3");
	assert_text(&id->sans[1].text, "alice@EXAMPLE.COM");
	assert_text(&id->sans[1].short_name, "alice");
	/* raw is the DER of the inner value: UTF8String "alice@EXAMPLE.COM". */
	assert_int_equal(id->sans[1].raw.len, 19);
	assert_memory_equal(id->sans[1].raw.data, "\x0c\x11" "alice@EXAMPLE.COM", 19);
	cm_identity_free(id);
}

/* The digests are checked against the file bytes and the private key. */
static void test_digests(void **state)
{
	struct cm_identity *id = cmt_load_identity("alice.der");
	unsigned char *der = NULL, *spki = NULL, *keypem = NULL;
	size_t der_len = 0, keylen = 0;
	unsigned char md[32], sha1[20], spki_sha1[20], spki_sha256[32];
	EVP_PKEY *key = NULL;
	BIO *bio = NULL;
	int n;

	(void)state;
	read_cert_file("alice.der", &der, &der_len);
	assert_int_equal(id->der_len, der_len);
	assert_memory_equal(id->der, der, der_len);
	assert_int_equal(EVP_Digest(der, der_len, md, NULL, EVP_sha256(), NULL), 1);
	assert_memory_equal(id->sha256, md, 32);
	assert_int_equal(cm_identity_digests(id, sha1, spki_sha1, spki_sha256), 0);
	assert_int_equal(EVP_Digest(der, der_len, md, NULL, EVP_sha1(), NULL), 1);
	assert_memory_equal(sha1, md, 20);

	read_cert_file("alice.key", &keypem, &keylen);
	bio = BIO_new_mem_buf(keypem, (int)keylen);
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	assert_non_null(key);
	n = i2d_PUBKEY(key, &spki);
	assert_true(n > 0);
	assert_int_equal(EVP_Digest(spki, (size_t)n, md, NULL, EVP_sha256(), NULL), 1);
	assert_memory_equal(spki_sha256, md, 32);
	assert_int_equal(EVP_Digest(spki, (size_t)n, md, NULL, EVP_sha1(), NULL), 1);
	assert_memory_equal(spki_sha1, md, 20);
	OPENSSL_free(spki);
	EVP_PKEY_free(key);
	BIO_free(bio);
	free(keypem);
	free(der);
	cm_identity_free(id);
}

static void test_der_equals_pem(void **state)
{
	struct cm_identity *a = cmt_load_identity("alice.der");
	struct cm_identity *b = cmt_load_identity("alice.pem");

	(void)state;
	assert_int_equal(a->der_len, b->der_len);
	assert_memory_equal(a->der, b->der, a->der_len);
	assert_memory_equal(a->sha256, b->sha256, 32);
	assert_int_equal(a->subject.sssd.len, b->subject.sssd.len);
	assert_memory_equal(a->subject.sssd.data, b->subject.sssd.data, a->subject.sssd.len);
	assert_int_equal(a->n_sans, b->n_sans);
	cm_identity_free(a);
	cm_identity_free(b);
}

static void test_validity(void **state)
{
	struct cm_identity *id = cmt_load_identity("expired.pem");

	(void)state;
	assert_int_equal(id->not_before, 1577836800LL); /* 2020-01-01 */
	assert_int_equal(id->not_after, 1609459200LL);  /* 2021-01-01 */
	cm_identity_free(id);
	id = cmt_load_identity("notyet.pem");           /* GeneralizedTime */
	assert_int_equal(id->not_before, 4070908800LL); /* 2099-01-01 */
	assert_int_equal(id->not_after, 4102444800LL);  /* 2100-01-01 */
	cm_identity_free(id);
}

static void test_bob_ec(void **state)
{
	struct cm_identity *id = cmt_load_identity("bob-ec.pem");

	(void)state;
	assert_string_equal(id->key_type, "EC");
	assert_int_equal(id->key_bits, 256);
	assert_text(&id->subject.sssd, "CN=bob,O=Example,DC=example,DC=com");
	assert_int_equal(id->n_sans, 2);
	assert_text(&id->sans[0].text, "bob@example.com");
	assert_text(&id->sans[1].text, "bob@EXAMPLE.COM");
	cm_identity_free(id);
	id = cmt_load_identity("ec384.pem");
	assert_string_equal(id->key_type, "EC");
	assert_int_equal(id->key_bits, 384);
	cm_identity_free(id);
}

static void test_utf8(void **state)
{
	struct cm_identity *id = cmt_load_identity("utf8.pem");
	const struct cm_name *s = &id->subject;

	(void)state;
	assert_text(&s->sssd, "CN=J\\C3\\BCrgen M\\C3\\BCller,O=Example");
	assert_text(&s->rfc4514, "CN=J\xc3\xbcrgen M\xc3\xbcller,O=Example");
	assert_text(&s->x500, "O=Example,CN=J\\C3\\BCrgen M\\C3\\BCller");
	assert_ava(s, 1, "CN", "J\xc3\xbcrgen M\xc3\xbcller", 1);
	assert_text(&s->avas[1].sssd_value, "J\\C3\\BCrgen M\\C3\\BCller");
	cm_identity_free(id);
}

/* T61String is read as Latin-1, BMPString as UCS-2: both become UTF-8. */
static void test_t61_bmp(void **state)
{
	struct cm_identity *id = cmt_load_identity("t61.pem");

	(void)state;
	assert_ava(&id->subject, 1, "CN", "T61 M\xc3\xbcller", 1);
	assert_text(&id->subject.sssd, "CN=T61 M\\C3\\BCller,O=Example");
	cm_identity_free(id);
	id = cmt_load_identity("bmp-cn.pem");
	assert_ava(&id->subject, 0, "O", "Example", 0);
	assert_ava(&id->subject, 1, "CN", "BMP M\xc3\xbcller", 1);
	assert_text(&id->subject.sssd, "CN=BMP M\\C3\\BCller,O=Example");
	cm_identity_free(id);
	id = cmt_load_identity("printable-dc.pem");
	assert_text(&id->subject.sssd, "CN=pdc,O=Example,DC=example,DC=com");
	cm_identity_free(id);
	id = cmt_load_identity("email-dn.pem");
	assert_text(&id->subject.sssd, "E=eve@example.com,CN=eve,O=Example");
	assert_ava(&id->subject, 2, "E", "eve@example.com", 2);
	assert_string_equal(id->subject.avas[2].oid, "1.2.840.113549.1.9.1");
	cm_identity_free(id);
}

/* SSSD prints each AVA of a multi-valued RDN as its own component. */
static void test_multirdn(void **state)
{
	struct cm_identity *id = cmt_load_identity("multirdn.pem");
	const struct cm_name *s = &id->subject;

	(void)state;
	assert_int_equal(s->n_avas, 3);
	assert_int_equal(s->n_rdns, 2);
	assert_ava(s, 0, "O", "Example", 0);
	assert_ava(s, 1, "CN", "carol", 1);
	assert_ava(s, 2, "UID", "carol", 1);
	assert_text(&s->sssd, "UID=carol,CN=carol,O=Example");
	assert_text(&s->x500, "O=Example,CN=carol,UID=carol");
	cm_identity_free(id);
}

static void test_special_dn(void **state)
{
	struct cm_identity *id = cmt_load_identity("special-dn.pem");
	const struct cm_name *s = &id->subject;

	(void)state;
	assert_text(&s->sssd, "CN=x=\\\"y\\\"\\;\\<z\\>#,OU=\\ lead/trail\\ ,OU=\\#lead,"
		    "OU=a\\+b,O=Ex\\, Inc.");
	assert_ava(s, 0, "O", "Ex, Inc.", 0);
	assert_ava(s, 3, "OU", " lead/trail ", 3);
	assert_ava(s, 4, "CN", "x=\"y\";<z>#", 4);
	assert_text(&s->avas[4].sssd_value, "x=\\\"y\\\"\\;\\<z\\>#");
	cm_identity_free(id);

	id = cmt_load_identity("escapes.pem");
	s = &id->subject;
	assert_text(&s->sssd, "CN=\\#hash,OU=tab\\09and cr\\0Dhere,OU=a=b\\;c,"
		    "OU=trailing space\\ ,OU=\\ leading space,O=back\\\\slash");
	assert_ava(s, 0, "O", "back\\slash", 0);
	assert_ava(s, 4, "OU", "tab\tand cr\rhere", 4);
	cm_identity_free(id);

	id = cmt_load_identity("special-cn.pem");
	assert_text(&id->subject.sssd, "CN=a*b(c)d\\\\e,O=Example");
	cm_identity_free(id);
}

static void test_empty_subject(void **state)
{
	struct cm_identity *id = cmt_load_identity("empty-subject.pem");

	(void)state;
	assert_int_equal(id->subject.n_avas, 0);
	assert_int_equal(id->subject.n_rdns, 0);
	assert_text(&id->subject.sssd, "");
	assert_text(&id->subject.x500, "");
	assert_int_equal(id->n_sans, 2);
	assert_text(&id->sans[0].text, "empty@example.com");
	cm_identity_free(id);
}

static void test_multisan(void **state)
{
	static const struct {
		enum cm_san_type type;
		const char *text, *short_name;
	} want[] = {
		{ CM_SAN_RFC822, "erin@example.com", "erin" },
		{ CM_SAN_RFC822, "erin.alt@example.org", "erin.alt" },
		{ CM_SAN_DNS, "erin.example.com", "erin" },
		{ CM_SAN_DNS, "erin2.example.com", "erin2" },
		{ CM_SAN_OTHER_NAME, "erin@EXAMPLE.COM", "erin" },
		{ CM_SAN_OTHER_NAME, "erin2@EXAMPLE.COM", "erin2" },
	};
	struct cm_identity *id = cmt_load_identity("multisan.pem");

	(void)state;
	assert_int_equal(id->n_sans, CM_ARRAY_SIZE(want));
	for (size_t i = 0; i < CM_ARRAY_SIZE(want); i++) {
		assert_int_equal(id->sans[i].type, want[i].type);
		assert_text(&id->sans[i].text, want[i].text);
		assert_text(&id->sans[i].short_name, want[i].short_name);
	}
	assert_int_equal(id->sans[4].other_kind, CM_OTHER_UPN);
	cm_identity_free(id);
}

static void test_krb5(void **state)
{
	struct cm_identity *id = cmt_load_identity("krb5.pem");

	(void)state;
	assert_int_equal(id->n_sans, 1);
	assert_int_equal(id->sans[0].type, CM_SAN_OTHER_NAME);
	assert_int_equal(id->sans[0].other_kind, CM_OTHER_KRB5);
	assert_string_equal(id->sans[0].other_oid, "1.3.6.1.5.2.2");
	assert_text(&id->sans[0].text, "dave@EXAMPLE.COM");
	assert_text(&id->sans[0].short_name, "dave");
	assert_int_equal(id->sans[0].raw.data[0], 0x30);
	cm_identity_free(id);
	id = cmt_load_identity("krb5-multi.pem");
	assert_text(&id->sans[0].text, "host/server.example.com@EXAMPLE.COM");
	assert_text(&id->sans[0].short_name, "host/server.example.com");
	cm_identity_free(id);
}

static void test_sid(void **state)
{
	struct cm_identity *id = cmt_load_identity("sid.pem");

	(void)state;
	assert_true(id->has_sid);
	assert_text(&id->sid, "S-1-5-21-2084710061-1330166313-3217380000-1105");
	cm_identity_free(id);
}

/* Embedded NUL: kept whole, never truncated, and unusable. */
static void test_nul_values(void **state)
{
	struct cm_identity *id = cmt_load_identity("nul-email.pem");

	(void)state;
	assert_int_equal(id->n_sans, 1);
	assert_int_equal(id->sans[0].type, CM_SAN_RFC822);
	assert_int_equal(id->sans[0].text.len, 24);
	assert_memory_equal(id->sans[0].text.data, "victim@example.com\0.evil", 24);
	assert_non_null(id->sans[0].text.unusable);
	assert_false(cm_value_usable(&id->sans[0].text));
	assert_false(cm_value_usable(&id->sans[0].short_name));
	cm_identity_free(id);

	id = cmt_load_identity("nul-dns.pem");
	assert_int_equal(id->sans[0].type, CM_SAN_DNS);
	assert_int_equal(id->sans[0].text.len, 29);
	assert_memory_equal(id->sans[0].text.data, "victim.example.com\0.evil.test", 29);
	assert_false(cm_value_usable(&id->sans[0].text));
	cm_identity_free(id);
}

static void test_allsan(void **state)
{
	struct cm_identity *id = cmt_load_identity("allsan.pem");
	const struct cm_san *s = id->sans;

	(void)state;
	assert_int_equal(id->n_sans, 12);
	assert_int_equal(s[0].type, CM_SAN_OTHER_NAME);
	assert_int_equal(s[0].other_kind, CM_OTHER_GENERIC);
	assert_string_equal(s[0].other_oid, "1.2.3.4.5");
	assert_false(cm_value_usable(&s[0].text));
	assert_int_equal(s[0].raw.len, 15);
	assert_memory_equal(s[0].raw.data, "\x0c\x0dgeneric-other", 15);
	assert_int_equal(s[1].type, CM_SAN_RFC822);
	assert_text(&s[1].text, "all@example.com");
	assert_int_equal(s[2].type, CM_SAN_DNS);
	assert_text(&s[2].text, "all.example.com");
	assert_text(&s[2].short_name, "all");
	assert_int_equal(s[3].type, CM_SAN_X400);
	assert_false(cm_value_usable(&s[3].text));
	assert_int_equal(s[3].raw.len, 8);
	assert_memory_equal(s[3].raw.data, "\x30\x06\x61\x04\x13\x02US", 8);
	assert_int_equal(s[4].type, CM_SAN_DIRNAME);
	assert_text(&s[4].text, "CN=dir name,O=Dir Org");
	assert_non_null(s[4].dirname);
	assert_int_equal(s[4].dirname->n_avas, 2);
	assert_ava(s[4].dirname, 0, "O", "Dir Org", 0);
	assert_int_equal(s[5].type, CM_SAN_EDIPARTY);
	assert_false(cm_value_usable(&s[5].text));
	assert_int_equal(s[5].raw.len, 13);
	assert_memory_equal(s[5].raw.data, "\xa1\x0b\x0c\x09" "edi party", 13);
	assert_int_equal(s[6].type, CM_SAN_URI);
	assert_text(&s[6].text, "https://all.example.com/path?q=1");
	assert_int_equal(s[7].type, CM_SAN_IP);
	assert_text(&s[7].text, "192.0.2.1");
	assert_int_equal(s[7].raw.len, 4);
	assert_int_equal(s[8].type, CM_SAN_IP);
	assert_text(&s[8].text, "2001:db8::1");
	assert_int_equal(s[8].raw.len, 16);
	assert_int_equal(s[9].type, CM_SAN_RID);
	assert_text(&s[9].text, "1.2.3.4.5.6");
	assert_int_equal(s[10].other_kind, CM_OTHER_UPN);
	assert_text(&s[10].text, "allsan@EXAMPLE.COM");
	assert_int_equal(s[11].other_kind, CM_OTHER_KRB5);
	assert_text(&s[11].text, "allsan@EXAMPLE.COM");
	cm_identity_free(id);
}

static void test_upn_bmp(void **state)
{
	struct cm_identity *id = cmt_load_identity("upn-bmp.pem");

	(void)state;
	assert_int_equal(id->n_sans, 2);
	assert_int_equal(id->sans[0].other_kind, CM_OTHER_UPN);
	assert_false(cm_value_usable(&id->sans[0].text));
	assert_string_equal(id->sans[0].text.unusable, "the UPN is not a UTF8String");
	assert_false(cm_value_usable(&id->sans[0].short_name));
	assert_int_equal(id->sans[0].raw.data[0], 0x1e); /* BMPString */
	assert_text(&id->sans[1].text, "bmp@example.com");
	cm_identity_free(id);
}

static void test_ski_ku_eku(void **state)
{
	struct cm_identity *id = cmt_load_identity("noski.pem");

	(void)state;
	assert_false(id->has_ski);
	assert_null(id->ski);
	cm_identity_free(id);
	id = cmt_load_identity("noku.pem");
	assert_false(id->has_ku);
	assert_true(id->has_eku);
	cm_identity_free(id);
	id = cmt_load_identity("noeku.pem");
	assert_false(id->has_eku);
	assert_int_equal(id->eku.n, 0);
	cm_identity_free(id);
	id = cmt_load_identity("keycert-only.pem");
	assert_int_equal(id->ku, X509v3_KU_KEY_ENCIPHERMENT);
	cm_identity_free(id);
	id = cmt_load_identity("serverauth.pem");
	assert_int_equal(id->eku.n, 1);
	assert_string_equal(id->eku.v[0], "1.3.6.1.5.5.7.3.1");
	cm_identity_free(id);
	assert_string_equal(cm_eku_oid("pkinit"), "1.3.6.1.5.2.3.4");
	assert_string_equal(cm_eku_oid("msScLogin"), "1.3.6.1.4.1.311.20.2.2");
	assert_null(cm_eku_oid("clientauth"));
	assert_string_equal(cm_eku_name(OID_CLIENT_AUTH), "clientAuth");
	assert_int_equal(cm_ku_bit("cRLSign"), X509v3_KU_CRL_SIGN);
	assert_int_equal(cm_ku_bit("nope"), 0);
}

/* SSSD prints the magnitude without the DER sign byte. */
static void test_serial(void **state)
{
	static const unsigned char big[] = {
		0x80, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
		0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11,
	};
	struct cm_identity *id = cmt_load_identity("bigserial.pem");

	(void)state;
	assert_int_equal(id->serial_len, sizeof(big));
	assert_memory_equal(id->serial, big, sizeof(big));
	assert_string_equal(id->serial_dec, "11156202859447933955902901154173239148085265");
	assert_false(id->serial_negative);
	cm_identity_free(id);
	id = cmt_load_identity("smallserial.pem");
	assert_int_equal(id->serial_len, 1);
	assert_int_equal(id->serial[0], 1);
	assert_string_equal(id->serial_dec, "1");
	cm_identity_free(id);
	id = cmt_load_identity("serial5.pem");
	assert_int_equal(id->serial_len, 1);
	assert_int_equal(id->serial[0], 5);
	assert_string_equal(id->serial_dec, "5");
	cm_identity_free(id);
}

/* RFC 5280 requires a positive serial: 0 and -5 (which would print as 5)
 * are refused, as SSSD refuses them. */
static void test_serial_not_positive(void **state)
{
	static const char *const files[] = { "serial0.pem", "serial-neg5.pem" };
	static const char *const said[] = { "the serial number is 0;", "the serial number is -5;" };

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(files); i++) {
		struct cm_identity *id = NULL;
		unsigned char *data = NULL;
		size_t len = 0;
		char *err = NULL;

		read_cert_file(files[i], &data, &len);
		assert_int_equal(cm_identity_parse(data, len, &id, &err), CERTMAP_ERR_CERT);
		assert_null(id);
		assert_non_null(err);
		assert_non_null(strstr(err, said[i]));
		assert_non_null(strstr(err, "RFC 5280 requires a positive serial number"));
		free(err);
		free(data);
	}
}

static int parse_bytes(const unsigned char *p, size_t len, char **err)
{
	struct cm_identity *id = NULL;
	int rv = cm_identity_parse(p, len, &id, err);

	if (rv == 0) {
		assert_non_null(id);
	} else {
		assert_null(id);
		assert_non_null(*err);
	}
	cm_identity_free(id);
	return rv;
}

static void test_bad_input(void **state)
{
	unsigned char *der = NULL, *pem = NULL, *key = NULL, *buf;
	size_t der_len = 0, pem_len = 0, key_len = 0;
	char *err = NULL;

	(void)state;
	read_cert_file("alice.der", &der, &der_len);
	read_cert_file("alice.pem", &pem, &pem_len);
	read_cert_file("alice.key", &key, &key_len);

	assert_int_equal(parse_bytes((const unsigned char *)"hello world", 11, &err),
			 CERTMAP_ERR_CERT);
	free(err);
	err = NULL;
	assert_int_equal(parse_bytes(der, 0, &err), CERTMAP_ERR_CERT);
	free(err);
	err = NULL;
	assert_int_equal(parse_bytes(der, der_len - 10, &err), CERTMAP_ERR_CERT);
	free(err);
	err = NULL;

	buf = calloc(1, CM_CERT_MAX_SIZE + 2);
	assert_non_null(buf);
	memcpy(buf, der, der_len);
	assert_int_equal(parse_bytes(buf, der_len + 1, &err), CERTMAP_ERR_CERT);
	assert_non_null(strstr(err, "1 trailing bytes"));
	free(err);
	err = NULL;
	assert_int_equal(parse_bytes(buf, CM_CERT_MAX_SIZE + 1, &err), CERTMAP_ERR_TOO_LARGE);
	free(err);
	err = NULL;

	/* A valid outer SEQUENCE that is no certificate. */
	assert_int_equal(parse_bytes((const unsigned char *)"\x30\x03\x02\x01\x01", 5, &err),
			 CERTMAP_ERR_CERT);
	free(err);
	err = NULL;
	/* PEM: a key alone is refused, and so is a key before the certificate
	 * (exactly one certificate and nothing else). */
	assert_int_equal(parse_bytes(key, key_len, &err), CERTMAP_ERR_CERT);
	free(err);
	err = NULL;
	buf = realloc(buf, key_len + pem_len);
	memcpy(buf, key, key_len);
	memcpy(buf + key_len, pem, pem_len);
	assert_int_equal(parse_bytes(buf, key_len + pem_len, &err), CERTMAP_ERR_CERT);
	assert_non_null(strstr(err, "not a CERTIFICATE"));
	free(err);
	free(buf);
	free(der);
	free(pem);
	free(key);
}

/* Parses a patched copy of alice.der; returns the error and its message. */
static int parse_patched(const unsigned char *der, size_t len, char **err)
{
	struct cm_identity *id = NULL;
	int rv = cm_identity_parse(der, len, &id, err);

	cm_identity_free(id);
	return rv;
}

/* The position of the first occurrence of needle in der, which must exist. */
static size_t find_bytes(const unsigned char *der, size_t len, const char *needle, size_t n)
{
	const unsigned char *at = memmem(der, len, needle, n);

	assert_non_null(at);
	return (size_t)(at - der);
}

/*
 * Encodings OpenSSL's d2i_X509 accepts but DER forbids are refused (the
 * extra rejections listed in tests/fuzz/fuzz_cert_diff.c).
 */
static void test_strict_der(void **state)
{
	unsigned char *der = NULL, *buf;
	size_t len = 0, at;
	char *err = NULL;

	(void)state;
	read_cert_file("alice.der", &der, &len);
	buf = malloc(len + 1);
	assert_non_null(buf);
	/* A non-minimal length: 30 82 xx xx written as 30 83 00 xx xx. */
	assert_int_equal(der[1], 0x82);
	buf[0] = 0x30;
	buf[1] = 0x83;
	buf[2] = 0x00;
	memcpy(buf + 3, der + 2, len - 2);
	assert_int_equal(parse_patched(buf, len + 1, &err), CERTMAP_ERR_CERT);
	assert_non_null(strstr(err, "not a DER SEQUENCE"));
	free(err);
	err = NULL;
	/* Version v4 (a0 03 02 01 03). */
	memcpy(buf, der, len);
	at = find_bytes(buf, len, "\xa0\x03\x02\x01\x02", 5);
	buf[at + 4] = 0x03;
	assert_int_equal(parse_patched(buf, len, &err), CERTMAP_ERR_CERT);
	assert_non_null(strstr(err, "version"));
	free(err);
	err = NULL;
	/* keyUsage marked critical with BOOLEAN 01 instead of ff. */
	memcpy(buf, der, len);
	at = find_bytes(buf, len, "\x55\x1d\x0f\x01\x01\xff", 6);
	buf[at + 5] = 0x01;
	assert_int_equal(parse_patched(buf, len, &err), CERTMAP_ERR_CERT);
	assert_non_null(strstr(err, "not DER"));
	free(err);
	err = NULL;
	/* The second extension's OID turned into the first's: a duplicate. */
	memcpy(buf, der, len);
	at = find_bytes(buf, len, "\x55\x1d\x25", 3);
	buf[at + 2] = 0x0f;
	assert_int_equal(parse_patched(buf, len, &err), CERTMAP_ERR_CERT);
	assert_non_null(strstr(err, "more than once"));
	free(err);
	/* The untouched certificate still parses. */
	memcpy(buf, der, len);
	err = NULL;
	assert_int_equal(parse_patched(buf, len, &err), 0);
	assert_null(err);
	free(buf);
	free(der);
}

static void test_cert_to_der(void **state)
{
	unsigned char *pem = NULL, *der = NULL, *out = NULL;
	size_t pem_len = 0, der_len = 0, out_len = 0;
	char *err = NULL;

	(void)state;
	read_cert_file("alice.pem", &pem, &pem_len);
	read_cert_file("alice.der", &der, &der_len);
	assert_int_equal(cm_cert_to_der(pem, pem_len, &out, &out_len, &err), 0);
	assert_null(err);
	assert_int_equal(out_len, der_len);
	assert_memory_equal(out, der, der_len);
	free(out);
	assert_int_equal(cm_cert_to_der(pem, 40, &out, &out_len, &err), CERTMAP_ERR_CERT);
	assert_null(out);
	assert_int_equal(out_len, 0);
	free(err);
	free(pem);
	free(der);
}

/* cm_cert_to_der on alice.pem with text around it: 0 or the error. */
static int pem_around(const char *before, const char *after, size_t after_len, char **err)
{
	unsigned char *pem = NULL, *buf, *out = NULL;
	size_t pem_len = 0, out_len = 0, bl = strlen(before);
	int rv;

	read_cert_file("alice.pem", &pem, &pem_len);
	buf = malloc(bl + pem_len + after_len);
	assert_non_null(buf);
	memcpy(buf, before, bl);
	memcpy(buf + bl, pem, pem_len);
	memcpy(buf + bl + pem_len, after, after_len);
	*err = NULL;
	rv = cm_cert_to_der(buf, bl + pem_len + after_len, &out, &out_len, err);
	if (rv == 0) {
		assert_non_null(out);
		assert_null(*err);
	} else {
		assert_null(out);
		assert_non_null(*err);
	}
	free(out);
	free(buf);
	free(pem);
	return rv;
}

/* Issue 14: PEM holds exactly one certificate and nothing but whitespace
 * around it, as DER and the PAM module require. */
static void test_pem_one_certificate(void **state)
{
	unsigned char *pem = NULL, *key = NULL;
	size_t pem_len = 0, key_len = 0;
	char *err = NULL, *two;

	(void)state;
	assert_int_equal(pem_around("\n \t\r\n", "\r\n\n  \t", 6, &err), 0);
	assert_int_equal(pem_around("", "junk", 4, &err), CERTMAP_ERR_CERT);
	assert_non_null(strstr(err, "text follows the PEM block"));
	free(err);
	assert_int_equal(pem_around("", "\0junk", 5, &err), CERTMAP_ERR_CERT);
	assert_non_null(strstr(err, "text follows the PEM block"));
	free(err);
	assert_int_equal(pem_around("", "\0", 1, &err), CERTMAP_ERR_CERT);
	free(err);
	assert_int_equal(pem_around("Certificate:\n    Data:\n", "", 0, &err), CERTMAP_ERR_CERT);
	assert_non_null(strstr(err, "text precedes the PEM block"));
	free(err);
	/* A second certificate after the first, and other blocks before it. */
	read_cert_file("bob-ec.pem", &pem, &pem_len);
	two = cm_asprintf("%s", (char *)pem);
	assert_int_equal(pem_around("", two, strlen(two), &err), CERTMAP_ERR_CERT);
	assert_non_null(strstr(err, "text follows the PEM block"));
	free(err);
	assert_int_equal(pem_around(two, "", 0, &err), CERTMAP_ERR_CERT);
	assert_non_null(strstr(err, "text follows the PEM block"));
	free(err);
	read_cert_file("alice.key", &key, &key_len);
	assert_int_equal(pem_around((char *)key, "", 0, &err), CERTMAP_ERR_CERT);
	assert_non_null(strstr(err, "not a CERTIFICATE"));
	free(err);
	free(key);
	/* A certificate cut before its END line (out-params cleared). */
	assert_int_equal(cm_cert_to_der(pem, pem_len - 10, &key, &key_len, &err), CERTMAP_ERR_CERT);
	assert_null(key);
	assert_non_null(strstr(err, "no -----END CERTIFICATE----- line"));
	free(err);
	/* A NUL inside the block. */
	pem[40] = '\0';
	assert_int_equal(cm_cert_to_der(pem, pem_len, &key, &key_len, &err), CERTMAP_ERR_CERT);
	assert_non_null(strstr(err, "NUL"));
	free(err);
	free(two);
	free(pem);
}

static void test_name_parse(void **state)
{
	struct cm_identity *id = cmt_load_identity("alice.pem");
	struct cm_name n = { 0 };
	char *err = NULL;

	(void)state;
	assert_int_equal(cm_name_parse(id->subject.der, id->subject.der_len, &n, &err), 0);
	assert_int_equal(n.sssd.len, id->subject.sssd.len);
	assert_memory_equal(n.sssd.data, id->subject.sssd.data, n.sssd.len);
	cm_name_clear(&n);
	assert_int_equal(cm_name_parse(id->subject.der, id->subject.der_len - 1, &n, &err),
			 CERTMAP_ERR_CERT);
	assert_non_null(err);
	assert_null(n.avas);
	free(err);
	cm_name_clear(NULL);
	cm_identity_free(id);
}

/* DER of a one-AVA Name: OID contents oid (olen bytes), value tag + bytes. */
static size_t one_ava_name(unsigned char *out, const char *oid, size_t olen,
			  unsigned char tag, const char *v, size_t vlen)
{
	size_t ava = 2 + olen + 2 + vlen, n = 0;

	assert_true(ava + 4 < 0x80);
	out[n++] = 0x30;
	out[n++] = (unsigned char)(ava + 4);
	out[n++] = 0x31;
	out[n++] = (unsigned char)(ava + 2);
	out[n++] = 0x30;
	out[n++] = (unsigned char)ava;
	out[n++] = 0x06;
	out[n++] = (unsigned char)olen;
	memcpy(out + n, oid, olen);
	n += olen;
	out[n++] = tag;
	out[n++] = (unsigned char)vlen;
	memcpy(out + n, v, vlen);
	return n + vlen;
}

#define OID_CN "\x55\x04\x03", 3

/* Parses CN=<tag v> and checks the value, sssd value and rfc4514 rendering. */
static void check_cn(unsigned char tag, const char *v, size_t vlen, const char *value,
		     const char *sssd, const char *rfc4514)
{
	unsigned char der[128];
	struct cm_name n = { 0 };
	size_t len = one_ava_name(der, OID_CN, tag, v, vlen);

	assert_int_equal(cm_name_parse(der, len, &n, NULL), 0);
	assert_int_equal(n.n_avas, 1);
	assert_string_equal(n.avas[0].type, "CN");
	assert_string_equal(n.avas[0].oid, "2.5.4.3");
	assert_text(&n.avas[0].value, value);
	assert_text(&n.sssd, sssd);
	assert_text(&n.rfc4514, rfc4514);
	assert_text(&n.x500, sssd);
	cm_name_clear(&n);
}

/* OpenSSL's RFC 2253 escaping, quirks included, and the string types. */
static void test_name_escaping(void **state)
{
	(void)state;
	check_cn(0x0c, "#a b ", 5, "#a b ", "CN=\\#a b\\ ", "CN=\\#a b\\ ");
	/* A one-character value is "last" only: a lone '#' stays bare. */
	check_cn(0x0c, "#", 1, "#", "CN=#", "CN=#");
	check_cn(0x0c, " ", 1, " ", "CN=\\ ", "CN=\\ ");
	check_cn(0x0c, "\"+,;<>\\=", 8, "\"+,;<>\\=", "CN=\\\"\\+\\,\\;\\<\\>\\\\=",
		 "CN=\\\"\\+\\,\\;\\<\\>\\\\=");
	check_cn(0x0c, "a\x01\x7f", 3, "a\x01\x7f", "CN=a\\01\\7F", "CN=a\\01\\7F");
	check_cn(0x0c, "\xc3\xa9,", 3, "\xc3\xa9,", "CN=\\C3\\A9\\,", "CN=\xc3\xa9\\,");
	/* Teletex and Printable are Latin-1, BMP is UCS-2, Universal UCS-4. */
	check_cn(0x14, "\xe9#", 2, "\xc3\xa9#", "CN=\\C3\\A9#", "CN=\xc3\xa9#");
	check_cn(0x13, " \xff", 2, " \xc3\xbf", "CN=\\ \\C3\\BF", "CN=\\ \xc3\xbf");
	check_cn(0x1e, "\x00\x41\x20\xac", 4, "A\xe2\x82\xac", "CN=A\\E2\\82\\AC",
		 "CN=A\xe2\x82\xac");
	check_cn(0x1c, "\x00\x01\xf6\x00\x00\x00\x00 ", 8, "\xf0\x9f\x98\x80 ",
		 "CN=\\F0\\9F\\98\\80\\ ", "CN=\xf0\x9f\x98\x80\\ ");
}

static void test_name_values(void **state)
{
	unsigned char der[128];
	struct cm_name n = { 0 };
	char *err = NULL;
	size_t len;

	(void)state;
	/* NUL: printed escaped, the value unusable. */
	len = one_ava_name(der, OID_CN, 0x0c, "a\0b", 3);
	assert_int_equal(cm_name_parse(der, len, &n, NULL), 0);
	assert_string_equal(n.avas[0].value.unusable, "the value contains a NUL byte");
	assert_text(&n.sssd, "CN=a\\00b");
	cm_name_clear(&n);
	/* Not a string: the DER dumped in hex, the value unusable. */
	len = one_ava_name(der, OID_CN, 0x03, "\x00\xff", 2);
	assert_int_equal(cm_name_parse(der, len, &n, NULL), 0);
	assert_non_null(n.avas[0].value.unusable);
	assert_int_equal(n.avas[0].value.len, 1);
	assert_int_equal(n.avas[0].value.data[0], 0xff);
	assert_text(&n.sssd, "CN=#030200FF");
	assert_text(&n.rfc4514, "CN=#030200FF");
	cm_name_clear(&n);
	/* An OID OpenSSL does not know: UNDEF, and the OID for rfc4514. */
	len = one_ava_name(der, "\x2b\x06\x01\x04\x01\x86\x8d\x1f\x01", 9, 0x0c, "x", 1);
	assert_int_equal(cm_name_parse(der, len, &n, NULL), 0);
	assert_string_equal(n.avas[0].type, "UNDEF");
	assert_string_equal(n.avas[0].oid, "1.3.6.1.4.1.99999.1");
	assert_text(&n.sssd, "UNDEF=x");
	assert_text(&n.rfc4514, "1.3.6.1.4.1.99999.1=x");
	cm_name_clear(&n);
	/* Refused like d2i_X509_NAME refuses them: VisibleString, OCTET
	 * STRING, bad UTF-8, a surrogate in a BMPString, a UCS-4 value over
	 * U+10FFFF, a context tag. */
	len = one_ava_name(der, OID_CN, 0x1a, "abc", 3);
	assert_int_equal(cm_name_parse(der, len, &n, &err), CERTMAP_ERR_CERT);
	assert_string_equal(err, "the distinguished name is not valid DER");
	free(err);
	len = one_ava_name(der, OID_CN, 0x04, "abc", 3);
	assert_int_equal(cm_name_parse(der, len, &n, NULL), CERTMAP_ERR_CERT);
	len = one_ava_name(der, OID_CN, 0x0c, "\xc0\xaf", 2);
	assert_int_equal(cm_name_parse(der, len, &n, &err), CERTMAP_ERR_CERT);
	assert_string_equal(err, "the distinguished name holds a badly encoded string");
	free(err);
	assert_null(n.avas);
	len = one_ava_name(der, OID_CN, 0x1e, "\xd8\x00", 2);
	assert_int_equal(cm_name_parse(der, len, &n, NULL), CERTMAP_ERR_CERT);
	len = one_ava_name(der, OID_CN, 0x1c, "\x00\x11\x00\x00", 4);
	assert_int_equal(cm_name_parse(der, len, &n, NULL), CERTMAP_ERR_CERT);
	len = one_ava_name(der, OID_CN, 0x80, "abc", 3);
	assert_int_equal(cm_name_parse(der, len, &n, NULL), CERTMAP_ERR_CERT);
}

/* Empty RDNs count for the index; an unsorted SET OF is taken as it is. */
static void test_name_rdns(void **state)
{
	static const unsigned char empty_rdn[] =
		"\x30\x12\x31\x00\x31\x0c\x30\x0a\x06\x03\x55\x04\x03\x0c\x03" "bob\x31\x00";
	static const unsigned char unsorted[] =
		"\x30\x1e\x31\x1c\x30\x0c\x06\x03\x55\x04\x0b\x0c\x05Users"
		"\x30\x0c\x06\x03\x55\x04\x03\x0c\x05" "alice";
	struct cm_name n = { 0 };

	(void)state;
	assert_int_equal(cm_name_parse(empty_rdn, sizeof(empty_rdn) - 1, &n, NULL), 0);
	assert_int_equal(n.n_avas, 1);
	assert_int_equal(n.n_rdns, 2);
	assert_ava(&n, 0, "CN", "bob", 1);
	assert_text(&n.sssd, "CN=bob");
	cm_name_clear(&n);
	assert_int_equal(cm_name_parse(unsorted, sizeof(unsorted) - 1, &n, NULL), 0);
	assert_int_equal(n.n_rdns, 1);
	assert_ava(&n, 0, "OU", "Users", 0);
	assert_ava(&n, 1, "CN", "alice", 0);
	assert_text(&n.sssd, "CN=alice,OU=Users");
	assert_text(&n.x500, "OU=Users,CN=alice");
	cm_name_clear(&n);
	assert_int_equal(cm_name_parse((const unsigned char *)"\x30\x00", 2, &n, NULL), 0);
	assert_int_equal(n.n_avas, 0);
	assert_int_equal(n.n_rdns, 0);
	assert_text(&n.sssd, "");
	cm_name_clear(&n);
}

/* ------------------------------------------------------------ audit text (X509_NAME_print_ex) */

#define PRINT_FLAGS (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB)

/* What X509_NAME_print_ex prints for xn, NUL-terminated (OPENSSL_free). */
static char *openssl_print(const X509_NAME *xn)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *s;
	long n;

	assert_non_null(bio);
	assert_true(X509_NAME_print_ex(bio, xn, 0, PRINT_FLAGS) >= 0);
	n = BIO_get_mem_data(bio, &data);
	assert_true(n >= 0);
	s = OPENSSL_strndup(data != NULL ? data : "", (size_t)n);
	assert_non_null(s);
	BIO_free(bio);
	return s;
}

/* cm_name_print_rfc2253 of xn prints it as X509_NAME_print_ex does. */
static void check_print_xn(const X509_NAME *xn, const char *where)
{
	const unsigned char *der = NULL;
	size_t len = 0;
	char *want = openssl_print(xn), *mine;

	assert_int_equal(X509_NAME_get0_der((X509_NAME *)xn, &der, &len), 1);
	mine = cm_name_print_rfc2253(der, len, SIZE_MAX);
	if (mine == NULL || strcmp(mine, want) != 0) {
		fail_msg("%s: name.c '%s' but X509_NAME_print_ex '%s'", where,
			 mine != NULL ? mine : "(left to OpenSSL)", want);
	}
	free(mine);
	OPENSSL_free(want);
}

/*
 * The Name at der prints as want with X509_NAME_print_ex and, when fast,
 * with cm_name_print_rfc2253 too (otherwise that one leaves it to
 * OpenSSL); the text cut after a few lengths as well.
 */
static void check_print(const unsigned char *der, size_t len, const char *want, bool fast)
{
	const unsigned char *p = der;
	X509_NAME *xn = d2i_X509_NAME(NULL, &p, (long)len);
	char *got, *mine;

	assert_non_null(xn);
	assert_ptr_equal(p, der + len);
	got = openssl_print(xn);
	assert_string_equal(got, want);
	if (!fast) {
		assert_null(cm_name_print_rfc2253(der, len, SIZE_MAX));
	}
	for (size_t cap = 0; fast && cap <= strlen(want) + 1; cap++) {
		mine = cm_name_print_rfc2253(der, len, cap);
		assert_non_null(mine);
		assert_int_equal(strlen(mine), cap < strlen(want) ? cap : strlen(want));
		assert_memory_equal(mine, want, strlen(mine));
		free(mine);
	}
	OPENSSL_free(got);
	X509_NAME_free(xn);
}

/* check_print of CN=<tag v>. */
static void check_print_cn(unsigned char tag, const char *v, size_t vlen, const char *want)
{
	unsigned char der[128];

	check_print(der, one_ava_name(der, OID_CN, tag, v, vlen), want, true);
}

static void test_print_escaping(void **state)
{
	(void)state;
	check_print_cn(0x0c, "#a b ", 5, "CN=\\#a b\\ ");
	check_print_cn(0x0c, "#", 1, "CN=#");
	check_print_cn(0x0c, " ", 1, "CN=\\ ");
	check_print_cn(0x0c, " a ", 3, "CN=\\ a\\ ");
	check_print_cn(0x0c, "\"+,;<>\\=", 8, "CN=\\\"\\+\\,\\;\\<\\>\\\\=");
	check_print_cn(0x0c, "a\x01\x7f", 3, "CN=a\\01\\7F");
	check_print_cn(0x0c, "a\0b", 3, "CN=a\\00b");
	check_print_cn(0x0c, "", 0, "CN=");
	/* UTF-8 stays as it is (no ESC_MSB); the other types become UTF-8. */
	check_print_cn(0x0c, "J\xc3\xbcrgen, \xe2\x82\xac", 12, "CN=J\xc3\xbcrgen\\, \xe2\x82\xac");
	check_print_cn(0x14, "\xe9#", 2, "CN=\xc3\xa9#");
	check_print_cn(0x13, " \xff", 2, "CN=\\ \xc3\xbf");
	check_print_cn(0x16, "a@b.c;", 6, "CN=a@b.c\\;");
	check_print_cn(0x12, "0 1", 3, "CN=0 1");
	check_print_cn(0x1e, "\x00\x41\x20\xac", 4, "CN=A\xe2\x82\xac");
	check_print_cn(0x1e, "\x00#\x00,", 4, "CN=\\#\\,");
	check_print_cn(0x1c, "\x00\x01\xf6\x00\x00\x00\x00 ", 8, "CN=\xf0\x9f\x98\x80\\ ");
}

/* One AVA of type oid (olen bytes) and a value of tag, and what OpenSSL
 * prints for it; fast: whether name.c prints it too. */
struct print_case {
	const char *oid;
	size_t olen;
	unsigned char tag;
	const char *v;
	size_t vlen;
	const char *want;
	bool fast;
};

static void test_print_types(void **state)
{
	/* 1.2 and 49 arcs 1: 101 characters, of which OpenSSL prints 79. */
	static const char long_oid[] = "\x2a\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"
		"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"
		"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01";
	static const struct print_case cases[] = {
		/* OpenSSL's short names, not SSSD's renames. */
		{"\x55\x04\x2a", 3, 0x0c, "Al", 2, "GN=Al", true},
		{"\x55\x04\x0d", 3, 0x0c, "d", 1, "description=d", true},
		{"\x55\x04\x09", 3, 0x0c, "s", 1, "street=s", true},
		{"\x2a\x86\x48\x86\xf7\x0d\x01\x09\x01", 9, 0x16, "a@b", 3, "emailAddress=a@b", true},
		{"\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x03", 10, 0x16, "a@b", 3, "mail=a@b", true},
		/* Known to OpenSSL, not among name.c's cached types. */
		{"\x2a\x86\x48\x86\xf7\x0d\x01\x09\x07", 9, 0x0c, "pw", 2, "challengePassword=pw", true},
		/* Unknown: the OID and the value's DER in hex, escapes or not. */
		{"\x2b\x06\x01\x04\x01\x86\x8d\x1f\x01", 9, 0x0c, "x,", 2, "1.3.6.1.4.1.99999.1=#0C02782C", true},
		{"\x55\x04\x7f", 3, 0x1e, "\x00\x41", 2, "2.5.4.127=#1E020041", true},
		{"\x00", 1, 0x13, "a", 1, "0.0=#130161", true},
		{long_oid, sizeof(long_oid) - 1, 0x0c, "x", 1,
		 "1.2.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1=#0C0178", true},
		/* Left to OpenSSL: a value that is no string, an arc of 2^63 or more
		 * (2^56 + 1 is printed, 2^70 + 1 is not). */
		{OID_CN, 0x03, "\x00\xff", 2, "CN=#030200FF", false},
		{OID_CN, 0x30, "", 0, "CN=#3000", false},
		{"\x2a\x81\x80\x80\x80\x80\x80\x80\x80\x01", 10, 0x0c, "x", 1,
		 "1.2.72057594037927937=#0C0178", true},
		{"\x2a\x81\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 12, 0x0c, "x", 1,
		 "1.2.1180591620717411303425=#0C0178", false},
	};
	/* Names OpenSSL rejects, or that are not DER: no text from name.c. */
	static const struct print_case rejected[] = {
		{OID_CN, 0x0c, "\xc0\xaf", 2, NULL, false},
		{OID_CN, 0x1e, "\xd8\x00", 2, NULL, false},
		{OID_CN, 0x1a, "abc", 3, NULL, false},
	};
	unsigned char der[128];
	size_t len;

	(void)state;
	for (size_t i = 0; i < CM_ARRAY_SIZE(cases); i++) {
		const struct print_case *c = &cases[i];

		len = one_ava_name(der, c->oid, c->olen, c->tag, c->v, c->vlen);
		check_print(der, len, c->want, c->fast);
	}
	for (size_t i = 0; i < CM_ARRAY_SIZE(rejected); i++) {
		const struct print_case *c = &rejected[i];

		len = one_ava_name(der, c->oid, c->olen, c->tag, c->v, c->vlen);
		assert_null(cm_name_print_rfc2253(der, len, SIZE_MAX));
	}
	len = one_ava_name(der, OID_CN, 0x0c, "abc", 3);
	assert_null(cm_name_print_rfc2253(der, len - 1, SIZE_MAX));
	assert_null(cm_name_print_rfc2253(der, 0, SIZE_MAX));
}

/* Reverse order, '+' inside a multi-valued RDN (reversed too), ','
 * between RDNs, empty RDNs. */
static void test_print_rdns(void **state)
{
	static const unsigned char mv[] =
		"\x30\x3b\x31\x0b\x30\x09\x06\x03\x55\x04\x06\x13\x02" "DE"
		"\x31\x0c\x30\x0a\x06\x03\x55\x04\x0a\x0c\x03" "Org"
		"\x31\x1e\x30\x0c\x06\x03\x55\x04\x0b\x0c\x05" "Users"
		"\x30\x0e\x06\x03\x55\x04\x03\x0c\x07" "a+b, cd";
	static const unsigned char empty_rdns[] =
		"\x30\x1c\x31\x00\x31\x0a\x30\x08\x06\x03\x55\x04\x03\x0c\x01" "a"
		"\x31\x00\x31\x0a\x30\x08\x06\x03\x55\x04\x03\x0c\x01" "b";
	static const unsigned char only_empty[] = "\x30\x04\x31\x00\x31\x00";

	(void)state;
	check_print(mv, sizeof(mv) - 1, "CN=a\\+b\\, cd+OU=Users,O=Org,C=DE", true);
	check_print(empty_rdns, sizeof(empty_rdns) - 1, "CN=b,CN=a", true);
	check_print(only_empty, sizeof(only_empty) - 1, "", true);
	check_print((const unsigned char *)"\x30\x00", 2, "", true);
}

/* A name of 40 AVAs (more than name.c keeps on its stack), printed
 * longer than its stack buffer, cut at every length. */
static void test_print_long(void **state)
{
	unsigned char der[4096];
	const unsigned char *p;
	size_t o = 4, content;
	X509_NAME *xn;
	char *want;

	(void)state;
	for (int i = 0; i < 40; i++) {
		der[o++] = 0x31;
		der[o++] = 0x4f;
		der[o++] = 0x30;
		der[o++] = 0x4d;
		memcpy(der + o, "\x06\x03\x55\x04\x03\x0c\x46", 7);
		o += 7;
		memset(der + o, i % 2 ? ',' : 'x', 70);
		o += 70;
	}
	content = o - 4;
	der[0] = 0x30;
	der[1] = 0x82;
	der[2] = (unsigned char)(content >> 8);
	der[3] = (unsigned char)content;
	p = der;
	xn = d2i_X509_NAME(NULL, &p, (long)o);
	assert_non_null(xn);
	want = openssl_print(xn);
	assert_true(strlen(want) > 4096);
	check_print(der, o, want, true);
	OPENSSL_free(want);
	X509_NAME_free(xn);
	/* One TeletexString of 300 'e' with an acute accent, 600 bytes of UTF-8. */
	memcpy(der, "\x30\x82\x01\x3d\x31\x82\x01\x39\x30\x82\x01\x35\x06\x03\x55\x04\x03"
		    "\x14\x82\x01\x2c", 21);
	memset(der + 21, 0xe9, 300);
	want = calloc(1, 3 + 600 + 1);
	assert_non_null(want);
	memcpy(want, "CN=", 3);
	for (int i = 0; i < 300; i++) {
		memcpy(want + 3 + 2 * i, "\xc3\xa9", 2);
	}
	check_print(der, 321, want, true);
	free(want);
}

/* foreach_field: collect "field=value" lines. */
struct lines {
	char buf[16384];
	size_t len;
};

static void collect(void *arg, const char *field, const struct cm_value *v, bool binary)
{
	struct lines *l = arg;
	int n;

	assert_false(binary);
	n = snprintf(l->buf + l->len, sizeof(l->buf) - l->len, "%s=%.*s%s\n", field,
		     (int)v->len, (const char *)v->data, v->unusable != NULL ? " [unusable]" : "");
	assert_true(n > 0 && (size_t)n < sizeof(l->buf) - l->len);
	l->len += (size_t)n;
}

/* ------------------------------------------------------------ grid (X509_NAME_oneline) */

/* Parses xn's DER with cm_name_parse and compares its grid rendering with
 * X509_NAME_oneline byte for byte. */
static void check_oneline(const X509_NAME *xn, const char *where)
{
	struct cm_name n = { 0 };
	const unsigned char *der = NULL;
	size_t len = 0;
	char *want = X509_NAME_oneline(xn, NULL, 0);

	assert_non_null(want);
	assert_int_equal(X509_NAME_get0_der((X509_NAME *)xn, &der, &len), 1);
	assert_int_equal(cm_name_parse(der, len, &n, NULL), 0);
	assert_non_null(n.grid.data);
	if (n.grid.len != strlen(want) || memcmp(n.grid.data, want, n.grid.len) != 0) {
		fail_msg("%s: grid '%s' but X509_NAME_oneline '%s'", where, n.grid.data, want);
	}
	OPENSSL_free(want);
	cm_name_clear(&n);
}

/* Every name (subject, issuer, directoryName SANs) of every certificate
 * gen-certs.sh made renders exactly as X509_NAME_oneline prints it, and
 * cm_name_print_rfc2253 prints it (none is left to OpenSSL) exactly as
 * X509_NAME_print_ex does for the audit record. */
static void test_grid_oneline_corpus(void **state)
{
	char *dir = cmt_cert_path("");
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t names = 0, certs = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		char *path;
		BIO *bio;
		X509 *x;
		GENERAL_NAMES *sans;

		if (l < 5 || strcmp(e->d_name + l - 4, ".pem") != 0) {
			continue;
		}
		path = cmt_cert_path(e->d_name);
		bio = BIO_new_file(path, "r");
		assert_non_null(bio);
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
		ERR_clear_error();
		if (x == NULL) { /* a CRL */
			free(path);
			continue;
		}
		certs++;
		check_oneline(X509_get_subject_name(x), path);
		check_oneline(X509_get_issuer_name(x), path);
		check_print_xn(X509_get_subject_name(x), path);
		check_print_xn(X509_get_issuer_name(x), path);
		names += 2;
		sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
		for (int i = 0; i < sk_GENERAL_NAME_num(sans); i++) {
			const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);

			if (g->type == GEN_DIRNAME) {
				check_oneline(g->d.directoryName, path);
				check_print_xn(g->d.directoryName, path);
				names++;
			}
		}
		GENERAL_NAMES_free(sans);
		X509_free(x);
		free(path);
	}
	closedir(d);
	free(dir);
	/* The corpus has some 60 certificates: make sure they were seen. */
	assert_true(certs >= 50);
	assert_true(names >= 2 * certs);
}

/* The grid rendering of name's subject, and why it is unusable (NULL). */
static void assert_grid(const char *file, const char *want, const char *unusable)
{
	struct cm_identity *id = cmt_load_identity(file);
	const struct cm_value *g = &id->subject.grid;

	assert_non_null(g->data);
	if (g->len != strlen(want) || memcmp(g->data, want, g->len) != 0) {
		fail_msg("%s: grid '%s', want '%s'", file, g->data, want);
	}
	if (unusable == NULL) {
		if (g->unusable != NULL) {
			fail_msg("%s: grid unusable: %s", file, g->unusable);
		}
	} else {
		bool found = false;

		assert_non_null(g->unusable);
		for (size_t i = 0; i < id->subject.n_avas; i++) {
			const char *why = id->subject.avas[i].grid_unusable;

			found = found || (why != NULL && strstr(why, unusable) != NULL);
		}
		if (!found) {
			fail_msg("%s: no AVA unusable for '%s'", file, unusable);
		}
	}
	cm_identity_free(id);
}

static void test_grid(void **state)
{
	(void)state;
	/* The forgery of issue 14: both print alike; only the real one is usable. */
	assert_grid("grid-real.pem", "/O=Example/CN=J\\xC3\\xBCrgen", NULL);
	assert_grid("grid-forged.pem", "/O=Example/CN=J\\xC3\\xBCrgen", "'\\', '/' or '+'");
	assert_grid("utf8.pem", "/O=Example/CN=J\\xC3\\xBCrgen M\\xC3\\xBCller", NULL);
	assert_grid("grid-ctrl.pem", "/O=Example/CN=a\\x01b\\x09c\\x7Fd", NULL);
	assert_grid("grid-slash.pem", "/O=Example/OU=a\\/b/CN=slash", "'\\', '/' or '+'");
	assert_grid("grid-plus.pem", "/O=Example/OU=a\\+b/CN=plus", "'\\', '/' or '+'");
	assert_grid("grid-eq.pem", "/O=Example/OU=a=b/CN=x=y", NULL);
	assert_grid("grid-mv.pem", "/OU=Ops+O=Example/CN=dan+L=Here+UID=dan", NULL);
	assert_grid("multirdn.pem", "/O=Example/CN=carol+UID=carol", NULL);
	assert_grid("grid-t61.pem", "/O=Example/CN=J\\xC3\\xBCrgen", "one-byte string type");
	assert_grid("t61.pem", "/O=Example/CN=T61 M\\xFCller", "one-byte string type");
	assert_grid("grid-bmp.pem", "/O=\\x00E\\x00x\\x00a\\x00m\\x00p\\x00l\\x00e/CN=JKKL",
		    "over U+00FF");
	assert_grid("grid-bmp-latin1.pem",
		    "/O=\\x00E\\x00x\\x00a\\x00m\\x00p\\x00l\\x00e"
		    "/CN=\\x00J\\x00\\xFC\\x00r\\x00g\\x00e\\x00n", NULL);
	assert_grid("email-dn.pem", "/O=Example/CN=eve/emailAddress=eve@example.com", NULL);
	assert_grid("empty-subject.pem", "", NULL);
	assert_grid("nul-email.pem", "/O=Example/CN=victim-nul", NULL);
	assert_grid("escapes.pem",
		    "/O=back\\slash/OU= leading space/OU=trailing space /OU=a=b;c"
		    "/OU=tab\\x09and cr\\x0Dhere/CN=#hash", "'\\', '/' or '+'");
}

/* Crafted names: an unknown OID longer than OpenSSL's 79-character cut, a
 * NUL, a non-string value; each against X509_NAME_oneline. */
static void test_grid_crafted(void **state)
{
	/* SEQUENCE { SET { SEQUENCE { OID, value } } } around one AVA. */
	static const unsigned char head[] = { 0x06, 0x32, 0x2a };
	unsigned char oid[0x32 + 2], der[128];
	const unsigned char *p;
	struct {
		unsigned char tag;
		const char *value;
		size_t len;
		bool long_oid;
		const char *unusable;
	} cases[] = {
		{ 0x0c, "x", 1, true, "longer than 79" },
		{ 0x0c, "a\0b", 3, false, "NUL" },
		{ 0x13, "a b", 3, false, NULL },
		{ 0x30, "\x02\x01\x05", 3, false, "not a character string" },
		{ 0x03, "\x00\x41", 2, false, "not a character string" },
		{ 0x1c, "\x00\x00\x00J\x00\x00\x00\xfc", 8, false, NULL },
		{ 0x1c, "\x00\x01\xf6\x00", 4, false, "over U+00FF" },
	};

	(void)state;
	/* 1.2 and 49 arcs "1": 101 characters. */
	memcpy(oid, head, sizeof(head));
	memset(oid + sizeof(head), 0x01, sizeof(oid) - sizeof(head));
	for (size_t i = 0; i < CM_ARRAY_SIZE(cases); i++) {
		struct cm_name n = { 0 };
		size_t olen = cases[i].long_oid ? sizeof(oid) : 5, vl = cases[i].len;
		size_t ava = olen + 2 + vl, o = 0;
		X509_NAME *xn;

		der[o++] = 0x30;
		der[o++] = (unsigned char)(ava + 4);
		der[o++] = 0x31;
		der[o++] = (unsigned char)(ava + 2);
		der[o++] = 0x30;
		der[o++] = (unsigned char)ava;
		memcpy(der + o, cases[i].long_oid ? oid : (const unsigned char *)"\x06\x03\x55\x04\x03", olen);
		o += olen;
		der[o++] = cases[i].tag;
		der[o++] = (unsigned char)vl;
		memcpy(der + o, cases[i].value, vl);
		o += vl;
		p = der;
		xn = d2i_X509_NAME(NULL, &p, (long)o);
		assert_non_null(xn);
		check_oneline(xn, "crafted");
		assert_int_equal(cm_name_parse(der, o, &n, NULL), 0);
		if (cases[i].unusable == NULL) {
			assert_null(n.avas[0].grid_unusable);
			assert_null(n.grid.unusable);
		} else {
			assert_non_null(n.avas[0].grid_unusable);
			assert_non_null(strstr(n.avas[0].grid_unusable, cases[i].unusable));
			assert_non_null(n.grid.unusable);
		}
		cm_name_clear(&n);
		X509_NAME_free(xn);
	}
}

static void test_foreach_field(void **state)
{
	struct cm_identity *id = cmt_load_identity("alice.pem");
	struct lines *l = calloc(1, sizeof(*l));

	(void)state;
	cm_identity_foreach_field(id, collect, l);
	assert_non_null(strstr(l->buf, "subject=CN=Alice Example,UID=alice,OU=Users,O=Example,"
				       "DC=example,DC=com\nsubject_x500=DC=com,"));
	assert_non_null(strstr(l->buf, "\nsubject_rdn.DC=com\nsubject_rdn.DC=example\n"));
	assert_non_null(strstr(l->buf, "\nsubject_rdn.UID=alice\n"));
	assert_non_null(strstr(l->buf, "\nissuer=CN=Certmap Test CA,O=Certmap Test,C=US\n"));
	assert_non_null(strstr(l->buf, "\nkey=RSA 2048\n"));
	assert_non_null(strstr(l->buf, "\nku=digitalSignature\nku=keyEncipherment\neku=clientAuth\n"));
	assert_non_null(strstr(l->buf, "\nsan.rfc822=alice@example.com\nsan.upn=alice@EXAMPLE.COM\n"));
	assert_non_null(strstr(l->buf, "Z\nnot_after="));
	cm_identity_free(id);

	memset(l, 0, sizeof(*l));
	id = cmt_load_identity("allsan.pem");
	cm_identity_foreach_field(id, collect, l);
	assert_non_null(strstr(l->buf, "\nsan.other.1.2.3.4.5=0c0d67656e657269632d6f74686572\n"));
	assert_non_null(strstr(l->buf, "\nsan.x400=3006610413025553\n"));
	assert_non_null(strstr(l->buf, "\nsan.dirname=CN=dir name,O=Dir Org\n"));
	assert_non_null(strstr(l->buf, "\nsan.ip=192.0.2.1\nsan.ip=2001:db8::1\nsan.rid=1.2.3.4.5.6\n"));
	assert_non_null(strstr(l->buf, "\nsan.krb5=allsan@EXAMPLE.COM\n"));
	cm_identity_free(id);

	memset(l, 0, sizeof(*l));
	id = cmt_load_identity("bigserial.pem");
	cm_identity_foreach_field(id, collect, l);
	assert_non_null(strstr(l->buf, "\nserial=80112233445566778899aabbccddeeff0011\n"));
	cm_identity_free(id);

	memset(l, 0, sizeof(*l));
	id = cmt_load_identity("sid.pem");
	cm_identity_foreach_field(id, collect, l);
	assert_non_null(strstr(l->buf, "\nsid=S-1-5-21-2084710061-1330166313-3217380000-1105\n"));
	cm_identity_free(id);

	memset(l, 0, sizeof(*l));
	id = cmt_load_identity("upn-bmp.pem");
	cm_identity_foreach_field(id, collect, l);
	assert_non_null(strstr(l->buf, "\nsan.upn= [unusable]\n"));
	cm_identity_free(id);
	free(l);
}

/*
 * cm_ec_key_bits (cached groups, shared scratch) against EC_POINT_oct2point
 * on a fresh group for each curve: generated points uncompressed and
 * compressed, one flipped bit, an out-of-range X, random bytes, a
 * truncated point. Every 02/03/04 form must get OpenSSL's verdict; other
 * prefixes and unknown curves are -1 (OpenSSL's full decoder judges them).
 */
static const struct {
	int nid;
	const char *oid;
	size_t oid_len;
} ec_known[] = {
	{ NID_X9_62_prime256v1, "\x2a\x86\x48\xce\x3d\x03\x01\x07", 8 },
	{ NID_secp384r1, "\x2b\x81\x04\x00\x22", 5 },
	{ NID_secp521r1, "\x2b\x81\x04\x00\x23", 5 },
	{ NID_secp256k1, "\x2b\x81\x04\x00\x0a", 5 },
};

static void ec_compare(EC_GROUP *g, size_t c, const unsigned char *b, size_t len, size_t *on)
{
	EC_POINT *pt = EC_POINT_new(g);
	int ossl, mine = cm_ec_key_bits((const unsigned char *)ec_known[c].oid,
					ec_known[c].oid_len, b, len);

	assert_non_null(pt);
	ossl = EC_POINT_oct2point(g, pt, b, len, NULL) == 1;
	if (len > 0 && (b[0] == 2 || b[0] == 3 || b[0] == 4)) {
		assert_int_equal(mine >= 0, ossl);
		if (ossl) {
			assert_int_equal(mine, EC_GROUP_order_bits(g));
			(*on)++;
		}
	} else {
		assert_int_equal(mine, -1);
	}
	EC_POINT_free(pt);
	ERR_clear_error();
}

static void ec_mutations(EC_GROUP *g, size_t c, const unsigned char *buf, size_t len,
			 size_t *on)
{
	unsigned char b2[200], r;

	for (int m = 0; m < 6; m++) {
		memcpy(b2, buf, len);
		assert_int_equal(RAND_bytes(&r, 1), 1);
		if (m == 1) {
			b2[1 + r % (len - 1)] ^= (unsigned char)(1u << (r % 8));
		} else if (m == 2) {
			memset(b2 + 1, 0xff, (len - 1) / 2);
		} else if (m == 3) {
			assert_int_equal(RAND_bytes(b2 + 1, (int)len - 1), 1);
		} else if (m == 4) {
			b2[0] = (unsigned char)(r % 8); /* 00..07: hybrid, infinity, junk */
		}
		ec_compare(g, c, b2, m == 5 ? len - 1 : len, on);
	}
}

static void test_ec_key(void **state)
{
	unsigned char buf[200];

	(void)state;
	for (size_t c = 0; c < sizeof(ec_known) / sizeof(ec_known[0]); c++) {
		EC_GROUP *g = EC_GROUP_new_by_curve_name(ec_known[c].nid);
		size_t on = 0, len = 0;

		assert_non_null(g);
		for (int k = 0; k < 200; k++) {
			EVP_PKEY *key = EVP_EC_gen(OBJ_nid2sn(ec_known[c].nid));
			EC_POINT *pt = EC_POINT_new(g);

			assert_non_null(key);
			assert_non_null(pt);
			assert_int_equal(EVP_PKEY_get_octet_string_param(key, "encoded-pub-key", buf,
									 sizeof(buf), &len), 1);
			if (k % 2) { /* every other key compressed */
				assert_int_equal(EC_POINT_oct2point(g, pt, buf, len, NULL), 1);
				len = EC_POINT_point2oct(g, pt, POINT_CONVERSION_COMPRESSED, buf,
							 sizeof(buf), NULL);
				assert_true(len > 0 && (buf[0] == 2 || buf[0] == 3));
			}
			EC_POINT_free(pt);
			ec_mutations(g, c, buf, len, &on);
			EVP_PKEY_free(key);
		}
		assert_true(on >= 200);
		/* A curve certmap does not check itself (P-224) is left to OpenSSL. */
		assert_int_equal(cm_ec_key_bits((const unsigned char *)"\x2b\x81\x04\x00\x21", 5,
						buf, len), -1);
		EC_GROUP_free(g);
	}
}

/* Two threads at once: one holds the shared scratch, the other makes its own. */
static void *ec_thread(void *arg)
{
	static const unsigned char gen[] = { 0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42,
		0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81,
		0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96, 0x4f,
		0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f,
		0x9e, 0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40,
		0x68, 0x37, 0xbf, 0x51, 0xf5 };
	unsigned char bad[sizeof(gen)];
	size_t *fails = arg;

	memcpy(bad, gen, sizeof(gen));
	bad[64] ^= 1;
	for (int i = 0; i < 3000; i++) {
		*fails += cm_ec_key_bits((const unsigned char *)ec_known[0].oid, 8, gen,
					 sizeof(gen)) != 256;
		*fails += cm_ec_key_bits((const unsigned char *)ec_known[0].oid, 8, bad,
					 sizeof(bad)) != -1;
	}
	return NULL;
}

static void test_ec_key_threads(void **state)
{
	pthread_t t[4];
	size_t fails[4] = { 0 };

	(void)state;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_create(&t[i], NULL, ec_thread, &fails[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(fails[i], 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alice),
		cmocka_unit_test(test_digests),
		cmocka_unit_test(test_der_equals_pem),
		cmocka_unit_test(test_validity),
		cmocka_unit_test(test_bob_ec),
		cmocka_unit_test(test_ec_key),
		cmocka_unit_test(test_ec_key_threads),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_t61_bmp),
		cmocka_unit_test(test_multirdn),
		cmocka_unit_test(test_special_dn),
		cmocka_unit_test(test_empty_subject),
		cmocka_unit_test(test_multisan),
		cmocka_unit_test(test_krb5),
		cmocka_unit_test(test_sid),
		cmocka_unit_test(test_nul_values),
		cmocka_unit_test(test_allsan),
		cmocka_unit_test(test_upn_bmp),
		cmocka_unit_test(test_ski_ku_eku),
		cmocka_unit_test(test_serial),
		cmocka_unit_test(test_serial_not_positive),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_strict_der),
		cmocka_unit_test(test_cert_to_der),
		cmocka_unit_test(test_pem_one_certificate),
		cmocka_unit_test(test_name_parse),
		cmocka_unit_test(test_name_escaping),
		cmocka_unit_test(test_name_values),
		cmocka_unit_test(test_name_rdns),
		cmocka_unit_test(test_print_escaping),
		cmocka_unit_test(test_print_types),
		cmocka_unit_test(test_print_rdns),
		cmocka_unit_test(test_print_long),
		cmocka_unit_test(test_foreach_field),
		cmocka_unit_test(test_grid_oneline_corpus),
		cmocka_unit_test(test_grid),
		cmocka_unit_test(test_grid_crafted),
	};

	return cmocka_run_group_tests_name("cert", tests, NULL, NULL);
}

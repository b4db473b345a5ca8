/* Unit tests for mapper/verify.c, on the generated certificates. */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "certmap.h"
#include "identity.h"
#include "testlib.h"
#include "verify.h"
#include "x509_libctx.h"

/* A policy with every path under $CERTMAP_TEST_CERTS. */
static void policy_init(struct cm_verify_policy *p, bool enabled, const char *ca,
			const char *crl)
{
	memset(p, 0, sizeof(*p));
	p->enabled = enabled;
	p->ca_file = ca != NULL ? cmt_cert_path(ca) : NULL;
	p->crl_file = crl != NULL ? cmt_cert_path(crl) : NULL;
	p->min_rsa_bits = CM_DEFAULT_MIN_RSA_BITS;
	p->min_ec_bits = CM_DEFAULT_MIN_EC_BITS;
	assert_int_equal(cm_strv_add(&p->require_eku, "clientAuth"), 0);
}

static struct cm_verifier *verifier(bool enabled, const char *crl)
{
	struct cm_verify_policy p;
	struct cm_verifier *v = NULL;
	char *err = NULL;

	policy_init(&p, enabled, "ca.pem", crl);
	if (cm_verifier_new(&p, &v, &err) != 0) {
		fail_msg("cm_verifier_new: %s", err);
	}
	cm_verify_policy_clear(&p);
	return v;
}

/* Verifies one certificate file, with an optional chain file. */
static enum certmap_reason check(const struct cm_verifier *v, const char *name,
				 const char *chain_name, time_t now, char **msg)
{
	struct cm_identity *id = cmt_load_identity(name);
	unsigned char *chain = NULL;
	size_t chain_len = 0;
	const unsigned char *chains[1];
	enum certmap_reason r;

	if (chain_name != NULL) {
		char *path = cmt_cert_path(chain_name);

		assert_int_equal(cmt_read_file(path, &chain, &chain_len), 0);
		free(path);
	}
	chains[0] = chain;
	r = cm_verify(v, id, chains, &chain_len, chain != NULL ? 1 : 0, now, msg);
	if (r == CERTMAP_REASON_NONE) {
		assert_null(*msg);
	} else {
		assert_non_null(*msg);
	}
	free(chain);
	cm_identity_free(id);
	return r;
}

static void expect(const struct cm_verifier *v, const char *name, const char *chain,
		   enum certmap_reason want, const char *msg_part)
{
	char *msg = NULL;
	enum certmap_reason r = check(v, name, chain, 0, &msg);

	if (r != want) {
		fail_msg("%s: reason %d, want %d (%s)", name, r, want, msg ? msg : "");
	}
	if (msg_part != NULL && strstr(msg, msg_part) == NULL) {
		fail_msg("%s: message \"%s\" lacks \"%s\"", name, msg, msg_part);
	}
	free(msg);
}

static void test_chain_and_time(void **state)
{
	struct cm_verifier *v = verifier(true, NULL);

	(void)state;
	expect(v, "alice.pem", NULL, CERTMAP_REASON_NONE, NULL);
	expect(v, "alice.der", NULL, CERTMAP_REASON_NONE, NULL);
	expect(v, "bob-ec.pem", NULL, CERTMAP_REASON_NONE, NULL);
	expect(v, "expired.pem", NULL, CERTMAP_REASON_EXPIRED, "expired");
	expect(v, "notyet.pem", NULL, CERTMAP_REASON_NOT_YET_VALID, "not yet valid");
	expect(v, "untrusted.pem", NULL, CERTMAP_REASON_UNTRUSTED, "issuer");
	/* Without a CRL, revocation is not checked. */
	expect(v, "revoked.pem", NULL, CERTMAP_REASON_NONE, NULL);
	expect(v, "via-inter.pem", NULL, CERTMAP_REASON_UNTRUSTED, NULL);
	expect(v, "via-inter.pem", "chain.pem", CERTMAP_REASON_NONE, NULL);
	/* A wrong chain certificate does not help. */
	expect(v, "via-inter.pem", "rogue-ca.pem", CERTMAP_REASON_UNTRUSTED, NULL);
	cm_verifier_free(v);
}

/* A hashed CA directory (openssl-rehash(1)): OpenSSL reads the anchor
 * from it by name while it verifies, in the verifier's library context. */
static void test_ca_dir(void **state)
{
	char *dir = cmt_tmpdir("cadir"), *ca = cmt_cert_path("ca.pem"), *link;
	unsigned char *pem = NULL;
	size_t len = 0;
	struct cm_verify_policy p;
	struct cm_verifier *v = NULL;
	char *err = NULL, name[32];
	FILE *f = fopen(ca, "r");
	X509 *x = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

	(void)state;
	assert_non_null(x);
	fclose(f);
	snprintf(name, sizeof(name), "%08lx.0", X509_subject_name_hash(x));
	X509_free(x);
	assert_int_equal(cmt_read_file(ca, &pem, &len), 0);
	link = cmt_write_file(dir, name, (const char *)pem);
	policy_init(&p, true, NULL, NULL);
	p.ca_dir = strdup(dir);
	if (cm_verifier_new(&p, &v, &err) != 0) {
		fail_msg("cm_verifier_new: %s", err);
	}
	expect(v, "alice.pem", NULL, CERTMAP_REASON_NONE, NULL);
	expect(v, "bob-ec.pem", NULL, CERTMAP_REASON_NONE, NULL);
	expect(v, "expired.pem", NULL, CERTMAP_REASON_EXPIRED, "expired");
	expect(v, "untrusted.pem", NULL, CERTMAP_REASON_UNTRUSTED, "issuer");
	expect(v, "via-inter.pem", "chain.pem", CERTMAP_REASON_NONE, NULL);
	cm_verifier_free(v);
	cm_verify_policy_clear(&p);
	free(link);
	free(pem);
	free(ca);
	free(dir);
}

static void test_crl(void **state)
{
	struct cm_verifier *v = verifier(true, "crl.pem");

	(void)state;
	expect(v, "revoked.pem", NULL, CERTMAP_REASON_REVOKED, "revoked");
	expect(v, "alice.pem", NULL, CERTMAP_REASON_NONE, NULL);
	cm_verifier_free(v);
	v = verifier(true, "crl-empty.pem");
	expect(v, "revoked.pem", NULL, CERTMAP_REASON_NONE, NULL);
	cm_verifier_free(v);
}

static void test_now(void **state)
{
	struct cm_verifier *v = verifier(true, NULL);
	struct cm_identity *id = cmt_load_identity("alice.pem");
	char *msg = NULL;

	(void)state;
	/* now is used instead of the clock: one second into alice's validity is
	 * fine, and in 2020 (inside expired's validity) the CA is not yet valid. */
	assert_int_equal(check(v, "alice.pem", NULL, (time_t)id->not_before + 1, &msg),
			 CERTMAP_REASON_NONE);
	assert_int_equal(check(v, "expired.pem", NULL, (time_t)1600000000, &msg),
			 CERTMAP_REASON_UNTRUSTED); /* the CA itself is not valid yet in 2020 */
	free(msg);
	cm_identity_free(id);
	cm_verifier_free(v);
}

static void test_eku_and_key(void **state)
{
	struct cm_verifier *v = verifier(true, NULL);

	(void)state;
	expect(v, "serverauth.pem", NULL, CERTMAP_REASON_EKU_MISSING, "lacks clientAuth");
	expect(v, "noeku.pem", NULL, CERTMAP_REASON_EKU_MISSING, "no extendedKeyUsage");
	expect(v, "rsa1024.pem", NULL, CERTMAP_REASON_KEY_TOO_SMALL,
	       "the RSA key has 1024 bits; at least 2048 are required");
	/* DSA is held to the RSA minimum; Ed25519 has one, strong, size. */
	expect(v, "dsa1024.pem", NULL, CERTMAP_REASON_KEY_TOO_SMALL,
	       "the DSA key has 1024 bits; at least 2048 are required");
	expect(v, "ed25519.pem", NULL, CERTMAP_REASON_NONE, NULL);
	cm_verifier_free(v);
}

static void test_min_ec_bits(void **state)
{
	struct cm_verify_policy p;
	struct cm_verifier *v = NULL;
	char *err = NULL;

	(void)state;
	policy_init(&p, true, "ca.pem", NULL);
	p.min_ec_bits = 384;
	p.min_rsa_bits = 1024;
	assert_int_equal(cm_verifier_new(&p, &v, &err), 0);
	expect(v, "bob-ec.pem", NULL, CERTMAP_REASON_KEY_TOO_SMALL,
	       "the EC key has 256 bits; at least 384 are required");
	expect(v, "ec384.pem", NULL, CERTMAP_REASON_NONE, NULL);
	expect(v, "rsa1024.pem", NULL, CERTMAP_REASON_NONE, NULL);
	cm_verifier_free(v);
	cm_verify_policy_clear(&p);
}

/* enabled = false: no chain or time check, but EKU and key size still run. */
static void test_disabled(void **state)
{
	struct cm_verifier *v = verifier(false, NULL);

	(void)state;
	expect(v, "untrusted.pem", NULL, CERTMAP_REASON_NONE, NULL);
	expect(v, "expired.pem", NULL, CERTMAP_REASON_NONE, NULL);
	expect(v, "via-inter.pem", NULL, CERTMAP_REASON_NONE, NULL);
	expect(v, "serverauth.pem", NULL, CERTMAP_REASON_EKU_MISSING, NULL);
	expect(v, "rsa1024.pem", NULL, CERTMAP_REASON_KEY_TOO_SMALL, NULL);
	cm_verifier_free(v);
}

static void test_eku_names(void **state)
{
	struct cm_verify_policy p;
	struct cm_verifier *v = NULL;
	char *err = NULL;

	(void)state;
	policy_init(&p, false, NULL, NULL);
	cm_strv_clear(&p.require_eku);
	assert_int_equal(cm_strv_add(&p.require_eku, "1.3.6.1.5.5.7.3.2"), 0);
	assert_int_equal(cm_verifier_new(&p, &v, &err), 0);
	expect(v, "alice.pem", NULL, CERTMAP_REASON_NONE, NULL);
	cm_verifier_free(v);
	assert_int_equal(cm_strv_add(&p.require_eku, "msScLogin"), 0);
	assert_int_equal(cm_verifier_new(&p, &v, &err), 0);
	expect(v, "alice.pem", NULL, CERTMAP_REASON_EKU_MISSING, "msScLogin");
	cm_verifier_free(v);
	assert_int_equal(cm_strv_add(&p.require_eku, "clientauth"), 0);
	assert_int_equal(cm_verifier_new(&p, &v, &err), CERTMAP_ERR_CONFIG);
	assert_null(v);
	assert_non_null(strstr(err, "\"clientauth\""));
	free(err);
	cm_verify_policy_clear(&p);
}

static void new_fails(struct cm_verify_policy *p, const char *msg_part)
{
	struct cm_verifier *v = NULL;
	char *err = NULL;

	assert_int_equal(cm_verifier_new(p, &v, &err), CERTMAP_ERR_CONFIG);
	assert_null(v);
	assert_non_null(err);
	if (strstr(err, msg_part) == NULL) {
		fail_msg("message \"%s\" lacks \"%s\"", err, msg_part);
	}
	free(err);
	cm_verify_policy_clear(p);
}

static void test_new_errors(void **state)
{
	struct cm_verify_policy p;

	(void)state;
	policy_init(&p, true, "no-such-ca.pem", NULL);
	new_fails(&p, "no-such-ca.pem");
	policy_init(&p, true, NULL, NULL);
	new_fails(&p, "neither verify.ca_file nor verify.ca_dir");
	policy_init(&p, true, "alice.key", NULL);
	new_fails(&p, "verify.ca_file");
	policy_init(&p, true, "ca.pem", "no-such-crl.pem");
	new_fails(&p, "no-such-crl.pem");
	policy_init(&p, true, "ca.pem", "ca.pem");
	new_fails(&p, "verify.crl_file");
	policy_init(&p, true, NULL, NULL);
	p.ca_dir = strdup("/nonexistent/certmap-ca-dir");
	new_fails(&p, "/nonexistent/certmap-ca-dir");
	policy_init(&p, false, NULL, NULL);
	p.min_rsa_bits = -1;
	new_fails(&p, "negative");
}

/* File errors say what is wrong in words, after file:line: of the setting. */
static void test_file_errors_in_words(void **state)
{
	struct cm_verify_policy p;
	char *dir = cmt_tmpdir("verify-files");
	char *garbage = cmt_write_file(dir, "garbage.pem", "hello\n");
	char *want;

	(void)state;
	policy_init(&p, true, "no-such-ca.pem", NULL);
	p.conf_file = strdup("/etc/certmap/certmap.conf");
	p.ca_file_line = 7;
	want = cm_asprintf("/etc/certmap/certmap.conf:7: verify.ca_file: %s: not found (the CA "
			   "file does not exist)", p.ca_file);
	new_fails(&p, want);
	free(want);
	/* A key, a CRL, or text instead of certificates. */
	policy_init(&p, true, "alice.key", NULL);
	new_fails(&p, "not a PEM certificate file: it holds a PRIVATE KEY and no CERTIFICATE");
	policy_init(&p, true, "crl.pem", NULL);
	new_fails(&p, "holds a CRL; put CRLs in verify.crl_file");
	policy_init(&p, true, NULL, NULL);
	p.ca_file = strdup(garbage);
	new_fails(&p, "not a PEM certificate file: no \"-----BEGIN CERTIFICATE-----\" line");
	free(garbage);
	garbage = cmt_write_file(dir, "broken.pem", "-----BEGIN CERTIFICATE-----\n"
				 "!!not base64!!\n-----END CERTIFICATE-----\n");
	policy_init(&p, true, NULL, NULL);
	p.ca_file = strdup(garbage);
	new_fails(&p, "broken.pem: a PEM block is malformed (bad base64 or no END line)");
	/* A certificate where the CRL should be. */
	policy_init(&p, true, "ca.pem", "alice.pem");
	p.conf_file = strdup("c.conf");
	p.crl_file_line = 3;
	new_fails(&p, "c.conf:3: verify.crl_file: ");
	policy_init(&p, true, "ca.pem", "alice.pem");
	new_fails(&p, "not a PEM CRL file: it holds a CERTIFICATE and no X509 CRL");
	/* A FIFO never blocks (the alarm turns a hang into a failure). */
	want = cm_asprintf("%s/fifo.pem", dir);
	assert_int_equal(mkfifo(want, 0600), 0);
	policy_init(&p, true, NULL, NULL);
	p.ca_file = want;
	alarm(10);
	new_fails(&p, "is a FIFO (named pipe); it must be a regular file");
	alarm(0);
	free(garbage);
	free(dir);
}

/* A client certificate given as the trust anchor is a mistake: refused. */
static void test_leaf_is_not_a_ca(void **state)
{
	struct cm_verify_policy p;

	(void)state;
	policy_init(&p, true, "alice.pem", NULL);
	new_fails(&p, "is not a CA certificate (it has no basicConstraints CA:TRUE)");
	policy_init(&p, true, "alice.pem", NULL);
	new_fails(&p, "certificate 1, \"CN=Alice Example,");
}

/* "2026-01-31 12:00:00 UTC" for a certificate time. */
static char *utc(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char text[64];

	assert_non_null(gmtime_r(&tt, &tm));
	assert_true(strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &tm) > 0);
	return strdup(text);
}

/* Refusals name the missing issuer and the date that was missed. */
static void test_refusals_name_issuer_and_date(void **state)
{
	struct cm_verifier *v = verifier(true, NULL);
	struct cm_identity *expired = cmt_load_identity("expired.pem");
	struct cm_identity *notyet = cmt_load_identity("notyet.pem");
	char *date, *want;

	(void)state;
	expect(v, "untrusted.pem", NULL, CERTMAP_REASON_UNTRUSTED,
	       "no trusted CA certificate for the issuer \"CN=Rogue CA,O=Elsewhere\" "
	       "(of the certificate at depth 0)");
	date = utc(expired->not_after);
	want = cm_asprintf("the certificate expired on %s", date);
	expect(v, "expired.pem", NULL, CERTMAP_REASON_EXPIRED, want);
	free(want);
	free(date);
	date = utc(notyet->not_before);
	want = cm_asprintf("the certificate is not yet valid: it is valid from %s", date);
	expect(v, "notyet.pem", NULL, CERTMAP_REASON_NOT_YET_VALID, want);
	free(want);
	free(date);
	cm_identity_free(expired);
	cm_identity_free(notyet);
	cm_verifier_free(v);
}

/* One verifier, several threads at once. */
struct worker {
	const struct cm_verifier *v;
	struct cm_identity *good, *bad;
	int failures;
};

static void *work(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 50; i++) {
		char *msg = NULL;

		if (cm_verify(w->v, w->good, NULL, NULL, 0, 0, &msg) != CERTMAP_REASON_NONE) {
			w->failures++;
		}
		free(msg);
		msg = NULL;
		if (cm_verify(w->v, w->bad, NULL, NULL, 0, 0, &msg) != CERTMAP_REASON_UNTRUSTED) {
			w->failures++;
		}
		free(msg);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct cm_verifier *v = verifier(true, "crl-empty.pem");
	struct worker w[4];
	pthread_t t[4];
	struct cm_identity *good = cmt_load_identity("alice.pem");
	struct cm_identity *bad = cmt_load_identity("untrusted.pem");

	(void)state;
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ v, good, bad, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
	}
	cm_identity_free(good);
	cm_identity_free(bad);
	cm_verifier_free(v);
}


/* ------------------------------------------------ the verification memo */

/* cm_verify_memo on one certificate with an optional chain file. */
static enum certmap_reason memo_check(const struct cm_verifier *v, struct cm_verify_memo *m,
				      const struct cm_identity *id, const char *chain_name,
				      time_t now, bool *hit)
{
	unsigned char *chain = NULL;
	size_t chain_len = 0;
	const unsigned char *chains[1];
	enum certmap_reason r;
	char *msg = NULL;

	if (chain_name != NULL) {
		char *path = cmt_cert_path(chain_name);

		assert_int_equal(cmt_read_file(path, &chain, &chain_len), 0);
		free(path);
	}
	chains[0] = chain;
	r = cm_verify_memo(v, m, id, chains, &chain_len, chain != NULL ? 1 : 0, now, &msg, hit);
	if (r == CERTMAP_REASON_NONE) {
		assert_null(msg);
	} else {
		assert_non_null(msg);
	}
	free(msg);
	free(chain);
	return r;
}

static void test_memo_keys(void **state)
{
	struct cm_verifier *v = verifier(true, NULL), *v2 = verifier(true, NULL);
	struct cm_identity *alice = cmt_load_identity("alice.pem");
	struct cm_identity *bob = cmt_load_identity("bob-ec.pem");
	struct cm_identity *inter = cmt_load_identity("via-inter.pem");
	struct cm_verify_memo m;
	bool hit = true;

	(void)state;
	assert_int_equal(cm_verify_memo_init(&m), 0);
	assert_int_equal(memo_check(v, &m, alice, NULL, 0, &hit), CERTMAP_REASON_NONE);
	assert_false(hit);
	assert_int_equal(memo_check(v, &m, alice, NULL, 0, &hit), CERTMAP_REASON_NONE);
	assert_true(hit);
	/* Another chain certificate is another key. */
	assert_int_equal(memo_check(v, &m, alice, "chain.pem", 0, &hit), CERTMAP_REASON_NONE);
	assert_false(hit);
	assert_int_equal(memo_check(v, &m, alice, "chain.pem", 0, &hit), CERTMAP_REASON_NONE);
	assert_true(hit);
	assert_int_equal(memo_check(v, &m, alice, "rogue-ca.pem", 0, &hit), CERTMAP_REASON_NONE);
	assert_false(hit);
	/* Another verifier (a reload) is another generation, same files or not. */
	assert_int_equal(memo_check(v2, &m, alice, NULL, 0, &hit), CERTMAP_REASON_NONE);
	assert_false(hit);
	/* Another leaf never matches a slot, even in the wrong memo. */
	assert_int_equal(memo_check(v, &m, bob, NULL, 0, &hit), CERTMAP_REASON_NONE);
	assert_false(hit);
	cm_verify_memo_destroy(&m);

	/* A chain that verified with its intermediate does not let the leaf
	 * through without it, or with another certificate in its place. */
	assert_int_equal(cm_verify_memo_init(&m), 0);
	assert_int_equal(memo_check(v, &m, inter, "chain.pem", 0, &hit), CERTMAP_REASON_NONE);
	assert_int_equal(memo_check(v, &m, inter, NULL, 0, &hit), CERTMAP_REASON_UNTRUSTED);
	assert_false(hit);
	assert_int_equal(memo_check(v, &m, inter, "rogue-ca.pem", 0, &hit),
			 CERTMAP_REASON_UNTRUSTED);
	assert_false(hit);
	/* Refusals are not kept: each one is worked out again. */
	assert_int_equal(memo_check(v, &m, inter, NULL, 0, &hit), CERTMAP_REASON_UNTRUSTED);
	assert_false(hit);
	cm_verify_memo_destroy(&m);
	cm_identity_free(alice);
	cm_identity_free(bob);
	cm_identity_free(inter);
	cm_verifier_free(v);
	cm_verifier_free(v2);
}

static void test_memo_time(void **state)
{
	struct cm_verifier *v = verifier(true, NULL);
	struct cm_identity *alice = cmt_load_identity("alice.pem");
	time_t t = (time_t)alice->not_before + 100;
	struct cm_verify_memo m;
	bool hit = true;

	(void)state;
	assert_int_equal(cm_verify_memo_init(&m), 0);
	assert_int_equal(memo_check(v, &m, alice, NULL, t, &hit), CERTMAP_REASON_NONE);
	assert_false(hit);
	assert_int_equal(memo_check(v, &m, alice, NULL, (time_t)alice->not_after - 1, &hit),
			 CERTMAP_REASON_NONE);
	assert_true(hit);
	/* Never past the leaf's notAfter (the CA's ends then too: expired or
	 * untrusted, never passed). */
	assert_int_not_equal(memo_check(v, &m, alice, NULL, (time_t)alice->not_after + 1, &hit),
			     CERTMAP_REASON_NONE);
	assert_false(hit);
	/* A clock set back before the check verifies again. */
	assert_int_equal(memo_check(v, &m, alice, NULL, t - 50, &hit), CERTMAP_REASON_NONE);
	assert_false(hit);
	cm_verify_memo_destroy(&m);
	cm_identity_free(alice);
	cm_verifier_free(v);
}

/* A CRL by the test CA revoking nothing, valid from..until, in a file of
 * its own directory (cm_file_read wants a directory others cannot write). */
static char *short_crl(char *dir, time_t from, time_t until)
{
	char *ca_path = cmt_cert_path("ca.pem"), *key_path = cmt_cert_path("ca.key");
	FILE *f = fopen(ca_path, "r"), *k = fopen(key_path, "r"), *out;
	X509 *ca = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	EVP_PKEY *key = k != NULL ? PEM_read_PrivateKey(k, NULL, NULL, NULL) : NULL;
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t1 = ASN1_TIME_set(NULL, from), *t2 = ASN1_TIME_set(NULL, until);
	char *path = NULL;

	assert_non_null(ca);
	assert_non_null(key);
	assert_non_null(mkdtemp(dir));
	assert_true(asprintf(&path, "%s/crl.pem", dir) > 0);
	assert_int_equal(X509_CRL_set_version(crl, 1), 1);
	assert_int_equal(X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)), 1);
	assert_int_equal(X509_CRL_set1_lastUpdate(crl, t1), 1);
	assert_int_equal(X509_CRL_set1_nextUpdate(crl, t2), 1);
	assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
	out = fopen(path, "w");
	assert_non_null(out);
	assert_int_equal(PEM_write_X509_CRL(out, crl), 1);
	fclose(out);
	fclose(f);
	fclose(k);
	ASN1_TIME_free(t1);
	ASN1_TIME_free(t2);
	X509_CRL_free(crl);
	X509_free(ca);
	EVP_PKEY_free(key);
	free(ca_path);
	free(key_path);
	return path;
}

static void test_memo_crl_next_update(void **state)
{
	char dir[] = "/tmp/certmap-crl.XXXXXX";
	struct cm_identity *alice = cmt_load_identity("alice.pem");
	time_t t = (time_t)alice->not_before + 1000;
	char *crl = short_crl(dir, t - 10, t + 3600), *err = NULL;
	struct cm_verify_policy p;
	struct cm_verifier *v = NULL;
	struct cm_verify_memo m;
	bool hit = true;

	(void)state;
	policy_init(&p, true, "ca.pem", NULL);
	p.crl_file = crl;
	if (cm_verifier_new(&p, &v, &err) != 0) {
		fail_msg("cm_verifier_new: %s", err);
	}
	assert_int_equal(cm_verify_memo_init(&m), 0);
	assert_int_equal(memo_check(v, &m, alice, NULL, t, &hit), CERTMAP_REASON_NONE);
	assert_false(hit);
	assert_int_equal(memo_check(v, &m, alice, NULL, t + 3599, &hit), CERTMAP_REASON_NONE);
	assert_true(hit);
	/* Past the CRL's nextUpdate the chain is checked again (and fails:
	 * the CRL has expired), though alice is valid for years. */
	assert_int_equal(memo_check(v, &m, alice, NULL, t + 3601, &hit), CERTMAP_REASON_UNTRUSTED);
	assert_false(hit);
	cm_verify_memo_destroy(&m);
	cm_verifier_free(v);
	cm_verify_policy_clear(&p);
	unlink(crl);
	rmdir(dir);
	cm_identity_free(alice);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_and_time),
		cmocka_unit_test(test_ca_dir),
		cmocka_unit_test(test_crl),
		cmocka_unit_test(test_now),
		cmocka_unit_test(test_eku_and_key),
		cmocka_unit_test(test_min_ec_bits),
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_eku_names),
		cmocka_unit_test(test_new_errors),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_file_errors_in_words),
		cmocka_unit_test(test_leaf_is_not_a_ca),
		cmocka_unit_test(test_refusals_name_issuer_and_date),
		cmocka_unit_test(test_memo_keys),
		cmocka_unit_test(test_memo_time),
		cmocka_unit_test(test_memo_crl_next_update),
	};

#ifdef CM_TEST_X509_LIBCTX
	/* test_verify_libctx: the same tests in certmapd's context. */
	cm_x509_libctx_enable();
	assert_non_null(cm_x509_libctx());
#endif
	return cmocka_run_group_tests_name("verify", tests, NULL, NULL);
}

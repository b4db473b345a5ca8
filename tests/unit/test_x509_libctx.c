/*
 * mapper/x509_libctx.c: the library context a program may opt into must
 * decide exactly as the process's own context does. Every certificate the
 * suite makes (RSA, EC, Ed25519, DSA keys; valid, expired, not yet valid,
 * untrusted, rogue, via an intermediate) is decoded and verified in both,
 * and again with one signature bit flipped, and every outcome, error,
 * depth and key must agree. Run with test_verify built for the new
 * context (test_verify_libctx), this is what proves the opt-in changes
 * nothing but the time.
 */
#include "config.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "testlib.h"
#include "x509_libctx.h"

struct outcome {
	bool decoded;
	int verified, error, depth;
	int key_id, key_bits;
};

static X509 *decode(OSSL_LIB_CTX *libctx, const unsigned char *der, long len)
{
	const unsigned char *p = der;
	X509 *x = X509_new_ex(libctx, NULL);

	assert_non_null(x);
	if (d2i_X509(&x, &p, len) == NULL || p != der + len) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* The trust store of the suite's CA, its certificates decoded in libctx. */
static X509_STORE *store_for(OSSL_LIB_CTX *libctx)
{
	X509_STORE *st = X509_STORE_new();
	char *path = cmt_cert_path("ca.pem");
	FILE *f = fopen(path, "r");
	X509 *ca = X509_new_ex(libctx, NULL);

	assert_non_null(f);
	assert_non_null(PEM_read_X509(f, &ca, NULL, NULL));
	assert_int_equal(X509_STORE_add_cert(st, ca), 1);
	X509_free(ca);
	fclose(f);
	free(path);
	return st;
}

static X509 *intermediate(OSSL_LIB_CTX *libctx)
{
	char *path = cmt_cert_path("inter-ca.pem");
	FILE *f = fopen(path, "r");
	X509 *x = X509_new_ex(libctx, NULL);

	assert_non_null(f);
	assert_non_null(PEM_read_X509(f, &x, NULL, NULL));
	fclose(f);
	free(path);
	return x;
}

static struct outcome run(OSSL_LIB_CTX *libctx, const unsigned char *der, long len)
{
	struct outcome o = { 0 };
	X509_STORE *st = store_for(libctx);
	X509 *leaf = decode(libctx, der, len), *inter = intermediate(libctx);
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new_ex(libctx, NULL);
	EVP_PKEY *key;

	assert_non_null(ctx);
	assert_true(sk_X509_push(untrusted, inter) > 0);
	if ((o.decoded = leaf != NULL)) {
		key = X509_get0_pubkey(leaf);
		o.key_id = key != NULL ? EVP_PKEY_get_base_id(key) : -1;
		o.key_bits = key != NULL ? EVP_PKEY_get_bits(key) : -1;
		assert_int_equal(X509_STORE_CTX_init(ctx, st, leaf, untrusted), 1);
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT);
		o.verified = X509_verify_cert(ctx);
		o.error = X509_STORE_CTX_get_error(ctx);
		o.depth = X509_STORE_CTX_get_error_depth(ctx);
	}
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(leaf);
	X509_STORE_free(st);
	return o;
}

/* Both contexts on one DER certificate; returns whether it verified. */
static bool compare(OSSL_LIB_CTX *mine, const char *name, const unsigned char *der, long len)
{
	struct outcome a = run(NULL, der, len), b = run(mine, der, len);

	if (a.decoded != b.decoded || a.verified != b.verified || a.error != b.error ||
	    a.depth != b.depth || a.key_id != b.key_id || a.key_bits != b.key_bits) {
		fail_msg("%s: default context decoded=%d verified=%d error=%d depth=%d key=%d/%d, "
			 "certmap's decoded=%d verified=%d error=%d depth=%d key=%d/%d",
			 name, a.decoded, a.verified, a.error, a.depth, a.key_id, a.key_bits,
			 b.decoded, b.verified, b.error, b.depth, b.key_id, b.key_bits);
	}
	return a.verified == 1;
}

/* The DER of the first certificate in a PEM file, or NULL (a key, a CRL). */
static unsigned char *pem_cert_der(const char *path, int *len)
{
	FILE *f = fopen(path, "r");
	X509 *x = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL;

	if (f != NULL) {
		fclose(f);
	}
	*len = x != NULL ? i2d_X509(x, &der) : 0;
	X509_free(x);
	return *len > 0 ? der : NULL;
}

static void test_same_decisions(void **state)
{
	OSSL_LIB_CTX *mine = cm_x509_libctx();
	char *dir = cmt_cert_path("");
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned int n = 0, verified = 0, key_types = 0;
	int seen[4] = { 0 };

	(void)state;
	/* Debian's OpenSSL runs the default provider alone: the opt-in takes. */
	assert_non_null(mine);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		char *path;
		unsigned char *der;
		int len;

		if (l < 5 || strcmp(e->d_name + l - 4, ".pem") != 0) {
			continue;
		}
		path = cmt_cert_path(e->d_name);
		if ((der = pem_cert_der(path, &len)) != NULL) {
			n++;
			verified += compare(mine, e->d_name, der, len);
			/* The same certificate with its signature's last bit flipped. */
			der[len - 1] ^= 1;
			assert_false(compare(mine, e->d_name, der, len));
			/* Cut short: neither context decodes it. */
			compare(mine, e->d_name, der, len - 1);
			der[len - 1] ^= 1;
			{
				X509 *x = decode(mine, der, len);
				int id = EVP_PKEY_get_base_id(X509_get0_pubkey(x));

				seen[0] |= id == EVP_PKEY_RSA;
				seen[1] |= id == EVP_PKEY_EC;
				seen[2] |= id == EVP_PKEY_ED25519;
				seen[3] |= id == EVP_PKEY_DSA;
				X509_free(x);
			}
			OPENSSL_free(der);
		}
		free(path);
	}
	closedir(d);
	free(dir);
	for (size_t i = 0; i < 4; i++) {
		key_types += seen[i] != 0;
	}
	/* The suite's certificates: dozens, most valid, four kinds of keys. */
	assert_true(n >= 40);
	assert_true(verified >= 20 && verified < n);
	assert_int_equal(key_types, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_decisions),
	};

	cm_x509_libctx_enable();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Makes the ldap benchmark's users: N leaf certificates signed by the test
 * CA, and the directory entries that hold them (tests/ldap/bench_ldap.sh).
 *
 *	gen_bench_certs CA_CERT CA_KEY N GID_COUNT OUT
 *
 * writes OUT.der (the N certificates, DER, one after the other), OUT.ldif
 * (one posixAccount entry uid=bI,ou=People,dc=example,dc=com per
 * certificate, holding it as userCertificate;binary, primary group
 * 30000 + I % GID_COUNT) and OUT.filters (line I: the user filter certmap
 * sends for certificate I under the bench rule, the certificateExactMatch
 * assertion on serial and issuer; the raw clients send the same lines).
 * Certificate I: subject DC=com,DC=example,O=Example,OU=Users,UID=bI,
 * CN=Bench User I, e-mail SAN bI@example.com, serial 0x5eed0000 + I,
 * client authentication; all share one EC P-256 key pair, so making
 * 10,000 costs 10,000 RSA signatures by the CA (a few seconds), not
 * 10,000 key generations. Test data only.
 */
#include "config.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERIAL_BASE 0x5eed0000L

static void die(const char *what)
{
	fprintf(stderr, "gen_bench_certs: %s\n", what);
	exit(1);
}

static void *load_pem(const char *path, bool key)
{
	FILE *f = fopen(path, "r");
	void *v;

	if (f == NULL) {
		die(path);
	}
	v = key ? (void *)PEM_read_PrivateKey(f, NULL, NULL, NULL)
		: (void *)PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (v == NULL) {
		die(path);
	}
	return v;
}

static void add_ext(X509 *ca, X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, ca, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL || !X509_add_ext(x, ext, -1)) {
		die("extension");
	}
	X509_EXTENSION_free(ext);
}

static X509 *make_leaf(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *key, long i)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	char uid[32], cn[48], san[64];

	snprintf(uid, sizeof(uid), "b%ld", i);
	snprintf(cn, sizeof(cn), "Bench User %ld", i);
	snprintf(san, sizeof(san), "email:b%ld@example.com", i);
	if (x == NULL || n == NULL || !X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), SERIAL_BASE + i) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ca)) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -86400) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 86400) == NULL ||
	    !X509_NAME_add_entry_by_txt(n, "DC", MBSTRING_ASC, (const unsigned char *)"com", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(n, "DC", MBSTRING_ASC, (const unsigned char *)"example", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"Example", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC, (const unsigned char *)"Users", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(n, "UID", MBSTRING_ASC, (const unsigned char *)uid, -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_subject_name(x, n) || !X509_set_pubkey(x, key)) {
		die("certificate");
	}
	X509_NAME_free(n);
	add_ext(ca, x, NID_basic_constraints, "critical,CA:FALSE");
	add_ext(ca, x, NID_key_usage, "critical,digitalSignature,keyEncipherment");
	add_ext(ca, x, NID_ext_key_usage, "clientAuth");
	add_ext(ca, x, NID_subject_key_identifier, "hash");
	add_ext(ca, x, NID_authority_key_identifier, "keyid");
	add_ext(ca, x, NID_subject_alt_name, san);
	if (X509_sign(x, ca_key, EVP_sha256()) <= 0) {
		die("signing");
	}
	return x;
}

/* nss_ldap writes a space in a DN value as \20 (bench_ldap.sh checks that
 * the filters are certmap's own); the test CA's name needs nothing else. */
static void escape_spaces(char *s, size_t size)
{
	char out[512];
	size_t o = 0;

	for (const char *p = s; *p != '\0' && o + 4 < sizeof(out); p++) {
		if (*p == ' ') {
			memcpy(out + o, "\\20", 3);
			o += 3;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
	snprintf(s, size, "%s", out);
}

static FILE *open_out(const char *base, const char *ext)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", base, ext);
	if ((f = fopen(path, "w")) == NULL) {
		die(path);
	}
	return f;
}

int main(int argc, char **argv)
{
	X509 *ca;
	EVP_PKEY *ca_key, *key;
	long n, gids;
	char issuer[512];
	FILE *der, *ldif, *filters;
	BIO *mem;
	int len;

	if (argc != 6 || (n = atol(argv[3])) <= 0 || n > 1000000 || (gids = atol(argv[4])) <= 0) {
		fprintf(stderr, "usage: gen_bench_certs CA_CERT CA_KEY N GID_COUNT OUT\n");
		return 2;
	}
	ca = load_pem(argv[1], false);
	ca_key = load_pem(argv[2], true);
	if ((key = EVP_EC_gen("P-256")) == NULL) {
		die("key");
	}
	/* The issuer as {issuer_dn!nss_ldap} writes it (RFC 4514 order). */
	mem = BIO_new(BIO_s_mem());
	if (mem == NULL || X509_NAME_print_ex(mem, X509_get_subject_name(ca), 0, XN_FLAG_RFC2253) < 0 ||
	    (len = BIO_read(mem, issuer, sizeof(issuer) - 1)) <= 0) {
		die("issuer name");
	}
	issuer[len] = '\0';
	BIO_free(mem);
	escape_spaces(issuer, sizeof(issuer));
	der = open_out(argv[5], ".der");
	ldif = open_out(argv[5], ".ldif");
	filters = open_out(argv[5], ".filters");
	for (long i = 0; i < n; i++) {
		X509 *x = make_leaf(ca, ca_key, key, i);
		unsigned char *buf = NULL;
		int dlen = i2d_X509(x, &buf);
		unsigned char *b64 = malloc(4 * ((size_t)dlen + 2) / 3 + 1);

		if (dlen <= 0 || b64 == NULL) {
			die("encoding");
		}
		EVP_EncodeBlock(b64, buf, dlen);
		fwrite(buf, 1, (size_t)dlen, der);
		fprintf(ldif, "dn: uid=b%ld,ou=People,dc=example,dc=com\n"
			      "objectClass: inetOrgPerson\nobjectClass: posixAccount\n"
			      "uid: b%ld\ncn: Bench User %ld\nsn: b\nuidNumber: %ld\ngidNumber: %ld\n"
			      "homeDirectory: /home/b%ld\nmail: b%ld@example.com\n"
			      "userCertificate;binary:: %s\n\n",
			i, i, i, 40000 + i, 30000 + i % gids, i, i, b64);
		fprintf(filters, "(&(objectClass=posixAccount)(userCertificate;binary=\\7b serialNumber %ld, "
				 "issuer rdnSequence:\"%s\" \\7d))\n", SERIAL_BASE + i, issuer);
		free(b64);
		OPENSSL_free(buf);
		X509_free(x);
	}
	for (long g = 0; g < gids; g++) {
		fprintf(ldif, "dn: cn=bench%ld,ou=Groups,dc=example,dc=com\nobjectClass: posixGroup\n"
			      "cn: bench%ld\ngidNumber: %ld\n\n", g, g, 30000 + g);
	}
	if (fclose(der) != 0 || fclose(ldif) != 0 || fclose(filters) != 0) {
		die("writing");
	}
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	X509_free(ca);
	return 0;
}

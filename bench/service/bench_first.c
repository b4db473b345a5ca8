/*
 * First contact and repeated certificates, for bench/service/run.sh.
 *
 *   bench_first gen CA_PEM CA_KEY N DIR   N fresh leaves signed by the test
 *                                         CA (one RSA key for all of them):
 *                                         DIR/leaves.der (DER, back to back)
 *                                         and DIR/leaves.req (Map frames)
 *   bench_first users CERT_DER N OUT      N Map frames for one certificate,
 *                                         each with another requested user
 *   bench_first first SOCKET CA_PEM DER_FILE REQ_FILE ROUNDS
 *                                         in turns: d2i_X509 + X509_verify_cert
 *                                         of a part of the leaves in-process,
 *                                         certmapd's first contact with the
 *                                         next part; the least mean of each
 *   bench_first send SOCKET REQ_FILE ROUNDS
 *                                         each frame once, one connection, in
 *                                         ROUNDS parts: the least mean (µs)
 *
 * A benchmark tool: failures print and exit.
 */
#include "config.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "benchlib.h"

static void die(const char *what)
{
	fprintf(stderr, "bench_first: %s\n", what);
	exit(2);
}

static unsigned char *load_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
		die(path);
	}
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		die(path);
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void *pem_load(const char *path, bool key)
{
	FILE *f = fopen(path, "r");
	void *o;

	if (f == NULL) {
		die(path);
	}
	o = key ? (void *)PEM_read_PrivateKey(f, NULL, NULL, NULL)
		: (void *)PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (o == NULL) {
		die(path);
	}
	return o;
}

static void add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);

	if (e == NULL || X509_add_ext(x, e, -1) != 1) {
		die("extension");
	}
	X509_EXTENSION_free(e);
}

/* One frame {"method":...Map,"parameters":{"certificate":"<b64>"[,"user":"u"]}}\0. */
static void put_frame(FILE *out, const unsigned char *der, size_t len, const char *user)
{
	unsigned char *b64 = malloc(len / 3 * 4 + 8);
	int n = EVP_EncodeBlock(b64, der, (int)len);

	fprintf(out, "{\"method\":\"org.certmap.Mapper.Map\",\"parameters\":{\"certificate\":\"%.*s\"",
		n, b64);
	if (user != NULL) {
		fprintf(out, ",\"user\":\"%s\"", user);
	}
	fputs("}}", out);
	fputc('\0', out);
	free(b64);
}

static X509 *make_leaf(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *key, long serial)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX ctx;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"Example", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"Alice Example",
				   -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, X509_get_subject_name(ca));
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, ca, x, NULL, NULL, 0);
	add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature,keyEncipherment");
	add_ext(x, &ctx, NID_ext_key_usage, "clientAuth");
	add_ext(x, &ctx, NID_subject_key_identifier, "hash");
	add_ext(x, &ctx, NID_authority_key_identifier, "keyid");
	add_ext(x, &ctx, NID_subject_alt_name,
		"email:alice@example.com,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:alice@EXAMPLE.COM");
	if (X509_sign(x, ca_key, EVP_sha256()) <= 0) {
		die("sign");
	}
	X509_NAME_free(n);
	return x;
}

static int do_gen(const char *ca_pem, const char *ca_key_pem, long n, const char *dir)
{
	X509 *ca = pem_load(ca_pem, false);
	EVP_PKEY *ca_key = pem_load(ca_key_pem, true);
	EVP_PKEY *key = EVP_RSA_gen(2048);
	char path[4096];
	FILE *der_out, *req_out;

	snprintf(path, sizeof(path), "%s/leaves.der", dir);
	der_out = fopen(path, "wb");
	snprintf(path, sizeof(path), "%s/leaves.req", dir);
	req_out = fopen(path, "wb");
	if (key == NULL || der_out == NULL || req_out == NULL) {
		die("gen");
	}
	for (long i = 0; i < n; i++) {
		X509 *x = make_leaf(ca, ca_key, key, 0x100000 + i);
		unsigned char *der = NULL;
		int len = i2d_X509(x, &der);

		if (len <= 0) {
			die("i2d");
		}
		fwrite(der, 1, (size_t)len, der_out);
		put_frame(req_out, der, (size_t)len, NULL);
		OPENSSL_free(der);
		X509_free(x);
	}
	fclose(der_out);
	fclose(req_out);
	return 0;
}

static int do_users(const char *cert, long n, const char *out_path)
{
	size_t len;
	unsigned char *der = load_all(cert, &len);
	FILE *out = fopen(out_path, "wb");
	char user[32];

	if (out == NULL) {
		die(out_path);
	}
	for (long i = 0; i < n; i++) {
		snprintf(user, sizeof(user), "user%06ld", i);
		put_frame(out, der, len, user);
	}
	fclose(out);
	free(der);
	return 0;
}

static X509_STORE *load_store(const char *ca_pem)
{
	X509_STORE *store = X509_STORE_new();

	if (store == NULL || X509_STORE_load_file(store, ca_pem) != 1) {
		die("store");
	}
	X509_STORE_set_flags(store, X509_V_FLAG_X509_STRICT);
	return store;
}

/* The floor of first contact: what any verifier must do with the bytes.
 * Mean µs over the certificates in [p, end). */
static double openssl_mean(X509_STORE *store, const unsigned char *p, const unsigned char *end)
{
	long count = 0;
	double start = bench_now_s();

	while (p < end) {
		X509 *x = d2i_X509(NULL, &p, (long)(end - p));
		X509_STORE_CTX *ctx = X509_STORE_CTX_new();
		STACK_OF(X509) *untrusted = sk_X509_new_null();

		if (x == NULL || ctx == NULL || X509_STORE_CTX_init(ctx, store, x, untrusted) != 1 ||
		    X509_verify_cert(ctx) != 1) {
			die("verify");
		}
		X509_STORE_CTX_free(ctx);
		sk_X509_free(untrusted);
		X509_free(x);
		count++;
	}
	return (bench_now_s() - start) * 1e6 / (double)count;
}

/* Mean round trip µs of the frames in all[from, to), on fd. */
static double send_mean(int fd, const unsigned char *all, size_t from, size_t to, char *buf)
{
	size_t got;
	long count = 0;
	double start = bench_now_s();

	for (size_t off = from; off < to;) {
		const unsigned char *nul = memchr(all + off, '\0', to - off);
		size_t flen = (size_t)(nul - (all + off)) + 1;

		if (nul == NULL || send(fd, all + off, flen, MSG_NOSIGNAL) != (ssize_t)flen) {
			die("send");
		}
		got = 0;
		do {
			ssize_t n = recv(fd, buf + got, (1 << 20) - got, 0);

			if (n <= 0) {
				die("recv");
			}
			got += (size_t)n;
		} while (buf[got - 1] != '\0');
		if (count == 0 && strstr(buf, "\"verdict\"") == NULL) {
			fprintf(stderr, "bench_first: unexpected reply %.300s\n", buf);
			exit(2);
		}
		off += flen;
		count++;
	}
	return (bench_now_s() - start) * 1e6 / (double)count;
}

/* Where the n-th of rounds equal parts of a file of NUL-ended frames
 * (or of DER certificates, der set) begins. */
static size_t part_start(const unsigned char *all, size_t len, int rounds, int r, bool der)
{
	size_t items = 0, want, off = 0;

	for (size_t o = 0; o < len; items++) {
		if (der) {
			const unsigned char *p = all + o;
			X509 *x = d2i_X509(NULL, &p, (long)(len - o));

			X509_free(x);
			o = (size_t)(p - all);
		} else {
			o += strlen((const char *)all + o) + 1;
		}
	}
	want = items * (size_t)r / (size_t)rounds;
	for (size_t i = 0; i < want; i++) {
		if (der) {
			const unsigned char *p = all + off;
			X509 *x = d2i_X509(NULL, &p, (long)(len - off));

			X509_free(x);
			off = (size_t)(p - all);
		} else {
			off += strlen((const char *)all + off) + 1;
		}
	}
	return off;
}

/*
 * first SOCKET CA_PEM DER_FILE REQ_FILE ROUNDS: the in-process floor and
 * certmapd's first contact in turns, each on its own part of the leaves
 * (never sent twice); the least mean of each, so that a busy moment on a
 * shared machine does not decide the ratio.
 */
static int do_first(const char *sock, const char *ca_pem, const char *der_file,
		    const char *req_file, int rounds)
{
	size_t dlen, rlen;
	unsigned char *ders = load_all(der_file, &dlen), *reqs = load_all(req_file, &rlen);
	X509_STORE *store = load_store(ca_pem);
	char *buf = malloc(1 << 20);
	int fd = bench_connect(sock);
	double best_ossl = 1e18, best_svc = 1e18;

	if (fd < 0 || buf == NULL) {
		die("connect");
	}
	for (int r = 0; r < rounds; r++) {
		size_t d0 = part_start(ders, dlen, rounds, r, true);
		size_t d1 = part_start(ders, dlen, rounds, r + 1, true);
		size_t q0 = part_start(reqs, rlen, rounds, r, false);
		size_t q1 = part_start(reqs, rlen, rounds, r + 1, false);
		double o = openssl_mean(store, ders + d0, ders + d1);
		double s = send_mean(fd, reqs, q0, q1, buf);

		printf("round %d: in-process %.2f us, certmapd %.2f us\n", r + 1, o, s);
		best_ossl = o < best_ossl ? o : best_ossl;
		best_svc = s < best_svc ? s : best_svc;
	}
	printf("openssl_us=%.2f first_contact_us=%.2f\n", best_ossl, best_svc);
	close(fd);
	X509_STORE_free(store);
	free(buf);
	free(ders);
	free(reqs);
	return 0;
}

/* send SOCKET REQ_FILE ROUNDS: the file in ROUNDS parts; the least mean. */
static int do_send(const char *sock, const char *req_file, int rounds)
{
	size_t len;
	unsigned char *all = load_all(req_file, &len);
	char *buf = malloc(1 << 20);
	int fd = bench_connect(sock);
	double best = 1e18;

	if (fd < 0 || buf == NULL) {
		die("connect");
	}
	for (int r = 0; r < rounds; r++) {
		double m = send_mean(fd, all, part_start(all, len, rounds, r, false),
				     part_start(all, len, rounds, r + 1, false), buf);

		best = m < best ? m : best;
	}
	printf("mean_rtt_us=%.2f\n", best);
	close(fd);
	free(buf);
	free(all);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "gen") == 0) {
		return do_gen(argv[2], argv[3], atol(argv[4]), argv[5]);
	}
	if (argc == 5 && strcmp(argv[1], "users") == 0) {
		return do_users(argv[2], atol(argv[3]), argv[4]);
	}
	if (argc == 7 && strcmp(argv[1], "first") == 0) {
		return do_first(argv[2], argv[3], argv[4], argv[5], atoi(argv[6]));
	}
	if (argc == 5 && strcmp(argv[1], "send") == 0) {
		return do_send(argv[2], argv[3], atoi(argv[4]));
	}
	fprintf(stderr, "usage: bench_first gen|users|first|send ...\n");
	return 2;
}

/*
 * Certificate parsing micro-benchmark: d2i_X509 alone, the X509-based
 * reference extraction (tests/fuzz/ref_identity.c) and certmap's DER
 * walker (cm_identity_parse), median microseconds per parse over many
 * runs. Not built by make; build it by hand from a configured build dir:
 *
 *   gcc -O2 -I. -I$SRC/mapper -I$SRC/tests/fuzz $SRC/bench/bench_parse.c \
 *       $SRC/tests/fuzz/ref_identity.c $SRC/tests/fuzz/ref_name.c \
 *       .libs/libcertmap_internal.a -lcrypto -lconfig -ljson-c -lpthread \
 *       -o bench_parse
 *   ./bench_parse CERT.der...
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "identity.h"
#include "ref_identity.h"

#define ROUNDS 31
#define PER_ROUND 200

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void run_d2i(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);

	if (x == NULL) {
		abort();
	}
	X509_free(x);
}

static void run_ref(const unsigned char *der, size_t len)
{
	struct cm_identity *id = NULL;

	if (ref_identity_parse(der, len, &id) != 0) {
		abort();
	}
	cm_identity_free(id);
}

static void run_certmap(const unsigned char *der, size_t len)
{
	struct cm_identity *id = NULL;
	char *err = NULL;

	if (cm_identity_parse(der, len, &id, &err) != 0) {
		abort();
	}
	cm_identity_free(id);
}

static double median_us(void (*fn)(const unsigned char *, size_t),
			const unsigned char *der, size_t len)
{
	double t[ROUNDS];

	for (int r = 0; r < ROUNDS; r++) {
		double t0 = now_us();

		for (int i = 0; i < PER_ROUND; i++) {
			fn(der, len);
		}
		t[r] = (now_us() - t0) / PER_ROUND;
	}
	qsort(t, ROUNDS, sizeof(t[0]), cmp_double);
	return t[ROUNDS / 2];
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		unsigned char buf[CM_CERT_MAX_SIZE];
		FILE *f = fopen(argv[i], "rb");
		size_t len;

		if (f == NULL) {
			perror(argv[i]);
			return 1;
		}
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		run_certmap(buf, len); /* warm-up: one-time EC group set-up etc. */
		printf("%s (%zu bytes): d2i_X509 %.2f us, reference extraction %.2f us, "
		       "certmap %.2f us\n", argv[i], len, median_us(run_d2i, buf, len),
		       median_us(run_ref, buf, len), median_us(run_certmap, buf, len));
	}
	return 0;
}

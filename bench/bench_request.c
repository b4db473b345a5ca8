/*
 * Request decoding micro-benchmark: certmapd's cmp_call_decode() alone
 * ("parse") and with cmp_map_decode() ("decode") on a real Map frame (a base64 DER certificate, a user
 * and trace), with the fast path (service/request_fast.c) and with
 * json-c's tokener. Median microseconds per decode over many rounds, one
 * thread and two at once (json-c switches the locale per parse, which
 * takes a glibc lock). Run by make bench: bench_request CERT.der
 */
#include "config.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "request.h"
#include "request_fast.h"

#define ROUNDS 31
#define PER_ROUND 2000

static char frame[16384];
static size_t frame_len;
static bool with_map; /* cmp_map_decode() too, or the frame alone */

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void decode_many(void)
{
	for (int i = 0; i < PER_ROUND; i++) {
		struct cmp_call call;
		struct cmp_map m;
		struct cmp_fail fail;

		if (cmp_call_decode(frame, frame_len, &call, &fail) != 0 ||
		    (with_map && cmp_map_decode(&call, &m, &fail) != 0)) {
			fprintf(stderr, "bench_request: the frame does not decode\n");
			exit(1);
		}
		if (with_map) {
			cmp_map_clear(&m);
		}
		cmp_call_clear(&call);
	}
}

static void *worker(void *arg)
{
	(void)arg;
	decode_many();
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median µs per decode, the fast path on or off, on n_threads at once. */
static double measure(bool fast, int n_threads)
{
	double t[ROUNDS];

	cmp_fast_set_enabled(fast);
	for (int r = 0; r < ROUNDS; r++) {
		pthread_t th[2];
		double t0 = now_us();

		for (int k = 0; k < n_threads; k++) {
			pthread_create(&th[k], NULL, worker, NULL);
		}
		for (int k = 0; k < n_threads; k++) {
			pthread_join(th[k], NULL);
		}
		t[r] = (now_us() - t0) / PER_ROUND;
	}
	qsort(t, ROUNDS, sizeof(t[0]), cmp_double);
	return t[ROUNDS / 2];
}

static int load_frame(const char *path)
{
	unsigned char der[8192], b64[12000];
	FILE *f = fopen(path, "rb");
	size_t n;
	int len;

	if (f == NULL) {
		return -1;
	}
	n = fread(der, 1, sizeof(der), f);
	fclose(f);
	if (n == 0 || n == sizeof(der)) {
		return -1;
	}
	len = EVP_EncodeBlock(b64, der, (int)n);
	len = snprintf(frame, sizeof(frame),
		       "{\"method\":\"org.certmap.Mapper.Map\",\"parameters\":{\"certificate\":"
		       "\"%.*s\",\"user\":\"alice\",\"trace\":true}}",
		       len, (const char *)b64);
	if (len < 0 || (size_t)len >= sizeof(frame)) {
		return -1;
	}
	frame_len = (size_t)len;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2 || load_frame(argv[1]) != 0) {
		fprintf(stderr, "usage: bench_request CERT.der\n");
		return 2;
	}
	printf("frame of %zu bytes; µs per decode (wall time / decodes), median of %d\n",
	       frame_len, ROUNDS);
	for (int map = 0; map <= 1; map++) {
		for (int n = 1; n <= 2; n++) {
			const char *what = map ? "call+map" : "call";
			double slow, fast;

			with_map = map;
			slow = measure(false, n);
			fast = measure(true, n);
			printf("%-8s %d thread(s): json-c %.3f  fast %.3f\n", what, n, slow, fast);
			printf("ratio request_%s_jsonc_over_fast_%dt %.2f\n",
			       map ? "decode" : "parse", n, slow / fast);
		}
	}
	return 0;
}

/*
 * ldap-domain benchmarks on the suite's slapd, run by
 * tests/ldap/bench_ldap.sh (make bench); never by make check.
 *
 *	bench_ldap one CONFIG CERT URI BASE FILTER N
 *	  certmap's uncached mapping of CERT (CONFIG: one ldap domain with
 *	  cache_ttl = 0) against a raw ldap_search_ext_s for FILTER (the user
 *	  filter certmap sends) on one persistent connection, in one process
 *	  (same CPU placement); prints "ratio ldap_uncached_vs_raw R".
 *	bench_ldap cached CONFIG CERT URI SLAPD_PID N
 *	  maps CERT once (CONFIG caches answers), stops slapd, then maps it N
 *	  times: every mapping must succeed with the directory gone.
 *	bench_ldap par SOCKET CERT URI BASE FILTER THREADS SECONDS
 *	  THREADS raw libldap clients (one connection each) searching FILTER,
 *	  then THREADS certmapd clients mapping CERT (uncached), each for
 *	  SECONDS; prints "ratio ldap_certmapd_THREADS_vs_raw R".
 */
#include "config.h"

#include <errno.h>
#include <ldap.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "certmap.h"
#include "certmap_client.h"

static char *uattrs[] = { "uid", "uidNumber", "gidNumber", "homeDirectory", "objectSid",
			  "primaryGroupID", NULL };

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = malloc(65536);

	*len = 0;
	if (f == NULL || buf == NULL) {
		exit(2);
	}
	*len = fread(buf, 1, 65536, f);
	fclose(f);
	return buf;
}

static LDAP *raw_connect(const char *uri)
{
	LDAP *ld = NULL;
	int v3 = LDAP_VERSION3;

	if (ldap_initialize(&ld, uri) != LDAP_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != LDAP_OPT_SUCCESS) {
		return NULL;
	}
	return ld;
}

static int raw_search(LDAP *ld, const char *base, const char *filter)
{
	struct timeval tv = { .tv_sec = 3 };
	LDAPMessage *res = NULL;
	int rc = ldap_search_ext_s(ld, base, LDAP_SCOPE_SUBTREE, filter, uattrs, 0, NULL, NULL,
				   &tv, 10, &res);
	int n = rc == LDAP_SUCCESS ? ldap_count_entries(ld, res) : -1;

	ldap_msgfree(res);
	return n;
}

/* Whether a directory answers at uri (its root DSE). */
static bool alive(const char *uri)
{
	struct timeval tv = { .tv_sec = 1 };
	LDAPMessage *res = NULL;
	LDAP *ld = raw_connect(uri);
	bool up = ld != NULL && ldap_search_ext_s(ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", NULL, 0,
						  NULL, NULL, &tv, 1, &res) == LDAP_SUCCESS;

	ldap_msgfree(res);
	if (ld != NULL) {
		ldap_unbind_ext(ld, NULL, NULL);
	}
	return up;
}

static bool map_ok(struct certmap_ctx *ctx, const struct certmap_request *req)
{
	struct certmap_answer *a = NULL;
	bool ok = certmap_map(ctx, req, &a) == 0 &&
		  certmap_answer_verdict(a) == CERTMAP_VERDICT_MAPPED;

	certmap_answer_free(a);
	return ok;
}

static struct certmap_ctx *load(const char *config)
{
	struct certmap_ctx *ctx = NULL;
	char *err = NULL;

	if (certmap_ctx_new(config, &ctx, &err) != 0) {
		fprintf(stderr, "bench_ldap: %s\n", err != NULL ? err : "config");
		exit(2);
	}
	return ctx;
}

static int bench_one(char **argv)
{
	struct certmap_request req = { 0 };
	struct certmap_ctx *ctx = load(argv[0]);
	const char *base = argv[3], *filter = argv[4];
	int n = atoi(argv[5]);
	LDAP *ld = raw_connect(argv[2]);
	double t0, raw = 0, cm = 0;

	req.cert = slurp(argv[1], &req.cert_len);
	if (n <= 0 || ld == NULL || raw_search(ld, base, filter) != 1) {
		fprintf(stderr, "bench_ldap: the raw search does not find one entry\n");
		return 2;
	}
	/* Warm both up: connections open, certificate parsed once. */
	for (int i = 0; i < 50; i++) {
		if (!map_ok(ctx, &req)) {
			fprintf(stderr, "bench_ldap: the certificate does not map\n");
			return 2;
		}
		(void)raw_search(ld, base, filter);
	}
	/* Interleaved rounds, so drift on a shared machine hits both alike. */
	for (int round = 0; round < 5; round++) {
		t0 = now_us();
		for (int i = 0; i < n / 5; i++) {
			(void)raw_search(ld, base, filter);
		}
		raw += now_us() - t0;
		t0 = now_us();
		for (int i = 0; i < n / 5; i++) {
			(void)map_ok(ctx, &req);
		}
		cm += now_us() - t0;
	}
	raw /= (n / 5) * 5;
	cm /= (n / 5) * 5;
	printf("raw ldap_search_ext_s, one connection  %8.1f us\n", raw);
	printf("certmap uncached mapping               %8.1f us\n", cm);
	printf("ratio ldap_uncached_vs_raw %.2f\n", cm / raw);
	ldap_unbind_ext(ld, NULL, NULL);
	certmap_ctx_free(ctx);
	free((void *)req.cert);
	return 0;
}

static int bench_cached(char **argv)
{
	struct certmap_request req = { 0 };
	struct certmap_ctx *ctx = load(argv[0]);
	pid_t slapd = (pid_t)atol(argv[3]);
	int n = atoi(argv[4]), ok = 0;
	double t0;

	req.cert = slurp(argv[1], &req.cert_len);
	if (n <= 0 || slapd <= 1 || !map_ok(ctx, &req)) {
		fprintf(stderr, "bench_ldap: the certificate does not map\n");
		return 2;
	}
	/* Stop the directory and make sure it is gone. */
	kill(slapd, SIGTERM);
	for (int i = 0; i < 100 && alive(argv[2]); i++) {
		struct timespec pause = { 0, 50 * 1000 * 1000 };

		nanosleep(&pause, NULL);
	}
	if (alive(argv[2])) {
		fprintf(stderr, "bench_ldap: slapd does not stop\n");
		return 2;
	}
	t0 = now_us();
	for (int i = 0; i < n; i++) {
		ok += map_ok(ctx, &req) ? 1 : 0;
	}
	printf("cached mapping, slapd stopped          %8.1f us, %d of %d mapped\n",
	       (now_us() - t0) / n, ok, n);
	certmap_ctx_free(ctx);
	free((void *)req.cert);
	return ok == n ? 0 : 1;
}

struct par {
	char **argv;
	bool use_certmapd;
	double until;
	long done, bad;
};

static void *par_thread(void *arg)
{
	struct par *p = arg;
	struct certmap_request req = { 0 };
	struct certmap_client *cl = NULL;
	LDAP *ld = NULL;

	req.cert = slurp(p->argv[1], &req.cert_len);
	if (p->use_certmapd ? certmap_client_connect(p->argv[0], 10000, &cl) != 0
			    : (ld = raw_connect(p->argv[2])) == NULL) {
		p->bad++;
		goto out;
	}
	while (now_us() < p->until) {
		if (p->use_certmapd) {
			struct certmap_answer *a = NULL;

			if (certmap_client_map(cl, &req, &a) != 0 ||
			    certmap_answer_verdict(a) != CERTMAP_VERDICT_MAPPED) {
				p->bad++;
			}
			certmap_answer_free(a);
		} else if (raw_search(ld, p->argv[3], p->argv[4]) != 1) {
			p->bad++;
		}
		p->done++;
	}
out:
	certmap_client_free(cl);
	if (ld != NULL) {
		ldap_unbind_ext(ld, NULL, NULL);
	}
	free((void *)req.cert);
	return NULL;
}

/* Requests per second of THREADS clients of one kind; -1 on any failure. */
static double par_run(char **argv, bool use_certmapd, int threads, double secs)
{
	struct par *p = calloc((size_t)threads, sizeof(*p));
	pthread_t *th = calloc((size_t)threads, sizeof(*th));
	double until = now_us() + secs * 1e6, rate = 0;
	long bad = 0;

	for (int i = 0; p != NULL && th != NULL && i < threads; i++) {
		p[i] = (struct par){ .argv = argv, .use_certmapd = use_certmapd, .until = until };
		if (pthread_create(&th[i], NULL, par_thread, &p[i]) != 0) {
			exit(2);
		}
	}
	for (int i = 0; p != NULL && th != NULL && i < threads; i++) {
		pthread_join(th[i], NULL);
		rate += (double)p[i].done / secs;
		bad += p[i].bad;
	}
	free(p);
	free(th);
	return bad == 0 ? rate : -1;
}

static int bench_par(char **argv)
{
	int threads = atoi(argv[5]);
	double secs = atof(argv[6]), raw, svc;

	if (threads <= 0 || secs <= 0) {
		return 2;
	}
	raw = par_run(argv, false, threads, secs);
	svc = par_run(argv, true, threads, secs);
	if (raw <= 0 || svc <= 0) {
		fprintf(stderr, "bench_ldap: a client failed (raw %.0f/s, certmapd %.0f/s)\n", raw, svc);
		return 1;
	}
	printf("%d raw libldap clients                 %8.0f searches/s\n", threads, raw);
	printf("%d certmapd clients, uncached          %8.0f mappings/s\n", threads, svc);
	printf("ratio ldap_certmapd_%d_vs_raw %.2f\n", threads, svc / raw);
	return 0;
}

int main(int argc, char **argv)
{
	/* A write to a slapd that is going away must not end the bench. */
	signal(SIGPIPE, SIG_IGN);
	if (argc == 8 && strcmp(argv[1], "one") == 0) {
		return bench_one(argv + 2);
	}
	if (argc == 7 && strcmp(argv[1], "cached") == 0) {
		return bench_cached(argv + 2);
	}
	if (argc == 9 && strcmp(argv[1], "par") == 0) {
		return bench_par(argv + 2);
	}
	fprintf(stderr, "usage: bench_ldap one CONFIG CERT URI BASE FILTER N\n"
			"       bench_ldap cached CONFIG CERT URI SLAPD_PID N\n"
			"       bench_ldap par SOCKET CERT URI BASE FILTER THREADS SECONDS\n");
	return 2;
}

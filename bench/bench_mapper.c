/*
 * make bench: the mapper's cost against libsss_certmap, measured in one
 * run on the same certificates and rules (1, 10 and 100 rules).
 *
 *   sssd    sss_certmap_match_cert + sss_certmap_get_search_filter
 *   cold    certmap, certificate never seen: parse, match, expand
 *           (the code path of certmap_map without verification and NSS)
 *   warm    certmap, certificate seen before (cache hit by SHA-256)
 *   verify  certmap's chain verification alone (X509_STORE), separately
 *
 * Rules: rule i has priority i and matches <ISSUER> of a CA that did not
 * issue the certificate, except the last, which matches; all map with
 * LDAP:(userCertificate;binary={cert!bin}). Every rule is therefore
 * evaluated by both libraries. Times are the median of 7 batches, in CPU
 * time of the thread (CLOCK_THREAD_CPUTIME_ID): on a machine shared with
 * other work, time the scheduler gives to other processes is charged to
 * neither library (both run single-threaded, without I/O or sleeping).
 *
 * The last line, "ratio cold_vs_sssd X", is the smallest sssd/cold over
 * all rows (issue 16's figure).
 */
#include "config.h"

#include <sss_certmap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certcache.h"
#include "certmap.h"
#include "conf.h"
#include "identity.h"
#include "rules.h"
#include "verify.h"

#define BATCHES 7

typedef void (*bench_fn)(void *arg);

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median time per call in µs; each batch runs for about 40 ms. */
static double measure(bench_fn fn, void *arg)
{
	double t[BATCHES];
	long iters = 1;
	double start;

	/* Calibrate. */
	for (;;) {
		start = now_us();
		for (long i = 0; i < iters; i++) {
			fn(arg);
		}
		if (now_us() - start > 20000 || iters > (1L << 24)) {
			break;
		}
		iters *= 2;
	}
	iters = iters * 2 > 0 ? iters * 2 : iters;
	for (int b = 0; b < BATCHES; b++) {
		start = now_us();
		for (long i = 0; i < iters; i++) {
			fn(arg);
		}
		t[b] = (now_us() - start) / (double)iters;
	}
	qsort(t, BATCHES, sizeof(t[0]), cmp_double);
	return t[BATCHES / 2];
}

struct setup {
	const char *name;
	unsigned char *der;
	size_t der_len;
	size_t n_rules;
	struct sss_certmap_ctx *sss;
	struct cm_config cfg;
	struct cm_cert_cache *warm;
	struct cm_cert_cache *cold;
	struct cm_verifier *verifier;
	const char *issuer_re;
};

static void die(const char *what)
{
	fprintf(stderr, "bench: %s\n", what);
	exit(1);
}

static char *rule_match(const struct setup *s, size_t i)
{
	if (i + 1 == s->n_rules) {
		return cm_asprintf("<ISSUER>%s", s->issuer_re);
	}
	return cm_asprintf("<ISSUER>^CN=Other Issuing CA %zu,O=Elsewhere,C=US$", i);
}

static void setup_rules(struct setup *s)
{
	static const char map[] = "LDAP:(userCertificate;binary={cert!bin})";
	char *err = NULL;

	if (sss_certmap_init(NULL, NULL, NULL, &s->sss) != 0) {
		die("sss_certmap_init");
	}
	s->cfg.rules = calloc(s->n_rules, sizeof(*s->cfg.rules));
	s->cfg.n_rules = s->n_rules;
	for (size_t i = 0; i < s->n_rules; i++) {
		char *m = rule_match(s, i);
		struct cm_rule *r = &s->cfg.rules[i];

		if (sss_certmap_add_rule(s->sss, (uint32_t)i, m, map, NULL) != 0) {
			die("sss_certmap_add_rule");
		}
		r->name = cm_asprintf("r%zu", i);
		r->priority = (int)i;
		if (cm_match_parse(m, &r->match, &err) != 0 || cm_map_parse(map, &r->map, &err) != 0) {
			die(err);
		}
		free(m);
	}
	s->warm = cm_cert_cache_new(CM_CERT_CACHE_SIZE);
	s->cold = cm_cert_cache_new(0);
}

static void teardown_rules(struct setup *s)
{
	sss_certmap_free_ctx(s->sss);
	for (size_t i = 0; i < s->n_rules; i++) {
		free(s->cfg.rules[i].name);
		cm_match_free(s->cfg.rules[i].match);
		cm_map_free(s->cfg.rules[i].map);
	}
	free(s->cfg.rules);
	cm_cert_cache_free(s->warm);
	cm_cert_cache_free(s->cold);
	memset(&s->cfg, 0, sizeof(s->cfg));
}

static void run_sssd(void *arg)
{
	struct setup *s = arg;
	char *filter = NULL, **domains = NULL;

	if (sss_certmap_match_cert(s->sss, s->der, s->der_len) != 0 ||
	    sss_certmap_get_search_filter(s->sss, s->der, s->der_len, &filter, &domains) != 0) {
		die("sssd did not match");
	}
	sss_certmap_free_filter_and_domains(filter, domains);
}

/* certmap's path: entry (parse or hit), then levels until one matches. */
static void run_certmap(struct cm_cert_cache *c, struct setup *s)
{
	struct cm_cert_entry *e = NULL;
	char *err = NULL;
	bool hit, matched = false;

	if (cm_cert_cache_get(c, &s->cfg, s->der, s->der_len, &e, &hit, &err) != 0) {
		die(err);
	}
	for (size_t i = 0; i < s->n_rules && !matched; i++) {
		const struct cm_rule_result *res = cm_cert_entry_eval(e, i, i + 1);

		matched = res != NULL && res[i].matched && res[i].names.n == 1;
	}
	if (!matched) {
		die("certmap did not match");
	}
	cm_cert_entry_put(e);
}

static void run_cold(void *arg)
{
	struct setup *s = arg;

	run_certmap(s->cold, s);
}

static void run_warm(void *arg)
{
	struct setup *s = arg;

	run_certmap(s->warm, s);
}

static void run_verify(void *arg)
{
	struct setup *s = arg;
	struct cm_cert_entry *e = NULL;
	char *err = NULL, *msg = NULL;
	bool hit;

	if (cm_cert_cache_get(s->warm, &s->cfg, s->der, s->der_len, &e, &hit, &err) != 0) {
		die(err);
	}
	if (cm_verify(s->verifier, e->id, NULL, NULL, 0, 0, &msg) != CERTMAP_REASON_NONE) {
		die(msg);
	}
	cm_cert_entry_put(e);
}

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = malloc(CM_CERT_MAX_SIZE);

	if (f == NULL || buf == NULL) {
		die(path);
	}
	*len = fread(buf, 1, CM_CERT_MAX_SIZE, f);
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	static const size_t rule_counts[] = { 1, 10, 100 };
	struct cm_verify_policy pol = { .enabled = true, .min_rsa_bits = 2048, .min_ec_bits = 256 };
	struct setup s = { 0 };
	char *err = NULL;
	double min_cold_ratio = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_mapper CA.pem CERT.der...\n");
		return 2;
	}
	pol.ca_file = argv[1];
	if (cm_strv_add(&pol.require_eku, "clientAuth") != 0 ||
	    cm_verifier_new(&pol, &s.verifier, &err) != 0) {
		die(err != NULL ? err : "verifier");
	}
	s.issuer_re = "^CN=Certmap Test CA,O=Certmap Test,C=US$";
	printf("%-14s %6s %10s %10s %10s %10s %11s %11s\n", "certificate", "rules", "sssd_us",
	       "cold_us", "warm_us", "verify_us", "sssd/cold", "sssd/warm");
	for (int a = 2; a < argc; a++) {
		const char *base = strrchr(argv[a], '/');

		s.name = base != NULL ? base + 1 : argv[a];
		s.der = read_file(argv[a], &s.der_len);
		for (size_t k = 0; k < sizeof(rule_counts) / sizeof(rule_counts[0]); k++) {
			double sssd, cold, warm, ver;

			s.n_rules = rule_counts[k];
			setup_rules(&s);
			sssd = measure(run_sssd, &s);
			cold = measure(run_cold, &s);
			run_warm(&s);
			warm = measure(run_warm, &s);
			ver = measure(run_verify, &s);
			printf("%-14s %6zu %10.2f %10.2f %10.3f %10.2f %10.1fx %10.1fx\n", s.name,
			       s.n_rules, sssd, cold, warm, ver, sssd / cold, sssd / warm);
			if (min_cold_ratio == 0 || sssd / cold < min_cold_ratio) {
				min_cold_ratio = sssd / cold;
			}
			teardown_rules(&s);
		}
		free(s.der);
	}
	printf("ratio cold_vs_sssd %.1f\n", min_cold_ratio);
	cm_verifier_free(s.verifier);
	cm_strv_clear(&pol.require_eku);
	return 0;
}

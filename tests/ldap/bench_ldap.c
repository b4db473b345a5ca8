/*
 * ldap-domain benchmarks on the suite's slapd, run by
 * tests/ldap/bench_ldap.sh (make bench); never by make check.
 * CERTS is a file of DER certificates one after the other
 * (gen_bench_certs), FILTERS its companion: line I is the user filter
 * certmap sends for certificate I, and every mapping of certificate I must
 * name user bI. Request k of a run uses certificate / filter k modulo
 * their number (each thread starting elsewhere), so consecutive requests
 * never repeat a certificate or a search.
 *
 *	bench_ldap one CONFIG CERTS FILTERS URI BASE N
 *	  certmap's uncached mapping (CONFIG: one ldap domain with
 *	  cache_ttl = 0) against a raw ldap_search_ext_s for the same filters
 *	  on one persistent connection, in one process (same CPU placement);
 *	  prints "ratio ldap_uncached_vs_raw R".
 *	bench_ldap cached CONFIG CERTS URI SLAPD_PID N
 *	  maps 100 certificates once (CONFIG caches answers), stops slapd,
 *	  then maps them N times over: every mapping must succeed with the
 *	  directory gone.
 *	bench_ldap par SOCKET CERTS FILTERS URI BASE THREADS SECONDS [SLAPD_PID CERTMAPD_PID]
 *	  THREADS raw libldap clients (one connection each) searching the
 *	  filters, and THREADS certmapd clients mapping the certificates
 *	  (uncached), each for SECONDS in alternating rounds; prints
 *	  "ratio ldap_certmapd_THREADS_vs_raw R". BENCH_LDAP_ONLY=raw or
 *	  =certmapd runs only that kind (to profile one side; no ratio).
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

/* What certmap's find_op asks for (groups = "none", no memberOf). */
static char *uattrs[] = { "uid", "uidNumber", "gidNumber", "homeDirectory", "objectSid",
			  "primaryGroupID", NULL };

struct set {
	size_t n;
	const unsigned char **der;
	size_t *len;
	char **filter;
};

static struct set set;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* CPU time of this thread (the client side's own work), in us. */
static double cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long size;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) <= 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (buf = malloc((size_t)size + 1)) == NULL ||
	    fread(buf, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "bench_ldap: cannot read %s\n", path);
		exit(2);
	}
	fclose(f);
	buf[size] = '\0';
	*len = (size_t)size;
	return buf;
}

/* Length of the DER SEQUENCE at p (definite lengths up to 4 bytes), 0 if none. */
static size_t der_len(const unsigned char *p, size_t avail)
{
	size_t hdr = 2, body = 0;

	if (avail < 2 || p[0] != 0x30) {
		return 0;
	}
	if (p[1] < 0x80) {
		body = p[1];
	} else {
		size_t k = p[1] & 0x7f;

		if (k == 0 || k > 4 || avail < 2 + k) {
			return 0;
		}
		for (size_t i = 0; i < k; i++) {
			body = body << 8 | p[2 + i];
		}
		hdr += k;
	}
	return hdr + body <= avail ? hdr + body : 0;
}

/* Loads CERTS and, when given, FILTERS (the same count). */
static void load_set(const char *certs, const char *filters)
{
	size_t len, off = 0, cap = 0;
	unsigned char *buf = slurp(certs, &len);

	while (off < len) {
		size_t l = der_len(buf + off, len - off);

		if (l == 0) {
			fprintf(stderr, "bench_ldap: %s: not DER certificates\n", certs);
			exit(2);
		}
		if (set.n == cap) {
			cap = cap == 0 ? 1024 : cap * 2;
			set.der = realloc(set.der, cap * sizeof(*set.der));
			set.len = realloc(set.len, cap * sizeof(*set.len));
			if (set.der == NULL || set.len == NULL) {
				exit(2);
			}
		}
		set.der[set.n] = buf + off;
		set.len[set.n++] = l;
		off += l;
	}
	if (filters != NULL) {
		char *text = (char *)slurp(filters, &len), *save = NULL;
		size_t i = 0;

		set.filter = calloc(set.n, sizeof(*set.filter));
		for (char *l = strtok_r(text, "\n", &save); l != NULL && set.filter != NULL && i < set.n;
		     l = strtok_r(NULL, "\n", &save)) {
			set.filter[i++] = l;
		}
		if (i != set.n) {
			fprintf(stderr, "bench_ldap: %s: %zu filters for %zu certificates\n", filters, i,
				set.n);
			exit(2);
		}
	}
	if (set.n == 0) {
		exit(2);
	}
}

static void request(size_t k, struct certmap_request *req)
{
	memset(req, 0, sizeof(*req));
	req->cert = set.der[k % set.n];
	req->cert_len = set.len[k % set.n];
}

/* Whether answer a maps certificate k to its own user bK. */
static bool right_user(const struct certmap_answer *a, size_t k)
{
	char want[32];
	const char *u;

	snprintf(want, sizeof(want), "b%zu", k % set.n);
	return certmap_answer_verdict(a) == CERTMAP_VERDICT_MAPPED &&
	       (u = certmap_answer_user(a)) != NULL && strcmp(u, want) == 0;
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

/* Maps certificate k; true when it names user bK. */
static bool map_ok(struct certmap_ctx *ctx, size_t k)
{
	struct certmap_request req;
	struct certmap_answer *a = NULL;
	bool ok;

	request(k, &req);
	ok = certmap_map(ctx, &req, &a) == 0 && right_user(a, k);
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

/* argv: CONFIG CERTS FILTERS URI BASE N */
static int bench_one(char **argv)
{
	struct certmap_ctx *ctx = load(argv[0]);
	const char *base = argv[4];
	int n = atoi(argv[5]);
	LDAP *ld = raw_connect(argv[3]);
	size_t k = 0, bad = 0;
	double t0, c0, raw = 0, cm = 0, raw_cpu = 0, cm_cpu = 0;

	load_set(argv[1], argv[2]);
	if (n < 5 || ld == NULL) {
		return 2;
	}
	/* Warm both up (connections open, the primary groups' names kept);
	 * every search must find its one entry, every mapping its user. */
	for (int i = 0; i < 50; i++, k++) {
		if (raw_search(ld, base, set.filter[k % set.n]) != 1 || !map_ok(ctx, k)) {
			fprintf(stderr, "bench_ldap: certificate %zu: the search or the mapping fails\n",
				k % set.n);
			return 2;
		}
	}
	/* Interleaved rounds, so drift on a shared machine hits both alike;
	 * both sides go through the same certificates / filters. */
	for (int round = 0; round < 5; round++, k += (size_t)(n / 5)) {
		t0 = now_us();
		c0 = cpu_us();
		for (size_t i = 0; i < (size_t)(n / 5); i++) {
			bad += raw_search(ld, base, set.filter[(k + i) % set.n]) != 1;
		}
		raw += now_us() - t0;
		raw_cpu += cpu_us() - c0;
		t0 = now_us();
		c0 = cpu_us();
		for (size_t i = 0; i < (size_t)(n / 5); i++) {
			bad += !map_ok(ctx, k + i);
		}
		cm += now_us() - t0;
		cm_cpu += cpu_us() - c0;
	}
	raw /= (n / 5) * 5;
	cm /= (n / 5) * 5;
	raw_cpu /= (n / 5) * 5;
	cm_cpu /= (n / 5) * 5;
	printf("%zu certificates, %d searches and %d mappings\n", set.n, (n / 5) * 5, (n / 5) * 5);
	printf("raw ldap_search_ext_s, one connection  %8.1f us (client CPU %5.1f us)\n", raw, raw_cpu);
	printf("certmap uncached mapping               %8.1f us (client CPU %5.1f us)\n", cm, cm_cpu);
	printf("ratio ldap_uncached_vs_raw %.2f\n", cm / raw);
	ldap_unbind_ext(ld, NULL, NULL);
	certmap_ctx_free(ctx);
	if (bad != 0) {
		fprintf(stderr, "bench_ldap: %zu searches or mappings went wrong\n", bad);
		return 1;
	}
	return 0;
}

/* argv: CONFIG CERTS URI SLAPD_PID N */
static int bench_cached(char **argv)
{
	struct certmap_ctx *ctx = load(argv[0]);
	pid_t slapd = (pid_t)atol(argv[3]);
	int n = atoi(argv[4]), ok = 0;
	size_t few;
	double t0;

	load_set(argv[1], NULL);
	few = set.n < 100 ? set.n : 100;
	for (size_t k = 0; k < few; k++) {
		if (n <= 0 || slapd <= 1 || !map_ok(ctx, k)) {
			fprintf(stderr, "bench_ldap: certificate %zu does not map\n", k);
			return 2;
		}
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
		ok += map_ok(ctx, (size_t)i % few) ? 1 : 0;
	}
	printf("cached mapping of %zu certificates, slapd stopped  %8.1f us, %d of %d mapped\n",
	       few, (now_us() - t0) / n, ok, n);
	certmap_ctx_free(ctx);
	return ok == n ? 0 : 1;
}

struct par {
	char **argv;
	bool use_certmapd;
	size_t first;
	double until;
	long done, bad;
};

static void *par_thread(void *arg)
{
	struct par *p = arg;
	struct certmap_client *cl = NULL;
	LDAP *ld = NULL;

	if (p->use_certmapd ? certmap_client_connect(p->argv[0], 10000, &cl) != 0
			    : (ld = raw_connect(p->argv[3])) == NULL) {
		p->bad++;
		goto out;
	}
	for (size_t k = p->first; now_us() < p->until; k++) {
		if (p->use_certmapd) {
			struct certmap_request req;
			struct certmap_answer *a = NULL;

			request(k, &req);
			if (certmap_client_map(cl, &req, &a) != 0 || !right_user(a, k)) {
				p->bad++;
			}
			certmap_answer_free(a);
		} else if (raw_search(ld, p->argv[4], set.filter[k % set.n]) != 1) {
			p->bad++;
		}
		p->done++;
	}
out:
	certmap_client_free(cl);
	if (ld != NULL) {
		ldap_unbind_ext(ld, NULL, NULL);
	}
	return NULL;
}

/* Requests per second of THREADS clients of one kind; -1 on any failure.
 * Thread t starts at certificate t * n / THREADS: no two threads ask for
 * the same certificate at the same time. */
static double par_run(char **argv, bool use_certmapd, int threads, double secs)
{
	struct par *p = calloc((size_t)threads, sizeof(*p));
	pthread_t *th = calloc((size_t)threads, sizeof(*th));
	double until = now_us() + secs * 1e6, rate = 0;
	long bad = 0;

	for (int i = 0; p != NULL && th != NULL && i < threads; i++) {
		p[i] = (struct par){ .argv = argv, .use_certmapd = use_certmapd, .until = until,
				     .first = (size_t)i * set.n / (size_t)threads };
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

/* CPU time (user + system) of process pid so far, in us; 0 when unknown. */
static double proc_cpu_us(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (pid <= 0 || (f = fopen(path, "r")) == NULL) {
		return 0;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields 14 and 15, counted after the ")" that ends the command name. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) {
		return 0;
	}
	return (double)(ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

struct cost {
	double rate, slapd, svc, self; /* per second; CPU us per request */
};

/* One timed run of one kind, with the CPU each process spent on it. */
static bool par_cost(char **argv, bool use_certmapd, int threads, double secs, long slapd,
		     long svc, struct cost *sum)
{
	double s0 = proc_cpu_us(slapd), c0 = proc_cpu_us(svc), m0 = proc_cpu_us(getpid());
	double rate = par_run(argv, use_certmapd, threads, secs), n = rate * secs;

	if (rate <= 0) {
		return false;
	}
	sum->rate += rate;
	sum->slapd += (proc_cpu_us(slapd) - s0) / n;
	sum->svc += (proc_cpu_us(svc) - c0) / n;
	sum->self += (proc_cpu_us(getpid()) - m0) / n;
	return true;
}

/* argv: SOCKET CERTS FILTERS URI BASE THREADS SECONDS [SLAPD_PID CERTMAPD_PID]
 * Raw and certmapd runs alternate in five rounds of SECONDS / 5, so that
 * load from elsewhere on a shared machine hits both alike. With the PIDs,
 * prints the CPU time slapd, certmapd and the clients spent per request. */
static int bench_par(char **argv, int argc)
{
	int threads = atoi(argv[5]);
	double secs = atof(argv[6]);
	long slapd = argc > 7 ? atol(argv[7]) : 0, svcpid = argc > 8 ? atol(argv[8]) : 0;
	struct cost raw = { 0 }, svc = { 0 };
	const char *only = getenv("BENCH_LDAP_ONLY");

	if (only == NULL) {
		only = "";
	}

	load_set(argv[1], argv[2]);
	if (threads <= 0 || secs <= 0) {
		return 2;
	}
	for (int round = 0; round < 5; round++) {
		if ((strcmp(only, "certmapd") != 0 &&
		     !par_cost(argv, false, threads, secs / 5, slapd, 0, &raw)) ||
		    (strcmp(only, "raw") != 0 &&
		     !par_cost(argv, true, threads, secs / 5, slapd, svcpid, &svc))) {
			fprintf(stderr, "bench_ldap: a client failed\n");
			return 1;
		}
	}
	printf("%d raw libldap clients                 %8.0f searches/s\n", threads, raw.rate / 5);
	printf("%d certmapd clients, uncached          %8.0f mappings/s\n", threads, svc.rate / 5);
	if (slapd > 0 && svcpid > 0) {
		printf("CPU us per request: raw: slapd %.0f, clients %.0f; certmapd: slapd %.0f, "
		       "certmapd %.0f, clients %.0f\n",
		       raw.slapd / 5, raw.self / 5, svc.slapd / 5, svc.svc / 5, svc.self / 5);
	}
	if (only[0] == '\0') {
		printf("ratio ldap_certmapd_%d_vs_raw %.2f\n", threads, svc.rate / raw.rate);
	}
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
	if ((argc == 9 || argc == 11) && strcmp(argv[1], "par") == 0) {
		return bench_par(argv + 2, argc - 2);
	}
	fprintf(stderr, "usage: bench_ldap one CONFIG CERTS FILTERS URI BASE N\n"
			"       bench_ldap cached CONFIG CERTS URI SLAPD_PID N\n"
			"       bench_ldap par SOCKET CERTS FILTERS URI BASE THREADS SECONDS"
			" [SLAPD_PID CERTMAPD_PID]\n");
	return 2;
}

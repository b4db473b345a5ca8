/*
 * Measures certmap's uncached mapping on an ldap domain against raw
 * libldap searches for the same filter on one persistent connection, in
 * one process (same CPU placement). Run by tests/ldap/bench_ldap.sh.
 *
 *	bench_ldap CONFIG CERT URI BASE FILTER GROUP_FILTER N
 *
 * CONFIG names one ldap domain with the answer cache off; FILTER is the
 * full user filter certmap sends for CERT, GROUP_FILTER the primary group
 * search it sends after it.
 */
#include "config.h"

#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certmap.h"

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

static int raw_search(LDAP *ld, const char *base, const char *filter, char **attrs)
{
	struct timeval tv = { .tv_sec = 3 };
	LDAPMessage *res = NULL;
	int rc = ldap_search_ext_s(ld, base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL,
				   &tv, 10, &res);
	int n = rc == LDAP_SUCCESS ? ldap_count_entries(ld, res) : -1;

	ldap_msgfree(res);
	return n;
}

int main(int argc, char **argv)
{
	char *uattrs[] = { "uid", "uidNumber", "gidNumber", "homeDirectory", "objectSid",
			   "primaryGroupID", NULL };
	char *gattrs[] = { "cn", "gidNumber", "objectSid", NULL };
	struct certmap_ctx *ctx = NULL;
	struct certmap_request req = { 0 };
	LDAP *ld = NULL;
	char *err = NULL;
	double t0, raw1, raw2, cm;
	int n, v3 = LDAP_VERSION3;

	if (argc != 8 || (n = atoi(argv[7])) <= 0) {
		fprintf(stderr, "usage: bench_ldap CONFIG CERT URI BASE FILTER GROUP_FILTER N\n");
		return 2;
	}
	if (certmap_ctx_new(argv[1], &ctx, &err) != 0) {
		fprintf(stderr, "bench_ldap: %s\n", err != NULL ? err : "config");
		return 2;
	}
	req.cert = slurp(argv[2], &req.cert_len);
	if (ldap_initialize(&ld, argv[3]) != LDAP_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != LDAP_OPT_SUCCESS ||
	    raw_search(ld, argv[4], argv[5], uattrs) != 1) {
		fprintf(stderr, "bench_ldap: the raw search does not find one entry\n");
		return 2;
	}
	/* Warm both up: connections open, certificate parsed once. */
	for (int i = 0; i < 50; i++) {
		struct certmap_answer *a = NULL;

		if (certmap_map(ctx, &req, &a) != 0 || certmap_answer_verdict(a) != CERTMAP_VERDICT_MAPPED) {
			fprintf(stderr, "bench_ldap: the certificate does not map\n");
			return 2;
		}
		certmap_answer_free(a);
		(void)raw_search(ld, argv[4], argv[5], uattrs);
	}
	t0 = now_us();
	for (int i = 0; i < n; i++) {
		(void)raw_search(ld, argv[4], argv[5], uattrs);
	}
	raw1 = (now_us() - t0) / n;
	t0 = now_us();
	for (int i = 0; i < n; i++) {
		(void)raw_search(ld, argv[4], argv[5], uattrs);
		(void)raw_search(ld, argv[4], argv[6], gattrs);
	}
	raw2 = (now_us() - t0) / n;
	t0 = now_us();
	for (int i = 0; i < n; i++) {
		struct certmap_answer *a = NULL;

		if (certmap_map(ctx, &req, &a) == 0) {
			certmap_answer_free(a);
		}
	}
	cm = (now_us() - t0) / n;
	printf("raw user search              %8.1f us\n", raw1);
	printf("raw user + primary group     %8.1f us\n", raw2);
	printf("certmap uncached mapping     %8.1f us  (%.2fx one search, %.2fx the same two)\n",
	       cm, cm / raw1, cm / raw2);
	ldap_unbind_ext(ld, NULL, NULL);
	certmap_ctx_free(ctx);
	free((void *)req.cert);
	return 0;
}

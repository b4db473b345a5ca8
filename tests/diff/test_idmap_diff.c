/*
 * Differential test: certmap's ids = "sid" against SSSD's libsss_idmap
 * with its default settings (the ids SSSD's ldap_id_mapping gives), on many
 * random domain SIDs and RIDs, and on malformed SIDs (both refuse).
 *
 *	test_idmap_diff            the comparison
 *	test_idmap_diff SID        prints SSSD's id for SID (for the ldap tests)
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sss_idmap.h>

#include "sid.h"

static uint64_t state = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return (uint32_t)(state >> 11);
}

/* SSSD's id for sid, or -1: one context per domain, as certmap computes. */
static int64_t sssd_id(const char *dom, const char *sid)
{
	struct sss_idmap_ctx *ctx = NULL;
	struct sss_idmap_range range = { 0, 0 };
	uint32_t id = 0;
	int64_t r = -1;

	if (sss_idmap_init(NULL, NULL, NULL, &ctx) != IDMAP_SUCCESS) {
		fprintf(stderr, "sss_idmap_init failed\n");
		exit(99);
	}
	if (sss_idmap_calculate_range(ctx, dom, NULL, &range) == IDMAP_SUCCESS &&
	    sss_idmap_add_domain_ex(ctx, "test", dom, &range, NULL, 0, false) == IDMAP_SUCCESS &&
	    sss_idmap_sid_to_unix(ctx, sid, &id) == IDMAP_SUCCESS) {
		r = id;
	}
	sss_idmap_free(ctx);
	return r;
}

int main(int argc, char **argv)
{
	unsigned int fail = 0, n = 0, mapped = 0;

	if (argc == 2) {
		char dom[160];
		char *dash = strrchr(argv[1], '-');
		int64_t id;

		if (dash == NULL || (size_t)(dash - argv[1]) >= sizeof(dom)) {
			return 2;
		}
		snprintf(dom, sizeof(dom), "%.*s", (int)(dash - argv[1]), argv[1]);
		id = sssd_id(dom, argv[1]);
		printf("%" PRId64 "\n", id);
		return id >= 0 ? 0 : 1;
	}
	for (int i = 0; i < 20000; i++) {
		char dom[128], sid[160];
		uint32_t rid = i % 4 == 0 ? rnd() : rnd() % (CM_IDMAP_RANGESIZE + 1000);
		uint32_t ours = 0;
		int64_t theirs;
		int rc;

		snprintf(dom, sizeof(dom), "S-1-5-21-%" PRIu32 "-%" PRIu32 "-%" PRIu32, rnd(), rnd(), rnd());
		if (i % 10 == 1) {
			/* Not domain SIDs: both refuse. */
			snprintf(dom, sizeof(dom), "S-1-5-%" PRIu32, rnd() % 100);
		} else if (i % 10 == 2) {
			snprintf(dom, sizeof(dom), "S-1-5-21-%" PRIu32 "-%" PRIu32, rnd(), rnd());
		} else if (i % 10 == 3) {
			snprintf(dom, sizeof(dom), "S-1-5-32");
		}
		snprintf(sid, sizeof(sid), "%s-%" PRIu32, dom, rid);
		rc = cm_sid_to_id(sid, &ours);
		theirs = sssd_id(dom, sid);
		n++;
		if ((rc == 0) != (theirs >= 0) || (rc == 0 && (int64_t)ours != theirs)) {
			if (fail < 20) {
				fprintf(stderr, "MISMATCH %s: certmap %s %" PRIu32 ", sssd %" PRId64 "\n", sid,
				rc == 0 ? "maps to" : "refuses", ours, theirs);
			}
			fail++;
		}
		mapped += rc == 0;
	}
	printf("%u SIDs compared, %u mapped by both, %u mismatches\n", n, mapped, fail);
	return fail == 0 && mapped > n / 3 ? 0 : 1;
}

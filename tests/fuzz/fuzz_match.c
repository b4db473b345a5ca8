/*
 * Fuzz target for matching rules: parses the input as a rule and, when it
 * is accepted, evaluates it against a fixed hand-built identity (with an
 * unusable SAN, several SAN types and a non-ASCII subject).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "fuzz_identity.h"
#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cm_identity id;
static struct cm_san sans[6];

/* The fixed identity's i-th SAN. */
static void san(size_t i, enum cm_san_type type, enum cm_other_kind kind, const char *text, size_t len)
{
	fuzz_san(&sans[i], type, kind, text, len);
}

static void identity_init(void)
{
	if (id.sans != NULL) {
		return;
	}
	fuzz_set(&id.subject.sssd, "CN=J\\C3\\BCrgen,O=Example", 24);
	fuzz_set(&id.subject.rfc4514, "CN=J\xc3\xbcrgen,O=Example", 20);
	fuzz_set(&id.issuer.sssd, "CN=CA", 5);
	/* One value for both, as name.c keeps an ASCII DN: cm_match_eval's
	 * fast failure applies only then. */
	id.issuer.rfc4514 = id.issuer.sssd;
	id.has_ku = true;
	id.ku = 0x80;
	id.has_eku = true;
	if (cm_strv_add(&id.eku, "1.3.6.1.5.5.7.3.2") != 0) {
		abort();
	}
	san(0, CM_SAN_RFC822, CM_OTHER_GENERIC, "a@example.com", 13);
	san(1, CM_SAN_RFC822, CM_OTHER_GENERIC, "v@example.com\0.evil", 19);
	san(2, CM_SAN_DNS, CM_OTHER_GENERIC, "host.example.com", 16);
	san(3, CM_SAN_OTHER_NAME, CM_OTHER_UPN, "a@EXAMPLE.COM", 13);
	san(4, CM_SAN_OTHER_NAME, CM_OTHER_GENERIC, "\x0c\x03xyz", 5);
	san(5, CM_SAN_IP, CM_OTHER_GENERIC, "192.0.2.1", 9);
	sans[3].other_oid = (char *)"1.3.6.1.4.1.311.20.2.3";
	sans[4].other_oid = (char *)"1.2.3.4";
	id.sans = sans;
	id.n_sans = 6;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_match *m = NULL;
	struct cm_buf why;
	char *rule, *err = NULL;

	identity_init();
	if ((rule = fuzz_rule_text(data, size)) == NULL) {
		return 0;
	}
	cm_buf_init(&why, 4096);
	/* With a trace or without (the fast failure), the same outcome. */
	if (cm_match_parse(rule, &m, &err) == 0 &&
	    cm_match_eval(m, &id, &why) != cm_match_eval(m, &id, NULL)) {
		abort();
	}
	cm_buf_free(&why);
	cm_match_free(m);
	free(err);
	free(rule);
	return 0;
}

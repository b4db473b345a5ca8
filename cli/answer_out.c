/*
 * What certmapctl test and certmapctl query share: reading the
 * certificate and chain files, printing an answer (text with its trace, or
 * JSON), and the exit status an answer gives.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "certmap.h"
#include "cli.h"

static void print_trace(const struct certmap_answer *a)
{
	for (size_t i = 0; i < certmap_answer_n_trace(a); i++) {
		const struct certmap_trace_entry *e = certmap_answer_trace(a, i);

		printf("rule %s (priority %d): %s%s%s\n", e->rule, e->priority,
		       e->matched ? "matched" : "not matched",
		       e->note[0] != '\0' ? ": " : "", e->note);
		for (size_t k = 0; k < e->n_candidates; k++) {
			const struct certmap_candidate *c = &e->candidates[k];

			printf("    candidate %s in %s: %s%s%s\n", c->user, c->domain, c->status,
			       c->note != NULL ? ": " : "", c->note != NULL ? c->note : "");
		}
	}
}

static void print_text(const struct certmap_answer *a)
{
	enum certmap_verdict v = certmap_answer_verdict(a);

	if (certmap_answer_cert_sha256(a)[0] != '\0') {
		printf("certificate sha256 %s\n", certmap_answer_cert_sha256(a));
	}
	print_trace(a);
	if (v != CERTMAP_VERDICT_MAPPED) {
		printf("verdict: %s (%s): %s\n", certmap_verdict_name(v),
		       certmap_reason_name(certmap_answer_reason(a)), certmap_answer_message(a));
		return;
	}
	printf("verdict: mapped\n  user:   %s\n", certmap_answer_user(a));
	/* A certificate-only identity (certificate domains) has no account. */
	if (certmap_answer_has_account(a)) {
		printf("  uid:    %u\n  gid:    %u\n", (unsigned)certmap_answer_uid(a),
		       (unsigned)certmap_answer_gid(a));
	} else {
		printf("  account: none (certificate-only identity)\n");
	}
	printf("  groups: ");
	for (size_t i = 0; i < certmap_answer_n_groups(a); i++) {
		printf("%s%s", i > 0 ? "," : "", certmap_answer_group(a, i));
	}
	printf("\n");
	if (certmap_answer_has_account(a)) {
		printf("  home:   %s\n", certmap_answer_home(a));
	}
	printf("  rule:   %s\n  domain: %s\n", certmap_answer_rule(a), certmap_answer_domain(a));
}

static int exit_code(const struct certmap_answer *a)
{
	switch (certmap_answer_reason(a)) {
	case CERTMAP_REASON_NONE:
		return CLI_OK;
	case CERTMAP_REASON_BACKEND_UNAVAILABLE:
		return CLI_BACKEND;
	case CERTMAP_REASON_CONFIG_ERROR:
	case CERTMAP_REASON_INVALID_CERTIFICATE:
		return CLI_USAGE;
	case CERTMAP_REASON_NO_RULE_MATCHED:
	case CERTMAP_REASON_NO_ACCOUNT:
	case CERTMAP_REASON_AMBIGUOUS:
	case CERTMAP_REASON_NOT_CANDIDATE:
	case CERTMAP_REASON_UNTRUSTED:
	case CERTMAP_REASON_EXPIRED:
	case CERTMAP_REASON_NOT_YET_VALID:
	case CERTMAP_REASON_REVOKED:
	case CERTMAP_REASON_EKU_MISSING:
	case CERTMAP_REASON_KEY_TOO_SMALL:
	case CERTMAP_REASON_UID_REFUSED:
	case CERTMAP_REASON_SID_MISMATCH:
	case CERTMAP_REASON_HINT_INVALID:
	case CERTMAP_REASON__MAX:
	default:
		return CLI_REFUSED;
	}
}

int cli_report_answer(const struct certmap_answer *a, bool json)
{
	char *s;

	if (!json) {
		print_text(a);
		return exit_code(a);
	}
	if ((s = certmap_answer_to_json(a, true)) == NULL) {
		cli_error("out of memory");
		return CLI_USAGE;
	}
	cli_print_json(json_tokener_parse(s));
	free(s);
	return exit_code(a);
}

int cli_read_certs(int argc, char **argv, int first, struct cli_certs *c,
		   struct certmap_request *req)
{
	int n = argc - first;

	if (n < 1 || n > CLI_MAX_CERTS) {
		cli_error("one certificate and at most %d chain certificates", CLI_MAX_CERTS - 1);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (cli_read_file(argv[first + i], &c->data[i], &c->len[i]) != 0) {
			return -1;
		}
	}
	req->cert = c->data[0];
	req->cert_len = c->len[0];
	req->chain = (const unsigned char *const *)&c->data[1];
	req->chain_len = &c->len[1];
	req->n_chain = (size_t)n - 1;
	return 0;
}

void cli_certs_free(struct cli_certs *c)
{
	for (size_t i = 0; i < CLI_MAX_CERTS; i++) {
		free(c->data[i]);
		c->data[i] = NULL;
	}
}

int cli_request_fill(struct certmap_request *req, const char *user, const char *upn_hint,
		     const char *domain_hint, const char *hint_hex, unsigned char **hint_buf)
{
	size_t len = 0;

	*hint_buf = NULL;
	req->user = user;
	req->upn_hint = upn_hint;
	req->domain_hint = domain_hint;
	req->flags = CERTMAP_REQ_TRACE;
	if (hint_hex == NULL) {
		return 0;
	}
	if (cli_hint_hex_arg(hint_hex, hint_buf, &len) != 0) {
		return -1;
	}
	req->user_mapping_data = *hint_buf;
	req->user_mapping_data_len = len;
	req->flags |= CERTMAP_REQ_HINT_DATA;
	return 0;
}

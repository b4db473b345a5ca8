/* certmapctl test: the full decision for one certificate, with a trace. */
#include "config.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certmap.h"
#include "cli.h"

struct test_opts {
	const char *config;
	const char *user;
	const char *upn_hint;
	const char *domain_hint;
	bool json;
};

static int parse_opts(int argc, char **argv, struct test_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "user", required_argument, NULL, 'u' },
		{ "upn-hint", required_argument, NULL, 'U' },
		{ "domain-hint", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:u:j", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'u': o->user = optarg; break;
		case 'U': o->upn_hint = optarg; break;
		case 'D': o->domain_hint = optarg; break;
		case 'j': o->json = true; break;
		case 'h':
			printf("Usage: certmapctl %s\n", cli_command_usage);
			exit(CLI_OK);
		default:
			fprintf(stderr, "Usage: certmapctl %s\n", cli_command_usage);
			return -1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "Usage: certmapctl %s\n", cli_command_usage);
		return -1;
	}
	return optind;
}

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

static void print_answer(const struct certmap_answer *a)
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
	printf("verdict: mapped\n  user:   %s\n  uid:    %u\n  gid:    %u\n  groups: ",
	       certmap_answer_user(a), (unsigned)certmap_answer_uid(a),
	       (unsigned)certmap_answer_gid(a));
	for (size_t i = 0; i < certmap_answer_n_groups(a); i++) {
		printf("%s%s", i > 0 ? "," : "", certmap_answer_group(a, i));
	}
	printf("\n  home:   %s\n  rule:   %s\n  domain: %s\n", certmap_answer_home(a),
	       certmap_answer_rule(a), certmap_answer_domain(a));
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
	case CERTMAP_REASON_HINT_INVALID:
	case CERTMAP_REASON__MAX:
	default:
		return CLI_REFUSED;
	}
}

static void free_chain(unsigned char **chain, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(chain[i]);
	}
	free(chain);
}

int cmd_test(int argc, char **argv)
{
	struct test_opts o = { 0 };
	struct certmap_ctx *ctx = NULL;
	struct certmap_answer *a = NULL;
	struct certmap_request req = { 0 };
	unsigned char *cert = NULL, **chain = NULL;
	size_t *chain_len = NULL;
	char *err = NULL, *json = NULL;
	int first, rc = CLI_USAGE, n_chain = 0;

	if ((first = parse_opts(argc, argv, &o)) < 0) {
		return CLI_USAGE;
	}
	if (cli_read_file(argv[first], &cert, &req.cert_len) != 0) {
		goto out;
	}
	n_chain = argc - first - 1;
	chain = calloc((size_t)n_chain + 1, sizeof(*chain));
	chain_len = calloc((size_t)n_chain + 1, sizeof(*chain_len));
	if (chain == NULL || chain_len == NULL) {
		cli_error("out of memory");
		goto out;
	}
	for (int i = 0; i < n_chain; i++) {
		if (cli_read_file(argv[first + 1 + i], &chain[i], &chain_len[i]) != 0) {
			goto out;
		}
	}
	if (certmap_ctx_new(o.config, &ctx, &err) != CERTMAP_OK) {
		cli_error("%s", err != NULL ? err : "cannot load the configuration");
		goto out;
	}
	req.cert = cert;
	req.chain = (const unsigned char *const *)chain;
	req.chain_len = chain_len;
	req.n_chain = (size_t)n_chain;
	req.user = o.user;
	req.upn_hint = o.upn_hint;
	req.domain_hint = o.domain_hint;
	req.flags = CERTMAP_REQ_TRACE;
	if ((rc = certmap_map(ctx, &req, &a)) != CERTMAP_OK) {
		cli_error("%s", certmap_strerror(rc));
		rc = CLI_USAGE;
		goto out;
	}
	if (o.json) {
		json = certmap_answer_to_json(a, true);
		if (json == NULL) {
			cli_error("out of memory");
			rc = CLI_USAGE;
			goto out;
		}
		cli_print_json(json_tokener_parse(json));
	} else {
		print_answer(a);
	}
	rc = exit_code(a);
out:
	certmap_answer_free(a);
	certmap_ctx_free(ctx);
	free_chain(chain, n_chain > 0 ? (size_t)n_chain : 0);
	free(chain_len);
	free(cert);
	free(err);
	free(json);
	return rc;
}

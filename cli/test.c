/* certmapctl test: the full decision for one certificate, with a trace. */
#include "config.h"

#include <getopt.h>
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
	const char *hint_data;
	bool json;
};

static int parse_opts(int argc, char **argv, struct test_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "user", required_argument, NULL, 'u' },
		{ "upn-hint", required_argument, NULL, 'U' },
		{ "domain-hint", required_argument, NULL, 'D' },
		{ "hint-data", required_argument, NULL, 'H' },
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
		case 'H': o->hint_data = optarg; break;
		case 'j': o->json = true; break;
		case 'h':
			exit(cli_usage(true));
		default:
			cli_usage(false);
			return -1;
		}
	}
	if (optind >= argc) {
		cli_usage(false);
		return -1;
	}
	return optind;
}

int cmd_test(int argc, char **argv)
{
	struct test_opts o = { 0 };
	struct certmap_ctx *ctx = NULL;
	struct certmap_answer *a = NULL;
	struct certmap_request req = { 0 };
	struct cli_certs certs = { 0 };
	unsigned char *hint = NULL;
	char *err = NULL;
	int first, rc = CLI_USAGE;

	if ((first = parse_opts(argc, argv, &o)) < 0) {
		return CLI_USAGE;
	}
	cli_json = o.json;
	if (cli_read_certs(argc, argv, first, &certs, &req) != 0) {
		goto out;
	}
	if (certmap_ctx_new(o.config, &ctx, &err) != CERTMAP_OK) {
		cli_set_reason("config_error");
		cli_error("%s", err != NULL ? err : "cannot load the configuration");
		goto out;
	}
	if (cli_request_fill(&req, o.user, o.upn_hint, o.domain_hint, o.hint_data, &hint) != 0) {
		rc = CLI_USAGE;
		goto out;
	}
	if ((rc = certmap_map(ctx, &req, &a)) != CERTMAP_OK) {
		cli_error("%s", certmap_strerror(rc));
		rc = CLI_USAGE;
		goto out;
	}
	rc = cli_report_answer(a, o.json);
out:
	certmap_answer_free(a);
	certmap_ctx_free(ctx);
	cli_certs_free(&certs);
	free(hint);
	free(err);
	return rc;
}

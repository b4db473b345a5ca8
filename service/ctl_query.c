/*
 * certmapctl query / stats: the same questions as certmapctl test, asked
 * of the running certmapd through the client library. Compiled into
 * certmapctl (cli/); it lives here because it speaks the service's protocol.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certmap.h"
#include "certmap_client.h"
#include "../cli/cli.h"
#include "context.h"
#include "ctl_query.h"

struct query_opts {
	const char *config;
	const char *socket;
	const char *user;
	const char *upn_hint;
	const char *domain_hint;
	unsigned long timeout_s;
	bool json;
};

static int parse_opts(int argc, char **argv, struct query_opts *o, bool want_cert)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "user", required_argument, NULL, 'u' },
		{ "upn-hint", required_argument, NULL, 'U' },
		{ "domain-hint", required_argument, NULL, 'D' },
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end = NULL;
	int c;

	o->timeout_s = 5;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:s:u:t:j", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 's': o->socket = optarg; break;
		case 'u': o->user = optarg; break;
		case 'U': o->upn_hint = optarg; break;
		case 'D': o->domain_hint = optarg; break;
		case 'j': o->json = true; break;
		case 't':
			errno = 0;
			o->timeout_s = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || o->timeout_s < 1 ||
			    o->timeout_s > 3600) {
				cli_error("--timeout must be 1 to 3600 seconds");
				return -1;
			}
			break;
		case 'h':
			printf("Usage: certmapctl %s\n", cli_command_usage);
			exit(CLI_OK);
		default:
			fprintf(stderr, "Usage: certmapctl %s\n", cli_command_usage);
			return -1;
		}
	}
	if (want_cert ? optind >= argc : optind != argc) {
		fprintf(stderr, "Usage: certmapctl %s\n", cli_command_usage);
		return -1;
	}
	return optind;
}

/* --socket, else service.socket of --config (or of the default file), else the default. */
static char *socket_path(const struct query_opts *o)
{
	struct certmap_ctx *ctx = NULL;
	char *path = NULL;

	if (o->socket != NULL) {
		return strdup(o->socket);
	}
	if (certmap_ctx_new(o->config, &ctx, NULL) == CERTMAP_OK) {
		path = strdup(cm_ctx_config(ctx)->service.socket);
		certmap_ctx_free(ctx);
		return path;
	}
	if (o->config != NULL) {
		cli_error("cannot load %s; use --socket", o->config);
		return NULL;
	}
	return strdup(CERTMAP_CLIENT_DEFAULT_SOCKET);
}

static int connect_service(const struct query_opts *o, struct certmap_client **cl)
{
	char *path = socket_path(o);
	int rc;

	if (path == NULL) {
		return CLI_USAGE;
	}
	rc = certmap_client_connect(path, (int)o->timeout_s * 1000, cl);
	if (rc != CERTMAP_OK) {
		cli_error("cannot reach certmapd at %s: %s", path, certmap_strerror(rc));
	}
	free(path);
	return rc == CERTMAP_OK ? CLI_OK : CLI_BACKEND;
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

static void print_text(const struct certmap_answer *a)
{
	enum certmap_verdict v = certmap_answer_verdict(a);

	if (certmap_answer_cert_sha256(a)[0] != '\0') {
		printf("certificate sha256 %s\n", certmap_answer_cert_sha256(a));
	}
	for (size_t i = 0; i < certmap_answer_n_trace(a); i++) {
		const struct certmap_trace_entry *e = certmap_answer_trace(a, i);

		printf("rule %s (priority %d): %s%s%s\n", e->rule, e->priority,
		       e->matched ? "matched" : "not matched", e->note[0] != '\0' ? ": " : "", e->note);
	}
	if (v != CERTMAP_VERDICT_MAPPED) {
		printf("verdict: %s (%s): %s\n", certmap_verdict_name(v),
		       certmap_reason_name(certmap_answer_reason(a)), certmap_answer_message(a));
		return;
	}
	printf("verdict: mapped\n  user:   %s\n  uid:    %u\n  gid:    %u\n  groups: ",
	       certmap_answer_user(a), (unsigned)certmap_answer_uid(a), (unsigned)certmap_answer_gid(a));
	for (size_t i = 0; i < certmap_answer_n_groups(a); i++) {
		printf("%s%s", i > 0 ? "," : "", certmap_answer_group(a, i));
	}
	printf("\n  home:   %s\n  rule:   %s\n  domain: %s\n", certmap_answer_home(a),
	       certmap_answer_rule(a), certmap_answer_domain(a));
}

static int print_answer(const struct certmap_answer *a, bool json)
{
	char *s;

	if (!json) {
		print_text(a);
		return 0;
	}
	if ((s = certmap_answer_to_json(a, true)) == NULL) {
		cli_error("out of memory");
		return -1;
	}
	cli_print_json(json_tokener_parse(s));
	free(s);
	return 0;
}

/* Reads CERT and CHAIN... into req; the buffers go to bufs[0..n]. */
static int read_request(int argc, char **argv, int first, struct certmap_request *req,
			unsigned char **bufs, size_t *lens)
{
	int n = argc - first;

	if (n > 9) {
		cli_error("at most 8 chain certificates");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (cli_read_file(argv[first + i], &bufs[i], &lens[i]) != 0) {
			return -1;
		}
	}
	req->cert = bufs[0];
	req->cert_len = lens[0];
	req->chain = (const unsigned char *const *)&bufs[1];
	req->chain_len = &lens[1];
	req->n_chain = (size_t)n - 1;
	return 0;
}

int cmd_query(int argc, char **argv)
{
	struct query_opts o = { 0 };
	struct certmap_client *cl = NULL;
	struct certmap_answer *a = NULL;
	struct certmap_request req = { 0 };
	unsigned char *bufs[10] = { 0 };
	size_t lens[10] = { 0 };
	int first, rc = CLI_USAGE, r;

	if ((first = parse_opts(argc, argv, &o, true)) < 0) {
		return CLI_USAGE;
	}
	if (read_request(argc, argv, first, &req, bufs, lens) != 0) {
		goto out;
	}
	req.user = o.user;
	req.upn_hint = o.upn_hint;
	req.domain_hint = o.domain_hint;
	req.flags = CERTMAP_REQ_TRACE;
	if ((rc = connect_service(&o, &cl)) != CLI_OK) {
		goto out;
	}
	if ((r = certmap_client_map(cl, &req, &a)) != CERTMAP_OK) {
		cli_error("certmapd: %s", certmap_strerror(r));
		rc = r == CERTMAP_ERR_BACKEND || r == CERTMAP_ERR_SYSTEM ? CLI_BACKEND : CLI_USAGE;
		goto out;
	}
	rc = print_answer(a, o.json) == 0 ? exit_code(a) : CLI_USAGE;
out:
	certmap_answer_free(a);
	certmap_client_free(cl);
	for (size_t i = 0; i < CM_ARRAY_SIZE(bufs); i++) {
		free(bufs[i]);
	}
	return rc;
}

int cmd_stats(int argc, char **argv)
{
	struct query_opts o = { 0 };
	struct certmap_client *cl = NULL;
	json_object *obj = NULL;
	char *json = NULL;
	int rc, r;

	if (parse_opts(argc, argv, &o, false) < 0) {
		return CLI_USAGE;
	}
	if ((rc = connect_service(&o, &cl)) != CLI_OK) {
		goto out;
	}
	if ((r = certmap_client_stats(cl, &json)) != CERTMAP_OK) {
		cli_error("certmapd: %s", certmap_strerror(r));
		rc = CLI_BACKEND;
		goto out;
	}
	obj = json_tokener_parse(json);
	if (o.json) {
		cli_print_json(obj);
		obj = NULL;
	} else {
		json_object_object_foreach(obj, key, v) {
			printf("%-16s %s\n", key, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
		}
	}
	rc = CLI_OK;
out:
	json_object_put(obj);
	free(json);
	certmap_client_free(cl);
	return rc;
}

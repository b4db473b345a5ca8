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
#include "cli.h"
#include "context.h"

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
			exit(cli_usage(true));
		default:
			cli_usage(false);
			return -1;
		}
	}
	if (want_cert ? optind >= argc : optind != argc) {
		cli_usage(false);
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

int cmd_query(int argc, char **argv)
{
	struct query_opts o = { 0 };
	struct certmap_client *cl = NULL;
	struct certmap_answer *a = NULL;
	struct certmap_request req = { 0 };
	struct cli_certs certs = { 0 };
	int first, rc = CLI_USAGE, r;

	if ((first = parse_opts(argc, argv, &o, true)) < 0) {
		return CLI_USAGE;
	}
	if (cli_read_certs(argc, argv, first, &certs, &req) != 0) {
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
	rc = cli_report_answer(a, o.json);
out:
	certmap_answer_free(a);
	certmap_client_free(cl);
	cli_certs_free(&certs);
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

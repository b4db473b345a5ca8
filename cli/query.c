/*
 * certmapctl query / stats: the same questions as certmapctl test, asked
 * of the running certmapd through the client library. Compiled into
 * certmapctl (cli/); it lives here because it speaks the service's protocol.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
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
	const char *server_user;
	const char *user;
	const char *upn_hint;
	const char *domain_hint;
	const char *hint_data;
	unsigned long timeout_s;
	bool json;
};

static int parse_opts(int argc, char **argv, struct query_opts *o, bool want_cert)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "service-user", required_argument, NULL, 'S' },
		{ "user", required_argument, NULL, 'u' },
		{ "upn-hint", required_argument, NULL, 'U' },
		{ "domain-hint", required_argument, NULL, 'D' },
		{ "hint-data", required_argument, NULL, 'H' },
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
		case 'S': o->server_user = optarg; break;
		case 'u': o->user = optarg; break;
		case 'U': o->upn_hint = optarg; break;
		case 'D': o->domain_hint = optarg; break;
		case 'H': o->hint_data = optarg; break;
		case 'j': o->json = true; break;
		case 't':
			errno = 0;
			o->timeout_s = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || o->timeout_s < 1 ||
			    o->timeout_s > 3600) {
				cli_set_reason("usage_error");
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

/* Where certmapd listens and as whom: --socket and --service-user, else
 * service.socket and service.user of --config (or of the default file),
 * else the defaults. */
struct service_addr {
	char *path;
	char *user;
};

static int service_addr(const struct query_opts *o, struct service_addr *sa)
{
	struct certmap_ctx *ctx = NULL;
	const struct cm_service_conf *svc = NULL;
	char *err = NULL;
	int rc = CLI_OK;

	memset(sa, 0, sizeof(*sa));
	if (o->socket == NULL || o->server_user == NULL) {
		if (certmap_ctx_new(o->config, &ctx, &err) == CERTMAP_OK) {
			svc = &cm_ctx_config(ctx)->service;
		} else if (o->config != NULL) {
			cli_set_reason("config_error");
			cli_error("cannot load %s (use --socket): %s", o->config,
				  err != NULL ? err : "invalid configuration");
			rc = CLI_USAGE;
			goto out;
		}
	}
	sa->path = strdup(o->socket != NULL ? o->socket
			  : svc != NULL ? svc->socket : CERTMAP_CLIENT_DEFAULT_SOCKET);
	/* service.user has a default that need not exist where certmapctl runs. */
	if (o->server_user != NULL) {
		sa->user = strdup(o->server_user);
	} else if (svc != NULL && svc->user != NULL && getpwnam(svc->user) != NULL) {
		sa->user = strdup(svc->user);
	}
	if (sa->path == NULL) {
		cli_error("out of memory");
		rc = CLI_USAGE;
	}
out:
	certmap_ctx_free(ctx);
	free(err);
	return rc;
}

/* The exit status and JSON reason of a client library failure. */
static int client_failure(int rc)
{
	switch (rc) {
	case CERTMAP_ERR_NO_SERVICE:
	case CERTMAP_ERR_BACKEND:
		cli_set_reason("backend_unavailable");
		return CLI_BACKEND;
	case CERTMAP_ERR_PERMISSION:
		cli_set_reason("permission_denied");
		return CLI_PERMISSION;
	case CERTMAP_ERR_PEER_REFUSED:
		cli_set_reason("not_allowed");
		return CLI_NOT_ALLOWED;
	case CERTMAP_ERR_UNTRUSTED_PEER:
		cli_set_reason("untrusted_service");
		return CLI_UNTRUSTED;
	case CERTMAP_ERR_SYSTEM:
		cli_set_reason("backend_unavailable");
		return CLI_BACKEND;
	default:
		cli_set_reason("usage_error");
		return CLI_USAGE;
	}
}

static int connect_service(const struct query_opts *o, struct certmap_client **cl)
{
	struct service_addr sa;
	struct certmap_client_options co = { 0 };
	char *msg = NULL;
	int rc;

	if ((rc = service_addr(o, &sa)) != CLI_OK) {
		return rc;
	}
	co.path = sa.path;
	co.server_user = sa.user;
	co.timeout_ms = (int)o->timeout_s * 1000;
	rc = certmap_client_open(&co, cl, &msg);
	if (rc != CERTMAP_OK) {
		cli_error("%s", msg != NULL ? msg : certmap_strerror(rc));
		rc = client_failure(rc);
	}
	free(msg);
	free(sa.path);
	free(sa.user);
	return rc;
}

int cmd_query(int argc, char **argv)
{
	struct query_opts o = { 0 };
	struct certmap_client *cl = NULL;
	struct certmap_answer *a = NULL;
	struct certmap_request req = { 0 };
	struct cli_certs certs = { 0 };
	unsigned char *hint = NULL;
	int first, rc = CLI_USAGE, r;

	if ((first = parse_opts(argc, argv, &o, true)) < 0) {
		return CLI_USAGE;
	}
	cli_json = o.json;
	if (cli_read_certs(argc, argv, first, &certs, &req) != 0) {
		goto out;
	}
	if (cli_request_fill(&req, o.user, o.upn_hint, o.domain_hint, o.hint_data, &hint) != 0) {
		rc = CLI_USAGE;
		goto out;
	}
	if ((rc = connect_service(&o, &cl)) != CLI_OK) {
		goto out;
	}
	if ((r = certmap_client_map(cl, &req, &a)) != CERTMAP_OK) {
		cli_error("%s", certmap_client_message(cl)[0] != '\0' ? certmap_client_message(cl)
								  : certmap_strerror(r));
		rc = client_failure(r);
		goto out;
	}
	rc = cli_report_answer(a, o.json);
out:
	certmap_answer_free(a);
	certmap_client_free(cl);
	cli_certs_free(&certs);
	free(hint);
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
	cli_json = o.json;
	if ((rc = connect_service(&o, &cl)) != CLI_OK) {
		goto out;
	}
	if ((r = certmap_client_stats(cl, &json)) != CERTMAP_OK) {
		cli_error("%s", certmap_client_message(cl)[0] != '\0' ? certmap_client_message(cl)
								  : certmap_strerror(r));
		rc = client_failure(r);
		goto out;
	}
	if ((obj = json_tokener_parse(json)) == NULL) {
		cli_set_reason("backend_unavailable");
		cli_error("certmapd sent statistics that are not JSON");
		rc = CLI_BACKEND;
		goto out;
	}
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

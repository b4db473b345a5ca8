/*
 * certmapctl: the administrator's tool. The command table below is its
 * grammar; each command lives in its own file.
 */
#include "config.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "certmap.h"
#include "cli.h"
#include "x509_libctx.h"

/* The JSON object a command prints when it fails before its own. */
enum json_shape {
	SHAPE_VERDICT, /* {"verdict": "error", "reason", "message"} */
	SHAPE_SHOW,    /* {"error"} */
	SHAPE_EVAL,    /* {"matched": false, "domains": [], "error"} */
	SHAPE_CHECK,   /* {"valid": false, "errors": [...], "error"} */
};

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
	enum json_shape shape;
} commands[] = {
	{ "show", cmd_show, "show [--templates] [--json] CERT", SHAPE_SHOW },
	{ "test", cmd_test,
	  "test [--config FILE] [--user NAME] [--upn-hint UPN] [--domain-hint DOMAIN] [--hint-data HEX] "
	  "[--json] CERT [CHAIN...]",
	  SHAPE_VERDICT },
	{ "eval-rule", cmd_eval_rule,
	  "eval-rule [--match RULE] [--map RULE] [--domains D,...] [--json] CERT", SHAPE_EVAL },
	{ "check-config", cmd_check_config, "check-config [--config FILE] [--json] [--online]", SHAPE_CHECK },
	{ "query", cmd_query,
	  "query [--socket PATH] [--config FILE] [--service-user USER] [--user NAME] [--upn-hint UPN] "
	  "[--domain-hint DOMAIN] [--hint-data HEX] [--timeout SEC] [--json] CERT [CHAIN...]",
	  SHAPE_VERDICT },
	{ "import", cmd_import,
	  "import sssd [--domain NAME] [--output FILE] SSSD_CONF | "
	  "import pam_pkcs11 [--output FILE] PAM_PKCS11_CONF",
	  SHAPE_VERDICT },
	{ "stats", cmd_stats, "stats [--socket PATH] [--config FILE] [--service-user USER] [--json]",
	  SHAPE_VERDICT },
	{ "hint", cmd_hint,
	  "hint decode [--binary] [--json] [HEX | FILE]\n"
	  "  certmapctl hint encode [--upn UPN] [--domain DOMAIN] [--json]", SHAPE_SHOW },
};

bool cli_json;
static bool json_printed;
static char *first_error;
static const char *fail_reason;

void cli_set_reason(const char *reason)
{
	if (fail_reason == NULL) {
		fail_reason = reason;
	}
}

/* The reason of an error object when no step named one. */
static const char *reason_for_exit(int rc)
{
	switch (rc) {
	case CLI_BACKEND: return "backend_unavailable";
	case CLI_PERMISSION: return "permission_denied";
	case CLI_NOT_ALLOWED: return "not_allowed";
	case CLI_UNTRUSTED: return "untrusted_service";
	case CLI_USAGE:
	default: return "usage_error";
	}
}

/* --json and the command failed before printing its own object. */
static void print_json_error(const struct command *cmd, int rc)
{
	const char *msg = first_error != NULL ? first_error : "failed";
	const char *reason = fail_reason != NULL ? fail_reason : reason_for_exit(rc);
	json_object *o = json_object_new_object();

	switch (cmd != NULL ? cmd->shape : SHAPE_VERDICT) {
	case SHAPE_SHOW:
		break;
	case SHAPE_EVAL:
		json_object_object_add(o, "matched", json_object_new_boolean(false));
		json_object_object_add(o, "domains", json_object_new_array());
		break;
	case SHAPE_CHECK:
		json_object_object_add(o, "valid", json_object_new_boolean(false));
		json_object_object_add(o, "errors", json_object_new_array());
		json_object_array_add(json_object_object_get(o, "errors"), json_object_new_string(msg));
		break;
	case SHAPE_VERDICT:
	default:
		json_object_object_add(o, "verdict", json_object_new_string("error"));
		json_object_object_add(o, "reason", json_object_new_string(reason));
		json_object_object_add(o, "message", json_object_new_string(msg));
		cli_print_json(o);
		return;
	}
	json_object_object_add(o, "error", json_object_new_string(msg));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	cli_print_json(o);
}

/* --json anywhere before "--" asks for JSON errors even when the command's
 * own options cannot be parsed; the command sets cli_json from its parse. */
static bool wants_json(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			return true;
		}
	}
	return false;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: certmapctl COMMAND [OPTIONS]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		fprintf(out, "  certmapctl %s\n", commands[i].usage);
	}
	fprintf(out,
		"\nCERT is a PEM or DER file, or - for standard input.\n"
		"The default configuration is %s.\n"
		"Exit status: 0 mapped/valid, 1 refused or not matched, 2 usage,\n"
		"configuration or certificate error, 3 certmapd or a backend unreachable,\n"
		"4 permission denied on the socket, 5 certmapd refused this uid,\n"
		"6 the socket is held by a process that is not certmapd's.\n"
		"With --json every outcome is one JSON object on standard output.\n"
		"See certmapctl(8) and certmap.conf(5).\n",
		certmap_default_config());
}

int cli_usage(bool help)
{
	if (help) {
		/* The usage text is the whole answer to --help. */
		json_printed = true;
		printf("Usage: certmapctl %s\n", cli_command_usage);
		return CLI_OK;
	}
	cli_set_reason("usage_error");
	if (first_error == NULL && asprintf(&first_error, "usage: certmapctl %s", cli_command_usage) < 0) {
		first_error = NULL;
	}
	fprintf(stderr, "Usage: certmapctl %s\n", cli_command_usage);
	return CLI_USAGE;
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	if (first_error == NULL) {
		va_start(ap, fmt);
		if (vasprintf(&first_error, fmt, ap) < 0) {
			first_error = NULL;
		}
		va_end(ap);
	}
	fputs("certmapctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_read_file(const char *path, unsigned char **data, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t n;

	*data = NULL;
	*len = 0;
	if (f == NULL) {
		/* Only certificates are read here: an unreadable one is exit 2. */
		cli_set_reason("invalid_certificate");
		cli_error("%s: %s", path, strerror(errno));
		return -1;
	}
	buf = malloc(CLI_MAX_FILE + 2);
	if (buf == NULL) {
		cli_error("out of memory");
		goto fail;
	}
	n = fread(buf, 1, CLI_MAX_FILE + 1, f);
	if (ferror(f)) {
		cli_error("%s: read error", path);
		goto fail;
	}
	if (n > CLI_MAX_FILE) {
		cli_error("%s: larger than %d bytes", path, CLI_MAX_FILE);
		goto fail;
	}
	if (f != stdin) {
		fclose(f);
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
fail:
	cli_set_reason("invalid_certificate");
	if (f != stdin) {
		fclose(f);
	}
	free(buf);
	return -1;
}

void cli_print_json(struct json_object *o)
{
	if (o == NULL || cm_json_make_utf8(o) != 0) {
		json_object_put(o);
		cli_error("out of memory");
		return;
	}
	json_printed = true;
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						  JSON_C_TO_STRING_SPACED |
						  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static int run(int argc, char **argv, const struct command **found)
{
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		cli_error("no command (try certmapctl --help)");
		return CLI_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		json_printed = true;
		usage(stdout);
		return CLI_OK;
	}
	if (strcmp(cmd, "--version") == 0) {
		json_printed = true;
		printf("certmapctl %s\n", certmap_version());
		return CLI_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(cmd, commands[i].name) == 0) {
			*found = &commands[i];
			cli_command_usage = commands[i].usage;
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	cli_set_reason("usage_error");
	cli_error("unknown command '%s' (try certmapctl --help)", cmd);
	return CLI_USAGE;
}

int main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	int rc;

	cm_x509_libctx_enable();
	cli_json = wants_json(argc, argv);
	rc = run(argc, argv, &cmd);
	if (cli_json && !json_printed) {
		print_json_error(cmd, rc);
	}
	free(first_error);
	return rc;
}

const char *cli_command_usage = "";

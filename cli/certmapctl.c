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

#include "certmap.h"
#include "cli.h"

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
} commands[] = {
	{ "show", cmd_show, "show [--json] CERT" },
	{ "test", cmd_test,
	  "test [--config FILE] [--user NAME] [--upn-hint UPN] [--domain-hint DOMAIN] [--json] CERT [CHAIN...]" },
	{ "eval-rule", cmd_eval_rule,
	  "eval-rule [--match RULE] [--map RULE] [--domains D,...] [--json] CERT" },
	{ "check-config", cmd_check_config, "check-config [--config FILE] [--json]" },
	{ "query", cmd_query,
	  "query [--socket PATH] [--config FILE] [--user NAME] [--upn-hint UPN] [--domain-hint DOMAIN] "
	  "[--timeout SEC] [--json] CERT [CHAIN...]" },
	{ "stats", cmd_stats, "stats [--socket PATH] [--config FILE] [--json]" },
};

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
		"configuration or certificate error, 3 backend unreachable.\n"
		"See certmapctl(8) and certmap.conf(5).\n",
		certmap_default_config());
}

int cli_usage(bool help)
{
	fprintf(help ? stdout : stderr, "Usage: certmapctl %s\n", cli_command_usage);
	return help ? CLI_OK : CLI_USAGE;
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

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
	if (f != stdin) {
		fclose(f);
	}
	free(buf);
	return -1;
}

void cli_print_json(struct json_object *o)
{
	if (o == NULL) {
		cli_error("out of memory");
		return;
	}
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						  JSON_C_TO_STRING_SPACED |
						  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return CLI_OK;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("certmapctl %s\n", certmap_version());
		return CLI_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(cmd, commands[i].name) == 0) {
			cli_command_usage = commands[i].usage;
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	cli_error("unknown command '%s' (try certmapctl --help)", cmd);
	return CLI_USAGE;
}

const char *cli_command_usage = "";

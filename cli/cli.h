/* certmapctl: shared declarations of the command implementations. */
#ifndef CERTMAP_CLI_H
#define CERTMAP_CLI_H

#include <stdbool.h>
#include <stddef.h>

/* Exit codes (certmapctl(8)). */
enum {
	CLI_OK = 0,
	CLI_REFUSED = 1,
	CLI_USAGE = 2,
	CLI_BACKEND = 3,    /* certmapd or an account backend cannot be reached */
	CLI_PERMISSION = 4, /* this user may not open certmapd's socket */
	CLI_NOT_ALLOWED = 5, /* certmapd refused this uid (service.allowed_uids/gids) */
	CLI_UNTRUSTED = 6,  /* the socket is held by a process that is not certmapd's */
};

/*
 * --json: every outcome is one JSON object on stdout. A command that fails
 * before it prints its own object leaves it to main(), which prints the
 * command's error shape with the first cli_error() message and the reason
 * of cli_set_reason() (see certmapctl(8)).
 */
extern bool cli_json;
/* A reason code for the error object ("config_error", ...); static string. */
void cli_set_reason(const char *reason);

/* Maximum size of a certificate file read from disk. */
#define CLI_MAX_FILE (1024 * 1024)

int cmd_show(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_eval_rule(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
/* certmapctl query [--socket S] [--config F] [--user U] [--upn-hint U
 * --domain-hint D] [--timeout SEC] [--json] CERT [CHAIN...]: exit codes as
 * certmapctl test, 3 when the service cannot be reached (cli/query.c). */
int cmd_query(int argc, char **argv);
/* certmapctl stats [--socket S] [--config F] [--json]: 0, or 3 unreachable. */
int cmd_stats(int argc, char **argv);
/* certmapctl hint decode|encode (RFC 4681 user-mapping data): 0, or 2 when
 * the input is malformed (cli/hint.c). */
int cmd_hint(int argc, char **argv);
/* certmapctl import sssd|pam_pkcs11 ...: writes a certmap.conf; 0, 1 when
 * something that affects mapping was left out, 2 (cli/import_common.c). */
int cmd_import(int argc, char **argv);

/* Reads a whole file (at most CLI_MAX_FILE bytes); prints an error and
 * returns -1 on failure. "-" reads standard input. */
int cli_read_file(const char *path, unsigned char **data, size_t *len);
/* Hex text (spaces allowed) to malloc'd bytes, for --hint-data: the raw
 * RFC 4681 UserMappingDataList. Prints an error and returns -1 on failure;
 * *data is then NULL or to be freed by the caller. */
int cli_hint_hex_arg(const char *arg, unsigned char **data, size_t *len);
/* Prints "certmapctl: <fmt>\n" to stderr (and keeps the first for --json). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints one JSON value (and a newline) to stdout, every string made valid
 * UTF-8 first; frees it. */
struct json_object;
void cli_print_json(struct json_object *o);

extern const char *cli_command_usage;

/* Prints the running command's usage line: for --help to stdout (returns
 * CLI_OK), for a usage error to stderr (returns CLI_USAGE). */
int cli_usage(bool help);

/* The certificate and chain files of test and query. */
#define CLI_MAX_CERTS 9
struct cli_certs {
	unsigned char *data[CLI_MAX_CERTS];
	size_t len[CLI_MAX_CERTS];
};
struct certmap_request;
struct certmap_answer;

/* Reads argv[first..argc) (certificate, then chain) into c and points req
 * at them. Prints an error and returns -1 on failure. */
int cli_read_certs(int argc, char **argv, int first, struct cli_certs *c,
		   struct certmap_request *req);
void cli_certs_free(struct cli_certs *c);
/* Fills the request's requested user and RFC 4681 hint (strings, or raw
 * bytes from hint_hex) and asks for a trace. The decoded bytes are stored
 * in *hint_buf, which the caller frees after the request. Prints an error
 * and returns -1 on failure. */
int cli_request_fill(struct certmap_request *req, const char *user, const char *upn_hint,
		     const char *domain_hint, const char *hint_hex, unsigned char **hint_buf);
/* Prints an answer (text with trace, or JSON) and returns the exit status
 * it gives: 0 mapped, 1 refused, 2 certificate or config error, 3 backend. */
int cli_report_answer(const struct certmap_answer *a, bool json);

#endif

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
	CLI_BACKEND = 3,
};

/* Maximum size of a certificate file read from disk. */
#define CLI_MAX_FILE (1024 * 1024)

int cmd_show(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_eval_rule(int argc, char **argv);
int cmd_check_config(int argc, char **argv);

/* Reads a whole file (at most CLI_MAX_FILE bytes); prints an error and
 * returns -1 on failure. "-" reads standard input. */
int cli_read_file(const char *path, unsigned char **data, size_t *len);
/* Prints "certmapctl: <fmt>\n" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints one JSON value (and a newline) to stdout; frees it. */
struct json_object;
void cli_print_json(struct json_object *o);

extern const char *cli_command_usage;

#endif

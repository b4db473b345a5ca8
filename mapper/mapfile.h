/*
 * Map files for MAPFILE: rules. Each line is
 *	"key" user[,user...]
 * with '#' comments and blank lines allowed. Keys are quoted and compared
 * byte for byte; inside the quotes \" and \\ stand for " and \ (any other
 * backslash is an error). A key may hold any byte but NUL and newline.
 * Users are separated by commas (white space around them allowed); each
 * must be a valid user name (non-empty, at most 256 bytes, no '/', ':',
 * ',', white space or control byte, no leading '-' or '+'). A '#' at the
 * start of a line or after white space starts a comment.
 * A key listed on several lines maps to the union of their users, in file
 * order, each user once.
 * A file is read and checked once, when the configuration is loaded.
 */
#ifndef CERTMAP_MAPFILE_H
#define CERTMAP_MAPFILE_H

#include <stddef.h>

#include "util.h"

#define CM_MAPFILE_MAX_SIZE (16 * 1024 * 1024)
#define CM_MAPFILE_MAX_LINE 8192

struct cm_mapfile;

/* Reads (with cm_file_read: a regular file of at most CM_MAPFILE_MAX_SIZE
 * bytes that only root or the reader can change) and parses path.
 * Returns 0, or CERTMAP_ERR_IO / _CONFIG / _TOO_LARGE
 * with a malloc'd "path:line: what is wrong" in *errmsg. */
int cm_mapfile_load(const char *path, struct cm_mapfile **out, char **errmsg);
/* Parses a buffer; name is used in error messages. */
int cm_mapfile_parse(const char *data, size_t len, const char *name,
		     struct cm_mapfile **out, char **errmsg);
void cm_mapfile_free(struct cm_mapfile *mf);

/* Appends the users listed for key to out (nothing when the key is absent).
 * Returns 0 or CERTMAP_ERR_NOMEM. */
int cm_mapfile_lookup(const struct cm_mapfile *mf, const char *key,
		      size_t key_len, struct cm_strv *out);

#endif

/* Helpers shared by the unit tests. */
#ifndef CERTMAP_TESTLIB_H
#define CERTMAP_TESTLIB_H

#include <stddef.h>

#include "identity.h"

/* "$CERTMAP_TEST_CERTS/name" (malloc'd); aborts when the variable is unset. */
char *cmt_cert_path(const char *name);
/* Reads a whole file; returns 0 or -1. *data is malloc'd and NUL-terminated. */
int cmt_read_file(const char *path, unsigned char **data, size_t *len);
/* Parses $CERTMAP_TEST_CERTS/name; aborts the test program on failure. */
struct cm_identity *cmt_load_identity(const char *name);
/* A fresh empty directory under $CERTMAP_BUILDDIR/tests/tmp (malloc'd). */
char *cmt_tmpdir(const char *tag);
/* Writes data to dir/name; returns the malloc'd path. */
char *cmt_write_file(const char *dir, const char *name, const char *data);

#endif

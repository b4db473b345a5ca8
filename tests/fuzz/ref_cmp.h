/*
 * Field-by-field comparison of certmap's parse with the reference's, shared
 * by the differential fuzzers: any difference aborts with its name.
 */
#ifndef CERTMAP_REF_CMP_H
#define CERTMAP_REF_CMP_H

#include <stddef.h>

#include "identity.h"

/* Reports what differs on stderr and aborts (a fuzzer finding). */
void ref_differ(const char *what) __attribute__((noreturn));
void ref_cmp_bytes(const void *a, size_t alen, const void *b, size_t blen, const char *what);
void ref_cmp_str(const char *a, const char *b, const char *what);
void ref_cmp_value(const struct cm_value *a, const struct cm_value *b, const char *what);
void ref_cmp_name(const struct cm_name *a, const struct cm_name *b);

#endif

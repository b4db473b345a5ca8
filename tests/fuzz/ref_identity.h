/*
 * The reference certificate parser (full d2i_X509), only for the
 * differential fuzzer: see ref_identity.c.
 */
#ifndef CERTMAP_REF_IDENTITY_H
#define CERTMAP_REF_IDENTITY_H

#include <stddef.h>

#include "identity.h"

/*
 * Parses one DER certificate (no PEM, no trailing bytes) with d2i_X509
 * into *out (free with cm_identity_free). Returns 0 or a certmap_err.
 */
int ref_identity_parse(const unsigned char *der, size_t len, struct cm_identity **out);

#endif

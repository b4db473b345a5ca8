/* Internal view of a context, for the service and tests in this tree. */
#ifndef CERTMAP_CONTEXT_H
#define CERTMAP_CONTEXT_H

#include "certmap.h"
#include "conf.h"

/* The loaded configuration behind a context (owned by the context). */
const struct cm_config *cm_ctx_config(const struct certmap_ctx *ctx);

#endif

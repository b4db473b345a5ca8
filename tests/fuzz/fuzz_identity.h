/*
 * Helpers for the fuzz targets that evaluate rules against a hand-built
 * identity (fuzz_match.c, fuzz_map.c): a value set from bytes that may
 * hold NULs, a SAN whose text and raw forms are those bytes, and the
 * input as rule text. Setting up a fixed identity never fails, so an
 * error aborts.
 */
#ifndef CERTMAP_FUZZ_IDENTITY_H
#define CERTMAP_FUZZ_IDENTITY_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

static inline void fuzz_set(struct cm_value *v, const char *s, size_t len)
{
	if (cm_value_set_text(v, s, len) != 0) {
		abort();
	}
}

static inline void fuzz_san(struct cm_san *san, enum cm_san_type type, enum cm_other_kind kind,
			    const char *text, size_t len)
{
	san->type = type;
	san->other_kind = kind;
	fuzz_set(&san->text, text, len);
	fuzz_set(&san->raw, text, len);
}

/* The input as a NUL-terminated rule, or NULL when it is longer than a
 * rule may be (or out of memory). */
static inline char *fuzz_rule_text(const uint8_t *data, size_t size)
{
	char *rule;

	if (size > CM_RULE_MAX_LEN + 16 || (rule = malloc(size + 1)) == NULL) {
		return NULL;
	}
	memcpy(rule, data, size);
	rule[size] = '\0';
	return rule;
}

#endif

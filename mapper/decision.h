/*
 * The decision (DESIGN.md "The mapping model", steps 6 and 7): priority
 * levels from 0 down, every matching rule of a level contributes
 * candidates, accounts are looked up and filtered, then the requested
 * name, a hint or uniqueness picks the account.
 */
#ifndef CERTMAP_DECISION_H
#define CERTMAP_DECISION_H

#include "answer.h"
#include "certcache.h"
#include "certmap.h"

/* Limits on request strings from outside the process. */
#define CM_MAX_USER_LEN 256
#define CM_MAX_UPN_HINT_LEN 1024
#define CM_MAX_DOMAIN_HINT_LEN 255
#define CM_MAX_CHAIN 16
/* Cap on candidates gathered at one priority level. */
#define CM_MAX_CANDIDATES 256

/*
 * Decides for a parsed, verified certificate (its rules are evaluated on
 * first use, see certcache.h) and fills a. Returns 0 (the verdict is in a)
 * or CERTMAP_ERR_NOMEM.
 */
int cm_decide(struct cm_cert_entry *cert, const struct certmap_request *req,
	      struct certmap_answer *a);

/* Checks a hint string: printable UTF-8, no control bytes, bounded. */
bool cm_hint_valid(const char *s, size_t max);

#endif

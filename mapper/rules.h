/*
 * The rule language of sss-certmap(5): matching rules ("<ISSUER>...&&<EKU>...")
 * and mapping rules (LDAP:, LDAPU1:, and certmap's LOCAL: and MAPFILE:).
 * Parsing is done once, when the configuration is loaded; evaluation works
 * on a parsed identity and never changes it.
 */
#ifndef CERTMAP_RULES_H
#define CERTMAP_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "identity.h"
#include "util.h"

/* Limits on rule text, enforced by the parsers. */
#define CM_RULE_MAX_LEN 4096

#define CM_DEFAULT_MATCH "<KU>digitalSignature<EKU>clientAuth"
#define CM_DEFAULT_MAP "LDAP:(userCertificate;binary={cert!bin})"

struct cm_match;   /* a compiled matching rule */
struct cm_map;     /* a compiled mapping rule */

enum cm_map_kind {
	CM_MAP_LDAP = 0,   /* "LDAP:" or no prefix */
	CM_MAP_LDAPU1,
	CM_MAP_LOCAL,
	CM_MAP_MAPFILE,
};

/*
 * Compiles a matching rule. NULL or "" means the default matching rule.
 * Returns 0 and *out, or CERTMAP_ERR_RULE with a malloc'd message in
 * *errmsg that points at the bad part.
 */
int cm_match_parse(const char *text, struct cm_match **out, char **errmsg);
void cm_match_free(struct cm_match *m);

/*
 * Evaluates a matching rule. Returns true on a match. When why is not
 * NULL and the rule does not match, a short sentence saying which
 * component failed is appended to it.
 */
bool cm_match_eval(const struct cm_match *m, const struct cm_identity *id,
		   struct cm_buf *why);

/* Compiles a mapping rule. NULL or "" means the default mapping rule. */
int cm_map_parse(const char *text, struct cm_map **out, char **errmsg);
void cm_map_free(struct cm_map *m);
enum cm_map_kind cm_map_kind(const struct cm_map *m);
/* For MAPFILE: the file path; NULL for other kinds. */
const char *cm_map_file(const struct cm_map *m);

/*
 * Expands a mapping rule for a certificate.
 * LDAP/LDAPU1: exactly one string, the search filter, byte for byte as
 *   sss_certmap_get_search_filter() builds it.
 * LOCAL: one user name per value of a multi-valued field (invalid names are
 *   dropped, with a note appended to why).
 * MAPFILE: one key per value; the caller looks the keys up.
 * Returns 0 with at least one string in out, CERTMAP_ERR_NOT_FOUND when a
 * needed field is absent or unusable (why says which), CERTMAP_ERR_TOO_LARGE
 * when a LOCAL:/MAPFILE: rule would give more than 64 names, or another error.
 */
int cm_map_expand(const struct cm_map *m, const struct cm_identity *id,
		  struct cm_strv *out, struct cm_buf *why);

/* RFC 4515 filter-value escaping exactly as SSSD does it (also escapes
 * space, TAB, CR, LF; lower-case hex). Appends to b. */
void cm_ldap_escape(struct cm_buf *b, const unsigned char *p, size_t len);

/* Whether s (len bytes) is acceptable as a user name (no '/', ':', control
 * bytes, leading '-' or '+', not empty, bounded length). */
bool cm_username_valid(const char *s, size_t len);

#endif

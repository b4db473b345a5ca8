/*
 * Building answers (struct certmap_answer) inside the library: the
 * verdict, the mapped account, and the trace of every rule considered.
 */
#ifndef CERTMAP_ANSWER_H
#define CERTMAP_ANSWER_H

#include <stdint.h>

#include "backend.h"
#include "certmap.h"
#include "util.h"

struct certmap_answer {
	enum certmap_verdict verdict;
	enum certmap_reason reason;
	char *message;
	struct cm_account account;   /* valid when mapped */
	char *rule;
	char *domain;
	char cert_sha256[65];
	struct certmap_trace_entry *trace;
	size_t n_trace;
	size_t trace_alloc;
	/* Seconds since the epoch from which this answer may no longer hold
	 * by time alone (the certificate's notAfter, a CRL's nextUpdate ...);
	 * INT64_MAX when time cannot change it. */
	int64_t valid_until;
};

struct certmap_answer *cm_answer_new(void);

/* For caches of answers (certmapd): a cached copy of a must not be used
 * at or after this time (seconds since the epoch; INT64_MAX: no limit). */
int64_t cm_answer_valid_until(const struct certmap_answer *a);

/* Adds a trace entry; returns its index, or -1 when out of memory. */
long cm_answer_trace_add(struct certmap_answer *a, const char *rule,
			 int priority, bool matched, const char *note);
/* Adds a candidate to trace entry i. Returns 0 or -1. */
int cm_answer_candidate_add(struct certmap_answer *a, long i, const char *user,
			    const char *domain, const char *status,
			    const char *note);

/* Sets a refusal (or ambiguous / error, by reason). Returns 0 or -1. */
int cm_answer_refuse(struct certmap_answer *a, enum certmap_reason reason,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Sets the mapped verdict; takes over acct's contents. Returns 0 or -1. */
int cm_answer_set_mapped(struct certmap_answer *a, struct cm_account *acct,
			 const char *rule, const char *domain);

/*
 * Makes every string (and member name) in o valid UTF-8 without NUL, in
 * place, \x-quoting the bytes that are not (cm_utf8_sanitize), so that the
 * JSON text json-c writes for o is valid. Returns 0, or -1 when out of
 * memory.
 */
struct json_object;
int cm_json_make_utf8(struct json_object *o);

/* certmap_answer_to_json through json-c's objects, which it uses for a
 * trace; without one it writes the same text itself (test_decision). */
char *cm_answer_to_json_c(const struct certmap_answer *a, bool with_trace);

/* The message of a mapped answer whose identity JSON cannot carry. */
#define CM_ANSWER_NOT_UTF8 \
	"the account's name, home, groups, rule or domain is not valid UTF-8 and cannot be sent as JSON"

#endif

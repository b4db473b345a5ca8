/*
 * The client side of the answer: the service's JSON back into a struct
 * certmap_answer, so that callers read socket answers and in-process
 * answers with the same accessors. The reply is checked as strictly as a
 * request: a missing or mistyped field is a protocol error, never a guess.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "answer_parse.h"

/* Candidate statuses are static strings in an answer. */
/* What decision.c writes (certmap.h, struct certmap_candidate); any other
 * status reads as "unknown". */
static const char *const candidate_statuses[] = {
	"kept", "no_account", "uid_refused", "duplicate", "dropped", "sid_mismatch",
};

static const char *get_str(json_object *o, const char *key, bool required, bool *bad)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
		*bad = *bad || required;
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string) ||
	    strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v)) {
		*bad = true;
		return NULL;
	}
	return json_object_get_string(v);
}

static int64_t get_int(json_object *o, const char *key, int64_t max, bool *bad)
{
	json_object *v = NULL;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int)) {
		*bad = true;
		return -1;
	}
	n = json_object_get_int64(v);
	if (n < 0 || n > max) {
		*bad = true;
	}
	return n;
}

static int parse_verdict(const char *s, enum certmap_verdict *v)
{
	static const enum certmap_verdict all[] = {
		CERTMAP_VERDICT_MAPPED, CERTMAP_VERDICT_REFUSED,
		CERTMAP_VERDICT_AMBIGUOUS, CERTMAP_VERDICT_ERROR,
	};

	for (size_t i = 0; s != NULL && i < CM_ARRAY_SIZE(all); i++) {
		if (strcmp(s, certmap_verdict_name(all[i])) == 0) {
			*v = all[i];
			return 0;
		}
	}
	return -1;
}

static int parse_reason(const char *s, enum certmap_reason *r)
{
	for (int i = CERTMAP_REASON_NONE + 1; s != NULL && i < CERTMAP_REASON__MAX; i++) {
		if (strcmp(s, certmap_reason_name((enum certmap_reason)i)) == 0) {
			*r = (enum certmap_reason)i;
			return 0;
		}
	}
	return -1;
}

static int parse_mapped(json_object *p, struct certmap_answer *a)
{
	struct cm_account acct = { 0 };
	json_object *groups = NULL;
	const char *user, *home, *rule, *domain;
	bool bad = false;
	int rv = CERTMAP_ERR_PROTOCOL;

	/* A certificate-only identity (a domain of type certificate) comes
	 * without uid, gid and home, all three: it is never an account. */
	acct.no_account = !json_object_object_get_ex(p, "uid", NULL) &&
			  !json_object_object_get_ex(p, "gid", NULL) &&
			  !json_object_object_get_ex(p, "home", NULL);
	user = get_str(p, "user", true, &bad);
	rule = get_str(p, "rule", true, &bad);
	domain = get_str(p, "domain", true, &bad);
	if (acct.no_account) {
		home = NULL;
		acct.uid = (uid_t)-1;
		acct.gid = (gid_t)-1;
	} else {
		home = get_str(p, "home", true, &bad);
		acct.uid = (uid_t)get_int(p, "uid", UINT32_MAX - 1, &bad);
		acct.gid = (gid_t)get_int(p, "gid", UINT32_MAX - 1, &bad);
	}
	if (bad || !json_object_object_get_ex(p, "groups", &groups) ||
	    !json_object_is_type(groups, json_type_array)) {
		goto out;
	}
	rv = CERTMAP_ERR_NOMEM;
	if ((acct.name = strdup(user)) == NULL ||
	    (home != NULL && (acct.home = strdup(home)) == NULL)) {
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(groups); i++) {
		json_object *g = json_object_array_get_idx(groups, i);

		if (!json_object_is_type(g, json_type_string)) {
			rv = CERTMAP_ERR_PROTOCOL;
			goto out;
		}
		if (cm_strv_add(&acct.groups, json_object_get_string(g)) != 0) {
			goto out;
		}
	}
	if (cm_answer_set_mapped(a, &acct, rule, domain) != 0) {
		goto out;
	}
	rv = 0;
out:
	cm_account_clear(&acct);
	return rv;
}

static int parse_candidate(json_object *c, struct certmap_answer *a, long idx)
{
	const char *user, *domain, *status, *note, *st = "unknown";
	bool bad = false;

	user = get_str(c, "user", true, &bad);
	domain = get_str(c, "domain", true, &bad);
	status = get_str(c, "status", true, &bad);
	note = get_str(c, "note", false, &bad);
	if (bad) {
		return CERTMAP_ERR_PROTOCOL;
	}
	for (size_t i = 0; i < CM_ARRAY_SIZE(candidate_statuses); i++) {
		if (strcmp(status, candidate_statuses[i]) == 0) {
			st = candidate_statuses[i];
		}
	}
	return cm_answer_candidate_add(a, idx, user, domain, st, note) == 0 ? 0 : CERTMAP_ERR_NOMEM;
}

static int parse_trace_entry(json_object *e, struct certmap_answer *a)
{
	json_object *matched = NULL, *cands = NULL;
	const char *rule, *note;
	bool bad = false;
	int64_t prio;
	long idx;
	int rv;

	rule = get_str(e, "rule", true, &bad);
	note = get_str(e, "note", true, &bad);
	prio = get_int(e, "priority", INT32_MAX, &bad);
	if (bad || !json_object_object_get_ex(e, "matched", &matched) ||
	    !json_object_is_type(matched, json_type_boolean) ||
	    !json_object_object_get_ex(e, "candidates", &cands) ||
	    !json_object_is_type(cands, json_type_array)) {
		return CERTMAP_ERR_PROTOCOL;
	}
	idx = cm_answer_trace_add(a, rule, (int)prio, json_object_get_boolean(matched), note);
	if (idx < 0) {
		return CERTMAP_ERR_NOMEM;
	}
	for (size_t k = 0; k < json_object_array_length(cands); k++) {
		if ((rv = parse_candidate(json_object_array_get_idx(cands, k), a, idx)) != 0) {
			return rv;
		}
	}
	return 0;
}

static int parse_trace(json_object *p, struct certmap_answer *a)
{
	json_object *t = NULL;
	int rv;

	if (!json_object_object_get_ex(p, "trace", &t)) {
		return 0;
	}
	if (!json_object_is_type(t, json_type_array)) {
		return CERTMAP_ERR_PROTOCOL;
	}
	for (size_t i = 0; i < json_object_array_length(t); i++) {
		json_object *e = json_object_array_get_idx(t, i);

		if (!json_object_is_type(e, json_type_object)) {
			return CERTMAP_ERR_PROTOCOL;
		}
		if ((rv = parse_trace_entry(e, a)) != 0) {
			return rv;
		}
	}
	return 0;
}

static int parse_refusal(json_object *p, struct certmap_answer *a, enum certmap_verdict v)
{
	enum certmap_reason r = CERTMAP_REASON_NONE;
	const char *msg;
	bool bad = false;

	msg = get_str(p, "message", true, &bad);
	if (bad || parse_reason(get_str(p, "reason", true, &bad), &r) != 0 || bad) {
		return CERTMAP_ERR_PROTOCOL;
	}
	if (cm_answer_refuse(a, r, "%s", msg) != 0) {
		return CERTMAP_ERR_NOMEM;
	}
	a->verdict = v;  /* the service's verdict, as it decided it */
	return 0;
}

int cm_answer_from_json(json_object *params, struct certmap_answer **out)
{
	struct certmap_answer *a = NULL;
	enum certmap_verdict v = CERTMAP_VERDICT_ERROR;
	const char *sha;
	bool bad = false;
	int rv = CERTMAP_ERR_PROTOCOL;

	*out = NULL;
	if (params == NULL || !json_object_is_type(params, json_type_object) ||
	    parse_verdict(get_str(params, "verdict", true, &bad), &v) != 0) {
		goto out;
	}
	sha = get_str(params, "cert_sha256", false, &bad);
	if (bad || (sha != NULL && strlen(sha) >= sizeof(a->cert_sha256))) {
		goto out;
	}
	if ((a = cm_answer_new()) == NULL) {
		rv = CERTMAP_ERR_NOMEM;
		goto out;
	}
	if (sha != NULL) {
		memcpy(a->cert_sha256, sha, strlen(sha) + 1);
	}
	rv = v == CERTMAP_VERDICT_MAPPED ? parse_mapped(params, a) : parse_refusal(params, a, v);
	if (rv == 0) {
		rv = parse_trace(params, a);
	}
	if (rv != 0) {
		goto out;
	}
	*out = a;
	a = NULL;
out:
	certmap_answer_free(a);
	return rv;
}

/* Answers: construction inside the library and the public accessors. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"

static const char *const verdict_names[] = {
	[CERTMAP_VERDICT_MAPPED] = "mapped",
	[CERTMAP_VERDICT_REFUSED] = "refused",
	[CERTMAP_VERDICT_AMBIGUOUS] = "ambiguous",
	[CERTMAP_VERDICT_ERROR] = "error",
};

static const char *const reason_names[CERTMAP_REASON__MAX] = {
	[CERTMAP_REASON_NONE] = "",
	[CERTMAP_REASON_NO_RULE_MATCHED] = "no_rule_matched",
	[CERTMAP_REASON_NO_ACCOUNT] = "no_account",
	[CERTMAP_REASON_AMBIGUOUS] = "ambiguous",
	[CERTMAP_REASON_NOT_CANDIDATE] = "not_candidate",
	[CERTMAP_REASON_UNTRUSTED] = "untrusted",
	[CERTMAP_REASON_EXPIRED] = "expired",
	[CERTMAP_REASON_NOT_YET_VALID] = "not_yet_valid",
	[CERTMAP_REASON_REVOKED] = "revoked",
	[CERTMAP_REASON_EKU_MISSING] = "eku_missing",
	[CERTMAP_REASON_KEY_TOO_SMALL] = "key_too_small",
	[CERTMAP_REASON_UID_REFUSED] = "uid_refused",
	[CERTMAP_REASON_INVALID_CERTIFICATE] = "invalid_certificate",
	[CERTMAP_REASON_HINT_INVALID] = "hint_invalid",
	[CERTMAP_REASON_BACKEND_UNAVAILABLE] = "backend_unavailable",
	[CERTMAP_REASON_CONFIG_ERROR] = "config_error",
	[CERTMAP_REASON_SID_MISMATCH] = "sid_mismatch",
};

const char *certmap_verdict_name(enum certmap_verdict v)
{
	if ((unsigned)v >= CM_ARRAY_SIZE(verdict_names)) {
		return "error";
	}
	return verdict_names[v];
}

const char *certmap_reason_name(enum certmap_reason r)
{
	if ((unsigned)r >= CERTMAP_REASON__MAX) {
		return "";
	}
	return reason_names[r];
}

struct certmap_answer *cm_answer_new(void)
{
	struct certmap_answer *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		return NULL;
	}
	/* Default deny: an answer is a refusal until the decision maps it. */
	a->verdict = CERTMAP_VERDICT_ERROR;
	a->reason = CERTMAP_REASON_CONFIG_ERROR;
	a->valid_until = INT64_MAX;
	return a;
}

int64_t cm_answer_valid_until(const struct certmap_answer *a)
{
	return a != NULL ? a->valid_until : INT64_MAX;
}

long cm_answer_trace_add(struct certmap_answer *a, const char *rule,
			 int priority, bool matched, const char *note)
{
	struct certmap_trace_entry *e;

	if (a->n_trace == a->trace_alloc) {
		size_t n = a->trace_alloc == 0 ? 8 : a->trace_alloc * 2;
		struct certmap_trace_entry *t = realloc(a->trace, n * sizeof(*t));

		if (t == NULL) {
			return -1;
		}
		a->trace = t;
		a->trace_alloc = n;
	}
	e = &a->trace[a->n_trace];
	memset(e, 0, sizeof(*e));
	e->rule = strdup(rule);
	e->note = strdup(note != NULL ? note : "");
	e->priority = priority;
	e->matched = matched;
	if (e->rule == NULL || e->note == NULL) {
		free((char *)e->rule);
		free((char *)e->note);
		return -1;
	}
	return (long)a->n_trace++;
}

int cm_answer_candidate_add(struct certmap_answer *a, long i, const char *user,
			    const char *domain, const char *status, const char *note)
{
	struct certmap_trace_entry *e = &a->trace[i];
	struct certmap_candidate *c;

	c = realloc((void *)e->candidates, (e->n_candidates + 1) * sizeof(*c));
	if (c == NULL) {
		return -1;
	}
	e->candidates = c;
	c = &c[e->n_candidates];
	c->user = strdup(user);
	c->domain = strdup(domain != NULL ? domain : "");
	c->status = status;  /* static */
	c->note = note != NULL ? strdup(note) : NULL;
	if (c->user == NULL || c->domain == NULL || (note != NULL && c->note == NULL)) {
		free((char *)c->user);
		free((char *)c->domain);
		free((char *)c->note);
		return -1;
	}
	e->n_candidates++;
	return 0;
}

int cm_answer_refuse(struct certmap_answer *a, enum certmap_reason reason,
		     const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		return -1;
	}
	free(a->message);
	a->message = msg;
	a->reason = reason;
	switch (reason) {
	case CERTMAP_REASON_AMBIGUOUS:
		a->verdict = CERTMAP_VERDICT_AMBIGUOUS;
		break;
	case CERTMAP_REASON_BACKEND_UNAVAILABLE:
	case CERTMAP_REASON_CONFIG_ERROR:
		a->verdict = CERTMAP_VERDICT_ERROR;
		break;
	case CERTMAP_REASON_NONE:
	case CERTMAP_REASON_NO_RULE_MATCHED:
	case CERTMAP_REASON_NO_ACCOUNT:
	case CERTMAP_REASON_NOT_CANDIDATE:
	case CERTMAP_REASON_UNTRUSTED:
	case CERTMAP_REASON_EXPIRED:
	case CERTMAP_REASON_NOT_YET_VALID:
	case CERTMAP_REASON_REVOKED:
	case CERTMAP_REASON_EKU_MISSING:
	case CERTMAP_REASON_KEY_TOO_SMALL:
	case CERTMAP_REASON_UID_REFUSED:
	case CERTMAP_REASON_SID_MISMATCH:
	case CERTMAP_REASON_INVALID_CERTIFICATE:
	case CERTMAP_REASON_HINT_INVALID:
	case CERTMAP_REASON__MAX:
	default:
		a->verdict = CERTMAP_VERDICT_REFUSED;
		break;
	}
	return 0;
}

int cm_answer_set_mapped(struct certmap_answer *a, struct cm_account *acct,
			 const char *rule, const char *domain)
{
	char *r = strdup(rule), *d = strdup(domain), *m = strdup("");

	if (r == NULL || d == NULL || m == NULL) {
		free(r);
		free(d);
		free(m);
		return -1;
	}
	cm_account_clear(&a->account);
	a->account = *acct;
	memset(acct, 0, sizeof(*acct));
	free(a->rule);
	free(a->domain);
	free(a->message);
	a->rule = r;
	a->domain = d;
	a->message = m;
	a->verdict = CERTMAP_VERDICT_MAPPED;
	a->reason = CERTMAP_REASON_NONE;
	return 0;
}

void certmap_answer_free(struct certmap_answer *a)
{
	if (a == NULL) {
		return;
	}
	for (size_t i = 0; i < a->n_trace; i++) {
		struct certmap_trace_entry *e = &a->trace[i];

		for (size_t k = 0; k < e->n_candidates; k++) {
			free((char *)e->candidates[k].user);
			free((char *)e->candidates[k].domain);
			free((char *)e->candidates[k].note);
		}
		free((void *)e->candidates);
		free((char *)e->rule);
		free((char *)e->note);
	}
	free(a->trace);
	cm_account_clear(&a->account);
	free(a->rule);
	free(a->domain);
	free(a->message);
	free(a);
}

static bool mapped(const struct certmap_answer *a)
{
	return a != NULL && a->verdict == CERTMAP_VERDICT_MAPPED;
}

enum certmap_verdict certmap_answer_verdict(const struct certmap_answer *a)
{
	return a != NULL ? a->verdict : CERTMAP_VERDICT_ERROR;
}

enum certmap_reason certmap_answer_reason(const struct certmap_answer *a)
{
	return a != NULL ? a->reason : CERTMAP_REASON_CONFIG_ERROR;
}

const char *certmap_answer_message(const struct certmap_answer *a)
{
	return a != NULL && a->message != NULL ? a->message : "";
}

const char *certmap_answer_user(const struct certmap_answer *a)
{
	return mapped(a) ? a->account.name : NULL;
}

bool certmap_answer_has_account(const struct certmap_answer *a)
{
	return mapped(a) && !a->account.no_account;
}

/* A certificate-only identity has no uid, gid or home: never present one. */
uid_t certmap_answer_uid(const struct certmap_answer *a)
{
	return certmap_answer_has_account(a) ? a->account.uid : (uid_t)-1;
}

gid_t certmap_answer_gid(const struct certmap_answer *a)
{
	return certmap_answer_has_account(a) ? a->account.gid : (gid_t)-1;
}

const char *certmap_answer_home(const struct certmap_answer *a)
{
	return certmap_answer_has_account(a) ? a->account.home : NULL;
}

const char *certmap_answer_rule(const struct certmap_answer *a)
{
	return mapped(a) ? a->rule : NULL;
}

const char *certmap_answer_domain(const struct certmap_answer *a)
{
	return mapped(a) ? a->domain : NULL;
}

size_t certmap_answer_n_groups(const struct certmap_answer *a)
{
	return mapped(a) ? a->account.groups.n : 0;
}

const char *certmap_answer_group(const struct certmap_answer *a, size_t i)
{
	return i < certmap_answer_n_groups(a) ? a->account.groups.v[i] : NULL;
}

const char *certmap_answer_cert_sha256(const struct certmap_answer *a)
{
	return a != NULL ? a->cert_sha256 : "";
}

size_t certmap_answer_n_trace(const struct certmap_answer *a)
{
	return a != NULL ? a->n_trace : 0;
}

const struct certmap_trace_entry *certmap_answer_trace(const struct certmap_answer *a, size_t i)
{
	return i < certmap_answer_n_trace(a) ? &a->trace[i] : NULL;
}

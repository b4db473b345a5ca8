/* The decision: from matching rules to one account, or a refusal. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend.h"
#include "decision.h"

struct candidate {
	struct cm_account acct;
	const struct cm_rule *rule;
	const struct cm_domain *domain;
};

/* The candidates of one priority level. The array grows as they come
 * (most decisions weigh one or two, up to CM_MAX_CANDIDATES). */
struct level {
	struct candidate *c;
	size_t n, alloc;
	/* Why the best-ranked dropped candidate was dropped. */
	enum certmap_reason drop_reason;
	char *drop_msg;
	bool any_matched;
	/* A candidate's objectSid differs from the certificate's SID: the
	 * whole level is refused (a strong mapping was contradicted). */
	char *sid_mismatch;
	/* More candidates than CM_MAX_CANDIDATES: deciding on part of them
	 * could map where the whole set is ambiguous. */
	bool truncated;
};

static void level_clear(struct level *lv)
{
	for (size_t i = 0; i < lv->n; i++) {
		cm_account_clear(&lv->c[i].acct);
	}
	lv->n = 0;
}

static void note_drop(struct level *lv, enum certmap_reason reason, char *msg)
{
	if (lv->drop_reason == CERTMAP_REASON_NONE && msg != NULL) {
		lv->drop_reason = reason;
		lv->drop_msg = msg;
	} else {
		free(msg);
	}
}

/* Whether the level already holds this account. Two directory entries
 * with one name are two candidates (the directory is inconsistent, and
 * neither may win by coming first). */
static bool level_has(const struct level *lv, const struct cm_domain *d,
		      const struct cm_account *acct)
{
	for (size_t i = 0; i < lv->n; i++) {
		const struct cm_account *c = &lv->c[i].acct;

		if (lv->c[i].domain == d && strcmp(c->name, acct->name) == 0 &&
		    (c->dn == NULL || acct->dn == NULL || strcmp(c->dn, acct->dn) == 0)) {
			return true;
		}
	}
	return false;
}

/* Room for one more candidate; -1 when out of memory. */
static int level_grow(struct level *lv)
{
	size_t alloc = lv->alloc == 0 ? 4 : lv->alloc * 2;
	struct candidate *c;

	if (lv->n < lv->alloc) {
		return 0;
	}
	if (alloc > CM_MAX_CANDIDATES) {
		alloc = CM_MAX_CANDIDATES;
	}
	if ((c = realloc(lv->c, alloc * sizeof(*c))) == NULL) {
		return -1;
	}
	lv->c = c;
	lv->alloc = alloc;
	return 0;
}

/* Keeps one account found in a domain if the domain allows it; takes
 * acct over. Returns 0 or CERTMAP_ERR_NOMEM. */
static int keep(struct certmap_answer *a, long t, struct level *lv,
		const struct cm_rule *r, const struct cm_domain *d,
		struct cm_account *acct, const char *search_note, const struct cm_identity *id)
{
	const char *status = "kept";
	char *note = NULL, *name = acct->name;
	int rc = CERTMAP_OK;

	if (acct->sid != NULL && id->has_sid && cm_value_usable(&id->sid) &&
	    strcmp(acct->sid, (const char *)id->sid.data) != 0) {
		status = "sid_mismatch";
		note = cm_asprintf("%s has objectSid %s, the certificate's SID extension says %s",
				   name, acct->sid, (const char *)id->sid.data);
		if (lv->sid_mismatch == NULL) {
			lv->sid_mismatch = cm_asprintf("%s", note != NULL ? note : "");
		}
	} else if (!acct->no_account && acct->uid == 0 && !d->allow_uid0) {
		/* (certificate domains have no uid to police: backend_cert.c) */
		status = "uid_refused";
		note = cm_asprintf("%s has uid 0, which domain %s does not allow (allow_uid0)", name, d->name);
		note_drop(lv, CERTMAP_REASON_UID_REFUSED, cm_asprintf("%s", note ? note : ""));
	} else if (!acct->no_account && acct->uid != 0 && acct->uid < d->min_uid) {
		status = "uid_refused";
		note = cm_asprintf("%s has uid %u, below min_uid %u of domain %s", name,
				   (unsigned)acct->uid, (unsigned)d->min_uid, d->name);
		note_drop(lv, CERTMAP_REASON_UID_REFUSED, cm_asprintf("%s", note ? note : ""));
	} else if (level_has(lv, d, acct)) {
		status = "duplicate";
	} else if (lv->n == CM_MAX_CANDIDATES) {
		status = "dropped";
		note = cm_asprintf("more than %d candidates", CM_MAX_CANDIDATES);
		lv->truncated = true;
	} else if (level_grow(lv) != 0) {
		rc = CERTMAP_ERR_NOMEM;
	} else {
		lv->c[lv->n].acct = *acct;
		lv->c[lv->n].rule = r;
		lv->c[lv->n].domain = d;
		lv->n++;
		memset(acct, 0, sizeof(*acct));
		name = lv->c[lv->n - 1].acct.name;
	}
	if (t >= 0 && cm_answer_candidate_add(a, t, name, d->name, status,
					      note != NULL ? note : search_note) != 0) {
		rc = CERTMAP_ERR_NOMEM;
	}
	cm_account_clear(acct);
	free(note);
	return rc;
}

/* Notes a candidate that was dropped before it became an account. */
static int drop(struct certmap_answer *a, long t, struct level *lv, const struct cm_domain *d,
		const char *name, const char *status, char *note)
{
	int rc = CERTMAP_OK;

	note_drop(lv, CERTMAP_REASON_NO_ACCOUNT, cm_asprintf("%s", note != NULL ? note : ""));
	if (t >= 0 && cm_answer_candidate_add(a, t, name, d->name, status, note) != 0) {
		rc = CERTMAP_ERR_NOMEM;
	}
	free(note);
	return rc;
}

/* Looks one expanded rule (a name, or a filter for LDAP: rules) up in one
 * domain and keeps every account the domain allows. Returns 0,
 * CERTMAP_ERR_NOMEM or CERTMAP_ERR_BACKEND (msg set). */
static int consider(struct certmap_answer *a, long t, struct level *lv,
		    const struct cm_rule *r, const struct cm_domain *d,
		    const char *key, const struct cm_identity *id, char **msg)
{
	enum cm_map_kind kind = cm_map_kind(r->map);
	bool is_filter = kind == CM_MAP_LDAP || kind == CM_MAP_LDAPU1;
	struct cm_account_list l = { 0 };
	int rc;

	rc = d->type == CM_DOMAIN_CERT ? cm_cert_find(d, key, id, &l, msg)
				       : cm_backend_find(d, key, is_filter, &l, msg);
	if (rc != CERTMAP_OK) {
		return rc;
	}
	if (l.n == 0 && l.skipped.n == 0) {
		rc = drop(a, t, lv, d, key, "no_account",
			  is_filter ? cm_asprintf("no entry in domain %s matches %.512s%s (%s)", d->name,
						  key, strlen(key) > 512 ? "..." : "",
						  l.trace != NULL ? l.trace : "")
				    : cm_asprintf("no account %s in domain %s", key, d->name));
	}
	for (size_t i = 0; i < l.skipped.n && rc == CERTMAP_OK; i++) {
		rc = drop(a, t, lv, d, key, "no_account", cm_asprintf("%s", l.skipped.v[i]));
	}
	if (l.truncated && rc == CERTMAP_OK) {
		/* The entries not returned could be candidates too: deciding on
		 * part of them could map where the whole set is ambiguous. */
		lv->truncated = true;
		if (t >= 0 && cm_answer_candidate_add(a, t, key, d->name, "dropped",
						      "more entries than size_limit") != 0) {
			rc = CERTMAP_ERR_NOMEM;
		}
	}
	for (size_t i = 0; i < l.n && rc == CERTMAP_OK; i++) {
		rc = keep(a, t, lv, r, d, &l.v[i], l.trace, id);
	}
	cm_account_list_clear(&l);
	return rc;
}

/* Adds rule i's trace entry; returns its index, or -1 when out of memory. */
static long trace_rule(const struct cm_cert_entry *cert, size_t i, struct certmap_answer *a)
{
	const struct cm_rule *r = &cert->cfg->rules[i];
	char *note = cm_rule_note(cert, i);
	long t = -1;

	if (note != NULL) {
		t = cm_answer_trace_add(a, r->name, r->priority, cert->results[i].matched, note);
	}
	free(note);
	return t;
}

static int eval_rule(const struct cm_cert_entry *cert, size_t i, bool trace,
		     struct certmap_answer *a, struct level *lv, char **errmsg)
{
	const struct cm_rule *r = &cert->cfg->rules[i];
	const struct cm_rule_result *res = &cert->results[i];
	long t = -1;
	int rc = CERTMAP_OK;

	lv->any_matched = lv->any_matched || res->matched;
	lv->truncated = lv->truncated || res->overflow;
	if (trace && (t = trace_rule(cert, i, a)) < 0) {
		return CERTMAP_ERR_NOMEM;
	}
	for (size_t n = 0; n < res->names.n && rc == CERTMAP_OK; n++) {
		for (size_t k = 0; k < r->n_domains && rc == CERTMAP_OK; k++) {
			rc = consider(a, t, lv, r, r->domains[k], res->names.v[n], cert->id, errmsg);
		}
	}
	return rc;
}

/* The user part of a UPN hint: everything before the last '@'. */
static bool hint_names(const struct candidate *c, const char *upn, const char *domain)
{
	if (domain != NULL && strcasecmp(c->domain->name, domain) != 0) {
		return false;
	}
	if (upn != NULL) {
		const char *at = strrchr(upn, '@');
		size_t ulen = at != NULL ? (size_t)(at - upn) : strlen(upn);

		if (strcmp(c->acct.name, upn) != 0 &&
		    !(strlen(c->acct.name) == ulen && strncmp(c->acct.name, upn, ulen) == 0)) {
			return false;
		}
	}
	return true;
}

static const char *nonempty(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

static void list_candidates(struct cm_buf *b, const struct level *lv)
{
	for (size_t i = 0; i < lv->n; i++) {
		cm_buf_printf(b, "%s%s (%s)", i > 0 ? ", " : "", lv->c[i].acct.name,
			      lv->c[i].domain->name);
	}
}

/* Picks the one account from a level's candidates, or refuses. */
static int choose(struct level *lv, const struct certmap_request *req,
		  struct certmap_answer *a)
{
	const char *user = nonempty(req->user);
	const char *upn = nonempty(req->upn_hint), *dom = nonempty(req->domain_hint);
	struct cm_buf list;
	size_t pick = 0, n = 0;
	char *msg = NULL;
	int rc;

	cm_buf_init(&list, 65536);
	list_candidates(&list, lv);
	if (lv->truncated) {
		rc = cm_answer_refuse(a, CERTMAP_REASON_AMBIGUOUS,
				      "the rules give more candidates than certmap weighs "
				      "(at most %d accounts, 64 names per rule, size_limit "
				      "entries per directory search)", CM_MAX_CANDIDATES);
		rc = rc == 0 ? CERTMAP_OK : CERTMAP_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < lv->n; i++) {
		bool ok = user != NULL ? strcmp(lv->c[i].acct.name, user) == 0 : true;

		/* Hints only narrow, and only when no name was requested
		 * (DESIGN.md step 6): they never add a candidate. */
		if (ok && user == NULL && (upn != NULL || dom != NULL)) {
			ok = hint_names(&lv->c[i], upn, dom);
		}
		if (ok) {
			pick = i;
			n++;
		}
	}
	if (n == 0 && user != NULL) {
		rc = cm_answer_refuse(a, CERTMAP_REASON_NOT_CANDIDATE,
				      "%s is not a candidate for this certificate (candidates: %s)",
				      user, list.data);
	} else if (n == 0) {
		rc = cm_answer_refuse(a, CERTMAP_REASON_NOT_CANDIDATE,
				      "the user-mapping hint names none of the candidates (%s)", list.data);
	} else if (n > 1) {
		rc = cm_answer_refuse(a, CERTMAP_REASON_AMBIGUOUS,
				      "%zu accounts qualify: %s", n, list.data);
	} else {
		struct candidate *c = &lv->c[pick];

		rc = cm_backend_groups(c->domain, &c->acct, &msg);
		if (rc == CERTMAP_ERR_NOMEM) {
			goto out;
		}
		if (rc != CERTMAP_OK) {
			rc = cm_answer_refuse(a, CERTMAP_REASON_BACKEND_UNAVAILABLE, "%s",
					      msg != NULL ? msg : "group lookup failed");
		} else {
			rc = cm_answer_set_mapped(a, &c->acct, c->rule->name, c->domain->name);
		}
	}
	rc = rc == 0 ? CERTMAP_OK : CERTMAP_ERR_NOMEM;
out:
	free(msg);
	cm_buf_free(&list);
	return rc;
}

static int refuse_empty(const struct level *lv, struct certmap_answer *a)
{
	int rc;

	if (lv->drop_reason != CERTMAP_REASON_NONE) {
		rc = cm_answer_refuse(a, lv->drop_reason, "%s", lv->drop_msg);
	} else if (lv->any_matched) {
		rc = cm_answer_refuse(a, CERTMAP_REASON_NO_RULE_MATCHED,
				      "rules matched, but none produced a user name for this certificate");
	} else {
		rc = cm_answer_refuse(a, CERTMAP_REASON_NO_RULE_MATCHED,
				      "no rule matches this certificate");
	}
	return rc == 0 ? CERTMAP_OK : CERTMAP_ERR_NOMEM;
}

int cm_decide(struct cm_cert_entry *cert, const struct certmap_request *req,
	      struct certmap_answer *a)
{
	const struct cm_config *cfg = cert->cfg;
	struct level level = {0}, *lv = &level;
	char *errmsg = NULL;
	size_t i = 0;
	int rc = CERTMAP_OK;

	while (i < cfg->n_rules) {
		int prio = cfg->rules[i].priority;
		size_t end = i;

		while (end < cfg->n_rules && cfg->rules[end].priority == prio) {
			end++;
		}
		if (cm_cert_entry_eval(cert, i, end) == NULL) {
			rc = CERTMAP_ERR_NOMEM;
			goto out;
		}
		for (; i < end; i++) {
			rc = eval_rule(cert, i, (req->flags & CERTMAP_REQ_TRACE) != 0, a, lv, &errmsg);
			if (rc != CERTMAP_OK) {
				break;
			}
		}
		if (rc == CERTMAP_ERR_BACKEND) {
			rc = cm_answer_refuse(a, CERTMAP_REASON_BACKEND_UNAVAILABLE, "%s",
					      errmsg != NULL ? errmsg : "backend unavailable");
			rc = rc == 0 ? CERTMAP_OK : CERTMAP_ERR_NOMEM;
			goto out;
		}
		if (rc != CERTMAP_OK) {
			goto out;
		}
		if (lv->sid_mismatch != NULL) {
			rc = cm_answer_refuse(a, CERTMAP_REASON_SID_MISMATCH, "%s", lv->sid_mismatch);
			rc = rc == 0 ? CERTMAP_OK : CERTMAP_ERR_NOMEM;
			goto out;
		}
		if (lv->n > 0 || lv->truncated) {
			rc = choose(lv, req, a);
			goto out;
		}
	}
	rc = refuse_empty(lv, a);
out:
	level_clear(lv);
	free(lv->drop_msg);
	free(lv->sid_mismatch);
	free(lv->c);
	free(errmsg);
	return rc;
}

bool cm_hint_valid(const char *s, size_t max)
{
	size_t len = strnlen(s, max + 1);

	if (len == 0 || len > max) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f) {
			return false;
		}
	}
	return true;
}

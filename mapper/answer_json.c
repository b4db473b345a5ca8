/* The answer as JSON, the one format shared by certmapctl and certmapd. */
#include "config.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"

static int add_string(json_object *o, const char *key, const char *value)
{
	json_object *s = json_object_new_string(value != NULL ? value : "");

	if (s == NULL) {
		return -1;
	}
	return json_object_object_add(o, key, s);
}

static int add_int(json_object *o, const char *key, int64_t v)
{
	json_object *n = json_object_new_int64(v);

	if (n == NULL) {
		return -1;
	}
	return json_object_object_add(o, key, n);
}

static json_object *candidate_json(const struct certmap_candidate *c)
{
	json_object *o = json_object_new_object();

	if (o == NULL || add_string(o, "user", c->user) != 0 ||
	    add_string(o, "domain", c->domain) != 0 ||
	    add_string(o, "status", c->status) != 0 ||
	    (c->note != NULL && add_string(o, "note", c->note) != 0)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static json_object *trace_json(const struct certmap_answer *a)
{
	json_object *list = json_object_new_array();

	for (size_t i = 0; list != NULL && i < a->n_trace; i++) {
		const struct certmap_trace_entry *e = &a->trace[i];
		json_object *o = json_object_new_object();
		json_object *cands = json_object_new_array();
		bool ok = o != NULL && cands != NULL;

		ok = ok && add_string(o, "rule", e->rule) == 0;
		ok = ok && add_int(o, "priority", e->priority) == 0;
		ok = ok && json_object_object_add(o, "matched", json_object_new_boolean(e->matched)) == 0;
		ok = ok && add_string(o, "note", e->note) == 0;
		for (size_t k = 0; ok && k < e->n_candidates; k++) {
			json_object *c = candidate_json(&e->candidates[k]);

			ok = c != NULL && json_object_array_add(cands, c) == 0;
		}
		ok = ok && json_object_object_add(o, "candidates", cands) == 0;
		if (!ok || json_object_array_add(list, o) != 0) {
			json_object_put(o);
			json_object_put(list);
			return NULL;
		}
	}
	return list;
}

static int add_mapped(json_object *o, const struct certmap_answer *a)
{
	json_object *groups = json_object_new_array();

	for (size_t i = 0; groups != NULL && i < a->account.groups.n; i++) {
		if (json_object_array_add(groups, json_object_new_string(a->account.groups.v[i])) != 0) {
			json_object_put(groups);
			return -1;
		}
	}
	if (groups == NULL || add_string(o, "user", a->account.name) != 0 ||
	    add_int(o, "uid", a->account.uid) != 0 ||
	    add_int(o, "gid", a->account.gid) != 0 ||
	    json_object_object_add(o, "groups", groups) != 0 ||
	    add_string(o, "home", a->account.home) != 0 ||
	    add_string(o, "rule", a->rule) != 0 ||
	    add_string(o, "domain", a->domain) != 0) {
		return -1;
	}
	return 0;
}

char *certmap_answer_to_json(const struct certmap_answer *a, bool with_trace)
{
	json_object *o = json_object_new_object();
	char *out = NULL;
	int rc;

	if (o == NULL || a == NULL) {
		goto out;
	}
	if (add_string(o, "verdict", certmap_verdict_name(a->verdict)) != 0) {
		goto out;
	}
	if (a->verdict == CERTMAP_VERDICT_MAPPED) {
		rc = add_mapped(o, a);
	} else {
		rc = add_string(o, "reason", certmap_reason_name(a->reason));
		rc = rc != 0 ? rc : add_string(o, "message", a->message);
	}
	if (rc != 0 || add_string(o, "cert_sha256", a->cert_sha256) != 0) {
		goto out;
	}
	if (with_trace) {
		json_object *t = trace_json(a);

		if (t == NULL || json_object_object_add(o, "trace", t) != 0) {
			goto out;
		}
	}
	out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
out:
	json_object_put(o);
	return out;
}

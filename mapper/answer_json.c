/* The answer as JSON, the one format shared by certmapctl and certmapd. */
#include "config.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"

/* A string made valid UTF-8 in place; 0 or -1 when out of memory. */
static int string_make_utf8(json_object *o)
{
	const char *s = json_object_get_string(o);
	size_t len = (size_t)json_object_get_string_len(o);
	char *fixed;
	int rc;

	if (cm_utf8_valid(s, len) && memchr(s, '\0', len) == NULL) {
		return 0;
	}
	if ((fixed = cm_utf8_sanitize(s, len)) == NULL) {
		return -1;
	}
	rc = json_object_set_string(o, fixed) ? 0 : -1;
	free(fixed);
	return rc;
}

/* Re-adds every member whose key is not valid UTF-8 under a fixed key. */
static int keys_make_utf8(json_object *o)
{
	struct cm_strv bad = { 0 };
	int rc = 0;

	json_object_object_foreach(o, key, val) {
		(void)val;
		if (!cm_utf8_valid(key, strlen(key)) && cm_strv_add(&bad, key) != 0) {
			rc = -1;
			goto out;
		}
	}
	for (size_t i = 0; i < bad.n; i++) {
		json_object *v = json_object_get(json_object_object_get(o, bad.v[i]));
		char *fixed = cm_utf8_sanitize(bad.v[i], strlen(bad.v[i]));

		json_object_object_del(o, bad.v[i]);
		if (fixed == NULL || json_object_object_add(o, fixed, v) != 0) {
			json_object_put(v);
			free(fixed);
			rc = -1;
			goto out;
		}
		free(fixed);
	}
out:
	cm_strv_clear(&bad);
	return rc;
}

int cm_json_make_utf8(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_string:
		return string_make_utf8(o);
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			if (cm_json_make_utf8(json_object_array_get_idx(o, i)) != 0) {
				return -1;
			}
		}
		return 0;
	case json_type_object:
		if (keys_make_utf8(o) != 0) {
			return -1;
		}
		json_object_object_foreach(o, key, val) {
			(void)key;
			if (cm_json_make_utf8(val) != 0) {
				return -1;
			}
		}
		return 0;
	case json_type_null:
	case json_type_boolean:
	case json_type_double:
	case json_type_int:
	default:
		return 0;
	}
}

static bool utf8_str(const char *s)
{
	return s == NULL || cm_utf8_valid(s, strlen(s));
}

/* A mapped identity goes out exactly as it is or not at all: a user or
 * group name with its bytes \x-quoted would name another account. */
static bool identity_is_utf8(const struct certmap_answer *a)
{
	bool ok = utf8_str(a->account.name) && utf8_str(a->account.home) &&
		  utf8_str(a->rule) && utf8_str(a->domain);

	for (size_t i = 0; ok && i < a->account.groups.n; i++) {
		ok = utf8_str(a->account.groups.v[i]);
	}
	return ok;
}

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
	/* A certificate-only identity (certificate domains) has no uid, gid
	 * or home: the members are absent, never 0, -1 or "". */
	bool acct = !a->account.no_account;

	if (groups == NULL || add_string(o, "user", a->account.name) != 0 ||
	    (acct && add_int(o, "uid", a->account.uid) != 0) ||
	    (acct && add_int(o, "gid", a->account.gid) != 0) ||
	    json_object_object_add(o, "groups", groups) != 0 ||
	    (acct && add_string(o, "home", a->account.home) != 0) ||
	    add_string(o, "rule", a->rule) != 0 ||
	    add_string(o, "domain", a->domain) != 0) {
		return -1;
	}
	return 0;
}

char *cm_answer_to_json_c(const struct certmap_answer *a, bool with_trace)
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
	if (a->verdict == CERTMAP_VERDICT_MAPPED && !identity_is_utf8(a)) {
		json_object_object_del(o, "verdict");
		rc = add_string(o, "verdict", certmap_verdict_name(CERTMAP_VERDICT_REFUSED));
		rc = rc != 0 ? rc : add_string(o, "reason", certmap_reason_name(CERTMAP_REASON_NO_ACCOUNT));
		rc = rc != 0 ? rc : add_string(o, "message", CM_ANSWER_NOT_UTF8);
	} else if (a->verdict == CERTMAP_VERDICT_MAPPED) {
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
	/* Messages and trace notes may quote what a client or a certificate
	 * sent: JSON carries UTF-8 only. */
	if (cm_json_make_utf8(o) != 0) {
		goto out;
	}
	out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
out:
	json_object_put(o);
	return out;
}

/* ---------------------------------------------------------------- without json-c */

/*
 * The answer without a trace (every answer certmapd sends) is written
 * straight into one buffer, byte for byte as json-c writes the objects
 * above with JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE
 * (test_decision compares the two): building and printing the objects
 * took a dozen heap blocks and a hash table per answer.
 */

/* s as a JSON string: made valid UTF-8 first (cm_utf8_sanitize, as
 * cm_json_make_utf8 does), then escaped as json-c escapes: the two-letter
 * forms of \b \t \n \f \r " and \\, other bytes below 0x20 as \u00xx,
 * everything else (0x7f and UTF-8 sequences included) as it is. */
static void put_string(struct cm_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	char *fixed = NULL;
	size_t len, run = 0;

	s = s != NULL ? s : "";
	len = strlen(s);
	if (!cm_utf8_valid(s, len)) {
		if ((fixed = cm_utf8_sanitize(s, len)) == NULL) {
			b->failed = true;
			return;
		}
		s = fixed;
		len = strlen(s);
	}
	cm_buf_addc(b, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = { '\\', 0 };
		size_t n = 2;

		switch (c) {
		case '\b': esc[1] = 'b'; break;
		case '\t': esc[1] = 't'; break;
		case '\n': esc[1] = 'n'; break;
		case '\f': esc[1] = 'f'; break;
		case '\r': esc[1] = 'r'; break;
		case '"':
		case '\\': esc[1] = (char)c; break;
		default:
			if (c >= 0x20) {
				continue;
			}
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			n = 6;
			break;
		}
		cm_buf_add(b, s + run, i - run);
		cm_buf_add(b, esc, n);
		run = i + 1;
	}
	cm_buf_add(b, s + run, len - run);
	cm_buf_addc(b, '"');
	free(fixed);
}

static void put_member(struct cm_buf *b, const char *key, const char *value)
{
	cm_buf_adds(b, ",\"");
	cm_buf_adds(b, key);
	cm_buf_adds(b, "\":");
	put_string(b, value);
}

static void put_int(struct cm_buf *b, const char *key, int64_t v)
{
	cm_buf_adds(b, ",\"");
	cm_buf_adds(b, key);
	cm_buf_adds(b, "\":");
	cm_buf_add_i64(b, v);
}

static void put_mapped(struct cm_buf *b, const struct certmap_answer *a)
{
	bool acct = !a->account.no_account;

	put_member(b, "user", a->account.name);
	if (acct) {
		put_int(b, "uid", a->account.uid);
		put_int(b, "gid", a->account.gid);
	}
	cm_buf_adds(b, ",\"groups\":[");
	for (size_t i = 0; i < a->account.groups.n; i++) {
		if (i > 0) {
			cm_buf_addc(b, ',');
		}
		put_string(b, a->account.groups.v[i]);
	}
	cm_buf_addc(b, ']');
	if (acct) {
		put_member(b, "home", a->account.home);
	}
	put_member(b, "rule", a->rule);
	put_member(b, "domain", a->domain);
}

static char *answer_json_plain(const struct certmap_answer *a)
{
	struct cm_buf b;

	/* No cap of its own: json-c had none (certmapd caps its replies). */
	cm_buf_init(&b, SIZE_MAX / 2);
	(void)cm_buf_room(&b, 512);
	cm_buf_adds(&b, "{\"verdict\":");
	if (a->verdict == CERTMAP_VERDICT_MAPPED && !identity_is_utf8(a)) {
		put_string(&b, certmap_verdict_name(CERTMAP_VERDICT_REFUSED));
		put_member(&b, "reason", certmap_reason_name(CERTMAP_REASON_NO_ACCOUNT));
		put_member(&b, "message", CM_ANSWER_NOT_UTF8);
	} else if (a->verdict == CERTMAP_VERDICT_MAPPED) {
		put_string(&b, certmap_verdict_name(a->verdict));
		put_mapped(&b, a);
	} else {
		put_string(&b, certmap_verdict_name(a->verdict));
		put_member(&b, "reason", certmap_reason_name(a->reason));
		put_member(&b, "message", a->message);
	}
	put_member(&b, "cert_sha256", a->cert_sha256);
	cm_buf_addc(&b, '}');
	return cm_buf_steal(&b, NULL);
}

char *certmap_answer_to_json(const struct certmap_answer *a, bool with_trace)
{
	if (a == NULL) {
		return NULL;
	}
	return with_trace ? cm_answer_to_json_c(a, true) : answer_json_plain(a);
}

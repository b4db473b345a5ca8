/*
 * Domains of type "certificate": identities without accounts, for proxies
 * guarding applications that have no system users. The user name is the
 * rule's expansion (checked as LOCAL: names are); groups are the
 * group_map entries of the values the domain's group_from templates give
 * for this certificate. A value not in group_map is dropped with a note,
 * never turned into a group. Nothing here does I/O.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend.h"
#include "certmap.h"
#include "conf_certdom.h"

/* How much of the trace note the values not in group_map may take. */
#define DROPPED_NOTE_MAX 2048

/* The group of value v: an exact entry first, else the first prefix
 * entry (in configuration order) that v starts with. */
static const char *map_value(const struct cm_certdom_conf *cc, const char *v)
{
	for (size_t i = 0; i < cc->n_map; i++) {
		if (!cc->map[i].prefix && strcmp(cc->map[i].value, v) == 0) {
			return cc->map[i].group;
		}
	}
	for (size_t i = 0; i < cc->n_map; i++) {
		if (cc->map[i].prefix &&
		    strncmp(cc->map[i].value, v, strlen(cc->map[i].value)) == 0) {
			return cc->map[i].group;
		}
	}
	return NULL;
}

/* Every usable value of attribute name in a DN (each OU ...). */
static int comp_values(const struct cm_name *n, const char *name, struct cm_strv *vals)
{
	for (size_t i = 0; i < n->n_avas; i++) {
		const struct cm_ava *a = &n->avas[i];

		if (a->type != NULL && strcasecmp(a->type, name) == 0 && cm_value_usable(&a->value) &&
		    cm_strv_addn(vals, (const char *)a->value.data, a->value.len) != 0) {
			return CERTMAP_ERR_NOMEM;
		}
	}
	return CERTMAP_OK;
}

/* Adds the groups of one group_from template; notes what it dropped. */
static int add_template(const struct cm_certdom_conf *cc, size_t k, const struct cm_identity *id,
			struct cm_account *acct, struct cm_buf *dropped)
{
	const struct cm_certdom_from *f = &cc->from[k];
	struct cm_strv vals = { 0 };
	struct cm_buf why;
	int rc;

	cm_buf_init(&why, 1024);
	if (f->map == NULL) {
		rc = comp_values(f->issuer ? &id->issuer : &id->subject, f->comp, &vals);
	} else {
		rc = cm_map_expand(f->map, id, &vals, &why);
	}
	if (rc == CERTMAP_ERR_NOMEM) {
		goto out;
	}
	if (rc != CERTMAP_OK) {
		/* An absent field gives no group; it is not a refusal. */
		rc = CERTMAP_OK;
		goto out;
	}
	for (size_t i = 0; i < vals.n && rc == CERTMAP_OK; i++) {
		const char *g = map_value(cc, vals.v[i]);

		if (g == NULL) {
			cm_buf_printf(dropped, "%s\"%.128s\" (%s)", dropped->len > 0 ? ", " : "",
				      vals.v[i], f->text);
		} else if (!cm_strv_contains(&acct->groups, g) && acct->groups.n < CM_MAX_GROUPS &&
			   cm_strv_add(&acct->groups, g) != 0) {
			rc = CERTMAP_ERR_NOMEM;
		}
	}
out:
	cm_strv_clear(&vals);
	cm_buf_free(&why);
	return rc;
}

static int cert_groups(const struct cm_domain *d, const struct cm_identity *id,
		       struct cm_account *acct, char **trace)
{
	const struct cm_certdom_conf *cc = d->cert;
	struct cm_buf dropped;
	int rc = CERTMAP_OK;

	cm_buf_init(&dropped, DROPPED_NOTE_MAX);
	for (size_t k = 0; cc != NULL && k < cc->n_from && rc == CERTMAP_OK; k++) {
		rc = add_template(cc, k, id, acct, &dropped);
	}
	if (rc == CERTMAP_OK) {
		*trace = cm_asprintf("certificate-only identity (no account, uid, gid or home)%s%s%s",
				     dropped.len > 0 ? "; values not in group_map, dropped: " : "",
				     dropped.len > 0 ? dropped.data : "",
				     dropped.failed ? " ..." : "");
		rc = *trace != NULL ? CERTMAP_OK : CERTMAP_ERR_NOMEM;
	}
	cm_buf_free(&dropped);
	return rc;
}

int cm_cert_find(const struct cm_domain *d, const char *key, const struct cm_identity *id,
		 struct cm_account_list *out, char **msg)
{
	struct cm_account *a;
	int rc;

	(void)msg;
	memset(out, 0, sizeof(*out));
	/* MAPFILE: names were not checked by the rule: check them as LOCAL: does. */
	if (!cm_username_valid(key, strlen(key))) {
		return cm_strv_add(&out->skipped, "the name is not a valid user name") != 0
			       ? CERTMAP_ERR_NOMEM
			       : CERTMAP_OK;
	}
	if ((out->v = calloc(1, sizeof(*out->v))) == NULL) {
		return CERTMAP_ERR_NOMEM;
	}
	a = &out->v[0];
	a->no_account = true;
	a->uid = (uid_t)-1;
	a->gid = (gid_t)-1;
	out->n = 1;
	if ((a->name = strdup(key)) == NULL) {
		rc = CERTMAP_ERR_NOMEM;
	} else {
		rc = cert_groups(d, id, a, &out->trace);
	}
	if (rc != CERTMAP_OK) {
		cm_account_list_clear(out);
	}
	return rc;
}

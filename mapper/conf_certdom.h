/*
 * Domains of type "certificate" (DESIGN.md): identities without accounts.
 * The rule's LOCAL:/MAPFILE: template gives the user name; groups come
 * from certificate values (group_from templates, expanded once per value)
 * through the explicit allow-list group_map, never created blindly.
 */
#ifndef CERTMAP_CONF_CERTDOM_H
#define CERTMAP_CONF_CERTDOM_H

#include <libconfig.h>

#include "conf.h"
#include "conf_ldap.h"
#include "rules.h"

/* Caps, so that one certificate cannot make a domain do unbounded work. */
#define CM_CERTDOM_MAX_FROM 16
#define CM_CERTDOM_MAX_MAP 4096

struct cm_certdom_pair {
	char *value;  /* the certificate value, compared byte for byte */
	bool prefix;  /* value is a prefix ("prefix =", e.g. a SAN URI's start) */
	char *group;  /* the group name it gives */
};

/* One group_from entry. "{subject_dn_component.NAME}" and
 * "{issuer_dn_component.NAME}" alone, without [N], give every value of
 * that attribute (each OU, Kubernetes style); any other template is
 * compiled as a LOCAL:/MAPFILE: template (one value per SAN value). */
struct cm_certdom_from {
	char *text;           /* as written, for the trace */
	struct cm_map *map;   /* NULL for the every-value form */
	char *comp;           /* the every-value form: the attribute name */
	bool issuer;          /* ... of the issuer's DN (else the subject's) */
};

struct cm_certdom_conf {
	struct cm_certdom_from *from;
	size_t n_from;
	struct cm_certdom_pair *map;
	size_t n_map;
};

/*
 * Reads and checks domain group g of type certificate into d->cert
 * (name and type are already in d). Every problem goes to err. Returns
 * 0, or -1 when out of memory.
 */
int cm_conf_certdom_load(const config_setting_t *g, struct cm_domain *d,
			 cm_conf_err_fn *err, void *ctx);
void cm_conf_certdom_free(struct cm_certdom_conf *cc);

#endif

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
	char *group;  /* the group name it gives */
};

struct cm_certdom_conf {
	struct cm_map **from;   /* compiled group_from templates */
	char **from_text;       /* as written, for the trace */
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

/*
 * Fuzz target for certificate parsing: cm_identity_parse (DER or PEM) and
 * every field certmapctl show would print.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void touch_field(void *arg, const char *field, const struct cm_value *v, bool binary)
{
	size_t *sum = arg;

	(void)binary;
	*sum += strlen(field) + v->len;
	if (v->len > 0) {
		*sum += v->data[v->len - 1];
	}
}

static void touch_name(const struct cm_name *n, size_t *sum)
{
	for (size_t i = 0; i < n->n_avas; i++) {
		*sum += strlen(n->avas[i].type) + n->avas[i].value.len +
			n->avas[i].sssd_value.len + n->avas[i].rdn;
	}
	*sum += n->rfc4514.len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_identity *id = NULL;
	char *err = NULL;
	size_t sum = 0;

	if (cm_identity_parse(data, size, &id, &err) != 0) {
		/* A failure always explains itself. */
		if (err == NULL) {
			abort();
		}
		free(err);
		return 0;
	}
	cm_identity_foreach_field(id, touch_field, &sum);
	touch_name(&id->subject, &sum);
	touch_name(&id->issuer, &sum);
	for (size_t i = 0; i < id->n_sans; i++) {
		sum += id->sans[i].raw.len + id->sans[i].short_name.len;
		if (id->sans[i].dirname != NULL) {
			touch_name(id->sans[i].dirname, &sum);
		}
	}
	cm_identity_free(id);
	return sum == 1 ? 1 : 0;
}

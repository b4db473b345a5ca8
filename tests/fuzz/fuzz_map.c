/*
 * Fuzz target for mapping rules: parses the input as a mapping rule and,
 * when it is accepted, expands it against a fixed hand-built identity
 * (several values per SAN type, an unusable value, DNs with escapes).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "fuzz_identity.h"
#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cm_identity id;
static struct cm_san sans[6];
static struct cm_ava avas[3];
static unsigned char der[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
static unsigned char serial[] = { 0x80, 0x11, 0x22 };
static unsigned char ski[] = { 0xab, 0xcd };

/* The fixed identity's i-th SAN. */
static void san(size_t i, enum cm_san_type type, enum cm_other_kind kind, const char *text, size_t len)
{
	fuzz_san(&sans[i], type, kind, text, len);
}

static void identity_init(void)
{
	if (id.sans != NULL) {
		return;
	}
	id.der = der;
	id.der_len = sizeof(der);
	fuzz_set(&id.subject.sssd, "CN=a\\,b (c)*,UID=u+x,O=Ex\\5c,DC=com", 35);
	fuzz_set(&id.subject.rfc4514, "CN=a\\,b (c)*,UID=u+x,O=Ex\\5c,DC=com", 35);
	fuzz_set(&id.issuer.sssd, "CN=CA,C=US", 10);
	avas[0] = (struct cm_ava){ .type = (char *)"DC", .rdn = 0 };
	avas[1] = (struct cm_ava){ .type = (char *)"O", .rdn = 1 };
	avas[2] = (struct cm_ava){ .type = (char *)"CN", .rdn = 1 };
	fuzz_set(&avas[0].value, "com", 3);
	fuzz_set(&avas[1].value, "Ex", 2);
	fuzz_set(&avas[2].value, "a\0b", 3);
	id.subject.avas = avas;
	id.subject.n_avas = 3;
	id.serial = serial;
	id.serial_len = sizeof(serial);
	id.serial_dec = (char *)"8392994";
	id.has_ski = true;
	id.ski = ski;
	id.ski_len = sizeof(ski);
	id.has_sid = true;
	fuzz_set(&id.sid, "S-1-5-21-1-2-3-1105", 19);
	san(0, CM_SAN_RFC822, CM_OTHER_GENERIC, "a@example.com", 13);
	san(1, CM_SAN_RFC822, CM_OTHER_GENERIC, "v@example.com\0.evil", 19);
	san(2, CM_SAN_DNS, CM_OTHER_GENERIC, "host.example.com", 16);
	san(3, CM_SAN_OTHER_NAME, CM_OTHER_UPN, "a@EXAMPLE.COM", 13);
	san(4, CM_SAN_OTHER_NAME, CM_OTHER_KRB5, "h/x@EXAMPLE.COM", 15);
	san(5, CM_SAN_DNS, CM_OTHER_GENERIC, "two.example.com", 15);
	id.sans = sans;
	id.n_sans = 6;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_map *m = NULL;
	struct cm_strv out = { 0 };
	struct cm_buf why;
	char *rule, *err = NULL;

	identity_init();
	if ((rule = fuzz_rule_text(data, size)) == NULL) {
		return 0;
	}
	cm_buf_init(&why, 4096);
	if (cm_map_parse(rule, &m, &err) == 0) {
		(void)cm_map_kind(m);
		(void)cm_map_file(m);
		(void)cm_map_expand(m, &id, &out, &why);
	}
	cm_strv_clear(&out);
	cm_buf_free(&why);
	cm_map_free(m);
	free(err);
	free(rule);
	return 0;
}

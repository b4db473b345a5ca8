/* Map request frames written directly (map_frame.h). */
#include "config.h"

#include "map_frame.h"

#include <stdbool.h>
#include <string.h>

#include <openssl/evp.h>

#include "protocol.h"
#include "util.h"

static void add_b64(struct cm_buf *b, const unsigned char *p, size_t len)
{
	size_t n = 4 * ((len + 2) / 3);
	char *room = cm_buf_room(b, n);

	if (room != NULL) {
		EVP_EncodeBlock((unsigned char *)room, p, (int)len);
		b->len += n;
	}
}

/* ,"key":"value" when value needs no JSON escape; false when it does. */
static bool add_name(struct cm_buf *b, const char *key, const char *value)
{
	if (value == NULL) {
		return true;
	}
	for (const unsigned char *s = (const unsigned char *)value; *s != '\0'; s++) {
		if (*s < 0x20 || *s == '"' || *s == '\\' || *s == 0x7f) {
			return false;
		}
	}
	cm_buf_printf(b, ",\"%s\":\"%s\"", key, value);
	return true;
}

char *cmp_map_frame(const struct certmap_request *req, size_t *len)
{
	struct cm_buf b;
	bool ok = !cmp_is_pem(req->cert, req->cert_len);
	char *s;

	for (size_t i = 0; ok && i < req->n_chain; i++) {
		ok = !cmp_is_pem(req->chain[i], req->chain_len[i]);
	}
	if (!ok) {
		return NULL;
	}
	cm_buf_init(&b, CMP_MAX_REQUEST - 1);
	cm_buf_adds(&b, "{\"" CMP_F_METHOD "\":\"" CMP_M_MAP "\",\"" CMP_F_PARAMETERS
			"\":{\"" CMP_P_CERTIFICATE "\":\"");
	add_b64(&b, req->cert, req->cert_len);
	cm_buf_addc(&b, '"');
	if (req->n_chain > 0) {
		cm_buf_adds(&b, ",\"" CMP_P_CHAIN "\":[");
		for (size_t i = 0; i < req->n_chain; i++) {
			cm_buf_adds(&b, i > 0 ? ",\"" : "\"");
			add_b64(&b, req->chain[i], req->chain_len[i]);
			cm_buf_addc(&b, '"');
		}
		cm_buf_addc(&b, ']');
	}
	ok = add_name(&b, CMP_P_USER, req->user) && add_name(&b, CMP_P_UPN_HINT, req->upn_hint) &&
	     add_name(&b, CMP_P_DOMAIN_HINT, req->domain_hint);
	if (ok && (req->flags & CERTMAP_REQ_HINT_DATA) != 0) {
		cm_buf_adds(&b, ",\"" CMP_P_USER_MAPPING_DATA "\":\"");
		add_b64(&b, req->user_mapping_data, req->user_mapping_data_len);
		cm_buf_addc(&b, '"');
	}
	if (ok && (req->flags & CERTMAP_REQ_TRACE) != 0) {
		cm_buf_adds(&b, ",\"" CMP_P_TRACE "\":true");
	}
	cm_buf_adds(&b, "}}");
	if (!ok || (s = cm_buf_steal(&b, len)) == NULL) {
		cm_buf_free(&b);
		return NULL;
	}
	*len += 1; /* the NUL ends the frame */
	return s;
}

/*
 * The certmapd request codec: one varlink frame (the bytes before its NUL)
 * in, a validated call out; and the reply frames out. Shared by the
 * service and its fuzz target; every check of untrusted bytes lives here.
 */
#ifndef CERTMAP_SERVICE_REQUEST_H
#define CERTMAP_SERVICE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "certmap.h"
#include "protocol.h"
#include "util.h"

struct json_object;

/*
 * Why a frame or its parameters were rejected: a varlink error. Its
 * parameters follow the varlink specification: InvalidParameter always
 * names the parameter; MethodNotFound the method and InterfaceNotFound the
 * interface (name_key, name); message is certmap's addition, for people.
 */
struct cmp_fail {
	const char *error;     /* CMP_E_* */
	const char *parameter; /* "parameter": the offending field, or NULL */
	const char *message;   /* a static sentence */
	const char *name_key;  /* CMP_P_METHOD or CMP_P_INTERFACE, or NULL */
	const char *name;      /* its value, name_len bytes (borrowed) */
	size_t name_len;
};

/* One decoded call. Strings point into root, which the call owns. */
struct cmp_call {
	struct json_object *root;
	const char *method;
	struct json_object *params; /* an object, never NULL after decode */
	bool oneway;
	bool more;
	/* A well-formed frame whose envelope is wrong (parameters not an
	 * object, a mistyped flag, an unknown field): answered with this
	 * error once the method is known to exist; the connection stays open. */
	struct cmp_fail invalid;
};

/*
 * Decodes one frame (len bytes, NUL terminator not included): exactly one
 * strict JSON object (RFC 8259: no comments, no single quotes, no NaN, no
 * raw control characters in strings) in valid UTF-8 (no overlong forms,
 * no surrogates, no lone \uD800-style escapes), no NUL in any string or
 * key (not even as \u0000), nothing after it but white space, and a
 * string "method". Returns 0 and *call (call->invalid may hold an
 * envelope error), or -1 and *fail: the frame is malformed.
 */
int cmp_call_decode(const char *frame, size_t len, struct cmp_call *call, struct cmp_fail *fail);
void cmp_call_clear(struct cmp_call *call);

/* A piece of a request as sent: p NULL when the field is absent. */
struct cmp_slice {
	const char *p;
	size_t len;
};

/* The decoded parameters of org.certmap.Mapper.Map. */
struct cmp_map {
	/* The certificates as sent (PEM or base64 text), borrowed from the
	 * call or from the frame cmp_map_from_fields() read: the cache key is
	 * taken over them, so that a cache hit decodes nothing. */
	struct cmp_slice cert_text;
	struct cmp_slice chain_text[CMP_MAX_CHAIN];
	/* Filled by cmp_map_decode_certs(). */
	unsigned char *cert; /* DER, or the raw bytes of an unreadable PEM */
	size_t cert_len;
	unsigned char *chain[CMP_MAX_CHAIN];
	size_t chain_len[CMP_MAX_CHAIN];
	size_t n_chain;
	const char *user; /* borrowed like the texts above, or NULL */
	const char *upn_hint;
	const char *domain_hint;
	/* user_mapping_data as sent (p NULL when absent), and its bytes once
	 * cmp_map_decode_certs() has decoded them. */
	struct cmp_slice hint_text;
	unsigned char *hint_data;
	size_t hint_len;
	bool trace;
	/* The cache key: every field above as sent, length-prefixed, in one
	 * string (the cache compares all of it). */
	unsigned char *key;
	size_t key_len;
};

/* The fields of a Map request the answer-cache key is made of. */
struct cmp_key_fields {
	struct cmp_slice cert;
	struct cmp_slice chain[CMP_MAX_CHAIN];
	size_t n_chain;
	struct cmp_slice user, upn_hint, domain_hint, hint_data;
	bool trace;
};

/* The cache key of f: each field length-prefixed (0xff when absent), in
 * one string. Writes what fits in cap bytes of out (out may be NULL) and
 * returns the whole length, as snprintf does. The one layout of the key,
 * for the full decoder and for cmp_fast_map_fields()'s. */
size_t cmp_key_write(const struct cmp_key_fields *f, unsigned char *out, size_t cap);

/* Validates Map's parameters and computes the cache key; the certificates
 * are decoded only by cmp_map_decode_certs(). Returns 0, or -1 and *fail. */
int cmp_map_decode(const struct cmp_call *call, struct cmp_map *m, struct cmp_fail *fail);
/*
 * Fills m from the fields cmp_fast_map_fields() found in frame, without a
 * JSON tree: its strings point into copy, a copy of frame's len bytes
 * plus one that the caller keeps as long as m (each name ends in a NUL
 * written over its closing quote there). Returns 0, or -1 when out of
 * memory.
 */
int cmp_map_from_fields(const struct cmp_key_fields *f, const char *frame, char *copy,
			struct cmp_map *m);
/* (Re)computes m->key from m's fields, e.g. after trace was turned off.
 * Returns 0, or -1 when out of memory. */
int cmp_map_key(struct cmp_map *m);
/* Decodes the certificate and chain (PEM or base64 DER). Returns 0, or -1
 * and *fail. The call m came from must still be alive. */
int cmp_map_decode_certs(struct cmp_map *m, struct cmp_fail *fail);
/* Frees what cmp_map_decode_certs() made (the rest stays). */
void cmp_map_drop_decoded(struct cmp_map *m);
void cmp_map_clear(struct cmp_map *m);
/* Fills a library request from m (pointers into m). */
void cmp_map_request(const struct cmp_map *m, struct certmap_request *req);

/* Appends the frame {"parameters": <params_json>} and its NUL to out. */
void cmp_reply_params(struct cm_buf *out, const char *params_json, size_t len);
/* Appends head, then json, then "}" and the NUL. Every reply goes through
 * here: bytes of json that are not valid UTF-8 (JSON writers copy bytes
 * >= 0x80 of a string as they are) become U+FFFD, so that every frame
 * certmapd writes is valid UTF-8. */
void cmp_reply_raw(struct cm_buf *out, const char *head, const char *json, size_t len);
/* Appends an error frame {"error": ..., "parameters": {...}} and its NUL. */
void cmp_reply_error(struct cm_buf *out, const struct cmp_fail *fail);

#endif

/* Rebuilding an answer from the JSON the service sends (client side). */
#ifndef CERTMAP_SERVICE_ANSWER_PARSE_H
#define CERTMAP_SERVICE_ANSWER_PARSE_H

#include "certmap.h"

struct json_object;

/*
 * Builds an answer from a Map reply's parameters (the object
 * certmap_answer_to_json() produces). Returns 0 and *out, which the caller
 * frees, CERTMAP_ERR_PROTOCOL when a field is missing or of the wrong
 * type, or CERTMAP_ERR_NOMEM.
 */
int cm_answer_from_json(struct json_object *params, struct certmap_answer **out);

#endif

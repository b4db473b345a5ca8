/*
 * A Map request frame written as is, without json-c: a DER certificate
 * and chain go as base64 and names as they are, none of which needs a JSON
 * escape. Building the frame through json-c objects (then an escaping scan
 * of every byte) cost a client about a tenth of an uncached Map's CPU.
 */
#ifndef CERTMAP_CLIENT_MAP_FRAME_H
#define CERTMAP_CLIENT_MAP_FRAME_H

#include <stddef.h>

#include "certmap.h"

/*
 * The frame {"method":"org.certmap.Mapper.Map","parameters":{...}} for
 * req, NUL-terminated, *len bytes with the NUL, or NULL when a field would
 * need an escape (PEM text; a name with '"', '\\' or a control byte: the
 * caller then builds the frame with json-c) or memory ran out. The
 * caller has checked req's sizes and that the names are UTF-8.
 */
char *cmp_map_frame(const struct certmap_request *req, size_t *len);

#endif

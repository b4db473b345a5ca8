/*
 * The request decoder's fast path: builds the JSON tree of a frame of the
 * common shape (what certmap's clients send) without json-c's tokener,
 * which costs microseconds and a glibc lock per frame (it switches the
 * thread's locale). Anything else is left to the tokener, which then
 * decides exactly as it always did: the fast path never refuses a frame.
 */
#ifndef CERTMAP_SERVICE_REQUEST_FAST_H
#define CERTMAP_SERVICE_REQUEST_FAST_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

/*
 * The tree json-c would build from frame (len bytes, no NUL among them,
 * at most CMP_MAX_REQUEST) if the frame is one JSON object of this shape:
 * keys method, parameters, oneway, more, upgrade, each at most once;
 * parameters an object or null, with the keys certificate, chain, user,
 * upn_hint, domain_hint, user_mapping_data, trace, each at most once;
 * chain a list of strings; every other value a string, true, false or
 * null; strings of printable ASCII with the escapes \" \\ \/ \b \f \n \r
 * \t (no \u); white space ' ', \t, \n, \r only. Returns NULL for any other
 * frame, valid or not: the caller parses it with json-c.
 */
struct json_object *cmp_fast_parse(const char *frame, size_t len);

/*
 * The fields of a Map frame of the commonest shape, without building
 * anything: {"method":"org.certmap.Mapper.Map","parameters":{...}} with
 * certificate, user, upn_hint, domain_hint as strings without escapes
 * and trace as true or false (nothing else, each once, any order), each
 * value one the full decoder takes as it is (a non-empty certificate,
 * names of 1 to CMP_MAX_NAME bytes). *f gets them as slices of frame,
 * trace as sent. Returns false for any other frame: the full decoder then
 * decides.
 */
struct cmp_key_fields;
bool cmp_fast_map_fields(const char *frame, size_t len, struct cmp_key_fields *f);

/* Turns the fast path off (or back on) for the whole process: for the
 * differential fuzz target and the benchmark, before any decode runs. */
void cmp_fast_set_enabled(bool on);

#endif

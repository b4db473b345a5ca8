/* libFuzzer target: certmapd's request decoder (frame, envelope, Map parameters). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmp_call call;
	struct cmp_map map;
	struct cmp_fail fail;
	struct cm_buf out;
	const char *end = memchr(data, '\0', size);
	size_t len = end != NULL ? (size_t)(end - (const char *)data) : size;

	/* The service hands the decoder the bytes before the first NUL. */
	cm_buf_init(&out, CMP_MAX_REPLY);
	if (cmp_call_decode((const char *)data, len, &call, &fail) != 0) {
		cmp_reply_error(&out, &fail);
		cm_buf_free(&out);
		return 0;
	}
	if (strcmp(call.method, "org.certmap.Mapper.Map") == 0) {
		if (cmp_map_decode(&call, &map, &fail) == 0) {
			struct certmap_request req;

			if (cmp_map_decode_certs(&map, &fail) == 0) {
				cmp_map_request(&map, &req);
			} else {
				cmp_reply_error(&out, &fail);
			}
			cmp_map_clear(&map);
		} else {
			cmp_reply_error(&out, &fail);
		}
	}
	cmp_call_clear(&call);
	cm_buf_free(&out);
	return 0;
}

/* Windows SIDs and SSSD's algorithmic id mapping (see sid.h). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sid.h"
#include "util.h"

char *cm_sid_text(const unsigned char *p, size_t len)
{
	uint64_t auth = 0;
	struct cm_buf b;
	char *s;

	if (len < 8 || p[0] != 1 || p[1] > 15 || len != 8 + 4 * (size_t)p[1]) {
		return NULL;
	}
	for (int i = 2; i < 8; i++) {
		auth = auth << 8 | p[i];
	}
	cm_buf_init(&b, 256);
	cm_buf_printf(&b, "S-1-%llu", (unsigned long long)auth);
	for (size_t i = 8; i < len; i += 4) {
		cm_buf_printf(&b, "-%lu", (unsigned long)((uint32_t)p[i] | (uint32_t)p[i + 1] << 8 |
							  (uint32_t)p[i + 2] << 16 | (uint32_t)p[i + 3] << 24));
	}
	s = cm_buf_steal(&b, NULL);
	cm_buf_free(&b);
	return s;
}

static uint32_t rotl(uint32_t x, int r)
{
	return x << r | x >> (32 - r);
}

uint32_t cm_murmurhash3(const void *key, size_t len, uint32_t seed)
{
	const unsigned char *p = key;
	const uint32_t c1 = 0xcc9e2d51, c2 = 0x1b873593;
	size_t nblocks = len / 4;
	uint32_t h = seed, k;

	for (size_t i = 0; i < nblocks; i++) {
		k = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
		    (uint32_t)p[4 * i + 3] << 24;
		k *= c1;
		k = rotl(k, 15);
		k *= c2;
		h ^= k;
		h = rotl(h, 13);
		h = h * 5 + 0xe6546b64;
	}
	k = 0;
	switch (len & 3) {
	case 3:
		k ^= (uint32_t)p[4 * nblocks + 2] << 16;
		/* fall through */
	case 2:
		k ^= (uint32_t)p[4 * nblocks + 1] << 8;
		/* fall through */
	case 1:
		k ^= p[4 * nblocks];
		k *= c1;
		k = rotl(k, 15);
		k *= c2;
		h ^= k;
		break;
	default:
		break;
	}
	h ^= (uint32_t)len;
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

/* Splits "S-1-5-21-a-b-c-rid", the only SIDs SSSD maps (a domain SID is
 * S-1-5-21 and three numbers): the length of the domain part and the RID.
 * Every number is plain decimal below 2^32. */
static int sid_split(const char *sid, size_t *dom_len, uint32_t *rid)
{
	static const char prefix[] = "S-1-5-21-";
	const char *p = sid + sizeof(prefix) - 1;

	if (strncmp(sid, prefix, sizeof(prefix) - 1) != 0) {
		return -1;
	}
	for (int i = 0; i < 4; i++) {
		char *end = NULL;
		unsigned long long v;

		if (*p < '0' || *p > '9') {
			return -1;
		}
		errno = 0;
		v = strtoull(p, &end, 10);
		if (errno != 0 || v > UINT32_MAX || *end != (i < 3 ? '-' : '\0')) {
			return -1;
		}
		if (i == 3) {
			*dom_len = (size_t)(p - sid) - 1;
			*rid = (uint32_t)v;
		}
		p = end + 1;
	}
	return 0;
}

int cm_sid_to_id(const char *sid, uint32_t *id)
{
	const uint32_t slices = (CM_IDMAP_UPPER - CM_IDMAP_LOWER) / CM_IDMAP_RANGESIZE;
	size_t dom_len = 0;
	uint32_t rid = 0, slice;

	if (sid_split(sid, &dom_len, &rid) != 0 || rid >= CM_IDMAP_RANGESIZE) {
		return -1;
	}
	slice = cm_murmurhash3(sid, dom_len, 0xdeadbeef) % slices;
	*id = CM_IDMAP_LOWER + slice * CM_IDMAP_RANGESIZE + rid;
	return 0;
}

int cm_sid_rid(const char *sid, uint32_t *rid)
{
	size_t dom_len = 0;

	return sid_split(sid, &dom_len, rid);
}

size_t cm_sid_binary(const char *sid, unsigned char *out)
{
	static const unsigned char head[] = { 1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0 };
	const char *p = sid + 9;
	size_t dom_len = 0, n = sizeof(head);
	uint32_t rid;

	if (sid_split(sid, &dom_len, &rid) != 0) {
		return 0;
	}
	memcpy(out, head, sizeof(head));
	for (int i = 0; i < 4; i++) {
		char *end = NULL;
		uint32_t v = (uint32_t)strtoul(p, &end, 10);

		out[n++] = (unsigned char)(v & 0xff);
		out[n++] = (unsigned char)(v >> 8 & 0xff);
		out[n++] = (unsigned char)(v >> 16 & 0xff);
		out[n++] = (unsigned char)(v >> 24 & 0xff);
		p = end + 1;
	}
	return n;
}

char *cm_sid_with_rid(const char *sid, uint32_t rid)
{
	size_t dom_len = 0;
	uint32_t old;

	if (sid_split(sid, &dom_len, &old) != 0) {
		return NULL;
	}
	return cm_asprintf("%.*s-%lu", (int)dom_len, sid, (unsigned long)rid);
}

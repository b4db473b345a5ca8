/*
 * Fuzz target for the map-file parser (mapper/mapfile.c): parses the input
 * as a map file, then looks up the key of its first line and a few byte
 * strings cut from the input, and checks that every user returned obeys the
 * user-name rules the parser promises.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "certmap.h"
#include "mapfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_users(const struct cm_strv *users)
{
	for (size_t i = 0; i < users->n; i++) {
		const char *u = users->v[i];
		size_t len = strlen(u);

		if (len == 0 || len > 256 || u[0] == '-' || u[0] == '+' ||
		    strpbrk(u, "/:, \t") != NULL) {
			abort();
		}
		for (size_t j = 0; j < len; j++) {
			if ((unsigned char)u[j] < 0x20 || u[j] == 0x7f) {
				abort();
			}
		}
	}
}

static void lookup(const struct cm_mapfile *mf, const uint8_t *key, size_t len)
{
	struct cm_strv users = {0};

	if (cm_mapfile_lookup(mf, (const char *)key, len, &users) == CERTMAP_OK) {
		check_users(&users);
	}
	cm_strv_clear(&users);
}

/* The raw bytes between the first two quotes (escapes left as they are). */
static void lookup_first_key(const struct cm_mapfile *mf, const uint8_t *data, size_t size)
{
	const uint8_t *open = memchr(data, '"', size);
	const uint8_t *close;

	if (open == NULL) {
		return;
	}
	open++;
	close = memchr(open, '"', size - (size_t)(open - data));
	if (close != NULL) {
		lookup(mf, open, (size_t)(close - open));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_mapfile *mf = NULL;
	char *err = NULL;
	int rc;

	rc = cm_mapfile_parse((const char *)data, size, "fuzz.map", &mf, &err);
	if (rc != CERTMAP_OK) {
		/* Every failure says where, and never returns a table. */
		if (mf != NULL || err == NULL || strncmp(err, "fuzz.map:", 9) != 0) {
			abort();
		}
		free(err);
		return 0;
	}
	if (err != NULL || mf == NULL) {
		abort();
	}
	lookup_first_key(mf, data, size);
	for (size_t off = 0; off < size && off < 64; off += 7) {
		lookup(mf, data + off, size - off < 16 ? size - off : 16);
	}
	lookup(mf, data, 0);
	cm_mapfile_free(mf);
	return 0;
}

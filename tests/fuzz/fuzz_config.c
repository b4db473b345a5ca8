/* Fuzz target: configuration parsing and validation from arbitrary text. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_config *cfg = NULL;
	char *err = NULL;
	char *text = malloc(size + 1);

	if (text == NULL) {
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	/* A name without a directory keeps relative paths from resolving. */
	if (cm_config_parse(text, size, "fuzz.conf", &cfg, &err) == 0) {
		cm_config_free(cfg);
	}
	free(err);
	free(text);
	return 0;
}

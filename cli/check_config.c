/* certmapctl check-config: load and validate a configuration file. */
#include "config.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certmap.h"
#include "cli.h"

static json_object *errors_json(const char *errs)
{
	json_object *list = json_object_new_array();
	const char *p = errs;

	while (list != NULL && p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);

		json_object_array_add(list, json_object_new_string_len(p, (int)len));
		p = nl != NULL ? nl + 1 : NULL;
	}
	return list;
}

int cmd_check_config(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	struct certmap_ctx *ctx = NULL;
	char *err = NULL;
	bool json = false;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:j", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'j': json = true; break;
		case 'h':
			return cli_usage(true);
		default:
			return cli_usage(false);
		}
	}
	cli_json = json;
	if (optind != argc) {
		return cli_usage(false);
	}
	if (path == NULL) {
		path = certmap_default_config();
	}
	rc = certmap_ctx_new(path, &ctx, &err);
	if (json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "config", json_object_new_string(path));
		json_object_object_add(o, "valid", json_object_new_boolean(rc == CERTMAP_OK));
		json_object_object_add(o, "errors", errors_json(rc == CERTMAP_OK ? NULL
						: (err != NULL ? err : certmap_strerror(rc))));
		cli_print_json(o);
	} else if (rc == CERTMAP_OK) {
		printf("%s: valid\n", path);
	} else {
		fprintf(stderr, "%s\n", err != NULL ? err : certmap_strerror(rc));
	}
	certmap_ctx_free(ctx);
	free(err);
	return rc == CERTMAP_OK ? CLI_OK : CLI_USAGE;
}

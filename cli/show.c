/* certmapctl show: the identity fields certmap extracts. Needs no config. */
#include "config.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certmap.h"
#include "cli.h"
#include "identity.h"

/* Printable rendering of a value: escapes control bytes and NULs. */
static char *printable(const struct cm_value *v)
{
	struct cm_buf b;

	cm_buf_init(&b, 1024 * 1024);
	cm_buf_add_escaped(&b, v->data, v->len, 64 * 1024);
	return cm_buf_steal(&b, NULL);
}

static void print_text(void *arg, const char *field, const struct cm_value *v, bool binary)
{
	char *s = printable(v);

	(void)arg;
	(void)binary;
	if (v->unusable != NULL) {
		printf("%-16s %s   [unusable: %s]\n", field, s != NULL ? s : "", v->unusable);
	} else {
		printf("%-16s %s\n", field, s != NULL ? s : "");
	}
	free(s);
}

static void add_json(void *arg, const char *field, const struct cm_value *v, bool binary)
{
	json_object *root = arg, *list = NULL, *val;
	char *s = printable(v);

	(void)binary;
	if (!json_object_object_get_ex(root, field, &list)) {
		list = json_object_new_array();
		json_object_object_add(root, field, list);
	}
	if (v->unusable != NULL) {
		val = json_object_new_object();
		json_object_object_add(val, "value", json_object_new_string(s != NULL ? s : ""));
		json_object_object_add(val, "unusable", json_object_new_string(v->unusable));
	} else {
		val = json_object_new_string(s != NULL ? s : "");
	}
	json_object_array_add(list, val);
	free(s);
}

int cmd_show(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cm_identity *id = NULL;
	unsigned char *data = NULL;
	size_t len;
	char *err = NULL;
	bool json = false;
	int c, rc = CLI_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "j", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'h':
			return cli_usage(true);
		default:
			return cli_usage(false);
		}
	}
	if (optind + 1 != argc) {
		return cli_usage(false);
	}
	if (cli_read_file(argv[optind], &data, &len) != 0) {
		goto out;
	}
	if (cm_identity_parse(data, len, &id, &err) != CERTMAP_OK) {
		cli_error("%s: %s", argv[optind], err != NULL ? err : "cannot parse the certificate");
		goto out;
	}
	if (json) {
		json_object *root = json_object_new_object();

		cm_identity_foreach_field(id, add_json, root);
		cli_print_json(root);
	} else {
		cm_identity_foreach_field(id, print_text, NULL);
	}
	rc = CLI_OK;
out:
	cm_identity_free(id);
	free(data);
	free(err);
	return rc;
}

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

/*
 * The template (or matching-rule component) that reads each field, so that
 * what show prints can be written into a rule (certmap.conf(5), sss-certmap(5)).
 */
static const struct {
	const char *field;
	const char *tpl;
} field_templates[] = {
	{ "subject", "{subject_dn}" },
	{ "subject_x500", "{subject_dn!nss_x500}" },
	{ "issuer", "{issuer_dn}" },
	{ "issuer_x500", "{issuer_dn!nss_x500}" },
	{ "serial", "{serial_number}" },
	{ "serial_dec", "{serial_number!dec}" },
	{ "sha1", "{cert!sha1}" },
	{ "sha256", "{cert!sha256}" },
	{ "ski", "{subject_key_id}" },
	{ "ku", "<KU>" },
	{ "eku", "<EKU>" },
	{ "san.rfc822", "{subject_rfc822_name}" },
	{ "san.dns", "{subject_dns_name}" },
	{ "san.uri", "{subject_uri}" },
	{ "san.ip", "{subject_ip_address}" },
	{ "san.rid", "{subject_registered_id}" },
	{ "san.dirname", "{subject_directory_name}" },
	{ "san.x400", "{subject_x400_address}" },
	{ "san.ediparty", "{subject_ediparty_name}" },
	{ "san.upn", "{subject_nt_principal} {subject_principal}" },
	{ "san.krb5", "{subject_pkinit_principal} {subject_principal}" },
	{ "sid", "{sid}" },
};

/* A malloc'd template text for field, or NULL when no template reads it. */
static char *field_template(const char *field)
{
	static const char *const rdn[] = { "subject_rdn.", "issuer_rdn." };

	for (size_t i = 0; i < CM_ARRAY_SIZE(field_templates); i++) {
		if (strcmp(field, field_templates[i].field) == 0) {
			return strdup(field_templates[i].tpl);
		}
	}
	for (size_t i = 0; i < CM_ARRAY_SIZE(rdn); i++) {
		if (strncmp(field, rdn[i], strlen(rdn[i])) == 0) {
			return cm_asprintf("{%s_dn_component.%s}", i == 0 ? "subject" : "issuer",
					   field + strlen(rdn[i]));
		}
	}
	return NULL;
}

struct show_out {
	json_object *root;
	json_object *templates; /* --templates with --json */
};

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
	char *tpl = field_template(field);

	(void)arg;
	(void)binary;
	printf("%-16s %s", field, s != NULL ? s : "");
	if (v->unusable != NULL) {
		printf("   [unusable: %s]", v->unusable);
	}
	if (tpl != NULL) {
		printf("   (%s)", tpl);
	}
	putchar('\n');
	free(tpl);
	free(s);
}

static void add_json(void *arg, const char *field, const struct cm_value *v, bool binary)
{
	struct show_out *out = arg;
	json_object *root = out->root, *list = NULL, *val;
	char *s = printable(v);

	(void)binary;
	if (out->templates != NULL && !json_object_object_get_ex(out->templates, field, NULL)) {
		char *tpl = field_template(field);

		if (tpl != NULL) {
			json_object_object_add(out->templates, field, json_object_new_string(tpl));
		}
		free(tpl);
	}
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
		{ "templates", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cm_identity *id = NULL;
	unsigned char *data = NULL;
	size_t len;
	char *err = NULL;
	bool json = false, templates = false;
	int c, rc = CLI_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "j", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 't': templates = true; break;
		case 'h':
			return cli_usage(true);
		default:
			return cli_usage(false);
		}
	}
	cli_json = json;
	if (optind + 1 != argc) {
		return cli_usage(false);
	}
	if (cli_read_file(argv[optind], &data, &len) != 0) {
		goto out;
	}
	if (cm_identity_parse(data, len, &id, &err) != CERTMAP_OK) {
		cli_set_reason("invalid_certificate");
		cli_error("%s: %s", argv[optind], err != NULL ? err : "cannot parse the certificate");
		goto out;
	}
	if (json) {
		struct show_out out = { json_object_new_object(), NULL };

		if (templates) {
			out.templates = json_object_new_object();
			json_object_object_add(out.root, "templates", out.templates);
		}
		cm_identity_foreach_field(id, add_json, &out);
		cli_print_json(out.root);
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

/*
 * certmapctl eval-rule: one matching and mapping rule on one certificate,
 * like sssctl cert-eval-rule. Needs no config.
 */
#include "config.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certmap.h"
#include "cli.h"
#include "identity.h"
#include "mapfile.h"
#include "rules.h"

struct eval_result {
	bool matched;
	char *filter;      /* NULL unless mapped */
	const char *label; /* what filter is, for the text output */
	char *error;       /* NULL unless something failed */
	struct cm_strv domains;
};

static void report(const struct eval_result *r, bool json)
{
	if (json) {
		json_object *o = json_object_new_object();
		json_object *doms = json_object_new_array();

		for (size_t i = 0; i < r->domains.n; i++) {
			json_object_array_add(doms, json_object_new_string(r->domains.v[i]));
		}
		json_object_object_add(o, "matched", json_object_new_boolean(r->matched));
		if (r->filter != NULL) {
			json_object_object_add(o, "filter", json_object_new_string(r->filter));
		}
		json_object_object_add(o, "domains", doms);
		if (r->error != NULL) {
			json_object_object_add(o, "error", json_object_new_string(r->error));
		}
		cli_print_json(o);
		return;
	}
	printf("matched: %s\n", r->matched ? "yes" : "no");
	if (r->filter != NULL) {
		printf("%-8s %s\n", r->label, r->filter);
	}
	for (size_t i = 0; i < r->domains.n; i++) {
		printf("domain:  %s\n", r->domains.v[i]);
	}
	if (r->error != NULL) {
		printf("error:   %s\n", r->error);
	}
}

static int split_domains(const char *list, struct cm_strv *out)
{
	const char *p = list;

	while (*p != '\0') {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);

		if (len > 0 && cm_strv_addn(out, p, len) != 0) {
			return -1;
		}
		p += len + (comma != NULL);
	}
	return 0;
}

/* For MAPFILE: rules, the expanded keys are looked up in the map file. */
static int mapfile_users(const struct cm_map *map, struct cm_strv *names, char **error)
{
	struct cm_mapfile *mf = NULL;
	struct cm_strv users = { 0 };
	int rc;

	if ((rc = cm_mapfile_load(cm_map_file(map), &mf, error)) != CERTMAP_OK) {
		return CLI_USAGE;
	}
	for (size_t i = 0; i < names->n; i++) {
		cm_mapfile_lookup(mf, names->v[i], strlen(names->v[i]), &users);
	}
	if (users.n == 0) {
		*error = cm_asprintf("no entry for \"%s\" in %s", names->v[0], cm_map_file(map));
		rc = CLI_REFUSED;
	} else {
		cm_strv_clear(names);
		*names = users;
		memset(&users, 0, sizeof(users));
		rc = CLI_OK;
	}
	cm_strv_clear(&users);
	cm_mapfile_free(mf);
	return rc;
}

static int evaluate(const char *match_rule, const char *map_rule,
		    const struct cm_identity *id, struct eval_result *r)
{
	struct cm_match *match = NULL;
	struct cm_map *map = NULL;
	struct cm_strv names = { 0 };
	struct cm_buf why;
	int rc = CLI_USAGE;

	cm_buf_init(&why, 65536);
	if (cm_match_parse(match_rule, &match, &r->error) != CERTMAP_OK ||
	    cm_map_parse(map_rule, &map, &r->error) != CERTMAP_OK) {
		goto out;
	}
	r->matched = cm_match_eval(match, id, &why);
	if (!r->matched) {
		r->error = cm_buf_steal(&why, NULL);
		rc = CLI_REFUSED;
		goto out;
	}
	if (cm_map_expand(map, id, &names, &why) != CERTMAP_OK || names.n == 0) {
		r->error = why.len > 0 ? cm_buf_steal(&why, NULL)
				       : strdup("the mapping rule cannot be expanded for this certificate");
		rc = CLI_REFUSED;
		goto out;
	}
	if (cm_map_kind(map) == CM_MAP_MAPFILE &&
	    (rc = mapfile_users(map, &names, &r->error)) != CLI_OK) {
		goto out;
	}
	r->filter = strdup(names.v[0]);
	r->label = cm_map_kind(map) == CM_MAP_LOCAL || cm_map_kind(map) == CM_MAP_MAPFILE ? "user:"
										      : "filter:";
	rc = CLI_OK;
out:
	cm_strv_clear(&names);
	cm_buf_free(&why);
	cm_match_free(match);
	cm_map_free(map);
	return rc;
}

int cmd_eval_rule(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "match", required_argument, NULL, 'm' },
		{ "map", required_argument, NULL, 'M' },
		{ "domains", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct eval_result r = { 0 };
	struct cm_identity *id = NULL;
	const char *match_rule = NULL, *map_rule = NULL;
	unsigned char *data = NULL;
	size_t len;
	bool json = false;
	int c, rc = CLI_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "j", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': match_rule = optarg; break;
		case 'M': map_rule = optarg; break;
		case 'd':
			if (split_domains(optarg, &r.domains) != 0) {
				cli_error("out of memory");
				goto out;
			}
			break;
		case 'j': json = true; break;
		case 'h':
			return cli_usage(true);
		default:
			cli_usage(false);
			goto out;
		}
	}
	cli_json = json;
	if (optind + 1 != argc) {
		cli_usage(false);
		goto out;
	}
	if (cli_read_file(argv[optind], &data, &len) != 0) {
		r.error = cm_asprintf("%s: cannot read the certificate", argv[optind]);
	} else if (cm_identity_parse(data, len, &id, &r.error) != CERTMAP_OK) {
		if (r.error == NULL) {
			r.error = strdup("cannot parse the certificate");
		}
	} else {
		rc = evaluate(match_rule, map_rule, id, &r);
	}
	report(&r, json);
out:
	cm_identity_free(id);
	free(data);
	free(r.filter);
	free(r.error);
	cm_strv_clear(&r.domains);
	return rc;
}

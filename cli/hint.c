/*
 * certmapctl hint decode|encode: the RFC 4681 UserMappingDataList a TLS
 * client sends in SupplementalData, in hex (or raw bytes), to and from the
 * UPN and domain it carries (mapper/hint.c, certmap_hint(3)).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certmap.h"
#include "cli.h"

/* Hex text read from standard input: the largest list in hex, with room
 * for line breaks and spaces. More is refused, not cut. */
#define HINT_MAX_TEXT (4 * CERTMAP_HINT_MAX_DATA)

/* Reads at most max bytes of f; more is an error. */
static int read_all(FILE *f, const char *name, size_t max, unsigned char **data, size_t *len)
{
	unsigned char *buf = malloc(max + 1);
	size_t n;

	*data = NULL;
	*len = 0;
	if (buf == NULL) {
		cli_error("out of memory");
		return -1;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f)) {
		cli_error("%s: read error", name);
		free(buf);
		return -1;
	}
	if (n > max) {
		cli_set_reason("hint_invalid");
		cli_error("%s: more than %zu bytes", name, max);
		free(buf);
		return -1;
	}
	*data = buf;
	*len = n;
	return 0;
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

/* Hex digits to bytes in place; spaces, tabs and line breaks are skipped. */
static int hex_decode(unsigned char *s, size_t len, size_t *out_len)
{
	size_t n = 0, digits = 0;
	int hi = -1;

	for (size_t i = 0; i < len; i++) {
		int v = hex_value(s[i]);

		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			continue;
		}
		if (v < 0) {
			cli_set_reason("hint_invalid");
			cli_error("not a hex digit at character %zu of the input", i + 1);
			return -1;
		}
		digits++;
		if (hi < 0) {
			hi = v;
		} else {
			s[n++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0) {
		cli_set_reason("hint_invalid");
		cli_error("an odd number of hex digits (%zu)", digits);
		return -1;
	}
	*out_len = n;
	return 0;
}

int cli_hint_hex_arg(const char *arg, unsigned char **data, size_t *len)
{
	size_t n = strlen(arg);

	*data = NULL;
	*len = 0;
	if (n > HINT_MAX_TEXT) {
		cli_set_reason("hint_invalid");
		cli_error("the hex argument is longer than %d characters", HINT_MAX_TEXT);
		return -1;
	}
	if ((*data = (unsigned char *)strdup(arg)) == NULL) {
		cli_error("out of memory");
		return -1;
	}
	return hex_decode(*data, n, len);
}

/* The input of hint decode: HEX (or hex on stdin), or raw bytes with --binary. */
static int decode_input(const char *arg, bool binary, unsigned char **data, size_t *len)
{
	FILE *f = stdin;
	const char *name = "standard input";
	int rc;

	if (!binary && arg != NULL) {
		return cli_hint_hex_arg(arg, data, len);
	}
	if (binary && arg != NULL && strcmp(arg, "-") != 0) {
		name = arg;
		if ((f = fopen(arg, "rb")) == NULL) {
			cli_set_reason("usage_error");
			cli_error("%s: %s", arg, strerror(errno));
			return -1;
		}
	}
	rc = read_all(f, name, binary ? CERTMAP_HINT_MAX_DATA : HINT_MAX_TEXT, data, len);
	if (f != stdin) {
		fclose(f);
	}
	if (rc != 0 || binary) {
		return rc;
	}
	return hex_decode(*data, *len, len);
}

static void print_decoded(const struct certmap_hint *h, bool json)
{
	const char *upn = certmap_hint_upn(h), *dom = certmap_hint_domain(h);
	json_object *o;

	if (json) {
		o = json_object_new_object();
		json_object_object_add(o, "upn", upn != NULL ? json_object_new_string(upn) : NULL);
		json_object_object_add(o, "domain",
				       dom != NULL ? json_object_new_string(dom) : NULL);
		cli_print_json(o);
		return;
	}
	/* Both strings passed the decoder: UTF-8 without control characters. */
	if (upn != NULL) {
		printf("upn: %s\n", upn);
	}
	if (dom != NULL) {
		printf("domain: %s\n", dom);
	}
	if (upn == NULL && dom == NULL) {
		printf("no upn_domain_hint (only entries of other types)\n");
	}
}

static int hint_decode(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"binary", no_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct certmap_hint *h = NULL;
	unsigned char *data = NULL;
	char *msg = NULL;
	bool json = false, binary = false;
	size_t len = 0;
	int c, rc = CLI_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jb", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'b': binary = true; break;
		case 'h': return cli_usage(true);
		default: return cli_usage(false);
		}
	}
	cli_json = json;
	if (argc - optind > 1) {
		return cli_usage(false);
	}
	if (decode_input(optind < argc ? argv[optind] : NULL, binary, &data, &len) != 0) {
		goto out;
	}
	switch (certmap_hint_decode(data, len, &h, &msg)) {
	case CERTMAP_OK:
		print_decoded(h, json);
		rc = CLI_OK;
		break;
	case CERTMAP_ERR_HINT:
		cli_set_reason("hint_invalid");
		cli_error("%s", msg != NULL ? msg : "malformed user-mapping data");
		break;
	default: cli_error("out of memory"); break;
	}
out:
	certmap_hint_free(h);
	free(data);
	free(msg);
	return rc;
}

static int hint_encode(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"upn", required_argument, NULL, 'u'},
	    {"domain", required_argument, NULL, 'd'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *upn = NULL, *domain = NULL;
	unsigned char *data = NULL;
	char *msg = NULL;
	bool json = false;
	size_t len = 0;
	int c, rc = CLI_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "u:d:j", longopts, NULL)) != -1) {
		switch (c) {
		case 'u': upn = optarg; break;
		case 'd': domain = optarg; break;
		case 'j': json = true; break;
		case 'h': return cli_usage(true);
		default: return cli_usage(false);
		}
	}
	cli_json = json;
	if (optind != argc || (upn == NULL && domain == NULL)) {
		return cli_usage(false);
	}
	switch (certmap_hint_encode(upn, domain, &data, &len, &msg)) {
	case CERTMAP_OK: {
		char *hex = malloc(2 * len + 1);

		if (hex == NULL) {
			cli_error("out of memory");
			break;
		}
		for (size_t i = 0; i < len; i++) {
			snprintf(hex + 2 * i, 3, "%02x", data[i]);
		}
		if (json) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "hex", json_object_new_string(hex));
			cli_print_json(o);
		} else {
			printf("%s\n", hex);
		}
		free(hex);
		rc = CLI_OK;
		break;
	}
	case CERTMAP_ERR_HINT:
		cli_set_reason("hint_invalid");
		cli_error("%s", msg != NULL ? msg : "invalid hint");
		break;
	default: cli_error("out of memory"); break;
	}
	free(data);
	free(msg);
	return rc;
}

int cmd_hint(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "decode") == 0) {
		return hint_decode(argc - 1, argv + 1);
	}
	if (argc >= 2 && strcmp(argv[1], "encode") == 0) {
		return hint_encode(argc - 1, argv + 1);
	}
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		return cli_usage(true);
	}
	return cli_usage(false);
}

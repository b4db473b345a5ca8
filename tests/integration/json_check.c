/*
 * json_check FILE...: each file must hold exactly one JSON object (and
 * white space around it), valid by RFC 8259 and in UTF-8 as RFC 3629
 * defines it. json-c parses in strict mode with its UTF-8 check; iconv
 * checks the encoding again on its own, so that the check does not rest on
 * certmap's own UTF-8 code. Prints "FILE: what is wrong" per bad file and
 * exits 1 if any was bad, 0 otherwise.
 */
#include "config.h"

#include <errno.h>
#include <iconv.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE (8 * 1024 * 1024)

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(MAX_FILE + 1);
	size_t n = 0;

	*len = 0;
	if (f == NULL || buf == NULL) {
		if (f != NULL) {
			fclose(f);
		}
		free(buf);
		return NULL;
	}
	n = fread(buf, 1, MAX_FILE, f);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* glibc's iconv refuses overlong forms, surrogates and truncated sequences. */
static int utf8_ok(const char *p, size_t len)
{
	iconv_t cd = iconv_open("UTF-32LE", "UTF-8");
	char out[4096];
	char *in = (char *)p;
	int ok = 1;

	if (cd == (iconv_t)-1) {
		return 0;
	}
	while (len > 0) {
		char *o = out;
		size_t olen = sizeof(out);

		if (iconv(cd, &in, &len, &o, &olen) == (size_t)-1 && errno != E2BIG) {
			ok = 0;
			break;
		}
	}
	iconv_close(cd);
	return ok;
}

static const char *check(const char *p, size_t len)
{
	json_tokener *tok = json_tokener_new_ex(64);
	json_object *o = NULL;
	const char *why = NULL;
	size_t end;

	if (tok == NULL) {
		return "out of memory";
	}
	if (len == 0) {
		why = "empty: no JSON object";
		goto out;
	}
	if (memchr(p, '\0', len) != NULL) {
		why = "a NUL byte";
		goto out;
	}
	if (!utf8_ok(p, len)) {
		why = "not valid UTF-8 (iconv)";
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8 |
					    JSON_TOKENER_ALLOW_TRAILING_CHARS);
	o = json_tokener_parse_ex(tok, p, (int)len);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success) {
		why = json_tokener_error_desc(json_tokener_get_error(tok));
		goto out;
	}
	if (!json_object_is_type(o, json_type_object)) {
		why = "not a JSON object";
		goto out;
	}
	for (end = json_tokener_get_parse_end(tok); end < len; end++) {
		if (strchr(" \t\r\n", p[end]) == NULL) {
			why = "more than one JSON value";
			goto out;
		}
	}
out:
	json_object_put(o);
	json_tokener_free(tok);
	return why;
}

int main(int argc, char **argv)
{
	int bad = 0;

	for (int i = 1; i < argc; i++) {
		size_t len;
		char *p = read_all(argv[i], &len);
		const char *why = p != NULL ? check(p, len) : "cannot read";

		if (why != NULL) {
			printf("%s: %s\n", argv[i], why);
			bad = 1;
		}
		free(p);
	}
	return bad;
}

/* Helpers shared by the unit tests. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "util.h"

static const char *env_or_die(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0') {
		fprintf(stderr, "%s is not set; run the tests through make check\n", name);
		abort();
	}
	return v;
}

char *cmt_cert_path(const char *name)
{
	return cm_asprintf("%s/%s", env_or_die("CERTMAP_TEST_CERTS"), name);
}

int cmt_read_file(const char *path, unsigned char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t n = 0, alloc = 0;

	if (f == NULL) {
		return -1;
	}
	for (;;) {
		size_t got;

		if (alloc - n < 4096) {
			unsigned char *p = realloc(buf, alloc + 65536);

			if (p == NULL) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = p;
			alloc += 65536;
		}
		got = fread(buf + n, 1, alloc - n - 1, f);
		n += got;
		if (got == 0) {
			break;
		}
	}
	fclose(f);
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
}

struct cm_identity *cmt_load_identity(const char *name)
{
	char *path = cmt_cert_path(name);
	unsigned char *data = NULL;
	size_t len = 0;
	struct cm_identity *id = NULL;
	char *err = NULL;

	if (cmt_read_file(path, &data, &len) != 0) {
		fprintf(stderr, "cannot read %s: %s\n", path, strerror(errno));
		abort();
	}
	if (cm_identity_parse(data, len, &id, &err) != 0) {
		fprintf(stderr, "cannot parse %s: %s\n", path, err ? err : "?");
		abort();
	}
	free(data);
	free(path);
	return id;
}

char *cmt_tmpdir(const char *tag)
{
	const char *top = env_or_die("CERTMAP_BUILDDIR");
	char *base = cm_asprintf("%s/tests/tmp", top);
	char *dir;

	mkdir(base, 0700);
	dir = cm_asprintf("%s/%s.XXXXXX", base, tag);
	free(base);
	if (dir == NULL || mkdtemp(dir) == NULL) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		abort();
	}
	return dir;
}

char *cmt_write_file(const char *dir, const char *name, const char *data)
{
	char *path = cm_asprintf("%s/%s", dir, name);
	FILE *f = path ? fopen(path, "w") : NULL;

	if (f == NULL || fputs(data, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", path ? path : name);
		abort();
	}
	return path;
}

/* certmapctl import: the command, and what both importers share. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "import_common.h"

/* The generated file is small; anything larger is a bug or a hostile input. */
#define IMP_MAX_OUTPUT (8 * 1024 * 1024)

void imp_init(struct imp *im, const char *kind, const char *source)
{
	memset(im, 0, sizeof(*im));
	im->kind = kind;
	im->source = source;
	cm_buf_init(&im->head, IMP_MAX_OUTPUT);
	cm_buf_init(&im->verify, IMP_MAX_OUTPUT);
	cm_buf_init(&im->domains, IMP_MAX_OUTPUT);
	cm_buf_init(&im->rules, IMP_MAX_OUTPUT);
}

void imp_clear(struct imp *im)
{
	cm_buf_free(&im->head);
	cm_buf_free(&im->verify);
	cm_buf_free(&im->domains);
	cm_buf_free(&im->rules);
}

/* Comment text: one line per line of s, control bytes shown as '?'. */
static void comment_text(struct cm_buf *b, const char *indent, const char *s)
{
	cm_buf_adds(b, indent);
	cm_buf_adds(b, "# ");
	for (; *s != '\0'; s++) {
		if (*s == '\n') {
			cm_buf_addc(b, '\n');
			cm_buf_adds(b, indent);
			cm_buf_adds(b, "# ");
		} else {
			cm_buf_addc(b, (unsigned char)*s < 0x20 ? '?' : *s);
		}
	}
	cm_buf_addc(b, '\n');
}

void imp_comment(struct cm_buf *b, const char *indent, const char *fmt, ...)
{
	char *s;
	va_list ap;

	va_start(ap, fmt);
	s = cm_vasprintf(fmt, ap);
	va_end(ap);
	if (s == NULL) {
		b->failed = true;
		return;
	}
	comment_text(b, indent, s);
	free(s);
}

void imp_warn(struct imp *im, struct cm_buf *b, bool affects, const char *fmt, ...)
{
	char *s;
	char *line = NULL;
	va_list ap;

	va_start(ap, fmt);
	s = cm_vasprintf(fmt, ap);
	va_end(ap);
	im->n_warnings++;
	im->lost = im->lost || affects;
	if (s == NULL) {
		b->failed = true;
		return;
	}
	fprintf(stderr, "certmapctl: import: warning: %s\n", s);
	line = cm_asprintf("NOT IMPORTED%s: %s", affects ? " (affects mapping)" : "", s);
	if (line == NULL) {
		b->failed = true;
	} else {
		comment_text(b, "\t", line);
	}
	free(line);
	free(s);
}

void imp_note(struct imp *im, struct cm_buf *b, const char *fmt, ...)
{
	char *s;
	va_list ap;

	va_start(ap, fmt);
	s = cm_vasprintf(fmt, ap);
	va_end(ap);
	if (s == NULL) {
		b->failed = true;
		return;
	}
	im->n_notes++;
	fprintf(stderr, "certmapctl: import: note: %s\n", s);
	comment_text(b, "\t", s);
	free(s);
}

void imp_next(struct cm_buf *b, size_t n, size_t end)
{
	if (n == 0 || b->failed || end > b->len) {
		return;
	}
	cm_buf_addc(b, ' ');
	if (!b->failed) {
		memmove(b->data + end + 1, b->data + end, b->len - 1 - end);
		b->data[end] = ',';
	}
}

void imp_end(struct cm_buf *b, size_t *n, size_t *end)
{
	*end = b->len;
	(*n)++;
	cm_buf_addc(b, '\n');
}

void imp_quote(struct cm_buf *b, const char *s)
{
	cm_buf_addc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"': cm_buf_adds(b, "\\\""); break;
		case '\\': cm_buf_adds(b, "\\\\"); break;
		case '\t': cm_buf_adds(b, "\\t"); break;
		case '\n': cm_buf_adds(b, "\\n"); break;
		case '\r': cm_buf_adds(b, "\\r"); break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				cm_buf_printf(b, "\\x%02x", *p);
			} else {
				cm_buf_addc(b, (char)*p);
			}
		}
	}
	cm_buf_addc(b, '"');
}

void imp_set_str(struct cm_buf *b, const char *indent, const char *key, const char *value)
{
	cm_buf_printf(b, "%s%s = ", indent, key);
	imp_quote(b, value);
	cm_buf_adds(b, ";\n");
}

void imp_set_list(struct cm_buf *b, const char *indent, const char *key, const struct cm_strv *v)
{
	cm_buf_printf(b, "%s%s = [", indent, key);
	for (size_t i = 0; i < v->n; i++) {
		cm_buf_adds(b, i > 0 ? ", " : " ");
		imp_quote(b, v->v[i]);
	}
	cm_buf_adds(b, v->n > 0 ? " ];\n" : "];\n");
}

int imp_split(const char *s, char sep, struct cm_strv *v)
{
	const char *p = s;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, sep);
		const char *stop = end != NULL ? end : p + strlen(p);
		const char *a = p;

		while (a < stop && (*a == ' ' || *a == '\t')) {
			a++;
		}
		while (stop > a && (stop[-1] == ' ' || stop[-1] == '\t')) {
			stop--;
		}
		if (stop > a && cm_strv_addn(v, a, (size_t)(stop - a)) != 0) {
			return -1;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return 0;
}

char *imp_sibling(const char *output, const char *name)
{
	const char *slash = output != NULL ? strrchr(output, '/') : NULL;

	if (output == NULL || strcmp(output, "-") == 0 || slash == NULL) {
		return strdup(name);
	}
	return cm_asprintf("%.*s/%s", (int)(slash - output), output, name);
}

int imp_write_file(const char *path, const char *data, size_t len)
{
	char *tmp = cm_asprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = -1;
	int rc = -1;

	if (tmp == NULL) {
		cli_error("out of memory");
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		cli_error("%s: %s", tmp, strerror(errno));
		goto out;
	}
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			cli_error("%s: %s", tmp, strerror(errno));
			goto out;
		}
		done += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		cli_error("%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		cli_error("%s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0) {
		close(fd);
	}
	if (rc != 0 && tmp != NULL) {
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

static void assemble(struct imp *im, struct cm_buf *out)
{
	cm_buf_printf(out, "# certmap.conf imported by certmapctl import %s from %s.\n", im->kind,
		      im->source);
	cm_buf_adds(out, "# Read every comment, then run: certmapctl check-config --config FILE\n");
	if (im->n_warnings > 0) {
		cm_buf_printf(out, "# %u item(s) could not be imported: search for NOT IMPORTED.\n",
			      im->n_warnings);
	}
	cm_buf_add(out, im->head.data, im->head.len);
	cm_buf_adds(out, "\nverify = {\n");
	cm_buf_add(out, im->verify.data, im->verify.len);
	cm_buf_adds(out, "};\n\ndomains = (\n");
	cm_buf_add(out, im->domains.data, im->domains.len);
	cm_buf_adds(out, ");\n\nrules = (\n");
	cm_buf_add(out, im->rules.data, im->rules.len);
	cm_buf_adds(out, ");\n");
}

int imp_write(struct imp *im, const char *path)
{
	struct cm_buf out;
	int rc = -1;

	cm_buf_init(&out, IMP_MAX_OUTPUT);
	assemble(im, &out);
	if (im->head.failed || im->verify.failed || im->domains.failed || im->rules.failed ||
	    out.failed) {
		cli_error("out of memory (or output larger than %d bytes)", IMP_MAX_OUTPUT);
		goto out;
	}
	if (path == NULL || strcmp(path, "-") == 0) {
		if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
			cli_error("standard output: write error");
			goto out;
		}
		rc = 0;
		goto out;
	}
	rc = imp_write_file(path, out.data, out.len);
out:
	cm_buf_free(&out);
	return rc;
}

int cmd_import(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		return cli_usage(true);
	}
	if (argc < 2) {
		cli_error("import: which format? (sssd or pam_pkcs11)");
		return cli_usage(false);
	}
	if (strcmp(argv[1], "sssd") == 0) {
		return imp_sssd(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "pam_pkcs11") == 0) {
		return imp_pkcs11(argc - 1, argv + 1);
	}
	cli_error("import: unknown format '%s' (expected sssd or pam_pkcs11)", argv[1]);
	return cli_usage(false);
}

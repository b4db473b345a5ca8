/*
 * The ldap pool after fork(): a child must not use or unbind the parent's
 * pooled connection. Run by tests/ldap/test_ldap.sh.
 *
 *	fork_ldap CONFIG CERT
 *
 * Maps CERT (its ldap domain opens a pooled connection), forks; the child
 * maps CERT and frees the context; the parent then maps again and checks
 * that a socket it held before the fork is still open: a child that
 * unbinds the inherited connection makes slapd close it, and the parent
 * would reconnect. Exits 0 when all holds, 1 with a message otherwise.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "certmap.h"

#define MAX_SOCKS 64

static size_t sockets(unsigned long *ino, size_t max)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	size_t n = 0;

	while (d != NULL && (de = readdir(d)) != NULL && n < max) {
		struct stat st;

		if (fstatat(dirfd(d), de->d_name, &st, 0) == 0 && S_ISSOCK(st.st_mode)) {
			ino[n++] = (unsigned long)st.st_ino;
		}
	}
	if (d != NULL) {
		closedir(d);
	}
	return n;
}

static int map_once(struct certmap_ctx *ctx, const struct certmap_request *req)
{
	struct certmap_answer *a = NULL;
	int ok = certmap_map(ctx, req, &a) == 0 &&
		 certmap_answer_verdict(a) == CERTMAP_VERDICT_MAPPED;

	certmap_answer_free(a);
	return ok;
}

int main(int argc, char **argv)
{
	static unsigned char cert[65536];
	struct certmap_request req = { 0 };
	struct certmap_ctx *ctx = NULL;
	unsigned long before[MAX_SOCKS], after[MAX_SOCKS];
	size_t nb, na;
	char *err = NULL;
	FILE *f;
	pid_t pid;
	int st = 0;
	struct timespec pause = { 0, 300 * 1000 * 1000 };

	if (argc != 3 || (f = fopen(argv[2], "rb")) == NULL) {
		fprintf(stderr, "usage: fork_ldap CONFIG CERT\n");
		return 2;
	}
	req.cert = cert;
	req.cert_len = fread(cert, 1, sizeof(cert), f);
	fclose(f);
	if (certmap_ctx_new(argv[1], &ctx, &err) != 0 || !map_once(ctx, &req)) {
		fprintf(stderr, "fork_ldap: the parent does not map (%s)\n", err != NULL ? err : "");
		return 2;
	}
	nb = sockets(before, MAX_SOCKS);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		int ok = map_once(ctx, &req);

		certmap_ctx_free(ctx);
		_exit(ok ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "fork_ldap: the child does not map\n");
		return 1;
	}
	/* Time for slapd to act on an unbind the child may have sent. */
	nanosleep(&pause, NULL);
	if (!map_once(ctx, &req)) {
		fprintf(stderr, "fork_ldap: the parent does not map after the fork\n");
		return 1;
	}
	na = sockets(after, MAX_SOCKS);
	certmap_ctx_free(ctx);
	for (size_t i = 0; i < nb; i++) {
		for (size_t j = 0; j < na; j++) {
			if (before[i] == after[j]) {
				return 0;
			}
		}
	}
	fprintf(stderr, "fork_ldap: the parent's connection did not survive the child\n");
	return 1;
}

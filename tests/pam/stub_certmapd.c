/*
 * A stand-in for certmapd that misbehaves on purpose, for the PAM tests.
 *
 *	stub_certmapd SOCKET MODE
 *
 * Listens on SOCKET (created under a temporary name and renamed into
 * place once listening, so a test can wait for the path to appear) and
 * answers every NUL-terminated request according to MODE:
 *	garbage       bytes that are not JSON, NUL-terminated
 *	close         no reply: closes the connection
 *	truncated     half a JSON object, then closes
 *	mapped-other  a well-formed "mapped" reply for user bob (whoever asked)
 *	silent        never answers (the client's timeout must fire)
 * Exits by itself after 60 seconds so that a failed test leaves nothing.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char mapped_other[] =
    "{\"parameters\":{\"verdict\":\"mapped\",\"user\":\"bob\",\"uid\":1001,"
    "\"gid\":1001,\"groups\":[\"bob\"],\"home\":\"/home/bob\",\"rule\":\"upn\","
    "\"domain\":\"local\"}}";

/* An error reply that claims a mapping: it must still refuse. */
static const char error_mapped[] =
    "{\"error\":\"org.certmap.Mapper.BackendUnavailable\",\"parameters\":{\"verdict\":\"mapped\","
    "\"user\":\"alice\",\"uid\":1000,\"gid\":1000,\"groups\":[\"alice\"],\"home\":\"/home/alice\","
    "\"rule\":\"upn\",\"domain\":\"local\"}}";

static void reply(int fd, const char *mode)
{
	static const char garbage[] = "this is not varlink at all";
	static const char truncated[] = "{\"parameters\":{\"verdict\":\"mapp";

	if (strcmp(mode, "garbage") == 0) {
		(void)!write(fd, garbage, sizeof(garbage));
	} else if (strcmp(mode, "truncated") == 0) {
		(void)!write(fd, truncated, sizeof(truncated) - 1);
	} else if (strcmp(mode, "mapped-other") == 0) {
		(void)!write(fd, mapped_other, sizeof(mapped_other));
	} else if (strcmp(mode, "error-mapped") == 0) {
		(void)!write(fd, error_mapped, sizeof(error_mapped));
	} else if (strcmp(mode, "silent") == 0) {
		sleep(30);
	}
}

/* Reads requests up to each NUL and answers them; "close" and
 * "truncated" end the connection after the first. */
static void serve(int fd, const char *mode)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (memchr(buf, '\0', (size_t)n) == NULL) {
			continue;
		}
		reply(fd, mode);
		if (strcmp(mode, "close") == 0 || strcmp(mode, "truncated") == 0) {
			break;
		}
	}
	close(fd);
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char tmp[sizeof(sa.sun_path)];
	int lfd, fd;

	if (argc != 3 || strlen(argv[1]) + 5 >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: stub_certmapd SOCKET MODE\n");
		return 2;
	}
	alarm(60);
	signal(SIGPIPE, SIG_IGN);
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
	memcpy(sa.sun_path, tmp, strlen(tmp) + 1);
	unlink(tmp);
	if ((lfd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 16) != 0 ||
	    rename(tmp, argv[1]) != 0) {
		perror("stub_certmapd");
		return 1;
	}
	while ((fd = accept(lfd, NULL, NULL)) >= 0) {
		serve(fd, argv[2]);
	}
	return 0;
}

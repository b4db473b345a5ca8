/*
 * A raw varlink peer for the protocol tests:
 *
 *   frames SOCKET [QUIET_MS]
 *
 * sends stdin as it is (without closing its side), then prints every reply
 * frame on a line of its own until the service closes the connection or
 * is quiet for QUIET_MS (default 700), and last "OPEN" or "CLOSED". Each
 * frame is checked with this program's own strict UTF-8 check and with
 * json-c's strict parser: exit 0 when all are valid, 5 when one is not.
 */
#include "config.h"

#include <json-c/json.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../lib/utf8_ref.h"

static bool json_strict(const char *s, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *o;
	bool ok;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, s, (int)len);
	ok = o != NULL && json_tokener_get_error(tok) == json_tokener_success &&
	     json_tokener_get_parse_end(tok) == len && json_object_is_type(o, json_type_object);
	json_object_put(o);
	json_tokener_free(tok);
	return ok;
}

int main(int argc, char **argv)
{
	static char in[1 << 20], buf[1 << 22];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int quiet = argc > 2 ? atoi(argv[2]) : 700;
	size_t len, off = 0, have = 0;
	int fd, rc = 0;
	bool closed = false;

	if (argc < 2) {
		fprintf(stderr, "usage: frames SOCKET [QUIET_MS]\n");
		return 2;
	}
	len = fread(in, 1, sizeof(in), stdin);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("connect");
		return 3;
	}
	while (off < len) {
		ssize_t n = send(fd, in + off, len - off, MSG_NOSIGNAL);

		if (n <= 0) {
			break; /* the service may close after an error reply */
		}
		off += (size_t)n;
	}
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;
		char *nul;

		if (poll(&p, 1, quiet) <= 0) {
			break;
		}
		n = read(fd, buf + have, sizeof(buf) - have);
		if (n <= 0) {
			closed = true;
			break;
		}
		have += (size_t)n;
		while ((nul = memchr(buf, '\0', have)) != NULL) {
			size_t flen = (size_t)(nul - buf);

			fwrite(buf, 1, flen, stdout);
			putchar('\n');
			if (!ref_utf8_valid(buf, flen)) {
				printf("INVALID: the frame above is not UTF-8\n");
				rc = 5;
			} else if (!json_strict(buf, flen)) {
				printf("INVALID: the frame above is not one strict JSON object\n");
				rc = 5;
			}
			have -= flen + 1;
			memmove(buf, nul + 1, have);
		}
	}
	if (have > 0) {
		printf("INVALID: %zu bytes without a NUL\n", have);
		rc = 5;
	}
	printf("%s\n", closed ? "CLOSED" : "OPEN");
	close(fd);
	return rc;
}

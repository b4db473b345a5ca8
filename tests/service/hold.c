/*
 * Holds connections open, for the descriptor exhaustion test:
 *
 *   hold SOCKET N GO_FILE
 *
 * opens N connections to SOCKET (non-blocking: a full backlog does not
 * stall it), prints how many connected, sends nothing, and closes them all
 * once GO_FILE exists (or after 60 seconds).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int n, *fds, connected = 0;

	if (argc != 4 || (n = atoi(argv[2])) <= 0 ||
	    (fds = calloc((size_t)n, sizeof(*fds))) == NULL) {
		fprintf(stderr, "usage: hold SOCKET N GO_FILE\n");
		return 2;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	for (int i = 0; i < n; i++) {
		fds[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fds[i] >= 0 && connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			connected++;
		} else if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
	}
	printf("connected %d\n", connected);
	fflush(stdout);
	for (int i = 0; i < 1200 && access(argv[3], F_OK) != 0; i++) {
		usleep(50 * 1000);
	}
	for (int i = 0; i < n; i++) {
		if (fds[i] >= 0) {
			close(fds[i]);
		}
	}
	free(fds);
	return 0;
}

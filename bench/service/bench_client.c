/*
 * Load generator for bench/service/run.sh.
 *
 *   bench_client echo SOCKET REPLY_FILE      a raw Unix-socket echo service:
 *                                            reads a NUL-terminated frame,
 *                                            answers REPLY_FILE's bytes (the floor)
 *   bench_client run SOCKET REQUEST_FILE CLIENTS SECONDS
 *                                            CLIENTS threads, one connection
 *                                            each, send the frame in a loop;
 *                                            prints round trips/s and mean µs
 *   bench_client count SOCKET REQUEST_FILE N one connection, N round trips
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "benchlib.h"

/* One round trip: send the frame, read up to and including the reply's NUL. */
static int round_trip(int fd, const char *req, size_t len, char *buf, size_t cap)
{
	size_t got = 0;

	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
		return -1;
	}
	for (;;) {
		ssize_t n = recv(fd, buf + got, cap - got, 0);

		if (n <= 0) {
			return -1;
		}
		got += (size_t)n;
		if (buf[got - 1] == '\0') {
			return 0;
		}
		if (got == cap) {
			return -1;
		}
	}
}

struct echo_conn {
	int fd;
	const char *reply;
	size_t reply_len;
};

static void *echo_thread(void *arg)
{
	struct echo_conn *c = arg;
	char buf[65536];
	size_t have = 0;

	for (;;) {
		ssize_t n = recv(c->fd, buf + have, sizeof(buf) - have, 0);
		char *nul;

		if (n <= 0) {
			break;
		}
		have += (size_t)n;
		while ((nul = memchr(buf, '\0', have)) != NULL) {
			size_t used = (size_t)(nul - buf) + 1;

			if (send(c->fd, c->reply, c->reply_len, MSG_NOSIGNAL) < 0) {
				goto out;
			}
			memmove(buf, buf + used, have - used);
			have -= used;
		}
	}
out:
	close(c->fd);
	free(c);
	return NULL;
}

static int do_echo(const char *path, const char *reply_file)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	char *reply = bench_load(reply_file, &len);
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 128) != 0) {
		perror("echo");
		return 2;
	}
	for (;;) {
		struct echo_conn *c = malloc(sizeof(*c));
		pthread_t t;

		c->fd = accept(lfd, NULL, NULL);
		c->reply = reply;
		c->reply_len = len;
		if (c->fd < 0) {
			free(c);
			continue;
		}
		pthread_create(&t, NULL, echo_thread, c);
		pthread_detach(t);
	}
}

struct runner {
	struct bench_thread t;
	const char *path;
	const char *req;
	size_t len;
};

static void *run_thread(void *arg)
{
	struct runner *r = arg;
	char *buf = malloc(1 << 20);
	int fd = bench_connect(r->path);

	if (fd < 0) {
		exit(3);
	}
	bench_wait_go(&r->t);
	while (bench_now_s() < r->t.until) {
		for (int i = 0; i < 64; i++) {
			if (round_trip(fd, r->req, r->len, buf, 1 << 20) != 0) {
				r->t.failed = 1;
				goto out;
			}
			r->t.done++;
		}
	}
out:
	close(fd);
	free(buf);
	return NULL;
}

static int do_run(const char *path, const char *req_file, int clients, double seconds)
{
	size_t len;
	char *req = bench_load(req_file, &len);
	struct runner *r = calloc((size_t)clients, sizeof(*r));
	long total = 0;
	int failed = 0;

	for (int i = 0; i < clients; i++) {
		r[i] = (struct runner){ .path = path, .req = req, .len = len };
	}
	seconds = bench_run_threads(r, sizeof(*r), clients, run_thread, seconds);
	for (int i = 0; i < clients; i++) {
		total += r[i].t.done;
		failed |= r[i].t.failed;
	}
	printf("clients=%d requests=%ld rps=%.0f mean_rtt_us=%.2f%s\n", clients, total,
	       (double)total / seconds, seconds * 1e6 * clients / (double)total,
	       failed ? " FAILED" : "");
	return failed;
}

static int do_count(const char *path, const char *req_file, long n)
{
	size_t len;
	char *req = bench_load(req_file, &len);
	char *buf = malloc(1 << 20);
	int fd = bench_connect(path);

	if (fd < 0) {
		exit(3);
	}
	for (long i = 0; i < n; i++) {
		if (round_trip(fd, req, len, buf, 1 << 20) != 0) {
			fprintf(stderr, "failed after %ld\n", i);
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "echo") == 0) {
		return do_echo(argv[2], argv[3]);
	}
	if (argc == 6 && strcmp(argv[1], "run") == 0) {
		return do_run(argv[2], argv[3], atoi(argv[4]), atof(argv[5]));
	}
	if (argc == 5 && strcmp(argv[1], "count") == 0) {
		return do_count(argv[2], argv[3], atol(argv[4]));
	}
	fprintf(stderr, "usage: bench_client echo|run|count ...\n");
	return 2;
}

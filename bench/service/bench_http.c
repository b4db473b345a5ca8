/*
 * HTTP load generator for certmapd's forward-auth listener (bench and load
 * test): keep-alive HTTP/1.1 GETs over a Unix socket, each answer checked.
 *
 *   bench_http run SOCKET REQUEST_FILE CLIENTS SECONDS
 *       CLIENTS threads, one connection each, send REQUEST_FILE's bytes (a
 *       whole HTTP request) in a loop; prints round trips/s and mean µs
 *   bench_http load SOCKET REQUEST_FILE CLIENTS N EXPECT
 *       N requests in all over CLIENTS connections; an answer is right
 *       when it is a 200 whose headers hold the line EXPECT; prints
 *       "requests=N wrong=W" and exits 1 when W > 0 or a connection broke
 *
 * A connection closed by certmapd is opened again (counted as reconnects),
 * so that an idle timeout never shows as a wrong answer.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "benchlib.h"

#define BUF_MAX (1 << 20)

/* The value of Content-Length in the header block hdr (NUL-terminated). */
static long content_length(const char *hdr)
{
	for (const char *p = strchr(hdr, '\n'); p != NULL; p = strchr(p + 1, '\n')) {
		if (strncasecmp(p + 1, "Content-Length:", 15) == 0) {
			return strtol(p + 16, NULL, 10);
		}
	}
	return 0;
}

/*
 * One round trip: send the request, read the header block and the body.
 * 0 with the status in *status and the header block NUL-terminated in buf;
 * -1 when the connection broke.
 */
static int round_trip(int fd, const char *req, size_t len, char *buf, size_t cap, int *status)
{
	size_t got = 0, hlen = 0;
	long body = -1;

	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
		return -1;
	}
	for (;;) {
		ssize_t n = recv(fd, buf + got, cap - 1 - got, 0);
		char *end;

		if (n <= 0) {
			return -1;
		}
		got += (size_t)n;
		buf[got] = '\0';
		if (body < 0 && (end = strstr(buf, "\r\n\r\n")) != NULL) {
			hlen = (size_t)(end - buf) + 4;
			*end = '\0';
			body = content_length(buf);
			*end = '\r';
		}
		if (body >= 0 && got >= hlen + (size_t)body) {
			buf[hlen] = '\0';
			*status = strncmp(buf, "HTTP/1.1 ", 9) == 0 ? atoi(buf + 9) : 0;
			return got == hlen + (size_t)body ? 0 : -1; /* no pipelining */
		}
		if (got == cap - 1) {
			return -1;
		}
	}
}

struct runner {
	const char *path, *req, *expect;
	size_t len;
	double until;   /* run: a duration */
	atomic_long *left; /* load: a number of requests */
	atomic_bool *go;
	long done, wrong, reconnects;
	int failed;
};

static bool right(const char *hdr, int status, const char *expect)
{
	const char *p;

	if (status != 200) {
		return false;
	}
	for (p = strstr(hdr, expect); p != NULL; p = strstr(p + 1, expect)) {
		size_t n = strlen(expect);

		if (p[-1] == '\n' && (p[n] == '\r' || p[n] == '\0')) {
			return true;
		}
	}
	return false;
}

static void *run_thread(void *arg)
{
	struct runner *r = arg;
	char *buf = malloc(BUF_MAX);
	int fd = bench_connect(r->path), status = 0;

	if (fd < 0 || buf == NULL) {
		r->failed = 1;
		goto out;
	}
	while (!atomic_load(r->go)) {
		sched_yield();
	}
	for (;;) {
		if (r->left != NULL ? atomic_fetch_sub(r->left, 1) <= 0 : bench_now_s() >= r->until) {
			break;
		}
		if (round_trip(fd, r->req, r->len, buf, BUF_MAX, &status) != 0) {
			/* Closed by the other end between requests: once more. */
			close(fd);
			r->reconnects++;
			if ((fd = bench_connect(r->path)) < 0 ||
			    round_trip(fd, r->req, r->len, buf, BUF_MAX, &status) != 0) {
				r->failed = 1;
				goto out;
			}
		}
		r->done++;
		if (r->expect != NULL && !right(buf, status, r->expect)) {
			if (r->wrong++ == 0) {
				fprintf(stderr, "wrong answer:\n%s\n", buf);
			}
		}
	}
out:
	if (fd >= 0) {
		close(fd);
	}
	free(buf);
	return NULL;
}

static int drive(const char *path, const char *req_file, int clients, double seconds, long n,
		 const char *expect)
{
	size_t len;
	char *req = bench_load(req_file, &len);
	struct runner *r = calloc((size_t)clients, sizeof(*r));
	pthread_t *t = calloc((size_t)clients, sizeof(*t));
	atomic_bool go = false;
	atomic_long left = n;
	long total = 0, wrong = 0, reconnects = 0;
	double start;
	int failed = 0;

	for (int i = 0; i < clients; i++) {
		r[i] = (struct runner){.path = path,
				       .req = req,
				       .expect = expect,
				       .len = len,
				       .left = n > 0 ? &left : NULL,
				       .go = &go};
	}
	start = bench_now_s();
	for (int i = 0; i < clients; i++) {
		r[i].until = start + 0.2 + seconds;
		pthread_create(&t[i], NULL, run_thread, &r[i]);
	}
	usleep(200000);
	start = bench_now_s();
	atomic_store(&go, true);
	for (int i = 0; i < clients; i++) {
		pthread_join(t[i], NULL);
		total += r[i].done;
		wrong += r[i].wrong;
		reconnects += r[i].reconnects;
		failed |= r[i].failed;
	}
	seconds = bench_now_s() - start;
	printf("clients=%d requests=%ld rps=%.0f mean_rtt_us=%.2f wrong=%ld reconnects=%ld%s\n",
	       clients, total, (double)total / seconds,
	       total > 0 ? seconds * 1e6 * clients / (double)total : 0.0, wrong, reconnects,
	       failed ? " FAILED" : "");
	free(req);
	free(r);
	free(t);
	return failed || wrong > 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "run") == 0) {
		return drive(argv[2], argv[3], atoi(argv[4]), atof(argv[5]), 0, NULL);
	}
	if (argc == 7 && strcmp(argv[1], "load") == 0) {
		return drive(argv[2], argv[3], atoi(argv[4]), 0, atol(argv[5]), argv[6]);
	}
	fprintf(stderr, "usage: bench_http run|load ...\n");
	return 2;
}

/*
 * HTTP load generator for certmapd's forward-auth listener (bench and load
 * test): keep-alive HTTP/1.1 GETs over a Unix socket, each answer checked.
 *
 *   bench_http run SOCKET REQUEST_FILE CLIENTS SECONDS
 *       CLIENTS threads, one connection each, send REQUEST_FILE's bytes (a
 *       whole HTTP request) in a loop; prints round trips/s and mean µs
 *   bench_http load SOCKET REQUEST_FILE CLIENTS N EXPECT [REQUEST_FILE EXPECT]...
 *       N requests in all over CLIENTS connections, each client taking the
 *       requests in turn (client i starts with the i-th); an answer is
 *       right when its status is EXPECT's ("403 X-Certmap-Reason: x"; 200
 *       when EXPECT has no status) and its headers hold EXPECT's line;
 *       prints "requests=N wrong=W" and exits 1 when W > 0 or a
 *       connection broke
 *   bench_http slow SOCKET CONNECTIONS SECONDS
 *       slowloris: CONNECTIONS connections each start a request and then
 *       send one more header byte every 200 ms; exits 0 when certmapd has
 *       closed every one of them within SECONDS
 *   bench_http big SOCKET COUNT BYTES
 *       COUNT requests one after the other, each with a header of BYTES
 *       bytes; exits 0 when every one was refused (a 4xx) or cut off
 *
 * A connection closed by certmapd is opened again (counted as reconnects),
 * so that an idle timeout never shows as a wrong answer.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

#define MAX_KINDS 8

/* One kind of request and the answer it must get. */
struct kind {
	char *req;
	size_t len;
	int status;
	const char *expect; /* a header line */
};

struct runner {
	struct bench_thread t; /* run: a duration (t.until) */
	const char *path;
	const struct kind *kinds;
	size_t n_kinds, next;
	atomic_long *left; /* load: a number of requests */
	long wrong, reconnects;
};

static bool right(const char *hdr, int status, int want, const char *expect)
{
	const char *p;

	if (status != want) {
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
		r->t.failed = 1;
		goto out;
	}
	bench_wait_go(&r->t);
	for (;;) {
		const struct kind *k = &r->kinds[r->next++ % r->n_kinds];

		if (r->left != NULL ? atomic_fetch_sub(r->left, 1) <= 0 : bench_now_s() >= r->t.until) {
			break;
		}
		if (round_trip(fd, k->req, k->len, buf, BUF_MAX, &status) != 0) {
			/* Closed by the other end between requests: once more. */
			close(fd);
			r->reconnects++;
			if ((fd = bench_connect(r->path)) < 0 ||
			    round_trip(fd, k->req, k->len, buf, BUF_MAX, &status) != 0) {
				r->t.failed = 1;
				goto out;
			}
		}
		r->t.done++;
		if (k->expect != NULL && !right(buf, status, k->status, k->expect)) {
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

static int drive(const char *path, const struct kind *kinds, size_t n_kinds, int clients,
		 double seconds, long n)
{
	struct runner *r = calloc((size_t)clients, sizeof(*r));
	atomic_long left = n;
	long total = 0, wrong = 0, reconnects = 0;
	int failed = 0;

	for (int i = 0; i < clients; i++) {
		r[i] = (struct runner){.path = path,
				       .kinds = kinds,
				       .n_kinds = n_kinds,
				       .next = (size_t)i,
				       .left = n > 0 ? &left : NULL};
	}
	seconds = bench_run_threads(r, sizeof(*r), clients, run_thread, seconds);
	for (int i = 0; i < clients; i++) {
		total += r[i].t.done;
		wrong += r[i].wrong;
		reconnects += r[i].reconnects;
		failed |= r[i].t.failed;
	}
	printf("clients=%d requests=%ld rps=%.0f mean_rtt_us=%.2f wrong=%ld reconnects=%ld%s\n",
	       clients, total, (double)total / seconds,
	       total > 0 ? seconds * 1e6 * clients / (double)total : 0.0, wrong, reconnects,
	       failed ? " FAILED" : "");
	free(r);
	return failed || wrong > 0;
}

/* "403 X-Certmap-Reason: x" or "X-Certmap-User: alice" (a 200). */
static void kind_of(const char *req_file, const char *expect, struct kind *k)
{
	k->req = bench_load(req_file, &k->len);
	k->status = 200;
	k->expect = expect;
	if (expect != NULL && strlen(expect) > 4 && expect[3] == ' ' &&
	    strspn(expect, "0123456789") == 3) {
		k->status = atoi(expect);
		k->expect = expect + 4;
	}
}

/* Slowloris: see the usage at the top. */
static int slow(const char *path, int conns, double limit)
{
	static const char start[] = "GET /auth HTTP/1.1\r\nHost: certmapd\r\nX-Slow: ";
	int *fd = calloc((size_t)conns, sizeof(*fd)), open_n = 0, cut = 0;
	double t0 = bench_now_s(), last = 0;

	for (int i = 0; i < conns; i++) {
		if ((fd[i] = bench_connect(path)) < 0 ||
		    send(fd[i], start, sizeof(start) - 1, MSG_NOSIGNAL) < 0) {
			fprintf(stderr, "slow: cannot start connection %d\n", i);
			return 1;
		}
		fcntl(fd[i], F_SETFL, O_NONBLOCK);
		open_n++;
	}
	while (open_n > 0 && bench_now_s() - t0 < limit) {
		usleep(200000);
		for (int i = 0; i < conns; i++) {
			char c;
			ssize_t n;

			if (fd[i] < 0) {
				continue;
			}
			n = recv(fd[i], &c, 1, 0);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) ||
			    send(fd[i], "a", 1, MSG_NOSIGNAL) < 0) {
				close(fd[i]);
				fd[i] = -1;
				open_n--;
				cut++;
				last = bench_now_s() - t0;
			}
		}
	}
	for (int i = 0; i < conns; i++) {
		if (fd[i] >= 0) {
			close(fd[i]);
		}
	}
	free(fd);
	printf("slow=%d cut=%d last_cut_s=%.1f\n", conns, cut, last);
	return cut == conns ? 0 : 1;
}

/* Oversized headers: see the usage at the top. */
static int big(const char *path, int count, size_t bytes)
{
	static const char start[] = "GET /auth HTTP/1.1\r\nHost: certmapd\r\nX-Big: ";
	char *req = malloc(sizeof(start) + bytes + 4), buf[4096];
	int cut = 0;

	if (req == NULL) {
		return 1;
	}
	memcpy(req, start, sizeof(start) - 1);
	memset(req + sizeof(start) - 1, 'A', bytes);
	memcpy(req + sizeof(start) - 1 + bytes, "\r\n\r\n", 4);
	for (int i = 0; i < count; i++) {
		int fd = bench_connect(path);
		size_t len = sizeof(start) - 1 + bytes + 4, off = 0;
		ssize_t n;

		if (fd < 0) {
			break;
		}
		while (off < len && (n = send(fd, req + off, len - off, MSG_NOSIGNAL)) > 0) {
			off += (size_t)n;
		}
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0 || (n > 12 && strncmp(buf, "HTTP/1.1 4", 10) == 0)) {
			cut++;
		} else {
			buf[n] = '\0';
			fprintf(stderr, "big: not refused:\n%.200s\n", buf);
		}
		close(fd);
	}
	free(req);
	printf("big=%d cut=%d\n", count, cut);
	return cut == count ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct kind kinds[MAX_KINDS];
	size_t n = 0;

	if (argc == 6 && strcmp(argv[1], "run") == 0) {
		kind_of(argv[3], NULL, &kinds[0]);
		return drive(argv[2], kinds, 1, atoi(argv[4]), atof(argv[5]), 0);
	}
	if (argc >= 7 && argc % 2 == 1 && (size_t)(argc - 5) / 2 <= MAX_KINDS &&
	    strcmp(argv[1], "load") == 0) {
		kind_of(argv[3], argv[6], &kinds[n++]);
		for (int i = 7; i + 1 < argc; i += 2) {
			kind_of(argv[i], argv[i + 1], &kinds[n++]);
		}
		return drive(argv[2], kinds, n, atoi(argv[4]), 0, atol(argv[5]));
	}
	if (argc == 5 && strcmp(argv[1], "slow") == 0) {
		return slow(argv[2], atoi(argv[3]), atof(argv[4]));
	}
	if (argc == 5 && strcmp(argv[1], "big") == 0) {
		return big(argv[2], atoi(argv[3]), (size_t)atol(argv[4]));
	}
	fprintf(stderr, "usage: bench_http run|load ...\n");
	return 2;
}

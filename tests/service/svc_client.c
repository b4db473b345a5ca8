/*
 * A small client for the certmapd tests, on the public client library
 * (and raw sockets for the malformed-request cases).
 *
 *   svc_client map SOCKET CERT [USER]     answer JSON; exit as certmapctl query
 *   svc_client stress SOCKET CERT WANT_USER THREADS REQUESTS
 *                                         every thread maps, checks the user;
 *                                         half share one client, half own one
 *   svc_client raw SOCKET                 sends stdin as is, prints the reply
 *                                         frame; exit 0 reply, 1 closed, 3 refused
 *   svc_client stall SOCKET WAIT_S [MS]   sends half a request, then waits
 *                                         (sending a byte more every MS ms):
 *                                         exit 0 when the service drops it in time
 *   svc_client flood SOCKET SECONDS       sends oneway GetInfo frames (no
 *                                         replies) as fast as it can for SECONDS;
 *                                         exit 1 when the service cuts it off
 *   svc_client stats SOCKET | reload SOCKET
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "certmap.h"
#include "certmap_client.h"
#include "testlib.h"

static int exit_for(int rc, const struct certmap_answer *a)
{
	if (rc != CERTMAP_OK) {
		fprintf(stderr, "svc_client: %s\n", certmap_strerror(rc));
		return rc == CERTMAP_ERR_BACKEND || rc == CERTMAP_ERR_SYSTEM ? 3 : 2;
	}
	if (certmap_answer_reason(a) == CERTMAP_REASON_NONE) {
		return 0;
	}
	if (certmap_answer_reason(a) == CERTMAP_REASON_BACKEND_UNAVAILABLE) {
		return 3;
	}
	if (certmap_answer_reason(a) == CERTMAP_REASON_INVALID_CERTIFICATE ||
	    certmap_answer_reason(a) == CERTMAP_REASON_CONFIG_ERROR) {
		return 2;
	}
	return 1;
}

/* 3 s, or SVC_CLIENT_TIMEOUT_MS for a test that knows its client waits
 * (in the listen backlog of a daemon out of descriptors, on a busy machine). */
static int map_timeout_ms(void)
{
	const char *s = getenv("SVC_CLIENT_TIMEOUT_MS");
	char *end = NULL;
	long v;

	if (s == NULL) {
		return 3000;
	}
	v = strtol(s, &end, 10);
	return (end != s && *end == '\0' && v > 0 && v <= 600000) ? (int)v : 3000;
}

static int do_map(const char *sock, const char *cert, const char *user)
{
	struct certmap_client *cl = NULL;
	struct certmap_answer *a = NULL;
	struct certmap_request req = { 0 };
	unsigned char *data = NULL;
	size_t len = 0;
	char *json;
	int rc;

	if (cmt_read_file(cert, &data, &len) != 0) {
		return 2;
	}
	req.cert = data;
	req.cert_len = len;
	req.user = user;
	req.flags = CERTMAP_REQ_TRACE;
	rc = certmap_client_connect(sock, map_timeout_ms(), &cl);
	if (rc == CERTMAP_OK) {
		rc = certmap_client_map(cl, &req, &a);
	}
	if (rc == CERTMAP_OK && (json = certmap_answer_to_json(a, true)) != NULL) {
		printf("%s\n", json);
		free(json);
	}
	rc = exit_for(rc, a);
	certmap_answer_free(a);
	certmap_client_free(cl);
	free(data);
	return rc;
}

struct stress {
	const char *sock;
	struct certmap_client *shared;
	const unsigned char *cert;
	size_t cert_len;
	const char *want;
	int requests;
	int bad;
};

static void *stress_thread(void *arg)
{
	struct stress *s = arg;
	struct certmap_client *own = NULL, *cl = s->shared;
	struct certmap_request req = { .cert = s->cert, .cert_len = s->cert_len };
	int bad = 0;

	if (cl == NULL && certmap_client_connect(s->sock, 10000, &own) != CERTMAP_OK) {
		s->bad = s->requests;
		return NULL;
	}
	if (cl == NULL) {
		cl = own;
	}
	for (int i = 0; i < s->requests; i++) {
		struct certmap_answer *a = NULL;

		if (certmap_client_map(cl, &req, &a) != CERTMAP_OK ||
		    certmap_answer_user(a) == NULL || strcmp(certmap_answer_user(a), s->want) != 0) {
			bad++;
		}
		certmap_answer_free(a);
	}
	certmap_client_free(own);
	s->bad = bad;
	return NULL;
}

static int do_stress(const char *sock, const char *cert, const char *want, int n, int reqs)
{
	struct certmap_client *shared = NULL;
	struct stress *st = calloc((size_t)n, sizeof(*st));
	pthread_t *th = calloc((size_t)n, sizeof(*th));
	unsigned char *data = NULL;
	size_t len = 0;
	int bad = 0;

	if (st == NULL || th == NULL || cmt_read_file(cert, &data, &len) != 0 ||
	    certmap_client_connect(sock, 10000, &shared) != CERTMAP_OK) {
		return 2;
	}
	for (int i = 0; i < n; i++) {
		st[i] = (struct stress){ sock, i % 2 == 0 ? shared : NULL, data, len, want, reqs, 0 };
		pthread_create(&th[i], NULL, stress_thread, &st[i]);
	}
	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		bad += st[i].bad;
	}
	printf("%d of %d answers wrong\n", bad, n * reqs);
	certmap_client_free(shared);
	free(data);
	free(st);
	free(th);
	return bad == 0 ? 0 : 1;
}

static int raw_connect(const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("connect");
		exit(3);
	}
	return fd;
}

/* Prints the first reply frame; 0 when one came, 1 when the socket closed. */
static int read_reply(int fd, int timeout_ms)
{
	char buf[65536];
	size_t len = 0;

	while (len < sizeof(buf)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, timeout_ms) <= 0) {
			return 4;
		}
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n <= 0) {
			return 1;
		}
		len += (size_t)n;
		if (memchr(buf, '\0', len) != NULL) {
			printf("%s\n", buf);
			return 0;
		}
	}
	return 1;
}

static int do_raw(const char *sock)
{
	static char in[1 << 20];
	size_t len = fread(in, 1, sizeof(in), stdin);
	int fd = raw_connect(sock);
	size_t off = 0;
	int rc;

	while (off < len) {
		ssize_t n = send(fd, in + off, len - off, MSG_NOSIGNAL);

		if (n <= 0) {
			break; /* the service may close after its error reply */
		}
		off += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	rc = read_reply(fd, 5000);
	close(fd);
	return rc;
}

struct flood {
	int fd;
	atomic_bool stop;
	size_t sent;
	bool cut; /* the service closed the connection before the end */
};

static void *flood_writer(void *arg)
{
	static const char frame[] = "{\"method\":\"org.varlink.service.GetInfo\",\"oneway\":true}";
	struct flood *f = arg;
	char burst[64 * sizeof(frame)];

	for (size_t i = 0; i < 64; i++) {
		memcpy(burst + i * sizeof(frame), frame, sizeof(frame)); /* NUL included */
	}
	ssize_t n = 1;

	/* Pieces of 1000 bytes: a read mostly ends inside a frame, as with a
	 * real stream, so a request is nearly always half there. */
	for (size_t off = 0; !atomic_load(&f->stop) && n > 0; off = (off + (size_t)n) % sizeof(burst)) {
		size_t len = sizeof(burst) - off < 1000 ? sizeof(burst) - off : 1000;

		if ((n = send(f->fd, burst + off, len, MSG_NOSIGNAL)) > 0) {
			f->sent += (size_t)n;
		}
	}
	f->cut = !atomic_load(&f->stop);
	return NULL;
}

/* A client that never stops sending and needs no reply: certmapd has
 * bytes of it to read whenever it looks. */
static int do_flood(const char *sock, int secs)
{
	struct flood f = { .fd = raw_connect(sock) };
	pthread_t w;

	if (pthread_create(&w, NULL, flood_writer, &f) != 0) {
		return 2;
	}
	sleep((unsigned int)secs);
	atomic_store(&f.stop, true);
	shutdown(f.fd, SHUT_RDWR);
	pthread_join(w, NULL);
	close(f.fd);
	printf("%zu bytes sent%s\n", f.sent, f.cut ? ", then the service closed the connection" : "");
	return f.sent > 0 && !f.cut ? 0 : 1;
}

/* Sends half a request, then (every trickle_ms when not 0) one byte more
 * of it; 0 when the service drops the connection within wait_s seconds. */
static int do_stall(const char *sock, int wait_s, int trickle_ms)
{
	static const char half[] = "{\"method\": \"org.certmap.Mapper.Ma";
	int fd = raw_connect(sock);
	char c;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int step = trickle_ms > 0 ? trickle_ms : wait_s * 1000;
	int rc = 1;

	if (write(fd, half, sizeof(half) - 1) < 0) {
		return 2;
	}
	for (int waited = 0; waited < wait_s * 1000; waited += step) {
		if (poll(&p, 1, step) == 1) {
			if (read(fd, &c, 1) == 0) {
				rc = 0; /* dropped by the service */
			}
			break;
		}
		if (trickle_ms > 0 && send(fd, "a", 1, MSG_NOSIGNAL) != 1) {
			rc = 0; /* dropped while writing */
			break;
		}
	}
	close(fd);
	return rc;
}

/*
 * Sends one request, prints its reply, waits until the file go exists
 * (the test reloads the service meanwhile), then sends the same request
 * again on the same connection and prints that reply.
 */
static int do_pause(const char *sock, const char *go)
{
	static char in[1 << 20];
	size_t len = fread(in, 1, sizeof(in), stdin);
	int fd = raw_connect(sock);
	int rc;

	if (send(fd, in, len, MSG_NOSIGNAL) != (ssize_t)len || read_reply(fd, 5000) != 0) {
		close(fd);
		return 2;
	}
	for (int i = 0; i < 100 && access(go, F_OK) != 0; i++) {
		usleep(100 * 1000);
	}
	if (send(fd, in, len, MSG_NOSIGNAL) != (ssize_t)len) {
		close(fd);
		return 2;
	}
	rc = read_reply(fd, 5000);
	close(fd);
	return rc;
}

static int do_admin(const char *sock, bool reload)
{
	struct certmap_client *cl = NULL;
	char *out = NULL;
	int rc = certmap_client_connect(sock, 3000, &cl);

	if (rc == CERTMAP_OK) {
		rc = reload ? certmap_client_reload(cl, &out) : certmap_client_stats(cl, &out);
	}
	if (out != NULL) {
		printf("%s\n", out);
	}
	free(out);
	certmap_client_free(cl);
	if (rc != CERTMAP_OK) {
		fprintf(stderr, "svc_client: %s\n", certmap_strerror(rc));
	}
	return rc == CERTMAP_OK ? 0 : rc == CERTMAP_ERR_CONFIG ? 1 : 3;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "map") == 0) {
		return do_map(argv[2], argv[3], argc > 4 ? argv[4] : NULL);
	}
	if (argc == 7 && strcmp(argv[1], "stress") == 0) {
		return do_stress(argv[2], argv[3], argv[4], atoi(argv[5]), atoi(argv[6]));
	}
	if (argc == 3 && strcmp(argv[1], "raw") == 0) {
		return do_raw(argv[2]);
	}
	if (argc == 4 && strcmp(argv[1], "pause") == 0) {
		return do_pause(argv[2], argv[3]);
	}
	if (argc == 4 && strcmp(argv[1], "flood") == 0) {
		return do_flood(argv[2], atoi(argv[3]));
	}
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "stall") == 0) {
		return do_stall(argv[2], atoi(argv[3]), argc == 5 ? atoi(argv[4]) : 0);
	}
	if (argc == 3 && (strcmp(argv[1], "stats") == 0 || strcmp(argv[1], "reload") == 0)) {
		return do_admin(argv[2], argv[1][0] == 'r');
	}
	fprintf(stderr, "usage: svc_client map|stress|raw|flood|stall|stats|reload SOCKET ...\n");
	return 2;
}

/*
 * certmapd's HTTP forward-auth face (service.http): web servers and
 * proxies ask GET /auth with the client certificate in a header and copy
 * the X-Certmap-* headers of the answer. Also GET /healthz, GET /metrics
 * (Prometheus text) and GET /denied (the page a person sees).
 *
 * Each listener (the Unix socket, the TCP port) is a libmicrohttpd daemon
 * with one thread of its own. A Map goes through the very path varlink
 * uses: the request becomes a Map frame for cmd_dispatch_frame (same
 * limits, cache, lookups, reload and counters), and the reply frame
 * becomes the HTTP answer. A Map that misses the cache suspends the
 * connection; the lookup's post resumes it.
 */
#include "config.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "file.h"
#include "http_answer.h"
#include "http_cert.h"
#include "http_deadline.h"
#include "http_int.h"

/*
 * libmicrohttpd's memory for one connection: the request's headers
 * (certificate and chain included) must fit, and a larger request gets
 * 431. libmicrohttpd clears it for each request on a kept-alive
 * connection, so it is kept small: 64 KiB holds certificate headers of up
 * to some 60 KiB, far more than proxies send for real certificates.
 */
#define CONN_MEMORY (64 * 1024)
#define TOKEN_MAX 4096
/* A Map frame: the certificates base64, the names, some JSON. */
#define FRAME_MAX (CMP_MAX_REQUEST)

struct listener {
	struct cmd_http *http;
	struct MHD_Daemon *d;
	int fd;
	bool tcp; /* peers without credentials: loopback, or the token */
	struct cmd_stats stats;		/* written by this daemon's thread only */
	struct cmd_gen *gen;		/* this thread's current configuration */
	unsigned int gen_seq;
	pthread_mutex_t dispatch_lock;	/* closing vs. a Map being handed to lookups.c */
	bool closing;
};

struct cmd_http {
	struct cmd_state *st;
	struct listener l[2]; /* the Unix socket, the TCP port */
	char *unix_path;      /* removed at stop when we created it */
	char *token;
	size_t token_len;
	struct cmd_hdl *deadlines; /* of the requests being read */
};

/* One connection: who is on the other end. */
struct conn {
	struct cmd_peer peer;
	int fd;
	bool refused;
	bool admitted; /* counted in the limits */
	struct cmd_hdl_entry deadline;
};

/* One request. */
struct hreq {
	struct listener *l;
	struct MHD_Connection *mc;
	pthread_mutex_t lock; /* job, done, suspended: the lookup's post vs. the daemon */
	struct cmd_job *job;
	bool done;
	bool suspended;
	bool dispatched;
	bool body; /* a request body was sent: refused */
};

/* ---------------------------------------------------------------- the request */

struct count {
	const char *name;
	unsigned int n;
};

static enum MHD_Result count_value(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct count *c = cls;

	(void)kind;
	(void)value;
	if (key != NULL && strcasecmp(key, c->name) == 0) {
		c->n++;
	}
	return MHD_YES;
}

/* cmd_hrq's lookup over libmicrohttpd's parsed headers and arguments. */
static unsigned int lookup(void *ctx, bool arg, const char *name, const char **v, size_t *len)
{
	struct MHD_Connection *mc = ctx;
	enum MHD_ValueKind kind = arg ? MHD_GET_ARGUMENT_KIND : MHD_HEADER_KIND;
	struct count c = {.name = name};

	*v = NULL;
	*len = 0;
	MHD_get_connection_values(mc, kind, count_value, &c);
	if (c.n > 0 &&
	    MHD_lookup_connection_value_n(mc, kind, name, strlen(name), v, len) != MHD_YES) {
		*v = NULL;
		*len = 0;
	}
	return c.n;
}

static void request_of(struct MHD_Connection *mc, const char *url, const char *method, bool body,
		       struct cmd_hrq *rq)
{
	rq->method = method;
	rq->url = url;
	rq->body = body;
	rq->lookup = lookup;
	rq->ctx = mc;
}

static void site_of(const struct listener *l, const struct conn *cn, struct cmd_hsite *s)
{
	s->hc = &l->gen->cfg->service.http;
	s->peer_refused = cn == NULL || cn->refused;
	s->token = l->tcp ? l->http->token : NULL;
	s->token_len = l->tcp ? l->http->token_len : 0;
}

/* ---------------------------------------------------------------- the answer */

static enum MHD_Result send_answer(struct MHD_Connection *mc, struct cmd_hans *a)
{
	bool bodiless = a->failed || a->body.failed || a->body.len == 0;
	struct MHD_Response *r;
	enum MHD_Result rc;

	/* The body's buffer is handed over: no copy on the way out. */
	r = bodiless ? MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT)
		     : MHD_create_response_from_buffer(a->body.len, a->body.data,
						       MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		return MHD_NO;
	}
	if (!bodiless) {
		a->body.data = NULL;
		a->body.len = a->body.alloc = 0;
	}
	MHD_add_response_header(r, "Content-Type", a->type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	for (size_t i = 0; i < a->n; i++) {
		if (MHD_add_response_header(r, a->name[i], a->value[i]) != MHD_YES) {
			/* cmd_hans_header let through what MHD will not send. */
			MHD_destroy_response(r);
			cmd_hans_free(a);
			return MHD_NO;
		}
	}
	rc = MHD_queue_response(mc, a->code, r);
	MHD_destroy_response(r);
	cmd_hans_free(a);
	return rc;
}

/* The Map's lookup is done (in a serving thread, or the main thread at stop). */
static void post_job(struct cmd_job *job, void *arg)
{
	struct hreq *hr = arg;

	pthread_mutex_lock(&hr->lock);
	hr->job = job;
	hr->done = true;
	if (hr->suspended) {
		hr->suspended = false;
		MHD_resume_connection(hr->mc);
	}
	pthread_mutex_unlock(&hr->lock);
}

static enum MHD_Result finish_job(struct hreq *hr, const struct cmd_hrq *rq)
{
	struct cmd_hsite site;
	struct cmd_hans a;
	struct cm_buf out;

	cm_buf_init(&out, CMP_MAX_REPLY);
	cmd_job_finish(hr->job, &hr->l->stats, &out);
	cmd_job_free(hr->job);
	hr->job = NULL;
	site_of(hr->l, NULL, &site);
	site.peer_refused = false;
	cmd_hans_init(&a);
	cmd_http_map_answer(&site, rq, &out, &a);
	cm_buf_free(&out);
	return send_answer(hr->mc, &a);
}

/* Hands the Map frame to the dispatcher: answered now (a cache hit), or
 * the connection waits for its lookup. */
static enum MHD_Result do_map(struct hreq *hr, const struct conn *cn, const struct cmd_hsite *s,
			      const struct cmd_hrq *rq, char *frame, struct cmd_hans *a)
{
	struct listener *l = hr->l;
	struct cmd_caller cl = {.st = l->http->st,
				.gen = l->gen,
				.stats = &l->stats,
				.peer = &cn->peer,
				.fd = cn->fd,
				.post = post_job,
				.post_arg = hr,
				.owner = hr};
	enum cmd_outcome oc;
	struct cm_buf out;

	pthread_mutex_lock(&l->dispatch_lock);
	if (l->closing) {
		pthread_mutex_unlock(&l->dispatch_lock);
		free(frame);
		cmd_http_refusal(s, rq, MHD_HTTP_SERVICE_UNAVAILABLE, "backend_unavailable", a);
		return send_answer(hr->mc, a);
	}
	cm_buf_init(&out, CMP_MAX_REPLY);
	oc = cmd_dispatch_frame(&cl, frame, strlen(frame), &out);
	pthread_mutex_unlock(&l->dispatch_lock);
	free(frame);
	if (oc != CMD_PENDING) {
		cmd_http_map_answer(s, rq, &out, a);
		cm_buf_free(&out);
		return send_answer(hr->mc, a);
	}
	cm_buf_free(&out);
	cmd_hans_free(a);
	hr->dispatched = true;
	pthread_mutex_lock(&hr->lock);
	if (hr->done) {
		pthread_mutex_unlock(&hr->lock);
		return finish_job(hr, rq);
	}
	MHD_suspend_connection(hr->mc);
	hr->suspended = true;
	pthread_mutex_unlock(&hr->lock);
	return MHD_YES;
}

/* ---------------------------------------------------------------- routing */

static enum MHD_Result route(struct hreq *hr, const struct conn *cn, const char *url,
			     const char *method)
{
	struct listener *l = hr->l;
	struct cmd_hrq rq;
	struct cmd_hsite site;
	struct cmd_hans a;
	char *frame = NULL;

	request_of(hr->mc, url, method, hr->body, &rq);
	site_of(l, cn, &site);
	cmd_hans_init(&a);
	switch (cmd_http_route(&site, &rq, &a, &frame)) {
	case CMD_HS_MAP: return do_map(hr, cn, &site, &rq, frame, &a);
	case CMD_HS_METRICS: cmd_http_metrics(l->http->st, l->gen, &a); break;
	case CMD_HS_ANSWER: break;
	}
	if (a.bad_header != NULL) {
		cmd_log(LOG_INFO, "HTTP /auth: the %s header does not decode: %s",
			site.hc->cert_header, a.bad_header);
	}
	return send_answer(hr->mc, &a);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct listener *l = cls;
	struct hreq *hr = *req_cls;
	const union MHD_ConnectionInfo *ci;

	(void)version;
	(void)upload_data;
	if (hr == NULL) {
		if ((hr = calloc(1, sizeof(*hr))) == NULL) {
			return MHD_NO;
		}
		hr->l = l;
		hr->mc = mc;
		pthread_mutex_init(&hr->lock, NULL);
		*req_cls = hr;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		hr->body = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (hr->dispatched) {
		struct cmd_hrq rq;

		/* Resumed: the lookup is done. */
		request_of(mc, url, method, hr->body, &rq);
		return hr->job != NULL ? finish_job(hr, &rq) : MHD_NO;
	}
	cmd_state_refresh_gen(l->http->st, &l->gen, &l->gen_seq);
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	/* The whole request is in (a body too): no deadline while the answer
	 * is made. */
	if (ci != NULL && ci->socket_context != NULL) {
		cmd_hdl_set(l->http->deadlines, &((struct conn *)ci->socket_context)->deadline, 0);
	}
	return route(hr, ci != NULL ? (const struct conn *)ci->socket_context : NULL, url,
		     method);
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct listener *l = cls;
	struct hreq *hr = *req_cls;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	(void)toe;
	/* The next request's headers are due within the timeout. */
	if (ci != NULL && ci->socket_context != NULL) {
		cmd_hdl_set(l->http->deadlines, &((struct conn *)ci->socket_context)->deadline,
			    l->gen->cfg->service.timeout);
	}
	if (hr == NULL) {
		return;
	}
	if (hr->job != NULL) {
		cmd_job_finish(hr->job, &hr->l->stats, NULL);
		cmd_job_free(hr->job);
	}
	pthread_mutex_destroy(&hr->lock);
	free(hr);
	*req_cls = NULL;
}

/* ---------------------------------------------------------------- connections */

static void refuse_peer(struct listener *l, struct conn *cn, const char *why)
{
	if (cmd_peer_refusal_logged(cn->peer.uid)) {
		cmd_log(LOG_WARNING, "HTTP: refused a connection from uid %u (gid %u, pid %d): %s",
			(unsigned)cn->peer.uid, (unsigned)cn->peer.gid, (int)cn->peer.pid, why);
	}
	cmd_stats_add(&l->stats, CMD_C_REJECTED_PEERS, 1);
	cn->refused = true;
	/* Nothing is read from it: the daemon sees the end of the stream. */
	shutdown(cn->fd, SHUT_RDWR);
}

/* Credentials first, as on the varlink socket: before any byte is read. */
static void on_started(struct listener *l, struct MHD_Connection *mc, struct conn *cn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	const struct cm_service_conf *sc;
	struct ucred uc;
	socklen_t len = sizeof(uc);

	cn->fd = -1;
	cn->peer.uid = (uid_t)-1;
	cn->peer.gid = (gid_t)-1;
	if (l->tcp) {
		return; /* loopback, or the token on each request */
	}
	cmd_state_refresh_gen(l->http->st, &l->gen, &l->gen_seq);
	sc = &l->gen->cfg->service;
	if (ci == NULL) {
		cn->refused = true;
		return;
	}
	cn->fd = ci->connect_fd;
	if (getsockopt(cn->fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0 || len != sizeof(uc)) {
		refuse_peer(l, cn, "its credentials cannot be read");
		return;
	}
	cn->peer.uid = uc.uid;
	cn->peer.gid = uc.gid;
	cn->peer.pid = uc.pid;
	if (!cmd_peer_allowed(sc, &cn->peer, cn->fd)) {
		refuse_peer(l, cn,
			    "add it to service.allowed_uids or a group in service.allowed_gids");
		return;
	}
	if (!cmd_limits_admit(cn->peer.uid, sc->max_connections, sc->max_connections_per_uid)) {
		refuse_peer(l, cn,
			    "too many connections (service.max_connections_per_uid, "
			    "service.max_connections)");
		return;
	}
	cn->admitted = true;
}

static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct listener *l = cls;
	struct conn *cn = *socket_context;
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		/* This daemon's thread: its decision records wait in a buffer,
		 * as the serving threads' do (a write per record cost a tenth of
		 * a cached /auth). */
		cmd_log_batch_start(cmd_serve_face_log(l->http->st));
		if ((cn = calloc(1, sizeof(*cn))) == NULL) {
			return; /* route() refuses a connection without one */
		}
		*socket_context = cn;
		on_started(l, mc, cn);
		ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci != NULL) {
			cmd_hdl_add(l->http->deadlines, &cn->deadline, ci->connect_fd,
				    l->gen->cfg->service.timeout);
		}
		return;
	}
	if (cn == NULL) {
		return;
	}
	cmd_hdl_remove(l->http->deadlines, &cn->deadline);
	if (cn->admitted) {
		cmd_limits_release(cn->peer.uid);
	}
	free(cn);
	*socket_context = NULL;
}

/* libmicrohttpd's messages: its own printf formats, checked as such. */
static void on_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void on_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	cmd_log(LOG_INFO, "HTTP: %s", line);
}

/* ---------------------------------------------------------------- set-up */

static int bind_tcp(const char *listen_at)
{
	struct sockaddr_storage ss;
	socklen_t len;
	bool loopback;
	int fd, one = 1;

	if (cm_http_parse_listen(listen_at, &ss, &len, &loopback) != 0) {
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		cmd_log(LOG_ERR, "cannot create a TCP socket: %m");
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, SOMAXCONN) != 0) {
		cmd_log(LOG_ERR, "cannot listen on service.http.listen %s: %m", listen_at);
		close(fd);
		return -1;
	}
	return fd;
}

static int read_token(struct cmd_http *h, const char *path)
{
	char *data = NULL, *err = NULL;
	size_t len = 0;

	if (cm_file_read(path, "token file", TOKEN_MAX, &data, &len, &err) != 0) {
		cmd_log(LOG_ERR, "cannot read service.http.token_file: %s",
			err != NULL ? err : path);
		free(err);
		return -1;
	}
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r')) {
		data[--len] = '\0';
	}
	if (len < 16 || strspn(data, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				     "0123456789-._~+/=") != len) {
		cmd_log(LOG_ERR, "service.http.token_file %s must hold one token of at least 16 "
			"characters (letters, digits, -._~+/=)", path);
		free(data);
		return -1;
	}
	h->token = data;
	h->token_len = len;
	return 0;
}

int cmd_http_bind(struct cmd_state *st)
{
	const struct cm_service_conf *sc = &st->gen->cfg->service;
	const struct cm_http_conf *hc = &sc->http;
	struct cmd_http *h;

	if (hc->socket == NULL && hc->listen == NULL) {
		return 0;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		return -1;
	}
	st->http = h;
	h->st = st;
	for (size_t i = 0; i < CM_ARRAY_SIZE(h->l); i++) {
		h->l[i].fd = -1;
		h->l[i].http = h;
		h->l[i].tcp = i == 1;
		pthread_mutex_init(&h->l[i].dispatch_lock, NULL);
	}
	if (hc->token_file != NULL && read_token(h, hc->token_file) != 0) {
		return -1;
	}
	if (hc->socket != NULL) {
		if ((h->l[0].fd = cmd_bind_socket(hc->socket, sc->user)) < 0 ||
		    (h->unix_path = strdup(hc->socket)) == NULL) {
			return -1;
		}
	}
	if (hc->listen != NULL && (h->l[1].fd = bind_tcp(hc->listen)) < 0) {
		return -1;
	}
	return 0;
}

int cmd_http_start(struct cmd_state *st)
{
	const struct cm_service_conf *sc = &st->gen->cfg->service;
	struct cmd_http *h = st->http;

	if (h == NULL) {
		return 0;
	}
	if ((h->deadlines = cmd_hdl_start()) == NULL) {
		cmd_log(LOG_ERR, "cannot start the HTTP listener's deadline thread");
		return -1;
	}
	for (size_t i = 0; i < CM_ARRAY_SIZE(h->l); i++) {
		struct listener *l = &h->l[i];

		if (l->fd < 0) {
			continue;
		}
		l->gen = cmd_gen_ref(st->gen);
		l->gen_seq = atomic_load(&st->gen_seq);
		st->stats[st->n_stats++] = &l->stats;
		l->d = MHD_start_daemon(
		    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
			MHD_USE_ERROR_LOG,
		    0, NULL, NULL, on_request, l, MHD_OPTION_EXTERNAL_LOGGER, on_log, NULL,
		    MHD_OPTION_LISTEN_SOCKET, l->fd,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)sc->timeout,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)sc->max_connections,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
		    MHD_OPTION_NOTIFY_CONNECTION, on_connection, l, MHD_OPTION_NOTIFY_COMPLETED,
		    on_completed, l, MHD_OPTION_END);
		if (l->d == NULL) {
			cmd_log(LOG_ERR, "cannot start the HTTP listener on %s",
				l->tcp ? sc->http.listen : sc->http.socket);
			return -1;
		}
		cmd_log(LOG_NOTICE, "HTTP forward-auth listening on %s",
			l->tcp ? sc->http.listen : sc->http.socket);
	}
	return 0;
}

void cmd_http_quiesce(struct cmd_state *st)
{
	struct cmd_http *h = st->http;

	for (size_t i = 0; h != NULL && i < CM_ARRAY_SIZE(h->l); i++) {
		pthread_mutex_lock(&h->l[i].dispatch_lock);
		h->l[i].closing = true;
		pthread_mutex_unlock(&h->l[i].dispatch_lock);
	}
}

void cmd_http_free(struct cmd_state *st)
{
	struct cmd_http *h = st->http;

	if (h == NULL) {
		return;
	}
	for (size_t i = 0; i < CM_ARRAY_SIZE(h->l); i++) {
		struct listener *l = &h->l[i];

		if (l->d != NULL) {
			MHD_stop_daemon(l->d);
		}
		if (l->d == NULL && l->fd >= 0) {
			close(l->fd); /* a running daemon closes its listening socket itself */
		}
		if (l->gen != NULL) {
			cmd_gen_unref(l->gen);
		}
		pthread_mutex_destroy(&l->dispatch_lock);
	}
	/* After the daemons: their connections have left the list. */
	cmd_hdl_stop(h->deadlines);
	if (h->unix_path != NULL && unlink(h->unix_path) != 0) {
		cmd_log(LOG_NOTICE, "cannot remove the HTTP socket %s: %m (the next start removes it)",
			h->unix_path);
	}
	free(h->unix_path);
	free(h->token);
	free(h);
	st->http = NULL;
}

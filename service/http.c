/*
 * certmapd's HTTP forward-auth face (service.http): web servers and
 * proxies ask GET /auth with the client certificate in a header and copy
 * the X-Certmap-* headers of the answer. Also GET /healthz, GET /metrics
 * (Prometheus text) and GET /denied (the page a person sees).
 *
 * Each listener (the Unix socket, the TCP port) is a libmicrohttpd daemon
 * with one thread of its own. A Map goes through the very path varlink
 * uses: the request becomes a Map frame for cmd_dispatch_frame (same
 * limits, cache, worker pool, reload and counters), and the reply frame
 * becomes the HTTP answer. A Map that misses the cache suspends the
 * connection; the worker's post resumes it.
 */
#include "config.h"

#include <errno.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "file.h"
#include "http_cert.h"
#include "http_int.h"

/* Headers of one request, with the certificate (several KiB of base64). */
#define CONN_MEMORY (CMH_MAX_VALUE + 64 * 1024)
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
	pthread_mutex_t dispatch_lock;	/* closing vs. a Map being handed to the workers */
	bool closing;
};

struct cmd_http {
	struct cmd_state *st;
	struct listener l[2]; /* the Unix socket, the TCP port */
	char *unix_path;      /* removed at stop when we created it */
	char *token;
	size_t token_len;
};

/* One connection: who is on the other end. */
struct conn {
	struct cmd_peer peer;
	int fd;
	bool refused;
	bool admitted; /* counted in the limits */
};

/* One request. */
struct hreq {
	struct listener *l;
	struct MHD_Connection *mc;
	pthread_mutex_t lock; /* job, done, suspended: the worker's post vs. the daemon */
	struct cmd_job *job;
	bool done;
	bool suspended;
	bool dispatched;
	bool body; /* a request body was sent: refused */
};

/* ---------------------------------------------------------------- answers */

static enum MHD_Result send_text(struct MHD_Connection *mc, unsigned int code, const char *type,
				 const char *text, size_t len, const char *const *headers)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (r == NULL) {
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i += 2) {
		if (MHD_add_response_header(r, headers[i], headers[i + 1]) != MHD_YES) {
			/* A value MHD cannot send: never a partial answer. */
			MHD_destroy_response(r);
			r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
			if (r == NULL) {
				return MHD_NO;
			}
			code = MHD_HTTP_INTERNAL_SERVER_ERROR;
			break;
		}
	}
	rc = MHD_queue_response(mc, code, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result send_plain(struct MHD_Connection *mc, unsigned int code, const char *text,
				  const char *const *headers)
{
	return send_text(mc, code, "text/plain; charset=utf-8", text, strlen(text), headers);
}

/* A header value: printable ASCII but '%' and ','; the rest %XX, so that
 * a name with odd bytes can neither break the header nor the list. */
static void add_header_value(struct cm_buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x21 || *p > 0x7e || *p == '%' || *p == ',') {
			cm_buf_printf(b, "%%%02X", *p);
		} else {
			cm_buf_addc(b, (char)*p);
		}
	}
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string)) {
		return NULL;
	}
	return json_object_get_string(v);
}

/* The reason code as a header value (it is one of ours, but check). */
static const char *reason_token(const char *r)
{
	if (r == NULL || r[0] == '\0' || strspn(r, "abcdefghijklmnopqrstuvwxyz_") != strlen(r)) {
		return "error";
	}
	return r;
}

static enum MHD_Result answer_mapped(struct MHD_Connection *mc, json_object *p)
{
	struct cm_buf user, groups, uid, rule, domain;
	json_object *g = NULL, *u = NULL;
	enum MHD_Result rc;

	cm_buf_init(&user, 4096);
	cm_buf_init(&groups, 64 * 1024);
	cm_buf_init(&uid, 64);
	cm_buf_init(&rule, 4096);
	cm_buf_init(&domain, 4096);
	add_header_value(&user, jstr(p, "user") != NULL ? jstr(p, "user") : "");
	if (json_object_object_get_ex(p, "groups", &g) && json_object_is_type(g, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(g); i++) {
			json_object *e = json_object_array_get_idx(g, i);

			if (json_object_is_type(e, json_type_string)) {
				if (groups.len > 0) {
					cm_buf_addc(&groups, ',');
				}
				add_header_value(&groups, json_object_get_string(e));
			}
		}
	}
	if (json_object_object_get_ex(p, "uid", &u) && json_object_is_type(u, json_type_int)) {
		cm_buf_printf(&uid, "%lld", (long long)json_object_get_int64(u));
	}
	add_header_value(&rule, jstr(p, "rule") != NULL ? jstr(p, "rule") : "");
	add_header_value(&domain, jstr(p, "domain") != NULL ? jstr(p, "domain") : "");
	cm_buf_addc(&user, '\0');
	cm_buf_addc(&groups, '\0');
	cm_buf_addc(&uid, '\0');
	cm_buf_addc(&rule, '\0');
	cm_buf_addc(&domain, '\0');
	if (user.failed || groups.failed || uid.failed || rule.failed || domain.failed ||
	    user.len <= 1) {
		rc = send_plain(mc, MHD_HTTP_INTERNAL_SERVER_ERROR, "answer too large\n", NULL);
	} else {
		const char *h[11];
		size_t n = 0;

		h[n++] = "X-Certmap-User";
		h[n++] = user.data;
		/* No groups (an account without named groups, a certificate-only
		 * identity whose values group_map does not list): no header, as
		 * libmicrohttpd refuses an empty value. */
		if (groups.len > 1) {
			h[n++] = "X-Certmap-Groups";
			h[n++] = groups.data;
		}
		/* An account without a uid (a certificate-only identity) has none. */
		if (uid.len > 1) {
			h[n++] = "X-Certmap-Uid";
			h[n++] = uid.data;
		}
		h[n++] = "X-Certmap-Rule";
		h[n++] = rule.data;
		h[n++] = "X-Certmap-Domain";
		h[n++] = domain.data;
		h[n] = NULL;
		rc = send_plain(mc, MHD_HTTP_OK, "mapped\n", h);
	}
	cm_buf_free(&user);
	cm_buf_free(&groups);
	cm_buf_free(&uid);
	cm_buf_free(&rule);
	cm_buf_free(&domain);
	return rc;
}

/*
 * A refusal: the reason in X-Certmap-Reason, and as the body the page a
 * person would see (nginx's auth_request drops it; Caddy's forward_auth
 * shows it as it is).
 */
static enum MHD_Result answer_refused(struct MHD_Connection *mc, const struct cm_http_conf *hc,
				      unsigned int code, const char *reason)
{
	const char *h[9] = {"X-Certmap-Reason", reason_token(reason), "Vary", "Accept-Language"};
	struct cm_buf b;
	enum MHD_Result rc;
	size_t n = 4;

	cm_buf_init(&b, 64 * 1024);
	h[n++] = "Content-Language";
	h[n++] = cmd_http_denial_body(hc, mc, reason_token(reason), &b);
	if (code == MHD_HTTP_SERVICE_UNAVAILABLE) {
		h[n++] = "Retry-After";
		h[n++] = "5";
	}
	h[n] = NULL;
	rc = b.failed ? MHD_NO
		      : send_text(mc, code, "text/html; charset=utf-8", b.data, b.len, h);
	cm_buf_free(&b);
	return rc;
}

/* The reply frame of a Map, as HTTP. */
static enum MHD_Result answer_reply(struct MHD_Connection *mc, const struct cm_http_conf *hc,
				    const struct cm_buf *out)
{
	json_object *root = NULL, *p = NULL;
	const char *err, *verdict;
	enum MHD_Result rc;

	if (out->failed || out->len == 0 || out->data[out->len - 1] != '\0' ||
	    (root = json_tokener_parse(out->data)) == NULL) {
		return send_plain(mc, MHD_HTTP_INTERNAL_SERVER_ERROR, "no answer\n", NULL);
	}
	json_object_object_get_ex(root, CMP_F_PARAMETERS, &p);
	err = jstr(root, CMP_F_ERROR);
	verdict = jstr(p, "verdict");
	if (err == NULL && verdict != NULL && strcmp(verdict, "mapped") == 0) {
		rc = answer_mapped(mc, p);
	} else if (err == NULL && verdict != NULL &&
		   (strcmp(verdict, "refused") == 0 || strcmp(verdict, "ambiguous") == 0)) {
		rc = answer_refused(mc, hc, MHD_HTTP_FORBIDDEN, jstr(p, "reason"));
	} else if (err == NULL || strcmp(err, CMP_E_BACKEND_UNAVAILABLE) == 0) {
		/* The error verdict, or a backend down: try again later. */
		rc = answer_refused(mc, hc, MHD_HTTP_SERVICE_UNAVAILABLE,
				    jstr(p, "reason") != NULL ? jstr(p, "reason")
							      : "backend_unavailable");
	} else if (strcmp(err, CMP_E_INVALID_PARAMETER) == 0 || strcmp(err, CMP_E_TOO_LARGE) == 0) {
		rc = answer_refused(mc, hc, MHD_HTTP_BAD_REQUEST, "bad_request");
	} else if (strcmp(err, CMP_E_PERMISSION_DENIED) == 0) {
		rc = answer_refused(mc, hc, MHD_HTTP_FORBIDDEN, "peer_not_allowed");
	} else {
		rc = answer_refused(mc, hc, MHD_HTTP_INTERNAL_SERVER_ERROR, "error");
	}
	json_object_put(root);
	return rc;
}

/* ---------------------------------------------------------------- /auth */

struct header_count {
	const char *name;
	unsigned int n;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	struct header_count *hc = cls;

	(void)kind;
	(void)value;
	if (key != NULL && strcasecmp(key, hc->name) == 0) {
		hc->n++;
	}
	return MHD_YES;
}

/* A header sent once, or absent (*len 0, NULL); -1 when sent twice. */
static int one_header(struct MHD_Connection *mc, const char *name, const char **v, size_t *len)
{
	struct header_count hc = {.name = name};

	*v = NULL;
	*len = 0;
	if (name == NULL) {
		return 0;
	}
	MHD_get_connection_values(mc, MHD_HEADER_KIND, count_header, &hc);
	if (hc.n > 1) {
		return -1;
	}
	if (hc.n == 1 &&
	    MHD_lookup_connection_value_n(mc, MHD_HEADER_KIND, name, strlen(name), v, len) != MHD_YES) {
		*v = NULL;
		*len = 0;
	}
	return 0;
}

static void add_b64(json_object *o, const char *key, json_object *arr, const unsigned char *der,
		    size_t len)
{
	size_t cap = 4 * ((len + 2) / 3) + 1;
	char *b = malloc(cap);
	json_object *s;

	if (b == NULL) {
		return;
	}
	EVP_EncodeBlock((unsigned char *)b, der, (int)len);
	s = json_object_new_string(b);
	free(b);
	if (arr != NULL) {
		json_object_array_add(arr, s);
	} else {
		json_object_object_add(o, key, s);
	}
}

/* An optional name header (user, hints); bytes the Map decoder refuses
 * (not UTF-8, too long) come back as InvalidParameter: 400. */
static int add_name(struct MHD_Connection *mc, json_object *params, const char *header,
		    const char *key)
{
	const char *v;
	size_t len;

	if (one_header(mc, header, &v, &len) != 0) {
		return -1;
	}
	if (v != NULL && len > 0) {
		json_object_object_add(params, key, json_object_new_string_len(v, (int)len));
	}
	return 0;
}

/* The Map frame for the request; NULL with *code and *why when the
 * request is refused before any mapping. */
static char *build_frame(struct MHD_Connection *mc, const struct cm_http_conf *hc,
			 unsigned int *code, const char **why)
{
	struct cmh_certs certs;
	const char *v = NULL, *cwhy = NULL;
	size_t len = 0;
	json_object *frame = NULL, *params, *chain;
	enum cmh_result r;
	char *s = NULL;

	*code = MHD_HTTP_BAD_REQUEST;
	*why = "bad_request";
	memset(&certs, 0, sizeof(certs));
	if (one_header(mc, hc->cert_header, &v, &len) != 0) {
		return NULL; /* two copies: which one would the proxy have meant? */
	}
	r = v != NULL ? cmh_decode(hc->cert_format, v, len, &certs, &cwhy) : CMH_ABSENT;
	if (r == CMH_ABSENT) {
		*code = MHD_HTTP_UNAUTHORIZED;
		*why = "no_certificate";
		return NULL;
	}
	if (r != CMH_OK) {
		cmd_log(LOG_INFO, "HTTP /auth: the %s header does not decode: %s", hc->cert_header,
			cwhy != NULL ? cwhy : "unknown");
		return NULL;
	}
	if (one_header(mc, hc->chain_header, &v, &len) != 0 ||
	    (v != NULL && cmh_decode_chain(v, len, &certs, &cwhy) != CMH_OK)) {
		goto out;
	}
	if (hc->verify_header != NULL) {
		if (one_header(mc, hc->verify_header, &v, &len) != 0) {
			goto out;
		}
		if (v == NULL || len != strlen(hc->verify_success) ||
		    memcmp(v, hc->verify_success, len) != 0) {
			*code = MHD_HTTP_FORBIDDEN;
			*why = "untrusted";
			goto out;
		}
	}
	frame = json_object_new_object();
	params = json_object_new_object();
	json_object_object_add(frame, CMP_F_METHOD, json_object_new_string(CMP_M_MAP));
	json_object_object_add(frame, CMP_F_PARAMETERS, params);
	add_b64(params, CMP_P_CERTIFICATE, NULL, certs.der[0], certs.len[0]);
	if (certs.n > 1) {
		chain = json_object_new_array();
		for (size_t i = 1; i < certs.n; i++) {
			add_b64(NULL, NULL, chain, certs.der[i], certs.len[i]);
		}
		json_object_object_add(params, CMP_P_CHAIN, chain);
	}
	if (add_name(mc, params, hc->user_header, CMP_P_USER) != 0 ||
	    add_name(mc, params, hc->upn_hint_header, CMP_P_UPN_HINT) != 0 ||
	    add_name(mc, params, hc->domain_hint_header, CMP_P_DOMAIN_HINT) != 0 ||
	    /* The raw hint bytes, base64 as the Map parameter takes them:
	     * certmapd decodes them (not base64: 400; a malformed list:
	     * 403 hint_invalid). */
	    add_name(mc, params, hc->hint_data_header, CMP_P_USER_MAPPING_DATA) != 0) {
		goto out;
	}
	s = strdup(json_object_to_json_string_ext(frame, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	if (s == NULL) {
		*code = MHD_HTTP_SERVICE_UNAVAILABLE;
		*why = "backend_unavailable";
	}
out:
	json_object_put(frame);
	cmh_certs_clear(&certs);
	return s;
}

/* A worker is done with the Map (its thread, or the main thread at stop). */
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

static enum MHD_Result finish_job(struct hreq *hr)
{
	struct cm_buf out;
	enum MHD_Result rc;

	cm_buf_init(&out, CMP_MAX_REPLY);
	cmd_job_finish(hr->job, &hr->l->stats, &out);
	cmd_job_free(hr->job);
	hr->job = NULL;
	rc = answer_reply(hr->mc, &hr->l->gen->cfg->service.http, &out);
	cm_buf_free(&out);
	return rc;
}

static enum MHD_Result do_auth(struct hreq *hr, const struct conn *cn)
{
	struct listener *l = hr->l;
	const struct cm_http_conf *hc = &l->gen->cfg->service.http;
	struct cmd_caller cl = {.st = l->http->st,
				.gen = l->gen,
				.stats = &l->stats,
				.peer = &cn->peer,
				.fd = cn->fd,
				.post = post_job,
				.post_arg = hr,
				.owner = hr};
	enum cmd_outcome oc = CMD_REPLIED;
	unsigned int code;
	const char *why;
	struct cm_buf out;
	char *frame;
	enum MHD_Result rc;

	if ((frame = build_frame(hr->mc, hc, &code, &why)) == NULL) {
		return answer_refused(hr->mc, hc, code, why);
	}
	cm_buf_init(&out, CMP_MAX_REPLY);
	pthread_mutex_lock(&l->dispatch_lock);
	if (l->closing) {
		cm_buf_free(&out);
		free(frame);
		pthread_mutex_unlock(&l->dispatch_lock);
		return answer_refused(hr->mc, hc, MHD_HTTP_SERVICE_UNAVAILABLE, "backend_unavailable");
	}
	oc = cmd_dispatch_frame(&cl, frame, strlen(frame), &out);
	pthread_mutex_unlock(&l->dispatch_lock);
	free(frame);
	if (oc != CMD_PENDING) {
		rc = answer_reply(hr->mc, hc, &out);
		cm_buf_free(&out);
		return rc;
	}
	cm_buf_free(&out);
	hr->dispatched = true;
	pthread_mutex_lock(&hr->lock);
	if (hr->done) {
		pthread_mutex_unlock(&hr->lock);
		return finish_job(hr);
	}
	MHD_suspend_connection(hr->mc);
	hr->suspended = true;
	pthread_mutex_unlock(&hr->lock);
	return MHD_YES;
}

/* ---------------------------------------------------------------- routing */

static bool token_ok(const struct cmd_http *h, struct MHD_Connection *mc)
{
	const char *v = NULL;
	size_t len = 0;
	unsigned char diff = 0;

	if (h->token == NULL) {
		return true;
	}
	if (one_header(mc, "Authorization", &v, &len) != 0 || v == NULL || len < 7 ||
	    strncasecmp(v, "Bearer ", 7) != 0 || len - 7 != h->token_len) {
		return false;
	}
	/* Constant time: the length is not the secret. */
	for (size_t i = 0; i < h->token_len; i++) {
		diff |= (unsigned char)(v[7 + i] ^ h->token[i]);
	}
	return diff == 0;
}

static enum MHD_Result route(struct hreq *hr, const struct conn *cn, const char *url,
			     const char *method)
{
	struct MHD_Connection *mc = hr->mc;
	struct listener *l = hr->l;

	if (cn == NULL || cn->refused) {
		return answer_refused(mc, &l->gen->cfg->service.http, MHD_HTTP_FORBIDDEN,
				      "peer_not_allowed");
	}
	if (l->tcp && !token_ok(l->http, mc)) {
		const char *h[] = {"WWW-Authenticate", "Bearer realm=\"certmapd\"", NULL};

		return send_plain(mc, MHD_HTTP_UNAUTHORIZED, "a bearer token is required\n", h);
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		const char *h[] = {"Allow", "GET, HEAD", NULL};

		return send_plain(mc, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n", h);
	}
	if (hr->body) {
		return send_plain(mc, MHD_HTTP_BAD_REQUEST, "no request body is expected\n", NULL);
	}
	/* Envoy's ext_authz appends the original path to its path_prefix. */
	if (strcmp(url, "/auth") == 0 || strncmp(url, "/auth/", 6) == 0) {
		return do_auth(hr, cn);
	}
	if (strcmp(url, "/healthz") == 0) {
		return send_plain(mc, MHD_HTTP_OK, "ok\n", NULL);
	}
	if (strcmp(url, "/metrics") == 0) {
		return cmd_http_metrics(l->http->st, l->gen, mc);
	}
	if (strcmp(url, "/denied") == 0) {
		return cmd_http_denied(&l->gen->cfg->service.http, mc);
	}
	return send_plain(mc, MHD_HTTP_NOT_FOUND, "not found\n", NULL);
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
		/* Resumed: the worker is done. */
		return hr->job != NULL ? finish_job(hr) : MHD_NO;
	}
	cmd_state_refresh_gen(l->http->st, &l->gen, &l->gen_seq);
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return route(hr, ci != NULL ? (const struct conn *)ci->socket_context : NULL, url,
		     method);
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct hreq *hr = *req_cls;

	(void)cls;
	(void)mc;
	(void)toe;
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

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		if ((cn = calloc(1, sizeof(*cn))) == NULL) {
			return; /* route() refuses a connection without one */
		}
		*socket_context = cn;
		on_started(l, mc, cn);
		return;
	}
	if (cn == NULL) {
		return;
	}
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
	if (h->unix_path != NULL && unlink(h->unix_path) != 0) {
		cmd_log(LOG_NOTICE, "cannot remove the HTTP socket %s: %m (the next start removes it)",
			h->unix_path);
	}
	free(h->unix_path);
	free(h->token);
	free(h);
	st->http = NULL;
}

/*
 * certmap_client: the varlink client of certmapd. One connection per
 * client object, guarded by a mutex; a call that finds the connection
 * closed by the service (idle timeout, restart) reconnects once.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "answer.h"
#include "answer_parse.h"
#include "certmap_client.h"
#include "map_frame.h"
#include "protocol.h"

#define DEFAULT_TIMEOUT_MS 5000

struct certmap_client {
	pthread_mutex_t lock;
	char *path;
	int fd;
	int timeout_ms;
	char *in;         /* bytes read past the last reply */
	size_t in_len, in_alloc;
	uid_t server_uid; /* the service user, or (uid_t)-1 */
	bool fine_codes;  /* made by certmap_client_open(): the 0.1.1 codes */
	char *message;    /* what the last failure was, or NULL */
	json_tokener *tok; /* kept between replies (under lock), made on first use */
};

/* Sets the client's message about the last failure and returns rv. */
static int fail(struct certmap_client *c, int rv, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct certmap_client *c, int rv, const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;

	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0) {
		m = NULL;
	}
	va_end(ap);
	free(c->message);
	c->message = m;
	return rv;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events until the deadline; 0 ready, -1 timed out or failed. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int64_t left = deadline - now_ms();
		int n;

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = poll(&p, 1, (int)left);
		if (n > 0) {
			return 0;
		}
		if (n < 0 && errno != EINTR) {
			return -1;
		}
	}
}

static void drop_connection(struct certmap_client *c)
{
	if (c->fd >= 0) {
		close(c->fd);
	}
	c->fd = -1;
	c->in_len = 0;
}

/* Why connect() failed, in the caller's words. */
static int connect_failure(struct certmap_client *c, int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
		return fail(c, CERTMAP_ERR_NO_SERVICE, "no socket at %s: is certmapd running?", c->path);
	case ECONNREFUSED:
		return fail(c, CERTMAP_ERR_NO_SERVICE,
			    "nothing listens on %s: is certmapd running?", c->path);
	case EACCES:
	case EPERM:
		return fail(c, CERTMAP_ERR_PERMISSION, "permission denied on %s (uid %u)", c->path,
			    (unsigned)geteuid());
	case ETIMEDOUT:
		return fail(c, CERTMAP_ERR_BACKEND, "certmapd at %s did not accept within %d ms",
			    c->path, c->timeout_ms);
	default:
		return fail(c, CERTMAP_ERR_BACKEND, "cannot connect to %s: %s", c->path, strerror(err));
	}
}

/*
 * The process that listens on the socket must be root (systemd's socket
 * activation, or certmapd started as root), this process's own uid (which
 * could not be protected from itself anyway) or the service user: when
 * certmapd is down, anybody who can create the socket path could answer.
 */
static int check_peer(struct certmap_client *c, int fd)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0 || len != sizeof(uc)) {
		return fail(c, CERTMAP_ERR_BACKEND, "cannot read the credentials of %s: %s", c->path,
			    strerror(errno));
	}
	if (uc.uid == 0 || uc.uid == geteuid() ||
	    (c->server_uid != (uid_t)-1 && uc.uid == c->server_uid)) {
		return 0;
	}
	return fail(c, CERTMAP_ERR_UNTRUSTED_PEER,
		    "the process listening on %s runs as uid %u, which is not root, this "
		    "process's uid or the service user: not trusted (set the service user if "
		    "certmapd runs as another account)",
		    c->path, (unsigned)uc.uid);
}

static int open_connection(struct certmap_client *c, int64_t deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t elen = sizeof(int);
	int fd, err = 0, rv;

	if (strlen(c->path) >= sizeof(sa.sun_path)) {
		return fail(c, CERTMAP_ERR_INVALID_ARG, "socket path too long: %s", c->path);
	}
	memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		return fail(c, CERTMAP_ERR_SYSTEM, "socket: %s", strerror(errno));
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		err = errno;
		if (err == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) != 0) {
			err = errno;
		} else if (err == EINPROGRESS && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0) {
			err = errno;
		}
		if (err != 0) {
			close(fd);
			return connect_failure(c, err);
		}
	}
	if ((rv = check_peer(c, fd)) != 0) {
		close(fd);
		return rv;
	}
	c->fd = fd;
	c->in_len = 0;
	return 0;
}

/* Sends one frame; -1 with errno on failure. */
static int send_all(int fd, const char *p, size_t len, int64_t deadline)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(fd, POLLOUT, deadline) != 0) {
				return -1;
			}
		} else {
			return -1;
		}
	}
	return 0;
}

/*
 * Reads until one NUL-terminated frame is complete. Returns its length
 * (the frame stays at c->in), 0 on end of file before any byte, -1 on
 * error or timeout, -2 when the reply is over the limit.
 */
static long read_frame(struct certmap_client *c, int64_t deadline)
{
	for (;;) {
		char *nul = c->in_len > 0 ? memchr(c->in, '\0', c->in_len) : NULL;
		ssize_t n;

		if (nul != NULL) {
			return (long)(nul - c->in) + 1;
		}
		if (c->in_len >= CMP_MAX_REPLY) {
			return -2;
		}
		if (c->in_alloc - c->in_len < 4096) {
			size_t na = c->in_alloc == 0 ? 16384 : c->in_alloc * 2;
			char *p = realloc(c->in, na);

			if (p == NULL) {
				return -1;
			}
			c->in = p;
			c->in_alloc = na;
		}
		n = recv(c->fd, c->in + c->in_len, c->in_alloc - c->in_len, MSG_DONTWAIT);
		if (n > 0) {
			c->in_len += (size_t)n;
		} else if (n == 0) {
			return c->in_len == 0 ? 0 : -1;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(c->fd, POLLIN, deadline) != 0) {
				return -1;
			}
		} else if (errno != EINTR) {
			return c->in_len == 0 && errno == ECONNRESET ? 0 : -1;
		}
	}
}

static int decode_reply(struct certmap_client *c, size_t len, json_object **reply)
{
	json_object *o = NULL;
	int rv = CERTMAP_ERR_PROTOCOL;

	if (c->tok == NULL && (c->tok = json_tokener_new_ex(32)) == NULL) {
		return CERTMAP_ERR_NOMEM;
	}
	json_tokener_reset(c->tok);
	o = json_tokener_parse_ex(c->tok, c->in, (int)len - 1);
	if (o != NULL && json_tokener_get_error(c->tok) == json_tokener_success &&
	    json_tokener_get_parse_end(c->tok) == len - 1 && json_object_is_type(o, json_type_object)) {
		*reply = o;
		o = NULL;
		rv = 0;
	}
	json_object_put(o);
	c->in_len -= len;
	memmove(c->in, c->in + len, c->in_len);
	return rv;
}

/* One round trip with the lock held; reconnects once on a stale connection. */
static int call_locked(struct certmap_client *c, const char *frame, size_t len,
		       json_object **reply)
{
	int64_t deadline = now_ms() + c->timeout_ms;
	int rv;

	for (int attempt = 0; attempt < 2; attempt++) {
		bool fresh = c->fd < 0;
		long n;

		if (fresh && (rv = open_connection(c, deadline)) != 0) {
			return rv;
		}
		/* A send that fails may still leave the service's reason to read
		 * (it says PermissionDenied and closes), so read in any case. */
		(void)send_all(c->fd, frame, len, deadline);
		n = read_frame(c, deadline);
		if (n > 0) {
			rv = decode_reply(c, (size_t)n, reply);
			if (rv != 0) {
				drop_connection(c);
				fail(c, rv, "certmapd at %s sent a malformed reply", c->path);
			}
			return rv;
		}
		drop_connection(c);
		if (n == -2) {
			return fail(c, CERTMAP_ERR_PROTOCOL, "the reply of certmapd at %s is over %d bytes",
				    c->path, CMP_MAX_REPLY);
		}
		if (n < 0 && errno == ETIMEDOUT) {
			return fail(c, CERTMAP_ERR_BACKEND, "certmapd at %s did not answer within %d ms",
				    c->path, c->timeout_ms);
		}
		if (n < 0 || fresh) {
			break;
		}
	}
	return fail(c, CERTMAP_ERR_BACKEND, "certmapd at %s closed the connection without an answer",
		    c->path);
}

/* Sends frame (len bytes, its NUL included) and returns the reply. */
static int call_frame(struct certmap_client *c, const char *frame, size_t len,
		      json_object **reply)
{
	int rv;

	if (len > CMP_MAX_REQUEST) {
		return CERTMAP_ERR_TOO_LARGE;
	}
	pthread_mutex_lock(&c->lock);
	rv = call_locked(c, frame, len, reply);
	pthread_mutex_unlock(&c->lock);
	return rv;
}

/* Sends {"method": m, "parameters": params} (taking params) and returns the reply. */
static int call(struct certmap_client *c, const char *method, json_object *params,
		json_object **reply)
{
	json_object *msg = json_object_new_object();
	const char *s;
	size_t len;
	int rv = CERTMAP_ERR_NOMEM;

	*reply = NULL;
	if (msg == NULL || params == NULL) {
		json_object_put(params);
		goto out;
	}
	json_object_object_add(msg, CMP_F_METHOD, json_object_new_string(method));
	json_object_object_add(msg, CMP_F_PARAMETERS, params);
	s = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s == NULL) {
		goto out;
	}
	len = strlen(s) + 1; /* the NUL terminates the frame */
	rv = call_frame(c, s, len, reply);
out:
	json_object_put(msg);
	return rv;
}

static json_object *params_of(json_object *reply);

/* The message parameter of an error reply, or "". */
static const char *error_message(json_object *reply)
{
	json_object *p = params_of(reply), *m = NULL;

	if (p != NULL && json_object_object_get_ex(p, CMP_P_MESSAGE, &m) &&
	    json_object_is_type(m, json_type_string)) {
		return json_object_get_string(m);
	}
	return "";
}

/* The service's PermissionDenied, with what to change and its own words. */
static int refused(struct certmap_client *c, json_object *reply)
{
	const char *m = error_message(reply);
	char *quoted = cm_utf8_sanitize(m, strlen(m));

	fail(c, CERTMAP_ERR_PEER_REFUSED,
	     "certmapd refused uid %u: add it to service.allowed_uids or a group in "
	     "service.allowed_gids (certmapd says: %s)",
	     (unsigned)geteuid(), quoted != NULL ? quoted : "");
	free(quoted);
	return CERTMAP_ERR_PEER_REFUSED;
}

/* Maps a varlink error reply to a code; 0 when the reply is not an error. */
static int reply_error(struct certmap_client *c, json_object *reply, const char **name)
{
	json_object *e = NULL;
	const char *n;

	*name = NULL;
	if (!json_object_object_get_ex(reply, CMP_F_ERROR, &e)) {
		return 0;
	}
	if (!json_object_is_type(e, json_type_string)) {
		return fail(c, CERTMAP_ERR_PROTOCOL, "certmapd at %s sent a malformed error", c->path);
	}
	*name = n = json_object_get_string(e);
	if (strcmp(n, CMP_E_PERMISSION_DENIED) == 0) {
		return refused(c, reply);
	}
	if (strcmp(n, CMP_E_TOO_LARGE) == 0) {
		return fail(c, CERTMAP_ERR_TOO_LARGE, "certmapd: %s", error_message(reply));
	}
	if (strcmp(n, CMP_E_TOO_MANY_CONNECTIONS) == 0 ||
	    strcmp(n, CMP_E_BACKEND_UNAVAILABLE) == 0) {
		return fail(c, CERTMAP_ERR_BACKEND, "certmapd: %s: %s", n, error_message(reply));
	}
	if (strcmp(n, CMP_E_RELOAD_FAILED) == 0) {
		return fail(c, CERTMAP_ERR_CONFIG, "certmapd: %s", error_message(reply));
	}
	if (strcmp(n, CMP_E_INVALID_PARAMETER) == 0 || strcmp(n, CMP_E_METHOD_NOT_FOUND) == 0 ||
	    strcmp(n, CMP_E_INTERFACE_NOT_FOUND) == 0) {
		return fail(c, CERTMAP_ERR_INVALID_ARG, "certmapd: %s: %s", n, error_message(reply));
	}
	return fail(c, CERTMAP_ERR_PROTOCOL, "certmapd at %s sent an unknown error", c->path);
}

static json_object *params_of(json_object *reply)
{
	json_object *p = NULL;

	if (!json_object_object_get_ex(reply, CMP_F_PARAMETERS, &p) ||
	    !json_object_is_type(p, json_type_object)) {
		return NULL;
	}
	return p;
}

/* ---------------------------------------------------------------- public */

/* The uid of the account certmapd runs as: a name or a number. */
static int server_uid(const char *user, bool given, uid_t *uid)
{
	struct passwd pw, *res = NULL;
	char buf[4096], *end = NULL;
	unsigned long n;

	*uid = (uid_t)-1;
	if (user[0] >= '0' && user[0] <= '9') {
		errno = 0;
		n = strtoul(user, &end, 10);
		if (errno != 0 || *end != '\0' || n >= (unsigned long)(uid_t)-1) {
			return CERTMAP_ERR_INVALID_ARG;
		}
		*uid = (uid_t)n;
		return 0;
	}
	if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) == 0 && res != NULL) {
		*uid = pw.pw_uid;
		return 0;
	}
	/* Without the default account only root (and the caller) may answer. */
	return given ? CERTMAP_ERR_NOT_FOUND : 0;
}

/* certmap_client_connect() gives the codes of 0.1.0 for compatibility. */
static int legacy_code(const struct certmap_client *c, int rv)
{
	if (c != NULL && c->fine_codes) {
		return rv;
	}
	switch (rv) {
	case CERTMAP_ERR_NO_SERVICE:
	case CERTMAP_ERR_PERMISSION:
	case CERTMAP_ERR_UNTRUSTED_PEER:
		return CERTMAP_ERR_BACKEND;
	case CERTMAP_ERR_PEER_REFUSED:
		errno = EACCES;
		return CERTMAP_ERR_SYSTEM;
	default:
		return rv;
	}
}

static int client_new(const struct certmap_client_options *o, struct certmap_client **client,
		      char **errmsg)
{
	const char *user = o->server_user != NULL ? o->server_user : CERTMAP_CLIENT_DEFAULT_SERVER_USER;
	struct certmap_client *c = NULL;
	int rv;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->path = strdup(o->path != NULL ? o->path : CERTMAP_CLIENT_DEFAULT_SOCKET)) == NULL) {
		free(c);
		return CERTMAP_ERR_NOMEM;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->fd = -1;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	if ((rv = server_uid(user, o->server_user != NULL, &c->server_uid)) != 0) {
		rv = fail(c, CERTMAP_ERR_INVALID_ARG, "the service user %s does not exist", user);
	} else {
		rv = open_connection(c, now_ms() + c->timeout_ms);
	}
	if (rv != 0) {
		if (errmsg != NULL) {
			*errmsg = c->message;
			c->message = NULL;
		}
		certmap_client_free(c);
		return rv;
	}
	*client = c;
	return 0;
}

int certmap_client_open(const struct certmap_client_options *options,
			struct certmap_client **client, char **errmsg)
{
	static const struct certmap_client_options defaults = { 0 };
	int rv;

	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	if (client == NULL) {
		return CERTMAP_ERR_INVALID_ARG;
	}
	*client = NULL;
	rv = client_new(options != NULL ? options : &defaults, client, errmsg);
	if (rv == 0) {
		(*client)->fine_codes = true;
	}
	return rv;
}

int certmap_client_connect(const char *path, int timeout_ms, struct certmap_client **client)
{
	struct certmap_client_options o = { .path = path, .timeout_ms = timeout_ms };

	if (client == NULL) {
		return CERTMAP_ERR_INVALID_ARG;
	}
	*client = NULL;
	return legacy_code(NULL, client_new(&o, client, NULL));
}

const char *certmap_client_message(const struct certmap_client *client)
{
	return client != NULL && client->message != NULL ? client->message : "";
}

void certmap_client_free(struct certmap_client *c)
{
	if (c == NULL) {
		return;
	}
	drop_connection(c);
	pthread_mutex_destroy(&c->lock);
	free(c->in);
	free(c->path);
	free(c->message);
	if (c->tok != NULL) {
		json_tokener_free(c->tok);
	}
	free(c);
}

static bool printable_text(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((p[i] < 0x20 && p[i] != '\n' && p[i] != '\r' && p[i] != '\t') || p[i] >= 0x7f) {
			return false;
		}
	}
	return true;
}

/* PEM text goes as it is; anything else is sent as base64 DER. */
static json_object *cert_json(const unsigned char *p, size_t len)
{
	json_object *s;
	char *b64;

	if (cmp_is_pem(p, len) && printable_text(p, len)) {
		return json_object_new_string_len((const char *)p, (int)len);
	}
	if (len > CMP_MAX_REQUEST) {
		return NULL;
	}
	b64 = malloc(len / 3 * 4 + 5);
	if (b64 == NULL) {
		return NULL;
	}
	EVP_EncodeBlock((unsigned char *)b64, p, (int)len);
	s = json_object_new_string(b64);
	free(b64);
	return s;
}

static int add_name(json_object *p, const char *key, const char *value)
{
	if (value == NULL) {
		return 0;
	}
	return json_object_object_add(p, key, json_object_new_string(value));
}

/* user_mapping_data, base64 (at most CMP_MAX_HINT_DATA bytes, checked by the caller). */
static int add_hint_data(json_object *p, const struct certmap_request *req)
{
	char *b64;
	int rv;

	if ((req->flags & CERTMAP_REQ_HINT_DATA) == 0) {
		return 0;
	}
	if ((b64 = malloc(req->user_mapping_data_len / 3 * 4 + 5)) == NULL) {
		return -1;
	}
	EVP_EncodeBlock((unsigned char *)b64, req->user_mapping_data,
			(int)req->user_mapping_data_len);
	rv = json_object_object_add(p, CMP_P_USER_MAPPING_DATA, json_object_new_string(b64));
	free(b64);
	return rv;
}

static json_object *map_params(const struct certmap_request *req)
{
	json_object *p = json_object_new_object(), *chain = NULL, *cert;
	bool ok = p != NULL;

	if (ok && (cert = cert_json(req->cert, req->cert_len)) != NULL) {
		json_object_object_add(p, CMP_P_CERTIFICATE, cert);
	} else {
		ok = false;
	}
	if (ok && req->n_chain > 0) {
		chain = json_object_new_array();
		ok = chain != NULL && json_object_object_add(p, CMP_P_CHAIN, chain) == 0;
		for (size_t i = 0; ok && i < req->n_chain; i++) {
			json_object *c = cert_json(req->chain[i], req->chain_len[i]);

			ok = c != NULL && json_object_array_add(chain, c) == 0;
		}
	}
	ok = ok && add_name(p, CMP_P_USER, req->user) == 0;
	ok = ok && add_name(p, CMP_P_UPN_HINT, req->upn_hint) == 0;
	ok = ok && add_name(p, CMP_P_DOMAIN_HINT, req->domain_hint) == 0;
	ok = ok && add_hint_data(p, req) == 0;
	if (ok && (req->flags & CERTMAP_REQ_TRACE)) {
		ok = json_object_object_add(p, CMP_P_TRACE, json_object_new_boolean(true)) == 0;
	}
	if (!ok) {
		json_object_put(p);
		return NULL;
	}
	return p;
}

/* The Map call, its frame written directly when it can be (map_frame.h). */
static int call_map(struct certmap_client *c, const struct certmap_request *req,
		    json_object **reply)
{
	size_t len;
	char *frame = cmp_map_frame(req, &len);
	int rv;

	if (frame == NULL) {
		return call(c, CMP_M_MAP, map_params(req), reply);
	}
	*reply = NULL;
	rv = call_frame(c, frame, len, reply);
	free(frame);
	return rv;
}

static bool utf8_name(const char *s)
{
	return s == NULL || cm_utf8_valid(s, strlen(s));
}

/* BackendUnavailable is an answer, as certmap_map() would give it. */
static int backend_answer(json_object *params, struct certmap_answer **answer)
{
	struct certmap_answer *a = NULL;
	json_object *m = NULL;
	const char *msg = "the service's account backend is unavailable";

	/* An error reply can only refuse: whatever verdict it claims, only a
	 * backend_unavailable refusal is taken from it. */
	if (params != NULL && cm_answer_from_json(params, &a) == 0) {
		if (certmap_answer_verdict(a) != CERTMAP_VERDICT_MAPPED &&
		    certmap_answer_reason(a) == CERTMAP_REASON_BACKEND_UNAVAILABLE) {
			*answer = a;
			return 0;
		}
		certmap_answer_free(a);
		a = NULL;
	}
	if (params != NULL && json_object_object_get_ex(params, CMP_P_MESSAGE, &m) &&
	    json_object_is_type(m, json_type_string)) {
		msg = json_object_get_string(m);
	}
	if ((a = cm_answer_new()) == NULL ||
	    cm_answer_refuse(a, CERTMAP_REASON_BACKEND_UNAVAILABLE, "%s", msg) != 0) {
		certmap_answer_free(a);
		return CERTMAP_ERR_NOMEM;
	}
	*answer = a;
	return 0;
}

int certmap_client_map(struct certmap_client *client, const struct certmap_request *req,
		       struct certmap_answer **answer)
{
	json_object *reply = NULL;
	const char *err = NULL;
	int rv;

	if (answer == NULL) {
		return CERTMAP_ERR_INVALID_ARG;
	}
	*answer = NULL;
	if (client == NULL || req == NULL || req->cert == NULL || req->cert_len == 0 ||
	    (req->n_chain > 0 && (req->chain == NULL || req->chain_len == NULL))) {
		return CERTMAP_ERR_INVALID_ARG;
	}
	if (req->cert_len > CMP_MAX_CERT || req->n_chain > CMP_MAX_CHAIN) {
		return CERTMAP_ERR_TOO_LARGE;
	}
	if ((req->flags & CERTMAP_REQ_HINT_DATA) != 0) {
		if (req->user_mapping_data == NULL && req->user_mapping_data_len > 0) {
			return CERTMAP_ERR_INVALID_ARG;
		}
		if (req->user_mapping_data_len > CMP_MAX_HINT_DATA) {
			return CERTMAP_ERR_TOO_LARGE;
		}
	}
	/* JSON carries UTF-8 only, and a name cannot be sent \x-quoted: it
	 * would ask for another account. */
	if (!utf8_name(req->user) || !utf8_name(req->upn_hint) || !utf8_name(req->domain_hint)) {
		return fail(client, CERTMAP_ERR_INVALID_ARG,
			    "the requested user or a hint is not valid UTF-8");
	}
	if ((rv = call_map(client, req, &reply)) != 0) {
		goto out;
	}
	rv = reply_error(client, reply, &err);
	if (err != NULL && strcmp(err, CMP_E_BACKEND_UNAVAILABLE) == 0) {
		rv = backend_answer(params_of(reply), answer);
		goto out;
	}
	if (rv == 0) {
		rv = cm_answer_from_json(params_of(reply), answer);
	}
out:
	json_object_put(reply);
	return legacy_code(client, rv);
}

int certmap_client_map_x509(struct certmap_client *client, const struct x509_st *cert,
			    const struct certmap_request *req, struct certmap_answer **answer)
{
	struct certmap_request r = { 0 };
	unsigned char *der = NULL;
	int len, rv;

	if (answer == NULL) {
		return CERTMAP_ERR_INVALID_ARG;
	}
	*answer = NULL;
	if (cert == NULL) {
		return CERTMAP_ERR_INVALID_ARG;
	}
	if ((len = i2d_X509((X509 *)cert, &der)) <= 0) {
		return CERTMAP_ERR_CERT;
	}
	if (req != NULL) {
		/* Field by field: a caller built against an older header has a
		 * shorter struct, whose end is not ours to read. */
		r.chain = req->chain;
		r.chain_len = req->chain_len;
		r.n_chain = req->n_chain;
		r.user = req->user;
		r.upn_hint = req->upn_hint;
		r.domain_hint = req->domain_hint;
		r.flags = req->flags;
		if ((req->flags & CERTMAP_REQ_HINT_DATA) != 0) {
			r.user_mapping_data = req->user_mapping_data;
			r.user_mapping_data_len = req->user_mapping_data_len;
		}
	}
	r.cert = der;
	r.cert_len = (size_t)len;
	rv = certmap_client_map(client, &r, answer);
	OPENSSL_free(der);
	return rv;
}

int certmap_client_stats(struct certmap_client *client, char **json)
{
	json_object *reply = NULL, *p;
	const char *err = NULL;
	int rv;

	if (json == NULL) {
		return CERTMAP_ERR_INVALID_ARG;
	}
	*json = NULL;
	if (client == NULL) {
		return CERTMAP_ERR_INVALID_ARG;
	}
	if ((rv = call(client, CMP_M_GET_STATS, json_object_new_object(), &reply)) != 0 ||
	    (rv = reply_error(client, reply, &err)) != 0) {
		goto out;
	}
	if ((p = params_of(reply)) == NULL) {
		rv = CERTMAP_ERR_PROTOCOL;
		goto out;
	}
	*json = strdup(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN));
	rv = *json != NULL ? 0 : CERTMAP_ERR_NOMEM;
out:
	json_object_put(reply);
	return legacy_code(client, rv);
}

int certmap_client_reload(struct certmap_client *client, char **errmsg)
{
	json_object *reply = NULL, *m = NULL, *p;
	const char *err = NULL;
	int rv;

	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	if (client == NULL) {
		return CERTMAP_ERR_INVALID_ARG;
	}
	if ((rv = call(client, CMP_M_RELOAD, json_object_new_object(), &reply)) != 0) {
		goto out;
	}
	rv = reply_error(client, reply, &err);
	p = params_of(reply);
	if (rv != 0 && errmsg != NULL && p != NULL &&
	    json_object_object_get_ex(p, CMP_P_MESSAGE, &m) && json_object_is_type(m, json_type_string)) {
		*errmsg = strdup(json_object_get_string(m));
	}
out:
	json_object_put(reply);
	return legacy_code(client, rv);
}

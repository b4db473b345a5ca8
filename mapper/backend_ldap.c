/*
 * ldap domains: accounts and groups from a directory.
 *
 * Connections. Each domain of a loaded configuration has a pool of idle,
 * bound connections (struct cm_ldap_pool). A lookup takes one (or opens a
 * new one when none is idle), uses it alone, and gives it back; so
 * certmapd's worker threads never share an LDAP handle and never wait for
 * each other, and at most pool_size idle connections stay open per domain.
 * A connection that failed is closed, never given back.
 *
 * Failover. URIs are tried in configuration order. A URI that refused a
 * connection, failed TLS or the bind, or did not answer within timeout is
 * passed over for retry_interval seconds (unless every URI is passed over:
 * then all are tried again). An idle connection to a later URI is closed
 * once an earlier URI may be tried again, so the pool drifts back to the
 * first URI. One lookup tries each URI at most once after a timeout, so a
 * directory that hangs costs timeout seconds per URI, and a single hanging
 * directory gives backend_unavailable after timeout seconds.
 *
 * Time limits: LDAP_OPT_NETWORK_TIMEOUT bounds the TCP connect (and, through
 * a Sockbuf layer, each socket wait of the ldaps:// handshake),
 * LDAP_OPT_TIMEOUT every synchronous call (StartTLS, bind), and each search
 * carries timeout as its own limit (client side) and as its time limit
 * (server side).
 *
 * TLS: ldaps:// and StartTLS use a TLS context made for each connection
 * (LDAP_OPT_X_TLS_NEWCTX) with tls_ca_file and LDAP_OPT_X_TLS_HARD, so the
 * certificate and the host name are always checked, whatever ldap.conf
 * says; nothing turns that off.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ldap.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend_ldap.h"
#include "certmap.h"
#include "conf.h"
#include "conf_ldap.h"
#include "ldap_cache.h"
#include "rules.h"
#include "sid.h"

/* Values longer than this in an entry are not used (names, homes, DNs). */
#define LDAP_MAX_VALUE 4096
/* Traces show at most this much of a filter ({cert!bin} is long). */
#define TRACE_FILTER_MAX 512
/* Cap on group entries read for one account. */
#define LDAP_MAX_GROUP_ENTRIES 4096

struct conn {
	LDAP *ld;
	size_t uri;       /* index into the domain's uri list */
	time_t opened;
	long given_back;  /* now_coarse_ms() when it went back to the pool */
	bool fresh;       /* opened by this lookup */
};

struct cm_ldap_pool {
	pthread_mutex_t lock;
	struct conn *idle;
	size_t n_idle;
	size_t cap;
	time_t down_until[CM_LDAP_MAX_URIS];
	pid_t pid;        /* the process the idle connections belong to */
	bool unreachable; /* the last operation found no server that answered */
};

/* What an operation on a connection reports besides certmap codes. */
#define CONN_LOST (-1)    /* the connection broke: try another */
#define CONN_TIMEOUT (-2) /* no answer in time: pass the URI over */

/*
 * The process id, kept up to date by a fork handler: glibc no longer
 * caches getpid(), and the pool checks it on every take and give back (a
 * system call each time, twice per lookup). 0 until the first pool.
 */
static _Atomic pid_t self_pid;
static pthread_once_t self_pid_once = PTHREAD_ONCE_INIT;

static void self_pid_after_fork(void)
{
	self_pid = getpid();
}

static void self_pid_init(void)
{
	self_pid = getpid();
	/* Without the handler a child would take the parent's sessions for
	 * its own: then ask the kernel every time (my_pid). */
	if (pthread_atfork(NULL, NULL, self_pid_after_fork) != 0) {
		self_pid = 0;
	}
}

static pid_t my_pid(void)
{
	pid_t pid;

	pthread_once(&self_pid_once, self_pid_init);
	pid = self_pid;
	return pid != 0 ? pid : getpid();
}

struct cm_ldap_pool *cm_ldap_pool_new(void)
{
	struct cm_ldap_pool *p = calloc(1, sizeof(*p));

	if (p != NULL && pthread_mutex_init(&p->lock, NULL) != 0) {
		free(p);
		p = NULL;
	}
	if (p != NULL) {
		p->pid = my_pid();
	}
	return p;
}

/*
 * Frees a connection inherited across fork() without touching the
 * parent's session: its descriptor is first pointed at /dev/null, so the
 * unbind (and a TLS close_notify) libldap writes on the way out goes
 * nowhere and only this process's copy of the socket is closed. Without
 * /dev/null the handle is leaked rather than risk the parent's stream.
 */
static void forget_inherited(LDAP *ld)
{
	int fd = -1, null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null_fd >= 0 && ldap_get_option(ld, LDAP_OPT_DESC, &fd) == LDAP_OPT_SUCCESS &&
	    fd >= 0 && dup3(null_fd, fd, O_CLOEXEC) == fd) {
		ldap_destroy(ld);
	}
	if (null_fd >= 0) {
		close(null_fd);
	}
}

/*
 * Called with the lock held on every use: in a child of fork() the idle
 * connections are the parent's sessions (a search or unbind there would
 * interleave with the parent's traffic), so they are forgotten, never
 * used or unbound.
 */
static void pool_after_fork(struct cm_ldap_pool *p)
{
	pid_t me = my_pid();

	if (p->pid == me) {
		return;
	}
	for (size_t i = 0; i < p->n_idle; i++) {
		forget_inherited(p->idle[i].ld);
	}
	p->n_idle = 0;
	p->pid = me;
}

void cm_ldap_pool_free(struct cm_ldap_pool *p)
{
	if (p == NULL) {
		return;
	}
	pool_after_fork(p);
	for (size_t i = 0; i < p->n_idle; i++) {
		ldap_unbind_ext(p->idle[i].ld, NULL, NULL);
	}
	free(p->idle);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static time_t now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Milliseconds of a clock read without a system call, a few ms coarse. */
static long now_coarse_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ connecting */

/* "what: error text (diagnostic)"; the diagnostic (a TLS failure, the
 * server's message) is escaped and capped, as it is outside data. */
static char *ld_error(LDAP *ld, const char *what, int lrc)
{
	char *diag = NULL, *s;
	struct cm_buf b;

	cm_buf_init(&b, 4096);
	cm_buf_printf(&b, "%s: %s", what, ldap_err2string(lrc));
	if (ld != NULL && ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag) == LDAP_OPT_SUCCESS &&
	    diag != NULL && diag[0] != '\0' && strcmp(diag, "(unknown error code)") != 0) {
		cm_buf_adds(&b, " (");
		cm_buf_add_escaped(&b, (const unsigned char *)diag, strlen(diag), 256);
		cm_buf_adds(&b, ")");
	}
	ldap_memfree(diag);
	s = cm_buf_steal(&b, NULL);
	cm_buf_free(&b);
	return s;
}

/* Reads the bind password (one line) into buf; the caller wipes it. */
static int read_password(const struct cm_ldap_conf *lc, char *buf, size_t size, char **msg)
{
	struct stat st;
	const char *why = NULL;
	ssize_t n = -1;
	int fd;

	fd = open(lc->bind_password_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) != 0) {
		why = strerror(errno);
	} else if ((why = cm_ldap_password_file_problem(&st, lc->service_uid)) == NULL) {
		n = read(fd, buf, size - 1);
		if (n < 0) {
			why = strerror(errno);
		}
	}
	if (fd >= 0) {
		close(fd);
	}
	if (why != NULL) {
		*msg = cm_asprintf("bind_password_file %s: %s", lc->bind_password_file, why);
		return CERTMAP_ERR_BACKEND;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
		n--;
	}
	buf[n] = '\0';
	return CERTMAP_OK;
}

static int bind_conn(const struct cm_ldap_conf *lc, LDAP *ld, char **msg)
{
	char pw[CM_LDAP_MAX_PASSWORD + 2];
	struct berval cred = { 0, NULL };
	int rc, lrc;

	if (lc->sasl_mech != NULL) {
		/* An empty initial response (not an absent one): EXTERNAL
		 * then completes in one step, without libsasl on this side. */
		cred.bv_val = (char *)"";
		lrc = ldap_sasl_bind_s(ld, NULL, lc->sasl_mech, &cred, NULL, NULL, NULL);
	} else if (lc->bind_dn != NULL) {
		if ((rc = read_password(lc, pw, sizeof(pw), msg)) != CERTMAP_OK) {
			return rc;
		}
		cred.bv_val = pw;
		cred.bv_len = strlen(pw);
		lrc = ldap_sasl_bind_s(ld, lc->bind_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
		explicit_bzero(pw, sizeof(pw));
	} else {
		/* Anonymous: connect now, so that a dead server shows here. */
		lrc = ldap_connect(ld);
	}
	if (lrc == LDAP_SUCCESS) {
		return CERTMAP_OK;
	}
	*msg = ld_error(ld, lc->sasl_mech != NULL ? "SASL bind" : lc->bind_dn != NULL ? "bind" : "connect",
			lrc);
	return lrc == LDAP_TIMEOUT ? CONN_TIMEOUT : CONN_LOST;
}

/*
 * libldap bounds the TCP connect by LDAP_OPT_NETWORK_TIMEOUT but, as Debian
 * builds it (2.5), not the TLS handshake of an ldaps:// connection: on the
 * non-blocking socket it retries the handshake forever while a server that
 * accepted the connection never answers. A small Sockbuf layer under TLS
 * waits at most the network timeout for the socket before each read and
 * write, and fails with ETIMEDOUT after it. Reads of an established
 * connection happen when data is there, so they never wait here.
 */
static int wait_fd(Sockbuf_IO_Desc *sbiod, short events)
{
	struct pollfd pfd = { .fd = -1, .events = events };
	int ms = (int)(intptr_t)sbiod->sbiod_pvt, r;

	if (ber_sockbuf_ctrl(sbiod->sbiod_sb, LBER_SB_OPT_GET_FD, &pfd.fd) != 1 || pfd.fd < 0) {
		return 0;
	}
	do {
		r = poll(&pfd, 1, ms);
	} while (r < 0 && errno == EINTR);
	if (r == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	return 0;
}

static int tio_setup(Sockbuf_IO_Desc *sbiod, void *arg)
{
	sbiod->sbiod_pvt = arg;
	return 0;
}

static int tio_remove(Sockbuf_IO_Desc *sbiod)
{
	(void)sbiod;
	return 0;
}

static int tio_ctrl(Sockbuf_IO_Desc *sbiod, int opt, void *arg)
{
	return LBER_SBIOD_CTRL_NEXT(sbiod, opt, arg);
}

/*
 * Reads and writes are first tried without waiting: libldap reads once it
 * saw the socket readable and writes small requests to a socket with room,
 * so the poll (a system call per read and write) is only paid when it
 * would block. Then poll bounds the wait. This layer sits right on the
 * socket (TLS goes above it), so the calls go to the descriptor.
 *
 * Every byte certmap writes to a directory goes through tio_write, always
 * with MSG_NOSIGNAL: a server that closed the connection gives EPIPE, never
 * SIGPIPE, so a library caller that did not ignore SIGPIPE is not killed,
 * and no lookup has to block and consume the signal (four system calls).
 */
static ber_slen_t tio_read(Sockbuf_IO_Desc *sbiod, void *buf, ber_len_t len)
{
	ber_socket_t fd = -1;
	ssize_t n;

	if (ber_sockbuf_ctrl(sbiod->sbiod_sb, LBER_SB_OPT_GET_FD, &fd) == 1 && fd >= 0) {
		do {
			n = recv(fd, buf, len, MSG_DONTWAIT);
		} while (n < 0 && errno == EINTR);
		if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			return n;
		}
	}
	return wait_fd(sbiod, POLLIN) != 0 ? -1 : LBER_SBIOD_READ_NEXT(sbiod, buf, len);
}

static ber_slen_t tio_write(Sockbuf_IO_Desc *sbiod, void *buf, ber_len_t len)
{
	ber_socket_t fd = -1;
	ssize_t n;

	if (ber_sockbuf_ctrl(sbiod->sbiod_sb, LBER_SB_OPT_GET_FD, &fd) != 1 || fd < 0) {
		errno = EBADF;
		return -1;
	}
	do {
		n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
		return n;
	}
	if (wait_fd(sbiod, POLLOUT) != 0) {
		return -1;
	}
	/* As the layer below would write: blocking or not as the socket is. */
	do {
		n = send(fd, buf, len, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return n;
}

static int tio_close(Sockbuf_IO_Desc *sbiod)
{
	(void)sbiod;
	return 0;
}

static Sockbuf_IO timed_io = { tio_setup, tio_remove, tio_ctrl, tio_read, tio_write, tio_close };

/* Set when a TCP connection of this thread is up (before any TLS): a
 * failed ldaps:// connection after it failed in TLS (check-config). */
static __thread bool tcp_up;

static int conn_add(LDAP *ld, Sockbuf *sb, LDAPURLDesc *srv, struct sockaddr *addr,
		    struct ldap_conncb *ctx)
{
	struct timeval *tv = NULL;
	long ms = 3000;

	tcp_up = true;
	(void)srv;
	(void)addr;
	(void)ctx;
	if (ldap_get_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) == LDAP_OPT_SUCCESS && tv != NULL) {
		ms = (long)tv->tv_sec * 1000 + tv->tv_usec / 1000;
	}
	ldap_memfree(tv);
	/*
	 * TLS, added later at the same level, goes above these layers. The
	 * read-ahead buffer above the socket takes a whole answer (the entry
	 * and the search's result, or a TLS record's header and body) in one
	 * read where libldap alone reads each message's header and body apart:
	 * four system calls per search become one or two.
	 */
	if (ber_sockbuf_add_io(sb, &timed_io, LBER_SBIOD_LEVEL_TRANSPORT, (void *)(intptr_t)ms) != 0 ||
	    ber_sockbuf_add_io(sb, &ber_sockbuf_io_readahead, LBER_SBIOD_LEVEL_TRANSPORT, NULL) != 0) {
		return -1;
	}
	return 0;
}

static void conn_del(LDAP *ld, Sockbuf *sb, struct ldap_conncb *ctx)
{
	(void)ld;
	(void)sb;
	(void)ctx;
}

/* libldap keeps a pointer to it: one for every handle, never changed. */
static ldap_conncb conn_timeouts = { conn_add, conn_del, NULL };

static int set_options(const struct cm_ldap_conf *lc, LDAP *ld, const char *uri)
{
	struct timeval tv = { .tv_sec = (time_t)lc->timeout };
	int v3 = LDAP_VERSION3, hard = LDAP_OPT_X_TLS_HARD, zero = 0;
	bool tls = lc->starttls || strncasecmp(uri, "ldaps://", 8) == 0;

	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_RESTART, LDAP_OPT_ON) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_CONNECT_CB, &conn_timeouts) != LDAP_OPT_SUCCESS) {
		return -1;
	}
	if (!tls) {
		return 0;
	}
	if (ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &hard) != LDAP_OPT_SUCCESS ||
	    (lc->tls_ca_file != NULL &&
	     ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, lc->tls_ca_file) != LDAP_OPT_SUCCESS) ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero) != LDAP_OPT_SUCCESS) {
		return -1;
	}
	return 0;
}

/* libldap sets its global defaults up on first use, which is not safe to
 * race: the first connection of the process does it, once. */
static pthread_once_t ldap_once = PTHREAD_ONCE_INIT;

static void ldap_global_init(void)
{
	int v = 0;

	(void)ldap_get_option(NULL, LDAP_OPT_PROTOCOL_VERSION, &v);
}

/* Opens and binds a connection to URI i. With stage (check-config
 * --online) the connection is opened on its own first, so that *stage
 * names the step that failed: "connect", "tls" or "bind". */
static int open_uri_staged(const struct cm_ldap_conf *lc, size_t i, LDAP **out, char **msg,
			   const char **stage)
{
	LDAP *ld = NULL;
	const char *unused;
	int rc, lrc;

	*out = NULL;
	if (stage == NULL) {
		stage = &unused;
	}
	*stage = "connect";
	pthread_once(&ldap_once, ldap_global_init);
	if ((lrc = ldap_initialize(&ld, lc->uri[i])) != LDAP_SUCCESS) {
		*msg = cm_asprintf("%s", ldap_err2string(lrc));
		return CONN_LOST;
	}
	if (set_options(lc, ld, lc->uri[i]) != 0) {
		*msg = cm_asprintf("cannot set connection options");
		rc = CONN_LOST;
		goto out;
	}
	tcp_up = false;
	if (stage != &unused && !lc->starttls && (lrc = ldap_connect(ld)) != LDAP_SUCCESS) {
		*msg = ld_error(ld, tcp_up ? "TLS handshake" : "connect", lrc);
		if (strncasecmp(lc->uri[i], "ldaps://", 8) == 0 && tcp_up) {
			*stage = "tls";
		}
		rc = lrc == LDAP_TIMEOUT ? CONN_TIMEOUT : CONN_LOST;
		goto out;
	}
	*stage = lc->starttls ? "tls" : "bind";
	if (lc->starttls && (lrc = ldap_start_tls_s(ld, NULL, NULL)) != LDAP_SUCCESS) {
		*msg = ld_error(ld, "StartTLS", lrc);
		if (strstr(*msg, "TLS:") == NULL && lrc == LDAP_SERVER_DOWN) {
			*stage = "connect";
		}
		rc = lrc == LDAP_TIMEOUT ? CONN_TIMEOUT : CONN_LOST;
		goto out;
	}
	*stage = "bind";
	if ((rc = bind_conn(lc, ld, msg)) != CERTMAP_OK) {
		goto out;
	}
	*out = ld;
	ld = NULL;
out:
	if (ld != NULL) {
		ldap_unbind_ext(ld, NULL, NULL);
	}
	return rc;
}

bool cm_ldap_up(const struct cm_domain *d)
{
	struct cm_ldap_pool *p = d->ldap != NULL ? d->ldap->pool : NULL;
	bool up;

	if (p == NULL) {
		return false;
	}
	pthread_mutex_lock(&p->lock);
	up = !p->unreachable;
	pthread_mutex_unlock(&p->lock);
	return up;
}

static int open_uri(const struct cm_ldap_conf *lc, size_t i, LDAP **out, char **msg)
{
	return open_uri_staged(lc, i, out, msg, NULL);
}

static void mark_down(const struct cm_ldap_conf *lc, size_t i)
{
	struct cm_ldap_pool *p = lc->pool;

	pthread_mutex_lock(&p->lock);
	p->down_until[i] = now_mono() + (time_t)lc->retry_interval;
	pthread_mutex_unlock(&p->lock);
}

/*
 * Opens a connection to the first URI that is not passed over and was not
 * given up on by this lookup (tried[]). Returns 0 or CERTMAP_ERR_BACKEND
 * with every URI's failure in *msg.
 */
static int open_conn(const struct cm_ldap_conf *lc, bool *tried, struct conn *c, char **msg)
{
	struct cm_buf why;
	bool any_up = false, skip[CM_LDAP_MAX_URIS];
	time_t now = now_mono();
	int rc = CERTMAP_ERR_BACKEND;

	pthread_mutex_lock(&lc->pool->lock);
	for (size_t i = 0; i < lc->n_uri; i++) {
		skip[i] = tried[i] || lc->pool->down_until[i] > now;
		any_up = any_up || !skip[i];
	}
	pthread_mutex_unlock(&lc->pool->lock);
	for (size_t i = 0; !any_up && i < lc->n_uri; i++) {
		skip[i] = tried[i];
	}
	cm_buf_init(&why, 16384);
	for (size_t i = 0; i < lc->n_uri; i++) {
		char *m = NULL;

		if (skip[i]) {
			continue;
		}
		tried[i] = true;
		rc = open_uri(lc, i, &c->ld, &m);
		if (rc == CERTMAP_OK) {
			c->uri = i;
			c->opened = now_mono();
			c->fresh = true;
			break;
		}
		mark_down(lc, i);
		cm_buf_printf(&why, "%s%s: %s", why.len > 0 ? "; " : "", lc->uri[i], m != NULL ? m : "");
		free(m);
		rc = CERTMAP_ERR_BACKEND;
	}
	if (rc != CERTMAP_OK) {
		*msg = cm_asprintf("no directory server answered (%s)",
				   why.data != NULL ? why.data : "every URI was tried");
	}
	cm_buf_free(&why);
	return rc;
}

/* Whether an idle connection still looks alive: a server that closed it
 * (restart, idle timeout) makes the socket readable or hung up. A
 * connection given back less than IDLE_CHECK_MS ago is not looked at (a
 * system call per lookup under load): if the server closed it meanwhile,
 * the search fails as CONN_LOST and with_conn takes another, as it does
 * for a server that closes a connection right after this check. */
#define IDLE_CHECK_MS 200

static bool idle_alive(LDAP *ld)
{
	struct pollfd pfd = { .fd = -1, .events = POLLIN };
	Sockbuf *sb = NULL;

	if (ldap_get_option(ld, LDAP_OPT_DESC, &pfd.fd) != LDAP_OPT_SUCCESS || pfd.fd < 0 ||
	    ldap_get_option(ld, LDAP_OPT_SOCKBUF, &sb) != LDAP_OPT_SUCCESS || sb == NULL) {
		return false;
	}
	/* Bytes already read ahead (a notice of disconnection) count too. */
	return ber_sockbuf_ctrl(sb, LBER_SB_OPT_DATA_READY, NULL) == 0 && poll(&pfd, 1, 0) == 0;
}

/* Takes an idle connection, or returns false. Connections to a later URI
 * are closed once an earlier one may be tried again. */
static bool take_idle(const struct cm_ldap_conf *lc, struct conn *c)
{
	struct cm_ldap_pool *p = lc->pool;
	time_t now = now_mono();
	bool got = false;

	while (!got) {
		struct conn e;
		bool stale = false;

		pthread_mutex_lock(&p->lock);
		pool_after_fork(p);
		if (p->n_idle == 0) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		e = p->idle[--p->n_idle];
		for (size_t i = 0; i < e.uri; i++) {
			stale = stale || (p->down_until[i] <= now &&
					  e.opened + (time_t)lc->retry_interval <= now);
		}
		pthread_mutex_unlock(&p->lock);
		if (stale || (now_coarse_ms() - e.given_back > IDLE_CHECK_MS && !idle_alive(e.ld))) {
			ldap_unbind_ext(e.ld, NULL, NULL);
			continue;
		}
		*c = e;
		c->fresh = false;
		got = true;
	}
	return got;
}

static void give_back(const struct cm_ldap_conf *lc, struct conn *c)
{
	struct cm_ldap_pool *p = lc->pool;
	bool kept = false;

	c->given_back = now_coarse_ms();
	pthread_mutex_lock(&p->lock);
	pool_after_fork(p);
	p->unreachable = false; /* a server answered on c */
	if (p->n_idle < lc->pool_size) {
		if (p->n_idle == p->cap) {
			size_t ncap = p->cap == 0 ? 4 : p->cap * 2;
			struct conn *n = realloc(p->idle, ncap * sizeof(*n));

			if (n != NULL) {
				p->idle = n;
				p->cap = ncap;
			}
		}
		if (p->n_idle < p->cap) {
			p->idle[p->n_idle++] = *c;
			kept = true;
		}
	}
	pthread_mutex_unlock(&p->lock);
	if (!kept) {
		ldap_unbind_ext(c->ld, NULL, NULL);
	}
	c->ld = NULL;
}

/* Closes the idle connections to URI i: when one of them broke, the others
 * (opened before the same server restart or network change) likely did. */
static void drop_idle(const struct cm_ldap_conf *lc, size_t i)
{
	struct cm_ldap_pool *p = lc->pool;
	LDAP *gone[CM_LDAP_MAX_URIS * 4];
	size_t n_gone = 0, k = 0;

	pthread_mutex_lock(&p->lock);
	pool_after_fork(p);
	for (size_t j = 0; j < p->n_idle; j++) {
		if (p->idle[j].uri == i && n_gone < CM_ARRAY_SIZE(gone)) {
			gone[n_gone++] = p->idle[j].ld;
		} else {
			p->idle[k++] = p->idle[j];
		}
	}
	p->n_idle = k;
	pthread_mutex_unlock(&p->lock);
	for (size_t j = 0; j < n_gone; j++) {
		ldap_unbind_ext(gone[j], NULL, NULL);
	}
}

typedef int conn_op(const struct cm_ldap_conf *lc, LDAP *ld, void *arg, char **msg);

/*
 * Runs op on a connection of the domain, failing over as the top of this
 * file says. op returns a certmap code (the connection is kept) or
 * CONN_LOST / CONN_TIMEOUT (it is closed and the next URI tried). A write
 * to a closed socket raises no SIGPIPE (tio_write).
 */
static int with_conn(const struct cm_ldap_conf *lc, conn_op *op, void *arg, size_t *used,
		     char **msg)
{
	bool tried[CM_LDAP_MAX_URIS] = { false };
	bool answered = false;
	char *err = NULL;
	int rc = CERTMAP_ERR_BACKEND;

	for (size_t attempt = 0; attempt <= lc->n_uri + 1; attempt++) {
		struct conn c = { 0 };
		char *m = NULL;

		free(err);
		err = NULL;
		if (!take_idle(lc, &c) && (rc = open_conn(lc, tried, &c, &err)) != CERTMAP_OK) {
			break;
		}
		rc = op(lc, c.ld, arg, &m);
		if (rc != CONN_LOST && rc != CONN_TIMEOUT) {
			answered = true;
			err = m;
			*used = c.uri;
			give_back(lc, &c);
			break;
		}
		ldap_unbind_ext(c.ld, NULL, NULL);
		/* A pooled connection the server dropped is simply reopened; a
		 * new one that broke, or any timeout, passes the URI over. */
		if (c.fresh || rc == CONN_TIMEOUT) {
			tried[c.uri] = true;
			mark_down(lc, c.uri);
		}
		if (!c.fresh) {
			drop_idle(lc, c.uri);
		}
		err = cm_asprintf("%s: %s", lc->uri[c.uri], m != NULL ? m : "connection lost");
		free(m);
		rc = CERTMAP_ERR_BACKEND;
	}
	if (!answered) {
		pthread_mutex_lock(&lc->pool->lock);
		lc->pool->unreachable = true;
		pthread_mutex_unlock(&lc->pool->lock);
	}
	if (rc == CERTMAP_ERR_BACKEND && err == NULL) {
		err = cm_asprintf("directory unavailable");
	}
	if (rc == CERTMAP_ERR_BACKEND && msg != NULL) {
		*msg = err;
		err = NULL;
	}
	free(err);
	return rc;
}

/* ------------------------------------------------------------ searching */

/* The outcome of ldap_search_ext_s as certmap sees it. */
static int search_rc(LDAP *ld, int lrc, char **msg)
{
	switch (lrc) {
	case LDAP_SUCCESS:
	case LDAP_SIZELIMIT_EXCEEDED:
	case LDAP_NO_SUCH_OBJECT:
		return CERTMAP_OK;
	case LDAP_NO_MEMORY:
		return CERTMAP_ERR_NOMEM;
	case LDAP_TIMEOUT:
		*msg = ld_error(ld, "search", lrc);
		return CONN_TIMEOUT;
	case LDAP_SERVER_DOWN:
	case LDAP_CONNECT_ERROR:
	case LDAP_UNAVAILABLE:
	case LDAP_BUSY:
		*msg = ld_error(ld, "search", lrc);
		return CONN_LOST;
	default:
		*msg = ld_error(ld, "search", lrc);
		return CERTMAP_ERR_BACKEND;
	}
}

static int search(const struct cm_ldap_conf *lc, LDAP *ld, const char *base, int scope,
		  const char *filter, char **attrs, int limit, LDAPMessage **res,
		  bool *truncated, char **msg)
{
	struct timeval tv = { .tv_sec = (time_t)lc->timeout };
	int lrc;

	*res = NULL;
	lrc = ldap_search_ext_s(ld, base, scope, filter, attrs, 0, NULL, NULL, &tv, limit, res);
	if (truncated != NULL) {
		*truncated = lrc == LDAP_SIZELIMIT_EXCEEDED;
	}
	if (lrc != LDAP_SUCCESS && lrc != LDAP_SIZELIMIT_EXCEEDED) {
		ldap_msgfree(*res);
		*res = NULL;
	}
	return search_rc(ld, lrc, msg);
}

/*
 * An entry read in one pass: its DN and the values of the attributes asked
 * for, pointing into the message (valid while it is). ldap_get_values_len
 * scans the entry from its start for every attribute asked for, copying
 * each attribute name and value it passes; an account reads five or six.
 * As there, the first occurrence of an attribute is the one used.
 */
#define ENTRY_ATTRS 8

struct entry {
	BerElement *ber;
	struct berval dn;
	BerVarray vals[ENTRY_ATTRS]; /* of want[i]: NULL when absent */
	bool seen[ENTRY_ATTRS];
	bool owned[ENTRY_ATTRS]; /* vals[i] is freed with the entry (two names
				  * asked for the same attribute share one) */
};

static bool attr_is(const char *want, const struct berval *attr)
{
	return want != NULL && strlen(want) == attr->bv_len &&
	       strncasecmp(want, attr->bv_val, attr->bv_len) == 0;
}

static void entry_clear(struct entry *en)
{
	for (size_t i = 0; i < ENTRY_ATTRS; i++) {
		if (en->owned[i]) {
			ldap_memfree(en->vals[i]);
		}
	}
	if (en->ber != NULL) {
		ber_free(en->ber, 0);
	}
	memset(en, 0, sizeof(*en));
}

/* Gives vals to every name of want[0..n) that is attr and was not seen
 * yet; returns vals when nobody took it. */
static BerVarray entry_take(struct entry *en, char *const *want, size_t n,
			    const struct berval *attr, BerVarray vals)
{
	BerVarray left = vals;

	for (size_t i = 0; i < n; i++) {
		if (!en->seen[i] && attr_is(want[i], attr)) {
			en->seen[i] = true;
			en->vals[i] = vals;
			en->owned[i] = left != NULL;
			left = NULL;
		}
	}
	return left;
}

/* Reads e for want[0..n) (n <= ENTRY_ATTRS; NULL names are skipped).
 * Returns 0, CERTMAP_ERR_NOMEM, or CERTMAP_ERR_NOT_FOUND when the DN
 * cannot be read or holds a NUL byte; an attribute that cannot be decoded
 * is absent, as it was for ldap_get_values_len. */
static int entry_read(LDAP *ld, LDAPMessage *e, char *const *want, size_t n, struct entry *en)
{
	struct berval attr;
	BerVarray vals = NULL;
	int lrc;

	memset(en, 0, sizeof(*en));
	lrc = ldap_get_dn_ber(ld, e, &en->ber, &en->dn);
	if (lrc == LDAP_NO_MEMORY) {
		return CERTMAP_ERR_NOMEM;
	}
	if (lrc != LDAP_SUCCESS || en->dn.bv_val == NULL ||
	    memchr(en->dn.bv_val, '\0', en->dn.bv_len) != NULL) {
		entry_clear(en);
		return CERTMAP_ERR_NOT_FOUND;
	}
	while (ldap_get_attribute_ber(ld, e, en->ber, &attr, &vals) == LDAP_SUCCESS &&
	       attr.bv_val != NULL) {
		ldap_memfree(entry_take(en, want, n, &attr, vals));
		vals = NULL;
	}
	ldap_memfree(vals);
	return CERTMAP_OK;
}

/* The only value in vals: NULL when absent, several, too long or holding a
 * NUL byte (*why says which). */
static const struct berval *single_bv(const BerVarray vals, const char **why)
{
	*why = NULL;
	if (vals == NULL || vals[0].bv_val == NULL) {
		*why = "has no";
	} else if (vals[1].bv_val != NULL) {
		*why = "has several values of";
	} else if (vals[0].bv_len > LDAP_MAX_VALUE ||
		   memchr(vals[0].bv_val, '\0', vals[0].bv_len) != NULL) {
		*why = "has an unusable value of";
	} else {
		return &vals[0];
	}
	return NULL;
}

/* The only value in vals as a C string, or NULL (*why says why). */
static char *single_value(const BerVarray vals, const char **why)
{
	const struct berval *v = single_bv(vals, why);
	char *s = v != NULL ? strndup(v->bv_val, v->bv_len) : NULL;

	if (v != NULL && s == NULL) {
		*why = "out of memory reading";
	}
	return s;
}

/* A decimal id below 0xffffffff, digits only (leading zeros allowed). */
static bool parse_id(const struct berval *v, unsigned int *out)
{
	unsigned long long n = 0;

	if (v == NULL || v->bv_len == 0) {
		return false;
	}
	for (size_t i = 0; i < v->bv_len; i++) {
		unsigned char c = (unsigned char)v->bv_val[i];

		if (c < '0' || c > '9') {
			return false;
		}
		n = n * 10 + (c - '0');
		if (n >= 0xffffffffULL) {
			return false;
		}
	}
	*out = (unsigned int)n;
	return true;
}

static int add_values(const BerVarray vals, struct cm_strv *out)
{
	int rc = CERTMAP_OK;

	for (size_t i = 0; vals != NULL && vals[i].bv_val != NULL && rc == CERTMAP_OK; i++) {
		if (vals[i].bv_len > LDAP_MAX_VALUE || out->n >= LDAP_MAX_GROUP_ENTRIES ||
		    memchr(vals[i].bv_val, '\0', vals[i].bv_len) != NULL) {
			continue;
		}
		if (cm_strv_addn(out, vals[i].bv_val, vals[i].bv_len) != 0) {
			rc = CERTMAP_ERR_NOMEM;
		}
	}
	return rc;
}

/* The entry's attr_sid, if it has one. A malformed or repeated value makes
 * the entry unusable: a strong mapping check must not be skipped. */
static int entry_sid(const struct cm_ldap_conf *lc, const BerVarray vals, struct cm_account *a,
		     char **why_out)
{
	if (vals != NULL && vals[0].bv_val != NULL &&
	    (vals[1].bv_val != NULL ||
	     (a->sid = cm_sid_text((const unsigned char *)vals[0].bv_val, vals[0].bv_len)) == NULL)) {
		*why_out = cm_asprintf("entry %s has an unusable %s", a->dn, lc->attr_sid);
		return CERTMAP_ERR_NOT_FOUND;
	}
	return CERTMAP_OK;
}

/* The id of another RID in the domain of sid (ids = "sid"). */
static int sid_rid_to_id(const char *sid, unsigned int rid, unsigned int *id)
{
	char *other = cm_sid_with_rid(sid, rid);
	uint32_t v = 0;
	int rc = other != NULL ? cm_sid_to_id(other, &v) : -1;

	free(other);
	if (rc == 0) {
		*id = v;
	}
	return rc;
}

/* The attributes find_op asks for, in this order (user_attrs). */
enum { UA_NAME, UA_UID, UA_GID, UA_HOME, UA_SID, UA_PRIMARY, UA_MEMBER_OF, UA_N };

static void user_attrs(const struct cm_ldap_conf *lc, char *attrs[UA_N + 1])
{
	attrs[UA_NAME] = lc->attr_name;
	attrs[UA_UID] = lc->attr_uid;
	attrs[UA_GID] = lc->attr_gid;
	attrs[UA_HOME] = lc->attr_home;
	attrs[UA_SID] = lc->attr_sid;
	attrs[UA_PRIMARY] = lc->attr_primary_group;
	attrs[UA_MEMBER_OF] = lc->groups == CM_LDAP_GROUPS_MEMBEROF ? lc->attr_member_of : NULL;
	attrs[UA_N] = NULL;
}

/* uid and gid from the entry (ids = "posix" or "sid"): the attribute that
 * failed, with *why, or NULL. */
static const char *entry_ids(const struct cm_ldap_conf *lc, const struct entry *en,
			     struct cm_account *a, unsigned int *u, unsigned int *g,
			     const char **why)
{
	const struct berval *v;

	if (lc->ids == CM_LDAP_IDS_SID) {
		/* uid from objectSid, gid from the primary group's RID in the
		 * same domain, both as SSSD's ldap_id_mapping computes them. */
		v = single_bv(en->vals[UA_PRIMARY], why);
		if (a->sid == NULL || cm_sid_to_id(a->sid, u) != 0) {
			*why = a->sid == NULL ? "has no" : "has an unmappable";
			return lc->attr_sid;
		}
		if (v == NULL || !parse_id(v, g) || sid_rid_to_id(a->sid, *g, g) != 0) {
			return lc->attr_primary_group;
		}
		return NULL;
	}
	v = single_bv(en->vals[UA_UID], why);
	if (v == NULL || !parse_id(v, u)) {
		return lc->attr_uid;
	}
	v = single_bv(en->vals[UA_GID], why);
	return v == NULL || !parse_id(v, g) ? lc->attr_gid : NULL;
}

/*
 * Makes an account from an entry. Returns 0, CERTMAP_ERR_NOT_FOUND with a
 * sentence in *why_out (the entry is not usable), or CERTMAP_ERR_NOMEM.
 */
static int entry_account(const struct cm_ldap_conf *lc, LDAP *ld, LDAPMessage *e,
			 struct cm_account *a, char **why_out)
{
	char *attrs[UA_N + 1];
	const char *why = NULL, *bad;
	struct entry en;
	unsigned int u = 0, g = 0;
	int rc;

	user_attrs(lc, attrs);
	if ((rc = entry_read(ld, e, attrs, UA_N, &en)) != CERTMAP_OK) {
		if (rc == CERTMAP_ERR_NOT_FOUND) {
			*why_out = cm_asprintf("an entry has an unusable DN");
		}
		return rc;
	}
	rc = CERTMAP_ERR_NOT_FOUND;
	if ((a->dn = strndup(en.dn.bv_val, en.dn.bv_len)) == NULL) {
		rc = CERTMAP_ERR_NOMEM;
		goto out;
	}
	a->name = single_value(en.vals[UA_NAME], &why);
	if (a->name == NULL) {
		*why_out = cm_asprintf("entry %s %s %s", a->dn, why, lc->attr_name);
		goto out;
	}
	if (!cm_username_valid(a->name, strlen(a->name))) {
		*why_out = cm_asprintf("entry %s: %s is not a valid user name", a->dn, lc->attr_name);
		goto out;
	}
	if ((rc = entry_sid(lc, en.vals[UA_SID], a, why_out)) != CERTMAP_OK) {
		goto out;
	}
	if (lc->ids == CM_LDAP_IDS_NSS) {
		goto out;
	}
	if ((bad = entry_ids(lc, &en, a, &u, &g, &why)) != NULL) {
		*why_out = cm_asprintf("entry %s %s %s", a->dn, why != NULL ? why : "has a non-numeric",
				       bad);
		rc = CERTMAP_ERR_NOT_FOUND;
		goto out;
	}
	a->uid = (uid_t)u;
	a->gid = (gid_t)g;
	a->home = single_value(en.vals[UA_HOME], &why);
	if (a->home == NULL && (a->home = strdup("")) == NULL) {
		rc = CERTMAP_ERR_NOMEM;
		goto out;
	}
	if (lc->groups == CM_LDAP_GROUPS_MEMBEROF) {
		rc = add_values(en.vals[UA_MEMBER_OF], &a->member_of);
	}
out:
	entry_clear(&en);
	return rc;
}

/* ids = "nss": the directory named the account, NSS gives the rest. */
static int nss_account(struct cm_account *a, char **why_out, char **msg)
{
	struct cm_account n = { 0 };
	int rc = cm_local_lookup(a->name, &n, msg);

	if (rc == CERTMAP_ERR_NOT_FOUND) {
		*why_out = cm_asprintf("entry %s: NSS has no account %s (ids = \"nss\")", a->dn, a->name);
	} else if (rc == CERTMAP_OK) {
		a->uid = n.uid;
		a->gid = n.gid;
		free(a->home);
		a->home = n.home;
		n.home = NULL;
	}
	cm_account_clear(&n);
	return rc;
}

struct find_arg {
	const char *filter;
	struct cm_account_list *out;
};

static int find_op(const struct cm_ldap_conf *lc, LDAP *ld, void *argp, char **msg)
{
	struct find_arg *arg = argp;
	struct cm_account_list *out = arg->out;
	char *attrs[UA_N + 1];
	LDAPMessage *res = NULL;
	int rc, n;

	user_attrs(lc, attrs);
	rc = search(lc, ld, lc->base, lc->scope, arg->filter, attrs, (int)lc->size_limit,
		    &res, &out->truncated, msg);
	if (rc != CERTMAP_OK || res == NULL) {
		goto out;
	}
	n = ldap_count_entries(ld, res);
	out->v = calloc(n > 0 ? (size_t)n : 1, sizeof(*out->v));
	if (out->v == NULL) {
		rc = CERTMAP_ERR_NOMEM;
		goto out;
	}
	for (LDAPMessage *e = ldap_first_entry(ld, res); e != NULL && rc == CERTMAP_OK;
	     e = ldap_next_entry(ld, e)) {
		struct cm_account *a = &out->v[out->n];
		char *why = NULL;

		rc = entry_account(lc, ld, e, a, &why);
		if (rc == CERTMAP_OK && lc->ids == CM_LDAP_IDS_NSS) {
			rc = nss_account(a, &why, msg);
		}
		if (rc == CERTMAP_OK) {
			out->n++;
			continue;
		}
		cm_account_clear(a);
		if (rc == CERTMAP_ERR_NOT_FOUND) {
			rc = why == NULL || cm_strv_take(&out->skipped, why) != 0 ? CERTMAP_ERR_NOMEM
										   : CERTMAP_OK;
		} else {
			free(why);
		}
	}
out:
	ldap_msgfree(res);
	return rc;
}

/* "URI answered FILTER with N entries in T ms", the filter cut at
 * TRACE_FILTER_MAX; made for every search, so without printf. */
static char *search_trace(const char *uri, const char *filter, const struct cm_account_list *l,
			  long ms)
{
	size_t flen = strlen(filter), found = l->n + l->skipped.n;
	struct cm_buf b;

	cm_buf_init(&b, 4096 + strlen(uri));
	cm_buf_adds(&b, uri);
	cm_buf_adds(&b, " answered ");
	cm_buf_add(&b, filter, flen > TRACE_FILTER_MAX ? TRACE_FILTER_MAX : flen);
	cm_buf_adds(&b, flen > TRACE_FILTER_MAX ? "... with " : " with ");
	cm_buf_add_i64(&b, (int64_t)found);
	cm_buf_adds(&b, found == 1 ? " entry" : " entries");
	if (l->truncated) {
		cm_buf_adds(&b, " (more than size_limit)");
	}
	cm_buf_adds(&b, " in ");
	cm_buf_add_i64(&b, ms);
	cm_buf_adds(&b, " ms");
	return cm_buf_steal(&b, NULL);
}

/* The entries for a filter: from the cache, or from the directory (and
 * then kept: cache_ttl, or negative_cache_ttl when nothing was found). */
static int search_users(const struct cm_ldap_conf *lc, const char *filter,
			struct cm_account_list *out, char **msg)
{
	struct find_arg arg = { .filter = filter, .out = out };
	/* With both list TTLs 0 (the cache is there for primary groups) no
	 * list is ever kept: no lookup (a hash of the whole filter, a lock). */
	bool lists = lc->cache != NULL && (lc->cache_ttl > 0 || lc->negative_cache_ttl > 0);
	size_t used = 0;
	bool hit = false;
	long t0 = now_ms();
	char *t;
	int rc;

	if (lists && (rc = cm_ldap_cache_get_list(lc->cache, filter, out, &hit)) != CERTMAP_OK) {
		return rc;
	}
	if (hit) {
		t = cm_asprintf("cached: %s", out->trace != NULL ? out->trace : "");
		free(out->trace);
		out->trace = t;
		return t != NULL ? CERTMAP_OK : CERTMAP_ERR_NOMEM;
	}
	rc = with_conn(lc, find_op, &arg, &used, msg);
	if (rc != CERTMAP_OK) {
		return rc;
	}
	out->trace = search_trace(lc->uri[used], filter, out, now_ms() - t0);
	if (out->trace == NULL) {
		return CERTMAP_ERR_NOMEM;
	}
	if (lists) {
		rc = cm_ldap_cache_put_list(lc->cache, filter, out,
					    out->n + out->skipped.n > 0 ? lc->cache_ttl
									: lc->negative_cache_ttl);
	}
	return rc;
}

int cm_ldap_find(const struct cm_domain *d, const char *key, bool is_filter,
		 struct cm_account_list *out, char **msg)
{
	const struct cm_ldap_conf *lc = d->ldap;
	struct cm_buf f;
	char *filter = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	/* {cert!bin} of a 64 KiB certificate is three times that. */
	cm_buf_init(&f, CM_BUF_DEFAULT_CAP);
	cm_buf_adds(&f, "(&");
	cm_buf_adds(&f, lc->user_filter);
	if (is_filter) {
		cm_buf_adds(&f, key);
	} else {
		cm_buf_addc(&f, '(');
		cm_buf_adds(&f, lc->attr_name);
		cm_buf_addc(&f, '=');
		cm_ldap_escape(&f, (const unsigned char *)key, strlen(key));
		cm_buf_adds(&f, ")");
	}
	cm_buf_adds(&f, ")");
	if ((filter = cm_buf_steal(&f, NULL)) == NULL) {
		rc = CERTMAP_ERR_NOMEM;
		goto out;
	}
	rc = search_users(lc, filter, out, msg);
	if (rc == CERTMAP_OK && !is_filter && out->n + out->skipped.n > 1) {
		/* A user name must name one entry; which one would be a guess. */
		size_t n = out->n + out->skipped.n;

		cm_account_list_clear(out);
		if (cm_strv_take(&out->skipped, cm_asprintf("%zu entries in domain %s have %s=%s",
							     n, d->name, lc->attr_name, key)) != 0) {
			rc = CERTMAP_ERR_NOMEM;
		}
	}
	if (rc == CERTMAP_ERR_BACKEND && msg != NULL && *msg != NULL) {
		char *m = cm_asprintf("domain %s: %s", d->name, *msg);

		free(*msg);
		*msg = m;
	}
	if (rc != CERTMAP_OK) {
		cm_account_list_clear(out);
	}
out:
	cm_buf_free(&f);
	free(filter);
	return rc;
}

/* ------------------------------------------------------------ groups */

struct group_ctx {
	struct cm_account *acct;
	struct cm_strv seen;   /* group DNs already visited (cycles) */
	struct cm_strv next;   /* DNs whose parents are searched next (rfc2307bis) */
	size_t entries;
	char *primary;         /* the primary group's name, when found */
};

/* Adds a group entry's name when it is a POSIX group (has a gid), as id(1)
 * lists only those; remembers its DN for nesting. */
static int take_group(const struct cm_ldap_conf *lc, LDAP *ld, LDAPMessage *e,
		      struct group_ctx *g)
{
	enum { GA_NAME, GA_GID, GA_SID, GA_N };
	char *attrs[GA_N] = { lc->attr_group_name, lc->attr_gid, lc->attr_sid };
	const struct berval *v;
	const char *why = NULL;
	char *dn = NULL, *name = NULL, *gid = NULL;
	struct entry en;
	unsigned int id;
	int rc;

	if ((rc = entry_read(ld, e, attrs, GA_N, &en)) != CERTMAP_OK) {
		/* A group whose DN cannot be read is not one of its groups. */
		return rc == CERTMAP_ERR_NOT_FOUND ? CERTMAP_OK : rc;
	}
	if ((dn = strndup(en.dn.bv_val, en.dn.bv_len)) == NULL) {
		rc = CERTMAP_ERR_NOMEM;
		goto out;
	}
	if (cm_strv_contains(&g->seen, dn) || ++g->entries > LDAP_MAX_GROUP_ENTRIES) {
		goto out;
	}
	if (cm_strv_add(&g->seen, dn) != 0 || cm_strv_add(&g->next, dn) != 0) {
		rc = CERTMAP_ERR_NOMEM;
		goto out;
	}
	name = single_value(en.vals[GA_NAME], &why);
	if (lc->ids == CM_LDAP_IDS_SID) {
		/* With ids from SIDs, a group with a mappable objectSid is POSIX. */
		BerVarray sv = en.vals[GA_SID];

		gid = sv != NULL && sv[0].bv_val != NULL && sv[1].bv_val == NULL
			      ? cm_sid_text((const unsigned char *)sv[0].bv_val, sv[0].bv_len)
			      : NULL;
		if (gid == NULL || cm_sid_to_id(gid, &id) != 0) {
			goto out;
		}
	} else if ((v = single_bv(en.vals[GA_GID], &why)) == NULL || !parse_id(v, &id)) {
		goto out;
	}
	if (name == NULL || cm_strv_contains(&g->acct->groups, name)) {
		goto out;
	}
	if (g->acct->groups.n >= CM_MAX_GROUPS || cm_strv_add(&g->acct->groups, name) != 0) {
		rc = g->acct->groups.n >= CM_MAX_GROUPS ? CERTMAP_OK : CERTMAP_ERR_NOMEM;
	}
out:
	entry_clear(&en);
	free(dn);
	free(name);
	free(gid);
	return rc;
}

static int group_search(const struct cm_ldap_conf *lc, LDAP *ld, const char *base, int scope,
			const char *filter, struct group_ctx *g, char **msg)
{
	char *attrs[] = { lc->attr_group_name, lc->attr_gid, lc->attr_sid, NULL };
	LDAPMessage *res = NULL;
	int rc;

	rc = search(lc, ld, base, scope, filter, attrs, LDAP_MAX_GROUP_ENTRIES, &res, NULL, msg);
	for (LDAPMessage *e = res != NULL ? ldap_first_entry(ld, res) : NULL;
	     e != NULL && rc == CERTMAP_OK; e = ldap_next_entry(ld, e)) {
		rc = take_group(lc, ld, e, g);
	}
	ldap_msgfree(res);
	return rc;
}

/* (&<group_filter>(attr=value)) with value escaped. */
static char *group_filter(const struct cm_ldap_conf *lc, const char *attr, const char *value)
{
	struct cm_buf f;

	cm_buf_init(&f, 65536);
	cm_buf_printf(&f, "(&%s(%s=", lc->group_filter, attr);
	cm_ldap_escape(&f, (const unsigned char *)value, strlen(value));
	cm_buf_adds(&f, "))");
	return cm_buf_steal(&f, NULL);
}

static int search_by(const struct cm_ldap_conf *lc, LDAP *ld, const char *attr,
		     const char *value, struct group_ctx *g, char **msg)
{
	char *filter = group_filter(lc, attr, value);
	int rc;

	if (filter == NULL) {
		return CERTMAP_ERR_NOMEM;
	}
	rc = group_search(lc, ld, lc->group_base, LDAP_SCOPE_SUBTREE, filter, g, msg);
	free(filter);
	return rc;
}

/* ids = "sid": the primary group is the group whose objectSid has the
 * RID the account's gid stands for (its slice is the account's). */
static int search_primary_sid(const struct cm_ldap_conf *lc, LDAP *ld, const struct cm_account *a,
			      struct group_ctx *g, char **msg)
{
	unsigned char bin[32];
	uint32_t urid = 0;
	char *gsid = NULL;
	struct cm_buf f;
	size_t len;
	char *filter = NULL;
	int rc = CERTMAP_OK;

	if (a->sid == NULL || cm_sid_rid(a->sid, &urid) != 0 || a->gid < a->uid - urid ||
	    (gsid = cm_sid_with_rid(a->sid, (uint32_t)(a->gid - (a->uid - urid)))) == NULL ||
	    (len = cm_sid_binary(gsid, bin)) == 0) {
		free(gsid);
		return CERTMAP_OK;
	}
	cm_buf_init(&f, 4096);
	cm_buf_printf(&f, "(&%s(%s=", lc->group_filter, lc->attr_sid);
	for (size_t i = 0; i < len; i++) {
		cm_buf_printf(&f, "\\%02x", bin[i]);
	}
	cm_buf_adds(&f, "))");
	if ((filter = cm_buf_steal(&f, NULL)) == NULL) {
		rc = CERTMAP_ERR_NOMEM;
	} else {
		rc = group_search(lc, ld, lc->group_base, LDAP_SCOPE_SUBTREE, filter, g, msg);
	}
	cm_buf_free(&f);
	free(filter);
	free(gsid);
	return rc;
}

/* rfc2307bis: groups whose member holds the user's DN, then the groups
 * holding those, group_depth levels deep; a DN seen before is not
 * searched again, so a cycle ends. */
static int nested_groups(const struct cm_ldap_conf *lc, LDAP *ld, struct group_ctx *g, char **msg)
{
	struct cm_strv level = { 0 };
	int rc = CERTMAP_OK;

	if (cm_strv_add(&level, g->acct->dn) != 0) {
		return CERTMAP_ERR_NOMEM;
	}
	for (unsigned int depth = 0; depth <= lc->group_depth && level.n > 0 && rc == CERTMAP_OK;
	     depth++) {
		for (size_t i = 0; i < level.n && rc == CERTMAP_OK; i++) {
			rc = search_by(lc, ld, lc->attr_member, level.v[i], g, msg);
		}
		cm_strv_clear(&level);
		level = g->next;
		memset(&g->next, 0, sizeof(g->next));
	}
	cm_strv_clear(&level);
	return rc;
}

static void primary_key(const struct cm_account *a, char *key, size_t size)
{
	/* \001 starts no DN, so no account's groups key is the same. */
	snprintf(key, size, "\001primary\n%u", (unsigned)a->gid);
}

/* The primary group's name (into a->groups) from the per-gid cache. */
static int primary_cached(const struct cm_ldap_conf *lc, struct cm_account *a, bool *hit)
{
	char key[32];

	*hit = false;
	if (lc->cache == NULL || lc->primary_group_ttl == 0) {
		return CERTMAP_OK;
	}
	primary_key(a, key, sizeof(key));
	return cm_ldap_cache_get_groups(lc->cache, key, &a->groups, hit);
}

/*
 * Names the primary group into g->acct->groups (nothing when no group has
 * the gid). Many accounts share few primary groups, and a gid names the
 * same group for every account of the domain, so the name is kept per gid
 * for primary_group_ttl seconds (negative_cache_ttl when no group has it):
 * an uncached mapping then costs one search, not two.
 */
static int primary_group(const struct cm_ldap_conf *lc, LDAP *ld, struct group_ctx *g,
			 char **msg)
{
	struct cm_account *a = g->acct;
	char gid[16], key[32];
	bool hit = false;
	unsigned int ttl;
	int rc;

	snprintf(gid, sizeof(gid), "%u", (unsigned)a->gid);
	primary_key(a, key, sizeof(key));
	if ((rc = primary_cached(lc, a, &hit)) != CERTMAP_OK || hit) {
		return rc;
	}
	rc = lc->ids == CM_LDAP_IDS_SID ? search_primary_sid(lc, ld, a, g, msg)
					: search_by(lc, ld, lc->attr_gid, gid, g, msg);
	if (rc != CERTMAP_OK || lc->cache == NULL || lc->primary_group_ttl == 0) {
		return rc;
	}
	ttl = lc->primary_group_ttl;
	if (a->groups.n == 0 && lc->negative_cache_ttl < ttl) {
		ttl = lc->negative_cache_ttl;
	}
	return cm_ldap_cache_put_groups(lc->cache, key, &a->groups, ttl);
}

static int groups_op(const struct cm_ldap_conf *lc, LDAP *ld, void *argp, char **msg)
{
	struct group_ctx *g = argp;
	struct cm_account *a = g->acct;
	int rc;

	/* Start again on a retry with another connection. */
	cm_strv_clear(&a->groups);
	cm_strv_clear(&g->seen);
	cm_strv_clear(&g->next);
	g->entries = 0;
	/* The primary group first, as id(1) prints it. */
	if ((rc = primary_group(lc, ld, g, msg)) != CERTMAP_OK) {
		return rc;
	}
	free(g->primary);
	g->primary = NULL;
	if (a->groups.n > 0 && (g->primary = strdup(a->groups.v[0])) == NULL) {
		return CERTMAP_ERR_NOMEM;
	}
	/* Nesting starts from the user, not from the primary group. */
	cm_strv_clear(&g->seen);
	cm_strv_clear(&g->next);
	switch (lc->groups) {
	case CM_LDAP_GROUPS_RFC2307:
		rc = search_by(lc, ld, lc->attr_member_uid, a->name, g, msg);
		break;
	case CM_LDAP_GROUPS_RFC2307BIS:
		rc = nested_groups(lc, ld, g, msg);
		break;
	case CM_LDAP_GROUPS_MEMBEROF:
		for (size_t i = 0; i < a->member_of.n && rc == CERTMAP_OK; i++) {
			rc = group_search(lc, ld, a->member_of.v[i], LDAP_SCOPE_BASE,
					  lc->group_filter, g, msg);
		}
		break;
	case CM_LDAP_GROUPS_NONE:
	default:
		break;
	}
	return rc;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int cm_ldap_groups(const struct cm_domain *d, struct cm_account *acct, char **msg)
{
	const struct cm_ldap_conf *lc = d->ldap;
	struct group_ctx g = { .acct = acct };
	size_t used = 0;
	char *key = NULL;
	bool hit = false;
	int rc;

	if (lc->ids == CM_LDAP_IDS_NSS) {
		return cm_local_groups(acct, msg);
	}
	/* An account's groups are kept for cache_ttl: with 0 never, so no key
	 * and no lookup. */
	if (lc->cache != NULL && lc->cache_ttl > 0) {
		key = cm_asprintf("%s\n%u", acct->dn != NULL ? acct->dn : "", (unsigned)acct->gid);
		if (key == NULL) {
			return CERTMAP_ERR_NOMEM;
		}
		if ((rc = cm_ldap_cache_get_groups(lc->cache, key, &acct->groups, &hit)) != CERTMAP_OK ||
		    hit) {
			goto out;
		}
	}
	/* groups = "none" with the primary group's name kept: no connection. */
	if (lc->groups == CM_LDAP_GROUPS_NONE &&
	    ((rc = primary_cached(lc, acct, &hit)) != CERTMAP_OK || hit)) {
		/* Ordered as below: the first group found, then by name. */
		if (acct->groups.n > 2) {
			qsort(acct->groups.v + 1, acct->groups.n - 1, sizeof(char *), name_cmp);
		}
		goto out;
	}
	rc = with_conn(lc, groups_op, &g, &used, msg);
	/* The directory returns groups in no particular order: the primary
	 * group first (when the directory names it), then by name, so that
	 * one account always gets the same answer. */
	if (rc == CERTMAP_OK && acct->groups.n > 1) {
		size_t first = 0;

		for (size_t i = 0; i < acct->groups.n; i++) {
			if (strcmp(acct->groups.v[i], g.primary != NULL ? g.primary : "") == 0) {
				char *t = acct->groups.v[0];

				acct->groups.v[0] = acct->groups.v[i];
				acct->groups.v[i] = t;
				first = 1;
				break;
			}
		}
		qsort(acct->groups.v + first, acct->groups.n - first, sizeof(char *), name_cmp);
	}
	if (rc == CERTMAP_ERR_BACKEND && msg != NULL && *msg != NULL) {
		char *m = cm_asprintf("domain %s: groups of %s: %s", d->name, acct->name, *msg);

		free(*msg);
		*msg = m;
	}
	if (rc == CERTMAP_OK && key != NULL) {
		rc = cm_ldap_cache_put_groups(lc->cache, key, &acct->groups, lc->cache_ttl);
	}
out:
	cm_strv_clear(&g.seen);
	cm_strv_clear(&g.next);
	free(g.primary);
	free(key);
	return rc;
}

/* ------------------------------------------------------------ checking */

/* Reads entry dn (base scope): 0, or the stage and message of the failure. */
static int check_entry(const struct cm_ldap_conf *lc, LDAP *ld, const char *dn,
		       const char **stage, char **msg)
{
	struct timeval tv = { .tv_sec = (time_t)lc->timeout };
	char *attrs[] = { (char *)LDAP_NO_ATTRS, NULL };
	LDAPMessage *res = NULL;
	int lrc, rc = CERTMAP_OK;

	lrc = ldap_search_ext_s(ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL, NULL,
				&tv, 1, &res);
	if (lrc == LDAP_SUCCESS && ldap_count_entries(ld, res) == 1) {
		goto out;
	}
	rc = CERTMAP_ERR_BACKEND;
	*stage = "base";
	if (lrc == LDAP_SUCCESS || lrc == LDAP_NO_SUCH_OBJECT) {
		*msg = cm_asprintf("%s not found (or not readable with this bind)", dn);
	} else {
		char *m = ld_error(ld, "search", lrc);

		*msg = cm_asprintf("%s: %s", dn, m != NULL ? m : "");
		free(m);
	}
out:
	ldap_msgfree(res);
	return rc;
}

int cm_ldap_check(const struct cm_domain *d, struct cm_ldap_check_result *out, size_t max,
		  size_t *n)
{
	const struct cm_ldap_conf *lc = d->ldap;
	int rc = CERTMAP_OK;

	/* A server that drops the connection does not end the caller either:
	 * every write goes through tio_write. */
	*n = 0;
	for (size_t i = 0; lc != NULL && i < lc->n_uri && i < max; i++) {
		struct cm_ldap_check_result *r = &out[(*n)++];
		LDAP *ld = NULL;
		long t0 = now_ms();

		memset(r, 0, sizeof(*r));
		r->uri = lc->uri[i];
		if (open_uri_staged(lc, i, &ld, &r->msg, &r->stage) != CERTMAP_OK ||
		    check_entry(lc, ld, lc->base, &r->stage, &r->msg) != CERTMAP_OK ||
		    (lc->group_base != NULL && strcmp(lc->group_base, lc->base) != 0 &&
		     check_entry(lc, ld, lc->group_base, &r->stage, &r->msg) != CERTMAP_OK)) {
			rc = CERTMAP_ERR_BACKEND;
			if (r->msg == NULL) {
				r->msg = cm_asprintf("failed");
			}
		} else {
			r->stage = NULL;
		}
		r->ms = now_ms() - t0;
		if (ld != NULL) {
			ldap_unbind_ext(ld, NULL, NULL);
		}
	}
	return rc;
}

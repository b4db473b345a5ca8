/*
 * certmapd's event loop: one thread, epoll, non-blocking sockets. It
 * accepts, checks peer credentials and limits, splits the byte stream into
 * NUL-terminated frames, answers cheap methods and cache hits itself and
 * hands cache misses to the workers. Each connection serves one request at
 * a time (varlink replies come in order); it is dropped when a request is
 * not complete, or a reply not taken, within service.timeout.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cache.h"
#include "daemon.h"

#define READ_CHUNK 65536

struct conn {
	int fd;
	struct cmd_peer peer;
	char *in;
	size_t in_len, in_alloc;
	struct cm_buf out;
	size_t out_off;
	uint64_t deadline_ms;
	struct conn *prev, *next;   /* the deadline list, oldest first */
	uint32_t events;            /* what epoll watches now */
	bool busy;                  /* a Map is out with a worker */
	bool eof;                   /* the peer will send no more */
	bool close_after_write;
	bool dead;                  /* closed while a job was out: free on its return */
};

/* Connections per uid; there are few distinct peers, so a list will do. */
struct uid_count {
	uid_t uid;
	unsigned int n;
};
static struct uid_count *uid_counts;
static size_t n_uid_counts;

static struct conn *deadline_head, *deadline_tail;
/* Closed connections, freed after the current batch of epoll events, which
 * may still name them. */
static struct conn *graveyard;

static unsigned int *uid_slot(uid_t uid, bool create)
{
	struct uid_count *u;

	for (size_t i = 0; i < n_uid_counts; i++) {
		if (uid_counts[i].uid == uid) {
			return &uid_counts[i].n;
		}
	}
	if (!create) {
		return NULL;
	}
	u = realloc(uid_counts, (n_uid_counts + 1) * sizeof(*u));
	if (u == NULL) {
		return NULL;
	}
	uid_counts = u;
	uid_counts[n_uid_counts] = (struct uid_count){ uid, 0 };
	return &uid_counts[n_uid_counts++].n;
}

static void deadline_unlink(struct conn *c)
{
	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else if (deadline_head == c) {
		deadline_head = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	} else if (deadline_tail == c) {
		deadline_tail = c->prev;
	}
	c->prev = c->next = NULL;
}

/* Every connection gets the same timeout, so appending keeps the list sorted. */
static void deadline_reset(struct cmd_state *st, struct conn *c)
{
	deadline_unlink(c);
	c->deadline_ms = cmd_now_ms() + (uint64_t)st->gen->cfg->service.timeout * 1000u;
	c->prev = deadline_tail;
	if (deadline_tail != NULL) {
		deadline_tail->next = c;
	} else {
		deadline_head = c;
	}
	deadline_tail = c;
}

static void conn_free(struct conn *c)
{
	c->next = graveyard;
	graveyard = c;
}

static void graveyard_empty(void)
{
	while (graveyard != NULL) {
		struct conn *c = graveyard;

		graveyard = c->next;
		free(c->in);
		cm_buf_free(&c->out);
		free(c);
	}
}

static void conn_close(struct cmd_state *st, struct conn *c)
{
	unsigned int *n = uid_slot(c->peer.uid, false);

	if (c->fd < 0) {
		return;
	}
	deadline_unlink(c);
	epoll_ctl(st->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	st->n_conns--;
	if (n != NULL && *n > 0) {
		(*n)--;
	}
	if (c->busy) {
		c->dead = true;   /* the worker still points at it */
		return;
	}
	conn_free(c);
}

static int conn_watch(struct cmd_state *st, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (events == c->events) {
		return 0;
	}
	if (epoll_ctl(st->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
		cmd_log(LOG_ERR, "epoll_ctl: %m");
		return -1;
	}
	c->events = events;
	return 0;
}

/* Writes what it can; 0 when all is out, 1 when the socket is full, -1 to close. */
static int conn_flush(struct conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 1;
		}
		if (n <= 0) {
			return -1;
		}
		c->out_off += (size_t)n;
	}
	c->out.len = 0;
	c->out_off = 0;
	return 0;
}

static void conn_process(struct cmd_state *st, struct conn *c);

/* Sends what is queued, then goes on with buffered requests. */
static void conn_resume(struct cmd_state *st, struct conn *c)
{
	int r;

	if (c->out.failed) {
		cmd_log(LOG_ERR, "reply to uid %u over the size limit or out of memory",
			(unsigned)c->peer.uid);
		conn_close(st, c);
		return;
	}
	r = conn_flush(c);
	if (r < 0 || (r == 0 && c->close_after_write)) {
		conn_close(st, c);
		return;
	}
	if (r == 1) {
		conn_watch(st, c, EPOLLOUT);
		return;
	}
	deadline_reset(st, c);
	conn_process(st, c);
}

static void queue_error(struct cmd_state *st, struct conn *c, const char *error,
			const char *parameter, const char *message)
{
	struct cmp_fail f = { error, parameter, message };

	st->stats.errors++;
	cmp_reply_error(&c->out, &f);
	/* After a malformed frame the stream cannot be trusted: say why, then close. */
	c->close_after_write = true;
}

static bool peer_allowed(const struct cm_service_conf *sc, const struct cmd_peer *p);

/* Decodes and answers one frame; false when the connection waits (job, close). */
static bool conn_frame(struct cmd_state *st, struct conn *c, size_t len)
{
	struct cmp_call call;
	struct cmp_fail fail;
	uint64_t start = cmd_now_us();
	int r = cmp_call_decode(c->in, len, &call, &fail);

	/* The call owns copies of its strings: the frame can go now. */
	c->in_len -= len + 1;
	memmove(c->in, c->in + len + 1, c->in_len);
	if (r != 0) {
		st->stats.requests++;
		queue_error(st, c, fail.error, fail.parameter, fail.message);
		return true;
	}
	/* A reload may have taken this peer off the allowed lists. */
	if (!peer_allowed(&st->gen->cfg->service, &c->peer)) {
		st->stats.requests++;
		queue_error(st, c, CMP_E_PERMISSION_DENIED, NULL,
			    "this peer is no longer allowed by service.allowed_uids/allowed_gids");
		cmp_call_clear(&call);
		return true;
	}
	r = cmd_dispatch(st, c, &c->peer, &call, &c->out);
	if (r == 1) {
		c->busy = true;
		conn_watch(st, c, 0);
		return false;
	}
	if (c->out.len >= 9 && memcmp(c->out.data, "{\"error\":", 9) == 0) {
		st->stats.errors++;
	}
	if (call.oneway) {
		c->out.len = 0;
	}
	cmp_call_clear(&call);
	cmd_stats_latency(&st->stats, cmd_now_us() - start);
	return true;
}

static void conn_process(struct cmd_state *st, struct conn *c)
{
	while (c->fd >= 0 && !c->busy) {
		char *nul = c->in_len > 0 ? memchr(c->in, '\0', c->in_len) : NULL;

		if (nul != NULL) {
			if (!conn_frame(st, c, (size_t)(nul - c->in))) {
				return;
			}
			conn_resume(st, c);
			return;
		}
		if (c->in_len >= CMP_MAX_REQUEST) {
			queue_error(st, c, CMP_E_TOO_LARGE, NULL, "the request is over the size limit");
		} else if (c->eof && c->in_len > 0) {
			queue_error(st, c, CMP_E_INVALID_PARAMETER, NULL, "the request is truncated");
		} else if (c->eof) {
			conn_close(st, c);
			return;
		} else {
			conn_watch(st, c, EPOLLIN);
			return;
		}
		conn_resume(st, c);
		return;
	}
}

static void conn_read(struct cmd_state *st, struct conn *c)
{
	ssize_t n;

	if (c->in_alloc - c->in_len < 4096 && c->in_alloc < CMP_MAX_REQUEST) {
		size_t na = c->in_alloc * 2 < CMP_MAX_REQUEST ? c->in_alloc * 2 : CMP_MAX_REQUEST;
		char *p = realloc(c->in, na);

		if (p == NULL) {
			conn_close(st, c);
			return;
		}
		c->in = p;
		c->in_alloc = na;
	}
	n = recv(c->fd, c->in + c->in_len, c->in_alloc - c->in_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return;
	}
	if (n < 0) {
		conn_close(st, c);
		return;
	}
	if (n == 0) {
		c->eof = true;
	}
	c->in_len += (size_t)n;
	conn_process(st, c);
}

static void conn_event(struct cmd_state *st, struct conn *c, uint32_t events)
{
	if (c->fd < 0) {
		return;
	}
	if ((events & (EPOLLERR | EPOLLHUP)) && c->busy) {
		conn_close(st, c);
		return;
	}
	if (events & EPOLLOUT) {
		conn_resume(st, c);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		conn_read(st, c);
	}
}

void cmd_conn_job_done(struct cmd_state *st, struct cmd_job *job)
{
	struct conn *c = job->conn;

	switch (job->verdict) {
	case CERTMAP_VERDICT_MAPPED: st->stats.mapped++; break;
	case CERTMAP_VERDICT_REFUSED: st->stats.refused++; break;
	case CERTMAP_VERDICT_AMBIGUOUS: st->stats.ambiguous++; break;
	case CERTMAP_VERDICT_ERROR: st->stats.failed++; break;
	default: st->stats.errors++; break;
	}
	cmd_stats_latency(&st->stats, cmd_now_us() - job->start_us);
	if (job->cacheable && job->gen == st->gen && !job->reply.failed) {
		cm_cache_put(st->cache, job->map.key, job->reply.data, job->reply.len, cmd_now_ms());
	}
	c->busy = false;
	if (c->dead) {
		conn_free(c);
		return;
	}
	if (!job->oneway) {
		cm_buf_add(&c->out, job->reply.data, job->reply.len);
	}
	conn_resume(st, c);
}

/* ---------------------------------------------------------------- accept */

static bool peer_allowed(const struct cm_service_conf *sc, const struct cmd_peer *p)
{
	for (size_t i = 0; i < sc->n_allowed_uids; i++) {
		if (sc->allowed_uids[i] == p->uid) {
			return true;
		}
	}
	for (size_t i = 0; i < sc->n_allowed_gids; i++) {
		if (sc->allowed_gids[i] == p->gid) {
			return true;
		}
	}
	return false;
}

/* Says why in one frame, best effort, and closes. */
static void refuse(struct cmd_state *st, int fd, const char *error, const char *message)
{
	struct cmp_fail f = { error, NULL, message };
	struct cm_buf b;

	st->stats.rejected_peers++;
	cm_buf_init(&b, 4096);
	cmp_reply_error(&b, &f);
	if (!b.failed && send(fd, b.data, b.len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		cmd_log(LOG_DEBUG, "cannot tell a refused peer why: %m");
	}
	cm_buf_free(&b);
	close(fd);
}

static int read_peer(int fd, struct cmd_peer *p)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0 || len != sizeof(uc)) {
		return -1;
	}
	p->uid = uc.uid;
	p->gid = uc.gid;
	p->pid = uc.pid;
	p->admin = uc.uid == 0 || uc.uid == geteuid();
	return 0;
}

static void conn_add(struct cmd_state *st, int fd, const struct cmd_peer *peer, unsigned int *slot)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct epoll_event ev = { .events = EPOLLIN };

	if (c == NULL || (c->in = malloc(4096)) == NULL) {
		free(c);
		close(fd);
		return;
	}
	c->in_alloc = 4096;
	c->fd = fd;
	c->peer = *peer;
	c->events = EPOLLIN;
	cm_buf_init(&c->out, CMP_MAX_REPLY);
	ev.data.ptr = c;
	if (epoll_ctl(st->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		cmd_log(LOG_ERR, "epoll_ctl: %m");
		close(fd);
		free(c->in);
		cm_buf_free(&c->out);
		free(c);
		return;
	}
	st->n_conns++;
	(*slot)++;
	deadline_reset(st, c);
}

static void accept_one(struct cmd_state *st, int fd)
{
	const struct cm_service_conf *sc = &st->gen->cfg->service;
	struct cmd_peer peer;
	unsigned int *slot;

	/* Credentials first: nothing is read from a peer that is not allowed. */
	if (read_peer(fd, &peer) != 0) {
		cmd_log(LOG_WARNING, "cannot read peer credentials: %m");
		close(fd);
		return;
	}
	if (!peer_allowed(sc, &peer)) {
		cmd_log(LOG_WARNING, "peer uid %u gid %u pid %d is not allowed",
			(unsigned)peer.uid, (unsigned)peer.gid, (int)peer.pid);
		refuse(st, fd, CMP_E_PERMISSION_DENIED, "this uid may not use certmapd");
		return;
	}
	slot = uid_slot(peer.uid, true);
	if (slot == NULL || st->n_conns >= sc->max_connections ||
	    *slot >= sc->max_connections_per_uid) {
		cmd_log(LOG_WARNING, "connection limit reached, refusing uid %u", (unsigned)peer.uid);
		refuse(st, fd, CMP_E_TOO_MANY_CONNECTIONS, "too many connections");
		return;
	}
	conn_add(st, fd, &peer, slot);
}

static void accept_all(struct cmd_state *st)
{
	for (int i = 0; i < 64; i++) {
		int fd = accept4(st->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			accept_one(st, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED) {
			continue;
		}
		if ((errno == EMFILE || errno == ENFILE) && st->spare_fd >= 0) {
			/* Out of descriptors: use the spare to take the peer off the
			 * backlog and close it, rather than spin on a full queue. */
			close(st->spare_fd);
			fd = accept4(st->listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0) {
				refuse(st, fd, CMP_E_TOO_MANY_CONNECTIONS, "out of file descriptors");
			}
			st->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			cmd_log(LOG_ERR, "out of file descriptors");
		} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
			cmd_log(LOG_ERR, "accept: %m");
		}
		return;
	}
}

/* ---------------------------------------------------------------- loop */

static void expire(struct cmd_state *st)
{
	uint64_t now = cmd_now_ms();

	while (deadline_head != NULL && deadline_head->deadline_ms <= now) {
		struct conn *c = deadline_head;

		st->stats.timeouts++;
		cmd_log(LOG_INFO, "dropping a connection of uid %u after the timeout",
			(unsigned)c->peer.uid);
		conn_close(st, c);
	}
}

static int next_timeout(void)
{
	uint64_t now = cmd_now_ms();

	if (deadline_head == NULL) {
		return -1;
	}
	if (deadline_head->deadline_ms <= now) {
		return 0;
	}
	return (int)(deadline_head->deadline_ms - now) + 1;
}

static void on_signal(struct cmd_state *st)
{
	struct signalfd_siginfo si;
	char *err = NULL;

	while (read(st->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			cmd_notify("RELOADING=1");
			if (cmd_reload(st, &err) != 0) {
				free(err);
				err = NULL;
			}
			cmd_notify("READY=1");
			break;
		case SIGTERM:
		case SIGINT:
			cmd_log(LOG_NOTICE, "stopping on signal %u", si.ssi_signo);
			st->stopping = true;
			break;
		default:
			break;
		}
	}
}

static void on_jobs_done(struct cmd_state *st)
{
	struct cmd_job *job = cmd_workers_take_done(st->workers);

	while (job != NULL) {
		struct cmd_job *next = job->next;

		cmd_conn_job_done(st, job);
		cmd_job_free(job);
		job = next;
	}
}

static int watch_fd(struct cmd_state *st, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(st->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* Tags for the loop's own descriptors; connections use their struct conn. */
static char tag_listen, tag_signal, tag_done;

int cmd_loop_run(struct cmd_state *st)
{
	struct epoll_event evs[64];

	st->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (st->epfd < 0 || watch_fd(st, st->listen_fd, &tag_listen) != 0 ||
	    watch_fd(st, st->signal_fd, &tag_signal) != 0 ||
	    watch_fd(st, st->done_fd, &tag_done) != 0) {
		cmd_log(LOG_ERR, "epoll: %m");
		return -1;
	}
	while (!st->stopping) {
		int n = epoll_wait(st->epfd, evs, CM_ARRAY_SIZE(evs), next_timeout());

		if (n < 0 && errno != EINTR) {
			cmd_log(LOG_ERR, "epoll_wait: %m");
			return -1;
		}
		for (int i = 0; i < n; i++) {
			void *tag = evs[i].data.ptr;

			if (tag == &tag_listen) {
				accept_all(st);
			} else if (tag == &tag_signal) {
				on_signal(st);
			} else if (tag == &tag_done) {
				on_jobs_done(st);
			} else {
				conn_event(st, tag, evs[i].events);
			}
		}
		expire(st);
		graveyard_empty();
	}
	return 0;
}

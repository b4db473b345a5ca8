/*
 * One certmapd event loop: a thread with its own epoll set and its own
 * connections, on non-blocking sockets (loops.c runs several). It accepts,
 * checks peer credentials and limits, splits the byte stream into
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
#include <stdatomic.h>
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
	struct conn *prev, *next;   /* the loop's deadline list, oldest first */
	uint32_t events;            /* what epoll watches now */
	bool busy;                  /* a Map is out with a worker */
	bool eof;                   /* the peer will send no more */
	bool close_after_write;
	bool dead;                  /* closed while a job was out: free on its return */
};

static void deadline_unlink(struct cmd_loop *lp, struct conn *c)
{
	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else if (lp->deadline_head == c) {
		lp->deadline_head = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	} else if (lp->deadline_tail == c) {
		lp->deadline_tail = c->prev;
	}
	c->prev = c->next = NULL;
}

/* Every connection gets the same timeout, so appending keeps the list sorted. */
static void deadline_reset(struct cmd_loop *lp, struct conn *c)
{
	deadline_unlink(lp, c);
	c->deadline_ms = cmd_now_ms() + (uint64_t)lp->gen->cfg->service.timeout * 1000u;
	c->prev = lp->deadline_tail;
	if (lp->deadline_tail != NULL) {
		lp->deadline_tail->next = c;
	} else {
		lp->deadline_head = c;
	}
	lp->deadline_tail = c;
}

static void conn_free(struct cmd_loop *lp, struct conn *c)
{
	c->next = lp->graveyard;
	lp->graveyard = c;
}

void cmd_loop_bury(struct cmd_loop *lp)
{
	while (lp->graveyard != NULL) {
		struct conn *c = lp->graveyard;

		lp->graveyard = c->next;
		free(c->in);
		cm_buf_free(&c->out);
		free(c);
	}
}

static void conn_close(struct cmd_loop *lp, struct conn *c)
{
	if (c->fd < 0) {
		return;
	}
	deadline_unlink(lp, c);
	epoll_ctl(lp->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	atomic_fetch_sub(&lp->n_conns, 1);
	cmd_limits_release(c->peer.uid);
	if (c->busy) {
		c->dead = true;   /* the worker still points at it */
		return;
	}
	conn_free(lp, c);
}

void cmd_loop_close_all(struct cmd_loop *lp)
{
	while (lp->deadline_head != NULL) {
		conn_close(lp, lp->deadline_head);
	}
}

static int conn_watch(struct cmd_loop *lp, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (events == c->events) {
		return 0;
	}
	if (epoll_ctl(lp->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
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

static void conn_process(struct cmd_loop *lp, struct conn *c);

/* Sends what is queued, then goes on with buffered requests. */
static void conn_resume(struct cmd_loop *lp, struct conn *c)
{
	int r;

	if (c->out.failed) {
		cmd_log(LOG_ERR, "reply to uid %u over the size limit or out of memory",
			(unsigned)c->peer.uid);
		conn_close(lp, c);
		return;
	}
	r = conn_flush(c);
	if (r < 0 || (r == 0 && c->close_after_write)) {
		conn_close(lp, c);
		return;
	}
	if (r == 1) {
		conn_watch(lp, c, EPOLLOUT);
		return;
	}
	deadline_reset(lp, c);
	conn_process(lp, c);
}

static void queue_error(struct cmd_loop *lp, struct conn *c, const char *error,
			const char *parameter, const char *message)
{
	struct cmp_fail f = { error, parameter, message };

	cmd_stats_add(&lp->stats, CMD_C_ERRORS, 1);
	cmp_reply_error(&c->out, &f);
	/* After a malformed frame the stream cannot be trusted: say why, then close. */
	c->close_after_write = true;
}

/* Decodes and answers one frame; false when the connection waits (job, close). */
static bool conn_frame(struct cmd_loop *lp, struct conn *c, size_t len)
{
	struct cmp_call call;
	struct cmp_fail fail;
	uint64_t start = cmd_now_us();
	int r = cmp_call_decode(c->in, len, &call, &fail);

	/* The call owns copies of its strings: the frame can go now. */
	c->in_len -= len + 1;
	memmove(c->in, c->in + len + 1, c->in_len);
	if (r != 0) {
		cmd_stats_add(&lp->stats, CMD_C_REQUESTS, 1);
		queue_error(lp, c, fail.error, fail.parameter, fail.message);
		return true;
	}
	/* A reload may have taken this peer off the allowed lists. */
	if (!cmd_peer_allowed(&lp->gen->cfg->service, &c->peer, c->fd)) {
		cmd_stats_add(&lp->stats, CMD_C_REQUESTS, 1);
		queue_error(lp, c, CMP_E_PERMISSION_DENIED, NULL,
			    "this peer is no longer allowed by service.allowed_uids/allowed_gids");
		cmp_call_clear(&call);
		return true;
	}
	r = cmd_dispatch(lp, c, &c->peer, &call, &c->out);
	if (r == 1) {
		c->busy = true;
		conn_watch(lp, c, 0);
		return false;
	}
	if (c->out.len >= 9 && memcmp(c->out.data, "{\"error\":", 9) == 0) {
		cmd_stats_add(&lp->stats, CMD_C_ERRORS, 1);
	}
	if (call.oneway) {
		c->out.len = 0;
	}
	cmp_call_clear(&call);
	cmd_stats_latency(&lp->stats, cmd_now_us() - start);
	return true;
}

static void conn_process(struct cmd_loop *lp, struct conn *c)
{
	while (c->fd >= 0 && !c->busy) {
		char *nul = c->in_len > 0 ? memchr(c->in, '\0', c->in_len) : NULL;

		if (nul != NULL) {
			if (!conn_frame(lp, c, (size_t)(nul - c->in))) {
				return;
			}
			conn_resume(lp, c);
			return;
		}
		if (c->in_len >= CMP_MAX_REQUEST) {
			queue_error(lp, c, CMP_E_TOO_LARGE, NULL, "the request is over the size limit");
		} else if (c->eof && c->in_len > 0) {
			queue_error(lp, c, CMP_E_INVALID_PARAMETER, NULL, "the request is truncated");
		} else if (c->eof) {
			conn_close(lp, c);
			return;
		} else {
			conn_watch(lp, c, EPOLLIN);
			return;
		}
		conn_resume(lp, c);
		return;
	}
}

static void conn_read(struct cmd_loop *lp, struct conn *c)
{
	ssize_t n;

	if (c->in_alloc - c->in_len < 4096 && c->in_alloc < CMP_MAX_REQUEST) {
		size_t na = c->in_alloc * 2 < CMP_MAX_REQUEST ? c->in_alloc * 2 : CMP_MAX_REQUEST;
		char *p = realloc(c->in, na);

		if (p == NULL) {
			conn_close(lp, c);
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
		conn_close(lp, c);
		return;
	}
	if (n == 0) {
		c->eof = true;
	}
	c->in_len += (size_t)n;
	conn_process(lp, c);
}

static void conn_event(struct cmd_loop *lp, struct conn *c, uint32_t events)
{
	if (c->fd < 0) {
		return;
	}
	if ((events & (EPOLLERR | EPOLLHUP)) && c->busy) {
		conn_close(lp, c);
		return;
	}
	if (events & EPOLLOUT) {
		conn_resume(lp, c);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		conn_read(lp, c);
	}
}

void cmd_conn_job_done(struct cmd_loop *lp, struct cmd_job *job)
{
	struct conn *c = job->conn;
	enum cmd_counter verdict;

	switch (job->verdict) {
	case CERTMAP_VERDICT_MAPPED: verdict = CMD_C_MAPPED; break;
	case CERTMAP_VERDICT_REFUSED: verdict = CMD_C_REFUSED; break;
	case CERTMAP_VERDICT_AMBIGUOUS: verdict = CMD_C_AMBIGUOUS; break;
	case CERTMAP_VERDICT_ERROR: verdict = CMD_C_FAILED; break;
	default: verdict = CMD_C_ERRORS; break;
	}
	cmd_stats_add(&lp->stats, verdict, 1);
	cmd_stats_latency(&lp->stats, cmd_now_us() - job->start_us);
	/* The cache belongs to the job's generation: an answer made under
	 * rules a reload has replaced goes away with them. */
	if (job->cacheable && !job->reply.failed) {
		cm_cache_put(job->gen->cache, job->map.key, job->reply.data, job->reply.len,
			     cmd_now_ms(), job->valid_until);
	}
	c->busy = false;
	if (c->dead) {
		conn_free(lp, c);
		return;
	}
	if (!job->oneway) {
		cm_buf_add(&c->out, job->reply.data, job->reply.len);
	}
	conn_resume(lp, c);
}

/* ---------------------------------------------------------------- accept */

/* Says why in one frame, best effort, and closes. */
static void refuse(struct cmd_loop *lp, int fd, const char *error, const char *message)
{
	struct cmp_fail f = { error, NULL, message };
	struct cm_buf b;

	cmd_stats_add(&lp->stats, CMD_C_REJECTED_PEERS, 1);
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

/* Gives up on a connection that was counted but never added. */
static void conn_drop(struct cmd_loop *lp, int fd, const struct cmd_peer *peer)
{
	close(fd);
	atomic_fetch_sub(&lp->n_conns, 1);
	cmd_limits_release(peer->uid);
}

/* The connection is already counted in the limits and in lp->n_conns. */
void cmd_loop_adopt(struct cmd_loop *lp, int fd, const struct cmd_peer *peer)
{
	struct conn *c = NULL;
	struct epoll_event ev = { .events = EPOLLIN };

	/* Handed over while the service stops: nobody will serve it. */
	if (atomic_load(&lp->st->stopping) || (c = calloc(1, sizeof(*c))) == NULL ||
	    (c->in = malloc(4096)) == NULL) {
		free(c);
		conn_drop(lp, fd, peer);
		return;
	}
	c->in_alloc = 4096;
	c->fd = fd;
	c->peer = *peer;
	c->events = EPOLLIN;
	cm_buf_init(&c->out, CMP_MAX_REPLY);
	ev.data.ptr = c;
	if (epoll_ctl(lp->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		cmd_log(LOG_ERR, "epoll_ctl: %m");
		free(c->in);
		cm_buf_free(&c->out);
		free(c);
		conn_drop(lp, fd, peer);
		return;
	}
	deadline_reset(lp, c);
}

static void accept_one(struct cmd_loop *lp, int fd)
{
	const struct cm_service_conf *sc = &lp->gen->cfg->service;
	struct cmd_peer peer;
	struct cmd_loop *to;

	/* Credentials first: nothing is read from a peer that is not allowed. */
	if (read_peer(fd, &peer) != 0) {
		cmd_log(LOG_WARNING, "cannot read peer credentials: %m");
		close(fd);
		return;
	}
	if (!cmd_peer_allowed(sc, &peer, fd)) {
		if (cmd_peer_refusal_logged(peer.uid)) {
			cmd_log(LOG_WARNING, "refused a connection from uid %u (gid %u, pid %d): "
				"add it to service.allowed_uids or a group in service.allowed_gids",
				(unsigned)peer.uid, (unsigned)peer.gid, (int)peer.pid);
		}
		refuse(lp, fd, CMP_E_PERMISSION_DENIED, "this uid may not use certmapd");
		return;
	}
	if (!cmd_limits_admit(peer.uid, sc->max_connections, sc->max_connections_per_uid)) {
		if (cmd_peer_refusal_logged(peer.uid)) {
			cmd_log(LOG_WARNING, "refused a connection from uid %u: too many connections "
				"(service.max_connections_per_uid %u, service.max_connections %u)",
				(unsigned)peer.uid, sc->max_connections_per_uid, sc->max_connections);
		}
		refuse(lp, fd, CMP_E_TOO_MANY_CONNECTIONS, "too many connections");
		return;
	}
	to = cmd_loops_pick(lp);
	if (to != lp && cmd_loop_hand_over(to, fd, &peer)) {
		return;
	}
	atomic_fetch_add(&lp->n_conns, 1);
	cmd_loop_adopt(lp, fd, &peer);
}

static void accept_all(struct cmd_loop *lp)
{
	struct cmd_state *st = lp->st;

	for (int i = 0; i < 64; i++) {
		int fd = accept4(st->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			accept_one(lp, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED) {
			continue;
		}
		if ((errno == EMFILE || errno == ENFILE) && lp->spare_fd >= 0) {
			/* Out of descriptors: use the spare to take the peer off the
			 * backlog and close it, rather than spin on a full queue. */
			close(lp->spare_fd);
			fd = accept4(st->listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0) {
				refuse(lp, fd, CMP_E_TOO_MANY_CONNECTIONS, "out of file descriptors");
			}
			lp->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			cmd_log(LOG_ERR, "out of file descriptors");
		} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
			/* EAGAIN is normal: another loop took the peer first. */
			cmd_log(LOG_ERR, "accept: %m");
		}
		return;
	}
}

/* ---------------------------------------------------------------- loop */

static void expire(struct cmd_loop *lp)
{
	uint64_t now = cmd_now_ms();

	while (lp->deadline_head != NULL && lp->deadline_head->deadline_ms <= now) {
		struct conn *c = lp->deadline_head;

		cmd_stats_add(&lp->stats, CMD_C_TIMEOUTS, 1);
		cmd_log(LOG_INFO, "dropping a connection of uid %u after the timeout",
			(unsigned)c->peer.uid);
		conn_close(lp, c);
	}
}

static int next_timeout(const struct cmd_loop *lp)
{
	uint64_t now = cmd_now_ms();

	if (lp->deadline_head == NULL) {
		return -1;
	}
	if (lp->deadline_head->deadline_ms <= now) {
		return 0;
	}
	return (int)(lp->deadline_head->deadline_ms - now) + 1;
}

/* Only loop 0 watches the signalfd. */
static void on_signal(struct cmd_loop *lp)
{
	struct signalfd_siginfo si;
	char *err = NULL;

	while (read(lp->st->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			cmd_notify("RELOADING=1");
			if (cmd_reload(lp, &err) != 0) {
				free(err);
				err = NULL;
			}
			cmd_notify("READY=1");
			break;
		case SIGTERM:
		case SIGINT:
			cmd_log(LOG_NOTICE, "stopping on signal %u", si.ssi_signo);
			cmd_loops_stop(lp->st);
			break;
		default:
			break;
		}
	}
}

static void on_event(struct cmd_loop *lp, void *tag, uint32_t events)
{
	switch (cmd_loop_tag(tag)) {
	case CMD_TAG_LISTEN: accept_all(lp); break;
	case CMD_TAG_SIGNAL: on_signal(lp); break;
	case CMD_TAG_WAKE: cmd_loop_read_mail(lp); break;
	case CMD_TAG_CONN: conn_event(lp, tag, events); break;
	}
}

int cmd_loop_run(struct cmd_loop *lp)
{
	struct epoll_event evs[64];
	int rc = 0;

	while (!atomic_load(&lp->st->stopping)) {
		int n = epoll_wait(lp->epfd, evs, CM_ARRAY_SIZE(evs), next_timeout(lp));

		if (n < 0 && errno != EINTR) {
			cmd_log(LOG_ERR, "epoll_wait: %m");
			rc = -1;
			break;
		}
		/* A reload on any loop applies to every request read from here on. */
		cmd_loop_refresh_gen(lp);
		for (int i = 0; i < n; i++) {
			on_event(lp, evs[i].data.ptr, evs[i].events);
		}
		expire(lp);
		cmd_loop_bury(lp);
	}
	/* A busy connection is only marked dead: its job still points at it and
	 * comes back through the mailbox, which cmd_loops_free drains. */
	cmd_loop_close_all(lp);
	cmd_loop_bury(lp);
	return rc;
}

/*
 * certmapd's connections. Each lives in one of serve.c's --loops epoll
 * sets (they take new connections in turn), watched edge-triggered, and
 * the set's serving threads take turns waiting on it: whichever gets an
 * event serves the connection from the read to the reply, a Map's account
 * lookup included, so no request changes threads.
 *
 * Ownership. One thread at a time serves a connection: it owns it (the
 * OWNED bit of state). An event that comes while another thread owns it
 * only sets AGAIN, and the owner looks at the socket once more before it
 * lets go: with edge triggering, no event is lost and no two threads read
 * one socket. An event may reach a thread after its connection closed:
 * connections live in slots that are never freed while certmapd runs,
 * and the event carries the slot's generation, which each close bumps, so
 * a stale event is seen for what it is.
 *
 * A connection serves one request at a time (varlink replies come in
 * order). A Map that waits for a lookup turn (lookups.c) keeps its
 * connection owned; the thread that runs it serves the connection on. An
 * idle connection is dropped when a request is not complete, or a reply
 * not taken, within service.timeout; serve.c's tick asks for that.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"

#define READ_CHUNK 4096
/* Reads per turn of a connection whose peer keeps sending: then it goes
 * behind the other connections of its set, as in an event loop. */
#define READ_TURN 8
/* Bytes read or sent that count as progress, as a whole request or reply
 * does: a large request or reply moving steadily is no trickle (and the
 * size limits bound how often it may restart the timeout). */
#define PROGRESS_BYTES (64 * 1024)
/* Slots come in chunks that are never freed: a stale event may still
 * point into one. service.max_connections is at most 65536. */
#define CHUNK 64
#define MAX_CHUNKS (65536 / CHUNK + 1)

#define S_OWNED 1u
#define S_AGAIN 2u
#define S_OPEN 4u
#define S_HUP 8u /* the peer shut its side: a short read no longer says all was read */
#define S_GEN(s) ((uint32_t)((s) >> 32))

/* What the serving thread makes of a connection. */
enum step {
	STEP_IDLE,    /* waits for bytes, or for room to send */
	STEP_CLOSED,
	STEP_LOOKUP,  /* its Map waits for a lookup turn: the job owns it */
	STEP_YIELD,   /* read READ_TURN times: the others' turn */
};

struct conn {
	_Atomic uint64_t state;	      /* generation << 32 | S_* */
	_Atomic uint64_t deadline_ms; /* when it is dropped (service.timeout) */
	/* The job of a Map out for a lookup, or OUT_DETACHED once its
	 * thread left the connection to whoever runs the lookup. */
	_Atomic uintptr_t finished;
	unsigned int slot;
	unsigned int set; /* the epoll set it is in: also its answer-cache shard - 1 */
	int fd;
	struct cmd_peer peer;
	char *in;
	size_t in_off, in_len, in_alloc; /* bytes not yet served: in[in_off..in_len) */
	struct cm_buf out;
	size_t out_off;
	uint32_t events;	/* what epoll watches now */
	bool drained;		/* the last read emptied the socket */
	bool eof;		/* the peer will send no more */
	bool close_after_write;
	/* The deadline runs for a half request or an untaken reply; cleared
	 * when a frame is served or a reply taken (what waits then is new). */
	bool waiting_on_peer;
	size_t moved;         /* bytes read or sent since the deadline last restarted */
	struct conn *next_free;
};

#define OUT_DETACHED ((uintptr_t)1)


struct cmd_conns {
	struct cmd_state *st;
	unsigned int n_sets;
	int *epfds;		/* serve.c's epoll sets */
	atomic_uint turn;	/* the set of the next connection */
	pthread_mutex_t lock; /* the free list and new chunks */
	struct conn *chunks[MAX_CHUNKS];
	_Atomic unsigned int n_slots; /* slots made so far: the expiry scans these */
	struct conn *free_list;
	atomic_uint n_open;
	void (*on_close)(struct cmd_thread *t);
};

/* ---------------------------------------------------------------- slots */

static struct conn *slot_at(struct cmd_conns *cs, unsigned int i)
{
	return &cs->chunks[i / CHUNK][i % CHUNK];
}

static struct conn *slot_take(struct cmd_conns *cs)
{
	struct conn *c = NULL;

	pthread_mutex_lock(&cs->lock);
	if (cs->free_list == NULL) {
		unsigned int n = atomic_load(&cs->n_slots), k = n / CHUNK;

		if (k < MAX_CHUNKS && (cs->chunks[k] = calloc(CHUNK, sizeof(struct conn))) != NULL) {
			for (unsigned int i = CHUNK; i-- > 0;) {
				struct conn *s = &cs->chunks[k][i];

				s->slot = n + i;
				atomic_init(&s->state, (uint64_t)1 << 32);
				s->next_free = cs->free_list;
				cs->free_list = s;
			}
			atomic_store(&cs->n_slots, n + CHUNK);
		}
	}
	if ((c = cs->free_list) != NULL) {
		cs->free_list = c->next_free;
	}
	pthread_mutex_unlock(&cs->lock);
	return c;
}

static void slot_give_back(struct cmd_conns *cs, struct conn *c)
{
	pthread_mutex_lock(&cs->lock);
	c->next_free = cs->free_list;
	cs->free_list = c;
	pthread_mutex_unlock(&cs->lock);
}

static uint64_t conn_tag(const struct conn *c)
{
	return (uint64_t)S_GEN(atomic_load(&c->state)) << 32 | c->slot;
}

/* ---------------------------------------------------------------- ownership */

/* An event for generation gen: true when this thread now owns the
 * connection; false when it is stale, or its owner will look again. */
static bool conn_acquire(struct conn *c, uint32_t gen, bool hup)
{
	uint64_t s = atomic_load(&c->state);

	for (;;) {
		uint64_t want = (s & S_OWNED ? s | S_AGAIN : s | S_OWNED) | (hup ? S_HUP : 0);

		if (S_GEN(s) != gen || !(s & S_OPEN)) {
			return false;
		}
		if (atomic_compare_exchange_weak(&c->state, &s, want)) {
			return !(s & S_OWNED);
		}
	}
}

/* Lets go: true when done; false when an event came meanwhile (AGAIN is
 * cleared, the caller still owns the connection and looks again). */
static bool conn_release(struct conn *c)
{
	uint64_t s = atomic_load(&c->state);

	for (;;) {
		uint64_t want = s & S_AGAIN ? s & ~(uint64_t)S_AGAIN : s & ~(uint64_t)S_OWNED;

		if (atomic_compare_exchange_weak(&c->state, &s, want)) {
			return !(s & S_AGAIN);
		}
	}
}

/* ---------------------------------------------------------------- closing */

static void conn_close(struct cmd_thread *t, struct cmd_conns *cs, struct conn *c)
{
	uint64_t s = atomic_load(&c->state);

	epoll_ctl(cs->epfds[c->set], EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	cmd_limits_release(c->peer.uid);
	free(c->in);
	c->in = NULL;
	cm_buf_free(&c->out);
	/* A new generation: events still on their way for this one are stale. */
	atomic_store(&c->state, (uint64_t)(S_GEN(s) + 1u) << 32);
	slot_give_back(cs, c);
	atomic_fetch_sub(&cs->n_open, 1);
	/* A descriptor is free again: whoever accepts may want to know. */
	if (cs->on_close != NULL) {
		cs->on_close(t);
	}
}

/* ---------------------------------------------------------------- sending */

/* Adds the connection to its set, or changes what is watched (the same
 * events again put it at the end of the ready list if it is ready). */
static int conn_ctl(struct cmd_conns *cs, struct conn *c, int op, uint32_t events)
{
	struct epoll_event ev = {.events = events | EPOLLRDHUP | EPOLLET, .data.u64 = conn_tag(c)};

	if (epoll_ctl(cs->epfds[c->set], op, c->fd, &ev) != 0) {
		cmd_log(LOG_ERR, "epoll_ctl: %m");
		return -1;
	}
	c->events = events;
	return 0;
}

static int conn_watch(struct cmd_conns *cs, struct conn *c, uint32_t events)
{
	return events == c->events ? 0 : conn_ctl(cs, c, EPOLL_CTL_MOD, events);
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
		c->moved += (size_t)n;
	}
	if (c->out.len > 0) {
		c->waiting_on_peer = false;
	}
	c->out.len = 0;
	c->out_off = 0;
	return 0;
}

/* Sends what is queued: 0 when all is out, 1 when the connection waits
 * for room (EPOLLOUT is watched), -1 when it must close. */
static int conn_send(struct cmd_conns *cs, struct conn *c)
{
	int r;

	if (c->out.failed) {
		cmd_log(LOG_ERR, "reply to uid %u over the size limit or out of memory",
			(unsigned)c->peer.uid);
		return -1;
	}
	r = conn_flush(c);
	if (r < 0 || (r == 0 && c->close_after_write)) {
		return -1;
	}
	if (conn_watch(cs, c, r == 1 ? EPOLLIN | EPOLLOUT : EPOLLIN) != 0) {
		return -1;
	}
	return r;
}

/* ---------------------------------------------------------------- frames */

/* A frame refused before dispatch (too large, cut short): say why, close. */
static void refuse_frame(struct cmd_thread *t, struct conn *c, const char *error,
			 const char *parameter, const char *message)
{
	struct cmp_fail f = {.error = error, .parameter = parameter, .message = message};

	cmd_stats_add(&t->stats, CMD_C_REQUESTS, 1);
	cmd_stats_add(&t->stats, CMD_C_ERRORS, 1);
	cmp_reply_error(&c->out, &f);
	c->close_after_write = true;
}

static void conn_post_job(struct cmd_job *job, void *arg);

/* Appends a finished job's reply; while the service stops, the
 * connection then closes after it (no more frames for lookups). */
static void conn_take_job(struct cmd_thread *t, struct conn *c, struct cmd_job *job)
{
	cmd_job_finish(job, &t->stats, &c->out);
	cmd_job_free(job);
	if (atomic_load(&t->st->stopping)) {
		c->close_after_write = true;
	}
}

/* Hands one frame to dispatch. STEP_LOOKUP when its Map waits for a turn. */
static enum step conn_frame(struct cmd_thread *t, struct cmd_conns *cs, struct conn *c,
			    size_t len)
{
	struct cmd_caller cl = {
	    .st = t->st,
	    .gen = t->gen,
	    .stats = &t->stats,
	    .peer = &c->peer,
	    .fd = c->fd,
	    .post = conn_post_job,
	    .post_arg = cs,
	    .owner = c,
	    .shard = c->set + 1,
	    .now_us = t->now_us,
	    .run_here = true,
	};
	enum cmd_outcome r;
	uintptr_t job;

	/* A reload applies to every frame read from here on. */
	cmd_state_refresh_gen(t->st, &t->gen, &t->gen_seq);
	cl.gen = t->gen;
	r = cmd_dispatch_frame(&cl, c->in + c->in_off, len, &c->out);

	/* The call owns copies of its strings: the frame can go now. What
	 * follows moves down once per read (conn_read), not once per frame:
	 * thousands of small frames may follow one large one. */
	c->in_off += len + 1;
	if (c->in_off == c->in_len) {
		c->in_off = c->in_len = 0;
	}
	c->waiting_on_peer = false;
	if (r == CMD_REPLIED_CLOSE) {
		c->close_after_write = true;
	}
	t->now_us = cmd_now_us(); /* a lookup or a reload took its time */
	if (r != CMD_PENDING) {
		return STEP_IDLE;
	}
	/* Mostly the lookup ran in this thread and is done; else whoever runs
	 * it finds OUT_DETACHED and serves the connection on. */
	job = atomic_exchange(&c->finished, OUT_DETACHED);
	if (job == 0) {
		return STEP_LOOKUP;
	}
	atomic_store(&c->finished, 0);
	conn_take_job(t, c, (struct cmd_job *)job);
	return STEP_IDLE;
}

/* Reads once; false when the connection must close. */
static bool conn_read(struct conn *c)
{
	size_t room;
	ssize_t n;

	if (c->in_off > 0) {
		c->in_len -= c->in_off;
		memmove(c->in, c->in + c->in_off, c->in_len);
		c->in_off = 0;
	}
	if (c->in_alloc - c->in_len < READ_CHUNK && c->in_alloc < CMP_MAX_REQUEST) {
		size_t na = c->in_alloc * 2 < CMP_MAX_REQUEST ? c->in_alloc * 2 : CMP_MAX_REQUEST;
		char *p = realloc(c->in, na);

		if (p == NULL) {
			return false;
		}
		c->in = p;
		c->in_alloc = na;
	}
	room = c->in_alloc - c->in_len;
	n = recv(c->fd, c->in + c->in_len, room, MSG_DONTWAIT);
	if (n < 0 && errno == EINTR) {
		return true;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		c->drained = true;
		return true;
	}
	if (n < 0) {
		return false;
	}
	if (n == 0) {
		c->eof = true;
	}
	/* A stream socket gives all it holds up to room: a short read emptied
	 * it, and the next bytes bring a new edge. Not the end of the stream,
	 * though: data and the peer's shutdown may come in one edge. (Nor
	 * bytes after ancillary data, SCM_RIGHTS or MSG_OOB, where a read
	 * stops: a peer that sends those waits for its own timeout.) */
	c->drained = (size_t)n < room && !(atomic_load(&c->state) & S_HUP);
	c->in_len += (size_t)n;
	c->moved += (size_t)n;
	return true;
}

/*
 * Serves what the connection holds: the reply still queued, then each
 * complete frame, one after the other (a loop: a read may bring thousands
 * of small pipelined frames), reading while the socket may hold more.
 */
static enum step conn_work(struct cmd_thread *t, struct cmd_conns *cs, struct conn *c)
{
	unsigned int reads = 0;

	for (;;) {
		char *head, *nul;
		size_t held;
		int r = conn_send(cs, c);

		if (r != 0) {
			return r < 0 ? STEP_CLOSED : STEP_IDLE;
		}
		head = c->in + c->in_off;
		held = c->in_len - c->in_off;
		nul = held > 0 ? memchr(head, '\0', held) : NULL;
		if (nul != NULL) {
			if (conn_frame(t, cs, c, (size_t)(nul - head)) == STEP_LOOKUP) {
				return STEP_LOOKUP;
			}
		} else if (held >= CMP_MAX_REQUEST) {
			refuse_frame(t, c, CMP_E_TOO_LARGE, NULL, "the request is over the size limit");
		} else if (c->eof && held > 0) {
			refuse_frame(t, c, CMP_E_INVALID_PARAMETER, "", "the request is truncated");
		} else if (c->eof) {
			return STEP_CLOSED;
		} else if (c->drained) {
			return STEP_IDLE;
		} else if (reads++ == READ_TURN) {
			return STEP_YIELD;
		} else if (!conn_read(c)) {
			return STEP_CLOSED;
		}
	}
}

/* When a connection left idle now is dropped (service.timeout). */
static uint64_t idle_deadline(const struct cmd_thread *t)
{
	return t->now_us / 1000u + (uint64_t)t->gen->cfg->service.timeout * 1000u;
}

/*
 * service.timeout runs from the moment a connection goes idle, from the
 * first byte of a request, and from the last frame served, reply taken or
 * PROGRESS_BYTES moved: a peer that trickles a request (or reads its
 * reply) a byte at a time does not restart it, a peer whose requests keep
 * arriving does. A connection that yielded its turn (bytes wait in its
 * socket) waits for certmapd, not for its peer.
 */
static void set_deadline(const struct cmd_thread *t, struct conn *c, bool yielded)
{
	bool waits = c->in_len > c->in_off || c->out.len > c->out_off;

	if (!waits || !c->waiting_on_peer || yielded || c->moved >= PROGRESS_BYTES) {
		atomic_store(&c->deadline_ms, idle_deadline(t));
		c->moved = 0;
	}
	c->waiting_on_peer = waits;
}

/* Serves an owned connection until it waits, then lets it go (or closes it). */
static void conn_serve(struct cmd_thread *t, struct cmd_conns *cs, struct conn *c)
{
	for (;;) {
		enum step s = conn_work(t, cs, c);

		if (s == STEP_CLOSED) {
			conn_close(t, cs, c);
			return;
		}
		if (s == STEP_LOOKUP) {
			return;
		}
		/* Bytes wait in the socket: watched again, it is at the end of
		 * the set's ready list (or, if its event reached a thread that
		 * found it still owned, AGAIN makes this thread go on). */
		if (s == STEP_YIELD && conn_ctl(cs, c, EPOLL_CTL_MOD, c->events) != 0) {
			conn_close(t, cs, c);
			return;
		}
		set_deadline(t, c, s == STEP_YIELD);
		if (conn_release(c)) {
			return;
		}
		/* An event came while this thread served: the socket may hold more. */
		c->drained = false;
	}
}

/*
 * The completion dispatch calls when a Map's lookup is done, in the
 * thread that ran it (or at shutdown, for a lookup never run). If the
 * thread that read the frame is still in dispatch, it takes the job;
 * else this thread serves the connection on.
 */
static void conn_post_job(struct cmd_job *job, void *arg)
{
	struct cmd_conns *cs = arg;
	struct conn *c = cmd_job_owner(job);
	struct cmd_thread *t = cmd_thread_current(cs->st);

	if (atomic_exchange(&c->finished, (uintptr_t)job) != OUT_DETACHED) {
		return;
	}
	atomic_store(&c->finished, 0);
	t->now_us = cmd_now_us();
	cmd_state_refresh_gen(t->st, &t->gen, &t->gen_seq);
	conn_take_job(t, c, job);
	conn_serve(t, cs, c);
}

/* ---------------------------------------------------------------- the set */

void cmd_conns_event(struct cmd_thread *t, struct cmd_conns *cs, uint64_t tag, uint32_t events)
{
	unsigned int slot = (unsigned int)(tag & 0xffffffffu);
	struct conn *c;

	if (slot >= atomic_load(&cs->n_slots)) {
		return;
	}
	c = slot_at(cs, slot);
	if (conn_acquire(c, (uint32_t)(tag >> 32),
			 (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0)) {
		c->drained = false;
		conn_serve(t, cs, c);
	}
}

/* Connections go to the sets in turn, so that the clients of each set's
 * threads spread over the CPUs. (By the fewest open, two clients that
 * come while the connections of two others still close could share a
 * set, and run at half the speed.) */
static unsigned int next_set(struct cmd_conns *cs)
{
	return atomic_fetch_add(&cs->turn, 1) % cs->n_sets;
}

void cmd_conns_add(struct cmd_thread *t, struct cmd_conns *cs, int fd, const struct cmd_peer *peer)
{
	struct conn *c = slot_take(cs);
	uint64_t s;

	if (c == NULL || (c->in = malloc(READ_CHUNK)) == NULL) {
		if (c != NULL) {
			slot_give_back(cs, c);
		}
		cmd_log(LOG_ERR, "out of memory for a connection of uid %u", (unsigned)peer->uid);
		close(fd);
		cmd_limits_release(peer->uid);
		return;
	}
	c->in_alloc = READ_CHUNK;
	c->in_off = c->in_len = 0;
	c->fd = fd;
	c->peer = *peer;
	c->set = next_set(cs);
	c->out_off = 0;
	c->drained = c->eof = c->close_after_write = c->waiting_on_peer = false;
	c->moved = 0;
	atomic_store(&c->finished, 0);
	cm_buf_init(&c->out, CMP_MAX_REPLY);
	atomic_store(&c->deadline_ms, idle_deadline(t));
	s = atomic_load(&c->state);
	atomic_store(&c->state, (s & ~(uint64_t)0xffffffffu) | S_OPEN);
	atomic_fetch_add(&cs->n_open, 1);
	if (conn_ctl(cs, c, EPOLL_CTL_ADD, EPOLLIN) != 0) {
		atomic_fetch_or(&c->state, S_OWNED);
		conn_close(t, cs, c);
	}
}

/* An idle connection past its deadline is this thread's to close. */
static void expire_one(struct cmd_thread *t, struct cmd_conns *cs, struct conn *c, uint64_t now)
{
	uint64_t s = atomic_load(&c->state);

	if ((s & (S_OPEN | S_OWNED)) != S_OPEN || atomic_load(&c->deadline_ms) > now ||
	    !atomic_compare_exchange_strong(&c->state, &s, s | S_OWNED)) {
		return;
	}
	/* Served between the two looks: it has a new deadline. */
	if (atomic_load(&c->deadline_ms) > now) {
		if (!conn_release(c)) {
			c->drained = false;
			conn_serve(t, cs, c);
		}
		return;
	}
	cmd_stats_add(&t->stats, CMD_C_TIMEOUTS, 1);
	cmd_log(LOG_INFO, "dropping a connection of uid %u after the timeout", (unsigned)c->peer.uid);
	conn_close(t, cs, c);
}

unsigned int cmd_conns_expire(struct cmd_thread *t, struct cmd_conns *cs)
{
	uint64_t now = t->now_us / 1000u;
	unsigned int n = atomic_load(&cs->n_slots);

	for (unsigned int i = 0; i < n; i++) {
		expire_one(t, cs, slot_at(cs, i), now);
	}
	return atomic_load(&cs->n_open);
}

unsigned int cmd_conns_open(struct cmd_conns *cs)
{
	return atomic_load(&cs->n_open);
}

struct cmd_conns *cmd_conns_new(struct cmd_state *st, const int *epfds, unsigned int n_sets,
				void (*on_close)(struct cmd_thread *t))
{
	struct cmd_conns *cs = calloc(1, sizeof(*cs));

	if (cs == NULL || (cs->epfds = calloc(n_sets, sizeof(*cs->epfds))) == NULL) {
		free(cs);
		return NULL;
	}
	cs->st = st;
	cs->n_sets = n_sets;
	memcpy(cs->epfds, epfds, n_sets * sizeof(*epfds));
	cs->on_close = on_close;
	pthread_mutex_init(&cs->lock, NULL);
	return cs;
}

/* After every serving thread ended and every lookup came back. */
void cmd_conns_free(struct cmd_thread *t, struct cmd_conns *cs)
{
	unsigned int n;

	if (cs == NULL) {
		return;
	}
	cs->on_close = NULL;
	n = atomic_load(&cs->n_slots);
	for (unsigned int i = 0; i < n; i++) {
		struct conn *c = slot_at(cs, i);

		if (atomic_load(&c->state) & S_OPEN) {
			conn_close(t, cs, c);
		}
	}
	for (unsigned int k = 0; k < MAX_CHUNKS; k++) {
		free(cs->chunks[k]);
	}
	pthread_mutex_destroy(&cs->lock);
	free(cs->epfds);
	free(cs);
}

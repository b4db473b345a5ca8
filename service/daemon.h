/*
 * certmapd internals: the state shared by the event loops (loop.c, loops.c),
 * the connection limits (limits.c), the method handlers (dispatch.c), the
 * worker threads (workers.c) and start-up (main.c).
 */
#ifndef CERTMAP_SERVICE_DAEMON_H
#define CERTMAP_SERVICE_DAEMON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <syslog.h>

#include "certmap.h"
#include "conf.h"
#include "request.h"
#include "util.h"

/*
 * syslog; lines reach journald through /dev/log. Each message is a whole
 * sentence in an administrator's words (what happened, to which peer or
 * file, and the setting or file to change), with no function names, so
 * that it can be searched for without the source.
 */
#define cmd_log(prio, ...) syslog((prio), __VA_ARGS__)

struct cm_cache;

/* One loaded configuration and the answers made under it. Loops and
 * workers hold a reference while they use it, so a reload never frees a
 * context in use; the cache dies with its rules. */
struct cmd_gen {
	struct certmap_ctx *ctx;
	const struct cm_config *cfg;
	struct cm_cache *cache;
	atomic_int refs;
};

struct cmd_gen *cmd_gen_load(const char *path, char **errmsg);
struct cmd_gen *cmd_gen_ref(struct cmd_gen *g);
void cmd_gen_unref(struct cmd_gen *g);

/* Latency histogram bounds in microseconds; one more bucket holds the rest. */
#define CMD_LAT_BUCKETS 12
extern const unsigned int cmd_lat_bounds_us[CMD_LAT_BUCKETS];

/* Counters; an array so that GetStats can sum the loops' copies. */
enum cmd_counter {
	CMD_C_REQUESTS,
	CMD_C_HITS,
	CMD_C_MISSES,
	CMD_C_ERRORS,           /* error replies */
	CMD_C_MAPPED, CMD_C_REFUSED, CMD_C_AMBIGUOUS, CMD_C_FAILED, /* Map verdicts */
	CMD_C_REJECTED_PEERS,   /* connections refused by SO_PEERCRED or limits */
	CMD_C_TIMEOUTS,
	CMD_C_RELOADS, CMD_C_RELOAD_FAILURES,
	CMD_C_LATENCY,          /* CMD_LAT_BUCKETS + 1 buckets from here */
	CMD_C_COUNT = CMD_C_LATENCY + CMD_LAT_BUCKETS + 1
};

/* Each loop has its own copy, written by that loop's thread only and read
 * by GetStats on any loop: relaxed atomics make that read safe without a
 * locked instruction on the fast path. */
struct cmd_stats {
	_Atomic uint64_t c[CMD_C_COUNT];
};

static inline void cmd_stats_add(struct cmd_stats *s, enum cmd_counter i, uint64_t n)
{
	uint64_t v = atomic_load_explicit(&s->c[i], memory_order_relaxed);

	atomic_store_explicit(&s->c[i], v + n, memory_order_relaxed);
}

static inline uint64_t cmd_stats_get(const struct cmd_stats *s, enum cmd_counter i)
{
	return atomic_load_explicit(&s->c[i], memory_order_relaxed);
}

struct conn;
struct cmd_loop;

/* A Map that missed the cache, handed to a worker thread. */
struct cmd_job {
	struct cmd_job *next;
	struct cmd_loop *loop;  /* owns conn; gets the job back when it is done */
	struct conn *conn;
	struct cmd_gen *gen;
	struct cmp_call call;
	struct cmp_map map;
	uid_t peer_uid;
	pid_t peer_pid;
	bool oneway;
	uint64_t start_us;
	/* Filled by the worker. */
	struct cm_buf reply;
	bool cacheable;
	int64_t valid_until;    /* the answer's own cache limit (cm_answer_valid_until) */
	int verdict;            /* enum certmap_verdict, or -1 for an error reply */
};

struct cmd_workers;
struct cmd_workers *cmd_workers_start(unsigned int n);
void cmd_workers_submit(struct cmd_workers *w, struct cmd_job *job);
/* Joins the threads; jobs never run go back to their loops unanswered. */
void cmd_workers_stop(struct cmd_workers *w);
void cmd_job_free(struct cmd_job *job);
/* Runs one Map (in a worker thread). */
void cmd_job_run(struct cmd_job *job);

/* Peer credentials, read once per connection. */
struct cmd_peer {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	bool admin;             /* may Reload and see traces */
};

/* A connection accepted by one loop for another (loops.c balances). */
struct cmd_handoff {
	struct cmd_handoff *next;
	int fd;
	struct cmd_peer peer;
};

/* One event-loop thread: its own epoll set and its own connections. */
struct cmd_loop {
	struct cmd_state *st;
	unsigned int id;
	pthread_t thread;
	int epfd;
	int wake_fd;            /* eventfd: jobs done, connections handed over, or stop */
	int spare_fd;           /* released to accept-and-close when out of descriptors */
	struct cmd_gen *gen;    /* this loop's reference to the configuration */
	unsigned int gen_seq;
	atomic_uint n_conns;    /* read by other loops to pick the least busy */
	struct cmd_stats stats;
	/* The mailbox other threads write to. */
	pthread_mutex_t mail_lock;
	struct cmd_job *done;
	struct cmd_handoff *inbox;
	/* Owned by the loop's thread. */
	struct conn *deadline_head, *deadline_tail; /* oldest first */
	struct conn *graveyard; /* closed, freed after the current batch of events */
};

/* The whole service. */
struct cmd_state {
	const char *config_path;
	pthread_mutex_t gen_lock; /* guards gen; loops copy it with a reference */
	struct cmd_gen *gen;
	atomic_uint gen_seq;    /* bumped by each reload, so loops notice without the lock */
	struct cmd_workers *workers;
	struct cmd_loop **loops;
	unsigned int n_loops;
	int listen_fd;
	int signal_fd;          /* watched by loop 0 only */
	atomic_bool stopping;
	uint64_t started_ms;
};

/*
 * Handles one decoded call. Appends the reply frame to out and returns 0,
 * or hands a Map to the workers and returns 1 (the reply comes later).
 */
int cmd_dispatch(struct cmd_loop *lp, struct conn *c, const struct cmd_peer *peer,
		 struct cmp_call *call, struct cm_buf *out);
/* Reloads the configuration for every loop; keeps the old one on failure. */
int cmd_reload(struct cmd_loop *lp, char **errmsg);
/* Records a finished request in the statistics. */
void cmd_stats_latency(struct cmd_stats *s, uint64_t us);
uint64_t cmd_now_ms(void);
uint64_t cmd_now_us(void);

/* loop.c: one loop's thread body; returns 0 once the service stops. */
int cmd_loop_run(struct cmd_loop *lp);
/* Closes every connection of a stopped loop. */
void cmd_loop_close_all(struct cmd_loop *lp);
/* Answers (or frees, if its connection is gone) one finished job. */
void cmd_conn_job_done(struct cmd_loop *lp, struct cmd_job *job);
/* Frees connections closed since the last call. */
void cmd_loop_bury(struct cmd_loop *lp);
/* Takes a connection accepted by this or another loop, already counted in
 * the limits and in lp->n_conns. */
void cmd_loop_adopt(struct cmd_loop *lp, int fd, const struct cmd_peer *peer);

/* loops.c: the set of loops, their mailboxes and the shared generation. */
int cmd_loops_new(struct cmd_state *st, unsigned int n);
/* Runs loop 0 here and the others in threads, until SIGTERM. */
int cmd_loops_run(struct cmd_state *st);
void cmd_loops_stop(struct cmd_state *st);
/* After cmd_workers_stop: drains the mailboxes and frees everything. */
void cmd_loops_free(struct cmd_state *st);
/* Called by a worker: gives a finished job back to its loop. */
void cmd_loop_post_job(struct cmd_loop *lp, struct cmd_job *job);
/* Runs lp's mailbox: jobs done, connections handed over (lp's thread). */
void cmd_loop_read_mail(struct cmd_loop *lp);
/* The loop with the fewest connections, lp itself on a tie. */
struct cmd_loop *cmd_loops_pick(struct cmd_loop *lp);
/* Gives a connection to another loop; false if it could not (fd is kept). */
bool cmd_loop_hand_over(struct cmd_loop *to, int fd, const struct cmd_peer *peer);
/* Swaps in g for every loop (takes the caller's reference). */
void cmd_loops_set_gen(struct cmd_state *st, struct cmd_gen *g);
/* Picks up a reload: called by the loop after each wake-up. */
void cmd_loop_refresh_gen(struct cmd_loop *lp);
/* Sums every loop's counters into sum. */
void cmd_loops_stats(struct cmd_state *st, struct cmd_stats *sum);
/* What an epoll tag names: a loop's own descriptor or a connection. */
enum cmd_tag { CMD_TAG_CONN, CMD_TAG_LISTEN, CMD_TAG_SIGNAL, CMD_TAG_WAKE };
enum cmd_tag cmd_loop_tag(const void *tag);

/* limits.c: connection counts, global and per uid, shared by the loops. */
bool cmd_limits_admit(uid_t uid, unsigned int max, unsigned int max_per_uid);
void cmd_limits_release(uid_t uid);
unsigned int cmd_limits_count(void);
void cmd_limits_free(void);

/* peer.c: whether a peer may connect (uid, primary gid, or a supplementary
 * group read from fd with SO_PEERGROUPS, in service.allowed_uids/gids). */
bool cmd_peer_allowed(const struct cm_service_conf *sc, const struct cmd_peer *p, int fd);
/* Counts a refused connection of uid: true when it may have its own log
 * line (at most a few per uid per minute), false when it is only counted
 * for a later "suppressed N" line. */
bool cmd_peer_refusal_logged(uid_t uid);
/* Logs the "suppressed N" lines that are due (all of them with force). */
void cmd_peer_log_summaries(bool force);

/* systemd shim (sd_shim.c): activated sockets and readiness. */
int cmd_listen_fds(void);
void cmd_notify(const char *state);

#endif

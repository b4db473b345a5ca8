/*
 * certmapd internals: the state shared by the event loop (loop.c), the
 * method handlers (dispatch.c), the worker threads (workers.c) and
 * start-up (main.c).
 */
#ifndef CERTMAP_SERVICE_DAEMON_H
#define CERTMAP_SERVICE_DAEMON_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <syslog.h>

#include "certmap.h"
#include "conf.h"
#include "request.h"
#include "util.h"

/* syslog with the function name; lines reach journald through /dev/log. */
#define cmd_log(prio, fmt, ...) syslog((prio), "%s: " fmt, __func__, ##__VA_ARGS__)

/* One loaded configuration. Workers hold a reference while they map, so
 * a reload never frees a context in use. */
struct cmd_gen {
	struct certmap_ctx *ctx;
	const struct cm_config *cfg;
	atomic_int refs;
};

struct cmd_gen *cmd_gen_load(const char *path, char **errmsg);
struct cmd_gen *cmd_gen_ref(struct cmd_gen *g);
void cmd_gen_unref(struct cmd_gen *g);

/* Latency histogram bounds in microseconds; one more bucket holds the rest. */
#define CMD_LAT_BUCKETS 12
extern const unsigned int cmd_lat_bounds_us[CMD_LAT_BUCKETS];

struct cmd_stats {
	uint64_t requests;
	uint64_t hits;
	uint64_t misses;
	uint64_t errors;        /* error replies */
	uint64_t mapped, refused, ambiguous, failed; /* Map verdicts */
	uint64_t rejected_peers; /* connections refused by SO_PEERCRED or limits */
	uint64_t timeouts;
	uint64_t reloads, reload_failures;
	uint64_t latency[CMD_LAT_BUCKETS + 1];
	uint64_t started_ms;
};

struct conn;

/* A Map that missed the cache, handed to a worker thread. */
struct cmd_job {
	struct cmd_job *next;
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
	int verdict;            /* enum certmap_verdict, or -1 for an error reply */
};

struct cmd_workers;
/* Starts n threads; done_fd is an eventfd the loop watches. */
struct cmd_workers *cmd_workers_start(unsigned int n, int *done_fd);
void cmd_workers_submit(struct cmd_workers *w, struct cmd_job *job);
/* Takes every finished job (a list linked by next). */
struct cmd_job *cmd_workers_take_done(struct cmd_workers *w);
void cmd_workers_stop(struct cmd_workers *w);
void cmd_job_free(struct cmd_job *job);
/* Runs one Map (in a worker thread). */
void cmd_job_run(struct cmd_job *job);

/* The whole service. */
struct cmd_state {
	const char *config_path;
	struct cmd_gen *gen;
	struct cmd_stats stats;
	struct cm_cache *cache;
	struct cmd_workers *workers;
	int epfd;
	int listen_fd;
	int signal_fd;
	int done_fd;
	int spare_fd;           /* released to accept-and-close when out of descriptors */
	unsigned int n_conns;
	bool stopping;
};

/* Peer credentials, read once per connection. */
struct cmd_peer {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	bool admin;             /* may Reload and see traces */
};

/*
 * Handles one decoded call. Appends the reply frame to out and returns 0,
 * or hands a Map to the workers and returns 1 (the reply comes later).
 */
int cmd_dispatch(struct cmd_state *st, struct conn *c, const struct cmd_peer *peer,
		 struct cmp_call *call, struct cm_buf *out);
/* Reloads the configuration; keeps the old one on failure. */
int cmd_reload(struct cmd_state *st, char **errmsg);
/* Records a finished request in the statistics. */
void cmd_stats_latency(struct cmd_stats *s, uint64_t us);
uint64_t cmd_now_ms(void);
uint64_t cmd_now_us(void);

/* The event loop; returns 0 after SIGTERM/SIGINT. */
int cmd_loop_run(struct cmd_state *st);
/* Called by the loop when a worker has finished a job for conn. */
void cmd_conn_job_done(struct cmd_state *st, struct cmd_job *job);

/* systemd shim (sd_shim.c): activated sockets and readiness. */
int cmd_listen_fds(void);
void cmd_notify(const char *state);

#endif

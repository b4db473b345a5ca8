/*
 * Who may connect, and what the log says about those who may not.
 *
 * A peer is allowed when its uid is in service.allowed_uids, or its
 * primary gid or one of its supplementary groups is in
 * service.allowed_gids. The groups are the peer's own credentials as the
 * kernel recorded them at connect() (SO_PEERGROUPS), as for a file's group
 * permission: after `usermod -aG certmapc www-data` the web server's
 * processes qualify once they start with that group, and a process that
 * dropped the group does not. No NSS lookup happens on the accept path.
 *
 * Any local user can connect, so refusals are logged at most
 * REFUSAL_BURST times per uid per REFUSAL_WINDOW_MS; the rest are counted
 * and reported in one "suppressed" line when the window is over.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon.h"

/* Enough for nearly everyone without a second call. */
#define GROUPS_ON_STACK 64
/* The kernel's NGROUPS_MAX: the most a peer can have. */
#define GROUPS_MAX 65536

#define REFUSAL_WINDOW_MS 60000u
#define REFUSAL_BURST 5u
/* Distinct uids tracked; the rest share one slot, so memory stays bounded
 * even when a user namespace connects with thousands of uids. */
#define REFUSAL_SLOTS 64

static bool gid_listed(const struct cm_service_conf *sc, gid_t gid)
{
	for (size_t i = 0; i < sc->n_allowed_gids; i++) {
		if (sc->allowed_gids[i] == gid) {
			return true;
		}
	}
	return false;
}

/* Any of the peer's supplementary groups in allowed_gids; false when they
 * cannot be read (fail closed). */
static bool groups_listed(const struct cm_service_conf *sc, int fd)
{
	gid_t stack[GROUPS_ON_STACK];
	gid_t *g = stack;
	socklen_t len = sizeof(stack);
	bool found = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) != 0) {
		if (errno != ERANGE || len == 0 || len > GROUPS_MAX * sizeof(gid_t) ||
		    (g = malloc(len)) == NULL ||
		    getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) != 0) {
			cmd_log(LOG_WARNING, "cannot read the groups of a connecting peer: %m");
			goto out;
		}
	}
	for (size_t i = 0; i < len / sizeof(gid_t) && !found; i++) {
		found = gid_listed(sc, g[i]);
	}
out:
	if (g != stack) {
		free(g);
	}
	return found;
}

bool cmd_peer_allowed(const struct cm_service_conf *sc, const struct cmd_peer *p, int fd)
{
	for (size_t i = 0; i < sc->n_allowed_uids; i++) {
		if (sc->allowed_uids[i] == p->uid) {
			return true;
		}
	}
	if (sc->n_allowed_gids == 0) {
		return false;
	}
	return gid_listed(sc, p->gid) || groups_listed(sc, fd);
}

bool cmd_peer_allowed_groups(const struct cm_service_conf *sc, const struct cmd_peer *p,
			     const gid_t *groups, size_t n)
{
	for (size_t i = 0; i < sc->n_allowed_uids; i++) {
		if (sc->allowed_uids[i] == p->uid) {
			return true;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (gid_listed(sc, groups[i])) {
			return true;
		}
	}
	return gid_listed(sc, p->gid);
}

/* ---------------------------------------------------------------- refusal log */

struct refusal_slot {
	bool used;
	bool other; /* counts every uid that found no slot */
	uid_t uid;
	uint64_t window_start;
	unsigned int logged;
	uint64_t suppressed;
};

static pthread_mutex_t refusal_lock = PTHREAD_MUTEX_INITIALIZER;
static struct refusal_slot slots[REFUSAL_SLOTS + 1]; /* the last is "other" */
/* The earliest end of a window with suppressed lines, so that connections
 * check it without the lock; UINT64_MAX when none is pending. */
static _Atomic uint64_t next_summary_ms = UINT64_MAX;

/* One summary line per slot, written after the lock is released. */
struct summary {
	bool other;
	uid_t uid;
	uint64_t n;
	uint64_t secs;
};

static void summary_log(const struct summary *s)
{
	if (s->other) {
		cmd_log(LOG_WARNING,
			"suppressed %llu more refused connections from other uids "
			"in the last %llu seconds",
			(unsigned long long)s->n, (unsigned long long)s->secs);
	} else {
		cmd_log(LOG_WARNING,
			"suppressed %llu more refused connections from uid %u "
			"in the last %llu seconds",
			(unsigned long long)s->n, (unsigned)s->uid, (unsigned long long)s->secs);
	}
}

/* With the lock held: ends slot's window if it is over (or force), taking
 * its summary into *s. Returns true when there is one to log. */
static bool slot_close(struct refusal_slot *sl, uint64_t now, bool force, struct summary *s)
{
	bool have = false;

	if (!sl->used || (!force && now - sl->window_start < REFUSAL_WINDOW_MS)) {
		return false;
	}
	if (sl->suppressed > 0) {
		*s = (struct summary){sl->other, sl->uid, sl->suppressed,
				      (now - sl->window_start + 999) / 1000};
		have = true;
	}
	sl->used = false;
	sl->logged = 0;
	sl->suppressed = 0;
	return have;
}

/* With the lock held: when the next pending summary is due. */
static void summary_rearm(void)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i <= REFUSAL_SLOTS; i++) {
		if (slots[i].used && slots[i].suppressed > 0 &&
		    slots[i].window_start + REFUSAL_WINDOW_MS < next) {
			next = slots[i].window_start + REFUSAL_WINDOW_MS;
		}
	}
	atomic_store(&next_summary_ms, next);
}

void cmd_peer_log_summaries(bool force)
{
	struct summary sums[REFUSAL_SLOTS + 1];
	size_t n = 0;
	uint64_t now = cmd_now_ms();

	if (!force && now < atomic_load(&next_summary_ms)) {
		return;
	}
	pthread_mutex_lock(&refusal_lock);
	for (size_t i = 0; i <= REFUSAL_SLOTS; i++) {
		if (slot_close(&slots[i], now, force, &sums[n])) {
			n++;
		}
	}
	summary_rearm();
	pthread_mutex_unlock(&refusal_lock);
	for (size_t i = 0; i < n; i++) {
		summary_log(&sums[i]);
	}
}

/* With the lock held: uid's slot, a free one, or the shared one. */
static struct refusal_slot *slot_for(uid_t uid)
{
	struct refusal_slot *free_slot = NULL;

	for (size_t i = 0; i < REFUSAL_SLOTS; i++) {
		if (slots[i].used && slots[i].uid == uid) {
			return &slots[i];
		}
		if (!slots[i].used && free_slot == NULL) {
			free_slot = &slots[i];
		}
	}
	if (free_slot != NULL) {
		free_slot->uid = uid;
		return free_slot;
	}
	slots[REFUSAL_SLOTS].other = true;
	return &slots[REFUSAL_SLOTS];
}

bool cmd_peer_refusal_logged(uid_t uid)
{
	struct refusal_slot *sl;
	struct summary sum;
	bool closed, log = false;
	uint64_t now = cmd_now_ms();

	pthread_mutex_lock(&refusal_lock);
	sl = slot_for(uid);
	closed = slot_close(sl, now, false, &sum);
	if (!sl->used) {
		sl->used = true;
		sl->window_start = now;
	}
	if (sl->logged < REFUSAL_BURST) {
		sl->logged++;
		log = true;
	} else {
		sl->suppressed++;
	}
	summary_rearm();
	pthread_mutex_unlock(&refusal_lock);
	if (closed) {
		summary_log(&sum);
	}
	/* Others' windows may be over too. */
	cmd_peer_log_summaries(false);
	return log;
}

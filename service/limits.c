/*
 * Connection limits: service.max_connections for the whole service and
 * service.max_connections_per_uid per peer uid. Every event loop accepts,
 * so the counts are global and kept under one lock; it is taken once per
 * connection opened or closed, never per request.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include "daemon.h"

/* There are few distinct peers, so a list will do. */
struct uid_count {
	uid_t uid;
	unsigned int n;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct uid_count *uid_counts;
static size_t n_uid_counts;
static unsigned int n_conns;

/* With the lock held. */
static struct uid_count *uid_slot(uid_t uid, bool create)
{
	struct uid_count *u;

	for (size_t i = 0; i < n_uid_counts; i++) {
		if (uid_counts[i].uid == uid) {
			return &uid_counts[i];
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
	return &uid_counts[n_uid_counts++];
}

/* Counts the connection and returns true if both limits allow it. */
bool cmd_limits_admit(uid_t uid, unsigned int max, unsigned int max_per_uid)
{
	struct uid_count *u;
	bool ok = false;

	pthread_mutex_lock(&lock);
	u = uid_slot(uid, true);
	if (u != NULL && n_conns < max && u->n < max_per_uid) {
		u->n++;
		n_conns++;
		ok = true;
	}
	pthread_mutex_unlock(&lock);
	/* Refusal summaries that are due go out with the next connection. */
	cmd_peer_log_summaries(false);
	return ok;
}

void cmd_limits_release(uid_t uid)
{
	struct uid_count *u;

	pthread_mutex_lock(&lock);
	u = uid_slot(uid, false);
	if (u != NULL && u->n > 0) {
		u->n--;
	}
	if (n_conns > 0) {
		n_conns--;
	}
	pthread_mutex_unlock(&lock);
}

unsigned int cmd_limits_count(void)
{
	unsigned int n;

	pthread_mutex_lock(&lock);
	n = n_conns;
	pthread_mutex_unlock(&lock);
	return n;
}

void cmd_limits_free(void)
{
	pthread_mutex_lock(&lock);
	free(uid_counts);
	uid_counts = NULL;
	n_uid_counts = 0;
	n_conns = 0;
	pthread_mutex_unlock(&lock);
}

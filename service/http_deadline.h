/*
 * A deadline for each HTTP request (http.c): libmicrohttpd's timeout only
 * counts idle time, so a client that trickles its headers a byte at a
 * time would hold its connection for ever. Every connection must deliver
 * each request (headers, and a body if any) within service.timeout
 * seconds of its opening or of the previous answer; a thread looks once a
 * second and shuts down the sockets that are late, which libmicrohttpd
 * then closes.
 */
#ifndef CERTMAP_SERVICE_HTTP_DEADLINE_H
#define CERTMAP_SERVICE_HTTP_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>

struct cmd_hdl;

/* One connection; owned by the caller, listed while it is open. */
struct cmd_hdl_entry {
	struct cmd_hdl_entry *prev, *next;
	int sock;
	uint64_t deadline_ms; /* 0: not reading a request */
	bool listed;
};

/* NULL when out of memory or no thread can be started. */
struct cmd_hdl *cmd_hdl_start(void);
/* Stops the thread; every entry must be removed first or be no longer used. */
void cmd_hdl_stop(struct cmd_hdl *h);
/* A new connection, reading its first request from now on. */
void cmd_hdl_add(struct cmd_hdl *h, struct cmd_hdl_entry *e, int sock, unsigned int timeout_s);
/* The request is in (timeout_s 0), or the answer went out and the next
 * request is due within timeout_s. */
void cmd_hdl_set(struct cmd_hdl *h, struct cmd_hdl_entry *e, unsigned int timeout_s);
/* The connection is closing: never touched again. */
void cmd_hdl_remove(struct cmd_hdl *h, struct cmd_hdl_entry *e);

#endif

/*
 * certmapd's HTTP answers, apart from libmicrohttpd: a request (method,
 * path, headers through a lookup function) goes in, an answer (status,
 * headers, body) or a Map frame for the dispatcher comes out, and the
 * dispatcher's reply frame becomes an answer. http.c feeds it
 * libmicrohttpd's connections and sends what it answers;
 * tests/fuzz/fuzz_http_request.c feeds it bytes. No socket, no daemon
 * state: everything it needs is in its arguments.
 */
#ifndef CERTMAP_SERVICE_HTTP_ANSWER_H
#define CERTMAP_SERVICE_HTTP_ANSWER_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "util.h"

/* One request. */
struct cmd_hrq {
	const char *method;
	const char *url; /* the path, without the query */
	bool body;	 /* a request body was sent */
	/* How many request headers (arg false, name case-insensitive) or
	 * query arguments (arg true) are called name; *v and *len hold the
	 * first one's value (NULL, 0 when there is none). */
	unsigned int (*lookup)(void *ctx, bool arg, const char *name, const char **v,
			       size_t *len);
	void *ctx;
};

/* The listener the request came in on. */
struct cmd_hsite {
	const struct cm_http_conf *hc;
	bool peer_refused; /* the Unix peer failed the credential check */
	const char *token; /* the bearer token each request must carry, or NULL */
	size_t token_len;
};

#define CMD_HANS_HEADERS 12

/* One answer. Header values are malloc'd copies. */
struct cmd_hans {
	unsigned int code;
	const char *type; /* Content-Type */
	struct cm_buf body;
	size_t n;
	const char *name[CMD_HANS_HEADERS];
	char *value[CMD_HANS_HEADERS];
	/* Why the certificate header did not decode (a static sentence), for
	 * the log; NULL otherwise. */
	const char *bad_header;
	/* Something could not be said: a bodiless 500 without headers. */
	bool failed;
};

enum cmd_hstep {
	CMD_HS_ANSWER,	/* the answer is complete */
	CMD_HS_MAP,	/* dispatch *frame; cmd_http_map_answer() turns the reply into the answer */
	CMD_HS_METRICS, /* GET /metrics: the caller writes it (daemon state) */
};

void cmd_hans_init(struct cmd_hans *a);
void cmd_hans_free(struct cmd_hans *a);
/* Adds a header. A value HTTP cannot carry as it is (a byte outside
 * printable ASCII) turns the whole answer into a bodiless 500: never a
 * partial one. */
void cmd_hans_header(struct cmd_hans *a, const char *name, const char *value);
/* A complete plain-text answer. */
void cmd_hans_text(struct cmd_hans *a, unsigned int code, const char *text);

/* Decides what the request gets. On CMD_HS_MAP, *frame is a malloc'd Map
 * frame (no NUL terminator counted) and a is untouched. */
enum cmd_hstep cmd_http_route(const struct cmd_hsite *s, const struct cmd_hrq *rq,
			      struct cmd_hans *a, char **frame);
/* The answer to a Map from its reply frame (NUL-terminated in out). */
void cmd_http_map_answer(const struct cmd_hsite *s, const struct cmd_hrq *rq,
			 const struct cm_buf *out, struct cmd_hans *a);
/* A refusal: code, X-Certmap-Reason, and the denial page as the body. */
void cmd_http_refusal(const struct cmd_hsite *s, const struct cmd_hrq *rq, unsigned int code,
		      const char *reason, struct cmd_hans *a);

/* The pages (http_pages.c). The denial page for a reason code, appended
 * to b; returns its language tag (for Content-Language). */
const char *cmd_http_denial_body(const struct cm_http_conf *hc, const struct cmd_hrq *rq,
				 const char *reason, struct cm_buf *b);
/* GET /denied: the page a person sees, in words, with the contact URL. */
void cmd_http_denied(const struct cm_http_conf *hc, const struct cmd_hrq *rq,
		     struct cmd_hans *a);

#endif

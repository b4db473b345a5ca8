/* Inside certmapd's HTTP face: the pages of http_pages.c, for http.c. */
#ifndef CERTMAP_SERVICE_HTTP_INT_H
#define CERTMAP_SERVICE_HTTP_INT_H

#include <microhttpd.h>

#include "daemon.h"

/* GET /metrics: the counters of every loop and listener, Prometheus text. */
enum MHD_Result cmd_http_metrics(struct cmd_state *st, struct cmd_gen *gen,
				 struct MHD_Connection *mc);
/* GET /denied: the page a person sees, in words, with the contact URL. */
enum MHD_Result cmd_http_denied(const struct cm_http_conf *hc, struct MHD_Connection *mc);
/* The same page for a reason code, appended to b (returns its language
 * tag, for Content-Language): the body of a refused
 * /auth, which proxies like Caddy's forward_auth show as it is. */
const char *cmd_http_denial_body(const struct cm_http_conf *hc, struct MHD_Connection *mc,
				 const char *reason, struct cm_buf *b);

#endif

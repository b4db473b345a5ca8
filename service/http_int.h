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

#endif

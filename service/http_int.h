/* Inside certmapd's HTTP face: /metrics (http_metrics.c), for http.c. */
#ifndef CERTMAP_SERVICE_HTTP_INT_H
#define CERTMAP_SERVICE_HTTP_INT_H

#include "daemon.h"
#include "http_answer.h"

/* GET /metrics: the counters of every loop and listener, Prometheus text. */
void cmd_http_metrics(struct cmd_state *st, struct cmd_gen *gen, struct cmd_hans *a);

#endif
